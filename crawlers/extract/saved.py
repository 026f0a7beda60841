"""Readers of saved pages and API responses (``clickfarm extract FILE --family F``), one per
family (named in :data:`core.families.FAMILIES`): ``(data, url) -> ExtractResult``."""

from __future__ import annotations

from crawlers.extract import shopify, smm_api, smm_html, storefront, woocommerce
from crawlers.items import ExtractError, ExtractResult


def read_smm_api(data: bytes, url: str | None) -> ExtractResult:
    return smm_api.extract_services(data)


def read_smm_html(data: bytes, url: str | None) -> ExtractResult:
    return smm_html.extract_services_page(data, base_url=url)


def read_shopify(data: bytes, url: str | None) -> ExtractResult:
    """products.json (variants), or a saved landing page / cart.js (the shop's currency only)."""
    if data.lstrip()[:1] == b"{" and b'"products"' in data:
        return shopify.extract_products_json(data)
    currency = shopify.shop_currency(data)
    if currency is None:
        raise ExtractError("not a Shopify products.json, and no shop currency on this page")
    return ExtractResult(currency=currency, notes=[
        f"shop currency {currency}; no products here (save /products.json to see them)"])


def read_woocommerce(data: bytes, url: str | None) -> ExtractResult:
    return woocommerce.extract_store_products(data)


def read_storefront(data: bytes, url: str | None) -> ExtractResult:
    """JSON-LD or package cards; for ``spa`` the rendered HTML of the JavaScript shop (its
    unrendered shell gives "no offers: the page needs JavaScript")."""
    return storefront.extract_storefront(data, base_url=url)
