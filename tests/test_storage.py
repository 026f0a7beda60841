"""Storage: migrations, exact types, change-only history, atomic batches, views.

Every test that takes ``db_engine`` runs twice: on SQLite (a temp file) and on a real PostgreSQL
server started by the suite (tests/postgres.py).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import SQLModel

from core.offers import Attributes, CounterValue, NormalizedOffer, Rejection
from storage import repository as repo
from storage.db import (
    alembic_config,
    current_revision,
    get_engine,
    head_revision,
    migrate,
    resolve_url,
    safe_url,
)
from storage.models import TABLE_NAMES, VIEW_NAMES
from storage.repository import (
    event_table,
    offer_table,
    period_table,
    rejected_table,
    run_table,
    site_table,
)
from storage.views import VIEWS, v_counter_deltas, v_offer_changes, v_offer_current, v_run_summary

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
SITE = "panel-one"


# ------------------------------------------------------------------------------------------
# helpers


def make_offer(site_offer_id: str, price: str = "0.50", **overrides: Any) -> NormalizedOffer:
    """A realistic SMM-panel offer; ``overrides`` replace any field."""
    offer = NormalizedOffer(
        site_offer_id=site_offer_id,
        name=f"Instagram Followers [Refill 30D] [Max 100K] #{site_offer_id}",
        name_raw=f"Instagram Followers [Refill 30D] [Max 100K] #{site_offer_id} 🔥",
        category="Instagram Followers",
        platform="instagram",
        metric="followers",
        pricing="per_1000",
        price=Decimal(price),
        price_raw=f"${price}",
        currency="USD",
        quantity=None,
        usd_per_1000=Decimal(price),
        fx_rate=Decimal("1"),
        fx_date=date(2024, 3, 1),
        min_quantity=10,
        max_quantity=100_000,
        service_type="Default",
        description=None,
        average_time="2 hours",
        refill_flag=True,
        cancel_flag=False,
        attributes=Attributes(refill_days=30, quality="hq", max_from_name=100_000),
    )
    return dataclasses.replace(offer, **overrides)


def crawl(
    engine: Engine,
    offers: list[NormalizedOffer],
    *,
    at: datetime,
    site_id: str = SITE,
    **kwargs: Any,
) -> repo.StoreResult:
    """Start a run and store ``offers`` with it (the way the crawl process does)."""
    run_id = repo.start_run(engine, site_id=site_id, started_at=at, pid=os.getpid())
    kwargs.setdefault("rejections", [])
    kwargs.setdefault("counters", [])
    return repo.complete_run(
        engine, run_id=run_id, site_id=site_id, observed_at=at, offers=offers, **kwargs
    )


def add_site(engine: Engine, site_id: str = SITE, **overrides: Any) -> None:
    values: dict[str, Any] = {
        "site_id": site_id,
        "url": f"https://{site_id}.example",
        "family": "smm_api",
        "currency": "USD",
        "now": T0,
    }
    values.update(overrides)
    repo.upsert_site(engine, **values)


def rows(engine: Engine, statement: Any) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(statement).all()


def periods_of(engine: Engine, site_offer_id: str) -> list[Any]:
    return rows(
        engine,
        select(period_table)
        .join(offer_table, offer_table.c.id == period_table.c.offer_id)
        .where(offer_table.c.site_offer_id == site_offer_id)
        .order_by(period_table.c.valid_from),
    )


def events_of(engine: Engine, site_offer_id: str | None = None) -> list[Any]:
    statement = select(event_table, offer_table.c.site_offer_id).join(
        offer_table, offer_table.c.id == event_table.c.offer_id
    )
    if site_offer_id is not None:
        statement = statement.where(offer_table.c.site_offer_id == site_offer_id)
    return rows(engine, statement.order_by(event_table.c.id))


def offer_row(engine: Engine, site_offer_id: str) -> Any:
    return rows(engine, select(offer_table).where(offer_table.c.site_offer_id == site_offer_id))[0]


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: to prove that a failed batch changed nothing."""
    with engine.connect() as connection:
        return {
            name: [
                tuple(row)
                for row in connection.exec_driver_sql(f"SELECT * FROM {name} ORDER BY 1").all()
            ]
            for name in TABLE_NAMES
        }


@pytest.fixture
def engine(db_engine: Engine) -> Engine:
    """A migrated database (both backends) with one site."""
    add_site(db_engine)
    return db_engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, unmigrated database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("postgres_url")


# ------------------------------------------------------------------------------------------
# migrations and schema


