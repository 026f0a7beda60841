"""Fixtures shared by every test module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_dir() -> Path:
    return Path(os.environ.get("CLICKFARM_SHARED_DIR", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def smmpanels_dir() -> Path:
    """The real 2020 price lists (../shared/data/smmpanels). Read by tests only, never copied."""
    path = _shared_dir() / "data" / "smmpanels"
    if not path.is_dir():
        pytest.fail(f"real price lists not found at {path}: set CLICKFARM_SHARED_DIR")
    return path


# --- databases: SQLite and a real PostgreSQL server (tests/postgres.py) ---------------------

import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from sqlalchemy import Engine  # noqa: E402

from tests.postgres import PostgresServer, postgres_server, postgres_url  # noqa: E402,F401


@pytest.fixture(scope="session")
def migrated_postgres_template(postgres_server: PostgresServer) -> str:  # noqa: F811
    """A database on the test server migrated to head, copied by ``CREATE DATABASE ... TEMPLATE``
    (much faster than migrating every test's database)."""
    from storage.db import get_engine, migrate

    name = "clickfarm_migrated_template"
    engine = get_engine(postgres_server.create_database(name))
    try:
        migrate(engine)
    finally:
        engine.dispose()  # a template must have no open connection when it is copied
    return name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated to head, once on SQLite (a temp file) and once on PostgreSQL."""
    from storage.db import get_engine, migrate

    if request.param == "sqlite":
        engine = get_engine(f"sqlite:///{tmp_path / 'clickfarm.db'}")
        migrate(engine)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("migrated_postgres_template")
    name = f"test_{uuid.uuid4().hex[:12]}"
    engine = get_engine(server.create_database(name, template=template))
    try:
        yield engine
    finally:
        engine.dispose()
        server.drop_database(name)
