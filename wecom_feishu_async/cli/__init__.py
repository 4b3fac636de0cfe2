"""The ``wfa`` command line (also ``python -m wecom_feishu_async``).

Exit status: 0 success, 1 an API or network error, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import traceback
from collections.abc import Sequence
from typing import IO

from .._core.errors import APIError, ConfigurationError, InputError, WFAError
from ._clients import shared_state
from ._commands import add_feishu, add_wecom
from ._config import ENVIRONMENT, Settings, load_settings
from ._demo import add_demo
from ._ui import Output

__all__ = ["main"]

EXIT_OK, EXIT_API, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    options = common.add_argument_group("common options")
    options.add_argument("--json", action="store_true",
                         help="machine-readable output: one JSON document, or JSON lines")
    options.add_argument("--config", metavar="FILE", help="TOML settings file (or WFA_CONFIG)")
    options.add_argument("--base-url", metavar="URL",
                         help="API root for both vendors: the emulator's or a proxy's "
                         "(or WFA_BASE_URL)")
    options.add_argument("--redis-url", metavar="URL",
                         help="share tokens and quotas with other processes through Redis "
                         "(or WFA_REDIS_URL; needs the redis extra)")
    options.add_argument("--no-progress", action="store_true", help="no progress bars")
    options.add_argument("--debug", action="store_true",
                         help="log requests (paths only) and show tracebacks")

    parser = argparse.ArgumentParser(
        prog="wfa",
        description="WeCom and Feishu contact directories from the command line.",
        epilog="Settings come from flags, then environment variables ("
        + ", ".join(ENVIRONMENT) + ", WFA_BASE_URL), then --config FILE.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_demo(commands, common)
    add_wecom(commands, common)
    add_feishu(commands, common)
    emulator = commands.add_parser("emulator", help="the local WeCom and Feishu emulator",
                                   description="The local WeCom and Feishu emulator.")
    emulator_commands = emulator.add_subparsers(dest="action", required=True, metavar="ACTION")
    emulator_commands.add_parser(
        "serve", add_help=False, help="serve it until interrupted (see: serve --help)",
        description="Serve the emulator; prints one JSON line with the URL and credentials.",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: IO[str] | None = None,
         stderr: IO[str] | None = None) -> int:
    """Run ``wfa`` with ``argv``; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:2] == ["emulator", "serve"]:
        # The emulator's own parser is the single definition of its options.
        from ..emulator.__main__ import main as serve

        try:
            return serve(args_list[2:], prog="wfa emulator serve")
        except SystemExit as exc:  # --help (0) or a usage error (2)
            return int(exc.code or 0)
    err = stderr or sys.stderr
    try:
        args = _parser().parse_args(args_list)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    out = Output(json=args.json, stdout=stdout, stderr=err,
                 progress=False if args.no_progress else None)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, stream=err,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = load_settings(config=args.config, base_url=args.base_url,
                                 redis_url=args.redis_url)
        return asyncio.run(_run(args, settings, out))
    except (InputError, ConfigurationError) as exc:
        return _fail(err, args.debug, EXIT_USAGE, str(exc))
    except APIError as exc:
        return _fail(err, args.debug, EXIT_API,
                     f"{type(exc).__name__} ({exc.vendor} code {exc.code}): {exc}")
    except WFAError as exc:
        return _fail(err, args.debug, EXIT_API, f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        err.write("wfa: interrupted\n")
        return 130


async def _run(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    async with shared_state():
        status: int = await args.handler(args, settings, out)
        return status


def _fail(err: IO[str], debug: bool, status: int, message: str) -> int:
    if debug:
        traceback.print_exc(file=err)
    err.write(f"wfa: error: {message}\n")
    return status
