"""The mini-program contact picker ``wx.qy.selectPrivilegedContact``: options and result.

The picker runs in the WeCom mini-program, not on the server. The server hands the
front end validated options (``PickerOptions.to_js()``) and decodes the result object
the front end posts back (``decode_picker_result``). The result's ``selectedTicket`` is
then spent on server calls (template messages, ``user/list_selected_ticket_user``).

Doc: https://developer.work.weixin.qq.com/document/path/94896 (doc id 32272).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

import msgspec

from .._core import validation as check
from .._core.errors import DecodeError, InputError, WFAError

__all__ = [
    "PICKER_TICKET_LIFETIME",
    "PickedUser",
    "PickerContextRequiresMultiMode",
    "PickerError",
    "PickerOptions",
    "PickerResult",
    "PickerUnsupportedContext",
    "decode_picker_result",
]

logger = logging.getLogger("wecom_feishu_async")

JS_API = "wx.qy.selectPrivilegedContact"
OK = "selectPrivilegedContact:ok"
PICKER_TICKET_LIFETIME = 7 * 24 * 3600  # a ticket lives 7 days unless the result says otherwise
MAX_OPEN_USER_IDS = 2000
MAX_TICKETS = 10

Mode = Literal["single", "multi"]


@dataclass(frozen=True, slots=True)
class PickerOptions:
    """Options of ``wx.qy.selectPrivilegedContact``, checked on creation.

    Args:
        from_department_id: where the picker opens: -1 the user's own department, 0 the
            top, or a department id.
        mode: ``"single"`` or ``"multi"``.
        selected_context_contact: 1 to pre-select the current chat's members (only in the
            chat attachment context); needs ``mode="multi"``.
        selected_open_user_ids: users pre-selected (multi mode only; at most 2000).
        selected_tickets: earlier tickets pre-selected (multi mode only; at most 10).

    Raises:
        InputError: naming the field that breaks a rule of the picker.
    """

    from_department_id: int
    mode: Mode
    selected_context_contact: int = 0
    selected_open_user_ids: Sequence[str] = field(default=())
    selected_tickets: Sequence[str] = field(default=())

    def __post_init__(self) -> None:
        check.integer("from_department_id", self.from_department_id, low=-1,
                      high=check.INT32_MAX)
        if self.mode not in ("single", "multi"):
            raise InputError("mode", f'must be "single" or "multi", got {self.mode!r}')
        context = check.integer(
            "selected_context_contact", self.selected_context_contact, low=0, high=1
        )
        if context == 1 and self.mode == "single":
            # The picker itself would answer fail_context_require_multi_mode.
            raise InputError("selected_context_contact", '1 requires mode="multi"')
        object.__setattr__(
            self,
            "selected_open_user_ids",
            _ids("selected_open_user_ids", self.selected_open_user_ids, MAX_OPEN_USER_IDS),
        )
        object.__setattr__(
            self, "selected_tickets", _ids("selected_tickets", self.selected_tickets, MAX_TICKETS)
        )

    def to_js(self) -> dict[str, object]:
        """The options object, camelCase, exactly as the JS call takes it.

        In single mode WeCom ignores pre-selected users and tickets, so they are left out
        (with a warning, since the caller presumably expected them to apply).
        """
        options: dict[str, object] = {
            "fromDepartmentId": self.from_department_id,
            "mode": self.mode,
            "selectedContextContact": self.selected_context_contact,
        }
        if self.mode == "multi":
            if self.selected_open_user_ids:
                options["selectedOpenUserIds"] = list(self.selected_open_user_ids)
            if self.selected_tickets:
                options["selectedTickets"] = list(self.selected_tickets)
        elif self.selected_open_user_ids or self.selected_tickets:
            logger.warning(
                "%s: single mode ignores selected_open_user_ids and selected_tickets; "
                "left out of the options",
                JS_API,
            )
        return options

    def to_json(self) -> str:
        """``to_js()`` as JSON text."""
        return msgspec.json.encode(self.to_js()).decode()

    @classmethod
    def from_js(cls, options: Mapping[str, object]) -> PickerOptions:
        """Options from the camelCase object the JS call takes."""
        if not isinstance(options, Mapping):
            raise InputError("options", f"must be a mapping, got {type(options).__name__}")
        return cls(
            from_department_id=options.get("fromDepartmentId"),  # type: ignore[arg-type]
            mode=options.get("mode"),  # type: ignore[arg-type]
            selected_context_contact=options.get("selectedContextContact", 0),  # type: ignore[arg-type]
            selected_open_user_ids=options.get("selectedOpenUserIds", ()),  # type: ignore[arg-type]
            selected_tickets=options.get("selectedTickets", ()),  # type: ignore[arg-type]
        )


def _ids(name: str, values: object, most: int) -> tuple[str, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise InputError(name, f"must be a list of strings, got {type(values).__name__}")
    if len(values) > most:
        raise InputError(name, f"must hold at most {most} items, got {len(values)}")
    return tuple(check.text(f"{name}[{i}]", v) for i, v in enumerate(values))


# What a well-formed result holds; anything else is a DecodeError naming the key.
_NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
_Count = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
# A lifetime of more than a year is no ticket lifetime (and would not fit a timestamp).
_Lifetime = Annotated[int, msgspec.Meta(gt=0, le=366 * 24 * 3600)]


class PickedUser(msgspec.Struct, frozen=True):
    """A picked user inside the app's visible range."""

    open_user_id: _NonEmpty = msgspec.field(name="openUserId")


