"""The public ``/services`` page of PerfectPanel-like panels (and clones) -> raw offers.

Pure function :func:`extract_services_page`: HTML in, :class:`~crawlers.items.ExtractResult`
out, every value the text a visitor sees (``"$0.0135"``, ``"₹75"``, ``"200 000"``), never
normalized.

How a page is read:

1. Every ``<table>`` is examined. Its columns are mapped by HEADER TEXT (never by position)
   through a multilingual vocabulary (:data:`HEADER_VOCABULARY`, keyword rules, then fuzzy
   matching for near misses); cells' ``data-label`` attributes stand in for a missing header
   row. A table is a price list when it has a service-name column and a price column; when
   several tables are price lists (one table per category is common) they are combined.
2. Rows are read in document order: category rows (``tr[data-filter-table-category-id]``,
   ``tr.services-list-category-title``, one cell spanning the table, a ``<tbody>`` or
   ``<caption>`` per category, ``data-*-category-name`` attributes) set the category of the
   rows that follow; hidden description rows attach to the service above them; a blank extra
   first cell (the "favourite star") is skipped.
3. Without a price table, the page falls back to ``<select>`` options carrying
   ``data-rate``/``data-min``/``data-max`` (order forms), then to card lists whose fields carry
   ``data-label`` attributes.

``result.notes`` says which table(s) and which column mapping were used, for people debugging
a site with ``clickfarm extract``.

lxml is used directly on the hot path: a 2,000-row table must parse in well under 100 ms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lxml import etree
from rapidfuzz import fuzz, process

from crawlers.extract.html import (
    BR_MARK,
    BR_TAG,
    HTML_PARSER,
    NEEDS_CLEANING,
    classes_of,
    element_text,
    finish_text,
    is_decoration,
    is_hidden,
    load_html,
    normalize_words,
    page_title,
    unmark,
)
from crawlers.extract.rows import banner_title, not_an_offer, split_min_max
from crawlers.items import ExtractError, ExtractResult, RawOffer, RawRejection

# -- the fields a column can map to (RawOffer attribute names, plus the combined min/max) -----
ID = "site_offer_id"
NAME = "name"
CATEGORY = "category"
PRICE = "price"
MIN = "min_quantity"
MAX = "max_quantity"
MIN_MAX = "min_max"
AVERAGE_TIME = "average_time"
DESCRIPTION = "description"

HEADER_VOCABULARY: dict[str, tuple[str, ...]] = {
    ID: ("ID", "#", "No", "№", "Nr", "Service ID", "Servis ID", "Hizmet ID", "ID servicio",
         "ID do serviço", "ID layanan", "Mã", "Mã dịch vụ", "Код", "ID услуги", "رقم",
         "رقم الخدمة", "المعرف"),
    NAME: ("Service", "Services", "Name", "Service name", "Servis", "Servisler", "Servis adı",
           "Hizmet", "Hizmetler", "Hizmet adı", "Servicio", "Servicios", "Nombre", "Serviço",
           "Serviços", "Nome", "Layanan", "Nama layanan", "Nama", "Dịch vụ", "Tên dịch vụ",
           "Tên", "Услуга", "Услуги", "Сервис", "Название", "الخدمة", "الخدمات", "اسم الخدمة",
           "Nom", "Nom du service", "Prestation", "Dienst", "Dienstleistung", "Leistung",
           "Servizio", "Servizi", "Nome servizio", "Product", "Produk"),
    PRICE: ("Rate per 1000", "Price per 1000", "Rate/1000", "Price/1000", "Price per 1K",
            "Rate per 1K", "Per 1000", "Cost per 1000", "Rate", "Price", "Cost",
            "1000 adet fiyatı", "1000 adet", "Fiyat", "Fiyat (1000 adet)", "Ücret",
            "Precio por 1000", "Precio", "Tarifa", "Preço por 1000", "Preço", "Valor por 1000",
            "Valor", "Harga per 1000", "Harga/1000", "Harga", "Giá mỗi 1000", "Giá/1000", "Giá",
            "Цена за 1000", "Цена", "Стоимость за 1000", "Стоимость", "السعر لكل 1000",
            "السعر", "سعر 1000", "Prix pour 1000", "Prix par 1000", "Prix", "Tarif",
            "Preis pro 1000", "Preis", "Prezzo per 1000", "Prezzo", "Costo"),
    MIN: ("Min order", "Min", "Minimum", "Minimum order", "Min sipariş", "Minimum sipariş",
          "En az", "Mínimo", "Pedido mínimo", "Min pesan", "Minimal pesan", "Minimal",
          "Tối thiểu", "Мин", "Мин. заказ", "Минимум", "الحد الأدنى", "أقل كمية",
          "Commande min", "Commande minimum", "Mindestbestellung", "Min. Menge", "Minimo",
          "Ordine minimo"),
    MAX: ("Max order", "Max", "Maximum", "Maximum order", "Maks sipariş", "Maksimum sipariş",
          "Maks", "En fazla", "Máximo", "Pedido máximo", "Maks pesan", "Maksimal pesan",
          "Maksimal", "Tối đa", "Макс", "Макс. заказ", "Максимум", "الحد الأقصى", "أكبر كمية",
          "Commande max", "Commande maximum", "Höchstbestellung", "Max. Menge", "Massimo",
          "Ordine massimo"),
    MIN_MAX: ("Min / Max", "Min/Max order", "Min - Max", "Min/Maks", "Mín / Máx", "Мин / Макс",
              "Limits", "Limit"),
    AVERAGE_TIME: ("Average time", "Avg time", "Avg. time", "Average Completion Time",
                   "Completion time", "Ortalama süre", "Ortalama tamamlanma süresi",
                   "Tiempo promedio", "Tiempo medio", "Tempo médio", "Waktu rata-rata",
                   "Thời gian trung bình", "Среднее время", "متوسط الوقت", "Temps moyen",
                   "Durchschnittliche Zeit", "Durchschnittszeit", "Tempo medio"),
    DESCRIPTION: ("Description", "Details", "Desc", "Info", "Açıklama", "Detaylar", "Detay",
                  "Descripción", "Descrição", "Detalhes", "Deskripsi", "Keterangan", "Mô tả",
                  "Chi tiết", "Описание", "Подробнее", "الوصف", "التفاصيل", "Détails",
                  "Beschreibung", "Descrizione", "Dettagli"),
    CATEGORY: ("Category", "Kategori", "Categoría", "Categoria", "Catégorie", "Kategorie",
               "Категория", "الفئة", "التصنيف", "Danh mục"),
}
"""Header texts per field, as panels print them. Matching is case-, accent- and
punctuation-insensitive; keyword rules and fuzzy matching cover variants not listed here."""

# Keyword rules for headers the exact table misses ("Rate per 1000 ($)", "Min. sipariş adedi").
# Single words are matched as whole tokens, phrases (with a space) as whole-word substrings.
_PRICE_WORDS = ("rate", "rates", "price", "prices", "pricing", "cost", "fiyat", "fiyati",
                "ucret", "ucreti", "precio", "precios", "preco", "precos", "valor", "harga",
                "tarif", "tarifa", "gia", "цена", "цены", "стоимость", "السعر", "سعر", "prix",
                "preis", "preise", "prezzo", "costo", "1000", "1k", "per1000")
_MIN_WORDS = ("min", "minimum", "minimo", "minima", "minimal", "minimale", "minimaal", "mindest",
              "мин", "минимум", "минимальныи", "الادنى", "اقل", "en az", "toi thieu")
_MAX_WORDS = ("max", "maximum", "maks", "maksimum", "maksimal", "maximo", "maxima", "maximal",
              "maximale", "massimo", "höchst", "макс", "максимум", "максимальныи", "الاقصى",
              "اكبر", "en fazla", "toi da")
_AVERAGE_WORDS = ("average", "avg", "ortalama", "promedio", "medio", "rata rata", "trung binh",
                  "среднее", "среднии", "متوسط", "moyen", "moyenne", "durchschnittliche",
                  "durchschnitt", "durchschnittszeit", "completion time")
_DESCRIPTION_WORDS = ("description", "descriptions", "desc", "details", "detail", "info",
                      "aciklama", "aciklamasi", "detay", "detaylar", "descripcion", "descricao",
                      "detalhes", "deskripsi", "keterangan", "mo ta", "chi tiet", "описание",
                      "подробнее", "الوصف", "وصف", "التفاصيل", "beschreibung", "descrizione",
                      "dettagli")
_CATEGORY_WORDS = ("category", "categories", "kategori", "categoria", "categorie", "kategorie",
                   "категория", "الفئة", "التصنيف", "danh muc")
_ID_WORDS = ("id", "#", "no", "nr", "kod", "код", "ma", "رقم", "المعرف")
_NAME_WORDS = ("service", "services", "servis", "servisler", "hizmet", "hizmetler", "servicio",
               "servicios", "servico", "servicos", "layanan", "dich vu", "услуга", "услуги",
               "сервис", "название", "الخدمة", "الخدمات", "خدمة", "nom", "prestation", "dienst",
               "dienstleistung", "leistung", "servizio", "servizi", "name", "nombre", "nome",
               "nama", "ten", "product", "produk", "paket", "package")
# Headers glued together by a theme or a scraper ("Rateper1000", "Minorder"): substring rules,
# tried after the token rules, most specific first.
_GLUED_RULES = ((AVERAGE_TIME, ("average", "avg", "ortalama")),
                (PRICE, ("rate", "price", "fiyat", "precio", "preco", "harga", "prix", "preis",
                         "prezzo", "1000")),
                (MIN, ("minorder", "minimum", "minsiparis")),
                (MAX, ("maxorder", "maximum", "makssiparis")),
                (DESCRIPTION, ("description", "aciklama", "descripcion", "descricao")),
                (NAME, ("service", "servis", "hizmet", "servicio", "servico", "layanan")))

_CURRENCY_SYMBOLS = "$€£₺₹₽₩¥₫₱₦₴₸৳฿₼₾₪"
_HEADER_CURRENCY = re.compile(
    r"\(\s*([A-Z]{3}|TL|Rp|R\$|[" + _CURRENCY_SYMBOLS + r"])\s*\)|([" + _CURRENCY_SYMBOLS + r"])")


_normalize_header = normalize_words


def _normalized_set(words: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    tokens, phrases = set(), []
    for word in words:
        normalized = _normalize_header(word) if word != "#" else "#"
        (phrases.append(f" {normalized} ") if " " in normalized else tokens.add(normalized))
    return frozenset(tokens), tuple(phrases)


_RULES = {name: _normalized_set(words) for name, words in (
    (PRICE, _PRICE_WORDS), (MIN, _MIN_WORDS), (MAX, _MAX_WORDS), (AVERAGE_TIME, _AVERAGE_WORDS),
    (DESCRIPTION, _DESCRIPTION_WORDS), (CATEGORY, _CATEGORY_WORDS), (ID, _ID_WORDS),
    (NAME, _NAME_WORDS))}
_EXACT_HEADERS: dict[str, str] = {}
for _field, _phrases in HEADER_VOCABULARY.items():
    for _phrase in _phrases:
        _EXACT_HEADERS.setdefault(_normalize_header(_phrase) or _phrase, _field)
_FUZZY_CHOICES = [phrase for phrase in _EXACT_HEADERS if len(phrase) >= 4]


def _has(rule: str, tokens: set[str], padded: str) -> bool:
    words, phrases = _RULES[rule]
    return not words.isdisjoint(tokens) or any(phrase in padded for phrase in phrases)


@lru_cache(maxsize=4096)
def classify_header(text: str) -> str | None:
    """The field a column header (or a cell's ``data-label``) names, or ``None``.

    Returns one of ``site_offer_id``, ``name``, ``category``, ``price``, ``min_quantity``,
    ``max_quantity``, ``min_max`` (one column holding "10 / 5000"), ``average_time``,
    ``description``. Blank headers (the favourite-star column) and unknown ones ("Status",
    "Start time") give ``None``.
    """
    normalized = _normalize_header(text)
    if not normalized:
        return ID if text.strip() == "#" else None
    exact = _EXACT_HEADERS.get(normalized)
    if exact:
        return exact
    tokens = set(normalized.split())
    padded = f" {normalized} "
    glued = normalized.replace(" ", "")
    is_min, is_max = _has(MIN, tokens, padded), _has(MAX, tokens, padded)
    if (is_min and is_max) or "minmax" in glued or "minmaks" in glued:
        return MIN_MAX
    if _has(PRICE, tokens, padded):
        return PRICE
    if is_min:
        return MIN
    if is_max:
        return MAX
    for rule in (AVERAGE_TIME, DESCRIPTION, CATEGORY):
        if _has(rule, tokens, padded):
            return rule
    if len(tokens) <= 3 and _has(ID, tokens, padded):
        return ID
    if _has(NAME, tokens, padded):
        return NAME
    for rule, fragments in _GLUED_RULES:
        if any(fragment in glued for fragment in fragments):
            return rule
    if len(normalized) >= 4:
        match = process.extractOne(normalized, _FUZZY_CHOICES, scorer=fuzz.ratio, score_cutoff=85)
        if match:
            return _EXACT_HEADERS[match[0]]
    return None


def _header_currency(text: str) -> str | None:
    match = _HEADER_CURRENCY.search(text)
    return (match.group(1) or match.group(2)) if match else None


def _cell_text(cell: Any) -> str:
    """:func:`element_text` for one-line cells, with the common plain-text case inlined."""
    if len(cell) == 0:
        text = cell.text
        if not text:
            return ""
        if NEEDS_CLEANING.search(text) is None:
            return text.strip()
        return finish_text(text, False)
    return element_text(cell)


# -- tables ------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Column:
    label: str
    field: str | None


@dataclass(slots=True)
class _Table:
    element: Any
    number: int
    rows: list[tuple[Any, Any]]
    """Direct rows ``(tr, parent)`` in document order; ``parent`` is the thead/tbody/table."""
    header_row: Any = None
    columns: list[_Column] = field(default_factory=list)
    via: str = ""
    header_currency: str | None = None
    layout: list[tuple[str, str | None]] = field(default_factory=list)
    """``(raw key, field)`` per column, computed once for the row loop."""

    @property
    def by_header(self) -> bool:
        return self.via == "header row"

    @property
    def fields(self) -> set[str]:
        return {column.field for column in self.columns if column.field}

    @property
    def is_price_list(self) -> bool:
        fields = self.fields
        return NAME in fields and PRICE in fields

    def describe(self) -> str:
        element_id = self.element.get("id")
        if element_id:
            return f"table #{self.number} (id={element_id!r})"
        classes = " ".join(classes_of(self.element).split())
        if classes:
            return f"table #{self.number} (class={classes[:80]!r})"
        return f"table #{self.number}"

    def describe_columns(self) -> str:
        mapped = [f"{column.label or '(blank)'!r}->{column.field}" for column in self.columns
                  if column.field]
        ignored = [f"{column.label or '(blank)'!r}" for column in self.columns
                   if not column.field]
        text = f"columns by {self.via}: " + ", ".join(mapped)
        if ignored:
            text += "; ignored: " + ", ".join(ignored)
        return text


def _direct_rows(table: Any) -> list[tuple[Any, Any]]:
    rows = []
    for child in table:
        tag = child.tag
        if tag == "tr":
            rows.append((child, table))
        elif tag in ("thead", "tbody", "tfoot"):
            rows.extend((row, child) for row in child if row.tag == "tr")
    return rows


_CELL_TAGS = ("td", "th")


def _cells(row: Any) -> list[Any]:
    return [cell for cell in row if cell.tag in _CELL_TAGS]


def _colspan(cell: Any) -> int:
    value = cell.get("colspan")
    if not value:
        return 1
    value = value.strip()
    if value.endswith("%"):
        return 1000  # colspan="100%": spans everything
    return int(value) if value.isdigit() and 0 < int(value) < 1000 else 1


def _expanded(cells: list[Any]) -> list[Any]:
    """Cells by column position (a cell with colspan=n takes n positions; None pads)."""
    if not any(cell.get("colspan") for cell in cells):
        return cells
    positions: list[Any] = []
    for cell in cells:
        span = min(_colspan(cell), 50)
        positions.append(cell)
        positions.extend([None] * (span - 1))
    return positions


_BARE_NUMBER = re.compile(r"^\W*\d[\d\s.,/\-]*\W*$")


def _plan_table(table: Any, number: int) -> _Table:
    plan = _Table(element=table, number=number, rows=_direct_rows(table))
    best: tuple[int, int, list[_Column]] | None = None
    for index, (row, parent) in enumerate(plan.rows[:8]):
        cells = _cells(row)
        if len(cells) < 2:
            continue
        all_th = all(cell.tag == "th" for cell in cells)
        if not (parent.tag == "thead" or all_th or index < 3):
            continue
        labels = [element_text(cell) if cell is not None else "" for cell in _expanded(cells)]
        if not (parent.tag == "thead" or all_th) and any(map(_BARE_NUMBER.match, labels)):
            continue  # "1143", "$0.90", "10 / 5000": a service row, not a header row
        columns = [_Column(label, classify_header(label) if label else None) for label in labels]
        score = len({column.field for column in columns if column.field})
        if score >= 2 and (best is None or score > best[0]):
            best = (score, index, columns)
    if best is not None:
        plan.header_row = plan.rows[best[1]][0]
        plan.columns = best[2]
        plan.via = "header row"
        plan.header_currency = next(
            (currency for column in plan.columns if column.field == PRICE
             for currency in [_header_currency(column.label)] if currency), None)
    if not plan.is_price_list:
        # No usable header row: the cells' data-label attributes name the columns.
        for row, _parent in plan.rows[:12]:
            cells = _cells(row)
            if sum(1 for cell in cells if cell.get("data-label")) >= 2:
                columns = [_Column((cell.get("data-label") or "").strip(),
                                   classify_header(cell.get("data-label") or ""))
                           for cell in cells]
                if {NAME, PRICE} <= {column.field for column in columns}:
                    plan.columns, plan.via, plan.header_row = columns, "data-label attributes", None
                    plan.header_currency = next(
                        (currency for column in columns if column.field == PRICE
                         for currency in [_header_currency(column.label)] if currency), None)
                    break
    return plan


_CATEGORY_ATTRIBUTES = ("data-filter-table-category-name", "data-category-name", "data-category")
_SERVICE_ID_ATTRIBUTES = ("data-filter-table-service-id", "data-service-id")
_CATEGORY_CLASS = re.compile(r"categor", re.IGNORECASE)
_DESCRIPTION_ROW_CLASS = re.compile(r"desc|detail", re.IGNORECASE)
_TOOLTIP_ATTRIBUTES = ("data-original-title", "data-bs-original-title", "title", "data-tippy-content",
                       "data-tooltip")
_TOOLTIP_SET = frozenset(_TOOLTIP_ATTRIBUTES)
_TOOLTIP_PRICE = re.compile(
    r"^\s*(?:≈|~)?\s*(?:[A-Z]{3}|TL|Rp|R\$|[" + _CURRENCY_SYMBOLS + r"])?\s*\d[\d\s.,\u00a0']*"
    r"\s*(?:[A-Z]{3}|TL|Rp|[" + _CURRENCY_SYMBOLS + r"])?\s*$")
_VIEW_WORDS = frozenset({"view", "details", "detail", "more", "view details", "view full details",
                         "show", "info", "görüntüle", "goruntule", "incele", "detay", "ver",
                         "ver más", "ver mais", "lihat", "xem", "подробнее", "عرض", "voir",
                         "ansehen", "vedi", "×", "close"})


def _split_min_max(values: dict[str, str | None], result: ExtractResult, where: str) -> None:
    """Fill min and max from a "Min / Max" cell (``20 / 10000``, ``20 \\ 10000``, ``20 -
    10000``); a cell that holds no pair leaves both unknown, with a note saying so."""
    min_max = values.get(MIN_MAX)
    if not min_max:
        return
    split = split_min_max(min_max)
    if split is None:
        result.notes.append(f"{where}: min/max cell {min_max!r} holds no 'min / max' pair: "
                            "both left unknown")
        return
    values.setdefault(MIN, split[0])
    values.setdefault(MAX, split[1])


_PLAIN_TEXT_HOLDERS = frozenset({"div", "span", "p"})
_ONE_LINE_FIELDS = ("site_offer_id", "name", "category", "price", "min_quantity", "max_quantity",
                    "average_time", "service_type")


class _PageReader:
    """State for reading one page: the document, id lookups for modals, counters for notes."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self._ids: dict[str, Any] | None = None
        self.tooltip_prices = 0
        self.repeated_rows = 0
        self.blank_rows = 0
        self.skipped_rows = 0
        self.banner_category: str | None = None
        self.seen_ids: dict[str, tuple[str, str, str | None]] = {}

    def element_by_id(self, element_id: str) -> Any:
        if self._ids is None:
            self._ids = {element.get("id"): element
                         for element in self.document.iter() if element.get("id")}
        return self._ids.get(element_id)

    # -- cells --------------------------------------------------------------------------------

    def price_text(self, cell: Any, shown: str) -> tuple[str, str | None]:
        """The price as seen, preferring a tooltip that holds the original-currency price
        (currency switchers show a converted rate and keep the panel's own in ``title``)."""
        if len(cell) or not _TOOLTIP_SET.isdisjoint(cell.keys()):
            for element in cell.iter():
                for attribute in _TOOLTIP_ATTRIBUTES:
                    value = element.get(attribute)
                    if value and value.strip() != shown and _TOOLTIP_PRICE.match(value):
                        self.tooltip_prices += 1
                        return " ".join(value.replace(BR_MARK, " ").split()), shown
        return shown, None

    def description(self, cell: Any) -> str | None:
        """Description from a cell: a modal body, a hidden div, a popover or plain text; the
        "View" button's own text is never the description."""
        if len(cell) == 0:
            text = element_text(cell, multiline=True)
            return None if not text or text.casefold() in _VIEW_WORDS else text
        for child in cell:
            # Fast path for the common "View" button + hidden plain-text div (its <br>s are
            # already markers, so it has no children of its own).
            if child.tag in _PLAIN_TEXT_HOLDERS and len(child) == 0 and child.text \
                    and is_hidden(child) and "modal" not in classes_of(child):
                return finish_text(child.text, True) or None
        body = self._modal_body(cell)
        if body is not None:
            return element_text(body, multiline=True, include_hidden=True) or None
        text = element_text(cell, multiline=True, include_hidden=True)
        if text and text.casefold() not in _VIEW_WORDS:
            return text
        for element in cell.iter():
            target = (element.get("data-target") or element.get("data-bs-target")
                      or (element.get("href") or "")).strip()
            if target.startswith("#") and len(target) > 1:
                referenced = self.element_by_id(target[1:])
                if referenced is not None:
                    body = self._modal_body(referenced)
                    text = element_text(body if body is not None else referenced,
                                        multiline=True, include_hidden=True)
                    if text:
                        return text
            for attribute in ("data-content", "data-bs-content", "data-description"):
                value = element.get(attribute)
                if value and value.strip():
                    return _attribute_text(value)
        return None

    @staticmethod
    def _modal_body(element: Any) -> Any:
        for descendant in element.iter("div", "section"):
            classes = descendant.get("class")
            # Substring test first: it rejects most divs without splitting their classes.
            if classes and "modal-body" in classes and "modal-body" in classes.split():
                return descendant
        return None

    # -- rows ---------------------------------------------------------------------------------

    def read_table(self, plan: _Table, result: ExtractResult, category: str | None) -> int:
        """Read a price table's rows into ``result``; returns the number of service rows."""
        width = len(plan.columns)
        header_labels = [column.label for column in plan.columns]
        table_name = plan.describe()
        plan.layout = [(column.label or f"column {index}", column.field)
                       for index, column in enumerate(plan.columns, start=1)]
        service_rows = 0
        category_rows = 0
        empty_rows = 0
        last_offer: RawOffer | None = None
        current_parent = None
        for row_number, (row, parent) in enumerate(plan.rows, start=1):
            if row is plan.header_row:
                continue
            if parent is not current_parent:
                current_parent = parent
                for attribute in _CATEGORY_ATTRIBUTES:
                    if parent.get(attribute):
                        category = parent.get(attribute).strip()
                        break
            cells = [cell for cell in row if cell.tag in _CELL_TAGS]
            if not cells:
                continue
            if parent.tag == "thead" or (cells[0].tag == "th" and plan.header_row is not None
                                         and all(cell.tag == "th" for cell in cells)
                                         and [element_text(cell) for cell in cells[:3]]
                                         == header_labels[:3]):
                continue  # a repeated header row
            kind = self._row_kind(row, cells, width)
            if kind == "category":
                text = self._category_text(row, cells)
                if text:
                    category = text
                    category_rows += 1
                else:
                    empty_rows += 1
                continue
            if kind == "description":
                if last_offer is not None and not last_offer.description:
                    last_offer.description = next(
                        (text for text in map(self.description, cells) if text), None)
                continue
            if kind == "empty":
                empty_rows += 1
                continue
            service_rows += 1
            self.banner_category = None
            skipped_before = self.skipped_rows
            last_offer = self._read_service_row(plan, row, cells, category, result,
                                                where=f"{table_name} row {row_number}")
            if self.skipped_rows > skipped_before:
                service_rows -= 1  # a divider or banner, reported by _add_offer
            if self.banner_category:
                category_rows += 1
                category = self.banner_category
        counts = [f"{service_rows} service rows", f"{category_rows} category rows"]
        if empty_rows:
            counts.append(f"{empty_rows} empty rows skipped")
        result.notes.append(f"{table_name}: " + ", ".join(counts))
        return service_rows

    @staticmethod
    def _row_kind(row: Any, cells: list[Any], width: int) -> str:
        service_id_attribute = _SERVICE_ID_ATTRIBUTES[0]
        if cells[0].get(service_id_attribute) or row.get(service_id_attribute) or any(
                cell.get(service_id_attribute) for cell in cells):
            return "service"
        row_classes = classes_of(row)
        spans = any(_colspan(cell) > 1 for cell in cells if cell.get("colspan"))
        marked = (row.get("data-filter-table-category-id") is not None
                  or _CATEGORY_CLASS.search(row_classes) is not None)
        narrow = len(cells) == 1 or spans or len(cells) < min(width, 3)
        if not (narrow or marked):
            return "service"  # a full-width row: an all-blank one is caught when it is read
        filled = [cell for cell in cells if element_text(cell) or _has_hidden_child(cell)]
        if len(filled) <= 1:
            if is_hidden(row) or _DESCRIPTION_ROW_CLASS.search(row_classes):
                return "description"
            return "category" if filled or marked else "empty"
        return "service"

    @staticmethod
    def _category_text(row: Any, cells: list[Any]) -> str:
        for cell in cells:
            text = element_text(cell)
            if text:
                return text
        for attribute in _CATEGORY_ATTRIBUTES:
            if row.get(attribute):
                return row.get(attribute).strip()
        return ""

    def _read_service_row(self, plan: _Table, row: Any, cells: list[Any], category: str | None,
                          result: ExtractResult, *, where: str) -> RawOffer | None:
        by_field, values, raw = self._map_cells(plan, cells)
        if DESCRIPTION in by_field:
            values[DESCRIPTION] = self.description(by_field[DESCRIPTION])
        if not any(raw.values()) and not values.get(DESCRIPTION):
            self.blank_rows += 1  # a spacer row: nothing to read, nothing to reject
            return None
        elif NAME in by_field and len(by_field[NAME]):
            # No description column: some themes hide it inside the name cell.
            hidden = next((child for child in by_field[NAME].iterdescendants()
                           if isinstance(child.tag, str) and is_hidden(child)), None)
            if hidden is not None:
                values[DESCRIPTION] = self.description(hidden)
        price_shown = None
        if price := values.get(PRICE):
            values[PRICE], price_shown = self.price_text(by_field[PRICE], price)
        _split_min_max(values, result, where)
        service_id = _attribute_of(row, cells, _SERVICE_ID_ATTRIBUTES) or values.get(ID) or None
        row_category = (values.get(CATEGORY) or category
                        or _attribute_of(row, (), _CATEGORY_ATTRIBUTES) or None)
        raw["category"] = row_category
        if price_shown is not None:
            raw["price_shown"] = price_shown
        if values.get(DESCRIPTION):
            raw["description"] = values[DESCRIPTION]
        return self._add_offer(result, where=where, raw=raw, offer=RawOffer(
            site_offer_id=service_id, name=values.get(NAME) or "", category=row_category,
            price=values.get(PRICE), pricing="per_1000", min_quantity=values.get(MIN),
            max_quantity=values.get(MAX), description=values.get(DESCRIPTION),
            average_time=values.get(AVERAGE_TIME), source="html", raw=raw))

    def _add_offer(self, result: ExtractResult, *, where: str, raw: dict[str, Any],
                   offer: RawOffer, from_attributes: bool = False) -> RawOffer | None:
        """Keep an offer, or reject it with the reason (no name, no price, a repeated id)."""
        if from_attributes:  # attribute values may still hold the <br> marker
            for name in _ONE_LINE_FIELDS:
                value = getattr(offer, name)
                if value and BR_MARK in value:
                    setattr(offer, name, " ".join(value.replace(BR_MARK, " ").split()))
        kind = not_an_offer(offer.name, offer.price, offer.min_quantity, offer.max_quantity)
        if kind is not None:
            # A divider ("━━━━") or a category banner in the body ("★★ TIKTOK ★★" with an id
            # and a zero rate): not a service. Reported; a banner names the rows below it.
            result.notes.append(f"{where}: skipped {kind} row {offer.name.strip()!r}")
            self.skipped_rows += 1
            if kind == "banner":
                self.banner_category = banner_title(offer.name)
            return None
        missing = [label for label, value in (("service name", offer.name), ("price", offer.price))
                   if not value]
        if missing:
            result.rejected.append(RawRejection(
                reason=f"{where}: no {' and no '.join(missing)}", raw=raw,
                site_offer_id=offer.site_offer_id))
            return None
        if offer.site_offer_id is not None:
            first = self.seen_ids.setdefault(offer.site_offer_id,
                                             (where, offer.name, offer.price))
            if first[0] != where:
                if first[1:] == (offer.name, offer.price):
                    # The same service listed twice ("Top services" + its own category).
                    self.repeated_rows += 1
                    return None
                result.rejected.append(RawRejection(
                    reason=f"{where}: duplicate service id {offer.site_offer_id!r} with a "
                           f"different name or price (first seen at {first[0]}; the first was "
                           "kept)", raw=raw, site_offer_id=offer.site_offer_id))
                return None
        result.offers.append(offer)
        return offer

    @staticmethod
    def _map_cells(plan: _Table, cells: list[Any]
                   ) -> tuple[dict[str, Any], dict[str, str | None], dict[str, Any]]:
        """Cells by field, their one-line texts, and every cell's text keyed by its header
        label (the ``raw`` record)."""
        columns = plan.columns
        pairs: Iterable[tuple[str, Any, str | None]]
        spans = False
        for cell in cells:
            if cell.get("colspan"):
                spans = True
                break
        if plan.by_header and len(cells) == len(columns) and not spans:
            pairs = [(key, cell, field_name)
                     for (key, field_name), cell in zip(plan.layout, cells, strict=True)]
        elif not plan.by_header or any(cell.get("data-label") for cell in cells):
            labels = [(cell.get("data-label") or "").strip() for cell in cells]
            pairs = [(label or f"column {index}", cell, classify_header(label) if label else None)
                     for index, (label, cell) in enumerate(zip(labels, cells, strict=True), 1)]
        else:
            positioned = _expanded(cells)
            offset = 0
            extra = len(positioned) - len(columns)
            if extra > 0 and not any(_cell_text(cell) for cell in positioned[:extra]
                                     if cell is not None):
                offset = extra  # a blank extra first cell (favourite star) with no header
            pairs = [(key, cell, field_name)
                     for (key, field_name), cell in zip(plan.layout, positioned[offset:],
                                                        strict=False)]
        by_field: dict[str, Any] = {}
        values: dict[str, str | None] = {}
        raw: dict[str, Any] = {}
        for key, cell, field_name in pairs:
            if cell is None:
                continue
            if field_name == DESCRIPTION:
                by_field.setdefault(DESCRIPTION, cell)
                continue  # read separately: it keeps its line breaks and hidden parts
            if len(cell) == 0:  # _cell_text, inlined: this loop runs for every cell
                text = cell.text or ""
                if text:
                    text = (text.strip() if NEEDS_CLEANING.search(text) is None
                            else finish_text(text, False))
            else:
                text = element_text(cell)
            if field_name and field_name not in by_field:
                by_field[field_name] = cell
                values[field_name] = text or None
            if text or field_name:
                raw[key] = text
        return by_field, values, raw


def _attribute_of(row: Any, cells: Iterable[Any], attributes: tuple[str, ...]) -> str | None:
    for attribute in attributes:
        value = row.get(attribute)
        if not value:
            value = next((cell.get(attribute) for cell in cells if cell.get(attribute)), None)
        if value and value.strip():
            return value.strip()
    return None


def _has_hidden_child(cell: Any) -> bool:
    return len(cell) > 0 and any(isinstance(child.tag, str) and is_hidden(child)
                                 for child in cell.iterdescendants())


def _attribute_text(value: str) -> str:
    """Popover content may hold escaped HTML: read it as HTML, keep its line breaks."""
    value = unmark(value) or ""
    if "<" in value:
        try:
            fragment = etree.fromstring(
                f"<div>{BR_TAG.sub(BR_MARK, value)}</div>".encode(), HTML_PARSER)
            body = fragment.find(".//body/div") if fragment is not None else None
            if body is not None:
                return element_text(body, multiline=True, include_hidden=True)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            pass
    return "\n".join(" ".join(line.split()) for line in value.split("\n")).strip()


def _table_category(table: Any, *, use_heading: bool) -> str | None:
    """A table's caption, or (``use_heading``: pages with one table per category) the heading
    just before it. A single table's heading is a page title ("Services"), not a category."""
    caption = table.find("caption")
    if caption is not None and element_text(caption):
        return element_text(caption)
    if not use_heading:
        return None
    element = table
    for _level in range(4):
        sibling = element.getprevious()
        while sibling is not None:
            if isinstance(sibling.tag, str) and not is_decoration(sibling):
                if re.fullmatch(r"h[1-6]", sibling.tag) or re.search(
                        r"categor|title|heading|card-header", classes_of(sibling)):
                    text = element_text(sibling)
                    if text and len(text) <= 150:
                        return text
                if sibling.tag == "table" or element_text(sibling):
                    return None  # other content in between: not this table's heading
            sibling = sibling.getprevious()
        element = element.getparent()
        if element is None or element.tag == "body":
            break
    return None


# -- page-wide currency ------------------------------------------------------------------------

_ISO_CODE = re.compile(r"\b([A-Z]{3})\b")
_SCRIPT_CURRENCY = re.compile(
    r"""["']?currency(?:_?code)?["']?\s*[:=]\s*["']([A-Z]{3})["']""", re.IGNORECASE)
def _currency_in(text: str) -> str | None:
    code = _ISO_CODE.search(text)
    if code:
        return code.group(1)
    symbol = re.search(f"[{_CURRENCY_SYMBOLS}]", text)
    return symbol.group(0) if symbol else None


def _outside(document: Any, excluded: set[Any]) -> Iterator[Any]:
    """Elements in document order, not descending into ``excluded`` (the price tables)."""
    stack = [document]
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str) or element in excluded:
            continue
        yield element
        stack.extend(reversed(element))


