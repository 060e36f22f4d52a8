"""Custom losses: make_loss and the subclassing route.

References: closed forms in NumPy, scikit-learn's log_loss, finite differences
(through check_loss).
"""

import math
import pickle

import numba
import numpy as np
import pytest
from numba.core.dispatcher import Dispatcher
from scipy.special import expit, log_expit
from sklearn.base import clone
from sklearn.metrics import log_loss, mean_pinball_loss

from skloss.losses import (
    CustomLoss,
    CustomLossCompileError,
    HessianUnavailableError,
    Loss,
    Normal,
    get_loss,
    make_loss,
)
from skloss.losses import _custom
from skloss.utils import check_loss


# -------------------------------------------------- module-level functions (pickle)
def logcosh(y, raw):
    d = abs(raw - y)
    return d + math.log1p(math.exp(-2.0 * d)) - math.log(2.0)


def logcosh_grad(y, raw):
    return math.tanh(raw - y)


def logcosh_hess(y, raw):
    t = math.tanh(raw - y)
    return 1.0 - t * t


def logistic(y, raw):
    # log(1 + exp(raw)) - y raw, without overflow
    if raw > 0:
        return raw + math.log1p(math.exp(-raw)) - y * raw
    return math.log1p(math.exp(raw)) - y * raw


def logistic_grad(y, raw):
    if raw >= 0:
        return 1.0 / (1.0 + math.exp(-raw)) - y
    e = math.exp(raw)
    return e / (1.0 + e) - y


def logistic_hess(y, raw):
    p = logistic_grad(0.0, raw)
    return p * (1.0 - p)


def pinball(y, raw):
    d = y - raw
    return 0.8 * d if d >= 0 else -0.2 * d


def pinball_grad(y, raw):
    return -0.8 if y > raw else 0.2


def poisson(y, raw):
    return math.exp(raw) - y * raw


def poisson_grad(y, raw):
    return math.exp(raw) - y


def poisson_hess(y, raw):
    return math.exp(raw)


def squared(y, raw):
    return (raw - y) ** 2


def squared_grad(y, raw):
    return 2.0 * (raw - y)


def constant_two(y, raw):
    return 2  # an int: accepted, converted to float


def uses_scipy(y, raw):
    return expit(raw)


def returns_tuple(y, raw):
    return (y, raw)


def one_argument(y):
    return y


