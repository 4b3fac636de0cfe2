"""HTTP transport: the only module that uses aiohttp's client."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from .errors import ConfigurationError, NetworkError, RequestTimeout
from .redaction import scrub

__all__ = ["AiohttpTransport", "RawResponse", "Transport"]


@dataclass(frozen=True, slots=True)
class RawResponse:
    """An HTTP response, fully read."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    """Sends one request and returns the whole response, or raises ``TransportError``."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float | None = None,
    ) -> RawResponse:
        """Send; ``timeout`` (seconds) shortens the transport's own limit for this request."""
        ...

    async def close(self) -> None: ...


_CONNECT_TIMEOUTS: tuple[type[BaseException], ...] = tuple(
    t for t in (getattr(aiohttp, "ConnectionTimeoutError", None),) if t is not None
)


class AiohttpTransport:
    """A transport over one pooled ``aiohttp.ClientSession``.

    The session is created on first use (inside the running loop) and closed by
    ``close()``, unless it was the caller's: a caller's session is never closed.
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        pool_size: int = 100,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._pool_size = pool_size
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._closed = False

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session in use, created on first access."""
        if self._closed:
            raise ConfigurationError("the client is closed")
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float | None = None,
    ) -> RawResponse:
        url = self.base_url + path
        limit = self._timeout
        if timeout is not None and (limit.total is None or timeout < limit.total):
            limit = aiohttp.ClientTimeout(total=timeout)
        try:
            async with self.session.request(
                method,
                url,
                params=params,
                data=body,
                headers=headers,
                timeout=limit,
                allow_redirects=False,
            ) as resp:
                payload = await resp.read()
                return RawResponse(resp.status, resp.headers, payload)
        except _CONNECT_TIMEOUTS as exc:
            raise RequestTimeout(path, "connect timed out", may_have_reached_server=False) from exc
        except asyncio.TimeoutError as exc:
            raise RequestTimeout(path, "timed out", may_have_reached_server=True) from exc
        except aiohttp.ClientConnectorError as exc:
            raise NetworkError(
                path, scrub(f"cannot connect: {exc}"), may_have_reached_server=False
            ) from exc
        except aiohttp.ClientResponseError as exc:
            # Its text includes the request URL, and so the token: keep neither.
            raise NetworkError(
                path, f"{type(exc).__name__} (HTTP {exc.status})", may_have_reached_server=True
            ) from None
        except aiohttp.ClientError as exc:
            raise NetworkError(
                path, scrub(f"{type(exc).__name__}: {exc}"), may_have_reached_server=True
            ) from exc

    async def close(self) -> None:
        self._closed = True
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

