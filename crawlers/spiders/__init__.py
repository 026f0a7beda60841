"""Family spiders: one base spider per seller software."""

from __future__ import annotations

from crawlers.spiders.base import SellerSpider
from crawlers.spiders.smm_api import SmmApiSpider
from crawlers.spiders.smm_html import SmmHtmlSpider

SPIDER_BY_FAMILY: dict[str, type[SellerSpider]] = {
    spider.family: spider for spider in (SmmApiSpider, SmmHtmlSpider)
}
