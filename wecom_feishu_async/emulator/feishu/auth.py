"""Feishu token endpoints: self-built tenant tokens, and the store app chain
(app ticket → app access token → tenant access token).

Every token follows the platform's refresh rule: asked again while at least a quarter of its
lifetime remains (30 of 120 minutes), the same token comes back with its remaining `expire`;
below that a new one is minted and the old one stays valid until it expires.
"""

from __future__ import annotations

import math

from aiohttp import web

from ..pipeline import ApiError, Call, Route
from ..wecom.common import json_reply
from ..world.feishu import AppInfo
from ..world.state import TokenRecord
from .common import read_json, render_token_error, text_field, world

INTERNAL_TENANT_TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
APP_TOKEN_PATH = "/open-apis/auth/v3/app_access_token"
TENANT_TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token"


def _issue(call: Call, kind: str, owner: str, app_id: str, prefix: str) -> tuple[str, int]:
    state = call.state
    record, minted = state.tokens.issue(kind, owner, state.token_ttl, app_id, prefix=prefix,
                                        renew_below=state.token_ttl / 4)
    if minted:
        state.stats.tokens_issued[kind] += 1
    return record.value, max(0, math.ceil(record.expires_at - state.tokens.clock()))


def _app(call: Call, app_id: str, secret: str, *, custom: bool) -> AppInfo:
    app = world(call).apps.get(app_id)
    # UNCERTAIN: an app of the other kind is answered like an unknown one.
    if app is None or app.custom != custom:
        raise ApiError(10014)
    if secret != app.app_secret:
        raise ApiError(10015)
    return app


def _tenant_token(call: Call, app: AppInfo, tenant_key: str) -> web.Response:
    token, expire = _issue(call, "tenant_access_token", f"{app.app_id}:{tenant_key}", app.app_id,
                           "t-")
    return json_reply({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": expire})


async def internal_tenant_token(call: Call) -> web.StreamResponse:
    """POST auth/v3/tenant_access_token/internal {app_id, app_secret} (self-built apps)."""
    body = await read_json(call.request)
    app = _app(call, text_field(body, "app_id"), text_field(body, "app_secret"), custom=True)
    return _tenant_token(call, app, app.tenant_key)


async def app_token(call: Call) -> web.StreamResponse:
    """POST auth/v3/app_access_token {app_id, app_secret, app_ticket} (store apps)."""
    body = await read_json(call.request)
    app = _app(call, text_field(body, "app_id"), text_field(body, "app_secret"), custom=False)
    # UNCERTAIN: the code for a stale or wrong ticket is not documented.
    if text_field(body, "app_ticket") != world(call).credentials.app_ticket:
        raise ApiError(10012)
    token, expire = _issue(call, "app_access_token", app.app_id, app.app_id, "a-")
    return json_reply({"code": 0, "msg": "ok", "app_access_token": token, "expire": expire})


async def tenant_token(call: Call) -> web.StreamResponse:
    """POST auth/v3/tenant_access_token {app_access_token, tenant_key} (store apps)."""
    body = await read_json(call.request)
    value, tenant_key = text_field(body, "app_access_token"), text_field(body, "tenant_key")
    record: TokenRecord | None = call.state.tokens.find(value)
    # UNCERTAIN: a bad app token answers 99991664 and an unknown tenant 10013 here.
    if record is None or record.kind != "app_access_token" or not record.alive(
        call.state.tokens.clock()
    ):
        raise ApiError(99991664)
    app = world(call).apps[str(record.app)]
    if tenant_key != app.tenant_key:
        raise ApiError(10013)
    return _tenant_token(call, app, tenant_key)


def routes() -> list[Route]:
    """The token routes."""
    return [
        Route("POST", INTERNAL_TENANT_TOKEN_PATH, internal_tenant_token, render_token_error,
              issues_token="tenant_access_token"),
        Route("POST", APP_TOKEN_PATH, app_token, render_token_error,
              issues_token="app_access_token"),
        Route("POST", TENANT_TOKEN_PATH, tenant_token, render_token_error,
              issues_token="tenant_access_token"),
    ]
