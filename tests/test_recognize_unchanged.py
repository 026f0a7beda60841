"""An unchanged listing is recognized before it is normalized, and never hides a change (issue 11).

Listings go through the real item pipelines (``crawlers.settings.ITEM_PIPELINES``) of an
``smm_api`` spider into SQLite, as one :class:`~crawlers.items.ItemBatch`, without HTTP.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.http import TextResponse
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector
from sqlalchemy import Engine, text

from core.config import SiteConfig
from crawlers.items import ExtractResult, ItemBatch, RawCounter, RawOffer, RawRejection
from crawlers.spiders.smm_api import SmmApiSpider
from pipelines import fingerprint
from simulator.store import _fresh_sqlite_from_template, item_pipelines
from storage.db import get_engine

SITE = SiteConfig(id="recog", url="http://127.0.0.1:9/", family="smm_api", currency="USD",
                  api_key_env="RECOG_API_KEY")
DAY_1 = datetime(2026, 9, 1, 12, tzinfo=UTC)
DAY_2 = DAY_1 + timedelta(days=1)

BASE = RawOffer(site_offer_id="101", name="Instagram Followers [Refill: 30D]",
                category="Instagram", price="1.500", pricing="per_1000", currency=None,
                quantity=None, compare_at_price=None, available=None, min_quantity="50",
                max_quantity="10000", service_type="Default", refill=True, cancel=False,
                dripfeed=False, description="Fast start", average_time="1 hour", source="api")
OTHERS = [dataclasses.replace(BASE, site_offer_id=str(200 + index), name=f"YouTube Views #{index}",
                              category="YouTube", price=f"0.{index + 1}0")
          for index in range(3)]

# raw field -> (the listing before, as overrides of BASE; the field's new value). Every raw
# field normalization reads has a row (test_every_raw_field_has_a_row), and each new value
# changes what is stored.
CHANGES: dict[str, tuple[dict[str, Any], Any]] = {
    "site_offer_id": ({}, "102"),
    "name": ({}, "TikTok Likes [Refill: 30D]"),
    "category": ({}, "TikTok"),
    "price": ({}, "1.600"),
    "pricing": ({}, "package"),
    "currency": ({}, "EUR"),
    "quantity": ({"pricing": "package", "quantity": "1000"}, "2000"),
    "compare_at_price": ({}, "2.00"),
    "available": ({}, False),
    "min_quantity": ({}, "100"),
    "max_quantity": ({}, "20000"),
    "service_type": ({}, "Custom Comments"),
    "refill": ({}, False),
    "cancel": ({}, True),
    "dripfeed": ({}, True),
    "description": ({}, "Slow start"),
    "average_time": ({}, "2 hours"),
    "source": ({}, "storefront"),  # display style: "1.500" is 1500
    # a unit price: "1.500 per 100" is 15 per 1000, "per 1000" is 1.5
    "price_per_units": ({"price_per_units": "1000"}, "100"),
    # the page around the offer names the platform when name and category do not
    "context": ({"name": "Followers [Refill: 30D]", "category": "Followers",
                 "context": "Buy Instagram Followers"}, "Buy TikTok Followers"),
}

SNAPSHOT_SQL = """
SELECT o.site_offer_id, o.name, o.name_raw, o.category, o.platform, o.metric, o.pricing,
       o.service_type, o.description, o.average_time, o.refill_flag, o.cancel_flag,
       o.refill_days, o.drip_feed, o.is_active, o.raw_fingerprint,
       p.price, p.price_raw, p.currency, p.quantity, p.quantity_raw, p.compare_at_price,
       p.min_quantity, p.max_quantity, p.available
FROM offer AS o LEFT JOIN offer_price_period AS p ON p.offer_id = o.id AND p.valid_to IS NULL
WHERE o.site_id = 'recog' AND o.is_active
ORDER BY o.site_offer_id
"""


def crawl(engine: Engine, listing: list[Any], *, observed_at: datetime,
          stated_currency: str | None = None, before_store: Any = None) -> dict[str, Any]:
    """One crawl of SITE whose listing is ``listing`` (one batch); returns the crawl's stats."""
    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    settings.set("CLICKFARM_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    settings.set("LOG_ENABLED", False)
    crawler = Crawler(SmmApiSpider, settings)
    crawler.stats = MemoryStatsCollector(crawler)
    spider = SmmApiSpider.from_crawler(crawler, site=SITE, observed_at=observed_at)
    crawler.spider = spider
    spider.outcome.listing_read = True
    spider.outcome.stated_currency = stated_currency
    pipelines = item_pipelines(crawler, engine)
    pipelines[-1].open_spider()
    item: Any = ItemBatch(items=[dataclasses.replace(raw) if isinstance(raw, RawOffer) else raw
                                 for raw in listing])
    for pipeline in pipelines:
        item = pipeline.process_item(item)
    if before_store is not None:
        before_store()
    pipelines[-1].spider_closed(spider, "finished")
    return dict(crawler.stats.get_stats())


def snapshot(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(SNAPSHOT_SQL))]


