"""A distributed clickfarm on one machine, for the tests and the benchmark: a Redis broker and a
PostgreSQL server of its own on loopback, the simulator, and real ``clickfarm worker`` processes.

Cycles are planned the way ``clickfarm schedule --distributed`` plans them
(:func:`scheduler.distributed.enqueue_cycle`); :meth:`Cluster.verdict` says whether each site of
a cycle was crawled exactly once and every offer stored once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import yaml
from sqlalchemy import Engine, func, select

from clickfarm.demo import export_sites_file
from core.config import SiteConfig
from crawlers.runner import load_targets
from scheduler import distributed
from simulator import Market, SimulatorServer
from storage.db import get_engine, migrate
from storage.leases import cycle_counts
from storage.models import cycle_table, offer_table, period_table, run_table
from tests.postgres import PostgresServer, start_server
from tests.redis_server import RedisServer, start_redis

REPO_ROOT = Path(__file__).resolve().parents[1]
OPEN_CYCLE_STATUSES = ("queued", "running", "interrupted")


@dataclass
class Verdict:
    """One cycle's outcome: what the fault table of the README reports."""

    sites: int
    cycles_by_status: dict[str, int]
    succeeded_runs_per_site: Counter[int]
    """How many sites had 0, 1, 2... succeeded runs in the cycle (exactly once: {1: sites})."""
    interrupted_runs: int
    duplicate_offers: int
    offers_with_more_than_one_period: int
    offers_missing: int
    """Sites whose stored active offers differ from what their succeeded run saw."""

    @property
    def exactly_once(self) -> bool:
        return (self.succeeded_runs_per_site == Counter({1: self.sites})
                and self.cycles_by_status == {"succeeded": self.sites})

    @property
    def offers_once(self) -> bool:
        return not (self.duplicate_offers or self.offers_with_more_than_one_period
                    or self.offers_missing)


@dataclass
class Cluster:
    redis: RedisServer
    postgres: PostgresServer
    database_url: str
    engine: Engine
    market: Market
    simulator: SimulatorServer
    sites_path: Path
    log_dir: Path
    sites: list[SiteConfig]
    settings: dict[str, Any]
    sites_per_task: int
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    # --- workers ----------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                          env.get("PYTHONPATH")]))
        env["CLICKFARM_SIM_URL"] = self.simulator.base_url
        env.update(self.market.api_key_env())
        env.pop("DATABASE_URL", None)
        return env

    def start_worker(self, concurrency: int = 2) -> subprocess.Popen[bytes]:
        index = len(self.workers)
        log = open(self.log_dir / f"worker-{index}.log", "ab")  # noqa: SIM115 (kept open)
        process = subprocess.Popen(
            [sys.executable, "-m", "clickfarm.cli", "worker", "--sites-file",
             str(self.sites_path), "--database-url", self.database_url, "--broker-url",
             self.redis.url, "--concurrency", str(concurrency), "--name",
             f"test{index}@localhost"],
            env=self.environment(), stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        log.close()
        self.workers.append(process)
        return process

    def worker_logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.log_dir.glob("worker-*.log")))

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                _kill_tree(process.pid)
        self.workers = []

    def pool_process_of(self, crawl_pid: int) -> int | None:
        """The worker pool process running the crawl process ``crawl_pid`` (its parent), if it
        belongs to one of this cluster's workers."""
        ours = {process.pid for process in self.workers}
        try:
            parent = psutil.Process(crawl_pid).parent()
            if parent is not None and parent.ppid() in ours:
                return parent.pid
        except psutil.Error:
            return None
        return None

    # --- cycles -----------------------------------------------------------------------------

    def enqueue(self, planned_at: datetime, sites: list[SiteConfig] | None = None, *,
                sites_per_task: int | None = None) -> int:
        """Plan a cycle as the distributed scheduler does; the tasks sent."""
        batches = distributed.enqueue_cycle(self.engine, sites or self.sites, planned_at,
                                            settings=self.settings,
                                            sites_per_task=sites_per_task or self.sites_per_task)
        return len(batches)

    def open_cycles(self, planned_at: datetime) -> int:
        counts = cycle_counts(self.engine, planned_at)
        return sum(counts.get(status, 0) for status in OPEN_CYCLE_STATUSES)

    def wait_cycle(self, planned_at: datetime, timeout: float) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.open_cycles(planned_at) == 0:
                    return cycle_counts(self.engine, planned_at)
            except Exception:  # the database may be restarting
                pass
            time.sleep(0.5)
        raise AssertionError(f"cycle {planned_at} not over after {timeout:g} s: "
                             f"{cycle_counts(self.engine, planned_at)}\n{self.worker_logs()}")

    def running_crawl_pids(self, planned_at: datetime) -> dict[int, list[str]]:
        """crawl process pid -> the sites it is crawling now for this cycle."""
        table = run_table
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table.c.pid, table.c.site_id).where(
                    table.c.planned_at == planned_at, table.c.status == "running",
                    table.c.pid.is_not(None))).all()
        found: dict[int, list[str]] = {}
        for pid, site_id in rows:
            found.setdefault(pid, []).append(site_id)
        return found

    def verdict(self, planned_at: datetime, sites: list[SiteConfig] | None = None) -> Verdict:
        site_ids = [site.id for site in (sites or self.sites)]
        runs, cycles = run_table, cycle_table
        offers, periods = offer_table, period_table
        with self.engine.connect() as connection:
            statuses = Counter(dict(connection.execute(
                select(cycles.c.status, func.count()).where(
                    cycles.c.planned_at == planned_at, cycles.c.site_id.in_(site_ids))
                .group_by(cycles.c.status)).all()))
            succeeded = Counter(dict(connection.execute(
                select(runs.c.site_id, func.count()).where(
                    runs.c.planned_at == planned_at, runs.c.site_id.in_(site_ids),
                    runs.c.status.in_(("succeeded", "partial")))
                .group_by(runs.c.site_id)).all()))
            interrupted = connection.execute(
                select(func.count()).where(runs.c.planned_at == planned_at,
                                           runs.c.site_id.in_(site_ids),
                                           runs.c.status == "interrupted")).scalar_one()
            duplicates = connection.execute(
                select(func.count()).select_from(
                    select(offers.c.site_id, offers.c.site_offer_id)
                    .where(offers.c.site_id.in_(site_ids))
                    .group_by(offers.c.site_id, offers.c.site_offer_id)
                    .having(func.count() > 1).subquery())).scalar_one()
            multi_period = connection.execute(
                select(func.count()).select_from(
                    select(periods.c.offer_id).join(offers, offers.c.id == periods.c.offer_id)
                    .where(offers.c.site_id.in_(site_ids))
                    .group_by(periods.c.offer_id).having(func.count() > 1).subquery())
            ).scalar_one()
            active = dict(connection.execute(
                select(offers.c.site_id, func.count()).where(
                    offers.c.site_id.in_(site_ids), offers.c.is_active.is_(True))
                .group_by(offers.c.site_id)).all())
            seen = dict(connection.execute(
                select(runs.c.site_id, func.max(runs.c.offers_seen)).where(
                    runs.c.planned_at == planned_at, runs.c.site_id.in_(site_ids),
                    runs.c.status.in_(("succeeded", "partial")))
                .group_by(runs.c.site_id)).all())
        per_site = Counter(succeeded.get(site_id, 0) for site_id in site_ids)
        missing = sum(1 for site_id in site_ids
                      if site_id in seen and active.get(site_id, 0) != seen[site_id])
        return Verdict(sites=len(site_ids), cycles_by_status=dict(statuses),
                       succeeded_runs_per_site=per_site, interrupted_runs=interrupted,
                       duplicate_offers=duplicates,
                       offers_with_more_than_one_period=multi_period, offers_missing=missing)

    def close(self) -> None:
        try:
            self.stop_workers()
        finally:
            self.simulator.stop()
            self.engine.dispose()
            self.redis.close()
            self.postgres.stop()


