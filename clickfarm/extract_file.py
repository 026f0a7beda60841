"""The offline extraction contract behind `clickfarm extract`: a saved page in, offers out.

It runs the very functions the spiders and pipelines run (extraction, normalization,
validation), so what it prints for a saved page is what a crawl of that page would store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from core.families import FAMILIES
from core.offers import Rejection
from crawlers.extract.json_documents import NESTED_TOO_DEEP
from crawlers.items import ExtractError, ExtractResult, RawOffer, RawRejection
from pipelines.base import rejection_for_error
from pipelines.normalize import normalize_offer
from pipelines.validate import validate_offer

NO_CURRENCY = "XXX"
# Real price lists are well under 1 MB (2,000 services); 16 MB leaves room for the largest shop
# page. A larger file is refused before it is read: a 50 MB answer used to take a minute and
# 740 MB of memory to turn into rows nobody asked for.
MAX_EXTRACT_BYTES = 16 * 1024 * 1024


def read_bounded(source: Path | BinaryIO, limit: int = MAX_EXTRACT_BYTES) -> bytes:
    """The bytes of a file or stream, at most ``limit``; ``ValueError`` (with the sizes) when
    there are more. Only ``limit + 1`` bytes are ever read."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            return read_bounded(stream, limit)
    data = source.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"the input is larger than {limit / 1024 / 1024:g} MB: not a price "
                         "list (a page or API answer that big is refused, nothing extracted)")
    return data

# The reader of each family (core/families.py), e.g. EXTRACTORS["shopify"](data, url).
EXTRACTORS = {family.name: family.load_reader() for family in FAMILIES}


@dataclass
class ExtractOutcome:
    offers: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def extract_file(data: bytes, *, family: str, url: str | None, currency: str | None,
                 observed_at: datetime) -> ExtractOutcome:
    outcome = ExtractOutcome()
    if family not in EXTRACTORS:
        outcome.error = f"unknown family {family!r}; known: {', '.join(sorted(EXTRACTORS))}"
        return outcome
    try:
        result: ExtractResult = EXTRACTORS[family](data, url)
    except ExtractError as error:
        outcome.error = str(error)
        return outcome
    except RecursionError:  # a structure the extractor walks, nested past any real page
        outcome.error = f"{family}: {NESTED_TOO_DEEP}"
        return outcome
    outcome.notes.extend(result.notes)
    site_currency = currency or result.currency
    if site_currency is None:
        # Offline, an unstated currency is shown as unknown (null) rather than failing every
        # row: ISO 4217 "XXX" (no currency) carries it through normalization.
        site_currency = NO_CURRENCY
        outcome.notes.append("the page does not state its currency: currency and usd_per_1000 "
                             "are null unless the price shows a symbol; pass --currency CODE")
    for rejected in result.rejected:
        outcome.rejections.append(rejection_dict(rejected))
    for raw in result.offers:
        try:
            outcome_of_row = _normalized_row(raw, site_currency=site_currency,
                                             observed_at=observed_at)
        except Exception as error:  # as in a crawl (pipelines.base): the row is rejected, the
            # rest of the page still printed
            outcome_of_row = rejection_dict(rejection_for_error(raw, error,
                                                                stage="normalization"))
        if "reason" in outcome_of_row:
            outcome.rejections.append(outcome_of_row)
        else:
            outcome.offers.append(outcome_of_row)
    return outcome


def _normalized_row(raw: RawOffer, *, site_currency: str,
                    observed_at: datetime) -> dict[str, Any]:
    """The offer as printed, or its rejection (a dict with a ``reason``)."""
    normalized = normalize_offer(raw, site_currency=site_currency, observed_at=observed_at)
    if isinstance(normalized, Rejection):
        return rejection_dict(normalized)
    reason = validate_offer(normalized)
    if reason:
        return {"site_offer_id": normalized.site_offer_id, "reason": reason, "raw": raw.raw}
    offer = normalized.to_json_dict()
    if offer["currency"] == NO_CURRENCY:
        offer["currency"] = offer["usd_per_1000"] = offer["fx_rate"] = offer["fx_date"] = None
    return offer


def rejection_dict(rejection: Rejection | RawRejection) -> dict[str, Any]:
    return {"site_offer_id": rejection.site_offer_id, "reason": rejection.reason,
            "raw": rejection.raw}
