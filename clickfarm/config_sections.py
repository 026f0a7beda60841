"""The optional top-level sections of ``config/sites.yaml`` beside ``sites``.

- ``discovery``: where to look for new sellers (:class:`DiscoveryConfig`).
- ``scheduler``: how ``clickfarm schedule`` runs (:class:`SchedulerConfig`).
- ``alerts``: health thresholds, market rules and sinks (:class:`AlertsConfig`).

Each is validated like the sites (unknown keys are errors) and has safe defaults, so a sites file
without them keeps working.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DiscoveryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    directories: list[str] = Field(default_factory=list)
    """First pages of seller directories; their pagination is followed (bounded)."""
    follow_seller_links: bool = True
    """Also read the landing pages of known sellers for links to other sellers."""
    auto_promote: bool = False
    """Crawl newly discovered sites right away instead of waiting for ``clickfarm sites promote``."""
    max_pages_per_directory: int = Field(50, ge=1, le=10_000)
    max_sites: int = Field(5_000, ge=1)


class SchedulerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_parallel_crawls: int = Field(2, ge=1, le=64)
    crawl_timeout_seconds: float = Field(1800, gt=0)
    misfire_grace_seconds: float = Field(3600, gt=0)
    shutdown_grace_seconds: float = Field(60, ge=0)
    config_reload_seconds: float = Field(60, gt=0)
    """How often the sites file is re-read (jobs added, removed, updated by stable id)."""


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    """Extended by the alerting code (sinks, thresholds, market rules)."""

    sinks: dict[str, Any] = Field(default_factory=lambda: {"log": True})
    rules: list[dict[str, Any]] = Field(default_factory=list)
