"""Many classes on few rows (load_diabetes's 214 integer targets): the NumPy softmax
pass's Hessian products and their diagonal against finite differences, and the
penalised fit against scikit-learn's optimum of the same objective."""

import warnings

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.special import log_softmax
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression

from skloss import MLELogisticRegression
from skloss.linear_model._objective import LinearObjective, _NumpyLogLoss
from skloss.losses import get_loss


def _objective(X, y, sw, fit_intercept, dtype=np.float64, eps=0.0, l2=0.02):
    loss = get_loss("log_loss", label_smoothing=eps)
    obj = LinearObjective(loss, X.astype(dtype), y.astype(dtype), sw, n_outputs=int(y.max()) + 1,
                          fit_intercept=fit_intercept, l2_reg=l2)
    assert isinstance(obj._lossfn, _NumpyLogLoss)  # (the NumPy pass is what is tested)
    return obj


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_twin_hessp_and_diagonal_match_finite_differences(weighted, fit_intercept, eps):
    rng = np.random.default_rng(11)
    n, p, k = 90, 3, 5
    X = rng.normal(size=(n, p))
    y = rng.integers(0, k, n).astype(float)
    sw = rng.uniform(0.2, 2.0, n) if weighted else None
    obj = _objective(X, y, sw, fit_intercept, eps=eps)
    c = 0.5 * rng.normal(size=obj.n_coef)
    # the Hessian by central differences of the gradient (an independent reference)
    H = np.column_stack([approx_fprime(c, lambda x, i=i: obj.value_grad(x)[1][i], 1e-7)
                         for i in range(obj.n_coef)]).T
    obj.value_grad(c + 1.0)  # (the last pass was elsewhere: the products must be c's)
    f, g, hessp = obj.hessp_factory(c)
    f_ref, g_ref = obj.value_grad(c)
    assert f == f_ref and np.array_equal(g, g_ref)
    for _ in range(3):
        v = rng.normal(size=obj.n_coef)
        np.testing.assert_allclose(hessp(v), H @ v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hessp.diagonal, np.diag(H), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hessp.diagonal, np.diag(obj.hessian(c)), rtol=1e-12, atol=1e-15)


def test_twin_hessp_float32():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(120, 4))
    y = rng.integers(0, 6, 120).astype(float)
    o64, o32 = _objective(X, y, None, True), _objective(X, y, None, True, dtype=np.float32)
    c = 0.3 * rng.normal(size=o64.n_coef)
    v = rng.normal(size=o64.n_coef)
    ref = o64.hessian(c) @ v
    out = o32.hessp_factory(c)[2](v)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def _penalised_objective(X, yi, W, b, l2):
    raw = X @ W.T + b
    return -np.mean(log_softmax(raw, axis=1)[np.arange(len(yi)), yi]) + 0.5 * l2 * np.sum(W * W)


def test_many_classes_penalised_reaches_sklearn_optimum():
    # alpha = 1 / n is LogisticRegression(C=1)'s objective (C = 1 / (alpha n)); the
    # reference is scikit-learn's lbfgs run far below its default tolerance
    X, y = load_diabetes(return_X_y=True)
    y = y.astype(int)
    n = len(y)
    _, yi = np.unique(y, return_inverse=True)
    ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=20000).fit(X, y)
    f_ref = _penalised_objective(X, yi, ref.coef_, ref.intercept_, 1.0 / n)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = MLELogisticRegression(penalty="l2", alpha=1.0 / n).fit(X, y)
    assert est.converged_
    f = _penalised_objective(X, yi, est.coef_, est.intercept_, 1.0 / n)
    assert f == pytest.approx(est.objective_, rel=1e-10)
    assert f <= f_ref * (1 + 1e-8)
    # the default LogisticRegression stops earlier (tol=1e-4): never better than this fit
    lr = LogisticRegression().fit(X, y)
    assert f <= _penalised_objective(X, yi, lr.coef_, lr.intercept_, 1.0 / n)


def _sep_data(separated):
    rng = np.random.default_rng(21)
    X = rng.normal(size=(300, 3))
    y = rng.integers(0, 3, 300)
    if separated:
        X[y == 2, 1] = 5.0 + rng.uniform(size=np.sum(y == 2))  # class 2 above a threshold on feature 1
    return X, y


def test_separated_class_certificate_is_a_descent_direction():
    from skloss.linear_model._logistic import SeparationWarning, _separated_class

    X, y = _sep_data(True)
    with pytest.warns(SeparationWarning, match="threshold separates that class"):
        est = MLELogisticRegression(max_iter=20).fit(X, y)
    obj = LinearObjective(get_loss("log_loss"), X, y.astype(float), n_outputs=3)
    assert "class index 2" in _separated_class(obj) and "feature 1" in _separated_class(obj)
    # the certified direction: class 2's weight on feature 1 up, its intercept down by the
    # threshold; every row's loss falls or stays (an independent check on the returned fit)
    t = X[y != 2, 1].max()
    coef = obj.pack(est.coef_, est.intercept_)
    d = np.zeros_like(coef)
    d[2 * 3 + 1] = 1.0
    d[3 * 3 + 2] = -t
    per0 = -log_softmax(X @ est.coef_.T + est.intercept_, axis=1)[np.arange(300), y]
    W1, b1 = obj.split(coef + d)
    per1 = -log_softmax(X @ W1.T + b1, axis=1)[np.arange(300), y]
    assert np.all(per1 <= per0 + 1e-15) and np.sum(per1) < np.sum(per0)


