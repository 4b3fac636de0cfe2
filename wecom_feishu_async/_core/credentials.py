"""Credentials as values. Secrets never appear in their repr."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .errors import ConfigurationError, InputError

__all__ = ["AuthorizedCorp", "CorpApp", "Provider", "SuiteApp", "SuiteTicket", "secret_digest"]


def secret_digest(secret: str) -> str:
    """A short, one-way digest of a secret, used to key cached tokens."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _require(field_name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InputError(field_name, "must be a non-empty string")


@dataclass(frozen=True, slots=True)
class CorpApp:
    """A WeCom company app: ``corp_id`` and the app's ``secret`` (fetches ``access_token``)."""

    corp_id: str
    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        _require("corp_id", self.corp_id)
        _require("secret", self.secret)

    @property
    def store_key(self) -> str:
        """Token-store key: names the corp and a digest of the secret, never the secret."""
        return f"wecom:access_token:{self.corp_id}:{secret_digest(self.secret)}"


@dataclass(frozen=True, slots=True)
class Provider:
    """A WeCom service provider: its ``corp_id`` and ``provider_secret``."""

    corp_id: str
    provider_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        _require("corp_id", self.corp_id)
        _require("provider_secret", self.provider_secret)

    @property
    def store_key(self) -> str:
        """Token-store key: names the provider and a digest of the secret, never the secret."""
        return f"wecom:provider_access_token:{self.corp_id}:{secret_digest(self.provider_secret)}"


SuiteTicket = str | Callable[[], Awaitable[str]]
"""A suite ticket, or an async callable returning the newest one.

WeCom pushes a new ticket to the provider's callback URL every 10 minutes (each is good
for 30); the caller stores it, and the callable reads it back when a token is fetched.
"""


@dataclass(frozen=True, slots=True)
class SuiteApp:
    """A WeCom third-party app (suite): fetches ``suite_access_token`` with the ticket."""

    suite_id: str
    suite_secret: str = field(repr=False)
    suite_ticket: SuiteTicket = field(repr=False)

    def __post_init__(self) -> None:
        _require("suite_id", self.suite_id)
        _require("suite_secret", self.suite_secret)
        if not callable(self.suite_ticket):
            _require("suite_ticket", self.suite_ticket)

    async def ticket(self) -> str:
        """The suite ticket to use now.

        Raises:
            ConfigurationError: the callable is not async or gave no ticket.
        """
        ticket = self.suite_ticket
        if isinstance(ticket, str):
            return ticket
        value: object = ticket()
        if not inspect.isawaitable(value):
            raise ConfigurationError("suite_ticket must be a str or an async callable")
        value = await value
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError("the suite_ticket callable gave no ticket")
        return value

    @property
    def store_key(self) -> str:
        """Token-store key of the suite token (no secret, no ticket)."""
        return f"wecom:suite_access_token:{self.suite_id}:{secret_digest(self.suite_secret)}"


@dataclass(frozen=True, slots=True)
class AuthorizedCorp:
    """A company that authorised a suite: ``auth_corpid`` and its ``permanent_code``.

    With a ``SuiteApp``, it yields the company's ``access_token`` (``get_corp_token``).
    """

    auth_corpid: str
    permanent_code: str = field(repr=False)

    def __post_init__(self) -> None:
        _require("auth_corpid", self.auth_corpid)
        _require("permanent_code", self.permanent_code)

    def store_key(self, suite: SuiteApp) -> str:
        """Token-store key of this company's token obtained through ``suite``."""
        digest = secret_digest(self.permanent_code)
        return f"wecom:access_token:{self.auth_corpid}:suite:{suite.suite_id}:{digest}"
