"""The small-fit shortcuts of the binary log loss's NumPy twin (one evaluation per
point, reused by the problem scale, the Newton solver's first call and proximal
Newton's Hessian) and of the multinomial report (the solver's objective at the
centred coefficients), each against an independent computation: closed-form
sigmoid gradients, finite differences, scipy.optimize on the same objective,
scikit-learn and statsmodels."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logsumexp
from sklearn.linear_model import LogisticRegression

from skloss import MLELogisticRegression
from skloss.linear_model._objective import LinearObjective
from skloss.linear_model._solver_common import ProblemScale
from skloss.losses import get_loss


def _binary(n, p, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (X @ rng.standard_normal(p) + rng.logistic(size=n) > 0).astype(float)
    return X, y


def _multiclass(n, p, k, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = np.argmax(X @ rng.standard_normal((p, k)) + rng.gumbel(size=(n, k)), axis=1).astype(float)
    return X, y


def _binary_objective(X, y, sw, l2, c):
    """The mean log loss plus l2 / 2 ||w||^2 in closed form (scipy's log_expit)."""
    raw = X @ c[:-1] + c[-1]
    per = -(y * log_expit(raw) + (1 - y) * log_expit(-raw))
    s = np.ones(y.size) if sw is None else sw
    return float(s @ per / s.sum() + 0.5 * l2 * c[:-1] @ c[:-1])


@pytest.mark.parametrize("weighted", [False, True])
def test_twin_pass_value_gradient_and_kept_terms_match_closed_forms(weighted):
    X, y = _binary(300, 6, 0)
    sw = np.random.default_rng(1).uniform(0.3, 2.0, y.size) if weighted else None
    obj = LinearObjective(get_loss("log_loss"), X, y, sw, l2_reg=0.01)
    assert obj._twin_binary
    c = np.random.default_rng(2).standard_normal(obj.n_coef) * 0.5
    f, g = obj.value_grad(c)
    raw = X @ c[:-1] + c[-1]
    resid = expit(raw) - y  # per-sample gradient of the log loss
    s = np.ones(y.size) if sw is None else sw
    g_ref = np.r_[X.T @ (s * resid), s @ resid] / s.sum()
    g_ref[:-1] += 0.01 * c[:-1]
    assert f == pytest.approx(_binary_objective(X, y, sw, 0.01, c), rel=1e-13)
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-15)
    # the per-sample gradients kept for the scale and the score Gram are unweighted
    np.testing.assert_allclose(obj._last_grad[1], resid, rtol=1e-12, atol=1e-15)
    # a second evaluation at the same point returns the same numbers (and copies)
    f2, g2, H = obj.value_grad_hessian(c)
    assert f2 == f and np.array_equal(g2, g)
    g2[0] += 1.0
    assert np.array_equal(obj.value_grad(c)[1], g)
    # the Hessian from the kept curvature against finite differences of the gradient
    Hm = H()
    e = 1e-6
    fd = np.array([(obj.value_grad(c + e * np.eye(c.size)[i])[1] - obj.value_grad(c - e * np.eye(c.size)[i])[1])
                   / (2 * e) for i in range(c.size)])
    assert np.max(np.abs(Hm - 0.5 * (fd + fd.T))) <= 1e-6 * np.max(np.abs(fd))
    # ... and obj.hessian after value_grad at another point (proximal Newton's order)
    c2 = c * 0.3
    obj.value_grad(c2)
    r2 = X @ c2[:-1] + c2[-1]
    h2 = s * expit(r2) * expit(-r2)
    Xt = np.c_[X, np.ones(y.size)]
    H2 = Xt.T @ (h2[:, None] * Xt) / s.sum()
    H2[np.arange(6), np.arange(6)] += 0.01
    np.testing.assert_allclose(obj.hessian(c2), H2, rtol=1e-12, atol=1e-14)