def page_currency(document: Any, header_currency: str | None = None,
                  skip: Iterable[Any] = ()) -> tuple[str | None, str]:
    """The currency the page states for all its prices, and where it was found.

    Looked for, in order: a currency switcher (an element whose id/class/name mentions
    "currenc": its selected option or active item), a ``<meta>`` currency tag, the price
    column header ("Rate per 1000 ($)"), an inline script assignment. ``skip`` holds the price
    tables, whose thousands of cells never hold the switcher.
    """
    elements = list(_outside(document, set(skip)))
    for container in elements:
        marker = f"{container.get('id') or ''} {container.get('class') or ''} {container.get('name') or ''}"
        if "urrenc" not in marker:
            continue
        if container.tag == "select":
            options = container.findall(".//option")
            chosen = [option for option in options if option.get("selected") is not None]
            for option in chosen or options[:1]:
                currency = _currency_in(f"{option.get('value') or ''} {element_text(option)}")
                if currency:
                    return currency, "the currency switcher's selected option"
        elif container.find(".//a") is not None or container.find(".//li") is not None:
            # The selected currency is marked active, or shown on the dropdown toggle that sits
            # beside the list (PerfectPanel: a.dropdown-toggle + ul#currencies-list).
            parent = container.getparent()
            for scope in (container, parent) if parent is not None else (container,):
                for element in scope.iter():
                    classes = classes_of(element).split()
                    if ("active" in classes or "selected" in classes
                            or "dropdown-toggle" in classes
                            or element.get("aria-selected") == "true"):
                        currency = _currency_in(element_text(element))
                        if currency:
                            return currency, "the currency switcher"
    for element in elements:
        if element.tag == "meta" and (
                element.get("itemprop") == "priceCurrency" or element.get("name") == "currency"
                or element.get("property") in ("og:price:currency", "product:price:currency")):
            content = (element.get("content") or "").strip()
            if content:
                return content, "a <meta> currency tag"
    if header_currency:
        return header_currency, "the price column header"
    for element in elements:
        if element.tag == "script" and element.text and "currenc" in element.text.lower():
            match = _SCRIPT_CURRENCY.search(element.text)
            if match:
                return match.group(1).upper(), "an inline script"
    return None, ""


