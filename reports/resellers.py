"""Reseller chains from the stored links (``reseller_link``, computed by ``estimates.resellers``).

- :func:`site_chains`: per upstream site and reseller site, the number of linked offers and the
  markup (median, min and max of the links' price ratios) and the mean confidence;
- :func:`root_offers`: every linked offer mapped to the root of its chain (the upstream of the
  upstream ...), which the price index uses to count a resold service once.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, select

from storage.models import reseller_link_table

METHOD = ("links from estimates.resellers (names, order limits, a steady USD/1000 ratio, many "
          "services of one site pair at one markup); markup = median reseller/upstream ratio")

_RATIO = Decimal("0.0001")
_CONFIDENCE = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SiteChain:
    upstream_site_id: str
    reseller_site_id: str
    links: int
    """Reseller offers linked to an offer of the upstream site."""
    median_markup: Decimal
    min_markup: Decimal
    max_markup: Decimal
    mean_confidence: Decimal


def _links(engine: Engine, min_confidence: float) -> list[tuple[str, int, str, int, Decimal,
                                                               Decimal]]:
    table = reseller_link_table
    query = select(table.c.reseller_site_id, table.c.reseller_offer_id, table.c.upstream_site_id,
                   table.c.upstream_offer_id, table.c.price_ratio, table.c.confidence)
    with engine.connect() as connection:
        # Filtered here, not in SQL: SQLite keeps exact decimals as text.
        return [tuple(row) for row in connection.execute(query)
                if float(row.confidence) >= min_confidence]


def summarize_links(links: Iterable[tuple[str, str, Decimal, Decimal]]) -> list[SiteChain]:
    """``(upstream site, reseller site, price ratio, confidence)`` per link → one row per site
    pair with link counts and markups, most links first."""
    by_pair: dict[tuple[str, str], list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for upstream_site, reseller_site, ratio, confidence in links:
        by_pair[(upstream_site, reseller_site)].append((Decimal(ratio), Decimal(confidence)))
    rows = []
    for (upstream_site, reseller_site), values in by_pair.items():
        ratios = sorted(ratio for ratio, _ in values)
        rows.append(SiteChain(
            upstream_site_id=upstream_site, reseller_site_id=reseller_site, links=len(values),
            median_markup=Decimal(statistics.median(ratios)).quantize(_RATIO),
            min_markup=ratios[0].quantize(_RATIO), max_markup=ratios[-1].quantize(_RATIO),
            mean_confidence=(sum((c for _, c in values), Decimal(0))
                             / len(values)).quantize(_CONFIDENCE)))
    rows.sort(key=lambda row: (row.upstream_site_id, -row.links, row.reseller_site_id))
    return rows


def site_chains(engine: Engine, *, min_confidence: float = 0.5) -> list[SiteChain]:
    """Upstream site → reseller site with link counts and markups, most links first (the
    stored links)."""
    return summarize_links((upstream_site, reseller_site, ratio, confidence)
                           for reseller_site, _, upstream_site, _, ratio, confidence
                           in _links(engine, min_confidence))


def root_offers(engine: Engine, *, min_confidence: float = 0.5) -> dict[int, int]:
    """``{reseller offer id: root upstream offer id}``: links followed to the end of the
    chain (a cycle, which the linker never makes, stops where it closes)."""
    upstream_of = {reseller_offer: upstream_offer for _, reseller_offer, _, upstream_offer, _, _
                   in _links(engine, min_confidence)}
    roots = {}
    for offer_id in upstream_of:
        current, seen = offer_id, {offer_id}
        while current in upstream_of and upstream_of[current] not in seen:
            current = upstream_of[current]
            seen.add(current)
        roots[offer_id] = current
    return roots
