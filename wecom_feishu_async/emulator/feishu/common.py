"""Feishu conventions shared by its routes: error replies, the bearer token rule, JSON bodies.

Business APIs answer errors with HTTP 4xx/5xx, `{code, msg, error{log_id, troubleshooter}}`
and the log id in `X-Tt-Logid`; token endpoints answer HTTP 200 with a non-zero code.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from ..pipeline import CODE_CONCURRENCY_LIMIT, CODE_FREQ_LIMIT, ApiError, Call, TokenRule
from ..world.feishu import FeishuWorld
from ..world.state import STATE_KEY

FEISHU_KEY = web.AppKey("wfa_emulator_feishu", FeishuWorld)

RATE_LIMITED = 99991400
FIELD_INVALID = 99992402  # UNCERTAIN: not in the fact sheet; the platform's generic code
SCOPE_MISSING = 99991672

# The start of `msg` per code (clients must branch on `code`).
MESSAGES: dict[int, str] = {
    1500: "internal error",
    2200: "internal error",
    5000: "internal error",
    10003: "invalid param",
    10012: "get app access token fail",
    10013: "get tenant access token fail",
    10014: "app id not exists",
    10015: "wrong app secret",
    RATE_LIMITED: "request trigger frequency limit",
    99991401: "ip is denied by app setting",
    99991403: "this month's API call quota has been exceeded",
    99991661: "Missing access token for authorization",
    99991663: "Invalid access token for authorization",
    99991664: "invalid app token",
    99991671: "Invalid token: must start with t- or u-",
    SCOPE_MISSING: "Access denied. One of the required scopes is missing",
    99991673: "unauthorized app",
    FIELD_INVALID: "field validation failed",
    210500: "page_token not exist or expired",
    210501: "invalid page_token",
    210503: "invalid app_id",
    210504: "no such app in tenant",
    210505: "target app not a custom app",
    210506: "no such app",
    210508: "insufficient permission level",
    210514: "invalid order",
    211002: "no such version_id",
    211003: "no such version of desired app",
}

_log_ids = random.Random()


def _log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + f"{_log_ids.getrandbits(80):020X}"


def _status(code: int) -> int:
    # UNCERTAIN: the docs give 400 for the application errors and "4xx, typically 400" for the
    # token errors; internal errors are answered as 500 here.
    if code == RATE_LIMITED:
        return 429
    return 500 if code in (1500, 2200, 5000) else 400


def _rate_limit_headers(request: web.Request, code: int) -> dict[str, str]:
    """`x-ogw-ratelimit-*` of a refusal: the path's limit and seconds until it has room."""
    state = request.app[STATE_KEY]
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else ""
    limit, _ = state.quota_for(path)
    reset = 1.0
    value = _bearer(request)
    record = state.tokens.find(value) if value else None
    if code == CODE_FREQ_LIMIT and record is not None:
        reset = state.quota_reset(record.owner, path)
    # Whole seconds, as the platform sends them; never 0, so a client always waits.
    seconds = max(1, math.ceil(reset))
    return {"x-ogw-ratelimit-limit": str(limit), "x-ogw-ratelimit-reset": str(seconds)}


def render_error(request: web.Request, code: int, text: str | None = None) -> web.Response:
    """A business API error reply.

    The pipeline's own frequency and concurrency refusals become 99991400 (HTTP 429). For
    99992402 `text` names the field; for 99991672 the missing scope.
    """
    headers: dict[str, str] = {}
    if code in (CODE_FREQ_LIMIT, CODE_CONCURRENCY_LIMIT, RATE_LIMITED):
        headers = _rate_limit_headers(request, code)
        code = RATE_LIMITED
    log_id = _log_id()
    error: dict[str, Any] = {
        "log_id": log_id,
        "troubleshooter": "Troubleshooting suggestions: https://open.feishu.cn/search?"
        f"from=openapi&log_id={log_id}&code={code}",
    }
    msg = MESSAGES.get(code, "emulated error")
    if code == FIELD_INVALID and text:
        error["field_violations"] = [{"field": text, "description": f"{text} is invalid"}]
    elif code == SCOPE_MISSING and text:
        error["permission_violations"] = [{"type": "action_privilege_required", "subject": text}]
    elif text:
        msg = text
    headers["X-Tt-Logid"] = log_id
    return web.Response(status=_status(code), headers=headers, content_type="application/json",
                        body=msgspec.json.encode({"code": code, "msg": msg, "error": error}))


def render_token_error(request: web.Request, code: int, text: str | None = None) -> web.Response:
    """A token endpoint's error reply: HTTP 200 and a non-zero code (observed behaviour)."""
    body = {"code": code, "msg": text or MESSAGES.get(code, "emulated error"), "data": {}}
    return web.Response(body=msgspec.json.encode(body), content_type="application/json",
                        headers={"X-Tt-Logid": _log_id()})


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


@dataclass(frozen=True)
class BearerRule(TokenRule):
    """The token travels as `Authorization: Bearer <token>`."""

    def read(self, request: web.Request) -> str | None:
        value = _bearer(request)
        if value is not None and not value.startswith(("t-", "u-", "a-")):
            raise ApiError(99991671)
        return value


# A missing token answers 99991661; an unknown, revoked, expired or wrong-kind one 99991663.
TENANT_TOKEN = BearerRule("tenant_access_token", "Authorization", missing=99991661,
                          invalid=99991663, expired=99991663)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON object in a token request's body; 10003 (invalid param) otherwise."""
    try:
        value = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        raise ApiError(10003) from None
    if not isinstance(value, dict):
        raise ApiError(10003)
    return value


def text_field(body: dict[str, Any], key: str) -> str:
    """A required non-empty string of a token request; 10003 otherwise."""
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ApiError(10003)
    return value


def world(call: Call) -> FeishuWorld:
    """The Feishu tenant the emulator serves."""
    return call.request.app[FEISHU_KEY]
