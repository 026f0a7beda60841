"""Shopify shops: ``/products.json`` (one raw offer per variant) and the shop's currency.

``GET /products.json?limit=250&page=N`` (FORMATS.md §4) lists products with their variants;
retail engagement shops sell each package size as a variant (``"1000 Followers"``). Prices are
decimal strings in the shop currency, which products.json does not state: read it with
:func:`shop_currency` from the landing page (``Shopify.currency``, ``og:price:currency``,
JSON-LD ``priceCurrency``) or ``/cart.js`` (``"currency"``), and pass it to
:func:`extract_products_json`.

Every variant is kept, the unavailable ones too (``available`` false): a sold-out package is
still a listed price. A product without variants, or a variant without a price, becomes a
rejection with the reason.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from crawlers.extract.json_documents import load_json
from crawlers.extract.sizes import has_digit, size_field_value, states_a_size
from crawlers.items import ExtractError, ExtractResult, RawOffer, RawRejection

SOURCE = "shopify"
# Shopify names the only variant of a product without options "Default Title".
DEFAULT_VARIANT_TITLE = "default title"
_SHOPIFY_CURRENCY = re.compile(
    r"Shopify\.currency\s*=\s*\{[^}]*?[\"']active[\"']\s*:\s*[\"'](?P<code>[A-Za-z]{3})[\"']")
_META_CURRENCY = re.compile(
    r"<meta[^>]+(?:property|name|itemprop)=[\"'](?:og:price:currency|product:price:currency|"
    r"priceCurrency)[\"'][^>]*>", re.IGNORECASE)
_CONTENT = re.compile(r"content=[\"']\s*(?P<code>[A-Za-z]{3})\s*[\"']", re.IGNORECASE)
_JSONLD_CURRENCY = re.compile(r"[\"']priceCurrency[\"']\s*:\s*[\"'](?P<code>[A-Za-z]{3})[\"']")
_SHOP_CURRENCY_JS = re.compile(
    r"[\"']?(?:shop_currency|currency_code|currencyCode)[\"']?\s*[:=]\s*[\"'](?P<code>[A-Z]{3})[\"']")


def shop_currency(html_or_json_text: bytes | str) -> str | None:
    """The shop's currency (ISO code, upper case) stated by a landing page or ``/cart.js``.

    Looks, in order, at ``Shopify.currency = {"active": "EUR", ...}``, ``<meta
    property="og:price:currency" content="EUR">``, a JSON body's ``"currency"`` (``/cart.js``),
    JSON-LD ``"priceCurrency"`` and theme variables (``shop_currency``); ``None`` when none says.
    """
    text = (html_or_json_text.decode("utf-8", errors="replace")
            if isinstance(html_or_json_text, bytes) else html_or_json_text)
    match = _SHOPIFY_CURRENCY.search(text)
    if match:
        return match["code"].upper()
    for meta in _META_CURRENCY.finditer(text):
        content = _CONTENT.search(meta.group(0))
        if content:
            return content["code"].upper()
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except (ValueError, RecursionError):  # not a JSON body after all: look further
            document = None
        if isinstance(document, dict):
            code = document.get("currency")
            if isinstance(code, str) and re.fullmatch(r"[A-Za-z]{3}", code.strip()):
                return code.strip().upper()
    for pattern in (_JSONLD_CURRENCY, _SHOP_CURRENCY_JS):
        match = pattern.search(text)
        if match:
            return match["code"].upper()
    return None


def _load_products(body: bytes | str) -> list[Any]:
    document = load_json(body, what="products.json")
    if not isinstance(document, dict) or "products" not in document:
        keys = ", ".join(sorted(document)) if isinstance(document, dict) else type(document).__name__
        raise ExtractError(f"not a Shopify products.json (no 'products' list; got {keys})")
    products = document["products"]
    if not isinstance(products, list):
        raise ExtractError("not a Shopify products.json ('products' is not a list)")
    return products


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _quantity_text(product: dict[str, Any], variant: dict[str, Any]) -> str | None:
    """The variant's package size as the shop wrote it: the option named like a quantity
    ("Quantity", "Followers Amount"), else the option holding a number, else the variant title;
    the product title for a variant without options, or when the variant names no number and
    the product title states a size ("500 YouTube Views" sold as "Fast" / "Slow")."""
    options = product.get("options") or []
    values = [_text(variant.get(f"option{index}")) for index in (1, 2, 3)]
    names = [((option.get("name") if isinstance(option, dict) else str(option or "")) or "")
             for option in options[:3]]
    named = size_field_value([(names[position] if position < len(names) else "", value)
                              for position, value in enumerate(values)])
    if named:
        return named
    title = _text(variant.get("title"))
    product_title = _text(product.get("title"))
    if title and title.lower() != DEFAULT_VARIANT_TITLE:
        if not has_digit(title) and states_a_size(product_title):
            return product_title
        return title
    return product_title


def _compare_at_price(variant: dict[str, Any], price: str) -> str | None:
    """The variant's compare-at price when it is one: above the price. Shopify sends
    ``"0.00"`` or the price itself for "no compare-at price", and themes strike a price through
    only when it is higher. Text that is not a number is kept (normalization rejects it)."""
    compare_at = _text(variant.get("compare_at_price"))
    if compare_at is None:
        return None
    try:
        if Decimal(compare_at) <= Decimal(price):
            return None
    except InvalidOperation:
        pass
    return compare_at


def _variant_offer(product: dict[str, Any], variant: dict[str, Any],
                   currency: str | None) -> RawOffer | RawRejection:
    product_title = _text(product.get("title")) or ""
    variant_title = _text(variant.get("title"))
    name = product_title
    if variant_title and variant_title.lower() != DEFAULT_VARIANT_TITLE:
        name = f"{product_title} - {variant_title}" if product_title else variant_title
    raw = {"product_id": product.get("id"), "product_title": product.get("title"),
           "product_type": product.get("product_type"), "handle": product.get("handle"),
           "variant": variant}
    variant_id = _text(variant.get("id"))
    price = _text(variant.get("price"))
    if price is None:
        return RawRejection(reason=f"variant without a price: {name!r}", raw=raw,
                            site_offer_id=variant_id)
    return RawOffer(
        site_offer_id=variant_id,
        name=name,
        category=_text(product.get("product_type")),
        price=price,
        pricing="package",
        currency=currency,
        quantity=_quantity_text(product, variant),
        compare_at_price=_compare_at_price(variant, price),
        available=variant.get("available"),
        source=SOURCE,
        raw=raw,
    )


def extract_products_json(body: bytes | str, *, currency: str | None = None) -> ExtractResult:
    """One raw offer per variant of a ``products.json`` page.

    ``currency``: the shop's currency (from :func:`shop_currency`); products.json never states
    it, so without it the offers carry none and the site's configured currency applies.
    Raises :class:`ExtractError` when the body is not a products.json document. An empty
    ``products`` list is a valid (last) page: zero offers, zero rejections.
    """
    products = _load_products(body)
    result = ExtractResult(currency=currency)
    for product in products:
        if not isinstance(product, dict):
            result.rejected.append(RawRejection(reason="product is not a JSON object",
                                                raw={"product": product}))
            continue
        variants = product.get("variants")
        if not isinstance(variants, list) or not variants:
            result.rejected.append(RawRejection(
                reason=f"product without variants (no price): {product.get('title')!r}",
                raw={"product_id": product.get("id"), "title": product.get("title")},
                site_offer_id=_text(product.get("id"))))
            continue
        for variant in variants:
            if not isinstance(variant, dict):
                result.rejected.append(RawRejection(reason="variant is not a JSON object",
                                                    raw={"variant": variant}))
                continue
            item = _variant_offer(product, variant, currency)
            if isinstance(item, RawOffer):
                result.offers.append(item)
            else:
                result.rejected.append(item)
    result.notes.append(f"products.json: {len(products)} products, {len(result.offers)} "
                        f"variants" + ("" if currency else "; the currency is not stated here"))
    return result


def product_count(body: bytes | str) -> int:
    """Products on a products.json page (0 = past the last page)."""
    return len(_load_products(body))
