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

from crawlers.discovery.fingerprint import Detection, detect_family
from crawlers.discovery.sites import crawl_targets

__all__ = ["Detection", "crawl_targets", "detect_family"]
