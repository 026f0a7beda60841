"""What the extractors return: offers and counters exactly as the seller shows them.

Extractors never normalize. Every field of :class:`RawOffer` is the seller's own text (or the
JSON value as it came), so a wrong normalization can always be audited against what was seen.
Normalization (platform, metric, Decimal money, USD conversion, attributes) happens in
``pipelines/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True, kw_only=True)
class RawOffer:
    """One listing as the seller published it.

    ``pricing`` says what ``price`` means:

    - ``"per_1000"``: SMM panels; ``price`` is the rate per 1000 units (API ``rate`` field or the
      "Rate per 1000" cell, currency symbol included when the page shows one).
    - ``"package"``: the price of a whole package of ``quantity`` units (API v2 ``Package``
      services, retail shops).
    """

    site_offer_id: str | None
    """The seller's own id for the listing (API ``service``, the ID cell, a variant id)."""
    name: str
    """Service / product name, raw (may hold HTML entities, emoji, styled Unicode)."""
    category: str | None = None
    """Category as shown (API ``category`` or the category header row above it)."""
    price: str | None = None
    """Price text or JSON value as seen, e.g. ``"0.90"``, ``"$0.0135"``, ``"₹75"``, ``"200 000"``."""
    pricing: str = "per_1000"
    currency: str | None = None
    """Currency stated by the source for this offer (ISO code or symbol); ``None`` when the page
    or payload does not say (then the site's configured currency applies)."""
    quantity: str | None = None
    """Units in a package as seen (``"1000 Followers"``, ``"1.5K"``, ``"Quantity: 10 000"``);
    ``None`` for per-1000 rates."""
    compare_at_price: str | None = None
    """The struck-through "was" price of a retail package as seen (Shopify
    ``compare_at_price``, WooCommerce ``regular_price`` of an item on sale, a ``<del>`` price on
    a card, a JSON-LD ``ListPrice``); ``None`` when the shop shows none."""
    available: Any = None
    """Availability as the source states it (Shopify ``available``, WooCommerce
    ``is_in_stock``, JSON-LD ``https://schema.org/InStock``); ``None`` when not stated."""
    min_quantity: str | None = None
    max_quantity: str | None = None
    service_type: str | None = None
    """API ``type`` (Default, Package, Custom Comments, ...)."""
    refill: Any = None
    """API ``refill`` flag as it came (``true``, ``1``, ``"1"``, ...); ``None`` when absent."""
    cancel: Any = None
    dripfeed: Any = None
    description: str | None = None
    average_time: str | None = None
    """"Average time" column text, e.g. ``"81 hours 55 minutes"``."""
    price_per_units: str | None = None
    """For a unit price stated per N units ("Price per 1000: $2.10" -> ``"1000"``, "₹ 0.45 /
    like" -> ``"1"``, "Цена за 100 штук" -> ``"100"``): N as seen. ``None`` when ``price`` is
    already per 1000 (panels) or a package price. Normalization turns it into a per-1000 rate."""
    context: str | None = None
    """What the page around the offer says when the offer itself does not (page heading, title,
    breadcrumb: "Buy YouTube Views"), as seen; used for platform and metric only when the name
    and category name none, and then recorded as inferred."""
    source: str = ""
    """Where it was read: ``"api"``, ``"html"``, ... (the extractor family)."""
    raw: dict[str, Any] = field(default_factory=dict)
    """The record as seen (API object or cell texts), kept for ``rejected_offer``."""


@dataclass(slots=True, kw_only=True)
class RawCounter:
    """A public counter on a landing page, e.g. ``3832058 Total Orders``."""

    name: str
    """Normalized counter kind: ``orders``, ``customers``, ``services``, ... or the label text."""
    value: str
    """The number as shown (``"3832058"``, ``"5253+"``, ``"1.2M"``)."""
    label: str = ""
    """The label text next to it, as seen."""


@dataclass(slots=True, kw_only=True)
class RawRejection:
    """A record the extractor saw but could not read (e.g. a table row without a name)."""

    reason: str
    raw: dict[str, Any] = field(default_factory=dict)
    site_offer_id: str | None = None


@dataclass(slots=True, kw_only=True)
class ExtractResult:
    offers: list[RawOffer] = field(default_factory=list)
    rejected: list[RawRejection] = field(default_factory=list)
    counters: list[RawCounter] = field(default_factory=list)
    currency: str | None = None
    """Currency the whole page/payload states (e.g. a balance response or a page-wide symbol)."""
    notes: list[str] = field(default_factory=list)
    """Human-readable remarks (which table was used, which columns were mapped)."""


class ExtractError(Exception):
    """The page or payload as a whole cannot be read (invalid JSON, API error body, no table).

    The message is meant for the user and ends up in ``crawl_run.error``.
    """


@dataclass(slots=True, repr=False)
class ItemBatch:
    """The items of one listing read at once (an API v2 ``services`` list, a ``/services``
    table, a products page) travelling together through the item pipelines: one Scrapy item
    instead of one per offer. Each pipeline handles its items one by one
    (``pipelines.base.CrawlerPipeline``), in order; the store receives them all."""

    items: list[Any] = field(default_factory=list)

    def __repr__(self) -> str:
        # Scrapy logs every item it scrapes (at DEBUG, formatted all the same): not 2,000 offers.
        return f"ItemBatch({len(self.items)} items)"
