"""Seller discovery: identities, directory extraction, storage, a whole pass against a loopback
site built from the fixtures, and end to end against the simulated market."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from crawlers.discovery.directory import extract_directory, extract_seller_links
from crawlers.discovery.discover import KnownSite, discover, resolve
from crawlers.discovery.identity import (
    SITE_ID_PATTERN,
    new_site_id,
    root_identity,
    site_identity,
    slug_for,
)
from crawlers.discovery.sites import crawl_targets
from storage.db import get_engine, migrate
from storage.discovery import (
    DiscoverySource,
    SiteStateError,
    UnknownSiteError,
    add_discovered_site,
    discovery_rows,
    ensure_config_site,
    list_sites,
    promote_site,
    promoted_sites,
    record_discoveries,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "discovery"
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# -- identity -------------------------------------------------------------------------------

IDENTITY_CASES = [
    # "www." is dropped from the key (one seller) but kept in the URL (what answers).
    ("https://www.SMMKings.com/?ref=smmlist", "smmkings.com/", "https://www.smmkings.com/"),
    ("http://smmkings.com/services#top", "smmkings.com/", "http://smmkings.com/"),
    ("https://shop.example:8443/buy/instagram", "shop.example:8443/", "https://shop.example:8443/"),
    ("https://shop.example:443/", "shop.example/", "https://shop.example/"),
    ("http://127.0.0.1:8765/s/shop-06/", "127.0.0.1:8765/s/shop-06/",
     "http://127.0.0.1:8765/s/shop-06/"),
    ("http://127.0.0.1:8765/s/shop-06", "127.0.0.1:8765/s/",
     "http://127.0.0.1:8765/s/"),  # no trailing slash: "shop-06" is a file name, as for a browser
    ("http://127.0.0.1:8765/s/panel-03/services", "127.0.0.1:8765/s/panel-03/",
     "http://127.0.0.1:8765/s/panel-03/"),
    ("http://localhost:8000/s/x/product/y", "localhost:8000/s/x/", "http://localhost:8000/s/x/"),
]


@pytest.mark.parametrize(("link", "key", "url"), IDENTITY_CASES,
                         ids=[case[0] for case in IDENTITY_CASES])
def test_site_identity(link: str, key: str, url: str) -> None:
    identity = site_identity(link)
    assert (identity.url, identity.key) == (url, key)


def test_www_and_bare_host_are_one_seller() -> None:
    with_www, bare = site_identity("https://www.seller.example/"), site_identity("http://seller.example/x")
    assert with_www == bare and len({with_www, bare}) == 1
    assert with_www.url == "https://www.seller.example/"


@pytest.mark.parametrize("link", ["mailto:a@b.c", "javascript:void(0)", "ftp://x.example/",
                                  "https://", "http://[::1:bad/"])
def test_links_that_are_not_sites(link: str) -> None:
    assert site_identity(link) is None


def test_known_site_prefix_wins_at_any_depth() -> None:
    known = [root_identity("http://127.0.0.1:8765/s/deep/site/"),
             root_identity("http://127.0.0.1:8765/s/deep/")]
    assert site_identity("http://127.0.0.1:8765/s/deep/site/product/x", known).key == \
        "127.0.0.1:8765/s/deep/site/"
    assert site_identity("http://127.0.0.1:8765/s/deep/other/", known).key == \
        "127.0.0.1:8765/s/deep/"


SLUG_CASES = [
    ("http://127.0.0.1:8765/s/shop-06/", "shop-06"),
    ("http://localhost:9000/d/Shop_Seven/", "shop_seven"),
    ("https://www.smmkings.com/", "smmkings.com"),
    ("https://xn--smm-panel-9za.example/", "xn--smm-panel-9za.example"),
    ("http://10.0.0.5/", "10.0.0.5"),
    ("https://" + "a" * 70 + ".example/", "a" * 63),
]


@pytest.mark.parametrize(("url", "slug"), SLUG_CASES, ids=[case[1][:20] for case in SLUG_CASES])
def test_site_id_slug(url: str, slug: str) -> None:
    identity = root_identity(url)
    assert slug_for(identity) == slug
    assert SITE_ID_PATTERN.match(slug_for(identity))


def test_site_id_collisions_get_a_suffix() -> None:
    identity = root_identity("http://127.0.0.1:8765/s/shop-06/")
    assert new_site_id(identity, set()) == "shop-06"
    assert new_site_id(identity, {"shop-06"}) == "shop-06-2"
    assert new_site_id(identity, {"shop-06", "shop-06-2"}) == "shop-06-3"
    long_identity = root_identity("https://" + "b" * 70 + ".example/")
    suffixed = new_site_id(long_identity, {"b" * 63})
    assert suffixed.endswith("-2") and SITE_ID_PATTERN.match(suffixed)


# -- directory pages ------------------------------------------------------------------------

def test_directory_entries_leave_out_navigation_ads_and_pagination() -> None:
    page = extract_directory("https://smmlist.example/smm-panels/?page=1",
                             fixture("directory_page1.html"))
    assert [entry.identity.key for entry in page.entries] == [
        "smmkings.com/", "peakerr.example/", "127.0.0.1:8765/s/shop-06/",
        "127.0.0.1:8765/s/panel-03/"]
    assert page.entries[0].text == "SMMKings"
    assert page.entries[0].href == "https://www.smmkings.com/?ref=smmlist"
    assert page.next_page == "https://smmlist.example/smm-panels/?page=2"
    # what was left out, and why: the sponsored entry, the ad slot, the sidebar, social links,
    # the directory's own pages (review, pagination, navigation)
    assert page.skipped == {"inside the directory": 8, "platform or service, not a seller": 2,
                            "inside .ad": 1, "inside .sponsored": 1, "inside <aside>": 1}


def test_last_directory_page_and_sponsored_rel_entries() -> None:
    page = extract_directory("https://smmlist.example/smm-panels/?page=2",
                             fixture("directory_page2.html"))
    # rel="sponsored" marks affiliate listing links too: the entry is kept
    assert [entry.identity.key for entry in page.entries] == [
        "justanotherpanel.example/", "smmkings.com/"]
    assert page.next_page is None  # only a "Previous" link


# Listing entries whose link sits in the entry's own header or footer (Bootstrap
# ".card-footer", an <article>'s <header>, a list item's <footer>): part of the entry, unlike
# the page's header and footer.
ENTRY_MARKUP_CASES = [
    ('<div class="row"><div class="card"><div class="card-body"><h5>Seller One</h5></div>'
     '<div class="card-footer"><a class="btn" href="https://seller-one.example/?ref=smmlist">'
     'Visit site</a></div></div></div>', "seller-one.example/"),
    ('<article class="listing"><header class="entry-header"><h2>'
     '<a href="https://www.seller-two.example/?utm_source=smmlist&amp;utm_medium=dir">Seller Two'
     '</a></h2></header><p>Cheap likes</p></article>', "seller-two.example/"),
    ('<ul><li><h3>Seller Three</h3><footer><a href="https://seller-three.example/">Visit</a>'
     '</footer></li></ul>', "seller-three.example/"),
    ('<table><tr><td>Seller Four</td><td class="panel-footer">'
     '<a href="http://seller-four.example/buy">Visit</a></td></tr></table>',
     "seller-four.example/"),
]


@pytest.mark.parametrize(("listing", "key"), ENTRY_MARKUP_CASES,
                         ids=[case[1] for case in ENTRY_MARKUP_CASES])
def test_links_in_an_entry_header_or_footer_are_listing_entries(listing: str, key: str) -> None:
    # a WordPress single post: "post" in the body's classes does not make the page an entry
    html = ('<html><body class="post-template-default single single-post postid-12 card">'
            '<header class="site-header"><a href="https://header-ad.example/">Ad</a>'
            f'</header><main>{listing}</main><footer class="site-footer">'
            '<a href="https://footer-friend.example/">Friend</a></footer>'
            '<div class="footer"><a href="https://footer-two.example/">Other</a></div>'
            '</body></html>')
    page = extract_directory("https://smmlist.example/list/", html.encode())
    assert [entry.identity.key for entry in page.entries] == [key]


def test_directory_page_bad_input() -> None:
    assert extract_directory("https://d.example/", b"").entries == []
    assert extract_directory("https://d.example/", b"").skipped == {"empty page": 1}
    broken = b"<html><body><ol><li><a href='https://seller.example/'>S</a><li><a href='http://"
    assert [e.identity.key for e in extract_directory("https://d.example/", broken).entries] == [
        "seller.example/"]


def test_next_page_never_leaves_the_directory() -> None:
    html = b"""<html><body><a href="https://seller.example/">S</a>
    <a class="next" href="https://other-directory.example/?page=2">Next</a></body></html>"""
    assert extract_directory("https://d.example/list/", html).next_page is None


def test_seller_links_of_a_landing_page() -> None:
    own = root_identity("https://followfast.example/")
    links = extract_seller_links("https://followfast.example/", fixture("partner_landing.html"),
                                 own=own)
    assert [(link.identity.key, link.context) for link in links] == [
        ("boostgram.store/", "Partners section"),
        ("127.0.0.1:8765/s/shop-09/", "Partners section"),
        ("likesfarm.example/", "external link"),  # Instagram, WhatsApp and PayPal are not sellers
    ]


# -- storage ----------------------------------------------------------------------------------

@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = get_engine(f"sqlite:///{tmp_path / 'discovery.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def test_sources_are_recorded_once_per_site_and_source(engine: Engine) -> None:
    ensure_config_site(engine, site_id="panel-01", url="http://x/s/panel-01/", family="smm_api",
                       currency="USD", config={"id": "panel-01", "api_key": "secret"}, now=NOW)
    assert add_discovered_site(engine, site_id="shop-06", url="http://x/s/shop-06/",
                               family="shopify", currency="EUR", discovered_via="http://x/d/a/",
                               now=NOW)
    sightings = [DiscoverySource("panel-01", "config", "config"),
                 DiscoverySource("panel-01", "http://x/d/a/", "directory", {"href": "1"}),
                 DiscoverySource("shop-06", "http://x/d/a/", "directory", {"href": "2"}),
                 DiscoverySource("shop-06", "http://x/s/panel-01/", "seller_link")]
    assert record_discoveries(engine, sightings, now=NOW) == (4, 0)
    later = NOW + timedelta(days=1)
    assert not add_discovered_site(engine, site_id="shop-06", url="http://x/s/shop-06/",
                                   family="shopify", currency="EUR",
                                   discovered_via="http://x/d/b/", now=later)
    assert record_discoveries(engine, [*sightings[1:3], DiscoverySource(
        "shop-06", "http://x/d/b/", "directory")], now=later) == (1, 2)
    rows = {(row["site_id"], row["source"]): row for row in discovery_rows(engine)}
    assert len(rows) == 5
    again = rows[("shop-06", "http://x/d/a/")]
    assert again["found_at"] == NOW and again["last_seen_at"] == later
    assert rows[("panel-01", "config")]["last_seen_at"] == NOW  # not seen again
    # an older pass never moves last_seen_at back
    record_discoveries(engine, [sightings[2]], now=NOW - timedelta(days=3))
    assert {(r["site_id"], r["source"]): r for r in discovery_rows(engine)}[
        ("shop-06", "http://x/d/a/")]["last_seen_at"] == later
    listing = {site.id: site for site in list_sites(engine)}
    assert listing["shop-06"].status == "discovered"
    assert listing["shop-06"].discovered_via == "http://x/d/a/"  # the first source stays
    assert listing["shop-06"].last_seen_at == later
    assert [s["source"] for s in listing["shop-06"].sources] == [
        "http://x/d/a/", "http://x/s/panel-01/", "http://x/d/b/"]
    assert listing["panel-01"].discovered_via == "config"
    assert "api_key" not in listing["panel-01"].config


def test_bad_source_kind_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="source_kind"):
        record_discoveries(engine, [DiscoverySource("x", "y", "search")], now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        record_discoveries(engine, [], now=NOW.replace(tzinfo=None))


def test_promote(engine: Engine) -> None:
    add_discovered_site(engine, site_id="shop-06", url="http://x/s/shop-06/", family="shopify",
                        currency="EUR", discovered_via="http://x/d/a/", now=NOW)
    assert promoted_sites(engine) == []
    row = promote_site(engine, site_id="shop-06", now=NOW)
    assert row["status"] == "active"
    assert [r["id"] for r in promoted_sites(engine)] == ["shop-06"]
    with pytest.raises(SiteStateError, match="already active"):
        promote_site(engine, site_id="shop-06", now=NOW)
    with pytest.raises(UnknownSiteError, match="no site 'nope'"):
        promote_site(engine, site_id="nope", now=NOW)
    # a site of the config is never a "promoted" site, even when active
    ensure_config_site(engine, site_id="panel-01", url="http://x/s/panel-01/", family="smm_api",
                       currency="USD", config=None, now=NOW)
    assert [r["id"] for r in promoted_sites(engine)] == ["shop-06"]


def test_crawl_targets_adds_promoted_sites_with_the_file_defaults(tmp_path: Path,
                                                                 engine: Engine) -> None:
    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(yaml.safe_dump({
        "defaults": {"politeness": {"download_delay": 0.25}, "schedule": {"interval": "6h"}},
        "sites": [{"id": "panel-01", "url": "http://x/s/panel-01/", "family": "smm_html"},
                  {"id": "off", "url": "http://x/s/off/", "family": "smm_html",
                   "enabled": False}]}))
    database_url = str(engine.url)
    assert [site.id for site in crawl_targets(sites_file, database_url)] == ["panel-01"]
    for site_id, family in (("shop-06", "shopify"), ("shop-07", "woocommerce")):
        add_discovered_site(engine, site_id=site_id, url=f"http://x/s/{site_id}/", family=family,
                            currency="EUR", discovered_via="http://x/d/a/", now=NOW,
                            config={"id": site_id, "family": family,
                                    "politeness": {"download_delay": 9}})
    promote_site(engine, site_id="shop-06", now=NOW)
    targets = crawl_targets(sites_file, database_url)
    assert [site.id for site in targets] == ["panel-01", "shop-06"]  # shop-07 not promoted
    shop = targets[1]
    assert (shop.url, shop.family, shop.currency) == ("http://x/s/shop-06/", "shopify", "EUR")
    # schedule and politeness come from the file's defaults, not from a stored snapshot
    assert shop.politeness.download_delay == 0.25 and shop.schedule.interval == "6h"
    assert [s.id for s in crawl_targets(sites_file, database_url, include_disabled=True)] == [
        "panel-01", "off", "shop-06"]


def test_resolve_is_decided_from_events() -> None:
    known = [KnownSite("panel-01", "http://127.0.0.1:1/s/panel-01/", "smm_api", "active", True),
             KnownSite("shop-06", "http://127.0.0.1:1/s/shop-06/", "shopify", "discovered", False)]
    directory = "http://127.0.0.1:1/d/a/"
    link = {"event": "link", "source_kind": "directory", "source": directory, "page_url": directory,
            "context": "listing entry", "text": "t"}
    events = [
        {"event": "directory_page", "directory": directory, "url": directory, "page": 1,
         "entries": 4},
        {**link, "key": "127.0.0.1:1/s/panel-01/", "site_url": "http://127.0.0.1:1/s/panel-01/", "href": "a"},
        {**link, "key": "127.0.0.1:1/s/shop-06/", "site_url": "http://127.0.0.1:1/s/shop-06/", "href": "b"},
        {**link, "key": "127.0.0.1:1/s/new/", "site_url": "http://127.0.0.1:1/s/new/", "href": "c"},
        {**link, "key": "127.0.0.1:1/s/blog/", "site_url": "http://127.0.0.1:1/s/blog/", "href": "d"},
        {**link, "key": "127.0.0.1:1/s/new/", "site_url": "http://127.0.0.1:1/s/new/", "href": "c2",
         "source": "http://127.0.0.1:1/s/panel-01/", "source_kind": "seller_link"},
        {"event": "candidate", "key": "127.0.0.1:1/s/new/", "site_url": "http://127.0.0.1:1/s/new/",
         "outcome": "seller", "detection": {"family": "woocommerce", "currency": None}},
        {"event": "candidate", "key": "127.0.0.1:1/s/blog/", "site_url": "http://127.0.0.1:1/s/blog/",
         "outcome": "unknown", "reason": "no panel, shop or storefront markers"},
    ]
    outcome = resolve(events, known, taken_ids={"panel-01", "shop-06", "new"})
    assert outcome.pages == 1 and outcome.candidates == 2
    assert outcome.known_found == {"panel-01": [directory], "shop-06": [directory]}
    assert outcome.seen_again == ["shop-06"]
    assert [(s.id, s.family, s.discovered_via) for s in outcome.new_sites] == [
        ("new-2", "woocommerce", directory)]  # "new" is taken
    assert sorted((s.site_id, s.source, s.source_kind) for s in outcome.sightings) == [
        ("new-2", directory, "directory"), ("new-2", "http://127.0.0.1:1/s/panel-01/", "seller_link"),
        ("panel-01", directory, "directory"), ("shop-06", directory, "directory")]
    assert [(s.url, s.outcome) for s in outcome.skipped] == [("http://127.0.0.1:1/s/blog/", "unknown")]


def test_auto_promote_makes_new_sites_crawl_targets(tmp_path: Path, engine: Engine) -> None:
    from core.config import load_config
    from crawlers.discovery.discover import known_sites, record

    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(yaml.safe_dump({
        "sites": [{"id": "panel-01", "url": "http://127.0.0.1:1/s/panel-01/",
                   "family": "smm_html"}],
        "discovery": {"directories": ["http://127.0.0.1:1/d/a/"], "auto_promote": True}}))
    config = load_config(sites_file)
    events = [
        {"event": "link", "key": "127.0.0.1:1/s/shop-10/", "site_url": "http://127.0.0.1:1/s/shop-10/",
         "href": "http://127.0.0.1:1/s/shop-10/", "source": "http://127.0.0.1:1/d/a/",
         "source_kind": "directory", "page_url": "http://127.0.0.1:1/d/a/",
         "context": "listing entry", "text": "Shop"},
        {"event": "candidate", "key": "127.0.0.1:1/s/shop-10/",
         "site_url": "http://127.0.0.1:1/s/shop-10/", "outcome": "seller",
         "detection": {"family": "shopify", "currency": "EUR", "evidence": ["Shopify.shop"]}},
    ]
    outcome = resolve(events, known_sites(config, []), taken_ids={"panel-01"})
    record(engine, outcome, config, now=NOW)
    assert outcome.auto_promoted
    assert {site.id: site.status for site in list_sites(engine)} == {
        "panel-01": "active", "shop-10": "active"}
    targets = crawl_targets(sites_file, str(engine.url))
    assert [(site.id, site.family, site.currency) for site in targets] == [
        ("panel-01", "smm_html", None), ("shop-10", "shopify", "EUR")]


# -- a whole pass against a loopback site made of the fixtures --------------------------------

def _mounted(name: str, site: str) -> bytes:
    """A fixture page served under /s/<site>/: its root-relative links stay on the site."""
    return fixture(name).replace(b'href="/', f'href="/s/{site}/'.encode())


class _Site:
    """Routes of the loopback test site: path (with query) -> (status, type, body, headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes, dict[str, str]]] = {}

    def page(self, path: str, body: bytes, *, status: int = 200, content_type: str = "text/html",
             headers: dict[str, str] | None = None) -> None:
        self.routes[path] = (status, content_type, body, headers or {})


