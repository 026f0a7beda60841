"""WooCommerce Store API: simple and variable products, variations, prices in minor units
(``currency_minor_unit`` 0, 2 and 3), on fixtures shaped like real responses (FORMATS.md §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from clickfarm.extract_file import extract_file
from crawlers.extract.woocommerce import (
    extract_store_products,
    load_records,
    minor_units_to_decimal,
    variable_product_count,
)
from crawlers.items import ExtractError

FIXTURES = Path(__file__).parent / "fixtures" / "retail"
OBSERVED = datetime(2026, 5, 4, tzinfo=UTC)
PRODUCTS = (FIXTURES / "woocommerce_products.json").read_bytes()
VARIATIONS = (FIXTURES / "woocommerce_variations.json").read_bytes()


@pytest.mark.parametrize(("amount", "unit", "expected"), [
    ("2999", 2, "29.99"), ("2990", 2, "29.90"), ("12990", 3, "12.990"), ("1500", 0, "1500"),
    ("99", 2, "0.99"), ("5", 2, "0.05"), (2999, "2", "29.99"), ("0", 2, "0.00")])
def test_minor_units(amount, unit, expected):
    assert minor_units_to_decimal(amount, unit) == expected


@pytest.mark.parametrize(("amount", "unit"), [("29.99", 2), ("abc", 2), ("100", None),
                                              ("100", 12), ("100", True)])
def test_bad_minor_units(amount, unit):
    with pytest.raises(ValueError):
        minor_units_to_decimal(amount, unit)


# id -> (name, quantity as seen, price, currency, compare-at, available, category)
EXPECTED = {
    "101": ("1000 Seguidores Instagram", "1000 Seguidores Instagram", "29.90", "BRL", None, True,
            "Instagram"),
    "102": ("5.000 Seguidores Instagram", "5.000 Seguidores Instagram", "119.90", "BRL", "149.90",
            False, "Instagram"),
    "111": ("Curtidas Instagram - Quantity: 500 Curtidas", "500 Curtidas", "9.90", "BRL", None, True,
            "Instagram"),
    "112": ("Curtidas Instagram - Quantity: 1K Curtidas", "1K Curtidas", "16.90", "BRL", "19.90",
            True, "Instagram"),
    "113": ("Curtidas Instagram - Quantity: 10 000 Curtidas", "10 000 Curtidas", "89.90", "BRL",
            None, False, "Instagram"),
    "121": ("Visualizações Reels - Pacote: 1000 Visualizações", "1000 Visualizações", "4.90", "BRL",
            None, True, None),
}


@pytest.fixture(scope="module")
def joined():
    return extract_store_products(PRODUCTS, variations=VARIATIONS)


@pytest.mark.parametrize("record_id", sorted(EXPECTED))
def test_simple_products_and_variations(joined, record_id):
    offer = next(o for o in joined.offers if o.site_offer_id == record_id)
    assert (offer.name, offer.quantity, offer.price, offer.currency, offer.compare_at_price,
            offer.available, offer.category) == EXPECTED[record_id]
    assert (offer.pricing, offer.source) == ("package", "woocommerce")


def test_missing_variation_is_a_rejection_not_a_silent_drop(joined):
    assert sorted(o.site_offer_id for o in joined.offers) == sorted(EXPECTED)
    assert [(r.site_offer_id, r.reason) for r in joined.rejected] == [
        ("122", "variations missing: variation 122 of variable product 'Visualizações Reels' "
                "(Pacote: 5000 Visualizações) is not in the type=variation list")]
    assert joined.currency == "BRL"


def test_variations_not_fetched_reject_every_variation():
    result = extract_store_products(PRODUCTS)
    assert sorted(o.site_offer_id for o in result.offers) == ["101", "102"]
    assert sorted(r.site_offer_id for r in result.rejected) == ["111", "112", "113", "121", "122"]
    assert all("variations missing" in r.reason for r in result.rejected)
    assert variable_product_count(PRODUCTS) == 2


def test_variation_list_alone_and_records_of_several_pages():
    alone = extract_store_products(VARIATIONS)
    assert [o.site_offer_id for o in alone.offers] == ["111", "112", "113", "121"]
    records = load_records(PRODUCTS) + load_records(VARIATIONS)
    combined = extract_store_products(records)
    assert sorted(o.site_offer_id for o in combined.offers) == sorted(EXPECTED)


def test_minor_unit_currencies_and_bad_records():
    result = extract_store_products((FIXTURES / "woocommerce_minor_units.json").read_bytes())
    assert [(o.site_offer_id, o.price, o.currency, o.compare_at_price) for o in result.offers] == [
        ("301", "1500", "JPY", None), ("302", "12.990", "KWD", None),
        ("303", "12.99", "USD", "15.99"), ("304", "99.00", "USD", None)]
    assert [(r.site_offer_id, r.reason) for r in result.rejected] == [
        ("305", "no price: '500 TikTok Views'")]


@pytest.mark.parametrize(("body", "message"), [
    ((FIXTURES / "woocommerce_error.json").read_bytes(), "Store API error: rest_no_route"),
    (b"<!doctype html><title>Maintenance</title>", "not valid JSON"),
    (b'"products"', "not a Store API product list"),
])
def test_whole_response_errors(body, message):
    with pytest.raises(ExtractError, match=message):
        extract_store_products(body)


def test_extract_command_normalizes_minor_units():
    outcome = extract_file((FIXTURES / "woocommerce_minor_units.json").read_bytes(),
                           family="woocommerce", url=None, currency=None, observed_at=OBSERVED)
    by_id = {offer["site_offer_id"]: offer for offer in outcome.offers}
    assert (by_id["301"]["price"], by_id["301"]["quantity"], by_id["301"]["currency"]) == (
        "1500", 1500, "JPY")
    assert (by_id["302"]["price"], by_id["302"]["currency"]) == ("12.990", "KWD")
    assert by_id["303"]["compare_at_price"] == "15.99" and by_id["303"]["quantity"] == 1000
    assert Decimal(by_id["303"]["usd_per_1000"]) == Decimal("12.990000")
    reasons = {r["site_offer_id"]: r["reason"] for r in outcome.rejections}
    assert reasons == {"304": "quantity not readable: 'TikTok Followers Mega pack'",
                       "305": "no price: '500 TikTok Views'"}


def _store_record(record_id, name, price, regular, *, kind="simple", **extra):
    return {"id": record_id, "name": name, "type": kind, "is_in_stock": True,
            "prices": {"price": price, "regular_price": regular, "sale_price": price,
                       "currency_code": "USD", "currency_minor_unit": 2}, **extra}


# (price, regular_price) in minor units -> compare-at price kept
REGULAR_PRICE_CASES = [
    ("1299", "1599", "15.99"),   # on sale
    ("1299", "1299", None),      # not on sale
    ("1299", 1299, None),        # a number instead of a string
    ("1299", "0", None),         # no regular price set
    ("1299", "999", None),       # below the price: not a compare-at price
    ("1299", "", None),
]


@pytest.mark.parametrize(("price", "regular", "compare_at"), REGULAR_PRICE_CASES,
                         ids=[f"{case[0]}-regular-{case[1]!r}" for case in REGULAR_PRICE_CASES])
def test_regular_price_is_a_compare_at_price_only_above_the_price(price, regular, compare_at):
    result = extract_store_products([_store_record(1, "1000 Instagram Followers", price, regular)])
    assert [(o.price, o.compare_at_price) for o in result.offers] == [("12.99", compare_at)]


# (parent name, variation text) -> package size as normalized
VARIATION_QUANTITY_CASES = [
    ("Instagram Followers", "Followers Amount: 1000, Bonus: +100 Likes", 1000),
    ("Instagram Followers", "Bonus: +100 Likes, Number of Followers: 2,500", 2500),
    ("500 YouTube Views", "Speed: Fast", 500),  # the size is in the product's name
    ("Instagram Followers 2026", "Package: Mega pack", None),  # a year is no size
]


@pytest.mark.parametrize(("parent_name", "variation", "quantity"), VARIATION_QUANTITY_CASES,
                         ids=[case[1] for case in VARIATION_QUANTITY_CASES])
def test_variation_size_from_the_right_attribute_or_the_product_name(parent_name, variation,
                                                                      quantity):
    from pipelines.normalize import normalize_offer

    records = [_store_record(5, parent_name, "", "", kind="variable", variations=[{"id": 51}]),
               _store_record(51, parent_name, "999", "999", kind="variation", parent=5,
                             variation=variation)]
    offer = extract_store_products(records).offers[0]
    normalized = normalize_offer(offer, site_currency=None, observed_at=OBSERVED)
    if quantity is None:
        assert normalized.reason.startswith("quantity not readable")
    else:
        assert getattr(normalized, "quantity", normalized) == quantity
