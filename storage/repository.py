"""Data access: the only code that writes the tables.

Every function takes the engine and keyword-only arguments, opens its own transaction and
returns plain values. The hot path, :func:`complete_run`, stores a whole crawl in one
transaction with SQLAlchemy Core bulk statements: one SELECT of the site's offers and their
current price periods, ``executemany`` inserts, and ``UPDATE ... WHERE id IN (...)`` in chunks.
There is no per-offer round trip, so a crawl of 20 000 offers costs a handful of statements.

Change-only history (see :mod:`storage.models`): an offer whose price values (price, currency,
quantity, min, max, and for retail packages the compare-at price and availability) did not
change only moves ``last_confirmed_at`` of its current period.
The comparison is on native values, so a move of the exchange rate alone never opens a period.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Engine,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError

from core.offers import ConfirmedOffer, CounterValue, NormalizedOffer, Rejection
from core.processes import process_alive
from core.redact import drop_secret_keys, redact_json, redact_text
from storage.db import write_transaction
from storage.models import (
    FINISHED_RUN_STATUSES,
    RUN_STATUSES,
    SITE_STATUSES,
    TABLE_NAMES,
    counter_table,
    event_table,
    offer_table,
    period_table,
    rejected_table,
    run_table,
    site_table,
)
from storage.price_index import SiteChange
from storage.price_index import refresh_after_run as refresh_price_index
from storage.types import (
    checked_decimal,
    datetime_to_text,
    decimal_from_db,
    decimal_to_text,
    dumps_json,
    json_default,
)

logger = logging.getLogger(__name__)


DUPLICATE_REASON = "duplicate site_offer_id"
MISSING_ID_REASON = "missing site_offer_id"
# Ids per "WHERE id IN (...)": far below SQLite's 32766 and PostgreSQL's 65535 bind parameters.
_IN_CHUNK = 5_000
# Below this many new offers, their ids are fetched by site_offer_id; above, the whole site.
_SMALL_LOOKUP = 500

# Offer columns that describe the listing; updated in bulk when a crawl sees other values.
_OFFER_FIELDS = (
    "name",
    "name_raw",
    "category",
    "platform",
    "metric",
    "pricing",
    "service_type",
    "description",
    "average_time",
    "refill_flag",
    "cancel_flag",
)
_ATTRIBUTE_FIELDS = (
    "refill_days",
    "quality",
    "country",
    "drip_feed",
    "speed_per_day",
    "start_time_hours",
    "max_from_name",
    "non_drop",
)
_METADATA_FIELDS = _OFFER_FIELDS + _ATTRIBUTE_FIELDS
# What makes a new price period. usd_per_1000 is deliberately absent (FX moves are not changes).
_PRICE_KEY_FIELDS = ("price", "currency", "quantity", "min_quantity", "max_quantity",
                     "compare_at_price", "available")
_PERCENT = Decimal("0.01")
_HUNDRED = Decimal(100)


@dataclass(slots=True, frozen=True)
class StoreResult:
    """What :func:`complete_run` stored."""

    new: int
    changed: int
    """Offers whose price values changed (a period was closed and a new one opened)."""
    unchanged: int
    removed: int
    reinstated: int
    rejected: int
    """Rejections stored: those passed in plus duplicates found in the batch."""
    price_rows_added: int
    events_added: int
    metadata_updated: int = 0
    """Offers whose name, category, platform, metric or attributes were updated."""


class StaleConfirmation(Exception):
    """Confirmed listings (``ConfirmedOffer``) whose stored offer is no longer the one they were
    recognized against (its fingerprint changed, it was removed, its period closed): nothing was
    stored; normalize them in full and store again."""

    def __init__(self, site_offer_ids: frozenset[str]) -> None:
        super().__init__(f"{len(site_offer_ids)} confirmed offers changed in storage meanwhile")
        self.site_offer_ids = site_offer_ids


def offer_fingerprints(engine: Engine, *, site_id: str) -> dict[str, str]:
    """``site_offer_id`` -> raw fingerprint of the site's active offers with an open price
    period: the listings a crawl may only confirm (``pipelines.recognize_pipeline``)."""
    with engine.connect() as connection:
        rows = connection.execute(text(_FINGERPRINT_SQL), {"site_id": site_id}).all()
    return {site_offer_id: fingerprint for site_offer_id, fingerprint in rows}


_FINGERPRINT_SQL = (
    "SELECT o.site_offer_id, o.raw_fingerprint FROM offer AS o"
    " JOIN offer_price_period AS p ON p.offer_id = o.id AND p.valid_to IS NULL"
    " WHERE o.site_id = :site_id AND o.is_active AND o.raw_fingerprint IS NOT NULL"
)


# --------------------------------------------------------------------------------------------
# sites and runs


def upsert_site(
    engine: Engine,
    *,
    site_id: str,
    url: str,
    family: str,
    currency: str | None,
    status: str = "active",
    discovered_via: str | None = None,
    now: datetime,
    config: dict[str, Any] | None = None,
) -> None:
    """Insert the site or update it (url, family, currency, status, config, last seen).

    ``first_seen_at`` and the first ``discovered_via`` are kept. ``config`` is stored without
    secrets (keys such as ``api_key``, ``token``, ``password`` and URL passwords are removed).
    """
    _require_aware("now", now)
    if status not in SITE_STATUSES:
        raise ValueError(f"site status must be one of {SITE_STATUSES}, got {status!r}")
    values = {
        "id": site_id,
        "url": url,
        "family": family,
        "currency": currency,
        "status": status,
        "first_seen_at": now,
        "last_seen_at": now,
        "discovered_via": discovered_via,
        "config": redact_secrets(config) if config is not None else None,
    }
    with write_transaction(engine) as connection:
        dialect = connection.dialect.name
        insert_factory = pg_dialect.insert if dialect == "postgresql" else sqlite_dialect.insert
        statement = insert_factory(site_table).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[site_table.c.id],
            set_={
                "url": statement.excluded.url,
                "family": statement.excluded.family,
                "currency": statement.excluded.currency,
                "status": statement.excluded.status,
                "config": statement.excluded.config,
                "last_seen_at": statement.excluded.last_seen_at,
                "discovered_via": func.coalesce(
                    site_table.c.discovered_via, statement.excluded.discovered_via
                ),
            },
        )
        connection.execute(statement)


RUN_TRIGGERS = ("manual", "schedule", "demo", "import")


def start_run(
    engine: Engine,
    *,
    site_id: str,
    started_at: datetime,
    pid: int | None = None,
    trigger: str | None = None,
    planned_at: datetime | None = None,
) -> int:
    """Record a crawl of ``site_id`` as ``running`` and return its id.

    ``trigger`` says what started it (``manual``, ``schedule``, ``demo``, ``import``: a
    published price list, ``clickfarm import-csv``); ``planned_at`` is
    when the scheduler planned it (``started_at - planned_at`` is the start delay).
    """
    _require_aware("started_at", started_at)
    if planned_at is not None:
        _require_aware("planned_at", planned_at)
    if trigger is not None and trigger not in RUN_TRIGGERS:
        raise ValueError(f"run trigger must be one of {RUN_TRIGGERS}, got {trigger!r}")
    with write_transaction(engine) as connection:
        result = connection.execute(
            insert(run_table).values(
                site_id=site_id,
                started_at=started_at,
                status="running",
                pid=pid,
                trigger=trigger,
                planned_at=planned_at,
            )
        )
        primary_key = result.inserted_primary_key
        assert primary_key is not None  # None only for executemany, not a one-row insert
        return int(primary_key[0])


def set_run_pid(engine: Engine, run_ids: Sequence[int], pid: int) -> None:
    """Record the crawl process of runs the parent created before starting it (the stale-run
    check at start closes runs whose process is gone)."""
    if not run_ids:
        return
    with write_transaction(engine) as connection:
        connection.execute(update(run_table).where(run_table.c.id.in_(list(run_ids)))
                           .values(pid=pid))


def fail_run(
    engine: Engine,
    *,
    run_id: int,
    finished_at: datetime,
    error: str,
    status: str = "failed",
    rejections: Sequence[Rejection] = (),
    stats: dict[str, Any] | None = None,
    only_if_running: bool = False,
) -> bool:
    """Close a run that stored no offers (``failed`` or ``interrupted``), keeping its rejections.

    The caller's verdict wins: the run is closed whatever status it had, unless
    ``only_if_running`` (the scheduler settling a crawl process that ended: a run the process
    closed itself keeps its status). ``stats=None`` keeps the stats already recorded. Returns
    whether the run was closed.
    """
    _require_aware("finished_at", finished_at)
    if status not in ("failed", "interrupted", "partial"):
        raise ValueError(f"fail_run status must be failed, interrupted or partial, got {status!r}")
    with write_transaction(engine) as connection:
        run = connection.execute(
            select(run_table.c.site_id, run_table.c.status)
            .where(run_table.c.id == run_id)
            .with_for_update()  # the crawl process may be closing it right now (PostgreSQL)
        ).one_or_none()
        if run is None:
            raise LookupError(f"crawl run {run_id} does not exist")
        if only_if_running and run.status != "running":
            return False
        _insert_rejections(
            connection,
            codec=_Codec(connection.dialect.name, finished_at),
            run_id=run_id,
            site_id=run.site_id,
            rejections=rejections,
        )
        connection.execute(
            update(run_table)
            .where(run_table.c.id == run_id)
            .values(
                status=status,
                finished_at=finished_at,
                error=redact_text(error),
                # Re-closing a run (the scheduler adding why it stopped) keeps its counts.
                **({"offers_rejected": len(rejections)} if rejections else {}),
                **({"stats": redact_json(stats)} if stats is not None else {}),
            )
        )
    return True


def mark_stale_runs_interrupted(engine: Engine, *, now: datetime) -> int:
    """Close as ``interrupted`` the runs still ``running`` whose process is gone; return how many.

    Only runs with a recorded ``pid`` are checked, against the processes of this machine.
    """
    _require_aware("now", now)
    with write_transaction(engine) as connection:
        running = connection.execute(
            select(run_table.c.id, run_table.c.pid).where(
                run_table.c.status == "running", run_table.c.pid.is_not(None)
            )
        ).all()
        stale = [
            {"b_id": run.id, "error": f"crawl process {run.pid} is gone (interrupted)"}
            for run in running
            if not process_alive(run.pid)
        ]
        if stale:
            connection.execute(
                update(run_table)
                .where(run_table.c.id == bindparam("b_id"), run_table.c.status == "running")
                .values(status="interrupted", finished_at=now, error=bindparam("error")),
                stale,
            )
    return len(stale)


def last_successful_offer_count(engine: Engine, *, site_id: str) -> int | None:
    """Offers seen by the last ``succeeded`` run of the site, ``None`` if it never succeeded."""
    with engine.connect() as connection:
        return connection.execute(
            select(run_table.c.offers_seen)
            .where(run_table.c.site_id == site_id, run_table.c.status == "succeeded")
            .order_by(run_table.c.finished_at.desc(), run_table.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()


def active_offer_count(engine: Engine, *, site_id: str) -> int:
    """Offers of the site that its last complete listing still showed."""
    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(offer_table)
            .where(offer_table.c.site_id == site_id, offer_table.c.is_active.is_(True))
        ).scalar_one()


def active_offer_counts(engine: Engine) -> dict[str, int]:
    """Active offers per site, for every site that has any (one query)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(offer_table.c.site_id, func.count())
            .where(offer_table.c.is_active.is_(True))
            .group_by(offer_table.c.site_id)
        )
        return {site_id: count for site_id, count in rows}


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every table, in schema order."""
    with engine.connect() as connection:
        return {
            name: connection.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one()
            for name in TABLE_NAMES
        }


# --------------------------------------------------------------------------------------------
# storing a crawl


def complete_run(
    engine: Engine,
    *,
    run_id: int,
    site_id: str,
    observed_at: datetime,
    offers: Sequence[NormalizedOffer | ConfirmedOffer],
    rejections: Sequence[Rejection],
    counters: Sequence[CounterValue],
    status: str = "succeeded",
    pages: int = 0,
    error: str | None = None,
    stats: dict[str, Any] | None = None,
    complete_listing: bool = True,
    finished_at: datetime | None = None,
    refresh_index: bool = True,
) -> StoreResult:
    """Store one crawl of one site and close its run, in ONE transaction.

    ``refresh_index=False`` leaves the stored daily price index alone: a bulk import
    (``clickfarm import-csv``) rebuilds the days it covered once at its end instead.

    For each offer (identity: ``site_id`` + ``site_offer_id``; a repeated id in the batch keeps
    the first and rejects the rest as ``duplicate site_offer_id``):

    - new: an ``offer`` row, a price period and a ``new`` event;
    - same price values as its current period: only ``last_confirmed_at`` (and the offer's
      ``last_seen_at``) move;
    - other price values: the current period is closed at ``observed_at``, a new one opens, and
      a ``price_up`` / ``price_down`` event (``change_pct`` = (new − old) / old × 100, 2 dp) or a
      ``limits_changed`` event records it (a retail package whose compare-at price or
      availability alone changed is a ``limits_changed`` with the values in ``details``);
    - removed earlier and seen again: a ``reinstated`` event and a new period;
    - a :class:`~core.offers.ConfirmedOffer` (its raw record has the stored fingerprint): only
      ``last_confirmed_at`` and ``last_seen_at`` move; if the stored offer is no longer the one
      it was recognized against, :class:`StaleConfirmation` is raised before anything is
      written (normalize those offers and call again).

    Name, category, platform, metric and attributes are updated when they differ. When
    ``complete_listing`` is true, active offers missing from the batch are ``removed`` (event,
    ``is_active`` false, ``removed_at``, current period closed); a partial listing never removes
    anything. Rejections and counters are stored and the run gets its counts, status, stats and
    ``finished_at`` (default ``observed_at``). On any error the transaction is rolled back (nothing of the batch is
    stored), the run stays ``running`` and the exception propagates: call :func:`fail_run`.
    """
    _require_aware("observed_at", observed_at)
    if finished_at is not None:
        _require_aware("finished_at", finished_at)
    if status not in FINISHED_RUN_STATUSES:
        raise ValueError(f"a completed run's status must be one of {FINISHED_RUN_STATUSES}")

    unique_offers, extra_rejections = _deduplicate(offers)
    all_rejections = [*rejections, *extra_rejections]

    with write_transaction(engine) as connection:
        run = connection.execute(
            select(run_table.c.site_id, run_table.c.status).where(run_table.c.id == run_id)
        ).one_or_none()
        if run is None:
            raise LookupError(f"crawl run {run_id} does not exist")
        if run.site_id != site_id:
            raise ValueError(f"crawl run {run_id} belongs to site {run.site_id!r}, not {site_id!r}")
        if run.status != "running":
            raise ValueError(f"crawl run {run_id} is already {run.status}")
        # Two stores of one site must not interleave (both would insert the same new offers
        # and disagree on removals): lock the site row. SQLite's write lock already does it.
        connection.execute(
            select(site_table.c.id).where(site_table.c.id == site_id).with_for_update()
        )

        codec = _Codec(connection.dialect.name, observed_at)
        plan = _plan(
            connection,
            site_id=site_id,
            offers=unique_offers,
            complete_listing=complete_listing,
            # Ids as the offers carry them (stripped text), whatever the stage wrote.
            rejected_site_offer_ids=frozenset(
                str(r.site_offer_id).strip() for r in all_rejections if r.site_offer_id
            ),
        )
        periods_added, events_added = _write(
            connection,
            plan=plan,
            codec=codec,
            run_id=run_id,
            site_id=site_id,
            observed_at=observed_at,
        )
        # The daily price index cells this run can have changed, in the same transaction.
        if refresh_index:
            refresh_price_index(connection, _index_change(connection, plan, site_id, observed_at))
        _insert_rejections(
            connection, codec=codec, run_id=run_id, site_id=site_id, rejections=all_rejections
        )
        _insert_counters(connection, codec=codec, run_id=run_id, site_id=site_id, counters=counters)

        result = StoreResult(
            new=len(plan.new),
            changed=len(plan.changed) + len(plan.reopened),
            unchanged=len(plan.unchanged_period_ids),
            removed=len(plan.gone),
            reinstated=len(plan.reinstated),
            rejected=len(all_rejections),
            price_rows_added=periods_added,
            events_added=events_added,
            metadata_updated=len(plan.metadata_updates),
        )
        run_stats = dict(stats or {})
        run_stats["storage"] = {
            "duplicates": sum(1 for r in extra_rejections if r.reason == DUPLICATE_REASON),
            "metadata_updated": result.metadata_updated,
            "events_added": result.events_added,
            "counters": len(counters),
            "complete_listing": complete_listing,
        }
        connection.execute(
            update(run_table)
            .where(run_table.c.id == run_id)
            .values(
                status=status,
                finished_at=finished_at or observed_at,
                pages=pages,
                offers_seen=len(unique_offers),
                offers_new=result.new,
                offers_changed=result.changed,
                offers_unchanged=result.unchanged,
                offers_removed=result.removed,
                offers_reinstated=result.reinstated,
                offers_rejected=result.rejected,
                price_rows_added=result.price_rows_added,
                # A seller may echo the API key in an error message: never stored.
                error=redact_text(error) if error else error,
                stats=redact_json(run_stats),
            )
        )
        if status in ("succeeded", "partial"):
            connection.execute(
                update(site_table)
                .where(site_table.c.id == site_id, site_table.c.last_seen_at < observed_at)
                .values(last_seen_at=observed_at)
            )
    return result


class _Codec:
    """Python values as the driver receives them on the bulk path (validated on the way).

    Bulk rows bypass the column types, so they are prepared here: on SQLite in storage form
    (exact decimal text, UTC timestamp text, ISO dates, JSON text) for ``cursor.executemany``;
    on PostgreSQL as checked Decimals, aware datetimes and JSON text for ``COPY``.
    """

    def __init__(self, dialect_name: str, observed_at: datetime) -> None:
        if dialect_name == "sqlite":
            self.money: Any = decimal_to_text
            self.timestamp: Any = datetime_to_text
            self.date: Any = _iso_date
        else:
            self.money = _checked_decimal_or_none
            self.timestamp = _aware
            self.date = _same
        self.json = _json_text
        self.observed_at = self.timestamp(observed_at)


def _same(value: Any) -> Any:
    return value


def _checked_decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else checked_decimal(value)


def _aware(value: datetime) -> datetime:
    _require_aware("timestamp", value)
    return value


def _iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _json_text(value: Any) -> str | None:
    return None if value is None else dumps_json(value)


def _insert_rows(
    connection: Any, table: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Bulk insert of ``rows`` (tuples in ``columns`` order, prepared by :class:`_Codec`).

    SQLite: one ``executemany``. PostgreSQL: ``COPY ... FROM STDIN``, several times faster than
    psycopg's pipelined ``executemany`` (one INSERT per row). Both run on the DBAPI connection
    of the caller's transaction, so a later error still rolls them back.
    """
    if not rows:
        return
    column_list = ", ".join(columns)
    if connection.dialect.name == "sqlite":
        placeholders = ", ".join("?" * len(columns))
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({column_list}) VALUES ({placeholders})", rows
        )
        return
    statement = f"COPY {table.name} ({column_list}) FROM STDIN"
    dbapi_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi_error as error:
        # The same exception classes as every other statement (IntegrityError, ...).
        raise DBAPIError.instance(statement, None, error, dbapi_error) from error
    finally:
        cursor.close()


