"""Report views show the retail package values: size as written, compare-at ("was") price.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

``v_offer_current`` and ``v_price_history`` get ``quantity_raw``, ``compare_at_price`` and
``compare_at_price_raw`` (the columns 0002 added to ``offer_price_period``), appended after the
existing columns so queries by position keep working. Views are dropped and created again:
SQLite has no ``CREATE OR REPLACE VIEW``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIALECT: dict[str, dict[str, str]] = {
    "sqlite": {
        "price": "CAST(p.price AS NUMERIC)",
        "usd_per_1000": "CAST(p.usd_per_1000 AS NUMERIC)",
        "fx_rate": "CAST(p.fx_rate AS NUMERIC)",
        "compare_at_price": "CAST(p.compare_at_price AS NUMERIC)",
        "start_time_hours": "CAST(o.start_time_hours AS NUMERIC)",
    },
    "postgresql": {
        "price": "p.price",
        "usd_per_1000": "p.usd_per_1000",
        "fx_rate": "p.fx_rate",
        "compare_at_price": "p.compare_at_price",
        "start_time_hours": "o.start_time_hours",
    },
}

_OFFER_CURRENT = """
SELECT o.id AS offer_id, o.site_id, s.url AS site_url, s.family AS site_family,
       s.status AS site_status, o.site_offer_id, o.name, o.category, o.platform, o.metric,
       o.pricing, o.service_type, o.refill_days, o.quality, o.country, o.drip_feed,
       o.speed_per_day, {start_time_hours} AS start_time_hours, o.max_from_name, o.non_drop,
       o.refill_flag, o.cancel_flag,
       p.id AS period_id, {price} AS price, p.price_raw, p.currency, p.quantity,
       {usd_per_1000} AS usd_per_1000, {fx_rate} AS fx_rate, p.fx_date,
       p.min_quantity, p.max_quantity, p.available, p.valid_from, p.last_confirmed_at,
       o.first_seen_at, o.last_seen_at{package_columns}
FROM offer AS o
JOIN site AS s ON s.id = o.site_id
JOIN offer_price_period AS p ON p.offer_id = o.id AND p.valid_to IS NULL
WHERE o.is_active
"""

_PRICE_HISTORY = """
SELECT p.id AS period_id, p.offer_id, o.site_id, o.site_offer_id, o.name, o.category,
       o.platform, o.metric, o.pricing,
       {price} AS price, p.price_raw, p.currency, p.quantity,
       {usd_per_1000} AS usd_per_1000, {fx_rate} AS fx_rate, p.fx_date,
       p.min_quantity, p.max_quantity, p.available,
       p.valid_from, p.valid_to, p.last_confirmed_at, p.run_id{package_columns}
FROM offer_price_period AS p
JOIN offer AS o ON o.id = p.offer_id
"""

_PACKAGE_COLUMNS = (",\n       p.quantity_raw, {compare_at_price} AS compare_at_price,"
                    " p.compare_at_price_raw")


def _recreate(with_package_columns: bool) -> None:
    dialect = _DIALECT[op.get_bind().dialect.name]
    package_columns = _PACKAGE_COLUMNS.format(**dialect) if with_package_columns else ""
    for name, sql in (("v_offer_current", _OFFER_CURRENT), ("v_price_history", _PRICE_HISTORY)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
        op.execute(f"CREATE VIEW {name} AS "
                   f"{sql.format(package_columns=package_columns, **dialect)}")


def upgrade() -> None:
    _recreate(with_package_columns=True)


def downgrade() -> None:
    _recreate(with_package_columns=False)
