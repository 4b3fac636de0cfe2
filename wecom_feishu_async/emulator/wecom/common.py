"""WeCom conventions shared by its routes: error replies, JSON bodies, token rules."""

from __future__ import annotations

import random
import time
from typing import Any

import msgspec
from aiohttp import web

from ..pipeline import ApiError, TokenRule

# English text at the start of `errmsg`, per code. Real messages carry a hint id, the caller's
# IP and a help link after it; clients must branch on errcode, never on errmsg.
MESSAGES: dict[int, str] = {
    -1: "system busy",
    40001: "invalid credential",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40056: "invalid agentid",
    40058: "invalid Request Parameter",
    40082: "invalid suite_acccess_token or provider_access_token",  # WeCom's own typo
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    42001: "access_token expired",
    42009: "suite_access_token expired",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    48002: "api forbidden",
    60011: "no privilege to access/modify contact/party/agent",
}

WRONG_JSON = "Warning: wrong json format. invalid Request Parameter"

# Token rules: the token is always a URL query parameter.
ACCESS_TOKEN = TokenRule(
    "access_token", "access_token", missing=41001, invalid=40014, expired=42001
)
# UNCERTAIN: no separate "provider token expired" code is documented; an expired or revoked
# provider token answers 40082 like an unknown one.
PROVIDER_TOKEN = TokenRule(
    "provider_access_token", "provider_access_token", missing=41001, invalid=40082, expired=40082
)
SUITE_TOKEN = TokenRule(
    "suite_access_token", "suite_access_token", missing=41001, invalid=40082, expired=42009
)

_hints = random.Random()


def _hint() -> str:
    return f"{int(time.time())}_{_hints.randint(1, 199)}_{_hints.getrandbits(128):032x}"


def render_error(request: web.Request, code: int, text: str | None = None) -> web.Response:
    """A WeCom error reply: HTTP 200, errcode/errmsg in the body and in headers."""
    english = text or MESSAGES.get(code, "emulated error")
    errmsg = (
        f"{english}, hint: [{_hint()}], from ip: {request.remote or '127.0.0.1'}, "
        f"more info at https://open.work.weixin.qq.com/devtool/query?e={code}"
    )
    return web.Response(
        body=msgspec.json.encode({"errcode": code, "errmsg": errmsg}),
        content_type="application/json",
        charset="utf-8",
        headers={"error-code": str(code), "error-msg": errmsg},
    )


def json_reply(payload: dict[str, Any]) -> web.Response:
    """A successful JSON reply."""
    return web.Response(
        body=msgspec.json.encode(payload), content_type="application/json", charset="utf-8"
    )


def decode_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in a request body; raises the wrong-JSON 40058 otherwise."""
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise ApiError(40058, WRONG_JSON) from None
    if not isinstance(value, dict):
        raise ApiError(40058, WRONG_JSON)
    return value


async def read_object(request: web.Request) -> dict[str, Any]:
    """The JSON object in the request body; raises the wrong-JSON 40058 otherwise."""
    return decode_object(await request.read())