@pytest.fixture
def fixture_site() -> Iterator[tuple[str, _Site]]:
    site = _Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            status, content_type, body, headers = site.routes.get(
                self.path, (404, "text/html", b"<html><body>Not found</body></html>", {}))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site
    finally:
        server.shutdown()
        server.server_close()


def test_discovery_pass_on_fixture_pages(tmp_path: Path, fixture_site: tuple[str, _Site]) -> None:
    base, site = fixture_site
    site.page("/robots.txt", b"User-agent: *\nDisallow: /s/private/\n", content_type="text/plain")
    entries = ["panel-a", "shop-b", "shop-c", "spa-d", "blog-e", "gone-f", "private", "moved-i",
               "json-j"]
    listing = "".join(f'<li class="entry"><a href="{base}/s/{name}/">{name}</a></li>'
                      for name in entries)
    site.page("/d/list/", f"""<html><body><nav><a href="/d/list/">Home</a></nav>
        <ol class="sellers">{listing}</ol>
        <div class="pagination"><a rel="next" href="/d/list/?page=2">Next</a></div>
        </body></html>""".encode())
    site.page("/d/list/?page=2", f"""<html><body><ol class="sellers">
        <li><a href="{base}/s/shop-b/">again</a></li><li><a href="{base}/s/cards-g/">g</a></li>
        </ol><a rel="next" href="/d/list/?page=3">Next</a></body></html>""".encode())
    site.page("/d/list/?page=3", f'<html><body><a href="{base}/s/too-far/">x</a></body></html>'
              .encode())
    partners = (f'<div class="partners"><h4>Partners</h4><a href="{base}/s/hidden-h/">H</a></div>'
                "</body>").encode()
    site.page("/s/panel-a/", _mounted("perfectpanel_landing.html", "panel-a")
              .replace(b"</body>", partners))
    site.page("/s/shop-b/", _mounted("shopify_landing.html", "shop-b"))
    site.page("/s/shop-c/", _mounted("storefront_landing.html", "shop-c"))
    site.page("/s/shop-c/product/instagram-followers", fixture("jsonld_product.html"))
    site.page("/s/blog-e/", _mounted("blog_unknown.html", "blog-e"))
    site.page("/s/private/", _mounted("shopify_landing.html", "private"))
    site.page("/s/moved-i/", b"", status=302, headers={"Location": "http://localhost:9/elsewhere/"})
    site.page("/s/spa-d/", b"", status=301, headers={"Location": "/s/spa-d/app/"})  # same site
    site.page("/s/spa-d/app/", fixture("spa_shell.html"))
    site.page("/s/json-j/", b'{"products": []}', content_type="application/json")
    site.page("/s/cards-g/", b'<html><body><a href="buy/tiktok-followers">TikTok</a></body></html>')
    site.page("/s/cards-g/buy/tiktok-followers", fixture("cards_product.html"))
    site.page("/s/hidden-h/", fixture("woocommerce_landing.html").replace(
        b"https://famefactory.net/", f"{base}/s/hidden-h/".encode()))

    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(yaml.safe_dump({
        "sites": [{"id": "panel-a", "url": f"{base}/s/panel-a/", "family": "smm_api",
                   "currency": "USD"}],
        "discovery": {"directories": [f"{base}/d/list/"], "download_delay": 0,
                      "concurrency": 4, "max_pages_per_directory": 2}}))
    database_url = f"sqlite:///{tmp_path / 'discovery.db'}"
    events: list[dict[str, Any]] = []
    outcome = discover(sites_file, database_url, now=NOW, timeout_seconds=120,
                       on_event=events.append)
    assert outcome.process_error is None
    assert events, "progress events arrive while the child runs"
    directory = f"{base}/d/list/"
    assert outcome.directories[directory]["pages"] == 2
    assert outcome.directories[directory]["truncated"]  # page 3 is past max_pages
    assert {site.id: site.family for site in outcome.new_sites} == {
        "shop-b": "shopify", "shop-c": "storefront", "spa-d": "spa", "cards-g": "storefront",
        "hidden-h": "woocommerce"}
    skipped = {s.url.rsplit("/", 2)[-2]: (s.outcome, s.reason) for s in outcome.skipped}
    expected = {
        "blog-e": ("unknown", "no panel, shop or storefront markers"),
        "gone-f": ("unreachable", f"{base}/s/gone-f/: HTTP 404"),
        "private": ("unreachable", "forbidden by robots.txt"),
        "moved-i": ("unreachable", "redirects to another site (http://localhost:9/elsewhere/)"),
        "json-j": ("unknown", "not an HTML page (application/json)"),
    }
    assert skipped.keys() == expected.keys()
    for name, (outcome_kind, reason) in expected.items():
        assert skipped[name][0] == outcome_kind and skipped[name][1].startswith(reason), name
    assert outcome.known_found == {"panel-a": [directory]}

    engine = get_engine(database_url)
    stored = {site.id: site for site in list_sites(engine)}
    assert stored["shop-b"].status == "discovered" and stored["shop-b"].currency == "EUR"
    assert stored["hidden-h"].discovered_via == f"{base}/s/panel-a/"
    sources = {(row["site_id"], row["source"], row["source_kind"])
               for row in discovery_rows(engine)}
    assert sources == {
        ("panel-a", "config", "config"), ("panel-a", directory, "directory"),
        *((name, directory, "directory") for name in ("shop-b", "shop-c", "spa-d", "cards-g")),
        ("hidden-h", f"{base}/s/panel-a/", "seller_link")}
    evidence = next(row["evidence"] for row in discovery_rows(engine)
                    if row["site_id"] == "shop-c")
    assert evidence["detection"]["family"] == "storefront"
    assert any("product page" in line for line in evidence["detection"]["evidence"])

    # a second pass: nothing new, every source seen again
    again = discover(sites_file, database_url, now=NOW + timedelta(days=1), timeout_seconds=120)
    assert again.new_sites == []
    assert again.inserted_sources == 0 and again.updated_sources == len(sources)
    assert sorted(again.seen_again) == ["cards-g", "hidden-h", "shop-b", "shop-c", "spa-d"]
    assert len(discovery_rows(engine)) == len(sources)
    assert {site.id: site.last_seen_at for site in list_sites(engine)}["shop-b"] == \
        NOW + timedelta(days=1)
    engine.dispose()