# -- fallbacks: <select> options, card lists ----------------------------------------------------

_OPTION_PRICE_ATTRIBUTES = ("data-rate", "data-price")


def _read_select_options(reader: _PageReader, result: ExtractResult) -> bool:
    document = reader.document
    category_names: dict[str, str] = {}
    for select in document.iter("select"):
        marker = f"{select.get('id') or ''} {select.get('name') or ''}".lower()
        if "categor" in marker:
            for option in select.iter("option"):
                if option.get("value"):
                    category_names[option.get("value")] = element_text(option)
    found = False
    for select in document.iter("select"):
        options = [option for option in select.iter("option")
                   if any(option.get(attribute) is not None
                          for attribute in _OPTION_PRICE_ATTRIBUTES)]
        if not options:
            continue
        found = True
        result.notes.append(
            f"no price table: read {len(options)} <option> elements of "
            f"<select id={select.get('id')!r} name={select.get('name')!r}> "
            "(data-rate/data-min/data-max)")
        for number, option in enumerate(options, start=1):
            _read_option(reader, option, number, category_names, result)
    return found


def _read_option(reader: _PageReader, option: Any, number: int, category_names: dict[str, str],
                 result: ExtractResult) -> None:
    text = element_text(option)
    service_id = (option.get("value") or option.get("data-id") or "").strip() or None
    price = next((option.get(attribute).strip() for attribute in _OPTION_PRICE_ATTRIBUTES
                  if option.get(attribute) and option.get(attribute).strip()), None)
    name = text
    # The form decorates the name with the id and the price: "614 - TikTok Followers - $0.119".
    if service_id:
        name = re.sub(rf"^\s*(?:ID\s*:?\s*)?{re.escape(service_id)}\s*[-–—|:.)]\s*", "", name)
    shown_currency = None
    if price:
        suffix = re.search(rf"\s*[-–—|~]\s*(?P<symbol>[^\w\s]{{1,3}})?\s?{re.escape(price)}"
                           rf"\s*(?P<code>[A-Z]{{3}})?\s*(?:/\s*1[kK]|per 1000)?\s*$", name)
        if suffix:
            name = name[:suffix.start()]
            shown_currency = suffix.group("code") or suffix.group("symbol")
    parent = option.getparent()
    category = None
    if parent is not None and parent.tag == "optgroup" and parent.get("label"):
        category = parent.get("label").strip()
    else:
        key = option.get("data-category-id") or option.get("data-category")
        if key:
            category = category_names.get(key) or (None if key.isdigit() else key)
    raw: dict[str, Any] = {"text": text, "category": category,
                           **{key: unmark(value) for key, value in option.attrib.items()}}
    reader._add_offer(result, where=f"<option> #{number} (value={service_id!r})", raw=raw,
                      from_attributes=True, offer=RawOffer(
        site_offer_id=service_id, name=name, category=category, price=price,
        currency=shown_currency,
        pricing="package" if "package" in (option.get("data-type") or "").lower() else "per_1000",
        min_quantity=option.get("data-min"), max_quantity=option.get("data-max"),
        service_type=option.get("data-type"),
        description=_attribute_text(option.get("data-description") or "") or None,
        average_time=option.get("data-average-time"), source="html", raw=raw))


