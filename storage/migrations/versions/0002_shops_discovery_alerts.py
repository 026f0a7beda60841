"""Retail packages, discovery sources, alerts and scheduled runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

- ``offer_price_period``: the package size and compare-at ("was") price as the shop wrote them.
- ``site_discovery``: every source that listed a site (directories, links out of sellers).
- ``alert``: health and market alerts with their delivery status.
- ``crawl_run``: what triggered a run and when the scheduler planned it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.add_column("offer_price_period", sa.Column("quantity_raw", sa.Text(), nullable=True))
    op.add_column("offer_price_period",
                  sa.Column("compare_at_price", storage.types.ExactDecimal(), nullable=True))
    op.add_column("offer_price_period",
                  sa.Column("compare_at_price_raw", sa.Text(), nullable=True))
    op.add_column("crawl_run", sa.Column("trigger", sa.Text(), nullable=True))
    op.add_column("crawl_run", _ts("planned_at", nullable=True))

    op.create_table(
        "site_discovery",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_kind", sa.Text(), nullable=False),
        _ts("found_at"),
        _ts("last_seen_at"),
        sa.Column("evidence", storage.types.JSONDocument(), nullable=True),
        sa.UniqueConstraint("site_id", "source", name="uq_site_discovery_site_source"),
        sa.CheckConstraint(
            "source_kind IN ('config', 'directory', 'seller_link', 'manual')",
            name="ck_site_discovery_source_kind",
        ),
    )
    op.create_index("ix_site_discovery_source", "site_discovery", ["source"])

    op.create_table(
        "alert",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        _ts("created_at"),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False, server_default=sa.text("'warning'")),
        sa.Column("site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=True),
        sa.Column("run_id", _ID, sa.ForeignKey("crawl_run.id"), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", storage.types.JSONDocument(), nullable=True),
        sa.Column("dedupe_key", sa.Text(), nullable=True),
        sa.Column("deliveries", storage.types.JSONDocument(), nullable=True),
        sa.CheckConstraint("kind IN ('health', 'market')", name="ck_alert_kind"),
        sa.CheckConstraint("severity IN ('info', 'warning', 'critical')",
                           name="ck_alert_severity"),
    )
    op.create_index("ix_alert_created_at", "alert", ["created_at"])
    op.create_index("ix_alert_site_created_at", "alert", ["site_id", "created_at"])


def downgrade() -> None:
    op.drop_table("alert")
    op.drop_table("site_discovery")
    # Plain DROP COLUMN (SQLite >= 3.35): a batch "copy and move" would break the views.
    for table, column in (("crawl_run", "planned_at"), ("crawl_run", "trigger"),
                          ("offer_price_period", "compare_at_price_raw"),
                          ("offer_price_period", "compare_at_price"),
                          ("offer_price_period", "quantity_raw")):
        op.drop_column(table, column)
