"""API keys come from the environment and never reach the logs or the database."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from clickfarm.demo import observation_time
from tests.simulated import start_simulated


def test_api_keys_never_reach_logs_or_database(tmp_path):
    setup = start_simulated(tmp_path, seed=5, panels=6)
    try:
        api_sites = [s["id"] for s in setup.market.sites_config("x") if s["family"] == "smm_api"]
        keys = [setup.market.api_key(site_id) for site_id in api_sites]
        # DEBUG logging: the most Scrapy will ever print about requests and responses.
        child = subprocess.run(
            [sys.executable, "-m", "crawlers.runner", "--sites-file", str(setup.sites_path),
             "--database-url", setup.database_url, "--log-level", "DEBUG",
             "--observed-at", observation_time(setup.market.today).isoformat(),
             *[arg for site_id in api_sites for arg in ("--site", site_id)]],
            capture_output=True, text=True, timeout=300)
        assert child.returncode == 0, child.stderr[-3000:]
        output = child.stdout + child.stderr
        assert "api/v2" in output  # the requests were logged...
        for key in keys:
            assert key not in output  # ...without the key
        with setup.engine.connect() as connection:
            for table in ("site", "crawl_run", "rejected_offer", "offer"):
                dump = " ".join(str(row) for row in connection.execute(text(f"SELECT * FROM {table}")))
                for key in keys:
                    assert key not in dump, table
            stored_config = connection.execute(text("SELECT config FROM site")).scalars().all()
        # The site's config is stored (for traceability), with secret-looking keys left out.
        assert stored_config and all("smm_" in str(config) for config in stored_config)
    finally:
        setup.server.stop()
