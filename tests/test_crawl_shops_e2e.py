"""Retail shops end to end: the simulator's Shopify, WooCommerce, JSON-LD and package-card shops
crawled by the real spiders in a child process into SQLite, compared with the market's truth;
then the bad inputs of a day of faults (endless pagination, an offsite redirect, broken JSON-LD,
a price without a currency, an unreadable quantity, a package without a price)."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.config import write_sites
from storage.models import RejectedOffer
from storage.repository import active_offer_count
from storage.views import v_offer_current
from tests.simulated import start_simulated

pytestmark = pytest.mark.slow

SHOPS = 10
FAMILIES = {"shopify", "woocommerce", "storefront"}  # spa: tests/test_spa.py (a browser)

# shop -> (fault, run status, text of the run's error)
FAULTS = {
    "shop-01": ("offsite_redirect", "partial", "not followed"),
    "shop-02": ("endless_pagination", "partial", "pagination did not end"),
    # Every JSON-LD block broken: the packages listed in the page's HTML are read instead.
    "shop-03": ("broken_jsonld", "succeeded", ""),
    "shop-04": ("unreadable_quantity", "succeeded", ""),
    "shop-06": ("endless_pagination", "partial", "pagination did not end"),
    "shop-07": ("price_without_currency", "succeeded", ""),
    "shop-08": ("offsite_redirect", "partial", "not followed"),
    "shop-09": ("product_without_price", "succeeded", ""),
    "shop-10": ("price_without_currency", "succeeded", ""),
}


def stored_offers(engine, shop_id):
    with engine.connect() as connection:
        return connection.execute(
            select(v_offer_current).where(v_offer_current.c.site_id == shop_id)).all()


@pytest.fixture(scope="module")
def shops(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("shops")
    setup = start_simulated(tmp_path, seed=42, panels=1, shops=SHOPS)
    market = setup.market
    # Every shop, in the config or not (the ones only discovery finds are crawled the same).
    entries = [market.shop_config(shop_id, setup.server.base_url) for shop_id in market.shops]
    entries = [entry for entry in entries if entry["family"] in FAMILIES]
    for entry in entries:
        entry["politeness"] = {**entry.get("politeness", {}), "download_delay": 0,
                               "autothrottle": False}
    setup.sites_path = tmp_path / "shops.yaml"
    write_sites(setup.sites_path, entries)
    setup.shop_ids = [entry["id"] for entry in entries]
    try:
        setup.clean_runs = {run["site_id"]: run for run in setup.crawl(site_ids=setup.shop_ids)}
        setup.clean_offers = {shop_id: stored_offers(setup.engine, shop_id)
                              for shop_id in setup.shop_ids}
        setup.truth_day0 = {shop_id: market.shop_offers(shop_id) for shop_id in setup.shop_ids}
        market.advance(days=1)
        for shop_id, (fault, _, _) in FAULTS.items():
            market.inject_fault(shop_id, fault)
        setup.faulty_runs = {run["site_id"]: run for run in setup.crawl(site_ids=setup.shop_ids)}
        yield setup
    finally:
        setup.server.stop()


def test_every_family_is_covered(shops):
    kinds = {shops.market.shops[shop_id].kind for shop_id in shops.shop_ids}
    assert kinds == {"shopify", "woocommerce", "jsonld", "cards"}


@pytest.mark.parametrize("shop_id", [f"shop-{n:02d}" for n in (1, 2, 3, 4, 6, 7, 8, 9, 10)])
def test_stored_offers_match_the_shop(shops, shop_id):
    run = shops.clean_runs[shop_id]
    assert (run["status"], run["offers_rejected"], run["error"]) == ("succeeded", 0, None), run
    truth = shops.truth_day0[shop_id]
    stored = shops.clean_offers[shop_id]
    assert Counter((row.quantity, row.price) for row in stored) == Counter(
        (offer["quantity"], offer["price"]) for offer in truth)
    assert Counter((row.quantity, row.compare_at_price) for row in stored) == Counter(
        (offer["quantity"], offer["compare_at_price"]) for offer in truth)
    currency = shops.market.shops[shop_id].currency
    assert {row.currency for row in stored} == {currency}
    # Platform and metric read from the product and variant titles by the taxonomy.
    assert Counter((row.quantity, row.price, row.platform, row.metric) for row in stored) == Counter(
        (o["quantity"], o["price"], o["platform"], o["metric"]) for o in truth)
    usd_by_key = {(o["quantity"], o["price"], o["platform"], o["metric"]): o["usd_per_1000"]
                  for o in truth}
    for row in stored:
        expected = usd_by_key[(row.quantity, row.price, row.platform, row.metric)]
        # Both sides round to 6 decimals; the simulator's exchange rate and ours may differ in
        # the last digit of that rounding, never more.
        assert abs(row.usd_per_1000 - expected) <= Decimal("0.000001"), row
        assert row.quantity_raw and row.pricing == "package"


@pytest.mark.parametrize("shop_id", sorted(FAULTS), ids=[
    f"{shop}-{fault}" for shop, (fault, _, _) in sorted(FAULTS.items())])
def test_fault_is_counted_and_visible(shops, shop_id):
    fault, status, message = FAULTS[shop_id]
    run = shops.faulty_runs[shop_id]
    assert run["status"] == status, run
    assert message in (run["error"] or ""), run["error"]
    if status != "succeeded":
        # A listing read in part, or not at all, never marks an unseen offer removed.
        assert run["offers_removed"] == 0, run


def test_offsite_redirects_are_refused_and_counted(shops):
    for shop_id in ("shop-01", "shop-08"):
        stats = shops.faulty_runs[shop_id]["stats"]
        stats = json.loads(stats) if isinstance(stats, str) else stats
        assert stats.get("offsite/redirects_refused", 0) >= 1, stats
        assert any("not followed" in note for note in stats["notes"]), stats["notes"]


def rejections(shops, shop_id):
    rejected = RejectedOffer.__table__
    with shops.engine.connect() as connection:
        return connection.execute(select(rejected.c.site_offer_id, rejected.c.reason)
                                  .where(rejected.c.run_id == shops.faulty_runs[shop_id]["id"])).all()


@pytest.mark.parametrize(("shop_id", "reason"), [
    ("shop-04", "quantity not readable: 'Mega pack'"), ("shop-09", "no price")])
def test_bad_packages_become_rejections_not_removals(shops, shop_id, reason):
    fault = FAULTS[shop_id][0]
    targets = shops.market.shop_fault_targets(shop_id, fault)
    rows = rejections(shops, shop_id)
    assert [row.reason for row in rows] == [reason] * len(targets)
    run = shops.faulty_runs[shop_id]
    assert run["offers_removed"] == 0
    assert active_offer_count(shops.engine, site_id=shop_id) == len(shops.truth_day0[shop_id])


@pytest.mark.parametrize("shop_id", ["shop-07", "shop-10"])
def test_price_without_currency_falls_back_to_the_configured_currency(shops, shop_id):
    run = shops.faulty_runs[shop_id]
    assert run["offers_rejected"] == 0
    stored = stored_offers(shops.engine, shop_id)
    assert {row.currency for row in stored} == {shops.market.shops[shop_id].currency}
    truth = shops.market.shop_offers(shop_id)
    assert Counter((row.quantity, row.price) for row in stored) == Counter(
        (offer["quantity"], offer["price"]) for offer in truth)
    assert all(isinstance(row.price, Decimal) for row in stored)


def test_broken_jsonld_is_noted_and_the_html_packages_read_instead(shops):
    run = shops.faulty_runs["shop-03"]
    stats = json.loads(run["stats"]) if isinstance(run["stats"], str) else run["stats"]
    assert any("is not valid JSON (skipped)" in note for note in stats["notes"]), stats["notes"]
    stored = stored_offers(shops.engine, "shop-03")
    truth = shops.market.shop_offers("shop-03")
    assert Counter((row.quantity, row.price) for row in stored) == Counter(
        (offer["quantity"], offer["price"]) for offer in truth)