def last_run(engine: Engine) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT status, offers_new, offers_changed, offers_unchanged, price_rows_added,"
            " offers_rejected, error FROM crawl_run ORDER BY id DESC LIMIT 1")).one()


@pytest.fixture
def new_engine(tmp_path: Path) -> Iterator[Any]:
    engines: list[Engine] = []

    def make(name: str = "store") -> Engine:
        url = f"sqlite:///{tmp_path / f'{name}.db'}"
        _fresh_sqlite_from_template(url)  # a copy of a migrated empty database
        engine = get_engine(url)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


def test_every_raw_field_has_a_row() -> None:
    """A field added to RawOffer joins the fingerprint by default; it needs a row here too."""
    assert set(fingerprint.RAW_FIELDS) == set(CHANGES)
    assert "raw" not in fingerprint.RAW_FIELDS


@pytest.mark.parametrize("field", sorted(CHANGES) + ["site currency"])
def test_a_changed_raw_field_is_normalized_and_stored(field: str, new_engine: Any) -> None:
    overrides, new_value = CHANGES.get(field, ({}, None))
    before = dataclasses.replace(BASE, **overrides)
    after = before if field == "site currency" else dataclasses.replace(before,
                                                                       **{field: new_value})
    stated = "EUR" if field == "site currency" else None
    engine = new_engine("recrawled")
    crawl(engine, [before, *OTHERS], observed_at=DAY_1)
    first = snapshot(engine)
    stats = crawl(engine, [after, *OTHERS], observed_at=DAY_2, stated_currency=stated)
    if field == "site currency":  # every offer is priced in the stated currency now
        assert stats.get("offers/recognized", 0) == 0
    else:
        assert stats["offers/recognized"] == len(OTHERS)  # the others only confirmed
    assert last_run(engine).status == "succeeded"
    # What the re-crawl stored is what a first crawl of the changed listing stores.
    fresh = new_engine("fresh")
    crawl(fresh, [after, *OTHERS], observed_at=DAY_2, stated_currency=stated)
    assert snapshot(engine) == snapshot(fresh)
    assert snapshot(engine) != first  # and the change is visible


def test_an_unchanged_listing_only_confirms_its_offers(db_engine: Engine) -> None:
    engine = db_engine  # SQLite and PostgreSQL
    listing = [BASE, *OTHERS]
    first_stats = crawl(engine, listing, observed_at=DAY_1)
    assert first_stats.get("offers/recognized", 0) == 0
    assert first_stats["offers/normalized"] == len(listing)
    stats = crawl(engine, listing, observed_at=DAY_2)
    assert stats["offers/recognized"] == len(listing)
    assert stats.get("offers/normalized", 0) == 0
    run = last_run(engine)
    assert (run.status, run.offers_new, run.offers_changed, run.offers_unchanged,
            run.price_rows_added) == ("succeeded", 0, 0, len(listing), 0)
    with engine.connect() as connection:
        moments = connection.execute(text(
            "SELECT o.last_seen_at, p.last_confirmed_at, p.valid_from FROM offer AS o"
            " JOIN offer_price_period AS p ON p.offer_id = o.id AND p.valid_to IS NULL")).all()
    assert len(moments) == len(listing)
    for last_seen, confirmed, valid_from in moments:  # text on SQLite, datetimes on PostgreSQL
        assert DAY_2.isoformat()[:19] in str(last_seen).replace(" ", "T")
        assert DAY_2.isoformat()[:19] in str(confirmed).replace(" ", "T")
        assert DAY_1.isoformat()[:19] in str(valid_from).replace(" ", "T")


