"""Attributes packed into service names: refill, quality, target country, speed, start, max, drop.

Sellers write these as free text (``Instagram Likes [10K] [LQ] [1H - 1K/Day] 💧``,
``Telegram Members [Refill: 7D] [Start Time: 0 - 1 Hr] [Max: 30K] [Speed: 20K/D]``). Each field
has a small table of patterns; the first match by position in the (cleaned) name wins, so a name
is read left to right like a person reads it. Anything the name does not say is ``None``: no
field is ever inferred from another (a "Premium" name says nothing about refill).

The description, when given, only fills fields the name left ``None``, and the position-based
"bare token" rules (``[5K]`` = max, ``[6H]`` = start) apply to the name only, where the
bracket layout gives them their meaning.

Choices (also in the field docstrings of :class:`core.offers.Attributes`):

- ``refill_days``: ``0`` for explicit "no refill" (``No Refill``, ``NR``, ``Không bảo hành``,
  ``Garantisiz``, ``Sin reposición``, ``Tanpa Refill``, ``No Guarantee``); ``365`` for
  lifetime (``R∞``, ``Lifetime Refill``, ``Life Time Guaranteed``); a number of days for
  ``R30``/``AR30``/``G30``/``[Refill: 30D]``/``30 Days Refill``/``365 Days Guarantee``/
  ``1 Month Refill``. A refill *without* a stated period (``Refill``, ``Refill Button``, ``♻️``)
  stays ``None``: it says there is some refill, not how long, and ``♻️`` means different things
  on different panels (the API ``refill`` flag, kept separately as ``refill_flag``, is the
  reliable "has a refill button" signal). ``R<n>`` codes below 7 (``R1``, ``R5``) are server or
  route numbers on the panels that use them, not refill periods, and are ignored.
- ``quality``: when several labels appear, the one that admits lower quality wins
  (``bot`` > ``lq`` > ``mixed`` > ``mq`` > ``real`` > ``premium`` > ``hq``): sellers do not
  advertise "bot" or "LQ" unless it is true, while "HQ"/"Premium" are marketing on everything.
  ``Real`` beats ``HQ`` because it is the more specific claim (``REAL HQ Followers`` = real).
- ``country``: one ISO 3166 alpha-2 code, from flag emoji or country names/adjectives in
  several languages (``BRAZIL``, ``Brazilian``, ``Brasil``, ``INDIAN``, ``Türkiye``, ``Türk``).
  ``None`` when no country, when two different countries are named (``USA + UK``), when the
  name says worldwide (``Worldwide``, ``Global``, ``WW``, ``Mixed countries``), and for regions
  and languages (``Arab``, ``Arabic``, ``Asia``, ``Europe``, ``Latin``, ``TIER 1``, ``Spanish``).
- ``speed_per_day``: ranges (``10k-30k/Day``) give the **lower** bound, the speed the seller
  actually commits to; per-hour and per-minute speeds are scaled to a day (``1K/H`` = 24000).
  ``Speed 5K`` without a unit is ``None``.
- ``start_time_hours``: the **upper** bound of the advertised start (``0 - 1 Hr`` = 1,
  ``Instant`` = 0, ``INSTANT-30MINS`` = 0.5), to two decimals.
- ``max_from_name``: ``Max 3M``, ``[Max: 30K]``, ``[MAX-15K]``, ``2K Max``, ``Tối đa 1M``, or a
  bare ``[10K]``/``| 1M |`` segment with a K/M/B suffix (JAP-style names put the max there).
  A bare number without a suffix (``[100]``) is not used; ``Max Unlimited`` is ``None``; a max
  followed by ``/D`` or ``per day`` is a speed, not a max.
- ``non_drop``: ``True`` for ``Non Drop``/``No Drop``/``Zero Drop``/``Never Drop``/``0% Drop``;
  ``False`` for any admitted drop: ``Less Drop``, ``Low Drop``, ``HIGH DROP``, ``10% Drop``,
  ``Drop Possible`` (non-drop means "no drop promised", and these promise some).
- ``drip_feed``: ``True`` for ``Drip Feed``/``Drip-feed``, ``False`` for ``No Drip``; the API
  ``dripfeed`` flag overrides it (done in :mod:`pipelines.normalize`).
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from functools import lru_cache
from itertools import compress
from typing import Any, NamedTuple

from core.offers import Attributes
from pipelines.money import QuantityError, parse_quantity
from pipelines.text import clean_text

_SKIP = object()
"""A handler's answer for "this match is not what the rule looks for, try the next one"."""

# A number as written in names: "30", "1.5", "10,000", with an optional K/M/B suffix (Cyrillic
# к/м too, some panels type them).
_N = (r"\d+(?:[.,]\d+)*(?:\s*(?:million|billion|thousand)\b|\s*[kKmMbBкКмМ](?![^\W\d_]))?")
_SUFFIXES = str.maketrans({"к": "k", "К": "k", "м": "m", "М": "m"})


def _number(text: str) -> int | None:
    """``"30K"`` -> 30000; ``None`` when it is not a whole number of units."""
    cleaned = text.translate(_SUFFIXES).replace(" ", "")
    try:
        return parse_quantity(cleaned)
    except QuantityError:
        return None


def _split_range(low: str, high: str) -> tuple[int | None, int | None]:
    """Both ends of ``"1-2K"``: a suffix written once applies to both ends when that keeps the
    range increasing (``1-2K`` = 1000-2000, but ``500-1K`` = 500-1000)."""
    high_value = _number(high)
    low_value = _number(low)
    high_suffix = re.search(r"[kKmMbBкКмМ]\s*$", high)
    if low_value is not None and high_value is not None and high_suffix \
            and not re.search(r"[kKmMbBкКмМ]\s*$", low):
        scaled = _number(low + high_suffix.group(0))
        if scaled is not None and scaled <= high_value:
            low_value = scaled
    return low_value, high_value


# --- pre-checks ----------------------------------------------------------------------------------
#
# Parsing runs cold for every offer of every crawl, and running a pattern over a text costs about
# the same whether it matches or not (most patterns start with \b or a look-behind, so `re` tries
# them at every position). So each pattern states what it cannot match without ("needs"): a
# keyword, or a short pattern, that every match of it shows in the text lower-cased (see
# _keyword_text). A text that lacks it skips the pattern: a substring check costs a fraction of a
# microsecond, a pattern run several. (One check is a gate kept for unchanged results rather than
# a need: _opens_refill_rules.)

Check = Callable[[str], bool]
"""A pre-check on a keyword text (:func:`_keyword_text`): ``False`` = the pattern cannot match."""


