"""Fingerprints of seller software on pages shaped like the real ones (tests/fixtures/discovery)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawlers.discovery.fingerprint import (
    Detection,
    combine_detections,
    detect_family,
    product_page_links,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "discovery"


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# fixture, url, family, software, currency, evidence that must be present (substrings)
CASES = [
    ("perfectpanel_landing.html", "https://smmkings.com/", "smm_html", "PerfectPanel", None,
     ["PerfectPanel: asset on cdn.mypanel.link: https://cdn.mypanel.link/",
      "PerfectPanel: login form field LoginForm[username]",
      "PerfectPanel: _csrf token field (Yii)",
      "PerfectPanel: /services link + signup form (/services)",
      "an API v2 at https://smmkings.com/api/v2"]),
    ("smartpanel_landing.html", "https://followboost.example/", "smm_html", "SmartPanel", None,
     ["SmartPanel: 'Powered by SmartPanel' text",
      "SmartPanel: login form with csrf_token and username",
      "SmartPanel: /services link (/services)"]),
    ("shopify_landing.html", "https://boostgram.store/", "shopify", "Shopify", "EUR",
     ["script: cdn.shopify.com/s/files/1/0601/4825/7345/t/4/assets/global.js",
      "Shopify.shop = 'boostgram-store.myshopify.com'",
      "Shopify.theme 'Dawn'",
      "Shopify.currency active EUR"]),
    ("woocommerce_landing.html", "https://famefactory.net/", "woocommerce", "WooCommerce", None,
     ["meta generator: WooCommerce 8.5.2",
      "asset: famefactory.net/wp-content/plugins/woocommerce/",
      "body class: woocommerce-no-js woocommerce-active",
      "WooCommerce block markup: class 'wc-block-grid'",
      "WooCommerce script settings"]),
    ("jsonld_product.html", "https://instarise.co/product/instagram-followers", "storefront",
     "JSON-LD", "USD",
     ["JSON-LD Product 'Instagram Followers': 3 Offer with a price in USD",
      "1 invalid JSON-LD block(s) ignored"]),
    ("cards_product.html", "https://followfast.example/buy/tiktok-followers", "storefront",
     "package cards", None,
     # the struck-through $35 and $129 are not the package prices
     ["package cards: 3 <div.package-card> blocks with a quantity and a price "
      "(1,000 / $27, 2.5K / $54, 10 000 / $87)"]),
    ("spa_shell.html", "https://growthrocket.example/", "spa", "JavaScript shell", None,
     ["empty <div id='root'>", "script: static/js/main.3b8c2f1a.js",
      "<noscript>: 'You need to enable JavaScript to run this app.'",
      "0 characters of text and no price in the HTML"]),
    # a shop's home page that only links to its product pages: nothing to tell from it alone
    ("storefront_landing.html", "https://instarise.co/", "unknown", None, None,
     ["no panel, shop or storefront markers"]),
    # WordPress without WooCommerce, prices in prose: not a shop
    ("blog_unknown.html", "https://socialgrowth.blog/is-it-worth-it", "unknown", None, None,
     ["no panel, shop or storefront markers"]),
    # a directory lists sellers with "from $0.001/1K": not a storefront itself
    ("directory_page1.html", "https://smmlist.example/smm-panels/", "unknown", None, None, []),
    ("partner_landing.html", "https://followfast.example/", "unknown", None, None, []),
]


@pytest.mark.parametrize(("fixture", "url", "family", "software", "currency", "evidence"), CASES,
                         ids=[case[0].removesuffix(".html") for case in CASES])
def test_detect_family(fixture: str, url: str, family: str, software: str | None,
                       currency: str | None, evidence: list[str]) -> None:
    detection = detect_family(url, page(fixture))
    assert detection.family == family, detection.evidence
    assert detection.software == software
    assert detection.currency == currency
    for expected in evidence:
        assert any(expected in line for line in detection.evidence), (expected, detection.evidence)
    if family == "unknown":
        assert detection.confidence == 0
    else:
        assert 0.5 <= detection.confidence <= 1


def test_panel_evidence_notes_the_api_but_suggests_the_public_page() -> None:
    detection = detect_family("https://smmkings.com/", page("perfectpanel_landing.html"))
    assert detection.family == "smm_html"
    assert detection.api_url == "https://smmkings.com/api/v2"


def test_more_clues_give_more_confidence() -> None:
    full = detect_family("https://boostgram.store/", page("shopify_landing.html"))
    one_clue = detect_family("https://x.example/", b"<html><head><script src='https://cdn.shopify"
                             b".com/s/files/1/0001/t/1/assets/theme.js'></script></head>"
                             b"<body><p>Shop</p></body></html>")
    assert one_clue.family == "shopify"
    assert one_clue.confidence < full.confidence


HEADER_CASES = [
    # Shopify storefronts send these even when the theme hides every marker
    ({"X-ShopId": "60142657793", "X-Shopify-Stage": "production"}, "shopify",
     "header x-shopid: 60142657793"),
    ({b"Powered-By": [b"Shopify"], b"X-ShardId": [b"300"]}, "shopify", "header powered-by: Shopify"),
    ({"Content-Type": "text/html"}, "unknown", None),
]


@pytest.mark.parametrize(("headers", "family", "evidence"), HEADER_CASES,
                         ids=["shopify-headers", "scrapy-style-bytes", "plain"])
def test_headers_count_as_evidence(headers: dict, family: str, evidence: str | None) -> None:
    detection = detect_family("https://shop.example/", b"<html><body><p>Welcome</p></body></html>",
                              headers)
    assert detection.family == family
    if evidence:
        assert evidence in detection.evidence


BAD_PAGES = [b"", b"   ", b'{"products": []}', b"\x89PNG\r\n\x1a\n\x00\x00", "<html></html>"]


@pytest.mark.parametrize("body", BAD_PAGES, ids=["empty", "blank", "json", "png", "empty-html"])
def test_bad_pages_are_unknown_not_errors(body: bytes | str) -> None:
    detection = detect_family("https://x.example/", body)
    assert detection.family == "unknown"
    assert detection.evidence


def test_a_login_form_alone_is_not_a_panel() -> None:
    html = b"""<html><body><form><input name="LoginForm[username]"></form>
    <p>Members area</p></body></html>"""
    assert detect_family("https://club.example/", html).family == "unknown"


def test_platform_wins_over_the_generic_shapes() -> None:
    # A WooCommerce page also carries JSON-LD: the platform is what its crawler needs.
    html = page("woocommerce_landing.html").replace(
        b"</head>", b'<script type="application/ld+json">{"@type": "Product", "name": "X", '
        b'"offers": {"@type": "Offer", "price": "4.99", "priceCurrency": "USD"}}</script></head>')
    assert detect_family("https://famefactory.net/", html).family == "woocommerce"


def test_jsonld_aggregate_offer_and_type_lists() -> None:
    html = b"""<html><head><script type="application/ld+json">
    {"@context": "https://schema.org", "@type": ["Product", "Thing"], "name": "YouTube Views",
     "offers": {"@type": "AggregateOffer", "lowPrice": "2.99", "highPrice": "99", "priceCurrency":
     "GBP", "offerCount": 4}}</script></head><body></body></html>"""
    detection = detect_family("https://views.example/p/youtube-views", html)
    assert detection.family == "storefront"
    assert detection.currency == "GBP"
    assert "AggregateOffer" in detection.evidence[0]


def test_product_page_links_stay_on_the_site_and_under_its_path() -> None:
    html = b"""<html><body>
    <a href="product/instagram-followers">IG</a> <a href="buy/tiktok-likes?ref=home#top">TT</a>
    <a href="/s/other-shop/product/x">another site on the host</a>
    <a href="https://elsewhere.example/product/y">elsewhere</a> <a href="faq">FAQ</a>
    </body></html>"""
    assert product_page_links("http://127.0.0.1:8765/s/shop-04/", html, limit=3) == [
        "http://127.0.0.1:8765/s/shop-04/product/instagram-followers",
        "http://127.0.0.1:8765/s/shop-04/buy/tiktok-likes?ref=home",
    ]


def test_combine_takes_the_product_page_verdict_when_the_landing_says_nothing() -> None:
    landing = detect_family("https://instarise.co/", page("storefront_landing.html"))
    product_url = "https://instarise.co/product/instagram-followers"
    product = detect_family(product_url, page("jsonld_product.html"))
    combined = combine_detections(landing, [(product_url, product)])
    assert combined.family == "storefront"
    assert any(line.startswith(f"product page {product_url}: JSON-LD Product")
               for line in combined.evidence)
    # the landing verdict stands when it names a family
    shop = detect_family("https://boostgram.store/", page("shopify_landing.html"))
    assert combine_detections(shop, [(product_url, product)]) is shop
    assert combine_detections(landing, [(product_url, Detection("unknown", ["x"]))]) is landing