_OFFER_INSERT_COLUMNS = (
    "site_id",
    "site_offer_id",
    *_METADATA_FIELDS,
    "first_seen_at",
    "last_seen_at",
    "removed_at",
    "is_active",
    "raw_fingerprint",
)
_PERIOD_INSERT_COLUMNS = (
    "offer_id",
    "run_id",
    "valid_from",
    "valid_to",
    "last_confirmed_at",
    "price",
    "price_raw",
    "currency",
    "quantity",
    "quantity_raw",
    "compare_at_price",
    "compare_at_price_raw",
    "usd_per_1000",
    "fx_rate",
    "fx_date",
    "min_quantity",
    "max_quantity",
    "available",
)
_EVENT_INSERT_COLUMNS = (
    "offer_id",
    "site_id",
    "run_id",
    "occurred_at",
    "kind",
    "old_price",
    "new_price",
    "change_pct",
    "old_currency",
    "new_currency",
    "details",
)

# The one read of the hot path: every offer of the site with its open price period, raw (no
# type processing: the values are compared, not returned). Column positions are the _R_* below.
_EXISTING_SQL = (
    "SELECT o.id, o.site_offer_id, o.is_active, "
    + ", ".join(f"o.{name}" for name in _METADATA_FIELDS)
    + ", p.id, p.price, p.currency, p.quantity, p.min_quantity, p.max_quantity, p.usd_per_1000"
    ", p.compare_at_price, p.available, o.raw_fingerprint, p.last_confirmed_at, o.removed_at"
    " FROM offer AS o"
    " LEFT JOIN offer_price_period AS p ON p.offer_id = o.id AND p.valid_to IS NULL"
    " WHERE o.site_id = :site_id"
)
_EXISTING_SQL_QMARK = _EXISTING_SQL.replace(":site_id", "?")
_R_ID, _R_SITE_OFFER_ID, _R_ACTIVE = 0, 1, 2
_R_META = 3
_R_META_END = _R_META + len(_METADATA_FIELDS)
_R_START_TIME = _R_META + _METADATA_FIELDS.index("start_time_hours")
_R_PERIOD = _R_META_END
_R_PRICE, _R_CURRENCY, _R_QUANTITY, _R_MIN, _R_MAX, _R_USD, _R_COMPARE_AT, _R_AVAILABLE = range(
    _R_PERIOD + 1, _R_PERIOD + 9
)
_R_FINGERPRINT, _R_CONFIRMED, _R_REMOVED = _R_PERIOD + 9, _R_PERIOD + 10, _R_PERIOD + 11
_R_CELL = tuple(_R_META + _METADATA_FIELDS.index(name) for name in ("platform", "metric", "pricing"))


