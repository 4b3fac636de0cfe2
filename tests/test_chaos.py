"""Under a seeded mix of faults: exact results, or the typed error that says which fault won.

Every workload runs against a fresh emulator per seed with 10% chaos (token endpoints
exempt). A run either returns exactly the emulator's ground truth (nothing lost, nothing
twice) or raises a typed error that the emulator's fault log explains; retries and requests
are counted on both sides.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import pytest

from tests.conftest import SENSITIVE
from tests.test_contact import BATCH, SEARCH, assert_truth
from tests.test_contact import make_client as wecom_client
from tests.test_feishu import NO_QUOTA, as_json
from tests.test_tickets import SEND, message, picked, suite_client
from wecom_feishu_async import (
    AuthError,
    CorpApp,
    DecodeError,
    HTTPStatusError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RequestTimeout,
    RetryPolicy,
    SearchQuery,
    ServerBusyError,
    WeComClient,
    WFAError,
)
from wecom_feishu_async._core.endpoint import Endpoint
from wecom_feishu_async._core.loop import BaseClient
from wecom_feishu_async.emulator import Emulator, Fault
from wecom_feishu_async.emulator import __main__ as command
from wecom_feishu_async.emulator.world.chaos import CHAOS_KINDS
from wecom_feishu_async.emulator.world.faults import Injected
from wecom_feishu_async.feishu import FeishuApp, FeishuClient
from wecom_feishu_async.wecom.picker import decode_picker_result

T = TypeVar("T")

SEEDS = range(10)
RATE = 0.1
POLICY = RetryPolicy(max_retries=5, max_time=20.0, base_delay=0.002, max_delay=0.02,
                     rate_limit_delay=0.002, max_retry_after=0.02)
TIMEOUT = 0.5  # each attempt's limit; held replies wait longer
HOLD = 0.7
USER_LIST = "/cgi-bin/user/list"
GETTOKEN = "/cgi-bin/gettoken"


@contextlib.asynccontextmanager
async def chaotic(
    emu: Emulator, seed: int, rate: float = RATE, **options: Any
) -> AsyncIterator[Emulator]:
    """``emu`` started, with its secrets known to the log check and chaos on."""
    async with emu:
        creds, feishu = emu.credentials, emu.feishu.credentials
        SENSITIVE.update((creds.corp_secret, creds.provider_secret, feishu.app_secret))
        options.setdefault("hold", HOLD)
        emu.faults.chaos(rate, seed=seed, **options)
        yield emu
        SENSITIVE.update(emu.issued_tokens())


class Counted:
    """Counts a client's calls per path or bucket (each call may make several attempts)."""

    def __init__(self, client: BaseClient) -> None:
        self.client = client
        self.calls: Counter[str] = Counter()
        self.token_paths: set[str] = set()
        original = client.call

        async def call(endpoint: Endpoint[T]) -> T:
            key = endpoint.bucket or endpoint.path  # as the client's stats count them
            self.calls[key] += 1
            if endpoint.auth is None:
                self.token_paths.add(key)
            return await original(endpoint)

        client.call = call  # type: ignore[method-assign]

    def check_bounds(self, emu: Emulator, *, complete: bool) -> None:
        """Retries within max_retries per call; every attempt accounted for on both sides."""
        stats = self.client.stats
        api = [p for p in self.calls if p not in self.token_paths]
        for path in api:
            assert stats.retries[path] <= POLICY.max_retries * self.calls[path], path
        attempts = sum(stats.requests[p] for p in api)
        expected = sum(self.calls[p] + stats.retries[p] for p in api)
        refreshes = sum(stats.token_rejections.values())
        served = sum(emu.stats.requests.values()) - sum(emu.stats.token_requests.values())
        if complete:
            assert attempts == expected + refreshes
            assert served == attempts
        else:  # a failure cancels calls that may not have sent everything yet
            assert attempts <= expected + refreshes
            assert served <= attempts


