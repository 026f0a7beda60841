"""Package cards: retail offers read from HTML without structured data.

"Buy followers" shops show each package as a block holding a size and a price: a Bootstrap
pricing card, a WooCommerce shop-loop ``<li class="product">``, an Elementor price table, a
table row, a ``<select>`` option "1000 Followers - $12.99". The heuristic is generic, not one
template:

1. **Price nodes**: the smallest elements whose text (struck-through parts left out) is one
   price with a currency (``$27``, ``12,99 €``, ``R$ 29,90``, ``£9.99``, ``$ 27 99`` when the
   cents sit in their own element), or a bare number in an element classed ``price`` /
   ``amount``. A price inside ``<del>``, ``<s>``, ``<strike>``, an element styled
   ``line-through`` or classed ``compare``/``old``/``was``/``regular``/``original`` is a
   compare-at price.
2. **Quantity nodes**: the largest elements whose whole text is a size, optionally with up to
   three words: ``1,000 Followers``, ``1K``, ``1.5k``, ``10 000``, ``1M``, ``2.5K Likes``.
   Durations, percentages and counts that are not sizes (``30-day refill``, ``24/7``,
   ``100% real``, ``5 stars``, ``120 sold``) are not sizes.
3. **Cards**: from each price node, the closest ancestor that holds a quantity node. It is a
   card when it holds exactly one size (otherwise it is the whole list, and the price belongs
   to no single package). Titles ("STARTER"), badges ("Most Popular") and features ("Instant
   delivery") are ignored.
4. **Inline packages**: an element whose text is "size - price" (``<option>``, ``<li>``).

The offer's name is the nearest heading above the card (or the page title) plus the size as
written, so the taxonomy can read the platform and metric; its id comes from the card's own
markup (``data-product-id``, ``?add-to-cart=``, an option value) when it has one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crawlers.items import ExtractResult, RawOffer

SOURCE = "storefront"
"""``RawOffer.source`` of card offers: page text (``"12,99 €"``), read with the currency's
separators."""

_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head", "title",
                           "meta", "link", "iframe", "button"})
_STRUCK_TAGS = frozenset({"del", "s", "strike"})
_STRUCK_CLASS = re.compile(
    r"(?:^|[-_\s])(?:compare|old|was|regular|original|strike|striked|strikethrough|"
    r"crossed|before|line-through|list-price|listprice|msrp)(?:$|[-_\s])", re.IGNORECASE)
# Class tokens of the element holding a price's number ("price", "amount",
# "elementor-price-table__price"), not of its neighbours ("after-price", "price-label").
_PRICE_CLASS = re.compile(r"^(?:[\w-]*__)?(?:(?:product|sale|current|final|special)[-_])?"
                          r"(?:price|amount|money|cost)(?:[-_](?:now|current|value|amount))?$",
                          re.IGNORECASE)

_SYMBOL = (r"(?:US\$|R\$|CA\$|C\$|AU\$|A\$|NZ\$|HK\$|S\$|MX\$|\$|€|£|₹|₺|₽|¥|￥|₩|₦|₱|₴|₫|৳|฿|"
           r"₪|₸|Rp\.?|RM|zł|Kč|kr\.?|CHF|Rs\.?|TL|lei|Ft|VNĐ|vnđ|đ(?!\w)|руб\.?|р\.|грн\.?|"
           r"[A-Z]{3}(?![a-z]))")
_AMOUNT = r"(?:\d{1,3}(?:[.,\u00a0 ’']\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,3})?)(?: \d{2})?"
_PRICE = re.compile(
    rf"^(?:(?P<pre>{_SYMBOL})\s?{_AMOUNT}(?:\s?{_SYMBOL})?|{_AMOUNT}\s?(?P<post>{_SYMBOL}))"
    rf"(?:\s*\*)?$")
_BARE_AMOUNT = re.compile(rf"^{_AMOUNT}$")
_NUMBER = r"\d{1,3}(?:[.,\u00a0 ]\d{3})+|\d+(?:[.,]\d+)?"
_QUANTITY = re.compile(
    rf"^\+?\s*(?P<number>{_NUMBER})\s*(?P<suffix>[kKmM]|thousand|million)?\+?"
    r"(?P<words>(?:\s+[^\W\d_][\w'’.-]*){0,3})\s*$")
_NOT_SIZE_WORDS = re.compile(
    r"^\s*(?:days?|hours?|hrs?|h|minutes?|mins?|weeks?|months?|years?|tage?n?|stunden?|std|"
    r"monate?n?|dias?|días|horas?|meses|mes|jours?|heures?|mois|giorni|ore|mesi|gün|saat|ay|"
    r"hari|jam|bulan|dni|godzin|ngày|giờ|stars?|sold|orders?|"
    r"customers?|clients?|ratings?|reviews? from|left|in stock|available|%|x)\b", re.IGNORECASE)
_INLINE = re.compile(
    rf"^(?P<quantity>\+?(?:{_NUMBER})\s*(?:[kKmM]\b)?\+?(?:\s+[^\W\d_][\w'’.-]*){{0,3}})\s*"
    rf"(?:[-–—:|=@]|for|por|für|pour)?\s*"
    rf"(?P<price>(?:{_SYMBOL})\s?{_AMOUNT}|{_AMOUNT}\s?(?:{_SYMBOL}))\s*$")
_ID_ATTRIBUTES = ("data-variant-id", "data-product-id", "data-product_id", "data-package-id",
                  "data-package", "data-sku", "data-id", "data-offer-id")
_ID_PARAMETERS = ("add-to-cart", "variant", "variant_id", "product_id", "package", "pid", "id")
_SPACES = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\u00a0", " ")).strip()


def _classes(element: Any) -> str:
    return element.get("class") or ""


def _is_hidden(element: Any) -> bool:
    style = (element.get("style") or "").replace(" ", "").lower()
    return element.get("hidden") is not None or "display:none" in style


def _is_struck(element: Any) -> bool:
    if not isinstance(element.tag, str):
        return False
    if element.tag.lower() in _STRUCK_TAGS:
        return True
    style = (element.get("style") or "").replace(" ", "").lower()
    return "line-through" in style or bool(_STRUCK_CLASS.search(_classes(element)))


def is_price_text(text: str) -> bool:
    """``"$27"``, ``"12,99 €"``, ``"R$ 29,90"``, ``"USD 5"``: one price naming a currency."""
    return bool(_PRICE.match(_clean(text)))


def is_quantity_text(text: str) -> bool:
    """``"1,000 Followers"``, ``"1K"``, ``"1.5k"``, ``"10 000"``, ``"1M"``: a package size
    (with at most three words), not a duration, percentage, rating or price."""
    cleaned = _clean(text)
    match = _QUANTITY.match(cleaned)
    if not match or is_price_text(cleaned):
        return False
    number = match["number"]
    if re.fullmatch(r"\d+[.,]\d+", number) and not match["suffix"] and not re.fullmatch(
            r"\d{1,3}[.,]\d{3}", number):
        return False  # "4.9" is a rating, "1.5k" and "1.000" are sizes
    return not _NOT_SIZE_WORDS.match(match["words"] or "")


@dataclass
class _Texts:
    """Visible text of every element, with and without its struck-through parts."""

    full: dict[Any, str] = field(default_factory=dict)
    unstruck: dict[Any, str] = field(default_factory=dict)

    def collect(self, element: Any) -> tuple[list[str], list[str]]:
        full: list[str] = []
        unstruck: list[str] = []
        if element.text and element.text.strip():
            full.append(element.text.strip())
            unstruck.append(element.text.strip())
        for child in element:
            if isinstance(child.tag, str) and child.tag.lower() not in _SKIPPED_TAGS and (
                    not _is_hidden(child)):
                child_full, child_unstruck = self.collect(child)
                full.extend(child_full)
                if not _is_struck(child):
                    unstruck.extend(child_unstruck)
            if child.tail and child.tail.strip():
                full.append(child.tail.strip())
                unstruck.append(child.tail.strip())
        self.full[element] = _clean(" ".join(full))
        self.unstruck[element] = _clean(" ".join(unstruck))
        return full, unstruck


@dataclass
class _Card:
    element: Any
    quantity: Any | None
    """The size element; ``None`` for a card shaped like the others that shows no size."""
    prices: list[Any]


def _direct_text(element: Any) -> str:
    """The text right inside ``element``, outside its child elements (``<h1>$27 <small>/
    month</small></h1>`` -> ``"$27"``; ``<td><s>$15</s> $12</td>`` -> ``"$12"``)."""
    parts = [element.text or ""] + [child.tail or "" for child in element]
    return _clean(" ".join(parts))


def price_text(element: Any, texts: _Texts) -> str | None:
    """The price an element shows (struck-through parts left out), or ``None``."""
    text = texts.unstruck.get(element, "")
    if not text:
        return None
    if _PRICE.match(text):
        return text
    if _BARE_AMOUNT.match(text) and any(_PRICE_CLASS.search(token)
                                        for token in _classes(element).split()):
        return text
    if len(element):
        direct = _direct_text(element)
        if direct and _PRICE.match(direct):
            return direct
    return None


def _is_price_node(element: Any, texts: _Texts) -> bool:
    return price_text(element, texts) is not None


def _struck_price(element: Any, texts: _Texts) -> bool:
    text = texts.full.get(element, "")
    return _is_struck(element) and bool(_PRICE.match(text) or (
        _BARE_AMOUNT.match(text) and _PRICE_CLASS.search(_classes(element))))


def _elements(root: Any, texts: _Texts) -> list[Any]:
    return [element for element in root.iter() if element in texts.full]


def _ancestors(element: Any, root: Any) -> list[Any]:
    chain = []
    parent = element.getparent()
    while parent is not None:
        chain.append(parent)
        if parent is root:
            break
        parent = parent.getparent()
    return chain


def _price_nodes(elements: list[Any], texts: _Texts) -> tuple[list[Any], list[Any]]:
    """(current price nodes, struck price nodes), smallest elements only, in page order."""
    current = [e for e in elements if _is_price_node(e, texts) and not _is_struck(e)]
    current_set = set(current)
    # Keep the smallest: an element whose descendant is already a price node is its container.
    has_inner = set()
    for element in current:
        for ancestor in _ancestors(element, None):
            if ancestor in current_set:
                has_inner.add(ancestor)
    current = [e for e in current if e not in has_inner]
    struck = [e for e in elements if _struck_price(e, texts)]
    struck_set = set(struck)
    struck = [e for e in struck if not any(a in struck_set for a in _ancestors(e, None))]
    # A "current" price inside a struck element is the struck price itself.
    struck_all = struck_set
    current = [e for e in current
               if not any(a in struck_all or _is_struck(a) for a in _ancestors(e, None))]
    return current, struck


def _quantity_nodes(elements: list[Any], texts: _Texts) -> list[Any]:
    """Largest elements whose whole text is a size."""
    matching = {e for e in elements if is_quantity_text(texts.full.get(e, ""))}
    return [e for e in elements
            if e in matching and (e.getparent() is None or e.getparent() not in matching)]


def _card_of(price: Any, quantity_count: dict[Any, int], root: Any) -> Any | None:
    for ancestor in _ancestors(price, root):
        count = quantity_count.get(ancestor, 0)
        if count == 1:
            return ancestor
        if count > 1:
            return None
    return None


_PAGE_LEVEL = frozenset({"body", "html", "main", "form"})


def _widen(card: Any, entry: _Card, quantity_count: dict[Any, int], root: Any) -> Any:
    """The whole block of a package: the largest ancestor that still holds only this size and
    no page heading (``<a>`` -> its ``<li class="product">``, card body -> card), so the
    block's id (an add-to-cart link beside the title link) is found."""
    while True:
        parent = card.getparent()
        if parent is None or card is root or parent.tag in _PAGE_LEVEL:
            return card
        if quantity_count.get(parent, 0) > 1:
            return card
        headings = [h for h in parent.iter("h1", "h2")
                    if h is not card and card not in _ancestors(h, root)
                    and h not in card.iter()]
        if headings:
            return card
        card = parent


