"""The market-size estimators on known inputs, and `report market-size` on SQLite and PostgreSQL.

The estimators are pure functions: each is fed data whose answer is known (counter series with a
reset, a frozen stretch, a jump; capture histories drawn from a known log-linear model; offers
with known prices), and the report is run on a small store written through the real repository.
Validation against the simulator's truth is in tests/test_market_size_validation.py.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from clickfarm.cli import app
from core.offers import CounterValue
from estimates.counters import catalogue_outliers, customers_outliers, orders_from_counter
from estimates.data import MarketData, load_market
from estimates.market import RESELLER_VOLUME_RATIO, estimate_market, seller_revenue
from estimates.order_value import (
    HIGH_SIZE_FACTOR,
    LOW_SIZE_FACTOR,
    MAX_ORDER_UNITS,
    ListedOffer,
    mean_order_size,
    order_size_scale,
    order_size_shape,
    order_value,
    package_entry_price,
)
from estimates.sellers import chao_mh, chapman, count_sellers, jackknife_mh, loglinear
from estimates.types import Estimate
from storage import repository as repo
from storage.discovery import DiscoverySource, record_discoveries
from storage.views import v_market_daily, v_market_daily_total
from tests.test_storage import make_offer

REPO_ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _series(values: list[int], *, start: datetime = T0) -> list[tuple[datetime, int]]:
    return [(start + timedelta(days=day), value) for day, value in enumerate(values)]


# -- counters ----------------------------------------------------------------------------------

COUNTER_CASES = {
    # name: (daily readings, expected orders per day, reasons of the rejected intervals)
    "steady": ([1000, 1100, 1200, 1300, 1400], 100.0, []),
    "offset inflation leaves differences alone": (
        [5_000_000 + v for v in (1000, 1100, 1200, 1300, 1400)], 100.0, []),
    "reset": ([1000, 1100, 50, 150, 250], 100.0, ["reset"]),
    "frozen": ([1000, 1100, 1100, 1200, 1300], 100.0, ["frozen"]),
    "jump": ([1000, 1100, 1210, 6210, 6310, 6400, 6500], 100.0, ["jump"]),
    "too few usable": ([1000, 1000, 900], None, ["frozen", "reset"]),
}


@pytest.mark.parametrize("name", COUNTER_CASES)
def test_counter_differences_are_accepted_or_rejected_with_a_reason(name: str) -> None:
    readings, expected_rate, expected_reasons = COUNTER_CASES[name]
    counter = orders_from_counter("p", _series(readings))
    assert [i.reason.split(":")[0] for i in counter.rejected] == expected_reasons
    assert len(counter.intervals) == len(readings) - 1
    if expected_rate is None:
        assert not counter.usable and counter.unusable_reason
    else:
        assert counter.orders_per_day == pytest.approx(expected_rate, rel=0.06)


def test_a_counter_out_of_line_with_its_catalogue_is_rejected_whole() -> None:
    rates = {f"p{i}": 100.0 * (1 + 0.1 * i) for i in range(6)} | {"inflated": 5000.0}
    offers = {site: 100 for site in rates}
    flagged = catalogue_outliers(rates, offers)
    assert list(flagged) == ["inflated"]
    assert "out of line with the catalogue" in flagged["inflated"]


# -- capture-recapture ---------------------------------------------------------------------------

def test_chapman_matches_the_formula() -> None:
    n, variance = chapman(50, 40, 20)
    assert n == pytest.approx(51 * 41 / 21 - 1)
    assert variance == pytest.approx(51 * 41 * 30 * 20 / (21 ** 2 * 22))


def _histories_from_model(f0: float, effects: dict[str, float], pair: tuple[str, str] | None,
                          pair_effect: float) -> list[frozenset[str]]:
    """Histories whose counts are exactly those of a log-linear model (rounded)."""
    sources = sorted(effects)
    histories: list[frozenset[str]] = []
    for cell in itertools.product((0, 1), repeat=len(sources)):
        if not any(cell):
            continue
        log_mu = math.log(f0) + sum(effects[s] * x for s, x in zip(sources, cell, strict=True))
        if pair is not None and cell[sources.index(pair[0])] and cell[sources.index(pair[1])]:
            log_mu += pair_effect
        members = frozenset(s for s, x in zip(sources, cell, strict=True) if x)
        histories += [members] * round(math.exp(log_mu))
    return histories


@pytest.mark.parametrize(("pair", "pair_effect"), [(None, 0.0), (("a", "b"), 1.2)],
                         ids=["independent sources", "two dependent sources"])
def test_loglinear_recovers_the_unseen_count(pair: tuple[str, str] | None,
                                             pair_effect: float) -> None:
    histories = _histories_from_model(400.0, {"a": 0.2, "b": -0.1, "c": -0.4}, pair, pair_effect)
    f0, variance, model = loglinear(histories, ["a", "b", "c"])
    assert f0 == pytest.approx(400.0, rel=0.03)
    assert variance > 0
    assert ("a x b" in model) == (pair is not None)


def test_two_sources_use_the_heterogeneity_model_with_chapman_in_the_interval() -> None:
    """Big sellers listed by both sources, small ones by one: Chapman (every seller equally
    findable) is low; the jackknife (n + f1 / 2) is the central, Chapman stays in the interval."""
    histories = {f"big{i}": frozenset({"d1", "d2"}) for i in range(9)}
    histories |= {f"small{i}": frozenset({"d1" if i % 3 else "d2"}) for i in range(11)}
    count = count_sellers(histories)
    n1 = sum("d1" in h for h in histories.values())
    n2 = sum("d2" in h for h in histories.values())
    chapman_total, _ = chapman(n1, n2, 9)
    assert count.estimate.central == pytest.approx(20 + 11 / 2)
    assert count.estimate.low <= chapman_total < count.estimate.central < count.estimate.high
    assert "Chapman" in count.model and "jackknife" in count.model


def test_seller_count_interval_holds_the_seen_and_the_estimate() -> None:
    """Sources independent and every seller equally findable (model Mt): the interval holds
    the truth; the jackknife central, made for heterogeneous findability (model Mh), overshoots
    here by design (227 true, 257.7 estimated): bounded at 15 %."""
    histories = _histories_from_model(30.0, {"d1": 0.4, "d2": 0.1, "links": -0.8}, None, 0.0)
    count = count_sellers({f"s{i}": h for i, h in enumerate(histories)})
    true_total = len(histories) + 30
    assert count.seen == len(histories)
    assert count.estimate.low >= count.seen
    assert count.estimate.low <= true_total <= count.estimate.high
    assert count.estimate.central == pytest.approx(true_total, rel=0.15)
    assert count.estimate.low < count.estimate.central < count.estimate.high
    single = count_sellers({"s1": frozenset({"d1"}), "s2": frozenset({"d1"})})
    assert single.estimate == Estimate(2.0, 2.0, 2.0, single.estimate.method)
    assert "fewer than two" in single.model


# -- order value ---------------------------------------------------------------------------------

def test_order_value_of_a_per_1000_offer_follows_the_typical_size() -> None:
    offer = ListedOffer("p", 1, "per_1000", "instagram", "followers", 2.0, 100, 10_000)
    value = order_value([offer])
    assert value is not None
    # typical 1000 followers: the mean of a right-skewed bump clipped to [100, 10000] lies above
    # it, but well below the maximum
    assert 2.0 * 1000 / 1000 < value.central < 2.0 * 3000 / 1000
    assert value.low == pytest.approx(
        2.0 * mean_order_size(offer, order_size_shape(LOW_SIZE_FACTOR, tail=False)) / 1000)
    assert value.low < 2.0 * 1000 / 1000 < value.central < value.high <= 2.0 * 10_000 / 1000
    # high: the unknown shape's high scale, with the bulk tail at full height
    assert value.high == pytest.approx(
        2.0 * mean_order_size(offer, order_size_shape(HIGH_SIZE_FACTOR)) / 1000)


@pytest.mark.parametrize(("scale", "smallest", "largest"), [
    (0.25, 150, 600),     # small buyers: near the minimum of 100, below the typical 1000
    (1.0, 1000, 3000),    # around the typical size, skewed right
    (4.0, 12_000, 100_000),  # bulk buyers: 4000 typical, and a tail up to the maximum 1M
])
def test_the_order_size_model_moves_with_the_market_scale(scale: float, smallest: int,
                                                          largest: int) -> None:
    offer = ListedOffer("p", 1, "per_1000", "instagram", "followers", 2.0, 100, 1_000_000)
    assert smallest < mean_order_size(offer, order_size_shape(scale)) < largest


def test_an_unlimited_maximum_is_a_placeholder() -> None:
    def mean(maximum: int) -> float:
        offer = ListedOffer("p", 1, "per_1000", "youtube", "views", 1.0, 100, maximum)
        return mean_order_size(offer, order_size_shape(4.0))
    assert mean(2_147_483_647) == pytest.approx(mean(MAX_ORDER_UNITS))
    assert mean(MAX_ORDER_UNITS) > mean(1_000_000)


def test_order_value_respects_limits_and_packages() -> None:
    # min 5000: no order can be smaller, whatever the typical size
    big_min = ListedOffer("p", 1, "per_1000", "youtube", "comments", 10.0, 5000, 6000)
    value = order_value([big_min])
    assert value is not None and value.low == pytest.approx(50.0)
    tiers = [ListedOffer("s", i, "package", "instagram", "followers", per_1000, quantity=q,
                         product_key="instagram/followers")
             for i, (q, per_1000) in enumerate([(100, 30.0), (1000, 20.0), (5000, 10.0)])]
    packages = order_value(tiers)
    assert packages is not None
    assert (packages.low, packages.central, packages.high) == pytest.approx((3.0, 20.0, 73 / 3))
    assert order_value([]) is None


@pytest.mark.parametrize(("orders", "value", "low", "high"), [
    # x/÷ 2 on the orders and x/÷ 2 on the order value: x/÷ 2^sqrt(2), not x/÷ 4
    ((50, 100, 200), (5, 10, 20), 1000 / 2 ** math.sqrt(2), 1000 * 2 ** math.sqrt(2)),
    # one exact factor: the other's bounds alone
    ((100, 100, 100), (2.5, 10, 30), 250, 3000),
    ((25, 100, 400), (10, 10, 10), 250, 4000),
    # a zero bound has no log width: the product of the bounds
    ((0, 100, 300), (5, 10, 20), 0, 1000 * math.exp(math.hypot(math.log(3), math.log(2)))),
])
def test_a_sellers_orders_and_order_value_err_independently(
        orders: tuple[float, float, float], value: tuple[float, float, float], low: float,
        high: float) -> None:
    revenue = seller_revenue(Estimate(*orders), Estimate(*value), "counter")
    assert (revenue.low, revenue.central, revenue.high) == pytest.approx((low, 1000, high))
    assert revenue.method == "counter"


# -- the market estimate on known data -----------------------------------------------------------

def _panel_offers(site: str, n: int, rate: float = 1.0) -> list[ListedOffer]:
    return [ListedOffer(site, hash((site, i)) % 10**9, "per_1000", "instagram", "followers",
                        rate, 100, 100_000) for i in range(n)]


def _market(readings: dict[str, list[int]], offers: dict[str, int]) -> MarketData:
    data = MarketData(T0 - timedelta(hours=12), T0 + timedelta(days=6, hours=12))
    data.sites = {site: "smm_api" for site in offers}
    data.readings = {site: _series(values) for site, values in readings.items()}
    data.offers = {site: _panel_offers(site, n) for site, n in offers.items()}
    data.histories = {site: frozenset({"d1", "d2"}) for site in offers}
    return data


def test_a_resellers_orders_are_not_counted_twice() -> None:
    """The upstream's counter holds the reseller's forwarded orders: summing both counters
    over-counts the chain; the estimate counts each end-customer order once."""
    upstream = [10_000 + 1100 * day for day in range(8)]  # 1000 own + 100 forwarded a day
    reseller = [500 + 100 * day for day in range(8)]
    others = {f"p{i}": [1000 + (300 + 20 * i) * day for day in range(8)] for i in range(4)}
    offers = {"up": 100, "res": 60} | {site: 100 for site in others}
    data = _market({"up": upstream, "res": reseller} | others, offers)
    links = [("res", "up")] * 60
    estimate = estimate_market(data, links=links)
    by_site = {d.site_id: d for d in estimate.sellers_detail}
    assert by_site["up"].method == "counter less forwarded orders"
    assert by_site["up"].orders_per_day.central == pytest.approx(1000.0)
    assert by_site["res"].orders_per_day.central == pytest.approx(100.0)
    true_orders_per_day = 1000 + 100 + sum(300 + 20 * i for i in range(4))
    summed_counters = true_orders_per_day + 100
    seen_orders = sum(d.orders_per_day.central for d in estimate.sellers_detail)
    assert seen_orders == pytest.approx(true_orders_per_day)
    assert seen_orders < summed_counters
    unlinked = estimate_market(data)
    assert sum(d.orders_per_day.central for d in unlinked.sellers_detail) == pytest.approx(
        summed_counters)


def test_sellers_without_a_counter_are_imputed_and_reported_apart() -> None:
    counted = {f"p{i}": [1000 + 100 * (i + 1) * day for day in range(8)] for i in range(5)}
    offers = {f"p{i}": 50 * (i + 1) for i in range(5)} | {"silent": 150}
    data = _market(counted, offers)
    estimate = estimate_market(data)
    silent = next(d for d in estimate.sellers_detail if d.site_id == "silent")
    assert silent.method == "imputed"
    assert silent.counter_reason == "no orders counter on the landing page"
    # orders grow in proportion to the catalogue here: 150 offers -> about 300 a day
    assert silent.orders_per_day.low < 300 < silent.orders_per_day.high
    assert estimate.revenue_imputed.central == pytest.approx(silent.revenue.central)
    assert estimate.revenue_observed.central + estimate.revenue_imputed.central \
        + estimate.revenue_unseen.central == pytest.approx(estimate.revenue.central)
    again = estimate_market(data)
    assert again.revenue == estimate.revenue  # the bootstrap is seeded



# New customers per own order of the sellers showing both counters (0.03 to 0.05; median 0.04).
CUSTOMER_SHARES = {"p0": 0.03, "p1": 0.035, "p2": 0.04, "p3": 0.045, "p4": 0.05}


def _with_customers(per_day: dict[str, float], shares: dict[str, float]) -> MarketData:
    counted = {site: [1000 + round(per_day[site]) * day for day in range(8)] for site in shares}
    data = _market(counted, {site: 100 for site in per_day})
    data.customer_readings = {
        site: _series([500 + round(per_day[site] * shares.get(site, 0.04) * day)
                       for day in range(8)])
        for site in per_day}
    return data


@pytest.mark.parametrize(("quiet_per_day", "quiet_share"), [(300.0, 0.04), (50.0, 0.04),
                                                            (1000.0, 0.03)])
def test_a_seller_showing_only_a_customers_counter_is_read_from_it(
        quiet_per_day: float, quiet_share: float) -> None:
    per_day = {f"p{i}": 200.0 + 50 * i for i in range(5)} | {"quiet": quiet_per_day}
    data = _with_customers(per_day, CUSTOMER_SHARES | {"quiet": quiet_share})
    data.readings.pop("quiet", None)
    estimate = estimate_market(data)
    quiet = next(d for d in estimate.sellers_detail if d.site_id == "quiet")
    assert quiet.method == "customers counter"
    # new customers a day / the median 0.04 new customers per order (rounding of the counter)
    expected = quiet_per_day * quiet_share / 0.04
    assert quiet.orders_per_day.central == pytest.approx(expected, rel=0.02)
    # bounds from the 10th and 90th percentiles of the other sellers' shares (0.032, 0.048)
    assert quiet.orders_per_day.low == pytest.approx(expected * 0.04 / 0.048, rel=0.03)
    assert quiet.orders_per_day.high == pytest.approx(expected * 0.04 / 0.032, rel=0.03)
    # a reading of the seller's own page: observed, not imputed
    assert estimate.revenue_imputed.central == 0
    assert estimate.revenue_observed.central == pytest.approx(
        sum(d.revenue.central for d in estimate.sellers_detail))


def test_an_inflated_orders_counter_gives_way_to_the_customers_counter() -> None:
    per_day = {f"p{i}": 200.0 + 50 * i for i in range(5)} | {"inflated": 400.0}
    data = _with_customers(per_day, CUSTOMER_SHARES)
    # the page claims three times its orders; its customers counter grows with the true ones
    data.readings["inflated"] = _series([1000 + 1200 * day for day in range(8)])
    estimate = estimate_market(data)
    inflated = next(d for d in estimate.sellers_detail if d.site_id == "inflated")
    assert inflated.counter_reason.startswith("out of line with the customers counter")
    assert inflated.method == "customers counter"
    assert inflated.orders_per_day.central == pytest.approx(400.0, rel=0.02)


def test_without_enough_sellers_showing_both_counters_the_customers_counter_is_not_read(
        ) -> None:
    per_day = {f"p{i}": 200.0 + 50 * i for i in range(5)} | {"quiet": 300.0}
    data = _with_customers(per_day, {"p0": 0.03, "p1": 0.04, "p2": 0.05})
    data.readings.pop("quiet", None)
    for site in ("p3", "p4"):  # these show an orders counter only
        data.customer_readings.pop(site)
    estimate = estimate_market(data)
    quiet = next(d for d in estimate.sellers_detail if d.site_id == "quiet")
    assert quiet.method == "imputed"
    assert quiet.counter_reason == ("no orders counter on the landing page; customers counter "
                                    "not read: fewer than 4 sellers show it beside an accepted "
                                    "orders counter")


@pytest.mark.parametrize(("name", "customers", "why"), [
    ("frozen", [500] * 8, "customers counter unusable: 0 accepted interval(s) of 7"),
    ("reset", [500, 510, 20, 10, 5, 3, 2, 1],
     "customers counter unusable: 1 accepted interval(s) of 7"),
])
def test_an_unusable_customers_counter_is_kept_as_evidence(
        name: str, customers: list[int], why: str) -> None:
    per_day = {f"p{i}": 200.0 + 50 * i for i in range(5)} | {"quiet": 300.0}
    data = _with_customers(per_day, CUSTOMER_SHARES)
    data.readings.pop("quiet", None)
    data.customer_readings["quiet"] = _series(customers)
    quiet = next(d for d in estimate_market(data).sellers_detail if d.site_id == "quiet")
    assert quiet.method == "imputed", name
    assert quiet.counter_reason is not None and why in quiet.counter_reason
    assert quiet.counter_reason.startswith("no orders counter on the landing page; ")


def test_an_uncounted_reseller_is_imputed_as_a_share_of_a_panel() -> None:
    """Fewer than two resellers with a counter: an uncounted one is valued at
    ``RESELLER_VOLUME_RATIO`` of a panel of its catalogue, with the panel's volume as its high
    bound; a panel without a counter keeps the panel model."""
    counted = {f"p{i}": [1000 + 100 * (i + 1) * day for day in range(8)] for i in range(5)}
    offers = {f"p{i}": 50 * (i + 1) for i in range(5)} | {"silent": 150, "res": 150}
    data = _market(counted, offers)
    estimate = estimate_market(data, links=[("res", "p4")] * 100)
    by_site = {d.site_id: d for d in estimate.sellers_detail}
    panel, reseller = by_site["silent"].orders_per_day, by_site["res"].orders_per_day
    assert by_site["res"].method == "imputed"
    assert reseller.central == pytest.approx(panel.central * RESELLER_VOLUME_RATIO)
    assert reseller.high == pytest.approx(panel.high)

# -- the report on a database --------------------------------------------------------------------

PANELS = {"alpha": (400, 120), "beta": (250, 80), "gamma": (150, 60), "delta": (90, 40),
          "eps": (60, 30)}
"""site -> (orders per day, offers); "gamma" shows no counter, "delta" resets on day 3."""
DAYS = 8


STORE_CUSTOMER_SHARES = {"alpha": 0.03, "beta": 0.035, "gamma": 0.04, "delta": 0.045,
                         "eps": 0.05}
"""New customers per order when the store's pages show a customers counter (``customers=True``)."""