def _keyword_text(text: str) -> str:
    """The cleaned ``text`` lower-cased for pre-checks, so that a check sees whatever an
    IGNORECASE pattern matches: ``re`` also matches "ı" and "İ" to "i" and "ſ" to "s", which
    ``str.lower`` keeps apart. Character for character (``str.lower`` alone turns "İ" into two),
    so word boundaries, digits and spaces stay where they are in ``text``."""
    return text.replace("İ", "i").lower().replace("ı", "i").replace("ſ", "s")


def _any(*keywords: str) -> Check:
    """Needs one of ``keywords``."""
    folded = tuple(_keyword_text(keyword) for keyword in keywords)
    if len(folded) == 1:
        keyword = folded[0]
        return lambda keyword_text: keyword in keyword_text
    return lambda keyword_text: any(map(keyword_text.__contains__, folded))


def _shows(pattern: str) -> Check:
    """Needs ``pattern`` (lower case, case-sensitive, no "ı") to match the keyword text: for
    what one keyword does not pin down ("a number, then a month word"). The texts are cleaned
    (:func:`clean_text`), so any run of whitespace is one space."""
    search = re.compile(pattern).search
    return lambda keyword_text: search(keyword_text) is not None


def _passes(needs: Sequence[Check], keyword_text: str, known: dict[Check, bool]) -> bool:
    """Whether ``keyword_text`` passes all of ``needs``; ``known`` keeps the answers for this
    text, since patterns share checks (every refill rule needs a refill word)."""
    for check in needs:
        passed = known.get(check)
        if passed is None:
            passed = known[check] = check(keyword_text)
        if not passed:
            return False
    return True


class Rule(NamedTuple):
    """A pattern, what a match of it means, and the checks every match passes (the commonest
    first: when it fails, the others are not run)."""

    pattern: re.Pattern[str]
    handler: Callable[[re.Match[str]], Any]
    needs: tuple[Check, ...] = ()


