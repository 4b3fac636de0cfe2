"""The ``wfa wecom …`` and ``wfa feishu …`` commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec

from .._core.errors import InputError
from ..feishu import ContactsRange
from ..wecom import QueryResult, SearchQuery
from ..wecom.contact import BATCH_SEARCH_PATH
from ._clients import feishu_client, wecom_client
from ._config import Settings
from ._sink import MemberSink
from ._ui import Bar, Output

__all__ = ["add_feishu", "add_wecom", "poll", "range_counts", "result_counts"]

Handler = Callable[[argparse.Namespace, Settings, Output], Any]


def add_wecom(commands: argparse._SubParsersAction[argparse.ArgumentParser],
              common: argparse.ArgumentParser) -> None:
    """``wfa wecom search | batch-search | walk | departments``."""
    wecom = commands.add_parser("wecom", help="WeCom contact search and directory",
                                description="WeCom contact search and directory.")
    sub = wecom.add_subparsers(dest="action", required=True, metavar="ACTION")

    search = sub.add_parser("search", parents=[common], help="search members and departments",
                            description="Search one or more words (every page merged).")
    search.add_argument("words", nargs="+", metavar="WORD")
    _search_scope(search)
    search.set_defaults(handler=_search)

    batch = sub.add_parser(
        "batch-search", parents=[common], help="search many queries from a file",
        description="Queries from FILE ('-': stdin): one word per line, or JSON lines with "
        "query_word and the options query_type, query_range, limit, full_match_field.")
    batch.add_argument("file", metavar="FILE")
    batch.add_argument("--concurrency", type=int, default=8, help="requests at once (8)")
    _search_scope(batch)
    batch.set_defaults(handler=_batch_search)

    walk = sub.add_parser(
        "walk", parents=[common], help="every member of a department tree",
        description="Every member of a department and its sub-departments, each once.")
    walk.add_argument("--department", type=int, default=1, metavar="ID",
                      help="top of the tree (1: the whole company)")
    walk.add_argument("--out", metavar="FILE", help="write to FILE.jsonl or FILE.csv "
                      "(default: stdout, JSON lines with --json, else a table)")
    walk.add_argument("--concurrency", type=int, default=16, help="requests at once (16)")
    walk.add_argument("--skip-forbidden", action="store_true",
                      help="skip departments outside the app's range (60011) or deleted "
                      "meanwhile (60003) and report them, instead of failing")
    walk.add_argument("--simple", action="store_true",
                      help="userid, name and departments only (user/simplelist)")
    walk.set_defaults(handler=_walk)

    departments = sub.add_parser("departments", parents=[common], help="the department tree",
                                 description="The department tree, parents first.")
    departments.add_argument("--department", type=int, default=1, metavar="ID")
    departments.set_defaults(handler=_departments)


def add_feishu(commands: argparse._SubParsersAction[argparse.ArgumentParser],
               common: argparse.ArgumentParser) -> None:
    """``wfa feishu versions | contacts-range``."""
    feishu = commands.add_parser("feishu", help="Feishu app versions and contacts ranges",
                                 description="Feishu app versions and contacts ranges.")
    sub = feishu.add_subparsers(dest="action", required=True, metavar="ACTION")

    versions = sub.add_parser("versions", parents=[common], help="every version of an app",
                              description="Every version of an app, newest first.")
    versions.add_argument("app_id", metavar="APP_ID", help='the app ("me": the calling app)')
    versions.add_argument("--lang", default="zh_cn", choices=("zh_cn", "en_us", "ja_jp"))
    versions.set_defaults(handler=_versions)

    ranges = sub.add_parser(
        "contacts-range", parents=[common], help="the contacts range versions asked for",
        description="The suggested contacts range of one version, or of every version.")
    ranges.add_argument("app_id", metavar="APP_ID")
    which = ranges.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", metavar="ID", help="one version id")
    which.add_argument("--all", action="store_true", help="every version of the app")
    ranges.add_argument("--concurrency", type=int, default=10, help="requests at once (10)")
    ranges.set_defaults(handler=_contacts_range)


def _search_scope(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corp", metavar="CORPID",
                        help="the authorising company (default: WECOM_CORP_ID)")
    parser.add_argument("--agentid", type=int, help="limit to an app's range (WECOM_AGENTID)")


def _scope(args: argparse.Namespace, settings: Settings) -> tuple[str, int]:
    corp = args.corp or settings.wecom_corp_id
    if not corp:
        raise InputError("--corp", "give the authorising company (or set WECOM_CORP_ID)")
    return corp, args.agentid if args.agentid is not None else settings.wecom_agentid


# WeCom ------------------------------------------------------------------------------------


def result_counts(result: QueryResult) -> tuple[int, int, int]:
    """Members, departments and departed members a search found."""
    return len(result.user.userid), len(result.party.department_id), len(result.dismiss_user.userid)


def _result_rows(words: list[str], results: list[QueryResult]) -> list[list[object]]:
    return [
        [word, *result_counts(r), ", ".join(r.user.userid[:5]) + ("…" if len(r.user.userid) > 5
                                                                  else "")]
        for word, r in zip(words, results, strict=True)
    ]


_RESULT_HEADER = ("query", "members", "departments", "departed", "first userids")


async def _search(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    corp, agentid = _scope(args, settings)
    async with wecom_client(settings, provider=True) as client:
        results = [await client.contact.search_all(corp, word, agentid=agentid)
                   for word in args.words]
    _print_results(out, list(args.words), results)
    return 0


def _print_results(out: Output, words: list[str], results: list[QueryResult]) -> None:
    if out.json:
        for word, result in zip(words, results, strict=True):
            out.emit({"query_word": word, **msgspec.to_builtins(result)})
    else:
        out.table("", _RESULT_HEADER, _result_rows(words, results))


def read_queries(source: str) -> list[SearchQuery]:
    """Queries from a file of words or JSON lines ('-': stdin); ``InputError`` names the line."""
    if source == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = Path(source).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError("FILE", f"cannot read {source}: {exc.strerror}") from None
    queries: list[SearchQuery] = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("{"):
            queries.append(SearchQuery(line))
            continue
        try:
            options = msgspec.json.decode(line, type=dict[str, Any])
            queries.append(SearchQuery(**options))
        except (msgspec.DecodeError, TypeError) as exc:
            raise InputError(f"{source}:{number}", f"not a query: {exc}") from None
    return queries


async def _batch_search(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    corp, agentid = _scope(args, settings)
    queries = read_queries(args.file)
    async with wecom_client(settings, provider=True) as client:
        with out.progress() as bars:
            bar = bars.bar("batch search")
            async with poll(bar, lambda: (client.stats.requests[BATCH_SEARCH_PATH], None,
                                          "requests")):
                results = await client.contact.batch_search(
                    corp, queries, agentid=agentid, concurrency=args.concurrency)
    _print_results(out, [q.query_word for q in queries], results)
    return 0


async def _walk(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    async with wecom_client(settings, corp=True, max_in_flight=max(args.concurrency, 1)) \
            as client:
        walk = client.walk_members(
            args.department, concurrency=args.concurrency, simple=args.simple,
            on_unreadable="skip" if args.skip_forbidden else "raise",
        )
        rows: list[list[object]] = []
        to_table = args.out is None and not out.json
        sink = MemberSink(Path(args.out) if args.out else out.stdout)
        with out.progress() as bars, sink:
            bar = bars.bar("walk departments")
            async with walk:
                async for member in walk:
                    if to_table:
                        rows.append([member.userid, member.name,
                                     ",".join(map(str, member.department))])
                    else:
                        sink.write(member)
                    progress = walk.progress
                    bar.update(progress.departments_done, progress.departments_total,
                               f"{progress.members:,} members")
        if to_table:
            out.table("", ("userid", "name", "departments"), rows)
        skipped = walk.skipped
        for department, error in skipped.items():
            out.note(f"skipped department {department}: {error}")
        if args.out:
            out.note(f"{walk.progress.members:,} members written to {args.out}")
    return 0


async def _departments(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    async with wecom_client(settings, corp=True) as client:
        tree = await client.directory.walk_departments(args.department)
    if out.json:
        out.emit(msgspec.to_builtins(tree))
    else:
        out.table("", ("id", "name", "parentid", "order"),
                  [[d.id, d.name, d.parentid, d.order] for d in tree])
    return 0


# Feishu -----------------------------------------------------------------------------------


async def _versions(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    async with feishu_client(settings) as client:
        versions = [v async for v in client.application.app_versions(args.app_id,
                                                                      lang=args.lang)]
    if out.json:
        out.emit(msgspec.to_builtins(versions))
    else:
        out.table("", ("version_id", "version", "status", "create_time", "app_name"),
                  [[v.version_id, v.version, v.status, v.create_time, v.app_name]
                   for v in versions])
    return 0


def range_counts(found: ContactsRange | None) -> tuple[str, int, int, int]:
    """Scope type, members, departments and groups of a suggested range."""
    if found is None:
        return ("unchanged", 0, 0, 0)
    lists = found.visible_list
    return (found.contacts_scope_type, len(lists.open_ids), len(lists.department_ids),
            len(lists.group_ids))


async def _contacts_range(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    async with feishu_client(settings) as client:
        application = client.application
        if args.version:
            ranges = {args.version: await application.contacts_range_suggest(args.app_id,
                                                                            args.version)}
        else:
            ranges = await application.contacts_range_suggest_all(
                args.app_id, concurrency=args.concurrency)
    if out.json:
        out.emit(msgspec.to_builtins(ranges))
    else:
        out.table("", ("version_id", "scope", "members", "departments", "groups"),
                  [[v, *range_counts(r)] for v, r in ranges.items()])
    return 0


# Progress from counters -------------------------------------------------------------------


@contextlib.asynccontextmanager
async def poll(
    bar: Bar, read: Callable[[], tuple[float, float | None, str]], interval: float = 0.1
) -> AsyncIterator[None]:
    """Update ``bar`` from ``read()`` (completed, total, note) while the block runs."""

    async def refresh() -> None:
        while True:
            completed, total, note = read()
            bar.update(completed, total, note)
            await asyncio.sleep(interval)

    task = asyncio.ensure_future(refresh())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        completed, total, note = read()
        bar.update(completed, total if total is not None else completed, note)

