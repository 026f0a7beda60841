"""Rendering report rows as a terminal table, CSV or JSON (Decimals kept exact as strings).

Crawled text is data, never markup: a service named ``Views [/] closing`` or
``[link=https://evil.example]x[/link]`` is printed as written. The CLI's consoles
(:func:`data_console`) read no markup and no ``:emoji:`` codes at all, and :func:`print_table`
hands every title, caption and cell to Rich as :class:`~rich.text.Text`, so a table printed on
any console shows its cells literally. Styles come from :func:`labelled` (a styled label, then
plain data), never from markup inside a string that holds data."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


def data_console(**options: Any) -> Console:
    """A console for printing crawled text: markup and emoji codes are never interpreted
    (``[bold]``, ``[/]`` and ``:fire:`` in a seller's text print as written)."""
    return Console(markup=False, emoji=False, **options)


def labelled(label: str, style: str, text: Any = None) -> Text:
    """``label`` in ``style``, then ``text`` as plain data: ``labelled("error:", "red", msg)``."""
    line = Text(label, style=style)
    if text is not None:
        line.append(" ")
        line.append(str(text))
    return line


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def as_dicts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [{key: _plain(value) for key, value in
             (dataclasses.asdict(row) if dataclasses.is_dataclass(row) and not isinstance(row, type)
              else dict(row)).items()}
            for row in rows]


def to_json(rows: Sequence[Any], **meta: Any) -> str:
    return json.dumps({**{k: _plain(v) for k, v in meta.items()}, "rows": as_dicts(rows)},
                      indent=2, ensure_ascii=False)


def to_csv(rows: Sequence[Any]) -> str:
    records = as_dicts(rows)
    if not records:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]))
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def money(value: Decimal | None, places: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:,.{places}f}"


def print_table(console: Console, title: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]], caption: str | None = None,
                text_columns: int = 1) -> None:
    """The first ``text_columns`` columns are left-aligned labels, the rest right-aligned."""
    table = Table(title=Text(title), caption=Text(caption) if caption is not None else None,
                  caption_justify="left")
    for index, column in enumerate(columns):
        if index < text_columns:
            # Labels stay whole on narrow terminals (up to 24 characters); numbers give way.
            widest = max([len(column), *(len(str(row[index])) for row in rows)])
            table.add_column(Text(column), justify="left", min_width=min(widest, 24))
        else:
            table.add_column(Text(column), justify="right")
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))
    console.print(table)
