"""pipelines.money: price texts and JSON values -> exact Decimal money; quantities -> ints.

Examples are grouped by where they come from: the real 2020 price lists
(``../shared/data/smmpanels/raw/<Panel>/<date>.csv.gz``, "Rate per 1000" cells quoted as
crawled), the formats reference (``shared/reference/FORMATS.md``), API payloads, and
local-currency panels.
"""

from __future__ import annotations

import csv
import gzip
import re
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.money import (
    Money,
    MoneyError,
    QuantityError,
    currency_code,
    infer_decimal_separator,
    parse_money,
    parse_quantity,
)

D = Decimal

# (text, default currency, decimal style, amount, currency)
REAL_2020_CELLS = [
    # IndianSmartPanel 2020_07_15: "$" cells padded with spaces, 1 to 5 decimals
    ("                  $0.75                  ", None, "display", D("0.75"), "USD"),
    ("$0.32366", None, "display", D("0.32366"), "USD"),
    ("$0.144", None, "display", D("0.144"), "USD"),  # three decimals: not 144
    # TruelySocial 2020_07_14: up to 7 decimals
    ("$0.2669628", None, "display", D("0.2669628"), "USD"),
    ("$124.488", None, "display", D("124.488"), "USD"),
    # Fivebbc / OGBoost 2020_07: "$ " with a space
    ("$ 0.266", None, "display", D("0.266"), "USD"),
    # TopSMMPanel 2020_07_16: space as thousands separator
    ("$ 1 300.00", None, "display", D("1300.00"), "USD"),
    # JustAnotherPanel 2020_07_16: bare numbers in a USD list
    ("250.00", "USD", "display", D("250.00"), "USD"),
    ("0.325", "USD", "display", D("0.325"), "USD"),
    # BlowSMMPanel 2020_07: absurd but real (validation rejects it, parsing must not)
    ("2002020200202.00", "USD", "display", D("2002020200202.00"), "USD"),
    # ClassicSMM 2020_07: an INR panel
    ("₹25000.00", None, "display", D("25000.00"), "INR"),
    ("₹3.00", None, "display", D("3.00"), "INR"),
    # SMMBooster 2020_07: cents rendered in their own element, only a space left
    ("€1 50", None, "display", D("1.50"), "EUR"),
    ("€50 00", None, "display", D("50.00"), "EUR"),
    ("€9600 00", None, "display", D("9600.00"), "EUR"),
    # CanPanel 2020_07_16: integers
    ("25", "USD", "display", D("25"), "USD"),
]

FORMATS_REFERENCE = [
    ("$0.0135", None, "display", D("0.0135"), "USD"),
    ("₹75", None, "display", D("75"), "INR"),
    ("Rp 15.000", None, "display", D("15000"), "IDR"),
    ("R$ 1,20", None, "display", D("1.20"), "BRL"),
    ("200 000", "RUB", "display", D("200000"), "RUB"),
    ("200\u00a0000", "RUB", "display", D("200000"), "RUB"),  # NBSP
    ("200\u202f000", "RUB", "display", D("200000"), "RUB"),  # narrow NBSP
    ("10.000", "IDR", "display", D("10000"), "IDR"),  # the currency says dot = thousands
    ("10.000", "VND", "display", D("10000"), "VND"),
    ("₺12,50", None, "display", D("12.50"), "TRY"),
    ("12,50 TL", None, "display", D("12.50"), "TRY"),
    ("€1.20", None, "display", D("1.20"), "EUR"),
    ("1,234.56", "USD", "display", D("1234.56"), "USD"),
    ("1.234,56", "EUR", "display", D("1234.56"), "EUR"),
    ("1.000.000", "IDR", "display", D("1000000"), "IDR"),
    ("$.75", None, "display", D("0.75"), "USD"),
]

# How the simulated market (simulator/market.py, MoneyFormat) writes rates: every style it
# draws must read back exactly, with only the site's currency as context.
SIMULATED_PAGE_STYLES = [
    ("$1.500", "USD", "display", D("1.5"), "USD"),  # three decimals
    ("$1,500.0000", "USD", "display", D("1500"), "USD"),
    ("1.500$", "USD", "display", D("1.5"), "USD"),
    ("₹ 1 500", "INR", "display", D("1500"), "INR"),  # no decimals, space thousands
    ("₹ 1,500", "INR", "display", D("1500"), "INR"),
    ("₺1.500,25", "TRY", "display", D("1500.25"), "TRY"),
    ("0,75 ₺", "TRY", "display", D("0.75"), "TRY"),
    ("12,50 TL", "TRY", "display", D("12.50"), "TRY"),
    ("€1.500", "EUR", "display", D("1.5"), "EUR"),  # prefix style: dot decimals
    ("1,500 €", "EUR", "display", D("1.5"), "EUR"),  # suffix style: comma decimals
    ("1 500,000000 €", "EUR", "display", D("1500"), "EUR"),
    ("1.500,00 €", "EUR", "display", D("1500"), "EUR"),
]

