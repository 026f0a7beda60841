"""One discovery pass, parent side: plan, run the spider in a child process, record the results.

:func:`discover` is what ``clickfarm discover`` runs:

1. :func:`build_plan`: the directories of the ``discovery`` section, the known sites (config and
   database, matched later by normalized URL), the bounds and politeness.
2. The spider runs in a child process (:mod:`crawlers.discovery.runner`) and reports events.
3. :func:`resolve` (pure) turns the events into decisions: which known sites each source listed,
   which new sites are sellers (and their family), which candidates are skipped and why.
4. :func:`record` writes them: config sites get their ``site`` row and a ``config`` source, new
   sellers a ``site`` row (``discovered``, or ``active`` with ``auto_promote``), and every
   ``(site, source)`` pair a ``site_discovery`` row. Running it again only moves
   ``last_seen_at`` and adds the sources not seen before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.config import ProjectConfig, SiteConfig, load_config
from crawlers.discovery.identity import SiteIdentity, new_site_id, root_identity
from crawlers.discovery.sites import suggested_entry

Event = dict[str, Any]


@dataclass(slots=True)
class KnownSite:
    id: str
    url: str
    family: str
    status: str
    in_config: bool


@dataclass(slots=True)
class NewSite:
    id: str
    url: str
    family: str
    currency: str | None
    discovered_via: str
    detection: dict[str, Any]


@dataclass(slots=True)
class Sighting:
    site_id: str
    source: str
    source_kind: str
    evidence: dict[str, Any]


@dataclass(slots=True)
class Skipped:
    url: str
    outcome: str
    """``unknown`` (not a seller we can read), ``unreachable``, ``skipped`` (bounds)."""
    reason: str
    sources: list[str]


@dataclass
class DiscoveryOutcome:
    """What a pass found, before and after recording."""

    directories: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per directory: ``pages``, ``entries``, ``errors`` (list), ``truncated`` (bool)."""
    landing_errors: list[dict[str, Any]] = field(default_factory=list)
    known_found: dict[str, list[str]] = field(default_factory=dict)
    """Known site id -> the sources that listed it in this pass."""
    new_sites: list[NewSite] = field(default_factory=list)
    seen_again: list[str] = field(default_factory=list)
    """Sites discovered by an earlier pass (status still ``discovered``) listed again."""
    sightings: list[Sighting] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    candidates: int = 0
    """Sites that were not known and were fingerprinted (or would have been)."""
    inserted_sources: int = 0
    updated_sources: int = 0
    auto_promoted: bool = False
    process_error: str | None = None

    @property
    def pages(self) -> int:
        return sum(directory["pages"] for directory in self.directories.values())

    def new_by_family(self) -> dict[str, int]:
        return dict(sorted(Counter(site.family for site in self.new_sites).items()))


def known_sites(config: ProjectConfig, database_rows: list[dict[str, Any]]) -> list[KnownSite]:
    """The sites already known: every site of the config, then every database row."""
    known = [KnownSite(site.id, site.url, site.family, "active", True) for site in config.sites]
    config_ids = {site.id for site in config.sites}
    known += [KnownSite(row["id"], row["url"], row["family"], row["status"], False)
              for row in database_rows if row["id"] not in config_ids]
    return known


def build_plan(config: ProjectConfig, known: list[KnownSite], *, max_pages: int | None = None
               ) -> dict[str, Any]:
    """The spider's input (JSON-able). Known sellers' landing pages are scanned for links to
    other sellers when ``follow_seller_links`` (dead sites and disabled config sites are not)."""
    discovery = config.discovery
    enabled = {site.id: site.enabled for site in config.sites}
    return {
        "directories": list(discovery.directories),
        "max_pages": max_pages or discovery.max_pages_per_directory,
        "max_sites": discovery.max_sites,
        "follow_seller_links": discovery.follow_seller_links,
        "politeness": {"download_delay": discovery.download_delay,
                       "concurrency": discovery.concurrency,
                       "timeout_seconds": discovery.timeout_seconds},
        "known": [{"id": site.id, "url": site.url,
                   "scan": site.status != "dead" and enabled.get(site.id, True)}
                  for site in known],
    }