def test_problem_scale_from_the_twin_pass_matches_its_definition():
    X, y = _binary(400, 5, 3)
    obj = LinearObjective(get_loss("log_loss"), X, y, None)
    c0 = np.r_[np.zeros(5), np.log(y.mean() / (1 - y.mean()))]
    sc = ProblemScale(obj, c0)
    resid = expit(X @ c0[:-1] + c0[-1]) - y
    assert sc.g0 == pytest.approx(np.sqrt(np.mean(resid ** 2)), rel=1e-13)
    np.testing.assert_allclose(sc.col, np.r_[np.sqrt(np.mean(X ** 2, axis=0)), 1.0], rtol=1e-13)


@pytest.mark.parametrize("penalty, l1_ratio", [("l1", 1.0), ("elasticnet", 0.5)])
def test_binary_l1_fit_reaches_the_scipy_optimum(penalty, l1_ratio):
    # proximal Newton on the twin's single pass per point, against L-BFGS-B on the
    # split-variable form of the same objective (w = u - v, u, v >= 0)
    X, y = _binary(500, 6, 4)
    X[:, 0] *= 5.0
    alpha = 0.02
    est = MLELogisticRegression(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, tol=1e-8).fit(X, y)
    p = X.shape[1]

    def fun(z):
        u, v, b = z[:p], z[p:2 * p], z[-1]
        w = u - v
        raw = X @ w + b
        per = -(y * log_expit(raw) + (1 - y) * log_expit(-raw))
        resid = expit(raw) - y
        gw = X.T @ resid / y.size + alpha * (1 - l1_ratio) * w
        f = per.mean() + alpha * (l1_ratio * (u + v).sum() + (1 - l1_ratio) / 2 * w @ w)
        return f, np.r_[gw + alpha * l1_ratio, -gw + alpha * l1_ratio, resid.mean()]

    res = minimize(fun, np.zeros(2 * p + 1), jac=True, method="L-BFGS-B",
                   bounds=[(0, None)] * (2 * p) + [(None, None)], options={"ftol": 1e-15, "gtol": 1e-12,
                                                                         "maxiter": 10000})
    assert est.converged_
    assert est.objective_ <= res.fun + 1e-12
    assert est.objective_ == pytest.approx(res.fun, rel=1e-9)
    w_ref = res.x[:p] - res.x[p:2 * p]
    np.testing.assert_allclose(est.coef_.ravel(), w_ref, atol=2e-4)


