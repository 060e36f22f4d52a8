"""The exact piecewise-linear solver against linear programming (HiGHS), scipy's
constrained optimiser, scikit-learn's QuantileRegressor and statsmodels' QuantReg."""

import warnings
import zlib

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize

from skloss.linear_model._exact import (
    linprog_fit,
    piecewise_linear_fit,
    piecewise_objective,
)

KINDS = [
    ("quantile", {"quantile": 0.5}),
    ("quantile", {"quantile": 0.1}),
    ("quantile", {"quantile": 0.85}),
    ("absolute_error", {}),
    ("epsilon_insensitive", {"epsilon": 0.3}),
    ("epsilon_insensitive", {"epsilon": 0.0}),
]


def _data(n=300, p=6, seed=0, heavy=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = rng.uniform(-2, 2, p)
    noise = rng.standard_t(2, n) if heavy else rng.standard_normal(n)
    y = X @ coef + 0.7 + noise
    return X, y, rng


@pytest.mark.parametrize("kind,kw", KINDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1", [0.0, 0.02])
def test_matches_linprog(kind, kw, fit_intercept, l1):
    X, y, rng = _data(seed=zlib.crc32(repr((kind, kw, fit_intercept, l1)).encode()) % 1000)
    sw = rng.uniform(0.2, 3.0, X.shape[0])
    res = piecewise_linear_fit(X, y, kind=kind, sample_weight=sw, fit_intercept=fit_intercept, l1_reg=l1, **kw)
    coef, b, fun = linprog_fit(X, y, kind=kind, sample_weight=sw, fit_intercept=fit_intercept, l1_reg=l1, **kw)
    direct = piecewise_objective(X, y, res.coef, res.intercept, kind=kind, sample_weight=sw, l1_reg=l1, **kw)
    assert res.converged and res.certified
    assert direct == pytest.approx(res.objective, rel=1e-12)
    assert direct == pytest.approx(fun, rel=1e-10, abs=1e-12)
    # a vertex of a non-degenerate LP is unique: the coefficients agree too
    np.testing.assert_allclose(res.coef, coef, atol=1e-7)
    assert res.intercept == pytest.approx(b, abs=1e-7)
    # at a vertex at least p residuals (or zero coefficients) are exactly 0
    r = y - X @ res.coef - res.intercept
    n_zero = int(np.sum(np.abs(r) <= 1e-9 * (1 + np.abs(y)))) if kind != "epsilon_insensitive" or not kw["epsilon"] else \
        int(np.sum(np.abs(np.abs(r) - kw["epsilon"]) <= 1e-9 * (1 + np.abs(y))))
    n_zero += int(np.sum(res.coef == 0.0))
    assert n_zero >= X.shape[1] + fit_intercept


def _qp_reference(X, y, kind, kw, l1, l2):
    """Nelder-Mead on the objective itself (4 coordinates, convex): an
    optimiser that shares nothing with the interior-point method."""
    p = X.shape[1]

    def f(c):
        return piecewise_objective(X, y, c[:p], c[p], kind=kind, l1_reg=l1, l2_reg=l2, **kw)

    best = None
    for start in (np.zeros(p + 1), np.r_[np.linalg.lstsq(X, y, rcond=None)[0], 0.0]):
        res = minimize(f, start, method="Nelder-Mead",
                       options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 40000, "maxfev": 40000})
        for _ in range(3):  # restarts escape the simplex collapsing on a kink
            res = minimize(f, res.x, method="Nelder-Mead",
                           options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 40000, "maxfev": 40000})
        if best is None or res.fun < best.fun:
            best = res
    return best.x[:p], best.x[p], best.fun


@pytest.mark.parametrize("kind,kw", [("quantile", {"quantile": 0.3}), ("absolute_error", {})])
@pytest.mark.parametrize("l1", [0.0, 0.05])
def test_elastic_net_qp_matches_direct_minimisation(kind, kw, l1):
    X, y, _ = _data(n=60, p=3, seed=3)
    l2 = 0.2
    res = piecewise_linear_fit(X, y, kind=kind, l1_reg=l1, l2_reg=l2, **kw)
    coef, _, fun = _qp_reference(X, y, kind, kw, l1, l2)
    direct = piecewise_objective(X, y, res.coef, res.intercept, kind=kind, l1_reg=l1, l2_reg=l2, **kw)
    assert res.converged and res.certified
    assert direct <= fun + 1e-12
    assert direct == pytest.approx(fun, rel=1e-8)
    np.testing.assert_allclose(res.coef, coef, atol=1e-5)


