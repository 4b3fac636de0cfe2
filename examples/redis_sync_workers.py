"""A bulk sync split across worker processes that share tokens and quotas through Redis.

The parent lists the company's departments once and deals them out round-robin; each
worker process lists the members of its departments and writes them to its own JSONL file;
the parent merges the files, each member once (a member of departments held by different
workers is listed by each). Every process builds its own ``WeComClient`` on one
``RedisTokenStore`` and one ``RedisLimiterBackend``: the token is fetched once for all of
them, and together they keep one quota per API, as one process would.

Run it against an emulator started here (Redis at ``--redis-url``, or one started for the
run with ``--start-redis``), or against WeCom::

    python examples/redis_sync_workers.py --workers 4 --start-redis
    python examples/redis_sync_workers.py --workers 4 --redis-url redis://127.0.0.1:6379/0
    WECOM_CORP_ID=... WECOM_CORP_SECRET=... python examples/redis_sync_workers.py \\
        --base-url https://qyapi.weixin.qq.com --redis-url redis://:password@redis:6379/0

Credentials and the Redis URL (which may hold a password) reach the workers through the
environment (``WECOM_CORP_ID``, ``WECOM_CORP_SECRET``, ``REDIS_URL``), never their command line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import msgspec

from wecom_feishu_async import CorpApp, Member, Quota, WeComClient
from wecom_feishu_async.emulator import Emulator
from wecom_feishu_async.redis import RedisLimiterBackend, RedisTokenStore, RedisUnavailableError
from wecom_feishu_async.wecom import WECOM_DEFAULT_QUOTAS

USER_LIST = "/cgi-bin/user/list"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _client(args: argparse.Namespace, store: RedisTokenStore,
            limits: RedisLimiterBackend) -> WeComClient:
    # --per-minute scales the quota down (all workers together); else WeCom's defaults.
    quotas = [Quota(args.per_minute, 60.0)] if args.per_minute else WECOM_DEFAULT_QUOTAS
    return WeComClient(
        corp_app=CorpApp(os.environ["WECOM_CORP_ID"], os.environ["WECOM_CORP_SECRET"]),
        base_url=args.base_url, quotas=quotas, token_store=store, limiter_backend=limits,
    )


async def worker(args: argparse.Namespace, out: IO[bytes]) -> None:
    """List the members of this worker's departments into its JSONL file; print a summary."""
    departments = [int(d) for d in args.slice.split(",") if d]
    rows = 0
    seen: set[str] = set()
    async with RedisTokenStore(args.redis_url, namespace=args.namespace) as store, \
            RedisLimiterBackend(args.redis_url, namespace=args.namespace) as limits, \
            _client(args, store, limits) as client:
        turn = asyncio.Semaphore(8)

        async def members(department: int) -> list[Member]:
            async with turn:
                return await client.directory.list_members(department)

        for listed in asyncio.as_completed([members(d) for d in departments]):
            for member in await listed:
                rows += 1
                if member.userid not in seen:
                    seen.add(member.userid)
                    out.write(msgspec.json.encode(member) + b"\n")
        fetched = sum(client.stats.token_fetches.values())
    print(json.dumps({"departments": len(departments), "rows": rows, "members": len(seen),
                      "token_fetches": fetched}))


async def _run_workers(args: argparse.Namespace, out: Path) -> list[dict[str, Any]]:
    async with RedisTokenStore(args.redis_url, namespace=args.namespace) as store, \
            RedisLimiterBackend(args.redis_url, namespace=args.namespace) as limits, \
            _client(args, store, limits) as client:
        ids = [d.id for d in await client.directory.list_department_ids()]
    slices = [ids[i::args.workers] for i in range(args.workers)]
    common = [__file__, "--namespace", args.namespace, "--base-url", args.base_url,
              "--per-minute", str(args.per_minute or 0)]
    env = {**os.environ, "REDIS_URL": args.redis_url}  # it may hold a password
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, *common, "--worker", "--out", f"{out}.worker{i}",
            "--slice", ",".join(map(str, part)), stdout=subprocess.PIPE, env=env)
        for i, part in enumerate(slices)
    ]
    outputs = await asyncio.gather(*(p.communicate() for p in procs))
    if any(p.returncode for p in procs):
        raise SystemExit("a worker failed (its error is above)")
    return [json.loads(stdout) for stdout, _ in outputs]


