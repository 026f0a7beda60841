"""Helpers for tests that crawl the simulated market end to end (real Scrapy, real SQLite)."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from clickfarm.demo import export_sites_file, observation_time
from crawlers.runner import run_crawl
from reports.runs import latest_runs
from simulator import Market, SimulatorServer
from storage.db import get_engine, migrate
from storage.models import Offer, OfferPricePeriod


@dataclass
class SimulatedSetup:
    market: Market
    server: SimulatorServer
    sites_path: Path
    database_url: str
    engine: Engine

    def crawl(self, *, site_ids: list[str] | None = None,
              observed_at: datetime | None = None) -> list[dict[str, Any]]:
        """Crawl (in a child process, as in production) and return the latest run per site."""
        when = observed_at or observation_time(self.market.today)
        result = run_crawl(site_ids, sites_path=self.sites_path, observed_at=when,
                           database_url=self.database_url, timeout_seconds=300)
        assert result.returncode == 0, result.stderr_tail
        return latest_runs(self.engine, site_ids=site_ids)

    def prices_at(self, site_id: str, moment: datetime) -> dict[str, Decimal]:
        """The stored price of every offer of a site in force at ``moment``."""
        offers, periods = Offer.__table__, OfferPricePeriod.__table__
        query = (select(offers.c.site_offer_id, periods.c.price, periods.c.valid_to)
                 .join(periods, periods.c.offer_id == offers.c.id)
                 .where(offers.c.site_id == site_id, periods.c.valid_from <= moment))
        with self.engine.connect() as connection:
            return {row.site_offer_id: row.price for row in connection.execute(query)
                    if row.valid_to is None or row.valid_to > moment}


def start_simulated(tmp_path: Path, *, seed: int, panels: int, shops: int = 0) -> SimulatedSetup:
    """A running simulator (``panels`` panels, ``shops`` retail shops; no shops by default so
    panel-only tests stay fast), a sites file for it and a migrated SQLite database."""
    market = Market(seed=seed, n_panels=panels, n_shops=shops)
    server = SimulatorServer(market).start()
    os.environ["CLICKFARM_SIM_URL"] = server.base_url
    os.environ.update(market.api_key_env())
    sites_path = tmp_path / "sites.yaml"
    export_sites_file(market, sites_path)
    database_url = f"sqlite:///{tmp_path / 'clickfarm.db'}"
    engine = get_engine(database_url)
    migrate(engine)
    return SimulatedSetup(market, server, sites_path, database_url, engine)


@contextmanager
def simulated_market(tmp_path: Path, *, seed: int, panels: int,
                     shops: int = 0) -> Iterator[SimulatedSetup]:
    """:func:`start_simulated` for a ``with`` block (or a fixture): the server stopped and the
    engine disposed at the end, whatever the test did."""
    setup = start_simulated(tmp_path, seed=seed, panels=panels, shops=shops)
    try:
        yield setup
    finally:
        setup.server.stop()
        setup.engine.dispose()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` without following redirects: (status, headers, body), errors included."""
    try:
        with _OPENER.open(url, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def later(moment: datetime, **delta: float) -> datetime:
    return (moment + timedelta(**delta)).astimezone(UTC)
