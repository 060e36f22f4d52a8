"""The solvers: agreement, exactness against independent optimisers, capability errors."""

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from skloss.linear_model._objective import LinearObjective
from skloss.linear_model._solvers import resolve_solver, solve
from skloss.losses import get_loss


def _data(n=80, p=3, k=2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, p))
    W = rng.normal(size=(p, k))
    y = np.argmax(X @ W + rng.gumbel(size=(n, k)), axis=1).astype(float)
    return X, y


@pytest.mark.parametrize("k", [1, 3])
def test_smooth_solvers_agree(k):
    X, y = _data(k=max(k, 2))
    obj = LinearObjective(get_loss("log_loss"), X, y, n_outputs=k, l2_reg=0.01)
    results = {s: solve(obj, np.zeros(obj.n_coef), s, tol=1e-10, max_iter=500)
               for s in ("newton-cholesky", "newton-cg", "lbfgs")}
    ref = results["newton-cholesky"]
    assert ref.converged and ref.optimality <= 1e-10
    def centred(c):
        # softmax intercepts are identified up to a common constant
        c = c.copy()
        if k > 1:
            c[-k:] -= c[-k:].mean()
        return c

    for name, r in results.items():
        assert r.objective == pytest.approx(ref.objective, rel=1e-12), name
        np.testing.assert_allclose(centred(r.coef), centred(ref.coef), atol=1e-6)
    # scipy on the same objective (independent optimiser)
    scipy_res = minimize(obj.value, np.zeros(obj.n_coef), method="Nelder-Mead",
                         options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 200000, "maxfev": 200000})
    assert ref.objective <= scipy_res.fun + 1e-12


def _epigraph_reference(X, y, loss, l1, l2):
    """min mean(xi) + l1 |w|_1 + l2/2 |w|^2 with xi >= pieces, by SLSQP (independent)."""
    n, p = X.shape
    z = 2 * y - 1
    margin = 1.0 if loss == "hinge" else 0.0

    def f(v):
        w, xi, t = v[:p], v[p + 1:p + 1 + n], v[p + 1 + n:]
        return xi.mean() + l1 * t.sum() + 0.5 * l2 * w @ w

    cons = [
        {"type": "ineq", "fun": lambda v: v[p + 1:p + 1 + n] - (margin - z * (X @ v[:p] + v[p]))},
        {"type": "ineq", "fun": lambda v: v[p + 1:p + 1 + n]},
        {"type": "ineq", "fun": lambda v: v[p + 1 + n:] - v[:p]},
        {"type": "ineq", "fun": lambda v: v[p + 1 + n:] + v[:p]},
    ]
    v0 = np.r_[np.zeros(p + 1), np.full(n, margin + 1.0), np.zeros(p)]
    res = minimize(f, v0, constraints=cons, method="SLSQP", options={"ftol": 1e-14, "maxiter": 2000})
    return res.fun


@pytest.mark.parametrize("loss", ["hinge", "perceptron"])
@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.05, 0.0), (0.0, 0.1), (0.03, 0.05)])
def test_highs_exact_against_slsqp(loss, l1, l2):
    X, y = _data(n=40)
    obj = LinearObjective(get_loss(loss), X, y, l1_reg=l1, l2_reg=l2)
    r = solve(obj, np.zeros(obj.n_coef), "highs")
    ref = _epigraph_reference(X, y, loss, l1, l2)
    assert r.objective == pytest.approx(obj.total_value(r.coef), rel=1e-12)
    assert r.objective <= ref + 1e-8
    assert r.objective == pytest.approx(ref, rel=1e-6, abs=1e-9)


def test_highs_crammer_singer_lp():
    # unpenalised multi-class hinge: compare with linprog on the epigraph directly
    X, y = _data(n=30, k=3)
    n, p = X.shape
    obj = LinearObjective(get_loss("hinge"), X, y, n_outputs=3)
    r = solve(obj, np.zeros(obj.n_coef), "highs")
    # variables: W (3p), b (3), xi (n)
    rows, rhs = [], []
    for i in range(n):
        yi = int(y[i])
        for j in range(3):
            if j == yi:
                continue
            a = np.zeros(3 * p + 3 + n)
            a[j * p:(j + 1) * p] += X[i]
            a[yi * p:(yi + 1) * p] -= X[i]
            a[3 * p + j] += 1
            a[3 * p + yi] -= 1
            a[3 * p + 3 + i] = -1
            rows.append(a)
            rhs.append(-1.0)
    c = np.r_[np.zeros(3 * p + 3), np.full(n, 1.0 / n)]
    bounds = [(None, None)] * (3 * p + 3) + [(0, None)] * n
    ref = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs-ipm")
    assert r.objective == pytest.approx(ref.fun, rel=1e-8, abs=1e-10)


@pytest.mark.parametrize("k", [1, 3])
def test_prox_newton_l1_optimality(k):
    X, y = _data(n=120, p=6, k=max(k, 2))
    l1 = 0.03
    obj = LinearObjective(get_loss("log_loss"), X, y, n_outputs=k, l1_reg=l1, l2_reg=0.01)
    r = solve(obj, np.zeros(obj.n_coef), "prox-newton", tol=1e-10, max_iter=200)
    assert r.converged
    _, g = obj.value_grad(r.coef)
    pen = obj.penalised_mask()
    c = r.coef
    # KKT: g_j = -l1 sign(c_j) where c_j != 0, |g_j| <= l1 where c_j == 0, g = 0 off the penalty
    nz = pen & (c != 0)
    np.testing.assert_allclose(g[nz], -l1 * np.sign(c[nz]), atol=1e-9)
    assert np.all(np.abs(g[pen & (c == 0)]) <= l1 + 1e-9)
    np.testing.assert_allclose(g[~pen], 0, atol=1e-9)
    assert np.any(c[pen] == 0)


def test_resolve_solver_errors_and_auto():
    hinge, log = get_loss("hinge"), get_loss("log_loss")
    with pytest.raises(ValueError, match=r"loss 'hinge' has no Hessian \(has_hessian=False\); use solver='auto'"):
        resolve_solver("newton", hinge)
    with pytest.raises(ValueError, match="not smooth"):
        resolve_solver("lbfgs", hinge)
    with pytest.raises(ValueError, match="L1"):
        resolve_solver("newton-cholesky", log, l1_reg=0.1)
    with pytest.raises(ValueError, match="highs"):
        resolve_solver("highs", log)
    with pytest.raises(ValueError, match="solver must be one of"):
        resolve_solver("sgd", log)
    assert resolve_solver("auto", hinge) == "highs"
    assert resolve_solver("auto", log) == "newton-cholesky"
    assert resolve_solver("auto", log, n_coef=50001) == "newton-cg"
    assert resolve_solver("auto", log, l1_reg=0.1) == "prox-newton"
    assert resolve_solver("newton", log) == "newton-cholesky"


def test_fixed_coordinates_stay_fixed():
    X, y = _data(k=3)
    obj = LinearObjective(get_loss("log_loss"), X, y, n_outputs=3)
    fixed = np.zeros(obj.n_coef, dtype=bool)
    fixed[:3] = True
    fixed[9] = True
    c0 = np.zeros(obj.n_coef)
    for s in ("newton-cholesky", "newton-cg", "lbfgs"):
        r = solve(obj, c0, s, tol=1e-9, max_iter=500, fixed=fixed)
        np.testing.assert_array_equal(r.coef[fixed], 0.0)
        _, g = obj.value_grad(r.coef)
        assert np.max(np.abs(g)) < 1e-8
