"""Crawled text is data, never markup (issue 14, item 3).

Seller text such as ``Views [/] closing`` crashed ``clickfarm changes`` (Rich MarkupError),
``[non drop]`` vanished from tables, ``[link=...]`` became a clickable terminal link and
``:thumbs_up:`` an emoji. A store whose offers, sites, run errors and alerts carry such text is
run through every command that prints them: no traceback, the text shown as written.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clickfarm.cli import app
from storage import repository as repo
from storage.db import get_engine, migrate
from tests.run_history import T0, add_site, failed_run, good_run, offer

# Every kind of Rich markup a seller could write: a closing tag with nothing open (MarkupError),
# a tag-looking word (swallowed as a style), a hyperlink, a style, an emoji code.
HOSTILE = {
    "closing-tag": "Views [/] closing",
    "style-word": "Likes [non drop] HQ",
    "hyperlink": "[link=https://evil.example]x[/link] Followers",
    "style": "[bold red]Subscribers",
    "emoji-code": "Plays :thumbs_up: fast",
}
IDS = list(HOSTILE)
WIDE = {"COLUMNS": "250", "LINES": "50", "TERM": "dumb", "NO_COLOR": "1"}


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args), env=WIDE)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: {result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output and "MarkupError" not in result.output, result.output
    return result


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> dict[str, str]:
    """A SQLite store: shop-a's offers are named with every hostile text (listed on day 0,
    repriced on day 1); panels p0..p4 fail three times in a row, each with one hostile text
    as the error (alerts quote it); a promoted site has a hostile URL, source and id."""
    tmp = tmp_path_factory.mktemp("markup")
    url = f"sqlite:///{tmp / 'hostile.db'}"
    engine = get_engine(url)
    migrate(engine)
    add_site(engine, "shop-a")
    add_site(engine, "panel-b")

    def named(index: int, text: str, price: str):
        base = offer(f"o{index}", price)
        return dataclasses.replace(base, name=text, name_raw=text, category=text)

    good_run(engine, "shop-a", T0, listing=[named(i, t, "1.00")
                                            for i, t in enumerate(HOSTILE.values())])
    good_run(engine, "shop-a", T0 + timedelta(days=1),
             listing=[named(i, t, "2.00") for i, t in enumerate(HOSTILE.values())])
    # One failing panel per hostile text (alert messages are cut at 100 characters); their
    # alerts are created by `alerts check` in the test.
    for index, text in enumerate(HOSTILE.values()):
        add_site(engine, f"p{index}")
        good_run(engine, f"p{index}", T0, count=3)
        for n in (1, 2, 3):
            failed_run(engine, f"p{index}", T0 + timedelta(days=n), error=text)
    repo.upsert_site(engine, site_id="found-[non drop]",
                     url="https://found.example/[link=https://evil.example]x[/link]",
                     family="smm_html", currency=None, status="active",
                     discovered_via="https://dir.example/[bold red]list[/]", now=T0)
    engine.dispose()
    sites_file = tmp / "sites.yaml"
    sites_file.write_text(
        "sites:\n"
        "  - {id: shop-a, url: 'https://shop-a.example/', family: smm_api}\n"
        "  - {id: panel-b, url: 'https://panel-b.example/[/]', family: smm_api}\n",
        encoding="utf-8")
    return {"url": url, "sites": str(sites_file)}


def flat(output: str) -> str:
    """Table text with the borders and the line breaks of wrapped cells taken out."""
    return " ".join(output.replace("│", " ").replace("┃", " ").split())


@pytest.mark.parametrize("key", IDS, ids=IDS)
def test_changes_shows_offer_names_as_written(store, key):
    result = invoke("changes", "--since", "2026-08-01", "--database-url", store["url"])
    assert result.exit_code == 0, result.output
    assert flat(HOSTILE[key]) in flat(result.stdout)


def test_alerts_check_and_list_show_run_errors_as_written(store):
    checked = invoke("alerts", "check", "--at", "2026-09-04T13:00", "--database-url",
                     store["url"], "--sites-file", store["sites"])
    listed = invoke("alerts", "list", "--since", "3650d", "--database-url", store["url"])
    for result in (checked, listed):
        assert result.exit_code == 0, result.output
        for text in HOSTILE.values():
            assert flat(f"the last: {text}") in flat(result.stdout), (text, result.stdout)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("sites",), ["found-[non drop]", "https://found.example/[link=https://evil.example]x[/link]",
                      "https://panel-b.example/[/]"]),
        (("status",), ["found-[non drop]"]),
    ],
    ids=["sites", "status"],
)
def test_site_tables_show_text_as_written(store, command, expected):
    result = invoke(*command, "--database-url", store["url"], "--sites-file", store["sites"])
    assert result.exit_code == 0, result.output
    for text in expected:
        assert flat(text) in flat(result.stdout), text


def test_error_line_shows_the_value_as_written(store):
    result = invoke("sites", "promote", "[link=https://evil.example]x[/link] [/]",
                    "--database-url", store["url"])
    assert result.exit_code != 0
    assert "[link=https://evil.example]x[/link] [/]" in result.output


# --- extract: a saved API answer whose names, categories and values are hostile --------------

def api_answer(tmp_path: Path) -> Path:
    services = [{"service": index, "name": text, "category": text, "rate": "0.50",
                 "min": "10", "max": "1000", "type": "Default"}
                for index, text in enumerate(HOSTILE.values(), start=1)]
    services.append({"service": 99, "name": "IG Likes", "category": "IG",
                     "rate": "[bold red]1.00[/]", "min": "10", "max": "1000", "type": "Default"})
    path = tmp_path / "services.json"
    path.write_text(json.dumps(services, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("key", IDS, ids=IDS)
def test_extract_table_shows_names_as_written(tmp_path, key):
    result = invoke("extract", str(api_answer(tmp_path)), "--family", "smm_api",
                    "--currency", "USD", "--observed-at", "2026-09-01", "--format", "table")
    assert result.exit_code == 0, result.output
    assert flat(HOSTILE[key]) in flat(result.stdout)


def test_extract_rejections_on_stderr_show_the_value_as_written(tmp_path):
    result = invoke("extract", str(api_answer(tmp_path)), "--family", "smm_api",
                    "--currency", "USD", "--observed-at", "2026-09-01")
    assert result.exit_code == 0, result.output
    assert "rejected 99: bad price:" in result.stderr
    assert "[bold red]1.00[/]" in result.stderr
    assert f"{len(HOSTILE)} offers, 1 rejected" in result.stderr


def test_tables_on_any_console_show_cells_literally():
    """print_table itself escapes: a console that reads markup still shows the cells whole."""
    from rich.console import Console

    from reports.render import print_table

    console = Console(width=250, record=True, color_system=None)
    print_table(console, "title [/]", ["name", "n"], [[text, 1] for text in HOSTILE.values()],
                caption="caption [bold]x")
    shown = console.export_text()
    for text in [*HOSTILE.values(), "title [/]", "caption [bold]x"]:
        assert text in shown, text


def test_discover_summary_shows_directory_and_seller_text_as_written(capsys):
    """What `clickfarm discover` prints at the end, for a pass whose directory, sellers,
    skipped pages and landing errors all carry hostile text."""
    from clickfarm.cli_discovery import print_discovery_summary
    from crawlers.discovery.discover import DiscoveryOutcome, NewSite, Skipped

    texts = list(HOSTILE.values())
    outcome = DiscoveryOutcome(
        directories={f"https://dir.example/{texts[0]}": {
            "pages": 1, "entries": 2, "errors": [texts[1]], "truncated": False}},
        new_sites=[NewSite(id="new-1", url=f"https://new.example/{texts[2]}", family="smm_html",
                           currency=None, discovered_via=texts[3], detection={})],
        skipped=[Skipped(url="https://odd.example/", outcome="unknown", reason=texts[4],
                         sources=[])],
        landing_errors=[{"site_id": "new-1", "error": texts[0]}])
    print_discovery_summary(outcome)
    captured = capsys.readouterr()
    shown = flat(captured.out)
    for text in (f"https://dir.example/{texts[0]}", texts[1], f"https://new.example/{texts[2]}",
                 texts[3], texts[4]):
        assert flat(text) in shown, text
    assert f"landing page of new-1 not read: {texts[0]}" in captured.err
