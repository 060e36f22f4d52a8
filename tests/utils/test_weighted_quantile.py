"""The package's one weighted quantile against independent references."""

import numpy as np
import pytest

from skloss.utils._quantile import weighted_quantile


def _pinball_objective(v, w, q, c):
    r = v - c
    return float(np.sum(w * np.where(r >= 0, q * r, (q - 1.0) * r)))


@pytest.mark.parametrize("n", [1, 2, 7, 40])
@pytest.mark.parametrize("q", [0.1, 0.5, 0.83])
def test_pinball_quantile_minimises_the_weighted_pinball_loss(n, q):
    rng = np.random.default_rng(n)
    v, w = rng.normal(size=n), rng.integers(0, 4, size=n).astype(float)
    w[0] = 1.0
    c = weighted_quantile(v, w, q)
    best = min(_pinball_objective(v, w, q, t) for t in v)  # (a minimiser sits at a data point)
    assert _pinball_objective(v, w, q, c) <= best * (1 + 1e-12) + 1e-15


def test_integer_weights_equal_repeated_samples():
    rng = np.random.default_rng(0)
    v, w = rng.normal(size=30), rng.integers(1, 5, size=30)
    rep = np.repeat(v, w)
    assert weighted_quantile(v, w, 0.5) == pytest.approx(np.median(rep))
    assert weighted_quantile(v, None, 0.5) == pytest.approx(np.median(v))


@pytest.mark.parametrize("q", [0.0, 0.25, 0.75, 1.0])
def test_linear_method_is_numpy_percentile_for_equal_weights(q):
    v = np.random.default_rng(1).normal(size=25)
    assert weighted_quantile(v, np.full(25, 3.0), q, method="linear") == pytest.approx(np.percentile(v, 100 * q))
    # unequal weights: still inside the data's range and monotone in q
    w = np.linspace(0.5, 2.0, 25)
    lo, hi = (weighted_quantile(v, w, t, method="linear") for t in (0.25, 0.75))
    assert v.min() <= lo <= hi <= v.max()


def test_zero_weights_are_ignored_and_no_weight_is_an_error():
    v = np.array([5.0, 1.0, 2.0, 3.0])
    assert weighted_quantile(v, np.array([0.0, 1.0, 1.0, 1.0]), 0.5) == 2.0
    with pytest.raises(ValueError, match="positive weight"):
        weighted_quantile(v, np.zeros(4), 0.5)
    with pytest.raises(ValueError, match="method"):
        weighted_quantile(v, None, 0.5, method="nearest")
