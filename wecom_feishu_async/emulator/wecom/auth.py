"""WeCom token endpoints: `gettoken` (corp access_token) and `get_provider_token`."""

from __future__ import annotations

import math

from aiohttp import web

from ..pipeline import ApiError, Call, Route
from ..world.state import ServerState, TokenRecord
from .common import json_reply, read_object, render_error

GETTOKEN_PATH = "/cgi-bin/gettoken"
PROVIDER_TOKEN_PATH = "/cgi-bin/service/get_provider_token"


def issue_token(
    state: ServerState, kind: str, owner: str, app: int | None
) -> tuple[TokenRecord, int]:
    """The live token of (kind, owner, app), minted if needed, and its remaining seconds."""
    # A repeat call while the token is alive returns the same token (documented for the provider
    # token; the emulator default for gettoken). UNCERTAIN: `expires_in` of a repeated token is
    # its remaining lifetime here, not the full ttl.
    record, minted = state.tokens.issue(kind, owner, state.token_ttl, app)
    if minted:
        state.stats.tokens_issued[kind] += 1
    remaining = max(0, math.ceil(record.expires_at - state.tokens.clock()))
    return record, remaining


async def gettoken(call: Call) -> web.StreamResponse:
    """GET /cgi-bin/gettoken?corpid=&corpsecret= → access_token."""
    query = call.request.query
    corpid, secret = query.get("corpid", ""), query.get("corpsecret", "")
    credentials = call.state.credentials
    if not corpid:
        raise ApiError(41002)
    if not secret:
        raise ApiError(41004)
    if corpid != credentials.corp_id:
        raise ApiError(40013)
    if secret != credentials.corp_secret:
        raise ApiError(40001)
    record, expires_in = issue_token(call.state, "access_token", corpid, credentials.agentid)
    return json_reply(
        {"errcode": 0, "errmsg": "ok", "access_token": record.value, "expires_in": expires_in}
    )


async def get_provider_token(call: Call) -> web.StreamResponse:
    """POST /cgi-bin/service/get_provider_token {corpid, provider_secret} → provider token."""
    body = await read_object(call.request)
    corpid, secret = body.get("corpid"), body.get("provider_secret")
    credentials = call.state.credentials
    # UNCERTAIN: the missing-field codes are not documented for this endpoint; these are
    # gettoken's (41002 corpid missing, 41004 secret missing).
    if not isinstance(corpid, str) or not corpid:
        raise ApiError(41002)
    if not isinstance(secret, str) or not secret:
        raise ApiError(41004)
    # Observed: a wrong provider_secret answers 40001; a wrong corpid is treated the same
    # (UNCERTAIN), since the pair is one credential.
    if corpid != credentials.provider_corp_id or secret != credentials.provider_secret:
        raise ApiError(40001)
    record, expires_in = issue_token(call.state, "provider_access_token", corpid, None)
    # Documented quirk: no errcode/errmsg on success.
    return json_reply({"provider_access_token": record.value, "expires_in": expires_in})


def routes() -> list[Route]:
    """The token routes."""
    return [
        Route("GET", GETTOKEN_PATH, gettoken, render_error, issues_token="access_token"),
        Route(
            "POST",
            PROVIDER_TOKEN_PATH,
            get_provider_token,
            render_error,
            issues_token="provider_access_token",
        ),
    ]
