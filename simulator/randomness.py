"""Seeded random streams and the few distributions the simulator draws from."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from simulator import calibration as cal


def stream(seed: int, *parts: object) -> random.Random:
    return random.Random("/".join([str(seed), *map(str, parts)]))


def weighted(rng: random.Random, pairs: Iterable[tuple[Any, float]]) -> Any:
    items = list(pairs)
    return rng.choices([value for value, _ in items], weights=[w for _, w in items])[0]


def two_piece_lognormal(rng: random.Random, price_class: cal.PriceClass) -> float:
    z = rng.gauss(0.0, 1.0)
    sigma = price_class.sigma_low if z < 0 else price_class.sigma_high
    return price_class.median_usd * math.exp(sigma * z)


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def to_decimal(value: float) -> Decimal:
    return Decimal(f"{value:.12f}")
