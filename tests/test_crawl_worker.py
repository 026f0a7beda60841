"""Long-lived crawl processes (``crawlers.worker`` and ``crawlers.worker_pool``; issue 11: the
demo's days cost what crawling costs, not a process start-up and a Chromium launch each).

Real worker processes, real Scrapy and scrapy-playwright with Debian's Chromium, the loopback
simulator, SQLite. What must hold: day after day in the same processes, every run stores exactly
what a crawl process would (the true prices); the browser is launched once per worker yet every
crawl has contexts of its own and its memory measured; and a worker keeps the isolation of a
crawl process: a hard timeout, a killed worker or a broken job fails only its own runs, with the
reason, and the next batch gets a fresh worker.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from clickfarm.demo import observation_time
from core.config import write_sites
from crawlers.browser import browser_processes
from crawlers.worker_pool import CrawlWorkers
from tests.scheduling import runs, wait_for
from tests.simulated import SimulatedSetup, simulated_market

SPA_SHOP = "shop-05"
CARDS_SHOP = "shop-04"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedSetup]:
    """Two panels (API and HTML), the JavaScript shop and an HTML shop."""
    with simulated_market(tmp_path_factory.mktemp("worker"), seed=7, panels=2,
                          shops=5) as setup:
        by_id = {entry["id"]: entry for entry in setup.market.sites_config(setup.server.base_url)}
        assert by_id[SPA_SHOP]["family"] == "spa"
        write_sites(setup.sites_path, [by_id["panel-01"], by_id["panel-02"], by_id[CARDS_SHOP],
                                       by_id[SPA_SHOP]])
        yield setup


SITES = ["panel-01", "panel-02", CARDS_SHOP, SPA_SHOP]


@pytest.fixture(scope="module")
def three_days(simulated: SimulatedSetup) -> dict:
    """Three simulated days crawled by one pool of two workers: the runs, the pids seen, and
    the Chromium of the worker that crawled the shop after each day."""
    setup = simulated
    crawled: dict = {"days": [], "results": [], "browser_pids": []}
    with CrawlWorkers(2, database_url=setup.database_url, sites_path=setup.sites_path) as pool:
        for day_index in range(3):
            if day_index:
                setup.market.advance(days=1)
            moment = observation_time(setup.market.today)
            results = pool.crawl(SITES, observed_at=moment, trigger="demo",
                                 weights={SPA_SHOP: 1000}, timeout_seconds=300)
            crawled["days"].append((setup.market.day, moment))
            crawled["results"].append(results)
            spa_pid = next(result.pid for result in results
                           if SPA_SHOP in [run["site_id"] for run in runs(setup.engine)
                                           if run["id"] in result.run_ids])
            crawled["browser_pids"].append(
                {process.pid for process in browser_processes(f"{spa_pid}-kept",
                                                              root_pid=spa_pid)})
        crawled["started"] = pool.started
        crawled["worker_pids"] = pool.pids()
    crawled["runs"] = runs(setup.engine)
    return crawled


def test_every_day_every_site_succeeds_in_the_same_two_processes(three_days: dict) -> None:
    all_runs = three_days["runs"]
    assert len(all_runs) == 3 * len(SITES)
    assert {run["status"] for run in all_runs} == {"succeeded"}, [
        (run["site_id"], run["error"]) for run in all_runs if run["status"] != "succeeded"]
    assert three_days["started"] == 2
    assert {run["pid"] for run in all_runs} == set(three_days["worker_pids"])
    for results in three_days["results"]:
        assert [result.returncode for result in results] == [0, 0]
        assert sorted(run_id for result in results for run_id in result.run_ids) == sorted(
            run["id"] for run in all_runs
            if run["id"] in {i for result in results for i in result.run_ids})


def test_the_stored_prices_are_the_true_prices_every_day(simulated: SimulatedSetup,
                                                         three_days: dict) -> None:
    market = simulated.market
    compared = 0
    for day, moment in three_days["days"]:
        for site_id in ("panel-01", "panel-02"):
            truth = {service_id: Decimal(rate)
                     for service_id, rate in market.prices(site_id, day).items()}
            assert simulated.prices_at(site_id, moment) == truth, f"{site_id} on day {day}"
            compared += len(truth)
        for shop_id in (CARDS_SHOP, SPA_SHOP):
            truth = {row["site_offer_id"]: row["price"]
                     for row in market.shop_offers(shop_id, day)}
            assert simulated.prices_at(shop_id, moment) == truth, f"{shop_id} on day {day}"
            compared += len(truth)
    assert compared > 300


def test_chromium_is_launched_once_and_each_crawl_still_measures_it(three_days: dict) -> None:
    # The same browser processes after each day: launched on the first day, kept since.
    first, *later = three_days["browser_pids"]
    assert first, "the worker that crawled the shop has no Chromium open"
    assert all(pids & first for pids in later)
    spa_runs = [run for run in three_days["runs"] if run["site_id"] == SPA_SHOP]
    assert len(spa_runs) == 3
    for run in spa_runs:
        stats = run["stats"]
        # The memory probe of every crawl found the kept browser, and the crawl closed every
        # page it opened (nothing carried over to the next day).
        assert stats["browser/peak_rss_bytes"] > 10 * 2**20
        assert stats["browser/pages_opened"] == stats["browser/pages_closed"] >= 2


def test_no_chromium_outlives_the_pool(three_days: dict) -> None:
    import psutil

    def alive(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pids in three_days["browser_pids"]
                                              for pid in pids):
        time.sleep(0.2)
    assert not [pid for pids in three_days["browser_pids"] for pid in pids if alive(pid)]
    assert not [pid for pid in three_days["worker_pids"] if alive(pid)]


# ------------------------------------------------------------------------------------------
# a worker keeps the isolation of a crawl process


@pytest.fixture
def panels(tmp_path: Path) -> Iterator[SimulatedSetup]:
    with simulated_market(tmp_path, seed=23, panels=2) as setup:
        yield setup


def test_a_batch_over_its_hard_timeout_is_interrupted_and_the_next_gets_a_new_worker(
        panels: SimulatedSetup) -> None:
    panels.market.inject_fault("panel-01", "slow", seconds=30)
    with CrawlWorkers(1, database_url=panels.database_url, sites_path=panels.sites_path,
                      stop_grace_seconds=10) as pool:
        (slow,) = pool.crawl(["panel-01"], observed_at=observation_time(panels.market.today),
                             timeout_seconds=6)
        panels.market.clear_faults("panel-01")
        panels.market.advance(days=1)
        (fine,) = pool.crawl(["panel-01"], observed_at=observation_time(panels.market.today),
                             timeout_seconds=120)
        started = pool.started
    assert slow.timed_out and not fine.timed_out
    first, second = runs(panels.engine, "panel-01")
    assert first["status"] == "interrupted"
    assert first["error"].startswith("hard timeout: the crawl process ran longer than 6 s")
    assert second["status"] == "succeeded", second["error"]
    assert started == 2 and first["pid"] != second["pid"]


def test_a_killed_worker_fails_only_its_batch(panels: SimulatedSetup) -> None:
    with CrawlWorkers(1, database_url=panels.database_url, sites_path=panels.sites_path) as pool:
        pool.crawl(["panel-01"], observed_at=observation_time(panels.market.today))
        (killed_pid,) = pool.pids()
        panels.market.inject_fault("panel-02", "slow", seconds=30)
        panels.market.advance(days=1)

        def kill_soon() -> None:
            time.sleep(3)
            os.kill(killed_pid, signal.SIGKILL)

        import threading

        threading.Thread(target=kill_soon).start()
        (killed,) = pool.crawl(["panel-02"], observed_at=observation_time(panels.market.today),
                               timeout_seconds=120)
        panels.market.clear_faults("panel-02")
        (after,) = pool.crawl(["panel-02"], observed_at=observation_time(panels.market.today)
                              .replace(hour=13), timeout_seconds=120)
        (new_pid,) = pool.pids()
    assert killed.returncode == -signal.SIGKILL
    first, second = runs(panels.engine, "panel-02")
    assert first["status"] == "interrupted"
    assert first["error"] == "crawl process killed by SIGKILL"
    assert second["status"] == "succeeded", second["error"]
    assert second["pid"] == new_pid != killed_pid
    assert runs(panels.engine, "panel-01")[0]["status"] == "succeeded"


def test_a_broken_sites_file_fails_the_job_with_the_reason_and_the_worker_goes_on(
        panels: SimulatedSetup, tmp_path: Path) -> None:
    good = panels.sites_path.read_text(encoding="utf-8")
    with CrawlWorkers(1, database_url=panels.database_url, sites_path=panels.sites_path) as pool:
        pool.crawl(["panel-01"], observed_at=observation_time(panels.market.today))
        (pid,) = pool.pids()
        # Someone saves a broken sites file between two crawls (the runs were registered from
        # the database: the sites are known).
        panels.sites_path.write_text("sites: [\n  {id: panel-01\n", encoding="utf-8")
        panels.market.advance(days=1)
        (broken,) = pool.crawl(["panel-01"], observed_at=observation_time(panels.market.today))
        panels.sites_path.write_text(good, encoding="utf-8")
        (fixed,) = pool.crawl(["panel-01"], observed_at=observation_time(panels.market.today)
                              .replace(hour=13))
        assert pool.pids() == [pid]
    assert broken.returncode == 1 and fixed.returncode == 0
    _, failed, succeeded = runs(panels.engine, "panel-01")
    assert failed["status"] == "failed"
    assert failed["error"].startswith("crawl job failed: ")
    assert "not valid YAML" in failed["error"]
    assert succeeded["status"] == "succeeded", succeeded["error"]


def test_closing_the_pool_mid_batch_interrupts_its_runs_at_once(panels: SimulatedSetup) -> None:
    """The demo stopped (Ctrl-C) while a batch waits on a slow seller: the workers stop their
    crawls, killed after the grace if a request in flight holds them, and the runs end
    ``interrupted`` instead of running on to the hard timeout."""
    import threading

    panels.market.inject_fault("panel-01", "slow", seconds=60)
    pool = CrawlWorkers(1, database_url=panels.database_url, sites_path=panels.sites_path,
                        stop_grace_seconds=5)
    results: list = []
    crawling = threading.Thread(target=lambda: results.extend(pool.crawl(
        ["panel-01"], observed_at=observation_time(panels.market.today), timeout_seconds=300)))
    started = time.monotonic()
    crawling.start()
    wait_for(lambda: pool.pids() and runs(panels.engine, "panel-01"), timeout=60,
             what="the batch to start")
    time.sleep(2)  # the request to the slow seller is in flight
    pool.close()
    crawling.join(timeout=60)
    assert not crawling.is_alive()
    assert time.monotonic() - started < 45
    (run,) = runs(panels.engine, "panel-01")
    assert run["status"] == "interrupted"
    # Scrapy's graceful stop waits for the request in flight (60 s): the grace ends it first.
    assert run["error"] in ("crawl process killed by SIGKILL",
                            "crawl stopped before the end (shutdown)"), run["error"]
    assert results and not results[0].timed_out
