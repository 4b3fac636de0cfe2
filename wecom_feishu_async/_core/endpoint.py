"""A request described as a value: what to send, which token and quota, what comes back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

__all__ = ["Endpoint"]


@dataclass(frozen=True, slots=True)
class Endpoint(Generic[T]):
    """One API request and the type its reply decodes to.

    Args:
        method: HTTP method.
        path: URL path below the client's base URL.
        response: the msgspec type of a successful reply.
        auth: the token kind the request carries (``"access_token"``,
            ``"provider_access_token"``, ...), or None for token endpoints themselves.
        params: query parameters, without the token.
        body: a JSON-encodable request body, or None.
        scope: the unit the vendor counts quotas for (a corp id, an app in a tenant);
            empty: the credential's.
        bucket: the quota bucket; defaults to the path.
        idempotent: whether repeating the request is harmless (reads); writes are not
            retried once they may have reached the server.
    """

    method: Literal["GET", "POST"]
    path: str
    response: type[T]
    auth: str | None
    # Token requests carry secrets in their parameters or body: kept out of the repr, which
    # tracebacks, debuggers and error trackers show.
    params: Mapping[str, str] = field(default_factory=dict, repr=False)
    body: object = field(default=None, repr=False)
    scope: str = ""
    bucket: str = ""
    idempotent: bool = True
