"""General HTML reading shared by the extractors: parse a page (any encoding), the text a
visitor sees in an element, the page title, and word normalization for matching labels.

Used by the price-list reader (:mod:`crawlers.extract.smm_html`) and the landing-page counter
reader (:mod:`crawlers.extract.landing`); it knows nothing about prices.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from lxml import etree

from crawlers.items import ExtractError

_WORD = re.compile(r"[\w#]+")


def normalize_words(text: str) -> str:
    """Lower-case words without accents: ``"Açıklama"`` -> ``"aciklama"``, ``"Rate/1000"`` ->
    ``"rate 1000"``. Turkish dotless i and Vietnamese đ have no decomposition: mapped by hand."""
    folded = unicodedata.normalize("NFKD", text.casefold().replace("ı", "i").replace("đ", "d"))
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(_WORD.findall(folded))


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)""", re.IGNORECASE)
# <br> becomes this private-use character before parsing, so that line breaks survive the fast
# C-level text functions; it is turned into "\n" (descriptions) or a space (one-line cells).
BR_MARK = "\ue000"
BR_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
_BR_TAG_BYTES = re.compile(rb"<br\s*/?>", re.IGNORECASE)
_BR_MARK_BYTES = BR_MARK.encode("utf-8")
_SPACES = re.compile(r"[ \t\n\r\f]+")
_BLOCK_MARK = "\ue001"
_BLOCK_TAGS = frozenset({"div", "p", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
                         "table", "section", "article", "blockquote", "pre", "hr", "dl", "dt",
                         "dd"})
_ALWAYS_SKIPPED = frozenset({"script", "style", "template", "noscript", "button", "svg", "select",
                             "textarea", "input", "head"})
# Icon fonts (Font Awesome, Bootstrap, Material, Feather, Tabler, Line Awesome, Remix...) and
# buttons: their text is a glyph name or "View", never a value.
_ICON_CLASS = re.compile(
    r"icon|(?:^|\s)(?:fa[srlbd]?|fe|ti|bi|mdi|la[srb]?|ri|ion|feather|btn)(?:\s|$|-)")
_HIDDEN_CLASSES = frozenset({"d-none", "hidden", "hide", "modal", "collapse", "sr-only",
                             "visually-hidden", "invisible", "tooltip", "popover"})
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_MODAL_CHROME = frozenset({"modal-header", "modal-footer", "close", "btn-close", "modal-title"})


HTML_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True,
                                no_network=True, default_doctype=False, collect_ids=False)


def load_html(body: bytes | str) -> tuple[Any, list[str]]:
    """Parse a page with lxml; ``<br>`` is kept as a marker (see :func:`element_text`).

    Returns the document root and notes about decoding. Raises :class:`ExtractError` for an
    empty document.
    """
    notes: list[str] = []
    data = _utf8_bytes(body, notes)
    if not data.strip():
        raise ExtractError("empty page (no HTML)")
    data = _BR_TAG_BYTES.sub(_BR_MARK_BYTES, data)
    try:
        # UTF-8 bytes with the plain etree parser: parsing a str makes libxml2 read Python's
        # 4-byte-per-character buffer, and lxml.html wraps every element through a Python-level
        # class lookup; together they cost half the run time on a 2,000-row table.
        document = etree.fromstring(data, HTML_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as error:
        raise ExtractError(f"page could not be parsed as HTML: {error}") from None
    if document is None:
        raise ExtractError("empty page (no HTML)")
    return document, notes


def _utf8_bytes(body: bytes | str, notes: list[str]) -> bytes:
    if isinstance(body, str):
        return body.lstrip("\ufeff").encode("utf-8", errors="replace")
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:]
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16", errors="replace").encode("utf-8")
    try:
        body.decode("utf-8")  # valid UTF-8 is UTF-8, whatever the <meta> claims
        return body
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(body[:4096])
    for encoding in ([declared.group(1).decode("ascii", "ignore")] if declared else []):
        try:
            return body.decode(encoding).encode("utf-8")
        except (LookupError, UnicodeDecodeError):
            continue
    notes.append("page is neither valid UTF-8 nor in a declared charset: read as Windows-1252")
    return body.decode("cp1252", errors="replace").encode("utf-8")


