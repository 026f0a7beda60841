"""Site status: one row per site with its last run, offers, trend, health and next planned run.

- ``offers``: the site's active offers (those its last complete listing showed);
- ``trend``: offers seen by the last successful run against the successful run before it
  (``+3 (+1%)``, ``-210 (-50%)``, ``0``; ``new`` after a single successful run);
- ``runs``: the statuses of the last 5 runs, oldest first, one letter each (S succeeded,
  P partial, F failed, I interrupted, R running);
- ``health``: ``ok``, or the rules of the site's open health alerts (``no_offers, blocked``);
- ``next_run_at``: from the scheduler's job store (table ``apscheduler_jobs``, job
  ``crawl:<site_id>``) while a scheduler is running (its heartbeat,
  :mod:`reports.scheduler_state`); ``None`` otherwise: the job store of a stopped scheduler
  holds times nobody will keep.

Sites are the configured ones plus every site in the database that has runs or is active.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, inspect, select

from core.config import SiteConfig
from reports.scheduler_state import scheduler_state
from storage.alerts import open_alerts
from storage.models import GOOD_RUN_STATUSES, run_table, site_table
from storage.repository import active_offer_counts

RUN_LETTERS = {"succeeded": "S", "partial": "P", "failed": "F", "interrupted": "I",
               "running": "R"}
HISTORY_RUNS = 5
JOB_TABLE = "apscheduler_jobs"



@dataclass(frozen=True, slots=True)
class SiteStatus:
    site_id: str
    family: str | None
    configured: bool
    """In the sites file (else only in the database, e.g. promoted from discovery)."""
    last_run_at: datetime | None
    last_status: str | None
    last_error: str | None
    offers: int
    trend: str
    offers_change: int | None
    """Offers of the last successful run minus those of the one before."""
    runs: str
    health: str
    open_alerts: list[str]
    next_run_at: datetime | None


def _recent_runs(connection: Any, *, good_only: bool, per_site: int) -> dict[str, list[Any]]:
    """The newest ``per_site`` runs of every site (newest first), via ROW_NUMBER()."""
    position = func.row_number().over(partition_by=run_table.c.site_id,
                                      order_by=run_table.c.id.desc()).label("position")
    inner = select(run_table.c.id, run_table.c.site_id, run_table.c.status,
                   run_table.c.started_at, run_table.c.error, run_table.c.offers_seen, position)
    if good_only:
        inner = inner.where(run_table.c.status.in_(GOOD_RUN_STATUSES))
    ranked = inner.subquery()
    rows = connection.execute(select(ranked).where(ranked.c.position <= per_site)
                              .order_by(ranked.c.site_id, ranked.c.position))
    runs: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        runs[row.site_id].append(row)
    return runs


def next_run_times(engine: Engine) -> dict[str, datetime | None]:
    """{site_id: next planned run} from APScheduler's job store; empty without one."""
    if not inspect(engine).has_table(JOB_TABLE):
        return {}
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"SELECT id, next_run_time FROM {JOB_TABLE}")
        return {
            job_id.removeprefix("crawl:"): (
                datetime.fromtimestamp(float(when), UTC) if when is not None else None)
            for job_id, when in rows if job_id.startswith("crawl:")
        }


def format_trend(latest: int | None, previous: int | None) -> str:
    if latest is None:
        return "-"
    if previous is None:
        return "new"
    delta = latest - previous
    if delta == 0:
        return "0"
    if previous == 0:
        return f"{delta:+d}"
    return f"{delta:+d} ({delta / previous * 100:+.0f}%)"


def site_status(engine: Engine, *, sites: Sequence[SiteConfig]) -> list[SiteStatus]:
    """One :class:`SiteStatus` per configured or recorded site, ordered by site id."""
    with engine.connect() as connection:
        recent = _recent_runs(connection, good_only=False, per_site=HISTORY_RUNS)
        recent_good = _recent_runs(connection, good_only=True, per_site=2)
        stored = {row.id: row for row in connection.execute(
            select(site_table.c.id, site_table.c.family, site_table.c.status))}
    offers = active_offer_counts(engine)
    planned = next_run_times(engine) if scheduler_state(engine).running else {}
    open_rules: dict[str, list[str]] = defaultdict(list)
    for alert in open_alerts(engine, kind="health"):
        if alert["site_id"]:
            open_rules[alert["site_id"]].append(alert["rule"])

    configured = {site.id: site for site in sites}
    site_ids = set(configured) | {
        site_id for site_id, row in stored.items()
        if site_id in recent or row.status == "active"}
    statuses = []
    for site_id in sorted(site_ids):
        runs = recent.get(site_id, [])
        good = recent_good.get(site_id, [])
        latest = runs[0] if runs else None
        rules = sorted(set(open_rules.get(site_id, [])))
        family = (configured[site_id].family if site_id in configured
                  else stored[site_id].family if site_id in stored else None)
        statuses.append(SiteStatus(
            site_id=site_id, family=family, configured=site_id in configured,
            last_run_at=latest.started_at if latest else None,
            last_status=latest.status if latest else None,
            last_error=latest.error if latest else None,
            offers=offers.get(site_id, 0),
            trend=format_trend(good[0].offers_seen if good else None,
                               good[1].offers_seen if len(good) > 1 else None),
            offers_change=(good[0].offers_seen - good[1].offers_seen if len(good) > 1
                           else None),
            runs="".join(RUN_LETTERS.get(run.status, "?") for run in reversed(runs)),
            health=", ".join(rules) if rules else "ok",
            open_alerts=rules,
            next_run_at=planned.get(site_id)))
    return statuses
