"""Proximal Newton on a non-convex smooth loss with L1 (the softmax Brier score): the
uniform start has an indefinite Hessian; the fit must leave it and reach a first-order
point no worse than SciPy's L-BFGS-B on the split (w+ - w-) bound-constrained form."""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize

from skloss import MLELogisticRegression
from skloss.losses import get_loss


def _problem(seed=0, n=400, p=6, k=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    S = X @ rng.standard_normal((p, k)) + rng.gumbel(size=(n, k))
    return X, np.argmax(S, axis=1)


def _objective(loss, X, y, W, b, l1, l2):
    raw = X @ W.T + b
    return float(np.mean(loss.loss(y.astype(float), raw))) + l1 * np.abs(W).sum() + l2 / 2 * (W ** 2).sum()


@pytest.mark.parametrize("penalty,rho", [("l1", 1.0), ("elasticnet", 0.5)])
def test_brier_l1_leaves_the_null_model(penalty, rho):
    X, y = _problem()
    alpha = 2e-3
    loss = get_loss("brier")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning
        m = MLELogisticRegression(loss="brier", penalty=penalty, alpha=alpha, l1_ratio=rho, tol=1e-8).fit(X, y)
    assert m.converged_
    k, p = m.coef_.shape
    l1, l2 = alpha * rho, alpha * (1 - rho)
    F = _objective(loss, X, y, m.coef_, m.intercept_, l1, l2)
    null = _objective(loss, X, y, np.zeros((k, p)), np.zeros(k), l1, l2)
    assert F < null - 0.05

    def f(v):
        Wp, Wm, b = v[:k * p].reshape(k, p), v[k * p:2 * k * p].reshape(k, p), v[2 * k * p:]
        return _objective(loss, X, y, Wp - Wm, b, l1, l2)

    best = np.inf
    starts = [np.zeros(2 * k * p + k),
              np.concatenate([np.maximum(m.coef_, 0).ravel(), np.maximum(-m.coef_, 0).ravel(), m.intercept_])]
    for v0 in starts:
        r = minimize(f, v0, method="L-BFGS-B", bounds=[(0, None)] * (2 * k * p) + [(None, None)] * k,
                     options=dict(maxiter=20000, maxfun=200000, ftol=1e-15, gtol=1e-12))
        best = min(best, r.fun)
    assert F <= best + 1e-8 * abs(best)
