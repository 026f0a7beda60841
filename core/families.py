"""The seller families: one record per seller software the crawler can read.

Everything that names a family reads this registry: the ``family`` of ``config/sites.yaml``
(:mod:`core.config`), the ``--family`` choice of ``clickfarm extract`` and its readers
(:mod:`clickfarm.extract_file`), the spiders (:data:`crawlers.spiders.SPIDER_BY_FAMILY`), the
source kinds of :mod:`pipelines.normalize` and the detectors of
:mod:`crawlers.discovery.fingerprint`.

Spiders, readers and detectors are named by dotted path and loaded when first asked for: this
module is ground level and imports no other project package (``tests/test_import_order.py``).
Adding a seller software is one record here plus its spider, extractor and detector (README,
"Adding a seller software").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any


@dataclass(frozen=True)
class SellerFamily:
    name: str
    """The ``family`` of a site in ``config/sites.yaml``."""
    spider: str
    """``module:Class`` of its base spider (a ``crawlers.spiders.base.SellerSpider``)."""
    reader: str
    """``module:function`` reading a saved page or API response for ``clickfarm extract``:
    ``(data: bytes, url: str | None) -> ExtractResult``."""
    plain_sources: frozenset[str] = field(default_factory=frozenset)
    """``RawOffer.source`` values of its offers whose numbers are plain decimals (API, JSON)."""
    display_sources: frozenset[str] = field(default_factory=frozenset)
    """``RawOffer.source`` values whose numbers are written for people (``1.234,50``)."""
    retail: bool = False
    """A retail shop selling packages (a package without a readable size is rejected)."""
    detectors: tuple[str, ...] = ()
    """Names of its detectors in ``crawlers.discovery.fingerprint.DETECTORS``, tried in
    registry order (a panel before a shop, a JavaScript shell last)."""

    @property
    def sources(self) -> frozenset[str]:
        return self.plain_sources | self.display_sources

    def load_spider(self) -> type[Any]:
        return load_object(self.spider)

    def load_reader(self) -> Any:
        return load_object(self.reader)


FAMILIES: tuple[SellerFamily, ...] = (
    SellerFamily(
        "smm_api", spider="crawlers.spiders.smm_api:SmmApiSpider",
        reader="crawlers.extract.saved:read_smm_api",
        plain_sources=frozenset({"smm_api", "api", "json"})),
    SellerFamily(
        "smm_html", spider="crawlers.spiders.smm_html:SmmHtmlSpider",
        reader="crawlers.extract.saved:read_smm_html",
        display_sources=frozenset({"smm_html", "html"}),
        detectors=("perfectpanel", "smartpanel")),
    SellerFamily(
        "shopify", spider="crawlers.spiders.shopify:ShopifySpider",
        reader="crawlers.extract.saved:read_shopify",
        plain_sources=frozenset({"shopify"}), retail=True, detectors=("shopify",)),
    SellerFamily(
        "woocommerce", spider="crawlers.spiders.woocommerce:WooCommerceSpider",
        reader="crawlers.extract.saved:read_woocommerce",
        plain_sources=frozenset({"woocommerce"}), retail=True, detectors=("woocommerce",)),
    SellerFamily(
        "storefront", spider="crawlers.spiders.storefront:StorefrontSpider",
        reader="crawlers.extract.saved:read_storefront",
        plain_sources=frozenset({"jsonld", "json-ld", "json_ld"}),
        display_sources=frozenset({"storefront", "cards"}), retail=True,
        detectors=("jsonld_product", "package_cards")),
    SellerFamily(
        # The rendered HTML of a JavaScript shop, read like a storefront.
        "spa", spider="crawlers.spiders.spa:SpaSpider",
        reader="crawlers.extract.saved:read_storefront",
        display_sources=frozenset({"spa"}), retail=True, detectors=("javascript_shell",)),
)
FAMILY_NAMES: tuple[str, ...] = tuple(family.name for family in FAMILIES)
BY_NAME: dict[str, SellerFamily] = {family.name: family for family in FAMILIES}


class FamilyError(ValueError):
    pass


def family(name: str) -> SellerFamily:
    try:
        return BY_NAME[name]
    except KeyError:
        raise FamilyError(f"unknown family {name!r}: one of {', '.join(FAMILY_NAMES)}") from None


@cache
def load_object(path: str) -> Any:
    """``package.module:Name`` -> the object (imported on first use)."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise FamilyError(f"{path!r} is not of the form package.module:Name")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise FamilyError(f"{path!r}: cannot import {module_name}: {error}") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise FamilyError(f"{path!r}: {module_name} has no {attribute}") from None


def spider_class(family_name: str, spider_path: str | None = None) -> type[Any]:
    """The spider of a site: its own subclass (``spider:`` in sites.yaml) or its family's.

    A site's own spider must subclass its family's spider, so that it reads the same pages and
    can only refine them (``post_process_offer``, ``landing_path``...).
    """
    base = family(family_name).load_spider()
    if spider_path is None:
        return base
    own = load_object(spider_path)
    if not (isinstance(own, type) and issubclass(own, base)):
        raise FamilyError(f"spider {spider_path} must be a subclass of {base.__module__}."
                          f"{base.__qualname__} (the spider of family {family_name})")
    return own
