"""Family spiders: one base spider per seller software (named in core/families.py)."""

from __future__ import annotations

from core.families import FAMILIES
from crawlers.spiders.base import SellerSpider

SPIDER_BY_FAMILY: dict[str, type[SellerSpider]] = {
    family.name: family.load_spider() for family in FAMILIES}
