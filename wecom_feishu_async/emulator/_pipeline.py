"""The request pipeline every emulated route runs through, whatever the vendor.

Order per request: count it (requests, in flight) → latency → faults → token check →
concurrency cap → quota → the route's handler. Errors raised anywhere become the vendor's error
reply and are counted in `stats.errors`.
"""

from __future__ import annotations

import asyncio
import http
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from ._faults import Fault
from ._state import ServerState, TokenRecord

# Vendor codes the pipeline itself answers with (both WeCom's; a Feishu route module will map
# them through its own renderer).
CODE_FREQ_LIMIT = 45009
CODE_CONCURRENCY_LIMIT = 45033


class ApiError(Exception):
    """A vendor error reply: `code`, and optionally the English text that starts its message."""

    def __init__(self, code: int, text: str | None = None) -> None:
        super().__init__(code, text)
        self.code = code
        self.text = text


@dataclass(frozen=True)
class TokenRule:
    """Where a route's token travels and the codes for a missing, invalid or expired one."""

    kind: str
    param: str
    missing: int
    invalid: int
    expired: int

    def read(self, request: web.Request) -> str | None:
        """The token value the request carries, if any."""
        return request.query.get(self.param) or None


@dataclass(frozen=True)
class Call:
    """What a route handler gets: the request, the shared state, and the checked token."""

    request: web.Request
    state: ServerState
    token: TokenRecord | None


Handler = Callable[[Call], Awaitable[web.StreamResponse]]
ErrorRenderer = Callable[[web.Request, int, "str | None"], web.Response]
Observer = Callable[[bytes, ServerState], None]


@dataclass(frozen=True)
class Route:
    """One emulated endpoint.

    `issues_token` names the token kind a token endpoint issues (those endpoints get no random
    faults and no quota); `observe` sees the raw body on arrival (for stats).
    """

    method: str
    path: str
    handler: Handler
    render_error: ErrorRenderer
    token: TokenRule | None = None
    issues_token: str | None = None
    observe: Observer | None = None


def check_token(rule: TokenRule, state: ServerState, request: web.Request) -> TokenRecord:
    """The live token record the request carries; raises ApiError otherwise."""
    value = rule.read(request)
    if value is None:
        raise ApiError(rule.missing)
    record = state.tokens.find(value)
    if record is None or record.kind != rule.kind:
        raise ApiError(rule.invalid)
    if not record.alive(state.tokens.clock()):
        raise ApiError(rule.expired)
    return record


def _http_fault(status: int) -> web.Response:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    text = f"<html><head><title>{status} {phrase}</title></head><body>{phrase}</body></html>"
    return web.Response(status=status, text=text, content_type="text/html")


async def _respond(
    route: Route, state: ServerState, request: web.Request, admitted: bool
) -> web.StreamResponse:
    fault = state.faults.pick(route.path, token_endpoint=route.issues_token is not None)
    if fault is not None and fault.kind == "hold":
        # The request takes effect; only its reply is late.
        response = await _serve(route, state, request, admitted, None)
        await asyncio.sleep(fault.seconds)
        return response
    return await _serve(route, state, request, admitted, fault)


async def _serve(
    route: Route, state: ServerState, request: web.Request, admitted: bool, fault: Fault | None
) -> web.StreamResponse:
    try:
        if fault is not None:
            if fault.kind == "http":
                state.stats.http_errors[fault.code] += 1
                return _http_fault(fault.code)
            if fault.kind == "errcode":
                raise ApiError(fault.code)
            if route.token is not None:  # expire_token
                value = route.token.read(request)
                if value is not None:
                    state.tokens.revoke(value)
                raise ApiError(route.token.expired)
            # On a token endpoint there is no token to expire: revoke every token, then answer
            # normally (with a freshly minted token).
            state.tokens.revoke_all()
        token = None
        if route.token is not None:
            token = check_token(route.token, state, request)
        if not admitted:
            raise ApiError(CODE_CONCURRENCY_LIMIT)
        if token is not None and not state.take_quota(token.owner, route.path):
            raise ApiError(CODE_FREQ_LIMIT)
        return await route.handler(Call(request, state, token))
    except ApiError as exc:
        state.stats.errors[exc.code] += 1
        return route.render_error(request, exc.code, exc.text)


def make_handler(
    route: Route, state: ServerState
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler that runs `route` through the pipeline."""

    async def handle(request: web.Request) -> web.StreamResponse:
        admitted = state.arrive(route.path)
        try:
            if route.issues_token is not None:
                state.stats.token_requests[route.issues_token] += 1
            if route.observe is not None:
                route.observe(await request.read(), state)
            if state.latency > 0:
                await asyncio.sleep(state.latency)
            return await _respond(route, state, request, admitted)
        finally:
            state.leave(route.path, admitted)

    return handle
