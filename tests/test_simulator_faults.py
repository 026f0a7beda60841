"""Faults per site and per simulated day, on panels and shops, observed through real HTTP."""

from __future__ import annotations

import http.client
import json
import re
import time
from decimal import Decimal
from typing import Any

import lxml.html
import pytest

from simulator.market import FAULT_PARAMS, FAULTS, Market
from simulator.server import SimulatorServer
from simulator.shop_pages import UNREADABLE_QUANTITY
from tests.simulated import fetch


@pytest.fixture
def served() -> Any:
    """A fresh small market per test (faults and the clock are mutated)."""
    market = Market(seed=42, n_panels=3)
    server = SimulatorServer(market).start()
    yield market, server
    server.stop()


def shop_of(market: Market, kind: str) -> str:
    return next(shop_id for shop_id, shop in market.shops.items() if shop.kind == kind)


def landing_urls(market: Market, server: SimulatorServer) -> dict[str, str]:
    """One panel and one shop of every kind (site id -> a page that answers 200 normally)."""
    urls = {"panel-01": server.site_url("panel-01") + "services"}
    for kind in ("shopify", "woocommerce", "jsonld", "cards", "spa"):
        shop_id = shop_of(market, kind)
        urls[shop_id] = server.site_url(shop_id)
    return urls


# --- scheduling per day ----------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["http_500", "offline", "http_429"])
def test_a_fault_for_a_future_day_is_inert_before_and_after(served: Any, fault: str) -> None:
    market, server = served
    for site_id in landing_urls(market, server):
        market.inject_fault(site_id, fault, day=2)
    expected = {"http_500": 500, "offline": 503, "http_429": 429}[fault]
    for day in range(4):
        for site_id, url in landing_urls(market, server).items():
            status = fetch(url)[0]
            assert status == (expected if day == 2 else 200), (fault, site_id, day, status)
        market.advance()


def test_every_fault_can_be_scheduled(served: Any) -> None:
    market, _ = served
    shop_kinds = {"broken_jsonld": "jsonld", "endless_pagination": "shopify"}
    panel_only = {"invalid_json", "api_error", "no_table", "bad_values", "unknown_currency"}
    for fault in sorted(FAULTS):
        site_id = "panel-02" if fault in panel_only else shop_of(market, shop_kinds.get(fault, "cards"))
        market.inject_fault(site_id, fault, day=5)
        assert fault not in market.active_faults(site_id)
    market.advance(5)
    for entry in market.ground_truth()["faults"]:
        assert entry["fault"] in market.active_faults(entry["site_id"])
    market.advance()
    assert all(not market.active_faults(site_id) for site_id in market.seller_ids())


def test_fault_parameters_are_checked_and_logged(served: Any) -> None:
    market, _ = served
    shop_id = shop_of(market, "shopify")
    with pytest.raises(ValueError, match="no parameter"):
        market.inject_fault("panel-01", "http_500", colour="red")
    with pytest.raises(ValueError, match="offline mode"):
        market.inject_fault("panel-01", "offline", mode="sometimes")
    with pytest.raises(ValueError, match="panels only"):
        market.inject_fault(shop_id, "bad_values")
    with pytest.raises(ValueError, match="shops only"):
        market.inject_fault("panel-01", "unreadable_quantity")
    with pytest.raises(ValueError, match="does not apply"):
        market.inject_fault(shop_id, "broken_jsonld")
    with pytest.raises(KeyError):
        market.inject_fault("shop-99", "http_500")
    market.inject_fault(shop_id, "http_429", day=1, retry_after=7)
    entry = market.ground_truth()["faults"][-1]
    assert entry == {
        "site_id": shop_id, "fault": "http_429", "day": 1, "params": {"retry_after": 7},
        "injected_on_day": 0, "cleared_on_day": None,
    }  # fmt: skip
    assert set(FAULT_PARAMS) == {"http_429", "http_500_burst", "slow", "offline"}


# --- operational faults ----------------------------------------------------------------------


@pytest.mark.parametrize("site", ["panel-01", "shop"])
def test_429_carries_the_configured_retry_after(served: Any, site: str) -> None:
    market, server = served
    site_id = site if site != "shop" else shop_of(market, "woocommerce")
    market.inject_fault(site_id, "http_429", day=0, retry_after=2)
    status, headers, _ = fetch(server.site_url(site_id))
    assert status == 429 and headers["Retry-After"] == "2"
    assert fetch(server.site_url(site_id) + "robots.txt")[0] == 200


