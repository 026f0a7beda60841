"""Run crawls: one child process per batch of sites, because Scrapy's reactor cannot restart.

``run_crawl(...)`` (the parent side) starts ``python -m crawlers.runner`` with a hard timeout
(:func:`crawlers.child_process.run_child`, shared with the discovery runner). The parent
creates the runs first (``running``, one per site) and hands their ids to the child in its
environment; the child runs one spider per site in one CrawlerProcess and completes its run
(offers, counts, final status). :func:`settle_runs` then gives every run the child did not
close an honest status, whatever happened to the child:

- it stopped on its own: its runs are closed (a run it left ``running`` becomes ``failed``);
- it ran past the hard timeout: SIGTERM (the crawl closes its runs as ``interrupted``), SIGKILL
  after a grace period; the runs say ``hard timeout ...``;
- it was stopped by its caller (``cancel``, the scheduler shutting down): the same, with the
  caller's reason (``scheduler stopped``);
- it was killed by a signal: ``interrupted`` (``crawl process killed by SIGKILL``);
- it crashed (exit code > 0): ``failed`` with the tail of its stderr.

Since the runs exist before the child starts, a crash before the first request still shows up
in ``crawl_run``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.config import SiteConfig, select_sites
from core.families import spider_class
from core.redact import install_log_redaction
from crawlers.child_process import run_child
from storage import repository

logger = logging.getLogger(__name__)

STDERR_TAIL_CHARS = 4000
# The child reads the database URL from here, never from its arguments: a password in argv is
# visible to every user of the machine (``ps``, /proc/PID/cmdline).
DATABASE_URL_ENV = "CLICKFARM_DATABASE_URL"
# The parent creates the runs and hands their ids to the child here: {"site id": run id}.
RUN_IDS_ENV = "CLICKFARM_RUN_IDS"
# How long a child gets to close its runs after SIGTERM before it is killed.
DEFAULT_STOP_GRACE_SECONDS = 30.0


@dataclass
class CrawlProcessResult:
    returncode: int
    timed_out: bool
    stderr_tail: str
    run_ids: list[int] = field(default_factory=list)
    """The runs of this process (recorded by the child, or by the parent for it)."""
    cancelled: bool = False
    """Stopped by the caller (``cancel`` was set), e.g. the scheduler shutting down."""
    pid: int | None = None
    seconds: float = 0.0


def load_targets(sites_path: Path | str | None = None, database_url: str | None = None, *,
                 include_disabled: bool = False) -> list[SiteConfig]:
    """The sites to crawl: the config's sites plus the sites promoted from discovery."""
    from crawlers.discovery.sites import crawl_targets

    return crawl_targets(sites_path, database_url, include_disabled=include_disabled)


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
        "CLICKFARM_MAX_OFFERS": politeness.max_offers,
        # A Retry-After longer than the site's timeout is not waited out in full.
        "RETRY_AFTER_MAX_SECONDS": min(60.0, politeness.timeout_seconds),
    }


def crawl_settings(*, database_url: str | None, log_level: str = "WARNING",
                   trigger: str = "manual", planned_at: datetime | None = None,
                   run_ids: dict[str, int] | None = None, browser: bool = False) -> Any:
    """The Scrapy settings of one crawl (the child side): the project's, the database, the runs
    the parent created (``pipelines.store_pipeline`` completes them), the trigger and plan time
    recorded on them; ``browser``: the asyncio reactor the browser needs."""
    from scrapy.settings import Settings

    from crawlers import settings as project_settings

    base = Settings()
    base.setmodule(project_settings, priority="project")
    base.set("LOG_LEVEL", log_level, priority="cmdline")
    if database_url:
        base.set("CLICKFARM_DATABASE_URL", database_url, priority="cmdline")
    if run_ids:
        base.set("CLICKFARM_RUN_IDS", run_ids, priority="cmdline")
    # Recorded on each run by the storage pipeline.
    base.set("CLICKFARM_TRIGGER", trigger, priority="cmdline")
    if planned_at is not None:
        base.set("CLICKFARM_PLANNED_AT", planned_at.isoformat(), priority="cmdline")
    if browser:
        # One reactor serves every spider of the process: the browser needs asyncio's.
        from crawlers.browser import ASYNCIO_REACTOR

        base.set("TWISTED_REACTOR", ASYNCIO_REACTOR, priority="cmdline")
    return base


