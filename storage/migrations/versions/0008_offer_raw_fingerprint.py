"""The fingerprint of each offer's raw record.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

- ``offer.raw_fingerprint``: hash of every raw field normalization reads plus the version of the
  normalization code and taxonomy (``pipelines.fingerprint``). A re-crawl whose listing has the
  same fingerprint only confirms the offer instead of normalizing it again; ``NULL`` (offers
  stored before this revision, or without a fingerprint) always means "normalize in full".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("offer", sa.Column("raw_fingerprint", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch "copy and move" would break the views.
    op.drop_column("offer", "raw_fingerprint")
