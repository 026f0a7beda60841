"""A number that cannot be stored exactly is rejected, never dropped (issue 14, item 2).

Before: a rate of ``1e25``, ``1e308`` or a 23-digit integer raised ``decimal.InvalidOperation``
(``clickfarm extract`` lost every row with a traceback; a crawl dropped the row without a
rejection and marked the offer removed); ``"-0"`` was stored as a free listing; a 23-digit
quantity passed normalization and failed the whole batch in the 64-bit column; ``١٫٥`` was
stored as 1. Now every such value is a rejected row with its reason, in every family, and
digits of every script are read as the number they write.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from clickfarm.cli import app
from core.offers import NormalizedOffer, Rejection
from crawlers.items import RawOffer
from pipelines.base import CrawlerPipeline
from pipelines.money import MoneyError, QuantityError, parse_money, parse_quantity
from pipelines.normalize import normalize_offer
from pipelines.validate import validate_offer
from storage.db import get_engine, migrate
from storage.models import RejectedOffer
from storage.repository import active_offer_count
from tests.run_history import T0, add_site, good_run, offer

NOW = datetime(2026, 9, 1, 12, tzinfo=UTC)
TOO_LONG = "12345678901234567890123"  # 23 digits

# --- money: digits of every script ------------------------------------------------------------

DIGITS = [
    # (price text, site currency, amount)
    ("١٫٥", "USD", "1.5"),                 # Arabic-Indic, Arabic decimal separator U+066B
    ("۱٫۵", "USD", "1.5"),                 # Extended Arabic-Indic (Persian)
    ("١٬٢٣٤٫٥٠", "EGP", "1234.50"),        # Arabic thousands separator U+066C only groups
    ("۱۵٬۰۰۰ تومان", None, "15000"),        # toman, Persian digits
    ("۱٫۵۰۰", "IRT", "1.500"),             # the Arabic decimal sign wins over no-minor-units
    ("१.५", "INR", "1.5"),                 # Devanagari
    ("₹१,२३४.५०", "INR", "1234.50"),
    ("১.৫", "BDT", "1.5"),                 # Bengali
    ("๑.๕", "THB", "1.5"),                 # Thai
    ("１．５", "JPY", "1.5"),               # full-width digits and full stop
    ("１，２３４", "USD", "1234"),          # full-width comma groups like ","
    ("$٠٫٩٠٠", "USD", "0.900"),
]


@pytest.mark.parametrize(("text", "currency", "amount"), DIGITS, ids=[d[0] for d in DIGITS])
def test_prices_in_other_digit_systems_read_as_written(text, currency, amount):
    money = parse_money(text, currency)
    assert money.amount == Decimal(amount) and str(money.amount) == amount
    assert money.raw == text


QUANTITY_DIGITS = [("۱۰۰۰", 1000), ("१०००", 1000), ("١٬٠٠٠", 1000), ("۱٫۵k", 1500),
                   ("１０００", 1000), ("๑๐ ๐๐๐", 10000), ("২৫০০+", 2500)]


@pytest.mark.parametrize(("text", "value"), QUANTITY_DIGITS, ids=[q[0] for q in QUANTITY_DIGITS])
def test_quantities_in_other_digit_systems_read_as_written(text, value):
    assert parse_quantity(text) == value


# --- money: values that cannot be stored exactly ---------------------------------------------

OUT_OF_RANGE_PRICES: list[tuple[str, Any, str]] = [
    ("1e25", "1e25", "price out of range: '1e25'"),
    ("1e308", "1e308", "price out of range: '1e308'"),
    ("23-digits", TOO_LONG, f"price out of range: '{TOO_LONG}'"),
    ("exponent-overflow", "1E+999999999", "price out of range"),
    ("tiny", "1e-30", "price out of range: '1e-30'"),
    ("json-float-1e308", 1e308, "price out of range: '1e+308'"),
    ("json-int-23-digits", 10**22 + 1, "price out of range"),
    ("json-int-5000-digits", 10**5000, "price out of range"),
    ("decimal-1e25", Decimal("1e25"), "price out of range"),
    ("NaN", "NaN", "not a finite number"),
    ("Infinity", "Infinity", "not a finite number"),
    ("-Infinity", "-Infinity", "not a finite number"),
    ("json-nan", float("nan"), "not a finite number"),
]


@pytest.mark.parametrize(("value", "reason"), [(v, r) for _, v, r in OUT_OF_RANGE_PRICES],
                         ids=[i for i, _, _ in OUT_OF_RANGE_PRICES])
def test_prices_that_cannot_be_stored_exactly_are_errors(value, reason):
    for style in ("plain", "display"):
        with pytest.raises(MoneyError) as caught:
            parse_money(value, "USD", decimal_style=style)
        assert reason in str(caught.value)


@pytest.mark.parametrize("value", [TOO_LONG, 10**20, 1e300, "99999999999999999999999999999999b",
                                   "9223372036854775808"],
                         ids=["23-digits", "int-1e20", "float-1e300", "huge-suffix", "2^63"])
def test_quantities_beyond_the_64_bit_columns_are_errors(value):
    with pytest.raises(QuantityError, match="quantity out of range"):
        parse_quantity(value)


def test_largest_64_bit_quantity_is_kept():
    assert parse_quantity("9223372036854775807") == 2**63 - 1


# --- normalize + validate: every field, one rejection with its reason -------------------------

def raw_offer(**fields: Any) -> RawOffer:
    values: dict[str, Any] = {"site_offer_id": " 7 ", "name": "Instagram Followers",
                              "category": "Instagram", "price": "1.50", "currency": "USD",
                              "min_quantity": "10", "max_quantity": "1000", "source": "api"}
    values.update(fields)
    return RawOffer(**values)


FIELD_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("price-1e25", {"price": "1e25"}, "bad price: price out of range: '1e25'"),
    ("price-1e308", {"price": "1e308"}, "price out of range: '1e308'"),
    ("price-23-digits", {"price": TOO_LONG}, "price out of range"),
    ("price-NaN", {"price": "NaN"}, "not a finite number"),
    ("price-Infinity", {"price": "Infinity"}, "not a finite number"),
    ("price-minus-zero", {"price": "-0"}, "rate is negative: -0"),
    ("price-minus-zero-display", {"price": "$-0.00", "source": "html"}, "rate is negative"),
    ("price-negative", {"price": "-1"}, "rate is negative: -1"),
    ("price-absurd", {"price": "999999999999"}, "absurd rate"),
    ("compare-at-1e25", {"pricing": "package", "quantity": "1000", "source": "shopify",
                         "compare_at_price": "1e25"}, "bad compare-at price: price out of range"),
    ("compare-at-minus-zero", {"pricing": "package", "quantity": "1000", "source": "shopify",
                               "compare_at_price": "-0"}, "compare-at price is negative"),
    ("min-23-digits", {"min_quantity": TOO_LONG}, "bad min quantity: quantity out of range"),
    ("max-23-digits", {"max_quantity": TOO_LONG}, "bad max quantity: quantity out of range"),
    ("max-json-1e20", {"max_quantity": 10**20}, "bad max quantity: quantity out of range"),
    ("package-size-23-digits", {"pricing": "package", "quantity": TOO_LONG,
                                "source": "api"}, f"quantity not readable: '{TOO_LONG}'"),
]


def normalized_and_validated(raw: RawOffer) -> NormalizedOffer | Rejection:
    result = normalize_offer(raw, site_currency="USD", observed_at=NOW)
    if isinstance(result, Rejection):
        return result
    reason = validate_offer(result)
    return Rejection(site_offer_id=result.site_offer_id, reason=reason) if reason else result


@pytest.mark.parametrize(("fields", "reason"), [(f, r) for _, f, r in FIELD_CASES],
                         ids=[i for i, _, _ in FIELD_CASES])
def test_every_field_that_fails_becomes_a_rejection_with_its_reason(fields, reason):
    result = normalized_and_validated(raw_offer(**fields))
    assert isinstance(result, Rejection), result
    assert reason in result.reason
    assert result.site_offer_id == "7"  # the id the offer has: the listing keeps it as seen


def test_other_digit_systems_are_normalized_as_written():
    result = normalized_and_validated(raw_offer(price="١٫٥", max_quantity="۱۰۰۰", source="html"))
    assert isinstance(result, NormalizedOffer)
    assert (result.price, result.price_raw, result.max_quantity) == (Decimal("1.5"), "١٫٥", 1000)
    assert result.usd_per_1000 == Decimal("1.500000")


# --- pipelines: an exception inside a step rejects the item ----------------------------------

class _Exploding:
    """A value whose text cannot be produced: any step touching it raises."""

    def __str__(self) -> str:
        raise RuntimeError("the seller's category broke the normalizer")


def real_crawler() -> Any:
    """A Scrapy crawler with its stats and a real smm_api spider, as the pipelines see them."""
    from scrapy.utils.test import get_crawler

    from core.config import SiteConfig
    from crawlers.spiders.smm_api import SmmApiSpider

    site = SiteConfig(id="panel", url="http://127.0.0.1:9/", family="smm_api", currency="USD")
    crawler = get_crawler(SmmApiSpider)
    crawler.spider = SmmApiSpider.from_crawler(crawler, site=site, observed_at=NOW)
    return crawler


@pytest.mark.parametrize("stage", ["normalize", "validate"])
def test_an_exception_inside_a_pipeline_step_becomes_a_rejection(stage):
    from pipelines.normalize_pipeline import NormalizePipeline
    from pipelines.validate_pipeline import ValidatePipeline

    crawler = real_crawler()
    if stage == "normalize":
        pipeline: CrawlerPipeline = NormalizePipeline(crawler)  # type: ignore[arg-type]
        item: Any = raw_offer(category=_Exploding())
        expected = "normalization failed: RuntimeError: the seller's category broke"
    else:
        pipeline = ValidatePipeline(crawler)  # type: ignore[arg-type]
        good = normalized_and_validated(raw_offer())
        assert isinstance(good, NormalizedOffer)
        item = replace(good, min_quantity="ten")  # type: ignore[arg-type] - "ten" < 0 raises
        expected = "validation failed: TypeError"
    result = pipeline.process_item(item)
    assert isinstance(result, Rejection), result
    assert result.site_offer_id == "7"
    assert result.reason.startswith(expected), result.reason
    assert crawler.stats.get_value("offers/rejected/pipeline_error") == 1


# --- storage: a rejected offer is never marked removed ----------------------------------------

def test_an_offer_rejected_today_is_not_marked_removed(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    add_site(engine, "panel")
    good_run(engine, "panel", T0, listing=[offer("1"), offer("2"), offer("3")])
    # Day 1: offer 2's rate is now 1e25 (rejected by normalization, the id as the seller
    # wrote it, with spaces), offer 3 raised inside a pipeline step; offer 1 is unchanged.
    from storage import repository as repo

    run_id = repo.start_run(engine, site_id="panel", started_at=T0 + timedelta(days=1),
                            pid=os.getpid())
    result = repo.complete_run(
        engine, run_id=run_id, site_id="panel", observed_at=T0 + timedelta(days=1),
        offers=[offer("1")], counters=[], status="succeeded",
        rejections=[Rejection(site_offer_id=" 2 ", reason="bad price: price out of range: '1e25'",
                              raw={"rate": "1e25"}),
                    Rejection(site_offer_id="3", reason="normalization failed: RuntimeError: x")])
    assert result.removed == 0
    assert active_offer_count(engine, site_id="panel") == 3
    with engine.connect() as connection:
        reasons = connection.execute(select(RejectedOffer.__table__.c.reason)
                                     .where(RejectedOffer.__table__.c.run_id == run_id)).scalars()
        assert sorted(reasons) == ["bad price: price out of range: '1e25'",
                                   "normalization failed: RuntimeError: x"]


# --- clickfarm extract, every family: good rows printed, bad ones rejected on stderr ---------

def smm_api_page(rates: list[Any]) -> bytes:
    return json.dumps([{"service": index, "name": f"Instagram Followers {index}",
                        "category": "Instagram", "rate": rate, "min": "10", "max": "1000",
                        "type": "Default"} for index, rate in enumerate(rates, start=1)],
                      ensure_ascii=False).encode()


def smm_html_page(rates: list[Any]) -> bytes:
    rows = "".join(f"<tr><td>{index}</td><td>Instagram Followers {index}</td><td>{rate}</td>"
                   f"<td>10</td><td>1000</td></tr>" for index, rate in enumerate(rates, start=1))
    return (f"<html><body><table><thead><tr><th>ID</th><th>Service</th><th>Rate per 1000</th>"
            f"<th>Min order</th><th>Max order</th></tr></thead><tbody>{rows}</tbody></table>"
            f"</body></html>").encode()


def shopify_page(rates: list[Any]) -> bytes:
    return json.dumps({"products": [{
        "id": index, "title": f"Instagram Followers {index}", "product_type": "Instagram",
        "options": [{"name": "Quantity", "position": 1, "values": ["1000 Followers"]}],
        "variants": [{"id": 100 + index, "title": "1000 Followers", "option1": "1000 Followers",
                      "available": True, "price": rate, "compare_at_price": None}]}
        for index, rate in enumerate(rates, start=1)]}, ensure_ascii=False).encode()


def woocommerce_page(rates: list[Any]) -> bytes:
    return json.dumps([{
        "id": index, "name": f"1000 Instagram Followers {index}", "type": "simple",
        "permalink": f"https://shop.example/p/{index}/", "is_in_stock": True,
        "prices": {"price": rate, "regular_price": rate, "currency_code": "USD",
                   "currency_minor_unit": 2}, "attributes": [], "variations": []}
        for index, rate in enumerate(rates, start=1)], ensure_ascii=False).encode()


def storefront_page(rates: list[Any]) -> bytes:
    products = [{"@context": "https://schema.org/", "@type": "Product",
                 "name": f"1000 Instagram Followers {index}", "sku": f"ig-{index}",
                 "offers": {"@type": "Offer", "priceCurrency": "USD", "price": rate,
                            "availability": "https://schema.org/InStock"}}
                for index, rate in enumerate(rates, start=1)]
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(p, ensure_ascii=False)}'
                      f"</script>" for p in products)
    return f"<html><head>{scripts}</head><body></body></html>".encode()


PAGES = {"smm_api": smm_api_page, "smm_html": smm_html_page, "shopify": shopify_page,
         "woocommerce": woocommerce_page, "storefront": storefront_page,
         "spa": storefront_page}
# (family, hostile value, reason expected on stderr). WooCommerce prices are integers of
# minor units, so its huge value is a 40-digit integer (exact, then out of range).
EXTRACT_CASES = [
    *[(family, "1e25", "out of range") for family in PAGES if family != "woocommerce"],
    *[(family, TOO_LONG, "out of range") for family in PAGES if family != "woocommerce"],
    *[(family, "NaN", "not a finite number") for family in ("smm_api", "shopify", "storefront")],
    ("smm_api", 1e308, "out of range"),
    ("smm_api", "-0", "negative"),
    ("smm_html", "-0", "negative"),
    ("woocommerce", "1" * 40, "out of range"),
    ("woocommerce", "1e25", "whole number of minor units"),
]
GOOD_PRICE = {"woocommerce": "1299"}


@pytest.mark.parametrize(("family", "value", "reason"), EXTRACT_CASES,
                         ids=[f"{f}-{str(v)[:12]}" for f, v, _ in EXTRACT_CASES])
def test_extract_rejects_the_bad_row_and_prints_the_others(tmp_path, family, value, reason):
    path: Path = tmp_path / "page"
    path.write_bytes(PAGES[family]([GOOD_PRICE.get(family, "12.99"), value]))
    result = CliRunner().invoke(app, ["extract", str(path), "--family", family, "--currency",
                                      "USD", "--observed-at", "2026-09-01"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    offers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [o["price"] for o in offers] == ["12.99"], result.output
    assert "1 offers, 1 rejected" in result.stderr, result.stderr
    rejected = [line for line in result.stderr.splitlines() if line.startswith("rejected")]
    assert len(rejected) == 1 and reason in rejected[0], result.stderr


@pytest.mark.parametrize("family", list(PAGES))
def test_extract_reads_arabic_indic_prices_in_every_family(tmp_path, family):
    path: Path = tmp_path / "page"
    # WooCommerce's Store API writes integer minor units: ١٢٩٩ cents.
    path.write_bytes(PAGES[family](["١٢٩٩" if family == "woocommerce" else "١٢٫٩٩"]))
    result = CliRunner().invoke(app, ["extract", str(path), "--family", family, "--currency",
                                      "USD", "--observed-at", "2026-09-01"])
    assert result.exit_code == 0, result.output
    offers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [o["price"] for o in offers] == ["12.99"], result.output


# --- a real crawl of a loopback panel: rejected, never dropped, never removed ----------------

class _Panel:
    """A loopback smm_api panel whose ``services`` answer the test sets (bytes)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        panel = self
        self.services = b"[]"

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                # The landing page (no counters on it); no robots.txt.
                body = b"<html><body>panel</body></html>" if self.path == "/" else b""
                self.send_response(200 if body else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0)))
                                .decode())
                body = (b'{"balance": "10.00", "currency": "USD"}'
                        if form.get("action") == ["balance"] else panel.services)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def list(self, rates: dict[int, Any]) -> None:
        self.services = json.dumps(
            [{"service": sid, "name": f"Instagram Followers {sid}", "category": "Instagram",
              "rate": rate, "min": "10", "max": "1000", "type": "Default"}
             for sid, rate in rates.items()], ensure_ascii=False).encode()


