"""Run every benchmark, print one table, and write the results page.

    python -m benchmarks                      # the full run, a few minutes
    python -m benchmarks --quick              # smaller sizes, under a minute
    python -m benchmarks --only walk,decode   # a subset (names below)
    python benchmarks/run.py ...              # the same

Each benchmark runs against the emulator in a separate process and gives rows of: the
measured figure, the baseline or limit it is held against, their ratio, the target and
pass/FAIL. The page (``benchmarks/RESULTS.md`` unless ``--out``) adds the machine, the date
and the command. Exits with 1 if a figure missed its target or a benchmark broke.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import importlib
import shlex
import subprocess
import time
from collections.abc import Sequence
from datetime import datetime

from benchmarks._harness import HEADER, ROOT, child_env, format_table, rows_from_json
from benchmarks._report import Section, machine, markdown, tally

# In the order they run; each is a module of this package with ``run(quick) -> list[Row]``.
BENCHMARKS = ("overhead", "walk", "batch_search", "feishu_fanout", "decode", "memory")
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {', '.join(unknown) or '(none)'}; choose from "
            + ", ".join(BENCHMARKS))
    return names


def run_one(name: str, quick: bool) -> Section:
    """One benchmark's rows and wall time, measured in a fresh process (so no benchmark
    inherits another's heap, imports or threads); a crash becomes the section's error."""
    module = importlib.import_module(f"benchmarks.{name}")
    section = Section(name, (module.__doc__ or name).strip().split("\n")[0].rstrip("."))
    print(f"running {name}: {section.title}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--json", *(["--quick"] * quick)],
        cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, text=True, check=False,
    )
    section.seconds = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        section.rows = rows_from_json(lines[-1])
    else:
        section.error = f"exit status {done.returncode} (its traceback is printed above)"
    return section


def table(sections: Sequence[Section]) -> str:
    """Every section's rows in one table, each section under a line naming it."""
    rows: list[Sequence[str]] = []
    for s in sections:
        rows.append((f"[{s.name}] {s.title} ({s.seconds:.1f} s)", *[""] * (len(HEADER) - 1)))
        if s.error:
            rows.append((f"  error: {s.error}", *[""] * (len(HEADER) - 1)))
        rows += [row.cells() for row in s.rows]
    return format_table(rows)


def main(argv: Sequence[str] | None = None, prog: str = "python benchmarks/run.py") -> int:
    """Run the benchmarks the arguments choose; returns the exit status."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under a minute")
    parser.add_argument("--only", type=_names, default=list(BENCHMARKS), metavar="NAME,...",
                        help="run only these: " + ", ".join(BENCHMARKS))
    parser.add_argument("--out", type=Path, default=RESULTS, help="the results page to write")
    parser.add_argument("--no-write", action="store_true", help="print only, write no page")
    args = parser.parse_args(argv)
    command = " ".join([prog, *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    started = datetime.now().astimezone()
    host = machine()
    sections = [run_one(name, args.quick) for name in args.only]
    print(table(sections))
    counts = tally(sections)
    total = sum(s.seconds for s in sections)
    print(f"{counts['pass']} passed, {counts['FAIL']} failed, {counts['skip']} skipped, "
          f"{counts['error']} broke, in {total:.0f} s")
    if not args.no_write:
        args.out.write_text(markdown(sections, command=command, quick=args.quick, host=host,
                                     started=started.strftime("%Y-%m-%d %H:%M %Z")))
        print(f"wrote {args.out}")
    return 1 if counts["FAIL"] or counts["error"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
