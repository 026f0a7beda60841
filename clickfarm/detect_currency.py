"""The currency a detected site states, for ``clickfarm detect``'s suggested sites entry.

The landing page often shows no price: the currency is read (read-only, one or two GETs) where
the site's family states it: the WooCommerce Store API's ``currency_code``, a product page's
JSON-LD ``priceCurrency`` or ``og:price:currency``, the prices of a panel's public services page.
A symbol counts only when it names one currency (``£``, ``€``, ``₺``, ``R$``); ``$`` or ``¥`` alone
do not say which dollar or yen, so no currency is suggested for them.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

from crawlers.discovery.fetch import DetectedSite, FetchError, fetch_page
from crawlers.discovery.fingerprint import detect_family, product_page_links
from pipelines.fx import is_known_currency
from pipelines.money import currency_code

_SYMBOL = re.compile(
    r"(?P<before>R\$|US\$|Rp|[€£₺₹₽]|\b[A-Z]{3}\b)\s?\d"
    r"|\d[\d.,]*\s?(?P<after>[€£₺₹₽]|\b[A-Z]{3}\b|zł)")
_AMBIGUOUS = frozenset({"$", "¥", "kr", "Rs", "₨"})


def stated_currency(site: DetectedSite, *, timeout: float = 30) -> tuple[str | None, str]:
    """``(ISO code or None, where it was read)`` for a detected site."""
    detection = site.detection
    if detection.currency:
        return detection.currency, "the page's own statement"
    base = site.landing.url
    try:
        if detection.family == "woocommerce":
            page = fetch_page(urljoin(base, "wp-json/wc/store/v1/products?per_page=1"),
                              timeout=timeout, require_html=False)
            products = json.loads(page.body)
            code = (products[0].get("prices") or {}).get("currency_code") if products else None
            if isinstance(code, str) and is_known_currency(code.upper()):
                return code.upper(), "the Store API's currency_code"
        elif detection.family == "storefront":
            for url in (site.product_pages or product_page_links(base, site.landing.body))[:2]:
                page = fetch_page(url, timeout=timeout)
                found = detect_family(page.url, page.body, page.headers).currency
                found = found or currency_of_prices(page.body.decode("utf-8", "replace"))
                if found:
                    return found, f"product page {url}"
        elif detection.family == "smm_html":
            page = fetch_page(urljoin(base, "services"), timeout=timeout)
            found = currency_of_prices(page.body.decode("utf-8", "replace"))
            if found:
                return found, "the prices of the services page"
    except (FetchError, ValueError, AttributeError, IndexError) as error:
        return None, f"not read: {error}"
    found = currency_of_prices(site.landing.body.decode("utf-8", "replace"))
    return ((found, "the prices of the page") if found
            else (None, "no price read names one currency; $ and ¥ alone do not"))


def currency_of_prices(text: str) -> str | None:
    """The one currency every price of ``text`` is in, when their symbols or codes name it
    unambiguously; ``None`` when they name none, several, or only ambiguous symbols."""
    codes = set()
    for match in _SYMBOL.finditer(text):
        symbol = match["before"] or match["after"]
        if symbol in _AMBIGUOUS:
            continue
        code = currency_code(symbol)
        if code and is_known_currency(code):
            codes.add(code)
    return codes.pop() if len(codes) == 1 else None
