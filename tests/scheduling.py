"""Helpers for the scheduler, run-lifecycle and politeness tests: a sites file for the simulated
panels with second-level schedules, the runs of a database, and `clickfarm schedule` as a real
child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select

from storage.models import CrawlRun
from tests.conftest import REPO_ROOT
from tests.simulated import SimulatedSetup

run_table = CrawlRun.__table__


def write_schedule_sites(setup: SimulatedSetup, path: Path, *, interval: str = "2s",
                         site_ids: list[str] | None = None,
                         scheduler: dict[str, Any] | None = None,
                         politeness: dict[str, Any] | None = None) -> list[str]:
    """A sites file with the simulator's panels (or ``site_ids``) on a fast schedule, no jitter.

    Returns the site ids written.
    """
    entries = [entry for entry in setup.market.sites_config(setup.server.base_url)
               if entry["id"] in setup.market.sites
               and (site_ids is None or entry["id"] in site_ids)]
    for entry in entries:
        entry["schedule"] = {"interval": interval, "jitter": "0s"}
        entry["politeness"] = {**entry.get("politeness", {}), "download_delay": 0.0,
                               "autothrottle": False, **(politeness or {})}
    document = {"scheduler": {"max_parallel_crawls": 3, "crawl_timeout_seconds": 120,
                              "shutdown_grace_seconds": 60, **(scheduler or {})},
                "sites": entries}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return [entry["id"] for entry in entries]


def runs(engine: Engine, site_id: str | None = None) -> list[dict[str, Any]]:
    """Every crawl run (of one site), oldest first, timestamps UTC-aware."""
    query = select(run_table).order_by(run_table.c.id)
    if site_id:
        query = query.where(run_table.c.site_id == site_id)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    for row in rows:
        for key in ("started_at", "finished_at", "planned_at"):
            if row[key] is not None and row[key].tzinfo is None:
                row[key] = row[key].replace(tzinfo=UTC)
    return rows


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str,
             interval: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something truthy (generous timeouts: shared CPUs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def start_schedule_process(sites_path: Path, database_url: str, *,
                           once_for: float | None = None,
                           log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """``clickfarm schedule`` as a real child process (its own process group)."""
    command = [sys.executable, "-c", "from clickfarm.cli import app; app()", "schedule",
               "--sites-file", str(sites_path), "--database-url", database_url]
    if once_for is not None:
        command += ["--once-for", str(once_for)]
    output = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT,
                            env=dict(os.environ), start_new_session=True)


def kill_group(pid: int, signum: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    try:
        return state.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def seconds_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()
