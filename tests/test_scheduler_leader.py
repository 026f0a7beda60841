"""One scheduler plans (issue 10, item 3): the scheduler lease in the database.

The lease itself, table-driven on SQLite and PostgreSQL; then two real `clickfarm schedule`
processes on one database: the first plans, the second waits as a standby (no heartbeat, no
run), and takes over when the first is killed; no planned time is ever crawled twice.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from storage import leases
from storage.models import heartbeat_table
from tests.scheduling import kill_group, runs, start_schedule_process, wait_for
from tests.simulated import simulated_market

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
A, B = "host-a:1:aaaa", "host-b:2:bbbb"


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# (step, who, at seconds, expected result): one lease of 10 s, A first.
LEASE_STEPS = [
    ("acquire", A, 0, True),     # free: A takes it
    ("acquire", B, 1, False),    # held by A (another machine: its pid cannot be checked)
    ("renew", A, 5, True),       # A renews: now until 15 s
    ("acquire", B, 12, False),   # still A's
    ("acquire", B, 16, True),    # A stopped renewing: B takes over
    ("renew", A, 17, False),     # A finds it taken
    ("acquire", A, 18, False),
    ("release", B, 19, None),    # B stops cleanly: free at once
    ("acquire", A, 19.5, True),
]


def test_the_lease_goes_to_one_holder_at_a_time(db_engine: Engine) -> None:
    for step, who, at, expected in LEASE_STEPS:
        if step == "acquire":
            result = leases.acquire(db_engine, "scheduler", who, seconds=10, now=_at(at))
        elif step == "renew":
            result = leases.renew(db_engine, "scheduler", who, seconds=10, now=_at(at))
        else:
            leases.release(db_engine, "scheduler", who)
            result = None
        assert result is expected, (step, who, at)
    assert leases.lease_holder(db_engine, "scheduler", now=_at(20)) == A


def test_a_lease_of_a_dead_process_on_this_machine_is_taken_at_once(db_engine: Engine) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = f"{socket.gethostname()}:{dead.pid}:dead"
    live = f"{socket.gethostname()}:{os.getpid()}:live"
    assert leases.acquire(db_engine, "site:x", gone, seconds=3600, now=T0)
    assert leases.acquire(db_engine, "site:x", live, seconds=60, now=_at(1))
    # A live holder of this machine keeps it.
    assert not leases.acquire(db_engine, "site:x", f"{socket.gethostname()}:1:init",
                              seconds=60, now=_at(2))


def _heartbeats(engine: Engine) -> set[int]:
    with engine.connect() as connection:
        return set(connection.execute(select(heartbeat_table.c.pid)).scalars())


def test_two_schedulers_one_plans_the_standby_takes_over_when_it_dies(tmp_path: Path) -> None:
    import yaml

    with simulated_market(tmp_path, seed=5, panels=2) as setup:
        entries = setup.market.sites_config(setup.server.base_url)
        for entry in entries:
            entry["schedule"] = {"interval": "3s", "jitter": "0s"}
            entry["politeness"] = {**entry["politeness"], "download_delay": 0.0}
        sites_path = tmp_path / "schedule.yaml"
        sites_path.write_text(yaml.safe_dump({
            "scheduler": {"max_parallel_crawls": 2, "crawl_timeout_seconds": 120,
                          "leader_lease_seconds": 3, "shutdown_grace_seconds": 5},
            "sites": entries}), encoding="utf-8")
        first = start_schedule_process(sites_path, setup.database_url,
                                       log_path=tmp_path / "first.log")
        second = None
        try:
            wait_for(lambda: first.pid in _heartbeats(setup.engine), timeout=120,
                     what="the first scheduler's heartbeat")
            second = start_schedule_process(sites_path, setup.database_url, once_for=120,
                                            log_path=tmp_path / "second.log")
            wait_for(lambda: "standby" in (tmp_path / "second.log").read_text(), timeout=120,
                     what="the second scheduler waiting as a standby")
            wait_for(lambda: len(runs(setup.engine)) >= 2, timeout=120,
                     what="runs planned by the first scheduler")
            assert second.pid not in _heartbeats(setup.engine)  # a standby plans nothing
            killed_at = datetime.now(UTC)
            kill_group(first.pid)
            first.wait(timeout=30)
            wait_for(lambda: second.pid in _heartbeats(setup.engine), timeout=60,
                     what="the standby taking over")
            wait_for(lambda: any(run["planned_at"] and run["planned_at"] > killed_at
                                 for run in runs(setup.engine)), timeout=120,
                     what="a run planned by the new leader")
            assert "taken over" in (tmp_path / "second.log").read_text()
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    kill_group(process.pid)
                    process.wait(timeout=30)
        # Never two plans of one planned time, before, during or after the takeover.
        planned = Counter((run["site_id"], run["planned_at"]) for run in runs(setup.engine)
                          if run["planned_at"] is not None)
        assert planned and max(planned.values()) == 1, planned
