"""Exceptions raised by the library.

```
WFAError
├── ConfigurationError          a credential or setting is missing or wrong (before sending)
├── InputError (ValueError)     a call's argument is invalid (before sending); names the field
├── TransportError              the request did not produce an HTTP response
│   ├── NetworkError            connection refused, reset, DNS, ...
│   └── RequestTimeout          no complete response within the timeout
├── HTTPStatusError             an HTTP status the vendor does not use for API errors (5xx, ...)
├── DecodeError                 the response body is not what the endpoint documents
└── APIError                    the vendor answered with an error code
    ├── AuthError               token or credential rejected
    ├── RateLimitedError        frequency or concurrency quota hit; carries ``retry_after``
    ├── PermissionDeniedError   outside the app's visible range / API not allowed
    │   └── IPNotAllowedError   caller IP not on the allow-list; carries ``ip``
    ├── InvalidArgumentError    the vendor rejected a parameter
    │   └── InvalidCodeError    a login code is used, expired or wrong (WeCom 40029)
    ├── TicketError             a selected ticket cannot be spent
    │   ├── InvalidTicketError  unknown or expired ticket (60222)
    │   └── ForeignTicketError  the ticket belongs to another app (60219)
    ├── NotFoundError           the named department / user / version does not exist
    └── ServerBusyError         the vendor is busy (WeCom -1); retried
```
"""

from __future__ import annotations

import re

__all__ = [
    "APIError",
    "AuthError",
    "ConfigurationError",
    "DecodeError",
    "ForeignTicketError",
    "HTTPStatusError",
    "IPNotAllowedError",
    "InputError",
    "InvalidArgumentError",
    "InvalidCodeError",
    "InvalidTicketError",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestTimeout",
    "ServerBusyError",
    "SuiteTicketError",
    "TicketError",
    "TransportError",
    "WFAError",
    "error_class_for",
]


class WFAError(Exception):
    """Base of every exception raised by wecom_feishu_async."""


class ConfigurationError(WFAError):
    """A credential or client setting needed for the call is missing or invalid."""


