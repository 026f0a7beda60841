"""What the estimators read from the database: counters, offers in force, discovery sources.

Reads only tables the crawls and discovery write (``counter_reading``, ``offer``,
``offer_price_period``, ``site``, ``site_discovery``); never anything of the simulator.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, select

from estimates.order_value import ListedOffer
from storage.models import (
    counter_table,
    discovery_table,
    offer_table,
    period_table,
    site_table,
)

ORDERS_COUNTER = "orders"
CUSTOMERS_COUNTER = "customers"
CAPTURE_KINDS = ("directory", "seller_link")
SELLER_LINKS = "seller links"
"""All partner links between sellers form one discovery source (one capture occasion)."""


@dataclass
class MarketData:
    """Everything the market estimate needs, for the sellers known to the database."""

    start: datetime
    end: datetime
    sites: dict[str, str] = field(default_factory=dict)
    """site id -> family."""
    readings: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    """Orders counter readings per seller."""
    customer_readings: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    """Customers counter readings per seller (a second witness of the orders counter)."""
    offers: dict[str, list[ListedOffer]] = field(default_factory=dict)
    histories: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime.combine(start, time.min, UTC),
            datetime.combine(end + timedelta(days=1), time.min, UTC))


def load_market(engine: Engine, start: date, end: date) -> MarketData:
    """Sellers, their orders counter, their offers in force at the end of the range (the last
    period that started before the range's end and was confirmed on or after its start) and
    their discovery sources (each directory one source; all seller links one source)."""
    range_start, range_end = day_bounds(start, end)
    data = MarketData(range_start, range_end)
    with engine.connect() as connection:
        for site in connection.execute(select(site_table.c.id, site_table.c.family)):
            data.sites[site.id] = site.family
        for reading in connection.execute(
                select(counter_table.c.site_id, counter_table.c.name,
                       counter_table.c.observed_at, counter_table.c.value)
                .where(counter_table.c.name.in_((ORDERS_COUNTER, CUSTOMERS_COUNTER)))
                .order_by(counter_table.c.site_id, counter_table.c.observed_at)):
            target = data.readings if reading.name == ORDERS_COUNTER else data.customer_readings
            target.setdefault(reading.site_id, []).append((reading.observed_at, int(reading.value)))
        latest: dict[int, tuple[datetime, ListedOffer]] = {}
        query = (select(offer_table.c.id, offer_table.c.site_id, offer_table.c.pricing,
                        offer_table.c.platform, offer_table.c.metric, offer_table.c.name,
                        period_table.c.usd_per_1000, period_table.c.min_quantity,
                        period_table.c.max_quantity, period_table.c.quantity,
                        period_table.c.valid_from)
                 .join(period_table, period_table.c.offer_id == offer_table.c.id)
                 .where(period_table.c.usd_per_1000.is_not(None),
                        period_table.c.valid_from < range_end,
                        period_table.c.last_confirmed_at >= range_start))
        for row in connection.execute(query):
            kept = latest.get(row.id)
            if kept is not None and kept[0] >= row.valid_from:
                continue
            latest[row.id] = (row.valid_from, ListedOffer(
                site_id=row.site_id, offer_id=row.id, pricing=row.pricing,
                platform=row.platform, metric=row.metric,
                usd_per_1000=float(row.usd_per_1000),
                min_quantity=row.min_quantity, max_quantity=row.max_quantity,
                quantity=row.quantity,
                product_key=f"{row.platform}/{row.metric}" if row.pricing == "package" else None))
        for _, offer in sorted(latest.values(), key=lambda item: item[1].offer_id):
            data.offers.setdefault(offer.site_id, []).append(offer)
        sources: dict[str, set[str]] = defaultdict(set)
        for sighting in connection.execute(
                select(discovery_table.c.site_id, discovery_table.c.source,
                       discovery_table.c.source_kind)
                .where(discovery_table.c.source_kind.in_(CAPTURE_KINDS))):
            sources[sighting.site_id].add(SELLER_LINKS if sighting.source_kind == "seller_link"
                                          else sighting.source)
        data.histories = {site: frozenset(found) for site, found in sources.items()}
    return data
