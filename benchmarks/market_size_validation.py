"""The market-size report against the simulator's truth, over seeded markets.

    python -m benchmarks.market_size_validation [--other | --more | --fresh] [--seeds 1 2 ...]
        [--days 14] [--ladder] [--json out.json]

For each run: a market with hidden parameters varied (counter coverage, counter distortion,
unseen share, order-size shape, reseller share), a store of daily crawls plus one discovery pass
built by ``simulator.store.build_store`` (the real extractors, pipelines and repository, no
HTTP), then ``reports.market_size.compute`` on that database alone. Only this script reads the
truth (``market.ground_truth()["market"]``), to compare. Prints per seed the hidden parameters,
the true end-customer revenue against the report's low / central / high, the true number of
sellers against seen and estimated, and the goals of issue 8 (truth inside [low, high] in at
least 90 % of runs, central within 25 % in at least 80 %, seller count within 20 % in at least
80 %).

``--ladder`` also prints the *error ladder*: the central revenue again with one more part of
the estimate replaced by the truth at each step (see :data:`LADDER_STEPS`), to show which part
the remaining error comes from and how far any estimator of what a crawl sees could get.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

DAYS = 21
CRAWL_EVERY = 3
"""Crawl days 0, 3, 6, ... 21: seven counter differences per seller, like a crawl every few days."""
N_PANELS = 24
N_SHOPS = 8
CATALOGUE_SCALE = 0.1
SHAPES = ("retail_small", "lognormal", "bulk_heavy")

# Hidden parameters per validation run: coverage 30-90 %, distorted (offset, multiplied, frozen,
# reset) counters in every run, unseen share 10-40 %, each order-size shape, reseller share.
RUNS: tuple[dict[str, Any], ...] = tuple(
    {"seed": seed, "counter_coverage": coverage, "counter_distortion": 0.3,
     "unseen_share": unseen, "order_size_shape": SHAPES[index % 3], "reseller_share": resellers}
    for index, (seed, coverage, unseen, resellers) in enumerate([
        (101, 0.3, 0.1, 0.15), (102, 0.5, 0.2, 0.25), (103, 0.9, 0.4, 0.35),
        (104, 0.6, 0.3, 0.2), (105, 0.4, 0.15, 0.4), (106, 0.7, 0.25, 0.3),
        (107, 0.8, 0.35, 0.15), (108, 0.35, 0.2, 0.25), (109, 0.65, 0.1, 0.35),
        (110, 0.55, 0.3, 0.2), (111, 0.45, 0.4, 0.3), (112, 0.75, 0.15, 0.4),
    ]))

OTHER_RUNS: tuple[dict[str, Any], ...] = tuple(
    {"seed": seed, "counter_coverage": coverage, "counter_distortion": 0.3,
     "unseen_share": unseen, "order_size_shape": SHAPES[index % 3], "reseller_share": resellers}
    for index, (seed, coverage, unseen, resellers) in enumerate([
        (201, 0.4, 0.3, 0.2), (202, 0.85, 0.15, 0.3), (203, 0.5, 0.35, 0.25),
        (204, 0.3, 0.25, 0.4), (205, 0.7, 0.4, 0.15), (206, 0.6, 0.1, 0.35),
    ]))
"""Held-out markets (``--other``): never used to choose a method or a constant; they check that
the estimators are not fitted to the test suite's seeds."""


def _drawn_runs(rows: list[tuple[int, float, float, float, str, float]]
                ) -> tuple[dict[str, Any], ...]:
    """Runs from (seed, coverage, distortion, unseen share, order-size shape, reseller share)."""
    return tuple(
        {"seed": seed, "counter_coverage": coverage, "counter_distortion": distortion,
         "unseen_share": unseen, "order_size_shape": shape, "reseller_share": resellers}
        for seed, coverage, distortion, unseen, shape, resellers in rows)


