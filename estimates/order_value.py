"""Average order value (AOV) of a seller, in USD, from what it lists.

Method (price x volume, Thomas et al. 2013, weighted by an order-size model as MARKET.md asks):

- a per-1000 offer (panel rate ``r`` USD per 1000, limits ``min``..``max``) sells orders of a
  *typical size* ``q``: the metric's usual order (``TYPICAL_UNITS``: 1000 followers, 5000 views,
  20 comments, ...), capped so that a typical order costs at most ``TYPICAL_ORDER_MAX_USD``,
  clipped to [min, max]; its order value is ``r x q / 1000 x SIZE_MEAN_FACTOR`` (the mean of a
  right-skewed order-size distribution lies above its typical size);
- a retail package offer (a tier of ``quantity`` units at a price) sells one package per order;
  buyers favour the smaller tiers, so a product's order value is the median of its tier prices
  (low: its cheapest tier; high: the mean of its tiers);
- the seller's AOV is the mean over its offers weighted by how often an offer is assumed to be
  bought: cheap services sell more (weight ``min(1, sqrt(10 / r))``, r in USD per 1000).

The market's order-size scale (small retail orders, typical, bulk-heavy buyers) is read from
what retail shops list: shops size their packages to what buyers order, so the median price of
a product's smallest package (its *entry price*) moves with the typical order. The typical sizes
are multiplied by (entry price / ``NEUTRAL_ENTRY_USD``) ^ ``SCALE_ELASTICITY`` (both calibrated
in seeded simulations of the three shapes), with bounds x/÷ ``SCALE_SPREAD``. Without enough
retail products the scale is unknown: 1, with bounds ``LOW_SIZE_FACTOR`` .. ``HIGH_SIZE_FACTOR``.
Bounds price every per-1000 order at the low / high scale (each clipped to [min, max]).

Inputs: the seller's offers in force (pricing, platform, metric, USD per 1000, min, max, package
size and USD price).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from estimates.types import Estimate, ordered

TYPICAL_UNITS: dict[str, int] = {
    "followers": 1000, "likes": 500, "views": 5000, "plays": 5000, "traffic": 5000,
    "impressions": 5000, "story_views": 1000, "comments": 20, "reviews": 10, "shares": 500,
    "saves": 500, "subscribers": 300, "votes": 100, "listeners": 1000, "installs": 200,
    "retweets": 200, "reposts": 200, "members": 1000, "downloads": 1000, "watch_time": 1000,
}  # fmt: skip
"""Usual order sizes by metric (the bundles sold to NATO StratCom's buyers and by retail
shops: 1000 followers, 500 likes, 5000 views, 20 comments)."""
DEFAULT_TYPICAL_UNITS = 1000
TYPICAL_ORDER_MAX_USD = 40.0
SIZE_MEAN_FACTOR = 1.6
LOW_SIZE_FACTOR = 0.15
HIGH_SIZE_FACTOR = 10.0
NEUTRAL_ENTRY_USD = 6.5
"""Retail entry price (smallest package) of a market whose orders are of the typical size."""
SCALE_ELASTICITY = 1.4
SCALE_SPREAD = 2.5
MIN_PRODUCTS_FOR_SCALE = 5
ASSUMPTIONS = (
    "order value: a typical order per metric (1000 followers, 500 likes, 5000 views, 20 "
    f"comments...) costing at most ${TYPICAL_ORDER_MAX_USD:.0f}, clipped to the listed min/max, "
    f"x{SIZE_MEAN_FACTOR} for a right-skewed size distribution",
    "retail shops size packages to what buyers order: the typical order scales with the "
    "price of the smallest package shops list",
    "cheap services sell more: offer weight min(1, sqrt(10 / USD per 1000))",
    "retail packages: one package per order, buyers favour the smaller tiers",
)


@dataclass(frozen=True, slots=True)
class ListedOffer:
    """What the estimators need of one offer in force (USD amounts already converted)."""

    site_id: str
    offer_id: int
    pricing: str
    platform: str | None
    metric: str | None
    usd_per_1000: float
    min_quantity: int | None = None
    max_quantity: int | None = None
    quantity: int | None = None
    """Package size (retail packages)."""
    product_key: str | None = None
    """Offers of one retail product (its tiers) share a key."""

    @property
    def package_usd(self) -> float:
        return self.usd_per_1000 * (self.quantity or 0) / 1000


def _clip(value: float, low: int | None, high: int | None) -> float:
    if low:
        value = max(value, low)
    if high:
        value = min(value, high)
    return value


def package_entry_price(offers: Iterable[ListedOffer]) -> float | None:
    """The median, over retail products, of the USD price of a product's smallest package.

    Retail shops size their packages to what their buyers order: where buyers order small, the
    first package is cheap; where they order in bulk, shops start higher. Inputs: package
    offers of every shop (``product_key`` groups a product's tiers)."""
    smallest: dict[tuple[str, str], float] = {}
    for offer in offers:
        if offer.pricing != "package" or not offer.quantity or offer.usd_per_1000 <= 0:
            continue
        key = (offer.site_id, offer.product_key or str(offer.offer_id))
        price = offer.package_usd
        smallest[key] = min(smallest.get(key, price), price)
    if len(smallest) < MIN_PRODUCTS_FOR_SCALE:
        return None
    return float(np.median(list(smallest.values())))


def order_size_scale(entry_price: float | None) -> Estimate:
    """How much bigger (or smaller) than ``TYPICAL_UNITS`` orders are in this market, from the
    retail entry price: (entry price / ``NEUTRAL_ENTRY_USD``) ^ ``SCALE_ELASTICITY``, bounded to
    [1/8, 8]; low / high x/÷ ``SCALE_SPREAD``. Without shops: 1 with the wide bounds
    ``LOW_SIZE_FACTOR`` .. ``HIGH_SIZE_FACTOR`` (the shape cannot be seen at all)."""
    if entry_price is None:
        return Estimate(LOW_SIZE_FACTOR, 1.0, HIGH_SIZE_FACTOR, "no retail packages: unknown")
    scale = min(max((entry_price / NEUTRAL_ENTRY_USD) ** SCALE_ELASTICITY, 1 / 8), 8.0)
    return Estimate(scale / SCALE_SPREAD, scale, scale * SCALE_SPREAD,
                    f"retail entry price ${entry_price:.2f}")


def _per_1000_values(offer: ListedOffer, scale: Estimate) -> tuple[float, float, float]:
    rate = offer.usd_per_1000
    typical = float(TYPICAL_UNITS.get(offer.metric or "", DEFAULT_TYPICAL_UNITS))
    typical = min(typical, TYPICAL_ORDER_MAX_USD * 1000 / rate)
    low, high = offer.min_quantity, offer.max_quantity
    if low and high and low > high:
        low, high = high, low
    central = rate * _clip(typical * scale.central, low, high) / 1000 * SIZE_MEAN_FACTOR
    bottom = rate * _clip(typical * scale.low, low, high) / 1000
    top = rate * _clip(typical * scale.high, low, high) / 1000 * SIZE_MEAN_FACTOR
    return bottom, central, top


def offer_weight(usd_per_1000: float) -> float:
    return min(1.0, math.sqrt(10.0 / max(usd_per_1000, 1e-6)))


def order_value(offers: Iterable[ListedOffer], scale: Estimate | None = None
                ) -> Estimate | None:
    """The seller's AOV in USD (see the module docstring); ``None`` without a priced offer.
    ``scale``: the market's order-size scale (:func:`order_size_scale`; default unknown)."""
    scale = scale or order_size_scale(None)
    weighted: list[tuple[float, tuple[float, float, float]]] = []
    products: dict[str, list[ListedOffer]] = {}
    for offer in offers:
        if offer.usd_per_1000 <= 0:
            continue
        if offer.pricing == "package":
            if offer.quantity:
                products.setdefault(offer.product_key or str(offer.offer_id), []).append(offer)
            continue
        weighted.append((offer_weight(offer.usd_per_1000), _per_1000_values(offer, scale)))
    for tiers in products.values():
        prices = sorted(tier.package_usd for tier in tiers)
        median = prices[len(prices) // 2] if len(prices) % 2 else (
            (prices[len(prices) // 2 - 1] + prices[len(prices) // 2]) / 2)
        mean_rate = sum(t.usd_per_1000 for t in tiers) / len(tiers)
        weighted.append((offer_weight(mean_rate),
                         (prices[0], median, sum(prices) / len(prices))))
    if not weighted:
        return None
    total = sum(weight for weight, _ in weighted)
    low, central, high = (sum(weight * values[k] for weight, values in weighted) / total
                          for k in range(3))
    return ordered(low, central, high, "weighted mean order value over listed offers",
                   ASSUMPTIONS)
