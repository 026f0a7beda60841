"""From a site's ``schedule`` in ``config/sites.yaml`` to an APScheduler 3 trigger.

A schedule is either an interval (``interval: 6h``; units ``s``, ``m``, ``h``, ``d``, ``w``,
combinable: ``1h30m``) or a crontab line (``cron: "0 */6 * * *"``, UTC; it wins over the
interval; weekdays as crontab counts them, Sunday = 0 or 7, see :func:`crontab_trigger`),
plus a ``jitter`` (``10m``): each run starts up to that much later, at random, so
that sites with the same schedule do not all start at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core import durations
from core.config import Schedule


class ScheduleError(ValueError):
    """A schedule that cannot become a trigger; the message names the value."""


def parse_duration(text: str | int | float) -> timedelta:
    """:func:`core.durations.parse_duration`, failing with a :class:`ScheduleError`."""
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
            trigger = crontab_trigger(expression)
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


_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_ITEM = re.compile(r"^(?:(\*)|([0-7]|[a-z]{3})(?:-([0-7]|[a-z]{3}))?)(?:/([1-9]\d*))?$")


def crontab_trigger(expression: str) -> CronTrigger:
    """A ``CronTrigger`` (UTC) from a standard crontab line, weekdays as crontab reads them.

    APScheduler 3's ``CronTrigger.from_crontab`` counts weekdays from Monday = 0 (its documented
    "historical mistake"), so ``1-5`` would mean Tuesday to Saturday and ``0`` Monday; crontab
    counts from Sunday = 0 (7 is Sunday too). The day-of-week field is therefore turned into
    day names, which both read alike. Raises ``ValueError`` for a line that is not a crontab.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"Wrong number of fields; got {len(fields)}, expected 5")
    fields[4] = _crontab_weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=UTC)


def _crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field (``1-5``, ``0,6``, ``*/2``, ``mon-fri``, ``5-7``) as the
    list of day names it means."""
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.lower().split(","):
        match = _DAY_ITEM.match(item)
        if not match:
            raise ValueError(f"unreadable day of week {item!r}")
        every, first, last, step = match.groups()
        if every:
            start, end = 0, 6
        else:
            start = _crontab_day(first)
            # "1/2": from Monday to the end of the week, every second day.
            end = _crontab_day(last) if last else (7 if step else start)
        if end < start:
            raise ValueError(f"day of week range {item!r} goes backwards")
        days.update(day % 7 for day in range(start, end + 1, int(step or 1)))
    return ",".join(_CRONTAB_DAYS[day] for day in sorted(days))


def _crontab_day(text: str) -> int:
    """0-7 (0 and 7 are Sunday) from a crontab day number or name."""
    if text.isdigit():
        return int(text)
    if text in _CRONTAB_DAYS:
        return _CRONTAB_DAYS.index(text)
    raise ValueError(f"unknown day of week {text!r}")


def _label(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