def explained(error: BaseException, log: list[Injected]) -> bool:
    """Whether the emulator injected a fault that ``error`` is the typed report of."""
    faults = [entry.fault for entry in log]

    def seen(*kinds: str, codes: tuple[int, ...] = ()) -> bool:
        return any(f.kind in kinds or (f.kind == "errcode" and f.code in codes) for f in faults)

    if isinstance(error, RequestTimeout):
        return seen("hold")
    if isinstance(error, NetworkError):
        return seen("reset")
    if isinstance(error, DecodeError):
        return seen("truncate")
    if isinstance(error, HTTPStatusError):
        return seen("http")
    if isinstance(error, RateLimitedError):
        return seen("burst", codes=(45009, 99991400))
    if isinstance(error, ServerBusyError):
        return seen(codes=(-1, 1500))
    if isinstance(error, NotFoundError):
        return seen("delete_department")
    if isinstance(error, AuthError):  # a token revoked again right after its refresh
        return sum(f.kind == "expire_token" for f in faults) >= 2
    return False


async def outcome(work: Awaitable[T], emu: Emulator) -> T | WFAError:
    """The result, or the library error the fault log explains (anything else fails)."""
    try:
        return await asyncio.wait_for(work, 30)  # a hang guard only
    except WFAError as exc:
        assert explained(exc, emu.faults.log), (exc, emu.faults.log)
        return exc


@pytest.mark.parametrize("seed", SEEDS)
async def test_walk_is_exact_or_says_which_department_or_fault(seed: int) -> None:
    mode = "skip" if seed % 2 else "raise"
    async with chaotic(Emulator(seed=seed, members=300, departments=40), seed) as emu:
        org = emu.org
        # Ground truth at the start: each visible member and the departments listing them.
        before = {m.userid: set(m.department) for m in org.visible_members()}
        async with wecom_client(emu, retry=POLICY, timeout=TIMEOUT) as client:
            counted = Counted(client)
            walk = client.walk_members(concurrency=8, on_unreadable=mode)  # type: ignore[call-overload]

            async def run() -> list[str]:
                return [m.userid async for m in walk]

            got = await outcome(run(), emu)
            counted.check_bounds(emu, complete=not isinstance(got, WFAError))
    deleted = {e.fault for e in emu.faults.log if e.fault.kind == "delete_department"}
    if isinstance(got, NotFoundError):
        assert mode == "raise" and deleted and got.code == 60003
        department = int(str(got).split("department ")[1].split(":")[0])
        assert department not in org.department_by_id  # named, and really gone
        return
    if isinstance(got, WFAError):
        return  # explained above
    assert len(got) == len(set(got))  # nothing twice
    assert all(e.code == 60003 and d not in org.department_by_id
               for d, e in walk.skipped.items())
    # Nothing lost unless its departments were reported skipped.
    missing = set(before) - set(got)
    assert set(got) <= set(before)
    assert all(before[u] & set(walk.skipped) for u in missing)
    if not walk.skipped:
        assert set(got) == set(before)
    assert walk.progress.members == len(got) and walk.progress.skipped == len(walk.skipped)


@pytest.mark.parametrize("seed", SEEDS)
async def test_batch_search_is_exact_or_raises_the_typed_error(seed: int) -> None:
    async with chaotic(Emulator(seed=seed, members=300, departments=30), seed) as emu:
        words = emu.org.sample_words(60, seed=seed)
        queries = [SearchQuery(w, limit=4) for w in words]
        queries += [SearchQuery(w, query_range=1, limit=7) for w in words[:40]]
        async with wecom_client(emu, retry=POLICY, timeout=TIMEOUT) as client:
            counted = Counted(client)
            got = await outcome(client.contact.batch_search(emu.credentials.corp_id, queries), emu)
            counted.check_bounds(emu, complete=not isinstance(got, WFAError))
        if not isinstance(got, WFAError):
            assert len(got) == len(queries)
            for query, result in zip(queries, got, strict=True):
                assert_truth(emu, query, 0, result)
            assert counted.calls[BATCH] > 2 * 3  # several rounds of continued queries


