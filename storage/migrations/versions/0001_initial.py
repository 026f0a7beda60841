"""Initial schema: the seven tables and the report views.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

The views are written once, with the few dialect differences filled in from ``_DIALECT``:

- money: SQLite keeps exact decimal text in the tables; the views ``CAST`` it to a number so that
  ``ORDER BY`` / ``<`` / ``MIN`` compare numbers, not strings (15 significant digits, plenty for a
  price; exact values stay in the tables). PostgreSQL uses ``NUMERIC`` throughout.
- durations: ``julianday()`` on SQLite, ``EXTRACT(EPOCH ...)`` on PostgreSQL.

A later change to a view is a new migration that drops and recreates it (never edit this file).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", _ID, primary_key=True, autoincrement=True)


def _ts(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(), nullable=nullable)


def _money(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, storage.types.ExactDecimal(), nullable=nullable)


def _text(name: str, *, nullable: bool = True, default: str | None = None) -> sa.Column:
    server_default = sa.text(repr(default)) if default is not None else None
    return sa.Column(name, sa.Text(), nullable=nullable, server_default=server_default)


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0"))


def _json(name: str) -> sa.Column:
    return sa.Column(name, storage.types.JSONDocument(), nullable=True)


def upgrade() -> None:
    op.create_table(
        "site",
        sa.Column("id", sa.Text(), primary_key=True),
        _text("url", nullable=False),
        _text("family", nullable=False),
        _text("currency"),
        _text("status", nullable=False, default="active"),
        _ts("first_seen_at"),
        _ts("last_seen_at"),
        _text("discovered_via"),
        _json("config"),
        sa.CheckConstraint("status IN ('active', 'discovered', 'dead')", name="ck_site_status"),
    )
    op.create_table(
        "crawl_run",
        _id(),
        sa.Column("site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        _text("status", nullable=False, default="running"),
        _count("pages"),
        _count("offers_seen"),
        _count("offers_new"),
        _count("offers_changed"),
        _count("offers_unchanged"),
        _count("offers_removed"),
        _count("offers_reinstated"),
        _count("offers_rejected"),
        _count("price_rows_added"),
        _text("error"),
        _json("stats"),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'partial', 'failed', 'interrupted')",
            name="ck_crawl_run_status",
        ),
    )
    op.create_index("ix_crawl_run_site_started", "crawl_run", ["site_id", "started_at"])
    op.create_index("ix_crawl_run_status", "crawl_run", ["status"])

    op.create_table(
        "offer",
        _id(),
        sa.Column("site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=False),
        _text("site_offer_id", nullable=False),
        _text("name", nullable=False),
        _text("name_raw", nullable=False),
        _text("category"),
        _text("platform"),
        _text("metric"),
        _text("pricing", nullable=False),
        _text("service_type"),
        sa.Column("refill_days", sa.Integer(), nullable=True),
        _text("quality"),
        _text("country"),
        sa.Column("drip_feed", sa.Boolean(), nullable=True),
        sa.Column("speed_per_day", sa.BigInteger(), nullable=True),
        _money("start_time_hours"),
        sa.Column("max_from_name", sa.BigInteger(), nullable=True),
        sa.Column("non_drop", sa.Boolean(), nullable=True),
        sa.Column("refill_flag", sa.Boolean(), nullable=True),
        sa.Column("cancel_flag", sa.Boolean(), nullable=True),
        _text("description"),
        _text("average_time"),
        _ts("first_seen_at"),
        _ts("last_seen_at"),
        _ts("removed_at", nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.UniqueConstraint("site_id", "site_offer_id", name="uq_offer_site_offer_id"),
        sa.CheckConstraint("pricing IN ('per_1000', 'package')", name="ck_offer_pricing"),
    )
    op.create_index("ix_offer_site_platform_metric", "offer", ["site_id", "platform", "metric"])

    op.create_table(
        "offer_price_period",
        _id(),
        sa.Column("offer_id", _ID, sa.ForeignKey("offer.id"), nullable=False),
        sa.Column("run_id", _ID, sa.ForeignKey("crawl_run.id"), nullable=False),
        _ts("valid_from"),
        _ts("valid_to", nullable=True),
        _ts("last_confirmed_at"),
        _money("price", nullable=False),
        _text("price_raw", nullable=False),
        _text("currency", nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=True),
        _money("usd_per_1000"),
        _money("fx_rate"),
        sa.Column("fx_date", sa.Date(), nullable=True),
        sa.Column("min_quantity", sa.BigInteger(), nullable=True),
        sa.Column("max_quantity", sa.BigInteger(), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=True),
    )
    op.create_index(
        "ix_offer_price_period_offer_valid_from", "offer_price_period", ["offer_id", "valid_from"]
    )
    op.create_index(
        "uq_offer_price_period_open",
        "offer_price_period",
        ["offer_id"],
        unique=True,
        sqlite_where=sa.text("valid_to IS NULL"),
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index("ix_offer_price_period_run", "offer_price_period", ["run_id"])

    op.create_table(
        "offer_event",
        _id(),
        sa.Column("offer_id", _ID, sa.ForeignKey("offer.id"), nullable=False),
        sa.Column("site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("run_id", _ID, sa.ForeignKey("crawl_run.id"), nullable=False),
        _ts("occurred_at"),
        _text("kind", nullable=False),
        _money("old_price"),
        _money("new_price"),
        _money("change_pct"),
        _text("old_currency"),
        _text("new_currency"),
        _json("details"),
        sa.CheckConstraint(
            "kind IN ('new', 'removed', 'reinstated', 'price_up', 'price_down', 'limits_changed')",
            name="ck_offer_event_kind",
        ),
    )
    op.create_index("ix_offer_event_occurred_at", "offer_event", ["occurred_at"])
    op.create_index("ix_offer_event_offer_occurred_at", "offer_event", ["offer_id", "occurred_at"])
    op.create_index("ix_offer_event_site_occurred_at", "offer_event", ["site_id", "occurred_at"])

    op.create_table(
        "counter_reading",
        _id(),
        sa.Column("site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("run_id", _ID, sa.ForeignKey("crawl_run.id"), nullable=False),
        _ts("observed_at"),
        _text("name", nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        _text("raw"),
    )
    op.create_index(
        "ix_counter_reading_site_name_observed",
        "counter_reading",
        ["site_id", "name", "observed_at"],
    )

    op.create_table(
        "rejected_offer",
        _id(),
        sa.Column("run_id", _ID, sa.ForeignKey("crawl_run.id"), nullable=False),
        sa.Column("site_id", sa.Text(), sa.ForeignKey("site.id"), nullable=False),
        _ts("observed_at"),
        _text("site_offer_id"),
        _text("reason", nullable=False),
        _text("raw_text"),
    )
    op.create_index("ix_rejected_offer_run", "rejected_offer", ["run_id"])

    dialect = op.get_bind().dialect.name
    for name, sql in _VIEWS:
        op.execute(f"CREATE VIEW {name} AS {sql.format(**_DIALECT[dialect])}")


def downgrade() -> None:
    for name, _sql in reversed(_VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in (
        "rejected_offer",
        "counter_reading",
        "offer_event",
        "offer_price_period",
        "offer",
        "crawl_run",
        "site",
    ):
        op.drop_table(table)


_DIALECT: dict[str, dict[str, str]] = {
    "sqlite": {
        "price": "CAST(p.price AS NUMERIC)",
        "usd_per_1000": "CAST(p.usd_per_1000 AS NUMERIC)",
        "fx_rate": "CAST(p.fx_rate AS NUMERIC)",
        "start_time_hours": "CAST(o.start_time_hours AS NUMERIC)",
        "old_price": "CAST(e.old_price AS NUMERIC)",
        "new_price": "CAST(e.new_price AS NUMERIC)",
        "change_pct": "CAST(e.change_pct AS NUMERIC)",
        "run_seconds": "(julianday(r.finished_at) - julianday(r.started_at)) * 86400.0",
        "elapsed_days": ("(julianday(c.observed_at) - julianday(LAG(c.observed_at) OVER w))"),
        "float": "REAL",
    },
    "postgresql": {
        "price": "p.price",
        "usd_per_1000": "p.usd_per_1000",
        "fx_rate": "p.fx_rate",
        "start_time_hours": "o.start_time_hours",
        "old_price": "e.old_price",
        "new_price": "e.new_price",
        "change_pct": "e.change_pct",
        "run_seconds": (
            "CAST(EXTRACT(EPOCH FROM (r.finished_at - r.started_at)) AS DOUBLE PRECISION)"
        ),
        "elapsed_days": (
            "(CAST(EXTRACT(EPOCH FROM (c.observed_at - LAG(c.observed_at) OVER w))"
            " AS DOUBLE PRECISION) / 86400.0)"
        ),
        "float": "DOUBLE PRECISION",
    },
}

_VIEWS: tuple[tuple[str, str], ...] = (
    (
        # One row per active offer with its current price period.
        "v_offer_current",
        """
