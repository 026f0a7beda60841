"""The stored daily price index: one row per day × platform × metric × pricing.

``price_index`` holds, for every day and class (platform, metric, pricing), the median, first and
third quartiles, min and max of USD per 1000 over the offers *alive* that day, with the number of
offers and of distinct sellers. Long ranges then read a few rows per day instead of the price
history.

Definitions (the same as ``clickfarm report prices`` over a one-day range):

- a price period is **alive on day D** (UTC) when it was first seen on or before D and last
  confirmed on or after D: ``valid_from < D + 1`` and ``last_confirmed_at >= D``. A crawl that
  sees the same values moves ``last_confirmed_at``, so a period is alive from the day it was
  first seen to the day a crawl last saw it. Days after the last crawl that saw it (a removed
  offer, a seller no longer crawled, a failed run) do not count: the price is not known there;
  between two crawls that saw the same values (a weekly crawl) it counts every day;
- each offer counts once per day: its alive period with the latest ``valid_from`` (a price
  changed by a second crawl the same day counts at its new value);
- only offers with a platform, a metric and a USD value above zero (free services listed at 0
  are no price); ``pricing`` keeps panel rates (``per_1000``) and retail packages (``package``)
  apart;
- median and quartiles by linear interpolation between order statistics, quantized to 6
  decimals like the stored ``usd_per_1000``.

Maintenance: :func:`refresh_after_run` runs inside :func:`storage.repository.complete_run` (the
same transaction) for the cells the run can have changed — the days on which its offers became
alive (the crawl day; the days between two crawls when a period was confirmed after a gap) and
the classes of those offers. A removal or a price change never changes an earlier day (the old
period keeps its ``last_confirmed_at``). :func:`rebuild` recomputes everything in one sweep of the
history (``clickfarm db refresh-price-index``).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    tuple_,
)

from storage.db import write_transaction
from storage.models import offer_table, period_table, price_index_table
from storage.types import decimal_from_db

USD_QUANTUM = Decimal("0.000001")
_HALF, _QUARTER, _THREE_QUARTERS = Decimal("0.5"), Decimal("0.25"), Decimal("0.75")
ONE_DAY = timedelta(days=1)

Cell = tuple[str, str, str]
"""(platform, metric, pricing)."""


@dataclass(frozen=True, slots=True)
class CellStats:
    median: Decimal
    q1: Decimal
    q3: Decimal
    min: Decimal
    max: Decimal
    offers: int
    sellers: int


@dataclass(frozen=True, slots=True)
class AlivePeriod:
    """A price period that may count in the index, with the days it is alive on (inclusive)."""

    platform: str
    metric: str
    pricing: str
    site_id: str
    offer_id: int
    period_id: int
    valid_from: Any
    """Raw, only compared (text on SQLite, datetime on PostgreSQL)."""
    first_day: date
    last_day: date
    usd: Decimal

    @property
    def cell(self) -> Cell:
        return (self.platform, self.metric, self.pricing)


def quantile(sorted_values: list[Decimal], fraction: Decimal) -> Decimal:
    """Linear interpolation between order statistics (the 'inclusive' method), in Decimal."""
    if not sorted_values:
        raise ValueError("no values")
    position = (len(sorted_values) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * weight


def stats_of(sorted_values: list[Decimal], sellers: int) -> CellStats:
    """The statistics of one cell from its sorted USD values."""
    return CellStats(
        median=quantile(sorted_values, _HALF).quantize(USD_QUANTUM),
        q1=quantile(sorted_values, _QUARTER).quantize(USD_QUANTUM),
        q3=quantile(sorted_values, _THREE_QUARTERS).quantize(USD_QUANTUM),
        min=sorted_values[0].quantize(USD_QUANTUM),
        max=sorted_values[-1].quantize(USD_QUANTUM),
        offers=len(sorted_values),
        sellers=sellers,
    )


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _day_expression(connection: Connection, column: Any) -> Any:
    """The UTC day of a timestamp column: ISO text on SQLite, a date on PostgreSQL."""
    if connection.dialect.name == "sqlite":
        return literal_column(f"substr({column.table.name}.{column.name}, 1, 10)")
    return literal_column(f"CAST(({column.table.name}.{column.name} AT TIME ZONE 'UTC') AS DATE)")


def _positive(connection: Connection) -> Any:
    # SQLite keeps money as text: "usd_per_1000 > 0" would compare text ('0.000000' > '0').
    if connection.dialect.name == "sqlite":
        return literal_column("CAST(offer_price_period.usd_per_1000 AS REAL) > 0")
    return period_table.c.usd_per_1000 > 0


def alive_periods(connection: Connection, *, start: date, end: date,
                  cells: Iterable[Cell] | None = None,
                  platform: str | None = None, metric: str | None = None,
                  pricing: str | None = None) -> Iterator[AlivePeriod]:
    """Every counted price period alive on at least one day of ``start .. end``, with its alive
    days clipped to that range (one query; ``cells`` restricts the classes)."""
    offers, periods = offer_table, period_table
    query = (
        select(offers.c.platform, offers.c.metric, offers.c.pricing, offers.c.site_id,
               periods.c.offer_id, periods.c.id, periods.c.valid_from,
               _day_expression(connection, periods.c.valid_from).label("first_day"),
               _day_expression(connection, periods.c.last_confirmed_at).label("last_day"),
               periods.c.usd_per_1000)
        .select_from(periods.join(offers, offers.c.id == periods.c.offer_id))
        .where(periods.c.last_confirmed_at >= day_start(start),
               periods.c.valid_from < day_start(end + ONE_DAY),
               periods.c.usd_per_1000.is_not(None), _positive(connection),
               offers.c.platform.is_not(None), offers.c.metric.is_not(None))
    )
    if platform is not None:
        query = query.where(offers.c.platform == platform)
    if metric is not None:
        query = query.where(offers.c.metric == metric)
    if pricing is not None:
        query = query.where(offers.c.pricing == pricing)
    wanted = set(cells) if cells is not None else None
    if wanted is not None:
        if not wanted:
            return
        if len(wanted) <= 200:
            query = query.where(tuple_(offers.c.platform, offers.c.metric, offers.c.pricing)
                                .in_(sorted(wanted)))
    parse_day = _day_parser()
    # valid_from raw (no type processing): only compared, and parsing it costs.
    result = connection.execute(query.execution_options(yield_per=20_000))
    for row in result:
        cell = (row[0], row[1], row[2])
        if wanted is not None and cell not in wanted:
            continue
        first, last = parse_day(row[7]), parse_day(row[8])
        yield AlivePeriod(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                          max(first, start), min(last, end), decimal_from_db(row[9]) or Decimal(0))


def _day_parser() -> Any:
    cache: dict[Any, date] = {}

    def parse(value: Any) -> date:
        if isinstance(value, date):
            return value
        day = cache.get(value)
        if day is None:
            day = cache[value] = date.fromisoformat(value)
        return day

    return parse


def _segments(periods: Iterable[AlivePeriod]) -> Iterator[tuple[AlivePeriod, date, date]]:
    """Per offer, the days each period counts on: where two alive periods of one offer share a
    day, the later ``valid_from`` wins it."""
    by_offer: dict[int, list[AlivePeriod]] = defaultdict(list)
    for period in periods:
        by_offer[period.offer_id].append(period)
    for offer_periods in by_offer.values():
        if len(offer_periods) == 1:
            only = offer_periods[0]
            if only.first_day <= only.last_day:
                yield only, only.first_day, only.last_day
            continue
        offer_periods.sort(key=lambda p: (p.valid_from, p.period_id), reverse=True)
        covered: list[tuple[date, date]] = []
        for period in offer_periods:
            first, last = period.first_day, period.last_day
            # A later period wins every day it covers; remove those days from this one.
            for other_first, other_last in covered:
                if other_first <= last and other_last >= first:
                    if other_first <= first:
                        first = max(first, other_last + ONE_DAY)
                    else:
                        last = min(last, other_first - ONE_DAY)
            if first <= last:
                yield period, first, last
            covered.append((period.first_day, period.last_day))


def daily_cells(periods: Iterable[AlivePeriod], *, start: date, end: date,
                days: set[date] | None = None) -> Iterator[tuple[date, Cell, CellStats]]:
    """The statistics of every (day, cell) with at least one offer, days ``start .. end`` (or
    only ``days``): one sweep per cell, a sorted list updated as periods start and end."""
    starts: dict[Cell, dict[date, list[tuple[Decimal, str]]]] = defaultdict(
        lambda: defaultdict(list))
    ends: dict[Cell, dict[date, list[tuple[Decimal, str]]]] = defaultdict(
        lambda: defaultdict(list))
    for period, first, last in _segments(periods):
        first, last = max(first, start), min(last, end)
        if first > last:
            continue
        entry = (period.usd, period.site_id)
        starts[period.cell][first].append(entry)
        ends[period.cell][last + ONE_DAY].append(entry)
    for cell in sorted(starts):
        cell_starts, cell_ends = starts[cell], ends[cell]
        event_days = sorted(set(cell_starts) | set(cell_ends))
        values: list[Decimal] = []
        sellers: Counter[str] = Counter()
        for index, event_day in enumerate(event_days):
            for usd, site_id in cell_ends.get(event_day, ()):
                del values[bisect.bisect_left(values, usd)]
                sellers[site_id] -= 1
                if not sellers[site_id]:
                    del sellers[site_id]
            for usd, site_id in cell_starts.get(event_day, ()):
                bisect.insort(values, usd)
                sellers[site_id] += 1
            if not values:
                continue
            stats = stats_of(values, len(sellers))
            following = event_days[index + 1] if index + 1 < len(event_days) else end + ONE_DAY
            day = event_day
            while day < following:
                if days is None or day in days:
                    yield day, cell, stats
                day += ONE_DAY


def _write_cells(connection: Connection, rows: Iterable[tuple[date, Cell, CellStats]]) -> int:
    batch: list[dict[str, Any]] = []
    written = 0
    for day, (platform, metric, pricing), stats in rows:
        batch.append({"day": day, "platform": platform, "metric": metric, "pricing": pricing,
                      "median": stats.median, "q1": stats.q1, "q3": stats.q3,
                      "min": stats.min, "max": stats.max, "offers": stats.offers,
                      "sellers": stats.sellers})
        if len(batch) >= 5_000:
            connection.execute(insert(price_index_table), batch)
            written += len(batch)
            batch = []
    if batch:
        connection.execute(insert(price_index_table), batch)
        written += len(batch)
    return written


def refresh_cells(connection: Connection, touched: dict[date, set[Cell]]) -> int:
    """Recompute the given (day, cell) pairs from the price history, in the caller's
    transaction; returns the rows written. A cell with no offer left loses its row."""
    written = 0
    table = price_index_table
    for day in sorted(touched):
        cells = touched[day]
        if not cells:
            continue
        connection.execute(delete(table).where(
            table.c.day == day,
            or_(*(and_(table.c.platform == p, table.c.metric == m, table.c.pricing == c)
                  for p, m, c in sorted(cells))) if len(cells) <= 200 else
            tuple_(table.c.platform, table.c.metric, table.c.pricing).in_(sorted(cells))))
        periods = alive_periods(connection, start=day, end=day, cells=cells)
        written += _write_cells(connection, daily_cells(periods, start=day, end=day))
    return written


def rebuild(engine: Engine, *, start: date | None = None, end: date | None = None) -> int:
    """Recompute the whole index (or the days ``start .. end``) in one transaction; returns the
    rows written."""
    with write_transaction(engine) as connection:
        return rebuild_in(connection, start=start, end=end)


def rebuild_in(connection: Connection, *, start: date | None = None,
               end: date | None = None) -> int:
    """:func:`rebuild` inside the caller's transaction (the migration's backfill)."""
    if start is None or end is None:
        bounds = connection.execute(select(
            func.min(period_table.c.valid_from), func.max(period_table.c.last_confirmed_at))).one()
        if bounds[0] is None:
            connection.execute(delete(price_index_table))
            return 0
        parse = _day_parser()
        low = _as_day(bounds[0], parse)
        high = _as_day(bounds[1], parse)
        start = start or low
        end = end or high
    table = price_index_table
    connection.execute(delete(table).where(table.c.day >= start, table.c.day <= end))
    periods = alive_periods(connection, start=start, end=end)
    return _write_cells(connection, daily_cells(periods, start=start, end=end))


def _as_day(value: Any, parse: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return parse(str(value)[:10])


def refresh_after_run(connection: Connection, touched: dict[date, set[Cell]]) -> int:
    """Called by :func:`storage.repository.complete_run` with the cells its run touched."""
    return refresh_cells(connection, touched)


__all__ = [
    "AlivePeriod",
    "Cell",
    "CellStats",
    "alive_periods",
    "daily_cells",
    "quantile",
    "rebuild",
    "refresh_after_run",
    "refresh_cells",
    "stats_of",
]
