"""Storefronts: JSON-LD shapes (one Offer, a list, an AggregateOffer with nested offers,
``@graph``, ``priceSpecification``, broken blocks) and package cards in several markups
(Bootstrap pricing cards, a WooCommerce shop loop, Elementor price tables, a table and a
``<select>``, the simulator's cards), JavaScript shells and product links."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from clickfarm.extract_file import extract_file
from crawlers.extract.packages import is_price_text, is_quantity_text
from crawlers.extract.storefront import extract_storefront, product_links
from crawlers.items import ExtractError

FIXTURES = Path(__file__).parent / "fixtures" / "retail"
OBSERVED = datetime(2026, 5, 4, tzinfo=UTC)


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def offers_of(name: str) -> list[tuple]:
    result = extract_storefront(read(name), base_url="https://shop.example/")
    return [(o.site_offer_id, o.quantity, o.price, o.currency, o.compare_at_price)
            for o in result.offers]


# fixture -> [(site_offer_id, quantity as seen, price as seen, currency stated, compare-at)]
JSONLD = {
    "jsonld_offer_list_graph.html": [
        ("IGF-100", "100 Followers", "2.99", "USD", None),
        ("IGF-1000", "1,000 Followers", "12.99", "USD", None),
        ("IGF-5000", "5,000 Followers", "49.9", "USD", None),
        ("IGF-10K", "10K Followers", "89.00", "USD", "119.00"),
    ],
    "jsonld_single_offer.html": [
        ("tt-likes-5000", "5000 Likes de TikTok", "19.990", "EUR", None),
    ],
    "jsonld_aggregate_nested.html": [
        ("YTV-1K", "1K Views", "3.50", "GBP", None),
        ("YTV-10K", "10K Views", "29.00", "GBP", None),  # currency stated once, on the aggregate
        ("YTV-100K", "100K Views", "250.00", "GBP", None),
    ],
    "jsonld_bad_products.html": [
        ("TGR-500", "500 Reactions", "4.00", None, None),
        ("TGR-MEGA", "Mega pack", "40.00", "USD", None),
        ("TGM-1000", "1000 Telegram Members", "14.99", "USD", None),
    ],
}


@pytest.mark.parametrize("fixture", sorted(JSONLD))
def test_jsonld_offers(fixture):
    assert offers_of(fixture) == JSONLD[fixture]


def test_offers_sized_by_eligible_quantity_are_distinct_packages():
    """Offers told apart only by ``eligibleQuantity`` (no name, no sku) are distinct packages:
    the size is in their names, so their derived ids differ too."""
    import json

    from pipelines.normalize import normalize_offer

    product = {"@context": "https://schema.org", "@type": "Product", "name": "Instagram Followers",
               "offers": [{"@type": "Offer", "price": price, "priceCurrency": "USD",
                           "eligibleQuantity": {"@type": "QuantitativeValue", "value": size}}
                          for size, price in ((1000, "9.99"), (5000, "39.99"))]}
    page = f'<script type="application/ld+json">{json.dumps(product)}</script>'
    normalized = [normalize_offer(offer, site_currency="USD", observed_at=OBSERVED)
                  for offer in extract_storefront(page).offers]
    assert [(n.name, n.quantity) for n in normalized] == [
        ("Instagram Followers - 1000", 1000), ("Instagram Followers - 5000", 5000)]
    assert len({n.site_offer_id for n in normalized}) == 2


def test_invalid_jsonld_block_is_skipped_with_a_note_and_the_others_read():
    result = extract_storefront(read("jsonld_offer_list_graph.html"))
    assert "JSON-LD block 2 of 3 is not valid JSON (skipped)" in result.notes[0]
    assert len(result.offers) == 4
    assert {o.source for o in result.offers} == {"jsonld"}
    assert result.offers[2].available == "https://schema.org/OutOfStock"


def test_price_range_only_and_products_without_price_are_rejected():
    result = extract_storefront(read("jsonld_bad_products.html"))
    assert [(r.site_offer_id, r.reason) for r in result.rejected] == [
        ("TGM", "price range only: 'Telegram Members' is offered from 9.99 to 149.99 "
                "(an AggregateOffer without per-package offers)"),
        ("TGV", "product without a price (no offers in JSON-LD): 'Telegram Post Views'"),
        ("TGR-1000", "product without a price: 'Telegram Reactions - 1000 Reactions'"),
    ]


CARDS = {
    "cards_bootstrap.html": [
        ("tt-500", "500 Likes", "$4.99", None, None),
        ("tt-1500", "1.5k Likes", "$8.99", None, "$12.99"),
        ("tt-10000", "10 000 Likes", "$24.99", None, None),
    ],
    "cards_woocommerce_loop.html": [
        ("101", "1.000 Seguidores", "R$ 29,90", None, None),
        ("102", "5.000 Seguidores", "R$ 119,90", None, "R$ 149,90"),
        ("103", "10K Seguidores", "R$ 199,90", None, None),
    ],
    "cards_elementor.html": [
        ("7f3a1c2", "1K Views", "€ 4 99", None, None),
        ("7f3a1c3", "10.000 Views", "€ 29 99", None, "€39,99"),
        ("7f3a1c4", "1M Views", "€ 1.499 00", None, None),
    ],
    "cards_table_and_select.html": [
        ("sp-1000", "1,000 Plays", "£2.49", None, None),
        ("sp-5000", "5,000 Plays", "£9.99", None, "£12.00"),
        ("sp-25000", "25K Plays", "£39.99", None, None),
        ("sf-100", "100 Followers", "£1.99", None, None),
        ("sf-500", "500 Followers", "£6.49", None, None),
        ("sf-2500", "2.5K Followers", "£24.99", None, None),
    ],
    "cards_simulated_style.html": [
        (None, "1,000 Followers", "$27", None, "$35"),
        (None, "2,500 Followers", "$59", None, None),
        (None, "4,000 Followers", "$87", None, "$110"),
        (None, "Mega pack", "$199", None, None),  # shaped like a card: kept for its rejection
    ],
}


@pytest.mark.parametrize("fixture", sorted(CARDS))
def test_package_cards(fixture):
    assert offers_of(fixture) == CARDS[fixture]


@pytest.mark.parametrize(("fixture", "names"), [
    ("cards_bootstrap.html", ["Buy TikTok Likes - 500 Likes"]),
    ("cards_elementor.html", ["YouTube Views kaufen - 1K Views"]),
    ("cards_table_and_select.html", ["Spotify Plays - 1,000 Plays",
                                     "Spotify Followers - 100 Followers"]),
])
def test_card_names_carry_the_heading_above_them(fixture, names):
    found = [o.name for o in extract_storefront(read(fixture)).offers]
    assert all(name in found for name in names), found


EXTRACT_COMMAND = {
    # fixture -> {quantity: (price, currency, compare-at)} after normalization
    "cards_elementor.html": {1000: ("4.99", "EUR", None), 10000: ("29.99", "EUR", "39.99"),
                             1_000_000: ("1499.00", "EUR", None)},
    "cards_woocommerce_loop.html": {1000: ("29.90", "BRL", None),
                                    5000: ("119.90", "BRL", "149.90"),
                                    10000: ("199.90", "BRL", None)},
    "cards_bootstrap.html": {500: ("4.99", "USD", None), 1500: ("8.99", "USD", "12.99"),
                             10000: ("24.99", "USD", None)},
}


@pytest.mark.parametrize("fixture", sorted(EXTRACT_COMMAND))
def test_extract_command_normalizes_cards(fixture):
    outcome = extract_file(read(fixture), family="storefront", url=None, currency=None,
                           observed_at=OBSERVED)
    assert outcome.rejections == []
    assert {o["quantity"]: (o["price"], o["currency"], o["compare_at_price"])
            for o in outcome.offers} == EXTRACT_COMMAND[fixture]
    assert all(o["usd_per_1000"] is not None and o["platform"] for o in outcome.offers)


def test_extract_command_rejects_the_unreadable_card():
    outcome = extract_file(read("cards_simulated_style.html"), family="storefront", url=None,
                           currency=None, observed_at=OBSERVED)
    assert [r["reason"] for r in outcome.rejections] == ["quantity not readable: 'Mega pack'"]
    assert len(outcome.offers) == 3


@pytest.mark.parametrize(("currency", "expected"), [
    ("USD", None), (None, "no currency: price '4.00' names none and the site has no currency")])
def test_price_without_currency_falls_back_to_the_site_currency_else_rejected(currency, expected):
    outcome = extract_file(read("jsonld_bad_products.html"), family="storefront", url=None,
                           currency=currency, observed_at=OBSERVED)
    tgr = [o for o in outcome.offers if o["site_offer_id"] == "TGR-500"]
    if expected is None:
        assert tgr and tgr[0]["currency"] == "USD" and tgr[0]["quantity"] == 500
    else:
        # Offline without --currency the currency shows as unknown (null): never guessed.
        assert tgr and tgr[0]["currency"] is None and tgr[0]["usd_per_1000"] is None


@pytest.mark.parametrize("family", ["storefront", "spa"])
def test_javascript_shell_needs_javascript(family):
    with pytest.raises(ExtractError, match="no offers: the page needs JavaScript"):
        extract_storefront(read("spa_shell.html"))
    outcome = extract_file(read("spa_shell.html"), family=family, url=None, currency=None,
                           observed_at=OBSERVED)
    assert outcome.error == "no offers: the page needs JavaScript"


def test_page_without_offers_is_not_a_javascript_shell():
    result = extract_storefront(read("landing_links.html"))
    assert result.offers == [] and "no offers on this page" in result.notes[-1]


def test_product_links_stay_under_the_site_prefix():
    base = "http://127.0.0.1:8765/s/shop-03/"
    links = product_links(read("landing_links.html"), base, site_url=base)
    assert links == [base + "product/youtube-views", base + "products/youtube-likes",
                     base + "buy/youtube-subscribers", base + "shop/youtube-comments"]
    unrestricted = product_links(read("landing_links.html"), base)
    assert "http://127.0.0.1:8765/s/shop-04/product/instagram-followers" in unrestricted
    assert not any("other.example" in link or link.endswith(".png") for link in unrestricted)


LINKS_PAGE = ('<a href="/products/ig-followers">a</a>'
              '<a href="https://www.shop.example/product/tt-likes?ref=home">b</a>'
              '<a href="products/yt-views#reviews">c</a><a href="/cart">cart</a>')
SHOP_LINKS = ["https://www.shop.example/products/ig-followers",
              "https://www.shop.example/product/tt-likes",
              "https://www.shop.example/products/yt-views"]
# (page URL after redirects, configured site URL) -> product links
SITE_PREFIX_CASES = [
    ("https://www.shop.example/", "https://www.shop.example/", SHOP_LINKS),
    ("https://www.shop.example/", "http://shop.example/", SHOP_LINKS),  # http -> https + www
    ("https://www.shop.example/", "https://shop.example", SHOP_LINKS),  # no trailing slash
    ("https://www.shop.example/", "https://www.shop.example/s/other/", []),
]


@pytest.mark.parametrize(("page_url", "site_url", "links"), SITE_PREFIX_CASES,
                         ids=[f"{case[0]}-{case[1]}" for case in SITE_PREFIX_CASES])
def test_product_links_of_a_site_reached_through_a_redirect(page_url, site_url, links):
    assert product_links(LINKS_PAGE, page_url, site_url=site_url) == links


def test_product_links_of_a_site_without_trailing_slash_stay_in_its_directory():
    page = '<a href="/s/shop-030/products/x">x</a><a href="/s/shop-03/products/y">y</a>'
    assert product_links(page, "http://127.0.0.1:8765/s/shop-03/",
                         site_url="http://127.0.0.1:8765/s/shop-03") == [
        "http://127.0.0.1:8765/s/shop-03/products/y"]


@pytest.mark.parametrize(("text", "is_quantity"), [
    ("1,000 Followers", True), ("1K", True), ("1.5k", True), ("10 000", True), ("1M Views", True),
    ("2.5K Likes", True), ("30-day refill guarantee", False), ("24/7 support", False),
    ("100% real", False), ("4.9", False), ("5 stars", False), ("30 Tage Nachfüllgarantie", False),
    ("$27", False), ("Most Popular", False), ("STARTER", False)])
def test_quantity_texts_on_cards(text, is_quantity):
    assert is_quantity_text(text) is is_quantity


@pytest.mark.parametrize(("text", "is_price"), [
    ("$12.99", True), ("12,99 €", True), ("R$ 29,90", True), ("£9.99", True), ("$ 27 99", True),
    ("USD 5", True), ("1,000 Followers", False), ("Save 20%", False), ("4.9", False)])
def test_price_texts_on_cards(text, is_price):
    assert is_price_text(text) is is_price


def test_a_card_without_price_becomes_a_rejection_not_a_gap():
    page = b"""<html><body><h1>Buy TikTok Likes</h1><div class="grid">
    <div class="pkg"><p class="q">1,000 Likes</p><p class="p">$5</p></div>
    <div class="pkg"><p class="q">5,000 Likes</p><p class="p">Temporarily unavailable</p></div>
    <div class="pkg"><p class="q">10K Likes</p><p class="p">$30</p></div>
    </div><table><tr><th>Package</th><th>Price</th></tr></table></body></html>"""
    result = extract_storefront(page)
    assert [(o.quantity, o.price) for o in result.offers] == [
        ("1,000 Likes", "$5"), ("10K Likes", "$30"), ("5,000 Likes", None)]
    outcome = extract_file(page, family="storefront", url=None, currency=None,
                           observed_at=OBSERVED)
    assert [r["reason"] for r in outcome.rejections] == ["no price"]
    assert len(outcome.offers) == 2


def test_inline_size_and_price_in_list_items():
    page = """<html><body><h2>Instagram Followers</h2><ul class="packages">
    <li>250 Followers &ndash; <span class="price">7,99 €</span></li>
    <li>1,000 Followers &ndash; <span class="price">28,99 €</span></li></ul></body></html>"""
    result = extract_storefront(page)
    assert [(o.name, o.quantity, o.price) for o in result.offers] == [
        ("Instagram Followers - 250 Followers", "250 Followers", "7,99 €"),
        ("Instagram Followers - 1,000 Followers", "1,000 Followers", "28,99 €")]
