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
