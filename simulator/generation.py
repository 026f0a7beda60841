"""Building the market: panels and reseller panels with their catalogues, and the retail shops.

Each site draws from its own streams (``"<seed>/<site-id>/<purpose>"``), so adding a site never
reshuffles the others. The first 24 sites follow a per-seed plan (currencies, resellers, the two
big panels) so that the default market always shows every variation the crawlers must handle.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from dataclasses import replace
from decimal import Decimal
from itertools import accumulate
from types import SimpleNamespace

from simulator import calibration as cal
from simulator import shops as shop_model
from simulator.model import ApiStyle, CounterClaim, MoneyFormat, PageStyle, Service, Site
from simulator.names import (
    COUNTRIES,
    ServiceTraits,
    average_time,
    brand_name,
    category_name,
    description,
    random_name_style,
    sample_traits,
    service_name,
)
from simulator.randomness import stream, to_decimal, two_piece_lognormal, weighted
from simulator.state import MarketState

THEMES: tuple[str, ...] = ("pp_classic", "pp_modern", "smartpanel")
FAMILIES: tuple[str, ...] = ("smm_api", "smm_html")

# Plan of the first 24 sites (indexes are 0-based).
_PLANNED_SITES = 24
_PLANNED_RESELLERS = 6
_PLANNED_BIG_PANELS = 2
# Trait price effects (about exp(0.15) on average) and reseller markups (a quarter of the rows at
# x1.2-2.2) lift the pooled medians by about exp(0.3); dividing by it keeps the
# medians per class on the calibrated values.
_TRAIT_COMPENSATION = math.exp(-0.3)


def _trait_price_factor(traits: ServiceTraits) -> float:
    factor = 1.0
    if traits.refill_days:
        factor *= 1.25 if traits.refill_days < 365 else 1.4
    elif traits.refill_days == 0:
        factor *= 0.85
    factor *= {"hq": 1.2, "real": 1.35, "premium": 1.5, "lq": 0.7, "bot": 0.6, "mixed": 0.9}.get(
        traits.quality or "", 1.0
    )
    if traits.country and traits.platform != "website":
        factor *= 1.3
    if traits.non_drop:
        factor *= 1.2
    return factor * _TRAIT_COMPENSATION


def _service_type(rng: random.Random, traits: ServiceTraits) -> str:
    if traits.package_units:
        return "Package"
    word = traits.word.lower()
    if traits.metric == "comments" and ("custom" in word or rng.random() < 0.3):
        return "Custom Comments"
    if "comment likes" in word:
        return "Comment Likes"
    if "poll" in word:
        return "Poll"
    return "Default"


class MarketGeneration(MarketState):
    """Construction of sites, catalogues and shops (also used when resellers copy new services)."""

    def _build_sites(self) -> None:
        plan = stream(self.seed, "plan")
        currency_plan = list(cal.CURRENCY_PLAN)
        plan.shuffle(currency_plan)
        reseller_slots = set(plan.sample(range(4, _PLANNED_SITES), _PLANNED_RESELLERS))
        big_slots = set(
            plan.sample(
                [i for i in range(_PLANNED_SITES) if i not in reseller_slots], _PLANNED_BIG_PANELS
            )
        )
        theme_offset = plan.randrange(len(THEMES))
        family_offset = plan.randrange(2)
        language_plan = _language_plan(plan, currency_plan, reseller_slots, big_slots)
        reseller_slots = self._planned_resellers(reseller_slots, big_slots, language_plan)
        for index in range(self.n_panels):
            site_id = f"panel-{index + 1:02d}"
            profile = stream(self.seed, site_id, "profile")
            if index < _PLANNED_SITES:
                currency = currency_plan[index]
                reseller = index in reseller_slots
                big = index in big_slots
            else:
                currency = weighted(profile, cal.CURRENCY_WEIGHTS_BEYOND_PLAN)
                reseller = profile.random() < self.hidden.reseller_share
                big = not reseller and profile.random() < 0.05
            upstreams = [s for s in self.sites.values() if s.kind == "panel"]
            if reseller and not upstreams:
                reseller = False
            theme = THEMES[(index + theme_offset) % len(THEMES)]
            # period 6: every theme is crawled by both families
            family = FAMILIES[(index // len(THEMES) + family_offset) % 2]
            language = language_plan.get(index) or _pick_language(profile, currency)
            site = self._new_site(
                site_id, index, profile, currency, language, theme, family, reseller, upstreams
            )
            if big:
                # big wholesale lists are written in the "[10K] [R30] [1H - 1K/Day]" idiom
                # with middling habits: their rows weigh a lot in market-wide statistics
                site.name_style = replace(
                    site.name_style,
                    brackets=profile.choice(("square", "jap", "spaced")),
                    trailing_emoji_share=0.4,
                    styled_share=0.05,
                )
            self.sites[site_id] = site
            if site.kind == "panel":
                self._generate_catalogue(site, big)
            else:
                self._sync_reseller(site)

    def _planned_resellers(
        self, drawn: set[int], big_slots: set[int], language_plan: dict[int, str]
    ) -> set[int]:
        """The planned reseller slots for the market's reseller share: the plan's own draw,
        thinned or extended (with English slots, so that the planned languages stay) from a
        stream of its own, so that every other planned draw stays as it was."""
        wanted = max(1, min(12, round(self.hidden.reseller_share * _PLANNED_SITES)))
        rng = stream(self.seed, "plan", "resellers")
        chosen = sorted(drawn)
        rng.shuffle(chosen)
        if wanted <= len(chosen):
            return set(chosen[:wanted])
        spare = [
            index
            for index in range(4, _PLANNED_SITES)
            if index not in drawn and index not in big_slots and language_plan[index] == "en"
        ]
        return set(chosen) | set(rng.sample(spare, min(len(spare), wanted - len(chosen))))

    def _assign_counter_claims(self) -> None:
        """Which panels show an orders counter, and which of those claim something else than
        the true running total (``counter_coverage``, ``counter_distortion``)."""
        hidden = self.hidden
        for site in self.sites.values():
            rng = stream(self.seed, site.site_id, "counter-claim")
            shown = rng.random() < hidden.counter_coverage
            distorted = rng.random() < hidden.counter_distortion
            kind = weighted(
                rng, (("offset", 0.3), ("multiplier", 0.3), ("frozen", 0.2), ("reset", 0.2))
            )
            if not shown or not distorted:
                site.claim = CounterClaim(shown=shown)
            elif kind == "offset":
                site.claim = CounterClaim(kind=kind, offset=rng.randint(10_000, 2_000_000))
            elif kind == "multiplier":
                multiplier = Decimal(str(round(rng.uniform(1.5, 4.0), 2)))
                site.claim = CounterClaim(kind=kind, multiplier=multiplier)
            elif kind == "frozen":
                from_day = 0 if rng.random() < 0.3 else rng.randint(1, 20)
                site.claim = CounterClaim(kind=kind, from_day=from_day)
            else:
                site.claim = CounterClaim(
                    kind=kind, from_day=rng.randint(1, 25), offset=rng.randint(0, 500)
                )

    def _build_shops(self) -> None:
        """Retail shops after the panels (their own streams: panels never change with them)."""
        if not self.n_shops:
            return
        plan = stream(self.seed, "shop-plan")
        currency_plan = list(shop_model.SHOP_CURRENCY_PLAN)
        plan.shuffle(currency_plan)
        second_round = range(5, min(10, self.n_shops))
        unlisted = set(plan.sample(second_round, min(shop_model.UNLISTED_PLANNED, len(second_round))))
        panels = [site for site in self.sites.values() if site.kind == "panel"]
        for index in range(self.n_shops):
            shop_id = f"shop-{index + 1:02d}"
            profile = stream(self.seed, shop_id, "profile")
            if index < len(shop_model.SHOP_PLAN):
                kind = shop_model.SHOP_PLAN[index]
                currency = currency_plan[index]
                in_config = index not in unlisted
            else:
                kind = weighted(
                    profile,
                    (("shopify", 0.35), ("woocommerce", 0.25), ("jsonld", 0.15), ("cards", 0.15),
                     ("spa", 0.1)),
                )  # fmt: skip
                currency = weighted(
                    profile, (("USD", 0.65), ("EUR", 0.15), ("GBP", 0.1), ("BRL", 0.1))
                )
                in_config = profile.random() >= 0.3
            upstream = shop_model.choose_upstream(profile, panels)
            brand = shop_model.brand_name(profile)
            shop = shop_model.Shop(
                shop_id=shop_id,
                index=index,
                kind=kind,
                brand=brand,
                handle=shop_model.slugify(brand) + ("" if profile.random() < 0.6 else "-store"),
                currency=currency,
                price_style=shop_model.pick_price_style(profile, currency),
                upstream_id=upstream.site_id,
                markup=Decimal(str(round(profile.uniform(4.0, 10.0), 2))),
                in_config=in_config,
                title_template=profile.choice(shop_model.TITLE_TEMPLATES),
                quantity_style=profile.choice(("plain", "plain", "comma")),
                compare_share=profile.choice((0.0, 0.4, 0.6, 0.9)),
                asset_hash="".join(profile.choices("abcdef0123456789", k=10)),
                rng_catalog=stream(self.seed, shop_id, "catalog"),
                rng_dynamics=stream(self.seed, shop_id, "dynamics"),
                next_number=profile.randint(20, 400),
                rng_orders=stream(self.seed, shop_id, "orders"),
                tier_shift=_SHOP_TIER_SHIFT[self.hidden.order_size_shape],
            )
            volume = stream(self.seed, shop_id, "volume")
            shop.daily_orders_mean = (
                shop_model.DAILY_ORDERS_MEDIAN
                * math.exp(volume.gauss(0.0, 0.5))
                * volume_multiplier(volume, self.hidden.volume_tail_alpha)
            )
            shop_model.build_products(
                shop, upstream, self.day, count=shop.rng_catalog.randint(5, 12)
            )
            self.shops[shop_id] = shop

    def _new_site(
        self,
        site_id: str,
        index: int,
        profile: random.Random,
        currency: str,
        language: str,
        theme: str,
        family: str,
        reseller: bool,
        upstreams: list[Site],
    ) -> Site:
        upstream = None
        if reseller:
            upstream = profile.choices(
                upstreams, weights=[math.sqrt(len(u.services)) for u in upstreams]
            )[0]
        if upstream is not None:
            language = upstream.language  # copied names keep the upstream's language
        name_style = (
            upstream.name_style if upstream is not None else random_name_style(profile, language)
        )
        decimals = weighted(profile, cal.CURRENCY_DECIMALS[currency])
        api_style = ApiStyle(
            service_id_as_string=profile.random() < 0.45,
            quantities_as_string=profile.random() < 0.5,
            bool_style=weighted(profile, (("json", 0.55), ("int", 0.3), ("string", 0.15))),
            include_dripfeed=profile.random() < 0.7,
            include_refill=profile.random() < 0.8,
            include_cancel=profile.random() < 0.7,
            description_field=weighted(
                profile, ((None, 0.5), ("desc", 0.3), ("description", 0.2))
            ),
            lowercase_types=profile.random() < 0.2,
            rate_style=weighted(profile, (("plain", 0.7), ("padded8", 0.2), ("number", 0.1))),
            include_average_time=profile.random() < 0.25,
            escape_unicode=profile.random() < 0.5,
            stores_escaped_names=profile.random() < 0.2,
        )
        money = _pick_money_format(profile, currency)
        quantity_choices = [("", 0.6), (" ", 0.25)]
        quantity_choices.append(("." if money.decimal_separator == "," else ",", 0.15))
        header_set = {
            "tr": "tr", "es": "es", "pt": "pt", "id": "id",
        }.get(language) or weighted(profile, (("en", 0.6), ("en_renamed", 0.25), ("en_caps", 0.15)))  # fmt: skip
        page_style = PageStyle(
            theme=theme,
            header_set=header_set,
            favourite_star=theme == "pp_modern" and profile.random() < 0.7,
            show_average_time=theme != "smartpanel" or profile.random() < 0.3,
            show_description=profile.random() < 0.85,
            quantity_thousands=weighted(profile, quantity_choices),
            money=money,
            counter_style=profile.randrange(4),
            show_customers=profile.random() < 0.6,
            show_starting_price=profile.random() < 0.4,
            asset_hash="".join(profile.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=16)),
        )
        daily_median = (
            cal.RESELLER_DAILY_ORDERS_MEDIAN if reseller else cal.PANEL_DAILY_ORDERS_MEDIAN
        )
        site = Site(
            site_id=site_id,
            index=index,
            kind="reseller" if reseller else "panel",
            brand=brand_name(profile, language),
            currency=currency,
            decimals=decimals,
            language=language,
            theme=theme,
            family=family,
            name_style=name_style,
            api_style=api_style,
            page_style=page_style,
            upstream_id=upstream.site_id if upstream else None,
            markup=(
                Decimal(str(round(profile.uniform(1.2, 2.2), 2))) if upstream is not None else None
            ),
            coverage=profile.uniform(0.5, 0.95),
            reseller_prefix=(
                profile.choice((None, "{uid} - ", "[ID: {uid}] "))
                if upstream is not None and upstream.name_style.id_prefix is None
                else None
            ),
            price_level=math.exp(profile.gauss(0.0, 0.25)),
            change_rate=profile.uniform(0.01, 0.05),
            daily_orders_mean=daily_median
            * math.exp(profile.gauss(0, cal.PANEL_DAILY_ORDERS_SIGMA)),
            counter_orders=int(math.exp(profile.uniform(math.log(50_000), math.log(5_000_000)))),
            counter_customers=profile.randint(800, 60_000),
            balance=f"{profile.uniform(0, 500):.5f}",
            next_service_number=profile.choice((1, 1, 100, 1000, profile.randint(2, 5000))),
            rng_catalog=stream(self.seed, site_id, "catalog"),
            rng_drift=stream(self.seed, site_id, "drift"),
            rng_orders=stream(self.seed, site_id, "orders"),
        )
        site.daily_orders_mean *= volume_multiplier(
            stream(self.seed, site_id, "volume"), self.hidden.volume_tail_alpha
        )
        return site

    def _scaled(self, count: int) -> int:
        """A catalogue count x ``catalogue_scale`` (8 at least; exact at scale 1)."""
        scale = self.hidden.catalogue_scale
        return count if scale == 1.0 else max(8, round(count * scale))

    def _generate_catalogue(self, site: Site, big: bool) -> None:
        rng = site.rng_catalog
        if big:
            target = self._scaled(rng.randint(1500, 2000))
            site.daily_orders_mean *= 4
            # big wholesale panels set the market's going rates: no strong panel-level tilt
            site.price_level = math.exp(rng.gauss(0.0, 0.08))
        else:
            target = self._scaled(int(min(600, max(40, math.exp(rng.gauss(math.log(110), 0.7))))))
        classes, cum_weights = panel_class_weights(rng, 0.1 if big else 0.35)
        while len(site.services) < target:
            price_class = rng.choices(classes, cum_weights=cum_weights)[0]
            for service in self._new_services(site, rng, price_class, target - len(site.services)):
                self._add_service(site, service)

    def _new_services(
        self, site: Site, rng: random.Random, price_class: cal.PriceClass, room: int
    ) -> list[Service]:
        """One service, or a cluster of near-identical per-country rows (as real lists have)."""
        countries: list[str | None] = [None]
        size = rng.choice(_CLUSTER_SIZES.get((price_class.platform, price_class.metric), (1,)))
        size = max(1, min(size, room))
        if size > 1:
            countries = [c.code for c in rng.sample(COUNTRIES, size)]
        usd = two_piece_lognormal(rng, price_class)
        services = []
        for country in countries:
            traits = sample_traits(
                rng, price_class.platform, price_class.metric, site.name_style, country=country
            )
            services.append(
                self._make_service(site, rng, traits, usd * math.exp(rng.gauss(0, 0.04)))
            )
        return services

    def _make_service(
        self, site: Site, rng: random.Random, traits: ServiceTraits, usd_per_1000: float
    ) -> Service:
        metric = traits.metric
        minimum = weighted(rng, cal.QUANTITY_MINS.get(metric, ((100, 1.0),)))
        maximum = weighted(rng, cal.QUANTITY_MAXES.get(metric, ((100000, 1.0),)))
        if maximum < minimum:
            minimum, maximum = maximum, minimum
        package_share = 0.15 if metric in ("installs", "watch_time", "reviews") else 0.012
        usd = usd_per_1000 * site.price_level * _trait_price_factor(traits)
        if rng.random() < package_share:
            # a package is sized so that it costs what packages cost (a few to a few hundred USD)
            target_usd = math.exp(rng.gauss(math.log(25.0), 0.8))
            traits.package_units = (
                rng.choice((1000, 2000, 4000))
                if metric == "watch_time"
                else _nearest_nice(target_usd / usd * 1000)
            )
            minimum = maximum = 1
            usd = usd * traits.package_units / 1000 * rng.uniform(0.8, 1.1)
        rate = site.quantize(to_decimal(usd * cal.PANEL_FX_PER_USD[site.currency]))
        service_id = self._next_service_id(site, rng)
        service_type = _service_type(rng, traits)
        return Service(
            service_id=service_id,
            name=service_name(
                rng,
                site.name_style,
                traits,
                service_id=service_id,
                min_quantity=minimum,
                max_quantity=maximum,
            ),
            category=category_name(site.name_style, traits),
            traits=traits,
            service_type=service_type,
            min_quantity=minimum,
            max_quantity=maximum,
            rate=rate,
            description=description(rng, traits, min_quantity=minimum, max_quantity=maximum),
            average_time=average_time(rng, site.page_style.header_set[:2]),
            refill=bool(traits.refill_days),
            cancel=rng.random() < 0.4,
            dripfeed=traits.drip_feed,
            popularity=rng.paretovariate(1.3)
            * _platform_popularity(traits.platform)
            # most orders go to cheap services: damp the popularity of expensive ones
            * min(1.0, math.sqrt(10.0 / max(usd_per_1000, 1e-6))),
            created_day=self.day,
            position=0,
        )

    def _next_service_id(self, site: Site, rng: random.Random) -> str:
        number = site.next_service_number
        # real ids have gaps where services were deleted
        site.next_service_number += 1 if rng.random() < 0.85 else rng.randint(2, 40)
        return str(number)

    def _add_service(self, site: Site, service: Service) -> None:
        if service.category not in site.category_order:
            site.category_order[service.category] = len(site.category_order)
        if service.platform not in site.platform_order:
            site.platform_order[service.platform] = len(site.platform_order)
        service.position = len(site.services)
        if service.min_quantity < service.max_quantity or service.service_type == "Package":
            usd = float(service.rate) / cal.PANEL_FX_PER_USD[site.currency]
            service.order_sizes, service.order_cum_weights = _order_size_table(
                service, usd, self.hidden.order_size_shape
            )
        else:
            service.order_sizes, service.order_cum_weights = (service.min_quantity,), (1.0,)
        site.services[service.service_id] = service
        site.touch()

    def _reseller_rate(self, reseller: Site, upstream: Site, upstream_rate: Decimal) -> Decimal:
        fx = Decimal(str(cal.PANEL_FX_PER_USD[reseller.currency])) / Decimal(
            str(cal.PANEL_FX_PER_USD[upstream.currency])
        )
        assert reseller.markup is not None
        return reseller.quantize(upstream_rate * fx * reseller.markup)

    def _sync_reseller(self, site: Site) -> None:
        """Mirror the upstream: same names/min/max, price = upstream x markup, same day."""
        assert site.upstream_id is not None
        upstream = self.sites[site.upstream_id]
        mapping = self._reseller_maps.setdefault(site.site_id, {})
        by_upstream = {uid: sid for sid, uid in mapping.items()}
        for sid, uid in mapping.items():
            source = upstream.services[uid]
            copy = site.services[sid]
            copy.active = source.active
            copy.rate = self._reseller_rate(site, upstream, source.rate)
        site.touch()
        rng = site.rng_catalog
        accept = site.coverage
        if not mapping:
            # the first copy: a reseller of a big wholesale panel takes a random few hundred
            first = self._scaled(rng.randint(250, 600))
            accept = min(accept, first / max(1, len(upstream.services)))
            # ... and a reseller of a small panel copies nearly all of it (40 services at least)
            accept = max(accept, min(1.0, self._scaled(60) / max(1, len(upstream.services))))
        for source in upstream.ordered_services(active_only=False):
            uid = source.service_id
            if uid in site.considered_upstream or uid in by_upstream:
                continue
            site.considered_upstream.add(uid)
            if not source.active or rng.random() >= accept:
                continue
            copy = self._copy_service(site, upstream, source, rng)
            self._add_service(site, copy)
            mapping[copy.service_id] = uid

    def _copy_service(
        self, site: Site, upstream: Site, source: Service, rng: random.Random
    ) -> Service:
        name = source.name
        if site.reseller_prefix:
            name = site.reseller_prefix.format(uid=source.service_id) + name
        return Service(
            service_id=self._next_service_id(site, rng),
            name=name,
            category=source.category,
            traits=source.traits,
            service_type=source.service_type,
            min_quantity=source.min_quantity,
            max_quantity=source.max_quantity,
            rate=self._reseller_rate(site, upstream, source.rate),
            description=source.description,
            average_time=source.average_time,
            refill=source.refill,
            cancel=source.cancel,
            dripfeed=source.dripfeed,
            popularity=source.popularity * math.exp(rng.gauss(0, 0.5)),
            created_day=self.day,
            position=0,
            upstream_service_id=source.service_id,
        )


# --- module helpers --------------------------------------------------------------------------

# Near-identical per-country rows come in clusters (one draw of the class makes `size` rows); the
# class draw weight is divided by the mean cluster size so the row shares stay calibrated.
_CLUSTER_SIZES: dict[tuple[str, str], tuple[int, ...]] = {
    ("website", "traffic"): (1, 1, 2, 4, 8, 15),
    ("youtube", "views"): (1,) * 8 + (3, 6),
    ("spotify", "plays"): (1,) * 8 + (3, 6),
    ("instagram", "followers"): (1,) * 8 + (3, 6),
}

_POPULAR_PLATFORMS = {"instagram": 2.0, "tiktok": 2.0, "youtube": 1.5, "website": 0.6}


def _platform_popularity(platform: str) -> float:
    return _POPULAR_PLATFORMS.get(platform, 1.0)


def panel_class_weights(
    rng: random.Random, tilt_sigma: float = 0.35
) -> tuple[list[cal.PriceClass], list[float]]:
    """The calibrated class mix, with a per-panel tilt per platform (small panels specialise;
    big wholesale panels list a bit of everything)."""
    tilt: dict[str, float] = {}
    weights = []
    for price_class in cal.PRICE_CLASSES:
        if price_class.platform not in tilt:
            tilt[price_class.platform] = math.exp(rng.gauss(0.0, tilt_sigma))
        cluster = _CLUSTER_SIZES.get((price_class.platform, price_class.metric), (1,))
        mean_cluster = sum(cluster) / len(cluster)
        weights.append(price_class.weight * tilt[price_class.platform] / mean_cluster)
    return list(cal.PRICE_CLASSES), list(accumulate(weights))


def _nearest_nice(value: float) -> int:
    """The "nice" quantity (100, 250, 500, ...) closest to ``value`` on a log scale."""
    target = math.log(max(value, 1.0))
    return min(cal.NICE_QUANTITIES, key=lambda q: abs(math.log(q) - target))


_VOLUME_CAP = 50.0


def volume_multiplier(rng: random.Random, alpha: float) -> float:
    """A heavy-tailed multiplier of a seller's daily volume: Pareto with index ``alpha``, capped
    at 50 and divided by the capped mean, so that the market's total volume stays the calibrated
    one on average while a few sellers take a large share."""
    capped_mean = (alpha - _VOLUME_CAP ** (1.0 - alpha)) / (alpha - 1.0)
    return min(rng.paretovariate(alpha), _VOLUME_CAP) / capped_mean


_SHOP_TIER_SHIFT = {"retail_small": -3, "lognormal": 0, "bulk_heavy": 2}
"""How many steps of their quantity table shops move their packages per order-size shape."""
_SHAPE_TYPICAL = {"retail_small": 0.25, "lognormal": 1.0, "bulk_heavy": 4.0}
_SHAPE_SIGMA = {"retail_small": 0.7, "lognormal": 1.0, "bulk_heavy": 1.3}
_SHAPE_FLOOR = {"retail_small": 0.0, "lognormal": 0.0, "bulk_heavy": 0.06}


def _order_size_table(
    service: Service, usd_per_1000: float, shape: str = "lognormal"
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Nice order sizes between min and max, weighted by a log-normal around the typical size.

    The typical order is the metric's usual size, capped so it costs at most about
    ``cal.TYPICAL_ORDER_MAX_USD`` (people buy 1000 views but not 1000 reviews). The market's
    ``order_size_shape`` moves it: ``retail_small`` a quarter of it, a narrower spread and extra
    weight on the minimum; ``bulk_heavy`` four times it, a wider spread and a floor weight on
    every size up to the maximum (a long tail); ``lognormal`` as calibrated."""
    if service.service_type == "Package":
        return (1, 2, 3), (0.85, 0.95, 1.0)
    low, high = service.min_quantity, service.max_quantity
    typical = cal.TYPICAL_ORDER_UNITS.get(service.metric, 1000)
    typical = min(typical, max(1, int(cal.TYPICAL_ORDER_MAX_USD * 1000 / usd_per_1000)))
    typical = max(1, int(typical * _SHAPE_TYPICAL[shape]))
    typical = min(max(typical, low), high)
    start = bisect_left(cal.NICE_QUANTITIES, low)
    sizes = [q for q in cal.NICE_QUANTITIES[start:] if q <= high]
    if not sizes or sizes[0] != low:
        sizes.insert(0, low)
    weights = []
    sigma = cal.ORDER_SIZE_SIGMA * _SHAPE_SIGMA[shape]
    for size in sizes:
        z = (math.log(size) - math.log(typical)) / sigma
        weights.append(math.exp(-0.5 * z * z) + _SHAPE_FLOOR[shape])
    if shape == "retail_small":
        weights[0] *= 3.0
    return tuple(sizes), tuple(accumulate(weights))


