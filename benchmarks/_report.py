"""The results page: the machine, the run and every benchmark's rows as Markdown."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from benchmarks._harness import HEADER, ROOT, Row

PACKAGES = ("wecom_feishu_async", "aiohttp", "msgspec", "wechatpy", "lark-oapi")


@dataclass
class Section:
    """One benchmark's rows, its wall time, and the error that stopped it, if any."""

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    memory = _memory_gb()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": "unknown" if memory is None else f"{memory:.1f} GB",
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(f"{p} {_version(p)}" for p in PACKAGES),
        "commit": _commit(),
        "load average at start": "unknown" if load is None else " / ".join(
            f"{x:.2f}" for x in load),
    }


def _cell(text: str) -> str:
    # An indented figure belongs to the one above it.
    shown = "↳ " + text.strip() if text.startswith(" ") else text.strip()
    return shown.replace("|", "\\|") or " "


def _table(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _summary(sections: Sequence[Section]) -> list[str]:
    """Every figure held to a target, one line each; an indented figure is named after the
    subject of the one above it (what comes before its colon)."""
    rows = []
    for s in sections:
        subject = ""
        for row in s.rows:
            name = row.name.strip()
            if row.name.startswith(" "):
                name = f"{subject}: {name}" if subject else name
            else:
                subject = row.name.split(": ")[0]
            if row.target is not None:
                rows.append((name, row.ratio_text, row.target_text, row.verdict))
    return _table(rows, ("figure", "ratio", "target", "result")) if rows else []


def tally(sections: Sequence[Section]) -> dict[str, int]:
    """How many rows passed, failed and were skipped, and how many benchmarks broke."""
    verdicts = [row.verdict for s in sections for row in s.rows]
    return {"pass": verdicts.count("pass"), "FAIL": verdicts.count("FAIL"),
            "skip": verdicts.count("skip"), "error": sum(1 for s in sections if s.error)}


def markdown(sections: Sequence[Section], *, command: str, started: str, quick: bool,
             host: dict[str, str]) -> str:
    """The whole results page."""
    total = sum(s.seconds for s in sections)
    counts = tally(sections)
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{command}` on {started} ({'quick' if quick else 'full'} run, "
        f"{total:.0f} s). Ratios compare figures measured in the same run, so they carry "
        "from machine to machine better than the absolute times do. The emulator always "
        "runs in its own process; see `benchmarks/*.py` for what each figure measures.",
        "",
        f"**{counts['pass']} passed, {counts['FAIL']} failed, {counts['skip']} skipped"
        + (f", {counts['error']} benchmarks broke" if counts["error"] else "") + ".**",
        "",
        *_summary(sections),
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in host.items()],
    ]
    for s in sections:
        lines += ["", f"## {s.title} (`{s.name}`, {s.seconds:.1f} s)", ""]
        if s.error:
            lines += [f"Stopped by an error: `{s.error}`", ""]
        if s.rows:
            lines += _table([row.cells() for row in s.rows])
    return "\n".join(lines) + "\n"
