"""WooCommerce shops through the public Store API (``/wp-json/wc/store/v1/products``).

Records (FORMATS.md §4): ``{id, name, type: "simple"|"variable"|"variation", prices: {price,
regular_price, sale_price, currency_code, currency_minor_unit, ...}, is_in_stock, variations:
[{id, attributes: [{name, value}]}], ...}``. Prices are strings in minor units: ``"2999"`` with
``currency_minor_unit`` 2 is ``29.99``; this module turns them into the decimal string the shop
means (``"29.99"``, never a float) and keeps the minor-unit string in ``raw``.

- a ``simple`` product is one package: its size is in its name ("1000 Instagram Followers");
- a ``variable`` product sells its sizes as variations, listed by
  ``GET .../products?type=variation`` as records ``{id, parent, type: "variation", name,
  variation: "Quantity: 1000 Followers", prices, is_in_stock}``: each variation is one package,
  its size the value of its quantity attribute;
- a variable product whose variations are missing from the variation list becomes one
  rejection per missing variation (never a silent drop).

``regular_price`` above ``price`` (an item on sale) is kept as the compare-at price; a
``regular_price`` equal to it, below it or ``"0"`` (none set) is not a compare-at price.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from crawlers.extract.json_documents import load_json
from crawlers.extract.sizes import has_digit, size_field_value, states_a_size
from crawlers.items import ExtractError, ExtractResult, RawOffer, RawRejection

SOURCE = "woocommerce"
Records = list[dict[str, Any]]


def load_records(body: bytes | str | list[Any]) -> Records:
    """The product records of one Store API response (a JSON array). Raises
    :class:`ExtractError` for invalid JSON or an error body (``{"code": ..., "message": ...}``)."""
    if isinstance(body, list):
        document: Any = body
    else:
        document = load_json(body, what="Store API response")
    if isinstance(document, dict):
        if "message" in document or "code" in document:
            raise ExtractError(f"Store API error: {document.get('code')}: "
                               f"{document.get('message')}")
        raise ExtractError("not a Store API product list (a JSON object, expected an array)")
    if not isinstance(document, list):
        raise ExtractError(f"not a Store API product list ({type(document).__name__})")
    return document


def minor_units_to_decimal(amount: Any, minor_unit: Any) -> str:
    """``("2999", 2)`` -> ``"29.99"``; ``("12990", 3)`` -> ``"12.990"``; ``("500", 0)`` ->
    ``"500"``. Raises ``ValueError`` for a non-integer amount or unit."""
    text = str(amount).strip()
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError(f"price {amount!r} is not a whole number of minor units")
    if isinstance(minor_unit, bool):
        raise ValueError(f"bad currency_minor_unit {minor_unit!r}")
    try:
        unit = int(minor_unit)
    except (TypeError, ValueError):
        raise ValueError(f"bad currency_minor_unit {minor_unit!r}") from None
    if not 0 <= unit <= 8:
        raise ValueError(f"bad currency_minor_unit {minor_unit!r}")
    try:
        # Exact whatever the length: the default 28-digit context would round a long amount,
        # which normalization must see whole (and reject as out of range).
        value = Decimal(text).scaleb(-unit, context=Context(prec=len(text) + 1))
    except InvalidOperation:
        raise ValueError(f"price {amount!r} is not a number") from None
    return format(value, "f")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _prices(record: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(price, compare-at price, currency) as decimal strings; raises ``ValueError``."""
    prices = record.get("prices")
    if not isinstance(prices, dict):
        raise ValueError("no prices")
    amount = prices.get("price")
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        raise ValueError("no price")
    unit = prices.get("currency_minor_unit", 2)
    price = minor_units_to_decimal(amount, unit)
    compare_at = None
    regular = prices.get("regular_price")
    if regular not in (None, "") and str(regular).strip() != str(amount).strip():
        compare_at = minor_units_to_decimal(regular, unit)
        if Decimal(compare_at) <= Decimal(price):
            compare_at = None  # "0" (no regular price set) or below the price: not on sale
    return price, compare_at, _text(prices.get("currency_code"))


