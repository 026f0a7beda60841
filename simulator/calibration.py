"""Calibration of the simulated market: platform mix, price levels and quantity limits.

Where the numbers come from
---------------------------
``PRICE_CLASSES`` was computed ONCE, offline, during development, from the labeled real price
lists in ``shared/data/smmpanels/labeled`` (Nevado-Catalan et al. 2023, 34 panels, 2020): for
each panel the last crawled day, rows whose ``Site`` maps to one of our platform ids (mapping
below: ``Instagram``/``IGTV`` -> ``instagram``, ``Website``/``Blogger`` -> ``website``, ``Google``/
``Google Business`` -> ``google``, ``App`` -> ``app``, otherwise the lower-cased name), and whose
``Product`` maps to one of our metric ids (``follower``/``fan`` -> ``followers``; ``like``,
``page like``, ``favorite``, ``reaction`` -> ``likes``; ``view``, ``video view``, ``ads view``,
``profile view`` -> ``views``; ``watchtime`` -> ``watch_time``; ``play``/``stream`` -> ``plays``;
``traffic``/``visitor`` -> ``traffic``; ``channel member``/``group member``/``member`` ->
``members``; ``review``/``rating`` -> ``reviews``; ``vote``/``poll vote`` -> ``votes``;
``repost``/``reblog`` -> ``reposts``; the other products by their plural). ``Price/1000`` is USD.

- ``weight``: share of the pooled rows of that platform (among rows with a mapped ``Site``)
  times the share of that metric within the platform (rows with a mapped ``Product``); classes
  seen fewer than 8 times were dropped and ``app/traffic`` (one panel's chart-ranking oddity)
  left out; the remaining weights are renormalised at import.
- ``median_usd``, ``q1_usd``, ``q3_usd``: median and quartiles of ``Price/1000`` (zeros
  excluded). The generator draws from a two-piece log-normal with that median whose lower and
  upper halves match the quartiles, so skewed classes (website traffic, Facebook views) keep
  their shape.

The simulator NEVER reads ``shared/`` at run time: everything it needs is in this module.
Everything else here (order sizes, order volumes, currencies) is a modelling assumption, said
so where it is defined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PriceClass:
    """One platform x metric class with its real frequency and USD-per-1000 price quartiles."""

    platform: str
    metric: str
    weight: float
    median_usd: float
    q1_usd: float
    q3_usd: float
    observed: int
    """Number of real rows behind the numbers (to judge how much to trust them)."""

    @property
    def sigma_low(self) -> float:
        """Log-scale spread below the median (the quartile is 0.6745 sigma away)."""
        return _clamp(math.log(self.median_usd / self.q1_usd) / 0.6745, 0.08, 2.0)

    @property
    def sigma_high(self) -> float:
        return _clamp(math.log(self.q3_usd / self.median_usd) / 0.6745, 0.08, 2.0)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


# fmt: off
_RAW_CLASSES: tuple[PriceClass, ...] = (
    PriceClass("website", "traffic", weight=0.19530, median_usd=0.39, q1_usd=0.36, q3_usd=0.552, observed=4013),
    PriceClass("youtube", "views", weight=0.14776, median_usd=1.98, q1_usd=1.25, q3_usd=3, observed=3024),
    PriceClass("instagram", "likes", weight=0.10588, median_usd=1.8, q1_usd=0.95, q3_usd=3.5, observed=2155),
    PriceClass("instagram", "followers", weight=0.08141, median_usd=4.82, q1_usd=2.5, q3_usd=8.5, observed=1657),
    PriceClass("instagram", "views", weight=0.04549, median_usd=0.07, q1_usd=0.035, q3_usd=0.2, observed=926),
    PriceClass("spotify", "plays", weight=0.03841, median_usd=2.29, q1_usd=1.226, q3_usd=3.9, observed=776),
    PriceClass("facebook", "likes", weight=0.03191, median_usd=7, q1_usd=3.6, q3_usd=16, observed=632),
    PriceClass("instagram", "comments", weight=0.02471, median_usd=21, q1_usd=7.5, q3_usd=48, observed=503),
    PriceClass("youtube", "shares", weight=0.02106, median_usd=1.75, q1_usd=1.35, q3_usd=1.89, observed=431),
    PriceClass("spotify", "followers", weight=0.01812, median_usd=2.55, q1_usd=1.642, q3_usd=5, observed=366),
    PriceClass("youtube", "likes", weight=0.01730, median_usd=8.425, q1_usd=5, q3_usd=13.02, observed=354),
    PriceClass("facebook", "views", weight=0.01575, median_usd=9.5, q1_usd=0.2325, q3_usd=61.58, observed=312),
    PriceClass("youtube", "comments", weight=0.01280, median_usd=36, q1_usd=26, q3_usd=49.25, observed=262),
    PriceClass("youtube", "subscribers", weight=0.01080, median_usd=18, q1_usd=14.08, q3_usd=25.5, observed=221),
    PriceClass("twitch", "views", weight=0.01076, median_usd=1.6, q1_usd=1.16, q3_usd=7, observed=217),
    PriceClass("instagram", "impressions", weight=0.01071, median_usd=0.2, q1_usd=0.08, q3_usd=0.624, observed=218),
    PriceClass("app", "installs", weight=0.00936, median_usd=242.3, q1_usd=180, q3_usd=330, observed=134),
    PriceClass("instagram", "story_views", weight=0.00909, median_usd=0.2, q1_usd=0.07, q3_usd=0.475, observed=185),
    PriceClass("linkedin", "followers", weight=0.00894, median_usd=9.4, q1_usd=7, q3_usd=13, observed=115),
    PriceClass("app", "reviews", weight=0.00852, median_usd=325, q1_usd=250, q3_usd=325, observed=122),
    PriceClass("spotify", "saves", weight=0.00802, median_usd=3.2, q1_usd=3, q3_usd=5.59, observed=162),
    PriceClass("spotify", "listeners", weight=0.00777, median_usd=2.5, q1_usd=1.98, q3_usd=3.2, observed=157),
    PriceClass("twitter", "likes", weight=0.00705, median_usd=4.059, q1_usd=2.383, q3_usd=6.5, observed=132),
    PriceClass("facebook", "comments", weight=0.00697, median_usd=68.64, q1_usd=48, q3_usd=84.97, observed=138),
    PriceClass("telegram", "views", weight=0.00666, median_usd=1.16, q1_usd=0.504, q3_usd=3.9, observed=139),
    PriceClass("twitter", "followers", weight=0.00598, median_usd=6.2, q1_usd=3.39, q3_usd=10.43, observed=112),
    PriceClass("google", "reviews", weight=0.00583, median_usd=4800, q1_usd=2000, q3_usd=7500, observed=103),
    PriceClass("imdb", "votes", weight=0.00563, median_usd=25.08, q1_usd=20, q3_usd=85, observed=107),
    PriceClass("twitch", "followers", weight=0.00525, median_usd=4.765, q1_usd=1.665, q3_usd=19.01, observed=106),
    PriceClass("tiktok", "likes", weight=0.00491, median_usd=1.425, q1_usd=0.85, q3_usd=6, observed=103),
    PriceClass("soundcloud", "plays", weight=0.00470, median_usd=0.06, q1_usd=0.0342, q3_usd=0.1062, observed=98),
    PriceClass("telegram", "members", weight=0.00460, median_usd=1.7, q1_usd=1.436, q3_usd=3.218, observed=96),
    PriceClass("twitter", "retweets", weight=0.00427, median_usd=12, q1_usd=8, q3_usd=13.6, observed=80),
    PriceClass("pinterest", "followers", weight=0.00407, median_usd=2.8, q1_usd=2.5, q3_usd=4, observed=69),
    PriceClass("twitter", "views", weight=0.00406, median_usd=0.775, q1_usd=0.35, q3_usd=2.75, observed=76),
    PriceClass("instagram", "saves", weight=0.00378, median_usd=0.15, q1_usd=0.04, q3_usd=0.285, observed=77),
    PriceClass("tiktok", "followers", weight=0.00367, median_usd=3.7, q1_usd=2.52, q3_usd=6.375, observed=77),
    PriceClass("tiktok", "views", weight=0.00348, median_usd=0.01, q1_usd=0.004, q3_usd=0.03, observed=73),
    PriceClass("facebook", "followers", weight=0.00338, median_usd=5, q1_usd=4.1, q3_usd=7, observed=67),
    PriceClass("soundcloud", "followers", weight=0.00302, median_usd=1.9, q1_usd=1.45, q3_usd=3.2, observed=63),
    PriceClass("linkedin", "likes", weight=0.00295, median_usd=31, q1_usd=24, q3_usd=48, observed=38),
    PriceClass("youtube", "watch_time", weight=0.00293, median_usd=9.455, q1_usd=7, q3_usd=19.5, observed=60),
    PriceClass("twitter", "votes", weight=0.00288, median_usd=0.887, q1_usd=0.55, q3_usd=2.363, observed=54),
    PriceClass("soundcloud", "likes", weight=0.00288, median_usd=1.69, q1_usd=1.385, q3_usd=2.875, observed=60),
    PriceClass("soundcloud", "reposts", weight=0.00278, median_usd=7.32, q1_usd=3.15, q3_usd=12.57, observed=58),
    PriceClass("twitter", "impressions", weight=0.00278, median_usd=0.835, q1_usd=0.2855, q3_usd=1.387, observed=52),
    PriceClass("soundcloud", "comments", weight=0.00221, median_usd=12.25, q1_usd=7.8, q3_usd=18, observed=46),
    PriceClass("google", "traffic", weight=0.00221, median_usd=0.5, q1_usd=0.48, q3_usd=1.05, observed=39),
    PriceClass("shazam", "plays", weight=0.00203, median_usd=2.4, q1_usd=1.32, q3_usd=9.6, observed=35),
    PriceClass("quora", "votes", weight=0.00203, median_usd=15, q1_usd=11.62, q3_usd=21.75, observed=16),
    PriceClass("facebook", "reviews", weight=0.00187, median_usd=42.5, q1_usd=28.55, q3_usd=120, observed=37),
    PriceClass("twitter", "comments", weight=0.00181, median_usd=51.32, q1_usd=41.5, q3_usd=74.78, observed=34),
    PriceClass("facebook", "shares", weight=0.00172, median_usd=11.5, q1_usd=7.65, q3_usd=30.82, observed=34),
    PriceClass("youtube", "traffic", weight=0.00171, median_usd=0.86, q1_usd=0.5, q3_usd=6, observed=35),
    PriceClass("website", "shares", weight=0.00165, median_usd=1.408, q1_usd=1.15, q3_usd=1.6, observed=34),
    PriceClass("mixcloud", "plays", weight=0.00163, median_usd=0.68, q1_usd=0.4375, q3_usd=0.945, observed=22),
    PriceClass("instagram", "votes", weight=0.00138, median_usd=7.26, q1_usd=6.021, q3_usd=9.213, observed=28),
    PriceClass("pinterest", "likes", weight=0.00136, median_usd=2.55, q1_usd=2.3, q3_usd=3.5, observed=23),
    PriceClass("podcast", "plays", weight=0.00134, median_usd=4.76, q1_usd=2.55, q3_usd=7.175, observed=24),
    PriceClass("soundcloud", "downloads", weight=0.00130, median_usd=0.16, q1_usd=0.09, q3_usd=0.2856, observed=27),
    PriceClass("podcast", "downloads", weight=0.00128, median_usd=6.42, q1_usd=5.2, q3_usd=11.4, observed=23),
    PriceClass("linkedin", "shares", weight=0.00124, median_usd=35.5, q1_usd=22.05, q3_usd=47.25, observed=16),
    PriceClass("imdb", "reviews", weight=0.00121, median_usd=450, q1_usd=15, q3_usd=900, observed=23),
    PriceClass("tidal", "plays", weight=0.00116, median_usd=6.08, q1_usd=5.4, q3_usd=10.8, observed=19),
    PriceClass("tumblr", "followers", weight=0.00116, median_usd=7.36, q1_usd=6.25, q3_usd=13.22, observed=22),
    PriceClass("reverbnation", "plays", weight=0.00115, median_usd=2.03, q1_usd=0.93, q3_usd=2.4, observed=17),
    PriceClass("tumblr", "likes", weight=0.00110, median_usd=7.32, q1_usd=5.356, q3_usd=12.8, observed=21),
    PriceClass("twitch", "plays", weight=0.00109, median_usd=36.86, q1_usd=18, q3_usd=97.66, observed=22),
    PriceClass("reddit", "votes", weight=0.00109, median_usd=11.65, q1_usd=9.262, q3_usd=13.88, observed=12),
    PriceClass("audiomack", "plays", weight=0.00109, median_usd=4.965, q1_usd=3.94, q3_usd=7.125, observed=12),
    PriceClass("vimeo", "views", weight=0.00108, median_usd=0.84, q1_usd=0.6, q3_usd=18, observed=22),
    PriceClass("linkedin", "comments", weight=0.00101, median_usd=98, q1_usd=51, q3_usd=207.8, observed=13),
    PriceClass("tiktok", "shares", weight=0.00095, median_usd=3.3, q1_usd=2.4, q3_usd=11.12, observed=20),
    PriceClass("tiktok", "comments", weight=0.00095, median_usd=9.175, q1_usd=5.19, q3_usd=10.42, observed=20),
    PriceClass("tumblr", "reposts", weight=0.00095, median_usd=10.25, q1_usd=5.534, q3_usd=30.62, observed=18),
    PriceClass("periscope", "likes", weight=0.00094, median_usd=0.39, q1_usd=0.0185, q3_usd=0.5975, observed=20),
    PriceClass("telegram", "likes", weight=0.00081, median_usd=6.9, q1_usd=2.835, q3_usd=23, observed=17),
    PriceClass("reverbnation", "followers", weight=0.00074, median_usd=48, q1_usd=40, q3_usd=74, observed=11),
    PriceClass("instagram", "traffic", weight=0.00074, median_usd=0.39, q1_usd=0.36, q3_usd=0.75, observed=15),
    PriceClass("podcast", "reviews", weight=0.00073, median_usd=390, q1_usd=348, q3_usd=815, observed=13),
    PriceClass("pinterest", "traffic", weight=0.00071, median_usd=0.39, q1_usd=0.3675, q3_usd=0.42, observed=12),
    PriceClass("vimeo", "followers", weight=0.00069, median_usd=19.75, q1_usd=10.07, q3_usd=24, observed=14),
    PriceClass("vimeo", "likes", weight=0.00069, median_usd=10.9, q1_usd=4.215, q3_usd=19.62, observed=14),
    PriceClass("periscope", "followers", weight=0.00066, median_usd=3.1, q1_usd=2.762, q3_usd=5.6, observed=14),
    PriceClass("google", "downloads", weight=0.00062, median_usd=75, q1_usd=31.4, q3_usd=95, observed=11),
    PriceClass("podcast", "subscribers", weight=0.00061, median_usd=37.1, q1_usd=29.4, q3_usd=52, observed=11),
    PriceClass("deezer", "plays", weight=0.00061, median_usd=6, q1_usd=4.5, q3_usd=7.02, observed=11),
    PriceClass("mixcloud", "likes", weight=0.00059, median_usd=6.35, q1_usd=4.625, q3_usd=18.9, observed=8),
    PriceClass("facebook", "members", weight=0.00056, median_usd=5.25, q1_usd=4.7, q3_usd=7.4, observed=11),
    PriceClass("dailymotion", "views", weight=0.00052, median_usd=1.2, q1_usd=1, q3_usd=2, observed=11),
    PriceClass("google", "plays", weight=0.00051, median_usd=4.2, q1_usd=3.25, q3_usd=6.24, observed=9),
    PriceClass("facebook", "plays", weight=0.00050, median_usd=145.5, q1_usd=56.83, q3_usd=259, observed=10),
    PriceClass("tidal", "followers", weight=0.00049, median_usd=15.3, q1_usd=14.4, q3_usd=21.15, observed=8),
    PriceClass("snapchat", "followers", weight=0.00047, median_usd=35, q1_usd=31.25, q3_usd=40.25, observed=10),
    PriceClass("facebook", "votes", weight=0.00045, median_usd=32, q1_usd=26.5, q3_usd=49, observed=9),
    PriceClass("google", "followers", weight=0.00045, median_usd=8.75, q1_usd=6.537, q3_usd=10.08, observed=8),
    PriceClass("google", "likes", weight=0.00045, median_usd=15.59, q1_usd=14.7, q3_usd=40.75, observed=8),
    PriceClass("google", "shares", weight=0.00045, median_usd=9.35, q1_usd=6.513, q3_usd=15.25, observed=8),
    PriceClass("twitch", "subscribers", weight=0.00045, median_usd=1800, q1_usd=1700, q3_usd=2330, observed=9),
    PriceClass("imdb", "views", weight=0.00042, median_usd=14.1, q1_usd=5.25, q3_usd=21.75, observed=8),
)
# fmt: on
# Three classes have q1 == median or median == q3 in the real data (a single dominant price);
# their degenerate quartile was nudged by a few percent above so the two-piece log-normal stays
# defined: website/shares q3, pinterest/likes q1, pinterest/traffic q3, imdb/reviews q3.

_TOTAL_WEIGHT = sum(price_class.weight for price_class in _RAW_CLASSES)
PRICE_CLASSES: tuple[PriceClass, ...] = tuple(
    PriceClass(
        c.platform, c.metric, c.weight / _TOTAL_WEIGHT, c.median_usd, c.q1_usd, c.q3_usd, c.observed
    )
    for c in _RAW_CLASSES
)
"""Normalised (weights sum to 1), most frequent first."""

PRICE_CLASS_BY_KEY: dict[tuple[str, str], PriceClass] = {
    (c.platform, c.metric): c for c in PRICE_CLASSES
}

# Real Site label -> our platform id, used by the realism test to compare like with like.
REAL_SITE_TO_PLATFORM: dict[str, str] = {
    "Instagram": "instagram", "IGTV": "instagram", "YouTube": "youtube", "Website": "website",
    "Blogger": "website", "Spotify": "spotify", "Facebook": "facebook", "Twitter": "twitter",
    "SoundCloud": "soundcloud", "Twitch": "twitch", "LinkedIn": "linkedin", "TikTok": "tiktok",
    "Telegram": "telegram", "App": "app", "Google": "google", "Google Business": "google",
    "Pinterest": "pinterest", "IMDB": "imdb", "Podcast": "podcast", "iTunes": "itunes",
    "Tumblr": "tumblr", "Vimeo": "vimeo", "MixCloud": "mixcloud", "Shazam": "shazam",
    "Quora": "quora", "Reverbnation": "reverbnation", "Tidal": "tidal", "Periscope": "periscope",
    "VK": "vk", "Reddit": "reddit", "Audiomack": "audiomack", "Deezer": "deezer",
    "Dailymotion": "dailymotion", "Amazon": "amazon", "Snapchat": "snapchat",
}  # fmt: skip

# Real Product label -> our metric id (same mapping as used to build PRICE_CLASSES).
REAL_PRODUCT_TO_METRIC: dict[str, str] = {
    "follower": "followers", "fan": "followers", "like": "likes", "page like": "likes",
    "favorite": "likes", "reaction": "likes", "view": "views", "video view": "views",
    "ads view": "views", "profile view": "views", "watchtime": "watch_time",
    "comment": "comments", "play": "plays", "stream": "plays", "subscriber": "subscribers",
    "traffic": "traffic", "visitor": "traffic", "channel member": "members",
    "group member": "members", "member": "members", "review": "reviews", "rating": "reviews",
    "share": "shares", "impression": "impressions", "story view": "story_views",
    "saves": "saves", "vote": "votes", "poll vote": "votes", "install": "installs",
    "download": "downloads", "listener": "listeners", "retweet": "retweets",
    "repost": "reposts", "reblog": "reposts",
}  # fmt: skip


# --- Quantity limits -------------------------------------------------------------------------
# The most common (min, max) values per metric in the real lists (rounded, weights are the
# approximate relative frequencies among the top values).
UNLIMITED_MAX = 2147483647

QUANTITY_MINS: dict[str, tuple[tuple[int, float], ...]] = {
    "traffic": ((500, 0.85), (1000, 0.06), (100, 0.05), (50, 0.04)),
    "views": ((1000, 0.4), (100, 0.3), (500, 0.18), (50, 0.05), (20, 0.04), (2000, 0.03)),
    "likes": ((100, 0.27), (50, 0.26), (20, 0.25), (10, 0.2), (5, 0.02)),
    "followers": ((100, 0.45), (50, 0.2), (20, 0.13), (10, 0.09), (500, 0.08), (1000, 0.05)),
    "plays": ((1000, 0.45), (500, 0.25), (100, 0.22), (5000, 0.08)),
    "comments": ((10, 0.55), (5, 0.22), (1, 0.1), (20, 0.08), (50, 0.05)),
    "shares": ((50, 0.65), (100, 0.25), (20, 0.1)),
    "reviews": ((1, 0.35), (5, 0.2), (10, 0.3), (4, 0.15)),
    "impressions": ((100, 0.7), (20, 0.1), (10, 0.1), (50, 0.1)),
    "story_views": ((100, 0.7), (20, 0.17), (50, 0.08), (500, 0.05)),
    "saves": ((100, 0.6), (500, 0.17), (10, 0.13), (20, 0.1)),
    "subscribers": ((5, 0.3), (50, 0.25), (100, 0.2), (10, 0.15), (20, 0.1)),
    "votes": ((20, 0.55), (5, 0.15), (50, 0.1), (100, 0.1), (10, 0.1)),
    "listeners": ((500, 0.55), (20, 0.2), (1000, 0.2), (100, 0.05)),
    "installs": ((20, 0.5), (50, 0.3), (10, 0.1), (100, 0.1)),
    "retweets": ((20, 0.6), (100, 0.2), (50, 0.1), (10, 0.1)),
    "reposts": ((20, 0.5), (100, 0.35), (50, 0.15)),
    "members": ((100, 0.4), (1000, 0.35), (500, 0.15), (200, 0.1)),
    "downloads": ((100, 0.5), (1000, 0.3), (500, 0.2)),
    "watch_time": ((100, 0.3), (500, 0.2), (1000, 0.4), (200, 0.1)),
}  # fmt: skip

QUANTITY_MAXES: dict[str, tuple[tuple[int, float], ...]] = {
    "traffic": ((1000000, 0.85), (10000000, 0.05), (50000, 0.04), (100000, 0.04), (UNLIMITED_MAX, 0.02)),
    "views": ((10000000, 0.3), (1000000, 0.25), (100000, 0.12), (500000, 0.08), (100000000, 0.08), (1000000000, 0.05), (UNLIMITED_MAX, 0.07), (50000, 0.05)),
    "likes": ((10000, 0.3), (5000, 0.15), (20000, 0.14), (50000, 0.13), (100000, 0.09), (30000, 0.08), (2000, 0.06), (15000, 0.05)),
    "followers": ((100000, 0.28), (10000, 0.2), (50000, 0.15), (5000, 0.13), (20000, 0.12), (1000000, 0.08), (30000, 0.04)),
    "plays": ((1000000, 0.35), (100000, 0.28), (10000000, 0.22), (500000, 0.1), (UNLIMITED_MAX, 0.05)),
    "comments": ((100, 0.3), (1000, 0.3), (500, 0.13), (10000, 0.08), (2000, 0.07), (200, 0.06), (5000, 0.06)),
    "shares": ((10000, 0.5), (200000, 0.3), (100000, 0.1), (1000000, 0.1)),
    "reviews": ((100, 0.35), (10000, 0.2), (1000, 0.15), (500, 0.15), (300, 0.15)),
    "impressions": ((1000000, 0.35), (100000, 0.25), (50000, 0.2), (10000000, 0.15), (UNLIMITED_MAX, 0.05)),
    "story_views": ((30000, 0.3), (100000, 0.2), (150000, 0.15), (10000, 0.2), (50000, 0.15)),
    "saves": ((100000, 0.5), (1000000, 0.35), (50000, 0.15)),
    "subscribers": ((1500, 0.25), (2000, 0.2), (1000, 0.15), (5000, 0.15), (100000, 0.15), (50000, 0.1)),
    "votes": ((10000, 0.4), (5000, 0.3), (50000, 0.3)),
    "listeners": ((1000000, 0.5), (100000, 0.4), (10000000, 0.1)),
    "installs": ((10000000, 0.7), (1000000, 0.2), (100000, 0.1)),
    "retweets": ((100000, 0.6), (10000, 0.25), (50000, 0.15)),
    "reposts": ((10000, 0.6), (100000, 0.2), (1000000, 0.2)),
    "members": ((20000, 0.3), (50000, 0.25), (200000, 0.2), (10000, 0.25)),
    "downloads": ((1000000, 0.5), (100000, 0.5)),
    "watch_time": ((4000, 0.5), (1000, 0.3), (2000, 0.2)),
}  # fmt: skip


# --- Orders (modelling assumptions, not measured) ---------------------------------------------
# Typical order size per metric: the centre of a log-normal (sigma ORDER_SIZE_SIGMA) clipped to
# [min, max] and rounded to "nice" quantities (100, 250, 500, 1000, ...), so order sizes are
# skewed to small with a long tail, as panel order logs show.
TYPICAL_ORDER_UNITS: dict[str, int] = {
    "traffic": 5000, "views": 5000, "likes": 500, "followers": 1000, "plays": 5000,
    "comments": 20, "shares": 500, "reviews": 10, "impressions": 5000, "story_views": 1000,
    "saves": 500, "subscribers": 300, "votes": 100, "listeners": 1000, "installs": 200,
    "retweets": 200, "reposts": 200, "members": 1000, "downloads": 1000, "watch_time": 1000,
}  # fmt: skip
ORDER_SIZE_SIGMA = 1.1
# ... but a typical order costs at most about this much (the cap applies to dear services).
TYPICAL_ORDER_MAX_USD = 40.0
NICE_QUANTITIES: tuple[int, ...] = (
    1, 2, 3, 4, 5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750,
    1000, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10000, 15000, 20000, 25000, 30000, 50000,
    75000, 100000, 150000, 200000, 250000, 500000, 1000000, 2000000, 5000000, 10000000,
)  # fmt: skip

# Orders per day of an ordinary panel: log-normal around this median (an assumption sized so
# that counters grow by hundreds to thousands a day, as public counters of mid-size panels do).
PANEL_DAILY_ORDERS_MEDIAN = 350.0
PANEL_DAILY_ORDERS_SIGMA = 0.7
RESELLER_DAILY_ORDERS_MEDIAN = 90.0


# --- Currencies ------------------------------------------------------------------------------
# How panels price in local currency: units of the currency per 1 USD (the brief's magnitudes,
# e.g. INR about 83 x USD). Panel owners set local prices with their own fixed rate, so these are
# deliberately not the ECB rate of the day; revenue in USD in the ground truth uses ECB rates.
# GBP and BRL are only used by retail shops (their owners price with the same kind of fixed rate).
PANEL_FX_PER_USD: dict[str, float] = {
    "USD": 1.0, "INR": 83.0, "TRY": 34.0, "EUR": 0.92, "GBP": 0.79, "BRL": 5.0,
}  # fmt: skip
CURRENCY_SYMBOLS: dict[str, str] = {
    "USD": "$", "INR": "₹", "TRY": "₺", "EUR": "€", "GBP": "£", "BRL": "R$",
}  # fmt: skip
# Panel decimals (how many digits the panel keeps for rates) per currency: (decimals, weight).
CURRENCY_DECIMALS: dict[str, tuple[tuple[int, float], ...]] = {
    "USD": ((2, 0.25), (3, 0.3), (4, 0.35), (6, 0.05), (8, 0.05)),
    "EUR": ((2, 0.55), (3, 0.2), (4, 0.15), (6, 0.1)),
    "INR": ((0, 0.3), (1, 0.1), (2, 0.6)),
    "TRY": ((2, 1.0),),
}
# Currencies of the first 24 sites (shuffled per seed): mostly USD, some INR, TRY, EUR.
CURRENCY_PLAN: tuple[str, ...] = ("USD",) * 17 + ("INR",) * 3 + ("TRY",) * 2 + ("EUR",) * 2
CURRENCY_WEIGHTS_BEYOND_PLAN: tuple[tuple[str, float], ...] = (
    ("USD", 0.7), ("INR", 0.12), ("TRY", 0.09), ("EUR", 0.09),
)  # fmt: skip
