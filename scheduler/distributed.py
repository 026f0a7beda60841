"""Distributed mode: Celery workers crawl, over a Redis broker, into one shared database.

``clickfarm schedule`` (``scheduler.mode: distributed``) plans as usual but, instead of starting
crawl processes, records a *cycle* per due site (``crawl_cycle``: site, planned time) and sends
one task per ``sites_per_task`` sites planned for the same time. ``clickfarm worker`` runs the
tasks: each task claims its sites' cycles, crawls the claimed ones in one crawl process (the
runner and hard timeout of single-machine mode, one run and one transaction per site) and closes
the cycles from their runs.

Exactly once per cycle:

- a cycle is enqueued only by whoever created its row (a second scheduler, or a restart, finds
  it and sends nothing);
- a task is acknowledged after its work (``acks_late``) and given back when its worker process
  dies (``task_reject_on_worker_lost``); a worker takes one message at a time (prefetch 1); the
  broker redelivers an unacknowledged message after ``visibility_timeout_seconds``, which is
  longer than a task can last (crawl timeout plus stop grace), so a live task is never
  delivered twice;
- a redelivered task whose cycle is over (``succeeded`` / ``failed``) does nothing; one whose
  attempt was interrupted (the worker died: its crawl process dies with it, ``PR_SET_PDEATHSIG``)
  closes that attempt's run as ``interrupted`` and crawls again, up to ``max_attempts``;
- a site is crawled by one worker at a time: the lease ``site:<id>`` in the database, renewed
  while the crawl runs (a site still crawling its previous cycle delays the next one).

The Celery app is module level (``celery -A scheduler.distributed inspect active`` works with
``CLICKFARM_BROKER_URL`` set); :func:`configure` sets its broker and timeouts.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from celery import Celery

from core.config import ProjectConfig, SiteConfig
from scheduler.resilience import one_line, retry_database
from storage import leases
from storage.errors import is_database_unavailable

logger = logging.getLogger("clickfarm.worker")

TASK_NAME = "clickfarm.crawl_sites"
CRAWL_QUEUE = "clickfarm.crawl"
BROWSER_QUEUE = "clickfarm.browser"
"""Sites of the ``spa`` family (a browser each) go here: run browser workers apart."""
BROKER_URL_ENV = "CLICKFARM_BROKER_URL"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
STOP_GRACE_SECONDS = 15.0
"""How long a crawl process gets after SIGTERM (hard timeout) before SIGKILL."""
BUSY_RETRY_SECONDS = 5.0
UNEXPECTED_ERROR_RETRIES = 3
"""A task that fails on an error nobody expected is sent again this many times (30 s apart)
before it fails for good: the broker acknowledges a failed task, and the cycles it carried would
otherwise stay queued until the next cycle."""
"""A site another worker is crawling is tried again after this long."""

app = Celery("clickfarm")
app.conf.update(
    broker_url=os.environ.get(BROKER_URL_ENV, DEFAULT_BROKER_URL),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue=CRAWL_QUEUE,
    task_serializer="json",
    accept_content=["json"],
    result_backend=None,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    worker_cancel_long_running_tasks_on_connection_loss=False,
    enable_utc=True,
)


def visibility_timeout(crawl_timeout_seconds: float, configured: float | None = None) -> float:
    """The broker's redelivery delay: longer than the longest task (its crawl timeout plus the
    stop grace and a margin), or ``configured`` when that is longer still."""
    least = crawl_timeout_seconds + STOP_GRACE_SECONDS + 60.0
    return max(least, configured or 0.0)


def configure(broker_url: str, *, crawl_timeout_seconds: float,
              visibility_timeout_seconds: float | None = None) -> Celery:
    """Point the app at ``broker_url`` with a visibility timeout right for the crawl timeout."""
    timeout = visibility_timeout(crawl_timeout_seconds, visibility_timeout_seconds)
    app.conf.update(
        broker_url=broker_url,
        broker_transport_options={"visibility_timeout": timeout},
    )
    return app


# --------------------------------------------------------------------------------------------
# the scheduler's side


def queue_for(site: SiteConfig) -> str:
    return BROWSER_QUEUE if site.family == "spa" else CRAWL_QUEUE


def task_settings(project: ProjectConfig) -> dict[str, Any]:
    """What every task carries (plain JSON values)."""
    options = project.scheduler
    return {"crawl_timeout_seconds": options.crawl_timeout_seconds,
            "max_attempts": options.max_attempts,
            "lease_seconds": options.site_lease_seconds,
            "log_level": "WARNING"}


def enqueue_cycle(engine: Any, sites: list[SiteConfig], planned_at: datetime, *,
                  settings: dict[str, Any], sites_per_task: int,
                  countdown: float | None = None) -> list[list[str]]:
    """Record the cycles of ``sites`` planned at ``planned_at`` and send a task per
    ``sites_per_task`` of those this call created (never a cycle planned before); the batches
    sent."""
    return enqueue_cycles(engine, [(site, planned_at) for site in sites], settings=settings,
                          sites_per_task=sites_per_task, countdown=countdown)


def enqueue_cycles(engine: Any, due: list[tuple[SiteConfig, datetime]], *,
                   settings: dict[str, Any], sites_per_task: int,
                   countdown: float | None = None) -> list[list[str]]:
    """:func:`enqueue_cycle` for sites due at different times (interval schedules start
    apart): the cycles this call created, ``sites_per_task`` to a task; the batches sent."""
    by_time: dict[datetime, list[SiteConfig]] = {}
    for site, planned_at in due:
        by_time.setdefault(planned_at, []).append(site)
    by_queue: dict[str, list[tuple[str, datetime]]] = {}
    for planned_at, sites in by_time.items():
        created = set(retry_database(
            functools.partial(leases.plan_cycles, engine, [site.id for site in sites],
                              planned_at),
            what="planned the crawl cycles"))
        for site in sites:
            if site.id in created:
                by_queue.setdefault(queue_for(site), []).append((site.id, planned_at))
    sent: list[list[str]] = []
    for queue, cycles in by_queue.items():
        for start in range(0, len(cycles), max(1, sites_per_task)):
            batch = cycles[start:start + max(1, sites_per_task)]
            send(batch, settings, queue=queue, countdown=countdown)
            sent.append([site_id for site_id, _ in batch])
    return sent


def send(cycles: list[tuple[str, datetime]], settings: dict[str, Any], *,
         queue: str = CRAWL_QUEUE, countdown: float | None = None) -> None:
    """One task for ``cycles`` (site id, planned time)."""
    pairs = [[site_id, planned_at.isoformat()] for site_id, planned_at in cycles]
    app.send_task(TASK_NAME, args=(pairs, settings), queue=queue, countdown=countdown)


class Batcher:
    """Collects the sites the scheduler fires for the same planned time for a moment, then
    enqueues them in tasks of ``sites_per_task`` (APScheduler fires one job per site)."""

    def __init__(self, engine: Any, *, sites_per_task: int, wait_seconds: float = 0.5) -> None:
        self.engine = engine
        self.sites_per_task = sites_per_task
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._pending: dict[str, list[tuple[SiteConfig, datetime]]] = {}
        self._settings: dict[str, dict[str, Any]] = {}
        self._flushing = threading.Event()
        self.sent: list[list[str]] = []

    def add(self, site: SiteConfig, planned_at: datetime, settings: dict[str, Any]) -> None:
        key = queue_for(site)
        with self._lock:
            self._pending.setdefault(key, []).append((site, planned_at))
            self._settings[key] = settings
            full = len(self._pending[key]) >= self.sites_per_task
        if full:
            self.flush()
        else:
            timer = threading.Timer(self.wait_seconds, self.flush)
            timer.daemon = True
            timer.start()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            settings = dict(self._settings)
        for queue, due in pending.items():
            try:
                batches = enqueue_cycles(self.engine, due, settings=settings[queue],
                                         sites_per_task=self.sites_per_task)
                self.sent.extend(batches)
                logger.info("%d due site(s) sent to the workers (%s) in %d task(s)",
                            sum(len(batch) for batch in batches), queue, len(batches))
            except Exception as error:
                logger.error("%d due site(s) not enqueued: %s", len(due), one_line(error))


# --------------------------------------------------------------------------------------------
# the worker's side


@dataclass
class WorkerContext:
    """What the tasks of one ``clickfarm worker`` share (set before the pool forks)."""

    sites_path: Path | None
    database_url: str | None
    holders: dict[int, str] = field(default_factory=dict)

    def holder(self) -> str:
        """This process's lease holder id (a pool process has its own)."""
        pid = os.getpid()
        if pid not in self.holders:
            self.holders[pid] = leases.new_holder()
        return self.holders[pid]


