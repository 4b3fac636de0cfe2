"""Member walk: speed against the critical path and against wechatpy, and memory while streaming.

    python benchmarks/walk.py            # 20,000 members in 1,000 departments; 200,000 to JSONL
    python benchmarks/walk.py --quick    # a smaller run, under a minute

The emulator runs in its own process and answers every request after ``--latency`` seconds.
Prints, for each figure, the baseline measured in the same run and the ratio:
1. walk wall time (best of ``--repeats``, after a warm-up walk) vs the ideal critical path
   ``(1 + ceil(departments / concurrency)) x latency`` (the sub-tree, then full rounds of
   member lists), with the documented quotas given half their limit as burst; the same
   requests sent by a bare aiohttp loop; and one cold walk (token and connections included)
   with the client's default quotas (bursts of 5,000 a minute and 15,000 an hour);
2. the same walk with wechatpy (sync, one department after another, as its API allows);
3. peak resident memory of a process streaming a whole walk to a JSONL file, for a small and
   a ten times larger organisation, vs the same process that only imports and connects.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
import msgspec
from _harness import print_table
from batch_search import emulator  # a WeCom emulator process of a given size
from wechatpy.enterprise import WeChatClient  # type: ignore[import-untyped]

from wecom_feishu_async import CorpApp, Quota, WeComClient

# The documented quotas (10,000/min, 150,000/h per company per API) with half of each as
# burst: still never more than the limit in any window, and no warm walk is paced.
HALF_BURST = [Quota(10_000, 60.0, burst=5_000), Quota(150_000, 3600.0, burst=75_000)]

Row = tuple[str, str, str, str]


def client_for(info: dict[str, Any], **kwargs: Any) -> WeComClient:
    return WeComClient(corp_app=CorpApp(info["corp_id"], info["corp_secret"]),
                       base_url=info["url"], **kwargs)


async def our_walk(
    info: dict[str, Any], concurrency: int, repeats: int, *, warm_up: bool = True, **kwargs: Any
) -> tuple[float, int, int]:
    """Best wall time, members and requests of ``repeats`` walks with one client.

    With ``warm_up``, a first, unmeasured walk opens the connections and fetches the token.
    """
    async with client_for(info, **kwargs) as client:
        walls = []
        for _ in range(warm_up + repeats):
            started = time.perf_counter()
            walk = client.walk_members(concurrency=concurrency)
            members = sum([1 async for _ in walk])
            walls.append(time.perf_counter() - started)
        return min(walls[warm_up:]), members, walk.progress.requests


async def bare_walk(info: dict[str, Any], concurrency: int, repeats: int) -> float:
    """Best wall time of the same requests with plain aiohttp and ``json.loads``."""
    url = info["url"] + "/cgi-bin/"
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:
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
                        json.loads(await resp.read())

            await asyncio.gather(*(worker(ids) for _ in range(concurrency)))
            walls.append(time.perf_counter() - started)
    return min(walls[1:])


class EmulatedWeChatClient(WeChatClient):  # type: ignore[misc]
    """wechatpy's WeCom client with its base URL and token endpoint on the emulator."""

    def __init__(self, base: str, corp_id: str, secret: str) -> None:
        self.API_BASE_URL = base + "/cgi-bin/"
        super().__init__(corp_id, secret)

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(url=self.API_BASE_URL + "gettoken",
                                        params={"corpid": self.corp_id, "corpsecret": self.secret})


def wechatpy_walk(info: dict[str, Any]) -> tuple[float, int, int]:
    """The same walk with wechatpy: the sub-tree, then each department's members in turn."""
    client = EmulatedWeChatClient(info["url"], info["corp_id"], info["corp_secret"])
    client.department.get(1)  # token and first connection
    started = time.perf_counter()
    departments = client.department.get(1)
    seen: set[str] = set()
    for department in departments:
        for member in client.department.get_users(department["id"], simple=False):
            seen.add(member["userid"])
    return time.perf_counter() - started, len(seen), 1 + len(departments)


