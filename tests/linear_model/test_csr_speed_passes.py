"""Passes kept and reused on CSR input (issue 13): the binary log loss's NumPy twin on CSR,
the generic pass's curvature reused by Newton-CG's Hessian products, the column RMS of the
problem scale, and the column coordinate descent reading the objective's kept pass (its
kernel without ``delta``).  References: finite differences of the gradient, dense NumPy
sums, SciPy products, scikit-learn's optimum."""

import numpy as np
import pytest
import scipy.sparse as sp

from skloss import MLELogisticRegression
from skloss.linear_model._objective import LinearObjective
from skloss.losses import get_loss
from test_csr_speed import _cd_model  # (the proximal-Newton model of glm_cd_csc's tests)


def _csr(n=3000, p=200, density=0.02, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=seed, dtype=np.float64)
    X.data = rng.standard_normal(X.data.size)
    w = rng.standard_normal(p) * (rng.random(p) < 0.5) / np.sqrt(p * density)
    y = (np.asarray(X @ w) + rng.logistic(size=n) > 0).astype(np.float64)
    return X.astype(dtype), y


@pytest.mark.parametrize("product", ["scipy", "kernel"])
@pytest.mark.parametrize("loss", ["log_loss", "squared_hinge"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_hessian_products_after_a_pass_match_finite_differences(loss, weighted, product, monkeypatch):
    """hessp_factory at the point of the last value_grad (the kept curvature, no new
    pass) against central differences of the gradient, and the same products as on the
    dense copy of X (generic pass, nothing kept from a sparse pass); the products by
    SciPy's two products or by the one-read kernel (forced here on a small X)."""
    import skloss.linear_model._objective as objective_module

    if product == "kernel":
        monkeypatch.setattr(objective_module, "_CSR_PRODUCT_NNZ", 0)
    X, y = _csr(seed=1)
    rng = np.random.default_rng(2)
    sw = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else None
    fi = loss == "log_loss"
    obj = LinearObjective(get_loss(loss), X, y, sw, fit_intercept=fi, l2_reg=1e-3)
    c = 0.1 * rng.standard_normal(obj.n_coef)
    f, g = obj.value_grad(c)
    f2, g2, hessp = obj.hessp_factory(c)
    assert f2 == f and np.array_equal(g2, g)
    dense = LinearObjective(get_loss(loss), X.toarray(), y, sw, fit_intercept=fi, l2_reg=1e-3)
    _, _, hessp_dense = dense.hessp_factory(c)
    for _ in range(3):
        v = rng.standard_normal(obj.n_coef)
        hv = hessp(v)
        np.testing.assert_allclose(hv, hessp_dense(v), rtol=1e-10, atol=1e-13)
        e = 1e-6
        fd = (obj.value_grad(c + e * v)[1] - obj.value_grad(c - e * v)[1]) / (2 * e)
        if loss == "squared_hinge":
            # (piecewise curvature: only rows away from the hinge's kink along +-e v agree)
            np.testing.assert_allclose(hv, fd, rtol=1e-3, atol=1e-3 * np.max(np.abs(fd)))
        else:
            np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_column_rms_csr_against_dense_sums(dtype, weighted):
    from skloss.linear_model._solver_common import _column_rms

    X, y = _csr(n=500, p=40, density=0.1, seed=3, dtype=dtype)
    sw = np.random.default_rng(4).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    obj = LinearObjective(get_loss("log_loss"), X, y, sw)
    D = X.toarray().astype(np.float64)
    s = np.ones(D.shape[0]) if sw is None else sw.astype(dtype).astype(np.float64)
    # (the objective's weights in X's dtype, their sum from the weights given)
    ref = np.sqrt((s[:, None] * D * D).sum(axis=0) / obj.weight_sum)
    np.testing.assert_allclose(_column_rms(obj), ref, rtol=1e-12)
    csc = LinearObjective(get_loss("log_loss"), X.tocsc(), y, sw)  # (the other sparse format's route)
    np.testing.assert_allclose(_column_rms(csc), ref, rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_log_loss_l2_csr_newton_cg_reaches_sklearn_optimum(weighted):
    """The NumPy twin on CSR (Newton-CG, curvature of the accepted point reused): the
    objective no worse than LogisticRegression's at a tight tolerance, and the dense fit's
    coefficients."""
    from sklearn.linear_model import LogisticRegression

    X, y = _csr(n=4000, p=300, density=0.02, seed=5)
    n, alpha = X.shape[0], 1e-3
    sw = np.random.default_rng(6).uniform(0.5, 2.0, n) if weighted else None
    kw = dict(penalty="l2", alpha=alpha, tol=1e-10, max_iter=1000)
    est = MLELogisticRegression(solver="newton-cg", **kw).fit(X, y, sample_weight=sw)
    assert est.converged_
    dense = MLELogisticRegression(solver="newton-cg", **kw).fit(X.toarray(), y, sample_weight=sw)
    np.testing.assert_allclose(np.ravel(est.coef_), np.ravel(dense.coef_), rtol=1e-7, atol=1e-9)
    s = np.ones(n) if sw is None else sw
    ref = LogisticRegression(C=1.0 / (alpha * s.sum()), tol=1e-12, max_iter=100000).fit(X, y, sample_weight=s)

    def objective(w, b):
        raw = np.asarray(X @ np.ravel(w)) + b
        return float(s @ (np.logaddexp(0.0, raw) - y * raw)) / s.sum() + 0.5 * alpha * float(np.sum(w * w))

    F = objective(est.coef_, est.intercept_[0])
    F_ref = objective(ref.coef_, ref.intercept_[0])
    assert F <= F_ref + 1e-10 * abs(F_ref)


@pytest.mark.parametrize("loss", ["squared_hinge", "log_loss"])
def test_cd_from_kept_pass_matches_scipy_l_bfgs_b(loss):
    """Solver "cd" on CSR without sample weights reads the per-sample gradient and
    curvature of the objective's kept pass (no raw prediction carried): its elastic-net
    optimum against SciPy's L-BFGS-B on the split form w = u - v (u, v >= 0)."""
    from scipy.optimize import minimize

    X, y = _csr(n=2000, p=120, density=0.03, seed=7)
    alpha, rho = 2e-3, 0.7
    fi = loss == "log_loss"
    est = MLELogisticRegression(loss=loss, penalty="elasticnet", l1_ratio=rho, alpha=alpha, tol=1e-10,
                                max_iter=1000, solver="cd", fit_intercept=fi).fit(X, y)
    assert est.converged_
    obj = LinearObjective(get_loss(loss), X, y, None, fit_intercept=fi, l2_reg=alpha * (1 - rho))
    p = X.shape[1]

    def split(z):
        w = z[:p] - z[p:2 * p]
        return np.concatenate([w, z[2 * p:]])

    def fun(z):
        f, g = obj.value_grad(split(z))
        gz = np.concatenate([g[:p] + alpha * rho, -g[:p] + alpha * rho, g[p:]])
        return f + alpha * rho * float(z[:2 * p].sum()), gz

    bounds = [(0, None)] * (2 * p) + [(None, None)] * int(fi)
    res = minimize(fun, np.zeros(2 * p + fi), jac=True, method="L-BFGS-B", bounds=bounds,
                   options=dict(maxiter=20000, ftol=1e-15, gtol=1e-12))
    c = np.concatenate([np.ravel(est.coef_), np.atleast_1d(est.intercept_)]) if fi else np.ravel(est.coef_)
    F = obj.value(c) + alpha * rho * float(np.abs(c[:p]).sum())
    assert F <= res.fun + 1e-9 * abs(res.fun)
    np.testing.assert_allclose(c[:p], split(res.x)[:p], atol=2e-4)


def test_glm_cd_csc_without_delta_solves_the_same_model():
    """The kernel with a length-0 ``delta`` (zero on entry, not returned): the model's
    subgradient conditions (SciPy products) hold at its return, as with ``delta``."""
    from skloss._kernels._cd import glm_cd_csc

    X, Xc, ag, ah, w = _cd_model(8)
    n, p = X.shape
    z, db = w.copy(), np.zeros(1)
    l1, l2 = 2e-3, 1e-3
    ip, ix = Xc.indptr.view(np.uint32), Xc.indices.view(np.uint32)
    sweeps = glm_cd_csc(ip, ix, Xc.data, ag, ah, w, z, np.empty(0), np.ones(p), l1, l2, True, db,
                        np.ones(p + 1), 1e-13, 100000)
    assert 0 < sweeps < 100000
    delta = np.asarray(Xc @ (z - w)) + db[0]
    r = ag + ah * delta
    g = np.asarray(Xc.T @ r) + l2 * z
    viol = np.where(z != 0, np.abs(g + l1 * np.sign(z)), np.maximum(np.abs(g) - l1, 0.0))
    assert np.max(viol) <= 1e-9
    assert abs(r.sum()) <= 1e-10
    # the same model solved with delta: the same minimiser
    z2, db2, d2 = w.copy(), np.zeros(1), np.zeros(n)
    glm_cd_csc(ip, ix, Xc.data, ag, ah, w, z2, d2, np.ones(p), l1, l2, True, db2, np.ones(p + 1), 1e-13, 100000)
    np.testing.assert_allclose(z, z2, atol=1e-10)
    np.testing.assert_allclose(d2, delta, atol=1e-10)
