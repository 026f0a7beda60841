"""The scheduler's heartbeat.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

- ``scheduler_heartbeat``: one row per ``clickfarm schedule`` process (``host:pid``), its last
  beat and its beat interval, so that ``clickfarm status`` can say whether a scheduler is running
  instead of showing next-run times planned by a scheduler that is gone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("scheduler_id", sa.Text(), primary_key=True),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        _ts("started_at"),
        _ts("beat_at"),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        _ts("stopped_at", nullable=True),
    )


def downgrade() -> None:
    op.drop_table("scheduler_heartbeat")
