"""`clickfarm crawl`, `extract`, `report`, `simulate`, `demo`, `db`: the crawl and data commands."""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from clickfarm.options import (
    DatabaseOption,
    DayParser,
    Family,
    MomentParser,
    OutputFormat,
    Pricing,
    SitesOption,
    _database_url,
    console,
    err_console,
    fail,
    open_database,
    positive_seconds,
    report_app,
)
from core.config import ConfigError, select_sites
from reports.render import labelled
from simulator.hidden import HARD_MARKET

# The commands of this module; clickfarm/cli.py merges them into the app.
app = typer.Typer()
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


app.add_typer(report_app, name="report")
app.add_typer(db_app, name="db")


# -- option values: checked where they are typed (a usage error, exit 2) ---------------------



class ExtractFormat(str, Enum):
    json = "json"
    table = "table"


class SeriesStep(str, Enum):
    day = "day"
    week = "week"
    month = "month"


# -- crawl -----------------------------------------------------------------------------------

@app.command()
def crawl(
    site: Annotated[Optional[list[str]], typer.Option("--site", help="site id (repeatable)")] = None,
    all_sites: Annotated[bool, typer.Option("--all", help="every enabled site")] = False,
    sites_file: SitesOption = None,
    database_url: DatabaseOption = None,
    observed_at: Annotated[Optional[datetime], typer.Option(
        parser=MomentParser,
        help="record the observation at this UTC time instead of now (replays, simulator)")] = None,
    timeout: Annotated[float, typer.Option(callback=positive_seconds,
                                           help="hard timeout of each crawl process, seconds")] = 3600,
    parallel: Annotated[int, typer.Option(min=1, max=16,
                                          help="crawl processes at once (CPU-bound: one per core)")] = 2,
) -> None:
    """Crawl sites from the config into the database (batches of sites in child processes)."""
    from crawlers.runner import load_targets, run_crawls
    from reports.runs import runs_by_id
    from storage.models import GOOD_RUN_STATUSES
    from storage.repository import active_offer_counts, mark_stale_runs_interrupted

    if bool(site) == all_sites:
        fail("give --site ID (one or more) or --all")
    engine = open_database(database_url)
    try:
        # The config's sites plus the sites promoted from discovery.
        chosen = select_sites(load_targets(sites_file, database_url, include_disabled=bool(site)),
                              site)
    except ConfigError as error:
        fail(str(error))
    # Runs left "running" by a crawl process that is gone (SIGKILL) get their honest status.
    stale = mark_stale_runs_interrupted(engine, now=datetime.now(UTC))
    if stale:
        err_console.print(f"{stale} run(s) of crawl processes that are gone marked interrupted")
    from clickfarm.progress import progress

    # A bar on a terminal, plain lines when piped; a step is a crawl process that ended.
    with progress(err_console, "crawl", total=len(chosen), unit="sites") as tracker:
        tracker.note(f"{min(parallel, len(chosen))} crawl process(es)")
        results = run_crawls([s.id for s in chosen], parallel=parallel,
                             weights=active_offer_counts(engine), sites_path=sites_file,
                             observed_at=observed_at, database_url=database_url,
                             timeout_seconds=timeout, trigger="manual",
                             on_done=lambda batch, result: tracker.advance(
                                 len(batch), message=f"done: {', '.join(batch[:3])}"
                                 + (f" (+{len(batch) - 3})" if len(batch) > 3 else "")))
    # Only the runs this command created: beside a scheduler, a site's latest run may be another
    # process's, whose status is neither this command's output nor its exit code.
    own_run_ids = [run_id for result in results for run_id in result.run_ids]
    check_health(engine, own_run_ids, sites_file, now=observed_at or datetime.now(UTC))
    for result in results:
        if result.returncode != 0 and not result.timed_out:
            err_console.print(result.stderr_tail)
    runs = runs_by_id(engine, own_run_ids)
    print_runs(runs)
    if any(result.timed_out for result in results):
        fail(f"a crawl process hit its {timeout:.0f}s timeout and was stopped", 1)
    # A crawl process that died (killed, crashed) or a run that did not end well is a failed
    # crawl for the caller (cron, scripts), even when other sites succeeded.
    died = [result for result in results if result.returncode != 0]
    if died:
        fail(f"{len(died)} crawl process(es) ended abnormally (exit "
             f"{', '.join(str(result.returncode) for result in died)})", 1)
    if any(run["status"] not in GOOD_RUN_STATUSES for run in runs):
        raise typer.Exit(1)


