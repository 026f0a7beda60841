"""Published price lists as CSV files (the 2020 smmpanels dataset layout) -> raw offers.

Pure function :func:`extract_price_list_csv`: the bytes of one ``.csv`` or ``.csv.gz`` file in,
:class:`~crawlers.items.ExtractResult` out, every value the cell text as published
(``"$0.65"``, ``"₹22.1"``, ``"€50 00"``, ``"1 000"``), never normalized. The columns are those
of a panel's public services page: ``ID``, ``Service``, ``Rate/1000``, ``Min``, ``Max``,
``Description`` (plus ``Category``, ``Average time`` and columns we do not read).

The real files are not tidy, and each quirk is read, not guessed:

- Headers are mapped by TEXT, with the vocabulary of the services page reader
  (:func:`crawlers.extract.smm_html.classify_header`): ``Rate per 1000``, ``Rateper1000``,
  ``Price ($) Per 1 000``, ``RATE/1000``, ``bar_chartPriceper1000`` (icon names glued to the
  text), ``Min / Max order`` (one column, ``"50 / 10000"``), ``format_list_numberedID``.
- A currency in the price header (``Rate per 1000(₹)``, ``Price ($) Per 1 000``) is the
  currency of every row; a symbol in the cell (``"$0.65"``) is kept in the text.
- The first, unnamed column is the scraper's row index: ignored. A row one cell short whose
  header starts with it (FollowersKart writes some rows without the index) is read without it;
  two cells short, without the index and the description when that is the last column.
- Rows of another width, rows that are not UTF-8 and rows the csv module cannot parse become
  :class:`~crawlers.items.RawRejection` with the line and the reason; blank rows are skipped.
- The file as a whole is refused (:class:`~crawlers.items.ExtractError`) when it is not
  readable gzip, is empty, or has no service-name or price column.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from typing import Any

from crawlers.extract.smm_html import (
    AVERAGE_TIME,
    CATEGORY,
    DESCRIPTION,
    ID,
    MAX,
    MIN,
    MIN_MAX,
    NAME,
    PRICE,
    _header_currency,
    classify_header,
)
from crawlers.items import ExtractError, ExtractResult, RawOffer, RawRejection

SOURCE = "csv"
"""``RawOffer.source`` of these offers: page texts, read with the display decimal style."""
MAX_FIELD_CHARS = 1_000_000
"""A description longer than this is not a description (the csv module's default is 131072)."""
_MIN_MAX_SPLIT = re.compile(r"^\s*(.+?)\s*(?:/|\s[-–—~]\s|[-–—~])\s*(.+?)\s*$")
_SURROGATE = re.compile("[\udc80-\udcff]")
_GZIP_MAGIC = b"\x1f\x8b"
_SYMBOL_CODES = {"$": "USD", "€": "EUR", "£": "GBP", "₹": "INR", "₺": "TRY", "₽": "RUB",
                 "R$": "BRL", "Rp": "IDR", "TL": "TRY"}


def decompress(data: bytes, *, name: str = "") -> bytes:
    """The CSV bytes of a ``.csv`` or ``.csv.gz`` file (gzip is recognised by its magic bytes
    too); :class:`ExtractError` when the gzip stream cannot be read whole."""
    if data[:2] != _GZIP_MAGIC and not name.endswith(".gz"):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise ExtractError(f"not a readable gzip file: {error}") from None


def column_field(header: str) -> str | None:
    """The field a CSV header names (see :func:`classify_header`), with the icon-glued ID of
    some themes (``format_list_numberedID``) read as the id."""
    field = classify_header(header)
    if field is None:
        glued = re.sub(r"[^a-z]", "", header.lower())
        if glued.endswith("id") and len(glued) > 2 and "paid" not in glued:
            return ID
    return field


def header_currency(header: str) -> str | None:
    """The currency a price header states (``Rate per 1000(₹)`` -> ``INR``), or ``None``."""
    found = _header_currency(header)
    if not found:
        return None
    return _SYMBOL_CODES.get(found, found if len(found) == 3 and found.isalpha() else None)


def extract_price_list_csv(data: bytes, *, name: str = "") -> ExtractResult:
    """Read one published price list (``name``: its file name, for ``.gz`` and messages)."""
    text = decompress(data, name=name).decode("utf-8", errors="surrogateescape")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ExtractError("empty file: no header, no rows")
    if "\x00" in text:
        text = text.replace("\x00", "")
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        return _read_rows(text)
    finally:
        csv.field_size_limit(previous_limit)


def _read_rows(text: str) -> ExtractResult:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as error:
        raise ExtractError(f"no readable header row: {error}") from None
    fields = [column_field(column) for column in header]
    missing = [label for label, wanted in (("service name", NAME), ("price", PRICE))
               if wanted not in fields]
    if missing:
        raise ExtractError(f"no {' and no '.join(missing)} column in the header "
                           f"{[column.strip() for column in header]}")
    price_column = fields.index(PRICE)
    currency = header_currency(header[price_column])
    index_column = header[0].strip() == "" and fields[0] is None
    result = ExtractResult(currency=currency, notes=[
        "columns: " + ", ".join(f"{column.strip() or '(row index)'} -> {field or '-'}"
                                for column, field in zip(header, fields, strict=True))])
    if currency:
        result.notes.append(f"currency {currency} from the price header {header[price_column]!r}")
    width = len(header)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            result.rejected.append(RawRejection(reason=f"line {line}: not readable CSV: {error}",
                                                raw={"line": line}))
            continue
        if not any(cell.strip() for cell in row[1 if index_column else 0:]):
            continue  # a blank row (perhaps with its row index): nothing to read
        if any(_SURROGATE.search(cell) for cell in row):
            result.rejected.append(RawRejection(
                reason=f"line {line}: not UTF-8 text",
                raw={"line": line, "cells": [_SURROGATE.sub("\ufffd", c) for c in row]}))
            continue
        if len(row) == width:
            cells = row
        elif len(row) == width - 1 and index_column:
            cells = ["", *row]  # the row index column left out
        elif len(row) == width - 2 and index_column and fields[-1] == DESCRIPTION:
            cells = ["", *row, ""]  # the row index and the (last) description left out
        else:
            result.rejected.append(RawRejection(
                reason=f"line {line}: {len(row)} cells where the header has {width}",
                raw={"line": line, "cells": row}))
            continue
        offer = _offer(header, fields, cells, currency, line)
        if isinstance(offer, RawRejection):
            result.rejected.append(offer)
        else:
            result.offers.append(offer)
    return result


def _offer(header: list[str], fields: list[str | None], cells: list[str],
           currency: str | None, line: int) -> RawOffer | RawRejection:
    values: dict[str, str] = {}
    raw: dict[str, Any] = {"line": line}
    for column, field, cell in zip(header, fields, cells, strict=True):
        if field is None and not column.strip():
            continue  # the row index
        raw[column.strip() or "(blank)"] = cell
        if field is not None and field not in values:
            values[field] = cell.strip()
    if min_max := values.get(MIN_MAX):
        split = _MIN_MAX_SPLIT.match(min_max)
        if split:
            values.setdefault(MIN, split.group(1))
            values.setdefault(MAX, split.group(2))
    site_offer_id = values.get(ID) or None
    name = values.get(NAME) or ""
    price = values.get(PRICE) or None
    missing = [label for label, value in (("service name", name), ("price", price))
               if not value]
    if missing:
        return RawRejection(reason=f"line {line}: no {' and no '.join(missing)}", raw=raw,
                            site_offer_id=site_offer_id)
    return RawOffer(site_offer_id=site_offer_id, name=name, category=values.get(CATEGORY) or None,
                    price=price, pricing="per_1000", currency=currency,
                    min_quantity=values.get(MIN) or None, max_quantity=values.get(MAX) or None,
                    description=values.get(DESCRIPTION) or None,
                    average_time=values.get(AVERAGE_TIME) or None, source=SOURCE, raw=raw)
