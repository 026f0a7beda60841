"""What the simulated shops serve, per kind of shop software (FORMATS.md section 4).

Every route is relative to the shop root ``/s/<shop-id>/``. Common to all shops: ``robots.txt``
(allow all) and static assets under ``assets/``, ``cdn/``, ``wp-content/``, ``wp-includes/``
(CSS, images, fonts: something for a browser to abort).

- ``shopify``: ``/`` (``Shopify.shop``, ``Shopify.currency``, ``og:price:currency``,
  ``cdn.shopify.com``), ``products.json?limit=&page=`` and ``collections/all/products.json``
  (limit 30 by default, 250 at most; an empty list after the last page), ``cart.js``,
  ``products/<handle>`` and ``products/<handle>.js`` (integer cents).
- ``woocommerce``: ``/`` (``wp-content/plugins/woocommerce/``, ``generator`` meta, body class
  ``woocommerce``), ``wp-json/wc/store/v1/products?per_page=&page=[&type=variation]`` with
  ``X-WP-Total`` / ``X-WP-TotalPages`` (10 per page by default, 100 at most), ``product/<slug>/``.
- ``jsonld``: ``/`` links ``product/<slug>``; product pages carry schema.org JSON-LD in one of
  four shapes (``shops.JSONLD_SHAPES``), plus unrelated blocks and one invalid block.
- ``cards``: ``/`` links ``buy/<slug>``; product pages show package cards
  (``div.package-card[data-package="<slug>/<quantity>"]``).
- ``spa``: ``/`` and ``c/<platform>`` are the same shell; ``app.js`` holds the catalogue as
  base64 JSON and renders the menu (``/``) or the platform's package cards (``c/<platform>``).

All functions are pure and run with ``market.lock`` held.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from simulator import shops as shop_model
from simulator.directories import partners_html
from simulator.shops import Shop, ShopProduct, ShopTier

if TYPE_CHECKING:  # pragma: no cover
    from simulator.market import Market

HTML = "text/html"
JSON = "application/json"
JAVASCRIPT = "application/javascript"
ROBOTS_TXT = "User-agent: *\nDisallow:\n"
UNREADABLE_QUANTITY = "Mega pack"
WOO_VERSION = "8.9.1"
SHOPIFY_LIMIT_DEFAULT, SHOPIFY_LIMIT_MAX = 30, 250
WOO_PER_PAGE_DEFAULT, WOO_PER_PAGE_MAX = 10, 100
ENDLESS_PAGES = 9999
FEATURES = ("Instant delivery", "30-day refill guarantee", "No password required", "24/7 support")

# smallest valid files of each kind (a 1x1 PNG, a GIF, ...): browsers get real answers
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
_ASSET_TYPES = {
    ".css": ("text/css", b"body{font-family:Brand,sans-serif}"
             b"@font-face{font-family:Brand;src:url(fonts/brand.woff2) format('woff2')}"),
    ".js": (JAVASCRIPT, b"/* theme */"),
    ".png": ("image/png", _PNG),
    ".jpg": ("image/jpeg", _PNG),
    ".svg": ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'),
    ".woff2": ("font/woff2", b"wOF2\x00\x01\x00\x00"),
    ".ico": ("image/x-icon", _PNG),
}
_ASSET_PREFIXES = ("assets/", "cdn/", "wp-content/", "wp-includes/")


@dataclass(frozen=True, slots=True)
class ShopResponse:
    status: int
    body: bytes
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FaultView:
    """The shop faults of today and the packages they touch."""

    faults: frozenset[str]
    no_price: frozenset[str] = frozenset()
    no_currency: frozenset[str] = frozenset()
    unreadable: frozenset[str] = frozenset()
    redirected: frozenset[str] = frozenset()

    @classmethod
    def of(cls, market: Market, shop: Shop, faults: frozenset[str]) -> FaultView:
        def targets(fault: str) -> frozenset[str]:
            if fault not in faults:
                return frozenset()
            return frozenset(market.shop_fault_targets(shop.shop_id, fault))

        return cls(
            faults=faults,
            no_price=targets("product_without_price"),
            no_currency=targets("price_without_currency"),
            unreadable=targets("unreadable_quantity"),
            redirected=targets("offsite_redirect"),
        )


def handle_shop_request(
    market: Market,
    shop: Shop,
    tail: str,
    query: dict[str, str],
    *,
    base_url: str,
    other_base_url: str,
) -> ShopResponse | None:
    """Answer one GET on a shop (None = 404). ``other_base_url`` is where ``offsite_redirect``
    sends the crawler (the same server under another host name)."""
    path = tail.strip().lstrip("/")
    if path == "robots.txt":
        return ShopResponse(200, ROBOTS_TXT.encode(), "text/plain")
    if path.startswith(_ASSET_PREFIXES):
        return handle_asset(path)
    view = FaultView.of(market, shop, market.active_faults(shop.shop_id))
    context = _Context(market, shop, view, base_url.rstrip("/"), other_base_url.rstrip("/"), query)
    handler = {
        "shopify": _shopify,
        "woocommerce": _woocommerce,
        "jsonld": _jsonld,
        "cards": _cards,
        "spa": _spa,
    }[shop.kind]
    return handler(context, path)


@dataclass(slots=True)
class _Context:
    market: Market
    shop: Shop
    view: FaultView
    base: str
    other_base: str
    query: dict[str, str]

    @property
    def root(self) -> str:
        return f"/s/{self.shop.shop_id}/"

    def products(self) -> list[ShopProduct]:
        if "empty_list" in self.view.faults:
            return []
        return self.shop.active_products()

    def offer_id(self, product: ShopProduct, tier: ShopTier) -> str:
        return self.shop.offer_id(product, tier)

    def quantity_label(self, product: ShopProduct, tier: ShopTier) -> str:
        if self.offer_id(product, tier) in self.view.unreadable:
            return UNREADABLE_QUANTITY
        return self.shop.tier_quantity_text(product, tier)

    def redirect(self, path: str) -> ShopResponse:
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in self.query.items())
        location = f"{self.other_base}{self.root}{path}" + (f"?{query}" if query else "")
        return ShopResponse(302, b"", "text/plain", {"Location": location})

    def page_number(self, name: str = "page") -> int:
        try:
            return max(1, int(self.query.get(name, "1")))
        except ValueError:
            return 1


def handle_asset(path: str) -> ShopResponse:
    """A static file (CSS, image, font) by extension; 404 for anything else."""
    stem = path.split("?", 1)[0]
    for extension, (content_type, body) in _ASSET_TYPES.items():
        if stem.endswith(extension):
            return ShopResponse(200, body, content_type, {"Cache-Control": "max-age=31536000"})
    return ShopResponse(404, b"Not Found", "text/plain")


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> ShopResponse:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return ShopResponse(status, body, JSON, headers or {})


def _page_slice(items: list[Any], page: int, per_page: int, endless: bool) -> list[Any]:
    pages = max(1, math.ceil(len(items) / per_page))
    if page > pages and endless and items:
        page = (page - 1) % pages + 1  # a broken pager: every page has products
    return items[(page - 1) * per_page : page * per_page]


def _int_param(query: dict[str, str], name: str, default: int, maximum: int) -> int:
    try:
        value = int(query.get(name, default))
    except ValueError:
        return default
    return min(max(1, value), maximum)


def _page(
    context: _Context,
    title: str,
    body: str,
    *,
    head: str = "",
    body_class: str = "",
    assets: tuple[str, ...] = ("assets/theme.css", "assets/fonts/brand.woff2", "assets/logo.png"),
) -> str:
    """A shop HTML page with its brand header, asset references and partner links."""
    shop, root = context.shop, context.root
    css, font, logo = (root + asset for asset in assets)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)} | {html.escape(shop.brand)}</title>"
        f'<link rel="stylesheet" href="{css}?v={shop.asset_hash}">'
        f'<link rel="preload" href="{font}" as="font" type="font/woff2" crossorigin>'
        f'<link rel="icon" href="{root}assets/favicon.png">{head}</head>\n'
        f'<body class="{body_class}"><header class="site-header"><a href="{root}">'
        f'<img class="logo" src="{logo}" alt="{html.escape(shop.brand)}" width="120" height="40">'
        f"</a></header>\n<main>{body}</main>\n"
        f'<footer>{partners_html(context.market, shop.shop_id, context.base)}'
        f'<img src="{root}assets/payments.svg" alt="We accept cards" width="200" height="24">'
        f"<p>&copy; 2026 {html.escape(shop.brand)}</p></footer></body></html>\n"
    )


# --- Shopify ---------------------------------------------------------------------------------


def _shopify(context: _Context, path: str) -> ShopResponse | None:
    shop = context.shop
    if path in ("", "index.html"):
        return ShopResponse(200, _shopify_landing(context).encode())
    if path in ("products.json", "collections/all/products.json"):
        if "layout_change" in context.view.faults:
            return _json({"errors": "Not Found"}, 404)
        limit = _int_param(context.query, "limit", SHOPIFY_LIMIT_DEFAULT, SHOPIFY_LIMIT_MAX)
        page = context.page_number()
        if page == 2 and "offsite_redirect" in context.view.faults:
            return context.redirect(path)
        products = context.products()
        chosen = _page_slice(products, page, limit, "endless_pagination" in context.view.faults)
        return _json({"products": [_shopify_product(context, p) for p in chosen]})
    if path == "cart.js":
        cart: dict[str, Any] = {
            "token": f"c1-{shop.asset_hash}",
            "note": None,
            "attributes": {},
            "original_total_price": 0,
            "total_price": 0,
            "total_discount": 0,
            "total_weight": 0.0,
            "item_count": 0,
            "items": [],
            "requires_shipping": False,
            "currency": shop.currency,
            "items_subtotal_price": 0,
            "cart_level_discount_applications": [],
        }
        if "price_without_currency" in context.view.faults:
            del cart["currency"]
        return _json(cart)
    if path.startswith("products/"):
        handle = path[len("products/") :].rstrip("/")
        as_js = handle.endswith(".js")
        product = shop.products.get(handle.removesuffix(".js"))
        if product is None or not product.active:
            return None
        if as_js:
            return _json(_shopify_product_js(context, product))
        return ShopResponse(200, _shopify_product_page(context, product).encode())
    return None


def _shopify_currency_block(context: _Context) -> str:
    shop = context.shop
    if "price_without_currency" in context.view.faults:
        return f'Shopify.shop = "{shop.handle}.myshopify.com";\nShopify.locale = "en";\n'
    return (
        f'Shopify.shop = "{shop.handle}.myshopify.com";\nShopify.locale = "en";\n'
        f'Shopify.currency = {{"active":"{shop.currency}","rate":"1.0"}};\n'
        f'Shopify.country = "US";\n'
    )


def _shopify_landing(context: _Context) -> str:
    shop, root = context.shop, context.root
    meta = (
        ""
        if "price_without_currency" in context.view.faults
        else f'<meta property="og:price:currency" content="{shop.currency}">'
    )
    head = (
        f'<meta property="og:site_name" content="{html.escape(shop.brand)}">{meta}'
        '<link rel="preconnect" href="https://cdn.shopify.com" crossorigin>'
        f'<meta name="shopify-checkout-api-token" content="{shop.asset_hash}">'
        "<script>var Shopify = Shopify || {};\n"
        + _shopify_currency_block(context)
        + 'Shopify.theme = {"name":"Dawn","id":1334,"role":"main"};\n'
        'Shopify.cdnHost = "' + shop.handle + '.myshopify.com/cdn";</script>'
        '<script id="shopify-features" type="application/json">{"accessToken":"'
        + shop.asset_hash
        + '","betas":["rich-media-storefront-analytics"]}</script>'
    )
    cards = "".join(
        f'<li class="grid__item"><a href="{root}products/{product.slug}">'
        f'<img src="{root}cdn/shop/files/{product.slug}.png" alt="" width="300" height="300">'
        f"<h3>{html.escape(product.title)}</h3></a></li>"
        for product in context.products()
    )
    body = (
        f"<h1>{html.escape(shop.brand)}</h1><p>Grow your socials today.</p>"
        f'<ul class="grid product-grid">{cards}</ul>'
    )
    return _page(
        context,
        "Home",
        body,
        head=head,
        body_class="template-index gradient",
        assets=("cdn/shop/t/4/assets/base.css", "cdn/shop/t/4/assets/brand.woff2",
                "cdn/shop/files/logo.png"),
    )


def _shopify_variant_title(context: _Context, product: ShopProduct, tier: ShopTier) -> str:
    return context.quantity_label(product, tier)


def _shopify_product(context: _Context, product: ShopProduct) -> dict[str, Any]:
    created = f"{context.market.date_of(product.created_day).isoformat()}T09:00:00-04:00"
    variants = []
    for position, tier in enumerate(product.tiers, start=1):
        offer_id = context.offer_id(product, tier)
        title = _shopify_variant_title(context, product, tier)
        variants.append(
            {
                "id": tier.offer_number,
                "title": title,
                "option1": title,
                "option2": None,
                "option3": None,
                "sku": f"{product.slug[:12].upper()}-{tier.quantity}",
                "requires_shipping": False,
                "taxable": True,
                "featured_image": None,
                "available": True,
                "price": None if offer_id in context.view.no_price else f"{tier.price:.2f}",
                "grams": 0,
                "compare_at_price": (
                    None if tier.compare_at is None else f"{tier.compare_at:.2f}"
                ),
                "position": position,
                "product_id": product.product_number,
                "created_at": created,
                "updated_at": created,
            }
        )
    return {
        "id": product.product_number,
        "title": product.title,
        "handle": product.slug,
        "body_html": (
            f"<p>Buy {html.escape(product.platform_name)} {html.escape(product.metric_name)}"
            " with instant delivery and a 30-day refill guarantee.</p>"
        ),
        "published_at": created,
        "created_at": created,
        "updated_at": created,
        "vendor": context.shop.brand,
        "product_type": product.platform_name,
        "tags": [product.platform, product.metric, "social"],
        "variants": variants,
        "images": [],
        "options": [
            {
                "name": "Quantity",
                "position": 1,
                "values": [v["title"] for v in variants],
            }
        ],
    }


def _shopify_product_js(context: _Context, product: ShopProduct) -> dict[str, Any]:
    variants = []
    for tier in product.tiers:
        offer_id = context.offer_id(product, tier)
        variants.append(
            {
                "id": tier.offer_number,
                "title": context.quantity_label(product, tier),
                "price": None if offer_id in context.view.no_price else int(tier.price * 100),
                "compare_at_price": None if tier.compare_at is None else int(tier.compare_at * 100),
                "available": True,
            }
        )
    return {
        "id": product.product_number,
        "title": product.title,
        "handle": product.slug,
        "price": int(product.tiers[0].price * 100),
        "variants": variants,
    }


def _shopify_product_page(context: _Context, product: ShopProduct) -> str:
    shop = context.shop
    options = "".join(
        f'<option value="{tier.offer_number}">{html.escape(context.quantity_label(product, tier))}'
        "</option>"
        for tier in product.tiers
    )
    first = product.tiers[0]
    body = (
        f'<h1 class="product__title">{html.escape(product.title)}</h1>'
        f'<div class="price"><span class="price-item">{shop.money(first.price)}</span></div>'
        f'<form action="{context.root}cart/add" method="post"><select name="id">{options}</select>'
        '<button type="submit" name="add">Add to cart</button></form>'
    )
    head = (
        '<link rel="preconnect" href="https://cdn.shopify.com" crossorigin>'
        "<script>var Shopify = Shopify || {};\n" + _shopify_currency_block(context) + "</script>"
    )
    return _page(context, product.title, body, head=head, body_class="template-product")


# --- WooCommerce -----------------------------------------------------------------------------

_WOO_API_PATHS = ("wp-json/wc/store/v1/products", "wp-json/wc/store/products")


def _woocommerce(context: _Context, path: str) -> ShopResponse | None:
    clean = path.rstrip("/")
    if path in ("", "index.php"):
        return ShopResponse(200, _woo_landing(context).encode())
    if clean in _WOO_API_PATHS:
        if "layout_change" in context.view.faults:
            return _json(
                {
                    "code": "rest_no_route",
                    "message": "No route was found matching the URL and request method.",
                    "data": {"status": 404},
                },
                404,
            )
        per_page = _int_param(context.query, "per_page", WOO_PER_PAGE_DEFAULT, WOO_PER_PAGE_MAX)
        page = context.page_number()
        if page == 2 and "offsite_redirect" in context.view.faults:
            return context.redirect(path)
        wanted = context.query.get("type", "")
        items = _woo_items(context, wanted)
        endless = "endless_pagination" in context.view.faults
        total = len(items)
        pages = max(1, math.ceil(total / per_page)) if total else 0
        if endless:
            total, pages = ENDLESS_PAGES * per_page, ENDLESS_PAGES
        chosen = _page_slice(items, page, per_page, endless)
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        return _json(chosen, headers=headers)
    if clean.startswith("product/"):
        slug = clean[len("product/") :]
        for product in context.products():
            if product.slug == slug and not product.woo_simple:
                return ShopResponse(200, _woo_product_page(context, product, None).encode())
            if product.woo_simple:
                for tier in product.tiers:
                    if f"{product.slug}-{tier.quantity}" == slug:
                        tier_page = _woo_product_page(context, product, tier)
                        return ShopResponse(200, tier_page.encode())
        return None
    return None


def _woo_minor_unit(shop: Shop) -> int:
    return 0 if shop.whole_prices else 2


def _woo_money(shop: Shop, value: Decimal | None) -> str:
    if value is None:
        return ""
    return str(int((value * 10 ** _woo_minor_unit(shop)).to_integral_value()))


def _woo_prices(
    context: _Context,
    price: Decimal | None,
    compare: Decimal | None,
    *,
    currency: bool,
    price_range: tuple[Decimal, Decimal] | None = None,
) -> dict[str, Any]:
    shop = context.shop
    symbol, position, gap, decimal_separator, thousands = shop_model.MONEY_CONVENTIONS[shop.currency]
    prices: dict[str, Any] = {
        "price": _woo_money(shop, price),
        "regular_price": _woo_money(shop, compare if compare is not None else price),
        "sale_price": _woo_money(shop, price),
        "price_range": None,
        "currency_code": shop.currency if currency else "",
        "currency_symbol": symbol if currency else "",
        "currency_minor_unit": _woo_minor_unit(shop),
        "currency_decimal_separator": decimal_separator,
        "currency_thousand_separator": thousands,
        "currency_prefix": (symbol + gap if position == "prefix" else "") if currency else "",
        "currency_suffix": (gap + symbol if position == "suffix" else "") if currency else "",
    }
    if price_range is not None:
        prices["price_range"] = {
            "min_amount": _woo_money(shop, price_range[0]),
            "max_amount": _woo_money(shop, price_range[1]),
        }
    return prices


def _woo_items(context: _Context, wanted: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for product in context.products():
        if wanted == "variation":
            if not product.woo_simple:
                items.extend(_woo_variation(context, product, tier) for tier in product.tiers)
            continue
        if product.woo_simple:
            if wanted in ("", "simple"):
                items.extend(_woo_simple(context, product, tier) for tier in product.tiers)
        elif wanted in ("", "variable"):
            items.append(_woo_variable(context, product))
    return items


def _woo_category(context: _Context, product: ShopProduct) -> list[dict[str, Any]]:
    return [
        {
            "id": 15 + sorted(shop_model.PLATFORM_NAMES).index(product.platform),
            "name": product.platform_name,
            "slug": product.platform,
            "link": f"{context.base}{context.root}product-category/{product.platform}/",
        }
    ]


def _woo_common(context: _Context, number: int, name: str, slug: str) -> dict[str, Any]:
    return {
        "id": number,
        "name": name,
        "slug": slug,
        "parent": 0,
        "variation": "",
        "permalink": f"{context.base}{context.root}product/{slug}/",
        "short_description": "",
        "description": "",
        "on_sale": False,
        "images": [],
        "tags": [],
        "has_options": False,
        "is_purchasable": True,
        "is_in_stock": True,
        "is_on_backorder": False,
        "low_stock_remaining": None,
        "sold_individually": False,
        "average_rating": "0",
        "review_count": 0,
    }


def _woo_simple(context: _Context, product: ShopProduct, tier: ShopTier) -> dict[str, Any]:
    offer_id = context.offer_id(product, tier)
    name = context.quantity_label(product, tier)
    item = _woo_common(context, tier.offer_number, name, f"{product.slug}-{tier.quantity}")
    item.update(
        {
            "type": "simple",
            "sku": f"{product.slug}-{tier.quantity}",
            "on_sale": tier.compare_at is not None,
            "prices": _woo_prices(
                context,
                None if offer_id in context.view.no_price else tier.price,
                tier.compare_at,
                currency=offer_id not in context.view.no_currency,
            ),
            "categories": _woo_category(context, product),
            "attributes": [],
            "variations": [],
        }
    )
    return item


def _woo_variable(context: _Context, product: ShopProduct) -> dict[str, Any]:
    labels = [context.quantity_label(product, tier) for tier in product.tiers]
    priced = [
        tier for tier in product.tiers if context.offer_id(product, tier) not in context.view.no_price
    ]
    low = min((tier.price for tier in priced), default=None)
    high = max((tier.price for tier in priced), default=None)
    currency = not any(
        context.offer_id(product, tier) in context.view.no_currency for tier in product.tiers
    )
    item = _woo_common(context, product.product_number, product.title, product.slug)
    item.update(
        {
            "type": "variable",
            "sku": product.slug.upper()[:16],
            "has_options": True,
            "on_sale": any(tier.compare_at is not None for tier in product.tiers),
            "prices": _woo_prices(
                context,
                low,
                None,
                currency=currency,
                price_range=(low, high) if low is not None and high is not None else None,
            ),
            "categories": _woo_category(context, product),
            "attributes": [
                {
                    "id": 0,
                    "name": "Quantity",
                    "taxonomy": None,
                    "has_variations": True,
                    "terms": [
                        {"id": index, "name": label, "slug": shop_model.slugify(label)}
                        for index, label in enumerate(labels, start=1)
                    ],
                }
            ],
            "variations": [
                {"id": tier.offer_number, "attributes": [{"name": "Quantity", "value": label}]}
                for tier, label in zip(product.tiers, labels, strict=True)
            ],
        }
    )
    return item


def _woo_variation(context: _Context, product: ShopProduct, tier: ShopTier) -> dict[str, Any]:
    offer_id = context.offer_id(product, tier)
    label = context.quantity_label(product, tier)
    item = _woo_common(context, tier.offer_number, product.title, product.slug)
    item.update(
        {
            "parent": product.product_number,
            "type": "variation",
            "variation": f"Quantity: {label}",
            "permalink": (
                f"{context.base}{context.root}product/{product.slug}/"
                f"?attribute_quantity={quote(label)}"
            ),
            "sku": f"{product.slug[:12].upper()}-{tier.quantity}",
            "on_sale": tier.compare_at is not None,
            "prices": _woo_prices(
                context,
                None if offer_id in context.view.no_price else tier.price,
                tier.compare_at,
                currency=offer_id not in context.view.no_currency,
            ),
            "categories": [],
            "attributes": [{"name": "Quantity", "value": label}],
            "variations": [],
        }
    )
    return item


def _woo_head(context: _Context) -> str:
    root = context.root
    return (
        f'<meta name="generator" content="WordPress 6.5.4">'
        f'<meta name="generator" content="WooCommerce {WOO_VERSION}">'
        f'<link rel="https://api.w.org/" href="{context.base}{root}wp-json/">'
        f'<link rel="stylesheet" id="woocommerce-general-css" href="{root}wp-content/plugins/'
        f'woocommerce/assets/css/woocommerce.css?ver={WOO_VERSION}" media="all">'
        f'<script src="{root}wp-includes/js/jquery/jquery.min.js?ver=3.7.1"></script>'
    )


_WOO_ASSETS = (
    "wp-content/themes/storefront/style.css",
    "wp-content/themes/storefront/assets/fonts/brand.woff2",
    "wp-content/uploads/2026/08/logo.png",
)


def _woo_landing(context: _Context) -> str:
    root = context.root
    items: list[str] = []
    for product in context.products():
        if product.woo_simple:
            items.extend(
                f'<li class="product type-product product-type-simple">'
                f'<a href="{root}product/{product.slug}-{tier.quantity}/">'
                f"{html.escape(context.quantity_label(product, tier))}</a></li>"
                for tier in product.tiers
            )
        else:
            items.append(
                f'<li class="product type-product product-type-variable">'
                f'<a href="{root}product/{product.slug}/">{html.escape(product.title)}</a></li>'
            )
    body = (
        f"<h1>{html.escape(context.shop.brand)}</h1>"
        f'<ul class="products columns-3">{"".join(items)}</ul>'
    )
    return _page(
        context,
        "Shop",
        body,
        head=_woo_head(context),
        body_class="home page-template woocommerce woocommerce-page theme-storefront",
        assets=_WOO_ASSETS,
    )


def _woo_product_page(context: _Context, product: ShopProduct, tier: ShopTier | None) -> str:
    shop = context.shop
    if tier is None:
        low, high = product.tiers[0].price, product.tiers[-1].price
        title = product.title
        price = (
            f'<p class="price"><span class="woocommerce-Price-amount amount">{shop.money(low)}'
            f'</span> &ndash; <span class="woocommerce-Price-amount amount">{shop.money(high)}'
            "</span></p>"
        )
    else:
        title = context.quantity_label(product, tier)
        price = (
            f'<p class="price"><span class="woocommerce-Price-amount amount">'
            f"{shop.money(tier.price)}</span></p>"
        )
    body = f'<div class="product"><h1 class="product_title entry-title">{html.escape(title)}</h1>{price}</div>'
    return _page(
        context,
        title,
        body,
        head=_woo_head(context),
        body_class="product-template-default single single-product woocommerce woocommerce-page",
        assets=_WOO_ASSETS,
    )


# --- JSON-LD storefront ----------------------------------------------------------------------


def _storefront_links(context: _Context, prefix: str) -> list[tuple[str, str]]:
    """(relative link, label) of every product page of a storefront shop."""
    links: list[tuple[str, str]] = []
    for product in context.products():
        if context.shop.kind == "jsonld" and product.jsonld_shape == "single":
            links.extend(
                (f"{prefix}{product.slug}-{tier.quantity}", context.quantity_label(product, tier))
                for tier in product.tiers
            )
        else:
            links.append((f"{prefix}{product.slug}", product.title))
    return links


def _storefront_landing(context: _Context, prefix: str) -> str:
    shop = context.shop
    links = _storefront_links(context, prefix)
    page = context.page_number()
    pager = ""
    if "endless_pagination" in context.view.faults:
        # a broken "load more": every page lists the same products and links one more page
        pager = f'<nav class="pager"><a class="next" rel="next" href="?page={page + 1}">Next page</a></nav>'
    items = "".join(
        f'<li><a class="product-link" href="{href}">{html.escape(label)}</a></li>'
        for href, label in links
    )
    blocks = ""
    if shop.kind == "jsonld":
        blocks = _jsonld_site_blocks(context)
    body = (
        f'<section class="hero"><h1>{html.escape(shop.brand)}</h1>'
        f'<img src="{context.root}assets/hero.jpg" alt="" width="800" height="300"></section>'
        f'<ul class="products">{items}</ul>{pager}'
    )
    return _page(context, "Buy followers, likes and views", body, head=blocks,
                 body_class="home storefront")


def _jsonld_script(payload: Any, *, broken: bool = False) -> str:
    text = json.dumps(payload, ensure_ascii=False, indent=1)
    if broken:
        text = text.rstrip("}") + ',\n  "offers": [\n'  # cut mid-object, as a bad template does
    return f'<script type="application/ld+json">\n{text}\n</script>'


_INVALID_BLOCK = (
    '<script type="application/ld+json">\n{\n "@context": "https://schema.org",\n'
    ' "@type": "WebSite",\n "name": "{{ shop.name }}",\n "potentialAction": {\n'
    '  "@type": "SearchAction",\n  "target": "/search?q={search_term_string}",\n'
    '  "query-input": "required name=search_term_string"\n</script>'
)
"""The invalid block every JSON-LD page carries: a theme snippet cut before its closing braces
(not even a lenient parser can read it)."""


def _jsonld_site_blocks(context: _Context) -> str:
    shop = context.shop
    broken = "broken_jsonld" in context.view.faults
    organization = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": shop.brand,
        "url": f"{context.base}{context.root}",
        "logo": f"{context.base}{context.root}assets/logo.png",
        "sameAs": [f"https://instagram.com/{shop.handle}"],
    }
    return _jsonld_script(organization, broken=broken) + _INVALID_BLOCK


def _jsonld_offer(
    context: _Context, product: ShopProduct, tier: ShopTier, *, with_name: bool = True
) -> dict[str, Any]:
    shop = context.shop
    offer_id = context.offer_id(product, tier)
    offer: dict[str, Any] = {"@type": "Offer", "sku": offer_id}
    if with_name:
        offer["name"] = context.quantity_label(product, tier)
    if offer_id not in context.view.no_price:
        offer["price"] = (
            int(tier.price) if shop.whole_prices and tier.price == int(tier.price) else f"{tier.price:.2f}"
        )
    if offer_id not in context.view.no_currency:
        offer["priceCurrency"] = shop.currency
    offer["availability"] = "https://schema.org/InStock"
    offer["url"] = f"{context.base}{context.root}product/{product.slug}?variant={tier.quantity}"
    if tier.compare_at is not None:
        list_price: dict[str, Any] = {
            "@type": "UnitPriceSpecification",
            "priceType": "https://schema.org/ListPrice",
            "price": f"{tier.compare_at:.2f}",
        }
        if offer_id not in context.view.no_currency:
            list_price["priceCurrency"] = shop.currency
        offer["priceSpecification"] = [list_price]
    return offer


def _jsonld_product_blocks(
    context: _Context, product: ShopProduct, tier: ShopTier | None
) -> list[dict[str, Any]]:
    """The JSON-LD payloads of one product page (``tier`` for one-package pages)."""
    shop, base = context.shop, f"{context.base}{context.root}"
    breadcrumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "Home", "item": base},
            {"@type": "ListItem", "position": 2, "name": product.platform_name,
             "item": f"{base}#{product.platform}"},
        ],
    }  # fmt: skip
    organization = {"@type": "Organization", "name": shop.brand, "url": base}
    core: dict[str, Any] = {
        "@type": "Product",
        "name": product.title,
        "description": f"Buy {product.platform_name} {product.metric_name}: instant delivery.",
        "brand": {"@type": "Brand", "name": shop.brand},
        "image": f"{base}assets/{product.slug}.png",
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.8", "reviewCount": "312"},
    }
    shape = product.jsonld_shape
    if tier is not None:  # "single": one package per page
        core["name"] = context.quantity_label(product, tier)
        core["sku"] = context.offer_id(product, tier)
        core["offers"] = _jsonld_offer(context, product, tier, with_name=False)
        return [{"@context": "https://schema.org", **core},
                {**organization, "@context": "https://schema.org"}, breadcrumbs]  # fmt: skip
    offers = [_jsonld_offer(context, product, t) for t in product.tiers]
    if shape == "aggregate":
        priced = [Decimal(str(o["price"])) for o in offers if "price" in o]
        aggregate: dict[str, Any] = {
            "@type": "AggregateOffer",
            "offerCount": len(offers),
            "offers": offers,
        }
        if priced:
            aggregate["lowPrice"] = f"{min(priced):.2f}"
            aggregate["highPrice"] = f"{max(priced):.2f}"
        if all("priceCurrency" in o for o in offers):
            aggregate["priceCurrency"] = shop.currency
        core["offers"] = aggregate
    else:
        core["offers"] = offers
    if shape == "graph":
        core["@id"] = f"{base}product/{product.slug}#product"
        graph = {
            "@context": "https://schema.org",
            "@graph": [
                {**organization, "@id": f"{base}#organization"},
                {"@type": "WebSite", "@id": f"{base}#website", "name": shop.brand, "url": base},
                {key: value for key, value in breadcrumbs.items() if key != "@context"},
                core,
            ],
        }
        return [graph]
    return [{"@context": "https://schema.org", **core},
            {**organization, "@context": "https://schema.org"}, breadcrumbs]  # fmt: skip


def _find_storefront_product(
    context: _Context, slug: str
) -> tuple[ShopProduct, ShopTier | None] | None:
    for product in context.products():
        if context.shop.kind == "jsonld" and product.jsonld_shape == "single":
            for tier in product.tiers:
                if f"{product.slug}-{tier.quantity}" == slug:
                    return product, tier
        elif product.slug == slug:
            return product, None
    return None


def _redirected(context: _Context, product: ShopProduct, tier: ShopTier | None) -> bool:
    tiers = [tier] if tier is not None else product.tiers
    return any(context.offer_id(product, t) in context.view.redirected for t in tiers)


def _jsonld(context: _Context, path: str) -> ShopResponse | None:
    if path in ("", "index.html"):
        return ShopResponse(200, _storefront_landing(context, "product/").encode())
    if not path.startswith("product/"):
        return None
    found = _find_storefront_product(context, path[len("product/") :].rstrip("/"))
    if found is None:
        return None
    product, tier = found
    if _redirected(context, product, tier):
        return context.redirect(path)
    return ShopResponse(200, _jsonld_product_page(context, product, tier).encode())


def _jsonld_product_page(context: _Context, product: ShopProduct, tier: ShopTier | None) -> str:
    if "layout_change" in context.view.faults:
        # the new theme dropped structured data: packages are cards only
        return _cards_product_page(context, product, alternate=False)
    broken = "broken_jsonld" in context.view.faults
    blocks = "".join(
        _jsonld_script(block, broken=broken) for block in _jsonld_product_blocks(context, product, tier)
    )
    tiers = [tier] if tier is not None else product.tiers
    rows = "".join(
        f"<li>{html.escape(context.quantity_label(product, t))} &ndash; "
        f'<span class="price">{_price_text(context, product, t)}</span></li>'
        for t in tiers
    )
    title = context.quantity_label(product, tier) if tier is not None else product.title
    body = (
        f'<article class="product"><h1>{html.escape(title)}</h1>'
        f'<img src="{context.root}assets/{product.slug}.png" alt="" width="400" height="400">'
        f'<ul class="packages">{rows}</ul>'
        f'<button class="add-to-cart">Add to cart</button></article>'
    )
    return _page(context, title, body, head=blocks + _INVALID_BLOCK, body_class="product")


def _price_text(context: _Context, product: ShopProduct, tier: ShopTier) -> str:
    offer_id = context.offer_id(product, tier)
    if offer_id in context.view.no_price:
        return "Temporarily unavailable"
    return context.shop.money(tier.price, symbol=offer_id not in context.view.no_currency)


# --- package cards ---------------------------------------------------------------------------


def _card_data(context: _Context, product: ShopProduct) -> list[dict[str, Any]]:
    """What one product's cards show (shared by the HTML cards shop and the SPA's script)."""
    cards = []
    for tier in product.tiers:
        offer_id = context.offer_id(product, tier)
        with_symbol = offer_id not in context.view.no_currency
        if offer_id in context.view.unreadable:
            number, unit = UNREADABLE_QUANTITY, ""
        else:
            number = shop_model.quantity_text(tier.quantity, product.quantity_style)
            unit = product.metric_name
        cards.append(
            {
                "id": offer_id,
                "label": tier.label,
                "number": number,
                "unit": unit,
                "price": None
                if offer_id in context.view.no_price
                else context.shop.money(tier.price, symbol=with_symbol),
                "compare": None
                if tier.compare_at is None
                else context.shop.money(tier.compare_at, symbol=with_symbol),
                "popular": tier.popular,
            }
        )
    return cards


def _cards_html(context: _Context, product: ShopProduct, *, alternate: bool) -> str:
    checkout = f"{context.root}checkout"
    parts = []
    for card in _card_data(context, product):
        package = html.escape(card["id"])
        quantity = f"<strong>{html.escape(card['number'])}</strong> {html.escape(card['unit'])}".strip()
        if alternate:
            cost = (
                "<em>Temporarily unavailable</em>"
                if card["price"] is None
                else (f"<s>{html.escape(card['compare'])}</s> " if card["compare"] else "")
                + html.escape(card["price"])
            )
            parts.append(
                f'<div class="plan" data-package="{package}"><span class="plan-name">'
                f'{html.escape(card["label"].title())}</span><p class="plan-amount">{quantity}</p>'
                f'<p class="plan-cost">{cost}</p>'
                f'<button type="button" data-package="{package}">Order</button></div>'
            )
            continue
        ribbon = '<div class="ribbon">Most Popular</div>' if card["popular"] else ""
        if card["price"] is None:
            price = '<div class="package-price"><span class="unavailable">Temporarily unavailable</span></div>'
        else:
            compare = f'<del class="compare">{html.escape(card["compare"])}</del> ' if card["compare"] else ""
            price = f'<div class="package-price">{compare}<span class="amount">{html.escape(card["price"])}</span></div>'
        features = "".join(f"<li>{feature}</li>" for feature in FEATURES)
        parts.append(
            f'<div class="package-card{" popular" if card["popular"] else ""}" data-package="{package}">'
            f'{ribbon}<h3 class="package-title">{html.escape(card["label"])}</h3>'
            f'<div class="package-quantity">{quantity}</div>{price}'
            f'<ul class="features">{features}</ul>'
            f'<a class="btn btn-buy" href="{checkout}?package={quote(card["id"], safe="")}">Buy Now</a></div>'
        )
    wrapper = "pricing-table" if alternate else "packages"
    return f'<section class="{wrapper}">{"".join(parts)}</section>'


def _cards_product_page(context: _Context, product: ShopProduct, *, alternate: bool) -> str:
    body = (
        f'<h1 class="product-title">{html.escape(product.title)}</h1>'
        f'<img src="{context.root}assets/{product.slug}.jpg" alt="" width="600" height="200">'
        + _cards_html(context, product, alternate=alternate)
    )
    return _page(context, product.title, body, body_class="product-page")


def _cards(context: _Context, path: str) -> ShopResponse | None:
    if path in ("", "index.html"):
        return ShopResponse(200, _storefront_landing(context, "buy/").encode())
    if not path.startswith("buy/"):
        return None
    found = _find_storefront_product(context, path[len("buy/") :].rstrip("/"))
    if found is None:
        return None
    product, _ = found
    if _redirected(context, product, None):
        return context.redirect(path)
    alternate = "layout_change" in context.view.faults
    return ShopResponse(200, _cards_product_page(context, product, alternate=alternate).encode())


# --- JavaScript-only shop --------------------------------------------------------------------


def _spa_shell(context: _Context, title: str) -> str:
    root = context.root
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<base href="{root}"><title>{html.escape(title)}</title>'
        f'<link rel="stylesheet" href="assets/app.{context.shop.asset_hash}.css">'
        '<link rel="preload" href="assets/fonts/brand.woff2" as="font" type="font/woff2" crossorigin>'
        '<link rel="icon" href="assets/favicon.png"></head>\n'
        "<body><noscript>You need to enable JavaScript to run this app.</noscript>"
        f'<div id="root"></div><script src="app.js?v={context.shop.asset_hash}"></script>'
        "</body></html>\n"
    )


_SPA_SCRIPT = """(function () {
  var bytes = Uint8Array.from(atob("%(data)s"), function (c) { return c.charCodeAt(0); });
  var d = JSON.parse(new TextDecoder().decode(bytes));
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; }); }
  var m = location.pathname.match(/\\/c\\/([a-z]+)\\/?$/);
  var menu = d.menu.map(function (p) {
    return '<a class="menu-link" href="c/' + p[0] + '">' + esc(p[1]) + '</a>'; }).join(" ");
  var h = '<header class="app-header"><a href="./"><img class="logo" src="assets/logo.png" alt="">'
    + esc(d.brand) + '</a><nav>' + menu + '</nav></header><main>';
  if (!m) {
    h += '<h1>' + esc(d.brand) + '</h1><p>Choose a platform.</p>'
      + '<img src="assets/hero.jpg" alt="" width="800" height="300">';
  } else {
    d.products.filter(function (p) { return p.platform === m[1]; }).forEach(function (p) {
      h += '<h2 class="product-title">' + esc(p.title) + '</h2><section class="'
        + (d.alt ? 'pricing-table' : 'packages') + '">';
      p.cards.forEach(function (c) {
        var q = '<strong>' + esc(c.number) + '</strong>' + (c.unit ? ' ' + esc(c.unit) : '');
        if (d.alt) {
          h += '<div class="plan" data-package="' + esc(c.id) + '"><span class="plan-name">'
            + esc(c.label) + '</span><p class="plan-amount">' + q + '</p><p class="plan-cost">'
            + (c.price === null ? '<em>Temporarily unavailable</em>'
               : (c.compare ? '<s>' + esc(c.compare) + '</s> ' : '') + esc(c.price))
            + '</p><button type="button">Order</button></div>';
          return;
        }
        h += '<div class="package-card' + (c.popular ? ' popular' : '') + '" data-package="'
          + esc(c.id) + '">' + (c.popular ? '<div class="ribbon">Most Popular</div>' : '')
          + '<h3 class="package-title">' + esc(c.label) + '</h3><div class="package-quantity">'
          + q + '</div><div class="package-price">'
          + (c.price === null ? '<span class="unavailable">Temporarily unavailable</span>'
             : (c.compare ? '<del class="compare">' + esc(c.compare) + '</del> ' : '')
               + '<span class="amount">' + esc(c.price) + '</span>')
          + '</div><ul class="features">' + d.features.map(function (f) {
            return '<li>' + esc(f) + '</li>'; }).join('')
          + '</ul><a class="btn btn-buy" href="checkout?package=' + encodeURIComponent(c.id)
          + '">Buy Now</a></div>';
      });
      h += '</section>';
    });
  }
  document.getElementById("root").innerHTML = h + '</main>';
  document.title = d.brand;
})();
"""


def spa_data(context: _Context) -> dict[str, Any]:
    """The catalogue the SPA's script holds (encoded), as the script will show it."""
    products = context.products()
    platforms = list(dict.fromkeys(product.platform for product in products))
    return {
        "brand": context.shop.brand,
        "alt": "layout_change" in context.view.faults,
        "features": list(FEATURES),
        "menu": [[platform, shop_model.PLATFORM_NAMES[platform]] for platform in platforms],
        "products": [
            {
                "slug": product.slug,
                "title": product.title,
                "platform": product.platform,
                "cards": _card_data(context, product),
            }
            for product in products
        ],
    }


