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
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from clickfarm.config import SiteConfig
from crawlers.extract import landing
from crawlers.items import ExtractError, ExtractResult, RawOffer, RawRejection


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


class SellerSpider(scrapy.Spider):
    """Base class: one instance crawls one site from ``config/sites.yaml``."""

    family: str = ""
    landing_path: str | None = ""

    def __init__(self, *args: Any, site: SiteConfig, observed_at: datetime | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, name=site.id, **kwargs)
        self.site = site
        self.observed_at = observed_at or datetime.now(UTC)
        self.outcome = CrawlOutcome()

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

    def emit_listing(self, response: Response, result: ExtractResult) -> Iterable[Any]:
        """Yield a parsed price list's items and record that the listing was read."""
        self.outcome.pages += 1
        self.outcome.listing_read = True
        self.outcome.notes.extend(result.notes)
        if result.currency and not self.outcome.stated_currency:
            self.outcome.stated_currency = result.currency
        self.crawler.stats.inc_value("offers/extracted", len(result.offers))
        yield from result.rejected
        for offer in result.offers:
            kept = self.post_process_offer(offer, response)
            if kept is None:
                yield RawRejection(reason="dropped by the site's post_process_offer hook",
                                   raw=offer.raw, site_offer_id=offer.site_offer_id)
            else:
                yield kept
        yield from result.counters

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

    # -- hooks ------------------------------------------------------------------------------

    def post_process_offer(self, offer: RawOffer, response: Response) -> RawOffer | None:
        """Site-specific fix-ups; the default keeps the offer unchanged."""
        return offer


def describe_failure(failure: Failure) -> str:
    """A one-line message for a failed request (HTTP status, timeout, refused connection)."""
    request = getattr(failure, "request", None)
    url = request.url if request is not None else "?"
    value = failure.value
    response = getattr(value, "response", None)
    if response is not None:
        return f"{url}: HTTP {response.status}"
    return f"{url}: {type(value).__name__}: {value}".strip()