_worker: WorkerContext | None = None


def install_worker(context: WorkerContext | None) -> None:
    global _worker
    _worker = context


def worker_context() -> WorkerContext:
    if _worker is None:
        return WorkerContext(sites_path=None, database_url=None)
    return _worker


@dataclass
class TaskOutcome:
    """What one task did, per site: ``crawled`` (cycle status after the crawl), ``done`` (the
    cycle was over already), ``busy`` (sent again later), ``exhausted``."""

    crawled: dict[str, str] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    busy: list[tuple[str, datetime]] = field(default_factory=list)
    exhausted: list[str] = field(default_factory=list)
    again: list[tuple[str, datetime]] = field(default_factory=list)


@app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True,
          max_retries=None)
def crawl_sites(self: Any, cycles: list[list[str]], settings: dict[str, Any]) -> dict[str, Any]:
    """Crawl the cycles of one task: ``[site id, planned time (ISO)]`` pairs."""
    from storage.db import get_engine

    context = worker_context()
    engine = get_engine(context.database_url)
    due = [(site_id, datetime.fromisoformat(planned_at)) for site_id, planned_at in cycles]
    try:
        outcome = run_task(engine, context, due, settings)
    except Exception as error:
        if is_database_unavailable(error):
            logger.warning("task of %d site(s): database unavailable, again in 5 s: %s",
                           len(due), one_line(error))
            raise self.retry(countdown=5.0, exc=error) from error
        if self.request.retries < UNEXPECTED_ERROR_RETRIES:
            logger.exception("task of %d site(s) failed (try %d of %d), again in 30 s",
                             len(due), self.request.retries + 1, UNEXPECTED_ERROR_RETRIES + 1)
            raise self.retry(countdown=30.0, exc=error, max_retries=None) from error
        raise
    finally:
        engine.dispose()
    queue = self.request.delivery_info.get("routing_key") if self.request.delivery_info else None
    if outcome.busy:
        send(outcome.busy, settings, queue=queue or CRAWL_QUEUE, countdown=BUSY_RETRY_SECONDS)
    if outcome.again:
        send(outcome.again, settings, queue=queue or CRAWL_QUEUE, countdown=1.0)
    return {"crawled": outcome.crawled, "done": outcome.done,
            "busy": [site_id for site_id, _ in outcome.busy], "exhausted": outcome.exhausted}