def site_spider(site: SiteConfig, base: type[Any] | None = None) -> type[Any]:
    """The family's spider, or the site's own subclass of it (``spider:`` in sites.yaml), as a
    per-site subclass that carries the site's politeness settings (``base``: another spider
    class to give them, e.g. a benchmark's bare fetch)."""
    base_spider = base or spider_class(site.family, site.spider)
    return type(f"{base_spider.__name__}_{site.id}", (base_spider,),
                {"custom_settings": spider_settings(site), "name": site.id})


def crawl_in_this_process(sites: list[SiteConfig], *, observed_at: datetime,
                          database_url: str | None, log_level: str = "WARNING",
                          migrate_schema: bool = True, trigger: str = "manual",
                          planned_at: datetime | None = None) -> None:
    """Run one spider per site in this process (the child side). Blocks until all finish."""
    from scrapy.crawler import CrawlerProcess

    from storage.db import get_engine, migrate

    if migrate_schema:
        migrate(get_engine(database_url))
    run_ids = os.environ.get(RUN_IDS_ENV)
    process = CrawlerProcess(crawl_settings(
        database_url=database_url, log_level=log_level, trigger=trigger, planned_at=planned_at,
        run_ids=json.loads(run_ids) if run_ids else None,
        browser=any(site.family == "spa" for site in sites)))
    for site in sites:
        process.crawl(site_spider(site), site=site, observed_at=observed_at)
    process.start()


_MIGRATED: set[str | None] = set()


def _ensure_schema(database_url: str | None) -> None:
    if database_url not in _MIGRATED:
        from storage.db import get_engine, migrate

        migrate(get_engine(database_url))
        _MIGRATED.add(database_url)


def run_crawl(site_ids: list[str] | None, *, sites_path: Path | None = None,
              observed_at: datetime | None = None, database_url: str | None = None,
              timeout_seconds: float = 3600, log_level: str = "WARNING",
              trigger: str = "manual",
              planned_at: datetime | dict[str, datetime] | None = None,
              cancel: threading.Event | None = None,
              cancel_reason: str | Callable[[], str] = "scheduler stopped",
              on_spawn: Callable[[int], None] | None = None,
              stop_grace_seconds: float = DEFAULT_STOP_GRACE_SECONDS,
              die_with_parent: bool = False) -> CrawlProcessResult:
    """Parent side: crawl the given sites (or every enabled site) in a child process.

    ``trigger`` and ``planned_at`` are recorded on the runs (``planned_at`` may be one time per
    site: a distributed task crawls sites planned at different times in one process). ``cancel``: set it to stop the
    child early (its runs end ``interrupted`` with ``cancel_reason``, a text or a function that
    returns it, read when the child is stopped). ``on_spawn`` receives the child's pid. Returns
    once the child is gone and all its runs are closed. ``die_with_parent``: the child is
    killed if the calling thread dies (see :func:`crawlers.child_process.run_child`).
    """
    from storage.db import get_engine

    # The parent migrates once per database; its children skip the check.
    _ensure_schema(database_url)
    engine = get_engine(database_url)
    try:
        started_at = observed_at or datetime.now(UTC)
        run_by_site = create_runs(engine, site_ids, sites_path=sites_path,
                                  database_url=database_url, trigger=trigger,
                                  planned_at=planned_at, started_at=started_at)
        command = [sys.executable, "-m", "crawlers.runner", "--log-level", log_level,
                   "--schema-is-current", "--trigger", trigger]
        if sites_path:
            command += ["--sites-file", str(sites_path)]
        if observed_at:
            command += ["--observed-at", observed_at.isoformat()]
        if isinstance(planned_at, datetime):
            command += ["--planned-at", planned_at.isoformat()]
        environment = child_environment(database_url)
        for site_id in site_ids or []:
            command += ["--site", site_id]
        # The child completes the runs created here (never argv: the ids ride in its
        # environment, like everything else the parent hands it).
        environment[RUN_IDS_ENV] = json.dumps(run_by_site)

        def spawned(pid: int) -> None:
            repository.set_run_pid(engine, list(run_by_site.values()), pid)
            if on_spawn is not None:
                on_spawn(pid)

        child = run_child(command, timeout_seconds=timeout_seconds,
                          stop_grace_seconds=stop_grace_seconds, cancel=cancel,
                          on_spawn=spawned, env=environment,
                          stderr_tail_chars=STDERR_TAIL_CHARS, die_with_parent=die_with_parent)
        seconds = child.seconds
        result = CrawlProcessResult(child.returncode, child.timed_out, child.stderr_tail,
                                    cancelled=child.cancelled, pid=child.pid, seconds=seconds)
        status, reason = _verdict(result, timeout_seconds=timeout_seconds,
                                  cancel_reason=cancel_reason() if callable(cancel_reason)
                                  else cancel_reason)
        result.run_ids = settle_runs(
            engine, run_ids=list(run_by_site.values()), status=status, reason=reason,
            stopped_by_parent=child.timed_out or child.cancelled, started_at=started_at,
            seconds=seconds)
        return result
    finally:
        engine.dispose()


