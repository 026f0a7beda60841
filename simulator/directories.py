"""Discovery in the simulated market: two directory sites and "Partners" links between sellers.

- ``/d/smmlist/?page=N``: a "best SMM panels" list (cards, 12 per page, ordered by a score);
- ``/d/topsellers/?page=N``: a ranking table (10 per page, alphabetical).

Both paginate with a ``rel="next"`` link, overlap, and each misses some sellers. Their seller
entries link to ``<base_url>/s/<seller-id>/``; their other links (home, advertise, submit, blog,
FAQ, the other directory, pagination) are not sellers. Some sellers listed in the exported config
show "Partners" links to other sellers on their landing page; the sellers no directory lists are
reachable through these links only. Directories + partner links cover every seller.

The plan is deterministic: each seller's membership draws from ``"<seed>/<seller-id>/discovery"``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from simulator.randomness import stream

if TYPE_CHECKING:  # pragma: no cover
    from simulator.model import Site
    from simulator.shops import Shop


class MarketView(Protocol):
    """What discovery reads of a market (``simulator.market.Market``; a protocol, so that this
    module does not import the market that imports it)."""

    seed: int

    @property
    def sites(self) -> Mapping[str, Site]: ...

    @property
    def shops(self) -> Mapping[str, Shop]: ...

    @property
    def discovery(self) -> DiscoveryPlan: ...

    def seller_ids(self) -> list[str]: ...

    def seller_volume(self, seller_id: str) -> float: ...

    def sites_config(self, base_url: str) -> list[dict[str, Any]]: ...

DIRECTORY_IDS: tuple[str, ...] = ("smmlist", "topsellers")
PER_PAGE: dict[str, int] = {"smmlist": 12, "topsellers": 10}
TITLES: dict[str, str] = {
    "smmlist": "SMMList - Best SMM Panels & Shops 2026",
    "topsellers": "TopSellers: ranking of social media growth services",
}
EXTRA_PAGES: dict[str, dict[str, str]] = {
    "smmlist": {
        "advertise": "Advertise on SMMList",
        "submit": "Submit your panel",
        "blog/how-to-choose-an-smm-panel": "How to choose an SMM panel",
    },
    "topsellers": {
        "about": "About TopSellers",
        "advertise": "Advertise with us",
        "faq": "Frequently asked questions",
    },
}
"""Non-seller pages of each directory (path under ``/d/<id>/`` -> title)."""


@dataclass
class DiscoveryPlan:
    """Which directory lists which seller, and which seller links to which."""

    listings: dict[str, list[str]] = field(default_factory=dict)
    """Directory id -> seller ids in listing order."""
    partners: dict[str, list[str]] = field(default_factory=dict)
    """Seller id -> the sellers its landing page links as partners."""
    unseen: frozenset[str] = frozenset()
    """Sellers every source missed (no listing, no partner link): see :func:`plan_discovery`."""
    findability: dict[str, float] = field(default_factory=dict)
    """Seller id -> its findability (the listing probability of the first directory), when the
    plan was drawn by findability (``unseen_share`` > 0)."""

    def pages(self, directory_id: str) -> int:
        return max(1, -(-len(self.listings[directory_id]) // PER_PAGE[directory_id]))

    def page_entries(self, directory_id: str, page: int) -> list[str]:
        per_page = PER_PAGE[directory_id]
        return self.listings[directory_id][(page - 1) * per_page : page * per_page]

    def truth(self, market: MarketView) -> dict[str, Any]:
        """The ``discovery`` section of the ground truth."""
        sellers = market.seller_ids()
        in_config = [entry["id"] for entry in market.sites_config("http://x")]
        listed_by = {
            seller: [d for d in DIRECTORY_IDS if seller in self.listings[d]] for seller in sellers
        }
        linked = {target for targets in self.partners.values() for target in targets}
        return {
            "directories": {
                directory_id: {
                    "path": f"/d/{directory_id}/",
                    "per_page": PER_PAGE[directory_id],
                    "pages": self.pages(directory_id),
                    "sites": list(self.listings[directory_id]),
                    "non_seller_paths": sorted(
                        f"/d/{directory_id}/{path}" for path in EXTRA_PAGES[directory_id]
                    ),
                }
                for directory_id in DIRECTORY_IDS
            },
            "seller_links": [
                {"from": source, "to": target}
                for source, targets in self.partners.items()
                for target in targets
            ],
            "sellers": sorted(sellers),
            "panels": sorted(market.sites),
            "shops": sorted(market.shops),
            "in_config": sorted(in_config),
            "not_in_config": sorted(set(sellers) - set(in_config) - self.unseen),
            "unseen": sorted(self.unseen),
            "findability": dict(self.findability),
            "listed_by": listed_by,
            "missed_by": {
                directory_id: sorted(set(sellers) - set(self.listings[directory_id]))
                for directory_id in DIRECTORY_IDS
            },
            "only_via_seller_links": sorted(
                seller for seller in sellers if not listed_by[seller] and seller in linked
            ),
        }


def plan_discovery(market: MarketView, unseen_share: float = 0.0) -> DiscoveryPlan:
    """Decide the directories' listings and the partner links of a market.

    ``unseen_share`` 0: every seller is found (a directory lists it, or a partner link leads to
    it; at least one seller only through a link). Bigger sellers are likelier to be in both
    directories, smaller ones in one, or only behind a partner link (the membership draw is
    scaled by the seller's size rank).

    ``unseen_share`` > 0: :func:`plan_by_findability`: the sellers every source missed are
    unseen, about ``unseen_share`` of them."""
    if unseen_share > 0:
        return plan_by_findability(market, unseen_share)
    sellers = market.seller_ids()
    by_size = sorted(sellers, key=lambda s: (market.seller_volume(s), s))
    size_rank = {seller: rank / max(1, len(sellers) - 1) for rank, seller in enumerate(by_size)}
    membership: dict[str, set[str]] = {}
    draws: dict[str, float] = {}
    for seller in sellers:
        draw = stream(market.seed, seller, "discovery").random()
        draw = min(0.999, draw * (0.7 + 0.6 * (1.0 - size_rank[seller])))
        draws[seller] = draw
        if draw < 0.55:
            membership[seller] = {"smmlist", "topsellers"}
        elif draw < 0.75:
            membership[seller] = {"smmlist"}
        elif draw < 0.92:
            membership[seller] = {"topsellers"}
        else:
            membership[seller] = set()
    if len(sellers) >= 4:
        # at least one seller only partner links reveal, and each directory misses someone
        if all(membership[s] for s in sellers):
            membership[max(sellers, key=lambda s: draws[s])] = set()
        for directory_id in DIRECTORY_IDS:
            if all(directory_id in membership[s] for s in sellers):
                both = [s for s in sellers if len(membership[s]) == 2]
                membership[max(both, key=lambda s: draws[s])].discard(directory_id)
    brand = {site_id: site.brand for site_id, site in market.sites.items()}
    brand.update({shop_id: shop.brand for shop_id, shop in market.shops.items()})
    listings = {
        "smmlist": sorted(
            (s for s in sellers if "smmlist" in membership[s]),
            key=lambda s: (stream(market.seed, s, "smmlist-score").random(), s),
        ),
        "topsellers": sorted(
            (s for s in sellers if "topsellers" in membership[s]),
            key=lambda s: (brand[s].lower(), s),
        ),
    }
    in_config = {site_id for site_id in market.sites} | {
        shop_id for shop_id, shop in market.shops.items() if shop.in_config
    }
    # a JavaScript shop's links exist only in the rendered page: it never links partners
    sources = [
        s
        for s in sellers
        if s in in_config and membership[s]
        and not (s in market.shops and market.shops[s].kind == "spa")
    ]
    partners: dict[str, list[str]] = {}
    if len(sources) >= 1 and len(sellers) >= 2:
        rng = stream(market.seed, "partners")
        chosen_sources = rng.sample(sources, min(len(sources), max(2, len(sellers) // 8)))
        for seller in sellers:
            if membership[seller]:
                continue
            choices = [s for s in chosen_sources if s != seller]
            source = stream(market.seed, seller, "partner-of").choice(choices)
            partners.setdefault(source, []).append(seller)
        for source in chosen_sources:
            extra = [s for s in sellers if s != source and s not in partners.get(source, [])]
            for target in rng.sample(extra, min(len(extra), rng.randint(1, 2))):
                partners.setdefault(source, []).append(target)
        partners = {source: sorted(targets) for source, targets in sorted(partners.items())}
    return DiscoveryPlan(listings=listings, partners=partners)


def _size_scores(market: MarketView, sellers: list[str]) -> dict[str, float]:
    """Standardized log daily volume per seller (0 when all are alike)."""
    logs = {seller: math.log(max(market.seller_volume(seller), 1e-6)) for seller in sellers}
    mean = sum(logs.values()) / len(logs)
    spread = math.sqrt(sum((v - mean) ** 2 for v in logs.values()) / len(logs)) or 1.0
    return {seller: (value - mean) / spread for seller, value in logs.items()}


def plan_by_findability(market: MarketView, unseen_share: float) -> DiscoveryPlan:
    """Listings and links drawn seller by seller from a findability that grows with size.

    Seller ``i`` has findability ``p_i = logistic(a + 1.2 z_i)`` (``z_i``: standardized log
    daily volume). The first directory lists it with probability ``p_i``, the second with
    ``p_i ** 1.5`` (it favours big sellers more: the sources overlap unevenly), and a partner
    link leads to it with probability ``0.35 p_i`` (from a seller a directory lists and the
    config holds). The draws are independent given ``p_i``, so the sources depend on each other
    only through the sellers' sizes (heterogeneity), as capture-recapture models assume. ``a``
    is set so that the expected share of sellers missed by every source is ``unseen_share``;
    the sellers actually missed are the unseen ones."""
    sellers = market.seller_ids()
    if not sellers:
        return DiscoveryPlan(listings={d: [] for d in DIRECTORY_IDS})
    size = _size_scores(market, sellers)

    def chances(intercept: float, seller: str) -> tuple[float, float, float]:
        p = 1.0 / (1.0 + math.exp(-(intercept + 1.2 * size[seller])))
        return p, p**1.5, 0.35 * p

    def missed_share(intercept: float) -> float:
        total = 0.0
        for seller in sellers:
            first, second, link = chances(intercept, seller)
            total += (1 - first) * (1 - second) * (1 - link)
        return total / len(sellers)

    low, high = -12.0, 12.0  # missed_share falls as the intercept grows
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if missed_share(middle) > unseen_share else (low, middle)
    intercept = (low + high) / 2
    membership: dict[str, set[str]] = {}
    linked: set[str] = set()
    findability: dict[str, float] = {}
    for seller in sellers:
        rng = stream(market.seed, seller, "findability")
        first, second, link = chances(intercept, seller)
        findability[seller] = round(first, 6)
        membership[seller] = {d for d, p in zip(DIRECTORY_IDS, (first, second), strict=True)
                              if rng.random() < p}
        if rng.random() < link:
            linked.add(seller)
    brand = {site_id: site.brand for site_id, site in market.sites.items()}
    brand.update({shop_id: shop.brand for shop_id, shop in market.shops.items()})
    listings = {
        "smmlist": sorted(
            (s for s in sellers if "smmlist" in membership[s]),
            key=lambda s: (stream(market.seed, s, "smmlist-score").random(), s),
        ),
        "topsellers": sorted(
            (s for s in sellers if "topsellers" in membership[s]),
            key=lambda s: (brand[s].lower(), s),
        ),
    }
    in_config = set(market.sites) | {s for s, shop in market.shops.items() if shop.in_config}
    sources = [s for s in sellers if s in in_config and membership[s]
               and not (s in market.shops and market.shops[s].kind == "spa")]
    partners: dict[str, list[str]] = {}
    for target in sorted(linked):
        choices = [s for s in sources if s != target]
        if not choices:
            continue  # nobody to link it: the draw is lost
        source = stream(market.seed, target, "partner-of").choice(choices)
        partners.setdefault(source, []).append(target)
    partners = {source: sorted(targets) for source, targets in sorted(partners.items())}
    found = {s for listing in listings.values() for s in listing} | {
        target for targets in partners.values() for target in targets}
    return DiscoveryPlan(listings=listings, partners=partners,
                         unseen=frozenset(set(sellers) - found), findability=findability)


# --- rendering -------------------------------------------------------------------------------


def seller_brand(market: MarketView, seller_id: str) -> str:
    if seller_id in market.sites:
        return market.sites[seller_id].brand
    return market.shops[seller_id].brand


def _seller_blurb(market: MarketView, seller_id: str) -> tuple[str, str]:
    """(kind label, one-line description) of a seller for a directory entry."""
    if seller_id in market.sites:
        site = market.sites[seller_id]
        count = len(site.ordered_services())
        label = "Reseller panel" if site.kind == "reseller" else "SMM panel"
        return label, f"{count} services, API v2, prices in {site.currency}"
    shop = market.shops[seller_id]
    platforms = sorted({p.platform_name for p in shop.active_products()})
    return "Shop", f"Buy {', '.join(platforms[:3]) or 'social'} packages, instant delivery"


def partners_html(market: MarketView, seller_id: str, base_url: str) -> str:
    """The "Partners" block of a seller's landing page ("" when it has none)."""
    targets = market.discovery.partners.get(seller_id)
    if not targets:
        return ""
    base = base_url.rstrip("/")
    links = "".join(
        f'<li><a href="{base}/s/{target}/" rel="noopener" target="_blank">'
        f"{html.escape(seller_brand(market, target))}</a></li>"
        for target in targets
    )
    return f'<div class="partners"><h4>Partners</h4><ul>{links}</ul></div>\n'


def render_directory_page(market: MarketView, directory_id: str, page: int, base_url: str) -> str:
    """One page of a directory (call with ``market.lock`` held)."""
    plan = market.discovery
    base = base_url.rstrip("/")
    root = f"/d/{directory_id}/"
    pages = plan.pages(directory_id)
    entries = plan.page_entries(directory_id, page)
    rows = []
    offset = (page - 1) * PER_PAGE[directory_id]
    for rank, seller in enumerate(entries, start=offset + 1):
        name = html.escape(seller_brand(market, seller))
        label, blurb = _seller_blurb(market, seller)
        url = f"{base}/s/{seller}/"
        if directory_id == "smmlist":
            stars = 3.5 + (rank * 7 % 15) / 10
            rows.append(
                f'<article class="listing"><img src="{root}img/logo-{rank}.png" alt="" '
                f'width="48" height="48"><h3><a href="{url}" rel="nofollow noopener" '
                f'target="_blank">{name}</a></h3><span class="tag">{label}</span>'
                f'<p>{html.escape(blurb)}</p><span class="rating">{stars:.1f} / 5</span>'
                f'<a class="visit" href="{url}" rel="nofollow noopener">Visit site</a></article>'
            )
        else:
            rows.append(
                f"<tr><td>#{rank}</td><td><strong>{name}</strong><br><small>{label}</small></td>"
                f"<td>{html.escape(blurb)}</td>"
                f'<td><a class="btn" href="{url}" rel="sponsored nofollow">Visit</a></td></tr>'
            )
    if directory_id == "smmlist":
        body = f'<section class="listings">{"".join(rows)}</section>'
    else:
        body = (
            '<table class="ranking"><thead><tr><th>Rank</th><th>Seller</th><th>About</th>'
            f'<th></th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
    pager = []
    if page > 1:
        pager.append(f'<a class="prev" rel="prev" href="{root}?page={page - 1}">&laquo; Previous</a>')
    pager.extend(
        f'<a class="page{" current" if number == page else ""}" href="{root}?page={number}">'
        f"{number}</a>"
        for number in range(1, pages + 1)
    )
    if page < pages:
        pager.append(f'<a class="next" rel="next" href="{root}?page={page + 1}">Next &raquo;</a>')
    other = "topsellers" if directory_id == "smmlist" else "smmlist"
    return _page(
        directory_id,
        TITLES[directory_id] + (f" - page {page}" if page > 1 else ""),
        f"<h1>{html.escape(TITLES[directory_id])}</h1>\n{body}\n"
        f'<nav class="pagination">{"".join(pager)}</nav>\n'
        f'<aside><p>Looking for more? See also <a href="/d/{other}/">the {other} list</a>.</p>'
        f'<a class="ad" href="{root}advertise"><img src="{root}img/banner.png" alt="Advertise here">'
        "</a></aside>",
        link_next=f"{root}?page={page + 1}" if page < pages else None,
    )


def render_extra_page(directory_id: str, path: str) -> str | None:
    """A non-seller page of a directory (advertise, submit, FAQ...), or None."""
    title = EXTRA_PAGES[directory_id].get(path.strip("/"))
    if title is None:
        return None
    return _page(
        directory_id,
        title,
        f"<h1>{html.escape(title)}</h1><p>Contact us at ads@{directory_id}.example for rates.</p>",
        link_next=None,
    )


def _page(directory_id: str, title: str, content: str, *, link_next: str | None) -> str:
    root = f"/d/{directory_id}/"
    nav = "".join(
        f'<a href="{root}{path}">{html.escape(label)}</a>'
        for path, label in [("", "Home"), *EXTRA_PAGES[directory_id].items()]
    )
    head_next = f'<link rel="next" href="{link_next}">' if link_next else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="stylesheet" href="{root}css/site.css">{head_next}</head>\n'
        f'<body class="directory {directory_id}"><header><nav class="top">{nav}</nav></header>\n'
        f"<main>{content}</main>\n"
        f'<footer><a href="{root}advertise">Advertise</a> &middot; '
        f"<span>&copy; 2026 {directory_id}</span></footer></body></html>\n"
    )