def test_migrations_create_every_table_and_view_and_can_be_rerun(empty_database_url: str) -> None:
    engine = get_engine(empty_database_url)
    try:
        assert current_revision(engine) is None
        migrate(engine)
        migrate(engine)  # a second run finds the schema up to date
        # The head of storage/migrations, whatever its number (never hard-coded).
        assert head_revision() is not None
        assert current_revision(engine) == head_revision()
        inspector = inspect(engine)
        assert set(TABLE_NAMES) <= set(inspector.get_table_names())
        assert set(VIEW_NAMES) == set(inspector.get_view_names())
        offer_indexes = {index["name"] for index in inspector.get_indexes("offer")}
        assert "ix_offer_site_platform_metric" in offer_indexes
        period_indexes = {index["name"] for index in inspector.get_indexes("offer_price_period")}
        assert {
            "ix_offer_price_period_offer_valid_from",
            "uq_offer_price_period_open",
        } <= period_indexes
        assert "ix_offer_event_occurred_at" in {
            i["name"] for i in inspector.get_indexes("offer_event")
        }
        assert "ix_counter_reading_site_name_observed" in {
            i["name"] for i in inspector.get_indexes("counter_reading")
        }
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_everything_and_upgrade_restores(empty_database_url: str) -> None:
    engine = get_engine(empty_database_url)
    try:
        migrate(engine)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        inspector = inspect(engine)
        assert not set(TABLE_NAMES) & set(inspector.get_table_names())
        assert inspector.get_view_names() == []
        migrate(engine)
        assert set(VIEW_NAMES) == set(inspect(engine).get_view_names())
    finally:
        engine.dispose()


def test_models_and_migrations_agree(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_model_comparison_would_see_a_missing_table(empty_database_url: str) -> None:
    # Guards the previous test: an empty database must show differences.
    engine = get_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        assert {diff[1].name for diff in diffs if diff[0] == "add_table"} == set(TABLE_NAMES)
    finally:
        engine.dispose()


def test_typed_views_match_the_database_views(engine: Engine) -> None:
    crawl(
        engine, [make_offer("1")], at=T0, counters=[CounterValue(name="orders", value=5, raw="5")]
    )
    with engine.connect() as connection:
        for name, view in VIEWS.items():
            result = connection.exec_driver_sql(f"SELECT * FROM {name}")
            assert list(result.keys()) == [column.name for column in view.columns], name
            if name.startswith("v_market_"):
                continue  # filled by `report market-size` (tests/test_market_size.py)
            assert connection.execute(select(view)).all(), f"{name} is empty"


# ------------------------------------------------------------------------------------------
# exact types


@pytest.mark.parametrize(
    "text",
    ["0.0135", "0.00000001", "95200", "120.00000000", "0.10", "-3.5", "123456789012.123456789"],
    ids=["rate", "tiny", "integer", "trailing-zeros", "one-trailing-zero", "negative", "wide"],
)
def test_decimal_round_trip_is_exact(engine: Engine, text: str) -> None:
    value = Decimal(text)
    crawl(engine, [make_offer("1", price=text, usd_per_1000=value, fx_rate=value)], at=T0)
    (period,) = periods_of(engine, "1")
    for stored in (period.price, period.usd_per_1000, period.fx_rate):
        assert isinstance(stored, Decimal)
        assert stored.as_tuple() == value.as_tuple()  # same digits, same exponent
    (event,) = events_of(engine, "1")
    assert event.new_price.as_tuple() == value.as_tuple()
    if engine.dialect.name == "sqlite":
        # Stored as text: NUMERIC affinity would have turned it into a float.
        with engine.connect() as connection:
            stored_type, stored_text = connection.exec_driver_sql(
                "SELECT typeof(price), price FROM offer_price_period"
            ).one()
        assert (stored_type, Decimal(stored_text).as_tuple()) == ("text", value.as_tuple())


def test_binary_floats_are_refused_as_money(engine: Engine) -> None:
    # SQLite rows are prepared in Python (TypeError), PostgreSQL's by the column type.
    with pytest.raises((TypeError, StatementError), match="money must be Decimal"):
        crawl(engine, [make_offer("1", price="1", usd_per_1000=0.1)], at=T0)


@pytest.mark.parametrize(
    "observed_at",
    [
        datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
        datetime(2024, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2, minutes=30))),
        datetime(2024, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=-8))),
    ],
    ids=["utc-microseconds", "utc+02:30", "utc-08:00"],
)
def test_timestamps_come_back_aware_utc(engine: Engine, observed_at: datetime) -> None:
    crawl(engine, [make_offer("1")], at=observed_at)
    (period,) = periods_of(engine, "1")
    (run,) = rows(engine, select(run_table))
    (current,) = rows(engine, select(v_offer_current))
    for value in (
        period.valid_from,
        period.last_confirmed_at,
        run.started_at,
        run.finished_at,
        current.valid_from,
    ):
        assert value.tzinfo == UTC
        assert value == observed_at  # the same instant
    assert period.fx_date == date(2024, 3, 1)


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        repo.start_run(engine, site_id=SITE, started_at=datetime(2024, 3, 1, 12, 0))


