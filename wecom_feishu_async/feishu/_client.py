"""The Feishu client: reply classification, the code table and ``FeishuClient``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import aiohttp

from .._core.codec import DECODE_ERRORS, decoder_for
from .._core.endpoint import Endpoint
from .._core.errors import (
    APIError,
    AuthError,
    ConfigurationError,
    DecodeError,
    HTTPStatusError,
    InvalidArgumentError,
    IPNotAllowedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerBusyError,
    error_class_for,
    register_codes,
)
from .._core.limits import LimiterBackend, Quota
from .._core.loop import BaseClient, TokenSource
from .._core.redaction import scrub
from .._core.retry import RetryPolicy
from .._core.tokens import Token, TokenStore
from .._core.transport import RawResponse, Transport
from ._auth import FeishuApp, FeishuStoreApp, token_source
from .application import ApplicationAPI
from .models import ErrorReply, FeishuReply

__all__ = ["FEISHU_BASE_URL", "FEISHU_DEFAULT_QUOTAS", "LARK_BASE_URL", "FeishuClient", "decipher"]

T = TypeVar("T")

FEISHU_BASE_URL = "https://open.feishu.cn"
LARK_BASE_URL = "https://open.larksuite.com"  # Lark (international): same paths

# Tier 3 of the frequency table, the tier of every application endpoint wrapped here:
# 100 calls a minute per app per tenant per API (api-facts B6). No 60 s window exceeds 100
# even when a request arrives up to 0.5 s late (the slack); the burst of 5 and the slack
# still allow 287 calls in three minutes (0.96 of the quota).
FEISHU_DEFAULT_QUOTAS: tuple[Quota, ...] = (Quota(100, 60.0, slack=0.5),)

# Feishu hands back the same token while 30 min or more of it remain, and a new one below
# that (api-facts B1). Refreshing 5 min before expiry therefore always gets a new token; a
# margin of 30 min or more would get the old one back, with no more life than before.
TOKEN_MARGIN = 300.0

RATE_LIMITED = 99991400
# The token is invalid or expired (99991663) or missing (99991661): refresh and retry once.
_REFRESH_CODES = frozenset({99991663, 99991661})

# Feishu code → class (api-facts B1–B7, seed 002). Unknown codes map to APIError.
register_codes("feishu", {
    RATE_LIMITED: RateLimitedError,
    # Monthly call quota used up: waiting minutes does not help, so it is not retried.
    99991403: PermissionDeniedError,
    99991401: IPNotAllowedError,
    **dict.fromkeys((99991661, 99991663, 99991664, 99991665, 99991668, 99991671, 99991677),
                    AuthError),
    **dict.fromkeys((99991672, 99991673, 99991679, 210508), PermissionDeniedError),
    # Token endpoints: 10003 malformed app_id/secret, 10014 unknown app, 10015 wrong secret,
    # 10012/10013 no app/tenant token could be issued.
    **dict.fromkeys((10012, 10013, 10014, 10015), AuthError),
    **dict.fromkeys((10003, 99992402, 210500, 210501, 210503, 210505, 210514),
                    InvalidArgumentError),
    **dict.fromkeys((210504, 210506, 211002, 211003), NotFoundError),
    **dict.fromkeys((1500, 2200, 5000), ServerBusyError),
})


def _header(raw: RawResponse, name: str) -> str | None:
    value = raw.headers.get(name)
    if value is None:  # a plain mapping (not aiohttp's) is case-sensitive
        lowered = name.lower()
        value = next((v for k, v in raw.headers.items() if k.lower() == lowered), None)
    return value


def _seconds(value: str | None) -> float | None:
    try:
        seconds = None if value is None else float(value)
    except ValueError:
        return None
    # A wait that is no finite number is no wait at all (a nan wait would never end).
    return None if seconds is None or not math.isfinite(seconds) else max(seconds, 0.0)


def decipher(endpoint: Endpoint[T], raw: RawResponse) -> T:
    """Decode a Feishu reply into ``endpoint.response`` or raise the error it carries.

    Business errors come with HTTP 4xx/5xx and a JSON body, token errors with HTTP 200:
    the body is read before the status is judged.
    """
    path = endpoint.path
    reason = f"HTTP {raw.status}"
    if raw.status == 200:
        try:
            reply = decoder_for(endpoint.response).decode(raw.body)
        except DECODE_ERRORS as exc:
            reason = str(exc)
        else:
            if not isinstance(reply, FeishuReply):
                raise TypeError(f"{endpoint.response!r} is not a FeishuReply")
            if not reply.code:
                return reply
    try:
        envelope: ErrorReply | None = decoder_for(ErrorReply).decode(raw.body)
    except DECODE_ERRORS:
        envelope = None
    if envelope is not None and envelope.code:
        raise _api_error(path, raw, envelope)
    if raw.status == 200:
        raise DecodeError(path, reason)
    if raw.status == 429:  # a gateway's refusal without the JSON body
        raise RateLimitedError(
            vendor="feishu", endpoint=path, code=RATE_LIMITED, message="HTTP 429", status=429,
            request_id=_header(raw, "X-Tt-Logid"),
            retry_after=_seconds(_header(raw, "x-ogw-ratelimit-reset")),
        )
    excerpt = scrub(raw.body[:200].decode("utf-8", "replace"))
    raise HTTPStatusError(path, raw.status, excerpt)


def _api_error(path: str, raw: RawResponse, reply: ErrorReply) -> APIError:
    info = reply.error
    message = scrub(reply.msg)
    needs = [v.subject or v.description for v in info.permission_violations]
    fields = [f"{v.field}: {v.description}" for v in info.field_violations]
    if needs:
        message += f" (needs one of: {', '.join(needs)})"
    if fields:
        message += f" ({'; '.join(fields)})"
    retry_after = None
    if reply.code == RATE_LIMITED:
        retry_after = _seconds(_header(raw, "x-ogw-ratelimit-reset"))
    cls = error_class_for("feishu", reply.code)
    return cls(vendor="feishu", endpoint=path, code=reply.code, message=message,
               status=raw.status, request_id=info.log_id or _header(raw, "X-Tt-Logid") or None,
               retry_after=retry_after, troubleshooter=info.troubleshooter or None)


class FeishuClient(BaseClient):
    """An async client of the Feishu (or Lark) open platform.

    Args:
        app: a self-built app (``FeishuApp``) or a store app acting for one tenant
            (``FeishuStoreApp``).
        base_url: the API root: ``FEISHU_BASE_URL``, ``LARK_BASE_URL`` or the emulator's.
        session: an ``aiohttp.ClientSession`` to use; the client never closes it.
        pool_size: connections kept by the client's own session.
        timeout: seconds for one attempt, from sending to the last byte. A whole call,
            retries included, ends within ``retry.max_time`` of its first send.
        retry: the retry policy; its ``max_retry_after`` caps the wait a 429's
            ``x-ogw-ratelimit-reset`` asks for.
        quotas: quotas applied to every API, per app and tenant (default 100 a minute).
        endpoint_quotas: quotas for particular APIs (keyed by path template, e.g.
            ``CONTACTS_RANGE_SUGGEST``), replacing ``quotas`` there.
        max_in_flight: requests at once per API.
        token_store: where tokens are cached (shared between clients given the same).
        token_margin: refresh tokens this many seconds before they expire.
        transport: a replacement transport (tests); ``session`` is then unused.
        limiter_backend: where quota state lives (default: this process); a
            ``RedisLimiterBackend`` shares quotas between processes.

    Use it as an async context manager, or call ``close()``.
    """

    _vendor = "feishu"
    _refresh_codes = _REFRESH_CODES

    def __init__(
        self,
        app: FeishuApp | FeishuStoreApp,
        *,
        base_url: str = FEISHU_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        pool_size: int = 100,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        quotas: Sequence[Quota] = FEISHU_DEFAULT_QUOTAS,
        endpoint_quotas: Mapping[str, Sequence[Quota]] | None = None,
        max_in_flight: int = 64,
        token_store: TokenStore | None = None,
        token_margin: float = TOKEN_MARGIN,
        transport: Transport | None = None,
        limiter_backend: LimiterBackend | None = None,
    ) -> None:
        source = token_source(app)
        super().__init__(
            base_url=base_url,
            session=session,
            pool_size=pool_size,
            timeout=timeout,
            retry=retry,
            quotas=quotas,
            endpoint_quotas=endpoint_quotas,
            max_in_flight=max_in_flight,
            token_store=token_store,
            token_margin=token_margin,
            transport=transport,
            limiter_backend=limiter_backend,
        )
        self._source: TokenSource = source
        self.app = app
        self.application = ApplicationAPI(self)

    def __repr__(self) -> str:
        return f"FeishuClient(app_id={self.app.app_id!r})"

    def _token_source(self, endpoint: Endpoint[Any]) -> TokenSource:
        if endpoint.auth != "tenant_access_token":
            raise ConfigurationError(f"{endpoint.path}: unsupported token kind {endpoint.auth}")
        return self._source

    def _prepare(
        self, endpoint: Endpoint[Any], token: Token | None
    ) -> tuple[Mapping[str, str], Mapping[str, str]]:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.value}"
        if endpoint.body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return endpoint.params, headers

    def _decipher(self, endpoint: Endpoint[T], raw: RawResponse) -> T:
        return decipher(endpoint, raw)

    def _on_api_error(self, quota_key: tuple[str, str], error: APIError) -> None:
        if isinstance(error, RateLimitedError):
            # Every request of the API waits the reset out, not only the one refused.
            wait = error.retry_after
            if wait is None:
                wait = self._retry.rate_limit_delay
            self._limits.pause(quota_key, min(wait, self._retry.max_retry_after))
