"""Engines, transactions and migrations.

SQLite is the embedded default; PostgreSQL is selected with ``DATABASE_URL``. Both run the same
Alembic migrations (``storage/migrations``) and expose the same views.

SQLite connections are set up for several crawl processes writing to one file: WAL journal
(readers never block the writer), ``synchronous=NORMAL`` (durable at checkpoints, fast commits),
foreign keys enforced, and a busy timeout so a writer waits for another instead of failing.
Write transactions start with ``BEGIN IMMEDIATE`` (:func:`write_transaction`): a deferred
transaction that reads first and writes later cannot wait for the lock in WAL mode and fails with
"database is locked" at once; an immediate one takes the write lock up front and honours the
busy timeout.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from storage.types import dumps_json

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///var/clickfarm.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_SQLITE_BEGIN_OPTION = "clickfarm_sqlite_begin"
# Any constant works; it only has to be the same for every process migrating one database.
_PG_MIGRATION_LOCK_KEY = 7_346_221_001


def resolve_url(url: str | URL | None = None) -> URL:
    """The database URL to use: ``url``, else ``DATABASE_URL``, else the SQLite default.

    ``postgresql://`` and ``postgres://`` are rewritten to ``postgresql+psycopg://`` (psycopg 3).
    """
    raw = url if url is not None else (os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    if isinstance(raw, str) and raw.startswith("postgres://"):
        raw = "postgresql://" + raw.removeprefix("postgres://")
    parsed = make_url(raw)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL as text with the password masked: the only form that may be logged or printed."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def get_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    """An engine for ``url`` (or ``DATABASE_URL``, or ``sqlite:///var/clickfarm.db``).

    For a SQLite file the parent folder is created. The schema is not created here: call
    :func:`migrate`.
    """
    resolved = resolve_url(url)
    backend = resolved.get_backend_name()
    if backend == "sqlite":
        engine = _sqlite_engine(resolved, echo=echo)
    elif backend == "postgresql":
        engine = create_engine(
            resolved,
            echo=echo,
            json_serializer=dumps_json,
            pool_pre_ping=True,
            # Sessions in UTC, so that views and ad-hoc SQL show UTC timestamps.
            connect_args={"options": "-c timezone=UTC"},
        )
    else:
        raise ValueError(
            f"unsupported database {safe_url(resolved)!r}: use sqlite:/// or postgresql://"
        )
    logger.info("database: %s", safe_url(resolved))
    return engine


def _sqlite_engine(url: URL, *, echo: bool) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, json_serializer=dumps_json)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, instead of the sqlite3 module's
        # implicit (and DDL-skipping) transaction handling.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that will write: committed on success, rolled back on error.

    On SQLite the transaction is ``BEGIN IMMEDIATE`` (see the module docstring).
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.execution_options(**{_SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            yield connection


def alembic_config() -> Config:
    """The Alembic configuration of ``storage/migrations``, built in code (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: the latest), in one transaction.

    Safe to call from several processes at once: SQLite serializes them with ``BEGIN IMMEDIATE``,
    PostgreSQL with an advisory lock; the late comers find the schema up to date.
    """
    config = alembic_config()
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_KEY})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The latest revision in ``storage/migrations``."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