# ------------------------------------------------------------------------------------------
# change-only history


def test_first_crawl_stores_new_offers_periods_and_events(engine: Engine) -> None:
    offers = [make_offer(str(i), price=f"0.{i + 10}") for i in range(25)]
    result = crawl(engine, offers, at=T0, pages=3)

    assert result == repo.StoreResult(
        new=25,
        changed=0,
        unchanged=0,
        removed=0,
        reinstated=0,
        rejected=0,
        price_rows_added=25,
        events_added=25,
        metadata_updated=0,
    )
    counts = repo.table_counts(engine)
    assert (counts["offer"], counts["offer_price_period"], counts["offer_event"]) == (25, 25, 25)
    assert {event.kind for event in events_of(engine)} == {"new"}
    offer = offer_row(engine, "7")
    assert (offer.platform, offer.metric, offer.refill_days, offer.quality) == (
        "instagram",
        "followers",
        30,
        "hq",
    )
    assert offer.is_active is True and offer.removed_at is None
    (period,) = periods_of(engine, "7")
    assert (period.price, period.valid_to, period.last_confirmed_at) == (Decimal("0.17"), None, T0)
    (run,) = rows(engine, select(run_table))
    assert (run.status, run.pages, run.offers_seen, run.offers_new, run.price_rows_added) == (
        "succeeded",
        3,
        25,
        25,
        25,
    )
    assert run.finished_at == T0
    assert repo.active_offer_count(engine, site_id=SITE) == 25
    assert repo.last_successful_offer_count(engine, site_id=SITE) == 25


@pytest.mark.parametrize(
    "second_look",
    [
        {},
        {
            "usd_per_1000": Decimal("0.4611"),
            "fx_rate": Decimal("0.9222"),
            "fx_date": date(2024, 3, 2),
        },
        {"price": Decimal("0.500"), "price_raw": "0.500"},
    ],
    ids=["identical", "fx-move-only", "same-value-other-scale"],
)
def test_unchanged_recrawl_only_moves_last_confirmed_at(
    engine: Engine, second_look: dict[str, Any]
) -> None:
    offers = [make_offer(str(i)) for i in range(10)]
    crawl(engine, offers, at=T0)
    before = repo.table_counts(engine)
    t1 = T0 + timedelta(hours=6)

    result = crawl(engine, [dataclasses.replace(o, **second_look) for o in offers], at=t1)

    assert (result.unchanged, result.price_rows_added, result.events_added) == (10, 0, 0)
    after = repo.table_counts(engine)
    assert after["offer_price_period"] == before["offer_price_period"]
    assert after["offer_event"] == before["offer_event"]
    (period,) = periods_of(engine, "3")
    assert (period.valid_from, period.last_confirmed_at, period.valid_to) == (T0, t1, None)
    offer = offer_row(engine, "3")
    assert (offer.first_seen_at, offer.last_seen_at) == (T0, t1)
    runs = rows(engine, select(run_table).order_by(run_table.c.id))
    assert (runs[1].offers_unchanged, runs[1].offers_new, runs[1].price_rows_added) == (10, 0, 0)


