"""Crammer-Singer multi-class hinge (and perceptron) with an L2 penalty.

References: scikit-learn's LinearSVC(multi_class="crammer_singer") driven to a
tight tolerance (no intercept: its problem is then ours), HiGHS's quadratic
programme (the former route), the solver's two methods against each other
(interior point vs sequential dual coordinate descent), repeated rows, and the
duality bound against the optimum.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.svm import LinearSVC

from skloss.linear_model import MLELogisticRegression
from skloss.linear_model._exact_multiclass import cs_certificate, primal_value
from skloss.linear_model._objective import LinearObjective
from skloss.linear_model._solver_exact import solve_exact
from skloss.losses import get_loss


def _data(n=60, p=3, K=3, seed=0):
    X, y = make_classification(n, p, n_informative=p, n_redundant=0, n_classes=K, n_clusters_per_class=1,
                               random_state=seed)
    return X, y


def _solve(X, y, K, *, fi, lam=1e-2, sw=None, method=None, loss="hinge", l1=0.0):
    obj = LinearObjective(get_loss(loss), X, y.astype(float), sw, fit_intercept=fi, l2_reg=lam, l1_reg=l1,
                          n_outputs=K)
    return obj, solve_exact(obj, np.zeros(obj.n_coef), method=method)


def _objective(X, y, W, b, lam, margin=1.0, sw=None):
    """Crammer-Singer objective written out from its definition."""
    n = X.shape[0]
    raw = X @ W.T + b
    omega = np.ones(n) if sw is None else np.asarray(sw, dtype=float)
    omega = omega / omega.sum()
    loss = np.zeros(n)
    for i in range(n):
        others = [margin + raw[i, k] - raw[i, y[i]] for k in range(W.shape[0]) if k != y[i]]
        loss[i] = max(0.0, max(others))
    return float(omega @ loss) + 0.5 * lam * float(np.sum(W * W))


def test_matches_linearsvc_without_intercept():
    X, y = _data(300, 5, 3, seed=1)
    n, lam = X.shape[0], 1e-2
    obj, res = _solve(X, y, 3, fi=False, lam=lam)
    assert res.converged and res.extra["certified"]
    assert res.solver == "exact:interior-point"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        svc = LinearSVC(C=1.0 / (lam * n), multi_class="crammer_singer", fit_intercept=False, tol=1e-8,
                        max_iter=200_000).fit(X, y)
    F_svc = _objective(X, y, svc.coef_, 0.0, lam)
    F = _objective(X, y, res.coef.reshape(3, -1), 0.0, lam)
    assert F == pytest.approx(res.objective, rel=1e-12)
    # equal to LinearSVC's at its tightest tolerance, or better
    assert F <= F_svc * (1 + 1e-8)
    assert F_svc - F <= 1e-6 * F


@pytest.mark.parametrize("fi", [False, True])
def test_interior_point_dual_cd_and_highs_agree(fi):
    X, y = _data(60, 3, 3, seed=2)
    F = {}
    for m in ("interior-point", "dual-cd", "highs"):
        obj, res = _solve(X, y, 3, fi=fi, method=m)
        assert res.converged, (m, res.message)
        assert res.solver == f"exact:{m}"
        W, b = obj.split(res.coef)
        F[m] = _objective(X, y, W, b if fi else 0.0, 1e-2)
    # HiGHS's QP stops at its own feasibility tolerances (1e-10): within 1e-8 of the certified optima
    assert F["interior-point"] == pytest.approx(F["highs"], rel=1e-8)
    assert F["dual-cd"] == pytest.approx(F["interior-point"], rel=1e-9)
    assert F["interior-point"] <= F["highs"] * (1 + 1e-10)


@pytest.mark.parametrize("method", ["interior-point", "dual-cd"])
def test_sample_weights_equal_repeated_rows(method):
    X, y = _data(50, 3, 3, seed=3)
    rng = np.random.default_rng(3)
    sw = rng.integers(0, 4, size=X.shape[0]).astype(float)
    rep = np.repeat(np.arange(X.shape[0]), sw.astype(int))
    for fi in (False, True):
        obj_w, rw = _solve(X, y, 3, fi=fi, sw=sw, method=method)
        obj_r, rr = _solve(X[rep], y[rep], 3, fi=fi, method=method)
        assert rw.converged and rr.converged
        assert rw.objective == pytest.approx(rr.objective, rel=1e-9)
        Ww, bw = obj_w.split(rw.coef)
        assert _objective(X, y, Ww, bw if fi else 0.0, 1e-2, sw=sw) == pytest.approx(rr.objective, rel=1e-9)


@pytest.mark.parametrize("method", ["interior-point", "dual-cd"])
def test_csr_equals_dense(method):
    X, y = _data(80, 4, 3, seed=4)
    X[np.abs(X) < 0.5] = 0.0
    for fi in (False, True):
        _, rd = _solve(X, y, 3, fi=fi, method=method)
        _, rs = _solve(sp.csr_matrix(X), y, 3, fi=fi, method=method)
        assert rd.converged and rs.converged
        assert rs.objective == pytest.approx(rd.objective, rel=1e-9)


@pytest.mark.parametrize("method", ["interior-point", "dual-cd"])
def test_deterministic(method):
    X, y = _data(80, 4, 3, seed=5)
    _, r1 = _solve(X, y, 3, fi=True, method=method)
    _, r2 = _solve(X, y, 3, fi=True, method=method)
    assert np.array_equal(r1.coef, r2.coef)


def test_duality_bound_is_valid_for_any_feasible_point():
    # random dual points feasible per row, with class sums far from zero: the
    # restored bound never exceeds the optimum (HiGHS's value, intercepts free)
    X, y = _data(60, 3, 3, seed=6)
    n, K, lam = X.shape[0], 3, 1e-2
    obj, ref = _solve(X, y, K, fi=True, method="highs")
    rng = np.random.default_rng(6)
    omega = np.full(n, 1.0 / n)
    for _ in range(20):
        mu = rng.dirichlet(np.ones(K), size=n) * omega[:, None]
        alpha = -mu
        alpha[np.arange(n), y] += omega
        alpha /= lam
        assert np.abs(alpha.sum(axis=0)).max() > 1e-3
        LB, _ = cs_certificate(X, y, omega, lam, 1.0, alpha, True)
        assert LB <= ref.objective * (1 + 1e-12)
        LB0, W = cs_certificate(X, y, omega, lam, 1.0, alpha, False)
        # without intercepts: bound <= F at the best W of the no-intercept problem
        _, r0 = _solve(X, y, K, fi=False, method="highs")
        assert LB0 <= r0.objective * (1 + 1e-12)
        assert primal_value(X, y, omega, lam, 1.0, W, np.zeros(K)) >= r0.objective * (1 - 1e-12)


def test_lead_case_is_certified_and_beats_linearsvc():
    # 2,000 x 25 x 4 classes: HiGHS's QP stopped at its iteration limit after 88 s
    X, y = make_classification(2000, 25, n_informative=10, n_classes=4, random_state=0)
    alpha = 1e-3
    est = MLELogisticRegression(loss="hinge", penalty="l2", alpha=alpha, fit_intercept=False, cov_type=None).fit(X, y)
    assert est.converged_
    F = _objective(X, y, est.coef_, 0.0, alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        svc = LinearSVC(C=1.0 / (alpha * 2000), multi_class="crammer_singer", fit_intercept=False,
                        max_iter=20_000).fit(X, y)
    assert F <= _objective(X, y, svc.coef_, 0.0, alpha)


def test_perceptron_margin_zero_trivial_optimum_warns():
    from skloss.linear_model._logistic import TrivialOptimumWarning

    X, y = _data(60, 3, 3, seed=7)
    for fi in (False, True):
        est = MLELogisticRegression(loss="perceptron", penalty="l2", alpha=1e-2, fit_intercept=fi, cov_type=None)
        with pytest.warns(TrivialOptimumWarning):
            est.fit(X, y)
        assert est.converged_
        assert np.all(est.coef_ == 0.0)
        # zero is the optimum: the objective is >= 0 everywhere and 0 there
        assert _objective(X, y, est.coef_, est.intercept_ if fi else 0.0, 1e-2, margin=0.0) == 0.0


def test_with_intercept_through_the_estimator_matches_highs():
    X, y = _data(60, 3, 3, seed=8)
    est = MLELogisticRegression(loss="hinge", penalty="l2", alpha=1e-2, cov_type=None).fit(X, y)
    assert est.converged_
    assert est.solver_ == "exact:interior-point"
    _, ref = _solve(X, y, 3, fi=True, method="highs")
    assert _objective(X, y, est.coef_, est.intercept_, 1e-2) == pytest.approx(ref.objective, rel=1e-8)


@pytest.mark.parametrize("l1,l2", [(1e-2, 0.0), (1e-2, 1e-2)])
@pytest.mark.parametrize("fi", [False, True])
def test_l1_and_elastic_net_interior_point_matches_highs(l1, l2, fi):
    X, y = _data(60, 3, 3, seed=9)
    obj, res = _solve(X, y, 3, fi=fi, lam=l2, l1=l1)
    assert res.solver == "exact:interior-point" and res.converged, res.message
    _, ref = _solve(X, y, 3, fi=fi, lam=l2, l1=l1, method="highs")
    W, b = obj.split(res.coef)
    F = _objective(X, y, W, b if fi else 0.0, l2) + l1 * float(np.abs(W).sum())
    assert F == pytest.approx(ref.objective, rel=1e-8)
    assert F <= ref.objective * (1 + 1e-10)


@pytest.mark.parametrize("fi", [False, True])
def test_smoothing_reports_converged_only_near_the_optimum(fi):
    # the smoothing solver certifies Crammer-Singer + L2 by the duality gap: it may
    # stop short, but then it says so (it used to report converged 2% above the optimum)
    X, y = make_classification(400, 8, n_informative=5, n_classes=4, random_state=10)
    exact = MLELogisticRegression(loss="hinge", penalty="l2", alpha=1e-3, fit_intercept=fi, cov_type=None).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm = MLELogisticRegression(loss="hinge", penalty="l2", alpha=1e-3, fit_intercept=fi, cov_type=None,
                                   solver="smoothing").fit(X, y)
    F_exact = _objective(X, y, exact.coef_, exact.intercept_ if fi else 0.0, 1e-3)
    F_sm = _objective(X, y, sm.coef_, sm.intercept_ if fi else 0.0, 1e-3)
    assert F_sm >= F_exact * (1 - 1e-10)
    # converged_ only with a certificate: then within the solver's stated accuracy
    assert (not sm.converged_) or F_sm - F_exact <= 2e-7 * F_exact
