"""Numbers in service names that are never package sizes.

A package's size is the number with a unit of the service's metric ("150K ... Views",
"750 ... Reviews", "10K Package"). Names carry other numbers too, and reading one of them as the
size puts a price per 1000 off by orders of magnitude ("Telegram 150K Last 5 Posts Views VIP
Package" read as 5 views made Telegram views cost 12,276 USD per 1000). :func:`mask_non_sizes`
blanks every number phrase that is a count of posts, a star rating, a duration, a speed, a
percentage, an audience or an id, so that the size readers only see candidate sizes.
"""

from __future__ import annotations

import re

GAP = " · "
"""What a blanked phrase becomes: a separator that joins no digits ("100 [30 Days] 200" must not
read as 100200) and that the name reader may skip like a filler word ("150K · Views")."""

_NUMBER = r"\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?\s*[kKmM]?"
_POSTS = r"(?:posts?|photos?|pics?|pictures?|videos?|reels?|tweets?|stories|story|publications?)"
_PER = r"(?:/|\bper\b)"
_TIME_UNIT = r"(?:days?|d|hours?|hrs?|h|weeks?|months?|minutes?|mins?)\b"

_NON_SIZES = re.compile(
    "|".join((
        # Ids: "ID: 1249 - ...", "ID1182 - ...", "{J-2}YouTube", "4729 ~ YouTube - ...".
        r"\bID\s*[:#.]?\s*\d+",
        r"\{[^\W\d_]+[-‑–]?\d+\}",
        r"^\s*\d+\s*~",
        # Speeds: "[10K/Day]", "5k per day", "1000hr / Day", "2 Posts / Day", "1 Post Per day".
        rf"{_NUMBER}\s*(?:[^\W\d_]+\s*)?{_PER}\s*{_TIME_UNIT}",
        # Counts of posts: "Last 5 Posts", "On Last 12 Posts", "30 Post Package", "10 Videos".
        rf"\b(?:on\s+)?(?:the\s+)?(?:last|next|latest|first|future|new)\s+\d+\s*{_POSTS}\b",
        r"\b\d+\s*(?:posts|photos|pics|pictures|videos|reels|tweets|stories|publications)\b",
        r"\b\d+\s*post\b(?=\s*(?:package|pack)\b)",
        # Star ratings: "5 Star", "5-Star", "4/5 Star", "5★", "5 ⭐".
        r"\b\d(?:\s*/\s*\d)?\s*[-‑–]?\s*(?:stars?\b|★|⭐)",
        # Durations: "30 Days", "30-day", "1 month", "30 Mins"; a video's length ("Video 2 Hours
        # Plus", "Put video 2h+"). "1000 HOURS Watch Time" is a size and stays.
        r"\b\d+\s*[-‑–]?\s*(?:days?|weeks?|months?|years?|minutes?|mins?|dias?)\b",
        r"\b\d+(?:[.,]\d+)?\s*(?:hours?|hrs?|h)\s*(?:\+|plus\b)",
        # Time ranges and start times: "[Start: 0-1 Hour]", "0-12 hours", "Start 1 Hour"
        # ("1000 HOURS Watch Time" has neither a range nor "start" and stays).
        r"\b\d+(?:[.,]\d+)?\s*[-‑–~]\s*\d+(?:[.,]\d+)?\s*(?:hours?|hrs?|h|days?|mins?|minutes?)\b",
        r"\bstart(?:\s*time)?\s*:?\s*(?:in\s+)?\d+(?:[.,]\d+)?\s*(?:hours?|hrs?|h|mins?|minutes?)\b",
        # Percentages: "100% Real", "+10% bonus".
        r"\d+(?:[.,]\d+)?\s*%",
        # Measures that are not counts of engagement (issue 13, class 7): a screen's inches
        # ('Acme 27" Monitor'), lengths, memory, frequencies, weights, resolutions, seconds.
        r"\b\d+(?:[.,]\d+)?\s*(?:\"|”|″|''|[-‑–]?\s*(?:inch(?:es)?|in|cm|mm|km|ft|feet|foot|"
        r"meters?|metres?|[kmgt]i?b|bytes?|ghz|mhz|hz|mah|kg|lbs?|oz|ml|litres?|liters?|watts?|"
        r"w|v|px|fps|mp|megapixels?|seconds?|secs?|sec|p)\b)",
        # Money: "5 USD", "10 euros", "USD 5", "Rs 99" ("$5" is never read as a size anyway).
        r"\b\d+(?:[.,]\d+)?\s*(?:usd|eur|gbp|inr|try|rub|idr|brl|dollars?|euros?|rupees?|"
        r"руб\.?|tl)\b",
        r"(?:\b(?:usd|eur|gbp|inr|rs|rp)\.?|[$€£₹₺₽])\s*\d+(?:[.,]\d+)?",
        # Audiences and rates of the seller's outlet: "209+ Million Monthly Visitors"; Spotify's
        # "250,000 Monthly Listeners" is the product itself (the metric), not an audience.
        rf"{_NUMBER}\+?\s*(?:million|thousand)?\s*(?:monthly|daily|weekly)\b(?!\s*listeners)",
    )),
    re.IGNORECASE,
)

_SPACED_GAPS = re.compile(r"\s*·(?:\s*·)*\s*")


def mask_non_sizes(text: str) -> str:
    """``text`` with every number phrase that cannot be a package size replaced by :data:`GAP`:
    ``"Telegram 150K Last 5 Posts Views"`` -> ``"Telegram 150K · Views"``, ``"iOS App 750 5 Star
    Reviews Package"`` -> ``"iOS App 750 · Reviews Package"``."""
    return _SPACED_GAPS.sub(GAP, _NON_SIZES.sub(GAP, text))


# "[PACKAGE 4000H]", "[4000H PACKAGE]", "PACKAGE 4KH + 1K Subs": a package of watch hours; an
# "H" elsewhere ("[3H - 8DAYS]", "[0-12h]") is a start or completion time.
_WATCH_HOURS_PACKAGE = re.compile(
    r"\bpackage\s+(?P<after>\d+\s*[kK]?)\s*h\b|\b(?P<before>\d+\s*[kK]?)\s*h\s+package\b",
    re.IGNORECASE,
)


def watch_hours_packages(text: str) -> list[str]:
    """The sizes of watch-hour packages a name states (``"[PACKAGE 4000H]"`` -> ``["4000"]``)."""
    return [match["after"] or match["before"] for match in _WATCH_HOURS_PACKAGE.finditer(text)]
