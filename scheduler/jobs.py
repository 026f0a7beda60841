"""The scheduler's jobs, and the job list kept in step with the sites file.

Job functions are module-level (the SQLAlchemy job store pickles a reference to them, e.g.
``scheduler.jobs:crawl_site``) and take only the site id and plain settings. What belongs to
the running service (the database URL, which may hold a password and must not be pickled into
the job table; the stop flags; the live crawl processes) is in the :class:`ServiceContext`
that :mod:`scheduler.service` installs while it runs.

One job per site, id ``crawl:<site_id>``. :func:`reconcile_jobs` adds the jobs of new sites,
removes those of sites that left the config, re-plans a job whose trigger changed (its next run
is computed afresh) and only updates the arguments of a job whose settings changed (its next
run is kept).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine, select

from core.config import ConfigError, ProjectConfig, SiteConfig, load_config
from core.config import sites_path as config_sites_path
from crawlers.runner import load_targets, run_crawl
from scheduler.resilience import (
    DATABASE_RETRY_SECONDS,
    FIRST_RETRY_SECONDS,
    MAX_RETRY_SECONDS,
    PendingFailure,
    PendingFailures,
    one_line,
    record_failed_run,
    retry_database,
)
from scheduler.triggers import ScheduleError, plan_schedule
from storage import repository
from storage.errors import is_database_unavailable
from storage.models import run_table

logger = logging.getLogger("clickfarm.scheduler")

CRAWL_JOB_PREFIX = "crawl:"
JOBS_TABLE = "apscheduler_jobs"
"""The job store's table in the project database (not part of the migrations)."""
CHILD_STOP_SECONDS = 15.0
"""How long a crawl process gets to close its runs after SIGTERM (timeout, shutdown)."""


def crawl_job_id(site_id: str) -> str:
    return f"{CRAWL_JOB_PREFIX}{site_id}"


# --------------------------------------------------------------------------------------------
# the running service


