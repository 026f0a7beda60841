"""A fast store of panel price lists for the reseller-link tests, straight from the simulator.

Each simulated day, every panel's ``action=services`` payload (as the simulator's API renders
it) goes through the real extractor, normalizer, validator and repository: no HTTP and no crawl
process, so a store of ~20 panels x 14 days takes seconds. (``simulator.store.build_store`` of
issue 8 does the same for every page kind; this helper needs only the panels' price lists.)
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import Engine

from core.offers import Rejection
from crawlers.extract.smm_api import extract_services
from pipelines.normalize import normalize_offer
from pipelines.validate import validate_offer
from simulator import Market
from simulator.api import services_body
from storage.db import get_engine, migrate
from storage.repository import complete_run, start_run, upsert_site


def build_panel_store(market: Market, database: str | Engine, *, days: int,
                      unseen: frozenset[str] = frozenset()) -> Engine:
    """Record ``days`` daily crawls of every panel's price list (day 0 included), advancing the
    market one day between crawls, into ``database`` (a URL or an engine); panels in ``unseen``
    are never crawled. Returns the migrated engine."""
    engine = get_engine(database) if isinstance(database, str) else database
    migrate(engine)
    for day in range(days):
        if day:
            market.advance(1)
        observed_at = datetime.combine(market.today, time(12, 0), UTC)
        for site in market.sites.values():
            if site.site_id in unseen:
                continue
            if day == 0:
                upsert_site(engine, site_id=site.site_id, url=f"http://127.0.0.1/{site.site_id}",
                            family="smm_api", currency=site.currency, now=observed_at)
            run_id = start_run(engine, site_id=site.site_id, started_at=observed_at,
                               trigger="demo")
            extracted = extract_services(services_body(market, site, frozenset()))
            offers, rejections = [], []
            for raw in extracted.offers:
                result = normalize_offer(raw, site_currency=site.currency,
                                         observed_at=observed_at)
                reason = None if isinstance(result, Rejection) else validate_offer(result)
                if isinstance(result, Rejection):
                    rejections.append(result)
                elif reason:
                    rejections.append(Rejection(site_offer_id=result.site_offer_id,
                                                reason=reason))
                else:
                    offers.append(result)
            complete_run(engine, run_id=run_id, site_id=site.site_id, observed_at=observed_at,
                         offers=offers, rejections=rejections, counters=[])
    return engine
