"""The fused log-loss passes of the linear models (``skloss._kernels._binary``).

``log_loss_linear`` / ``log_loss_linear_csr`` run a serial ``nogil`` kernel per
chunk of rows on Python threads and sum the chunks' partial sums in chunk order:

* value, gradient, Hessian weights (and the CSR Hessian diagonal) against NumPy
  formulas, float32 and float64, with and without sample weights and label
  smoothing, for several chunk counts (rows not a multiple of the chunk count);
* the result depends on the chunk layout only: bit-identical on 1, 2 or 4
  threads, and two fits of the same data give bit-identical coefficients;
* an error in a chunk reaches the caller; a forked child builds its own threads.
"""

import multiprocessing

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit

from skloss import MLELogisticRegression
from skloss._kernels import _binary, _threads


def _reference(A, y, sw, w, b, eps):
    # NumPy formulas on the float64 copy of X (the kernels accumulate in float64)
    raw = A @ w + b
    t = y * (1.0 - eps) + 0.5 * eps
    prob, qrob = expit(raw), expit(-raw)
    value = np.sum(sw * (np.logaddexp(0.0, raw) - t * raw))
    g = sw * ((1.0 - t) * prob - t * qrob)  # (p - t, accurate in both tails)
    grad = np.r_[A.T @ g, g.sum()]
    h = sw * prob * qrob
    return value, grad, h, (A * A).T @ h


def _problem(dtype, weighted, n=5003, p=7, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, p)).astype(dtype)
    y = (rng.uniform(size=n) < 0.4).astype(dtype)
    sw = rng.uniform(0.2, 3.0, size=n).astype(dtype) if weighted else np.empty(0, dtype=dtype)
    w = rng.normal(size=p) * 0.7
    w[0] = 25.0  # (large scores: the tails of the logistic point)
    return X, y, sw, w


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("n_chunks", [1, 3, 8])
def test_dense_pass_against_numpy(dtype, weighted, eps, n_chunks):
    X, y, sw, w = _problem(dtype, weighted)
    n, p = X.shape
    grad = np.empty(p + 1)
    h = np.empty(n)
    value = _binary.log_loss_linear(X, y, sw, w, 0.3, eps, n_chunks, grad, h)
    sw64 = sw.astype(np.float64) if weighted else np.ones(n)
    v_ref, g_ref, h_ref, _ = _reference(X.astype(np.float64), y.astype(np.float64), sw64, w, 0.3, eps)
    assert value == pytest.approx(v_ref, rel=1e-12)
    np.testing.assert_allclose(grad, g_ref, rtol=1e-10, atol=1e-10 * np.abs(g_ref).max())
    np.testing.assert_allclose(h, h_ref, rtol=1e-12, atol=1e-300)
    # without the Hessian weights: the same value and gradient
    grad2 = np.empty(p + 1)
    assert _binary.log_loss_linear(X, y, sw, w, 0.3, eps, n_chunks, grad2, np.empty(0)) == value
    np.testing.assert_array_equal(grad2, grad)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_chunks", [1, 2, 5])
def test_csr_pass_against_numpy(dtype, weighted, n_chunks):
    rng = np.random.RandomState(1)
    n, p = 3001, 40
    X = sp.random(n, p, density=0.1, format="csr", random_state=rng, dtype=np.float64)
    X.data = rng.normal(size=X.nnz)
    X = X.astype(dtype)
    y = (rng.uniform(size=n) < 0.5).astype(dtype)
    sw = rng.uniform(0.2, 3.0, size=n).astype(dtype) if weighted else np.empty(0, dtype=dtype)
    w = rng.normal(size=p)
    grad = np.empty(p + 1)
    h = np.empty(n)
    diag = np.empty(p)
    value = _binary.log_loss_linear_csr(X.indptr, X.indices, X.data, y, sw, w, -0.2, 0.05, n_chunks,
                                        grad, h, diag)
    sw64 = sw.astype(np.float64) if weighted else np.ones(n)
    v_ref, g_ref, h_ref, d_ref = _reference(X.toarray().astype(np.float64), y.astype(np.float64), sw64,
                                            w, -0.2, 0.05)
    assert value == pytest.approx(v_ref, rel=1e-12)
    np.testing.assert_allclose(grad, g_ref, rtol=1e-10, atol=1e-10 * np.abs(g_ref).max())
    np.testing.assert_allclose(h, h_ref, rtol=1e-12)
    np.testing.assert_allclose(diag, d_ref, rtol=1e-11)
    # no diagonal asked: none computed, the rest unchanged
    grad2 = np.empty(p + 1)
    value2 = _binary.log_loss_linear_csr(X.indptr, X.indices, X.data, y, sw, w, -0.2, 0.05, n_chunks,
                                         grad2, np.empty(0), np.empty(0))
    assert value2 == value
    np.testing.assert_array_equal(grad2, grad)


