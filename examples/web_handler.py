"""A mini-program backend: decode the contact picker's result, send a template message.

The pattern: one ``WeComClient`` per process, created when the web application starts and
closed when it stops (``cleanup_ctx``). Every request shares its connection pool, its cached
suite and company tokens (fetched once, refreshed once when they expire, however many
requests arrive together) and its client-side quotas. Never create a client per request.

``POST /picker/result`` takes what the mini-program posts after ``wx.qy.selectPrivilegedContact``::

    {"code": "<wx.qy.login code>", "picker": {"err_msg": "selectPrivilegedContact:ok",
                                              "result": {"selectedTicket": ...}}}

It decodes the picker result locally first (a bad one costs no request and does not burn
the single-use login code), exchanges the code for a session (``jscode2session``), resolves
the ticket to its users (member-authorisation mode: also checks the ticket was made by the
logged-in user), then sends one template message through the ticket and answers with the
message id and who it reached. Answers:

- 200 ``{"msgid", "sender", "selected_user_count", "recipients", "invalid_users", ...}``
- 400 ``{"error", "field", ...}``: bad JSON, a missing field, a failed or malformed picker
  result, a used login code (40029), an expired or foreign ticket (60222 / 60219);
- 403: the ticket was picked by another user than the one logged in;
- 502 ``{"error": "upstream", "vendor", "code", "endpoint", "request_id"}``: WeCom refused;
- 504: WeCom did not answer. A send that timed out may still have been delivered
  (``may_have_been_sent``): the library never resends a message, and neither should callers
  without checking.

Reads are retried by the client (bounded, with backoff); the message send is never retried
once it may have reached WeCom. Secrets, tokens, login codes, session keys and tickets are
never echoed in answers or logs.

Run it::

    python examples/web_handler.py --emulator      # in-process emulator, one round trip
    python examples/web_handler.py --port 8080     # real WeCom; credentials from the env

Environment (real mode): ``WECOM_SUITE_ID``, ``WECOM_SUITE_SECRET``, ``WECOM_SUITE_TICKET``
(or ``WECOM_SUITE_TICKET_FILE``, re-read on every suite-token fetch, where the suite callback
stores the ticket WeCom pushes every 10 minutes), ``WECOM_AUTH_CORPID``,
``WECOM_PERMANENT_CODE``, ``WECOM_AGENTID``, ``WECOM_TEMPLATE_ID``, ``WECOM_MESSAGE_URL``;
optional ``WECOM_MEMBER_AUTH_MODE`` (1, the default, or 0) and ``WECOM_BASE_URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from wecom_feishu_async import (
    APIError,
    AuthorizedCorp,
    DecodeError,
    HTTPStatusError,
    InputError,
    InvalidCodeError,
    MiniProgramSession,
    PickerError,
    PickerResult,
    SuiteApp,
    TemplateMessage,
    TicketError,
    TransportError,
    WeComClient,
    decode_picker_result,
)
from wecom_feishu_async.wecom.messages import SEND_PATH

if TYPE_CHECKING:
    from wecom_feishu_async.emulator import Emulator

logger = logging.getLogger("examples.web_handler")

ROUTE = "/picker/result"
TICKET_FIELD = "picker.result.selectedTicket"


@dataclass(frozen=True)
class HandlerConfig:
    """What the backend needs: the suite, the company that installed it, the message."""

    suite: SuiteApp
    corp: AuthorizedCorp
    agentid: int
    template_id: str
    message_url: str
    member_auth_mode: bool = True
    base_url: str = "https://qyapi.weixin.qq.com"
    client_options: Mapping[str, Any] = field(default_factory=dict)
    """Extra ``WeComClient`` arguments (timeout, retry, pool_size, token_store, ...)."""

    def content(self, session: MiniProgramSession, result: PickerResult) -> dict[str, str]:
        """The template's items; keys must match the template approved in the console."""
        return {"title": "You have been picked for a review",
                "people": str(result.selected_user_count)}


CONFIG = web.AppKey("config", HandlerConfig)
CLIENT = web.AppKey("wecom_client", WeComClient)


def create_app(config: HandlerConfig) -> web.Application:
    """The web application; its one ``WeComClient`` lives as long as the app runs."""
    app = web.Application()
    app[CONFIG] = config
    app.cleanup_ctx.append(_wecom_client)
    app.router.add_post(ROUTE, picker_result)
    return app