def classes_of(element: Any) -> str:
    return element.get("class") or ""


def is_hidden(element: Any) -> bool:
    classes = element.get("class")
    if classes and not _HIDDEN_CLASSES.isdisjoint(classes.split()):
        return True
    style = element.get("style")
    if style and _DISPLAY_NONE.search(style):
        return True
    return element.get("hidden") is not None or element.get("aria-hidden") == "true"


def is_decoration(element: Any) -> bool:
    """Icons, buttons and form controls: never part of a value."""
    tag = element.tag
    if not isinstance(tag, str) or tag in _ALWAYS_SKIPPED:
        return True
    classes = element.get("class")
    return bool(classes) and _ICON_CLASS.search(classes) is not None


def element_text(element: Any, *, multiline: bool = False, include_hidden: bool = False) -> str:
    """What a visitor reads in ``element``: source whitespace collapsed, icons, buttons and
    (unless ``include_hidden``) hidden parts skipped. With ``multiline``, ``<br>`` and block
    boundaries become ``"\\n"``; otherwise the text is one line."""
    if len(element) == 0:  # fast path: most cells are plain text
        text = element.text or ""
    else:
        parts: list[str] = []
        _collect(element, parts, multiline, include_hidden)
        text = "".join(parts)
    return finish_text(text, multiline)


def _collect(element: Any, parts: list[str], multiline: bool, include_hidden: bool) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # comments, processing instructions
            pass
        elif not (is_decoration(child) or (not include_hidden and is_hidden(child))
                  or (include_hidden and not _MODAL_CHROME.isdisjoint(classes_of(child).split()))):
            block = multiline and tag in _BLOCK_TAGS
            if block:
                parts.append(_BLOCK_MARK)
            _collect(child, parts, multiline, include_hidden)
            if block:
                parts.append(_BLOCK_MARK)
        elif tag in ("td", "th", "div", "p", "li"):
            parts.append(" ")  # skipped block still separates its neighbours
        if child.tail:
            parts.append(child.tail)


NEEDS_CLEANING = re.compile(f"[\t\n\r\f{BR_MARK}{_BLOCK_MARK}]|  ")


def finish_text(text: str, multiline: bool) -> str:
    if NEEDS_CLEANING.search(text) is None:  # one scan: most cells are already clean
        return text.strip()
    text = _SPACES.sub(" ", text)
    if BR_MARK not in text and _BLOCK_MARK not in text:
        return text.strip()
    if not multiline:
        return _SPACES.sub(" ", text.replace(BR_MARK, " ").replace(_BLOCK_MARK, " ")).strip()
    if _BLOCK_MARK in text:
        # A block boundary is one line break, and none where a <br> already breaks the line.
        text = _BLOCK_RUN.sub(_BLOCK_MARK, text)
        text = text.replace(_BLOCK_MARK + BR_MARK, BR_MARK).replace(BR_MARK + _BLOCK_MARK,
                                                                       BR_MARK)
        text = text.replace(_BLOCK_MARK, "\n")
    lines = text.replace(BR_MARK, "\n").split("\n")
    text = "\n".join([line.strip() for line in lines]).strip()
    return _BLANK_LINES.sub("\n\n", text) if "\n\n\n" in text else text


_BLOCK_RUN = re.compile(f"[ {_BLOCK_MARK}]*{_BLOCK_MARK}[ {_BLOCK_MARK}]*")
_BLANK_LINES = re.compile(r"\n{3,}")


def unmark(text: str | None) -> str | None:
    """Attribute values keep the ``<br>`` marker too: turn it back into a line break."""
    if text is None:
        return None
    return text.replace(BR_MARK, "\n")


def page_title(document: Any) -> str:
    title = document.find(".//title")
    text = element_text(title) if title is not None else ""
    return text or "none"
