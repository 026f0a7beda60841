"""Progress of long work (`demo`, `crawl --all`, `discover`, `import-csv`): one helper.

On a terminal it is a Rich progress bar (a spinner when the total is unknown) that disappears
or stays as Rich decides; when the output is piped or captured (cron, CI, ``| tee``) it is
plain lines, one per step that crosses a tenth of the total, one at least every
:data:`PLAIN_EVERY_SECONDS` otherwise, and always one for the last state::

    import-csv: 3/534 files (1%) SMMKings 2020_03_27 [4.2 s]

Progress is written to stderr by default, so that the command's output (tables, CSV, JSON)
stays alone on stdout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

PLAIN_EVERY_SECONDS = 10.0


class Tracker:
    """What the work calls: :meth:`advance` after each step, :meth:`note` to change the text
    shown without a step."""

    def __init__(self, console: Console, label: str, total: int | None, unit: str,
                 progress: Progress | None) -> None:
        self.console = console
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self.message = ""
        self._progress = progress
        self._task = progress.add_task(label, total=total) if progress is not None else None
        self._started = time.monotonic()
        self._last_line = -PLAIN_EVERY_SECONDS
        self._last_bucket = -1
        self._printed: tuple[int, str] | None = (0, "")
        self._lock = threading.Lock()

    @property
    def is_bar(self) -> bool:
        return self._progress is not None

    def note(self, message: str) -> None:
        self.message = message
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=self._description())

    def advance(self, steps: int = 1, message: str | None = None) -> None:
        """``steps`` more done (safe from several threads: crawl processes end in theirs)."""
        with self._lock:
            self._advance(steps, message)

    def _advance(self, steps: int, message: str | None) -> None:
        self.done += steps
        if message is not None:
            self.message = message
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=steps, description=self._description())
            return
        now = time.monotonic()
        bucket = (self.done * 10 // self.total) if self.total else -1
        last = self.total is not None and self.done >= self.total
        if last or bucket > self._last_bucket or now - self._last_line >= PLAIN_EVERY_SECONDS:
            self._last_bucket = bucket
            self._print(now)

    def close(self) -> None:
        """The last state, once, when plain lines skipped it (the work ended between lines)."""
        if self._progress is None and self._printed != (self.done, self.message):
            self._print(time.monotonic())

    def _print(self, now: float) -> None:
        self._last_line = now
        self._printed = (self.done, self.message)
        self.console.print(self.line(), markup=False, highlight=False, soft_wrap=True)

    def line(self) -> str:
        """The plain line of the current state."""
        count = (f"{self.done}/{self.total} {self.unit}" + (
            f" ({self.done * 100 // self.total}%)" if self.total else "")
            if self.total is not None else f"{self.done} {self.unit}")
        elapsed = time.monotonic() - self._started
        message = f" {self.message}" if self.message else ""
        return f"{self.label}: {count}{message} [{elapsed:.1f} s]"

    def _description(self) -> str:
        return f"{self.label} {self.message}".strip()


@contextmanager
def progress(console: Console, label: str, *, total: int | None = None, unit: str = "steps",
             bar: bool | None = None, **options: Any) -> Iterator[Tracker]:
    """A progress display for ``total`` steps (``None``: unknown) on ``console``: a bar on a
    terminal, plain lines otherwise (``bar`` forces either)."""
    use_bar = console.is_terminal if bar is None else bar
    if not use_bar:
        tracker = Tracker(console, label, total, unit, None)
        yield tracker
        tracker.close()
        return
    columns: list[Any] = ([TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn()] if total is not None else
                          [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()])
    with Progress(*columns, console=console, **options) as display:
        yield Tracker(console, label, total, unit, display)
