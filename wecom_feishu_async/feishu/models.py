"""msgspec models of Feishu replies, named as the vendor names the JSON fields.

Every reply is ``{code, msg, data}``; ``FeishuResponse[D]`` is that envelope around the
``data`` type ``D``. Optional fields have defaults and unknown fields are ignored.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, Generic, TypeVar

import msgspec

__all__ = [
    "AppAccessTokenReply",
    "AppI18nInfo",
    "AppScope",
    "AppVersion",
    "AppVersionData",
    "AppVersionEvent",
    "AppVersionPage",
    "AppVersionRemark",
    "AppVersionStatus",
    "AppVisibility",
    "ContactsRange",
    "ContactsRangeData",
    "ContactsRangePage",
    "ContactsRangeSuggestReply",
    "FeishuErrorInfo",
    "FeishuReply",
    "FeishuResponse",
    "TenantAccessTokenReply",
    "TokenLifetime",
    "VisibleList",
]

D = TypeVar("D")

TokenLifetime = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
"""Seconds a token lives (at most 7200); anything outside 0..2**31-1 is malformed."""


class FeishuReply(msgspec.Struct, kw_only=True):
    """Fields every Feishu reply carries; ``code`` 0 is success."""

    code: int = 0
    msg: str = ""


class FeishuResponse(FeishuReply, Generic[D], kw_only=True):
    """A business API reply: the envelope and its ``data``."""

    data: D


class FieldViolation(msgspec.Struct):
    """A request field the server rejected."""

    field: str = ""
    value: str = ""
    description: str = ""


class PermissionViolation(msgspec.Struct):
    """A scope the app lacks (the docs disagree on the field names; all are kept)."""

    type: str = ""
    subject: str = ""
    description: str = ""


class FeishuErrorInfo(msgspec.Struct):
    """The ``error`` object of a failed business call."""

    log_id: str = ""
    troubleshooter: str = ""
    message: str = ""
    field_violations: list[FieldViolation] = msgspec.field(default_factory=list)
    permission_violations: list[PermissionViolation] = msgspec.field(default_factory=list)


class ErrorReply(FeishuReply, kw_only=True):
    """A failure reply: the envelope and, on business APIs, ``error``."""

    error: FeishuErrorInfo = msgspec.field(default_factory=FeishuErrorInfo)


class TenantAccessTokenReply(FeishuReply, kw_only=True):
    """``auth/v3/tenant_access_token[/internal]``; ``expire`` is the remaining lifetime."""

    tenant_access_token: str
    expire: TokenLifetime = 7200

    def __repr__(self) -> str:
        return f"TenantAccessTokenReply(tenant_access_token=***, expire={self.expire})"


class AppAccessTokenReply(FeishuReply, kw_only=True):
    """``auth/v3/app_access_token`` (store apps)."""

    app_access_token: str
    expire: TokenLifetime = 7200

    def __repr__(self) -> str:
        return f"AppAccessTokenReply(app_access_token=***, expire={self.expire})"


class VisibleList(msgspec.Struct):
    """Members, departments and user groups, with ids of the requested id types.

    ``open_ids`` holds ids of the requested ``user_id_type`` despite its name.
    """

    open_ids: list[str] = msgspec.field(default_factory=list)
    department_ids: list[str] = msgspec.field(default_factory=list)
    group_ids: list[str] = msgspec.field(default_factory=list)


class ContactsRange(msgspec.Struct):
    """A contacts range and its scope type.

    ``contacts_scope_type`` is ``some`` (the members, departments and groups of
    ``visible_list``), ``all``, or ``equal_to_availability`` (whoever may use the app).
    """

    contacts_scope_type: str = ""
    visible_list: VisibleList = msgspec.field(default_factory=VisibleList)

    def is_empty(self) -> bool:
        """Whether the range says nothing: no scope type and no ids."""
        lists = self.visible_list
        return not (
            self.contacts_scope_type or lists.open_ids or lists.department_ids or lists.group_ids
        )


class ContactsRangeData(msgspec.Struct):
    """``data`` of ``contacts_range_suggest``: empty when the version kept the range."""

    contacts_range: ContactsRange | None = None


class ContactsRangeSuggestReply(FeishuReply, kw_only=True):
    """``contacts_range_suggest``: ``data`` is empty when the version kept the range.

    UNCERTAIN: how "empty" looks on the wire; an absent or null ``data``, ``{}`` and an
    empty ``contacts_range`` are all read as "unchanged".
    """

    data: ContactsRangeData | None = None

    def suggested(self) -> ContactsRange | None:
        """The suggested range, or None when the version did not change it."""
        found = self.data.contacts_range if self.data is not None else None
        return None if found is None or found.is_empty() else found


class ContactsRangePage(msgspec.Struct):
    """``data`` of one ``contacts_range_configuration`` page."""

    contacts_range: ContactsRange | None = None
    has_more: bool = False
    page_token: str = ""


class AppVersionStatus(IntEnum):
    """``AppVersion.status``."""

    UNKNOWN = 0
    APPROVED = 1
    REJECTED = 2
    UNDER_REVIEW = 3
    NOT_SUBMITTED = 4


class AppScope(msgspec.Struct):
    """A scope the version asks for; ``level`` 1 normal, 2 advanced, 3 super-sensitive."""

    scope: str = ""
    description: str = ""
    level: int = 0
    token_types: list[str] = msgspec.field(default_factory=list)


class AppI18nInfo(msgspec.Struct):
    """The version's name and description in one language."""

    i18n_key: str = ""
    name: str = ""
    description: str = ""
    help_use: str = ""


class AppVisibility(msgspec.Struct):
    """Who the version is to be available to."""

    is_all: bool = False
    visible_list: VisibleList = msgspec.field(default_factory=VisibleList)
    invisible_list: VisibleList = msgspec.field(default_factory=VisibleList)


class AppVersionRemark(msgspec.Struct):
    """The developer's notes and requested availability of a version."""

    remark: str = ""
    update_remark: str = ""
    visibility: AppVisibility = msgspec.field(default_factory=AppVisibility)


class AppVersionEvent(msgspec.Struct):
    """An event the version subscribes to."""

    event_type: str = ""
    event_name: str = ""
    event_description: str = ""


class AppVersion(msgspec.Struct, kw_only=True):
    """One version of an app (``application.app_version``).

    ``create_time`` and ``publish_time`` are unix seconds as strings, as sent;
    ``ability`` is kept as the raw object.
    """

    app_id: str = ""
    version: str = ""
    version_id: str
    app_name: str = ""
    avatar_url: str = ""
    description: str = ""
    back_home_url: str = ""
    scopes: list[AppScope] = msgspec.field(default_factory=list)
    i18n: list[AppI18nInfo] = msgspec.field(default_factory=list)
    common_categories: list[str] = msgspec.field(default_factory=list)
    events: list[str] = msgspec.field(default_factory=list)
    status: int = 0
    create_time: str = ""
    publish_time: str = ""
    ability: dict[str, Any] = msgspec.field(default_factory=dict)
    remark: AppVersionRemark = msgspec.field(default_factory=AppVersionRemark)
    event_infos: list[AppVersionEvent] = msgspec.field(default_factory=list)


class AppVersionPage(msgspec.Struct):
    """``data`` of one ``app_versions`` page; ``page_token`` only while ``has_more``."""

    items: list[AppVersion] = msgspec.field(default_factory=list)
    page_token: str = ""
    has_more: bool = False


class AppVersionData(msgspec.Struct, kw_only=True):
    """``data`` of ``app_versions/:version_id``."""

    app_version: AppVersion
