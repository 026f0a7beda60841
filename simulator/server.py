"""Loopback HTTP server for the simulated market (aiohttp in a background thread).

Sites are served by path prefix on one port: site ``panel-07`` lives at
``{base_url}/s/panel-07/`` (``/s/panel-07/api/v2``, ``/s/panel-07/services``, ...), shop
``shop-03`` at ``{base_url}/s/shop-03/`` (routes in ``simulator.shop_pages``). Also:

- ``GET /``: an index page linking every panel; ``GET /robots.txt``: allow everything.
- ``GET /d/smmlist/?page=N`` and ``GET /d/topsellers/?page=N``: the two directory sites
  (``simulator.directories``), with their non-seller pages (``/d/smmlist/advertise``, ...).
- ``GET /_sim/clock`` -> ``{"day", "date"}``; ``POST /_sim/advance?days=N``; ``GET /_sim/truth``.

Faults (``Market.inject_fault``) are applied here per request: ``offline``, ``slow``,
``http_500``, ``http_500_burst``, ``http_429`` (``Retry-After`` from the fault's parameters),
``truncated``; the others change what the renderers produce.

Rendered pages and API payloads are cached per (site, route, market version), so a benchmark
that compares a crawl against a bare fetch measures the crawler, not the renderer.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from simulator import directories, shop_pages, themes
from simulator.api import handle_api_request
from simulator.market import THEMES, Market

_HTML = "text/html"
_JSON = "application/json"
_API_PATHS = {"api/v2", "api/v2/", "api/v1", "api/v1/"}
_TRUNCATE_SHARE = 0.6


class SimulatorServer:
    """Serve a :class:`Market` on ``host:port`` (port 0 = any free port) from a thread.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. ``base_url`` is known once
    started.
    """

    def __init__(self, market: Market, host: str = "127.0.0.1", port: int = 0) -> None:
        self.market = market
        self.host = host
        self.port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._startup_error: BaseException | None = None
        # Rendered pages (bytes) and, under keys starting with "shop", shop responses (or None).
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._cache_version = -1

    # ----- lifecycle --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._thread is None:
            raise RuntimeError("server not started")
        return f"http://{self.host}:{self.port}"

    def site_url(self, site_id: str) -> str:
        return f"{self.base_url}/s/{site_id}/"

    def start(self) -> SimulatorServer:
        """Start listening; returns when the socket is bound."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name="clickfarm-simulator", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout=15):
            raise RuntimeError("simulator server did not start within 15 s")
        if self._startup_error is not None:
            self._thread.join(timeout=5)
            self._thread = None
            raise RuntimeError(f"simulator server failed to start: {self._startup_error}")
        return self

    def stop(self) -> None:
        """Stop the server and its thread (idempotent)."""
        if self._thread is None:
            return
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=15)
        self._thread = None
        self._loop = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(self._make_app(), access_log=None, handle_signals=False)
        try:
            loop.run_until_complete(runner.setup())
            tcp_site = web.TCPSite(runner, self.host, self.port)
            loop.run_until_complete(tcp_site.start())
            self.port = runner.addresses[0][1]
        except BaseException as error:  # reported to start() in the caller's thread
            self._startup_error = error
            loop.run_until_complete(runner.cleanup())
            loop.close()
            ready.set()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    # ----- routing ----------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._directory)
        app.router.add_get("/robots.txt", self._robots)
        app.router.add_get("/_sim/clock", self._clock)
        app.router.add_post("/_sim/advance", self._advance)
        app.router.add_get("/_sim/truth", self._truth)
        app.router.add_route("*", "/s/{site_id}", self._site)
        app.router.add_route("*", "/s/{site_id}/{tail:.*}", self._site)
        app.router.add_get("/d/{directory_id}", self._directory_site)
        app.router.add_get("/d/{directory_id}/{tail:.*}", self._directory_site)
        return app

    @property
    def other_base_url(self) -> str:
        """The same server under another host name (where ``offsite_redirect`` points)."""
        other = "localhost" if self.host != "localhost" else "127.0.0.1"
        return f"http://{other}:{self.port}"

    def _cached(self, key: tuple[Any, ...], render: Any) -> bytes:
        """Render under the market lock, once per market version."""
        with self.market.lock:
            self._fresh_cache()
            full_key = (*key, self.market.version)
            if full_key not in self._cache:
                self._cache[full_key] = render()
            return self._cache[full_key]

    def _fresh_cache(self) -> dict[tuple[Any, ...], Any]:
        """The render cache, emptied when the market changed (call with the lock held)."""
        if self._cache_version != self.market.version:
            self._cache.clear()
            self._cache_version = self.market.version
        return self._cache

    async def _directory(self, request: web.Request) -> web.Response:
        body = self._cached(
            ("directory",), lambda: themes.render_directory_page(self.market).encode()
        )
        return web.Response(body=body, content_type=_HTML, charset="utf-8")

    async def _robots(self, request: web.Request) -> web.Response:
        return web.Response(text=themes.ROBOTS_TXT, content_type="text/plain")

    async def _clock(self, request: web.Request) -> web.Response:
        with self.market.lock:
            payload = {"day": self.market.day, "date": self.market.today.isoformat()}
        return web.json_response(payload)

    async def _advance(self, request: web.Request) -> web.Response:
        try:
            days = int(request.query.get("days", "1"))
        except ValueError:
            return web.json_response({"error": "days must be an integer"}, status=400)
        if days < 0 or days > 3650:
            return web.json_response({"error": "days must be between 0 and 3650"}, status=400)
        await asyncio.get_running_loop().run_in_executor(None, self.market.advance, days)
        return await self._clock(request)

    async def _truth(self, request: web.Request) -> web.Response:
        truth = await asyncio.get_running_loop().run_in_executor(None, self.market.ground_truth)
        return web.Response(
            text=json.dumps(truth, ensure_ascii=False), content_type=_JSON, charset="utf-8"
        )

    async def _directory_site(self, request: web.Request) -> web.StreamResponse:
        directory_id = request.match_info["directory_id"]
        tail = request.match_info.get("tail", "").strip("/")
        if directory_id not in directories.DIRECTORY_IDS:
            return web.Response(status=404, text="Not Found")
        if "tail" not in request.match_info:
            raise web.HTTPMovedPermanently(f"/d/{directory_id}/")
        if tail == "robots.txt":
            return web.Response(text=themes.ROBOTS_TXT, content_type="text/plain")
        if tail.startswith(("img/", "css/")):
            response = shop_pages.handle_asset(tail)
            return web.Response(
                body=response.body, content_type=response.content_type, headers=response.headers
            )
        if tail:
            text = directories.render_extra_page(directory_id, tail)
            if text is None:
                return web.Response(status=404, text="Not Found")
            return web.Response(text=text, content_type=_HTML)
        try:
            page = int(request.query.get("page", "1"))
        except ValueError:
            page = 1
        if page < 1 or page > self.market.discovery.pages(directory_id):
            return web.Response(status=404, text="Not Found", content_type=_HTML)
        body = self._cached(
            ("directory", directory_id, page),
            lambda: directories.render_directory_page(
                self.market, directory_id, page, self.base_url
            ).encode(),
        )
        return web.Response(body=body, content_type=_HTML, charset="utf-8")

    async def _fault_response(
        self, request: web.Request, site_id: str, faults: frozenset[str], *, robots: bool
    ) -> web.StreamResponse | None:
        """The answer an operational fault gives instead of the page (None = serve normally)."""
        if not faults:
            return None
        market = self.market
        if "offline" in faults:
            with market.lock:
                mode = market.fault_params(site_id, "offline")["mode"]
            if mode == "close":
                # the connection drops without a status line, as with a dead host
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=503)  # never sent: the transport is gone
            return web.Response(
                status=503, text="503 Service Unavailable", content_type=_HTML
            )
        if robots:
            return None  # robots.txt stays readable through the other faults
        if "slow" in faults:
            with market.lock:
                seconds = float(market.fault_params(site_id, "slow")["seconds"])
            await asyncio.sleep(seconds)
        if "http_500" in faults:
            return web.Response(status=500, text="500 Internal Server Error", content_type=_HTML)
        if "http_500_burst" in faults and market.take_burst_request(site_id):
            return web.Response(status=500, text="500 Internal Server Error", content_type=_HTML)
        if "http_429" in faults:
            with market.lock:
                retry_after = market.fault_params(site_id, "http_429")["retry_after"]
            return web.Response(
                status=429, text="Too Many Requests", headers={"Retry-After": str(retry_after)}
            )
        return None

    async def _site(self, request: web.Request) -> web.StreamResponse:
        site_id = request.match_info["site_id"]
        tail = request.match_info.get("tail", "")
        if site_id in self.market.shops:
            return await self._shop(request, site_id, tail)
        if site_id not in self.market.sites:
            return web.Response(status=404, text="Not Found")
        route = _route_of(tail, request)
        if route is None:
            return web.Response(status=404, text="Not Found", content_type=_HTML)
        with self.market.lock:
            faults = self.market.active_faults(site_id)
            self.market.request_counts[(site_id, route)] += 1
        failure = await self._fault_response(request, site_id, faults, robots=route == "robots")
        if failure is not None:
            return failure
        if route == "robots":
            return web.Response(text=themes.ROBOTS_TXT, content_type="text/plain")
        if route == "api":
            params = await _read_params(request)
            with self.market.lock:
                response = handle_api_request(self.market, site_id, params, self._fresh_cache())
            body, status, content_type = response.body, response.status, response.content_type
        else:
            body = self._cached((site_id, route), lambda: self._render(site_id, route, faults))
            status, content_type = 200, _HTML
        if "truncated" in faults:
            body = body[: int(len(body) * _TRUNCATE_SHARE)]
        return web.Response(body=body, status=status, content_type=content_type, charset="utf-8")

    async def _shop(self, request: web.Request, shop_id: str, tail: str) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405, text="Method Not Allowed")
        route = tail.strip().lstrip("/")
        with self.market.lock:
            faults = self.market.active_faults(shop_id)
            self.market.request_counts[(shop_id, _shop_route_name(route))] += 1
        failure = await self._fault_response(
            request, shop_id, faults, robots=route == "robots.txt"
        )
        if failure is not None:
            return failure
        query = dict(request.query)
        key = ("shop", shop_id, route, tuple(sorted(query.items())))
        with self.market.lock:
            cache = self._fresh_cache()
            full_key = (*key, self.market.version)
            response: shop_pages.ShopResponse | None = cache.get(full_key)
            if response is None:
                response = shop_pages.handle_shop_request(
                    self.market,
                    self.market.shops[shop_id],
                    route,
                    query,
                    base_url=self.base_url,
                    other_base_url=self.other_base_url,
                )
                cache[full_key] = response
        if response is None:
            return web.Response(status=404, text="Not Found", content_type=_HTML)
        body = response.body
        if "truncated" in faults and response.status == 200:
            body = body[: int(len(body) * _TRUNCATE_SHARE)]
        charset = "utf-8" if response.content_type.startswith(("text/", "application/")) else None
        return web.Response(
            body=body,
            status=response.status,
            content_type=response.content_type,
            charset=charset,
            headers=response.headers,
        )

    def _render(self, site_id: str, route: str, faults: frozenset[str]) -> bytes:
        site = self.market.site(site_id)
        if route == "services":
            theme = None
            if "layout_change" in faults:
                theme = themes_after(site.theme)
            text = themes.render_services_page(self.market, site, faults=faults, theme=theme)
        elif route == "landing":
            partners = directories.partners_html(self.market, site_id, self.base_url)
            text = themes.render_landing_page(self.market, site, faults=faults, partners=partners)
        elif route == "api_docs":
            text = themes.render_api_docs_page(site)
        else:
            text = themes.render_signup_page(site)
        return text.encode("utf-8")


