"""Interval estimates for the report: Wilson intervals for rates, Cohen's kappa from a
confusion matrix with bootstrap intervals.

Everything works from counts, not from record lists, so the same numbers come out
whether the counts were made on one machine or summed over a Dask cluster's partitions.
Resampling records with replacement is the same as drawing the confusion matrix's cells
from a multinomial with the observed shares, which is how the bootstrap is done here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["KappaResult", "bootstrap_kappa", "kappa_from_confusion", "wilson"]

Weights = Literal["none", "linear", "quadratic"]


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (default 95%).

    Unlike the normal approximation it stays inside [0, 1] and behaves for small n and
    for rates near 0 or 1, which is most of what a team-level audit table holds.
    `(nan, nan)` when n is 0.
    """
    if n <= 0:
        return (math.nan, math.nan)
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n (got k={k}, n={n})")
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _weight_matrix(k: int, weights: Weights) -> NDArray[np.float64]:
    i, j = np.indices((k, k))
    if weights == "none":
        return (i != j).astype(float)
    if weights == "linear":
        return np.abs(i - j).astype(float)
    return ((i - j) ** 2).astype(float)


def kappa_from_confusion(cm: NDArray[np.integer] | NDArray[np.floating],
                         weights: Weights = "none") -> float:
    """Cohen's kappa of a square confusion matrix (rows rater A, columns rater B).

    With `weights` "linear" or "quadratic" it is the weighted kappa for ordered grades
    (the same as scikit-learn's `cohen_kappa_score`). NaN when chance agreement is total
    (both raters gave one and the same grade to everything), where kappa is undefined.
    """
    m = np.asarray(cm, dtype=float)
    n = m.sum()
    if n == 0:
        return math.nan
    w = _weight_matrix(m.shape[0], weights)
    expected = np.outer(m.sum(axis=1), m.sum(axis=0)) / n
    denom = (w * expected).sum()
    if denom == 0:
        return math.nan
    return float(1 - (w * m).sum() / denom)


def _kappas(draws: NDArray[np.int64], weights: Weights) -> NDArray[np.float64]:
    """Kappa of each matrix in a stack of shape (B, k, k), vectorised."""
    m = draws.astype(float)
    n = m.sum(axis=(1, 2))
    w = _weight_matrix(m.shape[1], weights)
    rows, cols = m.sum(axis=2), m.sum(axis=1)
    expected = rows[:, :, None] * cols[:, None, :] / n[:, None, None]
    denom = (w * expected).sum(axis=(1, 2))
    obs = (w * m).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, 1 - obs / denom, np.nan)


@dataclass(frozen=True)
class KappaResult:
    n: int
    agreement: float   # observed share of exact agreement
    kappa: float
    low: float
    high: float


def bootstrap_kappa(cm: NDArray[np.integer], weights: Weights = "none", n_boot: int = 1000,
                    seed: int = 0, level: float = 0.95) -> KappaResult:
    """Kappa with a percentile bootstrap interval (records resampled with replacement).

    Resamples whose kappa is undefined (every record given one grade) are left out of
    the percentiles; with fewer than 2 records the interval is NaN.
    """
    m = np.asarray(cm, dtype=np.int64)
    n = int(m.sum())
    agreement = float(np.trace(m) / n) if n else math.nan
    kappa = kappa_from_confusion(m, weights)
    if n < 2 or n_boot <= 0:
        return KappaResult(n, agreement, kappa, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, m.ravel() / n, size=n_boot).reshape(n_boot, *m.shape)
    ks = _kappas(draws, weights)
    ks = ks[~np.isnan(ks)]
    if ks.size == 0:
        return KappaResult(n, agreement, kappa, math.nan, math.nan)
    alpha = (1 - level) / 2
    low, high = np.quantile(ks, [alpha, 1 - alpha])
    return KappaResult(n, agreement, kappa, float(low), float(high))