# -- end to end: the simulated market -----------------------------------------------------------

def _start_market(tmp_path: Path) -> Any:
    import inspect

    from tests.simulated import start_simulated

    if "shops" in inspect.signature(start_simulated).parameters:
        return start_simulated(tmp_path, seed=42, panels=24, shops=10)
    return start_simulated(tmp_path, seed=42, panels=24)  # Market's default is 10 shops


def _with_directories(setup: Any, **discovery: Any) -> list[str]:
    """Add the simulator's directories to the exported sites file; returns their URLs."""
    base = setup.server.base_url.rstrip("/")
    document = yaml.safe_load(setup.sites_path.read_text())
    directories = [f"{base}{entry['path']}" for entry in
                   setup.market.ground_truth()["discovery"]["directories"].values()]
    document["discovery"] = {"directories": directories, "download_delay": 0, "concurrency": 8,
                             **discovery}
    setup.sites_path.write_text(yaml.safe_dump(document, sort_keys=False))
    return directories


@pytest.mark.slow
def test_discovery_finds_exactly_the_simulated_sellers(tmp_path: Path) -> None:
    from clickfarm.demo import observation_time
    from storage.models import OfferPricePeriod

    setup = _start_market(tmp_path)
    try:
        base = setup.server.base_url.rstrip("/")
        _with_directories(setup)
        truth = setup.market.ground_truth()
        discovery_truth = truth["discovery"]
        now = observation_time(setup.market.today)
        outcome = discover(setup.sites_path, setup.database_url, now=now, timeout_seconds=300)
        assert outcome.process_error is None
        assert outcome.skipped == [], [(s.url, s.reason) for s in outcome.skipped]
        for directory_id, directory in discovery_truth["directories"].items():
            read = outcome.directories[f"{base}{directory['path']}"]
            assert read["pages"] == directory["pages"] and not read["errors"], directory_id
            assert read["entries"] == len(directory["sites"])

        # every true seller found, nothing else, each with exactly its true sources
        expected_sources: dict[str, set[str]] = {seller: set() for seller in
                                                 discovery_truth["sellers"]}
        for directory in discovery_truth["directories"].values():
            for seller in directory["sites"]:
                expected_sources[seller].add(f"{base}{directory['path']}")
        for link in discovery_truth["seller_links"]:
            expected_sources[link["to"]].add(f"{base}/s/{link['from']}/")
        rows = discovery_rows(setup.engine)
        found: dict[str, set[str]] = {}
        for row in rows:
            if row["source_kind"] != "config":
                found.setdefault(row["site_id"], set()).add(row["source"])
        assert found == expected_sources
        kinds = {(row["site_id"], row["source"]): row["source_kind"] for row in rows}
        for link in discovery_truth["seller_links"]:
            assert kinds[(link["to"], f"{base}/s/{link['from']}/")] == "seller_link"
        # config sites carry their "config" source
        assert {row["site_id"] for row in rows if row["source_kind"] == "config"} == set(
            discovery_truth["in_config"])

        # the sellers missing from the config are new, "discovered", with the right family
        sites = {site.id: site for site in list_sites(setup.engine)}
        assert sorted(site.id for site in outcome.new_sites) == discovery_truth["not_in_config"]
        for site_id in discovery_truth["not_in_config"]:
            assert sites[site_id].status == "discovered"
            assert sites[site_id].family == truth["shops"][site_id]["family"], site_id
            assert sites[site_id].url == f"{base}/s/{site_id}/"
            assert sites[site_id].discovered_via in expected_sources[site_id]
        assert all(sites[site_id].status == "active" for site_id in discovery_truth["in_config"])

        # a second pass changes nothing but the last-seen times
        later = now + timedelta(hours=6)
        again = discover(setup.sites_path, setup.database_url, now=later, timeout_seconds=300)
        assert again.new_sites == [] and again.inserted_sources == 0
        assert len(discovery_rows(setup.engine)) == len(rows)
        assert all(row["last_seen_at"] == later for row in discovery_rows(setup.engine))
        assert sorted(again.seen_again) == discovery_truth["not_in_config"]

        # promoted, a discovered shop is crawled like a config site
        promoted = next(site_id for site_id in discovery_truth["not_in_config"]
                        if truth["shops"][site_id]["family"] == "shopify")
        promote_site(setup.engine, site_id=promoted, now=later)
        targets = crawl_targets(setup.sites_path, setup.database_url)
        assert promoted in {site.id for site in targets}
        runs = setup.crawl(site_ids=[promoted], observed_at=later)
        assert [(run["site_id"], run["status"]) for run in runs] == [(promoted, "succeeded")]
        assert runs[0]["offers_seen"] > 0
        with setup.engine.connect() as connection:
            stored = connection.execute(OfferPricePeriod.__table__.select()).fetchall()
        assert stored
    finally:
        setup.server.stop()
        setup.engine.dispose()


