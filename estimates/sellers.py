"""How many sellers exist, seen and unseen: capture-recapture over the discovery sources.

Each discovery source (each directory; all sellers' partner links together) is one "capture
occasion"; a seller's *capture history* is the set of sources that listed it.

- Two sources: Chapman's estimator N = (n1 + 1)(n2 + 1)/(m + 1) - 1 with Seber's variance,
  in the interval; the central is the first-order jackknife for heterogeneity below (Chapman
  assumes every seller equally findable: big sellers listed by both sources and small ones by
  one bias it low, as MARKET.md says of two-source estimates).
- Three or more: a log-linear model (Fienberg 1972; as in R's ``Rcapture::closedp``) fitted by
  statsmodels as a Poisson GLM to the counts of the 2^k - 1 observed histories: main effects of
  every source plus pairwise interactions chosen by forward selection on AIC (dependence between
  sources: a directory that copies another, partner links that follow directory rank). The
  unseen count is the model's prediction for the history "listed by none", exp(intercept).
- Heterogeneity (model Mh): the first-order jackknife of Burnham and Overton (1978),
  f0 = (t - 1)/t x f1 from the sellers listed by exactly one source (f1): the central value for
  three or more sources; Chao's (1987) f0 = (t - 1)/t x f1 (f1 - 1) / (2 (f2 + 1)), a lower
  bound, widens the interval. Heterogeneity matters: big sellers are listed everywhere, small
  ones by one source or none, and partner links point at the sellers directories miss (a
  dependence no pairwise term fits well); the log-linear model's value enters the interval.
- Interval: Chao's log-normal interval for the unseen count f0 (it never goes below the sellers
  seen): N in [n + f0 / C, n + f0 x C], C = exp(1.96 sqrt(log(1 + var(f0) / f0^2))).

Assumptions: a closed population over the range; sellers equally findable within a source given
the modelled dependence. Heterogeneity (big sellers are listed everywhere, small ones nowhere)
biases every such estimate low; ``HETEROGENEITY_HIGH`` widens the high bound for it. Sellers
that no source can list at all (capture probability zero) are invisible to every model.

Inputs: capture histories (seller -> sources that listed it).
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
    weights: dict[str, float] | None = None
    """Seen seller -> how many sellers it stands for (Huggins model), when fitted."""


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
        trials: list[tuple[tuple[float, float, float], tuple[int, int]]] = []
        for pair in pairs:
            if pair not in chosen:
                fitted = fit(chosen + [pair])
                if fitted is not None:
                    trials.append((fitted, pair))
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


def chao_mh(histories: Sequence[frozenset[str]], occasions: int) -> tuple[float, float]:
    """Chao's (1987) heterogeneity estimator of the unseen count for ``occasions`` sources:
    f0 = (t - 1)/t x f1 (f1 - 1) / (2 (f2 + 1)) (bias-corrected), with Chao's variance; f1 and
    f2 are the sellers listed by exactly one and exactly two sources. A lower bound under
    heterogeneous findability (model Mh; Rcapture's "Mh Chao")."""
    frequencies = Counter(len(h) for h in histories)
    f1, f2 = frequencies.get(1, 0), frequencies.get(2, 0)
    a = (occasions - 1) / occasions
    f0 = a * f1 * (f1 - 1) / (2 * (f2 + 1))
    if f1 == 0:
        return 0.0, 0.0
    if f2 > 0:
        r = f1 / f2
        variance = f2 * (a * r ** 4 / 4 + a * a * r ** 3 + a * r ** 2 / 2)
    else:  # Chao's variance of the bias-corrected form without doubletons
        variance = a * f1 * (f1 - 1) / 2 + a * a * f1 * (2 * f1 - 1) ** 2 / 4
    return f0, variance


def jackknife_mh(histories: Sequence[frozenset[str]], occasions: int) -> tuple[float, float]:
    """Burnham and Overton's (1978) first-order jackknife for model Mh (the CAPTURE program's
    estimator under heterogeneous capture probabilities): f0 = (t - 1)/t x f1, f1 the sellers
    listed by exactly one of the t sources, with Burnham and Overton's variance
    var(N) = sum_j a_j^2 f_j - N (a_1 = 1 + (t - 1)/t, a_j = 1 otherwise). Chao's Mh estimator
    is a lower bound that stays close to the sellers seen when few sources list many sellers
    twice; the jackknife corrects more of the heterogeneity bias, at a larger variance."""
    frequencies = Counter(len(h) for h in histories)
    f1 = frequencies.get(1, 0)
    n = sum(frequencies.values())
    f0 = (occasions - 1) / occasions * f1
    a1 = 1 + (occasions - 1) / occasions
    variance = a1 * a1 * f1 + (n - f1) - (n + f0)
    return f0, max(variance, 0.0)


MAX_HT_WEIGHT = 10.0
"""A seen seller stands for at most this many sellers (its chance to be listed >= 10 %)."""


def huggins(histories: Mapping[str, frozenset[str]], sources: Sequence[str],
            covariate: Mapping[str, float]) -> tuple[dict[str, float], float, str] | None:
    """Huggins' (1989) conditional-likelihood model with a seller covariate (its size).

    Each source j lists seller i with probability p_ij = logistic(alpha_j + beta x_i), x_i the
    standardized covariate (log orders per day: big sellers are listed more); the likelihood of
    the seen sellers' histories is conditioned on being listed at least once, and maximized
    with scipy.optimize. Each seen seller then stands for 1 / pi_i sellers (Horvitz-Thompson,
    pi_i = 1 - prod_j (1 - p_ij), capped at ``MAX_HT_WEIGHT``). Returns the weights, the
    HT variance of the unseen count (parameters taken as known) and the model; ``None`` when it
    does not converge or has too few sellers."""
    from scipy.optimize import minimize  # type: ignore[import-untyped]

    sellers = [site for site in histories if site in covariate]
    if len(sellers) < 8 or len(sources) < 2:
        return None
    x = np.array([covariate[site] for site in sellers], dtype=float)
    spread = float(np.std(x))
    if spread <= 1e-9:
        return None
    x = (x - float(np.mean(x))) / spread
    y = np.array([[source in histories[site] for source in sources] for site in sellers],
                 dtype=float)
    k = len(sources)

    def probabilities(params: np.ndarray) -> np.ndarray:
        eta = params[:k][None, :] + params[k] * x[:, None]
        return np.clip(1 / (1 + np.exp(-eta)), 1e-9, 1 - 1e-9)

    def negative_log_likelihood(params: np.ndarray) -> float:
        p = probabilities(params)
        listed = 1 - np.prod(1 - p, axis=1)
        return -float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) - np.sum(np.log(listed)))

    result = minimize(negative_log_likelihood, np.zeros(k + 1), method="BFGS")
    if not result.success and not np.isfinite(result.fun):
        return None
    p = probabilities(result.x)
    listed = 1 - np.prod(1 - p, axis=1)
    weights = np.minimum(1 / listed, MAX_HT_WEIGHT)
    variance = float(np.sum((1 - listed) / listed ** 2))
    model = (f"Huggins conditional likelihood, size covariate (beta {result.x[k]:+.2f}), "
             "Horvitz-Thompson")
    return ({site: float(w) for site, w in zip(sellers, weights, strict=True)}, variance, model)


