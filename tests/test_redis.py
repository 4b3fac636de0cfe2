"""Tokens and quotas shared by several processes through a real redis-server on 127.0.0.1.

Worker processes (``tests/redis_worker.py``) talk to the emulator running in this process;
the counts come from the emulator and from the workers' client stats.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.conftest import SENSITIVE
from tests.redis_server import RedisServer
from wecom_feishu_async import ConfigurationError, CorpApp, Quota, RetryPolicy, Token, WeComClient
from wecom_feishu_async.emulator import Emulator
from wecom_feishu_async.redis import (
    RedisLimiterBackend,
    RedisLockTimeout,
    RedisTokenStore,
    RedisUnavailableError,
)

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "redis-pw-" + secrets.token_hex(8)
SENSITIVE.add(PASSWORD)
SIMPLELIST = "/cgi-bin/department/simplelist"
SUGGEST = ("/open-apis/application/v6/applications/{app_id}/app_versions/{version_id}"
           "/contacts_range_suggest")
FAST = RetryPolicy(base_delay=0.001, max_delay=0.005, rate_limit_delay=0.001)
HANG_GUARD = 10.0  # seconds: only to turn a hang into a failure


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    srv = RedisServer(password=PASSWORD)
    yield srv
    srv.kill()


@pytest.fixture
def namespace() -> str:
    return "t" + secrets.token_hex(6)  # every test on its own keys


@pytest.fixture
async def raw(server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(server.url, decode_responses=True)
    yield client
    await client.aclose()


# Worker processes ---------------------------------------------------------------------------


class Workers:
    """Worker processes, each with its own client, store and limiter; commands go to all."""

    def __init__(self, procs: list[asyncio.subprocess.Process]) -> None:
        self.procs = procs

    @classmethod
    async def start(cls, count: int, env: dict[str, str]) -> Workers:
        full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.redis_worker", cwd=ROOT, env=full,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(count)
        ]
        workers = cls(procs)
        try:
            assert all(r == {"ready": True} for r in await workers._replies())
        except BaseException:
            await workers.close()
            raise
        return workers

    async def _replies(self) -> list[dict[str, Any]]:
        async def one(proc: asyncio.subprocess.Process) -> dict[str, Any]:
            assert proc.stdout is not None and proc.stderr is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            if not line:
                error = (await proc.stderr.read()).decode(errors="replace")
                raise AssertionError(f"worker ended: {error[-2000:]}")
            reply: dict[str, Any] = json.loads(line)
            return reply

        return list(await asyncio.gather(*(one(p) for p in self.procs)))

    async def send(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send one command to each worker at once; their replies, in order."""
        for proc, command in zip(self.procs, commands, strict=True):
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(command).encode() + b"\n")
        await asyncio.gather(*(p.stdin.drain() for p in self.procs if p.stdin is not None))
        return await self._replies()

    async def close(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.communicate(), 15)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.communicate()


def wecom_env(emu: Emulator, server: RedisServer, namespace: str) -> dict[str, str]:
    return {"WFA_VENDOR": "wecom", "WFA_BASE_URL": emu.url, "WFA_REDIS_URL": server.url,
            "WFA_NAMESPACE": namespace, "WFA_APP_ID": emu.credentials.corp_id,
            "WFA_SECRET": emu.credentials.corp_secret}


def total(replies: list[dict[str, Any]], field: str) -> int:
    return sum(int(r[field]) for r in replies)


async def test_eight_processes_of_fifty_first_calls_fetch_one_token(
    emu: Emulator, server: RedisServer, namespace: str
) -> None:
    emu.latency = 0.05  # the token request takes a while: everyone else piles up behind it
    workers = await Workers.start(8, wecom_env(emu, server, namespace))
    try:
        replies = await workers.send([{"op": "calls", "n": 50}] * 8)
    finally:
        await workers.close()
    assert [r["errors"] for r in replies] == [[]] * 8
    assert emu.stats.requests[SIMPLELIST] == 400
    assert emu.stats.token_requests["access_token"] == 1
    assert total(replies, "token_fetches") == 1


