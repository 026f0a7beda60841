"""The price index over time: USD per 1000 by day, week or month, per platform × metric × pricing.

- ``by="day"`` reads the stored daily index (table ``price_index``, kept up to date after every
  crawl; :mod:`storage.price_index` gives the definitions): a year costs a few rows per day.
- ``by="week"`` (ISO weeks, Monday to Sunday) and ``by="month"``: the statistics over the
  distinct offers alive on at least one day of the period, each offer counted once at the price
  of its last period alive in it (the latest ``valid_from``), as ``clickfarm report prices``
  counts one range. Quartiles do not add up across days, so these are computed from the price
  history of the range (one query). A week or month cut by ``start`` / ``end`` counts only its
  days inside the range; ``period_start`` is still its Monday or first day.

Every figure is USD per 1000 units, median and quartiles by linear interpolation between order
statistics, quantized to 6 decimals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from storage.price_index import AlivePeriod, alive_periods, stats_of

BY_CHOICES = ("day", "week", "month")
PRICINGS = ("per_1000", "package")
METHOD = {
    "day": ("per day: the offers whose price period was alive that day (first seen on or before "
            "it, last confirmed on or after it), each at its latest price of the day"),
    "week": ("per ISO week: every offer alive on at least one day of the week, once, at its last "
             "price in the week"),
    "month": ("per month: every offer alive on at least one day of the month, once, at its last "
              "price in the month"),
}
METHOD_TAIL = ("; USD per 1000 at the ECB rate of the day each price was first observed; "
               "median and quartiles by linear interpolation; offers with a USD value above 0")


@dataclass(frozen=True)
class PriceIndexRow:
    """One period × platform × metric × pricing of the index (USD per 1000)."""

    period_start: date
    platform: str
    metric: str
    pricing: str
    median: Decimal
    q1: Decimal
    q3: Decimal
    min: Decimal
    max: Decimal
    offers: int
    sellers: int


def period_start(day: date, by: str) -> date:
    """The first day of the week (Monday) or month holding ``day`` (``day`` itself by day)."""
    if by == "day":
        return day
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    raise ValueError(f"by must be one of {', '.join(BY_CHOICES)}, got {by!r}")


def _next_start(start: date, by: str) -> date:
    if by == "day":
        return start + timedelta(days=1)
    if by == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def price_index_series(engine: Engine, *, start: date, end: date, by: str = "day",
                       platform: str | None = None, metric: str | None = None,
                       pricing: str | None = None) -> list[PriceIndexRow]:
    """The index from ``start`` to ``end`` (inclusive) by ``day``, ``week`` or ``month``, in
    order of period, platform, metric, pricing; periods without offers have no row."""
    if by not in BY_CHOICES:
        raise ValueError(f"by must be one of {', '.join(BY_CHOICES)}, got {by!r}")
    if pricing is not None and pricing not in PRICINGS:
        raise ValueError(f"pricing must be one of {', '.join(PRICINGS)}, got {pricing!r}")
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    if by == "day":
        return _stored_days(engine, start=start, end=end, platform=platform, metric=metric,
                            pricing=pricing)
    with engine.connect() as connection:
        periods = list(alive_periods(connection, start=start, end=end, platform=platform,
                                     metric=metric, pricing=pricing))
    return aggregate(periods, by=by, start=start, end=end)


def aggregate(periods: list[AlivePeriod], *, by: str, start: date, end: date
              ) -> list[PriceIndexRow]:
    """Week or month rows from alive periods (each offer once per period: its last price)."""
    # (bucket, cell) -> offer -> (valid_from, period id, site, usd): the latest period wins.
    latest: dict[tuple[date, tuple[str, str, str]], dict[int, tuple[Any, int, str, Decimal]]] = (
        defaultdict(dict))
    for period in periods:
        first, last = max(period.first_day, start), min(period.last_day, end)
        if first > last:
            continue
        bucket = period_start(first, by)
        key = (period.valid_from, period.period_id)
        while bucket <= last:
            offers = latest[(bucket, period.cell)]
            kept = offers.get(period.offer_id)
            if kept is None or key > kept[:2]:
                offers[period.offer_id] = (period.valid_from, period.period_id, period.site_id,
                                           period.usd)
            bucket = _next_start(bucket, by)
    rows = []
    for (bucket, (platform_id, metric_id, pricing_id)), offers in latest.items():
        values = sorted(entry[3] for entry in offers.values())
        stats = stats_of(values, len({entry[2] for entry in offers.values()}))
        rows.append(PriceIndexRow(bucket, platform_id, metric_id, pricing_id, stats.median,
                                  stats.q1, stats.q3, stats.min, stats.max, stats.offers,
                                  stats.sellers))
    rows.sort(key=lambda row: (row.period_start, row.platform, row.metric, row.pricing))
    return rows


def _stored_days(engine: Engine, *, start: date, end: date, platform: str | None,
                 metric: str | None, pricing: str | None) -> list[PriceIndexRow]:
    """The stored rows, read as plain driver values (a year is thousands of rows)."""
    sql = ("SELECT day, platform, metric, pricing, median, q1, q3, min, max, offers, sellers"
           " FROM price_index WHERE day >= ? AND day <= ?")
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        parameters: list[Any] = [start.isoformat(), end.isoformat()] if sqlite else [start, end]
        for column, value in (("platform", platform), ("metric", metric),
                              ("pricing", pricing)):
            if value is not None:
                sql += f" AND {column} = ?"
                parameters.append(value)
        sql += " ORDER BY day, platform, metric, pricing"
        if not sqlite:
            sql = sql.replace("?", "%s")
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, tuple(parameters))
            rows = cursor.fetchall()
        finally:
            cursor.close()
    days: dict[Any, date] = {}
    result = []
    for day, platform_id, metric_id, pricing_id, median, q1, q3, low, high, offers, sellers \
            in rows:
        when = days.get(day)
        if when is None:
            when = days[day] = date.fromisoformat(day) if isinstance(day, str) else day
        result.append(PriceIndexRow(when, platform_id, metric_id, pricing_id, _money(median),
                                    _money(q1), _money(q3), _money(low), _money(high),
                                    offers, sellers))
    return result


def _money(value: Any) -> Decimal:
    return value if type(value) is Decimal else Decimal(value)


__all__ = ["BY_CHOICES", "METHOD", "PriceIndexRow", "period_start", "price_index_series"]
