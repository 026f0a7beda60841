"""One child process with a hard timeout: what the crawl runner and the discovery runner share.

Scrapy's reactor cannot restart, so every crawl and every discovery pass runs in a child
process. :func:`run_child` starts it in its own session (a Ctrl-C or SIGTERM meant for the parent
does not reach it: the parent decides when and how it stops), keeps its stderr in a file (a full
pipe nobody reads would block it), hands its stdout lines to the caller as they arrive (in the
caller's thread), and stops it when the caller cancels or the hard timeout passes: SIGTERM to
its process group first (Scrapy closes cleanly, the crawl records itself as interrupted), SIGKILL
after the grace.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

POLL_SECONDS = 0.2
STDERR_TAIL_CHARS = 4000


@dataclass
class ChildResult:
    returncode: int
    timed_out: bool
    cancelled: bool
    stderr_tail: str
    pid: int
    seconds: float


def run_child(command: Sequence[str], *, timeout_seconds: float, stop_grace_seconds: float,
              env: dict[str, str] | None = None, cancel: threading.Event | None = None,
              on_spawn: Callable[[int], None] | None = None,
              on_stdout_line: Callable[[str], None] | None = None,
              stderr_tail_chars: int = STDERR_TAIL_CHARS,
              die_with_parent: bool = False) -> ChildResult:
    """Run ``command`` to its end, or stop it (``cancel`` set, or ``timeout_seconds`` passed).

    ``on_spawn`` receives the child's pid; ``on_stdout_line`` every line it prints on stdout
    (without it, stdout is inherited). ``die_with_parent`` (Linux): the child gets SIGKILL when
    the thread that started it dies (a worker killed mid-crawl leaves no orphan crawl writing
    behind the crawl that replaces it). Returns once the child is gone.
    """
    started = time.monotonic()
    deadline = started + timeout_seconds
    lines: queue.Queue[str | None] = queue.Queue()
    with tempfile.TemporaryFile() as stderr_file:
        child = subprocess.Popen(
            list(command), stderr=stderr_file, env=env, start_new_session=True,
            preexec_fn=_kill_me_with_parent if die_with_parent else None,
            stdout=subprocess.PIPE if on_stdout_line is not None else None,
            text=on_stdout_line is not None)
        reader = None
        if on_stdout_line is not None:
            assert child.stdout is not None
            reader = threading.Thread(target=read_lines, args=(child.stdout, lines),
                                      name=f"child-{child.pid}-stdout", daemon=True)
            reader.start()
        if on_spawn is not None:
            on_spawn(child.pid)
        timed_out = cancelled = False
        stdout_ended = reader is None
        while True:
            if not stdout_ended:  # waits for output instead of sleeping
                stdout_ended = _deliver(lines, on_stdout_line, wait=POLL_SECONDS)
            try:
                child.wait(timeout=POLL_SECONDS if stdout_ended else 0)
                break
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel.is_set():
                cancelled = True
            elif time.monotonic() >= deadline:
                timed_out = True
            if cancelled or timed_out:
                stop(child, stop_grace_seconds)
                break
        if reader is not None:
            # Its stdout ends with it (a grandchild keeping it open is not waited for long).
            reader.join(timeout=5)
            _deliver(lines, on_stdout_line, wait=0.0)
        stderr_tail = tail(stderr_file, stderr_tail_chars)
    return ChildResult(child.returncode, timed_out, cancelled, stderr_tail, child.pid,
                       time.monotonic() - started)


def stop(child: subprocess.Popen[Any], grace_seconds: float) -> None:
    """SIGTERM to the child's process group, SIGKILL after ``grace_seconds``."""
    signal_group(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        signal_group(child.pid, signal.SIGKILL)
        child.wait()


def signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


def read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Every line of ``stream`` into ``lines``, then ``None`` once it has ended."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def _deliver(lines: queue.Queue[str | None], on_line: Callable[[str], None] | None, *,
             wait: float) -> bool:
    """Hand the lines read so far to the caller (waiting up to ``wait`` for the first); True
    once the stream has ended."""
    if on_line is None:
        return True
    try:
        line = lines.get(timeout=wait) if wait > 0 else lines.get_nowait()
    except queue.Empty:
        return False
    while line is not None:
        on_line(line)
        try:
            line = lines.get_nowait()
        except queue.Empty:
            return False
    lines.put(None)  # the end stays visible to later calls
    return True


def tail(file: Any, limit: int, *, start: int = 0) -> str:
    """The last ``limit`` characters of a binary file (a child's stderr may be long), from byte
    ``start`` on (what a long-lived child wrote since then)."""
    file.seek(0, os.SEEK_END)
    file.seek(max(start, file.tell() - 4 * limit))
    return file.read().decode("utf-8", errors="replace")[-limit:]


_PR_SET_PDEATHSIG = 1


def _kill_me_with_parent() -> None:
    """In the child, before exec: SIGKILL when the parent thread dies (Linux ``prctl``)."""
    import ctypes
    import sys

    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
