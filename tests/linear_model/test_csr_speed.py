"""The column coordinate descent's fast path on CSR input (solver ``"cd"``, issue 13):
optimum against scikit-learn, dense against CSR, the kernel's model and its ``delta``
against NumPy / SciPy, and bit-identical refits."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from skloss import MLELogisticRegression


def _csr(n=5000, p=500, density=0.01, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=seed, dtype=np.float64)
    X.data = rng.standard_normal(X.data.size)
    w = rng.standard_normal(p) * (rng.random(p) < 0.5) / np.sqrt(p * density)
    y = (np.asarray(X @ w) + rng.logistic(size=n) > 0).astype(np.float64)
    return X, y


def _sq_hinge_objective(X, y, coef, alpha):
    m = (2.0 * y - 1.0) * np.asarray(X @ coef)
    return float(np.mean(np.maximum(0.0, 1.0 - m) ** 2)) + alpha * float(np.abs(coef).sum())


def test_squared_hinge_l1_csr_matches_linear_svc():
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    X, y = _csr()
    n, alpha = X.shape[0], 1e-3
    est = MLELogisticRegression(loss="squared_hinge", penalty="l1", alpha=alpha, tol=1e-8, max_iter=1000,
                                fit_intercept=False).fit(X, y)
    assert est.converged_
    with warnings.catch_warnings():
        # (liblinear's own iteration cap at a tight tol: its coefficients are still the reference)
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = LinearSVC(penalty="l1", loss="squared_hinge", dual=False, C=1.0 / (alpha * n), fit_intercept=False,
                        tol=1e-10, max_iter=100000).fit(X, y)
    F = _sq_hinge_objective(X, y, np.ravel(est.coef_), alpha)
    F_ref = _sq_hinge_objective(X, y, ref.coef_.ravel(), alpha)
    assert F <= F_ref + 1e-8 * abs(F_ref)
    assert 0 < np.count_nonzero(est.coef_) < X.shape[1]  # (the L1 term is active)


@pytest.mark.parametrize("loss", ["log_loss", "squared_hinge"])
def test_cd_dense_and_csr_same_optimum(loss):
    X, y = _csr(n=2000, p=200, density=0.02, seed=1)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0])
    kw = dict(loss=loss, penalty="elasticnet", l1_ratio=0.7, alpha=2e-3, tol=1e-10, max_iter=1000,
              solver="cd", fit_intercept=loss == "log_loss")
    a = MLELogisticRegression(**kw).fit(X, y, sample_weight=sw)
    b = MLELogisticRegression(**kw).fit(X.toarray(), y, sample_weight=sw)
    assert a.converged_ and b.converged_
    np.testing.assert_allclose(np.ravel(a.coef_), np.ravel(b.coef_), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-6, atol=1e-8)


def test_cd_csr_refit_bit_identical():
    X, y = _csr(n=3000, p=300, density=0.01, seed=3)
    kw = dict(loss="squared_hinge", penalty="l1", alpha=1e-3, tol=1e-6, fit_intercept=False)
    a = MLELogisticRegression(**kw).fit(X, y)
    b = MLELogisticRegression(**kw).fit(X, y)
    assert np.array_equal(np.ravel(a.coef_), np.ravel(b.coef_))


def _cd_model(seed, zero_rows=False):
    """A proximal-Newton model for glm_cd_csc: CSR X, its sorted CSC copy, per-sample
    gradient and curvature (zero on a fifth of the rows with ``zero_rows``, as the
    squared hinge's) and a sparse start ``w``."""
    rng = np.random.default_rng(seed)
    X, _ = _csr(n=1500, p=120, density=0.03, seed=seed)
    Xc = X.tocsc()
    Xc.sort_indices()
    n, p = X.shape
    ag = rng.standard_normal(n) / n
    ah = rng.uniform(0.0, 2.0, n) / n
    if zero_rows:
        ah[rng.random(n) < 0.2] = 0.0
    w = rng.standard_normal(p) * (rng.random(p) < 0.3)
    return X, Xc, ag, ah, w


def test_glm_cd_csc_kernel_model_optimum_and_delta():
    """The kernel minimises its proximal-Newton model: at its return every coordinate
    satisfies the model's subgradient condition (computed here with SciPy products), and
    ``delta`` equals ``X (z - w) + db``."""
    from skloss._kernels._cd import glm_cd_csc

    X, Xc, ag, ah, w = _cd_model(4, zero_rows=True)
    n, p = X.shape
    z, delta, db = w.copy(), np.zeros(n), np.zeros(1)
    l1, l2 = 2e-3, 1e-3
    sweeps = glm_cd_csc(Xc.indptr, Xc.indices, Xc.data, ag, ah, w, z, delta, np.ones(p), l1, l2, True, db,
                        np.ones(p + 1), 1e-13, 100000)
    assert 0 < sweeps < 100000
    np.testing.assert_allclose(delta, X @ (z - w) + db[0], rtol=1e-12, atol=1e-13)
    r = ag + ah * delta  # the model's gradient in raw
    g = np.asarray(Xc.T @ r) + l2 * z
    viol = np.where(z != 0, np.abs(g + l1 * np.sign(z)), np.maximum(np.abs(g) - l1, 0.0))
    scale = np.sqrt(np.asarray(Xc.multiply(Xc).T @ ah)) * np.sqrt(np.abs(ag).sum()) + 1e-300
    assert np.max(viol) <= 1e-9 * max(1.0, np.max(scale))
    assert abs(r.sum()) <= 1e-10
