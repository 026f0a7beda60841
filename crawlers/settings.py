"""Scrapy settings of the project. Per-site politeness comes from config/sites.yaml on top."""

from __future__ import annotations

from typing import Any

BOT_NAME = "clickfarm-monitor"
# An honest user agent: who we are and where to read about it.
USER_AGENT = ("clickfarm-monitor/0.1 (market research crawler; read-only; "
              "+https://github.com/clickfarm-monitor/clickfarm-monitor)")

# Scrapy 2.19 starts by default a remote-control HTTP server that runs Python code sent to it,
# and a telnet console: neither belongs on a monitoring server.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Not even loaded: each crawl process would import them (the remote control pulls in aiohttp,
# about a quarter of a second) only for them to decline to start. Scrapy imports every class
# named in EXTENSIONS, even one set to None, so they leave its base list instead.


def _extensions_without(*never_loaded: str) -> dict[str, Any]:
    # A function: Scrapy reads every upper-case name of this module as a setting.
    from scrapy.settings import default_settings

    return {path: order for path, order in default_settings.EXTENSIONS_BASE.items()
            if path not in never_loaded}


EXTENSIONS_BASE = _extensions_without("scrapy.extensions.remote_control.RemoteControl",
                                      "scrapy.extensions.telnet.TelnetConsole")

ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 60
RETRY_ENABLED = True
RETRY_TIMES = 2
# 429 and 503 are retried after the delay the server asks for in Retry-After (at most
# RETRY_AFTER_MAX_SECONDS per wait, lowered to the site's timeout by the runner), bounded by
# RETRY_TIMES; then the listing fails as "blocked: HTTP 429 (Retry-After N s) after K retries".
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_AFTER_MAX_SECONDS = 60.0
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's retry middleware retries a 429 at once; ours waits as asked (same settings).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.PoliteRetryMiddleware": 550,
    # Nearer the downloader than the retries: every 403 / 429 / captcha page is counted.
    "crawlers.middlewares.BlockSignalsMiddleware": 580,
    # Redirects stay on the site; a POST with the API key never goes to another host.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawlers.middlewares.SameSiteMetaRefreshMiddleware": 580,
    "crawlers.middlewares.SameSiteRedirectMiddleware": 600,
}
COOKIES_ENABLED = False
REDIRECT_MAX_TIMES = 5
# Price lists of 2,000 rows are a few MB at most; anything far larger is not a price list.
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
LOG_LEVEL = "INFO"

ITEM_PIPELINES = {
    # A listing whose raw record is the stored one only confirms its offer (not normalized).
    "pipelines.recognize_pipeline.RecognizePipeline": 200,
    "pipelines.normalize_pipeline.NormalizePipeline": 300,
    "pipelines.validate_pipeline.ValidatePipeline": 500,
    "pipelines.coverage_pipeline.FieldCoveragePipeline": 800,
    "pipelines.store_pipeline.StorePipeline": 900,
}
