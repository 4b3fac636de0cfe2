"""CLI settings: command-line flags over environment variables over a TOML file."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .._core.errors import ConfigurationError

__all__ = ["ENVIRONMENT", "Settings", "load_settings"]


@dataclass(frozen=True)
class Settings:
    """Credentials and endpoints for the commands; secrets never shown in its repr."""

    wecom_corp_id: str = ""
    wecom_corp_secret: str = field(default="", repr=False)
    wecom_provider_corp_id: str = ""
    wecom_provider_secret: str = field(default="", repr=False)
    wecom_agentid: int = 0
    wecom_base_url: str = ""
    feishu_app_id: str = ""
    feishu_app_secret: str = field(default="", repr=False)
    feishu_base_url: str = ""
    redis_url: str = field(default="", repr=False)


# Environment variable → setting. The TOML file uses the same names in tables:
# [wecom] corp_id = "...", [feishu] app_id = "...", and top-level base_url / redis_url.
ENVIRONMENT: Mapping[str, str] = {
    "WECOM_CORP_ID": "wecom_corp_id",
    "WECOM_CORP_SECRET": "wecom_corp_secret",
    "WECOM_PROVIDER_CORP_ID": "wecom_provider_corp_id",
    "WECOM_PROVIDER_SECRET": "wecom_provider_secret",
    "WECOM_AGENTID": "wecom_agentid",
    "WECOM_BASE_URL": "wecom_base_url",
    "FEISHU_APP_ID": "feishu_app_id",
    "FEISHU_APP_SECRET": "feishu_app_secret",
    "FEISHU_BASE_URL": "feishu_base_url",
    "WFA_REDIS_URL": "redis_url",
}
_SHARED = {"WFA_BASE_URL": ("wecom_base_url", "feishu_base_url")}
_NAMES = {f.name for f in fields(Settings)}


def load_settings(
    *,
    config: str | None,
    base_url: str | None,
    redis_url: str | None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from ``config`` (a TOML file), then the environment, then the flags."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config or env.get("WFA_CONFIG")
    if path:
        values.update(_from_toml(Path(path)))
    for name, targets in _SHARED.items():
        if env.get(name):
            values.update(dict.fromkeys(targets, env[name]))
    for name, target in ENVIRONMENT.items():
        if env.get(name):
            values[target] = env[name]
    if base_url:
        values["wecom_base_url"] = values["feishu_base_url"] = base_url
    if redis_url:
        values["redis_url"] = redis_url
    if "wecom_agentid" in values:
        values["wecom_agentid"] = _integer("WECOM_AGENTID / wecom.agentid", values["wecom_agentid"])
    return Settings(**{k: v for k, v in values.items() if v not in (None, "")})


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # the cli extra brings tomli
            import tomli as tomllib
    except ImportError:  # pragma: no cover - Python 3.10 without the cli extra
        raise ConfigurationError("--config on Python 3.10 needs the cli extra") from None
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"config file {path} is not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for key, value in document.items():
        if key in ("wecom", "feishu") and isinstance(value, dict):
            for inner, setting in value.items():
                name = f"{key}_{inner}"
                if name not in _NAMES:
                    raise ConfigurationError(f"config file {path}: unknown key {key}.{inner}")
                values[name] = setting
        elif key == "base_url":
            values["wecom_base_url"] = values.get("wecom_base_url") or value
            values["feishu_base_url"] = values.get("feishu_base_url") or value
        elif key == "redis_url":
            values["redis_url"] = value
        else:
            raise ConfigurationError(f"config file {path}: unknown key {key}")
    for name, value in values.items():
        if name != "wecom_agentid" and not isinstance(value, str):
            raise ConfigurationError(f"config file {path}: {name} must be a string")
    return values


def _integer(name: str, value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {value!r}") from None