def _signature(element: Any) -> tuple[str, str]:
    """Tag and first class: what repeated blocks of one list share (``div.package`` and
    ``div.package.featured`` alike)."""
    classes = _classes(element).split()
    return element.tag, classes[0] if classes else ""


def _add_sibling_cards(cards: dict[Any, _Card], prices: list[Any], root: Any,
                       texts: _Texts) -> None:
    """Blocks shaped like the cards found (same parent, same tag and first class) are packages
    too, even when they show no readable size ("Mega pack") or no price ("Temporarily
    unavailable"): they become offers that normalization rejects with that reason, instead of
    packages that silently vanish (and would be marked removed)."""
    shapes: dict[tuple[Any, tuple[str, str]], list[_Card]] = {}
    for card, entry in cards.items():
        shapes.setdefault((card.getparent(), _signature(card)), []).append(entry)
    for (parent, signature), entries in shapes.items():
        if parent is None or len(entries) < 2:
            continue  # one card is no pattern to extend
        quantity_shapes = {_signature(e.quantity) for e in entries if e.quantity is not None}
        for sibling in parent:
            if sibling in cards or not isinstance(sibling.tag, str) or (
                    _signature(sibling) != signature):
                continue
            if not any(char.isdigit() for char in texts.full.get(sibling, "")):
                continue  # a header row, a "contact us" block: no size, no price
            place = next((e for e in sibling.iter()
                          if isinstance(e.tag, str) and _signature(e) in quantity_shapes), None)
            inner = [p for p in prices if p is sibling or sibling in _ancestors(p, root)]
            cards[sibling] = _Card(sibling, place, inner)