@pytest.mark.parametrize(
    ("change", "kind", "change_pct", "changed_fields"),
    [
        ({"price": Decimal("0.55")}, "price_up", Decimal("10.00"), {"price"}),
        ({"price": Decimal("0.45")}, "price_down", Decimal("-10.00"), {"price"}),
        ({"price": Decimal("0.5037")}, "price_up", Decimal("0.74"), {"price"}),
        (
            {"price": Decimal("0.60"), "max_quantity": 50_000},
            "price_up",
            Decimal("20.00"),
            {"price", "max_quantity"},
        ),
        ({"min_quantity": 100}, "limits_changed", None, {"min_quantity"}),
        ({"max_quantity": 1_000_000}, "limits_changed", None, {"max_quantity"}),
        (
            {"price": Decimal("45"), "currency": "INR", "usd_per_1000": Decimal("0.54")},
            "price_up",
            Decimal("8.00"),
            {"price", "currency"},
        ),
        (
            {"price": Decimal("0.46"), "currency": "EUR", "usd_per_1000": None},
            "limits_changed",
            None,
            {"price", "currency"},
        ),
    ],
    ids=[
        "up-10pct",
        "down-10pct",
        "up-rounded",
        "price-and-limit",
        "min-raised",
        "max-raised",
        "currency-change-judged-in-usd",
        "currency-change-without-usd",
    ],
)
def test_price_change_closes_the_period_and_records_an_event(
    engine: Engine,
    change: dict[str, Any],
    kind: str,
    change_pct: Decimal | None,
    changed_fields: set[str],
) -> None:
    crawl(engine, [make_offer("1", price="0.50"), make_offer("2", price="0.80")], at=T0)
    t1 = T0 + timedelta(days=1)

    result = crawl(
        engine,
        [
            dataclasses.replace(make_offer("1", price="0.50"), **change),
            make_offer("2", price="0.80"),
        ],
        at=t1,
    )

    assert (result.changed, result.unchanged, result.price_rows_added, result.events_added) == (
        1,
        1,
        1,
        1,
    )
    old, new = periods_of(engine, "1")
    assert (old.valid_from, old.valid_to, old.last_confirmed_at) == (T0, t1, T0)
    assert (new.valid_from, new.valid_to, new.last_confirmed_at) == (t1, None, t1)
    expected_new = dataclasses.replace(make_offer("1", price="0.50"), **change)
    assert (new.price, new.currency, new.min_quantity, new.max_quantity) == (
        expected_new.price,
        expected_new.currency,
        expected_new.min_quantity,
        expected_new.max_quantity,
    )
    event = events_of(engine, "1")[-1]
    assert (event.kind, event.change_pct, event.occurred_at) == (kind, change_pct, t1)
    assert (event.old_price, event.new_price) == (Decimal("0.50"), expected_new.price)
    assert (event.old_currency, event.new_currency) == ("USD", expected_new.currency)
    assert set(event.details["changed"]) == changed_fields


def test_removed_offer_is_closed_and_reinstated_when_it_returns(engine: Engine) -> None:
    crawl(engine, [make_offer("a"), make_offer("b"), make_offer("c", price="1.20")], at=T0)
    t1, t2 = T0 + timedelta(days=1), T0 + timedelta(days=2)

    removed = crawl(engine, [make_offer("a"), make_offer("b")], at=t1)

    assert (removed.removed, removed.unchanged, removed.events_added) == (1, 2, 1)
    gone = offer_row(engine, "c")
    assert (gone.is_active, gone.removed_at, gone.last_seen_at) == (False, t1, T0)
    (period,) = periods_of(engine, "c")
    assert period.valid_to == t1
    event = events_of(engine, "c")[-1]
    assert (event.kind, event.old_price, event.old_currency) == ("removed", Decimal("1.20"), "USD")
    assert {row.site_offer_id for row in rows(engine, select(v_offer_current))} == {"a", "b"}
    assert repo.active_offer_count(engine, site_id=SITE) == 2

    back = crawl(engine, [make_offer("a"), make_offer("b"), make_offer("c", price="1.50")], at=t2)

    assert (back.reinstated, back.new, back.price_rows_added, back.events_added) == (1, 0, 1, 1)
    offer = offer_row(engine, "c")
    assert (offer.is_active, offer.removed_at, offer.last_seen_at) == (True, None, t2)
    first, second = periods_of(engine, "c")
    assert (first.valid_to, second.valid_from, second.valid_to, second.price) == (
        t1,
        t2,
        None,
        Decimal("1.50"),
    )
    event = events_of(engine, "c")[-1]
    assert (event.kind, event.old_price, event.new_price) == (
        "reinstated",
        Decimal("1.20"),
        Decimal("1.50"),
    )
    assert datetime.fromisoformat(event.details["removed_at"]) == t1


def test_partial_listing_removes_nothing(engine: Engine) -> None:
    crawl(engine, [make_offer(str(i)) for i in range(5)], at=T0)

    result = crawl(
        engine,
        [make_offer("0"), make_offer("9")],
        at=T0 + timedelta(days=1),
        status="partial",
        complete_listing=False,
    )

    assert (result.removed, result.new, result.unchanged) == (0, 1, 1)
    assert repo.active_offer_count(engine, site_id=SITE) == 6
    assert {event.kind for event in events_of(engine)} == {"new"}
    # a partial run is not a successful one for the item-count monitor
    assert repo.last_successful_offer_count(engine, site_id=SITE) == 5


