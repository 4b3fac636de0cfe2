"""Injected faults: scripted per path, or drawn at a seeded rate."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["errcode", "http", "expire_token", "hold"]


@dataclass(frozen=True)
class Fault:
    """One injected fault: an error code reply, a bare HTTP status, or an early token expiry."""

    kind: FaultKind
    code: int = 0
    seconds: float = 0.0

    @classmethod
    def errcode(cls, code: int) -> Fault:
        """Answer HTTP 200 with this vendor error code."""
        return cls("errcode", code)

    @classmethod
    def http(cls, status: int) -> Fault:
        """Answer with this HTTP status and a non-JSON body, as a failing gateway would."""
        if not 100 <= status <= 599:
            raise ValueError(f"not an HTTP status: {status}")
        return cls("http", status)

    @classmethod
    def hold(cls, seconds: float) -> Fault:
        """Handle the request normally, then hold the reply this long (past a client timeout).

        The request takes effect (a message is delivered) although the caller may never
        see the answer.
        """
        return cls("hold", seconds=seconds)

    @classmethod
    def expire_token(cls) -> Fault:
        """Revoke the token this request carries, then answer the route's expired-token code."""
        return cls("expire_token")


class Faults:
    """The fault plan: per-path scripts, consumed in order, then an optional random rate.

    Scripts apply to any path named; the rate applies to the paths given, or to every path
    except the token endpoints.
    """

    def __init__(self) -> None:
        self._scripts: dict[str, deque[Fault]] = {}
        self._rate = 0.0
        self._rate_faults: tuple[Fault, ...] = ()
        self._rate_paths: frozenset[str] | None = None
        self._rng = random.Random(0)

    def script(self, path: str, faults: Iterable[Fault]) -> None:
        """Queue faults for the next requests to `path`, one per request, after any still queued."""
        self._scripts.setdefault(path, deque()).extend(faults)

    def rate(
        self,
        probability: float,
        faults: Iterable[Fault],
        *,
        seed: int = 7,
        paths: Iterable[str] | None = None,
    ) -> None:
        """Give each request a fault with this probability, chosen by an RNG seeded with `seed`."""
        chosen = tuple(faults)
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if probability > 0 and not chosen:
            raise ValueError("a fault rate needs at least one fault")
        self._rate = probability
        self._rate_faults = chosen
        self._rate_paths = None if paths is None else frozenset(paths)
        self._rng = random.Random(seed)

    def clear(self) -> None:
        """Remove every script and the rate."""
        self._scripts.clear()
        self._rate = 0.0
        self._rate_faults = ()
        self._rate_paths = None

    def pending(self, path: str) -> int:
        """How many scripted faults are still queued for `path`."""
        return len(self._scripts.get(path, ()))

    def pick(self, path: str, *, token_endpoint: bool) -> Fault | None:
        """The fault for this request to `path`, if any (consumes script entries and RNG draws)."""
        queue = self._scripts.get(path)
        if queue:
            return queue.popleft()
        if self._rate <= 0:
            return None
        if self._rate_paths is None:
            if token_endpoint:
                return None
        elif path not in self._rate_paths:
            return None
        if self._rng.random() < self._rate:
            return self._rng.choice(self._rate_faults)
        return None