def expected_order_usd(
    *, pricing: str, platform: str | None, metric: str | None, usd_per_1000: float,
    min_quantity: int | None, max_quantity: int | None, shape: str, quantity: int | None = None,
    platform_weights: bool = True,
) -> tuple[float, float]:
    """(expected USD per order, expected weight among the seller's services' orders) of one
    service as this simulator draws them, from what its listing shows and the market's hidden
    order-size shape: the mean of :func:`_order_size_table` times the price (a package service:
    ``quantity`` units a package, orders of one to three packages), and the service's expected
    popularity (the Pareto draw's mean is the same for every service, so only the platform's
    weight and the price damping remain; ``platform_weights=False`` leaves out the platform's).
    For diagnostics only (what the best model of listed offers could know); estimators never
    call it."""
    if pricing not in ("per_1000", "package") or usd_per_1000 <= 0:
        raise ValueError(f"no order-size table for a {pricing} service at {usd_per_1000} per 1000")
    if pricing == "package":
        if not quantity:
            raise ValueError("a package service needs its quantity")
        price = usd_per_1000 * quantity / 1000
        sizes, cumulative = _order_size_table(
            SimpleNamespace(service_type="Package"), usd_per_1000, shape)  # type: ignore[arg-type]
    else:
        low, high = sorted((min_quantity or 1, max_quantity or min_quantity or 1))
        price = usd_per_1000 / 1000
        sizes, cumulative = ((low,), (1.0,)) if low == high else _order_size_table(
            SimpleNamespace(service_type="Default", min_quantity=low, max_quantity=high,
                            metric=metric), usd_per_1000, shape)  # type: ignore[arg-type]
    weights = [b - a for a, b in zip((0.0, *cumulative), cumulative, strict=False)]
    mean_size = sum(w * q for w, q in zip(weights, sizes, strict=True)) / sum(weights)
    popularity = (_platform_popularity(platform or "") if platform_weights else 1.0) * min(
        1.0, math.sqrt(10.0 / max(usd_per_1000, 1e-6)))
    return price * mean_size, popularity


