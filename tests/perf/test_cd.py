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
    with pytest.raises(ValueError, match="hessian_is_constant"):
        resolve_solver("cd", get_loss("poisson"), l1_reg=0.1)
