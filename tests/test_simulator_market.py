"""The market of issue 8: counters as claims, shops' orders, unseen sellers, hidden parameters,
the truth's ``market`` section, and stores built straight from the simulator (build_store)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from simulator import Market
from simulator.directories import DIRECTORY_IDS, partners_html, render_directory_page
from simulator.market import HARD_MARKET, ORDER_SIZE_SHAPES
from simulator.model import CounterClaim
from simulator.store import build_store
from simulator.themes import render_landing_page
from tests.simulated import start_simulated

BASE = "http://127.0.0.1:8800"
DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


@pytest.fixture(scope="module")
def hard_market() -> Market:
    """The market of issue 8 with every kind of counter claim, after 26 days."""
    market = Market(seed=4, n_panels=24, n_shops=10, counter_distortion=0.6,
                    counter_coverage=0.7, unseen_share=0.25, catalogue_scale=0.2)
    market.advance(26)
    return market


@pytest.fixture(scope="module")
def hard_truth(hard_market: Market) -> dict[str, Any]:
    return hard_market.ground_truth()


# --- the truth's market section ----------------------------------------------------------------


def test_market_section_has_exactly_the_agreed_keys(hard_truth: dict[str, Any]) -> None:
    section = hard_truth["market"]
    assert set(section) == {"daily", "sellers"}
    assert set(section["sellers"]) == {"total", "listed_by_any_source"}
    assert section["sellers"]["total"] == 34
    assert section["daily"], "26 completed days have orders"
    completed = set(hard_truth["dates"][:-1])  # the current day has no orders yet
    for row in section["daily"]:
        assert set(row) == {"date", "platform", "orders", "end_customer_revenue_usd",
                            "wholesale_revenue_usd"}
        assert date.fromisoformat(row["date"]).isoformat() == row["date"] in completed
        assert isinstance(row["platform"], str) and row["platform"]
        assert isinstance(row["orders"], int) and row["orders"] >= 0
        for key in ("end_customer_revenue_usd", "wholesale_revenue_usd"):
            assert isinstance(row[key], str) and DECIMAL_TEXT.match(row[key]), row[key]
            assert Decimal(row[key]) >= 0
    keys = [(row["date"], row["platform"]) for row in section["daily"]]
    assert len(keys) == len(set(keys)) and keys == sorted(keys)
    assert {row["date"] for row in section["daily"]} == completed


def test_market_section_adds_up_end_customers_and_wholesale(
    hard_market: Market, hard_truth: dict[str, Any]
) -> None:
    """End customers = panels' own customers (resellers' included) + shops' customers;
    wholesale = what resellers and shops paid upstream; both in USD at the day's rate."""
    dates = hard_truth["dates"]
    fx = hard_truth["fx_usd_per_unit"]
    expected: dict[tuple[str, str], list[Any]] = {}
    sellers = [(hard_truth["sites"][s]["currency"], hard_truth["sites"][s]["orders"])
               for s in hard_truth["sites"]]
    sellers += [(hard_truth["shops"][s]["currency"], hard_truth["shops"][s]["orders"])
                for s in hard_truth["shops"]]
    for currency, orders in sellers:
        for iso, record in orders.items():
            usd = Decimal(fx[iso][currency])
            for platform, bucket in record["by_platform"].items():
                cell = expected.setdefault((iso, platform), [0, Decimal(0), Decimal(0)])
                cell[0] += bucket["orders"]
                cell[1] += Decimal(bucket["revenue"]) * usd
            for platform, bucket in record["forwarded_by_platform"].items():
                cell = expected.setdefault((iso, platform), [0, Decimal(0), Decimal(0)])
                cell[2] += Decimal(bucket["revenue"]) * usd
    got = {(row["date"], row["platform"]): row for row in hard_truth["market"]["daily"]}
    assert set(got) == set(expected)
    for key, (orders, end, wholesale) in expected.items():
        assert got[key]["orders"] == orders
        assert abs(Decimal(got[key]["end_customer_revenue_usd"]) - end) < Decimal("0.0001")
        assert abs(Decimal(got[key]["wholesale_revenue_usd"]) - wholesale) < Decimal("0.0001")
    # shops sell at retail, several times what they pay upstream
    day = dates[3]
    shop_sales = sum(Decimal(s["orders"][day]["revenue_usd"]) for s in hard_truth["shops"].values())
    assert shop_sales > 0
    total_end = sum(Decimal(r["end_customer_revenue_usd"]) for r in got.values())
    total_wholesale = sum(Decimal(r["wholesale_revenue_usd"]) for r in got.values())
    assert 0 < total_wholesale < total_end


