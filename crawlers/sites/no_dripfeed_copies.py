"""A panel that lists every drip-feed service as a copy of a plain one (same service, delivered
slowly, same price): the copies are dropped so that the panel's catalogue is counted once.

    - id: panel-with-copies
      url: https://panel.example/
      family: smm_api
      spider: crawlers.sites.no_dripfeed_copies:NoDripFeedCopiesSpider
"""

from __future__ import annotations

from scrapy.http import Response

from crawlers.items import RawOffer
from crawlers.spiders.smm_api import SmmApiSpider


class NoDripFeedCopiesSpider(SmmApiSpider):
    def post_process_offer(self, offer: RawOffer, response: Response) -> RawOffer | None:
        # The API writes the flag as true, 1 or "1" depending on the panel's backend.
        if str((offer.raw or {}).get("dripfeed")).lower() in ("true", "1"):
            return None  # stored as a rejection: "dropped by the site's post_process_offer hook"
        return offer
