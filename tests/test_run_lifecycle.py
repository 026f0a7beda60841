"""An honest run lifecycle: running -> succeeded / partial / failed / interrupted, whatever happens
to the crawl process (SIGKILL, hard timeout, crash), and a batch stored whole or not at all.

Real child crawl processes against the loopback simulator, real SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from clickfarm.cli import app
from crawlers.runner import run_crawl
from scheduler.service import run_service
from storage import repository
from tests.scheduling import (
    kill_group,
    process_alive,
    runs,
    start_schedule_process,
    wait_for,
    write_schedule_sites,
)
from tests.simulated import SimulatedSetup, simulated_market

STORED_TABLES = ("offer", "offer_price_period", "offer_event", "counter_reading")


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[SimulatedSetup]:
    with simulated_market(tmp_path, seed=23, panels=2) as setup:
        yield setup


def _snapshot(setup: SimulatedSetup, site_id: str) -> dict[str, list[tuple]]:
    """Every stored row of a site's offers, history, events and counters."""
    queries = {
        "offer": "SELECT * FROM offer WHERE site_id = :site ORDER BY id",
        "offer_price_period": "SELECT p.* FROM offer_price_period p JOIN offer o ON o.id = "
                              "p.offer_id WHERE o.site_id = :site ORDER BY p.id",
        "offer_event": "SELECT e.* FROM offer_event e JOIN offer o ON o.id = e.offer_id "
                       "WHERE o.site_id = :site ORDER BY e.id",
        "counter_reading": "SELECT * FROM counter_reading WHERE site_id = :site ORDER BY id",
    }
    with setup.engine.connect() as connection:
        return {table: [tuple(row) for row in connection.execute(text(sql), {"site": site_id})]
                for table, sql in queries.items()}


def _sites_file(setup: SimulatedSetup, tmp_path: Path, **options) -> Path:
    path = tmp_path / "lifecycle.yaml"
    write_schedule_sites(setup, path, **options)
    return path


# ------------------------------------------------------------------------------------------
# a crawl killed with SIGKILL


