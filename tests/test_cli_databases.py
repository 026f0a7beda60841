"""Databases that are busy, behind, empty, missing or not databases, seen from the command line.

Readers (reports, status, changes, alerts list, sites, db counts) open the database read-only,
never migrate and take no write lock; writers wait a bounded time for another writer's lock and
then end with one line. Real SQLite files with a real lock held by another connection (and
another process), and a real PostgreSQL server for the read-only opening.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from clickfarm.cli import app
from clickfarm.options import open_database
from storage.db import current_revision, get_engine, head_revision, migrate

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent
FIRST_REVISION = "0001"

READERS = [["report", "prices"], ["status"], ["changes"], ["alerts", "list"], ["sites"],
           ["db", "counts"]]
WRITERS = [["db", "migrate"], ["crawl", "--site", "one"], ["alerts", "check"],
           ["sites", "promote", "one"], ["schedule", "--once-for", "1"]]


@pytest.fixture
def sites_file(tmp_path: Path) -> Path:
    # A disabled site on a closed port: a crawl that got past the database would fail fast.
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  - id: one\n    family: smm_api\n    url: http://127.0.0.1:9/api/v2\n"
                    "    api_key_env: ODD_KEY\n    currency: USD\n    enabled: false\n")
    return path


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "clickfarm.db"
    engine = get_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    yield path


@pytest.fixture
def locked(database: Path) -> Iterator[sqlite3.Connection]:
    """Another writer in the middle of a write transaction on the database."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE IF NOT EXISTS held (i INTEGER)")
    try:
        yield holder
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def invoke(arguments: list[str], database_url: str, sites_file: Path, **env: str):
    return runner.invoke(app, [*arguments], env={
        "DATABASE_URL": database_url, "CLICKFARM_SITES": str(sites_file),
        "CLICKFARM_DB_BUSY_TIMEOUT": "1", **env})


def one_error_line(result) -> str:
    assert "Traceback" not in result.stdout + result.stderr, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def fingerprint(path: Path) -> dict[str, str]:
    """The bytes of the database and of its write-ahead log (a reader of a WAL database may
    create an empty log: no bytes written)."""
    files = {suffix: Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal")
             if Path(f"{path}{suffix}").exists()}
    return {suffix: hashlib.sha256(data).hexdigest() for suffix, data in files.items() if data}


@pytest.mark.parametrize("arguments", WRITERS, ids=" ".join)
def test_a_writer_waits_a_bounded_time_for_the_lock_then_fails_with_one_line(
        arguments, database, locked, sites_file):
    started = time.monotonic()
    result = invoke(arguments, f"sqlite:///{database}", sites_file)
    waited = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert one_error_line(result) == "error: database is locked by another writer (waited 1 s)"
    assert 0.9 <= waited < 15


def test_a_crawl_process_started_while_another_process_writes_fails_with_one_line(
        database, sites_file):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         f"c = sqlite3.connect({str(database)!r}, isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        command = subprocess.run(
            [sys.executable, "-c", "from clickfarm.cli import app; app()", "crawl", "--site",
             "one"], capture_output=True, text=True, timeout=60, cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": f"sqlite:///{database}",
                 "CLICKFARM_SITES": str(sites_file), "CLICKFARM_DB_BUSY_TIMEOUT": "2"})
    finally:
        holder.kill()
        holder.wait()
    assert command.returncode == 1, command.stderr
    assert "Traceback" not in command.stderr + command.stdout
    assert command.stderr.strip().splitlines() == [
        "error: database is locked by another writer (waited 2 s)"]


@pytest.mark.parametrize("arguments", READERS, ids=" ".join)
def test_readers_work_while_a_writer_holds_the_lock(arguments, database, locked, sites_file):
    result = invoke(arguments, f"sqlite:///{database}", sites_file)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("arguments", READERS, ids=" ".join)
def test_readers_write_nothing(arguments, database, sites_file):
    before = fingerprint(database)
    result = invoke(arguments, f"sqlite:///{database}", sites_file)
    assert result.exit_code == 0, result.output
    assert fingerprint(database) == before


@pytest.mark.parametrize("arguments", READERS, ids=" ".join)
def test_readers_say_the_schema_is_behind_and_leave_it(arguments, tmp_path, sites_file):
    path = tmp_path / "old.db"
    engine = get_engine(f"sqlite:///{path}")
    migrate(engine, FIRST_REVISION)
    assert current_revision(engine) == FIRST_REVISION != head_revision()

    result = invoke(arguments, f"sqlite:///{path}", sites_file)

    assert result.exit_code == 1, result.output
    line = one_error_line(result)
    assert "the database schema is behind" in line and "run `clickfarm db migrate`" in line
    assert current_revision(engine) == FIRST_REVISION
    engine.dispose()


