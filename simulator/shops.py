"""Simulated retail "buy followers" shops: packages resold from panel services at retail markups.

A shop buys from one upstream panel (``shop.upstream_id``) and sells 5-15 products (a platform x
metric such as "Instagram Followers"), each in 3-8 quantity tiers ("1,000 Followers"). A tier's
price is the upstream's USD rate per 1000 x quantity x the shop's markup (x4-x10, less for the
bigger tiers, never below x3), converted with the shop owner's fixed rate
(``calibration.PANEL_FX_PER_USD``) and rounded to a "nice" retail price (12.99, 27, 29.90). Some
tiers show a compare-at price 20-50 % above.

Kinds of shop software (``Shop.kind``) and the config family that crawls them:

====================  ===============  ==================================================
kind                  config family    served as (see ``shop_pages``)
====================  ===============  ==================================================
``shopify``           ``shopify``      ``products.json`` paging, variants, ``cart.js``
``woocommerce``       ``woocommerce``  Store API, minor units, simple + variable products
``jsonld``            ``storefront``   product pages with schema.org JSON-LD
``cards``             ``storefront``   product pages with package cards (no structured data)
``spa``               ``spa``          a JavaScript shell; cards exist only in the rendered DOM
====================  ===============  ==================================================

Daily dynamics (``ShopBook.advance_day``): a product reprices when its upstream's rate moved by
more than ``REPRICE_THRESHOLD`` since the product was last priced; products sometimes vanish,
come back, or are added. Everything is deterministic from the seed: each shop draws from its own
streams ``"<seed>/shop-03/catalog"``, ``".../dynamics"``.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from simulator import calibration as cal
from simulator.randomness import poisson

if TYPE_CHECKING:  # pragma: no cover
    from simulator.model import Service, Site

SHOP_KINDS: tuple[str, ...] = ("shopify", "woocommerce", "jsonld", "cards", "spa")
SHOP_PLAN: tuple[str, ...] = (
    "shopify", "woocommerce", "jsonld", "cards", "spa",
    "shopify", "woocommerce", "jsonld", "cards", "shopify",
)  # fmt: skip
"""Kinds of ``shop-01`` .. ``shop-10`` (a small ``n_shops`` still covers every kind)."""
CONFIG_FAMILY: dict[str, str] = {
    "shopify": "shopify",
    "woocommerce": "woocommerce",
    "jsonld": "storefront",
    "cards": "storefront",
    "spa": "spa",
}
SHOP_CURRENCY_PLAN: tuple[str, ...] = ("USD",) * 6 + ("EUR", "EUR", "GBP", "BRL")
"""Currencies of the first ten shops (shuffled per seed)."""
UNLISTED_PLANNED = 3
"""Shops among ``shop-06`` .. ``shop-10`` left out of the exported config (found by discovery)."""

RETAIL_FX_PER_USD = cal.PANEL_FX_PER_USD
REPRICE_THRESHOLD = Decimal("0.08")
"""A product reprices when its upstream rate moved by more than 8 % since it was priced."""
MIN_MARKUP = Decimal(3)
_VANISH_RATE = 0.01
_RETURN_RATE = 0.15
_NEW_PRODUCT_RATE = 0.03
DAILY_ORDERS_MEDIAN = 25.0
"""A retail shop's typical number of end-customer orders per day (times a heavy-tailed
per-shop multiplier, see ``simulator.generation.volume_multiplier``)."""
_MAX_PRODUCTS = 15

RETAIL_PRODUCTS: tuple[tuple[str, str, float], ...] = (
    ("instagram", "followers", 6), ("instagram", "likes", 5), ("instagram", "views", 3),
    ("instagram", "comments", 1.5), ("instagram", "story_views", 1),
    ("tiktok", "followers", 5), ("tiktok", "likes", 4), ("tiktok", "views", 4),
    ("tiktok", "shares", 1), ("youtube", "views", 4), ("youtube", "subscribers", 3),
    ("youtube", "likes", 2), ("twitter", "followers", 2.5), ("twitter", "likes", 1.5),
    ("twitter", "retweets", 1), ("facebook", "followers", 2), ("facebook", "likes", 1.5),
    ("spotify", "plays", 2.5), ("spotify", "followers", 1.5), ("spotify", "listeners", 1),
    ("telegram", "members", 2), ("twitch", "followers", 1.5), ("soundcloud", "plays", 1),
    ("linkedin", "followers", 1),
)  # fmt: skip
"""(platform, metric, how often shops sell it)."""
CORE_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("instagram", "followers"), ("instagram", "likes"), ("tiktok", "views"),
)  # fmt: skip
"""Every shop sells these when its upstream has them (so every shop has a views product)."""
PLATFORM_NAMES: dict[str, str] = {
    "instagram": "Instagram", "tiktok": "TikTok", "youtube": "YouTube", "twitter": "Twitter",
    "facebook": "Facebook", "spotify": "Spotify", "telegram": "Telegram", "twitch": "Twitch",
    "soundcloud": "SoundCloud", "linkedin": "LinkedIn",
}  # fmt: skip
METRIC_NAMES: dict[str, str] = {
    "followers": "Followers", "likes": "Likes", "views": "Views", "comments": "Comments",
    "story_views": "Story Views", "shares": "Shares", "subscribers": "Subscribers",
    "retweets": "Retweets", "plays": "Plays", "listeners": "Monthly Listeners",
    "members": "Members",
}  # fmt: skip
_TIER_QUANTITIES: dict[str, tuple[int, ...]] = {
    "followers": (100, 250, 500, 1000, 1500, 2500, 5000, 10000, 25000, 50000),
    "likes": (50, 100, 250, 500, 1000, 1500, 2500, 5000, 10000),
    "views": (500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000),
    "comments": (5, 10, 25, 50, 100, 250),
    "small": (50, 100, 250, 500, 1000, 1500, 2500, 5000),
}
_BIG_METRICS = frozenset({"views", "plays", "story_views", "listeners"})
_SMALL_METRICS = frozenset({"subscribers", "members", "shares", "retweets"})
TIER_LABELS: tuple[str, ...] = (
    "STARTER", "BASIC", "PLUS", "PRO", "PREMIUM", "ELITE", "ULTIMATE", "MEGA",
)  # fmt: skip
TITLE_TEMPLATES: tuple[str, ...] = (
    "Buy {platform} {metric}", "{platform} {metric}", "Real {platform} {metric}",
    "{platform} {metric} - Instant Delivery",
)  # fmt: skip
QUANTITY_STYLES: tuple[str, ...] = ("plain", "comma", "short_upper", "short_lower", "space")
CARD_QUANTITY_STYLES: tuple[str, ...] = ("comma", "short_upper", "short_lower", "space")
JSONLD_SHAPES: tuple[str, ...] = ("offer_list", "aggregate", "graph", "single")
"""``single``: one page per package, Product with one Offer; ``offer_list``: Product with a list
of Offers; ``aggregate``: AggregateOffer with nested offers; ``graph``: ``@graph`` wrapper."""

# Retail money conventions: symbol, position, gap, decimal separator, thousands separator.
MONEY_CONVENTIONS: dict[str, tuple[str, str, str, str, str]] = {
    "USD": ("$", "prefix", "", ".", ","),
    "EUR": ("€", "suffix", " ", ",", "."),
    "GBP": ("£", "prefix", "", ".", ","),
    "BRL": ("R$", "prefix", " ", ",", "."),
}
_PRICE_STYLES: dict[str, tuple[tuple[str, float], ...]] = {
    "USD": (("cents99", 0.6), ("whole", 0.4)),
    "EUR": (("cents99", 0.6), ("whole", 0.4)),
    "GBP": (("cents99", 1.0),),
    "BRL": (("cents90", 0.7), ("whole", 0.3)),
}
BRAND_HEADS = (
    "Grow", "Fame", "Buzz", "Viral", "Insta", "Tok", "Rise", "Hype", "Spark", "Glow", "Follower",
    "Gram", "Social", "Stellar", "Likes",
)  # fmt: skip
BRAND_TAILS = ("ly", "ify", "Hub", "Store", "Shop", "Up", "Kart", "Pro", "Media", "Wave", "Nest")
CENT = Decimal("0.01")


def money_text(value: Decimal, currency: str, *, whole: bool = False, symbol: bool = True) -> str:
    """A retail price as a shop shows it: ``$1,299.99``, ``12,99 €``, ``R$ 29,90``, ``£9.99``
    (``$27`` for shops that price in whole units); ``symbol=False`` writes the number alone."""
    sign, position, gap, decimal_separator, thousands = MONEY_CONVENTIONS[currency]
    text = f"{value:.0f}" if whole and value == value.to_integral_value() else f"{value:.2f}"
    integer, _, fraction = text.partition(".")
    groups = []
    while len(integer) > 3:
        groups.append(integer[-3:])
        integer = integer[:-3]
    number = thousands.join([integer, *reversed(groups)])
    if fraction:
        number += decimal_separator + fraction
    if not symbol:
        return number
    return f"{sign}{gap}{number}" if position == "prefix" else f"{number}{gap}{sign}"


def quantity_text(quantity: int, style: str) -> str:
    """``1000`` in a shop's style: ``1000``, ``1,000``, ``1K``, ``1.5k``, ``10 000`` (millions
    are ``1M`` in both short styles)."""
    if style in ("short_upper", "short_lower") and quantity >= 1000:
        for divisor, suffix in ((1_000_000, "M"), (1000, "K")):
            if quantity >= divisor:
                number = f"{quantity / divisor:.1f}".rstrip("0").rstrip(".")
                return number + (suffix.lower() if style == "short_lower" and suffix == "K" else suffix)
    if style == "comma":
        return f"{quantity:,}"
    if style == "space":
        return f"{quantity:,}".replace(",", " ")
    return str(quantity)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def nice_price(value: Decimal, style: str) -> Decimal:
    """Round to a retail price point: 12.99 (``cents99``), 29.90 (``cents90``) or 27 (``whole``)."""
    units = max(Decimal(1), value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if style == "cents99":
        return units - CENT
    if style == "cents90":
        return units - Decimal("0.10")
    return units


# --- model -----------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class ShopTier:
    """One package of a product: a quantity at a price."""

    quantity: int
    label: str
    offer_number: int
    """Shopify variant id, WooCommerce variation (or simple product) id."""
    compare_ratio: Decimal | None
    price: Decimal = Decimal(0)
    compare_at: Decimal | None = None
    popular: bool = False


@dataclass(slots=True, eq=False)
class ShopProduct:
    """One product (platform x metric) of a shop with its quantity tiers."""

    slug: str
    title: str
    platform: str
    metric: str
    upstream_service_id: str
    basis_usd_per_1000: Decimal
    """The upstream's USD rate per 1000 the current prices were computed from."""
    tiers: list[ShopTier]
    product_number: int
    """Shopify product id or WooCommerce product id."""
    quantity_style: str
    jsonld_shape: str
    woo_simple: bool
    """WooCommerce: one simple product per package instead of one variable product."""
    created_day: int
    active: bool = True

    @property
    def metric_name(self) -> str:
        return METRIC_NAMES[self.metric]

    @property
    def platform_name(self) -> str:
        return PLATFORM_NAMES[self.platform]


