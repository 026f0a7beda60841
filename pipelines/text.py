"""Text cleanup for service names and cells: the first step of every normalization."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

# Variation selectors and zero-width joiners change how emoji render, not what the text says;
# left in, they split keywords ("HQ\ufe0f") and defeat matching.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=200_000)
def clean_text(text: str | None) -> str:
    """Unescape HTML entities (also double-escaped ``&amp;amp;``), NFKC-normalize styled Unicode
    (``𝐍𝐎𝐍 𝐃𝐑𝐎𝐏`` -> ``NON DROP``), drop variation selectors and zero-width characters, and
    collapse whitespace. Emoji themselves are kept: flags carry the target country."""
    if not text:
        return ""
    previous = None
    # Some panels escape twice or three times; unescape until nothing changes (bounded).
    for _ in range(4):
        if previous == text or "&" not in text:
            break
        previous, text = text, html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()