def test_500_burst_answers_500_for_the_first_n_requests_of_each_day(served: Any) -> None:
    market, server = served
    shop_id = shop_of(market, "shopify")
    market.inject_fault(shop_id, "http_500_burst", requests=4)
    market.inject_fault("panel-02", "http_500_burst", day=1)  # default: 3 requests
    url = server.site_url(shop_id) + "products.json"
    assert fetch(server.site_url(shop_id) + "robots.txt")[0] == 200  # not counted
    assert [fetch(url)[0] for _ in range(6)] == [500] * 4 + [200] * 2
    assert fetch(server.site_url("panel-02"))[0] == 200  # scheduled for day 1
    market.advance()
    assert [fetch(url)[0] for _ in range(5)] == [500] * 4 + [200]  # a new day, a new burst
    panel = server.site_url("panel-02") + "services"
    assert [fetch(panel)[0] for _ in range(4)] == [500, 500, 500, 200]


def test_offline_503_and_closed_connection(served: Any) -> None:
    market, server = served
    shop_id = shop_of(market, "cards")
    market.inject_fault(shop_id, "offline", day=0)
    for path in ("", "robots.txt", "assets/logo.png", "buy/anything"):
        assert fetch(server.site_url(shop_id) + path)[0] == 503, path
    market.inject_fault("panel-03", "offline", mode="close")
    for path in ("", "robots.txt", "services"):
        connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            connection.request("GET", f"/s/panel-03/{path}")
            with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
                connection.getresponse()
        finally:
            connection.close()
    market.clear_faults("panel-03")
    assert fetch(server.site_url("panel-03"))[0] == 200


def test_slow_and_truncated_on_a_shop(served: Any) -> None:
    market, server = served
    shop_id = shop_of(market, "woocommerce")
    url = server.site_url(shop_id) + "wp-json/wc/store/v1/products?per_page=5"
    full = fetch(url)[2]
    market.inject_fault(shop_id, "slow", seconds=0.4)
    started = time.perf_counter()
    assert fetch(url)[0] == 200
    assert time.perf_counter() - started >= 0.4
    market.clear_faults(shop_id)
    market.inject_fault(shop_id, "truncated")
    status, _, cut = fetch(url)
    assert status == 200 and 0 < len(cut) < len(full) and full.startswith(cut)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut)


@pytest.mark.parametrize("kind", ["shopify", "woocommerce", "jsonld", "cards", "spa"])
def test_layout_change_on_shops(served: Any, kind: str) -> None:
    market, server = served
    shop_id = shop_of(market, kind)
    root = server.site_url(shop_id)
    market.inject_fault(shop_id, "layout_change", day=0)
    if kind == "shopify":
        status, _, body = fetch(root + "products.json")
        assert status == 404 and json.loads(body) == {"errors": "Not Found"}
    elif kind == "woocommerce":
        status, _, body = fetch(root + "wp-json/wc/store/v1/products")
        assert status == 404 and json.loads(body)["code"] == "rest_no_route"
    elif kind in ("jsonld", "cards"):
        link = lxml.html.fromstring(fetch(root)[2]).xpath('//a[@class="product-link"]/@href')[0]
        page = fetch(root + link)[2].decode()
        assert '"@type": "Product"' not in page
        assert ("package-card" in page) if kind == "jsonld" else ('class="plan"' in page)
    else:
        script = fetch(root + "app.js")[2].decode()
        assert "pricing-table" in script
    market.advance()
    assert fetch(root)[0] == 200


# --- bad input in shops ----------------------------------------------------------------------


def _shopify_variants(server: SimulatorServer, shop_id: str) -> dict[str, dict[str, Any]]:
    body = fetch(server.site_url(shop_id) + "products.json?limit=250")[2]
    return {str(v["id"]): v for p in json.loads(body)["products"] for v in p["variants"]}


def _woo_offers(server: SimulatorServer, shop_id: str) -> dict[str, dict[str, Any]]:
    api = server.site_url(shop_id) + "wp-json/wc/store/v1/products?per_page=100"
    offers = {str(p["id"]): p for p in json.loads(fetch(api)[2]) if p["type"] == "simple"}
    variations = json.loads(fetch(api + "&type=variation")[2])
    offers.update({str(v["id"]): v for v in variations})
    return offers