def child_environment(database_url: str | None) -> dict[str, str]:
    """The environment of a crawl child: ours, plus the database URL (see
    ``DATABASE_URL_ENV``); without one, an inherited value is dropped so the child uses the
    same default database as its parent (``DATABASE_URL`` or SQLite)."""
    environment = dict(os.environ)
    environment.pop(DATABASE_URL_ENV, None)
    if database_url:
        environment[DATABASE_URL_ENV] = database_url
    return environment


def _verdict(result: CrawlProcessResult, *, timeout_seconds: float,
             cancel_reason: str) -> tuple[str, str]:
    """The status and reason given to the runs the child did not close itself."""
    if result.cancelled:
        return "interrupted", cancel_reason
    if result.timed_out:
        return "interrupted", (f"hard timeout: the crawl process ran longer than "
                               f"{timeout_seconds:g} s and was stopped")
    if result.returncode < 0:
        try:
            name = signal.Signals(-result.returncode).name
        except ValueError:
            name = f"signal {-result.returncode}"
        return "interrupted", f"crawl process killed by {name}"
    last_lines = _error_summary(result.stderr_tail)
    if result.returncode > 0:
        return "failed", f"crawl process exited with code {result.returncode}: {last_lines}"
    return "failed", f"the crawl process ended without closing the run ({last_lines})"


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*")


def _error_summary(stderr: str, limit: int = 1000) -> str:
    """The end of a child's stderr as one line: from its last exception line (a traceback's
    message may span several lines) or else its last lines."""
    lines = [line.rstrip() for line in stderr.strip().splitlines() if line.strip()]
    starts = [index for index, line in enumerate(lines) if _EXCEPTION_LINE.match(line)]
    chosen = lines[starts[-1]:] if starts else lines[-5:]
    return " | ".join(line.strip() for line in chosen)[:limit] or "no output on stderr"


def create_runs(engine: Any, site_ids: list[str] | None, *, sites_path: Path | str | None,
                database_url: str | None, trigger: str,
                planned_at: datetime | dict[str, datetime] | None,
                started_at: datetime) -> dict[str, int]:
    """The parent's side of a crawl's runs: one ``running`` run per site to crawl (every
    enabled site when ``site_ids`` is None), created before the child starts; site id -> run id.

    A site neither recorded before nor in the sites file gets no run: the child fails on the
    same error, which ends up on stderr and in the log.
    """
    from sqlalchemy import select

    from storage.models import site_table

    expected = site_ids
    if expected is None:  # every enabled site
        try:
            expected = [site.id for site in load_targets(sites_path, database_url)]
        except Exception as error:  # the config is what will break the child
            logger.warning("cannot list the sites of the crawl: %s", error)
            expected = []
    expected = list(dict.fromkeys(expected))
    # Sites recorded before (the config may be broken now) or in the config (refreshed).
    with engine.connect() as connection:
        known = set(connection.execute(
            select(site_table.c.id).where(site_table.c.id.in_(expected))).scalars())
    known |= _register_sites(expected, sites_path, database_url, engine, started_at)
    runs: dict[str, int] = {}
    for site_id in expected:
        if site_id not in known:
            logger.error("crawl of %s not recorded (unknown site)", site_id)
            continue
        planned = planned_at.get(site_id) if isinstance(planned_at, dict) else planned_at
        runs[site_id] = repository.start_run(engine, site_id=site_id, started_at=started_at,
                                             trigger=trigger, planned_at=planned)
    return runs


