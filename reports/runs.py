"""Crawl runs as seen by the user: the latest run of each site, and run totals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from storage.models import run_table


def latest_runs(engine: Engine, *, site_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """The most recent run of each site (all sites, or the ones named), ordered by site."""
    table = run_table
    latest = select(table.c.site_id, table.c.id).order_by(table.c.site_id, table.c.id.desc())
    if site_ids:
        latest = latest.where(table.c.site_id.in_(site_ids))
    with engine.connect() as connection:
        newest: dict[str, int] = {}
        for site_id, run_id in connection.execute(latest):
            newest.setdefault(site_id, run_id)
        if not newest:
            return []
        rows = connection.execute(select(table).where(table.c.id.in_(list(newest.values())))
                                  .order_by(table.c.site_id))
        return [dict(row._mapping) for row in rows]
