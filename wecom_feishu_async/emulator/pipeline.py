"""The request pipeline every emulated route runs through, whatever the vendor.

Order per request: count it (requests, in flight) → latency → faults → token check →
concurrency cap → quota → the route's handler. Errors raised anywhere become the vendor's error
reply and are counted in `stats.errors`. Faults that spoil only the reply (hold, reset,
truncate) run the handler first: the request takes effect, as when a network loses a reply.
"""

from __future__ import annotations

import asyncio
import http
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from .world.faults import HANDLED_KINDS, Arrival, Fault
from .world.state import ServerState, TokenRecord

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


def _arrival(route: Route, request: web.Request, body: bytes) -> Arrival:
    """The request as the fault plan sees it: credentials left out of its identity."""
    secret = route.token.param if route.token is not None else None
    query = sorted((k, v) for k, v in request.query.items() if k != secret)
    identity = f"{request.method} {request.path}?{urlencode(query)}\n".encode() + body
    department = request.query.get("department_id", "")
    return Arrival(
        route.path,
        identity,
        token_endpoint=route.issues_token is not None,
        department=int(department) if department.isascii() and department.isdigit() else None,
    )


def _delete_department(state: ServerState, department: int | None) -> None:
    """Delete a department mid-walk, as an admin might (never the root, 1)."""
    if department is not None and department != 1 and department in state.org.department_by_id:
        state.org.delete_department(department)


async def _respond(
    route: Route, state: ServerState, request: web.Request, admitted: bool, body: bytes
) -> web.StreamResponse:
    fault = None
    if not state.faults.idle():
        arrival = _arrival(route, request, body)
        fault = state.faults.pick(arrival)
        if fault is not None and fault.kind == "delete_department":
            _delete_department(state, arrival.department)
            fault = None
    if fault is None or fault.kind not in HANDLED_KINDS:
        return await _serve(route, state, request, admitted, fault)
    # The request takes effect; only its reply is spoilt.
    response = await _serve(route, state, request, admitted, None)
    if fault.kind == "hold":
        await asyncio.sleep(fault.seconds)
        return response
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return response
    whole = response.body
    kept = whole[: int(len(whole) * fault.keep)]
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    if fault.kind == "truncate":
        return web.Response(status=response.status, headers=headers, body=kept)
    # reset: announce the whole body, send part of it, then drop the connection.
    partial = web.StreamResponse(status=response.status, headers=headers)
    partial.content_length = len(whole)
    await partial.prepare(request)
    await partial.write(kept)
    if request.transport is not None:
        request.transport.abort()
    return partial


async def _serve(
    route: Route, state: ServerState, request: web.Request, admitted: bool, fault: Fault | None
) -> web.StreamResponse:
    try:
        if fault is not None:
            if fault.kind == "http":
                state.stats.http_errors[fault.code] += 1
                return _http_fault(fault.code)
            if fault.kind in ("errcode", "burst"):
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
            body = await request.read()
            if route.observe is not None:
                route.observe(body, state)
            if state.latency > 0:
                await asyncio.sleep(state.latency)
            return await _respond(route, state, request, admitted, body)
        finally:
            state.leave(route.path, admitted)

    return handle
