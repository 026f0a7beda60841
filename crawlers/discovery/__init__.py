"""Seller discovery: find new sellers in directories and on other sellers' pages.

- :mod:`~crawlers.discovery.identity`: which seller a link points to (normalized site URL) and
  the stable id of a new site.
- :mod:`~crawlers.discovery.fingerprint`: which software serves a page (pure).
- :mod:`~crawlers.discovery.directory`: seller links of directory and landing pages (pure).
- :mod:`~crawlers.discovery.spider` and :mod:`~crawlers.discovery.runner`: the Scrapy pass, in a
  child process.
- :mod:`~crawlers.discovery.discover`: one whole pass (plan, run, resolve, record).
- :mod:`~crawlers.discovery.sites`: :func:`crawl_targets`, the config sites plus the promoted ones.
"""


from __future__ import annotations

from typing import Any

__all__ = ["Detection", "crawl_targets", "detect_family"]

# Imported on first use: a crawl process needs only ``crawl_targets`` (from .sites), not the
# fingerprint detectors and the HTML parsers they load.
_LAZY = {"Detection": "crawlers.discovery.fingerprint", "detect_family":
         "crawlers.discovery.fingerprint", "crawl_targets": "crawlers.discovery.sites"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
