"""The one-file HTML market report (``clickfarm report html``).

:func:`gather` reads the database and returns the report as plain data (:class:`Report`:
sections of charts and tables, every cell a string, every chart a checked SVG string);
:func:`render` turns it into one self-contained HTML page through the Jinja2 template
``reports/templates/html_report.html.j2`` (autoescape on: every crawled string, a seller called
``<script>alert(1)</script>`` included, reaches the page as text); :func:`write_report` does both
and writes the file.

The page loads nothing: charts are inline SVG drawn by matplotlib (:mod:`reports.charts`), the
style sheet is inline, there is no script, and its Content-Security-Policy
(``default-src 'none'; style-src 'unsafe-inline'; img-src data:``) forbids every request.

Sections, each naming its method and inputs:

1. the price index over time (median with the q1-q3 band) for the main platform x metric classes;
2. market size by month and platform (low / central / high) and sellers seen against estimated
   (:mod:`reports.market_size`);
3. the biggest price moves and the counts of each kind of change (:mod:`reports.changes`), new
   and vanished sellers;
4. reseller chains with their markups (:mod:`estimates.resellers`, computed as of the range's end);
5. what $10 buys per platform x metric at the cheapest, median and retail price;
6. run health over the period (runs by status per day, per seller, alerts).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, func, select

from reports import charts
from reports.changes import METHOD as CHANGES_METHOD
from reports.changes import offer_changes, summarize_changes
from reports.price_index import METHOD as SERIES_METHOD
from reports.price_index import METHOD_TAIL as SERIES_METHOD_TAIL
from reports.price_index import PriceIndexRow, price_index_series
from reports.prices import METHOD as PRICES_METHOD
from reports.prices import PriceIndexRow as PricesRow
from reports.prices import day_bounds, price_index
from reports.render import money
from storage.models import GOOD_RUN_STATUSES, alert_table, run_table, site_table

TEMPLATE = "html_report.html.j2"
MAIN_CLASSES = 6
"""Platform x metric classes charted over time: the most-listed panel classes."""
BUDGET_USD = Decimal(10)
BUDGET_CLASSES = 12
TOP_MOVES = 20
MAX_SELLER_ROWS = 25
MARKET_PLATFORMS = 10
RUN_COLOURS = {"succeeded": "#2ca02c", "partial": "#bcbd22", "failed": "#d62728",
               "interrupted": "#7f7f7f", "running": "#1f77b4"}


# -- the report as data ---------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[str]]
    method: str
    inputs: str
    text_columns: int = 1
    """The first columns are left-aligned text, the rest right-aligned numbers."""
    empty: str = "nothing in this period"
    also_text: tuple[int, ...] = ()
    """Further text columns among the numbers (a currency, an error)."""
    details: str = ""
    """The method in full, when ``method`` is its summary."""

    def align(self, index: int) -> str:
        """The CSS class of column ``index``: ``text`` or ``num``."""
        return "text" if index < self.text_columns or index in self.also_text else "num"


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str
    """Inline SVG, already checked by :func:`reports.charts.checked_svg`."""
    method: str
    inputs: str
    details: str = ""
    """The method in full, when ``method`` is its summary."""


@dataclass
class Section:
    key: str
    title: str
    summary: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    start: date
    end: date
    generated_at: datetime
    sections: list[Section]

    @property
    def chart_count(self) -> int:
        return sum(len(section.charts) for section in self.sections)


class _Ids:
    """Distinct id prefixes for the charts of one page."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"c{self.count}"


def _range_text(start: date, end: date) -> str:
    return f"{start.isoformat()} to {end.isoformat()}"


def _pct(old: Decimal, new: Decimal) -> str:
    if old == 0:
        return "-"
    return f"{(new - old) / old * 100:+.1f}%"


# -- 1. price index over time ---------------------------------------------------------------

def series_step(start: date, end: date) -> str:
    """``day`` up to a quarter, ``week`` up to two years, ``month`` beyond."""
    days = (end - start).days + 1
    return "day" if days <= 92 else "week" if days <= 731 else "month"


