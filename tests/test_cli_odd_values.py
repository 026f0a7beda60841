"""Every command of `clickfarm`, given odd values: one line on stderr, a non-zero exit, never a
traceback.

The commands are read from the typer app (its click command tree), so a new command or
subcommand is walked automatically, and the test fails until it has rows in ``COMMAND_ROWS``.
Options shared by many commands (dates, database URLs, sites files, numbers, choices) get their
odd values from tables keyed by the option's kind; each command adds its own rows. Everything
runs in-process on a temporary SQLite database; a value that would let a crawl, a discovery or
the simulator start is refused before anything starts (no network).
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from clickfarm.cli import app
from storage.db import get_engine, migrate

runner = CliRunner()

USAGE = 2  # the value is refused where it is typed
RUNTIME = 1  # the value is well formed but names something that cannot be used


@dataclass(frozen=True)
class Files:
    database: Path
    not_a_database: Path
    binary: Path
    folder: Path
    sites: Path
    bad_yaml: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    root = tmp_path_factory.mktemp("odd")
    database = root / "good.db"
    migrate(get_engine(f"sqlite:///{database}"))
    not_a_database = root / "notes.db"
    not_a_database.write_bytes(b"these are my notes, not a database\n" * 200)
    binary = root / "binary.yaml"
    binary.write_bytes(bytes(range(256)) * 8)
    folder = root / "folder"
    folder.mkdir()
    sites = root / "sites.yaml"
    sites.write_text("sites:\n  - id: one\n    family: smm_api\n    url: http://127.0.0.1:9/api/v2\n"
                     "    api_key_env: ODD_KEY\n    currency: USD\n    enabled: false\n")
    bad_yaml = root / "bad.yaml"
    bad_yaml.write_text("sites: [\n  - id: 'unclosed\n")
    return Files(database, not_a_database, binary, folder, sites, bad_yaml)


def walk_commands(group: typer.main.TyperGroup | None = None,
                  path: tuple[str, ...] = ()) -> Iterator[tuple[str, object]]:
    """(command path, click command) for every command and subcommand; a group that runs on
    its own (``sites``) counts as a command too."""
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        here = (*path, name)
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            yield " ".join(here), command
            continue
        if getattr(command, "invoke_without_command", False):
            yield " ".join(here), command
        yield from walk_commands(command, here)


# What each command needs to get past its own required arguments, so that the odd value is
# the only thing wrong. ``--site one`` names a disabled site: nothing is crawled before the
# odd value is refused.
REQUIRED = {
    "crawl": ["--site", "one"],
    "extract": ["{database}", "--family", "smm_api"],
    "detect": ["http://127.0.0.1:9/"],
    "sites promote": ["no-such-site"],
    # A later --from / --to on the row replaces these (click keeps the last value).
    "report market-size": ["--from", "2026-09-01", "--to", "2026-09-30"],
    "report html": ["--from", "2026-09-01", "--to", "2026-09-30", "-o", "{folder}/report.html"],
    # An empty folder: the odd value is refused before the folder is found empty.
    "import-csv": ["{folder}"],
}

DATE_VALUES = ["0001-01-01", "9999-12-31", "2026-13-01", "2026-01-01' OR 1=1", "",
               "1969-12-31T23:59:59", "nan", "99999-01-01", "0001-01-01T00:00+01:00"]
DATE_OPTIONS = {"--from", "--to", "--at", "--observed-at", "--since"}
SINCE_VALUES = ["99999999d", "1e9w", "-3d", "20000w"]
INT_VALUES = ["-1", "abc", "", "nan", "1.5", "1e3"]
FLOAT_VALUES = ["-1", "0", "nan", "inf", "-inf", "abc", "", "1e400"]
CHOICE_VALUES = ["bogus", "", "JSON", "xml", "table' OR 1=1"]
# (value, exit): a URL refused as usage, or a database that is not there / not usable.
DATABASE_VALUES = [
    ("foo://", USAGE), ("", USAGE), ("mysql://u:secret@127.0.0.1/db", USAGE),
    ("not a url at all", USAGE), ("sqlite:///{folder}/missing/x.db", RUNTIME),
    ("sqlite:///{not_a_database}", RUNTIME), ("sqlite:///{folder}", RUNTIME),
]
SITES_VALUES = [("{binary}", None), ("{folder}", None), ("{bad_yaml}", None),
                ("/nonexistent/sites.yaml", None)]

# Rows of each command beyond the shared options: (arguments, expected exit or None for any
# non-zero). A command without a row fails test_every_command_has_rows.
COMMAND_ROWS: dict[str, list[tuple[list[str], int | None]]] = {
    "crawl": [(["--parallel", "0"], USAGE), (["--parallel", "99999999999999999999"], USAGE),
              (["--timeout", "1e308"], USAGE)],
    "extract": [(["{binary}", "--family", "smm_api"], RUNTIME),
                (["{not_a_database}", "--family", "shopify"], RUNTIME),
                (["/nonexistent/page.html", "--family", "smm_html"], None),
                (["{folder}", "--family", "smm_api"], None),
                (["{binary}", "--family", "bogus"], USAGE)],
    "simulate": [(["--port", "99999"], USAGE), (["--panels", "0"], USAGE),
                 (["--panels", "99999999999999"], USAGE), (["--days", "99999999"], USAGE),
                 (["--seed", "-5"], USAGE)],
    "demo": [(["--days", "0"], USAGE), (["--shops", "99999999"], USAGE)],
    "status": [(["--format", "xml"], USAGE)],
    "changes": [(["--kind", "bogus"], USAGE), (["--limit", "0"], USAGE)],
    "discover": [(["--max-pages", "0"], USAGE)],
    "detect": [(["--timeout", "nan"], USAGE)],
    "schedule": [(["--once-for", "0"], USAGE), (["--once-for", "nan"], USAGE),
                 (["--distributed", "--broker-url", "ftp://127.0.0.1/"], USAGE),
                 (["--distributed", "--broker-url", "redis://:secret@[::1"], USAGE)],
    "worker": [(["--broker-url", "amqp://127.0.0.1//"], USAGE), (["--queues", "bogus"], USAGE),
               (["--queues", " , "], USAGE),
               # Well formed, nobody listening: one line before any task is taken.
               (["--broker-url", "redis://:secret@127.0.0.1:9/0"], RUNTIME)],
    "report prices": [(["--from", "2026-09-10", "--to", "2026-09-01"], USAGE),
                      (["--pricing", "per_100"], USAGE), (["--by", "year"], USAGE),
                      (["--by", "week", "--dedupe-resellers"], USAGE),
                      (["--by", "month", "--from", "2026-09-10", "--to", "2026-09-01"], USAGE),
                      (["--by", "week", "--database-url", "sqlite:///{not_a_database}"],
                       RUNTIME)],
    "report market-size": [(["--from", "2026-09-10", "--to", "2026-09-01"], USAGE),
                           (["--platform", "[/]"], None)],
    "report resellers": [(["--min-confidence", "2"], USAGE), (["--at", "2026-01-01"], None)],
    # the good database holds no prices: nothing to report, said in one line
    "report html": [(["--from", "2026-09-10", "--to", "2026-09-01"], USAGE),
                    (["--from", "2000-01-01", "--to", "2026-01-01"], USAGE),
                    (["-o", "{folder}"], USAGE), (["-o", "{folder}/missing/report.html"], USAGE),
                    (["-o", ""], USAGE), (["--output", "{not_a_database}/x.html"], USAGE),
                    ([], RUNTIME)],
    "db migrate": [(["--database-url", "sqlite:///{not_a_database}"], RUNTIME)],
    "db counts": [(["--database-url", "sqlite:///{not_a_database}"], RUNTIME)],
    "db refresh-price-index": [(["--database-url", "sqlite:///{not_a_database}"], RUNTIME),
                               (["--from", "2026-09-10", "--to", "2026-09-01"], USAGE),
                               (["--from", "yesterday-ish"], USAGE)],
    "alerts list": [(["--kind", "bogus"], USAGE)],
    "alerts check": [(["--at", "9999-12-31T23:59:59"], USAGE)],
    "sites": [(["--database-url", "sqlite:///{not_a_database}"], RUNTIME)],
    "sites promote": [(["--database-url", "sqlite:///{folder}"], RUNTIME)],
    "import-csv": [(["--latest", "0"], USAGE), (["--currency", "XYZ"], USAGE),
                   (["--currency", "dollars"], USAGE), (["--site-prefix", "Bad Prefix!"], USAGE),
                   (["--from", "2020-07-16", "--to", "2020-03-20"], USAGE),
                   (["--panel", "nosuchpanel"], RUNTIME)],
}


def _kind(parameter) -> str:
    """What sort of value an option takes, from its annotation in the typer app."""
    annotation = parameter.type_descriptor.annotation
    element = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else annotation
    if any(option in DATE_OPTIONS for option in parameter.opts):
        return "date"
    if "--database-url" in parameter.opts:
        return "database"
    if "--sites-file" in parameter.opts:
        return "sites"
    if parameter.is_flag or element is bool:
        return "flag"
    if element is int:
        return "int"
    if element is float:
        return "float"
    if isinstance(element, type) and issubclass(element, enum.Enum):
        return "choice"
    return "other"


def shared_rows(command) -> list[tuple[list[str], int | None]]:
    rows: list[tuple[list[str], int | None]] = []
    for parameter in command.params:
        if not getattr(parameter, "opts", None) or not parameter.opts[0].startswith("--"):
            continue
        option = parameter.opts[0]
        kind = _kind(parameter)
        if kind == "date":
            values = DATE_VALUES + (SINCE_VALUES if option == "--since" else [])
            rows += [([option, value], USAGE) for value in values]
        elif kind == "int":
            rows += [([option, value], USAGE) for value in INT_VALUES]
        elif kind == "float":
            # "0" is odd for a timeout, a fine value for a share that may be 0.
            zero_allowed = getattr(parameter, "min", None) == 0
            rows += [([option, value], USAGE) for value in FLOAT_VALUES
                     if not (zero_allowed and value == "0")]
        elif kind == "choice":
            rows += [([option, value], USAGE) for value in CHOICE_VALUES]
        elif kind == "database":
            rows += [([option, value], code) for value, code in DATABASE_VALUES]
        elif kind == "sites":
            rows += [([option, value], code) for value, code in SITES_VALUES]
    return rows


def all_rows() -> list[tuple[str, list[str]]]:
    cases = []
    for path, command in walk_commands():
        rows = shared_rows(command) + COMMAND_ROWS.get(path, [])
        for arguments, code in rows:
            cases.append((path, arguments, code))
    return cases


CASES = all_rows()


def test_every_command_has_rows() -> None:
    commands = {path for path, _ in walk_commands()}
    assert commands - COMMAND_ROWS.keys() == set(), "commands without odd values in COMMAND_ROWS"
    assert COMMAND_ROWS.keys() - commands == set(), "rows for commands that no longer exist"
    # The walk finds the nested commands too (a regression of the walk would pass silently).
    assert {"report prices", "alerts check", "sites", "sites promote", "db counts"} <= commands


@pytest.mark.parametrize(("path", "arguments", "code"), CASES,
                         ids=[f"{p}:{' '.join(a)[:60]}" for p, a, _ in CASES])
def test_an_odd_value_is_one_line_and_a_non_zero_exit(files: Files, path: str,
                                                      arguments: list[str],
                                                      code: int | None) -> None:
    names = {"database": files.database, "not_a_database": files.not_a_database,
             "binary": files.binary, "folder": files.folder, "bad_yaml": files.bad_yaml}
    required = REQUIRED.get(path, [])
    if path == "extract" and arguments and not arguments[0].startswith("--"):
        required = []  # the row names its own file and family
    argv = [*path.split(), *[a.format(**names) for a in required],
            *[a.format(**names) for a in arguments]]
    env = {"DATABASE_URL": f"sqlite:///{files.database}", "CLICKFARM_SITES": str(files.sites),
           "CLICKFARM_DB_BUSY_TIMEOUT": "2", "CLICKFARM_DEBUG": None}
    result = runner.invoke(app, argv, env=env)
    shown = f"argv={argv}\nexit={result.exit_code}\nstdout={result.stdout}\nstderr={result.stderr}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{shown}")
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert result.exit_code != 0, shown
    if code is not None:
        assert result.exit_code == code, shown
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, shown
    assert lines[0].startswith("error: "), shown
    assert "secret" not in result.stdout + result.stderr, shown  # a URL's password stays out


# ------------------------------------------------------------------------------------------
# the root handler: known errors in one line, a bug in one line that says how to see it


def _app_raising(error: BaseException) -> typer.Typer:
    """A command tree with the root class of `clickfarm`, whose command raises ``error``."""
    from clickfarm.options import ClickfarmGroup

    tree = typer.Typer(cls=ClickfarmGroup)

    @tree.command()
    def fails() -> None:
        raise error

    @tree.command()
    def other() -> None:
        """A second command, so that ``fails`` is a subcommand as in `clickfarm`."""

    return tree


@pytest.mark.parametrize(("error", "expected"), [
    (FileNotFoundError(2, "No such file or directory", "/no/such/file"),
     "error: /no/such/file: No such file or directory"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
     "error: not UTF-8 text (invalid start byte at byte 0)"),
    (RuntimeError("boom\nsecond line"),
     "error: unexpected RuntimeError: boom second line (a bug: re-run with --debug or "
     "CLICKFARM_DEBUG=1 for the traceback)"),
], ids=["os-error", "unicode", "unknown"])
def test_the_root_handler_turns_errors_into_one_line(error, expected):
    result = runner.invoke(_app_raising(error), ["fails"], env={"CLICKFARM_DEBUG": None})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [expected]
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback_of_an_unexpected_error():
    result = runner.invoke(_app_raising(RuntimeError("boom")), ["fails"],
                           env={"CLICKFARM_DEBUG": "1"})
    assert isinstance(result.exception, RuntimeError)  # raised, so Python prints its traceback


def test_a_database_error_mid_command_is_one_line(files: Files) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    error = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
    result = runner.invoke(_app_raising(error), ["fails"],
                           env={"CLICKFARM_DEBUG": None, "CLICKFARM_DB_BUSY_TIMEOUT": "3"})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: database is locked by another writer (waited 3 s)"]
