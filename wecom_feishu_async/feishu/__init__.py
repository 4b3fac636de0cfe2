"""Feishu (飞书) / Lark open platform: the application API."""

from ._auth import AppTicket, FeishuApp, FeishuStoreApp
from ._client import FEISHU_BASE_URL, FEISHU_DEFAULT_QUOTAS, LARK_BASE_URL, FeishuClient
from .application import (
    APP_VERSION,
    APP_VERSIONS,
    CONTACTS_RANGE_CONFIGURATION,
    CONTACTS_RANGE_SUGGEST,
    ApplicationAPI,
    DepartmentIdType,
    Lang,
    UserIdType,
    VersionOrder,
)
from .models import (
    AppI18nInfo,
    AppScope,
    AppVersion,
    AppVersionEvent,
    AppVersionRemark,
    AppVersionStatus,
    AppVisibility,
    ContactsRange,
    FeishuReply,
    FeishuResponse,
    VisibleList,
)

__all__ = [
    "APP_VERSION",
    "APP_VERSIONS",
    "CONTACTS_RANGE_CONFIGURATION",
    "CONTACTS_RANGE_SUGGEST",
    "FEISHU_BASE_URL",
    "FEISHU_DEFAULT_QUOTAS",
    "LARK_BASE_URL",
    "AppI18nInfo",
    "AppScope",
    "AppTicket",
    "AppVersion",
    "AppVersionEvent",
    "AppVersionRemark",
    "AppVersionStatus",
    "AppVisibility",
    "ApplicationAPI",
    "ContactsRange",
    "DepartmentIdType",
    "FeishuApp",
    "FeishuClient",
    "FeishuReply",
    "FeishuResponse",
    "FeishuStoreApp",
    "Lang",
    "UserIdType",
    "VersionOrder",
    "VisibleList",
]
