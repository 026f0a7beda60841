"""Distributed mode under faults (issue 10): real Redis, real PostgreSQL, real `clickfarm worker`
processes, the simulator; never skipped.

One cluster for the module (its own Redis with persistence on and its own PostgreSQL, both on
loopback, restarted by the tests; 3 workers; 500 small simulated panels), one cycle per fault:

- a worker's pool process (the one running a task) is killed with SIGKILL mid-crawl, twice;
- Redis is killed and restarted (append-only file) while tasks run and wait in the queue;
- PostgreSQL is restarted while the workers crawl and store.

In every case each site of the cycle ends with exactly one succeeded run, its cycle
``succeeded``, and every offer stored once (one row, one price period, as many active offers
as its run saw). Speed: few offers per panel, many sites per task (one crawl process each).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from scheduler import distributed
from storage.leases import cycle_counts
from tests.distributed_cluster import Cluster, start_cluster
from tests.scheduling import runs, wait_for

pytestmark = pytest.mark.postgres

PANELS = 500
WORKERS = 3
CYCLE_TIMEOUT = 420.0  # generous: six suites may share two cores


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = start_cluster(tmp_path_factory.mktemp("cluster"), panels=PANELS,
                            workers=WORKERS, concurrency=1, sites_per_task=50)
    try:
        yield running
    finally:
        running.close()


def _cycle_time(offset_minutes: int) -> datetime:
    return (datetime.now(UTC) + timedelta(minutes=offset_minutes)).replace(microsecond=0)


def _kill_a_pool_process_mid_crawl(cluster: Cluster, planned_at: datetime,
                                   spared: set[int]) -> tuple[int, list[str]]:
    """SIGKILL the worker pool process of a crawl running now (not one in ``spared``); its pid
    and the sites its crawl process was crawling."""
    def victim() -> tuple[int, list[str]] | None:
        for crawl_pid, sites in cluster.running_crawl_pids(planned_at).items():
            pool = cluster.pool_process_of(crawl_pid)
            if pool is not None and pool not in spared:
                return pool, sites
        return None

    pool, sites = wait_for(victim, timeout=CYCLE_TIMEOUT, what="a crawl running in a worker",
                           interval=0.1)
    os.kill(pool, signal.SIGKILL)
    return pool, sites


def test_a_worker_killed_mid_crawl_loses_nothing_and_crawls_nothing_twice(
        cluster: Cluster) -> None:
    planned_at = _cycle_time(0)
    assert len(cluster.sites) == PANELS
    assert cluster.enqueue(planned_at) == PANELS // 50
    first, first_sites = _kill_a_pool_process_mid_crawl(cluster, planned_at, set())
    second, second_sites = _kill_a_pool_process_mid_crawl(cluster, planned_at, {first})
    cluster.wait_cycle(planned_at, CYCLE_TIMEOUT)
    verdict = cluster.verdict(planned_at)
    print(f"FAULT sigkill: {verdict}")
    assert verdict.exactly_once, verdict
    assert verdict.offers_once, verdict
    # The killed crawls were really interrupted, then crawled again by a worker.
    killed = set(first_sites) | set(second_sites)
    for site_id in killed:
        statuses = [run["status"] for run in runs(cluster.engine, site_id)
                    if run["planned_at"] == planned_at]
        assert statuses.count("succeeded") + statuses.count("partial") == 1, statuses
        assert "interrupted" in statuses, (site_id, statuses)
    assert verdict.interrupted_runs >= len(killed)
    assert all(process.poll() is None for process in cluster.workers)


def test_the_distributed_scheduler_plans_each_cycle_once_and_a_redelivery_does_nothing(
        cluster: Cluster, tmp_path: Path) -> None:
    import threading

    import yaml

    from scheduler.service import run_service
    from storage.models import cycle_table

    # `clickfarm schedule --distributed` for a few seconds: 6 sites every 4 s.
    chosen = [site.id for site in cluster.sites[300:306]]
    entries = [entry for entry in yaml.safe_load(cluster.sites_path.read_text())["sites"]
               if entry["id"] in chosen]
    for entry in entries:
        entry["schedule"] = {"interval": "4s", "jitter": "0s"}
    schedule_path = tmp_path / "schedule.yaml"
    schedule_path.write_text(yaml.safe_dump({
        "scheduler": {"mode": "distributed", "broker_url": cluster.redis.url,
                      "sites_per_task": 6, "crawl_timeout_seconds": 120},
        "sites": entries}), encoding="utf-8")
    stop = threading.Event()
    summary = run_service(sites_path=schedule_path, database_url=cluster.database_url,
                          once_for=10.0, install_signal_handlers=False, stop=stop)
    assert summary.runs_by_status == {}  # nothing crawled by the scheduler itself
    with cluster.engine.connect() as connection:
        cycles = [tuple(row) for row in connection.execute(
            select(cycle_table.c.site_id, cycle_table.c.planned_at)
            .where(cycle_table.c.site_id.in_(chosen)))]
    # Every 4 s: each site due at its own times (a task carries cycles of different times).
    assert len(cycles) >= len(chosen)
    assert {site_id for site_id, _ in cycles} == set(chosen)
    wait_for(lambda: all(cluster.open_cycles(planned_at) == 0 for _, planned_at in cycles),
             timeout=CYCLE_TIMEOUT, what="the scheduled cycles", interval=0.5)
    succeeded = Counter((run["site_id"], run["planned_at"]) for run in runs(cluster.engine)
                        if run["site_id"] in chosen and run["status"] in ("succeeded",
                                                                          "partial"))
    assert succeeded == Counter(dict.fromkeys(cycles, 1))
    sites = [site for site in cluster.sites if site.id in chosen]
    verdict = cluster.verdict(cycles[0][1], sites)
    assert verdict.offers_once, verdict
    # The same tasks again (what the broker does after a lost acknowledgement), run as a
    # worker runs them: every cycle is over, nothing is crawled, no run is added.
    before = len(runs(cluster.engine))
    context = distributed.WorkerContext(sites_path=cluster.sites_path,
                                        database_url=cluster.database_url)
    outcome = distributed.run_task(cluster.engine, context, cycles, cluster.settings)
    assert sorted(outcome.done) == sorted(site_id for site_id, _ in cycles)
    assert outcome.crawled == {}
    assert len(runs(cluster.engine)) == before
    # Planning the same cycle again (a second scheduler, a restart) sends nothing.
    site_id, planned_at = cycles[0]
    assert cluster.enqueue(planned_at, [site for site in sites if site.id == site_id]) == 0


def _wait_for_crawls(cluster: Cluster, planned_at: datetime) -> None:
    wait_for(lambda: cluster.running_crawl_pids(planned_at), timeout=CYCLE_TIMEOUT,
             what="crawls running", interval=0.1)


def test_a_redis_restart_with_persistence_loses_no_task(cluster: Cluster) -> None:
    planned_at = _cycle_time(2)
    sites = cluster.sites[:100]
    # 5 tasks for 3 worker slots: some run, some wait in Redis when it dies.
    assert cluster.enqueue(planned_at, sites, sites_per_task=20) == 5
    _wait_for_crawls(cluster, planned_at)
    assert cluster.open_cycles(planned_at) > 0
    cluster.redis.restart(down_seconds=1.0)  # SIGKILL: only the append-only file survives
    cluster.wait_cycle(planned_at, CYCLE_TIMEOUT)
    verdict = cluster.verdict(planned_at, sites)
    print(f"FAULT redis restart: {verdict}")
    assert verdict.exactly_once, verdict
    assert verdict.offers_once, verdict


def _pg_restart(cluster: Cluster) -> None:
    server = cluster.postgres
    subprocess.run([*server.run_as, str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir),
                    "-l", str(server.log_file), "-w", "-t", "60", "-m", "fast", "restart"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   cwd=server.base_dir)


def test_a_postgres_restart_mid_cycle_loses_nothing_and_crawls_nothing_twice(
        cluster: Cluster) -> None:
    planned_at = _cycle_time(3)
    sites = cluster.sites[100:200]
    assert cluster.enqueue(planned_at, sites, sites_per_task=20) == 5
    _wait_for_crawls(cluster, planned_at)
    time.sleep(1.0)  # into the crawls: some are fetching, some storing
    _pg_restart(cluster)
    cluster.wait_cycle(planned_at, CYCLE_TIMEOUT)
    verdict = cluster.verdict(planned_at, sites)
    print(f"FAULT postgres restart: {verdict}")
    assert verdict.exactly_once, verdict
    assert verdict.offers_once, verdict
    assert cycle_counts(cluster.engine, planned_at) == {"succeeded": len(sites)}
