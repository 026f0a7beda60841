"""Distributed crawling: crawl cycles and leases.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

- ``crawl_cycle``: one row per (site, planned time) in distributed mode, with its status and the
  run of its last attempt: a crawl happens once per cycle (``scheduler.distributed``).
- ``lease``: named leases with an expiry, renewed by their holder: the one scheduler that plans
  (``scheduler``) and the one worker crawling a site (``site:<id>``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "crawl_cycle",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.Text(), nullable=False),
        _ts("planned_at"),
        sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'queued'")),
        sa.Column("run_id", _ID, sa.ForeignKey("crawl_run.id"), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("worker", sa.Text(), nullable=True),
        _ts("queued_at"),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("site_id", "planned_at", name="uq_crawl_cycle_site_planned"),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'interrupted')",
            name="ck_crawl_cycle_status"),
    )
    op.create_index("ix_crawl_cycle_status", "crawl_cycle", ["status"])
    op.create_table(
        "lease",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("holder", sa.Text(), nullable=False),
        _ts("acquired_at"),
        _ts("expires_at"),
    )


def downgrade() -> None:
    op.drop_table("lease")
    op.drop_index("ix_crawl_cycle_status", table_name="crawl_cycle")
    op.drop_table("crawl_cycle")
