"""Spending picker tickets: template messages and ``user/list_selected_ticket_user``.

Docs: template messages https://developer.work.weixin.qq.com/document/path/94515,
ticket users https://developer.work.weixin.qq.com/document/path/94894.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from .._core import validation as check
from .._core.endpoint import Endpoint
from .._core.errors import InputError
from .models import WeComReply

if TYPE_CHECKING:
    from .._core.loop import BaseClient

__all__ = [
    "MessageSendReply",
    "MessagesAPI",
    "MiniProgramLink",
    "SelectedTicketUsers",
    "TemplateMessage",
]

SEND_PATH = "/cgi-bin/message/send"
TICKET_USERS_PATH = "/cgi-bin/user/list_selected_ticket_user"

MAX_TICKETS = 10
MAX_USERS, MAX_PARTIES, MAX_TAGS = 1000, 100, 100


@dataclass(frozen=True, slots=True)
class MiniProgramLink:
    """A mini-program page a template message opens."""

    appid: str
    pagepath: str = ""


@dataclass(frozen=True, slots=True)
class TemplateMessage:
    """A ``template_msg`` app message, checked on creation against the documented rules.

    Args:
        agentid: the sending app.
        template_id: the template approved in the provider console (at most 64 bytes).
        content: 1 to 5 ``key -> value`` items; keys 1–20 and values 1–40 characters.
        url: the page opened (``http(s)://``, at most 2048 bytes); or ``miniprogram``.
        miniprogram: a mini-program page (wins over ``url`` when both are given).
        touser / toparty / totag: recipients (at most 1000 / 100 / 100).
        selected_tickets: picker tickets whose users receive it (at most 10).
        only_unauth: send only to the tickets' users outside the app's range (needs tickets).
        enable_id_trans: translate ids in the content.
        member_auth_mode: the app is installed in member-authorisation mode, where
            ``@all``, ``toparty`` and ``totag`` are not allowed.

    Raises:
        InputError: naming the field that breaks a rule.
    """

    agentid: int
    template_id: str
    content: Mapping[str, str]
    url: str | None = None
    miniprogram: MiniProgramLink | None = None
    touser: Sequence[str] = ()
    toparty: Sequence[str] = ()
    totag: Sequence[str] = ()
    selected_tickets: Sequence[str] = field(default=(), repr=False)
    only_unauth: bool = False
    enable_id_trans: bool = False
    member_auth_mode: bool = False

    def __post_init__(self) -> None:
        check.integer("agentid", self.agentid, low=1, high=check.INT32_MAX)
        if len(check.text("template_id", self.template_id).encode()) > 64:
            raise InputError("template_id", "must be at most 64 bytes")
        if not isinstance(self.content, Mapping) or not 1 <= len(self.content) <= 5:
            raise InputError("content", "must hold 1 to 5 key/value items")
        for key, value in self.content.items():
            check.text("content key", key, max_chars=20)
            check.text(f"content[{key!r}]", value, max_chars=40)
        if self.url is None and self.miniprogram is None:
            raise InputError("url", "a url or a miniprogram is required")
        if self.url is not None:
            url = check.text("url", self.url)
            if not url.startswith(("http://", "https://")) or len(url.encode()) > 2048:
                raise InputError("url", "must start with http:// or https:// (<= 2048 bytes)")
        if self.miniprogram is not None:
            if not isinstance(self.miniprogram, MiniProgramLink):
                raise InputError("miniprogram", "must be a MiniProgramLink")
            check.text("miniprogram.appid", self.miniprogram.appid)
            check.string("miniprogram.pagepath", self.miniprogram.pagepath)
        for name, ids, most in (
            ("touser", self.touser, MAX_USERS),
            ("toparty", self.toparty, MAX_PARTIES),
            ("totag", self.totag, MAX_TAGS),
            ("selected_tickets", self.selected_tickets, MAX_TICKETS),
        ):
            _ids(name, ids, most)
        for name in ("only_unauth", "enable_id_trans", "member_auth_mode"):
            check.flag(name, getattr(self, name))
        if self.only_unauth and not self.selected_tickets:
            raise InputError("only_unauth", "only works together with selected_tickets")
        if self.member_auth_mode:
            if "@all" in self.touser:
                raise InputError("touser", "@all is not allowed in member-authorisation mode")
            for name in ("toparty", "totag"):
                if getattr(self, name):
                    raise InputError(name, "not allowed in member-authorisation mode")
        if not (self.touser or self.toparty or self.totag or self.selected_tickets):
            raise InputError("touser", "no recipient: give touser, toparty, totag or tickets")

    def body(self) -> dict[str, object]:
        """The ``message/send`` request body."""
        template: dict[str, object] = {
            "template_id": self.template_id,
            "content_item": [{"key": k, "value": v} for k, v in self.content.items()],
        }
        if self.url is not None:
            template["url"] = self.url
        if self.miniprogram is not None:
            template["miniprogram"] = {
                "appid": self.miniprogram.appid,
                "pagepath": self.miniprogram.pagepath,
            }
        body: dict[str, object] = {
            "agentid": self.agentid,
            "msgtype": "template_msg",
            "template_msg": template,
        }
        for name in ("touser", "toparty", "totag"):
            ids = getattr(self, name)
            if ids:
                body[name] = "|".join(ids)
        if self.selected_tickets:
            body["selected_ticket_list"] = list(self.selected_tickets)
        if self.only_unauth:
            body["only_unauth"] = True
        if self.enable_id_trans:
            body["enable_id_trans"] = 1
        return body


def _ids(name: str, ids: object, most: int) -> None:
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
        raise InputError(name, f"must be a list of strings, got {type(ids).__name__}")
    if len(ids) > most:
        raise InputError(name, f"must hold at most {most} items, got {len(ids)}")
    for i, value in enumerate(ids):
        # Recipients travel joined by "|": one containing it would address others.
        if "|" in check.text(f"{name}[{i}]", value):
            raise InputError(f"{name}[{i}]", 'must not contain "|"')


class MessageSendReply(WeComReply):
    """The ``message/send`` reply: recipients WeCom could not deliver to, pipe-separated.

    UNCERTAIN: which of these a ``template_msg`` reply carries is not documented; all
    default to empty.
    """

    invaliduser: str = ""
    invalidparty: str = ""
    invalidtag: str = ""
    unlicenseduser: str = ""
    msgid: str = ""
    response_code: str = ""


class SelectedTicketUsers(WeComReply):
    """The users behind a selected ticket: inside and outside the app's visible range."""

    operator_open_userid: str = ""
    open_userid_list: list[str] = msgspec.field(default_factory=list)
    unauth_open_userid_list: list[str] = msgspec.field(default_factory=list)
    total: int = 0


class MessagesAPI:
    """App messages and ticket consumers (``client.messages``); corp ``access_token``."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client

    async def send_template(self, message: TemplateMessage) -> MessageSendReply:
        """Send a template message once.

        It is never retried after a timeout or any failure once the request may have
        reached WeCom (a retry could deliver it twice); a connection that never opened,
        or a rate-limit rejection, is retried.

        Raises:
            InputError: ``message`` is not a ``TemplateMessage``.
            TicketError: a ticket is unknown, expired (``InvalidTicketError``) or another
                app's (``ForeignTicketError``).
            RequestTimeout: no reply in time; the message may or may not have been sent.
        """
        if not isinstance(message, TemplateMessage):
            raise InputError("message", f"must be a TemplateMessage, got {message!r}")
        return await self._client.call(
            Endpoint("POST", SEND_PATH, MessageSendReply, "access_token", body=message.body(),
                     idempotent=False)
        )

    async def list_selected_ticket_user(self, selected_ticket: str) -> SelectedTicketUsers:
        """The users a picker ticket stands for (member-authorisation-mode apps only)."""
        ticket = check.text("selected_ticket", selected_ticket)
        return await self._client.call(
            Endpoint("POST", TICKET_USERS_PATH, SelectedTicketUsers, "access_token",
                     body={"selected_ticket": ticket})
        )