SELECT o.id AS offer_id, o.site_id, s.url AS site_url, s.family AS site_family,
       s.status AS site_status, o.site_offer_id, o.name, o.category, o.platform, o.metric,
       o.pricing, o.service_type, o.refill_days, o.quality, o.country, o.drip_feed,
       o.speed_per_day, {start_time_hours} AS start_time_hours, o.max_from_name, o.non_drop,
       o.refill_flag, o.cancel_flag,
       p.id AS period_id, {price} AS price, p.price_raw, p.currency, p.quantity,
       {usd_per_1000} AS usd_per_1000, {fx_rate} AS fx_rate, p.fx_date,
       p.min_quantity, p.max_quantity, p.available, p.valid_from, p.last_confirmed_at,
       o.first_seen_at, o.last_seen_at
FROM offer AS o
JOIN site AS s ON s.id = o.site_id
JOIN offer_price_period AS p ON p.offer_id = o.id AND p.valid_to IS NULL
WHERE o.is_active
""",
    ),
    (
        # Every price period: the change-only time series of every offer.
        "v_price_history",
        """
SELECT p.id AS period_id, p.offer_id, o.site_id, o.site_offer_id, o.name, o.category,
       o.platform, o.metric, o.pricing,
       {price} AS price, p.price_raw, p.currency, p.quantity,
       {usd_per_1000} AS usd_per_1000, {fx_rate} AS fx_rate, p.fx_date,
       p.min_quantity, p.max_quantity, p.available,
       p.valid_from, p.valid_to, p.last_confirmed_at, p.run_id
