"""The simulated market: determinism, API v2 shapes, page themes, clock, resellers, faults."""

from __future__ import annotations

import builtins
import html
import json
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from decimal import Decimal
from pathlib import Path

import lxml.html
import pytest

from simulator.api import ORDER_ACTIONS, handle_api_request
from simulator.market import (
    BAD_VALUE_KINDS,
    FAULTS,
    THEMES,
    Market,
    MoneyFormat,
    Site,
)
from simulator.server import SimulatorServer
from simulator.themes import HEADER_SETS, render_landing_page, render_services_page

# --- helpers ---------------------------------------------------------------------------------


def api(market: Market, site_id: str, action: str, key: str | None = None) -> object:
    params = {"action": action, "key": market.api_key(site_id) if key is None else key}
    with market.lock:
        response = handle_api_request(market, site_id, params)
    assert response.status == 200
    return json.loads(response.body)


def parse_money(text: str, money: MoneyFormat, symbol: str | None = None) -> Decimal:
    """Inverse of MoneyFormat.format, as a crawler that knows the site's locale would read it."""
    for mark in (symbol or money.symbol, "¤"):
        text = text.replace(mark, "")
    text = text.strip()
    if money.thousands_separator:
        text = text.replace(money.thousands_separator, "")
    if money.decimal_separator == ",":
        text = text.replace(",", ".")
    return Decimal(text)


def parse_quantity(text: str, separator: str) -> int:
    return int(text.replace(separator, "") if separator else text)


def parse_services_page(page: str, site: Site) -> dict[str, dict[str, str]]:
    """{service id: {column: cell text}} with columns mapped by header text, never position."""
    document = lxml.html.fromstring(page)
    tables = document.xpath("//table")
    assert len(tables) == 1, "one price table expected"
    headers = [th.text_content().strip() for th in tables[0].xpath(".//thead//th")]
    names = ("id", "service", "rate", "min", "max", "time", "desc")
    column_of = {
        name: headers.index(text)
        for name, text in zip(names, HEADER_SETS[site.page_style.header_set], strict=True)
        if text in headers
    }
    rows: dict[str, dict[str, str]] = {}
    for row in tables[0].xpath(".//tbody/tr"):
        cells = row.xpath("./td")
        if len(cells) != len(headers):
            continue  # category header row
        values = {name: cells[index].text_content().strip() for name, index in column_of.items()}
        rows[values["id"]] = values
    return rows


@pytest.fixture(scope="module")
def market() -> Market:
    """The default market (seed 42), never mutated by tests that use it."""
    return Market(seed=42)


@pytest.fixture(scope="module")
def advanced_market() -> Market:
    """A small market after 12 simulated days (for clock, reseller and counter invariants)."""
    small = Market(seed=3, n_panels=12)
    small.advance(12)
    return small


@pytest.fixture
def small_market() -> Market:
    """A fresh small market per test, free to mutate (faults)."""
    return Market(seed=11, n_panels=6)


# --- determinism and shape -------------------------------------------------------------------


def test_same_seed_gives_the_same_market() -> None:
    first, second = Market(seed=5, n_panels=8), Market(seed=5, n_panels=8)
    first.advance(3)
    second.advance(3)
    assert json.dumps(first.ground_truth(), sort_keys=True) == json.dumps(
        second.ground_truth(), sort_keys=True
    )
    assert json.dumps(Market(seed=6, n_panels=8).ground_truth()["sites"]["panel-01"]) != json.dumps(
        Market(seed=5, n_panels=8).ground_truth()["sites"]["panel-01"]
    )


def test_adding_a_site_does_not_reshuffle_the_others() -> None:
    smaller, larger = Market(seed=9, n_panels=24), Market(seed=9, n_panels=26)
    smaller.advance(2)
    larger.advance(2)
    for site_id in smaller.sites:
        for day in range(3):
            assert smaller.prices(site_id, day) == larger.prices(site_id, day), (site_id, day)
        assert smaller.site(site_id).brand == larger.site(site_id).brand


