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


def runs_by_id(engine: Engine, run_ids: list[int]) -> list[dict[str, Any]]:
    """These runs (a command's own runs, never another process's), ordered by site and id."""
    if not run_ids:
        return []
    table = run_table
    with engine.connect() as connection:
        rows = connection.execute(select(table).where(table.c.id.in_(run_ids))
                                  .order_by(table.c.site_id, table.c.id))
        return [dict(row._mapping) for row in rows]
