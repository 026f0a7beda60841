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
same transaction). Beside each cell, ``price_index_part`` keeps what one seller adds to it over
a run of days (its offers' sorted values). A run rewrites only its own seller's parts of the
days it touched: on the usual path the crawl day, with the values the run holds in memory (an
unchanged part is carried forward: its ``last_day`` moves), then recomputes the cells it changed
from the parts covering the day. The history is read back (for that seller only) for the days
between a confirmation and the previous one, a second crawl the same day, a crawl older than the
stored ones, and the whole history of an offer moved to another class. A removal or a price
change never changes an earlier day (the old period keeps its ``last_confirmed_at``).
:func:`rebuild` recomputes parts and cells in one sweep of the history (``clickfarm db
refresh-price-index``, the migration's backfill).
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
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import text as sql_text

from storage.db import write_transaction
from storage.models import period_table, price_index_part_table, price_index_table
from storage.types import datetime_to_text

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


def alive_periods(connection: Connection, *, start: date, end: date,
                  cells: Iterable[Cell] | None = None, site_id: str | None = None,
                  platform: str | None = None, metric: str | None = None,
                  pricing: str | None = None) -> Iterator[AlivePeriod]:
    """Every counted price period alive on at least one day of ``start .. end``, with its alive
    days clipped to that range (one plain query read on the driver's cursor; ``cells``
    restricts the classes)."""
    raw = _Raw(connection)
    if raw.sqlite:
        def day_of(column: str) -> str:
            return f"substr({column}, 1, 10)"
        positive = "CAST(p.usd_per_1000 AS REAL) > 0"  # SQLite money is text: '0.0' > 0
        low: Any = datetime_to_text(day_start(start))
        high: Any = datetime_to_text(day_start(end + ONE_DAY))
    else:
        def day_of(column: str) -> str:
            return f"CAST(({column} AT TIME ZONE 'UTC') AS DATE)"
        positive = "p.usd_per_1000 > 0"
        low, high = day_start(start), day_start(end + ONE_DAY)
    sql = ("SELECT o.platform, o.metric, o.pricing, o.site_id, p.offer_id, p.id, p.valid_from, "
           f"{day_of('p.valid_from')}, {day_of('p.last_confirmed_at')}, p.usd_per_1000"
           " FROM offer_price_period AS p JOIN offer AS o ON o.id = p.offer_id"
           " WHERE p.last_confirmed_at >= ? AND p.valid_from < ?"
           f" AND p.usd_per_1000 IS NOT NULL AND {positive}"
           " AND o.platform IS NOT NULL AND o.metric IS NOT NULL")
    parameters: list[Any] = [low, high]
    for column, value in (("o.site_id", site_id), ("o.platform", platform),
                          ("o.metric", metric), ("o.pricing", pricing)):
        if value is not None:
            sql += f" AND {column} = ?"
            parameters.append(value)
    wanted = set(cells) if cells is not None else None
    if wanted is not None and not wanted:
        return
    parse_day = _day_parser()
    for row in raw.rows(sql, tuple(parameters)):
        if wanted is not None and (row[0], row[1], row[2]) not in wanted:
            continue
        usd = row[9] if type(row[9]) is Decimal else Decimal(row[9])
        yield AlivePeriod(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                          max(parse_day(row[7]), start), min(parse_day(row[8]), end), usd)


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
    day (a change seen the day of the last confirmation), the later ``valid_from`` wins it.

    Linear per offer in the usual case, where the days won by later periods form one block;
    an interval subtraction otherwise."""
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
        region: tuple[date, date] | None = None  # the days later periods won, one block
        covered: list[tuple[date, date]] | None = None  # several blocks (rare)
        for period in offer_periods:
            first, last = period.first_day, period.last_day
            if first > last:
                continue
            blocks = covered if covered is not None else ([region] if region else [])
            for piece_first, piece_last in _subtract((first, last), blocks):
                yield period, piece_first, piece_last
            if covered is not None:
                covered.append((first, last))
            elif region is None:
                region = (first, last)
            elif last + ONE_DAY >= region[0] and first <= region[1] + ONE_DAY:
                region = (min(first, region[0]), max(last, region[1]))
            else:
                covered = [region, (first, last)]


def _subtract(interval: tuple[date, date], blocks: list[tuple[date, date]]
              ) -> list[tuple[date, date]]:
    """The days of ``interval`` outside every block (inclusive day ranges)."""
    pieces = [interval]
    for block_first, block_last in blocks:
        kept = []
        for first, last in pieces:
            if block_last < first or block_first > last:
                kept.append((first, last))
                continue
            if first < block_first:
                kept.append((first, block_first - ONE_DAY))
            if last > block_last:
                kept.append((block_last + ONE_DAY, last))
        pieces = kept
    return pieces


def prices_text(values: Iterable[Decimal | str]) -> str:
    """A seller's values in one cell as stored in ``price_index_part.prices``: exact decimal
    text (a ``str`` is taken as SQLite stores money: already that text), sorted by value,
    space-separated (one value per offer)."""
    texts = [value if isinstance(value, str) else format(value, "f") for value in values]
    texts.sort(key=float)
    return " ".join(texts)


@dataclass(slots=True)
class _Part:
    id: int | None
    cell: Cell
    first_day: date
    last_day: date
    prices: str


def site_contributions(periods: Iterable[AlivePeriod], *, start: date, end: date
                       ) -> dict[str, dict[Cell, list[tuple[date, date, str]]]]:
    """Per seller and cell, the maximal runs of days on which the seller's values are the same:
    ``(first_day, last_day, prices_text)`` in day order (days without a value have no run)."""
    return _runs(list(_segments(periods)), start=start, end=end)


def _runs(segments: list[tuple[AlivePeriod, date, date]], *, start: date, end: date
          ) -> dict[str, dict[Cell, list[tuple[date, date, str]]]]:
    events: dict[tuple[str, Cell], dict[date, list[tuple[int, str]]]] = defaultdict(
        lambda: defaultdict(list))
    for period, first, last in segments:
        first, last = max(first, start), min(last, end)
        if first > last:
            continue
        key = (period.site_id, period.cell)
        text = format(period.usd, "f")
        events[key][first].append((1, text))
        events[key][last + ONE_DAY].append((-1, text))
    result: dict[str, dict[Cell, list[tuple[date, date, str]]]] = defaultdict(dict)
    for (site_id, cell), by_day in events.items():
        values: Counter[str] = Counter()
        runs: list[tuple[date, date, str]] = []
        days = sorted(by_day)
        for index, day in enumerate(days):
            for sign, usd in by_day[day]:
                values[usd] += sign
                if not values[usd]:
                    del values[usd]
            if not values or index + 1 == len(days):
                continue
            text = " ".join(sorted(values.elements(), key=float))
            last = days[index + 1] - ONE_DAY
            if runs and runs[-1][2] == text and runs[-1][1] + ONE_DAY == day:
                runs[-1] = (runs[-1][0], last, text)
            else:
                runs.append((day, last, text))
        if runs:
            result[site_id][cell] = runs
    return result


def _daily_cells(segments: list[tuple[AlivePeriod, date, date]], *, start: date, end: date
                 ) -> Iterator[tuple[date, Cell, CellStats]]:
    """The statistics of every (day, cell) with at least one offer: one sweep per cell over
    the offers' segments, a sorted list updated as they start and end (the rebuild)."""
    starts: dict[Cell, dict[date, list[tuple[Decimal, str]]]] = defaultdict(
        lambda: defaultdict(list))
    ends: dict[Cell, dict[date, list[tuple[Decimal, str]]]] = defaultdict(
        lambda: defaultdict(list))
    for period, first, last in segments:
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
                yield day, cell, stats
                day += ONE_DAY


class _Raw:
    """Plain driver statements for the refresh after each run (no statement compilation, no
    type processing per value: it runs inside every crawl's transaction). Dates and money are
    passed as each backend stores them: ISO and exact decimal text on SQLite, ``date`` and
    ``Decimal`` on PostgreSQL."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"

    def sql(self, statement: str) -> str:
        return statement.replace("?", self.mark)

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def money(self, value: Decimal) -> Any:
        return format(value, "f") if self.sqlite else value

    def execute(self, statement: str, parameters: Any = ()) -> None:
        self.connection.exec_driver_sql(self.sql(statement), parameters)

    def rows(self, statement: str, parameters: Any = ()) -> list[Any]:
        """All rows as the driver's tuples, on the DBAPI cursor of the same transaction."""
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(self.sql(statement), parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def execute_many(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.connection.exec_driver_sql(self.sql(statement), rows)


def _read_day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


_INSERT_CELL = ("INSERT INTO price_index (day, platform, metric, pricing, median, q1, q3, min,"
                " max, offers, sellers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_PART = ("INSERT INTO price_index_part (site_id, platform, metric, pricing, first_day,"
                " last_day, offers, prices) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def _insert_cells(connection: Connection, rows: Iterable[tuple[date, Cell, CellStats]]) -> int:
    raw = _Raw(connection)
    day, money = raw.day, raw.money
    batch: list[tuple[Any, ...]] = []
    written = 0
    for when, (platform, metric, pricing), stats in rows:
        batch.append((day(when), platform, metric, pricing, money(stats.median),
                      money(stats.q1), money(stats.q3), money(stats.min), money(stats.max),
                      stats.offers, stats.sellers))
        if len(batch) >= 5_000:
            raw.execute_many(_INSERT_CELL, batch)
            written += len(batch)
            batch = []
    raw.execute_many(_INSERT_CELL, batch)
    return written + len(batch)


def stats_of_texts(texts: list[str], sellers: int) -> CellStats:
    """:func:`stats_of` from the values as text: sorted by their float value (distinct for
    the 6-decimal USD values), only the order statistics used are read as exact Decimals."""
    texts.sort(key=float)
    count = len(texts)

    def exact(index: int) -> Decimal:
        return Decimal(texts[index])

    def at(fraction: Decimal) -> Decimal:
        position = (count - 1) * fraction
        lower = int(position)
        upper = min(lower + 1, count - 1)
        low = exact(lower)
        return low + (exact(upper) - low) * (position - lower)

    return CellStats(
        median=at(_HALF).quantize(USD_QUANTUM), q1=at(_QUARTER).quantize(USD_QUANTUM),
        q3=at(_THREE_QUARTERS).quantize(USD_QUANTUM), min=exact(0).quantize(USD_QUANTUM),
        max=exact(count - 1).quantize(USD_QUANTUM), offers=count, sellers=sellers)


def _recompute_cells(connection: Connection, day: date, cells: set[Cell]) -> None:
    """The rows of ``price_index`` for ``day`` and ``cells`` from the sellers' parts covering
    the day (three plain statements)."""
    raw = _Raw(connection)
    when = raw.day(day)
    old = [row[0] for row in raw.rows(
        "SELECT id, platform, metric, pricing FROM price_index WHERE day = ?", (when,))
        if (row[1], row[2], row[3]) in cells]
    if old:
        raw.execute("DELETE FROM price_index WHERE id IN ("
                    + ",".join(str(int(row_id)) for row_id in old) + ")")
    merged: dict[Cell, list[str]] = defaultdict(list)
    sellers: Counter[Cell] = Counter()
    for platform, metric, pricing, text in raw.rows(
            "SELECT platform, metric, pricing, prices FROM price_index_part"
            " WHERE last_day >= ? AND first_day <= ?", (when, when)):
        cell = (platform, metric, pricing)
        if cell in cells:
            merged[cell].extend(text.split())
            sellers[cell] += 1
    _insert_cells(connection, ((day, cell, stats_of_texts(texts, sellers[cell]))
                               for cell, texts in sorted(merged.items())))


def _apply_day(connection: Connection, site_id: str, day: date,
               contributions: dict[Cell, str]) -> set[Cell]:
    """Make the seller's parts say ``contributions`` on ``day`` (an unchanged value carries the
    part of the day before forward); returns the cells whose values changed."""
    raw = _Raw(connection)
    covering: dict[Cell, _Part] = {}
    before: dict[Cell, _Part] = {}
    after: dict[Cell, _Part] = {}
    for part_id, platform, metric, pricing, first_raw, last_raw, prices in raw.rows(
            "SELECT id, platform, metric, pricing, first_day, last_day, prices"
            " FROM price_index_part WHERE site_id = ? AND last_day >= ? AND first_day <= ?",
            (site_id, raw.day(day - ONE_DAY), raw.day(day + ONE_DAY))):
        part = _Part(part_id, (platform, metric, pricing), _read_day(first_raw),
                     _read_day(last_raw), prices)
        if part.first_day <= day <= part.last_day:
            covering[part.cell] = part
        elif part.last_day == day - ONE_DAY:
            before[part.cell] = part
        elif part.first_day == day + ONE_DAY:
            after[part.cell] = part
    changed: set[Cell] = set()
    updates: list[tuple[Any, ...]] = []
    inserts: list[tuple[Any, ...]] = []
    deletes: list[int] = []

    def set_days(part: _Part, first: date, last: date) -> None:
        updates.append((raw.day(first), raw.day(last), _id(part)))

    def insert_part(cell: Cell, first: date, last: date, text: str) -> None:
        inserts.append((site_id, *cell, raw.day(first), raw.day(last), text.count(" ") + 1,
                        text))

    for cell in sorted(set(covering) | set(contributions)):
        text = contributions.get(cell)
        old = covering.get(cell)
        if old is not None and old.prices == text:
            continue
        changed.add(cell)
        if old is not None:
            if old.first_day == day and old.last_day == day:
                deletes.append(_id(old))
            elif old.first_day == day:
                set_days(old, day + ONE_DAY, old.last_day)
            elif old.last_day == day:
                set_days(old, old.first_day, day - ONE_DAY)
            else:
                set_days(old, old.first_day, day - ONE_DAY)
                insert_part(cell, day + ONE_DAY, old.last_day, old.prices)
        if not text:
            continue
        previous = before.get(cell)
        following = after.get(cell)
        previous = previous if previous is not None and previous.prices == text else None
        following = following if following is not None and following.prices == text else None
        if previous is not None and following is not None:
            set_days(previous, previous.first_day, following.last_day)
            deletes.append(_id(following))
        elif previous is not None:  # carried forward: the same values as the day before
            set_days(previous, previous.first_day, day)
        elif following is not None:
            set_days(following, day, following.last_day)
        else:
            insert_part(cell, day, day, text)
    if deletes:
        raw.execute("DELETE FROM price_index_part WHERE id IN ("
                    + ",".join(str(int(part_id)) for part_id in deletes) + ")")
    raw.execute_many("UPDATE price_index_part SET first_day = ?, last_day = ? WHERE id = ?",
                     updates)
    raw.execute_many(_INSERT_PART, inserts)
    return changed


def _id(part: _Part) -> int:
    assert part.id is not None
    return part.id


@dataclass(slots=True)
class SiteChange:
    """What a run changed in one seller's part of the index.

    ``known``: the seller's complete values per day and cell, known from the run itself (the
    crawl day when nothing else of the seller was alive on it); ``recompute``: days whose values
    are read back from the price history (a second crawl the same day, the days between two
    crawls, an offer that moved to another class, a crawl older than the stored history).
    """

    site_id: str
    known: dict[date, dict[Cell, list[Any]]]
    """Decimals, or money text as SQLite stores it."""
    recompute: tuple[date, date] | None = None


# Any constant: the same for every process writing the index of one database.
_PG_INDEX_LOCK_KEY = 7_346_221_002


def lock_index(connection: Connection) -> None:
    """Serialize writers of the index until the caller's transaction ends (PostgreSQL; a SQLite
    writer holds the database's write lock already).

    A cell is recomputed from every seller's parts of its day: two runs storing side by side
    (distributed workers) would each read the parts without the other's, and both insert the
    cell (a unique violation, or a cell missing one seller). Under the lock the second reads
    after the first has committed.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": _PG_INDEX_LOCK_KEY})


def refresh_after_run(connection: Connection, change: SiteChange) -> None:
    """Bring the index up to date after one run of one seller, in the caller's transaction
    (called by :func:`storage.repository.complete_run`): the seller's parts of the days the run
    touched, then the cells of those days whose values changed."""
    lock_index(connection)
    by_day: dict[date, dict[Cell, str]] = {
        day: {cell: prices_text(values) for cell, values in cells.items() if values}
        for day, cells in change.known.items()}
    if change.recompute is not None:
        first, last = change.recompute
        periods = alive_periods(connection, start=first, end=last, site_id=change.site_id)
        runs = site_contributions(periods, start=first, end=last).get(change.site_id, {})
        day = first
        while day <= last:
            by_day[day] = {}  # read back whole: what the run knew is in the history too
            day += ONE_DAY
        for cell, cell_runs in runs.items():
            for run_first, run_last, text in cell_runs:
                day = run_first
                while day <= run_last:
                    by_day[day][cell] = text
                    day += ONE_DAY
    for day in sorted(by_day):
        changed = _apply_day(connection, change.site_id, day, by_day[day])
        if changed:
            _recompute_cells(connection, day, changed)


def rebuild(engine: Engine, *, start: date | None = None, end: date | None = None) -> int:
    """Recompute the whole index (or the days ``start .. end``) in one transaction; returns the
    rows of ``price_index`` written."""
    with write_transaction(engine) as connection:
        return rebuild_in(connection, start=start, end=end)


def rebuild_in(connection: Connection, *, start: date | None = None,
               end: date | None = None) -> int:
    """:func:`rebuild` inside the caller's transaction (the migration's backfill): one read of
    the price history, the sellers' parts and the daily cells computed in one sweep."""
    lock_index(connection)
    table, parts = price_index_table, price_index_part_table
    bounds = connection.execute(select(
        func.min(period_table.c.valid_from), func.max(period_table.c.last_confirmed_at))).one()
    if bounds[0] is None:
        connection.execute(delete(table))
        connection.execute(delete(parts))
        return 0
    parse = _day_parser()
    low, high = _as_day(bounds[0], parse), _as_day(bounds[1], parse)
    whole = start is None and end is None
    start = start or low
    end = end or high
    if whole:
        connection.execute(delete(table))
        connection.execute(delete(parts))
    else:
        connection.execute(delete(table).where(table.c.day >= start, table.c.day <= end))
        # Parts reaching outside the range keep their outside days.
        outside = connection.execute(
            select(parts).where(parts.c.last_day >= start, parts.c.first_day <= end)).all()
        connection.execute(delete(parts).where(parts.c.last_day >= start,
                                               parts.c.first_day <= end))
        kept = []
        for row in outside:
            values = {name: getattr(row, name) for name in
                      ("site_id", "platform", "metric", "pricing", "offers", "prices")}
            if row.first_day < start:
                kept.append({**values, "first_day": row.first_day, "last_day": start - ONE_DAY})
            if row.last_day > end:
                kept.append({**values, "first_day": end + ONE_DAY, "last_day": row.last_day})
        if kept:
            connection.execute(insert(parts), kept)
    segments = list(_segments(alive_periods(connection, start=start, end=end)))
    runs = _runs(segments, start=start, end=end)
    raw = _Raw(connection)
    part_rows = [(site_id, *cell, first, last, text)
                 for site_id, cells in runs.items() for cell, cell_runs in cells.items()
                 for first, last, text in cell_runs]
    for index in range(0, len(part_rows), 5_000):
        raw.execute_many(_INSERT_PART, [
            (site_id, platform, metric, pricing, raw.day(first), raw.day(last),
             text.count(" ") + 1, text)
            for site_id, platform, metric, pricing, first, last, text
            in part_rows[index:index + 5_000]])
    if not whole:
        _join_at(connection, start)
        _join_at(connection, end + ONE_DAY)
    return _insert_cells(connection, _daily_cells(segments, start=start, end=end))


def _join_at(connection: Connection, day: date) -> None:
    """Join the parts that end the day before ``day`` to the same values starting on ``day``
    (a range rebuild cut them there): one part per run of equal values."""
    parts = price_index_part_table
    ending = {(row.site_id, row.platform, row.metric, row.pricing, row.prices): row
              for row in connection.execute(
                  select(parts).where(parts.c.last_day == day - ONE_DAY))}
    for row in connection.execute(select(parts).where(parts.c.first_day == day)).all():
        before = ending.get((row.site_id, row.platform, row.metric, row.pricing, row.prices))
        if before is not None:
            connection.execute(update(parts).where(parts.c.id == before.id)
                               .values(last_day=row.last_day))
            connection.execute(delete(parts).where(parts.c.id == row.id))


def _as_day(value: Any, parse: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return parse(str(value)[:10])


__all__ = [
    "AlivePeriod",
    "Cell",
    "CellStats",
    "alive_periods",
    "quantile",
    "SiteChange",
    "prices_text",
    "rebuild",
    "refresh_after_run",
    "site_contributions",
    "stats_of",
]
