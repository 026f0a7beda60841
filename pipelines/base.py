"""Common plumbing for the Scrapy item pipelines (one job per pipeline, see crawlers.settings)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from core.offers import Rejection
from crawlers.items import ItemBatch


class CrawlerPipeline:
    """Keeps the crawler (for its spider, settings and stats), the Scrapy 2.13+ way.

    Subclasses implement :meth:`process`, called for each item, and for each item of an
    :class:`~crawlers.items.ItemBatch` (a whole listing read at once). An exception inside it never drops the item (Scrapy
    would log it and carry on, and the run would look complete while the offer vanished, to
    be marked removed): the item becomes a :class:`Rejection` saying which stage failed and why,
    so it is stored as rejected, counted, and still counts as seen on the seller's list."""

    stage = "pipeline"
    """The step's name in rejection reasons ("normalization failed: ...")."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    @property
    def spider(self) -> Any:
        return self.crawler.spider

    def process(self, item: Any) -> Any:
        return item

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ItemBatch):  # a whole listing: each item as if it came alone
            kept = []
            for one in item.items:
                try:
                    kept.append(self.process_one(one))
                except DropItem:
                    continue
            item.items = kept
            return item
        return self.process_one(item)

    def process_one(self, item: Any) -> Any:
        try:
            return self.process(item)
        except DropItem:
            raise
        except Exception as error:
            self.stats.inc_value("offers/rejected/pipeline_error")
            spider = self.spider
            if spider is not None:
                spider.logger.exception("%s of an item failed; stored as a rejection",
                                        self.stage)
            return rejection_for_error(item, error, stage=self.stage)


def rejection_for_error(item: Any, error: BaseException, *, stage: str) -> Rejection:
    """The rejection an item becomes when a pipeline step raised on it: same offer id as the
    offer would have had (so the listing keeps it as seen), the error as the reason."""
    # Imported here: normalize pulls in the taxonomy and attribute tables.
    from crawlers.items import RawOffer
    from pipelines.normalize import offer_id_and_record

    message = str(error) or type(error).__name__
    reason = f"{stage} failed: {type(error).__name__}: {message}"[:1000]
    if isinstance(item, Rejection):
        return item
    if isinstance(item, RawOffer):
        site_offer_id, raw = offer_id_and_record(item)
        return Rejection(site_offer_id=site_offer_id, reason=reason, raw=raw)
    site_offer_id = getattr(item, "site_offer_id", None)
    raw = {key: str(getattr(item, key)) for key in ("name_raw", "price_raw", "currency",
                                                    "min_quantity", "max_quantity", "name",
                                                    "value")
           if getattr(item, key, None) is not None}
    return Rejection(site_offer_id=str(site_offer_id).strip() if site_offer_id else None,
                     reason=reason, raw=raw or {"item": repr(item)[:500]})
