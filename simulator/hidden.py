"""The market's hidden parameters: what makes estimation hard, drawn per seed unless given.

An estimator never reads these (they are in the ground truth's ``hidden`` section, for the
validation table). Knobs:

- ``counter_coverage``: share of panels whose landing page shows an orders counter;
- ``counter_distortion``: share of those whose counter is not an honest running total (a fixed
  offset, a multiplier, frozen, or reset; see :class:`simulator.model.CounterClaim`);
- ``unseen_share``: expected share of sellers every discovery source misses (listed by no
  directory, linked by no seller, hence absent from the exported sites config); smaller sellers
  are likelier to be missed (``simulator.directories.plan_by_findability``);
- ``reseller_share``: share of panels that resell another panel (default: drawn per seed);
- ``order_size_shape``: how big orders are (default: drawn per seed), one of
  :data:`ORDER_SIZE_SHAPES`;
- ``volume_tail_alpha``: Pareto index of the per-seller daily volume multiplier (smaller =
  heavier tail; drawn per seed);
- ``catalogue_scale``: catalogue sizes x this (1.0 = the calibrated sizes; smaller catalogues
  make stores built for tests fast; volumes do not depend on it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TypedDict

from simulator.randomness import stream

ORDER_SIZE_SHAPES: tuple[str, ...] = ("retail_small", "lognormal", "bulk_heavy")
"""``retail_small``: most orders near the minimum; ``lognormal``: around the metric's usual
size; ``bulk_heavy``: larger orders with a long tail up to the maximum."""

class MarketKnobs(TypedDict, total=False):
    """Keyword arguments of ``Market`` for the claims and the unseen sellers."""

    counter_coverage: float
    counter_distortion: float
    unseen_share: float


HARD_MARKET: MarketKnobs = {
    "counter_coverage": 0.6,
    "counter_distortion": 0.3,
    "unseen_share": 0.2,
}
"""The market of issue 8 (what ``clickfarm demo`` / ``simulate`` use by default); ``Market``
itself defaults to every counter shown and honest and every seller discoverable."""


@dataclass(frozen=True, slots=True)
class HiddenParameters:
    counter_coverage: float
    counter_distortion: float
    unseen_share: float
    reseller_share: float
    order_size_shape: str
    volume_tail_alpha: float
    catalogue_scale: float

    def as_truth(self) -> dict[str, Any]:
        return asdict(self)


def check_share(name: str, value: float) -> float:
    """A share in [0, 1], or a ``ValueError`` naming the knob."""
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return number


def hidden_parameters(
    seed: int,
    *,
    counter_coverage: float,
    counter_distortion: float,
    unseen_share: float,
    reseller_share: float | None,
    order_size_shape: str | None,
    catalogue_scale: float,
) -> HiddenParameters:
    """The given knobs checked, the missing ones drawn from ``"<seed>/hidden"``."""
    rng = stream(seed, "hidden")
    drawn_reseller_share = rng.uniform(0.15, 0.4)
    drawn_shape = rng.choice(ORDER_SIZE_SHAPES)
    volume_tail_alpha = rng.uniform(1.1, 2.2)
    if order_size_shape is not None and order_size_shape not in ORDER_SIZE_SHAPES:
        raise ValueError(
            f"order_size_shape must be one of {', '.join(ORDER_SIZE_SHAPES)}, "
            f"got {order_size_shape!r}"
        )
    if not 0.0 < float(catalogue_scale) <= 1.0:
        raise ValueError(f"catalogue_scale must be in (0, 1], got {catalogue_scale!r}")
    return HiddenParameters(
        counter_coverage=check_share("counter_coverage", counter_coverage),
        counter_distortion=check_share("counter_distortion", counter_distortion),
        unseen_share=check_share("unseen_share", unseen_share),
        reseller_share=(
            drawn_reseller_share
            if reseller_share is None
            else check_share("reseller_share", reseller_share)
        ),
        order_size_shape=order_size_shape or drawn_shape,
        volume_tail_alpha=volume_tail_alpha,
        catalogue_scale=float(catalogue_scale),
    )
