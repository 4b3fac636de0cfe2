"""Seed 001's example payloads: our requests match them, their replies decode fully."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from tests.fakes import FakeTransport, Sent, reply
from wecom_feishu_async import Provider, SearchQuery, WeComClient
from wecom_feishu_async.wecom import BatchSearchReply, SearchPage

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> dict[str, object]:
    data = json.loads((PAYLOADS / name).read_text())
    assert isinstance(data, dict)
    return data


def echo(name: str):  # type: ignore[no-untyped-def]
    def handler(sent: Sent):  # type: ignore[no-untyped-def]
        if sent.path.endswith("get_provider_token"):
            return reply({"provider_access_token": "PT", "expires_in": 7200})
        return reply(load(name))

    return handler


def test_search_reply_decodes_every_field() -> None:
    page = msgspec.json.decode((PAYLOADS / "contact_search_response.json").read_bytes(),
                               type=SearchPage)
    result = page.query_result
    assert (page.errcode, page.errmsg, page.is_last, page.next_cursor) == (
        0, "ok", False, "NEXT_CURSOR")
    assert result.user.userid == ["zhangshan", "lisi"]
    assert result.user.open_userid == ["wwxxxx", "wwxxxa"]
    assert result.party.department_id == [1, 2, 3]
    assert result.dismiss_user.userid == ["zhangshan", "lisi"]
    assert result.dismiss_user.open_userid == ["wwxxxx", "wwxxxa"]


def test_batch_search_reply_decodes_every_field() -> None:
    reply_ = msgspec.json.decode(
        (PAYLOADS / "contact_batchsearch_response.json").read_bytes(), type=BatchSearchReply)
    [item] = reply_.query_result_list
    echo_ = item.query_request
    assert (echo_.query_word, echo_.query_type, echo_.limit, echo_.cursor) == (
        "zhangsan", 1, 50, "CURSOR")
    assert item.query_result.party.department_id == [1, 2, 3]
    assert item.query_result.dismiss_user.open_userid == ["wwxxxx", "wwxxxa"]
    assert (item.is_last, item.next_cursor) == (False, "NEXT_CURSOR")


async def test_search_sends_the_seed_request_body() -> None:
    fake = FakeTransport(echo("contact_search_response.json"))
    async with WeComClient(provider=Provider("wwprov", "secret"), transport=fake) as client:
        page = await client.contact.search(
            "wwxxxxxx", "zhangsan", query_type=1, query_range=1, agentid=1000046, limit=50,
            full_match_field=1, cursor="CURSOR")
    assert page.next_cursor == "NEXT_CURSOR"
    sent = fake.sent[-1]
    assert sent.path == "/cgi-bin/service/contact/search"
    assert sent.body == load("contact_search_request.json")
    assert sent.params == {"provider_access_token": "PT"}  # the token travels in the URL


async def test_batch_search_sends_the_seed_request_body() -> None:
    last_page = load("contact_batchsearch_response.json")
    [item] = last_page["query_result_list"]  # type: ignore[misc]
    item.update(is_last=True, next_cursor="")

    def handler(sent: Sent):  # type: ignore[no-untyped-def]
        if sent.path.endswith("get_provider_token"):
            return reply({"provider_access_token": "PT", "expires_in": 7200})
        return reply(last_page)

    fake = FakeTransport(handler)
    query = SearchQuery("zhangsan", query_type=1, query_range=1, limit=50, full_match_field=1,
                        cursor="CURSOR")
    async with WeComClient(provider=Provider("wwprov", "secret"), transport=fake) as client:
        [result] = await client.contact.batch_search("wwxxxxxx", [query], agentid=1000046)
    assert result.user.userid == ["zhangshan", "lisi"]
    assert fake.sent[-1].body == load("contact_batchsearch_request.json")