def settle_runs(engine: Any, *, run_ids: list[int], status: str, reason: str,
                stopped_by_parent: bool, started_at: datetime, seconds: float) -> list[int]:
    """Give every run of a finished crawl process an honest final status; return their ids.

    The one place a run of a child gets its final status when the child did not give it one:
    runs still ``running`` get ``status`` and ``reason``; runs the child closed as interrupted
    because the parent stopped it get the parent's reason in front of theirs.
    """
    from sqlalchemy import select

    from storage import repository
    from storage.models import run_table

    finished_at = started_at + timedelta(seconds=seconds)
    if not run_ids:
        return []
    with engine.connect() as connection:
        runs = connection.execute(
            select(run_table.c.id, run_table.c.status, run_table.c.error)
            .where(run_table.c.id.in_(run_ids)).order_by(run_table.c.id)).all()
    for run in runs:
        if run.status == "running":
            repository.fail_run(engine, run_id=run.id, finished_at=finished_at, status=status,
                                error=reason, only_if_running=True)
        elif run.status == "interrupted" and stopped_by_parent:
            repository.fail_run(engine, run_id=run.id, finished_at=finished_at,
                                status="interrupted", error=f"{reason}; {run.error or ''}"
                                .rstrip("; "))
    return [run.id for run in runs]


def _register_sites(site_ids: list[str], sites_path: Path | str | None,
                    database_url: str | None, engine: Any, now: datetime) -> set[str]:
    """Record (or refresh) the configured sites about to be crawled; the ids found."""
    from storage import repository

    if not site_ids:
        return set()
    try:
        by_id = {site.id: site for site in load_targets(sites_path, database_url,
                                                        include_disabled=True)}
    except Exception as error:
        logger.warning("cannot read the sites of the crawl: %s", error)
        return set()
    registered = set()
    for site_id in site_ids:
        site = by_id.get(site_id)
        if site is not None:
            repository.upsert_site(engine, site_id=site.id, url=site.url, family=site.family,
                                   currency=site.currency, now=now, config=site.public_dict())
            registered.add(site_id)
    return registered


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
               on_done: Callable[[list[str], CrawlProcessResult], None] | None = None,
               **options: Any) -> list[CrawlProcessResult]:
    """Crawl the sites in up to ``parallel`` child processes at once (one per CPU is the most
    that helps: parsing and normalizing are CPU-bound). ``on_done(batch, result)`` hears about
    each process as it ends (from its worker thread), for a progress display."""
    from concurrent.futures import ThreadPoolExecutor

    batches = balanced_groups(site_ids, parallel, weights)

    def crawl_batch(batch: list[str]) -> CrawlProcessResult:
        result = run_crawl(batch, **options)
        if on_done is not None:
            on_done(batch, result)
        return result

    with ThreadPoolExecutor(max_workers=len(batches) or 1) as pool:
        return list(pool.map(crawl_batch, batches))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="crawl sites (child process of clickfarm)")
    parser.add_argument("--site", action="append", default=[])
    parser.add_argument("--sites-file")
    parser.add_argument("--observed-at", help="ISO timestamp (default: now, UTC)")
    parser.add_argument("--database-url", default=os.environ.get(DATABASE_URL_ENV),
                        help=f"database URL (default: ${DATABASE_URL_ENV}; prefer the environment: "
                             "arguments are visible in ps)")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--trigger", default="manual", choices=("manual", "schedule", "demo"),
                        help="what started the crawl (recorded on its runs)")
    parser.add_argument("--planned-at", help="ISO timestamp the scheduler planned the run for")
    parser.add_argument("--schema-is-current", action="store_true",
                        help="the caller has applied the migrations: skip the check")
    args = parser.parse_args(argv)
    install_log_redaction()
    sites = select_sites(load_targets(args.sites_file, args.database_url,
                                      include_disabled=bool(args.site)), args.site)
    observed_at = _utc(args.observed_at) or datetime.now(UTC)
    crawl_in_this_process(sites, observed_at=observed_at,
                          database_url=args.database_url, log_level=args.log_level,
                          migrate_schema=not args.schema_is_current, trigger=args.trigger,
                          planned_at=_utc(args.planned_at))
    return 0


def _utc(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(UTC)


if __name__ == "__main__":
    sys.exit(main())
