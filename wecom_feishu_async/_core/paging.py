"""Cursor paging shared by every paged endpoint."""

from __future__ import annotations

import logging

from .errors import DecodeError

logger = logging.getLogger("wecom_feishu_async")

__all__ = ["Cursor"]


class Cursor:
    """Where one listing's paging stands; always ends, never loops.

    It ends on the last page. When the server says there is more but gives an empty or
    an already-seen cursor, it either stops with a warning (``strict=False``: the
    endpoint's own documented end) or raises ``DecodeError`` (``strict=True``: stopping
    would pass a cut-short listing off as complete).
    """

    __slots__ = ("done", "seen", "strict", "value")

    def __init__(self, start: str | None, *, strict: bool = False) -> None:
        self.value = start or ""
        self.seen = {self.value}
        self.done = False
        self.strict = strict

    def advance(self, is_last: bool, next_cursor: str, path: str) -> None:
        """Move to ``next_cursor``, or mark the listing done."""
        if is_last:
            self.done = True
        elif not next_cursor or next_cursor in self.seen:
            problem = "missing" if not next_cursor else "repeated"
            if self.strict:
                raise DecodeError(path, f"more pages announced but the cursor is {problem}")
            logger.warning("%s: more pages announced but the cursor is %s; stopping", path,
                           problem)
            self.done = True
        else:
            self.value = next_cursor
            self.seen.add(next_cursor)
