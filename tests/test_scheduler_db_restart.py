"""A database blip loses no planned run (issue 15, item 1).

A real ``clickfarm schedule`` service (in a thread of this process) crawls three simulated
panels every 15 s into a PostgreSQL server of its own on loopback, while the test restarts that
server twice, each time just before planned fires: once fast (``pg_ctl restart -m fast``, well
under a second of downtime, as in the field report) and once with the server down for 3 s. Every planned fire must end with exactly
one run row (succeeded, or failed with the reason), nothing may be left ``running``, the summary
must count what happened, and no traceback may reach the log.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.service import ServiceSummary, run_service
from simulator import Market, SimulatorServer
from storage.db import get_engine, migrate
from tests.postgres import PostgresServer, start_server
from tests.scheduling import runs, wait_for, write_schedule_sites
from tests.simulated import SimulatedSetup

INTERVAL = 15.0
WINDOW = 64.0


def _pg_ctl(server: PostgresServer, *arguments: str) -> None:
    # The server's output goes to its log: a pipe would be held open by the new postmaster.
    subprocess.run([*server.run_as, str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir),
                    "-l", str(server.log_file), "-w", "-t", "60", *arguments], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=server.base_dir)


def _down_for(server: PostgresServer, seconds: float) -> None:
    """Stop the server, wait, start it again with the options it ran with."""
    command = shlex.split((server.data_dir / "postmaster.opts").read_text())
    options = command[1:]
    data = options.index("-D")
    del options[data:data + 2]
    _pg_ctl(server, "-m", "fast", "stop")
    time.sleep(seconds)
    _pg_ctl(server, "-o", shlex.join(options), "start")


def _sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


@pytest.fixture
def own_postgres():
    """A server for this test alone: restarting the suite's server would break other tests."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def test_a_postgres_restart_under_the_scheduler_loses_no_planned_run(
        own_postgres: PostgresServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import os

    database_url = own_postgres.create_database("clickfarm")
    engine = get_engine(database_url)
    migrate(engine)
    market = Market(seed=7, n_panels=3, n_shops=0)
    simulator = SimulatorServer(market).start()
    os.environ["CLICKFARM_SIM_URL"] = simulator.base_url
    os.environ.update(market.api_key_env())
    setup = SimulatedSetup(market, simulator, tmp_path / "sites.yaml", database_url, engine)
    sites_path = tmp_path / "schedule.yaml"
    site_ids = write_schedule_sites(setup, sites_path, interval=f"{INTERVAL:g}s",
                                    scheduler={"max_parallel_crawls": 3,
                                               "misfire_grace_seconds": 60})
    caplog.set_level(logging.INFO)
    outcome: dict[str, ServiceSummary] = {}
    service = threading.Thread(target=lambda: outcome.update(summary=run_service(
        sites_path=sites_path, database_url=database_url, once_for=WINDOW,
        install_signal_handlers=False)))
    try:
        service.start()
        # The first fire of every site, then the blips timed on the next two fires.
        first_fire = wait_for(lambda: min((run["planned_at"] for run in runs(engine)),
                                          default=None), timeout=60, what="the first fire")
        _sleep_until(first_fire + timedelta(seconds=INTERVAL - 0.05))
        blip_started = time.monotonic()
        _pg_ctl(own_postgres, "-m", "fast", "restart")
        fast_restart = time.monotonic() - blip_started
        _sleep_until(first_fire + timedelta(seconds=2 * INTERVAL - 1))
        _down_for(own_postgres, 3)
        service.join(timeout=WINDOW + 240)
        assert not service.is_alive(), "the service did not stop"
    finally:
        simulator.stop()
    summary = outcome["summary"]

    all_runs = runs(engine)
    engine.dispose()
    fires = sum(summary.fired.values())
    waiting_at_stop = sum(summary.not_started_at_stop.values())
    per_fire = Counter((run["site_id"], run["planned_at"]) for run in all_runs)
    lost = fires - waiting_at_stop - len(per_fire)
    print(f"\nrestart test: fast restart {fast_restart:.2f} s, then 3 s down; planned fires "
          f"{fires} (+{sum(summary.skipped.values())} skipped while the site's previous run "
          f"was going), runs recorded {len(all_runs)} "
          f"({dict(Counter(run['status'] for run in all_runs))}), waiting for a slot at stop "
          f"{waiting_at_stop}, runs lost {lost}")
    for line in summary.lines():
        print(line)
    for run in all_runs:
        if run["status"] != "succeeded":
            print(f"run {run['id']} {run['site_id']} {run['status']}: {run['error'][:300]}")

    assert fires >= 2 * len(site_ids), summary.lines()
    # Every planned fire has exactly one run row; none is lost, none doubled.
    assert all(count == 1 for count in per_fire.values()), per_fire
    assert lost == 0, summary.lines()
    assert len(all_runs) == len(summary.run_ids) == len(per_fire)
    assert all(run["trigger"] == "schedule" for run in all_runs)
    # No phantom: nothing left running, failures say why.
    assert not [run for run in all_runs if run["status"] == "running"]
    for run in all_runs:
        if run["status"] != "succeeded":
            assert run["error"], run
    # The summary counts what happened.
    assert summary.unrecorded == 0
    assert sum(summary.started.values()) + sum(summary.not_started.values()) \
        + waiting_at_stop + sum(summary.dropped.values()) == fires, summary.lines()
    assert sum(summary.runs_by_status.values()) == len(all_runs)
    # The service kept crawling after the blips, and said so in single lines: the fires planned
    # right after the second blip (3 s down) succeeded. (Later rounds may be skipped on a loaded
    # machine while a site's previous crawl is still going; they are counted above.)
    assert [run for run in all_runs if run["status"] == "succeeded"
            and run["planned_at"] >= first_fire + timedelta(seconds=2 * INTERVAL - 1)]
    tracebacks = [record.getMessage() for record in caplog.records if record.exc_info]
    assert tracebacks == []
    # The blips did reach the scheduler's own database work (and were waited out).
    assert any("database unavailable" in record.getMessage() for record in caplog.records)


