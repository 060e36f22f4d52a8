"""Issue 10 item 7: bad weights, labels, losses and parameters get a
ValueError naming the parameter or the data problem, and leave the estimator
unchanged.

Before the fix: a negative class_weight gave coefficients of 4e14 with a false
SeparationWarning; a NaN class_weight, a sample_weight of 1e-320 or a custom
loss returning NaN all got "the computation overflows ... Scale the data"; y
mixing strings and ints gave "TypeError: '<' not supported";
MLEDistribution().score(X, sample_weight=np.ones(3)) gave a NumPy TypeError;
SGDNetRegressor(learning_rate="invscaling", power_t=1e6) raised OverflowError.
"""

import numpy as np
import pytest

from skloss.linear_model import MLEDistribution, MLELinearRegression, MLELogisticRegression
from skloss.losses import make_loss
from skloss.neural_network import SGDNetClassifier, SGDNetRegressor

_NET = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + rng.normal(size=80) > 0).astype(int)
    return X, y


def _classifiers():
    return [MLELogisticRegression(), SGDNetClassifier(**_NET)]


@pytest.mark.parametrize("make", [MLELogisticRegression, lambda: SGDNetClassifier(**_NET)])
@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf])
def test_bad_class_weight(data, make, weight):
    X, y = data
    est = make()
    with pytest.raises(ValueError, match=r"class_weight\[0\]"):
        est.set_params(class_weight={0: weight, 1: 1.0}).fit(X, y)
    assert not hasattr(est, "n_features_in_")


@pytest.mark.parametrize("make", [
    MLELogisticRegression, MLELinearRegression, lambda: SGDNetClassifier(**_NET),
    lambda: SGDNetRegressor(**_NET),
])
def test_denormal_sample_weight(data, make):
    X, y = data
    with pytest.raises(ValueError, match=r"sample_weight.*smallest normal float64"):
        make().fit(X, y, sample_weight=np.full(X.shape[0], 1e-320))


def test_denormal_sample_weight_distribution(data):
    X, _ = data
    with pytest.raises(ValueError, match=r"sample_weight.*smallest normal"):
        MLEDistribution().fit(X[:, :1], sample_weight=np.full(X.shape[0], 1e-320))


def test_tiny_but_normal_weights_fit_like_unit_weights(data):
    # the error is about representability, not size: 1e-300 is fine and only
    # the ratios matter
    X, y = data
    a = MLELogisticRegression().fit(X, y, sample_weight=np.full(X.shape[0], 1e-300))
    b = MLELogisticRegression().fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6)


def _nan_loss(task):
    kw = {"link": "logit", "task": "classification"} if task == "classification" else {}
    return make_loss(loss=lambda y, r: np.nan, gradient=lambda y, r: np.nan, name="broken",
                     **kw)


@pytest.mark.parametrize("make, task", [
    (MLELinearRegression, "regression"),
    (SGDNetRegressor, "regression"),
    (MLELogisticRegression, "classification"),
    (SGDNetClassifier, "classification"),
])
def test_custom_loss_returning_nan_is_named(data, make, task):
    X, y = data
    target = X[:, 0] if task == "regression" else y
    est = make(loss=_nan_loss(task))
    if isinstance(est, (SGDNetClassifier, SGDNetRegressor)):
        est.set_params(**_NET)
    with pytest.raises(ValueError, match=r"loss 'broken' returns NaN at finite inputs"):
        est.fit(X, target)


@pytest.mark.parametrize("make", [MLELogisticRegression, lambda: SGDNetClassifier(**_NET)])
def test_labels_mixing_strings_and_numbers(data, make):
    X, _ = data
    y = np.array(["a", 1] * 40, dtype=object)
    with pytest.raises(ValueError, match="mixes strings and numbers"):
        make().fit(X, y)


def test_distribution_score_sample_weight_length(data):
    X, _ = data
    est = MLEDistribution().fit(X[:, :1])
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\), expected \(80,\)"):
        est.score(X[:, :1], sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample_weight"):
        est.score(X[:, :1], sample_weight=-np.ones(80))
    w = np.arange(80) % 3
    np.testing.assert_allclose(est.score(X[:, :1], sample_weight=w),
                               np.average(est.score_samples(X[:, :1]), weights=w))


def test_invscaling_power_t_underflow(data):
    X, _ = data
    est = SGDNetRegressor(learning_rate="invscaling", power_t=1e6, **_NET)
    with pytest.raises(ValueError, match=r"power_t=1000000\.0 .*underflow"):
        est.fit(X, X[:, 0])
    assert not hasattr(est, "coefs_")
    # a large but representable exponent trains (the rate is computed in logs)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SGDNetRegressor(learning_rate="invscaling", power_t=50.0, **_NET).fit(X, X[:, 0])
