"""Distributed mode: sites crawled per minute with 1, 2 and 4 workers, as ratios to one worker,
beside the same kind of cycle in single-machine mode; and the cost of a 10,000-site cycle.

``python -m benchmarks.distributed [--panels 160] [--sites-per-task 20] [--local-sites 20]``
(``python -m benchmarks.run --distributed`` runs it with these defaults). A cluster of this machine (Redis and PostgreSQL on
loopback, the simulator's small panels, ``clickfarm worker`` processes of concurrency 1) plans
one cycle of every panel per configuration, as ``clickfarm schedule --distributed`` does, and
times it from the first task sent to the last cycle closed (the workers are up and answering a
ping before the clock starts).

Single-machine mode, measured on a part of the sites (its rate does not depend on how many):

- ``local schedule``: what ``clickfarm schedule`` does with ``scheduler.mode: local``: one crawl
  process per site, ``max_parallel_crawls`` (2) at once;
- ``crawl --all --parallel 2``: ``clickfarm crawl``, the sites in 2 balanced batch processes.

The 10,000-site cycle is extrapolated linearly from the 4-worker run: time = 10,000 / sites per
minute; rows and bytes = (rows and ``pg_database_size`` added by the measured cycle) / sites x
10,000. The panels are small (the simulator's catalogues at 2 %): real panels with hundreds of
services cost more rows and more time per site.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

console = Console()
WORKER_COUNTS = (1, 2, 4)
TARGET_SITES = 10_000


def _wait_for_workers(count: int, timeout: float = 300.0) -> None:
    from scheduler.distributed import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= count:
            return
    raise RuntimeError(f"{count} worker(s) did not answer within {timeout:g} s")


def _rows(engine: Any) -> int:
    from storage.repository import table_counts

    return sum(table_counts(engine).values())


def _bytes(engine: Any) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(
            "SELECT pg_database_size(current_database())").scalar_one())


def bench_distributed(workdir: Path, *, panels: int, sites_per_task: int,
                      local_sites: int) -> dict[str, Any]:
    from crawlers.runner import run_crawl, run_crawls
    from tests.distributed_cluster import start_cluster

    cluster = start_cluster(workdir, panels=panels, workers=0, sites_per_task=sites_per_task)
    results: dict[str, Any] = {"panels": panels, "sites_per_task": sites_per_task,
                               "by_workers": {}}
    try:
        planned = datetime.now(UTC).replace(microsecond=0)
        # Warm-up: the first crawl of a site stores every offer as new; the measured cycles
        # re-crawl unchanged sites, as a running deployment does.
        cluster.start_worker(concurrency=2)
        _wait_for_workers(1)
        cluster.enqueue(planned)
        cluster.wait_cycle(planned, 3600)
        cluster.stop_workers()
        for index, count in enumerate(WORKER_COUNTS):
            for _ in range(count):
                cluster.start_worker(concurrency=1)
            _wait_for_workers(count)
            at = planned + timedelta(minutes=index + 1)
            rows, size = _rows(cluster.engine), _bytes(cluster.engine)
            started = time.perf_counter()
            cluster.enqueue(at)
            cluster.wait_cycle(at, 3600)
            seconds = time.perf_counter() - started
            verdict = cluster.verdict(at)
            results["by_workers"][count] = {
                "seconds": round(seconds, 1), "sites_per_minute": round(panels / seconds * 60, 1),
                "rows_added": _rows(cluster.engine) - rows,
                "bytes_added": _bytes(cluster.engine) - size,
                "exactly_once": verdict.exactly_once, "offers_once": verdict.offers_once}
            cluster.stop_workers()
        one = results["by_workers"][1]["sites_per_minute"]
        for figures in results["by_workers"].values():
            figures["ratio_to_one_worker"] = round(figures["sites_per_minute"] / one, 2)
        # Single-machine mode on part of the sites.
        site_ids = [site.id for site in cluster.sites[:local_sites]]
        options = {"sites_path": cluster.sites_path, "database_url": cluster.database_url,
                   "timeout_seconds": 600, "trigger": "schedule"}
        at = planned + timedelta(minutes=10)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda site_id: run_crawl([site_id], planned_at=at, **options),
                          site_ids))
        local_rate = len(site_ids) / (time.perf_counter() - started) * 60
        started = time.perf_counter()
        run_crawls(site_ids, parallel=2, planned_at=at + timedelta(minutes=1), **options)
        batch_rate = len(site_ids) / (time.perf_counter() - started) * 60
        results["single_machine"] = {
            "sites": len(site_ids),
            "local_schedule_sites_per_minute": round(local_rate, 1),
            "local_schedule_ratio_to_one_worker": round(local_rate / one, 2),
            "crawl_parallel_2_sites_per_minute": round(batch_rate, 1),
            "crawl_parallel_2_ratio_to_one_worker": round(batch_rate / one, 2)}
        four = results["by_workers"][max(WORKER_COUNTS)]
        results["cycle_10000_sites_extrapolated"] = {
            "method": (f"linear from the {max(WORKER_COUNTS)}-worker cycle of {panels} sites: "
                       f"time = {TARGET_SITES} / sites per minute; rows and bytes = added by "
                       f"that cycle / {panels} x {TARGET_SITES}"),
            "minutes": round(TARGET_SITES / four["sites_per_minute"], 1),
            "rows": round(four["rows_added"] / panels * TARGET_SITES),
            "megabytes": round(four["bytes_added"] / panels * TARGET_SITES / 1e6, 1)}
    finally:
        cluster.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--panels", type=int, default=160)
    parser.add_argument("--sites-per-task", type=int, default=20)
    parser.add_argument("--local-sites", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clickfarm-bench-distributed-") as directory:
        with console.status("distributed benchmark (1, 2, 4 workers)..."):
            results = bench_distributed(Path(directory), panels=args.panels,
                                        sites_per_task=args.sites_per_task,
                                        local_sites=args.local_sites)
    console.print_json(data=results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
