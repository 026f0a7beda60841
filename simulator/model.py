"""The simulator's data model: sites (panels and reseller panels), their services and styles.

Plain data with a few formatting helpers; the market (``simulator.market``) builds and evolves it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from simulator.names import NameStyle, ServiceTraits

# --- Styles ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiStyle:
    """How one panel's API v2 ``services`` payload varies from the textbook shape."""

    service_id_as_string: bool
    quantities_as_string: bool
    bool_style: str
    """``json`` (true/false), ``int`` (1/0) or ``string`` ("1"/"0")."""
    include_dripfeed: bool
    include_refill: bool
    include_cancel: bool
    description_field: str | None
    """``desc``, ``description`` or None."""
    lowercase_types: bool
    """``custom_comments`` instead of ``Custom Comments``."""
    rate_style: str
    """``plain`` ("0.90"), ``padded8`` ("0.90000000") or ``number`` (0.9, a JSON number)."""
    include_average_time: bool
    escape_unicode: bool
    """PHP ``json_encode`` defaults: ``\\uXXXX`` escapes and ``\\/``."""
    stores_escaped_names: bool
    """Names stored HTML-escaped: the API shows ``&amp;`` and the page ``&amp;amp;``."""


@dataclass(frozen=True, slots=True)
class MoneyFormat:
    """How a services page writes a rate: symbol, separators."""

    symbol: str
    position: str
    """``prefix``, ``suffix`` or ``none``."""
    space: bool
    decimal_separator: str
    thousands_separator: str

    def format(self, value: Decimal, decimals: int, *, symbol: str | None = None) -> str:
        """Format exactly ``decimals`` digits (never rounding away a digit the API shows)."""
        text = f"{value:.{decimals}f}"
        negative = text.startswith("-")
        integer, _, fraction = text.lstrip("-").partition(".")
        integer = _group_thousands(integer, self.thousands_separator)
        number = integer + (self.decimal_separator + fraction if fraction else "")
        if negative:
            number = "-" + number
        return self.decorate(number, symbol=symbol)

    def decorate(self, number: str, *, symbol: str | None = None) -> str:
        shown = self.symbol if symbol is None else symbol
        if self.position == "none" and symbol is None:
            return number
        gap = " " if self.space else ""
        if self.position == "suffix":
            return f"{number}{gap}{shown}"
        return f"{shown}{gap}{number}"


def _group_thousands(digits: str, separator: str) -> str:
    if not separator or len(digits) <= 3:
        return digits
    groups = []
    while len(digits) > 3:
        groups.append(digits[-3:])
        digits = digits[:-3]
    groups.append(digits)
    return separator.join(reversed(groups))


@dataclass(frozen=True, slots=True)
class PageStyle:
    """How one panel's public pages look."""

    theme: str
    header_set: str
    """Key of ``themes.HEADER_SETS``: ``en``, ``en_renamed``, ``en_caps``, ``tr``, ``es``, ``pt``, ``id``."""
    favourite_star: bool
    show_average_time: bool
    show_description: bool
    quantity_thousands: str
    money: MoneyFormat
    counter_style: int
    show_customers: bool
    show_starting_price: bool
    asset_hash: str

    def format_quantity(self, value: int) -> str:
        return _group_thousands(str(value), self.quantity_thousands)


# --- Counters as claims ----------------------------------------------------------------------

COUNTER_CLAIM_KINDS: tuple[str, ...] = ("honest", "offset", "multiplier", "frozen", "reset")


