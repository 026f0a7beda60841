"""Unchanged listings recognized before they are normalized (priority 200).

A raw offer whose fingerprint (``pipelines.fingerprint``: every raw field normalization reads,
the site currency and the normalizer's version) is the one stored with the site's active offer
becomes a :class:`~core.offers.ConfirmedOffer`: the later pipelines pass it on untouched and the
store only confirms the offer (``last_confirmed_at``, ``last_seen_at``), counted unchanged. Any
other raw offer goes on to normalization, which stores its fingerprint with it. The site's
fingerprints are read once per crawl, at the first offer.

If the stored offer changed between this read and the store (another crawl of the same site
stored first), the store refuses the confirmation (``storage.repository.StaleConfirmation``)
and :func:`normalize_in_full` normalizes that listing after all.
"""

from __future__ import annotations

from typing import Any

from core.offers import ConfirmedOffer, NormalizedOffer, Rejection
from crawlers.items import RawOffer
from pipelines.base import CrawlerPipeline
from pipelines.fingerprint import raw_fingerprint
from storage import repository
from storage.db import shared_engine


def site_currency_of(spider: Any) -> str | None:
    """The currency the site states (API balance, page-wide switcher), else its configured one:
    what normalization prices an offer in when the offer names none."""
    return spider.outcome.stated_currency or spider.site.currency


def listing_id(raw: RawOffer) -> str | None:
    """The ``site_offer_id`` the offer is stored under (the seller's id, else the fallback of
    :mod:`pipelines.normalize`)."""
    from pipelines.normalize import offer_id_and_record

    raw_id: Any = raw.site_offer_id
    if raw_id is not None and not isinstance(raw_id, bool):
        text = str(raw_id).strip()
        if text:
            return text
    return offer_id_and_record(raw)[0]


class RecognizePipeline(CrawlerPipeline):
    stage = "recognition"

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.engine = shared_engine(crawler.settings.get("CLICKFARM_DATABASE_URL"))
        self.stored: dict[str, str] | None = None

    def process(self, item: Any) -> Any:
        if not isinstance(item, RawOffer):
            return item
        try:
            return self.recognize(item)
        except Exception:  # never a rejection for a shortcut that failed: normalize in full
            self.stats.inc_value("offers/recognize_failed")
            self.spider.logger.exception("recognizing an unchanged listing failed")
            return item

    def recognize(self, item: RawOffer) -> RawOffer | ConfirmedOffer:
        spider = self.spider
        if self.stored is None:
            self.stored = {}  # read once: if the read fails, every listing is normalized
            self.stored = repository.offer_fingerprints(self.engine, site_id=spider.site.id)
        if not self.stored:
            return item  # a first crawl: nothing to recognize
        site_currency = site_currency_of(spider)
        site_offer_id = listing_id(item)
        if site_offer_id is None:
            return item
        fingerprint = raw_fingerprint(item, site_currency=site_currency)
        if self.stored.get(site_offer_id) != fingerprint:
            return item
        self.stats.inc_value("offers/recognized")
        return ConfirmedOffer(site_offer_id=site_offer_id, raw_fingerprint=fingerprint,
                              raw=item, site_currency=site_currency)


def normalize_in_full(confirmed: ConfirmedOffer, *, observed_at: Any) -> NormalizedOffer | Rejection:
    """What normalization and validation make of a confirmed listing (when its confirmation
    came too late: the stored offer had changed)."""
    from pipelines.normalize import normalize_offer
    from pipelines.validate_pipeline import rejection_if_invalid

    result = normalize_offer(confirmed.raw, site_currency=confirmed.site_currency,
                             observed_at=observed_at)
    if isinstance(result, NormalizedOffer):
        result.raw_fingerprint = confirmed.raw_fingerprint
        return rejection_if_invalid(result) or result
    return result
