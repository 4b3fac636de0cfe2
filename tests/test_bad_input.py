"""A catalogue of bad input across every public call, and of malformed server replies.

Each row: a call, the error class it must raise, and the name the error must carry (the
``InputError.field``, the ``DecodeError.endpoint``, or a word of a ``ConfigurationError``).
Rows without a reply are detectable before sending: the transport must count no request.
Rows with a reply get that body from the server for that path: a ``DecodeError`` naming
the endpoint, never an untyped error.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.fakes import FakeTransport, Sent, reply
from wecom_feishu_async import (
    AuthorizedCorp,
    ConfigurationError,
    CorpApp,
    DecodeError,
    FeishuApp,
    FeishuClient,
    FeishuStoreApp,
    InputError,
    MiniProgramLink,
    PickerContextRequiresMultiMode,
    PickerError,
    PickerOptions,
    Provider,
    Quota,
    RawResponse,
    RetryPolicy,
    SearchQuery,
    SuiteApp,
    TemplateMessage,
    WeComClient,
    decode_picker_result,
)

CORP = "wwcorp"
APP = "cli_a"
FAST = RetryPolicy(max_retries=1, base_delay=0.0, max_delay=0.0, rate_limit_delay=0.0)

SEARCH = "/cgi-bin/service/contact/search"
BATCH = "/cgi-bin/service/contact/batchsearch"
GETTOKEN = "/cgi-bin/gettoken"
PROVIDER_TOKEN = "/cgi-bin/service/get_provider_token"
SUITE_TOKEN = "/cgi-bin/service/get_suite_token"
CORP_TOKEN = "/cgi-bin/service/get_corp_token"
FEISHU_TOKEN = "/open-apis/auth/v3/tenant_access_token/internal"
PICKER = "wx.qy.selectPrivilegedContact"
VERSIONS = f"/open-apis/application/v6/applications/{APP}/app_versions"

TOKENS: dict[str, dict[str, object]] = {
    GETTOKEN: {"errcode": 0, "errmsg": "ok", "access_token": "AT-1", "expires_in": 7200},
    PROVIDER_TOKEN: {"provider_access_token": "PT-1", "expires_in": 7200},
    SUITE_TOKEN: {"suite_access_token": "ST-1", "expires_in": 7200},
    CORP_TOKEN: {"access_token": "CT-1", "expires_in": 7200},
    FEISHU_TOKEN: {"code": 0, "msg": "ok", "tenant_access_token": "TT-1", "expire": 7200},
}


@dataclass
class Clients:
    """Clients of every kind over one fake transport that counts what is sent."""

    bad: dict[str, bytes] = field(default_factory=dict)
    made: list[WeComClient | FeishuClient] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.fake = FakeTransport(self.answer)
        self.wecom = self.keep(WeComClient(provider=Provider("wwprovider", "p-secret"),
                                           corp_app=CorpApp(CORP, "c-secret"),
                                           transport=self.fake, retry=FAST))
        self.suite = self.suite_client("suite-ticket")
        self.feishu = self.keep(FeishuClient(FeishuApp(APP, "f-secret"), transport=self.fake,
                                             retry=FAST))

    def keep(self, client: Any) -> Any:
        self.made.append(client)
        return client

    def suite_client(self, ticket: Any) -> WeComClient:
        return self.keep(WeComClient(suite=SuiteApp("wwsuite", "s-secret", suite_ticket=ticket),
                                     authorized_corp=AuthorizedCorp(CORP, "permanent"),
                                     transport=self.fake, retry=FAST))

    def answer(self, sent: Sent) -> RawResponse:
        if sent.path in self.bad:
            return RawResponse(200, {}, self.bad[sent.path])
        if sent.path in TOKENS:
            return reply(TOKENS[sent.path])
        return reply({"errcode": 0, "errmsg": "ok", "code": 0, "msg": "ok", "data": {}})


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    made = Clients()
    yield made
    for client in made.made:
        await client.close()


async def invoke(result: object) -> object:
    """Run what a call returned: await it, or take the first item of an async iterator."""
    if inspect.isawaitable(result):
        return await result
    if hasattr(result, "__anext__"):
        try:
            return await result.__anext__()  # type: ignore[attr-defined]
        finally:
            if hasattr(result, "aclose"):
                await result.aclose()
    return result


Call = Callable[[Clients], object]


def row(ident: str, call: Call, error: type[Exception], name: str,
        bad_reply: tuple[str, object] | None = None) -> Any:
    """One catalogue entry; ``bad_reply``: (path, JSON value or raw bytes) the server sends."""
    return pytest.param(call, error, name, bad_reply, id=ident)


def message(**kwargs: Any) -> TemplateMessage:
    args: dict[str, Any] = {"agentid": 1000002, "template_id": "tpl", "content": {"k": "v"},
                            "url": "https://example.com", "touser": ["zhangsan"], **kwargs}
    return TemplateMessage(**args)


def options(**kwargs: Any) -> PickerOptions:
    return PickerOptions(**{"from_department_id": 0, "mode": "multi", **kwargs})


def picked(**result: Any) -> dict[str, Any]:
    return {"err_msg": "selectPrivilegedContact:ok",
            "result": {"selectedTicket": "T", "selectedUserCount": 1, **result}}


def sync_ticket() -> str:
    return "not awaitable"


async def no_ticket() -> str:
    return ""


# Calls and arguments a user gets wrong; nothing may be sent.
BEFORE_SENDING = [
    # contact.search
    row("search word over 64 chars", lambda c: c.wecom.contact.search(CORP, "张" * 65),
        InputError, "query_word"),
    row("search word blank", lambda c: c.wecom.contact.search(CORP, "  "),
        InputError, "query_word"),
    row("search word not a str", lambda c: c.wecom.contact.search(CORP, None),
        InputError, "query_word"),
    row("search limit 0", lambda c: c.wecom.contact.search(CORP, "li", limit=0),
        InputError, "limit"),
    row("search limit 201", lambda c: c.wecom.contact.search(CORP, "li", limit=201),
        InputError, "limit"),
    row("search limit a bool", lambda c: c.wecom.contact.search(CORP, "li", limit=True),
        InputError, "limit"),
    row("search query_type 3", lambda c: c.wecom.contact.search(CORP, "li", query_type=3),
        InputError, "query_type"),
    row("search query_range a str",
        lambda c: c.wecom.contact.search(CORP, "li", query_range="1"),
        InputError, "query_range"),
    row("search full_match_field 3",
        lambda c: c.wecom.contact.search(CORP, "li", full_match_field=3),
        InputError, "full_match_field"),
    row("search cursor an int", lambda c: c.wecom.contact.search(CORP, "li", cursor=7),
        InputError, "cursor"),
    row("search agentid -1", lambda c: c.wecom.contact.search(CORP, "li", agentid=-1),
        InputError, "agentid"),
    row("search agentid over int32",
        lambda c: c.wecom.contact.search(CORP, "li", agentid=2**31), InputError, "agentid"),
    row("search empty corp", lambda c: c.wecom.contact.search("", "li"),
        InputError, "auth_corpid"),
    row("search corp not a str", lambda c: c.wecom.contact.search(None, "li"),
        InputError, "auth_corpid"),
    # search_pages / search_all
    row("search_pages query an int", lambda c: c.wecom.contact.search_pages(CORP, 123),
        InputError, "query"),
    row("search_pages limit 500",
        lambda c: c.wecom.contact.search_pages(CORP, SearchQuery("li", limit=500)),
        InputError, "limit"),
    row("search_all empty word", lambda c: c.wecom.contact.search_all(CORP, SearchQuery("")),
        InputError, "query_word"),
    # batch_search: every query is checked before the first request of 50 goes out
    row("batch queries None", lambda c: c.wecom.contact.batch_search(CORP, None),
        InputError, "queries"),
    row("batch queries one str", lambda c: c.wecom.contact.batch_search(CORP, "zhang"),
        InputError, "queries"),
    row("batch query not a query", lambda c: c.wecom.contact.batch_search(CORP, ["a", 7]),
        InputError, "queries[1]"),
    row("batch query_type 9",
        lambda c: c.wecom.contact.batch_search(CORP, ["a", SearchQuery("b", query_type=9)]),
        InputError, "queries[1].query_type"),
    row("batch bad query in the second request",
        lambda c: c.wecom.contact.batch_search(
            CORP, [f"w{i}" for i in range(75)] + ["x" * 65] + ["y"] * 44),
        InputError, "queries[75].query_word"),
    row("batch generator of ints",
        lambda c: c.wecom.contact.batch_search(CORP, (i for i in range(3))),
        InputError, "queries[0]"),
    row("batch concurrency 0",
        lambda c: c.wecom.contact.batch_search(CORP, ["a"], concurrency=0),
        InputError, "concurrency"),
    # directory
    row("departments id 0", lambda c: c.wecom.directory.list_departments(0),
        InputError, "department_id"),
    row("departments id a str", lambda c: c.wecom.directory.list_departments("1"),
        InputError, "department_id"),
    row("simplelist id over int32", lambda c: c.wecom.directory.list_department_ids(2**31),
        InputError, "department_id"),
    row("department get -3", lambda c: c.wecom.directory.get_department(-3),
        InputError, "department_id"),
    row("user list id a bool", lambda c: c.wecom.directory.list_members(True),
        InputError, "department_id"),
    row("user simplelist id None", lambda c: c.wecom.directory.list_simple_members(None),
        InputError, "department_id"),
    row("user get empty", lambda c: c.wecom.directory.get_member(""), InputError, "userid"),
    row("user get 65 bytes", lambda c: c.wecom.directory.get_member("u" * 65),
        InputError, "userid"),
    row("user get an int", lambda c: c.wecom.directory.get_member(123), InputError, "userid"),
    row("list_id limit 0", lambda c: c.wecom.directory.member_id_page(limit=0),
        InputError, "limit"),
    row("list_id limit 10001", lambda c: c.wecom.directory.member_id_page(limit=10_001),
        InputError, "limit"),
    row("list_id cursor None", lambda c: c.wecom.directory.member_id_page(cursor=None),
        InputError, "cursor"),
    row("list_id iterator limit a str",
        lambda c: c.wecom.directory.iter_member_ids(limit="100"), InputError, "limit"),
    # walks
    row("walk department 0", lambda c: c.wecom.walk_members(0), InputError, "department_id"),
    row("walk concurrency 0", lambda c: c.wecom.walk_members(1, concurrency=0),
        InputError, "concurrency"),
    row("walk on_unreadable unknown", lambda c: c.wecom.walk_members(1, on_unreadable="ignore"),
        InputError, "on_unreadable"),
    row("walk on_progress not callable", lambda c: c.wecom.walk_members(1, on_progress=5),
        InputError, "on_progress"),
    row("walk simple a str", lambda c: c.wecom.walk_members(1, simple="no"),
        InputError, "simple"),
    row("walk_departments simple an int",
        lambda c: c.wecom.walk_departments(1, simple=1), InputError, "simple"),
    # picker options
    row("picker department -2", lambda c: options(from_department_id=-2),
        InputError, "from_department_id"),
    row("picker department over int32", lambda c: options(from_department_id=2**31),
        InputError, "from_department_id"),
    row("picker mode unknown", lambda c: options(mode="both"), InputError, "mode"),
    row("picker context in single mode",
        lambda c: options(mode="single", selected_context_contact=1),
        InputError, "selected_context_contact"),
    row("picker 2001 open ids", lambda c: options(selected_open_user_ids=["u"] * 2001),
        InputError, "selected_open_user_ids"),
    row("picker open ids one str", lambda c: options(selected_open_user_ids="u1"),
        InputError, "selected_open_user_ids"),
    row("picker 11 tickets", lambda c: options(selected_tickets=["t"] * 11),
        InputError, "selected_tickets"),
    row("picker empty ticket", lambda c: options(selected_tickets=["t", ""]),
        InputError, "selected_tickets[1]"),
    row("picker options not a mapping", lambda c: PickerOptions.from_js(["multi"]),
        InputError, "options"),
    # picker results (decoded, never sent)
    row("picker result not json", lambda c: decode_picker_result("{not json"),
        DecodeError, PICKER),
    row("picker result an int", lambda c: decode_picker_result(5), DecodeError, PICKER),
    row("picker result no ticket",
        lambda c: decode_picker_result({"err_msg": "selectPrivilegedContact:ok",
                                        "result": {"selectedUserCount": 1}}),
        DecodeError, PICKER),
    row("picker result count a str",
        lambda c: decode_picker_result(picked(selectedUserCount="3")), DecodeError, PICKER),
    row("picker result huge lifetime",
        lambda c: decode_picker_result(json.dumps(picked(expiresIn=10**400))),
        DecodeError, PICKER),
    row("picker result empty open id",
        lambda c: decode_picker_result(picked(userList=[{"openUserId": ""}])),
        DecodeError, PICKER),
    row("picker result nested too deeply",
        lambda c: decode_picker_result('{"err_msg": ' + "[" * 50_000 + "]" * 50_000 + "}"),
        DecodeError, PICKER),
    row("picker failed",
        lambda c: decode_picker_result(
            {"err_msg": "selectPrivilegedContact:fail_context_require_multi_mode"}),
        PickerContextRequiresMultiMode, "fail_context_require_multi_mode"),
    row("picker cancelled", lambda c: decode_picker_result({"err_msg": "x:cancel"}),
        PickerError, "x:cancel"),
    # mini-program login
    row("login code empty", lambda c: c.suite.miniprogram.code_to_session(""),
        InputError, "js_code"),
    row("login code None", lambda c: c.wecom.miniprogram.code_to_session(None),
        InputError, "js_code"),
    # template messages and ticket users
    row("message agentid 0", lambda c: message(agentid=0), InputError, "agentid"),
    row("message 11 tickets", lambda c: message(selected_tickets=["t"] * 11),
        InputError, "selected_tickets"),
    row("message 1001 users", lambda c: message(touser=["u"] * 1001), InputError, "touser"),
    row("message a user with a pipe", lambda c: message(touser=["a|b"]),
        InputError, "touser[0]"),
    row("message 6 content items", lambda c: message(content={str(i): "v" for i in range(6)}),
        InputError, "content"),
    row("message miniprogram a dict", lambda c: message(url=None, miniprogram={"appid": "x"}),
        InputError, "miniprogram"),
    row("message pagepath an int",
        lambda c: message(url=None, miniprogram=MiniProgramLink("wxapp", 5)),
        InputError, "miniprogram.pagepath"),
    row("message only_unauth a str",
        lambda c: message(selected_tickets=["t"], only_unauth="yes"),
        InputError, "only_unauth"),
    row("message totag in member mode", lambda c: message(totag=["1"], member_auth_mode=True),
        InputError, "totag"),
    row("send a dict", lambda c: c.suite.messages.send_template({"agentid": 1}),
        InputError, "message"),
    row("ticket users empty ticket",
        lambda c: c.suite.messages.list_selected_ticket_user(""), InputError, "selected_ticket"),
    row("ticket users ticket an int",
        lambda c: c.suite.messages.list_selected_ticket_user(5),
        InputError, "selected_ticket"),
    # credentials and clients
    row("suite id empty", lambda c: SuiteApp("", "s", suite_ticket="t"), InputError, "suite_id"),
    row("suite ticket blank", lambda c: SuiteApp("ws", "s", suite_ticket=" "),
        InputError, "suite_ticket"),
    row("suite ticket None", lambda c: SuiteApp("ws", "s", suite_ticket=None),
        InputError, "suite_ticket"),
    row("permanent code empty", lambda c: AuthorizedCorp(CORP, ""),
        InputError, "permanent_code"),
    row("corp id blank", lambda c: CorpApp(" ", "s"), InputError, "corp_id"),
    row("provider secret None", lambda c: Provider("wwp", None),
        InputError, "provider_secret"),
    row("authorized corp without a suite",
        lambda c: WeComClient(authorized_corp=AuthorizedCorp(CORP, "code")),
        ConfigurationError, "authorized_corp"),
    row("corp_app given a Provider", lambda c: WeComClient(corp_app=Provider("p", "s")),
        ConfigurationError, "corp_app"),
    row("corp_app and authorized_corp",
        lambda c: WeComClient(corp_app=CorpApp(CORP, "s"), suite=SuiteApp("s", "x", "t"),
                              authorized_corp=AuthorizedCorp(CORP, "code")),
        ConfigurationError, "corp_app"),
    row("suite ticket callable not async",
        lambda c: c.suite_client(sync_ticket).miniprogram.code_to_session("code"),
        ConfigurationError, "suite_ticket"),
    row("suite ticket callable gives nothing",
        lambda c: c.suite_client(no_ticket).miniprogram.code_to_session("code"),
        ConfigurationError, "suite_ticket"),
    row("search without a provider", lambda c: c.suite.contact.search(CORP, "li"),
        ConfigurationError, "provider"),
    row("directory without a corp token",
        lambda c: c.keep(WeComClient(provider=Provider("p", "s"), transport=c.fake))
        .directory.list_members(1),
        ConfigurationError, "access_token"),
    # Quota and client settings
    row("quota limit 0", lambda c: Quota(0, 60.0), ConfigurationError, "limit"),
    row("quota period 0", lambda c: Quota(10, 0.0), ConfigurationError, "period"),
    row("quota burst over limit", lambda c: Quota(10, 60.0, burst=11),
        ConfigurationError, "burst"),
    row("quota slack negative", lambda c: Quota(10, 60.0, slack=-1.0),
        ConfigurationError, "slack"),
    row("max_in_flight 0",
        lambda c: c.keep(WeComClient(provider=Provider("p", "s"), max_in_flight=0)),
        ConfigurationError, "max_in_flight"),
    # Feishu application API
    row("versions app_id empty", lambda c: c.feishu.application.app_versions("", lang="zh_cn"),
        InputError, "app_id"),
    row("versions lang unknown", lambda c: c.feishu.application.app_versions(APP, lang="fr"),
        InputError, "lang"),
    row("versions page_size 51",
        lambda c: c.feishu.application.app_versions(APP, lang="zh_cn", page_size=51),
        InputError, "page_size"),
    row("versions order 2",
        lambda c: c.feishu.application.app_versions(APP, lang="zh_cn", order=2),
        InputError, "order"),
    row("versions user_id_type unknown",
        lambda c: c.feishu.application.app_versions(APP, lang="zh_cn", user_id_type="email"),
        InputError, "user_id_type"),
    row("version lang None", lambda c: c.feishu.application.app_version(APP, "v", lang=None),
        InputError, "lang"),
    row("suggest version empty",
        lambda c: c.feishu.application.contacts_range_suggest(APP, ""),
        InputError, "version_id"),
    row("suggest department_id_type unknown",
        lambda c: c.feishu.application.contacts_range_suggest(APP, "v", department_id_type="id"),
        InputError, "department_id_type"),
    row("suggest_all ids one str",
        lambda c: c.feishu.application.contacts_range_suggest_all(APP, version_ids="v1"),
        InputError, "version_ids"),
    row("suggest_all ids an int",
        lambda c: c.feishu.application.contacts_range_suggest_all(APP, version_ids=5),
        InputError, "version_ids"),
    row("suggest_all an id None",
        lambda c: c.feishu.application.contacts_range_suggest_all(APP, version_ids=["v", None]),
        InputError, "version_ids[1]"),
    row("suggest_all concurrency 0",
        lambda c: c.feishu.application.contacts_range_suggest_all(
            APP, version_ids=["v"], concurrency=0),
        InputError, "concurrency"),
    row("configuration page_size 101",
        lambda c: c.feishu.application.contacts_range_configuration(APP, page_size=101),
        InputError, "page_size"),
    row("feishu app id empty", lambda c: FeishuApp("", "s"), InputError, "app_id"),
    row("store app tenant empty",
        lambda c: FeishuStoreApp(APP, "s", app_ticket="t", tenant_key=""),
        InputError, "tenant_key"),
    row("store app ticket None",
        lambda c: FeishuStoreApp(APP, "s", app_ticket=None, tenant_key="t"),
        InputError, "app_ticket"),
    row("feishu client given a str", lambda c: FeishuClient(APP), ConfigurationError, "app"),
    row("store app ticket callable not async",
        lambda c: c.keep(FeishuClient(FeishuStoreApp(APP, "s", app_ticket=sync_ticket,
                                                     tenant_key="t"), transport=c.fake))
        .application.contacts_range_suggest(APP, "v"),
        ConfigurationError, "app_ticket"),
]


# Replies a server should never send: each is a DecodeError naming the endpoint.
MALFORMED_REPLIES = [
    row("search reply not json", lambda c: c.wecom.contact.search(CORP, "li"),
        DecodeError, SEARCH, (SEARCH, b"<html>busy</html>")),
    row("search reply result a list", lambda c: c.wecom.contact.search(CORP, "li"),
        DecodeError, SEARCH, (SEARCH, {"errcode": 0, "query_result": []})),
    row("search reply is_last a str", lambda c: c.wecom.contact.search(CORP, "li"),
        DecodeError, SEARCH, (SEARCH, {"errcode": 0, "is_last": "no"})),
    row("search reply errcode a str", lambda c: c.wecom.contact.search(CORP, "li"),
        DecodeError, SEARCH, (SEARCH, {"errcode": "0"})),
    row("search reply wrapped in a list", lambda c: c.wecom.contact.search(CORP, "li"),
        DecodeError, SEARCH, (SEARCH, [{"errcode": 0, "is_last": True}])),
    row("batch reply one result for two queries",
        lambda c: c.wecom.contact.batch_search(CORP, ["a", "b"]),
        DecodeError, BATCH, (BATCH, {"errcode": 0, "query_result_list": [{"is_last": True}]})),
    row("batch reply list a dict", lambda c: c.wecom.contact.batch_search(CORP, ["a"]),
        DecodeError, BATCH, (BATCH, {"errcode": 0, "query_result_list": {"a": 1}})),
    row("gettoken reply without token", lambda c: c.wecom.directory.list_members(1),
        DecodeError, GETTOKEN, (GETTOKEN, {"errcode": 0, "expires_in": 7200})),
    row("gettoken lifetime beyond any float", lambda c: c.wecom.directory.list_members(1),
        DecodeError, GETTOKEN,
        (GETTOKEN, b'{"access_token": "AT", "expires_in": 1' + b"0" * 400 + b"}")),
    row("provider token lifetime a str", lambda c: c.wecom.contact.search(CORP, "li"),
        DecodeError, PROVIDER_TOKEN,
        (PROVIDER_TOKEN, {"provider_access_token": "PT", "expires_in": "7200"})),
    row("suite token lifetime negative", lambda c: c.suite.miniprogram.code_to_session("c"),
        DecodeError, SUITE_TOKEN, (SUITE_TOKEN, {"suite_access_token": "S", "expires_in": -1})),
    row("corp token reply truncated", lambda c: c.suite.messages.list_selected_ticket_user("t"),
        DecodeError, CORP_TOKEN, (CORP_TOKEN, b'{"access_token": "CT", "expi')),
    row("user list member without userid", lambda c: c.wecom.directory.list_members(1),
        DecodeError, "/cgi-bin/user/list",
        ("/cgi-bin/user/list", {"errcode": 0, "userlist": [{"name": "x"}]})),
    row("department tree with a cycle", lambda c: c.wecom.walk_departments(2),
        DecodeError, "/cgi-bin/department/list",
        ("/cgi-bin/department/list", {"errcode": 0, "department": [
            {"id": 2, "parentid": 3}, {"id": 3, "parentid": 4}, {"id": 4, "parentid": 3}]})),
    row("list_id cursor an int", lambda c: c.wecom.directory.member_id_page(),
        DecodeError, "/cgi-bin/user/list_id",
        ("/cgi-bin/user/list_id", {"errcode": 0, "next_cursor": 5})),
    row("send reply errcode huge garbage", lambda c: c.suite.messages.send_template(message()),
        DecodeError, "/cgi-bin/message/send",
        ("/cgi-bin/message/send", {"errcode": {"x": 1}, "errmsg": 5})),
    row("login reply without session_key", lambda c: c.wecom.miniprogram.code_to_session("c"),
        DecodeError, "/cgi-bin/miniprogram/jscode2session",
        ("/cgi-bin/miniprogram/jscode2session", {"errcode": 0, "userid": "u"})),
    row("feishu token reply without token",
        lambda c: c.feishu.application.contacts_range_suggest(APP, "v"),
        DecodeError, FEISHU_TOKEN, (FEISHU_TOKEN, {"code": 0, "expire": 7200})),
    row("versions reply items not a list",
        lambda c: c.feishu.application.app_versions(APP, lang="zh_cn"),
        DecodeError, VERSIONS, (VERSIONS, {"code": 0, "data": {"items": {"a": 1}}})),
    row("suggest reply data a str",
        lambda c: c.feishu.application.contacts_range_suggest(APP, "v"),
        DecodeError, f"{VERSIONS}/v/contacts_range_suggest",
        (f"{VERSIONS}/v/contacts_range_suggest", {"code": 0, "data": "x"})),
    row("configuration reply with no data",
        lambda c: c.feishu.application.contacts_range_configuration(APP),
        DecodeError, f"/open-apis/application/v6/applications/{APP}/contacts_range_configuration",
        (f"/open-apis/application/v6/applications/{APP}/contacts_range_configuration",
         {"code": 0, "msg": "ok"})),
]


def test_the_catalogue_is_large_and_covers_every_kind_of_error() -> None:
    assert len(BEFORE_SENDING) + len(MALFORMED_REPLIES) >= 40
    kinds = {p.values[1] for p in BEFORE_SENDING + MALFORMED_REPLIES}
    assert {InputError, ConfigurationError, DecodeError, PickerError} <= kinds


@pytest.mark.parametrize(("call", "error", "name", "bad_reply"), BEFORE_SENDING)
async def test_bad_input_is_refused_before_sending(
    clients: Clients, call: Call, error: type[Exception], name: str, bad_reply: None
) -> None:
    with pytest.raises(error) as info:
        await invoke(call(clients))
    assert type(info.value) is error  # the class itself, not merely a base of it
    assert_names(info.value, name)
    assert sum(clients.fake.requests.values()) == 0, clients.fake.requests


@pytest.mark.parametrize(("call", "error", "name", "bad_reply"), MALFORMED_REPLIES)
async def test_malformed_reply_is_a_decode_error_naming_the_endpoint(
    clients: Clients, call: Call, error: type[Exception], name: str,
    bad_reply: tuple[str, object],
) -> None:
    path, body = bad_reply
    clients.bad[path] = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(error) as info:
        await invoke(call(clients))
    assert_names(info.value, name)
    assert clients.fake.requests[path] >= 1


def assert_names(error: BaseException, name: str) -> None:
    assert name in str(error)
    if isinstance(error, InputError):
        assert error.field == name
    if isinstance(error, DecodeError):
        assert error.endpoint == name
