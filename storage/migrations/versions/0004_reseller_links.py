"""Reseller links: an offer that resells another site's offer, with a confidence.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

``reseller_link`` holds one upstream per reseller offer, computed by ``estimates.resellers``
from stored offers and price history (recomputed after crawls).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "reseller_link",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("reseller_site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("reseller_offer_id", _ID, sa.ForeignKey("offer.id"), nullable=False),
        sa.Column("upstream_site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("upstream_offer_id", _ID, sa.ForeignKey("offer.id"), nullable=False),
        sa.Column("confidence", storage.types.ExactDecimal(), nullable=False),
        sa.Column("price_ratio", storage.types.ExactDecimal(), nullable=False),
        sa.Column("ratio_cv", storage.types.ExactDecimal(), nullable=True),
        sa.Column("name_similarity", storage.types.ExactDecimal(), nullable=True),
        sa.Column("evidence", storage.types.JSONDocument(), nullable=True),
        _ts("first_computed_at"),
        _ts("last_computed_at"),
        sa.UniqueConstraint("reseller_offer_id", name="uq_reseller_link_reseller_offer"),
        sa.CheckConstraint("reseller_site_id <> upstream_site_id",
                           name="ck_reseller_link_other_site"),
    )
    op.create_index("ix_reseller_link_sites", "reseller_link",
                    ["upstream_site_id", "reseller_site_id"])
    op.create_index("ix_reseller_link_upstream_offer", "reseller_link", ["upstream_offer_id"])


def downgrade() -> None:
    op.drop_table("reseller_link")
