"""What changed: offer events (new, removed, reinstated, price up / down) over a period.

The rows of the view ``v_offer_changes``: one per ``offer_event`` with the offer's name,
platform and metric. ``change_pct`` is the stored ``(new - old) / old x 100`` of the event
(2 decimals; on a currency change it compares USD per 1000, as the event's details say).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine, func, select

from core.timestamps import parse_since  # noqa: F401  (the one parser of --since)
from reports.prices import day_bounds
from storage.models import event_table, offer_table

CHANGE_KINDS = ("new", "removed", "reinstated", "price_up", "price_down", "limits_changed")
DEFAULT_CHANGE_KINDS = ("new", "removed", "reinstated", "price_up", "price_down")
METHOD = ("offer events recorded by the crawls (table offer_event, view v_offer_changes); "
          "change % = (new - old) / old x 100 of the offer's own price")



@dataclass(frozen=True, slots=True)
class OfferChange:
    """One event, as the ``changes`` command prints it."""

    occurred_at: datetime
    site_id: str
    kind: str
    platform: str | None
    metric: str | None
    offer_name: str
    site_offer_id: str
    old_price: Decimal | None
    new_price: Decimal | None
    currency: str | None
    """The new price's currency (the old one for a removal)."""
    change_pct: Decimal | None
    run_id: int


@dataclass(frozen=True, slots=True)
class ChangeKindSummary:
    """The events of one kind over the period."""

    kind: str
    events: int
    sites: int
    median_change_pct: Decimal | None
    """Price events only: the median of their change percentages."""
    largest_change_pct: Decimal | None
    """Price events only: the change furthest from zero."""

    def line(self) -> str:
        text = f"{self.kind}: {self.events} on {self.sites} site(s)"
        if self.median_change_pct is not None:
            text += (f", median {self.median_change_pct:+}%, "
                     f"largest {self.largest_change_pct:+}%")
        return text


def offer_changes(engine: Engine, *, since: datetime, until: datetime | None = None,
                  site_id: str | None = None, platform: str | None = None,
                  metric: str | None = None,
                  kinds: tuple[str, ...] = DEFAULT_CHANGE_KINDS) -> list[OfferChange]:
    """Every matching event, newest first.

    The rows of the view ``v_offer_changes``, read from its tables (``offer_event`` joined to
    ``offer``): on SQLite the view casts money to numbers for sorting, the tables keep the
    exact decimal text (``2.00`` stays ``2.00``).
    """
    events, offers = event_table, offer_table
    query = (select(events.c.id, events.c.occurred_at, events.c.site_id, events.c.kind,
                    events.c.old_price, events.c.new_price, events.c.old_currency,
                    events.c.new_currency, events.c.change_pct, events.c.run_id,
                    offers.c.site_offer_id, offers.c.name, offers.c.platform, offers.c.metric)
             .join(offers, offers.c.id == events.c.offer_id)
             .where(events.c.occurred_at >= since, events.c.kind.in_(kinds))
             .order_by(events.c.occurred_at.desc(), events.c.id.desc()))
    if until is not None:
        query = query.where(events.c.occurred_at < until)
    if site_id:
        query = query.where(events.c.site_id == site_id)
    if platform:
        query = query.where(offers.c.platform == platform)
    if metric:
        query = query.where(offers.c.metric == metric)
    with engine.connect() as connection:
        return [OfferChange(
            occurred_at=row.occurred_at, site_id=row.site_id, kind=row.kind,
            platform=row.platform, metric=row.metric, offer_name=row.name,
            site_offer_id=row.site_offer_id, old_price=row.old_price, new_price=row.new_price,
            currency=row.new_currency or row.old_currency, change_pct=row.change_pct,
            run_id=row.run_id) for row in connection.execute(query)]


def summarize_changes(changes: list[OfferChange]) -> list[ChangeKindSummary]:
    """One summary per kind present, in :data:`CHANGE_KINDS` order."""
    by_kind: dict[str, list[OfferChange]] = defaultdict(list)
    for change in changes:
        by_kind[change.kind].append(change)
    summaries = []
    for kind in CHANGE_KINDS:
        events = by_kind.get(kind)
        if not events:
            continue
        percents = [e.change_pct for e in events if e.change_pct is not None]
        summaries.append(ChangeKindSummary(
            kind=kind, events=len(events), sites=len({e.site_id for e in events}),
            median_change_pct=(Decimal(statistics.median(percents)).quantize(Decimal("0.01"))
                               if percents else None),
            largest_change_pct=max(percents, key=abs) if percents else None))
    return summaries


def change_summary(engine: Engine, *, start: date, end: date) -> dict[str, int]:
    """Event counts by kind between two days (inclusive), most frequent first (the demo)."""
    events = event_table
    range_start, range_end = day_bounds(start, end)
    query = (select(events.c.kind, func.count())
             .where(events.c.occurred_at >= range_start, events.c.occurred_at < range_end)
             .group_by(events.c.kind).order_by(func.count().desc()))
    with engine.connect() as connection:
        return {kind: count for kind, count in connection.execute(query)}
