"""Agreement of pipelines.taxonomy with the labels of the real 2020 price lists.

Data: ``labeled/<Panel>/<date>.csv.gz`` of the smmpanels sample (columns ``Site`` = platform,
``Product`` = metric, ``Service`` = the service name), labelled by the dataset's authors with
keyword rules. Every file of every panel is read and rows are deduplicated by (panel, service
name): a panel lists the same service on every crawl day, and the labels of one (panel, name) are
the same on every day, so deduplication loses nothing and keeps services that were later removed
(the latest file alone has about a quarter fewer distinct services).

Main classes: after mapping the authors' labels to our ids (tables below), the most frequent
labels that together cover at least 95 % of the labelled rows, computed separately for platforms
and for metrics. Rows whose label is empty, "Empty Value" or outside the main classes are not
scored on that axis; a row whose label is a main class is scored whatever we answer (answering
``None`` or a rare class counts as a disagreement).

Label errors: the authors' keyword rules make mistakes (the dataset README says so). The
disagreements we judge to be label errors are listed in ``LABEL_ERRORS``, one family of
near-identical names per entry (a pattern, their label, our answer, why, and a real example), and
only the rows they match are taken out of the denominator. The report prints the agreement both
before and after the exclusion and the rows each entry excluded; an entry that excludes nothing
fails the test, so the list cannot go stale.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipelines.taxonomy import Classification, load_taxonomy
from pipelines.text import clean_text

PLATFORM_THRESHOLD = 0.98
METRIC_THRESHOLD = 0.97
MAIN_CLASS_COVERAGE = 0.95
EMPTY_LABELS = {"", "Empty Value"}

# The authors' Site labels -> our platform ids. Labels missing here have no counterpart in our
# vocabulary (Hotstar, Zomato, ...): they map to None and are never main classes.
PLATFORM_LABELS: dict[str, str] = {
    "Instagram": "instagram",
    "IGTV": "instagram",
    "YouTube": "youtube",
    "Website": "website",
    "Facebook": "facebook",
    "Spotify": "spotify",
    "Twitter": "twitter",
    "TikTok": "tiktok",
    "Telegram": "telegram",
    "Twitch": "twitch",
    "SoundCloud": "soundcloud",
    "App": "app",
    "LinkedIn": "linkedin",
    "Google": "google",
    "Google Business": "google",
    "Google+": "google",
    "IMDB": "imdb",
    "Pinterest": "pinterest",
    "Shazam": "shazam",
    "Podcast": "podcast",
    "Tumblr": "tumblr",
    "MixCloud": "mixcloud",
    "Vimeo": "vimeo",
    "Quora": "quora",
    "Reverbnation": "reverbnation",
    "Periscope": "periscope",
    "Tidal": "tidal",
    "DatPiff": "datpiff",
    "VK": "vk",
    "Blogger": "blogger",
    "Reddit": "reddit",
    "Netflix": "netflix",
    "Audiomack": "audiomack",
    "Spreaker": "spreaker",
    "Deezer": "deezer",
    "Apple Music": "apple_music",
    "iTunes": "apple_music",
    "Dailymotion": "dailymotion",
    "Snapchat": "snapchat",
    "Napster": "napster",
    "Amazon": "amazon",
    "Amazon Prime Video": "amazon",
    "Amazon Prime": "amazon",
    "Anghami": "anghami",
    "Tripadvisor": "tripadvisor",
    "Discord": "discord",
}

# The authors' Product labels -> our metric ids.
METRIC_LABELS: dict[str, str] = {
    "view": "views",
    "like": "likes",
    "traffic": "traffic",
    "follower": "followers",
    "comment": "comments",
    "play": "plays",
    "stream": "plays",
    "share": "shares",
    "video view": "video_views",
    "subscriber": "subscribers",
    "ads view": "ad_views",
    "page like": "page_likes",
    "review": "reviews",
    "impression": "impressions",
    "saves": "saves",
    "story view": "story_views",
    "vote": "votes",
    "listener": "listeners",
    "channel member": "members",
    "group member": "members",
    "member": "members",
    "install": "installs",
    "retweet": "retweets",
    "watchtime": "watch_time",
    "visitor": "visitors",
    "download": "downloads",
    "seo": "backlinks",
    "poll vote": "poll_votes",
    "favorite": "favorites",
    "repost": "reposts",
    "pin": "pins",
    "account": "accounts",
    "rating": "ratings",
    "reaction": "reactions",
    "repin": "repins",
    "reblog": "reblogs",
    "starmeter": "starmeter",
    "recommendation": "recommendations",
    "fan": "fans",
    "endorsement": "endorsements",
    "event interested": "event_responses",
    "profile view": "profile_visits",
    "friend request": "friends",
}


@dataclass(frozen=True)
class LabelError:
    """A family of labelled services whose label we judge wrong, and why.

    ``pattern`` is a regular expression searched in the service name. It names one family of
    near-identical names (one template that differs only in ids, sizes or countries), so the
    list stays readable; a row is excluded only when the pattern matches AND its label is one of
    ``theirs`` AND our answer is one of ``ours``."""

    pattern: str
    axis: str
    """``platform`` or ``metric``."""
    theirs: tuple[str, ...]
    """Their label(s), mapped to our ids."""
    ours: tuple[str | None, ...]
    """What we answer."""
    why: str
    example: str
    """One real service name of the family, for the reader (checked to match ``pattern``)."""

    def matches(self, service: str, theirs: str, ours: str | None) -> bool:
        return (
            theirs in self.theirs
            and ours in self.ours
            and bool(re.search(self.pattern, clean_text(service)))
        )


_SOCIAL = ("instagram", "facebook", "twitter", "linkedin", "twitch", "youtube", "tiktok")

# Disagreements judged to be errors of the authors' keyword rules, one family per entry.
LABEL_ERRORS: list[LabelError] = [
    # --- platform -------------------------------------------------------------------------
    LabelError(
        r"(?i)traffic from\W+\(?(instagram|facebook|twitter|linkedin|twitch|youtube|tiktok)"
        r"|web traffic \[(instagram|facebook|twitter|youtube)\]|website traffic.*referrer",
        "platform", _SOCIAL, ("website",),
        "website traffic whose referrer is the named platform: the buyer's website is the "
        "target (the same panels label 'USA Traffic from Instagram' as Website)",
        "Poland Traffic from  Instagram",
    ),
    LabelError(
        r"^(ID\d+ - )?(Youtube|Facebook|Twitter|Tik Tok) (Likes|Organic Views|Subscribers|"
        r"Followers|Video Views|Comments)",
        "platform", ("instagram", "app"), ("youtube", "facebook", "twitter", "tiktok"),
        "the name starts with another platform; the label is shifted from a neighbouring row "
        "(the dataset's label-shift quirk)",
        "ID1451 - Youtube Likes REAL [NON-DROP - R∞] [💎300% BIG BONUS] ⚡️⚡️⚡️⭐⭐🔥🔥💧🍓👍🏻♻",
    ),
    LabelError(
        r"(?i)google play(?! ?music)",
        "platform", ("google",), ("app",),
        "Google Play is the Android app store: app installs and downloads (labelled App "
        "elsewhere, e.g. 'Android App Installs')",
        "Google Play Store App Download",
    ),
    LabelError(
        r"^🔁 YT (Facebook|Twitter|Google|Whatsapp|REDITT) Shares",
        "platform", ("facebook", "twitter", "google", "app"), ("youtube",),
        "YouTube shares with a referrer platform: 'YT' names the target, the platform the "
        "referrer (the same panel lists 'Youtube Shares (FB referrer)')",
        "🔁 YT Facebook Shares ⚡️",
    ),
    LabelError(
        r"(?i)^likee ",
        "platform", ("app",), ("likee",),
        "Likee is a video platform with its own followers and likes, not an app-store product",
        "Likee App Followers [NR]",
    ),
    # --- metric ---------------------------------------------------------------------------
    LabelError(
        r"(?i)app (keyword search \+ )?installs? \+ open.*real traffic",
        "metric", ("traffic",), ("installs",),
        "CPI campaigns sell installs; '[REAL TRAFFIC - region]' says where the installs come from",
        "ID1967 - Android App Installs + Open - CPI HR Campaign [REAL TRAFFIC - WORLDWIDE] [10M] [0-12H] ⚡️⚡️⚡️⭐🔥",
    ),
    LabelError(
        r"(?i)comments.*(from |of )?\d+k\+? followers? accounts?|comments from accounts of \d+k\+? followers",
        "metric", ("followers",), ("comments",),
        "comments written by accounts that have 10K+ followers: the product is comments",
        "Instagram Comments [from 10K+ Followers accounts] [Random 5 Comments] [1 Hour Delivery]",
    ),
    LabelError(
        r"(?i)mentions?.*(users? followers|media likers|liked (all )?posts|who liked|commented)",
        "metric", ("followers", "likes", "comments"), ("mentions",),
        "mentions of a target list (a user's followers, likers, commenters): the product is mentions",
        "Instagram Mentions [100K] [USER FOLLOWERS] ⚡️⭐🔥",
    ),
    LabelError(
        r"(?i)traffic source ?:|traffic ?: ",
        "metric", ("traffic",), ("watch_time", "views"),
        "YouTube watch time whose 'Traffic Source: Facebook/Suggested' is a delivery method",
        "YouTube SEO [ HR | 10 -15 Mins Watch times ] [ Traffic Source : Facebook ]⭐🔥",
    ),
    LabelError(
        r"(?i)facebook - fan likes|facebook page\s+likes",
        "metric", ("likes",), ("page_likes",),
        "Facebook 'fans' are page likers ('Fan Likes'); 'Facebook Page  Likes' (two spaces) "
        "defeated the label rule for page likes",
        "🔹Facebook - Fan Likes [ G30 - Max 50K ]",
    ),
    LabelError(
        r"(?i)^(id\d+ - |id: \d+ - )?likee ",
        "metric", ("likes",), ("followers", "shares", "comments", "views"),
        "'Like' is part of the platform name Likee, not the product",
        "Likee Views [10K] [R30] [1H - 2K/Day]",
    ),
    LabelError(
        r"(?i)live view(er)?s.*\+ (heart )?likes? \+|video package \d+ \( ?[\d ]+ views \+ likes"
        r"|live video views.*\+ (heart |natural speed )?likes?"
        r"|plays \+ [\dk]+ saves \+ [\dk]+ follow|\d+ retweets \|? ?\d+ likes",
        "metric", ("likes", "saves", "followers"), ("views", "video_views", "plays", "retweets"),
        "bundle of several metrics: we take the first named, the unit the quantity counts "
        "('5 000 Views + Likes + Comments'); the label rule takes a fixed keyword order",
        "ID 663-Youtube Video Package 1 ( 5 000 Views + Likes + Comments )",
    ),
    LabelError(
        r"(?i)playlist|digital playground",
        "metric", ("plays",), (None,),
        "'play' inside 'Playlist' / 'Playground': playlist placements and an adult site, not plays",
        "Audiomack - Add to Playlist",
    ),
    LabelError(
        r"(?i)poll",
        "metric", ("votes",), ("poll_votes",),
        "poll votes; the label rule missed the styled '𝐏𝐎𝐋𝐋' and the plural 'Polls'",
        "Facebook 𝐏𝐎𝐋𝐋 Votes | Max 20k",
    ),
    LabelError(
        r"(?i)votes review (yes|no) helpful",
        "metric", ("reviews",), ("votes",),
        "helpful/unhelpful votes on a review, not reviews",
        "IMDb Votes Review YES Helpful [10K] [R∞] [24H - 500/Day]",
    ),
    LabelError(
        r"(?i)pageviews",
        "metric", ("views",), ("traffic",),
        "website page views are website traffic (no platform is named)",
        "60K WorldWide Pageviews [Long Sessions]",
    ),
    LabelError(
        r"(?i)guest post publishing|\(shared accounts\).*backlinks",
        "metric", ("reviews", "views", "shares"), ("backlinks",),
        "SEO guest posts / backlinks; the label comes from a word of the site's niche or domain "
        "('Interviews', 'Bluesrockreview.com', 'Shared accounts')",
        "ID883 - Web 2.0 blogs (Shared accounts) Top Quality Backlinks! [12-48HR] ⭐🔥⚡️⚡️⚡️",
    ),
    LabelError(
        r"(?i)recommendations \[custom comment\]",
        "metric", ("comments",), ("recommendations",),
        "Facebook page recommendations with a custom text: the product is recommendations",
        "Facebook Page Recommendations [Custom Comment] [Real USA Max 500]⚡",
    ),
    LabelError(
        r"(?i)watch time booster - ads views method",
        "metric", ("ad_views",), ("watch_time",),
        "watch time delivered through ads: 'Ads Views Method' is the method",
        "ID3590 - YouTube Watch Time Booster - Ads Views Method - Any Length ⚡️⚡️⚡️⭐🔥💧🆕",
    ),
    LabelError(
        r"(?i)google play installs",
        "metric", ("plays",), ("installs",),
        "'Play' is part of 'Google Play': the product is installs",
        "ID2566 - Android App Google Play installs - Real Install ~⚡️⭐🔥💧🍓",
    ),
]


# --------------------------------------------------------------------------------------------
# Loading and scoring (module-level functions so that the report can be reproduced by hand)


@dataclass(frozen=True)
class LabeledRow:
    panel: str
    service: str
    platform_label: str | None
    """Mapped id; None when the label has no counterpart; "" when the label is empty."""
    metric_label: str | None


def load_labeled_rows(smmpanels_dir: Path) -> list[LabeledRow]:
    """Every labelled file, deduplicated by (panel, stripped service name)."""
    labeled = smmpanels_dir / "labeled"
    seen: dict[tuple[str, str], LabeledRow] = {}
    for path in sorted(labeled.glob("*/*.csv.gz")):
        panel = path.parent.name
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                service = (record.get("Service") or "").strip()
                key = (panel, service)
                if not service or key in seen:
                    continue
                seen[key] = LabeledRow(
                    panel=panel,
                    service=service,
                    platform_label=_map_label(record.get("Site"), PLATFORM_LABELS),
                    metric_label=_map_label(record.get("Product"), METRIC_LABELS),
                )
    return list(seen.values())


def _map_label(raw: str | None, table: dict[str, str]) -> str | None:
    label = (raw or "").strip()
    if label in EMPTY_LABELS:
        return ""
    return table.get(label)


def main_classes(labels: Iterable[str | None], coverage: float = MAIN_CLASS_COVERAGE) -> list[str]:
    """The most frequent labels that together cover ``coverage`` of the non-empty labels."""
    counts = Counter(label for label in labels if label != "")
    total = sum(counts.values())
    chosen: list[str] = []
    covered = 0
    for label, count in counts.most_common():
        if covered >= coverage * total:
            break
        if label is None:  # no counterpart in our vocabulary: cannot be a main class
            covered += count
            continue
        chosen.append(label)
        covered += count
    return chosen


@dataclass(frozen=True)
class Disagreement:
    panel: str
    service: str
    theirs: str
    ours: str | None


@dataclass
class AxisReport:
    axis: str
    classes: list[str]
    scored: int = 0
    agreed: int = 0
    excluded_label_errors: int = 0
    out_of_scope: int = 0
    disagreements: list[Disagreement] = field(default_factory=list)
    baseline_agreed: int = 0
    raw_scored: int = 0
    """Rows scored before excluding label errors."""
    raw_agreed: int = 0
    excluded_by_entry: Counter[str] = field(default_factory=Counter)

    @property
    def agreement(self) -> float:
        return self.agreed / self.scored if self.scored else 0.0

    @property
    def raw_agreement(self) -> float:
        return self.raw_agreed / self.raw_scored if self.raw_scored else 0.0

    @property
    def baseline_agreement(self) -> float:
        return self.baseline_agreed / self.scored if self.scored else 0.0


def measure(
    rows: list[LabeledRow],
    classify: Callable[[str], Classification],
    label_errors: Iterable[LabelError] = (),
    baseline: Callable[[str], Classification] | None = None,
) -> dict[str, AxisReport]:
    """Score ``classify`` against the main-class labels; label errors leave the denominator."""
    errors_by_axis = {
        axis: [e for e in label_errors if e.axis == axis] for axis in ("platform", "metric")
    }
    reports = {
        "platform": AxisReport("platform", main_classes(r.platform_label for r in rows)),
        "metric": AxisReport("metric", main_classes(r.metric_label for r in rows)),
    }
    for row in rows:
        ours = classify(row.service)
        plain = baseline(row.service) if baseline else None
        for axis, theirs, answer, plain_answer in (
            ("platform", row.platform_label, ours.platform, plain and plain.platform),
            ("metric", row.metric_label, ours.metric, plain and plain.metric),
        ):
            report = reports[axis]
            if not theirs or theirs not in report.classes:
                report.out_of_scope += 1
                continue
            error = next(
                (e for e in errors_by_axis[axis] if e.matches(row.service, theirs, answer)), None
            )
            report.raw_scored += 1
            report.raw_agreed += answer == theirs
            if error is not None:
                report.excluded_label_errors += 1
                report.excluded_by_entry[error.pattern] += 1
                continue
            report.scored += 1
            report.baseline_agreed += plain_answer == theirs
            if answer == theirs:
                report.agreed += 1
            else:
                report.disagreements.append(Disagreement(row.panel, row.service, theirs, answer))
    return reports


def format_report(reports: dict[str, AxisReport], n_rows: int) -> str:
    lines = [f"labelled services (panel, name) deduplicated over all files: {n_rows}"]
    for report in reports.values():
        lines.append(
            f"\n{report.axis}: agreement {report.agreement:.2%} on {report.scored} rows "
            f"(plain keyword baseline {report.baseline_agreement:.2%} on the same rows); "
            f"before excluding {report.excluded_label_errors} label-error rows: "
            f"{report.raw_agreement:.2%} on {report.raw_scored}; "
            f"not scored (empty label or not a main class): {report.out_of_scope}"
        )
        lines.append(f"  main classes ({len(report.classes)}): {', '.join(report.classes)}")
        confusion = Counter((d.theirs, d.ours) for d in report.disagreements)
        lines.append("  top confusions (theirs -> ours: rows):")
        for (theirs, ours), count in confusion.most_common(20):
            example = next(d.service for d in report.disagreements if (d.theirs, d.ours) == (theirs, ours))
            lines.append(f"    {theirs:>12} -> {ours!s:<14} {count:5d}   e.g. {example[:80]!r}")
        if report.excluded_by_entry:
            lines.append("  label errors excluded (rows per LABEL_ERRORS entry):")
            for error in LABEL_ERRORS:
                if error.axis == report.axis:
                    count = report.excluded_by_entry.get(error.pattern, 0)
                    lines.append(f"    {count:5d}  {error.why[:90]}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The plain keyword baseline: the first platform / metric word found as a substring.

_BASELINE_PLATFORMS = {
    "instagram": ["instagram"], "youtube": ["youtube"], "website": ["website", "traffic"],
    "facebook": ["facebook"], "spotify": ["spotify"], "twitter": ["twitter"],
    "tiktok": ["tiktok"], "telegram": ["telegram"], "twitch": ["twitch"],
    "soundcloud": ["soundcloud"], "app": ["app"], "linkedin": ["linkedin"], "google": ["google"],
}
_BASELINE_METRICS = {
    "views": ["view"], "likes": ["like"], "traffic": ["traffic"], "followers": ["follower"],
    "comments": ["comment"], "plays": ["play"], "shares": ["share"], "video_views": ["video view"],
    "subscribers": ["subscriber"], "ad_views": ["ads view"], "page_likes": ["page like"],
    "reviews": ["review"], "impressions": ["impression"], "saves": ["save"],
    "story_views": ["story view"], "votes": ["vote"], "listeners": ["listener"],
    "members": ["member"],
}


def _first_substring(text: str, table: dict[str, list[str]]) -> str | None:
    best: tuple[int, int, str] | None = None
    for ident, words in table.items():
        for word in words:
            position = text.find(word)
            if position >= 0 and (best is None or (position, -len(word)) < best[:2]):
                best = (position, -len(word), ident)
    return best[2] if best else None


def plain_keyword_baseline(name: str) -> Classification:
    text = name.lower()
    return Classification(
        _first_substring(text, _BASELINE_PLATFORMS), _first_substring(text, _BASELINE_METRICS)
    )


# --------------------------------------------------------------------------------------------
# The test


@pytest.fixture(scope="module")
def labeled_rows(smmpanels_dir: Path) -> list[LabeledRow]:
    rows = load_labeled_rows(smmpanels_dir)
    if not rows:
        pytest.fail(f"no labelled rows under {smmpanels_dir / 'labeled'}")
    return rows


@pytest.fixture(scope="module")
def reports(labeled_rows: list[LabeledRow]) -> dict[str, AxisReport]:
    taxonomy = load_taxonomy()
    return measure(labeled_rows, taxonomy.classify, LABEL_ERRORS, plain_keyword_baseline)


def test_agreement_with_real_labels(
    labeled_rows: list[LabeledRow], reports: dict[str, AxisReport]
) -> None:
    print("\n" + format_report(reports, len(labeled_rows)))
    platform, metric = reports["platform"], reports["metric"]
    assert platform.agreement >= PLATFORM_THRESHOLD, format_report(reports, len(labeled_rows))
    assert metric.agreement >= METRIC_THRESHOLD, format_report(reports, len(labeled_rows))
    # Clearly better than matching plain keywords: at most half the baseline's disagreements.
    for report in (platform, metric):
        assert 1 - report.agreement <= 0.5 * (1 - report.baseline_agreement), report.axis


def test_every_label_error_entry_is_used(reports: dict[str, AxisReport]) -> None:
    """An entry that excludes nothing is stale (or hides nothing): remove it."""
    unused = [
        e.pattern for e in LABEL_ERRORS if not reports[e.axis].excluded_by_entry.get(e.pattern)
    ]
    assert not unused, f"LABEL_ERRORS entries that exclude no row: {unused}"


@pytest.mark.parametrize("error", LABEL_ERRORS, ids=lambda e: f"{e.axis}-{e.example[:40]}")
def test_label_error_entry_is_explained(error: LabelError) -> None:
    assert error.axis in {"platform", "metric"}
    assert not set(error.theirs) & set(error.ours), "their label cannot be our answer"
    assert len(error.why) > 20, "say why this is a label error"
    assert re.search(error.pattern, clean_text(error.example)), "the example must be of the family"
    ours = getattr(load_taxonomy().classify(error.example), error.axis)
    assert ours in error.ours, f"we answer {ours!r} for the example, not one of {error.ours}"


def test_label_errors_are_a_small_share(reports: dict[str, AxisReport]) -> None:
    # Excluding is for clear label mistakes, not for tuning: keep it under 2 % of scored rows.
    for report in reports.values():
        assert report.excluded_label_errors <= 0.02 * report.raw_scored, report.axis


def test_main_classes_cover_the_frequent_labels(reports: dict[str, AxisReport]) -> None:
    # Guards the definition of "main classes" against a silent change of the data or mapping.
    assert {"instagram", "youtube", "website", "facebook", "spotify", "twitter"} <= set(
        reports["platform"].classes
    )
    assert {"views", "likes", "followers", "traffic", "comments", "plays"} <= set(
        reports["metric"].classes
    )

