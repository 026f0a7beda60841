"""`clickfarm report html`: one self-contained HTML file, opened in the Chromium the project
already uses (crawlers/browser.py).

One store for the module, built straight from the simulator (simulator.store.build_store: real
spiders and pipelines, no HTTP) over a month boundary, with hostile strings put where crawled
text lives: sellers renamed ``<script>alert(1)</script>`` (an upstream of a reseller chain),
``<img src=x onerror=alert(2)>`` (which then vanishes, its last crawls failing with a hostile
error) and one with quotes and markup (new: its first crawls found nothing), and service names
with markup and template syntax. One report is written and opened in
one browser; the checks: no request leaves the page, no dialog and no script, every chart has a
size, every hostile string reads as text, every chart and table names its method and inputs.
The full-page screenshot is kept as ``var/test-artifacts/report-html.png``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import Engine, text, update
from typer.testing import CliRunner

from clickfarm.cli import app
from crawlers.browser import CHROMIUM_ARGS, find_chromium
from estimates.resellers import link_resellers
from reports import charts
from reports.html_report import Report, _buckets, series_step, write_report
from simulator.market import Market
from simulator.store import build_store
from storage.db import get_engine
from storage.models import offer_table, run_table

REPO = Path(__file__).resolve().parents[1]
ARTIFACT = REPO / "var" / "test-artifacts" / "report-html.png"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

SCRIPT_SELLER = "<script>alert(1)</script>"
IMG_SELLER = "<img src=x onerror=alert(2)>"
NEW_SELLER = "Seller's \"shop\" & <b>bold</b>"
HOSTILE_ERROR = "<img src=x onerror=alert(5)> \"quoted\" & 'single' </td></table>"
HOSTILE_OFFERS = ("<script>alert(3)</script> Instagram Followers",
                  "</td></tr></table><img src=x onerror=alert(4)> Likes",
                  "{{ 7*7 }} {% raw %} ${7*7} Views")


def site_columns() -> list[tuple[str, str]]:
    """(table, column) of every column that refers to a seller (``site.id``)."""
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (the tables)

    return [(table.name, column.name) for table in SQLModel.metadata.sorted_tables
            for column in table.columns
            if any(key.target_fullname == "site.id" for key in column.foreign_keys)]


@dataclass
class Built:
    engine: Engine
    database_url: str
    start: date
    end: date
    path: Path
    report: Report
    page_html: str


def rename_site(engine: Engine, old: str, new: str) -> None:
    """A seller id changed everywhere it is stored (foreign keys checked at the commit)."""
    with engine.begin() as connection:
        connection.execute(text("PRAGMA defer_foreign_keys = ON"))
        connection.execute(text("UPDATE site SET id = :new WHERE id = :old"),
                           {"new": new, "old": old})
        for table, column in site_columns():
            connection.execute(text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"),
                               {"new": new, "old": old})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("report-html")
    start = date(2026, 8, 24)
    market = Market(seed=3, n_panels=10, n_shops=3, start_date=start, catalogue_scale=0.3,
                    reseller_share=0.4)
    database_url = f"sqlite:///{root / 'store.db'}"
    days = 12
    build_store(market, database_url, days=days)
    end = start + timedelta(days=days)
    engine = get_engine(database_url)
    links = link_resellers(engine)
    assert links, "the market must hold a reseller chain for the report to show one"
    upstream = links[0].upstream_site_id
    other = next(site for site in (f"panel-0{n}" for n in range(1, 9))
                 if site not in {upstream, links[0].reseller_site_id})
    late = next(site for site in (f"panel-{n:02d}" for n in range(1, 11))
                if site not in {upstream, links[0].reseller_site_id, other})
    rename_site(engine, upstream, SCRIPT_SELLER)
    rename_site(engine, other, IMG_SELLER)
    rename_site(engine, late, NEW_SELLER)
    with engine.begin() as connection:
        # the second seller vanishes: its crawls of the last four days fail, with a hostile error
        connection.execute(update(run_table).where(
            run_table.c.site_id == IMG_SELLER,
            run_table.c.started_at >= datetime.combine(end - timedelta(days=3), time.min, UTC))
            .values(status="failed", offers_seen=0, error=HOSTILE_ERROR))
        # the third seller is new: its crawls of the first three days found nothing
        connection.execute(update(run_table).where(
            run_table.c.site_id == NEW_SELLER,
            run_table.c.started_at < datetime.combine(start + timedelta(days=3), time.min, UTC))
            .values(status="failed", offers_seen=0, error="connection refused"))
        # services with markup in their names, among those whose price moved
        moved = connection.execute(text(
            "SELECT offer_id FROM offer_event WHERE kind IN ('price_up', 'price_down') "
            "GROUP BY offer_id ORDER BY MAX(ABS(CAST(change_pct AS REAL))) DESC LIMIT 3")
        ).scalars().all()
        assert len(moved) == 3, "the simulated prices must move"
        for offer_id, name in zip(moved, HOSTILE_OFFERS, strict=True):
            connection.execute(update(offer_table).where(offer_table.c.id == offer_id)
                               .values(name=name))
    path = root / "report.html"
    report = write_report(engine, path, start=start, end=end)
    yield Built(engine, database_url, start, end, path, report, path.read_text("utf-8"))
    engine.dispose()


@pytest.fixture(scope="module")
def browser_page(built: Built):
    """The report opened in Chromium: (page, requests made, dialogs opened, console errors)."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                             args=list(CHROMIUM_ARGS), timeout=60_000)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900},
                                    java_script_enabled=True)
            page_url = built.path.as_uri()

            def route(request_route) -> None:
                requests.append(request_route.request.url)
                if request_route.request.url == page_url:
                    request_route.continue_()
                else:
                    request_route.abort()

            page.route("**/*", route)
            page.on("request", lambda request: requests.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(page_url, wait_until="load", timeout=60_000)
            page.wait_for_timeout(300)  # anything deferred (an onerror, a timer) has fired
            ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACT), full_page=True)
            yield page, page_url, requests, dialogs
        finally:
            browser.close()


