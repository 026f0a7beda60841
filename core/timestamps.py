"""Dates and timestamps as given on the command line, within the range the database can hold.

Every date or time option of the ``clickfarm`` command goes through this module (``--from``,
``--to``, ``--at``, ``--observed-at``, ``--since``). A value outside ``EARLIEST`` ..
``LATEST`` is refused where it is typed: stored, ``0001-01-01`` could not be read back (and
every later ``status`` failed), and ``9999-12-31`` overflows as soon as a window is computed
from it (``--to`` + 1 day, the next planned run).

The bounds: nothing happened before the Unix epoch, and the last day leaves one whole day of
room, so that the end of a day window (``--to`` + 1 day) and a planned run a day later still
fit in a ``datetime``. Windows reaching back from a moment (``--since 7d``, a 7-day market rule)
may end before 1970; those are ordinary values for Python, SQLite text and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The first moment an option may name."""
LATEST = datetime.combine(date(9999, 12, 30), time.max, UTC)
"""The last moment an option may name (the end of 9999-12-30)."""

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$", re.IGNORECASE)
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_RANGE = "between 1970-01-01 and 9999-12-30"


class MomentError(ValueError):
    """A date or timestamp that is malformed or out of range; the message says which."""


def _checked(moment: datetime, text: str) -> datetime:
    if not EARLIEST <= moment <= LATEST:
        raise MomentError(f"{text!r} is out of range: dates must be {_RANGE} (UTC)")
    return moment


def parse_moment(text: str) -> datetime:
    """An ISO date (``2026-09-01``, midnight UTC) or timestamp (``2026-09-01T12:00``, UTC when
    no zone is given, converted to UTC otherwise) -> an aware UTC datetime within range."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise MomentError(f"not an ISO date or timestamp: {text!r} "
                          f"(expected 2026-09-01 or 2026-09-01T12:00)") from None
    if moment.tzinfo is None:
        return _checked(moment.replace(tzinfo=UTC), text)
    try:
        return _checked(moment.astimezone(UTC), text)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC time
        raise MomentError(f"{text!r} is out of range: dates must be {_RANGE} (UTC)") from None


def parse_day(text: str) -> date:
    """An ISO date (``2026-09-01``) within range -> a date."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise MomentError(f"not an ISO date: {text!r} (expected e.g. 2026-09-01)") from None
    _checked(datetime.combine(day, time.min, UTC), text)
    return day


def parse_since(text: str, *, now: datetime) -> datetime:
    """``7d``, ``24h``, ``30m``, ``2w`` before ``now``, or an ISO date / timestamp (UTC if no
    zone) within range. Raises :class:`MomentError` with the accepted forms."""
    forms = "expected 7d, 24h, 30m, 2w or an ISO date (2026-09-01 or 2026-09-01T12:00)"
    match = _RELATIVE.match(text)
    if match:
        try:
            moment = now - timedelta(**{_UNIT[match[2].lower()]: float(match[1])})
        except OverflowError:  # "99999999d": before year 1
            raise MomentError(f"{text!r} reaches too far back; {forms}") from None
        if moment < EARLIEST:
            raise MomentError(f"{text!r} reaches before 1970-01-01; {forms}")
        return moment
    try:
        return parse_moment(text)
    except MomentError as error:
        if "out of range" in str(error):
            raise
        raise MomentError(f"{text!r}: {forms}") from None