def count_sellers(histories: Mapping[str, frozenset[str]], *, seen: int | None = None,
                  size: Mapping[str, float] | None = None) -> SellerCount:
    """Sellers seen and estimated in all (see the module docstring).

    ``histories``: seller -> the discovery sources that listed it (sellers listed by none are
    left out: they are the unknown). ``seen``: sellers known in all (defaults to the sellers
    with a history; config-only sellers count as seen but do not enter the models).

    Central: the first-order jackknife for heterogeneity (Chapman in the interval for two
    sources); for three or more, the jackknife (:func:`jackknife_mh`), with Chao's Mh lower bound (:func:`chao_mh`), the size-covariate model (:func:`huggins`, when ``size`` is given)
    and the AIC-chosen log-linear model (:func:`loglinear`) as alternatives: the interval runs
    from the lowest of the models' low bounds to the highest of their high bounds (model
    uncertainty, not only sampling). The covariate model's weights are returned, but the
    market estimate values the unseen sellers like the sellers one source lists (see
    :func:`estimates.market._unseen`).
    """
    listed = {site: h for site, h in histories.items() if h}
    sources = tuple(sorted({source for h in listed.values() for source in h}))
    total_seen = max(seen if seen is not None else 0, len(listed))
    if len(sources) < 2 or not listed:
        estimate = Estimate(float(total_seen), float(total_seen), float(total_seen),
                            "no capture-recapture: fewer than two discovery sources")
        return SellerCount(total_seen, estimate, Estimate(0.0, 0.0, 0.0), sources,
                           "none (fewer than two sources)")
    stratum = list(listed.values())
    n = len(listed)
    weights: dict[str, float] | None = None
    if len(sources) == 2:
        # heterogeneity (big sellers listed by both, small by one) biases Chapman low, as with
        # more sources: the jackknife for model Mh is the central, Chapman widens the interval
        f0, variance = jackknife_mh(stratum, 2)
        low, high = _chao_interval(n, f0, variance)
        f0_chapman, variance_chapman, model_chapman = _unseen(stratum, sources)
        low_c, high_c = _chao_interval(n, f0_chapman, variance_chapman)
        low, high = min(low, low_c), max(high, high_c)
        model = (f"first-order jackknife Mh over 2 sources; {model_chapman}: "
                 f"{n + f0_chapman:.1f}")
    else:
        f0, variance = jackknife_mh(stratum, len(sources))
        low, high = _chao_interval(n, f0, variance)
        f0_chao, variance_chao = chao_mh(stratum, len(sources))
        low_chao, high_chao = _chao_interval(n, f0_chao, variance_chao)
        low, high = min(low, low_chao), max(high, high_chao)
        model = (f"first-order jackknife Mh over {len(sources)} sources; "
                 f"Chao Mh lower bound: {n + f0_chao:.1f}")
        fitted = huggins(listed, sources, size) if size else None
        if fitted is not None:
            weights, variance_h, model_h = fitted
            f0_h = sum(weights.values()) - len(weights)
            low_h, high_h = _chao_interval(n, f0_h, variance_h)
            model = f"{model_h} ({n + f0_h:.1f}); {model}: {n + f0:.1f}"
            # the jackknife stays the central value: with a few dozen sellers the covariate model's
            # slope is unstable (it ran from -40 % to +150 % in the validation runs)
            low, high = min(low, low_h), max(high, min(high_h, 3.0 * n))
        try:
            f0_ll, variance_ll, model_ll = loglinear(stratum, sources)
        except ValueError:
            model += "; log-linear model did not fit"
        else:
            low_ll, high_ll = _chao_interval(n, f0_ll, variance_ll)
            low, high = min(low, low_ll), max(high, min(high_ll, 3.0 * n))
            model += f"; alternative {model_ll}: {n + f0_ll:.1f}"
    extra = total_seen - n
    central = n + f0 + extra
    low, high = low + extra, high * HETEROGENEITY_HIGH + extra
    method = f"capture-recapture over discovery sources ({model}), Chao log-normal interval"
    estimate = Estimate(min(low, central), central, max(high, central), method)
    unseen = Estimate(estimate.low - total_seen, central - total_seen,
                      estimate.high - total_seen, method)
    return SellerCount(total_seen, estimate, unseen, sources, model, weights)
