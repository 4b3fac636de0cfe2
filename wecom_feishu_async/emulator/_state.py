"""Shared server state: credentials, tokens, counters, faults, quota and concurrency."""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ._faults import Faults
from ._org import Org


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

    def reset(self) -> None:
        """Zero every counter (the objects stay the same, so held references see the reset)."""
        self.requests.clear()
        self.max_in_flight.clear()
        self.tokens_issued.clear()
        self.token_requests.clear()
        self.batch_sizes.clear()
        self.errors.clear()
        self.http_errors.clear()


@dataclass
class TokenRecord:
    """One issued token. `owner` is the corp it was issued to; `app` the agentid, if any."""

    value: str = field(repr=False)
    kind: str
    owner: str
    app: int | None
    expires_at: float
    revoked: bool = False

    def alive(self, now: float) -> bool:
        """Whether the token is neither revoked nor past its lifetime."""
        return not self.revoked and now < self.expires_at


class TokenStore:
    """Issues tokens of any kind ("access_token", "provider_access_token", ...) and checks them.

    A repeat request while the current token of (kind, owner, app) is alive gets the same token.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_value: dict[str, TokenRecord] = {}
        self._current: dict[tuple[str, str, int | None], TokenRecord] = {}

    def issue(
        self, kind: str, owner: str, ttl: float, app: int | None = None
    ) -> tuple[TokenRecord, bool]:
        """The live token for (kind, owner, app), minting one if needed; True if minted."""
        now = self.clock()
        key = (kind, owner, app)
        current = self._current.get(key)
        if current is not None and current.alive(now):
            return current, False
        # Real tokens are opaque strings of up to 512 bytes; these are 128 URL-safe characters.
        record = TokenRecord(secrets.token_urlsafe(96), kind, owner, app, now + ttl)
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

    def take_quota(self, corp: str, path: str) -> bool:
        """Use one call of the (corp, path) quota; False if the sliding 60 s window is full.

        UNCERTAIN: whether refused calls count against the window; here they do not.
        """
        now = time.monotonic()
        window = self._quota.setdefault((corp, path), deque())
        while window and window[0] <= now - self.quota_window:
            window.popleft()
        if len(window) >= self.quota_per_minute:
            return False
        window.append(now)
        return True


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
