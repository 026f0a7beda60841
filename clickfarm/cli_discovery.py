"""`clickfarm sites ...`, `clickfarm discover`, `clickfarm detect URL`."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any, Optional

import typer
from rich.text import Text

from clickfarm.options import (
    DatabaseOption,
    SitesOption,
    console,
    err_console,
    fail,
    open_database,
    positive_seconds,
)
from core.config import ConfigError, load_sites
from reports.render import labelled

# The commands of this module; clickfarm/cli.py merges them into the app.
app = typer.Typer()

sites_app = typer.Typer(help="The sites: configured, discovered, promoted.",
                        invoke_without_command=True)
app.add_typer(sites_app, name="sites")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "-"


@sites_app.callback()
def sites_list(ctx: typer.Context, sites_file: SitesOption = None,
               database_url: DatabaseOption = None) -> None:
    """The configured sites, then the discovered and promoted ones from the database."""
    if ctx.invoked_subcommand is not None:
        return
    from reports.render import print_table
    from storage.discovery import list_sites

    try:
        sites = load_sites(sites_file)
    except ConfigError as error:
        fail(str(error))
    engine = open_database(database_url, write=False)
    listed = {site.id: site for site in list_sites(engine)}
    rows = []
    for site in sites:
        stored = listed.pop(site.id, None)
        # One vocabulary with the database's site statuses; "disabled" is `enabled: false`.
        status = "disabled" if not site.enabled else (stored.status if stored else "active")
        rows.append([site.id, site.family, status,
                     site.currency or "-", site.url, _sources_text(stored),
                     _when(stored.found_at if stored else None)])
    for stored in listed.values():
        rows.append([stored.id, stored.family, stored.status, stored.currency or "-", stored.url,
                     _sources_text(stored), _when(stored.found_at)])
    print_table(console, "sites", ["id", "family", "status", "currency", "url", "sources",
                                   "found at"], rows, text_columns=7)
    waiting = sum(1 for row in rows if row[2] == "discovered")
    if waiting:
        console.print(f"{waiting} discovered site(s) are not crawled until promoted: "
                      "clickfarm sites promote ID")


def _sources_text(stored: Any) -> str:
    if stored is None or not stored.sources:
        return "-"
    names = [source["source"] if source["source_kind"] != "config" else "config"
             for source in stored.sources]
    text = ", ".join(names[:3])
    return text + (f" (+{len(names) - 3})" if len(names) > 3 else "")


@sites_app.command("promote")
def sites_promote(site_id: Annotated[str, typer.Argument(help="id of a discovered site")],
                  database_url: DatabaseOption = None) -> None:
    """Make a discovered site active: it is crawled from now on (like a config site)."""
    from storage.discovery import SiteStateError, UnknownSiteError, promote_site

    engine = open_database(database_url)
    try:
        row = promote_site(engine, site_id=site_id, now=datetime.now(UTC))
    except (UnknownSiteError, SiteStateError) as error:
        fail(str(error.args[0]))
    console.print(f"{row['id']} ({row['family']}, {row['url']}) is active: "
                  f"clickfarm crawl --site {row['id']}")


@app.command()
def discover(
    sites_file: SitesOption = None,
    database_url: DatabaseOption = None,
    max_pages: Annotated[Optional[int], typer.Option(
        min=1, help="pages per directory (default: discovery.max_pages_per_directory)")] = None,
    timeout: Annotated[float, typer.Option(callback=positive_seconds,
                                           help="hard timeout of the discovery process, s")] = 3600,
) -> None:
    """Find sellers in the directories of the sites file and on known sellers' pages."""
    from clickfarm.progress import progress
    from core.config import load_config
    from crawlers.discovery.discover import discover as run_discovery

    try:
        config = load_config(sites_file)
    except ConfigError as error:
        fail(str(error))
    # The database is checked (and migrated) before any page is fetched.
    open_database(database_url).dispose()
    if not config.discovery.directories and not config.discovery.follow_seller_links:
        fail("nothing to read: the sites file has no discovery.directories and "
             "follow_seller_links is off")
    counts = {"pages": 0, "links": 0, "checked": 0, "sellers": 0}

    # A spinner on a terminal, plain lines when piped (the number of pages is not known ahead).
    with progress(err_console, "discover", unit="events", transient=True) as tracker:

        def on_event(event: dict[str, Any]) -> None:
            kind = event.get("event")
            if kind == "directory_page":
                counts["pages"] += 1
            elif kind == "link":
                counts["links"] += 1
            elif kind == "candidate":
                counts["checked"] += 1
                counts["sellers"] += event.get("outcome") == "seller"
            tracker.advance(message=(
                f"directory pages {counts['pages']} · seller links {counts['links']} · "
                f"new sites checked {counts['checked']} ({counts['sellers']} sellers)"))

        try:
            outcome = run_discovery(sites_file, database_url, max_pages=max_pages,
                                    timeout_seconds=timeout, on_event=on_event)
        except ConfigError as error:
            fail(str(error))
    print_discovery_summary(outcome)
    if outcome.process_error:
        fail(outcome.process_error, 1)


