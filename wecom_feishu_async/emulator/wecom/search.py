"""Contact search: matching, paging and cursors, shared by `Org.search` and the search routes.

Paging follows the note in the vendor page that pages may be short: the server walks three
unfiltered match lists (active users, departed users, departments), takes the next `limit`
entries of each (the limit applies to each list separately), and only then drops what lies
outside the app's visible range. A page can therefore be short, or empty, while `is_last` is
false. The lists keep organisation order (members in org order, departments by id).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..world.model import App, Department, Member, SearchTruth

T = TypeVar("T")

QUERY_TYPE_BOTH, QUERY_TYPE_USERS, QUERY_TYPE_DEPARTMENTS = 0, 1, 2
FULL_MATCH_NONE, FULL_MATCH_NAME, FULL_MATCH_ENGLISH_NAME = 0, 1, 2


class InvalidCursor(ValueError):
    """A cursor that this server did not issue for this query."""


@dataclass(frozen=True)
class Query:
    """The parts of a search request that decide the (unfiltered) match lists."""

    word: str
    query_type: int = QUERY_TYPE_BOTH
    query_range: int = 0
    full_match_field: int = FULL_MATCH_NONE


@dataclass(frozen=True)
class Matches:
    """The unfiltered match lists of one query, in page order."""

    active: tuple[Member, ...]
    departed: tuple[Member, ...]
    departments: tuple[Department, ...]


@dataclass(frozen=True)
class Offsets:
    """How far paging has walked into each match list."""

    active: int = 0
    departed: int = 0
    departments: int = 0


def _user_matches(member: Member, word: str, full_match_field: int) -> bool:
    # `word` is already lower-cased; latin text matches case-insensitively.
    if full_match_field == FULL_MATCH_NAME:
        return member.name.lower() == word
    english = member.english_name.lower()
    if full_match_field == FULL_MATCH_ENGLISH_NAME:
        return bool(english) and english == word
    return (
        word in member.name.lower() or word in member.pinyin or (bool(english) and word in english)
    )


def _department_matches(department: Department, word: str, full_match_field: int) -> bool:
    if full_match_field == FULL_MATCH_NAME:
        return department.name.lower() == word
    if full_match_field == FULL_MATCH_ENGLISH_NAME:
        return False  # departments have no English name to match exactly
    return word in department.name.lower() or word in department.pinyin


def match(
    query: Query,
    members: Sequence[Member],
    departed: Sequence[Member],
    departments: Sequence[Department],
) -> Matches:
    """Find the unfiltered match lists of a query."""
    word = query.word.lower()
    fmf = query.full_match_field
    users = query.query_type in (QUERY_TYPE_BOTH, QUERY_TYPE_USERS)
    parties = query.query_type in (QUERY_TYPE_BOTH, QUERY_TYPE_DEPARTMENTS)
    # query_range only matters when users are searched (vendor page).
    with_departed = users and query.query_range == 1
    return Matches(
        active=tuple(m for m in members if _user_matches(m, word, fmf)) if users else (),
        departed=tuple(m for m in departed if _user_matches(m, word, fmf)) if with_departed else (),
        departments=(
            tuple(d for d in departments if _department_matches(d, word, fmf)) if parties else ()
        ),
    )


def _take(
    items: Sequence[T], start: int, limit: int, keep: Callable[[T], bool]
) -> tuple[list[T], int]:
    chunk = items[start : start + limit]
    return [item for item in chunk if keep(item)], min(len(items), start + limit)


def page(
    matches: Matches, offsets: Offsets, limit: int, app: App | None
) -> tuple[SearchTruth, Offsets, bool]:
    """One page: (visible results, offsets for the next page, whether this is the last page)."""

    def member_ok(m: Member) -> bool:
        return app is None or app.sees_member(m)

    def department_ok(d: Department) -> bool:
        return app is None or app.sees_department(d)

    active, a = _take(matches.active, offsets.active, limit, member_ok)
    departed, d = _take(matches.departed, offsets.departed, limit, member_ok)
    parties, p = _take(matches.departments, offsets.departments, limit, department_ok)
    result = SearchTruth(
        userid=[m.userid for m in active],
        open_userid=[m.open_userid for m in active],
        department_id=[x.id for x in parties],
        dismiss_userid=[m.userid for m in departed],
        dismiss_open_userid=[m.open_userid for m in departed],
    )
    is_last = (
        a >= len(matches.active) and d >= len(matches.departed) and p >= len(matches.departments)
    )
    return result, Offsets(a, d, p), is_last


def truth(matches: Matches, app: App | None) -> SearchTruth:
    """All pages of a query concatenated, computed with the same paging code."""
    everything = max(len(matches.active), len(matches.departed), len(matches.departments), 1)
    result, _, _ = page(matches, Offsets(), everything, app)
    return result


def _checksum(query: Query) -> str:
    key = f"{query.word}\x00{query.query_type}\x00{query.query_range}\x00{query.full_match_field}"
    return f"{zlib.crc32(key.encode()):08x}"


def encode_cursor(query: Query, offsets: Offsets) -> str:
    """An opaque cursor: the three offsets plus a checksum of the query they belong to."""
    raw = f"v1:{offsets.active}:{offsets.departed}:{offsets.departments}:{_checksum(query)}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(query: Query, cursor: str) -> Offsets:
    """Offsets from a cursor issued for this query; raises InvalidCursor otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(cursor) from exc
    parts = raw.split(":")
    if len(parts) != 5 or parts[0] != "v1" or parts[4] != _checksum(query):
        raise InvalidCursor(cursor)
    if not all(p.isascii() and p.isdigit() for p in parts[1:4]):
        raise InvalidCursor(cursor)
    return Offsets(int(parts[1]), int(parts[2]), int(parts[3]))
