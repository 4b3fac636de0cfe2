"""Shared server state: credentials, tokens, counters, faults, quota and concurrency."""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from .faults import Faults
from .org import Org


@dataclass(frozen=True)
class Credentials:
    """What a client needs to talk to the emulator. Secrets stay out of the repr."""

    corp_id: str
    corp_secret: str = field(repr=False)
    provider_corp_id: str
    provider_secret: str = field(repr=False)
    agentid: int


@dataclass
class Stats:
    """Counters that tests read; `reset()` clears them in place."""

    requests: Counter[str] = field(default_factory=Counter)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    tokens_issued: Counter[str] = field(default_factory=Counter)
    token_requests: Counter[str] = field(default_factory=Counter)
    batch_sizes: list[int] = field(default_factory=list)
    errors: Counter[int] = field(default_factory=Counter)
    http_errors: Counter[int] = field(default_factory=Counter)
    quota_refused: Counter[str] = field(default_factory=Counter)
    """Requests refused by a quota, per path."""
    quota_log: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    """Arrival times (monotonic) of the requests each (owner, path) quota accepted."""

    def busiest_window(self, path: str, window: float) -> int:
        """The most requests to `path` one owner's quota accepted in any `window` seconds."""
        busiest = 0
        for (_, logged), times in self.quota_log.items():
            if logged != path:
                continue
            start = 0
            for end, now in enumerate(times):
                while times[start] <= now - window:
                    start += 1
                busiest = max(busiest, end - start + 1)
        return busiest

    def reset(self) -> None:
        """Zero every counter (the objects stay the same, so held references see the reset)."""
        self.requests.clear()
        self.max_in_flight.clear()
        self.tokens_issued.clear()
        self.token_requests.clear()
        self.batch_sizes.clear()
        self.errors.clear()
        self.http_errors.clear()
        self.quota_refused.clear()
        self.quota_log.clear()


@dataclass
class TokenRecord:
    """One issued token. `owner` is the corp (or Feishu app and tenant) it was issued to; `app`
    the agentid (or Feishu app id), if any."""

    value: str = field(repr=False)
    kind: str
    owner: str
    app: int | str | None
    expires_at: float
    revoked: bool = False

    def alive(self, now: float) -> bool:
        """Whether the token is neither revoked nor past its lifetime."""
        return not self.revoked and now < self.expires_at


