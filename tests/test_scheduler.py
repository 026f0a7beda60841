"""`clickfarm schedule`: triggers, the job list kept in step with the config, and real scheduled
crawls of the simulated market (real APScheduler, real child crawl processes, real SQLite).

Counts are asserted with tolerances derived from the schedule, never on tight timings: the
machine running the tests is shared and slow at times.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text

from core.config import Schedule, load_config
from scheduler.jobs import JOBS_TABLE, crawl_job_id, reconcile_jobs
from scheduler.service import run_service
from scheduler.triggers import ScheduleError, parse_duration, plan_schedule
from storage.db import get_engine
from tests.scheduling import (
    runs,
    seconds_between,
    start_schedule_process,
    wait_for,
    write_schedule_sites,
)
from tests.simulated import SimulatedSetup, simulated_market


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[SimulatedSetup]:
    with simulated_market(tmp_path, seed=11, panels=3) as setup:
        yield setup


# ------------------------------------------------------------------------------------------
# triggers


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2s", 2), ("30m", 1800), ("6h", 21600), ("1d", 86400), ("2w", 1209600),
     ("1h30m", 5400), ("0", 0), ("0s", 0), ("45", 45), (" 10M ", 600), ("1.5h", 5400)],
    ids=["seconds", "minutes", "hours", "day", "weeks", "compound", "zero", "zero-seconds",
         "bare-number", "spaces-and-case", "fraction"],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "10 minutes", "5x", "-5m", "m5"],
                         ids=["empty", "word", "spelled", "unknown-unit", "negative",
                              "unit-first"])
def test_bad_durations_are_errors_naming_the_value(text: str) -> None:
    with pytest.raises(ScheduleError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("schedule", "trigger_type", "label", "jitter"),
    [(Schedule(interval="6h", jitter="10m"), IntervalTrigger, "interval 6h, jitter 10m", 600),
     (Schedule(interval="2s", jitter="0s"), IntervalTrigger, "interval 2s, jitter 0s", None),
     (Schedule(interval="90m", jitter="0"), IntervalTrigger, "interval 90m, jitter 0s", None),
     (Schedule(cron="0  */6 * * *", jitter="5m"), CronTrigger, "cron 0 */6 * * *, jitter 5m",
      300),
     (Schedule(cron="30 2 * * 1", interval="1d", jitter="0s"), CronTrigger,
      "cron 30 2 * * 1, jitter 0s", None)],
    ids=["interval", "seconds", "minutes-label", "cron", "cron-wins-over-interval"],
)
def test_schedules_become_triggers(schedule: Schedule, trigger_type: type, label: str,
                                   jitter: int | None) -> None:
    planned = plan_schedule(schedule)
    assert planned is not None
    assert isinstance(planned.trigger, trigger_type)
    assert planned.label == label
    assert planned.trigger.jitter == jitter


def test_a_schedule_without_cron_or_interval_is_not_planned() -> None:
    assert plan_schedule(Schedule(interval=None, cron=None)) is None


@pytest.mark.parametrize("schedule", [Schedule(interval="0s"), Schedule(cron="61 * * * *"),
                                      Schedule(cron="every day"), Schedule(interval="daily")],
                         ids=["zero-interval", "minute-61", "words", "word-interval"])
def test_bad_schedules_are_errors(schedule: Schedule) -> None:
    with pytest.raises(ScheduleError):
        plan_schedule(schedule)


# ------------------------------------------------------------------------------------------
# the job list follows the config (real job store, scheduler started paused)


def _sites_file(path: Path, schedules: dict[str, dict[str, str]], *,
                timeout: float = 120) -> Path:
    path.write_text(yaml.safe_dump({
        "scheduler": {"crawl_timeout_seconds": timeout},
        "sites": [{"id": site_id, "url": f"http://127.0.0.1:9/s/{site_id}/", "family": "smm_html",
                   "schedule": schedule} for site_id, schedule in schedules.items()]}),
        encoding="utf-8")
    return path


def test_reloading_the_config_adds_removes_and_updates_jobs_by_stable_id(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'jobs.db'}"
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=get_engine(database_url),
                                                 tablename=JOBS_TABLE)}, timezone="UTC")
    scheduler.start(paused=True)
    try:
        def reconcile(schedules: dict[str, dict[str, str]], timeout: float = 120):
            project = load_config(_sites_file(tmp_path / "sites.yaml", schedules,
                                              timeout=timeout))
            return reconcile_jobs(scheduler, sites=project.sites, project=project)

        def next_runs() -> dict[str, object]:
            return {job.id: job.next_run_time for job in scheduler.get_jobs()}

        first = reconcile({"a": {"interval": "1h", "jitter": "0s"},
                           "b": {"interval": "2h", "jitter": "0s"},
                           "c": {"cron": "0 3 * * *", "jitter": "0s"}})
        assert sorted(first.added) == ["crawl:a", "crawl:b", "crawl:c"]
        planned = next_runs()

        time.sleep(1.1)  # a re-added job would get a later next run time
        again = reconcile({"a": {"interval": "1h", "jitter": "0s"},
                           "b": {"interval": "2h", "jitter": "0s"},
                           "c": {"cron": "0 3 * * *", "jitter": "0s"}})
        assert (again.added, again.rescheduled, again.updated, again.removed) == ([], [], [], [])
        assert next_runs() == planned

        changed = reconcile({"a": {"interval": "1h", "jitter": "0s"},
                             "b": {"interval": "30m", "jitter": "0s"},
                             "d": {"interval": "1d", "jitter": "0s"}}, timeout=300)
        assert changed.rescheduled == ["crawl:b"]
        assert changed.added == ["crawl:d"]
        assert changed.removed == ["crawl:c"]
        assert changed.updated == ["crawl:a"]  # the crawl timeout changed, not the trigger
        after = next_runs()
        assert after["crawl:a"] == planned["crawl:a"]
        assert after["crawl:b"] != planned["crawl:b"]
        job_a = scheduler.get_job("crawl:a")
        assert job_a.args == ("a", {"crawl_timeout_seconds": 300.0, "log_level": "WARNING"})
        assert (job_a.coalesce, job_a.max_instances) == (True, 1)
        assert job_a.func_ref == "scheduler.jobs:crawl_site"

        broken = reconcile({"a": {"interval": "1h", "jitter": "0s"},
                            "b": {"interval": "soon", "jitter": "0s"}})
        assert broken.errors and "b:" in broken.errors[0] and "soon" in broken.errors[0]
        assert sorted(next_runs()) == ["crawl:a", "crawl:b"]  # b keeps its last good job
    finally:
        scheduler.shutdown(wait=False)
    engine = get_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(text(f"SELECT id FROM {JOBS_TABLE} ORDER BY id")).scalars()
        assert list(stored) == ["crawl:a", "crawl:b"]
    engine.dispose()


def test_the_job_table_lives_beside_the_schema_untouched_by_migrations(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from storage.db import alembic_config, migrate, write_transaction

    engine = get_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    migrate(engine)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=get_engine(str(engine.url)),
                                                 tablename=JOBS_TABLE)}, timezone="UTC")
    scheduler.start(paused=True)
    project = load_config(_sites_file(tmp_path / "sites.yaml",
                                      {"a": {"interval": "1h", "jitter": "0s"}}))
    reconcile_jobs(scheduler, sites=project.sites, project=project)
    scheduler.shutdown(wait=False)

    def alembic(action, *args) -> None:
        config = alembic_config()
        with write_transaction(engine) as connection:
            config.attributes["connection"] = connection
            action(config, *args)

    alembic(command.check)  # autogenerate sees no difference: the job table is not ours
    alembic(command.downgrade, "base")
    assert set(inspect(engine).get_table_names()) == {JOBS_TABLE, "alembic_version"}
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT id FROM {JOBS_TABLE}")).scalars().all() == [
            "crawl:a"]
    engine.dispose()


# ------------------------------------------------------------------------------------------
# real scheduled crawls


def _assert_clean_schedule(site_runs: list[dict], interval: float) -> None:
    """Runs of one site: never overlapping, planned on the interval's grid, each planned once."""
    for earlier, later in zip(site_runs, site_runs[1:], strict=False):
        assert earlier["finished_at"] <= later["started_at"], (earlier["id"], later["id"])
    planned = [run["planned_at"] for run in site_runs]
    assert len(set(planned)) == len(planned), "a planned run time was crawled twice"
    for earlier, later in zip(planned, planned[1:], strict=False):
        steps = seconds_between(earlier, later) / interval
        assert steps >= 1 - 1e-6 and abs(steps - round(steps)) < 1e-3, (earlier, later)
    for run in site_runs:
        assert run["trigger"] == "schedule"
        # The child starts after the plan (it may wait for a free slot), never before.
        assert run["started_at"] >= run["planned_at"] - timedelta(seconds=1)