async def test_a_token_refreshed_by_one_process_serves_the_others(
    emu: Emulator, server: RedisServer, namespace: str
) -> None:
    workers = await Workers.start(4, wecom_env(emu, server, namespace))
    try:
        await workers.send([{"op": "calls", "n": 5}] * 4)
        assert emu.stats.token_requests["access_token"] == 1

        emu.revoke_tokens()  # one process meets the revoked token and refreshes it ...
        await workers.send([{"op": "calls", "n": 1}] + [{"op": "calls", "n": 0}] * 3)
        assert emu.stats.token_requests["access_token"] == 2
        # ... and the others use the new token: no rejection, no refresh.
        replies = await workers.send([{"op": "calls", "n": 20}] * 4)
        assert emu.stats.token_requests["access_token"] == 2
        assert total(replies, "token_rejections") == 1

        emu.revoke_tokens()  # every process meets it at once: still one refresh
        replies = await workers.send([{"op": "calls", "n": 20}] * 4)
    finally:
        await workers.close()
    assert [r["errors"] for r in replies] == [[]] * 4
    assert emu.stats.token_requests["access_token"] == 3
    assert total(replies, "token_fetches") == 3
    assert total(replies, "token_rejections") >= 2


async def test_four_processes_fanning_out_share_one_feishu_quota(
    server: RedisServer, namespace: str
) -> None:
    async with Emulator(seed=4, members=60, departments=6, feishu_versions=40,
                        feishu_quota=(20, 1.0)) as emu:
        creds = emu.feishu.credentials
        SENSITIVE.add(creds.app_secret)
        truth = emu.feishu.suggested(creds.app_id)
        ids = list(truth)
        # The client's quota is the server's, with a little slack for scheduling jitter.
        env = {"WFA_VENDOR": "feishu", "WFA_BASE_URL": emu.url, "WFA_REDIS_URL": server.url,
               "WFA_NAMESPACE": namespace, "WFA_APP_ID": creds.app_id,
               "WFA_SECRET": creds.app_secret, "WFA_QUOTA": "20,1.0,0.2"}
        workers = await Workers.start(4, env)
        try:
            replies = await workers.send([{"op": "suggest", "ids": ids[i::4]} for i in range(4)])
        finally:
            await workers.close()
        SENSITIVE.update(emu.issued_tokens())
        merged: dict[str, Any] = {}
        for reply in replies:
            assert reply["errors"] == []
            merged.update(reply["ranges"])
        assert merged == truth
        assert emu.stats.requests[SUGGEST] == 40
        # Alone, each process would send its 10 at once: 40 in the first second.
        assert sum(emu.stats.quota_refused.values()) == 0  # no 429
        assert emu.stats.busiest_window(SUGGEST, 1.0) <= 20
        assert total(replies, "retries") == 0
        assert emu.stats.token_requests["tenant_access_token"] == 1


# Redis going away ---------------------------------------------------------------------------


def wecom_client(emu: Emulator, store: RedisTokenStore,
                 limits: RedisLimiterBackend) -> WeComClient:
    return WeComClient(corp_app=CorpApp(emu.credentials.corp_id, emu.credentials.corp_secret),
                       base_url=emu.url, retry=FAST, token_store=store, limiter_backend=limits)


async def test_redis_killed_mid_run_raises_the_typed_error_without_hanging(
    emu: Emulator,
) -> None:
    own = RedisServer(password=PASSWORD)
    try:
        async with RedisTokenStore(own.url) as store, RedisLimiterBackend(own.url) as limits, \
                wecom_client(emu, store, limits) as client:
            await client.directory.list_department_ids()
            sent = sum(emu.stats.requests.values())
            own.kill()
            with pytest.raises(RedisUnavailableError) as raised:
                await asyncio.wait_for(client.directory.list_department_ids(), HANG_GUARD)
            with pytest.raises(RedisUnavailableError):
                limiter = limits.limiter(("scope", "bucket"), Quota(5, 1.0))
                await asyncio.wait_for(limiter.acquire(), HANG_GUARD)
            assert sum(emu.stats.requests.values()) == sent  # nothing sent without Redis
            assert f"127.0.0.1:{own.port}" in str(raised.value)
            assert PASSWORD not in str(raised.value) + repr(store) + repr(limits)
    finally:
        own.kill()