def print_discovery_summary(outcome: Any) -> None:
    from reports.render import print_table

    print_table(console, "directories", ["directory", "pages", "entries", "problems"],
                [[url, d["pages"], d["entries"],
                  "; ".join(d["errors"])[:100] + (" (cut at max pages)" if d["truncated"] else "")]
                 for url, d in outcome.directories.items()], text_columns=1)
    by_family = outcome.new_by_family()
    status = "active (auto_promote)" if outcome.auto_promoted else "discovered"
    rows = [["directories read", len(outcome.directories)],
            ["directory pages", outcome.pages],
            ["known sites found", len(outcome.known_found)],
            ["new sites checked", outcome.candidates],
            [f"new sellers ({status})", len(outcome.new_sites)],
            *[[f"  {family}", count] for family, count in by_family.items()],
            ["skipped", len(outcome.skipped)],
            ["sources recorded (new / seen again)",
             f"{outcome.inserted_sources} / {outcome.updated_sources}"]]
    print_table(console, "discovery", ["", "count"], rows, text_columns=1)
    if outcome.new_sites:
        print_table(console, "new sellers", ["id", "family", "currency", "url", "first source"],
                    [[s.id, s.family, s.currency or "-", s.url, s.discovered_via]
                     for s in outcome.new_sites], text_columns=5)
    if outcome.skipped:
        print_table(console, "skipped (not recorded as sellers)", ["url", "why", "reason"],
                    [[s.url, s.outcome, s.reason[:120]] for s in outcome.skipped],
                    text_columns=3)
    for error in outcome.landing_errors:
        err_console.print(labelled(f"landing page of {error.get('site_id')} not read:",
                                   "yellow", error.get("error")))
    if outcome.new_sites and not outcome.auto_promoted:
        console.print("new sites are not crawled until promoted: clickfarm sites promote ID")


@app.command()
def detect(url: Annotated[str, typer.Argument(help="page of a site (usually its home page)")],
           timeout: Annotated[float, typer.Option(
               callback=positive_seconds,
               help="for the whole command (robots.txt and pages), seconds")] = 30) -> None:
    """Fetch one site and say which seller software serves it, with the evidence."""
    import yaml

    from crawlers.discovery.fetch import FetchError, detect_url
    from crawlers.discovery.fingerprint import UNKNOWN
    from crawlers.discovery.identity import new_site_id, site_identity
    from crawlers.discovery.sites import suggested_entry

    started = time.monotonic()
    try:
        site = detect_url(url, timeout=timeout)
    except FetchError as error:
        fail(str(error))
    detection = site.detection
    console.print(Text.assemble("family: ", (detection.family, "bold"), (
        f" ({detection.software}, confidence {detection.confidence:.2f})"
        if detection.software else "")))
    from clickfarm.detect_currency import stated_currency
    from core.deadline import total_deadline

    # The currency's pages share what is left of the command's one deadline.
    remaining = timeout - (time.monotonic() - started)
    if remaining > 0:
        with total_deadline(remaining):
            currency, source = stated_currency(site, timeout=remaining)
    else:
        currency, source = None, "not read: the command's timeout is spent"
    console.print(f"currency: {currency} (from {source})" if currency
                  else f"currency: not stated ({source})", highlight=False)
    console.print("evidence:")
    for line in detection.evidence:
        console.print(f"  - {line}", markup=False, highlight=False)
    identity = site_identity(site.landing.url)
    if detection.family == UNKNOWN or identity is None:
        console.print("no sites.yaml entry suggested: the family is unknown")
        return
    entry = suggested_entry(new_site_id(identity, set()), identity.url, detection.family,
                            currency)
    console.print("suggested config/sites.yaml entry:")
    console.print(yaml.safe_dump({"sites": [entry]}, sort_keys=False).rstrip(), markup=False,
                  highlight=False)
