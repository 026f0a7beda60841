"""Market rules (``alerts.rules`` in the sites file), evaluated after every crawl.

- ``price_index_move``: the price index median (USD per 1000, :func:`reports.prices.price_index`)
  of a platform x metric on the latest day (``now``'s date) against the day ``window`` earlier;
  holds while ``|change| > threshold_pct``. A condition: sent when it starts, resolved when the
  move falls back under the threshold. Classes without an index on either day are not judged.
- ``seller_adds_platform``: a ``new`` offer event of a finished run whose offer's platform the
  site did not list before (no earlier ``new`` event of that site on that platform). Reported
  once per site and platform. A site's first listing is ``new_seller``, not this.
- ``new_seller``: a site whose first successful run (succeeded / partial) is one of the runs
  just finished; with ``include_discovered``, also every site recorded by discovery with status
  ``discovered``. Reported once per site.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Engine, distinct, func, select

from core.config_sections import (
    MarketRule,
    NewSellerRule,
    PriceIndexMoveRule,
    SellerAddsPlatformRule,
)
from core.durations import parse_duration
from reports.prices import price_index
from scheduler.alerts import Finding
from storage.models import GOOD_RUN_STATUSES, event_table, offer_table, run_table, site_table

logger = logging.getLogger(__name__)


_PERCENT = Decimal("0.01")


def window_days(window: str) -> int:
    """``7d`` -> 7, ``2w`` -> 14 (the config allows whole days and weeks only)."""
    return parse_duration(window).days


def evaluate_market_rules(engine: Engine, *, rules: Sequence[MarketRule],
                          runs: Sequence[dict[str, Any]], now: datetime) -> list[Finding]:
    """The findings of every rule; a rule that fails is logged and skipped."""
    findings: list[Finding] = []
    for rule in rules:
        try:
            if isinstance(rule, PriceIndexMoveRule):
                findings.extend(price_index_move(engine, rule, now=now))
            elif isinstance(rule, SellerAddsPlatformRule):
                findings.extend(seller_adds_platform(engine, rule, runs=runs))
            elif isinstance(rule, NewSellerRule):
                findings.extend(new_seller(engine, rule, runs=runs))
        except Exception:
            logger.exception("market rule %s failed", rule.type)
    return findings


def price_index_move(engine: Engine, rule: PriceIndexMoveRule, *,
                     now: datetime) -> list[Finding]:
    latest_day = now.date()
    earlier_day = latest_day - timedelta(days=window_days(rule.window))
    latest = {(row.platform, row.metric): row for row in price_index(
        engine, start=latest_day, end=latest_day, platform=rule.platform, metric=rule.metric,
        pricing=rule.pricing)}
    earlier = {(row.platform, row.metric): row for row in price_index(
        engine, start=earlier_day, end=earlier_day, platform=rule.platform, metric=rule.metric,
        pricing=rule.pricing)}
    findings = []
    for key in sorted(latest.keys() & earlier.keys()):
        now_row, then_row = latest[key], earlier[key]
        if min(now_row.offers, then_row.offers) < rule.min_offers:
            continue  # a median of a handful of offers moves by chance
        change = ((now_row.median - then_row.median) / then_row.median * 100).quantize(
            _PERCENT, rounding=ROUND_HALF_UP)
        platform, metric = key
        findings.append(Finding(
            kind="market", rule="price_index_move",
            dedupe_key=(f"market:price_index_move:{platform}:{metric}:{rule.window}:"
                        f"{rule.threshold_pct}"),
            holds=abs(change) > rule.threshold_pct, severity=rule.severity,
            message=(f"{platform} {metric}: price index {change:+}% over {rule.window} "
                     f"(median USD/1000 {then_row.median} on {earlier_day} -> "
                     f"{now_row.median} on {latest_day}; threshold {rule.threshold_pct}%)"),
            details={"platform": platform, "metric": metric, "window": rule.window,
                     "threshold_pct": rule.threshold_pct, "change_pct": change,
                     "from_day": earlier_day, "to_day": latest_day,
                     "from_median": then_row.median, "to_median": now_row.median,
                     "from_offers": then_row.offers, "to_offers": now_row.offers,
                     "from_sellers": then_row.sellers, "to_sellers": now_row.sellers}))
    return findings


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _platform_counts(connection: Any, *, site_id: str, run_condition: Any) -> dict[str, int]:
    """{platform: new offers} of the site's ``new`` events matching ``run_condition``."""
    rows = connection.execute(
        select(offer_table.c.platform, func.count(distinct(offer_table.c.id)))
        .join(event_table, event_table.c.offer_id == offer_table.c.id)
        .where(event_table.c.site_id == site_id, event_table.c.kind == "new",
               offer_table.c.platform.is_not(None), run_condition)
        .group_by(offer_table.c.platform))
    return {platform: count for platform, count in rows}


