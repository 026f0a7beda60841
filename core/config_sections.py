"""The optional top-level sections of ``config/sites.yaml`` beside ``sites``.

- ``discovery``: where to look for new sellers (:class:`DiscoveryConfig`).
- ``scheduler``: how ``clickfarm schedule`` runs (:class:`SchedulerConfig`).
- ``alerts``: health thresholds, market rules and sinks (:class:`AlertsConfig`).

Each is validated like the sites (unknown keys are errors) and has safe defaults, so a sites file
without them keeps working.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


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
    """At most this many new sites are fingerprinted per pass (the rest are listed as skipped)."""
    download_delay: float = Field(1.0, ge=0)
    """Seconds between requests to one host (robots.txt is always obeyed)."""
    concurrency: int = Field(2, ge=1, le=32)
    """Requests at once to one host."""
    timeout_seconds: float = Field(30.0, gt=0)
    """Per request."""


class SchedulerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_parallel_crawls: int = Field(2, ge=1, le=64)
    crawl_timeout_seconds: float = Field(1800, gt=0)
    misfire_grace_seconds: float = Field(3600, gt=0)
    shutdown_grace_seconds: float = Field(60, ge=0)
    config_reload_seconds: float = Field(60, gt=0)
    """How often the sites file is re-read (jobs added, removed, updated by stable id)."""
    leader_lease_seconds: float = Field(30, gt=0, le=3600)
    """The scheduler's lease in the database: one ``clickfarm schedule`` plans, a second one
    waits and takes over this long after the first stopped renewing (at once on its machine)."""
    mode: Literal["local", "distributed"] = "local"
    """``local``: crawl processes on this machine; ``distributed``: tasks for Celery workers
    (``clickfarm worker``) over ``broker_url``."""
    broker_url: str | None = None
    """Redis URL of the broker (distributed mode); default ``$CLICKFARM_BROKER_URL``, else
    redis://127.0.0.1:6379/0. Use ``${REDIS_URL}`` to keep a password out of the file."""
    sites_per_task: int = Field(10, ge=1, le=1000)
    """Sites planned for the same time that one task crawls in one crawl process (each still
    its own run, cycle and transaction)."""
    max_attempts: int = Field(3, ge=1, le=20)
    """Attempts of a cycle whose crawl was interrupted (worker lost, hard timeout) or could
    not store (database gone) before it is given up as failed."""
    site_lease_seconds: float = Field(60, gt=0, le=3600)
    """The lease a worker holds on a site while crawling it (renewed every third of it)."""
    visibility_timeout_seconds: float | None = Field(None, gt=0)
    """The broker redelivers an unacknowledged task after this long; at least the crawl timeout
    plus the stop grace and a minute (the default)."""


_DAYS_PATTERN = r"^\s*\d+\s*[dw]\s*$"
Severity = Literal["info", "warning", "critical"]


class WebhookSinkConfig(BaseModel):
    """An HTTP endpoint that receives one JSON POST per alert."""

    model_config = ConfigDict(extra="forbid")

    url: str
    timeout_seconds: float = Field(5.0, gt=0, le=300)
    """Connect and read timeout of each attempt."""
    retries: int = Field(2, ge=0, le=10)
    """Extra attempts after a refused connection, a timeout or a 429 / 5xx answer."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Sent with every POST (e.g. ``Authorization: Bearer ${ALERT_TOKEN}``); never logged."""

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url must start with http:// or https://, got {url!r}")
        return url


class SinksConfig(BaseModel):
    """Where alerts go besides the ``alert`` table (which always keeps them)."""

    model_config = ConfigDict(extra="forbid")

    log: bool = True
    """One line per alert on the ``clickfarm.alerts`` logger."""
    jsonl: Path | None = None
    """Append one JSON object per alert to this file."""
    webhook: WebhookSinkConfig | None = None


class HealthThresholds(BaseModel):
    """When a crawl run of a site is unhealthy, compared with the site's recent runs."""

    model_config = ConfigDict(extra="forbid")

    offers_drop_share: float = Field(0.5, gt=0, lt=1)
    """``offers_halved`` fires when a run saw this share fewer offers than the median of the
    site's recent good runs (0.5: down by more than half)."""
    rejection_rate: float = Field(0.10, ge=0, lt=1)
    """``rejection_rate`` fires above this share of rejected records (rejected / (seen +
    rejected))."""
    consecutive_failures: int = Field(2, ge=1)
    stale_intervals: float = Field(3, gt=0)
    """``stale`` fires when a site had no successful run within this many schedule intervals."""
    history_runs: int = Field(5, ge=1, le=100)
    """How many recent good runs make the median of ``offers_halved``."""


class PriceIndexMoveRule(BaseModel):
    """The price index (median USD per 1000) of a platform x metric moved by more than
    ``threshold_pct`` percent between the latest day and ``window`` earlier."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["price_index_move"]
    platform: str | None = None
    """``None``: every platform."""
    metric: str | None = None
    """``None``: every metric."""
    threshold_pct: Decimal = Field(gt=0)
    window: str = Field("7d", pattern=_DAYS_PATTERN)
    """Whole days or weeks: ``7d``, ``2w``."""
    pricing: Literal["per_1000", "package"] = "per_1000"
    """The panel index (``per_1000``) or the retail one (``package``)."""
    min_offers: int = Field(10, ge=1)
    """Classes with fewer offers on either day are not judged (their median moves by chance)."""
    severity: Severity = "warning"


class SellerAddsPlatformRule(BaseModel):
    """A seller lists offers for a platform it did not list before."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["seller_adds_platform"]
    site: str | None = None
    """Only this site (``None``: every site)."""
    severity: Severity = "info"


class NewSellerRule(BaseModel):
    """A site whose first successful crawl is the run just finished, or (with
    ``include_discovered``) a site that discovery just recorded."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["new_seller"]
    include_discovered: bool = True
    baseline_first_day: bool = True
    """Sellers first crawled on the database's first crawl day are the baseline, not news."""
    severity: Severity = "info"


MarketRule = Annotated[
    PriceIndexMoveRule | SellerAddsPlatformRule | NewSellerRule,
    Field(discriminator="type"),
]


class AlertsConfig(BaseModel):
    """Health thresholds, market rules and sinks. Every alert is stored in the ``alert`` table;
    an ongoing condition is sent once, and once more (severity ``info``) when it clears if
    ``notify_resolved`` is true."""

    model_config = ConfigDict(extra="forbid")

    sinks: SinksConfig = Field(default_factory=SinksConfig)
    health: HealthThresholds = Field(default_factory=HealthThresholds)
    rules: list[MarketRule] = Field(default_factory=list)
    notify_resolved: bool = True
    """Send a ``resolved`` alert to the sinks when a health or index condition clears."""
