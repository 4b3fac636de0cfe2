"""Batch search and per-request overhead, against the emulator in a separate process.

    python benchmarks/batch_search.py            # 5,000 queries, 5,000-member org
    python benchmarks/batch_search.py --quick    # a smaller run, a few seconds

Prints, for each figure, the baseline measured in the same run and the ratio:
1. batch search: requests sent vs the minimum the 50-per-request rule allows, and wall
   time vs the ideal at the emulator's latency (rounds x latency, at the concurrency used);
2. per-request overhead: requests/s of ``client.contact.search`` (token, limiter, retry
   loop, typed decode, error check) vs a bare aiohttp loop decoding with ``json.loads``,
   same requests, same concurrency, zero emulator latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from _harness import emulator as harness_emulator
from _harness import print_table

from wecom_feishu_async import MemoryTokenStore, Provider, Quota, SearchQuery, WeComClient
from wecom_feishu_async.emulator import Org
from wecom_feishu_async.emulator._search import Query

BATCH = "/cgi-bin/service/contact/batchsearch"
SEARCH = "/cgi-bin/service/contact/search"
NO_QUOTA = [Quota(10**9, 1.0, burst=10**6)]  # measure the client, not the vendor's quota


def emulator(
    seed: int, members: int, departments: int, latency: float, quota: int = 10_000
) -> contextlib.AbstractContextManager[dict[str, Any]]:
    """A WeCom emulator process of this size and latency."""
    return harness_emulator("--seed", str(seed), "--members", str(members),
                            "--departments", str(departments), "--latency", str(latency),
                            "--quota-per-minute", str(quota))


@contextlib.asynccontextmanager
async def client_for(info: dict[str, Any], **kwargs: Any) -> AsyncIterator[WeComClient]:
    async with WeComClient(provider=Provider(info["provider_corp_id"], info["provider_secret"]),
                           base_url=info["url"], **kwargs) as client:
        yield client


def pages_needed(org: Org, query: SearchQuery) -> int:
    found = org.matches(Query(query.query_word, int(query.query_type), int(query.query_range),
                              int(query.full_match_field or 0)))
    limit = query.limit or 50
    lists = (found.active, found.departed, found.departments)
    return max(1, *(math.ceil(len(x) / limit) for x in lists))


async def bench_batch(args: argparse.Namespace, org: Org) -> list[tuple[str, str, str, str]]:
    words = org.sample_words(10_000, seed=1)
    queries = [SearchQuery(w, query_range=1, limit=args.limit)
               for w in itertools.islice(itertools.cycle(words), args.queries)]
    pages = [pages_needed(org, q) for q in queries]
    per_round = [sum(1 for p in pages if p > r) for r in range(max(pages))]
    minimum = sum(math.ceil(n / 50) for n in per_round)
    ideal = sum(math.ceil(math.ceil(n / 50) / args.concurrency) for n in per_round) * args.latency

    with emulator(1, args.members, args.departments, args.latency) as info:
        async with client_for(info) as client:
            await client.contact.search(info["corp_id"], words[0])  # token, connection
            started = time.perf_counter()
            results = await client.contact.batch_search(info["corp_id"], queries,
                                                        concurrency=args.concurrency)
            wall = time.perf_counter() - started
            sent = client.stats.requests[BATCH]
    assert len(results) == len(queries)
    return [
        ("batch search: requests", f"{sent}", f"minimum {minimum}", f"{minimum / sent:.2f}"),
        ("batch search: wall time", f"{wall:.2f} s", f"ideal {ideal:.2f} s", f"{ideal / wall:.2f}"),
    ]


async def bare_loop(
    info: dict[str, Any], token: str, bodies: list[bytes], concurrency: int
) -> float:
    """Requests per second of plain aiohttp + json.loads on the same requests."""
    url = info["url"] + SEARCH
    params = {"provider_access_token": token}
    headers = {"Content-Type": "application/json"}
    work = iter(bodies)

    async def worker(session: aiohttp.ClientSession) -> None:
        for body in work:
            async with session.post(url, params=params, data=body, headers=headers) as resp:
                reply = json.loads(await resp.read())
                if reply.get("errcode"):
                    raise RuntimeError(reply)

    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - started)


async def ours(client: WeComClient, corp: str, words: list[str], concurrency: int) -> float:
    work = iter(words)

    async def worker() -> None:
        for word in work:
            await client.contact.search(corp, word, limit=20)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(words) / (time.perf_counter() - started)


async def bench_overhead(args: argparse.Namespace, org: Org) -> list[tuple[str, str, str, str]]:
    words = list(itertools.islice(itertools.cycle(org.sample_words(200, seed=2)), args.requests))
    bodies = [json.dumps({"auth_corpid": org.corp_id, "query_word": w, "limit": 20}).encode()
              for w in words]
    # The vendor's 10,000/min would stop this run of tens of thousands of requests.
    with emulator(1, args.members, args.departments, 0.0, quota=10**9) as info:
        store = MemoryTokenStore()
        async with client_for(info, quotas=NO_QUOTA, max_in_flight=10**6,
                              token_store=store) as client:
            await client.contact.search(info["corp_id"], words[0])
            assert client.provider is not None
            token = await store.get(client.provider.store_key)  # the bare loop uses it too
            assert token is not None
            rates: dict[str, list[float]] = {"ours": [], "bare": []}
            for _ in range(args.repeats):  # interleaved, best of N, to even out noise
                rates["bare"].append(await bare_loop(info, token.value, bodies, args.concurrency))
                rates["ours"].append(await ours(client, info["corp_id"], words, args.concurrency))
    best_ours, best_bare = max(rates["ours"]), max(rates["bare"])
    return [("search: requests/s", f"{best_ours:,.0f}", f"bare aiohttp+json {best_bare:,.0f}",
             f"{best_ours / best_bare:.2f}")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run")
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.queries, args.members, args.departments = 1000, 1000, 80
        args.requests, args.repeats = 1000, 2
    org = Org.generate(1, args.members, args.departments)
    rows = asyncio.run(bench_batch(args, org)) + asyncio.run(bench_overhead(args, org))
    print_table(("figure", "measured", "baseline", "ratio"), rows)


if __name__ == "__main__":
    main()
