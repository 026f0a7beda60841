"""Fingerprints of raw offers: is today's listing byte for byte the one already normalized?

From one day to the next almost every listing of a seller is what it was. The fingerprint of a
raw offer is a hash of

- every field of :class:`crawlers.items.RawOffer` that normalization reads (all of them but the
  ``raw`` record kept for rejections: :data:`RAW_FIELDS`; a field added later is included by
  default), type included (the JSON number ``0.9`` is not the text ``"0.9"``);
- the currency the site states or is configured with (it prices offers that name none);
- :func:`normalizer_version`: a hash of the normalization code (``pipelines/*.py``,
  ``core/offers.py``, ``core/families.py``, ``crawlers/items.py``), the taxonomy file in use,
  the versions of the libraries it relies on (price-parser, CurrencyConverter, PyYAML, Python's
  Unicode tables) and :data:`NORMALIZER_EPOCH`.

The store keeps each offer's fingerprint (``offer.raw_fingerprint``); a listing with the same
fingerprint only confirms the offer (``pipelines.recognize_pipeline``). Any other listing, and
every listing after the code or the taxonomy changed, is normalized in full. What the
fingerprint leaves out on purpose: the observation day, whose exchange rate only matters to new
price periods (an unchanged offer's period keeps its first USD value, see storage.repository).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import unicodedata
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from crawlers.items import RawOffer

NORMALIZER_EPOCH = 1
"""Bump to renormalize every stored offer at its next crawl, e.g. after a change of behaviour
that lives outside the hashed files (a data file of a library, an environment variable)."""

RAW_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(RawOffer) if f.name != "raw")
"""The raw fields in the fingerprint: every field normalization reads (``raw`` is the record as
seen, kept only for rejections)."""

_ROOT = Path(__file__).resolve().parent.parent
_SOURCES = ("pipelines/*.py", "core/offers.py", "core/families.py", "crawlers/items.py")
_LIBRARIES = ("price-parser", "CurrencyConverter", "PyYAML")


def _library_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


@cache
def normalizer_version() -> str:
    """The version of normalization in this process: changes whenever the code, the taxonomy or
    a library it relies on changes. Computed once per process (a few milliseconds)."""
    from pipelines.taxonomy import default_taxonomy_path

    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"epoch {NORMALIZER_EPOCH}\n".encode())
    paths = sorted(path for pattern in _SOURCES for path in _ROOT.glob(pattern))
    for path in [*paths, Path(default_taxonomy_path())]:
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError as error:  # an unreadable taxonomy fails normalization itself
            digest.update(f"unreadable: {error}".encode())
    for name in _LIBRARIES:
        digest.update(f"{name} {_library_version(name)}\n".encode())
    digest.update(f"python {sys.version_info[:2]} unicode {unicodedata.unidata_version}".encode())
    return digest.hexdigest()


def _typed(value: Any) -> Any:
    """JSON has no Decimal, tuple or set: any other type is kept with its name."""
    return f"{type(value).__name__}:{value!r}"


def raw_fingerprint(raw: RawOffer, *, site_currency: str | None) -> str:
    """The fingerprint of one raw offer as seen by a crawl whose site currency is
    ``site_currency`` (32 hex digits)."""
    values = [normalizer_version(), site_currency, *(getattr(raw, name) for name in RAW_FIELDS)]
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"), default=_typed)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
