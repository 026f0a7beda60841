"""Every table of clickfarm-monitor, in one file.

History is change-only: an ``offer`` is the stable identity of a listing, and
``offer_price_period`` holds one row per *distinct* set of price values, valid from
``valid_from`` until ``valid_to`` (``NULL`` while current). A crawl that sees the same values only
moves ``last_confirmed_at``, so storage grows with changes, not with crawls. ``offer_event``
records what changed (new, removed, reinstated, price up / down, limits changed).

Money and rates are exact decimals (:data:`storage.types.Money`), timestamps are aware UTC
(:class:`storage.types.UTCDateTime`) on SQLite and PostgreSQL alike. The schema is created by
the Alembic migrations in ``storage/migrations`` (never ``create_all`` in production); a test
checks that these models and the migrations agree.

SQLModel ``table=True`` models do not validate on construction: data reaches these tables
through :mod:`storage.repository`, which takes already validated
:class:`core.offers.NormalizedOffer` objects.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlmodel import Field, SQLModel

from storage.types import JSONDocument, Money, UTCDateTime

SITE_STATUSES = ("active", "discovered", "dead")
RUN_STATUSES = ("running", "succeeded", "partial", "failed", "interrupted")
FINISHED_RUN_STATUSES = ("succeeded", "partial", "failed", "interrupted")
GOOD_RUN_STATUSES = ("succeeded", "partial")
"""Runs that read the price list (a partial run read part of it)."""
ALERT_KINDS = ("health", "market")
ALERT_SEVERITIES = ("info", "warning", "critical")
DISCOVERY_SOURCE_KINDS = ("config", "directory", "seller_link", "manual")
EVENT_KINDS = ("new", "removed", "reinstated", "price_up", "price_down", "limits_changed")
PRICINGS = ("per_1000", "package")

# BIGINT ids on PostgreSQL; on SQLite only "INTEGER PRIMARY KEY" is the auto-incrementing rowid.
IdType = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _id_column() -> Any:
    return Field(default=None, sa_column=Column("id", IdType, primary_key=True, autoincrement=True))


def _fk(target: str, *, nullable: bool = False, type_: Any = IdType) -> Any:
    return Field(sa_column=Column(type_, ForeignKey(target), nullable=nullable))


def _text(*, nullable: bool = True, default: str | None = None) -> Any:
    server_default = text(repr(default)) if default is not None else None
    return Field(
        default=default,
        sa_column=Column(Text, nullable=nullable, server_default=server_default),
    )


def _timestamp(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _money(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(Money(), nullable=nullable))


def _bigint(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(BigInteger, nullable=nullable))


def _int(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(Integer, nullable=nullable))


def _count() -> Any:
    return Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))


def _bool(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(Boolean, nullable=nullable))


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSONDocument(), nullable=True))


class Site(SQLModel, table=True):
    """One seller: a panel, a reseller or a shop."""

    __tablename__ = "site"
    __table_args__ = (CheckConstraint(_in("status", SITE_STATUSES), name="ck_site_status"),)

    id: str = Field(sa_column=Column("id", Text, primary_key=True))
    """The site id from ``config/sites.yaml`` (stable, human-chosen)."""
    url: str = _text(nullable=False)
    family: str = _text(nullable=False)
    """Seller software: ``smm_api``, ``smm_html``, ``shopify``, ``woocommerce``, ..."""
    currency: str | None = _text()
    """The site's configured currency, used when an offer does not state one."""
    status: str = _text(nullable=False, default="active")
    first_seen_at: datetime = _timestamp()
    last_seen_at: datetime = _timestamp()
    discovered_via: str | None = _text()
    """How the site was found (``config``, a directory URL, a search query, ...)."""
    config: dict[str, Any] | None = _json()
    """The site's configuration as loaded, with secrets removed."""


