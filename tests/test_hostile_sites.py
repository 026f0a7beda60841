"""The hostile-site suite (issue 14): one loopback server (tests/hostile_site.py) that
redirects, drips, bombs and echoes; one test (or parametrized case) per class of hostility,
crawled through the real runner (a child process, as in production) or the real command."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from crawlers.runner import CrawlProcessResult, run_crawl
from reports.runs import latest_runs
from storage.db import get_engine, migrate
from tests import hostile_site
from tests.hostile_site import API_KEY, API_KEY_ENV, HostileSite, start_hostile_pair

POLITENESS = {"obey_robots_txt": False, "download_delay": 0.0, "concurrency": 2,
              "autothrottle": False, "timeout_seconds": 20, "retries": 0}


@pytest.fixture(scope="module")
def hosts() -> Iterator[tuple[HostileSite, HostileSite]]:
    site, other = start_hostile_pair()
    try:
        yield site, other
    finally:
        site.stop()
        other.stop()


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_KEY_ENV, API_KEY)


def write_sites(path: Path, sites: list[dict[str, Any]], **defaults: Any) -> Path:
    path.write_text(yaml.safe_dump({"defaults": {"politeness": POLITENESS, **defaults},
                                    "sites": sites}), encoding="utf-8")
    return path


def crawl(tmp_path: Path, sites: list[dict[str, Any]], *, database_url: str | None = None,
          **options: Any) -> tuple[dict[str, dict[str, Any]], CrawlProcessResult, Any]:
    """Crawl ``sites`` through the real runner; the latest run per site, the process result
    and the engine."""
    sites_path = write_sites(tmp_path / "sites.yaml", sites, **options.pop("defaults", {}))
    database_url = database_url or f"sqlite:///{tmp_path / 'hostile.db'}"
    engine = get_engine(database_url)
    migrate(engine)
    result = run_crawl([site["id"] for site in sites], sites_path=sites_path,
                       database_url=database_url, timeout_seconds=120, **options)
    runs = {run["site_id"]: run for run in latest_runs(engine, site_ids=[s["id"] for s in sites])}
    return runs, result, engine


def api_site(site_id: str, base: str) -> dict[str, Any]:
    return {"id": site_id, "url": base + "/", "family": "smm_api", "currency": "USD",
            "api_key_env": API_KEY_ENV}


def stored_text(engine: Any) -> str:
    """Everything a run stored that could carry a secret, as one text."""
    with engine.connect() as connection:
        return " ".join(str(row) for table in ("site", "crawl_run", "rejected_offer", "offer")
                        for row in connection.execute(text(f"SELECT * FROM {table}")))


# -- class 1: API keys never leave the seller's host ------------------------------------------

REDIRECT_CASES = [(family, status) for family in ("smm_api", "smm_html")
                  for status in (301, 302, 303, 307, 308)]


def redirect_site(site: HostileSite, family: str, status: int) -> dict[str, Any]:
    site_id = f"{family.replace('_', '-')}-{status}"
    if family == "smm_api":
        return api_site(site_id, site.url(f"/api-{status}"))
    return {"id": site_id, "url": site.url(f"/html-{status}/"), "family": "smm_html",
            "currency": "USD"}


@pytest.fixture(scope="module")
def secrets_crawl(hosts, tmp_path_factory):
    """One crawl process for the redirect and echo cases (a process start costs seconds)."""
    site, other = hosts
    os.environ[API_KEY_ENV] = API_KEY
    sites = [redirect_site(site, family, status) for family, status in REDIRECT_CASES]
    sites += [api_site("moved", site.url("/api-same-host-307"))]
    before = len(other.requests)
    runs, result, engine = crawl(tmp_path_factory.mktemp("secrets"), sites)
    return runs, result, engine, other.requests[before:]


@pytest.mark.parametrize(("family", "status"), REDIRECT_CASES)
def test_a_redirect_to_another_host_is_refused(secrets_crawl, hosts, family, status):
    site, other = hosts
    runs, _, engine, other_received = secrets_crawl
    run = runs[redirect_site(site, family, status)["id"]]
    # Nothing ever reached the other host: no POST with the key, no list read from it.
    assert other_received == []
    assert run["status"] == "failed", run
    assert f"redirect (HTTP {status}) to {other.base_url}" in run["error"], run["error"]
    assert "refused" in run["error"]
    assert run["offers_seen"] == 0
    with engine.connect() as connection:
        stats = connection.execute(text("SELECT stats FROM crawl_run WHERE id = :id"),
                                   {"id": run["id"]}).scalar_one()
    stats = json.loads(stats) if isinstance(stats, str) else stats
    assert stats["offsite/redirects_refused"] >= 1, stats


def test_a_redirect_on_the_same_site_is_followed(secrets_crawl):
    runs = secrets_crawl[0]
    assert runs["moved"]["status"] == "succeeded", runs["moved"]
    assert runs["moved"]["offers_seen"] == len(hostile_site.SERVICES)


def test_a_key_echoed_back_is_never_stored_or_logged(tmp_path, hosts):
    site, _ = hosts
    runs, result, engine = crawl(tmp_path, [api_site("echo", site.url("/api-echo"))])
    run = runs["echo"]
    assert run["status"] == "failed", run
    assert "Invalid API key: key=***" in run["error"], run["error"]
    assert API_KEY not in stored_text(engine)
    assert "Invalid API key" in result.stderr_tail  # the error was logged...
    assert API_KEY not in result.stderr_tail  # ...without the key


@pytest.mark.postgres
def test_the_database_password_is_not_in_the_crawl_process_arguments(tmp_path, hosts,
                                                                     postgres_url):
    site, _ = hosts
    password = "hunter2-Secret"
    database_url = postgres_url.replace("postgres@", f"postgres:{password}@")
    seen: dict[str, bytes] = {}

    def look_at_child(pid: int) -> None:
        seen["cmdline"] = Path(f"/proc/{pid}/cmdline").read_bytes()
        seen["environ"] = Path(f"/proc/{pid}/environ").read_bytes()

    runs, _, engine = crawl(tmp_path, [api_site("pg", site.url(""))],
                            database_url=database_url, on_spawn=look_at_child)
    engine.dispose()
    assert runs["pg"]["status"] == "succeeded", runs["pg"]  # the child reached the database
    assert b"crawlers.runner" in seen["cmdline"]
    assert password.encode() not in seen["cmdline"]  # what `ps` shows every user
    assert f"CLICKFARM_DATABASE_URL={database_url}".encode() in seen["environ"].split(b"\0")
    assert os.environ.get("CLICKFARM_DATABASE_URL") is None  # the parent's own is untouched


# -- class 7: deep or huge inputs -------------------------------------------------------------

def run_cli(*args: str, stdin: bytes | None = None, timeout: float = 120) -> Any:
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", "from clickfarm.cli import app; app()", *args],
                          input=stdin, capture_output=True, timeout=timeout)


DEEP = hostile_site.deep_json()
DEEP_INPUTS = {
    "smm_api": DEEP,
    "shopify": '{"products": ' + DEEP + "}",
    "woocommerce": DEEP,
    "storefront": ('<html><head><script type="application/ld+json">' + DEEP
                   + "</script></head><body></body></html>"),
}


@pytest.mark.parametrize("family", sorted(DEEP_INPUTS))
def test_json_nested_too_deep_is_a_clear_error(tmp_path, family):
    page = tmp_path / "deep.json"
    page.write_text(DEEP_INPUTS[family], encoding="utf-8")
    done = run_cli("extract", str(page), "--family", family)
    output = (done.stdout + done.stderr).decode()
    assert "Traceback" not in output and "RecursionError" not in output, output[-2000:]
    assert "nested too deep" in output, output[-2000:]
    if family != "storefront":  # a JSON-LD block is skipped with a note, the page read on
        assert done.returncode == 1, output[-2000:]


def test_a_huge_answer_is_refused_before_it_is_read(tmp_path):
    from clickfarm.extract_file import MAX_EXTRACT_BYTES

    answer = json.dumps([{**hostile_site.SERVICES[0], "service": n}
                         for n in range(MAX_EXTRACT_BYTES // 100)]).encode()
    assert len(answer) > MAX_EXTRACT_BYTES
    page = tmp_path / "huge.json"
    page.write_bytes(answer)
    for source, stdin in ((str(page), None), ("-", answer)):
        done = run_cli("extract", source, "--family", "smm_api", stdin=stdin)
        assert done.returncode == 1
        assert b"larger than 16 MB" in done.stderr and b"Traceback" not in done.stderr
        assert done.stdout == b""


def test_deep_json_in_a_shop_crawl_is_a_clear_failure(tmp_path, hosts):
    site, _ = hosts
    runs, _, _ = crawl(tmp_path, [{"id": "shop-deep", "url": site.url("/shop-deep/"),
                                   "family": "shopify", "currency": "USD"}])
    deep = runs["shop-deep"]
    assert deep["status"] == "failed", deep
    assert "JSON nested too deep" in deep["error"], deep["error"]
    assert "the price list was not fetched" not in deep["error"]


def test_a_shop_with_more_offers_than_max_offers_is_partial(tmp_path, hosts):
    site, _ = hosts
    runs, _, engine = crawl(tmp_path, [{
        "id": "shop-huge", "url": site.url("/shop-huge/"), "family": "shopify",
        "currency": "USD", "politeness": {**POLITENESS, "max_offers": 500}}])
    huge = runs["shop-huge"]
    assert huge["status"] == "partial", huge
    assert "more than 500 offers" in huge["error"], huge["error"]
    assert huge["offers_seen"] == 500 and huge["offers_removed"] == 0
    with engine.connect() as connection:
        stats = connection.execute(text("SELECT stats FROM crawl_run WHERE id = :id"),
                                   {"id": huge["id"]}).scalar_one()
    stats = json.loads(stats) if isinstance(stats, str) else stats
    assert stats["storage"]["complete_listing"] is False
    assert stats["offers/over_limit"] == hostile_site.HUGE_VARIANTS - 500


def test_max_offers_is_a_politeness_key(tmp_path):
    from core.config import load_config

    path = write_sites(tmp_path / "sites.yaml", [api_site("p", "http://127.0.0.1:9")])
    assert load_config(path).sites[0].politeness.max_offers == 50_000
    document = yaml.safe_load(path.read_text())
    document["sites"][0]["politeness"] = {"max_offers": 10}
    path.write_text(yaml.safe_dump(document))
    assert load_config(path).sites[0].politeness.max_offers == 10


@pytest.mark.parametrize("value", [0, -1, "many"])
def test_max_offers_is_validated(tmp_path, value):
    from core.config import ConfigError, load_config

    path = write_sites(tmp_path / "sites.yaml",
                       [api_site("p", "http://127.0.0.1:9")],
                       )
    document = yaml.safe_load(path.read_text())
    document["defaults"]["politeness"]["max_offers"] = value
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match="max_offers"):
        load_config(path)


# -- class 4: every network command ends within its timeout -----------------------------------
# The dripping page sends a chunk every 0.5 s for two minutes: a per-read timeout never trips.
# Each case gets a deadline of a few seconds; the bound asserted is generous (it is about
# ending at all, not about speed).

DRIP_BOUND_SECONDS = 60


def test_detect_on_a_dripping_page_stops_at_its_timeout(hosts):
    import subprocess

    site, _ = hosts
    try:
        done = run_cli("detect", site.url("/drip"), "--timeout", "3", timeout=DRIP_BOUND_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"detect with --timeout 3 still ran after {DRIP_BOUND_SECONDS} s")
    assert done.returncode != 0
    assert b"timed out: no complete answer within 3 s" in done.stderr, done.stderr
    assert b"Traceback" not in done.stderr


def test_a_discovery_fetch_of_a_dripping_page_stops_at_its_timeout(hosts):
    import time

    from crawlers.discovery.fetch import FetchError, fetch_page

    site, _ = hosts
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetch_page(site.url("/drip"), timeout=2)
    assert time.monotonic() - started < DRIP_BOUND_SECONDS


def test_a_dripping_webhook_stops_at_its_timeout(hosts):
    import time

    from core.config_sections import WebhookSinkConfig
    from scheduler.sinks import WebhookSink, describe_error

    site, _ = hosts
    sink = WebhookSink(WebhookSinkConfig(url=site.url("/drip"), timeout_seconds=1, retries=1))
    started = time.monotonic()
    try:
        with pytest.raises(Exception) as raised:
            sink.send({"id": 1, "kind": "test", "message": "hello"})
    finally:
        sink.close()
    assert time.monotonic() - started < DRIP_BOUND_SECONDS
    assert "timed out" in describe_error(raised.value), describe_error(raised.value)


def test_a_crawl_of_a_dripping_price_list_fails_at_the_site_timeout(tmp_path, hosts):
    site, _ = hosts
    runs, result, _ = crawl(tmp_path, [{
        "id": "drip", "url": site.url("/html-drip/"), "family": "smm_html", "currency": "USD",
        "politeness": {**POLITENESS, "timeout_seconds": 2}}])
    assert result.seconds < DRIP_BOUND_SECONDS
    assert runs["drip"]["status"] == "failed", runs["drip"]
    assert "took longer than 2.0 seconds" in runs["drip"]["error"], runs["drip"]["error"]
