"""A single polite fetch for ``clickfarm detect URL``: robots.txt first, the project's user agent.

One page (and perhaps one product page) does not need Scrapy's machinery; the rules are the same
as the crawlers': read-only GET, robots.txt obeyed, the honest user agent of
:mod:`crawlers.settings`, a timeout, no redirect to another site. The timeout is a total
deadline (:mod:`core.deadline`): a page that drips a byte every half second still ends in time,
and :func:`detect_url` gives its whole exchange (robots.txt, the page, product pages) one.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field
from urllib.parse import urljoin

from core.deadline import deadline_opener, seconds_left, total_deadline
from crawlers.discovery.fingerprint import (
    UNKNOWN,
    Detection,
    combine_detections,
    detect_family,
    product_page_links,
)
from crawlers.discovery.identity import site_identity
from crawlers.settings import USER_AGENT

MAX_BYTES = 8 * 1024 * 1024
_OPENER = deadline_opener()


class FetchError(Exception):
    """The page could not be fetched or is not an HTML page; the message says why."""


@dataclass(slots=True)
class FetchedPage:
    url: str
    """The final URL (after same-site redirects)."""
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class DetectedSite:
    detection: Detection
    landing: FetchedPage
    product_pages: list[str] = field(default_factory=list)


def _allowed_by_robots(url: str, timeout: float) -> bool:
    robots_url = urljoin(url, "/robots.txt")
    parser = urllib.robotparser.RobotFileParser()
    request = urllib.request.Request(robots_url, headers={"User-Agent": USER_AGENT})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            parser.parse(response.read(512 * 1024).decode("utf-8", "replace").splitlines())
    except urllib.error.HTTPError as error:
        # No robots.txt (4xx) allows everything; a server error on it forbids, as Scrapy does not
        # know either way and the polite reading is "not now".
        return 400 <= error.code < 500
    except (urllib.error.URLError, OSError, ValueError):
        return True  # unreachable robots.txt: the page fetch will report the real problem
    return parser.can_fetch(USER_AGENT, url)


def fetch_page(url: str, *, timeout: float = 30, require_html: bool = True) -> FetchedPage:
    """GET one page politely, within ``timeout`` seconds in all (robots.txt included; the
    caller's deadline when one is active). Raises :class:`FetchError` (robots.txt, HTTP error,
    network error, timeout, redirect to another site, not HTML)."""
    if seconds_left() is None:
        with total_deadline(timeout):
            return fetch_page(url, timeout=timeout, require_html=require_html)
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"not an http(s) URL: {url!r}")
    if not _allowed_by_robots(url, timeout):
        raise FetchError(f"{url}: forbidden by robots.txt for {USER_AGENT.split(' ')[0]}")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                   "Accept": "text/html,*/*;q=0.5"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            final_url = response.geturl()
            status = response.status
            headers = {name.lower(): value for name, value in response.headers.items()}
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise FetchError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise FetchError(f"{url}: {reason}") from None
    if len(body) > MAX_BYTES:
        raise FetchError(f"{url}: larger than {MAX_BYTES // (1024 * 1024)} MB: not a landing page")
    asked, landed = site_identity(url), site_identity(final_url)
    if asked is None or landed is None or asked.key != landed.key:
        raise FetchError(f"{url} redirects to another site ({final_url}): not followed; "
                         "run detect on that URL if it is the seller")
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if require_html and "html" not in content_type:
        raise FetchError(f"{url}: not an HTML page (content-type {content_type or 'missing'})")
    return FetchedPage(final_url, status, headers, body)


def detect_url(url: str, *, timeout: float = 30) -> DetectedSite:
    """Fetch a site's page and fingerprint it; when the page alone says nothing, one or two of
    its product pages too (shops often show prices only there). All of it within ``timeout``
    seconds."""
    with total_deadline(timeout):
        return _detect(url, timeout)


def _detect(url: str, timeout: float) -> DetectedSite:
    landing = fetch_page(url, timeout=timeout)
    detection = detect_family(landing.url, landing.body, landing.headers)
    site = DetectedSite(detection, landing)
    if detection.family != UNKNOWN:
        return site
    for product_url in product_page_links(landing.url, landing.body):
        site.product_pages.append(product_url)
        try:
            page = fetch_page(product_url, timeout=timeout)
        except FetchError as error:
            detection.evidence.append(f"product page not read: {error}")
            continue
        combined = combine_detections(detection, [(page.url, detect_family(
            page.url, page.body, page.headers))])
        if combined.family != UNKNOWN:
            site.detection = combined
            break
    return site