def _write_store(engine: Engine, *, customers: bool = False) -> None:
    for index, (site, (per_day, n_offers)) in enumerate(PANELS.items()):
        repo.upsert_site(engine, site_id=site, url=f"https://{site}.example", family="smm_api",
                         currency="USD", now=T0)
        offers = [make_offer(str(i), price=f"{0.5 + 0.25 * (i % 7) + 0.1 * index:.2f}")
                  for i in range(n_offers)]
        for day in range(DAYS):
            at = T0 + timedelta(days=day)
            value = 100_000 + per_day * day
            if site == "delta" and day >= 3:
                value -= 90_000
            counters = [] if site == "gamma" else [
                CounterValue(name="orders", value=value, raw=str(value))]
            if customers:
                clients = 5_000 + round(per_day * STORE_CUSTOMER_SHARES[site] * day)
                counters.append(CounterValue(name="customers", value=clients, raw=str(clients)))
            run_id = repo.start_run(engine, site_id=site, started_at=at)
            repo.complete_run(engine, run_id=run_id, site_id=site, observed_at=at,
                              offers=offers, rejections=[], counters=counters)
    sightings = [DiscoverySource(site_id=site, source=source, source_kind=kind)
                 for site, sources in {
                     "alpha": [("https://dir-one.example/", "directory"),
                               ("https://dir-two.example/", "directory")],
                     "beta": [("https://dir-one.example/", "directory"),
                              ("https://alpha.example/", "seller_link")],
                     "gamma": [("https://dir-two.example/", "directory")],
                     "delta": [("https://dir-one.example/", "directory"),
                               ("https://dir-two.example/", "directory")],
                     "eps": [("https://dir-two.example/", "directory"),
                             ("https://beta.example/", "seller_link")],
                 }.items() for source, kind in sources]
    record_discoveries(engine, sightings, now=T0)