def _existing_rows(connection: Any, site_id: str) -> list[Any]:
    if connection.dialect.name == "sqlite":
        # Plain tuples from the DBAPI cursor of this same connection and transaction: wrapping
        # tens of thousands of rows in Row objects costs as much as reading them.
        cursor = connection.connection.cursor()
        try:
            cursor.execute(_EXISTING_SQL_QMARK, (site_id,))
            return cursor.fetchall()
        finally:
            cursor.close()
    return connection.execute(text(_EXISTING_SQL), {"site_id": site_id}).all()


@dataclass(slots=True)
class _Plan:
    """The batch sorted against what the database holds (rows are ``_EXISTING_SQL`` rows)."""

    new: list[NormalizedOffer] = field(default_factory=list)
    unchanged_period_ids: list[int] = field(default_factory=list)
    fingerprint_updates: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[NormalizedOffer, Any]] = field(default_factory=list)
    reinstated: list[tuple[NormalizedOffer, Any]] = field(default_factory=list)
    reopened: list[tuple[NormalizedOffer, Any]] = field(default_factory=list)
    """Active offers without an open period: never produced here, repaired with a new period."""
    gone: list[Any] = field(default_factory=list)
    """Active offers a complete listing no longer shows."""
    metadata_updates: list[dict[str, Any]] = field(default_factory=list)
    seen_offer_ids: list[int] = field(default_factory=list)
    unchanged_rows: list[Any] = field(default_factory=list)
    """The stored rows of ``unchanged_period_ids`` (their previous confirmation)."""
    cells_before: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    latest_seen: date | None = None
    """The last day any stored period or removal of the seller was seen (price index)."""
    """Offer id -> stored (platform, metric, pricing), for the offers whose metadata changed."""