def test_binary_fit_and_standard_errors_match_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    X, y = _binary(2000, 25, 5)
    est = MLELogisticRegression(tol=1e-10).fit(X, y)
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    np.testing.assert_allclose(est.params_, ref.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(est.bse_, ref.bse, rtol=1e-6)
    assert est.loglik_ == pytest.approx(ref.llf, rel=1e-12)


@pytest.mark.parametrize("penalty", [None, "l2"])
def test_multinomial_objective_is_the_objective_at_the_reported_coefficients(penalty):
    # the objective reported at the centred coefficients equals a direct evaluation there
    X, y = _multiclass(600, 5, 4, 6)
    alpha = 0.01 if penalty else 0.0
    est = MLELogisticRegression(penalty=penalty, alpha=alpha, tol=1e-10).fit(X, y)
    raw = X @ est.coef_.T + est.intercept_
    per = logsumexp(raw, axis=1) - raw[np.arange(y.size), y.astype(int)]
    direct = per.mean() + 0.5 * alpha * float(np.sum(est.coef_ ** 2))
    assert est.objective_ == pytest.approx(direct, rel=1e-13)
    assert np.allclose(est.intercept_.sum(), 0.0, atol=1e-10)
    # and the optimum is scikit-learn's (C = 1 / (alpha n); C = inf without a penalty)
    C = np.inf if penalty is None else 1.0 / (alpha * y.size)
    sk = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(X, y)
    raw = X @ sk.coef_.T + sk.intercept_
    per = logsumexp(raw, axis=1) - raw[np.arange(y.size), y.astype(int)]
    f_sk = per.mean() + 0.5 * alpha * float(np.sum(sk.coef_ ** 2))
    assert est.objective_ <= f_sk + 1e-12


@pytest.mark.parametrize("k, weighted, fit_intercept", [(3, False, True), (5, True, True), (6, False, False)])
def test_softmax_hessian_by_tiles_matches_the_row_product_route_and_numpy(k, weighted, fit_intercept, monkeypatch):
    # the tiled weighted Grams (few classes) against the product with the row-product matrix
    # and a direct NumPy sum over the rows of s_i (diag(p_i) - p_i p_i^T) (x) x~_i x~_i^T
    import skloss.linear_model._objective as O

    rng = np.random.default_rng(k)
    X, y = _multiclass(200, 4, k, k)
    sw = rng.uniform(0.2, 2.0, y.size) if weighted else None
    c = rng.standard_normal((4 + fit_intercept) * k) * 0.5
    Hs = []
    for pairs in (O.SOFTMAX_TILE_PAIRS, 0):
        monkeypatch.setattr(O, "SOFTMAX_TILE_PAIRS", pairs)
        obj = LinearObjective(get_loss("log_loss"), X, y, sw, n_outputs=k, l2_reg=0.03,
                              fit_intercept=fit_intercept)
        obj.value_grad(c)
        Hs.append(obj.hessian(c))
    tiles, rows = Hs
    W, b = c[:4 * k].reshape(k, 4), (c[4 * k:] if fit_intercept else np.zeros(k))
    raw = X @ W.T + b
    P = np.exp(raw - logsumexp(raw, axis=1, keepdims=True))
    s = np.ones(y.size) if sw is None else sw
    q = 4 + fit_intercept
    Hb = np.zeros((k * q, k * q))  # class blocks: class k's features then its intercept
    for i in range(y.size):
        xt = np.r_[X[i], 1.0][:q]
        Hb += s[i] * np.kron(np.diag(P[i]) - np.outer(P[i], P[i]), np.outer(xt, xt))
    order = np.r_[(np.arange(k)[:, None] * q + np.arange(4)).ravel(), (np.arange(k) * q + 4) if fit_intercept else []]
    ref = Hb[np.ix_(order.astype(int), order.astype(int))] / s.sum()
    ref[np.arange(4 * k), np.arange(4 * k)] += 0.03
    np.testing.assert_allclose(tiles, ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(rows, ref, rtol=1e-10, atol=1e-13)
    assert np.array_equal(tiles, tiles.T)


def test_softmax_hessian_on_many_rows_takes_the_tiles_and_matches_the_syrk_form(monkeypatch):
    # beyond the rows of the product with R: tiles for few classes, the syrk form otherwise
    import skloss.linear_model._objective as O

    monkeypatch.setattr(O, "_PARALLEL_WORK", 1000)  # (so that 400 rows count as many)
    X, y = _multiclass(400, 5, 4, 9)
    sw = np.random.default_rng(2).uniform(0.5, 1.5, y.size)
    c = np.random.default_rng(3).standard_normal(24) * 0.4
    Hs = []
    for pairs in (O.SOFTMAX_TILE_PAIRS, 0):
        monkeypatch.setattr(O, "SOFTMAX_TILE_PAIRS", pairs)
        obj = LinearObjective(get_loss("log_loss"), X, y, sw, n_outputs=4, l2_reg=0.01)
        assert obj._tiled_softmax_blocks() == (pairs > 0)
        obj.value_grad(c)
        Hs.append(obj.hessian(c))
    np.testing.assert_allclose(Hs[0], Hs[1], rtol=1e-11, atol=1e-14)
    e = 1e-6
    fd = np.array([(obj.value_grad(c + e * np.eye(24)[i])[1] - obj.value_grad(c - e * np.eye(24)[i])[1]) / (2 * e)
                   for i in range(24)])
    assert np.max(np.abs(Hs[0] - 0.5 * (fd + fd.T))) <= 1e-6 * np.max(np.abs(fd))


def test_float32_multinomial_fit_matches_float64_with_tiled_hessian():
    # float32 X: the tiled blocks take float64 products, so the covariance agrees with the
    # float64 fit to float32 rounding of the data (statsmodels-free: the float64 fit is the reference)
    X, y = _multiclass(500, 4, 3, 11)
    a = MLELogisticRegression(tol=1e-10).fit(X, y)
    b = MLELogisticRegression(tol=1e-10).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(b.bse_, a.bse_, rtol=1e-4)
    np.testing.assert_allclose(b.params_, a.params_, rtol=1e-4, atol=1e-5)