def themes_after(theme: str) -> str:
    """The theme a ``layout_change`` fault switches to."""
    return THEMES[(THEMES.index(theme) + 1) % len(THEMES)]


def _shop_route_name(route: str) -> str:
    """A short name for request counting: ``landing``, ``products.json``, ``product``, ..."""
    if not route:
        return "landing"
    head = route.split("/", 1)[0]
    return {"buy": "product", "c": "category", "products": "product"}.get(head, head)


def _route_of(tail: str, request: web.Request) -> str | None:
    path = tail.strip()
    if path in ("", "/"):
        return "landing"
    if path in ("services", "services/"):
        return "services"
    if path in _API_PATHS:
        return "api"
    if path in ("api", "api/"):
        # PerfectPanel serves its API docs at /api; a call with parameters is an API call
        if request.method == "POST" or "action" in request.query or "key" in request.query:
            return "api"
        return "api_docs"
    if path in ("signup", "signup/"):
        return "signup"
    if path == "robots.txt":
        return "robots"
    return None


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string, form body and JSON body (later sources win)."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                payload = await request.json()
            except (ValueError, UnicodeDecodeError):
                payload = None
            if isinstance(payload, dict):
                params.update(payload)
        else:
            form = await request.post()
            params.update({key: value for key, value in form.items() if isinstance(value, str)})
    return params