def bench_speed(args: argparse.Namespace) -> list[Row]:
    rounds = 1 + math.ceil(args.departments / args.concurrency)
    ideal = rounds * args.latency
    # Two emulators of the same organisation, so that no run meets the emulator's quota
    # (10,000 calls a minute per API) because of the runs before it.
    with emulator(1, args.members, args.departments, args.latency) as info:
        wall, members, requests = asyncio.run(
            our_walk(info, args.concurrency, args.repeats, quotas=HALF_BURST))
        bare = asyncio.run(bare_walk(info, args.concurrency, args.repeats))
    with emulator(1, args.members, args.departments, args.latency) as info:
        paced, _, _ = asyncio.run(our_walk(info, args.concurrency, 1, warm_up=False))
        slow, their_members, their_requests = wechatpy_walk(info)
    assert members == their_members, (members, their_members)
    label = f"walk {members:,} members, {args.departments:,} depts, c={args.concurrency}"
    return [
        (f"{label}: wall", f"{wall:.3f} s ({requests} req)", f"ideal {ideal:.3f} s",
         f"{ideal / wall:.2f}"),
        ("  bare aiohttp + json.loads, same requests", f"{wall:.3f} s", f"bare {bare:.3f} s",
         f"{bare / wall:.2f}"),
        ("  one cold walk, default client quotas", f"{paced:.3f} s", f"ideal {ideal:.3f} s",
         f"{ideal / paced:.2f}"),
        ("  wechatpy (sync), speed-up", f"{wall:.3f} s",
         f"wechatpy {slow:.2f} s ({their_requests} req)", f"{slow / wall:.1f}x"),
    ]


async def stream_to(info: dict[str, Any], out: BinaryIO | None, concurrency: int) -> int:
    """Members written as JSON lines to ``out`` (None: only fetch a token and connect)."""
    async with client_for(info, quotas=HALF_BURST) as client:
        await client.directory.get_department(1)
        if out is None:
            return 0
        encoder = msgspec.json.Encoder()
        count = 0
        async for member in client.walk_members(concurrency=concurrency):
            out.write(encoder.encode(member) + b"\n")
            count += 1
        return count


def child(argv: list[str]) -> None:
    """In a fresh process: stream a walk to a file (or only connect), print members and RSS."""
    info, path, concurrency, walk = json.loads(argv[0]), argv[1], int(argv[2]), argv[3] == "1"
    with open(path, "wb") as out:
        count = asyncio.run(stream_to(info, out if walk else None, concurrency))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"members": count, "peak_mib": peak_kib / 1024}))


def peak(info: dict[str, Any], concurrency: int, walk: bool) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(info), str(Path(tmp, "m.jsonl")),
             str(concurrency), "1" if walk else "0"],
            check=True, capture_output=True, text=True,
        ).stdout
    result = json.loads(out)
    return result["members"], result["peak_mib"]


def bench_memory(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    for members in (args.big // 10, args.big):
        with emulator(2, members, args.departments, 0.0) as info:
            _, baseline = peak(info, args.concurrency, walk=False)
            count, mib = peak(info, args.concurrency, walk=True)
        rows.append((f"stream {count:,} members to JSONL: peak RSS", f"{mib:.0f} MiB",
                     f"connect only {baseline:.0f} MiB", f"+{mib - baseline:.0f} MiB"))
    return rows


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run, under a minute")
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--departments", type=int, default=1_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--big", type=int, default=200_000, help="members of the memory run")
    parser.add_argument("--repeats", type=int, default=3, help="measured walks (best taken)")
    args = parser.parse_args()
    if args.quick:
        args.members, args.departments, args.big = 4_000, 200, 40_000
    rows = bench_speed(args) + bench_memory(args)
    print_table(("figure", "measured", "baseline", "ratio"), rows)


if __name__ == "__main__":
    main()