class CrawlRun(SQLModel, table=True):
    """One crawl of one site, with its outcome and counts."""

    __tablename__ = "crawl_run"
    __table_args__ = (
        CheckConstraint(_in("status", RUN_STATUSES), name="ck_crawl_run_status"),
        Index("ix_crawl_run_site_started", "site_id", "started_at"),
        Index("ix_crawl_run_status", "status"),
    )

    id: int | None = _id_column()
    site_id: str = _fk("site.id", type_=Text)
    started_at: datetime = _timestamp()
    finished_at: datetime | None = _timestamp(nullable=True)
    status: str = _text(nullable=False, default="running")
    pages: int = _count()
    offers_seen: int = _count()
    """Distinct offers stored by this run (duplicates within the batch are rejections)."""
    offers_new: int = _count()
    offers_changed: int = _count()
    offers_unchanged: int = _count()
    offers_removed: int = _count()
    offers_reinstated: int = _count()
    offers_rejected: int = _count()
    price_rows_added: int = _count()
    error: str | None = _text()
    stats: dict[str, Any] | None = _json()
    pid: int | None = _int()
    """The crawl process id, to detect runs whose process died (``mark_stale_runs_interrupted``)."""
    trigger: str | None = _text()
    """What started the run: ``manual`` (``clickfarm crawl``), ``schedule``, ``demo``."""
    planned_at: datetime | None = _timestamp(nullable=True)
    """When the scheduler planned the run (``started_at - planned_at`` is the start delay)."""


class Offer(SQLModel, table=True):
    """The stable identity of one listing: site + the site's own id (service id, variant id)."""

    __tablename__ = "offer"
    __table_args__ = (
        UniqueConstraint("site_id", "site_offer_id", name="uq_offer_site_offer_id"),
        CheckConstraint(_in("pricing", PRICINGS), name="ck_offer_pricing"),
        Index("ix_offer_site_platform_metric", "site_id", "platform", "metric"),
    )

    id: int | None = _id_column()
    site_id: str = _fk("site.id", type_=Text)
    site_offer_id: str = _text(nullable=False)
    name: str = _text(nullable=False)
    name_raw: str = _text(nullable=False)
    category: str | None = _text()
    platform: str | None = _text()
    metric: str | None = _text()
    pricing: str = _text(nullable=False)
    service_type: str | None = _text()
    refill_days: int | None = _int()
    quality: str | None = _text()
    country: str | None = _text()
    drip_feed: bool | None = _bool()
    speed_per_day: int | None = _bigint()
    start_time_hours: Decimal | None = _money()
    max_from_name: int | None = _bigint()
    non_drop: bool | None = _bool()
    refill_flag: bool | None = _bool()
    cancel_flag: bool | None = _bool()
    description: str | None = _text()
    average_time: str | None = _text()
    first_seen_at: datetime = _timestamp()
    last_seen_at: datetime = _timestamp()
    removed_at: datetime | None = _timestamp(nullable=True)
    """When a complete listing last stopped showing the offer; ``NULL`` while active."""
    is_active: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true"))
    )
    raw_fingerprint: str | None = _text()
    """Hash of the raw record the offer was last normalized from, with the normalizer's version
    (``pipelines.fingerprint``): a re-crawl showing the same one only confirms the offer."""


