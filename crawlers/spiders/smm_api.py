"""PerfectPanel-style API v2 panels: ``balance`` (the panel's currency), then ``services``.

Read only: the spider sends ``action=balance`` and ``action=services`` and nothing else. The API
key comes from the environment variable the site's config names; it travels in the POST body
only, which Scrapy never logs, and it is never stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from core.redact import register_secret
from crawlers.extract import smm_api
from crawlers.items import ExtractError
from crawlers.spiders.base import SellerSpider, describe_failure

# The only actions a monitor may send. Anything else places or changes an order.
READ_ONLY_ACTIONS = frozenset({"services", "balance"})


class SmmApiSpider(SellerSpider):
    family = "smm_api"
    api_path = "api/v2"

    def api_request(self, action: str, callback: Any, errback: Any) -> scrapy.FormRequest:
        if action not in READ_ONLY_ACTIONS:
            raise ValueError(f"refusing to send API action {action!r}: the monitor is read-only")
        return scrapy.FormRequest(
            self.site_url(self.api_path),
            formdata={"key": self._api_key, "action": action},
            callback=callback, errback=errback, dont_filter=True,
        )

    def listing_requests(self) -> Iterable[scrapy.Request]:
        key = self.site.api_key()
        if not key:
            self.listing_failed(
                f"no API key: set the environment variable {self.site.api_key_env or '(api_key_env not configured)'}"
            )
            return
        self._api_key = key
        # From now on no log line, stored error or stat of this process shows it (a seller may
        # echo it back: "Invalid API key: key=...").
        register_secret(key)
        # Balance first: it is the only place the API states the panel's currency.
        yield self.api_request("balance", self.parse_balance, self.on_balance_error)

    def parse_balance(self, response: Response) -> Iterable[scrapy.Request]:
        self.outcome.pages += 1
        try:
            _, currency = smm_api.extract_balance(response.body)
        except ExtractError as error:
            self.outcome.other_errors.append(f"balance: {error}")
            currency = None
        if currency:
            self.outcome.stated_currency = currency.strip().upper()
        yield self.api_request("services", self.parse_services, self.on_listing_error)

    def on_balance_error(self, failure: Failure) -> Iterable[scrapy.Request]:
        self.outcome.other_errors.append(f"balance: {describe_failure(failure)}")
        yield self.api_request("services", self.parse_services, self.on_listing_error)

    def parse_services(self, response: Response) -> Iterable[Any]:
        yield from self.read_listing(response, smm_api.extract_services)


