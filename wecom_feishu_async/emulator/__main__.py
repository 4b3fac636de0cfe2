"""`python -m wecom_feishu_async.emulator`: serve the emulator until interrupted.

Prints one JSON line with the URL and credentials, then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import sys

import msgspec

from .server import Emulator
from .world.chaos import CHAOS_KINDS


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog or "python -m wecom_feishu_async.emulator",
        description="Serve the local WeCom and Feishu emulator over a generated organisation.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--departments", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--quota-per-minute", type=int, default=10_000,
                        help="WeCom calls per minute per corp per API (45009 beyond)")
    parser.add_argument("--feishu-versions", type=int, default=120,
                        help="versions of the Feishu app the credentials name")
    parser.add_argument("--feishu-quota", type=_quota, default=(100, 60.0), metavar="CALLS/SECONDS",
                        help="quota of each Feishu application API per app (default 100/60)")
    chaos = parser.add_argument_group(
        "chaos", "inject a seeded mix of faults (token endpoints exempt unless --chaos-tokens)")
    chaos.add_argument("--chaos", type=_probability, default=0.0, metavar="RATE",
                       help="probability that a request gets a fault, e.g. 0.1")
    chaos.add_argument("--chaos-seed", type=int, default=0, metavar="N")
    chaos.add_argument("--chaos-kinds", type=_kinds, default=None, metavar="KIND,...",
                       help=f"kinds to mix (default all): {','.join(CHAOS_KINDS)}")
    chaos.add_argument("--chaos-tokens", action="store_true",
                       help="give token endpoints faults too")
    chaos.add_argument("--chaos-hold", type=float, default=35.0, metavar="SECONDS",
                       help="how long a held reply waits (default 35, past a 30 s timeout)")
    return parser


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability within [0, 1], got {text!r}")
    return value


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in CHAOS_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"unknown chaos kinds: {', '.join(unknown) or text!r}")
    return kinds


def _quota(text: str) -> tuple[int, float]:
    calls, _, seconds = text.partition("/")
    try:
        return int(calls), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CALLS/SECONDS, got {text!r}") from None


async def _serve(args: argparse.Namespace) -> None:
    emulator = Emulator(
        seed=args.seed,
        members=args.members,
        departments=args.departments,
        latency=args.latency,
        quota_per_minute=args.quota_per_minute,
        host=args.host,
        port=args.port,
        feishu_versions=args.feishu_versions,
        feishu_quota=args.feishu_quota,
    )
    if args.chaos:
        emulator.faults.chaos(args.chaos, seed=args.chaos_seed, kinds=args.chaos_kinds,
                              tokens=args.chaos_tokens, hold=args.chaos_hold)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows: Ctrl-C then arrives as KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    async with emulator:
        creds = emulator.credentials
        line = {
            "url": emulator.url,
            "corp_id": creds.corp_id,
            "corp_secret": creds.corp_secret,
            "provider_corp_id": creds.provider_corp_id,
            "provider_secret": creds.provider_secret,
            "agentid": creds.agentid,
            "feishu": dataclasses.asdict(emulator.feishu.credentials),
            # The same, as the environment variables `wfa` reads.
            "env": {
                "WFA_BASE_URL": emulator.url,
                "WECOM_CORP_ID": creds.corp_id,
                "WECOM_CORP_SECRET": creds.corp_secret,
                "WECOM_PROVIDER_CORP_ID": creds.provider_corp_id,
                "WECOM_PROVIDER_SECRET": creds.provider_secret,
                "WECOM_AGENTID": str(creds.agentid),
                "FEISHU_APP_ID": emulator.feishu.credentials.app_id,
                "FEISHU_APP_SECRET": emulator.feishu.credentials.app_secret,
            },
        }
        if args.chaos:
            line["chaos"] = {"rate": args.chaos, "seed": args.chaos_seed,
                             "kinds": list(args.chaos_kinds or CHAOS_KINDS),
                             "tokens": args.chaos_tokens}
        sys.stdout.write(msgspec.json.encode(line).decode() + "\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run the emulator command; returns the exit status."""
    args = _parser(prog).parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
