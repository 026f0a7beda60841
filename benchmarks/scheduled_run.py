"""An accelerated "one-hour" scheduled run of ``clickfarm schedule`` over the simulated market.

The simulator's panels get schedules of a busy hour (every 10, 15, 20 or 30 minutes, jitter
1 minute), all durations divided by ``--speedup`` (default 20: the hour lasts 3 minutes), and
the real scheduler (APScheduler, one crawl process per run, ``max_parallel_crawls`` at once)
runs for that time. Then the figures come from the database:

- runs planned: the slots the schedules put in the window (and what the scheduler saw of them:
  started, skipped because the site's previous run was still going, missed);
- runs started (``crawl_run`` rows with ``trigger = 'schedule'``) and finished (closed, by
  status);
- the delay between a planned and an actual start (``crawl_run.started_at - planned_at``):
  waiting for a free crawl slot plus starting the crawl process.

    .venv/bin/python -m benchmarks.scheduled_run [--panels 24] [--speedup 20] [--parallel 2]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

# A busy hour: how often each panel is crawled (cycled over the panels), and the jitter.
HOUR_INTERVALS_MINUTES = (10, 15, 20, 30)
HOUR_JITTER_MINUTES = 1
WINDOW = timedelta(hours=1)


def scaled_sites(market: Any, base_url: str, *, speedup: float, parallel: int,
                 path: Path) -> dict[str, float]:
    """Write the sites file; return each site's scaled interval in seconds."""
    entries = [entry for entry in market.sites_config(base_url) if entry["id"] in market.sites]
    intervals = {}
    for index, entry in enumerate(entries):
        minutes = HOUR_INTERVALS_MINUTES[index % len(HOUR_INTERVALS_MINUTES)]
        seconds = minutes * 60 / speedup
        intervals[entry["id"]] = seconds
        entry["schedule"] = {"interval": f"{seconds:g}s",
                             "jitter": f"{HOUR_JITTER_MINUTES * 60 / speedup:g}s"}
    document = {"scheduler": {"max_parallel_crawls": parallel, "crawl_timeout_seconds": 300,
                              "shutdown_grace_seconds": 120,
                              "misfire_grace_seconds": WINDOW.total_seconds() / speedup},
                "sites": entries}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return intervals


def measure(*, panels: int, speedup: float, parallel: int, seed: int,
            workdir: Path) -> dict[str, Any]:
    from scheduler.service import run_service
    from simulator.market import Market
    from simulator.server import SimulatorServer
    from sqlalchemy import select

    from storage.db import get_engine
    from storage.models import CrawlRun

    window_seconds = WINDOW.total_seconds() / speedup
    database_url = f"sqlite:///{workdir / 'scheduled.db'}"
    market = Market(seed=seed, n_panels=panels)
    with SimulatorServer(market) as server:
        os.environ.update(market.api_key_env())
        sites_path = workdir / "sites.yaml"
        intervals = scaled_sites(market, server.base_url, speedup=speedup, parallel=parallel,
                                 path=sites_path)
        started = time.monotonic()
        summary = run_service(sites_path=sites_path, database_url=database_url,
                              once_for=window_seconds, install_signal_handlers=True)
        elapsed = time.monotonic() - started
    engine = get_engine(database_url)
    table = CrawlRun.__table__
    with engine.connect() as connection:
        recorded = [dict(row._mapping) for row in connection.execute(
            select(table).where(table.c.trigger == "schedule").order_by(table.c.id))]
    engine.dispose()
    # Slots strictly inside the window: the first one interval after the start, then every
    # interval (the slot at the very end of the hour belongs to the next hour).
    planned = sum(math.ceil(window_seconds / interval) - 1 for interval in intervals.values())
    delays = sorted((run["started_at"] - run["planned_at"]).total_seconds()
                    for run in recorded if run["planned_at"])
    finished = [run for run in recorded if run["status"] != "running" and run["finished_at"]]
    statuses: dict[str, int] = {}
    for run in finished:
        statuses[run["status"]] = statuses.get(run["status"], 0) + 1
    return {
        "panels": panels, "speedup": speedup, "parallel": parallel,
        "window_seconds": window_seconds, "elapsed_seconds": round(elapsed, 1),
        "planned": planned,
        "scheduler_fired": sum(summary.fired.values()),
        "scheduler_skipped_still_running": sum(summary.skipped.values()),
        "scheduler_missed": sum(summary.missed.values()),
        "started": len(recorded), "finished": len(finished), "statuses": statuses,
        "delay_max_seconds": round(delays[-1], 2) if delays else None,
        "delay_median_seconds": round(statistics.median(delays), 2) if delays else None,
        "delay_p95_seconds": (round(delays[int(0.95 * (len(delays) - 1))], 2)
                              if delays else None),
        "crawl_seconds_mean": round(statistics.mean(
            (run["finished_at"] - run["started_at"]).total_seconds() for run in finished), 2)
        if finished else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--panels", type=int, default=24)
    parser.add_argument("--speedup", type=float, default=20.0,
                        help="the hour lasts 3600 / speedup seconds")
    parser.add_argument("--parallel", type=int, default=2, help="scheduler.max_parallel_crawls")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--verbose", action="store_true", help="the scheduler's log lines")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="clickfarm-scheduled-") as workdir:
        figures = measure(panels=args.panels, speedup=args.speedup, parallel=args.parallel,
                          seed=args.seed, workdir=Path(workdir))
    scale = args.speedup
    print(f"accelerated one-hour scheduled run: {figures['panels']} panels, every "
          f"{'/'.join(map(str, HOUR_INTERVALS_MINUTES))} min (jitter {HOUR_JITTER_MINUTES} min) "
          f"scaled 1:{scale:g} -> {figures['window_seconds']:.0f} s, "
          f"max_parallel_crawls {figures['parallel']} (took {figures['elapsed_seconds']} s)")
    print(f"runs planned   {figures['planned']}  (scheduler: {figures['scheduler_fired']} "
          f"started, {figures['scheduler_skipped_still_running']} skipped as the site's "
          f"previous run was still going, {figures['scheduler_missed']} missed)")
    print(f"runs started   {figures['started']}")
    print(f"runs finished  {figures['finished']}  {figures['statuses']}")
    print(f"start delay (started_at - planned_at): max {figures['delay_max_seconds']} s, "
          f"median {figures['delay_median_seconds']} s, p95 {figures['delay_p95_seconds']} s "
          f"(real seconds; mean crawl {figures['crawl_seconds_mean']} s)")


if __name__ == "__main__":
    main()
