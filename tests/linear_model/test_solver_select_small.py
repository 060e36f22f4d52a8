"""Solver choice and per-fit machinery of small problems: the L-BFGS memory from the
cost model, the NumPy softmax pass, one BLAS thread for small fits, and the many-class
unpenalised fit (load_diabetes's 214 integer targets) being deterministic."""

import warnings

import numpy as np
import pytest
from scipy.special import log_softmax, softmax
from sklearn.datasets import load_diabetes

from skloss import MLELogisticRegression
from skloss.linear_model._logistic import SeparationWarning
from skloss.linear_model._objective import _EXP_SAFE, LinearObjective
from skloss.linear_model._solver_select import THRESHOLDS, lbfgs_memory, pass_cost
from skloss.losses import get_loss


def test_lbfgs_memory_from_cost_model():
    t = THRESHOLDS
    # typical problems: the pairs' work is small beside a pass -> the most pairs
    assert lbfgs_memory(2000, 2000 * 25, 1, 26) == t["lbfgs_pairs_max"]
    assert lbfgs_memory(200_000, 200_000 * 100, 1, 101) == t["lbfgs_pairs_max"]
    assert lbfgs_memory(100_000, 100_000 * 50, 10, 510) == t["lbfgs_pairs_max"]
    # tiny problems: the pairs cost nothing whatever the pass
    assert lbfgs_memory(150, 150 * 8, 1, 9) == t["lbfgs_pairs_max"]
    # many coefficients on few rows (214 classes, 442 x 10): the floor
    assert lbfgs_memory(442, 4420, 214, 2354) == t["lbfgs_pairs_min"]
    # in between: the pairs stay within their share of a pass (recomputed by hand)
    n, nnz, k, m = 1000, 1000 * 10, 100, 11 * 100
    budget = max(t["lbfgs_pairs_share"] * pass_cost(n, nnz, k), t["lbfgs_pairs_floor"])
    expected = int(budget // (t["lbfgs_flops_per_pair"] * m))
    assert t["lbfgs_pairs_min"] < expected < t["lbfgs_pairs_max"]
    assert lbfgs_memory(n, nnz, k, m) == expected


def _softmax_reference(X, y, sw, W, b, eps, l2):
    """Value and gradient from SciPy's log_softmax / softmax (independent formulas)."""
    k = W.shape[0]
    raw = X.astype(np.float64) @ W.T + b
    T = np.full(raw.shape, eps / k)
    T[np.arange(len(y)), y.astype(int)] += 1.0 - eps
    s = np.ones(len(y)) if sw is None else sw
    per = -(T * log_softmax(raw, axis=1)).sum(axis=1)
    G = (softmax(raw, axis=1) - T) * s[:, None]
    value = per @ s / s.sum() + 0.5 * l2 * np.sum(W * W)
    gw = G.T @ X.astype(np.float64) / s.sum() + l2 * W
    return value, gw, G.sum(axis=0) / s.sum()


@pytest.mark.parametrize("scale", [0.5, 400.0])  # below / above the unshifted range
@pytest.mark.parametrize("eps", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_numpy_softmax_pass_matches_scipy(scale, eps, weighted, fit_intercept):
    rng = np.random.default_rng(3)
    n, p, k = 150, 6, 7
    X = rng.normal(size=(n, p))
    y = rng.integers(0, k, n).astype(float)
    sw = rng.uniform(0, 2, n) if weighted else None
    loss = get_loss("log_loss", label_smoothing=eps)
    obj = LinearObjective(loss, X, y, sw, n_outputs=k, fit_intercept=fit_intercept, l2_reg=0.03)
    W = rng.normal(size=(k, p)) * scale
    b = rng.normal(size=k) * scale if fit_intercept else np.zeros(k)
    coef = obj.pack(W, b)
    bound = np.sqrt(np.max(np.sum(X ** 2, axis=1) + 1)) * np.sqrt(np.max(np.sum(W ** 2, axis=1) + b ** 2))
    assert (bound > _EXP_SAFE) == (scale > 100)  # (both branches are exercised)
    f, g = obj.value_grad(coef)
    f_ref, gw_ref, gb_ref = _softmax_reference(X, y, sw, W, b, eps, 0.03)
    assert f == pytest.approx(f_ref, rel=1e-12)
    g_ref = np.concatenate([gw_ref.ravel(), gb_ref]) if fit_intercept else gw_ref.ravel()
    np.testing.assert_allclose(g, g_ref, rtol=1e-9, atol=1e-12 * max(1.0, scale))
    assert np.isfinite(f) and np.all(np.isfinite(g))


def test_numpy_softmax_pass_float32():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    y = rng.integers(0, 4, 200).astype(np.float32)
    obj = LinearObjective(get_loss("log_loss"), X, y, n_outputs=4)
    W, b = rng.normal(size=(4, 5)), rng.normal(size=4)
    f, g = obj.value_grad(obj.pack(W, b))
    f_ref, gw_ref, gb_ref = _softmax_reference(X, y, None, W, b, 0.0, 0.0)
    assert f == pytest.approx(f_ref, rel=1e-6)
    np.testing.assert_allclose(g, np.concatenate([gw_ref.ravel(), gb_ref]), atol=1e-6)


def test_small_fit_runs_on_one_blas_thread():
    from threadpoolctl import threadpool_info

    est = MLELogisticRegression()
    loss = get_loss("log_loss")
    small = np.zeros((2000, 25))
    with est._blas_threads(loss, small, 1, "nonrobust"):
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    # many classes, few rows, no Hessian and no covariance: one thread too
    with est._blas_threads(loss, np.zeros((442, 10)), 214, None):
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    # a long pass keeps the default threads (the context does nothing)
    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    with est._blas_threads(loss, np.zeros((200_000, 100)), 1, "nonrobust"):
        assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


def test_many_classes_unpenalised_is_deterministic_and_announced():
    # 214 classes on 442 rows: the maximum-likelihood estimate does not exist (certified
    # before the solve); the fit runs L-BFGS (cheapest step) for the separated budget
    # and says so, with identical coefficients run after run
    data = load_diabetes()
    X, y = data.data, data.target.astype(int)
    fits = []
    for _ in range(25):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = MLELogisticRegression().fit(X, y)
        assert any(issubclass(w.category, SeparationWarning) for w in caught)
        fits.append((est.coef_.copy(), est.intercept_.copy(), est.objective_))
    assert est.solver_ == "lbfgs" and est.n_iter_ == THRESHOLDS["separated_max_iter"]
    for coef, intercept, objective in fits[1:]:
        assert np.array_equal(coef, fits[0][0]) and np.array_equal(intercept, fits[0][1])
        assert objective == fits[0][2]
    # the reported objective is the objective at the reported (centred) coefficients,
    # recomputed independently, and below the intercept-only model's (log of class shares)
    W, b = est.coef_, est.intercept_
    _, yi = np.unique(y, return_inverse=True)
    raw = X @ W.T + b
    value = -np.mean(log_softmax(raw, axis=1)[np.arange(len(y)), yi])
    assert est.objective_ == pytest.approx(value, rel=1e-10)
    shares = np.bincount(yi) / len(y)
    assert value < -np.sum(shares * np.log(shares))


@pytest.mark.parametrize("form", ["products", "syrk"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_softmax_hessian_matches_finite_differences(weighted, fit_intercept, form, monkeypatch):
    # both forms of the softmax Hessian: the few-rows products and the syrk form
    # (forced here by a zero size threshold)
    if form == "syrk":
        monkeypatch.setattr("skloss.linear_model._objective._PARALLEL_WORK", 0)
    rng = np.random.default_rng(5)
    n, p, k = 120, 4, 3
    X = rng.normal(size=(n, p))
    y = rng.integers(0, k, n).astype(float)
    sw = rng.uniform(0, 2, n) if weighted else None
    obj = LinearObjective(get_loss("log_loss"), X, y, sw, n_outputs=k, fit_intercept=fit_intercept, l2_reg=0.01)
    c = rng.normal(size=obj.n_coef)
    H = obj.hessian(c)
    h = 1e-6
    fd = np.empty_like(H)
    for j in range(obj.n_coef):
        e = np.zeros(obj.n_coef)
        e[j] = h
        fd[:, j] = (obj.value_grad(c + e)[1] - obj.value_grad(c - e)[1]) / (2 * h)
    np.testing.assert_allclose(H, fd, atol=1e-8)
    np.testing.assert_array_equal(H, H.T)


def test_cholesky_inverse_of_the_information():
    from skloss.linear_model._inference import _cholesky_inv, _inv

    rng = np.random.default_rng(6)
    Z = rng.normal(size=(60, 7))
    A = Z.T @ Z
    np.testing.assert_allclose(_cholesky_inv(A), np.linalg.inv(A), rtol=1e-10, atol=1e-14)
    Z[:, 6] = Z[:, 5]  # collinear: singular, left to the pseudo-inverse with its warning
    assert _cholesky_inv(Z.T @ Z) is None
    with pytest.warns(UserWarning, match="singular"):
        _inv(Z.T @ Z)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_numpy_pass_gives_the_hessian_of_value_grad(dtype, weighted):
    # the one-evaluation value, gradient and curvature equal the separate evaluations,
    # bit for bit, and the Hessian equals finite differences of the gradient
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 5)).astype(dtype)
    y = rng.integers(0, 2, 300).astype(dtype)
    sw = rng.uniform(0, 2, 300) if weighted else None
    obj = LinearObjective(get_loss("log_loss"), X, y, sw, l2_reg=0.01)
    c = rng.normal(size=obj.n_coef)
    f, g, H = obj.value_grad_hessian(c)
    f2, g2 = obj.value_grad(c)
    assert f == f2 and np.array_equal(g, g2) and np.array_equal(H(), obj.hessian(c))
    if dtype == np.float64:
        e = 1e-6 * np.eye(obj.n_coef)
        fd = np.column_stack([(obj.value_grad(c + d)[1] - obj.value_grad(c - d)[1]) / 2e-6 for d in e])
        np.testing.assert_allclose(H(), fd, atol=1e-8)


def test_nested_one_thread_blas():
    from threadpoolctl import threadpool_info

    from skloss.linear_model._solver_common import single_thread_blas

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with single_thread_blas():
        with single_thread_blas():
            assert all(t == 1 for t in blas_threads())
        assert all(t == 1 for t in blas_threads())  # (the inner exit restores nothing)
    assert blas_threads() == before