def test_crawl_rejects_bad_numbers_and_removes_nothing(tmp_path, monkeypatch):
    from reports.runs import latest_runs

    panel = _Panel()
    monkeypatch.setenv("CLICKFARM_KEY_HOSTILE", "test-key")
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        "sites:\n"
        f"  - {{id: hostile, url: '{panel.url}', family: smm_api, currency: USD,\n"
        "     api_key_env: CLICKFARM_KEY_HOSTILE}\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'crawl.db'}"
    engine = get_engine(url)

    def crawl(day: str) -> Any:
        result = CliRunner().invoke(app, ["crawl", "--site", "hostile", "--sites-file",
                                          str(sites), "--database-url", url,
                                          "--observed-at", f"{day}T12:00:00+00:00",
                                          "--timeout", "120"],
                                    env={"COLUMNS": "250", "NO_COLOR": "1"})
        assert "Traceback" not in result.output, result.output
        run = latest_runs(engine, site_ids=["hostile"])[0]
        return result, run

    try:
        panel.list({1: "0.50", 2: "1.00", 3: "1.50", 4: "2.00", 5: "2.50"})
        _, first = crawl("2026-09-01")
        assert (first["status"], first["offers_new"]) == ("succeeded", 5), first["error"]
        # Day 2: 2 and 5 have values no column can hold exactly, 4 says "-0", 3 writes its
        # unchanged 1.5 in Arabic-Indic digits.
        panel.list({1: "0.50", 2: "1e25", 3: "١٫٥", 4: "-0", 5: "1" + "0" * 22})
        _, second = crawl("2026-09-02")
        assert second["status"] == "succeeded", second
        assert (second["offers_rejected"], second["offers_removed"],
                second["offers_changed"]) == (3, 0, 0), second
        assert active_offer_count(engine, site_id="hostile") == 5
        rejected = RejectedOffer.__table__
        with engine.connect() as connection:
            reasons = dict(connection.execute(
                select(rejected.c.site_offer_id, rejected.c.reason)
                .where(rejected.c.run_id == second["id"])).all())
        assert reasons == {"2": "bad price: price out of range: '1e25'",
                           "4": "rate is negative: -0",
                           "5": f"bad price: price out of range: '1{'0' * 22}'"}
        # Day 3: the panel answers an error whose text is markup: shown as written.
        panel.services = b'{"error": "Views [/] closing [link=https://evil.example]x[/link]"}'
        result, third = crawl("2026-09-03")
        assert third["status"] == "failed"
        # (the runs table cuts errors at 80 characters, after the URL of the API)
        assert "API error: Views [/] closing [link=https://evil" in result.stdout
    finally:
        panel.server.shutdown()
        engine.dispose()
