"""Validation of normalized offers: absurd values become rejections with a reason (priority 500)."""

from __future__ import annotations

from typing import Any

from core.offers import NormalizedOffer, Rejection
from pipelines.base import CrawlerPipeline
from pipelines.validate import validate_offer


class ValidatePipeline(CrawlerPipeline):
    stage = "validation"

    def process(self, item: Any) -> Any:
        if not isinstance(item, NormalizedOffer):
            return item
        reason = validate_offer(item)
        if reason is None:
            return item
        self.stats.inc_value("offers/rejected/validate")
        return Rejection(site_offer_id=item.site_offer_id, reason=reason,
                         raw={"name": item.name_raw, "price": item.price_raw,
                              "currency": item.currency, "min": item.min_quantity,
                              "max": item.max_quantity})
