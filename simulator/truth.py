"""The ground truth: everything the simulator knows, as JSON for tests and checkers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from simulator import calibration as cal
from simulator import shops as shop_model
from simulator.export import MarketConfigExport
from simulator.faults import OFFER_FAULTS, MarketFaults
from simulator.fx import usd_per_unit
from simulator.model import ApiStyle, MoneyFormat, Site

_CENT_HUNDREDTHS = Decimal("0.0001")
"""USD amounts of the truth: 4 decimals."""


class MarketTruth(MarketFaults, MarketConfigExport):
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
                    shop.shop_id: self._shop_truth(shop, dates, fx)
                    for shop in self.shops.values()
                },
                "discovery": self.discovery.truth(self),
                "hidden": self.hidden.as_truth(),
                "unseen": sorted(self.unseen),
                "market": self._market_truth(dates, fx),
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
            "true_counters": {
                dates[day]: value for day, value in enumerate(self._true_counters[site.site_id])
            },
            "counter_claim": site.claim.as_truth(),
            "unseen": site.site_id in self.unseen,
            "daily_orders_mean": round(site.daily_orders_mean, 3),
            "bad_values": {
                dates[day]: self.bad_value_overrides(site.site_id, day)
                for day in self.fault_days(site.site_id, "bad_values")
            },
        }

    def _market_truth(self, dates: list[str], fx: dict[str, dict[str, str]]) -> dict[str, Any]:
        """The ``market`` section: per completed day and platform, end customers' orders and
        spend (a panel's own customers, resellers' included, and shops' customers) and the
        wholesale spend (what resellers and shops paid their upstream panel: not market size),
        in USD at the day's rate; and the number of sellers, listed by some source or not."""
        cells: dict[tuple[str, str], list[Any]] = {}

        def cell(day: int, platform: str) -> list[Any]:
            return cells.setdefault((dates[day], platform), [0, Decimal(0), Decimal(0)])

        records = [
            (site.currency, self._orders[site.site_id]) for site in self.sites.values()
        ] + [(shop.currency, self._shop_orders[shop.shop_id]) for shop in self.shops.values()]
        for currency, days in records:
            for day, record in enumerate(days):
                usd = Decimal(fx[dates[day]][currency])
                for platform, bucket in record["by_platform"].items():
                    target = cell(day, platform)
                    target[0] += bucket["orders"]
                    target[1] += Decimal(bucket["revenue"]) * usd
                for platform, bucket in record["forwarded_by_platform"].items():
                    cell(day, platform)[2] += Decimal(bucket["revenue"]) * usd
        listed = {s for listing in self.discovery.listings.values() for s in listing} | {
            target for targets in self.discovery.partners.values() for target in targets
        }
        return {
            "daily": [
                {
                    "date": iso,
                    "platform": platform,
                    "orders": orders,
                    "end_customer_revenue_usd": str(end.quantize(_CENT_HUNDREDTHS)),
                    "wholesale_revenue_usd": str(wholesale.quantize(_CENT_HUNDREDTHS)),
                }
                for (iso, platform), (orders, end, wholesale) in sorted(cells.items())
            ],
            "sellers": {
                "total": len(self.sites) + len(self.shops),
                "listed_by_any_source": len(listed),
            },
        }

    def _shop_truth(
        self, shop: shop_model.Shop, dates: list[str], fx: dict[str, dict[str, str]]
    ) -> dict[str, Any]:
        upstream = self.sites[shop.upstream_id]
        orders = {}
        for day, record in enumerate(self._shop_orders[shop.shop_id]):
            usd = Decimal(fx[dates[day]][shop.currency])
            orders[dates[day]] = {
                **record,
                "revenue_usd": str((Decimal(record["revenue"]) * usd).quantize(_CENT_HUNDREDTHS)),
            }
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
        for fault in sorted(OFFER_FAULTS):
            for day in self.fault_days(shop.shop_id, fault):
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
            "orders": orders,
            "unseen": shop.shop_id in self.unseen,
            "daily_orders_mean": round(shop.daily_orders_mean, 3),
        }
