"""How many sellers exist, seen and unseen: capture-recapture over the discovery sources.

Each discovery source (each directory; all sellers' partner links together) is one "capture
occasion"; a seller's *capture history* is the set of sources that listed it.

- Two sources: Chapman's estimator N = (n1 + 1)(n2 + 1)/(m + 1) - 1 with Seber's variance.
- Three or more: a log-linear model (Fienberg 1972; as in R's ``Rcapture::closedp``) fitted by
  statsmodels as a Poisson GLM to the counts of the 2^k - 1 observed histories: main effects of
  every source plus pairwise interactions chosen by forward selection on AIC (dependence between
  sources: a directory that copies another, partner links that follow directory rank). The
  unseen count is the model's prediction for the history "listed by none", exp(intercept).
- Interval: Chao's log-normal interval for the unseen count f0 (it never goes below the sellers
  seen): N in [n + f0 / C, n + f0 x C], C = exp(1.96 sqrt(log(1 + var(f0) / f0^2))).

Assumptions: a closed population over the range; sellers equally findable within a source given
the modelled dependence. Heterogeneity (big sellers are listed everywhere, small ones nowhere)
biases every such estimate low; ``HETEROGENEITY_HIGH`` widens the high bound for it, and the
estimate is fitted within seller-size strata when each stratum is large enough (Huggins-style
covariate: catalogue size), summing the strata.

Inputs: capture histories (seller -> sources that listed it), optionally a size per seller.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from estimates.types import Estimate

Z = 1.959963984540054
HETEROGENEITY_HIGH = 1.15
"""High bound x this: the pull of unmodelled heterogeneity is downwards only."""


@dataclass(frozen=True, slots=True)
class SellerCount:
    seen: int
    estimate: Estimate
    unseen: Estimate
    sources: tuple[str, ...]
    model: str


def chapman(n1: int, n2: int, m: int) -> tuple[float, float]:
    """Chapman's N and Seber's variance for two sources (n1, n2 listed, m by both)."""
    n = (n1 + 1) * (n2 + 1) / (m + 1) - 1
    variance = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    return n, variance


def _histories_table(histories: Sequence[frozenset[str]], sources: Sequence[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    counts = Counter(tuple(int(s in h) for s in sources) for h in histories)
    cells = [cell for cell in itertools.product((0, 1), repeat=len(sources)) if any(cell)]
    return np.array(cells, dtype=float), np.array([counts.get(c, 0) for c in cells], dtype=float)


def loglinear(histories: Sequence[frozenset[str]], sources: Sequence[str]
              ) -> tuple[float, float, str]:
    """Unseen count f0, its variance and the chosen model (log-linear, AIC forward selection)."""
    import statsmodels.api as sm

    cells, y = _histories_table(histories, sources)
    k = len(sources)
    pairs = list(itertools.combinations(range(k), 2))

    def fit(chosen: list[tuple[int, int]]) -> tuple[float, float, float] | None:
        columns = [np.ones(len(cells))] + [cells[:, i] for i in range(k)]
        columns += [cells[:, i] * cells[:, j] for i, j in chosen]
        design = np.column_stack(columns)
        if design.shape[1] >= len(y):  # no residual degree of freedom: f0 not estimable
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = sm.GLM(y, design, family=sm.families.Poisson()).fit()
            except (ValueError, np.linalg.LinAlgError):
                return None
        intercept, se = float(result.params[0]), float(result.bse[0])
        if not (math.isfinite(intercept) and math.isfinite(se)) or intercept > 20:
            return None
        return float(result.aic), intercept, se

    chosen: list[tuple[int, int]] = []
    best = fit(chosen)
    if best is None:
        raise ValueError("the independence model does not fit these histories")
    while True:
        trials = [(fit(chosen + [pair]), pair) for pair in pairs if pair not in chosen]
        trials = [(result, pair) for result, pair in trials if result is not None]
        if not trials:
            break
        result, pair = min(trials, key=lambda t: t[0][0])
        if result[0] >= best[0] - 1e-9:
            break
        chosen.append(pair)
        best = result
    _, intercept, se = best
    f0 = math.exp(intercept)
    variance = (f0 * se) ** 2  # delta method on exp(intercept)
    terms = ["independence"] if not chosen else [
        f"{sources[i]} x {sources[j]}" for i, j in chosen]
    return f0, variance, "log-linear Poisson GLM, pairwise terms by AIC: " + ", ".join(terms)


def _chao_interval(seen: int, f0: float, variance: float) -> tuple[float, float]:
    if f0 <= 0 or variance <= 0:
        return float(seen), float(seen) + max(f0, 0.0)
    c = math.exp(Z * math.sqrt(math.log(1 + variance / f0 ** 2)))
    return seen + f0 / c, seen + f0 * c


def _unseen(histories: Sequence[frozenset[str]], sources: Sequence[str]
            ) -> tuple[float, float, str]:
    if len(sources) == 2:
        a, b = sources
        n1 = sum(a in h for h in histories)
        n2 = sum(b in h for h in histories)
        m = sum(a in h and b in h for h in histories)
        n, variance = chapman(n1, n2, m)
        return max(n - len(histories), 0.0), variance, "Chapman (two sources)"
    return loglinear(histories, sources)


def count_sellers(histories: Mapping[str, frozenset[str]], *, seen: int | None = None,
                  sizes: Mapping[str, float] | None = None, min_stratum: int = 12
                  ) -> SellerCount:
    """Sellers seen and estimated in all (see the module docstring).

    ``histories``: seller -> the discovery sources that listed it (sellers listed by none are
    left out: they are the unknown). ``seen``: sellers known in all (defaults to the sellers
    with a history; config-only sellers count as seen but do not enter the model).
    ``sizes``: a size per seller (listed offers); when given and each half of the sellers split
    at the median size has at least ``min_stratum`` sellers, the model is fitted per half.
    """
    listed = {site: h for site, h in histories.items() if h}
    sources = tuple(sorted({source for h in listed.values() for source in h}))
    total_seen = max(seen if seen is not None else 0, len(listed))
    if len(sources) < 2 or not listed:
        estimate = Estimate(float(total_seen), float(total_seen), float(total_seen),
                            "no capture-recapture: fewer than two discovery sources")
        return SellerCount(total_seen, estimate, Estimate(0.0, 0.0, 0.0), sources,
                           "none (fewer than two sources)")
    strata: list[list[frozenset[str]]] = [list(listed.values())]
    if sizes is not None:
        ordered_sites = sorted(listed, key=lambda site: sizes.get(site, 0.0))
        half = len(ordered_sites) // 2
        parts = [ordered_sites[:half], ordered_sites[half:]]
        if all(len(part) >= min_stratum for part in parts):
            strata = [[listed[site] for site in part] for part in parts]
    f0_total, variance_total, models = 0.0, 0.0, []
    for stratum in strata:
        stratum_sources = tuple(sorted({s for h in stratum for s in h}))
        if len(stratum_sources) < 2:
            continue
        f0, variance, model = _unseen(stratum, stratum_sources)
        f0_total += f0
        variance_total += variance
        models.append(model)
    low, high = _chao_interval(len(listed), f0_total, variance_total)
    extra = total_seen - len(listed)
    central = len(listed) + f0_total + extra
    low, high = low + extra, high * HETEROGENEITY_HIGH + extra
    method = ("capture-recapture over discovery sources ("
              + ("per size stratum: " if len(strata) > 1 else "") + "; ".join(models)
              + "), Chao log-normal interval")
    estimate = Estimate(min(low, central), central, max(high, central), method)
    unseen = Estimate(estimate.low - total_seen, central - total_seen, estimate.high - total_seen,
                      method)
    return SellerCount(total_seen, estimate, unseen, sources, "; ".join(models))
