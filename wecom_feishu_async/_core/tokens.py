"""Token caching: a pluggable async store and a single-flight refresh per key."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

__all__ = ["MemoryTokenStore", "Token", "TokenManager", "TokenStore"]


@dataclass(frozen=True, slots=True)
class Token:
    """A cached token: its value, when it expires and when to refresh it (unix seconds)."""

    value: str = field(repr=False)
    expires_at: float
    refresh_at: float

    def __repr__(self) -> str:
        return f"Token(value=***, expires_at={self.expires_at:.0f})"


class TokenStore(ABC):
    """Where tokens live between calls; shared by every client given the same store."""

    @abstractmethod
    async def get(self, key: str) -> Token | None:
        """The token stored under ``key``, if any."""

    @abstractmethod
    async def set(self, key: str, token: Token) -> None:
        """Store ``token`` under ``key``, replacing any previous one."""

    @abstractmethod
    async def discard(self, key: str, value: str) -> bool:
        """Remove the token under ``key`` only if its value is still ``value``."""

    @abstractmethod
    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """A mutual-exclusion lock for refreshing ``key`` (one refresh at a time)."""


class MemoryTokenStore(TokenStore):
    """An in-process token store (the default)."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str) -> Token | None:
        return self._tokens.get(key)

    async def set(self, key: str, token: Token) -> None:
        self._tokens[key] = token

    async def discard(self, key: str, value: str) -> bool:
        current = self._tokens.get(key)
        if current is not None and current.value == value:
            del self._tokens[key]
            return True
        return False

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            yield

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={len(self._tokens)})"


Fetch = Callable[[], Awaitable[tuple[str, float]]]


class TokenManager:
    """Hands out valid tokens, refreshing each key once however many callers wait."""

    def __init__(
        self,
        store: TokenStore,
        *,
        margin: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.margin = margin
        self._clock = clock

    def _fresh(self, token: Token | None) -> bool:
        return token is not None and self._clock() < token.refresh_at

    async def get(self, key: str, fetch: Fetch) -> tuple[Token, bool]:
        """A valid token for ``key`` and whether this call fetched it."""
        token = await self.store.get(key)
        if token is not None and self._fresh(token):
            return token, False
        async with self.store.lock(key):
            token = await self.store.get(key)  # another caller may have refreshed it
            if token is not None and self._fresh(token):
                return token, False
            value, expires_in = await fetch()
            now = self._clock()
            # Refresh a margin before expiry; for short-lived tokens at most a tenth of
            # their life, so a token is never considered stale on arrival.
            margin = min(self.margin, expires_in / 10)
            token = Token(value, now + expires_in, now + expires_in - margin)
            await self.store.set(key, token)
            return token, True

    async def invalidate(self, key: str, failed: Token) -> None:
        """Forget ``failed`` for ``key`` unless another caller already replaced it."""
        await self.store.discard(key, failed.value)
