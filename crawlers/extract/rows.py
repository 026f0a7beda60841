"""Row helpers shared by the table and API readers: rows that are not offers, and a min/max pair
written in one cell.

- A **divider** is a row whose name holds no letter and no digit: dashes, dots, stars,
  box-drawing characters, emoji (``━━━━━━``, ``-----``, ``• • •``, ``★★★★★``).
- A **banner** is a category title that sits in the table body (or the API list) like a service:
  it has an id and sometimes a number, but its name is framed by decoration (``★★ TIKTOK
  SERVICES ★★``, ``=== Instagram Likes ===``, ``🔥🔥 NEW 🔥🔥``) and it sells nothing (no price
  above zero, or no order limits). A framed name *with* a price and limits stays an offer: many
  panels decorate real services (``⭐ Instagram Likes [Real] ⭐``).
- ``split_min_max`` reads ``20 / 10000``, ``20 \\ 10000``, ``20 - 10000``, ``20 ~ 10000``,
  ``20 | 10000``, ``20 to 10000``, ``Min: 20 Max: 10000`` into ``("20", "10000")``.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

# Characters that decorate: punctuation, symbols (box drawing, stars, arrows, emoji), spaces.
_DECORATION_CATEGORIES = frozenset({"Pd", "Po", "Ps", "Pe", "Pc", "Sm", "So", "Sk", "Zs", "Cf",
                                    "Mn", "Me"})
_FRAME = re.compile(r"^\s*(?P<left>[^\w\s]{2,}|[^\w\s](?:\s*[^\w\s])+)\s*.*?\s*"
                    r"(?P<right>[^\w\s]{2,}|[^\w\s](?:\s*[^\w\s])+)\s*$", re.DOTALL)
_LEADING_RULE = re.compile(r"^\s*[-=_~*#•·.]{3,}|[-=_~*#•·.]{3,}\s*$")
_ZERO_OR_BLANK = re.compile(r"^[\s$€£₹₺₽0.,-]*$")


def is_decoration(char: str) -> bool:
    return unicodedata.category(char) in _DECORATION_CATEGORIES


def is_divider(name: str | None) -> bool:
    """A name of dashes, dots, stars, box-drawing characters or emoji only (no letter, no
    digit): ``"━━━━━━"``, ``"-----"``, ``"• • •"``. A blank name is not a divider (it is a row
    without a name, rejected as such)."""
    if name is None or not name.strip():
        return False
    return all(is_decoration(char) or char.isspace() for char in name)


def is_framed(name: str | None) -> bool:
    """A name framed by decoration on both sides (``★★ TIKTOK ★★``, ``== Likes ==``,
    ``🔥🔥 NEW 🔥🔥``), or led/closed by a rule of three or more dashes or stars."""
    if not name:
        return False
    return bool(_FRAME.match(name) or _LEADING_RULE.search(name))


def _is_zero(value: object) -> bool:
    if value is None:
        return True
    text = str(value).strip()
    if not text or _ZERO_OR_BLANK.match(text):
        try:
            return not text or Decimal(re.sub(r"[^\d.]", "", text) or "0") == 0
        except InvalidOperation:
            return True
    return False


def is_banner(name: str | None, price: object, min_quantity: object = None,
              max_quantity: object = None) -> bool:
    """A category title in the body of a price list: a framed name that sells nothing (no
    price above zero, or neither limit above zero)."""
    if not is_framed(name):
        return False
    return _is_zero(price) or (_is_zero(min_quantity) and _is_zero(max_quantity))


def not_an_offer(name: str | None, price: object, min_quantity: object = None,
                 max_quantity: object = None) -> str | None:
    """``"divider"`` or ``"banner"`` for a row that is not an offer, else ``None``."""
    if is_divider(name):
        return "divider"
    if is_banner(name, price, min_quantity, max_quantity):
        return "banner"
    return None


def banner_title(name: str) -> str:
    """The category a banner names, without its frame: ``"★★ TIKTOK ★★"`` -> ``"TIKTOK"``."""
    return "".join(char for char in name if not is_decoration(char)
                   or char.isspace()).strip() or name.strip()


_NUMBER = r"(?:\d[\d.,\u00a0 ]*?\d|\d)(?:\s*[kKmM](?![^\W\d_]))?"
_MIN_MAX = re.compile(
    rf"^\s*(?P<min>{_NUMBER})\s*"
    r"(?:/|\\|\||[-–—~]|\s(?:to|à|a|bis|до|hingga|sampai|đến|ila|إلى)\s)\s*"
    rf"(?P<max>{_NUMBER}|∞|unlimited)\s*$",
    re.IGNORECASE)
_LABELLED = re.compile(
    rf"^\W*min(?:imum)?\.?\s*:?\s*(?P<min>{_NUMBER})\W+max(?:imum)?\.?\s*:?\s*"
    rf"(?P<max>{_NUMBER})\W*$", re.IGNORECASE)


def split_min_max(text: str | None) -> tuple[str, str] | None:
    """``"20 / 10000"``, ``"20 \\ 10000"``, ``"20 - 10000"``, ``"1K ~ 1M"``, ``"Min: 20 Max:
    10000"`` -> ``("20", "10000")``; ``None`` when the cell does not hold two numbers."""
    if not text:
        return None
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    match = _LABELLED.match(cleaned) or _MIN_MAX.match(cleaned)
    if not match:
        return None
    return match["min"].strip(), match["max"].strip()
