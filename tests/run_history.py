"""Helpers for the health, alert and change tests: crawl-run histories built with the real
storage functions (``upsert_site``, ``start_run``, ``complete_run``, ``fail_run``) on a real
database, and project configs with alert sinks."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from core.config import ProjectConfig, Schedule, SiteConfig
from core.config_sections import AlertsConfig
from core.offers import Attributes, NormalizedOffer, Rejection
from storage import repository as repo

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def add_site(engine: Engine, site_id: str, *, at: datetime = T0, status: str = "active",
             family: str = "smm_api", discovered_via: str | None = None,
             config: dict[str, Any] | None = None) -> None:
    repo.upsert_site(engine, site_id=site_id, url=f"https://{site_id}.example/",
                     family=family, currency="USD", status=status,
                     discovered_via=discovered_via, now=at, config=config)


def offer(site_offer_id: str, price: str = "1.00", *, platform: str | None = "instagram",
          metric: str | None = "followers") -> NormalizedOffer:
    """A per-1000 SMM offer priced in USD (``usd_per_1000`` = ``price``)."""
    return NormalizedOffer(
        site_offer_id=site_offer_id,
        name=f"{platform or 'Misc'} {metric or 'thing'} #{site_offer_id}",
        name_raw=f"{platform or 'Misc'} {metric or 'thing'} #{site_offer_id}",
        category=f"{platform} {metric}", platform=platform, metric=metric,
        pricing="per_1000", price=Decimal(price), price_raw=f"${price}", currency="USD",
        quantity=None, usd_per_1000=Decimal(price), fx_rate=Decimal("1"),
        fx_date=date(2026, 9, 1), min_quantity=10, max_quantity=100_000,
        service_type="Default", description=None, average_time=None, refill_flag=None,
        cancel_flag=None, attributes=Attributes())


def offers(count: int, *, prefix: str = "s", price: str = "1.00", **labels: Any
           ) -> list[NormalizedOffer]:
    return [offer(f"{prefix}{index}", price, **labels) for index in range(count)]


def good_run(engine: Engine, site_id: str, at: datetime, *, count: int | None = None,
             listing: list[NormalizedOffer] | None = None, rejected: int = 0,
             status: str = "succeeded", stats: dict[str, Any] | None = None) -> int:
    """A run that stored a listing (``count`` offers s0..sN, or ``listing``)."""
    run_id = repo.start_run(engine, site_id=site_id, started_at=at, pid=os.getpid())
    repo.complete_run(
        engine, run_id=run_id, site_id=site_id, observed_at=at,
        offers=listing if listing is not None else offers(count or 0),
        rejections=[Rejection(site_offer_id=f"bad{index}", reason="price is not a number", raw={"rate": "abc"})
                    for index in range(rejected)],
        counters=[], status=status, stats=stats)
    return run_id


def failed_run(engine: Engine, site_id: str, at: datetime, *,
               error: str = "https://x.example/services: HTTP 500",
               stats: dict[str, Any] | None = None, status: str = "failed",
               rejected: int = 0) -> int:
    run_id = repo.start_run(engine, site_id=site_id, started_at=at, pid=os.getpid())
    repo.fail_run(engine, run_id=run_id, finished_at=at + timedelta(minutes=1), error=error,
                  status=status, stats=stats,
                  rejections=[Rejection(site_offer_id=f"bad{index}", reason="unknown currency")
                              for index in range(rejected)])
    return run_id


def site_config(site_id: str, *, interval: str | None = "1d", cron: str | None = None,
                jitter: str = "0m") -> SiteConfig:
    return SiteConfig(id=site_id, url=f"https://{site_id}.example/", family="smm_api",
                      schedule=Schedule(interval=interval, cron=cron, jitter=jitter))


def project(sites: list[SiteConfig] | None = None, **alerts: Any) -> ProjectConfig:
    """A config with these sites; ``alerts`` are the ``alerts:`` section (log sink off by
    default so tests read the JSON-lines file or the webhook)."""
    alerts.setdefault("sinks", {"log": False})
    return ProjectConfig(sites=sites or [], alerts=AlertsConfig.model_validate(alerts))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- a real webhook receiver on loopback ---------------------------------------------------


@dataclasses.dataclass
class Receiver:
    url: str
    requests: list[dict[str, Any]]
    """Every POST received: ``{"path", "headers", "body"}`` (body parsed as JSON)."""
    fail_first: int = 0
    """Answer 500 to this many requests before accepting."""
    always_status: int | None = None

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [request["body"] for request in self.requests if request["status"] == 200]


@contextmanager
def webhook_receiver(*, fail_first: int = 0, always_status: int | None = None
                     ) -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 that records every POST it gets."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                seen = len(receiver.requests)
                if receiver.always_status is not None:
                    status = receiver.always_status
                else:
                    status = 500 if seen < receiver.fail_first else 200
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": json.loads(body), "status": status})
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/clickfarm",
                        requests=[], fail_first=fail_first, always_status=always_status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on (the port was bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/clickfarm"