@dataclass(slots=True)
class CounterClaim:
    """What a panel's landing page claims as "orders completed", from the true running total.

    ``true`` below is the true running total (a starting value plus every order received,
    forwarded ones included); ``true[d]`` its value shown on day ``d``.

    - ``honest``: ``true[d]``;
    - ``offset``: ``true[d] + offset`` (typed-in head start: differences stay true);
    - ``multiplier``: ``true[0] + round(multiplier * (true[d] - true[0]))`` (inflated growth);
    - ``frozen``: from ``from_day`` on, the value of ``from_day - 1`` (``true[0]`` when 0): the
      counter stopped moving (or was typed in once);
    - ``reset``: from ``from_day`` on, ``offset + true[d] - true[from_day]`` (a migration restarted
      it near zero).

    ``shown`` false: the page shows no orders counter at all (``kind`` is then ``honest``).
    """

    shown: bool = True
    kind: str = "honest"
    offset: int = 0
    multiplier: Decimal = Decimal(1)
    from_day: int = 0

    def value(self, true: list[int], day: int) -> int:
        """The claimed counter on ``day`` given the true running totals ``true[0..day]``."""
        if self.kind == "offset":
            return true[day] + self.offset
        if self.kind == "multiplier":
            grown = (Decimal(true[day] - true[0]) * self.multiplier).to_integral_value()
            return true[0] + int(grown)
        if self.kind == "frozen" and day >= self.from_day:
            return true[max(0, self.from_day - 1)]
        if self.kind == "reset" and day >= self.from_day:
            return self.offset + true[day] - true[self.from_day]
        return true[day]

    def as_truth(self) -> dict[str, object]:
        return {
            "shown": self.shown,
            "kind": self.kind,
            "offset": self.offset,
            "multiplier": str(self.multiplier),
            "from_day": self.from_day,
        }


# --- Catalogue model -------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Service:
    """One service of one site. ``rate`` is per 1000 units, or per package for ``Package``."""

    service_id: str
    name: str
    category: str
    traits: ServiceTraits
    service_type: str
    min_quantity: int
    max_quantity: int
    rate: Decimal
    description: str
    average_time: str
    refill: bool
    cancel: bool
    dripfeed: bool
    popularity: float
    created_day: int
    position: int
    active: bool = True
    upstream_service_id: str | None = None
    order_sizes: tuple[int, ...] = ()
    order_cum_weights: tuple[float, ...] = ()

    @property
    def platform(self) -> str:
        return self.traits.platform

    @property
    def metric(self) -> str:
        return self.traits.metric

    @property
    def pricing(self) -> str:
        return "package" if self.service_type == "Package" else "per_1000"


@dataclass(slots=True, eq=False)
class Site:
    """One simulated seller: a panel or a reseller panel."""

    site_id: str
    index: int
    kind: str
    """``panel`` or ``reseller``."""
    brand: str
    currency: str
    decimals: int
    language: str
    theme: str
    family: str
    name_style: NameStyle
    api_style: ApiStyle
    page_style: PageStyle
    upstream_id: str | None
    markup: Decimal | None
    coverage: float
    reseller_prefix: str | None
    price_level: float
    change_rate: float
    daily_orders_mean: float
    counter_orders: int
    counter_customers: int
    balance: str
    next_service_number: int
    services: dict[str, Service] = field(default_factory=dict)
    category_order: dict[str, int] = field(default_factory=dict)
    platform_order: dict[str, int] = field(default_factory=dict)
    considered_upstream: set[str] = field(default_factory=set)
    rng_catalog: random.Random = field(default_factory=random.Random)
    rng_drift: random.Random = field(default_factory=random.Random)
    rng_orders: random.Random = field(default_factory=random.Random)
    _ordered_cache: list[Service] | None = None
    claim: CounterClaim = field(default_factory=CounterClaim)
    """What the landing page's orders counter claims (see :class:`CounterClaim`)."""

    @property
    def api_key_env(self) -> str:
        return "CLICKFARM_KEY_" + self.site_id.upper().replace("-", "_")

    def unit(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)

    def quantize(self, value: Decimal) -> Decimal:
        """Round to the panel's decimals, never below one unit of the last digit."""
        unit = self.unit()
        rounded = value.quantize(unit, rounding=ROUND_HALF_UP)
        return max(rounded, unit)

    def format_rate(self, rate: Decimal) -> str:
        return f"{rate:.{self.decimals}f}"

    def ordered_services(self, *, active_only: bool = True) -> list[Service]:
        """Services in display order: grouped by platform, then category, then creation order
        (categories of one platform sit together, as on real panels)."""
        if active_only and self._ordered_cache is not None:
            return self._ordered_cache
        ordered = sorted(
            (s for s in self.services.values() if s.active or not active_only),
            key=lambda s: (
                self.platform_order[s.platform],
                self.category_order[s.category],
                s.position,
            ),
        )
        if active_only:
            self._ordered_cache = ordered
        return ordered

    def touch(self) -> None:
        """Forget the cached display order after the catalogue changed."""
        self._ordered_cache = None
