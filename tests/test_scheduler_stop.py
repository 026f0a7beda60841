"""`clickfarm schedule` stops on SIGTERM, also under load and while its job store waits on SQLite.

The stall of issue 4 (no exit within 180 s after SIGTERM, seen under load): the service ran
APScheduler's ``BlockingScheduler`` loop in the main thread. When the job store's write waited
out the SQLite busy timeout (crawl processes writing), the UPDATE failed with "database is
locked"; APScheduler does not catch that error in its loop, so ``scheduler.start()`` raised in
the middle of the service: the drain was skipped, the crawls were never told to stop, and the
process stayed alive until their threads had finished (up to the crawl's hard timeout). While
the main thread waited inside SQLite, the SIGTERM handler could not even run.

Real service processes, a real simulator, real SQLite; the CPU load comes from busy processes
started by the test. Every wait is bounded.
"""

from __future__ import annotations

import multiprocessing
import random
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db import SQLITE_BUSY_TIMEOUT_MS
from tests.scheduling import runs, start_schedule_process, wait_for, write_schedule_sites
from tests.simulated import SimulatedSetup, simulated_market

pytestmark = pytest.mark.slow

EXIT_SECONDS = 60  # after SIGTERM: grace 1 s + a child's stop (15 s at most) + slack for load


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[SimulatedSetup]:
    with simulated_market(tmp_path, seed=11, panels=3) as setup:
        yield setup


def _spin(stop: multiprocessing.synchronize.Event) -> None:
    while not stop.is_set():
        sum(number * number for number in range(20_000))


@pytest.fixture
def cpu_load() -> Iterator[None]:
    """Busy processes, one per core and one more, for the duration of the test."""
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
                for _ in range((multiprocessing.cpu_count() or 1) + 1)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join(timeout=10)
            if spinner.is_alive():
                spinner.kill()


def _stop_and_wait(service, log_path: Path) -> tuple[int, float, str]:
    sent = time.monotonic()
    service.send_signal(signal.SIGTERM)
    try:
        returncode = service.wait(timeout=EXIT_SECONDS)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
    return returncode, time.monotonic() - sent, log_path.read_text(errors="replace")


def test_repeated_sigterms_under_load_always_stop_the_service(
        simulated: SimulatedSetup, tmp_path: Path, cpu_load: None) -> None:
    sites_path = tmp_path / "schedule.yaml"
    simulated.market.inject_fault("panel-01", "slow", seconds=2)
    write_schedule_sites(simulated, sites_path, interval="1s",
                         scheduler={"shutdown_grace_seconds": 1, "config_reload_seconds": 1})
    chance = random.Random(12)
    exits = []
    for attempt in range(12):
        log_path = tmp_path / f"schedule-{attempt}.log"
        known = len(runs(simulated.engine))
        service = start_schedule_process(sites_path, simulated.database_url, log_path=log_path)
        try:
            # Stop while crawls and jobs are busy: a run of this session is recorded, then a
            # random moment later (a crawl starting, writing, or the job store updating).
            wait_for(lambda known=known: len(runs(simulated.engine)) > known, timeout=120,
                     what="a crawl of this session")
            time.sleep(chance.uniform(0, 1.5))
        except BaseException:
            service.kill()
            service.wait()
            raise
        returncode, seconds, log = _stop_and_wait(service, log_path)
        exits.append(round(seconds, 1))
        assert returncode == 0, (attempt, log[-3000:])
        assert "stopped: SIGTERM" in log, (attempt, log[-3000:])
        left_running = [run["id"] for run in runs(simulated.engine) if run["status"] == "running"]
        assert not left_running, (attempt, left_running, log[-3000:])
    assert len(exits) == 12, exits


def test_sigterm_while_the_job_store_waits_for_the_database_lock(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    """The job store's UPDATE waits out the busy timeout and fails: the service goes on
    planning, and a SIGTERM sent meanwhile stops it cleanly (code 0, runs closed)."""
    sites_path = tmp_path / "schedule.yaml"
    write_schedule_sites(simulated, sites_path, interval="1s",
                         scheduler={"shutdown_grace_seconds": 1})
    log_path = tmp_path / "schedule.log"
    service = start_schedule_process(sites_path, simulated.database_url, log_path=log_path)
    database = simulated.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(database, isolation_level=None, timeout=60)
    try:
        wait_for(lambda: runs(simulated.engine), timeout=120, what="a first crawl")
        holder.execute("BEGIN IMMEDIATE")  # what a long crawl write does to everyone else
        time.sleep(2)  # the scheduler is now waiting on the lock
        service.send_signal(signal.SIGTERM)
        time.sleep(SQLITE_BUSY_TIMEOUT_MS / 1000 + 3)  # its UPDATE gives up: "database is locked"
        holder.execute("ROLLBACK")
        returncode = service.wait(timeout=EXIT_SECONDS)
    finally:
        holder.close()
        if service.poll() is None:
            service.kill()
            service.wait()
    log = log_path.read_text(errors="replace")
    assert returncode == 0, log[-3000:]
    assert "stopped: SIGTERM" in log, log[-3000:]
    assert not [run for run in runs(simulated.engine) if run["status"] == "running"], log[-3000:]