# -- the file itself ------------------------------------------------------------------------

def test_the_file_holds_no_script_no_handler_and_no_link_out(built: Built) -> None:
    document = lxml.html.document_fromstring(built.page_html)
    assert document.xpath("//script") == []
    forbidden = {"script", "foreignobject", "iframe", "object", "embed", "img", "image", "link",
                 "audio", "video", "source", "base", "form"}
    assert [element.tag for element in document.iter()
            if str(element.tag).rsplit("}", 1)[-1].lower() in forbidden] == []
    for element in document.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            if name.lower().rsplit("}", 1)[-1] in ("href", "src", "action", "xlink:href"):
                assert value.startswith("#"), (element.tag, name, value)
    meta = document.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert meta == [CSP]
    # no style loads anything (URLs in the text, such as a discovery source, are only text)
    assert re.findall(r"url\((?!#)", built.page_html) == []
    assert "@import" not in built.page_html


def test_every_hostile_string_is_text(built: Built) -> None:
    document = lxml.html.document_fromstring(built.page_html)
    shown = document.text_content()
    for hostile in (SCRIPT_SELLER, IMG_SELLER, NEW_SELLER, HOSTILE_ERROR, *HOSTILE_OFFERS):
        assert hostile in shown, hostile
        assert hostile not in built.page_html or "<" not in hostile, hostile  # escaped in the file
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in built.page_html
    assert "{{ 7*7 }}" in shown  # data is never a template


def test_every_section_chart_and_table_names_its_method_and_inputs(built: Built) -> None:
    keys = [section.key for section in built.report.sections]
    assert keys == ["prices", "market", "changes", "resellers", "budget", "health"]
    for section in built.report.sections:
        for item in [*section.charts, *section.tables]:
            assert item.method.strip() and item.inputs.strip(), (section.key, item.title)
    document = lxml.html.document_fromstring(built.page_html)
    figures = document.xpath("//figure")
    tables = sum(len(section.tables) for section in built.report.sections)
    assert len(figures) == built.report.chart_count >= 10
    for figure in figures:
        caption = figure.xpath(".//figcaption")[0].text_content()
        assert "Method:" in caption and "Inputs:" in caption
    assert len(document.xpath("//h3")) == tables
    assert len(document.xpath("//p[@class='method']")) == built.report.chart_count + tables