def render_spa_dom(
    market: Market, shop: Shop, tail: str, *, base_url: str, other_base_url: str | None = None
) -> ShopResponse | None:
    """What a browser shows after ``app.js`` ran on an SPA shop's page (the document a crawler
    reads in Chromium): the script's rendering, done here in Python, for
    ``simulator.store.build_store`` (no browser). None = 404; a redirect stays a redirect."""
    path = tail.strip().lstrip("/")
    view = FaultView.of(market, shop, market.active_faults(shop.shop_id))
    context = _Context(market, shop, view, base_url.rstrip("/"),
                       (other_base_url or base_url).rstrip("/"), {})
    answer = _spa(context, path)
    if answer is None or answer.status != 200 or path == "app.js":
        return answer
    data = spa_data(context)
    esc = html.escape
    match = re.search(r"(?:^|/)c/([a-z]+)/?$", path)
    menu = " ".join(f'<a class="menu-link" href="c/{p}">{esc(name)}</a>' for p, name in data["menu"])
    out = (f'<header class="app-header"><a href="./"><img class="logo" src="assets/logo.png" '
           f'alt="">{esc(data["brand"])}</a><nav>{menu}</nav></header><main>')
    if not match:
        out += (f"<h1>{esc(data['brand'])}</h1><p>Choose a platform.</p>"
                '<img src="assets/hero.jpg" alt="" width="800" height="300">')
    else:
        for product in data["products"]:
            if product["platform"] != match.group(1):
                continue
            out += (f'<h2 class="product-title">{esc(product["title"])}</h2><section class="'
                    f'{"pricing-table" if data["alt"] else "packages"}">')
            for card in product["cards"]:
                out += _spa_card(card, data)
            out += "</section>"
    shell = answer.body.decode("utf-8")
    body = shell.replace('<div id="root"></div>', f'<div id="root">{out}</main></div>', 1)
    return ShopResponse(200, body.encode("utf-8"))


