"""Injected faults: scripted per path, or drawn at a seeded rate (a fixed list, or chaos).

Random draws are keyed, not sequential: whether a request gets a fault, and which, depends on
the seed, the route, the request itself (method, path, query and body, credentials left out)
and how many identical requests came before it, never on what other requests arrived in
between. The same seed and the same requests therefore give the same faults whatever the
concurrency. Faults with lasting effects (a burst, a revoked token, a deleted department)
reach whichever requests come next, which does depend on arrival order.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal[
    "errcode", "http", "expire_token", "hold", "reset", "truncate", "burst", "delete_department"
]

HANDLED_KINDS = frozenset({"hold", "reset", "truncate"})
"""Faults that let the request take effect and spoil only its reply."""


@dataclass(frozen=True)
class Fault:
    """One injected fault; build it with the class methods."""

    kind: FaultKind
    code: int = 0
    seconds: float = 0.0
    count: int = 1
    keep: float = 0.0

    @classmethod
    def errcode(cls, code: int) -> Fault:
        """Answer with this vendor error code (HTTP 200 for WeCom, the code's status for Feishu)."""
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

    @classmethod
    def reset(cls, keep: float = 0.5) -> Fault:
        """Handle the request, send the headers and this fraction of the body, then drop the
        connection (the client sees a connection reset mid-response)."""
        return cls("reset", keep=_fraction(keep))

    @classmethod
    def truncate(cls, keep: float = 0.5) -> Fault:
        """Handle the request, then answer a complete HTTP response whose body is only this
        fraction of the real one (0: an empty body)."""
        return cls("truncate", keep=_fraction(keep))

    @classmethod
    def burst(cls, code: int, count: int) -> Fault:
        """Refuse this request and the next ``count - 1`` to the same path with ``code``
        (45009 or 45033; Feishu routes answer both as 99991400, HTTP 429)."""
        if count < 1:
            raise ValueError("a burst covers at least one request")
        return cls("burst", code, count=count)

    @classmethod
    def delete_department(cls) -> Fault:
        """Delete the department the request names in ``department_id`` (and its sub-tree),
        then handle the request, which now answers 60003."""
        return cls("delete_department")


def _fraction(value: float) -> float:
    if not 0.0 <= value < 1.0:
        raise ValueError("the fraction of the body kept must be within [0, 1)")
    return value


@dataclass(frozen=True)
class Arrival:
    """What the fault plan sees of a request.

    `identity` is the request without its credentials (method, path, query, body); the
    fault draw is keyed on it.
    """

    path: str
    identity: bytes
    token_endpoint: bool
    department: int | None = None


@dataclass(frozen=True)
class Injected:
    """One fault the emulator injected: on which route, and what."""

    path: str
    fault: Fault


Chooser = Callable[[Arrival, random.Random], "Fault | None"]


@dataclass(frozen=True)
class _Plan:
    probability: float
    seed: int
    paths: frozenset[str] | None
    tokens: bool
    choose: Chooser

    def covers(self, arrival: Arrival) -> bool:
        if self.paths is not None:
            return arrival.path in self.paths
        return self.tokens or not arrival.token_endpoint


class Faults:
    """The fault plan: per-path scripts, consumed in order, then an optional random plan.

    Scripts apply to any path named. The random plan (``rate`` or ``chaos``, the later call
    replacing the earlier) applies to the paths given, or to every path except the token
    endpoints (unless ``tokens=True``). Every fault injected is appended to ``log``.
    """

    def __init__(self) -> None:
        self._scripts: dict[str, deque[Fault]] = {}
        self._bursts: dict[str, tuple[Fault, int]] = {}
        self._plan: _Plan | None = None
        self._seen: Counter[tuple[str, bytes]] = Counter()
        self.log: list[Injected] = []
        """Every fault injected so far, in order."""

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
        tokens: bool = False,
    ) -> None:
        """Give each request one of `faults` with this probability (keyed draws, see above)."""
        chosen = tuple(faults)
        if probability > 0 and not chosen:
            raise ValueError("a fault rate needs at least one fault")
        self._set_plan(probability, lambda _, rng: rng.choice(chosen), seed=seed, paths=paths,
                       tokens=tokens)

    def _set_plan(
        self,
        probability: float,
        choose: Chooser,
        *,
        seed: int,
        paths: Iterable[str] | None = None,
        tokens: bool = False,
    ) -> None:
        """Give each covered request a fault with this probability, `choose` picking which
        (it may decline with None) from the request and the request's own seeded RNG."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        covered = None if paths is None else frozenset(paths)
        self._plan = _Plan(probability, seed, covered, tokens, choose) if probability else None
        self._seen.clear()

    def chaos(
        self,
        rate: float = 0.1,
        *,
        seed: int = 0,
        kinds: Iterable[str] | None = None,
        paths: Iterable[str] | None = None,
        tokens: bool = False,
        hold: float = 35.0,
        burst: tuple[int, int] = (2, 4),
    ) -> None:
        """Mix every kind of fault (or `kinds`, see `CHAOS_KINDS`) at `rate`.

        Args:
            rate: the probability that a covered request gets a fault.
            seed: the seed of the draws (see the module docstring for what it reproduces).
            kinds: the kinds to mix, e.g. ``("busy", "truncate")``; default all.
            paths: the routes (path templates) to cover; default every route but the
                token endpoints.
            tokens: cover the token endpoints too (with ``paths=None``).
            hold: seconds a held reply waits (past the client's timeout).
            burst: the least and most requests a 45009 / 45033 burst refuses.
        """
        from .chaos import Chaos  # the kinds build on Fault

        mix = Chaos.of(kinds, hold=hold, burst=burst)
        self._set_plan(rate, mix.choose, seed=seed, paths=paths, tokens=tokens)

    def clear(self) -> None:
        """Remove every script, burst and random plan (the log stays)."""
        self._scripts.clear()
        self._bursts.clear()
        self._plan = None
        self._seen.clear()

    def pending(self, path: str) -> int:
        """How many scripted faults are still queued for `path`."""
        return len(self._scripts.get(path, ()))

    @property
    def injected(self) -> Counter[str]:
        """How many faults of each kind were injected so far."""
        return Counter(entry.fault.kind for entry in self.log)

    def idle(self) -> bool:
        """True when no request can get a fault (nothing scripted, no burst, no plan)."""
        return self._plan is None and not self._bursts and not any(self._scripts.values())

    def pick(self, arrival: Arrival) -> Fault | None:
        """The fault for this request, if any (consumes scripts, bursts and a draw)."""
        path = arrival.path
        queue = self._scripts.get(path)
        fault: Fault | None = None
        if queue:
            fault = queue.popleft()
        elif path in self._bursts:
            # A burst under way refuses this request too, and starts nothing new.
            fault, left = self._bursts.pop(path)
            if left > 1:
                self._bursts[path] = (fault, left - 1)
            return self._record(path, fault)
        elif self._plan is not None and self._plan.covers(arrival):
            fault = self._draw(self._plan, arrival)
        if fault is None:
            return None
        if fault.kind == "burst" and fault.count > 1:
            self._bursts[path] = (fault, fault.count - 1)
        return self._record(path, fault)

    def _record(self, path: str, fault: Fault) -> Fault:
        self.log.append(Injected(path, fault))
        return fault

    def _draw(self, plan: _Plan, arrival: Arrival) -> Fault | None:
        # Identical requests are told apart by how many came before: a retry draws anew.
        # A digest keeps the count small however large the request was.
        digest = hashlib.blake2b(arrival.identity, digest_size=16).digest()
        key = (arrival.path, digest)
        occurrence = self._seen[key]
        self._seen[key] = occurrence + 1
        rng = random.Random(f"{plan.seed}\0{arrival.path}\0{occurrence}\0".encode() + digest)
        if rng.random() >= plan.probability:
            return None
        return plan.choose(arrival, rng)
