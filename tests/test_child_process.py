"""The child-process helper the crawl and discovery runners share, and the process check; real
child processes (small Python programs), no mocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from core.processes import process_alive
from crawlers.child_process import run_child

SLEEPER = "import time; time.sleep(60)"
STUBBORN = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)")


@pytest.mark.parametrize(("program", "timeout", "returncode", "timed_out"), [
    ("import sys; sys.stderr.write('boom\\n'); sys.exit(3)", 30, 3, False),
    ("pass", 30, 0, False),
    (SLEEPER, 1, -signal.SIGTERM, True),
], ids=["exit-code-and-stderr", "clean-exit", "hard-timeout-sigterm"])
def test_children_end_with_their_code_or_the_timeout(program: str, timeout: float,
                                                     returncode: int, timed_out: bool) -> None:
    result = run_child([sys.executable, "-c", program], timeout_seconds=timeout,
                       stop_grace_seconds=5)
    assert (result.returncode, result.timed_out, result.cancelled) == (returncode, timed_out,
                                                                       False)
    if returncode == 3:
        assert result.stderr_tail == "boom\n"


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    lines: list[str] = []
    result = run_child([sys.executable, "-c", STUBBORN], timeout_seconds=2,
                       stop_grace_seconds=1, on_stdout_line=lines.append)
    assert result.returncode == -signal.SIGKILL and result.timed_out
    assert lines == ["ready\n"]
    assert 3 <= result.seconds < 30


def test_cancel_stops_the_child_and_lines_reach_the_callers_thread() -> None:
    cancel = threading.Event()
    seen: list[tuple[str, str]] = []

    def on_line(line: str) -> None:
        seen.append((line.strip(), threading.current_thread().name))
        if line.strip() == "2":
            cancel.set()

    program = "import time\nfor n in range(100):\n    print(n, flush=True); time.sleep(0.1)"
    result = run_child([sys.executable, "-c", program], timeout_seconds=60,
                       stop_grace_seconds=5, cancel=cancel, on_stdout_line=on_line)
    assert result.cancelled and not result.timed_out and result.returncode == -signal.SIGTERM
    assert [line for line, _ in seen[:3]] == ["0", "1", "2"]
    assert {thread for _, thread in seen} == {threading.current_thread().name}


def test_process_alive() -> None:
    assert process_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_alive(child.pid)  # gone and reaped
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        # exited but not reaped yet: a zombie counts as gone
        os.waitid(os.P_PID, zombie.pid, os.WEXITED | os.WNOWAIT)
        assert not process_alive(zombie.pid)
    finally:
        zombie.wait()
