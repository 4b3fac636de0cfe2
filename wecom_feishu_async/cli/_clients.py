"""Clients built from CLI settings, with the shared stores a ``--redis-url`` asks for."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

from .._core.credentials import CorpApp, Provider
from .._core.errors import ConfigurationError
from ..feishu import FEISHU_BASE_URL, FeishuApp, FeishuClient
from ..wecom import WECOM_BASE_URL, WeComClient
from ._config import Settings

__all__ = ["feishu_client", "shared_state", "wecom_client"]

# The running command's exit stack, and the Redis store and limiter made in it (once).
_SCOPE: ContextVar[tuple[contextlib.AsyncExitStack, dict[str, Any]] | None] = ContextVar(
    "wfa_scope", default=None
)


@contextlib.asynccontextmanager
async def shared_state() -> AsyncIterator[None]:
    """The scope of one command: Redis connections made within are closed at its end."""
    async with contextlib.AsyncExitStack() as stack:
        token = _SCOPE.set((stack, {}))
        try:
            yield
        finally:
            _SCOPE.reset(token)


def _need(settings: Settings, *names: str) -> None:
    missing = [n for n in names if not getattr(settings, n)]
    if missing:
        env = ", ".join(n.upper() for n in missing)
        raise ConfigurationError(f"{env} not set (environment, --config file or flags)")


def _shared(settings: Settings) -> dict[str, Any]:
    """Token store and limiter backend in Redis, when ``redis_url`` is set."""
    if not settings.redis_url:
        return {}
    scope = _SCOPE.get()
    if scope is None:
        raise ConfigurationError("Redis settings are usable only inside a command")
    stack, shared = scope
    if shared:
        return shared
    try:
        from ..redis import RedisLimiterBackend, RedisTokenStore
    except ImportError as exc:
        raise ConfigurationError(
            f"--redis-url needs the redis extra: pip install 'wecom_feishu_async[redis]' ({exc})"
        ) from None
    store = RedisTokenStore(settings.redis_url)
    stack.push_async_callback(store.close)
    limits = RedisLimiterBackend(settings.redis_url)
    stack.push_async_callback(limits.close)
    shared.update(token_store=store, limiter_backend=limits)
    return shared


def wecom_client(settings: Settings, *, provider: bool = False, corp: bool = False,
                 **options: Any) -> WeComClient:
    """A WeCom client with the credentials a command needs (``ConfigurationError`` if unset)."""
    if provider:
        _need(settings, "wecom_provider_corp_id", "wecom_provider_secret")
    if corp:
        _need(settings, "wecom_corp_id", "wecom_corp_secret")
    return WeComClient(
        corp_app=CorpApp(settings.wecom_corp_id, settings.wecom_corp_secret) if corp else None,
        provider=Provider(settings.wecom_provider_corp_id, settings.wecom_provider_secret)
        if provider
        else None,
        base_url=settings.wecom_base_url or WECOM_BASE_URL,
        **_shared(settings),
        **options,
    )


def feishu_client(settings: Settings, **options: Any) -> FeishuClient:
    """A Feishu client of the self-built app in ``settings``."""
    _need(settings, "feishu_app_id", "feishu_app_secret")
    return FeishuClient(
        FeishuApp(settings.feishu_app_id, settings.feishu_app_secret),
        base_url=settings.feishu_base_url or FEISHU_BASE_URL,
        **_shared(settings),
        **options,
    )
