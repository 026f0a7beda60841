"""Durations as people read them: ``45s``, ``2m 30s``, ``7h 30m``, ``3d 4h``.

The largest unit and the next one, each a whole number, so that a short interval never prints as ``0m`` (the
stale alerts of a 30-second schedule read "allowed: 3 × 30s", not "3 x 0m").
"""

from __future__ import annotations

from datetime import timedelta

_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def format_duration(duration: timedelta | float) -> str:
    """``timedelta(seconds=30)`` -> ``"30s"``, 150 s -> ``"2m 30s"``, 27 000 s -> ``"7h 30m"``,
    ``timedelta(days=3)`` -> ``"3d"``; under a second -> ``"0.4s"``; negative -> ``"-30s"``."""
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 1:
        return f"{seconds:.1f}".removesuffix(".0") + "s"
    whole = round(seconds)
    for index, (unit, size) in enumerate(_UNITS):
        if whole < size and size > 1:
            continue
        major, rest = divmod(whole, size)
        if index + 1 == len(_UNITS):
            return f"{major}{unit}"
        minor_unit, minor_size = _UNITS[index + 1]
        minor = round(rest / minor_size)
        if minor * minor_size == size:  # 1h 59m 50s rounds to 2h, not "1h 60m"
            major, minor = major + 1, 0
        return f"{major}{unit} {minor}{minor_unit}" if minor else f"{major}{unit}"
    return "0s"
