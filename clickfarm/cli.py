"""The `clickfarm` command: a thin layer over crawlers/, pipelines/, storage/, reports/, simulator/."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from clickfarm.config import ConfigError, select_sites

app = typer.Typer(help="Monitor the market for fake social-media engagement.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
report_app = typer.Typer(help="Market reports from the database.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(report_app, name="report")
app.add_typer(db_app, name="db")

# Piped or captured output is not cut to 80 columns: report tables keep whole names.
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

DatabaseOption = Annotated[Optional[str], typer.Option(
    "--database-url", envvar="DATABASE_URL",
    help="SQLAlchemy URL; default sqlite:///var/clickfarm.db", show_envvar=True)]
SitesOption = Annotated[Optional[Path], typer.Option(
    "--sites-file", envvar="CLICKFARM_SITES", help="sites file (default config/sites.yaml)")]


class Pricing(str, Enum):
    per_1000 = "per_1000"
    package = "package"


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class Family(str, Enum):
    smm_api = "smm_api"
    smm_html = "smm_html"
    shopify = "shopify"
    woocommerce = "woocommerce"
    storefront = "storefront"
    spa = "spa"


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def open_database(database_url: str | None):
    """The engine of the project database, migrated to the current schema (a new database gets
    its tables, an older one the latest migrations), so that every command works on it."""
    from storage.db import get_engine, migrate

    engine = get_engine(database_url)
    migrate(engine)
    return engine


def parse_when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"not an ISO date or timestamp: {value!r}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- crawl -----------------------------------------------------------------------------------

@app.command()
def crawl(
    site: Annotated[Optional[list[str]], typer.Option("--site", help="site id (repeatable)")] = None,
    all_sites: Annotated[bool, typer.Option("--all", help="every enabled site")] = False,
    sites_file: SitesOption = None,
    database_url: DatabaseOption = None,
    observed_at: Annotated[Optional[str], typer.Option(
        help="record the observation at this UTC time instead of now (replays, simulator)")] = None,
    timeout: Annotated[float, typer.Option(help="hard timeout of each crawl process, seconds")] = 3600,
    parallel: Annotated[int, typer.Option(min=1, max=16,
                                          help="crawl processes at once (CPU-bound: one per core)")] = 2,
) -> None:
    """Crawl sites from the config into the database (batches of sites in child processes)."""
    from crawlers.runner import load_targets, run_crawls
    from storage.repository import active_offer_counts, mark_stale_runs_interrupted
    from reports.runs import runs_by_id

    if bool(site) == all_sites:
        fail("give --site ID (one or more) or --all")
    try:
        # The config's sites plus the sites promoted from discovery.
        chosen = select_sites(load_targets(sites_file, database_url, include_disabled=bool(site)),
                              site)
    except ConfigError as error:
        fail(str(error))
    when = parse_when(observed_at)
    engine = open_database(database_url)
    # Runs left "running" by a crawl process that is gone (SIGKILL) get their honest status.
    stale = mark_stale_runs_interrupted(engine, now=datetime.now(UTC))
    if stale:
        err_console.print(f"{stale} run(s) of crawl processes that are gone marked interrupted")
    with console.status(f"crawling {len(chosen)} site(s)..."):
        results = run_crawls([s.id for s in chosen], parallel=parallel,
                             weights=active_offer_counts(engine), sites_path=sites_file,
                             observed_at=when, database_url=database_url,
                             timeout_seconds=timeout, trigger="manual")
    # Only the runs this command created: beside a scheduler, a site's latest run may be another
    # process's, whose status is neither this command's output nor its exit code.
    own_run_ids = [run_id for result in results for run_id in result.run_ids]
    check_health(engine, own_run_ids, sites_file, now=when or datetime.now(UTC))
    for result in results:
        if result.returncode != 0 and not result.timed_out:
            err_console.print(result.stderr_tail)
    runs = runs_by_id(engine, own_run_ids)
    print_runs(runs)
    if any(result.timed_out for result in results):
        fail(f"a crawl process hit its {timeout:.0f}s timeout and was stopped", 1)
    if any(run["status"] == "failed" for run in runs):
        raise typer.Exit(1)


def check_health(engine, run_ids: list[int], sites_file: Optional[Path], *,
                 now: datetime) -> None:
    """Health checks and market rules after a crawl (alerts go to the configured sinks);
    ``now`` is the observation time, so that a replay judges staleness at its own time."""
    from clickfarm.config import load_config
    from scheduler.health import after_run

    try:
        after_run(engine, run_ids=run_ids, config=load_config(sites_file), now=now)
    except Exception as error:  # the crawl is stored: a failing check must not hide it
        err_console.print(f"[yellow]health checks failed:[/yellow] {error}")


def print_runs(runs: list[dict]) -> None:
    from reports.render import print_table

    print_table(console, "crawl runs",
                ["site", "status", "offers", "new", "changed", "removed", "rejected",
                 "price rows", "error"],
                [[r["site_id"], r["status"], r["offers_seen"], r["offers_new"],
                  r["offers_changed"], r["offers_removed"], r["offers_rejected"],
                  r["price_rows_added"], (r["error"] or "")[:80]] for r in runs],
                text_columns=2)


# -- extract ---------------------------------------------------------------------------------

@app.command()
def extract(
    file: Annotated[Path, typer.Argument(help="saved page or API response ('-' = stdin)")],
    family: Annotated[Family, typer.Option(help="seller family of the page")],
    url: Annotated[Optional[str], typer.Option(help="URL the page came from")] = None,
    currency: Annotated[Optional[str], typer.Option(
        help="currency when the page does not say (ISO code)")] = None,
    output_format: Annotated[str, typer.Option("--format", help="json (one object per line) or table")] = "json",
    observed_at: Annotated[Optional[str], typer.Option(help="date for the ECB rate (default today)")] = None,
) -> None:
    """Extract and normalize the offers of a saved page (offline, no crawl, no database)."""
    from clickfarm.extract_file import extract_file

    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}")
    when = parse_when(observed_at) or datetime.now(UTC)
    outcome = extract_file(data, family=family.value, url=url,
                           currency=currency.upper() if currency else None, observed_at=when)
    for note in outcome.notes:
        err_console.print(f"[dim]note:[/dim] {note}")
    if outcome.error:
        fail(outcome.error, 1)
    if output_format == "table":
        from reports.render import print_table

        def shown(value):
            return "-" if value is None else value

        # Packages show their size (and "was" price); per-1000 rates their order limits.
        packages = any(o["pricing"] == "package" for o in outcome.offers)
        limits = (["size", "was"] if packages else ["min", "max"])
        print_table(console, f"{len(outcome.offers)} offers",
                    ["id", "platform", "metric", "price", "cur", "USD/1000", *limits, "name"],
                    [[o["site_offer_id"], o["platform"], o["metric"], o["price"], o["currency"],
                      shown(o["usd_per_1000"]),
                      *([shown(o["quantity"]), shown(o.get("compare_at_price"))] if packages
                        else [shown(o["min_quantity"]), shown(o["max_quantity"])]),
                      o["name"][:60]]
                     for o in outcome.offers], text_columns=3)
    else:
        for offer in outcome.offers:
            sys.stdout.write(json.dumps(offer, ensure_ascii=False) + "\n")
    for rejection in outcome.rejections:
        err_console.print(f"[yellow]rejected[/yellow] {rejection['site_offer_id']}: "
                          f"{rejection['reason']}")
    err_console.print(f"{len(outcome.offers)} offers, {len(outcome.rejections)} rejected")


# -- reports ---------------------------------------------------------------------------------

@report_app.command("prices")
def report_prices(
    since: Annotated[Optional[str], typer.Option("--from", help="first day (default: 30 days ago)")] = None,
    until: Annotated[Optional[str], typer.Option("--to", help="last day (default: today)")] = None,
    platform: Annotated[Optional[str], typer.Option()] = None,
    metric: Annotated[Optional[str], typer.Option()] = None,
    pricing: Annotated[Pricing, typer.Option(
        help="per_1000: panel rates; package: retail packages (price / size x 1000)")] = Pricing.per_1000,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    database_url: DatabaseOption = None,
) -> None:
    """Price index: median, quartiles, min, max and sellers in USD per 1000, by platform × metric."""
    from reports.prices import METHOD, observed_range, price_index
    from reports.render import money, print_table, to_csv, to_json

    end = date.fromisoformat(until) if until else datetime.now(UTC).date()
    start = date.fromisoformat(since) if since else end - timedelta(days=30)
    if start > end:
        fail(f"--from {start} is after --to {end}")
    engine = open_database(database_url)
    rows = price_index(engine, start=start, end=end, platform=platform, metric=metric,
                       pricing=pricing.value)
    if not rows:
        covered = observed_range(engine)
        err_console.print(f"no {pricing.value} prices observed from {start} to {end}" + (
            f"; the database covers {covered[0].date()} to {covered[1].date()}" if covered
            else "; the database holds no prices yet (run `clickfarm crawl` first)"))
    if output_format is OutputFormat.json:
        print(to_json(rows, start=start, end=end, unit="USD per 1000", pricing=pricing.value,
                      method=METHOD))
    elif output_format is OutputFormat.csv:
        sys.stdout.write(to_csv(rows))
    else:
        label = "panel rates" if pricing is Pricing.per_1000 else "retail packages"
        print_table(console, f"price index ({label}), USD per 1000, {start} to {end}",
                    ["platform", "metric", "median", "q1", "q3", "minimum", "maximum", "offers",
                     "sellers"],
                    [[r.platform, r.metric, money(r.median), money(r.q1), money(r.q3),
                      money(r.minimum), money(r.maximum), r.offers, r.sellers] for r in rows],
                    caption=f"method: {METHOD}", text_columns=2)


# -- simulator and demo ----------------------------------------------------------------------

@app.command()
def simulate(
    seed: Annotated[int, typer.Option(help="market seed")] = 42,
    port: Annotated[int, typer.Option(help="port on 127.0.0.1 (0 = any free port)")] = 8765,
    panels: Annotated[int, typer.Option(help="number of panels")] = 24,
    shops: Annotated[int, typer.Option(help="number of retail shops")] = 10,
    days: Annotated[int, typer.Option(help="advance the clock this many days before serving")] = 0,
    truth: Annotated[Optional[Path], typer.Option(help="write the ground truth JSON here")] = None,
    write_config: Annotated[Optional[Path], typer.Option(
        help="write a sites file for the simulated sellers here")] = None,
) -> None:
    """Serve the simulated market on loopback until Ctrl-C."""
    from clickfarm.demo import demo_sections, export_sites_file
    from simulator.market import Market
    from simulator.server import SimulatorServer

    market = Market(seed=seed, n_panels=panels, n_shops=shops)
    if days:
        market.advance(days=days)
    with SimulatorServer(market, port=port) as server:
        if write_config:
            export_sites_file(market, write_config, base_url=server.base_url,
                              sections=demo_sections(server.base_url,
                                                     write_config.parent / "alerts.jsonl"))
            console.print(f"sites file: {write_config}")
        if truth:
            market.write_ground_truth(truth)
            console.print(f"ground truth: {truth}")
        console.print(f"simulated market on {server.base_url} ({len(market.sites)} panels, "
                      f"{len(market.shops)} shops, directories /d/smmlist/ and /d/topsellers/, "
                      f"day {market.day}, {market.today}); API keys:")
        for variable, key in market.api_key_env().items():
            console.print(f"  export {variable}={key}")
        console.print("Ctrl-C to stop")
        try:
            import time

            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@app.command()
def demo(
    days: Annotated[int, typer.Option(help="simulated days to crawl")] = 30,
    seed: Annotated[int, typer.Option(help="market seed")] = 42,
    panels: Annotated[int, typer.Option(help="number of simulated panels")] = 24,
    shops: Annotated[int, typer.Option(help="number of simulated retail shops")] = 10,
    database_url: Annotated[Optional[str], typer.Option(
        "--database-url", help="default: a fresh sqlite:///var/demo.db")] = None,
) -> None:
    """Simulated market -> crawl every seller once per simulated day (panels, shops, the
    JavaScript shop in Chromium), discover new sellers in the directories and crawl them ->
    price indexes, changes, runs and alerts."""
    from clickfarm.demo import run_demo

    run_demo(console, days=days, seed=seed, panels=panels, shops=shops,
             database_url=database_url)


# -- database --------------------------------------------------------------------------------

@db_app.command("migrate")
def db_migrate(database_url: DatabaseOption = None) -> None:
    """Create or upgrade the schema (Alembic migrations, SQL views included)."""
    from storage.db import get_engine
    from storage.schema_report import migrate_and_report

    for line in migrate_and_report(get_engine(database_url)).lines():
        console.print(line, highlight=False)


@db_app.command("counts")
def db_counts(database_url: DatabaseOption = None) -> None:
    """Row counts per table."""
    from reports.render import print_table
    from storage.repository import table_counts

    counts = table_counts(open_database(database_url))
    print_table(console, "rows", ["table", "rows"], [[k, v] for k, v in counts.items()])


# Commands that live in their own modules register themselves on ``app`` when imported.
from clickfarm import cli_alerts, cli_discovery, cli_service  # noqa: E402, F401

if __name__ == "__main__":
    app()
