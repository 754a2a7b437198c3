# ruff: noqa: RUF002, RUF003 - mathematical notation (α, β, ×, −) is intended
"""The shifted-beta-geometric (sBG) model of contract renewals (Fader & Hardie 2007).

Each customer renews at the end of every period with their own probability ``1 - θ``; across
customers ``θ ~ Beta(α, β)``. Then, for the number of periods ``T`` a customer stays,

    P(T = 1) = α / (α + β),   P(T = t) = P(T = t-1) · (β + t - 2) / (α + β + t - 1)
    S(t) = P(T > t) = B(α, β + t) / B(α, β),   S(t) = S(t-1) · (β + t - 1) / (α + β + t - 1)

α and β are fitted by maximum likelihood to survivor counts: ``n_{t-1} - n_t`` customers left at
``t`` and ``n_k`` are still there after the last observed period (right-censored). Several cohorts
are pooled by summing their log-likelihoods (Fader & Hardie, "Fitting the sBG Model to
Multi-Cohort Data", 2007).

Discounted expected residual lifetime (Fader & Hardie 2010, "Customer-Base Valuation in a
Contractual Setting"): for a customer who has renewed ``n`` times and is about to make the next
renewal decision, the expected discounted number of further periods they pay for (payments at the
start of each period, so a renewal now counts undiscounted) is

    DERL(d | α, β, n) = (β + n) / (α + β + n) · ₂F₁(1, β + n + 1; α + β + n + 1; 1 / (1 + d))

and a new customer's discounted expected lifetime, counting the first payment, is
``DEL(d) = ₂F₁(1, β; α + β; 1 / (1 + d))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, hyp2f1

# log α and log β are searched in this box; an optimum at its upper edge means the counts show no
# heterogeneity (or no churn) and the model has no finite answer.
LOG_BOUNDS = (-9.0, 11.0)


class FitError(ValueError):
    """The survivor counts cannot be fitted (too few periods, not decreasing, ...)."""


@dataclass(frozen=True)
class SbgFit:
    alpha: float
    beta: float
    log_likelihood: float
    cohorts: int
    customers: int
    # True when the likelihood keeps rising as α and β grow together: the counts show no
    # heterogeneity and the fit is the geometric model (every customer churns with α / (α + β)).
    homogeneous: bool = False

    def survival(self, t: int) -> float:
        """S(t): the share of a cohort still a customer after ``t`` periods."""
        return math.exp(betaln(self.alpha, self.beta + t) - betaln(self.alpha, self.beta))

    def retention_rate(self, t: int) -> float:
        """r(t) = S(t) / S(t-1) = (β + t - 1) / (α + β + t - 1), for t ≥ 1."""
        return (self.beta + t - 1) / (self.alpha + self.beta + t - 1)

    @property
    def mean_churn_probability(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def derl(self, *, discount_rate: float, renewals: int) -> float:
        """Discounted expected residual lifetime (periods) of a customer who renewed ``renewals`` times."""
        return derl(self.alpha, self.beta, discount_rate=discount_rate, renewals=renewals)

    def del_(self, *, discount_rate: float) -> float:
        """Discounted expected lifetime (periods) of a new customer, first period included."""
        return float(hyp2f1(1.0, self.beta, self.alpha + self.beta, 1.0 / (1.0 + discount_rate)))


def derl(alpha: float, beta: float, *, discount_rate: float, renewals: int) -> float:
    n = renewals
    if discount_rate <= 0:
        raise FitError("The discount rate must be positive.")
    series = hyp2f1(1.0, beta + n + 1, alpha + beta + n + 1, 1 / (1 + discount_rate))
    return float((beta + n) / (alpha + beta + n) * series)


def _validate(cohorts: Sequence[Sequence[int]]) -> list[np.ndarray]:
    arrays: list[np.ndarray] = []
    for survivors in cohorts:
        values = np.asarray(list(survivors), dtype=float)
        if len(values) < 2:
            continue  # a cohort with no completed period carries no information
        if values[0] <= 0:
            continue
        if np.any(values < 0) or np.any(np.diff(values) > 0):
            raise FitError("Survivor counts must be non-negative and never increase.")
        arrays.append(values)
    if not arrays:
        raise FitError("Need at least one cohort observed over at least one period.")
    if sum(len(a) - 1 for a in arrays) < 2:
        raise FitError("Need at least two observed periods to fit two parameters.")
    return arrays


@dataclass(frozen=True)
class _Pooled:
    """Several cohorts' counts summed per period: the log-likelihood only depends on these totals.

    ``lost[t-1]`` is how many customers of all cohorts left at period ``t``; ``censored[k-1]`` how
    many were still there at the end of a cohort observed for ``k`` periods. Summing first makes one
    likelihood evaluation two vectorised ``betaln`` calls however many cohorts there are (the
    per-cohort loop it replaces made the cohort/CLV page take seconds per segment).
    """

    t: np.ndarray  # 1 .. K
    lost: np.ndarray
    censored: np.ndarray


def _pool(cohorts: list[np.ndarray]) -> _Pooled:
    longest = max(len(n) - 1 for n in cohorts)
    lost = np.zeros(longest)
    censored = np.zeros(longest)
    for n in cohorts:
        k = len(n) - 1
        lost[:k] += n[:-1] - n[1:]
        censored[k - 1] += n[-1]
    return _Pooled(t=np.arange(1, longest + 1, dtype=float), lost=lost, censored=censored)


def _neg_log_likelihood(params: np.ndarray, pooled: _Pooled) -> float:
    alpha, beta = np.exp(params)  # optimise on the log scale: both must stay positive
    base = betaln(alpha, beta)
    # P(T = t) = B(α + 1, β + t - 1) / B(α, β);  S(k) = B(α, β + k) / B(α, β)
    log_p = betaln(alpha + 1, beta + pooled.t - 1) - base
    log_s = betaln(alpha, beta + pooled.t) - base
    return -float(np.dot(pooled.lost, log_p) + np.dot(pooled.censored, log_s))


def fit_sbg(cohorts: Sequence[Sequence[int]]) -> SbgFit:
    """Maximum-likelihood α, β from one or more cohorts' survivor counts ``[n0, n1, ..., nk]``."""
    arrays = _validate(cohorts)
    pooled = _pool(arrays)
    best = None
    for start in ((0.0, 0.0), (-1.0, 1.0), (1.0, 2.0)):
        result = minimize(
            _neg_log_likelihood,
            np.array(start),
            args=(pooled,),
            method="Nelder-Mead",
            bounds=[LOG_BOUNDS, LOG_BOUNDS],
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000},
        )
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    alpha, beta = (float(v) for v in np.exp(best.x))
    if best.x[0] > LOG_BOUNDS[1] - 0.5 and best.x[1] < LOG_BOUNDS[1] - 0.5:
        raise FitError("No customer ever renewed: the model has no finite answer.")
    return SbgFit(
        homogeneous=bool(max(best.x) > LOG_BOUNDS[1] - 0.5),
        alpha=alpha,
        beta=beta,
        log_likelihood=-float(best.fun),
        cohorts=len(arrays),
        customers=int(sum(a[0] for a in arrays)),
    )