async def test_fallback_local_goes_on_while_redis_is_down_and_back_when_it_returns(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    own = RedisServer(password=PASSWORD)
    options: dict[str, Any] = {"fallback": "local", "probe_interval": 0.05}
    try:
        async with RedisTokenStore(own.url, **options) as store, \
                RedisLimiterBackend(own.url, **options) as limits, \
                wecom_client(emu, store, limits) as client:
            await client.directory.list_department_ids()
            own.kill()
            calls = [client.directory.list_department_ids() for _ in range(20)]
            await asyncio.wait_for(asyncio.gather(*calls), HANG_GUARD)
            assert store.falling_back and limits.falling_back
            await asyncio.wait_for(client.directory.list_department_ids(), HANG_GUARD)
            # This process fetched its own token, once.
            assert emu.stats.token_requests["access_token"] == 2
            assert emu.stats.requests[SIMPLELIST] == 22
            warnings = [r.getMessage() for r in caplog.records
                        if r.name == "wecom_feishu_async.redis" and r.levelno == logging.WARNING]
            assert len(warnings) == 2  # one for the tokens, one for the quotas
            assert all(f"127.0.0.1:{own.port}" in w and PASSWORD not in w for w in warnings)

            back = RedisServer(password=PASSWORD, port=own.port)
            try:
                await asyncio.sleep(0.1)  # past probe_interval: the next call tries Redis
                await client.directory.list_department_ids()
                assert not store.falling_back and not limits.falling_back
            finally:
                back.kill()
    finally:
        own.kill()


async def test_unreachable_or_refusing_redis_names_the_server_never_the_password() -> None:
    closed = RedisServer.free_port()
    url = f"redis://:{PASSWORD}@127.0.0.1:{closed}/0"
    async with RedisTokenStore(url) as store:
        with pytest.raises(RedisUnavailableError) as raised:
            await asyncio.wait_for(store.get("k"), HANG_GUARD)
    assert str(raised.value) == f"Redis at 127.0.0.1:{closed}: unreachable"
    assert PASSWORD not in repr(store)
    with pytest.raises(ConfigurationError) as bad:
        RedisTokenStore(f"http://:{PASSWORD}@127.0.0.1:{closed}")
    assert PASSWORD not in str(bad.value)


async def test_a_wrong_password_is_a_rejected_login(server: RedisServer) -> None:
    async with RedisLimiterBackend(f"redis://:wrong-{PASSWORD}@127.0.0.1:{server.port}") as b:
        with pytest.raises(RedisUnavailableError) as raised:
            await b.limiter(("s", "b"), Quota(5, 1.0)).acquire()
    assert "login rejected" in str(raised.value) and PASSWORD not in str(raised.value)


# The store and the limiter alone ------------------------------------------------------------


async def test_tokens_expire_with_their_life_and_are_discarded_only_if_unchanged(
    server: RedisServer, namespace: str, raw: aioredis.Redis
) -> None:
    async with RedisTokenStore(server.url, namespace=namespace) as store:
        now = time.time()
        await store.set("wecom:access_token:c:1", Token("t-1", now + 100, now + 50))
        key = f"{namespace}:token:wecom:access_token:c:1"
        assert 90_000 < await raw.pttl(key) <= 100_000
        assert await store.get("wecom:access_token:c:1") == Token("t-1", now + 100, now + 50)

        assert not await store.discard("wecom:access_token:c:1", "t-0")  # already replaced
        assert (await store.get("wecom:access_token:c:1")) is not None
        assert await store.discard("wecom:access_token:c:1", "t-1")
        assert await store.get("wecom:access_token:c:1") is None

        await store.set("k", Token("t-2", now - 1, now - 2))  # already expired: not kept
        assert await store.get("k") is None
        await raw.hset(f"{namespace}:token:odd", mapping={"value": "x"})  # not one of ours
        assert await store.get("odd") is None


async def test_a_lock_is_released_only_by_its_owner(
    server: RedisServer, namespace: str, raw: aioredis.Redis
) -> None:
    async with RedisTokenStore(server.url, namespace=namespace) as store:
        lock_key = f"{namespace}:lock:k"
        async with store.lock("k"):
            mine = await raw.get(lock_key)
            assert mine
            await raw.set(lock_key, "another-owner")  # ours lapsed; someone else took it
        assert await raw.get(lock_key) == "another-owner"
        await raw.delete(lock_key)
        async with store.lock("k"):
            pass
        assert await raw.get(lock_key) is None


async def test_one_holder_at_a_time_across_stores(server: RedisServer, namespace: str) -> None:
    inside = 0
    most = 0

    async def hold(store: RedisTokenStore) -> None:
        nonlocal inside, most
        async with store.lock("k"):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.002)
            inside -= 1

    async with RedisTokenStore(server.url, namespace=namespace) as a, \
            RedisTokenStore(server.url, namespace=namespace) as b:
        await asyncio.gather(*(hold(a if i % 2 else b) for i in range(30)))
    assert most == 1


