"""Contact search and batch search against the emulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from wecom_feishu_async import (
    CorpApp,
    InputError,
    InvalidArgumentError,
    NetworkError,
    Provider,
    QueryResult,
    RequestTimeout,
    RetryPolicy,
    SearchQuery,
    ServerBusyError,
    WeComClient,
)
from wecom_feishu_async.emulator import Emulator, Fault

SEARCH = "/cgi-bin/service/contact/search"
BATCH = "/cgi-bin/service/contact/batchsearch"
FAST = RetryPolicy(base_delay=0.001, max_delay=0.005, rate_limit_delay=0.001)


def make_client(emu: Emulator, **kwargs: object) -> WeComClient:
    creds = emu.credentials
    kwargs.setdefault("retry", FAST)
    return WeComClient(
        provider=Provider(creds.provider_corp_id, creds.provider_secret),
        corp_app=CorpApp(creds.corp_id, creds.corp_secret),
        base_url=emu.url,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[WeComClient]:
    async with make_client(emu) as c:
        yield c


def assert_truth(emu: Emulator, query: SearchQuery, agentid: int, got: QueryResult) -> None:
    truth = emu.org.search(
        query.query_word,
        query_type=int(query.query_type),
        query_range=int(query.query_range),
        agentid=agentid,
        full_match_field=int(query.full_match_field or 0),
    )
    assert got.user.userid == truth.userid, query
    assert got.user.open_userid == truth.open_userid, query
    assert got.party.department_id == truth.department_id, query
    assert got.dismiss_user.userid == truth.dismiss_userid, query
    assert got.dismiss_user.open_userid == truth.dismiss_open_userid, query


async def test_search_pages_run_to_the_last_page_through_short_pages(
    emu: Emulator, client: WeComClient
) -> None:
    corp, agentid = emu.credentials.corp_id, emu.credentials.agentid
    word = emu.org.sample_words(1, seed=1)[0]
    query = SearchQuery(word, query_range=1, limit=2)
    pages = [page async for page in client.contact.search_pages(corp, query, agentid=agentid)]
    assert len(pages) > 1
    assert pages[-1].is_last and all(not p.is_last for p in pages[:-1])
    assert emu.stats.requests[SEARCH] == len(pages)
    merged = await client.contact.search_all(corp, query, agentid=agentid)
    assert_truth(emu, query, agentid, merged)
    assert merged.user.userid or merged.party.department_id or merged.dismiss_user.userid


@pytest.mark.parametrize(
    "options",
    [
        {"query_type": 1},
        {"query_type": 2},
        {"query_range": 1, "limit": 1},
        {"full_match_field": 1},
        {"full_match_field": 2, "query_type": 1},
    ],
)
async def test_search_all_equals_ground_truth(
    emu: Emulator, client: WeComClient, options: dict[str, int]
) -> None:
    corp = emu.credentials.corp_id
    for agentid in (0, emu.credentials.agentid):
        for word in emu.org.sample_words(6, seed=5):
            query = SearchQuery(word, **options)  # type: ignore[arg-type]
            assert_truth(emu, query, agentid, await client.contact.search_all(corp, query,
                                                                              agentid=agentid))


async def pages_needed(client: WeComClient, corp: str, query: SearchQuery, agentid: int) -> int:
    return len([p async for p in client.contact.search_pages(corp, query, agentid=agentid)])


async def test_batch_search_of_137_queries_is_exact_and_uses_the_fewest_requests(
    emu: Emulator, client: WeComClient
) -> None:
    corp, agentid = emu.credentials.corp_id, emu.credentials.agentid
    words = emu.org.sample_words(137, seed=3)
    queries = [SearchQuery(w, query_range=1, limit=2 + i % 3) for i, w in enumerate(words)]
    pages = [await pages_needed(client, corp, q, agentid) for q in queries]
    assert max(pages) >= 3, "the sample should need several pages"

    emu.stats.reset()
    emu.latency = 0.02
    results = await client.contact.batch_search(corp, queries, agentid=agentid)

    assert len(results) == len(queries)
    for query, result in zip(queries, results, strict=True):
        assert_truth(emu, query, agentid, result)
    # Round r re-sends the queries that need more than r pages, 50 to a request.
    rounds = [sum(1 for p in pages if p > r) for r in range(max(pages))]
    assert emu.stats.requests[BATCH] == sum(math.ceil(n / 50) for n in rounds)
    assert max(emu.stats.batch_sizes) <= 50
    assert sum(emu.stats.batch_sizes) == sum(pages)
    assert emu.stats.max_in_flight[BATCH] > 1
    assert client.stats.token_fetches["provider_access_token"] == 1  # for the whole test


async def test_batch_search_keeps_input_order_with_repeated_words(
    emu: Emulator, client: WeComClient
) -> None:
    corp = emu.credentials.corp_id
    word = emu.org.sample_words(1, seed=9)[0]
    queries: list[str | SearchQuery] = [word, SearchQuery(word, query_type=2), word]
    first, departments, third = await client.contact.batch_search(corp, queries)
    assert first == third
    assert departments.user.userid == [] and first.user.userid


async def test_empty_batch_sends_nothing(emu: Emulator, client: WeComClient) -> None:
    assert await client.contact.batch_search(emu.credentials.corp_id, []) == []
    assert sum(emu.stats.requests.values()) == 0


BadCall = Callable[[WeComClient, str], Awaitable[object]]

BAD_INPUTS: list[tuple[str, BadCall]] = [
    ("query_word", lambda c, corp: c.contact.search(corp, "")),
    ("query_word", lambda c, corp: c.contact.search(corp, "   ")),
    ("query_word", lambda c, corp: c.contact.search(corp, "张" * 65)),
    ("query_word", lambda c, corp: c.contact.search(corp, 42)),  # type: ignore[arg-type]
    ("limit", lambda c, corp: c.contact.search(corp, "li", limit=0)),
    ("limit", lambda c, corp: c.contact.search(corp, "li", limit=201)),
    ("limit", lambda c, corp: c.contact.search(corp, "li", limit="10")),  # type: ignore[arg-type]
    ("query_type", lambda c, corp: c.contact.search(corp, "li", query_type=3)),
    ("query_range", lambda c, corp: c.contact.search(corp, "li", query_range=2)),
    ("full_match_field", lambda c, corp: c.contact.search(corp, "li", full_match_field=0)),
    ("agentid", lambda c, corp: c.contact.search(corp, "li", agentid=-1)),
    ("auth_corpid", lambda c, corp: c.contact.search("", "li")),
    ("queries[1].limit",
     lambda c, corp: c.contact.batch_search(corp, ["li", SearchQuery("wang", limit=500)])),
    ("queries[2].query_word", lambda c, corp: c.contact.batch_search(corp, ["a", "b", "x" * 65])),
    ("queries", lambda c, corp: c.contact.batch_search(corp, "li")),
    ("concurrency", lambda c, corp: c.contact.batch_search(corp, ["li"], concurrency=0)),
    ("query_word", lambda c, corp: c.contact.search_all(corp, SearchQuery(""))),
]


@pytest.mark.parametrize(("field", "call"), BAD_INPUTS)
async def test_bad_input_raises_before_anything_is_sent(
    emu: Emulator, client: WeComClient, field: str, call: BadCall
) -> None:
    with pytest.raises(InputError) as info:
        await call(client, emu.credentials.corp_id)
    assert info.value.field == field
    assert field in str(info.value)
    assert sum(emu.stats.requests.values()) == 0


async def test_64_character_word_is_accepted(emu: Emulator, client: WeComClient) -> None:
    page = await client.contact.search(emu.credentials.corp_id, "张" * 64)
    assert page.is_last


async def test_unknown_agentid_is_a_typed_error(emu: Emulator, client: WeComClient) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        await client.contact.search(emu.credentials.corp_id, "li", agentid=999)
    assert info.value.code == 40056 and info.value.endpoint == SEARCH


async def test_token_revoked_mid_run_is_refreshed_once_and_nothing_fails(
    emu: Emulator, client: WeComClient
) -> None:
    corp = emu.credentials.corp_id
    words = emu.org.sample_words(300, seed=4)
    emu.latency = 0.02

    async def revoke_soon() -> None:
        await asyncio.sleep(0.03)
        emu.revoke_tokens()

    results, _ = await asyncio.gather(
        client.contact.batch_search(corp, [SearchQuery(w, limit=3) for w in words]),
        revoke_soon(),
    )
    assert len(results) == len(words) > 100
    assert emu.stats.tokens_issued["provider_access_token"] == 2
    assert client.stats.token_fetches["provider_access_token"] == 2


async def test_token_expiring_on_the_server_is_refreshed(
    emu: Emulator, client: WeComClient
) -> None:
    corp = emu.credentials.corp_id
    await client.contact.search(corp, "li")
    emu.faults.script(SEARCH, [Fault.expire_token()])
    await client.contact.search(corp, "li")
    assert emu.stats.tokens_issued["provider_access_token"] == 2
    assert emu.stats.requests[SEARCH] == 3


async def test_busy_and_bad_gateway_are_retried(emu: Emulator, client: WeComClient) -> None:
    corp = emu.credentials.corp_id
    pages = await pages_needed(client, corp, SearchQuery("li"), 0)
    emu.faults.script(BATCH, [Fault.errcode(-1), Fault.http(502), Fault.errcode(45009)])
    [result] = await client.contact.batch_search(corp, ["li"])
    assert_truth(emu, SearchQuery("li"), 0, result)
    assert emu.stats.requests[BATCH] == pages + 3
    assert client.stats.retries[BATCH] == 3


async def test_persistent_busy_gives_up_with_the_typed_error(emu: Emulator) -> None:
    emu.faults.rate(1.0, [Fault.errcode(-1)], seed=1)
    async with make_client(emu, retry=RetryPolicy(max_retries=3, base_delay=0.001)) as client:
        with pytest.raises(ServerBusyError):
            await client.contact.search(emu.credentials.corp_id, "li")
    assert emu.stats.requests[SEARCH] == 4


async def test_timeout_is_retried_then_raised(emu: Emulator) -> None:
    emu.latency = 0.5
    async with make_client(emu, timeout=0.05, retry=RetryPolicy(max_retries=1,
                                                                base_delay=0.001)) as client:
        with pytest.raises(RequestTimeout) as info:
            await client.contact.search(emu.credentials.corp_id, "li")
    assert info.value.endpoint == "/cgi-bin/service/get_provider_token"


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    policy = RetryPolicy(max_retries=2, base_delay=0.001)
    async with WeComClient(provider=Provider("p", "s"), base_url=f"http://127.0.0.1:{port}",
                           retry=policy) as client:
        with pytest.raises(NetworkError) as info:
            await client.contact.search("corp", "li")
    assert info.value.may_have_reached_server is False
    assert client.stats.retries["/cgi-bin/service/get_provider_token"] == 2


async def test_pool_size_caps_connections(emu: Emulator) -> None:
    emu.latency = 0.02
    async with make_client(emu, pool_size=3) as client:
        await asyncio.gather(*(client.contact.search(emu.credentials.corp_id, "li")
                               for _ in range(12)))
    assert emu.stats.max_in_flight[SEARCH] == 3
