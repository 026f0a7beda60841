"""Politeness with safe defaults: robots.txt, delays, concurrency, AutoThrottle, an honest user
agent, and 429 Retry-After honoured with bounded retries (real Scrapy, the loopback simulator).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from core.config import SiteConfig
from crawlers import settings as project_settings
from crawlers.middlewares import (
    BlockSignalsMiddleware,
    PoliteRetryMiddleware,
    looks_like_captcha,
    parse_retry_after,
)
from crawlers.runner import run_crawl, spider_settings
from tests.scheduling import runs, seconds_between, write_schedule_sites
from tests.simulated import SimulatedSetup, simulated_market

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------------
# Retry-After values (RFC 9110: delay-seconds or an HTTP date)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1", 1.0), ("120", 120.0), (" 7 ", 7.0), (b"30", 30.0), ("0", 0.0),
     (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
     ("Sun, 01 Mar 2026 12:02:00 GMT", 120.0),
     ("Sunday, 01-Mar-26 12:00:45 GMT", 45.0),
     ("Sun Mar  1 12:00:10 2026", 10.0),
     (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
     (None, None), ("", None), ("soon", None), ("-5", None), ("1.5", None),
     ("Sun, 99 Foo 2026 12:00:00 GMT", None),
     ("86400", 86400.0), ("999999999999", 999999999999.0), ("9" * 400, 1e12),
     ("9" * 5000, 1e12), (b"\xb2", None), ("\u0663", None),
     ("Mon, 01 Jan 99999 00:00:00 GMT", None)],
    ids=["one", "two-minutes", "spaces", "bytes", "zero", "http-date", "http-date-literal",
         "rfc850-date", "asctime-date", "date-in-the-past", "absent", "empty", "word",
         "negative", "fraction", "broken-date", "a-day", "twelve-digits",
         "more-digits-than-a-float", "more-digits-than-int-parses", "latin1-superscript-two",
         "arabic-indic-digit", "year-out-of-range"],
)
def test_retry_after_values(value: str | bytes | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


# ------------------------------------------------------------------------------------------
# captcha and challenge pages


RECAPTCHA_LOGIN_FORM = ('<html><head><title>SMM Panel - Cheapest followers</title>'
                        '<script src="https://www.google.com/recaptcha/api.js"></script></head>'
                        '<body><form action="/login"><div class="g-recaptcha" '
                        'data-sitekey="x"></div></form><table>...prices...</table></body></html>')


@pytest.mark.parametrize(
    ("status", "body", "captcha"),
    [(403, '<html><head><title>Just a moment...</title></head><body><script '
           'src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script></body>',
      True),
     (503, "<title>Attention Required! | Cloudflare</title><div class='cf-chl-widget'>", True),
     (200, "<html><script>var dd={'host':'geo.captcha-delivery.com'}</script></html>", True),
     (403, '<div id="px-captcha"></div>', True),
     (429, '<form><div class="h-captcha" data-sitekey="s"></div></form>', True),
     (200, '<html><head><title>Security check</title></head><div class="g-recaptcha"></div>',
      True),
     (200, RECAPTCHA_LOGIN_FORM, False),
     (200, "<html><title>Services</title><table><tr><td>1</td><td>Followers</td></tr>", False),
     (404, "<html><title>Not Found</title></html>", False),
     (200, '{"error": "Incorrect request"}', False)],
    ids=["cloudflare-challenge", "cloudflare-attention", "datadome", "perimeterx",
         "hcaptcha-on-429", "recaptcha-security-check-title", "recaptcha-in-login-form",
         "services-page", "not-found", "api-error"],
)
def test_captcha_pages_are_told_from_pages_with_a_login_captcha(status: int, body: str,
                                                                captcha: bool) -> None:
    assert looks_like_captcha(status, body) is captcha


# ------------------------------------------------------------------------------------------
# settings


def test_politeness_defaults_are_safe() -> None:
    site = SiteConfig(id="seller", url="https://seller.example/", family="smm_html")
    settings = spider_settings(site)
    assert settings["ROBOTSTXT_OBEY"] is True
    assert settings["AUTOTHROTTLE_ENABLED"] is True
    assert settings["DOWNLOAD_DELAY"] == 1.0
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2
    assert settings["RETRY_TIMES"] == 2
    assert settings["RETRY_AFTER_MAX_SECONDS"] == 60.0
    assert project_settings.ROBOTSTXT_OBEY is True
    assert project_settings.AUTOTHROTTLE_ENABLED is True
    assert project_settings.USER_AGENT.startswith("clickfarm-monitor/")
    assert "+http" in project_settings.USER_AGENT  # says where to read who we are
    assert 429 in project_settings.RETRY_HTTP_CODES and 503 in project_settings.RETRY_HTTP_CODES


def test_a_site_config_overrides_politeness() -> None:
    site = SiteConfig(id="seller", url="https://seller.example/", family="smm_html",
                      politeness={"obey_robots_txt": False, "download_delay": 5,
                                  "concurrency": 1, "autothrottle": False,
                                  "timeout_seconds": 20, "retries": 4})
    settings = spider_settings(site)
    assert (settings["ROBOTSTXT_OBEY"], settings["DOWNLOAD_DELAY"],
            settings["CONCURRENT_REQUESTS_PER_DOMAIN"], settings["AUTOTHROTTLE_ENABLED"],
            settings["DOWNLOAD_TIMEOUT"], settings["RETRY_TIMES"]) == (False, 5, 1, False, 20, 4)
    # A Retry-After is never waited out longer than the site's own timeout.
    assert settings["RETRY_AFTER_MAX_SECONDS"] == 20


def test_the_polite_retry_middleware_replaces_scrapys() -> None:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    # The downloader middlewares in the order Scrapy builds them (nearest the engine first).
    paths = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    kinds = [load_object(path) for path in paths]
    assert PoliteRetryMiddleware in kinds and BlockSignalsMiddleware in kinds
    assert RetryMiddleware not in kinds  # the subclass only
    # Block signals sit nearer the downloader: they see the responses that get retried.
    assert kinds.index(BlockSignalsMiddleware) > kinds.index(PoliteRetryMiddleware)
    middleware = PoliteRetryMiddleware(settings)
    assert middleware.max_retry_times == 2 and middleware.max_wait_seconds == 60.0
    assert {429, 503} <= middleware.retry_http_codes


# ------------------------------------------------------------------------------------------
# 429 Retry-After end to end (child crawl processes, the simulator)


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[SimulatedSetup]:
    with simulated_market(tmp_path, seed=31, panels=2) as setup:
        yield setup


def _listing_route(setup: SimulatedSetup, site_id: str) -> str:
    return "api" if setup.market.site(site_id).family == "smm_api" else "services"


def _duration(run: dict) -> float:
    return seconds_between(run["started_at"], run["finished_at"])


def test_a_429_is_retried_after_retry_after_and_the_run_succeeds_when_it_stops(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    sites_path = tmp_path / "sites.yaml"
    write_schedule_sites(simulated, sites_path, site_ids=["panel-01"],
                         politeness={"retries": 4})
    simulated.market.inject_fault("panel-01", "http_429", retry_after=2)
    listing = ("panel-01", _listing_route(simulated, "panel-01"))

    def lift_the_block_after_the_first_429() -> None:
        deadline = time.monotonic() + 120
        while simulated.market.request_counts[listing] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        simulated.market.clear_faults("panel-01")

    watcher = threading.Thread(target=lift_the_block_after_the_first_429, daemon=True)
    watcher.start()
    result = run_crawl(["panel-01"], sites_path=sites_path,
                       database_url=simulated.database_url, timeout_seconds=180)
    watcher.join(timeout=10)

    assert result.returncode == 0, result.stderr_tail
    (run,) = runs(simulated.engine, "panel-01")
    assert run["status"] == "succeeded", run["error"]
    assert run["offers_seen"] > 0
    stats = run["stats"]
    assert stats["blocked/http_429"] >= 1
    assert stats["retry_after/count"] >= 1
    assert stats["retry_after/max_requested_seconds"] == 2
    assert stats["retry_after/waited_seconds"] >= 2
    # The retry waited what the seller asked: the run lasted at least one Retry-After.
    assert _duration(run) >= 2.0
    assert simulated.market.request_counts[listing] >= 2


def test_a_429_that_never_stops_fails_the_listing_as_blocked_after_the_retry_limit(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    sites_path = tmp_path / "sites.yaml"
    write_schedule_sites(simulated, sites_path, site_ids=["panel-01"],
                         politeness={"retries": 2})
    simulated.market.inject_fault("panel-01", "http_429", retry_after=1)
    listing = ("panel-01", _listing_route(simulated, "panel-01"))

    result = run_crawl(["panel-01"], sites_path=sites_path,
                       database_url=simulated.database_url, timeout_seconds=180)

    assert result.returncode == 0, result.stderr_tail
    (run,) = runs(simulated.engine, "panel-01")
    assert run["status"] == "failed"
    assert "blocked: HTTP 429 (Retry-After 1 s) after 2 retries" in run["error"]
    assert simulated.market.request_counts[listing] == 3  # the request and its 2 retries
    assert run["stats"]["blocked/http_429"] >= 3
    assert run["stats"]["retry_after/count"] >= 2
    assert _duration(run) >= 2.0  # two waits of one second


def test_waiting_for_one_site_does_not_hold_up_the_others(
        simulated: SimulatedSetup, tmp_path: Path) -> None:
    sites_path = tmp_path / "sites.yaml"
    write_schedule_sites(simulated, sites_path, site_ids=["panel-01", "panel-02"],
                         politeness={"retries": 2})
    simulated.market.inject_fault("panel-01", "http_429", retry_after=4)

    # Both sites in one crawl process: one reactor, one downloader.
    result = run_crawl(["panel-01", "panel-02"], sites_path=sites_path,
                       database_url=simulated.database_url, timeout_seconds=180)

    assert result.returncode == 0, result.stderr_tail
    (blocked,) = runs(simulated.engine, "panel-01")
    (polite,) = runs(simulated.engine, "panel-02")
    assert blocked["status"] == "failed" and "blocked: HTTP 429" in blocked["error"]
    assert polite["status"] == "succeeded"
    assert _duration(blocked) >= 8.0  # two waits of 4 s
    # panel-02 was crawled while panel-01 waited, not after.
    assert polite["finished_at"] <= blocked["finished_at"] - timedelta(seconds=4)
