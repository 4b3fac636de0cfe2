"""Properties over arbitrary shapes (hypothesis): batch search splits and merges exactly, and
every paginator ends, on whatever cursors the server hands out.

Servers here are fake transports answering from pages hypothesis draws, so the real
request, decode and paging code runs. A server refuses to answer past its last page: a
client that does not stop fails the example instead of looping.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import FakeTransport, Sent, reply
from wecom_feishu_async import (
    CorpApp,
    DecodeError,
    FeishuApp,
    FeishuClient,
    Provider,
    RawResponse,
    RetryPolicy,
    SearchQuery,
    WeComClient,
)

CORP = "wwcorp"
APP = "cli_a"
SEARCH = "/cgi-bin/service/contact/search"
BATCH = "/cgi-bin/service/contact/batchsearch"
LIST_ID = "/cgi-bin/user/list_id"
VERSIONS = f"/open-apis/application/v6/applications/{APP}/app_versions"
RANGE = f"/open-apis/application/v6/applications/{APP}/contacts_range_configuration"
TOKENS: dict[str, dict[str, object]] = {
    "/cgi-bin/gettoken": {"errcode": 0, "access_token": "AT-1", "expires_in": 7200},
    "/cgi-bin/service/get_provider_token": {"provider_access_token": "PT-1", "expires_in": 7200},
    "/open-apis/auth/v3/tenant_access_token/internal": {
        "code": 0, "tenant_access_token": "TT-1", "expire": 7200},
}
NO_RETRY = RetryPolicy(max_retries=0)

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def wecom(handler: Callable[[Sent], RawResponse]) -> WeComClient:
    def answer(sent: Sent) -> RawResponse:
        return reply(TOKENS[sent.path]) if sent.path in TOKENS else handler(sent)

    return WeComClient(provider=Provider("wwprovider", "p-secret"),
                       corp_app=CorpApp(CORP, "c-secret"), transport=FakeTransport(answer),
                       retry=NO_RETRY, quotas=())


def feishu(handler: Callable[[Sent], RawResponse]) -> FeishuClient:
    def answer(sent: Sent) -> RawResponse:
        return reply(TOKENS[sent.path]) if sent.path in TOKENS else handler(sent)

    # No client-side quota: pacing has nothing to do with paging and would only take time.
    return FeishuClient(FeishuApp(APP, "f-secret"), transport=FakeTransport(answer),
                        retry=NO_RETRY, quotas=())


def sent_to(client: WeComClient | FeishuClient, path: str) -> int:
    transport = client._transport
    assert isinstance(transport, FakeTransport)
    return transport.requests[path]


# Batch search: split into requests of at most 50, merged back per query -------------------

ids = st.lists(st.text("abcdefgh", min_size=1, max_size=3), max_size=4)


@st.composite
def search_pages(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One query's pages (empty ones too, while more follow), each with a fresh cursor."""
    count = draw(st.integers(1, 4))
    cursors = draw(st.lists(st.text("xyz0123456789", min_size=1, max_size=6),
                            min_size=count - 1, max_size=count - 1, unique=True))
    pages = []
    for k in range(count):
        users = draw(ids)
        pages.append({
            "query_result": {
                "user": {"userid": users, "open_userid": [f"o{u}" for u in users]},
                "party": {"department_id": draw(st.lists(st.integers(1, 99), max_size=3))},
                "dismiss_user": {"userid": draw(ids)},
            },
            "is_last": k == count - 1,
            "next_cursor": cursors[k] if k < count - 1 else "",
        })
    return pages


@dataclass
class BatchServer:
    """Serves each word's pages; the cursor a request carries says which page it wants."""

    pages: dict[str, list[dict[str, Any]]]

    def __call__(self, sent: Sent) -> RawResponse:
        assert sent.path == BATCH
        items = sent.body["query_request_list"]
        assert 1 <= len(items) <= 50, len(items)
        answers = []
        for item in items:
            pages = self.pages[item["query_word"]]
            cursor = item.get("cursor", "")
            index = 0 if not cursor else 1 + [p["next_cursor"] for p in pages].index(cursor)
            answers.append({"query_request": {"query_word": item["query_word"]},
                            **pages[index]})
        return reply({"errcode": 0, "errmsg": "ok", "query_result_list": answers})


