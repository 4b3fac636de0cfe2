"""Per-request overhead: our client against a bare aiohttp loop on the same requests.

    python benchmarks/overhead.py [--quick]

Requests per second of ``client.contact.search`` (token, limiter, retry loop, typed decode,
error check) vs plain aiohttp sending the same requests (bodies encoded by ``json.dumps``,
replies decoded by ``json.loads``, errcode checked), at the same concurrency and on one
warm session each, against an emulator process answering at once. Rounds of the two
alternate (bare, ours, ours, bare, ...) so a busy spell on a shared machine hits both; the
ratio is the median of the per-round ratios, each rate the median of its rounds.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncio
import contextlib
import itertools
import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aiohttp

from benchmarks._harness import Row, at_least, median_ratio, standalone, wecom_emulator
from wecom_feishu_async import MemoryTokenStore, Provider, Quota, WeComClient
from wecom_feishu_async.emulator import Org

SEARCH = "/cgi-bin/service/contact/search"
NO_QUOTA = [Quota(10**9, 1.0, burst=10**6)]  # measure the client, not the vendor's quota
CONCURRENCY = 16


@contextlib.asynccontextmanager
async def provider_client(info: dict[str, Any], **kwargs: Any) -> AsyncIterator[WeComClient]:
    """A client with the emulator's service-provider credential (for contact search)."""
    async with WeComClient(provider=Provider(info["provider_corp_id"], info["provider_secret"]),
                           base_url=info["url"], **kwargs) as client:
        yield client


async def bare_rate(
    session: aiohttp.ClientSession, url: str, token: str, bodies: list[dict[str, Any]]
) -> float:
    """Requests per second of plain aiohttp + json.dumps/json.loads on the same requests."""
    params = {"provider_access_token": token}
    headers = {"Content-Type": "application/json"}
    work = iter(bodies)

    async def worker() -> None:
        for body in work:
            data = json.dumps(body).encode()
            async with session.post(url, params=params, data=data, headers=headers) as resp:
                reply = json.loads(await resp.read())
                if reply.get("errcode"):
                    raise RuntimeError(reply)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return len(bodies) / (time.perf_counter() - started)


async def our_rate(client: WeComClient, corp: str, words: list[str]) -> float:
    """Requests per second of ``client.contact.search`` on the same requests."""
    work = iter(words)

    async def worker() -> None:
        for word in work:
            await client.contact.search(corp, word, limit=20)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return len(words) / (time.perf_counter() - started)


async def measure(
    members: int, departments: int, requests: int, rounds: int
) -> list[tuple[float, float]]:
    """``rounds`` pairs of (ours, bare) requests per second."""
    org = Org.generate(1, members, departments)
    words = list(itertools.islice(itertools.cycle(org.sample_words(200, seed=2)), requests))
    bodies = [{"auth_corpid": org.corp_id, "query_word": w, "limit": 20} for w in words]
    pairs = []
    # The vendor's 10,000/min would stop a run of tens of thousands of requests.
    with wecom_emulator(1, members, departments, quota=10**9) as info:
        store = MemoryTokenStore()
        async with contextlib.AsyncExitStack() as stack:
            client = await stack.enter_async_context(provider_client(
                info, quotas=NO_QUOTA, max_in_flight=10**6, token_store=store))
            session = await stack.enter_async_context(
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)))
            await client.contact.search(info["corp_id"], words[0])  # token, connection
            assert client.provider is not None
            token = await store.get(client.provider.store_key)  # the bare loop uses it too
            assert token is not None

            def bare(n: int) -> Awaitable[float]:
                return bare_rate(session, info["url"] + SEARCH, token.value, bodies[:n])

            await bare(requests // 4)  # warm both up: connections, caches
            await our_rate(client, info["corp_id"], words[: requests // 4])
            for i in range(rounds):
                if i % 2:
                    mine = await our_rate(client, info["corp_id"], words)
                    theirs = await bare(requests)
                else:
                    theirs = await bare(requests)
                    mine = await our_rate(client, info["corp_id"], words)
                pairs.append((mine, theirs))
    return pairs


def run(quick: bool) -> list[Row]:
    members, departments, requests, rounds = (
        (1_000, 80, 800, 11) if quick else (5_000, 300, 1_500, 31))
    pairs = asyncio.run(measure(members, departments, requests, rounds))
    ours = statistics.median(p[0] for p in pairs)
    bare = statistics.median(p[1] for p in pairs)
    return [Row(f"overhead of contact.search, c={CONCURRENCY}, no latency: requests/s "
                f"({rounds} paired rounds)",
                f"{ours:,.0f}/s", f"bare aiohttp + json.loads {bare:,.0f}/s",
                median_ratio(pairs), at_least(0.85))]


if __name__ == "__main__":
    standalone(run, __doc__)