def _attribute_pairs(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, value) of a variation: its ``attributes`` list, else its ``variation`` text
    (``"Quantity: 1000 Followers, Speed: Fast"``)."""
    pairs = []
    for attribute in record.get("attributes") or []:
        if isinstance(attribute, dict):
            name, value = _text(attribute.get("name")), _text(attribute.get("value"))
            if value:
                pairs.append((name or "", value))
    if pairs:
        return pairs
    text = _text(record.get("variation")) or ""
    for part in re.split(r",\s*(?=[^,:]+:)", text):
        name, _, value = part.partition(":")
        if value.strip():
            pairs.append((name.strip(), value.strip()))
        elif name.strip():
            pairs.append(("", name.strip()))
    return pairs


def _variation_quantity(record: dict[str, Any],
                        product_name: str | None = None) -> tuple[str | None, str]:
    """(size text as seen, description of the variation for the offer name).

    The attribute named like a size ("Quantity", "pa_amount", "Number of Followers"), else the
    one value holding a number, else the product name when it states a size and the variation
    names no number ("500 YouTube Views" sold as "Speed: Fast"), else the whole label."""
    pairs = _attribute_pairs(record)
    label = ", ".join(f"{name}: {value}" if name else value for name, value in pairs)
    named = size_field_value(pairs)
    if named:
        return named, label
    if not any(has_digit(value) for _, value in pairs) and states_a_size(product_name):
        return product_name, label
    return (label or None), label


def _offer(record: dict[str, Any], *, name: str, quantity: str | None,
           category: str | None) -> RawOffer | RawRejection:
    record_id = _text(record.get("id"))
    try:
        price, compare_at, currency = _prices(record)
    except ValueError as error:
        return RawRejection(reason=f"{error}: {name!r}", raw=record, site_offer_id=record_id)
    return RawOffer(site_offer_id=record_id, name=name, category=category, price=price,
                    pricing="package", currency=currency, quantity=quantity,
                    compare_at_price=compare_at, available=record.get("is_in_stock"),
                    source=SOURCE, raw=record)


def _category(record: dict[str, Any]) -> str | None:
    names = [_text(c.get("name")) for c in record.get("categories") or [] if isinstance(c, dict)]
    return ", ".join(name for name in names if name) or None


def extract_store_products(body: bytes | str | list[Any], *,
                           variations: bytes | str | list[Any] | None = None) -> ExtractResult:
    """Raw offers of Store API records: one per simple product and one per variation.

    ``body``: a ``/products`` response (or the records of several pages as one list); it may
    hold ``type=variation`` records too. ``variations``: the ``?type=variation`` records, when
    fetched separately. A variable product's variations are looked up by id in both; each one
    missing becomes a rejection ("variations missing"). Variation records whose parent is not
    in ``body`` are still offers (their own ``name`` is the product name).
    Raises :class:`ExtractError` for invalid JSON or an API error body.
    """
    records = load_records(body)
    variation_records = [r for r in records if isinstance(r, dict) and r.get("type") == "variation"]
    if variations is not None:
        variation_records += [r for r in load_records(variations) if isinstance(r, dict)]
    by_id = {_text(r.get("id")): r for r in variation_records}
    products = {_text(r.get("id")): r for r in records
                if isinstance(r, dict) and r.get("type") != "variation"}
    result = ExtractResult()
    counts = {"simple": 0, "variable": 0, "variation": 0, "other": 0}

    for record in records:
        if not isinstance(record, dict):
            result.rejected.append(RawRejection(reason="record is not a JSON object",
                                                raw={"record": record}))
            continue
        kind = record.get("type") or "simple"
        name = _text(record.get("name")) or ""
        if kind == "variation":
            continue  # read below, once, with the variation list
        if kind == "variable":
            counts["variable"] += 1
            listed = [v for v in record.get("variations") or [] if isinstance(v, dict)]
            missing = [v for v in listed if _text(v.get("id")) not in by_id]
            for variation in missing:
                values = ", ".join(f"{a.get('name')}: {a.get('value')}"
                                   for a in variation.get("attributes") or []
                                   if isinstance(a, dict))
                result.rejected.append(RawRejection(
                    reason=(f"variations missing: variation {variation.get('id')} of variable "
                            f"product {name!r} ({values or 'no attributes'}) is not in the "
                            f"type=variation list"),
                    raw={"product": record, "variation": variation},
                    site_offer_id=_text(variation.get("id"))))
            if not listed:
                result.rejected.append(RawRejection(
                    reason=f"variable product {name!r} lists no variations (no price)",
                    raw=record, site_offer_id=_text(record.get("id"))))
            continue
        if kind not in ("simple",):
            counts["other"] += 1
            result.notes.append(f"product type {kind!r} read as a simple product: {name!r}")
        else:
            counts["simple"] += 1
        item = _offer(record, name=name, quantity=name, category=_category(record))
        if isinstance(item, RawOffer):
            result.offers.append(item)
        else:
            result.rejected.append(item)

    seen: set[str | None] = set()
    for record in variation_records:
        record_id = _text(record.get("id"))
        if record_id in seen:
            continue
        seen.add(record_id)
        counts["variation"] += 1
        parent = products.get(_text(record.get("parent")))
        parent_name = _text(parent.get("name")) if parent else None
        base = parent_name or _text(record.get("name")) or ""
        quantity, label = _variation_quantity(record, base)
        name = f"{base} - {label}" if label and label not in base else base
        category = _category(parent) if parent else _category(record)
        item = _offer(record, name=name, quantity=quantity, category=category)
        if isinstance(item, RawOffer):
            result.offers.append(item)
        else:
            result.rejected.append(item)

    currencies = {offer.currency for offer in result.offers if offer.currency}
    if len(currencies) == 1:
        result.currency = currencies.pop()
    result.notes.append(
        f"Store API: {counts['simple']} simple, {counts['variable']} variable products, "
        f"{counts['variation']} variations")
    return result


def variable_product_count(body: bytes | str | list[Any]) -> int:
    """Variable products among the records (their variations need the variation list)."""
    return sum(1 for r in load_records(body) if isinstance(r, dict) and r.get("type") == "variable")