class OfferPricePeriod(SQLModel, table=True):
    """One distinct set of price values of an offer, valid from ``valid_from`` to ``valid_to``."""

    __tablename__ = "offer_price_period"
    __table_args__ = (
        Index("ix_offer_price_period_offer_valid_from", "offer_id", "valid_from"),
        # At most one open period per offer; also the index of the "current price" lookup.
        Index(
            "uq_offer_price_period_open",
            "offer_id",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
        Index("ix_offer_price_period_run", "run_id"),
    )

    id: int | None = _id_column()
    offer_id: int = _fk("offer.id")
    run_id: int = _fk("crawl_run.id")
    """The run that first saw these values."""
    valid_from: datetime = _timestamp()
    valid_to: datetime | None = _timestamp(nullable=True)
    """Set when the values were superseded or the offer removed; ``NULL`` while current."""
    last_confirmed_at: datetime = _timestamp()
    """The last crawl that saw exactly these values."""
    price: Decimal = _money(nullable=False)
    price_raw: str = _text(nullable=False)
    currency: str = _text(nullable=False)
    quantity: int | None = _bigint()
    quantity_raw: str | None = _text()
    """The package size as the seller wrote it (``"1,000 Followers"``, ``"1.5K"``)."""
    compare_at_price: Decimal | None = _money()
    """The struck-through "was" price of a retail package, in ``currency``."""
    compare_at_price_raw: str | None = _text()
    usd_per_1000: Decimal | None = _money()
    """USD per 1000 units at ``valid_from`` (FX moves alone never open a new period)."""
    fx_rate: Decimal | None = _money()
    fx_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    min_quantity: int | None = _bigint()
    max_quantity: int | None = _bigint()
    available: bool | None = _bool()


class OfferEvent(SQLModel, table=True):
    """Something that happened to an offer: new, removed, reinstated, price or limits change."""

    __tablename__ = "offer_event"
    __table_args__ = (
        CheckConstraint(_in("kind", EVENT_KINDS), name="ck_offer_event_kind"),
        Index("ix_offer_event_occurred_at", "occurred_at"),
        Index("ix_offer_event_offer_occurred_at", "offer_id", "occurred_at"),
        Index("ix_offer_event_site_occurred_at", "site_id", "occurred_at"),
    )

    id: int | None = _id_column()
    offer_id: int = _fk("offer.id")
    site_id: str = _fk("site.id", type_=Text)
    run_id: int = _fk("crawl_run.id")
    occurred_at: datetime = _timestamp()
    kind: str = _text(nullable=False)
    old_price: Decimal | None = _money()
    new_price: Decimal | None = _money()
    change_pct: Decimal | None = _money()
    """``(new - old) / old × 100`` rounded to 2 decimals (price events only)."""
    old_currency: str | None = _text()
    new_currency: str | None = _text()
    details: dict[str, Any] | None = _json()
    """Changed fields as ``{"field": [old, new]}`` and other context."""


class CounterReading(SQLModel, table=True):
    """A public counter (orders completed, customers, ...) read on a site at one time."""

    __tablename__ = "counter_reading"
    __table_args__ = (
        Index("ix_counter_reading_site_name_observed", "site_id", "name", "observed_at"),
    )

    id: int | None = _id_column()
    site_id: str = _fk("site.id", type_=Text)
    run_id: int = _fk("crawl_run.id")
    observed_at: datetime = _timestamp()
    name: str = _text(nullable=False)
    value: int = Field(sa_column=Column(BigInteger, nullable=False))
    raw: str | None = _text()


class RejectedOffer(SQLModel, table=True):
    """A record that could not be normalized or failed validation, kept with its reason."""

    __tablename__ = "rejected_offer"
    __table_args__ = (Index("ix_rejected_offer_run", "run_id"),)

    id: int | None = _id_column()
    run_id: int = _fk("crawl_run.id")
    site_id: str = _fk("site.id", type_=Text)
    observed_at: datetime = _timestamp()
    site_offer_id: str | None = _text()
    reason: str = _text(nullable=False)
    raw_text: str | None = _text()
    """The raw record as JSON text, as it came from the extractor."""


class SiteDiscovery(SQLModel, table=True):
    """One source that found a site: a directory page, a link on another seller, the config.

    A site found by several sources has several rows; capture-recapture estimates of the number
    of sellers count on exactly this overlap.
    """

    __tablename__ = "site_discovery"
    __table_args__ = (
        UniqueConstraint("site_id", "source", name="uq_site_discovery_site_source"),
        CheckConstraint(_in("source_kind", DISCOVERY_SOURCE_KINDS),
                        name="ck_site_discovery_source_kind"),
        Index("ix_site_discovery_source", "source"),
    )

    id: int | None = _id_column()
    site_id: str = _fk("site.id", type_=Text)
    source: str = _text(nullable=False)
    """The URL (or name) of what listed the site, e.g. the directory's first page."""
    source_kind: str = _text(nullable=False)
    found_at: datetime = _timestamp()
    """When this source first listed the site."""
    last_seen_at: datetime = _timestamp()
    """When this source last listed the site."""
    evidence: dict[str, Any] | None = _json()
    """What the fingerprint saw (family, markers) and where the link was found."""


class Alert(SQLModel, table=True):
    """A health or market alert, kept whether or not a sink delivered it."""

    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint(_in("kind", ALERT_KINDS), name="ck_alert_kind"),
        CheckConstraint(_in("severity", ALERT_SEVERITIES), name="ck_alert_severity"),
        Index("ix_alert_created_at", "created_at"),
        Index("ix_alert_site_created_at", "site_id", "created_at"),
    )

    id: int | None = _id_column()
    created_at: datetime = _timestamp()
    kind: str = _text(nullable=False)
    rule: str = _text(nullable=False)
    """Which check or rule fired: ``no_offers``, ``offers_halved``, ``price_index_move``, ..."""
    severity: str = _text(nullable=False, default="warning")
    site_id: str | None = Field(default=None, sa_column=Column(Text, ForeignKey("site.id"),
                                                               nullable=True))
    run_id: int | None = Field(default=None, sa_column=Column(IdType, ForeignKey("crawl_run.id"),
                                                              nullable=True))
    message: str = _text(nullable=False)
    details: dict[str, Any] | None = _json()
    dedupe_key: str | None = _text()
    """Same key = same condition; a sink is not told twice about one ongoing condition."""
    deliveries: dict[str, Any] | None = _json()
    """Per sink: ``"ok"`` or the error met while delivering."""



