"""The discovery spider: reads directories and sellers' landing pages, fingerprints new sites.

It only fetches and calls the pure functions of :mod:`crawlers.discovery.directory` and
:mod:`crawlers.discovery.fingerprint`; every observation becomes an *event* (a JSON-able dict)
handed to ``emit``. The parent process turns the events into database rows
(:mod:`crawlers.discovery.discover`), so this spider never writes the database.

Events (``"event"`` key):

``directory_page``
    ``directory``, ``url``, ``page``, ``entries``, ``next_page``, ``skipped`` (reason -> count).
``directory_error`` / ``directory_truncated``
    A directory page that could not be read / a directory cut at ``max_pages``.
``link``
    A seller link: ``key``, ``site_url``, ``href``, ``source``, ``source_kind``
    (``directory`` / ``seller_link``), ``page_url``, ``context``, ``text``.
``candidate``
    The verdict on a site that was not known: ``key``, ``site_url``, ``outcome``
    (``seller`` / ``unknown`` / ``unreachable`` / ``skipped``), ``detection`` or ``reason``.
``landing_error``
    A known seller whose landing page could not be read for links.

Politeness is the project's: robots.txt obeyed, the honest user agent of
:mod:`crawlers.settings`, per-site delays from the ``discovery`` section of the sites file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.discovery.directory import extract_directory, extract_seller_links
from crawlers.discovery.fingerprint import (
    UNKNOWN,
    Detection,
    combine_detections,
    detect_family,
    product_page_links,
)
from crawlers.discovery.identity import SiteIdentity, root_identity, site_identity
from crawlers.spiders.base import describe_failure

Event = dict[str, Any]
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5


class DiscoverySpider(scrapy.Spider):
    """One discovery pass over the plan (see :func:`crawlers.discovery.discover.build_plan`)."""

    name = "discovery"

    def __init__(self, *args: Any, plan: dict[str, Any], emit: Callable[[Event], None],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.emit = emit
        self.max_pages = int(plan.get("max_pages", 50))
        self.max_sites = int(plan.get("max_sites", 5000))
        self.follow_seller_links = bool(plan.get("follow_seller_links", True))
        self.known: dict[str, SiteIdentity] = {}
        for site in plan.get("known", []):
            identity = root_identity(site["url"])
            if identity is not None:
                self.known[identity.key] = identity
        self.queued: set[str] = set()
        self.limit_reported = False

    # -- start ------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for directory in self.plan.get("directories", []):
            yield scrapy.Request(directory, callback=self.parse_directory,
                                 errback=self.on_directory_error, dont_filter=True,
                                 meta={"directory": directory, "page": 1})
        if self.follow_seller_links:
            for site in self.plan.get("known", []):
                if site.get("scan"):
                    yield scrapy.Request(site["url"], callback=self.parse_known_landing,
                                         errback=self.on_landing_error, dont_filter=True,
                                         meta={"site_id": site["id"]})

    # -- directories ------------------------------------------------------------------------

    def parse_directory(self, response: Response) -> Iterable[scrapy.Request]:
        directory, page_number = response.meta["directory"], response.meta["page"]
        if not _is_html(response):
            self.emit({"event": "directory_error", "directory": directory, "url": response.url,
                       "error": f"not an HTML page ({_content_type(response) or 'no type'})"})
            return
        page = extract_directory(response.url, response.body, known=self.known.values())
        self.emit({"event": "directory_page", "directory": directory, "url": response.url,
                   "page": page_number, "entries": len(page.entries),
                   "next_page": page.next_page, "skipped": page.skipped})
        for entry in page.entries:
            yield from self.sighting(entry, source=directory, source_kind="directory")
        if page.next_page:
            if page_number >= self.max_pages:
                self.emit({"event": "directory_truncated", "directory": directory,
                           "url": page.next_page, "max_pages": self.max_pages})
            else:
                yield response.follow(page.next_page, callback=self.parse_directory,
                                      errback=self.on_directory_error,
                                      meta={"directory": directory, "page": page_number + 1})

    def on_directory_error(self, failure: Failure) -> None:
        request = _failed_request(failure)
        self.emit({"event": "directory_error", "directory": request.meta.get("directory"),
                   "url": request.url, "error": _failure_reason(failure)})

    # -- known sellers ----------------------------------------------------------------------

    def parse_known_landing(self, response: Response) -> Iterable[scrapy.Request]:
        if not _is_html(response):
            self.emit({"event": "landing_error", "site_id": response.meta["site_id"],
                       "url": response.url, "error": "not an HTML page"})
            return
        assert response.request is not None  # Scrapy sets it on every response to a callback
        yield from self.seller_links_of(response, response.request.url)

    def on_landing_error(self, failure: Failure) -> None:
        request = _failed_request(failure)
        self.emit({"event": "landing_error", "site_id": request.meta.get("site_id"),
                   "url": request.url, "error": _failure_reason(failure)})

    def seller_links_of(self, response: Response, site_url: str) -> Iterable[scrapy.Request]:
        own = root_identity(site_url)
        for link in extract_seller_links(response.url, response.body, own=own,
                                         known=self.known.values()):
            yield from self.sighting(link, source=own.url if own else site_url,
                                     source_kind="seller_link")

    # -- candidates -------------------------------------------------------------------------

    def sighting(self, link: Any, *, source: str, source_kind: str) -> Iterable[scrapy.Request]:
        """Report a link and, for a site seen for the first time, fetch its landing page."""
        identity: SiteIdentity = link.identity
        self.emit({"event": "link", "key": identity.key, "site_url": identity.url,
                   "href": link.href, "source": source, "source_kind": source_kind,
                   "page_url": link.page_url, "context": link.context, "text": link.text[:120]})
        if identity.key in self.known or identity.key in self.queued:
            return
        self.queued.add(identity.key)
        if len(self.queued) > self.max_sites:
            if not self.limit_reported:
                self.limit_reported = True
                self.logger.warning("discovery stopped fingerprinting at max_sites=%d",
                                    self.max_sites)
            self.emit({"event": "candidate", "key": identity.key, "site_url": identity.url,
                       "outcome": "skipped",
                       "reason": f"not checked: max_sites ({self.max_sites}) reached"})
            return
        yield self.candidate_request(identity, identity.url, redirects=0)

    def candidate_request(self, identity: SiteIdentity, url: str, *, redirects: int
                          ) -> scrapy.Request:
        # Redirects are followed by hand: one to another site is reported, never followed.
        return scrapy.Request(url, callback=self.parse_candidate, errback=self.on_candidate_error,
                              dont_filter=True,
                              meta={"identity": identity, "redirects": redirects,
                                    "dont_redirect": True,
                                    "handle_httpstatus_list": list(_REDIRECT_STATUSES)})

    def parse_candidate(self, response: Response) -> Iterable[scrapy.Request]:
        identity: SiteIdentity = response.meta["identity"]
        if response.status in _REDIRECT_STATUSES:
            location = (response.headers.get("Location") or b"").decode("latin-1").strip()
            target = response.urljoin(location) if location else ""
            moved = site_identity(target, self.known.values()) if target else None
            if moved is None or moved.key != identity.key:
                self.candidate(identity, "unreachable", reason=(
                    f"redirects to another site ({target or 'no Location'}): not followed"))
            elif response.meta["redirects"] >= _MAX_REDIRECTS:
                self.candidate(identity, "unreachable",
                               reason=f"more than {_MAX_REDIRECTS} redirects")
            else:
                yield self.candidate_request(identity, target,
                                             redirects=response.meta["redirects"] + 1)
            return
        if not _is_html(response):
            self.candidate(identity, "unknown", reason=f"not an HTML page "
                                                       f"({_content_type(response) or 'no type'})")
            return
        detection = detect_family(response.url, response.body, response.headers)
        products = product_page_links(response.url, response.body)
        if detection.family == UNKNOWN and products:
            yield scrapy.Request(products[0], callback=self.parse_product_page,
                                 errback=self.on_product_error, dont_filter=True,
                                 meta={"identity": identity, "landing": detection,
                                       "remaining": products[1:], "landing_response": response})
            return
        yield from self.finish_candidate(identity, detection, response)

    def parse_product_page(self, response: Response) -> Iterable[scrapy.Request]:
        meta = response.meta
        landing: Detection = meta["landing"]
        detection = (detect_family(response.url, response.body, response.headers)
                     if _is_html(response) else Detection(UNKNOWN, ["product page is not HTML"]))
        combined = combine_detections(landing, [(response.url, detection)])
        if combined.family == UNKNOWN and meta["remaining"]:
            yield scrapy.Request(meta["remaining"][0], callback=self.parse_product_page,
                                 errback=self.on_product_error, dont_filter=True,
                                 meta={**_carry(meta), "remaining": meta["remaining"][1:]})
            return
        yield from self.finish_candidate(meta["identity"], combined, meta["landing_response"])

    def on_product_error(self, failure: Failure) -> Iterable[scrapy.Request]:
        meta = _failed_request(failure).meta
        landing: Detection = meta["landing"]
        landing.evidence.append(f"product page {_failed_request(failure).url} not read: "
                                f"{_failure_reason(failure)}")
        if meta["remaining"]:
            yield scrapy.Request(meta["remaining"][0], callback=self.parse_product_page,
                                 errback=self.on_product_error, dont_filter=True,
                                 meta={**_carry(meta), "remaining": meta["remaining"][1:]})
            return
        yield from self.finish_candidate(meta["identity"], landing, meta["landing_response"])

    def finish_candidate(self, identity: SiteIdentity, detection: Detection,
                         landing_response: Response) -> Iterable[scrapy.Request]:
        if detection.family == UNKNOWN:
            self.candidate(identity, "unknown", reason="; ".join(detection.evidence),
                           detection=detection)
            return
        self.candidate(identity, "seller", detection=detection)
        if self.follow_seller_links:
            # A newly found seller's partners are found the same way as a known seller's.
            yield from self.seller_links_of(landing_response, identity.url)

    def on_candidate_error(self, failure: Failure) -> None:
        identity: SiteIdentity = _failed_request(failure).meta["identity"]
        self.candidate(identity, "unreachable", reason=_failure_reason(failure))

    def candidate(self, identity: SiteIdentity, outcome: str, *, reason: str | None = None,
                  detection: Detection | None = None) -> None:
        self.emit({"event": "candidate", "key": identity.key, "site_url": identity.url,
                   "outcome": outcome, "reason": reason,
                   "detection": detection.as_json() if detection else None})


def _carry(meta: dict[str, Any]) -> dict[str, Any]:
    return {key: meta[key] for key in ("identity", "landing", "landing_response")}


def _content_type(response: Response) -> str:
    return (response.headers.get("Content-Type") or b"").decode("latin-1").split(";")[0].strip()


def _is_html(response: Response) -> bool:
    content_type = _content_type(response).lower()
    if content_type:
        return "html" in content_type
    return b"<html" in response.body[:2048].lower()


def _failed_request(failure: Failure) -> scrapy.Request:
    """The request of an errback's failure: Scrapy sets it, Twisted's Failure does not declare it."""
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request


def _failure_reason(failure: Failure) -> str:
    if failure.check(HttpError):
        return describe_failure(failure)
    if failure.check(IgnoreRequest) and "robots" in str(failure.value).lower():
        return "forbidden by robots.txt"
    if failure.check(IgnoreRequest):
        return f"request ignored: {failure.value}"
    return describe_failure(failure)