class _RuleTable:
    """Rules in priority order, kept together by their first check: a text that fails it (most
    texts fail most checks) skips all of them in one step."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        by_first_check: dict[Check | None, list[tuple[int, Rule, tuple[Check, ...]]]] = {}
        for order, rule in enumerate(rules):
            first_check = rule.needs[0] if rule.needs else None
            by_first_check.setdefault(first_check, []).append((order, rule, rule.needs[1:]))
        self.by_first_check = tuple((check, tuple(members))
                                    for check, members in by_first_check.items())


def _first(text: str, keyword_text: str, table: _RuleTable) -> Any:
    """The value of the leftmost match whose handler accepts it (``_SKIP`` rejects); at the same
    position, the earlier rule wins. ``keyword_text``: ``_keyword_text(text)``.

    Matches are taken lazily in that order (a heap holding each rule's next match), so the
    usual case, an accepted first match, costs one search per rule, and a rule whose checks
    the text fails costs none."""
    known: dict[Check, bool] = {}
    pending: list[tuple[int, int, re.Match[str], Any, Callable[[re.Match[str]], Any]]] = []
    for first_check, members in table.by_first_check:
        if first_check is not None:
            passed = known.get(first_check)
            if passed is None:
                passed = known[first_check] = first_check(keyword_text)
            if not passed:
                continue
        for order, (pattern, handler, _needs), other_checks in members:
            if other_checks and not _passes(other_checks, keyword_text, known):
                continue
            matches = pattern.finditer(text)
            match = next(matches, None)
            if match is not None:
                pending.append((match.start(), order, match, matches, handler))
    heapq.heapify(pending)
    while pending:
        _start, order, match, matches, handler = pending[0]
        value = handler(match)
        if value is not _SKIP:
            return value
        # A rule's matches do not overlap and start further right each time, so (start, order)
        # never ties and the heap order is the order of a full sort of all matches.
        following = next(matches, None)
        if following is None:
            heapq.heappop(pending)
        else:
            heapq.heapreplace(pending, (following.start(), order, following, matches, handler))
    return None


def _rx(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def _rule(pattern: str, handler: Callable[[re.Match[str]], Any], *needs: Check,
          flags: int = re.IGNORECASE) -> Rule:
    return Rule(_rx(pattern, flags), handler, needs)


# --- refill ------------------------------------------------------------------------------------

_DAY_WORDS = r"(?:d|days?|dys?|gün|gun|hari|d[ií]as?|ngày|jours?|tage?)"
_MONTH_WORDS = r"(?:months?|mo|mos|ay|bulan|mes(?:es)?|meses|th[aá]ng|mois)"
_YEAR_WORDS = r"(?:years?|yr|yrs|yıl|tahun|a[nñ]os?|năm|ans?)"
_REFILL_WORDS = (r"(?:auto[\s-]*)?(?:refill|guarantee[ed]*|garant[ií]a|garanti\w*|warranty|"
                 r"reposi[cç][ií][oó]n|reposi[cç][aã]o|bảo\s*hành|garansi|jaminan)")
_LIFETIME = r"(?:life[\s-]*time|lifelong|forever|permanent|ömür\s*boyu|seumur\s*hidup|vĩnh\s*viễn|de\s*por\s*vida|vital[ií]cio)"
# Pre-checks for the word patterns above. A number and its unit are separated by at most a space
# and a hyphen (texts are cleaned); the unit words start as below.
_HAS_REFILL_WORD = _any("refill", "guarantee", "garant", "warranty", "reposi", "bảo", "garansi",
                        "jaminan")
_HAS_LIFETIME_WORD = _any("life", "forever", "permanent", "ömür", "seumur", "vĩnh", "vida", "vital")
_HAS_DAYS_AFTER_NUMBER = _shows(r"\d[ -]{0,2}(?:d|gün|gun|hari|ngày|jour|tag)")
_HAS_MONTHS_AFTER_NUMBER = _shows(r"\d[ -]{0,2}(?:mo|ay|bulan|mes|th[aá]ng)")
_HAS_YEARS_AFTER_NUMBER = _shows(r"\d[ -]{0,2}(?:y|tahun|a[nñ]|năm)")
_HAS_REFILL_CODE = _shows(r"[rg][~\-]?[\d∞♾]")
_HAS_NR = _shows(r"\bnr\b")
_HAS_REFILL_GATE_WORD = _any("refill", "guarant", "garant", "garansi", "warrant", "reposi", "bảo", "jaminan",
                             "life", "forever", "permanent", "ömür", "seumur", "vĩnh", "vida", "vital")


def _opens_refill_rules(keyword_text: str) -> bool:
    """The refill rules' gate as it was before the pre-checks (the same matches, made on the
    keyword text), kept so that results do not change. It lacks "garansi": "Garansi 30 Hari"
    alone is not read."""
    return (_HAS_REFILL_GATE_WORD(keyword_text) or _HAS_NR(keyword_text)
            or _HAS_REFILL_CODE(keyword_text))



def _refill_code(match: re.Match[str]) -> Any:
    days = match["days"]
    if days in ("∞", "♾"):
        return 365
    value = int(days)
    return value if 7 <= value <= 3650 else _SKIP


def _days(scale: int) -> Callable[[re.Match[str]], Any]:
    def handler(match: re.Match[str]) -> Any:
        value = int(match["n"]) * scale
        return value if 0 < value <= 3650 else _SKIP
    return handler


_REFILL_RULES: list[Rule] = [
    # explicit "no refill" in the languages panels use
    _rule(r"\b(?:no|non|not|without|w/o|zero)[\s\-_]*(?:auto[\s-]*)?(?:refill|guarantee|warranty)s?\b",
          lambda m: 0, _opens_refill_rules, _any("refill", "guarantee", "warranty")),
    _rule(r"\bNR\b", lambda m: 0, _opens_refill_rules, _HAS_NR, flags=0),
    _rule(r"không\s*bảo\s*hành|garantisiz|sin\s*(?:reposici[oó]n|garant[ií]a|refill)|"
          r"sem\s*(?:reposi[cç][aã]o|garantia|refill)|tanpa\s*(?:refill|garansi)|"
          r"refill\s*[:\-=]\s*(?:no|none|yok|non|tidak|không)\b",
          lambda m: 0, _opens_refill_rules,
          _shows(r"không ?bảo|garantisiz|sin ?(?:reposici|garant|refill)|sem ?(?:reposi|garantia|refill)|"
                 r"tanpa ?(?:refill|garansi)|refill ?[:\-=] ?(?:no|yok|tidak|không)")),
    # R30 / AR30 / G30 / R∞ codes (upper case, as panels write them)
    _rule(r"(?<![\w∞])A?[RG][~\-]?(?P<days>\d{1,4}|∞|♾)D?(?![\w∞])", _refill_code,
          _opens_refill_rules, _HAS_REFILL_CODE, flags=0),
    # "[Refill: 30D]", "Refill 3 Day", "Guarantee 30 Days", "REFILL 30D", "Bảo hành 30 ngày"
    _rule(rf"{_REFILL_WORDS}\s*[:\-=(]?\s*(?P<n>\d{{1,4}})\s*[\-\s]?{_DAY_WORDS}\b", _days(1),
          _opens_refill_rules, _HAS_REFILL_WORD, _HAS_DAYS_AFTER_NUMBER),
    _rule(rf"{_REFILL_WORDS}\s*[:\-=(]?\s*(?P<n>\d{{1,2}})\s*[\-\s]?{_MONTH_WORDS}\b", _days(30),
          _opens_refill_rules, _HAS_REFILL_WORD, _HAS_MONTHS_AFTER_NUMBER),
    _rule(rf"{_REFILL_WORDS}\s*[:\-=(]?\s*(?P<n>\d)\s*[\-\s]?{_YEAR_WORDS}\b", _days(365),
          _opens_refill_rules, _HAS_REFILL_WORD, _HAS_YEARS_AFTER_NUMBER),
    # "30D Refill", "30 Days Refill", "365 Days Guarantee", "[ 7 Days AUTO REFILL ]"
    _rule(rf"(?<![\d.,])(?P<n>\d{{1,4}})\s*[\-\s]?{_DAY_WORDS}\s*[\-\s]*{_REFILL_WORDS}", _days(1),
          _opens_refill_rules, _HAS_REFILL_WORD, _HAS_DAYS_AFTER_NUMBER),
    _rule(rf"(?<![\d.,])(?P<n>\d{{1,2}})\s*[\-\s]?{_MONTH_WORDS}\s*[\-\s]*{_REFILL_WORDS}", _days(30),
          _opens_refill_rules, _HAS_REFILL_WORD, _HAS_MONTHS_AFTER_NUMBER),
    _rule(rf"(?<![\d.,])(?P<n>\d)\s*[\-\s]?{_YEAR_WORDS}\s*[\-\s]*{_REFILL_WORDS}", _days(365),
          _opens_refill_rules, _HAS_REFILL_WORD, _HAS_YEARS_AFTER_NUMBER),
    # lifetime next to a refill word, either order
    _rule(rf"\b{_LIFETIME}\s*[\-:]?\s*{_REFILL_WORDS}|{_REFILL_WORDS}\s*[\-:]?\s*{_LIFETIME}",
          lambda m: 365, _opens_refill_rules, _HAS_REFILL_WORD, _HAS_LIFETIME_WORD),
]
_REFILL_TABLE = _RuleTable(_REFILL_RULES)
# "[Lifetime]", "~ LifeTime ~": a lifetime standing alone as a segment means the guarantee.
_LIFETIME_SEGMENT = _rx(rf"^\s*{_LIFETIME}\s*$")

# --- quality -----------------------------------------------------------------------------------

_QUALITY_ORDER = ("bot", "lq", "mixed", "mq", "real", "premium", "hq")
_HAS_BOT = _any("bot")
_HAS_REAL = _any("real")
# Each label's patterns, with the check every match of the pattern passes.
_QUALITY_PATTERNS: dict[str, list[tuple[re.Pattern[str], Check]]] = {
    "bot": [(_rx(r"(?<!no\s)(?<!non\s)(?<!non-)(?<!not\s)(?<!anti-)\bbots?\b"
                 r"(?!\s*(?:starts?|users?|members?|subscribers?)\b)(?<!telegram\sbot)(?<!discord\sbot)"),
             _HAS_BOT),
            (_rx(r"\bquality\s*:\s*bot\b"), _HAS_BOT)],
    "lq": [(_rx(r"\bLQ\b"), _any("lq")),
           (_rx(r"\blow[\s-]*quality\b|\bdüşük\s*kalite|\bkualitas\s*rendah"),
            _shows(r"low[\s-]*quality|düşük|kualitas"))],
    "mixed": [(_rx(r"\bmixed[\s-]*quality\b|\bmixed\b(?!\s*(?:countr|geo|world|gender|male|female|nationalit|comments?|emoji|reactions?|languages?))"),
               _any("mixed"))],
    "mq": [(_rx(r"\bMQ\b"), _any("mq")),
           (_rx(r"\bmedium[\s-]*quality\b|\bmid[\s-]*quality\b"),
            _shows(r"(?:medium|mid)[\s-]*quality"))],
    "real": [(_rx(r"\breal\b(?![\s-]*(?:time|looking|look)\b)(?<!not\sreal)(?<!non\sreal)(?<!non-real)"),
              _HAS_REAL),
             (_rx(r"\bno[\s-]*bots?\b|\bgerçek\b|\breales\b|\breais\b|\basli\b|\bthật\b"),
              _any("bot", "gerçek", "real", "reais", "asli", "thật"))],
    "premium": [(_rx(r"\bpremium\b|\bVIP\b"), _any("premium", "vip"))],
    "hq": [(_rx(r"\bHQ\b|\bhigh[\s-]*quality\b|\breal[\s-]*look(?:ing)?\b|\bkaliteli\b|"
                r"\byüksek\s*kalite|chất\s*lượng\s*cao|\bkualitas\s*tinggi|\balta\s*(?:calidad|qualidade)"),
            _any("hq", "high", "real", "kaliteli", "yüksek", "chất", "kualitas", "alta"))],
}

_MIXED_PAIR = _rx(r"\b(?:real|hq|human)(?:\s+(?:accounts?|users?|profiles?))?\s*(?:\+|&|and|/)\s*bots?\b|"
                  r"\bbots?\s*(?:\+|&|and|/)\s*(?:real|hq|human)\b")

# --- drip feed and drop --------------------------------------------------------------------------

_HAS_DRIP = _any("drip")
_DRIP_RULES: list[Rule] = [
    _rule(r"\b(?:no|non|without)[\s-]*drip[\s-]*(?:feed)?\b", lambda m: False, _HAS_DRIP),
    _rule(r"\bdrip[\s-]*feed|\bdripfeed\b", lambda m: True, _HAS_DRIP),
]
_DRIP_TABLE = _RuleTable(_DRIP_RULES)


def _drop_percent(match: re.Match[str]) -> Any:
    return match["n"].strip("0.,") == ""  # "0% drop" = non drop; "10% drop" admits drops


_HAS_DROP_WORD = _any("dro", "düş", "tụt", "caida", "caída", "queda")
_HAS_DROP = _any("dro")
_DROP_RULES: list[Rule] = [
    _rule(r"\b(?:non|no|zero|never|without)[\s-]*dro+ps?\b|\bdrop[\s-]*free\b|\bdüşme(?:yen|z)\b|"
          r"düşüş\s*yok|không\s*tụt|tidak\s*drop|sin\s*ca[ií]das?|sem\s*queda",
          lambda m: True, _HAS_DROP_WORD),
    _rule(r"\b(?:less|low|lower|minimal|little|some|high|higher|may)[\s-]*dro+ps?\b|"
          r"\bdro+ps?\s*(?:possible|expected|may\s*happen)\b", lambda m: False, _HAS_DROP_WORD, _HAS_DROP,
          _shows(r"(?:less|low|lower|minimal|little|some|high|higher|may)[\s-]*dro|"
                 r"dro+ps? ?(?:possible|expected|may)")),
    _rule(r"(?<![\d.,])(?P<n>\d+(?:[.,]\d+)?)\s*%?\s*(?:-\s*\d+\s*%?\s*)?dro+ps?\b", _drop_percent,
          _HAS_DROP_WORD, _shows(r"\d ?%? ?(?:- ?\d+ ?%? ?)?dro")),
    _rule(r"\bdro+ps?\s*(?:rate\s*)?[:\-~]?\s*(?P<n>\d+(?:[.,]\d+)?)\s*%", _drop_percent,
          _HAS_DROP_WORD, _HAS_DROP, _any("%")),
]
_DROP_TABLE = _RuleTable(_DROP_RULES)

# --- speed -------------------------------------------------------------------------------------

_PER = r"\s*\+?\s*(?:/|\bper\b|\ba\b|\bin\b|\bpor\b|\bmỗi\b)\s*"
_DAY_UNIT = r"(?:days?|d|daily|24\s*h(?:ours?|rs?)?|gün|günlük|hari|d[ií]a|dia|ngày)\b"
_HOUR_UNIT = r"(?:hours?|hrs?|h|saat|jam|horas?|giờ)\b"
_MINUTE_UNIT = r"(?:minutes?|mins?|dk|dakika|menit|minutos?|phút)\b"


def _speed(scale: int, *, ranged: bool) -> Callable[[re.Match[str]], Any]:
    def handler(match: re.Match[str]) -> Any:
        if ranged:
            value, high = _split_range(match["low"], match["high"])
            if value is None or high is None or value > high:
                return _SKIP  # "Max 10M - 1K/D" is a max then a speed, not a range
        else:
            value = _number(match["n"])
        return value * scale if value else _SKIP
    return handler


# Pre-checks: _PER then a unit shows in the keyword text as "/" and at most a space, or a word and
# one space (the texts are cleaned), then the unit (the unit patterns are lower case).
_PER_SEPARATORS = ("/ ?", "per ", "a ", "in ", "por ", "mỗi ")
_HAS_PER_ANY_UNIT = _shows("|".join(f"{per}(?:{_DAY_UNIT}|{_HOUR_UNIT}|{_MINUTE_UNIT})"
                                    for per in _PER_SEPARATORS))
_HAS_PER_UNIT = {unit: _shows("|".join(per + unit for per in _PER_SEPARATORS))
                 for unit in (_DAY_UNIT, _HOUR_UNIT, _MINUTE_UNIT)}
_HAS_PER_WORD = _any("per ")
_HAS_PER_WORD_UNIT = {unit: _shows("per " + unit) for unit in (_DAY_UNIT, _HOUR_UNIT, _MINUTE_UNIT)}

_SPEED_RULES: list[Rule] = []
for _unit, _scale in ((_DAY_UNIT, 1), (_HOUR_UNIT, 24), (_MINUTE_UNIT, 1440)):
    _SPEED_RULES.append(_rule(rf"(?<![\w.,])(?P<low>{_N})\s*\+?\s*(?:-|~|–|to)\s*(?P<high>{_N}){_PER}{_unit}",
                              _speed(_scale, ranged=True), _HAS_PER_ANY_UNIT, _HAS_PER_UNIT[_unit]))
    _SPEED_RULES.append(_rule(rf"(?<![\w.,])(?P<n>{_N}){_PER}{_unit}", _speed(_scale, ranged=False),
                              _HAS_PER_ANY_UNIT, _HAS_PER_UNIT[_unit]))
    # "50 Likes Per Minute", "1000 Followers per day": a word or two before "per"
    _SPEED_RULES.append(_rule(rf"(?<![\w.,])(?P<n>{_N})\s+(?:[^\W\d_]+\s+){{1,2}}per\s+{_unit}",
                              _speed(_scale, ranged=False), _HAS_PER_WORD, _HAS_PER_WORD_UNIT[_unit]))
_HAS_HOUR = _any("hour")
_HAS_HOURLY_NUMBER = _shows(r"hour(?:ly)? ?[:\-]? ?\d")
_HAS_DAILY_NUMBER = _shows(r"(?:day|daily|günlük) ?[:\-]? ?\d")
_SPEED_RULES += [
    _rule(rf"\b(?:hourly|per\s*hour)\s*[:\-]?\s*(?P<low>{_N})\s*(?:-|~|–|to)\s*(?P<high>{_N})(?![\w/])",
          _speed(24, ranged=True), _HAS_HOUR, _HAS_HOURLY_NUMBER),
    _rule(rf"\b(?:hourly|per\s*hour)\s*[:\-]?\s*(?P<n>{_N})(?![\w/])", _speed(24, ranged=False),
          _HAS_HOUR, _HAS_HOURLY_NUMBER),
    _rule(rf"\b(?:day|daily|günlük|per\s*day)\s*[:\-]?\s*(?P<low>{_N})\s*(?:-|~|–|to)\s*(?P<high>{_N})(?![\w/])",
          _speed(1, ranged=True), _HAS_DAILY_NUMBER),
    # "Day 150K", "Daily 10K", "Günlük 10K"
    _rule(rf"\b(?:day|daily|günlük|per\s*day)\s*[:\-]?\s*(?P<n>{_N})(?![\w/])", _speed(1, ranged=False),
          _HAS_DAILY_NUMBER),
    # "Speed 5K/Day" is covered above; "Speed: 20K Daily"
    _rule(rf"(?<![\w.,])(?P<n>{_N})\s*\+?\s*(?:daily)\b", _speed(1, ranged=False), _any("daily")),
]
_SPEED_TABLE = _RuleTable(_SPEED_RULES)

# --- start time --------------------------------------------------------------------------------

_INSTANT = r"(?:instant(?:ly)?|instan|anında|anlık|instant[aá]ne[oa]|instant[âa]neo|imediato|inmediato|ngay\s*lập\s*tức|tức\s*thì)"
_START = r"(?:start(?:\s*time)?|starts|başlama|başlangıç|bắt\s*đầu|mulai|inicio|início|in[ií]cio)"
_UNIT_WORD = (r"(?P<unit>minutes?|mins?|m|dk|dakika|menit|minutos?|phút|hours?|hrs?|hr|h|saat|jam|"
              r"horas?|giờ|days?|d|gün|hari|d[ií]as?|ngày)\b")


def _hours(value: str, unit: str, *, limit: int = 24 * 60) -> Decimal | None:
    """Hours in ``value`` ``unit`` (minutes, hours, days); ``None`` past ``limit`` hours."""
    amount = Decimal(value.replace(",", "."))
    unit = unit.lower()
    if unit.startswith(("m", "dk", "dakika", "phút")):
        hours = amount / 60
    elif unit.startswith(("d", "gün", "hari", "ngày")):
        hours = amount * 24
    else:
        hours = amount
    if hours > limit:  # not a start time any more (a package of watch hours, a duration)
        return None
    return hours.quantize(Decimal("0.01")).normalize() if hours != hours.to_integral_value() \
        else hours.quantize(Decimal(1))


def _start_range(match: re.Match[str]) -> Any:
    hours = _hours(match["high"], match["unit"])
    return hours if hours is not None else _SKIP


_T = r"\d+(?:[.,]\d+)?"
_HAS_START_WORD = _any("start", "başla", "bắt", "mulai", "inicio", "início")
_HAS_INSTANT_WORD = _any("instan", "anında", "anlık", "imediato", "inmediato", "ngay", "tức")

_START_RULES: list[Rule] = [
    # "Start Time: 0 - 1 Hr", "Start: 1-6 hours", "start 0-1h", "Start : Instant - 1 Hour"
    _rule(rf"\b{_START}\s*[:\-~]?\s*(?:(?:{_INSTANT}|{_T})\s*(?:-|–|to|~)\s*)?(?P<high>{_T})\s*{_UNIT_WORD}",
          _start_range, _HAS_START_WORD),
    # "0-1h start", "0 to 6hrs start", "1 Hour Start"
    _rule(rf"(?<![\w.,])(?:(?:{_INSTANT}|{_T})\s*(?:-|–|to|~)\s*)?(?P<high>{_T})\s*{_UNIT_WORD}\s*(?:start|başlama|mulai)",
          _start_range, _HAS_START_WORD, _shows(r"\d ?\w+ (?:start|başlama|mulai)")),
    # "0-12h", "1HRS-24HRS" anywhere, unless it is a duration ("1-2 hours watch time", "retention")
    _rule(rf"(?<![\w.,])(?:{_T})\s*(?:h|hrs?|hours?)?\s*(?:-|–|to)\s*(?P<high>{_T})\s*(?P<unit>h|hrs?|hours?)\b"
          r"(?!\s*(?:watch|retention|video|long|length|duration|stream|live|view))", _start_range,
          _shows(r"(?:-|–|to) ?\d+(?:[.,]\d+)? ?h")),
    # "INSTANT-1HR", "Instant - 30 mins" (an instant start within that time)
    _rule(rf"\b{_INSTANT}\s*(?:start\s*)?(?:-|–|to|~)\s*(?P<high>{_T})\s*{_UNIT_WORD}", _start_range,
          _HAS_INSTANT_WORD,
          _shows(r"(?:instan\w*|aninda|anlik|imediato|inmediato|tức|thì) ?(?:start ?)?(?:-|–|to|~) ?\d")),
    _rule(rf"\b{_START}\s*[:\-~]?\s*{_INSTANT}\b|\b{_INSTANT}\b", lambda m: Decimal(0), _HAS_INSTANT_WORD),
]
# A name's bare "[6H]" segment is read after the ranges and before a plain "Instant".
_START_RANGE_TABLE = _RuleTable(_START_RULES[:-1])
_START_INSTANT_TABLE = _RuleTable(_START_RULES[-1:])
# A segment that is only a start time: "[0-12H]", "| 6H |", the "1H" of "[1H - 1K/Day]".
_BARE_START = _rx(rf"^(?:{_T}\s*(?:-|–|to)\s*)?(?P<high>{_T})\s*(?P<unit>h|hrs?|hours?)$")

# --- max ---------------------------------------------------------------------------------------

_MAX_WORD = r"(?:max(?:imum|imal)?|maks(?:imum|imal)?|m[aá]x(?:imo)?|tối\s*đa|en\s*fazla)"
_NOT_A_SPEED = rf"(?!\s*\+?\s*(?:/\s*(?:d|day|h|hr|hour|min)|per\s+(?:day|hour|minute|min|h)|{_PER}{_DAY_UNIT}))"
# "Max 5K-10K/D": the max is the low end of a speed range (but "Max 10M - 1K/D" is a max and a
# speed: a range goes up).
_SPEED_RANGE_AFTER = _rx(rf"\s*(?:-|~|–|to)\s*(?P<high>{_N})\s*\+?\s*(?:/|per\b)")


def _max_value(match: re.Match[str]) -> Any:
    value = _number(match["n"])
    if not value:
        return _SKIP
    speed_range = _SPEED_RANGE_AFTER.match(match.string, match.end())
    if speed_range:
        high = _number(speed_range["high"])
        if high is not None and high >= value:
            return _SKIP
    return value


_MIN_BEFORE = _rx(r"\b(?:min(?:imum)?|from)\s*[.:\-=]?\s*$")


def _max_after_number(match: re.Match[str]) -> Any:
    # "2K Max" yes; the "10" of "Min 10 Max 1000" is the minimum.
    if _MIN_BEFORE.search(match.string, 0, match.start()):
        return _SKIP
    return _max_value(match)


_HAS_MAX_WORD = _any("max", "maks", "máx", "tối", "fazla")
_MAX_RULES: list[Rule] = [
    _rule(rf"\b{_MAX_WORD}\s*(?:order)?\s*[.:\-=]?\s*(?:unlimited|∞|♾|sınırsız|no\s*limit)", lambda m: None,
          _HAS_MAX_WORD, _any("unlimited", "∞", "♾", "sınırsız", "limit")),
    _rule(rf"\b{_MAX_WORD}\s*(?:order|quantity)?\s*[.:\-=]?\s*(?P<n>{_N})\+?(?![\w.,]){_NOT_A_SPEED}", _max_value,
          _HAS_MAX_WORD),
    # (its check: a number ends with a digit, a K/M/B suffix or "million", "thousand")
    _rule(rf"(?<![\w.,])(?P<n>{_N})\+?\s*{_MAX_WORD}\b", _max_after_number, _HAS_MAX_WORD,
          _shows(r"[\dkmbкмnd]\+? ?(?:max|maks|máx|tối|en ?fazla)")),
]
_MAX_TABLE = _RuleTable(_MAX_RULES)
_MAX_WORD_RX = _rx(rf"\b{_MAX_WORD}\b")
_BARE_MAX = re.compile(r"^\s*(?P<n>\d+(?:[.,]\d+)?\s*[kKmMbBкКмМ])\s*$")
_SEGMENTS = re.compile(r"[\[\]|(){}【】]|\s[~❯]\s")
_LIFETIME_PARTS = re.compile(r"\s[-–]\s")  # "[Non Drop - Lifetime]"
_START_PARTS = re.compile(r"\s[-–~]\s")  # "[1H - 1K/Day]"

# --- country -----------------------------------------------------------------------------------

_FLAG = re.compile("[\U0001f1e6-\U0001f1ff]{2}")
_SUBDIVISION_FLAG = re.compile("\U0001f3f4([\U000e0061-\U000e007a]{2})[\U000e0061-\U000e007a]+\U000e007f")
_CASE_SENSITIVE_CODES = re.compile(r"(?<![\w.])(?:USA|U\.S\.A?\.?|US|UK|UAE|KSA)(?![\w])")
_CODE_STARTS = ("US", "U.", "UK", "UA", "KSA")  # a pre-check for _CASE_SENSITIVE_CODES
_CODE_TO_COUNTRY = {"USA": "US", "U.S.A.": "US", "U.S.A": "US", "U.S.": "US", "U.S": "US",
                    "US": "US", "UK": "GB", "UAE": "AE", "KSA": "SA"}

# Names, adjectives and other-language names (accent-folded, lower case) -> alpha-2, on top of
# pycountry's names. Regions and languages map to "" (recognized, but not a country).
_COUNTRY_ALIASES: dict[str, str] = {
    # Americas
    "usa": "US", "united states": "US", "united states of america": "US", "america": "US",
    "american": "US", "americans": "US", "estados unidos": "US", "eeuu": "US", "amerika": "US",
    "amerikan": "US", "etats unis": "US", "brazil": "BR", "brasil": "BR", "brazilian": "BR",
    "brazilians": "BR", "brasileiro": "BR", "brasileiros": "BR", "brasileira": "BR",
    "brasileiras": "BR", "brezilya": "BR", "mexico": "MX", "mexican": "MX", "mexicano": "MX",
    "mexicanos": "MX", "canada": "CA", "canadian": "CA", "argentina": "AR", "argentinian": "AR",
    "argentine": "AR", "colombia": "CO", "colombian": "CO", "chile": "CL", "chilean": "CL",
    "peru": "PE", "peruvian": "PE", "venezuela": "VE", "venezuelan": "VE", "ecuador": "EC",
    "bolivia": "BO", "dominican republic": "DO", "republica dominicana": "DO",
    # Europe
    "uk": "GB", "united kingdom": "GB", "great britain": "GB", "britain": "GB", "british": "GB",
    "england": "GB", "english uk": "GB", "ingiltere": "GB", "germany": "DE", "german": "DE",
    "deutschland": "DE", "almanya": "DE", "alemania": "DE", "alemanha": "DE", "france": "FR",
    "french": "FR", "francia": "FR", "fransa": "FR", "italy": "IT", "italian": "IT",
    "italia": "IT", "spain": "ES", "espana": "ES", "ispanya": "ES", "portugal": "PT",
    "netherlands": "NL", "holland": "NL", "dutch": "NL", "russia": "RU", "russian": "RU",
    "rusya": "RU", "rossiya": "RU", "россия": "RU", "ukraine": "UA", "ukrainian": "UA",
    "poland": "PL", "polish": "PL", "polska": "PL", "romania": "RO", "romanian": "RO",
    "greece": "GR", "greek": "GR", "sweden": "SE", "swedish": "SE", "norway": "NO",
    "norwegian": "NO", "denmark": "DK", "danish": "DK", "finland": "FI", "finnish": "FI",
    "switzerland": "CH", "swiss": "CH", "austria": "AT", "austrian": "AT", "belgium": "BE",
    "belgian": "BE", "czech republic": "CZ", "czechia": "CZ", "czech": "CZ", "hungary": "HU",
    "hungarian": "HU", "serbia": "RS", "serbian": "RS", "croatia": "HR", "bulgaria": "BG",
    "ireland": "IE", "irish": "IE",
    # Middle East, Africa
    "turkey": "TR", "turkiye": "TR", "turkish": "TR", "turk": "TR", "turks": "TR",
    "turkce": "TR", "iran": "IR", "iranian": "IR", "irani": "IR", "iraq": "IQ", "iraqi": "IQ",
    "saudi": "SA", "saudi arabia": "SA", "arab saudi": "SA", "egypt": "EG", "egyptian": "EG",
    "misr": "EG", "morocco": "MA", "moroccan": "MA", "maroc": "MA", "algeria": "DZ",
    "algerian": "DZ", "tunisia": "TN", "tunisian": "TN", "israel": "IL", "israeli": "IL",
    "united arab emirates": "AE", "uae": "AE", "emirates": "AE", "emirati": "AE",
    "kuwait": "KW", "kuwaiti": "KW", "qatar": "QA", "qatari": "QA", "jordan": "JO",
    "lebanon": "LB", "nigeria": "NG", "nigerian": "NG", "kenya": "KE", "kenyan": "KE",
    "ghana": "GH", "south africa": "ZA", "south african": "ZA",
    # Asia, Oceania
    "india": "IN", "indian": "IN", "indians": "IN", "hindistan": "IN", "pakistan": "PK",
    "pakistani": "PK", "bangladesh": "BD", "bangladeshi": "BD", "nepal": "NP", "sri lanka": "LK",
    "indonesia": "ID", "indonesian": "ID", "indonesian accounts": "ID", "endonezya": "ID",
    "malaysia": "MY", "malaysian": "MY", "philippines": "PH", "philippine": "PH",
    "filipino": "PH", "pinoy": "PH", "thailand": "TH", "thai": "TH", "vietnam": "VN",
    "viet nam": "VN", "vietnamese": "VN", "china": "CN", "chinese": "CN", "japan": "JP",
    "japanese": "JP", "korea": "KR", "korean": "KR", "south korea": "KR",
    "republic of korea": "KR", "north korea": "KP", "taiwan": "TW", "taiwanese": "TW",
    "hong kong": "HK", "hongkong": "HK", "singapore": "SG", "myanmar": "MM", "burma": "MM",
    "cambodia": "KH", "australia": "AU", "australian": "AU", "new zealand": "NZ",
    "kazakhstan": "KZ", "uzbekistan": "UZ", "azerbaijan": "AZ", "azerbaijani": "AZ",
    # regions and languages: recognized so that they are not read as a country
    "arab": "", "arabs": "", "arabic": "", "arabian": "", "arabia": "", "asia": "",
    "asian": "", "europe": "", "european": "", "eastern europe": "", "latin": "",
    "latino": "", "latina": "", "latin america": "", "latin american": "", "latam": "",
    "africa": "", "african": "", "middle east": "", "gulf": "", "khaleeji": "",
    "scandinavia": "", "north america": "", "south america": "", "spanish": "",
    "english": "", "portuguese": "", "french speakers": "", "french speaking": "",
    "spanish speakers": "", "spanish speaking": "", "german speakers": "", "german speaking": "", "persian": "", "farsi": "", "hindi": "", "urdu": "",
    "tier": "", "tier 1": "", "tier 2": "", "tier i": "", "tier ii": "", "american indian": "",
    "indian ocean": "", "new mexico": "", "british columbia": "",
}
_WORLDWIDE = re.compile(
    r"\b(?:world\s*wide|worldwide|global|globally|international|all\s*countr(?:y|ies)|"
    r"any\s*countr(?:y|ies)|mix(?:ed)?\s*(?:countr(?:y|ies)|geo|nationalit(?:y|ies))|"
    r"multi[\s-]*countr(?:y|ies)|mundial|internacional|dünya\s*geneli|toàn\s*cầu|"
    r"seluruh\s*dunia|todo\s*el\s*mundo)\b|(?<![\w#])WW(?![\w])",
    re.IGNORECASE,
)
_HAS_WORLDWIDE_WORD = _any("world", "global", "international", "countr", "mix", "mundial",
                          "internacional", "dünya", "toàn", "seluruh", "mundo")
_WW_ALONE = re.compile(r"(?<![\w#])ww(?!\w)")  # the pre-check for "WW" (not the "ww" of "www.")
# pycountry short names that are everyday words in service names.
_NOT_COUNTRY_WORDS = frozenset({"chad", "jersey", "guernsey", "georgia"})


def _says_worldwide(text: str, keyword_text: str) -> bool:
    if not (_HAS_WORLDWIDE_WORD(keyword_text)
            or ("ww" in keyword_text and _WW_ALONE.search(keyword_text))):
        return False
    return bool(_WORLDWIDE.search(text))


_WORD = re.compile(r"\w+")
_ASCII = frozenset(map(chr, range(128)))


def _folded_words(text: str) -> list[str]:
    """The words of ``text`` in lower case, accents dropped, "ı" as "i"."""
    folded = text.lower()
    if not folded.isascii():  # ASCII has nothing to decompose or drop
        folded = unicodedata.normalize("NFKD", folded)
        # Drop the combining marks: each distinct non-ASCII character is looked up once,
        # instead of every character of the text.
        marks = [ch for ch in set(folded).difference(_ASCII) if unicodedata.combining(ch)]
        if marks:
            folded = folded.translate(dict.fromkeys(map(ord, marks)))
        folded = folded.replace("ı", "i")
    return _WORD.findall(folded)


def _fold(text: str) -> str:
    """Lower case, accents dropped, "ı" as "i", words separated by single spaces."""
    return " ".join(_folded_words(text))


@lru_cache(maxsize=1)
def _country_table() -> tuple[dict[str, str], dict[str, int]]:
    """Folded name -> alpha-2 ("" = region or language), and for each word a name starts
    with, the most words such a name has."""
    import pycountry

    table: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            name = getattr(country, attribute, None)
            if not name or "," in name:  # "Korea, Republic of": the aliases cover these
                continue
            folded = _fold(name)
            if folded and (" " in folded or folded not in _NOT_COUNTRY_WORDS):
                table.setdefault(folded, country.alpha_2)
    table.update({_fold(alias): code for alias, code in _COUNTRY_ALIASES.items()})
    longest_from: dict[str, int] = {}
    for name in table:
        words = name.split()
        longest_from[words[0]] = max(longest_from.get(words[0], 0), len(words))
    return table, longest_from


_VALID_ALPHA2: frozenset[str] | None = None


def _is_country_code(code: str) -> bool:
    global _VALID_ALPHA2
    if _VALID_ALPHA2 is None:
        import pycountry

        _VALID_ALPHA2 = frozenset(country.alpha_2 for country in pycountry.countries)
    return code in _VALID_ALPHA2


def _country_words(text: str) -> list[str]:
    """Countries named in ``text`` (greedy longest match over words), in text order."""
    table, longest_from = _country_table()
    words = _folded_words(text)
    longest = list(map(longest_from.get, words))  # None: no name starts with this word
    found: list[str] = []
    index = 0  # the first word not yet read as part of a name
    # Only the words a name starts with need a look (most texts have none), in order.
    for start in compress(range(len(words)), longest):
        if start < index:
            continue
        longest_size = longest[start]
        assert longest_size is not None  # compress keeps only the words a name starts with
        for size in range(min(longest_size, len(words) - start), 0, -1):
            code = table.get(" ".join(words[start:start + size]))
            if code is not None:
                if code:
                    found.append(code)
                index = start + size
                break
    return found


def _countries(text: str, keyword_text: str) -> tuple[set[str], bool]:
    """(countries named, whether the text says worldwide); ``keyword_text``:
    ``_keyword_text(text)``."""
    codes: set[str] = set()
    if not text.isascii():  # flags are emoji
        for flag in _FLAG.findall(text):
            code = "".join(chr(ord(ch) - 0x1F1E6 + ord("A")) for ch in flag)
            if code == "UK":
                code = "GB"
            if _is_country_code(code):
                codes.add(code)
        for tag in _SUBDIVISION_FLAG.findall(text):
            # England / Scotland / Wales flags are tag sequences starting "gb".
            code = "".join(chr(ord(ch) - 0xE0000) for ch in tag).upper()
            if _is_country_code(code):
                codes.add(code)
    text_without_codes = text
    if any(map(text.__contains__, _CODE_STARTS)):
        named_codes = _CASE_SENSITIVE_CODES.findall(text)
        if named_codes:
            codes.update(_CODE_TO_COUNTRY[code] for code in named_codes)
            text_without_codes = _CASE_SENSITIVE_CODES.sub(" ", text)
    codes.update(_country_words(text_without_codes))
    return codes, _says_worldwide(text, keyword_text)


def _country(text: str, keyword_text: str) -> str | None | object:
    codes, worldwide = _countries(text, keyword_text)
    if worldwide and not codes:
        return None
    if len(codes) == 1 and not worldwide:
        return codes.pop()
    if codes or worldwide:
        return None  # several countries, or a country plus "worldwide": not one audience
    return _SKIP  # the text says nothing about geography


# --- putting it together -----------------------------------------------------------------------

def _segments(name: str) -> list[str]:
    return [segment.strip() for segment in _SEGMENTS.split(name) if segment.strip()]


def _quality(text: str, keyword_text: str) -> str | None:
    # "Real + Bot", "HQ & Bot mix" describe a mixed audience, not a bot one.
    if _HAS_BOT(keyword_text) and _MIXED_PAIR.search(text):
        text = _MIXED_PAIR.sub(" mixed ", text)
        keyword_text = _keyword_text(text)
    # The first label (in _QUALITY_ORDER) the text names wins, so later labels need no search.
    for label in _QUALITY_ORDER:
        for pattern, check in _QUALITY_PATTERNS[label]:
            if check(keyword_text) and pattern.search(text):
                return label
    return None


def _bare_max(segments: list[str]) -> int | None:
    for segment in segments:
        match = _BARE_MAX.match(segment)
        if match:
            return _number(match["n"])
    return None


def _bare_start(segments: list[str]) -> Decimal | None:
    for segment in segments:
        for part in _START_PARTS.split(segment):
            match = _BARE_START.match(part.strip())
            if match:
                # A bare "[4000H]" is a watch-time package, not a start: bare tokens count
                # only up to three days.
                return _hours(match["high"], match["unit"], limit=72)
    return None


_FIELDS = ("refill_days", "quality", "country", "drip_feed", "speed_per_day",
           "start_time_hours", "max_from_name", "non_drop")


def _read(text: str, *, is_name: bool, fields: Collection[str] = _FIELDS) -> dict[str, Any]:
    """The ``fields`` that the cleaned ``text`` states (``None``: it does not), and with
    ``country``, ``country_said``: whether the text speaks about geography at all."""
    keyword_text = _keyword_text(text)
    segments = _segments(text) if is_name else None
    found: dict[str, Any] = {}
    if "refill_days" in fields:
        refill = _first(text, keyword_text, _REFILL_TABLE)
        if refill is None and _HAS_LIFETIME_WORD(keyword_text) and any(
                _LIFETIME_SEGMENT.match(part)
                for segment in (segments if segments is not None else _segments(text))
                for part in _LIFETIME_PARTS.split(segment)):
            refill = 365
        found["refill_days"] = refill
    if "quality" in fields:
        found["quality"] = _quality(text, keyword_text)
    if "country" in fields:
        country = _country(text, keyword_text)
        found["country"] = None if country is _SKIP else country
        found["country_said"] = country is not _SKIP
    if "drip_feed" in fields:
        found["drip_feed"] = _first(text, keyword_text, _DRIP_TABLE)
    if "speed_per_day" in fields:
        found["speed_per_day"] = _first(text, keyword_text, _SPEED_TABLE)
    if "start_time_hours" in fields:
        start = _first(text, keyword_text, _START_RANGE_TABLE)
        if start is None and segments is not None:
            start = _bare_start(segments)
        if start is None:
            start = _first(text, keyword_text, _START_INSTANT_TABLE)
        found["start_time_hours"] = start
    if "max_from_name" in fields:
        max_from_name = _first(text, keyword_text, _MAX_TABLE)
        if max_from_name is None and segments is not None and not (
                _HAS_MAX_WORD(keyword_text) and _MAX_WORD_RX.search(text)):
            max_from_name = _bare_max(segments)
        found["max_from_name"] = max_from_name
    if "non_drop" in fields:
        found["non_drop"] = _first(text, keyword_text, _DROP_TABLE)
    return found


@lru_cache(maxsize=200_000)
def _parse_cached(name: str, description: str | None) -> tuple[Any, ...]:
    from_name = _read(clean_text(name), is_name=True)
    if description:
        # The description only fills what the name left open, so only that is read. A name
        # that speaks about geography (even "Worldwide") keeps its country.
        open_fields = [field for field in _FIELDS
                       if (not from_name["country_said"] if field == "country"
                           else from_name[field] is None)]
        if open_fields:
            from_description = _read(clean_text(description), is_name=False, fields=open_fields)
            for field in open_fields:
                from_name[field] = from_description[field]
    return tuple(from_name[field] for field in _FIELDS)


def parse_attributes(name: str, description: str | None = None) -> Attributes:
    """Read the attributes a service name (and, for what it leaves open, its description)
    states. Unknown is ``None``, never a guess. Results are cached by ``(name, description)``;
    each call returns a fresh :class:`Attributes` the caller may change."""
    return Attributes(**dict(zip(_FIELDS, _parse_cached(name or "", description or None),
                                 strict=True)))