@pytest.mark.slow
def test_cli_discover_sites_promote_and_detect(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clickfarm.cli import app

    runner = CliRunner()
    setup = _start_market(tmp_path)
    try:
        base = setup.server.base_url.rstrip("/")
        _with_directories(setup)
        truth = setup.market.ground_truth()["discovery"]
        options = ["--sites-file", str(setup.sites_path), "--database-url", setup.database_url]
        # A panel left out of the config is found like the unlisted shops (and crawled once
        # promoted, with the family its fingerprint gave).
        document = yaml.safe_load(setup.sites_path.read_text())
        dropped = next(entry for entry in reversed(document["sites"])
                       if entry["family"] == "smm_html")
        document["sites"].remove(dropped)
        setup.sites_path.write_text(yaml.safe_dump(document, sort_keys=False))

        result = runner.invoke(app, ["discover", *options])
        assert result.exit_code == 0, result.output
        assert "directories read" in result.output and "new sellers (discovered)" in result.output
        for site_id in [*truth["not_in_config"], dropped["id"]]:
            assert site_id in result.output
        assert dropped["id"] not in {site.id for site in crawl_targets(setup.sites_path,
                                                                        setup.database_url)}

        result = runner.invoke(app, ["sites", *options])
        assert result.exit_code == 0, result.output
        lines = {line.split("│")[1].strip(): line for line in result.output.splitlines()
                 if line.count("│") > 3}
        unlisted = truth["not_in_config"][0]
        assert "discovered" in lines[unlisted] and f"{base}/d/" in result.output
        assert "config" in lines["panel-01"]
        assert f"{len(truth['not_in_config']) + 1} discovered site(s) are not crawled" in \
            result.output

        result = runner.invoke(app, ["sites", "promote", unlisted, "--database-url",
                                     setup.database_url])
        assert result.exit_code == 0, result.output
        assert f"{unlisted}" in result.output and "is active" in result.output
        for site_id, message in ((unlisted, "already active"), ("nope", "no site 'nope'")):
            result = runner.invoke(app, ["sites", "promote", site_id, "--database-url",
                                         setup.database_url])
            assert result.exit_code == 2 and message in result.output

        result = runner.invoke(app, ["sites", "promote", dropped["id"], "--database-url",
                                     setup.database_url])
        assert result.exit_code == 0, result.output
        runs = setup.crawl(site_ids=[dropped["id"]])  # the runner reads crawl_targets
        assert [(run["site_id"], run["status"]) for run in runs] == [(dropped["id"], "succeeded")]
        assert runs[0]["offers_seen"] > 0

        shopify = next(s for s, shop in setup.market.ground_truth()["shops"].items()
                       if shop["family"] == "shopify")
        result = runner.invoke(app, ["detect", f"{base}/s/{shopify}/"])
        assert result.exit_code == 0, result.output
        assert "family: shopify" in result.output
        assert "Shopify.shop = " in result.output
        assert f"url: {base}/s/{shopify}/" in result.output and "family: shopify" in result.output
        result = runner.invoke(app, ["detect", f"{base}/s/panel-01/"])
        assert result.exit_code == 0 and "family: smm_html" in result.output
        assert "PerfectPanel" in result.output or "SmartPanel" in result.output

        result = runner.invoke(app, ["detect", f"{base}/s/{shopify}/cart.js"])
        assert result.exit_code == 2 and "not an HTML page" in result.output
        result = runner.invoke(app, ["detect", f"{base}/s/panel-01/no-such-page"])
        assert result.exit_code == 2 and "HTTP 404" in result.output
        result = runner.invoke(app, ["detect", "http://127.0.0.1:9/", "--timeout", "5"])
        assert result.exit_code == 2 and "error" in result.output
    finally:
        setup.server.stop()
        setup.engine.dispose()
