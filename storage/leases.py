"""Leases in the database, and the crawl cycles of distributed mode.

A lease (table ``lease``) is a name held by one process until ``expires_at``; the holder renews
it while it works. Taking one is a single compare-and-set ``UPDATE`` (or an ``INSERT`` that the
primary key lets only one process win), so it works the same on SQLite and PostgreSQL with no
lock held between statements. A holder is ``host:pid:token``: on the holder's own machine a
lease whose process is gone is free at once (no need to wait for its expiry).

Used for:

- ``scheduler``: the one ``clickfarm schedule`` that plans; a second one waits as a standby and
  takes over when the first stops renewing (:mod:`scheduler.leadership`);
- ``site:<id>``: the one worker crawling a site, whatever the cycle (politeness across machines).

A crawl cycle (table ``crawl_cycle``) is one planned crawl of one site: (site, planned time),
unique. The scheduler enqueues a cycle only when it created its row; a worker claims it
(``running``) before crawling and closes it after: a redelivered task of a cycle that is over
does nothing, one whose attempt was interrupted runs again.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.processes import process_alive
from storage.db import write_transaction
from storage.models import DONE_CYCLE_STATUSES, cycle_table, lease_table, run_table

SCHEDULER_LEASE = "scheduler"


def site_lease(site_id: str) -> str:
    return f"site:{site_id}"


def new_holder() -> str:
    """A holder id for this process: ``host:pid:token``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_gone(holder: str) -> bool:
    """Whether ``holder`` was a process of this machine that no longer runs."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    return pid != os.getpid() and not process_alive(pid)


# --------------------------------------------------------------------------------------------
# leases


def acquire(engine: Engine, name: str, holder: str, *, seconds: float,
            now: datetime | None = None) -> bool:
    """Take (or renew) the lease ``name`` for ``seconds``; whether ``holder`` has it now."""
    now = now or datetime.now(UTC)
    expires = now + timedelta(seconds=seconds)
    table = lease_table
    with write_transaction(engine) as connection:
        taken = connection.execute(
            update(table).where(table.c.name == name,
                                or_(table.c.holder == holder, table.c.expires_at < now))
            .values(holder=holder, expires_at=expires, acquired_at=now)).rowcount
        if taken:
            return True
        current = connection.execute(
            select(table.c.holder).where(table.c.name == name)).scalar_one_or_none()
        if current is not None:
            if not holder_gone(current):
                return False
            # Its process is gone (this machine): take it over, unless someone just did.
            return bool(connection.execute(
                update(table).where(table.c.name == name, table.c.holder == current)
                .values(holder=holder, expires_at=expires, acquired_at=now)).rowcount)
    try:
        with write_transaction(engine) as connection:
            connection.execute(insert(table).values(name=name, holder=holder, acquired_at=now,
                                                    expires_at=expires))
        return True
    except IntegrityError:  # another process inserted it first
        return False


def renew(engine: Engine, name: str, holder: str, *, seconds: float,
          now: datetime | None = None) -> bool:
    """Extend a lease ``holder`` holds; False when it is no longer theirs."""
    now = now or datetime.now(UTC)
    table = lease_table
    with write_transaction(engine) as connection:
        return bool(connection.execute(
            update(table).where(table.c.name == name, table.c.holder == holder)
            .values(expires_at=now + timedelta(seconds=seconds))).rowcount)


def release(engine: Engine, name: str, holder: str) -> None:
    """Give a lease back (only if ``holder`` still has it)."""
    table = lease_table
    with write_transaction(engine) as connection:
        connection.execute(update(table).where(table.c.name == name, table.c.holder == holder)
                           .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC)))


def lease_holder(engine: Engine, name: str, *, now: datetime | None = None) -> str | None:
    """Who holds ``name`` now (None: free or expired)."""
    now = now or datetime.now(UTC)
    table = lease_table
    with engine.connect() as connection:
        return connection.execute(
            select(table.c.holder).where(table.c.name == name, table.c.expires_at >= now)
        ).scalar_one_or_none()


# --------------------------------------------------------------------------------------------
# crawl cycles


def plan_cycles(engine: Engine, site_ids: list[str], planned_at: datetime, *,
                now: datetime | None = None) -> list[str]:
    """Create the cycles (site, ``planned_at``) not recorded yet; the sites whose cycle this call
    created (only those are to be enqueued: a second scheduler planning the same cycle, or the
    same one after a restart, enqueues nothing)."""
    now = now or datetime.now(UTC)
    table = cycle_table
    with engine.connect() as connection:
        existing = set(connection.execute(
            select(table.c.site_id).where(table.c.planned_at == planned_at,
                                          table.c.site_id.in_(site_ids))).scalars())
    created = []
    for site_id in dict.fromkeys(site_ids):
        if site_id in existing:
            continue
        try:
            with write_transaction(engine) as connection:
                connection.execute(insert(table).values(site_id=site_id, planned_at=planned_at,
                                                        status="queued", queued_at=now))
            created.append(site_id)
        except IntegrityError:
            continue
    return created


@dataclass
class CycleClaim:
    outcome: str
    """``claimed`` (crawl it now), ``done`` (the cycle is over: do nothing), ``busy`` (another
    worker is crawling the site: try again later) or ``exhausted`` (too many attempts)."""
    cycle_id: int | None = None
    attempt: int = 0
    closed_runs: int = 0
    """Runs of an earlier attempt found ``running`` with their worker gone, closed as
    ``interrupted``."""


def claim_cycle(engine: Engine, site_id: str, planned_at: datetime, holder: str, *,
                lease_seconds: float, max_attempts: int,
                now: datetime | None = None) -> CycleClaim:
    """Before crawling ``site_id`` for the cycle planned at ``planned_at``: take the site's lease
    (one worker per site) and mark the cycle ``running``; see :class:`CycleClaim`."""
    now = now or datetime.now(UTC)
    table = cycle_table
    with engine.connect() as connection:
        cycle = connection.execute(select(table).where(
            table.c.site_id == site_id, table.c.planned_at == planned_at)).first()
    if cycle is not None and cycle.status in DONE_CYCLE_STATUSES:
        return CycleClaim("done", cycle.id, cycle.attempts)
    if not acquire(engine, site_lease(site_id), holder, seconds=lease_seconds, now=now):
        return CycleClaim("busy", cycle.id if cycle is not None else None)
    if cycle is None:
        plan_cycles(engine, [site_id], planned_at, now=now)
    with write_transaction(engine) as connection:
        cycle = connection.execute(select(table).where(
            table.c.site_id == site_id, table.c.planned_at == planned_at)).one()
        if cycle.status in DONE_CYCLE_STATUSES:
            release_after = True
            claim = CycleClaim("done", cycle.id, cycle.attempts)
        else:
            release_after = False
            # We hold the site's lease: a run of this cycle still "running" belongs to an
            # attempt whose worker is gone (its crawl process died with it).
            closed = connection.execute(
                update(run_table).where(run_table.c.site_id == site_id,
                                        run_table.c.planned_at == planned_at,
                                        run_table.c.status == "running")
                .values(status="interrupted", finished_at=now,
                        error="the worker crawling it was lost; crawled again")).rowcount
            if cycle.attempts >= max_attempts:
                connection.execute(update(table).where(table.c.id == cycle.id).values(
                    status="failed", finished_at=now,
                    error=f"gave up after {cycle.attempts} attempt(s)"))
                release_after = True
                claim = CycleClaim("exhausted", cycle.id, cycle.attempts, closed)
            else:
                connection.execute(update(table).where(table.c.id == cycle.id).values(
                    status="running", attempts=cycle.attempts + 1, worker=holder,
                    started_at=now, error=None))
                claim = CycleClaim("claimed", cycle.id, cycle.attempts + 1, closed)
    if release_after:
        release(engine, site_lease(site_id), holder)
    return claim


def finish_cycle(engine: Engine, cycle_id: int, *, holder: str, site_id: str,
                 run_id: int | None, run_status: str | None, error: str | None = None,
                 now: datetime | None = None) -> str:
    """Close an attempt from its run's status and release the site; the cycle's new status.

    A run that read the price list (``succeeded``, ``partial``) or failed on its own
    (``failed``: the site answered badly) ends the cycle; an ``interrupted`` run (hard timeout,
    worker stopping) or no run leaves it ``interrupted``, to be crawled again.
    """
    now = now or datetime.now(UTC)
    if run_status in ("succeeded", "partial"):
        status = "succeeded"
    elif run_status == "failed":
        status = "failed"
    else:
        status = "interrupted"
    table = cycle_table
    with write_transaction(engine) as connection:
        connection.execute(update(table).where(
            table.c.id == cycle_id,
            and_(table.c.worker == holder, table.c.status == "running"))
            .values(status=status, run_id=run_id, finished_at=now, error=error))
    release(engine, site_lease(site_id), holder)
    return status


def cycle_counts(engine: Engine, planned_at: datetime | None = None) -> dict[str, int]:
    """Cycles by status (of one planned time, or all)."""
    from sqlalchemy import func

    table = cycle_table
    query = select(table.c.status, func.count()).group_by(table.c.status)
    if planned_at is not None:
        query = query.where(table.c.planned_at == planned_at)
    with engine.connect() as connection:
        return {status: count for status, count in connection.execute(query)}
