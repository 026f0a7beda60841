"""The `clickfarm` command: extract contract, price report formats, crawl against the simulator."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from clickfarm.cli import app
from core.offers import Attributes, NormalizedOffer
from storage import repository
from storage.db import get_engine, migrate
from tests.conftest import FIXTURES
from tests.simulated import start_simulated

runner = CliRunner()

# The offline extraction contract of DESIGN.md: these keys, unknown values null.
CONTRACT_KEYS = {"site_offer_id", "name", "category", "platform", "metric", "price", "quantity",
                 "currency", "usd_per_1000", "min_quantity", "max_quantity", "refill_days",
                 "country", "quality", "drip_feed"}


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    ("path", "family", "extra"),
    [
        ("smm/api/services_string_ids.json", "smm_api", ["--currency", "USD"]),
        ("smm/html/perfectpanel_classic_en.html", "smm_html", []),
        ("smm/html/perfectpanel_new_tr_star.html", "smm_html", []),
        ("smm/html/smartpanel_inr.html", "smm_html", []),
    ],
    ids=["api", "classic-theme", "turkish-star-theme", "smartpanel-inr"],
)
def test_extract_prints_the_contract_fields(path, family, extra):
    result = runner.invoke(app, ["extract", str(FIXTURES / path), "--family", family,
                                 "--observed-at", "2026-09-01", *extra])
    assert result.exit_code == 0, result.output
    offers = json_lines(result.stdout)
    assert offers
    for offer in offers:
        assert CONTRACT_KEYS <= offer.keys()
        assert offer["name"] and offer["site_offer_id"]
        Decimal(offer["price"])
        if offer["usd_per_1000"] is not None:
            assert Decimal(offer["usd_per_1000"]) >= 0


def test_extract_converts_at_the_ecb_rate_of_the_date():
    result = runner.invoke(app, ["extract", str(FIXTURES / "smm/api/services_string_ids.json"),
                                 "--family", "smm_api", "--currency", "INR",
                                 "--observed-at", "2026-09-01"])
    offer = json_lines(result.stdout)[0]
    assert offer["fx_date"] == "2026-09-01"
    expected = (Decimal(offer["price"]) * Decimal(offer["fx_rate"])).quantize(Decimal("0.000001"))
    assert Decimal(offer["usd_per_1000"]) == expected
    assert Decimal("0.005") < Decimal(offer["fx_rate"]) < Decimal("0.02")  # INR -> USD


def test_extract_without_a_currency_prints_it_as_unknown():
    result = runner.invoke(app, ["extract", str(FIXTURES / "smm/api/services_string_ids.json"),
                                 "--family", "smm_api"])
    assert result.exit_code == 0, result.output
    offers = json_lines(result.stdout)
    assert offers and all(o["currency"] is None and o["usd_per_1000"] is None for o in offers)
    assert all(Decimal(o["price"]) > 0 for o in offers)
    assert "pass --currency" in result.stderr


@pytest.mark.parametrize(
    ("path", "family", "message"),
    [
        ("smm/api/services_trailing_comma.json", "smm_api", "invalid JSON at line"),
        ("smm/api/error_invalid_key.json", "smm_api", "API error"),
        ("smm/html/maintenance.html", "smm_html", "no price table"),
    ],
    ids=["invalid-json", "api-error", "no-table"],
)
def test_extract_reports_page_errors_clearly(path, family, message):
    result = runner.invoke(app, ["extract", str(FIXTURES / path), "--family", family])
    assert result.exit_code == 1
    assert message in result.output


def test_extract_missing_file_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["extract", str(tmp_path / "nope.html"), "--family", "smm_html"])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def _offer(site_offer_id: str, usd: str, platform: str = "instagram",
           metric: str = "followers") -> NormalizedOffer:
    return NormalizedOffer(
        site_offer_id=site_offer_id, name=f"{platform} {metric} {site_offer_id}",
        name_raw=f"{platform} {metric} {site_offer_id}", category=None, platform=platform,
        metric=metric, pricing="per_1000", price=Decimal(usd), price_raw=usd, currency="USD",
        quantity=None, usd_per_1000=Decimal(usd), fx_rate=Decimal(1), fx_date=date(2026, 9, 1),
        min_quantity=10, max_quantity=1000, service_type="Default", description=None,
        average_time=None, refill_flag=None, cancel_flag=None, attributes=Attributes())


@pytest.fixture
def priced_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'report.db'}"
    engine = get_engine(url)
    migrate(engine)
    moment = datetime(2026, 9, 1, 12, tzinfo=UTC)
    for site_id, prices in {"seller-a": ["1.00", "2.00", "3.00"], "seller-b": ["5.00"]}.items():
        repository.upsert_site(engine, site_id=site_id, url=f"http://{site_id}/",
                               family="smm_api", currency="USD", now=moment)
        run_id = repository.start_run(engine, site_id=site_id, started_at=moment)
        offers = [_offer(f"{index}", price) for index, price in enumerate(prices)]
        offers.append(_offer("views", "0.10", metric="views"))
        repository.complete_run(engine, run_id=run_id, site_id=site_id, observed_at=moment,
                                offers=offers, rejections=[], counters=[])
    # A day later seller-a's cheapest offer doubles: the index uses the price at the end.
    later = moment + timedelta(days=1)
    run_id = repository.start_run(engine, site_id="seller-a", started_at=later)
    repository.complete_run(engine, run_id=run_id, site_id="seller-a", observed_at=later,
                            offers=[_offer("0", "2.00"), _offer("1", "2.00"), _offer("2", "3.00"),
                                    _offer("views", "0.10", metric="views")],
                            rejections=[], counters=[])
    return url


def test_report_prices_json(priced_database):
    result = runner.invoke(app, ["report", "prices", "--from", "2026-09-01", "--to", "2026-09-02",
                                 "--format", "json", "--database-url", priced_database])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["unit"] == "USD per 1000" and "method" in report
    followers = next(row for row in report["rows"] if row["metric"] == "followers")
    # seller-a: 2, 2, 3 (after the change); seller-b: 5
    assert followers == {"platform": "instagram", "metric": "followers", "median": "2.500000",
                         "q1": "2.000000", "q3": "3.500000", "minimum": "2.000000",
                         "maximum": "5.000000",
                         "offers": 4, "sellers": 2}


def test_report_prices_csv_and_filters(priced_database):
    result = runner.invoke(app, ["report", "prices", "--from", "2026-09-01", "--to", "2026-09-01",
                                 "--metric", "views", "--format", "csv",
                                 "--database-url", priced_database])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["platform"], row["metric"], row["offers"], row["sellers"]) for row in rows] == [
        ("instagram", "views", "2", "2")]


def test_report_prices_table_says_how_it_was_computed(priced_database):
    result = runner.invoke(app, ["report", "prices", "--from", "2026-09-01", "--to", "2026-09-02",
                                 "--database-url", priced_database], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "instagram" in result.output and "method:" in result.output


def test_report_rejects_inverted_range(priced_database):
    result = runner.invoke(app, ["report", "prices", "--from", "2026-09-05", "--to", "2026-09-01",
                                 "--database-url", priced_database])
    assert result.exit_code == 2 and "is after" in result.output


def test_crawl_command_against_the_simulator(tmp_path):
    setup = start_simulated(tmp_path, seed=5, panels=6)
    try:
        arguments = ["crawl", "--sites-file", str(setup.sites_path), "--database-url",
                     setup.database_url, "--observed-at", "2026-09-01T12:00:00"]
        result = runner.invoke(app, [*arguments, "--site", "panel-03", "--site", "panel-05"],
                               env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert "panel-03" in result.output and "succeeded" in result.output
        assert runner.invoke(app, ["crawl", "--sites-file", str(setup.sites_path)]).exit_code == 2
        unknown = runner.invoke(app, [*arguments, "--site", "panel-99"])
        assert unknown.exit_code == 2 and "unknown site id" in unknown.output
        setup.market.inject_fault("panel-03", "no_table")
        failed = runner.invoke(app, [*arguments, "--site", "panel-03"], env={"COLUMNS": "200"})
        assert failed.exit_code == 1 and "failed" in failed.output
    finally:
        setup.server.stop()


def test_report_on_an_empty_range_says_what_the_database_covers(priced_database):
    result = runner.invoke(app, ["report", "prices", "--from", "2027-01-01", "--to", "2027-01-31",
                                 "--format", "csv", "--database-url", priced_database])
    assert result.exit_code == 0
    assert "the database covers 2026-09-01 to 2026-09-02" in result.stderr
