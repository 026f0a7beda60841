"""JavaScript-only storefronts (family ``spa``): the pages are rendered in headless Chromium.

The plain HTML of these shops is a shell (``<div id="root"></div>`` and a script); the package
cards exist only in the DOM the script builds. The spider renders the landing page and the
category pages it links to (``c/<platform>`` under the site URL) through scrapy-playwright, and
hands the rendered HTML to the same pure extractor as the ``storefront`` family
(:func:`crawlers.extract.storefront.extract_storefront`).

Knobs (override in a site subclass):

``category_path_prefix``
    Category links followed, relative to the site URL (``"c/"``: ``c/instagram``, ``c/tiktok``).
``max_pages``
    Bound on the pages rendered per crawl (landing page included; see
    :class:`~crawlers.spiders.base.SellerSpider`): beyond, the run is partial.
``ready_selector``
    CSS selector that exists once the shop has rendered its offers. Default ``None``: wait until a
    price shows or the DOM stops changing (:func:`crawlers.browser.wait_for_rendered_content`).
``render_timeout_seconds``
    Bound on that wait; the page is read as it is when the time is up.
``max_open_pages``
    Pages rendered at once (also capped by the site's ``politeness.concurrency``).
``renders_per_page``
    URLs one page renders before it is closed and replaced (bounds a renderer's memory).

Cost control: one Chromium and one browser context per crawl; each open page is reused for the
next URL (a new page starts a new renderer process, which costs about as much as the render
itself), up to ``renders_per_page`` times; images, fonts, media and stylesheets are never
fetched; every page is closed when its chain of URLs ends, also after errors. The memory of the
Chromium process tree is sampled while the crawl runs; the run's stats keep the peaks
(``browser/peak_rss_bytes``: RSS summed over the processes; ``browser/peak_pss_bytes``: shared
pages counted once), with ``browser/pages_opened`` / ``pages_closed`` / ``pages_left_open``.

A category page that fails to render after others were read makes the run partial (nothing is
marked removed); a shop whose rendered pages show no offer at all fails, never succeeds empty.
"""

from __future__ import annotations

import dataclasses
import os
import re
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

import scrapy
from playwright.async_api import Error as PlaywrightError
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_playwright.page import PageMethod
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawlers import browser
from crawlers.extract import landing
from crawlers.extract.storefront import extract_storefront
from crawlers.items import ExtractError, ExtractResult
from crawlers.spiders.base import SellerSpider, describe_failure

BROWSER_ERROR_SETTING = "CLICKFARM_BROWSER_ERROR"
BROWSER_MARKER_SETTING = "CLICKFARM_BROWSER_MARKER"


