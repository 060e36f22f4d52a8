"""The per-fit shortcuts of issue 13's small fits, each against an independent
reference: the covariance and the Wald table of binary and multinomial fits against
statsmodels, the mirrored Cholesky inverse and the tiled softmax Grams against the
explicit formulas they replace (same bits), the per-class answer of
``fused_linear_kernel`` against the rule it caches, the one-thread BLAS block against
threadpoolctl's own report, and the validation and state guarantees a repeated fit
keeps (invalid parameters raise, a failed refit leaves the fitted estimator as it
was)."""

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.linalg import lapack
from sklearn.utils._param_validation import InvalidParameterError

from skloss import MLELinearRegression, MLELogisticRegression
from skloss.linear_model._base import _display_order
from skloss.linear_model._inference import _cholesky_inv
from skloss.linear_model._lstsq import weighted_gram, weighted_gram_columns
from skloss.linear_model._solver_common import _threadpool_controller, single_thread_blas
from skloss.losses import LogLoss, get_loss
from test_small_overhead import _binary, _multiclass  # (the same data makers)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_binary_inference_matches_statsmodels_logit(cov_type):
    X, y = _binary(2000, 6, 0)
    est = MLELogisticRegression(cov_type=cov_type).fit(X, y)
    ref = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, disp=0, cov_type=cov_type)
    # display order: intercept, then the features
    assert est.param_names_ == ["intercept"] + [f"x{j}" for j in range(6)]
    np.testing.assert_allclose(est.params_, ref.params, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(est.covariance_, np.asarray(ref.cov_params()), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(est.bse_, ref.bse, rtol=1e-6)
    assert est.loglik_ == pytest.approx(ref.llf, rel=1e-10)
    # the covariance is exactly symmetric and C-ordered
    assert np.array_equal(est.covariance_, est.covariance_.T)
    assert est.covariance_.flags.c_contiguous


def test_multinomial_inference_matches_statsmodels_mnlogit():
    X, y = _multiclass(2000, 4, 4, 1)
    est = MLELogisticRegression().fit(X, y)
    ref = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, disp=0)
    # statsmodels: classes 1..K-1 against class 0, per class intercept then features
    np.testing.assert_allclose(est.params_, np.asarray(ref.params).T.ravel(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(est.covariance_, np.asarray(ref.cov_params()), rtol=1e-5, atol=1e-10)
    names = [f"{c}: {n}" for c in ("1.0", "2.0", "3.0") for n in ["intercept"] + [f"x{j}" for j in range(4)]]
    assert est.param_names_ == names
    assert est.loglik_ == pytest.approx(ref.llf, rel=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_display_order_matches_its_explicit_construction(fit_intercept):
    p, K = 3, 4
    packed = [f"w{k}{j}" for k in range(K) for j in range(p)] + ([f"b{k}" for k in range(K)] if fit_intercept else [])
    display = [name for k in range(K) for name in ([f"b{k}"] if fit_intercept else []) + [f"w{k}{j}" for j in range(p)]]
    drop = np.zeros(len(packed), dtype=bool)
    drop[:p] = True  # a reference class's coefficients
    for d in (None, drop):
        order, perm = _display_order(p, K, fit_intercept, d)
        kept = [n for i, n in enumerate(packed) if d is None or not d[i]]
        expected = [n for n in display if n in kept]
        assert [packed[i] for i in perm] == expected
        assert [kept[i] for i in order] == expected
        assert not perm.flags.writeable  # (kept per layout: nobody may change it)


@pytest.mark.parametrize("n", [1, 2, 7, 26, 60])
def test_cholesky_inverse_is_the_mirrored_upper_triangle(n):
    rng = np.random.default_rng(n)
    M = rng.standard_normal((3 * n, n))
    A = M.T @ M
    inv = _cholesky_inv(A)
    np.testing.assert_allclose(inv @ A, np.eye(n), atol=1e-9)
    # the explicit formula it replaces, bit for bit (LAPACK's upper triangle mirrored)
    c, _ = lapack.dpotrf(A, lower=0, clean=1)
    up, _ = lapack.dpotri(c, lower=0)
    ref = np.triu(up)
    ref += np.triu(ref, 1).T
    assert inv.tobytes() == ref.tobytes() and inv.flags.c_contiguous
    # a singular matrix: None (the caller falls back)
    assert _cholesky_inv(np.ones((3, 3))) is None


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gram_columns_equal_one_weighted_gram_each_and_numpy(fit_intercept, dtype):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((700, 5)).astype(dtype)
    W = rng.uniform(0.0, 1.0, (700, 4))
    negative = np.array([False, True, False, True])
    W[:, negative] *= -1.0
    m = 5 + fit_intercept
    ia, ib = np.triu_indices(m)
    out = weighted_gram_columns(X, W, negative, fit_intercept, ia, ib)
    Xa = np.column_stack([X.astype(np.float64), np.ones(700)]) if fit_intercept else X.astype(np.float64)
    for k in range(4):
        sign = -1.0 if negative[k] else 1.0
        G = weighted_gram(X, sign * W[:, k], fit_intercept, dtype=np.float64)
        assert (sign * G[ia, ib]).tobytes() == out[k].tobytes()  # (the per-column route, bit for bit)
        np.testing.assert_allclose(out[k], (Xa.T @ (W[:, k, None] * Xa))[ia, ib], rtol=1e-12, atol=1e-12)
    # a weight of the wrong sign: None (the caller takes the product route)
    assert weighted_gram_columns(X, W, ~negative, fit_intercept, ia, ib) is None
    # a layout the tiles do not take: weighted_gram's own route for it, column by column
    XF = np.asfortranarray(X)
    outF = weighted_gram_columns(XF, W, negative, fit_intercept, ia, ib)
    for k in range(4):
        sign = -1.0 if negative[k] else 1.0
        assert (sign * weighted_gram(XF, sign * W[:, k], fit_intercept)[ia, ib]).tobytes() == outF[k].tobytes()
    np.testing.assert_allclose(outF, out, rtol=1e-12, atol=1e-11)


def test_fused_kernel_answer_is_per_class():
    loss = get_loss("log_loss")
    assert loss.fused_linear_kernel() == "log_loss_linear"

    class Overriding(LogLoss):
        def _evaluate(self, *args, **kwargs):
            return super()._evaluate(*args, **kwargs)

    class Plain(LogLoss):
        pass

    # asked after the base class's answer was kept: the subclass's own rule applies
    assert Overriding().fused_linear_kernel() is None
    assert Overriding().fused_linear_kernel(multiclass=True) is None
    assert Plain().fused_linear_kernel() == "log_loss_linear"
    assert get_loss("huber").fused_linear_kernel() is None


def _blas_threads():
    return [lib.num_threads for lib in _threadpool_controller().lib_controllers if lib.user_api == "blas"]


def test_single_thread_blas_sets_and_restores_the_blas_threads():
    before = _blas_threads()
    with single_thread_blas():
        assert all(n == 1 for n in _blas_threads())
        with single_thread_blas():  # (nested: no change)
            assert all(n == 1 for n in _blas_threads())
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before
    with pytest.raises(KeyError):
        with single_thread_blas():
            raise KeyError("inside")
    assert _blas_threads() == before


def test_invalid_parameters_raise_after_valid_fits_and_leave_the_fit_unchanged():
    X, y = _binary(200, 3, 4)
    est = MLELogisticRegression(penalty="l2", alpha=0.1).fit(X, y)
    coef, cov = est.coef_.copy(), est.covariance_
    for bad in ({"alpha": -1.0}, {"max_iter": 0}, {"penalty": "l3"}, {"fit_intercept": "yes"},
                {"max_iter": 2.5}, {"tol": float("nan")}):
        est.set_params(**bad)
        with pytest.raises(InvalidParameterError):
            est.fit(X, y)
        assert np.array_equal(est.coef_, coef) and est.covariance_ is cov
        est.set_params(penalty="l2", alpha=0.1, max_iter=100, fit_intercept=True, tol=1e-8)
    # a value equal (and hashing equal) to one that passed, of another type, is checked
    # again: 1 is not a boolean fit_intercept, though True passed
    reg = MLELinearRegression(fit_intercept=True).fit(X, y)
    reg.set_params(fit_intercept=1)
    with pytest.raises(InvalidParameterError, match="fit_intercept"):
        reg.fit(X, y)
    assert reg.fit_intercept == 1 and reg.n_features_in_ == 3


def test_failed_refit_restores_arrays_changed_in_place():
    X, y = _binary(300, 4, 5)
    est = MLELogisticRegression(penalty="l2", alpha=0.01).fit(X, y)
    coef, coef_copy = est.coef_, est.coef_.copy()
    cov, cov_copy = est.covariance_, est.covariance_.copy()
    names = list(est.param_names_)
    original = MLELogisticRegression._likelihood_inference

    loss = est.loss_

    def broken(self, *args, **kwargs):
        self.coef_[...] = 7.0  # (in-place changes before the failure)
        self.covariance_[0, 0] = -1.0
        self.param_names_.append("junk")
        loss.label_smoothing = 0.25
        raise RuntimeError("interrupted")

    MLELogisticRegression._likelihood_inference = broken
    try:
        with pytest.raises(RuntimeError, match="interrupted"):
            est.fit(X[:200], y[:200])
    finally:
        MLELogisticRegression._likelihood_inference = original
    assert est.coef_ is coef and np.array_equal(coef, coef_copy)
    assert est.covariance_ is cov and np.array_equal(cov, cov_copy)
    assert est.param_names_ == names and est.n_features_in_ == 4
    assert est.loss_ is loss and loss.label_smoothing == 0.0 and loss.get_params() == {"label_smoothing": 0.0}
    # and a refit that succeeds gives the fit of a fresh estimator
    again = est.fit(X[:200], y[:200])
    fresh = MLELogisticRegression(penalty="l2", alpha=0.01).fit(X[:200], y[:200])
    assert np.array_equal(again.coef_, fresh.coef_) and np.array_equal(again.covariance_, fresh.covariance_)