@pytest.fixture
def market_store(db_engine: Engine) -> Engine:
    _write_store(db_engine)
    return db_engine


def _run(engine: Engine, *args: str) -> str:
    result = CliRunner().invoke(app, ["report", "market-size", "--database-url",
                                      engine.url.render_as_string(hide_password=False), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


FIRST, LAST = (T0.date() + timedelta(days=1)).isoformat(), (T0.date() + timedelta(days=6)).isoformat()


def test_report_json_is_the_contract_and_the_daily_views_show_the_series(
        market_store: Engine) -> None:
    report = json.loads(_run(market_store, "--from", FIRST, "--to", LAST, "--format", "json"))
    assert list(report) == ["from", "to", "currency", "revenue", "revenue_observed", "orders",
                            "sellers", "by_platform", "method", "assumptions"]
    assert (report["from"], report["to"], report["currency"]) == (FIRST, LAST, "USD")
    for key in ("revenue", "revenue_observed"):
        assert list(report[key]) == ["low", "central", "high"]
        values = [Decimal(report[key][k]) for k in ("low", "central", "high")]
        assert all(isinstance(report[key][k], str) and re.fullmatch(r"\d+\.\d\d", report[key][k])
                   for k in report[key])
        assert values == sorted(values) and values[1] > 0
    assert Decimal(report["revenue_observed"]["central"]) < Decimal(report["revenue"]["central"])
    assert list(report["orders"]) == ["low", "central", "high"]
    true_orders = sum(per_day for per_day, _ in PANELS.values()) * 6
    assert report["orders"]["low"] <= true_orders * 1.1
    assert list(report["sellers"]) == ["seen", "low", "central", "high"]
    assert report["sellers"]["seen"] == len(PANELS) <= report["sellers"]["central"]
    assert [entry["platform"] for entry in report["by_platform"]] == ["instagram"]
    assert set(report["by_platform"][0]) == {"platform", "revenue"}
    assert report["method"] and all(report["assumptions"])
    with market_store.connect() as connection:
        daily = connection.execute(select(v_market_daily)).all()
        totals = connection.execute(select(v_market_daily_total)
                                    .order_by(v_market_daily_total.c.day)).all()
    assert {row.day for row in daily} == {T0.date() + timedelta(days=d) for d in range(1, 7)}
    by_site = {(row.site_id, row.day): row for row in daily}
    assert all(by_site[("gamma", day)].method == "imputed"
               and by_site[("gamma", day)].counter_accepted is None for day in {r.day for r in daily})
    reset_day = by_site[("delta", T0.date() + timedelta(days=2))]
    assert reset_day.counter_accepted is False and reset_day.reason.startswith("reset")
    alpha = by_site[("alpha", T0.date() + timedelta(days=4))]
    assert alpha.counter_accepted is True and alpha.method == "counter"
    assert alpha.orders == Decimal(400)
    assert alpha.revenue_low <= alpha.revenue_central <= alpha.revenue_high
    assert len(totals) == 6 and all(t.sellers == len(PANELS) and t.sellers_imputed == 1
                                    and t.sellers_from_customers == 0 for t in totals)
    # SQLite sums CAST(... AS NUMERIC) in binary floating point: compare to the cent
    assert totals[0].revenue_central.quantize(Decimal("0.01")) == sum(
        row.revenue_central for row in daily if row.day == totals[0].day)
    # a second run replaces its days instead of adding rows
    _run(market_store, "--from", FIRST, "--to", LAST)
    with market_store.connect() as connection:
        assert len(connection.execute(select(v_market_daily)).all()) == len(daily)


def test_the_daily_views_show_sellers_read_from_their_customers_counter(
        db_engine: Engine) -> None:
    """"gamma" shows no orders counter but a customers counter: its orders are read from it
    (150 a day: 6 new customers a day at the median of 0.04 per order of the others)."""
    _write_store(db_engine, customers=True)
    report = json.loads(_run(db_engine, "--from", FIRST, "--to", LAST, "--format", "json"))
    assert Decimal(report["revenue_observed"]["central"]) > 0
    with db_engine.connect() as connection:
        gamma = connection.execute(select(v_market_daily).where(
            v_market_daily.c.site_id == "gamma")).all()
        totals = connection.execute(select(v_market_daily_total)).all()
    assert len(gamma) == 6
    assert all(row.method == "customers counter" and row.counter_accepted is None
               for row in gamma)
    # 6 new customers a day over 0.04 per order (the median of the four others' 0.03 to 0.05)
    assert all(abs(row.orders - 150) <= 8 for row in gamma)
    assert all(t.sellers == len(PANELS) and t.sellers_from_customers == 1
               and t.sellers_imputed == 0 and t.sellers_counted <= 4 for t in totals)


def test_report_table_csv_and_platform_filter(market_store: Engine) -> None:
    table = _run(market_store, "--from", FIRST, "--to", LAST)
    assert "revenue (USD, whole market)" in table and "method:" in table
    csv_text = _run(market_store, "--from", FIRST, "--to", LAST, "--format", "csv")
    assert csv_text.splitlines()[0] == "measure,low,central,high"
    assert any(line.startswith("revenue:instagram,") for line in csv_text.splitlines())
    none = json.loads(_run(market_store, "--from", FIRST, "--to", LAST, "--platform", "tiktok",
                           "--format", "json"))
    assert none["revenue"] == {"low": "0.00", "central": "0.00", "high": "0.00"}
    assert none["by_platform"] == []
    whole = json.loads(_run(market_store, "--from", FIRST, "--to", LAST, "--format", "json"))
    instagram = json.loads(_run(market_store, "--from", FIRST, "--to", LAST, "--platform",
                                "instagram", "--format", "json"))
    assert instagram["by_platform"] == [{"platform": "instagram",
                                         "revenue": instagram["revenue"]}]
    # every offer of this store is Instagram: the platform is the whole market
    assert instagram["revenue"] == whole["revenue"]


@pytest.mark.parametrize("args", [["--from", "2026-11-05", "--to", "2026-11-01"],
                                  ["--from", "yesterday", "--to", "2026-11-01"],
                                  ["--from", "2020-01-01", "--to", "2020-01-31"]],
                         ids=["reversed", "not-a-day", "no-data"])
def test_report_refuses_bad_ranges_with_a_clear_error(market_store: Engine,
                                                      args: list[str]) -> None:
    result = CliRunner().invoke(app, ["report", "market-size", "--database-url",
                                      market_store.url.render_as_string(hide_password=False),
                                      *args])
    assert result.exit_code == 2
    assert "error" in result.output and "Traceback" not in result.output


def _readme_market_queries() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Market size", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


def test_readme_market_queries_run_on_both_databases(market_store: Engine) -> None:
    _run(market_store, "--from", FIRST, "--to", LAST)
    queries = _readme_market_queries()
    assert len(queries) >= 3
    with market_store.connect() as connection:
        for query in queries:
            rows = connection.execute(text(query)).all()
            assert rows, query


def test_load_market_reads_offers_counters_and_sources(market_store: Engine) -> None:
    data = load_market(market_store, date(2026, 11, 2), date(2026, 11, 7))
    assert set(data.offers) == set(PANELS) and "gamma" not in data.readings
    assert {len(data.offers[site]) for site in PANELS} == {n for _, n in PANELS.values()}
    assert data.histories["beta"] == frozenset({"https://dir-one.example/", "seller links"})


def test_retail_entry_prices_set_the_order_size_scale() -> None:
    """Shops size their packages to what buyers order: cheap first packages mean small orders."""
    def shop(site: str, entry_usd: float) -> list[ListedOffer]:
        return [ListedOffer(site, i, "package", "instagram", metric, entry_usd * 10 * (i + 1),
                            quantity=100 * (i + 1), product_key=f"instagram/{metric}")
                for metric in ("followers", "likes") for i in range(3)]
    assert package_entry_price(shop("a", 1.0)) is None  # too few products to say
    cheap = package_entry_price(shop("a", 1.0) + shop("b", 1.2) + shop("c", 0.8))
    dear = package_entry_price(shop("a", 30.0) + shop("b", 25.0) + shop("c", 35.0))
    assert cheap == pytest.approx(1.0) and dear == pytest.approx(30.0)
    small, big, unknown = order_size_scale(cheap), order_size_scale(dear), order_size_scale(None)
    assert small.central < 1 < big.central
    assert unknown.central == 1 and unknown.low < 1 < unknown.high
    panel = [ListedOffer("p", 1, "per_1000", "instagram", "followers", 2.0, 10, 1_000_000)]
    assert order_value(panel, small).central < order_value(panel).central < order_value(
        panel, big).central


def test_the_entry_price_is_a_shops_cheapest_first_package() -> None:
    """A shop of dear services starts every product at its smallest sensible quantity: only its
    cheapest product's first package says what buyers order (one such shop once read as a
    market of bulk buyers, x7 on the order value)."""
    tiers = {"likes": 1.15, "followers": 6.9, "comments": 4.6, "subscribers": 10.4,
             "retweets": 9.3, "listeners": 22.0}
    shop = [ListedOffer("dear", i, "package", "instagram", metric, entry * 10 * (k + 1),
                        quantity=100 * (k + 1), product_key=f"instagram/{metric}")
            for i, (metric, entry) in enumerate(tiers.items()) for k in range(3)]
    assert package_entry_price(shop) == pytest.approx(1.15)
    assert order_size_scale(package_entry_price(shop)).central < 0.5


def test_an_orders_counter_outgrowing_its_customers_counter_is_rejected() -> None:
    orders = {f"p{i}": 100.0 * (i + 1) for i in range(5)} | {"inflated": 900.0}
    customers = {f"p{i}": 4.0 * (i + 1) * (1 + 0.05 * i) for i in range(5)} | {
        "inflated": 300 * 0.04}  # its true 300 orders a day shown as 900
    flagged = customers_outliers(orders, customers)
    assert list(flagged) == ["inflated"]
    assert "customers counter" in flagged["inflated"]
    assert customers_outliers(dict(list(orders.items())[:3]), customers) == {}  # too few


def test_chao_mh_follows_the_formula() -> None:
    histories = ([frozenset({"a"})] * 6 + [frozenset({"b"})] * 4
                 + [frozenset({"a", "b"})] * 5 + [frozenset({"a", "b", "c"})] * 2)
    f0, variance = chao_mh(histories, 3)
    assert f0 == pytest.approx(2 / 3 * 10 * 9 / (2 * 6))
    assert variance > 0


def test_jackknife_mh_follows_the_formula() -> None:
    """Burnham and Overton's first-order jackknife: f0 = (t - 1)/t x f1, and its variance
    sum_j a_j^2 f_j - N with a_1 = 1 + (t - 1)/t."""
    histories = ([frozenset({"a"})] * 6 + [frozenset({"b"})] * 4
                 + [frozenset({"a", "b"})] * 5 + [frozenset({"a", "b", "c"})] * 2)
    f0, variance = jackknife_mh(histories, 3)
    assert f0 == pytest.approx(2 / 3 * 10)
    assert variance == pytest.approx((5 / 3) ** 2 * 10 + 7 - (17 + 20 / 3))
    count = count_sellers({f"s{i}": h for i, h in enumerate(histories)})
    assert count.estimate.central == pytest.approx(17 + 20 / 3)
    chao_f0, _ = chao_mh(histories, 3)
    assert count.estimate.low <= 17 + chao_f0 < count.estimate.central  # Chao: a lower bound
