"""Non-smooth losses without declared pieces: the Moreau-smoothing solver, and the
cost-model selection (deterministic, capability-driven)."""

import warnings

import numpy as np
import pytest
from scipy.optimize import linprog
from sklearn.datasets import load_diabetes, make_classification

from skloss.linear_model import MLELinearRegression, MLELogisticRegression
from skloss.linear_model._objective import LinearObjective
from skloss.linear_model._solver_select import THRESHOLDS, estimate_costs, resolve_solver
from skloss.linear_model._solvers import solve
from skloss.losses import get_loss, make_loss


def _abs(y, r):
    return abs(y - r)


def _abs_grad(y, r):
    return 1.0 if r > y else (-1.0 if r < y else 0.0)


def _hinge(y, r):
    return max(0.0, 1.0 - (2.0 * y - 1.0) * r)


def _hinge_grad(y, r):
    z = 2.0 * y - 1.0
    return -z if 1.0 - z * r > 0.0 else 0.0


def _lad_lp(X, y, l1):
    """min mean|y - X w - b| + l1 |w|_1 as a linear programme (scipy HiGHS)."""
    n, p = X.shape
    # variables: w+ (p), w- (p), b+ b- (2), e+ (n), e- (n)
    c = np.r_[np.full(2 * p, l1), 0.0, 0.0, np.full(2 * n, 1.0 / n)]
    A = np.hstack([X, -X, np.ones((n, 1)), -np.ones((n, 1)), np.eye(n), -np.eye(n)])
    res = linprog(c, A_eq=A, b_eq=y, bounds=[(0, None)] * c.size, method="highs")
    return res.fun


def _data(n=300, p=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, p))
    y = X @ rng.normal(size=p) + 0.5 + rng.standard_t(3, size=n)
    return X, y


@pytest.mark.parametrize("penalty, alpha", [(None, 0.0), ("l2", 0.05), ("l1", 0.02)])
def test_custom_absolute_error_reaches_the_exact_optimum(penalty, alpha):
    X, y = _data()
    custom = make_loss(_abs, _abs_grad, name="my_abs", is_smooth=False)
    est = MLELinearRegression(loss=custom, penalty=penalty, alpha=alpha, cov_type=None).fit(X, y)
    ref = MLELinearRegression(loss="absolute_error", penalty=penalty, alpha=alpha, cov_type=None).fit(X, y)
    assert est.solver_ == "smoothing"
    assert est.converged_
    # the exact optimum (the built-in twin's exact solver) and, without L2, an independent LP
    assert est.objective_ == pytest.approx(ref.objective_, abs=1e-4)
    assert est.objective_ >= ref.objective_ - 1e-10
    if penalty != "l2":
        assert est.objective_ == pytest.approx(_lad_lp(X, y, alpha), abs=1e-4)


def test_custom_hinge_reaches_the_exact_optimum():
    X, y = make_classification(n_samples=300, n_features=5, flip_y=0.1, random_state=0)
    custom = make_loss(_hinge, _hinge_grad, name="my_hinge", is_smooth=False, task="classification")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLELogisticRegression(loss=custom, penalty="l2", alpha=0.01, max_iter=2000, cov_type=None).fit(X, y)
        ref = MLELogisticRegression(loss="hinge", penalty="l2", alpha=0.01, cov_type=None).fit(X, y)
    assert est.objective_ == pytest.approx(ref.objective_, abs=1e-4)


def test_smoothing_reports_honestly():
    X, y = _data()
    obj = LinearObjective(make_loss(_abs, _abs_grad, name="my_abs", is_smooth=False), X, y)
    c0 = np.zeros(obj.n_coef)
    short = solve(obj, c0, "smoothing", tol=1e-8, max_iter=3)
    assert not short.converged and short.optimality > 1e-7
    full = solve(obj, c0, "smoothing", tol=1e-8, max_iter=1000)
    assert full.converged and full.optimality <= 1e-7
    assert full.objective == pytest.approx(obj.total_value(full.coef), rel=1e-12)


def test_nonsmooth_loss_never_raises_no_exact_solver():
    custom = make_loss(_abs, _abs_grad, name="my_abs", is_smooth=False)
    assert resolve_solver("auto", custom) == "smoothing"
    assert resolve_solver("auto", custom, l1_reg=0.1) == "smoothing"
    assert resolve_solver("auto", get_loss("absolute_error")) == "highs"
    with pytest.raises(ValueError, match="smooth"):
        resolve_solver("smoothing", get_loss("log_loss"))


# ------------------------------------------------------------------ cost model
def test_cost_model_picks_a_first_order_method_for_many_classes():
    # 214 classes x 10 features: a dense Newton on 2,354 coefficients costs far more
    # than first-order passes over a 442-row data set
    costs = estimate_costs(n_samples=442, n_features=10, n_outputs=214, n_coef=214 * 11)
    assert min(costs, key=costs.get) != "newton-cholesky"
    assert costs["newton-cholesky"] > 5 * min(costs.values())
    X, y = load_diabetes(return_X_y=True)
    obj = LinearObjective(get_loss("log_loss"), X, np.unique(y, return_inverse=True)[1].astype(float),
                          n_outputs=214)
    chosen = resolve_solver("auto", obj.loss, n_outputs=214, n_coef=obj.n_coef, n_samples=442, n_features=10)
    assert chosen in ("lbfgs", "newton-cg")


def test_cost_model_keeps_newton_cholesky_for_tall_problems():
    assert resolve_solver("auto", get_loss("log_loss"), n_coef=101, n_samples=200_000, n_features=100) \
        == "newton-cholesky"
    assert resolve_solver("auto", get_loss("log_loss"), n_outputs=10, n_coef=510, n_samples=100_000,
                          n_features=50) == "newton-cholesky"
    # beyond the dense-Hessian limit: products only
    n = THRESHOLDS["max_dense_hessian"] + 1
    assert resolve_solver("auto", get_loss("log_loss"), n_coef=n, n_samples=100 * n, n_features=n - 1,
                          sparse=True, nnz=50 * 100 * n) == "newton-cg"


def test_many_class_fit_takes_the_cheap_path():
    X, y = load_diabetes(return_X_y=True)
    yi = np.unique(y, return_inverse=True)[1].astype(float)
    obj = LinearObjective(get_loss("log_loss"), X, yi, n_outputs=214)
    res = solve(obj, np.zeros(obj.n_coef), "auto", tol=1e-8, max_iter=5)
    assert res.solver in ("lbfgs", "newton-cg")
    assert res.objective < np.log(214)
