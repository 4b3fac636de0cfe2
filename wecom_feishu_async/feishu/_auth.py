"""Feishu credentials and the token sources that turn them into tenant access tokens.

Self-built apps get a tenant token straight from their id and secret. Store apps go
through an ``app_ticket`` (pushed to the app hourly, supplied by the caller) to an app
token, and from it to a tenant token for each tenant that installed the app.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from .._core.credentials import secret_digest
from .._core.endpoint import Endpoint
from .._core.errors import AuthError, ConfigurationError, InputError
from .models import AppAccessTokenReply, TenantAccessTokenReply

if TYPE_CHECKING:
    from .._core.loop import BaseClient, TokenSource

__all__ = ["AppTicket", "FeishuApp", "FeishuStoreApp", "token_source"]

INTERNAL_TENANT_TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
APP_TOKEN_PATH = "/open-apis/auth/v3/app_access_token"
TENANT_TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token"

# The server rejected the app token a tenant token was asked with (api-facts B7).
_APP_TOKEN_REJECTED = frozenset({99991664})

AppTicket = str | Callable[[], Awaitable[str]]
"""The newest ``app_ticket``: a value, or an async callable returning it."""


def _require(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(name, "must be a non-empty string")
    return value


@dataclass(frozen=True, slots=True)
class FeishuApp:
    """A self-built app ("custom app"): its ``app_id`` and ``app_secret``."""

    app_id: str
    app_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        _require("app_id", self.app_id)
        _require("app_secret", self.app_secret)


@dataclass(frozen=True, slots=True)
class FeishuStoreApp:
    """A store app ("ISV app") acting for one tenant.

    Args:
        app_id: the app's id.
        app_secret: the app's secret.
        app_ticket: the newest ticket Feishu pushed to the app's event URL, or an async
            callable returning it (called whenever a new app token is needed).
        tenant_key: the tenant the client acts for. Clients for several tenants can
            share one token store, and with it the app token.
    """

    app_id: str
    app_secret: str = field(repr=False)
    app_ticket: AppTicket = field(repr=False)
    tenant_key: str

    def __post_init__(self) -> None:
        _require("app_id", self.app_id)
        _require("app_secret", self.app_secret)
        _require("tenant_key", self.tenant_key)
        if not callable(self.app_ticket):
            _require("app_ticket", self.app_ticket)

    async def ticket(self) -> str:
        """The current app ticket."""
        ticket = self.app_ticket
        if callable(ticket):
            value = ticket()
            if not inspect.isawaitable(value):
                raise ConfigurationError("app_ticket must be a str or an async callable")
            ticket = await value
        if not isinstance(ticket, str) or not ticket.strip():
            raise ConfigurationError("the app_ticket callable gave no ticket")
        return ticket


R = TypeVar("R", TenantAccessTokenReply, AppAccessTokenReply)


async def _post(client: BaseClient, path: str, reply: type[R], app_id: str,
                body: dict[str, str]) -> R:
    return await client.call(Endpoint("POST", path, reply, auth=None, body=body, scope=app_id))


def _key(kind: str, app: FeishuApp | FeishuStoreApp, *names: str) -> str:
    # Names the app (and tenant) and a digest of the secret, never the secret.
    return ":".join(("feishu", kind, app.app_id, *names, secret_digest(app.app_secret)))


@dataclass(frozen=True, slots=True)
class _InternalTenantToken:
    app: FeishuApp
    kind: str = "tenant_access_token"

    @property
    def store_key(self) -> str:
        return _key(self.kind, self.app)

    async def fetch(self, client: BaseClient) -> tuple[str, float]:
        body = {"app_id": self.app.app_id, "app_secret": self.app.app_secret}
        reply = await _post(client, INTERNAL_TENANT_TOKEN_PATH, TenantAccessTokenReply,
                            self.app.app_id, body)
        return reply.tenant_access_token, float(reply.expire)


@dataclass(frozen=True, slots=True)
class _StoreAppToken:
    app: FeishuStoreApp
    kind: str = "app_access_token"

    @property
    def store_key(self) -> str:
        return _key(self.kind, self.app)  # one app token serves every tenant

    async def fetch(self, client: BaseClient) -> tuple[str, float]:
        body = {"app_id": self.app.app_id, "app_secret": self.app.app_secret,
                "app_ticket": await self.app.ticket()}
        reply = await _post(client, APP_TOKEN_PATH, AppAccessTokenReply, self.app.app_id, body)
        return reply.app_access_token, float(reply.expire)


@dataclass(frozen=True, slots=True)
class _StoreTenantToken:
    app: FeishuStoreApp
    kind: str = "tenant_access_token"

    @property
    def store_key(self) -> str:
        return _key(self.kind, self.app, self.app.tenant_key)

    async def fetch(self, client: BaseClient) -> tuple[str, float]:
        app_source = _StoreAppToken(self.app)
        app_token = await client.token(app_source)
        try:
            return await self._exchange(client, app_token.value)
        except AuthError as exc:
            if exc.code not in _APP_TOKEN_REJECTED:
                raise
        # The cached app token was revoked early: drop it and try once more with a new one.
        await client.reject_token(app_source, app_token)
        return await self._exchange(client, (await client.token(app_source)).value)

    async def _exchange(self, client: BaseClient, app_token: str) -> tuple[str, float]:
        body = {"app_access_token": app_token, "tenant_key": self.app.tenant_key}
        reply = await _post(client, TENANT_TOKEN_PATH, TenantAccessTokenReply, self.app.app_id,
                            body)
        return reply.tenant_access_token, float(reply.expire)


def token_source(app: FeishuApp | FeishuStoreApp) -> TokenSource:
    """The source of tenant access tokens for ``app``."""
    if isinstance(app, FeishuApp):
        return _InternalTenantToken(app)
    if isinstance(app, FeishuStoreApp):
        return _StoreTenantToken(app)
    raise ConfigurationError("app must be a FeishuApp or a FeishuStoreApp")
