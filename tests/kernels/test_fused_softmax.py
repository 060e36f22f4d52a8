"""The fused softmax pass of the linear models (``_linear.multinomial_logloss_value_grad``,
the K-class log-loss kernel on blocks of rows, chunks on threads) against NumPy."""

import numpy as np
import pytest

from skloss._kernels import _linear, _threads


def _reference(X, y, sw, W, b, eps):
    R = X.astype(np.float64) @ W.T + b
    k = W.shape[0]
    m = R.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(R - m).sum(axis=1))
    T = np.full(R.shape, eps / k)
    T[np.arange(y.size), y.astype(int)] += 1.0 - eps
    P = np.exp(R - lse[:, None])
    s = np.ones(y.size) if sw.size == 0 else sw.astype(np.float64)
    value = float(s @ (lse - (T * R).sum(axis=1)))
    G = ((P - T) * s[:, None]).T @ np.column_stack([X.astype(np.float64), np.ones(y.size)])
    return value, G


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("n_chunks", [1, 7])
def test_value_and_gradient(dtype, weighted, eps, n_chunks):
    rng = np.random.default_rng(0)
    n, p, k = 1003, 6, 4
    X = rng.normal(size=(n, p)).astype(dtype)
    y = rng.integers(0, k, n).astype(dtype)
    sw = rng.uniform(0.5, 2.0, n).astype(dtype) if weighted else np.empty(0, dtype)
    W = 3.0 * rng.normal(size=(k, p))
    b = rng.normal(size=k)
    G = np.empty((k, p + 1))
    value = _linear.multinomial_logloss_value_grad(X, y, sw, W, b, eps, n_chunks, G)
    ref_value, ref_G = _reference(X, y, sw, W, b, eps)
    assert value == pytest.approx(ref_value, rel=1e-13)
    np.testing.assert_allclose(G, ref_G, rtol=1e-12, atol=1e-12 * np.abs(ref_G).max())


def test_extreme_scores_stay_finite():
    # scores of +-800: exp overflows without the shift by the row maximum
    X = np.array([[1.0], [-1.0], [2.0]])
    y = np.array([0.0, 1.0, 1.0])
    W = np.array([[400.0], [-400.0]])
    G = np.empty((2, 2))
    value = _linear.multinomial_logloss_value_grad(X, y, np.empty(0), W, np.zeros(2), 0.0, 1, G)
    assert np.isfinite(value) and np.all(np.isfinite(G))
    assert value == pytest.approx(1600.0, rel=1e-15)  # (the one misclassified row: margin 1600)


def test_result_independent_of_the_thread_count(monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20011, 5))
    y = rng.integers(0, 3, X.shape[0]).astype(np.float64)
    W = rng.normal(size=(3, 5))
    out = []
    for threads in (1, 2, 4):
        monkeypatch.setattr(_threads, "n_threads", lambda threads=threads: threads)
        G = np.empty((3, 6))
        out.append((_linear.multinomial_logloss_value_grad(X, y, np.empty(0), W, np.zeros(3), 0.0, 11, G), G))
    for value, G in out[1:]:
        assert value == out[0][0]
        np.testing.assert_array_equal(G, out[0][1])


def test_bad_class_index_raises():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="class indices"):
        _linear.multinomial_logloss_value_grad(X, np.array([0.0, 1.0, 3.0, 0.0]), np.empty(0),
                                               np.zeros((3, 2)), np.zeros(3), 0.0, 2, np.empty((3, 3)))
