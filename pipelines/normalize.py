"""Raw offers and counters as seen -> normalized offers and counter values, or rejections.

:func:`normalize_offer` runs for every offer of every crawl, so every step on the text is cached
(``clean_text``, money and quantity parsing, attributes, taxonomy, exchange rates): a repeated
name costs a few microseconds.

Decisions (see also :mod:`pipelines.money`, :mod:`pipelines.fx`, :mod:`pipelines.attributes`):

- Decimal style: API and JSON sources (``source`` in :data:`PLAIN_SOURCES`, or a JSON number)
  are plain decimals (``"0.900"`` = 0.9); everything else is page text (``"Rp 15.000"``).
- Currency: the offer's own currency (``RawOffer.currency``, else a symbol in the price text),
  else the site's. An offer whose stated currency and price symbol disagree (``USD`` but
  ``₹75``) is rejected rather than guessed; so is an unknown code and an offer with no currency
  at all.
- Package services: ``pricing == "package"``, or an API/HTML service with ``min = max = 1`` whose
  type is missing or says "package" (PerfectPanel lists packages that way; the rate is the price
  of the whole package). The package size comes from ``RawOffer.quantity``, else from the name
  (``1000 Followers Package``, ``You will get 5000 Followers``); when neither says,
  ``quantity`` and ``usd_per_1000`` are ``None`` (a price per 1000 cannot be computed).
- ``usd_per_1000`` = price (per 1000, or package price / quantity x 1000) x USD rate of the
  observation day, quantized to 6 decimals (:data:`pipelines.fx.USD_QUANTUM`). It is ``None``
  when the ECB has no rate for the currency (PKR, VND, IRR, ...): the offer is kept, and
  :func:`usd_gap_reason` says why, for the crawl's counters.
- API booleans (``refill``, ``cancel``, ``dripfeed``) accept ``true``/``1``/``"1"``/``"true"``/
  ``"yes"`` and their opposites; anything else is ``None``. The API ``dripfeed`` flag overrides
  the name; the API ``refill`` flag is kept as ``refill_flag`` beside ``refill_days`` from the
  name (a refill button and a stated refill period are different facts).
- ``site_offer_id``: the seller's id stripped; without one, ``name:`` + the first 16 hex digits
  of sha1(clean name + category), stable across crawls.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from core.families import FAMILIES
from core.offers import CounterValue, NormalizedOffer, Rejection
from crawlers.items import RawCounter, RawOffer
from pipelines.attributes import parse_attributes
from pipelines.fx import USD_QUANTUM, is_known_currency, usd_rate
from pipelines.money import (
    DecimalStyle,
    MoneyError,
    QuantityError,
    ascii_digits,
    currency_code,
    parse_money,
    parse_quantity,
)
from pipelines.package_sizes import mask_non_sizes, watch_hours_packages
from pipelines.text import clean_text

PLAIN_SOURCES = frozenset().union(*(family.plain_sources for family in FAMILIES))
"""Sources whose prices are plain decimal strings or JSON numbers."""
RETAIL_SOURCES = frozenset().union(*(family.sources for family in FAMILIES if family.retail))
"""Retail shops: they sell packages, so a package whose size cannot be read is rejected (a price
without a size says nothing about the market), where a panel's package is kept without USD."""

_TRUE = frozenset({"1", "true", "yes", "y", "on", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "off", "f", ""})

_ENGAGEMENT_NOUNS = (
    r"followers?|likes?|views?|subscribers?|subs|members?|comments?|plays?|streams?|shares?|"
    r"retweets?|reposts?|saves?|votes?|reviews?|installs?|visitors?|visits?|listeners?|"
    r"impressions?|reactions?|favorites?|favourites?|upvotes?|downloads?|viewers?|fans?|"
    r"connections?|friends?|hits?|clicks?|watch\s*hours?|hours?|seguidores|curtidas|takipçi|"
    r"beğeni|izlenme|người\s*theo\s*dõi|pengikut|suka"
)
_PACKAGE_QUANTITY = re.compile(
    rf"(?<![\w.,$€£₹])(?P<n>\d{{1,3}}(?:[.,\s]\d{{3}})+(?![\d])|\d+(?:[.,]\d+)?\s*[kKmM]?)(?![^\W\d_])\s*\+?\s*"
    # "1000 Instagram Followers", "10 Auto Custom Comments"; "·" is a blanked non-size phrase.
    rf"(?:(?:[^\W\d_]+|·)\s+){{0,2}}"
    rf"(?:{_ENGAGEMENT_NOUNS}|social\s*signals?|signals?|package|pack|paket|paquete|pacote)\b",
    re.IGNORECASE,
)


