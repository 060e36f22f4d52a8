"""Issue 10 item 10: the estimators agree on their API.

Before the fix: MLELinearRegression had no ``n_obs_``, MLELogisticRegression
no ``solver_``, MLEDistribution neither (nor ``converged_``); ``conf_int()``
returned a bare array where ``summary()`` is labelled; a multi-class hinge
``summary()`` blamed a missing Hessian; ``get_params(deep=True)`` on a string
loss listed no ``loss__<param>`` although ``set_params(loss__delta=...)``
worked (and failed on the networks and MLEDistribution); an unknown loss name
listed every name without pointing to the close one.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV

from skloss.linear_model import MLEDistribution, MLELinearRegression, MLELogisticRegression
from skloss.losses import get_loss
from skloss.neural_network import SGDNetClassifier, SGDNetRegressor

COMMON = ["solver_", "n_obs_", "converged_", "loglik_", "aic_", "bic_", "params_",
          "param_names_", "covariance_", "bse_", "cov_type_"]


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(120, 2)), columns=["age", "dose"])
    y = X["age"] - 0.5 * X["dose"] + rng.normal(size=120)
    return X, y


def _fits(X, y):
    return [MLELinearRegression().fit(X, y),
            MLELogisticRegression().fit(X, (y > 0).astype(int)),
            MLEDistribution().fit(X[["age"]])]


def test_every_mle_estimator_has_the_inference_attributes(frame):
    X, y = frame
    for est in _fits(X, y):
        missing = [a for a in COMMON if not hasattr(est, a)]
        assert not missing, (type(est).__name__, missing)
        w = np.ones(len(X))
        assert est.n_obs_ == pytest.approx(w.sum())


def test_conf_int_is_labelled_like_summary(frame):
    X, y = frame
    for est in _fits(X, y):
        ci = est.conf_int(alpha=0.1)
        table = est.summary(alpha=0.1)
        assert isinstance(ci, pd.DataFrame)
        assert list(ci.index) == list(table.index) == list(est.param_names_)
        np.testing.assert_allclose(ci.to_numpy(), table.iloc[:, -2:].to_numpy())
    # without feature names: the plain array, rows in param_names_ order
    est = MLELinearRegression().fit(X.to_numpy(), y.to_numpy())
    assert isinstance(est.conf_int(), np.ndarray) and est.conf_int().shape == (3, 2)


def test_multiclass_hinge_summary_names_the_crammer_singer_form():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLELogisticRegression(loss="hinge").fit(X, y)
    with pytest.raises(ValueError, match="Crammer-Singer"):
        est.summary()


@pytest.mark.parametrize("est, key", [
    (MLELinearRegression(loss="huber"), "loss__delta"),
    (MLELogisticRegression(loss="focal"), "loss__gamma"),
    (MLEDistribution(loss="student_t"), "loss__df"),
    (SGDNetRegressor(loss="huber"), "loss__delta"),
    (SGDNetClassifier(loss="focal"), "loss__gamma"),
])
def test_string_loss_nested_params_agree(est, key):
    default = get_loss(est.loss).get_params()[key[len("loss__"):]]
    assert est.get_params(deep=True)[key] == default
    est = clone(est).set_params(**{key: 4.0})
    assert est.get_params(deep=True)[key] == 4.0
    assert clone(est).get_params(deep=True)[key] == 4.0


def test_grid_over_a_string_loss_parameter():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = X[:, 0] + rng.standard_t(2, size=80)
    grid = GridSearchCV(MLELinearRegression(loss="huber"), {"loss__delta": [0.5, 2.0]}, cv=2)
    grid.fit(X, y)
    assert grid.best_estimator_.loss_.delta in (0.5, 2.0)


@pytest.mark.parametrize("typo, expected", [("hubre", "huber"), ("Poison", "poisson"),
                                            ("squared_eror", "squared_error")])
def test_unknown_loss_suggests_the_closest(typo, expected):
    with pytest.raises(ValueError, match=f"Did you mean '{expected}'"):
        get_loss(typo)
    with pytest.raises(ValueError, match="Available losses"):
        get_loss("xyzzy")


def test_summary_prints_a_header_and_the_whole_table(frame):
    X, y = frame
    wide = pd.concat([X] + [X.add_suffix(f"_copy{i}") * (1 + i) for i in range(4)], axis=1)
    wide = wide + np.random.default_rng(1).normal(size=wide.shape) * 0.5
    with pd.option_context("display.width", 30, "display.max_columns", 2,
                           "display.max_rows", 4):
        for est in _fits(wide, y)[:2] + _fits(X, y)[2:]:
            text = repr(est.summary())
            for label in ("Model:", "Loss:", "No. observations:", "Log-likelihood:", "AIC:",
                          "BIC:", "Covariance type:", "Converged:"):
                assert label in text, (type(est).__name__, label)
            assert type(est).__name__ in text.splitlines()[0]
            assert "..." not in text  # nothing cut by the display options
            for name in est.param_names_:
                assert name in text
            assert f"{est.loglik_:.6g}" in text


def test_custom_loss_hyperparameters_are_tunable_in_a_grid():
    # make_loss(params=...) passes each hyperparameter to the scalar functions, so a
    # ``loss__<param>`` grid tunes a custom loss as it tunes a built-in one; the
    # reference is the built-in Huber loss at the same delta
    from skloss.losses import make_loss

    def loss(y, r, delta):
        u = abs(y - r)
        return 0.5 * u * u if u <= delta else delta * (u - 0.5 * delta)

    def grad(y, r, delta):
        u = r - y
        return u if abs(u) <= delta else (delta if u > 0 else -delta)

    def hess(y, r, delta):
        return 1.0 if abs(r - y) <= delta else 0.0

    custom = make_loss(loss, grad, hess, params={"delta": 1.0}, name="my_huber")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 2))
    y = X @ [1.0, -1.0] + rng.standard_t(2, 150)
    grid = GridSearchCV(MLELinearRegression(custom, cov_type=None), {"loss__delta": [0.4, 3.0]}, cv=3).fit(X, y)
    ref = GridSearchCV(MLELinearRegression(get_loss("huber"), cov_type=None), {"loss__delta": [0.4, 3.0]},
                       cv=3).fit(X, y)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-6)
    assert grid.best_params_ == ref.best_params_
    assert grid.best_estimator_.loss_.delta == ref.best_params_["loss__delta"]
    np.testing.assert_allclose(grid.best_estimator_.coef_, ref.best_estimator_.coef_, atol=1e-6)