def _deduplicate(
    offers: Sequence[NormalizedOffer | ConfirmedOffer],
) -> tuple[list[NormalizedOffer | ConfirmedOffer], list[Rejection]]:
    unique: dict[str, NormalizedOffer | ConfirmedOffer] = {}
    rejections: list[Rejection] = []
    for offer in offers:
        site_offer_id = offer.site_offer_id
        if not site_offer_id:
            rejections.append(
                Rejection(site_offer_id=None, reason=MISSING_ID_REASON, raw=_offer_json(offer))
            )
        elif site_offer_id in unique:
            rejections.append(
                Rejection(
                    site_offer_id=site_offer_id, reason=DUPLICATE_REASON, raw=_offer_json(offer)
                )
            )
        else:
            unique[site_offer_id] = offer
    return list(unique.values()), rejections


def _plan(
    connection: Any,
    *,
    site_id: str,
    offers: list[NormalizedOffer | ConfirmedOffer],
    complete_listing: bool,
    rejected_site_offer_ids: frozenset[str] = frozenset(),
) -> _Plan:
    """Read the site's offers and current periods in one query; sort the batch into kinds."""
    existing = {row[_R_SITE_OFFER_ID]: row for row in _existing_rows(connection, site_id)}
    plan = _Plan()
    stale: set[str] = set()
    for offer in offers:
        row = existing.get(offer.site_offer_id)
        if isinstance(offer, ConfirmedOffer):
            if (row is None or not row[_R_ACTIVE] or row[_R_PERIOD] is None
                    or row[_R_FINGERPRINT] != offer.raw_fingerprint):
                stale.add(offer.site_offer_id)
            else:
                plan.seen_offer_ids.append(row[_R_ID])
                plan.unchanged_period_ids.append(row[_R_PERIOD])
                plan.unchanged_rows.append(row)
            continue
        if row is None:
            plan.new.append(offer)
            continue
        plan.seen_offer_ids.append(row[_R_ID])
        if offer.raw_fingerprint != row[_R_FINGERPRINT]:
            plan.fingerprint_updates.append(
                {"b_id": row[_R_ID], "raw_fingerprint": offer.raw_fingerprint})
        metadata = _metadata(offer)
        stored_metadata = tuple(row[_R_META:_R_META_END])
        if stored_metadata[_R_START_TIME - _R_META] is not None:  # SQLite returns the text
            stored_metadata = _with_decimal(stored_metadata, _R_START_TIME - _R_META)
        # Booleans compare equal to SQLite's 0/1, so the raw row compares as is.
        if metadata != stored_metadata:
            update_row = dict(zip(_METADATA_FIELDS, metadata, strict=True))
            update_row["b_id"] = row[_R_ID]
            plan.metadata_updates.append(update_row)
            plan.cells_before[row[_R_ID]] = tuple(row[index] for index in _R_CELL)
        if not row[_R_ACTIVE]:
            plan.reinstated.append((offer, row))
        elif row[_R_PERIOD] is None:
            plan.reopened.append((offer, row))
        elif (
            offer.currency == row[_R_CURRENCY]
            and offer.quantity == row[_R_QUANTITY]
            and offer.min_quantity == row[_R_MIN]
            and offer.max_quantity == row[_R_MAX]
            and offer.price == decimal_from_db(row[_R_PRICE])
            and offer.compare_at_price == decimal_from_db(row[_R_COMPARE_AT])
            # SQLite returns 0/1, which compare equal to False/True.
            and offer.available == row[_R_AVAILABLE]
        ):
            plan.unchanged_period_ids.append(row[_R_PERIOD])
            plan.unchanged_rows.append(row)
        else:
            plan.changed.append((offer, row))
    if stale:
        raise StaleConfirmation(frozenset(stale))
    latest = max((value for row in existing.values()
                  for value in (row[_R_CONFIRMED], row[_R_REMOVED]) if value is not None),
                 default=None)
    plan.latest_seen = _utc_day(latest)
    if complete_listing:
        seen = set(plan.seen_offer_ids)
        # A listing rejected today (a bad value) is still on the seller's list: not removed.
        plan.gone = [
            row
            for row in existing.values()
            if row[_R_ACTIVE]
            and row[_R_ID] not in seen
            and row[_R_SITE_OFFER_ID] not in rejected_site_offer_ids
        ]
    return plan


