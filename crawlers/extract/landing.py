"""Landing pages: public counters ("3832058 Total Orders") and PerfectPanel fingerprints.

Counter deltas over time are the volume signal behind market-size estimates, so a counter is
reported only when its label says what it counts: ``orders``, ``customers`` (clients, users,
members) or ``services``. Prices (``$0.001/1K Starting Price``), percentages and unknown labels
are skipped, and :func:`extract_landing` says so in its notes.

Pure functions; they never raise on a bad page (a landing page is secondary: an unreadable one
simply has no counters).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from crawlers.extract.html import element_text, load_html, normalize_words
from crawlers.items import ExtractError, ExtractResult, RawCounter

# Attributes where animated counters keep their final value.
_COUNTER_ATTRIBUTES = ("data-count", "data-to", "data-target", "data-purecounter-end",
                       "data-counter", "data-countup", "data-number", "data-value", "data-end",
                       "data-final", "data-counter-value")
_NUMBER = r"\d[\d,.\u00a0\u202f' ]*\d|\d"
_SHOWN = rf"(?P<number>{_NUMBER})\s*(?P<unit>[KkMmBb](?![^\W\d_]))?\s*(?P<plus>\+)?"
_NUMBER_ONLY = re.compile(rf"^\s*{_SHOWN}\s*$")
_NUMBER_THEN_LABEL = re.compile(rf"^\s*{_SHOWN}\s*[:\-–]?\s*(?P<label>\D.*?)\s*$")
_LABEL_THEN_NUMBER = re.compile(rf"^\s*(?P<label>.*?\D)\s*[:\-–]?\s*{_SHOWN}\s*$")
_NUMERIC_ATTRIBUTE = re.compile(r"^\s*\d[\d,.\s]*$")
_COUNTUP = re.compile(
    r"""new\s+(?:countUp\.)?CountUp\s*\(\s*['"]#?([\w-]+)['"]\s*,\s*(\d[\d.]*)\s*(?:,\s*(\d[\d.]*))?""")
# var ordersCompleted = 3832058;
_JS_NUMBER_VARIABLE = re.compile(r"\b(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*(\d[\d.]*)\s*[;,\n]")
# document.getElementById('orders').innerHTML = 3832058 (or = a variable); querySelector('#orders')
_JS_ASSIGNMENT = re.compile(
    r"""(?:getElementById\(\s*['"]([\w-]+)['"]\s*\)|querySelector\(\s*['"]#([\w-]+)['"]\s*\))"""
    r"""\s*\.\s*(?:innerHTML|innerText|textContent)\s*=\s*([A-Za-z_$][\w$]*|\d[\d.]*)""")
# $('#orders').text(3832058) / .html(...) / .countTo({to: 3832058}) / .attr('data-count', ...)
_JQUERY_VALUE = re.compile(
    r"""\$\(\s*['"]#([\w-]+)['"]\s*\)\s*\.\s*(?:text|html|countTo|animateNumber)\(\s*"""
    r"""(?:\{[^})]*?\b(?:to|number|end)\s*:\s*)?([A-Za-z_$][\w$]*|\d[\d.]*)""")
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "option", "select", "head",
                           "title", "textarea", "button"})

_KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("orders", ("order", "orders", "ordered", "siparis", "siparisler", "siparisi", "pedido",
                "pedidos", "encomenda", "encomendas", "commande", "commandes", "bestellung",
                "bestellungen", "ordine", "ordini", "pesanan", "don hang", "заказ", "заказов",
                "заказы", "заказа", "طلب", "طلبات", "الطلبات")),
    ("customers", ("client", "clients", "customer", "customers", "user", "users", "member",
                   "members", "registered", "signups", "kullanici", "kullanicilar", "musteri",
                   "musteriler", "musterimiz", "uye", "uyeler", "cliente", "clientes", "usuario",
                   "usuarios", "pelanggan", "pengguna", "khach hang", "nguoi dung", "клиент",
                   "клиентов", "клиенты", "пользователей", "пользователи", "عميل", "عملاء",
                   "العملاء", "utilisateur", "utilisateurs", "kunden", "utenti")),
    ("services", ("service", "services", "servis", "servisler", "hizmet", "hizmetler",
                  "servicio", "servicios", "servico", "servicos", "layanan", "dich vu", "услуг",
                  "услуги", "خدمة", "خدمات", "الخدمات", "servizi")),
)
_PRICE_WORDS: tuple[str, ...] = ("price", "prices", "starting", "from", "cost", "fiyat", "fiyatlar", "precio",
                "precios", "preco", "precos", "harga", "gia", "цена", "السعر", "prix", "preis",
                "prezzo")
# Matched against normalize_words(label): lower case, no accents ("Sipariş" -> "siparis").
_KIND_WORDS = tuple((kind, tuple(normalize_words(word) for word in words))
                    for kind, words in _KIND_WORDS)