API_VALUES = [
    # rate strings are plain decimals with 0 to 8 decimals; the currency is not in the payload
    ("0.90", "USD", "plain", D("0.90"), "USD"),
    ("0.900", "USD", "plain", D("0.9"), "USD"),  # not 900
    ("1.500", "TRY", "plain", D("1.5"), "TRY"),  # not 1500, even for a decimal-comma currency
    ("120.00000000", "USD", "plain", D("120"), "USD"),
    ("0.0015", "USD", "plain", D("0.0015"), "USD"),
    ("95200", "IRT", "plain", D("95200"), "IRT"),  # Iranian toman panel
    ("8", None, "plain", D("8"), None),
    ("1e-05", "USD", "plain", D("0.00001"), "USD"),
    (1e-05, "USD", "plain", D("0.00001"), "USD"),  # JSON number: no binary-float digits
    (0.1, "USD", "plain", D("0.1"), "USD"),
    (8, "USD", "plain", D("8"), "USD"),
    (D("2.50"), "EUR", "plain", D("2.50"), "EUR"),
]

CURRENCY_SYMBOLS = [
    ("R$ 5", "USD", "BRL"),
    ("$5", "CAD", "CAD"),  # a dollar-area site keeps its own dollar
    ("$5", "EUR", "USD"),  # ... any other site: "$" is USD
    ("US$ 5", "CAD", "USD"),
    ("Rs 500", "PKR", "PKR"),
    ("Rs. 500", None, "INR"),
    ("₨ 500", None, "PKR"),
    ("₨ 500", "INR", "INR"),
    ("¥100", None, "JPY"),
    ("¥100", "CNY", "CNY"),
    ("100 ₽", None, "RUB"),
    ("₫ 15.000", None, "VND"),
    ("₱50", None, "PHP"),
    ("£3", None, "GBP"),
    ("USD 50", "EUR", "USD"),
    ("95200 تومان", None, "IRT"),
    ("Lek 100", None, "ALL"),  # price-parser's long tail
]


@pytest.mark.parametrize(
    ("text", "default", "style", "amount", "currency"),
    [pytest.param(*case, id=f"real-{i}-{str(case[0]).strip()}") for i, case in enumerate(REAL_2020_CELLS)]
    + [pytest.param(*case, id=f"formats-{case[0]}") for case in FORMATS_REFERENCE]
    + [pytest.param(*case, id=f"simulator-{case[0]}") for case in SIMULATED_PAGE_STYLES]
    + [pytest.param(*case, id=f"api-{case[0]!r}") for case in API_VALUES],
)
def test_parse_money(text, default, style, amount, currency):
    money = parse_money(text, default, decimal_style=style)
    assert money.amount == amount
    assert money.currency == currency
    # Decimals compare equal across exponents; check the digits too where it matters.
    assert "E" not in str(money.amount)


@pytest.mark.parametrize(("text", "default", "currency"), CURRENCY_SYMBOLS,
                         ids=[f"{t}|{d}" for t, d, _ in CURRENCY_SYMBOLS])
def test_currency_symbols(text, default, currency):
    assert parse_money(text, default).currency == currency


def test_money_keeps_raw_text_and_is_frozen():
    money = parse_money("  $0.75 ", None)
    assert money == Money(amount=D("0.75"), currency="USD", raw="  $0.75 ")
    with pytest.raises(AttributeError):
        money.amount = D(1)  # type: ignore[misc]


def test_float_goes_through_repr_not_binary():
    assert parse_money(0.1, "USD").amount == D("0.1")  # Decimal(0.1) would be 0.1000000000000000055...
    assert parse_money(0.1, "USD").raw == "0.1"


@pytest.mark.parametrize(
    ("text", "default", "separator", "amount"),
    [
        ("1.500", "BRL", None, D("1.5")),  # a three-decimal rate, even in a decimal-comma currency
        ("1,500", "BRL", None, D("1.5")),
        ("1,500", "USD", None, D("1500")),  # English writing
        ("$1.500", None, None, D("1.5")),  # three-decimal USD rates are common
        ("1.500", "BRL", ",", D("1500")),  # a site's configured separator wins
        ("1,500", "USD", ",", D("1.5")),
        ("0.900", "IDR", None, D("0.9")),  # thousands never start with 0
    ],
    ids=["brl-dot-3", "brl-comma-3", "usd-comma-3", "usd-dot-3", "override-dot", "override-comma", "leading-zero"],
)
def test_three_digit_ambiguity(text, default, separator, amount):
    assert parse_money(text, default, decimal_separator=separator).amount == amount