FROM offer_price_period AS p
JOIN offer AS o ON o.id = p.offer_id
""",
    ),
    (
        "v_offer_changes",
        """
SELECT e.id AS event_id, e.occurred_at, e.site_id, e.offer_id, o.site_offer_id,
       o.name AS offer_name, o.platform, o.metric, e.kind,
       {old_price} AS old_price, {new_price} AS new_price, e.old_currency, e.new_currency,
       {change_pct} AS change_pct, e.run_id, e.details
FROM offer_event AS e
JOIN offer AS o ON o.id = e.offer_id
""",
    ),
    (
        "v_run_summary",
        """
SELECT r.id AS run_id, r.site_id, s.family AS site_family, r.status, r.started_at,
       r.finished_at, {run_seconds} AS duration_seconds, r.pages,
       r.offers_seen, r.offers_new, r.offers_changed, r.offers_unchanged, r.offers_removed,
       r.offers_reinstated, r.offers_rejected, r.price_rows_added, r.error, r.pid
FROM crawl_run AS r
JOIN site AS s ON s.id = r.site_id
""",
    ),
    (
        # Consecutive readings of one counter of one site. The first reading of a series has
        # NULL previous values. A negative delta is a counter reset or a rewrite: reports must
        # not read it as negative volume (is_reset says so).
        "v_counter_deltas",
        """
SELECT c.id AS reading_id, c.site_id, c.name, c.run_id, c.observed_at, c.value,
       LAG(c.observed_at) OVER w AS previous_observed_at,
       LAG(c.value) OVER w AS previous_value,
       c.value - LAG(c.value) OVER w AS delta,
       {elapsed_days} AS elapsed_days,
       CAST(c.value - LAG(c.value) OVER w AS {float}) / NULLIF({elapsed_days}, 0)
           AS delta_per_day,
       (c.value < LAG(c.value) OVER w) AS is_reset
FROM counter_reading AS c
WINDOW w AS (PARTITION BY c.site_id, c.name ORDER BY c.observed_at, c.id)
""",
    ),
)
