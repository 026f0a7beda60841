"""Orders per day per seller from the public "orders completed" counter, with rejections kept.

Method (passive "purchase pairs", Kanich et al. 2011): only differences between consecutive
readings are used, never absolute values (counters start at arbitrary offsets and some are
inflated by a constant). Each difference is one *interval*; an interval is accepted or rejected
with a reason:

- ``reset``: the counter went down (reset, re-typed, another counter shown);
- ``frozen``: the counter did not move over at least half a day (a live panel gets orders every
  day: a still counter is typed in by hand or cached);
- ``jump``: the orders per day of the interval are out of line with the seller's own history:
  robust z-score of log(orders per day) against the median and MAD of the seller's other
  positive intervals above ``JUMP_Z`` (a factor of ``JUMP_FACTOR`` when the MAD is zero or there
  are too few intervals to have one).

A seller's rate is the sum of accepted deltas over the sum of accepted days (a ratio estimator:
long intervals weigh more). Fewer than ``MIN_ACCEPTED`` accepted intervals = no usable counter.

Whether a whole counter is out of line with the seller's *catalogue* (a steady multiplier makes
every difference too big by the same factor, which the seller's own history cannot show) is
decided across sellers in :func:`catalogue_outliers`.

Inputs: the readings of one counter of one site (time, value), in any order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

JUMP_Z = 3.5
"""Robust z-score (0.6745 x deviation / MAD, Iglewicz and Hoaglin) above which a rate jumps."""
JUMP_FACTOR = 5.0
"""Fallback when the MAD is unusable: a rate this many times above or below the median jumps."""
FROZEN_MIN_DAYS = 0.5
MIN_ACCEPTED = 2
CATALOGUE_Z = 3.5
"""Robust z of log(orders per day per listed offer) across sellers above which a counter is out
of line with its catalogue."""
CATALOGUE_MIN_MAD = 0.35
"""Floor of the MAD of log(orders per day per offer) across sellers: sellers' volumes are
heavy-tailed, so a handful of similar sellers must not make an ordinary one an outlier (with
the floor, only a counter about 6 times above the typical orders per offer is rejected)."""


@dataclass(frozen=True, slots=True)
class Interval:
    """Two consecutive readings of one counter and the verdict on their difference."""

    start: datetime
    end: datetime
    start_value: int
    end_value: int
    accepted: bool
    reason: str | None

    @property
    def delta(self) -> int:
        return self.end_value - self.start_value

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    @property
    def per_day(self) -> float:
        return self.delta / self.days if self.days > 0 else math.nan


@dataclass(frozen=True, slots=True)
class CounterOrders:
    """The verdict on one seller's counter: every interval (accepted or not, with why) and the
    rate of orders per day from the accepted ones (``None`` when the counter is unusable)."""

    site_id: str
    intervals: tuple[Interval, ...]
    orders_per_day: float | None
    unusable_reason: str | None = None

    @property
    def usable(self) -> bool:
        return self.orders_per_day is not None

    @property
    def rejected(self) -> tuple[Interval, ...]:
        return tuple(interval for interval in self.intervals if not interval.accepted)


def _robust_z(values: np.ndarray, reference: np.ndarray) -> np.ndarray | None:
    median = float(np.median(reference))
    mad = float(np.median(np.abs(reference - median)))
    if mad <= 1e-9:
        return None
    return 0.6745 * (values - median) / mad


def orders_from_counter(site_id: str, readings: Iterable[tuple[datetime, int]]) -> CounterOrders:
    """Orders per day from one seller's counter readings (see the module docstring)."""
    ordered = sorted(readings)
    pairs = [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if b[0] > a[0]]
    verdicts: list[str | None] = []
    for (start, start_value), (end, end_value) in pairs:
        days = (end - start).total_seconds() / 86400
        if end_value < start_value:
            verdicts.append("reset: the counter went down")
        elif end_value == start_value and days >= FROZEN_MIN_DAYS:
            verdicts.append("frozen: the counter did not move")
        else:
            verdicts.append(None)
    candidates = [i for i, verdict in enumerate(verdicts) if verdict is None
                  and pairs[i][1][1] > pairs[i][0][1]]
    if candidates:
        rates = np.array([math.log((pairs[i][1][1] - pairs[i][0][1])
                                   / ((pairs[i][1][0] - pairs[i][0][0]).total_seconds() / 86400))
                          for i in candidates])
        for position, index in enumerate(candidates):
            others = np.delete(rates, position)
            if len(others) >= 3:
                z = _robust_z(rates[position:position + 1], others)
                if z is not None:
                    if abs(float(z[0])) > JUMP_Z:
                        verdicts[index] = (f"jump: {math.exp(rates[position]):.0f} orders/day is "
                                           f"out of line with this seller's history "
                                           f"(robust z {float(z[0]):+.1f})")
                    continue
            if len(others) >= 2:
                median = float(np.median(others))
                if abs(rates[position] - median) > math.log(JUMP_FACTOR):
                    verdicts[index] = (f"jump: {math.exp(rates[position]):.0f} orders/day vs a "
                                       f"median of {math.exp(median):.0f}")
    intervals = tuple(
        Interval(start, end, start_value, end_value, verdict is None, verdict)
        for ((start, start_value), (end, end_value)), verdict in zip(pairs, verdicts, strict=True)
    )
    accepted = [interval for interval in intervals if interval.accepted]
    if len(accepted) < MIN_ACCEPTED:
        reason = (f"{len(accepted)} accepted interval(s) of {len(intervals)}; "
                  f"at least {MIN_ACCEPTED} are needed")
        return CounterOrders(site_id, intervals, None, reason)
    days = sum(interval.days for interval in accepted)
    orders = sum(interval.delta for interval in accepted)
    return CounterOrders(site_id, intervals, orders / days if days > 0 else None)


