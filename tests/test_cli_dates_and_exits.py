"""Dates the database can hold, refused at the door otherwise; and `clickfarm crawl` exits 1 when
a crawl process dies.

Every date or time option goes through ``core.timestamps``: its bounds are chosen so that the
first and last moments an option may name are stored and read back on both databases, and the
windows computed from them (``--to`` + 1 day, a day after ``--at``) still fit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clickfarm.cli import app
from core.timestamps import EARLIEST, LATEST, MomentError, parse_day, parse_moment, parse_since
from reports.prices import day_bounds
from storage import repository
from tests.conftest import REPO_ROOT
from tests.scheduling import runs, wait_for, write_schedule_sites
from tests.simulated import SimulatedSetup, simulated_market

NOW = datetime(2026, 9, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("1970-01-01", EARLIEST),
    ("9999-12-30", datetime(9999, 12, 30, tzinfo=UTC)),
    ("9999-12-30T23:59:59.999999", LATEST),
    ("2026-09-01T08:30+02:00", datetime(2026, 9, 1, 6, 30, tzinfo=UTC)),
    ("1970-01-01T01:00+01:00", EARLIEST),
])
def test_moments_within_range_are_read_in_utc(text, expected):
    assert parse_moment(text) == expected


@pytest.mark.parametrize("text", [
    "0001-01-01", "1969-12-31T23:59:59", "9999-12-31", "9999-12-31T00:00",
    "0001-01-01T00:00+01:00", "9999-12-30T23:00-05:00", "1970-01-01T00:30+01:00",
    "2026-13-01", "2026-01-01' OR 1=1", "", "nan", "99999-01-01", "2026-02-30",
])
def test_moments_out_of_range_or_malformed_are_refused(text):
    with pytest.raises(MomentError):
        parse_moment(text)


@pytest.mark.parametrize("text", ["1969-12-31", "9999-12-31", "0001-01-01", "2026-09-01T12:00",
                                  "20260901x", ""])
def test_days_out_of_range_or_not_days_are_refused(text):
    with pytest.raises(MomentError):
        parse_day(text)


def test_the_last_day_still_has_room_for_its_window():
    last = parse_day("9999-12-30")
    _, end = day_bounds(last, last)
    assert end == datetime(9999, 12, 31, tzinfo=UTC)
    assert LATEST + timedelta(days=1) > LATEST  # a day after the last moment still fits


@pytest.mark.parametrize(("text", "expected"), [
    ("7d", NOW - timedelta(days=7)), ("1970-01-01", EARLIEST),
    ("2026-09-01T08:30+02:00", datetime(2026, 9, 1, 6, 30, tzinfo=UTC)),
])
def test_since_within_range(text, expected):
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["99999999d", "1e9w", "-3d", "20000w", "0001-01-01",
                                  "9999-12-31", "yesterday"])
def test_since_out_of_range_or_malformed_is_refused(text):
    with pytest.raises(MomentError, match="expected 7d, 24h, 30m|out of range"):
        parse_since(text, now=NOW)


@pytest.mark.parametrize("moment", [EARLIEST, LATEST], ids=["earliest", "latest"])
def test_the_bounds_are_stored_and_read_back(db_engine, moment, tmp_path):
    """What `crawl --observed-at` may record, both databases store and give back; and the
    commands that read it afterwards still work (``0001-01-01`` broke them all)."""
    repository.upsert_site(db_engine, site_id="edge", url="http://127.0.0.1:9/",
                           family="smm_api", currency="USD", now=moment)
    run_id = repository.start_run(db_engine, site_id="edge", started_at=moment)
    (run,) = runs(db_engine, "edge")
    assert (run["id"], run["started_at"]) == (run_id, moment)
    if db_engine.dialect.name != "sqlite":
        return
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites: []\n")
    for command in (["status"], ["sites"], ["alerts", "check", "--at", "9999-12-30T23:59:59"],
                    ["alerts", "check", "--at", "1970-01-01"]):
        result = CliRunner().invoke(app, [*command, "--database-url", str(db_engine.url),
                                          "--sites-file", str(sites)])
        assert result.exit_code == 0, (command, result.output)


# ------------------------------------------------------------------------------------------
# a crawl process that dies makes `clickfarm crawl` fail


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[SimulatedSetup]:
    with simulated_market(tmp_path, seed=23, panels=1) as setup:
        yield setup


def test_crawl_exits_1_when_its_crawl_process_is_killed(simulated, tmp_path):
    sites_path = tmp_path / "sites.yaml"
    (site_id,) = write_schedule_sites(simulated, sites_path)
    simulated.market.inject_fault(site_id, "slow", seconds=60)
    command = subprocess.Popen(
        [sys.executable, "-c", "from clickfarm.cli import app; app()", "crawl", "--site",
         site_id, "--sites-file", str(sites_path), "--database-url", simulated.database_url],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ))
    try:
        (running,) = wait_for(lambda: [run for run in runs(simulated.engine, site_id)
                                       if run["status"] == "running" and run["pid"]],
                              timeout=120, what="the crawl process to start its run")
        os.kill(running["pid"], signal.SIGKILL)
        stdout, stderr = command.communicate(timeout=120)
    finally:
        command.kill()
    assert command.returncode == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert stderr.strip().splitlines()[-1] == (
        "error: 1 crawl process(es) ended abnormally (exit -9)")
    assert runs(simulated.engine, site_id)[-1]["status"] == "interrupted"