def _write(
    connection: Any,
    *,
    plan: _Plan,
    codec: _Codec,
    run_id: int,
    site_id: str,
    observed_at: datetime,
) -> tuple[int, int]:
    """Apply the plan with bulk statements; return (price periods added, events added)."""
    periods: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    periods_to_close: list[int] = []
    money, now = codec.money, codec.observed_at

    if plan.new:
        _insert_rows(
            connection,
            offer_table,
            _OFFER_INSERT_COLUMNS,
            [_new_offer_row(offer, site_id, codec) for offer in plan.new],
        )
        new_ids = _offer_ids(connection, site_id, [offer.site_offer_id for offer in plan.new])
        for offer in plan.new:
            offer_id = new_ids[offer.site_offer_id]
            periods.append(_period_row(offer, offer_id, run_id, codec))
            events.append(
                (
                    offer_id,
                    site_id,
                    run_id,
                    now,
                    "new",
                    None,
                    money(offer.price),
                    None,
                    None,
                    offer.currency,
                    None,
                )
            )

    for offer, row in plan.changed:
        periods_to_close.append(row[_R_PERIOD])
        periods.append(_period_row(offer, row[_R_ID], run_id, codec))
        events.append(_change_event(offer, row, site_id, run_id, codec))
    for offer, row in plan.reopened:
        periods.append(_period_row(offer, row[_R_ID], run_id, codec))

    if plan.reinstated:
        reinstated_ids = [row[_R_ID] for _offer, row in plan.reinstated]
        before = _state_before_removal(connection, reinstated_ids)
        _update_ids(connection, offer_table, reinstated_ids, is_active=True, removed_at=None)
        for offer, row in plan.reinstated:
            offer_id = row[_R_ID]
            periods.append(_period_row(offer, offer_id, run_id, codec))
            old_price, old_currency, removed_at = before.get(offer_id, (None, None, None))
            events.append(
                (
                    offer_id,
                    site_id,
                    run_id,
                    now,
                    "reinstated",
                    money(old_price),
                    money(offer.price),
                    None,
                    old_currency,
                    offer.currency,
                    codec.json({"removed_at": removed_at}),
                )
            )

    if plan.gone:
        _update_ids(
            connection,
            offer_table,
            [row[_R_ID] for row in plan.gone],
            is_active=False,
            removed_at=observed_at,
        )
        for row in plan.gone:
            if row[_R_PERIOD] is not None:
                periods_to_close.append(row[_R_PERIOD])
            events.append(
                (
                    row[_R_ID],
                    site_id,
                    run_id,
                    now,
                    "removed",
                    money(decimal_from_db(row[_R_PRICE])),
                    None,
                    None,
                    row[_R_CURRENCY],
                    None,
                    None,
                )
            )

    # Close before inserting: at most one open period per offer (a unique partial index).
    _update_ids(connection, period_table, periods_to_close, valid_to=observed_at)
    _update_ids(connection, period_table, plan.unchanged_period_ids, last_confirmed_at=observed_at)
    _update_ids(connection, offer_table, plan.seen_offer_ids, last_seen_at=observed_at)
    if plan.metadata_updates:
        connection.execute(
            update(offer_table)
            .where(offer_table.c.id == bindparam("b_id"))
            .values({name: bindparam(name) for name in _METADATA_FIELDS}),
            plan.metadata_updates,
        )
    if plan.fingerprint_updates:
        connection.execute(
            update(offer_table)
            .where(offer_table.c.id == bindparam("b_id"))
            .values(raw_fingerprint=bindparam("raw_fingerprint")),
            plan.fingerprint_updates,
        )
    _insert_rows(connection, period_table, _PERIOD_INSERT_COLUMNS, periods)
    _insert_rows(connection, event_table, _EVENT_INSERT_COLUMNS, events)
    return len(periods), len(events)


