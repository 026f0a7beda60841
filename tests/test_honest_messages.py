"""Messages that tell the truth (issue 15, item 3): durations people can read, what `db migrate`
applied, one line naming what failed when the database cannot be reached, "scheduler not
running" instead of past next-run times, one vocabulary for site statuses and column names,
and the currency a shop states in `detect`'s suggestion."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.duration_text import format_duration
from scheduler.health import after_run
from storage.alerts import alerts_by_id
from tests.run_history import T0, add_site, good_run, project, site_config


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
