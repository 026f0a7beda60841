"""Alerts: dedupe of ongoing conditions, the sinks (log, JSON-lines file, a real webhook receiver
on loopback), failed deliveries, and the market rules."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.config_sections import AlertsConfig
from scheduler.health import after_run
from storage.alerts import alerts_by_id, list_alerts, open_alerts
from tests.run_history import (
    T0,
    add_site,
    closed_port_url,
    failed_run,
    good_run,
    offers,
    project,
    read_jsonl,
    webhook_receiver,
)

SITE = "panel-a"
HTTP_500 = "https://panel-a.example/services: HTTP 500"


def day(n: float):
    return T0 + timedelta(days=n)


def states(engine, alert_ids) -> list[tuple[str, str]]:
    return [(row["rule"], row["details"]["state"]) for row in alerts_by_id(engine, alert_ids)]


# --- dedupe and resolution -------------------------------------------------------------------


def test_an_ongoing_condition_is_sent_once_and_resolved_once(db_engine, tmp_path):
    jsonl = tmp_path / "alerts.jsonl"
    config = project(sinks={"log": False, "jsonl": str(jsonl)})
    add_site(db_engine, SITE)
    good_run(db_engine, SITE, day(0), count=100)

    timeline = [
        (failed_run, {"error": HTTP_500}, [("no_offers", "firing")]),
        (failed_run, {"error": HTTP_500}, [("consecutive_failures", "firing")]),
        (failed_run, {"error": HTTP_500}, []),  # both still firing: nothing new
        (good_run, {"count": 100}, [("no_offers", "resolved"),
                                    ("consecutive_failures", "resolved")]),
        (good_run, {"count": 100}, []),
        (failed_run, {"error": HTTP_500}, [("no_offers", "firing")]),  # a new episode
    ]
    for index, (make_run, arguments, expected) in enumerate(timeline, start=1):
        run_id = make_run(db_engine, SITE, day(index), **arguments)
        created = after_run(db_engine, run_ids=[run_id], config=config, now=day(index))
        assert states(db_engine, created) == expected, f"step {index}"

    lines = read_jsonl(jsonl)
    assert [(line["rule"], line["state"]) for line in lines] == [
        pair for _, _, expected in timeline for pair in expected]
    resolved = [line for line in lines if line["state"] == "resolved"]
    assert {line["severity"] for line in resolved} == {"info"}
    assert all(line["message"].startswith("resolved: panel-a: ") for line in resolved)
    assert [(a["rule"], a["site_id"]) for a in open_alerts(db_engine, kind="health")] == [
        ("no_offers", SITE)]


def test_resolved_alerts_are_kept_but_not_sent_when_notify_resolved_is_off(db_engine, tmp_path):
    jsonl = tmp_path / "alerts.jsonl"
    config = project(sinks={"log": False, "jsonl": str(jsonl)}, notify_resolved=False)
    add_site(db_engine, SITE)
    good_run(db_engine, SITE, day(0), count=100)
    failing = failed_run(db_engine, SITE, day(1), error=HTTP_500)
    after_run(db_engine, run_ids=[failing], config=config, now=day(1))
    healthy = good_run(db_engine, SITE, day(2), count=100)
    created = after_run(db_engine, run_ids=[healthy], config=config, now=day(2))
    assert states(db_engine, created) == [("no_offers", "resolved")]
    assert alerts_by_id(db_engine, created)[0]["deliveries"] == {
        "all": "not sent (notify_resolved is false)"}
    assert [(line["rule"], line["state"]) for line in read_jsonl(jsonl)] == [
        ("no_offers", "firing")]


def test_the_same_run_judged_twice_gives_no_second_alert(db_engine):
    add_site(db_engine, SITE)
    good_run(db_engine, SITE, day(0), count=100)
    failing = failed_run(db_engine, SITE, day(1), error=HTTP_500)
    assert states(db_engine, after_run(db_engine, run_ids=[failing], config=project(),
                                       now=day(1))) == [("no_offers", "firing")]
    assert after_run(db_engine, run_ids=[failing], config=project(), now=day(1)) == []


# --- sinks -----------------------------------------------------------------------------------


def test_the_jsonl_file_gets_one_object_per_alert(db_engine, tmp_path):
    jsonl = tmp_path / "nested" / "alerts.jsonl"
    add_site(db_engine, SITE)
    good_run(db_engine, SITE, day(0), count=100)
    run_id = failed_run(db_engine, SITE, day(1), error="https://x/: HTTP 403",
                        stats={"blocked/http_403": 2})
    created = after_run(db_engine, run_ids=[run_id],
                        config=project(sinks={"log": False, "jsonl": str(jsonl)}), now=day(1))
    lines = read_jsonl(jsonl)
    assert [line["id"] for line in lines] == created
    assert [line["rule"] for line in lines] == ["no_offers", "blocked"]
    blocked = lines[1]
    assert blocked == {
        "id": created[1], "created_at": day(1).isoformat(), "kind": "health", "rule": "blocked",
        "severity": "critical", "state": "firing", "site_id": SITE, "run_id": run_id,
        "message": f"panel-a: blocked in run {run_id}: http_403 x2",
        "details": {"signals": ["http_403 x2"]}, "dedupe_key": "health:blocked:panel-a"}
    assert [row["deliveries"] for row in alerts_by_id(db_engine, created)] == [
        {"jsonl": "ok"}, {"jsonl": "ok"}]


def test_the_log_sink_writes_one_line_per_alert(db_engine, caplog):
    add_site(db_engine, SITE)
    good_run(db_engine, SITE, day(0), count=100)
    run_id = failed_run(db_engine, SITE, day(1), error=HTTP_500)
    with caplog.at_level(logging.INFO, logger="clickfarm.alerts"):
        created = after_run(db_engine, run_ids=[run_id], config=project(sinks={"log": True}),
                            now=day(1))
    lines = [r for r in caplog.records if r.name == "clickfarm.alerts"]
    assert len(lines) == len(created) == 1
    assert lines[0].levelno == logging.ERROR  # critical
    assert "health/no_offers" in lines[0].getMessage() and SITE in lines[0].getMessage()


def test_the_webhook_receives_exactly_the_expected_alerts(db_engine, tmp_path):
    add_site(db_engine, SITE)
    add_site(db_engine, "panel-b")
    good_run(db_engine, SITE, day(0), count=100)
    good_run(db_engine, "panel-b", day(0), count=40)
    with webhook_receiver() as receiver:
        config = project(sinks={"log": False, "webhook": {
            "url": receiver.url, "timeout_seconds": 5,
            "headers": {"Authorization": "Bearer test-token"}}})
        runs = [failed_run(db_engine, SITE, day(1), error=HTTP_500),
                good_run(db_engine, "panel-b", day(1), count=40)]
        first = after_run(db_engine, run_ids=runs, config=config, now=day(1))
        runs = [failed_run(db_engine, SITE, day(2), error=HTTP_500),
                good_run(db_engine, "panel-b", day(2), count=15)]
        second = after_run(db_engine, run_ids=runs, config=config, now=day(2))
        runs = [failed_run(db_engine, SITE, day(3), error=HTTP_500),
                good_run(db_engine, "panel-b", day(3), count=14)]
        third = after_run(db_engine, run_ids=runs, config=config, now=day(3))

    assert third == []  # everything still firing
    assert len(receiver.requests) == 3
    assert {request["path"] for request in receiver.requests} == {"/hooks/clickfarm"}
    assert {request["headers"]["Authorization"] for request in receiver.requests} == {
        "Bearer test-token"}
    assert {request["headers"]["Content-Type"] for request in receiver.requests} == {
        "application/json"}
    assert [(b["id"], b["rule"], b["site_id"], b["severity"], b["state"])
            for b in receiver.bodies] == [
        (first[0], "no_offers", SITE, "critical", "firing"),
        (second[0], "consecutive_failures", SITE, "critical", "firing"),
        (second[1], "offers_halved", "panel-b", "warning", "firing"),
    ]
    halved = receiver.bodies[2]
    assert halved["details"]["offers_seen"] == 15 and halved["details"]["median"] == 40
    assert all(row["deliveries"] == {"webhook": "ok"}
               for row in alerts_by_id(db_engine, first + second))


def test_a_down_webhook_is_a_recorded_failed_delivery(db_engine, tmp_path, caplog):
    jsonl = tmp_path / "alerts.jsonl"
    add_site(db_engine, SITE)
    good_run(db_engine, SITE, day(0), count=100)
    run_id = failed_run(db_engine, SITE, day(1), error=HTTP_500)
    config = project(sinks={"log": False, "jsonl": str(jsonl), "webhook": {
        "url": closed_port_url(), "timeout_seconds": 2, "retries": 1}})
    with caplog.at_level(logging.WARNING):
        created = after_run(db_engine, run_ids=[run_id], config=config, now=day(1))
    [row] = alerts_by_id(db_engine, created)
    assert row["deliveries"]["jsonl"] == "ok"  # the other sinks still got it
    assert row["deliveries"]["webhook"].startswith("failed: connection failed after retries")
    assert "Connection refused" in row["deliveries"]["webhook"]
    assert len(read_jsonl(jsonl)) == 1
    assert any("not delivered to webhook" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("fail_first", "always", "attempts", "delivery"), [
    (1, None, 2, "ok"),
    (0, 503, 3, "failed: WebhookError: HTTP 503 from the webhook after 3 attempt(s)"),
    (0, 404, 1, "failed: WebhookError: HTTP 404 from the webhook after 1 attempt(s)"),
], ids=["retried-after-a-500", "503-every-time", "404-is-not-retried"])
def test_webhook_retries_are_bounded(db_engine, fail_first, always, attempts, delivery):
    add_site(db_engine, SITE)
    good_run(db_engine, SITE, day(0), count=100)
    run_id = failed_run(db_engine, SITE, day(1), error=HTTP_500)
    with webhook_receiver(fail_first=fail_first, always_status=always) as receiver:
        config = project(sinks={"log": False, "webhook": {"url": receiver.url, "retries": 2}})
        created = after_run(db_engine, run_ids=[run_id], config=config, now=day(1))
    assert len(receiver.requests) == attempts
    assert {r["body"]["id"] for r in receiver.requests} == set(created)
    assert alerts_by_id(db_engine, created)[0]["deliveries"] == {"webhook": delivery}


# --- config ----------------------------------------------------------------------------------


def test_the_alerts_section_is_strict_with_defaults():
    config = AlertsConfig()
    assert config.sinks.log is True and config.sinks.jsonl is None and config.sinks.webhook is None
    assert (config.health.offers_drop_share, config.health.rejection_rate,
            config.health.consecutive_failures, config.health.stale_intervals) == (0.5, 0.1, 2, 3)
    parsed = AlertsConfig.model_validate({"rules": [
        {"type": "price_index_move", "platform": "instagram", "metric": "followers",
         "threshold_pct": 15, "window": "2w"},
        {"type": "seller_adds_platform", "site": "panel-01"},
        {"type": "new_seller"}]})
    assert [rule.type for rule in parsed.rules] == [
        "price_index_move", "seller_adds_platform", "new_seller"]


@pytest.mark.parametrize("section", [
    {"sinks": {"slack": True}},
    {"sinks": {"webhook": {"url": "ftp://x"}}},
    {"health": {"rejection_rate": 2}},
    {"rules": [{"type": "price_drop"}]},
    {"rules": [{"type": "price_index_move", "threshold_pct": 10, "window": "7 days"}]},
    {"rules": [{"type": "price_index_move", "window": "7d"}]},
    {"unknown": 1},
], ids=["unknown-sink", "webhook-not-http", "rate-above-1", "unknown-rule", "bad-window",
        "threshold-missing", "unknown-key"])
def test_bad_alert_config_is_an_error(section):
    with pytest.raises(ValidationError):
        AlertsConfig.model_validate(section)


# --- market rules ----------------------------------------------------------------------------


def crawl_prices(engine, when, prices: dict[str, str], **labels):
    """One run per site with 3 offers at the given price (USD per 1000)."""
    ids = []
    for site_id, price in prices.items():
        ids.append(good_run(engine, site_id, when,
                            listing=offers(3, prefix=f"{site_id}-", price=price, **labels)))
    return ids


@pytest.mark.parametrize(("threshold", "new_price", "fires"), [
    ("10", "1.20", True), ("25", "1.20", False), ("10", "0.85", True), ("20", "0.85", False),
    ("20", "1.20", False),
], ids=["up-20-over-10", "up-20-under-25", "down-15-over-10", "down-15-under-20",
        "exactly-20-is-not-more"])
def test_price_index_move(db_engine, threshold, new_price, fires):
    for site_id in ("s1", "s2", "s3"):
        add_site(db_engine, site_id)
    rule = {"type": "price_index_move", "platform": "instagram", "metric": "followers",
            "threshold_pct": threshold, "window": "7d", "min_offers": 3}
    crawl_prices(db_engine, day(0), {"s1": "1.00", "s2": "1.00", "s3": "1.00"})
    runs = crawl_prices(db_engine, day(7), {"s1": new_price, "s2": new_price, "s3": "1.00"})
    created = after_run(db_engine, run_ids=runs, config=project(rules=[rule]), now=day(7))
    rows = [row for row in alerts_by_id(db_engine, created) if row["rule"] == "price_index_move"]
    assert len(rows) == (1 if fires else 0)
    if fires:
        details = rows[0]["details"]
        assert (details["platform"], details["metric"]) == ("instagram", "followers")
        assert rows[0]["kind"] == "market" and rows[0]["site_id"] is None
        assert details["from_median"] == "1.000000"
        assert details["to_median"] == f"{new_price}0000"


@pytest.mark.parametrize(("min_offers", "fires"), [(9, True), (10, False)],
                         ids=["enough-offers", "too-few-offers"])
def test_price_index_move_ignores_thin_classes(db_engine, min_offers, fires):
    for site_id in ("s1", "s2", "s3"):
        add_site(db_engine, site_id)
    rule = {"type": "price_index_move", "threshold_pct": "10", "window": "7d",
            "min_offers": min_offers}
    crawl_prices(db_engine, day(0), {"s1": "1.00", "s2": "1.00", "s3": "1.00"})
    runs = crawl_prices(db_engine, day(7), {"s1": "2.00", "s2": "2.00", "s3": "2.00"})
    created = after_run(db_engine, run_ids=runs, config=project(rules=[rule]), now=day(7))
    assert len(alerts_by_id(db_engine, created)) == (1 if fires else 0)


def test_price_index_move_resolves_and_ignores_other_classes(db_engine):
    add_site(db_engine, "s1")
    rules = [{"type": "price_index_move", "platform": "instagram", "metric": "followers",
              "threshold_pct": "10", "window": "1d", "min_offers": 3},
             {"type": "price_index_move", "platform": "tiktok", "threshold_pct": "10",
              "window": "1d", "min_offers": 3}]
    config = project(rules=rules)
    good_run(db_engine, "s1", day(0), listing=offers(3, price="1.00"))
    run = good_run(db_engine, "s1", day(1), listing=offers(3, price="2.00"))
    assert states(db_engine, after_run(db_engine, run_ids=[run], config=config, now=day(1))) == [
        ("price_index_move", "firing")]
    run = good_run(db_engine, "s1", day(2), listing=offers(3, price="2.05"))
    assert states(db_engine, after_run(db_engine, run_ids=[run], config=config, now=day(2))) == [
        ("price_index_move", "resolved")]


def test_a_seller_adding_a_platform(db_engine):
    add_site(db_engine, "s1")
    config = project(rules=[{"type": "seller_adds_platform"}])
    instagram = offers(3, prefix="ig", platform="instagram", metric="followers")
    tiktok = offers(2, prefix="tt", platform="tiktok", metric="likes")
    first = good_run(db_engine, "s1", day(0), listing=instagram)
    assert after_run(db_engine, run_ids=[first], config=config, now=day(0)) == []
    same = good_run(db_engine, "s1", day(1), listing=instagram + offers(1, prefix="ig2"))
    assert after_run(db_engine, run_ids=[same], config=config, now=day(1)) == []
    added = good_run(db_engine, "s1", day(2), listing=instagram + tiktok)
    created = after_run(db_engine, run_ids=[added], config=config, now=day(2))
    [row] = alerts_by_id(db_engine, created)
    assert (row["rule"], row["site_id"], row["run_id"]) == ("seller_adds_platform", "s1", added)
    assert row["details"]["platform"] == "tiktok" and row["details"]["new_offers"] == 2
    assert row["details"]["platforms_before"] == ["instagram"]
    assert row["message"] == "s1 now sells tiktok (2 new offer(s): likes)"
    more = good_run(db_engine, "s1", day(3),
                    listing=instagram + tiktok + offers(1, prefix="tt2", platform="tiktok"))
    assert after_run(db_engine, run_ids=[more], config=config, now=day(3)) == []


def test_seller_adds_platform_can_watch_one_site(db_engine):
    add_site(db_engine, "s1")
    config = project(rules=[{"type": "seller_adds_platform", "site": "other"}])
    good_run(db_engine, "s1", day(0), listing=offers(2, prefix="ig"))
    run = good_run(db_engine, "s1", day(1), listing=offers(2, prefix="ig") + offers(
        1, prefix="yt", platform="youtube", metric="views"))
    assert after_run(db_engine, run_ids=[run], config=config, now=day(1)) == []


def test_sellers_of_the_first_crawl_day_are_the_baseline(db_engine):
    config = project(rules=[{"type": "new_seller", "include_discovered": False}])
    add_site(db_engine, "first")
    add_site(db_engine, "second")
    runs = [good_run(db_engine, "first", day(0), count=5),
            good_run(db_engine, "second", day(0) + timedelta(hours=1), count=5)]
    assert after_run(db_engine, run_ids=runs, config=config, now=day(0)) == []
    add_site(db_engine, "later")
    run = good_run(db_engine, "later", day(1), count=5)
    [row] = alerts_by_id(db_engine, after_run(db_engine, run_ids=[run], config=config, now=day(1)))
    assert (row["rule"], row["site_id"]) == ("new_seller", "later")


def test_a_new_seller(db_engine):
    config = project(rules=[{"type": "new_seller"}])
    add_site(db_engine, "veteran")
    add_site(db_engine, "newcomer")
    add_site(db_engine, "found", status="discovered", discovered_via="https://dir.example/")
    good_run(db_engine, "veteran", day(0), count=5)
    failed_run(db_engine, "newcomer", day(0))
    runs = [good_run(db_engine, "veteran", day(1), count=5),
            good_run(db_engine, "newcomer", day(1), count=7)]
    created = after_run(db_engine, run_ids=runs, config=config, now=day(1))
    rows = alerts_by_id(db_engine, created)
    assert [(row["rule"], row["site_id"], row["details"]["source"]) for row in rows] == [
        ("new_seller", "newcomer", "first_successful_run"),
        ("new_seller", "found", "discovery")]
    assert rows[0]["message"].startswith("new seller newcomer (smm_api, https://newcomer.example/)")
    assert "discovered via https://dir.example/" in rows[1]["message"]
    again = good_run(db_engine, "newcomer", day(2), count=7)
    assert after_run(db_engine, run_ids=[again], config=config, now=day(2)) == []
    assert len(list_alerts(db_engine, kind="market")) == 2


def test_no_market_alert_without_rules(db_engine):
    add_site(db_engine, "s1")
    run = good_run(db_engine, "s1", day(0), count=5)
    assert after_run(db_engine, run_ids=[run], config=project(), now=day(0)) == []


def test_after_run_with_nothing_to_do(db_engine, tmp_path: Path):
    assert after_run(db_engine, run_ids=[], config=project(), now=day(0)) == []


@pytest.mark.parametrize(("webhook", "secret", "reason"), [
    # A token from a YAML block scalar (`|`) keeps its trailing newline: requests refuses the
    # header and quotes its value in the message.
    ({"url": "http://127.0.0.1:9/hooks", "headers": {"Authorization": "Bearer s3cr3t-t0ken\n"}},
     "s3cr3t-t0ken", "InvalidHeader"),
    # A token in the URL's path (Slack-style hooks) with a port out of range: requests quotes the
    # whole URL.
    ({"url": "http://127.0.0.1:99999/services/T0/s3cr3t-t0ken"}, "s3cr3t-t0ken", "InvalidURL"),
], ids=["header-value", "url-path"])
def test_a_webhook_error_never_shows_its_secrets(db_engine, caplog, webhook, secret, reason):
    add_site(db_engine, SITE)
    good_run(db_engine, SITE, day(0), count=100)
    run_id = failed_run(db_engine, SITE, day(1), error=HTTP_500)
    config = project(sinks={"log": False, "webhook": {**webhook, "retries": 0}})
    with caplog.at_level(logging.DEBUG):
        created = after_run(db_engine, run_ids=[run_id], config=config, now=day(1))
    [row] = alerts_by_id(db_engine, created)
    delivery = row["deliveries"]["webhook"]
    assert delivery.startswith("failed: WebhookError: " + reason) and "***" in delivery
    assert secret not in delivery
    assert not [r.getMessage() for r in caplog.records if secret in r.getMessage()]