# ------------------------------------------------------------------- values
def test_values_against_closed_forms():
    loss = make_loss(logcosh, logcosh_grad, logcosh_hess, name="my_logcosh")
    rng = np.random.default_rng(0)
    y, raw = rng.normal(size=50), rng.normal(scale=3, size=50)
    d = raw - y
    np.testing.assert_allclose(loss.loss(y, raw), np.log(np.cosh(d)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss.gradient(y, raw), np.tanh(d), rtol=1e-14)
    # 1 - tanh^2 cancels where tanh is near 1: absolute accuracy
    np.testing.assert_allclose(loss.hessian(y, raw), 1.0 / np.cosh(d) ** 2, rtol=1e-9, atol=1e-15)
    w = rng.uniform(0.5, 2, 50)
    lw, gw = loss.loss_gradient(y, raw, w)
    np.testing.assert_allclose(lw, w * np.log(np.cosh(d)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gw, w * np.tanh(d), rtol=1e-14)


def test_float32_in_float32_out():
    loss = make_loss(squared, squared_grad, constant_two)
    y = np.array([0.5, 1.0, -2.0], dtype=np.float32)
    raw = np.array([1.5, 1.0, 3.0], dtype=np.float32)
    lval, grad, hess = loss.loss_gradient_hessian(y, raw)
    assert lval.dtype == grad.dtype == hess.dtype == np.float32
    np.testing.assert_array_equal(lval, np.array([1.0, 0.0, 25.0], np.float32))
    np.testing.assert_array_equal(hess, np.full(3, 2.0, np.float32))
    assert loss.loss([0.0], [1.0]).dtype == np.float64


def test_classification_binary_and_one_vs_rest_match_log_loss():
    loss = make_loss(logistic, logistic_grad, logistic_hess, task="classification", link="logit")
    assert loss.is_probabilistic and not loss.has_multiclass_form
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 40)
    raw = rng.normal(scale=2, size=40)
    assert loss.loss(y, raw).mean() == pytest.approx(log_loss(y, expit(raw)), rel=1e-12)
    np.testing.assert_allclose(loss.loss(y, raw), get_loss("log_loss").loss(y, raw), rtol=1e-13)
    np.testing.assert_allclose(loss.inverse_link(raw), expit(raw), rtol=1e-15)
    # logistic_hess calls the plain helper logistic_grad: jitted along with it
    np.testing.assert_allclose(loss.hessian(y, raw), expit(raw) * expit(-raw), rtol=1e-12)
    # K scores: the one-vs-rest sum of binary log losses
    yk = rng.integers(0, 3, 40)
    rawk = rng.normal(scale=2, size=(40, 3))
    ref = sum(
        -((yk == k) * log_expit(rawk[:, k]) + (yk != k) * log_expit(-rawk[:, k])) for k in range(3)
    )
    np.testing.assert_allclose(loss.loss(yk, rawk), ref, rtol=1e-12)
    grad = loss.gradient(yk, rawk)
    np.testing.assert_allclose(grad, expit(rawk) - np.eye(3)[yk], rtol=1e-12, atol=1e-15)


def test_no_hessian():
    loss = make_loss(pinball, pinball_grad, is_smooth=False, name="pinball80")
    assert not loss.has_hessian and not loss.is_smooth
    y = np.array([1.0, 2.0, 3.0])
    raw = np.array([0.0, 2.5, 3.5])
    assert loss.loss(y, raw).mean() == pytest.approx(mean_pinball_loss(y, raw, alpha=0.8), rel=1e-14)
    for method in ("hessian", "gradient_hessian", "loss_gradient_hessian"):
        with pytest.raises(HessianUnavailableError, match="pinball80"):
            getattr(loss, method)(y, raw)


# -------------------------------------------------------------- check_loss
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(loss=logcosh, gradient=logcosh_grad, hessian=logcosh_hess, name="logcosh"),
        dict(loss=logistic, gradient=logistic_grad, hessian=logistic_hess, task="classification", link="logit"),
        dict(loss=pinball, gradient=pinball_grad, is_smooth=False),
        dict(loss=poisson, gradient=poisson_grad, hessian=poisson_hess, link="log", y_domain="nonnegative"),
    ],
    ids=["logcosh", "logistic", "pinball", "poisson"],
)
def test_check_loss_passes_on_correct_custom_losses(kwargs):
    report = check_loss(make_loss(**kwargs))
    assert report["gradient"] == "passed"
    assert report["pickle"] == "passed"


def test_init_raw_prediction_closed_forms():
    y = np.array([0.0, 1.0, 2.0, 5.0])
    w = np.array([1.0, 2.0, 1.0, 0.5])
    sq = make_loss(squared, squared_grad, constant_two)
    assert sq.init_raw_prediction(y, w) == pytest.approx(np.average(y, weights=w), abs=1e-12)
    pois = make_loss(poisson, poisson_grad, poisson_hess, link="log", y_domain="nonnegative")
    assert pois.init_raw_prediction(y, w) == pytest.approx(np.log(np.average(y, weights=w)), abs=1e-12)
    logi = make_loss(logistic, logistic_grad, logistic_hess, task="classification", link="logit")
    yb = np.array([0, 1, 1, 1])
    assert logi.init_raw_prediction(yb) == pytest.approx(np.log(3.0), abs=1e-12)