def _index_change(connection: Any, plan: _Plan, site_id: str, observed_at: datetime
                  ) -> SiteChange:
    """What the run changed in its seller's part of the daily price index.

    A period is alive on the days from its ``valid_from`` to its ``last_confirmed_at``
    (:mod:`storage.price_index`). On the usual path (the seller's first crawl of the day, the day
    after the previous one) the seller's values on the crawl day are exactly the batch's: new,
    changed, reinstated and confirmed offers at their current USD value, read from memory.
    Removals and closed periods keep their ``last_confirmed_at``: no earlier day changes. Read
    back from the history instead: the days between a confirmation and the previous one, a
    second crawl the same day (an earlier crawl's values are alive too), a crawl older than the
    stored ones, and every day of an offer moved to another platform, metric or pricing.
    """
    today = observed_at.astimezone(UTC).date()
    known: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    low: date | None = None
    high: date | None = None

    def widen(first: date, last: date) -> None:
        nonlocal low, high
        low = first if low is None else min(low, first)
        high = last if high is None else max(high, last)

    for offer in (*plan.new, *(offer for offer, _row in plan.changed),
                  *(offer for offer, _row in plan.reopened),
                  *(offer for offer, _row in plan.reinstated)):
        usd = offer.usd_per_1000
        if offer.platform and offer.metric and usd is not None and usd > 0:
            known[(offer.platform, offer.metric, offer.pricing)].append(usd)
    yesterday = today - _ONE_DAY
    # Raw values as the driver returns them (SQLite text, PostgreSQL Decimal and datetime):
    # compared and copied, not converted, for the thousands of confirmed offers.
    sqlite = connection.dialect.name == "sqlite"
    gap_before: Any = (yesterday.isoformat() if sqlite
                       else datetime.combine(yesterday, datetime.min.time(), UTC))
    for row in plan.unchanged_rows:
        platform, metric, pricing = row[_R_CELL[0]], row[_R_CELL[1]], row[_R_CELL[2]]
        usd = row[_R_USD]
        if platform and metric and usd is not None and (float(usd) if sqlite else usd) > 0:
            known[(platform, metric, pricing)].append(usd)
        confirmed = row[_R_CONFIRMED]
        if confirmed is not None and confirmed < gap_before:
            previous = _utc_day(confirmed)
            assert previous is not None
            widen(previous + _ONE_DAY, yesterday)
    if plan.latest_seen is not None and plan.latest_seen >= today:
        widen(today, plan.latest_seen)
    moved = [update_row["b_id"] for update_row in plan.metadata_updates
             if tuple(update_row[name] for name in ("platform", "metric", "pricing"))
             != plan.cells_before.get(update_row["b_id"])]
    if moved:
        first, last = _history_days(connection, moved)
        if first is not None and last is not None:
            widen(first, max(last, today))
    return SiteChange(site_id=site_id, known={today: dict(known)},
                      recompute=(low, high) if low is not None and high is not None else None)