def run_simulator(
    seed: int,
    host: str,
    port: int,
    n_panels: int,
    days: int = 0,
    truth_path: Path | None = None,
    n_shops: int = 10,
) -> None:
    """Build a market, serve it, print the base URL, sites, shops and directories, block until
    Ctrl-C.

    ``days`` simulates that many days before serving; ``truth_path`` receives the ground truth
    at start and again on exit (the clock may be advanced through ``POST /_sim/advance``).
    """
    market = Market(seed=seed, n_panels=n_panels, n_shops=n_shops)
    if days:
        market.advance(days)
    with SimulatorServer(market, host=host, port=port) as server:
        print(
            f"clickfarm simulator: seed {seed}, {len(market.sites)} panels, "
            f"{len(market.shops)} shops, day {market.day} ({market.today.isoformat()})",
            flush=True,
        )
        print(f"base URL: {server.base_url}", flush=True)
        for entry in market.sites_config(server.base_url):
            print(
                f"  {entry['id']:<10} {entry['family']:<11} {entry['currency']:<4} {entry['url']}",
                flush=True,
            )
        for shop in market.shops.values():
            if not shop.in_config:
                print(
                    f"  {shop.shop_id:<10} {shop.config_family:<11} {shop.currency:<4} "
                    f"{server.site_url(shop.shop_id)}  (not in config: found by discovery)",
                    flush=True,
                )
        for directory_id in directories.DIRECTORY_IDS:
            print(
                f"  directory {directory_id:<10} {server.base_url}/d/{directory_id}/ "
                f"({len(market.discovery.listings[directory_id])} sellers, "
                f"{market.discovery.pages(directory_id)} pages)",
                flush=True,
            )
        if truth_path is not None:
            market.write_ground_truth(truth_path)
            print(f"ground truth: {truth_path}", flush=True)
        print("Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            if truth_path is not None:
                market.write_ground_truth(truth_path)