def test_a_planned_run_that_cannot_start_is_recorded_failed_once_the_database_is_back(
        own_postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database stays down longer than the retry bound: the planned run is not lost but
    recorded as a failed run, with the reason, when the database is back, and counted."""
    from scheduler import jobs
    from scheduler.jobs import ServiceContext
    from tests.run_history import project, site_config

    monkeypatch.setattr(jobs, "DATABASE_RETRY_SECONDS", 1.0)
    database_url = own_postgres.create_database("clickfarm")
    engine = get_engine(database_url)
    migrate(engine)
    from storage.repository import upsert_site

    upsert_site(engine, site_id="panel-x", url="https://panel-x.example/", family="smm_api",
                currency="USD", now=datetime.now(UTC))
    sites_path = tmp_path / "sites.yaml"
    sites_path.write_text("sites:\n  - {id: panel-x, url: 'https://panel-x.example/', "
                          "family: smm_api}\n")
    context = ServiceContext(sites_path=sites_path, database_url=database_url, engine=engine,
                             project=project([site_config("panel-x")]))
    context.site_ids = {"panel-x"}
    planned = datetime.now(UTC).replace(microsecond=0)

    command = shlex.split((own_postgres.data_dir / "postmaster.opts").read_text())
    options = command[1:]
    del options[options.index("-D"):options.index("-D") + 2]
    _pg_ctl(own_postgres, "-m", "fast", "stop")
    try:
        assert jobs._crawl(context, "panel-x", {"crawl_timeout_seconds": 30}, planned) == []
        assert context.not_started == {"panel-x": 1} and not context.started
        assert len(context.pending) == 1  # not recorded yet: the database is still down
    finally:
        _pg_ctl(own_postgres, "-o", shlex.join(options), "start")
    recorded = context.pending.flush(engine, within=30)
    [run] = runs(engine)
    engine.dispose()
    assert recorded == [run["id"]] and len(context.pending) == 0
    assert (run["site_id"], run["status"], run["trigger"], run["planned_at"]) == (
        "panel-x", "failed", "schedule", planned)
    assert run["error"].startswith("the planned run could not start: database unavailable: ")
    assert "Connection refused" in run["error"]
