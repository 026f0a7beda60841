"""`clickfarm report market-size`: end-customer spend, orders and sellers with intervals."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from clickfarm.options import (
    DatabaseOption,
    DayParser,
    OutputFormat,
    console,
    fail,
    open_database,
    report_app,
)

# The commands of this module; clickfarm/cli.py merges them into the app.
app = typer.Typer()


@report_app.command("market-size")
def report_market_size(
    since: Annotated[date, typer.Option("--from", parser=DayParser,
                                        help="first day (YYYY-MM-DD)")],
    until: Annotated[date, typer.Option("--to", parser=DayParser,
                                        help="last day (YYYY-MM-DD)")],
    platform: Annotated[str | None, typer.Option(help="one platform only")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    database_url: DatabaseOption = None,
) -> None:
    """Market size over a range: end-customer revenue (unseen sellers included), orders and
    sellers, each low / central / high, with the method. Stores the daily series per seller
    (view v_market_daily)."""
    from reports.market_size import NoMarketData, compute, store_daily, summary_rows, to_contract
    from reports.render import print_table

    start, end = since, until
    if start > end:
        fail(f"--from {start} is after --to {end}")
    engine = open_database(database_url)
    try:
        estimate = compute(engine, start=start, end=end, platform=platform)
    except NoMarketData as error:
        fail(f"cannot size the market from {start} to {end}: {error}")
        return
    if platform is None:
        store_daily(engine, estimate, computed_at=datetime.now(UTC))
    contract = to_contract(estimate, start=start, end=end)
    if output_format is OutputFormat.json:
        print(json.dumps(contract, indent=2, ensure_ascii=False))
    elif output_format is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["measure", "low", "central", "high"])
        for key in ("revenue", "revenue_observed", "orders"):
            writer.writerow([key, *contract[key].values()])
        sellers = contract["sellers"]
        writer.writerow(["sellers", sellers["low"], sellers["central"], sellers["high"]])
        writer.writerow(["sellers_seen", sellers["seen"], sellers["seen"], sellers["seen"]])
        for entry in contract["by_platform"]:
            writer.writerow([f"revenue:{entry['platform']}", *entry["revenue"].values()])
        sys.stdout.write(buffer.getvalue())
    else:
        title = f"market size, {start} to {end}" + (f", {platform}" if platform else "")
        print_table(console, title, ["", "low", "central", "high"], summary_rows(estimate),
                    caption="method: " + contract["method"] + "\nassumptions: "
                    + "; ".join(contract["assumptions"]))
