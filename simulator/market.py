"""The simulated SMM-panel market: sites, catalogues, a clock, orders, faults and ground truth.

Everything is deterministic from the seed. Every site draws from its own ``random.Random``
streams, seeded with strings such as ``"42/panel-07/orders"``, so adding a site never reshuffles
the others. The first 24 sites follow a per-seed plan (currencies, resellers, the two big panels)
so that the default market always shows every variation the crawlers must handle.

Day semantics (what the ground truth means):

- ``market.day`` is the current day (0 at construction), ``market.today`` its date.
- The catalogue and prices of day ``d`` are what every page and API shows while ``day == d``.
- The counters of day ``d`` are the values shown on day ``d``.
- ``advance()`` lets day ``d`` happen: its orders arrive at day-``d`` prices, the counters of day
  ``d + 1`` = counters of day ``d`` + the orders received on day ``d`` (a panel's own customers'
  orders plus the orders its resellers forwarded to it); then prices drift and services appear
  or vanish, giving the catalogue of day ``d + 1``.

So a crawl on day ``a`` and one on day ``b`` see counter values whose difference is the sum of
the ``counter_delta`` of days ``a .. b-1`` in the ground truth.

Retail shops (``market.shops``, see ``simulator.shops``) resell panel services; their prices of
day ``d`` follow their upstream panel's prices of day ``d``. Two directory sites and "Partners"
links on landing pages list the sellers for discovery (``simulator.directories``).

Faults (``market.inject_fault(site_id, fault, day=None, **params)``): ``day=None`` = from now on
until :meth:`Market.clear_faults`; ``day=d`` = on simulated day ``d`` only (inert before and
after, so a fault can be scheduled for a future day). Every injection is kept in the ground
truth's ``faults`` log with its parameters.

Any site (panel or shop):

- ``http_500``: every route answers 500.
- ``http_500_burst`` (``requests=3``): the first ``requests`` requests of the day answer 500
  (robots.txt excluded), then the site is normal.
- ``http_429`` (``retry_after=1``): every route answers 429 with ``Retry-After: <retry_after>``.
- ``slow`` (``seconds=SLOW_FAULT_SECONDS``): every response is delayed.
- ``truncated``: bodies cut to 60 % (valid HTTP, broken HTML/JSON).
- ``offline`` (``mode="503"`` or ``"close"``): every route, robots.txt included, answers 503 or
  has its connection closed without a response.
- ``layout_change``: panels render ``/services`` with another theme; storefront shops use
  another card markup (``jsonld`` shops drop their JSON-LD for cards); Shopify and WooCommerce
  shops switch their product API off (404, as when the app or plugin is disabled).

Panels only: ``invalid_json``, ``api_error``, ``empty_list``, ``no_table``, ``bad_values``,
``unknown_currency`` (see ``FAULTS``). Shops only (the offers each one touches are in the ground
truth, ``shops.<id>.faulted_offers``):

- ``empty_list``: the shop lists no product (also valid on panels).
- ``product_without_price``: one package shows no price.
- ``price_without_currency``: one product's prices have no currency (JSON-LD ``priceCurrency``
  missing, card prices without a symbol, WooCommerce ``currency_code`` empty; on Shopify the
  landing page and ``cart.js`` lose the shop currency).
- ``unreadable_quantity``: one package is titled ``"Mega pack"``.
- ``endless_pagination``: Shopify/WooCommerce product pages never end (every page returns
  products, ``X-WP-TotalPages: 9999``); storefront landing pages always link a next page.
- ``offsite_redirect``: storefront: one product link answers 302 to the same path on another
  host (``localhost`` vs ``127.0.0.1``); Shopify/WooCommerce: page 2 of the product list does.
- ``broken_jsonld``: every JSON-LD block of a ``jsonld`` shop is invalid.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from itertools import accumulate
from pathlib import Path
from typing import Any

from simulator import calibration as cal
from simulator import shops as shop_model
from simulator.directories import DiscoveryPlan, plan_discovery
from simulator.names import (
    COUNTRIES,
    NameStyle,
    ServiceTraits,
    average_time,
    brand_name,
    category_name,
    description,
    random_name_style,
    sample_traits,
    service_name,
)

DEFAULT_START_DATE = date(2026, 9, 1)
THEMES: tuple[str, ...] = ("pp_classic", "pp_modern", "smartpanel")
FAMILIES: tuple[str, ...] = ("smm_api", "smm_html")

FAULTS: frozenset[str] = frozenset(
    {
        # required by the bad-input tests
        "invalid_json",  # API payload with trailing commas
        "api_error",  # {"error": "Service temporarily unavailable"}
        "empty_list",  # API [] and a page with an empty table
        "no_table",  # services page replaced by a maintenance page
        "bad_values",  # a handful of services with rate -1 / NaN / abc / 999999999 / min > max
        "http_500",  # every route of the site answers 500
        "unknown_currency",  # balance currency "XBT", page symbol "¤"
        # extras (DESIGN.md "faults"): politeness and robustness tests
        "http_429",  # 429 with Retry-After: 1
        "slow",  # responses delayed by SLOW_FAULT_SECONDS
        "truncated",  # body cut to 60 % (valid HTTP, broken HTML/JSON)
        "layout_change",  # the services page is rendered with another theme
        # issue 4: per-site, per-day operational faults
        "offline",  # 503 (or a closed connection) on every route, robots.txt included
        "http_500_burst",  # the first N requests of the day answer 500
        # retail shops (bad input, issue 3)
        "product_without_price",
        "price_without_currency",
        "unreadable_quantity",
        "endless_pagination",
        "offsite_redirect",
        "broken_jsonld",
    }
)
COMMON_FAULTS: frozenset[str] = frozenset(
    {"http_500", "http_500_burst", "http_429", "slow", "truncated", "offline", "layout_change"}
)
"""Faults every site (panel or shop) supports."""
PANEL_FAULTS: frozenset[str] = COMMON_FAULTS | {
    "invalid_json", "api_error", "empty_list", "no_table", "bad_values", "unknown_currency",
}  # fmt: skip
SHOP_FAULTS: frozenset[str] = COMMON_FAULTS | {
    "empty_list", "product_without_price", "price_without_currency", "unreadable_quantity",
    "endless_pagination", "offsite_redirect", "broken_jsonld",
}  # fmt: skip
SHOP_FAULT_KINDS: dict[str, frozenset[str]] = {
    "endless_pagination": frozenset({"shopify", "woocommerce", "jsonld", "cards"}),
    "broken_jsonld": frozenset({"jsonld"}),
}
"""Shop faults that only make sense for some kinds of shop software."""
SLOW_FAULT_SECONDS = 1.5
_OFFER_FAULTS = frozenset(
    {"product_without_price", "price_without_currency", "unreadable_quantity", "offsite_redirect"}
)
_USD_QUANTUM = Decimal("0.000001")
FAULT_PARAMS: dict[str, dict[str, Any]] = {
    "http_429": {"retry_after": 1},
    "http_500_burst": {"requests": 3},
    "slow": {"seconds": SLOW_FAULT_SECONDS},
    "offline": {"mode": "503"},
}
"""Keyword parameters of :meth:`Market.inject_fault` per fault, with their defaults."""
OFFLINE_MODES = ("503", "close")
BAD_VALUE_KINDS: tuple[str, ...] = (
    "negative_rate",
    "nan_rate",
    "text_rate",
    "absurd_rate",
    "min_gt_max",
)
_BAD_RATE_TEXT = {
    "negative_rate": "-1",
    "nan_rate": "NaN",
    "text_rate": "abc",
    "absurd_rate": "999999999",
}

# Plan of the first 24 sites (indexes are 0-based).
_PLANNED_SITES = 24
_PLANNED_RESELLERS = 6
_PLANNED_BIG_PANELS = 2

# Daily dynamics (assumptions: "most prices unchanged day to day, a few % change").
_REMOVE_RATE = 0.002
_REINSTATE_RATE = 0.04
_NEW_SERVICE_RATE = 0.002
_CATEGORY_REPRICE_RATE = 0.01
# Trait price effects (about exp(0.15) on average) and reseller markups (a quarter of the rows at
# x1.2-2.2) lift the pooled medians by about exp(0.3); dividing by it keeps the
# medians per class on the calibrated values.
_TRAIT_COMPENSATION = math.exp(-0.3)


# --- Styles ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiStyle:
    """How one panel's API v2 ``services`` payload varies from the textbook shape."""

    service_id_as_string: bool
    quantities_as_string: bool
    bool_style: str
    """``json`` (true/false), ``int`` (1/0) or ``string`` ("1"/"0")."""
    include_dripfeed: bool
    include_refill: bool
    include_cancel: bool
    description_field: str | None
    """``desc``, ``description`` or None."""
    lowercase_types: bool
    """``custom_comments`` instead of ``Custom Comments``."""
    rate_style: str
    """``plain`` ("0.90"), ``padded8`` ("0.90000000") or ``number`` (0.9, a JSON number)."""
    include_average_time: bool
    escape_unicode: bool
    """PHP ``json_encode`` defaults: ``\\uXXXX`` escapes and ``\\/``."""
    stores_escaped_names: bool
    """Names stored HTML-escaped: the API shows ``&amp;`` and the page ``&amp;amp;``."""


