"""Client-side quotas: rate limiters and an adaptive cap on requests in flight, per bucket."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiolimiter import AsyncLimiter

from . import validation as check
from .errors import ConfigurationError

__all__ = ["LimiterBackend", "Limits", "LocalLimiterBackend", "Quota", "RateLimiter"]


@dataclass(frozen=True, slots=True)
class Quota:
    """At most ``limit`` requests in any window of ``period`` seconds.

    ``burst`` is how many may start at once on a fresh limiter (default: a twentieth of
    the limit). The sustained rate is lowered by the burst so that burst plus refill
    never exceeds ``limit`` in any window, including the very first one.

    ``slack`` is how much later, in seconds, one request may reach the server than another
    sent after it (network and scheduling jitter) while the server still counts at most
    ``limit``: requests are paced for a window that much longer.
    """

    limit: int
    period: float
    burst: int | None = None
    slack: float = 0.0

    def __post_init__(self) -> None:
        check.setting("quota limit", self.limit, low=1, integral=True)
        check.setting("quota period", self.period, low=0, above=True)
        check.setting("quota slack", self.slack, low=0)
        if self.burst is not None and (
            check.setting("quota burst", self.burst, low=1, integral=True) > self.limit
        ):
            raise ConfigurationError(f"quota burst must be within 1..limit, got {self}")

    def limiter(self) -> AsyncLimiter:
        """A fresh leaky-bucket limiter that keeps this quota in every window."""
        burst = self.burst if self.burst is not None else max(1, self.limit // 20)
        # aiolimiter: capacity max_rate, refilled at max_rate / time_period per second.
        # In any window of `period`, at most capacity + refill * period may pass, so
        # refill = (limit - burst) / period keeps that at `limit` (with slack: in any
        # window of period + slack).
        refill_per_second = max(self.limit - burst, 1) / (self.period + self.slack)
        return AsyncLimiter(burst, burst / refill_per_second)


class RateLimiter(Protocol):
    """One quota of one bucket: ``acquire`` returns once a request may start."""

    async def acquire(self) -> None: ...


class LimiterBackend(Protocol):
    """Makes the rate limiter of a bucket; where the quota's state lives is its choice."""

    def limiter(self, key: tuple[str, str], quota: Quota) -> RateLimiter:
        """The limiter enforcing ``quota`` for bucket ``key`` (``(scope, bucket)``)."""
        ...


class LocalLimiterBackend:
    """Quotas kept in this process (the default): exact for one process only."""

    def limiter(self, key: tuple[str, str], quota: Quota) -> RateLimiter:
        return quota.limiter()

    def __repr__(self) -> str:
        return "LocalLimiterBackend()"


class _Gate:
    """A concurrency cap that halves on overload and creeps back up on success."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self.limit = ceiling
        self.in_flight = 0
        self._successes = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def enter(self) -> None:
        # Fast path without awaiting: the event loop cannot interleave check and update.
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # a leaving request hands its place over: in_flight is ours
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # handed a place just as we were cancelled: give it back
            else:
                self._waiters.remove(waiter)
            raise

    def leave(self) -> None:
        self.in_flight -= 1
        self._admit()

    def _admit(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)

    def shrink(self) -> None:
        self.limit = max(1, self.limit // 2)
        self._successes = 0

    def succeeded(self) -> None:
        if self.limit < self.ceiling:
            self._successes += 1
            if self._successes >= self.limit:
                self._successes = 0
                self.limit += 1
                self._admit()


def _quotas(name: str, quotas: object) -> tuple[Quota, ...]:
    if not isinstance(quotas, (list, tuple)) or not all(isinstance(q, Quota) for q in quotas):
        raise ConfigurationError(f"{name} must be a list of Quota, got {quotas!r}")
    return tuple(quotas)


class Limits:
    """Per-bucket quotas and concurrency caps, created on first use of a bucket.

    A bucket key is ``(scope, bucket)``: the scope is the vendor's unit of accounting
    (a corp, an app in a tenant) and the bucket names the API.
    """

    def __init__(
        self,
        default: Sequence[Quota],
        overrides: Mapping[str, Sequence[Quota]] | None = None,
        *,
        max_in_flight: int = 64,
        backend: LimiterBackend | None = None,
    ) -> None:
        check.setting("max_in_flight", max_in_flight, low=1, integral=True)
        self._default = _quotas("quotas", default)
        self._overrides = {
            k: _quotas(f"endpoint_quotas[{k!r}]", v) for k, v in (overrides or {}).items()
        }
        self._max_in_flight = max_in_flight
        self.backend: LimiterBackend = backend or LocalLimiterBackend()
        self._limiters: dict[tuple[str, str], tuple[RateLimiter, ...]] = {}
        self._gates: dict[tuple[str, str], _Gate] = {}
        self._paused_until: dict[tuple[str, str], float] = {}

    def quotas_for(self, bucket: str) -> tuple[Quota, ...]:
        """The quotas that apply to ``bucket``."""
        return self._overrides.get(bucket, self._default)

    def gate(self, key: tuple[str, str]) -> _Gate:
        """The concurrency gate of a bucket."""
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _Gate(self._max_in_flight)
        return gate

    def pause(self, key: tuple[str, str], seconds: float) -> None:
        """Hold every request of the bucket for ``seconds`` from now (a server's reset time).

        A pause never shortens one already in force.
        """
        until = time.monotonic() + max(seconds, 0.0)
        if until > self._paused_until.get(key, 0.0):
            self._paused_until[key] = until

    async def enter(self, key: tuple[str, str]) -> _Gate:
        """Wait out any pause, then take one in-flight place and one unit of every quota.

        The caller must call ``leave()`` on the returned gate when the request is done.
        """
        while True:
            delay = self._paused_until.get(key, 0.0) - time.monotonic()
            if delay <= 0:
                break
            await asyncio.sleep(delay)  # then look again: the pause may have been extended
        limiters = self._limiters.get(key)
        if limiters is None:
            limiters = self._limiters[key] = tuple(
                self.backend.limiter(key, q) for q in self.quotas_for(key[1])
            )
        gate = self.gate(key)
        await gate.enter()
        try:
            # Quota is taken after the in-flight place, right before sending, so sends
            # happen when the limiter allowed them rather than bunching up later.
            for limiter in limiters:
                await limiter.acquire()
        except BaseException:
            gate.leave()
            raise
        return gate
