"""Proximal Newton on many rows: the subsample start and the subsampled Hessians
(skloss.linear_model._solver_prox) reach the optimum of the full objective.

References: the KKT conditions of the L1 / elastic-net problem with the gradient
written out here in NumPy from the loss's formula (not the library's kernels),
and the objective of a run whose Hessians all come from every row (the same
solver with the subsample disabled) -- equal to 1e-10."""

import numpy as np
import pytest
from scipy.special import expit

from skloss.linear_model import _solver_prox
from skloss.linear_model._objective import LinearObjective
from skloss.linear_model._solver_prox import prox_newton
from skloss.losses import get_loss


def _data(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = rng.standard_normal(p) * (rng.random(p) < 0.6)
    return X, X @ w * 0.5, rng


def _kkt(grad_w, grad_b, w, l1):
    """Largest violation of the optimality conditions of smooth + l1 |w|_1."""
    nz = w != 0
    v = np.where(nz, np.abs(grad_w + l1 * np.sign(w)), np.maximum(np.abs(grad_w) - l1, 0.0))
    return max(float(np.max(v)), abs(grad_b))


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_poisson_l1_many_rows_meets_kkt(penalty, capsys):
    n, p = 48000, 8
    X, z, rng = _data(n, p)
    y = rng.poisson(np.exp(z)).astype(float)
    alpha, rho = 2e-3, (1.0 if penalty == "l1" else 0.5)
    obj = LinearObjective(get_loss("poisson"), X, y, l2_reg=alpha * (1 - rho), l1_reg=alpha * rho)
    c0 = np.zeros(p + 1)
    c0[-1] = np.log(y.mean())
    res = prox_newton(obj, c0, 1e-9, 200, 1, None)
    out = capsys.readouterr().out
    assert "subsample fit" in out  # the cold start was replaced by a subsample fit
    assert res.converged
    w, b = res.coef[:p], res.coef[p]
    mu = np.exp(X @ w + b)
    # gradient of mean 2 (y log(y / mu) - y + mu) + alpha (1 - rho) / 2 |w|^2, by hand
    gw = X.T @ (2.0 * (mu - y)) / n + alpha * (1 - rho) * w
    gb = float(np.sum(2.0 * (mu - y))) / n
    assert _kkt(gw, gb, w, alpha * rho) < 1e-8
    assert np.any(w == 0.0) or penalty == "elasticnet"


def test_logistic_l1_many_rows_equals_full_hessian_run(monkeypatch):
    n, p = 48000, 6
    X, z, rng = _data(n, p, seed=3)
    y = (rng.random(n) < expit(z)).astype(float)
    alpha = 1e-3
    loss = get_loss("log_loss")
    obj = LinearObjective(loss, X, y, l1_reg=alpha)
    res = prox_newton(obj, np.zeros(p + 1), 1e-9, 200, 0, None)
    # the same solver with every Hessian from all rows and no subsample start
    monkeypatch.setattr(_solver_prox, "hessian_rows", lambda n_samples, n_coef: n_samples)
    monkeypatch.setattr(_solver_prox, "presolve_rows", lambda obj: 0)
    ref = prox_newton(LinearObjective(loss, X, y, l1_reg=alpha), np.zeros(p + 1), 1e-9, 200, 0, None)
    assert res.converged and ref.converged
    assert abs(res.objective - ref.objective) <= 1e-10 * abs(ref.objective)
    np.testing.assert_allclose(res.coef, ref.coef, atol=1e-6)
    # and the KKT conditions by hand: mean log loss gradient (p - y) [x, 1]
    w, b = res.coef[:p], res.coef[p]
    r = expit(X @ w + b) - y
    assert _kkt(X.T @ r / n, float(r.mean()), w, alpha) < 1e-8


def test_warm_start_is_not_presolved(capsys):
    # a start with non-zero penalised coefficients (a finisher's or a warm start) is kept
    n, p = 20000, 4
    X, z, rng = _data(n, p, seed=5)
    y = rng.poisson(np.exp(z)).astype(float)
    obj = LinearObjective(get_loss("poisson"), X, y, l1_reg=1e-3)
    c0 = np.r_[np.full(p, 0.1), 0.0]
    res = prox_newton(obj, c0, 1e-8, 200, 1, None)
    assert "subsample fit" not in capsys.readouterr().out
    assert res.converged
