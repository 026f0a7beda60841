"""Run crawls: one child process per batch of sites, because Scrapy's reactor cannot restart.

``run_crawl(...)`` (the parent side) starts ``python -m crawlers.runner`` with a hard timeout
and returns the exit status; the child runs one spider per site in one CrawlerProcess and
records every run in the database itself, so the parent reads the results from there.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clickfarm.config import SiteConfig, load_sites, select_sites


@dataclass
class CrawlProcessResult:
    returncode: int
    timed_out: bool
    stderr_tail: str


def spider_settings(site: SiteConfig) -> dict[str, Any]:
    """Per-site politeness from the config, as Scrapy settings."""
    politeness = site.politeness
    return {
        "ROBOTSTXT_OBEY": politeness.obey_robots_txt,
        "DOWNLOAD_DELAY": politeness.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": politeness.concurrency,
        "CONCURRENT_REQUESTS": max(politeness.concurrency, 2),
        "AUTOTHROTTLE_ENABLED": politeness.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(politeness.download_delay, 0.1),
        "DOWNLOAD_TIMEOUT": politeness.timeout_seconds,
        "RETRY_TIMES": politeness.retries,
    }


def crawl_in_this_process(sites: list[SiteConfig], *, observed_at: datetime,
                          database_url: str | None, log_level: str = "WARNING",
                          migrate_schema: bool = True) -> None:
    """Run one spider per site in this process (the child side). Blocks until all finish."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawlers import settings as project_settings
    from crawlers.spiders import SPIDER_BY_FAMILY
    from storage.db import get_engine, migrate

    if migrate_schema:
        migrate(get_engine(database_url))
    base = Settings()
    base.setmodule(project_settings, priority="project")
    base.set("LOG_LEVEL", log_level, priority="cmdline")
    if database_url:
        base.set("CLICKFARM_DATABASE_URL", database_url, priority="cmdline")
    process = CrawlerProcess(base)
    for site in sites:
        base_spider = SPIDER_BY_FAMILY[site.family]
        # A per-site subclass carries that site's politeness settings.
        spider_class = type(f"{base_spider.__name__}_{site.id}", (base_spider,),
                            {"custom_settings": spider_settings(site), "name": site.id})
        process.crawl(spider_class, site=site, observed_at=observed_at)
    process.start()


_MIGRATED: set[str | None] = set()


def _ensure_schema(database_url: str | None) -> None:
    if database_url not in _MIGRATED:
        from storage.db import get_engine, migrate

        migrate(get_engine(database_url))
        _MIGRATED.add(database_url)


def run_crawl(site_ids: list[str] | None, *, sites_path: Path | None = None,
              observed_at: datetime | None = None, database_url: str | None = None,
              timeout_seconds: float = 3600, log_level: str = "WARNING") -> CrawlProcessResult:
    """Parent side: crawl the given sites (or every enabled site) in a child process."""
    # The parent migrates once per database; its children skip the check.
    _ensure_schema(database_url)
    command = [sys.executable, "-m", "crawlers.runner", "--log-level", log_level,
               "--schema-is-current"]
    if sites_path:
        command += ["--sites-file", str(sites_path)]
    if observed_at:
        command += ["--observed-at", observed_at.isoformat()]
    if database_url:
        command += ["--database-url", database_url]
    for site_id in site_ids or []:
        command += ["--site", site_id]
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        _, stderr = child.communicate(timeout=timeout_seconds)
        timed_out = False
    except subprocess.TimeoutExpired:
        # SIGTERM first: the crawl closes as "shutdown" and records itself as interrupted.
        os.killpg(child.pid, signal.SIGTERM)
        try:
            _, stderr = child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            _, stderr = child.communicate()
        timed_out = True
    return CrawlProcessResult(child.returncode, timed_out, (stderr or "")[-4000:])


def balanced_groups(site_ids: list[str], groups: int,
                    weights: dict[str, int] | None = None) -> list[list[str]]:
    """Split sites into at most ``groups`` batches of similar work: largest first, each to the
    lightest batch so far (weights: offers seen last time; unknown sites weigh 1)."""
    weights = weights or {}
    batches: list[tuple[int, list[str]]] = [(0, []) for _ in range(max(1, groups))]
    for site_id in sorted(site_ids, key=lambda s: (-weights.get(s, 1), s)):
        index = min(range(len(batches)), key=lambda i: batches[i][0])
        load, members = batches[index]
        batches[index] = (load + weights.get(site_id, 1), [*members, site_id])
    return [members for _, members in batches if members]


def run_crawls(site_ids: list[str], *, parallel: int = 2, weights: dict[str, int] | None = None,
               **options: Any) -> list[CrawlProcessResult]:
    """Crawl the sites in up to ``parallel`` child processes at once (one per CPU is the most
    that helps: parsing and normalizing are CPU-bound)."""
    from concurrent.futures import ThreadPoolExecutor

    batches = balanced_groups(site_ids, parallel, weights)
    with ThreadPoolExecutor(max_workers=len(batches) or 1) as pool:
        return list(pool.map(lambda batch: run_crawl(batch, **options), batches))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="crawl sites (child process of clickfarm)")
    parser.add_argument("--site", action="append", default=[])
    parser.add_argument("--sites-file")
    parser.add_argument("--observed-at", help="ISO timestamp (default: now, UTC)")
    parser.add_argument("--database-url")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--schema-is-current", action="store_true",
                        help="the caller has applied the migrations: skip the check")
    args = parser.parse_args(argv)
    sites = select_sites(load_sites(args.sites_file), args.site)
    observed_at = (datetime.fromisoformat(args.observed_at) if args.observed_at
                   else datetime.now(UTC))
    if observed_at.tzinfo is None:
        observed_at = observed_at.replace(tzinfo=UTC)
    crawl_in_this_process(sites, observed_at=observed_at.astimezone(UTC),
                          database_url=args.database_url, log_level=args.log_level,
                          migrate_schema=not args.schema_is_current)
    return 0


if __name__ == "__main__":
    sys.exit(main())
