"""Which seller software serves a page: PerfectPanel (and SmartPanel), Shopify, WooCommerce, a
JSON-LD or package-card storefront, a JavaScript-only shell, or unknown.

:func:`detect_family` is a pure function of one fetched page (URL, body, response headers). It
answers with the crawler family that can read the site (the ``family`` of ``config/sites.yaml``)
and the evidence: one string per clue, saying exactly what was seen, so a person can check the
verdict against the page (``"meta generator: WooCommerce 8.5.2"``,
``"script: cdn.shopify.com/s/files/1/0601/..."``). Checks run from the most specific software to
the most generic shape, because shops built on a platform also carry the generic shapes (a
WooCommerce product page has JSON-LD, a Shopify theme has price cards).

A panel is reported as ``smm_html``: its public ``/services`` page needs no API key, while its
API (``/api/v2``, noted in the evidence when the page links to it) needs an account.

Shops often show no prices on their landing page (only links to product pages):
:func:`product_page_links` picks a few of those links so that the caller can fingerprint one
product page too, and :func:`combine_detections` merges the verdicts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from core.families import FAMILIES
from crawlers.extract import landing

UNKNOWN = "unknown"
_PRICE = re.compile(
    r"(?:[$€£₺₹₽¥]|R\$|Rp|US\$|\b(?:USD|EUR|GBP|BRL|TRY|INR|IDR)\b)\s?\d[\d.,\s]*"
    r"|\d[\d.,]*\s?(?:[€£₺₹₽]|\b(?:USD|EUR|GBP|BRL|TRY|INR|IDR|zł|kr)\b)")
_QUANTITY = re.compile(
    r"(?<![\w$€£.,])\d{1,3}(?:[,.\s\u00a0]\d{3})+(?![\d])|(?<![\w$€£.,])\d+(?:[.,]\d+)?\s?[kKmM]\b"
    r"|\b\d+\s+(?:followers|likes|views|subscribers|members|plays|comments|seguidores|curtidas)\b",
    re.IGNORECASE)
_PRODUCT_PATH = re.compile(
    r"/(?:products?|buy|shop|item|items|package|packages|p|c|collections)/[^/?#]+", re.IGNORECASE)
_SHELL_ROOT_IDS = ("root", "app", "__next", "__nuxt", "svelte", "main-app")
_SHELL_TEXT_LIMIT = 200
_SHOPIFY_HEADERS = ("x-shopid", "x-shopify-stage", "x-shardid")


@dataclass(slots=True)
class Detection:
    """The verdict on one site: its crawler family (or ``"unknown"``) and why."""

    family: str
    """``smm_html``, ``shopify``, ``woocommerce``, ``storefront``, ``spa`` or ``unknown``."""
    evidence: list[str] = field(default_factory=list)
    """One string per clue, as seen on the page."""
    confidence: float = 0.0
    """0 for unknown; 0.5 to 1.0 growing with the number of independent clues."""
    software: str | None = None
    """What was recognized: ``PerfectPanel``, ``SmartPanel``, ``Shopify``, ``WooCommerce``,
    ``JSON-LD``, ``package cards``, ``JavaScript shell``."""
    currency: str | None = None
    """The currency the page states (``Shopify.currency``, ``og:price:currency``, JSON-LD
    ``priceCurrency``), when it states one."""
    api_url: str | None = None
    """For a panel whose page links to its API docs: where the API v2 would be (needs a key)."""

    def as_json(self) -> dict[str, Any]:
        return {"family": self.family, "software": self.software, "confidence": self.confidence,
                "currency": self.currency, "api_url": self.api_url, "evidence": self.evidence}


def _confidence(clues: int) -> float:
    return round(min(1.0, 0.5 + 0.15 * clues), 2) if clues else 0.0


def detect_family(url: str, html: bytes | str, headers: Mapping[str, Any] | None = None
                  ) -> Detection:
    """Fingerprint one page. Never raises: an empty or unparsable page is ``unknown`` with the
    reason as evidence.

    ``headers`` are the response headers (any mapping; values may be bytes or lists, as Scrapy
    gives them); names are compared case-insensitively.
    """
    header_values = _normalize_headers(headers)
    document = _parse(html)
    if document is None:
        return Detection(UNKNOWN, ["empty page or not HTML"])
    page = _Page(url, document, html if isinstance(html, str) else html.decode("utf-8", "replace"),
                 header_values)
    for check in _detectors_in_order():
        detection = check(page)
        if detection is not None:
            if detection.currency is None:
                detection.currency = page.meta_currency()
            return detection
    return Detection(UNKNOWN, [
        f"no panel, shop or storefront markers ({len(page.links())} links, "
        f"{len(_PRICE.findall(page.visible_text()))} price-like texts)"])


def _detectors_in_order() -> list[Callable[[_Page], Detection | None]]:
    """The detectors of every family, in registry order (core/families.py)."""
    return [DETECTORS[name] for family in FAMILIES for name in family.detectors]


def product_page_links(url: str, html: bytes | str, *, limit: int = 2) -> list[str]:
    """Up to ``limit`` links to product pages of the same site (``product/<slug>``,
    ``buy/<slug>``, ``products/<handle>``...), absolute, in page order, without duplicates."""
    document = _parse(html)
    if document is None:
        return []
    base = urlsplit(url)
    base_path = base.path if base.path.endswith("/") else base.path.rsplit("/", 1)[0] + "/"
    found: list[str] = []
    for href in document.xpath("//a/@href"):
        absolute = urljoin(url, href.strip()).split("#", 1)[0]
        parts = urlsplit(absolute)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            continue
        if not parts.path.startswith(base_path) or parts.path == base.path:
            continue
        if _PRODUCT_PATH.search(parts.path[len(base_path) - 1:]) and absolute not in found:
            found.append(absolute)
            if len(found) >= limit:
                break
    return found


def combine_detections(landing_page: Detection, product_pages: list[tuple[str, Detection]]
                       ) -> Detection:
    """The site's verdict from its landing page and a few of its product pages: the landing
    verdict when it names a family, else the first product page that does (its evidence
    prefixed with the page it came from)."""
    if landing_page.family != UNKNOWN:
        return landing_page
    for page_url, detection in product_pages:
        if detection.family not in (UNKNOWN, "spa"):
            return Detection(
                detection.family,
                [f"landing page: {line}" for line in landing_page.evidence]
                + [f"product page {page_url}: {line}" for line in detection.evidence],
                detection.confidence, detection.software,
                detection.currency or landing_page.currency, detection.api_url)
    return landing_page


# -- the page ---------------------------------------------------------------------------------

def _parse(html: bytes | str) -> Any:
    if isinstance(html, str):
        html = html.encode("utf-8", "replace")
    if not html or not html.strip() or b"<" not in html[:4096]:
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _normalize_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if isinstance(value, list | tuple):
            value = b", ".join(v if isinstance(v, bytes) else str(v).encode() for v in value)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        values[str(name).lower()] = str(value)
    return values


@dataclass
class _Page:
    url: str
    document: Any
    source: str
    headers: dict[str, str]
    _text: str | None = None

    def assets(self) -> Iterator[tuple[str, str]]:
        """``(tag, url)`` of scripts, stylesheets, images and preloads."""
        for element in self.document.iter("script", "link", "img"):
            value = element.get("src") or element.get("href")
            if value:
                yield element.tag, value.strip()

    def links(self) -> list[str]:
        return [href.strip() for href in self.document.xpath("//a/@href")]

    def inline_scripts(self) -> str:
        return "\n".join(script.text or "" for script in self.document.iter("script")
                         if not script.get("src"))

    def visible_text(self) -> str:
        if self._text is None:
            body = self.document.find("body")
            if body is None:
                self._text = ""
            else:
                parts = [text for text in body.xpath(
                    ".//text()[not(ancestor::script) and not(ancestor::style)"
                    " and not(ancestor::noscript) and not(ancestor::template)]")]
                self._text = " ".join(" ".join(parts).split())
        return self._text

    def meta(self, **attributes: str) -> list[str]:
        (name, value), = attributes.items()
        return [content for element in self.document.iter("meta")
                if (element.get(name) or "").lower() == value
                for content in [element.get("content")] if content]

    def meta_currency(self) -> str | None:
        for content in (self.meta(property="og:price:currency")
                        + self.meta(property="product:price:currency")
                        + self.meta(itemprop="pricecurrency")):
            if re.fullmatch(r"[A-Za-z]{3}", content.strip()):
                return content.strip().upper()
        return None

    def body_classes(self) -> list[str]:
        body = self.document.find("body")
        return (body.get("class") or "").split() if body is not None else []

    def link_paths(self) -> list[str]:
        return [urlsplit(urljoin(self.url, href)).path for href in self.links()]


def _short(url: str, limit: int = 80) -> str:
    url = re.sub(r"^https?:", "", url).lstrip("/")
    return url if len(url) <= limit else url[: limit - 3] + "..."


# -- panels -----------------------------------------------------------------------------------

def _has_route(page: _Page, route: str) -> str | None:
    for path, href in zip(page.link_paths(), page.links(), strict=True):
        if path.rstrip("/").endswith("/" + route) or path.rstrip("/") == route:
            return href
    return None


def _perfectpanel(page: _Page) -> Detection | None:
    clues = landing.fingerprint_perfectpanel(page.source)
    services = _has_route(page, "services")
    login_form = any("LoginForm[username]" in clue for clue in clues)
    mypanel = any("cdn.mypanel.link" in clue for clue in clues)
    if not (mypanel or login_form):
        return None
    evidence = [f"PerfectPanel: {clue}" for clue in clues]
    if services:
        signup = any("/signup" in clue for clue in clues)
        evidence.append("PerfectPanel: /services link"
                        + (" + signup form" if signup or login_form else "") + f" ({services})")
    if len(evidence) < 2:
        return None  # one clue alone (a login form) is too weak for a panel
    detection = Detection("smm_html", evidence, _confidence(len(evidence)), "PerfectPanel")
    _note_api(page, detection)
    return detection


def _smartpanel(page: _Page) -> Detection | None:
    evidence: list[str] = []
    if re.search(r"powered\s+by\s+smartpanel", page.visible_text(), re.IGNORECASE):
        evidence.append("SmartPanel: 'Powered by SmartPanel' text")
    asset = next((url for _, url in page.assets() if "smartpanel" in url.lower()), None)
    if asset:
        evidence.append(f"SmartPanel: asset {_short(asset)}")
    if page.document.xpath("//form//input[@name='csrf_token']") and page.document.xpath(
            "//form//input[@name='username']"):
        evidence.append("SmartPanel: login form with csrf_token and username")
    services = _has_route(page, "services")
    if not evidence or (len(evidence) < 2 and not services):
        return None
    if services:
        evidence.append(f"SmartPanel: /services link ({services})")
    detection = Detection("smm_html", evidence, _confidence(len(evidence)), "SmartPanel")
    _note_api(page, detection)
    return detection


def _note_api(page: _Page, detection: Detection) -> None:
    api_link = _has_route(page, "api")
    if api_link:
        api_url = urljoin(urljoin(page.url, api_link).rstrip("/") + "/", "v2")
        detection.api_url = api_url
        detection.evidence.append(
            f"API docs link {api_link}: an API v2 at {api_url} (needs an account key; the public "
            "/services page is read instead)")


# -- shops --------------------------------------------------------------------------------------

def _shopify(page: _Page) -> Detection | None:
    evidence: list[str] = []
    assets = [(tag, url) for tag, url in page.assets() if "cdn.shopify.com" in url]
    if assets:
        # A script says more than a preconnect hint: show it first.
        tag, asset = sorted(assets, key=lambda item: item[0] != "script")[0]
        evidence.append(f"{'script' if tag == 'script' else 'asset'}: {_short(asset)}")
    scripts = page.inline_scripts()
    shop = re.search(r"""Shopify\.shop\s*=\s*["']([^"']+)["']""", scripts)
    if shop:
        evidence.append(f"Shopify.shop = {shop.group(1)!r}")
    elif "myshopify.com" in page.source:
        host = re.search(r"[\w-]+\.myshopify\.com", page.source)
        evidence.append(f"myshopify.com domain: {host.group(0) if host else 'myshopify.com'}")
    theme = re.search(r"Shopify\.theme\s*=\s*(\{[^;\n]{0,300})", scripts)
    if theme:
        theme_name = re.search(r'"name"\s*:\s*"([^"]+)"', theme.group(1))
        evidence.append(f"Shopify.theme{' ' + repr(theme_name.group(1)) if theme_name else ''}")
    for name in _SHOPIFY_HEADERS:
        if name in page.headers:
            evidence.append(f"header {name}: {page.headers[name][:40]}")
    if page.headers.get("powered-by", "").lower() == "shopify":
        evidence.append("header powered-by: Shopify")
    if not evidence:
        return None
    currency = None
    active = re.search(r"""Shopify\.currency\s*=\s*\{[^}]*"active"\s*:\s*"([A-Z]{3})""", scripts)
    if active:
        currency = active.group(1)
        evidence.append(f"Shopify.currency active {currency}")
    return Detection("shopify", evidence, _confidence(len(evidence)), "Shopify", currency)