@SETTINGS
@given(count=st.integers(0, 130), concurrency=st.integers(1, 4), data=st.data())
async def test_batch_search_merges_every_page_per_query_in_input_order(
    count: int, concurrency: int, data: st.DataObject
) -> None:
    # Any number of queries (repeats included), so that requests split at 50 and rounds of
    # continued queries shrink.
    word = st.integers(0, 139).map(lambda i: f"w{i}")
    words = data.draw(st.lists(word, min_size=count, max_size=count), label="words")
    # A word always gets the same pages, as a server would answer the same query.
    shapes = {w: data.draw(search_pages(), label=w) for w in dict.fromkeys(words)}
    server = BatchServer(shapes)
    async with wecom(server) as client:
        results = await client.contact.batch_search(CORP, words, concurrency=concurrency)
        requests = sent_to(client, BATCH)
    assert len(results) == len(words)
    for word, got in zip(words, results, strict=True):
        pages = [p["query_result"] for p in shapes[word]]
        assert got.user.userid == [u for p in pages for u in p["user"]["userid"]]
        assert got.user.open_userid == [u for p in pages for u in p["user"]["open_userid"]]
        assert got.party.department_id == [d for p in pages for d in p["party"]["department_id"]]
        assert got.dismiss_user.userid == [u for p in pages for u in p["dismiss_user"]["userid"]]
    # Each round sends the queries not yet done, 50 to a request: never more requests than
    # that, never fewer than 50 queries per request or one page per request allow.
    counts = [len(shapes[w]) for w in words]
    rounds = max(counts, default=0)
    per_round = sum(math.ceil(sum(c > r for c in counts) / 50) for r in range(rounds))
    lower = max(math.ceil(sum(counts) / 50), rounds)
    assert lower <= requests <= per_round


# Every paginator ends ----------------------------------------------------------------------

NEXT, LAST, MISSING, REPEAT = "next", "last", "missing", "repeat"


@st.composite
def walks(draw: st.DrawFn) -> list[tuple[str, int]]:
    """Pages as (how the page continues, items on it): fresh cursors, then one ending."""
    fresh = draw(st.lists(st.tuples(st.just(NEXT), st.integers(0, 3)), max_size=6))
    end = draw(st.sampled_from([LAST, MISSING, REPEAT]))
    return [*fresh, (end, draw(st.integers(0, 3)))]


@dataclass
class Pager:
    """A server of one paged listing: page k continues as ``steps[k]`` says."""

    steps: list[tuple[str, int]]
    cursor_of: Callable[[Sent], str]
    render: Callable[[list[str], bool, str], dict[str, Any]]
    pick: int = 0  # which earlier cursor a repeated one repeats (hypothesis draws it)

    def __post_init__(self) -> None:
        self.issued = [""]  # the first request has no cursor
        self.served = 0

    def __call__(self, sent: Sent) -> RawResponse:
        k = self.served
        assert k < len(self.steps), "the client asked past the last page"
        assert self.cursor_of(sent) == self.issued[-1 if k else 0]
        self.served += 1
        kind, count = self.steps[k]
        items = [f"p{k}i{i}" for i in range(count)]
        if kind == NEXT:
            self.issued.append(f"c{k}")
            return reply(self.render(items, True, f"c{k}"))
        if kind == REPEAT:
            return reply(self.render(items, True, self.issued[self.pick % len(self.issued)]))
        return reply(self.render(items, kind != LAST, ""))

    def items_until(self, k: int) -> list[str]:
        return [f"p{j}i{i}" for j in range(k + 1) for i in range(self.steps[j][1])]


def search_page(items: list[str], more: bool, cursor: str) -> dict[str, Any]:
    return {"errcode": 0, "query_result": {"user": {"userid": items}}, "is_last": not more,
            "next_cursor": cursor}


def list_id_page(items: list[str], more: bool, cursor: str) -> dict[str, Any]:
    # user/list_id has no is_last: an empty next_cursor is its documented end.
    return {"errcode": 0, "next_cursor": cursor if more else "",
            "dept_user": [{"userid": u, "department": 1} for u in items]}


