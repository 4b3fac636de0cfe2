"""A queue-worker bulk sync: K workers, one client, every member once in a JSONL file.

The pattern: jobs ("sync department N", as an event-driven worker would receive them, or
the top-level departments of a bulk sync) go into an ``asyncio.Queue``; K worker tasks take
them and stream each department's sub-tree with ``client.walk_members`` into one JSONL
sink. All workers share ONE ``WeComClient``: one connection pool, one cached token
(fetched once however many workers start together), one client-side quota per API, so K
workers can never together exceed WeCom's limits. A member of several departments is
written once, across jobs too.

What is retried, and by whom:

- each request, by the client: connection errors, timeouts, HTTP 5xx, WeCom -1, rate
  limits (bounded by ``RetryPolicy``; a rejected token is refreshed once);
- each job, by the worker, when the client gave up on a transient error (the same
  families): the job is walked again, up to ``max_attempts`` in all, after a short backoff.
  Members it already wrote are not written twice;
- nothing else: a permanent error (no permission, no such department, bad credential) is
  recorded with its vendor code, never dropped silently. Departments inside a sub-tree that
  the app may not read are skipped by the walk and reported too.

SIGINT / SIGTERM: the first stops taking jobs (in-flight ones finish, queued ones are
reported as not started); a second cancels the in-flight walks, which close their requests.
The client is closed and the summary printed either way.

Run it::

    python examples/queue_worker.py --emulator --members 2000 --out /tmp/members.jsonl
    WECOM_CORP_ID=... WECOM_CORP_SECRET=... python examples/queue_worker.py --out m.jsonl
    python examples/queue_worker.py ... --department 12 --department 40   # chosen jobs
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgspec

from wecom_feishu_async import (
    CorpApp,
    HTTPStatusError,
    Member,
    RateLimitedError,
    ServerBusyError,
    SimpleMember,
    TransportError,
    WeComClient,
    WFAError,
)
from wecom_feishu_async.wecom.walk import MemberWalk

logger = logging.getLogger("examples.queue_worker")

# Failures worth a second walk once the client's own retries gave up: the server or the
# network was having a bad moment. Everything else would fail the same way again.
TRANSIENT = (TransportError, ServerBusyError, RateLimitedError, HTTPStatusError)
ROOT = 1


@dataclass(frozen=True)
class Job:
    """Sync one department: its whole sub-tree, or (``subtree=False``) its own members."""

    department_id: int
    subtree: bool = True


@dataclass(frozen=True)
class Failure:
    """A job that failed for good: the error's class, vendor code (if any) and attempts."""

    department_id: int
    error: str
    code: int | None
    attempts: int
    transient: bool


@dataclass
class Summary:
    """What a sync did; ``ok`` when every job ran to the end."""

    jobs: int = 0
    done: list[int] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    not_started: list[int] = field(default_factory=list)
    skipped_departments: dict[int, int] = field(default_factory=dict)
    """Departments inside a sub-tree the app may not read: id -> vendor code."""
    members_written: int = 0
    job_retries: int = 0
    requests: int = 0
    client_retries: int = 0
    tokens_fetched: int = 0

    @property
    def ok(self) -> bool:
        return not (self.failed or self.cancelled or self.not_started)

    def lines(self) -> list[str]:
        """The summary as text for a terminal."""
        out = [
            f"jobs: {self.jobs} ({len(self.done)} done, {len(self.failed)} failed, "
            f"{len(self.cancelled)} cancelled, {len(self.not_started)} not started)",
            f"members written: {self.members_written}",
            f"requests: {self.requests} (client retries {self.client_retries}, "
            f"job retries {self.job_retries}), tokens fetched: {self.tokens_fetched}",
        ]
        out += [f"FAILED department {f.department_id}: {f.error} code={f.code} after "
                f"{f.attempts} attempt(s)" for f in self.failed]
        if self.skipped_departments:
            out.append(f"skipped (unreadable) departments: {self.skipped_departments}")
        return out