def run_task(engine: Any, context: WorkerContext, cycles: list[tuple[str, datetime]],
             settings: dict[str, Any]) -> TaskOutcome:
    """Claim, crawl and close ``cycles`` (site id, planned time; see the module docstring)."""
    from crawlers.runner import run_crawl

    holder = context.holder()
    lease_seconds = float(settings.get("lease_seconds", 60.0))
    max_attempts = int(settings.get("max_attempts", 3))
    timeout = float(settings.get("crawl_timeout_seconds", 1800.0))
    outcome = TaskOutcome()
    claimed: dict[str, int] = {}
    planned: dict[str, datetime] = {}
    for site_id, planned_at in cycles:
        if site_id in claimed:  # a later cycle of a site this task crawls: after this one
            outcome.busy.append((site_id, planned_at))
            continue
        claim = retry_database(
            functools.partial(leases.claim_cycle, engine, site_id, planned_at, holder,
                              lease_seconds=lease_seconds, max_attempts=max_attempts),
            what=f"claimed the cycle of {site_id}")
        if claim.outcome == "claimed":
            assert claim.cycle_id is not None
            claimed[site_id] = claim.cycle_id
            planned[site_id] = planned_at
            if claim.closed_runs:
                logger.warning("crawl %s: %d run(s) of a lost worker closed, crawling again "
                               "(attempt %d)", site_id, claim.closed_runs, claim.attempt)
        elif claim.outcome == "done":
            outcome.done.append(site_id)
        elif claim.outcome == "busy":
            outcome.busy.append((site_id, planned_at))
        else:
            outcome.exhausted.append(site_id)
    if not claimed:
        return outcome
    names = [leases.site_lease(site_id) for site_id in claimed]
    stop_renewing = threading.Event()
    renewer = threading.Thread(target=_renew_leases, daemon=True,
                               args=(engine, names, holder, lease_seconds, stop_renewing))
    renewer.start()
    started = time.monotonic()
    result = None
    crawl_error: str | None = None
    try:
        result = run_crawl(list(claimed), sites_path=context.sites_path,
                           database_url=context.database_url, timeout_seconds=timeout,
                           log_level=str(settings.get("log_level", "WARNING")),
                           trigger="schedule", planned_at=planned,
                           stop_grace_seconds=STOP_GRACE_SECONDS, die_with_parent=True)
    except Exception as error:  # the database went away around the crawl
        crawl_error = one_line(error)
        logger.warning("crawl of %d site(s): %s", len(claimed), crawl_error)
    finally:
        stop_renewing.set()
        renewer.join()
    runs = retry_database(lambda: _runs_of(engine, planned),
                          what="read the runs of the task")
    for site_id, cycle_id in claimed.items():
        run = runs.get(site_id) or {}
        run_status, retryable = _verdict(run or None)
        close = functools.partial(
            leases.finish_cycle, engine, cycle_id, holder=holder, site_id=site_id,
            run_id=run.get("id"), run_status=None if retryable else run_status,
            error=run.get("error") or crawl_error)
        status = retry_database(close, what=f"closed the cycle of {site_id}")
        outcome.crawled[site_id] = status
        if status == "interrupted":
            outcome.again.append((site_id, planned[site_id]))
    logger.info("task: %d crawled (%s) in %.1f s, %d over already, %d busy", len(claimed),
                ", ".join(f"{site} {status}" for site, status in outcome.crawled.items()),
                time.monotonic() - started, len(outcome.done), len(outcome.busy))
    if result is not None and result.run_ids:
        _check_health(engine, context, result.run_ids)
    return outcome


