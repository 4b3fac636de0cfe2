"""msgspec models of WeCom replies, named as the vendor names the JSON fields.

Optional fields have defaults and unknown fields are ignored, so replies that omit
withheld fields, or carry fields added later, still decode.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "AccessTokenReply",
    "BatchSearchItem",
    "BatchSearchReply",
    "PartyIds",
    "ProviderTokenReply",
    "QueryRequestEcho",
    "QueryResult",
    "SearchPage",
    "UserIds",
    "WeComReply",
]


class WeComReply(msgspec.Struct, kw_only=True):
    """Fields every WeCom reply carries; ``errcode`` absent means success."""

    errcode: int = 0
    errmsg: str = ""


class AccessTokenReply(WeComReply):
    """``GET /cgi-bin/gettoken``."""

    access_token: str
    expires_in: int = 7200

    def __repr__(self) -> str:
        return f"AccessTokenReply(access_token=***, expires_in={self.expires_in})"


class ProviderTokenReply(WeComReply):
    """``POST /cgi-bin/service/get_provider_token`` (no errcode on success)."""

    provider_access_token: str
    expires_in: int = 7200

    def __repr__(self) -> str:
        return f"ProviderTokenReply(provider_access_token=***, expires_in={self.expires_in})"


class UserIds(msgspec.Struct):
    """Matched members: ``userid`` and ``open_userid`` are parallel lists."""

    userid: list[str] = msgspec.field(default_factory=list)
    open_userid: list[str] = msgspec.field(default_factory=list)


class PartyIds(msgspec.Struct):
    """Matched departments."""

    department_id: list[int] = msgspec.field(default_factory=list)


class QueryResult(msgspec.Struct):
    """Results of one query: active members, departments and departed members."""

    user: UserIds = msgspec.field(default_factory=UserIds)
    party: PartyIds = msgspec.field(default_factory=PartyIds)
    dismiss_user: UserIds = msgspec.field(default_factory=UserIds)


class SearchPage(WeComReply):
    """One page of ``service/contact/search``.

    A page may be short, or empty, while ``is_last`` is false: the server filters each
    page by the app's visible range after choosing it.
    """

    query_result: QueryResult = msgspec.field(default_factory=QueryResult)
    is_last: bool = False
    next_cursor: str = ""


class QueryRequestEcho(msgspec.Struct):
    """The request item a batch result answers, as echoed by the server."""

    query_word: str = ""
    query_type: int = 0
    query_range: int = 0
    limit: int = 0
    full_match_field: int = 0
    cursor: str = ""


class BatchSearchItem(msgspec.Struct):
    """One query's page within ``service/contact/batchsearch``."""

    query_request: QueryRequestEcho = msgspec.field(default_factory=QueryRequestEcho)
    query_result: QueryResult = msgspec.field(default_factory=QueryResult)
    is_last: bool = False
    next_cursor: str = ""


class BatchSearchReply(WeComReply):
    """``service/contact/batchsearch``: one item per request item."""

    query_result_list: list[BatchSearchItem] = msgspec.field(default_factory=list)
