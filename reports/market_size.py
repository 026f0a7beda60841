"""The market-size report: end-customer spend, orders and sellers over a date range.

The figures come from :mod:`estimates.market` (its docstring is the method); this module reads
the database, runs the estimators, stores the daily series (``market_daily_estimate``, shown by
the ``v_market_daily`` views) and shapes the report. The JSON form is a contract (issue 8)::

    {"from", "to", "currency": "USD",
     "revenue": {"low", "central", "high"}, "revenue_observed": {"low", "central", "high"},
     "orders": {"low", "central", "high"}, "sellers": {"seen", "low", "central", "high"},
     "by_platform": [{"platform", "revenue": {"low", "central", "high"}}],
     "method": "...", "assumptions": ["..."]}

Money is a decimal string with cents; orders and sellers are integers.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Engine, delete, insert

from estimates.data import load_market
from estimates.market import MarketEstimate, daily_series, estimate_market
from estimates.resellers import link_resellers
from estimates.types import Estimate
from storage.db import write_transaction
from storage.models import market_daily_table

CENT = Decimal("0.01")
ORDERS_QUANTUM = Decimal("0.001")


class NoMarketData(ValueError):
    """The range holds nothing to estimate from (no prices or no usable counter)."""


def usd(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _money(estimate: Estimate) -> dict[str, str]:
    return {"low": str(usd(estimate.low)), "central": str(usd(estimate.central)),
            "high": str(usd(estimate.high))}


def _count(estimate: Estimate) -> dict[str, int]:
    return {"low": math.floor(estimate.low), "central": round(estimate.central),
            "high": math.ceil(estimate.high)}


def compute(engine: Engine, *, start: date, end: date, platform: str | None = None
            ) -> MarketEstimate:
    """The estimate for [start, end] from the database (reseller links computed at the end)."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    data = load_market(engine, start, end)
    if not any(data.offers.values()):
        raise NoMarketData(f"no prices stored between {start} and {end}")
    links = [(link.reseller_site_id, link.upstream_site_id)
             for link in link_resellers(engine, at=min(data.end, datetime.now(UTC)))]
    try:
        return estimate_market(data, links=links, platform=platform)
    except ValueError as error:
        raise NoMarketData(str(error)) from error


def to_contract(estimate: MarketEstimate, *, start: date, end: date) -> dict[str, Any]:
    """The JSON contract of the report (see the module docstring)."""
    sellers = estimate.sellers
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "currency": "USD",
        "revenue": _money(estimate.revenue),
        "revenue_observed": _money(estimate.revenue_observed),
        "orders": _count(estimate.orders),
        "sellers": {"seen": sellers.seen, **_count(sellers.estimate)},
        "by_platform": [{"platform": platform, "revenue": _money(value)}
                        for platform, value in estimate.by_platform.items()],
        "method": estimate.method,
        "assumptions": list(estimate.assumptions),
    }


def store_daily(engine: Engine, estimate: MarketEstimate, *, computed_at: datetime) -> int:
    """Replace the daily series of the estimate's days; returns the rows written."""
    rows = daily_series(estimate)
    days = sorted({row.day for row in rows})
    values = [{
        "site_id": row.site_id, "day": row.day,
        "orders": Decimal(repr(float(row.orders))).quantize(ORDERS_QUANTUM),
        "revenue_low": usd(row.revenue_low), "revenue_central": usd(row.revenue_central),
        "revenue_high": usd(row.revenue_high), "method": row.method,
        "counter_accepted": row.counter_accepted, "reason": row.reason,
        "computed_at": computed_at,
    } for row in rows]
    with write_transaction(engine) as connection:
        if days:
            connection.execute(delete(market_daily_table)
                               .where(market_daily_table.c.day.in_(days)))
        if values:
            connection.execute(insert(market_daily_table), values)
    return len(values)


def market_size(engine: Engine, *, start: date, end: date, platform: str | None = None,
                store: bool = True, now: datetime | None = None) -> dict[str, Any]:
    """Compute, store the daily series (whole market, not one platform) and return the
    contract."""
    estimate = compute(engine, start=start, end=end, platform=platform)
    if store and platform is None:
        store_daily(engine, estimate, computed_at=now or datetime.now(UTC))
    return to_contract(estimate, start=start, end=end)


def summary_rows(estimate: MarketEstimate) -> list[tuple[str, str, str, str]]:
    """Rows of the terminal table: what, low, central, high."""
    def money(value: Estimate) -> tuple[str, str, str]:
        return (f"{usd(value.low):,}", f"{usd(value.central):,}", f"{usd(value.high):,}")

    def count(value: Estimate) -> tuple[str, str, str]:
        c = _count(value)
        return (f"{c['low']:,}", f"{c['central']:,}", f"{c['high']:,}")

    rows = [("revenue (USD, whole market)", *money(estimate.revenue)),
            ("  observed (orders / customers counters)", *money(estimate.revenue_observed)),
            ("  imputed (seen, no counter)", *money(estimate.revenue_imputed)),
            ("  unseen sellers", *money(estimate.revenue_unseen)),
            ("orders", *count(estimate.orders)),
            (f"sellers (seen {estimate.sellers.seen})", *count(estimate.sellers.estimate))]
    rows += [(f"  {platform}", *money(value)) for platform, value in estimate.by_platform.items()]
    return rows
