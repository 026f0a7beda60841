"""Reading `config/sites.yaml`: the targets, their family, currency, schedule and politeness.

The file is validated with pydantic models so that a typo gives a clear error naming the site
and the field, not a crash in the middle of a crawl. ``${VAR}`` and ``${VAR:-default}`` are
expanded from the environment (the demo uses it to point every site at the simulator's port).
API keys are never in the file: a site names the environment variable that holds its key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core.config_sections import AlertsConfig, DiscoveryConfig, SchedulerConfig
from core.families import FAMILY_NAMES, FamilyError, spider_class

# libyaml's parser when PyYAML was built with it (the same safe constructors, about ten times
# faster than the pure-Python parser: each crawl process reads this file).
SAFE_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SITES_PATH = REPO_ROOT / "config" / "sites.yaml"


FAMILIES: tuple[str, ...] = FAMILY_NAMES  # the registry's (core/families.py)


def _known_family(name: str) -> str:
    if name not in FAMILY_NAMES:
        raise ValueError(f"unknown family {name!r}: one of {', '.join(FAMILY_NAMES)}")
    return name


Family = Annotated[str, AfterValidator(_known_family)]
_ENV_REFERENCE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")


class ConfigError(Exception):
    """The configuration cannot be used; the message says which site and field."""


class Politeness(BaseModel):
    model_config = ConfigDict(extra="forbid")

    obey_robots_txt: bool = True
    download_delay: float = Field(1.0, ge=0)
    concurrency: int = Field(2, ge=1, le=32)
    autothrottle: bool = True
    timeout_seconds: float = Field(60.0, gt=0)
    retries: int = Field(2, ge=0, le=10)
    max_offers: int = Field(50_000, ge=1, le=10_000_000)
    """Offers one crawl keeps; a site listing more ends ``partial`` (nothing marked removed)."""


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval: str | None = "1d"
    """Every how long: ``30m``, ``6h``, ``1d``."""
    cron: str | None = None
    jitter: str = "10m"


class SiteConfig(BaseModel):
    """One target. ``id`` is stable: it is the primary key of the site in the database."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
    url: str
    family: Family
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    """The currency prices are in when the site does not say (ISO 4217)."""
    api_key_env: str | None = None
    """Name of the environment variable that holds the API key (``smm_api``)."""
    enabled: bool = True
    schedule: Schedule = Field(default_factory=Schedule)
    politeness: Politeness = Field(default_factory=Politeness)
    spider: str | None = None
    """``package.module:Class``: the site's own spider, a subclass of its family's (e.g. with a
    ``post_process_offer`` for a quirky site); default: the family's spider."""

    @model_validator(mode="after")
    def _spider_of_the_family(self) -> SiteConfig:
        if self.spider is not None:
            try:
                spider_class(self.family, self.spider)
            except FamilyError as error:
                raise ValueError(str(error)) from None
        return self

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {url!r}")
        return url if url.endswith("/") else url + "/"

    def api_key(self) -> str | None:
        """The key from the environment; never logged, never stored."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def public_dict(self) -> dict[str, Any]:
        """What may be stored in the database (the key's variable name, never the key)."""
        return self.model_dump(mode="json")


class SitesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: dict[str, Any] = Field(default_factory=dict)
    sites: list[SiteConfig]
    discovery: DiscoveryConfig = Field(default_factory=DiscoveryConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)


class ProjectConfig(BaseModel):
    """The whole sites file: the validated sites and the optional sections."""

    sites: list[SiteConfig]
    defaults: dict[str, Any] = Field(default_factory=dict)
    """The file's ``defaults`` (applied to every site, also to sites promoted from discovery)."""
    discovery: DiscoveryConfig = Field(default_factory=DiscoveryConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)


def _expand_env(value: Any) -> Any:
    """Expand ``${VAR}`` / ``${VAR:-default}`` in every string value of the parsed document.

    Values only, after parsing: a reference in a comment is never read, and a variable's
    content can never change the structure of the file."""
    if isinstance(value, dict):
        return {key: _expand_env(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand_env(item) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        found = os.environ.get(match["name"])
        if found is None:
            if match["default"] is None:
                raise ConfigError(f"environment variable {match['name']} is not set")
            return match["default"]
        return found

    return _ENV_REFERENCE.sub(replace, value)


def _merge(defaults: dict[str, Any], site: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in site.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def sites_path(path: Path | str | None = None) -> Path:
    """The sites file in use: the argument, ``$CLICKFARM_SITES``, else ``config/sites.yaml``."""
    return Path(path or os.environ.get("CLICKFARM_SITES") or DEFAULT_SITES_PATH)


def load_sites(path: Path | str | None = None) -> list[SiteConfig]:
    """Read and validate the sites file; ``defaults`` apply to every site."""
    return load_config(path).sites


def load_config(path: Path | str | None = None) -> ProjectConfig:
    """Read and validate the whole sites file (sites and the optional sections)."""
    path = sites_path(path)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_YAML_LOADER) or {}
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path} is not a sites file: not UTF-8 text "
                          f"(byte {error.start})") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    document = _expand_env(document)
    if not isinstance(document, dict) or not isinstance(document.get("sites"), list):
        raise ConfigError(f"{path}: expected a mapping with a 'sites' list")
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{path}: defaults is not a mapping")
    sites: list[SiteConfig] = []
    for index, entry in enumerate(document["sites"]):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: sites[{index}] is not a mapping")
        name = entry.get("id", f"sites[{index}]")
        sites.append(site_from_entry(entry, defaults, where=f"{path}: site {name}"))
    duplicates = {s.id for s in sites if sum(t.id == s.id for t in sites) > 1}
    if duplicates:
        raise ConfigError(f"{path}: duplicate site ids: {', '.join(sorted(duplicates))}")
    unknown = set(document) - {"defaults", "sites", "discovery", "scheduler", "alerts"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s): {', '.join(sorted(unknown))}")
    sections: dict[str, Any] = {}
    for name, model in (("discovery", DiscoveryConfig), ("scheduler", SchedulerConfig),
                        ("alerts", AlertsConfig)):
        try:
            sections[name] = model.model_validate(document.get(name) or {})
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            raise ConfigError(f"{path}: {name}: {problems}") from None
    return ProjectConfig(sites=sites, defaults=defaults, **sections)


def site_from_entry(entry: dict[str, Any], defaults: dict[str, Any], *, where: str) -> SiteConfig:
    """Validate one site entry with the file's defaults merged under it; ``where`` starts the
    error message (``"config/sites.yaml: site panel-07"``)."""
    try:
        return SiteConfig.model_validate(_merge(defaults, entry))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ConfigError(f"{where}: {problems}") from None


def select_sites(sites: list[SiteConfig], ids: list[str] | None) -> list[SiteConfig]:
    """The enabled sites, or exactly the ones named (an unknown id is an error)."""
    if not ids:
        return [site for site in sites if site.enabled]
    by_id = {site.id: site for site in sites}
    unknown = [site_id for site_id in ids if site_id not in by_id]
    if unknown:
        raise ConfigError(f"unknown site id(s): {', '.join(unknown)}")
    return [by_id[site_id] for site_id in ids]


def write_sites(path: Path, entries: list[dict[str, Any]], *, defaults: dict[str, Any] | None = None,
                header: str = "", sections: dict[str, Any] | None = None) -> None:
    """Write a sites file (used to export the simulator's sites); ``sections`` are the optional
    top-level sections (``discovery``, ``scheduler``, ``alerts``)."""
    document = {"defaults": defaults or {}, **(sections or {}), "sites": entries}
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    path.write_text(header + body, encoding="utf-8")
