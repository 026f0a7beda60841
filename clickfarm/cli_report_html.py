"""`clickfarm report html`: the one-file HTML market report (reports/html_report.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from clickfarm.options import (
    DatabaseOption,
    DayParser,
    err_console,
    fail,
    open_database,
    report_app,
)

# The commands of this module; clickfarm/cli.py merges them into the app.
app = typer.Typer()


@report_app.command("html")
def report_html(
    since: Annotated[date, typer.Option("--from", parser=DayParser,
                                        help="first day (YYYY-MM-DD)")],
    until: Annotated[date, typer.Option("--to", parser=DayParser,
                                        help="last day (YYYY-MM-DD)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="the HTML file to write",
                                         dir_okay=False)],
    database_url: DatabaseOption = None,
) -> None:
    """One self-contained HTML file: price index over time, market size, what changed, reseller
    chains, what $10 buys, run health. It opens offline: no script, no request leaves it."""
    from reports.html_report import write_report
    from reports.prices import observed_range

    if since > until:
        fail(f"--from {since} is after --to {until}")
    if (until - since).days > 3660:
        fail(f"--from {since} to --to {until} spans more than ten years")
    if not output.parent.is_dir():
        fail(f"cannot write {output}: folder {output.parent} does not exist")
    if output.exists() and not output.is_file():
        fail(f"cannot write {output}: not a file")
    engine = open_database(database_url, write=False)
    covered = observed_range(engine)
    if covered is None:
        fail("the database holds no prices yet (run `clickfarm crawl` or `clickfarm demo` "
             "first)", 1)
        return
    report = write_report(engine, output, start=since, end=until)
    if covered[1].date() < since or covered[0].date() > until:
        err_console.print(f"note: the database covers {covered[0].date()} to "
                          f"{covered[1].date()}, outside {since} to {until}")
    size = output.stat().st_size
    err_console.print(f"wrote {output} ({size / 1024:,.0f} KiB, {report.chart_count} charts, "
                      f"{since} to {until})")
