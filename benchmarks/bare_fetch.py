"""The baseline of the crawl benchmark: Scrapy fetching the same pages and doing nothing else.

It sends exactly the requests the family spiders send (landing page, API ``balance`` and
``services`` or the ``/services`` page) with the same settings, and throws the responses away.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from core.config import SiteConfig, load_sites
from crawlers import settings as project_settings
from crawlers.runner import site_spider


class BareFetchSpider(scrapy.Spider):
    name = "bare-fetch"

    def __init__(self, *args: Any, site: SiteConfig, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.site.url, callback=self.discard, dont_filter=True)
        if self.site.family == "smm_api":
            for action in ("balance", "services"):
                yield scrapy.FormRequest(urljoin(self.site.url, "api/v2"),
                                         formdata={"key": self.site.api_key() or "",
                                                   "action": action},
                                         callback=self.discard, dont_filter=True)
        else:
            yield scrapy.Request(urljoin(self.site.url, "services"), callback=self.discard,
                                 dont_filter=True)

    def discard(self, response: scrapy.http.Response) -> None:
        self.crawler.stats.inc_value("bare/bytes", len(response.body))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites-file", required=True)
    args = parser.parse_args(argv)
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    process = CrawlerProcess(settings)
    for site in load_sites(args.sites_file):
        process.crawl(site_spider(site, base=BareFetchSpider), site=site)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