def _buckets(start: date, end: date, by: str) -> list[tuple[date, date]]:
    buckets = []
    current = start
    while current <= end:
        if by == "day":
            last = current
        elif by == "week":
            last = current + timedelta(days=6 - current.weekday())
        else:
            following = date(current.year + current.month // 12, current.month % 12 + 1, 1)
            last = following - timedelta(days=1)
        last = min(last, end)
        buckets.append((current, last))
        current = last + timedelta(days=1)
    return buckets


def price_series(engine: Engine, *, start: date, end: date, by: str = "day",
                 pricing: str = "per_1000") -> list[PriceIndexRow]:
    """The price index per day, week or month of the range (:mod:`reports.price_index`: the
    stored daily index, or the price history for weeks and months). The one place the report
    reads the series from."""
    return price_index_series(engine, start=start, end=end, by=by, pricing=pricing)


def price_section(engine: Engine, start: date, end: date, ids: _Ids) -> Section:
    section = Section("prices", "Price index over time",
                      "USD per 1000 units of the most-listed panel services (platform x metric): "
                      "the median price with the band from the first to the third quartile.")
    latest = price_index(engine, start=start, end=end)
    if not latest:
        section.notes.append(f"No per-1000 panel prices were observed from "
                             f"{_range_text(start, end)}.")
        return section
    by = series_step(start, end)
    main = [(row.platform, row.metric) for row in latest[:MAIN_CLASSES]]
    series: dict[tuple[str, str], list[PriceIndexRow]] = defaultdict(list)
    for point in price_series(engine, start=start, end=end, by=by):
        if (point.platform, point.metric) in main:
            series[(point.platform, point.metric)].append(point)
    method = (f"reports.price_index, one point {SERIES_METHOD[by]}{SERIES_METHOD_TAIL}; "
              "line = median, band = first to third quartile")
    source = ("table price_index (the daily index kept after every crawl)" if by == "day"
              else "tables offer and offer_price_period (the price history)")
    inputs = f"{source}, pricing per_1000, {_range_text(start, end)}"
    rows = []
    for platform, metric in main:
        points = sorted(series[(platform, metric)], key=lambda p: p.period_start)
        if not points:
            continue
        title = f"{platform} {metric}"
        section.charts.append(Chart(
            title=f"{title}: USD per 1000, median and q1-q3 by {by}",
            svg=charts.band_chart(ids(), title, [p.period_start for p in points],
                                  [float(p.median) for p in points],
                                  [float(p.q1) for p in points], [float(p.q3) for p in points],
                                  ylabel="USD per 1000"),
            method=f"reports.price_index by {by}: line = median, band = first to third quartile "
                   "(in full under the table below)",
            inputs=inputs, details=method))
        first, last = points[0], points[-1]
        rows.append((platform, metric, money(first.median), money(last.median),
                     _pct(first.median, last.median), f"{money(last.q1)} - {money(last.q3)}",
                     str(last.offers), str(last.sellers)))
    section.tables.append(Table(
        title="The charted classes: first and last median", text_columns=2,
        columns=("platform", "metric", f"median, first {by}", f"median, last {by}", "change",
                 f"q1 - q3, last {by}", "offers", "sellers"),
        rows=rows, method=method, inputs=inputs))
    return section


# -- 2. market size -------------------------------------------------------------------------

def _months(start: date, end: date) -> list[tuple[date, date]]:
    return _buckets(start, end, "month")


def market_section(engine: Engine, start: date, end: date, ids: _Ids) -> Section:
    from reports.market_size import NoMarketData, compute, usd

    section = Section("market", "Market size",
                      "End-customer spend in USD by month and platform (low / central / high), "
                      "and the number of sellers seen against the number estimated.")
    months = _months(start, end)
    estimates = {}
    for first, last in months:
        try:
            estimates[first] = (last, compute(engine, start=first, end=last))
        except NoMarketData as error:
            section.notes.append(f"{first:%Y-%m} ({_range_text(first, last)}): no estimate: "
                                 f"{error}.")
    if not estimates:
        section.notes.append("The market-size estimate needs stored prices and public order "
                             "counters in the period; there is nothing to show.")
        return section
    any_estimate = next(iter(estimates.values()))[1]
    method = ("reports.market_size (estimates.market): orders from public order counters less "
              "resellers' forwarded orders, or from a customers counter, sellers without either "
              "imputed, x average order "
              "value from listed prices, plus unseen sellers (capture-recapture); interval = "
              "model bounds widened by a 90 % bootstrap over sellers")
    details = any_estimate.method
    inputs = ("tables counter_reading, offer, offer_price_period, site, site_discovery and "
              "reseller links computed at each month's end; one estimate per calendar month "
              f"of {_range_text(start, end)} (cut to the range)")
    totals: dict[str, float] = defaultdict(float)
    for _, estimate in estimates.values():
        for platform, value in estimate.by_platform.items():
            totals[platform] += value.central
    platforms = sorted(totals, key=lambda name: (-totals[name], name))[:MARKET_PLATFORMS]
    labels = [f"{first:%Y-%m}" for first in estimates]

    def column(platform: str, bound: str) -> list[float]:
        return [float(getattr(estimate.by_platform[platform], bound))
                if platform in estimate.by_platform else 0.0
                for _, estimate in estimates.values()]

    charted = platforms[:6]
    if charted:
        section.charts.append(Chart(
            title="Revenue by month and platform (USD, log scale): bars = central, "
                  "whiskers = low - high",
            svg=charts.interval_bars(
                ids(), "End-customer revenue by platform (USD)", labels, charted,
                [column(p, "central") for p in charted], [column(p, "low") for p in charted],
                [column(p, "high") for p in charted], ylabel="USD (log scale)", log=True),
            method=method, inputs=inputs, details=details))

    def cell(value: object) -> str:
        low, central, high = (usd(getattr(value, bound)) for bound in ("low", "central", "high"))
        return f"{central:,.0f} ({low:,.0f} - {high:,.0f})"

    rows = [("all platforms", *(cell(estimate.revenue) for _, estimate in estimates.values()))]
    for platform in platforms:
        rows.append((platform, *(cell(estimate.by_platform[platform])
                                 if platform in estimate.by_platform else "-"
                                 for _, estimate in estimates.values())))
    hidden = len(totals) - len(platforms)
    section.tables.append(Table(
        title="Revenue by month and platform: central (low - high), USD",
        columns=("platform", *labels), rows=rows, method=method, inputs=inputs,
        details=details))
    if hidden > 0:
        section.notes.append(f"{hidden} smaller platform(s) not listed; `clickfarm report "
                             "market-size --format json` gives every platform.")
    seller_rows = []
    for first, (last, estimate) in estimates.items():
        count = estimate.sellers
        seller_rows.append((f"{first:%Y-%m}", _range_text(first, last), str(count.seen),
                            str(math.floor(count.estimate.low)),
                            str(round(count.estimate.central)),
                            str(math.ceil(count.estimate.high)), count.model))
    seller_method = ("capture-recapture over the discovery sources (estimates.sellers): each "
                     "directory is one source, all partner links between sellers one more")
    section.charts.append(Chart(
        title="Sellers seen and estimated by month, whiskers = low - high",
        svg=charts.interval_bars(
            ids(), "Sellers: seen and estimated", labels, ["seen", "estimated"],
            [[float(e.sellers.seen) for _, e in estimates.values()],
             [e.sellers.estimate.central for _, e in estimates.values()]],
            [[float(e.sellers.seen) for _, e in estimates.values()],
             [e.sellers.estimate.low for _, e in estimates.values()]],
            [[float(e.sellers.seen) for _, e in estimates.values()],
             [e.sellers.estimate.high for _, e in estimates.values()]],
            ylabel="sellers"),
        method=seller_method,
        inputs=("tables site and site_discovery (which sources list each seller); one estimate "
                f"per calendar month of {_range_text(start, end)} (cut to the range)")))
    section.tables.append(Table(
        title="Sellers seen and estimated", text_columns=2,
        columns=("month", "days", "seen", "low", "central", "high", "model"),
        rows=seller_rows, method=seller_method,
        inputs="tables site and site_discovery (which sources list each seller)",
        also_text=(6,)))
    section.notes += [f"Assumption: {text}" for text in any_estimate.assumptions]
    return section


# -- 3. changes: price moves, new and vanished sellers --------------------------------------

@dataclass(frozen=True, slots=True)
class SellerPresence:
    site_id: str
    family: str
    discovered_via: str | None
    first_listed: date
    last_listed: date
    offers_last: int
    last_status: str | None
    last_error: str | None


def seller_presence(engine: Engine, start: date, end: date
                    ) -> tuple[list[SellerPresence], list[SellerPresence]]:
    """(new, vanished) sellers of the period.

    A seller is *listed* on a day when a good run (succeeded or partial) of it stored offers
    that day. New: first listed within the period, after the first day any seller was listed
    (the store was already watching). Vanished: listed within the period (or before it), not
    listed on or after the period's last listing day, its last listing within the period."""
    range_start, range_end = day_bounds(start, end)
    runs, sites = run_table, site_table
    good = runs.c.status.in_(GOOD_RUN_STATUSES) & (runs.c.offers_seen > 0)
    with engine.connect() as connection:
        first_any = connection.execute(select(func.min(runs.c.started_at)).where(good)).scalar()
        last_in_range = connection.execute(
            select(func.max(runs.c.started_at)).where(
                good, runs.c.started_at >= range_start, runs.c.started_at < range_end)).scalar()
        listed = connection.execute(
            select(runs.c.site_id, func.min(runs.c.started_at), func.max(runs.c.started_at))
            .where(good, runs.c.started_at < range_end).group_by(runs.c.site_id)).all()
        info = {row.id: row for row in connection.execute(
            select(sites.c.id, sites.c.family, sites.c.discovered_via))}
        latest: dict[str, tuple] = {}
        for row in connection.execute(
                select(runs.c.site_id, runs.c.id, runs.c.status, runs.c.error,
                       runs.c.offers_seen, runs.c.started_at)
                .where(runs.c.started_at < range_end).order_by(runs.c.id)):
            latest[row.site_id] = (row.status, row.error)
        last_offers = {}
        for site_id, offers_seen in connection.execute(
                select(runs.c.site_id, runs.c.offers_seen).where(good, runs.c.started_at < range_end)
                .order_by(runs.c.id)):
            last_offers[site_id] = offers_seen
    if first_any is None or last_in_range is None:
        return [], []
    first_day, last_day = first_any.date(), last_in_range.date()
    new, vanished = [], []
    for site_id, first, last in listed:
        site = info.get(site_id)
        status, error = latest.get(site_id, (None, None))
        presence = SellerPresence(site_id, site.family if site else "?",
                                  site.discovered_via if site else None, first.date(),
                                  last.date(), last_offers.get(site_id, 0), status, error)
        if start <= first.date() and first.date() > first_day:
            new.append(presence)
        if start <= last.date() < last_day:
            vanished.append(presence)
    new.sort(key=lambda p: (p.first_listed, p.site_id))
    vanished.sort(key=lambda p: (p.last_listed, p.site_id))
    return new, vanished


def changes_section(engine: Engine, start: date, end: date) -> Section:
    section = Section("changes", "What changed",
                      "The biggest price moves of single offers, the number of each kind of "
                      "change, and the sellers that appeared or vanished.")
    range_start, range_end = day_bounds(start, end)
    inputs = f"table offer_event joined to offer, {_range_text(start, end)}"
    moves = offer_changes(engine, since=range_start, until=range_end,
                          kinds=("price_up", "price_down"))
    moves = [move for move in moves if move.change_pct is not None]
    moves.sort(key=lambda move: (-abs(move.change_pct or Decimal(0)), move.occurred_at))
    section.tables.append(Table(
        title=f"Biggest price moves (top {TOP_MOVES} by size of the change)", text_columns=4,
        columns=("when (UTC)", "seller", "offer", "platform / metric", "old", "new", "currency",
                 "change"),
        rows=[(move.occurred_at.strftime("%Y-%m-%d %H:%M"), move.site_id, move.offer_name,
               f"{move.platform or '?'} / {move.metric or '?'}", money(move.old_price),
               money(move.new_price), move.currency or "", f"{move.change_pct:+}%")
              for move in moves[:TOP_MOVES]],
        method=CHANGES_METHOD + "; ranked by the absolute change %", inputs=inputs,
        also_text=(6,)))
    summary = summarize_changes(offer_changes(engine, since=range_start, until=range_end))
    section.tables.append(Table(
        title="Changes by kind", columns=("kind", "events", "sellers", "median change",
                                          "largest change"),
        rows=[(row.kind, str(row.events), str(row.sites),
               "-" if row.median_change_pct is None else f"{row.median_change_pct:+}%",
               "-" if row.largest_change_pct is None else f"{row.largest_change_pct:+}%")
              for row in summary],
        method=CHANGES_METHOD, inputs=inputs))
    new, vanished = seller_presence(engine, start, end)
    presence_method = ("a seller is listed on a day when a succeeded or partial crawl of it "
                       "stored offers; new = first listed in the period after the store's first "
                       "listing day; vanished = last listed in the period before its last "
                       "listing day")
    presence_inputs = f"tables crawl_run and site, {_range_text(start, end)}"
    section.tables.append(Table(
        title="New sellers", text_columns=3,
        columns=("seller", "software", "found via", "first listed", "offers at last listing"),
        rows=[(p.site_id, p.family, p.discovered_via or "-", p.first_listed.isoformat(),
               str(p.offers_last)) for p in new[:MAX_SELLER_ROWS]],
        method=presence_method, inputs=presence_inputs, empty="no new seller in this period"))
    section.tables.append(Table(
        title="Vanished sellers", text_columns=2,
        columns=("seller", "software", "last listed", "offers then", "last crawl",
                 "last error"),
        rows=[(p.site_id, p.family, p.last_listed.isoformat(), str(p.offers_last),
               p.last_status or "-", p.last_error or "-") for p in vanished[:MAX_SELLER_ROWS]],
        method=presence_method, inputs=presence_inputs,
        empty="no seller vanished in this period", also_text=(4, 5)))
    return section


# -- 4. reseller chains ---------------------------------------------------------------------

def resellers_section(engine: Engine, start: date, end: date) -> Section:
    from estimates.resellers import METHOD as LINK_METHOD
    from estimates.resellers import WINDOW_DAYS, link_resellers
    from reports.resellers import summarize_links

    section = Section("resellers", "Reseller chains",
                      "Sellers that resell another seller's services, with their markup "
                      "(reseller price / upstream price).")
    _, range_end = day_bounds(start, end)
    with engine.connect() as connection:
        last_seen = connection.execute(select(func.max(run_table.c.started_at))).scalar()
    at = min(range_end, last_seen) if last_seen is not None else range_end
    links = link_resellers(engine, at=at)
    chains = summarize_links((link.upstream_site_id, link.reseller_site_id, link.price_ratio,
                              Decimal(repr(link.confidence))) for link in links)
    resellers = {chain.reseller_site_id for chain in chains}
    section.tables.append(Table(
        title="Upstream seller -> reseller", text_columns=2,
        columns=("upstream", "reseller", "linked offers", "median markup", "min", "max",
                 "mean confidence", "upstream resells too"),
        rows=[(chain.upstream_site_id, chain.reseller_site_id, str(chain.links),
               f"x{chain.median_markup}", f"x{chain.min_markup}", f"x{chain.max_markup}",
               str(chain.mean_confidence),
               "yes" if chain.upstream_site_id in resellers else "no") for chain in chains],
        method=f"links computed as of {at.isoformat(timespec='minutes')} "
               f"(estimates.resellers: {LINK_METHOD}); per site pair: count, median / min / max "
               "markup, mean confidence (links of confidence >= 0.5)",
        inputs=f"tables offer and offer_price_period, the {WINDOW_DAYS} days before the range's end",
        empty="no reseller chain found", also_text=(7,)))
    return section


# -- 5. what $10 buys -----------------------------------------------------------------------

def _units(price_per_1000: Decimal | None) -> Decimal | None:
    if price_per_1000 is None or price_per_1000 <= 0:
        return None
    return (BUDGET_USD * 1000 / price_per_1000).quantize(Decimal(1))


def budget_section(engine: Engine, start: date, end: date, ids: _Ids) -> Section:
    section = Section("budget", "What $10 buys",
                      "Units (followers, likes, views, ...) that $10 buys per platform x metric "
                      "at the cheapest panel rate, the median panel rate and the median retail "
                      "shop price.")
    panels = price_index(engine, start=start, end=end)[:BUDGET_CLASSES]
    shops: dict[tuple[str, str], PricesRow] = {
        (row.platform, row.metric): row
        for row in price_index(engine, start=start, end=end, pricing="package")}
    if not panels:
        section.notes.append(f"No panel prices observed from {_range_text(start, end)}.")
        return section
    method = ("units = $10 / (USD per 1000) x 1000, at the cheapest and the median per-1000 "
              "panel rate and at the median retail package price (package price / size x "
              f"1000); prices in force at the range's end ({PRICES_METHOD})")
    inputs = f"tables offer and offer_price_period, {_range_text(start, end)}"
    rows, labels = [], []
    cheapest, median, retail = [], [], []
    for row in panels:
        shop = shops.get((row.platform, row.metric))
        units = (_units(row.minimum), _units(row.median), _units(shop.median if shop else None))
        labels.append(f"{row.platform} {row.metric}")
        cheapest.append(float(units[0]) if units[0] is not None else None)
        median.append(float(units[1]) if units[1] is not None else None)
        retail.append(float(units[2]) if units[2] is not None else None)
        rows.append((row.platform, row.metric, f"{units[0]:,}" if units[0] else "-",
                     f"{units[1]:,}" if units[1] else "-",
                     f"{units[2]:,}" if units[2] else "no shop sells it",
                     money(row.minimum), money(row.median),
                     money(shop.median) if shop else "-"))
    section.charts.append(Chart(
        title="Units $10 buys (log scale)",
        svg=charts.horizontal_bars(ids(), "Units $10 buys", labels,
                                   ["cheapest panel", "median panel", "median retail shop"],
                                   [cheapest, median, retail], xlabel="units (log scale)",
                                   log=True),
        method=method, inputs=inputs))
    section.tables.append(Table(
        title="Units $10 buys", text_columns=2,
        columns=("platform", "metric", "cheapest panel", "median panel", "median retail",
                 "USD/1000 cheapest", "USD/1000 median", "USD/1000 retail"),
        rows=rows, method=method, inputs=inputs))
    return section


# -- 6. run health --------------------------------------------------------------------------

def health_section(engine: Engine, start: date, end: date, ids: _Ids) -> Section:
    section = Section("health", "Run health",
                      "Crawl runs over the period by outcome, per day and per seller, and the "
                      "alerts raised.")
    range_start, range_end = day_bounds(start, end)
    runs = run_table
    with engine.connect() as connection:
        rows = connection.execute(
            select(runs.c.site_id, runs.c.started_at, runs.c.status, runs.c.error,
                   runs.c.offers_seen, runs.c.offers_rejected, runs.c.pages)
            .where(runs.c.started_at >= range_start, runs.c.started_at < range_end)
            .order_by(runs.c.id)).all()
        alerts = connection.execute(
            select(alert_table.c.rule, alert_table.c.severity, func.count(),
                   func.count(func.distinct(alert_table.c.site_id)))
            .where(alert_table.c.created_at >= range_start, alert_table.c.created_at < range_end)
            .group_by(alert_table.c.rule, alert_table.c.severity)
            .order_by(func.count().desc())).all()
    inputs = f"table crawl_run (runs started {_range_text(start, end)})"
    if not rows:
        section.notes.append(f"No crawl run started from {_range_text(start, end)}.")
        return section
    statuses = [s for s in RUN_COLOURS if any(row.status == s for row in rows)]
    by_day: dict[date, Counter[str]] = defaultdict(Counter)
    for row in rows:
        by_day[row.started_at.date()][row.status] += 1
    days = sorted(by_day)
    section.charts.append(Chart(
        title="Runs per day by outcome",
        svg=charts.stacked_bars(ids(), "Crawl runs per day", days, statuses,
                                [[by_day[day][status] for day in days] for status in statuses],
                                [RUN_COLOURS[status] for status in statuses], ylabel="runs"),
        method="count of runs by status and UTC day of their start", inputs=inputs))
    total = Counter(row.status for row in rows)
    section.notes.append(
        f"{len(rows)} runs of {len({row.site_id for row in rows})} sellers: "
        + ", ".join(f"{total[status]} {status}" for status in RUN_COLOURS if total[status])
        + f"; {sum(row.offers_rejected for row in rows)} offers rejected.")
    per_site: dict[str, list] = defaultdict(list)
    for row in rows:
        per_site[row.site_id].append(row)

    def trouble(site_id: str) -> tuple[int, str]:
        bad = sum(1 for row in per_site[site_id] if row.status not in GOOD_RUN_STATUSES)
        return (-bad, site_id)

    site_rows = []
    for site_id in sorted(per_site, key=trouble)[:MAX_SELLER_ROWS]:
        site_runs = per_site[site_id]
        counts = Counter(row.status for row in site_runs)
        errors = [row.error for row in site_runs if row.error]
        offers = [row.offers_seen for row in site_runs if row.status in GOOD_RUN_STATUSES]
        site_rows.append((site_id, str(len(site_runs)), str(counts["succeeded"]),
                          str(counts["partial"]), str(counts["failed"]),
                          str(counts["interrupted"]),
                          str(int(statistics.median(offers))) if offers else "-",
                          str(sum(row.offers_rejected for row in site_runs)),
                          errors[-1] if errors else "-"))
    section.tables.append(Table(
        title=f"Runs per seller (the {MAX_SELLER_ROWS} with most failed or interrupted runs "
              "first)",
        columns=("seller", "runs", "succeeded", "partial", "failed", "interrupted",
                 "median offers", "offers rejected", "last error"),
        rows=site_rows, method="runs counted by status; median offers over good runs; the "
                               "last error a run recorded", inputs=inputs, also_text=(8,)))
    section.tables.append(Table(
        title="Alerts raised", text_columns=2,
        columns=("rule", "severity", "alerts", "sellers"),
        rows=[(rule, severity, str(count), str(sellers))
              for rule, severity, count, sellers in alerts],
        method="alerts stored by the health checks and market rules (table alert)",
        inputs=f"table alert, {_range_text(start, end)}", empty="no alert in this period"))
    return section


# -- gather, render, write ------------------------------------------------------------------

def gather(engine: Engine, *, start: date, end: date, now: datetime | None = None) -> Report:
    """The report's sections as plain data (see the module docstring)."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    ids = _Ids()
    sections = [price_section(engine, start, end, ids), market_section(engine, start, end, ids),
                changes_section(engine, start, end), resellers_section(engine, start, end),
                budget_section(engine, start, end, ids), health_section(engine, start, end, ids)]
    return Report(start=start, end=end, generated_at=now or datetime.now(UTC), sections=sections)


def render(report: Report) -> str:
    """The page: Jinja2 with autoescape on (a crawled ``<script>`` prints as text); the charts
    are checked again before they are marked safe."""
    from jinja2 import Environment, PackageLoader, StrictUndefined
    from markupsafe import Markup

    environment = Environment(loader=PackageLoader("reports", "templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["svg"] = lambda text: Markup(charts.checked_svg(text))  # noqa: S704
    return environment.get_template(TEMPLATE).render(report=report)


def write_report(engine: Engine, path: Path, *, start: date, end: date,
                 now: datetime | None = None) -> Report:
    """Gather, render and write the page to ``path`` (written whole or not at all)."""
    report = gather(engine, start=start, end=end, now=now)
    page = render(report)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    return report