MORE_RUNS: tuple[dict[str, Any], ...] = _drawn_runs([
    (301, 0.82, 0.28, 0.11, "lognormal", 0.25), (302, 0.49, 0.24, 0.25, "bulk_heavy", 0.35),
    (303, 0.39, 0.31, 0.3, "retail_small", 0.18), (304, 0.38, 0.23, 0.2, "lognormal", 0.19),
    (305, 0.44, 0.34, 0.3, "bulk_heavy", 0.21), (306, 0.57, 0.38, 0.2, "retail_small", 0.23),
    (307, 0.4, 0.27, 0.21, "lognormal", 0.25), (308, 0.49, 0.26, 0.15, "bulk_heavy", 0.3),
    (309, 0.59, 0.29, 0.34, "retail_small", 0.33), (310, 0.59, 0.23, 0.28, "lognormal", 0.38),
    (311, 0.59, 0.38, 0.36, "bulk_heavy", 0.33), (312, 0.8, 0.33, 0.24, "retail_small", 0.21),
])
"""More held-out markets (``--more``), knobs drawn at random once (counter distortion varied
too): a second check, on markets no estimator change was tried on before it was made."""

FRESH_RUNS: tuple[dict[str, Any], ...] = _drawn_runs([
    (401, 0.83, 0.21, 0.15, "retail_small", 0.22), (402, 0.35, 0.38, 0.14, "lognormal", 0.17),
    (403, 0.62, 0.38, 0.31, "bulk_heavy", 0.32), (404, 0.75, 0.26, 0.27, "retail_small", 0.29),
    (405, 0.62, 0.33, 0.11, "lognormal", 0.34), (406, 0.58, 0.4, 0.1, "bulk_heavy", 0.37),
    (407, 0.56, 0.26, 0.34, "retail_small", 0.21), (408, 0.82, 0.38, 0.23, "lognormal", 0.18),
    (409, 0.56, 0.22, 0.19, "bulk_heavy", 0.17), (410, 0.5, 0.23, 0.32, "retail_small", 0.34),
    (411, 0.58, 0.38, 0.12, "lognormal", 0.35), (412, 0.31, 0.28, 0.12, "bulk_heavy", 0.15),
    (413, 0.66, 0.3, 0.14, "retail_small", 0.25), (414, 0.67, 0.38, 0.39, "lognormal", 0.32),
    (415, 0.48, 0.31, 0.12, "bulk_heavy", 0.16), (416, 0.38, 0.34, 0.32, "retail_small", 0.2),
    (417, 0.79, 0.24, 0.33, "lognormal", 0.3), (418, 0.41, 0.32, 0.14, "bulk_heavy", 0.36),
    (419, 0.5, 0.32, 0.36, "retail_small", 0.25), (420, 0.81, 0.38, 0.25, "lognormal", 0.2),
    (421, 0.51, 0.25, 0.38, "bulk_heavy", 0.3), (422, 0.34, 0.32, 0.24, "retail_small", 0.39),
    (423, 0.8, 0.23, 0.2, "lognormal", 0.17), (424, 0.58, 0.38, 0.14, "bulk_heavy", 0.16),
])
"""Fresh held-out markets (``--fresh``, 2026-12-03), knobs drawn at random (seeded) after the
estimators of that day were designed: 8 per order-size shape. The customers-counter reading was
measured on them once, against the estimators before it, and nothing was tuned on them."""


@dataclass(frozen=True)
class ValidationRow:
    seed: int
    counter_coverage: float
    counter_distortion: float
    unseen_share: float
    order_size_shape: str
    reseller_share: float
    true_revenue: Decimal
    low: Decimal
    central: Decimal
    high: Decimal
    true_sellers: int
    seen: int
    sellers_low: int
    sellers_central: int
    sellers_high: int
    seconds: float
    ladder: tuple[float, ...] = ()
    """Central revenue error at each step of :data:`LADDER_STEPS` (the first is the report's)."""
    order_ratios: tuple[tuple[str, float], ...] = ()
    """Per seen seller with true orders: ("method (kind)", estimated / true own orders)."""

    @property
    def covered(self) -> bool:
        return self.low <= self.true_revenue <= self.high

    @property
    def central_error(self) -> float:
        return float(self.central / self.true_revenue - 1) if self.true_revenue else float("inf")

    @property
    def sellers_error(self) -> float:
        return self.sellers_central / self.true_sellers - 1


def true_revenue(truth: dict[str, Any], start: date, end: date,
                 platform: str | None = None) -> Decimal:
    """End-customer revenue of the truth's ``market.daily`` over [start, end]."""
    return sum((Decimal(row["end_customer_revenue_usd"]) for row in truth["market"]["daily"]
                if start.isoformat() <= row["date"] <= end.isoformat()
                and (platform is None or row["platform"] == platform)), Decimal(0))