def test_sparse_equals_dense_and_weights_equal_repetition():
    X, y, rng = _data(n=200, p=5, seed=7)
    X[X < 0.3] = 0.0
    dense = piecewise_linear_fit(X, y, kind="quantile", quantile=0.7)
    sparse = piecewise_linear_fit(sp.csr_matrix(X), y, kind="quantile", quantile=0.7)
    np.testing.assert_allclose(sparse.coef, dense.coef, atol=1e-10)
    reps = rng.integers(0, 3, X.shape[0])
    w = piecewise_linear_fit(X, y, kind="quantile", quantile=0.7, sample_weight=reps.astype(float))
    r = piecewise_linear_fit(np.repeat(X, reps, axis=0), np.repeat(y, reps), kind="quantile", quantile=0.7)
    assert w.objective == pytest.approx(r.objective, rel=1e-12)
    np.testing.assert_allclose(w.coef, r.coef, atol=1e-8)


def test_offset_shifts_the_target():
    X, y, rng = _data(n=150, p=3, seed=11)
    off = rng.standard_normal(X.shape[0])
    a = piecewise_linear_fit(X, y, kind="absolute_error", offset=off)
    b = piecewise_linear_fit(X, y - off, kind="absolute_error")
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.01])
def test_matches_sklearn_quantile_regressor(alpha):
    from sklearn.linear_model import QuantileRegressor

    X, y, _ = _data(n=250, p=4, seed=5)
    ref = QuantileRegressor(quantile=0.8, alpha=alpha, solver="highs").fit(X, y)
    res = piecewise_linear_fit(X, y, kind="quantile", quantile=0.8, l1_reg=alpha)
    ref_obj = piecewise_objective(X, y, ref.coef_, ref.intercept_, kind="quantile", quantile=0.8, l1_reg=alpha)
    assert res.objective == pytest.approx(ref_obj, rel=1e-10)
    np.testing.assert_allclose(res.coef, ref.coef_, atol=1e-7)


@pytest.mark.parametrize("tau", [0.1, 0.25, 0.5, 0.75, 0.9])
def test_engel_against_statsmodels_quantreg(tau):
    sm = pytest.importorskip("statsmodels.api")
    from statsmodels.datasets import engel

    data = engel.load_pandas().data
    x, y = data["income"].to_numpy(), data["foodexp"].to_numpy()
    res = piecewise_linear_fit(x[:, None], y, kind="quantile", quantile=tau)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # QuantReg's IRLS reports cycling at tight p_tol
        ref = sm.QuantReg(y, sm.add_constant(x)).fit(q=tau, p_tol=1e-12, max_iter=10000)
    assert res.certified
    np.testing.assert_allclose([res.intercept, res.coef[0]], ref.params, rtol=1e-4)
    ref_obj = piecewise_objective(x[:, None], y, ref.params[1:], ref.params[0], kind="quantile", quantile=tau)
    assert res.objective <= ref_obj * (1 + 1e-12)


def test_engel_median_published_values():
    # Koenker (2005), Quantile Regression, and the statsmodels QuantReg example:
    # median regression of food expenditure on income, 81.4823 + 0.5602 income
    from statsmodels.datasets import engel

    data = engel.load_pandas().data
    res = piecewise_linear_fit(data[["income"]].to_numpy(), data["foodexp"].to_numpy(), kind="quantile")
    assert res.intercept == pytest.approx(81.4823, abs=1e-4)
    assert res.coef[0] == pytest.approx(0.5602, abs=1e-4)


def test_degenerate_ties_still_certified():
    # integer data: many tied residuals, a degenerate LP
    rng = np.random.default_rng(2)
    X = rng.integers(0, 3, (120, 2)).astype(float)
    y = rng.integers(0, 5, 120).astype(float)
    res = piecewise_linear_fit(X, y, kind="absolute_error")
    _, _, fun = linprog_fit(X, y, kind="absolute_error")
    assert res.objective == pytest.approx(fun, rel=1e-10)


def test_collinear_columns():
    X, y, _ = _data(n=100, p=3, seed=4)
    X = np.hstack([X, X[:, :1]])
    res = piecewise_linear_fit(X, y, kind="quantile", quantile=0.4)
    _, _, fun = linprog_fit(X, y, kind="quantile", quantile=0.4)
    assert res.objective == pytest.approx(fun, rel=1e-9)
