"""A hostile seller for the tests: one loopback HTTP server whose routes misbehave on purpose.

Every route is an entry of :data:`ROUTES` (path prefix -> handler); add a class of hostility by
decorating a function with ``@route("/prefix/")``. A handler receives the request (method,
path, query, body) and the :class:`HostileSite` serving it, and either returns a
:class:`Reply` or writes the response itself (a dripping body) through ``request.handler``.
The longest matching prefix wins, so a "site" is a prefix (``/api-307/``) whose pages are the
family's usual paths under it (``/api-307/api/v2``, ``/shop-deep/products.json``).

:func:`start_hostile_pair` starts two servers on two loopback hosts (``127.0.0.1`` and
``127.0.0.2``, both loopback): ``site`` is the seller, ``other`` plays "another host" that a
redirect points to. Each records the requests it received (``requests``), so a test can
assert that a POST with the API key never reached the other host.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_KEY_ENV = "HOSTILE_API_KEY"
API_KEY = "hk-7f3a9c2e51d84b06-SECRET"
"""The key the tests configure (through ``API_KEY_ENV``) for the API routes."""

DRIP_INTERVAL_SECONDS = 0.5
DRIP_MAX_SECONDS = 120.0
DEEP_LEVELS = 100_000
HUGE_VARIANTS = 1_200


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    handler: BaseHTTPRequestHandler

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("latin-1"))


Handler = Callable[[Received, "HostileSite"], Reply | None]
ROUTES: dict[str, Handler] = {}


def route(prefix: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[prefix] = handler
        return handler

    return register


class HostileSite:
    """One threaded loopback server answering from :data:`ROUTES`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[tuple[str, str, bytes]] = []
        self.other: HostileSite | None = None
        site = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                site.dispatch(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                site.dispatch(self, self.rfile.read(length))

        self.server = ThreadingHTTPServer((host, 0), RequestHandler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> HostileSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received(self, method: str | None = None) -> list[tuple[str, str, bytes]]:
        return [r for r in self.requests if method is None or r[0] == method]

    def dispatch(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urlsplit(handler.path)
        self.requests.append((handler.command, handler.path, body))
        request = Received(handler.command, parts.path, parse_qs(parts.query), body, handler)
        matches = [prefix for prefix in ROUTES if parts.path.startswith(prefix)]
        reply: Reply | None = Reply(404, "not found", content_type="text/plain")
        if matches:
            try:
                reply = ROUTES[max(matches, key=len)](request, self)
            except (BrokenPipeError, ConnectionResetError):
                return
        if reply is not None:
            send(handler, reply)


def send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
    try:
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass


def json_reply(document: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(document), content_type="application/json")


def start_hostile_pair() -> tuple[HostileSite, HostileSite]:
    """The seller (127.0.0.1) and "another host" (127.0.0.2), both started."""
    site, other = HostileSite("127.0.0.1").start(), HostileSite("127.0.0.2").start()
    site.other = other
    return site, other


# -- a well-behaved panel, served by both hosts (what a redirect would lead to) ----------------

SERVICES = [{"service": 1, "name": "Instagram Followers", "type": "Default", "rate": "0.90",
             "min": "100", "max": "10000", "category": "Instagram"},
            {"service": 2, "name": "YouTube Views", "type": "Default", "rate": "1.20",
             "min": "500", "max": "100000", "category": "YouTube"}]


def panel_api(request: Received, key: str = API_KEY) -> Reply:
    form = request.form
    if form.get("key", [""])[0] != key:
        return json_reply({"error": "Incorrect request"})
    if form.get("action", [""])[0] == "balance":
        return json_reply({"balance": "10.00", "currency": "USD"})
    return json_reply(SERVICES)


SERVICES_PAGE = """<html><head><title>Services</title></head><body><table>
<thead><tr><th>ID</th><th>Service</th><th>Rate per 1000</th><th>Min order</th>
<th>Max order</th></tr></thead><tbody>
<tr><td>1</td><td>Instagram Followers</td><td>$0.90</td><td>100</td><td>10000</td></tr>
<tr><td>2</td><td>YouTube Views</td><td>$1.20</td><td>500</td><td>100000</td></tr>
</tbody></table></body></html>"""


@route("/")
def _landing(request: Received, site: HostileSite) -> Reply:
    """Every site's landing page (a directory path); anything else unknown is a 404."""
    if request.path.endswith("/"):
        return Reply(body="<html><head><title>Panel</title></head><body>Welcome</body></html>")
    return Reply(404, "not found", content_type="text/plain")


@route("/api/v2")
def _plain_api(request: Received, site: HostileSite) -> Reply:
    return panel_api(request)


@route("/services")
def _plain_services(request: Received, site: HostileSite) -> Reply:
    return Reply(body=SERVICES_PAGE)


# -- class 1: redirects to another host -------------------------------------------------------

def _redirect_to_other(status: int, path: str) -> Handler:
    def handler(request: Received, site: HostileSite) -> Reply:
        assert site.other is not None, "start_hostile_pair() gives the other host"
        return Reply(status, "", headers={"Location": site.other.url(path)})

    return handler


for _status in (301, 302, 303, 307, 308):
    route(f"/api-{_status}/api/v2")(_redirect_to_other(_status, "/api/v2"))
    route(f"/html-{_status}/services")(_redirect_to_other(_status, "/services"))


@route("/api-same-host-307/api/v2")
def _redirect_same_host(request: Received, site: HostileSite) -> Reply:
    """A 307 that stays on the site (a moved API path): followed."""
    return Reply(307, "", headers={"Location": site.url("/api-same-host-307/moved/api/v2")})


@route("/api-same-host-307/moved/")
def _moved_api(request: Received, site: HostileSite) -> Reply:
    return panel_api(request)


# -- class 1: a seller that echoes the key back -----------------------------------------------

@route("/api-echo/api/v2")
def _echo_key(request: Received, site: HostileSite) -> Reply:
    key = request.form.get("key", [""])[0]
    return json_reply({"error": f"Invalid API key: key={key} (action "
                                f"{request.form.get('action', [''])[0]}); your key is {key}"})


# -- class 4: a body that drips ---------------------------------------------------------------

@route("/html-drip/services")
@route("/drip")
def _drip(request: Received, site: HostileSite) -> None:
    """Headers at once, then one small chunk every half second (never a read timeout)."""
    handler = request.handler
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        started = time.monotonic()
        handler.wfile.write(b"6\r\n<html>\r\n")
        handler.wfile.flush()
        while time.monotonic() - started < DRIP_MAX_SECONDS:
            time.sleep(DRIP_INTERVAL_SECONDS)
            handler.wfile.write(b"2\r\n<p\r\n")
            handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    handler.close_connection = True
    return None


# -- class 7: deep and huge inputs ------------------------------------------------------------

def deep_json(levels: int = DEEP_LEVELS, *, inside: str = "") -> str:
    return "[" * levels + inside + "]" * levels


SHOP_LANDING = ("<html><head><script>Shopify.currency = {\"active\": \"USD\", \"rate\": \"1.0\"};"
                "</script></head><body>shop</body></html>")


@route("/shop-deep/")
def _shop_deep(request: Received, site: HostileSite) -> Reply:
    if request.path.endswith("/products.json"):
        return Reply(body='{"products": ' + deep_json() + "}", content_type="application/json")
    return Reply(body=SHOP_LANDING)


def shopify_variants(count: int) -> dict[str, Any]:
    """One product with ``count`` variants (each a distinct offer)."""
    return {"products": [{
        "id": 1, "title": "Instagram Followers", "handle": "instagram-followers",
        "product_type": "Followers", "options": [{"name": "Quantity"}],
        "variants": [{"id": 1000 + n, "title": f"{100 + n} Followers", "option1":
                      f"{100 + n} Followers", "price": "2.00", "available": True}
                     for n in range(count)]}]}


@route("/shop-huge/")
def _shop_huge(request: Received, site: HostileSite) -> Reply:
    if request.path.endswith("/products.json"):
        page = int(request.query.get("page", ["1"])[0])
        return json_reply(shopify_variants(HUGE_VARIANTS) if page == 1 else {"products": []})
    return Reply(body=SHOP_LANDING)
