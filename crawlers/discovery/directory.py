"""Seller links: the entries of a directory listing page, and the links out of a seller's
landing page ("Partners", other shops of the same owner).

Pure functions over one fetched page. A directory page carries more than its listing: its own
navigation, ads, pagination, a footer. A link counts as a listing entry when it leaves the
directory (another site) and does not sit in navigation, header, footer, sidebar, pagination or
an ad block (``ad``/``sponsor``/``promo``/``banner`` classes). ``rel="sponsored"`` alone says
nothing: directories mark their paid *and* affiliate listing links with it. The next page is a
``rel="next"`` link or a "Next" link that stays inside the directory.

Links to platforms, messengers, payment providers and panel software vendors are not sellers
(:data:`NOT_SELLER_HOSTS`): a landing page links to Instagram and Telegram, and that says
nothing about other sellers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from crawlers.discovery.identity import SiteIdentity, site_identity

NOT_SELLER_HOSTS = frozenset({
    # the platforms themselves, messengers and social links in every footer
    "instagram.com", "facebook.com", "fb.com", "m.me", "twitter.com", "x.com", "tiktok.com",
    "youtube.com", "youtu.be", "t.me", "telegram.me", "telegram.org", "wa.me", "whatsapp.com",
    "api.whatsapp.com", "linkedin.com", "pinterest.com", "reddit.com", "discord.gg",
    "discord.com", "snapchat.com", "twitch.tv", "spotify.com", "open.spotify.com",
    "soundcloud.com", "threads.net", "vk.com", "ok.ru", "kick.com", "tumblr.com", "quora.com",
    # search, stores, payment, trust badges, software vendors and CDNs
    "google.com", "play.google.com", "apps.apple.com", "apple.com", "paypal.com", "stripe.com",
    "payeer.com", "perfectmoney.com", "coinbase.com", "trustpilot.com", "wordpress.org",
    "wordpress.com", "woocommerce.com", "shopify.com", "github.com", "cloudflare.com",
    "mypanel.link", "perfectpanel.com", "smartpanel.com", "fonts.googleapis.com", "gstatic.com",
    "bit.ly",
})
_EXCLUDED_TAGS = frozenset({"nav", "header", "footer", "aside", "form", "noscript", "template"})
_EXCLUDED_WORDS = frozenset({
    "nav", "navbar", "navigation", "menu", "pagination", "pager", "paging", "breadcrumb",
    "breadcrumbs", "footer", "sidebar", "ad", "ads", "advert", "advertisement", "adsense",
    "sponsor", "sponsored", "promo", "promoted", "promotion", "banner", "cookie", "share",
    "social",
})
# Header and footer of one listing entry rather than of the page: the entry markup they sit in.
_ENTRY_PARTS = frozenset({"header", "footer"})
_ENTRY_TAGS = frozenset({"article", "li", "tr"})
# Not "post": WordPress puts it on <body> of every single post ("single-post").
_ENTRY_WORDS = frozenset({"card", "item", "entry", "listing"})
_NEXT_TEXTS = frozenset({"next", "next page", "next ›", "next »", "next →", "›", "»", "→", ">",
                         ">>", "older", "more", "siguiente", "weiter", "suivant", "próxima",
                         "sonraki", "далее", "следующая", "berikutnya"})
_PARTNER_WORDS = re.compile(r"partner|friends|our other|sister sites|recommended|affiliates",
                            re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SellerLink:
    """A link to a (possible) seller, with where and how it was found."""

    identity: SiteIdentity
    href: str
    """The link as found, absolute."""
    text: str
    page_url: str
    context: str
    """``listing entry``, ``Partners section`` or ``external link``."""


@dataclass(slots=True)
class DirectoryPage:
    """What one directory page lists."""

    entries: list[SellerLink] = field(default_factory=list)
    """Listing entries, one per seller (first link wins), in page order."""
    next_page: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    """Links left out, counted by reason (navigation, ad, same directory, not a seller...)."""


def _parse(html: bytes | str) -> Any:
    if isinstance(html, str):
        html = html.encode("utf-8", "replace")
    if not html or not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _words(value: str | None) -> set[str]:
    return {word for word in re.split(r"[\s_\-]+", (value or "").lower()) if word}


def _in_listing_item(element: Any) -> bool:
    """Inside one entry of a list (an ``<article>``, ``<li>``, table row, or a block classed
    card / item / entry / listing), below ``<body>``."""
    for ancestor in element.iterancestors():
        if ancestor.tag in ("body", "html"):
            return False
        if ancestor.tag in _ENTRY_TAGS or _words(ancestor.get("class")) & _ENTRY_WORDS:
            return True
    return False


def _excluded_by(anchor: Any) -> str | None:
    """Why a link is not a listing entry (navigation, ad...), or ``None``."""
    for element in (anchor, *anchor.iterancestors()):
        words = (_words(element.get("class")) | _words(element.get("id"))) & _EXCLUDED_WORDS
        if (element.tag in _ENTRY_PARTS or words == {"footer"}) and _in_listing_item(element):
            # An entry's own header or footer (".card-footer" with its "Visit site" button, an
            # <article>'s <header> with the seller's name): part of the entry, not the page's.
            continue
        if element.tag in _EXCLUDED_TAGS:
            return f"inside <{element.tag}>"
        if element.get("role") in ("navigation", "banner", "contentinfo", "complementary"):
            return f"inside role={element.get('role')}"
        if words:
            return f"inside .{sorted(words)[0]}"
        if element.get("data-ad") is not None or element.get("data-sponsored") is not None:
            return "ad (data attribute)"
    return None


def is_not_seller_host(identity: SiteIdentity) -> bool:
    host = identity.host
    return any(host == name or host.endswith("." + name) for name in NOT_SELLER_HOSTS)


def _anchors(document: Any, page_url: str) -> Iterable[tuple[Any, str]]:
    base = document.xpath("//base/@href")
    base_url = urljoin(page_url, base[0].strip()) if base else page_url
    for anchor in document.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        yield anchor, urljoin(base_url, href).split("#", 1)[0]


def extract_directory(url: str, html: bytes | str, *, known: Iterable[SiteIdentity] = ()
                      ) -> DirectoryPage:
    """The seller entries and the next-page link of one directory page (never raises).

    ``known``: identities of known sites, so that a link deep inside a known path-mounted site
    is attributed to it.
    """
    known = list(known)
    page = DirectoryPage()
    document = _parse(html)
    if document is None:
        page.skipped["empty page"] = 1
        return page
    directory = site_identity(url)
    seen: set[str] = set()
    for anchor, absolute in _anchors(document, url):
        identity = site_identity(absolute, known)
        if identity is None:
            reason: str | None = "not an http(s) link"
        elif directory is not None and identity.key == directory.key:
            reason = "inside the directory"
        elif is_not_seller_host(identity):
            reason = "platform or service, not a seller"
        else:
            reason = _excluded_by(anchor)
        if reason is not None:
            page.skipped[reason] = page.skipped.get(reason, 0) + 1
            continue
        assert identity is not None  # a missing identity has its reason above
        if identity.key in seen:
            continue
        seen.add(identity.key)
        page.entries.append(SellerLink(identity, absolute, " ".join(anchor.text_content().split()),
                                       url, "listing entry"))
    page.next_page = _next_page(document, url, directory)
    return page


def _next_page(document: Any, url: str, directory: SiteIdentity | None) -> str | None:
    candidates = [href for href in document.xpath("//link[@rel='next']/@href | //a[@rel='next']/@href")]
    for anchor in document.iter("a"):
        text = " ".join(anchor.text_content().split()).lower()
        label = (anchor.get("aria-label") or "").lower()
        if (text in _NEXT_TEXTS or label.startswith("next")
                or "next" in _words(anchor.get("class"))):
            candidates.append(anchor.get("href") or "")
    current = url.split("#", 1)[0]
    for href in candidates:
        absolute = urljoin(url, href.strip()).split("#", 1)[0]
        if not href.strip() or absolute == current:
            continue
        identity = site_identity(absolute)
        if directory is not None and (identity is None or identity.key != directory.key):
            continue  # a "next" that leaves the directory is not its pagination
        return absolute
    return None


def extract_seller_links(url: str, html: bytes | str, *, own: SiteIdentity | None = None,
                         known: Iterable[SiteIdentity] = ()) -> list[SellerLink]:
    """Links from a seller's page to other sites that may be sellers (one per site).

    ``own`` is the seller's own identity (links inside it are its own pages). Platforms,
    messengers and vendors are left out. ``context`` says whether the link sits under a
    "Partners" heading or block, which is worth noting in the evidence.
    """
    known = list(known)
    document = _parse(html)
    if document is None:
        return []
    own = own or site_identity(url, known)
    found: dict[str, SellerLink] = {}
    for anchor, absolute in _anchors(document, url):
        identity = site_identity(absolute, known)
        if identity is None or (own is not None and identity.key == own.key):
            continue
        if is_not_seller_host(identity) or identity.key in found:
            continue
        context = "Partners section" if _in_partner_block(anchor) else "external link"
        found[identity.key] = SellerLink(identity, absolute,
                                         " ".join(anchor.text_content().split()), url, context)
    return list(found.values())


def _in_partner_block(anchor: Any) -> bool:
    for element in (anchor, *anchor.iterancestors()):
        if _PARTNER_WORDS.search(" ".join([element.get("class") or "", element.get("id") or ""])):
            return True
        heading = element.getprevious()
        while heading is not None and not isinstance(heading.tag, str):
            heading = heading.getprevious()
        if heading is not None and heading.tag in ("h1", "h2", "h3", "h4", "h5", "h6", "strong",
                                                    "p") and _PARTNER_WORDS.search(
                heading.text_content()):
            return True
        if element.tag in ("body", "section", "main"):
            break
    return False