class ResellerLink(SQLModel, table=True):
    """An offer that resells another site's offer (one upstream per reseller offer).

    Computed from stored offers and price history by :mod:`estimates.resellers`: name
    similarity, equal or scaled order limits, same platform × metric, a steady price ratio over
    days and site-pair evidence (a reseller mirrors many services of one upstream at one
    markup). Recomputed after crawls; a link no longer found is deleted.
    """

    __tablename__ = "reseller_link"
    __table_args__ = (
        UniqueConstraint("reseller_offer_id", name="uq_reseller_link_reseller_offer"),
        CheckConstraint("reseller_site_id <> upstream_site_id",
                        name="ck_reseller_link_other_site"),
        Index("ix_reseller_link_sites", "upstream_site_id", "reseller_site_id"),
        Index("ix_reseller_link_upstream_offer", "upstream_offer_id"),
    )

    id: int | None = _id_column()
    reseller_site_id: str = _fk("site.id", type_=Text)
    reseller_offer_id: int = _fk("offer.id")
    upstream_site_id: str = _fk("site.id", type_=Text)
    upstream_offer_id: int = _fk("offer.id")
    confidence: Decimal = _money(nullable=False)
    """0 to 1: how sure the link is (see ``evidence`` for the parts)."""
    price_ratio: Decimal = _money(nullable=False)
    """Reseller USD/1000 over upstream USD/1000: the median over the days both were priced."""
    ratio_cv: Decimal | None = _money()
    """Coefficient of variation of that ratio over the days (``NULL`` with a single day)."""
    name_similarity: Decimal | None = _money()
    """rapidfuzz similarity of the normalized names, 0 to 100."""
    evidence: dict[str, Any] | None = _json()
    """The parts of the confidence: limits match, days compared, site-pair support, method."""
    first_computed_at: datetime = _timestamp()
    last_computed_at: datetime = _timestamp()


