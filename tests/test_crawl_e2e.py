"""End to end: simulated panels -> Scrapy crawl (child process) -> normalize -> SQLite.

The simulator knows the true price of every service on every day; crawling N simulated days
must reproduce them exactly, store only changes, and never send an order action.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from clickfarm.demo import observation_time
from storage.models import CounterReading, OfferEvent, OfferPricePeriod
from storage.repository import table_counts
from tests.simulated import later, start_simulated

DAYS = 3


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    setup = start_simulated(tmp_path_factory.mktemp("e2e"), seed=5, panels=6)
    setup.days = []
    setup.price_rows_per_day = []
    try:
        for day in range(DAYS):
            before = table_counts(setup.engine)["offer_price_period"]
            runs = setup.crawl()
            assert {run["status"] for run in runs} == {"succeeded"}, runs
            setup.days.append(setup.market.day)
            setup.price_rows_per_day.append(table_counts(setup.engine)["offer_price_period"] - before)
            if day < DAYS - 1:
                setup.market.advance(days=1)
        yield setup
    finally:
        setup.server.stop()


def test_both_families_are_crawled(crawled):
    families = Counter(site["family"] for site in crawled.market.sites_config("x"))
    assert families["smm_api"] >= 2 and families["smm_html"] >= 2


def test_round_trip_reproduces_true_prices_exactly(crawled):
    market = crawled.market
    compared = 0
    for day in crawled.days:
        moment = observation_time(market.date_of(day))
        for site_id in market.sites:
            truth = {service_id: Decimal(rate) for service_id, rate in
                     market.prices(site_id, day).items()}
            stored = crawled.prices_at(site_id, moment)
            assert stored == truth, f"{site_id} on day {day}"
            compared += len(truth)
    assert compared > 3000


def test_storage_grows_with_changes_not_crawls(crawled):
    first, *later_days = crawled.price_rows_per_day
    assert first > 3000
    for rows in later_days:
        assert 0 < rows < first * 0.2


def test_price_events_match_the_true_changes(crawled):
    market = crawled.market
    previous, current = crawled.days[-2], crawled.days[-1]
    moment = observation_time(market.date_of(current))
    expected = Counter()
    for site_id in market.sites:
        before, after = market.prices(site_id, previous), market.prices(site_id, current)
        expected["new"] += len(after.keys() - before.keys())
        expected["removed"] += len(before.keys() - after.keys())
        for service_id in before.keys() & after.keys():
            if Decimal(after[service_id]) > Decimal(before[service_id]):
                expected["price_up"] += 1
            elif Decimal(after[service_id]) < Decimal(before[service_id]):
                expected["price_down"] += 1
    events = OfferEvent.__table__
    with crawled.engine.connect() as connection:
        stored = Counter(dict(connection.execute(
            select(events.c.kind, func.count()).where(events.c.occurred_at == moment)
            .group_by(events.c.kind)).all()))
    # A service that comes back is "reinstated", not "new".
    assert stored["new"] + stored["reinstated"] == expected["new"]
    assert (stored["removed"], stored["price_up"], stored["price_down"]) == (
        expected["removed"], expected["price_up"], expected["price_down"])
    assert expected["price_up"] + expected["price_down"] > 0


def test_unchanged_recrawl_adds_no_rows(crawled):
    before = table_counts(crawled.engine)
    moment = later(observation_time(crawled.market.today), hours=1)
    runs = crawled.crawl(observed_at=moment)
    after = table_counts(crawled.engine)
    assert {run["status"] for run in runs} == {"succeeded"}
    assert all(run["price_rows_added"] == 0 and run["offers_new"] == 0 for run in runs)
    for table in ("offer", "offer_price_period", "offer_event", "rejected_offer"):
        assert after[table] == before[table], table
    assert after["crawl_run"] == before["crawl_run"] + len(crawled.market.sites)
    # What moved is the confirmation time of every current period.
    site_id = next(iter(crawled.market.sites))
    assert crawled.prices_at(site_id, moment) == {
        key: Decimal(value) for key, value in crawled.market.prices(site_id).items()}
    periods = OfferPricePeriod.__table__
    with crawled.engine.connect() as connection:
        confirmed = connection.execute(
            select(func.max(periods.c.last_confirmed_at))).scalar_one()
        still_open_and_stale = connection.execute(
            select(func.count()).select_from(periods).where(
                periods.c.valid_to.is_(None), periods.c.last_confirmed_at < moment)).scalar_one()
    assert confirmed == moment
    assert still_open_and_stale == 0


def test_counters_are_the_true_counters(crawled):
    market = crawled.market
    readings = CounterReading.__table__
    with crawled.engine.connect() as connection:
        rows = connection.execute(select(readings.c.site_id, readings.c.observed_at,
                                         readings.c.name, readings.c.value)).all()
    stored = {(row.site_id, row.observed_at.date(), row.name): row.value for row in rows}
    for day in crawled.days:
        for site_id in market.sites:
            true_orders = market.counters(site_id, day)["orders"]
            assert stored.get((site_id, market.date_of(day), "orders")) == true_orders, (
                site_id, day)


def test_crawler_never_sends_an_order_action(crawled):
    assert crawled.market.refused_order_actions == 0
    assert crawled.market.refused_order_log == []
    routes = Counter(route for (_, route) in crawled.market.request_counts.elements())
    assert routes["api"] > 0 and routes["services"] > 0
