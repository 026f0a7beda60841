"""Downloader middlewares for politeness: wait as long as the seller asks, and count blocks.

``PoliteRetryMiddleware`` replaces Scrapy's ``RetryMiddleware`` (same settings, same
``retry/*`` stats). On a 429 or 503 that carries ``Retry-After`` (seconds or an HTTP date) it
waits that long (at most ``RETRY_AFTER_MAX_SECONDS``) before retrying, up to ``RETRY_TIMES``.
The wait is an asynchronous sleep: the other requests of the process (other sites in a batch,
other pages of the same site) go on meanwhile. When the retries run out on a 429, the request
fails with ``blocked: HTTP 429 (Retry-After N s) after K retries``, which the spider records
as the listing error.

``BlockSignalsMiddleware`` counts what a blocked crawler sees, in the crawl stats that the
storage pipeline keeps on the run (``crawl_run.stats``): ``blocked/http_403``,
``blocked/http_429`` and ``blocked/captcha`` (a challenge or captcha page). The health checks
read them to flag a site that blocks us.

``SameSiteRedirectMiddleware`` and ``SameSiteMetaRefreshMiddleware`` replace Scrapy's redirect
middlewares for every spider: a redirect is followed only while it stays on the site (the
spider's ``is_on_site``, else the same host, ``www.`` aside), and a request with a body (an
``smm_api`` POST carrying the key) only to its exact host and never from https down to http.
Anything else is refused: the request fails with ``redirect to URL refused: ...`` (the listing
error of the run) and ``offsite/redirects_refused`` is counted in the crawl stats.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.utils.asyncio import sleep
from scrapy.utils.response import response_status_message

RETRY_AFTER_STATUSES = (429, 503)
DEFAULT_RETRY_AFTER_MAX_SECONDS = 60.0
# delay-seconds is 1*DIGIT in ASCII: str.isdigit() also accepts "²" (latin-1 0xB2), which int()
# refuses.
_DELAY_SECONDS = re.compile(r"[0-9]+", re.ASCII)
_MAX_DELAY_DIGITS = 12
_VERY_LONG_SECONDS = float(10**_MAX_DELAY_DIGITS)


def parse_retry_after(value: str | bytes | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: ``"120"`` or an HTTP date (RFC 9110).

    A date in the past means 0; an absent or unreadable value is ``None`` (no instruction).
    """
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if _DELAY_SECONDS.fullmatch(text):
        # More digits than any real delay (or than a float holds) is "a very long time": the
        # cap applies anyway, and int() / float() would raise on thousands of digits.
        return float(int(text)) if len(text) <= _MAX_DELAY_DIGITS else _VERY_LONG_SECONDS
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:  # "-0000" in an HTTP date means UTC
        moment = moment.replace(tzinfo=UTC)
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds)


