"""WeCom (企业微信) server API."""

from ._client import WECOM_BASE_URL, WECOM_DEFAULT_QUOTAS, WeComClient
from .contact import ContactAPI, FullMatchField, QueryRange, QueryType, SearchQuery
from .models import (
    BatchSearchItem,
    BatchSearchReply,
    PartyIds,
    QueryResult,
    SearchPage,
    UserIds,
    WeComReply,
)

__all__ = [
    "WECOM_BASE_URL",
    "WECOM_DEFAULT_QUOTAS",
    "BatchSearchItem",
    "BatchSearchReply",
    "ContactAPI",
    "FullMatchField",
    "PartyIds",
    "QueryRange",
    "QueryResult",
    "QueryType",
    "SearchPage",
    "SearchQuery",
    "UserIds",
    "WeComClient",
    "WeComReply",
]
