"""Average order value (AOV) of a seller, in USD, from what it lists.

Method (price x volume, Thomas et al. 2013, weighted by an order-size model as MARKET.md asks):

- a per-1000 offer (panel rate ``r`` USD per 1000, limits ``min``..``max``) sells orders whose
  size follows a stated *order-size model* (:func:`mean_order_size`): on round quantities
  between the listed min and max (``ROUND_STEPS`` per decade: 1, 1.5, 2, 2.5, 3, 4, 5, 7.5 x a
  power of ten; buyers order round amounts), a log-normal bump around the *typical size* (the
  metric's usual order, ``TYPICAL_UNITS``: 1000 followers, 5000 views, 20 comments, ...,
  capped so that a typical order costs at most ``TYPICAL_ORDER_MAX_USD``, times the market's
  order-size scale, clipped to [min, max]) of log-width ``sigma``; in a market of small orders
  (scale < 1) extra weight on the minimum (buyers who take the smallest amount allowed); in a
  market of bulk buyers (scale well above 1) a wider bump and a flat floor under it up to the
  listed maximum (a long tail of bulk orders, a few per cent of the bump's peak per round
  quantity), see :func:`order_size_shape`. The offer's order value is ``r x mean size / 1000``.
  Maxima above ``MAX_ORDER_UNITS`` are placeholders for "no limit" ("2147483647") and are
  read as that many;
- a retail package offer (a tier of ``quantity`` units at a price) sells one package per order;
  buyers favour the smaller tiers, so a product's order value is the median of its tier prices
  (low: its cheapest tier; high: the mean of its tiers);
- the seller's AOV is the mean over its offers weighted by how often an offer is assumed to be
  bought: cheap services sell more (weight ``min(1, sqrt(10 / r))``, r in USD per 1000).

The market's order-size scale (small retail orders, typical, bulk buyers) is read from what
retail shops list (:func:`package_entry_price`): shops size their packages to what buyers order,
so a shop's cheapest first package (the smallest package of its cheapest product) moves with
the typical order. Only the cheapest one carries the signal: a dear service's smallest package
is already dear at the smallest round quantity, whatever buyers order, so a median over products
mixes in the services' price level (one shop of dear services read as bulk buyers, x7 on the
order value). The median over shops of that price, over ``NEUTRAL_ENTRY_USD`` (the cheapest
entry package of a market whose orders are of the typical size), is the scale (proportional:
shops move their packages by the factor buyers move their orders); bounds x/÷
``SCALE_SPREAD``. Without retail products the scale is unknown: 1, with bounds
``LOW_SIZE_FACTOR`` .. ``HIGH_SIZE_FACTOR``. Low bound: every per-1000 order at the low scale
without tail; high bound: the model at the high scale (with the bulk tail the high scale
implies: a market read as one of small orders is not priced as one of bulk buyers).

The shape parameters (bump width, minimum weight, bulk floor, neutral entry price) were
calibrated once on simulated order logs of three order-size shapes against the listed offers'
expected order value (not against the validation runs' revenue); they are assumptions, stated
in ``ASSUMPTIONS``.

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
ROUND_STEPS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5)
MAX_ORDER_UNITS = 10_000_000
"""Listed maxima above this are "no limit" placeholders: no order is bigger."""
SIGMA = 1.1
"""Log-width of the order-size bump around the typical size in a market of typical orders."""
SIGMA_SMALL, SIGMA_BULK = 0.7, 1.3
"""The bump's width x these at scale 1/4 and 4 (small buyers are alike; bulk buyers vary)."""
MINIMUM_WEIGHT = 3.0
"""At scale 1/4 or below, the minimum quantity weighs this many times its bump weight."""
BULK_FLOOR = 0.025
"""Height of the bulk tail per round quantity, as a share of the bump's peak, at full bulk."""
BULK_FROM, BULK_FULL = 2.0, 3.0
"""The bulk tail appears above scale 2 and is at full height from scale 3 (a market whose
shops start at twice the neutral entry price or more sells to bulk buyers)."""
LOW_SIZE_FACTOR = 0.15
HIGH_SIZE_FACTOR = 10.0
NEUTRAL_ENTRY_USD = 4.0
"""A shop's cheapest first package in a market whose orders are of the typical size."""
SCALE_SPREAD = 2.5
MIN_PRODUCTS_FOR_SCALE = 5
ASSUMPTIONS = (
    "order value: order sizes on round quantities within the listed min/max, log-normal around "
    "a typical order per metric (1000 followers, 500 likes, 5000 views, 20 comments...) costing "
    f"at most ${TYPICAL_ORDER_MAX_USD:.0f}, times the market's order-size scale; small-order "
    "markets weigh the minimum more, bulk markets have a wider spread and a tail up to the "
    "listed maximum",
    "retail shops size packages to what buyers order: the typical order scales with the "
    "price of the cheapest first package shops list",
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


def package_entry_price(offers: Iterable[ListedOffer]) -> float | None:
    """The median over shops of a shop's cheapest first package, in USD.

    A product's first package is its smallest tier; a shop's cheapest first package is the
    lowest of those over its products (the bottom of its range: where buyers order small, it is
    cheap; where they order in bulk, shops start higher). Inputs: package offers of every shop
    (``product_key`` groups a product's tiers). ``None`` with fewer than
    ``MIN_PRODUCTS_FOR_SCALE`` products in all."""
    smallest: dict[tuple[str, str], float] = {}
    for offer in offers:
        if offer.pricing != "package" or not offer.quantity or offer.usd_per_1000 <= 0:
            continue
        key = (offer.site_id, offer.product_key or str(offer.offer_id))
        price = offer.package_usd
        smallest[key] = min(smallest.get(key, price), price)
    if len(smallest) < MIN_PRODUCTS_FOR_SCALE:
        return None
    cheapest: dict[str, float] = {}
    for (site, _), price in smallest.items():
        cheapest[site] = min(cheapest.get(site, price), price)
    return float(np.median(list(cheapest.values())))


def order_size_scale(entry_price: float | None) -> Estimate:
    """How much bigger (or smaller) than ``TYPICAL_UNITS`` orders are in this market, from the
    retail entry price: entry price / ``NEUTRAL_ENTRY_USD``, bounded to [1/8, 8]; low / high
    x/÷ ``SCALE_SPREAD``. Without shops: 1 with the wide bounds ``LOW_SIZE_FACTOR`` ..
    ``HIGH_SIZE_FACTOR`` (the shape cannot be seen at all)."""
    if entry_price is None:
        return Estimate(LOW_SIZE_FACTOR, 1.0, HIGH_SIZE_FACTOR, "no retail packages: unknown")
    scale = min(max(entry_price / NEUTRAL_ENTRY_USD, 1 / 8), 8.0)
    return Estimate(scale / SCALE_SPREAD, scale, scale * SCALE_SPREAD,
                    f"retail entry price ${entry_price:.2f}")


@dataclass(frozen=True, slots=True)
class OrderSizeShape:
    """The order-size model's parameters at one market scale (see the module docstring)."""

    scale: float
    sigma: float
    minimum_weight: float
    floor: float


def order_size_shape(scale: float, *, tail: bool = True) -> OrderSizeShape:
    """The model at ``scale``: the bump's width and the minimum's weight move with
    b = log4(scale) in [-1, 1] (sigma x ``SIGMA_SMALL`` ^ -b below 1, x ``SIGMA_BULK`` ^ b
    above; minimum weight 1 + (``MINIMUM_WEIGHT`` - 1) x max(-b, 0)); the bulk floor ramps up
    (on log scale) from ``BULK_FROM`` to ``BULK_FULL``. ``tail=False``: no floor (low bound)."""
    b = min(max(math.log(scale) / math.log(4.0), -1.0), 1.0)
    sigma = SIGMA * (SIGMA_BULK ** b if b > 0 else SIGMA_SMALL ** -b)
    minimum_weight = 1.0 + (MINIMUM_WEIGHT - 1.0) * max(-b, 0.0)
    ramp = math.log(scale / BULK_FROM) / math.log(BULK_FULL / BULK_FROM)
    floor = BULK_FLOOR * min(max(ramp, 0.0), 1.0) if tail else 0.0
    return OrderSizeShape(scale, sigma, minimum_weight, floor)


def round_quantities(low: int, high: int) -> list[int]:
    """The round quantities in [low, high] (``ROUND_STEPS`` per decade), ``low`` first."""
    quantities: list[int] = []
    power = 1
    while power <= high:
        quantities.extend(int(step * power) for step in ROUND_STEPS
                          if low <= step * power <= high and (step * power).is_integer())
        power *= 10
    if not quantities or quantities[0] != low:
        quantities.insert(0, low)
    return quantities


def typical_size(offer: ListedOffer) -> float:
    """The metric's usual order, capped so that it costs at most ``TYPICAL_ORDER_MAX_USD``."""
    typical = float(TYPICAL_UNITS.get(offer.metric or "", DEFAULT_TYPICAL_UNITS))
    return min(typical, TYPICAL_ORDER_MAX_USD * 1000 / offer.usd_per_1000)


def _limits(offer: ListedOffer) -> tuple[int, int]:
    low, high = offer.min_quantity or 1, offer.max_quantity or 0
    if high and low > high:
        low, high = high, low
    high = min(high or MAX_ORDER_UNITS, MAX_ORDER_UNITS)
    return max(low, 1), max(high, max(low, 1))


def mean_order_size(offer: ListedOffer, shape: OrderSizeShape) -> float:
    """Mean units per order of a per-1000 offer under the order-size model ``shape``."""
    low, high = _limits(offer)
    if low >= high:
        return float(low)
    centre = math.log(min(max(typical_size(offer) * shape.scale, low), high))
    sizes = np.array(round_quantities(low, high), dtype=float)
    z = (np.log(sizes) - centre) / shape.sigma
    weights = np.exp(-0.5 * z * z) + shape.floor
    weights[0] *= shape.minimum_weight
    return float(np.dot(weights, sizes) / weights.sum())


def _per_1000_values(offer: ListedOffer, scale: Estimate) -> tuple[float, float, float]:
    rate = offer.usd_per_1000 / 1000
    central = order_size_shape(scale.central)
    bottom = order_size_shape(scale.low, tail=False)
    top = order_size_shape(scale.high)
    return (rate * mean_order_size(offer, bottom), rate * mean_order_size(offer, central),
            rate * mean_order_size(offer, top))


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
