"""clickfarm.progress: a Rich bar on a terminal, plain lines when piped; and the long commands
(`crawl --all`, `discover`, `demo`, `import-csv`) use it.

`import-csv`'s piped lines are checked in tests/test_import_csv.py; `crawl --all` and `discover`
are run here against a small simulated market (two panels, one directory); `demo` runs one
simulated day (it is the slowest test of this file, a few seconds)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from clickfarm import progress as progress_module
from clickfarm.cli import app
from clickfarm.progress import progress
from tests.simulated import simulated_market


def plain_console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=False, width=200), buffer


def lines_of(buffer: io.StringIO) -> list[str]:
    return [re.sub(r" \[\d+\.\d s\]$", "", line) for line in buffer.getvalue().splitlines()]


@pytest.mark.parametrize(("total", "steps", "expected"), [
    # Every step that crosses a tenth of the total, and the last one.
    (3, 3, ["job: 1/3 files (33%) step 1", "job: 2/3 files (66%) step 2",
            "job: 3/3 files (100%) step 3"]),
    (40, 40, [f"job: {n}/40 files ({n * 100 // 40}%) step {n}"
              for n in (1, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40)]),
    # Work that ends early still says where it stopped.
    (10, 4, [f"job: {n}/10 files ({n * 10}%) step {n}" for n in (1, 2, 3, 4)]),
    # An unknown total: the first step, then the last state when the work ends.
    (None, 5, ["job: 1 files step 1", "job: 5 files step 5"]),
    (None, 0, []),
])
def test_plain_lines_when_not_a_terminal(total: int | None, steps: int,
                                         expected: list[str]) -> None:
    console, buffer = plain_console()
    with progress(console, "job", total=total, unit="files") as tracker:
        assert not tracker.is_bar
        for step in range(1, steps + 1):
            tracker.advance(message=f"step {step}")
    assert lines_of(buffer) == expected
    assert "\x1b[" not in buffer.getvalue()


def test_plain_lines_at_least_every_few_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now[0])
    console, buffer = plain_console()
    with progress(console, "job", total=1000, unit="rows") as tracker:
        for moment in (0.0, 1.0, 2.0, 30.0):
            now[0] = moment
            tracker.advance()
    # Step 1 (first tenth), step 4 (28 s after the last line), and no repeat at the end.
    assert buffer.getvalue().splitlines() == [
        "job: 1/1000 rows (0%) [0.0 s]", "job: 4/1000 rows (0%) [30.0 s]"]


def test_a_bar_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with progress(console, "job", total=4, unit="files") as tracker:
        assert tracker.is_bar
        for step in range(4):
            tracker.advance(message=f"step {step}")
    output = buffer.getvalue()
    assert "━" in output and "4/4" in output  # Rich's bar and its M/N column
    assert "job: 4/4 files" not in output  # no plain lines beside the bar


def test_the_note_does_not_count_a_step() -> None:
    console, buffer = plain_console()
    with progress(console, "job", total=2, unit="days") as tracker:
        tracker.note("crawling")
        tracker.advance(message="day 1")
        tracker.note("discovering")
        tracker.advance(message="day 2")
    assert lines_of(buffer) == ["job: 1/2 days (50%) day 1", "job: 2/2 days (100%) day 2"]


def test_crawl_all_and_discover_show_plain_progress_when_piped(tmp_path: Path) -> None:
    runner = CliRunner()
    with simulated_market(tmp_path, seed=3, panels=2) as setup:
        arguments = ["--sites-file", str(setup.sites_path), "--database-url",
                     setup.database_url]
        crawled = runner.invoke(app, ["crawl", "--all", "--parallel", "2", *arguments])
        assert crawled.exit_code == 0, crawled.stdout + crawled.stderr
        lines = [line for line in crawled.stderr.splitlines() if line.startswith("crawl:")]
        assert lines and re.match(r"crawl: 2/2 sites \(100%\) done: panel-0\d", lines[-1]), (
            crawled.stderr)
        assert "\x1b[" not in crawled.stderr

        sites = setup.sites_path.read_text()
        base = setup.server.base_url.rstrip("/")
        setup.sites_path.write_text(sites + f"discovery:\n  directories: [{base}/d/smmlist/]\n"
                                    "  max_pages_per_directory: 1\n")
        found = runner.invoke(app, ["discover", *arguments])
        assert found.exit_code == 0, found.stdout + found.stderr
        lines = [line for line in found.stderr.splitlines() if line.startswith("discover:")]
        assert lines and "directory pages" in lines[-1], found.stderr


def test_the_demo_shows_plain_progress_when_piped(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--days", "1", "--panels", "2", "--shops", "0",
                                      "--database-url", f"sqlite:///{tmp_path / 'demo.db'}",
                                      "--truth", str(tmp_path / "truth.json")])
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("demo:")]
    assert len(lines) == 1 and re.match(r"demo: 1/1 simulated days \(100%\) \d{4}-\d\d-\d\d "
                                        r"crawled", lines[0]), result.stdout
