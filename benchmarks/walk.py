"""Member walk: wall time against the ideal critical path, and against wechatpy.

    python benchmarks/walk.py [--quick]

Walks 20,000 members in 1,000 departments (4,000 in 200 with ``--quick``) served by an
emulator process that answers every request after 20 ms, 32 departments at a time:
- wall time (best of seven walks, after a warm-up walk) vs the ideal critical path
  ``(1 + ceil(departments / concurrency)) x latency``: the sub-tree, then full rounds of
  member lists. The client's quota never binds here (its limiter still runs on every
  request): this measures the client, not the vendor's pacing;
- for information: the same requests sent by a bare aiohttp loop decoding with
  ``json.loads``, and one cold walk (token and connections included) with the client's
  default quotas;
- the same walk with wechatpy (sync, one department after another, as its API allows),
  each member counted once as ours are.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncio
import json
import math
import time
from collections.abc import Iterator
from typing import Any

import aiohttp

from benchmarks._harness import Row, at_least, peer, skipped, standalone, wecom_emulator
from benchmarks.overhead import NO_QUOTA
from wecom_feishu_async import CorpApp, WeComClient

LATENCY, CONCURRENCY, REPEATS = 0.02, 32, 7


def corp_client(info: dict[str, Any], **kwargs: Any) -> WeComClient:
    """A client with the emulator's company-app credential."""
    return WeComClient(corp_app=CorpApp(info["corp_id"], info["corp_secret"]),
                       base_url=info["url"], **kwargs)


async def our_walk(
    info: dict[str, Any], repeats: int, *, warm_up: bool = True, **kwargs: Any
) -> tuple[float, int, int]:
    """Best wall time, members and requests of ``repeats`` walks with one client.

    With ``warm_up``, a first, unmeasured walk opens the connections and fetches the token.
    """
    async with corp_client(info, **kwargs) as client:
        walls = []
        for _ in range(warm_up + repeats):
            started = time.perf_counter()
            walk = client.walk_members(concurrency=CONCURRENCY)
            members = sum([1 async for _ in walk])
            walls.append(time.perf_counter() - started)
        return min(walls[warm_up:]), members, walk.progress.requests


async def bare_walk(info: dict[str, Any], repeats: int) -> float:
    """Best wall time of the same requests with plain aiohttp and ``json.loads``."""
    url = info["url"] + "/cgi-bin/"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
        params = {"corpid": info["corp_id"], "corpsecret": info["corp_secret"]}
        async with session.get(url + "gettoken", params=params) as resp:
            token = json.loads(await resp.read())["access_token"]
        walls = []
        for _ in range(1 + repeats):
            started = time.perf_counter()
            async with session.get(url + "department/simplelist",
                                   params={"access_token": token}) as resp:
                ids = iter(d["id"] for d in json.loads(await resp.read())["department_id"])

            async def worker(ids: Iterator[int]) -> None:
                for department in ids:
                    query = {"access_token": token, "department_id": str(department)}
                    async with session.get(url + "user/list", params=query) as resp:
                        if json.loads(await resp.read()).get("errcode"):
                            raise RuntimeError(f"user/list {department} failed")

            await asyncio.gather(*(worker(ids) for _ in range(CONCURRENCY)))
            walls.append(time.perf_counter() - started)
    return min(walls[1:])


def wechatpy_walk(info: dict[str, Any]) -> tuple[float, int, int] | None:
    """The same walk with wechatpy: the sub-tree, then each department's members in turn
    (None when wechatpy is not installed)."""
    enterprise = peer("wechatpy.enterprise")
    if enterprise is None:
        return None
    client = enterprise.WeChatClient(info["corp_id"], info["corp_secret"])
    # Pointed at the emulator: its API root, and its token endpoint under that root.
    client.API_BASE_URL = info["url"] + "/cgi-bin/"
    client.fetch_access_token = lambda: client._fetch_access_token(
        url=client.API_BASE_URL + "gettoken",
        params={"corpid": info["corp_id"], "corpsecret": info["corp_secret"]})
    client.department.get(1)  # token and first connection
    started = time.perf_counter()
    departments = client.department.get(1)
    seen: set[str] = set()
    for department in departments:
        for member in client.department.get_users(department["id"], simple=False):
            seen.add(member["userid"])
    return time.perf_counter() - started, len(seen), 1 + len(departments)


def run(quick: bool) -> list[Row]:
    members, departments = (4_000, 200) if quick else (20_000, 1_000)
    ideal = (1 + math.ceil(departments / CONCURRENCY)) * LATENCY
    # Two emulators of the same organisation. The first lifts its quota of 10,000 calls a
    # minute per API, which the repeated walks (the bare loop has no limiter) would meet;
    # the second keeps it, fresh for the cold walk and wechatpy.
    with wecom_emulator(1, members, departments, LATENCY, quota=10**9) as info:
        wall, count, requests = asyncio.run(our_walk(info, REPEATS, quotas=NO_QUOTA))
        bare = asyncio.run(bare_walk(info, REPEATS))
    with wecom_emulator(1, members, departments, LATENCY) as info:
        cold, _, _ = asyncio.run(our_walk(info, 1, warm_up=False))
        theirs = wechatpy_walk(info)
    label = f"walk {count:,} members, {departments:,} depts, c={CONCURRENCY}"
    rows = [
        Row(f"{label}: wall at {LATENCY * 1000:g} ms latency", f"{wall:.3f} s ({requests} req)",
            f"ideal critical path {ideal:.3f} s", ideal / wall, at_least(0.8)),
        Row("  bare aiohttp + json.loads, same requests", f"{wall:.3f} s", f"bare {bare:.3f} s",
            bare / wall),
        Row("  one cold walk, default client quotas", f"{cold:.3f} s", f"ideal {ideal:.3f} s",
            ideal / cold),
    ]
    name, target = "  speed-up over wechatpy (sync), same walk", at_least(20)
    if theirs is None:
        return [*rows, skipped(name, target, "x")]
    slow, their_count, their_requests = theirs
    assert count == their_count, (count, their_count)
    return [*rows, Row(name, f"{wall:.3f} s", f"wechatpy {slow:.2f} s ({their_requests} req)",
                       slow / wall, target, spec=".1f", suffix="x")]


if __name__ == "__main__":
    standalone(run, __doc__)
