"""The value every estimator returns: low / central / high with the method and assumptions."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure with its interval. ``low <= central <= high`` always holds (see ``__post_init__``).

    Estimates are floats internally (they come out of models and bootstraps); reports turn money
    into Decimal strings at the edge.
    """

    low: float
    central: float
    high: float
    method: str = ""
    assumptions: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not (self.low <= self.central <= self.high):
            raise ValueError(f"need low <= central <= high, got {self.low}, {self.central}, "
                             f"{self.high}")

    def scaled(self, factor: float) -> Estimate:
        return Estimate(self.low * factor, self.central * factor, self.high * factor,
                        self.method, self.assumptions)

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.low + other.low, self.central + other.central,
                        self.high + other.high, self.method or other.method,
                        self.assumptions + other.assumptions)


ZERO = Estimate(0.0, 0.0, 0.0)


def ordered(low: float, central: float, high: float, method: str = "",
            assumptions: tuple[str, ...] = ()) -> Estimate:
    """An Estimate whose bounds are widened, if needed, to hold the central value."""
    return Estimate(min(low, central), central, max(high, central), method, assumptions)
