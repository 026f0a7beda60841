"""Issue 13: extraction on pages written by others, one table per class of failure.

Each class has several examples (invented in the layouts real shops and panels use, or taken
from ../shared/data/smmpanels), run through the very code `clickfarm extract` runs
(:func:`clickfarm.extract_file.extract_file`: extraction, normalization, validation). The rule
throughout: a value the page does not state is null, never guessed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from clickfarm.cli import app
from clickfarm.extract_file import extract_file
from core.offers import NormalizedOffer
from crawlers.extract import smm_api
from crawlers.extract.packages import unit_price
from crawlers.extract.rows import banner_title, is_banner, is_divider, split_min_max
from crawlers.items import RawOffer
from pipelines.normalize import lone_size_in_name, normalize_offer, parse_package_quantity
from pipelines.taxonomy import load_taxonomy

WHEN = datetime(2026, 9, 1, tzinfo=UTC)


def run(page: str, family: str = "storefront", currency: str | None = None):
    return extract_file(page.encode(), family=family, url=None, currency=currency,
                        observed_at=WHEN)


def page(body: str, title: str = "") -> str:
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>"


def panel_table(rows: list[tuple[str, ...]], header: tuple[str, ...] = (
        "ID", "Service", "Rate per 1000", "Min", "Max")) -> str:
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return page(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


# --- class 1: package cards side by side in one section ----------------------------------------

TIER = ('<div class="tier"><h3>{tier}</h3><div class="{amount_class}">{amount}</div>'
        '<div class="unit">{unit}</div><div class="price">{price}{old}</div></div>')


def tiers(cards: list[tuple[str, str, str, str]], *, amount_class: str = "amount",
          unit: str = "TikTok Followers", heading: str = "Buy TikTok Followers") -> str:
    body = "".join(TIER.format(tier=tier, amount_class=amount_class, amount=amount, unit=unit,
                               price=price, old=f" <del>{old}</del>" if old else "")
                   for tier, amount, price, old in cards)
    return page(f"<h1>{heading}</h1><section class='pricing'>{body}</section>")


SIBLING_CARDS = [
    pytest.param(tiers([("Starter", "500", "$4.99", ""), ("Pro", "1.000", "$8.99", "$12.99"),
                        ("Elite", "25K", "$149.00", "$199.00")]),
                 [(500, "4.99", None), (1000, "8.99", "12.99"), (25000, "149.00", "199.00")],
                 ("tiktok", "followers"), id="amount-class-sizes-issue-example"),
    pytest.param(tiers([("Basic", "100", "€ 1,99", ""), ("Plus", "1.000", "€ 9,99", "€ 14,99")],
                       amount_class="amount-value", unit="Likes",
                       heading="Instagram Likes kaufen"),
                 [(100, "1.99", None), (1000, "9.99", "14.99")], ("instagram", "likes"),
                 id="amount-value-class-euro"),
    pytest.param(tiers([("S", "250", "R$ 9,90", ""), ("M", "2.500", "R$ 49,90", "R$ 59,90"),
                        ("L", "10.000", "R$ 149,90", ""), ("XL", "50K", "R$ 499,90", "")],
                       amount_class="amount", unit="Seguidores",
                       heading="Comprar Seguidores Instagram"),
                 [(250, "9.90", None), (2500, "49.90", "59.90"), (10000, "149.90", None),
                  (50000, "499.90", None)], ("instagram", "followers"), id="four-tiers-brl"),
    pytest.param(tiers([("A", "1000", "$2", ""), ("B", "5000", "$8", "$10")],
                       amount_class="count", unit="YouTube Views", heading="YouTube Views"),
                 [(1000, "2", None), (5000, "8", "10")], ("youtube", "views"),
                 id="count-class-already-read"),
]


FEATURE_CARD = ('<div class="col"><div class="card"><h4>{tier}</h4><div class="amount">{amount}'
                '</div><span>Followers</span><ul><li>24/7 Support</li><li>30 days refill</li>'
                '<li>100% Real</li><li>Delivery in 1 hour</li></ul><div class="price">{price}'
                '{old}</div><a class="btn" href="/cart?add-to-cart={id}">Buy</a></div></div>')
SIBLING_CARDS.append(pytest.param(
    page("<h1>Buy Instagram Followers</h1><div class='row'>" + "".join(
        FEATURE_CARD.format(tier=tier, amount=amount, price=price, id=id_,
                            old=f" <s>{old}</s>" if old else "")
        for tier, amount, price, old, id_ in [("Basic", "250", "$3.49", "", 11),
                                              ("Standard", "1,000", "$9.99", "$14.99", 12),
                                              ("Premium", "5K", "$39.99", "", 13)]) + "</div>"),
    [(250, "3.49", None), (1000, "9.99", "14.99"), (5000, "39.99", None)],
    ("instagram", "followers"), id="bootstrap-columns-with-feature-lists"))
SIBLING_CARDS.append(pytest.param(
    page("<h1>Buy Instagram Likes</h1><section class='plans'>"
         "<h3>Starter</h3><p class='qty'>100 Likes</p><p class='price'>$1.99</p>"
         "<h3>Pro</h3><p class='qty'>500 Likes</p><p class='price'>$5.99</p><del>$7.99</del>"
         "<h3>Max</h3><p class='qty'>1000 Likes</p><p class='price'>$9.99</p></section>"),
    [(100, "1.99", None), (500, "5.99", "7.99"), (1000, "9.99", None)],
    ("instagram", "likes"), id="flat-runs-without-a-wrapper"))


@pytest.mark.parametrize(("html", "expected", "platform_metric"), SIBLING_CARDS)
def test_class1_sibling_cards_give_one_offer_each(html, expected, platform_metric):
    outcome = run(html)
    assert outcome.rejections == []
    got = [(o["quantity"], o["price"], o["compare_at_price"]) for o in outcome.offers]
    assert got == expected
    for offer in outcome.offers:
        assert (offer["platform"], offer["metric"]) == platform_metric
        if offer["compare_at_price"] is not None:  # never a "was" price below the price
            assert Decimal(offer["compare_at_price"]) > Decimal(offer["price"])


# --- class 2: the unit word beside the number, page context --------------------------------------

UNIT_BESIDE = [
    pytest.param(page("<h1>Buy YouTube Views</h1><b>250</b> <i>Views</i> "
                      "<span class='price'>$2.99</span>"),
                 ["250 Views"], "youtube", "views", ["platform"],
                 id="issue-example-whole-page-is-the-card"),
    pytest.param(page("<h1>Buy YouTube Views</h1><h2>Pick a package</h2>"
                      "<div class='pack'><b>250</b> <i>Views</i> <span class='price'>$2.99</span></div>"
                      "<div class='pack'><b>1000</b> <i>Views</i> <span class='price'>$8.99</span></div>"),
                 ["250 Views", "1000 Views"], "youtube", "views", ["platform"],
                 id="unit-element-h1-context"),
    pytest.param(page("<h2>Packages</h2><div class='pack'><strong>500</strong> Likes "
                      "<span class='price'>$3</span></div>"
                      "<div class='pack'><strong>2000</strong> Likes <span class='price'>$9</span></div>",
                      title="Instagram Likes - FastBoost"),
                 ["500 Likes", "2000 Likes"], "instagram", "likes", ["platform"],
                 id="unit-in-tail-title-context"),
    pytest.param(page("<nav class='breadcrumb'><a>Home</a> <a>TikTok</a> <a>Followers</a></nav>"
                      "<h2>Choose</h2><div class='p'><span>1000</span><small>Followers</small>"
                      "<span class='price'>$5</span></div><div class='p'><span>5000</span>"
                      "<small>Followers</small><span class='price'>$20</span></div>"),
                 ["1000 Followers", "5000 Followers"], "tiktok", "followers", ["platform"],
                 id="breadcrumb-context"),
    pytest.param(page("<h1>Spotify Promotion</h1><h2>Plans</h2><div class='p'><b>10K</b> "
                      "<i>Plays</i> <span class='price'>$15</span></div><div class='p'><b>50K</b> "
                      "<i>Plays</i> <span class='price'>$60</span></div>"),
                 ["10K Plays", "50K Plays"], "spotify", "plays", ["platform"],
                 id="k-suffix-spotify"),
    pytest.param(page("<h1>Get seen</h1><h2>Our packages</h2><div class='p'><b>250</b> <i>Views</i> "
                      "<span class='price'>$2.99</span></div><div class='p'><b>500</b> <i>Views</i>"
                      " <span class='price'>$4.99</span></div>", title="Boost"),
                 ["250 Views", "500 Views"], None, "views", [],
                 id="no-platform-anywhere-stays-null"),
]


@pytest.mark.parametrize(("html", "sizes", "platform", "metric", "inferred"), UNIT_BESIDE)
def test_class2_unit_word_beside_the_number(html, sizes, platform, metric, inferred):
    outcome = run(html)
    assert outcome.rejections == []
    assert [o["quantity_raw"] for o in outcome.offers] == sizes
    for offer in outcome.offers:
        assert any(size in offer["name"] for size in sizes)
        assert (offer["platform"], offer["metric"]) == (platform, metric)
        assert offer["inferred"] == inferred
        assert (offer["page_context"] is not None) == bool(inferred)


def _normalized(raw: RawOffer, currency: str | None = "USD") -> NormalizedOffer:
    offer = normalize_offer(raw, site_currency=currency, observed_at=WHEN)
    assert isinstance(offer, NormalizedOffer), offer
    return offer


@pytest.mark.parametrize(("name", "category", "context", "platform", "metric", "inferred"), [
    ("Pick a package - 250 Views", None, "Buy YouTube Views", "youtube", "views", ("platform",)),
    ("Starter - 1000", "Starter", "Instagram Followers | Shop", "instagram", "followers",
     ("platform", "metric")),
    ("Pack - 500 Followers", None, "YouTube", "youtube", "subscribers", ("platform",)),
    ("TikTok Likes - 500", None, "Buy YouTube Views", "tiktok", "likes", ()),
    ("Mega pack", None, "Welcome to our shop", None, None, ()),
])
def test_class2_context_only_fills_what_the_offer_leaves_unknown(name, category, context,
                                                                 platform, metric, inferred):
    offer = _normalized(RawOffer(site_offer_id="1", name=name, category=category, price="$5",
                                 pricing="package", quantity="1000", context=context,
                                 source="storefront"))
    assert (offer.platform, offer.metric, offer.inferred) == (platform, metric, inferred)
    assert offer.page_context == (context if inferred else None)


# --- class 3: unit prices on cards, in several languages ---------------------------------------

UNIT_PRICES = [
    ("Instagram Followers", "Price per 1000: $2.10", "2.10", "USD"),
    ("Подписчики Instagram", "Цена за 1000 штук: 95 руб.", "95", "RUB"),
    ("Instagram Likes", "₹ 0.45 / like", "450.00", "INR"),
    ("Seguidores de Instagram", "Precio por 1000: $2,10", "2.10", "USD"),
    ("Seguidores Instagram", "Preço por 1000 seguidores: R$ 5,90", "5.90", "BRL"),
    ("Instagram Takipçi", "1000 takipçi fiyatı: 25 TL", "25", "TRY"),
    ("Instagram Beğeni", "1000 adet başına 12,50 TL", "12.50", "TRY"),
    ("Pengikut Instagram", "Harga per 1000: Rp 15.000", "15000", "IDR"),
    ("متابعين انستقرام", "السعر لكل 1000: 5$", "5", "USD"),
    ("Instagram Followers", "1000 followers ki keemat: ₹ 99", "99", "INR"),
    ("Người theo dõi TikTok", "Giá cho 1000 lượt thích: 50.000đ", "50000", "VND"),
    ("TikTok Views", "Giá mỗi 1000: 25.000 VNĐ", "25000", "VND"),
    ("YouTube Views", "Rate: $1.20 per 1000 views", "1.20", "USD"),
    ("TikTok Likes", "$0.002 each", "2", "USD"),
    ("Twitter Followers", "$0.01 per follower", "10.00", "USD"),
    ("Facebook Likes", "Цена за 100 шт.: 15 ₽", "150", "RUB"),
    ("Telegram Members", "$3.50 / 1K", "3.50", "USD"),
]


@pytest.mark.parametrize(("heading", "text", "per_1000", "currency"), UNIT_PRICES,
                         ids=[text for _, text, _, _ in UNIT_PRICES])
def test_class3_unit_prices_are_rates(heading, text, per_1000, currency):
    outcome = run(page(f"<div class='service'><h3>{heading}</h3><p>{text}</p></div>"))
    assert outcome.rejections == []
    [offer] = outcome.offers
    assert offer["pricing"] == "per_1000"
    assert offer["quantity"] is None
    assert Decimal(offer["price"]) == Decimal(per_1000)
    assert offer["currency"] == currency
    assert offer["name"] == heading


@pytest.mark.parametrize("text", [
    "$9.99 / month", "1000 Followers for $12.99", "Price for 1000 followers: $12.99",
    "$5 per 30 days", "Starter $4.99", "Pro 1.000 TikTok Followers $8.99", "1000 for $5, 5000 for $20",
])
def test_class3_not_unit_prices(text):
    assert unit_price(text) is None


def test_class3_a_unit_price_beside_a_package_price_is_not_a_second_offer():
    html = page("<h1>Instagram Followers</h1>"
                "<div class='card'><span class='q'>1000 Followers</span><span class='price'>$12.99"
                "</span><small>($12.99 per 1000)</small></div>"
                "<div class='card'><span class='q'>5000 Followers</span><span class='price'>$50"
                "</span><small>($10 per 1000)</small></div>")
    outcome = run(html)
    assert [(o["pricing"], o["quantity"], o["price"]) for o in outcome.offers] == [
        ("package", 1000, "12.99"), ("package", 5000, "50")]


def test_class3_unit_price_count_is_validated():
    offer = normalize_offer(RawOffer(site_offer_id="1", name="Likes", price="$5",
                                     price_per_units="0", source="storefront"),
                            site_currency="USD", observed_at=WHEN)
    assert not isinstance(offer, NormalizedOffer)
    assert "not a rate" in offer.reason


# --- class 4: min and max in one cell -----------------------------------------------------------

@pytest.mark.parametrize(("header", "cell", "minimum", "maximum"), [
    ("Min / Max", "20 / 10000", 20, 10000),
    ("Min / Max", "20 \\ 10000", 20, 10000),
    ("Min-Max", "20 - 10000", 20, 10000),
    ("Min - Max", "20 – 10000", 20, 10000),
    ("Min/Max", "1K ~ 1M", 1000, 1000000),
    ("Min / Max", "Min: 20 Max: 10000", 20, 10000),
    ("Min | Max", "50 | 5000", 50, 5000),
    ("Min - Max", "10 000 / 50 000", 10000, 50000),
    ("Min / Max", "100 to 100000", 100, 100000),
    ("Мин / Макс", "10 / 5000", 10, 5000),
])
def test_class4_min_and_max_in_one_cell(header, cell, minimum, maximum):
    html = panel_table([("7", "Instagram Likes", "$0.50", cell)],
                       header=("ID", "Service", "Rate per 1000", header))
    outcome = run(html, family="smm_html")
    [offer] = outcome.offers
    assert (offer["min_quantity"], offer["max_quantity"]) == (minimum, maximum)


def test_class4_an_unreadable_cell_is_unknown_with_a_note():
    html = panel_table([("7", "Instagram Likes", "$0.50", "ask support")],
                       header=("ID", "Service", "Rate per 1000", "Min / Max"))
    outcome = run(html, family="smm_html")
    [offer] = outcome.offers
    assert (offer["min_quantity"], offer["max_quantity"]) == (None, None)
    assert any("'ask support'" in note and "unknown" in note for note in outcome.notes)


@pytest.mark.parametrize(("text", "expected"), [
    ("20/10000", ("20", "10000")), ("20 \\ 10000", ("20", "10000")), ("5 - 5", ("5", "5")),
    ("", None), ("10000", None), ("N/A", None), ("20 / ", None),
])
def test_class4_split_min_max(text, expected):
    assert split_min_max(text) == expected


# --- class 5: rows that are not offers ----------------------------------------------------------

NOT_OFFERS = [
    ("━━━━━━━━━━━━━━━", "$0.00", "0", "0", "divider"),
    ("-----------------", "$1.00", "10", "100", "divider"),
    ("• • • • • • •", "", "", "", "divider"),
    ("▫▫▫ ▫▫▫ ▫▫▫ ▫▫▫", "1000000.00", "10", "5000", "divider"),  # real, SocialPanel24 2020
    ("══════ ✦ ══════", "$0", "0", "0", "divider"),
    ("★★★★★ TIKTOK SERVICES ★★★★★", "0", "0", "0", "banner"),
    ("=== Instagram Likes ===", "$0.00", "1", "1", "banner"),
    ("🔥🔥 NEW SERVICES 🔥🔥", "0.00", "0", "0", "banner"),
    ("------ YouTube Views ------", "$1.00", "0", "0", "banner"),
]


@pytest.mark.parametrize(("name", "price", "minimum", "maximum", "kind"), NOT_OFFERS,
                         ids=[row[0] for row in NOT_OFFERS])
def test_class5_dividers_and_banners_are_skipped_and_reported(name, price, minimum, maximum,
                                                              kind):
    html = panel_table([("1", "Instagram Likes [Real]", "$0.50", "20", "10000"),
                        ("2", name, price, minimum, maximum),
                        ("3", "TikTok Followers [Fast]", "$2.10", "100", "50000")])
    outcome = run(html, family="smm_html")
    assert [o["site_offer_id"] for o in outcome.offers] == ["1", "3"]
    assert outcome.rejections == []
    assert any(f"skipped {kind} row" in note and name.strip() in note for note in outcome.notes)
    if kind == "banner":  # the banner names the rows below it
        assert outcome.offers[1]["category"] == banner_title(name)


@pytest.mark.parametrize(("name", "price", "minimum", "maximum"), [
    ("⭐ Instagram Likes [Real] ⭐", "$0.50", "20", "10000"),
    ("🔥🔥 TikTok Views 🔥🔥", "$0.01", "100", "1000000"),
    ("Instagram Likes - Free Trial", "0", "10", "10"),
    ("[ Instagram ] Likes", "0", "0", "0"),
])
def test_class5_decorated_services_stay_offers(name, price, minimum, maximum):
    assert not is_divider(name)
    assert not is_banner(name, price, minimum, maximum)
    outcome = run(panel_table([("2", name, price, minimum, maximum)]), family="smm_html")
    assert not any("skipped" in note for note in outcome.notes)
    assert len(outcome.offers) + len(outcome.rejections) == 1


def test_class5_api_dividers_are_skipped():
    entries = [{"service": 1, "name": "Instagram Likes", "rate": "0.5", "min": "10", "max": "10"},
               {"service": 2, "name": "▬▬▬▬▬▬▬▬", "rate": "0", "min": "0", "max": "0"},
               {"service": 3, "name": "✦✦ TIKTOK ✦✦", "rate": "0", "min": "0", "max": "0"},
               {"service": 4, "name": "TikTok Likes", "rate": "1.2", "min": "10", "max": "10"}]
    result = smm_api.extract_services(json.dumps(entries))
    assert [o.site_offer_id for o in result.offers] == ["1", "4"]
    assert any("skipped divider" in note for note in result.notes)
    assert any("skipped banner" in note for note in result.notes)


def test_class5_cli_reports_skipped_rows_on_stderr(tmp_path):
    saved = tmp_path / "services.html"
    saved.write_text(panel_table([("1", "Instagram Likes", "$0.50", "20", "10000"),
                                  ("2", "━━━━━━━━", "$0", "0", "0")]))
    result = CliRunner().invoke(app, ["extract", str(saved), "--family", "smm_html",
                                      "--observed-at", "2026-09-01"])
    assert result.exit_code == 0, result.output
    assert "skipped divider row" in result.stderr
    assert "━━━━━━━━" not in result.stdout


# --- class 6: package size from the right number ------------------------------------------------

@pytest.mark.parametrize(("name", "service_id", "size"), [
    ("ID:904 Real TikTok Followers [5K] [BRAZIL]", "904", 5000),
    ("904 Real TikTok Followers [5K] [BRAZIL]", "904", 5000),
    ("Instagram Likes (10K) [Instant]", "31", 10000),
    ("YouTube Views 2500 | Speed 10K/Day | $3.50", "5", 2500),
    ("TikTok Views [1M] [Start: 0-1 Hour]", "12", 1000000),
    ("Twitter Followers | 30 Days Refill | 5000", "8", 5000),
    ("Instagram Followers [Max 10K] [Refill 30 Days]", "77", None),
    ("Instagram Likes Package", "9", None),
    ("TikTok Followers [5K] [10K]", "3", None),
    ("Spotify Plays [4.9 Rating] 100%", "4", None),
    # real 2020 names (../shared/data/smmpanels)
    ("Twitch Channel Views [20 000] [PACKAGE] ⭐⭐", "446", 20000),
    ("Instagram Followers [ADS - REAL- ACTIVE] [50K] - 3-5k/Day", "1264", 50000),
    ("40 Reddit Upvotes", "40", 40),
    ("REAL Instagram Followers [FROM ADS - 10K TO 25K - ACTIVE]", "749", None),
    ("Power IG Premium Likes + Comments 1M+ REAL Live Celebrities Groups", "1401", None),
    ("Send Us What 253+ Country Of YouTube GEO Views To Add New Service", "3874", None),
    ("Youtube Views - [ G30 ] [ PACKAGE 4KH + 1K Subs ]", "3153", None),
    ("ID: 691 - Instagram Comments + Likes [Verified] [6+13] [RANDOM] [12-24h]", "691", None),
    ("Get Update on Power Like GROUPS [ONLY FOR PEOPLE WHO PURCHASED SERVICE #334]", "747",
     None),
])
def test_class6_package_size_from_the_right_number(name, service_id, size):
    offer = _normalized(RawOffer(site_offer_id=service_id, name=name, price="$35.00",
                                 min_quantity="1", max_quantity="1", source="html"))
    assert offer.pricing == "package"
    assert offer.quantity == size
    assert offer.usd_per_1000 is None if size is None else offer.usd_per_1000 is not None


def test_class6_through_a_services_page():
    html = panel_table([("904", "ID:904 Real TikTok Followers [5K] [BRAZIL]", "$35.00", "1", "1")])
    [offer] = run(html, family="smm_html").offers
    assert (offer["pricing"], offer["quantity"], offer["usd_per_1000"]) == (
        "package", 5000, "7.000000")


def test_class6_lone_size_needs_an_engagement_unit():
    assert lone_size_in_name("Acme Widget [5K]", "1") is None
    assert lone_size_in_name("Acme Followers [5K]", "1") == 5000


# --- class 7: only engagement units make a size -------------------------------------------------

@pytest.mark.parametrize(("text", "size"), [
    ('Acme 27" Monitor', None),
    ("USB Stick 64GB", None),
    ("Laptop 15.6 inch", None),
    ("Router 5 GHz", None),
    ("Charger 65W", None),
    ("Webcam 1080p", None),
    ("Phone case 6.1”", None),
    ("Gift card 50 USD", None),
    ("Intro video 30 seconds", None),
    ("1000 Instagram Followers", 1000),
    ("1K Likes", 1000),
    ("500 YouTube Views", 500),
    ("2.5K TikTok Likes", 2500),
    ("Starter - 1,000 Followers", 1000),
    ("Paquete 5K", 5000),
])
def test_class7_only_engagement_units_make_a_size(text, size):
    assert parse_package_quantity(text) == size


def test_class7_retail_product_without_a_size_is_rejected_not_sized():
    products = {"products": [
        {"id": 1, "title": 'Acme 27" Monitor', "handle": "m", "variants": [
            {"id": 11, "title": "Default Title", "price": "199.00", "available": True,
             "option1": "Default Title"}], "options": [{"name": "Title", "values": ["Default Title"]}]},
        {"id": 3, "title": "Instagram Followers", "handle": "f", "variants": [
            {"id": 31, "title": "1000 Followers", "price": "9.99", "available": True,
             "option1": "1000 Followers"}], "options": [{"name": "Quantity", "values": ["1000 Followers"]}]}]}
    outcome = run(json.dumps(products), family="shopify", currency="USD")
    assert [(o["site_offer_id"], o["quantity"]) for o in outcome.offers] == [("31", 1000)]
    assert [(r["site_offer_id"], r["reason"].split(":")[0]) for r in outcome.rejections] == [
        ("11", "quantity not readable")]


# --- class 8: currency stated beside the price --------------------------------------------------

CURRENCY_BESIDE = [
    pytest.param('<span class="cur" content="EUR">€</span> <span class="amount">3</span> '
                 '<span class="old">€5</span>', "3", "EUR", "5", id="content-attribute-issue"),
    pytest.param('<span class="currency">USD</span><span class="amount">12</span>', "12", "USD",
                 None, id="code-in-sibling"),
    pytest.param('<span class="amount">4,99</span> <span class="cur">€</span>', "4.99", "EUR", None,
                 id="symbol-after"),
    pytest.param('<span class="symbol" data-currency="TRY">₺</span><span class="price">149</span>',
                 "149", "TRY", None, id="data-currency"),
    pytest.param('<span class="sym">£</span><span class="price">9.99</span>'
                 '<span class="was">£</span>', "9.99", "GBP", None, id="pound-symbol"),
    pytest.param('<span class="amount">3</span>', "3", None, None, id="unknown-stays-null"),
]


@pytest.mark.parametrize(("price_html", "price", "currency", "compare_at"), CURRENCY_BESIDE)
def test_class8_currency_beside_the_price(price_html, price, currency, compare_at):
    html = page(f"<h1>Instagram Likes</h1><div class='card'><span class='qty'>100 Likes</span>"
                f"{price_html}</div>")
    outcome = run(html)
    assert outcome.rejections == []
    [offer] = outcome.offers
    assert (offer["price"], offer["currency"], offer["compare_at_price"]) == (
        price, currency, compare_at)
    assert offer["quantity"] == 100


# --- class 9: more platforms --------------------------------------------------------------------

PLATFORMS = [
    ("Bilibili Followers", "bilibili", "followers"), ("Bilibili Views", "bilibili", "views"),
    ("Likee Likes", "likee", "likes"), ("Likee Followers", "likee", "followers"),
    ("Kwai Followers", "kwai", "followers"), ("Kwai Views", "kwai", "views"),
    ("Snapchat Followers", "snapchat", "followers"),
    ("Snapchat Story Views", "snapchat", "story_views"),
    ("VK Likes", "vk", "likes"), ("VK Group Members", "vk", "members"),
    ("OK.ru Likes", "ok", "likes"), ("Odnoklassniki Friends", "ok", "friends"),
    ("Threads Followers", "threads", "followers"), ("Threads Likes", "threads", "likes"),
    ("Bluesky Followers [Real]", "bluesky", "followers"), ("Bsky Likes", "bluesky", "likes"),
    ("Blue Sky Followers", "bluesky", "followers"),
    ("Kick Followers", "kick", "followers"), ("Kick Live Viewers", "kick", "views"),
    ("Rumble Views", "rumble", "views"), ("Rumble Followers", "rumble", "followers"),
    ("Dailymotion Views", "dailymotion", "views"), ("Vimeo Views", "vimeo", "views"),
    ("Vimeo Likes", "vimeo", "likes"),
    ("Apple Music Plays", "apple_music", "plays"), ("Deezer Plays", "deezer", "plays"),
    ("Deezer Fans", "deezer", "fans"), ("Audiomack Plays", "audiomack", "plays"),
    ("Audiomack Followers", "audiomack", "followers"), ("Boomplay Streams", "boomplay", "plays"),
    ("Shazam Plays", "shazam", "plays"), ("Shazam Shazams", "shazam", None),
    ("Clubhouse Followers", "clubhouse", "followers"),
    ("Reddit Upvotes", "reddit", "votes"), ("Reddit Subscribers", "reddit", "subscribers"),
    ("Quora Upvotes", "quora", "votes"), ("Quora Followers", "quora", "followers"),
    ("Tumblr Followers", "tumblr", "followers"), ("Tumblr Reblogs", "tumblr", "reblogs"),
    ("Discord Members", "discord", "members"), ("Discord Server Members", "discord", "members"),
    ("WhatsApp Channel Followers", "whatsapp", "followers"),
    ("WhatsApp Group Members", "whatsapp", "members"),
    ("Google Reviews", "google", "reviews"), ("Google Maps Reviews", "google", "reviews"),
    ("Google Business Reviews", "google", "reviews"),
    ("Trustpilot Reviews", "trustpilot", "reviews"),
]


@pytest.mark.parametrize(("name", "platform", "metric"), PLATFORMS,
                         ids=[name for name, _, _ in PLATFORMS])
def test_class9_more_platforms(name, platform, metric):
    classification = load_taxonomy().classify(name, None)
    assert (classification.platform, classification.metric) == (platform, metric)


@pytest.mark.parametrize("name", ["Blue sky wallpaper", "Bilingual translation", "Okay likes"])
def test_class9_new_keywords_do_not_fire_on_ordinary_words(name):
    assert load_taxonomy().classify(name, None).platform is None


def test_class1_an_ambiguous_flat_run_gives_no_offer_rather_than_a_guess():
    html = page("<h1>Buy Instagram Likes</h1><section>"
                "<h3>Starter</h3><p>100 Likes</p><p class='price'>$1.99</p><p>$2.99</p>"
                "<h3>Pro</h3><p>500 Likes</p><p class='price'>$5.99</p></section>")
    outcome = run(html)
    assert not any(o["quantity"] == 100 and o["price"] in ("1.99", "2.99")
                   for o in outcome.offers)
