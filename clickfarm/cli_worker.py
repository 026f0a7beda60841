"""`clickfarm worker`: a Celery worker that crawls the cycles `clickfarm schedule --distributed`
sends (``scheduler/distributed.py``)."""

from __future__ import annotations

import logging
import os
import socket
from typing import Annotated, Optional

import typer

from clickfarm.options import (
    BrokerOption,
    DatabaseOption,
    SitesOption,
    err_console,
    fail,
    open_database,
)
from core.config import ConfigError

# The commands of this module; clickfarm/cli.py merges them into the app.
app = typer.Typer()


@app.command()
def worker(
    sites_file: SitesOption = None,
    database_url: DatabaseOption = None,
    broker_url: BrokerOption = None,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", "-c", min=1, max=256,
        help="crawls at once in this worker (one crawl process each); about one per CPU for "
             "HTTP sites, fewer for browser sites")] = 2,
    queues: Annotated[str, typer.Option(
        "--queues", "-Q",
        help="queues to take tasks from, comma-separated: clickfarm.crawl (HTTP sites), "
             "clickfarm.browser (JavaScript shops)")] = "clickfarm.crawl,clickfarm.browser",
    name: Annotated[Optional[str], typer.Option(
        "--name", "-n", help="worker name (default clickfarm@HOST-PID)")] = None,
) -> None:
    """Run a Celery worker that crawls sites for the distributed scheduler until SIGTERM.

    Each task crawls its sites in one crawl process with the scheduler's hard timeout; the
    results go to the shared database. Run as many workers, on as many machines, as needed
    against one Redis and one PostgreSQL.
    """
    from core.config import load_config
    from scheduler import distributed

    wanted = [queue.strip() for queue in queues.split(",") if queue.strip()]
    known = (distributed.CRAWL_QUEUE, distributed.BROWSER_QUEUE)
    if not wanted or any(queue not in known for queue in wanted):
        fail(f"--queues takes {' and/or '.join(known)}, comma-separated")
    try:
        project = load_config(sites_file)
    except ConfigError as error:
        fail(str(error), 1)
    options = project.scheduler
    # The database is checked (and migrated) before the worker takes any task.
    open_database(database_url).dispose()
    url = (broker_url or options.broker_url or os.environ.get(distributed.BROKER_URL_ENV)
           or distributed.DEFAULT_BROKER_URL)
    app_ = distributed.configure(url, crawl_timeout_seconds=options.crawl_timeout_seconds,
                                 visibility_timeout_seconds=options.visibility_timeout_seconds)
    _check_broker(url)
    distributed.install_worker(distributed.WorkerContext(
        sites_path=sites_file, database_url=database_url))
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s",
                                           datefmt="%Y-%m-%d %H:%M:%S"))
    for logger_name in ("clickfarm", "crawlers"):
        logging.getLogger(logger_name).addHandler(handler)
        logging.getLogger(logger_name).setLevel(logging.INFO)
        logging.getLogger(logger_name).propagate = False  # Celery's root handler: once
    node = name or f"clickfarm@{socket.gethostname()}-{os.getpid()}"
    app_.worker_main(["worker", "--loglevel=WARNING", f"--concurrency={concurrency}",
                      f"--queues={','.join(wanted)}", f"--hostname={node}",
                      "--without-mingle", "--without-gossip", "--pool=prefork"])
    err_console.print("worker stopped")


def _check_broker(url: str) -> None:
    """One line and exit 1 when the broker cannot be reached (Celery would retry forever)."""
    import redis

    from storage.db import safe_url

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        client.ping()
        client.close()
    except (redis.RedisError, OSError, ValueError) as error:
        fail(f"cannot reach the broker at {safe_url(url)}: {' '.join(str(error).split())}", 1)
