"""crawlers.extract.smm_api: API v2 ``services`` and ``balance`` responses -> raw offers.

Fixtures in tests/fixtures/smm/api are hand-written in the shapes real panels return (see
FORMATS.md §1): string or int ids, 0/1 flags, Package types, max 2147483647, wrappers, error
bodies, invalid JSON.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from crawlers.extract import smm_api
from crawlers.extract.rows import is_divider
from crawlers.items import ExtractError, RawOffer

API = Path(__file__).parent / "fixtures" / "smm" / "api"
HTML = Path(__file__).parent / "fixtures" / "smm" / "html"


def read(name: str) -> bytes:
    return (API / name).read_bytes()


def offers_by_id(name: str) -> dict[str, RawOffer]:
    return {offer.site_offer_id: offer for offer in smm_api.extract_services(read(name)).offers}


# -- per-field expectations ----------------------------------------------------------------------

EXPECTED_OFFERS = [
    # services_string_ids.json: the documented shape, strings everywhere, true/false flags.
    ("services_string_ids.json", "1003", dict(
        name="Instagram Followers [Max: 100K] [Refill: 30D] [Start Time: 0 - 1 Hr] [Speed: 5K/D] ♻️",
        category="Instagram Followers", price="0.90", pricing="per_1000", min_quantity="50",
        max_quantity="100000", service_type="Default", refill=True, cancel=True, dripfeed=False,
        description="Start Time: 0 - 1 Hr\nSpeed: 5K/Day\nRefill: 30 days", average_time=None)),
    ("services_string_ids.json", "1004", dict(
        name="Instagram Likes [10K] [LQ] [1H - 1K/Day] 💧", price="0.0015", dripfeed=True,
        average_time="45 minutes", description=None)),
    ("services_string_ids.json", "1005", dict(
        name="🇧🇷 Youtube Views | 1M | BRAZIL | 1H - 10K+/Day |", price="120.00000000",
        category="YouTube Views [Targeted]", refill=False, dripfeed=None)),
    # Entities are kept as the panel sent them: unescaping is the normalizer's job.
    ("services_string_ids.json", "1006", dict(
        name="TikTok Followers | Non Drop | Fast | HQ &amp;amp; Data Real | Refill 3 Day | 20K - 50K/Day",
        description="HQ accounts with posts")),
    # services_int_ids.json: ints and JSON numbers; numbers keep their literal text.
    ("services_int_ids.json", "1", dict(
        name="Followers", price="0.90", min_quantity="50", max_quantity="10000", refill=1,
        cancel=0, dripfeed="1", service_type="Default", category="First Category")),
    ("services_int_ids.json", "2", dict(
        name="Comments", price="8", pricing="per_1000", service_type="Custom Comments")),
    ("services_int_ids.json", "3", dict(
        price="0.30", max_quantity="2147483647", refill="1", cancel="0", service_type="default")),
    ("services_int_ids.json", "4", dict(price="1e-3", max_quantity="2147483647")),
    # services_packages.json: only Package types are priced per package.
    ("services_packages.json", "2001", dict(pricing="package", price="18.00", min_quantity="1",
                                            max_quantity="1", service_type="Package")),
    ("services_packages.json", "2002", dict(pricing="per_1000", service_type="Custom Comments")),
    ("services_packages.json", "2003", dict(pricing="package",
                                            service_type="Custom Comments Package")),
    ("services_packages.json", "2004", dict(pricing="per_1000", service_type="custom_comments")),
    ("services_packages.json", "2005", dict(pricing="package", price="95200",
                                            service_type="package")),
    ("services_packages.json", "2006", dict(pricing="per_1000", service_type="Comment Likes")),
    ("services_packages.json", "2007", dict(pricing="per_1000", service_type="Poll")),
    # Wrappers and a dict keyed by id.
    ("services_wrapper_services.json", "612", dict(
        name="🇮🇳 Instagram Indian Likes [ Real ] [ 1H - 2K/Day ]", price="1250.50", refill="0",
        cancel="1")),
    ("services_wrapper_data.json", "3041", dict(
        name="YouTube Unique Views - 𝐒𝐩𝐚𝐧𝐢𝐬𝐡 𝐒𝐩𝐞𝐚𝐤𝐞𝐫𝐬 [RAV-GS™ - Real & Active Views]",
        price="2.75", min_quantity="500", max_quantity="100000")),
    ("services_keyed_by_id.json", "1801", dict(name="Facebook Story Views [1K]", price="8.40")),
    ("services_keyed_by_id.json", "3008", dict(name="Spotify Premium Plays -  Italy [100K] ♻️")),
    ("services_utf8_bom.json", "77", dict(name="Instagram Saves [Max 1M]", price="0.04")),
]


@pytest.mark.parametrize(("fixture", "service_id", "expected"), EXPECTED_OFFERS,
                         ids=[f"{fixture.removesuffix('.json')}-{service_id}"
                              for fixture, service_id, _ in EXPECTED_OFFERS])
def test_offer_fields(fixture: str, service_id: str, expected: dict) -> None:
    offer = offers_by_id(fixture)[service_id]
    for field_name, value in expected.items():
        assert getattr(offer, field_name) == value, field_name
    assert offer.source == "api"


@pytest.mark.parametrize(("fixture", "count", "currency", "shape_note"), [
    ("services_string_ids.json", 4, None, "JSON array of 4 entries"),
    ("services_int_ids.json", 4, None, "JSON array of 4 entries"),
    ("services_packages.json", 7, None, "JSON array of 7 entries"),
    ("services_wrapper_services.json", 2, "INR", "services under 'services'"),
    ("services_wrapper_data.json", 2, None, "services under 'data'"),
    ("services_keyed_by_id.json", 2, None, "keyed by service id"),
    ("services_empty.json", 0, None, "JSON array of 0 entries"),
], ids=lambda value: value if isinstance(value, str) and value.endswith(".json") else None)
def test_payload_shapes(fixture: str, count: int, currency: str | None, shape_note: str) -> None:
    result = smm_api.extract_services(read(fixture))
    assert len(result.offers) == count
    assert result.rejected == []
    assert result.currency == currency
    assert any(shape_note in note for note in result.notes), result.notes


def test_text_and_bytes_give_the_same_offers() -> None:
    body = read("services_string_ids.json")
    assert smm_api.extract_services(body) == smm_api.extract_services(body.decode("utf-8"))


def test_the_id_from_a_dict_key_is_kept_in_raw() -> None:
    offer = offers_by_id("services_keyed_by_id.json")["1801"]
    assert offer.raw["_key"] == "1801"
    assert offer.raw["rate"] == "8.40"


# -- invariants over every offer of every valid fixture ---------------------------------------------

VALID_FIXTURES = ["services_string_ids.json", "services_int_ids.json", "services_packages.json",
                  "services_wrapper_services.json", "services_wrapper_data.json",
                  "services_keyed_by_id.json", "services_bad_entries.json",
                  "services_utf8_bom.json"]
ALL_OFFERS = [(fixture, offer) for fixture in VALID_FIXTURES
              for offer in smm_api.extract_services(read(fixture)).offers]


@pytest.mark.parametrize(("fixture", "offer"), ALL_OFFERS,
                         ids=[f"{fixture.removesuffix('.json')}-{offer.site_offer_id}"
                              for fixture, offer in ALL_OFFERS])
def test_every_offer_is_complete_and_as_written(fixture: str, offer: RawOffer) -> None:
    source = read(fixture).decode("utf-8-sig")
    assert isinstance(offer.site_offer_id, str) and offer.site_offer_id.strip()
    assert isinstance(offer.name, str) and offer.name.strip()
    assert isinstance(offer.price, str) and offer.price.strip()
    # The rate is exactly the panel's literal text: quoted string or bare JSON number.
    assert f'"{offer.price}"' in source or f": {offer.price}" in source \
        or f":{offer.price}" in source, offer.price
    assert offer.pricing in ("per_1000", "package")
    assert offer.pricing == "package" or "package" not in (offer.service_type or "").lower()
    for quantity in (offer.min_quantity, offer.max_quantity):
        assert quantity is None or isinstance(quantity, str)
    assert offer.source == "api"
    assert isinstance(offer.raw, dict) and offer.raw


# -- bad entries become rejections with reasons, never a crash ----------------------------------------

def test_bad_entries_are_rejected_with_reasons() -> None:
    result = smm_api.extract_services(read("services_bad_entries.json"))
    assert [offer.site_offer_id for offer in result.offers] == ["10", "15"]
    assert result.offers[0].price == "2.97"  # the first of two entries with id 10 is kept
    reasons = [(rejection.site_offer_id, rejection.reason) for rejection in result.rejected]
    assert reasons == [
        (None, "entry #2 is not an object (got a string ('Instagram Likes - disabled'))"),
        ("12", "entry #3: missing name"),
        (None, "entry #4: missing service id"),
        ("14", "entry #5: missing rate"),
        (None, "entry #6 is not an object (got null)"),
        ("10", "entry #7: duplicate service id '10' with a different name or rate "
               "(entry #1 was kept)"),
    ]
    assert result.rejected[3].raw["name"] == "Vimeo Follower"
    assert "2 services read, 6 entries rejected" in result.notes


def test_an_exact_repeat_is_skipped_and_counted() -> None:
    entry = {"service": "5", "name": "Instagram Likes", "rate": "0.5", "min": "10", "max": "100"}
    result = smm_api.extract_services(json.dumps([entry, entry]))
    assert len(result.offers) == 1 and result.rejected == []
    assert "1 exact repeats of an earlier entry skipped" in result.notes[-1]


# -- whole-payload errors -------------------------------------------------------------------------------

PAYLOAD_ERRORS = [
    ("trailing comma", read("services_trailing_comma.json"),
     "invalid JSON at line 3 column 168: trailing comma before '}'"),
    ("trailing comma in list", b'[\n  {"service": 1, "name": "x", "rate": "1"},\n]',
     "invalid JSON at line 2 column 43: trailing comma before ']'"),
    ("truncated", read("services_truncated.json"), "(truncated response?)"),
    ("truncated after a value", b'[{"service": 1, "name": "x", "rate": "1"}',
     "unexpected end of data (truncated response?)"),
    ("not json at all", b"Service temporarily unavailable",
     "invalid JSON at line 1 column 1: Expecting value"),
    ("error body", read("error_invalid_key.json"), "API error: Invalid API key"),
    ("incorrect request", read("error_incorrect_request.json"), "API error: Incorrect request"),
    ("status error", b'{"status": "error", "message": "Action not allowed"}',
     "API error: Action not allowed"),
    ("cloudflare page", (HTML / "cloudflare.html").read_bytes(),
     "expected JSON, got an HTML page (title: Just a moment...; looks like a Cloudflare challenge)"),
    ("maintenance page", (HTML / "maintenance.html").read_bytes(),
     "expected JSON, got an HTML page (title: Maintenance - BoostPanel)"),
    ("login page", b'<html><head><title>Sign in</title></head><body><form>'
                   b'<input name="LoginForm[username]"></form></body></html>',
     "expected JSON, got an HTML page (title: Sign in; looks like a login page)"),
    ("wrong shape", read("services_wrong_shape.json"),
     "unexpected JSON shape: 'services' holds a string ('maintenance'), not a list of services"),
    ("unknown object", b'{"foo": 1, "bar": 2}',
     "unexpected JSON shape: expected a list of services, got an object with keys: foo, bar"),
    ("a number", b"42", "expected a list of services, got a number (42)"),
    ("empty body", b"", "empty response body (expected JSON)"),
    ("whitespace body", b"  \n", "empty response body (expected JSON)"),
    ("latin-1 bytes", b'[{"service": 1, "name": "Se\xf1or", "rate": "1"}]',
     "response is not valid utf-8 text (bad byte at offset 27)"),
]


@pytest.mark.parametrize(("body", "message"), [case[1:] for case in PAYLOAD_ERRORS],
                         ids=[case[0] for case in PAYLOAD_ERRORS])
def test_payload_errors_have_clear_messages(body: bytes, message: str) -> None:
    with pytest.raises(ExtractError) as error:
        smm_api.extract_services(body)
    assert message in str(error.value)


# -- balance ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "expected"), [
    (read("balance.json"), ("100.84292", "USD")),
    (read("balance_int.json"), ("2500", "INR")),
    (b'{"balance": 12.50, "currency": "TRY"}', ("12.50", "TRY")),
    (b'{"balance": "0"}', ("0", None)),
], ids=["documented", "int balance", "float literal kept", "no currency"])
def test_balance(body: bytes, expected: tuple[str | None, str | None]) -> None:
    assert smm_api.extract_balance(body) == expected


@pytest.mark.parametrize(("body", "message"), [
    (read("error_invalid_key.json"), "API error: Invalid API key"),
    (b"[]", "unexpected balance response: expected a JSON object, got a list"),
    (b"<html><title>Just a moment...</title></html>", "expected JSON, got an HTML page"),
], ids=["error body", "a list", "html"])
def test_balance_errors(body: bytes, message: str) -> None:
    with pytest.raises(ExtractError, match=message.replace("(", r"\(").replace(")", r"\)")):
        smm_api.extract_balance(body)


# -- real names and rates (tests only read the dataset; nothing is copied) ----------------------------

def real_rows(smmpanels_dir: Path, panel: str, count: int) -> list[tuple[str, str, str]]:
    """``(id, name, rate)`` of the first ``count`` services of a panel's last crawled day."""
    path = sorted((smmpanels_dir / "raw" / panel).glob("*.csv.gz"))[-1]
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = [record for record in csv.reader(handle)][1:]
    rows = [(record[1].strip(), record[2], record[3].strip()) for record in records
            if len(record) >= 4 and record[1].strip().isdigit()
            and record[3].strip().replace(".", "", 1).isdigit()]
    return rows[:count]