def test_offer_rejected_today_is_not_marked_removed(engine: Engine) -> None:
    # A listing whose rate is unreadable today is still on the seller's list.
    crawl(engine, [make_offer("0"), make_offer("1")], at=T0)
    result = crawl(
        engine,
        [make_offer("0")],
        at=T0 + timedelta(days=1),
        rejections=[Rejection(site_offer_id="1", reason="rate is not a number: NaN", raw={})],
    )
    assert (result.removed, result.rejected) == (0, 1)
    assert repo.active_offer_count(engine, site_id=SITE) == 2


def test_empty_complete_listing_removes_everything(engine: Engine) -> None:
    # The caller decides what is complete; storage does what it is told (see the report gaps).
    crawl(engine, [make_offer("0"), make_offer("1")], at=T0)
    result = crawl(engine, [], at=T0 + timedelta(days=1))
    assert result.removed == 2
    assert repo.active_offer_count(engine, site_id=SITE) == 0


def test_duplicates_in_a_batch_keep_the_first_and_reject_the_rest(engine: Engine) -> None:
    offers = [
        make_offer("1", price="0.50"),
        make_offer("2"),
        make_offer("1", price="0.99"),
        make_offer("1", price="0.70"),
        make_offer("", price="0.10"),
    ]
    result = crawl(
        engine,
        offers,
        at=T0,
        rejections=[Rejection(site_offer_id="7", reason="no price", raw={"rate": ""})],
    )

    assert (result.new, result.rejected) == (2, 4)
    (period,) = periods_of(engine, "1")
    assert period.price == Decimal("0.50")
    rejected = rows(engine, select(rejected_table).order_by(rejected_table.c.id))
    assert [(r.site_offer_id, r.reason) for r in rejected] == [
        ("7", "no price"),
        ("1", repo.DUPLICATE_REASON),
        ("1", repo.DUPLICATE_REASON),
        (None, repo.MISSING_ID_REASON),
    ]
    assert json.loads(rejected[1].raw_text)["price"] == "0.99"
    (run,) = rows(engine, select(run_table))
    assert (run.offers_seen, run.offers_rejected) == (2, 4)
    assert run.stats["storage"]["duplicates"] == 2


def test_metadata_changes_update_the_offer_without_a_price_row(engine: Engine) -> None:
    crawl(engine, [make_offer("1"), make_offer("2")], at=T0)
    renamed = make_offer(
        "1",
        name="Instagram Followers [Refill 60D]",
        metric="likes",
        attributes=Attributes(
            refill_days=60, quality="real", country="BR", start_time_hours=Decimal("0.5")
        ),
    )

    result = crawl(engine, [renamed, make_offer("2")], at=T0 + timedelta(days=1))

    assert (result.metadata_updated, result.unchanged, result.price_rows_added) == (1, 2, 0)
    offer = offer_row(engine, "1")
    assert (offer.name, offer.metric, offer.refill_days, offer.quality, offer.country) == (
        "Instagram Followers [Refill 60D]",
        "likes",
        60,
        "real",
        "BR",
    )
    assert offer.start_time_hours == Decimal("0.5")
    # the same values again: nothing more to update
    again = crawl(engine, [renamed, make_offer("2")], at=T0 + timedelta(days=2))
    assert again.metadata_updated == 0


# ------------------------------------------------------------------------------------------
# atomic batches and failed runs


@pytest.mark.parametrize(
    "bad_offer",
    [
        dataclasses.replace(make_offer("bad"), price=None),
        dataclasses.replace(make_offer("bad"), currency=None),
        dataclasses.replace(make_offer("bad"), pricing="per_unit"),
    ],
    ids=["price-null", "currency-null", "pricing-check"],
)
def test_a_failing_batch_stores_nothing(engine: Engine, bad_offer: NormalizedOffer) -> None:
    crawl(engine, [make_offer("1"), make_offer("2"), make_offer("3")], at=T0)
    t1 = T0 + timedelta(days=1)
    run_id = repo.start_run(engine, site_id=SITE, started_at=t1)
    before = snapshot(engine)
    batch = [
        make_offer("1", price="0.75"),  # a change: would close a period
        make_offer("new-1"),  # new offers inserted before the bad one
        bad_offer,
        make_offer("new-2"),
    ]  # "3" is missing: would be removed

    with pytest.raises((IntegrityError, StatementError)):
        repo.complete_run(
            engine,
            run_id=run_id,
            site_id=SITE,
            observed_at=t1,
            offers=batch,
            rejections=[Rejection(site_offer_id="x", reason="bad", raw={})],
            counters=[CounterValue(name="orders", value=10, raw="10")],
        )

    assert snapshot(engine) == before
    (run,) = rows(engine, select(run_table).where(run_table.c.id == run_id))
    assert (run.status, run.finished_at) == ("running", None)