class _SelectResult(msgspec.Struct, frozen=True):
    # Field names are the front end's camelCase keys.
    selectedTicket: _NonEmpty
    selectedUserCount: _Count
    expiresIn: _Lifetime | None = None  # absent: the documented default of 7 days
    userList: list[PickedUser] = msgspec.field(default_factory=list)


class _PickerReply(msgspec.Struct, frozen=True):
    err_msg: str
    result: _SelectResult | None = None


@dataclass(frozen=True, slots=True)
class PickerResult:
    """What the user picked: a ticket for the whole selection and the visible users.

    ``selected_user_count`` counts everyone picked; ``users`` only those inside the app's
    visible range (the rest are reachable through the ticket).
    """

    selected_ticket: str = field(repr=False)
    expires_in: int
    expires_at: float
    selected_user_count: int
    users: tuple[PickedUser, ...]

    @property
    def open_user_ids(self) -> list[str]:
        """The ``openUserId`` of every visible picked user."""
        return [u.open_user_id for u in self.users]

    def expired(self, now: float | None = None) -> bool:
        """Whether the ticket has expired (at ``now``, unix seconds; default the clock)."""
        return (time.time() if now is None else now) >= self.expires_at

    def to_js(self) -> dict[str, object]:
        """The result object as the front end received it."""
        return {
            "err_msg": OK,
            "result": {
                "selectedTicket": self.selected_ticket,
                "expiresIn": self.expires_in,
                "selectedUserCount": self.selected_user_count,
                "userList": [{"openUserId": u.open_user_id} for u in self.users],
            },
        }


class PickerError(WFAError):
    """The picker reported a failure; ``err_msg`` is its raw message."""

    def __init__(self, err_msg: str) -> None:
        self.err_msg = err_msg
        super().__init__(f"{JS_API} failed: {err_msg}")


class PickerUnsupportedContext(PickerError):
    """``selectedContextContact=1`` outside a context that supports it (chat attachment)."""


class PickerContextRequiresMultiMode(PickerError):
    """``selectedContextContact=1`` with ``mode="single"``."""


_FAILURES: dict[str, type[PickerError]] = {
    "selectPrivilegedContact:fail_unsupported_context": PickerUnsupportedContext,
    "selectPrivilegedContact:fail_context_require_multi_mode": PickerContextRequiresMultiMode,
}


def decode_picker_result(
    payload: str | bytes | Mapping[str, object],
    *,
    clock: Callable[[], float] = time.time,
) -> PickerResult:
    """Decode the picker's result object as the front end posted it (JSON text or a dict).

    Raises:
        PickerError: the picker failed (a subclass for each documented failure).
        DecodeError: the object is not a picker result.
    """
    try:
        if isinstance(payload, (str, bytes)):
            reply = msgspec.json.decode(payload, type=_PickerReply)
        else:
            reply = msgspec.convert(payload, _PickerReply)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DecodeError(JS_API, str(exc)) from None
    except RecursionError:
        raise DecodeError(JS_API, "nested too deeply") from None
    if reply.err_msg != OK:
        raise _FAILURES.get(reply.err_msg, PickerError)(reply.err_msg)
    if reply.result is None:
        raise DecodeError(JS_API, "err_msg is ok but there is no result")
    found = reply.result
    expires_in = PICKER_TICKET_LIFETIME if found.expiresIn is None else found.expiresIn
    return PickerResult(
        selected_ticket=found.selectedTicket,
        expires_in=expires_in,
        expires_at=clock() + expires_in,
        selected_user_count=found.selectedUserCount,
        users=tuple(found.userList),
    )
