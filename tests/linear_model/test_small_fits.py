"""Small fits reuse what a pass already computed (curvature, per-sample gradients,
the last Hessian); every shortcut is checked against an independent computation:
finite differences of the gradient, or the closed-form matrices in NumPy."""

import numpy as np
import pytest

from skloss import MLELogisticRegression
from skloss.linear_model._objective import LinearObjective
from skloss.linear_model._solver_common import SOFTMAX_ZERO_SUM_CLASSES
from skloss.losses import get_loss


def _fd_hessian(obj, c, h=1e-6):
    cols = []
    for i in range(c.size):
        e = np.zeros(c.size)
        e[i] = h
        cols.append((obj.value_grad(c + e)[1] - obj.value_grad(c - e)[1]) / (2 * h))
    H = np.array(cols)
    return 0.5 * (H + H.T)


def _multiclass(n, p, k, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = np.argmax(X @ rng.standard_normal((p, k)) + rng.gumbel(size=(n, k)), axis=1).astype(float)
    return X, y


@pytest.mark.parametrize("k, weighted, fit_intercept", [(3, False, True), (5, True, True), (4, False, False),
                                                        (SOFTMAX_ZERO_SUM_CLASSES + 2, True, True)])
def test_softmax_hessian_matches_finite_differences(k, weighted, fit_intercept):
    # the products on few rows: one class's blocks from the others' (k <= 16), all blocks beyond
    X, y = _multiclass(120, 4, k, k)
    sw = np.random.default_rng(1).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    obj = LinearObjective(get_loss("log_loss"), X, y, sw, n_outputs=k, l2_reg=0.01, fit_intercept=fit_intercept)
    c = np.random.default_rng(2).standard_normal(obj.n_coef) * 0.4
    obj.value_grad(c)
    H = obj.hessian(c)
    Hfd = _fd_hessian(obj, c)
    assert np.max(np.abs(H - Hfd)) <= 1e-6 * np.max(np.abs(Hfd))
    assert np.array_equal(H, H.T)


@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_hessian_at_equal_rows_is_the_kronecker_product(weighted):
    # all weights zero (a fit's start): every row has the same probabilities
    X, y = _multiclass(150, 3, 4, 7)
    sw = np.random.default_rng(3).uniform(0.5, 1.5, X.shape[0]) if weighted else None
    obj = LinearObjective(get_loss("log_loss"), X, y, sw, n_outputs=4, l2_reg=0.02)
    c = np.zeros(obj.n_coef)
    c[-4:] = [0.3, -0.2, 0.1, 0.5]
    obj.value_grad(c)
    H = obj.hessian(c)
    Hfd = _fd_hessian(obj, c)
    assert np.max(np.abs(H - Hfd)) <= 1e-6 * np.max(np.abs(Hfd))


def _direct_hessian(X, h, l2, fit_intercept):
    Xa = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
    H = Xa.T @ (Xa * h[:, None]) / X.shape[0]
    p = X.shape[1]
    H[np.arange(p), np.arange(p)] += l2
    return H


@pytest.mark.parametrize("loss_name", ["squared_hinge", "huber"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_kept_curvature_and_gram_update_match_the_direct_hessian(loss_name, fit_intercept):
    # piecewise-quadratic losses: the next point's Hessian is the last one plus the rows
    # that crossed a kink; compared with X~^T diag(h) X~ formed directly in NumPy
    rng = np.random.default_rng(4)
    X = rng.standard_normal((400, 5))
    y = (X[:, 0] + rng.logistic(size=400) > 0).astype(float) if loss_name == "squared_hinge" else (
        X @ rng.standard_normal(5) + rng.standard_t(2, size=400))
    loss = get_loss(loss_name)
    obj = LinearObjective(loss, X, y, None, fit_intercept=fit_intercept, l2_reg=0.003)
    assert obj._curv_in_pass
    c = rng.standard_normal(obj.n_coef) * 0.3
    for step in range(4):
        c = c * 1.02 + 0.001 * step
        obj.value_grad(c)
        H = obj.hessian(c)
        w, b = obj.split(c)
        h = np.asarray(loss.hessian(y, X @ w + b), dtype=np.float64)
        assert np.max(np.abs(H - _direct_hessian(X, h, 0.003, fit_intercept))) <= 1e-12 * np.max(np.abs(H))


def test_squared_hinge_sandwich_matches_numpy():
    # HC0 from the pass's kept curvature and per-sample gradients at the optimum
    rng = np.random.default_rng(5)
    X = rng.standard_normal((600, 4))
    y = (X @ np.array([1.0, -0.5, 0.3, 0.0]) + rng.logistic(size=600) > 0).astype(int)
    est = MLELogisticRegression(loss="squared_hinge", penalty="l2", alpha=1e-3, tol=1e-10).fit(X, y)
    loss = get_loss("squared_hinge")
    raw = X @ est.coef_.ravel() + est.intercept_[0]
    g = np.asarray(loss.gradient(y.astype(float), raw), dtype=np.float64)
    h = np.asarray(loss.hessian(y.astype(float), raw), dtype=np.float64)
    Xa = np.hstack([np.ones((600, 1)), X])  # display order: intercept first
    A_inv = np.linalg.inv(Xa.T @ (Xa * h[:, None]))
    cov = A_inv @ (Xa.T @ (Xa * (g * g)[:, None])) @ A_inv
    np.testing.assert_allclose(est.covariance_, cov, rtol=1e-9, atol=1e-14)


def test_multinomial_start_scale_from_the_first_pass_matches_statsmodels():
    # the unpenalised multinomial fit (its start's scale from the solver's first pass)
    sm = pytest.importorskip("statsmodels.api")
    X, y = _multiclass(800, 3, 4, 11)
    est = MLELogisticRegression(tol=1e-10).fit(X, y)
    res = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    np.testing.assert_allclose(est.params_, res.params.T.ravel(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.bse_, res.bse.T.ravel(), rtol=1e-6)
    np.testing.assert_allclose(est.loglik_, res.llf, rtol=1e-10)
