"""WeCom contact search (provider token): `service/contact/search` and `.../batchsearch`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from ..pipeline import ApiError, Call, Route
from ..world.model import App, SearchTruth
from ..world.org import Org
from ..world.state import ServerState
from .common import PROVIDER_TOKEN, json_reply, read_object, render_error
from .search import InvalidCursor, Offsets, Query, decode_cursor, encode_cursor, page

SEARCH_PATH = "/cgi-bin/service/contact/search"
BATCH_SEARCH_PATH = "/cgi-bin/service/contact/batchsearch"

MAX_WORD_CHARS = 64  # "最长64个utf8字": counted in characters, not bytes
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
MAX_BATCH = 50
# Fields of a request item echoed back in `query_request` (when present in the request).
ECHO_FIELDS = ("query_word", "query_type", "query_range", "limit", "full_match_field", "cursor")


@dataclass(frozen=True)
class _Item:
    query: Query
    limit: int
    offsets: Offsets
    echo: dict[str, Any]


def _int_field(obj: dict[str, Any], key: str, allowed: range) -> int:
    # Absent or null means 0 (the documented default of every optional integer here).
    value = obj.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise ApiError(40058)
    return value


def _parse_item(obj: object) -> _Item:
    if not isinstance(obj, dict):
        raise ApiError(40058)
    word = obj.get("query_word")
    if not isinstance(word, str) or not word or len(word) > MAX_WORD_CHARS:
        raise ApiError(40058)
    query = Query(
        word,
        query_type=_int_field(obj, "query_type", range(3)),
        query_range=_int_field(obj, "query_range", range(2)),
        full_match_field=_int_field(obj, "full_match_field", range(3)),
    )
    limit = _int_field(obj, "limit", range(MAX_LIMIT + 1)) or DEFAULT_LIMIT
    cursor = obj.get("cursor")
    if cursor is None or cursor == "":
        offsets = Offsets()
    elif not isinstance(cursor, str):
        raise ApiError(40058)
    else:
        try:
            offsets = decode_cursor(query, cursor)
        except InvalidCursor:
            raise ApiError(40058) from None
    return _Item(query, limit, offsets, {k: obj[k] for k in ECHO_FIELDS if k in obj})


def _scope(body: dict[str, Any], org: Org) -> App | None:
    """The app whose visible range filters results (None: no filtering)."""
    corp = body.get("auth_corpid")
    # UNCERTAIN: a missing auth_corpid answers 40058 (required field empty), a foreign one 40013.
    if not isinstance(corp, str) or not corp:
        raise ApiError(40058)
    if corp != org.corp_id:
        raise ApiError(40013)
    agentid = _int_field(body, "agentid", range(2**32))
    if agentid == 0:
        return None
    if agentid not in org.apps:
        raise ApiError(40056)
    return org.apps[agentid]


def _result(truth: SearchTruth) -> dict[str, Any]:
    return {
        "user": {"userid": truth.userid, "open_userid": truth.open_userid},
        "party": {"department_id": truth.department_id},
        "dismiss_user": {"userid": truth.dismiss_userid, "open_userid": truth.dismiss_open_userid},
    }


def _run(org: Org, item: _Item, app: App | None) -> dict[str, Any]:
    found, offsets, is_last = page(org.matches(item.query), item.offsets, item.limit, app)
    return {
        "query_result": _result(found),
        "is_last": is_last,
        "next_cursor": "" if is_last else encode_cursor(item.query, offsets),
    }


async def search(call: Call) -> web.StreamResponse:
    """POST /cgi-bin/service/contact/search: one query, one page."""
    body = await read_object(call.request)
    org = call.state.org
    app = _scope(body, org)
    item = _parse_item(body)
    return json_reply({"errcode": 0, "errmsg": "ok", **_run(org, item, app)})


async def batch_search(call: Call) -> web.StreamResponse:
    """POST /cgi-bin/service/contact/batchsearch: up to 50 queries, one page each, in order.

    UNCERTAIN: one invalid item fails the whole request with 40058 (no per-item errors are
    documented).
    """
    body = await read_object(call.request)
    org = call.state.org
    app = _scope(body, org)
    requests = body.get("query_request_list")
    if not isinstance(requests, list) or not 1 <= len(requests) <= MAX_BATCH:
        raise ApiError(40058)
    items = [_parse_item(obj) for obj in requests]
    results = [{"query_request": item.echo, **_run(org, item, app)} for item in items]
    return json_reply({"errcode": 0, "errmsg": "ok", "query_result_list": results})


def _observe_batch(raw: bytes, state: ServerState) -> None:
    # One entry per batchsearch request received (0 when the body has no list).
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        body = None
    requests = body.get("query_request_list") if isinstance(body, dict) else None
    state.stats.batch_sizes.append(len(requests) if isinstance(requests, list) else 0)


def routes() -> list[Route]:
    """The contact search routes."""
    return [
        Route("POST", SEARCH_PATH, search, render_error, token=PROVIDER_TOKEN),
        Route(
            "POST",
            BATCH_SEARCH_PATH,
            batch_search,
            render_error,
            token=PROVIDER_TOKEN,
            observe=_observe_batch,
        ),
    ]