LADDER_STEPS: tuple[str, ...] = (
    "the report",
    "sellers read from a counter (orders or customers): own orders from the truth",
    "every seen seller's own orders from the truth",
    "and panels at the simulator's expected order value",
    "every seen seller's revenue from the truth",
    "orders as estimated, every seen seller at its true order value",
    "as step 3, without the simulator's platform demand weights",
)
"""Steps 1 to 4 each keep the previous steps' substitutions; step 5 goes the other way (only the
order values from the truth: what the orders estimate alone misses). Step 3 values each panel's
true orders at the expectation of the simulator's own draws given the panel's listed offers and
the hidden order-size shape (:func:`simulator.generation.expected_order_usd`): the best that any
model of listed prices could know; what it still misses is which services buyers happened to
favour. Step 6 is step 3 with every platform weighing the same (the simulator's demand weights
per platform have no published basis, so no estimator uses them: step 6 is what a model without
them could reach). What step 4 misses is the unseen sellers' revenue alone."""


def true_seller_totals(truth: dict[str, Any], start: date, end: date
                       ) -> dict[str, tuple[int, float]]:
    """seller -> (own end-customer orders, their revenue in USD) over [start, end], from the
    truth's per-seller daily records (a panel's forwarded orders are not its own)."""
    fx = truth["fx_usd_per_unit"]
    totals: dict[str, tuple[int, float]] = {}
    for record in (*truth["sites"].values(), *truth["shops"].values()):
        orders, revenue = 0, 0.0
        for iso, day in record["orders"].items():
            if start.isoformat() <= iso <= end.isoformat():
                orders += day["orders"]
                revenue += float(day["revenue"]) * float(fx[iso][record["currency"]])
        totals[record["id"]] = (orders, revenue)
    return totals


def expected_panel_order_values(offers: dict[str, list[Any]], shape: str, *,
                                platform_weights: bool = True) -> dict[str, float]:
    """seller -> the simulator's expected USD per order given its listed offers (per 1000 and
    package services; a panel's only kinds), with or without its platform demand weights."""
    from simulator.generation import expected_order_usd

    values: dict[str, float] = {}
    for site, listed in offers.items():
        spend = weight = 0.0
        for offer in listed:
            if offer.usd_per_1000 <= 0 or (offer.pricing == "package" and not offer.quantity):
                continue
            usd, share = expected_order_usd(
                pricing=offer.pricing, platform=offer.platform, metric=offer.metric,
                usd_per_1000=offer.usd_per_1000, min_quantity=offer.min_quantity,
                max_quantity=offer.max_quantity, shape=shape, quantity=offer.quantity,
                platform_weights=platform_weights)
            spend += usd * share
            weight += share
        if weight:
            values[site] = spend / weight
    return values


def error_ladder(estimate: Any, sellers: dict[str, tuple[int, float]], true_total: float,
                 expected_values: dict[str, float], unweighted_values: dict[str, float]
                 ) -> tuple[float, ...]:
    """Central revenue error at each step of :data:`LADDER_STEPS` (a pure function).

    ``estimate``: the report's :class:`estimates.market.MarketEstimate`; ``sellers``: the
    truth's (orders, revenue USD) per seller; ``expected_values`` / ``unweighted_values``: per
    panel, the simulator's expected order value with / without its platform demand weights
    (:func:`expected_panel_order_values`)."""
    if true_total <= 0:
        raise ValueError("the truth has no revenue in the range")
    days = (estimate.end - estimate.start).total_seconds() / 86400
    unseen = estimate.revenue_unseen.central
    steps = [estimate.revenue.central]
    for step in range(1, len(LADDER_STEPS)):
        total = unseen
        for seller in estimate.sellers_detail:
            true_orders, true_revenue_usd = sellers.get(seller.site_id, (0, 0.0))
            estimated_orders = seller.orders_per_day.central * days
            value = seller.order_value.central
            if step == 1:
                orders = estimated_orders if seller.method == "imputed" else true_orders
                total += orders * value
            elif step == 2 or (step in (3, 6) and seller.kind != "panel"):
                total += true_orders * value
            elif step in (3, 6):
                table = expected_values if step == 3 else unweighted_values
                total += true_orders * table.get(seller.site_id, value)
            elif step == 4:
                total += true_revenue_usd
            else:
                true_value = true_revenue_usd / true_orders if true_orders else value
                total += estimated_orders * true_value
        steps.append(total)
    return tuple(value / true_total - 1 for value in steps)