def test_a_crawl_killed_mid_way_is_interrupted_at_the_next_start_and_the_next_run_is_clean(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    sites_path = _sites_file(simulated, tmp_path, interval="3s", site_ids=["panel-01"])
    simulated.market.inject_fault("panel-01", "slow", seconds=5)
    service = start_schedule_process(sites_path, simulated.database_url,
                                     log_path=tmp_path / "first.log")
    try:
        # The parent creates the run, then records its crawl process's pid: wait for both.
        (killed,) = wait_for(lambda: [run for run in runs(simulated.engine, "panel-01")
                                      if run["status"] == "running" and run["pid"]],
                             timeout=120, what="a running crawl with its process")
        # The power cut: the scheduler and its crawl process die without a word.
        kill_group(service.pid)
        kill_group(killed["pid"])
        service.wait(timeout=60)
        wait_for(lambda: not process_alive(killed["pid"]), timeout=60, what="the crawl to die")
    finally:
        if service.poll() is None:
            service.kill()
    # Nobody closed the run: it still says running, with the pid of a dead process.
    assert runs(simulated.engine, "panel-01")[-1]["status"] == "running"

    simulated.market.clear_faults("panel-01")
    summary = run_service(sites_path=sites_path, database_url=simulated.database_url,
                          once_for=10)

    assert summary.stale_runs_closed == 1
    site_runs = {run["id"]: run for run in runs(simulated.engine, "panel-01")}
    assert site_runs[killed["id"]]["status"] == "interrupted"
    assert f"crawl process {killed['pid']} is gone" in site_runs[killed["id"]]["error"]
    later = [run for run in site_runs.values() if run["id"] > killed["id"]]
    assert later and {run["status"] for run in later} == {"succeeded"}, later
    assert later[0]["offers_new"] > 0  # the killed crawl stored nothing: all new now
    with simulated.engine.connect() as connection:
        stored_by_killed = connection.execute(
            text("SELECT count(*) FROM offer_price_period WHERE run_id = :run"),
            {"run": killed["id"]}).scalar_one()
    assert stored_by_killed == 0
    assert not [run for run in runs(simulated.engine) if run["status"] == "running"]


def test_clickfarm_crawl_closes_runs_of_dead_processes_and_records_a_manual_run(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    sites_path = _sites_file(simulated, tmp_path, site_ids=["panel-02"])
    repository.upsert_site(simulated.engine, site_id="panel-02", url="http://127.0.0.1:9/",
                           family="smm_api", currency="USD", now=datetime.now(UTC))
    dead = run_crawl(["panel-02"], sites_path=sites_path, database_url=simulated.database_url,
                     timeout_seconds=120)
    orphan = repository.start_run(simulated.engine, site_id="panel-02",
                                  started_at=datetime.now(UTC), pid=dead.pid)

    result = CliRunner().invoke(app, ["crawl", "--site", "panel-02", "--sites-file",
                                      str(sites_path), "--database-url",
                                      simulated.database_url])

    assert result.exit_code == 0, result.output
    site_runs = {run["id"]: run for run in runs(simulated.engine, "panel-02")}
    assert site_runs[orphan]["status"] == "interrupted"
    newest = max(site_runs.values(), key=lambda run: run["id"])
    assert (newest["status"], newest["trigger"], newest["planned_at"]) == (
        "succeeded", "manual", None)


# ------------------------------------------------------------------------------------------
# the parent gives every run an honest final status


def test_a_crawl_over_its_hard_timeout_is_interrupted_with_the_reason(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    sites_path = _sites_file(simulated, tmp_path, site_ids=["panel-01"])
    simulated.market.inject_fault("panel-01", "slow", seconds=30)

    result = run_crawl(["panel-01"], sites_path=sites_path, database_url=simulated.database_url,
                       timeout_seconds=8, stop_grace_seconds=30)

    assert result.timed_out
    (run,) = runs(simulated.engine, "panel-01")
    assert result.run_ids == [run["id"]]
    assert run["status"] == "interrupted"
    assert run["error"].startswith("hard timeout: the crawl process ran longer than 8 s")
    assert run["finished_at"] >= run["started_at"] + timedelta(seconds=7)
    assert _snapshot(simulated, "panel-01")["offer"] == []


def test_a_crawl_process_that_crashes_ends_failed_with_its_stderr(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    sites_path = _sites_file(simulated, tmp_path, site_ids=["panel-01"])
    first = run_crawl(["panel-01"], sites_path=sites_path, database_url=simulated.database_url,
                      timeout_seconds=120)
    assert first.returncode == 0
    # Someone saves a broken sites file while the scheduler is about to start a crawl.
    sites_path.write_text("sites: [\n  {id: panel-01\n", encoding="utf-8")

    crashed = run_crawl(["panel-01"], sites_path=sites_path,
                        database_url=simulated.database_url, timeout_seconds=120)

    assert crashed.returncode == 1 and not crashed.timed_out
    last = runs(simulated.engine, "panel-01")[-1]
    assert crashed.run_ids == [last["id"]]
    assert last["status"] == "failed"
    assert last["error"].startswith("crawl process exited with code 1: ")
    assert "not valid YAML" in last["error"]
    assert last["trigger"] == "manual" and last["pid"] == crashed.pid


# ------------------------------------------------------------------------------------------
# a batch is stored whole or not at all


@pytest.mark.parametrize(
    ("table", "after_rows", "crawled_before"),
    [("offer_price_period", 5, False), ("counter_reading", 0, True)],
    ids=["fifth-price-row-of-a-first-crawl", "counters-after-the-offers-of-a-later-crawl"],
)
def test_a_storage_error_mid_batch_stores_nothing_of_the_batch(
        simulated: SimulatedSetup, tmp_path: Path, table: str, after_rows: int,
        crawled_before: bool) -> None:
    sites_path = _sites_file(simulated, tmp_path, site_ids=["panel-01"])
    if crawled_before:
        first = run_crawl(["panel-01"], sites_path=sites_path,
                          database_url=simulated.database_url, timeout_seconds=120)
        assert first.returncode == 0
        simulated.market.advance(days=5)  # prices moved: periods to close and open
    before = _snapshot(simulated, "panel-01")
    assert bool(before["counter_reading"]) == crawled_before
    # A real database error in the middle of the write: the trigger aborts the statement
    # that inserts the (after_rows + 1)-th row of the run into ``table``.
    with simulated.engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TRIGGER fail_mid_batch BEFORE INSERT ON {table} "
            f"WHEN (SELECT count(*) FROM {table} WHERE run_id = NEW.run_id) >= {after_rows} "
            f"BEGIN SELECT RAISE(ABORT, 'injected failure mid-batch'); END")

    result = run_crawl(["panel-01"], sites_path=sites_path, database_url=simulated.database_url,
                       timeout_seconds=120)

    assert result.returncode == 0
    last = runs(simulated.engine, "panel-01")[-1]
    assert last["status"] == "failed"
    assert last["error"].startswith("storage failed, nothing stored: ")
    assert "injected failure mid-batch" in last["error"]
    assert _snapshot(simulated, "panel-01") == before