def _read_cards(reader: _PageReader, result: ExtractResult) -> bool:
    """Div/card lists: sibling elements whose ``data-label`` names a field form one record."""
    groups: dict[Any, list[Any]] = {}
    categories: dict[Any, str | None] = {}
    running_category: str | None = None
    for element in reader.document.iter():
        if not isinstance(element.tag, str):
            continue
        classes = classes_of(element)
        if classes and _CATEGORY_CLASS.search(classes) and re.search(
                r"title|name|head", classes) and element.get("data-label") is None:
            text = element_text(element)
            if text and len(text) <= 150:
                running_category = text
        if element.get("data-label"):
            parent = element.getparent()
            if parent not in groups:
                groups[parent] = []
                categories[parent] = running_category
            groups[parent].append(element)
    records = []
    for parent, elements in groups.items():
        labelled = [(element.get("data-label").strip(), element) for element in elements]
        fields = {classify_header(label): element for label, element in reversed(labelled)}
        if NAME in fields and PRICE in fields:
            records.append((parent, labelled, fields))
    if not records:
        return False
    result.notes.append(f"no price table: read {len(records)} cards whose fields carry "
                        f"data-label attributes")
    for number, (parent, labelled, fields) in enumerate(records, start=1):
        raw: dict[str, Any] = {label: element_text(element) for label, element in labelled}
        values = {field_name: element_text(element) or None
                  for field_name, element in fields.items() if field_name and field_name != DESCRIPTION}
        if DESCRIPTION in fields:
            values[DESCRIPTION] = reader.description(fields[DESCRIPTION])
        shown = values.get(PRICE)
        if shown:
            values[PRICE], _ = reader.price_text(fields[PRICE], shown)
        service_id = next((parent.get(attribute) for attribute in
                           (*_SERVICE_ID_ATTRIBUTES, "data-id") if parent.get(attribute)),
                          None) or values.get(ID)
        category = values.get(CATEGORY) or next(
            (parent.get(attribute) for attribute in _CATEGORY_ATTRIBUTES
             if parent.get(attribute)), None) or categories.get(parent)
        _split_min_max(values, result, f"card {number}")
        raw["category"] = category
        reader._add_offer(result, where=f"card {number}", raw=raw, from_attributes=True,
                          offer=RawOffer(
            site_offer_id=service_id, name=values.get(NAME) or "", category=category,
            price=values.get(PRICE), min_quantity=values.get(MIN), max_quantity=values.get(MAX),
            description=values.get(DESCRIPTION), average_time=values.get(AVERAGE_TIME),
            source="html", raw=raw))
    return True


