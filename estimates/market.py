"""Market size: end-customer orders and spend over a date range, with low / central / high.

Method, step by step (each step's own docstring says more):

1. **Counters** (:mod:`estimates.counters`): orders per day per seller from the accepted
   differences of its public orders counter; implausible differences are rejected with a reason,
   and a counter out of line with its catalogue across sellers, or growing faster per customer
   than other sellers' (the page's customers counter as second witness), is rejected whole.
2. **Double counting** (reseller chains, :mod:`estimates.resellers`): a panel's counter also
   counts the orders its resellers forwarded to it. A panel's *own* (end-customer) orders are its
   counter rate less, for each linked reseller, that reseller's own orders times the share of its
   catalogue linked to the panel. Retail shops are not linked offer by offer (they rename
   services); their orders are taken out of the counted panels in proportion: the shops' orders
   times the share of all panel orders that counters observe.
3. **Sellers without a usable orders counter but with a customers counter** (the page's "happy
   clients"): own orders per day = new customers per day / new customers per own order, the
   median (bounds: 10th and 90th percentiles) over the sellers whose page shows both counters
   and whose orders counter was accepted (:func:`customers_per_order`). **Sellers with neither**
   are imputed from sellers with one: a log-log regression
   of own orders per day on the number of listed offers (numpy least squares), fitted on the
   wholesale panels whose orders were counted or read from customers (upstreams included, at
   their own orders),
   plus the number of discovery sources listing the seller (big sellers are listed everywhere); a seller's central value is the fitted median times
   Duan's smearing factor capped at 2 (a mean for heavy-tailed volumes, robust to one inflated
   or giant counter among few), its high bound the 84 % point times the full smearing factor. Retail shops show no
   counter: a tenth of a median counted panel (x/÷ 4); resellers without one: the mean of
   counted resellers, else the panels' model times ``RESELLER_VOLUME_RATIO`` (a white-label
   reseller sells a fraction of what a wholesale panel of its catalogue sells; high bound: the
   panel's volume). This part is reported
   apart from the observed one.
4. **Order value** (:mod:`estimates.order_value`): each seller's average order value from its
   listed prices and an order-size model, low / central / high; the market's order-size scale
   comes from the retail shops' entry prices (each shop's cheapest first package).
5. **Unseen sellers** (:mod:`estimates.sellers`): capture-recapture over discovery sources
   gives the unseen count; each unseen seller is valued at the median of the seen sellers that
   only one source lists (the seen sellers most like the unseen: small and hard to find); the
   low bound uses their lower quartile, the high bound their mean times the seen sellers'
   high / central ratio. Seen sellers without a stored price list are valued the same way.
6. **Intervals**: a seller's orders and order value err independently: their bounds combine on
   the log scale as the root of the sum of squares of the log half-widths
   (:func:`seller_revenue`); the sellers' bounds add up. The low / high of the model
   (order-size scale, imputation spread, an accepted counter still inflated by up to x2,
   unseen count) are combined with a bootstrap over sellers (scipy.stats.bootstrap, percentile, 90 %, seeded):
   low = model low x min(1, bootstrap 5 % / central), high = model high x max(1, bootstrap
   95 % / central).

Inputs: :class:`estimates.data.MarketData` (counters, offers, discovery sources) and the reseller
links. Pure: nothing is read but the arguments.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from estimates.counters import (
    CounterOrders,
    catalogue_outliers,
    customers_outliers,
    orders_from_counter,
    rate_in_range,
)
from estimates.data import MarketData
from estimates.order_value import ASSUMPTIONS as ORDER_VALUE_ASSUMPTIONS
from estimates.order_value import (
    ListedOffer,
    offer_weight,
    order_size_scale,
    order_value,
    package_entry_price,
)
from estimates.sellers import SellerCount, count_sellers
from estimates.types import Estimate, ordered

BOOTSTRAP_RESAMPLES = 400
BOOTSTRAP_SEED = 20261202
IMPUTATION_Z = 1.0
"""Per-seller imputation bounds: the fitted median x/÷ exp(s) (the 16 % and 84 % points)."""
UNDETECTED_INFLATION = 2.0
"""An accepted counter may still be inflated by a steady multiplier no check caught: the low
bound of a counted seller's orders is its rate / this."""
IMPUTATION_MIN_SIGMA = 0.5
MAX_CATALOGUE_ELASTICITY = 0.6
MAX_LISTING_EFFECT = 0.6
SMEAR_CAP = 2.0
PRIOR_CATALOGUE_ELASTICITY = 0.4
"""Volume ~ catalogue^0.4 when too few counted sellers to fit it (a wholesale list ten times
longer sells a few times more)."""
SHOP_VOLUME_RATIO = 0.1
"""A retail shop's orders per day as a share of a median counted panel's (assumption: shops
serve end customers one package at a time; Devumi, a large shop, had ~200,000 customers over
years, while mid-size panels count hundreds of orders a day). Shops show no counter."""
SHOP_VOLUME_SPREAD = 4.0
RESELLER_VOLUME_SPREAD = 3.0
RESELLER_VOLUME_RATIO = 0.25
"""A reseller panel's own orders per day as a share of a wholesale panel's of the same
catalogue and listing, when fewer than two resellers show a usable counter (assumption: a
white-label reseller sells to the few customers its own site draws, its upstream to the trade;
the high bound keeps the wholesale panel's volume)."""