def build(run: dict[str, Any], database_url: str, *, days: int = DAYS,
          crawl_every: int = CRAWL_EVERY) -> tuple[Any, date, date]:
    """Build the store of one run; returns (market, first day, last day) of the counted days."""
    from simulator import Market
    from simulator.store import build_store

    knobs = {key: value for key, value in run.items() if key != "seed"}
    market = Market(run["seed"], n_panels=N_PANELS, n_shops=N_SHOPS,
                    catalogue_scale=CATALOGUE_SCALE, **knobs)
    start = market.today
    build_store(market, database_url, days=days, crawl_every=crawl_every)
    return market, start, start + timedelta(days=days - 1)


def validate_run(run: dict[str, Any], workdir: Path, *, days: int = DAYS) -> ValidationRow:
    from estimates.data import load_market
    from reports.market_size import compute
    from storage.db import get_engine

    started = time.monotonic()
    database_url = "sqlite:///" + str(workdir / f"market-{run['seed']}.db")
    market, start, end = build(run, database_url, days=days)
    engine = get_engine(database_url)
    try:
        estimate = compute(engine, start=start, end=end)
        offers = load_market(engine, start, end).offers
    finally:
        engine.dispose()
    truth = market.ground_truth()
    hidden = truth.get("hidden", {})
    shape = hidden.get("order_size_shape", run["order_size_shape"])
    total = true_revenue(truth, start, end)
    sellers = true_seller_totals(truth, start, end)
    ladder = error_ladder(
        estimate, sellers, float(total), expected_panel_order_values(offers, shape),
        expected_panel_order_values(offers, shape, platform_weights=False))
    range_days = (estimate.end - estimate.start).total_seconds() / 86400
    order_ratios = tuple(
        (f"{seller.method} ({seller.kind})",
         seller.orders_per_day.central * range_days / sellers[seller.site_id][0])
        for seller in estimate.sellers_detail if sellers.get(seller.site_id, (0, 0.0))[0] > 0)
    cent = Decimal("0.01")
    return ValidationRow(
        seed=run["seed"], counter_coverage=run["counter_coverage"],
        counter_distortion=run["counter_distortion"], unseen_share=run["unseen_share"],
        order_size_shape=shape,
        reseller_share=round(float(hidden.get("reseller_share", run["reseller_share"])), 2),
        true_revenue=total.quantize(cent),
        low=Decimal(repr(estimate.revenue.low)).quantize(cent),
        central=Decimal(repr(estimate.revenue.central)).quantize(cent),
        high=Decimal(repr(estimate.revenue.high)).quantize(cent),
        true_sellers=truth["market"]["sellers"]["total"], seen=estimate.sellers.seen,
        sellers_low=int(estimate.sellers.estimate.low),
        sellers_central=round(estimate.sellers.estimate.central),
        sellers_high=int(estimate.sellers.estimate.high + 0.999),
        seconds=round(time.monotonic() - started, 1), ladder=ladder, order_ratios=order_ratios)


def goals(rows: list[ValidationRow]) -> dict[str, float]:
    n = len(rows)
    return {
        "runs": n,
        "revenue_covered": sum(r.covered for r in rows) / n,
        "central_within_25pct": sum(abs(r.central_error) <= 0.25 for r in rows) / n,
        "sellers_within_20pct": sum(abs(r.sellers_error) <= 0.20 for r in rows) / n,
        "median_width": statistics.median(float(r.high / r.low) if r.low > 0 else math.inf
                                          for r in rows),
    }


