"""Nothing left behind: walks and fan-outs cancelled at random points, closed clients, and
unclosed sessions that the suite is sure to catch."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import re
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import SENSITIVE
from tests.test_contact import make_client as wecom_client
from tests.test_feishu import NO_QUOTA
from tests.test_walk import leftover
from wecom_feishu_async import (
    ConfigurationError,
    RetryPolicy,
    SearchQuery,
    WFAError,
)
from wecom_feishu_async._core.loop import BaseClient
from wecom_feishu_async.emulator import Emulator
from wecom_feishu_async.feishu import FeishuApp, FeishuClient

SEEDS = range(6)
POLICY = RetryPolicy(max_retries=4, base_delay=0.002, max_delay=0.01, rate_limit_delay=0.002,
                     max_retry_after=0.01)
# Faults that leave no lasting change, so that cancelling is all that differs between runs.
KINDS = ["busy", "http_error", "freq_burst", "concurrency_burst", "reset", "hold", "truncate",
         "expire_token"]


@contextlib.asynccontextmanager
async def server(seed: int, **options: Any) -> AsyncIterator[Emulator]:
    """A slow-ish emulator with 10% chaos, so that cancels land mid-request and mid-retry."""
    async with Emulator(seed=seed, latency=0.002, **options) as emu:
        creds = emu.credentials
        feishu = emu.feishu.credentials
        SENSITIVE.update((creds.corp_secret, creds.provider_secret, feishu.app_secret))
        emu.faults.chaos(0.1, seed=seed, kinds=KINDS, hold=0.3)
        yield emu
        SENSITIVE.update(emu.issued_tokens())


def pool(client: BaseClient) -> tuple[int, int]:
    """(connections handed out and not back, connections kept idle) of the client's pool."""
    connector: Any = client._transport.session.connector  # type: ignore[attr-defined]
    return len(connector._acquired), sum(len(c) for c in connector._conns.values())


def gates_idle(client: BaseClient) -> bool:
    """Every in-flight gate is back to 0 with nobody waiting."""
    gates = client._limits._gates.values()
    return all(g.in_flight == 0 and not g._waiters for g in gates)


async def settled(before: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """Tasks left since ``before`` (the emulator's own aside) once the loop settles."""
    for _ in range(200):
        if not leftover(before):
            break
        await asyncio.sleep(0.001)
    return leftover(before)


async def quiet(emu: Emulator) -> int:
    """The emulator's request count once nothing has arrived for a while."""
    while True:
        count = sum(emu.stats.requests.values())
        await asyncio.sleep(0.05)
        if sum(emu.stats.requests.values()) == count:
            return count


async def cancel_at_random(rng: random.Random, work: Callable[[], Awaitable[object]]) -> None:
    """Run ``work`` as a task and cancel it after a random delay (it may finish first)."""
    task = asyncio.ensure_future(work())
    await asyncio.sleep(rng.uniform(0.0, 0.06))
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, WFAError):
        await task


async def assert_nothing_left(client: BaseClient, emu: Emulator,
                              before: set[asyncio.Task[Any]]) -> None:
    assert await settled(before) == []
    assert pool(client)[0] == 0 and gates_idle(client)
    sent = await quiet(emu)
    assert await quiet(emu) == sent  # nothing more goes out


async def assert_closed(client: BaseClient) -> None:
    session: Any = client._transport._session  # type: ignore[attr-defined]
    assert session is None or (session.closed and session.connector is None)
    with pytest.raises(ConfigurationError):
        await client.directory.list_members(1)  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", SEEDS)