def _offer_id(card: Any) -> str | None:
    for element in (card, *card.iterdescendants()):
        if not isinstance(element.tag, str):
            continue
        for attribute in _ID_ATTRIBUTES:
            value = element.get(attribute)
            if value and value.strip():
                return value.strip()
        if element.tag == "input" and (element.get("name") or "").lower() in (
                "id", "variant", "variant_id", "product_id", "add-to-cart", "package"):
            value = element.get("value")
            if value and value.strip():
                return value.strip()
        href = element.get("href")
        if href and "?" in href:
            query = parse_qs(urlsplit(href).query)
            for parameter in _ID_PARAMETERS:
                if query.get(parameter) and query[parameter][0].strip():
                    return query[parameter][0].strip()
    return None


def _headings_before(root: Any, cards: set[Any]) -> dict[Any, str]:
    """For each card: the text of the last heading before it that is not inside a card."""
    context: dict[Any, str] = {}
    last = ""
    inside: set[Any] = set()
    for card in cards:
        inside.update(card.iter())
    for element in root.iter():
        if element in cards:
            context[element] = last
        if (isinstance(element.tag, str) and element.tag.lower() in ("h1", "h2", "h3")
                and element not in inside):
            text = _clean(element.text_content())
            if text and not is_price_text(text):
                last = text
    return context


