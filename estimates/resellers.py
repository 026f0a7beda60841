"""Reseller chains: which offers resell another site's offer (one upstream per reseller offer).

Method (every input comes from the database: ``offer`` and ``offer_price_period``):

1. Offers in force at ``at`` (default: the last observation), priced per 1000 units, with a
   platform, metric and USD value. Blocking: only offers of the same platform × metric × pricing
   whose order limits are equal or scaled by one factor (the same ``max / min`` fraction) are
   compared, so the work grows with block sizes, not with the square of the catalogue.
2. Name similarity: rapidfuzz ``token_sort_ratio`` of the normalized names (NFKC, case folded,
   emoji and symbols removed, upstream id markers such as ``ID1078 -``, ``[ID: 1078]``,
   ``#9`` removed, brackets opened): resellers keep the upstream's names, often with its id.
3. Price ratio: the reseller side is the dearer one; the USD/1000 ratio is sampled once per day
   over the last ``window_days`` on which both offers were priced; its median is the markup and
   its coefficient of variation (CV) says whether the two prices move together.
4. Site-pair evidence: a reseller panel mirrors many services of one upstream at one markup.
   For each ordered pair of sites, the candidate ratios are clustered in log space; the pair is
   a chain when enough candidates (``min_pair_support``) sit at one markup inside the plausible
   band (×1.05 to ×3) and they are a fair share of the pair's candidates. Unrelated panels
   whose names collide have ratios scattered over orders of magnitude and no such cluster.
5. Each reseller offer keeps its best candidate on a chained site pair whose ratio sits at that
   pair's markup; when several upstream sites qualify (a reseller and its upstream both sell
   it), the cheapest qualifying offer wins: that is the root of the chain.

Confidence (0 to 1) is the product of the site-pair support (how many services sit at the
markup, saturating) and the offer-level agreement (name similarity, limits equal or scaled,
upstream id in the name, ratio stability over days).

Assumptions: a reseller prices every copied service at one markup over its upstream (in USD,
up to exchange-rate noise and the rounding of the reseller's price); resellers are dearer than
their upstream; unobserved upstreams are not inferred (two resellers of an uncrawled panel are
linked to each other, the cheaper one standing in as upstream). Retail packages are not linked
(shops rename services; see the closing note of issue 8).
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Engine, delete, func, insert, select

from storage.db import write_transaction
from storage.models import Offer, OfferPricePeriod, reseller_link_table

METHOD = ("offers of one platform x metric with equal or scaled order limits; rapidfuzz "
          "token_sort_ratio of normalized names; daily USD/1000 ratio (median = markup, CV = "
          "steadiness); site pairs chained when many services share one markup in x1.05..x3; "
          "one upstream per reseller offer, the cheapest qualifying one")

MARKUP_BAND = (1.05, 3.0)
"""Plausible reseller markups of panels over their upstream (MARKET.md: ×1.2 to ×2.2)."""
NAME_THRESHOLD = 80.0
"""Minimum rapidfuzz similarity (0-100) of normalized names for a candidate pair."""
WINDOW_DAYS = 30
MAX_STEADY_CV = 0.08
"""Ratio CV above which two offers are not priced from one another."""
_PAIR_BANDWIDTH = 0.04
"""Half-width (log ratio) of the markup cluster of a site pair."""
_QUANT = Decimal("0.000001")

# -- name normalization ------------------------------------------------------------------------

_ID_MARKERS = re.compile(
    r"""
      \[\s*id\s*[:#.]?\s*(?P<a>\d+)\s*\]            # [ID: 1078]
    | \(\s*id\s*[:#.]?\s*(?P<b>\d+)\s*\)            # (ID 1078)
    | ^\s*id\s*[:#.]?\s*(?P<c>\d+)\s*[-–—|:.)]?     # ID1078 - / ID 1211-
    | ^\s*(?P<d>\d+)\s*[-–—|:.)]\s+                 # 1078 -  (a leading upstream id)
    | \#\s*(?P<e>\d+)\b                             # #9
    """,
    re.IGNORECASE | re.VERBOSE,
)
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


def name_ids(name: str) -> frozenset[str]:
    """Service ids written into a name (``ID1078 - ...``, ``[ID: 1078]``, ``#9``), as text."""
    text = unicodedata.normalize("NFKC", name)
    return frozenset(next(value for value in match.groupdict().values() if value)
                     for match in _ID_MARKERS.finditer(text))


def normalize_name(name: str) -> str:
    """The comparable form of a service name: NFKC (styled letters become plain), case folded,
    id markers removed, emoji, flags and other symbols dropped, brackets and punctuation turned
    into single spaces. Bracket contents stay: ``[100K] [SOUTH KOREA]`` tells services apart."""
    text = unicodedata.normalize("NFKC", name)
    text = _ID_MARKERS.sub(" ", text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        # So/Sk/Cs/Co: emoji, regional-indicator flags, modifiers; Mn: variation selectors.
        if category in ("So", "Sk", "Cs", "Co", "Mn", "Cf"):
            continue
        kept.append(char)
    text = "".join(kept).casefold().replace("_", " ")
    return _NOT_WORD.sub(" ", text).strip()


def name_similarity(first: str, second: str) -> float:
    """rapidfuzz ``token_sort_ratio`` (0-100) of the normalized names."""
    return float(fuzz.token_sort_ratio(normalize_name(first), normalize_name(second)))


# -- data ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Link:
    """One reseller offer and the upstream offer it resells."""

    reseller_site_id: str
    reseller_offer_id: int
    upstream_site_id: str
    upstream_offer_id: int
    confidence: float
    """0 to 1."""
    price_ratio: Decimal
    """Reseller USD/1000 over upstream USD/1000: the median of the daily ratios."""
    ratio_cv: float | None
    """Coefficient of variation of the daily ratios (``None`` with one day in common)."""
    name_similarity: float
    """0 to 100."""
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Offer:
    offer_id: int
    site_id: str
    site_offer_id: str
    name: str
    normalized: str
    block: tuple[Any, ...]
    limits: tuple[int | None, int | None]
    usd: float
    price_exponent: int
    daily: dict[date, float]


@dataclass(slots=True)
class _Candidate:
    reseller: _Offer
    upstream: _Offer
    similarity: float
    limits: str
    ratio: float
    ratio_cv: float | None
    days: int
    ids_match: bool


# -- loading -------------------------------------------------------------------------------------

def _latest_observation(engine: Engine) -> datetime | None:
    periods = OfferPricePeriod.__table__
    with engine.connect() as connection:
        return connection.execute(select(func.max(periods.c.last_confirmed_at))).scalar()


def _block_key(platform: str, metric: str, pricing: str, low: int | None,
               high: int | None) -> tuple[Any, ...]:
    # Equal limits and limits scaled by one factor share the max/min fraction.
    if low and high:
        return (platform, metric, pricing, Fraction(high, low))
    return (platform, metric, pricing, low, high)


def _load_offers(engine: Engine, at: datetime, window_days: int) -> list[_Offer]:
    offers, periods = Offer.__table__, OfferPricePeriod.__table__
    start = at - timedelta(days=window_days)
    query = (select(offers.c.id, offers.c.site_id, offers.c.site_offer_id, offers.c.name,
                    offers.c.platform, offers.c.metric, offers.c.pricing,
                    periods.c.valid_from, periods.c.valid_to, periods.c.last_confirmed_at,
                    periods.c.usd_per_1000, periods.c.price, periods.c.min_quantity,
                    periods.c.max_quantity)
             .join(periods, periods.c.offer_id == offers.c.id)
             .where(offers.c.pricing == "per_1000", offers.c.platform.is_not(None),
                    offers.c.metric.is_not(None), periods.c.usd_per_1000.is_not(None),
                    periods.c.usd_per_1000 > 0, periods.c.valid_from <= at,
                    periods.c.last_confirmed_at >= start))
    by_offer: dict[int, list[Any]] = defaultdict(list)
    with engine.connect() as connection:
        for row in connection.execute(query):
            by_offer[row.id].append(row)
    result = []
    first_day, last_day = start.date(), at.date()
    for offer_id, rows in by_offer.items():
        rows.sort(key=lambda row: row.valid_from)
        current = rows[-1]
        # Only offers still listed at ``at``: the period in force then was confirmed that day.
        if current.valid_to is not None and current.valid_to <= at:
            continue
        if current.last_confirmed_at < at - timedelta(days=2):
            continue
        daily: dict[date, float] = {}
        for row in rows:
            seen_until = row.valid_to or row.last_confirmed_at
            day = max(row.valid_from.date(), first_day)
            end = min(seen_until.date(), last_day)
            while day <= end:
                daily[day] = float(row.usd_per_1000)  # a later period of the day wins
                day += timedelta(days=1)
        price = Decimal(current.price)
        result.append(_Offer(
            offer_id=offer_id, site_id=current.site_id, site_offer_id=current.site_offer_id,
            name=current.name, normalized=normalize_name(current.name),
            block=_block_key(current.platform, current.metric, current.pricing,
                             current.min_quantity, current.max_quantity),
            limits=(current.min_quantity, current.max_quantity),
            usd=float(current.usd_per_1000),
            price_exponent=int(price.normalize().as_tuple().exponent) if price else 0,
            daily=daily))
    return result


# -- candidates ----------------------------------------------------------------------------------

def _rounding_tolerance(offer: _Offer) -> float:
    """Relative error of the ratio that the rounding of the reseller's price can explain."""
    price_unit = 10.0 ** min(offer.price_exponent, 0)
    return 0.5 * price_unit / max(offer.usd, 1e-9) if offer.usd else 0.0


def _daily_ratio(reseller: _Offer, upstream: _Offer) -> tuple[float, float | None, int]:
    common = reseller.daily.keys() & upstream.daily.keys()
    ratios = [reseller.daily[day] / upstream.daily[day] for day in common
              if upstream.daily[day] > 0]
    if not ratios:
        return reseller.usd / upstream.usd, None, 0
    median = statistics.median(ratios)
    if len(ratios) < 2:
        return median, None, len(ratios)
    cv = statistics.pstdev(ratios) / statistics.fmean(ratios)
    return median, cv, len(ratios)


def _candidates(offers: list[_Offer]) -> list[_Candidate]:
    blocks: dict[tuple[Any, ...], list[_Offer]] = defaultdict(list)
    for offer in offers:
        blocks[offer.block].append(offer)
    candidates = []
    for members in blocks.values():
        if len({offer.site_id for offer in members}) < 2:
            continue
        names = [offer.normalized for offer in members]
        for index, offer in enumerate(members):
            # Each unordered pair once: compare with the members after this one.
            later = names[index + 1:]
            for _, score, position in process.extract(
                    offer.normalized, later, scorer=fuzz.token_sort_ratio,
                    score_cutoff=NAME_THRESHOLD, limit=None):
                other = members[index + 1 + position]
                if other.site_id == offer.site_id:
                    continue
                reseller, upstream = (offer, other) if offer.usd >= other.usd else (other, offer)
                ratio, cv, days = _daily_ratio(reseller, upstream)
                if ratio < 1.0:  # the daily median says the other side is dearer
                    reseller, upstream = upstream, reseller
                    ratio, cv, days = _daily_ratio(reseller, upstream)
                limits = "equal" if reseller.limits == upstream.limits else "scaled"
                ids = name_ids(reseller.name)
                candidates.append(_Candidate(
                    reseller=reseller, upstream=upstream, similarity=float(score),
                    limits=limits, ratio=ratio, ratio_cv=cv, days=days,
                    ids_match=upstream.site_offer_id in ids))
    return candidates


# -- site-pair evidence --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _PairMarkup:
    log_markup: float
    support: int
    candidates: int


def _pair_markups(candidates: list[_Candidate]) -> dict[tuple[str, str], _PairMarkup]:
    """Per (reseller site, upstream site): the densest markup (log ratio) among its candidates
    and how many candidates sit there."""
    by_pair: dict[tuple[str, str], list[float]] = defaultdict(list)
    for candidate in candidates:
        if candidate.ratio_cv is not None and candidate.ratio_cv > MAX_STEADY_CV:
            continue
        by_pair[(candidate.reseller.site_id, candidate.upstream.site_id)].append(
            math.log(candidate.ratio))
    result = {}
    for pair, logs in by_pair.items():
        logs.sort()
        best_count, best_center = 0, 0.0
        for value in logs:
            low = bisect_left(logs, value - _PAIR_BANDWIDTH)
            high = bisect_right(logs, value + _PAIR_BANDWIDTH)
            if high - low > best_count:
                best_count, best_center = high - low, statistics.median(logs[low:high])
        result[pair] = _PairMarkup(best_center, best_count, len(logs))
    return result


def _pair_score(markup: _PairMarkup, min_pair_support: int) -> float:
    """0 to 1: how surely a site pair is a reseller chain."""
    ratio = math.exp(markup.log_markup)
    if not MARKUP_BAND[0] <= ratio <= MARKUP_BAND[1] or markup.support < min_pair_support:
        return 0.0
    share = markup.support / markup.candidates
    if share < 0.25:
        return 0.0
    return (1.0 - math.exp(-markup.support / min_pair_support)) * min(1.0, share / 0.5)


def _offer_score(candidate: _Candidate) -> float:
    name = max(0.0, (candidate.similarity - NAME_THRESHOLD) / (100.0 - NAME_THRESHOLD))
    limits = 1.0 if candidate.limits == "equal" else 0.8
    if candidate.ratio_cv is None:
        steady = 0.7
    else:
        steady = max(0.0, 1.0 - max(0.0, candidate.ratio_cv - 0.01) / (MAX_STEADY_CV - 0.01))
    score = (0.3 + 0.7 * name) * limits * (0.4 + 0.6 * steady)
    if candidate.ids_match:
        score = 1.0 - (1.0 - score) * 0.5
    return score


# -- linking -------------------------------------------------------------------------------------

def link_resellers(engine: Engine, *, at: datetime | None = None,
                   min_confidence: float = 0.5, window_days: int = WINDOW_DAYS,
                   min_pair_support: int = 5) -> list[Link]:
    """Compute reseller links from stored offers and price history (reads only; see
    :func:`store_links`). ``at``: the moment to look from (default: the last observation);
    price ratios use the ``window_days`` before it. Returns one link per reseller offer, with
    confidence at least ``min_confidence``."""
    if at is None:
        at = _latest_observation(engine)
        if at is None:
            return []
    elif at.tzinfo is None:
        raise ValueError("at must be timezone-aware (UTC)")
    offers = _load_offers(engine, at, window_days)
    candidates = _candidates(offers)
    markups = _pair_markups(candidates)
    best: dict[int, tuple[float, _Candidate, _PairMarkup]] = {}
    for candidate in candidates:
        pair = (candidate.reseller.site_id, candidate.upstream.site_id)
        markup = markups.get(pair)
        if markup is None:
            continue
        pair_score = _pair_score(markup, min_pair_support)
        if pair_score == 0.0:
            continue
        tolerance = _PAIR_BANDWIDTH + _rounding_tolerance(candidate.reseller)
        if abs(math.log(candidate.ratio) - markup.log_markup) > tolerance:
            continue
        if candidate.ratio_cv is not None and candidate.ratio_cv > MAX_STEADY_CV:
            continue
        confidence = pair_score * _offer_score(candidate)
        if confidence < min_confidence:
            continue
        kept = best.get(candidate.reseller.offer_id)
        # The cheapest qualifying upstream is the root of the chain; ties go to confidence.
        if kept is None or (candidate.upstream.usd, -confidence) < (kept[1].upstream.usd,
                                                                    -kept[0]):
            best[candidate.reseller.offer_id] = (confidence, candidate, markup)
    links = []
    for confidence, candidate, markup in best.values():
        links.append(Link(
            reseller_site_id=candidate.reseller.site_id,
            reseller_offer_id=candidate.reseller.offer_id,
            upstream_site_id=candidate.upstream.site_id,
            upstream_offer_id=candidate.upstream.offer_id,
            confidence=round(confidence, 4),
            price_ratio=Decimal(repr(candidate.ratio)).quantize(_QUANT),
            ratio_cv=None if candidate.ratio_cv is None else round(candidate.ratio_cv, 6),
            name_similarity=round(candidate.similarity, 2),
            evidence={
                "limits": candidate.limits,
                "days_compared": candidate.days,
                "upstream_id_in_name": candidate.ids_match,
                "pair_markup": round(math.exp(markup.log_markup), 4),
                "pair_support": markup.support,
                "pair_candidates": markup.candidates,
                "at": at.isoformat(),
            }))
    # Links whose upstream offer is itself linked point one step further: the root.
    links.sort(key=lambda link: (link.reseller_site_id, link.reseller_offer_id))
    return links


# -- storage -------------------------------------------------------------------------------------

def store_links(engine: Engine, links: list[Link], *, computed_at: datetime) -> int:
    """Replace the stored links by ``links`` in one transaction; a link already stored (same
    reseller and upstream offers) keeps its ``first_computed_at``. Returns the rows written."""
    if computed_at.tzinfo is None:
        raise ValueError("computed_at must be timezone-aware (UTC)")
    table = reseller_link_table
    with write_transaction(engine) as connection:
        first_seen = {
            (row.reseller_offer_id, row.upstream_offer_id): row.first_computed_at
            for row in connection.execute(select(table.c.reseller_offer_id,
                                                 table.c.upstream_offer_id,
                                                 table.c.first_computed_at))}
        connection.execute(delete(table))
        rows = [{
            "reseller_site_id": link.reseller_site_id,
            "reseller_offer_id": link.reseller_offer_id,
            "upstream_site_id": link.upstream_site_id,
            "upstream_offer_id": link.upstream_offer_id,
            "confidence": Decimal(repr(link.confidence)).quantize(Decimal("0.0001")),
            "price_ratio": link.price_ratio,
            "ratio_cv": None if link.ratio_cv is None else Decimal(repr(link.ratio_cv)),
            "name_similarity": Decimal(repr(link.name_similarity)),
            "evidence": link.evidence,
            "first_computed_at": first_seen.get((link.reseller_offer_id,
                                                 link.upstream_offer_id), computed_at),
            "last_computed_at": computed_at,
        } for link in links]
        if rows:
            connection.execute(insert(table), rows)
    return len(links)


def refresh_links(engine: Engine, *, at: datetime | None = None,
                  min_confidence: float = 0.5) -> list[Link]:
    """Compute the links as of ``at`` (default: the last observation) and store them."""
    links = link_resellers(engine, at=at, min_confidence=min_confidence)
    store_links(engine, links, computed_at=at or datetime.now(UTC))
    return links


def stored_links(engine: Engine, *, min_confidence: float = 0.0) -> list[Link]:
    """The links in ``reseller_link`` with at least ``min_confidence``."""
    table = reseller_link_table
    with engine.connect() as connection:
        # Filtered here, not in SQL: SQLite keeps exact decimals as text.
        rows = [row for row in connection.execute(select(table))
                if float(row.confidence) >= min_confidence]
    return [Link(reseller_site_id=row.reseller_site_id, reseller_offer_id=row.reseller_offer_id,
                 upstream_site_id=row.upstream_site_id, upstream_offer_id=row.upstream_offer_id,
                 confidence=float(row.confidence), price_ratio=row.price_ratio,
                 ratio_cv=None if row.ratio_cv is None else float(row.ratio_cv),
                 name_similarity=float(row.name_similarity or 0), evidence=row.evidence or {})
            for row in rows]


def day_end(day: date) -> datetime:
    """The last instant of a UTC day (``at`` for "as of the end of that day")."""
    return datetime.combine(day + timedelta(days=1), time.min, UTC) - timedelta(microseconds=1)
