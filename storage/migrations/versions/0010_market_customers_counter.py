"""Market size: sellers valued from their customers counter, counted apart in the daily total.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

A seller whose page shows no usable orders counter but a customers counter ("happy clients") is
now valued from that counter (method ``customers counter``, ``estimates.market``).
``v_market_daily_total`` gains ``sellers_from_customers``, the number of such sellers per day
(``sellers_counted`` stays the sellers with an accepted orders counter reading, ``sellers_imputed``
those valued from other sellers).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIALECT: dict[str, dict[str, str]] = {
    "sqlite": {"num": "CAST({} AS NUMERIC)", "true": "1"},
    "postgresql": {"num": "{}", "true": "true"},
}

_TOTAL = """
SELECT e.day, SUM({orders}) AS orders, SUM({revenue_low}) AS revenue_low,
       SUM({revenue_central}) AS revenue_central, SUM({revenue_high}) AS revenue_high,
       COUNT(*) AS sellers,
       SUM(CASE WHEN e.counter_accepted = {true}
                 AND e.method IN ('counter', 'counter less forwarded orders')
           THEN 1 ELSE 0 END) AS sellers_counted,
       SUM(CASE WHEN e.method = 'imputed' THEN 1 ELSE 0 END) AS sellers_imputed{extra}
FROM market_daily_estimate AS e
GROUP BY e.day
"""
_FROM_CUSTOMERS = """,
       SUM(CASE WHEN e.method = 'customers counter' THEN 1 ELSE 0 END) AS sellers_from_customers"""


def _total_view(extra: str) -> None:
    dialect = _DIALECT[op.get_bind().dialect.name]
    values = {column: dialect["num"].format(f"e.{column}")
              for column in ("orders", "revenue_low", "revenue_central", "revenue_high")}
    op.execute("DROP VIEW IF EXISTS v_market_daily_total")
    op.execute("CREATE VIEW v_market_daily_total AS "
               + _TOTAL.format(true=dialect["true"], extra=extra, **values))


def upgrade() -> None:
    _total_view(_FROM_CUSTOMERS)


def downgrade() -> None:
    _total_view("")