@dataclass
class ServiceContext:
    """What the jobs of the running ``clickfarm schedule`` share (never pickled)."""

    sites_path: Path | None
    database_url: str | None
    engine: Engine
    project: ProjectConfig
    scheduler: BaseScheduler | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set when the service stops: jobs that start now return without crawling."""
    cancel: threading.Event = field(default_factory=threading.Event)
    """Set when the shutdown grace is over: running crawls are stopped."""
    cancel_reason: str = "scheduler stopped"
    lock: threading.Lock = field(default_factory=threading.Lock)
    active: dict[int, str] = field(default_factory=dict)
    """pid -> site id of the crawl processes running now."""
    running_jobs: int = 0
    run_ids: list[int] = field(default_factory=list)
    fired: Counter[str] = field(default_factory=Counter)
    """Runs submitted per site (the scheduler's plan, run or waiting for a free slot)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Planned runs not started because the previous run of the site was still going."""
    missed: Counter[str] = field(default_factory=Counter)
    """Planned runs dropped because they could not start within the misfire grace time."""
    skipped_at_stop: Counter[str] = field(default_factory=Counter)
    """Submitted runs that had not started when the service stopped."""
    started: Counter[str] = field(default_factory=Counter)
    """Planned runs whose crawl process actually started."""
    not_started: Counter[str] = field(default_factory=Counter)
    """Planned runs that could not start (the database stayed unavailable, or an error before
    the crawl process started): each is recorded as a failed run with the reason."""
    dropped: Counter[str] = field(default_factory=Counter)
    """Planned runs of a site removed from the sites file meanwhile (not crawled)."""
    pending: PendingFailures = field(default_factory=PendingFailures)
    """Runs of ``not_started`` still to be recorded (the database was gone at the time)."""
    idle: threading.Condition = field(init=False)
    sites_snapshot: Path | None = None
    """A private copy of the last sites file that was valid: the crawl processes read it, so a
    file broken by an edit does not break the crawls (see :func:`read_sites_file`)."""
    snapshot_content: bytes | None = None
    snapshot_dir: Path | None = None
    """Where the copies live (made on first use; the service removes it when it stops)."""
    site_ids: set[str] = field(default_factory=set)
    """The sites of the last good config: a planned run of a site no longer there is dropped."""
    sites: dict[str, SiteConfig] = field(default_factory=dict)
    batcher: Any = None
    """Distributed mode: a :class:`scheduler.distributed.Batcher`; a due site is sent to the
    workers through it instead of crawled here."""
    enqueued: Counter[str] = field(default_factory=Counter)
    """Distributed mode: planned runs handed to the workers."""

    def __post_init__(self) -> None:
        self.idle = threading.Condition(self.lock)


def read_sites_file(context: ServiceContext) -> tuple[ProjectConfig, list[SiteConfig]]:
    """Read and validate the sites file; when valid, it becomes the service's last good config.

    The bytes read are validated from a private copy (``context.sites_snapshot``) that the crawl
    processes are then given, so an edit that breaks the file (a typo, a half-saved YAML) keeps
    the service and its crawls on the last good config. Raises :class:`ConfigError` naming the
    real file; the last good config is kept then.
    """
    source = config_sites_path(context.sites_path)
    try:
        content = source.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read {source}: {error.strerror}") from error
    if context.sites_snapshot is not None and content == context.snapshot_content:
        snapshot = context.sites_snapshot
    else:
        if context.snapshot_dir is None:
            context.snapshot_dir = Path(tempfile.mkdtemp(prefix="clickfarm-schedule-"))
        handle, name = tempfile.mkstemp(prefix="sites-", suffix=".yaml",
                                        dir=context.snapshot_dir)
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        snapshot = Path(name)
    try:
        project = load_config(snapshot)
        sites = load_targets(snapshot, context.database_url)
    except ConfigError as error:
        if snapshot != context.sites_snapshot:
            snapshot.unlink(missing_ok=True)
        raise ConfigError(str(error).replace(str(snapshot), str(source))) from None
    # Earlier copies are kept until the service stops: a crawl process may be starting on one.
    context.sites_snapshot, context.snapshot_content = snapshot, content
    context.project = project
    context.site_ids = {site.id for site in sites}
    context.sites = {site.id: site for site in sites}
    return project, sites


_context: ServiceContext | None = None


def install_context(context: ServiceContext | None) -> None:
    """Set (or clear) the context of the service running in this process."""
    global _context
    _context = context


def current_context() -> ServiceContext:
    if _context is None:
        raise RuntimeError("no clickfarm scheduler is running in this process")
    return _context


# The run time the scheduler planned for the job running in this thread (see CrawlExecutor).
_planned = threading.local()


def planned_run_time() -> datetime | None:
    return getattr(_planned, "value", None)


def _run_job_with_planned_time(job: Any, jobstore_alias: str, run_times: list[datetime],
                               logger_name: str) -> list[Any]:
    events = []
    for run_time in run_times:
        _planned.value = run_time
        try:
            events.extend(run_job(job, jobstore_alias, [run_time], logger_name))
        finally:
            _planned.value = None
    return events


class CrawlExecutor(ThreadPoolExecutor):
    """A thread pool (size = ``scheduler.max_parallel_crawls``) whose jobs know the run time
    they were planned for (APScheduler 3 does not pass it to the job function)."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def callback(future: Any) -> None:
            error = future.exception()
            if error is not None:
                self._run_job_error(job.id, error, error.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(_run_job_with_planned_time, job, job._jobstore_alias,
                                   run_times, self._logger.name)
        future.add_done_callback(callback)


# --------------------------------------------------------------------------------------------
# jobs


def crawl_site(site_id: str, settings: dict[str, Any]) -> list[int]:
    """Job: crawl one site in its own process, settle its run, run the health checks.

    ``settings``: ``crawl_timeout_seconds`` (hard timeout of the process) and ``log_level``.
    Returns the ids of the runs recorded.
    """
    context = current_context()
    planned_at = planned_run_time()
    with context.lock:
        context.running_jobs += 1
    try:
        if context.stopping.is_set():
            with context.lock:
                context.skipped_at_stop[site_id] += 1
            return []
        if site_id not in context.site_ids:
            # Planned (or waiting for a free slot) before a reload removed or disabled the
            # site: crawling it would record a failed run of a site nobody asked for.
            logger.warning("crawl %s: not started, the site is no longer in the sites file",
                           site_id)
            with context.lock:
                context.dropped[site_id] += 1
            return []
        if context.batcher is not None:
            return _enqueue(context, site_id, planned_at)
        return _crawl(context, site_id, settings, planned_at)
    except Exception as error:
        # One line, never a traceback from APScheduler; _crawl has recorded the run already
        # when it could (a failure this late is a bug, logged with its type).
        logger.error("crawl %s: planned run %s ended with an error: %s", site_id,
                     planned_at.strftime("%H:%M:%S") if planned_at else "-", one_line(error))
        return []
    finally:
        with context.lock:
            context.running_jobs -= 1
            context.idle.notify_all()


def _enqueue(context: ServiceContext, site_id: str, planned_at: datetime | None) -> list[int]:
    """Distributed mode: the planned run becomes a cycle for the workers (no run here)."""
    from scheduler.distributed import task_settings

    when = planned_at or datetime.now(UTC)
    context.batcher.add(context.sites[site_id], when, task_settings(context.project))
    with context.lock:
        context.enqueued[site_id] += 1
    return []


def _crawl(context: ServiceContext, site_id: str, settings: dict[str, Any],
           planned_at: datetime | None) -> list[int]:
    started = time.monotonic()
    late = (datetime.now(UTC) - planned_at).total_seconds() if planned_at else 0.0
    logger.info("crawl %s: start (planned %s, %+.1f s)", site_id,
                planned_at.strftime("%H:%M:%S") if planned_at else "-", late)
    spawned: list[int] = []

    def register(pid: int) -> None:
        spawned.append(pid)
        with context.lock:
            context.active[pid] = site_id
            context.started[site_id] += 1

    timeout = float(settings.get("crawl_timeout_seconds")
                    or context.project.scheduler.crawl_timeout_seconds)
    deadline = time.monotonic() + DATABASE_RETRY_SECONDS
    delay = FIRST_RETRY_SECONDS
    result = None
    while result is None:
        try:
            result = run_crawl(
                [site_id], sites_path=context.sites_snapshot or context.sites_path,
                database_url=context.database_url, timeout_seconds=timeout,
                log_level=settings.get("log_level", "WARNING"), trigger="schedule",
                planned_at=planned_at, cancel=context.cancel,
                cancel_reason=lambda: context.cancel_reason, on_spawn=register,
                stop_grace_seconds=CHILD_STOP_SECONDS)
        except Exception as error:
            if spawned:
                # The crawl process ran; settling its run failed (the database went away
                # after it): settle it here once the database is back.
                run_ids = _settle_after_lost_database(context, site_id, planned_at, error)
                return _after_crawl(context, site_id, run_ids, started)
            unavailable = is_database_unavailable(error)
            if (unavailable and time.monotonic() + delay <= deadline
                    and not context.stopping.is_set()):
                logger.warning("crawl %s: database unavailable before the crawl started, "
                               "retrying in %.1f s: %s", site_id, delay, one_line(error))
                context.stopping.wait(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
                continue
            reason = (f"the planned run could not start: "
                      f"{'database unavailable: ' if unavailable else ''}{one_line(error)}")
            _record_not_started(context, site_id, planned_at, reason)
            return []
        finally:
            with context.lock:
                for pid in spawned:  # never a phantom "running" crawl, whatever happened
                    context.active.pop(pid, None)
    return _after_crawl(context, site_id, result.run_ids, started, result=result)


def _after_crawl(context: ServiceContext, site_id: str, run_ids: list[int], started: float,
                 result: Any = None) -> list[int]:
    """Log the runs, run the health checks; both wait out a database blip."""
    with context.lock:
        context.run_ids.extend(run_ids)
    try:
        runs = retry_database(lambda: _runs(context.engine, run_ids),
                              what=f"read the runs of {site_id}", stop=context.cancel)
    except Exception as error:
        logger.error("crawl %s: runs %s recorded, not read back: %s", site_id, run_ids,
                     one_line(error))
        runs = []
    for run in runs:
        logger.info(
            "crawl %s: run %s %s, %s offers (%s new, %s changed, %s removed, %s rejected) "
            "in %.1f s%s", run["site_id"], run["id"], run["status"], run["offers_seen"],
            run["offers_new"], run["offers_changed"], run["offers_removed"],
            run["offers_rejected"], time.monotonic() - started,
            f": {run['error'][:200]}" if run["error"] else "")
    if not run_ids and result is not None:
        logger.error("crawl %s: no run recorded (exit %s): %s", site_id, result.returncode,
                     result.stderr_tail[-500:])
    check_health(context, run_ids)
    return run_ids


def _record_not_started(context: ServiceContext, site_id: str, planned_at: datetime | None,
                        reason: str) -> None:
    """A planned run that could not start: a failed run with the reason, now or (the database
    still gone) as soon as a write succeeds."""
    with context.lock:
        context.not_started[site_id] += 1
    failure = PendingFailure(site_id, planned_at, datetime.now(UTC), reason)
    try:
        run_id = retry_database(lambda: record_failed_run(context.engine, failure),
                                what=f"recorded the run of {site_id} that could not start",
                                within=MAX_RETRY_SECONDS, stop=context.cancel)
    except Exception as error:
        logger.error("crawl %s: %s; recorded when the database is back (%s)", site_id, reason,
                     one_line(error))
        context.pending.add(failure)
        return
    with context.lock:
        context.run_ids.append(run_id)
    logger.error("crawl %s: %s (run %d recorded as failed)", site_id, reason, run_id)


def _settle_after_lost_database(context: ServiceContext, site_id: str,
                                planned_at: datetime | None, error: Exception) -> list[int]:
    """The runs of a planned crawl whose process ended while the database was unavailable:
    closed as failed with the reason when the process left them ``running``, recorded as a
    failed run when it left none."""
    reason = (f"the crawl process ended but its run could not be settled: database "
              f"unavailable: {one_line(error)}")
    logger.warning("crawl %s: %s; settling it when the database is back", site_id,
                   one_line(error))

    def settle() -> list[int]:
        table = run_table
        query = select(table.c.id, table.c.status).where(
            table.c.site_id == site_id, table.c.trigger == "schedule")
        if planned_at is not None:
            query = query.where(table.c.planned_at >= planned_at - timedelta(seconds=1),
                                table.c.planned_at <= planned_at + timedelta(seconds=1))
        with context.engine.connect() as connection:
            found = connection.execute(query.order_by(table.c.id)).all()
        now = datetime.now(UTC)
        for run in found:
            if run.status == "running":
                repository.fail_run(context.engine, run_id=run.id, finished_at=now,
                                    error=reason)
        if found:
            return [run.id for run in found]
        return [record_failed_run(context.engine,
                                  PendingFailure(site_id, planned_at, now, reason))]

    try:
        return retry_database(settle, what=f"settled the run of {site_id}", stop=context.cancel)
    except Exception as settle_error:
        logger.error("crawl %s: run not settled: %s", site_id, one_line(settle_error))
        context.pending.add(PendingFailure(site_id, planned_at, datetime.now(UTC), reason))
        return []


def _runs(engine: Engine, run_ids: list[int]) -> list[dict[str, Any]]:
    if not run_ids:
        return []
    table = run_table
    with engine.connect() as connection:
        rows = connection.execute(select(table).where(table.c.id.in_(run_ids))
                                  .order_by(table.c.id))
        return [dict(row._mapping) for row in rows]


def check_health(context: ServiceContext, run_ids: list[int]) -> list[int]:
    """Run the health checks and market rules after a crawl (``scheduler.health.after_run``).

    A failure of the checks is logged, never raised: the next crawl must still happen.
    """
    from scheduler.health import after_run

    try:
        return retry_database(lambda: after_run(context.engine, run_ids=run_ids,
                                                config=context.project, now=datetime.now(UTC)),
                              what=f"checked the health after runs {run_ids}",
                              stop=context.cancel)
    except Exception as error:
        logger.error("health checks after runs %s failed: %s", run_ids, one_line(error))
        return []


def reload_sites() -> None:
    """Job (every ``scheduler.config_reload_seconds``): re-read the sites file, update the jobs."""
    context = current_context()
    if context.stopping.is_set() or context.scheduler is None:
        return
    try:
        project, sites = read_sites_file(context)
    except Exception as error:  # a broken file keeps the current jobs
        logger.error("sites file not reloaded, the service goes on with the last good one "
                     "(jobs and crawls): %s", error)
        return
    changes = reconcile_jobs(context.scheduler, sites=sites, project=project)
    if changes.changed:
        logger.info("sites reloaded: %s", changes.describe())


# --------------------------------------------------------------------------------------------
# keeping the jobs in step with the config


@dataclass
class JobChanges:
    added: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.rescheduled or self.updated or self.removed
                    or self.errors)

    def describe(self) -> str:
        parts = [f"{len(getattr(self, name))} {name}" for name in
                 ("added", "rescheduled", "updated", "removed", "unchanged")]
        text = ", ".join(parts)
        if self.errors:
            text += "; not scheduled: " + "; ".join(self.errors)
        return text


def job_settings(project: ProjectConfig) -> dict[str, Any]:
    """The settings a crawl job carries (plain values: they are pickled into the job table)."""
    return {"crawl_timeout_seconds": project.scheduler.crawl_timeout_seconds,
            "log_level": "WARNING"}


def reconcile_jobs(scheduler: BaseScheduler, *, sites: list[SiteConfig],
                   project: ProjectConfig, jobstore: str = "default") -> JobChanges:
    """Make the crawl jobs match ``sites``: one job per scheduled site, by stable id.

    A job whose trigger is unchanged keeps its next run time (a reload does not delay or
    advance anyone); a changed trigger re-plans it; a changed setting only updates its args; a
    schedule that cannot be read is reported in ``errors`` and the site keeps its current job.
    """
    changes = JobChanges()
    settings = job_settings(project)
    grace = max(1, int(project.scheduler.misfire_grace_seconds))
    existing = {job.id: job for job in scheduler.get_jobs(jobstore=jobstore)
                if job.id.startswith(CRAWL_JOB_PREFIX)}
    wanted: dict[str, tuple[SiteConfig, Any]] = {}
    unreadable: set[str] = set()
    for site in sites:
        try:
            planned = plan_schedule(site.schedule)
        except ScheduleError as error:
            # A typo in one schedule keeps that site's last good job instead of dropping it.
            changes.errors.append(f"{site.id}: {error}")
            unreadable.add(crawl_job_id(site.id))
            continue
        if planned is not None:
            wanted[crawl_job_id(site.id)] = (site, planned)
    for job_id in existing:
        if job_id not in wanted and job_id not in unreadable:
            scheduler.remove_job(job_id, jobstore=jobstore)
            changes.removed.append(job_id)
    for job_id, (site, planned) in wanted.items():
        name = f"crawl {site.id} ({planned.label})"
        args = (site.id, settings)
        job = existing.get(job_id)
        # The trigger compared too: a stored job planned by an older reading of the same
        # schedule (crontab weekdays before crontab_trigger) is re-planned.
        if job is None or job.name != name or str(job.trigger) != str(planned.trigger):
            scheduler.add_job(crawl_site, trigger=planned.trigger, args=args, id=job_id,
                              name=name, jobstore=jobstore, executor="default",
                              replace_existing=True, coalesce=True, max_instances=1,
                              misfire_grace_time=grace)
            (changes.added if job is None else changes.rescheduled).append(job_id)
        elif tuple(job.args) != args or job.misfire_grace_time != grace:
            scheduler.modify_job(job_id, jobstore=jobstore, args=args, misfire_grace_time=grace)
            changes.updated.append(job_id)
        else:
            changes.unchanged.append(job_id)
    return changes
