"""Data access for the ``alert`` table (health and market alerts).

An alert row is written once and only its ``deliveries`` change afterwards. The state of a
condition lives in ``details["state"]``:

- ``firing``: the condition started (the first alert of a dedupe key, or the first after a
  ``resolved`` one);
- ``resolved``: the condition cleared (severity ``info``);
- ``event``: a one-off fact (a new seller, a seller adding a platform), never resolved.

The latest alert of a ``dedupe_key`` tells whether its condition is open (``firing``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from storage.models import alert_table

STATE_FIRING = "firing"
STATE_RESOLVED = "resolved"
STATE_EVENT = "event"


def alert_state(row: Any) -> str | None:
    """``firing``, ``resolved`` or ``event`` (``None`` for a row written by other code)."""
    details = row.details if hasattr(row, "details") else row.get("details")
    return (details or {}).get("state")


def latest_alerts_by_key(connection: Connection, keys: Iterable[str]) -> dict[str, Any]:
    """The most recent alert row of each dedupe key in ``keys`` (keys never seen are absent)."""
    wanted = sorted(set(keys))
    latest: dict[str, Any] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        newest = (select(func.max(alert_table.c.id))
                  .where(alert_table.c.dedupe_key.in_(chunk))
                  .group_by(alert_table.c.dedupe_key))
        for row in connection.execute(select(alert_table).where(alert_table.c.id.in_(newest))):
            latest[row.dedupe_key] = row
    return latest


def insert_alert(connection: Connection, *, created_at: datetime, kind: str, rule: str,
                 severity: str, message: str, site_id: str | None, run_id: int | None,
                 details: dict[str, Any], dedupe_key: str | None) -> int:
    """Insert one alert (deliveries still empty) and return its id."""
    result = connection.execute(insert(alert_table).values(
        created_at=created_at, kind=kind, rule=rule, severity=severity, message=message,
        site_id=site_id, run_id=run_id, details=details, dedupe_key=dedupe_key,
        deliveries=None))
    primary_key = result.inserted_primary_key
    assert primary_key is not None  # None only for executemany, not a one-row insert
    return int(primary_key[0])


def set_deliveries(engine: Engine, *, alert_id: int, deliveries: dict[str, Any]) -> None:
    """Record what each sink did with the alert (``"ok"`` or the error)."""
    with engine.begin() as connection:
        connection.execute(update(alert_table).where(alert_table.c.id == alert_id)
                           .values(deliveries=deliveries))


def open_alerts(engine: Engine, *, kind: str | None = None) -> list[dict[str, Any]]:
    """Alerts whose condition is still open (the latest of their dedupe key is ``firing``)."""
    newest = (select(func.max(alert_table.c.id))
              .where(alert_table.c.dedupe_key.is_not(None))
              .group_by(alert_table.c.dedupe_key))
    query = select(alert_table).where(alert_table.c.id.in_(newest)).order_by(alert_table.c.id)
    if kind:
        query = query.where(alert_table.c.kind == kind)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    return [row for row in rows if alert_state(row) == STATE_FIRING]


def list_alerts(engine: Engine, *, since: datetime | None = None, site_id: str | None = None,
                kind: str | None = None, rule: str | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
    """Alerts, newest first, filtered by time, site, kind and rule."""
    query = select(alert_table).order_by(alert_table.c.created_at.desc(), alert_table.c.id.desc())
    if since is not None:
        query = query.where(alert_table.c.created_at >= since)
    if site_id:
        query = query.where(alert_table.c.site_id == site_id)
    if kind:
        query = query.where(alert_table.c.kind == kind)
    if rule:
        query = query.where(alert_table.c.rule == rule)
    if limit:
        query = query.limit(limit)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def alerts_by_id(engine: Engine, alert_ids: list[int]) -> list[dict[str, Any]]:
    """The alerts with these ids, in id order."""
    if not alert_ids:
        return []
    with engine.connect() as connection:
        rows = connection.execute(select(alert_table).where(alert_table.c.id.in_(alert_ids))
                                  .order_by(alert_table.c.id))
        return [dict(row._mapping) for row in rows]