def test_real_names_and_rates_round_trip(smmpanels_dir: Path) -> None:
    """Real service names (emoji, styled Unicode, entities) and rates survive extraction
    unchanged, whether ids, quantities and rates come as JSON strings or as JSON numbers."""
    rows = [row for panel in ("FollowersKart", "SocialPanel24", "PerfectSMM")
            for row in real_rows(smmpanels_dir, panel, 60)]
    assert len(rows) >= 150
    entries, literal_rates = [], {}
    for number, (_panel_id, name, rate) in enumerate(rows, start=1):
        as_numbers = number % 2 == 0
        placeholder = f"@@rate-{number}@@"
        if as_numbers:
            literal_rates[f'"{placeholder}"'] = rate  # written as a bare JSON number
        entries.append({"service": number if as_numbers else str(number), "name": name,
                        "type": "Default", "rate": placeholder if as_numbers else rate,
                        "min": 10 if as_numbers else "10",
                        "max": 2147483647 if as_numbers else "5000", "category": "Real"})
    text = json.dumps(entries, ensure_ascii=False)
    for placeholder, rate in literal_rates.items():
        text = text.replace(placeholder, rate)

    result = smm_api.extract_services(text)

    assert result.rejected == []
    read_back = {offer.site_offer_id: offer for offer in result.offers}
    dividers = 0
    for number, (_panel_id, name, rate) in enumerate(rows, start=1):
        if is_divider(name):  # "▫▫▫ ▫▫▫" at 1,000,000 per 1000: a divider, not a service
            assert str(number) not in read_back
            dividers += 1
            continue
        offer = read_back[str(number)]
        assert (offer.name, offer.price) == (name, rate)
        assert offer.max_quantity == ("2147483647" if number % 2 == 0 else "5000")


@pytest.mark.parametrize(("entry", "reason"), [
    ({"service": 1, "name": "Likes", "rate": {"usd": "0.5"}}, "entry #1: rate is an object"),
    ({"service": 1, "name": ["Likes"], "rate": "0.5"}, "entry #1: name is a list"),
    ({"service": 1, "name": "Likes", "rate": True}, "entry #1: rate is a boolean (true)"),
    ({"service": 1, "name": "Likes", "rate": "  "}, "entry #1: missing rate"),
], ids=["rate object", "name list", "rate boolean", "blank rate"])
def test_entries_with_unusable_values_are_rejected(entry: dict, reason: str) -> None:
    result = smm_api.extract_services(json.dumps([entry]))
    assert result.offers == []
    assert [rejection.reason for rejection in result.rejected] == [reason]
