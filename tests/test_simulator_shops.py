"""The simulated retail shops and directories, read through real HTTP from a running server.

Every family is read the way its crawler will read it (products.json paging, Store API paging,
JSON-LD blocks one by one, package cards, the JavaScript shell) and compared with the ground
truth (``market.shop_offers``), so a served price that drifts from the truth fails here.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections import Counter
from decimal import Decimal
from typing import Any

import lxml.html
import pytest

from simulator import calibration as cal
from simulator import shops as shop_model
from simulator.directories import DIRECTORY_IDS
from simulator.market import Market, usd_per_unit
from simulator.server import SimulatorServer
from tests.simulated import fetch

SELLER_LINK = re.compile(r"^http://127\.0\.0\.1:\d+/s/([a-z0-9-]+)/$")


def fetch_json(url: str) -> tuple[Any, dict[str, str]]:
    status, headers, body = fetch(url)
    assert status == 200, (url, status, body[:200])
    return json.loads(body), headers


@pytest.fixture(scope="module")
def served() -> Any:
    market = Market(seed=42)
    server = SimulatorServer(market).start()
    yield market, server
    server.stop()


def shops_of(market: Market, kind: str) -> list[str]:
    return [shop_id for shop_id, shop in market.shops.items() if shop.kind == kind]


def truth_by_id(market: Market, shop_id: str) -> dict[str, dict[str, Any]]:
    return {row["site_offer_id"]: row for row in market.shop_offers(shop_id)}


def ld_blocks(page: str) -> tuple[list[Any], int]:
    """(parsed JSON-LD blocks, number of blocks that are not valid JSON)."""
    document = lxml.html.fromstring(page)
    parsed, invalid = [], 0
    for script in document.xpath('//script[@type="application/ld+json"]'):
        try:
            parsed.append(json.loads(script.text))
        except json.JSONDecodeError:
            invalid += 1
    return parsed, invalid


# --- the plan --------------------------------------------------------------------------------


def test_default_shops_follow_the_plan(served: Any) -> None:
    market, _ = served
    assert list(market.shops) == [f"shop-{n:02d}" for n in range(1, 11)]
    assert [shop.kind for shop in market.shops.values()] == list(shop_model.SHOP_PLAN)
    assert {shop.currency for shop in market.shops.values()} == {"USD", "EUR", "GBP", "BRL"}
    assert Counter(shop.currency for shop in market.shops.values())["USD"] >= 5
    unlisted = [shop_id for shop_id, shop in market.shops.items() if not shop.in_config]
    assert len(unlisted) == 3 and all(shop_id >= "shop-06" for shop_id in unlisted)
    exported = {entry["id"]: entry for entry in market.sites_config("http://127.0.0.1:1")}
    for shop_id, shop in market.shops.items():
        assert (shop_id in exported) == shop.in_config
        if shop.in_config:
            assert exported[shop_id]["family"] == shop_model.CONFIG_FAMILY[shop.kind]
            assert exported[shop_id]["currency"] == shop.currency
            assert exported[shop_id]["url"] == f"http://127.0.0.1:1/s/{shop_id}/"


def test_products_tiers_and_retail_markups(served: Any) -> None:
    market, _ = served
    compare_at_seen = 0
    for shop_id, shop in market.shops.items():
        products = shop.active_products()
        assert 5 <= len(products) <= 15, shop_id
        upstream = market.site(shop.upstream_id)
        for product in products:
            assert 3 <= len(product.tiers) <= 8
            quantities = [tier.quantity for tier in product.tiers]
            prices = [tier.price for tier in product.tiers]
            assert quantities == sorted(set(quantities)) and prices == sorted(set(prices))
            service = upstream.services[product.upstream_service_id]
            assert (service.platform, service.metric) == (product.platform, product.metric)
            upstream_usd = shop_model.usd_rate_per_1000(upstream, service)
            fx = Decimal(str(cal.PANEL_FX_PER_USD[shop.currency]))
            for tier in product.tiers:
                markup = tier.price / fx / (upstream_usd * tier.quantity / 1000)
                assert Decimal("2.4") <= markup <= Decimal("12"), (shop_id, product.slug, markup)
                cents = tier.price % 1
                assert cents in {Decimal(0), Decimal("0.99"), Decimal("0.90")}, tier.price
                if tier.compare_at is not None:
                    compare_at_seen += 1
                    assert Decimal("1.1") <= tier.compare_at / tier.price <= Decimal("1.6")
    assert compare_at_seen > 20


@pytest.mark.parametrize(
    ("value", "currency", "whole", "expected"),
    [
        ("12.99", "USD", False, "$12.99"),
        ("1299.99", "USD", False, "$1,299.99"),
        ("27", "USD", True, "$27"),
        ("12.99", "EUR", False, "12,99 €"),
        ("1079.99", "EUR", False, "1.079,99 €"),
        ("29.90", "BRL", False, "R$ 29,90"),
        ("9.99", "GBP", False, "£9.99"),
    ],
)
def test_money_conventions(value: str, currency: str, whole: bool, expected: str) -> None:
    assert shop_model.money_text(Decimal(value), currency, whole=whole) == expected


@pytest.mark.parametrize(
    ("quantity", "style", "expected"),
    [
        (1000, "plain", "1000"),
        (1000, "comma", "1,000"),
        (1000, "short_upper", "1K"),
        (1500, "short_lower", "1.5k"),
        (10000, "space", "10 000"),
        (1_000_000, "short_upper", "1M"),
        (1_000_000, "short_lower", "1M"),
        (500, "short_upper", "500"),
    ],
)
def test_quantity_styles(quantity: int, style: str, expected: str) -> None:
    assert shop_model.quantity_text(quantity, style) == expected


# --- Shopify ---------------------------------------------------------------------------------


@pytest.mark.parametrize("listing", ["products.json", "collections/all/products.json"])
def test_shopify_products_json_pages_to_an_empty_list(served: Any, listing: str) -> None:
    market, server = served
    for shop_id in shops_of(market, "shopify"):
        seen: dict[str, dict[str, Any]] = {}
        pages = 0
        for page in range(1, 50):
            payload, _ = fetch_json(f"{server.site_url(shop_id)}{listing}?limit=2&page={page}")
            if not payload["products"]:
                break
            pages += 1
            assert len(payload["products"]) <= 2
            for product in payload["products"]:
                assert {"id", "title", "handle", "product_type", "tags", "variants", "options"} <= set(product)
                assert product["options"][0]["name"] == "Quantity"
                assert product["options"][0]["values"] == [v["title"] for v in product["variants"]]
                for variant in product["variants"]:
                    assert variant["option1"] == variant["title"]
                    assert variant["available"] is True
                    seen[str(variant["id"])] = variant
        truth = truth_by_id(market, shop_id)
        assert pages == -(-len(market.shop(shop_id).active_products()) // 2)
        assert set(seen) == set(truth)
        for offer_id, variant in seen.items():
            row = truth[offer_id]
            assert Decimal(variant["price"]) == row["price"]
            assert re.fullmatch(r"\d+\.\d\d", variant["price"])
            compare = variant["compare_at_price"]
            assert (None if compare is None else Decimal(compare)) == row["compare_at_price"]
            assert variant["title"] == row["quantity_text"]


def test_shopify_currency_lives_in_the_page_and_cart(served: Any) -> None:
    market, server = served
    for shop_id in shops_of(market, "shopify"):
        shop = market.shop(shop_id)
        _, _, landing = fetch(server.site_url(shop_id))
        page = landing.decode()
        assert f'Shopify.currency = {{"active":"{shop.currency}","rate":"1.0"}};' in page
        assert f'<meta property="og:price:currency" content="{shop.currency}">' in page
        assert "cdn.shopify.com" in page and f'Shopify.shop = "{shop.handle}.myshopify.com"' in page
        cart, _ = fetch_json(f"{server.site_url(shop_id)}cart.js")
        assert cart["currency"] == shop.currency and cart["items"] == []
        products, _ = fetch_json(f"{server.site_url(shop_id)}products.json")
        assert shop.currency not in json.dumps(products)  # never in products.json


# --- WooCommerce -----------------------------------------------------------------------------


def _woo_pages(url: str, per_page: int, extra: str = "") -> tuple[list[Any], list[dict[str, str]]]:
    items, headers_seen = [], []
    page = 1
    while True:
        payload, headers = fetch_json(f"{url}?per_page={per_page}&page={page}{extra}")
        headers_seen.append(headers)
        if not payload:
            break
        items.extend(payload)
        page += 1
        assert page < 100
    return items, headers_seen


def test_woocommerce_store_api_pages_headers_and_minor_units(served: Any) -> None:
    market, server = served
    kinds_seen: Counter[str] = Counter()
    for shop_id in shops_of(market, "woocommerce"):
        shop = market.shop(shop_id)
        api = f"{server.site_url(shop_id)}wp-json/wc/store/v1/products"
        products, headers = _woo_pages(api, 3)
        total = int(headers[0]["X-WP-Total"])
        assert total == len(products)
        assert int(headers[0]["X-WP-TotalPages"]) == -(-total // 3) == len(headers) - 1
        variations, _ = _woo_pages(api, 4, "&type=variation")
        truth = truth_by_id(market, shop_id)
        seen: dict[str, tuple[dict[str, Any], str]] = {}
        for product in products:
            kinds_seen[product["type"]] += 1
            prices = product["prices"]
            assert prices["currency_code"] == shop.currency
            assert prices["currency_minor_unit"] in (0, 2)
            if product["type"] == "simple":
                seen[str(product["id"])] = (prices, product["name"])
                assert product["variations"] == []
            else:
                assert product["type"] == "variable"
                assert prices["price_range"] is not None
                assert {v["id"] for v in product["variations"]} <= {v["id"] for v in variations}
        for variation in variations:
            assert variation["type"] == "variation" and variation["parent"]
            label = variation["variation"].removeprefix("Quantity: ")
            assert variation["attributes"] == [{"name": "Quantity", "value": label}]
            seen[str(variation["id"])] = (variation["prices"], label)
        assert set(seen) == set(truth)
        for offer_id, (prices, label) in seen.items():
            row = truth[offer_id]
            scale = Decimal(10) ** prices["currency_minor_unit"]
            assert re.fullmatch(r"\d+", prices["price"])
            assert Decimal(prices["price"]) / scale == row["price"]
            regular = Decimal(prices["regular_price"]) / scale
            assert regular == (row["compare_at_price"] or row["price"])
            assert label == row["quantity_text"]
    assert kinds_seen["simple"] and kinds_seen["variable"]


def test_woocommerce_landing_fingerprints(served: Any) -> None:
    market, server = served
    page = fetch(server.site_url(shops_of(market, "woocommerce")[0]))[2].decode()
    assert "/wp-content/plugins/woocommerce/" in page
    assert re.search(r'<meta name="generator" content="WooCommerce 8\.\d+\.\d+">', page)
    assert re.search(r'<body class="[^"]*\bwoocommerce\b', page)


# --- JSON-LD storefront ----------------------------------------------------------------------


def _offers_of(block: Any) -> list[dict[str, Any]]:
    """Every Offer in a JSON-LD payload, whatever the shape."""
    found: list[dict[str, Any]] = []
    if isinstance(block, list):
        for item in block:
            found.extend(_offers_of(item))
    elif isinstance(block, dict):
        if block.get("@type") == "Offer":
            found.append(block)
        for key, value in block.items():
            if key != "priceSpecification":
                found.extend(_offers_of(value))
    return found


def test_jsonld_shop_pages_carry_every_shape(served: Any) -> None:
    market, server = served
    shapes: Counter[str] = Counter()
    for shop_id in shops_of(market, "jsonld"):
        root = server.site_url(shop_id)
        landing = fetch(root)[2].decode()
        assert ld_blocks(landing)[1] == 1
        links = lxml.html.fromstring(landing).xpath('//a[@class="product-link"]/@href')
        assert links and all(link.startswith("product/") for link in links)
        offers: dict[str, dict[str, Any]] = {}
        for link in links:
            status, _, body = fetch(root + link)
            assert status == 200
            blocks, invalid = ld_blocks(body.decode())
            assert invalid == 1, "exactly one invalid block per page"
            types = {b.get("@type") for b in blocks if isinstance(b, dict)}
            for block in blocks:
                if "@graph" in block:
                    shapes["graph"] += 1
                    assert {"Organization", "BreadcrumbList", "Product"} <= {
                        item["@type"] for item in block["@graph"]
                    }
                elif block.get("@type") == "Product":
                    product_offers = block["offers"]
                    if isinstance(product_offers, list):
                        shapes["offer_list"] += 1
                    elif product_offers["@type"] == "AggregateOffer":
                        shapes["aggregate"] += 1
                        assert product_offers["offers"] and "lowPrice" in product_offers
                    else:
                        shapes["single_offer"] += 1
                    assert {"Organization", "BreadcrumbList"} <= types
            for offer in _offers_of(blocks):
                offers[offer["sku"]] = offer
        truth = truth_by_id(market, shop_id)
        assert set(offers) == set(truth)
        for sku, offer in offers.items():
            assert Decimal(str(offer["price"])) == truth[sku]["price"]
            assert offer["priceCurrency"] == truth[sku]["currency"]
    assert {"graph", "offer_list", "aggregate", "single_offer"} <= set(shapes)


# --- package cards ---------------------------------------------------------------------------


def _cards(page: str) -> dict[str, dict[str, str | None]]:
    document = lxml.html.fromstring(page)
    cards = {}
    for card in document.xpath('//div[contains(@class, "package-card")]'):
        amount = card.xpath('.//span[@class="amount"]/text()')
        compare = card.xpath(".//del/text()")
        cards[card.get("data-package")] = {
            "quantity": card.xpath('.//div[@class="package-quantity"]')[0].text_content(),
            "price": amount[0] if amount else None,
            "compare": compare[0] if compare else None,
            "label": card.xpath(".//h3/text()")[0],
        }
    return cards


def test_card_shops_show_every_quantity_style_and_the_true_prices(served: Any) -> None:
    market, server = served
    quantity_texts = []
    for shop_id in shops_of(market, "cards"):
        shop = market.shop(shop_id)
        root = server.site_url(shop_id)
        landing = fetch(root)[2].decode()
        assert "application/ld+json" not in landing
        links = lxml.html.fromstring(landing).xpath('//a[@class="product-link"]/@href')
        assert links and all(link.startswith("buy/") for link in links)
        cards: dict[str, dict[str, str | None]] = {}
        for link in links:
            page = fetch(root + link)[2].decode()
            assert "application/ld+json" not in page
            assert "Most Popular" in page and "Instant delivery" in page
            assert "30-day refill guarantee" in page
            cards.update(_cards(page))
        truth = truth_by_id(market, shop_id)
        assert set(cards) == set(truth)
        for offer_id, card in cards.items():
            row = truth[offer_id]
            assert card["price"] == shop.money(row["price"])
            expected_compare = row["compare_at_price"]
            assert card["compare"] == (None if expected_compare is None else shop.money(expected_compare))
            assert card["quantity"] == row["quantity_text"]
            quantity_texts.append(card["quantity"])
    joined = "\n".join(quantity_texts)
    for pattern in (r"\b\d,\d{3} \w", r"\b\d+K\b", r"\b\d+\.\dk\b", r"\b\d+ \d{3} \w", r"\b\d+M\b"):
        assert re.search(pattern, joined), pattern


# --- the JavaScript-only shop ----------------------------------------------------------------


def _price_patterns(shop: shop_model.Shop, rows: list[dict[str, Any]]) -> list[re.Pattern[str]]:
    """Every way a true price could be written, bounded so base64 text cannot match by chance."""
    texts = set()
    for row in rows:
        for value in (row["price"], row["compare_at_price"]):
            if value is None:
                continue
            texts.add(shop.money(value))
            texts.add(shop.money(value, symbol=False))
            texts.add(f"{value:.2f}")
    return [re.compile(r"(?<![A-Za-z0-9+/])" + re.escape(text) + r"(?![A-Za-z0-9+/])") for text in texts]


def test_spa_fetched_text_holds_no_price(served: Any) -> None:
    market, server = served
    for shop_id in shops_of(market, "spa"):
        shop = market.shop(shop_id)
        root = server.site_url(shop_id)
        rows = market.shop_offers(shop_id)
        patterns = _price_patterns(shop, rows)
        platforms = sorted({row["platform"] for row in rows})
        fetched = {"/": fetch(root)[2], "app.js": fetch(root + "app.js")[2]}
        for platform in platforms:
            status, _, body = fetch(f"{root}c/{platform}")
            assert status == 200
            fetched[f"c/{platform}"] = body
        for name, body in fetched.items():
            text = body.decode()
            for pattern in patterns:
                assert not pattern.search(text), (name, pattern.pattern)
        shell = fetched["/"].decode()
        assert '<div id="root"></div>' in shell and "<noscript>You need to enable JavaScript" in shell
        assert shell == fetched[f"c/{platforms[0]}"].decode()
        # ... yet the script holds every price, encoded
        encoded = re.search(r'atob\("([A-Za-z0-9+/=]+)"\)', fetched["app.js"].decode()).group(1)
        data = json.loads(base64.b64decode(encoded).decode("utf-8"))
        shown = {card["id"]: card["price"] for p in data["products"] for card in p["cards"]}
        assert shown == {row["site_offer_id"]: shop.money(row["price"]) for row in rows}
        assert len(fetched["app.js"]) < 40_000


def test_spa_prices_appear_once_the_script_runs(served: Any) -> None:
    # The same lookup as the crawler (a clear error naming what to install when there is none;
    # `make test` installs Debian's chromium): never skipped.
    from crawlers.browser import find_chromium

    market, server = served
    shop_id = shops_of(market, "spa")[0]
    shop = market.shop(shop_id)
    rows = market.shop_offers(shop_id)
    platform = rows[0]["platform"]
    result = subprocess.run(
        [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
         f"{server.site_url(shop_id)}c/{platform}"],
        capture_output=True, text=True, timeout=90, check=True,
    )  # fmt: skip
    cards = _cards(result.stdout)
    expected = {row["site_offer_id"]: row for row in rows if row["platform"] == platform}
    assert set(cards) == set(expected)
    for offer_id, card in cards.items():
        assert card["price"] == shop.money(expected[offer_id]["price"])
        assert card["quantity"] == expected[offer_id]["quantity_text"]


# --- common to every shop --------------------------------------------------------------------


def test_every_shop_page_references_assets_the_server_answers(served: Any) -> None:
    market, server = served
    content_types: set[str] = set()
    for shop_id in market.shops:
        root = server.site_url(shop_id)
        status, _, body = fetch(root + "robots.txt")
        assert status == 200 and body == b"User-agent: *\nDisallow:\n"
        page = fetch(root)[2].decode()
        document = lxml.html.fromstring(page)
        base = document.xpath("//base/@href")
        references = document.xpath("//img/@src | //link[@rel='stylesheet' or @rel='preload']/@href")
        assert len(references) >= 2, shop_id
        for reference in references:
            if reference.startswith("http"):
                continue
            url = (
                f"{server.base_url}{reference}"
                if reference.startswith("/")
                else f"{server.base_url}{base[0]}{reference}"
            )
            status, headers, _ = fetch(url)
            assert status == 200, url
            content_types.add(headers["Content-Type"].split(";")[0])
    assert {"text/css", "image/png", "font/woff2"} <= content_types


# --- directories and discovery ---------------------------------------------------------------


def _crawl_directory(server: SimulatorServer, directory_id: str) -> tuple[list[str], set[str], int]:
    """(seller ids in order, other links, pages) following rel=next from page 1."""
    url: str | None = f"{server.base_url}/d/{directory_id}/"
    sellers: list[str] = []
    others: set[str] = set()
    pages = 0
    while url:
        status, _, body = fetch(url)
        assert status == 200
        pages += 1
        document = lxml.html.fromstring(body.decode())
        on_page = []
        for href in document.xpath("//a/@href"):
            match = SELLER_LINK.match(href)
            if match:
                if match.group(1) not in on_page:
                    on_page.append(match.group(1))
            else:
                others.add(href)
        sellers.extend(on_page)
        following = document.xpath('//a[@rel="next"]/@href')
        url = f"{server.base_url}{following[0]}" if following else None
        assert pages < 20
        if url:
            assert 10 <= len(on_page) <= 15
    return sellers, others, pages


def test_directories_paginate_overlap_and_with_partner_links_cover_every_seller(
    served: Any,
) -> None:
    market, server = served
    truth = market.ground_truth()["discovery"]
    every_seller = set(market.sites) | set(market.shops)
    listed: dict[str, set[str]] = {}
    for directory_id in DIRECTORY_IDS:
        sellers, others, pages = _crawl_directory(server, directory_id)
        assert pages >= 2 and pages == truth["directories"][directory_id]["pages"]
        assert len(sellers) == len(set(sellers))
        assert sellers == truth["directories"][directory_id]["sites"]
        listed[directory_id] = set(sellers)
        assert every_seller - set(sellers), f"{directory_id} must miss some sellers"
        # the non-seller links answer, and are not sellers
        assert any("advertise" in link for link in others)
        other_directory = next(d for d in DIRECTORY_IDS if d != directory_id)
        assert f"/d/{other_directory}/" in others
        for link in others:
            if link.startswith("/d/") and "?" not in link:
                assert fetch(f"{server.base_url}{link}")[0] == 200, link
    first, second = listed.values()
    assert first & second and first ^ second, "directories overlap but differ"
    partner_links: set[str] = set()
    for seller in every_seller:
        page = fetch(server.site_url(seller))[2].decode()
        for href in lxml.html.fromstring(page).xpath('//div[@class="partners"]//a/@href'):
            match = SELLER_LINK.match(href)
            assert match, href
            partner_links.add(match.group(1))
    union = first | second
    assert union | partner_links == every_seller
    assert every_seller - union, "some sellers are only reachable through partner links"
    assert sorted(every_seller - union) == truth["only_via_seller_links"]
    assert {(link["from"], link["to"]) for link in truth["seller_links"]} >= {
        (s, t) for s in every_seller for t in market.discovery.partners.get(s, [])
    }
    assert truth["not_in_config"] == sorted(
        shop_id for shop_id, shop in market.shops.items() if not shop.in_config
    )


def test_directory_pages_out_of_range_and_unknown(served: Any) -> None:
    _, server = served
    assert fetch(f"{server.base_url}/d/smmlist/?page=99")[0] == 404
    assert fetch(f"{server.base_url}/d/nolist/")[0] == 404
    assert fetch(f"{server.base_url}/d/smmlist/nothing")[0] == 404
    status, _, body = fetch(f"{server.base_url}/")
    assert status == 200 and b"/s/panel-01/" in body


# --- truth, clock, determinism ---------------------------------------------------------------


def test_shop_offers_convert_with_the_panels_usd_rate(served: Any) -> None:
    market, _ = served
    for shop_id in market.shops:
        for row in market.shop_offers(shop_id):
            usd, _ = usd_per_unit(row["currency"], market.today)
            expected = row["price"] / row["quantity"] * 1000 * usd
            assert abs(row["usd_per_1000"] - expected) <= Decimal("0.000001")
            assert isinstance(row["quantity"], int) and row["quantity_text"]


def test_ground_truth_has_shops_and_discovery(served: Any) -> None:
    market, _ = served
    truth = json.loads(json.dumps(market.ground_truth()))
    assert truth["seller_count"] == len(market.sites) + len(market.shops) == 34
    for shop_id, shop_truth in truth["shops"].items():
        assert {"family", "currency", "in_config", "upstream", "markup", "offers"} <= set(shop_truth)
        assert shop_truth["upstream"] in market.sites
        today = shop_truth["offers"][market.today.isoformat()]
        assert [row["site_offer_id"] for row in today] == [
            row["site_offer_id"] for row in market.shop_offers(shop_id)
        ]
        assert {"price", "compare_at_price", "quantity", "currency", "usd_per_1000", "platform",
                "metric"} <= set(today[0])  # fmt: skip
    assert set(truth["discovery"]["sellers"]) == set(market.seller_ids())


def test_shop_prices_follow_their_upstream_over_days() -> None:
    market = Market(seed=7, n_panels=8)
    start = {shop_id: market.shop_offers(shop_id) for shop_id in market.shops}
    market.advance(25)
    changed, appeared_or_vanished = 0, 0
    for shop_id, shop in market.shops.items():
        upstream = market.site(shop.upstream_id)
        for product in shop.active_products():
            service = upstream.services[product.upstream_service_id]
            if service.active:
                moved = abs(
                    shop_model.usd_rate_per_1000(upstream, service) / product.basis_usd_per_1000 - 1
                )
                assert moved <= shop_model.REPRICE_THRESHOLD
        before = {row["site_offer_id"]: row["price"] for row in start[shop_id]}
        after = {row["site_offer_id"]: row["price"] for row in market.shop_offers(shop_id)}
        changed += sum(before[key] != after[key] for key in before.keys() & after.keys())
        appeared_or_vanished += len(before.keys() ^ after.keys())
        for day in range(market.day + 1):
            assert market.shop_offers(shop_id, day)  # history is kept per day
    assert changed > 0 and appeared_or_vanished > 0


def test_same_seed_same_shops_and_panels_unchanged_by_shops() -> None:
    first, second = Market(seed=5, n_panels=6), Market(seed=5, n_panels=6)
    first.advance(3)
    second.advance(3)
    one, two = first.ground_truth(), second.ground_truth()
    assert json.dumps(one["shops"], sort_keys=True) == json.dumps(two["shops"], sort_keys=True)
    assert one["discovery"] == two["discovery"]
    without = Market(seed=5, n_panels=6, n_shops=0)
    without.advance(3)
    for site_id in without.sites:
        for day in range(4):
            assert without.prices(site_id, day) == first.prices(site_id, day)
    assert Market(seed=6, n_panels=6).ground_truth()["shops"] != Market(
        seed=5, n_panels=6
    ).ground_truth()["shops"]


def test_served_pages_are_identical_for_the_same_seed() -> None:
    bodies = []
    for _ in range(2):
        market = Market(seed=3, n_panels=4)
        market.advance(2)
        with SimulatorServer(market) as server:
            pages = []
            for shop_id, shop in market.shops.items():
                path = {"shopify": "products.json", "woocommerce": "wp-json/wc/store/v1/products",
                        "spa": "app.js"}.get(shop.kind, "")  # fmt: skip
                body = fetch(server.site_url(shop_id) + path)[2]
                pages.append(body.replace(server.base_url.encode(), b"BASE"))
            bodies.append(pages)
    assert bodies[0] == bodies[1]


def test_small_market_still_covers_the_families() -> None:
    market = Market(seed=1, n_panels=2, n_shops=5)
    assert [shop.kind for shop in market.shops.values()] == list(shop_model.SHOP_PLAN[:5])
    assert all(shop.in_config for shop in market.shops.values())
    assert all(market.shop_offers(shop_id) for shop_id in market.shops)
    assert Market(seed=1, n_panels=2, n_shops=0).shops == {}
