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
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from storage.types import dumps_json

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///var/clickfarm.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
BUSY_TIMEOUT_ENV = "CLICKFARM_DB_BUSY_TIMEOUT"
"""Seconds a SQLite writer waits for another writer's lock before failing (default 30)."""
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


class DatabaseUnavailable(Exception):
    """The database cannot be used as asked (missing, not a database, locked, read-only, schema
    behind); the message is one line for the user, without the password."""


def busy_timeout_seconds() -> float:
    """How long a SQLite connection waits for a lock: ``$CLICKFARM_DB_BUSY_TIMEOUT`` seconds,
    default 30."""
    text = os.environ.get(BUSY_TIMEOUT_ENV)
    if not text:
        return SQLITE_BUSY_TIMEOUT_MS / 1000
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:  # nan fails both comparisons
        raise DatabaseUnavailable(f"{BUSY_TIMEOUT_ENV}={text!r}: expected seconds from 0 to 86400")
    return seconds


def get_engine(url: str | None = None, *, echo: bool = False, read_only: bool = False,
               create_folder: bool = True) -> Engine:
    """An engine for ``url`` (or ``DATABASE_URL``, or ``sqlite:///var/clickfarm.db``).

    For a SQLite file the parent folder is created (unless ``create_folder`` is false: then a
    missing folder is a :class:`DatabaseUnavailable`). The schema is not created here: call
    :func:`migrate`.

    ``read_only``: the connections cannot write (SQLite ``mode=ro``, PostgreSQL
    ``default_transaction_read_only``), take no write lock, and a missing SQLite file is a
    :class:`DatabaseUnavailable` instead of a new empty database.
    """
    resolved = resolve_url(url)
    backend = resolved.get_backend_name()
    if backend == "sqlite":
        engine = _sqlite_engine(resolved, echo=echo, read_only=read_only,
                                create_folder=create_folder)
    elif backend == "postgresql":
        # Sessions in UTC, so that views and ad-hoc SQL show UTC timestamps.
        options = "-c timezone=UTC" + (" -c default_transaction_read_only=on" if read_only else "")
        engine = create_engine(
            resolved,
            echo=echo,
            json_serializer=dumps_json,
            pool_pre_ping=True,
            connect_args={"options": options},
        )
    else:
        raise ValueError(
            f"unsupported database {safe_url(resolved)!r}: use sqlite:/// or postgresql://"
        )
    logger.info("database: %s", safe_url(resolved))
    return engine


_SHARED_ENGINES: dict[tuple[int, str], Engine] = {}


def shared_engine(url: str | None = None) -> Engine:
    """One engine per database URL and process, for code that runs many times in one process
    (the pipelines of every spider of a crawl process).

    A crawl process runs its sites' spiders side by side; an engine each would keep a pool of
    connections each, and fifty sites per process on a few workers exhaust PostgreSQL's
    ``max_connections``. The process id is part of the key: a forked child never reuses its
    parent's pooled connections.
    """
    key = (os.getpid(), str(resolve_url(url)))
    engine = _SHARED_ENGINES.get(key)
    if engine is None:
        engine = _SHARED_ENGINES[key] = get_engine(url)
    return engine


def _sqlite_engine(url: URL, *, echo: bool, read_only: bool = False,
                   create_folder: bool = True) -> Engine:
    database = url.database
    busy_timeout_ms = round(busy_timeout_seconds() * 1000)
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser().resolve()
        if path.is_dir():
            raise DatabaseUnavailable(f"{path} is a directory, not a database file")
        if read_only:
            if not path.exists():
                raise DatabaseUnavailable(
                    f"no database at {path}: run `clickfarm db migrate` to create it")
            # A URI, so that SQLite opens the file without write access and takes no lock
            # beyond a reader's.
            url = url.set(database=f"file:{quote(str(path))}?mode=ro",
                          query={**url.query, "uri": "true"})
        elif create_folder:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseUnavailable(
                    f"cannot create the folder {path.parent}: {error.strerror}") from error
        elif not path.parent.is_dir():
            raise DatabaseUnavailable(f"the folder {path.parent} of the database does not exist")
    engine = create_engine(url, echo=echo, json_serializer=dumps_json)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, instead of the sqlite3 module's
        # implicit (and DDL-skipping) transaction handling.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if not read_only:  # switching the journal mode writes to the file
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
    """The Alembic configuration of ``storage/migrations``, built in code (no ini file needed).

    Alembic is imported here, not at the top: a crawl process never migrates (its parent did),
    and importing Alembic costs a tenth of a second of every crawl's start-up."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: the latest), in one transaction.

    Safe to call from several processes at once: SQLite serializes them with ``BEGIN IMMEDIATE``,
    PostgreSQL with an advisory lock; the late comers find the schema up to date.
    """
    from alembic import command

    config = alembic_config()
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_KEY})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The latest revision in ``storage/migrations``."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def require_current_schema(engine: Engine) -> None:
    """Raise :class:`DatabaseUnavailable` unless the database is at the latest revision; reads
    the stored revision only (works on a read-only connection, takes no write lock)."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    where = safe_url(engine.url)
    if current is None:
        raise DatabaseUnavailable(
            f"the database {where} has no schema yet: run `clickfarm db migrate`")
    from alembic.script import ScriptDirectory

    known = {script.revision for script in
             ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current in known:
        raise DatabaseUnavailable(
            f"the database schema is behind ({current}, this clickfarm needs {head}): "
            "run `clickfarm db migrate`")
    raise DatabaseUnavailable(f"the database schema {current} is unknown to this clickfarm "
                              f"(latest {head}): is the clickfarm installed older?")


def database_error_line(error: DBAPIError, url: str | URL | None = None) -> str:
    """One line for the user about a driver error: what is wrong with the database (the
    password never shown)."""
    first = (str(error.orig) if error.orig is not None else str(error)).strip().splitlines()
    text = first[0] if first else type(error).__name__
    where = safe_url(url) if url is not None else "the database"
    lowered = text.lower()
    if "database is locked" in lowered or "database table is locked" in lowered:
        return f"database is locked by another writer (waited {busy_timeout_seconds():g} s)"
    if "file is not a database" in lowered:
        return f"{where} cannot be used: file is not a database"
    if "readonly database" in lowered or "read-only transaction" in lowered:
        return f"{where} is read-only: this command writes and needs write access"
    if "unable to open database file" in lowered:
        return f"{where} cannot be opened: unable to open database file"
    # Connection failures (host, port, user, password, database name) name what failed.
    from storage.errors import describe_connection_error

    return describe_connection_error(error, url)