class JsonlSink:
    """Writes each member once (by userid), one JSON object a line."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._seen: set[str] = set()
        self._encoder = msgspec.json.Encoder()
        self.written = 0

    def write(self, member: Member | SimpleMember) -> bool:
        """Write ``member`` unless already written; whether it was written."""
        # No await between the check and the add: workers on one loop cannot interleave.
        if member.userid in self._seen:
            return False
        self._seen.add(member.userid)
        self._stream.write(self._encoder.encode(member) + b"\n")
        self.written += 1
        return True


class Worker:
    """Runs jobs against one shared client into one sink, retrying transient failures."""

    def __init__(self, client: WeComClient, sink: JsonlSink, summary: Summary, *,
                 concurrency: int, max_attempts: int, backoff: float, simple: bool) -> None:
        self.client, self.sink, self.summary = client, sink, summary
        self.concurrency, self.max_attempts = concurrency, max_attempts
        self.backoff, self.simple = backoff, simple

    async def consume(self, queue: asyncio.Queue[Job | None], stop: asyncio.Event) -> None:
        """Take jobs until the end-of-jobs marker (None)."""
        while (job := await queue.get()) is not None:
            if stop.is_set():
                self.summary.not_started.append(job.department_id)
                continue
            try:
                await self.run(job)
            except asyncio.CancelledError:
                self.summary.cancelled.append(job.department_id)
                raise

    async def run(self, job: Job) -> None:
        """One job, attempted up to ``max_attempts`` times; the outcome goes to the summary."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                written = await self._walk(job)
            except WFAError as exc:
                transient = isinstance(exc, TRANSIENT)
                if transient and attempt < self.max_attempts:
                    self.summary.job_retries += 1
                    logger.warning("department %d: %s, attempt %d; again soon",
                                   job.department_id, type(exc).__name__, attempt)
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                self.summary.failed.append(Failure(job.department_id, type(exc).__name__,
                                                   getattr(exc, "code", None), attempt,
                                                   transient))
                logger.error("department %d failed: %s", job.department_id, exc)
                return
            self.summary.done.append(job.department_id)
            logger.info("department %d: %d new members", job.department_id, written)
            return

    async def _walk(self, job: Job) -> int:
        top, directory = job.department_id, self.client.directory
        if not job.subtree:
            members: Sequence[Member | SimpleMember] = await (
                directory.list_simple_members(top) if self.simple
                else directory.list_members(top))
            return sum(self.sink.write(m) for m in members)
        walk: MemberWalk[Member] | MemberWalk[SimpleMember] = (
            directory.walk_members(top, concurrency=self.concurrency, simple=True,
                                   on_unreadable="skip") if self.simple
            else directory.walk_members(top, concurrency=self.concurrency,
                                        on_unreadable="skip"))
        written = 0
        async with walk:  # closing cancels its requests in flight, whatever happens
            async for member in walk:
                written += self.sink.write(member)
        for department, error in walk.skipped.items():
            self.summary.skipped_departments[department] = error.code
        return written


async def plan_jobs(client: WeComClient, root: int = ROOT) -> list[Job]:
    """The root's own members, then one job per sub-tree right under it."""
    tree = await client.directory.list_department_ids(root)
    return [Job(root, subtree=False),
            *(Job(d.id) for d in tree if d.parentid == root and d.id != root)]


async def sync_members(
    corp_app: CorpApp,
    out: Path,
    *,
    base_url: str = "https://qyapi.weixin.qq.com",
    departments: Sequence[int] = (),
    workers: int = 4,
    concurrency: int = 8,
    max_attempts: int = 3,
    backoff: float = 1.0,
    simple: bool = False,
    handle_signals: bool = False,
    **client_options: Any,
) -> Summary:
    """Sync members into ``out`` (JSONL): the sub-trees of ``departments``, or everyone.

    ``workers`` tasks share one client; each walk has at most ``concurrency`` requests in
    flight (and the client's ``max_in_flight`` caps them all). ``client_options`` go to
    ``WeComClient`` (retry, timeout, quotas, token_store, ...).
    """
    summary = Summary()
    stop = asyncio.Event()
    queue: asyncio.Queue[Job | None] = asyncio.Queue()
    tasks: list[asyncio.Task[None]] = []
    async with WeComClient(corp_app=corp_app, base_url=base_url, **client_options) as client:
        with out.open("wb") as stream, _signals(handle_signals, stop, tasks):
            jobs = [Job(d) for d in departments] or await plan_jobs(client)
            summary.jobs = len(jobs)
            for job in [*jobs, *[None] * workers]:
                queue.put_nowait(job)
            sink = JsonlSink(stream)
            worker = Worker(client, sink, summary, concurrency=concurrency,
                            max_attempts=max_attempts, backoff=backoff, simple=simple)
            tasks += [asyncio.ensure_future(worker.consume(queue, stop)) for _ in range(workers)]
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            while not queue.empty():  # jobs left behind by cancelled workers
                if (job := queue.get_nowait()) is not None:
                    summary.not_started.append(job.department_id)
            summary.members_written = sink.written
        stats = client.stats
        summary.requests = sum(stats.requests.values())
        summary.client_retries = sum(stats.retries.values())
        summary.tokens_fetched = sum(stats.token_fetches.values())
    for outcome in outcomes:  # a bug in a worker, not an API failure: surface it
        if isinstance(outcome, BaseException) and not isinstance(outcome,
                                                                 asyncio.CancelledError):
            raise outcome
    return summary


