"""Shopify: products.json variants and the shop currency, on fixtures shaped like real shops
(FORMATS.md §4; options named "Quantity", "Amount", "Package"; a "Default Title" variant)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from clickfarm.extract_file import extract_file
from crawlers.extract.shopify import extract_products_json, product_count, shop_currency
from crawlers.items import ExtractError

FIXTURES = Path(__file__).parent / "fixtures" / "retail"
OBSERVED = datetime(2026, 5, 4, tzinfo=UTC)


@pytest.mark.parametrize(("text", "currency"), [
    ((FIXTURES / "shopify_landing.html").read_text(), "EUR"),
    ((FIXTURES / "shopify_cart.js").read_text(), "CAD"),
    ('<meta property="og:price:currency" content="gbp">', "GBP"),
    ('<script type="application/ld+json">{"offers": {"priceCurrency": "BRL"}}</script>', "BRL"),
    ('Shopify.currency = {"active":"USD","rate":"1.0"};', "USD"),
    ("<html><body>no currency here</body></html>", None),
    ('{"items": [], "token": "x"}', None),
], ids=["landing", "cart.js", "og-meta", "json-ld", "shopify-object", "none", "cart-without"])
def test_shop_currency(text, currency):
    assert shop_currency(text) == currency


# variant id -> (name, quantity as seen, price, compare-at, available, category)
EXPECTED_VARIANTS = {
    "41001": ("Instagram Followers - 100 Followers", "100 Followers", "2.99", None, True, "Instagram"),
    "41002": ("Instagram Followers - 1,000 Followers", "1,000 Followers", "12.99", "15.99", True,
              "Instagram"),
    "41003": ("Instagram Followers - 10K Followers", "10K Followers", "99.00", None, False,
              "Instagram"),
    "41011": ("TikTok Likes - Fast / 1.5K", "1.5K", "7.490", None, True, "TikTok"),
    "41012": ("TikTok Likes - Fast / 10 000", "10 000", "39.900", "49.900", True, "TikTok"),
    "41021": ("5000 YouTube Views", "5000 YouTube Views", "19.00", None, True, None),
    "41031": ("Twitter Followers - 2.5K Followers", "2.5K Followers", "24.00", None, True, "Twitter"),
    "41032": ("Twitter Followers - Mega pack", "Mega pack", "199.00", None, True, "Twitter"),
}


@pytest.fixture(scope="module")
def products():
    return extract_products_json((FIXTURES / "shopify_products.json").read_bytes(), currency="EUR")


@pytest.mark.parametrize("variant_id", sorted(EXPECTED_VARIANTS))
def test_one_offer_per_variant_as_seen(products, variant_id):
    offer = next(o for o in products.offers if o.site_offer_id == variant_id)
    assert (offer.name, offer.quantity, offer.price, offer.compare_at_price, offer.available,
            offer.category) == EXPECTED_VARIANTS[variant_id]
    assert (offer.pricing, offer.currency, offer.source) == ("package", "EUR", "shopify")


def test_every_variant_kept_and_product_without_variants_rejected(products):
    assert [o.site_offer_id for o in products.offers] == list(EXPECTED_VARIANTS)
    assert [(r.site_offer_id, r.reason) for r in products.rejected] == [
        ("7005", "product without variants (no price): 'Gift card'")]


def test_without_currency_the_offers_state_none():
    result = extract_products_json((FIXTURES / "shopify_products.json").read_bytes())
    assert {o.currency for o in result.offers} == {None}
    assert "currency is not stated" in result.notes[-1]


def test_empty_page_and_errors():
    empty = (FIXTURES / "shopify_products_empty.json").read_bytes()
    result = extract_products_json(empty)
    assert (result.offers, result.rejected, product_count(empty)) == ([], [], 0)
    with pytest.raises(ExtractError, match="not valid JSON"):
        extract_products_json(b"<html>Page not found</html>")
    with pytest.raises(ExtractError, match="no 'products' list"):
        extract_products_json(b'{"errors": "Not Found"}')


def test_extract_command_normalizes_variants():
    outcome = extract_file((FIXTURES / "shopify_products.json").read_bytes(), family="shopify",
                           url=None, currency="EUR", observed_at=OBSERVED)
    by_id = {offer["site_offer_id"]: offer for offer in outcome.offers}
    assert by_id["41002"]["quantity"] == 1000 and by_id["41002"]["compare_at_price"] == "15.99"
    assert by_id["41002"]["quantity_raw"] == "1,000 Followers"
    assert (by_id["41011"]["quantity"], by_id["41011"]["price"]) == (1500, "7.490")
    assert (by_id["41012"]["quantity"], by_id["41012"]["platform"]) == (10000, "tiktok")
    assert by_id["41021"]["quantity"] == 5000
    assert by_id["41003"]["available"] is False
    assert Decimal(by_id["41002"]["usd_per_1000"]) > Decimal(by_id["41003"]["usd_per_1000"]) / 2
    reasons = {r["site_offer_id"]: r["reason"] for r in outcome.rejections}
    assert reasons == {"7005": "product without variants (no price): 'Gift card'",
                       "41032": "quantity not readable: 'Mega pack'"}


def test_extract_command_reads_the_currency_of_a_landing_page():
    outcome = extract_file((FIXTURES / "shopify_landing.html").read_bytes(), family="shopify",
                           url=None, currency=None, observed_at=OBSERVED)
    assert outcome.error is None and outcome.offers == []
    assert "shop currency EUR" in outcome.notes[0]


def _one_product(options, variants, title="Instagram Followers"):
    import json
    return json.dumps({"products": [{"id": 9, "title": title, "product_type": "Instagram",
                                     "options": [{"name": name, "values": []} for name in options],
                                     "variants": variants}]})


# (price, compare_at_price) as the shop sends them -> (price as seen, compare-at kept)
COMPARE_AT_CASES = [
    (12.99, 15.99, "12.99", "15.99"),        # JSON numbers instead of strings
    ("29.00", "0.00", "29.00", None),        # Shopify's "no compare-at price"
    ("49.00", "49.00", "49.00", None),       # equal: themes show no struck price
    ("49.00", "39.00", "49.00", None),       # below the price: not a compare-at price either
    ("1299", None, "1299", None),
    ("9.99", "", "9.99", None),
]


@pytest.mark.parametrize(("price", "compare_at", "expected_price", "expected_compare_at"),
                         COMPARE_AT_CASES, ids=[str(case[1]) + "-vs-" + str(case[0])
                                                for case in COMPARE_AT_CASES])
def test_compare_at_price_only_when_above_the_price(price, compare_at, expected_price,
                                                    expected_compare_at):
    body = _one_product(["Quantity"], [{"id": 1, "title": "1000 Followers",
                                        "option1": "1000 Followers", "price": price,
                                        "compare_at_price": compare_at}])
    offer = extract_products_json(body, currency="USD").offers[0]
    assert (offer.price, offer.compare_at_price) == (expected_price, expected_compare_at)


# (product title, option names, option values, variant title) -> package size as normalized
QUANTITY_CASES = [
    # the size option named in words other than "Quantity", beside an option with a number
    ("Instagram Followers", ["Followers Amount", "Bonus"], ["1000", "+100 Likes"],
     "1000 / +100 Likes", 1000),
    ("Instagram Followers", ["Bonus", "Number of Followers"], ["+100 Likes", "2,500"],
     "+100 Likes / 2,500", 2500),
    ("TikTok Likes", ["Select Package", "Delivery"], ["5K Likes", "Drip 2 days"],
     "5K Likes / Drip 2 days", 5000),
    # the size in the product title, the variants only choose a speed
    ("500 YouTube Views", ["Speed"], ["Fast"], "Fast", 500),
    ("1,000 Instagram Followers", ["Delivery", "Quality"], ["Instant", "Real"],
     "Instant / Real", 1000),
    # a year in the title is no size: the unreadable variant is rejected, not sized 2026
    ("Instagram Followers 2026", ["Package"], ["Mega pack"], "Mega pack", None),
]


@pytest.mark.parametrize(("title", "options", "values", "variant_title", "quantity"),
                         QUANTITY_CASES, ids=[case[3] for case in QUANTITY_CASES])
def test_package_size_from_the_right_option_or_the_product_title(title, options, values,
                                                                 variant_title, quantity):
    from pipelines.normalize import normalize_offer

    variant = {"id": 1, "title": variant_title, "price": "9.99"}
    variant.update({f"option{index}": value for index, value in enumerate(values, 1)})
    offer = extract_products_json(_one_product(options, [variant], title=title),
                                  currency="USD").offers[0]
    normalized = normalize_offer(offer, site_currency="USD", observed_at=OBSERVED)
    if quantity is None:
        assert normalized.reason == f"quantity not readable: {variant_title!r}"
    else:
        assert getattr(normalized, "quantity", normalized) == quantity
