"""Raw items as seen -> normalized offers, counters and rejections (priority 300).

Listings recognized as unchanged (``pipelines.recognize_pipeline``) arrive as
``ConfirmedOffer`` and pass untouched."""

from __future__ import annotations

from typing import Any

from core.offers import Rejection
from crawlers.items import RawCounter, RawOffer, RawRejection
from pipelines.base import CrawlerPipeline
from pipelines.fingerprint import raw_fingerprint
from pipelines.normalize import normalize_counter, normalize_offer, usd_gap_reason


class NormalizePipeline(CrawlerPipeline):
    stage = "normalization"

    def process(self, item: Any) -> Any:
        spider = self.spider
        if isinstance(item, RawOffer):
            # The currency the site states (API balance, page-wide switcher) wins over config.
            site_currency = spider.outcome.stated_currency or spider.site.currency
            result = normalize_offer(item, site_currency=site_currency,
                                     observed_at=spider.observed_at)
            if isinstance(result, Rejection):
                self.stats.inc_value("offers/rejected/normalize")
            else:
                # Stored with the offer: the next crawl recognizes the same record.
                result.raw_fingerprint = raw_fingerprint(item, site_currency=site_currency)
                gap = usd_gap_reason(result)
                if gap:  # kept, but without a USD value: counted, never silent
                    self.stats.inc_value(gap)
            return result
        if isinstance(item, RawCounter):
            return normalize_counter(item)
        if isinstance(item, RawRejection):
            self.stats.inc_value("offers/rejected/extract")
            offer_id = str(item.site_offer_id).strip() if item.site_offer_id is not None else ""
            return Rejection(site_offer_id=offer_id or None, reason=item.reason, raw=item.raw)
        return item
