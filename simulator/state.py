"""The market's state and its read API, shared by the parts of :class:`simulator.market.Market`.

The market is split by concern (``generation``, ``dynamics``, ``faults``, ``export``, ``truth``);
each part is a class over this state, and ``Market`` combines them.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from simulator import calibration as cal
from simulator import shops as shop_model
from simulator.directories import DiscoveryPlan
from simulator.fx import USD_QUANTUM, usd_per_unit
from simulator.hidden import HiddenParameters
from simulator.model import Service, Site


class MarketState:
    """Attributes of a market (set by ``Market.__init__``) and the read-only queries over them."""

    seed: int
    n_panels: int
    n_shops: int
    start_date: date
    day: int
    version: int
    lock: threading.RLock
    refused_order_actions: int
    refused_order_log: list[dict[str, Any]]
    request_counts: Counter[tuple[str, str]]
    sites: dict[str, Site]
    shops: dict[str, shop_model.Shop]
    discovery: DiscoveryPlan
    _faults: dict[str, list[tuple[str, int | None, dict[str, Any]]]]
    _burst_counts: Counter[tuple[str, int]]
    _fault_log: list[dict[str, Any]]
    _prices: dict[str, list[dict[str, str]]]
    _orders: dict[str, list[dict[str, Any]]]
    _counters: dict[str, list[dict[str, int | None]]]
    _reseller_maps: dict[str, dict[str, str]]
    _shop_offers: dict[str, list[list[dict[str, Any]]]]
    _true_counters: dict[str, list[int]]
    """Site id -> the true running total of orders received, per day (see ``CounterClaim``)."""
    _shop_orders: dict[str, list[dict[str, Any]]]
    hidden: HiddenParameters
    unseen: frozenset[str]
    """Sellers no directory lists, no seller links and the sites config leaves out."""


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

    def counters(self, site_id: str, day: int | None = None) -> dict[str, int | None]:
        """Counter values shown on the landing page on a day (default today); ``orders`` is
        what the page claims (``CounterClaim``), None when it shows no orders counter."""
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

    def seller_volume(self, seller_id: str) -> float:
        """A seller's expected end-customer orders per day (its size, for who gets listed)."""
        if seller_id in self.sites:
            return self.sites[seller_id].daily_orders_mean
        return self.shop(seller_id).daily_orders_mean

    def shop_orders(self, shop_id: str, day: int) -> dict[str, Any]:
        """The end-customer orders a shop received on a completed day (``day < market.day``)."""
        self.shop(shop_id)
        return self._shop_orders[shop_id][day]

    def true_counter(self, site_id: str, day: int | None = None) -> int:
        """The true running total of orders a panel received (its claim aside) on a day."""
        day = self.day if day is None else day
        return self._true_counters[site_id][day]

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
                    USD_QUANTUM, rounding=ROUND_HALF_EVEN
                ),
            }
            for row in rows
        ]