_PRICE_WORDS = tuple(normalize_words(word) for word in _PRICE_WORDS)
_CURRENCY_MARKS = re.compile(r"[$€£₺₹₽₩¥₫₱₦₴₸৳฿]|/\s*1\s*[kK]\b|per\s*1000|\b(?:USD|EUR|TRY|INR)\b")


def extract_counters(html: bytes | str) -> list[RawCounter]:
    """Public counters of a landing page: ``orders``, ``customers`` and ``services``.

    ``value`` is the number as shown (``"3832058"``, ``"5253+"``, ``"1.2M"``); for an animated
    counter whose text is still ``0`` (or smaller than its target), the final value from its
    ``data-count``/``data-to``/``data-target``/``data-purecounter-end`` attribute or from a
    ``new CountUp('orders', 3832058)`` call. Never raises: an unreadable page has no counters.
    """
    return extract_landing(html).counters


def extract_landing(html: bytes | str) -> ExtractResult:
    """Like :func:`extract_counters`, with notes on what was skipped and why."""
    result = ExtractResult()
    try:
        document, notes = load_html(html)
    except ExtractError as error:
        result.notes.append(f"landing page not read: {error}")
        return result
    result.notes.extend(notes)
    seen: set[tuple[str, str]] = set()
    for value, label, source in _candidates(document):
        kind, reason = _classify(value, label)
        if kind is not None and _rough_number(value) == 0:
            kind, reason = None, "zero (an animated counter whose final value is not on the page)"
        if kind is None:
            result.notes.append(f"skipped {value!r} {label!r} ({source}): {reason}")
            continue
        if (kind, value) in seen:
            continue  # the same counter twice (desktop and mobile blocks)
        seen.add((kind, value))
        result.counters.append(RawCounter(name=kind, value=value, label=label))
    return result


def fingerprint_perfectpanel(html: bytes | str) -> list[str]:
    """Evidence that a page is served by PerfectPanel: one string per clue found.

    Clues: assets on ``cdn.mypanel.link``, the ``LoginForm[username]`` field, the ``_csrf``
    token (Yii), a ``/signup`` link. An empty list means no evidence (not proof of absence).
    """
    try:
        document, _ = load_html(html)
    except ExtractError:
        return []
    evidence: list[str] = []
    asset = next((value for element in document.iter() if isinstance(element.tag, str)
                  for value in (element.get("src"), element.get("href"))
                  if value and "cdn.mypanel.link" in value), None)
    if asset:
        evidence.append(f"asset on cdn.mypanel.link: {asset}")
    if document.xpath("//input[@name='LoginForm[username]']"):
        evidence.append("login form field LoginForm[username]")
    if document.xpath("//input[@name='_csrf'] | //meta[@name='csrf-param'][@content='_csrf']"):
        evidence.append("_csrf token field (Yii)")
    signup = document.xpath("//a[@href='/signup' or substring(@href, string-length(@href) - 6)"
                            " = '/signup']/@href")
    if signup:
        evidence.append(f"/signup link: {signup[0]}")
    return evidence


# -- finding numbers and their labels -----------------------------------------------------------

def _candidates(document: Any) -> Iterator[tuple[str, str, str]]:
    """``(value as shown, label, where found)`` in document order, each number once."""
    used: set[Any] = set()
    script_targets = _script_counter_targets(document)
    for element in document.iter():
        if not isinstance(element.tag, str) or element.tag in _SKIPPED_TAGS:
            continue
        if _inside_skipped(element):
            continue
        attribute_value = next(
            ((f"{name} attribute", element.get(name)) for name in _COUNTER_ATTRIBUTES
             if element.get(name) and _NUMERIC_ATTRIBUTE.match(element.get(name))), None)
        if attribute_value is None and element.get("id") in script_targets:
            attribute_value = script_targets.pop(element.get("id"))
        text = element_text(element)
        if attribute_value is not None:
            name, final = attribute_value
            shown = _NUMBER_ONLY.match(text) if text else None
            if shown and _rough_number(shown.group("number") + (shown.group("unit") or "")
                                       ) >= _rough_number(final):
                value = _shown_value(shown)
            else:
                value = final.strip() + _suffix_after(element, text)
            used.add(element)
            yield value, _label_for(element, text), name
            continue
        if any(ancestor in used for ancestor in element.iterancestors()):
            continue
        if not text or len(text) > 80 or not any(char.isdigit() for char in text):
            continue
        if any(isinstance(child.tag, str) and any(c.isdigit() for c in element_text(child))
               for child in element):
            continue  # the number sits in a child: read it there
        shown = _NUMBER_ONLY.match(text)
        if shown:
            used.add(element)
            yield _shown_value(shown), _label_for(element, text), "number element"
            continue
        if _CURRENCY_MARKS.search(text) and len(text) <= 30:
            used.add(element)  # "$0.001/1K": reported so the notes say why it was skipped
            yield text, _label_for(element, text), "price text"
            continue
        for pattern in (_NUMBER_THEN_LABEL, _LABEL_THEN_NUMBER):
            match = pattern.match(text)
            if match and re.search(r"[^\W\d_]", match.group("label")):
                used.add(element)
                yield _shown_value(match), match.group("label").strip(" :-–"), "text"
                break
    for target_id, (source, final) in script_targets.items():  # ids not found on the page
        yield final, target_id.replace("-", " ").replace("_", " "), source


