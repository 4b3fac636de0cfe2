"""msgspec encoding and cached, typed decoding."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

# What decoding untrusted bytes may raise: msgspec gives up on JSON nested past its limit
# with RecursionError rather than DecodeError.
DECODE_ERRORS: tuple[type[Exception], ...] = (msgspec.DecodeError, RecursionError)

_encoder = msgspec.json.Encoder()
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def encode(value: object) -> bytes:
    """Encode a request body as compact UTF-8 JSON."""
    return _encoder.encode(value)


def decoder_for(tp: type[T]) -> msgspec.json.Decoder[T]:
    """The one cached JSON decoder for ``tp``."""
    decoder = _decoders.get(tp)
    if decoder is None:
        decoder = _decoders[tp] = msgspec.json.Decoder(tp)
    return decoder
