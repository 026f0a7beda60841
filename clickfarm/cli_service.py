"""`clickfarm schedule`: run it as a service (the scheduler in ``scheduler/service.py``)."""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from clickfarm.options import (
    BrokerOption,
    DatabaseOption,
    SitesOption,
    err_console,
    fail,
    open_database,
    positive_seconds,
)
from core.config import ConfigError

# The commands of this module; clickfarm/cli.py merges them into the app.
app = typer.Typer()


@app.command()
def schedule(
    sites_file: SitesOption = None,
    database_url: DatabaseOption = None,
    once_for: Annotated[Optional[float], typer.Option(
        "--once-for", min=0.1, callback=positive_seconds,
        help="stop after this many seconds (tests, accelerated runs); default: until SIGTERM")] = None,
    distributed: Annotated[Optional[bool], typer.Option(
        "--distributed/--local",
        help="send due sites to Celery workers (`clickfarm worker`) over Redis, or crawl on "
             "this machine; default scheduler.mode")] = None,
    broker_url: BrokerOption = None,
) -> None:
    """Crawl every site on its schedule until SIGTERM / Ctrl-C (one process per crawl).

    Jobs live in the database (table apscheduler_jobs): a restart resumes the plan. Settings:
    the `scheduler:` section of the sites file (max_parallel_crawls, crawl_timeout_seconds,
    misfire_grace_seconds, shutdown_grace_seconds, config_reload_seconds, mode, broker_url,
    sites_per_task). One scheduler plans at a time: a second one on the same database waits as
    a standby and takes over when the first dies (leader_lease_seconds).
    """
    from scheduler.service import run_service

    # The database is checked (and migrated) before the service starts.
    open_database(database_url).dispose()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s",
                                           datefmt="%Y-%m-%d %H:%M:%S"))
    # The service's lines, the runner's and the health checks' (alerts sent to the log sink).
    loggers = [logging.getLogger(name) for name in ("clickfarm", "scheduler", "crawlers")]
    for service_logger in loggers:
        service_logger.addHandler(handler)
        service_logger.setLevel(logging.INFO)
    # APScheduler logs every job start and end at INFO, and skipped or missed runs at WARNING:
    # the service logs its own lines for all of them; job errors still show.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    if not logging.getLogger("apscheduler").handlers:
        logging.getLogger("apscheduler").addHandler(handler)
    try:
        mode = None if distributed is None else ("distributed" if distributed else "local")
        run_service(sites_path=sites_file, database_url=database_url, once_for=once_for,
                    mode=mode, broker_url=broker_url)
    except ConfigError as error:
        fail(str(error))
    finally:
        for service_logger in loggers:
            service_logger.removeHandler(handler)
    err_console.print("scheduler stopped")
