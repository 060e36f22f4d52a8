"""Crammer-Singer + L2 on many rows: sequential dual CD and its working-set polish.

References: the interior point on every row (an independent method with its own
duality-gap certificate), scikit-learn's LinearSVC(multi_class="crammer_singer")
(no intercept: its problem is then ours), the objective written out from its
definition, the bound of the whole problem against the working-set bound, and
the sweeps without shrinking.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.svm import LinearSVC

from skloss.linear_model import MLELogisticRegression
from skloss.linear_model import _exact_multiclass as em
from skloss.linear_model._objective import LinearObjective
from skloss.linear_model._solver_exact import solve_exact
from skloss.losses import HingeLoss, get_loss

LAM = 1e-3


def _data(n=4500, p=6, K=3, seed=0):
    return make_classification(n, p, n_informative=min(p, 4), n_redundant=int(p > 4), n_classes=K,
                               n_clusters_per_class=1 if p < 4 else 2, random_state=seed)


def _objective(X, y, W, b, lam=LAM, margin=1.0, sw=None):
    """Crammer-Singer + L2 written out: weighted mean of max(0, max_{k != y} margin + r_k - r_y)."""
    raw = np.asarray(X @ W.T) + b
    n, K = raw.shape
    omega = np.ones(n) if sw is None else np.asarray(sw, dtype=float)
    omega = omega / omega.sum()
    rows = np.arange(n)
    other = raw + margin
    other[rows, y] = -np.inf
    loss = np.maximum(0.0, other.max(axis=1) - raw[rows, y])
    return float(omega @ loss) + 0.5 * lam * float(np.sum(W * W))


def _solve(X, y, K, *, fi, loss="hinge", sw=None, method=None, max_iter=1000):
    obj = LinearObjective(get_loss(loss) if isinstance(loss, str) else loss, X, y.astype(float), sw,
                          fit_intercept=fi, l2_reg=LAM, n_outputs=K)
    return obj, solve_exact(obj, np.zeros(obj.n_coef), method=method, max_iter=max_iter)


@pytest.mark.parametrize("fi", [False, True])
def test_dual_cd_route_is_certified_and_equals_the_interior_point(fi):
    X, y = _data(seed=1)
    obj, res = _solve(X, y, 3, fi=fi)
    assert res.solver == "exact:dual-cd" and res.converged and res.extra["certified"], res.message
    assert "working set" in res.message
    _, ref = _solve(X, y, 3, fi=fi, method="interior-point")
    assert ref.solver == "exact:interior-point" and ref.extra["certified"]
    W, b = obj.split(res.coef)
    F = _objective(X, y, W, b if fi else 0.0)
    assert F == pytest.approx(res.objective, rel=1e-12)
    assert F == pytest.approx(ref.objective, rel=1e-9)
    assert F <= ref.objective * (1 + 1e-10)


def test_matches_linearsvc_without_intercept():
    X, y = _data(5000, 5, 3, seed=2)
    n = X.shape[0]
    obj, res = _solve(X, y, 3, fi=False)
    assert res.solver == "exact:dual-cd" and res.extra["certified"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        svc = LinearSVC(C=1.0 / (LAM * n), multi_class="crammer_singer", fit_intercept=False, tol=1e-6,
                        max_iter=100_000).fit(X, y)
    F_svc = _objective(X, y, svc.coef_, 0.0)
    F = _objective(X, y, res.coef.reshape(3, -1), 0.0)
    assert F <= F_svc * (1 + 1e-10)
    assert F_svc - F <= 1e-6 * F


@pytest.mark.parametrize("fi", [False, True])
def test_working_set_bound_equals_the_whole_bound(fi):
    # rows held at a vertex of their dual enter the working-set bound through V,
    # const and target: the bound must be the one of the whole dual point
    X, y = _data(400, 4, 3, seed=3)
    n, K = X.shape[0], 3
    rng = np.random.default_rng(3)
    omega = rng.uniform(0.5, 1.5, n)
    omega /= omega.sum()
    mu = rng.dirichlet(np.ones(K), size=n) * omega[:, None]
    held = rng.random(n) < 0.6
    top = rng.integers(0, K, n)
    mu[held] = 0.0
    mu[held, top[held]] = omega[held]  # a vertex: all of the row's mass on one term
    A = -mu
    A[np.arange(n), y] += omega
    whole = em.cs_bound(X, y, omega, 0.0, LAM, 1.0, A, fi)
    ws = ~held
    fx = held & (top != y)
    Et = np.zeros((n, K))
    Et[fx, top[fx]] = omega[fx]
    Et[fx, y[fx]] -= omega[fx]
    lin_w = (X.T @ Et).T
    V = (X[ws].T @ A[ws]).T - lin_w
    part = em.cs_bound(X[ws], y[ws], omega[ws], 0.0, LAM, 1.0, A[ws], fi, V=V, const=float(omega[fx].sum()),
                       target=Et.sum(axis=0))
    assert np.isfinite(whole)
    if not fi:
        assert part == pytest.approx(whole, rel=1e-12)
    else:
        # the class sums are restored by different moves (fewer rows may move): both are
        # valid bounds, below the optimum
        _, ref = _solve(X, y, K, fi=True, sw=omega, method="interior-point")
        assert part <= ref.objective * (1 + 1e-12) and whole <= ref.objective * (1 + 1e-12)


def test_polish_from_a_rough_start_holds_rows_and_certifies():
    X, y = _data(3000, 2, 3, seed=4)
    obj = LinearObjective(get_loss("hinge"), X, y.astype(float), None, fit_intercept=True, l2_reg=LAM,
                          n_outputs=3)
    Xd, yd, omega = em._data(obj)
    W0, b0, _, ok, _ = em.cs_interior_point(obj)
    assert ok
    F_ref = _objective(X, y, W0, b0)
    # a start 2% off the optimum: the working set is far smaller than the data
    W, b, certified, n_ws, _, msg = em.cs_polish(Xd, yd, omega, 3, True, LAM, 1.0, 0.98 * W0, 0.98 * b0, 0.05,
                                                 1e-10)
    assert certified, msg
    assert 0 < n_ws < X.shape[0] // 10
    assert _objective(X, y, W, b) == pytest.approx(F_ref, rel=1e-9)
    # 10% off: the first round holds rows on the wrong piece; the next one re-centres
    W, b, certified, n_ws, _, msg = em.cs_polish(Xd, yd, omega, 3, True, LAM, 1.0, 0.9 * W0, 0.9 * b0, 0.05, 1e-10)
    assert certified, msg
    assert _objective(X, y, W, b) == pytest.approx(F_ref, rel=1e-9)


def test_interior_point_does_not_depend_on_the_units_of_X():
    # X * 1e3 with the same alpha is X with alpha * 1e-6: it overflowed the Newton
    # matrix and stopped uncertified before the rows were scaled
    X, y = make_classification(1500, 6, n_informative=4, n_classes=4, weights=[0.9, 0.05, 0.03, 0.02],
                               random_state=11)
    _, big = _solve(X * 1e3, y, 4, fi=True, method="interior-point")
    assert big.extra["certified"], big.message
    obj = LinearObjective(get_loss("hinge"), X, y.astype(float), None, fit_intercept=True, l2_reg=LAM * 1e-6,
                          n_outputs=4)
    ref = solve_exact(obj, np.zeros(obj.n_coef), method="interior-point")
    assert ref.extra["certified"]
    assert big.objective == pytest.approx(ref.objective, rel=1e-9)


def test_shrinking_of_the_true_class_keeps_the_optimum():
    from skloss._kernels._dual import cs_dual_cd_dense

    X, y = _data(300, 4, 4, seed=5)
    n, p, K = X.shape[0], X.shape[1], 4
    C = np.full(n, 1.0 / (n * LAM))
    qd = np.einsum("ij,ij->i", X, X)
    out = {}
    for shrinking in (True, False):
        alpha, Wt, s = np.zeros((n, K)), np.zeros((p, K)), np.zeros(K)
        sweeps, viol = cs_dual_cd_dense(X, y.astype(np.int64), C, qd, 1.0, 0.0, np.zeros(K), alpha, Wt, s, 1e-7,
                                        100_000, 7, shrinking, False)
        assert viol <= 1e-7
        np.testing.assert_allclose(Wt, X.T @ alpha, atol=1e-10)
        out[shrinking] = _objective(X, y, Wt.T, 0.0)
    _, ref = _solve(X, y, K, fi=False, method="interior-point")
    assert out[True] == pytest.approx(ref.objective, rel=1e-7)
    assert out[False] == pytest.approx(ref.objective, rel=1e-7)


def test_csr_sample_weights_and_determinism_on_the_dual_cd_route():
    X, y = _data(4500, 6, 3, seed=6)
    X[np.abs(X) < 0.7] = 0.0
    rng = np.random.default_rng(6)
    sw = rng.integers(0, 3, size=X.shape[0]).astype(float)
    obj, rd = _solve(X, y, 3, fi=True, sw=sw)
    _, rs = _solve(sp.csr_matrix(X), y, 3, fi=True, sw=sw)
    _, rd2 = _solve(X, y, 3, fi=True, sw=sw)
    assert rd.solver == rs.solver == "exact:dual-cd"
    assert rd.extra["certified"] and rs.extra["certified"]
    assert rs.objective == pytest.approx(rd.objective, rel=1e-9)
    assert np.array_equal(rd.coef, rd2.coef)
    # weights = repeated rows
    rep = np.repeat(np.arange(X.shape[0]), sw.astype(int))
    _, rr = _solve(X[rep], y[rep], 3, fi=True)
    assert rr.extra["certified"]
    W, b = obj.split(rd.coef)
    assert _objective(X, y, W, b, sw=sw) == pytest.approx(rr.objective, rel=1e-9)


def test_routes_follow_declared_capabilities():
    X, y = _data(4500, 5, 3, seed=7)

    class RenamedHinge(HingeLoss):  # same formula, another name: the same route and answer
        name = "renamed_crammer_singer"

    _, ref = _solve(X, y, 3, fi=True)
    _, ren = _solve(X, y, 3, fi=True, loss=RenamedHinge())
    assert ren.solver == ref.solver == "exact:dual-cd"
    assert np.array_equal(ren.coef, ref.coef)
    # the perceptron (margin 0): zero is optimal, certified before any sweep
    _, per = _solve(X, y, 3, fi=True, loss="perceptron")
    assert per.extra["certified"] and np.all(per.coef == 0.0)


def test_uncertified_sweeps_hand_over_to_the_interior_point(monkeypatch):
    X, y = _data(4500, 5, 3, seed=8)
    monkeypatch.setattr(em, "_POLISH_MAX_COLS", 0)  # no polish: the sweeps alone,
    monkeypatch.setattr(em, "_SWEEPS_PER_ITER", 0)  # ... and only 1,000 of them
    obj, res = _solve(X, y, 3, fi=False)
    assert res.solver == "exact:interior-point" and res.extra["certified"]
    assert "dual-cd: dual CD: no certificate" in res.message
    _, ref = _solve(X, y, 3, fi=False, method="interior-point")
    assert res.objective == pytest.approx(ref.objective, rel=1e-12)


def test_estimator_uses_the_dual_cd_route():
    X, y = _data(4500, 5, 4, seed=9)
    est = MLELogisticRegression(loss="hinge", penalty="l2", alpha=LAM, cov_type=None).fit(X, y)
    assert est.solver_ == "exact:dual-cd" and est.converged_
    _, ref = _solve(X, y, 4, fi=True, method="interior-point")
    assert _objective(X, y, est.coef_, est.intercept_) == pytest.approx(ref.objective, rel=1e-9)
