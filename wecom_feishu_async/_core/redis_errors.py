"""The errors of the Redis token store and limiter backend.

Kept apart from the Redis code (no redis-py import) so that they can be caught, and
re-exported, without the ``redis`` extra installed.
"""

from __future__ import annotations

from .errors import WFAError

__all__ = ["RedisLockTimeout", "RedisUnavailableError"]


class RedisUnavailableError(WFAError):
    """Redis did not answer (refused, timed out, rejected the login) or answered an error.

    ``where`` names the server (host:port, or the socket path); never its password.
    """

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"Redis at {where}: {reason}")


class RedisLockTimeout(WFAError):
    """Another process held a token's refresh lock longer than ``lock_wait`` allowed."""

    def __init__(self, key: str, waited: float) -> None:
        self.key = key
        self.waited = waited
        super().__init__(f"refresh lock of {key} still held elsewhere after {waited:.1f}s")
