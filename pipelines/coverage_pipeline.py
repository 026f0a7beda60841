"""Field coverage counted in the crawl stats, so data quality is measured every run (priority 800).

``field/<name>/missing`` counts offers where a normalized field stayed unknown (``None``); a
taxonomy gap or a broken column mapping shows up here before it shows up in a report.
"""

from __future__ import annotations

from typing import Any

from core.offers import NormalizedOffer
from pipelines.base import CrawlerPipeline

TRACKED_FIELDS = ("platform", "metric", "usd_per_1000", "min_quantity", "max_quantity")


class FieldCoveragePipeline(CrawlerPipeline):
    stage = "field coverage"

    def process(self, item: Any) -> Any:
        if isinstance(item, NormalizedOffer):
            self.stats.inc_value("offers/normalized")
            for name in TRACKED_FIELDS:
                if getattr(item, name) is None:
                    self.stats.inc_value(f"field/{name}/missing")
        return item
