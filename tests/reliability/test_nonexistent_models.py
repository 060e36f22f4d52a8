"""Issue 10 item 4 (and item 5's docs): a model that does not exist is
announced.

Before the fix: separation with p >= n went unwarned (per-sample losses ~1e-8
sat above the detector's 1e-9 trigger); Poisson / Tweedie fits on all-zero
counts reported ``converged_ = True``; the perceptron returned its trivial
optimum w = 0 silently (iris with L2: accuracy 1/3) with ``summary()`` showing
std err 0, z 0, p 1; a Student-t MLEDistribution on constant data returned
``scale_ = 1e-300`` (or divided by zero) where the other families raise.
"""

import warnings

import numpy as np
import pytest
from scipy.optimize import linprog
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skloss.linear_model import MLEDistribution, MLELinearRegression, MLELogisticRegression
from skloss.linear_model._logistic import SeparationWarning, TrivialOptimumWarning
from skloss.losses import get_loss


def _separable_by_lp(X, y):
    # independent reference (Konis 2007): a direction with z_i x_i.d >= 0 and
    # sum z_i x_i.d = 1 exists iff the classes can be separated
    Z = (2 * y - 1)[:, None] * np.column_stack([X, np.ones(len(y))])
    res = linprog(np.zeros(Z.shape[1]), A_ub=-Z, b_ub=np.zeros(len(y)),
                  A_eq=Z.sum(0, keepdims=True), b_eq=[1.0], bounds=(None, None))
    return res.status == 0


@pytest.mark.parametrize("n, p", [(10, 40), (15, 15), (20, 30)])
def test_separation_warned_when_p_at_least_n(n, p):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p))
    y = np.arange(n) % 2
    assert _separable_by_lp(X, y)
    with pytest.warns(SeparationWarning, match="separates the two classes"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The information matrix is singular")
            MLELogisticRegression().fit(X, y)


def test_no_separation_warning_on_overlapping_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + rng.logistic(size=300) > 0).astype(int)
    assert not _separable_by_lp(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MLELogisticRegression().fit(X, y)


@pytest.mark.parametrize("loss", ["poisson", get_loss("tweedie", power=1.5)], ids=str)
def test_all_zero_counts_have_no_mle(loss):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    with pytest.warns(ConvergenceWarning, match="does not exist"):
        est = MLELinearRegression(loss=loss).fit(X, np.zeros(50))
    assert est.converged_ is False
    # one non-zero count: the MLE exists again, no warning
    y = np.zeros(50)
    y[0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert MLELinearRegression(loss=loss).fit(X, y).converged_


@pytest.mark.parametrize("penalty", [None, "l2"])
def test_perceptron_trivial_optimum_is_announced(penalty):
    X, y = load_iris(return_X_y=True)
    kw = {} if penalty is None else {"penalty": "l2", "alpha": 0.1}
    with pytest.warns(TrivialOptimumWarning, match="with or without a penalty"):
        est = MLELogisticRegression(loss="perceptron", **kw).fit(X, y)
    np.testing.assert_array_equal(est.coef_, 0.0)


def test_perceptron_summary_has_no_standard_errors():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :3]
    with pytest.warns(TrivialOptimumWarning):
        est = MLELogisticRegression(loss="perceptron").fit(X, y)
    table = est.summary()
    assert np.all(np.isnan(table["std err"])) and np.all(np.isnan(table["P>|z|"]))
    assert "optimum" in table.attrs["info"]["note"]


def test_hinge_is_not_trivial():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :3]
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrivialOptimumWarning)
        est = MLELogisticRegression(loss="hinge").fit(X, y)
    assert est.score(X, y) > 0.85


@pytest.mark.parametrize("loss", ["student_t", "squared_error", "gamma", "absolute_error"])
def test_constant_data_raises_for_every_family_with_a_scale(loss):
    with pytest.raises(ValueError, match="constant"):
        MLEDistribution(loss=loss).fit(np.full((20, 1), 2.0))


def test_perceptron_docs_no_longer_recommend_a_penalty():
    import pathlib

    text = (pathlib.Path(__file__).parents[2] / "docs" / "user_guide" / "logistic.rst").read_text()
    assert "Add a penalty or use another loss for a\nuseful classifier" not in text
    assert "does **not** make the perceptron useful" in text


def test_one_class_left_after_weights_is_an_error_not_a_failed_fit():
    # only one class carries weight: the unpenalised intercept has no finite
    # optimum even under a penalty; a clear error, the previous fit intact
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = np.repeat([0, 1], 20)
    est = MLELogisticRegression(penalty="l1", alpha=0.01).fit(X, y)
    coef = est.coef_.copy()
    sw = np.where(y == 1, 1.0, 0.0)
    with pytest.raises(ValueError, match="at least 2 classes with positive sample_weight"):
        est.fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(est.coef_, coef)