def test_a_new_normalizer_version_renormalizes_every_offer(
        new_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipelines.normalize_pipeline as normalize_pipeline

    engine = new_engine()
    listing = [BASE, *OTHERS]
    crawl(engine, listing, observed_at=DAY_1)
    original = normalize_pipeline.normalize_offer

    def new_normalizer(*args: Any, **kwargs: Any) -> Any:  # the code changed: a new value
        offer = original(*args, **kwargs)
        offer.average_time = "normalized again"
        return offer

    monkeypatch.setattr(normalize_pipeline, "normalize_offer", new_normalizer)
    # Same version: the listings are recognized, the new code does not run on them.
    stats = crawl(engine, listing, observed_at=DAY_2)
    assert stats["offers/recognized"] == len(listing)
    assert {row[9] for row in snapshot(engine)} != {"normalized again"}
    # A new version (as a change of the code or the taxonomy makes): every offer again.
    monkeypatch.setattr(fingerprint, "normalizer_version", lambda: "a newer normalizer")
    stats = crawl(engine, listing, observed_at=DAY_2 + timedelta(days=1))
    assert stats.get("offers/recognized", 0) == 0
    assert stats["offers/normalized"] == len(listing)
    rows = snapshot(engine)
    assert {row[9] for row in rows} == {"normalized again"}
    expected = {fingerprint.raw_fingerprint(raw, site_currency="USD") for raw in listing}
    assert {row[15] for row in rows} == expected  # the new fingerprints are stored
    stats = crawl(engine, listing, observed_at=DAY_2 + timedelta(days=2))
    assert stats["offers/recognized"] == len(listing)


def test_the_normalizer_version_follows_code_and_taxonomy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    version = fingerprint.normalizer_version()
    assert version == fingerprint.normalizer_version()  # once per process
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text(Path("config/taxonomy.yaml").read_text(encoding="utf-8") + "\n# edit\n")
    monkeypatch.setenv("CLICKFARM_TAXONOMY", str(taxonomy))
    fingerprint.normalizer_version.cache_clear()
    try:
        assert fingerprint.normalizer_version() != version
        monkeypatch.delenv("CLICKFARM_TAXONOMY")
        monkeypatch.setattr(fingerprint, "NORMALIZER_EPOCH", fingerprint.NORMALIZER_EPOCH + 1)
        fingerprint.normalizer_version.cache_clear()
        assert fingerprint.normalizer_version() != version
    finally:
        fingerprint.normalizer_version.cache_clear()


@pytest.mark.parametrize(("one", "other"), [
    ("0.9", 0.9), ("1", 1), (1, True), ("1", True), (None, ""), ("0.90", "0.9")])
def test_the_fingerprint_tells_types_and_texts_apart(one: Any, other: Any) -> None:
    def of(value: Any) -> str:
        return fingerprint.raw_fingerprint(dataclasses.replace(BASE, price=value, refill=value),
                                           site_currency="USD")

    assert of(one) != of(other)
    assert of(one) == of(one)


def test_a_confirmation_against_an_offer_changed_meanwhile_is_normalized(
        new_engine: Any) -> None:
    engine = new_engine()
    listing = [BASE, *OTHERS]
    crawl(engine, listing, observed_at=DAY_1)
    cheaper = dataclasses.replace(BASE, price="0.500")

    def another_crawl_stores_first() -> None:  # it sees another price and stores it
        crawl(engine, [cheaper, *OTHERS], observed_at=DAY_2)

    stats = crawl(engine, listing, observed_at=DAY_2 + timedelta(hours=1),
                  before_store=another_crawl_stores_first)
    assert stats["offers/recognized"] == len(listing)
    assert stats["offers/confirmation_stale"] == 1  # BASE: its stored fingerprint moved
    assert last_run(engine).status == "succeeded"
    fresh = new_engine("fresh")
    crawl(fresh, listing, observed_at=DAY_1)
    assert [row[:16] + row[17:] for row in snapshot(engine)] == [
        row[:16] + row[17:] for row in snapshot(fresh)]  # the listing's own price is back
    price_of_base = {row[0]: row[16] for row in snapshot(engine)}["101"]
    assert str(price_of_base).rstrip("0") == "1.5"


def test_a_whole_listing_travels_as_one_batch_to_storage(new_engine: Any) -> None:
    engine = new_engine()
    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    crawler = Crawler(SmmApiSpider, settings)
    crawler.stats = MemoryStatsCollector(crawler)
    spider = SmmApiSpider.from_crawler(crawler, site=SITE, observed_at=DAY_1)
    crawler.spider = spider
    result = ExtractResult(offers=[BASE, *OTHERS],
                           rejected=[RawRejection(reason="row without a name", raw={"id": "9"})],
                           counters=[RawCounter(name="orders", value="1,234")])
    response = TextResponse(url=SITE.url + "api/v2", body=b"[]")
    items = list(spider.emit_listing(response, result))
    assert len(items) == 1 and isinstance(items[0], ItemBatch)
    assert len(items[0].items) == len(OTHERS) + 3
    pipelines = item_pipelines(crawler, engine)
    store = pipelines[-1]
    store.open_spider()
    item: Any = items[0]
    for pipeline in pipelines:
        item = pipeline.process_item(item)
    store.spider_closed(spider, "finished")
    run = last_run(engine)
    assert (run.status, run.offers_new, run.offers_rejected) == ("succeeded", len(OTHERS) + 1, 1)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT value FROM counter_reading")).scalar_one() == 1234


def test_when_recognition_fails_every_listing_is_normalized(
        new_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import repository

    engine = new_engine()
    listing = [BASE, *OTHERS]
    crawl(engine, listing, observed_at=DAY_1)

    def broken(*_args: Any, **_kwargs: Any) -> dict[str, str]:
        raise RuntimeError("database went away")

    monkeypatch.setattr(repository, "offer_fingerprints", broken)
    changed = [dataclasses.replace(BASE, price="2.000"), *OTHERS]
    stats = crawl(engine, changed, observed_at=DAY_2)
    assert stats["offers/recognize_failed"] == 1  # read once, failed once
    assert stats["offers/normalized"] == len(listing)
    run = last_run(engine)
    assert (run.status, run.offers_changed, run.offers_unchanged, run.offers_rejected) == (
        "succeeded", 1, len(OTHERS), 0)