METHOD = (
    "orders: differences of public orders counters (resets, frozen counters, jumps against the "
    "seller's history (robust z > 3.5 on log orders/day), counters out of line with their "
    "catalogue across sellers or growing faster than the page's customers counter allows "
    "rejected); a panel without a usable orders counter but with a customers counter: its "
    "new customers per day over the median new customers per order of the sellers showing both; "
    "a panel's own orders = its counter less its linked "
    "resellers' own orders (share of their catalogue linked to it) and, in proportion, retail "
    "shops' orders; sellers without a usable counter imputed by a log-log regression of orders "
    "per day on listed offers and the number of sources listing the seller (shops from a "
    "stated share of a median panel; resellers from counted resellers' mean when two or more "
    "have one, else a quarter of a panel of their catalogue, up to a whole one); "
    "revenue = orders x average order value from listed prices and a typical-order-size model "
    "scaled by the market's retail entry price (shops size packages to what buyers order; "
    "bounds x/÷ 2.5, or x0.15 to x10 without shops); unseen sellers counted by "
    "capture-recapture over discovery sources (central: the first-order jackknife for "
    "heterogeneity (Burnham-Overton, model Mh); the interval widened by Chapman for two sources, "
    "for three or more by Chao's Mh lower bound, the Huggins size-covariate model and the "
    "AIC-chosen log-linear Poisson GLM with pairwise dependence) and valued like the sellers "
    "one source lists; "
    "interval = model bounds (a seller's orders and order value as independent errors: log "
    "half-widths combined in quadrature) widened by a seeded percentile bootstrap over sellers "
    "(90 %)"
)
ASSUMPTIONS = (
    "counters count completed orders, one per order, including orders forwarded by resellers",
    "resellers forward every order of a linked service to its upstream",
    "a seller's new customers per own order is like other sellers' (the customers counter then "
    "reads its orders; 10th-90th percentile across sellers as bounds)",
    "sellers without a usable counter sell like counted sellers of the same catalogue size",
    "unseen sellers sell like the seen sellers listed by only one source",
    "capture-recapture assumes a closed population; sellers that are hard to find by every "
    "source bias the seller count low (the high bound is widened by 15 % for it)",
    "market size is end-customer spend: resellers' payments to their upstream are not counted",
    *ORDER_VALUE_ASSUMPTIONS,
)


@dataclass(frozen=True, slots=True)
class SellerEstimate:
    """One seen seller's own end-customer orders and revenue over the range."""

    site_id: str
    kind: str
    """``panel`` (priced per 1000) or ``shop`` (retail packages)."""
    method: str
    """``counter``, ``counter less forwarded orders``, ``customers counter`` or ``imputed``."""
    counter_reason: str | None
    offers: int
    orders_per_day: Estimate
    order_value: Estimate
    revenue: Estimate
    platform_value_share: dict[str, float]
    platform_order_share: dict[str, float]
    listed_by: int


