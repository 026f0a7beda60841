"""Common plumbing for the Scrapy item pipelines (one job per pipeline, see crawlers.settings)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler


class CrawlerPipeline:
    """Keeps the crawler (for its spider, settings and stats), the Scrapy 2.13+ way."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    @property
    def spider(self) -> Any:
        return self.crawler.spider
