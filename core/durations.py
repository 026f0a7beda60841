"""Durations as written in the config and on the command line: ``90s``, ``30m``, ``6h``, ``1d``,
``2w``, combinations such as ``1h30m``, fractions (``1.5h``), and bare numbers (seconds)."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class DurationError(ValueError):
    """Not a duration; the message names the value and the accepted forms."""


def parse_duration(text: str | int | float) -> timedelta:
    """``"90s"``, ``"30m"``, ``"6h"``, ``"1d"``, ``"2w"``, ``"1h30m"``, ``"0"`` or a number of
    seconds -> a timedelta (:class:`DurationError` otherwise, negative values included)."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        compact = text.strip().lower()
        if re.fullmatch(r"\d+(\.\d+)?", compact):
            seconds = float(compact)
        else:
            parts = _DURATION_PART.findall(compact)
            if not parts or _DURATION_PART.sub("", compact).strip():
                raise DurationError(
                    f"not a duration: {text!r} (expected e.g. 30m, 6h, 1d, 2w, 90s)")
            seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if seconds < 0:
        raise DurationError(f"a duration cannot be negative: {text!r}")
    return timedelta(seconds=seconds)
