"""Wilson intervals and Cohen's kappa against hand-worked and reference values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from screener.reports.stats import bootstrap_kappa, kappa_from_confusion, wilson


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (5, 10, 0.236593, 0.763407),   # Wilson (1927); also statsmodels proportion_confint
    (0, 10, 0.0, 0.277533),
    (10, 10, 0.722467, 1.0),
    (7, 10, 0.396773, 0.892209),
    (1, 50, 0.003539, 0.105002),
    (81, 263, 0.255289, 0.366233),  # worked by hand: centre 0.31076, half-width 0.05547
])
def test_wilson_matches_reference_values(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_wilson_edge_cases() -> None:
    assert all(math.isnan(x) for x in wilson(0, 0))
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson(5, 3)


def test_kappa_hand_worked() -> None:
    # po = 35/50 = 0.7; pe = (25*30 + 25*20)/2500 = 0.5; kappa = 0.2/0.5 = 0.4
    assert kappa_from_confusion(np.array([[20, 5], [10, 15]])) == pytest.approx(0.4)


@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
def test_kappa_matches_scikit_learn(weights: str) -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, 300)
    b = np.where(rng.random(300) < 0.6, a, rng.integers(0, 4, 300))
    cm = np.zeros((4, 4), int)
    for x, y in zip(a, b, strict=True):
        cm[x, y] += 1
    ref = cohen_kappa_score(a, b, weights=None if weights == "none" else weights)
    assert kappa_from_confusion(cm, weights) == pytest.approx(ref)  # type: ignore[arg-type]


def test_kappa_undefined_when_one_grade_throughout() -> None:
    assert math.isnan(kappa_from_confusion(np.array([[5, 0], [0, 0]])))
    assert math.isnan(kappa_from_confusion(np.zeros((3, 3), int)))


def test_bootstrap_interval_is_reproducible_and_covers_the_estimate() -> None:
    cm = np.array([[30, 6, 1], [5, 25, 4], [1, 3, 25]])
    r1 = bootstrap_kappa(cm, n_boot=500, seed=7)
    r2 = bootstrap_kappa(cm, n_boot=500, seed=7)
    assert r1 == r2
    assert r1.low < r1.kappa < r1.high
    assert r1.n == 100 and r1.agreement == pytest.approx(0.80)
    wide = bootstrap_kappa(cm // 4, n_boot=500, seed=7)  # a quarter of the data
    assert (wide.high - wide.low) > (r1.high - r1.low)


def test_bootstrap_with_too_little_data() -> None:
    r = bootstrap_kappa(np.array([[1, 0], [0, 0]]))
    assert math.isnan(r.low) and math.isnan(r.high)
