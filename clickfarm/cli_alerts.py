"""`clickfarm status`, `clickfarm changes`, `clickfarm alerts`: health and market moves."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Optional

import typer

from clickfarm.options import (
    DatabaseOption,
    MomentParser,
    OutputFormat,
    SinceParser,
    SitesOption,
    console,
    err_console,
    fail,
    open_database,
)
from core.config import ConfigError, load_config

# The commands of this module; clickfarm/cli.py merges them into the app.
app = typer.Typer()

alerts_app = typer.Typer(help="Health and market alerts: list them, or check now.",
                         no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")

SinceOption = Annotated[datetime, typer.Option(
    "--since", parser=SinceParser, help="7d, 24h, 30m, 2w, or an ISO date / timestamp (UTC)")]


class AlertKind(str, Enum):
    health = "health"
    market = "market"


class ChangeKind(str, Enum):
    """The kinds of ``reports.changes.CHANGE_KINDS`` (a test keeps them equal)."""

    new = "new"
    removed = "removed"
    reinstated = "reinstated"
    price_up = "price_up"
    price_down = "price_down"
    limits_changed = "limits_changed"


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def _config(sites_file):
    try:
        return load_config(sites_file)
    except ConfigError as error:
        fail(str(error))
        raise


# -- status ----------------------------------------------------------------------------------

@app.command()
def status(
    database_url: DatabaseOption = None,
    sites_file: SitesOption = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """One row per site: last run, active offers, trend, last 5 runs, health, next planned run."""
    from reports.render import print_table, to_csv, to_json
    from reports.scheduler_state import scheduler_state
    from reports.status import site_status

    config = _config(sites_file)
    engine = open_database(database_url, write=False)
    rows = site_status(engine, sites=config.sites)
    scheduler = scheduler_state(engine)
    if output_format is OutputFormat.json:
        print(to_json(rows, generated_at=datetime.now(UTC), scheduler=scheduler.description,
                      scheduler_running=scheduler.running))
    elif output_format is OutputFormat.csv:
        err_console.print(scheduler.description, highlight=False)
        sys.stdout.write(to_csv([_flat(row) for row in rows]))
    else:
        console.print(scheduler.description, highlight=False)
        print_table(console, f"{len(rows)} sites",
                    ["site", "family", "last run", "status", "offers", "trend", "runs",
                     "health", "next run"],
                    [[r.site_id, r.family or "-", _when(r.last_run_at), r.last_status or "-",
                      r.offers, r.trend, r.runs or "-", r.health, _when(r.next_run_at)]
                     for r in rows],
                    caption=("trend: offers of the last successful run vs the one before; "
                             "runs: last 5, oldest first (S succeeded, P partial, F failed, "
                             "I interrupted, R running); health: open health alerts"),
                    text_columns=4)


def _flat(row) -> dict:
    from reports.render import as_dicts

    record = as_dicts([row])[0]
    record["open_alerts"] = " ".join(record["open_alerts"])
    return record


# -- changes ---------------------------------------------------------------------------------

@app.command()
def changes(
    since: SinceOption = "7d",  # type: ignore[assignment]  # the parser reads the default too
    site: Annotated[Optional[str], typer.Option(help="only this site id")] = None,
    platform: Annotated[Optional[str], typer.Option()] = None,
    metric: Annotated[Optional[str], typer.Option()] = None,
    kind: Annotated[Optional[list[ChangeKind]], typer.Option(
        help="new, removed, reinstated, price_up, price_down, limits_changed (repeatable; "
             "default all but limits_changed)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="rows shown (the summary counts all)")] = 100,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    database_url: DatabaseOption = None,
) -> None:
    """New, removed, reinstated and repriced offers with their change in percent."""
    from reports.changes import DEFAULT_CHANGE_KINDS, METHOD, offer_changes, summarize_changes
    from reports.render import print_table, to_csv, to_json

    kinds = tuple(k.value for k in kind) if kind else DEFAULT_CHANGE_KINDS
    start = since
    found = offer_changes(open_database(database_url, write=False), since=start, site_id=site,
                          platform=platform, metric=metric, kinds=kinds)
    summary = summarize_changes(found)
    shown = found[:limit]
    if output_format is OutputFormat.json:
        document = json.loads(to_json(shown, since=start, method=METHOD, total=len(found)))
        document["summary"] = [{"kind": s.kind, "events": s.events, "sites": s.sites,
                                "median_change_pct": s.median_change_pct,
                                "largest_change_pct": s.largest_change_pct} for s in summary]
        print(json.dumps(document, indent=2, ensure_ascii=False, default=str))
        return
    if output_format is OutputFormat.csv:
        sys.stdout.write(to_csv(shown))
        return
    if not found:
        err_console.print(f"no offer changes since {_when(start)}")
    print_table(console, f"offer changes since {_when(start)} ({len(found)} events"
                + (f", newest {len(shown)} shown" if len(shown) < len(found) else "") + ")",
                ["when", "site", "kind", "platform", "metric", "offer", "old", "new", "cur",
                 "change %"],
                [[_when(c.occurred_at), c.site_id, c.kind, c.platform or "-", c.metric or "-",
                  c.offer_name[:50], _price(c.old_price), _price(c.new_price), c.currency or "-",
                  f"{c.change_pct:+}" if c.change_pct is not None else "-"] for c in shown],
                caption=f"method: {METHOD}", text_columns=6)
    for line in summary:
        console.print(line.line())


def _price(value) -> str:
    """Prices exactly as stored (a package at 12.99 EUR stays 12.99)."""
    return "-" if value is None else str(value)


# -- alerts ----------------------------------------------------------------------------------

def _deliveries(value: dict | None) -> str:
    if not value:
        return "-"
    return ", ".join(f"{sink} {'ok' if result == 'ok' else 'FAILED'}"
                     for sink, result in value.items())


def _print_alerts(rows: list[dict], output_format: OutputFormat, title: str) -> None:
    from reports.render import print_table, to_csv, to_json

    if output_format is OutputFormat.json:
        print(to_json(rows))
    elif output_format is OutputFormat.csv:
        sys.stdout.write(to_csv([{**row, "details": json.dumps(row["details"], default=str),
                                  "deliveries": json.dumps(row["deliveries"])} for row in rows]))
    else:
        print_table(console, title,
                    ["id", "created", "severity", "kind", "rule", "state", "site", "message",
                     "sent"],
                    [[r["id"], _when(r["created_at"]), r["severity"], r["kind"], r["rule"],
                      (r["details"] or {}).get("state", "-"), r["site_id"] or "-",
                      r["message"][:100], _deliveries(r["deliveries"])] for r in rows],
                    text_columns=8)


@alerts_app.command("list")
def alerts_list(
    since: SinceOption = "7d",  # type: ignore[assignment]  # the parser reads the default too
    site: Annotated[Optional[str], typer.Option(help="only this site id")] = None,
    kind: Annotated[Optional[AlertKind], typer.Option(help="health or market")] = None,
    rule: Annotated[Optional[str], typer.Option(help="e.g. no_offers, price_index_move")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="only conditions still firing")] = False,
    limit: Annotated[int, typer.Option(min=1)] = 200,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    database_url: DatabaseOption = None,
) -> None:
    """Stored alerts, newest first (--open: the conditions still firing, whatever their age)."""
    from storage.alerts import list_alerts, open_alerts

    engine = open_database(database_url, write=False)
    kind_name = kind.value if kind else None
    if open_only:
        rows = [row for row in reversed(open_alerts(engine, kind=kind_name))
                if (not site or row["site_id"] == site) and (not rule or row["rule"] == rule)]
        title = f"{len(rows)} open alert(s)"
    else:
        start = since
        rows = list_alerts(engine, since=start, site_id=site, kind=kind_name, rule=rule,
                           limit=limit)
        title = f"{len(rows)} alert(s) since {_when(start)}"
    _print_alerts(rows[:limit], output_format, title)


@alerts_app.command("check")
def alerts_check(
    sites_file: SitesOption = None,
    database_url: DatabaseOption = None,
    at: Annotated[Optional[datetime], typer.Option(
        "--at", parser=MomentParser, help="judge as of this UTC time instead of now (replays, simulator)")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Judge the latest run of every site, stale sites and market rules now; send new alerts.

    Ongoing conditions already reported are not sent again.
    """
    from reports.runs import latest_runs
    from scheduler.health import after_run
    from storage.alerts import alerts_by_id

    config = _config(sites_file)
    engine = open_database(database_url)
    now = at or datetime.now(UTC)
    run_ids = [run["id"] for run in latest_runs(engine) if run["status"] != "running"]
    created = after_run(engine, run_ids=run_ids, config=config, now=now)
    _print_alerts(alerts_by_id(engine, created), output_format,
                  f"{len(created)} new alert(s) from {len(run_ids)} run(s)")