def check_health(engine, run_ids: list[int], sites_file: Optional[Path], *,
                 now: datetime) -> None:
    """Health checks and market rules after a crawl (alerts go to the configured sinks);
    ``now`` is the observation time, so that a replay judges staleness at its own time."""
    from core.config import load_config
    from scheduler.health import after_run

    try:
        after_run(engine, run_ids=run_ids, config=load_config(sites_file), now=now)
    except Exception as error:  # the crawl is stored: a failing check must not hide it
        err_console.print(labelled("health checks failed:", "yellow", error))


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
    output_format: Annotated[ExtractFormat, typer.Option(
        "--format", help="json (one object per line) or table")] = ExtractFormat.json,
    observed_at: Annotated[Optional[datetime], typer.Option(
        parser=MomentParser, help="date for the ECB rate (default today)")] = None,
) -> None:
    """Extract and normalize the offers of a saved page (offline, no crawl, no database)."""
    from clickfarm.extract_file import extract_file, read_bounded

    try:
        data = read_bounded(sys.stdin.buffer if str(file) == "-" else file)
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}")
    except ValueError as error:  # larger than any price list
        fail(str(error), 1)
    when = observed_at or datetime.now(UTC)
    outcome = extract_file(data, family=family.value, url=url,
                           currency=currency.upper() if currency else None, observed_at=when)
    for note in outcome.notes:
        err_console.print(labelled("note:", "dim", note))
    if outcome.error:
        fail(outcome.error, 1)
    if output_format is ExtractFormat.table:
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
        err_console.print(labelled("rejected", "yellow",
                                   f"{rejection['site_offer_id']}: {rejection['reason']}"))
    err_console.print(f"{len(outcome.offers)} offers, {len(outcome.rejections)} rejected")


# -- reports ---------------------------------------------------------------------------------

