"""Where a member walk is written: JSON lines or CSV, chosen by the file's suffix."""

from __future__ import annotations

import csv
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import msgspec

__all__ = ["CSV_COLUMNS", "MemberSink"]

CSV_COLUMNS = (
    "userid", "name", "department", "main_department", "position", "mobile", "email",
    "biz_mail", "telephone", "alias", "english_name", "gender", "status", "open_userid",
    "direct_leader", "is_leader_in_dept", "order",
)


class MemberSink:
    """Writes members one by one to a ``.jsonl`` or ``.csv`` file, or to a text stream.

    CSV keeps the scalar fields (lists joined by ``;``); JSON lines keep every field, as
    the vendor names them.
    """

    def __init__(self, target: str | Path | IO[str]) -> None:
        self.path = Path(target) if isinstance(target, (str, Path)) else None
        self.members = 0
        self._csv: Any = None
        self._encoder = msgspec.json.Encoder()
        self._binary: IO[bytes] | None = None
        self._text: IO[str] | None = None
        if self.path is None:
            assert not isinstance(target, (str, Path))
            self._text = target
            return
        if self.path.suffix.lower() == ".csv":
            self._text = self.path.open("w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._text)
            self._csv.writerow(CSV_COLUMNS)
        else:
            self._binary = self.path.open("wb")

    def write(self, member: msgspec.Struct) -> None:
        """Append one member."""
        self.members += 1
        if self._csv is not None:
            row = msgspec.to_builtins(member)
            self._csv.writerow([_flat(row.get(c, "")) for c in CSV_COLUMNS])
        elif self._binary is not None:
            self._binary.write(self._encoder.encode(member) + b"\n")
        else:
            assert self._text is not None
            self._text.write(self._encoder.encode(member).decode() + "\n")

    def close(self) -> None:
        """Flush and close the file (a stream given by the caller is only flushed)."""
        if self.path is None:
            if self._text is not None:
                self._text.flush()
            return
        for stream in (self._binary, self._text):
            if stream is not None:
                stream.close()

    def __enter__(self) -> MemberSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _flat(value: object) -> object:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value
