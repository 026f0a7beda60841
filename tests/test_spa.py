"""The ``spa`` family: JavaScript-only shops rendered in a real Chromium (Debian's ``chromium``).

These tests never skip: ``make test`` installs Chromium when it is missing
(``scripts/ensure-test-services.sh``). Every crawl runs as in production: a child process, real
Scrapy and scrapy-playwright, the loopback simulator, SQLite.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from crawlers.browser import CHROMIUM_ENV, ChromiumNotFound, find_chromium
from tests.simulated import start_simulated

# --- finding a Chromium ------------------------------------------------------------------------


def _fake_executable(path: Path) -> Path:
    """A file with the execute bit: what the lookup checks (nothing here launches it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_system_chromium_is_found():
    # CI installs the Debian package: the lookup must find it without any configuration.
    environ = {key: value for key, value in os.environ.items() if key != CHROMIUM_ENV}
    path = find_chromium(environ)
    assert os.access(path, os.X_OK)
    assert "chrom" in Path(path).name


@pytest.mark.parametrize("override, expected", [
    ("{tmp}/bin/my-chromium", "{tmp}/bin/my-chromium"),       # a path wins over PATH
    ("my-chromium", "{tmp}/bin/my-chromium"),                 # a command name is looked up
], ids=["path", "command-name"])
def test_the_environment_override_wins(tmp_path, override, expected):
    _fake_executable(tmp_path / "bin" / "my-chromium")
    _fake_executable(tmp_path / "bin" / "chromium")
    environ = {"PATH": str(tmp_path / "bin"), CHROMIUM_ENV: override.format(tmp=tmp_path),
               "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "none")}
    assert find_chromium(environ) == expected.format(tmp=tmp_path)


@pytest.mark.parametrize("names, expected", [
    (["chromium", "google-chrome"], "chromium"),
    (["chromium-browser"], "chromium-browser"),
    (["google-chrome-stable"], "google-chrome-stable"),
], ids=["debian-first", "ubuntu-name", "google-package"])
def test_system_commands_in_order(tmp_path, names, expected):
    for name in names:
        _fake_executable(tmp_path / "bin" / name)
    environ = {"PATH": str(tmp_path / "bin"), "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "none")}
    assert find_chromium(environ) == str(tmp_path / "bin" / expected)


def test_playwrights_downloaded_chromium_is_the_fallback(tmp_path):
    cache = tmp_path / "ms-playwright"
    older = _fake_executable(cache / "chromium-999" / "chrome-linux" / "chrome")
    newer = _fake_executable(cache / "chromium-1200" / "chrome-linux64" / "chrome")
    environ = {"PATH": str(tmp_path / "empty"), "PLAYWRIGHT_BROWSERS_PATH": str(cache)}
    assert find_chromium(environ) == str(newer) != str(older)


@pytest.mark.parametrize("environ", [
    {"PATH": "{tmp}/empty"},
    {"PATH": "{tmp}/bin", CHROMIUM_ENV: "{tmp}/no/such/chromium"},
    {"PATH": "{tmp}/bin", CHROMIUM_ENV: "no-such-command"},
    {"PATH": "{tmp}/bin", CHROMIUM_ENV: "{tmp}/bin/not-executable"},
], ids=["nothing-installed", "override-missing-path", "override-unknown-command",
        "override-not-executable"])
def test_no_chromium_names_what_to_install(tmp_path, environ):
    _fake_executable(tmp_path / "bin" / "chromium")   # never used when the override is wrong
    (tmp_path / "bin" / "not-executable").write_text("")
    environ = {key: value.format(tmp=tmp_path) for key, value in environ.items()}
    environ["PLAYWRIGHT_BROWSERS_PATH"] = str(tmp_path / "none")
    if environ["PATH"].endswith("bin"):
        assert CHROMIUM_ENV in environ
    with pytest.raises(ChromiumNotFound) as raised:
        find_chromium(environ)
    message = str(raised.value)
    assert message.startswith("no Chromium found")
    for hint in ("apt-get install chromium", "playwright install chromium", CHROMIUM_ENV):
        assert hint in message


# --- the simulator's JavaScript shop, crawled end to end ----------------------------------------

SPA_SHOP = "shop-05"
CARDS_SHOP = "shop-04"
WITHOUT_BROWSER = "shop-05-without-browser"
NO_CHROMIUM = "shop-05-no-chromium"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """The simulator with its first five shops; the JavaScript shop is also configured under two
    more ids: crawled as a plain ``storefront`` (no browser), and as ``spa`` for the crawl
    without a Chromium."""
    from core.config import write_sites

    setup = start_simulated(tmp_path_factory.mktemp("spa"), seed=7, panels=1, shops=5)
    try:
        entries = setup.market.sites_config(setup.server.base_url)
        by_id = {entry["id"]: entry for entry in entries}
        assert by_id[SPA_SHOP]["family"] == "spa" and by_id[CARDS_SHOP]["family"] == "storefront"
        extra = [{**by_id[SPA_SHOP], "id": WITHOUT_BROWSER, "family": "storefront"},
                 {**by_id[SPA_SHOP], "id": NO_CHROMIUM}]
        write_sites(setup.sites_path, [by_id[CARDS_SHOP], by_id[SPA_SHOP], *extra])
        yield setup
    finally:
        setup.server.stop()


@pytest.fixture(scope="module")
def rendered(simulated):
    """One crawl process with the JavaScript shop and an HTML shop together: the spa spider and
    a plain-HTTP spider share the process's (asyncio) reactor."""
    simulated.market.request_counts.clear()
    runs = {run["site_id"]: run for run in simulated.crawl(site_ids=[CARDS_SHOP, SPA_SHOP])}
    simulated.requests = Counter({route: count for (site, route), count
                                  in simulated.market.request_counts.items() if site == SPA_SHOP})
    return simulated, runs


def _stored_offers(setup, site_id: str) -> list[tuple[str, int, Decimal, Decimal | None]]:
    from sqlalchemy import select

    from storage.models import Offer, OfferPricePeriod

    offers, periods = Offer.__table__, OfferPricePeriod.__table__
    query = (select(offers.c.site_offer_id, periods.c.quantity, periods.c.price,
                    periods.c.compare_at_price)
             .join(periods, periods.c.offer_id == offers.c.id)
             .where(offers.c.site_id == site_id, periods.c.valid_to.is_(None)))
    with setup.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def test_the_browser_renders_the_javascript_shop(rendered):
    setup, runs = rendered
    run = runs[SPA_SHOP]
    assert run["status"] == "succeeded", run["error"]
    truth = setup.market.shop_offers(SPA_SHOP)
    stored = _stored_offers(setup, SPA_SHOP)
    assert len(truth) >= 10
    assert Counter((q, p) for _, q, p, _ in stored) == Counter(
        (row["quantity"], row["price"]) for row in truth)
    # Same ids and compare-at prices too: each stored offer is the true package.
    assert {(offer_id, compare) for offer_id, _, _, compare in stored} == {
        (row["site_offer_id"], row["compare_at_price"]) for row in truth}


def test_the_html_shop_in_the_same_process_is_read_too(rendered):
    setup, runs = rendered
    assert runs[CARDS_SHOP]["status"] == "succeeded", runs[CARDS_SHOP]["error"]
    assert len(_stored_offers(setup, CARDS_SHOP)) == len(setup.market.shop_offers(CARDS_SHOP))


def test_images_fonts_and_stylesheets_are_never_fetched(rendered):
    setup, runs = rendered
    stats = runs[SPA_SHOP]["stats"]
    rendered_pages = stats["playwright/request_count/navigation"]
    assert rendered_pages == runs[SPA_SHOP]["pages"] >= 2
    # The shell links a stylesheet, a font, a favicon and a logo; the landing page a hero image.
    assert stats["playwright/request_count/aborted"] >= 4 * rendered_pages
    for resource_type in ("image", "font", "stylesheet"):
        assert stats[f"playwright/request_count/resource_type/{resource_type}"] > 0
    # What the simulator served: pages and their script, no asset at all.
    assert setup.requests["assets"] == 0, setup.requests
    assert setup.requests["app.js"] == rendered_pages
    assert setup.requests["landing"] + setup.requests["category"] == rendered_pages


def test_pages_are_reused_bounded_and_closed(rendered):
    _, runs = rendered
    stats = runs[SPA_SHOP]["stats"]
    opened = stats["playwright/page_count"]
    assert stats["browser/pages_opened"] == stats["browser/pages_closed"] == opened
    assert stats["browser/pages_left_open"] == 0
    # One browser, one context; fewer pages than renders (each page renders several URLs),
    # never more at once than the site's concurrency.
    assert stats["playwright/browser_count"] == stats["playwright/context_count"] == 1
    assert opened < stats["playwright/request_count/navigation"]
    assert stats["playwright/page_count/max_concurrent"] <= 4


def test_browser_memory_is_in_the_runs_stats(rendered):
    _, runs = rendered
    stats = runs[SPA_SHOP]["stats"]
    assert stats["browser/peak_rss_bytes"] > 20 * 2**20
    assert 0 < stats["browser/peak_pss_bytes"] <= stats["browser/peak_rss_bytes"]
    assert stats["browser/peak_processes"] >= 2     # the browser and at least one renderer
    assert "browser/peak_rss_bytes" not in runs[CARDS_SHOP]["stats"]


def test_a_javascript_shop_read_without_a_browser_fails_clearly(simulated):
    (run,) = simulated.crawl(site_ids=[WITHOUT_BROWSER])
    assert run["status"] == "failed"
    assert "no offers: the page needs JavaScript" in run["error"]


def test_no_chromium_fails_the_run_with_what_to_install(simulated, monkeypatch):
    monkeypatch.setenv(CHROMIUM_ENV, "/nonexistent/chromium")
    (run,) = simulated.crawl(site_ids=[NO_CHROMIUM])
    assert run["status"] == "failed"
    assert run["error"].startswith("no Chromium found")
    assert "apt-get install chromium" in run["error"] and CHROMIUM_ENV in run["error"]
    assert "Traceback" not in run["error"]
    assert "playwright/browser_count" not in run["stats"]


@pytest.mark.parametrize("fault, params", [
    ("http_500", {}),
    ("offline", {"mode": "close"}),
], ids=["http-500", "connection-closed"])
def test_pages_are_closed_when_rendering_fails(simulated, fault, params):
    simulated.market.inject_fault(SPA_SHOP, fault, **params)
    try:
        (run,) = simulated.crawl(site_ids=[SPA_SHOP])
    finally:
        simulated.market.clear_faults(SPA_SHOP)
    assert run["status"] == "failed"
    assert SPA_SHOP in run["error"] and "Traceback" not in run["error"]
    stats = run["stats"]
    assert stats["browser/pages_opened"] == stats["browser/pages_closed"] >= 1
    assert stats["browser/pages_left_open"] == 0


def test_a_category_page_that_fails_makes_the_run_partial(rendered):
    setup, _ = rendered
    before = Counter((q, p) for _, q, p, _ in _stored_offers(setup, SPA_SHOP))
    # One category answers a redirect that never settles: that page fails, the others are read.
    setup.market.inject_fault(SPA_SHOP, "offsite_redirect")
    try:
        (run,) = setup.crawl(site_ids=[SPA_SHOP])
    finally:
        setup.market.clear_faults(SPA_SHOP)
    assert run["status"] == "partial"
    assert "/c/" in run["error"] and "Traceback" not in run["error"]
    stats = run["stats"]
    assert stats["listing/incomplete"] == 1
    assert stats["browser/pages_opened"] == stats["browser/pages_closed"]
    assert stats["browser/pages_left_open"] == 0
    # The packages of the failed page are not marked removed.
    assert Counter((q, p) for _, q, p, _ in _stored_offers(setup, SPA_SHOP)) == before


def test_a_shop_with_nothing_rendered_fails_instead_of_succeeding_empty(simulated):
    simulated.market.inject_fault(SPA_SHOP, "empty_list")
    try:
        (run,) = simulated.crawl(site_ids=[SPA_SHOP])
    finally:
        simulated.market.clear_faults(SPA_SHOP)
    assert run["status"] == "failed"
    assert "rendered in Chromium" in run["error"]


@pytest.mark.parametrize(("rss_series", "pss_reads", "peak_pss"), [
    ([100, 120, 110, 130, 90], [1, 2, 4], 65),      # PSS read at each new RSS peak only
    ([100, 100, 100], [1, 2, 3], 50),               # an equal peak is read again
    ([300, 200, 100], [1], 150),                    # shrinking: the first sample holds the peak
], ids=["growing", "flat", "shrinking"])
def test_the_memory_probe_reads_pss_only_at_rss_peaks(monkeypatch, rss_series, pss_reads,
                                                      peak_pss):
    """PSS costs the kernel a page-table walk per process: read it when the tree is at its
    largest (an RSS peak), never at every sample; the peaks are still both kept."""
    from types import SimpleNamespace

    from crawlers import browser

    state = {"sample": 0, "pss_reads": []}

    class FakeChromium:
        def memory_info(self):
            return SimpleNamespace(rss=rss_series[state["sample"] - 1])

        def memory_full_info(self):
            state["pss_reads"].append(state["sample"])
            return SimpleNamespace(pss=rss_series[state["sample"] - 1] // 2)

    monkeypatch.setattr(browser, "browser_processes", lambda marker: [FakeChromium()])
    probe = browser.BrowserMemoryProbe("marker", min_interval_seconds=0)
    for _ in rss_series:
        state["sample"] += 1
        probe.sample()
    assert state["pss_reads"] == pss_reads
    assert probe.peak_rss_bytes == max(rss_series)
    assert probe.peak_pss_bytes == peak_pss
    assert probe.samples == len(rss_series)
