"""Every SQL query of README.md runs unchanged on SQLite and on PostgreSQL, and finds the rows
of a store that has them.

The store is written through the real storage functions (sites, runs with offers, a price
move, counters, a failed run, a retail shop's packages, discovery sources, an alert, a
scheduled run), on a temporary SQLite file and on the suite's PostgreSQL server on loopback.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from core.offers import Attributes, CounterValue, NormalizedOffer
from storage import repository as repo
from storage.alerts import insert_alert
from storage.db import write_transaction
from storage.discovery import DiscoverySource, record_discoveries
from tests.conftest import REPO_ROOT
from tests.run_history import add_site, failed_run, offer

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def readme_queries() -> list[tuple[str, str]]:
    """``(title, statement)`` for every statement of every ```sql block of README.md; the title
    is the statement's first comment line."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    queries = []
    for block in re.findall(r"^```sql\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL):
        for statement in re.split(r";[ \t]*(?:\n|$)", block):
            if not statement.strip():
                continue
            comments = [line.strip("- ") for line in statement.splitlines()
                        if line.strip().startswith("--")]
            queries.append((comments[0] if comments else statement.strip()[:60], statement))
    return queries


QUERIES = readme_queries()


def test_the_readme_has_queries():
    assert len(QUERIES) >= 10
    assert not any("GROUP_CONCAT" in sql.upper() or "STRING_AGG" in sql.upper()
                   for _, sql in QUERIES)
    # No hard-coded demo dates: a query must find rows in any store, not just the demo's.
    assert not any(re.search(r"'\d{4}-\d\d-\d\d", sql) for _, sql in QUERIES)


def _package(site_offer_id: str, quantity: int, price: str) -> NormalizedOffer:
    usd = Decimal(price) / quantity * 1000
    return dataclasses.replace(
        offer(site_offer_id, price), name=f"{quantity} Instagram Followers",
        name_raw=f"{quantity} Instagram Followers", pricing="package", quantity=quantity,
        usd_per_1000=usd.quantize(Decimal("0.000001")), min_quantity=None, max_quantity=None,
        service_type=None)


def _run(engine: Engine, site_id: str, at: datetime, listing: list[NormalizedOffer],
         counters: list[CounterValue] | None = None, **start: object) -> int:
    run_id = repo.start_run(engine, site_id=site_id, started_at=at, **start)  # type: ignore[arg-type]
    repo.complete_run(engine, run_id=run_id, site_id=site_id, observed_at=at, offers=listing,
                      rejections=[], counters=counters or [])
    return run_id


def _store_with_data(engine: Engine) -> None:
    add_site(engine, "panel-a")
    add_site(engine, "shop-b", family="shopify")
    add_site(engine, "panel-c", status="discovered", discovered_via="smmlist")
    us_followers = dataclasses.replace(offer("f2", "2.00"), attributes=Attributes(country="US"))
    listing = [offer("f1", "1.00"), us_followers, offer("v1", "0.10", metric="views")]
    _run(engine, "panel-a", T0, listing, [CounterValue(name="orders", value=1000, raw="1000")])
    repriced = [offer("f1", "1.50"), us_followers, offer("v1", "0.10", metric="views")]
    _run(engine, "panel-a", T0 + timedelta(days=1), repriced,
         [CounterValue(name="orders", value=1600, raw="1600")],
         trigger="schedule", planned_at=T0 + timedelta(days=1, seconds=-5))
    _run(engine, "shop-b", T0, [_package("p1k", 1000, "9.99"), _package("p5k", 5000, "29.99")])
    failed_run(engine, "panel-a", T0 + timedelta(days=2))
    record_discoveries(engine, [
        DiscoverySource(site_id="panel-c", source="smmlist", source_kind="directory"),
        DiscoverySource(site_id="panel-c", source="https://panel-a.example/", source_kind="seller_link"),
    ], now=T0)
    with write_transaction(engine) as connection:
        insert_alert(connection, created_at=T0 + timedelta(days=2), kind="health",
                     rule="run_failed", severity="warning", message="panel-a: run failed",
                     site_id="panel-a", run_id=None, details={}, dedupe_key="health:panel-a:run_failed")


@pytest.fixture
def store(db_engine: Engine) -> Engine:
    _store_with_data(db_engine)
    return db_engine


def test_every_readme_query_runs_and_finds_the_rows(store: Engine):
    results = {}
    for title, sql in QUERIES:
        with store.connect() as connection:
            results[title] = connection.execute(text(sql)).all()
    # The market-size views are filled by `report market-size` over a store of many days;
    # tests/test_market_size.py runs those README queries over such a store.
    empty = [title for title, rows in results.items() if not rows
             and "v_market_daily" not in dict(QUERIES)[title]]
    assert empty == []
    moves = next(rows for title, rows in results.items() if title.startswith("Price moves"))
    assert [(row.site_id, row.kind, Decimal(row.change_pct)) for row in moves] == [
        ("panel-a", "price_up", Decimal(50))]
    markup = next(rows for title, rows in results.items() if title.startswith("Retail markup"))
    # 9.99 USD per 1000 against the panels' mean follower rate of (1.50 + 2.00) / 2.
    assert {row.site_id for row in markup} == {"shop-b"}
    assert max(Decimal(row.times_panel_mean) for row in markup).quantize(Decimal("0.01")) == \
        Decimal("5.71")
