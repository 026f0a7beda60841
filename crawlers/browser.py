"""The headless browser behind the ``spa`` family: finding a Chromium, launching it through
scrapy-playwright with bounded resources, and measuring what it costs.

Only spiders that need JavaScript use it (``crawlers.spiders.spa``); every other family stays on
plain HTTP. Playwright's own browser download (``playwright install chromium``) works for users
with internet access, but servers and CI machines usually have a distribution Chromium instead
(Debian: the ``chromium`` package), so the executable is looked up on the system first.

Knobs, in one place:

- ``CLICKFARM_CHROMIUM`` (environment): path or command name of the Chromium to use; it wins over
  every other lookup, and a value that does not resolve is an error (never a silent fallback).
- :data:`CHROMIUM_ARGS`: launch switches; ``--no-sandbox`` because crawl processes often run as
  root in containers, where Chromium's sandbox cannot start.
- :func:`playwright_settings`: the Scrapy settings of a browser crawl (download handlers, reactor,
  bounded contexts and pages, aborted resource types, timeouts).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
"""scrapy-playwright drives Playwright's asyncio API, so Twisted must run on asyncio."""

KEEP_BROWSER_SETTING = "CLICKFARM_KEEP_BROWSER"
"""Scrapy setting, set by :mod:`crawlers.worker`: Chromium stays open between the process's
crawls (:class:`KeptBrowserProvider`)."""

