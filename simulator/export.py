"""Exporting the market as ``config/sites.yaml`` entries pointing at a running simulator."""

from __future__ import annotations

from typing import Any

from simulator.randomness import stream
from simulator.state import MarketState


class MarketConfigExport(MarketState):
    def sites_config(self, base_url: str) -> list[dict[str, Any]]:
        """Entries for ``config/sites.yaml`` pointing at a running simulator: every panel, then
        the shops with ``in_config`` (the others can only be found by discovery); unseen
        sellers (``market.unseen``) never: no source lists them."""
        base = base_url.rstrip("/")
        entries = [
            self._config_entry(
                base,
                site.site_id,
                site.family,
                site.currency,
                site.api_key_env if site.family == "smm_api" else None,
            )
            for site in self.sites.values()
            if site.site_id not in self.unseen
        ]
        entries.extend(
            self._config_entry(base, shop.shop_id, shop.config_family, shop.currency, None)
            for shop in self.shops.values()
            if shop.in_config and shop.shop_id not in self.unseen
        )
        return entries

    def shop_config(self, shop_id: str, base_url: str) -> dict[str, Any]:
        """The config entry of any shop, listed or not (what a promoted discovery becomes)."""
        shop = self.shop(shop_id)
        base = base_url.rstrip("/")
        return self._config_entry(base, shop.shop_id, shop.config_family, shop.currency, None)

    def _config_entry(
        self, base: str, site_id: str, family: str, currency: str, api_key_env: str | None
    ) -> dict[str, Any]:
        schedule_rng = stream(self.seed, site_id, "schedule")
        return {
            "id": site_id,
            "url": f"{base}/s/{site_id}/",
            "family": family,
            "currency": currency,
            "api_key_env": api_key_env,
            "schedule": {
                "cron": f"{schedule_rng.randrange(60)} {schedule_rng.randrange(24)} * * *",
                "interval": None,
            },
            # Loopback simulator: no delay needed; robots.txt is still read and obeyed.
            "politeness": {
                "obey_robots_txt": True,
                "download_delay": 0.0,
                "concurrency": 4,
                "autothrottle": False,
            },
        }
