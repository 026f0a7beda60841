"""Which field of a retail variant holds its package size (Shopify options, WooCommerce
attributes): shared by the Shopify and WooCommerce extractors."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Field names that hold the package size, in the languages shops use.
SIZE_FIELD_NAMES = (
    "quantity", "amount", "package", "packages", "pack", "size", "qty", "followers", "likes",
    "views", "count", "number", "menge", "anzahl", "cantidad", "quantidade", "pacote", "paquete",
    "miktar", "adet", "jumlah", "quantité", "quantite", "paket",
)
# Words that make a longer field name a size ("Followers Amount", "Number of Followers",
# "Select Package"); engagement nouns alone do not ("Bonus Likes" is an extra, not the size).
_SIZE_NAME_WORDS = frozenset(SIZE_FIELD_NAMES) - {"followers", "likes", "views"}
# A number followed by a word ("500 YouTube Views", "1.5K Likes"), not a year or "24/7".
_SIZE_IN_TITLE = re.compile(r"(?<![\d/])\d(?:[\d.,\s]*\d)?\s*[kKmM]?\s+[^\W\d_]")


def has_digit(text: str) -> bool:
    return any(char.isdigit() for char in text)


def size_field_value(fields: Sequence[tuple[str, str | None]]) -> str | None:
    """The value of the field named like a size ("Quantity", "pa_amount", "Followers Amount"),
    else the one value holding a number, else ``None``. ``fields`` are (name, value) pairs."""
    present = [(name.strip().lower().removeprefix("pa_"), value)
               for name, value in fields if value]
    for name, value in present:
        if name in SIZE_FIELD_NAMES:
            return value
    for name, value in present:
        if _SIZE_NAME_WORDS.intersection(re.findall(r"[^\W\d_]+", name)):
            return value
    with_digits = [value for _, value in present if has_digit(value)]
    return with_digits[0] if len(with_digits) == 1 else None


def states_a_size(title: str | None) -> bool:
    """Whether a product title names a package size ("500 YouTube Views")."""
    return bool(title and _SIZE_IN_TITLE.search(title))
