"""Run health: each rule fires exactly when it should, on run histories built with the real
storage functions on a real database (SQLite and PostgreSQL), and on the simulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from core.config import Schedule
from scheduler.health import after_run, parse_duration, schedule_interval
from storage.alerts import alerts_by_id
from tests.run_history import (
    T0,
    add_site,
    failed_run,
    good_run,
    project,
    site_config,
)

SITE = "panel-h"
HTTP_500 = "https://panel-h.example/services: HTTP 500"
EMPTY = "empty price list: 0 offers where the last successful run saw 100; nothing was marked removed"


def build(engine: Engine, history: list[tuple]) -> int:
    """Runs one day apart; returns the id of the last. Steps:
    ("ok", offers[, rejected][, stats]) · ("partial", offers) · ("fail", error[, stats])
    · ("interrupted",)."""
    add_site(engine, SITE)
    run_id = 0
    for day, step in enumerate(history):
        at = T0 + timedelta(days=day)
        kind, *args = step
        if kind in ("ok", "partial"):
            count = args[0]
            rejected = args[1] if len(args) > 1 else 0
            stats = args[2] if len(args) > 2 else None
            run_id = good_run(engine, SITE, at, count=count, rejected=rejected, stats=stats,
                              status="succeeded" if kind == "ok" else "partial")
        elif kind == "fail":
            run_id = failed_run(engine, SITE, at, error=args[0],
                                stats=args[1] if len(args) > 1 else None)
        elif kind == "interrupted":
            run_id = failed_run(engine, SITE, at, error="crawl process 123 is gone",
                                status="interrupted")
        else:  # pragma: no cover - a typo in a table below
            raise ValueError(kind)
    return run_id


def firing_rules(engine: Engine, alert_ids: list[int]) -> set[str]:
    return {row["rule"] for row in alerts_by_id(engine, alert_ids)
            if row["details"]["state"] == "firing"}


CASES: list[tuple[str, list[tuple], set[str]]] = [
    ("steady", [("ok", 100), ("ok", 100), ("ok", 101)], set()),
    ("first-run-ever", [("ok", 100)], set()),
    ("empty-list-after-offers", [("ok", 100), ("fail", EMPTY)], {"no_offers"}),
    ("one-http-500", [("ok", 100), ("fail", HTTP_500)], {"no_offers"}),
    ("two-failures", [("ok", 100), ("fail", HTTP_500), ("fail", HTTP_500)],
     {"no_offers", "consecutive_failures"}),
    ("failures-around-an-interruption",
     [("ok", 100), ("fail", HTTP_500), ("interrupted",), ("fail", HTTP_500)],
     {"no_offers", "consecutive_failures"}),
    ("failures-broken-by-success", [("fail", HTTP_500), ("ok", 100), ("fail", HTTP_500)],
     {"no_offers"}),
    ("never-had-offers-fails-once", [("fail", HTTP_500)], set()),
    ("never-had-offers-fails-twice", [("fail", HTTP_500), ("fail", HTTP_500)],
     {"consecutive_failures"}),
    ("interrupted-is-not-judged", [("ok", 100), ("interrupted",)], set()),
    ("halved", [("ok", 100), ("ok", 100), ("ok", 100), ("ok", 49)], {"offers_halved"}),
    ("exactly-half-is-not-more-than-half", [("ok", 100), ("ok", 100), ("ok", 50)], set()),
    ("median-ignores-one-outlier",
     [("ok", 100), ("ok", 10), ("ok", 100), ("ok", 100), ("ok", 60)], set()),
    ("halved-against-the-median",
     [("ok", 100), ("ok", 10), ("ok", 100), ("ok", 100), ("ok", 45)], {"offers_halved"}),
    ("partial-counts-as-good", [("ok", 100), ("partial", 100)], set()),
    ("rejections-above-10pct", [("ok", 100), ("ok", 90, 11)], {"rejection_rate"}),
    ("rejections-at-10pct", [("ok", 100), ("ok", 90, 10)], set()),
    ("blocked-403-stats", [("ok", 100), ("fail", "https://x/: HTTP 403",
                                         {"blocked/http_403": 3})], {"blocked", "no_offers"}),
    ("blocked-429-in-error-only", [("ok", 100), ("fail", "https://x/services: HTTP 429")],
     {"blocked", "no_offers"}),
    ("captcha-on-a-good-run", [("ok", 100), ("ok", 100, 0, {"blocked/captcha": 1})],
     {"blocked"}),
    ("zero-counters-are-not-blocked", [("ok", 100), ("ok", 100, 0, {"blocked/http_429": 0})],
     set()),
    ("http-4030-is-not-403", [("ok", 100), ("ok", 100), ("fail", "error code HTTP 4030")],
     {"no_offers"}),
]


@pytest.mark.parametrize(("history", "expected"), [(h, e) for _, h, e in CASES],
                         ids=[name for name, _, _ in CASES])
def test_each_rule_fires_exactly_when_it_should(db_engine, history, expected):
    last = build(db_engine, history)
    created = after_run(db_engine, run_ids=[last], config=project(), now=T0 + timedelta(days=30))
    assert firing_rules(db_engine, created) == expected
    for row in alerts_by_id(db_engine, created):
        assert (row["kind"], row["site_id"], row["run_id"]) == ("health", SITE, last)
        assert row["message"].startswith(f"{SITE}: ")
        assert row["dedupe_key"] == f"health:{row['rule']}:{SITE}"


def test_alert_details_say_why(db_engine):
    last = build(db_engine, [("ok", 100), ("ok", 120), ("ok", 80), ("ok", 30, 10)])
    created = after_run(db_engine, run_ids=[last], config=project(), now=T0)
    by_rule = {row["rule"]: row for row in alerts_by_id(db_engine, created)}
    assert set(by_rule) == {"offers_halved", "rejection_rate"}
    halved = by_rule["offers_halved"]
    assert halved["severity"] == "warning"
    assert halved["details"]["median"] == 100 and halved["details"]["offers_seen"] == 30
    assert "-70%" in halved["message"]
    assert by_rule["rejection_rate"]["details"]["rate"] == 0.25


def test_thresholds_come_from_the_config(db_engine):
    last = build(db_engine, [("ok", 100), ("ok", 100), ("ok", 70, 5), ("fail", HTTP_500)])
    strict = project(health={"consecutive_failures": 1, "rejection_rate": 0.01,
                             "offers_drop_share": 0.2})
    created = after_run(db_engine, run_ids=[last], config=strict, now=T0)
    assert firing_rules(db_engine, created) == {"no_offers", "consecutive_failures"}
    previous = last - 1  # the 70-offer run, judged with the strict thresholds
    created = after_run(db_engine, run_ids=[previous], config=strict, now=T0)
    assert firing_rules(db_engine, created) == {"offers_halved", "rejection_rate"}


# --- stale sites -----------------------------------------------------------------------------


@pytest.mark.parametrize(("schedule", "age", "stale"), [
    ({"interval": "1d"}, timedelta(days=3) - timedelta(minutes=1), False),
    ({"interval": "1d"}, timedelta(days=3) + timedelta(minutes=1), True),
    ({"interval": "1d", "jitter": "10m"}, timedelta(days=3, minutes=5), False),
    ({"interval": "1d", "jitter": "10m"}, timedelta(days=3, minutes=11), True),
    ({"interval": "30m"}, timedelta(minutes=89), False),
    ({"interval": "30m"}, timedelta(minutes=91), True),
    ({"interval": None, "cron": "0 */6 * * *"}, timedelta(hours=17), False),
    ({"interval": None, "cron": "0 */6 * * *"}, timedelta(hours=19), True),
    # T0 is Tuesday 12:00; a weekday cron at 12:00 plans Wed, Thu, Fri, then Monday.
    ({"interval": None, "cron": "0 12 * * 1-5"}, timedelta(days=3) - timedelta(minutes=1), False),
    ({"interval": None, "cron": "0 12 * * 1-5"}, timedelta(days=3, minutes=1), True),
    # Tue-Thu: after Tuesday it plans Wed, Thu, then Tuesday next week (the long gap counts
    # once; "3 x the next gap" said stale on Monday, with one day between the next two runs).
    ({"interval": None, "cron": "0 12 * * 2-4"}, timedelta(days=6, minutes=10), False),
    ({"interval": None, "cron": "0 12 * * 2-4"}, timedelta(days=7, minutes=1), True),
], ids=["1d-just-inside", "1d-just-over", "jitter-inside", "jitter-over", "30m-inside",
        "30m-over", "cron-6h-inside", "cron-6h-over", "weekdays-inside", "weekdays-over",
        "weekend-gap-is-one-interval", "weekend-gap-then-over"])
def test_stale_after_three_intervals_without_success(db_engine, schedule, age, stale):
    add_site(db_engine, SITE)
    good_run(db_engine, SITE, T0, count=10)
    failed_run(db_engine, SITE, T0 + age / 2)  # a failure does not count as a crawl on time
    config = project([site_config(SITE, **{"jitter": "0m", **schedule})])
    created = after_run(db_engine, run_ids=[], config=config, now=T0 + age)
    assert firing_rules(db_engine, created) == ({"stale"} if stale else set())


def test_stale_covers_every_scheduled_site_not_only_the_runs_judged(db_engine):
    for site_id in ("fresh", "old", "never-ok"):
        add_site(db_engine, site_id)
    good_run(db_engine, "fresh", T0 + timedelta(days=9), count=5)
    good_run(db_engine, "old", T0, count=5)
    failed_run(db_engine, "never-ok", T0 + timedelta(days=9))
    config = project([site_config("fresh"), site_config("old"), site_config("never-ok"),
                      site_config("never-crawled")])
    fresh_run = good_run(db_engine, "fresh", T0 + timedelta(days=10), count=5)
    created = after_run(db_engine, run_ids=[fresh_run], config=config,
                        now=T0 + timedelta(days=10))
    rows = alerts_by_id(db_engine, created)
    assert sorted((row["rule"], row["site_id"]) for row in rows) == [
        ("stale", "never-ok"), ("stale", "old")]
    never_ok = next(row for row in rows if row["site_id"] == "never-ok")
    assert "no successful run since it was added" in never_ok["message"]


def test_disabled_sites_are_not_stale_but_promoted_sites_are(db_engine):
    add_site(db_engine, "off")
    promoted = site_config("found-1", interval="1h").public_dict()
    add_site(db_engine, "found-1", discovered_via="https://directory.example/?page=2",
             config=promoted)
    # promoted but never crawled: no stored schedule, so the default (1d, jitter 10m)
    add_site(db_engine, "found-2", discovered_via="https://seller.example/partners")
    config = project([site_config("off").model_copy(update={"enabled": False})])
    created = after_run(db_engine, run_ids=[], config=config, now=T0 + timedelta(hours=4))
    assert [(row["rule"], row["site_id"]) for row in alerts_by_id(db_engine, created)] == [
        ("stale", "found-1")]
    created = after_run(db_engine, run_ids=[], config=config,
                        now=T0 + timedelta(days=3, minutes=11))
    assert [(row["rule"], row["site_id"]) for row in alerts_by_id(db_engine, created)] == [
        ("stale", "found-2")]


@pytest.mark.parametrize("change", ["removed", "disabled"])
def test_a_stale_alert_resolves_when_its_site_leaves_the_schedule(db_engine, change):
    for site_id in ("gone", "kept"):
        add_site(db_engine, site_id)
        good_run(db_engine, site_id, T0, count=5)
    config = project([site_config("gone"), site_config("kept")])
    created = after_run(db_engine, run_ids=[], config=config, now=T0 + timedelta(days=4))
    assert sorted(row["site_id"] for row in alerts_by_id(db_engine, created)) == ["gone", "kept"]
    remaining = [site_config("kept")] + (
        [site_config("gone").model_copy(update={"enabled": False})] if change == "disabled"
        else [])
    created = after_run(db_engine, run_ids=[], config=project(remaining),
                        now=T0 + timedelta(days=5))
    [resolved] = alerts_by_id(db_engine, created)
    assert (resolved["site_id"], resolved["rule"], resolved["details"]["state"]) == (
        "gone", "stale", "resolved")
    assert "no longer scheduled" in resolved["message"]
    assert after_run(db_engine, run_ids=[], config=project(remaining),
                     now=T0 + timedelta(days=6)) == []  # resolved once, "kept" still firing


@pytest.mark.parametrize("schedule", [
    {"interval": None, "cron": "61 * * * *"}, {"interval": "soon"}, {"jitter": "a bit"}],
    ids=["cron-minute-61", "interval-word", "jitter-word"])
def test_one_unreadable_schedule_does_not_stop_the_stale_check_of_the_others(db_engine, schedule):
    for site_id in ("typo", "old"):
        add_site(db_engine, site_id)
        good_run(db_engine, site_id, T0, count=5)
    config = project([site_config("typo", **schedule), site_config("old")])
    created = after_run(db_engine, run_ids=[], config=config, now=T0 + timedelta(days=4))
    assert [(row["rule"], row["site_id"]) for row in alerts_by_id(db_engine, created)] == [
        ("stale", "old")]


@pytest.mark.parametrize(("text", "expected"), [
    ("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)), ("6h", timedelta(hours=6)),
    ("1d", timedelta(days=1)), ("2w", timedelta(days=14)), ("1h30m", timedelta(minutes=90)),
    ("1.5h", timedelta(minutes=90)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "-5", "3 days", "1x"])
def test_parse_duration_rejects_nonsense(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_cron_interval_is_the_gap_between_the_next_two_fire_times():
    assert schedule_interval(Schedule(interval=None, cron="30 2 * * *"), now=T0) == timedelta(days=1)
    assert schedule_interval(Schedule(interval=None, cron="*/15 * * * *"),
                             now=T0) == timedelta(minutes=15)
    assert schedule_interval(Schedule(interval=None, cron=None), now=T0) is None


# --- the simulator: a broken price list raises an alert on the first run after it -------------


@pytest.mark.slow
def test_a_broken_price_list_raises_an_alert_on_the_first_run_after_it(tmp_path):
    from tests.simulated import start_simulated

    setup = start_simulated(tmp_path, seed=5, panels=6)  # panel-01..03: /services pages
    try:
        config = project()
        html_sites = ["panel-01", "panel-02"]
        first = setup.crawl(site_ids=html_sites)
        assert {run["status"] for run in first} == {"succeeded"}
        assert after_run(setup.engine, run_ids=[r["id"] for r in first], config=config,
                         now=T0) == []

        setup.market.advance(days=1)
        # layout_change renders the services page with another theme: the extractor maps
        # columns by header text, so the listing is still read (no alert is the right answer);
        # no_table replaces the price list with a maintenance page: the listing is broken.
        setup.market.inject_fault("panel-01", "layout_change", day=setup.market.day)
        setup.market.inject_fault("panel-02", "no_table", day=setup.market.day)
        second = {run["site_id"]: run for run in setup.crawl(site_ids=html_sites)}
        created = after_run(setup.engine, run_ids=[r["id"] for r in second.values()],
                            config=config, now=T0 + timedelta(days=1))
        rows = alerts_by_id(setup.engine, created)
        assert second["panel-01"]["status"] == "succeeded"
        # every service the simulator lists that day was read, in the other theme
        assert second["panel-01"]["offers_seen"] == len(setup.market.active_services("panel-01"))
        assert [(row["rule"], row["site_id"], row["severity"]) for row in rows] == [
            ("no_offers", "panel-02", "critical")]
        assert rows[0]["run_id"] == second["panel-02"]["id"]
        assert "no price table" in rows[0]["message"]

        # the fault was for that day only: the next run is clean and the alert resolves
        setup.market.advance(days=1)
        third = setup.crawl(site_ids=html_sites)
        created = after_run(setup.engine, run_ids=[r["id"] for r in third], config=config,
                            now=T0 + timedelta(days=2))
        assert [(row["rule"], row["site_id"], row["details"]["state"])
                for row in alerts_by_id(setup.engine, created)] == [
            ("no_offers", "panel-02", "resolved")]
    finally:
        setup.server.stop()
