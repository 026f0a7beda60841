"""The daily price index table, backfilled from the price history.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

- ``price_index``: one row per day × platform × metric × pricing with the median, first and third
  quartiles, min and max of USD per 1000 over the offers alive that day, and the numbers of
  offers and sellers (definitions in :mod:`storage.price_index`). ``complete_run`` keeps it up
  to date; ``clickfarm db refresh-price-index`` rebuilds it.
- ``price_index_part``: what one seller adds to one cell over a run of days (its sorted
  values); a run rewrites only its seller's parts, extends them when the values are the same as
  the day before, and recomputes a cell from the parts covering the day (no read of the price
  history on the usual path).

The backfill computes the index of the history already stored (one sweep).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _money(name: str) -> sa.Column:
    return sa.Column(name, storage.types.ExactDecimal(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "price_index",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("pricing", sa.Text(), nullable=False),
        _money("median"),
        _money("q1"),
        _money("q3"),
        _money("min"),
        _money("max"),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("sellers", sa.Integer(), nullable=False),
        sa.UniqueConstraint("day", "platform", "metric", "pricing", name="uq_price_index_cell"),
        sa.CheckConstraint("pricing IN ('per_1000', 'package')", name="ck_price_index_pricing"),
    )
    op.create_index("ix_price_index_cell_day", "price_index",
                    ["platform", "metric", "pricing", "day"])
    op.create_table(
        "price_index_part",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("pricing", sa.Text(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("prices", sa.Text(), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name="ck_price_index_part_days"),
    )
    op.create_index("ix_price_index_part_site_last_day", "price_index_part",
                    ["site_id", "last_day"])
    op.create_index("ix_price_index_part_last_day", "price_index_part",
                    ["last_day", "first_day"])
    from storage.price_index import rebuild_in

    rebuild_in(op.get_bind())


def downgrade() -> None:
    op.drop_table("price_index_part")
    op.drop_index("ix_price_index_cell_day", table_name="price_index")
    op.drop_table("price_index")