def _spa_card(card: dict[str, Any], data: dict[str, Any]) -> str:
    """One card as ``_SPA_SCRIPT`` writes it."""
    esc = html.escape
    quantity = f"<strong>{esc(card['number'])}</strong>" + (
        f" {esc(card['unit'])}" if card["unit"] else "")
    if data["alt"]:
        cost = ("<em>Temporarily unavailable</em>" if card["price"] is None else
                (f"<s>{esc(card['compare'])}</s> " if card["compare"] else "")
                + esc(card["price"]))
        return (f'<div class="plan" data-package="{esc(card["id"])}"><span class="plan-name">'
                f'{esc(card["label"])}</span><p class="plan-amount">{quantity}</p>'
                f'<p class="plan-cost">{cost}</p><button type="button">Order</button></div>')
    price = ('<span class="unavailable">Temporarily unavailable</span>' if card["price"] is None
             else (f'<del class="compare">{esc(card["compare"])}</del> ' if card["compare"]
                   else "") + f'<span class="amount">{esc(card["price"])}</span>')
    features = "".join(f"<li>{esc(feature)}</li>" for feature in data["features"])
    return (f'<div class="package-card{" popular" if card["popular"] else ""}" '
            f'data-package="{esc(card["id"])}">'
            + ('<div class="ribbon">Most Popular</div>' if card["popular"] else "")
            + f'<h3 class="package-title">{esc(card["label"])}</h3><div class="package-quantity">'
            f'{quantity}</div><div class="package-price">{price}</div><ul class="features">'
            f'{features}</ul><a class="btn btn-buy" href="checkout?package='
            f'{quote(card["id"], safe="")}">Buy Now</a></div>')


def _spa(context: _Context, path: str) -> ShopResponse | None:
    clean = path.rstrip("/")
    if path in ("", "index.html"):
        return ShopResponse(200, _spa_shell(context, context.shop.brand).encode())
    if clean.startswith("c/"):
        platform = clean[2:]
        products = [p for p in context.products() if p.platform == platform]
        if not products:
            return None
        if any(_redirected(context, product, None) for product in products):
            return context.redirect(path)
        return ShopResponse(200, _spa_shell(context, context.shop.brand).encode())
    if path == "app.js":
        data = json.dumps(spa_data(context), ensure_ascii=False, separators=(",", ":"))
        encoded = base64.b64encode(data.encode("utf-8")).decode("ascii")
        script = _SPA_SCRIPT % {"data": encoded}
        return ShopResponse(200, script.encode("utf-8"), JAVASCRIPT)
    return None