# ------------------------------------------------------------------- params
def test_params_clone_pickle_and_set_params():
    loss = make_loss(logcosh, logcosh_grad, logcosh_hess, name="lc")
    assert isinstance(loss, CustomLoss) and isinstance(loss, Loss)
    params = loss.get_params()
    assert params["loss_func"] is logcosh and params["hessian_func"] is logcosh_hess
    assert params["link"] == "identity" and params["name"] == "lc"
    twin = clone(loss)
    assert twin == loss and twin is not loss and hash(twin) == hash(loss)
    y, raw = np.array([0.0, 1.0]), np.array([2.0, -1.0])
    loss.loss(y, raw)  # compiled: nothing new on the loss
    assert not any(isinstance(v, Dispatcher) for v in vars(loss).values())
    assert logcosh in _custom._COMPILED
    again = pickle.loads(pickle.dumps(loss))
    assert again == loss
    np.testing.assert_array_equal(again.loss(y, raw), loss.loss(y, raw))
    twin.set_params(hessian_func=None, name="lc1")
    assert not twin.has_hessian and twin != loss
    twin.set_params(link="log")
    assert twin.link == "log" and twin.link.inverse(0.0) == 1.0


def test_lambdas_work_but_do_not_pickle():
    loss = make_loss(lambda y, r: (r - y) ** 2, lambda y, r: 2 * (r - y))
    np.testing.assert_allclose(loss.loss([1.0], [3.0]), [4.0])
    with pytest.raises(Exception):
        pickle.dumps(loss)


def test_jitted_functions_are_stored_as_python_functions():
    jitted = numba.njit(squared)
    loss = make_loss(jitted, squared_grad)
    assert loss.loss_func is squared
    np.testing.assert_allclose(loss.loss([1.0], [3.0]), [4.0])


def test_is_probabilistic_default():
    assert make_loss(logistic, logistic_grad, task="classification", link="logit").is_probabilistic
    assert make_loss(logistic, logistic_grad, task="classification", link="probit").is_probabilistic
    assert not make_loss(logistic, logistic_grad, task="classification").is_probabilistic
    assert not make_loss(squared, squared_grad).is_probabilistic


def test_likelihood_and_domain():
    loss = make_loss(squared, squared_grad, likelihood=Normal())
    assert loss.likelihood == Normal()
    pois = make_loss(poisson, poisson_grad, link="log", y_domain="nonnegative", name="pois")
    pois.validate_y([0.0, 3.0])
    with pytest.raises(ValueError, match=r"'pois'.*>= 0"):
        pois.validate_y([-1.0, 3.0])
    pos = make_loss(poisson, poisson_grad, link="log", y_domain="positive")
    with pytest.raises(ValueError, match="> 0"):
        pos.validate_y([0.0, 3.0])


# ------------------------------------------------------------------- errors
def test_compile_errors_name_the_function():
    loss = make_loss(uses_scipy, squared_grad)  # lazily: no error yet
    with pytest.raises(CustomLossCompileError, match=r"loss function 'uses_scipy'.*numba-compatible"):
        loss.loss([0.0], [1.0])
    assert isinstance(CustomLossCompileError("x"), ValueError)
    loss = make_loss(squared, returns_tuple)
    with pytest.raises(CustomLossCompileError, match=r"gradient function 'returns_tuple' must return one real"):
        loss.gradient([0.0], [1.0])
    loss = make_loss(squared, squared_grad, uses_scipy)
    with pytest.raises(CustomLossCompileError, match="hessian function 'uses_scipy'"):
        loss.hessian([0.0], [1.0])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(loss=1.0, gradient=squared_grad), TypeError, "'loss' must be a Python function"),
        (dict(loss=squared, gradient="grad"), TypeError, "'gradient' must be a Python function"),
        (dict(loss=squared, gradient=squared_grad, hessian=3), TypeError, "'hessian'"),
        (dict(loss=one_argument, gradient=squared_grad), TypeError, "two positional arguments"),
        (dict(loss=squared, gradient=squared_grad, link="cubic"), ValueError, "Unknown link 'cubic'.*identity"),
        (dict(loss=squared, gradient=squared_grad, task="ranking"), ValueError, "'task' must be one of"),
        (dict(loss=squared, gradient=squared_grad, is_probabilistic=True), ValueError, "is_probabilistic=True"),
        (dict(loss=squared, gradient=squared_grad, is_smooth="yes"), ValueError, "'is_smooth'"),
        (dict(loss=squared, gradient=squared_grad, name=""), ValueError, "'name'"),
        (dict(loss=squared, gradient=squared_grad, likelihood="normal"), ValueError, "'likelihood'"),
        (dict(loss=squared, gradient=squared_grad, y_domain="integers"), ValueError, "'y_domain'"),
        (
            dict(loss=logistic, gradient=logistic_grad, task="classification", y_domain="positive"),
            ValueError,
            "'y_domain' applies to regression",
        ),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_loss(**kwargs)


