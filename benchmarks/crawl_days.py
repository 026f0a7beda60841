"""Crawl days: a process per crawl (``crawlers.runner.run_crawls``) against long-lived crawl workers
(``crawlers.worker_pool.CrawlWorkers``), as the demo crawls: every seller of a simulated market
(the JavaScript shop in Chromium included) once a simulated day, two processes at once.

Both sides crawl the same market state each day, one after the other (alternating which goes
first), each into its own SQLite database, so the ratio compares like with like on a machine
whose speed drifts. Reported: seconds per day of each side, for the first day (every offer new)
and the re-crawl days, and the speed-up of the workers (process seconds / worker seconds).

    python -m benchmarks.crawl_days [--days 5] [--panels 24] [--shops 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def bench_crawl_days(workdir: Path, *, days: int = 5, panels: int = 24, shops: int = 10,
                     seed: int = 42) -> dict[str, Any]:
    from clickfarm.demo import _crawl_weights, export_sites_file, make_market, observation_time
    from crawlers.runner import load_targets, run_crawls
    from crawlers.worker_pool import CrawlWorkers
    from simulator.market import HARD_MARKET
    from simulator.server import SimulatorServer
    from storage.db import get_engine, migrate

    market = make_market(seed=seed, panels=panels, shops=shops,
                         counter_coverage=HARD_MARKET["counter_coverage"],
                         unseen_share=HARD_MARKET["unseen_share"], reseller_share=None)
    urls = {side: f"sqlite:///{workdir / f'{side}.db'}" for side in ("processes", "workers")}
    engines = {side: get_engine(url) for side, url in urls.items()}
    for engine in engines.values():
        migrate(engine)
    seconds: dict[str, list[float]] = {"processes": [], "workers": []}
    crawled = 0
    failed: dict[str, int] = {"processes": 0, "workers": 0}
    sites_path = workdir / "sites.yaml"
    with SimulatorServer(market) as server:
        os.environ["CLICKFARM_SIM_URL"] = server.base_url
        os.environ.update(market.api_key_env())
        export_sites_file(market, sites_path, base_url=server.base_url)
        with CrawlWorkers(2, database_url=urls["workers"], sites_path=sites_path) as workers:
            for day in range(days):
                now = observation_time(market.today)
                order = ("processes", "workers") if day % 2 == 0 else ("workers", "processes")
                for side in order:
                    targets = load_targets(sites_path, urls[side])
                    ids = [site.id for site in targets]
                    crawled = len(ids)
                    weights = _crawl_weights(engines[side], targets)
                    started = time.perf_counter()
                    if side == "processes":
                        results = run_crawls(ids, parallel=2, weights=weights,
                                             sites_path=sites_path, observed_at=now,
                                             database_url=urls[side], timeout_seconds=600,
                                             trigger="demo")
                    else:
                        results = workers.crawl(ids, observed_at=now, weights=weights,
                                                timeout_seconds=600, trigger="demo")
                    seconds[side].append(time.perf_counter() - started)
                    failed[side] += sum(result.returncode != 0 for result in results)
                market.advance(days=1)
    for engine in engines.values():
        engine.dispose()

    def per_day(values: list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    first = {side: values[0] for side, values in seconds.items()}
    later = {side: per_day(values[1:]) for side, values in seconds.items()}
    return {
        "sites_crawled": crawled, "days": days,
        "first_day_seconds": first, "recrawl_day_seconds": later,
        "first_day_speedup": first["processes"] / first["workers"],
        "recrawl_day_speedup": (later["processes"] / later["workers"]
                                if later["workers"] else 0.0),
        "goal": "re-crawl day speed-up >= 1.5", "failed_processes": failed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--panels", type=int, default=24)
    parser.add_argument("--shops", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clickfarm-days-") as directory:
        result = bench_crawl_days(Path(directory), days=args.days, panels=args.panels,
                                  shops=args.shops)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
