"""The WeCom client: credentials, token sources and WeCom reply classification."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from .._core.codec import DECODE_ERRORS, decoder_for
from .._core.credentials import AuthorizedCorp, CorpApp, Provider, SuiteApp
from .._core.endpoint import Endpoint
from .._core.errors import (
    APIError,
    ConfigurationError,
    DecodeError,
    HTTPStatusError,
    error_class_for,
)
from .._core.limits import LimiterBackend, Quota
from .._core.loop import BaseClient, TokenSource
from .._core.redaction import scrub
from .._core.retry import RetryPolicy
from .._core.tokens import Token, TokenStore
from .._core.transport import RawResponse, Transport
from ._suite import AuthorizedCorpTokenSource, SuiteTokenSource
from .contact import ContactAPI
from .directory import DirectoryAPI
from .messages import MessagesAPI
from .miniprogram import MiniProgramAPI
from .models import AccessTokenReply, ProviderTokenReply, WeComReply

__all__ = ["WECOM_BASE_URL", "WECOM_DEFAULT_QUOTAS", "WeComClient"]

T = TypeVar("T")

WECOM_BASE_URL = "https://qyapi.weixin.qq.com"

# Documented base limits per company per API (api-facts A7.1): 10,000 a minute and
# 150,000 an hour. Half a minute's quota may start at once, so a walk of a few thousand
# departments is not paced at all; the hourly quota binds long jobs (about 37 a second
# after its burst). Neither is exceeded in any window, the first one included.
WECOM_DEFAULT_QUOTAS: tuple[Quota, ...] = (
    Quota(10_000, 60.0, burst=5_000),
    Quota(150_000, 3600.0, burst=15_000),
)

# Codes meaning "this token is no good": refresh it and retry once (api-facts A1.5).
# An expired token is often reported as 40014 rather than 42001.
_REFRESH_CODES = frozenset({40014, 42001, 40082, 41001, 42009})

# The client argument that supplies each token kind (named in configuration errors).
_CREDENTIAL_ARGS = {
    "access_token": "corp_app=CorpApp(...), or suite=SuiteApp(...) with "
    "authorized_corp=AuthorizedCorp(...)",
    "provider_access_token": "provider=Provider(...)",
    "suite_access_token": "suite=SuiteApp(...)",
}

# WeCom limits concurrency per company per API with 45033 but documents no number.
_CONCURRENCY_LIMITED = 45033


@dataclass(frozen=True, slots=True)
class _CorpTokenSource:
    app: CorpApp
    kind: str = "access_token"

    @property
    def store_key(self) -> str:
        return self.app.store_key

    async def fetch(self, client: BaseClient) -> tuple[str, float]:
        reply = await client.call(
            Endpoint(
                "GET",
                "/cgi-bin/gettoken",
                AccessTokenReply,
                auth=None,
                params={"corpid": self.app.corp_id, "corpsecret": self.app.secret},
                scope=self.app.corp_id,
            )
        )
        return reply.access_token, float(reply.expires_in)


@dataclass(frozen=True, slots=True)
class _ProviderTokenSource:
    provider: Provider
    kind: str = "provider_access_token"

    @property
    def store_key(self) -> str:
        return self.provider.store_key

    async def fetch(self, client: BaseClient) -> tuple[str, float]:
        reply = await client.call(
            Endpoint(
                "POST",
                "/cgi-bin/service/get_provider_token",
                ProviderTokenReply,
                auth=None,
                body={
                    "corpid": self.provider.corp_id,
                    "provider_secret": self.provider.provider_secret,
                },
                scope=self.provider.corp_id,
            )
        )
        return reply.provider_access_token, float(reply.expires_in)


def decipher(endpoint: Endpoint[T], raw: RawResponse) -> T:
    """Decode a WeCom reply into ``endpoint.response`` or raise the error it carries."""
    path = endpoint.path
    if raw.status != 200:
        excerpt = scrub(raw.body[:200].decode("utf-8", "replace"))
        raise HTTPStatusError(path, raw.status, excerpt)
    try:
        reply = decoder_for(endpoint.response).decode(raw.body)
    except DECODE_ERRORS as exc:
        # A failure reply lacks the success fields; read just the envelope to tell.
        try:
            envelope = decoder_for(WeComReply).decode(raw.body)
        except DECODE_ERRORS:
            raise DecodeError(path, str(exc)) from None
        if envelope.errcode:
            raise _api_error(path, envelope.errcode, envelope.errmsg) from None
        raise DecodeError(path, str(exc)) from None
    if not isinstance(reply, WeComReply):
        raise TypeError(f"{endpoint.response!r} is not a WeComReply")
    if reply.errcode:
        raise _api_error(path, reply.errcode, reply.errmsg)
    return reply


def _api_error(path: str, code: int, message: str) -> APIError:
    cls = error_class_for("wecom", code)
    return cls(vendor="wecom", endpoint=path, code=code, message=scrub(message))


class WeComClient(BaseClient):
    """An async client of the WeCom server API.

    Args:
        corp_app: a company app's credential, for ``access_token`` endpoints.
        suite: a third-party app (suite), for ``suite_access_token`` endpoints.
        authorized_corp: a company that authorised ``suite``: its ``access_token``
            (from ``get_corp_token``) serves corp endpoints instead of ``corp_app``'s.
        provider: a service provider's credential, for ``provider_access_token``
            endpoints (contact search).
        base_url: the API root (the vendor's, a proxy, or the emulator's URL).
        session: an ``aiohttp.ClientSession`` to use; the client never closes it.
        pool_size: connections kept by the client's own session.
        timeout: seconds for one attempt, from sending to the last byte. A whole call,
            retries included, ends within ``retry.max_time`` of its first send.
        retry: the retry policy.
        quotas: quotas applied to every API bucket, per corp.
        endpoint_quotas: quotas for particular paths, replacing ``quotas`` there.
        max_in_flight: requests at once per (corp, API); halves on errcode 45033.
        token_store: where tokens are cached (shared between clients given the same).
        token_margin: refresh tokens this many seconds before they expire.
        transport: a replacement transport (tests); ``session`` is then unused.
        limiter_backend: where quota state lives (default: this process); a
            ``RedisLimiterBackend`` shares quotas between processes.

    Use it as an async context manager, or call ``close()``.
    """

    _vendor = "wecom"
    _refresh_codes = _REFRESH_CODES

    def __init__(
        self,
        *,
        corp_app: CorpApp | None = None,
        provider: Provider | None = None,
        suite: SuiteApp | None = None,
        authorized_corp: AuthorizedCorp | None = None,
        base_url: str = WECOM_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        pool_size: int = 100,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        quotas: Sequence[Quota] = WECOM_DEFAULT_QUOTAS,
        endpoint_quotas: Mapping[str, Sequence[Quota]] | None = None,
        max_in_flight: int = 64,
        token_store: TokenStore | None = None,
        token_margin: float = 300.0,
        transport: Transport | None = None,
        limiter_backend: LimiterBackend | None = None,
    ) -> None:
        if corp_app is not None and not isinstance(corp_app, CorpApp):
            raise ConfigurationError("corp_app must be a CorpApp")
        if provider is not None and not isinstance(provider, Provider):
            raise ConfigurationError("provider must be a Provider")
        if suite is not None and not isinstance(suite, SuiteApp):
            raise ConfigurationError("suite must be a SuiteApp")
        if authorized_corp is not None:
            if not isinstance(authorized_corp, AuthorizedCorp) or suite is None:
                raise ConfigurationError("authorized_corp must be an AuthorizedCorp, with suite=")
            if corp_app is not None:
                raise ConfigurationError("give corp_app or authorized_corp, not both")
        super().__init__(
            base_url=base_url,
            session=session,
            pool_size=pool_size,
            timeout=timeout,
            retry=retry,
            quotas=quotas,
            endpoint_quotas=endpoint_quotas,
            max_in_flight=max_in_flight,
            token_store=token_store,
            token_margin=token_margin,
            transport=transport,
            limiter_backend=limiter_backend,
        )
        self._sources: dict[str, TokenSource] = {}
        if corp_app is not None:
            self._sources["access_token"] = _CorpTokenSource(corp_app)
        if provider is not None:
            self._sources["provider_access_token"] = _ProviderTokenSource(provider)
        if suite is not None:
            self._sources["suite_access_token"] = SuiteTokenSource(suite)
            if authorized_corp is not None:
                self._sources["access_token"] = AuthorizedCorpTokenSource(suite, authorized_corp)
        self.corp_app = corp_app
        self.provider = provider
        self.suite = suite
        self.authorized_corp = authorized_corp
        self.contact = ContactAPI(self)
        corp = corp_app.corp_id if corp_app else getattr(authorized_corp, "auth_corpid", "")
        self.directory = DirectoryAPI(self, corp)
        # The walks, reachable from the client itself too (documented on DirectoryAPI).
        self.walk_members = self.directory.walk_members
        self.walk_departments = self.directory.walk_departments
        self.miniprogram = MiniProgramAPI(self, third_party=suite is not None)
        self.messages = MessagesAPI(self)

    def __repr__(self) -> str:
        return f"WeComClient(credentials={sorted(self._sources)})"

    def _token_source(self, endpoint: Endpoint[Any]) -> TokenSource:
        auth = endpoint.auth or ""
        source = self._sources.get(auth)
        if source is None:
            needs = _CREDENTIAL_ARGS.get(auth, auth)
            raise ConfigurationError(
                f"{endpoint.path} needs a {auth}: create the client with {needs}"
            )
        return source

    def _prepare(
        self, endpoint: Endpoint[Any], token: Token | None
    ) -> tuple[Mapping[str, str], Mapping[str, str]]:
        params = dict(endpoint.params)
        if token is not None and endpoint.auth is not None:
            # WeCom takes every credential in the query string (api-facts A0).
            params[endpoint.auth] = token.value
        headers = {"Content-Type": "application/json"} if endpoint.body is not None else {}
        return params, headers

    def _decipher(self, endpoint: Endpoint[T], raw: RawResponse) -> T:
        return decipher(endpoint, raw)

    def _on_api_error(self, quota_key: tuple[str, str], error: APIError) -> None:
        if error.code == _CONCURRENCY_LIMITED:
            self._limits.gate(quota_key).shrink()