@pytest.mark.parametrize("seed", SEEDS)
async def test_contacts_range_suggest_all_is_exact_or_raises_the_typed_error(seed: int) -> None:
    emu = Emulator(seed=seed, members=120, departments=12, feishu_versions=60,
                   feishu_quota=(10**6, 1.0))
    async with chaotic(emu, seed):
        creds = emu.feishu.credentials
        async with FeishuClient(FeishuApp(creds.app_id, creds.app_secret), base_url=emu.url,
                                retry=POLICY, timeout=TIMEOUT, quotas=NO_QUOTA) as client:
            counted = Counted(client)
            got = await outcome(
                client.application.contacts_range_suggest_all(creds.app_id, concurrency=10), emu)
            counted.check_bounds(emu, complete=not isinstance(got, WFAError))
        if not isinstance(got, WFAError):
            assert as_json(got) == emu.feishu.suggested(creds.app_id)
            assert list(got) == list(emu.feishu.suggested(creds.app_id))


# Faults that stop a send before it is handled: nothing delivered.
REFUSED = (RateLimitedError, ServerBusyError, HTTPStatusError, AuthError)


@pytest.mark.parametrize("seed", SEEDS)
async def test_template_messages_are_never_delivered_twice(seed: int) -> None:
    async with chaotic(Emulator(seed=seed, members=200, departments=20), seed, paths=[SEND],
                       rate=0.3) as emu:
        operator, chosen = picked(emu)
        tickets = [decode_picker_result(emu.suite.pick(chosen, operator=operator)).selected_ticket
                   for _ in range(3)]
        sends = [dataclasses.replace(message(emu, [tickets[i % 3]]), template_id=f"tpl_{i}")
                 for i in range(24)]
        async with suite_client(emu, retry=POLICY, timeout=TIMEOUT) as client:
            async def send(i: int) -> object:
                return await outcome(client.messages.send_template(sends[i]), emu)

            results = await asyncio.gather(*(send(i) for i in range(len(sends))))
            await asyncio.sleep(0.05)  # replies spoilt after handling are all handled by now
            assert emu.stats.requests[SEND] == client.stats.requests[SEND]
            retried = client.stats.retries[SEND]
        SENSITIVE.update(emu.suite.sessions)
    delivered = Counter(d.template_id for d in emu.suite.deliveries)
    assert max(delivered.values(), default=0) <= 1  # never twice
    for i, result in enumerate(results):
        count = delivered[f"tpl_{i}"]
        if isinstance(result, REFUSED):
            assert count == 0, result
        elif isinstance(result, WFAError):  # the reply was lost: handled or not, unknown
            assert isinstance(result, (RequestTimeout, NetworkError, DecodeError)), result
            if isinstance(result, (RequestTimeout, NetworkError)):
                assert result.may_have_reached_server
        else:
            assert count == 1 and {d.msgid for d in emu.suite.deliveries} >= {
                result.msgid}  # type: ignore[attr-defined]
    # Only refusals that prove nothing was handled were retried.
    refusals = sum(e.fault.kind == "burst" or (e.fault.kind == "errcode" and e.fault.code == 45009)
                   for e in emu.faults.log)
    assert retried <= refusals
    assert any(isinstance(r, WFAError) for r in results) or not emu.faults.log


# Single faults, one at a time ------------------------------------------------------------


async def test_truncated_and_empty_replies_to_reads_are_retried(emu: Emulator) -> None:
    emu.faults.script(SEARCH, [Fault.truncate(0.0), Fault.truncate(0.6), Fault.reset(0.5)])
    async with wecom_client(emu, retry=POLICY) as client:
        word = emu.org.sample_words(1)[0]
        page = await client.contact.search(emu.credentials.corp_id, word)
        assert page.errcode == 0
        assert client.stats.retries[SEARCH] == 3 and emu.stats.requests[SEARCH] == 4
    assert [e.fault.kind for e in emu.faults.log] == ["truncate", "truncate", "reset"]


