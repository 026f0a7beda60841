"""`clickfarm crawl` prints, and sets its exit code from, only the runs it created.

Beside a running scheduler another process records runs of the same sites; the latest run of a
site may be that process's. A real crawl of the simulator runs in a child process while a thread
plays the other process: as soon as the crawl's run is recorded, it records a newer run of the
same site (failed, or still running, as a scheduler's run would be).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from clickfarm.cli import app
from storage import repository
from storage.models import CrawlRun
from tests.simulated import start_simulated

runner = CliRunner()
SITE = "panel-03"


def _runs(engine: Engine) -> list[tuple[int, str, int | None]]:
    table = CrawlRun.__table__
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(table.c.id, table.c.status, table.c.offers_seen)
            .where(table.c.site_id == SITE).order_by(table.c.id))]


def _beside(engine: Engine, other_run: Callable[[int], None]) -> threading.Thread:
    """A thread that waits for the crawl's run to appear, then records the other process's."""
    seen_before = len(_runs(engine))

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = _runs(engine)
            if len(runs) > seen_before and runs[-1][1] == "running":
                other_run(repository.start_run(
                    engine, site_id=SITE, started_at=datetime.now(UTC), pid=os.getpid(),
                    trigger="schedule", planned_at=datetime.now(UTC)))
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_crawl_reports_its_own_runs_not_another_processes(tmp_path):
    setup = start_simulated(tmp_path, seed=5, panels=6)
    try:
        # Each response takes 1.5 s: the other process records its run while this crawl runs.
        setup.market.inject_fault(SITE, "slow")
        arguments = ["crawl", "--sites-file", str(setup.sites_path), "--database-url",
                     setup.database_url, "--site", SITE]

        # 1. Another process's run fails meanwhile: this crawl succeeded and says so, exit 0.
        def failed_elsewhere(run_id: int) -> None:
            repository.fail_run(setup.engine, run_id=run_id, finished_at=datetime.now(UTC),
                                error="the other process's failure")

        watcher = _beside(setup.engine, failed_elsewhere)
        result = runner.invoke(app, arguments, env={"COLUMNS": "200"})
        watcher.join(5)
        runs = _runs(setup.engine)
        assert [status for _, status, _ in runs] == ["succeeded", "failed"], runs
        assert result.exit_code == 0, result.output
        assert "succeeded" in result.output
        assert "other process" not in result.output and "failed" not in result.output
        own_offers = runs[0][2]
        assert own_offers and str(own_offers) in result.output

        # 2. This crawl fails while another process's run is still running (a scheduler's):
        # the failure is printed and sets the exit code, never hidden behind "running".
        setup.market.inject_fault(SITE, "no_table")
        watcher = _beside(setup.engine, lambda run_id: None)
        failed = runner.invoke(app, arguments, env={"COLUMNS": "200"})
        watcher.join(5)
        statuses = [status for _, status, _ in _runs(setup.engine)]
        assert statuses == ["succeeded", "failed", "failed", "running"], statuses
        assert failed.exit_code == 1, failed.output
        assert "failed" in failed.output and "running" not in failed.output
    finally:
        setup.server.stop()
