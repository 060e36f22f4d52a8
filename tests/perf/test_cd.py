"""Solver "cd" (constant-Hessian losses with L1 / elastic net) against scikit-learn's
Lasso / ElasticNet objectives and the KKT conditions, computed independently here."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import ElasticNet, Lasso

from skloss import MLELinearRegression
from skloss.linear_model._solver_select import resolve_solver
from skloss.losses import get_loss


def _data(n=300, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3.0, p) + rng.uniform(-2, 2, p)
    w = rng.standard_normal(p) * (rng.random(p) < 0.5)
    y = X @ w + 1.5 + rng.standard_normal(n)
    return X, y, rng.uniform(0.2, 3.0, n)


def _F(X, y, sw, coef, b, alpha, rho):
    r = y - X @ coef - b
    sw = np.ones_like(y) if sw is None else sw
    return float(sw @ r ** 2 / sw.sum()) + alpha * (rho * np.abs(coef).sum() + (1 - rho) / 2 * coef @ coef)


@pytest.mark.parametrize("penalty,rho", [("l1", 1.0), ("elasticnet", 0.3)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_cd_matches_sklearn_objective(penalty, rho, weighted, sparse):
    X, y, sw = _data()
    sw = sw if weighted else None
    alpha = 0.05
    Xf = sp.csr_matrix(X) if sparse else X
    m = MLELinearRegression(penalty=penalty, alpha=alpha, l1_ratio=rho, tol=1e-10).fit(Xf, y, sample_weight=sw)
    assert m.solver_ == "cd" and m.converged_
    ref = (Lasso(alpha=alpha / 2, tol=1e-14, max_iter=200000) if penalty == "l1"
           else ElasticNet(alpha=alpha / 2, l1_ratio=rho, tol=1e-14, max_iter=200000))
    ref.fit(X, y, sample_weight=sw)
    Fs = _F(X, y, sw, m.coef_, m.intercept_, alpha, rho)
    Fr = _F(X, y, sw, ref.coef_, ref.intercept_, alpha, rho)
    assert Fs <= Fr * (1 + 1e-8)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-6)


def test_cd_kkt_conditions():
    X, y, sw = _data(n=500, p=30, seed=3)
    alpha, rho = 0.2, 0.7
    m = MLELinearRegression(penalty="elasticnet", alpha=alpha, l1_ratio=rho, tol=1e-10).fit(X, y, sample_weight=sw)
    r = y - X @ m.coef_ - m.intercept_
    g = -2 * (sw * r) @ X / sw.sum() + alpha * (1 - rho) * m.coef_
    l1 = alpha * rho
    nz = m.coef_ != 0
    assert np.any(nz) and np.any(~nz)
    np.testing.assert_allclose(g[nz], -l1 * np.sign(m.coef_[nz]), atol=1e-8)
    assert np.all(np.abs(g[~nz]) <= l1 + 1e-8)
    assert abs(float(sw @ r)) <= 1e-8 * sw.sum()  # intercept


def test_cd_float32():
    X, y, _ = _data(seed=5)
    m = MLELinearRegression(penalty="l1", alpha=0.05).fit(X.astype(np.float32), y.astype(np.float32))
    ref = Lasso(alpha=0.025, tol=1e-14, max_iter=100000).fit(X, y)
    assert m.coef_.dtype == np.float32 and m.solver_ == "cd"
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=2e-4)


def test_cd_without_intercept_and_all_zero():
    X, y, _ = _data(seed=7)
    m = MLELinearRegression(penalty="l1", alpha=0.05, fit_intercept=False, tol=1e-10).fit(X, y)
    ref = Lasso(alpha=0.025, fit_intercept=False, tol=1e-14, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-6)
    # alpha beyond the critical value: every coefficient is zero, the intercept the mean
    big = MLELinearRegression(penalty="l1", alpha=1e4).fit(X, y)
    assert np.all(big.coef_ == 0) and big.intercept_ == pytest.approx(y.mean(), rel=1e-10)


def test_cd_selection_by_capability():
    sq = get_loss("squared_error")
    assert resolve_solver("auto", sq, l1_reg=0.1) == "cd"
    assert resolve_solver("auto", get_loss("poisson"), l1_reg=0.1) == "prox-newton"
    assert resolve_solver("auto", get_loss("log_loss"), l1_reg=0.1, sparse=True) == "cd"
    assert resolve_solver("auto", get_loss("log_loss"), l1_reg=0.1, sparse=True, n_outputs=3) == "prox-newton"
    with pytest.raises(ValueError, match="one output"):
        resolve_solver("cd", get_loss("log_loss"), l1_reg=0.1, n_outputs=3)


def _sk_logistic_objective(X, y, sw, coef, b, alpha, rho):
    from sklearn.metrics import log_loss

    raw = X @ coef + b
    p = 1 / (1 + np.exp(-raw))
    return log_loss(y, p, sample_weight=sw) + alpha * (rho * np.abs(coef).sum() + (1 - rho) / 2 * coef @ coef)


@pytest.mark.parametrize("penalty,rho", [("l1", 1.0), ("elasticnet", 0.4)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_glm_cd_sparse_logistic_matches_sklearn_saga_objective(penalty, rho, weighted, dtype):
    from sklearn.linear_model import LogisticRegression

    from skloss import MLELogisticRegression

    rng = np.random.default_rng(4)
    n, p = 600, 80
    X = sp.random(n, p, density=0.1, format="csr", random_state=4)
    X.data = rng.standard_normal(X.data.size)
    y = (X @ (rng.standard_normal(p) * (rng.random(p) < 0.3)) + rng.logistic(size=n) > 0).astype(int)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    alpha = 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = MLELogisticRegression(penalty=penalty, alpha=alpha, l1_ratio=rho, tol=1e-9, cov_type=None).fit(
            X.astype(dtype), y, sample_weight=sw)
        # scipy's L-BFGS-B on the split (w+ - w-) form: an independent optimum
        from scipy.optimize import minimize

        Xd = X.toarray()

        s = np.ones(n) if sw is None else sw

        def f(v):
            w = v[:p] - v[p:2 * p]
            raw = Xd @ w + v[-1]
            # mean log loss with its gradient (logaddexp: stable), L1 linear on the split parts
            val = float(s @ (np.logaddexp(0, raw) - y * raw)) / s.sum()
            r = s * (0.5 * (1 + np.tanh(raw / 2)) - y) / s.sum()
            gw = Xd.T @ r + alpha * (1 - rho) * w
            val += alpha * rho * (v[:2 * p].sum()) + alpha * (1 - rho) / 2 * w @ w
            return val, np.concatenate([gw + alpha * rho, -gw + alpha * rho, [r.sum()]])
        r = minimize(f, np.zeros(2 * p + 1), jac=True, method="L-BFGS-B",
                     bounds=[(0, None)] * (2 * p) + [(None, None)],
                     options=dict(maxiter=50000, maxfun=500000, ftol=1e-15, gtol=1e-12))
    assert m.converged_
    Fs = _sk_logistic_objective(Xd, y, sw, m.coef_[0].astype(float), float(m.intercept_[0]), alpha, rho)
    rel = 1e-8 if dtype == np.float64 else 1e-5
    assert Fs <= r.fun + rel * abs(r.fun)
    # KKT on the zero coefficients (float64 only: float32 gradients are 1e-6 accurate)
    if dtype == np.float64:
        raw = Xd @ m.coef_[0] + m.intercept_[0]
        s = np.ones(n) if sw is None else sw
        grad = Xd.T @ (s * (1 / (1 + np.exp(-raw)) - y)) / s.sum() + alpha * (1 - rho) * m.coef_[0]
        zero = m.coef_[0] == 0
        assert np.all(np.abs(grad[zero]) <= alpha * rho + 1e-7)
        np.testing.assert_allclose(grad[~zero], -alpha * rho * np.sign(m.coef_[0][~zero]), atol=1e-7)


def test_glm_cd_poisson_explicit_dense():
    from sklearn.linear_model import PoissonRegressor

    rng = np.random.default_rng(2)
    X = rng.standard_normal((500, 8))
    y = rng.poisson(np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.5)).astype(float)
    # an L2 fit (the L1 term zero) must equal PoissonRegressor(alpha / 2)
    m = MLELinearRegression(loss="poisson", penalty="l2", alpha=0.02, solver="cd", tol=1e-10).fit(X, y)
    ref = PoissonRegressor(alpha=0.01, tol=1e-12, max_iter=10000).fit(X, y)
    assert m.solver_.startswith("cd")
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-7)
