"""Feishu application API v6: app versions, suggested contacts ranges, the live range.

Each of these APIs has its own quota per app per tenant (the pipeline's quota stage, with the
limit of `ServerState.path_quotas`), answered with 99991400 / HTTP 429 when exceeded.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import web

from ..pipeline import ApiError, Call, Route
from ..wecom.common import json_reply
from ..world.feishu import APP_INFO_READ, LANGS, VERSION_READ, AppInfo, FeishuWorld, Range, Version
from .common import (
    FIELD_INVALID,
    SCOPE_MISSING,
    TENANT_TOKEN,
    render_error,
    world,
)

_BASE = "/open-apis/application/v6/applications/{app_id}"
APP_VERSIONS_PATH = _BASE + "/app_versions"
APP_VERSION_PATH = APP_VERSIONS_PATH + "/{version_id}"
CONTACTS_RANGE_SUGGEST_PATH = APP_VERSION_PATH + "/contacts_range_suggest"
CONTACTS_RANGE_CONFIGURATION_PATH = _BASE + "/contacts_range_configuration"
QUOTA_PATHS = (APP_VERSIONS_PATH, APP_VERSION_PATH, CONTACTS_RANGE_SUGGEST_PATH,
               CONTACTS_RANGE_CONFIGURATION_PATH)
"""The APIs of the 100-a-minute tier."""

PAGE_TOKEN_LIFETIME = 7200.0  # page tokens expire after 2 h and belong to the app that got them
_APP_ID = re.compile(r"cli_[0-9a-f]{16}")
USER_ID_TYPES = ("open_id", "union_id", "user_id")
DEPARTMENT_ID_TYPES = ("department_id", "open_department_id")


def _choice(call: Call, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = call.request.query.get(key, default)
    if value not in allowed:
        raise ApiError(FIELD_INVALID, key)
    return value


def _int(call: Call, key: str, low: int, high: int, default: int, code: int = FIELD_INVALID) -> int:
    raw = call.request.query.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(code, key) from None
    if not low <= value <= high:
        raise ApiError(code, key)
    return value


def _caller(call: Call) -> AppInfo:
    assert call.token is not None  # every route here checks the tenant token first
    return world(call).apps[str(call.token.app)]


def _target(call: Call, *, others_need: str = VERSION_READ) -> AppInfo:
    """The app named in the path, after the checks of app id, tenant, kind and permission."""
    caller, tenant = _caller(call), world(call)
    app_id = call.request.match_info["app_id"]
    if app_id == "me":
        return caller
    if not _APP_ID.fullmatch(app_id):
        raise ApiError(210503)
    if app_id == tenant.foreign_app_id:
        raise ApiError(210504)
    target = tenant.apps.get(app_id)
    if target is None:
        raise ApiError(210506)
    if target is not caller and others_need not in caller.scopes:
        raise ApiError(210508)
    # UNCERTAIN: an app may read its own versions whatever its kind; another app's only if
    # that one is self-built.
    if target is not caller and not target.custom:
        raise ApiError(210505)
    return target


def _version(call: Call, app: AppInfo, unknown: int) -> Version:
    version_id = call.request.match_info["version_id"]
    owner = world(call).version_owner.get(version_id)
    if owner is None:
        raise ApiError(unknown)
    if owner != app.app_id:
        raise ApiError(211003)
    return next(v for v in app.versions if v.version_id == version_id)


def _render_version(tenant: FeishuWorld, app: AppInfo, version: Version, lang: str,
                    caller: str, user_id_type: str) -> dict[str, Any]:
    visible = version.suggest or Range("all")
    item: dict[str, Any] = {
        "app_id": app.app_id,
        "version": version.version,
        "version_id": version.version_id,
        "app_name": app.names[lang],
        "avatar_url": f"https://emulator.invalid/avatar/{app.app_id}.png",
        "description": f"{app.names[lang]} {version.version}",
        "scopes": [{"scope": s, "description": s, "level": 1, "token_types": ["tenant"]}
                   for s in sorted(app.scopes)],
        "i18n": [{"i18n_key": k, "name": app.names[k], "description": app.names[k]}
                 for k in LANGS],
        "common_categories": ["productivity"],
        "events": [],
        "status": version.status,
        "create_time": str(version.create_time),
        "ability": {"bot": {"card_request_url": ""}},
        "remark": {
            "remark": f"release {version.version}",
            "update_remark": "",
            "visibility": {
                "is_all": visible.scope_type != "some",
                "visible_list": tenant.render(visible, caller, user_id_type)["visible_list"],
            },
        },
    }
    if version.publish_time:
        item["publish_time"] = str(version.publish_time)
    return item


def _page_token(caller: str, target: str, offset: int) -> str:
    raw = msgspec.json.encode([caller, target, offset, time.time()])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _page_start(call: Call, target: AppInfo) -> int:
    token = call.request.query.get("page_token")
    if not token:
        return 0
    try:
        caller, app_id, offset, issued = msgspec.json.decode(
            base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, msgspec.DecodeError, ValueError, TypeError):
        raise ApiError(210501) from None
    if caller != _caller(call).app_id or app_id != target.app_id or not isinstance(offset, int):
        raise ApiError(210501)
    if time.time() - float(issued) > PAGE_TOKEN_LIFETIME:
        raise ApiError(210500)
    return offset


def _paged(call: Call, target: AppInfo, items: list[Any], size: int,
           render: Callable[[list[Any]], dict[str, Any]]) -> web.Response:
    start = _page_start(call, target)
    chunk = items[start:start + size]
    data = render(chunk)
    data["has_more"] = start + size < len(items)
    if data["has_more"]:
        data["page_token"] = _page_token(_caller(call).app_id, target.app_id, start + size)
    return json_reply({"code": 0, "msg": "success", "data": data})


def _lang(call: Call) -> str:
    lang = call.request.query.get("lang")
    if lang not in LANGS:
        raise ApiError(FIELD_INVALID, "lang")
    return lang


async def list_versions(call: Call) -> web.StreamResponse:
    """GET .../app_versions?lang=&page_size=&page_token=&order=&user_id_type="""
    lang = _lang(call)
    size = _int(call, "page_size", 1, 50, 20)
    order = _int(call, "order", 0, 1, 0, code=210514)
    user_id_type = _choice(call, "user_id_type", USER_ID_TYPES, "open_id")
    target = _target(call)
    versions = target.versions if order == 1 else target.versions[::-1]
    tenant, caller = world(call), _caller(call).app_id

    def render(chunk: list[Version]) -> dict[str, Any]:
        return {"items": [_render_version(tenant, target, v, lang, caller, user_id_type)
                          for v in chunk]}

    return _paged(call, target, versions, size, render)


async def get_version(call: Call) -> web.StreamResponse:
    """GET .../app_versions/{version_id}?lang=&user_id_type="""
    lang = _lang(call)
    user_id_type = _choice(call, "user_id_type", USER_ID_TYPES, "open_id")
    target = _target(call)
    version = _version(call, target, unknown=211002)
    item = _render_version(world(call), target, version, lang, _caller(call).app_id,
                           user_id_type)
    return json_reply({"code": 0, "msg": "success", "data": {"app_version": item}})


async def contacts_range_suggest(call: Call) -> web.StreamResponse:
    """GET .../app_versions/{version_id}/contacts_range_suggest: `data` is empty when the
    version kept the range."""
    department_id_type = _choice(call, "department_id_type", DEPARTMENT_ID_TYPES,
                                 "open_department_id")
    user_id_type = _choice(call, "user_id_type", USER_ID_TYPES, "open_id")
    target = _target(call)
    # UNCERTAIN: the seed lists only 211003, so an unknown version answers it too.
    version = _version(call, target, unknown=211003)
    data: dict[str, Any] = {}
    if version.suggest is not None:
        data["contacts_range"] = world(call).render(
            version.suggest, _caller(call).app_id, user_id_type, department_id_type)
    return json_reply({"code": 0, "msg": "success", "data": data})


async def contacts_range_configuration(call: Call) -> web.StreamResponse:
    """GET .../contacts_range_configuration: the live range of a self-built app, paged over
    its members, then departments, then groups."""
    size = _int(call, "page_size", 1, 100, 50)
    department_id_type = _choice(call, "department_id_type", DEPARTMENT_ID_TYPES,
                                 "open_department_id")
    user_id_type = _choice(call, "user_id_type", USER_ID_TYPES, "open_id")
    caller = _caller(call)
    if APP_INFO_READ not in caller.scopes:
        raise ApiError(SCOPE_MISSING, APP_INFO_READ)
    target = _target(call, others_need=APP_INFO_READ)
    if not target.custom:
        raise ApiError(210505)
    live = target.live_range
    items = ([("u", u) for u in live.userids] + [("d", d) for d in live.department_ids]
             + [("g", g) for g in live.group_ids])

    def render(chunk: list[tuple[str, Any]]) -> dict[str, Any]:
        part = Range(live.scope_type, tuple(v for k, v in chunk if k == "u"),
                     tuple(v for k, v in chunk if k == "d"), tuple(v for k, v in chunk if k == "g"))
        rendered = world(call).render(part, caller.app_id, user_id_type, department_id_type)
        return {"contacts_range": rendered}

    return _paged(call, target, items, size, render)


def routes() -> list[Route]:
    """The application routes (tenant token, 100-a-minute quota each)."""
    handlers = (list_versions, get_version, contacts_range_suggest, contacts_range_configuration)
    return [Route("GET", path, handler, render_error, token=TENANT_TOKEN)
            for path, handler in zip(QUOTA_PATHS, handlers, strict=True)]
