"""Platform x metric classification of service names (``Instagram Likes [10K]`` -> instagram, likes).

The vocabulary and keywords live in ``config/taxonomy.yaml`` (many languages); this module holds
the rules that use them:

1. The name (and the category, when given) is cleaned with :func:`pipelines.text.clean_text`
   (NFKC folds styled Unicode such as ``𝐈𝐧𝐬𝐭𝐚𝐠𝐫𝐚𝐦``), then *folded* for matching: lower case,
   Turkish ``İ``/``ı`` -> ``i``, small capitals -> letters, accents removed.
2. Keywords are found with two precompiled regular expressions, one alternation over every
   platform keyword and one over every metric keyword. Alternatives are grouped by their first
   letter (so a scan costs a few microseconds, not one pass per keyword), longer keywords are
   tried first (``google play`` before ``google``, ``comment likes`` before ``comments``), and
   word boundaries are checked with lookarounds on Unicode word characters, which works for
   Cyrillic, Arabic, Vietnamese, ...; keywords in unspaced scripts (CJK, Thai) match anywhere.
3. Metric: the first metric named in the name, unless a later one refines it (``Views - Ads
   Views`` -> ad_views) or it yields to a later one (``App Install + Review`` -> reviews); else
   the category's. Weak words (``accounts``, ``reach``, ``seo``, ``streams``) count only when
   nothing stronger is named. A metric word inside a platform name is ignored (``Google Play``).
   A category metric that refines the name's (``Views`` under ``Instagram Story Views``) wins.
4. Platform: the first platform named in the name as the *target*; a platform named as a traffic
   source (``Traffic from Instagram``, ``Shares [Facebook referrer]``) is not the target. A higher
   ``priority`` beats position (``Spotify Podcast Plays`` -> podcast; ``Facebook Website Likes``
   -> website). Then, in order: the category's platform, weak hints (``reels``, ``tweets``), the
   platform the metric implies (``Traffic`` -> website, ``Retweets`` -> twitter), and ``website``
   when the only platforms named are sources (``Social Shares from Reddit``).
5. The platform's ``metric_aliases`` rename generic metrics (YouTube followers -> subscribers,
   Telegram subscribers -> members).

Unknown stays ``None``: nothing is guessed.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pipelines.text import clean_text

# libyaml's parser when PyYAML was built with it (the same safe constructors, about ten times
# faster than the pure-Python parser: each crawl process reads this file).
SAFE_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = [
    "Classification",
    "Taxonomy",
    "TaxonomyError",
    "classify",
    "default_taxonomy_path",
    "fold_for_matching",
    "load_taxonomy",
]

_ENV_PATH = "CLICKFARM_TAXONOMY"
_REPO_CONFIG = Path(__file__).resolve().parents[1] / "config" / "taxonomy.yaml"
_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


class TaxonomyError(ValueError):
    """The taxonomy file is missing or invalid (unknown id, bad regex, ...)."""


@dataclass(frozen=True, slots=True)
class Classification:
    """What a service name sells. ``None`` means the name does not say."""

    platform: str | None
    """Platform id from ``config/taxonomy.yaml`` (``instagram``, ``website``, ``app``, ...)."""
    metric: str | None
    """Metric id (``followers``, ``likes``, ``video_views``, ``traffic``, ...)."""
    evidence: tuple[str, ...] = ()
    """How each value was decided, for debugging: ``"platform=website: name 'website'"``,
    ``"source: 'facebook' (traffic source, not the target)"``, ``"metric=likes: category 'likes'"``."""


# --------------------------------------------------------------------------------------------
# Folding: the same function is applied to keywords (at load) and to names (per call).

# Turkish dotted/dotless i (lower() turns "İ" into "i" + a combining dot), letters NFD does not
# decompose, and small capitals: NFKC leaves those alone but panels use them as styled text.
_FOLD_TABLE = str.maketrans(
    "İIıđĐłŁøØ" "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ",
    "iiiddlloo" "abcdefghijklmnopqrstuvwyz",
)
_COMBINING = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06ed\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)


def fold_for_matching(text: str) -> str:
    """Lower-case, fold Turkish i and small capitals, strip accents (``Takipçi`` -> ``takipci``).

    Applied to already-cleaned text; used on both sides of every keyword match."""
    folded = text.translate(_FOLD_TABLE).lower()
    if folded.isascii():
        return folded
    decomposed = _COMBINING.sub("", unicodedata.normalize("NFD", folded))
    return unicodedata.normalize("NFC", decomposed)


# --------------------------------------------------------------------------------------------
# Keyword matching

# "Word characters" are Unicode letters and digits; "_" is punctuation in service names.
_NOT_AFTER_WORD = r"(?<![^\W_])"
_NOT_BEFORE_WORD = r"(?![^\W_])"
_ESCAPE = re.compile(r"(\\.)")
_REGEX_META = set(".^$*+?{}[]\\|()")


def _is_unspaced_script(char: str) -> bool:
    """CJK, kana, Hangul, Thai, Lao, Khmer, Myanmar: scripts whose words are not space-separated."""
    code = ord(char)
    return (
        0x0E00 <= code <= 0x0EFF  # Thai, Lao
        or 0x1000 <= code <= 0x109F  # Myanmar
        or 0x1780 <= code <= 0x17FF  # Khmer
        or 0x1100 <= code <= 0x11FF  # Hangul jamo
        or 0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x9FFF  # CJK
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF
    )


_UNSPACED_TEXT = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u1100-\u11ff\u3040-\u30ff"
    "\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


@dataclass(frozen=True, slots=True)
class _Keyword:
    owner: str
    """Platform or metric id."""
    pattern: str
    """Folded regex as written in the config."""
    weak: bool
    glued: bool = False
    """May be glued to the next word ("YouTubeWatchtime"): long plain platform names only."""


@dataclass(frozen=True, slots=True)
class _Hit:
    owner: str
    start: int
    end: int
    text: str
    weak: bool


class _KeywordMatcher:
    """One compiled alternation over many keywords; finds leftmost, longest-first hits."""

    def __init__(self, keywords: list[_Keyword]) -> None:
        self._keywords = keywords
        spaced: dict[str, list[tuple[str, str]]] = defaultdict(list)
        unspaced: list[tuple[str, str]] = []
        for index, keyword in enumerate(keywords):
            group = f"k{index}"
            pattern = keyword.pattern
            last = pattern.rstrip("?*+)")[-1:] or pattern[-1]
            tail = "" if keyword.glued or _is_unspaced_script(last) else _NOT_BEFORE_WORD
            if _is_unspaced_script(pattern[0]):
                unspaced.append((pattern, f"(?P<{group}>{pattern}){tail}"))
                continue
            # Bucket by a literal first character so the engine rejects most keywords after
            # comparing one character; keywords starting with a group or class go in "".
            first = pattern[0]
            literal_first = (
                first not in _REGEX_META and (len(pattern) == 1 or pattern[1] not in "?*+{")
            )
            bucket = first if literal_first else ""
            body = pattern[1:] if literal_first else pattern
            spaced[bucket].append((pattern, f"(?P<{group}>{body}){tail}"))

        def ordered(alternatives: Iterable[tuple[str, str]]) -> str:
            # Longer patterns first: "google play" before "google" at the same position.
            return "|".join(alt for _, alt in sorted(alternatives, key=lambda a: -len(a[0])))

        branches = []
        if "" in spaced:
            branches.append(ordered(spaced.pop("")))
        for first, alternatives in sorted(spaced.items()):
            branches.append(f"{re.escape(first)}(?:{ordered(alternatives)})")
        # Two scans, not one alternation: sre gets much slower (x20 measured) when the
        # word-boundary branch and the boundary-free branch share one pattern.
        try:
            self._spaced = (
                re.compile(f"{_NOT_AFTER_WORD}(?:{'|'.join(branches)})") if branches else None
            )
            self._unspaced = re.compile(ordered(unspaced)) if unspaced else None
        except re.error as error:  # pragma: no cover - caught per keyword at load time
            raise TaxonomyError(f"keywords do not compile together: {error}") from error

    def find(self, folded_text: str) -> list[_Hit]:
        if not folded_text:
            return []
        hits = self._scan(self._spaced, folded_text)
        if self._unspaced is not None and _UNSPACED_TEXT.search(folded_text):
            hits += self._scan(self._unspaced, folded_text)
            hits.sort(key=lambda hit: hit.start)
        return hits

    def _scan(self, regex: re.Pattern[str] | None, folded_text: str) -> list[_Hit]:
        if regex is None:
            return []
        hits = []
        for match in regex.finditer(folded_text):
            keyword = self._keywords[int(match.lastgroup[1:])]  # type: ignore[index]
            hits.append(
                _Hit(keyword.owner, match.start(), match.end(), match.group(), keyword.weak)
            )
        return hits


# --------------------------------------------------------------------------------------------
# The taxonomy


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    id: str
    name: str
    priority: int = 0
    metric_aliases: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MetricSpec:
    id: str
    name: str
    weak: bool = False
    web: bool = False
    implies_platform: str | None = None
    refines: str | None = None
    yields_to: tuple[str, ...] = ()


class Taxonomy:
    """The loaded vocabulary with its compiled matchers. Build with :func:`load_taxonomy`."""

    def __init__(self, data: Mapping[str, Any], *, source: str = "<dict>") -> None:
        self.source = source
        platforms_raw = _require_mapping(data, "platforms", source)
        metrics_raw = _require_mapping(data, "metrics", source)

        self.metrics: dict[str, MetricSpec] = {}
        metric_keywords: list[_Keyword] = []
        for metric_id, spec in metrics_raw.items():
            _check_id(metric_id, "metric", source)
            spec = spec or {}
            weak = bool(spec.get("weak", False))
            self.metrics[metric_id] = MetricSpec(
                id=metric_id,
                name=str(spec.get("name", metric_id)),
                weak=weak,
                web=bool(spec.get("web", False)),
                implies_platform=spec.get("implies_platform"),
                refines=spec.get("refines"),
                yields_to=tuple(spec.get("yields_to") or ()),
            )
            metric_keywords += _keywords(metric_id, spec.get("keywords"), weak, source)
            metric_keywords += _keywords(metric_id, spec.get("weak_keywords"), True, source)

        self.platforms: dict[str, PlatformSpec] = {}
        platform_keywords: list[_Keyword] = []
        hint_keywords: list[_Keyword] = []
        for platform_id, spec in platforms_raw.items():
            _check_id(platform_id, "platform", source)
            spec = spec or {}
            aliases = dict(spec.get("metric_aliases") or {})
            for generic, specific in aliases.items():
                for metric_id in (generic, specific):
                    if metric_id not in self.metrics:
                        raise TaxonomyError(
                            f"{source}: platform {platform_id!r} aliases unknown metric "
                            f"{metric_id!r}"
                        )
            self.platforms[platform_id] = PlatformSpec(
                id=platform_id,
                name=str(spec.get("name", platform_id)),
                priority=int(spec.get("priority", 0)),
                metric_aliases=aliases,
            )
            platform_keywords += _keywords(
                platform_id, spec.get("keywords"), False, source, allow_glued=True
            )
            hint_keywords += _keywords(platform_id, spec.get("hints"), True, source)

        for metric in self.metrics.values():
            if metric.implies_platform and metric.implies_platform not in self.platforms:
                raise TaxonomyError(
                    f"{source}: metric {metric.id!r} implies unknown platform "
                    f"{metric.implies_platform!r}"
                )
            for related in (metric.refines, *metric.yields_to):
                if related and related not in self.metrics:
                    raise TaxonomyError(
                        f"{source}: metric {metric.id!r} refers to unknown metric {related!r}"
                    )

        self._platform_matcher = _KeywordMatcher(platform_keywords)
        self._hint_matcher = _KeywordMatcher(hint_keywords)
        self._metric_matcher = _KeywordMatcher(metric_keywords)
        markers = data.get("source_markers") or {}
        before = markers.get("before") or {}
        after = markers.get("after") or {}
        self._source_before_strong = _marker_regex(before.get("strong"), kind="before")
        self._source_before_weak = _marker_regex(before.get("weak"), kind="before_weak")
        self._source_after = _marker_regex(after.get("strong"), kind="after")
        # Per-instance cache: classify() runs for every offer of every crawl and names repeat
        # (resellers copy names; one panel lists ~150 country variants of one service).
        self._cached_classify = lru_cache(maxsize=200_000)(self._classify)

    # ---------------------------------------------------------------------------------------

    def classify(self, name: str | None, category: str | None = None) -> Classification:
        """Classify a raw service name (and optional category); cached on ``(name, category)``."""
        return self._cached_classify(name, category)

    def _classify(self, name: str | None, category: str | None = None) -> Classification:
        evidence: list[str] = []
        name_text = fold_for_matching(clean_text(name))
        category_text = fold_for_matching(clean_text(category)) if category else ""

        name_platforms = self._platform_matcher.find(name_text)
        category_platforms = self._platform_matcher.find(category_text)
        metric = self._resolve_metric(
            name_text, category_text, name_platforms, category_platforms, evidence
        )
        texts = (("name", name_text, name_platforms), ("category", category_text, category_platforms))
        platform = self._resolve_platform(texts, metric, evidence)
        if platform is not None and metric is not None:
            alias = self.platforms[platform].metric_aliases.get(metric)
            if alias is not None:
                evidence.append(f"metric {metric} -> {alias} on {platform}")
                metric = alias
        return Classification(platform=platform, metric=metric, evidence=tuple(evidence))

    def _resolve_metric(
        self,
        name_text: str,
        category_text: str,
        name_platforms: list[_Hit],
        category_platforms: list[_Hit],
        evidence: list[str],
    ) -> str | None:
        # A metric word inside a platform name is not a metric: "Google Play Store" sells no plays.
        name_hits = _outside(self._metric_matcher.find(name_text), name_platforms)
        category_hits = _outside(self._metric_matcher.find(category_text), category_platforms)
        name_strong = self._main_metric(name_hits)
        category_strong = self._main_metric(category_hits)
        if name_strong is not None:
            refined = category_strong is not None and self._refines(
                category_strong.owner, name_strong.owner
            )
            if refined and category_strong is not None:
                evidence.append(
                    f"metric={category_strong.owner}: category {category_strong.text!r} "
                    f"refines name {name_strong.text!r}"
                )
                return category_strong.owner
            evidence.append(f"metric={name_strong.owner}: name {name_strong.text!r}")
            return name_strong.owner
        if category_strong is not None:
            evidence.append(f"metric={category_strong.owner}: category {category_strong.text!r}")
            return category_strong.owner
        for where, hits in (("name", name_hits), ("category", category_hits)):
            if hits:
                evidence.append(f"metric={hits[0].owner}: {where} (weak) {hits[0].text!r}")
                return hits[0].owner
        return None

    def _main_metric(self, hits: list[_Hit]) -> _Hit | None:
        """The first strong metric named, unless a later one refines it ("Views - Adwords Ads
        Views" -> ad_views) or it yields to a later one ("App Install + Review" -> reviews)."""
        strong = [hit for hit in hits if not hit.weak]
        if not strong:
            return None
        first = strong[0]
        for later in strong[1:]:
            if self._refines(later.owner, first.owner):
                return later
        yields_to = self.metrics[first.owner].yields_to
        for later in strong[1:]:
            if later.owner in yields_to:
                return later
        return first

    def _refines(self, specific: str, generic: str) -> bool:
        seen = set()
        current: str | None = specific
        while current is not None and current not in seen:
            seen.add(current)
            current = self.metrics[current].refines
            if current == generic:
                return True
        return False

    def _resolve_platform(
        self,
        texts: tuple[tuple[str, str, list[_Hit]], ...],
        metric: str | None,
        evidence: list[str],
    ) -> str | None:
        web_metric = metric is not None and self.metrics[metric].web
        sources: list[_Hit] = []
        for where, text, hits in texts:
            targets = []
            for hit in hits:
                if self._is_source(text, hit, web_metric):
                    sources.append(hit)
                    evidence.append(f"source: {hit.text!r} ({where}; a traffic source, not the target)")
                else:
                    targets.append(hit)
            if targets:
                best = max(targets, key=lambda h: (self.platforms[h.owner].priority, -h.start))
                evidence.append(f"platform={best.owner}: {where} {best.text!r}")
                return best.owner
        for where, text, _ in texts:
            hints = self._hint_matcher.find(text) if text else []
            if hints:
                evidence.append(f"platform={hints[0].owner}: {where} hint {hints[0].text!r}")
                return hints[0].owner
        if metric is not None and self.metrics[metric].implies_platform:
            implied = self.metrics[metric].implies_platform
            evidence.append(f"platform={implied}: implied by metric {metric}")
            return implied
        if sources and "website" in self.platforms:
            evidence.append("platform=website: only traffic sources are named")
            return "website"
        return None

    def _is_source(self, text: str, hit: _Hit, web_metric: bool) -> bool:
        before = text[max(0, hit.start - 40) : hit.start]
        if self._source_before_strong.search(before):
            return True
        if web_metric and self._source_before_weak.search(before):
            return True
        return bool(self._source_after.match(text, hit.end))


def _outside(hits: list[_Hit], spans: list[_Hit]) -> list[_Hit]:
    if not spans:
        return hits
    return [h for h in hits if not any(s.start <= h.start and h.end <= s.end for s in spans)]


def _marker_regex(markers: Iterable[str] | None, *, kind: str) -> re.Pattern[str]:
    words = [_fold_pattern(str(m)) for m in (markers or [])]
    if not words:
        return re.compile(r"(?!x)x")
    alternation = "|".join(sorted(words, key=len, reverse=True))
    marker = rf"{_NOT_AFTER_WORD}(?:{alternation}){_NOT_BEFORE_WORD}"
    if kind == "before":
        # "from Instagram", "from - (Instagram)", "from organic Google": the marker, then at
        # most one filler word and some punctuation, right before the platform.
        return re.compile(rf"{marker}[\W_]*(?:[^\W\d_]+[\W_]+)?$")
    if kind == "before_weak":
        # "Tráfego de Instagram" but not "[High DA] Youtube SEO": only spaces in between.
        return re.compile(rf"{marker}\s+$")
    # After the platform: "(Instagram referrer)", "[FACEBOOK REFERRER - 2K/D]".
    return re.compile(rf"[^\w\[\]]*(?:{alternation}){_NOT_BEFORE_WORD}")


def _require_mapping(data: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping) or not value:
        raise TaxonomyError(f"{source}: {key!r} must be a non-empty mapping")
    return value


def _check_id(identifier: Any, kind: str, source: str) -> None:
    if not isinstance(identifier, str) or not _ID.match(identifier):
        raise TaxonomyError(f"{source}: {kind} id {identifier!r} is not lower-case snake_case")


def _has_top_level_alternation(pattern: str) -> bool:
    # Keywords are spliced into one alternation by first letter, so "a|b" would change meaning.
    depth = 0
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[index + 1 : index + 2] == "]":  # "[]...]" starts with a literal "]"
                index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False


def _fold_pattern(pattern: str) -> str:
    """Fold a keyword regex like a name, leaving escapes alone (``\\W`` must stay upper-case)."""
    parts = _ESCAPE.split(pattern)
    return "".join(part if index % 2 else fold_for_matching(part) for index, part in enumerate(parts))


def _keywords(
    owner: str, raw: Any, weak: bool, source: str, *, allow_glued: bool = False
) -> list[_Keyword]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise TaxonomyError(f"{source}: keywords of {owner!r} must be a list")
    keywords = []
    for item in raw:
        pattern = str(item).strip()
        if not pattern:
            raise TaxonomyError(f"{source}: empty keyword for {owner!r}")
        folded = _fold_pattern(pattern)
        if _has_top_level_alternation(folded):
            raise TaxonomyError(
                f"{source}: keyword {pattern!r} of {owner!r} has a top-level '|'; "
                "write each alternative as its own keyword or wrap it in (?:...)"
            )
        try:
            compiled = re.compile(folded)
        except re.error as error:
            raise TaxonomyError(f"{source}: keyword {pattern!r} of {owner!r}: {error}") from error
        if compiled.groups:
            raise TaxonomyError(
                f"{source}: keyword {pattern!r} of {owner!r} has a capturing group; use (?:...)"
            )
        if compiled.match(""):
            raise TaxonomyError(f"{source}: keyword {pattern!r} of {owner!r} matches empty text")
        # Long plain names ("youtube", "instagram") are unambiguous even when a panel glues
        # the next word on ("YouTubeWatchtime"); short ones ("ig", "amazon" in "Amazonas") not.
        glued = allow_glued and folded.isalpha() and folded.isascii() and len(folded) >= 7
        keywords.append(_Keyword(owner, folded, weak, glued))
    return keywords


# --------------------------------------------------------------------------------------------
# Public entry points


def default_taxonomy_path() -> Path:
    """``$CLICKFARM_TAXONOMY`` if set, else ``config/taxonomy.yaml`` of this repository."""
    override = os.environ.get(_ENV_PATH)
    return Path(override) if override else _REPO_CONFIG


@lru_cache(maxsize=8)
def _load_cached(path: Path) -> Taxonomy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TaxonomyError(f"cannot read taxonomy {path}: {error}") from error
    try:
        data = yaml.load(text, Loader=SAFE_YAML_LOADER)
    except yaml.YAMLError as error:
        raise TaxonomyError(f"taxonomy {path} is not valid YAML: {error}") from error
    if not isinstance(data, Mapping):
        raise TaxonomyError(f"taxonomy {path} must be a mapping at the top level")
    return Taxonomy(data, source=str(path))


def load_taxonomy(path: str | os.PathLike[str] | None = None) -> Taxonomy:
    """Load and compile a taxonomy file (default :func:`default_taxonomy_path`); cached per path.

    Raises :class:`TaxonomyError` with the file and the offending entry when it is invalid."""
    resolved = Path(path) if path is not None else default_taxonomy_path()
    return _load_cached(resolved.resolve())


def classify(name: str | None, category: str | None = None) -> Classification:
    """Classify a raw service name (and optional category) with the default taxonomy.

    ``classify("Instagram Likes [10K] [LQ]")`` -> ``Classification("instagram", "likes", ...)``;
    ``classify("1K Likes", "Instagram Likes")`` takes the platform from the category;
    ``classify("Traffic from Instagram")`` -> website traffic. Cached on ``(name, category)``."""
    return load_taxonomy().classify(name, category)
