"""Typed handles on the report views (the views themselves are created by the migrations).

Select from these tables with SQLAlchemy Core and the values come back the same on SQLite and
PostgreSQL: money as :class:`~decimal.Decimal`, timestamps as aware UTC datetimes::

    from sqlalchemy import select
    from storage.views import v_offer_current

    with engine.connect() as connection:
        rows = connection.execute(
            select(v_offer_current).where(v_offer_current.c.platform == "instagram")
        ).all()

Plain SQL works too (``SELECT * FROM v_offer_current``), but then the driver's raw values are
returned: on SQLite timestamps are UTC text and money a number (``CAST`` so that it sorts
numerically; the tables keep the exact decimal text).

These tables live in their own ``MetaData``: they must never be created as tables.

- ``v_offer_current``: one row per active offer with its current price period (retail packages
  also show the size as written and the compare-at price, migration 0003).
- ``v_price_history``: every price period (the change-only series) with its offer's labels.
- ``v_offer_changes``: every event (new, removed, reinstated, price up / down, limits changed).
- ``v_run_summary``: every crawl run with its counts, status and duration.
- ``v_counter_deltas``: consecutive readings of each counter of each site, with the delta, the
  elapsed days and the delta per day (``is_reset`` when the counter went down).
- ``v_market_daily``: estimated end-customer orders and revenue (USD, low / central / high) per
  seller per day, with the method and whether the day's counter reading was accepted (0005).
- ``v_market_daily_total``: the same summed per day, with sellers counted, imputed and valued
  from their customers counter (0010).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Float, Integer, MetaData, Table, Text

from storage.types import JSONDocument, Money, UTCDateTime

view_metadata = MetaData()


def _money(name: str) -> Column:
    return Column(name, Money())


def _ts(name: str) -> Column:
    return Column(name, UTCDateTime())


def _text(name: str) -> Column:
    return Column(name, Text())


def _int(name: str) -> Column:
    return Column(name, BigInteger())


def _bool(name: str) -> Column:
    return Column(name, Boolean())


v_offer_current = Table(
    "v_offer_current",
    view_metadata,
    _int("offer_id"),
    _text("site_id"),
    _text("site_url"),
    _text("site_family"),
    _text("site_status"),
    _text("site_offer_id"),
    _text("name"),
    _text("category"),
    _text("platform"),
    _text("metric"),
    _text("pricing"),
    _text("service_type"),
    Column("refill_days", Integer()),
    _text("quality"),
    _text("country"),
    _bool("drip_feed"),
    _int("speed_per_day"),
    _money("start_time_hours"),
    _int("max_from_name"),
    _bool("non_drop"),
    _bool("refill_flag"),
    _bool("cancel_flag"),
    _int("period_id"),
    _money("price"),
    _text("price_raw"),
    _text("currency"),
    _int("quantity"),
    _money("usd_per_1000"),
    _money("fx_rate"),
    Column("fx_date", Date()),
    _int("min_quantity"),
    _int("max_quantity"),
    _bool("available"),
    _ts("valid_from"),
    _ts("last_confirmed_at"),
    _ts("first_seen_at"),
    _ts("last_seen_at"),
    _text("quantity_raw"),
    _money("compare_at_price"),
    _text("compare_at_price_raw"),
)

v_price_history = Table(
    "v_price_history",
    view_metadata,
    _int("period_id"),
    _int("offer_id"),
    _text("site_id"),
    _text("site_offer_id"),
    _text("name"),
    _text("category"),
    _text("platform"),
    _text("metric"),
    _text("pricing"),
    _money("price"),
    _text("price_raw"),
    _text("currency"),
    _int("quantity"),
    _money("usd_per_1000"),
    _money("fx_rate"),
    Column("fx_date", Date()),
    _int("min_quantity"),
    _int("max_quantity"),
    _bool("available"),
    _ts("valid_from"),
    _ts("valid_to"),
    _ts("last_confirmed_at"),
    _int("run_id"),
    _text("quantity_raw"),
    _money("compare_at_price"),
    _text("compare_at_price_raw"),
)

v_offer_changes = Table(
    "v_offer_changes",
    view_metadata,
    _int("event_id"),
    _ts("occurred_at"),
    _text("site_id"),
    _int("offer_id"),
    _text("site_offer_id"),
    _text("offer_name"),
    _text("platform"),
    _text("metric"),
    _text("kind"),
    _money("old_price"),
    _money("new_price"),
    _text("old_currency"),
    _text("new_currency"),
    _money("change_pct"),
    _int("run_id"),
    Column("details", JSONDocument()),
)

v_run_summary = Table(
    "v_run_summary",
    view_metadata,
    _int("run_id"),
    _text("site_id"),
    _text("site_family"),
    _text("status"),
    _ts("started_at"),
    _ts("finished_at"),
    Column("duration_seconds", Float()),
    _int("pages"),
    _int("offers_seen"),
    _int("offers_new"),
    _int("offers_changed"),
    _int("offers_unchanged"),
    _int("offers_removed"),
    _int("offers_reinstated"),
    _int("offers_rejected"),
    _int("price_rows_added"),
    _text("error"),
    _int("pid"),
)

v_counter_deltas = Table(
    "v_counter_deltas",
    view_metadata,
    _int("reading_id"),
    _text("site_id"),
    _text("name"),
    _int("run_id"),
    _ts("observed_at"),
    _int("value"),
    _ts("previous_observed_at"),
    _int("previous_value"),
    _int("delta"),
    Column("elapsed_days", Float()),
    Column("delta_per_day", Float()),
    _bool("is_reset"),
)

v_market_daily = Table(
    "v_market_daily",
    view_metadata,
    _text("site_id"),
    _text("site_url"),
    _text("site_family"),
    Column("day", Date()),
    _money("orders"),
    _money("revenue_low"),
    _money("revenue_central"),
    _money("revenue_high"),
    _text("method"),
    _bool("counter_accepted"),
    _text("reason"),
    _ts("computed_at"),
)

v_market_daily_total = Table(
    "v_market_daily_total",
    view_metadata,
    Column("day", Date()),
    _money("orders"),
    _money("revenue_low"),
    _money("revenue_central"),
    _money("revenue_high"),
    _int("sellers"),
    _int("sellers_counted"),
    _int("sellers_imputed"),
    _int("sellers_from_customers"),
)

VIEWS = {
    table.name: table
    for table in (
        v_offer_current,
        v_price_history,
        v_offer_changes,
        v_run_summary,
        v_counter_deltas,
        v_market_daily,
        v_market_daily_total,
    )
}