# --- conservation: counters = own orders + forwarded orders, claims applied --------------------


def test_panel_counters_are_own_plus_forwarded_orders_under_their_claims(
    hard_market: Market, hard_truth: dict[str, Any]
) -> None:
    market, dates = hard_market, hard_truth["dates"]
    kinds: Counter[str] = Counter()
    for site_id, site in hard_truth["sites"].items():
        claim = CounterClaim(**{**site["counter_claim"],
                                "multiplier": Decimal(site["counter_claim"]["multiplier"])})
        kinds[claim.kind if claim.shown else "absent"] += 1
        true = [site["true_counters"][iso] for iso in dates]
        for day, iso in enumerate(dates[:-1]):
            record = site["orders"][iso]
            from_resellers = sum(market.orders(r, day)["orders"]
                                 for r in record["forwarded_by_reseller"])
            from_shops = sum(market.shop_orders(s, day)["orders"]
                             for s in record["forwarded_by_shop"])
            for reseller_id in record["forwarded_by_reseller"]:
                assert hard_truth["sites"][reseller_id]["upstream"] == site_id
            for shop_id in record["forwarded_by_shop"]:
                assert hard_truth["shops"][shop_id]["upstream"] == site_id
            assert record["forwarded_orders"] == from_resellers + from_shops
            assert true[day + 1] - true[day] == record["orders"] + record["forwarded_orders"]
            assert record["counter_delta"] == true[day + 1] - true[day]
        shown = [site["counters"][iso]["orders"] for iso in dates]
        if not claim.shown:
            assert shown == [None] * len(dates)
            continue
        assert shown == [claim.value(true, day) for day in range(len(dates))]
        deltas = [b - a for a, b in zip(shown, shown[1:], strict=False)]
        true_deltas = [b - a for a, b in zip(true, true[1:], strict=False)]
        if claim.kind in ("honest", "offset"):
            assert deltas == true_deltas
        elif claim.kind == "multiplier":
            for got, real in zip(deltas, true_deltas, strict=True):
                assert abs(got - claim.multiplier * real) <= 1
        elif claim.kind == "frozen":
            assert all(d == 0 for d in deltas[max(0, claim.from_day - 1):])
        elif claim.kind == "reset" and claim.from_day < len(dates):
            assert deltas[claim.from_day - 1] < 0  # back near zero
            assert shown[claim.from_day] == claim.offset
    assert {"absent", "honest", "offset", "multiplier", "frozen", "reset"} <= set(kinds), kinds


def test_landing_pages_show_the_claim_or_no_counter(hard_market: Market) -> None:
    for site in hard_market.sites.values():
        page = render_landing_page(hard_market, site)
        claimed = hard_market.counters(site.site_id)["orders"]
        marker = {0: "data-count=", 1: "data-to=", 2: "stat__value", 3: "ordersCompleted"}[
            site.page_style.counter_style]
        if claimed is None:
            assert marker not in page, site.site_id
        else:
            assert str(claimed) in page and marker in page, site.site_id


def test_shops_forward_every_order_to_their_upstream_at_its_rate(hard_market: Market) -> None:
    market = hard_market
    for shop_id, shop in market.shops.items():
        total = sum(market.shop_orders(shop_id, day)["orders"] for day in range(market.day))
        forwarded = sum(market.orders(shop.upstream_id, day)["forwarded_by_shop"].get(shop_id, 0)
                        for day in range(market.day))
        assert total == forwarded > 0, shop_id


# --- unseen sellers -----------------------------------------------------------------------------


def test_unseen_sellers_are_in_no_source_and_not_in_the_config(
    hard_market: Market, hard_truth: dict[str, Any]
) -> None:
    market = hard_market
    unseen = set(hard_truth["unseen"])
    assert 0 < len(unseen) < 34 // 2
    plan = market.discovery
    listed = {seller for listing in plan.listings.values() for seller in listing}
    linked = {target for targets in plan.partners.values() for target in targets}
    assert unseen == set(market.seller_ids()) - listed - linked  # missed by every source
    assert not unseen & (listed | linked | set(plan.partners))
    assert not unseen & {entry["id"] for entry in market.sites_config(BASE)}
    pages = "".join(render_directory_page(market, directory_id, page, BASE)
                    for directory_id in DIRECTORY_IDS
                    for page in range(1, plan.pages(directory_id) + 1))
    landings = "".join(
        render_landing_page(market, site, partners=partners_html(market, site_id, BASE))
        for site_id, site in market.sites.items() if site_id not in unseen)
    partner_blocks = "".join(partners_html(market, seller, BASE) for seller in market.seller_ids())
    for seller in unseen:
        for html in (pages, landings, partner_blocks):
            assert f"{BASE}/s/{seller}/" not in html, seller
    assert hard_truth["market"]["sellers"] == {"total": 34,
                                               "listed_by_any_source": 34 - len(unseen)}
    # every other seller is listed by a directory or linked by a seller
    assert listed | linked == set(market.seller_ids()) - unseen
    first, second = (set(plan.listings[d]) for d in DIRECTORY_IDS)
    assert first & second and first - second and second - first, "sources overlap unevenly"


