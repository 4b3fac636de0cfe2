"""When to retry a failed attempt, and how long to wait first."""

from __future__ import annotations

from dataclasses import dataclass

import backoff

from . import validation as check
from .errors import (
    ConfigurationError,
    DecodeError,
    HTTPStatusError,
    RateLimitedError,
    ServerBusyError,
    TransportError,
    WFAError,
)

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    Retried: connection failures and timeouts, HTTP 5xx and 429, the vendor's busy codes
    and replies that are no JSON at all, for reads; rate-limit refusals (45009, 45033,
    99991400), and failures that prove the request never reached the server, for writes
    too. Never retried: a write once it may have reached the server, and every other error.

    Args:
        max_retries: retries after the first attempt (WeCom asks for at most 3 on -1).
        max_time: the deadline of a whole call in seconds, counted from its first send:
            each attempt's timeout is clipped to what is left, and a retry whose wait
            would end past it is not made (the last error is raised at once).
        base_delay: the first wait for transient faults; doubles on every retry.
        max_delay: the longest wait for transient faults.
        rate_limit_delay: the first wait after a rate-limit reply that gave no wait.
        max_retry_after: the cap on any rate-limit wait, the server's included.
        jitter: spread waits randomly over their upper half.
    """

    max_retries: int = 3
    max_time: float = 60.0
    base_delay: float = 0.25
    max_delay: float = 8.0
    rate_limit_delay: float = 2.0
    max_retry_after: float = 60.0
    jitter: bool = True

    def __post_init__(self) -> None:
        check.setting("max_retries", self.max_retries, low=0, integral=True)
        check.setting("max_time", self.max_time, low=0, above=True, infinite=True)
        for name in ("base_delay", "max_delay", "rate_limit_delay", "max_retry_after"):
            check.setting(name, getattr(self, name), low=0)
        if not isinstance(self.jitter, bool):
            raise ConfigurationError(f"jitter must be True or False, got {self.jitter!r}")

    def wait(self, error: WFAError, retry: int, elapsed: float, idempotent: bool) -> float | None:
        """Seconds to wait before retry number ``retry`` (from 1), or None to give up."""
        if retry > self.max_retries:
            return None
        delay = self._delay(error, retry, idempotent)
        if delay is None or elapsed + delay > self.max_time:
            return None
        return delay

    def _delay(self, error: WFAError, retry: int, idempotent: bool) -> float | None:
        if isinstance(error, RateLimitedError):
            # Rejected before processing: safe to repeat even for writes.
            if error.retry_after is not None:
                return min(max(float(error.retry_after), 0.0), self.max_retry_after)
            return self._expo(self.rate_limit_delay, self.max_retry_after, retry)
        if isinstance(error, TransportError):
            if idempotent or not error.may_have_reached_server:
                return self._expo(self.base_delay, self.max_delay, retry)
            return None
        if isinstance(error, DecodeError):
            # Only a reply that is no JSON at all (cut short, empty, a proxy's page) was
            # spoilt in transit, so a read is worth repeating. A write was processed although
            # its reply was lost: repeating it could act twice. Well-formed JSON of the wrong
            # shape would only come again.
            if error.garbled and idempotent:
                return self._expo(self.base_delay, self.max_delay, retry)
            return None
        transient = isinstance(error, ServerBusyError) or (
            isinstance(error, HTTPStatusError) and (error.status >= 500 or error.status == 429)
        )
        if transient and idempotent:
            return self._expo(self.base_delay, self.max_delay, retry)
        return None

    def _expo(self, base: float, cap: float, retry: int) -> float:
        value: float = min(cap, base * 2.0 ** (retry - 1))
        if not self.jitter:
            return value
        # Equal jitter: at least half the exponential wait, the rest random.
        return value / 2 + float(backoff.full_jitter(value / 2))
