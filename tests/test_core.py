"""The request loop through a fake transport: tokens, retries, errors, quotas."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import pytest

from tests.fakes import FakeTransport, Sent, reply, scripted
from wecom_feishu_async import (
    APIError,
    AuthError,
    ConfigurationError,
    CorpApp,
    DecodeError,
    Endpoint,
    HTTPStatusError,
    InvalidArgumentError,
    IPNotAllowedError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    Provider,
    Quota,
    RateLimitedError,
    RetryPolicy,
    ServerBusyError,
    WeComClient,
)
from wecom_feishu_async.wecom import WeComReply

SEARCH = "/cgi-bin/service/contact/search"
PROVIDER_TOKEN = "/cgi-bin/service/get_provider_token"
FAST = RetryPolicy(base_delay=0.001, max_delay=0.002, rate_limit_delay=0.001)
PAGE = {"errcode": 0, "errmsg": "ok", "query_result": {}, "is_last": True, "next_cursor": ""}


def err(code: int, msg: str = "failed") -> dict[str, object]:
    return {"errcode": code, "errmsg": f"{msg}, hint: [H{code}x], from ip: 10.1.2.3, more info"}


def client_for(fake: FakeTransport, **kwargs: object) -> WeComClient:
    kwargs.setdefault("retry", FAST)
    return WeComClient(
        provider=Provider("wwprovider", "provider-secret-xyz"),
        corp_app=CorpApp("wwcorp", "corp-secret-xyz"),
        transport=fake,
        **kwargs,  # type: ignore[arg-type]
    )


def token_minting_handler(answer_search):  # type: ignore[no-untyped-def]
    """Provider tokens T1, T2, ... (no errcode, as documented); searches via ``answer_search``."""
    counter = itertools.count(1)

    def handler(sent: Sent):  # type: ignore[no-untyped-def]
        if sent.path == PROVIDER_TOKEN:
            return reply({"provider_access_token": f"T{next(counter)}", "expires_in": 7200})
        return answer_search(sent)

    return handler


async def search(client: WeComClient) -> object:
    return await client.contact.search("wwcorp", "zhang")


async def test_hundred_concurrent_first_calls_fetch_one_token() -> None:
    fake = FakeTransport(token_minting_handler(lambda sent: reply(PAGE)), delay=0.005)
    async with client_for(fake) as client:
        await asyncio.gather(*(search(client) for _ in range(100)))
        assert fake.requests[PROVIDER_TOKEN] == 1
        assert fake.requests[SEARCH] == 100
        assert client.stats.token_fetches["provider_access_token"] == 1
    assert {s.params["provider_access_token"] for s in fake.sent if s.path == SEARCH} == {"T1"}


async def test_rejected_token_is_refreshed_once_and_the_call_retried() -> None:
    def answer(sent: Sent):  # type: ignore[no-untyped-def]
        return reply(err(40014)) if sent.params["provider_access_token"] == "T1" else reply(PAGE)

    fake = FakeTransport(token_minting_handler(answer))
    async with client_for(fake) as client:
        await search(client)
        await search(client)
    assert fake.requests[PROVIDER_TOKEN] == 2
    assert [s.params["provider_access_token"] for s in fake.sent if s.path == SEARCH] == [
        "T1",
        "T2",
        "T2",
    ]


async def test_concurrent_rejections_of_one_token_cause_one_refresh() -> None:
    revoked: set[str] = set()

    def answer(sent: Sent):  # type: ignore[no-untyped-def]
        return reply(err(42001)) if sent.params["provider_access_token"] in revoked else reply(PAGE)

    fake = FakeTransport(token_minting_handler(answer), delay=0.002)
    async with client_for(fake) as client:
        await search(client)  # caches T1
        revoked.add("T1")
        fake.requests.clear()
        # T1 is now rejected: every caller sees the failure, but T1 is dropped once
        # and the callers share the one new token.
        await asyncio.gather(*(search(client) for _ in range(30)))
    assert fake.requests[PROVIDER_TOKEN] == 1


async def test_token_refresh_is_attempted_only_once_per_call() -> None:
    fake = FakeTransport(token_minting_handler(lambda sent: reply(err(40082))))
    async with client_for(fake) as client:
        with pytest.raises(AuthError) as info:
            await search(client)
    assert info.value.code == 40082
    assert fake.requests[SEARCH] == 2
    assert fake.requests[PROVIDER_TOKEN] == 2


@pytest.mark.parametrize(
    "failure",
    [reply(err(-1)), reply({"message": "bad gateway"}, status=502), reply(err(45009))],
    ids=["errcode -1", "http 502", "errcode 45009"],
)
async def test_transient_failures_are_retried(failure: object) -> None:
    fake = FakeTransport(scripted(failure, reply(PAGE)))  # type: ignore[arg-type]
    async with client_for(fake) as client:
        page = await search(client)
    assert page is not None
    assert fake.requests[SEARCH] == 2
    assert client.stats.retries[SEARCH] == 1


async def test_persistent_busy_gives_up_after_max_retries() -> None:
    fake = FakeTransport(scripted(reply(err(-1))))
    async with client_for(fake, retry=RetryPolicy(max_retries=3, base_delay=0.001)) as client:
        with pytest.raises(ServerBusyError) as info:
            await search(client)
    assert fake.requests[SEARCH] == 4  # the first attempt and 3 retries, as the docs allow
    assert info.value.endpoint == SEARCH


async def test_persistent_failure_gives_up_within_max_time() -> None:
    policy = RetryPolicy(max_retries=100, max_time=0.05, base_delay=0.01, jitter=False)
    fake = FakeTransport(scripted(reply({}, status=503)))
    async with client_for(fake, retry=policy) as client:
        with pytest.raises(HTTPStatusError) as info:
            await search(client)
    # Waits of 0.01 and 0.02 fit in 0.05 s; the next (0.04) would not, so it stops.
    assert fake.requests[SEARCH] == 3
    assert info.value.status == 503


def test_rate_limit_waits_grow_and_honour_server_waits() -> None:
    policy = RetryPolicy(rate_limit_delay=0.5, max_retry_after=5.0, jitter=False)
    limited = RateLimitedError(vendor="wecom", endpoint=SEARCH, code=45009, message="freq")
    assert [policy.wait(limited, n, 0.0, True) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    told = RateLimitedError(vendor="x", endpoint=SEARCH, code=1, message="", retry_after=52)
    assert policy.wait(told, 1, 0.0, True) == 5.0  # capped
    assert policy.wait(limited, 4, 0.0, True) is None  # beyond max_retries


def test_writes_are_not_retried_once_they_may_have_reached_the_server() -> None:
    policy = RetryPolicy(jitter=False)
    busy = ServerBusyError(vendor="wecom", endpoint="/x", code=-1, message="busy")
    sent = NetworkError("/x", "reset", may_have_reached_server=True)
    unsent = NetworkError("/x", "refused", may_have_reached_server=False)
    limited = RateLimitedError(vendor="wecom", endpoint="/x", code=45009, message="freq")
    assert policy.wait(busy, 1, 0.0, idempotent=False) is None
    assert policy.wait(sent, 1, 0.0, idempotent=False) is None
    assert policy.wait(unsent, 1, 0.0, idempotent=False) is not None
    assert policy.wait(limited, 1, 0.0, idempotent=False) is not None
    assert policy.wait(busy, 1, 0.0, idempotent=True) is not None


async def test_a_write_is_sent_once_when_the_server_is_busy() -> None:
    fake = FakeTransport(scripted(reply(err(-1))))
    async with client_for(fake) as client:
        write = Endpoint("POST", "/cgi-bin/message/send", WeComReply, "access_token",
                         body={"touser": "a"}, idempotent=False)
        with pytest.raises(ServerBusyError):
            await client.call(write)
    assert fake.requests["/cgi-bin/message/send"] == 1


async def test_missing_credential_is_a_configuration_error_before_sending() -> None:
    fake = FakeTransport(scripted(reply(PAGE)))
    client = WeComClient(corp_app=CorpApp("wwcorp", "s"), transport=fake)
    with pytest.raises(ConfigurationError, match=r"provider=Provider"):
        await search(client)
    assert fake.sent == []


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (60011, PermissionDeniedError),
        (48002, PermissionDeniedError),
        (60020, IPNotAllowedError),
        (40058, InvalidArgumentError),
        (60003, NotFoundError),
        (40001, AuthError),
        (45033, RateLimitedError),
        (99999, APIError),
    ],
)
async def test_error_codes_map_to_classes(code: int, cls: type[APIError]) -> None:
    fake = FakeTransport(scripted(reply(err(code))))
    async with client_for(fake, retry=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(APIError) as info:
            await search(client)
    error = info.value
    assert type(error) is cls
    assert (error.vendor, error.code, error.endpoint) == ("wecom", code, SEARCH)
    assert error.request_id == f"H{code}x"
    assert SEARCH in str(error) and str(code) in str(error)
    if isinstance(error, IPNotAllowedError):
        assert error.ip == "10.1.2.3"


@pytest.mark.parametrize(
    "body",
    [b"<html>proxy error</html>", b'{"errcode":0,"query_result":{"user":{"userid":"x"}}}', b""],
    ids=["not json", "wrong type", "empty"],
)
async def test_malformed_reply_is_a_decode_error_naming_the_endpoint(body: bytes) -> None:
    from wecom_feishu_async import RawResponse

    fake = FakeTransport(scripted(RawResponse(200, {}, body)))
    async with client_for(fake) as client:
        with pytest.raises(DecodeError) as info:
            await search(client)
    assert info.value.endpoint == SEARCH
    assert SEARCH in str(info.value)
    # A body that is not JSON at all (cut short, a proxy page) is a transient fault for a
    # read and is retried; well-formed JSON of the wrong shape would only come again.
    retries = 0 if body.startswith(b"{") else FAST.max_retries
    assert fake.requests[SEARCH] == 1 + retries


async def test_unknown_fields_are_accepted() -> None:
    page = dict(PAGE, brand_new_field={"x": 1}, query_result={"user": {"userid": ["a"], "x": 2}})
    fake = FakeTransport(scripted(reply(page)))
    async with client_for(fake) as client:
        result = await client.contact.search("wwcorp", "a")
    assert result.query_result.user.userid == ["a"]


async def test_wrong_secret_raises_auth_error_without_the_secret() -> None:
    def handler(sent: Sent):  # type: ignore[no-untyped-def]
        return reply({"errcode": 40001, "errmsg": "invalid credential"})

    fake = FakeTransport(handler)
    async with client_for(fake) as client:
        with pytest.raises(AuthError) as info:
            await search(client)
    assert info.value.code == 40001
    assert info.value.endpoint == PROVIDER_TOKEN
    assert "provider-secret-xyz" not in str(info.value)
    assert "provider-secret-xyz" not in repr(client) + repr(client.provider)


async def test_concurrency_is_halved_after_45033() -> None:
    async def run(first: object) -> int:
        fake = FakeTransport(scripted(first, reply(PAGE)), delay=0.01)  # type: ignore[arg-type]
        async with client_for(fake, max_in_flight=8) as client:
            await search(client)
            fake.max_in_flight = 0
            await asyncio.gather(*(search(client) for _ in range(8)))
        return fake.max_in_flight

    assert await run(reply(PAGE)) == 8
    # One 45033 halves the cap to 4 (it then grows by one per four successes).
    assert await run(reply(err(45033))) == 4


async def test_quota_is_never_exceeded_in_any_window() -> None:
    loop = asyncio.get_running_loop()
    stamps: list[float] = []

    def handler(sent: Sent):  # type: ignore[no-untyped-def]
        if sent.path != PROVIDER_TOKEN:
            stamps.append(loop.time())
        token = {"provider_access_token": "T", "expires_in": 60}
        return reply(PAGE if sent.path == SEARCH else token)

    fake = FakeTransport(handler)
    quota = Quota(limit=10, period=0.3)
    async with client_for(fake, quotas=[quota]) as client:
        await asyncio.gather(*(search(client) for _ in range(30)))
    assert len(stamps) == 30
    worst = max(sum(1 for t in stamps if start <= t < start + quota.period) for start in stamps)
    assert worst <= quota.limit


async def test_caller_session_is_used_and_left_open() -> None:
    async with aiohttp.ClientSession() as session:
        async with WeComClient(provider=Provider("p", "s"), session=session):
            pass
        assert not session.closed


async def test_closed_client_refuses_calls() -> None:
    client = WeComClient(provider=Provider("p", "s"), base_url="http://127.0.0.1:9")
    await client.close()
    with pytest.raises(ConfigurationError, match="closed"):
        await search(client)


async def test_cancelled_waiters_leave_no_place_taken() -> None:
    from wecom_feishu_async._core.limits import Limits

    limits = Limits([], max_in_flight=1)
    key = ("corp", "/x")
    first = await limits.enter(key)
    waiting = [asyncio.ensure_future(limits.enter(key)) for _ in range(3)]
    await asyncio.sleep(0)
    waiting[0].cancel()
    first.leave()  # hands the place to waiting[1] (waiting[0] is cancelled)
    waiting[2].cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    gate = limits.gate(key)
    assert waiting[1].result() is gate and gate.in_flight == 1
    gate.leave()
    assert gate.in_flight == 0
    assert await limits.enter(key) is gate  # not blocked by a leaked place
