"""Storefronts of their own (JSON-LD or package cards): the landing page, then its product pages.

Each page goes through :func:`crawlers.extract.storefront.extract_storefront`; its same-site
product links (:func:`crawlers.extract.storefront.product_links`, restricted to the site's URL
prefix) are followed once each, at most :attr:`SellerSpider.max_pages` pages in all (beyond:
a partial run that removes nothing). A JavaScript shell ends the run as failed with "no
offers: the page needs JavaScript" (the ``spa`` family renders such shops). A product page that
fails after offers were read makes the run partial.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.extract import storefront
from crawlers.items import ExtractError
from crawlers.spiders.base import SellerSpider, describe_failure

_NO_OFFERS = "no offers: no JSON-LD product or package cards on"


class StorefrontSpider(SellerSpider):
    family = "storefront"
    landing_path = None  # the landing page is the first listing page

    def listing_requests(self) -> Iterable[scrapy.Request]:
        self.requested: set[str] = set()
        self.offer_ids_seen: set[str] = set()
        self.links_skipped = 0
        yield self.page_request(self.site_url(""))

    def page_request(self, url: str) -> scrapy.Request:
        self.requested.add(url)
        return self.site_request(url, self.parse_page, errback=self.on_page_error)

    def parse_page(self, response: Response) -> Iterable[Any]:
        self.outcome.pages += 1
        try:
            result = storefront.extract_storefront(response.body, base_url=response.url)
        except ExtractError as error:
            self.page_failed(response.request.url if response.request else response.url,
                             f"{response.url}: {error}")
            result = None
        if result is not None:
            if result.offers or result.rejected:
                # Pages that had nothing are not the listing's failure once offers were read.
                self.outcome.listing_errors = [e for e in self.outcome.listing_errors
                                               if _NO_OFFERS not in e]
                result.offers = [offer for offer in result.offers if self.first_time(offer)]
                yield from self.emit_listing(response, result, count_page=False)
            else:
                self.outcome.notes.extend(result.notes)
                if not self.outcome.listing_read:
                    self.outcome.listing_errors.append(f"{_NO_OFFERS} {response.url}")
        yield from self.follow(response)

    def first_time(self, offer: Any) -> bool:
        """The same package shown on the landing page and on its product page counts once."""
        key = offer.site_offer_id or f"{offer.name}\x1f{offer.price}"
        if key in self.offer_ids_seen:
            self.crawler.stats.inc_value("offers/repeated_on_pages")
            return False
        self.offer_ids_seen.add(key)
        return True

    def follow(self, response: Response) -> Iterable[scrapy.Request]:
        for url in storefront.product_links(response.body, response.url,
                                            site_url=self.site.url):
            if url in self.requested or not self.is_on_site(url):
                continue
            if len(self.requested) >= self.page_limit:
                self.links_skipped += 1
                if self.links_skipped == 1:
                    self.listing_incomplete(
                        f"page limit reached: {self.page_limit} pages; further product pages "
                        f"were not read")
                continue
            yield self.page_request(url)

    def on_page_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        self.page_failed(request.url if request is not None else "", describe_failure(failure))