@pytest.mark.parametrize("sparse", [False, True])
def test_result_independent_of_the_thread_count(monkeypatch, sparse):
    X, y, sw, w = _problem(np.float64, True, n=20011, p=9, seed=2)
    results = []
    for threads in (1, 2, 4, 2):
        monkeypatch.setattr(_threads, "n_threads", lambda threads=threads: threads)
        grad = np.empty(X.shape[1] + 1)
        h = np.empty(X.shape[0])
        if sparse:
            C = sp.csr_matrix(X)
            diag = np.empty(X.shape[1])
            value = _binary.log_loss_linear_csr(C.indptr, C.indices, C.data, y, sw, w, 0.1, 0.0, 11,
                                                grad, h, diag)
            results.append((value, grad, h, diag))
        else:
            value = _binary.log_loss_linear(X, y, sw, w, 0.1, 0.0, 11, grad, h)
            results.append((value, grad, h))
    for other in results[1:]:
        assert other[0] == results[0][0]
        for a, b in zip(other[1:], results[0][1:]):
            np.testing.assert_array_equal(a, b)


def test_two_fits_give_bit_identical_coefficients():
    # large enough for the fused pass on several chunks (n p > 2,000,000)
    rng = np.random.RandomState(4)
    X = rng.normal(size=(45000, 50))
    y = (X[:, :5].sum(axis=1) + rng.logistic(size=45000) > 0).astype(int)
    sw = rng.uniform(0.5, 2.0, size=45000)
    fits = [MLELogisticRegression().fit(X, y, sample_weight=sw) for _ in range(2)]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    np.testing.assert_array_equal(fits[0].intercept_, fits[1].intercept_)
    np.testing.assert_array_equal(fits[0].covariance_, fits[1].covariance_)


def test_an_error_in_a_chunk_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(_threads, "n_threads", lambda: 2)
    done = []

    def kernel(first, stride, n, out):
        for k in range(first, n, stride):
            if k == 5:
                raise ValueError("chunk 5")
            out.append(k)

    with pytest.raises(ValueError, match="chunk 5"):
        _threads.run_chunks(kernel, 9, (9, done))
    # (two threads, chunks dealt in turn: 0, 2, 4, 6, 8 ran to the end; the other
    # thread's 1, 3 ran, then chunk 5 raised and 7 was never started)
    assert sorted(done) == [0, 1, 2, 3, 4, 6, 8]


def _child_pass(_):
    X, y, sw, w = _problem(np.float64, False, n=4000, p=5, seed=3)
    grad = np.empty(6)
    return _binary.log_loss_linear(X, y, sw, w, 0.0, 0.0, 4, grad, np.empty(0)), grad


def test_a_forked_child_runs_its_own_threads(monkeypatch):
    monkeypatch.setattr(_threads, "n_threads", lambda: 2)
    parent = _child_pass(None)  # (the parent's pool exists before the fork)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child = pool.apply_async(_child_pass, (None,)).get(timeout=60)
    assert child[0] == parent[0]
    np.testing.assert_array_equal(child[1], parent[1])