class MarketDailyEstimate(SQLModel, table=True):
    """One seller's estimated end-customer orders and revenue (USD) on one day.

    Written by ``clickfarm report market-size`` from :mod:`estimates.market` (a new computation
    replaces the rows of its days); ``method`` says where the orders came from (``counter``,
    ``counter less forwarded orders``, ``customers counter``, ``imputed``) and
    ``counter_accepted`` whether that day's orders counter difference was accepted and used
    (``NULL``: the seller shows no orders counter), ``reason`` why not.
    """

    __tablename__ = "market_daily_estimate"
    __table_args__ = (
        UniqueConstraint("site_id", "day", name="uq_market_daily_estimate_site_day"),
        Index("ix_market_daily_estimate_day", "day"),
    )

    id: int | None = _id_column()
    site_id: str = _fk("site.id", type_=Text)
    day: date = Field(sa_column=Column(Date, nullable=False))
    orders: Decimal = _money(nullable=False)
    revenue_low: Decimal = _money(nullable=False)
    revenue_central: Decimal = _money(nullable=False)
    revenue_high: Decimal = _money(nullable=False)
    method: str = _text(nullable=False)
    counter_accepted: bool | None = _bool()
    reason: str | None = _text()
    computed_at: datetime = _timestamp()

class SchedulerHeartbeat(SQLModel, table=True):
    """A running ``clickfarm schedule`` service, beating every ``interval_seconds``: ``status``
    tells a live scheduler from one that stopped or died (no beat for a few intervals)."""

    __tablename__ = "scheduler_heartbeat"

    scheduler_id: str = Field(sa_column=Column(Text, primary_key=True))
    """``host:pid`` of the service process."""
    host: str = _text(nullable=False)
    pid: int = _int(nullable=False)
    started_at: datetime = _timestamp()
    beat_at: datetime = _timestamp()
    interval_seconds: int = _int(nullable=False)
    stopped_at: datetime | None = _timestamp(nullable=True)
    """Set when the service stopped cleanly; ``NULL`` while it runs (or after it died)."""


class PriceIndexDay(SQLModel, table=True):
    """The daily price index: USD per 1000 over the offers alive on ``day``, per platform ×
    metric × pricing (see :mod:`storage.price_index` for the definitions). Kept up to date by
    ``complete_run`` for the cells a run touched; ``clickfarm db refresh-price-index`` rebuilds
    it."""

    __tablename__ = "price_index"
    __table_args__ = (
        UniqueConstraint("day", "platform", "metric", "pricing", name="uq_price_index_cell"),
        CheckConstraint(_in("pricing", PRICINGS), name="ck_price_index_pricing"),
        Index("ix_price_index_cell_day", "platform", "metric", "pricing", "day"),
    )

    id: int | None = _id_column()
    day: date = Field(sa_column=Column(Date, nullable=False))
    platform: str = _text(nullable=False)
    metric: str = _text(nullable=False)
    pricing: str = _text(nullable=False)
    median: Decimal = _money(nullable=False)
    q1: Decimal = _money(nullable=False)
    q3: Decimal = _money(nullable=False)
    min: Decimal = _money(nullable=False)
    max: Decimal = _money(nullable=False)
    offers: int = _int(nullable=False)
    sellers: int = _int(nullable=False)


class PriceIndexPart(SQLModel, table=True):
    """What one seller adds to one cell of the daily price index over a run of days: its
    offers' USD per 1000 values (exact decimal text, sorted, space-separated), the same on every
    day from ``first_day`` to ``last_day``. A crawl that finds the same values extends the part
    (carried forward); a cell of ``price_index`` is the merge of the parts covering its day."""

    __tablename__ = "price_index_part"
    __table_args__ = (
        CheckConstraint("first_day <= last_day", name="ck_price_index_part_days"),
        Index("ix_price_index_part_site_last_day", "site_id", "last_day"),
        Index("ix_price_index_part_last_day", "last_day", "first_day"),
    )

    id: int | None = _id_column()
    site_id: str = _fk("site.id", type_=Text)
    platform: str = _text(nullable=False)
    metric: str = _text(nullable=False)
    pricing: str = _text(nullable=False)
    first_day: date = Field(sa_column=Column(Date, nullable=False))
    last_day: date = Field(sa_column=Column(Date, nullable=False))
    offers: int = _int(nullable=False)
    prices: str = _text(nullable=False)
