"""Shopify shops: the landing page (the shop's currency), then ``products.json`` page by page.

products.json never states the currency: the landing page does (``Shopify.currency``,
``og:price:currency``), else ``/cart.js``; without either, the site's configured currency
applies in normalization. Pages are read one after the other until an empty ``products`` list,
bounded by :attr:`SellerSpider.max_pages`: a shop that pages forever ends as a partial run
("pagination did not end after N pages") that removes nothing. A page that fails after the
first makes the run partial the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.extract import shopify
from crawlers.items import ExtractError
from crawlers.spiders.base import SellerSpider, describe_failure


class ShopifySpider(SellerSpider):
    family = "shopify"
    landing_path = None  # fetched first, for the currency, by listing_requests
    products_path = "products.json"
    page_size = 250  # Shopify's largest page

    def listing_requests(self) -> Iterable[scrapy.Request]:
        self.seen_variant_ids: set[str | None] = set()
        yield self.site_request(self.site_url(""), self.parse_landing_currency,
                                errback=self.on_currency_error)

    def products_request(self, page: int) -> scrapy.Request:
        url = self.site_url(f"{self.products_path}?limit={self.page_size}&page={page}")
        return self.site_request(url, self.parse_products, errback=self.on_products_error,
                                 cb_kwargs={"page": page})

    def parse_landing_currency(self, response: Response) -> Iterable[scrapy.Request]:
        self.outcome.pages += 1
        currency = shopify.shop_currency(response.text)
        if currency:
            self.outcome.stated_currency = currency
            self.outcome.notes.append(f"shop currency {currency} (landing page)")
            yield self.products_request(1)
        else:
            yield self.site_request(self.site_url("cart.js"), self.parse_cart,
                                    errback=self.on_currency_error)

    def parse_cart(self, response: Response) -> Iterable[scrapy.Request]:
        self.outcome.pages += 1
        currency = shopify.shop_currency(response.text)
        if currency:
            self.outcome.stated_currency = currency
            self.outcome.notes.append(f"shop currency {currency} (/cart.js)")
        else:
            self.outcome.notes.append("the shop states no currency (landing page, /cart.js): "
                                      "the configured currency applies")
        yield self.products_request(1)

    def on_currency_error(self, failure: Failure) -> Iterable[scrapy.Request]:
        # The currency is a secondary page: the price list is still read.
        message = f"currency: {describe_failure(failure)}"
        self.outcome.other_errors.append(message)
        self.crawler.stats.inc_value("secondary/errors")
        yield self.products_request(1)

    def parse_products(self, response: Response, page: int) -> Iterable[Any]:
        try:
            result = shopify.extract_products_json(response.body,
                                                   currency=self.outcome.stated_currency)
        except ExtractError as error:
            self.outcome.pages += 1
            self.listing_page_failed(f"{response.url}: {error}")
            return
        if not result.offers and not result.rejected:
            # The empty page after the last one: the listing is complete.
            if page == 1:
                yield from self.emit_listing(response, result)
            else:
                self.outcome.pages += 1
            return
        new_ids = {offer.site_offer_id for offer in result.offers} - self.seen_variant_ids
        if result.offers and not new_ids:
            # A shop that ignores ?page= serves page 1 again and again.
            self.outcome.pages += 1
            self.listing_incomplete(f"pagination did not end: page {page} holds only variants "
                                    f"already seen (the shop's pager repeats itself)")
            return
        self.seen_variant_ids |= new_ids
        result.offers = [offer for offer in result.offers
                         if offer.site_offer_id in new_ids or offer.site_offer_id is None]
        yield from self.emit_listing(response, result)
        if self.outcome.offers_capped:  # more offers than the site may have: stop reading
            return
        if page >= self.page_limit:
            self.listing_incomplete(f"pagination did not end after {page} pages "
                                    f"({self.products_path}); the rest was not read")
            return
        yield self.products_request(page + 1)

    def on_products_error(self, failure: Failure) -> None:
        self.listing_page_failed(describe_failure(failure))
