"""Run health: is every site crawled on time, and did its last crawl look like the ones before?

:func:`after_run` is called by the scheduler (and ``clickfarm crawl``) after every crawl process
ends. For each finished run it compares the run with the site's earlier runs (``crawl_run``):

=========================  ========  ========================================================
rule                       severity  holds when
=========================  ========  ========================================================
``no_offers``              critical  the run stored 0 offers and the site's last good run
                                     (succeeded / partial) had offers
``offers_halved``          warning   a good run saw more than ``offers_drop_share`` (0.5)
                                     fewer offers than the median of the site's last
                                     ``history_runs`` (5) good runs with offers
``rejection_rate``         warning   rejected / (seen + rejected) > ``rejection_rate`` (10%)
``consecutive_failures``   critical  the last ``consecutive_failures`` (2) runs all failed
                                     (interrupted runs are skipped: a shutdown is no verdict
                                     on the site)
``blocked``                critical  the crawl met HTTP 403 / 429 or a captcha page: stats
                                     ``blocked/http_403``, ``blocked/http_429``,
                                     ``blocked/captcha``, or "HTTP 403" / "HTTP 429" /
                                     "captcha" in the run's error
``stale``                  warning   no successful run of a scheduled site within
                                     ``stale_intervals`` (3) schedule intervals plus the
                                     jitter; evaluated for every scheduled site on every call
=========================  ========  ========================================================

A rule that cannot be judged on a run (``offers_halved`` on a failed run, ``no_offers`` for a
site that never had offers) keeps its previous state. Interrupted and still-running runs are
not judged. Then the market rules run (:mod:`scheduler.market_rules`), and the findings become
alerts (:mod:`scheduler.alerts`): stored, deduplicated, sent to the configured sinks
(:mod:`scheduler.sinks`). A condition is sent once when it starts and once more, as an ``info``
"resolved" alert, when it clears (``alerts.notify_resolved``, default true).

For a cron site the intervals are the cron's own: stale after its ``stale_intervals``-th fire
time following the last success (so the weekend of a weekday cron counts as one interval); a
site with no successful run yet is judged from the time it was first recorded
(``site.first_seen_at``); a configured site with no row in ``site`` (never crawled) is not
judged. A site whose schedule cannot be read is skipped (logged), the others are still judged;
a ``stale`` alert still firing for a site no longer scheduled resolves.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from core.config import ProjectConfig, Schedule, SiteConfig
from core.config_sections import HealthThresholds
from core.duration_text import format_duration
from core.durations import parse_duration
from scheduler.alerts import Finding, deliver, record_findings
from scheduler.sinks import build_sinks
from scheduler.triggers import crontab_trigger
from storage.alerts import open_alerts
from storage.models import GOOD_RUN_STATUSES, run_table, site_table

logger = logging.getLogger(__name__)


JUDGED_STATUSES = ("succeeded", "partial", "failed")
BLOCKED_STATS = ("blocked/http_403", "blocked/http_429", "blocked/captcha")
_BLOCKED_ERROR = re.compile(r"\bHTTP (403|429)\b|captcha", re.IGNORECASE)
# Enough earlier runs for the median and any failure streak a config may ask for.
_HISTORY_LIMIT = 200



def schedule_interval(schedule: Schedule, *, now: datetime) -> timedelta | None:
    """How often a site is crawled: its ``interval``, or for a ``cron`` the gap between its
    next two fire times after ``now``. ``None`` when it has neither."""
    if schedule.cron:
        trigger = crontab_trigger(schedule.cron)
        first = trigger.get_next_fire_time(None, now)
        second = trigger.get_next_fire_time(first, first) if first else None
        return second - first if first and second else None
    if schedule.interval:
        return parse_duration(schedule.interval)
    return None


# --------------------------------------------------------------------------------------------
# the entry point


def after_run(engine: Engine, *, run_ids: list[int], config: ProjectConfig,
              now: datetime) -> list[int]:
    """Judge the finished runs, check staleness and the market rules, store and send alerts.

    Returns the ids of the alerts created (firing, resolved and event alerts). A failing check
    is logged and skipped, a failing sink is recorded in the alert's ``deliveries``; only a
    database failure while storing the alerts raises.
    """
    from scheduler.market_rules import evaluate_market_rules

    thresholds = config.alerts.health
    findings: list[Finding] = []
    runs = _finished_runs(engine, run_ids)
    for run in runs:
        try:
            findings.extend(judge_run(engine, run, thresholds))
        except Exception:
            logger.exception("health checks of run %s failed", run["id"])
    try:
        findings.extend(stale_findings(engine, config=config, now=now))
    except Exception:
        logger.exception("the stale-site check failed")
    findings.extend(evaluate_market_rules(engine, rules=config.alerts.rules, runs=runs, now=now))
    recorded = record_findings(engine, findings, now=now,
                               notify_resolved=config.alerts.notify_resolved)
    if recorded:
        sinks = build_sinks(config.alerts.sinks)
        try:
            deliver(engine, recorded, sinks)
        finally:
            for sink in sinks:
                close = getattr(sink, "close", None)
                if close:
                    close()
    return [alert.alert_id for alert in recorded]


# --------------------------------------------------------------------------------------------
# per-run checks


def _finished_runs(engine: Engine, run_ids: Sequence[int]) -> list[dict[str, Any]]:
    if not run_ids:
        return []
    with engine.connect() as connection:
        rows = connection.execute(select(run_table).where(run_table.c.id.in_(list(run_ids)))
                                  .order_by(run_table.c.id))
        return [dict(row._mapping) for row in rows]


def _earlier_runs(engine: Engine, run: dict[str, Any]) -> list[dict[str, Any]]:
    """The site's finished runs before ``run``, newest first."""
    query = (select(run_table.c.id, run_table.c.status, run_table.c.started_at,
                    run_table.c.offers_seen, run_table.c.offers_rejected)
             .where(run_table.c.site_id == run["site_id"], run_table.c.id < run["id"],
                    run_table.c.status != "running")
             .order_by(run_table.c.id.desc()).limit(_HISTORY_LIMIT))
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def judge_run(engine: Engine, run: dict[str, Any],
              thresholds: HealthThresholds) -> list[Finding]:
    """The health findings of one finished run (nothing for interrupted or running runs)."""
    if run["status"] not in JUDGED_STATUSES:
        return []
    earlier = _earlier_runs(engine, run)
    site_id, run_id = run["site_id"], run["id"]
    seen, rejected = run["offers_seen"], run["offers_rejected"]
    findings: list[Finding] = []

    def finding(rule: str, holds: bool, severity: str, message: str, **details: Any) -> Finding:
        return Finding(kind="health", rule=rule, dedupe_key=f"health:{rule}:{site_id}",
                       holds=holds, message=f"{site_id}: {message}", severity=severity,
                       site_id=site_id, run_id=run_id, details=details)

    last_good = next((r for r in earlier if r["status"] in GOOD_RUN_STATUSES), None)
    if last_good is not None and last_good["offers_seen"] > 0:
        findings.append(finding(
            "no_offers", seen == 0, "critical",
            f"{seen} offers in run {run_id} ({run['status']}) where run {last_good['id']} saw "
            f"{last_good['offers_seen']}" + (f": {_short(run['error'])}" if run["error"] else ""),
            offers_seen=seen, previous_run_id=last_good["id"],
            previous_offers_seen=last_good["offers_seen"], error=run["error"]))

    baseline = [r["offers_seen"] for r in earlier
                if r["status"] in GOOD_RUN_STATUSES and r["offers_seen"] > 0][:thresholds.history_runs]
    if run["status"] in GOOD_RUN_STATUSES and seen > 0 and baseline:
        median = statistics.median(baseline)
        drop = (median - seen) / median
        findings.append(finding(
            "offers_halved", drop > thresholds.offers_drop_share, "warning",
            f"{seen} offers in run {run_id}, {_percent(-drop)} against the median {median:g} "
            f"of the last {len(baseline)} good runs",
            offers_seen=seen, median=median, runs_compared=len(baseline),
            drop_share=round(drop, 4), threshold=thresholds.offers_drop_share))

    if seen + rejected > 0:
        rate = rejected / (seen + rejected)
        findings.append(finding(
            "rejection_rate", rate > thresholds.rejection_rate, "warning",
            f"{rejected} of {seen + rejected} records rejected ({_percent(rate)}) in run {run_id}",
            rejected=rejected, seen=seen, rate=round(rate, 4),
            threshold=thresholds.rejection_rate))

    streak = 0
    for status in [run["status"], *(r["status"] for r in earlier)]:
        if status == "interrupted":
            continue
        if status != "failed":
            break
        streak += 1
    findings.append(finding(
        "consecutive_failures", streak >= thresholds.consecutive_failures, "critical",
        f"{streak} failed run(s) in a row, the last: {_short(run['error']) or run['status']}"
        if streak else f"run {run_id} {run['status']}",
        failed_in_a_row=streak, threshold=thresholds.consecutive_failures, error=run["error"]))

    signals = blocked_signals(run)
    findings.append(finding(
        "blocked", bool(signals), "critical",
        f"blocked in run {run_id}: {', '.join(signals)}" if signals else "not blocked",
        signals=signals))
    return findings