def _jsonld_offers(server: SimulatorServer, shop_id: str) -> dict[str, dict[str, Any]]:
    root = server.site_url(shop_id)
    offers: dict[str, dict[str, Any]] = {}
    for link in lxml.html.fromstring(fetch(root)[2]).xpath('//a[@class="product-link"]/@href'):
        status, _, body = fetch(root + link)
        if status != 200:
            continue
        for script in lxml.html.fromstring(body).xpath('//script[@type="application/ld+json"]'):
            try:
                block = json.loads(script.text)
            except json.JSONDecodeError:
                continue
            text = json.dumps(block)
            for match in re.finditer(r'\{"@type": "Offer"', text):
                offer, _ = json.JSONDecoder().raw_decode(text, match.start())
                offers[offer["sku"]] = offer
    return offers


def _card_offers(server: SimulatorServer, shop_id: str) -> dict[str, Any]:
    root = server.site_url(shop_id)
    cards: dict[str, Any] = {}
    for link in lxml.html.fromstring(fetch(root)[2]).xpath('//a[@class="product-link"]/@href'):
        status, _, body = fetch(root + link)
        if status == 200:
            for card in lxml.html.fromstring(body).xpath('//div[contains(@class,"package-card")]'):
                cards[card.get("data-package")] = card
    return cards


def test_product_without_price_in_every_family(served: Any) -> None:
    market, server = served
    for kind in ("shopify", "woocommerce", "jsonld", "cards"):
        shop_id = shop_of(market, kind)
        market.inject_fault(shop_id, "product_without_price", day=0)
        [target] = market.shop_fault_targets(shop_id, "product_without_price")
        truth = {row["site_offer_id"]: row for row in market.shop_offers(shop_id)}
        if kind == "shopify":
            variants = _shopify_variants(server, shop_id)
            assert variants[target]["price"] is None
            assert all(Decimal(v["price"]) == truth[k]["price"] for k, v in variants.items() if k != target)
        elif kind == "woocommerce":
            assert _woo_offers(server, shop_id)[target]["prices"]["price"] == ""
        elif kind == "jsonld":
            offers = _jsonld_offers(server, shop_id)
            assert "price" not in offers[target] and all("price" in o for k, o in offers.items() if k != target)
        else:
            card = _card_offers(server, shop_id)[target]
            assert not card.xpath('.//span[@class="amount"]') and "unavailable" in lxml.html.tostring(card).decode()
    truth = market.ground_truth()["shops"]
    for kind in ("shopify", "woocommerce", "jsonld", "cards"):
        shop_id = shop_of(market, kind)
        assert truth[shop_id]["faulted_offers"][market.today.isoformat()]["product_without_price"]


def test_price_without_currency(served: Any) -> None:
    market, server = served
    for kind in ("shopify", "woocommerce", "jsonld", "cards"):
        market.inject_fault(shop_of(market, kind), "price_without_currency")
    shopify = shop_of(market, "shopify")
    landing = fetch(server.site_url(shopify))[2].decode()
    assert "og:price:currency" not in landing and "Shopify.currency" not in landing
    assert "currency" not in json.loads(fetch(server.site_url(shopify) + "cart.js")[2])
    woo = shop_of(market, "woocommerce")
    targets = set(market.shop_fault_targets(woo, "price_without_currency"))
    for offer_id, offer in _woo_offers(server, woo).items():
        assert (offer["prices"]["currency_code"] == "") == (offer_id in targets)
    jsonld = shop_of(market, "jsonld")
    targets = set(market.shop_fault_targets(jsonld, "price_without_currency"))
    assert targets
    for sku, offer in _jsonld_offers(server, jsonld).items():
        assert ("priceCurrency" not in offer) == (sku in targets)
    cards_shop = shop_of(market, "cards")
    shop = market.shop(cards_shop)
    targets = set(market.shop_fault_targets(cards_shop, "price_without_currency"))
    truth = {row["site_offer_id"]: row for row in market.shop_offers(cards_shop)}
    for offer_id, card in _card_offers(server, cards_shop).items():
        amount = card.xpath('.//span[@class="amount"]/text()')[0]
        expected = shop.money(truth[offer_id]["price"], symbol=offer_id not in targets)
        assert amount == expected