def seller_adds_platform(engine: Engine, rule: SellerAddsPlatformRule, *,
                         runs: Sequence[dict[str, Any]]) -> list[Finding]:
    findings = []
    with engine.connect() as connection:
        for run in runs:
            if run["status"] not in GOOD_RUN_STATUSES or (rule.site and run["site_id"] != rule.site):
                continue
            site_id = run["site_id"]
            added = _platform_counts(connection, site_id=site_id,
                                     run_condition=event_table.c.run_id == run["id"])
            if not added:
                continue
            before = _platform_counts(connection, site_id=site_id,
                                      run_condition=event_table.c.run_id < run["id"])
            if not before:
                continue  # the site's first listing: that is new_seller's news
            for platform in sorted(added.keys() - before.keys()):
                metrics = sorted(m for (m,) in connection.execute(
                    select(offer_table.c.metric).distinct()
                    .join(event_table, event_table.c.offer_id == offer_table.c.id)
                    .where(event_table.c.run_id == run["id"], event_table.c.kind == "new",
                           offer_table.c.platform == platform,
                           offer_table.c.metric.is_not(None))))
                findings.append(Finding(
                    kind="market", rule="seller_adds_platform", one_off=True, holds=True,
                    dedupe_key=f"market:seller_adds_platform:{site_id}:{platform}",
                    severity=rule.severity, site_id=site_id, run_id=run["id"],
                    message=(f"{site_id} now sells {platform} ({added[platform]} new offer(s)"
                             + (f": {', '.join(metrics)}" if metrics else "") + ")"),
                    details={"platform": platform, "new_offers": added[platform],
                             "metrics": metrics, "platforms_before": sorted(before)}))
    return findings


def new_seller(engine: Engine, rule: NewSellerRule, *,
               runs: Sequence[dict[str, Any]]) -> list[Finding]:
    findings = []
    with engine.connect() as connection:
        first_crawl = connection.execute(select(func.min(run_table.c.started_at))).scalar_one()
        for run in runs:
            if run["status"] not in GOOD_RUN_STATUSES:
                continue
            if (rule.baseline_first_day and first_crawl is not None
                    and _aware(run["started_at"]).date() == _aware(first_crawl).date()):
                continue  # the sellers of the first crawl day are the baseline, not news
            earlier_good = connection.execute(
                select(func.count()).select_from(run_table)
                .where(run_table.c.site_id == run["site_id"], run_table.c.id < run["id"],
                       run_table.c.status.in_(GOOD_RUN_STATUSES))).scalar_one()
            if earlier_good:
                continue
            site = connection.execute(select(site_table.c.url, site_table.c.family)
                                      .where(site_table.c.id == run["site_id"])).one()
            findings.append(Finding(
                kind="market", rule="new_seller", one_off=True, holds=True,
                dedupe_key=f"market:new_seller:{run['site_id']}", severity=rule.severity,
                site_id=run["site_id"], run_id=run["id"],
                message=(f"new seller {run['site_id']} ({site.family}, {site.url}): first "
                         f"successful crawl, {run['offers_seen']} offers"),
                details={"source": "first_successful_run", "url": site.url,
                         "family": site.family, "offers_seen": run["offers_seen"]}))
        if rule.include_discovered:
            rows = connection.execute(
                select(site_table.c.id, site_table.c.url, site_table.c.family,
                       site_table.c.discovered_via, site_table.c.first_seen_at)
                .where(site_table.c.status == "discovered").order_by(site_table.c.id))
            for row in rows:
                findings.append(Finding(
                    kind="market", rule="new_seller", one_off=True, holds=True,
                    dedupe_key=f"market:new_seller:{row.id}", severity=rule.severity,
                    site_id=row.id,
                    message=(f"new seller {row.id} ({row.family}, {row.url}) discovered"
                             + (f" via {row.discovered_via}" if row.discovered_via else "")),
                    details={"source": "discovery", "url": row.url, "family": row.family,
                             "discovered_via": row.discovered_via,
                             "first_seen_at": row.first_seen_at}))
    return findings
