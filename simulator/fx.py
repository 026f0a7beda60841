"""Currency conversion of the simulator's ground truth (USD per unit of a currency on a date)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from simulator import calibration as cal

USD_QUANTUM = Decimal("0.000001")
"""USD per 1000 is rounded to 6 decimals, half-even, as the pipeline rounds."""

_FX_CONVERTER: Any = None


def usd_per_unit(currency: str, on: date) -> tuple[Decimal, str]:
    """USD value of one unit of ``currency`` on a date: ECB (currencyconverter) when it has the
    date, else the simulator's fixed panel rate. Returns (rate, source)."""
    global _FX_CONVERTER
    if currency == "USD":
        return Decimal(1), "identity"
    try:
        if _FX_CONVERTER is None:
            from currency_converter import CurrencyConverter

            _FX_CONVERTER = CurrencyConverter(
                fallback_on_missing_rate=True, fallback_on_wrong_date=False
            )
        rate = _FX_CONVERTER.convert(1, currency, "USD", date=on)
        return Decimal(str(rate)).quantize(Decimal("0.00000001")), "ecb"
    except Exception:  # date outside the bundled ECB data, or the package missing
        return Decimal(str(1 / cal.PANEL_FX_PER_USD[currency])).quantize(
            Decimal("0.00000001")
        ), "panel_fixed"
