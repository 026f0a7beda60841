"""The base spider every seller family builds on.

A family spider (``smm_api``, ``smm_html``, ...) only knows which pages to fetch and which pure
extraction function reads them (``crawlers.extract``); it yields the raw items as seen and never
normalizes. Normalization, validation and storage are the pipelines' job
(``crawlers.settings.ITEM_PIPELINES``).

Knobs and hooks, documented once here:

``family``
    The family id used in ``config/sites.yaml``.
``listing_paths``
    Not a class knob: each family builds its own listing requests in :meth:`listing_requests`.
``landing_path``
    Path of the landing page whose public counters are read (``""`` = site root; ``None`` to
    skip).
:meth:`post_process_offer`
    Override in a site subclass to fix a quirky site: receives each :class:`RawOffer` and the
    response, returns the offer (possibly changed) or ``None`` to drop it with a counted reason.
``max_offers`` (``politeness.max_offers`` of the site, setting ``CLICKFARM_MAX_OFFERS``)
    Bound on the offers one crawl keeps (default 50,000): beyond it the listing is
    incomplete ("more than N offers ..."), the run ``partial``, nothing marked removed, and a
    paginated shop is not read further.
``max_pages``
    Bound on the listing pages one crawl fetches (paginated shops, followed product pages);
    the Scrapy setting ``CLICKFARM_MAX_LISTING_PAGES`` overrides it. Reaching it ends the crawl
    as ``partial`` ("pagination did not end after N pages"): nothing is marked removed.
:meth:`site_request`
    A request that stays on the site: redirects are followed only while they stay under the
    site's URL (host and path prefix, so ``http://host/s/shop-03/`` never wanders into
    ``/s/shop-04/``); a redirect elsewhere is refused, counted (``offsite/redirects_refused``),
    noted and reported through the request's errback.

The spider keeps a :class:`CrawlOutcome` that the storage pipeline reads when the spider
closes: whether the price list was read at all, the errors met, pages fetched and the currency
the site stated. That is how a crawl that read nothing ends as a failed run with a message
instead of a green run with zero offers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from core.config import SiteConfig
from crawlers.extract import landing
from crawlers.items import ExtractError, ExtractResult, ItemBatch, RawOffer, RawRejection


@dataclass
class CrawlOutcome:
    """What the storage pipeline needs to know beyond the items."""

    listing_read: bool = False
    """True once the price list was fetched and parsed (even if it held zero offers)."""
    listing_errors: list[str] = field(default_factory=list)
    """Errors that prevented reading the price list: the run fails with these."""
    other_errors: list[str] = field(default_factory=list)
    """Errors on secondary pages (landing counters): the run is partial."""
    pages: int = 0
    stated_currency: str | None = None
    notes: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    """Listing pages that could not be read after the listing was (a later page failed, the
    page bound was reached): the run is partial and no offer is marked removed."""
    offers_emitted: int = 0
    offers_capped: bool = False
    """The site listed more offers than ``max_offers``: the rest was not read (partial run)."""

    @property
    def complete_listing(self) -> bool:
        """Every page of the listing was read: unseen offers may be marked removed."""
        return not self.incomplete


REDIRECT_STATUSES = (301, 302, 303, 307, 308)
DEFAULT_MAX_OFFERS = 50_000


class OffsiteRedirect(Exception):
    """A redirect that would leave the site (another host, or another site's path)."""


class SellerSpider(scrapy.Spider):
    """Base class: one instance crawls one site from ``config/sites.yaml``."""

    family: str = ""
    landing_path: str | None = ""
    max_pages: int = 100

    def __init__(self, *args: Any, site: SiteConfig, observed_at: datetime | None = None,
                 **kwargs: Any) -> None:
        super().__init__(site.id, *args, **kwargs)
        self.site = site
        self.observed_at = observed_at or datetime.now(UTC)
        self.outcome = CrawlOutcome()
        hostname = urlsplit(site.url).hostname
        # Scrapy's OffsiteMiddleware drops followed links to other hosts (requests sent with
        # dont_filter bypass it; site_request checks those itself).
        self.allowed_domains = [hostname] if hostname else []

    # -- requests ---------------------------------------------------------------------------

    def site_url(self, path: str) -> str:
        return urljoin(self.site.url, path)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.landing_path is not None:
            yield scrapy.Request(self.site_url(self.landing_path), callback=self.parse_landing,
                                 errback=self.on_secondary_error, dont_filter=True)
        for request in self.listing_requests():
            yield request

    def listing_requests(self) -> Iterable[scrapy.Request]:
        """The requests that fetch the price list; each family implements it."""
        raise NotImplementedError

    # -- responses --------------------------------------------------------------------------

    def parse_landing(self, response: Response) -> Iterable[Any]:
        self.outcome.pages += 1
        yield from landing.extract_counters(response.text)

    def emit_listing(self, response: Response, result: ExtractResult, *,
                     count_page: bool = True) -> Iterable[Any]:
        """Yield a parsed price list's items and record that the listing was read
        (``count_page=False`` when the spider counted the pages itself)."""
        if count_page:
            self.outcome.pages += 1
        self.outcome.listing_read = True
        self.outcome.notes.extend(result.notes)
        if result.currency and not self.outcome.stated_currency:
            self.outcome.stated_currency = result.currency
        self.crawler.stats.inc_value("offers/extracted", len(result.offers))
        # One batch for the whole listing read: the pipelines take it as one Scrapy item.
        batch = ItemBatch(items=list(result.rejected))
        offers = result.offers
        room = max(0, self.offer_limit - self.outcome.offers_emitted)
        if len(offers) > room:
            self.crawler.stats.inc_value("offers/over_limit", len(offers) - room)
            offers = offers[:room]
            if not self.outcome.offers_capped:
                self.outcome.offers_capped = True
                self.listing_incomplete(
                    f"more than {self.offer_limit:,} offers (the site's max_offers): only the "
                    f"first {self.offer_limit:,} were read; nothing is marked removed")
        self.outcome.offers_emitted += len(offers)
        for offer in offers:
            kept = self.post_process_offer(offer, response)
            if kept is None:
                batch.items.append(RawRejection(
                    reason="dropped by the site's post_process_offer hook", raw=offer.raw,
                    site_offer_id=offer.site_offer_id))
            else:
                batch.items.append(kept)
        batch.items.extend(result.counters)
        if batch.items:
            yield batch

    def listing_failed(self, message: str) -> None:
        self.outcome.listing_errors.append(message)
        self.crawler.stats.inc_value("listing/errors")
        self.logger.error("%s: %s", self.site.id, message)

    def read_listing(self, response: Response, extract: Any, **kwargs: Any) -> Iterable[Any]:
        """Run a pure extraction function on a listing response; a page-level error fails the
        listing with the extractor's message."""
        try:
            result = extract(response.body, **kwargs)
        except ExtractError as error:
            self.outcome.pages += 1
            self.listing_failed(f"{response.url}: {error}")
            return
        yield from self.emit_listing(response, result)

    def on_listing_error(self, failure: Failure) -> None:
        self.listing_failed(describe_failure(failure))

    def on_secondary_error(self, failure: Failure) -> None:
        message = describe_failure(failure)
        self.outcome.other_errors.append(message)
        self.crawler.stats.inc_value("secondary/errors")
        self.logger.warning("%s: %s", self.site.id, message)

    # -- staying on the site and bounded paging (used by the retail families) ---------------

    @property
    def page_limit(self) -> int:
        """``max_pages``, or the ``CLICKFARM_MAX_LISTING_PAGES`` setting when set."""
        crawler = getattr(self, "crawler", None)
        if crawler is not None:
            configured = crawler.settings.getint("CLICKFARM_MAX_LISTING_PAGES", 0)
            if configured > 0:
                return configured
        return self.max_pages

    @property
    def offer_limit(self) -> int:
        """``CLICKFARM_MAX_OFFERS`` (the site's ``max_offers``), else 50,000."""
        crawler = getattr(self, "crawler", None)
        configured = crawler.settings.getint("CLICKFARM_MAX_OFFERS", 0) if crawler else 0
        return configured if configured > 0 else DEFAULT_MAX_OFFERS

    def is_on_site(self, url: str) -> bool:
        """Same host (``www.`` aside; the port too when the site URL names one) and under the
        site URL's path."""
        site, other = urlsplit(self.site.url), urlsplit(url)
        if other.scheme not in ("http", "https"):
            return False

        def host(parts: Any) -> str:
            return (parts.hostname or "").lower().removeprefix("www.")

        if host(site) != host(other):
            return False
        if site.port is not None and other.port != site.port:
            return False
        return (other.path or "/").startswith(site.path or "/")

    def site_request(self, url: str, callback: Any, *, errback: Any,
                     cb_kwargs: dict[str, Any] | None = None, dont_filter: bool = True,
                     **kwargs: Any) -> scrapy.Request:
        """A GET that handles its own redirects: followed while on the site, refused
        otherwise (see the class docstring). ``callback`` / ``errback`` are methods of this
        spider."""
        meta = dict(kwargs.pop("meta", None) or {})
        meta.update({"dont_redirect": True, "handle_httpstatus_list": list(REDIRECT_STATUSES)})
        return scrapy.Request(
            url, callback=self._site_response, errback=errback, dont_filter=dont_filter,
            meta=meta, cb_kwargs={"_then": callback.__name__, **(cb_kwargs or {})}, **kwargs)

    def _site_response(self, response: Response, _then: str, **kwargs: Any) -> Any:
        if response.status not in REDIRECT_STATUSES:
            result = getattr(self, _then)(response, **kwargs)
            if result is not None:
                yield from result
            return
        location = response.headers.get("Location")
        request = response.request
        assert request is not None  # Scrapy sets it on every response it passes to a callback
        target = urljoin(response.url, location.decode("latin-1")) if location else None
        redirects = response.meta.get("site_redirects", 0) + 1
        if target and self.is_on_site(target) and redirects <= 5:
            as_get: dict[str, Any] = ({"method": "GET", "body": b""}
                                      if response.status == 303 else {})
            yield request.replace(url=target, meta={**request.meta, "site_redirects": redirects},
                                  **as_get)
            return
        if target and not self.is_on_site(target):
            self.crawler.stats.inc_value("offsite/redirects_refused")
            problem = f"redirect to {target} not followed (outside {self.site.url})"
        else:
            problem = f"too many redirects (last to {target})" if target else (
                f"HTTP {response.status} without a Location header")
        self.outcome.notes.append(f"{response.url}: {problem}")
        failure = Failure(OffsiteRedirect(problem))
        failure.request = request  # type: ignore[attr-defined]
        errback = request.errback
        result = errback(failure) if errback is not None else None
        if result is not None:
            yield from result

    def listing_incomplete(self, message: str) -> None:
        """A listing page after a successful one failed, or the page bound was reached."""
        self.outcome.incomplete.append(message)
        self.crawler.stats.inc_value("listing/incomplete")
        self.logger.warning("%s: %s", self.site.id, message)

    def listing_page_failed(self, message: str) -> None:
        """A listing page failed: the whole listing when nothing was read yet, else only this
        page (the run becomes partial)."""
        if self.outcome.listing_read:
            self.listing_incomplete(message)
        else:
            self.listing_failed(message)

    def page_failed(self, url: str, message: str) -> None:
        """For shops read page by page (a landing page, then product or category pages): the
        landing page failing fails the listing (unless offers were read); another page failing
        makes it incomplete (partial run, its offers not marked removed), and is the listing's
        error too while nothing was read."""
        if url == self.site_url(""):
            self.listing_page_failed(message)
            return
        self.listing_incomplete(message)
        if not self.outcome.listing_read:
            self.outcome.listing_errors.append(message)

    # -- hooks ------------------------------------------------------------------------------

    def post_process_offer(self, offer: RawOffer, response: Response) -> RawOffer | None:
        """Site-specific fix-ups; the default keeps the offer unchanged."""
        return offer


def describe_failure(failure: Failure) -> str:
    """A one-line message for a failed request (HTTP status, timeout, refused connection)."""
    request = getattr(failure, "request", None)
    url = request.url if request is not None else "?"
    value = failure.value
    # A middleware that gave up says why (crawlers.middlewares: "blocked: HTTP 429 ...").
    if getattr(value, "crawl_message", None):
        return f"{url}: {value.crawl_message}"
    response = getattr(value, "response", None)
    if response is not None:
        return f"{url}: HTTP {response.status}"
    return f"{url}: {type(value).__name__}: {value}".strip()
