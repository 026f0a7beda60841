"""Column types that behave the same on SQLite and PostgreSQL.

Two problems this module solves:

- SQLite has no decimal type. A column declared ``NUMERIC`` has numeric *affinity*: the text
  ``"0.0135"`` is silently turned into the binary float ``0.0135`` and ``"120.00000000"`` into the
  integer ``120``. :class:`ExactDecimal` (alias :data:`Money`) therefore stores plain decimal
  text in a ``TEXT`` column on SQLite (``format(value, "f")``, never exponent notation) and real
  ``NUMERIC`` on PostgreSQL, and returns :class:`~decimal.Decimal` on both, digit for digit.
- SQLite has no timestamp type either. :class:`UTCDateTime` stores UTC as fixed-width text
  ``YYYY-MM-DD HH:MM:SS.ffffff`` on SQLite (SQLite's own ``datetime()`` format plus
  microseconds: text order is time order, and ``julianday()`` reads it) and
  ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, and returns timezone-aware UTC datetimes on both.
  Naive datetimes are refused: a naive value is a bug waiting to shift every timestamp.

The bulk inserts of :mod:`storage.repository` bypass these types for speed and call the same
conversion functions (:func:`decimal_to_text`, :func:`datetime_to_text`, :func:`checked_decimal`).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Numeric, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

_SQLITE_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class ExactDecimal(TypeDecorator[Decimal]):
    """Exact decimals (money, rates, percentages): ``NUMERIC`` on PostgreSQL, text on SQLite.

    Accepts :class:`Decimal`, ``int`` or a decimal string; refuses ``float`` (binary floats are
    not money) and non-finite values.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return decimal_to_text(value)
        return checked_decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        # Floats come from the views, which CAST money to a number on SQLite so that it sorts
        # numerically; repr() is the shortest text that round-trips: the digits stored (<= 15).
        return decimal_from_db(value)


Money = ExactDecimal
"""The name to use for money columns."""


def checked_decimal(value: Any) -> Decimal:
    """``value`` as a finite Decimal; ``float``, ``bool`` and non-numbers are refused."""
    if type(value) is not Decimal:
        if isinstance(value, (bool, float)) or not isinstance(value, (int, str, Decimal)):
            raise TypeError(
                f"money must be Decimal, int or str, not {type(value).__name__}: {value!r}"
            )
        value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"money must be a finite number, got {value!r}")
    return value


def decimal_to_text(value: Any) -> str | None:
    """How SQLite stores an exact decimal: plain digits, never exponent notation."""
    if value is None:
        return None
    return format(checked_decimal(value), "f")


def datetime_to_text(value: datetime) -> str:
    """How SQLite stores a timestamp: UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    return _utc(value).strftime(_SQLITE_DATETIME_FORMAT)


def decimal_from_db(value: Any) -> Decimal | None:
    """A money value as the driver returned it (SQLite text, PostgreSQL Decimal) as Decimal."""
    if value is None or type(value) is Decimal:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value if isinstance(value, str) else str(value))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both backends (naive datetimes are refused)."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)
        # One-entry memo: a batch binds the same observed_at tens of thousands of times.
        # A tuple is swapped atomically, so concurrent threads never see a torn pair.
        self._sqlite_memo: tuple[datetime | None, str | None] = (None, None)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            memo = self._sqlite_memo
            if memo[0] is value:
                return memo[1]
            text = datetime_to_text(value)
            self._sqlite_memo = (value, text)
            return text
        return _utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        if value.tzinfo is None:  # a SQLite expression that produced a naive value
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _utc(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: timestamps must be tz-aware")
    return value.astimezone(UTC)


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback: Decimals as strings (exact), dates ISO, sets as sorted lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serializable: {value!r}")


def dumps_json(value: Any) -> str:
    """The engine-wide JSON serializer: Decimals stay exact (as strings), UTF-8 kept as is."""
    return json.dumps(value, default=json_default, ensure_ascii=False, separators=(",", ":"))


def JSONDocument() -> TypeEngine[Any]:  # noqa: N802 - reads like a type in column definitions
    """JSON on SQLite (text), JSONB on PostgreSQL; Python ``None`` is SQL NULL, not ``'null'``."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
