"""Panels crawled through their public ``/services`` page (no API key needed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.extract import smm_html
from crawlers.spiders.base import SellerSpider


class SmmHtmlSpider(SellerSpider):
    family = "smm_html"
    services_path = "services"

    def listing_requests(self) -> Iterable[scrapy.Request]:
        yield scrapy.Request(self.site_url(self.services_path), callback=self.parse_services,
                             errback=self.on_listing_error, dont_filter=True)

    def parse_services(self, response: Response) -> Iterable[Any]:
        yield from self.read_listing(response, smm_html.extract_services_page,
                                     base_url=response.url)