def _woocommerce(page: _Page) -> Detection | None:
    evidence: list[str] = []
    generator = next((content for content in page.meta(name="generator")
                      if content.lower().startswith("woocommerce")), None)
    if generator:
        evidence.append(f"meta generator: {generator}")
    asset = next((url for _, url in page.assets() if "/wp-content/plugins/woocommerce" in url),
                 None)
    if asset:
        evidence.append(f"asset: {_short(asset)}")
    classes = [name for name in page.body_classes() if name.startswith("woocommerce")]
    if classes:
        evidence.append(f"body class: {' '.join(classes)}")
    block = next((name for value in page.document.xpath("//*[contains(@class, 'wc-block')]/@class")
                  for name in value.split() if name.startswith("wc-block")), None)
    if block:
        evidence.append(f"WooCommerce block markup: class {block!r}")
    scripts = page.inline_scripts()
    if re.search(r"\bwoocommerce_params\b|\bwc_add_to_cart_params\b|\bwcSettings\b", scripts):
        evidence.append("WooCommerce script settings (woocommerce_params / wcSettings)")
    if not evidence:
        return None
    link_header = page.headers.get("link", "")
    if "api.w.org" in link_header:
        evidence.append("header link: WordPress REST API (rel=https://api.w.org/)")
    return Detection("woocommerce", evidence, _confidence(len(evidence)), "WooCommerce")


