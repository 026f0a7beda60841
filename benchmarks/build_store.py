"""How long :func:`simulator.store.build_store` takes to build one store.

    python -m benchmarks.build_store [--seed 7] [--panels 24] [--shops 10] [--days 30]
        [--catalogue-scale 1.0] [--crawl-every 1] [--hard]

Builds a fresh SQLite store in a temporary folder and prints the seconds, the number of crawls
and the seconds per crawl (the real spiders, extractors, pipelines and repository; no HTTP).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from simulator.market import HARD_MARKET, Market
from simulator.store import build_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--panels", type=int, default=24)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--catalogue-scale", type=float, default=1.0)
    parser.add_argument("--crawl-every", type=int, default=1)
    parser.add_argument("--hard", action="store_true", help="the market of issue 8")
    args = parser.parse_args()
    market = Market(seed=args.seed, n_panels=args.panels, n_shops=args.shops,
                    catalogue_scale=args.catalogue_scale, **(HARD_MARKET if args.hard else {}))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'store.db'}"
        started = time.monotonic()
        summary = build_store(market, url, days=args.days, crawl_every=args.crawl_every)
        elapsed = time.monotonic() - started
    print(f"{args.panels} panels + {args.shops} shops x {args.days} days "
          f"(catalogue scale {args.catalogue_scale}, crawl every {args.crawl_every} day(s)): "
          f"{elapsed:.1f} s, {summary.crawls} crawls ({elapsed / max(1, summary.crawls):.3f} s "
          f"per crawl), runs {summary.runs_by_status}, not crawled {summary.not_crawled}")


if __name__ == "__main__":
    main()
