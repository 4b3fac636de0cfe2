"""Feishu application API v6: app versions, their suggested contacts ranges, the live range.

Docs (open.feishu.cn/document/server-docs/application-v6/...): ``application-app_version/list``,
``application-app_version/get``, ``application/contacts_range_suggest``,
``application/contacts_range_configuration``. Tenant access token; 100 calls a minute per
app per tenant per API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from enum import IntEnum
from typing import TYPE_CHECKING, Literal, TypeVar, get_args
from urllib.parse import quote

from .._core import validation as check
from .._core.concurrency import map_concurrent
from .._core.endpoint import Endpoint
from .._core.errors import InputError
from .._core.paging import Cursor
from .models import (
    AppVersion,
    AppVersionData,
    AppVersionPage,
    ContactsRange,
    ContactsRangePage,
    ContactsRangeSuggestReply,
    FeishuResponse,
)

if TYPE_CHECKING:
    from .._core.loop import BaseClient

__all__ = [
    "APP_VERSION",
    "APP_VERSIONS",
    "CONTACTS_RANGE_CONFIGURATION",
    "CONTACTS_RANGE_SUGGEST",
    "ApplicationAPI",
    "DepartmentIdType",
    "Lang",
    "UserIdType",
    "VersionOrder",
]

# Path templates; each also names the API's quota bucket, so every version's
# contacts_range_suggest shares one 100-a-minute quota.
APPLICATION = "/open-apis/application/v6/applications/:app_id"
APP_VERSIONS = APPLICATION + "/app_versions"
APP_VERSION = APP_VERSIONS + "/:version_id"
CONTACTS_RANGE_SUGGEST = APP_VERSION + "/contacts_range_suggest"
CONTACTS_RANGE_CONFIGURATION = APPLICATION + "/contacts_range_configuration"

VERSIONS_PAGE_MAX = 50
RANGE_PAGE_MAX = 100

Lang = Literal["zh_cn", "en_us", "ja_jp"]
UserIdType = Literal["open_id", "union_id", "user_id"]
DepartmentIdType = Literal["department_id", "open_department_id"]

P = TypeVar("P", AppVersionPage, ContactsRangePage)


class VersionOrder(IntEnum):
    """The order ``app_versions`` lists versions in."""

    NEWEST_FIRST = 0
    OLDEST_FIRST = 1


def _one_of(field: str, value: object, allowed: object) -> str:
    options: tuple[str, ...] = get_args(allowed)
    if not isinstance(value, str) or value not in options:
        raise InputError(field, f"must be one of {', '.join(options)}, got {value!r}")
    return value


def _id_params(user_id_type: object, department_id_type: object = None) -> dict[str, str]:
    params = {}
    if user_id_type is not None:
        params["user_id_type"] = _one_of("user_id_type", user_id_type, UserIdType)
    if department_id_type is not None:
        params["department_id_type"] = _one_of(
            "department_id_type", department_id_type, DepartmentIdType
        )
    return params


def _path(template: str, app_id: str, version_id: str = "") -> str:
    path = template.replace(":app_id", quote(app_id, safe=""))
    return path.replace(":version_id", quote(version_id, safe=""))


class ApplicationAPI:
    """Feishu application API (``client.application``)."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client

    def app_versions(
        self,
        app_id: str,
        *,
        lang: Lang,
        page_size: int = VERSIONS_PAGE_MAX,
        order: VersionOrder | int = VersionOrder.NEWEST_FIRST,
        user_id_type: UserIdType | None = None,
    ) -> AsyncIterator[AppVersion]:
        """Every version of an app, page after page (arguments are checked at once).

        Args:
            app_id: the app, or ``"me"`` for the calling app.
            lang: the language of names and descriptions: zh_cn, en_us or ja_jp.
            page_size: versions per request, 1..50.
            order: newest or oldest first.
            user_id_type: the id type of members in ``remark.visibility``.

        Raises:
            InputError: an argument is invalid (nothing is sent).
            APIError: Feishu answered with an error (210503–210508: the app; 210514 order).
        """
        params = {
            "lang": _one_of("lang", lang, Lang),
            "page_size": str(check.integer("page_size", page_size, low=1, high=VERSIONS_PAGE_MAX)),
            "order": str(int(check.choice("order", order, VersionOrder))),
            **_id_params(user_id_type),
        }
        path = _path(APP_VERSIONS, check.text("app_id", app_id))
        return self._items(path, APP_VERSIONS, params)

    async def _items(
        self, path: str, bucket: str, params: dict[str, str]
    ) -> AsyncIterator[AppVersion]:
        async for page in self._pages(path, bucket, params, FeishuResponse[AppVersionPage]):
            for item in page.items:
                yield item

    async def app_version(
        self, app_id: str, version_id: str, *, lang: Lang, user_id_type: UserIdType | None = None
    ) -> AppVersion:
        """One version of an app.

        Raises:
            InputError: an argument is invalid (nothing is sent).
            NotFoundError: no such version (211002) or not this app's (211003).
        """
        params = {"lang": _one_of("lang", lang, Lang), **_id_params(user_id_type)}
        path = _path(APP_VERSION, check.text("app_id", app_id),
                     check.text("version_id", version_id))
        reply = await self._client.call(
            Endpoint("GET", path, FeishuResponse[AppVersionData], "tenant_access_token",
                     params=params, bucket=APP_VERSION)
        )
        return reply.data.app_version

    async def contacts_range_suggest(
        self,
        app_id: str,
        version_id: str,
        *,
        department_id_type: DepartmentIdType | None = None,
        user_id_type: UserIdType | None = None,
    ) -> ContactsRange | None:
        """The contacts range a version asked for; None if the version did not change it.

        What the version asked for takes effect only once approved; the live range is
        ``contacts_range_configuration``.

        Raises:
            InputError: an argument is invalid (nothing is sent).
            NotFoundError: the version does not belong to the app (211003).
            APIError: Feishu answered with another error.
        """
        params = _id_params(user_id_type, department_id_type)
        fetch = self._suggester(check.text("app_id", app_id), params)
        return await fetch(check.text("version_id", version_id))

    def _suggester(
        self, app_id: str, params: dict[str, str]
    ) -> Callable[[str], Awaitable[ContactsRange | None]]:
        async def fetch(version_id: str) -> ContactsRange | None:
            reply = await self._client.call(
                Endpoint("GET", _path(CONTACTS_RANGE_SUGGEST, app_id, version_id),
                         ContactsRangeSuggestReply, "tenant_access_token", params=params,
                         bucket=CONTACTS_RANGE_SUGGEST)
            )
            return reply.suggested()

        return fetch

    async def contacts_range_suggest_all(
        self,
        app_id: str,
        *,
        lang: Lang = "zh_cn",
        version_ids: Iterable[str] | None = None,
        department_id_type: DepartmentIdType | None = None,
        user_id_type: UserIdType | None = None,
        concurrency: int = 10,
    ) -> dict[str, ContactsRange | None]:
        """The suggested range of many versions at once, under the API's quota.

        Lists the app's versions (or takes ``version_ids``), then fetches each one's
        suggested range, ``concurrency`` at a time; the client's quota paces them so the
        100-a-minute limit is never exceeded.

        Returns:
            version id → its suggested range, or None where the version did not change
            it; in listing order (or the order given), each id once.

        Raises:
            InputError: an argument or a version id is invalid (nothing is sent).
            APIError: Feishu answered with an error; nothing is returned then.
        """
        app = check.text("app_id", app_id)
        _one_of("lang", lang, Lang)
        params = _id_params(user_id_type, department_id_type)
        check.integer("concurrency", concurrency, low=1)
        if version_ids is None:
            listing = self.app_versions(app, lang=lang)
            ids = [version.version_id async for version in listing]
        else:
            given = check.items("version_ids", version_ids)
            ids = [check.text(f"version_ids[{i}]", v) for i, v in enumerate(given)]
        unique = list(dict.fromkeys(ids))
        ranges = await map_concurrent(self._suggester(app, params), unique, limit=concurrency)
        return dict(zip(unique, ranges, strict=True))

    async def contacts_range_configuration(
        self,
        app_id: str,
        *,
        page_size: int = RANGE_PAGE_MAX,
        department_id_type: DepartmentIdType | None = None,
        user_id_type: UserIdType | None = None,
    ) -> ContactsRange:
        """The contacts range live for a self-built app, every page merged into one.

        Args:
            app_id: the app, or ``"me"``.
            page_size: ids per request, 1..100.

        Raises:
            InputError: an argument is invalid (nothing is sent).
            APIError: Feishu answered with an error (210505: not a self-built app).
        """
        params = {
            "page_size": str(check.integer("page_size", page_size, low=1, high=RANGE_PAGE_MAX)),
            **_id_params(user_id_type, department_id_type),
        }
        path = _path(CONTACTS_RANGE_CONFIGURATION, check.text("app_id", app_id))
        merged = ContactsRange()
        lists = merged.visible_list
        async for page in self._pages(path, CONTACTS_RANGE_CONFIGURATION, params,
                                      FeishuResponse[ContactsRangePage]):
            part = page.contacts_range or ContactsRange()
            merged.contacts_scope_type = merged.contacts_scope_type or part.contacts_scope_type
            lists.open_ids += part.visible_list.open_ids
            lists.department_ids += part.visible_list.department_ids
            lists.group_ids += part.visible_list.group_ids
        return merged

    async def _pages(
        self, path: str, bucket: str, params: dict[str, str], response: type[FeishuResponse[P]]
    ) -> AsyncIterator[P]:
        # Stopping on a missing or repeated page_token would cut the listing short.
        cursor = Cursor(None, strict=True)
        while not cursor.done:
            query = {**params, "page_token": cursor.value} if cursor.value else params
            reply = await self._client.call(
                Endpoint("GET", path, response, "tenant_access_token",
                         params=query, bucket=bucket)
            )
            page = reply.data
            yield page
            cursor.advance(not page.has_more, page.page_token, path)
