"""Storefronts of their own: schema.org JSON-LD first, else package cards.

:func:`extract_storefront` reads one HTML page:

1. JSON-LD (``<script type="application/ld+json">``) through extruct, block by block: extruct
   gives up on the whole page at the first invalid block, and real shops ship broken blocks
   next to good ones, so each block is parsed on its own and a broken one becomes a note.
   ``@graph`` wrappers, lists and nested nodes are walked; each ``Product`` (or
   ``ProductGroup`` variant) gives one raw offer per ``Offer``: ``offers`` as one ``Offer``, a
   list, an ``AggregateOffer`` with nested ``offers``, or prices in ``priceSpecification``
   (a ``ListPrice`` / ``StrikethroughPrice`` there is the compare-at price). A bare
   ``AggregateOffer`` (``lowPrice`` / ``highPrice`` only) says no package price: it is
   rejected as "price range only", as is a product without any price.
2. Without JSON-LD products: package cards (:mod:`crawlers.extract.packages`).
3. Neither, on a page that is a JavaScript shell (a root ``<div>``, scripts, a
   ``<noscript>`` "enable JavaScript", no prices): :class:`ExtractError` ``"no offers: the page
   needs JavaScript"``; the ``spa`` family passes browser-rendered HTML here instead.

Link discovery is separate: :func:`product_links` lists the same-site product pages a page
links to (``product/…``, ``products/…``, ``buy/…``, ``shop/…``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from extruct.jsonld import JsonLdExtractor
from lxml import etree

from crawlers.extract import packages
from crawlers.extract.json_documents import NESTED_TOO_DEEP
from crawlers.items import ExtractError, ExtractResult, RawOffer, RawRejection

JSONLD_SOURCE = "jsonld"
"""``RawOffer.source`` of JSON-LD offers: plain decimals (``"12.990"`` is 12.99)."""
PRODUCT_TYPES = frozenset({"Product", "ProductGroup", "IndividualProduct", "ProductModel",
                           "SomeProducts", "Service"})
OFFER_TYPES = frozenset({"Offer", "AggregateOffer"})
COMPARE_AT_PRICE_TYPES = ("listprice", "strikethroughprice", "msrp", "regularprice")
PRODUCT_PATH = re.compile(r"/(?:product|products|buy|shop)/[^/?#]+", re.IGNORECASE)
NOT_A_PRODUCT_PAGE = re.compile(r"(?:\.(?:js|json|css|png|jpe?g|gif|svg|webp|xml)$|/cart\b|"
                                r"/checkout\b|/account\b|/login\b)", re.IGNORECASE)

_extractor = JsonLdExtractor()


# --- parsing -----------------------------------------------------------------------------------

def parse_document(body: bytes | str) -> Any:
    """The page as an lxml HTML tree; :class:`ExtractError` for an empty or unparsable page."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    body = body.lstrip("\ufeff")
    if not body.strip():
        raise ExtractError("empty page (no HTML)")
    try:
        # A str with an XML declaration is refused by lxml: parse the UTF-8 bytes instead.
        return lxml.html.document_fromstring(body.encode("utf-8"),
                                             parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError) as error:
        raise ExtractError(f"page could not be parsed as HTML: {error}") from None


def jsonld_items(document: Any, notes: list[str] | None = None) -> list[Any]:
    """Every top-level JSON-LD item of the page, block by block; a block that is not valid JSON
    is skipped with a note (``notes``) instead of losing the others."""
    items: list[Any] = []
    blocks = document.xpath('//script[@type="application/ld+json"]')
    for number, block in enumerate(blocks, 1):
        try:
            items.extend(_extractor.extract_items(block))
        except RecursionError:
            if notes is not None:
                notes.append(f"JSON-LD block {number} of {len(blocks)}: {NESTED_TOO_DEEP} "
                             "(skipped)")
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            if notes is not None:
                notes.append(f"JSON-LD block {number} of {len(blocks)} is not valid JSON "
                             f"(skipped): {error}")
    return items


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1] for v in values if v}


def _walk(value: Any) -> Any:
    """Every JSON object in a JSON-LD item, depth first (``@graph``, lists, nested values)."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("value")
    if isinstance(value, list):
        value = next((v for v in value if v not in (None, "")), None)
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _price_text(value: Any) -> str | None:
    """A JSON-LD price as seen: strings stay strings, numbers keep their JSON spelling."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return _text(value)


def _specifications(offer: dict[str, Any]) -> list[dict[str, Any]]:
    spec = offer.get("priceSpecification")
    specs = spec if isinstance(spec, list) else [spec]
    return [s for s in specs if isinstance(s, dict)]


def _is_compare_at(spec: dict[str, Any]) -> bool:
    kind = (_text(spec.get("priceType")) or "").rsplit("/", 1)[-1].lower()
    return kind in COMPARE_AT_PRICE_TYPES


