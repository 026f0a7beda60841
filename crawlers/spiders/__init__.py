"""Family spiders: one base spider per seller software."""

from __future__ import annotations

from crawlers.spiders.base import SellerSpider
from crawlers.spiders.shopify import ShopifySpider
from crawlers.spiders.smm_api import SmmApiSpider
from crawlers.spiders.smm_html import SmmHtmlSpider
from crawlers.spiders.spa import SpaSpider
from crawlers.spiders.storefront import StorefrontSpider
from crawlers.spiders.woocommerce import WooCommerceSpider

SPIDER_BY_FAMILY: dict[str, type[SellerSpider]] = {
    spider.family: spider
    for spider in (
        SmmApiSpider,
        SmmHtmlSpider,
        ShopifySpider,
        WooCommerceSpider,
        StorefrontSpider,
        SpaSpider,
    )
}