def _jsonld_blocks(page: _Page) -> tuple[list[Any], int]:
    blocks, invalid = [], 0
    for script in page.document.xpath("//script[@type='application/ld+json']"):
        try:
            blocks.append(json.loads(script.text or "", strict=False))
        except (ValueError, RecursionError):  # invalid, or nested too deep to read
            invalid += 1
    return blocks, invalid


def _walk_jsonld(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk_jsonld(item)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity", "itemListElement", "item"):
            if key in node:
                yield from _walk_jsonld(node[key])


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1] for v in values if v}


def _offer_nodes(offers: Any) -> list[dict[str, Any]]:
    nodes = []
    for node in offers if isinstance(offers, list) else [offers]:
        if isinstance(node, dict):
            if "AggregateOffer" in _types(node) and node.get("offers"):
                nodes.extend(_offer_nodes(node["offers"]))
            else:
                nodes.append(node)
    return nodes


def _jsonld_product(page: _Page) -> Detection | None:
    blocks, invalid = _jsonld_blocks(page)
    products = [node for block in blocks for node in _walk_jsonld(block)
                if "Product" in _types(node)]
    priced = [(product, offers) for product in products
              for offers in [_offer_nodes(product.get("offers"))]
              if any(o.get("price") is not None or o.get("lowPrice") is not None
                     for o in offers)]
    if not priced:
        return None
    evidence = []
    currency = None
    for product, offers in priced[:3]:
        shapes = sorted({"/".join(sorted(_types(o))) or "offer" for o in offers})
        currencies = sorted({str(o.get("priceCurrency")) for o in offers if o.get("priceCurrency")})
        currency = currency or (currencies[0] if len(currencies) == 1 else None)
        evidence.append(f"JSON-LD Product {str(product.get('name', ''))[:60]!r}: {len(offers)} "
                        f"{'/'.join(shapes)} with a price"
                        + (f" in {', '.join(currencies)}" if currencies else ""))
    if len(priced) > 3:
        evidence.append(f"... and {len(priced) - 3} more JSON-LD products")
    if invalid:
        evidence.append(f"{invalid} invalid JSON-LD block(s) ignored")
    return Detection("storefront", evidence, _confidence(min(len(priced), 3) + 1), "JSON-LD",
                     currency)