def blocked_signals(run: dict[str, Any]) -> list[str]:
    """What says the site blocked the crawler: stats counters and the error text."""
    stats = run.get("stats") or {}
    signals = [f"{key.split('/', 1)[1]} x{stats[key]}" for key in BLOCKED_STATS
               if _positive(stats.get(key))]
    for match in sorted({m.group(0).upper() for m in _BLOCKED_ERROR.finditer(run["error"] or "")}):
        name = "captcha" if match == "CAPTCHA" else "http_" + match.split()[1]
        if not any(signal.startswith(name + " ") for signal in signals):
            signals.append(f"{name} (error text)")
    return signals


def _positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def _short(text: str | None, limit: int = 200) -> str:
    """An error for a one-line message (the full text stays in the run and the details)."""
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _percent(share: float) -> str:
    return f"{share * 100:+.0f}%" if share < 0 else f"{share * 100:.0f}%"


# --------------------------------------------------------------------------------------------
# staleness


@dataclass(frozen=True, slots=True)
class ScheduledSite:
    site_id: str
    schedule: Schedule


def scheduled_sites(engine: Engine, config: ProjectConfig) -> list[ScheduledSite]:
    """The enabled sites of the config, plus the sites promoted from discovery (active rows of
    ``site`` found by something other than the config). A promoted site's schedule is the one
    stored with its last crawl (``site.config``), else the default schedule."""
    sites = [ScheduledSite(site.id, site.schedule) for site in config.sites if site.enabled]
    known = {site.site_id for site in sites}
    query = select(site_table).where(
        site_table.c.status == "active", site_table.c.discovered_via.is_not(None),
        site_table.c.discovered_via != "config")
    with engine.connect() as connection:
        for row in connection.execute(query):
            if row.id in known:
                continue
            stored = {key: value for key, value in (row.config or {}).items()
                      if key in SiteConfig.model_fields}
            stored.update(id=row.id, url=row.url, family=row.family, currency=row.currency)
            try:
                site = SiteConfig.model_validate(stored)
            except Exception:  # an unreadable stored config is the discovery code's concern
                logger.warning("site %s: stored config unreadable, not checked for staleness",
                               row.id)
                continue
            if site.enabled:
                sites.append(ScheduledSite(site.id, site.schedule))
    return sites


