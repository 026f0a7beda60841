"""Spiders of single quirky sites: small subclasses of a family's spider, named by the site's
``spider:`` in ``config/sites.yaml`` (README, "Adding a quirky site")."""