class InputError(WFAError, ValueError):
    """An argument failed validation before any request was sent."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class TransportError(WFAError):
    """The request did not produce an HTTP response."""

    def __init__(self, endpoint: str, message: str, *, may_have_reached_server: bool) -> None:
        self.endpoint = endpoint
        self.may_have_reached_server = may_have_reached_server
        super().__init__(f"{endpoint}: {message}")


class NetworkError(TransportError):
    """The connection failed or broke before a full response arrived."""


class RequestTimeout(TransportError):
    """No complete response arrived within the configured timeout."""


class HTTPStatusError(WFAError):
    """The server answered with an HTTP status that carries no API error body."""

    def __init__(self, endpoint: str, status: int, body_excerpt: str = "") -> None:
        self.endpoint = endpoint
        self.status = status
        message = f"{endpoint}: HTTP {status}"
        if body_excerpt:
            message += f": {body_excerpt}"
        super().__init__(message)


class DecodeError(WFAError):
    """The response body could not be decoded as the endpoint's documented type.

    ``garbled``: the body was no JSON at all (cut short, empty, a proxy's page), so it was
    spoilt on its way and asking again may get a whole reply; well-formed JSON of the wrong
    shape is not garbled (asking again would get the same).
    """

    def __init__(self, endpoint: str, reason: str, *, garbled: bool = False) -> None:
        self.endpoint = endpoint
        self.reason = reason
        self.garbled = garbled
        super().__init__(f"{endpoint}: unexpected response: {reason}")


# WeCom appends "hint: [<id>]" to errmsg; the id identifies the request on their side.
_HINT = re.compile(r"hint:\s*\[([^\]]+)\]")
_FROM_IP = re.compile(r"from ip:\s*([0-9a-fA-F:.]+)")


class APIError(WFAError):
    """The vendor answered the request with a non-zero error code."""

    def __init__(
        self,
        *,
        vendor: str,
        endpoint: str,
        code: int,
        message: str,
        status: int = 200,
        request_id: str | None = None,
        retry_after: float | None = None,
        troubleshooter: str | None = None,
    ) -> None:
        self.vendor = vendor
        self.endpoint = endpoint
        self.code = code
        self.msg = message
        self.status = status
        if request_id is None:
            hint = _HINT.search(message)
            request_id = hint.group(1) if hint else None
        self.request_id = request_id
        self.retry_after = retry_after
        self.troubleshooter = troubleshooter
        """A link to the vendor's diagnosis of this request (Feishu), if given."""
        text = f"{vendor} {endpoint}: error {code}: {message}"
        if request_id and request_id not in message:
            text += f" (request id {request_id})"
        super().__init__(text)


class AuthError(APIError):
    """The token or credential was rejected (invalid, expired, missing, wrong secret)."""


class RateLimitedError(APIError):
    """A frequency or concurrency quota was hit; ``retry_after`` is the server's wait, if any."""


class PermissionDeniedError(APIError):
    """The app may not read that object or call that API."""


class IPNotAllowedError(PermissionDeniedError):
    """The calling IP is not on the app's allow-list; ``ip`` is the address WeCom saw."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        found = _FROM_IP.search(self.msg)
        self.ip: str | None = found.group(1).rstrip(".,") if found else None


class InvalidArgumentError(APIError):
    """The vendor rejected a parameter of the request."""


class InvalidCodeError(InvalidArgumentError):
    """A login code (``wx.qy.login``) was already used, has expired or is wrong."""


class SuiteTicketError(AuthError):
    """The suite ticket is invalid or expired: supply the newest ticket WeCom pushed."""

    def __str__(self) -> str:
        return (
            super().__str__()
            + " — supply the newest suite_ticket pushed to your callback URL (every 10 min)"
        )


class TicketError(APIError):
    """A selected ticket (from the contact picker) cannot be spent."""


class InvalidTicketError(TicketError):
    """The ticket is unknown or has expired."""


class ForeignTicketError(TicketError):
    """The ticket was created by another app than the one spending it."""


class NotFoundError(APIError):
    """The object named by the request does not exist."""


class ServerBusyError(APIError):
    """The vendor reported a transient internal failure."""


# WeCom errcode → class (api-facts A1, A3, A4, A7.2). Unknown codes map to APIError.
_WECOM_CODES: dict[int, type[APIError]] = {
    -1: ServerBusyError,
    40001: AuthError,
    40013: AuthError,
    40014: AuthError,
    40082: AuthError,
    40084: AuthError,
    40085: SuiteTicketError,
    40080: AuthError,
    40083: AuthError,
    41023: SuiteTicketError,
    40091: AuthError,
    41001: AuthError,
    41002: AuthError,
    41004: AuthError,
    42001: AuthError,
    42009: AuthError,
    48004: AuthError,
    45009: RateLimitedError,
    45033: RateLimitedError,
    48002: PermissionDeniedError,
    48009: PermissionDeniedError,
    60011: PermissionDeniedError,
    60020: IPNotAllowedError,
    40003: InvalidArgumentError,
    40056: InvalidArgumentError,
    40058: InvalidArgumentError,
    45029: InvalidArgumentError,
    60123: InvalidArgumentError,
    60003: NotFoundError,
    60111: NotFoundError,
    40029: InvalidCodeError,
    42013: AuthError,
    # Template messages and selected tickets (api-facts A6).
    60206: PermissionDeniedError,
    60207: PermissionDeniedError,
    60208: PermissionDeniedError,
    60210: InvalidArgumentError,
    60211: InvalidArgumentError,
    60214: PermissionDeniedError,
    60215: InvalidArgumentError,
    60217: PermissionDeniedError,
    60218: PermissionDeniedError,
    60219: ForeignTicketError,
    60222: InvalidTicketError,
    60225: PermissionDeniedError,
    60226: InvalidArgumentError,
}

_TABLES: dict[str, dict[int, type[APIError]]] = {"wecom": _WECOM_CODES}


def error_class_for(vendor: str, code: int) -> type[APIError]:
    """The exception class for a vendor's error code (``APIError`` when unknown)."""
    return _TABLES.get(vendor, {}).get(code, APIError)


def register_codes(vendor: str, table: dict[int, type[APIError]]) -> None:
    """Add a vendor's code table (used by vendor packages at import)."""
    _TABLES.setdefault(vendor, {}).update(table)