@dataclass(slots=True, eq=False)
class Shop:
    """One simulated retail shop."""

    shop_id: str
    index: int
    kind: str
    brand: str
    handle: str
    """Store handle: ``<handle>.myshopify.com``, WordPress site name, ..."""
    currency: str
    price_style: str
    upstream_id: str
    markup: Decimal
    in_config: bool
    title_template: str
    quantity_style: str
    compare_share: float
    asset_hash: str
    products: dict[str, ShopProduct] = field(default_factory=dict)
    rng_catalog: random.Random = field(default_factory=random.Random)
    rng_dynamics: random.Random = field(default_factory=random.Random)
    next_number: int = 0
    rng_orders: random.Random = field(default_factory=random.Random)
    tier_shift: int = 0
    """Steps the package sizes move along their table (the market's order-size shape: buyers
    of a market of small orders get smaller packages)."""
    daily_orders_mean: float = 0.0
    """End customers' package orders per day (on average)."""

    @property
    def config_family(self) -> str:
        return CONFIG_FAMILY[self.kind]

    @property
    def whole_prices(self) -> bool:
        return self.price_style == "whole"

    def active_products(self) -> list[ShopProduct]:
        return [product for product in self.products.values() if product.active]

    def offer_id(self, product: ShopProduct, tier: ShopTier) -> str:
        """The id a crawler sees for a package (see module docs of ``shop_pages``)."""
        if self.kind in ("shopify", "woocommerce"):
            return str(tier.offer_number)
        if self.kind == "jsonld":
            return f"{product.platform}-{product.metric}-{tier.quantity}".upper()
        return f"{product.slug}/{tier.quantity}"

    def tier_quantity_text(self, product: ShopProduct, tier: ShopTier) -> str:
        """The quantity as the shop writes it (a Woo simple product's whole name)."""
        number = quantity_text(tier.quantity, product.quantity_style)
        if self.kind == "woocommerce" and product.woo_simple:
            return f"{number} {product.platform_name} {product.metric_name}"
        if self.kind == "jsonld" and product.jsonld_shape == "single":
            return f"{number} {product.platform_name} {product.metric_name}"
        return f"{number} {product.metric_name}"

    def money(self, value: Decimal, *, symbol: bool = True) -> str:
        return money_text(value, self.currency, whole=self.whole_prices, symbol=symbol)


