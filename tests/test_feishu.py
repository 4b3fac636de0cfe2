"""The Feishu client against the emulator on 127.0.0.1 (and a fake transport for replies
the emulator does not give)."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.conftest import SENSITIVE
from tests.fakes import FakeTransport, Sent, reply
from wecom_feishu_async import (
    APIError,
    AuthError,
    HTTPStatusError,
    InputError,
    InvalidArgumentError,
    IPNotAllowedError,
    NotFoundError,
    PermissionDeniedError,
    Quota,
    RateLimitedError,
    RawResponse,
    RetryPolicy,
    ServerBusyError,
)
from wecom_feishu_async.emulator import Emulator, Fault
from wecom_feishu_async.feishu import (
    ContactsRange,
    FeishuApp,
    FeishuClient,
    FeishuStoreApp,
    VersionOrder,
)
from wecom_feishu_async.feishu.models import ContactsRangeSuggestReply

PAYLOADS = Path(__file__).parent / "payloads"
BASE = "/open-apis/application/v6/applications/{app_id}"
VERSIONS = BASE + "/app_versions"
VERSION = VERSIONS + "/{version_id}"
SUGGEST = VERSION + "/contacts_range_suggest"
CONFIGURATION = BASE + "/contacts_range_configuration"
INTERNAL_TOKEN = "/open-apis/auth/v3/tenant_access_token/internal"
APP_TOKEN = "/open-apis/auth/v3/app_access_token"
TENANT_TOKEN = "/open-apis/auth/v3/tenant_access_token"
FAST = RetryPolicy(base_delay=0.001, max_delay=0.005, rate_limit_delay=0.001)
# The emulator counts 100 calls per second per API; the client is set to the same, with a
# little slack for the scheduling jitter of a loaded test machine.
SCALED = [Quota(100, 1.0, slack=0.05)]
NO_QUOTA = [Quota(10**6, 1.0, burst=10**6)]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(seed=5, members=200, departments=20, feishu_versions=250,
                        feishu_quota=(100, 1.0)) as server:
        creds = server.feishu.credentials
        SENSITIVE.update((creds.app_secret, creds.store_app_secret, creds.app_ticket))
        yield server
        SENSITIVE.update(server.issued_tokens())


def make_client(emu: Emulator, **kwargs: Any) -> FeishuClient:
    creds = emu.feishu.credentials
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("quotas", SCALED)
    return FeishuClient(FeishuApp(creds.app_id, creds.app_secret), base_url=emu.url, **kwargs)


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[FeishuClient]:
    async with make_client(emu) as c:
        yield c


def as_json(ranges: dict[str, ContactsRange | None]) -> dict[str, Any]:
    return {k: None if r is None else msgspec.to_builtins(r) for k, r in ranges.items()}


# Seed 002 --------------------------------------------------------------------------------


def test_seed_reply_decodes_every_field() -> None:
    raw = (PAYLOADS / "feishu_contacts_range_suggest_response.json").read_bytes()
    decoded = msgspec.json.decode(raw, type=ContactsRangeSuggestReply)
    found = decoded.suggested()
    assert (decoded.code, decoded.msg) == (0, "success")
    assert found is not None and found.contacts_scope_type == "some"
    assert found.visible_list.open_ids == ["ou_4065981088f8ef67a504ba8bd6b24d85"]
    assert found.visible_list.department_ids == ["od-4b4a6907ad726ea07b27b0d2882b7c65"]
    assert found.visible_list.group_ids == ["b6d1g5dd6fd26186"]
    assert msgspec.to_builtins(decoded) == json.loads(raw)  # nothing lost, nothing added


def fake_client(handler: Callable[[Sent], RawResponse], **kwargs: Any) -> FeishuClient:
    def answer(sent: Sent) -> RawResponse:
        if sent.path == INTERNAL_TOKEN:
            return reply({"code": 0, "msg": "ok", "tenant_access_token": "t-1", "expire": 7200})
        return handler(sent)

    kwargs.setdefault("retry", FAST)
    return FeishuClient(FeishuApp("cli_a", "secret-a"), transport=FakeTransport(answer),
                        **kwargs)


async def test_seed_request_and_reply_through_the_client() -> None:
    seen: list[Sent] = []

    def handler(sent: Sent) -> RawResponse:
        seen.append(sent)
        return RawResponse(200, {}, (PAYLOADS / "feishu_contacts_range_suggest_response.json")
                           .read_bytes())

    async with fake_client(handler) as client:
        found = await client.application.contacts_range_suggest(
            "cli_9f3ca975326b501b", "oav_d317f090b7258ad0372aa53963cda70d",
            department_id_type="department_id", user_id_type="open_id")
    [sent] = seen
    assert sent.method == "GET"
    assert sent.path == ("/open-apis/application/v6/applications/cli_9f3ca975326b501b"
                         "/app_versions/oav_d317f090b7258ad0372aa53963cda70d"
                         "/contacts_range_suggest")
    assert sent.params == {"department_id_type": "department_id", "user_id_type": "open_id"}
    assert sent.headers["Authorization"] == "Bearer t-1"
    assert found is not None and found.visible_list.group_ids == ["b6d1g5dd6fd26186"]


@pytest.mark.parametrize("body", [
    {"code": 0, "msg": "success", "data": {}},
    {"code": 0, "msg": "success"},
    {"code": 0, "msg": "success", "data": None},
    {"code": 0, "msg": "success", "data": {"contacts_range": None}},
    {"code": 0, "msg": "success", "data": {"contacts_range": {}}},
])
async def test_an_unchanged_range_is_none_not_an_empty_range(body: dict[str, Any]) -> None:
    async with fake_client(lambda sent: reply(body)) as client:
        assert await client.application.contacts_range_suggest("me", "oav_1") is None


# The fan-out under the quota --------------------------------------------------------------


async def test_suggest_all_of_250_versions_never_trips_the_quota(
    emu: Emulator, client: FeishuClient
) -> None:
    app_id = emu.feishu.credentials.app_id
    ranges = await client.application.contacts_range_suggest_all(app_id, concurrency=20)

    truth = emu.feishu.suggested(app_id)
    assert len(ranges) == 250
    assert list(ranges) == list(truth)  # listing order: newest first
    assert as_json(ranges) == truth
    assert None in ranges.values() and any(r is not None for r in ranges.values())
    assert sum(emu.stats.quota_refused.values()) == 0  # no 429 at all
    assert sum(client.stats.retries.values()) == 0
    assert emu.stats.busiest_window(SUGGEST, 1.0) <= 100
    assert emu.stats.requests[SUGGEST] == 250
    assert emu.stats.requests[VERSIONS] == 5  # 50 a page
    assert emu.stats.token_requests["tenant_access_token"] == 1


async def test_suggest_all_of_given_ids_keeps_their_order_once_each(
    emu: Emulator, client: FeishuClient
) -> None:
    app_id = emu.feishu.credentials.app_id
    truth = emu.feishu.suggested(app_id, user_id_type="union_id",
                                 department_id_type="department_id")
    ids = list(truth)[7:1:-1]
    ranges = await client.application.contacts_range_suggest_all(
        "me", version_ids=[*ids, ids[0]], user_id_type="union_id",
        department_id_type="department_id")
    assert list(ranges) == ids
    assert as_json(ranges) == {i: truth[i] for i in ids}
    assert emu.stats.requests[SUGGEST] == len(ids)
    assert emu.stats.requests[VERSIONS] == 0
    assert await client.application.contacts_range_suggest_all("me", version_ids=[]) == {}
    assert emu.stats.requests[SUGGEST] == len(ids)


async def test_hundred_concurrent_first_calls_fetch_one_token(
    emu: Emulator
) -> None:
    version_id = next(iter(emu.feishu.suggested(emu.feishu.credentials.app_id)))
    async with make_client(emu, quotas=NO_QUOTA) as client:
        await asyncio.gather(*(client.application.contacts_range_suggest("me", version_id)
                               for _ in range(100)))
    assert emu.stats.token_requests["tenant_access_token"] == 1
    assert client.stats.token_fetches["tenant_access_token"] == 1
    assert emu.stats.requests[SUGGEST] == 100


# Listing and the live range ----------------------------------------------------------------


async def test_app_versions_pages_in_either_order(emu: Emulator, client: FeishuClient) -> None:
    newest = [v async for v in client.application.app_versions("me", lang="en_us",
                                                                 page_size=40)]
    assert emu.stats.requests[VERSIONS] == math.ceil(250 / 40)
    oldest = [v async for v in client.application.app_versions(
        "me", lang="zh_cn", order=VersionOrder.OLDEST_FIRST)]
    assert [v.version_id for v in newest] == [v.version_id for v in reversed(oldest)]
    assert newest[0].app_name == "Directory Sync" and oldest[0].app_name == "通讯录同步助手"
    assert all(v.create_time.isdigit() and v.app_id == emu.feishu.credentials.app_id
               for v in newest)
    one = await client.application.app_version("me", newest[3].version_id, lang="en_us")
    assert one == newest[3]


async def test_contacts_range_configuration_merges_every_page(
    emu: Emulator, client: FeishuClient
) -> None:
    app = emu.feishu.apps[emu.feishu.credentials.app_id]
    live = app.live_range
    items = len(live.userids) + len(live.department_ids) + len(live.group_ids)
    assert live.scope_type == "some" and items > 40
    merged = await client.application.contacts_range_configuration(
        "me", page_size=20, user_id_type="user_id")
    expected = emu.feishu.render(live, app.app_id, "user_id")
    assert msgspec.to_builtins(merged) == expected
    assert emu.stats.requests[CONFIGURATION] == math.ceil(items / 20)


# Tokens ------------------------------------------------------------------------------------


async def test_store_app_chain_with_an_async_ticket(emu: Emulator) -> None:
    creds = emu.feishu.credentials
    calls: list[int] = []

    async def ticket() -> str:
        calls.append(1)
        return creds.app_ticket

    app = FeishuStoreApp(creds.store_app_id, creds.store_app_secret, app_ticket=ticket,
                         tenant_key=creds.tenant_key)
    assert creds.app_ticket not in repr(app) and creds.store_app_secret not in repr(app)
    async with FeishuClient(app, base_url=emu.url, retry=FAST, quotas=SCALED) as client:
        versions = [v async for v in client.application.app_versions("me", lang="zh_cn")]
        assert versions and all(v.app_id == creds.store_app_id for v in versions)
        assert len(calls) == 1
        assert emu.stats.token_requests["app_access_token"] == 1
        assert emu.stats.token_requests["tenant_access_token"] == 1

        # Both tokens revoked early: the tenant token is refused (99991663), and so is the
        # cached app token it is refreshed with (99991664); both are fetched anew, once.
        emu.revoke_tokens()
        again = [v async for v in client.application.app_versions("me", lang="zh_cn")]
    assert [v.version_id for v in again] == [v.version_id for v in versions]
    assert len(calls) == 2
    assert client.stats.token_rejections == {"tenant_access_token": 1, "app_access_token": 1}
    assert emu.stats.tokens_issued == {"app_access_token": 2, "tenant_access_token": 2}


async def test_expired_token_is_refreshed_once(emu: Emulator, client: FeishuClient) -> None:
    version_id = next(iter(emu.feishu.suggested(emu.feishu.credentials.app_id)))
    emu.faults.script(SUGGEST, [Fault.expire_token()])
    await client.application.contacts_range_suggest("me", version_id)
    assert emu.stats.requests[SUGGEST] == 2
    assert emu.stats.errors[99991663] == 1
    assert emu.stats.tokens_issued["tenant_access_token"] == 2
    assert client.stats.token_rejections["tenant_access_token"] == 1

    emu.faults.script(SUGGEST, [Fault.errcode(99991663)] * 2)
    with pytest.raises(AuthError) as info:
        await client.application.contacts_range_suggest("me", version_id)
    assert info.value.code == 99991663
    assert emu.stats.requests[SUGGEST] == 4  # one refresh, then it gives up
    assert client.stats.token_rejections["tenant_access_token"] == 2


async def test_wrong_secret_and_unknown_app_are_auth_errors(emu: Emulator) -> None:
    creds = emu.feishu.credentials
    for app, code in ((FeishuApp(creds.app_id, "wrong-secret"), 10015),
                      (FeishuApp("cli_0000000000000000", creds.app_secret), 10014)):
        async with FeishuClient(app, base_url=emu.url, retry=FAST) as client:
            with pytest.raises(AuthError) as info:
                await client.application.contacts_range_suggest("me", "oav_x")
        assert info.value.code == code and info.value.status == 200
        assert info.value.request_id  # the X-Tt-Logid header
        assert "wrong-secret" not in str(info.value)


# Rate limiting -------------------------------------------------------------------------------


async def test_scripted_429_is_waited_out_and_retried(emu: Emulator) -> None:
    version_id = next(iter(emu.feishu.suggested(emu.feishu.credentials.app_id)))
    emu.faults.script(SUGGEST, [Fault.errcode(99991400)])
    loop = asyncio.get_running_loop()
    async with make_client(emu, retry=RetryPolicy()) as client:
        started = loop.time()
        await client.application.contacts_range_suggest("me", version_id)
        waited = loop.time() - started
    assert emu.stats.requests[SUGGEST] == 2 and emu.stats.errors[99991400] == 1
    assert client.stats.retries.total() == 1
    assert waited >= 1.0  # the emulator's x-ogw-ratelimit-reset: 1


async def test_a_429_pauses_the_whole_api_and_its_wait_is_capped() -> None:
    sends: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()
    refused = asyncio.Event()

    def handler(sent: Sent) -> RawResponse:
        sends.append((sent.path.split("/")[-2], loop.time()))
        if len(sends) == 1:
            refused.set()
            return reply({"code": 99991400, "msg": "request trigger frequency limit",
                          "error": {"log_id": "L1"}}, 429,
                         {"x-ogw-ratelimit-limit": "100", "x-ogw-ratelimit-reset": "52"})
        return reply({"code": 0, "msg": "success", "data": {}})

    async with fake_client(handler, retry=RetryPolicy(max_retry_after=0.3)) as client:
        first = asyncio.ensure_future(client.application.contacts_range_suggest("me", "v1"))
        await refused.wait()  # the refusal has been read and the pause set
        await client.application.contacts_range_suggest("me", "v2")  # another version
        await first
    assert [name for name, _ in sends].count("v1") == 2 and len(sends) == 3
    refused_at = sends[0][1]
    v2_at = next(at for name, at in sends if name == "v2")
    assert v2_at - refused_at >= 0.29  # the pause held v2 too, capped at 0.3 s, not 52


async def test_quota_refusal_of_the_emulator_carries_both_headers(emu: Emulator) -> None:
    emu.feishu_quota = (3, 60.0)
    version_id = next(iter(emu.feishu.suggested(emu.feishu.credentials.app_id)))
    async with make_client(emu, quotas=NO_QUOTA, retry=RetryPolicy(max_retries=0)) as client:
        for _ in range(3):
            await client.application.contacts_range_suggest("me", version_id)
        with pytest.raises(RateLimitedError) as info:
            await client.application.contacts_range_suggest("me", version_id)
    error = info.value
    assert (error.code, error.status) == (99991400, 429)
    assert error.retry_after is not None and 1 <= error.retry_after <= 60
    assert emu.stats.quota_refused[SUGGEST] == 1


# Errors ----------------------------------------------------------------------------------------

CODES: list[tuple[int, type[APIError]]] = [
    (210500, InvalidArgumentError), (210501, InvalidArgumentError),
    (210503, InvalidArgumentError), (210504, NotFoundError), (210505, InvalidArgumentError),
    (210506, NotFoundError), (210508, PermissionDeniedError), (210514, InvalidArgumentError),
    (211002, NotFoundError), (211003, NotFoundError),
    (99991400, RateLimitedError), (99991401, IPNotAllowedError),
    (99991403, PermissionDeniedError), (99991661, AuthError), (99991663, AuthError),
    (99991664, AuthError), (99991665, AuthError), (99991668, AuthError), (99991671, AuthError),
    (99991672, PermissionDeniedError), (99991673, PermissionDeniedError),
    (99991677, AuthError), (99991679, PermissionDeniedError), (99992402, InvalidArgumentError),
    (1500, ServerBusyError), (2200, ServerBusyError), (5000, ServerBusyError),
    (10003, InvalidArgumentError), (10014, AuthError), (10015, AuthError),
    (12345, APIError),
]


@pytest.mark.parametrize(("code", "cls"), CODES)
async def test_each_code_raises_its_class_with_the_log_id(
    emu: Emulator, code: int, cls: type[APIError]
) -> None:
    token_code = code in (10003, 10014, 10015)
    emu.faults.script(INTERNAL_TOKEN if token_code else SUGGEST, [Fault.errcode(code)] * 2)
    async with make_client(emu, retry=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(APIError) as info:
            await client.application.contacts_range_suggest("me", "oav_any")
    error = info.value
    assert type(error) is cls and error.code == code and error.vendor == "feishu"
    assert error.request_id and error.request_id in str(error)
    if token_code:
        assert error.status == 200  # token endpoints answer errors with HTTP 200
    else:
        assert error.status in (400, 429, 500)
        assert error.troubleshooter and error.request_id in error.troubleshooter


async def test_natural_application_errors(emu: Emulator, client: FeishuClient) -> None:
    world = emu.feishu
    other_version = world.apps[world.credentials.store_app_id].versions[0].version_id
    cases: list[tuple[Callable[[], Awaitable[object]], int]] = [
        (lambda: client.application.contacts_range_suggest("cli_nothex", "oav_1"), 210503),
        (lambda: client.application.contacts_range_suggest("cli_0123456789abcdef", "v"), 210506),
        (lambda: client.application.contacts_range_suggest(world.foreign_app_id, "v"), 210504),
        (lambda: client.application.contacts_range_suggest(world.credentials.store_app_id,
                                                           other_version), 210505),
        (lambda: client.application.contacts_range_suggest("me", other_version), 211003),
        (lambda: client.application.app_version("me", "oav_nope", lang="ja_jp"), 211002),
    ]
    for call, code in cases:
        with pytest.raises(APIError) as info:
            await call()
        assert info.value.code == code and info.value.status == 400


async def test_gateway_failures_are_retried_or_typed() -> None:
    answers = iter([RawResponse(502, {}, b"<html>Bad Gateway</html>"),
                    reply({"code": 0, "msg": "success", "data": {}})])
    async with fake_client(lambda sent: next(answers)) as client:
        assert await client.application.contacts_range_suggest("me", "v") is None
    async with fake_client(lambda sent: RawResponse(503, {}, b"busy"),
                           retry=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(HTTPStatusError):
            await client.application.contacts_range_suggest("me", "v")
    async with fake_client(lambda sent: RawResponse(429, {"X-Tt-Logid": "L9"}, b""),
                           retry=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(RateLimitedError) as info:
            await client.application.contacts_range_suggest("me", "v")
    assert info.value.request_id == "L9"


# Bad input -------------------------------------------------------------------------------------

BadCall = Callable[[FeishuClient], Awaitable[object]]


async def _first(iterator: Any) -> object:
    return await iterator.__anext__()


BAD_INPUTS: list[tuple[str, BadCall]] = [
    ("app_id", lambda c: c.application.contacts_range_suggest("", "v")),
    ("version_id", lambda c: c.application.contacts_range_suggest("me", " ")),
    ("department_id_type",
     lambda c: c.application.contacts_range_suggest("me", "v", department_id_type="dept")),  # type: ignore[arg-type]
    ("user_id_type",
     lambda c: c.application.contacts_range_suggest("me", "v", user_id_type="email")),  # type: ignore[arg-type]
    ("lang", lambda c: c.application.app_version("me", "v", lang="fr_fr")),  # type: ignore[arg-type]
    ("lang", lambda c: _first(c.application.app_versions("me", lang=None))),  # type: ignore[arg-type]
    ("page_size", lambda c: _first(c.application.app_versions("me", lang="zh_cn",
                                                              page_size=51))),
    ("page_size", lambda c: _first(c.application.app_versions("me", lang="zh_cn",
                                                              page_size=0))),
    ("order", lambda c: _first(c.application.app_versions("me", lang="zh_cn", order=2))),
    ("page_size", lambda c: c.application.contacts_range_configuration("me", page_size=101)),
    ("user_id_type",
     lambda c: c.application.contacts_range_configuration("me", user_id_type="x")),  # type: ignore[arg-type]
    ("app_id", lambda c: c.application.contacts_range_suggest_all("")),
    ("lang", lambda c: c.application.contacts_range_suggest_all("me", lang="de_de")),  # type: ignore[arg-type]
    ("version_ids", lambda c: c.application.contacts_range_suggest_all("me", version_ids="v")),
    ("version_ids[1]",
     lambda c: c.application.contacts_range_suggest_all("me", version_ids=["v", ""])),
    ("concurrency",
     lambda c: c.application.contacts_range_suggest_all("me", version_ids=["v"], concurrency=0)),
]


@pytest.mark.parametrize(("field", "call"), BAD_INPUTS)
async def test_bad_input_raises_before_anything_is_sent(
    emu: Emulator, client: FeishuClient, field: str, call: BadCall
) -> None:
    with pytest.raises(InputError) as info:
        await call(client)
    assert info.value.field == field and isinstance(info.value, ValueError)
    assert sum(emu.stats.requests.values()) == 0


def test_credentials_are_checked_and_keep_secrets_out_of_reprs() -> None:
    with pytest.raises(InputError, match="app_secret"):
        FeishuApp("cli_a", "")
    with pytest.raises(InputError, match="tenant_key"):
        FeishuStoreApp("cli_a", "s", app_ticket="t", tenant_key="")
    assert "hidden" not in repr(FeishuApp("cli_a", "hidden"))
