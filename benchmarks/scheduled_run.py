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
        [--shops 10] [--advance-every 30] [--fault panel-03:no_table:2] [--keep var/scheduled]

``--shops`` adds the shops of the exported config (the JavaScript one is rendered in Chromium),
``--advance-every`` moves the simulator's clock one day every N real seconds (prices drift,
services come and go, so ``clickfarm changes`` has something to show), ``--fault`` injects a
fault on a site for one simulated day, and ``--keep`` keeps the database and the sites file for
``clickfarm status`` / ``clickfarm changes`` afterwards.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import tempfile
import threading
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
    entries = market.sites_config(base_url)
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


def measure(*, panels: int, speedup: float, parallel: int, seed: int, workdir: Path,
            shops: int = 0, advance_every: float = 0,
            faults: tuple[tuple[str, str, int], ...] = ()) -> dict[str, Any]:
    from sqlalchemy import select

    from scheduler.service import run_service
    from simulator.market import Market
    from simulator.server import SimulatorServer
    from storage.db import get_engine
    from storage.models import CrawlRun

    window_seconds = WINDOW.total_seconds() / speedup
    database_url = f"sqlite:///{workdir / 'scheduled.db'}"
    market = Market(seed=seed, n_panels=panels, n_shops=shops)
    for site_id, fault, day in faults:
        market.inject_fault(site_id, fault, day=day)
    stop_clock = threading.Event()

    def advance_clock() -> None:
        while not stop_clock.wait(advance_every):
            market.advance(days=1)

    with SimulatorServer(market) as server:
        os.environ.update(market.api_key_env())
        sites_path = workdir / "sites.yaml"
        intervals = scaled_sites(market, server.base_url, speedup=speedup, parallel=parallel,
                                 path=sites_path)
        clock = threading.Thread(target=advance_clock, daemon=True) if advance_every else None
        if clock:
            clock.start()
        started = time.monotonic()
        try:
            summary = run_service(sites_path=sites_path, database_url=database_url,
                                  once_for=window_seconds, install_signal_handlers=True)
        finally:
            stop_clock.set()
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
        "panels": panels, "shops": len(intervals) - panels, "speedup": speedup,
        "parallel": parallel, "simulated_days": market.day + 1,
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
    parser.add_argument("--shops", type=int, default=0, help="simulated shops (0: panels only)")
    parser.add_argument("--advance-every", type=float, default=0,
                        help="advance the simulated clock one day every N seconds (0: never)")
    parser.add_argument("--fault", action="append", default=[], metavar="SITE:FAULT:DAY",
                        help="inject a fault on a site for one simulated day (repeatable)")
    parser.add_argument("--keep", type=Path, help="keep the database and sites file here")
    parser.add_argument("--verbose", action="store_true", help="the scheduler's log lines")
    args = parser.parse_args()
    faults = []
    for text in args.fault:
        try:
            site_id, fault, day = text.split(":")
            faults.append((site_id, fault, int(day)))
        except ValueError:
            parser.error(f"--fault {text!r}: expected SITE:FAULT:DAY, e.g. panel-03:no_table:2")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    options = {"panels": args.panels, "speedup": args.speedup, "parallel": args.parallel,
               "seed": args.seed, "shops": args.shops, "advance_every": args.advance_every,
               "faults": tuple(faults)}
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for name in ("scheduled.db", "scheduled.db-wal", "scheduled.db-shm"):
            (args.keep / name).unlink(missing_ok=True)
        figures = measure(workdir=args.keep, **options)
    else:
        with tempfile.TemporaryDirectory(prefix="clickfarm-scheduled-") as workdir:
            figures = measure(workdir=Path(workdir), **options)
    scale = args.speedup
    print(f"accelerated one-hour scheduled run: {figures['panels']} panels, {figures['shops']} "
          f"shops, {figures['simulated_days']} simulated day(s), every "
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
    if args.keep:
        print(f"kept: {args.keep}/scheduled.db and {args.keep}/sites.yaml; e.g.\n"
              f"  clickfarm status --database-url sqlite:///{args.keep}/scheduled.db "
              f"--sites-file {args.keep}/sites.yaml\n"
              f"  clickfarm changes --since 1d --database-url sqlite:///{args.keep}/scheduled.db")


if __name__ == "__main__":
    main()
