"""The one-Gram routes of the squared-error family (closed form without a copy of X,
L1 / elastic net by coordinate descent on the Gram matrix, the covariance from the
same Gram matrix) and the softmax Hessian of small multinomial problems, each
against an independent reference: statsmodels OLS / WLS, scikit-learn's Lasso /
ElasticNet, the objective-based solvers and finite differences."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import ElasticNet, Lasso, Ridge

from skloss import MLELinearRegression
from skloss.linear_model._lstsq import least_squares
from skloss.linear_model._objective import LinearObjective
from skloss.losses import get_loss


def _data(n=400, p=8, seed=0, mean=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3.0, p) + mean
    w = rng.standard_normal(p) * (rng.random(p) < 0.6)
    y = X @ w + 1.5 + rng.standard_t(4, n)
    return X, y, rng.uniform(0.2, 3.0, n)


@pytest.mark.parametrize("mean", [0.0, 0.5, 50.0])  # raw Gram route / centred copy
@pytest.mark.parametrize("weighted", [False, True])
def test_ols_and_its_covariance_match_statsmodels(mean, weighted):
    X, y, sw = _data(mean=mean)
    s = sw if weighted else None
    m = MLELinearRegression().fit(X, y, sample_weight=s)
    Xc = sm.add_constant(X)
    ref = (sm.WLS(y, Xc, weights=sw) if weighted else sm.OLS(y, Xc)).fit()
    np.testing.assert_allclose(m.params_, ref.params, rtol=1e-10, atol=1e-10)
    if not weighted:
        np.testing.assert_allclose(m.covariance_, ref.cov_params(), rtol=1e-9, atol=1e-14)
    # (weights are frequency weights: the dispersion's degrees of freedom differ from
    # WLS's; the covariance from the Gram matrix equals the one from the design)
    np.testing.assert_allclose(m.covariance_, MLELinearRegression()._covariance_attrs(
        m.loss_, X, y, m.predict(X), s, m.scale_, False)["covariance_"], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_closed_form_matches_sklearn(fit_intercept):
    X, y, _ = _data(mean=0.3)
    alpha = 0.1
    m = MLELinearRegression(penalty="l2", alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    ref = Ridge(alpha=alpha * X.shape[0] / 2, fit_intercept=fit_intercept, solver="svd").fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.intercept_, ref.intercept_, rtol=1e-10, atol=1e-12)


def test_least_squares_inverse_is_the_unpenalised_information_inverse():
    X, y, sw = _data(mean=0.2)
    for weights in (None, sw):
        for fi in (True, False):
            _, _, inv = least_squares(X, y, weights, None, fi, 0.3, return_inverse=True)
            Xa = np.column_stack([X, np.ones(len(y))]) if fi else X
            s = np.ones(len(y)) if weights is None else weights
            np.testing.assert_allclose(inv, np.linalg.inv(Xa.T @ (Xa * s[:, None])), rtol=1e-9, atol=1e-15)


def test_large_and_tiny_columns_take_the_scaled_route():
    X, y, _ = _data()
    base = MLELinearRegression().fit(X, y)
    for c in (1e150, 1e-150):
        m = MLELinearRegression().fit(X * c, y)
        np.testing.assert_allclose(m.coef_ * c, base.coef_, rtol=1e-9)
        np.testing.assert_allclose(m.bse_[1:] * c, base.bse_[1:], rtol=1e-9)
        # L1 in the units of X * c: alpha c gives the same fit (coefficients / c)
        m = MLELinearRegression(penalty="l1", alpha=0.05 * c, tol=1e-10).fit(X * c, y)
        ref = MLELinearRegression(penalty="l1", alpha=0.05, tol=1e-10).fit(X, y)
        assert m.solver_ == "cd"
        np.testing.assert_allclose(m.coef_ * c, ref.coef_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("penalty,rho", [("l1", 1.0), ("elasticnet", 0.4)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("mean", [0.0, 20.0])
def test_gram_cd_matches_sklearn_and_prox_newton(penalty, rho, weighted, mean):
    X, y, sw = _data(mean=mean)
    s = sw if weighted else None
    alpha = 0.05
    m = MLELinearRegression(penalty=penalty, alpha=alpha, l1_ratio=rho, tol=1e-10).fit(X, y, sample_weight=s)
    assert m.solver_ == "cd" and m.converged_
    ref = (Lasso(alpha=alpha / 2, tol=1e-14, max_iter=500000) if penalty == "l1"
           else ElasticNet(alpha=alpha / 2, l1_ratio=rho, tol=1e-14, max_iter=500000))
    ref.fit(X, y, sample_weight=None if s is None else s * len(y) / s.sum())
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(m.intercept_, ref.intercept_, rtol=1e-7, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pn = MLELinearRegression(penalty=penalty, alpha=alpha, l1_ratio=rho, tol=1e-10,
                                 solver="prox-newton").fit(X, y, sample_weight=s)
    assert m.objective_ <= pn.objective_ + 1e-12 * abs(pn.objective_)
    # the covariance from the Gram matrix equals the one from the design
    direct = MLELinearRegression()._covariance_attrs(m.loss_, X, y, m.predict(X), s, m.scale_, True)
    np.testing.assert_allclose(m.covariance_, direct["covariance_"], rtol=1e-9, atol=1e-15)


def test_gram_cd_squared_log_error_matches_lasso_on_log1p():
    X, y, _ = _data()
    t = np.expm1(np.abs(y) / 3)
    m = MLELinearRegression(loss="squared_log_error", penalty="l1", alpha=0.02, tol=1e-10).fit(X, t)
    assert m.solver_ == "cd"
    ref = Lasso(alpha=0.01, tol=1e-14, max_iter=500000).fit(X, np.log1p(t))
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("weighted", [False, True])
def test_small_softmax_hessian_matches_finite_differences(weighted):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 4))
    y = rng.integers(0, 4, 300).astype(float)
    sw = rng.uniform(0.5, 2.0, 300) if weighted else None
    obj = LinearObjective(get_loss("log_loss"), X, y, sw, n_outputs=4, l2_reg=1e-2)
    assert not obj._fused  # (the NumPy twin of small problems)
    c = rng.standard_normal(obj.n_coef) * 0.3
    H = obj.hessian(c)
    eps = 1e-6
    fd = np.column_stack([(obj.value_grad(c + eps * e)[1] - obj.value_grad(c - eps * e)[1]) / (2 * eps)
                          for e in np.eye(obj.n_coef)])
    np.testing.assert_allclose(H, fd, atol=1e-7)
