"""Third-party app routes: suite and corp tokens, mini-program login, ticket consumers."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from ..pipeline import ApiError, Call, Route
from ..world.state import TokenRecord
from ..world.suite import Delivery, SuiteWorld, Ticket
from .auth import issue_token
from .common import (
    ACCESS_TOKEN,
    SUITE_TOKEN,
    json_reply,
    read_object,
    render_error,
)

SUITE_KEY = web.AppKey("wfa_emulator_suite", SuiteWorld)

MAX_TICKETS = 10


def _world(call: Call) -> SuiteWorld:
    return call.request.app[SUITE_KEY]


async def get_suite_token(call: Call) -> web.StreamResponse:
    """POST /cgi-bin/service/get_suite_token {suite_id, suite_secret, suite_ticket}."""
    body = await read_object(call.request)
    world = _world(call)
    creds = world.credentials
    if body.get("suite_id") != creds.suite_id:
        raise ApiError(40083)
    if body.get("suite_secret") != creds.suite_secret:
        raise ApiError(40080)
    ticket = body.get("suite_ticket")
    if not isinstance(ticket, str) or not ticket:
        raise ApiError(41023)
    if not world.suite_ticket_valid(ticket):
        raise ApiError(40085)
    record, expires_in = issue_token(call.state, "suite_access_token", creds.suite_id, None)
    # Like the provider token, errcode appears only on failure.
    return json_reply({"suite_access_token": record.value, "expires_in": expires_in})


async def get_corp_token(call: Call) -> web.StreamResponse:
    """POST /cgi-bin/service/get_corp_token?suite_access_token= {auth_corpid, permanent_code}."""
    body = await read_object(call.request)
    creds = _world(call).credentials
    if body.get("auth_corpid") != creds.auth_corpid:
        raise ApiError(40084)
    if body.get("permanent_code") != creds.permanent_code:
        raise ApiError(40084)
    record, expires_in = issue_token(call.state, "access_token", creds.auth_corpid, creds.agentid)
    return json_reply({"access_token": record.value, "expires_in": expires_in})


def _session(call: Call, *, third_party: bool) -> web.StreamResponse:
    query = call.request.query
    if query.get("grant_type") != "authorization_code":
        raise ApiError(40058)
    world = _world(call)
    member = world.redeem(query.get("js_code", ""))
    if member is None:
        raise ApiError(40029)  # unknown, already used, or older than 5 minutes
    session_key = secrets.token_urlsafe(24)
    world.sessions[session_key] = member.userid
    reply: dict[str, Any] = {
        "errcode": 0,
        "errmsg": "ok",
        "corpid": world.credentials.auth_corpid,
        "userid": member.userid,
        "session_key": session_key,
    }
    if third_party:
        reply["open_userid"] = member.open_userid
    return json_reply(reply)


async def service_jscode2session(call: Call) -> web.StreamResponse:
    """GET /cgi-bin/service/miniprogram/jscode2session (third-party, suite token)."""
    return _session(call, third_party=True)


async def jscode2session(call: Call) -> web.StreamResponse:
    """GET /cgi-bin/miniprogram/jscode2session (self-built, corp token; no open_userid)."""
    return _session(call, third_party=False)


def _ticket(call: Call, value: object, token: TokenRecord | None) -> Ticket:
    world = _world(call)
    ticket = world.tickets.get(value) if isinstance(value, str) else None
    if ticket is None or ticket.expires_at <= world.clock():
        raise ApiError(60222)
    if token is None or ticket.agentid != token.app:
        raise ApiError(60219)  # created by another app
    return ticket


async def send(call: Call) -> web.StreamResponse:
    """POST /cgi-bin/message/send?access_token= with msgtype template_msg."""
    body = await read_object(call.request)
    if body.get("msgtype") != "template_msg":
        raise ApiError(60207)  # standalone third-party apps may only send template messages
    template = body.get("template_msg")
    if not isinstance(template, dict) or not template.get("template_id"):
        raise ApiError(40058)
    items = template.get("content_item")
    if not isinstance(items, list) or not 1 <= len(items) <= 5:
        raise ApiError(40058)
    if not template.get("url") and not template.get("miniprogram"):
        raise ApiError(40058)
    raw_tickets = body.get("selected_ticket_list") or []
    if not isinstance(raw_tickets, list):
        raise ApiError(40058)
    if len(raw_tickets) > MAX_TICKETS:
        raise ApiError(60215)
    tickets = [_ticket(call, value, call.token) for value in raw_tickets]
    org = _world(call).org
    recipients: set[str] = set()
    if body.get("only_unauth"):
        if not tickets:
            raise ApiError(40058)
    else:
        for userid in str(body.get("touser") or "").split("|"):
            member = org.member_by_userid.get(userid)
            if member is not None:
                recipients.add(member.open_userid)
    for ticket in tickets:
        # The ticket's creator is not among its recipients.
        chosen = ticket.out_of_range if body.get("only_unauth") else (
            ticket.in_range + ticket.out_of_range)
        recipients.update(m.open_userid for m in chosen if m is not ticket.operator)
    msgid = secrets.token_hex(16)
    _world(call).deliveries.append(
        Delivery(msgid, str(template["template_id"]), frozenset(recipients))
    )
    return json_reply({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": msgid})


async def list_selected_ticket_user(call: Call) -> web.StreamResponse:
    """POST /cgi-bin/user/list_selected_ticket_user?access_token= {selected_ticket}.

    The emulated suite is installed in member-authorisation mode, which this needs.
    """
    body = await read_object(call.request)
    ticket = _ticket(call, body.get("selected_ticket"), call.token)
    return json_reply(
        {
            "errcode": 0,
            "errmsg": "ok",
            "operator_open_userid": ticket.operator.open_userid,
            "open_userid_list": [m.open_userid for m in ticket.in_range],
            "unauth_open_userid_list": [m.open_userid for m in ticket.out_of_range],
            "total": len(ticket.in_range) + len(ticket.out_of_range),
        }
    )


def routes() -> list[Route]:
    """The third-party app routes."""
    return [
        Route("POST", "/cgi-bin/service/get_suite_token", get_suite_token, render_error,
              issues_token="suite_access_token"),
        Route("POST", "/cgi-bin/service/get_corp_token", get_corp_token, render_error,
              token=SUITE_TOKEN, issues_token="access_token"),
        Route("GET", "/cgi-bin/service/miniprogram/jscode2session", service_jscode2session,
              render_error, token=SUITE_TOKEN),
        Route("GET", "/cgi-bin/miniprogram/jscode2session", jscode2session, render_error,
              token=ACCESS_TOKEN),
        Route("POST", "/cgi-bin/message/send", send, render_error, token=ACCESS_TOKEN),
        Route("POST", "/cgi-bin/user/list_selected_ticket_user", list_selected_ticket_user,
              render_error, token=ACCESS_TOKEN),
    ]
