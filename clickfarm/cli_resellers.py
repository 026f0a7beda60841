"""`clickfarm report resellers`: reseller chains (upstream site → resellers) with markups."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from clickfarm.options import (
    DatabaseOption,
    MomentParser,
    OutputFormat,
    console,
    err_console,
    fail,
    open_database,
    report_app,
)

# The commands of this module; clickfarm/cli.py merges them into the app.
app = typer.Typer()


@report_app.command("resellers")
def report_resellers(
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    min_confidence: Annotated[float, typer.Option(
        "--min-confidence", min=0.0, max=1.0, help="links with at least this confidence")] = 0.5,
    refresh: Annotated[bool, typer.Option(
        "--refresh", help="recompute the links from the stored prices first")] = False,
    at: Annotated[datetime | None, typer.Option(
        "--at", parser=MomentParser, help="with --refresh: look from this UTC time (default: the last crawl)")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Reseller chains: which sites resell which upstream's services, at what markup."""
    from reports.render import print_table, to_csv, to_json
    from reports.resellers import METHOD, site_chains

    engine = open_database(database_url, write=refresh)
    if at is not None and not refresh:
        fail("--at only applies with --refresh")
    if refresh:
        from estimates.resellers import refresh_links

        moment = at
        links = refresh_links(engine, at=moment)
        err_console.print(f"{len(links)} reseller link(s) computed and stored "
                          f"({(moment or datetime.now(UTC)).isoformat(timespec='seconds')})")
    rows = site_chains(engine, min_confidence=min_confidence)
    if not rows:
        err_console.print("no reseller links stored with confidence >= "
                          f"{min_confidence} (run with --refresh to compute them)")
    if output_format is OutputFormat.json:
        print(to_json(rows, min_confidence=min_confidence, method=METHOD))
    elif output_format is OutputFormat.csv:
        sys.stdout.write(to_csv(rows))
    else:
        print_table(console, "reseller chains (upstream -> reseller)",
                    ["upstream", "reseller", "links", "markup", "min", "max", "confidence"],
                    [[r.upstream_site_id, r.reseller_site_id, r.links, f"x{r.median_markup}",
                      f"x{r.min_markup}", f"x{r.max_markup}", r.mean_confidence]
                     for r in rows],
                    caption=f"method: {METHOD}", text_columns=2)
