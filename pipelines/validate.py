"""Validation of normalized offers: values no real listing can have become rejections.

Rules (each failure is one clear reason, e.g. ``"rate is negative: -1"``):

- the name must not be empty and a currency must be set;
- the price must be a finite number and not negative. **Zero is kept**: panels do list free
  services (trial likes, "test" services) at ``0.00``, and that is what the seller shows; price
  indexes and revenue estimates must filter ``price > 0`` themselves (a free listing is not a
  market price, but it is a listing);
- absurd values: a native price above :data:`MAX_NATIVE_PRICE` (1e9 in any currency, Iranian
  rials included), or more than :data:`MAX_USD_PER_1000` USD per 1000 units. The dearest real
  services in the 2020 lists, custom Google reviews, cost about $13000 per 1000 (SMMBooster,
  "€12000 00"); above 100000 sit the placeholders panels use for disabled or separator rows
  (``1000000.00`` next to "▫▫▫ ▫▫▫", "Admin - YT", "Gold - Warning dont use");
- a minus sign is negative even on zero (``"-0"``): a rate the seller wrote as negative is
  rejected, never stored as a free listing;
- quantities: ``min``/``max``/package size not negative, within the 64-bit columns that store
  them, package size not zero, ``min <= max``;
- a retail compare-at ("was") price must be a finite number, not negative and not absurd; it
  may be lower than the price (shops do show that, and it is what they show).
"""

from __future__ import annotations

from decimal import Decimal

from core.offers import NormalizedOffer
from pipelines.money import MAX_QUANTITY

MAX_NATIVE_PRICE = Decimal(10) ** 9
MAX_USD_PER_1000 = Decimal(100_000)


def _show(value: Decimal) -> str:
    """``Decimal('999999999.000000')`` -> ``'999999999'`` (no exponent, no trailing zeros)."""
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return text


def validate_offer(offer: NormalizedOffer) -> str | None:
    """The reason ``offer`` cannot be stored, or ``None`` when it is plausible."""
    if not offer.name or not offer.name.strip():
        return "empty name"
    if not offer.currency:
        return "no currency"
    what = "rate" if offer.pricing == "per_1000" else "price"
    price = offer.price
    if not isinstance(price, Decimal):
        return f"{what} is not a Decimal: {price!r}"
    if not price.is_finite():
        return f"{what} is not a finite number: {price}"
    if price < 0 or price.is_signed():
        return f"{what} is negative: {_show(price)}"
    if price > MAX_NATIVE_PRICE:
        return f"absurd {what}: {_show(price)} {offer.currency}"
    usd = offer.usd_per_1000
    if usd is not None:
        if not usd.is_finite() or usd < 0:
            return f"bad USD rate: {usd}"
        if usd > MAX_USD_PER_1000:
            return f"absurd rate: {_show(usd)} USD per 1000"
    for label, value in (("min", offer.min_quantity), ("max", offer.max_quantity),
                         ("package quantity", offer.quantity)):
        if value is not None and value < 0:
            return f"{label} is negative: {value}"
        if value is not None and value > MAX_QUANTITY:
            return f"{label} out of range: more than {MAX_QUANTITY}"
    compare_at = offer.compare_at_price
    if compare_at is not None:
        if not isinstance(compare_at, Decimal) or not compare_at.is_finite():
            return f"compare-at price is not a finite number: {compare_at!r}"
        if compare_at < 0 or compare_at.is_signed():
            return f"compare-at price is negative: {_show(compare_at)}"
        if compare_at > MAX_NATIVE_PRICE:
            return f"absurd compare-at price: {_show(compare_at)} {offer.currency}"
    if offer.pricing == "package" and offer.quantity == 0:
        return "package quantity is 0"
    if (offer.min_quantity is not None and offer.max_quantity is not None
            and offer.min_quantity > offer.max_quantity):
        return f"min {offer.min_quantity} > max {offer.max_quantity}"
    return None