def stale_findings(engine: Engine, *, config: ProjectConfig, now: datetime) -> list[Finding]:
    """A ``stale`` finding for every scheduled site that has a row in ``site``."""
    sites = scheduled_sites(engine, config)
    findings = _stale_of_unscheduled_sites(engine, {site.site_id for site in sites})
    if not sites:
        return findings
    ids = [site.site_id for site in sites]
    with engine.connect() as connection:
        first_seen = {site_id: at for site_id, at in connection.execute(
            select(site_table.c.id, site_table.c.first_seen_at).where(site_table.c.id.in_(ids)))}
        last_good = {site_id: at for site_id, at in connection.execute(
            select(run_table.c.site_id, func.max(run_table.c.started_at))
            .where(run_table.c.site_id.in_(ids), run_table.c.status.in_(GOOD_RUN_STATUSES))
            .group_by(run_table.c.site_id))}
    stale_intervals = config.alerts.health.stale_intervals
    for site in sites:
        if site.site_id not in first_seen:
            continue
        try:
            interval = schedule_interval(site.schedule, now=now)
            jitter = (parse_duration(site.schedule.jitter) if site.schedule.jitter
                      else timedelta(0))
        except ValueError as error:
            # A typo in one site's schedule (the scheduler keeps that site's last good job)
            # must not stop the stale check of every other site.
            logger.warning("site %s: schedule unreadable, not checked for staleness: %s",
                           site.site_id, error)
            continue
        if not interval:
            continue
        since = last_good.get(site.site_id)
        reference = since or first_seen[site.site_id]
        if site.schedule.cron:
            # Counted in the cron's own fire times after the reference: the weekend of a
            # weekday cron is one interval, not the three days "3 x the next gap" would say.
            span = _cron_span(site.schedule.cron, reference, stale_intervals)
            if span is None:
                continue
            interval = span / stale_intervals
        allowance = interval * stale_intervals + jitter
        age = now - reference
        when = reference.isoformat(timespec="minutes")
        what = (f"last successful run {when}" if since
                else f"no successful run since it was added {when}")
        findings.append(Finding(
            kind="health", rule="stale", dedupe_key=f"health:stale:{site.site_id}",
            holds=age > allowance, severity="warning", site_id=site.site_id,
            message=(f"{site.site_id}: {what}, {format_duration(age)} ago (allowed: "
                     f"{stale_intervals:g} × {format_duration(interval)}"
                     + (f" + jitter {format_duration(jitter)})" if jitter else ")")),
            details={"last_success_at": since, "age_seconds": int(age.total_seconds()),
                     "interval_seconds": int(interval.total_seconds()),
                     "allowance_seconds": int(allowance.total_seconds())}))
    return findings


