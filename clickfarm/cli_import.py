"""`clickfarm import-csv DIR`: published price lists (the 2020 dataset layout) into the store."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from clickfarm.options import DatabaseOption, DayParser, console, err_console, fail, open_database
from reports.render import labelled

# The commands of this module; clickfarm/cli.py merges them into the app.
app = typer.Typer()


def _currency(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        raise typer.BadParameter(f"{value!r} is not an ISO 4217 currency code (e.g. USD)")
    from pipelines.fx import is_known_currency

    code = value.strip().upper()
    if not is_known_currency(code):
        raise typer.BadParameter(f"unknown currency {code!r}")
    return code


def _prefix(value: str) -> str:
    if value and not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,30}", value):
        raise typer.BadParameter("a site id prefix is 1 to 31 lower-case letters, digits, "
                                 "'.', '_' or '-', starting with a letter or digit")
    return value


@app.command("import-csv")
def import_csv(
    directory: Annotated[Path, typer.Argument(
        help="folder of <Panel>/<YYYY_MM_DD>.csv[.gz] price lists")],
    database_url: DatabaseOption = None,
    panel: Annotated[Optional[list[str]], typer.Option(
        "--panel", help="only this panel's folder (repeatable)")] = None,
    since: Annotated[Optional[date], typer.Option(
        "--from", parser=DayParser, help="only files dated on or after this day")] = None,
    until: Annotated[Optional[date], typer.Option(
        "--to", parser=DayParser, help="only files dated on or before this day")] = None,
    latest: Annotated[Optional[int], typer.Option(
        min=1, max=100_000, help="only each panel's N latest files (of those dated in range)")
    ] = None,
    currency: Annotated[str, typer.Option(
        callback=_currency, help="currency of prices whose file and cell name none")] = "USD",
    site_prefix: Annotated[str, typer.Option(
        callback=_prefix, help="put before each panel's site id (keeps imported panels apart "
        "from crawled sites)")] = "",
) -> None:
    """Import published price lists as observed history: one site per panel, one run per
    file at its date, through the crawl's normalization and change-only storage."""
    from clickfarm.import_csv import find_price_lists, import_price_lists
    from clickfarm.progress import progress

    if since and until and since > until:
        fail(f"--from {since} is after --to {until}")
    engine = open_database(database_url)
    if not directory.is_dir():
        fail(f"{directory}: not a folder", 1)
    try:
        files, problems = find_price_lists(directory, site_prefix=site_prefix, panels=panel,
                                           since=since, until=until, latest=latest)
    except OSError as error:
        fail(f"{directory}: {error.strerror or error}", 1)
    for problem in problems:
        err_console.print(labelled("not imported:", "yellow", problem))
    if not files:
        fail(f"no price lists (<Panel>/<YYYY_MM_DD>.csv or .csv.gz) in {directory}"
             + (" for the panels and dates given" if panel or since or until else ""), 1)

    with progress(err_console, "import-csv", total=len(files), unit="files") as tracker:
        summary = import_price_lists(
            engine, directory, files, currency=currency,
            on_file=lambda outcome: tracker.advance(
                message=f"{outcome.file.panel} {outcome.file.day}"))
    print_import_summary(summary)
    if summary.count("failed"):
        raise typer.Exit(1)


def print_import_summary(summary) -> None:
    from reports.render import print_table

    panels: dict[str, list] = {}
    for outcome in summary.outcomes:
        panels.setdefault(outcome.file.site_id, []).append(outcome)
    rows = []
    for site_id, outcomes in panels.items():
        days = [o.file.day for o in outcomes]
        rows.append([site_id, f"{min(days)} to {max(days)}",
                     sum(o.status == "imported" for o in outcomes),
                     sum(o.status == "skipped" for o in outcomes),
                     sum(o.status == "failed" for o in outcomes),
                     sum(o.offers for o in outcomes), sum(o.new for o in outcomes),
                     sum(o.changed for o in outcomes), sum(o.removed for o in outcomes),
                     sum(o.rejected for o in outcomes), sum(o.price_rows for o in outcomes)])
    print_table(console, "imported price lists",
                ["site", "dates", "imported", "skipped", "failed", "offers", "new", "changed",
                 "removed", "rejected", "price rows"], rows, text_columns=2)
    for outcome in summary.outcomes:
        if outcome.status == "failed" or (outcome.status == "skipped"
                                          and not (outcome.reason or "").startswith("imported")):
            err_console.print(labelled(f"{outcome.status}:", "yellow",
                                       f"{outcome.file.panel}/{outcome.file.path.name}: "
                                       f"{outcome.reason}"))
    console.print(f"{summary.count('imported')} files imported, {summary.count('skipped')} "
                  f"skipped, {summary.count('failed')} failed; {summary.offers} offers read, "
                  f"{summary.rejected} rows rejected (see rejected_offer), {summary.price_rows} "
                  f"price rows stored in {summary.seconds:.1f} s", highlight=False)
