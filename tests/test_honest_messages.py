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
    assert "alert, counter_reading, crawl_run, offer, offer_event" in first.output
    assert ("views created (5): v_counter_deltas, v_offer_changes, v_offer_current, "
            "v_price_history, v_run_summary") in first.output
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
    assert "to revision 0002: 0003" in upgrade.output
    # 0003 re-creates two views with more columns: no view is new.
    assert "views created" not in upgrade.output