# --- small pieces ------------------------------------------------------------------------------

def parse_flag(value: Any) -> bool | None:
    """An API boolean as panels send it: ``true``, ``1``, ``"1"``, ``"true"``, ``"yes"`` ->
    True; ``false``, ``0``, ``"0"``, ``"false"``, ``"no"``, ``""`` -> False; ``None`` or
    anything else -> None (unknown, never guessed)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {1: True, 0: False}.get(value)
    if isinstance(value, float):
        return {1.0: True, 0.0: False}.get(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


@lru_cache(maxsize=65_536)
def _fallback_id(name: str, category: str | None) -> str:
    digest = hashlib.sha1(f"{name}\x1f{category or ''}".encode()).hexdigest()
    return f"name:{digest[:16]}"


def _offer_id(raw_id: Any, name: str, category: str | None) -> str:
    if raw_id is not None and not isinstance(raw_id, bool):
        text = str(raw_id).strip()
        if text:
            return text
    return _fallback_id(name, category)


_SIZE_NUMBER = re.compile(
    r"(?<![\w.,$€£₹/])(?P<n>\d{1,3}(?:[.,\s]\d{3})+|\d+(?:[.,]\d+)?)(?![\d])\s*"
    r"(?P<suffix>[kKmM])?(?![^\W\d_])"
    # "30 days", "30-day", "24/7", "10%", "2-3 hours": durations, ratios, percentages and
    # ranges are not sizes; "1000-followers" (a slug, "1K-Followers") is one.
    r"(?!\s*(?:%|/|[-‑–](?![^\W\d_])|[-‑–]?\s*(?:days?|hours?|hrs?|h|weeks?|months?|years?|"
    r"dias?|mins?|minutes?)\b))",
    re.IGNORECASE,
)


@lru_cache(maxsize=65_536)
def parse_package_quantity(text: str) -> int | None:
    """The number of units a retail package text states, or ``None`` when it cannot be read.

    Every number of the text counts (``"1,000 Followers"``, ``"1.5k"``, ``"10 000"``, ``"1M"``,
    ``"2.5K Likes"``, ``"Starter - 1,000 Followers"``, ``"Paquete 5K"``) except durations,
    percentages and prices (``"30 days refill"``, ``"+10% bonus"``, ``"$12.99"``). One size ->
    that size; several -> the one followed by an engagement word (``"Top 10 - 1000
    Followers"``); otherwise (``"100 Likes + 1000 Views"``, ``"Mega pack"``) ``None``: a size
    is never guessed."""
    cleaned = ascii_digits(clean_text(text))
    sizes = set()
    for match in _SIZE_NUMBER.finditer(mask_non_sizes(cleaned)):
        try:
            size = parse_quantity(re.sub(r"\s", "", match["n"]) + (match["suffix"] or ""))
        except QuantityError:
            continue  # "12.99": not a whole number of units
        if size:
            sizes.add(size)
    if len(sizes) == 1:
        return sizes.pop()
    if sizes:
        return package_quantity_from_name(cleaned)
    return None


THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
_LONE_GROUP = re.compile(r"\d([.,])\d{3}(?![\d.,])")


def _retail_decimal_separator(*price_texts: Any) -> str | None:
    """The decimal mark of shop price texts, when they show it: a retail package is never
    priced to the tenth of a cent, so a single ``.`` or ``,`` followed by exactly three digits
    groups thousands (``"3.459 €"`` = 3459, ``"$1,500"`` = 1500) and the other mark is the
    decimal one. ``None`` when the texts do not tell (``"12,99 €"``, ``"$27"``)."""
    for text in price_texts:
        if not isinstance(text, str):
            continue
        marks = re.findall(r"\d([.,])\d", text)
        match = _LONE_GROUP.search(text)
        if match and len(marks) == 1:
            return "," if match[1] == "." else "."
    return None


def parse_availability(value: Any) -> bool | None:
    """Availability as shops state it: booleans and flags (``true``, ``1``), schema.org
    ``https://schema.org/InStock`` / ``OutOfStock`` / ``SoldOut``, ``"in stock"``; anything
    else is unknown (``None``)."""
    if isinstance(value, str) and not value.strip():
        return None
    flag = parse_flag(value)
    if flag is not None or not isinstance(value, str):
        return flag
    word = re.sub(r"[^a-z]", "", value.rsplit("/", 1)[-1].lower())
    if word in ("instock", "instoreonly", "onlineonly", "limitedavailability", "presale",
                "available"):
        return True
    if word in ("outofstock", "soldout", "discontinued", "unavailable", "backorder"):
        return False
    return None


@lru_cache(maxsize=65_536)
def package_quantity_from_name(name: str) -> int | None:
    """The package size a name states (``1000 Followers Package`` -> 1000, ``You will get
    10.000 Followers`` -> 10000); ``None`` when it states none or several different ones."""
    sizes = set()
    masked = mask_non_sizes(ascii_digits(clean_text(name)))
    numbers = [m["n"] for m in _PACKAGE_QUANTITY.finditer(masked)] + watch_hours_packages(masked)
    for number in numbers:
        try:
            size = parse_quantity(number.replace(" ", ""))
        except QuantityError:
            continue
        if size:
            sizes.add(size)
    return sizes.pop() if len(sizes) == 1 else None


_ENGAGEMENT_WORD = re.compile(rf"(?<![^\W\d_])(?:{_ENGAGEMENT_NOUNS})(?![^\W\d_])", re.IGNORECASE)
_RANGE = re.compile(r"\d\s*[kKmM]?\s*(?:[-–~]|\bto\b|\ba\b)\s*\d", re.IGNORECASE)
_LIMIT_BEFORE = re.compile(r"(?:max(?:imum)?|min(?:imum)?|start|speed|up\s+to|limit)\W*$",
                           re.IGNORECASE)


@lru_cache(maxsize=65_536)
def lone_size_in_name(name: str, offer_id: str | None = None) -> int | None:
    """The size of a package service whose name states it without a unit word beside it
    (``"ID:904 Real TikTok Followers [5K] [BRAZIL]"`` -> 5000): the one number left once ids
    (``ID:904``, the service's own id), prices, speeds, durations, percentages, ratings,
    measures and limits (``Max 10K``) are set aside, in a name that names an engagement unit.
    ``None`` when no such number, or several different ones, remain."""
    masked = mask_non_sizes(ascii_digits(clean_text(name)))
    if not _ENGAGEMENT_WORD.search(masked):
        return None
    if _RANGE.search(masked):
        return None  # "[10K TO 25K]", "20K-30K": a range of sizes is no package size
    sizes = set(parse_quantity(number) for number in watch_hours_packages(masked))
    for match in _SIZE_NUMBER.finditer(masked):
        number = re.sub(r"\s", "", match["n"])
        if offer_id is not None and number == offer_id.strip():
            continue  # "904 Real TikTok Followers [5K]": the service's id, not its size
        if _LIMIT_BEFORE.search(masked[:match.start()]) or masked[:match.start()].endswith("#"):
            continue  # "Max 10K", "service #334"
        if masked[match.end():].startswith("+"):
            continue  # "1M+ REAL Live Celebrities", "253+ Country": an audience, not a size
        if re.search(r"\d\s*\+\s*$", masked[:match.start()]):
            return None  # "[6+13]": a bundle of two counts
        try:
            size = parse_quantity(number + (match["suffix"] or ""))
        except QuantityError:
            continue
        if size:
            sizes.add(size)
    return sizes.pop() if len(sizes) == 1 else None


def _without_leading_id(name: str, offer_id: str | None) -> str:
    """The name without the service's own id in front (``"904 Real TikTok Followers [5K]"``
    of service 904 -> ``"Real TikTok Followers [5K]"``): an id is never a size."""
    if offer_id and offer_id.isdigit():
        match = re.match(rf"\s*(?:id\s*[:#.]?\s*)?{offer_id}(?!\d)\s*[-–—:|.)\]]?\s*", name,
                         re.IGNORECASE)
        if match and match.end() < len(name):
            return name[match.end():]
    return name


def _quantity(value: Any, what: str) -> int | None:
    """``None``/blank -> None; otherwise parse_quantity, errors naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_quantity(value)
    except QuantityError as error:
        raise QuantityError(f"bad {what}: {error}") from error


def _decimal_style(raw: RawOffer) -> DecimalStyle:
    if not isinstance(raw.price, str):
        return "plain"
    source = (raw.source or "").strip().lower()
    return "plain" if source in PLAIN_SOURCES or source.startswith("api") else "display"


def _raw_record(raw: RawOffer) -> dict[str, Any]:
    if raw.raw:
        return dict(raw.raw)
    return {"id": raw.site_offer_id, "name": raw.name, "category": raw.category,
            "price": raw.price, "currency": raw.currency, "pricing": raw.pricing,
            "quantity": raw.quantity, "min": raw.min_quantity, "max": raw.max_quantity,
            "source": raw.source}


def offer_id_and_record(raw: RawOffer) -> tuple[str | None, dict[str, Any]]:
    """(site_offer_id the normalized offer gets, raw record) of a raw offer, for a rejection:
    the same id as the offer would have had, so the stored listing still counts it as seen."""
    try:
        name = clean_text(raw.name if isinstance(raw.name, str) else str(raw.name or ""))
        category = _clean_or_none(raw.category)
    except Exception:  # called on offers a pipeline failed on: any field may be odd
        name, category = "", None
    offer_id = _offer_id(raw.site_offer_id, name, category) if name else (
        _offer_id(raw.site_offer_id, "", None) if raw.site_offer_id is not None else None)
    return offer_id, _raw_record(raw)


def _is_package_type(service_type: str | None) -> bool:
    return service_type is not None and "package" in service_type.lower()


def _clean_or_none(text: Any) -> str | None:
    if text is None:
        return None
    cleaned = clean_text(str(text))
    return cleaned or None


@lru_cache(maxsize=8)
def _taxonomy_at(path: Any) -> Any:
    from pipelines.taxonomy import load_taxonomy

    return load_taxonomy(path)


def _classify(name: str, category: str | None) -> Any:
    """``pipelines.taxonomy.classify`` without re-resolving the taxonomy file on every call
    (``load_taxonomy`` resolves the path on the filesystem each time: ~15 µs per offer)."""
    # Imported late: the taxonomy module loads its YAML, and is written in parallel.
    from pipelines.taxonomy import default_taxonomy_path

    return _taxonomy_at(default_taxonomy_path()).classify(name, category)


# --- offers ------------------------------------------------------------------------------------

def normalize_offer(raw: RawOffer, *, site_currency: str | None, observed_at: datetime,
                    decimal_style: DecimalStyle | None = None,
                    decimal_separator: str | None = None) -> NormalizedOffer | Rejection:
    """Normalize one raw offer, or say why it cannot be.

    ``site_currency``: the currency the site states or is configured with (ISO code), used when
    the offer names none. ``observed_at``: timezone-aware time of the crawl; its UTC date picks
    the exchange rate. ``decimal_style`` / ``decimal_separator`` override the per-source
    defaults (see :func:`pipelines.money.parse_money`), e.g. from a site's configuration.

    Returns a :class:`Rejection` (never raises) for bad data: no name, no or bad price, unknown
    or missing currency, unreadable quantities. Raises ``ValueError`` only for a naive
    ``observed_at``, which is a programming error.
    """
    if observed_at.tzinfo is None or observed_at.utcoffset() is None:
        raise ValueError("observed_at must be timezone-aware (UTC)")
    name = clean_text(raw.name if isinstance(raw.name, str) else str(raw.name or ""))
    category = _clean_or_none(raw.category)

    def reject(reason: str) -> Rejection:
        fallback = _offer_id(raw.site_offer_id, name, category) if name else None
        return Rejection(site_offer_id=fallback, reason=reason, raw=_raw_record(raw))

    if not name:
        return reject("empty name")
    if raw.price is None or (isinstance(raw.price, str) and not raw.price.strip()):
        return reject("no price")

    # Currency: the offer's own statement, then the symbol in the price, then the site's.
    site = site_currency.strip().upper() if site_currency and site_currency.strip() else None
    stated: str | None = None
    if raw.currency is not None and str(raw.currency).strip():
        stated = currency_code(str(raw.currency), site)
        if stated is None or not is_known_currency(stated):
            return reject(f"unknown currency {str(raw.currency).strip()!r}")
    style = decimal_style or _decimal_style(raw)
    is_retail = (raw.source or "").strip().lower() in RETAIL_SOURCES
    unit_price = raw.price_per_units is not None and bool(str(raw.price_per_units).strip())
    if is_retail and style == "display" and decimal_separator is None and not unit_price:
        # (a unit price may well be a fraction of a cent: "$0.002 each")
        decimal_separator = _retail_decimal_separator(raw.price, raw.compare_at_price)
    try:
        money = parse_money(raw.price, stated or site, decimal_style=style,
                            decimal_separator=decimal_separator)
    except MoneyError as error:
        return reject(f"bad price: {error}")
    if decimal_separator is not None and money.currency in THREE_DECIMAL_CURRENCIES:
        # "12.990 KWD": three decimals are real in these currencies.
        try:
            money = parse_money(raw.price, stated or site, decimal_style=style)
        except MoneyError as error:
            return reject(f"bad price: {error}")
        decimal_separator = None
    amount = money.amount
    if unit_price:
        # "Price per 1000: $2.10", "₹ 0.45 / like": a unit price is a rate, per 1000 here.
        try:
            per_units = parse_quantity(str(raw.price_per_units))
        except QuantityError as error:
            return reject(f"bad unit count of a unit price: {error}")
        if not per_units or raw.pricing != "per_1000":
            return reject(f"unit price per {raw.price_per_units!r} units of a "
                          f"{raw.pricing!r} offer: not a rate")
        amount = money.amount * 1000 / per_units
    currency = money.currency
    if stated is not None and currency != stated:
        return reject(f"currency conflict: offer says {stated}, price {money.raw!r} says {currency}")
    if currency is None:
        return reject(f"no currency: price {money.raw!r} names none and the site has no currency")
    if not is_known_currency(currency):
        return reject(f"unknown currency {currency!r}")

    try:
        min_quantity = _quantity(raw.min_quantity, "min quantity")
        max_quantity = _quantity(raw.max_quantity, "max quantity")
        if raw.pricing == "package" and raw.quantity is not None:
            # Retail variants and cards write the size in words ("1,000 Followers", "1.5K",
            # "Starter - 500 Likes"): read what they state, or say which text was unreadable.
            quantity_text = clean_text(str(raw.quantity))
            stated_quantity = parse_package_quantity(quantity_text) if quantity_text else None
            if quantity_text and stated_quantity is None:
                return reject(f"quantity not readable: {quantity_text!r}")
        else:
            stated_quantity = _quantity(raw.quantity, "package quantity")
    except QuantityError as error:
        return reject(str(error))

    service_type = _clean_or_none(raw.service_type)
    if raw.pricing not in ("per_1000", "package"):
        return reject(f"unknown pricing {raw.pricing!r}")
    is_package = raw.pricing == "package" or (
        min_quantity == 1 and max_quantity == 1
        and (service_type is None or _is_package_type(service_type)))
    quantity: int | None = None
    if is_package:
        offer_id = str(raw.site_offer_id).strip() if raw.site_offer_id is not None else None
        sized_name = _without_leading_id(name, offer_id)
        quantity = (stated_quantity or package_quantity_from_name(sized_name)
                    or lone_size_in_name(sized_name, offer_id)
                    # "40 Reddit Upvotes" of service 40: the leading number was the size
                    or (package_quantity_from_name(name) if sized_name != name else None))
        if quantity is None and is_retail:
            return reject(f"quantity not readable: {name!r}")

    compare_at: Decimal | None = None
    compare_at_raw: str | None = None
    if raw.compare_at_price is not None and str(raw.compare_at_price).strip():
        try:
            compare_money = parse_money(raw.compare_at_price, currency, decimal_style=style,
                                        decimal_separator=decimal_separator)
        except MoneyError as error:
            return reject(f"bad compare-at price: {error}")
        if compare_money.currency != currency:
            return reject(f"currency conflict: price in {currency}, compare-at price "
                          f"{compare_money.raw!r} in {compare_money.currency}")
        compare_at, compare_at_raw = compare_money.amount, compare_money.raw

    fx = usd_rate(currency, observed_at.astimezone(UTC).date())
    usd_per_1000: Decimal | None = None
    if fx is not None:
        try:
            if not is_package:
                usd_per_1000 = amount * fx.rate
            elif quantity:
                usd_per_1000 = money.amount / quantity * 1000 * fx.rate
            if usd_per_1000 is not None:
                usd_per_1000 = usd_per_1000.quantize(USD_QUANTUM)
        except ArithmeticError:  # more digits than a Decimal holds: not a price, not a guess
            return reject(f"USD value out of range: {money.raw!r} {currency}")

    attributes = parse_attributes(raw.name, raw.description)
    drip_flag = parse_flag(raw.dripfeed)
    if drip_flag is not None:
        attributes.drip_feed = drip_flag  # the panel's own switch beats what the name says

    platform, metric, inferred, page_context = _platform_and_metric(raw)
    return NormalizedOffer(
        site_offer_id=_offer_id(raw.site_offer_id, name, category),
        name=name,
        name_raw=raw.name,
        category=category,
        platform=platform,
        metric=metric,
        pricing="package" if is_package else "per_1000",
        price=amount,
        price_raw=money.raw,
        currency=currency,
        quantity=quantity,
        quantity_raw=(str(raw.quantity).strip() or None) if is_package and raw.quantity is not None
        else None,
        compare_at_price=compare_at,
        compare_at_price_raw=compare_at_raw,
        available=parse_availability(raw.available),
        usd_per_1000=usd_per_1000,
        fx_rate=fx.rate if fx is not None else None,
        fx_date=fx.rate_date if fx is not None else None,
        min_quantity=min_quantity,
        max_quantity=max_quantity,
        service_type=service_type,
        description=_clean_or_none(raw.description),
        average_time=_clean_or_none(raw.average_time),
        refill_flag=parse_flag(raw.refill),
        cancel_flag=parse_flag(raw.cancel),
        attributes=attributes,
        observed_at=observed_at,
        inferred=inferred,
        page_context=page_context,
    )


def _platform_and_metric(raw: RawOffer) -> tuple[str | None, str | None, tuple[str, ...],
                                                  str | None]:
    """(platform, metric, inferred fields, page context used) of an offer: from its name and
    category; when they leave the platform or the metric unknown, from the page around it
    (``RawOffer.context``: heading, title, breadcrumb), and those fields are marked inferred."""
    stated = _classify(raw.name, raw.category)
    context = _clean_or_none(raw.context)
    if context is None or (stated.platform is not None and stated.metric is not None):
        return stated.platform, stated.metric, (), None
    around = _classify(raw.name, " / ".join(part for part in (raw.category, context) if part))
    platform, metric = stated.platform, stated.metric
    inferred: list[str] = []
    if platform is None and around.platform is not None:
        platform = around.platform
        inferred.append("platform")
        if metric is not None and around.metric is not None:
            metric = around.metric  # the platform's own word ("followers" of YouTube: subscribers)
    if metric is None and around.metric is not None:
        metric = around.metric
        inferred.append("metric")
    return platform, metric, tuple(inferred), context if inferred else None


def usd_gap_reason(offer: NormalizedOffer) -> str | None:
    """Why a kept offer has no ``usd_per_1000`` (a stats key such as
    ``"usd/no_ecb_rate/PKR"`` or ``"usd/package_size_unknown"``), or ``None`` when it has one."""
    if offer.usd_per_1000 is not None:
        return None
    if offer.fx_rate is None:
        return f"usd/no_ecb_rate/{offer.currency}"
    if offer.pricing == "package" and not offer.quantity:
        return "usd/package_size_unknown"
    return "usd/unknown"


# --- counters ----------------------------------------------------------------------------------

def normalize_counter(raw: RawCounter) -> CounterValue | Rejection:
    """A landing-page counter as an int: ``"3,832,058"``, ``"5253+"``, ``"1.2M"``,
    ``"12 345"``, ``"3832058 Total Orders"``. Unreadable values become a rejection."""
    record = {"name": raw.name, "value": raw.value, "label": raw.label}
    text = clean_text(str(raw.value)) if raw.value is not None else ""
    try:
        value = parse_quantity(text)
    except QuantityError as error:
        return Rejection(site_offer_id=None, reason=f"counter {raw.name!r}: {error}", raw=record)
    if value is None:
        return Rejection(site_offer_id=None, reason=f"counter {raw.name!r} has no number: "
                         f"{raw.value!r}", raw=record)
    return CounterValue(name=raw.name, value=value, raw=str(raw.value))