# --- building --------------------------------------------------------------------------------


def usd_rate_per_1000(upstream: Site, service: Service) -> Decimal:
    """The upstream's rate per 1000 in USD at the upstream's own fixed rate."""
    return service.rate / Decimal(str(cal.PANEL_FX_PER_USD[upstream.currency]))


def retail_candidates(upstream: Site) -> dict[tuple[str, str], list[Service]]:
    """Per retail (platform, metric): the upstream's active per-1000 services, cheapest first
    (services for one country last: shops sell the worldwide kind)."""
    wanted = {(platform, metric) for platform, metric, _ in RETAIL_PRODUCTS}
    found: dict[tuple[str, str], list[Service]] = {}
    for service in upstream.ordered_services():
        key = (service.platform, service.metric)
        if key in wanted and service.pricing == "per_1000" and service.rate > 0:
            found.setdefault(key, []).append(service)
    for services in found.values():
        services.sort(key=lambda s: (s.traits.country is not None, s.rate, s.service_id))
    return found


def choose_upstream(rng: random.Random, panels: list[Site]) -> Site:
    """Shops buy from panels with a broad catalogue (the big ones more often)."""
    broad = [site for site in panels if len(retail_candidates(site)) >= 8] or panels
    weights = [math.sqrt(len(site.services)) for site in broad]
    return rng.choices(broad, weights=weights)[0]