def test_unreadable_quantity(served: Any) -> None:
    market, server = served
    for kind in ("shopify", "woocommerce", "jsonld", "cards"):
        market.inject_fault(shop_of(market, kind), "unreadable_quantity")
    shopify = shop_of(market, "shopify")
    [target] = market.shop_fault_targets(shopify, "unreadable_quantity")
    assert _shopify_variants(server, shopify)[target]["title"] == UNREADABLE_QUANTITY
    woo = shop_of(market, "woocommerce")
    [target] = market.shop_fault_targets(woo, "unreadable_quantity")
    offer = _woo_offers(server, woo)[target]
    assert UNREADABLE_QUANTITY in (offer["name"] if offer["type"] == "simple" else offer["variation"])
    jsonld = shop_of(market, "jsonld")
    [target] = market.shop_fault_targets(jsonld, "unreadable_quantity")
    row = next(r for r in market.shop_offers(jsonld) if r["site_offer_id"] == target)
    if market.shop(jsonld).products[row["product"]].jsonld_shape == "single":
        # one package per page: the quantity is the Product's name
        page = fetch(f"{server.site_url(jsonld)}product/{row['product']}-{row['quantity']}")[2]
        assert f'"name": "{UNREADABLE_QUANTITY}"' in page.decode()
    else:
        assert _jsonld_offers(server, jsonld)[target]["name"] == UNREADABLE_QUANTITY
    cards_shop = shop_of(market, "cards")
    [target] = market.shop_fault_targets(cards_shop, "unreadable_quantity")
    card = _card_offers(server, cards_shop)[target]
    assert card.xpath('.//div[@class="package-quantity"]')[0].text_content() == UNREADABLE_QUANTITY


def test_endless_pagination(served: Any) -> None:
    market, server = served
    shopify, woo, cards_shop = (shop_of(market, k) for k in ("shopify", "woocommerce", "cards"))
    for shop_id in (shopify, woo, cards_shop):
        market.inject_fault(shop_id, "endless_pagination", day=0)
    for page in (1, 2, 50, 9000):
        body = fetch(f"{server.site_url(shopify)}products.json?limit=2&page={page}")[2]
        assert json.loads(body)["products"], page
        status, headers, body = fetch(
            f"{server.site_url(woo)}wp-json/wc/store/v1/products?per_page=2&page={page}"
        )
        assert status == 200 and json.loads(body) and headers["X-WP-TotalPages"] == "9999"
    page = fetch(server.site_url(cards_shop) + "?page=41")[2].decode()
    assert 'rel="next" href="?page=42"' in page
    market.advance()
    assert json.loads(fetch(f"{server.site_url(shopify)}products.json?limit=2&page=50")[2]) == {
        "products": []
    }


def test_offsite_redirect(served: Any) -> None:
    market, server = served
    cards_shop, shopify = shop_of(market, "cards"), shop_of(market, "shopify")
    market.inject_fault(cards_shop, "offsite_redirect")
    market.inject_fault(shopify, "offsite_redirect")
    targets = market.shop_fault_targets(cards_shop, "offsite_redirect")
    product = targets[0].split("/")[0]
    status, headers, _ = fetch(f"{server.site_url(cards_shop)}buy/{product}")
    assert status == 302
    assert headers["Location"] == f"http://localhost:{server.port}/s/{cards_shop}/buy/{product}"
    assert set(_card_offers(server, cards_shop)) == {
        row["site_offer_id"] for row in market.shop_offers(cards_shop)
    } - set(targets)
    assert fetch(f"{server.site_url(shopify)}products.json?limit=2&page=1")[0] == 200
    status, headers, _ = fetch(f"{server.site_url(shopify)}products.json?limit=2&page=2")
    assert status == 302 and headers["Location"].startswith(f"http://localhost:{server.port}/")


def test_broken_jsonld_breaks_every_block(served: Any) -> None:
    market, server = served
    shop_id = shop_of(market, "jsonld")
    market.inject_fault(shop_id, "broken_jsonld", day=0)
    root = server.site_url(shop_id)
    links = lxml.html.fromstring(fetch(root)[2]).xpath('//a[@class="product-link"]/@href')
    for path in ["", *links]:
        scripts = lxml.html.fromstring(fetch(root + path)[2]).xpath(
            '//script[@type="application/ld+json"]'
        )
        assert scripts
        for script in scripts:
            with pytest.raises(json.JSONDecodeError):
                json.loads(script.text)
    assert _jsonld_offers(server, shop_id) == {}
    market.advance()
    assert len(_jsonld_offers(server, shop_id)) == len(market.shop_offers(shop_id))


def test_empty_list_on_shops(served: Any) -> None:
    market, server = served
    shopify, woo = shop_of(market, "shopify"), shop_of(market, "woocommerce")
    market.inject_fault(shopify, "empty_list")
    market.inject_fault(woo, "empty_list")
    assert json.loads(fetch(server.site_url(shopify) + "products.json")[2]) == {"products": []}
    status, headers, body = fetch(server.site_url(woo) + "wp-json/wc/store/v1/products")
    assert json.loads(body) == [] and headers["X-WP-Total"] == "0"