async def _wecom_client(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    client = WeComClient(suite=config.suite, authorized_corp=config.corp,
                         base_url=config.base_url, **config.client_options)
    async with client:
        app[CLIENT] = client
        yield


def _error(status: int, error: str, **details: object) -> web.Response:
    return web.json_response({"error": error, **details}, status=status)


def _bad(field_name: str, message: str, **details: object) -> web.Response:
    return _error(400, "invalid_input", field=field_name, message=message, **details)


class _Forbidden(Exception):
    """The picker result does not belong to the logged-in user."""


async def picker_result(request: web.Request) -> web.Response:
    """Handle one posted picker result: log in, check the ticket, send, report."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return _bad("body", "must be a JSON object")
    if not isinstance(body, dict):
        return _bad("body", "must be a JSON object")
    code, picker = body.get("code"), body.get("picker")
    if not isinstance(code, str) or not code.strip():
        return _bad("code", "the wx.qy.login code is required")
    if not isinstance(picker, dict):
        return _bad("picker", "the object wx.qy.selectPrivilegedContact returned is required")
    # Decoded before any request: a bad result must not spend the single-use login code.
    try:
        result = decode_picker_result(picker)
    except PickerError as exc:
        return _bad("picker", "the picker failed", err_msg=exc.err_msg)
    except DecodeError as exc:
        return _bad("picker", exc.reason)
    try:
        return web.json_response(await _send(request.app[CLIENT], request.app[CONFIG],
                                             code, result))
    except _Forbidden as exc:
        return _error(403, "forbidden", message=str(exc))
    except InvalidCodeError as exc:
        return _bad("code", "login code used, expired or wrong; log in again", code=exc.code)
    except TicketError as exc:
        return _bad(TICKET_FIELD, "ticket expired or not this app's; pick again", code=exc.code)
    except InputError as exc:
        return _bad(exc.field, str(exc))
    except APIError as exc:
        logger.warning("WeCom %s answered %d", exc.endpoint, exc.code)
        return _error(502, "upstream", vendor=exc.vendor, code=exc.code, endpoint=exc.endpoint,
                      request_id=exc.request_id)
    except TransportError as exc:
        logger.warning("WeCom %s: %s", exc.endpoint, type(exc).__name__)
        sent = exc.endpoint == SEND_PATH and exc.may_have_reached_server
        return _error(504, "upstream_unavailable", endpoint=exc.endpoint,
                      may_have_been_sent=sent)
    except (HTTPStatusError, DecodeError) as exc:
        logger.warning("WeCom %s: %s", exc.endpoint, type(exc).__name__)
        return _error(502, "upstream", endpoint=exc.endpoint)


async def _send(
    client: WeComClient, config: HandlerConfig, code: str, result: PickerResult
) -> dict[str, object]:
    session = await client.miniprogram.code_to_session(code)
    ticket = result.selected_ticket
    if config.member_auth_mode:
        # A read, retried if need be, that also proves the ticket valid before the send,
        # which is never retried.
        users = await client.messages.list_selected_ticket_user(ticket)
        if session.open_userid and users.operator_open_userid != session.open_userid:
            raise _Forbidden("the ticket was picked by another user")
        picked = [*users.open_userid_list, *users.unauth_open_userid_list]
        operator = users.operator_open_userid
    else:
        # Admin-authorisation mode: only the users inside the app's range are reached.
        picked, operator = result.open_user_ids, session.open_userid
    reply = await client.messages.send_template(TemplateMessage(
        agentid=config.agentid,
        template_id=config.template_id,
        content=config.content(session, result),
        url=config.message_url,
        selected_tickets=[ticket],
        member_auth_mode=config.member_auth_mode,
    ))
    invalid = [u for u in reply.invaliduser.split("|") if u]
    return {
        "msgid": reply.msgid,
        "sender": {"userid": session.userid, "open_userid": session.open_userid},
        "selected_user_count": result.selected_user_count,
        # The ticket's creator is never among its recipients (api-facts A6.2).
        "recipients": [u for u in picked if u != operator and u not in invalid],
        "invalid_users": invalid,
        "unlicensed_users": [u for u in reply.unlicenseduser.split("|") if u],
    }


# Running it -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serving(
    config: HandlerConfig, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serve the app on host:port (0: a free port) for the block; yields its base URL."""
    runner = web.AppRunner(create_app(config), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_host, bound_port = runner.addresses[0][:2]
        yield f"http://{bound_host}:{bound_port}"
    finally:
        await runner.cleanup()


def emulator_config(emu: Emulator, **client_options: Any) -> HandlerConfig:
    """A config pointing at an emulator's suite (its ticket read anew at every fetch)."""
    world = emu.suite
    creds = world.credentials

    async def newest_suite_ticket() -> str:
        return world.suite_ticket

    return HandlerConfig(
        suite=SuiteApp(creds.suite_id, creds.suite_secret, suite_ticket=newest_suite_ticket),
        corp=AuthorizedCorp(creds.auth_corpid, creds.permanent_code),
        agentid=creds.agentid,
        template_id="tpl_review_request",
        message_url="https://example.com/review",
        base_url=emu.url,
        client_options=client_options,
    )


def demo_pick(emu: Emulator, count: int = 6) -> tuple[str, list[str]]:
    """An operator and the userids they pick: half inside the app's range, half outside."""
    app = emu.suite.app
    inside = [m.userid for m in emu.org.members if app.sees_member(m)]
    outside = [m.userid for m in emu.org.members if not app.sees_member(m)]
    return inside[0], inside[1 : 1 + count // 2] + outside[: count - count // 2]


async def post_pick(
    http: aiohttp.ClientSession, url: str, emu: Emulator, operator: str, userids: list[str]
) -> tuple[int, dict[str, Any], dict[str, object]]:
    """What the mini-program does: log in, pick, post both. Status, answer, posted body."""
    posted: dict[str, object] = {
        "code": emu.suite.login_code(operator),
        "picker": emu.suite.pick(userids, operator=operator),
    }
    async with http.post(url + ROUTE, json=posted) as response:
        return response.status, await response.json(), posted


async def _demo(port: int) -> int:
    from wecom_feishu_async.emulator import Emulator

    async with Emulator(seed=1, members=300) as emu, \
            serving(emulator_config(emu), port=port) as url, aiohttp.ClientSession() as http:
        operator, userids = demo_pick(emu)
        print(f"backend at {url}; {operator} picks {len(userids)} members", file=sys.stderr)
        status, answer, posted = await post_pick(http, url, emu, operator, userids)
        print(json.dumps({"status": status, "response": answer}, ensure_ascii=False, indent=2))
        # The same login code again: a typed error naming the field, nothing sent.
        async with http.post(url + ROUTE, json=posted) as replay:
            print(json.dumps({"status": replay.status, "response": await replay.json()},
                             ensure_ascii=False, indent=2))
        delivered = len(emu.suite.deliveries)
    print(f"messages delivered by the emulator: {delivered}", file=sys.stderr)
    return 0 if status == 200 and delivered == 1 else 1


REQUIRED_ENV = ("WECOM_SUITE_ID", "WECOM_SUITE_SECRET", "WECOM_AUTH_CORPID",
                "WECOM_PERMANENT_CODE", "WECOM_AGENTID", "WECOM_TEMPLATE_ID", "WECOM_MESSAGE_URL")


def config_from_env(env: Mapping[str, str] = os.environ) -> HandlerConfig:
    """The config from the documented environment variables.

    Raises:
        KeyError: naming every variable missing.
    """
    ticket_file = env.get("WECOM_SUITE_TICKET_FILE", "")
    missing = [n for n in REQUIRED_ENV if not env.get(n)]
    if not ticket_file and not env.get("WECOM_SUITE_TICKET"):
        missing.append("WECOM_SUITE_TICKET (or WECOM_SUITE_TICKET_FILE)")
    if missing:
        raise KeyError(", ".join(missing))
    suite_ticket: str | Callable[[], Awaitable[str]] = env.get("WECOM_SUITE_TICKET", "")
    if ticket_file:
        path = Path(ticket_file)

        async def newest_suite_ticket() -> str:
            return (await asyncio.to_thread(path.read_text)).strip()

        suite_ticket = newest_suite_ticket
    return HandlerConfig(
        suite=SuiteApp(env["WECOM_SUITE_ID"], env["WECOM_SUITE_SECRET"],
                       suite_ticket=suite_ticket),
        corp=AuthorizedCorp(env["WECOM_AUTH_CORPID"], env["WECOM_PERMANENT_CODE"]),
        agentid=int(env["WECOM_AGENTID"]),
        template_id=env["WECOM_TEMPLATE_ID"],
        message_url=env["WECOM_MESSAGE_URL"],
        member_auth_mode=env.get("WECOM_MEMBER_AUTH_MODE", "1") != "0",
        base_url=env.get("WECOM_BASE_URL") or "https://qyapi.weixin.qq.com",
    )


def main(argv: list[str] | None = None) -> int:
    """Serve the backend (real credentials), or play one round trip on the emulator."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--emulator", action="store_true",
                        help="run against an in-process emulator, play one picker round "
                        "trip, print the answer and exit")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None,
                        help="port to serve on (default 8080; a free one with --emulator)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.emulator:
        return asyncio.run(_demo(args.port or 0))
    try:
        config = config_from_env()
    except KeyError as exc:
        print(f"missing environment variables: {exc.args[0]}", file=sys.stderr)
        return 2
    except ValueError as exc:  # InputError from a credential, or a non-numeric agentid
        print(f"bad configuration: {exc}", file=sys.stderr)
        return 2
    web.run_app(create_app(config), host=args.host, port=args.port or 8080)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
