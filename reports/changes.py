"""What changed: offer events (new, removed, reinstated, price up / down) over a date range."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, select

from reports.prices import day_bounds
from storage.models import OfferEvent


def change_summary(engine: Engine, *, start: date, end: date) -> dict[str, int]:
    """Event counts by kind between two days (inclusive)."""
    events = OfferEvent.__table__
    range_start, range_end = day_bounds(start, end)
    query = (select(events.c.kind, func.count())
             .where(events.c.occurred_at >= range_start, events.c.occurred_at < range_end)
             .group_by(events.c.kind).order_by(func.count().desc()))
    with engine.connect() as connection:
        return {kind: count for kind, count in connection.execute(query)}