def _language_plan(
    rng: random.Random, currency_plan: list[str], reseller_slots: set[int], big_slots: set[int]
) -> dict[int, str]:
    """Languages of the planned sites, so the default market always has Vietnamese,
    Indonesian, Arabic, Spanish, Portuguese and Turkish panels (big wholesale panels and
    resellers excluded: the big ones write English, resellers copy their upstream)."""
    plan: dict[int, str] = {index: "en" for index in range(len(currency_plan))}
    free = [i for i in range(len(currency_plan)) if i not in reseller_slots | big_slots]
    by_currency = {
        currency: rng.sample(
            [i for i in free if currency_plan[i] == currency],
            len([i for i in free if currency_plan[i] == currency]),
        )
        for currency in ("USD", "EUR", "TRY")
    }
    for index in by_currency["TRY"]:
        plan[index] = "tr"
    remaining = by_currency["EUR"] + by_currency["USD"]  # es/pt go to euro panels first
    for index, language in zip(remaining, ("es", "pt", "vi", "id", "ar"), strict=False):
        plan[index] = language
    return plan


def _pick_language(rng: random.Random, currency: str) -> str:
    if currency == "TRY":
        return "tr" if rng.random() < 0.85 else "en"
    if currency == "INR":
        return "en"
    if currency == "EUR":
        return weighted(rng, (("es", 0.4), ("pt", 0.3), ("en", 0.3)))
    shares = (
        ("en", 0.72), ("vi", 0.06), ("id", 0.06), ("es", 0.05), ("pt", 0.05), ("ar", 0.04),
        ("tr", 0.02),
    )  # fmt: skip
    return weighted(rng, shares)