def _package_cards(page: _Page) -> Detection | None:
    """Repeated sibling blocks that each show one price and a package size: package cards."""
    body = page.document.find("body")
    if body is None:
        return None
    best: list[tuple[str, str]] = []
    best_signature = ""
    for parent in body.iter():
        if not isinstance(parent.tag, str) or parent.tag in ("script", "style", "select", "table",
                                                             "tbody", "thead", "tr"):
            continue
        groups: dict[str, list[tuple[str, str]]] = {}
        for child in parent:
            if not isinstance(child.tag, str) or child.tag in ("script", "style", "option"):
                continue
            # Element texts joined with spaces: "STARTER" + "100 Followers" are two words.
            text = " ".join(" ".join(child.itertext()).split())
            if not text or len(text) > 400:
                continue
            prices = _PRICE.findall(_text_without_struck(child))
            remainder = _PRICE.sub(" ", text)
            quantity = _QUANTITY.search(remainder)
            if prices and quantity:
                # The first class names the card; the others are modifiers ("popular").
                first_class = (child.get("class") or "").split()[:1]
                signature = ".".join([child.tag, *first_class])
                groups.setdefault(signature, []).append((quantity.group(0), prices[0].strip()))
        for signature, cards in groups.items():
            if len(cards) > len(best):
                best, best_signature = cards, signature
    if len(best) < 2 or len({price for _, price in best}) < 2:
        return None
    shown = ", ".join(f"{quantity} / {price}" for quantity, price in best[:3])
    return Detection("storefront", [f"package cards: {len(best)} <{best_signature}> blocks with a "
                                    f"quantity and a price ({shown})"],
                     _confidence(2 if len(best) >= 3 else 1), "package cards")


