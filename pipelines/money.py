"""Money and quantity parsing: seller text or JSON values -> exact ``Decimal`` amounts and ints.

``parse_money`` uses price-parser (``Price.fromstring``) to find the currency symbol, then reads
the number itself, because the places where price-parser guesses are exactly the ones that
matter on engagement panels:

- ``"0.900"`` and ``"1.500"``: price-parser reads a single dot followed by three digits as a
  thousands separator (900, 1500). API rates are plain decimals with 0 to 8 decimals, and HTML
  panels in USD show three-decimal rates all the time (about 800 of the 2020 rates look like
  ``$1.500``), so a dot is a decimal point unless the currency says otherwise.
- ``"Rp 15.000"``, ``"₫ 15.000"``: currencies quoted without minor units (IDR, VND, IRR, KRW,
  JPY, ...) use the dot (or comma) as a thousands separator.
- ``"R$ 1,20"``, ``"₺12,50"``: currencies written with a decimal comma (BRL, TRY, EUR, RUB,
  ...): there ``"1,500"`` is 1.5, elsewhere (USD, INR, ...) 1500. A single dot followed by three
  digits is a decimal point in every currency that has minor units (``"$1.500"``,
  ``"€1.500"``, ``"R$ 1.500"`` are 1.5): three-decimal rates are everywhere on panels, and
  PerfectPanel prints dot decimals whatever the currency. A site that groups thousands with a
  dot says so with ``decimal_separator=","`` (or let :func:`infer_decimal_separator` read it
  from the whole price list).
- A leading ``0`` (``"0.900"``) or space grouping (``"1 234,567"``) settles it: decimal point.
- ``"€1 50"``: some themes render the cents in their own element, leaving only a space.
- ``"-1"``: the sign (price-parser drops it; validation must see a negative rate).
- ``1e-05`` (a JSON float): converted through ``repr`` so no binary-float digits leak in.
- ``"Price per 1000"``, ``"From $5"``: words before the number (other than the currency
  symbol) are an error, not a price of 1000 or 5.
- ``"١٫٥"``, ``"۱٫۵"``, ``"१.५"``, ``"１．５"``: digits of every script are read as the number
  they write (1.5); the Arabic decimal sign ``٫`` says where the decimals start, whatever the
  currency, and the Arabic thousands sign ``٬`` only groups.
- ``"1e25"``, a 23-digit rate, ``1e-30``: amounts outside :data:`MAX_INTEGER_DIGITS` integer
  digits or :data:`MAX_DECIMAL_PLACES` decimals cannot be a price, nor be computed with exactly
  (USD conversion, storage): :class:`MoneyError` ``"price out of range"``, never a rounded or
  truncated value. Quantities above :data:`MAX_QUANTITY` (the 64-bit columns they are stored
  in) are a :class:`QuantityError` likewise.

Decimal style: callers say where the text came from. ``decimal_style="plain"`` is for API and
JSON values, which are plain decimal strings (the dot is always the decimal point);
``"display"`` is for text shown on a page, where separators follow the currency's conventions
unless ``decimal_separator`` overrides them (see :func:`infer_decimal_separator` for reading it
from a whole price list).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

from price_parser import Price

from pipelines.fx import is_known_currency

DecimalStyle = Literal["plain", "display"]

MAX_INTEGER_DIGITS = 15
"""Amounts are below 10**15 in any currency (the validator's absurd-price bound is 10**9): a
converted or per-package amount then stays well inside decimal's 28 significant digits."""
MAX_DECIMAL_PLACES = 18
"""Finer than any real rate (APIs send at most 8 decimals)."""
MAX_QUANTITY = 2**63 - 1
"""Quantities and counters are stored in 64-bit integer columns."""


class MoneyError(ValueError):
    """A price that cannot be read as an amount of money (empty, NaN, infinite, not a number)."""


class QuantityError(ValueError):
    """A quantity that cannot be read as a whole number of units."""


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of money as read from one price text."""

    amount: Decimal
    currency: str | None
    """ISO 4217 code (``IRT`` for the Iranian toman, which panels quote); ``None`` when neither
    the text nor ``default_currency`` says."""
    raw: str
    """The text (or JSON value rendered with ``repr``) the amount was read from."""


# --- data tables -------------------------------------------------------------------------------

# Symbol (as price-parser returns it, or as panels write it) -> ISO code. Ambiguous symbols are
# in _AMBIGUOUS_SYMBOLS instead: the site's currency decides between their candidates.
_SYMBOL_TO_CODE: dict[str, str] = {
    "US$": "USD", "R$": "BRL", "CA$": "CAD", "C$": "CAD", "AU$": "AUD", "A$": "AUD",
    "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "MX$": "MXN", "NT$": "TWD", "AR$": "ARS",
    "CL$": "CLP", "CO$": "COP", "RD$": "DOP", "TT$": "TTD", "J$": "JMD", "N$": "NAD",
    "€": "EUR", "euro": "EUR", "eur": "EUR", "£": "GBP", "₹": "INR", "₺": "TRY", "TL": "TRY",
    "Rp": "IDR", "₽": "RUB", "руб": "RUB", "руб.": "RUB", "р.": "RUB", "₫": "VND", "₱": "PHP",
    "đ": "VND", "Đ": "VND", "VNĐ": "VND", "vnđ": "VND", "VNđ": "VND", "Vnđ": "VND",
    "₩": "KRW", "₦": "NGN", "₴": "UAH", "грн": "UAH", "грн.": "UAH", "৳": "BDT", "฿": "THB",
    "₪": "ILS", "zł": "PLN", "Zł": "PLN", "Kč": "CZK", "₸": "KZT", "₼": "AZN", "₾": "GEL",
    "CN¥": "CNY", "￥": "CNY", "lei": "RON", "лв": "BGN", "лв.": "BGN", "CHF": "CHF",
    "RM": "MYR", "Ksh": "KES", "KSh": "KES", "﷼": "IRR", "ريال": "IRR", "تومان": "IRT",
    "toman": "IRT", "Toman": "IRT", "TOMAN": "IRT", "ج.م.\u200f": "EGP", "د.إ.\u200f": "AED",
    "ر.س.\u200f": "SAR", "د.م.\u200f": "MAD",
}
# Symbol -> (candidates, choice when the site's currency is none of them).
_AMBIGUOUS_SYMBOLS: dict[str, tuple[frozenset[str], str]] = {
    # A bare "$" is USD on every panel we know of, unless the site is a dollar-area shop.
    "$": (frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP",
                     "TWD", "JMD", "TTD", "NAD", "LRD", "BSD", "BBD", "FJD", "GYD", "SRD"}),
          "USD"),
    # India moved to ₹ in 2010; "Rs" is still everyday Indian usage, while the ₨ sign is what
    # Pakistani panels print.
    "Rs": (frozenset({"INR", "PKR", "LKR", "NPR", "MUR", "SCR"}), "INR"),
    "Rs.": (frozenset({"INR", "PKR", "LKR", "NPR", "MUR", "SCR"}), "INR"),
    "₨": (frozenset({"PKR", "INR", "LKR", "NPR", "MUR", "SCR"}), "PKR"),
    "¥": (frozenset({"JPY", "CNY"}), "JPY"),
    "kr": (frozenset({"SEK", "NOK", "DKK", "ISK"}), "SEK"),
    "kr.": (frozenset({"SEK", "NOK", "DKK", "ISK"}), "DKK"),
}
# Currencies quoted without minor units: a single separator followed by three digits groups
# thousands ("Rp 15.000", "15,000 VND"). A three-decimal IDR rate does not exist in practice.
_NO_MINOR_UNIT_CURRENCIES = frozenset({
    "IDR", "VND", "IRR", "IRT", "KRW", "JPY", "CLP", "PYG", "UGX", "COP", "HUF", "IQD", "LAK",
    "MMK", "KHR", "UZS", "TZS", "RWF", "XOF", "XAF", "ISK", "KZT", "LBP", "SYP",
})
# Currencies whose everyday writing uses a decimal comma: a lone comma followed by three digits
# is their decimal mark ("R$ 1,500" = 1.5), where English writing would group ("$1,500").
_DECIMAL_COMMA_CURRENCIES = frozenset({
    "BRL", "TRY", "EUR", "RUB", "ARS", "UAH", "PLN", "CZK", "RON", "BGN", "DKK", "NOK", "SEK",
    "CHF", "ZAR", "AZN", "GEL", "BYN", "UYU", "BOB", "PEN", "VES", "DZD", "MAD", "TND", "EGP",
})

_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f]+")
# Integer part with optional space/apostrophe thousands groups, then dot/comma parts, an
# optional exponent, and a trailing "cents after a space" group ("€1 50").
_NUMBER = re.compile(
    r"""
    (?P<int>\d{1,3}(?:[ '’]\d{3})+(?!\d)|\d+|(?<![^\W\d_])(?=[.,]\d))
    (?P<frac>(?:[.,]\d+)*)
    (?P<exp>[eE][+-]?\d+(?![\w]))?
    (?P<cents>[ ]\d{2}(?![\d.,]))?
    """,
    re.VERBOSE,
)
_NOT_FINITE = re.compile(r"(?<![a-z])(?:nan|inf|infinity)(?![a-z])", re.IGNORECASE)
_MINUS_BEFORE = re.compile(r"[-−‒–]\s*$")
_MINUS_AT_START = re.compile(r"^\s*[-−‒–]")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]{2,}")
ARABIC_DECIMAL_SEPARATOR = "\u066b"  # ٫
ARABIC_THOUSANDS_SEPARATOR = "\u066c"  # ٬
# Separators Unicode gives no numeric property: the full-width and small forms of "." and ","
# stand for them. The Arabic signs are read in _parse_text / _parse_quantity_text, where their
# meaning (decimal point, grouping) is certain.
_SEPARATOR_FORMS = {"\uff0e": ".", "\ufe52": ".", "\uff0c": ",", "\ufe50": ","}


@lru_cache(maxsize=4096)
def _ascii_char(char: str) -> str:
    digit = unicodedata.decimal(char, None)
    return str(digit) if digit is not None else _SEPARATOR_FORMS.get(char, char)


def ascii_digits(text: str) -> str:
    """``text`` with the decimal digits of every script (Arabic-Indic ``١``, Persian ``۱``,
    Devanagari ``१``, Bengali, Thai, full-width ``１``, ...: Unicode category Nd) as ASCII digits,
    and full-width ``．``/``，`` as ``.``/``,``; everything else is left as is."""
    if text.isascii():
        return text
    return "".join(_ascii_char(char) if not char.isascii() else char for char in text)


def _check_range(amount: Decimal, raw: str) -> Decimal:
    """``amount`` when it can be a price and be computed with exactly, else MoneyError."""
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN / infinity
        raise MoneyError(f"price is not a finite number: {raw!r}")
    if (not amount.is_zero() and amount.adjusted() >= MAX_INTEGER_DIGITS) \
            or exponent < -MAX_DECIMAL_PLACES:
        raise MoneyError(f"price out of range: {raw!r}")
    return amount


# --- currency ----------------------------------------------------------------------------------

def currency_code(symbol: str | None, default_currency: str | None = None) -> str | None:
    """ISO code for a currency symbol or code as sellers write it (``"R$"`` -> ``"BRL"``,
    ``"usd"`` -> ``"USD"``); ambiguous symbols (``$``, ``Rs``, ``₨``, ``¥``, ``kr``) resolve to
    ``default_currency`` when it is one of their candidates. Unknown text -> ``None``."""
    if not symbol:
        return None
    symbol = symbol.strip()
    default = default_currency.strip().upper() if default_currency else None
    if symbol in _AMBIGUOUS_SYMBOLS:
        candidates, usual = _AMBIGUOUS_SYMBOLS[symbol]
        return default if default in candidates else usual
    if symbol in _SYMBOL_TO_CODE:
        return _SYMBOL_TO_CODE[symbol]
    if len(symbol) == 3 and symbol.isascii() and symbol.isalpha() and is_known_currency(symbol):
        return symbol.upper()
    return _price_parser_symbols().get(symbol)


@lru_cache(maxsize=1)
def _price_parser_symbols() -> dict[str, str]:
    """Symbols from price-parser's own table that name exactly one currency (``"Lek"`` -> ALL):
    the long tail our table above does not list."""
    try:
        from price_parser._currencies import CURRENCIES
    except ImportError:  # a private module; the table above still covers the common symbols
        return {}
    codes_by_symbol: dict[str, set[str]] = {}
    for code, info in CURRENCIES.items():
        for symbol in (info.get("s"), info.get("sn"), *info.get("sn2", [])):
            if symbol:
                codes_by_symbol.setdefault(symbol.strip(), set()).add(code)
    return {symbol: codes.pop() for symbol, codes in codes_by_symbol.items() if len(codes) == 1}


_WRITTEN_SYMBOLS = re.compile(r"(?<![^\W\d_])(VNĐ|VNđ|Vnđ|vnđ)(?![^\W\d_])")


def _symbol_in(text: str, default_currency: str | None) -> tuple[str | None, str | None]:
    """(symbol as written, ISO code) of the currency named in ``text``."""
    written = _WRITTEN_SYMBOLS.search(text)
    if written:  # "50.000 VNĐ", "25.000 vnđ": price-parser knows neither
        return written[1], currency_code(written[1], default_currency)
    symbol = Price.fromstring(text).currency
    if not symbol:
        # price-parser knows the common signs only; any other currency sign (Unicode "Sc", e.g.
        # the generic ¤) still names a currency, just one we cannot identify.
        sign = next((char for char in text if unicodedata.category(char) == "Sc"), None)
        return (sign, currency_code(sign, default_currency)) if sign else (None, None)
    # price-parser also matches three-letter codes inside words ("JUNIOR" -> "NIO"); a
    # letter symbol only counts when it stands on its own.
    if _LETTER.search(symbol):
        if not re.search(rf"(?<![^\W\d_]){re.escape(symbol)}(?![^\W\d_])", text):
            return None, None
    return symbol, currency_code(symbol, default_currency)


# --- numbers -----------------------------------------------------------------------------------

def _group_ok(groups: list[str]) -> bool:
    return all(len(group) == 3 for group in groups[1:])


def _read_number(match: re.Match[str], *, style: DecimalStyle, currency: str | None,
                 decimal_separator: str | None, raw: str) -> Decimal:
    integer = re.sub(r"[ '’]", "", match["int"]) or "0"
    space_grouped = integer != match["int"]
    frac = match["frac"]
    exponent = match["exp"] or ""
    cents = match["cents"]

    if exponent:
        if frac.count(",") or frac.count(".") > 1:
            raise MoneyError(f"not a number: {raw!r}")
        return Decimal(integer + frac + exponent)
    if cents and frac and style == "display" and _group_ok(["", *re.split(r"[.,]", frac)[1:]]) \
            and len(set(re.findall(r"[.,]", frac))) == 1:
        # "€1.499 00": thousands grouped in the integer part, the cents in their own element.
        return Decimal(f"{integer}{re.sub(r'[.,]', '', frac)}.{cents.strip()}")
    if not frac:
        if cents and style == "display":
            # "€1 50": the cents were in their own element. Three-digit groups are thousands and
            # never reach here, so a lone two-digit group can only be cents.
            return Decimal(f"{integer}.{cents.strip()}")
        return Decimal(integer)

    separators = re.findall(r"[.,]", frac)
    parts = re.split(r"[.,]", frac)[1:]
    kinds = set(separators)
    if len(kinds) == 2:
        # "1,234.56" / "1.234,56": the last separator is the decimal point.
        decimal_mark = separators[-1]
        if separators.count(decimal_mark) > 1 or not _group_ok([integer, *parts[:-1]]):
            raise MoneyError(f"ambiguous number {raw!r}")
        return Decimal(integer + "".join(parts[:-1]) + "." + parts[-1])
    mark = separators[0]
    if len(separators) > 1:
        # "1.000.000", "1,000,000": repeated, so grouping ... unless the caller says it is the
        # decimal mark, which cannot repeat.
        if decimal_separator == mark or not _group_ok([integer, *parts]):
            raise MoneyError(f"ambiguous number {raw!r}")
        return Decimal(integer + "".join(parts))

    digits_after = parts[0]
    if decimal_separator is not None:
        is_decimal = mark == decimal_separator
    elif style == "plain":
        # API values: a dot is the decimal point ("0.900", "1.500"); a lone comma followed by
        # exactly three digits is an English thousands separator, otherwise a decimal comma.
        is_decimal = mark == "." or len(digits_after) != 3
    elif len(digits_after) != 3 or integer.lstrip("0") == "" or space_grouped:
        # "1,20", "0.0135", "0.900" (thousands never start with 0), "1 234,567"
        is_decimal = True
    elif currency in _NO_MINOR_UNIT_CURRENCIES:
        is_decimal = False  # "Rp 15.000"
    elif mark == ",":
        # "R$ 1,500" = 1.5 where the comma is the decimal mark; "1,500" = 1500 in English.
        is_decimal = currency in _DECIMAL_COMMA_CURRENCIES
    else:
        # "$1.500", "€1.500", "R$ 1.500": 1.5. Panels show three-decimal rates far more often
        # than four-digit ones, in every currency (PerfectPanel prints dot decimals whatever
        # the currency); a site that groups with dots says so with decimal_separator=",".
        is_decimal = True
    if is_decimal:
        return Decimal(f"{integer}.{digits_after}")
    return Decimal(integer + digits_after)


def _canonical(amount: Decimal) -> Decimal:
    # Decimal("1E+3") prints as "1E+3"; store plain digits. Trailing zeros are kept as written.
    if amount.as_tuple().exponent > 0:  # type: ignore[operator]
        return amount.quantize(Decimal(1))
    return amount


def _from_number(value: int | float | Decimal, default_currency: str | None) -> Money:
    if isinstance(value, bool):
        raise MoneyError(f"not a price: {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MoneyError(f"price is not a finite number: {value!r}")
        # repr gives the shortest string that round-trips: 1e-05 -> "1e-05", never
        # Decimal(1e-05) = 0.000010000000000000000818...
        return Money(amount=_canonical(_check_range(Decimal(repr(value)), repr(value))),
                     currency=default_currency, raw=repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"price is not a finite number: {value}")
        return Money(amount=_canonical(_check_range(value, str(value))),
                     currency=default_currency, raw=str(value))
    if abs(value) >= 10**MAX_INTEGER_DIGITS:  # before str(): huge ints hit Python's digit limit
        raise MoneyError("price out of range: an integer of more than "
                         f"{MAX_INTEGER_DIGITS} digits")
    return Money(amount=Decimal(value), currency=default_currency, raw=str(value))


@lru_cache(maxsize=65_536)
def _parse_text(text: str, default_currency: str | None, style: DecimalStyle,
                decimal_separator: str | None) -> Money:
    normalized = _SPACES.sub(" ", ascii_digits(text)).strip()
    if not normalized:
        raise MoneyError("empty price")
    if ARABIC_DECIMAL_SEPARATOR in normalized or ARABIC_THOUSANDS_SEPARATOR in normalized:
        # "١٬٢٣٤٫٥": the Arabic signs leave no doubt which mark is the decimal one.
        normalized = normalized.replace(ARABIC_THOUSANDS_SEPARATOR, "")
        normalized = normalized.replace(ARABIC_DECIMAL_SEPARATOR, ".")
        decimal_separator = "."
    if _NOT_FINITE.search(normalized) and not re.search(r"\d", normalized):
        raise MoneyError(f"price is not a finite number: {text!r}")
    symbol, code = _symbol_in(normalized, default_currency)
    if symbol is not None and code is None:
        raise MoneyError(f"unknown currency symbol {symbol!r} in {text!r}")
    currency = code or default_currency
    match = _NUMBER.search(normalized)
    if match is None:
        if "free" in normalized.lower():
            return Money(amount=Decimal(0), currency=currency, raw=text)
        raise MoneyError(f"no number in price {text!r}")
    if _NOT_FINITE.search(normalized[match.end():match.end() + 9]):
        raise MoneyError(f"price is not a finite number: {text!r}")
    try:
        amount = _read_number(match, style=style, currency=currency,
                              decimal_separator=decimal_separator, raw=text)
    except InvalidOperation as error:
        raise MoneyError(f"not a number: {text!r}") from error
    before = normalized[:match.start()]
    # Words before the number ("Price per 1000", "From $5"): not a price cell, or a range's
    # lower bound. The currency symbol itself ("Rs.", "USD", "Rp") is fine.
    if _WORD.search(before.replace(symbol, " ") if symbol else before):
        raise MoneyError(f"text before the number in price {text!r}")
    # "-1", "$-1.00", "-$1.00", "− 0.5 €": a minus right before the number or at the start.
    if _MINUS_BEFORE.search(before) or (_MINUS_AT_START.search(before)
                                        and not re.search(r"\d", before)):
        amount = amount.copy_negate()  # keeps the sign of "-0" for validation to see
    return Money(amount=_canonical(_check_range(amount, text)), currency=currency, raw=text)


def parse_money(text: str | int | float | Decimal | None, default_currency: str | None = None,
                *, decimal_style: DecimalStyle = "display",
                decimal_separator: str | None = None) -> Money:
    """Read a price text or JSON value into an exact :class:`Money`.

    ``default_currency`` (ISO code) applies when the text names no currency, and decides between
    the candidates of an ambiguous symbol (``$`` with ``CAD``; ``Rs`` with ``PKR``).
    ``decimal_style``: ``"plain"`` for API/JSON values (the dot is always the decimal point),
    ``"display"`` for page text (separators follow the currency's conventions, see the module
    docstring). ``decimal_separator`` (``"."`` or ``","``) overrides the guess for a site.

    Raises :class:`MoneyError` for empty text, NaN, infinities, text without a number and
    unknown currency symbols. Negative amounts are returned as such (validation rejects them).

    >>> parse_money("Rp 15.000").amount, parse_money("0.900", decimal_style="plain").amount
    (Decimal('15000'), Decimal('0.900'))
    """
    if decimal_style not in ("plain", "display"):
        raise ValueError(f"decimal_style must be 'plain' or 'display', not {decimal_style!r}")
    if decimal_separator not in (None, ".", ","):
        raise ValueError(f"decimal_separator must be '.', ',' or None, not {decimal_separator!r}")
    default = default_currency.strip().upper() if default_currency else None
    if text is None:
        raise MoneyError("empty price")
    if isinstance(text, (int, float, Decimal)):
        return _from_number(text, default)
    if not isinstance(text, str):
        raise MoneyError(f"not a price: {text!r}")
    return _parse_text(text, default, decimal_style, decimal_separator)


def infer_decimal_separator(price_texts: list[str]) -> str | None:
    """The decimal mark a whole price list uses, read from its unambiguous values: ``"1,20"``
    or ``"0,5"`` say comma, ``"1.20"`` or ``"12.5"`` say dot; three-digit tails say nothing.
    ``None`` when the list does not tell (or contradicts itself)."""
    seen: set[str] = set()
    for text in price_texts:
        for mark, tail in re.findall(r"\d([.,])(\d+)(?![\d.,])", _SPACES.sub("", text or "")):
            if len(tail) != 3:
                seen.add(mark)
    return seen.pop() if len(seen) == 1 else None


# --- quantities --------------------------------------------------------------------------------

_UNLIMITED = re.compile(r"^(?:unlimited|unlim|no limit|limitless|∞|sınırsız|sin límite|"
                        r"ilimitado|tak terbatas|không giới hạn)$", re.IGNORECASE)
_QUANTITY = re.compile(
    r"^(?P<number>\d{1,3}(?:[ '’,.]\d{3})+(?!\d)|\d+(?:[.,]\d+)?)\s*"
    r"(?P<suffix>k|m|b|thousand|million|billion|bin|rb|ribu|jt|juta)?\b\+?",
    re.IGNORECASE,
)
_MULTIPLIERS = {
    "k": 1_000, "thousand": 1_000, "bin": 1_000, "rb": 1_000, "ribu": 1_000,
    "m": 1_000_000, "million": 1_000_000, "jt": 1_000_000,
    "juta": 1_000_000, "b": 1_000_000_000, "billion": 1_000_000_000,
}


@lru_cache(maxsize=65_536)
def _parse_quantity_text(text: str) -> int | None:
    normalized = _SPACES.sub(" ", ascii_digits(text)).strip()
    normalized = normalized.replace(ARABIC_THOUSANDS_SEPARATOR, "")
    normalized = normalized.replace(ARABIC_DECIMAL_SEPARATOR, ".")
    if not normalized:
        raise QuantityError("empty quantity")
    if _UNLIMITED.match(normalized):
        return None
    if normalized.startswith(("-", "−")):
        raise QuantityError(f"negative quantity: {text!r}")
    match = _QUANTITY.match(normalized)
    if match is None:
        raise QuantityError(f"not a quantity: {text!r}")
    number, suffix = match["number"], (match["suffix"] or "").lower()
    multiplier = _MULTIPLIERS.get(suffix, 1)
    if re.fullmatch(r"\d+[.,]\d+", number):
        whole, tail = re.split(r"[.,]", number)
        if multiplier > 1:
            value = Decimal(f"{whole}.{tail}") * multiplier  # "1.5K"
        elif len(tail) == 3:
            value = Decimal(whole + tail)  # "10.000", "1,000": units are whole, so grouping
        else:
            raise QuantityError(f"not a whole number of units: {text!r}")
    else:
        value = Decimal(re.sub(r"[ '’,.]", "", number)) * multiplier
    if value != value.to_integral_value():
        raise QuantityError(f"not a whole number of units: {text!r}")
    return _quantity_in_range(int(value), text)


def _quantity_in_range(value: int, raw: object) -> int:
    if value > MAX_QUANTITY:
        raise QuantityError(f"quantity out of range: {raw!r}")
    return value


def parse_quantity(text: str | int | float | None) -> int | None:
    """Read a quantity: ``"1,000"``, ``"10.000"``, ``"1K"``, ``"1.5k"``, ``"10 000"``, ``"1M"``,
    ``"2147483647"`` (kept as is), ``"1000 Followers"`` (leading number). ``"Unlimited"`` ->
    ``None``. Raises :class:`QuantityError` for empty, negative, fractional or non-numeric input."""
    if text is None:
        raise QuantityError("empty quantity")
    if isinstance(text, bool):
        raise QuantityError(f"not a quantity: {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise QuantityError(f"negative quantity: {text}")
        if text > MAX_QUANTITY:  # not shown: a huge int cannot always be printed
            raise QuantityError(f"quantity out of range: more than {MAX_QUANTITY}")
        return text
    if isinstance(text, float):
        if not math.isfinite(text) or text != int(text):
            raise QuantityError(f"not a whole number of units: {text!r}")
        if text < 0:
            raise QuantityError(f"negative quantity: {text!r}")
        return _quantity_in_range(int(text), text)
    if not isinstance(text, str):
        raise QuantityError(f"not a quantity: {text!r}")
    return _parse_quantity_text(text)
