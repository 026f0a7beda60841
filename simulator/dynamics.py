"""The market's daily evolution: orders and counters, price drift, catalogue changes."""

from __future__ import annotations

import math
import random
from collections import Counter
from decimal import Decimal
from itertools import accumulate
from typing import Any

from simulator import shops as shop_model
from simulator.generation import MarketGeneration, panel_class_weights
from simulator.model import Service, Site
from simulator.randomness import poisson, to_decimal

# Daily dynamics (assumptions: "most prices unchanged day to day, a few % change").
_REMOVE_RATE = 0.002
_REINSTATE_RATE = 0.04
_NEW_SERVICE_RATE = 0.002
_CATEGORY_REPRICE_RATE = 0.01


class MarketDynamics(MarketGeneration):
    """What happens on each simulated day."""

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
        classes, cum_weights = panel_class_weights(site.rng_catalog)
        for _ in range(poisson(rng, len(site.services) * _NEW_SERVICE_RATE)):
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
        new = site.quantize(old * to_decimal(factor))
        if new == old:
            new = old + site.unit() if factor >= 1 or old <= site.unit() else old - site.unit()
        service.rate = new

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
            count = poisson(rng, mean)
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
                    _add_forwarded(
                        records[upstream.site_id], "_forwarded_by", site.site_id,
                        source.platform, n_orders, units, cost,
                    )  # fmt: skip
        self._simulate_shop_orders(records, weekday_factor)
        for site in self.sites.values():
            record = records[site.site_id]
            counter_delta = record["orders"] + record["forwarded_orders"]
            customers_delta = round(record["orders"] * site.rng_orders.uniform(0.02, 0.06))
            site.counter_orders += counter_delta
            site.counter_customers += customers_delta
            self._true_counters[site.site_id].append(site.counter_orders)
            self._counters[site.site_id].append(self._shown_counters(site))
            self._orders[site.site_id].append(_finish_order_record(record, counter_delta, day))

    def _simulate_shop_orders(self, records: dict[str, dict[str, Any]], weekday: float) -> None:
        """End customers buy packages; each order is forwarded to the shop's upstream panel at
        the panel's rate of the day (the shop pays wholesale; its customer paid retail)."""
        for shop in self.shops.values():
            upstream = self.sites[shop.upstream_id]
            mean = shop.daily_orders_mean * weekday * math.exp(shop.rng_orders.gauss(0, 0.1))
            record = _empty_order_record()
            for product, tier, n_orders in shop_model.daily_sales(shop, mean):
                units = tier.quantity * n_orders
                _add_orders(record, product.platform, n_orders, units, tier.price * n_orders)
                source = upstream.services.get(product.upstream_service_id)
                if source is None:  # pragma: no cover - shops only list services that exist
                    continue
                if source.pricing == "package":
                    per_package = source.traits.package_units or 1
                    cost = source.rate * -(-tier.quantity // per_package) * n_orders
                else:
                    cost = source.rate * units / 1000
                _add_forwarded(
                    records[upstream.site_id], "_forwarded_by_shop", shop.shop_id,
                    source.platform, n_orders, units, cost,
                )  # fmt: skip
            self._shop_orders[shop.shop_id].append(
                _finish_order_record(record, record["orders"], self.day)
            )

    def _shown_counters(self, site: Site) -> dict[str, int | None]:
        """The landing page's counters of the latest day: the orders counter as claimed (None
        when the page shows none) and the customers counter."""
        history = self._true_counters[site.site_id]
        claimed = site.claim.value(history, len(history) - 1) if site.claim.shown else None
        return {"orders": claimed, "customers": site.counter_customers}

    def _snapshot(self, site: Site) -> dict[str, str]:
        return {
            service.service_id: site.format_rate(service.rate)
            for service in site.ordered_services()
        }


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
        "_forwarded_by_shop": {},
        "forwarded_by_platform": {},
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


def _add_forwarded(
    record: dict[str, Any], by: str, sender: str, platform: str, n_orders: int, units: int,
    cost: Decimal,
) -> None:
    """Orders a reseller (``by="_forwarded_by"``) or a shop (``"_forwarded_by_shop"``) passed
    on to this panel, paid at the panel's rate (wholesale)."""
    record["forwarded_orders"] += n_orders
    record["forwarded_units"] += units
    record["forwarded_revenue"] += cost
    record[by][sender] = record[by].get(sender, 0) + n_orders
    bucket = record["forwarded_by_platform"].setdefault(
        platform, {"orders": 0, "units": 0, "revenue": Decimal(0)}
    )
    bucket["orders"] += n_orders
    bucket["units"] += units
    bucket["revenue"] += cost


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
        "forwarded_by_shop": dict(sorted(record["_forwarded_by_shop"].items())),
        "forwarded_by_platform": {
            platform: {
                "orders": bucket["orders"],
                "units": bucket["units"],
                "revenue": _money_text(bucket["revenue"]),
            }
            for platform, bucket in sorted(record["forwarded_by_platform"].items())
        },
        # units per order -> number of orders (per-1000 services; packages excluded)
        "order_sizes": {str(size): count for size, count in sorted(record["_sizes"].items())},
        "counter_delta": counter_delta,
    }


def _money_text(value: Decimal) -> str:
    """Exact decimal text (rate x units / 1000 can have up to 11 decimals), no exponent."""
    return format(value.normalize(), "f") if value else "0"
