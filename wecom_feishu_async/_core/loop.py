"""The request loop shared by every vendor client.

quota → token → transport → decode → classify → (refresh the token once | retry | raise)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Protocol, TypeVar

import aiohttp
import msgspec

from . import validation as check
from .codec import DECODE_ERRORS, encode
from .endpoint import Endpoint
from .errors import (
    APIError,
    ConfigurationError,
    DecodeError,
    HTTPStatusError,
    RequestTimeout,
    TransportError,
    WFAError,
)
from .limits import LimiterBackend, Limits, Quota
from .retry import RetryPolicy
from .tokens import MemoryTokenStore, Token, TokenManager, TokenStore
from .transport import AiohttpTransport, RawResponse, Transport

__all__ = ["BaseClient", "ClientStats", "TokenSource", "logger"]

logger = logging.getLogger("wecom_feishu_async")
# A library leaves output to the application: without its own logging set up, nothing prints.
logger.addHandler(logging.NullHandler())

T = TypeVar("T")
C = TypeVar("C", bound="BaseClient")


class TokenSource(Protocol):
    """How one credential obtains its token."""

    @property
    def kind(self) -> str:
        """The token kind, as named by ``Endpoint.auth``."""
        ...

    @property
    def store_key(self) -> str:
        """The token-store key: credential id and secret digest, never the secret."""
        ...

    async def fetch(self, client: BaseClient) -> tuple[str, float]:
        """A new token and its lifetime in seconds, fetched through ``client.call``.

        A source may first obtain other tokens (a tenant token needs an app token)
        or a ticket the caller supplies.
        """
        ...


@dataclass
class ClientStats:
    """What a client has done so far; a progress display or a summary can read it."""

    requests: Counter[str] = field(default_factory=Counter)
    """Requests sent, per endpoint (every attempt, token requests included).

    An endpoint is named by its path, or by its path template where the path carries ids
    (Feishu's ``.../app_versions/:version_id``)."""
    retries: Counter[str] = field(default_factory=Counter)
    """Retries made after a transient failure, per endpoint (named as in ``requests``)."""
    token_fetches: Counter[str] = field(default_factory=Counter)
    """New tokens fetched, per token kind."""
    token_rejections: Counter[str] = field(default_factory=Counter)
    """Tokens the server rejected (and that were then refreshed), per token kind."""


class BaseClient:
    """Vendor-neutral client core: one ``call(endpoint)`` for every API."""

    _vendor: ClassVar[str]
    _refresh_codes: ClassVar[frozenset[int]]

    def __init__(
        self,
        *,
        base_url: str,
        session: aiohttp.ClientSession | None,
        pool_size: int,
        timeout: float,
        retry: RetryPolicy | None,
        quotas: Sequence[Quota],
        endpoint_quotas: Mapping[str, Sequence[Quota]] | None,
        max_in_flight: int,
        token_store: TokenStore | None,
        token_margin: float,
        transport: Transport | None,
        limiter_backend: LimiterBackend | None = None,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base_url must be an http(s) URL, got {base_url!r}")
        check.setting("pool_size", pool_size, low=1, integral=True)
        check.setting("timeout", timeout, low=0, above=True)
        check.setting("token_margin", token_margin, low=0)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ConfigurationError(f"retry must be a RetryPolicy, got {retry!r}")
        self._transport: Transport = transport or AiohttpTransport(
            base_url, session=session, pool_size=pool_size, timeout=timeout
        )
        self._retry = retry or RetryPolicy()
        self._limits = Limits(
            quotas, endpoint_quotas, max_in_flight=max_in_flight, backend=limiter_backend
        )
        self._tokens = TokenManager(token_store or MemoryTokenStore(), margin=token_margin)
        self.stats = ClientStats()

    async def __aenter__(self: C) -> C:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session, unless it was supplied by the caller."""
        await self._transport.close()

    # Vendor hooks -------------------------------------------------------------------

    def _token_source(self, endpoint: Endpoint[Any]) -> TokenSource:
        """The token source for ``endpoint``; ConfigurationError when not configured."""
        raise NotImplementedError

    def _prepare(
        self, endpoint: Endpoint[Any], token: Token | None
    ) -> tuple[Mapping[str, str], Mapping[str, str]]:
        """Query parameters and headers of one attempt, the token attached."""
        raise NotImplementedError

    def _decipher(self, endpoint: Endpoint[T], raw: RawResponse) -> T:
        """Decode a reply, or raise the error it carries."""
        raise NotImplementedError

    def _on_api_error(self, quota_key: tuple[str, str], error: APIError) -> None:
        """React to an API error before the retry decision (e.g. lower concurrency)."""

    # The loop -----------------------------------------------------------------------

    async def call(self, endpoint: Endpoint[T]) -> T:
        """Send ``endpoint`` under its quota, with a valid token and bounded retries."""
        source = self._token_source(endpoint) if endpoint.auth else None
        body = None if endpoint.body is None else encode(endpoint.body)
        # Quotas are per vendor accounting unit; without an explicit scope, the credential
        # (one per company or app) is that unit.
        quota_key = (
            endpoint.scope or (source.store_key if source is not None else ""),
            endpoint.bucket or endpoint.path,
        )
        budget = _Budget(self._retry.max_time)
        retries = 0
        refreshed = False
        while True:
            token = await self.token(source) if source is not None else None
            try:
                return await self._attempt(endpoint, quota_key, body, token, retries + 1, budget)
            except APIError as exc:
                self._on_api_error(quota_key, exc)
                if (
                    source is not None
                    and token is not None
                    and not refreshed
                    and exc.code in self._refresh_codes
                ):
                    # The token was rejected: forget it (unless someone already did and
                    # stored a new one) and try once more with a fresh one.
                    refreshed = True
                    await self.reject_token(source, token)
                    continue
                error: WFAError = exc
            except (TransportError, HTTPStatusError, DecodeError) as exc:
                error = exc
            retries += 1
            wait = self._retry.wait(error, retries, budget.elapsed(), endpoint.idempotent)
            if wait is None:
                raise error
            self.stats.retries[endpoint.bucket or endpoint.path] += 1
            logger.warning(
                "%s %s: %s; retry %d in %.2fs",
                endpoint.method,
                endpoint.path,
                type(error).__name__,
                retries,
                wait,
            )
            await asyncio.sleep(wait)

    async def token(self, source: TokenSource) -> Token:
        """A valid token of ``source``: cached, or fetched once however many callers wait.

        Token sources use it for the tokens theirs are made from (an app token).
        """

        async def fetch() -> tuple[str, float]:
            fetched = await source.fetch(self)
            self.stats.token_fetches[source.kind] += 1
            return fetched

        token, _ = await self._tokens.get(source.store_key, fetch)
        return token

    async def reject_token(self, source: TokenSource, token: Token) -> None:
        """Forget ``token``, which the server rejected, unless it was already replaced."""
        self.stats.token_rejections[source.kind] += 1
        await self._tokens.invalidate(source.store_key, token)

    async def _attempt(
        self,
        endpoint: Endpoint[T],
        quota_key: tuple[str, str],
        body: bytes | None,
        token: Token | None,
        attempt: int,
        budget: _Budget,
    ) -> T:
        params, headers = self._prepare(endpoint, token)
        started = time.perf_counter()
        gate = await self._limits.enter(quota_key)
        try:
            remaining = budget.start()
            if remaining <= 0:
                raise RequestTimeout(
                    endpoint.path, "call deadline passed", may_have_reached_server=False
                )
            self.stats.requests[endpoint.bucket or endpoint.path] += 1
            raw = await self._transport.request(
                endpoint.method,
                endpoint.path,
                params=params,
                body=body,
                headers=headers,
                timeout=remaining,
            )
        except TransportError as exc:
            _log(endpoint, attempt, started, status=None, code=type(exc).__name__)
            raise
        finally:
            gate.leave()
        try:
            result = self._decipher(endpoint, raw)
        except APIError as exc:
            _log(endpoint, attempt, started, status=raw.status, code=exc.code)
            raise
        except WFAError as exc:
            _log(endpoint, attempt, started, status=raw.status, code=type(exc).__name__)
            garbled = _garbled(endpoint, raw, exc)
            if garbled is not None and garbled is not exc:
                raise garbled from None
            raise
        gate.succeeded()
        _log(endpoint, attempt, started, status=raw.status, code=0)
        return result


def _garbled(endpoint: Endpoint[Any], raw: RawResponse, error: WFAError) -> DecodeError | None:
    """The DecodeError (``garbled``) to report if ``raw`` was spoilt in transit, else None.

    The retry policy repeats a garbled reply to a read (the same request may well get a
    whole reply) but never a write, which was processed although its reply was lost.
    Spoilt: a body that is no JSON at all, on HTTP 200 (where JSON is the only answer) or
    on a 4xx that says it carries JSON (a vendor's error reply cut short: what it said is
    unknown, so it is reported as undecodable rather than as a bare status). 5xx replies
    stay ``HTTPStatusError``, retried as such.
    """
    if not isinstance(error, (DecodeError, HTTPStatusError)) or raw.status >= 500:
        return None
    if raw.status != 200:
        kind = next((v for k, v in raw.headers.items() if k.lower() == "content-type"), "")
        if "json" not in kind.lower():
            return None
    try:
        msgspec.json.decode(raw.body)
    except RecursionError:  # nested beyond reason: sent that way, not spoilt on its way
        return None
    except DECODE_ERRORS:
        if isinstance(error, DecodeError):
            error.garbled = True
            return error
        return DecodeError(endpoint.path, f"HTTP {raw.status} reply is not valid JSON",
                           garbled=True)
    return None


class _Budget:
    """The time one call may take, counted from its first send (quota waits before it are
    a fan-out waiting its turn, not a failing server)."""

    __slots__ = ("_first_sent", "_limit")

    def __init__(self, limit: float) -> None:
        self._limit = limit
        self._first_sent: float | None = None

    def start(self) -> float:
        """Mark a send; the seconds left for it."""
        now = time.monotonic()
        if self._first_sent is None:
            self._first_sent = now
        return self._first_sent + self._limit - now

    def elapsed(self) -> float:
        """Seconds since the first send."""
        return 0.0 if self._first_sent is None else time.monotonic() - self._first_sent


def _log(
    endpoint: Endpoint[Any], attempt: int, started: float, *, status: int | None, code: object
) -> None:
    # Only the path is logged: query strings carry tokens and secrets.
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s status=%s code=%s attempt=%d elapsed=%.1fms",
            endpoint.method,
            endpoint.path,
            status,
            code,
            attempt,
            (time.perf_counter() - started) * 1000,
        )