@contextlib.contextmanager
def _signals(
    enabled: bool, stop: asyncio.Event, tasks: list[asyncio.Task[None]]
) -> Iterator[None]:
    """First SIGINT/SIGTERM: take no more jobs. Second: cancel the jobs in flight."""
    if not enabled:
        yield
        return
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if not stop.is_set():
            stop.set()
            logger.warning("stopping: finishing jobs in flight (signal again to cancel them)")
        else:
            logger.warning("cancelling jobs in flight")
            for task in tasks:
                task.cancel()

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(signum, on_signal)
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def _run(args: argparse.Namespace) -> int:
    options = {"departments": args.department, "workers": args.workers,
               "concurrency": args.concurrency, "simple": args.simple, "handle_signals": True}
    if not args.emulator:
        corp_id, secret = os.environ.get("WECOM_CORP_ID"), os.environ.get("WECOM_CORP_SECRET")
        if not corp_id or not secret:
            print("set WECOM_CORP_ID and WECOM_CORP_SECRET (or use --emulator)", file=sys.stderr)
            return 2
        base_url = os.environ.get("WECOM_BASE_URL") or "https://qyapi.weixin.qq.com"
        summary = await sync_members(CorpApp(corp_id, secret), args.out, base_url=base_url,
                                     **options)
        print("\n".join(summary.lines()))
        return 0 if summary.ok else 1

    from wecom_feishu_async.emulator import Emulator, Fault

    async with Emulator(seed=args.seed, members=args.members, departments=args.departments,
                        latency=args.latency) as emu:
        if args.fault_rate:
            emu.faults.rate(args.fault_rate, [Fault.errcode(-1), Fault.http(502)])
        creds = emu.credentials
        summary = await sync_members(CorpApp(creds.corp_id, creds.corp_secret), args.out,
                                     base_url=emu.url, backoff=0.05, **options)
        tops = args.department or [ROOT]
        truth = {m.userid for top in tops for m in emu.org.visible_members(top)}
    print("\n".join(summary.lines()))
    with args.out.open("rb") as written:
        userids = [msgspec.json.decode(line)["userid"] for line in written]
    once, same = len(userids) == len(set(userids)), set(userids) == truth
    print(f"ground truth: {len(truth)} visible members; file: {len(userids)} lines, "
          f"each member once: {'yes' if once else 'NO'}, "
          f"equal to the truth: {'yes' if same else 'no'}")
    same = same and once
    return 0 if summary.ok and same else 1


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the sync, print the summary; exit 0 when every job finished."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--out", type=Path, default=Path("members.jsonl"))
    parser.add_argument("--department", type=int, action="append", default=[],
                        help="sync this department's sub-tree (repeatable; default: everyone)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per job")
    parser.add_argument("--simple", action="store_true", help="userid, name, departments only")
    emulated = parser.add_argument_group("emulator")
    emulated.add_argument("--emulator", action="store_true", help="sync an in-process emulator")
    emulated.add_argument("--members", type=int, default=2000)
    emulated.add_argument("--departments", type=int, default=100)
    emulated.add_argument("--seed", type=int, default=1)
    emulated.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    emulated.add_argument("--fault-rate", type=float, default=0.0,
                          help="share of requests answering -1 or HTTP 502")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_run(args))
    except WFAError as exc:  # before any job ran: the credential, the network, the tree
        print(f"sync failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
