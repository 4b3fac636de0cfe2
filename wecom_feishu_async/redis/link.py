"""One Redis connection as the Redis token store and limiter backend use it: socket
timeouts, Redis failures turned into ``RedisUnavailableError``, and the opt-in fallback to
in-process state while Redis is down."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .._core.errors import ConfigurationError
from .._core.redis_errors import RedisUnavailableError

__all__ = ["Fallback", "RedisBacked", "RedisLink"]

logger = logging.getLogger("wecom_feishu_async.redis")

T = TypeVar("T")
B = TypeVar("B", bound="RedisBacked")

Fallback = Literal["raise", "local"]
"""What to do when Redis fails: raise ``RedisUnavailableError``, or keep state in this process."""

_SCHEMES = ("redis", "rediss", "unix")


def _where(url: str) -> str:
    """host:port (or the socket path) of a Redis URL; user and password left out."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigurationError("redis URL is malformed") from None
    if parts.scheme not in _SCHEMES:
        # The URL itself is not quoted: it may carry a password.
        raise ConfigurationError("redis URL must start with redis://, rediss:// or unix://")
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    host = parts.hostname or "localhost"
    return f"[{host}]:{port or 6379}" if ":" in host else f"{host}:{port or 6379}"


def _where_of(client: aioredis.Redis) -> str:
    kwargs: dict[str, Any] = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix:{kwargs['path']}"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, AuthenticationError):
        return "login rejected (check the user and password of the URL)"
    if isinstance(exc, (RedisTimeoutError, asyncio.TimeoutError)):
        return "timed out"
    if isinstance(exc, (RedisConnectionError, OSError)):
        return "unreachable"
    # A server error reply (READONLY replica, OOM, NOPERM, ...): the server's text holds no
    # secret; redis-py's own errors say what failed.
    return f"{type(exc).__name__}: {exc}"


class RedisLink:
    """A Redis client (made from a URL, or the caller's) and what to do when it fails.

    Args:
        redis: a URL, or a ``redis.asyncio.Redis`` the link never closes.
        namespace: the prefix of every key.
        role: what Redis holds for this user of the link, named in the fallback warning.
        connect_timeout: seconds to connect (URL only).
        timeout: seconds for a reply (URL only).
        fallback: ``"raise"`` or ``"local"``.
        probe_interval: while falling back, seconds between attempts to reach Redis again.
    """

    def __init__(
        self,
        redis: str | aioredis.Redis,
        *,
        namespace: str,
        role: str,
        connect_timeout: float,
        timeout: float,
        fallback: Fallback,
        probe_interval: float,
    ) -> None:
        if not isinstance(namespace, str) or not namespace:
            raise ConfigurationError("namespace must be a non-empty string")
        if fallback not in ("raise", "local"):
            raise ConfigurationError(f'fallback must be "raise" or "local", got {fallback!r}')
        if connect_timeout <= 0 or timeout <= 0 or probe_interval <= 0:
            raise ConfigurationError("Redis timeouts and probe_interval must be positive")
        if isinstance(redis, str):
            self.where = _where(redis)
            try:
                # One quick retry on a broken pooled connection (a restarted server), no
                # more: a Redis that is down must surface at once, not after backoffs.
                self.client = aioredis.Redis.from_url(
                    redis,
                    socket_connect_timeout=connect_timeout,
                    socket_timeout=timeout,
                    retry=Retry(NoBackoff(), 1),
                )
            except ValueError:
                raise ConfigurationError("redis URL is malformed") from None
            self._owned = True
        elif isinstance(redis, aioredis.Redis):
            self.where = _where_of(redis)
            self.client = redis
            self._owned = False
        else:
            raise ConfigurationError("redis must be a URL or a redis.asyncio.Redis")
        self.namespace = namespace
        self.role = role
        self.fallback = fallback
        self.probe_interval = probe_interval
        self._down = False
        self._probe_at = 0.0

    async def run(
        self, op: Callable[[aioredis.Redis], Awaitable[T]], local: Callable[[], Awaitable[T]]
    ) -> T:
        """``op`` on Redis; on failure raise, or (fallback) run ``local`` instead.

        While falling back, Redis is tried again once every ``probe_interval``; in between,
        ``local`` runs at once.
        """
        if self._down and time.monotonic() < self._probe_at:
            return await local()
        try:
            result = await op(self.client)
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            reason = _reason(exc)
            if self.fallback == "raise":
                raise RedisUnavailableError(self.where, reason) from exc
            if not self._down:
                self._down = True
                logger.warning(
                    "Redis at %s: %s; %s kept in this process until it answers again",
                    self.where, reason, self.role,
                )
            self._probe_at = time.monotonic() + self.probe_interval
            return await local()
        if self._down:
            self._down = False
            logger.info("Redis at %s answers again; %s shared again", self.where, self.role)
        return result

    @staticmethod
    async def command(r: aioredis.Redis, *args: str | int) -> Any:
        """One Redis command on ``r`` (redis-py leaves ``execute_command`` untyped)."""
        return await r.execute_command(*args)  # type: ignore[no-untyped-call]

    def key(self, kind: str, name: str) -> str:
        """The Redis key of ``name`` among the ``kind`` keys of the namespace."""
        return f"{self.namespace}:{kind}:{name}"

    @property
    def falling_back(self) -> bool:
        """Whether state is kept in this process because Redis failed."""
        return self._down

    async def close(self) -> None:
        """Close the client if the link made it from a URL."""
        if self._owned:
            await self.client.aclose()


class RedisBacked:
    """Closing, ``async with`` and a password-free repr for the classes built on a link."""

    _link: RedisLink

    @property
    def namespace(self) -> str:
        """The prefix of every key."""
        return self._link.namespace

    @property
    def falling_back(self) -> bool:
        """Whether state is kept in this process because Redis failed (fallback="local")."""
        return self._link.falling_back

    async def close(self) -> None:
        """Close the Redis client if it was made from a URL (a given client stays open)."""
        await self._link.close()

    async def __aenter__(self: B) -> B:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        link = self._link
        return (
            f"{type(self).__name__}({link.where}, namespace={link.namespace!r}, "
            f"fallback={link.fallback!r})"
        )
