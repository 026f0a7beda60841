"""``clickfarm schedule``: crawl every site on its schedule until stopped.

An APScheduler 3 ``BackgroundScheduler`` (its loop in a thread of its own; the main thread only
waits for a stop, so a signal is handled at once) with two job stores:

- ``default``: a ``SQLAlchemyJobStore`` in the project database (table ``apscheduler_jobs``),
  one job per site (``crawl:<site_id>``), so a restart resumes the plan: a run missed while the
  service was down runs once at start (``coalesce``), if within ``misfire_grace_seconds``;
- ``internal``: in memory, the periodic re-reading of the sites file.

Crawl jobs run in a pool of ``max_parallel_crawls`` threads, each waiting on one crawl process
(``crawlers.runner.run_crawl``) with a hard timeout of ``crawl_timeout_seconds``. A site is never
crawled twice at once (``max_instances=1``); a planned run that finds the previous one still
going is skipped and counted.

At start, runs left ``running`` by a process that is gone (a SIGKILL, a power cut) are closed
as ``interrupted``. On SIGTERM / SIGINT (or after ``once_for`` seconds) the service stops
planning, lets running crawls finish within ``shutdown_grace_seconds``, then stops them: their
runs end ``interrupted`` with "scheduler stopped". A second signal stops them at once.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_STARTED,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from core.config import load_config
from core.duration_text import format_duration
from scheduler import jobs
from scheduler.jobs import (
    CRAWL_JOB_PREFIX,
    JOBS_TABLE,
    CrawlExecutor,
    ServiceContext,
    reconcile_jobs,
    reload_sites,
)
from scheduler.leadership import Leadership
from scheduler.resilience import (
    DATABASE_RETRY_SECONDS,
    HEARTBEAT_SECONDS,
    MAX_RETRY_SECONDS,
    RetryingJobStore,
    beat,
    mark_stopped,
    one_line,
    retry_database,
)
from storage.db import get_engine, migrate
from storage.models import run_table
from storage.repository import mark_stale_runs_interrupted

logger = logging.getLogger("clickfarm.scheduler")

RELOAD_JOB_ID = "reload-sites"
HEARTBEAT_JOB_ID = "heartbeat"


class _ServiceScheduler(BackgroundScheduler):
    """APScheduler's background scheduler, whose loop outlives a failing job store.

    APScheduler 3 catches an error of ``get_due_jobs`` but not one of ``update_job`` (or
    ``remove_job``, ``get_next_run_time``) in ``_process_jobs``: one "database is locked" (the
    SQLite busy timeout passed while crawl processes were writing) ended the loop. The loop used
    to be the main thread's (``BlockingScheduler``), so the error also skipped the shutdown: the
    crawls were never told to stop and the process, kept alive by their threads, did not exit
    after SIGTERM until they had reached their hard timeout. Here the error is logged and the
    jobs are looked at again after ``jobstore_retry_interval``.
    """

    def _process_jobs(self) -> float | None:
        try:
            return super()._process_jobs()
        except Exception as error:
            logger.error("the job store failed, the scheduler looks again in %g s: %s",
                         self.jobstore_retry_interval, error)
            return float(self.jobstore_retry_interval)


@dataclass
class ServiceSummary:
    """What a service session did (printed by ``clickfarm schedule`` when it stops)."""

    started_at: datetime
    stopped_at: datetime
    stop_reason: str
    stale_runs_closed: int
    jobs: int
    fired: dict[str, int]
    skipped: dict[str, int]
    missed: dict[str, int]
    runs_by_status: dict[str, int]
    run_ids: list[int] = field(default_factory=list)
    max_start_delay_seconds: float | None = None
    not_started_at_stop: dict[str, int] = field(default_factory=dict)
    started: dict[str, int] = field(default_factory=dict)
    """Planned runs whose crawl process started (``fired`` counts submissions, some of which
    waited for a free slot and never started)."""
    not_started: dict[str, int] = field(default_factory=dict)
    """Planned runs that could not start (database unavailable, ...), recorded as failed."""
    dropped: dict[str, int] = field(default_factory=dict)
    """Planned runs of sites removed from the sites file meanwhile."""
    unrecorded: int = 0
    """Runs of ``not_started`` the database never came back for: lost, and said so."""

    def lines(self) -> list[str]:
        statuses = ", ".join(f"{count} {status}" for status, count in
                             sorted(self.runs_by_status.items())) or "none"
        delay = ("-" if self.max_start_delay_seconds is None
                 else format_duration(self.max_start_delay_seconds))
        fired, skipped = sum(self.fired.values()), sum(self.skipped.values())
        lines = [
            f"scheduler ran {format_duration(self.stopped_at - self.started_at)}, "
            f"stopped: {self.stop_reason}",
            f"jobs: {self.jobs}; runs planned {fired + skipped}: started "
            f"{sum(self.started.values())}, could not start (recorded as failed) "
            f"{sum(self.not_started.values())}, waiting for a free slot when the service "
            f"stopped {sum(self.not_started_at_stop.values())}, dropped (site removed) "
            f"{sum(self.dropped.values())}, skipped while the previous run of the site was "
            f"going {skipped}; missed (over the misfire grace) {sum(self.missed.values())}",
            f"runs recorded: {len(self.run_ids)} ({statuses}); largest start delay {delay}",
            f"stale runs closed at start: {self.stale_runs_closed}",
        ]
        if self.unrecorded:
            lines.append(f"planned runs that could not start and could not be recorded (the "
                         f"database stayed unavailable): {self.unrecorded}")
        return lines


def run_service(*, sites_path: Path | str | None = None, database_url: str | None = None,
                once_for: float | None = None, install_signal_handlers: bool = True,
                stop: threading.Event | None = None, mode: str | None = None,
                broker_url: str | None = None) -> ServiceSummary:
    """Run the scheduler until SIGTERM / SIGINT, ``once_for`` seconds or ``stop`` is set (when
    embedded in another program); return a summary.

    It plans only while it holds the scheduler lease (:mod:`scheduler.leadership`): a second
    service on the same database waits as a standby. ``mode`` / ``broker_url`` override
    ``scheduler.mode`` / ``scheduler.broker_url``: in ``distributed`` mode a due site becomes a
    cycle sent to the Celery workers (:mod:`scheduler.distributed`) instead of a crawl process.
    """
    started_at = datetime.now(UTC)
    deadline = None if once_for is None else time.monotonic() + once_for
    sites_path = Path(sites_path) if sites_path else None
    project = load_config(sites_path)
    options = project.scheduler
    mode = mode or options.mode
    engine = get_engine(database_url)
    migrate(engine)
    leadership = Leadership(engine, seconds=options.leader_lease_seconds)
    stale = 0

    context = ServiceContext(sites_path=sites_path, database_url=database_url, engine=engine,
                             project=project)
    if mode == "distributed":
        from scheduler import distributed

        distributed.configure(
            broker_url or options.broker_url or os.environ.get(distributed.BROKER_URL_ENV)
            or distributed.DEFAULT_BROKER_URL,
            crawl_timeout_seconds=options.crawl_timeout_seconds,
            visibility_timeout_seconds=options.visibility_timeout_seconds)
        context.batcher = distributed.Batcher(engine, sites_per_task=options.sites_per_task)
    # Its own engine: the job store disposes it when the scheduler shuts down.
    jobstore_engine = get_engine(database_url)
    crawl_executor = CrawlExecutor(options.max_parallel_crawls)
    scheduler = _ServiceScheduler(
        # The job store waits out a database blip; the loop looks again soon after one.
        jobstores={"default": RetryingJobStore(engine=jobstore_engine, tablename=JOBS_TABLE),
                   "internal": MemoryJobStore()},
        jobstore_retry_interval=MAX_RETRY_SECONDS,
        executors={"default": crawl_executor,
                   "internal": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": max(1, int(options.misfire_grace_seconds))},
        timezone=UTC, daemon=True,
    )
    context.scheduler = scheduler
    jobs.install_context(context)

    # Signal handlers run in the main thread between two bytecodes, possibly while that thread
    # holds a lock: they only append to this list (no lock, no logging, no Event.set); the main
    # thread reads it while it waits (see _wait_for_stop and _drain).
    signals_received: list[str] = []
    plan_errors: list[str] = []

    def on_started(_event: Any) -> None:
        try:
            _plan_jobs()
            scheduler.resume()
        except Exception as error:  # e.g. the sites file broke since it was read
            logger.exception("the scheduler could not plan its jobs")
            plan_errors.append(f"cannot plan the jobs: {error}")

    def _plan_jobs() -> None:
        # The job stores are open now: bring the jobs in step with the config, then go.
        _, sites = jobs.read_sites_file(context)
        changes = reconcile_jobs(scheduler, sites=sites, project=context.project)
        scheduler.add_job(reload_sites, "interval", seconds=options.config_reload_seconds,
                          id=RELOAD_JOB_ID, jobstore="internal", executor="internal",
                          replace_existing=True, coalesce=True, max_instances=1)
        scheduler.add_job(heartbeat, "interval", seconds=HEARTBEAT_SECONDS,
                          args=(started_at,), id=HEARTBEAT_JOB_ID, jobstore="internal",
                          executor="internal", replace_existing=True, coalesce=True,
                          max_instances=1)
        logger.info("scheduler started: %d site(s) scheduled (%s), up to %d crawl(s) at once, "
                    "timeout %g s", len(scheduler.get_jobs(jobstore="default")),
                    changes.describe(), options.max_parallel_crawls,
                    options.crawl_timeout_seconds)
        for job in sorted(scheduler.get_jobs(jobstore="default"), key=lambda job: job.id):
            logger.info("  %s next run %s", job.name,
                        job.next_run_time.astimezone(UTC).isoformat(timespec="seconds")
                        if job.next_run_time else "-")

    def on_job_event(event: Any) -> None:
        if not event.job_id.startswith(CRAWL_JOB_PREFIX):
            return
        site_id = event.job_id.removeprefix(CRAWL_JOB_PREFIX)
        # Events come from the scheduler's thread and from the crawl threads.
        if isinstance(event, JobSubmissionEvent):
            counter = context.fired if event.code == EVENT_JOB_SUBMITTED else context.skipped
            with context.lock:
                counter[site_id] += len(event.scheduled_run_times)
            if event.code == EVENT_JOB_MAX_INSTANCES:
                logger.warning("crawl %s: planned run skipped, the previous one is still going",
                               site_id)
        elif event.code == EVENT_JOB_MISSED:
            with context.lock:
                context.missed[site_id] += 1
            logger.warning("crawl %s: planned run at %s missed (over the misfire grace time)",
                           site_id, event.scheduled_run_time)

    scheduler.add_listener(on_started, EVENT_SCHEDULER_STARTED)
    scheduler.add_listener(on_job_event,
                           EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)

    def stop_reason() -> str | None:
        if signals_received:
            return signals_received[0]
        if plan_errors:
            return plan_errors[0]
        if stop is not None and stop.is_set():
            return "stop requested"
        if leadership.lost.is_set():
            return "the scheduler lease was taken by another scheduler"
        return None

    def second_stop() -> str | None:
        """A second signal: the running crawls stop now instead of after the grace."""
        return signals_received[1] if len(signals_received) > 1 else None

    previous_handlers = {}
    if install_signal_handlers and threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous_handlers[signum] = signal.signal(
                signum, lambda number, _frame: signals_received.append(
                    signal.Signals(number).name))
    reason = "the service failed"
    try:
        standby = leadership.wait(stop_reason, deadline)
        if standby is not None:
            reason = standby
        else:
            leadership.keep()
            if mode != "distributed":
                # Crawl processes of this machine only (workers elsewhere close their own).
                stale = mark_stale_runs_interrupted(engine, now=datetime.now(UTC))
                if stale:
                    logger.warning("closed %d run(s) left running by a crawl process that "
                                   "is gone", stale)
            retry_database(lambda: beat(engine, started_at=started_at, now=datetime.now(UTC)),
                           what="recorded the scheduler's heartbeat")
            scheduler.start(paused=True)  # plans the jobs (on_started), then runs in its thread
            reason = _wait_for_stop(stop_reason, deadline, once_for)
    finally:
        # However the wait ended (a stop, an error): nothing new starts, the scheduler's thread
        # ends, running crawls get their grace and every job thread is done before we return
        # (an idle-looking process kept alive by a crawl thread is what a stall looks like).
        context.stopping.set()
        try:
            scheduler.shutdown(wait=False)
        except SchedulerNotRunningError:
            pass
        try:
            _drain(context, grace_seconds=options.shutdown_grace_seconds, reason=reason,
                   second_stop=second_stop)
            # Planned runs still queued for a free slot start now, see the stop flag and return.
            crawl_executor.shutdown(wait=True)
            if context.batcher is not None:
                context.batcher.flush()
        finally:
            leadership.release()
            for signum, handler in previous_handlers.items():
                signal.signal(signum, handler)
            jobs.install_context(None)
            if context.snapshot_dir is not None:  # every crawl process is gone by now
                shutil.rmtree(context.snapshot_dir, ignore_errors=True)
    _record_pending_and_stop_beating(context)
    summary = _summary(context, started_at=started_at, stop_reason=reason, stale=stale,
                       job_count=retry_database(lambda: _job_count(engine),
                                                what="counted the jobs"))
    engine.dispose()
    for line in summary.lines():
        logger.info(line)
    return summary


STOP_POLL_SECONDS = 0.1
"""How often the main thread looks for a stop (a signal interrupts the sleep at once)."""


def _wait_for_stop(stop_reason: Callable[[], str | None], deadline: float | None,
                   once_for: float | None = None) -> str:
    """The main thread's wait, in short sleeps: a signal handler runs as soon as it arrives
    (the main thread never waits in SQLite or on a lock a handler could need). ``deadline``:
    monotonic time of ``--once-for``."""
    while True:
        reason = stop_reason()
        if reason is not None:
            return reason
        if deadline is not None and time.monotonic() >= deadline:
            return f"--once-for {once_for or 0:g} s elapsed"
        time.sleep(STOP_POLL_SECONDS)


def heartbeat(started_at: datetime) -> None:
    """Internal job: record that the service is alive, then record the planned runs that could
    not start while the database was unavailable (now that it may be back)."""
    context = jobs.current_context()
    try:
        beat(context.engine, started_at=started_at, now=datetime.now(UTC))
        context.pending.flush(context.engine)
    except Exception as error:
        logger.warning("heartbeat not recorded (%d planned run(s) waiting to be recorded): %s",
                       len(context.pending), one_line(error))


def _record_pending_and_stop_beating(context: ServiceContext) -> None:
    try:
        context.pending.flush(context.engine, within=DATABASE_RETRY_SECONDS)
        retry_database(lambda: mark_stopped(context.engine, now=datetime.now(UTC)),
                       what="recorded the scheduler's stop")
    except Exception as error:
        logger.error("%d planned run(s) that could not start are not recorded: %s",
                     len(context.pending), one_line(error))


def _drain(context: ServiceContext, *, grace_seconds: float, reason: str,
           second_stop: Callable[[], str | None] = lambda: None) -> None:
    """After the scheduler stopped: let running crawls finish within the grace, then stop them
    and wait until every job thread is done (their runs are settled by then)."""
    context.stopping.set()
    deadline = time.monotonic() + grace_seconds

    def stop_now_if_asked() -> None:
        again = second_stop()
        if again is not None and not context.cancel.is_set():
            logger.warning("%s again: stopping the running crawls now", again)
            context.cancel_reason = f"scheduler stopped ({again})"
            context.cancel.set()

    with context.lock:
        if context.active:
            logger.info("stopping: waiting up to %g s for %d running crawl(s): %s",
                        grace_seconds, len(context.active),
                        ", ".join(sorted(context.active.values())))
        while context.running_jobs and not context.cancel.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            context.idle.wait(timeout=min(remaining, 0.5))
            stop_now_if_asked()
        if context.running_jobs:
            if not context.cancel.is_set():
                context.cancel_reason = (f"scheduler stopped ({reason}): the crawl did not "
                                         f"finish within the {grace_seconds:g} s shutdown grace")
            logger.warning("stopping %d crawl(s) still running: %s", len(context.active),
                           ", ".join(sorted(context.active.values())) or "-")
            context.cancel.set()
        # Each job thread stops its crawl process (SIGTERM, then SIGKILL) and settles its runs.
        while context.running_jobs:
            context.idle.wait(timeout=0.5)


def _job_count(engine: Any) -> int:
    from sqlalchemy import inspect, text

    if not inspect(engine).has_table(JOBS_TABLE):
        return 0
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {JOBS_TABLE}")).scalar_one()


def _summary(context: ServiceContext, *, started_at: datetime, stop_reason: str, stale: int,
             job_count: int) -> ServiceSummary:
    table = run_table
    statuses: Counter[str] = Counter()
    delays: list[float] = []
    run_ids = sorted(set(context.run_ids) | set(context.pending.recorded_run_ids))
    if run_ids:
        with context.engine.connect() as connection:
            for status, started, planned in connection.execute(
                    select(table.c.status, table.c.started_at, table.c.planned_at)
                    .where(table.c.id.in_(run_ids))):
                statuses[status] += 1
                if started is not None and planned is not None:
                    delays.append((_aware(started) - _aware(planned)).total_seconds())
    return ServiceSummary(
        started_at=started_at, stopped_at=datetime.now(UTC), stop_reason=stop_reason,
        stale_runs_closed=stale, jobs=job_count, fired=dict(context.fired),
        skipped=dict(context.skipped), missed=dict(context.missed),
        runs_by_status=dict(statuses), run_ids=run_ids,
        max_start_delay_seconds=max(delays) if delays else None,
        not_started_at_stop=dict(context.skipped_at_stop), started=dict(context.started),
        not_started=dict(context.not_started), dropped=dict(context.dropped),
        unrecorded=len(context.pending))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