@report_app.command("prices")
def report_prices(
    since: Annotated[Optional[date], typer.Option(
        "--from", parser=DayParser, help="first day (default: 30 days ago)")] = None,
    until: Annotated[Optional[date], typer.Option(
        "--to", parser=DayParser, help="last day (default: today)")] = None,
    platform: Annotated[Optional[str], typer.Option()] = None,
    metric: Annotated[Optional[str], typer.Option()] = None,
    pricing: Annotated[Pricing, typer.Option(
        help="per_1000: panel rates; package: retail packages (price / size x 1000)")] = Pricing.per_1000,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    dedupe_resellers: Annotated[bool, typer.Option(
        "--dedupe-resellers", help="count a service resold along a chain once (stored links, "
        "see `report resellers`)")] = False,
    by: Annotated[Optional[SeriesStep], typer.Option(
        "--by", help="the index over time, one row per day, ISO week or month and class "
        "(the stored daily index; see README)")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Price index: median, quartiles, min, max and sellers in USD per 1000, by platform × metric
    (with --by: over time)."""
    from reports.prices import METHOD, price_index
    from reports.render import money, print_table, to_csv, to_json

    end = until or datetime.now(UTC).date()
    start = since or end - timedelta(days=30)
    if start > end:
        fail(f"--from {start} is after --to {end}")
    if by is not None and dedupe_resellers:
        fail("--dedupe-resellers applies to the one-range index, not to --by")
    engine = open_database(database_url, write=False)
    if by is not None:
        _print_price_series(engine, start=start, end=end, by=by.value, platform=platform,
                            metric=metric, pricing=pricing.value, output_format=output_format)
        return
    rows = price_index(engine, start=start, end=end, platform=platform, metric=metric,
                       pricing=pricing.value, dedupe_resellers=dedupe_resellers)
    method = METHOD + ("; resold copies counted once (reseller links)" if dedupe_resellers
                       else "")
    if dedupe_resellers:
        from reports.resellers import root_offers

        if not root_offers(engine):
            err_console.print("no reseller links stored: nothing to collapse (compute them with "
                              "`clickfarm report resellers --refresh`)")
    if not rows:
        _say_no_prices(engine, pricing.value, start, end)
    if output_format is OutputFormat.json:
        print(to_json(rows, start=start, end=end, unit="USD per 1000", pricing=pricing.value,
                      method=method))
    elif output_format is OutputFormat.csv:
        sys.stdout.write(to_csv(rows))
    else:
        label = "panel rates" if pricing is Pricing.per_1000 else "retail packages"
        print_table(console, f"price index ({label}), USD per 1000, {start} to {end}",
                    ["platform", "metric", "median", "q1", "q3", "minimum", "maximum", "offers",
                     "sellers"],
                    [[r.platform, r.metric, money(r.median), money(r.q1), money(r.q3),
                      money(r.minimum), money(r.maximum), r.offers, r.sellers] for r in rows],
                    caption=f"method: {method}", text_columns=2)


def _say_no_prices(engine, pricing: str, start: date, end: date) -> None:
    """One line on stderr for an empty price report: the range the database covers, if any."""
    from reports.prices import observed_range

    covered = observed_range(engine)
    err_console.print(f"no {pricing} prices observed from {start} to {end}" + (
        f"; the database covers {covered[0].date()} to {covered[1].date()}" if covered
        else "; the database holds no prices yet (run `clickfarm crawl` first)"))


def _print_price_series(engine, *, start: date, end: date, by: str, platform: Optional[str],
                        metric: Optional[str], pricing: str, output_format: OutputFormat) -> None:
    from reports.price_index import METHOD as SERIES_METHOD
    from reports.price_index import METHOD_TAIL, price_index_series
    from reports.render import money, print_table, to_csv, to_json

    rows = price_index_series(engine, start=start, end=end, by=by, platform=platform,
                              metric=metric, pricing=pricing)
    method = SERIES_METHOD[by] + METHOD_TAIL
    if not rows:
        _say_no_prices(engine, pricing, start, end)
    if output_format is OutputFormat.json:
        print(to_json(rows, start=start, end=end, by=by, unit="USD per 1000", pricing=pricing,
                      method=method))
    elif output_format is OutputFormat.csv:
        sys.stdout.write(to_csv(rows))
    else:
        label = "panel rates" if pricing == "per_1000" else "retail packages"
        print_table(console, f"price index by {by} ({label}), USD per 1000, {start} to {end}",
                    [by, "platform", "metric", "median", "q1", "q3", "min", "max", "offers",
                     "sellers"],
                    [[r.period_start.isoformat(), r.platform, r.metric, money(r.median),
                      money(r.q1), money(r.q3), money(r.min), money(r.max), r.offers, r.sellers]
                     for r in rows],
                    caption=f"method: {method}", text_columns=3)


# -- simulator and demo ----------------------------------------------------------------------

# Far above any useful market; below the sizes that would exhaust memory or run for days.
MAX_SIMULATED_SELLERS = 1000
MAX_SIMULATED_DAYS = 3660
# The simulated market's knobs (simulate, demo); shares out of [0, 1] are usage errors.
def _finite_share(value: float | None) -> float | None:
    """A share from 0 to 1 (click's range check lets NaN through: every comparison is false)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a share from 0 to 1")
    return value


MarketShareOption = Annotated[float, typer.Option(
    "--counter-coverage", min=0.0, max=1.0, callback=_finite_share,
    help="share of panels whose landing page shows an orders counter")]
UnseenShareOption = Annotated[float, typer.Option(
    "--unseen-share", min=0.0, max=1.0, callback=_finite_share,
    help="share of sellers no directory lists, no seller links and the config leaves out")]
ResellerShareOption = Annotated[Optional[float], typer.Option(
    "--reseller-share", min=0.0, max=1.0, callback=_finite_share,
    help="share of panels that resell another panel (default: drawn from the seed)")]


@app.command()
def simulate(
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="market seed")] = 42,
    port: Annotated[int, typer.Option(min=0, max=65535,
                                      help="port on 127.0.0.1 (0 = any free port)")] = 8765,
    panels: Annotated[int, typer.Option(min=1, max=MAX_SIMULATED_SELLERS,
                                        help="number of panels")] = 24,
    shops: Annotated[int, typer.Option(min=0, max=MAX_SIMULATED_SELLERS,
                                       help="number of retail shops")] = 10,
    days: Annotated[int, typer.Option(min=0, max=MAX_SIMULATED_DAYS,
                                      help="advance the clock this many days before serving")] = 0,
    counter_coverage: MarketShareOption = HARD_MARKET["counter_coverage"],
    unseen_share: UnseenShareOption = HARD_MARKET["unseen_share"],
    reseller_share: ResellerShareOption = None,
    truth: Annotated[Optional[Path], typer.Option(help="write the ground truth JSON here")] = None,
    write_config: Annotated[Optional[Path], typer.Option(
        help="write a sites file for the simulated sellers here")] = None,
) -> None:
    """Serve the simulated market on loopback until Ctrl-C."""
    from clickfarm.demo import demo_sections, export_sites_file, make_market
    from simulator.server import SimulatorServer

    market = make_market(seed=seed, panels=panels, shops=shops,
                         counter_coverage=counter_coverage, unseen_share=unseen_share,
                         reseller_share=reseller_share)
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
    days: Annotated[int, typer.Option(min=1, max=MAX_SIMULATED_DAYS,
                                      help="simulated days to crawl")] = 30,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="market seed")] = 42,
    panels: Annotated[int, typer.Option(min=1, max=MAX_SIMULATED_SELLERS,
                                        help="number of simulated panels")] = 24,
    shops: Annotated[int, typer.Option(min=0, max=MAX_SIMULATED_SELLERS,
                                       help="number of simulated retail shops")] = 10,
    counter_coverage: MarketShareOption = HARD_MARKET["counter_coverage"],
    unseen_share: UnseenShareOption = HARD_MARKET["unseen_share"],
    reseller_share: ResellerShareOption = None,
    database_url: Annotated[Optional[str], typer.Option(
        "--database-url", callback=_database_url,
        help="default: a fresh sqlite:///var/demo.db")] = None,
    truth: Annotated[Optional[Path], typer.Option(
        help="write the ground truth JSON here (default: var/demo-truth.json)")] = None,
) -> None:
    """Simulated market -> crawl every seller once per simulated day (panels, shops, the
    JavaScript shop in Chromium), discover new sellers in the directories and crawl them ->
    price indexes, changes, runs and alerts."""
    from clickfarm.demo import run_demo

    run_demo(console, days=days, seed=seed, panels=panels, shops=shops,
             database_url=database_url, truth_path=truth,
             market_options={"counter_coverage": counter_coverage,
                             "unseen_share": unseen_share, "reseller_share": reseller_share})


