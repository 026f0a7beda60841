"""WooCommerce shops through the public Store API: products, then variations.

``GET wp-json/wc/store/v1/products?per_page=100&page=N`` is read page by page up to the
``X-WP-TotalPages`` header (bounded by :attr:`SellerSpider.max_pages`); when a variable product
was seen, ``?type=variation`` is read the same way. The records of every page are joined once at
the end (:func:`crawlers.extract.woocommerce.extract_store_products`), so a variation is priced
whatever page its parent is on, and a variable product whose variations are missing becomes a
rejection with the reason. A page that fails after the first, or a page bound reached, makes
the run partial: nothing is marked removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.extract import woocommerce
from crawlers.items import ExtractError
from crawlers.spiders.base import SellerSpider, describe_failure


class WooCommerceSpider(SellerSpider):
    family = "woocommerce"
    landing_path = None
    api_path = "wp-json/wc/store/v1/products"
    page_size = 100  # the Store API's largest page

    def listing_requests(self) -> Iterable[scrapy.Request]:
        self.product_records: list[Any] = []
        self.variation_records: list[Any] = []
        self.variations_fetched = False
        self.seen_ids: dict[str, set[Any]] = {}
        self.last_response: Response | None = None
        yield self.page_request("products", 1)

    def page_request(self, kind: str, page: int) -> scrapy.Request:
        query = f"per_page={self.page_size}&page={page}"
        if kind == "variations":
            query = f"type=variation&{query}"
        return self.site_request(self.site_url(f"{self.api_path}?{query}"), self.parse_page,
                                 errback=self.on_page_error,
                                 cb_kwargs={"kind": kind, "page": page})

    def parse_page(self, response: Response, kind: str, page: int) -> Iterable[Any]:
        self.outcome.pages += 1
        try:
            records = woocommerce.load_records(response.body)
        except ExtractError as error:
            yield from self.api_page_failed(kind, page, f"{response.url}: {error}")
            return
        self.last_response = response
        seen = self.seen_ids.setdefault(kind, set())
        fresh = [r for r in records if not (isinstance(r, dict) and r.get("id") in seen)]
        if records and not fresh:
            # A pager that cycles (X-WP-TotalPages: 9999 and page 1 again): stop here.
            self.listing_incomplete(f"pagination did not end: {kind} page {page} holds only "
                                    f"records already seen (the shop's pager repeats itself)")
            yield from self.after(kind)
            return
        seen.update(r.get("id") for r in fresh if isinstance(r, dict))
        (self.product_records if kind == "products" else self.variation_records).extend(fresh)
        if kind == "variations":
            self.variations_fetched = True
        total = _total_pages(response)
        if records and (total is None or page < total):
            if page >= self.page_limit:
                self.listing_incomplete(
                    f"pagination did not end after {page} pages ({kind}"
                    + (f"; X-WP-TotalPages says {total}" if total is not None else "") + ")")
            else:
                yield self.page_request(kind, page + 1)
                return
        yield from self.after(kind)

    def api_page_failed(self, kind: str, page: int, message: str) -> Iterable[Any]:
        """A page of the Store API failed (its own name: the base class's ``page_failed`` is for
        shops read page by page, with another signature)."""
        if kind == "products" and page == 1:
            self.listing_failed(message)
            return
        # Products read so far, or the variations: the listing is read in part.
        self.listing_incomplete(message)
        yield from self.after(kind)

    def on_page_error(self, failure: Failure) -> Iterable[Any]:
        request = getattr(failure, "request", None)
        cb_kwargs = request.cb_kwargs if request is not None else {}
        yield from self.api_page_failed(cb_kwargs.get("kind", "products"), cb_kwargs.get("page", 1),
                                        describe_failure(failure))

    def after(self, kind: str) -> Iterable[Any]:
        """Products done -> the variations when a variable product needs them; then emit."""
        if kind == "products" and any(isinstance(r, dict) and r.get("type") == "variable"
                                      for r in self.product_records):
            yield self.page_request("variations", 1)
            return
        yield from self.emit()

    def emit(self) -> Iterable[Any]:
        if self.last_response is None:
            return
        result = woocommerce.extract_store_products(
            self.product_records,
            variations=self.variation_records if self.variations_fetched else None)
        yield from self.emit_listing(self.last_response, result, count_page=False)


def _total_pages(response: Response) -> int | None:
    value = response.headers.get("X-WP-TotalPages")
    if value is None:
        return None
    try:
        return int(value.decode("latin-1").strip())
    except ValueError:
        return None
