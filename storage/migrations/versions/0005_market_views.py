"""Market size: the daily series of estimated orders and revenue per seller, and its views.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

``market_daily_estimate`` holds, per seller and day, the end-customer orders and revenue
(low / central / high, USD) computed by ``estimates.market`` (written by ``clickfarm report
market-size``; a new computation replaces the rows of its days), with the method and whether the
counter reading of that day was accepted (and why not). Views:

- ``v_market_daily``: that series with the seller's URL and family;
- ``v_market_daily_total``: per day, orders and revenue summed over sellers, with the number of
  sellers counted from an accepted counter reading and the number imputed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_DIALECT: dict[str, dict[str, str]] = {
    "sqlite": {"num": "CAST({} AS NUMERIC)", "true": "1"},
    "postgresql": {"num": "{}", "true": "true"},
}

_DAILY = """
SELECT e.site_id, s.url AS site_url, s.family AS site_family, e.day, {orders} AS orders,
       {revenue_low} AS revenue_low, {revenue_central} AS revenue_central,
       {revenue_high} AS revenue_high, e.method, e.counter_accepted, e.reason, e.computed_at
FROM market_daily_estimate AS e
JOIN site AS s ON s.id = e.site_id
"""

_TOTAL = """
SELECT e.day, SUM({orders}) AS orders, SUM({revenue_low}) AS revenue_low,
       SUM({revenue_central}) AS revenue_central, SUM({revenue_high}) AS revenue_high,
       COUNT(*) AS sellers,
       SUM(CASE WHEN e.counter_accepted = {true} AND e.method <> 'imputed' THEN 1 ELSE 0 END)
           AS sellers_counted,
       SUM(CASE WHEN e.method = 'imputed' THEN 1 ELSE 0 END) AS sellers_imputed
FROM market_daily_estimate AS e
GROUP BY e.day
"""


def _views() -> None:
    dialect = _DIALECT[op.get_bind().dialect.name]
    values = {column: dialect["num"].format(f"e.{column}")
              for column in ("orders", "revenue_low", "revenue_central", "revenue_high")}
    op.execute("CREATE VIEW v_market_daily AS " + _DAILY.format(**values))
    op.execute("CREATE VIEW v_market_daily_total AS "
               + _TOTAL.format(true=dialect["true"], **values))


def upgrade() -> None:
    op.create_table(
        "market_daily_estimate",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders", storage.types.ExactDecimal(), nullable=False),
        sa.Column("revenue_low", storage.types.ExactDecimal(), nullable=False),
        sa.Column("revenue_central", storage.types.ExactDecimal(), nullable=False),
        sa.Column("revenue_high", storage.types.ExactDecimal(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("counter_accepted", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("computed_at", storage.types.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("site_id", "day", name="uq_market_daily_estimate_site_day"),
    )
    op.create_index("ix_market_daily_estimate_day", "market_daily_estimate", ["day"])
    _views()


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_market_daily_total")
    op.execute("DROP VIEW IF EXISTS v_market_daily")
    op.drop_table("market_daily_estimate")