async def test_a_send_whose_reply_is_cut_is_not_repeated(emu: Emulator) -> None:
    operator, chosen = picked(emu)
    ticket = decode_picker_result(emu.suite.pick(chosen, operator=operator)).selected_ticket
    async with suite_client(emu, retry=POLICY) as client:
        for fault, error in [(Fault.truncate(0.3), DecodeError), (Fault.reset(0.3), NetworkError)]:
            emu.faults.script(SEND, [fault])
            with pytest.raises(error):
                await client.messages.send_template(message(emu, [ticket]))
    SENSITIVE.update(emu.suite.sessions)
    assert emu.stats.requests[SEND] == 2 and len(emu.suite.deliveries) == 2  # once each


async def test_a_department_deleted_mid_walk_is_named(emu: Emulator) -> None:
    second = emu.org.subtree_ids(1)[1]  # concurrency 1 lists in tree order
    emu.faults.script(USER_LIST, [Fault.hold(0), Fault.delete_department()])
    async with wecom_client(emu, retry=POLICY) as client:
        with pytest.raises(NotFoundError) as info:
            async for _ in client.walk_members(concurrency=1):
                pass
    assert info.value.code == 60003 and f"department {second}:" in str(info.value)
    assert info.value.endpoint == USER_LIST and second not in emu.org.department_by_id


async def test_a_burst_refuses_the_next_requests_of_its_route(emu: Emulator) -> None:
    emu.faults.script(SEARCH, [Fault.burst(45033, 3)])
    async with wecom_client(emu, retry=POLICY) as client:
        await client.contact.search(emu.credentials.corp_id, "li")
        assert client.stats.retries[SEARCH] == 3
    assert emu.stats.errors[45033] == 3 and emu.stats.requests[SEARCH] == 4


# The call deadline ---------------------------------------------------------------------


async def test_a_server_that_never_answers_costs_at_most_max_time(emu: Emulator) -> None:
    emu.faults.chaos(1.0, seed=1, kinds=["hold"], hold=3.0, paths=[SEARCH])
    policy = RetryPolicy(max_time=0.5, base_delay=0.01)
    async with wecom_client(emu, retry=policy, timeout=30) as client:
        with pytest.raises(RequestTimeout) as info:
            await asyncio.wait_for(client.contact.search(emu.credentials.corp_id, "li"), 5)
        assert info.value.may_have_reached_server
        # The first attempt's 30 s limit was clipped to the call's 0.5 s: nothing was left
        # for a retry.
        assert emu.stats.requests[SEARCH] == 1 and client.stats.retries[SEARCH] == 0

        # Shorter attempts share the same deadline: a few of them, then the timeout.
        async with wecom_client(emu, retry=policy, timeout=0.15) as short:
            with pytest.raises(RequestTimeout):
                await asyncio.wait_for(short.contact.search(emu.credentials.corp_id, "li"), 5)
            attempts = short.stats.requests[SEARCH]
    assert 2 <= attempts <= 4 == policy.max_retries + 1


async def test_a_token_endpoint_that_never_answers_costs_at_most_max_time(
    emu: Emulator,
) -> None:
    emu.faults.chaos(1.0, seed=1, kinds=["hold"], hold=3.0, paths=[GETTOKEN])
    async with wecom_client(emu, retry=RetryPolicy(max_time=0.4), timeout=30) as client:
        with pytest.raises(RequestTimeout):
            await asyncio.wait_for(client.directory.list_members(1), 5)
    assert emu.stats.requests[GETTOKEN] == 1 and emu.stats.requests[USER_LIST] == 0


# The chaos knob itself -----------------------------------------------------------------