# -- the page -----------------------------------------------------------------------------------

def _why_not_a_price_page(document: Any) -> str:
    text = etree.tostring(document, method="text", encoding="unicode")[:20000].lower()
    markup = etree.tostring(document, encoding="unicode")[:60000].lower()
    if "cloudflare" in markup or "cf-chl" in markup or "challenge-platform" in markup:
        return "; looks like a Cloudflare challenge page"
    if "loginform[" in markup or 'type="password"' in markup:
        return "; looks like a login page"
    if "maintenance" in text or "bakım" in text or "mantenimiento" in text:
        return "; looks like a maintenance page"
    return ""


def extract_services_page(html: bytes | str, *, base_url: str | None = None) -> ExtractResult:
    """Read a panel's public services page into raw offers, values as the visitor sees them.

    ``base_url`` is the page's URL; it is only quoted in notes (values never need resolving).

    Raises :class:`ExtractError` when the page has no price list at all (no price table, no
    service ``<select>``, no labelled cards), with the page title and a hint (Cloudflare, login
    or maintenance page). A price table with headers but no rows gives zero offers and a note.
    """
    document, decode_notes = load_html(html)
    result = ExtractResult(notes=[f"page: {base_url}"] if base_url else [])
    result.notes.extend(decode_notes)
    reader = _PageReader(document)

    tables = [_plan_table(table, number)
              for number, table in enumerate(document.iter("table"), start=1)]
    price_tables = [table for table in tables if table.is_price_list]
    header_currency = None
    if price_tables:
        if len(price_tables) > 1:
            result.notes.append(
                f"{len(price_tables)} of {len(tables)} tables look like price lists: combined")
        elif len(tables) > 1:
            result.notes.append(f"{price_tables[0].describe()} of {len(tables)} tables is the "
                                "price list")
        service_rows = 0
        for table in price_tables:
            result.notes.append(f"{table.describe()}: {table.describe_columns()}")
            start_category = _table_category(table.element, use_heading=len(price_tables) > 1)
            service_rows += reader.read_table(table, result, start_category)
            header_currency = header_currency or table.header_currency
        if service_rows == 0:
            result.notes.append("the price table has headers but no service rows: 0 offers")
    elif not (_read_select_options(reader, result) or _read_cards(reader, result)):
        detail = ""
        if tables:
            heads = "; ".join(
                f"table #{table.number}: " + (", ".join(repr(column.label)
                                                      for column in table.columns[:8])
                                              or "no header row")
                for table in tables[:3])
            detail = f"; {len(tables)} table(s), none with a service-name and a price column ({heads})"
        raise ExtractError(f"no price table found on the page (title: {page_title(document)}"
                           f"{detail}{_why_not_a_price_page(document)})")

    if reader.blank_rows:
        result.notes.append(f"{reader.blank_rows} blank rows skipped")
    if reader.skipped_rows:
        result.notes.append(f"{reader.skipped_rows} divider or category-banner rows skipped "
                            "(not offers)")
    if reader.repeated_rows:
        result.notes.append(f"{reader.repeated_rows} rows repeat a service already read (same id, "
                            "name and price): skipped")
    if reader.tooltip_prices:
        result.notes.append(
            f"{reader.tooltip_prices} prices read from a tooltip (title) holding the original-"
            "currency price, not the converted price shown")
    currency, source = page_currency(document, header_currency,
                                     skip=[table.element for table in price_tables])
    if currency and reader.tooltip_prices and source.startswith("the currency switcher"):
        result.notes.append(f"the currency switcher shows {currency}, but prices come from "
                            "tooltips in the panel's own currency: page currency left unknown")
    elif currency:
        result.currency = currency
        result.notes.append(f"page currency {currency!r} from {source}")
    for offer in result.offers:
        offer.description = unmark(offer.description)
    return result
