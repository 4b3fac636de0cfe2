"""Tokens and quotas shared by several processes through Redis (the ``redis`` extra).

Processes that use the same Redis and namespace share one token per credential (one
refresh at a time among all of them) and one quota per bucket::

    from wecom_feishu_async.redis import RedisLimiterBackend, RedisTokenStore

    store = RedisTokenStore("redis://:password@redis.internal:6379/0")
    limits = RedisLimiterBackend("redis://:password@redis.internal:6379/0")
    client = FeishuClient(app, token_store=store, limiter_backend=limits)

When Redis fails, calls raise ``RedisUnavailableError`` (naming host:port, never the
password), unless ``fallback="local"`` was chosen: then one WARNING is logged and this
process keeps its own tokens and quotas until Redis answers again.

Needs redis-py (``pip install 'wecom_feishu_async[redis]'``) and Redis 5 or newer.
"""

from __future__ import annotations

try:
    import redis.asyncio  # noqa: F401  (redis-py, not this module)
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "wecom_feishu_async.redis needs redis-py: pip install 'wecom_feishu_async[redis]'"
    ) from exc

from .._core.redis_errors import RedisLockTimeout, RedisUnavailableError
from .limits import RedisLimiterBackend
from .link import Fallback
from .tokens import RedisTokenStore

__all__ = [
    "Fallback",
    "RedisLimiterBackend",
    "RedisLockTimeout",
    "RedisTokenStore",
    "RedisUnavailableError",
]