def resolve(events: list[Event], known: list[KnownSite], *, taken_ids: set[str]) -> DiscoveryOutcome:
    """Decide, from the spider's events, what each found site is and which sources listed it.

    Pure. A site's sources are every directory and seller page that linked to it (one sighting
    per source). New sellers get a new id (:func:`new_site_id`, unique against ``taken_ids``)
    and ``discovered_via`` = the first source that listed them.
    """
    outcome = DiscoveryOutcome()
    known_by_key: dict[str, KnownSite] = {}
    for known_site in known:
        identity = root_identity(known_site.url)
        if identity is not None:
            known_by_key.setdefault(identity.key, known_site)
    links: dict[str, list[Event]] = {}
    verdicts: dict[str, Event] = {}
    for event in events:
        kind = event.get("event")
        if kind == "directory_page":
            entry = outcome.directories.setdefault(event["directory"], _directory_entry())
            entry["pages"] += 1
            entry["entries"] += event.get("entries", 0)
        elif kind == "directory_error":
            entry = outcome.directories.setdefault(event["directory"], _directory_entry())
            entry["errors"].append(f"{event['url']}: {event['error']}")
        elif kind == "directory_truncated":
            outcome.directories.setdefault(event["directory"], _directory_entry())["truncated"] = True
        elif kind == "landing_error":
            outcome.landing_errors.append(event)
        elif kind == "link":
            links.setdefault(event["key"], []).append(event)
        elif kind == "candidate":
            verdicts[event["key"]] = event
    taken = set(taken_ids)
    for key, site_links in links.items():
        sources = _sources_in_order(site_links)
        site = known_by_key.get(key)
        if site is not None:
            outcome.known_found[site.id] = [source for source, _ in sources]
            if site.status == "discovered":
                outcome.seen_again.append(site.id)
            for source, kind in sources:
                outcome.sightings.append(Sighting(site.id, source, kind,
                                                  _link_evidence(site_links, source)))
            continue
        outcome.candidates += 1
        verdict = verdicts.get(key)
        if verdict is None:
            outcome.skipped.append(Skipped(site_links[0]["site_url"], "unreachable",
                                           "not checked (the discovery process ended first)",
                                           [source for source, _ in sources]))
            continue
        if verdict["outcome"] != "seller":
            outcome.skipped.append(Skipped(verdict["site_url"], verdict["outcome"],
                                           verdict.get("reason") or "", [s for s, _ in sources]))
            continue
        detection = verdict["detection"]
        identity = SiteIdentity(verdict["site_url"], key)
        site_id = new_site_id(identity, taken)
        taken.add(site_id)
        outcome.new_sites.append(NewSite(site_id, identity.url, detection["family"],
                                         detection.get("currency"), sources[0][0], detection))
        for source, kind in sources:
            outcome.sightings.append(Sighting(site_id, source, kind, {
                **_link_evidence(site_links, source), "detection": detection}))
    return outcome


def _directory_entry() -> dict[str, Any]:
    return {"pages": 0, "entries": 0, "errors": [], "truncated": False}


def _sources_in_order(site_links: list[Event]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for link in site_links:
        seen.setdefault(link["source"], link["source_kind"])
    return list(seen.items())


def _link_evidence(site_links: list[Event], source: str) -> dict[str, Any]:
    link = next(link for link in site_links if link["source"] == source)
    return {"href": link["href"], "page_url": link["page_url"], "context": link["context"],
            "text": link["text"]}


def record(engine: Any, outcome: DiscoveryOutcome, config: ProjectConfig, *, now: datetime
           ) -> None:
    """Write a resolved pass to the database (see the module docstring)."""
    from storage.discovery import (
        CONFIG_SOURCE,
        DiscoverySource,
        add_discovered_site,
        ensure_config_site,
        record_discoveries,
        touch_sites,
    )

    sightings: list[DiscoverySource] = []
    for site in config.sites:
        ensure_config_site(engine, site_id=site.id, url=site.url, family=site.family,
                           currency=site.currency, config=site.public_dict(), now=now)
        sightings.append(DiscoverySource(site.id, CONFIG_SOURCE, "config",
                                         {"sites_file": "config"}))
    status = "active" if config.discovery.auto_promote else "discovered"
    outcome.auto_promoted = config.discovery.auto_promote
    for new_site in outcome.new_sites:
        add_discovered_site(engine, site_id=new_site.id, url=new_site.url, family=new_site.family,
                            currency=new_site.currency, discovered_via=new_site.discovered_via,
                            now=now, status=status,
                            config=suggested_entry(new_site.id, new_site.url, new_site.family,
                                                   new_site.currency))
    touch_sites(engine, site_ids=outcome.seen_again, now=now)
    sightings += [DiscoverySource(s.site_id, s.source, s.source_kind, s.evidence)
                  for s in outcome.sightings]
    outcome.inserted_sources, outcome.updated_sources = record_discoveries(engine, sightings,
                                                                          now=now)


def discover(sites_path: Path | str | None = None, database_url: str | None = None, *,
             max_pages: int | None = None, now: datetime | None = None,
             timeout_seconds: float = 3600,
             on_event: Callable[[Event], None] | None = None) -> DiscoveryOutcome:
    """Run a whole discovery pass and record it; returns the outcome for the summary."""
    from crawlers.discovery.runner import run_discovery_process
    from storage.db import get_engine, migrate
    from storage.discovery import all_sites

    now = now or datetime.now(UTC)
    config = load_config(sites_path)
    engine = get_engine(database_url)
    try:
        migrate(engine)
        rows = all_sites(engine)
        known = known_sites(config, rows)
        plan = build_plan(config, known, max_pages=max_pages)
        result = run_discovery_process(plan, timeout_seconds=timeout_seconds, on_event=on_event)
        taken = {site.id for site in config.sites} | {row["id"] for row in rows}
        outcome = resolve(result.events, known, taken_ids=taken)
        if result.timed_out:
            outcome.process_error = (f"the discovery process hit its {timeout_seconds:.0f}s "
                                     "timeout and was stopped (what it found is recorded)")
        elif result.returncode != 0:
            outcome.process_error = (f"the discovery process failed (exit {result.returncode}):"
                                     f" {result.stderr_tail.strip()[-600:]}")
        record(engine, outcome, config, now=now)
        return outcome
    finally:
        engine.dispose()


def site_config_for(site: NewSite) -> SiteConfig:
    """The :class:`SiteConfig` a new site would have in the sites file."""
    return SiteConfig.model_validate(suggested_entry(site.id, site.url, site.family,
                                                     site.currency))