def _merge(out: Path, parts: int) -> int:
    seen: set[str] = set()
    with out.open("wb") as merged:
        for i in range(parts):
            part = Path(f"{out}.worker{i}")
            for line in part.read_bytes().splitlines():
                userid = msgspec.json.decode(line)["userid"]
                if userid not in seen:
                    seen.add(userid)
                    merged.write(line + b"\n")
            part.unlink()
    return len(seen)


def _start_redis() -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("--start-redis needs redis-server on PATH")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.02)
    return proc, f"redis://127.0.0.1:{port}/0"


async def main(args: argparse.Namespace) -> None:
    emulator = None
    redis_server = None
    if args.start_redis:
        redis_server, args.redis_url = _start_redis()
    try:
        if args.base_url is None:
            emulator = Emulator(seed=args.seed, members=args.members,
                                departments=args.departments)
            if args.per_minute:
                emulator.quota_per_minute = args.per_minute
            await emulator.start()
            args.base_url = emulator.url
            os.environ["WECOM_CORP_ID"] = emulator.credentials.corp_id
            os.environ["WECOM_CORP_SECRET"] = emulator.credentials.corp_secret
            # A fresh emulator does not know the tokens of an earlier run: new keys.
            args.namespace = args.namespace or f"wfa-example-{secrets.token_hex(4)}"
        args.namespace = args.namespace or "wfa"
        out = Path(args.out)
        try:
            reports = await _run_workers(args, out)
        except RedisUnavailableError as exc:
            raise SystemExit(f"{exc} (start one, or run with --start-redis)") from None
        members = _merge(out, args.workers)
        print(f"workers: {args.workers}; departments each: "
              f"{'/'.join(str(r['departments']) for r in reports)}")
        print(f"members: {members} unique ({sum(r['rows'] for r in reports)} rows) -> {out}")
        fetches = [r["token_fetches"] for r in reports]
        print(f"token fetches: workers {fetches} (the parent fetched the one they share)")
        if emulator is not None:
            stats = emulator.stats
            print(f"emulator: token requests {sum(stats.token_requests.values())}, "
                  f"{USER_LIST} requests {stats.requests[USER_LIST]}, "
                  f"refused by quota {sum(stats.quota_refused.values())}, "
                  f"busiest minute {stats.busiest_window(USER_LIST, 60.0)}")
    finally:
        if emulator is not None:
            await emulator.close()
        if redis_server is not None:
            redis_server.kill()
            redis_server.wait()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="worker processes")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", DEFAULT_REDIS),
                        help=f"default: $REDIS_URL, else {DEFAULT_REDIS}")
    parser.add_argument("--start-redis", action="store_true",
                        help="start a redis-server on a free port for this run")
    parser.add_argument("--namespace", default=None, help="Redis key prefix (default wfa)")
    parser.add_argument("--base-url", default=None,
                        help="WeCom or an emulator (credentials from WECOM_CORP_ID and "
                             "WECOM_CORP_SECRET); default: an emulator started here")
    parser.add_argument("--per-minute", type=int, default=0,
                        help="requests a minute per API for all workers together "
                             "(default: WeCom's quotas); also set on the emulator")
    parser.add_argument("--out", default="members.jsonl", help="the merged JSONL file")
    parser.add_argument("--seed", type=int, default=1, help="emulator organisation seed")
    parser.add_argument("--members", type=int, default=2000, help="emulator members")
    parser.add_argument("--departments", type=int, default=100, help="emulator departments")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--slice", default="", help=argparse.SUPPRESS)
    return parser


if __name__ == "__main__":
    arguments = _parser().parse_args()
    if arguments.worker:
        with Path(arguments.out).open("wb") as part:
            asyncio.run(worker(arguments, part))
    else:
        asyncio.run(main(arguments))