def test_fail_run_closes_the_run_and_keeps_its_rejections(engine: Engine) -> None:
    run_id = repo.start_run(engine, site_id=SITE, started_at=T0, pid=12345)
    finished = T0 + timedelta(minutes=3)
    rejections = [
        Rejection(
            site_offer_id="11", reason="unparseable price", raw={"rate": "call us", "id": 11}
        ),
        Rejection(site_offer_id=None, reason="no id", raw={"name": "Followers ✨", "odd": {1, 2}}),
    ]

    repo.fail_run(
        engine,
        run_id=run_id,
        finished_at=finished,
        error="HTTP 503 x3",
        rejections=rejections,
        stats={"http_errors": 3, "rate": Decimal("0.5")},
    )

    (run,) = rows(engine, select(run_table))
    assert (run.status, run.finished_at, run.error, run.offers_rejected) == (
        "failed",
        finished,
        "HTTP 503 x3",
        2,
    )
    assert run.stats == {"http_errors": 3, "rate": "0.5"}
    stored = rows(engine, select(rejected_table).order_by(rejected_table.c.id))
    assert [(r.site_offer_id, r.reason, r.observed_at) for r in stored] == [
        ("11", "unparseable price", finished),
        (None, "no id", finished),
    ]
    assert json.loads(stored[0].raw_text) == {"id": 11, "rate": "call us"}
    assert json.loads(stored[1].raw_text)["name"] == "Followers ✨"
    assert repo.last_successful_offer_count(engine, site_id=SITE) is None


def test_a_run_can_only_be_completed_once_and_by_its_site(engine: Engine) -> None:
    add_site(engine, "other")
    run_id = repo.start_run(engine, site_id=SITE, started_at=T0)
    with pytest.raises(ValueError, match="belongs to site"):
        repo.complete_run(
            engine,
            run_id=run_id,
            site_id="other",
            observed_at=T0,
            offers=[],
            rejections=[],
            counters=[],
        )
    repo.complete_run(
        engine,
        run_id=run_id,
        site_id=SITE,
        observed_at=T0,
        offers=[make_offer("1")],
        rejections=[],
        counters=[],
    )
    with pytest.raises(ValueError, match="already succeeded"):
        repo.complete_run(
            engine,
            run_id=run_id,
            site_id=SITE,
            observed_at=T0,
            offers=[make_offer("1")],
            rejections=[],
            counters=[],
        )
    with pytest.raises(LookupError):
        repo.fail_run(engine, run_id=999_999, finished_at=T0, error="x")


def test_stale_runs_whose_process_is_gone_are_marked_interrupted(engine: Engine) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    dead = repo.start_run(engine, site_id=SITE, started_at=T0, pid=dead_pid)
    alive = repo.start_run(engine, site_id=SITE, started_at=T0, pid=os.getpid())
    unknown = repo.start_run(engine, site_id=SITE, started_at=T0, pid=None)

    assert repo.mark_stale_runs_interrupted(engine, now=T0 + timedelta(hours=1)) == 1

    status = dict(rows(engine, select(run_table.c.id, run_table.c.status)))
    assert status == {dead: "interrupted", alive: "running", unknown: "running"}
    (run,) = rows(engine, select(run_table).where(run_table.c.id == dead))
    assert str(dead_pid) in run.error and run.finished_at == T0 + timedelta(hours=1)


# ------------------------------------------------------------------------------------------
# sites, counters and views