def test_the_sections_hold_what_the_store_holds(built: Built) -> None:
    """Market size by both months of the range, the hostile upstream in the chains, the
    vanished seller with its error, price moves of the renamed services."""
    sections = {section.key: section for section in built.report.sections}
    revenue = sections["market"].tables[0]
    assert revenue.columns == ("platform", "2026-08", "2026-09")
    assert revenue.rows[0][0] == "all platforms"
    sellers = sections["market"].tables[1].rows
    assert [row[0] for row in sellers] == ["2026-08", "2026-09"]
    assert all(int(row[3]) <= int(row[4]) <= int(row[5]) for row in sellers)
    chains = sections["resellers"].tables[0].rows
    assert SCRIPT_SELLER in {row[0] for row in chains}
    new, vanished = sections["changes"].tables[2], sections["changes"].tables[3]
    assert [row[0] for row in vanished.rows] == [IMG_SELLER]
    assert vanished.rows[0][4:] == ("failed", HOSTILE_ERROR)
    assert [(row[0], row[3]) for row in new.rows] == [
        (NEW_SELLER, (built.start + timedelta(days=3)).isoformat())]
    moves = {row[2] for row in sections["changes"].tables[0].rows}
    assert set(HOSTILE_OFFERS) <= moves
    budget = sections["budget"].tables[0].rows
    for row in budget:  # $10 buys more at the cheapest price than at the median
        cheapest, median = (int(cell.replace(",", "")) for cell in row[2:4])
        assert cheapest >= median > 0
    health = sections["health"].tables[0].rows
    assert health[0][0] == IMG_SELLER and health[0][4] == "4"  # most failures first


# -- in the browser -------------------------------------------------------------------------

def test_no_request_leaves_the_page_and_nothing_runs(browser_page) -> None:
    page, page_url, requests, dialogs = browser_page
    assert set(requests) == {page_url}
    assert dialogs == []
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.images.length") == 0
    # the hostile names are on the page as text
    body = page.evaluate("document.body.innerText")
    assert SCRIPT_SELLER in body and IMG_SELLER in body


def test_every_chart_renders(browser_page, built: Built) -> None:
    page, *_ = browser_page
    boxes = page.evaluate(
        "Array.from(document.querySelectorAll('figure svg')).map(svg => {"
        " const box = svg.getBoundingClientRect();"
        " return [box.width, box.height, svg.querySelectorAll('path').length]; })")
    assert len(boxes) == built.report.chart_count
    for width, height, paths in boxes:
        assert width > 100 and height > 100 and paths > 10, boxes
    assert ARTIFACT.stat().st_size > 50_000


# -- the charts on their own ----------------------------------------------------------------

@pytest.mark.parametrize("svg", [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    '<use xlink:href="http://evil.example/x.svg#a"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><use href="data:image/svg+xml,x"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url(http://e.example/a)"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><style>@import "http://e.example/a.css";</style>'
    '</svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><image href="#x"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>',
    '<html><body/></html>',
], ids=["script", "onload", "external-use", "data-use", "foreign-object", "style-url",
        "import", "image", "not-well-formed", "not-svg"])
def test_an_unsafe_svg_is_refused(svg: str) -> None:
    with pytest.raises(charts.UnsafeSvg):
        charts.checked_svg(svg)


def test_a_chart_is_a_safe_svg_with_its_own_ids_and_dollar_signs_as_text() -> None:
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(5)]
    first = charts.band_chart("a1", "$10 <b>", days, [1, 2, 3, 2, 1], [0.5] * 5, [4] * 5,
                              ylabel="USD per 1000")
    second = charts.horizontal_bars("b2", "x", ["a", "b"], ["one", "two"],
                                    [[10.0, 1000.0], [None, 50.0]], xlabel="units", log=True)
    for svg, prefix in ((first, "a1"), (second, "b2")):
        root = ElementTree.fromstring(svg)
        ids = [element.get("id") for element in root.iter() if element.get("id")]
        assert ids and all(name.startswith(f"{prefix}-") for name in ids)
        assert "mathdefault" not in svg  # log-axis labels are plain text
        assert "<metadata" not in svg and "http://purl.org" not in svg
    assert "<!-- $10 &lt;b&gt; -->" in first  # the title as text (drawn as glyph paths)


