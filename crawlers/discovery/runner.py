"""Run the discovery spider in a child process (Scrapy's reactor cannot restart in one process).

Parent side: :func:`run_discovery_process` writes the plan to a file, starts
``python -m crawlers.discovery.runner --plan FILE`` with a hard timeout and calls ``on_event``
for every event line the child prints on stdout, as it arrives (that is what drives the progress
display). Child side: :func:`main` runs the spider and prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawlers.child_process import run_child

# SIGTERM first (Scrapy closes cleanly), SIGKILL after this if it does not.
STOP_GRACE_SECONDS = 30.0
EVENT_PREFIX = "@discovery "
"""Marks event lines, so that anything else a library prints on stdout is ignored."""


@dataclass
class DiscoveryProcessResult:
    returncode: int
    timed_out: bool
    stderr_tail: str
    events: list[dict[str, Any]] = field(default_factory=list)


def discovery_settings(plan: dict[str, Any]) -> dict[str, Any]:
    """Scrapy settings of a discovery pass: the project's (user agent, robots.txt) without the
    offer pipelines, with the politeness of the plan."""
    politeness = plan.get("politeness", {})
    delay = float(politeness.get("download_delay", 1.0))
    concurrency = int(politeness.get("concurrency", 2))
    return {
        "ITEM_PIPELINES": {},
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "CONCURRENT_REQUESTS": max(8, concurrency),
        "AUTOTHROTTLE_ENABLED": delay > 0,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.1),
        "DOWNLOAD_TIMEOUT": float(politeness.get("timeout_seconds", 30)),
        "RETRY_TIMES": 1,
        # Landing and directory pages are small; a huge body is not a seller's landing page.
        "DOWNLOAD_MAXSIZE": 8 * 1024 * 1024,
    }


def discover_in_this_process(plan: dict[str, Any], emit: Callable[[dict[str, Any]], None],
                             *, log_level: str = "WARNING") -> None:
    """Child side: run the discovery spider over ``plan``; blocks until it finishes."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawlers import settings as project_settings
    from crawlers.discovery.spider import DiscoverySpider

    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    settings.setdict(discovery_settings(plan), priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl(DiscoverySpider, plan=plan, emit=emit)
    process.start()


def run_discovery_process(plan: dict[str, Any], *, timeout_seconds: float = 3600,
                          on_event: Callable[[dict[str, Any]], None] | None = None,
                          log_level: str = "WARNING") -> DiscoveryProcessResult:
    """Parent side: run one discovery pass in a child process and collect its events."""
    with tempfile.TemporaryDirectory(prefix="clickfarm-discovery-") as folder:
        plan_path = Path(folder) / "plan.json"
        plan_path.write_text(json.dumps(plan), encoding="utf-8")
        command = [sys.executable, "-m", "crawlers.discovery.runner", "--plan", str(plan_path),
                   "--log-level", log_level]
        events: list[dict[str, Any]] = []

        def read_line(line: str) -> None:
            if not line.startswith(EVENT_PREFIX):
                return
            try:
                event = json.loads(line[len(EVENT_PREFIX):])
            except ValueError:
                return
            events.append(event)
            if on_event is not None:
                on_event(event)

        result = run_child(command, timeout_seconds=timeout_seconds,
                           stop_grace_seconds=STOP_GRACE_SECONDS, on_stdout_line=read_line)
        return DiscoveryProcessResult(result.returncode, result.timed_out, result.stderr_tail,
                                      events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="discover sellers (child process of clickfarm)")
    parser.add_argument("--plan", required=True, help="JSON file written by the parent")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    from core.redact import install_log_redaction

    install_log_redaction()
    plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    lock = threading.Lock()

    def emit(event: dict[str, Any]) -> None:
        line = EVENT_PREFIX + json.dumps(event, ensure_ascii=False, default=str) + "\n"
        with lock:
            sys.stdout.write(line)
            sys.stdout.flush()

    discover_in_this_process(plan, emit, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
