"""Credentials as values. Secrets never appear in their repr."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ._errors import InputError

__all__ = ["CorpApp", "Provider", "secret_digest"]


def secret_digest(secret: str) -> str:
    """A short, one-way digest of a secret, used to key cached tokens."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _require(field_name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
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
