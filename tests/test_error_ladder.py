"""The error ladder of the market-size validation (``--ladder``): the central revenue again with
parts of the estimate replaced by the truth, and the simulator's expected order value it uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from benchmarks.market_size_validation import LADDER_STEPS, error_ladder
from estimates.market import MarketEstimate, SellerEstimate
from estimates.sellers import SellerCount
from estimates.types import Estimate
from simulator.generation import expected_order_usd


def _seller(site_id: str, kind: str, method: str, orders_per_day: float, value: float
            ) -> SellerEstimate:
    return SellerEstimate(
        site_id=site_id, kind=kind, method=method, counter_reason=None, offers=10,
        orders_per_day=Estimate(orders_per_day, orders_per_day, orders_per_day),
        order_value=Estimate(value, value, value),
        revenue=Estimate(0.0, orders_per_day * 10 * value, 10 ** 9),
        platform_value_share={}, platform_order_share={}, listed_by=1)


def _estimate(central: float, unseen: float, *sellers: SellerEstimate) -> MarketEstimate:
    zero = Estimate(0.0, 0.0, 0.0)
    return MarketEstimate(
        start=datetime(2026, 9, 1, tzinfo=UTC), end=datetime(2026, 9, 11, tzinfo=UTC),
        revenue=Estimate(0.0, central, 10 ** 9), revenue_observed=zero, revenue_imputed=zero,
        revenue_unseen=Estimate(0.0, unseen, unseen), orders=zero,
        sellers=SellerCount(len(sellers), zero, zero, (), ""), by_platform={},
        sellers_detail=sellers, counters={})


def test_each_step_replaces_one_more_part_by_the_truth() -> None:
    # ten days; a counted panel (20/day estimated at $5), an imputed panel (10/day at $2) and an
    # imputed shop (5/day at $8); 400 USD of unseen sellers estimated
    estimate = _estimate(
        2_600.0, 400.0,
        _seller("panel-a", "panel", "counter", 20.0, 5.0),
        _seller("panel-b", "panel", "imputed", 10.0, 2.0),
        _seller("shop-a", "shop", "imputed", 5.0, 8.0))
    truth = {"panel-a": (150, 900.0), "panel-b": (300, 450.0), "shop-a": (40, 240.0)}
    expected_values = {"panel-a": 4.0, "panel-b": 1.0}
    unweighted_values = {"panel-a": 4.5, "panel-b": 1.5}
    true_total = 2_000.0
    totals = [
        2_600.0,                                        # the report
        400 + 150 * 5 + 10 * 10 * 2 + 5 * 10 * 8,       # counted panel's true orders
        400 + 150 * 5 + 300 * 2 + 40 * 8,               # every seen seller's true orders
        400 + 150 * 4 + 300 * 1 + 40 * 8,               # panels at the expected order value
        400 + 900 + 450 + 240,                          # seen revenue from the truth
        400 + 200 * 6 + 100 * 1.5 + 50 * 6,             # estimated orders x true order values
        400 + 150 * 4.5 + 300 * 1.5 + 40 * 8,           # as step 3, no platform weights
    ]
    ladder = error_ladder(estimate, truth, true_total, expected_values, unweighted_values)
    assert len(ladder) == len(LADDER_STEPS) == len(totals)
    assert ladder == pytest.approx([total / true_total - 1 for total in totals])


def test_a_seller_the_truth_gives_no_orders_keeps_its_estimated_value() -> None:
    estimate = _estimate(100.0, 0.0, _seller("panel-a", "panel", "counter", 1.0, 10.0))
    ladder = error_ladder(estimate, {"panel-a": (0, 0.0)}, 50.0, {}, {})
    assert ladder[5] == pytest.approx(1.0)  # 10 orders x $10 against $50
    assert ladder[2] == pytest.approx(-1.0)


def test_a_truth_without_revenue_is_refused() -> None:
    estimate = _estimate(100.0, 0.0, _seller("panel-a", "panel", "counter", 1.0, 10.0))
    with pytest.raises(ValueError, match="no revenue"):
        error_ladder(estimate, {}, 0.0, {}, {})


@pytest.mark.parametrize(("metric", "usd_per_1000", "low", "high"), [
    ("followers", 1.2, 100, 100_000),
    ("views", 0.05, 500, 10_000_000),
    ("comments", 40.0, 10, 1_000),
    ("subscribers", 25.0, 50, 50_000),
])
def test_the_expected_order_grows_from_small_retail_orders_to_bulk_buyers(
        metric: str, usd_per_1000: float, low: int, high: int) -> None:
    values = {}
    for shape in ("retail_small", "lognormal", "bulk_heavy"):
        usd, popularity = expected_order_usd(
            pricing="per_1000", platform="instagram", metric=metric, usd_per_1000=usd_per_1000,
            min_quantity=low, max_quantity=high, shape=shape)
        assert usd_per_1000 * low / 1000 <= usd <= usd_per_1000 * high / 1000
        assert 0 < popularity <= 2.0
        values[shape] = usd
    assert values["retail_small"] < values["lognormal"] < values["bulk_heavy"]


def test_a_fixed_quantity_costs_its_price_and_dear_services_are_ordered_less() -> None:
    fixed, _ = expected_order_usd(pricing="per_1000", platform="youtube", metric="views",
                                  usd_per_1000=2.0, min_quantity=1000, max_quantity=1000,
                                  shape="lognormal")
    assert fixed == pytest.approx(2.0)
    _, cheap = expected_order_usd(pricing="per_1000", platform="x", metric="likes",
                                  usd_per_1000=1.0, min_quantity=10, max_quantity=1000,
                                  shape="lognormal")
    _, dear = expected_order_usd(pricing="per_1000", platform="x", metric="likes",
                                 usd_per_1000=90.0, min_quantity=10, max_quantity=1000,
                                 shape="lognormal")
    assert dear < cheap
    _, youtube = expected_order_usd(pricing="per_1000", platform="youtube", metric="views",
                                    usd_per_1000=2.0, min_quantity=100, max_quantity=10_000,
                                    shape="lognormal")
    _, unweighted = expected_order_usd(pricing="per_1000", platform="youtube", metric="views",
                                       usd_per_1000=2.0, min_quantity=100, max_quantity=10_000,
                                       shape="lognormal", platform_weights=False)
    assert (youtube, unweighted) == pytest.approx((1.5, 1.0))  # sqrt(10 / 2) > 1: no damping


def test_a_package_service_sells_one_to_three_packages_an_order() -> None:
    # 5000 units at $2 per 1000: a $10 package; orders of 1, 2 or 3 packages (weights .85,
    # .10, .05): $12 an order on average, whatever the market's order-size shape
    for shape in ("retail_small", "lognormal", "bulk_heavy"):
        usd, _ = expected_order_usd(pricing="package", platform="instagram", metric="likes",
                                    usd_per_1000=2.0, min_quantity=1, max_quantity=1,
                                    shape=shape, quantity=5000)
        assert usd == pytest.approx(12.0)
    with pytest.raises(ValueError, match="quantity"):
        expected_order_usd(pricing="package", platform="x", metric="likes", usd_per_1000=1.0,
                           min_quantity=1, max_quantity=1, shape="lognormal")
    with pytest.raises(ValueError, match="no order-size table"):
        expected_order_usd(pricing="per_1000", platform="x", metric="likes", usd_per_1000=0.0,
                           min_quantity=1, max_quantity=10, shape="lognormal")
