"""Family spiders: one base spider per seller software (named in core/families.py).

``SPIDER_BY_FAMILY`` is built on first use: a crawl process imports only its family's spider
(``core.families.spider_class``), not every family's extractors (the storefront's pulls in
extruct and BeautifulSoup, a third of a second of start-up).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "SPIDER_BY_FAMILY":
        from core.families import FAMILIES

        spiders = {family.name: family.load_spider() for family in FAMILIES}
        globals()[name] = spiders
        return spiders
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
