"""``RedisLimiterBackend``: one quota shared by every process on one Redis."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from .._core.limits import Quota, RateLimiter
from .link import Fallback, RedisBacked, RedisLink

__all__ = ["RedisLimiterBackend"]

# GCRA, the leaky bucket of the in-process limiter kept as one number per quota: the
# "theoretical arrival time" (TAT) at which the bucket would be empty again. A request
# adds `interval` to it and is admitted while the bucket then holds at most `burst`
# requests (TAT - now <= burst * interval); otherwise the script answers how long until
# it would be. Times are the Redis server's (TIME, microseconds), so the clocks of the
# client machines do not matter. Effects replication (Redis >= 5) makes TIME safe in a
# script that writes.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then tat = math.max(tonumber(stored), now) end
local wait = tat + interval - burst * interval - now
if wait > 0 then return math.ceil(wait) end
local next_tat = math.ceil(tat + interval)
redis.call('SET', KEYS[1], string.format('%.0f', next_tat),
           'PX', math.ceil((next_tat - now) / 1000) + 1000)
return 0
"""


def _pacing(quota: Quota) -> tuple[float, int]:
    """Microseconds per request and the burst: the in-process limiter's bucket.

    A bucket of ``burst`` refilled at (limit - burst) per (period + slack) admits at most
    burst + (limit - burst) = limit requests in any window of period + slack seconds,
    the first one included. A sliding-window log would allow the whole limit at once and
    need one entry per request (150,000 for an hourly WeCom quota); this needs one number
    and spaces requests evenly, so every process sees the same pace.
    """
    burst = quota.burst if quota.burst is not None else max(1, quota.limit // 20)
    window = quota.period + quota.slack
    return window * 1_000_000 / max(quota.limit - burst, 1), burst


class _RedisLimiter:
    """One quota of one bucket, its state in Redis (or, falling back, in this process)."""

    def __init__(self, link: RedisLink, script: AsyncScript, key: str, quota: Quota) -> None:
        self._link = link
        self._script = script
        self._key = key
        self._quota = quota
        interval, burst = _pacing(quota)
        self._args: list[str | int] = [repr(interval), burst]
        self._turn = asyncio.Lock()
        self._local: RateLimiter | None = None

    async def acquire(self) -> None:
        # Callers of this process take turns (in order), so one of them asks Redis at a time.
        async with self._turn:
            while True:
                wait = await self._link.run(self._take, self._take_local)
                if wait <= 0:
                    return
                await asyncio.sleep(wait)

    async def _take(self, r: aioredis.Redis) -> float:
        """Seconds to wait before asking again; 0 when a request may start now."""
        waited = await self._script(keys=[self._key], args=self._args, client=r)
        return int(waited) / 1_000_000

    async def _take_local(self) -> float:
        if self._local is None:
            self._local = self._quota.limiter()
        await self._local.acquire()
        return 0.0


class RedisLimiterBackend(RedisBacked):
    """Quotas kept in Redis: N processes together keep each one, as one process would.

    Each quota of each bucket is one key, ``<namespace>:quota:<scope>:<bucket>:<limit>/<period>``
    (the scope is the credential, or the company or app the vendor counts by), paced like
    the in-process limiter: ``burst`` may start at once, the rest evenly, so that no window of
    ``period + slack`` seconds holds more than ``limit`` requests.

    Args:
        redis: a URL or a ``redis.asyncio.Redis`` (never closed by the backend).
        namespace: the prefix of every key (the same as the token store's is fine).
        connect_timeout: seconds to connect (client made from a URL).
        timeout: seconds for Redis to answer (client made from a URL).
        fallback: ``"raise"``: ``RedisUnavailableError`` whenever Redis fails; ``"local"``:
            log one WARNING and pace this process alone until Redis answers again (N
            processes may then send up to N times the quota).
        probe_interval: while falling back, seconds between attempts to reach Redis.

    Close it (``await backend.close()`` or ``async with``) when done.
    """

    def __init__(
        self,
        redis: str | aioredis.Redis = "redis://127.0.0.1:6379/0",
        *,
        namespace: str = "wfa",
        connect_timeout: float = 2.0,
        timeout: float = 5.0,
        fallback: Fallback = "raise",
        probe_interval: float = 5.0,
    ) -> None:
        self._link = RedisLink(redis, namespace=namespace, role="quotas",
                               connect_timeout=connect_timeout, timeout=timeout,
                               fallback=fallback, probe_interval=probe_interval)
        self._script = self._link.client.register_script(_TAKE)

    def limiter(self, key: tuple[str, str], quota: Quota) -> RateLimiter:
        scope, bucket = key
        name = self._link.key("quota", f"{scope}:{bucket}:{quota.limit}/{quota.period:g}")
        return _RedisLimiter(self._link, self._script, name, quota)
