"""A store of daily crawls and discovery built straight from the simulator, without HTTP.

:func:`build_store` is what many seeded runs need (the market-size validation builds ten stores
or more): the database a month of daily crawls plus discovery would have left, in seconds. It
takes the real code path everywhere but the network: the simulator renders each page or API
payload (``simulator.api``, ``simulator.themes``, ``simulator.shop_pages``,
``simulator.directories``), the real spiders (``crawlers.spiders``, the discovery spider) parse
it with their extractors and ask for their next pages, and every item goes through the real
pipelines (recognize, normalize, validate, field coverage, store:
``crawlers.settings.ITEM_PIPELINES``)
into the database; discovery goes through :func:`crawlers.discovery.discover.resolve` and
:func:`~crawlers.discovery.discover.record`. Only Scrapy's engine is replaced, by a loop that
answers each request from the simulator (:class:`SimulatedSite`).

Differences from a real crawl, on purpose:

- Panels crawled with the ``smm_html`` family are read through their API v2 (``smm_api``) when
  ``panels_via_api`` is true (the default: parsing 30 days of HTML services pages costs minutes;
  the stored offers are the same service ids, rates and limits, and counters come from the same
  landing page).
- Shops of the ``spa`` family are read from the document their script renders, rendered by the
  simulator in Python (``simulator.shop_pages.render_spa_dom``) instead of Chromium; the spa
  spider's own callbacks read it.
- Operational faults (``http_*``, ``slow``, ``offline``, ``truncated``) are not applied; content
  faults (``bad_values``, ``empty_list``, ...) are, as the renderers produce them.

Day semantics: discovery runs once on day 0 (new sellers promoted, as ``auto_promote`` does),
then every seller is crawled once a day at noon UTC on days ``0 .. days`` (``days + 1`` crawls,
so the counter deltas cover the ``days`` simulated days ``0 .. days - 1``), the market advancing
one day between crawls. The market is left on day ``days``.
"""

from __future__ import annotations

import inspect
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as day_time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.statscollectors import MemoryStatsCollector
from sqlalchemy import text
from twisted.python.failure import Failure

from simulator import directories, shop_pages, themes
from simulator.api import handle_api_request
from simulator.market import Market

DEFAULT_BASE_URL = "http://127.0.0.1:8800"
"""The address pages and the stored site URLs name (nothing listens there)."""

ProgressCallback = Callable[[int, int], None]
"""``progress(days_done, days_total)``, called after each simulated day is stored."""


@dataclass
class StoreSummary:
    """What :func:`build_store` did."""

    days: int
    crawls: int = 0
    runs_by_status: dict[str, int] = field(default_factory=dict)
    crawled_sites: list[str] = field(default_factory=list)
    not_crawled: dict[str, str] = field(default_factory=dict)
    """Site id -> why it was not crawled (``spa`` shops)."""
    discovered: list[str] = field(default_factory=list)
    seconds: float = 0.0