@dataclass(frozen=True, slots=True)
class MarketEstimate:
    start: datetime
    end: datetime
    revenue: Estimate
    revenue_observed: Estimate
    revenue_imputed: Estimate
    revenue_unseen: Estimate
    orders: Estimate
    sellers: SellerCount
    by_platform: dict[str, Estimate]
    sellers_detail: tuple[SellerEstimate, ...]
    counters: dict[str, CounterOrders]
    method: str = METHOD
    assumptions: tuple[str, ...] = ASSUMPTIONS
    notes: tuple[str, ...] = field(default_factory=tuple)


def _kind(offers: list[ListedOffer]) -> str:
    packages = sum(offer.pricing == "package" for offer in offers)
    return "shop" if packages * 2 > len(offers) else "panel"


def _platform_shares(offers: list[ListedOffer], value: float) -> tuple[dict[str, float],
                                                                        dict[str, float]]:
    orders: dict[str, float] = defaultdict(float)
    spend: dict[str, float] = defaultdict(float)
    for offer in offers:
        if offer.usd_per_1000 <= 0:
            continue
        weight = offer_weight(offer.usd_per_1000)
        platform = offer.platform or "other"
        orders[platform] += weight
        spend[platform] += weight * (offer.package_usd if offer.pricing == "package"
                                     else offer.usd_per_1000)
    total_orders, total_spend = sum(orders.values()), sum(spend.values())
    if not total_orders or not total_spend:
        return {}, {}
    return ({p: v / total_spend for p, v in spend.items()},
            {p: v / total_orders for p, v in orders.items()})


@dataclass(frozen=True, slots=True)
class ImputationModel:
    """log(orders/day) = a + b log(offers) + c (sources listing the seller - their mean)."""

    a: float
    b: float
    c: float
    listed_mean: float
    sigma: float
    smear: float


def fit_imputation(rates: Mapping[str, float], offers: Mapping[str, int],
                   listed: Mapping[str, int] | None = None) -> ImputationModel:
    """The volume model of sellers without a usable counter, fitted on counted ones.

    Least squares (numpy.polyfit) of log(orders/day) on log(listed offers) when at least 4
    sellers with different catalogue sizes have a rate; otherwise the prior slope
    ``PRIOR_CATALOGUE_ELASTICITY`` through the mean.
    ``b`` is kept in [0, ``MAX_CATALOGUE_ELASTICITY``]: volume does not fall with catalogue size,
    and grows less than in proportion (a big wholesale list carries many rarely bought
    services; a fit on a few small sellers must not extrapolate a steep slope to a big one).
    Then, with at least 6 sellers, the residuals on the number of discovery sources that list
    the seller (big sellers are listed everywhere), ``c`` kept in [0, ``MAX_LISTING_EFFECT``].
    ``sigma`` is the residual standard deviation, ``smear`` Duan's smearing factor (the mean of
    exp(residual)), which turns the fitted median into a mean (central: capped at
    ``SMEAR_CAP``; high bound: in full). Smearing, not exp(s^2 / 2): volumes are heavy-tailed."""
    sites = [s for s, r in rates.items() if r > 0 and offers.get(s, 0) > 0]
    if not sites:
        raise ValueError("no seller with a usable counter to impute from")
    x = np.array([math.log(offers[s]) for s in sites])
    y = np.array([math.log(rates[s]) for s in sites])
    if len(sites) >= 4 and float(np.ptp(x)) > 0.5:
        b, a = (float(v) for v in np.polyfit(x, y, 1))
        b = min(max(b, 0.0), MAX_CATALOGUE_ELASTICITY)
        a = float(np.mean(y - b * x))
    else:
        b = PRIOR_CATALOGUE_ELASTICITY
        a = float(np.mean(y - b * x))
    residuals = y - a - b * x
    c, listed_mean = 0.0, 0.0
    if listed is not None and len(sites) >= 6:
        z = np.array([float(listed.get(s, 0)) for s in sites])
        listed_mean = float(np.mean(z))
        centred = z - listed_mean
        if float(np.sum(centred ** 2)) > 0:
            c = float(np.sum(centred * residuals) / np.sum(centred ** 2))
            c = min(max(c, 0.0), MAX_LISTING_EFFECT)
            residuals = residuals - c * centred
    dof = max(len(sites) - 1 - (b > 0) - (c > 0), 1)
    sigma = float(np.sqrt(np.sum(residuals ** 2) / dof)) if len(sites) > 1 else 1.0
    return ImputationModel(a, b, c, listed_mean, max(sigma, IMPUTATION_MIN_SIGMA),
                           float(np.mean(np.exp(residuals))))


