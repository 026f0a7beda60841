"""The price index: USD per 1000 units by platform × metric over a date range.

How it is computed (also printed under every report):

- offers priced per 1000 units (SMM panel rates; ``pricing="per_1000"``, the default) or retail
  packages (``pricing="package"``: package price / package size x 1000), with a known platform,
  metric and a USD value above zero (panels list free services at 0.00);
- each offer counts once: the price period in force at the end of the range (the last one that
  started on or before the range's end and was still confirmed on or after its start);
- USD per 1000 uses the ECB rate of the date that price was first observed;
- per platform × metric: median, first and third quartiles (linear interpolation between
  order statistics), min, max, the number of offers and the number of distinct sellers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine, Float, Select, cast, func, select

from pipelines.fx import USD_QUANTUM
from reports.resellers import root_offers
from storage.models import offer_table, period_table
from storage.price_index import quantile

PRICINGS = ("per_1000", "package")
METHOD = ("one value per offer: the USD/1000 price in force at the end of the range "
          "(per-1000 panel rates, or retail packages as price / size x 1000); median and quartiles by linear interpolation; "
          "ECB rate of the day each price was first observed")


@dataclass(frozen=True, slots=True)
class PriceIndexRow:
    platform: str
    metric: str
    median: Decimal
    q1: Decimal
    q3: Decimal
    minimum: Decimal
    maximum: Decimal
    offers: int
    sellers: int


def as_usd(value: Decimal) -> Decimal:
    """USD figures in reports carry 6 decimals, like the stored ``usd_per_1000``."""
    return value.quantize(USD_QUANTUM)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime.combine(start, time.min, UTC),
            datetime.combine(end + timedelta(days=1), time.min, UTC))


def _offer_prices(range_start: datetime, range_end: datetime, pricing: str) -> Select:
    offers, periods = offer_table, period_table
    return (select(offers.c.id.label("offer_id"), offers.c.site_id, offers.c.platform,
                   offers.c.metric, periods.c.usd_per_1000, periods.c.valid_from)
            .join(periods, periods.c.offer_id == offers.c.id)
            .where(offers.c.pricing == pricing, offers.c.platform.is_not(None),
                   offers.c.metric.is_not(None), periods.c.usd_per_1000.is_not(None),
                   # As a number: SQLite keeps money as text, where '0.000000' > 0 is true.
                   cast(periods.c.usd_per_1000, Float) > 0,
                   periods.c.valid_from < range_end,
                   periods.c.last_confirmed_at >= range_start))


def price_index(engine: Engine, *, start: date, end: date, platform: str | None = None,
                metric: str | None = None, pricing: str = "per_1000",
                dedupe_resellers: bool = False,
                min_link_confidence: float = 0.5) -> list[PriceIndexRow]:
    """The index rows, most-listed classes first; ``pricing`` picks panel rates (``per_1000``)
    or retail packages (``package``): the two markets are never mixed in one figure.

    ``dedupe_resellers``: a service resold along a chain (stored ``reseller_link`` rows with at
    least ``min_link_confidence``) counts once, at its upstream's price (the root of the chain;
    when the root is not in the range, the cheapest copy stands in for it)."""
    if pricing not in PRICINGS:
        raise ValueError(f"pricing must be one of {', '.join(PRICINGS)}, got {pricing!r}")
    range_start, range_end = day_bounds(start, end)
    latest: dict[int, tuple] = {}
    with engine.connect() as connection:
        for row in connection.execute(_offer_prices(range_start, range_end, pricing)):
            if platform and row.platform != platform or metric and row.metric != metric:
                continue
            kept = latest.get(row.offer_id)
            if kept is None or row.valid_from > kept[4]:
                latest[row.offer_id] = (row.site_id, row.platform, row.metric,
                                        Decimal(row.usd_per_1000), row.valid_from)
    if dedupe_resellers:
        latest = _collapse_chains(latest, root_offers(engine, min_confidence=min_link_confidence))
    groups: dict[tuple[str, str], list[tuple[str, Decimal]]] = defaultdict(list)
    for site_id, platform_id, metric_id, usd, _ in latest.values():
        groups[(platform_id, metric_id)].append((site_id, usd))
    rows = []
    for (platform_id, metric_id), values in groups.items():
        prices = sorted(usd for _, usd in values)
        rows.append(PriceIndexRow(
            platform=platform_id, metric=metric_id,
            median=as_usd(quantile(prices, Decimal("0.5"))),
            q1=as_usd(quantile(prices, Decimal("0.25"))),
            q3=as_usd(quantile(prices, Decimal("0.75"))),
            minimum=as_usd(prices[0]), maximum=as_usd(prices[-1]),
            offers=len(prices), sellers=len({site_id for site_id, _ in values})))
    rows.sort(key=lambda row: (-row.offers, row.platform, row.metric))
    return rows


def _collapse_chains(latest: dict[int, tuple], roots: dict[int, int]) -> dict[int, tuple]:
    """One value per chain: the root offer's, else the cheapest copy's."""
    chains: dict[int, list[int]] = defaultdict(list)
    for offer_id in latest:
        chains[roots.get(offer_id, offer_id)].append(offer_id)
    kept = {}
    for root, members in chains.items():
        chosen = root if root in latest else min(members, key=lambda offer: latest[offer][3])
        kept[chosen] = latest[chosen]
    return kept


def observed_range(engine: Engine) -> tuple[datetime, datetime] | None:
    """First and last observation times in the database (None when it holds no prices)."""
    periods = period_table
    with engine.connect() as connection:
        first, last = connection.execute(
            select(func.min(periods.c.valid_from), func.max(periods.c.last_confirmed_at))).one()
    return (first, last) if first is not None else None