def build_products(shop: Shop, upstream: Site, day: int, *, count: int) -> None:
    """Give a new shop its first ``count`` products."""
    candidates = retail_candidates(upstream)
    rng = shop.rng_catalog
    chosen = [key for key in CORE_PRODUCTS if key in candidates]
    others = [(p, m, w) for p, m, w in RETAIL_PRODUCTS if (p, m) in candidates and (p, m) not in chosen]
    while len(chosen) < count and others:
        pick = rng.choices(others, weights=[w for _, _, w in others])[0]
        others.remove(pick)
        chosen.append((pick[0], pick[1]))
    for platform, metric in chosen:
        add_product(shop, upstream, platform, metric, candidates[(platform, metric)], day)


def add_product(
    shop: Shop, upstream: Site, platform: str, metric: str, services: list[Service], day: int
) -> ShopProduct:
    """Create one product with its tiers and prices (drawn from the shop's catalogue stream)."""
    rng = shop.rng_catalog
    service = rng.choice(services[:3])
    basis = usd_rate_per_1000(upstream, service)
    title = shop.title_template.format(platform=PLATFORM_NAMES[platform], metric=METRIC_NAMES[metric])
    position = len(shop.products)
    if shop.kind in ("cards", "spa"):
        # the first views-like product shows 1K .. 1M, the others rotate through every style
        if metric in _BIG_METRICS and not any(
            p.quantity_style == "short_upper" for p in shop.products.values()
        ):
            style = "short_upper"
        else:
            style = CARD_QUANTITY_STYLES[position % len(CARD_QUANTITY_STYLES)]
    elif shop.kind == "jsonld":
        style = "comma" if rng.random() < 0.7 else "plain"
    else:
        style = shop.quantity_style
    quantities = _tier_quantities(rng, shop, metric, basis, storefront_big=shop.kind in ("cards", "spa"))
    tiers = []
    popular = len(quantities) // 2
    for number, quantity in enumerate(quantities):
        ratio = None
        if rng.random() < shop.compare_share:
            ratio = Decimal(str(round(rng.uniform(1.22, 1.48), 2)))
        tiers.append(
            ShopTier(
                quantity=quantity,
                label=TIER_LABELS[number],
                offer_number=_next_number(shop, rng),
                compare_ratio=ratio,
                popular=number == popular,
            )
        )
    product = ShopProduct(
        slug=slugify(title),
        title=title,
        platform=platform,
        metric=metric,
        upstream_service_id=service.service_id,
        basis_usd_per_1000=basis,
        tiers=tiers,
        product_number=_product_number(shop, rng),
        quantity_style=style,
        jsonld_shape=JSONLD_SHAPES[position % len(JSONLD_SHAPES)],
        woo_simple=shop.kind == "woocommerce" and position % 3 == 2,
        created_day=day,
    )
    price_product(shop, product)
    shop.products[product.slug] = product
    return product