def test_set_params_is_validated_at_use():
    loss = make_loss(squared, squared_grad)
    loss.set_params(link="cubic")  # parameters only: validated at use
    with pytest.raises(ValueError, match="Unknown link"):
        loss.loss([0.0], [1.0])


# ------------------------------------------------------- the subclassing route
class NumpyLogisticLoss(Loss):
    """The example of make_loss's Notes: a NumPy subclass."""

    name = "numpy_logistic"
    task = "classification"
    is_probabilistic = True
    _link_name = "logit"

    def __init__(self):
        pass

    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        if raw.ndim == 2:
            return self._evaluate_ovr(y, raw, sw, want_loss, want_grad, want_hess)
        w = sw if sw.size else 1.0
        p = expit(raw)
        loss = w * (-log_expit(raw) + (1 - y) * raw) if want_loss else None
        grad = w * (p - y) if want_grad else None
        hess = w * p * (1 - p) if want_hess else None
        return loss, grad, hess


def test_subclass_route():
    loss = NumpyLogisticLoss()
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 30)
    raw = rng.normal(scale=3, size=30)
    np.testing.assert_allclose(loss.loss(y, raw), get_loss("log_loss").loss(y, raw), rtol=1e-12)
    report = check_loss(loss)
    assert report["multiclass"] == "passed" and report["extremes"] == "passed"


# ------------------------------------------------------------- in estimators
def test_custom_losses_fit_like_the_built_in_ones():
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import StandardScaler

    from skloss.linear_model import MLELinearRegression
    from skloss.metrics import make_loss_scorer

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    custom = MLELinearRegression(loss=make_loss(logcosh, logcosh_grad, logcosh_hess)).fit(X, y)
    builtin = MLELinearRegression(loss="log_cosh").fit(X, y)
    np.testing.assert_allclose(custom.coef_, builtin.coef_, rtol=1e-6, atol=1e-4)
    assert custom.intercept_ == pytest.approx(builtin.intercept_, rel=1e-7)
    custom = MLELinearRegression(
        loss=make_loss(poisson, poisson_grad, poisson_hess, link="log", y_domain="nonnegative")
    ).fit(X, y)
    builtin = MLELinearRegression(loss="poisson").fit(X, y)
    np.testing.assert_allclose(custom.coef_, builtin.coef_, rtol=1e-6, atol=1e-8)
    # a grid search over losses, judged by a third loss: the custom log-cosh
    # scores what the built-in one scores
    gs = GridSearchCV(
        MLELinearRegression(),
        {"loss": ["log_cosh", make_loss(logcosh, logcosh_grad, logcosh_hess, name="my_logcosh")]},
        scoring=make_loss_scorer("absolute_error"),
        cv=3,
    ).fit(X, y)
    builtin_score, custom_score = gs.cv_results_["mean_test_score"]
    assert custom_score == pytest.approx(builtin_score, rel=1e-7)