def test_bigger_sellers_are_more_often_listed() -> None:
    seen_sizes: list[float] = []
    unseen_sizes: list[float] = []
    both_by_half: Counter[str] = Counter()
    for seed in range(1, 7):
        market = Market(seed=seed, n_panels=16, n_shops=8, unseen_share=0.3,
                        catalogue_scale=0.1)
        sellers = sorted(market.seller_ids(), key=market.seller_volume)
        for seller in sellers:
            (unseen_sizes if seller in market.unseen else seen_sizes).append(
                market.seller_volume(seller))
        seen = [s for s in sellers if s not in market.unseen]
        half = len(seen) // 2
        for rank, seller in enumerate(seen):
            in_both = all(seller in market.discovery.listings[d] for d in DIRECTORY_IDS)
            both_by_half[("big" if rank >= half else "small") + ("/both" if in_both else "")] += 1
    assert sorted(seen_sizes)[len(seen_sizes) // 2] > 2 * sorted(unseen_sizes)[len(unseen_sizes) // 2]
    big_share = both_by_half["big/both"] / (both_by_half["big"] + both_by_half["big/both"])
    small_share = both_by_half["small/both"] / (both_by_half["small"] + both_by_half["small/both"])
    assert big_share > small_share + 0.1, both_by_half


# --- hidden parameters -------------------------------------------------------------------------


def test_unseen_share_is_the_expected_share_missed_by_every_source() -> None:
    """Each seller's chance to be missed by both directories and the partner links comes from
    its findability; over seeds the missed share is about the knob."""
    for share in (0.1, 0.4):
        missed = [len(Market(seed=seed, n_panels=24, n_shops=10, unseen_share=share,
                             catalogue_scale=0.05).unseen) / 34 for seed in range(1, 9)]
        assert abs(sum(missed) / len(missed) - share) < 0.08, (share, missed)


def test_hidden_parameters_vary_across_seeds() -> None:
    markets = [Market(seed=seed, n_panels=24, n_shops=4, catalogue_scale=0.05)
               for seed in range(1, 13)]
    hidden = [market.ground_truth()["hidden"] for market in markets]
    assert set(hidden[0]) == {"counter_coverage", "counter_distortion", "unseen_share",
                              "reseller_share", "order_size_shape", "volume_tail_alpha",
                              "catalogue_scale"}
    assert {h["order_size_shape"] for h in hidden} == set(ORDER_SIZE_SHAPES)
    assert len({round(h["reseller_share"], 6) for h in hidden}) == len(hidden)
    assert len({round(h["volume_tail_alpha"], 6) for h in hidden}) == len(hidden)
    reseller_counts = {sum(site.kind == "reseller" for site in m.sites.values()) for m in markets}
    assert len(reseller_counts) >= 3, reseller_counts
    # heavy-tailed volume: the biggest seller dwarfs the median one
    for market in markets[:4]:
        volumes = sorted(market.seller_volume(s) for s in market.sites)
        assert volumes[-1] > 5 * volumes[len(volumes) // 2]


def test_order_size_shapes_move_the_order_sizes() -> None:
    """The same market with each shape: the median order (per-1000 services) grows from
    retail_small to lognormal to bulk_heavy, and bulk_heavy has the longer tail."""
    medians, tails = {}, {}
    for shape in ORDER_SIZE_SHAPES:
        market = Market(seed=9, n_panels=8, n_shops=0, order_size_shape=shape,
                        catalogue_scale=0.3)
        market.advance(3)
        sizes: Counter[int] = Counter()
        for site_id in market.sites:
            for day in range(3):
                sizes.update({int(k): v for k, v in market.orders(site_id, day)["order_sizes"].items()})
        ordered = sorted(sizes.elements())
        medians[shape] = ordered[len(ordered) // 2]
        tails[shape] = ordered[int(len(ordered) * 0.95)] / medians[shape]
    assert medians["retail_small"] < medians["lognormal"] < medians["bulk_heavy"], medians
    assert medians["bulk_heavy"] >= 4 * medians["retail_small"], medians
    assert tails["bulk_heavy"] > tails["retail_small"], tails


def test_shops_size_their_packages_to_the_order_size_shape() -> None:
    """The one visible trace of the shape: retail package sizes follow what buyers order."""
    medians = {}
    for shape in ORDER_SIZE_SHAPES:
        market = Market(seed=3, n_panels=8, n_shops=8, order_size_shape=shape,
                        catalogue_scale=0.2)
        sizes = sorted(row["quantity"] for shop in market.shops
                       for row in market.shop_offers(shop))
        medians[shape] = sizes[len(sizes) // 2]
    assert medians["retail_small"] < medians["lognormal"] < medians["bulk_heavy"], medians


@pytest.mark.parametrize(
    ("knob", "value"),
    [("counter_coverage", 1.5), ("unseen_share", -0.1), ("reseller_share", 2.0),
     ("counter_distortion", -1.0), ("order_size_shape", "huge"), ("catalogue_scale", 0.0)],
)
def test_bad_knobs_are_refused_with_their_name(knob: str, value: Any) -> None:
    with pytest.raises(ValueError, match=knob):
        Market(seed=1, n_panels=2, n_shops=0, **{knob: value})


def test_the_default_market_keeps_every_counter_and_seller() -> None:
    market = Market(seed=42, n_panels=24, n_shops=10, catalogue_scale=0.05)
    assert all(site.claim == CounterClaim() for site in market.sites.values())
    assert market.unseen == frozenset()
    hard = Market(seed=42, n_panels=24, n_shops=10, catalogue_scale=0.05, **HARD_MARKET)
    assert hard.unseen and not all(site.claim.shown for site in hard.sites.values())


# --- build_store: what a real crawl stores, without HTTP ---------------------------------------


def _stored(database_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(site -> {offer id: current price values}, site -> {counter name: value})."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            offers = connection.execute(text(
                "SELECT o.site_id, o.site_offer_id, o.name, o.platform, o.metric, o.pricing, "
                "p.price, p.currency, p.quantity, p.min_quantity, p.max_quantity "
                "FROM offer o JOIN offer_price_period p ON p.offer_id = o.id "
                "WHERE p.valid_to IS NULL")).all()
            counters = connection.execute(text(
                "SELECT site_id, name, value FROM counter_reading")).all()
    finally:
        engine.dispose()
    by_site: dict[str, Any] = {}
    for row in offers:
        by_site.setdefault(row.site_id, {})[row.site_offer_id] = tuple(row[2:])
    readings: dict[str, Any] = {}
    for row in counters:
        readings.setdefault(row.site_id, {})[row.name] = row.value
    return by_site, readings


def test_build_store_stores_what_a_real_crawl_stores(tmp_path: Path) -> None:
    """One day of a small market crawled for real (HTTP, Scrapy, child process) and built with
    build_store: the same offers with the same values, the same counter values."""
    (tmp_path / "crawl").mkdir()
    crawled = start_simulated(tmp_path / "crawl", seed=5, panels=4, shops=3)
    try:
        runs = crawled.crawl()
        assert {run["status"] for run in runs} == {"succeeded"}
    finally:
        crawled.server.stop()
    real_offers, real_counters = _stored(crawled.database_url)
    built_url = f"sqlite:///{tmp_path / 'built.db'}"
    summary = build_store(Market(seed=5, n_panels=4, n_shops=3), built_url, days=0,
                          panels_via_api=False)
    assert summary.runs_by_status == {"succeeded": 7} and summary.crawls == 7
    built_offers, built_counters = _stored(built_url)
    assert set(built_offers) == set(real_offers) == {*crawled.market.sites, *crawled.market.shops}
    for site_id, offers in real_offers.items():
        assert built_offers[site_id] == offers, site_id
    assert built_counters == real_counters
    assert {site: values["orders"] for site, values in built_counters.items()} == {
        site: crawled.market.counters(site)["orders"] for site in crawled.market.sites}
    # panels read through their API (the fast default) store the same prices and limits
    api_url = f"sqlite:///{tmp_path / 'api.db'}"
    build_store(Market(seed=5, n_panels=4, n_shops=3), api_url, days=0)
    api_offers, api_counters = _stored(api_url)
    assert api_counters == real_counters
    for site_id, offers in real_offers.items():
        assert {k: (v[4], v[5], v[7], v[8]) for k, v in api_offers[site_id].items()} == {
            k: (v[4], v[5], v[7], v[8]) for k, v in offers.items()}, site_id


def test_build_store_records_days_and_discovery_of_the_hard_market(tmp_path: Path) -> None:
    market = Market(seed=8, n_panels=8, n_shops=6, catalogue_scale=0.1, **HARD_MARKET)
    truth_before = market.ground_truth()
    url = f"sqlite:///{tmp_path / 'store.db'}"
    days_done: list[int] = []
    summary = build_store(market, url, days=4, progress=lambda done, total: days_done.append(done))
    assert days_done == [1, 2, 3, 4] and market.day == 4
    assert summary.runs_by_status.get("succeeded") == summary.crawls == 5 * len(
        summary.crawled_sites)
    truth = market.ground_truth()
    engine = create_engine(url)
    with engine.connect() as connection:
        sites = {row.id for row in connection.execute(text("SELECT id FROM site"))}
        sources = connection.execute(text(
            "SELECT site_id, source, source_kind FROM site_discovery")).all()
        readings = connection.execute(text(
            "SELECT site_id, observed_at, value FROM counter_reading WHERE name = 'orders'"
        )).all()
    engine.dispose()
    # unseen sellers are nowhere; every other seller was found by its true sources
    assert not sites & set(truth_before["unseen"])
    assert sites == set(market.seller_ids()) - market.unseen
    kinds = Counter(row.source_kind for row in sources)
    assert kinds["directory"] and kinds["seller_link"] and kinds["config"]
    expected: Counter[str] = Counter()
    for directory in truth["discovery"]["directories"].values():
        expected.update({seller: 1 for seller in directory["sites"]})
    for link in truth["discovery"]["seller_links"]:
        expected[link["to"]] += 1
    found = Counter(row.site_id for row in sources if row.source_kind != "config")
    assert found == expected
    # every shown counter was read every day, with the value the page claimed
    for row in readings:
        day = (date.fromisoformat(str(row.observed_at)[:10]) - market.start_date).days
        assert row.value == market.counters(row.site_id, day)["orders"]
    shown = {s for s, site in market.sites.items() if site.claim.shown} - market.unseen
    assert Counter(row.site_id for row in readings) == {site: 5 for site in shown}


# --- CLI knobs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["simulate", "--counter-coverage", "1.5"], "--counter-coverage"),
        (["simulate", "--unseen-share", "-0.1"], "--unseen-share"),
        (["demo", "--reseller-share", "2"], "--reseller-share"),
        (["demo", "--counter-coverage", "abc"], "--counter-coverage"),
        (["demo", "--days", "0"], "--days"),
        (["simulate", "--panels", "0"], "--panels"),
        (["simulate", "--shops", "-1"], "--shops"),
    ],
)
def test_cli_market_knobs_out_of_range_are_usage_errors(args: list[str], option: str) -> None:
    from typer.testing import CliRunner

    from clickfarm.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert option in result.output


def test_demo_writes_the_database_and_truth_exactly_where_told(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clickfarm.cli import app

    database, truth_path = tmp_path / "exact" / "demo.db", tmp_path / "elsewhere" / "truth.json"
    database.parent.mkdir()  # a given database's folder is never created (issue 14)
    result = CliRunner().invoke(app, [
        "demo", "--days", "1", "--panels", "3", "--shops", "0", "--seed", "6",
        "--counter-coverage", "0.5", "--unseen-share", "0", "--reseller-share", "0.2",
        "--database-url", f"sqlite:///{database}", "--truth", str(truth_path)])
    assert result.exit_code == 0, result.output
    assert database.exists()
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    assert truth["hidden"]["counter_coverage"] == 0.5
    assert truth["hidden"]["reseller_share"] == 0.2
    assert truth["seed"] == 6 and truth["panel_count"] == 3
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        runs = connection.execute(text("SELECT count(*) FROM crawl_run")).scalar_one()
    engine.dispose()
    assert runs >= 3


def test_build_store_reads_the_javascript_shop_from_its_rendered_document(tmp_path: Path) -> None:
    """The spa shop (Chromium in a real crawl): the simulator renders what its script shows and
    the spa spider's callbacks read it: every package of the day, at its price."""
    market = Market(seed=7, n_panels=3, n_shops=5, catalogue_scale=0.1)
    spa = [shop_id for shop_id, shop in market.shops.items() if shop.kind == "spa"]
    assert spa
    url = f"sqlite:///{tmp_path / 'spa.db'}"
    summary = build_store(market, url, days=0)
    assert summary.runs_by_status == {"succeeded": summary.crawls} and not summary.not_crawled
    offers, _ = _stored(url)
    for shop_id in spa:
        stored = {offer_id: (Decimal(str(values[4])), values[6])
                  for offer_id, values in offers[shop_id].items()}
        assert stored == {row["site_offer_id"]: (row["price"], row["quantity"])
                          for row in market.shop_offers(shop_id)}
