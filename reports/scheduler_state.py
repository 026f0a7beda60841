"""Is a scheduler running on this database? From the heartbeat table the service writes
(``scheduler_heartbeat``): a service is running when it beat within three of its beat
intervals and has not recorded a stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, inspect, select

from core.duration_text import format_duration
from storage.models import heartbeat_table

MISSED_BEATS = 3


@dataclass(frozen=True, slots=True)
class SchedulerState:
    running: bool
    description: str
    """``scheduler running on host (pid 12), last beat 4s ago`` / ``scheduler not running
    (stopped 2026-12-02 10:04 UTC)`` / ``scheduler not running (no scheduler has run on this
    database)``."""
    last_beat_at: datetime | None = None


def scheduler_state(engine: Engine, *, now: datetime | None = None) -> SchedulerState:
    now = now or datetime.now(UTC)
    if not inspect(engine).has_table(heartbeat_table.name):
        return SchedulerState(False, "scheduler not running (no scheduler has run on this "
                                     "database)")
    with engine.connect() as connection:
        rows = connection.execute(select(heartbeat_table)
                                  .order_by(heartbeat_table.c.beat_at.desc())).all()
    if not rows:
        return SchedulerState(False, "scheduler not running (no scheduler has run on this "
                                     "database)")
    for row in rows:
        beat_at = _aware(row.beat_at)
        alive_until = beat_at + timedelta(seconds=MISSED_BEATS * row.interval_seconds)
        if row.stopped_at is None and now <= alive_until:
            return SchedulerState(True, f"scheduler running on {row.host} (pid {row.pid}), last "
                                        f"beat {format_duration(now - beat_at)} ago", beat_at)
    latest = rows[0]
    beat_at = _aware(latest.beat_at)
    if latest.stopped_at is not None:
        why = f"stopped {_aware(latest.stopped_at):%Y-%m-%d %H:%M} UTC"
    else:
        why = (f"its last beat was {format_duration(now - beat_at)} ago, on {latest.host} "
               f"(pid {latest.pid}): killed or hung")
    return SchedulerState(False, f"scheduler not running ({why}); no run is planned", beat_at)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