def _page_title(root: Any) -> str:
    title = root.find(".//title")
    if title is not None and title.text:
        return _clean(title.text)
    return ""


def _describe(element: Any) -> str:
    classes = _classes(element).split()
    return element.tag + ("." + ".".join(classes[:2]) if classes else "")


def extract_package_cards(document: Any, *, base_url: str | None = None) -> ExtractResult:
    """Raw package offers of the cards (and inline "size - price" items) of an lxml page."""
    result = ExtractResult()
    body = document.find(".//body")
    root = body if body is not None else document
    texts = _Texts()
    texts.collect(root)
    elements = _elements(root, texts)
    prices, struck = _price_nodes(elements, texts)
    # "Price per 1000: $2.10": a rate, read apart from the package cards.
    unit_nodes = _unit_price_nodes(root, texts)
    in_units = {element for node in unit_nodes for element in node.iter()}
    prices = [node for node in prices if node not in in_units]
    struck = [node for node in struck if node not in in_units]
    prices, beside = _settle_bare_amounts(prices, texts, root)
    # A number inside a price ("<span>29</span><sup>99</sup>") is not a size.
    in_prices = {element for node in (*prices, *struck) for element in node.iter()}
    quantities = [node for node in _quantity_nodes(elements, texts)
                  if node not in in_prices and node not in in_units]

    quantity_count: dict[Any, int] = {}
    for node in quantities:
        for element in (node, *_ancestors(node, root)):
            quantity_count[element] = quantity_count.get(element, 0) + 1
    cards: dict[Any, _Card] = {}
    for price in prices:
        card = _card_of(price, quantity_count, root)
        if card is None:
            continue
        if card not in cards:
            quantity = next(node for node in quantities
                            if node is card or card in _ancestors(node, root))
            cards[card] = _Card(card, quantity, [])
        cards[card].prices.append(price)
    cards = {_widen(card, entry, quantity_count, root): entry for card, entry in cards.items()}
    for card, entry in cards.items():
        entry.element = card
    # A card inside another card: the inner one is the package.
    for outer in [c for c in cards if any(o is not c and c in _ancestors(o, root)
                                          for o in cards)]:
        del cards[outer]
    _add_sibling_cards(cards, prices, root, texts)

    context = _headings_before(root, set(cards))
    fallback_title = _page_title(document)
    around = page_context(document, root)
    names_seen: dict[str, int] = {}
    markups: dict[str, int] = {}
    for card in cards.values():
        quantity_text = with_unit(card.quantity, texts) if card.quantity is not None else ""
        compare = next((node for node in struck
                        if node is card.element or card.element in _ancestors(node, root)), None)
        heading = context.get(card.element) or fallback_title
        if not quantity_text:
            # No place for a size: the card's own text says what it sells.
            quantity_text = texts.unstruck[card.element][:80]
        name = f"{heading} - {quantity_text}" if heading else quantity_text
        names_seen[name] = names_seen.get(name, 0) + 1
        if names_seen[name] > 1:
            name = f"{name} ({names_seen[name]})"
        markups[_describe(card.element)] = markups.get(_describe(card.element), 0) + 1
        result.offers.append(RawOffer(
            site_offer_id=_offer_id(card.element), name=name, category=heading or None,
            price=price_text(card.prices[0], texts) if card.prices else None,
            pricing="package", quantity=quantity_text,
            compare_at_price=texts.full[compare] if compare is not None else None,
            currency=beside.get(card.prices[0]) if card.prices else None,
            context=around, source=SOURCE,
            raw={"card": texts.full[card.element][:500], "url": base_url,
                 "markup": _describe(card.element)}))

    inline = _inline_offers(root, texts, set(cards) | set(unit_nodes), context_for=lambda element: (
        _nearest_heading(root, element) or fallback_title), base_url=base_url)
    flat = _flat_offers(root, texts, quantities, prices, struck, set(cards), context=around,
                        base_url=base_url)
    result.offers.extend(flat)
    if flat:
        result.notes.append(f"package cards without a wrapper (heading, size, price in a "
                            f"row): {len(flat)}")
    for offer in inline:
        offer.context = around
    result.offers.extend(inline)
    rates = _unit_price_offers(root, texts, unit_nodes, set(cards), context=around,
                               base_url=base_url)
    result.offers.extend(rates)
    if rates:
        result.notes.append(f"unit prices (a price per N units, read as a rate per 1000): "
                            f"{len(rates)}")
    if cards:
        shapes = ", ".join(f"{count} x <{markup}>" for markup, count in markups.items())
        result.notes.append(f"package cards: {len(cards)} ({shapes})")
    if inline:
        result.notes.append(f"inline packages (size - price): {len(inline)}")
    return result


