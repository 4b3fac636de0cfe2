"""What every benchmark shares: the emulator in its own process, and the printed table."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any


@contextlib.contextmanager
def emulator(*args: str) -> Iterator[dict[str, Any]]:
    """``python -m wecom_feishu_async.emulator ARGS`` in its own process (so its work is not
    counted as the client's); yields its JSON announcement (URL and credentials)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wecom_feishu_async.emulator", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Rows of figures, left-aligned in columns under ``header``."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