def _script_counter_targets(document: Any) -> dict[str, tuple[str, str]]:
    """Element id -> (where found, final value) for counters whose value lives in a script:
    ``new CountUp('orders', 3832058)``, ``getElementById('orders').innerHTML = total`` with
    ``var total = 3832058``, ``$('#orders').countTo({to: 3832058})``."""
    scripts = [script.text for script in document.iter("script") if script.text]
    variables = {name: value for text in scripts
                 for name, value in _JS_NUMBER_VARIABLE.findall(text)}
    targets: dict[str, tuple[str, str]] = {}
    for text in scripts:
        for target_id, second, third in _COUNTUP.findall(text):
            # CountUp v1 is (id, start, end); v2 is (id, end, options).
            targets[target_id] = ("CountUp script", third or second)
        for by_id, by_selector, value in _JS_ASSIGNMENT.findall(text):
            final = value if value[0].isdigit() else variables.get(value)
            if final:
                targets[by_id or by_selector] = ("script assignment", final)
        for target_id, value in _JQUERY_VALUE.findall(text):
            final = value if value[0].isdigit() else variables.get(value)
            if final:
                targets.setdefault(target_id, ("jQuery script", final))
    return targets


def _inside_skipped(element: Any) -> bool:
    return any(ancestor.tag in _SKIPPED_TAGS for ancestor in element.iterancestors())


def _shown_value(match: re.Match[str]) -> str:
    return match.group("number").strip() + (match.group("unit") or "") + (match.group("plus") or "")


def _suffix_after(element: Any, text: str) -> str:
    """"+" or "K+" shown right after an animated number (in its text, tail or next sibling)."""
    for candidate in (re.sub(r"^[\d,.\s]*", "", text), element.tail or "",
                      element_text(element.getnext()) if element.getnext() is not None else ""):
        match = re.match(r"^\s*([KkMmBb]?\+)", candidate)
        if match:
            return match.group(1)
        if candidate.strip():
            break
    return ""


def _label_for(element: Any, own_text: str) -> str:
    """The text that names a number: its next sibling, its tail, its previous sibling, or the
    rest of a small enclosing block."""
    tail = (element.tail or "").strip(" \n\t+:-–")
    if _is_label(tail):
        return tail
    for sibling in (element.getnext(), element.getprevious()):
        while sibling is not None and not isinstance(sibling.tag, str):
            sibling = sibling.getnext()
        if sibling is not None:
            text = element_text(sibling).strip(" +:-–")
            if _is_label(text):
                return text
    container = element.getparent()
    for _level in range(3):
        if container is None:
            break
        text = element_text(container)
        if own_text and own_text in text:
            text = text.replace(own_text, " ", 1)
        text = " ".join(text.split()).strip(" +:-–")
        if len(text) > 80 or re.search(r"\d{3,}", text):
            break  # another block's numbers: this container holds several counters
        if _is_label(text):
            return text
        container = container.getparent()
    return ""


def _is_label(text: str) -> bool:
    return bool(text) and len(text) <= 80 and re.search(r"[^\W\d_]{2,}", text) is not None


def _classify(value: str, label: str) -> tuple[str | None, str]:
    if not label:
        return None, "no label next to the number"
    if _CURRENCY_MARKS.search(value) or _CURRENCY_MARKS.search(label):
        return None, "a price, not a counter"
    words = normalize_words(label)
    tokens = set(words.split())
    padded = f" {words} "
    if not tokens.isdisjoint(_PRICE_WORDS):
        return None, "a price, not a counter"
    if "%" in value or "%" in label or "24/7" in label:
        return None, "a percentage or a slogan, not a counter"
    for kind, kind_words in _KIND_WORDS:
        if any((f" {word} " in padded) if " " in word else word in tokens for word in kind_words):
            return kind, ""
    return None, "the label names none of orders, customers, services"


def _rough_number(text: str) -> float:
    """Enough to compare a shown number with a counter's target (``0`` < ``3832058``)."""
    match = re.match(r"([\d,.\s\u00a0']+)([KkMmBb])?", text.strip())
    if not match:
        return 0.0
    digits = re.sub(r"[,\s\u00a0']", "", match.group(1))
    if digits.count(".") == 1 and len(digits.split(".")[1]) != 3:
        number = float(digits)
    else:
        number = float(digits.replace(".", "") or 0)
    multiplier = {"k": 1e3, "m": 1e6, "b": 1e9}.get((match.group(2) or "").lower(), 1)
    return number * multiplier
