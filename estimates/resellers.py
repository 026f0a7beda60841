"""Reseller chains: which offers resell another site's offer (one upstream per reseller offer).

Method (every input comes from the database: ``offer`` and ``offer_price_period``):

1. Offers in force at ``at`` (default: the last observation), priced per 1000 units, with a
   platform, metric and USD value. Blocking: only offers of the same platform × metric × pricing
   whose order limits are equal or scaled by one factor (the same ``max / min`` fraction) are
   compared, so the work grows with block sizes, not with the square of the catalogue.
2. Name similarity: rapidfuzz ``token_sort_ratio`` of the normalized names (NFKC, case folded,
   emoji and symbols removed, upstream id markers such as ``ID1078 -``, ``[ID: 1078]``,
   ``1078 -`` removed, brackets opened): resellers keep the upstream's names, often with its id.
3. Price ratio: the USD/1000 ratio of the two offers is sampled once per day over the last
   ``window_days`` on which both were priced; its median is the markup and its coefficient of
   variation (CV) says whether the two prices move together (above ``MAX_STEADY_CV``: no link).
4. Site-pair evidence: a reseller panel mirrors many services of one upstream at one markup.
   For each pair of sites, the candidate ratios are clustered in log space; the pair is a chain
   when enough candidates (``min_pair_support``) sit at one markup inside the plausible band
   (×1.05 to ×3 in USD; ×0.66 to ×4.8 when the upstream ids copied into the names or the
   catalogue coverage, rather than the price, tell which side resells: panels pricing in other
   currencies convert at their own rates) and they are a fair share of the pair's candidates.
   Unrelated panels whose names collide have ratios scattered widely and no such cluster.
   Which side resells is read from, in order: the upstream's ids copied into the names, the
   price (the dearer side), the share of each catalogue the pair covers.
5. Within a chained site pair, offers whose ratio sits at the pair's markup pair one to one,
   best names first (a panel's variants of one service, other country or speed, share limits
   and price). When a reseller offer pairs on several upstream sites, a site that is not
   itself a reseller wins, then the cheapest offer: the root of the chain.

Confidence (0 to 1) is the product of the site-pair support (how many services sit at the
markup, saturating) and the offer-level agreement (name similarity, limits equal or scaled,
upstream id in the name, ratio stability over days).

Assumptions: a reseller prices every copied service at one markup over its upstream (in USD,
up to exchange-rate noise and the rounding of the reseller's price); resellers keep names and
order limits; without copied ids a reseller is the dearer side; unobserved upstreams are not inferred (two resellers of an uncrawled panel are
linked to each other, the cheaper one standing in as upstream, unless the would-be upstream's
names carry the uncrawled upstream's ids, which marks it as a copy too; a reseller of a reseller
is linked to the root only when the root is crawled). Retail packages are not linked
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
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Engine, delete, func, insert, select

from storage.db import write_transaction
from storage.models import offer_table, period_table, reseller_link_table

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
_FX_SLACK = 1.6
"""How far the panels' own exchange rates may move a USD markup off the band, when names or
catalogue coverage (not the price) tell which side resells."""
_QUANT = Decimal("0.000001")

# -- name normalization ------------------------------------------------------------------------

_ID_MARKERS = re.compile(
    r"""
      \[\s*id\s*[:#.]?\s*(?P<a>\d+)\s*\]            # [ID: 1078]
    | \(\s*id\s*[:#.]?\s*(?P<b>\d+)\s*\)            # (ID 1078)
    | ^\s*id\s*[:#.]?\s*(?P<c>\d+)\s*[-–—|:.)]?     # ID1078 - / ID 1211-
    | ^\s*(?P<d>\d+)\s*[-–—|:.)]\s+                 # 1078 -  (a leading upstream id)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


@lru_cache(maxsize=1 << 16)
def name_ids(name: str) -> frozenset[str]:
    """Service ids written into a name (``ID1078 - ...``, ``[ID: 1078]``, ``1078 - ...``), as
    text. (``[#9]`` is a tag that tells a panel's variants apart, not an id: it stays.)"""
    text = unicodedata.normalize("NFKC", name)
    return frozenset(next(value for value in match.groupdict().values() if value)
                     for match in _ID_MARKERS.finditer(text))


@lru_cache(maxsize=1 << 16)
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


_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?[km]?$")


def normalized_similarity(first: str, second: str) -> float:
    """Similarity (0-100) of two normalized names: rapidfuzz ``token_sort_ratio``, less 15 when
    their numbers differ (``900 per hour`` vs ``100 per hour``) and 5 per word swapped for
    another (``BRAZIL`` vs ``CHILE``): a reseller copies names, it does not edit them, while
    one panel's variants of a service differ in exactly such tokens."""
    score = float(fuzz.token_sort_ratio(first, second))
    if score == 100.0 or score == 0.0:
        return score
    tokens_first, tokens_second = first.split(), second.split()
    numbers_first = sorted(t for t in tokens_first if _NUMBER.match(t))
    numbers_second = sorted(t for t in tokens_second if _NUMBER.match(t))
    if numbers_first != numbers_second:
        score -= 15.0
    words_first = {t for t in tokens_first if not _NUMBER.match(t)}
    words_second = {t for t in tokens_second if not _NUMBER.match(t)}
    swapped = min(len(words_first - words_second), len(words_second - words_first))
    return max(0.0, score - 5.0 * swapped)


def name_similarity(first: str, second: str) -> float:
    """:func:`normalized_similarity` of the normalized names (0-100)."""
    return normalized_similarity(normalize_name(first), normalize_name(second))


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
    periods: tuple[tuple[date, date, float], ...]
    """(first day, last day, USD/1000) of each price period in the window, oldest first."""
    ids: frozenset[str]
    _daily: dict[date, float] | None = None

    @property
    def daily(self) -> dict[date, float]:
        """USD/1000 per day seen (a later period of the day wins); built on first use: only
        the offers of a candidate pair need it."""
        if self._daily is None:
            daily: dict[date, float] = {}
            for first, last, usd in self.periods:
                day = first
                while day <= last:
                    daily[day] = usd
                    day += timedelta(days=1)
            self._daily = daily
        return self._daily


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
    with engine.connect() as connection:
        return connection.execute(select(func.max(period_table.c.last_confirmed_at))).scalar()


def _block_key(platform: str, metric: str, pricing: str, low: int | None,
               high: int | None) -> tuple[Any, ...]:
    # Equal limits and limits scaled by one factor share the max/min fraction.
    if low and high:
        return (platform, metric, pricing, Fraction(high, low))
    return (platform, metric, pricing, low, high)


def _load_offers(engine: Engine, at: datetime, window_days: int) -> list[_Offer]:
    offers, periods = offer_table, period_table
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
        seen_periods = tuple(
            (max(row.valid_from.date(), first_day),
             min((row.valid_to or row.last_confirmed_at).date(), last_day),
             float(row.usd_per_1000)) for row in rows)
        price = Decimal(current.price)
        result.append(_Offer(
            offer_id=offer_id, site_id=current.site_id, site_offer_id=current.site_offer_id,
            name=current.name, normalized=normalize_name(current.name),
            block=_block_key(current.platform, current.metric, current.pricing,
                             current.min_quantity, current.max_quantity),
            limits=(current.min_quantity, current.max_quantity),
            usd=float(current.usd_per_1000),
            price_exponent=int(price.normalize().as_tuple().exponent) if price else 0,
            periods=seen_periods, ids=name_ids(current.name)))
    return result


# -- candidates ----------------------------------------------------------------------------------

def _rounding_tolerance(offer: _Offer) -> float:
    """Relative error of the ratio that the rounding of the reseller's price can explain."""
    price_unit = 10.0 ** min(offer.price_exponent, 0)
    return 0.5 * price_unit / max(offer.usd, 1e-9) if offer.usd else 0.0


def _daily_ratio(reseller: _Offer, upstream: _Offer) -> tuple[float, float | None, int]:
    reseller_daily, upstream_daily = reseller.daily, upstream.daily
    common = reseller_daily.keys() & upstream_daily.keys()
    ratios = [reseller_daily[day] / upstream_daily[day] for day in common
              if upstream_daily[day] > 0]
    if not ratios:
        return reseller.usd / upstream.usd, None, 0
    median = statistics.median(ratios)
    if len(ratios) < 2:
        return median, None, len(ratios)
    cv = statistics.pstdev(ratios) / statistics.fmean(ratios)
    return median, cv, len(ratios)


def _reversed(candidate: _Candidate) -> _Candidate:
    ratio, cv, days = _daily_ratio(candidate.upstream, candidate.reseller)
    return _Candidate(reseller=candidate.upstream, upstream=candidate.reseller,
                      similarity=candidate.similarity, limits=candidate.limits, ratio=ratio,
                      ratio_cv=cv, days=days,
                      ids_match=candidate.reseller.site_offer_id in candidate.upstream.ids)


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
            for _, _, position in process.extract(
                    offer.normalized, later, scorer=fuzz.token_sort_ratio,
                    score_cutoff=NAME_THRESHOLD, limit=None):
                other = members[index + 1 + position]
                if other.site_id == offer.site_id:
                    continue
                score = normalized_similarity(offer.normalized, other.normalized)
                if score < NAME_THRESHOLD:
                    continue
                reseller, upstream = (offer, other) if offer.usd >= other.usd else (other, offer)
                ratio, cv, days = _daily_ratio(reseller, upstream)
                if ratio < 1.0:  # the daily median says the other side is dearer
                    reseller, upstream = upstream, reseller
                    ratio, cv, days = _daily_ratio(reseller, upstream)
                limits = "equal" if reseller.limits == upstream.limits else "scaled"
                candidates.append(_Candidate(
                    reseller=reseller, upstream=upstream, similarity=float(score),
                    limits=limits, ratio=ratio, ratio_cv=cv, days=days,
                    ids_match=upstream.site_offer_id in reseller.ids))
    return candidates


# -- site-pair evidence --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _PairMarkup:
    reseller_site: str
    upstream_site: str
    log_markup: float
    """log(reseller USD/1000 / upstream USD/1000) at the centre of the cluster."""
    support: int
    candidates: int
    direction_by: str
    """What says which side resells: ``ids``, ``price`` or ``coverage``."""


def _copies(copy: _Offer, source: _Offer) -> bool:
    """The name of ``copy`` carries the id of ``source`` but not its own."""
    return source.site_offer_id in copy.ids and copy.site_offer_id not in copy.ids


def _pair_markups(candidates: list[_Candidate],
                  catalogue_sizes: dict[str, int]) -> dict[frozenset[str], _PairMarkup]:
    """Per unordered site pair: the densest markup among its candidates, how many candidates sit
    there, and which side is the reseller. The side is read from, in order: upstream ids the
    reseller's names carry (``1078 - ...`` copied from service 1078); the price (the reseller is
    dearer, by at least ×1.05); the share of each catalogue that the pair covers (a reseller
    copies a large part of its upstream, the upstream sells much more than one reseller's copy)
    when the price cannot tell (USD values of panels in other currencies are distorted by the
    panels' own exchange rates)."""
    by_pair: dict[tuple[str, str], list[tuple[float, _Candidate]]] = defaultdict(list)
    for candidate in candidates:
        if candidate.ratio_cv is not None and candidate.ratio_cv > MAX_STEADY_CV:
            continue
        first, second = sorted((candidate.reseller.site_id, candidate.upstream.site_id))
        signed = math.log(candidate.ratio)
        # log(first / second): positive when the first site is the dearer one.
        by_pair[(first, second)].append(
            (signed if candidate.reseller.site_id == first else -signed, candidate))
    result = {}
    for (first, second), entries in by_pair.items():
        entries.sort(key=lambda entry: entry[0])
        logs = [value for value, _ in entries]
        best_low, best_high = 0, 0
        for value in logs:
            low = bisect_left(logs, value - _PAIR_BANDWIDTH)
            high = bisect_right(logs, value + _PAIR_BANDWIDTH)
            if high - low > best_high - best_low:
                best_low, best_high = low, high
        center = statistics.median(logs[best_low:best_high])
        cluster = [candidate for _, candidate in entries[best_low:best_high]]
        votes = {first: 0, second: 0}
        foreign = {first: 0, second: 0}
        covered: dict[str, set[int]] = {first: set(), second: set()}
        for candidate in cluster:
            for copy, source in ((candidate.reseller, candidate.upstream),
                                 (candidate.upstream, candidate.reseller)):
                if _copies(copy, source):
                    votes[copy.site_id] += 1
                elif copy.ids and not copy.ids & {copy.site_offer_id, source.site_offer_id}:
                    foreign[copy.site_id] += 1
            covered[candidate.reseller.site_id].add(candidate.reseller.offer_id)
            covered[candidate.upstream.site_id].add(candidate.upstream.offer_id)
        share = {site: len(covered[site]) / max(1, catalogue_sizes.get(site, 1))
                 for site in (first, second)}
        by_share = first if share[first] >= share[second] else second
        clear_share = max(share.values()) >= 1.5 * min(share.values())
        dearer = first if center > 0 else second
        if max(votes.values()) >= 3 and max(votes.values()) >= 3 * min(votes.values()):
            reseller, direction_by = max(votes, key=lambda site: votes[site]), "ids"
        elif abs(center) >= math.log(MARKUP_BAND[0]):
            reseller, direction_by = dearer, "price"
            if clear_share and by_share != dearer and share[by_share] >= 0.6:
                reseller, direction_by = by_share, "coverage"
        elif clear_share:
            reseller, direction_by = by_share, "coverage"
        else:
            continue
        upstream = second if reseller == first else first
        if foreign[upstream] >= max(3, len(cluster) // 2):
            # The would-be upstream's names carry a third site's ids: it copies a site that is
            # not in the database, and so may the other side (two resellers of one uncrawled
            # upstream). Neither is the other's upstream for counters and orders: no chain.
            continue
        log_markup = center if reseller == first else -center
        result[frozenset((first, second))] = _PairMarkup(
            reseller, upstream, log_markup, len(cluster), len(entries), direction_by)
    return result


def _pair_score(markup: _PairMarkup, min_pair_support: int) -> float:
    """0 to 1: how surely a site pair is a reseller chain."""
    ratio = math.exp(markup.log_markup)
    low, high = MARKUP_BAND
    if markup.direction_by != "price":
        # Panels pricing in another currency convert at their own rates, not the ECB's: in USD
        # a reseller may look cheaper than its upstream, or dearer than x3.
        low, high = low / _FX_SLACK, high * _FX_SLACK
    if not low <= ratio <= high or markup.support < min_pair_support:
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
    catalogue_sizes: dict[str, int] = defaultdict(int)
    for offer in offers:
        catalogue_sizes[offer.site_id] += 1
    candidates = _candidates(offers)
    markups = _pair_markups(candidates, catalogue_sizes)
    qualified: list[tuple[float, _Candidate, _PairMarkup]] = []
    for candidate in candidates:
        markup = markups.get(frozenset((candidate.reseller.site_id, candidate.upstream.site_id)))
        if markup is None:
            continue
        pair_score = _pair_score(markup, min_pair_support)
        if pair_score == 0.0:
            continue
        if candidate.reseller.site_id != markup.reseller_site:
            candidate = _reversed(candidate)
        tolerance = _PAIR_BANDWIDTH + _rounding_tolerance(candidate.reseller)
        if abs(math.log(candidate.ratio) - markup.log_markup) > tolerance:
            continue
        if candidate.ratio_cv is not None and candidate.ratio_cv > MAX_STEADY_CV:
            continue
        confidence = pair_score * _offer_score(candidate)
        if confidence >= min_confidence:
            qualified.append((confidence, candidate, markup))
    # Within a site pair, offers pair one to one, best names first: a panel's variants of one
    # service (countries, speeds) have the same limits and price and near-equal names.
    qualified.sort(key=lambda item: (-item[1].similarity, -item[0],
                                     abs(math.log(item[1].ratio) - item[2].log_markup)))
    taken: set[tuple[int, str]] = set()
    best: dict[int, tuple[float, _Candidate, _PairMarkup]] = {}
    reseller_sites = {markup.reseller_site for markup in markups.values()
                      if _pair_score(markup, min_pair_support) > 0.0}
    for confidence, candidate, markup in qualified:
        reseller_key = (candidate.reseller.offer_id, candidate.upstream.site_id)
        upstream_key = (candidate.upstream.offer_id, candidate.reseller.site_id)
        if reseller_key in taken or upstream_key in taken:
            continue
        taken.update((reseller_key, upstream_key))
        kept = best.get(candidate.reseller.offer_id)
        # Across upstream sites: a site that resells others is not a root; then the cheapest.
        rank = (candidate.upstream.site_id in reseller_sites, candidate.upstream.usd, -confidence)
        if kept is None or rank < (kept[1].upstream.site_id in reseller_sites,
                                   kept[1].upstream.usd, -kept[0]):
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
                "direction_by": markup.direction_by,
                "pair_support": markup.support,
                "pair_candidates": markup.candidates,
                "at": at.isoformat(),
            }))
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