def table(rows: list[ValidationRow]) -> str:
    header = (f"{'seed':>4} {'cov':>4} {'dist':>4} {'unseen':>6} {'shape':<12} {'resell':>6} "
              f"{'true revenue':>13} {'low':>13} {'central':>13} {'high':>13} {'err':>6} {'in':>3} "
              f"{'sellers':>7} {'seen':>4} {'est':>4} {'[low-high]':>10} {'err':>6}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.seed:>4} {r.counter_coverage:>4.2f} {r.counter_distortion:>4.2f} "
            f"{r.unseen_share:>6.2f} {r.order_size_shape:<12} {r.reseller_share:>6.2f} "
            f"{r.true_revenue:>13,.0f} {r.low:>13,.0f} {r.central:>13,.0f} {r.high:>13,.0f} "
            f"{r.central_error:>+6.0%} {'yes' if r.covered else 'NO':>3} "
            f"{r.true_sellers:>7} {r.seen:>4} {r.sellers_central:>4} "
            f"{f'{r.sellers_low}-{r.sellers_high}':>10} {r.sellers_error:>+6.0%}")
    g = goals(rows)
    lines.append("")
    lines.append(f"true revenue inside [low, high]: {g['revenue_covered']:.0%} of {g['runs']} runs "
                 "(goal >= 90 %)")
    lines.append(f"central within 25 %: {g['central_within_25pct']:.0%} (goal >= 80 %)")
    lines.append(f"seller count within 20 %: {g['sellers_within_20pct']:.0%} (goal >= 80 %)")
    lines.append(f"interval width: high / low x{g['median_width']:.0f} in the median run")
    return "\n".join(lines)


def ladder_table(rows: list[ValidationRow]) -> str:
    """The error ladder per run, and per step the runs whose central is within 25 %."""
    lines = ["error ladder: central revenue error with more of the estimate replaced by the truth",
             *(f"  step {k}: {step}" for k, step in enumerate(LADDER_STEPS)),
             f"{'seed':>4} {'shape':<12} " + " ".join(f"{f'step {k}':>7}"
                                                      for k in range(len(LADDER_STEPS)))]
    for r in rows:
        lines.append(f"{r.seed:>4} {r.order_size_shape:<12} "
                     + " ".join(f"{error:>+7.0%}" for error in r.ladder))
    lines.append("within 25 %:       " + " ".join(
        f"{f'{sum(abs(r.ladder[k]) <= 0.25 for r in rows)}/{len(rows)}':>7}"
        for k in range(len(LADDER_STEPS))))
    by_method: dict[str, list[float]] = {}
    for r in rows:
        for method, ratio in r.order_ratios:
            by_method.setdefault(method, []).append(ratio)
    lines.append("")
    lines.append("estimated / true own orders per seen seller, by how its orders were found:")
    for method, ratios in sorted(by_method.items()):
        deciles = statistics.quantiles(ratios, n=10) if len(ratios) > 1 else ratios
        low, median, high = deciles[0], statistics.median(ratios), deciles[-1]
        within = sum(0.8 <= ratio <= 1.25 for ratio in ratios)
        lines.append(f"  {method:<45} {len(ratios):>4} sellers, median {median:.3f}, "
                     f"10-90 % {low:.2f}-{high:.2f}, within 25 % {within}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="*", help="run only these seeds of RUNS")
    parser.add_argument("--other", action="store_true",
                        help="run the held-out markets (seeds 201-206) instead of the suite's")
    parser.add_argument("--more", action="store_true",
                        help="run the further held-out markets (seeds 301-312)")
    parser.add_argument("--fresh", action="store_true",
                        help="run the fresh held-out markets (seeds 401-424)")
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--ladder", action="store_true",
                        help="also print the error ladder (parts of the estimate replaced by "
                             "the truth, step by step)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    chosen = (FRESH_RUNS if args.fresh else MORE_RUNS if args.more
              else OTHER_RUNS if args.other else RUNS)
    runs = [run for run in chosen if not args.seeds or run["seed"] in args.seeds]
    rows = []
    with tempfile.TemporaryDirectory(prefix="market-validation-") as workdir:
        for run in runs:
            row = validate_run(run, Path(workdir), days=args.days)
            rows.append(row)
            print(f"seed {row.seed}: {row.seconds:.0f} s", file=sys.stderr, flush=True)
    print(table(rows))
    if args.ladder:
        print()
        print(ladder_table(rows))
    if args.json:
        args.json.write_text(json.dumps(
            {"rows": [{**asdict(r), "covered": r.covered} for r in rows], "goals": goals(rows)},
            indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