def _flat_offers(root: Any, texts: _Texts, quantities: list[Any], prices: list[Any],
                 struck: list[Any], cards: set[Any], *, context: str | None,
                 base_url: str | None) -> list[RawOffer]:
    """Cards written without a wrapper: one container whose children run "heading, size,
    price[, old price]" again and again (``<section><h3>Starter</h3><p>100 Likes</p><p>$1.99
    </p><h3>Pro</h3>...``). Each run that starts at a heading and holds exactly one size and one
    price is a package; a container where any run is ambiguous gives none."""
    inside_cards = {element for card in cards for element in card.iter()}
    parents: dict[Any, int] = {}
    for node in quantities:
        if node in inside_cards:
            continue
        parent = node.getparent()
        if parent is not None:
            parents[parent] = parents.get(parent, 0) + 1
    offers: list[RawOffer] = []
    for container, count in parents.items():
        if count < 2 or container in inside_cards:
            continue
        children = [child for child in container if isinstance(child.tag, str)]
        if not any(child.tag.lower() in _HEADINGS for child in children):
            continue
        runs: list[list[Any]] = []
        for child in children:
            if child.tag.lower() in _HEADINGS or not runs:
                runs.append([])
            runs[-1].append(child)
        found: list[RawOffer] = []
        above = _heading_above(root, container)
        for run in runs:
            members = {element for child in run for element in child.iter()}
            sizes = [node for node in quantities if node in members]
            current = [node for node in prices if node in members]
            old = [node for node in struck if node in members]
            if not sizes and not current:
                continue
            if len(sizes) != 1 or len(current) != 1 or len(old) > 1:
                found = []
                break
            heading = texts.full.get(run[0], "") if run[0].tag.lower() in _HEADINGS else ""
            size = with_unit(sizes[0], texts)
            found.append(RawOffer(
                site_offer_id=next((i for i in map(_offer_id, run) if i), None),
                name=" - ".join(part for part in (above, heading, size) if part),
                category=heading or None, price=price_text(current[0], texts),
                pricing="package", quantity=size,
                compare_at_price=texts.full[old[0]] if old else None, context=context,
                source=SOURCE,
                raw={"card": " ".join(texts.full.get(child, "") for child in run)[:500],
                     "url": base_url, "markup": _describe(container)}))
        if len(found) >= 2:
            offers.extend(found)
    return offers


def _settle_bare_amounts(prices: list[Any], texts: _Texts, root: Any
                         ) -> tuple[list[Any], dict[Any, str]]:
    """Bare numbers read as prices because of their class (``<div class="amount">500</div>``):
    with a currency beside them (``<span content="EUR">€</span> <span class="amount">3</span>``)
    they are prices in that currency; when a price naming a currency shares their block, they
    are the package's size, not a second price (a tier card's "500" above "$4.99")."""
    beside: dict[Any, str] = {}
    kept: list[Any] = []
    is_named = {node: bool(_PRICE.match(price_text(node, texts) or "")) for node in prices}
    under: dict[Any, int] = {}  # price nodes below each element
    named_under: dict[Any, int] = {}  # of them, prices naming a currency
    for node in prices:
        for ancestor in _ancestors(node, root):
            under[ancestor] = under.get(ancestor, 0) + 1
            named_under[ancestor] = named_under.get(ancestor, 0) + is_named[node]
    for node in prices:
        if is_named[node]:
            kept.append(node)
            continue
        currency = currency_beside(node, texts)
        if currency is not None:
            beside[node] = currency
            kept.append(node)
            continue
        # The smallest block holding another price: a size there when that one names a currency.
        block = next((ancestor for ancestor in _ancestors(node, root)
                      if under.get(ancestor, 0) >= 2), None)
        if block is not None and named_under.get(block, 0) and is_quantity_text(
                texts.full.get(node, "")):
            continue  # the size of the card
        kept.append(node)
    return kept, beside