class TokenStore:
    """Issues tokens of any kind ("access_token", "provider_access_token", ...) and checks them.

    A repeat request while the current token of (kind, owner, app) is alive gets the same token
    (for Feishu: while at least `renew_below` seconds of it remain; the old one stays valid).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_value: dict[str, TokenRecord] = {}
        self._current: dict[tuple[str, str, int | str | None], TokenRecord] = {}

    def issue(
        self,
        kind: str,
        owner: str,
        ttl: float,
        app: int | str | None = None,
        *,
        prefix: str = "",
        renew_below: float = 0.0,
    ) -> tuple[TokenRecord, bool]:
        """The live token for (kind, owner, app), minting one if needed; True if minted."""
        now = self.clock()
        key = (kind, owner, app)
        current = self._current.get(key)
        if current is not None and current.alive(now) and current.expires_at - now >= renew_below:
            return current, False
        # Real tokens are opaque strings of up to 512 bytes; these are 128 URL-safe characters.
        value = prefix + secrets.token_urlsafe(96)
        record = TokenRecord(value, kind, owner, app, now + ttl)
        self._by_value[record.value] = record
        self._current[key] = record
        return record, True

    def values(self) -> list[str]:
        """Every token value ever issued here (for tests that look for leaks)."""
        return list(self._by_value)

    def find(self, value: str) -> TokenRecord | None:
        """The record of a token value ever issued here, alive or not."""
        return self._by_value.get(value)

    def revoke(self, value: str) -> None:
        """Make one token invalid now."""
        record = self._by_value.get(value)
        if record is not None:
            record.revoked = True

    def revoke_all(self) -> None:
        """Make every issued token invalid now; the next request for one mints a new token."""
        for record in self._by_value.values():
            record.revoked = True
        self._current.clear()


class ServerState:
    """Everything the routes share: the organisation, credentials, tokens, knobs and counters."""

    def __init__(
        self,
        org: Org,
        credentials: Credentials,
        *,
        latency: float = 0.0,
        token_ttl: float = 7200,
        quota_per_minute: int = 10_000,
        max_concurrency: int | None = None,
    ) -> None:
        self.org = org
        self.credentials = credentials
        self.latency = latency
        self.token_ttl = token_ttl
        self.quota_per_minute = quota_per_minute
        self.max_concurrency = max_concurrency
        self.quota_window = 60.0
        self.path_quotas: dict[str, tuple[int, float]] = {}
        """(limit, window seconds) for particular paths, replacing the per-minute default."""
        self.tokens = TokenStore()
        self.stats = Stats()
        self.faults = Faults()
        self._in_flight: Counter[str] = Counter()
        self._admitted: Counter[str] = Counter()
        self._quota: dict[tuple[str, str], deque[float]] = {}

    def arrive(self, path: str) -> bool:
        """Count a request in flight; False if it is over the concurrency cap for its path.

        Only admitted requests hold one of the `max_concurrency` slots.
        """
        self.stats.requests[path] += 1
        self._in_flight[path] += 1
        if self._in_flight[path] > self.stats.max_in_flight.get(path, 0):
            self.stats.max_in_flight[path] = self._in_flight[path]
        cap = self.max_concurrency
        if cap is not None and self._admitted[path] >= cap:
            return False
        self._admitted[path] += 1
        return True

    def leave(self, path: str, admitted: bool) -> None:
        """Count a request's response as ready."""
        self._in_flight[path] -= 1
        if admitted:
            self._admitted[path] -= 1

    def issued_secrets(self) -> list[str]:
        """The credentials' secrets and every token issued so far, alive or not.

        For tests that check no secret reaches a log, a repr or an error message.
        """
        return [self.credentials.corp_secret, self.credentials.provider_secret,
                *self.tokens.values()]

    def quota_for(self, path: str) -> tuple[int, float]:
        """The (limit, window seconds) quota of a path."""
        return self.path_quotas.get(path, (self.quota_per_minute, self.quota_window))

    def take_quota(self, corp: str, path: str) -> bool:
        """Use one call of the (corp, path) quota; False if its sliding window is full.

        UNCERTAIN: whether refused calls count against the window; here they do not.
        """
        limit, span = self.quota_for(path)
        now = time.monotonic()
        window = self._quota.setdefault((corp, path), deque())
        while window and window[0] <= now - span:
            window.popleft()
        if len(window) >= limit:
            self.stats.quota_refused[path] += 1
            return False
        window.append(now)
        self.stats.quota_log.setdefault((corp, path), []).append(now)
        return True

    def quota_reset(self, corp: str, path: str) -> float:
        """Seconds until the (corp, path) quota accepts a call again (0: it would now)."""
        limit, span = self.quota_for(path)
        window = self._quota.get((corp, path))
        if not window or len(window) < limit:
            return 0.0
        return max(0.0, window[-limit] + span - time.monotonic())


def make_credentials(seed: int, org: Org, agentid: int) -> Credentials:
    """Reproducible credentials for an organisation (the corp id is the org's)."""
    rng = random.Random(f"wfa-emulator:{seed}:credentials")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    def secret(n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    return Credentials(
        corp_id=org.corp_id,
        corp_secret=secret(43),
        provider_corp_id=f"ww{rng.getrandbits(64):016x}",
        provider_secret=secret(64),
        agentid=agentid,
    )


STATE_KEY = web.AppKey("wfa_emulator_state", ServerState)
"""Where a web.Application built by `build_app` keeps its ServerState."""
