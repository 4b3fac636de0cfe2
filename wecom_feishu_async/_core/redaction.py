"""Redaction of secrets and tokens from text that may reach logs or exception messages."""

from __future__ import annotations

import re

# Query or form keys whose values are credentials. Matched case-insensitively, so the
# vendor spellings (corpsecret, provider_access_token, app_secret, ...) are all covered.
_SECRET_KEYS = (
    r"[a-z_]*access_token|[a-z_]*secret|[a-z_]*ticket|session_key|permanent_code|js_code|code"
)
_PAIR = re.compile(rf"(?i)\b({_SECRET_KEYS})(=|\"\s*:\s*\"|'\s*:\s*')([^&\s\"',;]+)")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")

REDACTED = "***"


def scrub(text: str) -> str:
    """Return ``text`` with every credential-looking value replaced by ``***``."""
    text = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _BEARER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
