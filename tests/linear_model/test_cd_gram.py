"""The squared-error family's Gram routes: the L1 / elastic-net coordinate descent
certified from the Gram matrix, and the sandwich covariance of a constant-Hessian
loss from the fit's own Gram inverse.

References: the true gradient recomputed in extended precision (``np.longdouble``)
from ``X`` itself, scikit-learn's ``Lasso`` / ``ElasticNet`` objectives, and
statsmodels' OLS ``HC0`` covariance on ``log1p(y)``.
"""

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet, Lasso

from skloss import MLELinearRegression
from skloss.linear_model._solver_cd import least_squares_cd


def _design(n, p, seed, mean=0.0, ymean=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.2, 5.0, p) + mean * rng.uniform(-1, 1, p)
    w = rng.standard_normal(p) * (rng.random(p) < 0.5)
    y = X @ w + ymean + rng.standard_t(3, size=n)
    return X, y


def _true_violation(X, z, w, b, l1, l2, fit_intercept=True):
    """The scale-free minimum-norm subgradient of ``mean (z - X w - b)^2 + l1 |w|_1 +
    l2/2 |w|^2``, in extended precision from ``X`` itself."""
    Xl = X.astype(np.longdouble)
    r = z.astype(np.longdouble) - (Xl @ w.astype(np.longdouble) + np.longdouble(b))
    n = X.shape[0]
    gw = -2 * (Xl.T @ r) / n + np.longdouble(l2) * w
    gb = -2 * r.sum() / n
    col = np.sqrt((Xl * Xl).sum(axis=0) / n)
    zc = z.astype(np.longdouble) - z.astype(np.longdouble).mean()
    g0 = 2 * np.sqrt((zc * zc).sum() / n)
    sub = np.where(w != 0, np.abs(gw + l1 * np.sign(w)), np.maximum(np.abs(gw) - l1, 0)) / col
    return float(max(sub.max(), abs(gb) if fit_intercept else 0) / g0)


@pytest.mark.parametrize("n,p,seed,mean,ymean", [
    (2000, 25, 0, 0.0, 0.0),
    (3000, 10, 1, 0.9, 50.0),    # column means close to the raw-Gram guard, large target mean
    (500, 40, 2, 0.0, -1e3),     # target far from zero: the rounding bound may need the data pass
    (20000, 5, 3, 0.5, 1.0),
])
@pytest.mark.parametrize("l1,l2", [(0.05, 0.0), (0.02, 0.02), (1e-4, 0.0)])
@pytest.mark.parametrize("tol", [1e-4, 1e-8, 1e-12])
def test_gram_certificate_bounds_the_true_optimality(n, p, seed, mean, ymean, l1, l2, tol):
    X, y = _design(n, p, seed, mean, ymean)
    out = least_squares_cd(X, y, None, None, True, l1, l2, tol)
    if out is None:  # (the fallback to the objective-based solvers is a legal answer)
        return
    w, b, _, opt, _ = out
    assert opt <= tol
    true = _true_violation(X, y, w, b, l1, l2)
    # the reported optimality (Gram gradient plus its rounding bound, or the data pass)
    # is an upper bound of the true one, up to the rounding of the reference itself
    assert true <= opt * (1 + 1e-6) + 1e-14


@pytest.mark.parametrize("penalty,rho", [("l1", 1.0), ("elasticnet", 0.5)])
@pytest.mark.parametrize("ymean", [0.0, 1e4])
def test_gram_cd_reaches_the_sklearn_optimum(penalty, rho, ymean):
    X, y = _design(4000, 25, 5, 0.3, ymean)
    alpha = 0.01
    m = MLELinearRegression(penalty=penalty, alpha=alpha, l1_ratio=rho, tol=1e-10).fit(X, y)
    assert m.solver_ == "cd"
    ref = (Lasso(alpha=alpha / 2, tol=1e-14, max_iter=100000) if penalty == "l1"
           else ElasticNet(alpha=alpha / 2, l1_ratio=rho, tol=1e-14, max_iter=100000)).fit(X, y)

    def F(coef, b):
        r = y - X @ coef - b
        return float(r @ r / len(y)) + alpha * (rho * np.abs(coef).sum() + (1 - rho) / 2 * coef @ coef)

    assert F(m.coef_, m.intercept_) <= F(ref.coef_, ref.intercept_) * (1 + 1e-10)
    assert _true_violation(X, y, m.coef_, m.intercept_, alpha * rho, alpha * (1 - rho)) <= 1e-9


