"""What every `clickfarm` command module shares: the consoles, the common options, the
choice enums and the small helpers. Imports no command module, so that the command
modules never import each other (see tests/test_import_order.py)."""

from __future__ import annotations

import math
import os
import sys
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer's own click
from typer.core import TyperGroup

from core.config import ConfigError
from core.families import FAMILY_NAMES
from core.redact import install_log_redaction, redact_text
from core.timestamps import MomentError, parse_day, parse_moment, parse_since
from reports.render import data_console, labelled

DEBUG_ENV = "CLICKFARM_DEBUG"
_debug = False


def _debugging() -> bool:
    return _debug or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class ClickfarmGroup(TyperGroup):
    """The root command: every error ends as one line on stderr with a non-zero exit.

    Usage errors (bad option values) exit 2; a database, file or config that cannot be used
    exits 1 with what is wrong; anything else is a bug: one line naming it and the way to see
    the traceback (``--debug`` or ``CLICKFARM_DEBUG=1``).
    """

    def main(self, args: Any = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except NoArgsIsHelpError as error:  # the help is printed when the error is made
            code = error.exit_code
        except ClickException as error:
            err_console.print(labelled("error:", "red", redact_text(_one_line(error.format_message()))),
                              soft_wrap=True)
            code = error.exit_code
        except typer.Abort:
            err_console.print("aborted", soft_wrap=True)
            code = 1
        except Exception as error:
            if _debugging():
                raise
            err_console.print(labelled("error:", "red", redact_text(error_line(error))), soft_wrap=True)
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


def error_line(error: BaseException) -> str:
    """One line about an error that reached the top: what is wrong for the known kinds (a
    database, file, config or value the command cannot use), the bug and how to see its
    traceback otherwise."""
    import yaml
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from storage.db import DatabaseUnavailable, database_error_line

    if isinstance(error, DBAPIError):
        return _one_line(database_error_line(error))
    if isinstance(error, ArgumentError):
        return _one_line(f"bad database URL: {error}")
    if isinstance(error, ConfigError | DatabaseUnavailable | MomentError):
        return _one_line(str(error))
    if isinstance(error, UnicodeDecodeError):
        return _one_line(f"not UTF-8 text ({error.reason} at byte {error.start})")
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return _one_line(f"{where}{error.strerror or error}")
    if isinstance(error, yaml.YAMLError):
        return _one_line(f"not valid YAML: {error}")
    return _one_line(f"unexpected {type(error).__name__}: {error} (a bug: re-run with --debug "
                     f"or {DEBUG_ENV}=1 for the traceback)")
report_app = typer.Typer(help="Market reports from the database.", no_args_is_help=True)


# Registered on the root app by clickfarm/cli.py (`app.callback()`).
def main_options(debug: Annotated[bool, typer.Option(
        "--debug", envvar=DEBUG_ENV, help="show the traceback of an unexpected error")] = False
                 ) -> None:
    """Monitor the market for fake social-media engagement."""
    global _debug
    _debug = debug
    # No log line of any command shows an API key or a database password.
    install_log_redaction()

# Piped or captured output is not cut to 80 columns: report tables keep whole names.
# Crawled text is data: these consoles never read markup (reports.render.data_console).
console = data_console(width=None if sys.stdout.isatty() else 200)
err_console = data_console(stderr=True, width=None if sys.stderr.isatty() else 200)


def _usage(parse: Any) -> Any:
    """A typer ``parser`` whose errors are usage errors that keep their message."""
    def parser(text: Any) -> Any:
        if not isinstance(text, str):  # a default that is already a value
            return text
        try:
            return parse(text)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
    return parser


def _database_url(value: Optional[str]) -> Optional[str]:
    """A database URL the project can use (SQLite or PostgreSQL), or a usage error."""
    if value is None:
        return None
    from sqlalchemy.exc import ArgumentError

    from storage.db import resolve_url, safe_url

    try:
        url = resolve_url(value)
    except ArgumentError:
        # The text itself is not repeated: it may hold a password.
        raise typer.BadParameter("not a database URL (expected sqlite:///PATH or "
                                 "postgresql://USER@HOST/DATABASE)") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise typer.BadParameter(f"unsupported database {safe_url(url)}: use sqlite:///PATH "
                                 "or postgresql://USER@HOST/DATABASE")
    return value


def positive_seconds(value: Optional[float]) -> Optional[float]:
    """A timeout or duration in seconds: finite and above zero."""
    if value is not None and not (math.isfinite(value) and 0 < value <= 366 * 86400):
        raise typer.BadParameter(f"{value} is not a number of seconds from 0 (excluded) to "
                                 f"{366 * 86400} (a year)")
    return value
DatabaseOption = Annotated[Optional[str], typer.Option(
    "--database-url", envvar="DATABASE_URL", callback=_database_url,
    help="SQLAlchemy URL; default sqlite:///var/clickfarm.db", show_envvar=True)]
SitesOption = Annotated[Optional[Path], typer.Option(
    "--sites-file", envvar="CLICKFARM_SITES", help="sites file (default config/sites.yaml)")]
MomentParser = _usage(parse_moment)
DayParser = _usage(parse_day)
SinceParser = _usage(lambda text: parse_since(text, now=datetime.now(UTC)))


class Pricing(str, Enum):
    per_1000 = "per_1000"
    package = "package"


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


# The --family choices: the families of the registry (core/families.py).
Family = Enum("Family", {name: name for name in FAMILY_NAMES}, type=str)  # type: ignore[misc]


def fail(message: str, code: int = 2) -> None:
    message = redact_text(message)  # an error may quote a secret (a URL, a seller's echo)
    err_console.print(labelled("error:", "red", _one_line(message)), soft_wrap=True)
    raise typer.Exit(code)


def open_database(database_url: str | None, *, write: bool = True):
    """The engine of the project database, checked before the command uses it.

    A writer (``write=True``) migrates it to the current schema (a new database gets its
    tables; only the default file's folder is created), waiting a bounded time for another
    writer's lock. A reader opens it read-only, takes no lock and writes nothing: a database
    whose schema is behind is refused with the way to migrate it. Any database that cannot be
    used ends the command with one line (exit 1).
    """
    from sqlalchemy.exc import DBAPIError

    from storage.db import (
        DatabaseUnavailable,
        database_error_line,
        get_engine,
        migrate,
        require_current_schema,
        resolve_url,
    )

    try:
        if write:
            engine = get_engine(database_url, create_folder=database_url is None)
            migrate(engine)
        else:
            engine = get_engine(database_url, read_only=True)
            require_current_schema(engine)
    except DatabaseUnavailable as error:
        fail(str(error), 1)
    except DBAPIError as error:
        fail(database_error_line(error, resolve_url(database_url)), 1)
    return engine


def _broker_url(value: Optional[str]) -> Optional[str]:
    """A Redis broker URL (redis://, rediss://, redis+socket://), or a usage error."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    message = "not a Redis broker URL (expected redis://HOST:PORT/DB)"
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        # The text itself is not repeated: it may hold a password.
        raise typer.BadParameter(message) from None
    if parts.scheme not in ("redis", "rediss", "redis+socket") or not (
            parts.hostname or parts.scheme == "redis+socket"):
        raise typer.BadParameter(message)
    return value


BrokerOption = Annotated[Optional[str], typer.Option(
    "--broker-url", envvar="CLICKFARM_BROKER_URL", callback=_broker_url, show_envvar=True,
    help="Redis URL of the Celery broker (distributed mode); default scheduler.broker_url, "
         "else redis://127.0.0.1:6379/0")]