@pytest.mark.parametrize(("start", "end", "by", "expected"), [
    (date(2026, 1, 1), date(2026, 1, 3), "day",
     [(date(2026, 1, 1), date(2026, 1, 1)), (date(2026, 1, 2), date(2026, 1, 2)),
      (date(2026, 1, 3), date(2026, 1, 3))]),
    (date(2026, 1, 1), date(2026, 1, 12), "week",  # 2026-01-01 is a Thursday
     [(date(2026, 1, 1), date(2026, 1, 4)), (date(2026, 1, 5), date(2026, 1, 11)),
      (date(2026, 1, 12), date(2026, 1, 12))]),
    (date(2025, 12, 15), date(2026, 2, 3), "month",
     [(date(2025, 12, 15), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 1, 31)),
      (date(2026, 2, 1), date(2026, 2, 3))]),
])
def test_periods_of_the_series(start, end, by, expected) -> None:
    assert _buckets(start, end, by) == expected


@pytest.mark.parametrize(("days", "by"), [(1, "day"), (92, "day"), (93, "week"), (731, "week"),
                                          (732, "month")])
def test_the_series_step_follows_the_range(days: int, by: str) -> None:
    start = date(2026, 1, 1)
    assert series_step(start, start + timedelta(days=days - 1)) == by


# -- the command ----------------------------------------------------------------------------

def test_the_command_writes_the_file(built: Built, tmp_path: Path) -> None:
    output = tmp_path / "short.html"
    result = CliRunner().invoke(app, ["report", "html", "--from", str(built.end - timedelta(2)),
                                      "--to", str(built.end), "-o", str(output),
                                      "--database-url", built.database_url])
    assert result.exit_code == 0, result.output
    assert f"wrote {output}" in result.stderr
    page = output.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.replace(
        "&lt;script", "")
    assert not list(tmp_path.glob("*.partial"))
    # the folder the report sits in holds only the report: nothing to ship beside it
    assert [path.name for path in tmp_path.iterdir()] == ["short.html"]


# -- other ranges and databases -------------------------------------------------------------

def test_a_range_without_data_says_so_in_every_section(built: Built, tmp_path: Path) -> None:
    report = write_report(built.engine, tmp_path / "empty.html", start=date(2020, 1, 1),
                          end=date(2020, 1, 31))
    assert report.chart_count == 0
    sections = {section.key: section for section in report.sections}
    for key in ("prices", "market", "budget", "health"):
        assert sections[key].notes, key
    assert "no estimate" in sections["market"].notes[0]
    page = (tmp_path / "empty.html").read_text("utf-8")
    assert "No per-1000 panel prices were observed from 2020-01-01 to 2020-01-31." in page


@pytest.mark.postgres
def test_the_report_reads_postgresql_too(postgres_url: str, tmp_path: Path) -> None:
    start = date(2026, 8, 30)
    market = Market(seed=3, n_panels=5, n_shops=1, start_date=start, catalogue_scale=0.2)
    build_store(market, postgres_url, days=3)
    engine = get_engine(postgres_url)
    try:
        report = write_report(engine, tmp_path / "pg.html", start=start,
                              end=start + timedelta(days=3))
    finally:
        engine.dispose()
    sections = {section.key: section for section in report.sections}
    assert len(sections["prices"].charts) == 6
    assert sections["budget"].tables[0].rows and sections["health"].charts
    assert [row[1] for row in sections["health"].tables[0].rows] == ["4"] * 6
    assert sections["changes"].tables[1].rows  # new offers at least
    charts.checked_svg(sections["prices"].charts[0].svg)
