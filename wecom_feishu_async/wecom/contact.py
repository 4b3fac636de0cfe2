"""WeCom contact search and batch search (``service/contact/search``, ``batchsearch``).

Doc: https://developer.work.weixin.qq.com/document/path/91844 (provider token).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import TYPE_CHECKING

from .._core import validation as check
from .._core.concurrency import map_concurrent
from .._core.endpoint import Endpoint
from .._core.errors import DecodeError, InputError
from .._core.paging import Cursor
from .models import BatchSearchItem, BatchSearchReply, QueryResult, SearchPage

if TYPE_CHECKING:
    from .._core.loop import BaseClient

__all__ = ["ContactAPI", "FullMatchField", "QueryRange", "QueryType", "SearchQuery"]

logger = logging.getLogger("wecom_feishu_async")

SEARCH_PATH = "/cgi-bin/service/contact/search"
BATCH_SEARCH_PATH = "/cgi-bin/service/contact/batchsearch"

BATCH_SIZE = 50  # the most queries one batchsearch request may carry
QUERY_WORD_MAX = 64  # "64 UTF-8 characters": counted as characters, not bytes
LIMIT_MAX = 200


class QueryType(IntEnum):
    """What a query looks for."""

    ALL = 0
    USER = 1
    DEPARTMENT = 2


class QueryRange(IntEnum):
    """Which members a user query covers (departed: left within the past year)."""

    ACTIVE = 0
    ACTIVE_AND_DEPARTED = 1


class FullMatchField(IntEnum):
    """The field an exact (non-fuzzy) match compares."""

    NAME = 1
    ENGLISH_NAME = 2


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search: the word and its options; ``cursor`` resumes from a previous page."""

    query_word: str
    query_type: QueryType | int = QueryType.ALL
    query_range: QueryRange | int = QueryRange.ACTIVE
    limit: int | None = None
    full_match_field: FullMatchField | int | None = None
    cursor: str | None = None

    def validated(self, prefix: str = "") -> SearchQuery:
        """This query with enums normalised; ``InputError`` naming the field if invalid."""
        return replace(
            self,
            query_word=check.text(prefix + "query_word", self.query_word, max_chars=QUERY_WORD_MAX),
            query_type=check.choice(prefix + "query_type", self.query_type, QueryType),
            query_range=check.choice(prefix + "query_range", self.query_range, QueryRange),
            limit=None
            if self.limit is None
            else check.integer(prefix + "limit", self.limit, low=1, high=LIMIT_MAX),
            full_match_field=None
            if self.full_match_field is None
            else check.choice(prefix + "full_match_field", self.full_match_field, FullMatchField),
            cursor=None if self.cursor is None else check.string(prefix + "cursor", self.cursor),
        )

    def wire(self, cursor: str) -> dict[str, object]:
        """The request item as the API takes it (defaults left out)."""
        item: dict[str, object] = {"query_word": self.query_word}
        if self.query_type:
            item["query_type"] = int(self.query_type)
        if self.query_range:
            item["query_range"] = int(self.query_range)
        if self.limit is not None:
            item["limit"] = self.limit
        if self.full_match_field is not None:
            item["full_match_field"] = int(self.full_match_field)
        if cursor:
            item["cursor"] = cursor
        return item


def _as_query(value: str | SearchQuery, prefix: str) -> SearchQuery:
    """``value`` as a validated query; its fields are named after ``prefix``."""
    if isinstance(value, str):
        value = SearchQuery(value)
    elif not isinstance(value, SearchQuery):
        field = prefix.rstrip(".") or "query"
        raise InputError(field, f"must be a str or SearchQuery, got {type(value).__name__}")
    return value.validated(prefix)


def merge_into(into: QueryResult, page: QueryResult) -> None:
    """Append one page's results to ``into``."""
    into.user.userid.extend(page.user.userid)
    into.user.open_userid.extend(page.user.open_userid)
    into.party.department_id.extend(page.party.department_id)
    into.dismiss_user.userid.extend(page.dismiss_user.userid)
    into.dismiss_user.open_userid.extend(page.dismiss_user.open_userid)