@pytest.mark.parametrize(
    ("text", "amount"),
    [("-1", D("-1")), ("$-1.00", D("-1.00")), ("-$1.00", D("-1.00")), ("− 0.5 €", D("-0.5"))],
    ids=["plain", "after-symbol", "before-symbol", "unicode-minus"],
)
def test_negative_amounts_keep_their_sign(text, amount):
    # Validation must see a negative rate to reject it; parsing must not hide it.
    assert parse_money(text, "USD").amount == amount


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "empty price"),
        ("", "empty price"),
        ("   ", "empty price"),
        ("NaN", "not a finite number"),
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        ("-Infinity", "not a finite number"),
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
        (D("NaN"), "not a finite number"),
        ("JUNIOR", "no number"),  # SocialPanel24 2020_07_16: a tier name in the rate column
        ("bar_chartPrice per 1000", "text before the number"),  # BuyBestSuperfans: header repeated as a row
        ("From $5", "text before the number"),  # a range's lower bound, not a price
        ("1.2.3", "ambiguous"),
        (True, "not a price"),
        ("¤3.3372", "unknown currency symbol"),  # the generic currency sign: which currency?
        ("₿0.1", "unknown currency symbol"),  # bitcoin has no ISO 4217 code or ECB rate
    ],
    ids=lambda value: repr(value),
)
def test_money_errors(value, message):
    with pytest.raises(MoneyError, match=message):
        parse_money(value, "USD")


def test_bad_options_are_programming_errors():
    with pytest.raises(ValueError, match="decimal_style"):
        parse_money("1", decimal_style="fancy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decimal_separator"):
        parse_money("1", decimal_separator=";")


@pytest.mark.parametrize(
    ("symbol", "default", "code"),
    [("usd", None, "USD"), ("R$", None, "BRL"), ("TL", None, "TRY"), ("$", "AUD", "AUD"),
     ("XYZ", None, None), ("", None, None), ("IRT", None, "IRT"), ("kr", "NOK", "NOK")],
    ids=["lower-code", "brl", "tl", "aud-dollar", "unknown", "empty", "toman", "kr-nok"],
)
def test_currency_code(symbol, default, code):
    assert currency_code(symbol, default) == code


@pytest.mark.parametrize(
    ("texts", "separator"),
    [(["1,20", "0,5", "15,000"], ","), (["1.20", "15.000", "$3"], "."), (["15.000", "1.500"], None),
     (["1,20", "1.20"], None)],
    ids=["comma", "dot", "only-ambiguous", "contradictory"],
)
def test_infer_decimal_separator(texts, separator):
    assert infer_decimal_separator(texts) == separator


# --- quantities --------------------------------------------------------------------------------

QUANTITIES = [
    ("1,000", 1000), ("1K", 1000), ("1k", 1000), ("1.5k", 1500), ("1,5K", 1500),
    ("10 000", 10000), ("10\u00a0000", 10000), ("10.000", 10000), ("1M", 1_000_000),
    ("1.2M", 1_200_000), ("2147483647", 2147483647), ("1000 Followers", 1000), ("5253+", 5253),
    ("3,832,058", 3832058), ("12 345", 12345), (" 50 ", 50), ("1B", 1_000_000_000),
    ("10 Million", 10_000_000), ("5 Bin", 5000), ("Unlimited", None), ("unlimited", None),
    ("∞", None), (1000, 1000), (1000.0, 1000), (0, 0),
]


@pytest.mark.parametrize(("text", "value"), QUANTITIES, ids=[repr(t) for t, _ in QUANTITIES])
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [(None, "empty"), ("", "empty"), ("abc", "not a quantity"), ("1.5", "whole"), ("-5", "negative"),
     (-5, "negative"), (1.5, "whole"), (True, "not a quantity"), (float("nan"), "whole")],
    ids=lambda value: repr(value),
)
def test_quantity_errors(text, message):
    with pytest.raises(QuantityError, match=message):
        parse_quantity(text)


# --- every rate cell of the real 2020 lists --------------------------------------------------

_RATE_HEADERS = ("rate", "price")
_NOT_A_RATE = {"", "JUNIOR", "bar_chartPrice per 1000"}  # empty cells, a tier label, a header row


def _latest_rate_cells(smmpanels_dir: Path) -> list[tuple[str, str]]:
    cells = []
    for panel in sorted((smmpanels_dir / "raw").iterdir()):
        latest = sorted(panel.glob("*.csv.gz"))[-1]
        with gzip.open(latest, "rt", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle)
            header = [column.lower() for column in next(reader)]
            rate_column = next(i for i, column in enumerate(header)
                               if any(word in column for word in _RATE_HEADERS))
            cells += [(panel.name, row[rate_column]) for row in reader if len(row) > rate_column]
    return cells


def test_every_real_rate_cell_parses(smmpanels_dir):
    """All ~20000 rate cells of the latest list of each panel parse, to the number a person
    reads (digits with one dot, "€9 99" cents): the parser is checked against real data, not
    only against examples chosen for it."""
    cells = _latest_rate_cells(smmpanels_dir)
    assert len(cells) > 15000
    failures = []
    for panel, cell in cells:
        text = cell.strip()
        if text in _NOT_A_RATE:
            with pytest.raises(MoneyError):
                parse_money(text, "USD")
            continue
        money = parse_money(text, "USD")
        digits = re.sub(r"[^\d.]", "", text.replace("€", "").strip())
        if re.fullmatch(r"€?\s*\d+ \d\d", text):  # SMMBooster's "€50 00"
            digits = text.replace("€", "").strip().replace(" ", ".")
        if money.amount != Decimal(digits):
            failures.append((panel, cell, money.amount))
    assert failures == []
