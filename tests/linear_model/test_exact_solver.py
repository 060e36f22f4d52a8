"""The exact solver for piecewise-linear losses (skloss.linear_model._solver_exact).

References: scipy.optimize.linprog (HiGHS) on an epigraph LP written here from
the loss formulas, QuantileRegressor, LinearSVC / LinearSVR driven to a tight
tolerance (no intercept: their problem is then ours), brute-force envelopes,
and the solver's own methods against each other (dual coordinate descent vs
the interior point: different algorithms on the same problem).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import QuantileRegressor
from sklearn.svm import LinearSVC, LinearSVR

from skloss.linear_model import MLELinearRegression, MLELogisticRegression
from skloss.linear_model._exact import envelope
from skloss.linear_model._objective import LinearObjective
from skloss.linear_model._solver_exact import choose_method, loss_pieces, solve_exact
from skloss.losses import get_loss, make_loss


def _clf(n=120, p=5, seed=0):
    X, y = make_classification(n, p, n_informative=3, n_redundant=1, random_state=seed)
    return X, y.astype(np.float64)


def _reg(n=120, p=5, seed=0):
    X, y = make_regression(n, p, noise=5.0, random_state=seed)
    return X, y / np.std(y)


def _fit(loss, X, y, *, l1=0.0, l2=0.0, fi=True, sw=None, method=None, K=1):
    obj = LinearObjective(loss, X, y, sw, fit_intercept=fi, l1_reg=l1, l2_reg=l2, n_outputs=K)
    res = solve_exact(obj, np.zeros(obj.n_coef), method=method)
    return obj, res


def _lp_reference(A, C, X, omega, l1, fi):
    """min sum omega_i xi_i + l1 ||w||_1  s.t. xi_i >= A_ij (x_i w + b) + C_ij  (linprog)."""
    n, p = X.shape
    nb = int(fi)
    # variables: w+ (p), w- (p), b (nb, free), xi (n, free)
    ncol = 2 * p + nb + n
    cost = np.concatenate([np.full(2 * p, l1), np.zeros(nb), omega])
    rows, rhs = [], []
    for j in range(A.shape[1]):
        a = A[:, j][:, None]
        blk = [a * X, -a * X]
        if fi:
            blk.append(a)
        blk.append(-np.eye(n))
        rows.append(np.hstack(blk))
        rhs.append(-C[:, j])
    bounds = [(0, None)] * (2 * p) + [(None, None)] * (nb + n)
    res = linprog(cost, A_ub=np.vstack(rows), b_ub=np.concatenate(rhs), bounds=bounds, method="highs")
    assert res.status == 0
    assert ncol == res.x.size
    return float(res.fun)


LOSSES = [
    ("hinge", {}, _clf),
    ("perceptron", {}, _clf),
    ("absolute_error", {}, _reg),
    ("quantile", {"quantile": 0.3}, _reg),
    ("epsilon_insensitive", {"epsilon": 0.2}, _reg),
]


@pytest.mark.parametrize("name,params,data", LOSSES)
@pytest.mark.parametrize("l1", [0.0, 0.01])
@pytest.mark.parametrize("fi", [True, False])
def test_linear_programmes_match_linprog(name, params, data, l1, fi):
    loss = get_loss(name, **params)
    X, y = data()
    sw = np.random.default_rng(1).uniform(0.2, 2.0, y.size)
    obj, res = _fit(loss, X, y, l1=l1, fi=fi, sw=sw)
    A, C = loss_pieces(loss, y)
    ref = _lp_reference(A, C, X, sw / sw.sum(), l1, fi)
    assert res.converged
    assert res.objective == pytest.approx(ref, rel=1e-9, abs=1e-11)
    assert obj.total_value(res.coef) == pytest.approx(res.objective, rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("name,params,data", [LOSSES[0], LOSSES[2], LOSSES[3], LOSSES[4]])
@pytest.mark.parametrize("fi", [True, False])
def test_dual_coordinate_descent_equals_interior_point(name, params, data, fi):
    loss = get_loss(name, **params)
    X, y = data(n=300, p=8, seed=3)
    sw = np.random.default_rng(2).uniform(0.2, 2.0, y.size)
    _, cd = _fit(loss, X, y, l2=0.05, fi=fi, sw=sw, method="dual-cd")
    _, ip = _fit(loss, X, y, l2=0.05, fi=fi, sw=sw, method="interior-point")
    assert cd.solver == "exact:dual-cd" and cd.extra["certified"]
    assert ip.solver == "exact:interior-point"
    assert cd.objective == pytest.approx(ip.objective, rel=1e-10)
    # an L2 penalty makes w unique
    p = X.shape[1]
    np.testing.assert_allclose(cd.coef[:p], ip.coef[:p], rtol=1e-6, atol=1e-8)


def test_hinge_l2_matches_linearsvc_without_intercept():
    X, y = _clf(n=400, p=6, seed=4)
    alpha = 0.01
    _, res = _fit(get_loss("hinge"), X, y, l2=alpha, fi=False)
    svc = LinearSVC(C=1.0 / (alpha * y.size), loss="hinge", fit_intercept=False, tol=1e-10,
                    max_iter=1_000_000).fit(X, y)
    w = svc.coef_.ravel()
    z = 2 * y - 1
    F_svc = np.mean(np.maximum(0, 1 - z * (X @ w))) + alpha / 2 * w @ w
    assert res.objective <= F_svc + 1e-12
    assert res.objective == pytest.approx(F_svc, rel=1e-8)
    np.testing.assert_allclose(res.coef, w, atol=1e-5)


def test_epsilon_insensitive_l2_matches_linearsvr_without_intercept():
    X, y = _reg(n=400, p=6, seed=5)
    alpha = 0.01
    _, res = _fit(get_loss("epsilon_insensitive", epsilon=0.1), X, y, l2=alpha, fi=False)
    svr = LinearSVR(C=1.0 / (alpha * y.size), epsilon=0.1, loss="epsilon_insensitive", fit_intercept=False,
                    tol=1e-10, max_iter=1_000_000, dual=True).fit(X, y)
    w = svr.coef_
    F_svr = np.mean(np.maximum(np.abs(y - X @ w) - 0.1, 0)) + alpha / 2 * w @ w
    assert res.objective <= F_svr + 1e-12
    assert res.objective == pytest.approx(F_svr, rel=1e-7)


def test_linearsvc_with_intercept_is_never_better():
    # LinearSVC penalises its intercept; evaluated under our objective it cannot beat the exact optimum
    X, y = _clf(n=2000, p=10, seed=6)
    alpha = 1e-3
    _, res = _fit(get_loss("hinge"), X, y, l2=alpha)
    assert res.extra["certified"]
    # (dual coordinate descent in a random order: fixed, and room to converge -- 85k to
    # 113k epochs here, so 100k sometimes ended with liblinear's ConvergenceWarning)
    svc = LinearSVC(C=1.0 / (alpha * y.size), loss="hinge", intercept_scaling=10.0, tol=1e-8,
                    max_iter=1_000_000, random_state=0).fit(X, y)
    w, b = svc.coef_.ravel(), svc.intercept_[0]
    F_svc = np.mean(np.maximum(0, 1 - (2 * y - 1) * (X @ w + b))) + alpha / 2 * w @ w
    assert res.objective <= F_svc + 1e-12
    assert res.objective == pytest.approx(F_svc, rel=1e-4)


@pytest.mark.parametrize("alpha", [0.0, 0.01])
def test_quantile_matches_quantile_regressor(alpha):
    X, y = _reg(n=250, p=5, seed=7)
    q = 0.7
    est = MLELinearRegression(loss=get_loss("quantile", quantile=q), penalty="l1" if alpha else None,
                              alpha=alpha, cov_type=None).fit(X, y)
    ref = QuantileRegressor(quantile=q, alpha=alpha, solver="highs").fit(X, y)

    def F(w, b):
        r = y - X @ w - b
        return np.mean(np.maximum(q * r, (q - 1) * r)) + alpha * np.abs(w).sum()

    assert F(est.coef_, est.intercept_) == pytest.approx(F(ref.coef_, ref.intercept_), rel=1e-8)


def test_custom_pieces_get_the_builtin_optimum():
    X, y = _clf(n=300, p=6, seed=8)

    def h(y, r):
        return max(0.0, 1.0 - (2.0 * y - 1.0) * r)

    def hg(y, r):
        z = 2.0 * y - 1.0
        return -z if z * r < 1.0 else 0.0

    twin = make_loss(h, hg, task="classification", is_smooth=False, name="my_hinge",
                     piecewise_linear=[(-1.0, 1.0), (0.0, 0.0)])
    for l1, l2 in [(0.0, 0.01), (0.01, 0.0), (0.005, 0.005)]:
        _, a = _fit(get_loss("hinge"), X, y, l1=l1, l2=l2)
        _, b = _fit(twin, X, y, l1=l1, l2=l2)
        assert b.objective == pytest.approx(a.objective, rel=1e-12)
        np.testing.assert_array_equal(a.coef, b.coef)


def test_custom_four_piece_loss_matches_linprog():
    # a convex loss with no built-in twin: max(-2u - 1, -u, 0.5u, 3u - 2) in u = raw - y
    pieces = [(-2.0, -1.0), (-1.0, 0.0), (0.5, 0.0), (3.0, -2.0)]

    def f(y, r):
        u = r - y
        return max(-2.0 * u - 1.0, -u, 0.5 * u, 3.0 * u - 2.0)

    def g(y, r):
        u = r - y
        if u < -1.0:
            return -2.0
        if u < 0.0:
            return -1.0
        if u < 0.8:
            return 0.5
        return 3.0

    loss = make_loss(f, g, is_smooth=False, name="four", piecewise_linear=pieces)
    X, y = _reg(n=150, p=4, seed=9)
    y = 3 * y
    obj, res = _fit(loss, X, y, l1=0.01)
    A, C = loss_pieces(loss, y)
    ref = _lp_reference(A, C, X, np.full(y.size, 1 / y.size), 0.01, True)
    assert res.objective == pytest.approx(ref, rel=1e-9)
    # with L2: dual CD and the interior point agree
    _, cd = _fit(loss, X, y, l2=0.01, method="dual-cd")
    _, ip = _fit(loss, X, y, l2=0.01, method="interior-point")
    assert cd.extra["certified"]
    assert cd.objective == pytest.approx(ip.objective, rel=1e-10)


@pytest.mark.parametrize("l1,l2", [(0.0, 0.01), (0.01, 0.0)])
def test_csr_equals_dense(l1, l2):
    X, y = _clf(n=300, p=8, seed=10)
    X[np.abs(X) < 0.7] = 0.0
    _, d = _fit(get_loss("hinge"), X, y, l1=l1, l2=l2)
    _, s = _fit(get_loss("hinge"), sp.csr_matrix(X), y, l1=l1, l2=l2)
    assert s.objective == pytest.approx(d.objective, rel=1e-10)
    np.testing.assert_allclose(s.coef[:-1], d.coef[:-1], atol=1e-7)


@pytest.mark.parametrize("name,params,data", [LOSSES[0], LOSSES[3], LOSSES[4]])
@pytest.mark.parametrize("l1,l2", [(0.0, 0.02), (0.02, 0.0)])
def test_sample_weights_equal_repetition(name, params, data, l1, l2):
    loss = get_loss(name, **params)
    X, y = data(n=150, p=5, seed=11)
    reps = np.random.default_rng(3).integers(0, 4, y.size)
    reps[:3] = 1
    _, w = _fit(loss, X, y, l1=l1, l2=l2, sw=reps.astype(float))
    Xr, yr = np.repeat(X, reps, axis=0), np.repeat(y, reps)
    _, r = _fit(loss, Xr, yr, l1=l1, l2=l2)
    assert w.objective == pytest.approx(r.objective, rel=1e-10)
    if l2:
        np.testing.assert_allclose(w.coef[:-1], r.coef[:-1], atol=1e-7)


def test_crammer_singer_matches_linprog():
    X, y = make_classification(90, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=12)
    loss = get_loss("hinge")
    obj, res = _fit(loss, X, y.astype(float), l1=0.01, K=3)
    n, p, K = X.shape[0], X.shape[1], 3
    # variables: W+ (K p), W- (K p), b (K), xi (n >= 0); xi_i >= 1 + s_k - s_y for k != y
    ncol = 2 * K * p + K + n
    cost = np.concatenate([np.full(2 * K * p, 0.01), np.zeros(K), np.full(n, 1 / n)])
    rows, rhs = [], []
    for i in range(n):
        for k in range(K):
            if k == y[i]:
                continue
            row = np.zeros(ncol)
            for cls, sgn in ((k, 1.0), (y[i], -1.0)):
                row[cls * p:(cls + 1) * p] += sgn * X[i]
                row[K * p + cls * p:K * p + (cls + 1) * p] -= sgn * X[i]
                row[2 * K * p + cls] += sgn
            row[2 * K * p + K + i] = -1.0
            rows.append(row)
            rhs.append(-1.0)
    bounds = [(0, None)] * (2 * K * p) + [(None, None)] * K + [(0, None)] * n
    ref = linprog(cost, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    assert res.converged
    assert res.objective == pytest.approx(ref.fun, rel=1e-9)


def test_former_iteration_limit_case_is_certified():
    # hinge + L2 at 5,000 rows raised "HiGHS ... Iteration limit reached" before
    X, y = make_classification(5000, 25, random_state=0)
    est = MLELogisticRegression(loss="hinge", penalty="l2", alpha=1e-3, cov_type=None).fit(X, y)
    assert est.converged_
    obj = LinearObjective(get_loss("hinge"), X, y.astype(float), l2_reg=1e-3)
    _, ip = _fit(get_loss("hinge"), X, y.astype(float), l2=1e-3, method="interior-point")
    F = obj.total_value(np.r_[est.coef_.ravel(), est.intercept_])
    assert F == pytest.approx(ip.objective, rel=1e-10)


def test_fixed_entries_are_held():
    X, y = _reg(n=120, p=4, seed=13)
    loss = get_loss("absolute_error")
    obj = LinearObjective(loss, X, y, l2_reg=0.01)
    c0 = np.array([0.0, 0.5, 0.0, 0.0, 0.2])
    fixed = np.array([False, True, False, False, True])
    res = solve_exact(obj, c0, fixed=fixed)
    assert res.coef[1] == 0.5 and res.coef[4] == 0.2
    # reference: the same problem with column 1 moved into the offset and no intercept
    obj2 = LinearObjective(loss, X[:, [0, 2, 3]], y, fit_intercept=False, l2_reg=0.01,
                           offset=0.5 * X[:, 1] + 0.2)
    res2 = solve_exact(obj2, np.zeros(3))
    np.testing.assert_allclose(res.coef[[0, 2, 3]], res2.coef, atol=1e-9)


def test_envelope_against_brute_force():
    rng = np.random.default_rng(14)
    A = rng.normal(size=(50, 4))
    C = rng.normal(size=(50, 4))
    A[:5, 1] = A[:5, 0]  # equal slopes
    slopes, c0, kinks, nk = envelope(A, C)
    r = np.linspace(-30, 30, 2001)
    for i in range(50):
        true = np.max(A[i][:, None] * r[None, :] + C[i][:, None], axis=0)
        val = slopes[i, 0] * r + c0[i]
        for k in range(nk[i]):
            val += (slopes[i, k + 1] - slopes[i, k]) * np.maximum(r - kinks[i, k], 0.0)
        np.testing.assert_allclose(val, true, atol=1e-9)
        assert np.all(np.diff(kinks[i, :nk[i]]) > 0)


def test_cost_model_is_deterministic_and_documented():
    assert choose_method(10**6, 26, l1_reg=0.0, l2_reg=1e-3) == "dual-cd"
    assert choose_method(10**4, 26, l1_reg=1e-3, l2_reg=0.0) == "interior-point"
    assert choose_method(10**4, 5001, l1_reg=1e-3, l2_reg=0.0) == "highs"
    # Crammer-Singer + L2: the interior point on few rows, dual CD + its polish on many
    assert choose_method(3000, 26, l1_reg=0.0, l2_reg=1e-3, n_outputs=3) == "interior-point"
    assert choose_method(10**4, 26, l1_reg=0.0, l2_reg=1e-3, n_outputs=3) == "dual-cd"
    assert choose_method(10**4, 501, l1_reg=0.0, l2_reg=1e-3, n_outputs=3) == "dual-cd"
    assert choose_method(10**4, 26, l1_reg=1e-3, l2_reg=1e-3, n_outputs=3) == "interior-point"
    assert choose_method(10**4, 501, l1_reg=1e-3, l2_reg=0.0, n_outputs=3) == "highs"
    assert choose_method(10**4, 26, l1_reg=0.0, l2_reg=0.0, n_outputs=3) == "highs"
    assert choose_method(30, 26, l1_reg=0.0, l2_reg=1e-3, n_outputs=3) == "highs"
