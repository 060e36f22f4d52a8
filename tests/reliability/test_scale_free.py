"""Scale-free stopping (issue 10 items 1, 2, 6): the unpenalised MLE does not depend
on the units of X or y, overflow gives the right answer or a clear error, tol=0 is
supported, and repeated fits are bit-identical.

References are independent of the scaling under test: the fit on the unscaled data
(the equivariance ``coef(c X) = coef(X) / c`` is a theorem of the unpenalised MLE),
and for the base fits statsmodels / scipy where noted.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification

from skloss.linear_model import MLELinearRegression, MLELogisticRegression
from skloss.linear_model._objective import LinearObjective
from skloss.linear_model._solvers import solve
from skloss.losses import get_loss

SCALES = [1e-9, 1e-6, 1e6, 1e9]


def _binary(n=400, p=4, seed=0):
    X, y = make_classification(n_samples=n, n_features=p, n_informative=3, n_redundant=0,
                               flip_y=0.2, class_sep=0.5, random_state=seed)
    return X, y


def _regression(loss, n=400, p=3, seed=1):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, p))
    eta = X @ np.array([0.4, -0.3, 0.2])[:p]
    if loss == "poisson":
        y = rng.poisson(np.exp(eta + 0.5)).astype(float)
    elif loss == "gamma":
        y = rng.gamma(2.0, np.exp(eta + 0.5) / 2.0)
    else:
        y = 3.0 * eta + 1.0 + rng.standard_t(4, size=n)
    return X, y


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return fn()


# ------------------------------------------------------------------ solvers
@pytest.mark.parametrize("solver", ["newton-cholesky", "newton-cg", "lbfgs", "prox-newton"])
@pytest.mark.parametrize("c", SCALES)
def test_every_solver_is_equivariant_to_the_units_of_x(solver, c):
    X, y = _binary()
    loss = get_loss("log_loss")
    base = solve(LinearObjective(loss, X, y.astype(float)), np.zeros(X.shape[1] + 1), solver, tol=1e-8,
                 max_iter=1000)
    obj = LinearObjective(loss, X * c, y.astype(float))
    res = _quiet(lambda: solve(obj, np.zeros(X.shape[1] + 1), solver, tol=1e-8, max_iter=1000))
    assert res.converged and base.converged
    assert res.n_iter > 0
    np.testing.assert_allclose(res.coef[:-1] * c, base.coef[:-1], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(res.coef[-1], base.coef[-1], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("c", SCALES)
def test_lbfgs_is_equivariant_to_the_units_of_y(c):
    X, y = _regression("squared_error")
    loss = get_loss("squared_error")
    base = solve(LinearObjective(loss, X, y), np.zeros(4), "lbfgs", tol=1e-8, max_iter=1000)
    res = _quiet(lambda: solve(LinearObjective(loss, X, y * c), np.zeros(4), "lbfgs", tol=1e-8, max_iter=1000))
    assert res.converged
    np.testing.assert_allclose(res.coef / c, base.coef, rtol=1e-6)


# --------------------------------------------------------------- estimators
@pytest.mark.parametrize("loss", ["log_loss", "probit"])
@pytest.mark.parametrize("c", SCALES)
def test_logistic_mle_is_equivariant(loss, c):
    X, y = _binary()
    base = MLELogisticRegression(loss=loss, cov_type=None).fit(X, y)
    est = _quiet(lambda: MLELogisticRegression(loss=loss, cov_type=None).fit(X * c, y))
    assert est.converged_ and est.n_iter_ > 0
    np.testing.assert_allclose(est.coef_ * c, base.coef_, rtol=1e-6)
    np.testing.assert_allclose(est.intercept_, base.intercept_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", ["squared_error", "huber", "poisson", "gamma"])
@pytest.mark.parametrize("c", SCALES)
def test_linear_mle_is_equivariant_to_the_units_of_x(loss, c):
    X, y = _regression(loss)
    base = MLELinearRegression(loss=loss, cov_type=None).fit(X, y)
    est = _quiet(lambda: MLELinearRegression(loss=loss, cov_type=None).fit(X * c, y))
    assert est.converged_
    np.testing.assert_allclose(est.coef_ * c, base.coef_, rtol=1e-6)
    np.testing.assert_allclose(est.intercept_, base.intercept_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", ["squared_error", "poisson", "gamma"])
@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("solver", ["auto", "lbfgs"])
def test_linear_mle_is_equivariant_to_the_units_of_y(loss, c, solver):
    # squared error: (w, b) -> c (w, b); log link: w unchanged, b -> b + log c
    X, y = _regression(loss)
    base = MLELinearRegression(loss=loss, solver=solver, cov_type=None).fit(X, y)
    est = _quiet(lambda: MLELinearRegression(loss=loss, solver=solver, cov_type=None).fit(X, y * c))
    assert est.converged_
    if loss == "squared_error":
        np.testing.assert_allclose(est.coef_ / c, base.coef_, rtol=1e-6)
        np.testing.assert_allclose(est.intercept_ / c, base.intercept_, rtol=1e-6)
    else:
        np.testing.assert_allclose(est.coef_, base.coef_, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(est.intercept_, base.intercept_ + np.log(c), rtol=1e-8, atol=1e-7)


# ------------------------------------------------------------------ overflow
@pytest.mark.parametrize("loss", ["squared_error", "huber", "poisson"])
def test_overflowing_x_gives_the_answer_or_a_clear_error(loss):
    X, y = _regression(loss)
    base = MLELinearRegression(loss=loss, cov_type=None).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            est = MLELinearRegression(loss=loss, cov_type=None).fit(X * 1e160, y)
        except ValueError as exc:
            assert "overflow" in str(exc) or "not finite" in str(exc)
            return
    np.testing.assert_allclose(est.coef_ * 1e160, base.coef_, rtol=1e-6)


def test_overflowing_y_gives_the_answer_or_a_clear_error():
    X, y = _regression("squared_error")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            est = MLELinearRegression().fit(X, y * 1e200)
        except ValueError as exc:
            assert "overflow" in str(exc) or "not finite" in str(exc)
            return
    assert np.all(np.isfinite(est.coef_))
    assert np.all(np.isfinite(est.bse_)), "standard errors must not silently be inf"


# ----------------------------------------------------------------------- tol=0
@pytest.mark.parametrize("loss", ["poisson", "gamma", "huber"])
def test_tol_zero_runs_to_machine_precision_linear(loss):
    X, y = _regression(loss)
    ref = MLELinearRegression(loss=loss, tol=1e-10, cov_type=None).fit(X, y)
    est = MLELinearRegression(loss=loss, tol=0, cov_type=None).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-8)


def test_tol_zero_runs_to_machine_precision_logistic():
    X, y = _binary()
    est = MLELogisticRegression(tol=0, cov_type=None).fit(X, y)
    ref = MLELogisticRegression(tol=1e-12, cov_type=None).fit(X, y)
    assert est.converged_
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9)


def test_lbfgs_warning_does_not_blame_max_iter_when_it_stopped_early():
    X, y = _binary()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = MLELogisticRegression(solver="lbfgs", tol=0, max_iter=1000, cov_type=None).fit(X, y)
    assert est.n_iter_ < 1000
    for w in caught:
        assert "in max_iter" not in str(w.message), str(w.message)


# --------------------------------------------------------------- determinism
@pytest.mark.parametrize("k", [2, 3])
def test_repeated_fits_are_bit_identical(k):
    # large enough for the subsampled Hessians and the presolve (the paths whose choice
    # used to depend on measured times)
    X, y = make_classification(n_samples=90000, n_features=12, n_informative=6, n_classes=k,
                               random_state=0)
    X = X.astype(np.float64)
    first = MLELogisticRegression(cov_type=None).fit(X, y)
    for _ in range(24):
        again = MLELogisticRegression(cov_type=None).fit(X, y)
        assert np.array_equal(again.coef_, first.coef_)
        assert np.array_equal(again.intercept_, first.intercept_)