def test_a_scheduled_run_crawls_each_site_the_expected_number_of_times(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    interval, window = 8.0, 34.0
    sites_path = tmp_path / "schedule.yaml"
    site_ids = write_schedule_sites(simulated, sites_path, interval="8s")

    summary = run_service(sites_path=sites_path, database_url=simulated.database_url,
                          once_for=window)

    expected = int(window // interval)  # first run one interval after start
    all_runs = runs(simulated.engine)
    assert {run["status"] for run in all_runs} == {"succeeded"}, [
        (run["site_id"], run["status"], run["error"]) for run in all_runs]
    for site_id in site_ids:
        site_runs = runs(simulated.engine, site_id)
        # A slot whose site was still crawling is skipped (counted below), so on a loaded
        # machine a site may have fewer runs than slots; never more.
        assert 1 <= len(site_runs) <= expected + 1, (site_id, len(site_runs))
        # Every planned slot was either crawled or skipped because the last crawl was going.
        assert summary.fired[site_id] == len(site_runs)
        planned = summary.fired[site_id] + summary.skipped.get(site_id, 0)
        assert expected - 1 <= planned <= expected + 1
        _assert_clean_schedule(site_runs, interval)
    assert summary.jobs == len(site_ids)
    assert sorted(summary.run_ids) == [run["id"] for run in all_runs]
    assert summary.max_start_delay_seconds is not None


def test_a_restart_resumes_the_plan_without_duplicate_jobs_or_runs(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    interval = 5.0
    sites_path = tmp_path / "schedule.yaml"
    site_ids = write_schedule_sites(simulated, sites_path, interval="5s")

    first = run_service(sites_path=sites_path, database_url=simulated.database_url,
                        once_for=13)
    first_ids = set(first.run_ids)
    # Down for more than one interval: each site missed a run, which runs once (coalesced).
    time.sleep(2 * interval)
    second = run_service(sites_path=sites_path, database_url=simulated.database_url,
                         once_for=13)

    with simulated.engine.connect() as connection:
        job_ids = connection.execute(text(f"SELECT id FROM {JOBS_TABLE}")).scalars().all()
    assert sorted(job_ids) == sorted(crawl_job_id(site_id) for site_id in site_ids)
    assert second.jobs == first.jobs == len(site_ids)
    assert not first_ids & set(second.run_ids)
    for site_id in site_ids:
        site_runs = runs(simulated.engine, site_id)
        assert {run["status"] for run in site_runs} == {"succeeded"}
        # Resumed, not re-added: the planned times of both sessions lie on one grid.
        _assert_clean_schedule(site_runs, interval)
        after_restart = [run for run in site_runs if run["id"] in set(second.run_ids)]
        assert len(after_restart) == second.fired[site_id]
        # The runs missed while the service was down run once, not once per missed slot.
        first_start = min(run["started_at"] for run in after_restart)
        caught_up = [run for run in after_restart if run["planned_at"] < first_start]
        assert len(caught_up) == 1, [run["planned_at"] for run in after_restart]
        before_restart = [run for run in site_runs if run["id"] in first_ids]
        gap = seconds_between(before_restart[-1]["planned_at"], caught_up[0]["planned_at"])
        assert gap >= 2 * interval - 1e-3  # at least one slot was skipped, not replayed
        assert 1 <= len(after_restart) <= 4


def _sigterm_during_a_slow_crawl(simulated: SimulatedSetup, tmp_path: Path, *,
                                 response_seconds: float, grace_seconds: float) -> str:
    """Run `clickfarm schedule` until panel-01's slow crawl is running, then send SIGTERM;
    returns the service's log once it has exited with code 0."""
    sites_path = tmp_path / "schedule.yaml"
    simulated.market.inject_fault("panel-01", "slow", seconds=response_seconds)
    write_schedule_sites(simulated, sites_path, interval="2s",
                         scheduler={"shutdown_grace_seconds": grace_seconds})
    log_path = tmp_path / "schedule.log"
    service = start_schedule_process(sites_path, simulated.database_url, log_path=log_path)
    try:
        wait_for(lambda: [run for run in runs(simulated.engine, "panel-01")
                          if run["status"] == "running"],
                 timeout=120, what="a running crawl of the slow site")
        service.send_signal(signal.SIGTERM)
        returncode = service.wait(timeout=180)
    finally:
        if service.poll() is None:
            service.kill()
    log = log_path.read_text(errors="replace")
    assert returncode == 0, log
    all_runs = runs(simulated.engine)
    assert all_runs and not [run for run in all_runs if run["status"] == "running"], log
    return log


def test_sigterm_stops_the_service_and_leaves_no_running_run(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    # A slow site: its crawl is still going when SIGTERM arrives and outlasts the grace.
    log = _sigterm_during_a_slow_crawl(simulated, tmp_path, response_seconds=4, grace_seconds=1)
    cut = [run for run in runs(simulated.engine, "panel-01") if run["status"] == "interrupted"]
    assert cut, [(run["status"], run["error"]) for run in runs(simulated.engine)]
    assert all("scheduler stopped (SIGTERM)" in run["error"] for run in cut)
    assert "stopped: SIGTERM" in log


def test_the_running_service_picks_up_sites_added_and_removed_in_the_sites_file(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    sites_path = tmp_path / "schedule.yaml"
    options = {"config_reload_seconds": 1}
    write_schedule_sites(simulated, sites_path, interval="2s", site_ids=["panel-01"],
                         scheduler=options)
    summaries = []
    stop = threading.Event()
    service = threading.Thread(target=lambda: summaries.append(run_service(
        sites_path=sites_path, database_url=simulated.database_url, stop=stop)))
    service.start()
    try:
        wait_for(lambda: runs(simulated.engine, "panel-01"), timeout=60,
                 what="a first run of panel-01")
        write_schedule_sites(simulated, sites_path, interval="2s", site_ids=["panel-02"],
                             scheduler=options)
        wait_for(lambda: [run for run in runs(simulated.engine, "panel-02")
                          if run["status"] != "running"], timeout=60,
                 what="panel-02, added to the file, to be crawled")
        # Give a removed job time to show itself if it were still planned (interval 2 s).
        removed_at = datetime.now(UTC)
        time.sleep(6)
    finally:
        stop.set()
        service.join(timeout=200)
    (summary,) = summaries
    late_panel_01 = [run for run in runs(simulated.engine, "panel-01")
                     if run["planned_at"] > removed_at]
    assert late_panel_01 == []
    assert summary.fired["panel-02"] >= 2 and summary.stop_reason == "stop requested"
    with simulated.engine.connect() as connection:
        job_ids = connection.execute(text(f"SELECT id FROM {JOBS_TABLE}")).scalars().all()
    assert job_ids == ["crawl:panel-02"]


def test_a_sites_file_broken_while_running_keeps_the_service_and_its_crawls_on_the_last_good_one(
        simulated: SimulatedSetup, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sites_path = tmp_path / "schedule.yaml"
    write_schedule_sites(simulated, sites_path, interval="2s", site_ids=["panel-01"],
                         scheduler={"config_reload_seconds": 1})
    summaries = []
    stop = threading.Event()
    service = threading.Thread(target=lambda: summaries.append(run_service(
        sites_path=sites_path, database_url=simulated.database_url, stop=stop)))
    with caplog.at_level("INFO", logger="clickfarm.scheduler"):
        service.start()
        try:
            wait_for(lambda: runs(simulated.engine, "panel-01"), timeout=60,
                     what="a first run of panel-01")
            # An edit saved half-way: not YAML any more.
            sites_path.write_text("sites:\n  - id: panel-01\n    url: [unclosed\n",
                                  encoding="utf-8")
            broken_at = datetime.now(UTC)
            wait_for(lambda: len([run for run in runs(simulated.engine, "panel-01")
                                  if run["planned_at"] > broken_at
                                  and run["status"] != "running"]) >= 2,
                     timeout=90, what="two runs planned after the file broke")
        finally:
            stop.set()
            service.join(timeout=200)
    after = [run for run in runs(simulated.engine, "panel-01") if run["planned_at"] > broken_at]
    assert {run["status"] for run in after} == {"succeeded"}, [
        (run["status"], run["error"]) for run in after]
    reload_errors = [record.getMessage() for record in caplog.records
                     if "sites file not reloaded" in record.getMessage()]
    assert reload_errors and all(str(sites_path) in message and "last good" in message
                                 for message in reload_errors)
    assert summaries and not list(tmp_path.glob("clickfarm-schedule-*"))


def test_a_planned_run_of_a_site_removed_from_the_config_is_dropped(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    from scheduler import jobs

    sites_path = tmp_path / "schedule.yaml"
    write_schedule_sites(simulated, sites_path, interval="1h")
    context = jobs.ServiceContext(sites_path=sites_path, database_url=simulated.database_url,
                                  engine=simulated.engine, project=load_config(sites_path))
    jobs.install_context(context)
    try:
        jobs.read_sites_file(context)
        crawled = jobs.crawl_site("panel-02", jobs.job_settings(context.project))
        assert [run["status"] for run in runs(simulated.engine, "panel-02")] == ["succeeded"]
        # panel-02 leaves the file; its run was already planned (e.g. waiting for a free slot).
        write_schedule_sites(simulated, sites_path, interval="1h", site_ids=["panel-01"])
        jobs.read_sites_file(context)
        assert jobs.crawl_site("panel-02", jobs.job_settings(context.project)) == []
    finally:
        jobs.install_context(None)
        if context.snapshot_dir is not None:
            import shutil

            shutil.rmtree(context.snapshot_dir)
    assert len(crawled) == 1
    # No failed run (and so no no_offers alert) for a site nobody asked to crawl any more.
    assert [run["status"] for run in runs(simulated.engine, "panel-02")] == ["succeeded"]


SUNDAY = datetime(2026, 9, 6, tzinfo=UTC)


@pytest.mark.parametrize(("cron", "weekdays"), [
    ("0 9 * * 1-5", "Mon Tue Wed Thu Fri"),
    ("0 9 * * 0", "Sun"),
    ("0 9 * * 7", "Sun"),
    ("0 9 * * 6,0", "Sun Sat"),
    ("0 9 * * 5-7", "Sun Fri Sat"),
    ("0 9 * * */2", "Sun Tue Thu Sat"),
    ("0 9 * * 1-5/2", "Mon Wed Fri"),
    ("0 9 * * MON-FRI", "Mon Tue Wed Thu Fri"),
    ("0 9 * * *", "Sun Mon Tue Wed Thu Fri Sat"),
], ids=["mon-fri", "zero-is-sunday", "seven-is-sunday", "weekend", "range-to-seven",
        "every-other-day", "range-step", "names", "every-day"])
def test_cron_weekdays_are_read_as_crontab_reads_them(cron: str, weekdays: str) -> None:
    # APScheduler 3 alone counts weekdays from Monday = 0: "1-5" would be Tuesday to Saturday.
    planned = plan_schedule(Schedule(cron=cron, jitter="0s"))
    assert planned is not None
    fires, fire = [], planned.trigger.get_next_fire_time(None, SUNDAY)
    while fire < SUNDAY + timedelta(days=7):
        fires.append(fire.strftime("%a"))
        fire = planned.trigger.get_next_fire_time(fire, fire)
    assert " ".join(fires) == weekdays


@pytest.mark.parametrize("cron", ["0 9 * * 8", "0 9 * * 5-1", "0 9 * * funday"])
def test_bad_cron_weekdays_are_errors(cron: str) -> None:
    with pytest.raises(ScheduleError, match="not a crontab line"):
        plan_schedule(Schedule(cron=cron))


def test_a_job_stored_with_an_older_reading_of_its_cron_is_replanned(tmp_path: Path) -> None:
    project = load_config(_sites_file(tmp_path / "sites.yaml",
                                      {"a": {"cron": "0 9 * * 1-5", "jitter": "0s"}}))
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        # What a job store written before the weekday fix holds: same name, APScheduler's
        # reading of "1-5" (Tuesday to Saturday).
        scheduler.add_job("scheduler.jobs:crawl_site", CronTrigger.from_crontab(
            "0 9 * * 1-5", timezone=UTC), args=("a", {}), id=crawl_job_id("a"),
            name="crawl a (cron 0 9 * * 1-5, jitter 0s)")
        changes = reconcile_jobs(scheduler, sites=project.sites, project=project)
        assert changes.rescheduled == ["crawl:a"]
        trigger = scheduler.get_job("crawl:a").trigger
        saturday = datetime(2026, 9, 5, 0, 0, tzinfo=UTC)
        assert trigger.get_next_fire_time(None, saturday) == datetime(2026, 9, 7, 9, 0,
                                                                       tzinfo=UTC)
        again = reconcile_jobs(scheduler, sites=project.sites, project=project)
        assert again.unchanged == ["crawl:a"]
    finally:
        scheduler.shutdown(wait=False)