CYCLE_STATUSES = ("queued", "running", "succeeded", "failed", "interrupted")
DONE_CYCLE_STATUSES = ("succeeded", "failed")
"""A cycle in one of these is over: a redelivered task of it does nothing."""


class CrawlCycle(SQLModel, table=True):
    """One planned crawl of one site in distributed mode: the site and the time it was planned
    for. The unique pair is what makes a crawl happen once per cycle: the scheduler enqueues a
    cycle only when it inserted its row, a worker claims it before crawling, and a redelivered
    task of a cycle that is over does nothing (``scheduler.distributed``)."""

    __tablename__ = "crawl_cycle"
    __table_args__ = (
        UniqueConstraint("site_id", "planned_at", name="uq_crawl_cycle_site_planned"),
        CheckConstraint(_in("status", CYCLE_STATUSES), name="ck_crawl_cycle_status"),
        Index("ix_crawl_cycle_status", "status"),
    )

    id: int | None = _id_column()
    site_id: str = _text(nullable=False)
    """No foreign key: a cycle may be planned before the site's first crawl registers it."""
    planned_at: datetime = _timestamp()
    status: str = _text(nullable=False, default="queued")
    run_id: int | None = _fk("crawl_run.id", nullable=True)
    """The run of the last attempt."""
    attempts: int = _count()
    worker: str | None = _text()
    """``host:pid`` of the worker process of the last attempt."""
    queued_at: datetime = _timestamp()
    started_at: datetime | None = _timestamp(nullable=True)
    finished_at: datetime | None = _timestamp(nullable=True)
    error: str | None = _text()


class Lease(SQLModel, table=True):
    """A named lease held by one process until ``expires_at`` (renewed while it works):
    ``scheduler`` (the one planning ``clickfarm schedule``) and ``site:<id>`` (the one worker
    crawling a site). See :mod:`storage.leases`."""

    __tablename__ = "lease"

    name: str = Field(sa_column=Column(Text, primary_key=True))
    holder: str = _text(nullable=False)
    """``host:pid:token`` of the holder."""
    acquired_at: datetime = _timestamp()
    expires_at: datetime = _timestamp()


def _table_of(model: type[SQLModel]) -> Table:
    # Read through the mapper: SQLModel's classes do not declare __table__ to type checkers.
    table = inspect(model).local_table
    assert isinstance(table, Table), model
    return table


# SQLAlchemy Core handles of the tables, for the queries and bulk writes of the hot paths.
site_table = _table_of(Site)
run_table = _table_of(CrawlRun)
offer_table = _table_of(Offer)
period_table = _table_of(OfferPricePeriod)
event_table = _table_of(OfferEvent)
counter_table = _table_of(CounterReading)
rejected_table = _table_of(RejectedOffer)
discovery_table = _table_of(SiteDiscovery)
alert_table = _table_of(Alert)
reseller_link_table = _table_of(ResellerLink)
market_daily_table = _table_of(MarketDailyEstimate)
heartbeat_table = _table_of(SchedulerHeartbeat)
price_index_table = _table_of(PriceIndexDay)
price_index_part_table = _table_of(PriceIndexPart)
cycle_table = _table_of(CrawlCycle)
lease_table = _table_of(Lease)

TABLE_NAMES = (
    "site",
    "crawl_run",
    "offer",
    "offer_price_period",
    "offer_event",
    "counter_reading",
    "rejected_offer",
    "site_discovery",
    "alert",
    "reseller_link",
    "market_daily_estimate",
    "scheduler_heartbeat",
    "price_index",
    "price_index_part",
    "crawl_cycle",
    "lease",
)
VIEW_NAMES = (
    "v_offer_current",
    "v_price_history",
    "v_offer_changes",
    "v_run_summary",
    "v_counter_deltas",
    "v_market_daily",
    "v_market_daily_total",
)
