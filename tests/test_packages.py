"""Package normalization of retail offers: sizes as shops write them, USD per 1000, compare-at
prices, currency fallbacks, and the price periods they open in storage.

Examples come from the formats reference (FORMATS.md §4: "1,000 Instagram Followers — $12.99",
"STARTER 1,000 / $27") and from the shapes real shops use (Shopify variant titles, WooCommerce
variation attributes, pricing-card texts in several languages).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.offers import NormalizedOffer, Rejection
from crawlers.items import RawOffer
from pipelines.fx import USD_QUANTUM, usd_rate
from pipelines.normalize import normalize_offer, parse_package_quantity
from pipelines.validate import validate_offer
from storage import repository
from storage.db import get_engine, migrate
from storage.models import OfferEvent, OfferPricePeriod

D = Decimal
OBSERVED = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

# (text as seen, size)
QUANTITY_TEXTS = {
    "formats reference": [
        ("1,000 Followers", 1000), ("1K", 1000), ("1.5k", 1500), ("10 000", 10000), ("1M", 1_000_000),
        ("1,000 Instagram Followers", 1000),
    ],
    "shopify variants": [
        ("100 Followers", 100), ("2.5K Likes", 2500), ("10K Followers", 10_000),
        ("Fast / 1.5K", 1500), ("25,000 Views", 25_000), ("1000 Followers + 10% bonus", 1000),
    ],
    "woocommerce variations": [
        ("Quantity: 1000 Followers", 1000), ("10 000 Curtidas", 10_000), ("1.000 Seguidores", 1000),
        ("Pacote: 5000 Visualizações", 5000), ("500 Takipçi", 500),
    ],
    "cards": [
        ("STARTER - 1,000 Followers", 1000), ("Paquete 5K", 5000), ("Instagram Followers 1000", 1000),
        ("Top 10 - 1000 Followers", 1000), ("30 days refill - 1000", 1000), ("1 000 000 Views", 1_000_000),
    ],
    "unreadable": [
        ("Mega pack", None), ("STARTER", None), ("100 Likes + 1000 Views", None),
        ("Instagram Followers - 30 Days", None), ("$12.99", None), ("", None),
    ],
    "hyphen-joined sizes": [
        ("1K-Followers", 1000), ("1000-followers", 1000), ("2.5k-likes", 2500),
        ("1000 Followers 2-Day Drip", 1000), ("10000 Views 1-2 Hours", 10_000),
        ("30-day refill", None), ("2-3 hours", None),
    ],
}
QUANTITY_CASES = [(group, text, size) for group, rows in QUANTITY_TEXTS.items()
                  for text, size in rows]


@pytest.mark.parametrize(("group", "text", "size"), QUANTITY_CASES,
                         ids=[f"{group}:{text or 'empty'}" for group, text, _ in QUANTITY_CASES])
def test_parse_package_quantity(group, text, size):
    assert parse_package_quantity(text) == size


def retail(**fields) -> RawOffer:
    values = dict(site_offer_id="v1", name="Instagram Followers - 1,000 Followers", price="12.99",
                  pricing="package", quantity="1,000 Followers", source="shopify")
    values.update(fields)
    return RawOffer(**values)


def normalized(raw: RawOffer, site_currency: str | None = "USD") -> NormalizedOffer | Rejection:
    return normalize_offer(raw, site_currency=site_currency, observed_at=OBSERVED)


# (raw offer fields, site currency, price, currency, quantity, compare-at)
PACKAGE_CASES = [
    ("shopify-eur", dict(price="12.99", currency="EUR", compare_at_price="15.99"), None,
     D("12.99"), "EUR", 1000, D("15.99")),
    ("shopify-three-decimals", dict(price="12.990", currency="USD", quantity="Fast / 1.5K"), None,
     D("12.990"), "USD", 1500, None),
    ("woo-brl", dict(price="29.90", currency="BRL", quantity="1K Curtidas", source="woocommerce",
                     name="Curtidas Instagram - Quantity: 1K Curtidas"), None,
     D("29.90"), "BRL", 1000, None),
    ("woo-jpy-minor-unit-0", dict(price="1500", currency="JPY", quantity="1500 YouTube Views",
                                  source="woocommerce"), None, D("1500"), "JPY", 1500, None),
    ("jsonld-plain-decimals", dict(price="19.990", currency="EUR", source="jsonld"), None,
     D("19.990"), "EUR", 1000, None),
    ("card-usd", dict(price="$27", compare_at_price="$35", source="storefront"), None,
     D("27"), "USD", 1000, D("35")),
    ("card-eur-decimal-comma", dict(price="12,99 €", source="storefront"), None,
     D("12.99"), "EUR", 1000, None),
    ("card-eur-dot-thousands", dict(price="3.459 €", source="storefront",
                                    quantity="1,000,000 Likes"), None,
     D("3459"), "EUR", 1_000_000, None),
    ("card-brl", dict(price="R$ 29,90", compare_at_price="R$ 39,90", source="storefront"), None,
     D("29.90"), "BRL", 1000, D("39.90")),
    ("card-gbp", dict(price="£9.99", source="storefront", quantity="1.5k"), None,
     D("9.99"), "GBP", 1500, None),
    ("card-split-cents", dict(price="€ 1.499 00", source="storefront", quantity="1M Views"), None,
     D("1499.00"), "EUR", 1_000_000, None),
    ("no-currency-site-fallback", dict(price="12.99"), "CAD", D("12.99"), "CAD", 1000, None),
]


@pytest.mark.parametrize(("fields", "site", "price", "currency", "quantity", "compare_at"),
                         [case[1:] for case in PACKAGE_CASES],
                         ids=[case[0] for case in PACKAGE_CASES])
def test_package_normalization(fields, site, price, currency, quantity, compare_at):
    offer = normalized(retail(**fields), site_currency=site)
    assert isinstance(offer, NormalizedOffer), offer
    assert (offer.pricing, offer.price, offer.currency, offer.quantity, offer.compare_at_price) == (
        "package", price, currency, quantity, compare_at)
    assert offer.quantity_raw == fields.get("quantity", "1,000 Followers")  # as seen
    rate = usd_rate(currency, OBSERVED.date())
    assert rate is not None
    assert offer.usd_per_1000 == (price / quantity * 1000 * rate.rate).quantize(USD_QUANTUM)
    assert validate_offer(offer) is None


def test_platform_and_metric_come_from_product_and_variant_titles():
    offer = normalized(retail(name="TikTok - 2.5K Likes", quantity="2.5K Likes"))
    assert (offer.platform, offer.metric, offer.quantity) == ("tiktok", "likes", 2500)


@pytest.mark.parametrize(
    ("fields", "site", "reason"),
    [
        (dict(quantity="Mega pack", name="Twitter Followers - Mega pack"), "USD",
         "quantity not readable: 'Mega pack'"),
        (dict(quantity=None, name="Instagram Followers"), "USD",
         "quantity not readable: 'Instagram Followers'"),
        (dict(price="12.99", currency=None), None,
         "no currency: price '12.99' names none and the site has no currency"),
        (dict(price=None), "USD", "no price"),
        (dict(price="$12.99", currency="EUR", source="storefront"), None, "currency conflict"),
        (dict(compare_at_price="£15", currency="USD", price="12.99"), None, "currency conflict"),
        (dict(compare_at_price="call us"), "USD", "bad compare-at price"),
    ],
    ids=["unreadable-quantity", "no-size-anywhere", "no-currency-no-site-currency", "no-price",
         "currency-conflict", "compare-at-other-currency", "compare-at-not-a-price"],
)
def test_package_rejections(fields, site, reason):
    result = normalized(retail(**fields), site_currency=site)
    assert isinstance(result, Rejection)
    assert reason in result.reason


def test_panel_packages_without_size_are_still_kept():
    # Only retail sources reject a package without a size; a panel's package keeps USD null.
    raw = RawOffer(site_offer_id="237", name="Instagram Followers [Real]", price="25",
                   min_quantity="1", max_quantity="1", source="html")
    offer = normalized(raw)
    assert isinstance(offer, NormalizedOffer) and offer.quantity is None


@pytest.mark.parametrize(("value", "available"), [
    (True, True), (False, False), ("https://schema.org/InStock", True),
    ("http://schema.org/OutOfStock", False), ("SoldOut", False), (None, None), ("", None),
    ("maybe", None)])
def test_availability(value, available):
    assert normalized(retail(available=value)).available is available


def test_negative_compare_at_price_fails_validation():
    offer = normalized(retail(compare_at_price="-5"))
    assert validate_offer(offer) == "compare-at price is negative: -5"


# --- storage: raw texts kept, compare-at changes open periods -----------------------------------

@pytest.fixture
def engine(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'packages.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def store(engine, offers, moment):
    repository.upsert_site(engine, site_id="shop", url="http://shop.test/", family="shopify",
                           currency="EUR", now=moment, config={})
    run_id = repository.start_run(engine, site_id="shop", started_at=moment)
    return repository.complete_run(engine, run_id=run_id, site_id="shop", observed_at=moment,
                                   offers=offers, rejections=[], counters=[])


def package(moment, **fields):
    values = dict(price="12.99", currency="EUR", compare_at_price="15.99",
                  quantity="1,000 Followers", available=True)
    values.update(fields)
    offer = normalize_offer(retail(**values), site_currency=None, observed_at=moment)
    assert isinstance(offer, NormalizedOffer), offer
    return offer


def test_package_values_are_stored_and_compare_at_changes_open_periods(engine):
    day = timedelta(days=1)
    first = store(engine, [package(OBSERVED)], OBSERVED)
    same = store(engine, [package(OBSERVED + day)], OBSERVED + day)
    sale_over = store(engine, [package(OBSERVED + 2 * day, compare_at_price=None)],
                      OBSERVED + 2 * day)
    sold_out = store(engine, [package(OBSERVED + 3 * day, compare_at_price=None, available=False)],
                     OBSERVED + 3 * day)
    assert (first.new, same.unchanged, sale_over.changed, sold_out.changed) == (1, 1, 1, 1)
    periods = OfferPricePeriod.__table__
    with engine.connect() as connection:
        rows = connection.execute(select(
            periods.c.price, periods.c.quantity, periods.c.quantity_raw, periods.c.compare_at_price,
            periods.c.compare_at_price_raw, periods.c.available, periods.c.valid_to)
            .order_by(periods.c.id)).all()
        kinds = [row.kind for row in connection.execute(
            select(OfferEvent.__table__.c.kind).order_by(OfferEvent.__table__.c.id))]
    assert [(r.price, r.quantity, r.quantity_raw, r.compare_at_price, r.compare_at_price_raw,
             r.available) for r in rows] == [
        (D("12.99"), 1000, "1,000 Followers", D("15.99"), "15.99", True),
        (D("12.99"), 1000, "1,000 Followers", None, None, True),
        (D("12.99"), 1000, "1,000 Followers", None, None, False),
    ]
    assert [r.valid_to is None for r in rows] == [False, False, True]
    assert kinds == ["new", "limits_changed", "limits_changed"]


def test_views_show_package_columns(engine):
    from storage.views import v_offer_current, v_price_history

    store(engine, [package(OBSERVED)], OBSERVED)
    with engine.connect() as connection:
        current = connection.execute(select(v_offer_current)).one()
        history = connection.execute(select(v_price_history)).one()
    for row in (current, history):
        assert (row.quantity_raw, row.compare_at_price, row.compare_at_price_raw) == (
            "1,000 Followers", D("15.99"), "15.99")
    assert isinstance(current.compare_at_price, Decimal)  # the typed handle reads Decimal
