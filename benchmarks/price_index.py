"""The price index over a year: the series report against one full scan of the price history.

    python -m benchmarks.price_index [--sites 40] [--offers-per-site 260] [--days 365]
        [--change-every 3.65] [--repeats 3]

Generates a SQLite store of daily crawls over ``--days`` days straight into the tables (plain
``sqlite3.executemany`` of site, run, offer and price period rows: ``sites × offers-per-site``
offers whose price changes every ``change-every`` days on average, so the defaults give about
1,000,000 price periods), builds the stored daily index with :func:`storage.price_index.rebuild`
(the ``clickfarm db refresh-price-index`` path, timed), then times, best of ``--repeats``:

- the baseline: one full scan of ``offer_price_period`` (``SELECT count(usd_per_1000),
  max(last_confirmed_at) FROM offer_price_period``: every row read, nothing else done);
- ``price_index_series(by="day")`` over the whole year (the stored table): goal <= 3x the scan;
- ``by="week"`` and ``by="month"`` (computed from the price history of the range: each offer
  once per period; figures, no goal).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PLATFORM_METRICS = [(platform, metric) for platform in
                    ("instagram", "youtube", "tiktok", "twitter", "facebook", "spotify",
                     "telegram", "twitch")
                    for metric in ("followers", "likes", "views", "comments", "shares")]
START = date(2025, 1, 1)


def _stamp(day: date, hour: int = 12) -> str:
    """A timestamp as the project stores it on SQLite (storage.types.datetime_to_text)."""
    return f"{day.isoformat()} {hour:02d}:00:00.000000"


def generate_store(path: Path, *, sites: int, offers_per_site: int, days: int,
                   change_every: float, seed: int = 1) -> dict[str, Any]:
    """A migrated SQLite store filled with ``days`` days of daily crawls (see the module
    docstring); returns the counts and the seconds it took."""
    from storage.db import get_engine, migrate

    started = time.perf_counter()
    engine = get_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    rng = random.Random(seed)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    first, last = _stamp(START), _stamp(START + timedelta(days=days - 1))
    periods = 0
    with connection:
        connection.executemany(
            "INSERT INTO site (id, url, family, currency, status, first_seen_at, last_seen_at)"
            " VALUES (?, ?, 'smm_api', 'USD', 'active', ?, ?)",
            [(f"site-{s:03d}", f"http://site-{s:03d}.example/", first, last)
             for s in range(sites)])
        # One run per site and day (ids site * days + day + 1).
        connection.executemany(
            "INSERT INTO crawl_run (id, site_id, started_at, finished_at, status, trigger)"
            " VALUES (?, ?, ?, ?, 'succeeded', 'schedule')",
            [(s * days + d + 1, f"site-{s:03d}", _stamp(START + timedelta(days=d)),
              _stamp(START + timedelta(days=d))) for s in range(sites) for d in range(days)])
        offer_rows = []
        period_rows: list[tuple[Any, ...]] = []
        offer_id = 0
        stamps = [_stamp(START + timedelta(days=d)) for d in range(days + 1)]
        expovariate, randrange = rng.expovariate, rng.randrange
        for s in range(sites):
            site_id = f"site-{s:03d}"
            for o in range(offers_per_site):
                offer_id += 1
                platform, metric = PLATFORM_METRICS[randrange(len(PLATFORM_METRICS))]
                offer_rows.append((offer_id, site_id, str(o), f"{platform} {metric}",
                                   f"{platform} {metric}", platform, metric, first, last))
                thousandths = randrange(50, 5000)  # USD per 1000, in thousandths
                day = 0
                while day < days:
                    end = min(days, day + max(1, round(expovariate(1 / change_every))))
                    text = f"{thousandths // 1000}.{thousandths % 1000:03d}"
                    period_rows.append((offer_id, s * days + day + 1, stamps[day],
                                        stamps[end] if end < days else None, stamps[end - 1],
                                        text, text, "USD", text, "1"))
                    thousandths = max(10, thousandths + randrange(-200, 201))
                    day = end
                if len(period_rows) >= 200_000:
                    _insert_periods(connection, period_rows)
                    periods += len(period_rows)
                    period_rows = []
        connection.executemany(
            "INSERT INTO offer (id, site_id, site_offer_id, name, name_raw, platform, metric,"
            " pricing, first_seen_at, last_seen_at, is_active) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, 'per_1000', ?, ?, 1)", offer_rows)
        _insert_periods(connection, period_rows)
        periods += len(period_rows)
    connection.close()
    return {"sites": sites, "offers": offer_id, "price_periods": periods, "days": days,
            "generate_seconds": time.perf_counter() - started}


def _insert_periods(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    connection.executemany(
        "INSERT INTO offer_price_period (offer_id, run_id, valid_from, valid_to,"
        " last_confirmed_at, price, price_raw, currency, usd_per_1000, fx_rate)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _best(repeats: int, work: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def bench_price_index(workdir: Path, *, sites: int = 40, offers_per_site: int = 260,
                      days: int = 365, change_every: float = 3.65,
                      repeats: int = 3) -> dict[str, Any]:
    from reports.price_index import price_index_series
    from storage.db import get_engine
    from storage.price_index import rebuild

    path = workdir / "price-index.db"
    results = generate_store(path, sites=sites, offers_per_site=offers_per_site, days=days,
                             change_every=change_every)
    engine = get_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    results["index_rows"] = rebuild(engine)
    results["rebuild_seconds"] = time.perf_counter() - started
    end = START + timedelta(days=days - 1)

    def scan() -> Any:
        with engine.connect() as connection:
            return connection.exec_driver_sql(
                "SELECT count(usd_per_1000), max(last_confirmed_at) FROM offer_price_period"
            ).one()

    scan()  # warm the page cache for both sides
    results["scan_seconds"], _ = _best(repeats, scan)
    for by in ("day", "week", "month"):
        seconds, rows = _best(repeats if by == "day" else 1, lambda by=by: price_index_series(
            engine, start=START, end=end, by=by))
        results[f"{by}_series_seconds"] = seconds
        results[f"{by}_series_rows"] = len(rows)
        results[f"{by}_ratio"] = seconds / results["scan_seconds"]
    results["goal"] = "day series <= 3x the scan"
    engine.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--offers-per-site", type=int, default=260)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--change-every", type=float, default=3.65)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clickfarm-bench-index-") as directory:
        results = bench_price_index(Path(directory), sites=args.sites,
                                    offers_per_site=args.offers_per_site, days=args.days,
                                    change_every=args.change_every, repeats=args.repeats)
    print(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["bench_price_index", "generate_store", "main"]
