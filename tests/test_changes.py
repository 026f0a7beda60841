"""`clickfarm changes` and `clickfarm status` on a database with known runs and events."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clickfarm.cli import app
from reports.changes import change_summary, offer_changes, parse_since, summarize_changes
from reports.status import format_trend, site_status
from scheduler.health import after_run
from storage.db import get_engine, migrate
from tests.run_history import (
    T0,
    add_site,
    failed_run,
    good_run,
    offer,
    project,
    site_config,
)

runner = CliRunner()


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def build_market(engine: Engine) -> None:
    """Two sites over three days with every kind of event:

    day 0: shop-a lists a (1.00), b (2.00), c (3.00) instagram followers; panel-b lists t1
           (0.50) tiktok likes
    day 1: shop-a: a 1.10 (+10%), b 1.50 (-25%), c removed, d new (4.00); panel-b: t1 0.40 (-20%)
    day 2: shop-a: c back (reinstated at 3.00), a, b, d unchanged
    """
    add_site(engine, "shop-a")
    add_site(engine, "panel-b")
    good_run(engine, "shop-a", day(0), listing=[offer("a", "1.00"), offer("b", "2.00"),
                                                 offer("c", "3.00")])
    good_run(engine, "panel-b", day(0), listing=[offer("t1", "0.50", platform="tiktok",
                                                       metric="likes")])
    good_run(engine, "shop-a", day(1), listing=[offer("a", "1.10"), offer("b", "1.50"),
                                                 offer("d", "4.00")])
    good_run(engine, "panel-b", day(1), listing=[offer("t1", "0.40", platform="tiktok",
                                                       metric="likes")])
    good_run(engine, "shop-a", day(2), listing=[offer("a", "1.10"), offer("b", "1.50"),
                                                 offer("c", "3.00"), offer("d", "4.00")])


@pytest.fixture
def market_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'changes.db'}"
    engine = get_engine(url)
    migrate(engine)
    build_market(engine)
    yield url, engine
    engine.dispose()


def test_offer_changes_lists_every_kind_with_prices_and_percentages(db_engine):
    build_market(db_engine)
    changes = offer_changes(db_engine, since=day(0) + timedelta(hours=1))
    kinds = sorted((c.site_id, c.site_offer_id, c.kind) for c in changes)
    assert kinds == [("panel-b", "t1", "price_down"), ("shop-a", "a", "price_up"),
                     ("shop-a", "b", "price_down"), ("shop-a", "c", "reinstated"),
                     ("shop-a", "c", "removed"), ("shop-a", "d", "new")]
    by_key = {(c.site_offer_id, c.kind): c for c in changes}
    assert (by_key["a", "price_up"].old_price, by_key["a", "price_up"].new_price,
            by_key["a", "price_up"].change_pct) == (Decimal("1.00"), Decimal("1.10"),
                                                     Decimal("10.00"))
    assert by_key["b", "price_down"].change_pct == Decimal("-25.00")
    assert by_key["t1", "price_down"].change_pct == Decimal("-20.00")
    assert by_key["c", "removed"].old_price == Decimal("3.00")
    assert by_key["d", "new"].new_price == Decimal("4.00")
    assert {c.currency for c in changes} == {"USD"}
    assert changes[0].occurred_at == day(2)  # newest first


@pytest.mark.parametrize(("filters", "expected"), [
    ({"site_id": "panel-b"}, [("t1", "price_down")]),
    ({"platform": "tiktok"}, [("t1", "price_down")]),
    ({"metric": "followers", "kinds": ("price_up", "price_down")},
     [("a", "price_up"), ("b", "price_down")]),
    ({"kinds": ("new",)}, [("d", "new")]),
], ids=["site", "platform", "metric-and-kinds", "new-only"])
def test_offer_changes_filters(db_engine, filters, expected):
    build_market(db_engine)
    changes = offer_changes(db_engine, since=day(0) + timedelta(hours=1), **filters)
    assert sorted((c.site_offer_id, c.kind) for c in changes) == expected


def test_summary_per_kind(db_engine):
    build_market(db_engine)
    summary = summarize_changes(offer_changes(db_engine, since=day(0) + timedelta(hours=1)))
    assert [s.line() for s in summary] == [
        "new: 1 on 1 site(s)",
        "removed: 1 on 1 site(s)",
        "reinstated: 1 on 1 site(s)",
        "price_up: 1 on 1 site(s), median +10.00%, largest +10.00%",
        "price_down: 2 on 2 site(s), median -22.50%, largest -25.00%",
    ]


def test_the_demo_change_summary_still_counts_by_kind(db_engine):
    build_market(db_engine)
    counts = change_summary(db_engine, start=day(1).date(), end=day(2).date())
    assert counts == {"price_down": 2, "price_up": 1, "removed": 1, "new": 1, "reinstated": 1}


NOW = datetime(2026, 9, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("7d", NOW - timedelta(days=7)), ("24h", NOW - timedelta(hours=24)),
    ("30m", NOW - timedelta(minutes=30)), ("2w", NOW - timedelta(days=14)),
    ("2026-09-01", datetime(2026, 9, 1, tzinfo=UTC)),
    ("2026-09-01T06:30", datetime(2026, 9, 1, 6, 30, tzinfo=UTC)),
    ("2026-09-01T08:30+02:00", datetime(2026, 9, 1, 6, 30, tzinfo=UTC)),
])
def test_parse_since(text, expected):
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["last week", "7", "-3d", "2026-13-01", "99999999d",
                                  "1e9w"])
def test_parse_since_rejects_nonsense(text):
    with pytest.raises(ValueError, match="expected 7d, 24h, 30m"):
        parse_since(text, now=NOW)


# --- the commands ----------------------------------------------------------------------------


def test_changes_command_table(market_db):
    url, _ = market_db
    result = runner.invoke(app, ["changes", "--since", "2026-09-01T13:00", "--database-url", url])
    assert result.exit_code == 0, result.output
    output = result.stdout
    assert "offer changes since 2026-09-01 13:00 (6 events)" in output
    for fragment in ("price_up", "+10.00", "-25.00", "reinstated", "removed", "panel-b",
                     "1.10", "USD"):
        assert fragment in output, fragment
    assert "price_down: 2 on 2 site(s), median -22.50%, largest -25.00%" in output
    assert "new: 1 on 1 site(s)" in output


def test_changes_command_json_with_filters_and_limit(market_db):
    url, _ = market_db
    result = runner.invoke(app, ["changes", "--since", "2026-09-01T13:00", "--site", "shop-a",
                                 "--metric", "followers", "--limit", "2", "--format", "json",
                                 "--database-url", url])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["total"] == 5 and len(document["rows"]) == 2
    assert document["since"] == "2026-09-01T13:00:00+00:00"
    assert document["rows"][0]["kind"] == "reinstated"
    assert document["rows"][1]["occurred_at"] == "2026-09-02T12:00:00+00:00"
    assert {s["kind"]: s["events"] for s in document["summary"]} == {
        "new": 1, "removed": 1, "reinstated": 1, "price_up": 1, "price_down": 1}
    reinstated = document["rows"][0]
    assert reinstated == {
        "occurred_at": "2026-09-03T12:00:00+00:00", "site_id": "shop-a", "kind": "reinstated",
        "platform": "instagram", "metric": "followers", "offer_name": "instagram followers #c",
        "site_offer_id": "c", "old_price": "3.00", "new_price": "3.00", "currency": "USD",
        "change_pct": None, "run_id": reinstated["run_id"]}


def test_changes_command_csv_and_bad_since(market_db):
    url, _ = market_db
    result = runner.invoke(app, ["changes", "--since", "2026-09-01T13:00", "--kind", "price_down",
                                 "--format", "csv", "--database-url", url])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted((row["site_offer_id"], row["change_pct"]) for row in rows) == [
        ("b", "-25.00"), ("t1", "-20.00")]
    bad = runner.invoke(app, ["changes", "--since", "yesterday", "--database-url", url])
    assert bad.exit_code == 2 and "expected 7d, 24h, 30m" in bad.output
    bad = runner.invoke(app, ["changes", "--kind", "price_sideways", "--database-url", url])
    assert bad.exit_code == 2 and "price_sideways" in bad.output and "is not one of" in bad.output


# --- status ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("latest", "previous", "text"), [
    (None, None, "-"), (10, None, "new"), (10, 10, "0"), (103, 100, "+3 (+3%)"),
    (50, 100, "-50 (-50%)"), (4, 0, "+4"),
])
def test_format_trend(latest, previous, text):
    assert format_trend(latest, previous) == text


NEXT_RUN = datetime(2030, 1, 1, 6, 0, tzinfo=UTC)  # in the future: the paused scheduler keeps it


def build_status_db(engine: Engine, tmp_path) -> None:
    """shop-a: S S S (3, 3, 4 offers); panel-b: S F F (an open no_offers and
    consecutive_failures); found-1: promoted from discovery, never crawled; a job store with
    the next run of shop-a."""
    build_market(engine)
    add_site(engine, "found-1", discovered_via="https://dir.example/")
    for n in (2, 3):
        run_id = failed_run(engine, "panel-b", day(n), error="https://x/services: HTTP 500")
    after_run(engine, run_ids=[run_id], config=project(), now=day(3))

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        timezone=UTC)
    scheduler.start(paused=True)
    scheduler.add_job("builtins:print", "interval", days=1, id="crawl:shop-a",
                      next_run_time=NEXT_RUN)
    scheduler.shutdown(wait=False)
    # A scheduler is running (its heartbeat): only then are the job store's times shown.
    from scheduler.resilience import beat

    beat(engine, started_at=datetime.now(UTC), now=datetime.now(UTC), interval_seconds=3600)


def test_site_status_rows(db_engine, tmp_path):
    build_status_db(db_engine, tmp_path)
    rows = {row.site_id: row for row in site_status(
        db_engine, sites=[site_config("shop-a"), site_config("panel-b"), site_config("new-x")])}
    assert set(rows) == {"shop-a", "panel-b", "found-1", "new-x"}
    shop = rows["shop-a"]
    assert (shop.last_status, shop.offers, shop.trend, shop.runs, shop.health) == (
        "succeeded", 4, "+1 (+33%)", "SSS", "ok")
    assert shop.next_run_at == NEXT_RUN and shop.last_run_at == day(2)
    panel = rows["panel-b"]
    assert (panel.last_status, panel.offers, panel.trend, panel.runs) == (
        "failed", 1, "0", "SSFF")
    assert panel.health == "consecutive_failures, no_offers"
    assert panel.next_run_at is None
    assert (rows["new-x"].runs, rows["new-x"].trend, rows["new-x"].configured) == ("", "-", True)
    assert rows["found-1"].configured is False


def test_status_without_a_job_store(db_engine):
    build_market(db_engine)
    rows = site_status(db_engine, sites=[])
    assert [(row.site_id, row.next_run_at) for row in rows] == [
        ("panel-b", None), ("shop-a", None)]


def test_status_command_table_and_json(tmp_path):
    url = f"sqlite:///{tmp_path / 'status.db'}"
    engine = get_engine(url)
    migrate(engine)
    build_status_db(engine, tmp_path)
    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(
        "sites:\n"
        "  - {id: shop-a, url: 'https://shop-a.example/', family: smm_api}\n"
        "  - {id: panel-b, url: 'https://panel-b.example/', family: smm_html}\n",
        encoding="utf-8")
    result = runner.invoke(app, ["status", "--database-url", url, "--sites-file",
                                 str(sites_file)])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines()
             if line.count("│") > 5 and "site" not in line.split("│")[1]}
    assert set(lines) == {"shop-a", "panel-b", "found-1"}
    for fragment in ("2026-09-03 12:00", "succeeded", "+1 (+33%)", "SSS", " ok ",
                     "2030-01-01 06:00"):
        assert fragment in lines["shop-a"], fragment
    for fragment in ("smm_html", "failed", "SSFF", "consecutive_failures, no_offers"):
        assert fragment in lines["panel-b"], fragment

    result = runner.invoke(app, ["status", "--database-url", url, "--sites-file",
                                 str(sites_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["site_id"]: row for row in json.loads(result.stdout)["rows"]}
    assert rows["panel-b"]["open_alerts"] == ["consecutive_failures", "no_offers"]
    assert rows["shop-a"]["next_run_at"] == "2030-01-01T06:00:00+00:00"
    assert rows["shop-a"]["runs"] == "SSS" and rows["shop-a"]["offers"] == 4

    result = runner.invoke(app, ["status", "--database-url", url, "--sites-file",
                                 str(sites_file), "--format", "csv"])
    records = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["site_id"]: r["health"] for r in records} == {
        "found-1": "ok", "panel-b": "consecutive_failures, no_offers", "shop-a": "ok"}


def test_alerts_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    engine = get_engine(url)
    migrate(engine)
    build_status_db(engine, tmp_path)
    result = runner.invoke(app, ["alerts", "list", "--open", "--format", "json",
                                 "--database-url", url])
    assert result.exit_code == 0, result.output
    assert sorted(row["rule"] for row in json.loads(result.stdout)["rows"]) == [
        "consecutive_failures", "no_offers"]
    jsonl = tmp_path / "alerts.jsonl"
    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(
        "sites:\n"
        "  - {id: shop-a, url: 'https://shop-a.example/', family: smm_api}\n"
        "alerts:\n"
        f"  sinks: {{log: false, jsonl: '{jsonl}'}}\n"
        "  rules:\n"
        "    - {type: new_seller}\n", encoding="utf-8")
    result = runner.invoke(app, ["alerts", "check", "--sites-file", str(sites_file),
                                 "--database-url", url, "--at", "2026-09-20T00:00",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)["rows"]
    # shop-a (in the file) has not succeeded since day 2 and found-1 (promoted, default
    # schedule 1d) never did: both stale. The latest runs are no site's first success (no
    # new_seller), and panel-b's open conditions are still firing: not sent again.
    assert sorted((row["rule"], row["site_id"]) for row in created) == [
        ("stale", "found-1"), ("stale", "shop-a")]
    assert sorted(json.loads(line)["site_id"] for line in jsonl.read_text().splitlines()) == [
        "found-1", "shop-a"]