def test_upsert_site_keeps_first_seen_and_drops_secrets(engine: Engine) -> None:
    add_site(
        engine,
        "shop",
        discovered_via="directory:https://list.example",
        config={
            "api_key": "s3cret",
            "proxy": "http://bob:pw@proxy.example:8080",
            "headers": {"Authorization": "Bearer x", "Accept": "json"},
            "delay": 2,
        },
    )
    later = T0 + timedelta(days=3)
    add_site(
        engine,
        "shop",
        url="https://shop.example/v2",
        status="dead",
        now=later,
        discovered_via=None,
        config={"delay": 5, "token": "t"},
    )

    (site,) = rows(engine, select(site_table).where(site_table.c.id == "shop"))
    assert (site.url, site.status, site.first_seen_at, site.last_seen_at) == (
        "https://shop.example/v2",
        "dead",
        T0,
        later,
    )
    assert site.discovered_via == "directory:https://list.example"
    assert site.config == {"delay": 5}
    assert repo.redact_secrets(
        {
            "api_key": "s3cret",
            "proxy": "http://bob:pw@proxy.example:8080",
            "headers": {"Authorization": "Bearer x", "Accept": "json"},
        }
    ) == {"proxy": "http://bob:***@proxy.example:8080", "headers": {"Accept": "json"}}


def test_counters_are_stored_and_deltas_computed(engine: Engine) -> None:
    readings = [
        (T0, [("orders", 3_832_058), ("customers", 5_253)]),
        (T0 + timedelta(days=1), [("orders", 3_834_058), ("customers", 5_300)]),
        (T0 + timedelta(days=1, hours=12), [("orders", 3_835_558)]),
        (T0 + timedelta(days=2), [("orders", 1_000)]),  # the counter was reset
    ]
    for at, values in readings:
        crawl(
            engine,
            [make_offer("1")],
            at=at,
            counters=[CounterValue(name=n, value=v, raw=f"{v:,}+") for n, v in values],
        )

    deltas = rows(
        engine,
        select(v_counter_deltas)
        .where(v_counter_deltas.c.name == "orders")
        .order_by(v_counter_deltas.c.observed_at),
    )
    assert [(d.value, d.previous_value, d.delta) for d in deltas] == [
        (3_832_058, None, None),
        (3_834_058, 3_832_058, 2_000),
        (3_835_558, 3_834_058, 1_500),
        (1_000, 3_835_558, -3_834_558),
    ]
    assert deltas[1].elapsed_days == pytest.approx(1.0)
    assert deltas[1].delta_per_day == pytest.approx(2_000.0)
    assert deltas[2].delta_per_day == pytest.approx(3_000.0)
    assert [d.is_reset for d in deltas] == [None, False, False, True]
    assert deltas[1].previous_observed_at == T0
    customers = rows(engine, select(v_counter_deltas).where(v_counter_deltas.c.name == "customers"))
    assert sorted(d.delta or 0 for d in customers) == [0, 47]
    assert repo.table_counts(engine)["counter_reading"] == 6


def test_views_report_current_offers_changes_and_runs(engine: Engine) -> None:
    add_site(engine, "shop", family="shopify")
    crawl(engine, [make_offer("1", price="0.50"), make_offer("2", price="12.00")], at=T0)
    crawl(
        engine,
        [
            make_offer(
                "p1", price="4.99", pricing="package", quantity=1000, usd_per_1000=Decimal("4.99")
            )
        ],
        at=T0,
        site_id="shop",
    )
    t1 = T0 + timedelta(days=1)
    crawl(engine, [make_offer("1", price="0.40")], at=t1)  # "2" removed

    current = rows(engine, select(v_offer_current).order_by(v_offer_current.c.usd_per_1000))
    assert [(c.site_id, c.site_offer_id, c.usd_per_1000, c.valid_from) for c in current] == [
        (SITE, "1", Decimal("0.40"), t1),
        ("shop", "p1", Decimal("4.99"), T0),
    ]
    assert (current[1].site_family, current[1].pricing, current[1].quantity) == (
        "shopify",
        "package",
        1000,
    )
    with engine.connect() as connection:  # numeric order in plain SQL too, on both backends
        # as text, "4.99" > "12.00": a numeric order puts 12.00 first
        dearest = connection.exec_driver_sql(
            "SELECT site_offer_id FROM v_price_history ORDER BY usd_per_1000 DESC LIMIT 1"
        ).scalar_one()
        history = connection.exec_driver_sql(
            "SELECT count(*) FROM v_price_history WHERE site_id = 'panel-one'"
        ).scalar_one()
    assert (dearest, history) == ("2", 3)

    changes = rows(
        engine,
        select(v_offer_changes)
        .where(v_offer_changes.c.occurred_at == t1)
        .order_by(v_offer_changes.c.event_id),
    )
    assert [(c.site_offer_id, c.kind, c.change_pct, c.platform) for c in changes] == [
        ("1", "price_down", Decimal("-20.00"), "instagram"),
        ("2", "removed", None, "instagram"),
    ]

    runs = rows(engine, select(v_run_summary).order_by(v_run_summary.c.run_id))
    assert [
        (r.site_id, r.status, r.offers_new, r.offers_changed, r.offers_removed) for r in runs
    ] == [
        (SITE, "succeeded", 2, 0, 0),
        ("shop", "succeeded", 1, 0, 0),
        (SITE, "succeeded", 0, 1, 1),
    ]
    assert runs[0].duration_seconds == pytest.approx(0.0)