class RetryLimitReached(IgnoreRequest):
    """The retries of a request ran out on an HTTP status; ``crawl_message`` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.crawl_message = message


class PoliteRetryMiddleware(RetryMiddleware):
    """``RetryMiddleware`` that honours ``Retry-After`` on 429 / 503 without blocking others.

    Settings: ``RETRY_TIMES``, ``RETRY_HTTP_CODES`` (as Scrapy), ``RETRY_AFTER_MAX_SECONDS``
    (cap of one wait, default 60; the runner lowers it to the site's timeout).
    Stats: ``retry_after/count`` (waits), ``retry_after/waited_seconds`` (their sum),
    ``retry_after/max_requested_seconds`` (largest value asked for).
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_wait_seconds = settings.getfloat("RETRY_AFTER_MAX_SECONDS",
                                                  DEFAULT_RETRY_AFTER_MAX_SECONDS)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteRetryMiddleware:
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    # Scrapy awaits coroutine middleware methods (and no longer passes the spider); the
    # synchronous signature of RetryMiddleware.process_response cannot say so.
    async def process_response(self, request: Request,  # type: ignore[override]
                               response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        requested = None
        if response.status in RETRY_AFTER_STATUSES:
            requested = parse_retry_after(response.headers.get("Retry-After"))
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            if response.status in RETRY_AFTER_STATUSES:
                raise RetryLimitReached(_gave_up_message(
                    response.status, requested, request.meta.get("retry_times", 0)))
            return response
        if requested is not None:
            wait = min(requested, self.max_wait_seconds)
            stats = self.crawler.stats
            stats.inc_value("retry_after/count")
            stats.inc_value("retry_after/waited_seconds", round(wait, 3))
            stats.max_value("retry_after/max_requested_seconds", round(requested, 3))
            retry.meta["retry_after_seconds"] = requested
            # An asynchronous sleep: the reactor keeps serving every other request meanwhile.
            await sleep(wait)
        return retry


def _gave_up_message(status: int, requested: float | None, retries: int) -> str:
    after = f" (Retry-After {requested:g} s)" if requested is not None else ""
    plural = "retry" if retries == 1 else "retries"
    prefix = "blocked: " if status == 429 else "unavailable: "
    return f"{prefix}HTTP {status}{after} after {retries} {plural}"


# Markers of an anti-bot challenge page: specific enough to never appear on a price list.
_CHALLENGE_MARKERS = (
    "/cdn-cgi/challenge-platform/",
    "cf_chl_opt",
    "cf-chl-widget",
    "<title>just a moment...</title>",
    "<title>attention required! | cloudflare</title>",
    "captcha-delivery.com",  # DataDome
    "px-captcha",  # PerimeterX / HUMAN
    "ddos-guard.net/",
    "sucuri website firewall - access denied",
)
# Captcha widgets also sit on ordinary login and order forms (panels' landing pages carry a
# reCAPTCHA in the login box), so they only count on an error status or a captcha title.
_WIDGET_MARKERS = ("g-recaptcha", "h-captcha", "hcaptcha.com/1/api.js", "cf-turnstile",
                   "google.com/recaptcha/api.js", "recaptcha/api2")
_CAPTCHA_TITLE = re.compile(
    r"<title>[^<]{0,120}(captcha|are you a (human|robot)|verify you are human|"
    r"security check|access denied|bot detection)[^<]{0,120}</title>", re.IGNORECASE)
_SNIFF_BYTES = 200_000


def looks_like_captcha(status: int, body: str) -> bool:
    """Whether a response is an anti-bot challenge or captcha page instead of content."""
    head = body[:_SNIFF_BYTES].lower()
    if any(marker in head for marker in _CHALLENGE_MARKERS):
        return True
    if not any(marker in head for marker in _WIDGET_MARKERS):
        return False
    return status in (403, 429, 503) or bool(_CAPTCHA_TITLE.search(head))


class BlockSignalsMiddleware:
    """Count 403 / 429 responses and captcha pages in the crawl stats (``blocked/...``).

    Placed nearer the downloader than the retry middleware, so every response counts,
    including those that were retried.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockSignalsMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        stats = self.crawler.stats
        if response.status in (403, 429):
            stats.inc_value(f"blocked/http_{response.status}")
        if isinstance(response, TextResponse) and looks_like_captcha(response.status,
                                                                      response.text):
            stats.inc_value("blocked/captcha")
        return response


class RedirectRefused(IgnoreRequest):
    """A redirect that would leave the site (or carry a request body to another host)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.crawl_message = message


def _bare_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def redirect_problem(request: Request, target: str, spider: Any) -> str | None:
    """Why a redirect of ``request`` to ``target`` must not be followed (``None``: follow)."""
    source, destination = urlsplit(request.url), urlsplit(target)
    if destination.scheme not in ("http", "https"):
        return "not an http(s) URL"
    if request.body:
        # The body may hold the API key: it goes to the exact host (and port) it was meant
        # for, over a channel at least as safe, or nowhere.
        if ((destination.hostname or "").lower() != (source.hostname or "").lower()
                or destination.port != source.port):
            return f"another host than {source.hostname} for a {request.method} with a body"
        if source.scheme == "https" and destination.scheme != "https":
            return "from https down to http for a request with a body"
    is_on_site = getattr(spider, "is_on_site", None)
    if callable(is_on_site):
        if not is_on_site(target):
            return f"outside the site {getattr(getattr(spider, 'site', None), 'url', '')}".rstrip()
    elif _bare_host(target) != _bare_host(request.url):
        return f"another host than {source.hostname}"
    return None


class _SameSiteRedirects:
    crawler: Crawler

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        problem = redirect_problem(request, redirected.url, self.crawler.spider)
        if problem is not None:
            self.crawler.stats.inc_value("offsite/redirects_refused")
            kind = f"HTTP {reason}" if isinstance(reason, int) else str(reason)
            raise RedirectRefused(f"redirect ({kind}) to {redirected.url} refused: {problem}")
        return super()._redirect(redirected, request, reason)  # type: ignore[misc]


class SameSiteRedirectMiddleware(_SameSiteRedirects, RedirectMiddleware):
    """Scrapy's ``RedirectMiddleware`` that never leaves the site (see the module docstring)."""


class SameSiteMetaRefreshMiddleware(_SameSiteRedirects, MetaRefreshMiddleware):
    """Scrapy's ``MetaRefreshMiddleware`` that never leaves the site."""
