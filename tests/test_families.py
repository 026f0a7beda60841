"""The family registry (core/families.py) is what every family list reads, and a site may name its
own spider subclass: the README's quirky-site example, crawled for real."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from clickfarm.extract_file import EXTRACTORS
from clickfarm.options import Family
from core import config
from core.config import ConfigError, load_config
from core.families import FAMILIES, FAMILY_NAMES, spider_class
from crawlers.discovery.fingerprint import DETECTORS
from crawlers.sites.no_dripfeed_copies import NoDripFeedCopiesSpider
from crawlers.spiders import SPIDER_BY_FAMILY
from crawlers.spiders.base import SellerSpider
from crawlers.spiders.smm_api import SmmApiSpider
from pipelines.normalize import PLAIN_SOURCES, RETAIL_SOURCES
from storage.models import offer_table, rejected_table
from tests.simulated import start_simulated

EXPECTED_NAMES = ("smm_api", "smm_html", "shopify", "woocommerce", "storefront", "spa")


@pytest.mark.parametrize(("where", "names"), [
    ("config", config.FAMILIES),
    ("CLI --family", tuple(member.value for member in Family)),
    ("clickfarm extract", tuple(EXTRACTORS)),
    ("spiders", tuple(SPIDER_BY_FAMILY)),
])
def test_every_family_list_is_the_registry(where: str, names: tuple[str, ...]) -> None:
    assert names == FAMILY_NAMES == EXPECTED_NAMES, where


@pytest.mark.parametrize("family", FAMILIES, ids=FAMILY_NAMES)
def test_each_record_names_a_spider_of_its_family_and_a_reader(family) -> None:
    spider = family.load_spider()
    assert issubclass(spider, SellerSpider) and spider.family == family.name
    assert callable(family.load_reader())


def test_every_detector_belongs_to_exactly_one_family() -> None:
    named = [name for family in FAMILIES for name in family.detectors]
    assert sorted(named) == sorted(DETECTORS) and len(named) == len(set(named))


def test_the_source_kinds_of_normalize_come_from_the_registry() -> None:
    # the sets normalize.py wrote out by hand before the registry, unchanged
    assert PLAIN_SOURCES == {"api", "smm_api", "json", "shopify", "woocommerce", "jsonld",
                             "json-ld", "json_ld"}
    assert RETAIL_SOURCES == {"shopify", "woocommerce", "storefront", "jsonld", "json-ld",
                              "json_ld", "cards", "spa"}


def _sites_file(path: Path, **site: object) -> Path:
    entry = {"id": "x", "url": "http://127.0.0.1:9/", "family": "smm_api", **site}
    path.write_text(yaml.safe_dump({"sites": [entry]}), encoding="utf-8")
    return path


def test_a_site_names_its_own_spider(tmp_path: Path) -> None:
    spider = "crawlers.sites.no_dripfeed_copies:NoDripFeedCopiesSpider"
    site = load_config(_sites_file(tmp_path / "sites.yaml", spider=spider)).sites[0]
    assert site.spider == spider
    assert spider_class(site.family, site.spider) is NoDripFeedCopiesSpider
    plain = load_config(_sites_file(tmp_path / "plain.yaml")).sites[0]
    assert spider_class(plain.family, plain.spider) is SmmApiSpider


@pytest.mark.parametrize(("family", "spider", "message"), [
    ("smm_html", "crawlers.sites.no_dripfeed_copies:NoDripFeedCopiesSpider",
     "must be a subclass of crawlers.spiders.smm_html.SmmHtmlSpider"),
    ("smm_api", "crawlers.items:RawOffer", "must be a subclass of"),
    ("smm_api", "crawlers.sites.nowhere:Spider", "cannot import crawlers.sites.nowhere"),
    ("smm_api", "crawlers.sites.no_dripfeed_copies:Missing", "has no Missing"),
    ("smm_api", "no_colon_here", "is not of the form package.module:Name"),
    ("magento", None, "family"),
], ids=["other-family", "not-a-spider", "no-module", "no-class", "bad-path", "unknown-family"])
def test_a_bad_spider_or_family_is_a_config_error(tmp_path: Path, family: str,
                                                  spider: str | None, message: str) -> None:
    extra = {"spider": spider} if spider else {}
    with pytest.raises(ConfigError, match="site x") as error:
        load_config(_sites_file(tmp_path / "sites.yaml", family=family, **extra))
    assert message in str(error.value)


@pytest.mark.slow
def test_the_quirky_site_example_of_the_readme_works(tmp_path: Path) -> None:
    """panel-01 of seed 11 lists 17 of its 103 services as drip-feed copies (its API says
    ``"dripfeed": true``): with the README's spider they are dropped with a reason, the others
    are stored as usual."""
    setup = start_simulated(tmp_path, seed=11, panels=3)
    try:
        document = yaml.safe_load(setup.sites_path.read_text())
        for entry in document["sites"]:
            if entry["id"] == "panel-01":
                entry["spider"] = "crawlers.sites.no_dripfeed_copies:NoDripFeedCopiesSpider"
        setup.sites_path.write_text(yaml.safe_dump(document), encoding="utf-8")
        site = setup.market.sites["panel-01"]
        services = [service for service in site.services.values() if service.active]
        copies = {service.service_id for service in services if service.dripfeed}
        assert site.api_style.include_dripfeed and 0 < len(copies) < len(services)

        runs = setup.crawl(site_ids=["panel-01", "panel-02"])
        assert {run["status"] for run in runs} == {"succeeded"}, runs
        with setup.engine.connect() as connection:
            stored = {row.site_id: set() for row in connection.execute(
                select(offer_table.c.site_id).distinct())}
            for row in connection.execute(select(offer_table.c.site_id,
                                                 offer_table.c.site_offer_id)):
                stored[row.site_id].add(row.site_offer_id)
            dropped = {row.site_offer_id for row in connection.execute(
                select(rejected_table.c.site_offer_id).where(
                    rejected_table.c.site_id == "panel-01",
                    rejected_table.c.reason == "dropped by the site's post_process_offer hook"))}
        assert dropped == copies
        assert stored["panel-01"] == {service.service_id for service in services} - copies
        # the other panel keeps its family's spider: its drip-feed services are stored
        other = setup.market.sites["panel-02"]
        assert stored["panel-02"] == {service.service_id for service in other.services.values()
                                      if service.active}
    finally:
        setup.server.stop()
        setup.engine.dispose()