def test_default_market_has_every_variation(market: Market) -> None:
    sites = list(market.sites.values())
    sizes = [len(market.active_services(site.site_id)) for site in sites]
    assert len(sites) == 24
    assert 5000 <= sum(sizes) <= 8000
    assert min(sizes) >= 40
    assert sum(size >= 1500 for size in sizes) == 2, "two big panels for benchmarks"
    assert {site.theme for site in sites} == set(THEMES)
    assert {site.currency for site in sites} == {"USD", "INR", "TRY", "EUR"}
    assert Counter(site.kind for site in sites)["reseller"] >= 4
    families = Counter(site.family for site in sites)
    assert families["smm_api"] == families["smm_html"] == 12
    # every theme is crawled by both families
    assert {(site.theme, site.family) for site in sites} == {
        (theme, family) for theme in THEMES for family in ("smm_api", "smm_html")
    }
    usd_decimals = {site.decimals for site in sites if site.currency == "USD"}
    assert {2, 3, 4} <= usd_decimals


def test_construction_and_thirty_days_run() -> None:
    # Speed is a benchmark's business (benchmarks/), never a timed test on a shared machine.
    fresh = Market(seed=42)
    fresh.advance(30)
    assert fresh.day == 30


def test_runtime_never_reads_the_real_data(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert "smmpanels" not in str(file), f"simulator read real data: {file}"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    fresh = Market(seed=1, n_panels=4)
    fresh.advance(2)
    fresh.ground_truth()


# --- API v2 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["", "wrong-key", "0" * 32], ids=["missing", "wrong", "right-shape-wrong-value"]
)
def test_a_wrong_or_missing_key_is_refused(market: Market, key: str) -> None:
    assert api(market, "panel-01", "services", key=key) == {"error": "Invalid API key"}


def test_an_unknown_action_is_an_incorrect_request(market: Market) -> None:
    assert api(market, "panel-01", "orders_export") == {"error": "Incorrect request"}
    assert api(market, "panel-01", "") == {"error": "Incorrect request"}


@pytest.mark.parametrize("action", sorted(ORDER_ACTIONS))
def test_order_actions_are_refused_and_counted(small_market: Market, action: str) -> None:
    before = small_market.refused_order_actions
    body = api(small_market, "panel-01", action)
    assert isinstance(body, dict) and set(body) == {"error"}
    api(small_market, "panel-01", action, key="bad")
    assert small_market.refused_order_actions == before + 2
    assert small_market.refused_order_log[-1] == {"site_id": "panel-01", "action": action, "day": 0}


def test_balance_reveals_the_panel_currency(market: Market) -> None:
    for site in market.sites.values():
        body = api(market, site.site_id, "balance")
        assert body["currency"] == site.currency
        assert Decimal(body["balance"]) >= 0 and isinstance(body["balance"], str)


def test_services_payloads_vary_like_real_panels(market: Market) -> None:
    seen: Counter[str] = Counter()
    for site in market.sites.values():
        raw = handle_api_request(
            market, site.site_id, {"key": market.api_key(site.site_id), "action": "services"}
        ).body
        if b"\\u" in raw and b"\\/" in raw:
            seen["php_escapes"] += 1
        for item in json.loads(raw):
            assert {"service", "name", "type", "category", "rate", "min", "max"} <= set(item)
            seen[f"service_{type(item['service']).__name__}"] += 1
            seen[f"min_{type(item['min']).__name__}"] += 1
            for flag in ("refill", "cancel", "dripfeed"):
                if flag in item:
                    seen[f"flag_{flag}_{item[flag]!r}"] += 1
            seen.update(field for field in ("desc", "description", "average_time") if field in item)
            seen[f"type_{item['type']}"] += 1
            if isinstance(item["rate"], str) and len(item["rate"].partition(".")[2]) == 8:
                seen["rate_8_decimals"] += 1
            if isinstance(item["rate"], (int, float)):
                seen["rate_number"] += 1
            if item["max"] in (2147483647, "2147483647"):
                seen["max_unlimited"] += 1
            if item["type"] in ("Package", "package"):
                assert int(item["min"]) == int(item["max"]) == 1
                seen["package"] += 1
    expected = [
        "service_int", "service_str", "min_int", "min_str", "desc", "description",
        "type_Custom Comments", "type_custom_comments", "type_Default", "type_default",
        "rate_8_decimals", "rate_number", "max_unlimited", "package", "php_escapes",
        "flag_refill_True", "flag_refill_1", "flag_refill_'1'",
    ]  # fmt: skip
    missing = [variation for variation in expected if not seen[variation]]
    assert not missing, f"variations absent from the default market: {missing}"