def _unit_price_offers(root: Any, texts: _Texts, nodes: list[Any], cards: set[Any], *,
                       context: str | None, base_url: str | None) -> list[RawOffer]:
    inside_cards = {element for card in cards for element in card.iter()}
    offers: list[RawOffer] = []
    names_seen: dict[str, int] = {}
    headings = _headings_above(root, set(nodes))
    for node in nodes:
        if node in inside_cards:
            continue  # "($12.99 per 1000)" beside a package price: the package is the offer
        found = unit_price(texts.unstruck[node])
        if found is None:
            continue
        price, per_units = found
        heading = headings.get(node, "")
        name = heading or texts.full[node]
        names_seen[name] = names_seen.get(name, 0) + 1
        if names_seen[name] > 1:
            name = f"{name} ({names_seen[name]})"
        parent = node.getparent()
        block = parent if parent is not None and parent.tag not in _PAGE_LEVEL else node
        offers.append(RawOffer(
            site_offer_id=_offer_id(block), name=name, category=heading or None, price=price,
            pricing="per_1000", price_per_units=per_units, context=context, source=SOURCE,
            raw={"text": texts.full[node], "url": base_url, "markup": _describe(node)}))
    return offers


_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def _headings_above(root: Any, targets: set[Any]) -> dict[Any, str]:
    """For each target: the last heading (``<h1>``..``<h6>``) before it in the page."""
    found: dict[Any, str] = {}
    last = ""
    for element in root.iter():
        if element in targets:
            found[element] = last
        if isinstance(element.tag, str) and element.tag.lower() in _HEADINGS:
            text = _clean(element.text_content())
            if text and not is_price_text(text):
                last = text
    return found


def _heading_above(root: Any, target: Any) -> str:
    """The last heading (``<h1>``..``<h6>``) before ``target`` in the page."""
    return _headings_above(root, {target}).get(target, "")


def _nearest_heading(root: Any, target: Any) -> str:
    last = ""
    for element in root.iter():
        if element is target:
            return last
        if isinstance(element.tag, str) and element.tag.lower() in ("h1", "h2", "h3"):
            text = _clean(element.text_content())
            if text:
                last = text
    return last


def _inline_match(text: str) -> re.Match[str] | None:
    """"1000 Followers - $12.99": a size then a price (a bare price such as "7,99 €" is not)."""
    if not text or is_price_text(text):
        return None
    match = _INLINE.match(text)
    return match if match and is_quantity_text(match["quantity"]) else None


def _inline_offers(root: Any, texts: _Texts, cards: set[Any], *, context_for: Any,
                   base_url: str | None) -> list[RawOffer]:
    inside_cards: set[Any] = set()
    for card in cards:
        inside_cards.update(card.iter())
    offers = []
    for element in root.iter():
        if element in inside_cards or element not in texts.full:
            continue
        if any(child in texts.full and _inline_match(texts.full[child]) for child in element):
            continue  # the smallest element holding the pair
        match = _inline_match(texts.full[element])
        if not match:
            continue
        heading = context_for(element)
        quantity_text = match["quantity"].strip()
        site_offer_id = (element.get("value") or "").strip() or _offer_id(element)
        offers.append(RawOffer(
            site_offer_id=site_offer_id, name=f"{heading} - {quantity_text}" if heading
            else quantity_text, category=heading or None, price=match["price"].strip(),
            pricing="package", quantity=quantity_text, source=SOURCE,
            raw={"text": texts.full[element], "url": base_url, "markup": _describe(element)}))
    return offers


# --- unit prices: "Price per 1000: $2.10", "Цена за 1000 штук: 95 руб.", "₹ 0.45 / like" -------

_FIND_PRICE = re.compile(
    rf"(?<![\w.,])(?:(?:{_SYMBOL})\s?{_AMOUNT}(?:\s?(?:{_SYMBOL}))?|{_AMOUNT}\s?(?:{_SYMBOL}))"
    r"(?![\w.,]\d)")
# Words that mean "per" (not "for": "Price for 1000 followers: $12.99" is a package).
_PER = (r"(?:per|each|za|за|по|por|cada|a\s+cada|başına|basina|untuk|setiap|tiap|per|"
        r"لكل|cho|mỗi|moi|prati|har|pratee|/)")
