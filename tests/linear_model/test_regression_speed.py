"""The fast routes of MLELinearRegression's constant-Hessian fits (issue 13), each
against an independent reference: NumPy products and inverses, scikit-learn's
Ridge / Lasso / ElasticNet / LinearRegression, statsmodels' OLS."""

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge

from skloss import MLELinearRegression
from skloss.linear_model import _lstsq


def _data(n=3000, p=7, shift=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + shift
    w = rng.standard_normal(p) * (rng.random(p) < 0.7)
    y = X @ w + 0.5 + rng.standard_t(3, size=n)
    return X, y


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("p", [7, 40])
def test_raw_gram_against_numpy(fit_intercept, order, p):
    # (7 columns: the tiled product; 40, or Fortran order: BLAS syrk)
    X, y = _data(p=p)
    X = np.asarray(X, order=order)
    n = X.shape[0]
    zc = y - y.mean()
    G, rhs, xbar = _lstsq._raw_gram(X, zc, n, fit_intercept)
    xb = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    Xc = X - xb
    np.testing.assert_allclose(G, Xc.T @ Xc / n, rtol=0, atol=1e-13)
    np.testing.assert_allclose(rhs, X.T @ zc / n, rtol=0, atol=1e-13)
    np.testing.assert_allclose(xbar, xb, rtol=0, atol=1e-14)
    assert np.array_equal(G, G.T)


def test_raw_gram_refuses_unsafe_columns():
    # a column whose mean dwarfs its spread: centring the Gram matrix would cancel
    X, y = _data()
    X[:, 2] = 1e6 + 1e-3 * X[:, 2]
    assert _lstsq._raw_gram(X, y - y.mean(), X.shape[0], True)[0] is None
    # ... and a NaN never passes as a Gram matrix
    X[5, 1] = np.nan
    assert _lstsq._raw_gram(X, y - y.mean(), X.shape[0], False)[0] is None


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_information_inverse_against_numpy(fit_intercept):
    X, _ = _data(n=500, p=5)
    n = X.shape[0]
    xbar = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    sa = np.linspace(0.5, 2.0, X.shape[1])
    Xs = (X - xbar) / sa
    inv = _lstsq._information_inverse(Xs.T @ Xs / n, None, xbar, sa, float(n), fit_intercept)
    Xa = np.column_stack([X, np.ones(n)]) if fit_intercept else X
    ref = np.linalg.inv(Xa.T @ Xa)
    np.testing.assert_allclose(inv, ref, rtol=1e-10, atol=1e-14 * np.abs(ref).max())
    assert np.array_equal(inv, inv.T)


def _objective(X, y, coef, b, alpha, rho):
    r = y - X @ coef - b
    return np.mean(r * r) + alpha * (rho * np.abs(coef).sum() + (1 - rho) / 2 * coef @ coef)


@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
@pytest.mark.parametrize("loss", ["squared_error", "squared_log_error"])
def test_quadratic_routes_against_sklearn(penalty, loss):
    X, y = _data()
    if loss == "squared_log_error":
        y = np.expm1(np.abs(y) / 3)
    t = np.log1p(y) if loss == "squared_log_error" else y
    n, alpha, rho = X.shape[0], 1e-2, 0.5
    est = MLELinearRegression(loss=loss, penalty=penalty, alpha=alpha if penalty else 0.0, l1_ratio=rho).fit(X, y)
    if penalty is None:
        ref = LinearRegression().fit(X, t)
    elif penalty == "l2":
        ref = Ridge(alpha=n * alpha / 2, tol=1e-12).fit(X, t)
    elif penalty == "l1":
        ref = Lasso(alpha=alpha / 2, tol=1e-14, max_iter=100000).fit(X, t)
    else:
        ref = ElasticNet(alpha=alpha / 2, l1_ratio=rho, tol=1e-14, max_iter=100000).fit(X, t)
    a, r = (alpha, {"l2": 0.0, "l1": 1.0, "elasticnet": rho}[penalty]) if penalty else (0.0, 0.0)
    f_ours = _objective(X, t, est.coef_, est.intercept_, a, r)
    f_ref = _objective(X, t, ref.coef_, ref.intercept_, a, r)
    assert f_ours <= f_ref * (1 + 1e-10)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-7)
    assert est.converged_ and est.n_iter_ >= 1
    # same data, same bits
    again = MLELinearRegression(loss=loss, penalty=penalty, alpha=alpha if penalty else 0.0,
                                l1_ratio=rho).fit(X.copy(), y.copy())
    assert np.array_equal(again.coef_, est.coef_) and again.intercept_ == est.intercept_


@pytest.mark.parametrize("penalty", [None, "l2", "l1"])
def test_standard_errors_against_statsmodels(penalty):
    X, y = _data(n=800, p=4)
    kw = dict(penalty=penalty, alpha=1e-3 if penalty else 0.0)
    ols = MLELinearRegression(**kw).fit(X, y)
    msle = MLELinearRegression(loss="squared_log_error", **kw).fit(X, np.expm1(np.abs(y) / 3))
    Xa = sm.add_constant(X)
    # the unpenalised information at the fitted coefficients (the penalty is ignored,
    # as the estimator warns on access): statsmodels' formulas at the same residuals
    e = y - Xa @ ols.params_
    xtx_inv = np.linalg.inv(Xa.T @ Xa)
    np.testing.assert_allclose(ols.bse_, np.sqrt(np.diag(xtx_inv) * (e @ e) / (len(y) - Xa.shape[1])),
                               rtol=1e-9)
    t = np.log1p(np.expm1(np.abs(y) / 3))
    e2 = t - Xa @ msle.params_
    hc0 = xtx_inv @ (Xa.T * e2 * e2) @ Xa @ xtx_inv
    np.testing.assert_allclose(msle.bse_, np.sqrt(np.diag(hc0)), rtol=1e-9)
    if penalty is None:
        ref = sm.OLS(y, Xa).fit()
        np.testing.assert_allclose(ols.bse_, ref.bse, rtol=1e-9)
        ref = sm.OLS(t, Xa).fit(cov_type="HC0")
        np.testing.assert_allclose(msle.bse_, ref.bse, rtol=1e-9)



@pytest.mark.parametrize("penalty", [None, "l2"])
def test_glm_route_on_one_blas_thread_against_references(penalty):
    # a fit small enough to run on one BLAS thread throughout: the optimum against
    # scikit-learn's PoissonRegressor (half deviance: alpha / 2) and, unpenalised, the
    # standard errors against statsmodels' GLM; the same bits on a second run
    from sklearn.linear_model import PoissonRegressor

    rng = np.random.default_rng(3)
    X = rng.standard_normal((3000, 6))
    y = rng.poisson(np.exp(0.3 * X @ rng.standard_normal(6) + 0.2)).astype(float)
    alpha = 1e-3 if penalty else 0.0
    est = MLELinearRegression(loss="poisson", penalty=penalty, alpha=alpha).fit(X, y)
    ref = PoissonRegressor(alpha=alpha / 2, tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    again = MLELinearRegression(loss="poisson", penalty=penalty, alpha=alpha).fit(X.copy(), y.copy())
    assert np.array_equal(again.coef_, est.coef_) and again.intercept_ == est.intercept_
    if penalty is None:
        glm = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit(tol=1e-12)
        np.testing.assert_allclose(est.bse_, glm.bse, rtol=1e-6)
