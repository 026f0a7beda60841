"""Pure extraction functions: a saved response (bytes or text) in, raw offers as seen out.

The same functions serve the Scrapy spiders, the tests and ``clickfarm extract``. They never
normalize (values stay the seller's own text, see :mod:`crawlers.items`) and never fetch.

- :mod:`crawlers.extract.smm_api`: PerfectPanel-style API v2 ``services`` / ``balance`` JSON
  (family ``smm_api``).
- :mod:`crawlers.extract.smm_html`: the public ``/services`` page of PerfectPanel-like panels
  and clones (family ``smm_html``).
- :mod:`crawlers.extract.landing`: public counters of landing pages and PerfectPanel
  fingerprints.

Whole-response problems raise :class:`crawlers.items.ExtractError` with a message for the user;
single unreadable records become :class:`crawlers.items.RawRejection` with a reason.
"""