def test_service_names_are_escaped_once_or_twice(market: Market) -> None:
    escaped_sites = [s for s in market.sites.values() if s.api_style.stores_escaped_names]
    assert escaped_sites, "some panel must store escaped names (&amp;amp; on the page)"
    ampersand_names = 0
    for site in market.sites.values():
        page = render_services_page(market, site)
        items = api(market, site.site_id, "services")
        for item in items:
            true_name = site.services[str(item["service"])].name
            if "&" not in true_name:
                continue
            ampersand_names += 1
            if site.api_style.stores_escaped_names:
                assert item["name"] == html.escape(true_name, quote=False)
                assert html.escape(html.escape(true_name, quote=False), quote=False) in page
            else:
                assert item["name"] == true_name
                assert html.escape(true_name, quote=False) in page
    assert ampersand_names > 20


# --- pages -----------------------------------------------------------------------------------


def test_every_theme_shows_the_same_values_as_the_api(market: Market) -> None:
    themes_checked: set[str] = set()
    for site in market.sites.values():
        items = api(market, site.site_id, "services")
        rows = parse_services_page(render_services_page(market, site), site)
        assert list(rows) == [str(item["service"]) for item in items], site.site_id
        separator = site.page_style.quantity_thousands
        for item in items:
            row = rows[str(item["service"])]
            assert parse_money(row["rate"], site.page_style.money) == Decimal(str(item["rate"]))
            assert parse_quantity(row["min"], separator) == int(item["min"])
            assert parse_quantity(row["max"], separator) == int(item["max"])
            assert row["service"] == item["name"]
        themes_checked.add(site.theme)
    assert themes_checked == set(THEMES)


@pytest.mark.parametrize(
    ("theme", "markers"),
    [
        ("pp_classic", ['<tr data-filter-table-category-id="', "<strong>", 'class="d-none"', ">View<", "data-filter-table-service-id"]),
        ("pp_modern", ['class="services-list-category-title"', '<td colspan="100%"><div><h4><span>', "data-label=", "data-filter-table-service-id"]),
        ("smartpanel", ['<tbody id="service-body">', 'class="sv-rate"', 'class="category-header"']),
    ],
    ids=["pp_classic", "pp_modern", "smartpanel"],
)  # fmt: skip
def test_theme_markup(market: Market, theme: str, markers: list[str]) -> None:
    site = next(site for site in market.sites.values() if site.theme == theme)
    page = render_services_page(market, site)
    for marker in markers:
        assert marker in page, marker


def test_page_variations_across_panels(market: Market) -> None:
    sites = list(market.sites.values())
    assert any(site.page_style.favourite_star for site in sites if site.theme == "pp_modern")
    header_sets = {site.page_style.header_set for site in sites}
    assert "tr" in header_sets and len(header_sets) >= 4
    assert {" ", "."} & {site.page_style.quantity_thousands for site in sites}
    pages = "".join(render_services_page(market, site) for site in sites)
    for marker in ("$", "₹", "₺", "€", "Not enough data", " hours ", "Servis", "1000 adet fiyatı"):
        assert marker in pages, marker