def test_table_counts_lists_every_table(engine: Engine) -> None:
    assert repo.table_counts(engine) == {
        "site": 1,
        "crawl_run": 0,
        "offer": 0,
        "offer_price_period": 0,
        "offer_event": 0,
        "counter_reading": 0,
        "rejected_offer": 0,
        "site_discovery": 0,
        "alert": 0,
        "reseller_link": 0,
        "market_daily_estimate": 0,
        "scheduler_heartbeat": 0,
        "price_index": 0,
        "price_index_part": 0,
        "crawl_cycle": 0,
        "lease": 0,
    }


def test_large_batch_is_stored_in_bulk(engine: Engine) -> None:
    # More offers than one "IN (...)" chunk, so chunking is exercised on both backends.
    offers = [make_offer(str(i), price=f"{i % 97}.5") for i in range(12_000)]
    first = crawl(engine, offers, at=T0)
    changed = [
        dataclasses.replace(o, price=o.price + 1) if i % 1000 == 0 else o
        for i, o in enumerate(offers)
    ]
    second = crawl(engine, changed[:-6000], at=T0 + timedelta(days=1))
    assert (first.new, first.price_rows_added) == (12_000, 12_000)
    assert (second.changed, second.unchanged, second.removed) == (6, 5_994, 6_000)
    assert repo.table_counts(engine)["offer_price_period"] == 12_006


# ------------------------------------------------------------------------------------------
# engines and URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@db:5432/cf", "postgresql+psycopg://u:***@db:5432/cf"),
        ("postgres://u:pw@db/cf", "postgresql+psycopg://u:***@db/cf"),
        ("postgresql+psycopg://u@db/cf", "postgresql+psycopg://u@db/cf"),
        ("sqlite:///var/x.db", "sqlite:///var/x.db"),
    ],
    ids=["postgresql", "postgres-alias", "already-psycopg", "sqlite"],
)
def test_urls_are_normalized_and_passwords_never_shown(url: str, expected: str) -> None:
    assert safe_url(resolve_url(url)) == expected


def test_default_url_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert str(resolve_url()) == "sqlite:///var/clickfarm.db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://reader:hunter2@db/cf")
    assert resolve_url().drivername == "postgresql+psycopg"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL")
    engine = get_engine()
    try:
        with engine.connect():
            pass
        assert (tmp_path / "var" / "clickfarm.db").is_file()
    finally:
        engine.dispose()


def test_sqlite_connections_are_tuned(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'deep' / 'er' / 'cf.db'}")
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        assert pragma == {
            "journal_mode": "wal",
            "synchronous": 1,
            "foreign_keys": 1,
            "busy_timeout": 30_000,
        }
    finally:
        engine.dispose()


def test_passwords_are_not_logged(caplog: pytest.LogCaptureFixture, postgres_server: Any) -> None:
    url = postgres_server.url().replace("postgres@", "postgres:hunter2@")
    with caplog.at_level(logging.DEBUG):
        engine = get_engine(url)
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
    assert "hunter2" not in caplog.text
    assert "***" in caplog.text


def test_parallel_writers_share_one_sqlite_file(tmp_path: Path) -> None:
    # Crawl processes store concurrently into one SQLite file: each write transaction must wait
    # for the lock (BEGIN IMMEDIATE + busy_timeout), never fail with "database is locked".
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    setup = get_engine(url)
    migrate(setup)
    sites = [f"site-{i}" for i in range(4)]
    for site_id in sites:
        add_site(setup, site_id)
    errors: list[BaseException] = []

    def store_crawls(site_id: str) -> None:
        engine = get_engine(url)  # its own connections, like a separate process
        try:
            for hour in range(5):
                offers = [make_offer(str(i), price=f"{hour}.{i:02d}") for i in range(200)]
                crawl(engine, offers, at=T0 + timedelta(hours=hour), site_id=site_id)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=store_crawls, args=(site_id,)) for site_id in sites]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        counts = repo.table_counts(setup)
        assert (counts["crawl_run"], counts["offer"], counts["offer_price_period"]) == (
            20,
            800,
            4000,
        )
    finally:
        setup.dispose()
