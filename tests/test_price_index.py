"""The stored daily price index (storage/price_index.py) and its report (reports/price_index.py).

The expected figures are computed here independently, with :mod:`statistics` over the raw price
periods: a period counts on the days from its first sighting to its last confirmation, each
offer once a day at its latest period, offers with a USD value above 0. A scripted history
covers the cases the refresh after each run must get right: price changes, a removal and a
reinstatement, a seller crawled every other day (confirmations after a gap), a second crawl the
same day, an offer moved to another metric, a partial listing, a failed run, a free service and
retail packages. Every test runs on SQLite and on a real PostgreSQL (``db_engine``).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from clickfarm.cli import app
from core.offers import NormalizedOffer
from reports.price_index import PriceIndexRow, period_start, price_index_series
from reports.prices import price_index
from storage import repository as repo
from storage.db import alembic_config, get_engine, migrate, write_transaction
from storage.models import offer_table, period_table, price_index_part_table
from storage.price_index import rebuild

START = date(2026, 9, 1)
DAYS = 9
SIX = Decimal("0.000001")
FAR = (date(2000, 1, 1), date(2100, 1, 1))


def _offer(site_offer_id: str, platform: str, metric: str, usd: str, *,
           pricing: str = "per_1000", quantity: int | None = None) -> NormalizedOffer:
    price = Decimal(usd)
    per_1000 = (price / quantity * 1000).quantize(SIX) if quantity else price
    return NormalizedOffer(
        site_offer_id=site_offer_id, name=f"{platform} {metric} {site_offer_id}",
        name_raw=f"{platform} {metric} {site_offer_id}", category=None, platform=platform,
        metric=metric, pricing=pricing, price=price, price_raw=usd, currency="USD",
        quantity=quantity, usd_per_1000=per_1000, fx_rate=Decimal(1), fx_date=START,
        min_quantity=10, max_quantity=10_000, service_type="Default", description=None,
        average_time=None, refill_flag=None, cancel_flag=None)


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 9, 1, hour, tzinfo=UTC) + timedelta(days=day)


def _crawl(engine: Engine, site: str, when: datetime, offers: list[NormalizedOffer], *,
           complete: bool = True) -> None:
    run_id = repo.start_run(engine, site_id=site, started_at=when)
    repo.complete_run(engine, run_id=run_id, site_id=site, observed_at=when, offers=offers,
                      rejections=[], counters=[], complete_listing=complete)


def _panel_a(day: int) -> list[NormalizedOffer]:
    offers = [
        _offer("1", "instagram", "followers", "1.20" if day < 2 else "1.50"),
        _offer("2", "instagram", "followers", "0.80"),
        _offer("3", "instagram", "followers", "2.00"),
        _offer("4", "instagram", "likes", "0.30"),
        # moved from likes to views on day 4 (the taxonomy learnt better)
        _offer("5", "instagram", "likes" if day < 4 else "views", "0.45"),
        _offer("6", "youtube", "views", "3.10" if day % 3 else "2.90"),
        _offer("7", "instagram", "followers", "0"),  # a free service: no price
    ]
    if day in (3, 4):  # offer 2 is gone on days 3 and 4, back on day 5
        offers = [offer for offer in offers if offer.site_offer_id != "2"]
    return offers


def _panel_b(day: int) -> list[NormalizedOffer]:
    return [_offer("b1", "instagram", "followers", "1.00"),
            _offer("b2", "instagram", "followers", "1.75" if day < 4 else "1.60"),
            _offer("b3", "youtube", "views", "2.50")]


def _shop(day: int) -> list[NormalizedOffer]:
    return [_offer("s1", "instagram", "followers", "4.99", pricing="package", quantity=500),
            _offer("s2", "instagram", "followers", "8.99" if day < 5 else "7.99",
                   pricing="package", quantity=1000)]


def build_history(engine: Engine) -> None:
    """Nine crawl days of three sellers (see the module docstring)."""
    for site, family in (("a", "smm_api"), ("b", "smm_api"), ("shop", "shopify")):
        repo.upsert_site(engine, site_id=site, url=f"http://{site}.example/", family=family,
                         currency="USD", now=_at(0))
    for day in range(DAYS):
        if day == 7:  # a partial listing: offers 4 to 7 not read, not removed
            _crawl(engine, "a", _at(day), _panel_a(day)[:3], complete=False)
        else:
            _crawl(engine, "a", _at(day), _panel_a(day))
        if day == 3:  # a second crawl the same day: offer 3 changed in the evening
            evening = [_offer("3", "instagram", "followers", "2.40")
                       if offer.site_offer_id == "3" else offer for offer in _panel_a(day)]
            _crawl(engine, "a", _at(day, 20), evening)
        if day % 2 == 0:  # seller b is crawled every other day
            _crawl(engine, "b", _at(day), _panel_b(day))
        elif day == 5:  # and fails on day 5: nothing read, nothing changes
            run_id = repo.start_run(engine, site_id="b", started_at=_at(day))
            repo.fail_run(engine, run_id=run_id, finished_at=_at(day), error="HTTP 503")
        _crawl(engine, "shop", _at(day, 9), _shop(day))


def expected_daily(engine: Engine) -> dict[tuple[date, str, str, str], tuple[Any, ...]]:
    """The index computed from the raw periods with the statistics module."""
    query = (select(offer_table.c.site_id, offer_table.c.platform, offer_table.c.metric,
                    offer_table.c.pricing, period_table.c.offer_id, period_table.c.id,
                    period_table.c.valid_from, period_table.c.last_confirmed_at,
                    period_table.c.usd_per_1000)
             .join(offer_table, offer_table.c.id == period_table.c.offer_id))
    with engine.connect() as connection:
        periods = connection.execute(query).all()
    first = min(p.valid_from.date() for p in periods)
    last = max(p.last_confirmed_at.date() for p in periods)
    result = {}
    for day in (first + timedelta(days=d) for d in range((last - first).days + 1)):
        chosen: dict[int, Any] = {}
        for p in periods:
            alive = p.valid_from.date() <= day <= p.last_confirmed_at.date()
            if not alive or p.usd_per_1000 is None or p.usd_per_1000 <= 0:
                continue
            if p.offer_id not in chosen or (p.valid_from, p.id) > (
                    chosen[p.offer_id].valid_from, chosen[p.offer_id].id):
                chosen[p.offer_id] = p
        cells: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
        for p in chosen.values():
            cells[(p.platform, p.metric, p.pricing)].append(p)
        for cell, members in cells.items():
            values = sorted(p.usd_per_1000 for p in members)
            if len(values) > 1:
                q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
            else:
                q1 = median = q3 = values[0]
            result[(day, *cell)] = (
                Decimal(median).quantize(SIX), Decimal(q1).quantize(SIX),
                Decimal(q3).quantize(SIX), values[0].quantize(SIX), values[-1].quantize(SIX),
                len(values), len({p.site_id for p in members}))
    return result


def _as_expected(rows: list[PriceIndexRow]) -> dict[tuple[date, str, str, str], tuple[Any, ...]]:
    return {(r.period_start, r.platform, r.metric, r.pricing):
            (r.median, r.q1, r.q3, r.min, r.max, r.offers, r.sellers) for r in rows}


def _parts(engine: Engine) -> list[tuple[Any, ...]]:
    table = price_index_part_table
    with engine.connect() as connection:
        return sorted(tuple(row[1:]) for row in connection.execute(select(table)))


@pytest.fixture
def history(db_engine: Engine) -> Engine:
    build_history(db_engine)
    return db_engine


def test_the_stored_days_match_an_independent_computation(history: Engine) -> None:
    stored = price_index_series(history, start=FAR[0], end=FAR[1])
    expected = expected_daily(history)
    assert _as_expected(stored) == expected
    # The cases the scenario is there for, checked by hand.
    cells = _as_expected(stored)
    free_excluded = cells[(START, "instagram", "followers", "per_1000")]
    assert free_excluded[5:] == (5, 2)  # a: 1, 2, 3 (7 is free); b: b1, b2
    gap_day = cells[(START + timedelta(days=1), "instagram", "followers", "per_1000")]
    assert gap_day[5:] == (5, 2)  # b, crawled on days 0 and 2, counts on day 1 too
    removed = cells[(START + timedelta(days=3), "instagram", "followers", "per_1000")]
    # day 3: offer 2 removed; offer 3 at 2.00 (noon) then 2.40 (evening): once, at 2.40; b
    # not crawled: b1 (seen the same on days 2 and 4) counts, b2 (changed between) does not
    assert removed[5:] == (3, 2) and removed[4] == Decimal("2.400000")
    assert (START + timedelta(days=4), "instagram", "likes", "per_1000") in cells
    moved = cells[(START, "instagram", "likes", "per_1000")]
    assert moved[5] == 1  # offer 5 moved to views: its whole history moved with it
    assert cells[(START, "instagram", "views", "per_1000")][5] == 1
    # day 7 read a partial listing without offer 4; day 8 saw it unchanged: it counts on day 7
    assert cells[(START + timedelta(days=7), "instagram", "likes", "per_1000")][5] == 1


def test_incremental_refresh_equals_a_full_rebuild(history: Engine) -> None:
    incremental = price_index_series(history, start=FAR[0], end=FAR[1])
    parts = _parts(history)
    assert incremental and parts
    rebuild(history)
    assert price_index_series(history, start=FAR[0], end=FAR[1]) == incremental
    assert _parts(history) == parts
    # A rebuild of a range leaves the other days as they were.
    rebuild(history, start=START + timedelta(days=2), end=START + timedelta(days=4))
    assert price_index_series(history, start=FAR[0], end=FAR[1]) == incremental
    assert _parts(history) == parts


def test_one_day_equals_the_one_range_report(history: Engine) -> None:
    series = price_index_series(history, start=START, end=START + timedelta(days=DAYS - 1))
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        for pricing in ("per_1000", "package"):
            snapshot = {(r.platform, r.metric): (r.median, r.q1, r.q3, r.minimum, r.maximum,
                                                 r.offers, r.sellers)
                        for r in price_index(history, start=day, end=day, pricing=pricing)}
            stored = {(r.platform, r.metric): (r.median, r.q1, r.q3, r.min, r.max, r.offers,
                                               r.sellers)
                      for r in series if r.period_start == day and r.pricing == pricing}
            assert stored == snapshot, (day, pricing)


@pytest.mark.parametrize("by", ["week", "month"])
def test_weeks_and_months_count_each_offer_once_at_its_last_price(history: Engine,
                                                                   by: str) -> None:
    last = START + timedelta(days=DAYS - 1)
    rows = price_index_series(history, start=START, end=last, by=by)
    assert rows
    # Independent: per period, each offer's last alive period (statistics module), and the
    # one-range report over the same days.
    with history.connect() as connection:
        periods = connection.execute(
            select(offer_table.c.site_id, offer_table.c.platform, offer_table.c.metric,
                   offer_table.c.pricing, period_table.c.offer_id, period_table.c.valid_from,
                   period_table.c.last_confirmed_at, period_table.c.usd_per_1000)
            .join(offer_table, offer_table.c.id == period_table.c.offer_id)).all()
    buckets = sorted({period_start(START + timedelta(days=d), by) for d in range(DAYS)})
    for bucket in buckets:
        days = [START + timedelta(days=d) for d in range(DAYS)
                if period_start(START + timedelta(days=d), by) == bucket]
        first, final = days[0], days[-1]
        latest: dict[int, Any] = {}
        for p in periods:
            if p.valid_from.date() > final or p.last_confirmed_at.date() < first:
                continue
            if p.usd_per_1000 <= 0:
                continue
            if p.offer_id not in latest or p.valid_from > latest[p.offer_id].valid_from:
                latest[p.offer_id] = p
        cells: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
        for p in latest.values():
            cells[(p.platform, p.metric, p.pricing)].append(p)
        got = {(r.platform, r.metric, r.pricing): r for r in rows if r.period_start == bucket}
        assert set(got) == set(cells), bucket
        for cell, members in cells.items():
            values = sorted(p.usd_per_1000 for p in members)
            assert got[cell].median == Decimal(statistics.median(values)).quantize(SIX)
            assert (got[cell].offers, got[cell].sellers) == (
                len(values), len({p.site_id for p in members}))
        for pricing in ("per_1000", "package"):
            snapshot = {(r.platform, r.metric): (r.median, r.q1, r.q3, r.offers, r.sellers)
                        for r in price_index(history, start=first, end=final, pricing=pricing)}
            assert snapshot == {(r.platform, r.metric): (r.median, r.q1, r.q3, r.offers,
                                                         r.sellers)
                                for r in got.values() if r.pricing == pricing}


def test_filters_and_bad_arguments(history: Engine) -> None:
    rows = price_index_series(history, start=START, end=START + timedelta(days=3),
                              platform="youtube", metric="views", pricing="per_1000")
    assert {(r.platform, r.metric, r.pricing) for r in rows} == {("youtube", "views",
                                                                   "per_1000")}
    assert [r.period_start for r in rows] == [START + timedelta(days=d) for d in range(4)]
    for bad in ({"by": "year"}, {"pricing": "per_100"}):
        with pytest.raises(ValueError):
            price_index_series(history, start=START, end=START, **bad)
    with pytest.raises(ValueError):
        price_index_series(history, start=START + timedelta(days=1), end=START)


def test_the_migration_backfills_the_index(tmp_path: Path) -> None:
    from alembic import command

    engine = get_engine(f"sqlite:///{tmp_path / 'backfill.db'}")
    migrate(engine)
    build_history(engine)
    before = price_index_series(engine, start=FAR[0], end=FAR[1])
    config = alembic_config()
    with write_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    migrate(engine)  # 0007 again: the table is created and backfilled from the history
    assert price_index_series(engine, start=FAR[0], end=FAR[1]) == before


def test_a_free_service_is_not_a_price_on_sqlite(db_engine: Engine) -> None:
    """'0.000000' > 0 is true between SQLite texts: the one-range report compares numbers."""
    repo.upsert_site(db_engine, site_id="a", url="http://a.example/", family="smm_api",
                     currency="USD", now=_at(0))
    _crawl(db_engine, "a", _at(0), [_offer("1", "instagram", "followers", "0.000000"),
                                    _offer("2", "instagram", "followers", "1.5")])
    rows = price_index(db_engine, start=START, end=START)
    assert [(r.offers, r.minimum) for r in rows] == [(1, Decimal("1.500000"))]
    assert [r.offers for r in price_index_series(db_engine, start=START, end=START)] == [1]


@pytest.mark.postgres
def test_sqlite_and_postgresql_store_the_same_index(tmp_path: Path, postgres_url: str) -> None:
    results = []
    for url in (f"sqlite:///{tmp_path / 'parity.db'}", postgres_url):
        engine = get_engine(url)
        try:
            migrate(engine)
            build_history(engine)
            results.append((price_index_series(engine, start=FAR[0], end=FAR[1]),
                            price_index_series(engine, start=START, end=START + timedelta(
                                days=DAYS), by="week"),
                            _parts(engine)))
        finally:
            engine.dispose()
    assert results[0] == results[1]


def test_runs_stored_side_by_side_keep_every_seller_in_the_index(db_engine: Engine) -> None:
    """Distributed workers store runs of different sellers at the same moment: every cell must
    count every seller (no lost update), and no run may fail on the cell's unique key."""
    import threading

    sellers = [f"seller-{index:02d}" for index in range(12)]
    barrier = threading.Barrier(len(sellers))
    errors: list[BaseException] = []
    for site in sellers:
        repo.upsert_site(db_engine, site_id=site, url=f"http://{site}.example/",
                         family="smm_api", currency="USD", now=_at(0))

    def store(site: str, index: int) -> None:
        try:
            barrier.wait(timeout=60)
            _crawl(db_engine, site, _at(0), [
                _offer("1", "instagram", "followers", f"{1 + index / 10:.2f}"),
                _offer("2", "tiktok", "views", f"{0.2 + index / 100:.2f}")])
        except BaseException as error:  # reported below, with the seller
            errors.append(error)

    threads = [threading.Thread(target=store, args=(site, index))
               for index, site in enumerate(sellers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    stored = _as_expected(price_index_series(db_engine, start=FAR[0], end=FAR[1]))
    followers = stored[(START, "instagram", "followers", "per_1000")]
    views = stored[(START, "tiktok", "views", "per_1000")]
    assert followers[5:] == (len(sellers), len(sellers))
    assert views[5:] == (len(sellers), len(sellers))
    assert followers[3:5] == (Decimal("1.000000"), Decimal("2.100000"))  # min, max
    rebuild(db_engine)
    assert _as_expected(price_index_series(db_engine, start=FAR[0], end=FAR[1])) == stored


# -- the command line ------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture(scope="module")
def history_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'history.db'}"
    engine = get_engine(url)
    migrate(engine)
    build_history(engine)
    engine.dispose()
    return url


def _report(url: str, *args: str) -> Any:
    return runner.invoke(app, ["report", "prices", "--from", "2026-09-01", "--to", "2026-09-09",
                               "--database-url", url, *args])


@pytest.mark.parametrize("by", ["day", "week", "month"])
def test_report_prices_by_prints_json_csv_and_a_table(history_url: str, by: str) -> None:
    engine = get_engine(history_url)
    expected = price_index_series(engine, start=START, end=date(2026, 9, 9), by=by,
                                  pricing="per_1000")
    engine.dispose()
    result = _report(history_url, "--by", by, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["by"] == by and document["unit"] == "USD per 1000"
    assert document["method"].startswith(f"per {'ISO week' if by == 'week' else by}")
    assert [(row["period_start"], row["platform"], row["metric"], row["median"], row["offers"])
            for row in document["rows"]] == [
        (r.period_start.isoformat(), r.platform, r.metric, str(r.median), r.offers)
        for r in expected]

    result = _report(history_url, "--by", by, "--format", "csv", "--platform", "youtube")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ("period_start,platform,metric,pricing,median,q1,q3,min,max,offers,"
                        "sellers")
    assert len(lines) - 1 == sum(1 for r in expected if r.platform == "youtube")
    assert all(",youtube,views,per_1000," in line for line in lines[1:])

    result = _report(history_url, "--by", by, "--pricing", "package")
    assert result.exit_code == 0, result.output
    assert f"price index by {by} (retail packages)" in result.stdout
    assert "method:" in result.stdout and "instagram" in result.stdout


def test_report_prices_by_on_a_range_without_prices_says_so(history_url: str) -> None:
    result = runner.invoke(app, ["report", "prices", "--by", "month", "--from", "2020-01-01",
                                 "--to", "2020-12-31", "--database-url", history_url])
    assert result.exit_code == 0
    assert "no per_1000 prices observed from 2020-01-01 to 2020-12-31" in result.stderr
    assert "the database covers 2026-09-01 to 2026-09-09" in result.stderr


def test_db_refresh_price_index_rebuilds_what_the_crawls_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'refresh.db'}"
    engine = get_engine(url)
    migrate(engine)
    build_history(engine)
    before = price_index_series(engine, start=FAR[0], end=FAR[1])
    with write_transaction(engine) as connection:
        connection.execute(text("DELETE FROM price_index WHERE day >= '2026-09-04'"))
    assert price_index_series(engine, start=FAR[0], end=FAR[1]) != before
    result = runner.invoke(app, ["db", "refresh-price-index", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "day x class rows written" in result.stdout
    assert price_index_series(engine, start=FAR[0], end=FAR[1]) == before
    engine.dispose()