def _imputed(model: ImputationModel, n_offers: int, listed_by: int) -> Estimate:
    mu = (model.a + model.b * math.log(max(n_offers, 1))
          + model.c * (listed_by - model.listed_mean))
    # central: the smeared mean (volumes are heavy-tailed: a total needs the mean, not the
    # median), the smearing capped so that one inflated or giant counter among few cannot
    # multiply every imputed seller; the full smear enters the high bound
    return ordered(math.exp(mu - IMPUTATION_Z * model.sigma),
                   math.exp(mu) * min(model.smear, SMEAR_CAP),
                   math.exp(mu + IMPUTATION_Z * model.sigma) * model.smear, "imputed")


CUSTOMERS_METHOD = "customers counter"
ORDERS_COUNTER_METHODS = ("counter", "counter less forwarded orders")
CUSTOMERS_MIN_SELLERS = 4


def customers_per_order(own_orders: Mapping[str, float], customers: Mapping[str, float]
                        ) -> Estimate | None:
    """New customers per own order, across the sellers whose page shows both counters and whose
    orders counter was accepted: median (central), 10th and 90th percentiles (bounds).

    Used to read the orders of a seller whose page shows a customers counter but no usable
    orders counter (orders = customers growth / this). Assumption: each order has a similar
    chance to come from a new customer at every seller (the same as the customers-counter check
    of :func:`estimates.counters.customers_outliers`). ``None`` with fewer than
    ``CUSTOMERS_MIN_SELLERS`` such sellers."""
    ratios = [customers[site] / rate for site, rate in own_orders.items()
              if rate > 0 and customers.get(site, 0) > 0]
    if len(ratios) < CUSTOMERS_MIN_SELLERS:
        return None
    low, central, high = (float(v) for v in np.percentile(ratios, [10, 50, 90]))
    return ordered(low, central, high, "new customers per order")


def _spread(central: float, factor: float) -> Estimate:
    return Estimate(central / factor, central, central * factor, "imputed")


def link_shares(links: Iterable[tuple[str, str]], offers: Mapping[str, list[ListedOffer]]
                ) -> dict[str, dict[str, float]]:
    """reseller -> {upstream: share of the reseller's offers linked to that upstream}, from
    (reseller site, upstream site) pairs, one pair per linked reseller offer."""
    counted: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for reseller, upstream in links:
        if reseller != upstream:
            counted[reseller][upstream] += 1
    shares: dict[str, dict[str, float]] = {}
    for reseller, upstreams in counted.items():
        total = max(len(offers.get(reseller, ())), sum(upstreams.values()))
        shares[reseller] = {u: n / total for u, n in upstreams.items()}
    return shares


