"""``RedisTokenStore``: tokens and their refresh locks shared by every process on one Redis."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import redis.asyncio as aioredis

from .._core.errors import ConfigurationError, WFAError
from .._core.redis_errors import RedisLockTimeout
from .._core.tokens import MemoryTokenStore, Token, TokenStore
from .link import Fallback, RedisBacked, RedisLink

__all__ = ["RedisTokenStore"]

logger = logging.getLogger("wecom_feishu_async.redis")

# A token is a hash (value, expires_at, refresh_at) replaced as a whole, expiring with it.
_SET = """
redis.call('DEL', KEYS[1])
if tonumber(ARGV[4]) <= 0 then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'expires_at', ARGV[2], 'refresh_at', ARGV[3])
return redis.call('PEXPIRE', KEYS[1], ARGV[4])
"""
# Compare-and-delete, so that a caller holding a rejected token never drops the new one
# another process stored meanwhile.
_DISCARD = """
if redis.call('HGET', KEYS[1], 'value') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# Only the owner (the random value it set) may release or extend a lock.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

_POLL_FIRST = 0.005  # seconds between attempts on a held lock: doubling up to _POLL_MAX
_POLL_MAX = 0.05

_Acquired = Literal["held", "busy", "local"]


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _decode(fields: Any) -> Token | None:
    """The token of an HGETALL reply; None when absent or not one of ours."""
    data = {_text(k): _text(v) for k, v in dict(fields or {}).items()}
    try:
        return Token(data["value"], float(data["expires_at"]), float(data["refresh_at"]))
    except (KeyError, ValueError):
        return None  # refetched and overwritten, as if it had expired


class RedisTokenStore(RedisBacked, TokenStore):
    """Tokens kept in Redis, shared by every process using the same Redis and namespace.

    Each token lives under ``<namespace>:token:<store key>`` (the key names the credential and a
    digest of its secret) and expires with the token. A refresh takes a lock
    (``<namespace>:lock:<store key>``) that only its owner releases; the owner extends it
    while its fetch runs, and it lapses ``lock_ttl`` seconds after a holder crashes. Those
    waiting for it then read the token the holder stored instead of fetching another.

    Args:
        redis: a URL (``redis://[[user]:password@]host:port/db``, ``rediss://``, ``unix://``),
            or a ``redis.asyncio.Redis``, which the store never closes (set its socket
            timeouts yourself).
        namespace: the prefix of every key.
        lock_ttl: seconds a refresh lock outlives a crashed holder.
        lock_wait: seconds to wait for a lock another process holds before
            ``RedisLockTimeout``; longer than a token fetch takes under the default
            ``RetryPolicy`` (at most 60 s from its first send).
        connect_timeout: seconds to connect (client made from a URL).
        timeout: seconds for Redis to answer (client made from a URL).
        fallback: ``"raise"``: ``RedisUnavailableError`` whenever Redis fails; ``"local"``:
            log one WARNING and keep tokens in this process until Redis answers again
            (processes then fetch their own tokens).
        probe_interval: while falling back, seconds between attempts to reach Redis.

    Close it (``await store.close()`` or ``async with``) when done.
    """

    def __init__(
        self,
        redis: str | aioredis.Redis = "redis://127.0.0.1:6379/0",
        *,
        namespace: str = "wfa",
        lock_ttl: float = 10.0,
        lock_wait: float = 75.0,
        connect_timeout: float = 2.0,
        timeout: float = 5.0,
        fallback: Fallback = "raise",
        probe_interval: float = 5.0,
    ) -> None:
        if lock_ttl <= 0 or lock_wait < 0:
            raise ConfigurationError("lock_ttl must be positive and lock_wait not negative")
        self._link = RedisLink(redis, namespace=namespace, role="tokens",
                               connect_timeout=connect_timeout, timeout=timeout,
                               fallback=fallback, probe_interval=probe_interval)
        self.lock_ttl = lock_ttl
        self.lock_wait = lock_wait
        client = self._link.client
        self._set = client.register_script(_SET)
        self._discard = client.register_script(_DISCARD)
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)
        self._local = MemoryTokenStore()

    def _key(self, key: str) -> str:
        return self._link.key("token", key)

    def _lock_key(self, key: str) -> str:
        return self._link.key("lock", key)

    async def get(self, key: str) -> Token | None:
        async def remote(r: aioredis.Redis) -> Token | None:
            return _decode(await RedisLink.command(r, "HGETALL", self._key(key)))

        return await self._link.run(remote, lambda: self._local.get(key))

    async def set(self, key: str, token: Token) -> None:
        # The entry expires with the token (server-side TTL from this host's clock).
        ttl_ms = math.ceil((token.expires_at - time.time()) * 1000)

        async def remote(r: aioredis.Redis) -> None:
            times = [repr(token.expires_at), repr(token.refresh_at)]
            args: list[str | int] = [token.value, *times, ttl_ms]
            await self._set(keys=[self._key(key)], args=args, client=r)

        await self._link.run(remote, lambda: self._local.set(key, token))

    async def discard(self, key: str, value: str) -> bool:
        async def remote(r: aioredis.Redis) -> bool:
            return bool(await self._discard(keys=[self._key(key)], args=[value], client=r))

        return await self._link.run(remote, lambda: self._local.discard(key, value))

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        # Callers of this process queue on the local lock, so only one of them polls Redis;
        # falling back, that lock is the whole of it.
        async with self._local.lock(key):
            owner = await self._acquire(key)
            if owner is None:
                yield
                return
            keeper = asyncio.create_task(self._keep(key, owner))
            try:
                yield
            finally:
                keeper.cancel()
                await asyncio.wait([keeper])
                await self._give_back(key, owner)

    async def _acquire(self, key: str) -> str | None:
        """Take the lock of ``key``: its owner value, or None when falling back."""
        owner = secrets.token_hex(16)
        ttl_ms = math.ceil(self.lock_ttl * 1000)
        lock_key = self._lock_key(key)

        async def take(r: aioredis.Redis) -> _Acquired:
            taken = await RedisLink.command(r, "SET", lock_key, owner, "NX", "PX", ttl_ms)
            return "held" if taken else "busy"

        async def local() -> _Acquired:
            return "local"

        started = time.monotonic()
        delay = _POLL_FIRST
        while True:
            state = await self._link.run(take, local)
            if state != "busy":
                return owner if state == "held" else None
            left = started + self.lock_wait - time.monotonic()
            if left <= 0:
                raise RedisLockTimeout(lock_key, self.lock_wait)
            await asyncio.sleep(min(left, delay * random.uniform(0.5, 1.0)))
            delay = min(delay * 2, _POLL_MAX)

    async def _keep(self, key: str, owner: str) -> None:
        """Extend the lock every third of its life while the holder works."""
        ttl_ms = math.ceil(self.lock_ttl * 1000)
        while True:
            await asyncio.sleep(self.lock_ttl / 3)
            try:
                kept = await self._extend(keys=[self._lock_key(key)], args=[owner, ttl_ms])
            except Exception as exc:  # the holder's own calls report Redis failures
                logger.debug("refresh lock of %s not extended: %s", key, type(exc).__name__)
                continue
            if not kept:
                logger.debug("refresh lock of %s lapsed while held", key)
                return

    async def _give_back(self, key: str, owner: str) -> None:
        async def remote(r: aioredis.Redis) -> None:
            await self._release(keys=[self._lock_key(key)], args=[owner], client=r)

        async def local() -> None:
            return None

        try:
            await self._link.run(remote, local)
        except WFAError as exc:  # the lock lapses by itself after lock_ttl
            logger.debug("refresh lock of %s not released: %s", key, exc)
