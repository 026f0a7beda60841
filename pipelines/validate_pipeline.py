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
        rejection = rejection_if_invalid(item)
        if rejection is None:
            return item
        self.stats.inc_value("offers/rejected/validate")
        return rejection


def rejection_if_invalid(offer: NormalizedOffer) -> Rejection | None:
    """The rejection a normalized offer becomes when it fails validation, else ``None``."""
    reason = validate_offer(offer)
    if reason is None:
        return None
    return Rejection(site_offer_id=offer.site_offer_id, reason=reason,
                     raw={"name": offer.name_raw, "price": offer.price_raw,
                          "currency": offer.currency, "min": offer.min_quantity,
                          "max": offer.max_quantity})