def test_landing_pages_show_the_counter_and_fingerprints(market: Market) -> None:
    styles = set()
    for site in market.sites.values():
        page = render_landing_page(market, site)
        orders = market.counters(site.site_id)["orders"]
        style = site.page_style.counter_style
        styles.add(style)
        shown = {
            0: f'data-count="{orders}">{orders:,}</h2>',
            1: f'data-to="{orders}"',
            2: f">{orders}+<",
            3: f"var ordersCompleted = {orders};",
        }[style]
        assert shown in page, (site.site_id, style)
        for link in ("/services", "/signup", "/api"):
            assert f'href="/s/{site.site_id}{link}"' in page
        if site.theme != "smartpanel":
            assert "cdn.mypanel.link" in page
            assert 'name="LoginForm[username]"' in page and 'name="_csrf"' in page
    assert styles == {0, 1, 2, 3}


# --- clock -----------------------------------------------------------------------------------


def test_advance_changes_a_few_prices_and_the_catalogue(advanced_market: Market) -> None:
    market = advanced_market
    changed_share, removed, added = [], 0, 0
    for day in range(1, market.day + 1):
        for site_id in market.sites:
            before, after = market.prices(site_id, day - 1), market.prices(site_id, day)
            common = before.keys() & after.keys()
            changed_share.append(sum(before[s] != after[s] for s in common) / max(1, len(common)))
            removed += len(before.keys() - after.keys())
            added += len(after.keys() - before.keys())
    mean_share = sum(changed_share) / len(changed_share)
    assert 0.005 < mean_share < 0.08, "most prices stay, a few % change each day"
    assert removed > 0 and added > 0
    assert market.today == market.start_date.fromordinal(market.start_date.toordinal() + 12)


def test_removed_services_can_come_back() -> None:
    market = Market(seed=4, n_panels=10)
    market.advance(30)
    reinstated = 0
    for site_id in market.sites:
        days = [set(market.prices(site_id, day)) for day in range(market.day + 1)]
        for day in range(1, len(days) - 1):
            gone = days[day - 1] - days[day]
            reinstated += sum(any(sid in later for later in days[day + 1 :]) for sid in gone)
    assert reinstated > 0


def test_reseller_prices_follow_upstream_times_markup(advanced_market: Market) -> None:
    market = advanced_market
    truth = market.ground_truth()
    assert truth["reseller_links"]
    for link in truth["reseller_links"]:
        reseller, upstream = market.site(link["reseller"]), market.site(link["upstream"])
        markup = Decimal(link["markup"])
        assert Decimal("1.2") <= markup <= Decimal("2.2")
        fx = Decimal(str(truth["panel_fx_per_usd"][reseller.currency])) / Decimal(
            str(truth["panel_fx_per_usd"][upstream.currency])
        )
        for day in range(market.day + 1):
            mine, theirs = (
                market.prices(reseller.site_id, day),
                market.prices(upstream.site_id, day),
            )
            for reseller_sid, upstream_sid in link["service_map"].items():
                assert (reseller_sid in mine) == (upstream_sid in theirs)
                if reseller_sid in mine:
                    expected = reseller.quantize(theirs[upstream_sid] * fx * markup)
                    assert mine[reseller_sid] == expected
        for reseller_sid, upstream_sid in link["service_map"].items():
            copy, source = reseller.services[reseller_sid], upstream.services[upstream_sid]
            assert copy.name.endswith(source.name)
            assert (copy.min_quantity, copy.max_quantity) == (
                source.min_quantity,
                source.max_quantity,
            )


def test_counters_grow_by_the_orders_received(advanced_market: Market) -> None:
    market = advanced_market
    for site_id in market.sites:
        for day in range(market.day):
            record = market.orders(site_id, day)
            delta = (
                market.counters(site_id, day + 1)["orders"]
                - market.counters(site_id, day)["orders"]
            )
            assert delta == record["counter_delta"] == record["orders"] + record["forwarded_orders"]
            assert record["orders"] > 0
            assert record["units"] >= record["orders"]
            assert sum(p["orders"] for p in record["by_platform"].values()) == record["orders"]
            assert sum(Decimal(p["revenue"]) for p in record["by_platform"].values()) == Decimal(
                record["revenue"]
            )
            for reseller_id, forwarded in record["forwarded_by_reseller"].items():
                assert market.site(reseller_id).upstream_id == site_id
                assert forwarded == market.orders(reseller_id, day)["orders"]


