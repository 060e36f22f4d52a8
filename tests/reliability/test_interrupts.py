"""Issue 10 item 9: an interrupted fit never leaves a corrupted estimator.

A ``KeyboardInterrupt`` is injected into a refit on new data (40 features
after a fit on 5): the estimator must still hold the complete previous fit
(the same ``n_features_in_``, coefficients and predictions as before), and the
interrupt must reach the caller.  Before the fix ``keeps_state_on_error``
caught ``Exception`` only: ``n_features_in_`` became 40 with 5-column
coefficients, and neither data set could be predicted.

For the networks, an interrupt inside the epoch loop ends training at the last
complete epoch, wherever it lands (during the compiled epoch or during the
validation score of early stopping): the outcome is the same every time, and
with early stopping the best validation epoch is kept.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

import skloss.linear_model._base as linear_base
import skloss.neural_network._base as net_base
from skloss.linear_model import MLEDistribution, MLELinearRegression, MLELogisticRegression
from skloss.neural_network import SGDNetClassifier, SGDNetRegressor
from skloss.utils._state import keeps_state_on_error


def _data(p, seed=0, n=400):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X[:, 0] - 0.5 * X[:, 1] + 0.5 * rng.normal(size=n)
    return X, y


def _interrupt_on_call(monkeypatch, owner, name, nth=1):
    real = getattr(owner, name)
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == nth:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def _fitted_state(est):
    """A comparable rendering of every attribute (arrays by value)."""
    def render(v):
        if isinstance(v, np.ndarray):
            return ("array", v.dtype.str, v.shape, v.tobytes())
        if isinstance(v, (list, tuple)):
            return (type(v).__name__, tuple(render(x) for x in v))
        if isinstance(v, dict):
            return ("dict", tuple(sorted((k, render(x)) for k, x in v.items())))
        if isinstance(v, (int, float, str, bool, type(None), np.generic)):
            return v
        return (type(v).__name__, pickle.dumps(v))
    return {k: render(v) for k, v in est.__dict__.items()}


@pytest.mark.parametrize("make, target", [
    (lambda: MLELogisticRegression(), lambda y: (y + np.sin(np.arange(y.size)) > 0).astype(int)),
    (lambda: MLELinearRegression(), lambda y: y),
    (lambda: MLELinearRegression(loss="huber"), lambda y: y),
])
def test_linear_refit_interrupted_keeps_previous_fit(monkeypatch, make, target):
    X5, y5 = _data(5)
    X40, y40 = _data(40, seed=1)
    est = make().fit(X5, target(y5))
    before = _fitted_state(est)
    pred = est.predict(X5)
    # the worst moment: half of the new fitted attributes already assigned
    def half_then_interrupt(self, attrs):
        for key in list(attrs)[: len(attrs) // 2]:
            setattr(self, key, attrs[key])
        raise KeyboardInterrupt

    monkeypatch.setattr(linear_base.MLELinearModel, "_assign", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X40, target(y40))
    assert est.n_features_in_ == 5
    assert _fitted_state(est) == before
    np.testing.assert_array_equal(est.predict(X5), pred)


def test_distribution_refit_interrupted_keeps_previous_fit(monkeypatch):
    rng = np.random.default_rng(0)
    est = MLEDistribution().fit(rng.normal(size=(50, 1)))
    before = _fitted_state(est)
    lik_type = type(est.loss_.likelihood)
    _interrupt_on_call(monkeypatch, lik_type, "loglik")
    with pytest.raises(KeyboardInterrupt):
        est.fit(rng.normal(size=(60, 3)))
    assert _fitted_state(est) == before and est.n_features_in_ == 1


def test_state_restored_for_any_base_exception():
    class Est:
        def __init__(self):
            self.a = 1
            self.curve = [1.0]

        def get_params(self, deep=False):
            return {"a": self.a}

        @keeps_state_on_error
        def fit(self, exc):
            self.curve.append(2.0)  # in place, as partial_fit extends loss_curve_
            self.b = 2
            raise exc

    for exc in (KeyboardInterrupt(), SystemExit(3), ValueError("x")):
        est = Est()
        with pytest.raises(type(exc)):
            est.fit(exc)
        assert est.__dict__ == {"a": 1, "curve": [1.0]}


@pytest.mark.parametrize("cls", [SGDNetClassifier, SGDNetRegressor])
def test_network_refit_interrupted_before_training_keeps_previous_fit(monkeypatch, cls):
    X5, y5 = _data(5)
    X40, y40 = _data(40, seed=1)
    y5, y40 = ((y5 > 0).astype(int), (y40 > 0).astype(int)) if cls is SGDNetClassifier \
        else (y5, y40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = cls(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X5, y5)
    before = _fitted_state(est)
    pred = est.predict(X5)
    # the interrupt lands in the set-up, before any epoch (the output-bias start)
    _interrupt_on_call(monkeypatch, cls, "_output_bias")
    with pytest.raises(KeyboardInterrupt):
        est.fit(X40, y40)
    assert est.n_features_in_ == 5 and _fitted_state(est) == before
    np.testing.assert_array_equal(est.predict(X5), pred)


def test_partial_fit_interrupted_restores_optimizer_and_curve(monkeypatch):
    X, y = _data(5)
    est = SGDNetRegressor(hidden_layer_sizes=(4,), random_state=0)
    est.partial_fit(X, y)
    before = _fitted_state(est)
    _interrupt_on_call(monkeypatch, net_base, "_check_power_t")
    with pytest.raises(KeyboardInterrupt):
        est.partial_fit(X, y)
    assert _fitted_state(est) == before


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


@pytest.mark.parametrize("nth", [3, 6])
@pytest.mark.parametrize("where", ["epoch", "validation"])
def test_early_stopping_interrupt_same_every_time(monkeypatch, nth, where):
    # the interrupt stops training; the fit returns with the best validation
    # epoch among the complete ones, the same whether it hits the epoch or
    # the validation score
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(16,), early_stopping=True, max_iter=30, random_state=0,
              n_iter_no_change=50)
    ref = SGDNetClassifier(**kw).set_params(max_iter=nth - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y)
    if where == "epoch":
        _interrupt_on_call(monkeypatch, net_base, "_run_epoch", nth)
    else:
        # (call 1 measures the initial network: the yardstick of the growth
        # safeguard; call k + 1 scores epoch k)
        _interrupt_on_call(monkeypatch, SGDNetClassifier, "_validation_score", nth + 1)
    with pytest.warns(UserWarning, match="interrupted by user"):
        clf = SGDNetClassifier(**kw).fit(X, y)
    assert clf.n_iter_ == nth - 1
    assert clf.validation_scores_ == ref.validation_scores_
    best = int(np.argmax(clf.validation_scores_))
    assert clf.best_validation_score_ == clf.validation_scores_[best]
    for a, b in zip(clf.coefs_, ref.coefs_):
        np.testing.assert_array_equal(a, b)
