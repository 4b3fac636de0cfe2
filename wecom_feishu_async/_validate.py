"""Argument checks run before anything is sent; each failure names the field."""

from __future__ import annotations

from enum import IntEnum
from typing import TypeVar

from ._errors import InputError

E = TypeVar("E", bound=IntEnum)


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
