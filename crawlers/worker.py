"""A long-lived crawl process: one crawl after another in one Twisted reactor (the child side of
:class:`crawlers.worker_pool.CrawlWorkers`).

A crawl process of its own per crawl (:mod:`crawlers.runner`) pays, every time, about two seconds
of CPU to import Scrapy and the project and to set up its crawlers, and a shop rendered in
Chromium pays as much again to start Playwright's driver and the browser. A job that crawls the
same sellers day after day (the demo: 30 simulated days) keeps a few of these processes instead:
the reactor cannot restart, but it can run any number of crawls, one batch after the other.

Protocol: one JSON object per line on stdin, a *job*::

    {"job": 3, "sites": ["panel-01", ...], "sites_file": "...", "observed_at": "ISO",
     "trigger": "demo", "planned_at": "ISO" | null, "run_ids": {"panel-01": 17, ...}}

The worker crawls those sites (one spider per site, every spider of the job at once, as a crawl
process does) and answers on its original stdout, once every spider of the job has closed::

    {"job": 3, "ok": true}            or      {"job": 3, "ok": false, "error": "..."}

Everything else the process prints goes to stderr (stdout is the protocol only). The runs are
created by the parent and completed by the storage pipeline, as for a crawl process; the parent
settles what a job left open (see :func:`crawlers.runner.settle_runs`).

The database URL comes from the environment (``CLICKFARM_DATABASE_URL``), never from argv; so
do the sellers' API keys. Shutdown: stdin closing (the parent is done, or gone) ends the worker
after the job in progress is stopped; SIGTERM stops the crawls in progress (their runs end
``interrupted``) and exits; the parent's hard timeout sends it, then SIGKILL after a grace.
Chromium is kept open from one job to the next (:class:`crawlers.browser.KeptBrowserProvider`)
and closed when the worker exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from typing import Any

from core.config import select_sites
from core.redact import install_log_redaction
from crawlers.browser import ASYNCIO_REACTOR, KEEP_BROWSER_SETTING
from crawlers.runner import DATABASE_URL_ENV, _utc, crawl_settings, load_targets, site_spider

logger = logging.getLogger(__name__)


class Worker:
    """The reactor side: reads jobs, runs each with a fresh CrawlerRunner, answers."""

    def __init__(self, *, database_url: str | None, log_level: str, replies: Any) -> None:
        self.database_url = database_url
        self.log_level = log_level
        self.replies = replies
        self.jobs: list[dict[str, Any]] = []
        self.runner: Any = None
        self.stopping = False
        self.shutting_down = False

    # -- input --------------------------------------------------------------------------------

    def line_received(self, line: bytes) -> None:
        try:
            job = json.loads(line)
            if not isinstance(job, dict) or "job" not in job:
                raise ValueError("a job is a JSON object with a 'job' key")
        except ValueError as error:
            self.reply({"job": None, "ok": False, "error": f"unreadable job: {error}"})
            return
        self.jobs.append(job)
        if self.runner is None:
            self.next_job()

    def input_lost(self) -> None:
        """stdin closed: no more jobs. A job in progress is stopped (the parent that would read
        its answer is gone or done); the worker then exits."""
        self.stop_crawls()

    # -- jobs ---------------------------------------------------------------------------------

    def next_job(self) -> None:
        if self.stopping:
            self.shut_down()
            return
        if not self.jobs:
            return
        job = self.jobs.pop(0)
        try:
            done = self.start_job(job)
        except Exception as error:  # a broken sites file, an unknown site: the job fails
            logger.exception("job %s could not start", job.get("job"))
            self.finished(job, f"{type(error).__name__}: {error}")
            return
        done.addCallbacks(lambda _: self.finished(job, None),
                          lambda failure: self.finished(job, failure.getErrorMessage()))

    def start_job(self, job: dict[str, Any]) -> Any:
        from scrapy.crawler import CrawlerRunner

        observed_at = _utc(job.get("observed_at")) or datetime.now(UTC)
        sites = select_sites(load_targets(job.get("sites_file"), self.database_url,
                                          include_disabled=True), list(job["sites"]))
        settings = crawl_settings(database_url=self.database_url, log_level=self.log_level,
                                  trigger=job.get("trigger") or "manual",
                                  planned_at=_utc(job.get("planned_at")),
                                  run_ids=job.get("run_ids") or None, browser=True)
        settings.set(KEEP_BROWSER_SETTING, True, priority="cmdline")
        self.runner = CrawlerRunner(settings)
        for site in sites:
            self.runner.crawl(site_spider(site), site=site, observed_at=observed_at)
        return self.runner.join()

    def finished(self, job: dict[str, Any], error: str | None) -> None:
        self.runner = None
        self.reply({"job": job.get("job"), "ok": error is None,
                    **({"error": error} if error else {})})
        self.next_job()

    def reply(self, message: dict[str, Any]) -> None:
        self.replies.write(json.dumps(message) + "\n")
        self.replies.flush()

    # -- stopping -----------------------------------------------------------------------------

    def stop_crawls(self) -> None:
        """Stop the crawls in progress (SIGTERM, or stdin lost): each closes its run as
        ``interrupted``; the worker exits once they have (at once when none runs)."""
        self.stopping = True
        if self.runner is not None:
            self.runner.stop()
        else:
            self.shut_down()

    def shut_down(self) -> None:
        from scrapy.utils.defer import deferred_from_coro

        from crawlers.browser import KeptBrowserProvider

        if self.shutting_down:
            return
        self.shutting_down = True
        closed = deferred_from_coro(KeptBrowserProvider.close_all())
        closed.addBoth(lambda _: _reactor().stop())


def _reactor() -> Any:
    """The installed reactor (typed loosely: Twisted's stubs know only its interfaces)."""
    from twisted.internet import reactor

    return reactor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="long-lived crawl process: jobs on stdin (child process of clickfarm)")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    database_url = os.environ.get(DATABASE_URL_ENV)
    install_log_redaction()
    # stdout is the protocol: the answers keep the original descriptor, and anything a library
    # prints goes to stderr instead of corrupting it.
    replies = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from scrapy.utils.log import configure_logging
    from scrapy.utils.reactor import install_reactor

    install_reactor(ASYNCIO_REACTOR)
    from twisted.internet import stdio
    from twisted.protocols.basic import LineReceiver

    reactor = _reactor()

    configure_logging(crawl_settings(database_url=database_url, log_level=args.log_level))
    worker = Worker(database_url=database_url, log_level=args.log_level, replies=replies)

    class Jobs(LineReceiver):
        delimiter = b"\n"
        MAX_LENGTH = 16 * 1024 * 1024

        def lineReceived(self, line: bytes) -> None:
            worker.line_received(line)

        def connectionLost(self, reason: Any = None) -> None:
            worker.input_lost()

    def on_signal(signum: int, frame: Any) -> None:
        reactor.callFromThread(worker.stop_crawls)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    standard_io: Any = stdio.StandardIO
    standard_io(Jobs(), stdin=0, stdout=os.open(os.devnull, os.O_WRONLY))
    reactor.run(installSignalHandlers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