# Units counted by a unit price: engagement nouns (singular and plural, in the languages of
# the sellers) and counting words ("штук", "pcs", "adet", "unidades", "cái").
_UNIT_WORDS = (
    r"(?:followers?|likes?|views?|subscribers?|subs?|members?|comments?|plays?|streams?|"
    r"shares?|retweets?|reposts?|saves?|votes?|reviews?|installs?|visitors?|visits?|"
    r"listeners?|impressions?|reactions?|fans?|clicks?|units?|pcs|pieces?|items?|"
    r"шт\.?|штук[аи]?|подписчик(?:а|ов|и)?|лайк(?:а|ов|и)?|просмотр(?:а|ов|ы)?|"
    r"seguidores?|curtidas?|likes?|visualizaç(?:ões|ão)|visualizaciones?|vistas?|me\s+gusta|"
    r"unidades?|takipçi|takipci|beğeni|begeni|izlenme|adet|pengikut|suka|tayangan|buah|"
    r"متابع(?:ين)?|لايك|مشاهدة|وحدة|followers?\s+ki|likes?\s+ki|"
    r"người\s+theo\s+dõi|lượt\s+thích|lượt\s+xem|lượt|cái)")
_PRICE_WORDS = (r"(?:price|rate|cost|цена|стоимость|precio|preço|preco|valor|fiyat[ıi]?|"
                r"ücret|harga|السعر|سعر|keemat|kimat|qeemat|daam|dam|giá|gia)")
_N = r"(?P<n>\d{1,3}(?:[.,\s]\d{3})+|\d+)\s*(?P<k>[kK])?"
_UNIT_PHRASES = (
    # "per 1000", "за 1000 штук", "/ 1K followers", "por 1000 seguidores", "لكل 1000"
    re.compile(rf"(?:^|[\s(:])(?:{_PER})\s*{_N}(?:\s*{_UNIT_WORDS})?(?=[\s):=\-–—]|$)",
               re.IGNORECASE),
    # "1000 adet başına", "1000 takipçi fiyatı", "1000 followers ki keemat", "1000 шт."
    re.compile(rf"(?:^|[\s(]){_N}\s*(?:{_UNIT_WORDS}\s*)?(?:başına|basina|fiyatı|fiyati|"
               r"ki\s+keemat|ki\s+kimat|ka\s+daam|ka\s+rate|ke\s+liye)(?=[\s):=\-–—]|$)",
               re.IGNORECASE),
    # "/ like", "per follower", "за подписчика", "each": one unit
    re.compile(rf"(?:^|[\s(])(?:{_PER})\s*(?P<unit>{_UNIT_WORDS})(?=[\s).,;]|$)",
               re.IGNORECASE),
    re.compile(r"(?:^|\s)(?P<each>each|apiece|cada\s+uno|за\s+штуку|mỗi\s+cái)(?=[\s).,;]|$)",
               re.IGNORECASE),
)
_UNIT_PRICE_LABEL = re.compile(rf"(?:^|[\s(]){_PRICE_WORDS}(?=[\s:(]|$)", re.IGNORECASE)
_MAX_UNIT_PRICE_TEXT = 120
_TIME_AFTER = re.compile(r"\s*(?:days?|weeks?|months?|years?|hours?|mins?|minutes?|mo|yr|"
                         r"дн[ея]й?|месяц\w*|dias?|días|meses|gün|ay|hari|bulan|ngày|tháng)\b",
                         re.IGNORECASE)


def unit_price(text: str) -> tuple[str, str] | None:
    """(price as seen, N) of a price stated per N units, or ``None``: ``"Price per 1000:
    $2.10"`` -> ``("$2.10", "1000")``, ``"Цена за 1000 штук: 95 руб."`` -> ``("95 руб.",
    "1000")``, ``"₹ 0.45 / like"`` -> ``("₹ 0.45", "1")``. A price per month ("$9.99 / month")
    or for a package ("1000 Followers for $12.99") is not a unit price."""
    cleaned = _clean(text)
    if not cleaned or len(cleaned) > _MAX_UNIT_PRICE_TEXT:
        return None
    found = list(_FIND_PRICE.finditer(cleaned))
    if len(found) != 1:
        return None  # no price, or a price list ("1000 for $5, 5000 for $20")
    price = found[0]
    rest = f"{cleaned[:price.start()]} {cleaned[price.end():]}"
    for number, phrase in enumerate(_UNIT_PHRASES):
        match = phrase.search(rest)
        if not match:
            continue
        if number < 2:
            if match["n"] is None:
                continue
            count = re.sub(r"[.,\s]", "", match["n"]) + ("000" if match["k"] else "")
            # Without a price word, a bare "/ N" needs the unit spelled out or a round N
            # ("$2.10 / 1K"); "$5 / 2 months" is a subscription.
            if not (_UNIT_PRICE_LABEL.search(rest) or number == 1
                    or not match.group(0).strip().startswith("/")
                    or re.search(_UNIT_WORDS, match.group(0), re.IGNORECASE)
                    or re.fullmatch(r"10+", count) and int(count) >= 100):
                continue
            if _TIME_AFTER.match(rest[match.end():]):
                continue
            return price.group(0).strip(), count
        return price.group(0).strip(), "1"
    return None