def _next_number(shop: Shop, rng: random.Random) -> int:
    if shop.kind == "shopify":
        return rng.randint(40_000_000_000_000, 49_999_999_999_999)
    # WordPress post ids: one sequence with gaps (drafts, deleted posts)
    shop.next_number += 1 if rng.random() < 0.8 else rng.randint(2, 9)
    return shop.next_number


def _product_number(shop: Shop, rng: random.Random) -> int:
    if shop.kind == "shopify":
        return rng.randint(7_000_000_000_000, 8_999_999_999_999)
    return _next_number(shop, rng)


def _tier_quantities(
    rng: random.Random, shop: Shop, metric: str, basis: Decimal, *, storefront_big: bool
) -> list[int]:
    if metric in _BIG_METRICS:
        table = _TIER_QUANTITIES["views"]
    elif metric in _SMALL_METRICS:
        table = _TIER_QUANTITIES["small"]
    else:
        table = _TIER_QUANTITIES.get(metric, _TIER_QUANTITIES["small"])
    retail_per_1000 = float(basis * shop.markup)
    floor_usd = rng.uniform(2.5, 6.0)
    for _ in range(4):
        # a very cheap service is sold in bigger packages (5000 comments rather than 5)
        if table[-3] * retail_per_1000 / 1000 >= floor_usd:
            break
        table = tuple(quantity * 10 for quantity in table)
    start = next(
        (i for i, q in enumerate(table) if q * retail_per_1000 / 1000 >= floor_usd), len(table) - 3
    )
    start = min(start, len(table) - 3)
    length = rng.randint(3, 8)
    # Shops size their packages to what their buyers order (the market's order-size shape):
    # the tiers move a few steps along the same table of nice quantities.
    shift = shop.tier_shift
    if shift > 0:
        table = table + tuple(q * 10 for q in table if q * 10 > table[-1])
    if storefront_big and metric in _BIG_METRICS:
        end = min(len(table), max(3, (len(table) if shift <= 0 else start + length) + shift))
        begin = min(max(start, end - length), end - 3)
        return list(table[begin:end])
    start = min(max(0, start + shift), len(table) - 3)
    return list(table[start : start + length])


def price_product(shop: Shop, product: ShopProduct) -> None:
    """(Re)compute every tier price from ``product.basis_usd_per_1000``."""
    fx = Decimal(str(RETAIL_FX_PER_USD[shop.currency]))
    count = len(product.tiers)
    previous = Decimal(0)
    step = Decimal(1) if shop.whole_prices else CENT
    for number, tier in enumerate(product.tiers):
        discount = Decimal(1) - Decimal("0.35") * number / max(1, count - 1)
        markup = max(MIN_MARKUP, shop.markup * discount)
        local = product.basis_usd_per_1000 * tier.quantity / 1000 * markup * fx
        price = nice_price(local, shop.price_style)
        if price <= previous:  # bigger packages always cost more
            price = previous + step
        tier.price = price
        previous = price
        tier.compare_at = None
        if tier.compare_ratio is not None:
            compare = nice_price(price * tier.compare_ratio, shop.price_style)
            tier.compare_at = compare if compare > price else price + step


