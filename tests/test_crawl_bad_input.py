"""Bad input from sellers: every case ends as a rejected row, a counted error or a failed run
with a clear message, never a crash, a silent loss or a half-written run."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from clickfarm.demo import observation_time
from storage.models import RejectedOffer
from storage.repository import active_offer_count
from tests.simulated import start_simulated

# seed 5, 6 panels: panel-01..03 are crawled through /services, panel-04..06 through the API.
FIRST_DAY_FAULTS = {
    "panel-04": ("invalid_json", "failed", "invalid JSON"),
    "panel-05": ("api_error", "failed", "API error: Service temporarily unavailable"),
    "panel-06": ("bad_values", "succeeded", ""),
    "panel-03": ("no_table", "failed", "no price table"),
    "panel-01": ("empty_list", "failed", "empty price list: 0 offers where the last successful run saw"),
    "panel-02": ("http_500", "failed", "HTTP 500"),
}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    setup = start_simulated(tmp_path_factory.mktemp("bad"), seed=5, panels=6)
    try:
        clean_runs = setup.crawl()
        assert {run["status"] for run in clean_runs} == {"succeeded"}
        setup.active_before = {site_id: active_offer_count(setup.engine, site_id=site_id)
                               for site_id in setup.market.sites}
        setup.market.advance(days=1)
        for site_id, (fault, _, _) in FIRST_DAY_FAULTS.items():
            setup.market.inject_fault(site_id, fault)
        setup.faulty_runs = {run["site_id"]: run for run in setup.crawl()}
        yield setup
    finally:
        setup.server.stop()


@pytest.mark.parametrize("site_id", sorted(FIRST_DAY_FAULTS), ids=[
    f"{site}-{fault}" for site, (fault, _, _) in sorted(FIRST_DAY_FAULTS.items())])
def test_fault_gives_the_expected_run_status_and_message(faulty, site_id):
    fault, status, message = FIRST_DAY_FAULTS[site_id]
    run = faulty.faulty_runs[site_id]
    assert run["status"] == status, run
    assert message in (run["error"] or ""), run["error"]


@pytest.mark.parametrize("site_id", ["panel-01", "panel-02", "panel-03", "panel-04", "panel-05"])
def test_failed_run_writes_no_offer_changes(faulty, site_id):
    run = faulty.faulty_runs[site_id]
    assert (run["offers_new"], run["offers_removed"], run["price_rows_added"]) == (0, 0, 0)
    assert active_offer_count(faulty.engine, site_id=site_id) == faulty.active_before[site_id]


def test_bad_values_become_rejected_rows_with_reasons(faulty):
    run = faulty.faulty_runs["panel-06"]
    overrides = faulty.market.bad_value_overrides("panel-06")
    rejected = RejectedOffer.__table__
    with faulty.engine.connect() as connection:
        rows = connection.execute(select(rejected.c.site_offer_id, rejected.c.reason,
                                         rejected.c.raw_text)
                                  .where(rejected.c.run_id == run["id"])).all()
    assert {row.site_offer_id for row in rows} == set(overrides)
    assert run["offers_rejected"] == len(overrides)
    reasons = " | ".join(row.reason for row in rows)
    for expected in ("negative", "min", "absurd"):
        assert expected in reasons.lower(), reasons
    assert all(row.raw_text for row in rows)
    # The rejected listings are still on the seller's list: only the truly delisted services
    # are removed, and every other offer is stored.
    market = faulty.market
    before, after = market.prices("panel-06", market.day - 1), market.prices("panel-06")
    assert run["offers_removed"] == len(before.keys() - after.keys())
    assert run["offers_seen"] == len(after) - len(overrides)
    assert active_offer_count(faulty.engine, site_id="panel-06") == len(after)


def test_unknown_currency_and_missing_key_fail_clearly(faulty):
    market = faulty.market
    for site_id in FIRST_DAY_FAULTS:
        market.clear_faults(site_id)
    market.advance(days=1)
    market.inject_fault("panel-04", "unknown_currency")
    market.inject_fault("panel-01", "unknown_currency")
    variable = "CLICKFARM_KEY_PANEL_05"
    saved = os.environ.pop(variable)
    try:
        runs = {run["site_id"]: run for run in faulty.crawl(
            site_ids=["panel-04", "panel-01", "panel-05"],
            observed_at=observation_time(market.today))}
    finally:
        os.environ[variable] = saved
    for site_id in ("panel-04", "panel-01"):
        assert runs[site_id]["status"] == "failed"
        assert "unknown currency" in runs[site_id]["error"].lower(), runs[site_id]["error"]
        assert runs[site_id]["offers_rejected"] > 0
        assert runs[site_id]["offers_removed"] == 0
    assert runs["panel-05"]["status"] == "failed"
    assert f"no API key: set the environment variable {variable}" in runs["panel-05"]["error"]
    assert market.refused_order_actions == 0