def _kill_tree(pid: int) -> None:
    try:
        parent = psutil.Process(pid)
        for child in parent.children(recursive=True):
            child.kill()
        parent.kill()
    except psutil.Error:
        pass


def start_cluster(tmp_path: Path, *, panels: int, workers: int, concurrency: int = 2,
                  sites_per_task: int = 25, seed: int = 11,
                  scheduler: dict[str, Any] | None = None,
                  catalogue_scale: float = 0.02) -> Cluster:
    """Redis, PostgreSQL, the simulator (``panels`` small panels: ``catalogue_scale`` of the
    simulator's catalogues, a few offers each) and ``workers`` workers."""
    redis = start_redis()
    postgres = None
    simulator = None
    try:
        postgres = start_server()
        database_url = postgres.create_database("clickfarm")
        engine = get_engine(database_url)
        migrate(engine)
        market = Market(seed=seed, n_panels=panels, n_shops=0,
                        catalogue_scale=catalogue_scale)
        simulator = SimulatorServer(market).start()
        os.environ["CLICKFARM_SIM_URL"] = simulator.base_url
        os.environ.update(market.api_key_env())
        sites_path = tmp_path / "sites.yaml"
        options = {"crawl_timeout_seconds": 120, "sites_per_task": sites_per_task,
                   "site_lease_seconds": 20, "max_attempts": 3, **(scheduler or {})}
        export_sites_file(market, sites_path, base_url=simulator.base_url,
                          sections={"scheduler": options})
        # Speed: no robots.txt round trip per site (politeness is not what is tested here).
        document = yaml.safe_load(sites_path.read_text(encoding="utf-8"))
        for entry in document["sites"]:
            entry.setdefault("politeness", {})["obey_robots_txt"] = False
        sites_path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        sites = load_targets(sites_path, database_url)
        project_settings = {"crawl_timeout_seconds": options["crawl_timeout_seconds"],
                            "max_attempts": options["max_attempts"],
                            "lease_seconds": options["site_lease_seconds"],
                            "log_level": "WARNING"}
        distributed.configure(redis.url, crawl_timeout_seconds=options["crawl_timeout_seconds"])
        log_dir = tmp_path / "logs"
        log_dir.mkdir()
        cluster = Cluster(redis, postgres, database_url, engine, market, simulator, sites_path,
                          log_dir, sites, project_settings, sites_per_task)
    except BaseException:
        if simulator is not None:
            simulator.stop()
        if postgres is not None:
            postgres.stop()
        redis.close()
        raise
    for _ in range(workers):
        cluster.start_worker(concurrency)
    return cluster
