"""Issue 10 item 3: the networks' defaults train to a usable model, and a
divergence is caught from a growing loss, not only from non-finite values.

References: scikit-learn's MLPRegressor / MLPClassifier on the same split
(scores from sklearn.metrics through ``score``), and the constant model
(R^2 = 0).  Before the fix SGDNetRegressor diverged on diabetes (weights 3e82,
R^2 -inf), stopped at R^2 -0.004 on the unscaled data, diverged in epoch 2
with loss="poisson", and SGDNetClassifier(learning_rate_init=1e3) ran to a
loss of 1e27 without a warning.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from skloss.neural_network import SGDNetClassifier, SGDNetRegressor


def _california_like():
    # heteroscedastic noise, features of very different scales, offset target
    rng = np.random.default_rng(0)
    X, y = make_regression(n_samples=1500, n_features=8, noise=0, random_state=0)
    y = y + rng.normal(size=y.shape) * (1 + np.abs(X[:, 0])) * 20
    return X * np.array([1, 10, 100, 1, 0.1, 1000, 1, 5]), y + 200


def _split(X, y, scale):
    if scale:
        X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, random_state=0)


def _fit_quiet(est, X, y):
    # a stated budget: the default max_iter may end with "not converged"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Stochastic Optimizer: Maximum", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("scale", [True, False], ids=["scaled", "raw"])
def test_diabetes_defaults(scale):
    Xtr, Xte, ytr, yte = _split(*load_diabetes(return_X_y=True), scale)
    ours = _fit_quiet(SGDNetRegressor(random_state=0), Xtr, ytr)
    mlp = _fit_quiet(MLPRegressor(solver="sgd", random_state=0), Xtr, ytr)
    assert all(np.all(np.isfinite(c)) for c in ours.coefs_)
    assert ours.score(Xte, yte) >= mlp.score(Xte, yte) - 0.05
    assert ours.score(Xte, yte) > 0.2
    assert ours.score(Xtr, ytr) > 0.4


def test_diabetes_poisson_does_not_diverge():
    Xtr, Xte, ytr, yte = _split(*load_diabetes(return_X_y=True), True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.filterwarnings("ignore", "Stochastic Optimizer: Maximum", ConvergenceWarning)
        ours = SGDNetRegressor(loss="poisson", random_state=0).fit(Xtr, ytr)
    assert ours.n_iter_ > 50
    assert ours.score(Xte, yte) > 0.15


def test_california_like_defaults():
    Xtr, Xte, ytr, yte = _split(*_california_like(), True)
    ours = _fit_quiet(SGDNetRegressor(random_state=0), Xtr, ytr)
    mlp = _fit_quiet(MLPRegressor(solver="sgd", random_state=0), Xtr, ytr)
    assert ours.score(Xte, yte) >= mlp.score(Xte, yte) - 0.03


def test_california_like_unscaled_is_not_silent():
    # features spanning 0.1 to 1000: MLPRegressor(solver="sgd") raises; ours
    # recovers from the divergence, says so, and beats the constant model
    Xtr, Xte, ytr, yte = _split(*_california_like(), False)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        ours = _fit_quiet(SGDNetRegressor(random_state=0), Xtr, ytr)
    assert ours.score(Xte, yte) > 0.1


@pytest.mark.parametrize("scale", [True, False], ids=["scaled", "raw"])
def test_digits_defaults(scale):
    Xtr, Xte, ytr, yte = _split(*load_digits(return_X_y=True), scale)
    ours = _fit_quiet(SGDNetClassifier(random_state=0), Xtr, ytr)  # (every default)
    mlp = _fit_quiet(MLPClassifier(solver="sgd", random_state=0, max_iter=100), Xtr, ytr)
    assert ours.score(Xte, yte) >= mlp.score(Xte, yte) - 0.02


def test_breast_cancer_scaled_defaults():
    Xtr, Xte, ytr, yte = _split(*load_breast_cancer(return_X_y=True), True)
    ours = _fit_quiet(SGDNetClassifier(random_state=0), Xtr, ytr)
    mlp = _fit_quiet(MLPClassifier(solver="sgd", random_state=0), Xtr, ytr)
    assert ours.score(Xte, yte) >= mlp.score(Xte, yte) - 0.02


def test_breast_cancer_raw_recovers_with_a_warning():
    # features up to 4e3: the first epoch's loss explodes; it is undone
    Xtr, Xte, ytr, yte = _split(*load_breast_cancer(return_X_y=True), False)
    with pytest.warns(ConvergenceWarning, match="diverged and recovered"):
        ours = _fit_quiet(SGDNetClassifier(random_state=0), Xtr, ytr)
    mlp = _fit_quiet(MLPClassifier(solver="sgd", random_state=0), Xtr, ytr)
    assert ours.score(Xte, yte) >= mlp.score(Xte, yte) - 0.02


def test_growing_loss_is_detected_and_the_best_epoch_kept():
    X, y = load_digits(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match=r"learning_rate_init=1000\.0") as record:
        clf = _fit_quiet(SGDNetClassifier(learning_rate_init=1e3, hidden_layer_sizes=(32,),
                                          max_iter=60, random_state=0), X, y)
    assert any("diverged" in str(w.message) for w in record)
    assert all(np.all(np.isfinite(c)) for c in clf.coefs_ + clf.intercepts_)
    # no epoch kept with a loss of the exploded size: every accepted epoch is
    # within ten-fold of the constant model's log loss (log 10 = 2.3)
    assert max(clf.loss_curve_[1:]) < 10 * np.log(10)
    # after the cuts the network beats the constant model (it stalled above it
    # at the first reduced rate, which counts as a divergence too)
    assert min(clf.loss_curve_) < np.log(10)
    assert clf.score(X, y) > 0.4


def test_exhausted_safeguard_keeps_the_start_of_the_best_epoch(monkeypatch):
    # every epoch after the first "explodes": the safeguard gives up and the
    # weights kept are those the best epoch started from (here: the first
    # epoch's start, the initial network), not the last ones
    import skloss.neural_network._base as base

    real = base._run_epoch
    calls = []

    def exploding(est, run, theta):
        value, elapsed = real(est, run, theta)
        calls.append(theta.copy())
        return (value if len(calls) == 1 else 1e30), elapsed

    monkeypatch.setattr(base, "_run_epoch", exploding)
    X, y = load_digits(return_X_y=True)
    X = X[:300]
    y = y[:300]
    init = SGDNetClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Training diverged"):
        clf = SGDNetClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X, y)
    assert clf.n_iter_ == 1 and len(calls) == 1 + base._MAX_STEP_CUTS + 1
    monkeypatch.setattr(base, "_run_epoch", lambda est, run, theta: (1.0, 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        init.fit(X, y)  # no training step at all: the initial network
    for a, b in zip(clf.coefs_, init.coefs_):
        np.testing.assert_array_equal(a, b)
