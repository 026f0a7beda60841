"""The PerfectPanel-style API v2 of a simulated panel (``POST /api/v2`` with ``key`` + ``action``).

Only ``services`` and ``balance`` answer. Order actions (``add``, ``refill``, ``cancel``,
``status``, ``refill_status``) are refused and counted in ``market.refused_order_actions`` so a
test can prove the crawler never sends them. Errors are HTTP 200 with ``{"error": ...}``, as on
real panels. Call with ``market.lock`` held.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.market import Market, Service, Site

ORDER_ACTIONS: frozenset[str] = frozenset({"add", "refill", "cancel", "status", "refill_status"})
READ_ACTIONS: frozenset[str] = frozenset({"services", "balance"})

ERROR_INVALID_KEY = "Invalid API key"
ERROR_INCORRECT_REQUEST = "Incorrect request"
ERROR_UNAVAILABLE = "Service temporarily unavailable"
ERROR_ORDER_ACTION = "This action is disabled for your account"
UNKNOWN_CURRENCY_CODE = "XBT"


@dataclass(frozen=True, slots=True)
class ApiResponse:
    status: int
    body: bytes
    content_type: str = "application/json"


def handle_api_request(
    market: Market,
    site_id: str,
    params: Mapping[str, Any],
    cache: dict[tuple[Any, ...], bytes] | None = None,
) -> ApiResponse:
    """Answer one API call. ``params`` merges query string, form body and JSON body."""
    site = market.site(site_id)
    action = str(params.get("action") or "").strip().lower()
    key = str(params.get("key") or "")
    if action in ORDER_ACTIONS:
        market.record_refused_order_action(site_id, action)
        if key != market.api_key(site_id):
            return _error(ERROR_INVALID_KEY)
        return _error(ERROR_ORDER_ACTION)
    if key != market.api_key(site_id):
        return _error(ERROR_INVALID_KEY)
    if action not in READ_ACTIONS:
        return _error(ERROR_INCORRECT_REQUEST)
    faults = market.active_faults(site_id)
    if "api_error" in faults:
        return _error(ERROR_UNAVAILABLE)
    if action == "balance":
        currency = UNKNOWN_CURRENCY_CODE if "unknown_currency" in faults else site.currency
        return _json({"balance": site.balance, "currency": currency}, site)
    cache_key = (site_id, "api_services", market.version)
    if cache is not None and cache_key in cache:
        return ApiResponse(200, cache[cache_key])
    body = services_body(market, site, faults)
    if cache is not None:
        cache[cache_key] = body
    return ApiResponse(200, body)


def services_body(market: Market, site: Site, faults: frozenset[str]) -> bytes:
    """The ``action=services`` payload of today, faults applied."""
    if "empty_list" in faults:
        return b"[]"
    overrides = market.bad_value_overrides(site.site_id) if "bad_values" in faults else {}
    items = [
        _service_item(site, service, overrides.get(service.service_id))
        for service in market.active_services(site.site_id)
    ]
    text = _dumps(items, site)
    if "invalid_json" in faults:
        # what some panel documentation pages serve: trailing commas in objects and the array
        text = text.replace("}, {", ",}, {")
        text = text[:-1] + ",]" if text.endswith("]") else text
    return text.encode("utf-8")


def _service_item(site: Site, service: Service, override: dict[str, str] | None) -> dict[str, Any]:
    style = site.api_style
    name, category = service.name, service.category
    if style.stores_escaped_names:
        name = html.escape(name, quote=False)
        category = html.escape(category, quote=False)
    service_type = service.service_type
    if style.lowercase_types:
        service_type = service_type.lower().replace(" ", "_")
    item: dict[str, Any] = {
        "service": service.service_id if style.service_id_as_string else int(service.service_id),
        "name": name,
        "type": service_type,
        "category": category,
        "rate": _rate_value(site, service),
        "min": _quantity(style.quantities_as_string, service.min_quantity),
        "max": _quantity(style.quantities_as_string, service.max_quantity),
    }
    if style.include_dripfeed:
        item["dripfeed"] = _flag(style.bool_style, service.dripfeed)
    if style.include_refill:
        item["refill"] = _flag(style.bool_style, service.refill)
    if style.include_cancel:
        item["cancel"] = _flag(style.bool_style, service.cancel)
    if style.description_field:
        item[style.description_field] = service.description
    if style.include_average_time:
        item["average_time"] = service.average_time
    if override:
        if "rate" in override:
            item["rate"] = override["rate"]  # always a string: "abc" cannot be a JSON number
        if "min" in override:
            item["min"] = _quantity(style.quantities_as_string, int(override["min"]))
            item["max"] = _quantity(style.quantities_as_string, int(override["max"]))
    return item


_RATE_TOKEN = re.compile(r'"@@rate(\d+)@@"')


class _RawNumber(str):
    """A rate to be written as a bare JSON number with exactly these digits."""


def _rate_value(site: Site, service: Service) -> Any:
    rate_style = site.api_style.rate_style
    if rate_style == "padded8":
        return f"{service.rate:.8f}" if site.decimals <= 8 else site.format_rate(service.rate)
    if rate_style == "number":
        return _RawNumber(site.format_rate(service.rate))
    return site.format_rate(service.rate)


def _quantity(as_string: bool, value: int) -> Any:
    return str(value) if as_string else value


def _flag(style: str, value: bool) -> Any:
    if style == "int":
        return int(value)
    if style == "string":
        return "1" if value else "0"
    return value


def _dumps(payload: Any, site: Site) -> str:
    """JSON as this panel's backend writes it (PHP-style escapes on some panels)."""
    numbers: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, _RawNumber):
            numbers.append(str(value))
            return f"@@rate{len(numbers) - 1}@@"
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        return value

    escape = site.api_style.escape_unicode
    text = json.dumps(mark(payload), ensure_ascii=escape)
    if escape:
        text = text.replace("/", "\\/")  # "/" only occurs inside strings
    if numbers:
        text = _RATE_TOKEN.sub(lambda match: numbers[int(match.group(1))], text)
    return text


def _json(payload: Any, site: Site) -> ApiResponse:
    return ApiResponse(200, _dumps(payload, site).encode("utf-8"))


def _error(message: str) -> ApiResponse:
    return ApiResponse(200, json.dumps({"error": message}).encode("utf-8"))
