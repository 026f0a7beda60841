"""Messages that tell the truth (issue 15, item 3): durations people can read, what `db migrate`
applied, one line naming what failed when the database cannot be reached, "scheduler not
running" instead of past next-run times, one vocabulary for site statuses and column names,
and the currency a shop states in `detect`'s suggestion."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from clickfarm.cli import app
from core.duration_text import format_duration
from scheduler.health import after_run
from storage.alerts import alerts_by_id
from tests.conftest import REPO_ROOT
from tests.run_history import T0, add_site, good_run, project, site_config

runner = CliRunner()


@pytest.mark.parametrize(("seconds", "text"), [
    (0.4, "0.4s"), (30, "30s"), (59.6, "1m"), (90, "1m 30s"), (3600, "1h"), (5400, "1h 30m"),
    (7190, "2h"), (86400, "1d"), (3 * 86400 + 4 * 3600, "3d 4h"), (14 * 86400, "14d"),
    (-30, "-30s"),
])
def test_durations_read_as_people_write_them(seconds, text):
    assert format_duration(seconds) == text
    assert format_duration(timedelta(seconds=seconds)) == text


def test_stale_alert_of_a_seconds_interval_says_the_interval(db_engine):
    add_site(db_engine, "fast")
    good_run(db_engine, "fast", T0, count=3)
    config = project([site_config("fast", interval="30s", jitter="0m")])
    created = after_run(db_engine, run_ids=[], config=config, now=T0 + timedelta(seconds=95))
    [alert] = alerts_by_id(db_engine, created)
    assert "1m 35s ago (allowed: 3 × 30s)" in alert["message"], alert["message"]
    assert "0m" not in alert["message"]


# --- db migrate says what it applied ---------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("postgres_url")


def test_db_migrate_says_what_it_applied_then_that_nothing_was_left(empty_url):
    from storage.db import head_revision

    first = runner.invoke(app, ["db", "migrate", "--database-url", empty_url])
    assert first.exit_code == 0, first.output
    head = head_revision()
    assert re.search(r"to an empty database: 0001, 0002, 0003(, \w+)*;", first.output)
    assert f"; now at revision {head}" in first.output
    assert "tables created (" in first.output
    created = re.search(r"tables created \(\d+\): ([\w,\s]+)", first.output)
    assert created, first.output
    names = [name.strip() for name in created.group(1).split(",") if name.strip()]
    assert names == sorted(names)  # in order, whatever tables later migrations add
    assert {"alert", "counter_reading", "crawl_run", "market_daily_estimate", "offer",
            "offer_event"} <= set(names)
    assert ("views created (7): v_counter_deltas, v_market_daily, v_market_daily_total, "
            "v_offer_changes, v_offer_current, v_price_history, v_run_summary") in first.output
    assert "up to date" not in first.output
    again = runner.invoke(app, ["db", "migrate", "--database-url", empty_url])
    assert again.exit_code == 0
    assert again.output.strip() == f"already at revision {head} (the latest): nothing to apply"


def test_db_migrate_from_an_older_revision_names_the_revisions_after_it(empty_url):
    from storage.db import get_engine, migrate

    engine = get_engine(empty_url)
    try:
        migrate(engine, "0002")
    finally:
        engine.dispose()
    upgrade = runner.invoke(app, ["db", "migrate", "--database-url", empty_url])
    assert upgrade.exit_code == 0, upgrade.output
    assert "to revision 0002: 0003, 0004, 0005, 0006" in upgrade.output
    # 0003 re-creates two views with more columns (not new); 0005 adds the market views.
    assert "views created (2): v_market_daily, v_market_daily_total" in upgrade.output
    assert "v_offer_current" not in upgrade.output


# --- a wrong host, port, password or database: one line naming what failed ----------------------

PASSWORD = "s3cret-Pw-77"


@pytest.fixture(scope="module")
def password_server():
    """A PostgreSQL server of its own whose TCP logins need a password (the suite's server
    trusts every login), with a role ``app``."""
    import subprocess

    from tests.postgres import start_server

    server = start_server()
    try:
        server.execute(f"CREATE ROLE app LOGIN PASSWORD '{PASSWORD}'")
        rules = ("local all all trust\nhost all postgres 127.0.0.1/32 trust\n"
                 "host all all 127.0.0.1/32 scram-sha-256\n")
        subprocess.run([*server.run_as, "sh", "-c",
                        f"printf '{rules}' > {server.data_dir / 'pg_hba.conf'}"], check=True)
        subprocess.run([*server.run_as, str(server.bin_dir / "pg_ctl"), "-D",
                        str(server.data_dir), "reload"], check=True, capture_output=True)
        yield server
    finally:
        server.stop()


def _connect_error(url: str) -> Exception:
    from sqlalchemy import text

    from storage.db import get_engine

    engine = get_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - the error is what the test is about
        return error
    finally:
        engine.dispose()
    raise AssertionError(f"{url} connected")


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_errors_are_one_line_naming_what_failed(password_server):
    from storage.errors import describe_connection_error, is_database_unavailable

    port = password_server.port
    closed = _closed_port()
    cases = [
        (f"postgresql+psycopg://app:wrong-{PASSWORD}@127.0.0.1:{port}/postgres",
         f"PostgreSQL at 127.0.0.1:{port} refused the login of user 'app' to database "
         f"'postgres': password authentication failed", False),
        (f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:{port}/clickfarm_nope",
         f"PostgreSQL at 127.0.0.1:{port} has no database 'clickfarm_nope'", False),
        (f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:{closed}/postgres",
         f"cannot connect to PostgreSQL at 127.0.0.1:{closed}: connection refused", True),
        (f"postgresql://app:{PASSWORD}@no-such-host.invalid:5432/postgres",
         "cannot resolve the database host 'no-such-host.invalid' (port 5432)", False),
    ]
    for url, expected, transient in cases:
        error = _connect_error(url)
        line = describe_connection_error(error, url)
        assert line.startswith(expected), (url, line)
        assert "\n" not in line and PASSWORD not in line and "Traceback" not in line
        assert is_database_unavailable(error) is transient, (url, line)
    # The URL may also come from DATABASE_URL.
    url = f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:{closed}/postgres"
    error = _connect_error(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        assert describe_connection_error(error).startswith(
            f"cannot connect to PostgreSQL at 127.0.0.1:{closed}")


def test_sqlite_errors_name_the_file(tmp_path):
    from sqlalchemy import create_engine, text

    from storage.errors import describe_connection_error

    url = f"sqlite:///{tmp_path}"  # a directory, not a database file
    # The driver's own error (storage.db.get_engine refuses a directory before connecting).
    engine = create_engine(url)
    with pytest.raises(Exception) as raised, engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
    line = describe_connection_error(raised.value, url)
    assert line == f"cannot use the SQLite database {tmp_path}: unable to open database file"


# --- one vocabulary -----------------------------------------------------------------------------

def _table_header(output: str) -> list[str]:
    header = next(line for line in output.splitlines() if line.count("┃") > 2)
    return [cell.strip() for cell in header.strip().strip("┃").split("┃")]


def _table_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        if line.count("│") > 2:
            cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
            rows[cells[0]] = cells
    return rows


def test_price_report_table_and_csv_name_the_columns_alike(tmp_path):
    url = f"sqlite:///{tmp_path / 'prices.db'}"
    from storage.db import get_engine, migrate

    engine = get_engine(url)
    migrate(engine)
    add_site(engine, "panel-p")
    good_run(engine, "panel-p", T0, count=3)
    engine.dispose()
    options = ["report", "prices", "--from", "2026-09-01", "--to", "2026-09-01",
               "--database-url", url]
    table = runner.invoke(app, options, env={"COLUMNS": "200"})
    csv_output = runner.invoke(app, [*options, "--format", "csv"])
    assert table.exit_code == 0 and csv_output.exit_code == 0, table.output + csv_output.output
    csv_header = csv_output.stdout.splitlines()[0].split(",")
    table_header = _table_header(table.output)
    assert "minimum" in table_header and "maximum" in table_header
    assert set(table_header) <= set(csv_header), (table_header, csv_header)


def test_sites_statuses_are_the_documented_ones(tmp_path):
    import yaml

    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(yaml.safe_dump({"sites": [
        {"id": "on", "url": "https://on.example/", "family": "smm_api"},
        {"id": "off", "url": "https://off.example/", "family": "smm_api", "enabled": False},
    ]}))
    url = f"sqlite:///{tmp_path / 'sites.db'}"
    assert runner.invoke(app, ["db", "migrate", "--database-url", url]).exit_code == 0
    result = runner.invoke(app, ["sites", "--sites-file", str(sites_file), "--database-url",
                                 url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    header = _table_header(result.output)
    rows = _table_rows(result.output)
    status = header.index("status")
    assert (rows["on"][status], rows["off"][status]) == ("active", "disabled")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    sites_row = next(line for line in readme.splitlines() if line.startswith("| `clickfarm sites`"))
    for word in ("active", "disabled", "discovered", "dead"):
        assert f"`{word}`" in sites_row


# --- status: is a scheduler running? ------------------------------------------------------------

def test_status_says_when_no_scheduler_is_running(tmp_path):
    from datetime import UTC, datetime

    import yaml

    from scheduler.resilience import beat
    from scheduler.service import run_service
    from storage.db import get_engine

    url = f"sqlite:///{tmp_path / 'status.db'}"
    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(yaml.safe_dump({"sites": [
        {"id": "hourly", "url": "https://hourly.example/", "family": "smm_api",
         "schedule": {"interval": "1h", "jitter": "0s"}}]}))
    options = ["status", "--sites-file", str(sites_file), "--database-url", url]
    assert runner.invoke(app, ["db", "migrate", "--database-url", url]).exit_code == 0

    never = runner.invoke(app, options, env={"COLUMNS": "200"})
    assert never.exit_code == 0, never.output
    assert "scheduler not running (no scheduler has run on this database)" in never.output

    # A scheduler ran and stopped: its job store still holds a next run nobody will keep.
    run_service(sites_path=sites_file, database_url=url, once_for=2,
                install_signal_handlers=False)
    stopped = runner.invoke(app, options, env={"COLUMNS": "200"})
    assert "scheduler not running (stopped " in stopped.output, stopped.output
    next_run = _table_header(stopped.output).index("next run")
    assert _table_rows(stopped.output)["hourly"][next_run] == "-"

    # A live scheduler (this process beating): the next run is shown.
    engine = get_engine(url)
    now = datetime.now(UTC)
    beat(engine, started_at=now, now=now)
    running = runner.invoke(app, options, env={"COLUMNS": "200"})
    assert "scheduler running on " in running.output, running.output
    assert _table_rows(running.output)["hourly"][next_run] != "-"
    as_json = runner.invoke(app, [*options, "--format", "json"])
    assert '"scheduler_running": true' in as_json.output

    # One that stopped beating (killed, hung): not running, and why.
    beat(engine, started_at=now, now=now - timedelta(minutes=5))
    engine.dispose()
    dead = runner.invoke(app, options, env={"COLUMNS": "200"})
    assert re.search(r"scheduler not running \(its last beat was 5m( \d+s)? ago", dead.output), \
        dead.output
    assert "killed or hung" in dead.output
    assert _table_rows(dead.output)["hourly"][next_run] == "-"


# --- detect suggests the currency the shop states -------------------------------------------------

def test_detect_suggests_the_currency_the_site_states():
    import yaml

    from simulator import Market, SimulatorServer

    market = Market(seed=42, n_panels=8, n_shops=10)
    server = SimulatorServer(market).start()
    try:
        families = {site_id: shop.config_family for site_id, shop in market.shops.items()}
        # WooCommerce (Store API), a storefront (product page), a panel (services page).
        chosen = [next(s for s, family in families.items() if family == "woocommerce"
                       and market.shops[s].currency != "USD"),
                  next(s for s, family in families.items() if family == "storefront"
                       and market.shops[s].currency not in ("USD", "EUR")),
                  next(s for s, site in market.sites.items() if site.currency == "TRY")]
        for site_id in chosen:
            truth = (market.shops.get(site_id) or market.sites[site_id]).currency
            result = runner.invoke(app, ["detect", f"{server.base_url}/s/{site_id}/"])
            assert result.exit_code == 0, result.output
            assert f"currency: {truth} (from " in result.output, (site_id, result.output)
            entry_text = result.output.split("suggested config/sites.yaml entry:")[1]
            [entry] = yaml.safe_load(entry_text)["sites"]
            assert entry["currency"] == truth, (site_id, entry)
        # "$" alone does not say which dollar: no currency is guessed.
        dollar_panel = next(s for s, site in market.sites.items()
                            if site.currency == "USD" and site.family == "smm_html")
        result = runner.invoke(app, ["detect", f"{server.base_url}/s/{dollar_panel}/"])
        assert "currency: not stated" in result.output
        assert "currency:" not in result.output.split("suggested config/sites.yaml entry:")[1]
    finally:
        server.stop()
