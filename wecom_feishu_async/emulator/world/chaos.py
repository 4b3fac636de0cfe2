"""Chaos: every kind of fault a vendor, its gateways or the network can throw, mixed.

Each kind becomes a concrete `Fault` per request, in the dialect of the route's vendor
(WeCom answers errcodes with HTTP 200; Feishu answers with 4xx/5xx and its own codes).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from .faults import Arrival, Fault

ChaosKind = Literal[
    "busy",
    "http_error",
    "freq_burst",
    "concurrency_burst",
    "rate_limited",
    "reset",
    "hold",
    "truncate",
    "expire_token",
    "delete_department",
]

CHAOS_KINDS: tuple[ChaosKind, ...] = get_args(ChaosKind)
"""Every chaos kind:

- ``busy``: WeCom errcode -1 / Feishu 1500 (HTTP 500), the vendor's "try again".
- ``http_error``: HTTP 500, 502 or 503 with a gateway's HTML page.
- ``freq_burst`` / ``concurrency_burst``: 45009 / 45033 for this request and the next
  few to the same route (Feishu: 99991400, HTTP 429).
- ``rate_limited``: one quota refusal: Feishu 99991400 (HTTP 429, ``x-ogw-ratelimit-reset``),
  WeCom 45009.
- ``reset``: the request is handled, then the connection drops mid-body.
- ``hold``: the request is handled, and its reply held past the client's timeout.
- ``truncate``: the request is handled, and its reply's body cut short (sometimes to nothing)
  in an otherwise complete HTTP response.
- ``expire_token``: the token the request carries is revoked before its expiry.
- ``delete_department``: the department a member list names is deleted (with its sub-tree)
  just before the list is read, which then answers 60003; only for requests naming a
  department other than the root in ``department_id``.
"""

FEISHU_PREFIX = "/open-apis/"
FEISHU_BUSY = 1500  # one of Feishu's internal-error codes (HTTP 500)
WECOM_BUSY = -1
FREQ_LIMIT = 45009
CONCURRENCY_LIMIT = 45033
FEISHU_RATE_LIMITED = 99991400
GATEWAY_STATUSES = (500, 502, 503)
ROOT_DEPARTMENT = 1


@dataclass(frozen=True)
class Chaos:
    """A mix of chaos kinds and their parameters; `choose` turns one into a fault."""

    kinds: tuple[ChaosKind, ...] = CHAOS_KINDS
    hold: float = 35.0
    burst: tuple[int, int] = (2, 4)

    @classmethod
    def of(
        cls, kinds: Iterable[str] | None, *, hold: float, burst: tuple[int, int]
    ) -> Chaos:
        """A checked mix: known kinds, a non-negative hold, a burst range within 1..."""
        chosen = CHAOS_KINDS if kinds is None else tuple(kinds)
        unknown = [k for k in chosen if k not in CHAOS_KINDS]
        if unknown or not chosen:
            raise ValueError(f"chaos kinds must be among {', '.join(CHAOS_KINDS)}: {unknown}")
        low, high = burst
        if not 1 <= low <= high:
            raise ValueError(f"a burst range needs 1 <= least <= most, got {burst}")
        if hold < 0:
            raise ValueError("hold must be >= 0 seconds")
        kept = tuple(k for k in CHAOS_KINDS if k in chosen)  # canonical order: same draws
        return cls(kept, hold, (low, high))

    def applies(self, kind: ChaosKind, arrival: Arrival) -> bool:
        """Whether `kind` makes sense for this request."""
        if kind == "expire_token":
            return not arrival.token_endpoint
        if kind == "delete_department":
            return arrival.department is not None and arrival.department != ROOT_DEPARTMENT
        return True

    def choose(self, arrival: Arrival, rng: random.Random) -> Fault | None:
        """One fault among the kinds that apply to the request (None if none does)."""
        usable = [k for k in self.kinds if self.applies(k, arrival)]
        if not usable:
            return None
        kind = rng.choice(usable)
        feishu = arrival.path.startswith(FEISHU_PREFIX)
        if kind == "busy":
            return Fault.errcode(FEISHU_BUSY if feishu else WECOM_BUSY)
        if kind == "http_error":
            return Fault.http(rng.choice(GATEWAY_STATUSES))
        if kind in ("freq_burst", "concurrency_burst"):
            code = FREQ_LIMIT if kind == "freq_burst" else CONCURRENCY_LIMIT
            return Fault.burst(code, rng.randint(*self.burst))
        if kind == "rate_limited":
            return Fault.errcode(FEISHU_RATE_LIMITED if feishu else FREQ_LIMIT)
        if kind == "reset":
            return Fault.reset(rng.uniform(0.05, 0.95))
        if kind == "hold":
            return Fault.hold(self.hold)
        if kind == "truncate":
            # One in four cut to nothing: an HTTP 200 with an empty body.
            return Fault.truncate(0.0 if rng.random() < 0.25 else rng.uniform(0.05, 0.95))
        if kind == "expire_token":
            return Fault.expire_token()
        return Fault.delete_department()