def test_order_sizes_are_skewed_small(advanced_market: Market) -> None:
    units, orders = 0, 0
    for site_id in advanced_market.sites:
        record = advanced_market.orders(site_id, 0)
        units += record["units"]
        orders += record["orders"]
    assert 300 < units / orders < 50_000


# --- ground truth ----------------------------------------------------------------------------


def test_ground_truth_round_trips_through_json(advanced_market: Market, tmp_path: Path) -> None:
    path = advanced_market.write_ground_truth(tmp_path / "truth" / "truth.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded == json.loads(json.dumps(advanced_market.ground_truth()))
    site = loaded["sites"]["panel-01"]
    assert {
        "id",
        "kind",
        "currency",
        "theme",
        "upstream",
        "markup",
        "catalogue",
        "prices",
        "orders",
        "counters",
    } <= set(site)
    assert (
        len(loaded["dates"])
        == advanced_market.day + 1
        == len(site["prices"])
        == len(site["counters"])
    )
    assert len(site["orders"]) == advanced_market.day
    any_service = next(iter(site["catalogue"].values()))
    assert any_service["platform"] and any_service["metric"]
    first_day = site["orders"][loaded["dates"][0]]
    assert Decimal(first_day["revenue_usd"]) > 0
    # sellers = panels + retail shops
    assert loaded["seller_count"] == len(advanced_market.sites) + len(advanced_market.shops)


# --- faults ----------------------------------------------------------------------------------


def test_invalid_json_fault(small_market: Market) -> None:
    small_market.inject_fault("panel-01", "invalid_json")
    with small_market.lock:
        body = handle_api_request(
            small_market,
            "panel-01",
            {"key": small_market.api_key("panel-01"), "action": "services"},
        ).body
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert body.rstrip().endswith(b",]")


@pytest.mark.parametrize("action", ["services", "balance"])
def test_api_error_fault(small_market: Market, action: str) -> None:
    small_market.inject_fault("panel-02", "api_error")
    assert api(small_market, "panel-02", action) == {"error": "Service temporarily unavailable"}


def test_empty_list_fault(small_market: Market) -> None:
    small_market.inject_fault("panel-01", "empty_list")
    site = small_market.site("panel-01")
    assert api(small_market, "panel-01", "services") == []
    page = render_services_page(small_market, site, faults=small_market.active_faults("panel-01"))
    assert "<table" in page and parse_services_page(page, site) == {}


def test_no_table_fault(small_market: Market) -> None:
    small_market.inject_fault("panel-03", "no_table")
    site = small_market.site("panel-03")
    page = render_services_page(small_market, site, faults=small_market.active_faults("panel-03"))
    assert "<table" not in page and "maintenance" in page


def test_bad_values_fault_is_shown_and_recorded(small_market: Market) -> None:
    small_market.inject_fault("panel-01", "bad_values")
    site = small_market.site("panel-01")
    items = {str(item["service"]): item for item in api(small_market, "panel-01", "services")}
    truth = small_market.ground_truth()["sites"]["panel-01"]["bad_values"]
    bad = truth[small_market.today.isoformat()]
    assert sorted(entry["kind"] for entry in bad.values()) == sorted(BAD_VALUE_KINDS)
    rows = parse_services_page(
        render_services_page(small_market, site, faults=small_market.active_faults("panel-01")),
        site,
    )
    for sid, entry in bad.items():
        if "rate" in entry:
            assert items[sid]["rate"] == entry["rate"]
            assert entry["rate"] in rows[sid]["rate"]
        else:
            assert int(items[sid]["min"]) > int(items[sid]["max"])
            assert int(rows[sid]["min"].replace(" ", "").replace(",", "").replace(".", "")) > int(
                rows[sid]["max"].replace(" ", "").replace(",", "").replace(".", "")
            )
    clean = set(items) - set(bad)
    prices = small_market.prices("panel-01")
    assert all(Decimal(str(items[sid]["rate"])) == prices[sid] for sid in clean)


def test_unknown_currency_fault(small_market: Market) -> None:
    small_market.inject_fault("panel-01", "unknown_currency")
    assert api(small_market, "panel-01", "balance")["currency"] == "XBT"
    site = small_market.site("panel-01")
    page = render_services_page(small_market, site, faults=small_market.active_faults("panel-01"))
    assert "¤" in page


def test_day_fault_and_clearing(small_market: Market) -> None:
    small_market.inject_fault("panel-02", "api_error", day=1)
    assert small_market.active_faults("panel-02") == frozenset()
    small_market.advance()
    assert small_market.active_faults("panel-02") == {"api_error"}
    small_market.advance()
    assert small_market.active_faults("panel-02") == frozenset()
    small_market.inject_fault("panel-02", "http_500")
    small_market.clear_faults("panel-02")
    assert small_market.active_faults("panel-02") == frozenset()
    with pytest.raises(ValueError, match="unknown fault"):
        small_market.inject_fault("panel-02", "meteor_strike")
    with pytest.raises(KeyError):
        small_market.inject_fault("panel-99", "http_500")


# --- config export ---------------------------------------------------------------------------


def test_sites_config_and_api_keys(market: Market) -> None:
    entries = market.sites_config("http://127.0.0.1:9999/")
    # every panel, then the shops listed in the config (the others are found by discovery)
    listed_shops = [shop_id for shop_id, shop in market.shops.items() if shop.in_config]
    assert [entry["id"] for entry in entries] == [*market.sites, *listed_shops]
    keys = market.api_key_env()
    for entry in entries:
        assert entry["url"] == f"http://127.0.0.1:9999/s/{entry['id']}/"
        assert set(entry) == {
            "id",
            "url",
            "family",
            "currency",
            "api_key_env",
            "schedule",
            "politeness",
        }
        if entry["family"] == "smm_api":
            env = entry["api_key_env"]
            assert env == "CLICKFARM_KEY_" + entry["id"].upper().replace("-", "_")
            assert keys[env] == market.api_key(entry["id"])
        else:
            assert entry["api_key_env"] is None
    assert len(keys) == sum(entry["family"] == "smm_api" for entry in entries)
    assert market.api_key("panel-01") == Market(seed=42, n_panels=2).api_key("panel-01")


# --- the HTTP server -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> tuple[Market, SimulatorServer]:
    market = Market(seed=21, n_panels=6)
    server = SimulatorServer(market).start()
    yield market, server
    server.stop()


def fetch(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize("transport", ["form", "query", "json"])
def test_server_api_accepts_form_query_and_json(
    served: tuple[Market, SimulatorServer], transport: str
) -> None:
    market, server = served
    params = {"key": market.api_key("panel-02"), "action": "balance"}
    url = f"{server.base_url}/s/panel-02/api/v2"
    if transport == "form":
        status, _, body = fetch(url, urllib.parse.urlencode(params).encode())
    elif transport == "query":
        status, _, body = fetch(f"{url}?{urllib.parse.urlencode(params)}")
    else:
        status, _, body = fetch(
            url, json.dumps(params).encode(), {"Content-Type": "application/json"}
        )
    assert status == 200
    assert json.loads(body)["currency"] == market.site("panel-02").currency


def test_server_routes(served: tuple[Market, SimulatorServer]) -> None:
    market, server = served
    base = server.base_url
    assert base.startswith("http://127.0.0.1:")
    status, headers, body = fetch(f"{base}/robots.txt")
    assert status == 200 and b"Disallow:\n" in body and b"Disallow: /" not in body
    status, _, body = fetch(f"{base}/")
    assert status == 200 and b"/s/panel-01/" in body
    for path in ("services", "", "api", "signup", "robots.txt"):
        status, headers, body = fetch(f"{base}/s/panel-01/{path}")
        assert status == 200, path
    status, _, body = fetch(f"{base}/s/panel-01/services")
    assert body == render_services_page(market, market.site("panel-01")).encode()
    assert fetch(f"{base}/s/panel-99/services")[0] == 404
    assert fetch(f"{base}/s/panel-01/nothing-here")[0] == 404
    assert json.loads(fetch(f"{base}/_sim/clock")[2]) == {"day": 0, "date": "2026-09-01"}


def test_server_control_routes_advance_and_truth() -> None:
    market = Market(seed=22, n_panels=3)
    with SimulatorServer(market) as server:
        status, _, body = fetch(f"{server.base_url}/_sim/advance?days=2", b"")
        assert status == 200 and json.loads(body) == {"day": 2, "date": "2026-09-03"}
        landing = fetch(f"{server.base_url}/s/panel-01/")[2].decode()
        assert str(market.counters("panel-01")["orders"]) in landing
        truth = json.loads(fetch(f"{server.base_url}/_sim/truth")[2])
        assert truth["day"] == 2 and set(truth["sites"]) == set(market.sites)
        assert fetch(f"{server.base_url}/_sim/advance?days=x", b"")[0] == 400


@pytest.mark.parametrize(
    ("fault", "expected_status"),
    [("http_500", 500), ("http_429", 429)],
    ids=["http_500", "http_429"],
)
def test_server_http_faults(
    served: tuple[Market, SimulatorServer], fault: str, expected_status: int
) -> None:
    market, server = served
    market.inject_fault("panel-03", fault)
    try:
        status, headers, _ = fetch(f"{server.base_url}/s/panel-03/services")
        assert status == expected_status
        if fault == "http_429":
            assert headers["Retry-After"] == "1"
        api_status, _, _ = fetch(
            f"{server.base_url}/s/panel-03/api/v2",
            urllib.parse.urlencode(
                {"key": market.api_key("panel-03"), "action": "services"}
            ).encode(),
        )
        assert api_status == expected_status
    finally:
        market.clear_faults("panel-03")
    assert fetch(f"{server.base_url}/s/panel-03/services")[0] == 200


def test_server_truncated_and_layout_change(served: tuple[Market, SimulatorServer]) -> None:
    market, server = served
    url = f"{server.base_url}/s/panel-04/services"
    full = fetch(url)[2]
    market.inject_fault("panel-04", "truncated")
    try:
        cut = fetch(url)[2]
        assert 0 < len(cut) < len(full) and full.startswith(cut)
    finally:
        market.clear_faults("panel-04")
    market.inject_fault("panel-04", "layout_change")
    try:
        changed = fetch(url)[2].decode()
        site = market.site("panel-04")
        assert changed != full.decode()
        assert parse_services_page(changed, site) == parse_services_page(full.decode(), site)
    finally:
        market.clear_faults("panel-04")


def test_server_counts_order_actions(served: tuple[Market, SimulatorServer]) -> None:
    market, server = served
    before = market.refused_order_actions
    status, _, body = fetch(
        f"{server.base_url}/s/panel-01/api/v2",
        urllib.parse.urlencode(
            {
                "key": market.api_key("panel-01"),
                "action": "add",
                "service": 1,
                "link": "x",
                "quantity": 100,
            }
        ).encode(),
    )
    assert status == 200 and "error" in json.loads(body)
    assert market.refused_order_actions == before + 1
    assert market.request_counts[("panel-01", "api")] >= 1


def test_all_faults_are_known() -> None:
    required = {
        "invalid_json",
        "api_error",
        "empty_list",
        "no_table",
        "bad_values",
        "http_500",
        "unknown_currency",
    }
    assert required <= FAULTS
