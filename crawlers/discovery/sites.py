"""The sites to crawl: those of ``config/sites.yaml`` plus the promoted discovered sites.

A promoted site lives only in the database (``site.status='active'``, ``discovered_via`` a
directory, a seller link or ``manual``). Its :class:`SiteConfig` is rebuilt from the row (url,
family, currency), the few per-site keys stored in ``site.config`` (``enabled``), and the sites
file's ``defaults`` for schedule and politeness, so that changing the defaults changes every
promoted site. A site that needs its own settings is moved into the sites file, which always
wins over the database for the same id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.config import SiteConfig, load_config, site_from_entry

# Per-site keys of a stored config that a promoted site keeps; schedule and politeness come
# from the file's defaults (the stored copy is the snapshot of an earlier crawl).
_KEPT_KEYS = ("enabled", "api_key_env")


def promoted_site_config(row: dict[str, Any], defaults: dict[str, Any]) -> SiteConfig:
    """The :class:`SiteConfig` of a promoted site's database row."""
    stored = row.get("config") or {}
    entry = {key: stored[key] for key in _KEPT_KEYS if key in stored}
    entry.update(id=row["id"], url=row["url"], family=row["family"], currency=row["currency"])
    return site_from_entry(entry, defaults, where=f"promoted site {row['id']}")


def crawl_targets(sites_path: Path | str | None = None, database_url: str | None = None,
                  *, include_disabled: bool = False) -> list[SiteConfig]:
    """The enabled sites of the config (in file order), then the promoted sites of the database
    (by id); a config site wins over a database site with the same id.

    ``include_disabled`` keeps the disabled ones too, for callers that select sites by id
    (``clickfarm crawl --site ID`` may name a disabled site on purpose). Reading only: a
    database without the discovery tables (new, or not migrated yet) has no promoted sites.
    """
    from sqlalchemy import inspect

    from storage.db import get_engine
    from storage.discovery import promoted_sites

    config = load_config(sites_path)
    targets = [site for site in config.sites if include_disabled or site.enabled]
    config_ids = {site.id for site in config.sites}
    engine = get_engine(database_url)
    try:
        if not inspect(engine).has_table("site_discovery"):
            return targets
        rows = [row for row in promoted_sites(engine) if row["id"] not in config_ids]
    finally:
        engine.dispose()
    if rows:
        for row in rows:
            site = promoted_site_config(row, config.defaults)
            if include_disabled or site.enabled:
                targets.append(site)
    return targets


def suggested_entry(site_id: str, url: str, family: str, currency: str | None) -> dict[str, Any]:
    """A ``config/sites.yaml`` entry for a detected site (validated as a :class:`SiteConfig`)."""
    entry: dict[str, Any] = {"id": site_id, "url": url, "family": family}
    if currency:
        entry["currency"] = currency
    SiteConfig.model_validate(entry)
    return entry
