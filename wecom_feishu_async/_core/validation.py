"""Argument checks run before anything is sent; each failure names the field."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from enum import IntEnum
from typing import TypeVar

from .errors import ConfigurationError, InputError

E = TypeVar("E", bound=IntEnum)
T = TypeVar("T")

INT32_MAX = 2**31 - 1  # ids and app ids the vendors define as 32-bit integers


def text(field: str, value: object, *, max_chars: int | None = None) -> str:
    """A non-empty string of at most ``max_chars`` characters."""
    if not isinstance(value, str):
        raise InputError(field, f"must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InputError(field, "must not be empty")
    if max_chars is not None and len(value) > max_chars:
        raise InputError(field, f"must be at most {max_chars} characters, got {len(value)}")
    return value


def string(field: str, value: object) -> str:
    """A string, possibly empty (a cursor, say)."""
    if not isinstance(value, str):
        raise InputError(field, f"must be a string, got {type(value).__name__}")
    return value


def integer(field: str, value: object, *, low: int, high: int | None = None) -> int:
    """An int (not a bool) within ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(field, f"must be an integer, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise InputError(field, f"must be within {bound}, got {value}")
    return value


def choice(field: str, value: object, enum: type[E]) -> E:
    """A member of ``enum``, given as the member or its int value."""
    if isinstance(value, enum):
        return value
    if not isinstance(value, bool) and isinstance(value, int):
        try:
            return enum(value)
        except ValueError:
            pass
    allowed = ", ".join(f"{m.value} ({m.name})" for m in enum)
    raise InputError(field, f"must be one of {allowed}, got {value!r}")


def flag(field: str, value: object) -> bool:
    """A bool (not merely a truthy value)."""
    if not isinstance(value, bool):
        raise InputError(field, f"must be True or False, got {value!r}")
    return value


def callback(field: str, value: object) -> Callable[..., object] | None:
    """None or a callable."""
    if value is not None and not callable(value):
        raise InputError(field, f"must be callable, got {type(value).__name__}")
    return value


def items(field: str, value: Iterable[T]) -> list[T]:
    """The items of an iterable given for a list of values (a single string is refused)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InputError(field, f"must be an iterable of items, got {type(value).__name__}")
    return list(value)


def setting(name: str, value: object, *, low: float, integral: bool = False,
            above: bool = False, infinite: bool = False) -> float:
    """A numeric client setting: at least ``low`` (above it if ``above``); an int if
    ``integral``; infinity only if ``infinite``. ``ConfigurationError`` naming it otherwise."""
    kinds = (int,) if integral else (int, float)
    ok = isinstance(value, kinds) and not isinstance(value, bool)
    number = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not ok or math.isnan(number) or (math.isinf(number) and not infinite) or (
        number <= low if above else number < low
    ):
        kind = "an integer" if integral else "a number"
        bound = f"> {low}" if above else f">= {low}"
        raise ConfigurationError(f"{name} must be {kind} {bound}, got {value!r}")
    return number
