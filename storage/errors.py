"""Database errors as one line a user can act on, and which errors mean "the database is not
reachable right now" (worth waiting for) rather than a bug.

:func:`describe_connection_error` names what failed (host and port, database, user; never the
password) instead of a driver traceback: a wrong host, port, password or database name is a
configuration mistake, not a crash. The CLI's top-level error handler calls it.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from storage.db import resolve_url

# libpq / psycopg messages, newest wording first where it changed between versions.
_REFUSED = re.compile(r"connection refused", re.IGNORECASE)
_PASSWORD = re.compile(r"password authentication failed for user \"?([^\"\s]+)\"?|"
                       r"no password supplied|fe_sendauth", re.IGNORECASE)
_NO_DATABASE = re.compile(r"database \"([^\"]+)\" does not exist", re.IGNORECASE)
_NO_ROLE = re.compile(r"role \"([^\"]+)\" does not exist", re.IGNORECASE)
_UNRESOLVED = re.compile(r"failed to resolve host|could not translate host name|"
                         r"name or service not known|nodename nor servname", re.IGNORECASE)
_TIMEOUT = re.compile(r"timeout expired|timed out", re.IGNORECASE)
_GONE = re.compile(r"terminating connection|server closed the connection|shutting down|"
                   r"the database system is (starting up|shutting down|in recovery)|"
                   r"consuming input failed|connection is closed|connection already closed",
                   re.IGNORECASE)


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached or dropped the connection (a
    restart, a network blip) rather than that a statement was wrong: worth retrying."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OperationalError | InterfaceError):
        text = _driver_message(error)
        return bool(_REFUSED.search(text) or _GONE.search(text) or _TIMEOUT.search(text)
                    or "could not connect" in text.lower()
                    or "connection failed" in text.lower()
                    or "database is locked" in text.lower())
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def describe_connection_error(error: BaseException, url: str | URL | None = None) -> str:
    """One line naming what failed: ``cannot connect to PostgreSQL at 127.0.0.1:5433:
    connection refused (is the server running and listening on that port?)``.

    ``url`` is the URL that was used (default: ``DATABASE_URL``, as :func:`storage.db.
    resolve_url` reads it). The line names the host and port, the database and the user; never
    the password, even when the driver's message would repeat it.
    """
    resolved = resolve_url(url)
    message = _driver_message(error)
    if resolved.password:
        message = message.replace(str(resolved.password), "***")
    if resolved.get_backend_name() == "sqlite":
        path = resolved.database or ":memory:"
        if "locked" in message.lower():
            return (f"the SQLite database {path} is locked by another process (waited for it "
                    f"and gave up): {message}")
        return f"cannot use the SQLite database {path}: {message}"
    where = _where(resolved)
    database = resolved.database or "(default)"
    user = resolved.username or "(default user)"
    if match := _NO_DATABASE.search(message):
        return (f"PostgreSQL at {where} has no database {match[1]!r} (create it: CREATE "
                f"DATABASE {match[1]} OWNER {user}; or fix the database name in the URL)")
    if match := _NO_ROLE.search(message):
        return f"PostgreSQL at {where} has no user {match[1]!r} (create it, or fix the user name)"
    if match := _PASSWORD.search(message):
        who = match[1] or user
        return (f"PostgreSQL at {where} refused the login of user {who!r} to database "
                f"{database!r}: password authentication failed (check the password in "
                f"~/.pgpass, PGPASSWORD or the URL)")
    if _UNRESOLVED.search(message):
        return (f"cannot resolve the database host {resolved.host!r} (port "
                f"{resolved.port or 5432}): check the host name in the URL")
    if _REFUSED.search(message):
        return (f"cannot connect to PostgreSQL at {where}: connection refused (is the server "
                f"running and listening on that host and port?)")
    if _TIMEOUT.search(message):
        return f"cannot connect to PostgreSQL at {where}: no answer (timeout): {message}"
    if _GONE.search(message):
        return f"PostgreSQL at {where} closed the connection (restarting?): {message}"
    return f"database error at {where}, database {database!r}: {message}"


def _where(url: URL) -> str:
    if not url.host:
        return "the local socket"
    return f"{url.host}:{url.port or 5432}"


def _driver_message(error: BaseException) -> str:
    """The driver's own message on one line, without SQLAlchemy's wrapping and links."""
    original = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = str(original)
    text = re.sub(r"^connection failed:\s*", "", text.strip())
    text = re.sub(r"connection to server at \"[^\"]*\"(?: \([^)]*\))?, port \d+ failed:\s*",
                  "", text)
    text = re.sub(r"\(Background on this error at:[^)]*\)", "", text)
    text = re.sub(r"\bFATAL:\s*", "", text)
    return " ".join(text.split()) or type(original).__name__