def _offer_prices(offer: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(price, compare-at price, currency) of one Offer, from ``price`` or its
    ``priceSpecification`` list."""
    price = _price_text(offer.get("price"))
    currency = _text(offer.get("priceCurrency"))
    compare_at = None
    for spec in _specifications(offer):
        spec_price = _price_text(spec.get("price"))
        if spec_price is None:
            continue
        if _is_compare_at(spec):
            compare_at = compare_at or spec_price
        elif price is None:
            price = spec_price
            currency = currency or _text(spec.get("priceCurrency"))
        currency = currency or _text(spec.get("priceCurrency"))
    return price, compare_at, currency


def _quantity_text(offer: dict[str, Any], product_name: str | None) -> str | None:
    """The package size as the page writes it: ``eligibleQuantity``, the offer's name (``"1,000
    Followers"``), else the product's name (``"1000 Instagram Followers"``)."""
    eligible = offer.get("eligibleQuantity")
    if isinstance(eligible, dict):
        value = _text(eligible.get("value"))
        if value:
            unit = _text(eligible.get("unitText"))
            return f"{value} {unit}" if unit else value
    for candidate in (_text(offer.get("name")), product_name):
        if candidate and any(char.isdigit() for char in candidate):
            return candidate
    return _text(offer.get("name")) or product_name


def _product_offers(product: dict[str, Any]) -> list[dict[str, Any]]:
    """The product's Offer nodes: ``offers`` as one node or a list; an AggregateOffer stands
    for its nested ``offers`` when it has them."""
    raw = product.get("offers")
    nodes = raw if isinstance(raw, list) else [raw]
    offers: list[dict[str, Any]] = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        nested = node.get("offers")
        if "AggregateOffer" in _types(node) and nested:
            nested_nodes = nested if isinstance(nested, list) else [nested]
            shared_currency = node.get("priceCurrency")
            for child in nested_nodes:
                if isinstance(child, dict):
                    if shared_currency and not child.get("priceCurrency"):
                        # The aggregate states the currency once for all its offers.
                        child = {**child, "priceCurrency": shared_currency}
                    offers.append(child)
        else:
            offers.append(node)
    return offers


def _products(items: list[Any]) -> list[dict[str, Any]]:
    """Product nodes (a ProductGroup's ``hasVariant`` products instead of the group)."""
    products: list[dict[str, Any]] = []
    seen: set[int] = set()
    for item in items:
        for node in _walk(item):
            if id(node) in seen or not (_types(node) & PRODUCT_TYPES):
                continue
            variants = node.get("hasVariant")
            if "ProductGroup" in _types(node) and variants:
                continue  # its variants are Product nodes of their own, walked next
            seen.add(id(node))
            products.append(node)
    return products


def _offer_id(offer: dict[str, Any], product: dict[str, Any], index: int,
              count: int) -> str | None:
    offer_sku = _text(offer.get("sku"))
    if offer_sku:
        return offer_sku
    product_id = _text(product.get("sku")) or _text(product.get("productID"))
    if product_id:
        return product_id if count == 1 else f"{product_id}#{index + 1}"
    for key in ("@id", "gtin", "mpn", "url"):
        value = _text(offer.get(key))
        if value:
            # Offers often repeat the product's URL: keep ids distinct.
            return value if count == 1 or key in ("gtin", "mpn") else f"{value}#{index + 1}"
    return None  # normalization derives a stable id from the name


def _jsonld_offers(products: list[dict[str, Any]], result: ExtractResult,
                   currency: str | None) -> None:
    for product in products:
        product_name = _text(product.get("name"))
        category = _text(product.get("category"))
        offers = _product_offers(product)
        if not offers:
            result.rejected.append(RawRejection(
                reason=f"product without a price (no offers in JSON-LD): {product_name!r}",
                raw=product, site_offer_id=_text(product.get("sku"))))
            continue
        for index, offer in enumerate(offers):
            price, compare_at, offer_currency = _offer_prices(offer)
            offer_name = _text(offer.get("name"))
            name = product_name or offer_name or ""
            if offer_name and product_name and offer_name.lower() not in product_name.lower():
                name = f"{product_name} - {offer_name}"
            quantity = _quantity_text(offer, product_name)
            if quantity and quantity.lower() not in name.lower():
                # Sized by eligibleQuantity alone: without the size in the name, every package
                # of the product would share one name (and one derived id).
                name = f"{name} - {quantity}" if name else quantity
            site_offer_id = _offer_id(offer, product, index, len(offers))
            raw = {"product": product_name, "sku": _text(product.get("sku")), "offer": offer}
            if price is None:
                low, high = offer.get("lowPrice"), offer.get("highPrice")
                if low is not None or high is not None:
                    reason = (f"price range only: {name!r} is offered from {low} to {high} "
                              f"(an AggregateOffer without per-package offers)")
                else:
                    reason = f"product without a price: {name!r}"
                result.rejected.append(RawRejection(reason=reason, raw=raw,
                                                    site_offer_id=site_offer_id))
                continue
            result.offers.append(RawOffer(
                site_offer_id=site_offer_id, name=name, category=category, price=price,
                pricing="package", currency=offer_currency or currency,
                quantity=quantity, compare_at_price=compare_at,
                available=_text(offer.get("availability")), source=JSONLD_SOURCE, raw=raw))


# --- JavaScript shells -------------------------------------------------------------------------

_ROOT_IDS = ("root", "app", "__next", "__nuxt", "svelte", "main-app", "application")
_NEEDS_JS = re.compile(r"(enable|activate|turn on|requires?|needs?)\W+(\w+\W+){0,3}javascript|"
                       r"javascript\W+(\w+\W+){0,3}(required|disabled|enabled|needed)",
                       re.IGNORECASE)


def needs_javascript(document: Any) -> bool:
    """A JavaScript shell: scripts, an (almost) empty app root or a ``<noscript>`` that asks for
    JavaScript, and next to no visible text."""
    noscript = " ".join(n.text_content() for n in document.iter("noscript"))
    scripts = document.xpath("//script[@src or string-length(normalize-space()) > 0]")
    if not scripts:
        return False
    empty_root = any(
        len(document.xpath(f'//*[@id="{root_id}"]')) and not document.xpath(
            f'normalize-space(//*[@id="{root_id}"])')
        for root_id in _ROOT_IDS) or bool(document.xpath("//*[@data-reactroot or @ng-app]"))
    body = document.find("body")
    visible = ""
    if body is not None:
        visible = " ".join(
            text for text in body.xpath(
                ".//text()[not(ancestor::script) and not(ancestor::style) and "
                "not(ancestor::noscript) and not(ancestor::template)]")
        )
    visible = re.sub(r"\s+", " ", visible).strip()
    return (empty_root or bool(_NEEDS_JS.search(noscript))) and len(visible) < 400


# --- entry points ------------------------------------------------------------------------------

def extract_storefront(body: bytes | str, *, base_url: str | None = None,
                       currency: str | None = None) -> ExtractResult:
    """Raw package offers of one storefront page: JSON-LD products, else package cards.

    ``base_url``: the page's URL (notes and card ids use it). ``currency``: a currency the
    caller knows the page is in; offers that state none get it (otherwise normalization falls
    back to the site's configured currency). A page with neither products nor cards returns an
    empty result with a note saying so; a JavaScript shell raises :class:`ExtractError`
    (``"no offers: the page needs JavaScript"``).
    """
    document = parse_document(body)
    result = ExtractResult()
    items = jsonld_items(document, result.notes)
    products = _products(items)
    if products:
        _jsonld_offers(products, result, currency)
        result.notes.append(f"JSON-LD: {len(products)} products, {len(result.offers)} offers")
    else:
        cards = packages.extract_package_cards(document, base_url=base_url)
        result.notes.extend(cards.notes)
        result.rejected.extend(cards.rejected)
        for offer in cards.offers:
            if offer.currency is None and currency:
                offer.currency = currency
            result.offers.append(offer)
    if result.offers or result.rejected:
        return result
    if needs_javascript(document):
        raise ExtractError("no offers: the page needs JavaScript")
    result.notes.append("no offers on this page: no JSON-LD product and no package cards")
    return result


def product_links(body: bytes | str, base_url: str, *, site_url: str | None = None) -> list[str]:
    """Same-site product pages linked from a page (``product/…``, ``products/…``, ``buy/…``,
    ``shop/…``), absolute, without query or fragment, in page order, each once.

    Same site: the host and port of ``base_url``, and under ``site_url`` when given (a shop
    hosted under a path such as ``http://host/s/shop-03/`` never wanders into ``/s/shop-04/``).
    ``site_url`` is compared without its scheme and ``www.``: a site configured as
    ``http://shop.example`` is read at ``https://www.shop.example/`` after its redirects.
    """
    try:
        document = parse_document(body)
    except ExtractError:
        return []
    base_href = document.xpath("string(//base/@href)").strip()
    page_base = urljoin(base_url, base_href) if base_href else base_url
    origin = urlsplit(base_url)
    site = urlsplit(site_url) if site_url else None
    # The site URL names a directory: "/s/shop-03" is "/s/shop-03/", never "/s/shop-030/".
    site_path = (site.path or "/") if site else "/"
    site_path = site_path if site_path.endswith("/") else site_path + "/"
    links: list[str] = []
    seen: set[str] = set()
    for href in document.xpath("//a/@href"):
        href = href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        parts = urlsplit(urljoin(page_base, href))
        if parts.scheme not in ("http", "https") or parts.netloc != origin.netloc:
            continue
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        if site is not None and (_bare_host(parts) != _bare_host(site)
                                 or (site.port is not None and parts.port != site.port)
                                 or not parts.path.startswith(site_path)):
            continue
        relative_path = parts.path[len(site_path) - 1:]
        if not PRODUCT_PATH.search(relative_path) or NOT_A_PRODUCT_PAGE.search(parts.path):
            continue
        if url not in seen:
            seen.add(url)
            links.append(url)
    return links


def _bare_host(parts: Any) -> str:
    """The host without ``www.``, lower case."""
    return (parts.hostname or "").lower().removeprefix("www.")