def test_db_migrate_brings_a_behind_schema_to_head_and_readers_work_again(tmp_path, sites_file):
    path = tmp_path / "old.db"
    engine = get_engine(f"sqlite:///{path}")
    migrate(engine, FIRST_REVISION)
    assert invoke(["db", "migrate"], f"sqlite:///{path}", sites_file).exit_code == 0
    assert current_revision(engine) == head_revision()
    assert invoke(["db", "counts"], f"sqlite:///{path}", sites_file).exit_code == 0
    engine.dispose()


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (lambda path: path.write_bytes(b""), "has no schema yet: run `clickfarm db migrate`"),
        (lambda path: None, "no database at"),
        (lambda path: path.write_bytes(b"not a database\n" * 500), "file is not a database"),
        (lambda path: path.mkdir(), "is a directory"),
    ],
    ids=["empty-file", "missing-file", "not-a-database", "directory"],
)
@pytest.mark.parametrize("arguments", READERS, ids=" ".join)
def test_readers_refuse_a_database_they_cannot_read_in_one_line(
        arguments, prepare, expected, tmp_path, sites_file):
    path = tmp_path / "odd.db"
    prepare(path)
    result = invoke(arguments, f"sqlite:///{path}", sites_file)
    assert result.exit_code == 1, result.output
    assert expected in one_error_line(result)
    if expected == "no database at":
        assert not path.exists()  # a reader creates nothing


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (lambda path: path.write_bytes(b"not a database\n" * 500), "file is not a database"),
        (lambda path: path.mkdir(), "is a directory"),
        (lambda path: None, "does not exist"),
    ],
    ids=["not-a-database", "directory", "missing-folder"],
)
@pytest.mark.parametrize("arguments", WRITERS, ids=" ".join)
def test_writers_refuse_a_database_they_cannot_use_in_one_line(
        arguments, prepare, expected, tmp_path, sites_file):
    path = tmp_path / "odd.db"
    prepare(path)
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}" if expected == "does not exist" \
        else f"sqlite:///{path}"
    result = invoke(arguments, url, sites_file)
    assert result.exit_code == 1, result.output
    assert expected in one_error_line(result)
    assert not (tmp_path / "no-such-folder").exists()


def test_a_writer_still_creates_a_new_database_file(tmp_path, sites_file):
    path = tmp_path / "new.db"
    result = invoke(["db", "migrate"], f"sqlite:///{path}", sites_file)
    assert result.exit_code == 0, result.output
    assert current_revision(get_engine(f"sqlite:///{path}")) == head_revision()


@pytest.mark.postgres
@pytest.mark.parametrize("arguments", READERS, ids=" ".join)
def test_postgres_readers_open_read_only(arguments, postgres_url, sites_file):
    migrate(get_engine(postgres_url))
    result = invoke(arguments, postgres_url, sites_file)
    assert result.exit_code == 0, result.output


@pytest.mark.postgres
def test_a_postgres_reader_connection_cannot_write_and_the_schema_check_only_reads(
        postgres_url, sites_file):
    engine = get_engine(postgres_url)
    migrate(engine, FIRST_REVISION)

    result = invoke(["report", "prices"], postgres_url, sites_file)
    assert result.exit_code == 1, result.output
    assert "the database schema is behind" in one_error_line(result)
    assert current_revision(engine) == FIRST_REVISION

    migrate(engine)
    reader = open_database(postgres_url, write=False)
    with pytest.raises(DBAPIError, match="read-only transaction"), reader.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE intruder (i integer)")
    reader.dispose()
    engine.dispose()


def test_a_writer_on_a_read_only_database_fails_with_one_line(tmp_path, sites_file):
    """SQLite opened read-only (a ``mode=ro`` URI: the tests run as root, for whom file modes
    do not stop a write) with a migration to apply: the write is refused in one line."""
    path = tmp_path / "old.db"
    engine = get_engine(f"sqlite:///{path}")
    migrate(engine, FIRST_REVISION)
    result = invoke(["db", "migrate"], f"sqlite:///file:{path}?mode=ro&uri=true", sites_file)
    assert result.exit_code == 1, result.output
    assert one_error_line(result).endswith("is read-only: this command writes and needs write "
                                           "access")
    assert current_revision(engine) == FIRST_REVISION
    engine.dispose()