def _cron_span(cron: str, start: datetime, intervals: float) -> timedelta | None:
    """From ``start`` to the cron's ``intervals``-th fire time after it (a fraction of an
    interval is that share of the next gap); ``None`` when the cron fires no more."""
    trigger = crontab_trigger(cron)
    whole = int(intervals)
    fire = start
    for _ in range(whole):
        next_fire: datetime | None = trigger.get_next_fire_time(fire, fire)
        if next_fire is None:
            return None
        fire = next_fire
    if intervals > whole:
        following = trigger.get_next_fire_time(fire, fire)
        if following is None:
            return None
        fire = fire + (following - fire) * (intervals - whole)
    return fire - start


def _stale_of_unscheduled_sites(engine: Engine, scheduled: set[str]) -> list[Finding]:
    """A ``stale`` alert still firing for a site no longer scheduled (removed from the sites
    file, disabled, retired) would fire forever: nothing judges that site again. It resolves."""
    return [Finding(kind="health", rule="stale", dedupe_key=alert["dedupe_key"], holds=False,
                    severity="warning", site_id=alert["site_id"],
                    message=f"{alert['site_id']}: no longer scheduled (removed from the sites "
                            f"file or disabled)", details={"scheduled": False})
            for alert in open_alerts(engine, kind="health")
            if alert["rule"] == "stale" and alert["site_id"] not in scheduled]