# -- database --------------------------------------------------------------------------------

@db_app.command("migrate")
def db_migrate(database_url: DatabaseOption = None) -> None:
    """Create or upgrade the schema (Alembic migrations, SQL views included)."""
    from storage.db import get_engine
    from storage.schema_report import migrate_and_report

    # Says what it applied (revisions, tables, views), unlike a writer's silent migration.
    engine = get_engine(database_url, create_folder=database_url is None)
    for line in migrate_and_report(engine).lines():
        console.print(line, highlight=False)


@db_app.command("refresh-price-index")
def db_refresh_price_index(
    since: Annotated[Optional[date], typer.Option(
        "--from", parser=DayParser, help="first day (default: the first stored price)")] = None,
    until: Annotated[Optional[date], typer.Option(
        "--to", parser=DayParser, help="last day (default: the last stored price)")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Rebuild the stored daily price index from the price history (crawls keep it up to date;
    this repairs it or recomputes a range)."""
    import time

    from storage.price_index import rebuild

    if since is not None and until is not None and since > until:
        fail(f"--from {since} is after --to {until}")
    engine = open_database(database_url)
    started = time.monotonic()
    rows = rebuild(engine, start=since, end=until)
    console.print(f"price index: {rows} day x class rows written in "
                  f"{time.monotonic() - started:.1f} s")


@db_app.command("counts")
def db_counts(database_url: DatabaseOption = None) -> None:
    """Row counts per table."""
    from reports.render import print_table
    from storage.repository import table_counts

    counts = table_counts(open_database(database_url, write=False))
    print_table(console, "rows", ["table", "rows"], [[k, v] for k, v in counts.items()])
