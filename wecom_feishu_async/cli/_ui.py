"""Terminal output: tables on stdout, JSON for scripts, progress bars on stderr.

``rich`` (the ``cli`` extra) draws the tables and bars; without it, tables are plain
columns and there are no bars. Bars are drawn only when stderr is a terminal.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, Protocol

import msgspec

try:  # the cli extra
    import rich.box
    import rich.console
    import rich.progress
    import rich.table

    HAVE_RICH = True
except ImportError:  # pragma: no cover - exercised only without the extra
    HAVE_RICH = False

__all__ = ["Bar", "Output"]

_json = msgspec.json.Encoder()


class Bar(Protocol):
    """One progress bar."""

    def update(self, completed: float, total: float | None = None, note: str = "") -> None:
        """Show ``completed`` of ``total`` (None: not known yet), with a short note."""
        ...


class _NoBar:
    def update(self, completed: float, total: float | None = None, note: str = "") -> None:
        return None


class Output:
    """Where a command's results and progress go."""

    def __init__(
        self,
        *,
        json: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        progress: bool | None = None,
    ) -> None:
        self.json = json
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        if progress is None:
            progress = _isatty(self.stderr)
        self.progress_enabled = progress and HAVE_RICH

    # Results ------------------------------------------------------------------------

    def emit(self, value: Any) -> None:
        """One JSON value on a line of its own: a whole document, or one item of a stream."""
        self.stdout.write(_json.encode(value).decode() + "\n")

    def text(self, message: str) -> None:
        """A line of human text on stdout."""
        self.stdout.write(message + "\n")

    def note(self, message: str) -> None:
        """A line for the person at the terminal, on stderr (never mixed with results)."""
        self.stderr.write(message + "\n")

    def table(self, title: str, header: Sequence[str], rows: Sequence[Sequence[object]],
              *, grouped: bool = False) -> None:
        """A table of ``rows`` under ``header``; numbers right-aligned, and with thousands
        separators when ``grouped`` (figures rather than ids)."""
        cells = [[_cell(v, grouped) for v in row] for row in rows]
        numeric = [
            bool(rows) and all(isinstance(r[i], (int, float)) for r in rows)
            for i in range(len(header))
        ]
        if HAVE_RICH:
            table = rich.table.Table(title=title or None, box=rich.box.SIMPLE_HEAVY,
                                     title_justify="left")
            for name, right in zip(header, numeric, strict=True):
                table.add_column(name, justify="right" if right else "left")
            for row in cells:
                table.add_row(*row)
            console = rich.console.Console(file=self.stdout, highlight=False, soft_wrap=False,
                                           width=max(_width(self.stdout), 60))
            console.print(table)
            return
        widths = [max(len(r[i]) for r in [list(header), *cells]) for i in range(len(header))]
        if title:
            self.text(title)
        for row in [list(header), *cells]:
            self.text("  ".join(
                c.rjust(w) if right else c.ljust(w)
                for c, w, right in zip(row, widths, numeric, strict=True)
            ).rstrip())
        self.text("")

    # Progress -----------------------------------------------------------------------

    @contextmanager
    def progress(self) -> Iterator[_Bars]:
        """Progress bars on stderr for the duration of the block (none off a terminal)."""
        if not self.progress_enabled:
            yield _Bars(None)
            return
        console = rich.console.Console(file=self.stderr)
        bars = rich.progress.Progress(
            rich.progress.SpinnerColumn(),
            rich.progress.TextColumn("{task.description:<24}"),
            rich.progress.BarColumn(),
            rich.progress.MofNCompleteColumn(),
            rich.progress.TimeElapsedColumn(),
            rich.progress.TextColumn("{task.fields[note]}"),
            console=console,
            transient=True,
        )
        with bars:
            yield _Bars(bars)


class _Bars:
    """Adds bars to a live progress display (or hands out bars that draw nothing)."""

    def __init__(self, display: Any) -> None:
        self._display = display

    def bar(self, description: str, total: float | None = None) -> Bar:
        if self._display is None:
            return _NoBar()
        return _RichBar(self._display, self._display.add_task(description, total=total,
                                                                note=""))


class _RichBar:
    def __init__(self, display: Any, task: Any) -> None:
        self._display = display
        self._task = task

    def update(self, completed: float, total: float | None = None, note: str = "") -> None:
        if total is not None:
            self._display.update(self._task, total=total)
        self._display.update(self._task, completed=completed, note=note)


def _cell(value: object, grouped: bool) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if grouped else f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool) and grouped:
        return f"{value:,}"
    return str(value)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _width(stream: IO[str]) -> int:
    return shutil.get_terminal_size((100, 24)).columns if _isatty(stream) else 100
