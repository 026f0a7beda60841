"""Who a link points to: the normalized identity of a seller site, and a stable site id for it.

A seller is identified by its site URL. On a named host a seller owns the whole host, so
``https://www.Example.com/buy/instagram?ref=dir`` is the seller ``example.com/``. Several sites
can share one host only when they are mounted under a path, which in practice means loopback or
bare-IP hosting such as the simulator (``http://127.0.0.1:8765/s/shop-06/``): there the identity
keeps the path prefix of the link (at most :data:`MOUNT_DEPTH` segments).

The identity ``key`` leaves out the scheme, because ``http://`` and ``https://`` of one host are
the same seller (sites redirect from one to the other); ``url`` keeps it, to fetch the site.
Known sites (config, database) are matched by key, and a link inside a known site's URL prefix
belongs to that site whatever the depth.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

SITE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
MOUNT_DEPTH = 2
"""Path segments that make a site on a shared (loopback / IP) host: ``/s/<id>/``."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True, eq=False)
class SiteIdentity:
    """A seller site: ``url`` to fetch (``https://www.example.com/``) and ``key`` to compare
    (``example.com/``: no scheme, no ``www.``, default port dropped, lower-case host). Two
    identities are the same seller when their keys are equal."""

    url: str
    key: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SiteIdentity) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


def is_shared_host(host: str) -> bool:
    """Loopback names and bare IP addresses: sites there are told apart by path."""
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _host_and_port(url: str) -> tuple[str, str, str] | None:
    """``(scheme, host, ":port" or "")`` of an http(s) URL (host lower-case, as written,
    ``www.`` kept: it is what answers), else ``None``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    port_text = f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else ""
    return scheme, host, port_text


def _identity(scheme: str, host: str, port: str, path: str) -> SiteIdentity:
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    path = "/" + "/".join(segment for segment in path.split("/") if segment)
    path = path if path.endswith("/") else path + "/"
    # The key drops "www." (www.example.com and example.com are one seller); the URL keeps the
    # host as linked, since a site may answer only under one of the two names.
    key_host = host[4:] if host.startswith("www.") else host
    return SiteIdentity(url=f"{scheme}://{host}{port}{path}", key=f"{key_host}{port}{path}")


def root_identity(site_url: str) -> SiteIdentity | None:
    """The identity of a URL that is *declared* as a site root (config and database URLs):
    the whole path is kept, so ``http://127.0.0.1:8765/s/panel-01/`` stays path-mounted."""
    parsed = _host_and_port(site_url)
    if parsed is None:
        return None
    scheme, host, port = parsed
    return _identity(scheme, host, port, urlsplit(site_url.strip()).path)


def site_identity(link: str, known: Iterable[SiteIdentity] = ()) -> SiteIdentity | None:
    """The seller a link points to, or ``None`` for a link that is not http(s).

    A link inside a known site (same host and port, path under the site's path) is that site
    (the longest match wins). Otherwise: the bare host on a named host, the first
    :data:`MOUNT_DEPTH` directory segments of the link on a shared host.
    """
    parsed = _host_and_port(link)
    if parsed is None:
        return None
    scheme, host, port = parsed
    path = urlsplit(link.strip()).path or "/"
    link_key = _identity(scheme, host, port, path).key
    best: SiteIdentity | None = None
    for candidate in known:
        if link_key.startswith(candidate.key) and (best is None or len(candidate.key) > len(best.key)):
            best = candidate
    if best is not None:
        return best
    if not is_shared_host(host):
        return _identity(scheme, host, port, "/")
    directories = [segment for segment in path.split("/")[:-1] if segment]  # drop the file part
    return _identity(scheme, host, port, "/".join(directories[:MOUNT_DEPTH]))


def slug_for(identity: SiteIdentity) -> str:
    """A readable site id for a new site: the host (``example.com``), or the last path segment
    on a shared host (``shop-06`` for ``127.0.0.1:8765/s/shop-06/``); always matches
    :data:`SITE_ID_PATTERN`. Stable across runs: it depends on the identity only."""
    segments = [segment for segment in identity.path.split("/") if segment]
    base = segments[-1] if segments and is_shared_host(identity.host) else identity.key
    slug = re.sub(r"[^a-z0-9._-]+", "-", base.lower()).strip("-._")
    if not slug:
        slug = re.sub(r"[^a-z0-9._-]+", "-", identity.key.lower()).strip("-._") or "site"
    return slug[:63].rstrip("-._") or "site"


def new_site_id(identity: SiteIdentity, taken: set[str]) -> str:
    """:func:`slug_for`, with ``-2``, ``-3``... when another site already has that id."""
    base = slug_for(identity)
    if base not in taken:
        return base
    for number in range(2, 10_000):
        suffix = f"-{number}"
        candidate = base[: 63 - len(suffix)].rstrip("-._") + suffix
        if candidate not in taken:
            return candidate
    raise ValueError(f"no free site id for {identity.key}")