async def test_walks_stopped_at_random_points_leave_nothing(seed: int) -> None:
    rng = random.Random(seed)
    async with server(seed, members=400, departments=60) as emu:
        before = asyncio.all_tasks()
        async with wecom_client(emu, retry=POLICY, timeout=0.2) as client:
            how = rng.choice(["cancel", "break", "drop"])
            stop_after = rng.randint(0, 200)

            async def consume() -> None:
                walk = client.walk_members(concurrency=rng.choice([1, 4, 16]))
                if how == "cancel":
                    async for _ in walk:
                        await asyncio.sleep(0)
                    return
                count = 0
                if how == "break":
                    async with walk:
                        async for _ in walk:
                            count += 1
                            if count >= stop_after:
                                break
                    return
                async for _ in walk:  # dropped unclosed: the loop's finaliser closes it
                    count += 1
                    if count >= stop_after:
                        break

            await cancel_at_random(rng, consume)
            await assert_nothing_left(client, emu, before)
        await assert_closed(client)


@pytest.mark.parametrize("seed", SEEDS)
async def test_batch_searches_cancelled_at_random_points_leave_nothing(seed: int) -> None:
    rng = random.Random(100 + seed)
    async with server(seed, members=300, departments=30) as emu:
        queries = [SearchQuery(w, limit=3) for w in emu.org.sample_words(300, seed=seed)]
        before = asyncio.all_tasks()
        async with wecom_client(emu, retry=POLICY, timeout=0.2) as client:
            await cancel_at_random(rng, lambda: client.contact.batch_search(
                emu.credentials.corp_id, queries, concurrency=rng.choice([1, 3, 8])))
            await assert_nothing_left(client, emu, before)
        await assert_closed(client)


@pytest.mark.parametrize("seed", SEEDS)
async def test_feishu_fan_outs_cancelled_at_random_points_leave_nothing(seed: int) -> None:
    rng = random.Random(200 + seed)
    async with server(seed, members=60, departments=6, feishu_versions=80,
                      feishu_quota=(10**6, 1.0)) as emu:
        creds = emu.feishu.credentials
        before = asyncio.all_tasks()
        client = FeishuClient(FeishuApp(creds.app_id, creds.app_secret), base_url=emu.url,
                              retry=POLICY, timeout=0.2, quotas=NO_QUOTA)
        async with client:
            await cancel_at_random(rng, lambda: client.application.contacts_range_suggest_all(
                creds.app_id, concurrency=rng.choice([2, 10, 40])))
            await assert_nothing_left(client, emu, before)
        session: Any = client._transport._session  # type: ignore[attr-defined]
        assert session is None or session.closed


async def test_a_closed_client_keeps_no_connection(emu: Emulator) -> None:
    async with wecom_client(emu) as client:
        await asyncio.gather(*(client.directory.list_members(1) for _ in range(5)))
        held, idle = pool(client)
        assert held == 0 and idle >= 1  # kept alive for reuse while open
        connector: Any = client._transport.session.connector  # type: ignore[attr-defined]
    assert connector.closed and not connector._conns and not connector._acquired
    await assert_closed(client)


# The suite's guard against unclosed sessions ----------------------------------------------


async def leak_a_client(emu: Emulator) -> None:
    """Use a client, then drop it without closing it (its session and pool stay open)."""
    client = wecom_client(emu)
    await client.directory.list_members(1)


UNCLOSED = "Unclosed (client session|connector)"


def test_the_suite_runs_with_warnings_as_errors(pytestconfig: pytest.Config) -> None:
    assert "error" in pytestconfig.getini("filterwarnings")


async def test_an_unclosed_client_warns(emu: Emulator) -> None:
    # aiohttp warns about the session, or about its pool when that is collected first.
    with pytest.warns(ResourceWarning, match=UNCLOSED):
        await leak_a_client(emu)
        gc.collect()


async def test_an_unclosed_client_becomes_an_error_the_suite_sees(emu: Emulator) -> None:
    # With warnings as errors (the suite's setting), the warning a session raises while
    # being collected cannot propagate: Python hands it to sys.unraisablehook, which pytest
    # watches and reports as a failure. Here a recording hook stands in for pytest's.
    caught: list[Any] = []
    hook = sys.unraisablehook
    sys.unraisablehook = caught.append
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            await leak_a_client(emu)
            gc.collect()
    finally:
        sys.unraisablehook = hook
    assert any(isinstance(u.exc_value, ResourceWarning) and re.match(UNCLOSED, str(u.exc_value))
               for u in caught)