@dataclass(frozen=True, slots=True)
class MoneyFormat:
    """How a services page writes a rate: symbol, separators."""

    symbol: str
    position: str
    """``prefix``, ``suffix`` or ``none``."""
    space: bool
    decimal_separator: str
    thousands_separator: str

    def format(self, value: Decimal, decimals: int, *, symbol: str | None = None) -> str:
        """Format exactly ``decimals`` digits (never rounding away a digit the API shows)."""
        text = f"{value:.{decimals}f}"
        negative = text.startswith("-")
        integer, _, fraction = text.lstrip("-").partition(".")
        integer = _group_thousands(integer, self.thousands_separator)
        number = integer + (self.decimal_separator + fraction if fraction else "")
        if negative:
            number = "-" + number
        return self.decorate(number, symbol=symbol)

    def decorate(self, number: str, *, symbol: str | None = None) -> str:
        shown = self.symbol if symbol is None else symbol
        if self.position == "none" and symbol is None:
            return number
        gap = " " if self.space else ""
        if self.position == "suffix":
            return f"{number}{gap}{shown}"
        return f"{shown}{gap}{number}"


def _group_thousands(digits: str, separator: str) -> str:
    if not separator or len(digits) <= 3:
        return digits
    groups = []
    while len(digits) > 3:
        groups.append(digits[-3:])
        digits = digits[:-3]
    groups.append(digits)
    return separator.join(reversed(groups))


@dataclass(frozen=True, slots=True)
class PageStyle:
    """How one panel's public pages look."""

    theme: str
    header_set: str
    """Key of ``themes.HEADER_SETS``: ``en``, ``en_renamed``, ``en_caps``, ``tr``, ``es``, ``pt``, ``id``."""
    favourite_star: bool
    show_average_time: bool
    show_description: bool
    quantity_thousands: str
    money: MoneyFormat
    counter_style: int
    show_customers: bool
    show_starting_price: bool
    asset_hash: str

    def format_quantity(self, value: int) -> str:
        return _group_thousands(str(value), self.quantity_thousands)


# --- Catalogue model -------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Service:
    """One service of one site. ``rate`` is per 1000 units, or per package for ``Package``."""

    service_id: str
    name: str
    category: str
    traits: ServiceTraits
    service_type: str
    min_quantity: int
    max_quantity: int
    rate: Decimal
    description: str
    average_time: str
    refill: bool
    cancel: bool
    dripfeed: bool
    popularity: float
    created_day: int
    position: int
    active: bool = True
    upstream_service_id: str | None = None
    order_sizes: tuple[int, ...] = ()
    order_cum_weights: tuple[float, ...] = ()

    @property
    def platform(self) -> str:
        return self.traits.platform

    @property
    def metric(self) -> str:
        return self.traits.metric

    @property
    def pricing(self) -> str:
        return "package" if self.service_type == "Package" else "per_1000"


@dataclass(slots=True, eq=False)
class Site:
    """One simulated seller: a panel or a reseller panel."""

    site_id: str
    index: int
    kind: str
    """``panel`` or ``reseller``."""
    brand: str
    currency: str
    decimals: int
    language: str
    theme: str
    family: str
    name_style: NameStyle
    api_style: ApiStyle
    page_style: PageStyle
    upstream_id: str | None
    markup: Decimal | None
    coverage: float
    reseller_prefix: str | None
    price_level: float
    change_rate: float
    daily_orders_mean: float
    counter_orders: int
    counter_customers: int
    balance: str
    next_service_number: int
    services: dict[str, Service] = field(default_factory=dict)
    category_order: dict[str, int] = field(default_factory=dict)
    platform_order: dict[str, int] = field(default_factory=dict)
    considered_upstream: set[str] = field(default_factory=set)
    rng_catalog: random.Random = field(default_factory=random.Random)
    rng_drift: random.Random = field(default_factory=random.Random)
    rng_orders: random.Random = field(default_factory=random.Random)
    _ordered_cache: list[Service] | None = None

    @property
    def api_key_env(self) -> str:
        return "CLICKFARM_KEY_" + self.site_id.upper().replace("-", "_")

    def unit(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)

    def quantize(self, value: Decimal) -> Decimal:
        """Round to the panel's decimals, never below one unit of the last digit."""
        unit = self.unit()
        rounded = value.quantize(unit, rounding=ROUND_HALF_UP)
        return max(rounded, unit)

    def format_rate(self, rate: Decimal) -> str:
        return f"{rate:.{self.decimals}f}"

    def ordered_services(self, *, active_only: bool = True) -> list[Service]:
        """Services in display order: grouped by platform, then category, then creation order
        (categories of one platform sit together, as on real panels)."""
        if active_only and self._ordered_cache is not None:
            return self._ordered_cache
        ordered = sorted(
            (s for s in self.services.values() if s.active or not active_only),
            key=lambda s: (
                self.platform_order[s.platform],
                self.category_order[s.category],
                s.position,
            ),
        )
        if active_only:
            self._ordered_cache = ordered
        return ordered

    def touch(self) -> None:
        """Forget the cached display order after the catalogue changed."""
        self._ordered_cache = None


# --- Helpers ---------------------------------------------------------------------------------


def _stream(seed: int, *parts: object) -> random.Random:
    return random.Random("/".join([str(seed), *map(str, parts)]))


def _weighted(rng: random.Random, pairs: Iterable[tuple[Any, float]]) -> Any:
    items = list(pairs)
    return rng.choices([value for value, _ in items], weights=[w for _, w in items])[0]


def _two_piece_lognormal(rng: random.Random, price_class: cal.PriceClass) -> float:
    z = rng.gauss(0.0, 1.0)
    sigma = price_class.sigma_low if z < 0 else price_class.sigma_high
    return price_class.median_usd * math.exp(sigma * z)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _to_decimal(value: float) -> Decimal:
    return Decimal(f"{value:.12f}")


def _trait_price_factor(traits: ServiceTraits) -> float:
    factor = 1.0
    if traits.refill_days:
        factor *= 1.25 if traits.refill_days < 365 else 1.4
    elif traits.refill_days == 0:
        factor *= 0.85
    factor *= {"hq": 1.2, "real": 1.35, "premium": 1.5, "lq": 0.7, "bot": 0.6, "mixed": 0.9}.get(
        traits.quality or "", 1.0
    )
    if traits.country and traits.platform != "website":
        factor *= 1.3
    if traits.non_drop:
        factor *= 1.2
    return factor * _TRAIT_COMPENSATION


def _service_type(rng: random.Random, traits: ServiceTraits) -> str:
    if traits.package_units:
        return "Package"
    word = traits.word.lower()
    if traits.metric == "comments" and ("custom" in word or rng.random() < 0.3):
        return "Custom Comments"
    if "comment likes" in word:
        return "Comment Likes"
    if "poll" in word:
        return "Poll"
    return "Default"


_FX_CONVERTER: Any = None


def usd_per_unit(currency: str, on: date) -> tuple[Decimal, str]:
    """USD value of one unit of ``currency`` on a date: ECB (currencyconverter) when it has the
    date, else the simulator's fixed panel rate. Returns (rate, source)."""
    global _FX_CONVERTER
    if currency == "USD":
        return Decimal(1), "identity"
    try:
        if _FX_CONVERTER is None:
            from currency_converter import CurrencyConverter

            _FX_CONVERTER = CurrencyConverter(
                fallback_on_missing_rate=True, fallback_on_wrong_date=False
            )
        rate = _FX_CONVERTER.convert(1, currency, "USD", date=on)
        return Decimal(str(rate)).quantize(Decimal("0.00000001")), "ecb"
    except Exception:  # date outside the bundled ECB data, or the package missing
        return Decimal(str(1 / cal.PANEL_FX_PER_USD[currency])).quantize(
            Decimal("0.00000001")
        ), "panel_fixed"


# --- The market ------------------------------------------------------------------------------


