"""A real PostgreSQL server for the test suite, started on loopback and thrown away afterwards.

Usage (the fixtures are imported by ``tests/conftest.py``)::

    def test_something(postgres_url):          # a fresh, empty database for this test
        engine = storage.db.get_engine(postgres_url)

    def test_other(postgres_server):           # the server itself (one per session / xdist worker)
        url = postgres_server.create_database(template="my_template")

How the server runs:

- binaries: ``$CLICKFARM_PG_BIN`` (a ``bin`` folder), else the folder of ``pg_ctl`` on ``PATH``,
  else the newest ``/usr/lib/postgresql/<version>/bin``. Missing binaries FAIL the tests with a
  clear message (install the ``postgresql`` package); they are never silently skipped.
- ``initdb`` + ``pg_ctl start`` under a temp dir, listening on 127.0.0.1 only, on a free port,
  with the unix socket in the temp dir; durability is switched off (``fsync=off``) because the
  data is thrown away.
- PostgreSQL refuses to run as root. Under root (CI) every server command runs as the
  ``postgres`` system user through ``runuser`` and the temp dir is owned by that user.
- with pytest-xdist, each worker process starts its own server on its own port.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SERVER_USER = "postgres"  # the system user that runs the server when the tests run as root
DB_SUPERUSER = "postgres"  # the database superuser created by initdb
_START_ATTEMPTS = 3


class PostgresUnavailable(RuntimeError):
    """The server could not be found or started; the message says why and what to do."""


def find_bin_dir() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    candidates: list[Path] = []
    if os.environ.get("CLICKFARM_PG_BIN"):
        candidates.append(Path(os.environ["CLICKFARM_PG_BIN"]))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: _version_key(path.parent.name),
        reverse=True,
    )
    candidates.extend(versions)
    for candidate in candidates:
        if all((candidate / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return candidate
    searched = ", ".join(str(path) for path in candidates) or "nothing found"
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found "
        f"(searched $CLICKFARM_PG_BIN, PATH, /usr/lib/postgresql/*/bin: {searched}). "
        "Install them, e.g. `apt-get install postgresql-15`, or set CLICKFARM_PG_BIN."
    )


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def free_port() -> int:
    """A TCP port free on loopback now (for the test servers: PostgreSQL, Redis)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    """A running throw-away server. Create databases with :meth:`create_database`."""

    bin_dir: Path
    base_dir: Path
    port: int
    run_as: list[str] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3) of ``database`` on this server."""
        return f"postgresql+psycopg://{DB_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """libpq connection string of ``database`` on this server."""
        return f"host=127.0.0.1 port={self.port} user={DB_SUPERUSER} dbname={database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run one statement in autocommit mode (CREATE / DROP DATABASE need it)."""
        import psycopg

        with psycopg.connect(self.dsn(database), autocommit=True) as connection:
            connection.execute(sql)

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a database (a fresh random name by default) and return its URL."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        template_clause = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{template_clause}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still connected to it."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        """Stop the server (immediately: the data is thrown away) and delete its files."""
        try:
            _run(
                [
                    *self.run_as,
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                cwd=self.base_dir,
            )
        except PostgresUnavailable:
            pass  # already gone; the files are removed anyway
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)


def _run(command: list[str], *, cwd: Path) -> str:
    completed = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    if completed.returncode != 0:
        raise PostgresUnavailable(
            f"`{' '.join(command)}` failed with exit code {completed.returncode}:\n"
            f"{completed.stdout}\n{completed.stderr}".strip()
        )
    return completed.stdout


def start_server() -> PostgresServer:
    """initdb + start a server on a free loopback port. The caller must ``stop()`` it."""
    bin_dir = find_bin_dir()
    run_as: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(SERVER_USER)
        except KeyError as missing:
            raise PostgresUnavailable(
                f"running as root, and PostgreSQL refuses root: the system user {SERVER_USER!r} "
                "is needed to run the test server (it comes with the postgresql package)"
            ) from missing
        runuser = shutil.which("runuser") or shutil.which("setpriv")
        if runuser is None:
            raise PostgresUnavailable(
                "running as root but neither runuser nor setpriv is installed"
            )
        if runuser.endswith("runuser"):
            run_as = [runuser, "-u", SERVER_USER, "--"]
        else:
            run_as = [
                runuser,
                f"--reuid={owner.pw_uid}",
                f"--regid={owner.pw_gid}",
                "--init-groups",
                "--",
            ]

    base_dir = Path(tempfile.mkdtemp(prefix="clickfarm-pg-"))
    if owner is not None:
        os.chown(base_dir, owner.pw_uid, owner.pw_gid)
    server = PostgresServer(bin_dir=bin_dir, base_dir=base_dir, port=0, run_as=run_as)
    try:
        _run(
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(server.data_dir),
                "-U",
                DB_SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            cwd=base_dir,
        )
        last_error: PostgresUnavailable | None = None
        for _attempt in range(_START_ATTEMPTS):
            # Another process may grab the port between probe and bind: then try another one.
            server.port = free_port()
            options = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-p {server.port}",
                    f"-c unix_socket_directories={base_dir}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                ]
            )
            try:
                _run(
                    [
                        *run_as,
                        str(bin_dir / "pg_ctl"),
                        "-D",
                        str(server.data_dir),
                        "-l",
                        str(server.log_file),
                        "-w",
                        "-t",
                        "60",
                        "-o",
                        options,
                        "start",
                    ],
                    cwd=base_dir,
                )
                return server
            except PostgresUnavailable as error:
                last_error = PostgresUnavailable(f"{error}\nserver log:\n{server.log_tail()}")
        assert last_error is not None
        raise last_error
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server per test session (per xdist worker), stopped at the end."""
    try:
        server = start_server()
    except PostgresUnavailable as error:
        pytest.fail(f"cannot start the PostgreSQL test server: {error}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh empty database for one test (dropped afterwards); its SQLAlchemy URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)
