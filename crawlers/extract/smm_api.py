"""PerfectPanel-style "API v2" responses (``action=services`` and ``action=balance``) -> raw offers.

Pure functions: bytes or text in, :class:`~crawlers.items.ExtractResult` out. Values are kept as
the panel wrote them: JSON numbers are parsed as their literal text (``0.30`` stays ``"0.30"``,
never ``0.3`` or ``0.30000000000000004``), so the pipeline parses money from exactly what the
panel sent.

Accepted shapes of a ``services`` payload:

- the documented JSON array ``[{"service": 1, "name": ..., "rate": "0.90", ...}, ...]``;
- a wrapper object ``{"services": [...]}`` / ``{"data": [...]}`` (also ``result``, ``items``);
- an object keyed by service id ``{"1": {"name": ...}, "2": {...}}``.

Whole-payload problems raise :class:`~crawlers.items.ExtractError` with a message for the user
(invalid JSON with line and column, an API error body, an HTML page instead of JSON, an
unexpected shape). A single unreadable entry becomes a :class:`~crawlers.items.RawRejection`.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from crawlers.extract.json_documents import NESTED_TOO_DEEP
from crawlers.extract.rows import not_an_offer
from crawlers.items import ExtractError, ExtractResult, RawOffer, RawRejection

# Wrapper keys seen on clones that do not return the bare array.
_WRAPPER_KEYS = ("services", "data", "result", "items")
# Field aliases, most common first. Clones rename a few fields; the documented name wins.
_ID_KEYS = ("service", "id", "service_id")
_NAME_KEYS = ("name", "service_name", "title")
_RATE_KEYS = ("rate", "price", "rate_per_1000")
_DESCRIPTION_KEYS = ("desc", "description")

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def extract_services(body: bytes | str) -> ExtractResult:
    """Read an ``action=services`` response into raw offers, values as the panel sent them.

    ``rate`` becomes ``price`` with ``pricing="per_1000"``, except Package types (``Package``,
    ``Custom Comments Package``, lower-case variants), whose rate is the price of the whole
    package (``pricing="package"``). ``refill``/``cancel``/``dripfeed`` keep their JSON value
    (``True``, ``1``, ``"1"``, ...). An empty list is a valid answer (zero offers): whether that
    is suspicious is for the pipeline to decide.

    Raises :class:`ExtractError` for an unreadable payload as a whole.
    """
    payload = _load_json(body)
    _raise_on_api_error(payload)
    entries, shape_note, result_currency = _service_entries(payload)

    result = ExtractResult(currency=result_currency)
    result.notes.append(shape_note)
    seen: dict[str, tuple[int, str, str | None]] = {}
    repeated = 0
    skipped: list[str] = []
    for position, (entry, key_id) in enumerate(entries, start=1):
        offer_or_rejection = _read_service(entry, key_id=key_id, position=position)
        if isinstance(offer_or_rejection, RawRejection):
            result.rejected.append(offer_or_rejection)
            continue
        offer = offer_or_rejection
        kind = not_an_offer(offer.name, offer.price, offer.min_quantity, offer.max_quantity)
        if kind is not None:
            # A divider ("━━━━") or a category banner ("★★ TIKTOK ★★", rate 0): not a service.
            skipped.append(f"entry #{position}: skipped {kind} {offer.name.strip()!r}")
            continue
        first = seen.setdefault(offer.site_offer_id or "", (position, offer.name, offer.price))
        if first[0] != position:
            if first[1:] == (offer.name, offer.price):
                repeated += 1  # the very same service listed twice
                continue
            result.rejected.append(RawRejection(
                reason=f"entry #{position}: duplicate service id {offer.site_offer_id!r} with a "
                       f"different name or rate (entry #{first[0]} was kept)",
                raw=offer.raw, site_offer_id=offer.site_offer_id))
            continue
        result.offers.append(offer)

    packages = sum(1 for offer in result.offers if offer.pricing == "package")
    summary = f"{len(result.offers)} services read"
    if packages:
        summary += f" ({packages} priced per package)"
    if result.rejected:
        summary += f", {len(result.rejected)} entries rejected"
    if repeated:
        summary += f", {repeated} exact repeats of an earlier entry skipped"
    if skipped:
        summary += f", {len(skipped)} dividers or category banners skipped"
    result.notes.append(summary)
    result.notes.extend(skipped)
    return result


def extract_balance(body: bytes | str) -> tuple[str | None, str | None]:
    """Read an ``action=balance`` response: ``(balance, currency)`` as the panel wrote them.

    ``{"balance": "100.84292", "currency": "USD"}`` -> ``("100.84292", "USD")``. A missing field
    is ``None``. Raises :class:`ExtractError` on an error body (``{"error": "Invalid API key"}``),
    invalid JSON, an HTML page, or a payload that is not an object.
    """
    payload = _load_json(body)
    _raise_on_api_error(payload)
    if not isinstance(payload, dict):
        raise ExtractError(f"unexpected balance response: expected a JSON object, got {_json_kind(payload)}")
    return _as_text(payload.get("balance")), _as_text(payload.get("currency"))


# -- parsing ------------------------------------------------------------------------------------

def _load_json(body: bytes | str) -> Any:
    text = _decode(body)
    if not text.strip():
        raise ExtractError("empty response body (expected JSON)")
    if text.lstrip().startswith("<"):  # JSON never starts with "<": a block page or login page
        raise ExtractError(f"expected JSON, got an HTML page (title: {_html_title(text)})")
    try:
        # Numbers arrive as their literal text: "0.30" must not turn into 0.3 (or worse).
        return json.loads(text, parse_float=str, parse_constant=str)
    except json.JSONDecodeError as error:
        raise ExtractError(_describe_json_error(text, error)) from None
    except RecursionError:
        raise ExtractError(f"invalid JSON: {NESTED_TOO_DEEP}") from None


def _decode(body: bytes | str) -> str:
    if isinstance(body, str):
        return body.lstrip("\ufeff")
    try:
        # json.detect_encoding handles UTF-8 (with or without BOM), UTF-16 and UTF-32.
        return body.decode(json.detect_encoding(body)).lstrip("\ufeff")
    except UnicodeDecodeError as error:
        raise ExtractError(
            f"response is not valid {error.encoding} text (bad byte at offset {error.start})"
        ) from None


def _describe_json_error(text: str, error: json.JSONDecodeError) -> str:
    position = error.pos
    before = text[:position].rstrip()
    after = text[position:].lstrip()
    if before.endswith(",") and after[:1] in ("]", "}"):
        # Python reports the closing bracket; the fix is at the comma, so point there.
        comma = len(before) - 1
        line = text.count("\n", 0, comma) + 1
        column = comma - (text.rfind("\n", 0, comma) + 1) + 1
        return f"invalid JSON at line {line} column {column}: trailing comma before '{after[0]}'"
    where = f"invalid JSON at line {error.lineno} column {error.colno}"
    if not after:
        return f"{where}: unexpected end of data (truncated response?)"
    excerpt = after[:30].replace("\n", " ")
    message = f"{where}: {error.msg} (near {excerpt!r})"
    stripped = text.rstrip()
    if error.msg.startswith("Unterminated") or not stripped.endswith(("]", "}")):
        message += "; the payload ends abruptly (truncated response?)"
    return message


def _html_title(text: str) -> str:
    match = _TITLE.search(text[:20000])
    title = " ".join(html.unescape(match.group(1)).split()) if match else ""
    hint = ""
    lowered = text[:50000].lower()
    if "cloudflare" in lowered or "cf-chl" in lowered or "challenge-platform" in lowered:
        hint = "; looks like a Cloudflare challenge"
    elif "loginform" in lowered or 'type="password"' in lowered:
        hint = "; looks like a login page"
    return (title or "none") + hint


def _raise_on_api_error(payload: Any) -> None:
    if not isinstance(payload, dict):
        return
    if "error" in payload and payload["error"] not in (None, "", False):
        raise ExtractError(f"API error: {_message_text(payload['error'])}")
    if "errors" in payload and payload["errors"]:
        raise ExtractError(f"API error: {_message_text(payload['errors'])}")
    status = str(payload.get("status", "")).lower()
    if status in ("error", "fail", "failed") and not _has_service_list(payload):
        message = payload.get("message") or payload.get("msg") or status
        raise ExtractError(f"API error: {_message_text(message)}")


def _message_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip() or "(empty message)"
    return json.dumps(value, ensure_ascii=False)


def _has_service_list(payload: dict[str, Any]) -> bool:
    return any(isinstance(payload.get(key), (list, dict)) for key in _WRAPPER_KEYS)


def _service_entries(payload: Any) -> tuple[list[tuple[Any, str | None]], str, str | None]:
    """The service entries with the id taken from a dict key (if keyed by id), a note, and the
    payload-wide currency if a wrapper states one."""
    if isinstance(payload, list):
        return [(entry, None) for entry in payload], f"JSON array of {len(payload)} entries", None
    if not isinstance(payload, dict):
        raise ExtractError(
            f"unexpected JSON shape: expected a list of services, got {_json_kind(payload)}")
    currency = _as_text(payload.get("currency")) if isinstance(payload.get("currency"), str) else None
    for key in _WRAPPER_KEYS:
        inner = payload.get(key)
        if isinstance(inner, list):
            return ([(entry, None) for entry in inner],
                    f"object wrapper: services under {key!r} ({len(inner)} entries)", currency)
        if isinstance(inner, dict) and _looks_keyed_by_id(inner):
            return ([(entry, str(entry_key)) for entry_key, entry in inner.items()],
                    f"object wrapper {key!r} keyed by service id ({len(inner)} entries)", currency)
    if _looks_keyed_by_id(payload):
        return ([(entry, str(entry_key)) for entry_key, entry in payload.items()],
                f"object keyed by service id ({len(payload)} entries)", None)
    for key in _WRAPPER_KEYS:
        if key in payload:
            raise ExtractError(f"unexpected JSON shape: {key!r} holds {_json_kind(payload[key])}, "
                               "not a list of services")
    keys = ", ".join(list(payload)[:8]) or "none"
    raise ExtractError(
        f"unexpected JSON shape: expected a list of services, got an object with keys: {keys}")


def _looks_keyed_by_id(mapping: dict[str, Any]) -> bool:
    """``{"12": {...}, "13": {...}}``: every value an object, most keys id-like."""
    if not mapping or not all(isinstance(value, dict) for value in mapping.values()):
        return False
    return all(str(key).strip().isdigit() or any(alias in value for alias in _NAME_KEYS)
               for key, value in mapping.items())


def _read_service(entry: Any, *, key_id: str | None, position: int) -> RawOffer | RawRejection:
    if not isinstance(entry, dict):
        return RawRejection(
            reason=f"entry #{position} is not an object (got {_json_kind(entry)})",
            raw={"value": entry if isinstance(entry, (str, int, bool, type(None))) else repr(entry)},
            site_offer_id=key_id)
    raw = dict(entry) if key_id is None else {"_key": key_id, **entry}
    service_id = _as_text(_first(entry, _ID_KEYS))
    if service_id is None or not service_id.strip():
        service_id = key_id
    entry_name = _first(entry, _NAME_KEYS)
    name = _as_text(entry_name)
    rate = _first(entry, _RATE_KEYS)
    missing = [label for label, value in (("service id", service_id), ("name", name))
               if value is None or not str(value).strip()]
    if rate is None or (isinstance(rate, str) and not rate.strip()):
        missing.append("rate")
    if missing:
        return RawRejection(reason=f"entry #{position}: missing {', '.join(missing)}",
                            raw=raw, site_offer_id=service_id)
    assert service_id is not None and name is not None  # both checked in `missing`
    wrong = [f"{label} is {_json_kind(value)}" for label, value in (("name", entry_name),
                                                                     ("rate", rate))
             if isinstance(value, (dict, list, bool))]
    if wrong:
        return RawRejection(reason=f"entry #{position}: {'; '.join(wrong)}", raw=raw,
                            site_offer_id=service_id)
    service_type = _as_text(entry.get("type"))
    return RawOffer(
        site_offer_id=service_id.strip(),
        name=name,
        category=_as_text(entry.get("category")),
        price=_as_text(rate),
        pricing="package" if _is_package(service_type) else "per_1000",
        currency=_as_text(entry.get("currency")),
        min_quantity=_as_text(entry.get("min")),
        max_quantity=_as_text(entry.get("max")),
        service_type=service_type,
        refill=entry.get("refill"),
        cancel=entry.get("cancel"),
        dripfeed=entry.get("dripfeed"),
        description=_as_text(_first(entry, _DESCRIPTION_KEYS)),
        average_time=_as_text(entry.get("average_time")),
        source="api",
        raw=raw,
    )


def _is_package(service_type: str | None) -> bool:
    # "Package", "package", "Custom Comments Package", "custom_comments_package".
    return service_type is not None and "package" in service_type.lower()


def _first(entry: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if entry.get(key) is not None:
            return entry[key]
    return None


def _as_text(value: Any) -> str | None:
    """A JSON value as text. Floats already arrive as their literal text (``parse_float=str``)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if value is None:
        return "null"
    return type(value).__name__
