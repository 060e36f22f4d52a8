"""A start that is provably a global minimiser is returned without iterating."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification

from skloss import MLELinearRegression, MLELogisticRegression
from skloss.losses import available_losses, get_loss, make_loss
from skloss.linear_model._solvers import _loss_minimum


@pytest.mark.parametrize("name", [n for n in available_losses() if get_loss(n).piecewise_linear is not None])
def test_loss_minimum_is_the_minimum_over_a_fine_grid(name):
    loss = get_loss(name)
    u = np.linspace(-5, 5, 20001)
    y = np.zeros_like(u) if loss.task == "regression" else np.ones_like(u)
    raw = u if loss.task == "regression" else u  # (binary: z = 1, u = raw)
    grid_min = float(np.min(loss.loss(y, raw)))
    assert _loss_minimum(loss, 1) == pytest.approx(grid_min, abs=1e-9)


def test_losses_without_a_declared_minimum_get_none():
    assert _loss_minimum(get_loss("log_loss"), 1) is None
    assert _loss_minimum(get_loss("squared_error"), 1) is None
    # a piecewise-linear loss unbounded below (one slope sign) has no minimum
    lin = make_loss(lambda y, r: r - y, lambda y, r: 1.0, name="linear", is_smooth=False,
                    piecewise_linear=[(1.0, 0.0)])
    assert _loss_minimum(lin, 1) is None


@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_perceptron_optimum_is_certified_at_the_start(penalty, n_classes):
    X, y = make_classification(600, 8, n_informative=4, n_classes=n_classes, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLELogisticRegression(loss="perceptron", penalty=penalty, alpha=1e-3).fit(X, y)
    assert est.solver_ == "start" and est.n_iter_ == 1 and est.converged_
    assert np.all(est.coef_ == 0) and np.all(est.intercept_ == 0)
    # the perceptron's loss is zero for every sample there: nothing is lower
    assert np.all(get_loss("perceptron").loss(np.ones(3), np.zeros(3)) == 0)


def test_start_is_not_taken_when_it_is_not_a_minimiser():
    X, y = make_classification(300, 5, random_state=0)
    est = MLELogisticRegression(loss="hinge", penalty="l2", alpha=1e-2, cov_type=None).fit(X, y)
    assert est.solver_ != "start" and np.any(est.coef_ != 0)


def test_exactly_fitted_quantile_data_stop_at_the_start():
    # y constant: the start (w = 0, b = the quantile of y) has every residual 0
    X = np.random.default_rng(0).normal(size=(200, 3))
    y = np.full(200, 2.5)
    est = MLELinearRegression(loss="quantile", penalty="l1", alpha=1e-2, cov_type=None).fit(X, y)
    assert est.intercept_ == pytest.approx(2.5) and np.all(est.coef_ == 0)
