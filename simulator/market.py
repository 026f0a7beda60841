"""The simulated SMM-panel market: sites, catalogues, a clock, orders, faults and ground truth.

Everything is deterministic from the seed. Every site draws from its own ``random.Random``
streams, seeded with strings such as ``"42/panel-07/orders"``, so adding a site never reshuffles
the others. The first 24 sites follow a per-seed plan (currencies, resellers, the two big panels)
so that the default market always shows every variation the crawlers must handle.

Day semantics (what the ground truth means):
The market is split by concern: ``simulator.model`` (sites, services, styles),
``simulator.generation`` (construction), ``simulator.dynamics`` (daily evolution),
``simulator.faults``, ``simulator.export`` (sites config) and ``simulator.truth``; ``Market``
combines them.

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

import threading
from collections import Counter
from datetime import date
from typing import Any

from simulator import shops as shop_model
from simulator.directories import plan_discovery
from simulator.dynamics import MarketDynamics
from simulator.faults import (
    BAD_VALUE_KINDS,
    COMMON_FAULTS,
    FAULT_PARAMS,
    FAULTS,
    OFFLINE_MODES,
    PANEL_FAULTS,
    SHOP_FAULT_KINDS,
    SHOP_FAULTS,
    SLOW_FAULT_SECONDS,
)
from simulator.fx import usd_per_unit
from simulator.generation import FAMILIES, THEMES
from simulator.hidden import HARD_MARKET, ORDER_SIZE_SHAPES, hidden_parameters
from simulator.model import ApiStyle, MoneyFormat, PageStyle, Service, Site
from simulator.truth import MarketTruth

__all__ = [
    "BAD_VALUE_KINDS",
    "COMMON_FAULTS",
    "DEFAULT_START_DATE",
    "FAMILIES",
    "FAULTS",
    "FAULT_PARAMS",
    "HARD_MARKET",
    "ORDER_SIZE_SHAPES",
    "OFFLINE_MODES",
    "PANEL_FAULTS",
    "SHOP_FAULTS",
    "SHOP_FAULT_KINDS",
    "SLOW_FAULT_SECONDS",
    "THEMES",
    "ApiStyle",
    "Market",
    "MoneyFormat",
    "PageStyle",
    "Service",
    "Site",
    "usd_per_unit",
]

DEFAULT_START_DATE = date(2026, 9, 1)


class Market(MarketTruth, MarketDynamics):
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
        *,
        counter_coverage: float = 1.0,
        counter_distortion: float = 0.0,
        unseen_share: float = 0.0,
        reseller_share: float | None = None,
        order_size_shape: str | None = None,
        catalogue_scale: float = 1.0,
    ) -> None:
        """The keyword-only knobs (``simulator.hidden``) make estimation hard; the defaults
        keep every counter shown and honest and every seller discoverable, and draw the
        reseller share and the order-size shape from the seed. ``HARD_MARKET`` holds the
        knobs of issue 8's market. A knob out of range is a ``ValueError`` naming it."""
        if n_panels < 1:
            raise ValueError("n_panels must be at least 1")
        if n_shops < 0:
            raise ValueError("n_shops must be >= 0")
        self.seed = seed
        self.hidden = hidden_parameters(
            seed,
            counter_coverage=counter_coverage,
            counter_distortion=counter_distortion,
            unseen_share=unseen_share,
            reseller_share=reseller_share,
            order_size_shape=order_size_shape,
            catalogue_scale=catalogue_scale,
        )
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
        self._counters: dict[str, list[dict[str, int | None]]] = {}
        self._reseller_maps: dict[str, dict[str, str]] = {}
        self.shops: dict[str, shop_model.Shop] = {}
        self._shop_offers: dict[str, list[list[dict[str, Any]]]] = {}
        self._true_counters: dict[str, list[int]] = {}
        self._shop_orders: dict[str, list[dict[str, Any]]] = {}
        self._build_sites()
        self._assign_counter_claims()
        for site in self.sites.values():
            self._prices[site.site_id] = [self._snapshot(site)]
            self._orders[site.site_id] = []
            self._true_counters[site.site_id] = [site.counter_orders]
            self._counters[site.site_id] = [self._shown_counters(site)]
        self._build_shops()
        for shop in self.shops.values():
            self._shop_offers[shop.shop_id] = [shop_model.offer_rows(shop)]
            self._shop_orders[shop.shop_id] = []
        self.unseen = frozenset()
        self.discovery = plan_discovery(self, self.hidden.unseen_share)
        self.unseen = self.discovery.unseen

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