def catalogue_outliers(rates: Mapping[str, float], offers: Mapping[str, int]) -> dict[str, str]:
    """Sellers whose counter is out of line with their catalogue, with the reason.

    Method: robust z-score of log(orders per day / listed offers) across the sellers with a
    usable counter (MAD floored at ``CATALOGUE_MIN_MAD``); above ``CATALOGUE_Z`` the counter
    is rejected as a whole (a steady
    multiplier inflates every difference alike, so only other sellers can show it). Needs at
    least 5 sellers; with fewer nothing is rejected.
    Inputs: orders per day per seller, listed offers per seller.
    """
    sites = [site for site, rate in rates.items() if rate > 0 and offers.get(site, 0) > 0]
    if len(sites) < 5:
        return {}
    values = np.array([math.log(rates[site] / offers[site]) for site in sites])
    median = float(np.median(values))
    mad = max(float(np.median(np.abs(values - median))), CATALOGUE_MIN_MAD)
    z = 0.6745 * (values - median) / mad
    return {site: (f"out of line with the catalogue: {rates[site]:.0f} orders/day for "
                   f"{offers[site]} offers (robust z {score:+.1f} across sellers)")
            for site, score in zip(sites, z.tolist(), strict=True) if score > CATALOGUE_Z}


CUSTOMERS_RATIO_FACTOR = 1.4
"""An orders counter growing this many times faster, per customer, than other sellers' is
rejected (the customers counter of the same page is the second witness)."""


def customers_outliers(orders: Mapping[str, float], customers: Mapping[str, float]
                       ) -> dict[str, str]:
    """Sellers whose orders counter grows out of line with their own customers counter.

    Method: new customers per own order (customers counter rate / orders rate, both from
    accepted differences) is similar across sellers (each order has some chance to come from a
    new customer); the median over sellers is the reference, and a seller whose ratio is more
    than ``CUSTOMERS_RATIO_FACTOR`` times below it claims orders its customers do not back (an
    inflated growth). Needs at least 4 sellers showing both counters.
    Inputs: own orders per day and new customers per day, per seller.
    """
    ratios = {site: customers[site] / rate for site, rate in orders.items()
              if rate > 0 and customers.get(site, 0) > 0}
    if len(ratios) < 4:
        return {}
    median = float(np.median(list(ratios.values())))
    return {site: (f"out of line with the customers counter: {ratio:.4f} new customers per "
                   f"order against a median of {median:.4f} across sellers")
            for site, ratio in ratios.items() if ratio * CUSTOMERS_RATIO_FACTOR < median}


def rate_in_range(counter: CounterOrders, start: datetime, end: datetime) -> float | None:
    """Orders per day from the accepted intervals that overlap [start, end) (the whole usable
    history when none does): a seller's rate is read where the report looks."""
    if not counter.usable:
        return None
    overlapping = [i for i in counter.intervals if i.accepted and i.end > start and i.start < end]
    if not overlapping:
        return counter.orders_per_day
    days = sum(i.days for i in overlapping)
    return sum(i.delta for i in overlapping) / days if days > 0 else counter.orders_per_day


def daily_orders(counter: CounterOrders) -> list[tuple[datetime, datetime, float, bool, str | None]]:
    """Every interval as (start, end, orders per day, accepted, reason): the daily series."""
    return [(i.start, i.end, i.per_day, i.accepted, i.reason) for i in counter.intervals]


def group_readings(rows: Sequence[tuple[str, datetime, int]]) -> dict[str, list[tuple[datetime, int]]]:
    grouped: dict[str, list[tuple[datetime, int]]] = {}
    for site_id, observed_at, value in rows:
        grouped.setdefault(site_id, []).append((observed_at, value))
    return grouped