def _text_without_struck(element: Any) -> str:
    """The text of a card without its struck-through "was" prices (``<del>``, ``<s>``)."""
    parts: list[str] = []
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        struck = any(tag in ("del", "s", "strike") for tag in
                     [node.tag, *(ancestor.tag for ancestor in node.iterancestors())])
        if node.text and not struck:
            parts.append(node.text)
        if node.tail and node is not element and not any(
                ancestor.tag in ("del", "s", "strike") for ancestor in node.iterancestors()):
            parts.append(node.tail)
    return " ".join(" ".join(parts).split())


def _javascript_shell(page: _Page) -> Detection | None:
    root = None
    for root_id in _SHELL_ROOT_IDS:
        found = page.document.xpath(f"//*[@id='{root_id}']")
        if found:
            root = found[0]
            break
    if root is None:
        found = page.document.xpath("//*[@data-reactroot] | //app-root")
        root = found[0] if found else None
    scripts = [url for tag, url in page.assets() if tag == "script"]
    text = page.visible_text()
    if root is None or not scripts or len(text) > _SHELL_TEXT_LIMIT or _PRICE.search(text):
        return None
    if " ".join(root.text_content().split()):
        return None  # server-rendered content inside the root: not an empty shell
    evidence = [f"empty <{root.tag} id={root.get('id')!r}>" if root.get("id")
                else f"empty <{root.tag}> application root",
                f"script: {_short(scripts[0])}" + (f" (+{len(scripts) - 1})" if len(scripts) > 1
                                                    else "")]
    noscript = page.document.xpath("//noscript")
    if noscript:
        evidence.append(f"<noscript>: {' '.join(noscript[0].text_content().split())[:70]!r}")
    evidence.append(f"{len(text)} characters of text and no price in the HTML")
    return Detection("spa", evidence, _confidence(len(evidence) - 1), "JavaScript shell")


DETECTORS: dict[str, Callable[[_Page], Detection | None]] = {
    "perfectpanel": _perfectpanel,
    "smartpanel": _smartpanel,
    "shopify": _shopify,
    "woocommerce": _woocommerce,
    "jsonld_product": _jsonld_product,
    "package_cards": _package_cards,
    "javascript_shell": _javascript_shell,
}
"""Every detector, by the name a family record gives it (``SellerFamily.detectors``)."""