def test_no_certificate_where_the_mle_exists():
    from skloss.linear_model._logistic import _separated_class

    X, y = _sep_data(False)
    obj = LinearObjective(get_loss("log_loss"), X, y.astype(float), n_outputs=3)
    assert _separated_class(obj) == ""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = MLELogisticRegression().fit(X, y)  # (the optimum exists: no warning at all)
    assert est.converged_


def test_many_classes_certificate():
    from skloss.linear_model._logistic import _separated_class

    X, y = load_diabetes(return_X_y=True)
    _, yi = np.unique(y.astype(int), return_inverse=True)
    obj = LinearObjective(get_loss("log_loss"), X, yi.astype(float), n_outputs=yi.max() + 1)
    msg = _separated_class(obj)
    assert "threshold" in msg
    c, j = int(msg.split("class index ")[1].split()[0]), int(msg.split("feature ")[1].split(",")[0])
    inc = yi == c
    assert X[inc, j].min() >= X[~inc, j].max() or X[inc, j].max() <= X[~inc, j].min()


def test_short_passes_run_on_one_blas_thread():
    # many coefficients on few rows (a pass of 442 x 10 x 214 entries): one BLAS thread
    # inside the solver; a long pass keeps the default threads
    from threadpoolctl import threadpool_info

    from skloss.linear_model._solver_common import quiet_blas

    def threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    X, y = load_diabetes(return_X_y=True)
    _, yi = np.unique(y.astype(int), return_inverse=True)
    obj = LinearObjective(get_loss("log_loss"), X, yi.astype(float), n_outputs=yi.max() + 1)
    assert obj.n_coef > 1024
    before = threads()
    with quiet_blas(obj):
        assert all(t == 1 for t in threads())
    assert threads() == before
    big = LinearObjective(get_loss("squared_hinge"), np.zeros((2000, 1100)), np.zeros(2000))  # (2.2e6 entries)
    with quiet_blas(big):
        assert threads() == before


def _diabetes_classes():
    X, y = load_diabetes(return_X_y=True)
    return X, y.astype(int)


def test_certified_underdetermined_fit_stops_and_says_so():
    # 214 classes on 442 rows: 2,354 coefficients, and a class separated by a threshold
    # (certified before the solve): the budget of THRESHOLDS["separated_max_iter"] applies
    from skloss.linear_model._logistic import SeparationWarning
    from skloss.linear_model._solver_select import THRESHOLDS

    X, y = _diabetes_classes()
    budget = THRESHOLDS["separated_max_iter"]
    with pytest.warns(SeparationWarning, match=f"stopped after {budget} iterations"):
        est = MLELogisticRegression().fit(X, y)
    assert est.n_iter_ == budget and est.converged_
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
    # the fit made progress from the start (the class frequencies: intercept-only optimum)
    _, yi = np.unique(y, return_inverse=True)
    freq = np.bincount(yi) / len(yi)
    f_start = -np.mean(np.log(freq[yi]))
    f = _penalised_objective(X, yi, est.coef_, est.intercept_, 0.0)
    assert f == pytest.approx(est.objective_, rel=1e-10) and f < 0.5 * f_start
    # a smaller max_iter is the user's budget
    with pytest.warns(SeparationWarning, match="stopped after 5 iterations"):
        assert MLELogisticRegression(max_iter=5).fit(X, y).n_iter_ == 5


def test_no_budget_where_there_are_more_rows_than_coefficients(monkeypatch):
    # the separated 300-row problem (12 coefficients): the usual stopping rule, and the
    # warning names no early stop (a budget of 2 iterations would show)
    from skloss.linear_model._logistic import SeparationWarning
    from skloss.linear_model._solver_select import THRESHOLDS

    monkeypatch.setitem(THRESHOLDS, "separated_max_iter", 2)
    X, y = _sep_data(True)
    with pytest.warns(SeparationWarning) as record:
        est = MLELogisticRegression().fit(X, y)
    assert est.n_iter_ > 2
    assert not any("stopped after" in str(w.message) for w in record)
    Xd, yd = _diabetes_classes()
    with pytest.warns(SeparationWarning, match="stopped after 2 iterations"):
        assert MLELogisticRegression().fit(Xd, yd).n_iter_ == 2


def test_no_budget_without_a_certificate():
    # as many coefficients as rows, but every point carries every class: the optimum
    # exists (the class frequencies at each point, here uniform) and the fit converges
    # to it under the usual rule, without any warning
    rng = np.random.default_rng(5)
    pts = rng.normal(size=(4, 3))
    X = np.repeat(pts, 3, axis=0)
    y = np.tile(np.arange(3), 4)
    obj = LinearObjective(get_loss("log_loss"), X, y.astype(float), n_outputs=3)
    assert obj.n_coef >= obj.n_samples
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = MLELogisticRegression().fit(X, y)
    assert est.converged_
    np.testing.assert_allclose(est.predict_proba(X), 1.0 / 3.0, atol=1e-6)
