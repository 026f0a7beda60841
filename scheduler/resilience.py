"""The scheduler's own database work survives a database blip (a PostgreSQL restart, a dropped
connection): it is retried with backoff for a bounded time, and a planned run that still cannot
start is recorded as a failed run with the reason once the database is back.

- :func:`retry_database`: run one piece of database work, retrying while the database is
  unavailable (:func:`storage.errors.is_database_unavailable`), with exponential backoff, for at
  most ``within`` seconds; one log line per failed attempt, never a traceback.
- :class:`RetryingJobStore`: APScheduler's SQLAlchemy job store with every call retried. The
  scheduler's main loop must not die on a blip: a job whose next run time could not be saved is
  saved before the next look for due jobs (so a fire is never repeated), and an unreadable next
  wake-up time means "look again in a moment".
- :class:`PendingFailures`: planned runs that could not start and could not be recorded either
  (the database was still gone); they are written as failed runs, with their reason, as soon as
  a write succeeds (the heartbeat job tries every few seconds, the shutdown once more).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import Engine, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from storage import repository
from storage.db import write_transaction
from storage.errors import is_database_unavailable
from storage.models import heartbeat_table

logger = logging.getLogger("clickfarm.scheduler")

T = TypeVar("T")

FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 8.0
DATABASE_RETRY_SECONDS = 120.0
"""How long the scheduler's database work waits for the database before giving up on it."""
JOBSTORE_RETRY_SECONDS = 30.0
"""How long one job-store call of the scheduler's main loop waits (the loop looks again)."""
HEARTBEAT_SECONDS = 10
"""How often a running service records that it is alive; ``status`` calls a scheduler whose
last beat is older than three beats not running."""


def one_line(error: BaseException) -> str:
    """An exception as one short line: its type and the first line of its message."""
    original = getattr(error, "orig", None) or error
    text = " ".join(str(original).split())
    text = text.split(" (Background on this error at:")[0]
    return f"{type(original).__name__}: {text[:300]}" if text else type(original).__name__


def retry_database(action: Callable[[], T], *, what: str,
                   within: float = DATABASE_RETRY_SECONDS,
                   stop: threading.Event | None = None) -> T:
    """``action()``, retried with backoff while the database is unavailable, for at most
    ``within`` seconds (or until ``stop`` is set); the last error is raised then. Errors that do
    not mean "unavailable" (a bug, a constraint) are raised at once."""
    deadline = time.monotonic() + within
    delay = FIRST_RETRY_SECONDS
    attempt = 0
    while True:
        try:
            return action()
        except Exception as error:
            attempt += 1
            if (not is_database_unavailable(error) or time.monotonic() + delay > deadline
                    or (stop is not None and stop.is_set())):
                raise
            logger.warning("database unavailable while %s (attempt %d, next in %.1f s): %s",
                           what, attempt, delay, one_line(error))
            if stop is not None:
                stop.wait(delay)
            else:
                time.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)


class RetryingJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store whose calls wait out a database blip."""

    def __init__(self, *args: Any, within: float = JOBSTORE_RETRY_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._within = within
        self._unsaved: dict[str, Any] = {}
        """Jobs whose new next run time could not be saved: saved before the next due-jobs
        look, else the same planned run would fire again."""
        self._unsaved_lock = threading.Lock()

    def _retry(self, action: Callable[[], T], what: str) -> T:
        return retry_database(action, what=f"the job store {what}", within=self._within)

    def _save_unsaved(self) -> None:
        with self._unsaved_lock:
            for job_id, job in list(self._unsaved.items()):
                def save(job: Any = job) -> None:
                    SQLAlchemyJobStore.update_job(self, job)

                try:
                    self._retry(save, f"saved the next run of {job_id}")
                except JobLookupError:  # removed meanwhile (a reload): nothing to save
                    pass
                del self._unsaved[job_id]
                logger.info("job store: next run of %s saved after the database came back",
                            job_id)

    def get_due_jobs(self, now: datetime) -> list[Any]:
        # Raising here is handled by APScheduler: it logs one line and looks again later.
        self._save_unsaved()
        return self._retry(lambda: super(RetryingJobStore, self).get_due_jobs(now),
                           "read the due jobs")

    def get_next_run_time(self) -> datetime | None:
        try:
            self._save_unsaved()
            return self._retry(lambda: super(RetryingJobStore, self).get_next_run_time(),
                               "read the next run time")
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            # The main loop would sleep until a job is added: look again in a moment instead.
            logger.warning("job store unavailable, looking again in %.0f s: %s",
                           MAX_RETRY_SECONDS, one_line(error))
            return datetime.now(UTC) + timedelta(seconds=MAX_RETRY_SECONDS)

    def update_job(self, job: Any) -> None:
        try:
            self._retry(lambda: super(RetryingJobStore, self).update_job(job),
                        f"saved the next run of {job.id}")
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            logger.error("job store: next run of %s not saved yet (kept, saved when the "
                         "database is back): %s", job.id, one_line(error))
            with self._unsaved_lock:
                self._unsaved[job.id] = job

    def lookup_job(self, job_id: str) -> Any:
        return self._retry(lambda: super(RetryingJobStore, self).lookup_job(job_id),
                           f"looked up {job_id}")

    def get_all_jobs(self) -> list[Any]:
        return self._retry(lambda: super(RetryingJobStore, self).get_all_jobs(),
                           "listed the jobs")

    def add_job(self, job: Any) -> None:
        self._retry(lambda: super(RetryingJobStore, self).add_job(job), f"added {job.id}")

    def remove_job(self, job_id: str) -> None:
        self._retry(lambda: super(RetryingJobStore, self).remove_job(job_id),
                    f"removed {job_id}")


# --------------------------------------------------------------------------------------------
# planned runs that could not start


@dataclass
class PendingFailure:
    site_id: str
    planned_at: datetime | None
    failed_at: datetime
    reason: str


@dataclass
class PendingFailures:
    """Planned runs that could not start and are not recorded yet (the database was gone)."""

    items: list[PendingFailure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    recorded_run_ids: list[int] = field(default_factory=list)

    def add(self, failure: PendingFailure) -> None:
        with self.lock:
            self.items.append(failure)

    def __len__(self) -> int:
        with self.lock:
            return len(self.items)

    def flush(self, engine: Engine, *, within: float = 0.0) -> list[int]:
        """Record every pending failure as a failed run; returns the new run ids. Stops at the
        first failure that still cannot be written (it stays pending)."""
        recorded: list[int] = []
        while True:
            with self.lock:
                if not self.items:
                    return recorded
                failure = self.items[0]
            def record(failure: PendingFailure = failure) -> int:
                return record_failed_run(engine, failure)

            run_id = retry_database(record, what=f"recorded the run of {failure.site_id} that "
                                                 "could not start", within=within)
            with self.lock:
                self.items.pop(0)
                self.recorded_run_ids.append(run_id)
            recorded.append(run_id)
            logger.info("crawl %s: planned run %s recorded as failed (run %d): %s",
                        failure.site_id, _hms(failure.planned_at), run_id, failure.reason)


def record_failed_run(engine: Engine, failure: PendingFailure) -> int:
    """A failed run for a planned run that never started, with the reason."""
    run_id = repository.start_run(engine, site_id=failure.site_id, started_at=failure.failed_at,
                                  pid=None, trigger="schedule", planned_at=failure.planned_at)
    repository.fail_run(engine, run_id=run_id, finished_at=failure.failed_at,
                        error=failure.reason)
    return run_id


def _hms(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S") if moment else "-"


# --------------------------------------------------------------------------------------------
# heartbeat


def scheduler_identity() -> tuple[str, str, int]:
    host, pid = socket.gethostname(), os.getpid()
    return f"{host}:{pid}", host, pid


def beat(engine: Engine, *, started_at: datetime, now: datetime,
         interval_seconds: int = HEARTBEAT_SECONDS, stopped: bool = False) -> None:
    """Record that this process's scheduler is alive (or, ``stopped``, that it stopped)."""
    scheduler_id, host, pid = scheduler_identity()
    values = {"scheduler_id": scheduler_id, "host": host, "pid": pid, "started_at": started_at,
              "beat_at": now, "interval_seconds": interval_seconds,
              "stopped_at": now if stopped else None}
    with write_transaction(engine) as connection:
        dialect = pg_dialect if connection.dialect.name == "postgresql" else sqlite_dialect
        statement = dialect.insert(heartbeat_table).values(**values)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["scheduler_id"],
            set_={"beat_at": statement.excluded.beat_at,
                  "interval_seconds": statement.excluded.interval_seconds,
                  "stopped_at": statement.excluded.stopped_at}))


def mark_stopped(engine: Engine, *, now: datetime) -> None:
    scheduler_id, _, _ = scheduler_identity()
    with write_transaction(engine) as connection:
        connection.execute(update(heartbeat_table)
                           .where(heartbeat_table.c.scheduler_id == scheduler_id)
                           .values(beat_at=now, stopped_at=now))