class SimulatedSite:
    """Answers a Scrapy request from the simulator's renderers (the HTTP server's routing,
    minus the network and the operational faults)."""

    def __init__(self, market: Market, base_url: str = DEFAULT_BASE_URL) -> None:
        self.market = market
        self.base_url = base_url.rstrip("/")

    def respond(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        query = dict(parse_qsl(parts.query))
        segments = parts.path.strip("/").split("/", 2) if parts.path.strip("/") else []
        status, body, content_type = 404, b"Not Found", "text/html"
        headers: dict[str, str] = {}
        if len(segments) >= 2 and segments[0] == "s":
            tail = segments[2] if len(segments) > 2 else ""
            status, body, content_type, headers = self._seller(request, segments[1], tail, query)
        elif len(segments) >= 2 and segments[0] == "d" and len(segments) == 2:
            status, body, content_type = self._directory(segments[1], query)
        response_class = HtmlResponse if "html" in content_type else TextResponse
        return response_class(
            url=request.url, status=status, body=body, encoding="utf-8", request=request,
            headers={"Content-Type": f"{content_type}; charset=utf-8", **headers},
        )

    def _seller(self, request: Request, seller_id: str, tail: str, query: dict[str, str]
                ) -> tuple[int, bytes, str, dict[str, str]]:
        market = self.market
        if seller_id in market.shops:
            if request.meta.get("playwright"):
                # what Chromium would show once the page's script ran, and its wait succeeded
                answer = shop_pages.render_spa_dom(
                    market, market.shops[seller_id], tail, base_url=self.base_url)
                for method in request.meta.get("playwright_page_methods", ()):
                    method.result = True
            else:
                answer = shop_pages.handle_shop_request(
                    market, market.shops[seller_id], tail, query, base_url=self.base_url,
                    other_base_url=self.base_url)
            if answer is None:
                return 404, b"Not Found", "text/html", {}
            return answer.status, answer.body, answer.content_type, dict(answer.headers or {})
        if seller_id not in market.sites:
            return 404, b"Not Found", "text/html", {}
        site = market.sites[seller_id]
        route = tail.strip("/")
        faults = market.active_faults(seller_id)
        if route in ("api/v2", "api/v1"):
            params = {**query, **dict(parse_qsl((request.body or b"").decode("utf-8")))}
            api = handle_api_request(market, seller_id, params)
            return api.status, api.body, api.content_type, {}
        if route == "":
            partners = directories.partners_html(market, seller_id, self.base_url)
            page = themes.render_landing_page(market, site, faults=faults, partners=partners)
        elif route == "services":
            page = themes.render_services_page(market, site, faults=faults)
        else:
            return 404, b"Not Found", "text/html", {}
        return 200, page.encode("utf-8"), "text/html", {}

    def _directory(self, directory_id: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        plan = self.market.discovery
        if directory_id not in directories.DIRECTORY_IDS:
            return 404, b"Not Found", "text/html"
        try:
            page = int(query.get("page", "1"))
        except ValueError:
            page = 1
        if not 1 <= page <= plan.pages(directory_id):
            return 404, b"Not Found", "text/html"
        text = directories.render_directory_page(self.market, directory_id, page, self.base_url)
        return 200, text.encode("utf-8"), "text/html"


def _drain_async(generator: Any) -> list[Any]:
    """The items of an async generator that never really waits (a spider's ``start``)."""
    items: list[Any] = []
    while True:
        step = generator.__anext__()
        try:
            step.send(None)
        except StopIteration as stop:
            items.append(stop.value)
        except StopAsyncIteration:
            return items
        else:  # pragma: no cover - a start() that awaits something real
            step.close()
            raise RuntimeError("the spider's start() awaited I/O: not drivable without Scrapy")


def run_requests(source: SimulatedSite, spider: Any, start: Iterable[Any],
                 on_item: Callable[[Any], None]) -> None:
    """Scrapy's engine, minus the network: answer each request from the simulator, call its
    callback (or its errback with an ``HttpError``, as Scrapy's HttpErrorMiddleware does for
    a status the request does not handle), queue the requests it yields, hand items on."""
    queue: deque[Request] = deque()

    def take(results: Any) -> None:
        if inspect.isasyncgen(results):  # the spa spider's callbacks
            results = _drain_async(results)
        for result in results or ():
            if isinstance(result, Request):
                queue.append(result)
            else:
                on_item(result)

    take(start)
    while queue:
        request = queue.popleft()
        response = source.respond(request)
        allowed = request.meta.get("handle_httpstatus_list", ())
        if 200 <= response.status < 300 or response.status in allowed:
            callback = request.callback or spider.parse
            take(callback(response, **request.cb_kwargs))
        elif request.errback is not None:
            failure = Failure(HttpError(response, f"HTTP {response.status}"))
            failure.request = request  # type: ignore[attr-defined]
            take(request.errback(failure))


@contextmanager
def _api_keys(market: Market) -> Iterator[None]:
    """The panels' API keys in the environment for the time of the crawls (the spiders read
    them from there, as in production)."""
    keys = {site.api_key_env: market.api_key(site_id) for site_id, site in market.sites.items()}
    saved = {name: os.environ.get(name) for name in keys}
    os.environ.update(keys)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def item_pipelines(crawler: Crawler, engine: Any) -> list[Any]:
    """The item pipelines of a real crawl (``ITEM_PIPELINES``: recognize, normalize, validate,
    field coverage, store), in their order, on ``engine``; ``crawler.spider`` must be set."""
    from scrapy.utils.misc import load_object

    ordered = sorted(crawler.settings.getdict("ITEM_PIPELINES").items(),
                     key=lambda entry: entry[1])
    pipelines = [load_object(path)(crawler) for path, _priority in ordered]
    for pipeline in pipelines:
        if hasattr(pipeline, "engine"):
            pipeline.engine.dispose()
            pipeline.engine = engine
    return pipelines


def crawl_site(source: SimulatedSite, site: Any, *, engine: Any, settings: Settings,
               observed_at: datetime, crawler: Crawler | None = None) -> str:
    """One crawl of one site through the family's spider and the real item pipelines; returns
    the run's status. ``crawler``: one made earlier for this site's spider class (making one
    copies every setting: reusing it across days saves most of the per-crawl overhead); its
    stats are replaced, so every run keeps its own."""
    from crawlers.spiders import SPIDER_BY_FAMILY
    from crawlers.spiders.spa import SpaSpider
    from pipelines.store_pipeline import StorePipeline

    spider_class = SPIDER_BY_FAMILY[site.family]
    if crawler is None or crawler.spidercls is not spider_class:
        crawler = Crawler(spider_class, settings)
    crawler.stats = MemoryStatsCollector(crawler)
    spider = spider_class.from_crawler(crawler, site=site, observed_at=observed_at)
    crawler.spider = spider
    pipelines = item_pipelines(crawler, engine)
    store = next(p for p in pipelines if isinstance(p, StorePipeline))

    def on_item(item: Any) -> None:
        for pipeline in pipelines:
            item = pipeline.process_item(item)

    store.open_spider()
    if isinstance(spider, SpaSpider):
        # start() would launch Chromium; the first render request is all it yields
        landing = spider.site_url("")
        spider.urls_seen.add(landing)
        spider.chains = 1
        start = [spider.render_request(landing)]
    else:
        start = _drain_async(spider.start())
    run_requests(source, spider, start, on_item)
    store.spider_closed(spider, "finished")
    with engine.connect() as connection:
        status = connection.execute(
            text("SELECT status FROM crawl_run WHERE id = :run_id"), {"run_id": store.run_id}
        ).scalar_one()
    return str(status)


def discover_sellers(source: SimulatedSite, config: Any, *, engine: Any, settings: Settings,
                     now: datetime) -> Any:
    """One discovery pass (the real spider, :func:`resolve` and :func:`record`); returns the
    :class:`~crawlers.discovery.discover.DiscoveryOutcome`."""
    from crawlers.discovery.discover import build_plan, known_sites, record, resolve
    from crawlers.discovery.spider import DiscoverySpider
    from storage.discovery import all_sites

    rows = all_sites(engine)
    known = known_sites(config, rows)
    plan = build_plan(config, known)
    events: list[dict[str, Any]] = []
    crawler = Crawler(DiscoverySpider, settings)
    crawler.stats = MemoryStatsCollector(crawler)
    spider = DiscoverySpider.from_crawler(crawler, plan=plan, emit=events.append)
    crawler.spider = spider
    run_requests(source, spider, _drain_async(spider.start()), lambda item: None)
    taken = {site.id for site in config.sites} | {row["id"] for row in rows}
    outcome = resolve(events, known, taken_ids=taken)
    record(engine, outcome, config, now=now)
    return outcome


def build_store(market: Market, database_url: str, *, days: int,
                progress: ProgressCallback | None = None, base_url: str = DEFAULT_BASE_URL,
                panels_via_api: bool = True, crawl_every: int = 1) -> StoreSummary:
    """Record ``days`` simulated days of crawls plus one discovery pass into the database at
    ``database_url`` (migrated to the latest schema first). See the module docstring.

    ``crawl_every``: crawl on days ``0, k, 2k, ...`` and on the last day ``days`` only (a
    weekly schedule: counter deltas then span several days; each crawl costs about 0.05 to
    0.1 s, so a store of 30 sellers x 30 daily crawls takes about a minute)."""
    if crawl_every < 1:
        raise ValueError("crawl_every must be >= 1")
    from core.config import DiscoveryConfig, ProjectConfig, SiteConfig
    from crawlers.discovery.discover import site_config_for
    from crawlers.spiders import SPIDER_BY_FAMILY
    from storage.db import get_engine, migrate

    if days < 0:
        raise ValueError("days must be >= 0")
    started = time.monotonic()
    summary = StoreSummary(days=days)
    source = SimulatedSite(market, base_url)
    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    settings.set("CLICKFARM_DATABASE_URL", database_url)
    settings.set("CLICKFARM_TRIGGER", "schedule")
    settings.set("LOG_ENABLED", False)
    sites = []
    for entry in market.sites_config(base_url):
        if panels_via_api and entry["family"] == "smm_html":
            entry = {**entry, "family": "smm_api",
                     "api_key_env": market.site(entry["id"]).api_key_env}
        sites.append(SiteConfig.model_validate(entry))
    directory_urls = [f"{source.base_url}/d/{d}/" for d in directories.DIRECTORY_IDS]
    config = ProjectConfig(sites=sites, discovery=DiscoveryConfig.model_validate(
        {"directories": directory_urls, "auto_promote": True}))
    _fresh_sqlite_from_template(database_url)
    engine = get_engine(database_url)
    try:
        migrate(engine)  # a no-op on a copy of the template
        with _api_keys(market):
            start_day = market.day
            outcome = discover_sellers(source, config, engine=engine, settings=settings,
                                       now=_noon(market, start_day))
            summary.discovered = [site.id for site in outcome.new_sites]
            crawled = list(sites) + [site_config_for(site) for site in outcome.new_sites]
            targets = list(crawled)
            summary.crawled_sites = [site.id for site in targets]
            # one crawler per spider class: making one copies every setting (~0.1 s)
            crawlers = {family: Crawler(SPIDER_BY_FAMILY[family], settings)
                        for family in {site.family for site in targets}}
            crawl_days = set(range(0, days + 1, crawl_every)) | {days}
            for day_index in range(days + 1):
                now = _noon(market, market.day)
                for site in targets if day_index in crawl_days else ():
                    status = crawl_site(source, site, engine=engine, settings=settings,
                                        observed_at=now, crawler=crawlers[site.family])
                    summary.runs_by_status[status] = summary.runs_by_status.get(status, 0) + 1
                    summary.crawls += 1
                if day_index < days:
                    market.advance(1)
                    if progress is not None:
                        progress(day_index + 1, days)
    finally:
        engine.dispose()
    summary.seconds = time.monotonic() - started
    return summary


def _fresh_sqlite_from_template(database_url: str) -> None:
    """A new SQLite file starts as a copy of an empty database migrated once per set of
    migrations (kept in the temporary folder): migrating costs about a second, which matters
    when a test suite builds many stores. Other databases are migrated in place."""
    import hashlib
    import shutil
    import tempfile
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from storage.db import MIGRATIONS_DIR, get_engine, migrate

    url = make_url(database_url)
    target = url.database
    if url.get_backend_name() != "sqlite" or not target or target == ":memory:" \
            or target.startswith("file:") or Path(target).exists():
        return
    digest = hashlib.sha256()
    for path in sorted(Path(MIGRATIONS_DIR).rglob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    template = Path(tempfile.gettempdir()) / f"clickfarm-store-{digest.hexdigest()[:16]}.db"
    if not template.exists():
        partial = template.with_suffix(f".{os.getpid()}.tmp")
        engine = get_engine(f"sqlite:///{partial}")
        try:
            migrate(engine)
        finally:
            engine.dispose()  # the last connection checkpoints the WAL into the file
        partial.replace(template)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)


def _noon(market: Market, day: int) -> datetime:
    """Simulated crawls happen at noon UTC of the simulated day (as in ``clickfarm demo``)."""
    return datetime.combine(market.date_of(day), day_time(12, 0), UTC)