CHROMIUM_ENV = "CLICKFARM_CHROMIUM"
CHROMIUM_COMMANDS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Command names tried in order on ``PATH`` (Debian, Ubuntu/Fedora, Google's packages)."""

CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio")
"""``--disable-dev-shm-usage``: containers often mount a tiny /dev/shm that makes renderers
crash; the others drop work a crawler never needs (GPU, update/safe-browsing pings, audio)."""

ABORTED_RESOURCE_TYPES = frozenset({"image", "font", "media", "stylesheet"})
"""Resource types never fetched: prices are text in the DOM, so these only cost time, memory
and the seller's bandwidth. Scripts and XHR/fetch are what the page needs to render."""

NEEDED_RESOURCE_TYPES = frozenset({"document", "script", "xhr", "fetch", "eventsource",
                                   "websocket"})
ABORTED_EXTENSIONS = re.compile(
    r"\.(?:png|jpe?g|gif|webp|avif|svg|ico|bmp|woff2?|ttf|otf|eot|css|mp4|webm|mp3|ogg|wav)$",
    re.IGNORECASE)

PROCESS_MARKER_PREFIX = "--clickfarm-crawl="
"""A switch Chromium ignores, added to the launch arguments so that the memory probe can tell
this crawl's browser from any other Chromium on the machine (or in the same process)."""

NO_CHROMIUM_HELP = ("install the Debian package `chromium` (apt-get install chromium) or run "
                    "`playwright install chromium`, or set CLICKFARM_CHROMIUM")


class ChromiumNotFound(RuntimeError):
    """No usable Chromium: the message names what to install. It ends up in ``crawl_run.error``."""


def find_chromium(environ: Mapping[str, str] | None = None) -> str:
    """Path of the Chromium executable to launch.

    ``CLICKFARM_CHROMIUM`` wins when set (a path, or a command name looked up on ``PATH``); then
    the system commands of :data:`CHROMIUM_COMMANDS`; then the browser Playwright downloaded
    (``playwright install chromium``). Raises :class:`ChromiumNotFound` naming what to install.
    """
    environ = os.environ if environ is None else environ
    override = environ.get(CHROMIUM_ENV, "").strip()
    search_path = environ.get("PATH", os.defpath)
    if override:
        resolved = _executable(override, search_path)
        if resolved is None:
            raise ChromiumNotFound(
                f"no Chromium found: {CHROMIUM_ENV}={override!r} is not an executable; "
                f"{NO_CHROMIUM_HELP}")
        return resolved
    for command in CHROMIUM_COMMANDS:
        resolved = shutil.which(command, path=search_path)
        if resolved:
            return resolved
    downloaded = _playwright_downloaded_chromium(environ)
    if downloaded:
        return downloaded
    raise ChromiumNotFound(f"no Chromium found: {NO_CHROMIUM_HELP}")


def _executable(path_or_command: str, search_path: str) -> str | None:
    if os.sep in path_or_command:
        path = Path(path_or_command)
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(path_or_command, path=search_path)


def _playwright_downloaded_chromium(environ: Mapping[str, str]) -> str | None:
    """The Chromium of ``playwright install chromium``, when it was downloaded (newest first).

    Read from Playwright's browser cache on disk rather than by starting its driver: the driver
    is a Node process, and this runs while Scrapy sets up its event loop."""
    cache = environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache" / "ms-playwright")
    def revision(path: Path) -> int:  # chromium-1200 is newer than chromium-999
        digits = path.parent.parent.name.removeprefix("chromium-")
        return int(digits) if digits.isdigit() else -1

    candidates = sorted(Path(cache).glob("chromium-*/chrome-linux*/chrome"), key=revision,
                        reverse=True)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def should_abort_request(request: Any) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST`` hook: drop images, fonts, media and stylesheets, by the
    resource type Chromium assigns, or by the file extension when the type is vague (a
    ``<link rel="icon">`` or a ``<link rel="preload">`` is typed "other")."""
    if request.resource_type in ABORTED_RESOURCE_TYPES:
        return True
    if request.resource_type in NEEDED_RESOURCE_TYPES:
        return False
    return bool(ABORTED_EXTENSIONS.search(urlsplit(request.url).path))


def playwright_settings(executable_path: str, *, crawl_marker: str, max_pages: int = 2,
                        navigation_timeout_seconds: float = 30,
                        schemes: Iterable[str] = ("http", "https"),
                        keep_browser: bool = False) -> dict[str, Any]:
    """Scrapy settings for a crawl whose requests may go through Chromium.

    One browser, one context (every page of a crawl shares cookies and cache, and contexts are
    the expensive part), at most ``max_pages`` pages open at once. Requests without
    ``meta["playwright"]`` still go through Scrapy's plain HTTP handler. ``schemes``: the URL
    schemes the crawl renders; each gets its own handler instance, which starts its own
    Playwright driver process, so a crawl of one site passes only that site's scheme.
    ``keep_browser``: the driver and Chromium outlive the crawl (:class:`KeptBrowserProvider`,
    for the long-lived crawl processes of :mod:`crawlers.worker`).
    """
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    return {
        "TWISTED_REACTOR": ASYNCIO_REACTOR,
        "DOWNLOAD_HANDLERS": {scheme: handler for scheme in schemes},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": executable_path,
            "headless": True,
            "args": [*CHROMIUM_ARGS, f"{PROCESS_MARKER_PREFIX}{crawl_marker}"],
            # Chromium's own start-up is bounded too (milliseconds).
            "timeout": int(navigation_timeout_seconds * 1000),
        },
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(1, max_pages),
        "PLAYWRIGHT_ABORT_REQUEST": f"{__name__}.should_abort_request",
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": int(navigation_timeout_seconds * 1000),
        # A browser that crashed mid-crawl is started again instead of failing every page after.
        "PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER": True,
        **({"PLAYWRIGHT_BROWSER_PROVIDER": f"{__name__}.KeptBrowserProvider"}
           if keep_browser else {}),
    }


class KeptBrowserProvider:
    """A scrapy-playwright browser provider that keeps Playwright's driver and Chromium open
    from one crawl to the next in the same process (``PLAYWRIGHT_BROWSER_PROVIDER``).

    Starting the driver (a Node.js process) and Chromium, and closing them, costs about two
    seconds of CPU per crawl, more than rendering a small shop. A long-lived crawl process
    (:mod:`crawlers.worker`) crawls a shop every day: it keeps one driver and one browser per
    launch options (the launch timeout aside) for its whole life. Each crawl still gets
    browser contexts of its own (no cookie, cache or storage crosses from one crawl to the
    next) and closes them when it ends, with the event listeners it added; the browser itself
    closes in :meth:`close_all` when the process ends. A browser that disconnected (crashed)
    is launched again by the next crawl that needs one.
    """

    _manager: Any = None
    _playwright: Any = None
    _browsers: dict[tuple[Any, ...], Any] = {}

    def __init__(self, config: Any) -> None:
        self.config = config
        self.lent: list[_LentBrowser] = []

    async def start(self) -> None:
        cls = type(self)
        if cls._playwright is None:
            from playwright.async_api import PlaywrightContextManager

            cls._manager = PlaywrightContextManager()
            cls._playwright = await cls._manager.start()

    async def launch_browser(self) -> Any:
        cls = type(self)
        options = dict(self.config.launch_options)
        key = _launch_key(self.config.browser_type_name, options)
        browser = cls._browsers.get(key)
        if browser is None or not browser.is_connected():
            browser_type = getattr(cls._playwright, self.config.browser_type_name)
            browser = await browser_type.launch(**options)
            cls._browsers[key] = browser
        lent = _LentBrowser(browser)
        self.lent.append(lent)
        return lent

    async def launch_persistent_context(self, context_kwargs: dict[str, Any]) -> Any:
        from scrapy.exceptions import NotSupported

        raise NotSupported("a kept browser has no persistent contexts (user_data_dir)")

    async def close(self) -> None:
        """The crawl's end: its contexts and listeners go, the browser stays."""
        for lent in self.lent:
            await lent.close()
        self.lent.clear()

    @classmethod
    async def close_all(cls) -> None:
        """The process's end: every kept browser and the driver."""
        for browser in cls._browsers.values():
            with suppress(Exception):  # already gone (crashed, or the driver stopped)
                await browser.close()
        cls._browsers.clear()
        if cls._manager is not None:
            with suppress(Exception):
                await cls._manager.__aexit__()
        cls._manager = cls._playwright = None


def _launch_key(browser_type: str, options: dict[str, Any]) -> tuple[Any, ...]:
    # The launch timeout follows each site's download timeout; it does not change the browser.
    return (browser_type, *sorted((name, repr(value)) for name, value in options.items()
                                  if name != "timeout"))


class _LentBrowser:
    """One crawl's view of a kept browser: what scrapy-playwright's handler calls on it, with
    ``close`` closing only what this crawl opened."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._contexts: list[Any] = []
        self._listeners: list[tuple[str, Any]] = []

    async def new_context(self, **kwargs: Any) -> Any:
        context = await self._browser.new_context(**kwargs)
        self._contexts.append(context)
        return context

    def on(self, event: str, listener: Any) -> None:
        self._listeners.append((event, listener))
        self._browser.on(event, listener)

    async def close(self) -> None:
        for context in self._contexts:
            with suppress(Exception):  # closed by the handler already, or the browser is gone
                await context.close()
        self._contexts.clear()
        for event, listener in self._listeners:
            with suppress(Exception):
                self._browser.remove_listener(event, listener)
        self._listeners.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


def browser_processes(crawl_marker: str, *, root_pid: int | None = None) -> list[Any]:
    """The live processes of this crawl's Chromium: each browser process launched with
    ``crawl_marker`` among the descendants of ``root_pid`` (default: this process), and all of its
    own descendants (zygotes, renderers, utility processes)."""
    import psutil

    marker = f"{PROCESS_MARKER_PREFIX}{crawl_marker}"
    try:
        descendants = psutil.Process(root_pid or os.getpid()).children(recursive=True)
    except psutil.Error:
        return []
    found: dict[int, Any] = {}
    for process in descendants:
        try:
            if marker in process.cmdline():
                found[process.pid] = process
                for child in process.children(recursive=True):
                    found[child.pid] = child
        except psutil.Error:  # exited while we looked: it holds no memory any more
            continue
    return list(found.values())


def memory_bytes(processes: Iterable[Any], *, pss: bool = True) -> tuple[int, int]:
    """``(rss, pss)`` summed over the processes (``pss=False``: RSS only, PSS 0).

    RSS counts the pages a process shares (Chromium's binary, the zygote's copy-on-write pages)
    once per process, so its sum over-states the tree: it is the figure ``top`` users know. PSS
    splits each shared page between the processes that map it, so its sum is what the tree really
    holds (Linux only; 0 where unavailable). RSS costs microseconds a process; PSS makes the
    kernel walk the process's page tables (``smaps_rollup``: about 2 ms a Chromium process)."""
    import psutil

    rss_total = pss_total = 0
    for process in processes:
        try:
            rss_total += process.memory_info().rss
            if pss:
                pss_total += getattr(process.memory_full_info(), "pss", 0)
        except (psutil.Error, OSError):  # exited, or /proc/<pid>/smaps not readable
            continue
    return rss_total, pss_total


class BrowserMemoryProbe:
    """Samples the memory of one crawl's Chromium process tree and keeps the peaks.

    A sample reads each Chromium process's RSS (cheap), and its PSS only when the RSS sum is at a
    new peak: the tree holds the most when its processes hold the most, and reading PSS at every
    sample cost a dozen processes about 26 ms of CPU each time (measured), a third of a crawl
    worker's CPU with the browser kept between crawls. Samples closer together than
    ``min_interval_seconds`` are skipped so that sampling after every page stays cheap.
    """

    def __init__(self, crawl_marker: str, *, min_interval_seconds: float = 0.25) -> None:
        self.crawl_marker = crawl_marker
        self.min_interval_seconds = min_interval_seconds
        self.peak_rss_bytes = 0
        self.peak_pss_bytes = 0
        self.peak_process_count = 0
        self.samples = 0
        self._last_sample_at = float("-inf")

    def sample(self) -> None:
        now = time.monotonic()
        if now - self._last_sample_at < self.min_interval_seconds:
            return
        self._last_sample_at = now
        processes = browser_processes(self.crawl_marker)
        rss, _ = memory_bytes(processes, pss=False)
        self.samples += 1
        if rss >= self.peak_rss_bytes:
            rss, pss = memory_bytes(processes)
            self.peak_pss_bytes = max(self.peak_pss_bytes, pss)
        self.peak_rss_bytes = max(self.peak_rss_bytes, rss)
        self.peak_process_count = max(self.peak_process_count, len(processes))


# Resolves as soon as the page shows a price, or once the DOM has been still for a moment after
# the load event (a page that renders no price, e.g. a category index, must not wait the whole
# timeout). Runs in the page; state between polls lives on ``window``.
_RENDERED_JS = r"""
([selector, quietMs]) => {
  if (selector) return document.querySelector(selector) !== null;
  const text = document.body ? document.body.innerText : "";
  if (/[$€£¥₹₽₺₩₴₦]\s?\d|\d\s?(?:€|₽|₺|zł|kr|lei|USD|EUR|GBP)\b|R\$\s?\d/.test(text)) return true;
  const size = document.documentElement.outerHTML.length;
  const now = performance.now();
  if (window.__clickfarmSize !== size) {
    window.__clickfarmSize = size;
    window.__clickfarmSince = now;
    return false;
  }
  return document.readyState === "complete" && now - window.__clickfarmSince >= quietMs;
}
"""


async def wait_for_rendered_content(page: Any, *, selector: str | None = None,
                                    timeout_ms: int = 10_000, quiet_ms: int = 400) -> bool:
    """Playwright page method: wait (bounded) until the page's script has rendered its offers.

    With ``selector``: until that element exists. Without: until a price-like text shows, or the
    DOM has stopped changing for ``quiet_ms`` after load. Returns False on timeout instead of
    raising: the rendered HTML is still read, and the extractor says what is missing.
    """
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        await page.wait_for_function(_RENDERED_JS, arg=[selector, quiet_ms], polling=100,
                                     timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True