def estimate_market(data: MarketData, *, links: Iterable[tuple[str, str]] = (),
                    platform: str | None = None, seed: int = BOOTSTRAP_SEED) -> MarketEstimate:
    """The market estimate for ``data`` (see the module docstring).

    ``links``: (reseller site, upstream site) per linked reseller offer (from
    :func:`estimates.resellers.link_resellers`). ``platform``: restrict revenue and orders to
    one platform (sellers are still counted whole).
    """
    days = data.days
    notes: list[str] = []
    counters = {site: orders_from_counter(site, readings)
                for site, readings in data.readings.items()}
    offer_counts = {site: len(offers) for site, offers in data.offers.items()}
    # retail shops' packages only (panels list a few "package" services too)
    size_scale = order_size_scale(package_entry_price(
        offer for offers in data.offers.values() if offers and _kind(offers) == "shop"
        for offer in offers))
    notes.append(f"order-size scale x{size_scale.central:.2f} "
                 f"[{size_scale.low:.2f}, {size_scale.high:.2f}] ({size_scale.method})")
    values = {site: order_value(offers, size_scale) for site, offers in data.offers.items()}
    sellers = sorted(site for site in set(data.sites) | set(data.offers)
                     if values.get(site) is not None)
    kinds = {site: _kind(data.offers[site]) for site in sellers}
    rates: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for site in sellers:
        counter = counters.get(site)
        if counter is None:
            reasons[site] = "no orders counter on the landing page"
            continue
        rate = rate_in_range(counter, data.start, data.end)
        if rate is None:
            reasons[site] = f"counter unusable: {counter.unusable_reason}"
        else:
            rates[site] = rate
    for site, reason in catalogue_outliers(rates, offer_counts).items():
        del rates[site]
        reasons[site] = reason
    shares = link_shares(links, data.offers)
    upstreams_of = {r: u for r, u in shares.items() if r in kinds}
    downstream: dict[str, dict[str, float]] = defaultdict(dict)
    for reseller, ups in upstreams_of.items():
        for upstream, share in ups.items():
            downstream[upstream][reseller] = share
    customer_rates: dict[str, float] = {}
    customers_unusable: dict[str, str] = {}
    for site, readings in data.customer_readings.items():
        customers_counter = orders_from_counter(site, readings)
        rate = rate_in_range(customers_counter, data.start, data.end)
        if rate is not None and rate > 0:
            customer_rates[site] = rate
        else:
            customers_unusable[site] = customers_counter.unusable_reason or "it did not grow"
    customers = {site: rate for site, rate in customer_rates.items() if site in rates}
    rough_own = {site: rate - sum(rates.get(r, 0.0) * share
                                  for r, share in downstream.get(site, {}).items())
                 for site, rate in rates.items()}
    for site, reason in customers_outliers(rough_own, customers).items():
        del rates[site]
        reasons[site] = reason
    # Sellers whose page shows no usable orders counter but a customers counter: their orders
    # from its growth, at the new customers per order of the sellers that show both.
    # (only accepted orders counters: one rejected as inflated would bias the ratio)
    per_order = customers_per_order({s: rough_own[s] for s in rates}, customers)
    from_customers: dict[str, Estimate] = {}
    if per_order is not None:
        for site in sellers:
            if site not in rates and kinds[site] == "panel" and site in customer_rates:
                rate = customer_rates[site]
                from_customers[site] = ordered(rate / per_order.high, rate / per_order.central,
                                               rate / per_order.low, CUSTOMERS_METHOD)
    # Imputation model: fitted on the wholesale panels' own orders, counted (counter less the
    # counted resellers' orders) or read from a customers counter: big panels are the ones
    # resellers buy from, so leaving the upstreams out would fit the volume of a big catalogue
    # on small panels only.
    panels = {s: rough_own[s] for s in rates
              if kinds[s] == "panel" and s not in upstreams_of and rough_own[s] > 0}
    panels.update({s: read.central for s, read in from_customers.items()
                   if s not in upstreams_of})
    pure = panels or dict(rates)
    if not pure:
        raise ValueError("no seller has a usable orders counter: the market cannot be sized")
    listed_by = {site: len(data.histories.get(site, ())) for site in sellers}
    model = fit_imputation(pure, offer_counts, listed_by)
    panel_median = float(np.median(list(pure.values())))
    counted_resellers = [rate for s, rate in rates.items() if s in upstreams_of] + [
        read.central for s, read in from_customers.items() if s in upstreams_of]
    own: dict[str, Estimate] = {}
    methods: dict[str, str] = {}
    for site in sellers:
        if site in rates:
            continue
        if site in from_customers:
            own[site] = from_customers[site]
            methods[site] = CUSTOMERS_METHOD
            continue
        methods[site] = "imputed"
        # the evidence of why the page's customers counter could not stand in
        if site in customers_unusable:
            reasons[site] = (f"{reasons.get(site, '')}; customers counter unusable: "
                             f"{customers_unusable[site]}")
        elif site in customer_rates and kinds[site] == "panel":
            reasons[site] = (f"{reasons.get(site, '')}; customers counter not read: fewer than "
                             f"{CUSTOMERS_MIN_SELLERS} sellers show it beside an accepted "
                             "orders counter")
        if kinds[site] == "shop":
            own[site] = _spread(panel_median * SHOP_VOLUME_RATIO, SHOP_VOLUME_SPREAD)
        elif site in upstreams_of and len(counted_resellers) >= 2:
            own[site] = _spread(float(np.mean(counted_resellers)), RESELLER_VOLUME_SPREAD)
        elif site in upstreams_of:
            # a reseller like a panel of its catalogue, times the share a reseller sells of
            # what such a panel sells; its high bound stays the panel's
            as_panel = _imputed(model, offer_counts[site], listed_by[site])
            own[site] = ordered(as_panel.low * RESELLER_VOLUME_RATIO,
                                as_panel.central * RESELLER_VOLUME_RATIO, as_panel.high,
                                "imputed")
        else:
            own[site] = _imputed(model, offer_counts[site], listed_by[site])
    # Resellers first (their own orders are taken out of their upstream's counter).
    order = sorted(sellers, key=lambda site: (site not in upstreams_of, site))
    for site in order:
        if site not in rates:
            continue
        forwarded_low = forwarded_central = forwarded_high = 0.0
        for reseller, share in downstream.get(site, {}).items():
            reseller_own = own.get(reseller) or (
                Estimate(rates[reseller], rates[reseller], rates[reseller])
                if reseller in rates else None)
            if reseller_own is None:
                continue
            forwarded_low += reseller_own.low * share
            forwarded_central += reseller_own.central * share
            forwarded_high += reseller_own.high * share
        rate = rates[site]
        if forwarded_central:
            own[site] = ordered(max(rate / UNDETECTED_INFLATION - forwarded_high, 0.0),
                                max(rate - forwarded_central, 0.0),
                                max(rate - forwarded_low, 0.0), "counter less forwarded orders")
            methods[site] = "counter less forwarded orders"
        else:
            own[site] = Estimate(rate / UNDETECTED_INFLATION, rate, rate, "counter")
            methods[site] = "counter"
    # Retail shops forward every order upstream; unlinked, they come out of counted panels pro rata.
    shop_orders = sum(own[s].central for s in sellers if kinds[s] == "shop")
    counted_panels = [s for s in sellers if s in rates and kinds[s] == "panel"]
    panel_total = sum(own[s].central for s in sellers if kinds[s] == "panel")
    if shop_orders and counted_panels and panel_total:
        counted_share = sum(own[s].central for s in counted_panels) / panel_total
        removed = shop_orders * counted_share
        counted_total = sum(own[s].central for s in counted_panels)
        factor = max(1 - removed / counted_total, 0.0) if counted_total else 1.0
        for site in counted_panels:
            own[site] = own[site].scaled(factor)
        notes.append(f"retail shops' orders taken out of counted panels: x{factor:.3f}")
    known = set(data.sites) | set(data.offers)
    count = count_sellers(data.histories, seen=len(known),
                          size={site: math.log(max(own[site].central, 0.1)) for site in sellers})
    unvalued = len(known) - len(sellers)
    if unvalued:
        notes.append(f"{unvalued} seen seller(s) without a stored price list valued like unseen "
                     "ones")
    details = []
    for site in sellers:
        value = values[site]
        assert value is not None
        value_share, order_share = _platform_shares(data.offers[site], value.central)
        orders = own[site].scaled(days)
        if platform is not None:
            orders = orders.scaled(order_share.get(platform, 0.0))
            value = value.scaled(value_share.get(platform, 0.0) / order_share[platform]
                                 if order_share.get(platform) else 0.0)
        revenue = seller_revenue(orders, value, methods[site])
        details.append(SellerEstimate(
            site_id=site, kind=kinds[site], method=methods[site],
            counter_reason=reasons.get(site), offers=offer_counts[site],
            orders_per_day=own[site], order_value=value, revenue=revenue,
            platform_value_share=value_share, platform_order_share=order_share,
            listed_by=len(data.histories.get(site, ()))))
    observed = _total(d.revenue for d in details if d.method != "imputed")
    imputed = _total(d.revenue for d in details if d.method == "imputed")
    seen_revenue = observed + imputed
    seen_orders = _total(ordered(d.orders_per_day.low * days, d.orders_per_day.central * days,
                                 d.orders_per_day.high * days) for d in details)
    if platform is not None:
        seen_orders = _total(d.orders_per_day.scaled(days * d.platform_order_share.get(
            platform, 0.0)) for d in details)
    unseen, unseen_orders = _unseen(details, count, days, unvalued)
    revenue = seen_revenue + unseen
    orders = seen_orders + unseen_orders
    ratio_low, ratio_high = _bootstrap_ratios([d.revenue.central for d in details], seed)
    # the observed part is in the total whatever the bootstrap says of the rest
    revenue = ordered(max(revenue.low * min(1.0, ratio_low), observed.low), revenue.central,
                      revenue.high * max(1.0, ratio_high))
    orders = ordered(orders.low * min(1.0, ratio_low), orders.central,
                     orders.high * max(1.0, ratio_high))
    by_platform: dict[str, Estimate] = {}
    if platform is not None:
        if revenue.central > 0:
            by_platform[platform] = revenue
    elif revenue.central > 0:
        spend: dict[str, float] = defaultdict(float)
        for d in details:
            for p, share in d.platform_value_share.items():
                spend[p] += d.revenue.central * share
        seen_total = sum(spend.values())
        for p, amount in sorted(spend.items()):
            if platform is not None and p != platform:
                continue
            share = amount / seen_total if seen_total else 0.0
            by_platform[p] = revenue.scaled(share)
    return MarketEstimate(
        start=data.start, end=data.end,
        revenue=Estimate(revenue.low, revenue.central, revenue.high, METHOD, ASSUMPTIONS),
        revenue_observed=observed, revenue_imputed=imputed, revenue_unseen=unseen,
        orders=orders, sellers=count, by_platform=by_platform, sellers_detail=tuple(details),
        counters=counters, notes=tuple(notes))