def _history_days(connection: Any, offer_ids: list[int]) -> tuple[date | None, date | None]:
    """The first and last day of the price history of these offers."""
    first: date | None = None
    last: date | None = None
    for chunk in _chunks(offer_ids):
        low, high = connection.execute(
            select(func.min(period_table.c.valid_from),
                   func.max(period_table.c.last_confirmed_at))
            .where(period_table.c.offer_id.in_(chunk))).one()
        low_day, high_day = _utc_day(low), _utc_day(high)
        if low_day is not None:
            first = low_day if first is None else min(first, low_day)
        if high_day is not None:
            last = high_day if last is None else max(last, high_day)
    return first, last


def _utc_day(value: Any) -> date | None:
    """The UTC day of a raw timestamp (SQLite text, PostgreSQL datetime)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    return date.fromisoformat(str(value)[:10])


_ONE_DAY = timedelta(days=1)


def _metadata(offer: NormalizedOffer) -> tuple[Any, ...]:
    """The offer's values for ``_METADATA_FIELDS``, in that order."""
    attributes = offer.attributes
    return (
        offer.name,
        offer.name_raw,
        offer.category,
        offer.platform,
        offer.metric,
        offer.pricing,
        offer.service_type,
        offer.description,
        offer.average_time,
        offer.refill_flag,
        offer.cancel_flag,
        attributes.refill_days,
        attributes.quality,
        attributes.country,
        attributes.drip_feed,
        attributes.speed_per_day,
        attributes.start_time_hours,
        attributes.max_from_name,
        attributes.non_drop,
    )


def _with_decimal(values: tuple[Any, ...], index: int) -> tuple[Any, ...]:
    return (*values[:index], decimal_from_db(values[index]), *values[index + 1 :])


_START_TIME_INDEX = _METADATA_FIELDS.index("start_time_hours")


def _new_offer_row(offer: NormalizedOffer, site_id: str, codec: _Codec) -> tuple[Any, ...]:
    metadata = list(_metadata(offer))
    # The only Decimal among the descriptive fields: stored through the money codec.
    metadata[_START_TIME_INDEX] = codec.money(metadata[_START_TIME_INDEX])
    now = codec.observed_at
    return (site_id, offer.site_offer_id, *metadata, now, now, None, True, offer.raw_fingerprint)


def _period_row(
    offer: NormalizedOffer, offer_id: int, run_id: int, codec: _Codec
) -> tuple[Any, ...]:
    money, now = codec.money, codec.observed_at
    return (
        offer_id,
        run_id,
        now,
        None,
        now,
        money(offer.price),
        offer.price_raw,
        offer.currency,
        offer.quantity,
        offer.quantity_raw,
        money(offer.compare_at_price),
        offer.compare_at_price_raw,
        money(offer.usd_per_1000),
        money(offer.fx_rate),
        codec.date(offer.fx_date),
        offer.min_quantity,
        offer.max_quantity,
        offer.available,
    )


def _change_event(
    offer: NormalizedOffer, row: Any, site_id: str, run_id: int, codec: _Codec
) -> tuple[Any, ...]:
    """``price_up`` / ``price_down`` when the price moved, else ``limits_changed``.

    A change of currency is judged on ``usd_per_1000`` when both sides have it (``change_pct``
    then compares USD per 1000, and ``details`` says so); without USD values it is recorded as
    ``limits_changed`` with the currency in ``details`` rather than guessing a direction.
    """
    old_price = decimal_from_db(row[_R_PRICE])
    assert old_price is not None  # offer_price_period.price is NOT NULL
    old_currency = row[_R_CURRENCY]
    old_available = row[_R_AVAILABLE]
    old_key = (old_price, old_currency, row[_R_QUANTITY], row[_R_MIN], row[_R_MAX],
               decimal_from_db(row[_R_COMPARE_AT]),
               None if old_available is None else bool(old_available))
    new_key = (offer.price, offer.currency, offer.quantity, offer.min_quantity, offer.max_quantity,
               offer.compare_at_price, offer.available)
    details: dict[str, Any] = {
        "changed": {
            name: [old, new]
            for name, old, new in zip(_PRICE_KEY_FIELDS, old_key, new_key, strict=True)
            if old != new
        }
    }
    kind = "limits_changed"
    change_pct = None
    if old_currency == offer.currency:
        if offer.price != old_price:
            kind = "price_up" if offer.price > old_price else "price_down"
            change_pct = _change_pct(old_price, offer.price)
    else:
        old_usd = decimal_from_db(row[_R_USD])
        if old_usd is not None and offer.usd_per_1000 is not None:
            details["usd_per_1000"] = [old_usd, offer.usd_per_1000]
            if offer.usd_per_1000 != old_usd:
                kind = "price_up" if offer.usd_per_1000 > old_usd else "price_down"
                change_pct = _change_pct(old_usd, offer.usd_per_1000)
                details["change_pct_basis"] = "usd_per_1000"
    money = codec.money
    return (
        row[_R_ID],
        site_id,
        run_id,
        codec.observed_at,
        kind,
        money(old_price),
        money(offer.price),
        money(change_pct),
        old_currency,
        offer.currency,
        codec.json(details),
    )


