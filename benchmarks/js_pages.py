"""What the browser costs: the JavaScript (``spa``) family against plain HTTP, on the simulator.

1. **Pages per second, spa vs plain HTTP, in the same run.** The simulator's JavaScript shop
   (family ``spa``) and its HTML shops (family ``storefront``: JSON-LD and package cards) are
   crawled back to back, ``rounds`` times each, through the production path (a child process per
   crawl: fetch or render, extract, normalize, store). Two figures per family: end to end (wall
   time of the crawl process, start-up and browser launch included) and in-crawl (pages over the
   crawl's own ``elapsed_time_seconds``). The ratio says how many HTTP pages one rendered page
   costs. CPU seconds per page count the whole process tree (Python, Playwright's driver,
   every Chromium process).
2. **The browser over 100 JavaScript pages.** One crawl renders the JavaScript shop's pages 100
   times (landing page, then its category pages in turn) in one browser with the production
   settings; the run's stats give the peak memory of the Chromium process tree (RSS summed over
   the processes, and PSS, which counts shared pages once) and the steady pages per second.

Run alone: ``python -m benchmarks.js_pages``; ``make bench`` includes it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

SEED = 11
SHOPS = 5
"""The first five shops of the plan cover every kind: shop-03 JSON-LD and shop-04 cards
(``storefront``), shop-05 the JavaScript shop (``spa``)."""
PLAIN_FAMILY = "storefront"


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_stats(database_url: str, run_ids: list[int]) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from storage.db import get_engine
    from storage.models import CrawlRun

    runs = CrawlRun.__table__
    with get_engine(database_url).connect() as connection:
        rows = connection.execute(select(runs.c.id, runs.c.site_id, runs.c.status, runs.c.error,
                                         runs.c.pages, runs.c.stats)
                                  .where(runs.c.id.in_(run_ids)))
        return [dict(row._mapping) for row in rows]


def _run_ids(database_url: str) -> set[int]:
    from sqlalchemy import select

    from storage.db import get_engine
    from storage.models import CrawlRun

    with get_engine(database_url).connect() as connection:
        return set(connection.execute(select(CrawlRun.__table__.c.id)).scalars())


def _stats_dict(stats: Any) -> dict[str, Any]:
    return json.loads(stats) if isinstance(stats, str) else dict(stats or {})


def _timed_crawl(site_ids: list[str], *, sites_path: Path, database_url: str,
                 observed_at: Any, renders: int | None = None) -> dict[str, Any]:
    """One crawl child process; wall and CPU time of its whole process tree, and its runs.
    With ``renders``: the child of :func:`render_repeatedly` instead of the plain runner."""
    before = _run_ids(database_url)
    module = (["benchmarks.js_pages", "--renders", str(renders)] if renders
              else ["crawlers.runner"])
    command = [sys.executable, "-m", *module, "--schema-is-current",
               "--sites-file", str(sites_path), "--database-url", database_url,
               "--observed-at", observed_at.isoformat()]
    for site_id in site_ids:
        command += ["--site", site_id]
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    completed = subprocess.run(command, stderr=subprocess.PIPE, text=True, timeout=600)
    wall = time.perf_counter() - started
    cpu = _children_cpu_seconds() - cpu_before
    if completed.returncode != 0:
        raise RuntimeError(f"crawl failed: {completed.stderr[-2000:]}")
    runs = _run_stats(database_url, sorted(_run_ids(database_url) - before))
    failed = [run for run in runs if run["status"] not in ("succeeded", "partial")]
    if failed:
        raise RuntimeError(f"crawl runs failed: {[(r['site_id'], r['error']) for r in failed]}")
    return {"wall_seconds": wall, "cpu_seconds": cpu, "runs": runs}


def _family_figures(crawls: list[dict[str, Any]]) -> dict[str, Any]:
    pages = sum(run["pages"] or 0 for crawl in crawls for run in crawl["runs"])
    wall = sum(crawl["wall_seconds"] for crawl in crawls)
    cpu = sum(crawl["cpu_seconds"] for crawl in crawls)
    in_crawl = sum(_stats_dict(run["stats"]).get("elapsed_time_seconds") or 0
                   for crawl in crawls for run in crawl["runs"])
    return {
        "pages": pages, "crawls": len(crawls),
        "end_to_end_pages_per_second": pages / wall,
        "in_crawl_pages_per_second": pages / in_crawl if in_crawl else None,
        "cpu_seconds_per_page": cpu / pages,
    }


def bench_js_pages(workdir: Path, *, rounds: int = 3, renders: int = 100) -> dict[str, Any]:
    """Both figures of the module docstring, on a fresh simulator and database."""
    from clickfarm.demo import observation_time
    from core.config import write_sites
    from simulator.market import Market
    from simulator.server import SimulatorServer
    from storage.db import get_engine, migrate

    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{workdir / 'js.db'}"
    migrate(get_engine(database_url))
    market = Market(seed=SEED, n_panels=4, n_shops=SHOPS)
    with SimulatorServer(market) as server:
        entries = [entry for entry in market.sites_config(server.base_url)
                   if entry["family"] in ("spa", PLAIN_FAMILY)]
        sites_path = workdir / "sites.yaml"
        write_sites(sites_path, entries, header="# benchmarks.js_pages\n")
        spa_ids = [entry["id"] for entry in entries if entry["family"] == "spa"]
        plain_ids = [entry["id"] for entry in entries if entry["family"] == PLAIN_FAMILY]
        if not spa_ids or not plain_ids:
            raise RuntimeError(f"the simulator exported no spa or {PLAIN_FAMILY} shop: {entries}")
        moment = observation_time(market.today)
        # Warm-up: fills the simulator's page caches and the OS file cache for Chromium.
        _timed_crawl(spa_ids + plain_ids, sites_path=sites_path, database_url=database_url,
                     observed_at=moment)
        spa_crawls, plain_crawls = [], []
        for round_index in range(rounds):
            at = moment + timedelta(minutes=1 + round_index)
            plain_crawls.append(_timed_crawl(plain_ids, sites_path=sites_path,
                                             database_url=database_url, observed_at=at))
            spa_crawls.append(_timed_crawl(spa_ids, sites_path=sites_path,
                                           database_url=database_url, observed_at=at))
        spa, plain = _family_figures(spa_crawls), _family_figures(plain_crawls)

        repeated = _timed_crawl(spa_ids[:1], sites_path=sites_path, database_url=database_url,
                                observed_at=moment + timedelta(hours=1),
                                renders=renders)
    run = repeated["runs"][0]
    stats = _stats_dict(run["stats"])
    elapsed = stats.get("elapsed_time_seconds") or repeated["wall_seconds"]
    return {
        "pages_per_second": {
            "spa": spa, PLAIN_FAMILY: plain,
            "end_to_end_ratio_plain_over_spa": (plain["end_to_end_pages_per_second"]
                                                / spa["end_to_end_pages_per_second"]),
            "in_crawl_ratio_plain_over_spa": (
                plain["in_crawl_pages_per_second"] / spa["in_crawl_pages_per_second"]
                if plain["in_crawl_pages_per_second"] and spa["in_crawl_pages_per_second"]
                else None),
            "sites": {"spa": spa_ids, PLAIN_FAMILY: plain_ids},
        },
        "browser_over_renders": {
            "renders": run["pages"],
            "peak_rss_bytes": stats.get("browser/peak_rss_bytes"),
            "peak_rss_mib": round((stats.get("browser/peak_rss_bytes") or 0) / 2**20, 1),
            "peak_pss_mib": round((stats.get("browser/peak_pss_bytes") or 0) / 2**20, 1),
            "peak_processes": stats.get("browser/peak_processes"),
            "pages_opened": stats.get("browser/pages_opened"),
            "pages_left_open": stats.get("browser/pages_left_open"),
            "requests_aborted": stats.get("playwright/request_count/aborted", 0),
            "pages_per_second": run["pages"] / elapsed,
            "cpu_seconds_per_page": repeated["cpu_seconds"] / run["pages"],
        },
    }


def render_repeatedly(argv: list[str]) -> int:
    """Child side of figure 2: the production runner, with the spa spider told to render its
    shop's pages ``--renders`` times in all (the landing page, then the category pages in turn).
    """
    from crawlers import runner
    from crawlers.spiders import SPIDER_BY_FAMILY
    from crawlers.spiders.spa import SpaSpider

    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, required=True)
    args, runner_argv = parser.parse_known_args(argv)

    class RepeatedRenderSpider(SpaSpider):
        planned = False

        def queue_category_pages(self, response: Any) -> None:
            if self.planned:
                return
            self.planned = True
            super().queue_category_pages(response)
            pages = list(self.render_queue) or [response.url]
            self.render_queue.clear()
            self.render_queue.extend(itertools.islice(itertools.cycle(pages), args.renders - 1))

    # This child process only: every spa site is crawled by the repeating spider.
    SPIDER_BY_FAMILY["spa"] = RepeatedRenderSpider
    return runner.main(runner_argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--renders" in argv:
        return render_repeatedly(argv)
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=100, help="renders for the memory figure")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clickfarm-js-bench-") as directory:
        results = bench_js_pages(Path(directory), rounds=args.rounds, renders=args.pages)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
