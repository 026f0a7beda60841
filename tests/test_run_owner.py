"""One writer per crawl run: the parent creates the runs before the child starts and hands it
their ids; the child completes exactly those runs (no new row, no search by pid)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawlers.runner import RUN_IDS_ENV, run_crawl
from tests.scheduling import runs, write_schedule_sites
from tests.simulated import SimulatedSetup, simulated_market


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[SimulatedSetup]:
    with simulated_market(tmp_path, seed=11, panels=3) as setup:
        yield setup


def test_the_parent_creates_the_runs_and_the_child_completes_them(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    sites_path = tmp_path / "sites.yaml"
    write_schedule_sites(simulated, sites_path, site_ids=["panel-01", "panel-02"])
    at_spawn: list[list[dict[str, Any]]] = []

    result = run_crawl(["panel-01", "panel-02"], sites_path=sites_path,
                       database_url=simulated.database_url, timeout_seconds=120,
                       on_spawn=lambda pid: at_spawn.append(runs(simulated.engine)))

    (before,) = at_spawn
    # Before the child ran a line: one running run per site, already carrying its pid.
    assert [(run["site_id"], run["status"], run["pid"]) for run in before] == [
        ("panel-01", "running", result.pid), ("panel-02", "running", result.pid)]
    after = runs(simulated.engine)
    assert [run["id"] for run in after] == [run["id"] for run in before] == result.run_ids
    assert {run["status"] for run in after} == {"succeeded"}
    assert all(run["offers_seen"] > 0 for run in after)


def test_the_run_ids_never_travel_in_the_child_command_line(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    sites_path = tmp_path / "sites.yaml"
    write_schedule_sites(simulated, sites_path, site_ids=["panel-03"])
    seen: list[str] = []

    def command_line(pid: int) -> None:
        seen.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
        seen.append(Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace"))

    result = run_crawl(["panel-03"], sites_path=sites_path,
                       database_url=simulated.database_url, timeout_seconds=120,
                       on_spawn=command_line)
    cmdline, environ = seen
    assert RUN_IDS_ENV not in cmdline and str(result.run_ids[0]) not in cmdline.split("\0")
    assert f'{RUN_IDS_ENV}={{"panel-03": {result.run_ids[0]}}}' in environ.split("\0")
