"""From a site's ``schedule`` in ``config/sites.yaml`` to an APScheduler 3 trigger.

A schedule is either an interval (``interval: 6h``; units ``s``, ``m``, ``h``, ``d``, ``w``,
combinable: ``1h30m``) or a crontab line (``cron: "0 */6 * * *"``, UTC; it wins over the
interval), plus a ``jitter`` (``10m``): each run starts up to that much later, at random, so
that sites with the same schedule do not all start at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from clickfarm import durations
from clickfarm.config import Schedule



class ScheduleError(ValueError):
    """A schedule that cannot become a trigger; the message names the value."""


def parse_duration(text: str | int | float) -> timedelta:
    """:func:`clickfarm.durations.parse_duration`, failing with a :class:`ScheduleError`."""
    try:
        return durations.parse_duration(text)
    except durations.DurationError as error:
        raise ScheduleError(str(error)) from None


@dataclass(frozen=True)
class PlannedSchedule:
    """A validated schedule: its trigger and a label that changes whenever the trigger does."""

    trigger: BaseTrigger
    label: str
    """E.g. ``interval 6h, jitter 10m`` or ``cron 0 */6 * * *, jitter 0s``: stored as the job
    name, so a config reload can tell whether the trigger changed."""
    interval: timedelta | None


def plan_schedule(schedule: Schedule) -> PlannedSchedule | None:
    """The trigger of a schedule, or ``None`` when it has neither cron nor interval."""
    jitter = parse_duration(schedule.jitter) if schedule.jitter else timedelta(0)
    # APScheduler's jitter is whole seconds; 0 means none.
    jitter_seconds = int(jitter.total_seconds()) or None
    jitter_label = _label(jitter)
    if schedule.cron:
        expression = " ".join(schedule.cron.split())
        try:
            trigger = CronTrigger.from_crontab(expression, timezone=UTC)
        except ValueError as error:
            raise ScheduleError(f"not a crontab line: {schedule.cron!r} ({error})") from None
        trigger.jitter = jitter_seconds
        return PlannedSchedule(trigger, f"cron {expression}, jitter {jitter_label}", None)
    if schedule.interval:
        interval = parse_duration(schedule.interval)
        if interval.total_seconds() < 1:
            raise ScheduleError(f"an interval must be at least 1s, got {schedule.interval!r}")
        trigger = IntervalTrigger(seconds=interval.total_seconds(), jitter=jitter_seconds,
                                  timezone=UTC)
        return PlannedSchedule(trigger, f"interval {_label(interval)}, jitter {jitter_label}",
                               interval)
    return None


def _label(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