def _unit_price_nodes(root: Any, texts: _Texts) -> list[Any]:
    """Smallest elements whose text is a unit price."""
    matching = [e for e in root.iter() if e in texts.full
                and len(texts.full[e]) <= _MAX_UNIT_PRICE_TEXT and unit_price(texts.unstruck[e])]
    chosen = set(matching)
    return [e for e in matching if not any(d in chosen for d in e.iterdescendants())]


# --- page context: what the page sells when a card does not say ----------------------------------

_BREADCRUMB = re.compile(r"breadcrumb", re.IGNORECASE)


def page_context(document: Any, root: Any) -> str | None:
    """The page's first ``<h1>``, breadcrumb and ``<title>``, joined (``"Buy YouTube Views /
    Home > YouTube > Views / YouTube Views | Shop"``); ``None`` when the page has none."""
    parts: list[str] = []
    heading = next((h for h in root.iter("h1")), None)
    if heading is not None:
        parts.append(_clean(heading.text_content()))
    crumbs = next((e for e in root.iter() if isinstance(e.tag, str) and (
        _BREADCRUMB.search(_classes(e)) or _BREADCRUMB.search(e.get("aria-label") or "")
        or _BREADCRUMB.search(e.get("id") or ""))), None)
    if crumbs is not None:
        parts.append(_clean(" > ".join(t.strip() for t in crumbs.itertext() if t.strip())))
    title = _page_title(document)
    if title:
        parts.append(title)
    joined = " / ".join(part for part in parts if part)[:300]
    return joined or None


# --- the unit beside the number, the currency beside the price ----------------------------------

_UNIT_TEXT = re.compile(r"^[^\W\d_][\w'’.-]*(?:\s+[^\W\d_][\w'’.-]*){0,3}$")


def _element_siblings(element: Any) -> tuple[Any | None, Any | None]:
    previous = element.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    following = element.getnext()
    while following is not None and not isinstance(following.tag, str):
        following = following.getnext()
    return previous, following


def with_unit(node: Any, texts: _Texts) -> str:
    """The size as written, with its unit when the unit sits in the next element or right after
    it (``<b>250</b> <i>Views</i>`` -> ``"250 Views"``); the size alone otherwise."""
    text = texts.full.get(node, "")
    match = _QUANTITY.match(text)
    if not match or (match["words"] or "").strip():
        return text
    tail = _clean(node.tail or "")
    if tail and _UNIT_TEXT.match(tail) and not _NOT_SIZE_WORDS.match(tail):
        return f"{text} {tail}"
    if tail:
        return text
    _, following = _element_siblings(node)
    unit = texts.full.get(following, "") if following is not None else ""
    if unit and _UNIT_TEXT.match(unit) and not _NOT_SIZE_WORDS.match(unit) and (
            not is_price_text(unit)):
        return f"{text} {unit}"
    return text


_CURRENCY_ONLY = re.compile(rf"^(?:{_SYMBOL})$")
_ISO = re.compile(r"^[A-Z]{3}$")


def currency_beside(node: Any, texts: _Texts) -> str | None:
    """The currency an element next to a bare amount states: its ``content`` /
    ``data-currency`` attribute (``<span content="EUR">€</span>``), else its text when that is
    only a symbol or a code (``€``, ``USD``); ``itemprop="priceCurrency"`` in the same parent
    counts too. ``None`` when nothing beside the amount names a currency."""
    parent = node.getparent()
    candidates = [*_element_siblings(node)]
    if parent is not None:
        candidates.extend(e for e in parent.iter() if isinstance(e.tag, str)
                          and (e.get("itemprop") or "").lower() == "pricecurrency")
    for element in candidates:
        if element is None:
            continue
        for attribute in ("content", "data-currency", "data-currency-code"):
            value = (element.get(attribute) or "").strip()
            if _ISO.match(value.upper()) and (
                    attribute != "content" or _CURRENCY_ONLY.match(texts.full.get(element, "")
                                                                   or value)
                    or (element.get("itemprop") or "").lower() == "pricecurrency"):
                return value.upper()
        text = texts.full.get(element, "")
        if text and _CURRENCY_ONLY.match(text):
            return text
    return None
