"""What every benchmark shares: result rows and their targets, the emulator in its own
process, timing helpers, the printed table and the standalone entry point."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import json
import os
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
PEERS_MISSING = "skipped: install .[bench]"


@dataclass(frozen=True)
class Target:
    """What a ratio is held to: ``>=``, ``<=`` or ``==`` a value."""

    op: Literal[">=", "<=", "=="]
    value: float

    def met(self, ratio: float) -> bool:
        if self.op == ">=":
            return ratio >= self.value
        if self.op == "<=":
            return ratio <= self.value
        return abs(ratio - self.value) <= 1e-9 * max(1.0, abs(self.value))


def at_least(value: float) -> Target:
    return Target(">=", value)


def at_most(value: float) -> Target:
    return Target("<=", value)


def equal(value: float) -> Target:
    return Target("==", value)


@dataclass(frozen=True)
class Row:
    """One figure: what was measured, the baseline or limit it is held against, their
    ratio, and the target that ratio must meet (None: for information only).

    ``spec`` and ``suffix`` format the ratio and the target (``".1f"``, ``"x"``: 23.4x).
    """

    name: str
    measured: str
    baseline: str = ""
    ratio: float | None = None
    target: Target | None = None
    spec: str = ".2f"
    suffix: str = ""

    @property
    def ratio_text(self) -> str:
        return "" if self.ratio is None else format(self.ratio, self.spec) + self.suffix

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        return f"{self.target.op} {self.target.value:g}{self.suffix}"

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL``, ``skip`` (a target but no figure) or empty (information)."""
        if self.target is None:
            return ""
        if self.ratio is None:
            return "skip"
        return "pass" if self.target.met(self.ratio) else "FAIL"

    def cells(self) -> tuple[str, str, str, str, str, str]:
        return (self.name, self.measured, self.baseline, self.ratio_text, self.target_text,
                self.verdict)


HEADER = ("figure", "measured", "baseline / limit", "ratio", "target", "result")


def skipped(name: str, target: Target | None = None, suffix: str = "") -> Row:
    """A row whose figure could not be measured: a peer is not installed."""
    return Row(name, PEERS_MISSING, target=target, suffix=suffix)


def peer(module: str) -> ModuleType | None:
    """A peer library for side-by-side figures, or None when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def child_env() -> dict[str, str]:
    """The environment of a child process: the repository importable, installed or not."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), path) if p)}


@contextlib.contextmanager
def emulator(*args: str) -> Iterator[dict[str, Any]]:
    """``python -m wecom_feishu_async.emulator ARGS`` in its own process (so its work is not
    counted as the client's); yields its JSON announcement (URL and credentials)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wecom_feishu_async.emulator", *args],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the emulator exited before serving (status {proc.wait()})")
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wecom_emulator(
    seed: int, members: int, departments: int, latency: float = 0.0, quota: int = 10_000
) -> contextlib.AbstractContextManager[dict[str, Any]]:
    """A WeCom emulator process of this size, latency and per-minute quota per API."""
    return emulator("--seed", str(seed), "--members", str(members),
                    "--departments", str(departments), "--latency", str(latency),
                    "--quota-per-minute", str(quota))


def best_times(cases: dict[str, Callable[[], object]], rounds: int,
               budget: float = 0.1) -> dict[str, float]:
    """Best seconds per call of each case, the cases interleaved round by round (so a busy
    spell on a shared machine slows all of them), after one unmeasured warm-up round."""
    numbers = {name: max(1, int(budget / timeit.timeit(fn, number=1)))
               for name, fn in cases.items()}
    best = dict.fromkeys(cases, float("inf"))
    for measured in [False] + [True] * rounds:
        for name, fn in cases.items():
            seconds = timeit.timeit(fn, number=numbers[name]) / numbers[name]
            if measured:
                best[name] = min(best[name], seconds)
    return best


def median_ratio(pairs: Sequence[tuple[float, float]]) -> float:
    """The median of ``a / b`` over paired measurements ``(a, b)``."""
    return statistics.median(a / b for a, b in pairs)


def format_table(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    """Rows of cells, left-aligned in columns under ``header``."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip() for row in [header, *rows])


def rows_to_json(rows: Sequence[Row]) -> str:
    """Rows as one line of JSON (how a benchmark process hands them to the runner)."""
    return json.dumps([dataclasses.asdict(row) for row in rows])


def rows_from_json(text: str) -> list[Row]:
    """The rows ``rows_to_json`` wrote."""
    rows = []
    for fields in json.loads(text):
        target = fields.pop("target")
        rows.append(Row(**fields, target=None if target is None else Target(**target)))
    return rows


def standalone(run: Callable[[bool], list[Row]], doc: str | None) -> None:
    """``python benchmarks/NAME.py [--quick] [--json]``: run one benchmark and print its
    rows as a table, or with ``--json`` as one JSON line (for the runner)."""
    summary = (doc or "").strip().split("\n")[0]
    parser = argparse.ArgumentParser(description=summary)
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = run(args.quick)
    print(rows_to_json(rows) if args.json else format_table([row.cells() for row in rows]))