def _hc0(X, y, raw, sw=None):
    """The HC0 sandwich of least squares with frequency weights, packed ``[b, w]``."""
    Xa = np.column_stack([np.ones(len(y)), X])
    s = np.ones(len(y)) if sw is None else sw
    psi = 2 * (raw - y)
    A = Xa.T @ (Xa * (2 * s)[:, None])
    B = Xa.T @ (Xa * (s * psi * psi)[:, None])
    Ai = np.linalg.inv(A)
    return Ai @ B @ Ai


def test_squared_log_error_hc0_equals_statsmodels_ols_on_log1p():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(7)
    X = rng.standard_normal((600, 4))
    y = np.expm1(np.maximum(0.0, 0.4 * X[:, 0] - 0.3 * X[:, 2] + 1.0 + 0.3 * rng.standard_normal(600)))
    m = MLELinearRegression(loss="squared_log_error").fit(X, y)
    assert m.cov_type_ == "HC0"
    ref = sm.OLS(np.log1p(y), sm.add_constant(X)).fit(cov_type="HC0")
    np.testing.assert_allclose(m.params_, ref.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.covariance_, ref.cov_params(), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("weighted", [False, True])
def test_squared_log_error_penalised_hc0_is_the_sandwich(penalty, weighted):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((800, 6))
    y = np.expm1(np.maximum(0.0, X @ rng.standard_normal(6) * 0.2 + 1.0 + 0.3 * rng.standard_normal(800)))
    sw = rng.uniform(0.5, 2.0, 800) if weighted else None
    with pytest.warns(UserWarning, match="penal"):
        m = MLELinearRegression(loss="squared_log_error", penalty=penalty, alpha=0.01,
                                cov_type="HC0").fit(X, y, sample_weight=sw)
    raw = X @ m.coef_ + m.intercept_
    np.testing.assert_allclose(m.covariance_, _hc0(X, np.log1p(y), raw, sw), rtol=1e-9, atol=1e-16)


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("n", [0, 7, 9000])
def test_weighted_gram_tiles_equal_the_dense_product(fit_intercept, n):
    from skloss.linear_model._lstsq import weighted_gram

    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 6))
    theta = rng.uniform(0.0, 3.0, n)
    Xa = np.column_stack([X, np.ones(n)]) if fit_intercept else X
    np.testing.assert_allclose(weighted_gram(X, theta, fit_intercept), Xa.T @ (Xa * theta[:, None]),
                               rtol=1e-12, atol=1e-12)
    X32 = X.astype(np.float32)
    Xa32 = np.column_stack([X32.astype(np.float64), np.ones(n)]) if fit_intercept else X32.astype(np.float64)
    np.testing.assert_allclose(weighted_gram(X32, theta, fit_intercept), Xa32.T @ (Xa32 * theta[:, None]),
                               rtol=1e-12, atol=1e-12)
    if n:
        theta[0] = -1.0
        assert weighted_gram(X, theta, fit_intercept) is None  # (no square root: the caller's route)


def test_gram_routes_are_deterministic_and_match_cov_none():
    X, y = _design(3000, 25, 11)
    fits = [MLELinearRegression(penalty=pen, alpha=0.01, cov_type=ct).fit(X, y)
            for pen in ("l1", "l2") for ct in ("auto", "auto", None)]
    for a, b, c in (fits[:3], fits[3:]):
        assert np.array_equal(a.coef_, b.coef_) and a.intercept_ == b.intercept_
        assert np.array_equal(a.covariance_, b.covariance_)
        assert np.array_equal(a.coef_, c.coef_) and c.covariance_ is None