class Market:
    """A seeded market of SMM panels, reseller panels and retail shops with a simulated clock.

    ``sites`` holds the panels (``panel-01`` ..), ``shops`` the retail shops (``shop-01`` ..),
    ``discovery`` the directory sites and partner links (see ``simulator.directories``).

    Thread safety: ``lock`` guards all state; :meth:`advance`, :meth:`inject_fault` and
    :meth:`clear_faults` take it, and the HTTP server reads under it. ``version`` changes
    whenever anything visible changes (used as a render-cache key).
    """

    def __init__(
        self,
        seed: int = 42,
        n_panels: int = 24,
        start_date: date = DEFAULT_START_DATE,
        n_shops: int = 10,
    ) -> None:
        if n_panels < 1:
            raise ValueError("n_panels must be at least 1")
        if n_shops < 0:
            raise ValueError("n_shops must be >= 0")
        self.seed = seed
        self.n_panels = n_panels
        self.n_shops = n_shops
        self.start_date = start_date
        self.day = 0
        self.version = 0
        self.lock = threading.RLock()
        self.refused_order_actions = 0
        """Requests with action add/refill/cancel/status/refill_status (a crawler must send none)."""
        self.refused_order_log: list[dict[str, Any]] = []
        self.request_counts: Counter[tuple[str, str]] = Counter()
        """(site_id, route) -> number of requests served (route: api, services, landing, ...)."""
        self.sites: dict[str, Site] = {}
        self._faults: dict[str, list[tuple[str, int | None, dict[str, Any]]]] = {}
        self._burst_counts: Counter[tuple[str, int]] = Counter()
        self._fault_log: list[dict[str, Any]] = []
        self._prices: dict[str, list[dict[str, str]]] = {}
        self._orders: dict[str, list[dict[str, Any]]] = {}
        self._counters: dict[str, list[dict[str, int]]] = {}
        self._reseller_maps: dict[str, dict[str, str]] = {}
        self.shops: dict[str, shop_model.Shop] = {}
        self._shop_offers: dict[str, list[list[dict[str, Any]]]] = {}
        self._build_sites()
        for site in self.sites.values():
            self._prices[site.site_id] = [self._snapshot(site)]
            self._orders[site.site_id] = []
            self._counters[site.site_id] = [
                {"orders": site.counter_orders, "customers": site.counter_customers}
            ]
        self._build_shops()
        for shop in self.shops.values():
            self._shop_offers[shop.shop_id] = [shop_model.offer_rows(shop)]
        self.discovery: DiscoveryPlan = plan_discovery(self)

    # ----- public read API --------------------------------------------------------------------

    @property
    def today(self) -> date:
        return self.start_date + timedelta(days=self.day)

    def date_of(self, day: int) -> date:
        return self.start_date + timedelta(days=day)

    def site(self, site_id: str) -> Site:
        try:
            return self.sites[site_id]
        except KeyError:
            raise KeyError(f"no simulated site {site_id!r}") from None

    def api_key(self, site_id: str) -> str:
        """The API key that ``site_id`` accepts (deterministic from the seed)."""
        self.site(site_id)
        return hashlib.sha256(f"clickfarm-sim/{self.seed}/{site_id}".encode()).hexdigest()[:32]

    def api_key_env(self) -> dict[str, str]:
        """{environment variable: key} for every site crawled with the ``smm_api`` family."""
        return {
            site.api_key_env: self.api_key(site.site_id)
            for site in self.sites.values()
            if site.family == "smm_api"
        }

    def active_services(self, site_id: str) -> list[Service]:
        """Today's catalogue of a site, in display order."""
        return self.site(site_id).ordered_services()

    def prices(self, site_id: str, day: int | None = None) -> dict[str, Decimal]:
        """{service_id: rate} in the site's currency for a day simulated so far (default today)."""
        day = self.day if day is None else day
        if not 0 <= day <= self.day:
            raise ValueError(f"day {day} not simulated (current day {self.day})")
        return {sid: Decimal(rate) for sid, rate in self._prices[site_id][day].items()}

    def counters(self, site_id: str, day: int | None = None) -> dict[str, int]:
        """Counter values shown on the landing page on a day (default today)."""
        day = self.day if day is None else day
        return dict(self._counters[site_id][day])

    def orders(self, site_id: str, day: int) -> dict[str, Any]:
        """The orders received on a completed day (``day < market.day``)."""
        return self._orders[site_id][day]

    def offers(self, day: int | None = None) -> list[dict[str, Any]]:
        """Flat rows of every listed service on a day: truth class, rate and USD/1000 (at the
        panel's own fixed rate, see ``calibration.PANEL_FX_PER_USD``). For statistics and tests."""
        day = self.day if day is None else day
        rows = []
        for site in self.sites.values():
            fx = Decimal(str(cal.PANEL_FX_PER_USD[site.currency]))
            for sid, rate_text in self._prices[site.site_id][day].items():
                service = site.services[sid]
                rate = Decimal(rate_text)
                rows.append(
                    {
                        "site_id": site.site_id,
                        "service_id": sid,
                        "platform": service.platform,
                        "metric": service.metric,
                        "pricing": service.pricing,
                        "package_units": service.traits.package_units,
                        "rate": rate,
                        "currency": site.currency,
                        "usd_per_1000": None if service.pricing == "package" else rate / fx,
                        "kind": site.kind,
                    }
                )
        return rows

    def shop(self, shop_id: str) -> shop_model.Shop:
        try:
            return self.shops[shop_id]
        except KeyError:
            raise KeyError(f"no simulated shop {shop_id!r}") from None

    def seller_ids(self) -> list[str]:
        """Every seller: the panels, then the shops."""
        return [*self.sites, *self.shops]

    def shop_offers(self, shop_id: str, day: int | None = None) -> list[dict[str, Any]]:
        """The packages a shop sells on a day simulated so far (default today), as served.

        Each row: ``site_offer_id`` (what an extractor sees: Shopify variant id, WooCommerce
        variation id or simple product id, JSON-LD ``sku``, ``<product-slug>/<quantity>`` for
        card and JavaScript shops), ``product`` (slug), ``name``, ``quantity`` (int),
        ``quantity_text`` (as shown), ``price`` and ``compare_at_price`` (Decimal or None, shop
        currency), ``currency``, ``platform``, ``metric``, ``upstream_service_id`` and
        ``usd_per_1000`` = price / quantity x 1000 x :func:`usd_per_unit` of that date (6
        decimals, half-even, as the pipeline rounds)."""
        self.shop(shop_id)
        day = self.day if day is None else day
        if not 0 <= day <= self.day:
            raise ValueError(f"day {day} not simulated (current day {self.day})")
        rows = self._shop_offers[shop_id][day]
        if not rows:
            return []
        usd, _ = usd_per_unit(rows[0]["currency"], self.date_of(day))
        return [
            {
                **row,
                "usd_per_1000": (row["price"] / row["quantity"] * 1000 * usd).quantize(
                    _USD_QUANTUM, rounding=ROUND_HALF_EVEN
                ),
            }
            for row in rows
        ]

    def active_faults(self, site_id: str) -> frozenset[str]:
        """Faults in force on ``site_id`` today."""
        return frozenset(
            fault
            for fault, day, _ in self._faults.get(site_id, ())
            if day is None or day == self.day
        )

    def fault_params(self, site_id: str, fault: str) -> dict[str, Any]:
        """Parameters of ``fault`` in force on ``site_id`` today (defaults filled in; the
        latest injection wins)."""
        params = dict(FAULT_PARAMS.get(fault, {}))
        for name, day, given in self._faults.get(site_id, ()):
            if name == fault and (day is None or day == self.day):
                params.update(given)
        return params

    def take_burst_request(self, site_id: str) -> bool:
        """Count one request for ``http_500_burst``: True while it must still answer 500."""
        with self.lock:
            if "http_500_burst" not in self.active_faults(site_id):
                return False
            limit = int(self.fault_params(site_id, "http_500_burst")["requests"])
            key = (site_id, self.day)
            self._burst_counts[key] += 1
            return self._burst_counts[key] <= limit

    def shop_fault_targets(self, shop_id: str, fault: str, day: int | None = None) -> list[str]:
        """The ``site_offer_id`` of the packages a shop fault touches on a day (empty for the
        faults that touch the whole site). Deterministic per (seed, shop, fault, day)."""
        shop = self.shop(shop_id)
        day = self.day if day is None else day
        rows = self._shop_offers[shop_id][day]
        if not rows or fault not in _OFFER_FAULTS:
            return []
        if fault == "price_without_currency" and shop.kind == "shopify":
            return [row["site_offer_id"] for row in rows]  # the whole shop loses its currency
        if fault == "offsite_redirect" and shop.kind in ("shopify", "woocommerce"):
            return []  # page 2 of the list: which packages depends on the crawler's page size
        rng = _stream(self.seed, shop_id, "fault", fault, day)
        products = list(dict.fromkeys(row["product"] for row in rows))
        if fault in ("product_without_price", "unreadable_quantity"):
            return [rng.choice(rows)["site_offer_id"]]
        if fault == "offsite_redirect" and shop.kind == "spa":
            platform = rng.choice(sorted({row["platform"] for row in rows}))
            return [row["site_offer_id"] for row in rows if row["platform"] == platform]
        product = rng.choice(products)
        chosen = [row for row in rows if row["product"] == product]
        if (
            fault == "offsite_redirect"
            and shop.kind == "jsonld"
            and shop.products[product].jsonld_shape == "single"
        ):
            chosen = [rng.choice(chosen)]  # one page per package: one link redirects
        return [row["site_offer_id"] for row in chosen]

    def bad_value_overrides(
        self, site_id: str, day: int | None = None
    ) -> dict[str, dict[str, str]]:
        """For the ``bad_values`` fault: {service_id: {"kind", "rate"?, "min"?, "max"?}} (the
        values shown instead of the true ones). Deterministic per (seed, site, day)."""
        day = self.day if day is None else day
        site = self.site(site_id)
        ids = list(self._prices[site_id][day])
        rng = _stream(self.seed, site_id, "bad", day)
        chosen = rng.sample(ids, min(len(BAD_VALUE_KINDS), len(ids)))
        overrides: dict[str, dict[str, str]] = {}
        for sid, kind in zip(chosen, BAD_VALUE_KINDS, strict=False):
            if kind in _BAD_RATE_TEXT:
                overrides[sid] = {"kind": kind, "rate": _BAD_RATE_TEXT[kind]}
            else:
                service = site.services[sid]
                low, high = service.min_quantity, service.max_quantity
                shown_min, shown_max = (high, low) if low < high else (10, 1)
                overrides[sid] = {"kind": kind, "min": str(shown_min), "max": str(shown_max)}
        return overrides

    # ----- control ----------------------------------------------------------------------------

    def advance(self, days: int = 1) -> None:
        """Let ``days`` days happen (orders, counters, price drift, catalogue changes)."""
        if days < 0:
            raise ValueError("days must be >= 0")
        for _ in range(days):
            with self.lock:
                self._simulate_orders()
                self.day += 1
                for site in self.sites.values():
                    if site.kind == "panel":
                        self._drift(site)
                for site in self.sites.values():
                    if site.kind == "reseller":
                        self._sync_reseller(site)
                for site in self.sites.values():
                    self._prices[site.site_id].append(self._snapshot(site))
                for shop in self.shops.values():
                    shop_model.advance_shop(shop, self.sites[shop.upstream_id], self.day)
                    self._shop_offers[shop.shop_id].append(shop_model.offer_rows(shop))
                self.version += 1

    def inject_fault(
        self, site_id: str, fault: str, day: int | None = None, **params: Any
    ) -> None:
        """Make a panel or a shop misbehave: on simulated ``day`` only (inert before and after,
        so it may lie in the future), or from now on until cleared (``day=None``).

        ``params`` are the fault's keyword parameters (``FAULT_PARAMS``), e.g.
        ``inject_fault("panel-03", "http_429", day=5, retry_after=2)`` or
        ``inject_fault("shop-02", "http_500_burst", requests=4)``. See the module docstring
        for what every fault does."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
        if day is not None and day < 0:
            raise ValueError("day must be >= 0")
        unknown = set(params) - set(FAULT_PARAMS.get(fault, {}))
        if unknown:
            allowed = ", ".join(sorted(FAULT_PARAMS.get(fault, {}))) or "none"
            raise ValueError(
                f"fault {fault!r} takes no parameter {', '.join(sorted(unknown))}; "
                f"allowed: {allowed}"
            )
        if fault == "offline" and str(params.get("mode", "503")) not in OFFLINE_MODES:
            raise ValueError(f"offline mode must be one of {', '.join(OFFLINE_MODES)}")
        with self.lock:
            self._check_fault_applies(site_id, fault)
            self._faults.setdefault(site_id, []).append((fault, day, dict(params)))
            self._fault_log.append(
                {
                    "site_id": site_id,
                    "fault": fault,
                    "day": day,
                    "params": {**FAULT_PARAMS.get(fault, {}), **params},
                    "injected_on_day": self.day,
                    "cleared_on_day": None,
                }
            )
            self.version += 1

    def _check_fault_applies(self, site_id: str, fault: str) -> None:
        if site_id in self.shops:
            kind = self.shops[site_id].kind
            if fault not in SHOP_FAULTS:
                raise ValueError(f"fault {fault!r} applies to panels only, not to shop {site_id}")
            if fault in SHOP_FAULT_KINDS and kind not in SHOP_FAULT_KINDS[fault]:
                raise ValueError(f"fault {fault!r} does not apply to {kind} shops ({site_id})")
            return
        self.site(site_id)
        if fault not in PANEL_FAULTS:
            raise ValueError(f"fault {fault!r} applies to shops only, not to panel {site_id}")

    def clear_faults(self, site_id: str) -> None:
        """Remove every fault of ``site_id``."""
        with self.lock:
            if site_id not in self.shops:
                self.site(site_id)
            self._faults.pop(site_id, None)
            for entry in self._fault_log:
                if entry["site_id"] == site_id and entry["cleared_on_day"] is None:
                    entry["cleared_on_day"] = self.day
            self.version += 1

    def record_refused_order_action(self, site_id: str, action: str) -> None:
        with self.lock:
            self.refused_order_actions += 1
            self.refused_order_log.append({"site_id": site_id, "action": action, "day": self.day})

    # ----- config export ----------------------------------------------------------------------

    def sites_config(self, base_url: str) -> list[dict[str, Any]]:
        """Entries for ``config/sites.yaml`` pointing at a running simulator: every panel, then
        the shops with ``in_config`` (the others can only be found by discovery)."""
        base = base_url.rstrip("/")
        entries = [
            self._config_entry(
                base,
                site.site_id,
                site.family,
                site.currency,
                site.api_key_env if site.family == "smm_api" else None,
            )
            for site in self.sites.values()
        ]
        entries.extend(
            self._config_entry(base, shop.shop_id, shop.config_family, shop.currency, None)
            for shop in self.shops.values()
            if shop.in_config
        )
        return entries

    def shop_config(self, shop_id: str, base_url: str) -> dict[str, Any]:
        """The config entry of any shop, listed or not (what a promoted discovery becomes)."""
        shop = self.shop(shop_id)
        base = base_url.rstrip("/")
        return self._config_entry(base, shop.shop_id, shop.config_family, shop.currency, None)

    def _config_entry(
        self, base: str, site_id: str, family: str, currency: str, api_key_env: str | None
    ) -> dict[str, Any]:
        schedule_rng = _stream(self.seed, site_id, "schedule")
        return {
            "id": site_id,
            "url": f"{base}/s/{site_id}/",
            "family": family,
            "currency": currency,
            "api_key_env": api_key_env,
            "schedule": {
                "cron": f"{schedule_rng.randrange(60)} {schedule_rng.randrange(24)} * * *",
                "interval": None,
            },
            # Loopback simulator: no delay needed; robots.txt is still read and obeyed.
            "politeness": {
                "obey_robots_txt": True,
                "download_delay": 0.0,
                "concurrency": 4,
                "autothrottle": False,
            },
        }

    # ----- ground truth -----------------------------------------------------------------------

    def ground_truth(self) -> dict[str, Any]:
        """Everything the simulator knows, JSON-serialisable (dates ISO, money as strings)."""
        with self.lock:
            dates = [self.date_of(day).isoformat() for day in range(self.day + 1)]
            currencies = sorted(
                {site.currency for site in self.sites.values()}
                | {shop.currency for shop in self.shops.values()}
            )
            fx: dict[str, dict[str, str]] = {}
            fx_sources: set[str] = set()
            for day, iso in enumerate(dates):
                fx[iso] = {}
                for currency in currencies:
                    rate, source = usd_per_unit(currency, self.date_of(day))
                    fx[iso][currency] = str(rate)
                    fx_sources.add(source)
            sites_truth = {}
            for site in self.sites.values():
                sites_truth[site.site_id] = self._site_truth(site, dates, fx)
            return {
                "seed": self.seed,
                "start_date": self.start_date.isoformat(),
                "day": self.day,
                "today": self.today.isoformat(),
                "dates": dates,
                "seller_count": len(self.sites) + len(self.shops),
                "panel_count": len(self.sites),
                "shop_count": len(self.shops),
                "fx_usd_per_unit": fx,
                "fx_source": sorted(fx_sources),
                "panel_fx_per_usd": dict(cal.PANEL_FX_PER_USD),
                "sites": sites_truth,
                "reseller_links": [
                    {
                        "reseller": site.site_id,
                        "upstream": site.upstream_id,
                        "markup": str(site.markup),
                        "service_map": dict(self._reseller_maps.get(site.site_id, {})),
                    }
                    for site in self.sites.values()
                    if site.kind == "reseller"
                ],
                "faults": [dict(entry) for entry in self._fault_log],
                "refused_order_actions": self.refused_order_actions,
                "shops": {
                    shop.shop_id: self._shop_truth(shop, dates) for shop in self.shops.values()
                },
                "discovery": self.discovery.truth(self),
            }

    def write_ground_truth(self, path: str | Path) -> Path:
        """Write :meth:`ground_truth` as UTF-8 JSON; returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            json.dumps(self.ground_truth(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        return target

    def _site_truth(
        self, site: Site, dates: list[str], fx: dict[str, dict[str, str]]
    ) -> dict[str, Any]:
        catalogue = {}
        for service in site.services.values():
            traits = service.traits
            catalogue[service.service_id] = {
                "name": service.name,
                "category": service.category,
                "platform": traits.platform,
                "metric": traits.metric,
                "type": service.service_type,
                "pricing": service.pricing,
                "package_units": traits.package_units,
                "min": service.min_quantity,
                "max": service.max_quantity,
                "refill_days": traits.refill_days,
                "country": traits.country,
                "quality": traits.quality,
                "non_drop": traits.non_drop,
                "drip_feed": service.dripfeed,
                "refill_flag": service.refill,
                "cancel_flag": service.cancel,
                "first_day": service.created_day,
                "upstream_service_id": service.upstream_service_id,
            }
        orders = {}
        for day, record in enumerate(self._orders[site.site_id]):
            usd = Decimal(fx[dates[day]][site.currency])
            revenue = Decimal(record["revenue"])
            forwarded = Decimal(record["forwarded_revenue"])
            orders[dates[day]] = {
                **record,
                "revenue_usd": str((revenue * usd).quantize(Decimal("0.0001"))),
                "forwarded_revenue_usd": str((forwarded * usd).quantize(Decimal("0.0001"))),
            }
        return {
            "id": site.site_id,
            "index": site.index,
            "brand": site.brand,
            "kind": site.kind,
            "currency": site.currency,
            "decimals": site.decimals,
            "language": site.language,
            "theme": site.theme,
            "family": site.family,
            "upstream": site.upstream_id,
            "markup": None if site.markup is None else str(site.markup),
            "api_style": {
                name: getattr(site.api_style, name) for name in ApiStyle.__dataclass_fields__
            },
            "page_style": {
                "header_set": site.page_style.header_set,
                "favourite_star": site.page_style.favourite_star,
                "quantity_thousands": site.page_style.quantity_thousands,
                "money": {
                    name: getattr(site.page_style.money, name)
                    for name in MoneyFormat.__dataclass_fields__
                },
                "counter_style": site.page_style.counter_style,
            },
            "catalogue": catalogue,
            "prices": {
                dates[day]: dict(snap) for day, snap in enumerate(self._prices[site.site_id])
            },
            "orders": orders,
            "counters": {dates[day]: dict(c) for day, c in enumerate(self._counters[site.site_id])},
            "bad_values": {
                dates[day]: self.bad_value_overrides(site.site_id, day)
                for day in self._fault_days(site.site_id, "bad_values")
            },
        }

    def _shop_truth(self, shop: shop_model.Shop, dates: list[str]) -> dict[str, Any]:
        upstream = self.sites[shop.upstream_id]
        offers = {}
        for day, iso in enumerate(dates):
            offers[iso] = [
                {
                    key: (
                        None
                        if value is None
                        else str(value)
                        if isinstance(value, Decimal)
                        else value
                    )
                    for key, value in row.items()
                }
                for row in self.shop_offers(shop.shop_id, day)
            ]
        faulted: dict[str, dict[str, list[str]]] = {}
        for fault in sorted(_OFFER_FAULTS):
            for day in self._fault_days(shop.shop_id, fault):
                faulted.setdefault(dates[day], {})[fault] = self.shop_fault_targets(
                    shop.shop_id, fault, day
                )
        return {
            "id": shop.shop_id,
            "index": shop.index,
            "kind": shop.kind,
            "family": shop.config_family,
            "brand": shop.brand,
            "currency": shop.currency,
            "price_style": shop.price_style,
            "in_config": shop.in_config,
            "upstream": shop.upstream_id,
            "upstream_currency": upstream.currency,
            "markup": str(shop.markup),
            "min_markup": str(shop_model.MIN_MARKUP),
            "reprice_threshold": str(shop_model.REPRICE_THRESHOLD),
            "products": {
                product.slug: {
                    "title": product.title,
                    "platform": product.platform,
                    "metric": product.metric,
                    "upstream_service_id": product.upstream_service_id,
                    "quantity_style": product.quantity_style,
                    "jsonld_shape": product.jsonld_shape if shop.kind == "jsonld" else None,
                    "woo_type": (
                        ("simple" if product.woo_simple else "variable")
                        if shop.kind == "woocommerce"
                        else None
                    ),
                    "first_day": product.created_day,
                }
                for product in shop.products.values()
            },
            "offers": offers,
            "faulted_offers": faulted,
        }

    def _fault_days(self, site_id: str, fault: str) -> list[int]:
        days: set[int] = set()
        for entry in self._fault_log:
            if entry["site_id"] != site_id or entry["fault"] != fault:
                continue
            if entry["day"] is not None:
                days.add(entry["day"])
            else:
                end = entry["cleared_on_day"] if entry["cleared_on_day"] is not None else self.day
                days.update(range(entry["injected_on_day"], end + 1))
        return sorted(day for day in days if day <= self.day)

    # ----- construction -----------------------------------------------------------------------

    def _build_sites(self) -> None:
        plan = _stream(self.seed, "plan")
        currency_plan = list(cal.CURRENCY_PLAN)
        plan.shuffle(currency_plan)
        reseller_slots = set(plan.sample(range(4, _PLANNED_SITES), _PLANNED_RESELLERS))
        big_slots = set(
            plan.sample(
                [i for i in range(_PLANNED_SITES) if i not in reseller_slots], _PLANNED_BIG_PANELS
            )
        )
        theme_offset = plan.randrange(len(THEMES))
        family_offset = plan.randrange(2)
        language_plan = _language_plan(plan, currency_plan, reseller_slots, big_slots)
        for index in range(self.n_panels):
            site_id = f"panel-{index + 1:02d}"
            profile = _stream(self.seed, site_id, "profile")
            if index < _PLANNED_SITES:
                currency = currency_plan[index]
                reseller = index in reseller_slots
                big = index in big_slots
            else:
                currency = _weighted(profile, cal.CURRENCY_WEIGHTS_BEYOND_PLAN)
                reseller = profile.random() < 0.25
                big = not reseller and profile.random() < 0.05
            upstreams = [s for s in self.sites.values() if s.kind == "panel"]
            if reseller and not upstreams:
                reseller = False
            theme = THEMES[(index + theme_offset) % len(THEMES)]
            # period 6: every theme is crawled by both families
            family = FAMILIES[(index // len(THEMES) + family_offset) % 2]
            language = language_plan.get(index) or _pick_language(profile, currency)
            site = self._new_site(
                site_id, index, profile, currency, language, theme, family, reseller, upstreams
            )
            if big:
                # big wholesale lists are written in the "[10K] [R30] [1H - 1K/Day]" idiom
                # with middling habits: their rows weigh a lot in market-wide statistics
                site.name_style = replace(
                    site.name_style,
                    brackets=profile.choice(("square", "jap", "spaced")),
                    trailing_emoji_share=0.4,
                    styled_share=0.05,
                )
            self.sites[site_id] = site
            if site.kind == "panel":
                self._generate_catalogue(site, big)
            else:
                self._sync_reseller(site)

    def _build_shops(self) -> None:
        """Retail shops after the panels (their own streams: panels never change with them)."""
        if not self.n_shops:
            return
        plan = _stream(self.seed, "shop-plan")
        currency_plan = list(shop_model.SHOP_CURRENCY_PLAN)
        plan.shuffle(currency_plan)
        second_round = range(5, min(10, self.n_shops))
        unlisted = set(plan.sample(second_round, min(shop_model.UNLISTED_PLANNED, len(second_round))))
        panels = [site for site in self.sites.values() if site.kind == "panel"]
        for index in range(self.n_shops):
            shop_id = f"shop-{index + 1:02d}"
            profile = _stream(self.seed, shop_id, "profile")
            if index < len(shop_model.SHOP_PLAN):
                kind = shop_model.SHOP_PLAN[index]
                currency = currency_plan[index]
                in_config = index not in unlisted
            else:
                kind = _weighted(
                    profile,
                    (("shopify", 0.35), ("woocommerce", 0.25), ("jsonld", 0.15), ("cards", 0.15),
                     ("spa", 0.1)),
                )  # fmt: skip
                currency = _weighted(
                    profile, (("USD", 0.65), ("EUR", 0.15), ("GBP", 0.1), ("BRL", 0.1))
                )
                in_config = profile.random() >= 0.3
            upstream = shop_model.choose_upstream(profile, panels)
            brand = shop_model.brand_name(profile)
            shop = shop_model.Shop(
                shop_id=shop_id,
                index=index,
                kind=kind,
                brand=brand,
                handle=shop_model.slugify(brand) + ("" if profile.random() < 0.6 else "-store"),
                currency=currency,
                price_style=shop_model.pick_price_style(profile, currency),
                upstream_id=upstream.site_id,
                markup=Decimal(str(round(profile.uniform(4.0, 10.0), 2))),
                in_config=in_config,
                title_template=profile.choice(shop_model.TITLE_TEMPLATES),
                quantity_style=profile.choice(("plain", "plain", "comma")),
                compare_share=profile.choice((0.0, 0.4, 0.6, 0.9)),
                asset_hash="".join(profile.choices("abcdef0123456789", k=10)),
                rng_catalog=_stream(self.seed, shop_id, "catalog"),
                rng_dynamics=_stream(self.seed, shop_id, "dynamics"),
                next_number=profile.randint(20, 400),
            )
            shop_model.build_products(
                shop, upstream, self.day, count=shop.rng_catalog.randint(5, 12)
            )
            self.shops[shop_id] = shop

    def _new_site(
        self,
        site_id: str,
        index: int,
        profile: random.Random,
        currency: str,
        language: str,
        theme: str,
        family: str,
        reseller: bool,
        upstreams: list[Site],
    ) -> Site:
        upstream = None
        if reseller:
            upstream = profile.choices(
                upstreams, weights=[math.sqrt(len(u.services)) for u in upstreams]
            )[0]
        if upstream is not None:
            language = upstream.language  # copied names keep the upstream's language
        name_style = (
            upstream.name_style if upstream is not None else random_name_style(profile, language)
        )
        decimals = _weighted(profile, cal.CURRENCY_DECIMALS[currency])
        api_style = ApiStyle(
            service_id_as_string=profile.random() < 0.45,
            quantities_as_string=profile.random() < 0.5,
            bool_style=_weighted(profile, (("json", 0.55), ("int", 0.3), ("string", 0.15))),
            include_dripfeed=profile.random() < 0.7,
            include_refill=profile.random() < 0.8,
            include_cancel=profile.random() < 0.7,
            description_field=_weighted(
                profile, ((None, 0.5), ("desc", 0.3), ("description", 0.2))
            ),
            lowercase_types=profile.random() < 0.2,
            rate_style=_weighted(profile, (("plain", 0.7), ("padded8", 0.2), ("number", 0.1))),
            include_average_time=profile.random() < 0.25,
            escape_unicode=profile.random() < 0.5,
            stores_escaped_names=profile.random() < 0.2,
        )
        money = _pick_money_format(profile, currency)
        quantity_choices = [("", 0.6), (" ", 0.25)]
        quantity_choices.append(("." if money.decimal_separator == "," else ",", 0.15))
        header_set = {
            "tr": "tr", "es": "es", "pt": "pt", "id": "id",
        }.get(language) or _weighted(profile, (("en", 0.6), ("en_renamed", 0.25), ("en_caps", 0.15)))  # fmt: skip
        page_style = PageStyle(
            theme=theme,
            header_set=header_set,
            favourite_star=theme == "pp_modern" and profile.random() < 0.7,
            show_average_time=theme != "smartpanel" or profile.random() < 0.3,
            show_description=profile.random() < 0.85,
            quantity_thousands=_weighted(profile, quantity_choices),
            money=money,
            counter_style=profile.randrange(4),
            show_customers=profile.random() < 0.6,
            show_starting_price=profile.random() < 0.4,
            asset_hash="".join(profile.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=16)),
        )
        daily_median = (
            cal.RESELLER_DAILY_ORDERS_MEDIAN if reseller else cal.PANEL_DAILY_ORDERS_MEDIAN
        )
        site = Site(
            site_id=site_id,
            index=index,
            kind="reseller" if reseller else "panel",
            brand=brand_name(profile, language),
            currency=currency,
            decimals=decimals,
            language=language,
            theme=theme,
            family=family,
            name_style=name_style,
            api_style=api_style,
            page_style=page_style,
            upstream_id=upstream.site_id if upstream else None,
            markup=(
                Decimal(str(round(profile.uniform(1.2, 2.2), 2))) if upstream is not None else None
            ),
            coverage=profile.uniform(0.5, 0.95),
            reseller_prefix=(
                profile.choice((None, "{uid} - ", "[ID: {uid}] "))
                if upstream is not None and upstream.name_style.id_prefix is None
                else None
            ),
            price_level=math.exp(profile.gauss(0.0, 0.25)),
            change_rate=profile.uniform(0.01, 0.05),
            daily_orders_mean=daily_median
            * math.exp(profile.gauss(0, cal.PANEL_DAILY_ORDERS_SIGMA)),
            counter_orders=int(math.exp(profile.uniform(math.log(50_000), math.log(5_000_000)))),
            counter_customers=profile.randint(800, 60_000),
            balance=f"{profile.uniform(0, 500):.5f}",
            next_service_number=profile.choice((1, 1, 100, 1000, profile.randint(2, 5000))),
            rng_catalog=_stream(self.seed, site_id, "catalog"),
            rng_drift=_stream(self.seed, site_id, "drift"),
            rng_orders=_stream(self.seed, site_id, "orders"),
        )
        return site

    def _generate_catalogue(self, site: Site, big: bool) -> None:
        rng = site.rng_catalog
        if big:
            target = rng.randint(1500, 2000)
            site.daily_orders_mean *= 4
            # big wholesale panels set the market's going rates: no strong panel-level tilt
            site.price_level = math.exp(rng.gauss(0.0, 0.08))
        else:
            target = int(min(600, max(40, math.exp(rng.gauss(math.log(110), 0.7)))))
        classes, cum_weights = _panel_class_weights(rng, 0.1 if big else 0.35)
        while len(site.services) < target:
            price_class = rng.choices(classes, cum_weights=cum_weights)[0]
            for service in self._new_services(site, rng, price_class, target - len(site.services)):
                self._add_service(site, service)

    def _new_services(
        self, site: Site, rng: random.Random, price_class: cal.PriceClass, room: int
    ) -> list[Service]:
        """One service, or a cluster of near-identical per-country rows (as real lists have)."""
        countries: list[str | None] = [None]
        size = rng.choice(_CLUSTER_SIZES.get((price_class.platform, price_class.metric), (1,)))
        size = max(1, min(size, room))
        if size > 1:
            countries = [c.code for c in rng.sample(COUNTRIES, size)]
        usd = _two_piece_lognormal(rng, price_class)
        services = []
        for country in countries:
            traits = sample_traits(
                rng, price_class.platform, price_class.metric, site.name_style, country=country
            )
            services.append(
                self._make_service(site, rng, traits, usd * math.exp(rng.gauss(0, 0.04)))
            )
        return services

    def _make_service(
        self, site: Site, rng: random.Random, traits: ServiceTraits, usd_per_1000: float
    ) -> Service:
        metric = traits.metric
        minimum = _weighted(rng, cal.QUANTITY_MINS.get(metric, ((100, 1.0),)))
        maximum = _weighted(rng, cal.QUANTITY_MAXES.get(metric, ((100000, 1.0),)))
        if maximum < minimum:
            minimum, maximum = maximum, minimum
        package_share = 0.15 if metric in ("installs", "watch_time", "reviews") else 0.012
        usd = usd_per_1000 * site.price_level * _trait_price_factor(traits)
        if rng.random() < package_share:
            # a package is sized so that it costs what packages cost (a few to a few hundred USD)
            target_usd = math.exp(rng.gauss(math.log(25.0), 0.8))
            traits.package_units = (
                rng.choice((1000, 2000, 4000))
                if metric == "watch_time"
                else _nearest_nice(target_usd / usd * 1000)
            )
            minimum = maximum = 1
            usd = usd * traits.package_units / 1000 * rng.uniform(0.8, 1.1)
        rate = site.quantize(_to_decimal(usd * cal.PANEL_FX_PER_USD[site.currency]))
        service_id = self._next_service_id(site, rng)
        service_type = _service_type(rng, traits)
        return Service(
            service_id=service_id,
            name=service_name(
                rng,
                site.name_style,
                traits,
                service_id=service_id,
                min_quantity=minimum,
                max_quantity=maximum,
            ),
            category=category_name(site.name_style, traits),
            traits=traits,
            service_type=service_type,
            min_quantity=minimum,
            max_quantity=maximum,
            rate=rate,
            description=description(rng, traits, min_quantity=minimum, max_quantity=maximum),
            average_time=average_time(rng, site.page_style.header_set[:2]),
            refill=bool(traits.refill_days),
            cancel=rng.random() < 0.4,
            dripfeed=traits.drip_feed,
            popularity=rng.paretovariate(1.3)
            * _platform_popularity(traits.platform)
            # most orders go to cheap services: damp the popularity of expensive ones
            * min(1.0, math.sqrt(10.0 / max(usd_per_1000, 1e-6))),
            created_day=self.day,
            position=0,
        )

    def _next_service_id(self, site: Site, rng: random.Random) -> str:
        number = site.next_service_number
        # real ids have gaps where services were deleted
        site.next_service_number += 1 if rng.random() < 0.85 else rng.randint(2, 40)
        return str(number)

    def _add_service(self, site: Site, service: Service) -> None:
        if service.category not in site.category_order:
            site.category_order[service.category] = len(site.category_order)
        if service.platform not in site.platform_order:
            site.platform_order[service.platform] = len(site.platform_order)
        service.position = len(site.services)
        if service.min_quantity < service.max_quantity or service.service_type == "Package":
            usd = float(service.rate) / cal.PANEL_FX_PER_USD[site.currency]
            service.order_sizes, service.order_cum_weights = _order_size_table(service, usd)
        else:
            service.order_sizes, service.order_cum_weights = (service.min_quantity,), (1.0,)
        site.services[service.service_id] = service
        site.touch()

    # ----- daily dynamics ---------------------------------------------------------------------

    def _drift(self, site: Site) -> None:
        rng = site.rng_drift
        for service in list(site.services.values()):
            if service.active:
                roll = rng.random()
                if roll < _REMOVE_RATE:
                    service.active = False
                elif roll < _REMOVE_RATE + site.change_rate:
                    self._reprice(site, service, rng)
            elif rng.random() < _REINSTATE_RATE:
                service.active = True
                if rng.random() < 0.5:
                    self._reprice(site, service, rng)
        if rng.random() < _CATEGORY_REPRICE_RATE and site.category_order:
            category = rng.choice(list(site.category_order))
            factor = math.exp(rng.choice((-1, 1)) * rng.uniform(0.05, 0.2))
            for service in site.services.values():
                if service.category == category and service.active:
                    self._reprice(site, service, rng, factor=factor)
        classes, cum_weights = _panel_class_weights(site.rng_catalog)
        for _ in range(_poisson(rng, len(site.services) * _NEW_SERVICE_RATE)):
            price_class = site.rng_catalog.choices(classes, cum_weights=cum_weights)[0]
            for service in self._new_services(site, site.rng_catalog, price_class, 1):
                self._add_service(site, service)
        site.touch()

    def _reprice(
        self, site: Site, service: Service, rng: random.Random, factor: float | None = None
    ) -> None:
        if factor is None:
            factor = math.exp(rng.choice((-1, 1)) * abs(rng.gauss(0.0, 0.12)))
        old = service.rate
        new = site.quantize(old * _to_decimal(factor))
        if new == old:
            new = old + site.unit() if factor >= 1 or old <= site.unit() else old - site.unit()
        service.rate = new

    def _reseller_rate(self, reseller: Site, upstream: Site, upstream_rate: Decimal) -> Decimal:
        fx = Decimal(str(cal.PANEL_FX_PER_USD[reseller.currency])) / Decimal(
            str(cal.PANEL_FX_PER_USD[upstream.currency])
        )
        assert reseller.markup is not None
        return reseller.quantize(upstream_rate * fx * reseller.markup)

    def _sync_reseller(self, site: Site) -> None:
        """Mirror the upstream: same names/min/max, price = upstream x markup, same day."""
        assert site.upstream_id is not None
        upstream = self.sites[site.upstream_id]
        mapping = self._reseller_maps.setdefault(site.site_id, {})
        by_upstream = {uid: sid for sid, uid in mapping.items()}
        for sid, uid in mapping.items():
            source = upstream.services[uid]
            copy = site.services[sid]
            copy.active = source.active
            copy.rate = self._reseller_rate(site, upstream, source.rate)
        site.touch()
        rng = site.rng_catalog
        accept = site.coverage
        if not mapping:
            # the first copy: a reseller of a big wholesale panel takes a random few hundred
            accept = min(accept, rng.randint(250, 600) / max(1, len(upstream.services)))
            # ... and a reseller of a small panel copies nearly all of it (40 services at least)
            accept = max(accept, min(1.0, 60 / max(1, len(upstream.services))))
        for source in upstream.ordered_services(active_only=False):
            uid = source.service_id
            if uid in site.considered_upstream or uid in by_upstream:
                continue
            site.considered_upstream.add(uid)
            if not source.active or rng.random() >= accept:
                continue
            copy = self._copy_service(site, upstream, source, rng)
            self._add_service(site, copy)
            mapping[copy.service_id] = uid

    def _copy_service(
        self, site: Site, upstream: Site, source: Service, rng: random.Random
    ) -> Service:
        name = source.name
        if site.reseller_prefix:
            name = site.reseller_prefix.format(uid=source.service_id) + name
        return Service(
            service_id=self._next_service_id(site, rng),
            name=name,
            category=source.category,
            traits=source.traits,
            service_type=source.service_type,
            min_quantity=source.min_quantity,
            max_quantity=source.max_quantity,
            rate=self._reseller_rate(site, upstream, source.rate),
            description=source.description,
            average_time=source.average_time,
            refill=source.refill,
            cancel=source.cancel,
            dripfeed=source.dripfeed,
            popularity=source.popularity * math.exp(rng.gauss(0, 0.5)),
            created_day=self.day,
            position=0,
            upstream_service_id=source.service_id,
        )

    def _simulate_orders(self) -> None:
        day = self.day
        weekday_factor = 1.1 if self.today.weekday() >= 5 else 1.0
        records = {site.site_id: _empty_order_record() for site in self.sites.values()}
        for site in self.sites.values():
            rng = site.rng_orders
            active = site.ordered_services()
            record = records[site.site_id]
            if not active:
                continue
            mean = site.daily_orders_mean * weekday_factor * math.exp(rng.gauss(0, 0.1))
            count = _poisson(rng, mean)
            if count == 0:
                continue
            cum = list(accumulate(s.popularity for s in active))
            picks = Counter(rng.choices(range(len(active)), cum_weights=cum, k=count))
            upstream = self.sites[site.upstream_id] if site.upstream_id else None
            for index in sorted(picks):
                service = active[index]
                n_orders = picks[index]
                sizes = rng.choices(
                    service.order_sizes, cum_weights=service.order_cum_weights, k=n_orders
                )
                quantity = sum(sizes)
                if service.pricing == "per_1000":
                    record["_sizes"].update(sizes)
                if service.pricing == "package":
                    units = quantity * (service.traits.package_units or 1)
                    revenue = service.rate * quantity
                else:
                    units = quantity
                    revenue = service.rate * quantity / 1000
                _add_orders(record, service.platform, n_orders, units, revenue)
                if upstream is not None and service.upstream_service_id is not None:
                    source = upstream.services[service.upstream_service_id]
                    cost = source.rate * quantity / (1 if service.pricing == "package" else 1000)
                    up_record = records[upstream.site_id]
                    up_record["forwarded_orders"] += n_orders
                    up_record["forwarded_units"] += units
                    up_record["forwarded_revenue"] += cost
                    up_record["_forwarded_by"][site.site_id] = (
                        up_record["_forwarded_by"].get(site.site_id, 0) + n_orders
                    )
        for site in self.sites.values():
            record = records[site.site_id]
            counter_delta = record["orders"] + record["forwarded_orders"]
            customers_delta = round(record["orders"] * site.rng_orders.uniform(0.02, 0.06))
            site.counter_orders += counter_delta
            site.counter_customers += customers_delta
            self._counters[site.site_id].append(
                {"orders": site.counter_orders, "customers": site.counter_customers}
            )
            self._orders[site.site_id].append(_finish_order_record(record, counter_delta, day))

    def _snapshot(self, site: Site) -> dict[str, str]:
        return {
            service.service_id: site.format_rate(service.rate)
            for service in site.ordered_services()
        }


# --- module helpers --------------------------------------------------------------------------

# Near-identical per-country rows come in clusters (one draw of the class makes `size` rows); the
# class draw weight is divided by the mean cluster size so the row shares stay calibrated.
_CLUSTER_SIZES: dict[tuple[str, str], tuple[int, ...]] = {
    ("website", "traffic"): (1, 1, 2, 4, 8, 15),
    ("youtube", "views"): (1,) * 8 + (3, 6),
    ("spotify", "plays"): (1,) * 8 + (3, 6),
    ("instagram", "followers"): (1,) * 8 + (3, 6),
}

_POPULAR_PLATFORMS = {"instagram": 2.0, "tiktok": 2.0, "youtube": 1.5, "website": 0.6}


def _platform_popularity(platform: str) -> float:
    return _POPULAR_PLATFORMS.get(platform, 1.0)


def _panel_class_weights(
    rng: random.Random, tilt_sigma: float = 0.35
) -> tuple[list[cal.PriceClass], list[float]]:
    """The calibrated class mix, with a per-panel tilt per platform (small panels specialise;
    big wholesale panels list a bit of everything)."""
    tilt: dict[str, float] = {}
    weights = []
    for price_class in cal.PRICE_CLASSES:
        if price_class.platform not in tilt:
            tilt[price_class.platform] = math.exp(rng.gauss(0.0, tilt_sigma))
        cluster = _CLUSTER_SIZES.get((price_class.platform, price_class.metric), (1,))
        mean_cluster = sum(cluster) / len(cluster)
        weights.append(price_class.weight * tilt[price_class.platform] / mean_cluster)
    return list(cal.PRICE_CLASSES), list(accumulate(weights))


def _nearest_nice(value: float) -> int:
    """The "nice" quantity (100, 250, 500, ...) closest to ``value`` on a log scale."""
    target = math.log(max(value, 1.0))
    return min(cal.NICE_QUANTITIES, key=lambda q: abs(math.log(q) - target))


def _order_size_table(
    service: Service, usd_per_1000: float
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Nice order sizes between min and max, weighted by a log-normal around the typical size.

    The typical order is the metric's usual size, capped so it costs at most about
    ``cal.TYPICAL_ORDER_MAX_USD`` (people buy 1000 views but not 1000 reviews)."""
    if service.service_type == "Package":
        return (1, 2, 3), (0.85, 0.95, 1.0)
    low, high = service.min_quantity, service.max_quantity
    typical = cal.TYPICAL_ORDER_UNITS.get(service.metric, 1000)
    typical = min(typical, max(1, int(cal.TYPICAL_ORDER_MAX_USD * 1000 / usd_per_1000)))
    typical = min(max(typical, low), high)
    start = bisect_left(cal.NICE_QUANTITIES, low)
    sizes = [q for q in cal.NICE_QUANTITIES[start:] if q <= high]
    if not sizes or sizes[0] != low:
        sizes.insert(0, low)
    weights = []
    for size in sizes:
        z = (math.log(size) - math.log(typical)) / cal.ORDER_SIZE_SIGMA
        weights.append(math.exp(-0.5 * z * z))
    return tuple(sizes), tuple(accumulate(weights))


def _empty_order_record() -> dict[str, Any]:
    return {
        "orders": 0,
        "units": 0,
        "revenue": Decimal(0),
        "by_platform": {},
        "forwarded_orders": 0,
        "forwarded_units": 0,
        "forwarded_revenue": Decimal(0),
        "_forwarded_by": {},
        "_sizes": Counter(),
    }


def _add_orders(
    record: dict[str, Any], platform: str, n_orders: int, units: int, revenue: Decimal
) -> None:
    record["orders"] += n_orders
    record["units"] += units
    record["revenue"] += revenue
    bucket = record["by_platform"].setdefault(
        platform, {"orders": 0, "units": 0, "revenue": Decimal(0)}
    )
    bucket["orders"] += n_orders
    bucket["units"] += units
    bucket["revenue"] += revenue


def _finish_order_record(record: dict[str, Any], counter_delta: int, day: int) -> dict[str, Any]:
    return {
        "day": day,
        "orders": record["orders"],
        "units": record["units"],
        "revenue": _money_text(record["revenue"]),
        "by_platform": {
            platform: {
                "orders": bucket["orders"],
                "units": bucket["units"],
                "revenue": _money_text(bucket["revenue"]),
            }
            for platform, bucket in sorted(record["by_platform"].items())
        },
        "forwarded_orders": record["forwarded_orders"],
        "forwarded_units": record["forwarded_units"],
        "forwarded_revenue": _money_text(record["forwarded_revenue"]),
        "forwarded_by_reseller": dict(sorted(record["_forwarded_by"].items())),
        # units per order -> number of orders (per-1000 services; packages excluded)
        "order_sizes": {str(size): count for size, count in sorted(record["_sizes"].items())},
        "counter_delta": counter_delta,
    }


def _money_text(value: Decimal) -> str:
    """Exact decimal text (rate x units / 1000 can have up to 11 decimals), no exponent."""
    return format(value.normalize(), "f") if value else "0"


def _language_plan(
    rng: random.Random, currency_plan: list[str], reseller_slots: set[int], big_slots: set[int]
) -> dict[int, str]:
    """Languages of the planned sites, so the default market always has Vietnamese,
    Indonesian, Arabic, Spanish, Portuguese and Turkish panels (big wholesale panels and
    resellers excluded: the big ones write English, resellers copy their upstream)."""
    plan: dict[int, str] = {index: "en" for index in range(len(currency_plan))}
    free = [i for i in range(len(currency_plan)) if i not in reseller_slots | big_slots]
    by_currency = {
        currency: rng.sample(
            [i for i in free if currency_plan[i] == currency],
            len([i for i in free if currency_plan[i] == currency]),
        )
        for currency in ("USD", "EUR", "TRY")
    }
    for index in by_currency["TRY"]:
        plan[index] = "tr"
    remaining = by_currency["EUR"] + by_currency["USD"]  # es/pt go to euro panels first
    for index, language in zip(remaining, ("es", "pt", "vi", "id", "ar"), strict=False):
        plan[index] = language
    return plan


def _pick_language(rng: random.Random, currency: str) -> str:
    if currency == "TRY":
        return "tr" if rng.random() < 0.85 else "en"
    if currency == "INR":
        return "en"
    if currency == "EUR":
        return _weighted(rng, (("es", 0.4), ("pt", 0.3), ("en", 0.3)))
    shares = (
        ("en", 0.72), ("vi", 0.06), ("id", 0.06), ("es", 0.05), ("pt", 0.05), ("ar", 0.04),
        ("tr", 0.02),
    )  # fmt: skip
    return _weighted(rng, shares)


def _pick_money_format(rng: random.Random, currency: str) -> MoneyFormat:
    symbol = cal.CURRENCY_SYMBOLS[currency]
    options: tuple[tuple[MoneyFormat, float], ...]
    if currency == "USD":
        options = (
            (MoneyFormat(symbol, "prefix", False, ".", ""), 0.55),
            (MoneyFormat(symbol, "prefix", False, ".", ","), 0.15),
            (MoneyFormat(symbol, "prefix", True, ".", ""), 0.1),
            (MoneyFormat(symbol, "suffix", False, ".", ""), 0.1),
            (MoneyFormat(symbol, "none", False, ".", ""), 0.1),
        )
    elif currency == "INR":
        options = (
            (MoneyFormat(symbol, "prefix", False, ".", " "), 0.5),
            (MoneyFormat(symbol, "prefix", False, ".", ""), 0.3),
            (MoneyFormat(symbol, "prefix", True, ".", ","), 0.2),
        )
    elif currency == "TRY":
        options = (
            (MoneyFormat(symbol, "prefix", False, ",", "."), 0.6),
            (MoneyFormat(symbol, "suffix", True, ",", "."), 0.25),
            (MoneyFormat("TL", "suffix", True, ",", "."), 0.15),
        )
    else:  # EUR
        options = (
            (MoneyFormat(symbol, "prefix", False, ".", ""), 0.5),
            (MoneyFormat(symbol, "suffix", True, ",", " "), 0.3),
            (MoneyFormat(symbol, "suffix", True, ",", "."), 0.2),
        )
    return _weighted(rng, options)
