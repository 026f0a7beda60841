"""Data access for seller discovery: discovered sites, their sources, promotion.

A site found by discovery is a ``site`` row with ``status='discovered'`` (or ``'active'`` when
promoted), ``discovered_via`` = the first source that listed it, and one ``site_discovery`` row
per source (directory, seller link, config). The rows of one source are what capture-recapture
counts later, so a known site listed by a directory gets a row for that directory too.

Like :mod:`storage.repository`, every function takes the engine and keyword-only arguments,
opens its own transaction and returns plain values. Re-running discovery is idempotent: a
source seen again only moves ``last_seen_at`` (and refreshes its evidence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from core.redact import drop_secret_keys as redact_secrets
from storage.db import write_transaction
from storage.models import DISCOVERY_SOURCE_KINDS, SITE_STATUSES, discovery_table, site_table
from storage.repository import _require_aware

CONFIG_SOURCE = "config"


class UnknownSiteError(LookupError):
    """No site with that id in the database."""


class SiteStateError(ValueError):
    """The site cannot make that change (e.g. promoting a site that is already active)."""


@dataclass(slots=True, frozen=True)
class DiscoverySource:
    """One ``(site, source)`` sighting to record."""

    site_id: str
    source: str
    source_kind: str
    evidence: dict[str, Any] | None = None


@dataclass(slots=True)
class SiteListing:
    """A site as ``clickfarm sites`` shows it: the row plus its discovery sources."""

    id: str
    url: str
    family: str
    currency: str | None
    status: str
    discovered_via: str | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    config: dict[str, Any] | None
    sources: list[dict[str, Any]] = field(default_factory=list)
    """``{"source", "source_kind", "found_at", "last_seen_at"}`` ordered by ``found_at``."""

    @property
    def found_at(self) -> datetime | None:
        return min((s["found_at"] for s in self.sources), default=self.first_seen_at)


def _insert(connection: Any) -> Any:
    return pg_dialect.insert if connection.dialect.name == "postgresql" else sqlite_dialect.insert


def all_sites(engine: Engine) -> list[dict[str, Any]]:
    """Every ``site`` row as a dict (any status)."""
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(
            select(site_table).order_by(site_table.c.id))]


def ensure_config_site(engine: Engine, *, site_id: str, url: str, family: str,
                       currency: str | None, config: dict[str, Any] | None, now: datetime) -> None:
    """Make sure a site of the config has its ``site`` row (so its sources can be recorded).

    A new row is ``active`` with ``discovered_via='config'``; an existing row only gains
    ``discovered_via='config'`` when it had none (rows created by a crawl), its status and
    history untouched.
    """
    _require_aware("now", now)
    with write_transaction(engine) as connection:
        statement = _insert(connection)(site_table).values(
            id=site_id, url=url, family=family, currency=currency, status="active",
            first_seen_at=now, last_seen_at=now, discovered_via=CONFIG_SOURCE,
            config=redact_secrets(config) if config is not None else None)
        connection.execute(statement.on_conflict_do_nothing(index_elements=[site_table.c.id]))
        connection.execute(update(site_table)
                           .where(site_table.c.id == site_id, site_table.c.discovered_via.is_(None))
                           .values(discovered_via=CONFIG_SOURCE))


def add_discovered_site(engine: Engine, *, site_id: str, url: str, family: str,
                        currency: str | None, discovered_via: str, now: datetime,
                        config: dict[str, Any] | None = None, status: str = "discovered") -> bool:
    """Insert a newly found site; ``True`` when inserted.

    When the id exists already (a re-run), only ``last_seen_at`` moves: the status (perhaps
    promoted since), the first source and the family chosen at the time stay.
    """
    _require_aware("now", now)
    if status not in SITE_STATUSES:
        raise ValueError(f"site status must be one of {SITE_STATUSES}, got {status!r}")
    with write_transaction(engine) as connection:
        existing = connection.execute(select(site_table.c.last_seen_at)
                                      .where(site_table.c.id == site_id)).first()
        if existing is not None:
            if existing.last_seen_at is None or existing.last_seen_at < now:
                connection.execute(update(site_table).where(site_table.c.id == site_id)
                                   .values(last_seen_at=now))
            return False
        connection.execute(site_table.insert().values(
            id=site_id, url=url, family=family, currency=currency, status=status,
            first_seen_at=now, last_seen_at=now, discovered_via=discovered_via,
            config=redact_secrets(config) if config is not None else None))
        return True


def touch_sites(engine: Engine, *, site_ids: Sequence[str], now: datetime) -> None:
    """Move ``last_seen_at`` of sites seen again (never backwards)."""
    _require_aware("now", now)
    if not site_ids:
        return
    with write_transaction(engine) as connection:
        connection.execute(update(site_table).where(
            site_table.c.id.in_(list(site_ids)),
            (site_table.c.last_seen_at.is_(None)) | (site_table.c.last_seen_at < now))
            .values(last_seen_at=now))


def record_discoveries(engine: Engine, sources: Sequence[DiscoverySource], *, now: datetime
                       ) -> tuple[int, int]:
    """Record sightings in one transaction; returns ``(new rows, rows seen again)``.

    A new ``(site, source)`` gets ``found_at = last_seen_at = now``; one seen again keeps its
    ``found_at`` and moves ``last_seen_at`` forward (never back) and takes the new evidence.
    """
    _require_aware("now", now)
    for sighting in sources:
        if sighting.source_kind not in DISCOVERY_SOURCE_KINDS:
            raise ValueError(f"source_kind must be one of {DISCOVERY_SOURCE_KINDS}, "
                             f"got {sighting.source_kind!r}")
    added = again = 0
    with write_transaction(engine) as connection:
        # a stored row, or a sighting added earlier in this batch
        existing: dict[tuple[str, str], object] = {(row.site_id, row.source): row for row in connection.execute(
            select(discovery_table.c.id, discovery_table.c.site_id, discovery_table.c.source,
                   discovery_table.c.last_seen_at)
            .where(discovery_table.c.site_id.in_({s.site_id for s in sources})))}
        for sighting in sources:
            row = existing.get((sighting.site_id, sighting.source))
            if row is None:
                connection.execute(discovery_table.insert().values(
                    site_id=sighting.site_id, source=sighting.source,
                    source_kind=sighting.source_kind, found_at=now, last_seen_at=now,
                    evidence=sighting.evidence))
                existing[(sighting.site_id, sighting.source)] = sighting  # twice in one batch
                added += 1
            else:
                values: dict[str, Any] = {"evidence": sighting.evidence}
                last_seen = getattr(row, "last_seen_at", None)
                if last_seen is None or last_seen < now:
                    values["last_seen_at"] = now
                connection.execute(update(discovery_table).where(
                    discovery_table.c.site_id == sighting.site_id,
                    discovery_table.c.source == sighting.source).values(**values))
                again += 1
    return added, again


def promote_site(engine: Engine, *, site_id: str, now: datetime) -> dict[str, Any]:
    """Set a discovered (or dead) site to ``active`` so that it is crawled; returns the row.

    Raises :class:`UnknownSiteError` for an unknown id, :class:`SiteStateError` when the site is
    already active.
    """
    _require_aware("now", now)
    with write_transaction(engine) as connection:
        row = connection.execute(select(site_table).where(site_table.c.id == site_id)).first()
        if row is None:
            raise UnknownSiteError(f"no site {site_id!r} in the database "
                                   "(run `clickfarm discover` first, or check `clickfarm sites`)")
        if row.status == "active":
            raise SiteStateError(f"site {site_id!r} is already active")
        connection.execute(update(site_table).where(site_table.c.id == site_id)
                           .values(status="active", discovered_via=row.discovered_via or "manual"))
        return {**dict(row._mapping), "status": "active"}


def promoted_sites(engine: Engine) -> list[dict[str, Any]]:
    """Active sites that came from discovery (``discovered_via`` set and not ``config``): the
    sites crawled beside those of the config."""
    query = (select(site_table).where(site_table.c.status == "active",
                                      site_table.c.discovered_via.is_not(None),
                                      site_table.c.discovered_via != CONFIG_SOURCE)
             .order_by(site_table.c.id))
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def list_sites(engine: Engine) -> list[SiteListing]:
    """Every site of the database with its discovery sources."""
    with engine.connect() as connection:
        sites = {row.id: SiteListing(
            id=row.id, url=row.url, family=row.family, currency=row.currency, status=row.status,
            discovered_via=row.discovered_via, first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at, config=row.config)
            for row in connection.execute(select(site_table).order_by(site_table.c.id))}
        for row in connection.execute(select(discovery_table).order_by(
                discovery_table.c.found_at, discovery_table.c.id)):
            if row.site_id in sites:
                sites[row.site_id].sources.append({
                    "source": row.source, "source_kind": row.source_kind,
                    "found_at": row.found_at, "last_seen_at": row.last_seen_at,
                    "evidence": row.evidence})
    return list(sites.values())


def discovery_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every ``site_discovery`` row (for reports and tests)."""
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(
            select(discovery_table).order_by(discovery_table.c.site_id, discovery_table.c.source))]
