"""Storage batching: one crawl of one site is stored whole, in one transaction, or not at all
(priority 900).

Items are collected while the spider runs; when it closes, the run's final status is decided
from what the spider saw (``CrawlOutcome``) and everything is written at once:

- price list read -> ``complete_run`` (change-only periods, events, rejections, counters);
  ``succeeded``, or ``partial`` when secondary pages (landing counters) failed;
- price list not read (HTTP error, invalid JSON, API error body, page without a table, missing
  API key) -> ``failed`` with the message; the rejections are still stored;
- an empty price list where the last successful run saw offers -> ``failed``: a seller does not
  drop its whole catalogue overnight, a broken page does, so nothing is marked removed;
- every offer rejected (e.g. the API states an unknown currency) -> ``failed``, rejections kept;
- a paginated listing read only in part (a later page failed, the page bound was reached:
  ``CrawlOutcome.incomplete``) -> ``partial``, and offers not seen are NOT marked removed;
- the crawl stopped early (SIGTERM, timeout) -> ``interrupted``, nothing half-written.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from core.offers import ConfirmedOffer, CounterValue, NormalizedOffer, Rejection
from pipelines.base import CrawlerPipeline
from storage import repository
from storage.db import shared_engine

STATS_KEPT = ("downloader/request_count", "downloader/response_count", "offers/extracted",
              "offers/normalized", "offers/rejected/extract", "offers/rejected/normalize",
              "offers/rejected/validate", "listing/errors", "secondary/errors",
              "retry/count", "retry/max_reached", "elapsed_time_seconds",
              "listing/incomplete", "offsite/redirects_refused", "offsite/filtered",
              "offers/over_limit", "offers/recognized", "offers/confirmation_stale")
# Prefixes of stats kept whole: field coverage, USD conversion, and the block signals the health
# checks read (``blocked/http_403``, ``blocked/http_429``, ``blocked/captcha``,
# ``retry_after/...``, see crawlers.middlewares), and the spa family's browser costs
# (``browser/peak_rss_bytes``, pages, ``playwright/request_count/aborted``).
STATS_PREFIXES_KEPT = ("field/", "usd/", "blocked/", "retry_after/", "browser/", "playwright/")


class StorePipeline(CrawlerPipeline):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        # Normalized offers and confirmed ones (recognized unchanged), in listing order.
        self.offers: list[NormalizedOffer | ConfirmedOffer] = []
        self.rejections: list[Rejection] = []
        self.counters: list[CounterValue] = []
        self.run_id: int | None = None
        self.opened_monotonic = time.monotonic()
        self.engine = shared_engine(crawler.settings.get("CLICKFARM_DATABASE_URL"))
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    def open_spider(self) -> None:
        spider = self.spider
        site = spider.site
        self.opened_monotonic = time.monotonic()
        # The run the parent created for this site (crawlers.runner): the child only completes it.
        given = (self.crawler.settings.getdict("CLICKFARM_RUN_IDS") or {}).get(site.id)
        if given is not None:
            self.run_id = spider.run_id = int(given)
            return
        repository.upsert_site(self.engine, site_id=site.id, url=site.url, family=site.family,
                               currency=site.currency, now=spider.observed_at,
                               config=site.public_dict())
        # What started the crawl and when the scheduler planned it (``crawlers.runner`` flags).
        settings = self.crawler.settings
        planned_at = settings.get("CLICKFARM_PLANNED_AT")
        self.opened_monotonic = time.monotonic()
        self.run_id = repository.start_run(
            self.engine, site_id=site.id, started_at=spider.observed_at, pid=os.getpid(),
            trigger=settings.get("CLICKFARM_TRIGGER") or "manual",
            planned_at=datetime.fromisoformat(planned_at) if planned_at else None)
        spider.run_id = self.run_id

    stage = "storage batching"

    def process(self, item: Any) -> Any:
        if isinstance(item, (NormalizedOffer, ConfirmedOffer)):
            self.offers.append(item)
        elif isinstance(item, Rejection):
            self.rejections.append(item)
        elif isinstance(item, CounterValue):
            self.counters.append(item)
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.run_id is None:
            return
        outcome = spider.outcome
        stats = {key: value for key, value in (self.stats.get_stats() or {}).items()
                 if key in STATS_KEPT or key.startswith(STATS_PREFIXES_KEPT)}
        stats = {key: (value.isoformat() if isinstance(value, datetime) else value)
                 for key, value in stats.items()}
        stats["notes"] = outcome.notes[:20]
        stats["currency_stated"] = outcome.stated_currency
        # Observation time plus the real duration: right for live crawls and for replays whose
        # observed_at is a simulated moment (the duration stays meaningful in v_run_summary).
        finished_at = spider.observed_at + timedelta(
            seconds=time.monotonic() - self.opened_monotonic)
        common = dict(engine=self.engine, run_id=self.run_id, finished_at=finished_at,
                      rejections=self.rejections, stats=stats)
        try:
            if reason != "finished":
                repository.fail_run(**common, status="interrupted",
                                    error=f"crawl stopped before the end ({reason})")
            elif not outcome.listing_read:
                errors = outcome.listing_errors or ["the price list was not fetched"]
                repository.fail_run(**common, error="; ".join(errors))
            elif not self.offers and self.rejections:
                repository.fail_run(**common, error=(
                    f"every offer was rejected ({len(self.rejections)}), e.g. "
                    f"{self.rejections[0].reason}"))
            elif not self.offers and self._had_offers_before(spider.site.id):
                repository.fail_run(**common, error=(
                    f"empty price list: 0 offers where the last successful run saw "
                    f"{self._previous_count}; nothing was marked removed"))
            else:
                # A listing read in part (CrawlOutcome.incomplete) is partial and removes nothing.
                incomplete = list(getattr(outcome, "incomplete", []))
                problems = incomplete + outcome.other_errors
                status = "partial" if problems else "succeeded"
                options = dict(run_id=self.run_id, site_id=spider.site.id,
                               observed_at=spider.observed_at, counters=self.counters,
                               status=status, pages=outcome.pages,
                               error="; ".join(problems) or None, stats=stats,
                               complete_listing=not incomplete, finished_at=finished_at)
                try:
                    repository.complete_run(self.engine, offers=self.offers,
                                            rejections=self.rejections, **options)
                except repository.StaleConfirmation as stale:
                    # Confirmed against an offer another crawl changed since: normalize those.
                    self.stats.inc_value("offers/confirmation_stale", len(stale.site_offer_ids))
                    stats["offers/confirmation_stale"] = len(stale.site_offer_ids)
                    self._normalize_stale(stale.site_offer_ids)
                    repository.complete_run(self.engine, offers=self.offers,
                                            rejections=self.rejections, **options)
        except Exception as error:  # the batch was rolled back: say why on the run
            spider.logger.exception("storing the crawl of %s failed", spider.site.id)
            repository.fail_run(self.engine, run_id=self.run_id, finished_at=finished_at,
                                error=f"storage failed, nothing stored: {error}",
                                stats=stats)

    def _normalize_stale(self, site_offer_ids: frozenset[str]) -> None:
        from pipelines.recognize_pipeline import normalize_in_full

        offers: list[NormalizedOffer | ConfirmedOffer] = []
        for offer in self.offers:
            if isinstance(offer, ConfirmedOffer) and offer.site_offer_id in site_offer_ids:
                result = normalize_in_full(offer, observed_at=self.spider.observed_at)
                if isinstance(result, Rejection):
                    self.rejections.append(result)
                    continue
                offer = result
            offers.append(offer)
        self.offers = offers

    def _had_offers_before(self, site_id: str) -> bool:
        self._previous_count = repository.last_successful_offer_count(self.engine,
                                                                      site_id=site_id)
        return bool(self._previous_count)