# --- daily dynamics --------------------------------------------------------------------------


def advance_shop(shop: Shop, upstream: Site, day: int) -> None:
    """One simulated day of a shop (called after the upstream's prices for ``day`` are set)."""
    rng = shop.rng_dynamics
    for product in shop.products.values():
        roll = rng.random()
        if product.active and roll < _VANISH_RATE:
            product.active = False
            continue
        if not product.active:
            if roll < _RETURN_RATE:
                product.active = True
            else:
                continue
        service = upstream.services.get(product.upstream_service_id)
        if service is None or not service.active:
            continue  # the shop keeps its prices while its supplier is out of stock
        basis = usd_rate_per_1000(upstream, service)
        moved = abs(basis / product.basis_usd_per_1000 - 1)
        if moved > REPRICE_THRESHOLD:
            product.basis_usd_per_1000 = basis
            price_product(shop, product)
    if rng.random() < _NEW_PRODUCT_RATE and len(shop.products) < _MAX_PRODUCTS:
        candidates = retail_candidates(upstream)
        missing = [
            (p, m, w)
            for p, m, w in RETAIL_PRODUCTS
            if (p, m) in candidates
            and not any(x.platform == p and x.metric == m for x in shop.products.values())
        ]
        if missing:
            platform, metric, _ = rng.choices(missing, weights=[w for _, _, w in missing])[0]
            add_product(shop, upstream, platform, metric, candidates[(platform, metric)], day)


def daily_sales(shop: Shop, mean: float) -> list[tuple[ShopProduct, ShopTier, int]]:
    """One day of end-customer orders: ``(product, package, number of orders)``, one package per
    order. Small packages sell most (weight 1 / rank), the "popular" badge doubles a package's
    weight. Draws from ``shop.rng_orders`` only."""
    rng = shop.rng_orders
    packages = [
        (product, tier, (2.0 if tier.popular else 1.0) / (rank + 1))
        for product in shop.active_products()
        for rank, tier in enumerate(sorted(product.tiers, key=lambda t: t.quantity))
    ]
    if not packages or mean <= 0:
        return []
    count = poisson(rng, mean)
    if count == 0:
        return []
    picks: dict[int, int] = {}
    for index in rng.choices(range(len(packages)), weights=[w for _, _, w in packages], k=count):
        picks[index] = picks.get(index, 0) + 1
    return [(packages[i][0], packages[i][1], n) for i, n in sorted(picks.items())]


def offer_rows(shop: Shop) -> list[dict[str, Any]]:
    """Today's packages of a shop (raw values; the market adds dates and USD)."""
    rows = []
    for product in shop.active_products():
        for tier in product.tiers:
            rows.append(
                {
                    "site_offer_id": shop.offer_id(product, tier),
                    "product": product.slug,
                    "name": product.title,
                    "quantity": tier.quantity,
                    "quantity_text": shop.tier_quantity_text(product, tier),
                    "price": tier.price,
                    "compare_at_price": tier.compare_at,
                    "currency": shop.currency,
                    "platform": product.platform,
                    "metric": product.metric,
                    "upstream_service_id": product.upstream_service_id,
                }
            )
    return rows


def brand_name(rng: random.Random) -> str:
    """A retail brand such as ``GrowHub`` or ``Fameify``."""
    head, tail = rng.choice(BRAND_HEADS), rng.choice(BRAND_TAILS)
    return head + tail if tail[0].islower() or rng.random() < 0.7 else f"{head} {tail}"


def pick_price_style(rng: random.Random, currency: str) -> str:
    styles = _PRICE_STYLES[currency]
    return rng.choices([s for s, _ in styles], weights=[w for _, w in styles])[0]