HOLDER = """
import asyncio, sys
from wecom_feishu_async.redis import RedisTokenStore

async def main():
    async with RedisTokenStore(sys.argv[1], namespace=sys.argv[2], lock_ttl=0.3) as store:
        async with store.lock("k"):
            print("held", flush=True)
            await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_a_live_holder_keeps_its_lock_and_a_crashed_one_loses_it(
    server: RedisServer, namespace: str
) -> None:
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, server.url, namespace, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"held\n"
        async with RedisTokenStore(server.url, namespace=namespace, lock_wait=1.0) as store:
            # Over three lock lives: the holder extends its lock while it is alive.
            with pytest.raises(RedisLockTimeout):
                async with store.lock("k"):
                    pass
            holder.kill()  # a crash: nobody releases the lock ...
            await holder.wait()
            store.lock_wait = 5.0  # ... which lapses after lock_ttl

            async def take() -> None:
                async with store.lock("k"):
                    pass

            await asyncio.wait_for(take(), HANG_GUARD)
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.communicate()


async def test_limiters_of_two_processes_share_one_quota(
    server: RedisServer, namespace: str, raw: aioredis.Redis
) -> None:
    quota = Quota(10, 60.0, burst=4)  # 4 at once, then one every 10 s
    async with RedisLimiterBackend(server.url, namespace=namespace) as a, \
            RedisLimiterBackend(server.url, namespace=namespace) as b:
        first, second = a.limiter(("corp", "api"), quota), b.limiter(("corp", "api"), quota)
        for limiter in (first, second, first, second):
            await asyncio.wait_for(limiter.acquire(), HANG_GUARD)
        for limiter in (first, second):
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(limiter.acquire(), 0.5)
    assert await raw.keys(f"{namespace}:quota:*") == [f"{namespace}:quota:corp:api:10/60"]


def test_importing_the_package_does_not_import_redis() -> None:
    code = "import sys, wecom_feishu_async; assert 'redis' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_the_sync_example_splits_the_work_and_shares_one_token(
    server: RedisServer, tmp_path: Path
) -> None:
    out = tmp_path / "members.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": server.url}
    run = subprocess.run(
        [sys.executable, "examples/redis_sync_workers.py", "--workers", "3", "--members", "200",
         "--departments", "20", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert "departments each: 7/7/6" in run.stdout
    assert "token requests 1," in run.stdout and "refused by quota 0" in run.stdout
    assert PASSWORD not in run.stdout + run.stderr
    truth = Emulator(seed=1, members=200, departments=20).org.visible_members(1)
    written = [json.loads(line)["userid"] for line in out.read_text().splitlines()]
    assert sorted(written) == sorted(m.userid for m in truth)