def _verdict(run: dict[str, Any] | None) -> tuple[str | None, bool]:
    """A run's status, and whether the cycle should be crawled again although the run ended:
    it failed because the database went away (nothing was stored)."""
    if run is None:
        return None, True
    error = (run.get("error") or "").lower()
    retryable = run["status"] == "failed" and (
        error.startswith(_NOT_THE_SITES_FAULT) or "database unavailable" in error
        or "operationalerror" in error)
    return run["status"], retryable


_NOT_THE_SITES_FAULT = ("storage failed", "crawl process exited", "the crawl process ended",
                        "the planned run could not start")
"""A failed run starting so failed in our machinery, not at the site: crawled again."""


def _runs_of(engine: Any, planned: dict[str, datetime]) -> dict[str, dict[str, Any]]:
    """The latest run of each site for its cycle (site id -> planned time)."""
    from sqlalchemy import select

    from storage.models import run_table

    table = run_table
    with engine.connect() as connection:
        rows = connection.execute(
            select(table.c.id, table.c.site_id, table.c.status, table.c.error,
                   table.c.planned_at)
            .where(table.c.site_id.in_(list(planned)),
                   table.c.planned_at.in_(list(set(planned.values()))))
            .order_by(table.c.id)).all()
    return {row.site_id: dict(row._mapping) for row in rows
            if row.planned_at == planned[row.site_id]}


def _renew_leases(engine: Any, names: Iterable[str], holder: str, seconds: float,
                  stop: threading.Event) -> None:
    while not stop.wait(seconds / 3):
        for name in names:
            try:
                leases.renew(engine, name, holder, seconds=seconds)
            except Exception as error:  # a blip: the next round tries again
                logger.warning("lease %s not renewed: %s", name, one_line(error))


def _check_health(engine: Any, context: WorkerContext, run_ids: list[int]) -> None:
    from core.config import load_config
    from scheduler.health import after_run

    try:
        project = load_config(context.sites_path)
        after_run(engine, run_ids=run_ids, config=project, now=datetime.now(UTC))
    except Exception as error:  # never fails the task: the crawl is stored
        logger.error("health checks after runs %s failed: %s", run_ids, one_line(error))
