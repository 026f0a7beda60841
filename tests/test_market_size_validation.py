"""The market-size report against the simulator's ground truth (issue 8, item 5).

Twelve seeded markets with the hidden parameters varied (counter coverage 30-90 %, distorted
counters in every run: offsets, multipliers, frozen and reset counters; unseen share 10-40 %;
each order-size shape; reseller share 15-40 %) are stored by ``simulator.store.build_store``
(real extractors, pipelines and repository, no HTTP); the report reads only the database and
is compared with the truth. One more run goes through real crawls of the simulator over HTTP.
``python -m benchmarks.market_size_validation`` prints the same table.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from benchmarks.market_size_validation import (
    LADDER_STEPS,
    RUNS,
    SHAPES,
    ValidationRow,
    goals,
    ladder_table,
    table,
    true_revenue,
    validate_run,
)
from reports.market_size import compute
from simulator import Market
from simulator.store import build_store
from storage.db import get_engine


@pytest.fixture(scope="module")
def validation_rows(tmp_path_factory: pytest.TempPathFactory) -> list[ValidationRow]:
    workdir = tmp_path_factory.mktemp("market-validation")
    rows = [validate_run(run, workdir) for run in RUNS]
    print("\n" + table(rows) + "\n\n" + ladder_table(rows))
    return rows


def test_the_runs_vary_every_hidden_parameter() -> None:
    assert len(RUNS) >= 10
    coverages = [run["counter_coverage"] for run in RUNS]
    unseen = [run["unseen_share"] for run in RUNS]
    assert min(coverages) <= 0.3 and max(coverages) >= 0.9
    assert min(unseen) <= 0.1 and max(unseen) >= 0.4
    assert {run["order_size_shape"] for run in RUNS} == set(SHAPES)
    assert all(run["counter_distortion"] > 0 for run in RUNS)
    assert len({run["reseller_share"] for run in RUNS}) >= 3


def test_true_revenue_is_inside_the_interval_in_90_percent_of_runs(
        validation_rows: list[ValidationRow]) -> None:
    assert goals(validation_rows)["revenue_covered"] >= 0.9, table(validation_rows)


# The goal for the central revenue is not met (issue 8): today 6 of 12 runs have it
# within 25 % (5 of 6 held-out runs, ``--other``; 10 of 12, ``--more``; 8 of 24 fresh markets,
# ``--fresh``). The error ladder (``--ladder``) shows why 80 % is out of reach for estimators of
# what a crawl sees: even with every seen seller's true orders and each panel valued at the
# simulator's own expected order value given its listing and the hidden order-size shape, 42 of
# the 54 runs are within 25 % (78 %); with the true order values and the orders as estimated,
# 36 of 54 (67 %).
# What is left is noise the crawl cannot see: which services buyers favour (heavy-tailed
# popularity), heavy-tailed volumes of sellers without any counter, inflated orders counters
# without a customers counter, unseen sellers (seed 103: 22 of 32 unseen, no shop seen to tell
# the order sizes). The goal test is a strict xfail: the day a change meets it, it fails as
# XPASS, and the mark goes. The floor below keeps what is reached from sliding back meanwhile.
@pytest.mark.xfail(strict=True, reason="issue 8 goal not met: central revenue within 25 % "
                   "in 6 of 12 runs (5 of 6 held-out, 10 of 12 more, 8 of 24 fresh), the goal "
                   "is 80 %")
def test_central_revenue_is_within_25_percent_in_80_percent_of_runs(
        validation_rows: list[ValidationRow]) -> None:
    assert goals(validation_rows)["central_within_25pct"] >= 0.8, table(validation_rows)


def test_seller_count_is_within_20_percent_in_80_percent_of_runs(
        validation_rows: list[ValidationRow]) -> None:
    """10 of 12 runs (5 of 6 held-out, ``--other``): seed 103 sees 10 of 32 sellers (unseen
    share 0.4), seed 104 is 21 % low; seed 110 (two sources) is 19 % low, near the edge."""
    assert goals(validation_rows)["sellers_within_20pct"] >= 0.8, table(validation_rows)


def test_the_error_ladder_starts_at_the_report_and_ends_near_the_truth(
        validation_rows: list[ValidationRow]) -> None:
    """Step 0 is the report's own error; with every seen seller's revenue from the truth (step
    4) only the unseen sellers' estimate is left, which is within 25 % in most runs."""
    for row in validation_rows:
        assert len(row.ladder) == len(LADDER_STEPS)
        assert row.ladder[0] == pytest.approx(row.central_error, abs=1e-6)
        assert row.order_ratios and all(ratio > 0 for _, ratio in row.order_ratios)
        assert {method.split(" (")[0] for method, _ in row.order_ratios} <= {
            "counter", "counter less forwarded orders", "customers counter", "imputed"}
    assert sum(abs(row.ladder[4]) <= 0.25 for row in validation_rows) >= 10, \
        ladder_table(validation_rows)