def _pick_money_format(rng: random.Random, currency: str) -> MoneyFormat:
    symbol = cal.CURRENCY_SYMBOLS[currency]
    options: tuple[tuple[MoneyFormat, float], ...]
    if currency == "USD":
        options = (
            (MoneyFormat(symbol, "prefix", False, ".", ""), 0.55),
            (MoneyFormat(symbol, "prefix", False, ".", ","), 0.15),
            (MoneyFormat(symbol, "prefix", True, ".", ""), 0.1),
            (MoneyFormat(symbol, "suffix", False, ".", ""), 0.1),
            (MoneyFormat(symbol, "none", False, ".", ""), 0.1),
        )
    elif currency == "INR":
        options = (
            (MoneyFormat(symbol, "prefix", False, ".", " "), 0.5),
            (MoneyFormat(symbol, "prefix", False, ".", ""), 0.3),
            (MoneyFormat(symbol, "prefix", True, ".", ","), 0.2),
        )
    elif currency == "TRY":
        options = (
            (MoneyFormat(symbol, "prefix", False, ",", "."), 0.6),
            (MoneyFormat(symbol, "suffix", True, ",", "."), 0.25),
            (MoneyFormat("TL", "suffix", True, ",", "."), 0.15),
        )
    else:  # EUR
        options = (
            (MoneyFormat(symbol, "prefix", False, ".", ""), 0.5),
            (MoneyFormat(symbol, "suffix", True, ",", " "), 0.3),
            (MoneyFormat(symbol, "suffix", True, ",", "."), 0.2),
        )
    return weighted(rng, options)
