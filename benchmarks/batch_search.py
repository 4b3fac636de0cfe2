"""Batch search: requests sent against the minimum, wall time against the ideal.

    python benchmarks/batch_search.py [--quick]

``client.contact.batch_search`` of 5,000 queries (1,000 with ``--quick``) against an
emulator process answering each request after 50 ms:
- requests sent vs the minimum the 50-per-request rule allows: every round of paging
  (queries whose previous page was not the last) needs ceil(queries / 50) requests;
- wall time vs the ideal at the emulator's latency: those rounds' requests, at most
  ``concurrency`` at a time, each taking the latency. The emulator (one process) searches
  every query of a request in turn, so its own work adds to each round; the same batch
  with no latency shows how much.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncio
import itertools
import math
import time

from benchmarks._harness import Row, equal, standalone, wecom_emulator
from benchmarks.overhead import provider_client
from wecom_feishu_async import SearchQuery
from wecom_feishu_async.emulator import Org
from wecom_feishu_async.emulator.wecom.search import Query

BATCH = "/cgi-bin/service/contact/batchsearch"
LATENCY, LIMIT, CONCURRENCY = 0.05, 20, 16


def pages_needed(org: Org, query: SearchQuery) -> int:
    """Pages the emulator will answer ``query`` with (its longest result list)."""
    found = org.matches(Query(query.query_word, int(query.query_type), int(query.query_range),
                              int(query.full_match_field or 0)))
    limit = query.limit or 50
    lists = (found.active, found.departed, found.departments)
    return max(1, *(math.ceil(len(x) / limit) for x in lists))


async def measure(
    members: int, departments: int, queries: list[SearchQuery], latency: float
) -> tuple[float, int]:
    """Wall time and batchsearch requests of one batch search, after a warm-up call."""
    with wecom_emulator(1, members, departments, latency) as info:
        async with provider_client(info) as client:
            await client.contact.search(info["corp_id"], queries[0].query_word)
            started = time.perf_counter()
            results = await client.contact.batch_search(info["corp_id"], queries,
                                                        concurrency=CONCURRENCY)
            wall = time.perf_counter() - started
            assert len(results) == len(queries)
            return wall, client.stats.requests[BATCH]


def run(quick: bool) -> list[Row]:
    count, members, departments = (1_000, 1_000, 80) if quick else (5_000, 5_000, 300)
    org = Org.generate(1, members, departments)
    words = org.sample_words(10_000, seed=1)
    queries = [SearchQuery(w, query_range=1, limit=LIMIT)
               for w in itertools.islice(itertools.cycle(words), count)]
    pages = [pages_needed(org, q) for q in queries]
    per_round = [sum(1 for p in pages if p > r) for r in range(max(pages))]
    minimum = sum(math.ceil(n / 50) for n in per_round)
    ideal = sum(math.ceil(math.ceil(n / 50) / CONCURRENCY) for n in per_round) * LATENCY
    wall, sent = asyncio.run(measure(members, departments, queries, LATENCY))
    floor, _ = asyncio.run(measure(members, departments, queries, 0.0))
    label = f"batch search {count:,} queries, c={CONCURRENCY}"
    return [
        Row(f"{label}: requests sent", f"{sent}", f"minimum {minimum}", minimum / sent,
            equal(1.0)),
        Row(f"{label}: wall at {LATENCY * 1000:g} ms latency", f"{wall:.2f} s",
            f"ideal {ideal:.2f} s", ideal / wall),
        Row("  the same with no latency: the client's and the emulator's own work",
            f"{floor:.2f} s"),
    ]


if __name__ == "__main__":
    standalone(run, __doc__)