def _log_width(bound: float, central: float) -> float:
    """|log(bound / central)|; infinite when either is not positive."""
    return abs(math.log(bound / central)) if bound > 0 and central > 0 else math.inf


def seller_revenue(orders: Estimate, value: Estimate, method: str = "") -> Estimate:
    """A seller's revenue: orders x order value. The two errors are independent (the orders come
    from counters or the volume model, the order value from the order-size model), so their
    bounds combine on the log scale as the root of the sum of squares of their log half-widths
    (the product of the bounds, both at their extreme at once, where a width is not finite)."""
    central = orders.central * value.central
    down = math.hypot(_log_width(orders.low, orders.central), _log_width(value.low, value.central))
    up = math.hypot(_log_width(orders.high, orders.central),
                    _log_width(value.high, value.central))
    low = central * math.exp(-down) if math.isfinite(down) else orders.low * value.low
    high = central * math.exp(up) if math.isfinite(up) else orders.high * value.high
    return ordered(low, central, high, method)


def _total(estimates: Iterable[Estimate]) -> Estimate:
    low = central = high = 0.0
    for estimate in estimates:
        low += estimate.low
        central += estimate.central
        high += estimate.high
    return Estimate(low, central, high)


def _unseen(details: list[SellerEstimate], count: SellerCount, days: float, unvalued: int = 0
            ) -> tuple[Estimate, Estimate]:
    """Unseen sellers' revenue and orders: the unseen count x a seen seller's figures (seen
    sellers without a price list, ``unvalued``, are counted with the unseen)."""
    count = SellerCount(count.seen, count.estimate, count.unseen + Estimate(
        float(unvalued), float(unvalued), float(unvalued)), count.sources, count.model)
    if count.unseen.high <= 0 or not details:
        return Estimate(0.0, 0.0, 0.0), Estimate(0.0, 0.0, 0.0)
    # unseen sellers are the hard-to-find, mostly small ones: like the sellers one source lists
    singles = [d for d in details if d.listed_by == 1] or details
    single_revenue = sorted(d.revenue.central for d in singles)
    # The median of the sellers one source lists, not the size-covariate model's weights
    # (Horvitz-Thompson): with a few dozen sellers its slope is unstable, and valuing the unseen
    # by it made held-out markets worse in the validation.
    typical = float(np.median(single_revenue))
    seen_central = sum(d.revenue.central for d in details)
    high_ratio = sum(d.revenue.high for d in details) / seen_central if seen_central else 1.0
    revenue = ordered(count.unseen.low * float(np.percentile(single_revenue, 25)) * 0.5,
                      count.unseen.central * typical,
                      count.unseen.high * float(np.mean(single_revenue)) * high_ratio)
    single_orders = [d.orders_per_day.central * days for d in singles]
    orders = ordered(count.unseen.low * float(np.percentile(single_orders, 25)) * 0.5,
                     count.unseen.central * float(np.median(single_orders)),
                     count.unseen.high * float(np.mean(
                         [d.orders_per_day.high * days for d in details])))
    return revenue, orders