def test_central_figures_keep_what_is_reached(validation_rows: list[ValidationRow]) -> None:
    reached = goals(validation_rows)
    assert reached["central_within_25pct"] >= 6 / 12, table(validation_rows)


def test_the_estimates_never_read_the_truth() -> None:
    """The estimators import nothing of the simulator, the benchmarks or the tests, and never
    ask for the ground truth: what they know comes from the database."""
    forbidden = re.compile(r"^\s*(from|import)\s+(simulator|benchmarks|tests)\b|ground_truth",
                           re.M)
    for path in (Path(__file__).resolve().parents[1] / "estimates").glob("*.py"):
        assert not forbidden.search(path.read_text(encoding="utf-8")), path


def test_summing_counters_over_reseller_chains_over_counts_while_the_report_does_not(
        tmp_path: Path) -> None:
    """Every panel shows an honest counter here, so the only error left is double counting: a
    reseller's orders are in its own counter and again in its upstream's."""
    market = Market(7, n_panels=10, n_shops=0, counter_coverage=1.0, counter_distortion=0.0,
                    unseen_share=0.0, reseller_share=0.4, catalogue_scale=0.1)
    start = market.today
    database_url = f"sqlite:///{tmp_path / 'chain.db'}"
    build_store(market, database_url, days=7)
    end = start + timedelta(days=6)
    truth = market.ground_truth()
    true_orders = sum(row["orders"] for row in truth["market"]["daily"]
                      if start.isoformat() <= row["date"] <= end.isoformat())
    resellers = [s for s, site in truth["sites"].items() if site["kind"] == "reseller"]
    assert resellers, "the market must have reseller chains"
    engine = get_engine(database_url)
    try:
        with engine.connect() as connection:
            summed = connection.execute(text(
                "SELECT SUM(delta) FROM v_counter_deltas WHERE name = 'orders'")).scalar_one()
        estimate = compute(engine, start=start, end=end)
    finally:
        engine.dispose()
    assert summed > true_orders * 1.03  # the chains' orders counted twice
    seen_orders = sum(d.orders_per_day.central for d in estimate.sellers_detail) * 7
    assert seen_orders == pytest.approx(true_orders, rel=0.03)  # every seller is seen here
    assert estimate.orders.low <= true_orders <= estimate.orders.high
    revenue = true_revenue(truth, start, end)
    assert Decimal(repr(estimate.revenue.low)) <= revenue <= Decimal(repr(estimate.revenue.high))


def test_one_run_through_real_crawls_holds_the_truth(tmp_path: Path) -> None:
    """Real crawls over HTTP (child processes, Scrapy, the simulator's server): four daily
    crawls of a market with hidden counters, distorted ones and resellers."""
    import os

    from clickfarm.demo import export_sites_file
    from simulator import SimulatorServer
    from storage.db import migrate
    from tests.simulated import SimulatedSetup

    market = Market(11, n_panels=6, n_shops=0, counter_coverage=0.7, counter_distortion=0.3,
                    unseen_share=0.0, reseller_share=0.3, catalogue_scale=0.1)
    server = SimulatorServer(market).start()
    try:
        os.environ["CLICKFARM_SIM_URL"] = server.base_url
        os.environ.update(market.api_key_env())
        sites_path = tmp_path / "sites.yaml"
        export_sites_file(market, sites_path)
        database_url = f"sqlite:///{tmp_path / 'crawled.db'}"
        engine = get_engine(database_url)
        migrate(engine)
        setup = SimulatedSetup(market, server, sites_path, database_url, engine)
        start = market.today
        for day in range(4):
            runs = setup.crawl()
            assert {run["status"] for run in runs} <= {"succeeded", "partial"}, runs
            if day < 3:
                market.advance(1)
        end = start + timedelta(days=2)
        estimate = compute(engine, start=start, end=end)
        truth = market.ground_truth()
    finally:
        server.stop()
    revenue = true_revenue(truth, start, end)
    assert Decimal(repr(estimate.revenue.low)) <= revenue <= Decimal(repr(estimate.revenue.high))
    assert estimate.sellers.seen == len(market.sites)
    shown = [s for s, site in truth["sites"].items() if site["counter_claim"]["shown"]]
    by_method: dict[str, set[str]] = {}
    for detail in estimate.sellers_detail:
        by_method.setdefault(detail.method, set()).add(detail.site_id)
    # orders read from a page's orders counter only where the page shows one; from a customers
    # counter only where the page shows that
    assert by_method.get("counter", set()) | by_method.get(
        "counter less forwarded orders", set()) <= set(shown)
    showing_customers = {s for s, site in market.sites.items() if site.page_style.show_customers}
    assert by_method.get("customers counter", set()) <= showing_customers