def versions_page(items: list[str], more: bool, cursor: str) -> dict[str, Any]:
    return {"code": 0, "data": {"items": [{"version_id": v} for v in items],
                                "has_more": more, "page_token": cursor}}


def range_page(items: list[str], more: bool, cursor: str) -> dict[str, Any]:
    return {"code": 0, "data": {"contacts_range": {"visible_list": {"open_ids": items}},
                                "has_more": more, "page_token": cursor}}


async def search_items(client: Any) -> list[str]:
    pages = client.contact.search_pages(CORP, SearchQuery("li"))
    return [u async for page in pages for u in page.query_result.user.userid]


async def batch_items(client: Any) -> list[str]:
    (merged,) = await client.contact.batch_search(CORP, ["li"])
    return list(merged.user.userid)


async def list_id_items(client: Any) -> list[str]:
    return [row.userid async for row in client.directory.iter_member_ids()]


async def versions_items(client: Any) -> list[str]:
    return [v.version_id async for v in client.application.app_versions(APP, lang="en_us")]


def batch_cursor(sent: Sent) -> str:
    (item,) = sent.body["query_request_list"]
    return str(item.get("cursor", ""))


def body_cursor(sent: Sent) -> str:
    return str((sent.body or {}).get("cursor", ""))


def token_param(sent: Sent) -> str:
    return sent.params.get("page_token", "")


def batch_page(items: list[str], more: bool, cursor: str) -> dict[str, Any]:
    page = search_page(items, more, cursor)
    del page["errcode"]
    return {"errcode": 0, "query_result_list": [{"query_request": {"query_word": "li"}, **page}]}


@dataclass(frozen=True)
class Listing:
    """One paged listing of the library and how its server speaks."""

    path: str
    client: Callable[[Callable[[Sent], RawResponse]], Any]
    render: Callable[[list[str], bool, str], dict[str, Any]]
    cursor_of: Callable[[Sent], str]
    items: Callable[[Any], Any]
    strict: bool  # a missing or repeated cursor raises DecodeError instead of stopping


LISTINGS = {
    "wecom search": Listing(SEARCH, wecom, search_page, body_cursor, search_items, False),
    "wecom batchsearch": Listing(BATCH, wecom, batch_page, batch_cursor, batch_items, False),
    "wecom user/list_id": Listing(LIST_ID, wecom, list_id_page, body_cursor, list_id_items,
                                  False),
    "feishu app_versions": Listing(VERSIONS, feishu, versions_page, token_param,
                                   versions_items, True),
}


@pytest.mark.parametrize("name", sorted(LISTINGS))
@SETTINGS
@given(steps=walks(), pick=st.integers(0, 10))
async def test_every_paginator_ends_as_documented(
    name: str, steps: list[tuple[str, int]], pick: int
) -> None:
    listing = LISTINGS[name]
    server = Pager(steps, listing.cursor_of, listing.render, pick)
    # The listing ends at the first page that does not hand out a fresh cursor.
    end = next(k for k, (kind, _) in enumerate(steps) if kind != NEXT)
    kind = steps[end][0]
    odd = kind == REPEAT or (kind == MISSING and listing.path != LIST_ID)
    async with listing.client(server) as client:
        if odd and listing.strict:
            with pytest.raises(DecodeError) as info:
                await listing.items(client)
            assert info.value.endpoint == listing.path
        else:
            assert await listing.items(client) == server.items_until(end)
        assert sent_to(client, listing.path) == end + 1


@SETTINGS
@given(steps=walks(), pick=st.integers(0, 10))
async def test_merged_feishu_range_pages_end_or_raise(
    steps: list[tuple[str, int]], pick: int
) -> None:
    server = Pager(steps, token_param, range_page, pick)
    end = next(k for k, (kind, _) in enumerate(steps) if kind != NEXT)
    async with feishu(server) as client:
        if steps[end][0] == LAST:
            merged = await client.application.contacts_range_configuration(APP)
            assert merged.visible_list.open_ids == server.items_until(end)
        else:
            # Merging pages of a listing cut short would pass a partial range off as whole.
            with pytest.raises(DecodeError) as info:
                await client.application.contacts_range_configuration(APP)
            assert info.value.endpoint == RANGE
        assert sent_to(client, RANGE) == end + 1