def _change_pct(old: Decimal, new: Decimal) -> Decimal | None:
    if old == 0:
        return None
    return ((new - old) / old * _HUNDRED).quantize(_PERCENT, rounding=ROUND_HALF_UP)


def _offer_ids(connection: Any, site_id: str, site_offer_ids: list[str]) -> dict[str, int]:
    query = select(offer_table.c.site_offer_id, offer_table.c.id).where(
        offer_table.c.site_id == site_id
    )
    if len(site_offer_ids) <= _SMALL_LOOKUP:
        query = query.where(offer_table.c.site_offer_id.in_(site_offer_ids))
    return {site_offer_id: offer_id for site_offer_id, offer_id in connection.execute(query)}


def _state_before_removal(
    connection: Any, offer_ids: list[int]
) -> dict[int, tuple[Decimal, str, datetime | None]]:
    """For removed offers: (last price, its currency, removed_at)."""
    before: dict[int, tuple[Decimal, str, datetime | None]] = {}
    for chunk in _chunks(offer_ids):
        rows = connection.execute(
            select(
                period_table.c.offer_id,
                period_table.c.price,
                period_table.c.currency,
                offer_table.c.removed_at,
            )
            .join(offer_table, offer_table.c.id == period_table.c.offer_id)
            .where(period_table.c.offer_id.in_(chunk))
            .order_by(period_table.c.offer_id, period_table.c.valid_from, period_table.c.id)
        )
        for offer_id, price, currency, removed_at in rows:
            before[offer_id] = (price, currency, removed_at)  # ordered: the last period wins
    return before


def _update_ids(connection: Any, table: Any, ids: list[int], **values: Any) -> None:
    """``UPDATE table SET values WHERE id IN (ids)`` in chunks; nothing when ``ids`` is empty.

    The ids are inlined as integer literals (they come from the database and are forced through
    ``int``): binding thousands of parameters costs more than the update itself.
    """
    if not ids:
        return
    statement = update(table).values(**values)
    for chunk in _chunks(ids):
        id_list = ",".join(str(int(offer_id)) for offer_id in chunk)
        # literal_column, not text(): text() scans its string for ":name" bind parameters.
        condition = literal_column(f"{table.name}.id IN ({id_list})", Boolean)
        connection.execute(statement.where(condition))


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


_REJECTION_COLUMNS = ("run_id", "site_id", "observed_at", "site_offer_id", "reason", "raw_text")
_COUNTER_COLUMNS = ("site_id", "run_id", "observed_at", "name", "value", "raw")


def _insert_rejections(
    connection: Any,
    *,
    codec: _Codec,
    run_id: int,
    site_id: str,
    rejections: Sequence[Rejection],
) -> None:
    _insert_rows(
        connection,
        rejected_table,
        _REJECTION_COLUMNS,
        [
            (
                run_id,
                site_id,
                codec.observed_at,
                rejection.site_offer_id,
                redact_text(rejection.reason),
                redact_text(raw_json(rejection.raw)),
            )
            for rejection in rejections
        ],
    )


def _insert_counters(
    connection: Any,
    *,
    codec: _Codec,
    run_id: int,
    site_id: str,
    counters: Sequence[CounterValue],
) -> None:
    _insert_rows(
        connection,
        counter_table,
        _COUNTER_COLUMNS,
        [
            (site_id, run_id, codec.observed_at, counter.name, counter.value, counter.raw)
            for counter in counters
        ],
    )


# --------------------------------------------------------------------------------------------
# helpers


def raw_json(raw: Any) -> str:
    """The raw record as JSON text; values JSON cannot hold are kept as their ``repr``."""

    def fallback(value: Any) -> Any:
        try:
            return json_default(value)
        except TypeError:
            return repr(value)

    return json.dumps(raw, default=fallback, ensure_ascii=False, sort_keys=True)


def _offer_json(offer: NormalizedOffer | ConfirmedOffer) -> dict[str, Any]:
    if isinstance(offer, ConfirmedOffer):
        raw = getattr(offer.raw, "raw", None)
        return dict(raw) if raw else {"site_offer_id": offer.site_offer_id}
    try:
        return offer.to_json_dict()
    except Exception:  # a malformed offer must still become a readable rejection
        return {"repr": repr(offer)}


def redact_secrets(config: Any) -> Any:
    """A copy of ``config`` without secret-looking keys and without passwords inside URLs
    (:func:`core.redact.drop_secret_keys`)."""
    return drop_secret_keys(config)


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")


__all__ = [
    "DUPLICATE_REASON",
    "MISSING_ID_REASON",
    "RUN_STATUSES",
    "StoreResult",
    "active_offer_count",
    "complete_run",
    "fail_run",
    "last_successful_offer_count",
    "mark_stale_runs_interrupted",
    "raw_json",
    "redact_secrets",
    "start_run",
    "table_counts",
    "upsert_site",
]