def _bootstrap_ratios(revenues: list[float], seed: int) -> tuple[float, float]:
    """Seeded percentile bootstrap over sellers of the seen total: (5 %, 95 %) / central."""
    from scipy.stats import bootstrap  # type: ignore[import-untyped]

    values = np.array(revenues, dtype=float)
    total = float(values.sum())
    if len(values) < 3 or total <= 0:
        return 1.0, 1.0
    result = bootstrap((values,), np.sum, n_resamples=BOOTSTRAP_RESAMPLES,
                       confidence_level=0.90, method="percentile",
                       rng=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return float(low) / total, float(high) / total


@dataclass(frozen=True, slots=True)
class DailyRow:
    """One seller on one day: the row of ``market_daily_estimate``."""

    site_id: str
    day: date
    method: str
    counter_accepted: bool | None
    reason: str | None
    orders: float
    revenue_low: float
    revenue_central: float
    revenue_high: float


def daily_series(estimate: MarketEstimate) -> list[DailyRow]:
    """Orders and revenue per seller per day: the counter's accepted days at the seller's own
    share of its counter; rejected days and imputed sellers at the seller's rate (flagged)."""
    rows: list[DailyRow] = []
    day = estimate.start
    days = []
    while day < estimate.end:
        days.append(day)
        day += timedelta(days=1)
    for detail in estimate.sellers_detail:
        counter = estimate.counters.get(detail.site_id)
        value = detail.order_value
        rate = detail.orders_per_day
        own_share = 1.0
        if counter is not None and detail.method in ORDERS_COUNTER_METHODS:
            counted_rate = rate_in_range(counter, estimate.start, estimate.end) or 0.0
            own_share = rate.central / counted_rate if counted_rate else 0.0
        for day_start in days:
            day_end = day_start + timedelta(days=1)
            accepted: bool | None = None
            reason = detail.counter_reason
            orders = rate.central
            method = detail.method
            if counter is not None and counter.intervals:
                covering = [i for i in counter.intervals if i.start < day_end and i.end > day_start]
                if covering:
                    accepted = all(i.accepted for i in covering)
                    rejected = [i.reason for i in covering if not i.accepted and i.reason]
                    reason = "; ".join(rejected) if rejected else detail.counter_reason
                    if accepted and detail.method in ORDERS_COUNTER_METHODS:
                        orders = float(np.mean([i.per_day for i in covering])) * own_share
                if detail.method not in ORDERS_COUNTER_METHODS and accepted:
                    accepted = False  # the orders counter as a whole was not used
            rows.append(DailyRow(
                site_id=detail.site_id, day=day_start.date(), method=method,
                counter_accepted=accepted, reason=reason, orders=orders,
                revenue_low=orders * value.low, revenue_central=orders * value.central,
                revenue_high=orders * value.high))
    return rows
