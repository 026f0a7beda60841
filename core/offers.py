"""The normalized offer: what storage receives and what ``clickfarm extract`` prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(slots=True, kw_only=True)
class Attributes:
    """Attributes read from a service name (and API flags). ``None`` means unknown, never a guess."""

    refill_days: int | None = None
    """0 = explicitly no refill; 365 for "lifetime"; None when the name does not say."""
    quality: str | None = None
    """One of: ``hq``, ``mq``, ``lq``, ``real``, ``bot``, ``mixed``, ``premium``."""
    country: str | None = None
    """ISO 3166-1 alpha-2 code of the targeted audience, e.g. ``BR``."""
    drip_feed: bool | None = None
    speed_per_day: int | None = None
    start_time_hours: Decimal | None = None
    """Upper bound of the advertised start time, in hours (``Instant`` = 0)."""
    max_from_name: int | None = None
    non_drop: bool | None = None


@dataclass(slots=True, kw_only=True)
class NormalizedOffer:
    """One offer, normalized. Money is ``Decimal``; raw values are kept beside normalized ones."""

    site_offer_id: str
    name: str
    """Cleaned name (NFKC, entities unescaped, emoji kept)."""
    name_raw: str
    category: str | None
    platform: str | None
    metric: str | None
    pricing: str
    """``per_1000`` or ``package``."""
    price: Decimal
    """Price in ``currency``: per 1000 units (``per_1000``) or per package (``package``)."""
    price_raw: str
    currency: str
    quantity: int | None
    """Package size; ``None`` for per-1000 rates."""
    quantity_raw: str | None = None
    """The package size as the seller wrote it (``"1,000 Followers"``, ``"1.5K"``)."""
    compare_at_price: Decimal | None = None
    """The struck-through "was" price of a retail package, in ``currency``."""
    compare_at_price_raw: str | None = None
    available: bool | None = None
    """In stock / purchasable as the seller says; ``None`` when it does not say."""
    usd_per_1000: Decimal | None
    """None when the currency cannot be converted on that date."""
    fx_rate: Decimal | None
    """USD per 1 unit of ``currency`` used for ``usd_per_1000``."""
    fx_date: date | None
    """The ECB date whose rate was used."""
    min_quantity: int | None
    max_quantity: int | None
    service_type: str | None
    description: str | None
    average_time: str | None
    refill_flag: bool | None
    cancel_flag: bool | None
    attributes: Attributes = field(default_factory=Attributes)
    observed_at: datetime | None = None
    inferred: tuple[str, ...] = ()
    """Fields read from the page around the offer rather than from the offer itself
    (``("platform",)`` when "Buy YouTube Views" in the page heading gave the platform): an
    audit can tell a stated value from an inferred one."""
    page_context: str | None = None
    """The page text (heading, title, breadcrumb) the inferred fields were read from."""
    raw_fingerprint: str | None = None
    """Fingerprint of the raw record it was normalized from (``pipelines.fingerprint``), stored
    so that the next crawl recognizes the same record; ``None`` outside a crawl."""

    def to_json_dict(self) -> dict[str, Any]:
        """The `extract` contract: flat JSON-ready dict (Decimals as strings, dates ISO)."""
        flat = asdict(self)
        flat.pop("raw_fingerprint")  # bookkeeping of the store, not a value of the offer
        attributes = flat.pop("attributes")
        flat.update(attributes)
        flat["inferred"] = list(self.inferred)
        for key, value in list(flat.items()):
            if isinstance(value, Decimal):
                flat[key] = format(value, "f")  # never exponent notation (1E-7)
            elif isinstance(value, (date, datetime)):
                flat[key] = value.isoformat()
        return flat


@dataclass(slots=True, kw_only=True)
class ConfirmedOffer:
    """A listing whose raw record has the fingerprint of the stored offer: it is not normalized
    again, the store only confirms it (``last_confirmed_at``, ``last_seen_at``)."""

    site_offer_id: str
    raw_fingerprint: str
    raw: Any = None
    """The ``RawOffer`` as seen: normalized in full if the stored offer changed meanwhile."""
    site_currency: str | None = None
    """The site currency the fingerprint was taken with (needed to normalize ``raw``)."""


@dataclass(slots=True, kw_only=True)
class Rejection:
    """An offer that could not be normalized or failed validation."""

    site_offer_id: str | None
    reason: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class CounterValue:
    """A public counter read on a landing page, as an integer (``5253+`` -> 5253)."""

    name: str
    """``orders``, ``customers``, ``services``, ... (see ``crawlers.extract.landing``)."""
    value: int
    raw: str
