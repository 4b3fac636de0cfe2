"""``wfa demo``: a whole sync against the embedded emulator, with progress and a summary."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from .._core.credentials import CorpApp, Provider
from .._core.errors import InputError
from .._core.limits import Quota
from .._core.loop import BaseClient
from .._core.retry import RetryPolicy
from ..emulator import Emulator, Fault
from ..feishu import FeishuApp, FeishuClient
from ..feishu.application import CONTACTS_RANGE_SUGGEST
from ..wecom import WeComClient
from ..wecom.contact import BATCH_SEARCH_PATH
from ..wecom.directory import USER_LIST
from ._commands import poll, range_counts, result_counts
from ._sink import MemberSink
from ._ui import Bar, Output

__all__ = ["add_demo"]

FEISHU_QUOTA = 100  # the application APIs' 100 calls a minute, per app
DEMO_FAULTS = ("busy", "http_error", "freq_burst", "concurrency_burst", "reset", "truncate")


def add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """``wfa demo``."""
    demo = commands.add_parser(
        "demo", parents=[common], help="a whole sync against the embedded emulator",
        description="Start the emulator in this process with a generated organisation, then "
        "at once: batch-search a few hundred names, walk every member to a JSON lines file, "
        "and read the suggested contacts range of every version of a Feishu app. Ends with "
        "a summary, checked against the emulator's ground truth.")
    demo.add_argument("--members", type=int, default=5000, help="members in the org (5000)")
    demo.add_argument("--departments", type=int, help="departments (default: members / 25)")
    demo.add_argument("--queries", type=int, default=300, help="names to batch-search (300)")
    demo.add_argument("--versions", type=int, default=60, help="Feishu app versions (60)")
    demo.add_argument("--latency", type=float, default=0.02,
                      help="seconds the emulator takes per request (0.02)")
    demo.add_argument("--faults", type=float, default=0.0, metavar="RATE",
                      help="share of requests given a fault (busy codes, HTTP 5xx, rate-limit "
                      "bursts, resets, truncated replies, revoked tokens), e.g. 0.05; the "
                      "client rides them out")
    demo.add_argument("--feishu-window", type=float, default=3.0, metavar="SECONDS",
                      help="Feishu's 100-a-minute quota, compressed to 100 per SECONDS on "
                      "both sides so the demo stays short (3)")
    demo.add_argument("--concurrency", type=int, default=16, help="walk requests at once (16)")
    demo.add_argument("--seed", type=int, default=1, help="organisation seed (1)")
    demo.add_argument("--out", default="wfa-demo-members.jsonl", metavar="FILE",
                      help="where the walk writes members (.jsonl or .csv)")
    demo.set_defaults(handler=_demo)


@dataclass
class _Phase:
    name: str
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    matches: bool = False


async def _demo(args: argparse.Namespace, _settings: object, out: Output) -> int:
    minimums = (("--members", args.members, 1), ("--versions", args.versions, 1),
                ("--queries", args.queries, 0), ("--concurrency", args.concurrency, 1))
    for name, value, low in minimums:
        if value < low:
            raise InputError(name, f"must be at least {low}, got {value}")
    if not 0 <= args.faults < 1 or args.latency < 0 or args.feishu_window <= 0:
        raise InputError("--faults/--latency/--feishu-window",
                         "faults must be within [0, 1), latency >= 0, the window > 0")
    departments = args.departments or max(args.members // 25, 5)
    started = time.perf_counter()
    emulator = Emulator(seed=args.seed, members=args.members, departments=departments,
                        latency=args.latency, feishu_versions=args.versions,
                        feishu_quota=(FEISHU_QUOTA, args.feishu_window))
    if args.faults:
        # The chaos a client should ride out within a short demo: no held replies (each costs
        # a whole timeout), no departments deleted mid-walk (the ground truth would move), and
        # one revoked token rather than a share of them (a call refreshes its token once).
        emulator.faults.chaos(args.faults, seed=args.seed, kinds=DEMO_FAULTS)
        emulator.faults.script(USER_LIST, [Fault.expire_token()])
    # Short waits: the emulator's rate-limit bursts are a few requests long, not a minute.
    retry = RetryPolicy(max_retries=5, base_delay=0.05, max_delay=1.0, rate_limit_delay=0.1)
    async with emulator:
        creds = emulator.credentials
        feishu = emulator.feishu.credentials
        wecom = WeComClient(corp_app=CorpApp(creds.corp_id, creds.corp_secret),
                            provider=Provider(creds.provider_corp_id, creds.provider_secret),
                            base_url=emulator.url, retry=retry)
        window = args.feishu_window
        lark = FeishuClient(FeishuApp(feishu.app_id, feishu.app_secret), base_url=emulator.url,
                            retry=retry, quotas=[Quota(FEISHU_QUOTA, window, slack=window / 120)])
        out.note(f"emulator on {emulator.url}: {args.members:,} members in {departments:,} "
                 f"departments, {args.latency * 1000:.0f} ms a request"
                 + (f", {args.faults:.0%} faults" if args.faults else ""))
        async with wecom, lark:
            with out.progress() as bars:
                phases = await asyncio.gather(
                    _search(emulator, wecom, args, bars.bar("batch search")),
                    _walk(emulator, wecom, args, bars.bar("walk members")),
                    _ranges(emulator, lark, bars.bar("feishu contacts ranges")),
                )
        wall = time.perf_counter() - started
        _summary(out, phases, [wecom, lark], wall, args)
    return 0 if all(p.matches for p in phases) else 1


async def _search(emulator: Emulator, client: WeComClient, args: argparse.Namespace,
                  bar: Bar) -> _Phase:
    phase = _Phase("batch search")
    corp = emulator.credentials.corp_id
    words = emulator.org.sample_words(args.queries, seed=args.seed)
    began = time.perf_counter()
    async with poll(bar, lambda: (client.stats.requests[BATCH_SEARCH_PATH], None, "requests")):
        results = await client.contact.batch_search(corp, words)
    phase.seconds = time.perf_counter() - began
    found = Counter[str]()
    for result in results:
        users, parties, departed = result_counts(result)
        found.update(members=users, departments=parties, departed=departed)
    phase.figures = {"queries": len(words), "member hits": found["members"],
                     "department hits": found["departments"]}
    phase.matches = all(
        r.user.userid == t.userid and r.party.department_id == t.department_id
        for r, t in zip(results, (emulator.org.search(w) for w in words), strict=True)
    )
    return phase


async def _walk(emulator: Emulator, client: WeComClient, args: argparse.Namespace,
                bar: Bar) -> _Phase:
    phase = _Phase("walk members")
    path = Path(args.out)
    began = time.perf_counter()
    seen: set[str] = set()
    walk = client.walk_members(concurrency=args.concurrency)
    with MemberSink(path) as sink:
        async with walk:
            async for member in walk:
                sink.write(member)
                seen.add(member.userid)
                progress = walk.progress
                bar.update(progress.departments_done, progress.departments_total,
                           f"{progress.members:,} members")
    phase.seconds = time.perf_counter() - began
    truth = {m.userid for m in emulator.org.visible_members()}
    phase.figures = {"departments": walk.progress.departments_total,
                     "members written": sink.members, "file": str(path)}
    phase.matches = seen == truth and sink.members == len(truth)
    return phase


async def _ranges(emulator: Emulator, client: FeishuClient, bar: Bar) -> _Phase:
    phase = _Phase("feishu contacts ranges")
    app_id = emulator.feishu.credentials.app_id
    began = time.perf_counter()
    total = len(emulator.feishu.suggested(app_id))
    async with poll(bar, lambda: (client.stats.requests[CONTACTS_RANGE_SUGGEST], total,
                                  "versions")):
        ranges = await client.application.contacts_range_suggest_all(app_id)
    phase.seconds = time.perf_counter() - began
    changed = [r for r in ranges.values() if r is not None]
    phase.figures = {"versions": len(ranges), "with a suggested range": len(changed),
                     "members named": sum(range_counts(r)[1] for r in changed)}
    truth = emulator.feishu.suggested(app_id)
    got = {k: None if v is None else msgspec.to_builtins(v) for k, v in ranges.items()}
    phase.matches = got == truth
    return phase


def _summary(out: Output, phases: Sequence[_Phase], clients: Sequence[BaseClient], wall: float,
             args: argparse.Namespace) -> None:
    requests = Counter[str]()
    retries = Counter[str]()
    tokens = Counter[str]()
    for client in clients:
        requests.update(client.stats.requests)
        retries.update(client.stats.retries)
        tokens.update(client.stats.token_fetches)
    sent = sum(requests.values())
    members = next(p.figures["members written"] for p in phases if p.name == "walk members")
    if out.json:
        out.emit({
            "phases": [{"name": p.name, "seconds": round(p.seconds, 3),
                        "matches_ground_truth": p.matches, **p.figures} for p in phases],
            "requests": dict(requests), "retries": dict(retries), "tokens": dict(tokens),
            "wall_seconds": round(wall, 3), "requests_per_second": round(sent / wall, 1),
        })
        return
    out.table("Requests per endpoint", ("vendor", "endpoint", "requests", "retries"),
              [[*_short(path), n, retries[path]] for path, n in sorted(requests.items())],
              grouped=True)
    out.table("What the sync did", ("phase", "result", "seconds", "ground truth"),
              [[p.name, ", ".join(f"{k} {_fmt(v)}" for k, v in p.figures.items()),
                p.seconds, "matches" if p.matches else "MISMATCH"] for p in phases],
              grouped=True)
    out.table("Totals", ("figure", "value"), [
        ["requests sent", sent],
        ["retries", sum(retries.values())],
        ["tokens fetched", ", ".join(f"{k} {v}" for k, v in sorted(tokens.items()))],
        ["members written", members],
        ["wall time (s)", wall],
        ["requests per second", sent / wall],
        ["members per second", members / wall],
    ], grouped=True)
    out.note(f"members are in {args.out}; try `wfa emulator serve` and the `wfa wecom` / "
             "`wfa feishu` commands next")


def _short(path: str) -> tuple[str, str]:
    """Vendor and a short name of an endpoint path, for the summary."""
    if path.startswith("/open-apis/"):
        name = path.removeprefix("/open-apis/").replace("v6/applications/:app_id/", "")
        return "feishu", name
    return "wecom", path.removeprefix("/cgi-bin/")


def _fmt(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)
