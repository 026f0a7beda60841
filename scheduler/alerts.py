"""Alert records: from findings to rows in the ``alert`` table to the sinks, without repeats.

The checks (:mod:`scheduler.health`, :mod:`scheduler.market_rules`) return :class:`Finding`
objects: for every condition they *evaluated*, whether it holds now. A finding has a stable
``dedupe_key`` (``health:no_offers:panel-03``, ``market:price_index_move:instagram:followers:7d``)
and :func:`record_findings` turns findings into alerts by comparing with the latest alert of the
same key:

=====================  =======================  ===============================================
finding                latest alert of the key  result
=====================  =======================  ===============================================
holds                  none, or ``resolved``    a ``firing`` alert, sent to the sinks
holds                  ``firing``               nothing: the condition is still firing
does not hold          ``firing``               a ``resolved`` alert (severity ``info``), sent
                                                when ``notify_resolved`` is true
does not hold          none, or ``resolved``    nothing
one-off (an event)     none                     an ``event`` alert, sent
one-off (an event)     any                      nothing: that fact was reported already
=====================  =======================  ===============================================

A condition that was not evaluated (e.g. ``offers_halved`` on a failed run) keeps its state.
Recording happens in one write transaction (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory
lock), so two crawl processes finishing at once cannot both open the same condition. Delivery
happens after the commit: a slow webhook never holds the database lock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from scheduler.sinks import AlertSink, describe_error
from storage.alerts import (
    STATE_EVENT,
    STATE_FIRING,
    STATE_RESOLVED,
    alert_state,
    alerts_by_id,
    insert_alert,
    latest_alerts_by_key,
    set_deliveries,
)
from storage.db import write_transaction

logger = logging.getLogger(__name__)

# Any constant works; every process recording alerts in one database must use the same.
_PG_ALERT_LOCK_KEY = 7_346_221_002


@dataclass(frozen=True, slots=True)
class Finding:
    """The outcome of one evaluated condition (see the module docstring)."""

    kind: str
    """``health`` or ``market``."""
    rule: str
    dedupe_key: str
    holds: bool
    message: str
    severity: str = "warning"
    site_id: str | None = None
    run_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    one_off: bool = False
    """An event reported once per key (a new seller), never resolved."""


@dataclass(frozen=True, slots=True)
class RecordedAlert:
    alert_id: int
    send: bool
    """False for a ``resolved`` alert when ``notify_resolved`` is off (kept, not sent)."""


def record_findings(engine: Engine, findings: Sequence[Finding], *, now: datetime,
                    notify_resolved: bool = True) -> list[RecordedAlert]:
    """Store the alerts the findings call for (in order) and return them; nothing is sent."""
    if not findings:
        return []
    recorded: list[RecordedAlert] = []
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_ALERT_LOCK_KEY})")
        latest = {key: (alert_state(row), row)
                  for key, row in latest_alerts_by_key(
                      connection, (finding.dedupe_key for finding in findings)).items()}
        for finding in findings:
            state, previous = latest.get(finding.dedupe_key, (None, None))
            if finding.one_off:
                if not finding.holds or previous is not None:
                    continue
                new_state, severity, message = STATE_EVENT, finding.severity, finding.message
                details = {"state": new_state, **finding.details}
            elif finding.holds:
                if state == STATE_FIRING:
                    continue  # still firing: the sinks were told when it started
                new_state, severity, message = STATE_FIRING, finding.severity, finding.message
                details = {"state": new_state, **finding.details}
            else:
                if state != STATE_FIRING:
                    continue
                new_state, severity = STATE_RESOLVED, "info"
                message = f"resolved: {previous.message} (now: {finding.message})"
                details = {"state": new_state, "resolves_alert_id": previous.id,
                           "firing_since": previous.created_at, **finding.details}
            alert_id = insert_alert(
                connection, created_at=now, kind=finding.kind, rule=finding.rule,
                severity=severity, message=message, site_id=finding.site_id,
                run_id=finding.run_id, details=details, dedupe_key=finding.dedupe_key)
            latest[finding.dedupe_key] = (new_state, _Previous(alert_id, message, now))
            recorded.append(RecordedAlert(alert_id, notify_resolved or new_state != STATE_RESOLVED))
    return recorded


@dataclass(frozen=True, slots=True)
class _Previous:
    """What an alert inserted in this transaction says (stands for its row)."""

    id: int
    message: str
    created_at: datetime


def alert_payload(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON object the sinks receive for one alert row."""
    details = dict(row.get("details") or {})
    return {
        "id": row["id"],
        "created_at": row["created_at"].isoformat(),
        "kind": row["kind"],
        "rule": row["rule"],
        "severity": row["severity"],
        "state": details.pop("state", None),
        "site_id": row["site_id"],
        "run_id": row["run_id"],
        "message": row["message"],
        "details": details,
        "dedupe_key": row["dedupe_key"],
    }


def deliver(engine: Engine, recorded: Sequence[RecordedAlert],
            sinks: Sequence[AlertSink]) -> dict[int, dict[str, str]]:
    """Send the recorded alerts to every sink and store each sink's result in ``deliveries``.

    Never raises for a sink: a failure is logged and recorded as ``"failed: <reason>"``.
    """
    to_send = {alert.alert_id for alert in recorded if alert.send}
    results: dict[int, dict[str, str]] = {}
    for row in alerts_by_id(engine, [alert.alert_id for alert in recorded]):
        if row["id"] not in to_send:
            results[row["id"]] = {"all": "not sent (notify_resolved is false)"}
            set_deliveries(engine, alert_id=row["id"], deliveries=results[row["id"]])
            continue
        payload = alert_payload(row)
        outcome: dict[str, str] = {}
        for sink in sinks:
            try:
                sink.send(payload)
            except Exception as error:  # a broken sink must not stop the others or the crawl
                reason = describe_error(error)
                logger.warning("alert #%s not delivered to %s: %s", row["id"], sink.name, reason)
                outcome[sink.name] = f"failed: {reason}"
            else:
                outcome[sink.name] = "ok"
        results[row["id"]] = outcome
        try:
            set_deliveries(engine, alert_id=row["id"], deliveries=outcome)
        except Exception:  # the alert itself is stored; losing its delivery record is minor
            logger.exception("could not record the deliveries of alert #%s", row["id"])
    return results


__all__ = ["Finding", "RecordedAlert", "alert_payload", "deliver", "record_findings",
           "STATE_EVENT", "STATE_FIRING", "STATE_RESOLVED"]
