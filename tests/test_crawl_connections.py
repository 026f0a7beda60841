"""A crawl process holds few database connections, however many sites it crawls (PostgreSQL).

A distributed worker crawls its task's sites (fifty by default) side by side in one process.
When every spider's pipelines opened an engine of their own, each kept a pool of connections
open to the end of the process, and three workers exhausted PostgreSQL's ``max_connections``
("sorry, too many clients already"): runs failed and cycles stalled. Here one process crawls 40
simulated panels into a real PostgreSQL while the test watches ``pg_stat_activity``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from clickfarm.demo import export_sites_file
from crawlers.runner import run_crawl
from simulator import Market, SimulatorServer
from storage.db import get_engine

pytestmark = pytest.mark.postgres

PANELS = 40
# The child's one shared engine (a connection or two) and the parent's: far below one per site.
MOST_CONNECTIONS = 6


def test_one_crawl_process_of_many_sites_uses_a_few_connections(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    market = Market(seed=11, n_panels=PANELS, n_shops=0, catalogue_scale=0.02)
    server = SimulatorServer(market).start()
    monkeypatch.setenv("CLICKFARM_SIM_URL", server.base_url)
    for name, value in market.api_key_env().items():
        monkeypatch.setenv(name, value)
    sites_path = tmp_path / "sites.yaml"
    export_sites_file(market, sites_path, base_url=server.base_url)
    watcher = get_engine(postgres_url)
    database = watcher.url.database
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        with watcher.connect() as connection:
            while not done.is_set():
                count = connection.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :name"
                    " AND pid <> pg_backend_pid()"), {"name": database}).scalar_one()
                connection.rollback()  # the activity view is a snapshot per transaction
                peak = max(peak, count)
                done.wait(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        site_ids = list(market.sites)
        result = run_crawl(site_ids, sites_path=sites_path, database_url=postgres_url,
                           timeout_seconds=300)
    finally:
        done.set()
        thread.join(timeout=10)
        server.stop()
    with watcher.connect() as connection:
        statuses = dict(connection.execute(text(
            "SELECT status, count(*) FROM crawl_run GROUP BY status")).all())
    watcher.dispose()
    assert result.returncode == 0, result.stderr_tail
    assert statuses == {"succeeded": PANELS}, statuses
    assert 1 <= peak <= MOST_CONNECTIONS, peak
