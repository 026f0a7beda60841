"""Faults a simulated site can be told to show (see the ``simulator.market`` docstring)."""

from __future__ import annotations

from typing import Any

from simulator.randomness import stream
from simulator.state import MarketState

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
OFFER_FAULTS = frozenset(
    {"product_without_price", "price_without_currency", "unreadable_quantity", "offsite_redirect"}
)
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
BAD_RATE_TEXT = {
    "negative_rate": "-1",
    "nan_rate": "NaN",
    "text_rate": "abc",
    "absurd_rate": "999999999",
}


class MarketFaults(MarketState):
    """Injecting, clearing and querying faults."""

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
        if not rows or fault not in OFFER_FAULTS:
            return []
        if fault == "price_without_currency" and shop.kind == "shopify":
            return [row["site_offer_id"] for row in rows]  # the whole shop loses its currency
        if fault == "offsite_redirect" and shop.kind in ("shopify", "woocommerce"):
            return []  # page 2 of the list: which packages depends on the crawler's page size
        rng = stream(self.seed, shop_id, "fault", fault, day)
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
        rng = stream(self.seed, site_id, "bad", day)
        chosen = rng.sample(ids, min(len(BAD_VALUE_KINDS), len(ids)))
        overrides: dict[str, dict[str, str]] = {}
        for sid, kind in zip(chosen, BAD_VALUE_KINDS, strict=False):
            if kind in BAD_RATE_TEXT:
                overrides[sid] = {"kind": kind, "rate": BAD_RATE_TEXT[kind]}
            else:
                service = site.services[sid]
                low, high = service.min_quantity, service.max_quantity
                shown_min, shown_max = (high, low) if low < high else (10, 1)
                overrides[sid] = {"kind": kind, "min": str(shown_min), "max": str(shown_max)}
        return overrides


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

    def fault_days(self, site_id: str, fault: str) -> list[int]:
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