class ContactAPI:
    """Contact search for a service provider (``client.contact``)."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client

    async def search(
        self,
        auth_corpid: str,
        query_word: str,
        *,
        query_type: QueryType | int = QueryType.ALL,
        query_range: QueryRange | int = QueryRange.ACTIVE,
        agentid: int = 0,
        limit: int | None = None,
        full_match_field: FullMatchField | int | None = None,
        cursor: str | None = None,
    ) -> SearchPage:
        """One page of results for ``query_word`` in company ``auth_corpid``.

        Args:
            auth_corpid: the authorising company.
            query_word: a name, its pinyin or an English name (departments: name or
                pinyin); at most 64 characters.
            query_type: members, departments, or both.
            query_range: active members only, or departed ones too.
            agentid: limit results to this app's visible range (0: the whole
                authorised range).
            limit: most results per category on a page, 1..200 (server default 50).
            full_match_field: exact match on this field instead of a fuzzy one.
            cursor: ``next_cursor`` of the previous page.

        Raises:
            InputError: an argument is invalid (nothing is sent).
            APIError: WeCom answered with an error (see the README's table).
        """
        corp = _check_common(auth_corpid, agentid)
        query = SearchQuery(
            query_word, query_type, query_range, limit, full_match_field, cursor
        ).validated()
        return await self._page(corp, agentid, query, query.cursor or "")

    def search_pages(
        self,
        auth_corpid: str,
        query: str | SearchQuery,
        *,
        agentid: int = 0,
    ) -> AsyncIterator[SearchPage]:
        """Every page of one query, in order (arguments are checked at once)."""
        corp = _check_common(auth_corpid, agentid)
        return self._pages(corp, agentid, _as_query(query, ""))

    async def search_all(
        self,
        auth_corpid: str,
        query: str | SearchQuery,
        *,
        agentid: int = 0,
    ) -> QueryResult:
        """All pages of one query merged into one ``QueryResult``."""
        merged = QueryResult()
        async for page in self.search_pages(auth_corpid, query, agentid=agentid):
            merge_into(merged, page.query_result)
        return merged

    async def batch_search(
        self,
        auth_corpid: str,
        queries: Iterable[str | SearchQuery],
        *,
        agentid: int = 0,
        concurrency: int = 8,
    ) -> list[QueryResult]:
        """Run any number of queries through ``batchsearch``; one merged result per query.

        Queries go out in requests of at most 50, ``concurrency`` requests at a time.
        Queries whose page was not the last are sent again with their cursors, in as
        few requests as the 50-per-request rule allows, until every query is done.
        Results are in input order. No queries: an empty list, and nothing is sent.

        Raises:
            InputError: a query or argument is invalid (field named, e.g.
                ``queries[3].limit``); nothing is sent.
            DecodeError: a reply does not account for every query of its request.
            APIError: WeCom answered with an error.
        """
        corp = _check_common(auth_corpid, agentid)
        check.integer("concurrency", concurrency, low=1)
        given = check.items("queries", queries)
        validated = [_as_query(q, f"queries[{i}].") for i, q in enumerate(given)]
        results = [QueryResult() for _ in validated]
        cursors = [Cursor(q.cursor) for q in validated]
        pending = list(range(len(validated)))

        async def send(chunk: Sequence[int]) -> None:
            items = await self._batch(corp, agentid, [(validated[i], cursors[i]) for i in chunk])
            for index, item in zip(chunk, items, strict=True):
                merge_into(results[index], item.query_result)
                cursors[index].advance(item.is_last, item.next_cursor, BATCH_SEARCH_PATH)

        while pending:
            chunks = [pending[i : i + BATCH_SIZE] for i in range(0, len(pending), BATCH_SIZE)]
            await map_concurrent(send, chunks, limit=concurrency)
            pending = [i for i in pending if not cursors[i].done]
        return results

    async def _page(self, corp: str, agentid: int, query: SearchQuery, cursor: str) -> SearchPage:
        body = {"auth_corpid": corp, **query.wire(cursor)}
        if agentid:
            body["agentid"] = agentid
        return await self._client.call(
            Endpoint("POST", SEARCH_PATH, SearchPage, "provider_access_token", body=body,
                     scope=corp)
        )

    async def _pages(
        self, corp: str, agentid: int, query: SearchQuery
    ) -> AsyncIterator[SearchPage]:
        cursor = Cursor(query.cursor)
        while not cursor.done:
            page = await self._page(corp, agentid, query, cursor.value)
            cursor.advance(page.is_last, page.next_cursor, SEARCH_PATH)
            yield page

    async def _batch(
        self, corp: str, agentid: int, chunk: Sequence[tuple[SearchQuery, Cursor]]
    ) -> list[BatchSearchItem]:
        body: dict[str, object] = {
            "auth_corpid": corp,
            "query_request_list": [query.wire(cursor.value) for query, cursor in chunk],
        }
        if agentid:
            body["agentid"] = agentid
        reply = await self._client.call(
            Endpoint("POST", BATCH_SEARCH_PATH, BatchSearchReply, "provider_access_token",
                     body=body, scope=corp)
        )
        return _align([query.query_word for query, _ in chunk], reply.query_result_list)


def _align(words: Sequence[str], items: Sequence[BatchSearchItem]) -> list[BatchSearchItem]:
    """Order batch results like the request items, checking the echoed words.

    Results normally come back in request order; if the echoes say otherwise they are
    matched by query word (in order among equal words). A reply that does not answer
    every query exactly once is an error, never a silently short result.
    """
    if len(items) != len(words):
        raise DecodeError(
            BATCH_SEARCH_PATH, f"{len(items)} results for {len(words)} queries"
        )
    echoed = [item.query_request.query_word for item in items]
    if all(not e or e == w for e, w in zip(echoed, words, strict=True)):
        return list(items)
    by_word: dict[str, list[BatchSearchItem]] = {}
    for item in items:
        by_word.setdefault(item.query_request.query_word, []).append(item)
    aligned = []
    for word in words:
        candidates = by_word.get(word)
        if not candidates:
            raise DecodeError(BATCH_SEARCH_PATH, f"no result echoes the query {word!r}")
        aligned.append(candidates.pop(0))
    return aligned


def _check_common(auth_corpid: object, agentid: object) -> str:
    check.integer("agentid", agentid, low=0, high=check.INT32_MAX)
    return check.text("auth_corpid", auth_corpid)