async def walk_log(seed: int, concurrency: int, kinds: list[str]) -> list[Injected]:
    async with chaotic(Emulator(seed=3, members=200, departments=25), seed, kinds=kinds) as emu:
        # No held replies and a long timeout: a slow machine must not add timeouts of its own.
        async with wecom_client(emu, retry=POLICY, timeout=5.0) as client:
            with contextlib.suppress(WFAError):
                async for _ in client.walk_members(concurrency=concurrency):
                    pass
        return list(emu.faults.log)


async def test_chaos_is_reproducible_per_seed() -> None:
    kinds = [k for k in CHAOS_KINDS if k != "hold"]
    first, again = await walk_log(5, 1, kinds), await walk_log(5, 1, kinds)
    other = await walk_log(6, 1, kinds)
    assert first == again and first != other
    # Faults are drawn per request, not per arrival: concurrency reorders arrivals but
    # gives the same faults (kinds without lasting effects on other requests).
    kinds = ["busy", "http_error", "truncate", "reset"]  # no effect on other requests
    one, eight = await walk_log(9, 1, kinds), await walk_log(9, 8, kinds)
    assert one and Counter(one) == Counter(eight)


async def test_every_chaos_kind_is_injected_and_token_endpoints_are_exempt() -> None:
    seen: Counter[str] = Counter()
    for seed in range(4):
        async with chaotic(Emulator(seed=seed, members=200, departments=25), seed,
                           rate=0.5) as emu:
            async with wecom_client(emu, retry=POLICY, timeout=TIMEOUT) as client:
                with contextlib.suppress(WFAError):
                    async for _ in client.walk_members(concurrency=4, on_unreadable="skip"):
                        pass
            seen.update(e.fault.kind for e in emu.faults.log)
            assert all(e.path != GETTOKEN for e in emu.faults.log)
    assert set(seen) == {"errcode", "http", "burst", "reset", "hold", "truncate",
                         "expire_token", "delete_department"}


async def test_token_endpoints_get_chaos_only_when_asked(emu: Emulator) -> None:
    emu.faults.chaos(1.0, seed=2, kinds=["busy"], tokens=True)
    async with wecom_client(emu, retry=RetryPolicy(max_retries=1, base_delay=0.001)) as client:
        with pytest.raises(ServerBusyError) as info:
            await client.directory.list_members(1)
    assert info.value.endpoint == GETTOKEN and emu.stats.requests[GETTOKEN] == 2


def test_bad_chaos_settings_are_refused() -> None:
    emu = Emulator(seed=1, members=20, departments=3)
    for bad in [{"kinds": ["earthquake"]}, {"burst": (3, 2)}, {"hold": -1.0}, {"rate": 1.5}]:
        with pytest.raises(ValueError):
            emu.faults.chaos(**bad)  # type: ignore[arg-type]


async def test_the_command_line_turns_chaos_on(capsys: pytest.CaptureFixture[str]) -> None:
    args = command._parser().parse_args(
        ["--members", "20", "--departments", "3", "--chaos", "1", "--chaos-seed", "4",
         "--chaos-kinds", "busy"])
    server = asyncio.ensure_future(command._serve(args))
    try:
        for _ in range(500):
            await asyncio.sleep(0.01)
            line = capsys.readouterr().out
            if line:
                break
        info = json.loads(line)
        assert info["chaos"] == {"rate": 1.0, "seed": 4, "kinds": ["busy"], "tokens": False}
        SENSITIVE.update((info["corp_secret"], info["provider_secret"]))
        async with WeComClient(corp_app=CorpApp(info["corp_id"], info["corp_secret"]),
                               base_url=info["url"], retry=RetryPolicy(max_retries=0)) as client:
            with pytest.raises(ServerBusyError):
                await client.directory.list_members(1)
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server
    with pytest.raises(SystemExit):
        command._parser().parse_args(["--chaos", "2"])
    with pytest.raises(SystemExit):
        command._parser().parse_args(["--chaos-kinds", "busy,earthquake"])