class SpaSpider(SellerSpider):
    family = "spa"
    # The landing page is rendered as part of the listing (it holds the category links and often
    # featured packages); its counters are read from the rendered DOM too.
    landing_path = None
    category_path_prefix = "c/"
    ready_selector: str | None = None
    render_timeout_seconds = 15.0
    max_open_pages = 4
    renders_per_page = 20
    memory_sample_seconds = 0.5

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SpaSpider:
        """Add the browser settings on top of the per-site ones (settings stay open until the
        spider exists). Without a Chromium, the crawl keeps plain HTTP and :meth:`start` fails
        the run with the message naming what to install."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        try:
            executable = browser.find_chromium()
        except browser.ChromiumNotFound as error:
            settings.set(BROWSER_ERROR_SETTING, str(error), priority="spider")
            return spider
        keep_browser = settings.getbool(browser.KEEP_BROWSER_SETTING)
        # A marker to find this crawl's Chromium among the processes: unique to the crawl, or
        # to the process when its browser is kept from one crawl to the next.
        marker = f"{os.getpid()}-{'kept' if keep_browser else uuid.uuid4().hex[:12]}"
        pages = min(cls.max_open_pages,
                    max(1, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 1)))
        settings.setdict({
            **browser.playwright_settings(
                executable, crawl_marker=marker, max_pages=pages,
                navigation_timeout_seconds=settings.getfloat("DOWNLOAD_TIMEOUT", 30),
                schemes=(urlsplit(spider.site.url).scheme,), keep_browser=keep_browser),
            BROWSER_MARKER_SETTING: marker,
        }, priority="spider")
        return spider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.render_queue: deque[str] = deque()
        self.urls_seen: set[str] = set()
        self.chains = 0
        self.page_budget = 1
        self.pages_tracked: dict[int, Any] = {}
        self.renders_by_page: dict[int, int] = {}
        self.offers_seen: set[tuple[Any, ...]] = set()
        self.pages_without_offers: set[str] = set()
        self.page_limit_reported = False
        self.memory_probe: browser.BrowserMemoryProbe | None = None
        self.memory_sampler: LoopingCall | None = None
        self.memory_sampling = False

    # -- requests ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        error = self.settings.get(BROWSER_ERROR_SETTING)
        if error:
            self.listing_failed(error)
            return
        self.page_budget = self.settings.getint("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", 1)
        self.memory_probe = browser.BrowserMemoryProbe(self.settings[BROWSER_MARKER_SETTING])
        self.memory_sampler = LoopingCall(self.sample_browser_memory)
        self.memory_sampler.start(self.memory_sample_seconds, now=False)
        landing_url = self.site_url("")
        self.urls_seen.add(landing_url)
        self.chains = 1
        yield self.render_request(landing_url)

    def render_request(self, url: str, *, page: Any = None) -> scrapy.Request:
        """A request rendered in the browser; ``page`` reuses an open page (else a new one)."""
        meta: dict[str, Any] = {
            "playwright": True,
            # The spider keeps the page to reuse it, and closes it when its chain ends.
            "playwright_include_page": True,
            "playwright_page_methods": [PageMethod(
                browser.wait_for_rendered_content, selector=self.ready_selector,
                timeout_ms=int(self.render_timeout_seconds * 1000))],
        }
        if page is not None:
            meta["playwright_page"] = page
        return scrapy.Request(url, callback=self.parse_rendered, errback=self.on_render_error,
                              meta=meta, dont_filter=True)

    async def next_in_chain(self, page: Any) -> list[scrapy.Request]:
        """After a page is done: render the next queued URL in the same page (or close it when
        the queue is empty), and open more pages while URLs wait and the budget allows."""
        requests = []
        if page is not None and self.renders_by_page.get(id(page), 0) >= self.renders_per_page:
            # A renderer's memory grows with every page it shows (about 1.5 MB a render, not
            # given back while the page lives): a fresh page now and then bounds it.
            await self.close_page(page)
        if self.render_queue:
            reusable = page if page is not None and not page.is_closed() else None
            requests.append(self.render_request(self.render_queue.popleft(), page=reusable))
        else:
            self.chains -= 1
            await self.close_page(page)
        while self.render_queue and self.chains < self.page_budget:
            self.chains += 1
            requests.append(self.render_request(self.render_queue.popleft()))
        return requests

    def queue_category_pages(self, response: Response) -> None:
        prefix = self.site_url(self.category_path_prefix)
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href.strip()).split("#", 1)[0]
            # One path segment below the prefix: relative links on a category page
            # ("c/tiktok" under ".../c/instagram") must not nest without end.
            if not url.startswith(prefix) or not re.fullmatch(r"[^/?]+/?", url[len(prefix):]):
                continue
            if url in self.urls_seen:
                continue
            if len(self.urls_seen) >= self.page_limit:
                self.crawler.stats.inc_value("browser/category_pages_skipped")
                if not self.page_limit_reported:
                    self.page_limit_reported = True
                    self.listing_incomplete(f"page limit reached: {self.page_limit} pages; "
                                            "further category pages were not rendered")
                continue
            self.urls_seen.add(url)
            self.render_queue.append(url)

    # -- responses --------------------------------------------------------------------------

    async def parse_rendered(self, response: Response) -> AsyncIterator[Any]:
        page = response.meta.get("playwright_page")
        self.track_page(page)
        self.sample_browser_memory()
        self.outcome.pages += 1
        requested = response.request.url if response.request else response.url
        if not self.is_on_site(response.url):
            # The browser followed a redirect off the site: its content is not this shop's.
            self.crawler.stats.inc_value("offsite/redirects_refused")
            self.page_failed(requested, f"{requested}: redirected to {response.url}, outside "
                                        f"{self.site.url}: not read")
        else:
            if requested == self.site_url(""):
                for counter in landing.extract_counters(response.text):
                    yield counter
            self.queue_category_pages(response)
        # Keep the browser busy first: the next page renders while this one is parsed.
        for request in await self.next_in_chain(page):
            yield request
        if self.is_on_site(response.url):
            rendered = response.meta["playwright_page_methods"][0].result
            for item in self.read_rendered(response, requested, rendered=rendered):
                yield item

    def read_rendered(self, response: Response, requested: str, *,
                      rendered: bool) -> Iterable[Any]:
        if not rendered:
            self.crawler.stats.inc_value("browser/render_timeouts")
        is_landing = requested == self.site_url("")
        try:
            result = extract_storefront(response.body, base_url=response.url,
                                        currency=self.site.currency)
        except ExtractError as error:
            if not rendered:
                hint = (f" (the page did not finish rendering within "
                        f"{self.render_timeout_seconds:g} s)")
            else:
                hint = (f" (rendered in Chromium: no package cards, no category links "
                        f"{self.category_path_prefix}…)" if is_landing else
                        " (rendered in Chromium: no package cards)")
            message = f"{response.url}: {error}{hint}"
            if is_landing and len(self.urls_seen) > 1:
                # A landing page that only links to its categories holds no offers itself.
                self.page_without_offers(message)
            else:
                self.page_failed(requested, message)
            return
        if not (result.offers or result.rejected):
            self.outcome.notes.extend(result.notes)
            self.page_without_offers(f"no offers: no JSON-LD product or package cards on the "
                                     f"rendered page {response.url}")
            return
        # Offers were read: the pages without any were index pages, not the listing's failure.
        self.outcome.listing_errors = [error for error in self.outcome.listing_errors
                                       if error not in self.pages_without_offers]
        yield from self.emit_listing(response, self.without_repeats(result), count_page=False)

    async def on_render_error(self, failure: Failure) -> AsyncIterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        page = request.meta.get("playwright_page")
        self.track_page(page)
        self.outcome.pages += 1
        # Playwright errors carry a multi-line call log: the first line says what happened.
        message = describe_failure(failure).splitlines()[0]
        if "BrowserType.launch" in message:
            executable = self.settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS").get("executable_path")
            message = (f"Chromium failed to start ({executable}): {message}; check that it runs "
                       f"(`{executable} --headless --no-sandbox --dump-dom about:blank`) or set "
                       f"{browser.CHROMIUM_ENV}")
        self.page_failed(request.url, message)
        for next_request in await self.next_in_chain(page):
            yield next_request

    def page_without_offers(self, message: str) -> None:
        """A rendered page with no offers: the listing's error until some page shows offers
        (so a shop whose pages all render empty fails instead of succeeding with nothing)."""
        self.pages_without_offers.add(message)
        if not self.outcome.listing_read:
            self.outcome.listing_errors.append(message)

    def without_repeats(self, result: ExtractResult) -> ExtractResult:
        """Drop offers already read on another page (featured packages on the landing page are
        also on their category page): the same listing seen twice is one offer."""
        kept = []
        for offer in result.offers:
            key = (offer.site_offer_id, offer.name, offer.category, offer.price, offer.quantity,
                   offer.compare_at_price, offer.currency)
            if key in self.offers_seen:
                self.crawler.stats.inc_value("offers/repeated_on_pages")
                continue
            self.offers_seen.add(key)
            kept.append(offer)
        return dataclasses.replace(result, offers=kept)

    # -- pages and memory -------------------------------------------------------------------

    def track_page(self, page: Any) -> None:
        if page is None:
            return
        if id(page) not in self.pages_tracked:
            self.pages_tracked[id(page)] = page
            self.crawler.stats.inc_value("browser/pages_opened")
        self.renders_by_page[id(page)] = self.renders_by_page.get(id(page), 0) + 1

    async def close_page(self, page: Any) -> None:
        if page is None:
            return
        if not page.is_closed():
            # A crashed browser has closed it already: nothing left to release.
            with suppress(PlaywrightError):
                await page.close()
        if self.pages_tracked.pop(id(page), None) is not None:
            self.renders_by_page.pop(id(page), None)
            self.crawler.stats.inc_value("browser/pages_closed")

    def sample_browser_memory(self) -> None:
        """Sample the browser's memory in a worker thread, one sample at a time: reading
        /proc/<pid>/smaps_rollup of a dozen Chromium processes takes the kernel tens of
        milliseconds, which the reactor (and every other crawl of the process) would wait."""
        if self.memory_probe is None or self.memory_sampling:
            return
        self.memory_sampling = True
        sampled = deferToThread(self.memory_probe.sample)
        sampled.addErrback(lambda failure: self.logger.debug("memory sample failed: %s",
                                                             failure.getErrorMessage()))
        sampled.addBoth(self._memory_sampled)

    def _memory_sampled(self, _: Any) -> None:
        self.memory_sampling = False
        self.record_browser_memory()

    def record_browser_memory(self) -> None:
        if self.memory_probe is None:
            return
        stats = self.crawler.stats
        stats.max_value("browser/peak_rss_bytes", self.memory_probe.peak_rss_bytes)
        stats.max_value("browser/peak_pss_bytes", self.memory_probe.peak_pss_bytes)
        stats.max_value("browser/peak_processes", self.memory_probe.peak_process_count)

    def closed(self, reason: str) -> None:
        if self.memory_sampler is not None and self.memory_sampler.running:
            self.memory_sampler.stop()
        if self.memory_probe is not None:
            # The peaks so far (a sample still running when the crawl ends is not waited for;
            # a crawl too short for any sample to finish takes one now, the browser still runs).
            if self.memory_probe.samples == 0:
                self.memory_probe.sample()
            self.record_browser_memory()
            # Pages still open here were left by an interrupted crawl; the download handler
            # closes them with the browser context right after.
            left_open = sum(1 for page in self.pages_tracked.values() if not page.is_closed())
            self.crawler.stats.set_value("browser/pages_left_open", left_open)
