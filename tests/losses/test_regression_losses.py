"""Tests of the regression losses, their kernels and their likelihoods.

Every expected value comes from an independent reference: finite differences,
scikit-learn's metrics and private ``sklearn._loss`` / SGD losses, scipy.stats
densities, scipy.optimize, NumPy's elementary functions, or a closed form.
"""

import math
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import optimize, special, stats
from sklearn import metrics
from sklearn._loss import loss as sk_loss
from sklearn.base import clone
from sklearn.linear_model import _sgd_fast

from skloss._kernels import _regression as kernels
from skloss.losses import (
    AbsoluteError,
    AsymmetricLaplace,
    EpsilonInsensitiveLoss,
    Gamma,
    GammaLoss,
    HessianUnavailableError,
    HuberLoss,
    Laplace,
    LogCoshLoss,
    Normal,
    PinballLoss,
    Poisson,
    PoissonLoss,
    PseudoHuberLoss,
    QuantileLoss,
    SquaredEpsilonInsensitiveLoss,
    SquaredError,
    SquaredLogError,
    StudentT,
    StudentTLoss,
    Tweedie,
    TweedieLoss,
    available_losses,
    get_loss,
)

# ----------------------------------------------------------------------------
# the cases: a loss, the kind of y it accepts, a raw range, where it has kinks
# ----------------------------------------------------------------------------
REAL, NONNEG, POSITIVE, ABOVE_M1 = "real", "nonneg", "positive", "above_-1"


def _no_kinks(y, r):
    return ()


def _kink_at_zero(y, r):
    return (r - y,)


def _kinks_at(width):
    def kinks(y, r):
        d = abs(r - y)
        return (d - width, d)

    return kinks


def _huber_kinks(delta):
    def kinks(y, r):
        return (abs(r - y) - delta,)

    return kinks


CASES = [
    # (id, loss, y kind, raw range, kinks of the gradient (for Hessian FD) / of the loss (for gradient FD))
    ("squared_error", SquaredError(), REAL, 30.0, _no_kinks),
    ("absolute_error", AbsoluteError(), REAL, 30.0, _kink_at_zero),
    ("huber_0.5", HuberLoss(delta=0.5), REAL, 30.0, _huber_kinks(0.5)),
    ("huber_2", HuberLoss(delta=2.0), REAL, 30.0, _huber_kinks(2.0)),
    ("pseudo_huber_0.7", PseudoHuberLoss(delta=0.7), REAL, 30.0, _no_kinks),
    ("pseudo_huber_3", PseudoHuberLoss(delta=3.0), REAL, 30.0, _no_kinks),
    ("log_cosh", LogCoshLoss(), REAL, 30.0, _no_kinks),
    ("quantile_0.1", QuantileLoss(quantile=0.1), REAL, 30.0, _kink_at_zero),
    ("quantile_0.5", QuantileLoss(quantile=0.5), REAL, 30.0, _kink_at_zero),
    ("quantile_0.9", QuantileLoss(quantile=0.9), REAL, 30.0, _kink_at_zero),
    ("epsilon_insensitive_0", EpsilonInsensitiveLoss(epsilon=0.0), REAL, 30.0, _kinks_at(0.0)),
    ("epsilon_insensitive_0.3", EpsilonInsensitiveLoss(epsilon=0.3), REAL, 30.0, _kinks_at(0.3)),
    ("squared_epsilon_insensitive_0", SquaredEpsilonInsensitiveLoss(epsilon=0.0), REAL, 30.0, _kinks_at(0.0)),
    ("squared_epsilon_insensitive_0.3", SquaredEpsilonInsensitiveLoss(epsilon=0.3), REAL, 30.0, _kinks_at(0.3)),
    ("squared_log_error", SquaredLogError(), ABOVE_M1, 8.0, _no_kinks),
    ("poisson", PoissonLoss(), NONNEG, 8.0, _no_kinks),
    ("gamma", GammaLoss(), POSITIVE, 8.0, _no_kinks),
    ("tweedie_0", TweedieLoss(power=0), REAL, 30.0, _no_kinks),
    ("tweedie_1", TweedieLoss(power=1), NONNEG, 8.0, _no_kinks),
    ("tweedie_1.2", TweedieLoss(power=1.2), NONNEG, 8.0, _no_kinks),
    ("tweedie_1.5", TweedieLoss(power=1.5), NONNEG, 8.0, _no_kinks),
    ("tweedie_2", TweedieLoss(power=2), POSITIVE, 8.0, _no_kinks),
    ("tweedie_2.5", TweedieLoss(power=2.5), POSITIVE, 8.0, _no_kinks),
    ("tweedie_3", TweedieLoss(power=3), POSITIVE, 8.0, _no_kinks),
    ("student_t_1", StudentTLoss(df=1.0), REAL, 30.0, _no_kinks),
    ("student_t_3", StudentTLoss(df=3.0), REAL, 30.0, _no_kinks),
    ("student_t_30", StudentTLoss(df=30.0), REAL, 30.0, _no_kinks),
]
CASE_IDS = [c[0] for c in CASES]
LOSSES = [c[1] for c in CASES]


def y_sample(kind, rng, n):
    if kind == REAL:
        return rng.normal(scale=3.0, size=n)
    if kind == NONNEG:
        y = rng.poisson(2.0, size=n).astype(np.float64) * rng.uniform(0.5, 1.5, size=n)
        y[:3] = 0.0
        return y
    if kind == POSITIVE:
        return rng.gamma(2.0, 1.5, size=n) + 1e-3
    return rng.uniform(-0.99, 20.0, size=n)


def y_strategy(kind):
    if kind == REAL:
        return st.floats(-20.0, 20.0)
    if kind == NONNEG:
        return st.one_of(st.just(0.0), st.floats(0.0, 50.0))
    if kind == POSITIVE:
        return st.floats(1e-3, 50.0)
    return st.floats(-0.999, 50.0)


def test_every_regression_loss_is_covered():
    assert {type(loss).name for loss in LOSSES} == set(available_losses("regression"))


# ----------------------------------------------------------------------------
# gradient and Hessian against finite differences
# ----------------------------------------------------------------------------


def _fd(f, x, h):
    # fifth-order central difference, error O(h^4)
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


def _scalar(method, loss, y):
    return lambda r: float(getattr(loss, method)(np.array([y]), np.array([r]))[0])


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradient_and_hessian_match_finite_differences(case):
    _, loss, kind, span, kinks = case

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(y=y_strategy(kind), r=st.floats(-span, span))
    def check(y, r):
        h = 1e-4 * (1.0 + abs(r))
        # keep the 5-point stencil away from the kinks (of the loss or the gradient)
        assume(all(abs(k) > 3 * h for k in kinks(y, r)))
        value = _scalar("loss", loss, y)(r)
        grad = _scalar("gradient", loss, y)(r)
        fd_grad = _fd(_scalar("loss", loss, y), r, h)
        assert abs(grad - fd_grad) <= 1e-6 * (1.0 + abs(grad) + abs(value)), (y, r, grad, fd_grad)
        if loss.has_hessian:
            hess = _scalar("hessian", loss, y)(r)
            fd_hess = _fd(_scalar("gradient", loss, y), r, h)
            assert abs(hess - fd_hess) <= 1e-6 * (1.0 + abs(hess) + abs(grad)), (y, r, hess, fd_hess)

    check()


@pytest.mark.parametrize(
    "loss", [AbsoluteError(), QuantileLoss(quantile=0.3), EpsilonInsensitiveLoss(epsilon=0.2)], ids=str
)
def test_non_smooth_losses_have_no_hessian_and_a_min_norm_subgradient(loss):
    assert not loss.is_smooth and not loss.has_hessian
    with pytest.raises(HessianUnavailableError, match="no Hessian"):
        loss.hessian([0.0], [1.0])
    # at the kink the subgradient is 0; elsewhere the sign of r - y (scikit-learn's)
    assert loss.gradient([1.0], [1.0])[0] == 0.0
    assert loss.gradient([0.0], [5.0])[0] > 0 > loss.gradient([5.0], [0.0])[0]


def test_smoothness_flags():
    smooth = {"squared_error", "huber", "pseudo_huber", "log_cosh", "squared_epsilon_insensitive",
              "squared_log_error", "poisson", "gamma", "tweedie", "student_t"}
    for name in available_losses("regression"):
        loss = get_loss(name)
        assert loss.is_smooth == (name in smooth), name
        assert loss.has_hessian == (name in smooth), name


# ----------------------------------------------------------------------------
# values against scikit-learn
# ----------------------------------------------------------------------------


def _per_sample(metric, y, pred, **kw):
    return np.array([metric([a], [b], **kw) for a, b in zip(y, pred)])


@pytest.mark.parametrize(
    "loss, metric, kind, inverse",
    [
        (SquaredError(), metrics.mean_squared_error, REAL, None),
        (AbsoluteError(), metrics.mean_absolute_error, REAL, None),
        (QuantileLoss(quantile=0.2), lambda a, b, **k: metrics.mean_pinball_loss(a, b, alpha=0.2, **k), REAL, None),
        (PinballLoss(quantile=0.95), lambda a, b, **k: metrics.mean_pinball_loss(a, b, alpha=0.95, **k), REAL, None),
        (PoissonLoss(), metrics.mean_poisson_deviance, NONNEG, np.exp),
        (GammaLoss(), metrics.mean_gamma_deviance, POSITIVE, np.exp),
        (TweedieLoss(power=0), lambda a, b, **k: metrics.mean_tweedie_deviance(a, b, power=0, **k), REAL, None),
        (TweedieLoss(power=1), lambda a, b, **k: metrics.mean_tweedie_deviance(a, b, power=1, **k), NONNEG, np.exp),
        (TweedieLoss(power=1.2), lambda a, b, **k: metrics.mean_tweedie_deviance(a, b, power=1.2, **k), NONNEG, np.exp),
        (TweedieLoss(power=1.5), lambda a, b, **k: metrics.mean_tweedie_deviance(a, b, power=1.5, **k), NONNEG, np.exp),
        (TweedieLoss(power=2), lambda a, b, **k: metrics.mean_tweedie_deviance(a, b, power=2, **k), POSITIVE, np.exp),
        (TweedieLoss(power=2.5), lambda a, b, **k: metrics.mean_tweedie_deviance(a, b, power=2.5, **k), POSITIVE, np.exp),
        (TweedieLoss(power=3), lambda a, b, **k: metrics.mean_tweedie_deviance(a, b, power=3, **k), POSITIVE, np.exp),
        (SquaredLogError(), metrics.mean_squared_log_error, ABOVE_M1, np.expm1),
    ],
    ids=lambda v: str(v) if not callable(v) or isinstance(v, type) else "",
)
def test_values_match_sklearn_metrics(loss, metric, kind, inverse):
    rng = np.random.default_rng(0)
    n = 60
    y = y_sample(kind, rng, n)
    raw = rng.normal(scale=1.0, size=n) + (np.log(np.mean(y) + 1) if inverse is not None else 0.0)
    pred = raw if inverse is None else inverse(raw)
    assert loss.inverse_link(raw) == pytest.approx(pred, rel=1e-15)
    sw = rng.uniform(0.1, 3.0, size=n)
    values = loss.loss(y, raw)
    assert_allclose(values, _per_sample(metric, y, pred), rtol=1e-10, atol=1e-12)
    assert np.mean(values) == pytest.approx(metric(y, pred), rel=1e-10)
    assert np.sum(loss.loss(y, raw, sw)) / sw.sum() == pytest.approx(metric(y, pred, sample_weight=sw), rel=1e-10)


@pytest.mark.parametrize(
    "loss, sk, factor",
    [
        (SquaredError(), sk_loss.HalfSquaredError(), 2.0),
        (AbsoluteError(), sk_loss.AbsoluteError(), 1.0),
        (HuberLoss(delta=0.8), sk_loss.HuberLoss(delta=0.8), 1.0),
        (QuantileLoss(quantile=0.7), sk_loss.PinballLoss(quantile=0.7), 1.0),
        (PoissonLoss(), sk_loss.HalfPoissonLoss(), 2.0),
        (GammaLoss(), sk_loss.HalfGammaLoss(), 2.0),
        (TweedieLoss(power=1.5), sk_loss.HalfTweedieLoss(power=1.5), 2.0),
        (TweedieLoss(power=3), sk_loss.HalfTweedieLoss(power=3), 2.0),
    ],
    ids=["squared_error", "absolute_error", "huber", "quantile", "poisson", "gamma", "tweedie_1.5", "tweedie_3"],
)
def test_conventions_against_sklearn_private_losses(loss, sk, factor):
    """``loss = factor * (sklearn loss + its constant_to_optimal_zero)``, and the
    same factor on the gradient (and Hessian away from kinks)."""
    rng = np.random.default_rng(1)
    n = 200
    if loss.link == "log":
        y = rng.gamma(2.0, 1.5, size=n) + 0.01
        raw = rng.normal(scale=0.8, size=n)
    else:
        y = rng.normal(scale=2.0, size=n)
        raw = rng.normal(scale=2.0, size=n)
    sw = rng.uniform(0.5, 2.0, size=n)
    expected = factor * (sk.loss(y, raw) + sk.constant_to_optimal_zero(y))
    assert_allclose(loss.loss(y, raw), expected, rtol=1e-10, atol=1e-12)
    assert_allclose(loss.gradient(y, raw, sw), factor * sk.gradient(y, raw, sw), rtol=1e-12, atol=1e-14)
    if loss.has_hessian:
        _, h = sk.gradient_hessian(y, raw, sw)
        assert_allclose(loss.hessian(y, raw, sw), factor * h, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "loss, sgd",
    [
        (EpsilonInsensitiveLoss(epsilon=0.25), _sgd_fast.EpsilonInsensitive(0.25)),
        (SquaredEpsilonInsensitiveLoss(epsilon=0.25), _sgd_fast.SquaredEpsilonInsensitive(0.25)),
    ],
    ids=["epsilon_insensitive", "squared_epsilon_insensitive"],
)
def test_epsilon_losses_match_sgd_regressor(loss, sgd):
    rng = np.random.default_rng(2)
    y = rng.normal(size=100)
    raw = y + rng.normal(scale=0.6, size=100)
    assert_allclose(loss.loss(y, raw), [sgd.py_loss(p, t) for p, t in zip(raw, y)], rtol=1e-14)
    grad = loss.gradient(y, raw)
    away = np.abs(np.abs(raw - y) - 0.25) > 1e-9
    assert_allclose(grad[away], np.array([sgd.py_dloss(p, t) for p, t in zip(raw, y)])[away], rtol=1e-14)


def test_huber_and_pseudo_huber_closed_forms():
    d = np.array([-7.0, -1.0, -0.3, 0.0, 0.2, 1.0, 1.5, 40.0])
    y = np.zeros_like(d)
    delta = 1.2
    huber = np.where(np.abs(d) <= delta, 0.5 * d**2, delta * (np.abs(d) - delta / 2))
    assert_allclose(HuberLoss(delta=delta).loss(y, d), huber, rtol=1e-15)
    assert_allclose(HuberLoss(delta=delta).gradient(y, d), np.clip(d, -delta, delta), rtol=1e-15)
    assert_array_equal(HuberLoss(delta=delta).hessian(y, d), (np.abs(d) <= delta).astype(float))
    ph = delta**2 * (np.sqrt(1 + (d / delta) ** 2) - 1)
    assert_allclose(PseudoHuberLoss(delta=delta).loss(y, d), ph, rtol=1e-13)
    # tiny residuals: the series d^2 / 2 - d^4 / (8 delta^2), where the naive formula cancels
    tiny = np.array([1e-9, 3e-6, -2e-4])
    series = tiny**2 / 2 - tiny**4 / (8 * delta**2)
    assert_allclose(PseudoHuberLoss(delta=delta).loss(np.zeros(3), tiny), series, rtol=1e-14)


def test_log_cosh_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    d = np.array([-30.0, -3.0, -1.0, -0.999, -0.2, -1e-5, 0.0, 1e-12, 1e-3, 0.5, 1.0, 1.001, 2.0, 25.0, 300.0])
    y = np.zeros_like(d)
    loss = LogCoshLoss()
    ref = [float(mpmath.log(mpmath.cosh(mpmath.mpf(t)))) for t in d]
    assert_allclose(loss.loss(y, d), ref, rtol=1e-15, atol=0)
    assert_allclose(loss.gradient(y, d), [float(mpmath.tanh(t)) for t in d], rtol=1e-15, atol=0)
    assert_allclose(loss.hessian(y, d), [float(mpmath.sech(t) ** 2) for t in d], rtol=1e-15, atol=0)
    assert loss.loss([0.0], [1e6])[0] == pytest.approx(1e6 - math.log(2), rel=1e-15)


@pytest.mark.parametrize("df", [0.5, 1.0, 3.0, 100.0])
def test_student_t_is_the_t_negative_log_likelihood(df):
    rng = np.random.default_rng(3)
    y = rng.normal(scale=3, size=50)
    raw = rng.normal(size=50)
    # loss = log p(y | loc = y) - log p(y | loc = raw): the constants cancel
    expected = stats.t.logpdf(0.0, df) - stats.t.logpdf(y, df, loc=raw)
    assert_allclose(StudentTLoss(df=df).loss(y, raw), expected, rtol=1e-12, atol=1e-14)


def test_tweedie_special_powers_are_the_named_losses():
    rng = np.random.default_rng(4)
    y = rng.gamma(2.0, size=30) + 0.1
    raw = rng.normal(size=30)
    for power, other in ((0, SquaredError()), (1, PoissonLoss()), (2, GammaLoss())):
        tw = TweedieLoss(power=power)
        assert tw.link == other.link
        for method in ("loss", "gradient", "hessian"):
            assert_array_equal(getattr(tw, method)(y, raw), getattr(other, method)(y, raw))
    assert TweedieLoss(power=1.5).link == "log"
    assert_allclose(TweedieLoss(power=1.5).inverse_link([0.0, 1.0]), [1.0, np.e])
    assert_allclose(SquaredLogError().inverse_link([np.log(3.0)]), [2.0])
    # close to the special powers, the general kernel tends to them
    for power, other in ((1 + 1e-7, PoissonLoss()), (2 + 1e-7, GammaLoss())):
        assert_allclose(TweedieLoss(power=power).loss(y, raw), other.loss(y, raw), rtol=1e-5)


# ----------------------------------------------------------------------------
# dtypes, weights, extremes, every kernel path
# ----------------------------------------------------------------------------

METHODS = ("loss", "gradient", "hessian", "loss_gradient", "gradient_hessian", "loss_gradient_hessian")


def _call_all(loss, y, raw, sw=None):
    out = {}
    for method in METHODS:
        if "hessian" in method and not loss.has_hessian:
            continue
        res = getattr(loss, method)(y, raw, sw)
        res = res if isinstance(res, tuple) else (res,)
        names = [m for m in ("loss", "gradient", "hessian") if m in method or method == m]
        for name, value in zip(names, res):
            out[(method, name)] = value
    return out


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_kernel_path_float32_weights(case):
    """All request combinations agree exactly; float32 is the float64 result
    rounded once; weights multiply; vectorised body and remainder agree with
    one-element calls."""
    _, loss, kind, span, _ = case
    rng = np.random.default_rng(5)
    n = 1003  # not a multiple of any vector width
    y = y_sample(kind, rng, n)
    raw = rng.uniform(-span, span, size=n) / 4
    sw = rng.uniform(0.0, 3.0, size=n)
    for weights in (None, sw):
        results = _call_all(loss, y, raw, weights)
        by_name = {}
        for (method, name), value in results.items():
            assert value.dtype == np.float64 and value.shape == (n,)
            if name in by_name:
                assert_array_equal(value, by_name[name], err_msg=f"{method}/{name}")
            by_name[name] = value
        if weights is None:
            plain = by_name
            single = np.array([loss.loss(y[i : i + 1], raw[i : i + 1])[0] for i in range(0, n, 97)])
            assert_array_equal(single, plain["loss"][::97])
        else:
            for name, value in by_name.items():
                assert_array_equal(value, sw * plain[name], err_msg=name)
    # the loss-and-Hessian request (no public method) through the kernel
    kernel = getattr(kernels, loss._kernel_name)
    lo, he = np.empty(n), np.empty(n)
    kernel(y, raw, np.empty(0), loss._kernel_params(), lo, np.empty(0), he)
    assert_array_equal(lo, plain["loss"])
    if loss.has_hessian:
        assert_array_equal(he, plain["hessian"])
    # float32: computed in float64, rounded once on store
    y32, raw32 = y.astype(np.float32), raw.astype(np.float32)
    sw32 = sw.astype(np.float32)
    for weights32, weights64 in ((None, None), (sw32, sw32.astype(np.float64))):
        res32 = _call_all(loss, y32, raw32, weights32)
        res64 = _call_all(loss, y32.astype(np.float64), raw32.astype(np.float64), weights64)
        for key, value in res32.items():
            assert value.dtype == np.float32
            assert_array_equal(value, res64[key].astype(np.float32), err_msg=str(key))


EXTREME_RAW = np.array([-1e6, -1e3, -710.0, -50.0, -1.0, 0.0, 1.0, 50.0, 710.0, 1e3, 1e6])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_extreme_raw_predictions_give_no_nan_and_no_warning(case, dtype):
    _, loss, kind, _, _ = case
    ys = {REAL: [-1e3, -1.0, 0.0, 2.5, 1e3], NONNEG: [0.0, 1e-3, 1.0, 7.0, 1e3],
          POSITIVE: [1e-3, 1.0, 7.0, 1e3], ABOVE_M1: [-0.5, 0.0, 3.0, 1e3]}[kind]
    y = np.repeat(np.array(ys, dtype=dtype), EXTREME_RAW.size)
    raw = np.tile(EXTREME_RAW.astype(dtype), len(ys))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        results = _call_all(loss, y, raw)
    for (method, name), value in results.items():
        assert not np.any(np.isnan(value)), (method, name, y[np.isnan(value)], raw[np.isnan(value)])
        if name == "loss":
            assert np.all(value >= 0) or type(loss).name == "student_t"  # no -inf either
            if loss.link != "log":
                # identity / log1p links: every value is representable
                big = np.abs(raw.astype(np.float64) - y) ** 2 > 3e38
                assert np.all(np.isfinite(value[~big]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_values_that_are_representable_are_finite(dtype):
    def ev(loss, y, r):
        return loss.loss_gradient_hessian(np.array([y], dtype), np.array([r], dtype))

    # Poisson at raw = -1e6: 2 (y log y + 1e6 y - y) is finite; at +1e6 exp overflows
    lo, g, h = ev(PoissonLoss(), 2.0, -1e6)
    assert lo[0] == pytest.approx(2 * (2 * math.log(2) + 2e6 - 2), rel=1e-6)
    assert g[0] == -4.0 and h[0] == 0.0
    lo, g, h = ev(PoissonLoss(), 0.0, -1e6)
    assert lo[0] == 0.0
    lo, g, h = ev(PoissonLoss(), 2.0, 1e6)
    assert lo[0] == np.inf and g[0] == np.inf and h[0] == np.inf
    # Gamma at raw = +1e6: 2 (1e6 - log y - 1) is finite; at -1e6 y / mu overflows
    lo, g, h = ev(GammaLoss(), 3.0, 1e6)
    assert lo[0] == pytest.approx(2 * (1e6 - math.log(3) - 1), rel=1e-6)
    assert g[0] == 2.0 and h[0] == 0.0
    lo, g, h = ev(GammaLoss(), 3.0, -1e6)
    assert lo[0] == np.inf and g[0] == -np.inf and h[0] == np.inf
    # Tweedie 1.5 with y = 0 at raw = -1e6: 2 mu^0.5 / 0.5 -> 0; Tweedie 3 at raw = +1e6 -> 1 / y
    lo, g, h = ev(TweedieLoss(power=1.5), 0.0, -1e6)
    assert lo[0] == 0.0 and g[0] == 0.0 and h[0] == 0.0
    lo, g, h = ev(TweedieLoss(power=3), 2.0, 1e6)
    assert lo[0] == pytest.approx(2 * 2.0**-1 / 2, rel=1e-6) and g[0] == 0.0 and h[0] == 0.0
    lo, g, h = ev(TweedieLoss(power=3), 2.0, -1e6)
    assert lo[0] == np.inf and g[0] == -np.inf and h[0] == np.inf
    # the identity-link losses stay finite at |d| = 1e6 (float32 included)
    lo, g, h = ev(LogCoshLoss(), 0.0, -1e6)
    assert lo[0] == pytest.approx(1e6 - math.log(2), rel=1e-7) and g[0] == -1.0 and h[0] == 0.0
    lo, g, h = ev(PseudoHuberLoss(delta=0.5), 0.0, 1e6)
    assert lo[0] == pytest.approx(0.5 * (1e6 - 0.5), rel=1e-7) and g[0] == pytest.approx(0.5)
    lo, g, h = ev(StudentTLoss(df=3.0), 0.0, 1e6)
    assert lo[0] == pytest.approx(2 * math.log1p(1e12 / 3), rel=1e-7)
    assert g[0] == pytest.approx(4e6 / (3 + 1e12), rel=1e-6) and h[0] < 0


# ----------------------------------------------------------------------------
# the elementary functions of the kernels
# ----------------------------------------------------------------------------


def _ulps(got, ref):
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def test_kernel_exp_log_log1p_accuracy():
    rng = np.random.default_rng(6)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 5e-324, 1e-310, 1.7976931348623157e308])
    x = np.concatenate([rng.uniform(-745, 709.7, 200_000), rng.normal(size=100_000), specials,
                        [709.78, 709.79, -745.1, -745.2, 1e6, -1e6]])
    out = np.empty_like(x)
    kernels.elementary(0, x, out)
    with np.errstate(all="ignore"):
        ref = np.exp(x)
    normal = np.isfinite(ref) & (ref >= np.finfo(float).tiny)
    assert _ulps(out[normal], ref[normal]).max() <= 1.0
    sub = (ref > 0) & (ref < np.finfo(float).tiny)
    assert np.all(np.abs(out[sub] - ref[sub]) <= 5e-324)
    assert_array_equal(out[~np.isfinite(ref) | (ref == 0)], ref[~np.isfinite(ref) | (ref == 0)])

    xl = np.concatenate([np.exp(rng.uniform(-744, 709, 200_000)), rng.uniform(0.5, 2.0, 100_000),
                         1 + rng.normal(size=1000) * 1e-10, specials])
    kernels.elementary(1, xl, out := np.empty_like(xl))
    with np.errstate(all="ignore"):
        ref = np.log(xl)
    fin = np.isfinite(ref) & (ref != 0)
    assert _ulps(out[fin], ref[fin]).max() <= 2.0
    assert_array_equal(out[~fin], ref[~fin])

    x1 = np.concatenate([rng.normal(size=100_000) * 1e-8, np.expm1(rng.uniform(-30, 700, 100_000)),
                         rng.uniform(-1, 1, 100_000), specials, [-2.0, -0.9999999999999999]])
    kernels.elementary(2, x1, out := np.empty_like(x1))
    with np.errstate(all="ignore"):
        ref = np.log1p(x1)
    fin = np.isfinite(ref) & (ref != 0)
    assert _ulps(out[fin], ref[fin]).max() <= 2.0
    assert_array_equal(out[~fin], ref[~fin])


# ----------------------------------------------------------------------------
# parameter objects
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES, ids=CASE_IDS)
def test_clone_pickle_equality_set_params(loss):
    y = np.array([0.5, 1.0, 2.0])
    raw = np.array([0.1, 0.2, 0.9])
    c = clone(loss)
    assert c == loss and c is not loss and hash(c) == hash(loss)
    p = pickle.loads(pickle.dumps(loss))
    assert p == loss
    assert_array_equal(p.loss(y, raw), loss.loss(y, raw))
    params = loss.get_params()
    assert eval(repr(loss), {type(loss).__name__: type(loss)}) == loss
    if params:
        key = next(iter(params))
        changed = clone(loss).set_params(**{key: params[key] + 0.125})
        assert changed != loss and getattr(changed, key) == params[key] + 0.125
        assert getattr(loss, key) == params[key]  # the original is untouched
    before = loss.get_params()
    loss.loss_gradient(y, raw)
    loss.init_raw_prediction(y)
    assert loss.get_params() == before


@pytest.mark.parametrize(
    "loss, match",
    [
        (HuberLoss(delta=0.0), "'delta' parameter of HuberLoss must be in \\(0"),
        (HuberLoss(delta=np.nan), "'delta'.*finite"),
        (PseudoHuberLoss(delta=-1.0), "'delta'"),
        (QuantileLoss(quantile=1.0), "'quantile' parameter of QuantileLoss must be in \\(0, 1\\)"),
        (QuantileLoss(quantile=0.0), "'quantile'"),
        (QuantileLoss(quantile="0.5"), "'quantile'.*finite real"),
        (EpsilonInsensitiveLoss(epsilon=-0.1), "'epsilon'"),
        (SquaredEpsilonInsensitiveLoss(epsilon=-1.0), "'epsilon'"),
        (StudentTLoss(df=0.0), "'df'"),
        (TweedieLoss(power=0.5), "must be 0 or >= 1.*0 < power < 1 do not exist"),
        (TweedieLoss(power=-1.0), "must be 0 or >= 1.*negative"),
        (TweedieLoss(power=np.inf), "'power'.*finite"),
    ],
    ids=str,
)
def test_invalid_parameters_raise_on_use(loss, match):
    # __init__ stores parameters only; validation happens on use
    with pytest.raises(ValueError, match=match):
        loss.loss([1.0], [0.0])
    with pytest.raises(ValueError, match=match):
        loss.init_raw_prediction([1.0, 2.0]) if type(loss).name in ("quantile", "tweedie") else loss.gradient([1.0], [0.0])


@pytest.mark.parametrize(
    "loss, y, message",
    [
        (PoissonLoss(), [1.0, -1.0], "Loss 'poisson' requires y_true >= 0; got min -1.0"),
        (GammaLoss(), [1.0, 0.0], "Loss 'gamma' requires y_true > 0; got min 0.0"),
        (TweedieLoss(power=1.5), [-2.0, 1.0], "Loss 'tweedie' with power=1.5 requires y_true >= 0; got min -2.0"),
        (TweedieLoss(power=3), [0.0, 1.0], "Loss 'tweedie' with power=3 requires y_true > 0; got min 0.0"),
        (TweedieLoss(power=1), [-1.0], "requires y_true >= 0"),
        (SquaredLogError(), [-1.0, 2.0], "Loss 'squared_log_error' requires y_true > -1; got min -1.0"),
        (SquaredError(), [1.0, np.nan], "NaN or infinity"),
        (AbsoluteError(), ["a"], "numeric"),
    ],
    ids=str,
)
def test_validate_y_names_loss_and_domain(loss, y, message):
    with pytest.raises(ValueError, match=message.replace("(", "\\(").replace(")", "\\)")):
        loss.validate_y(y)


def test_validate_y_accepts_the_domain():
    assert_array_equal(PoissonLoss().validate_y([0, 1, 2]), [0.0, 1.0, 2.0])
    GammaLoss().validate_y([1e-300, 5.0])
    TweedieLoss(power=0).validate_y([-3.0, 0.0])
    TweedieLoss(power=1.5).validate_y([0.0, 3.0])
    SquaredLogError().validate_y([-0.999, 3.0])
    assert PoissonLoss().validate_y(np.array([1.0], np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "alias, cls",
    [("mse", SquaredError), ("mae", AbsoluteError), ("l1", AbsoluteError), ("mean_absolute_error", AbsoluteError),
     ("huber_loss", HuberLoss), ("pinball", QuantileLoss), ("quantile_loss", QuantileLoss),
     ("mean_pinball_loss", QuantileLoss), ("logcosh", LogCoshLoss), ("log_cosh", LogCoshLoss),
     ("msle", SquaredLogError), ("mean_squared_logarithmic_error", SquaredLogError),
     ("mean_squared_log_error", SquaredLogError), ("poisson_deviance", PoissonLoss),
     ("mean_gamma_deviance", GammaLoss), ("mean_tweedie_deviance", TweedieLoss), ("studentt", StudentTLoss),
     ("pseudo-huber", PseudoHuberLoss), ("epsilon_insensitive", EpsilonInsensitiveLoss),
     ("squared_epsilon_insensitive", SquaredEpsilonInsensitiveLoss)],
)
def test_aliases(alias, cls):
    assert type(get_loss(alias)) is cls
    assert get_loss(alias).task == "regression"


def test_get_loss_with_parameters():
    assert get_loss("pinball", quantile=0.9) == QuantileLoss(quantile=0.9)
    assert get_loss("tweedie", power=3) == TweedieLoss(power=3)
    assert PinballLoss is QuantileLoss


# ----------------------------------------------------------------------------
# likelihoods
# ----------------------------------------------------------------------------


def test_likelihood_objects_carry_the_loss_parameters():
    assert SquaredError().likelihood == Normal()
    assert AbsoluteError().likelihood == Laplace()
    assert QuantileLoss(quantile=0.3).likelihood == AsymmetricLaplace(quantile=0.3)
    assert PoissonLoss().likelihood == Poisson()
    assert GammaLoss().likelihood == Gamma()
    assert TweedieLoss(power=1.7).likelihood == Tweedie(power=1.7)
    assert StudentTLoss(df=4.0).likelihood == StudentT(df=4.0)
    for name in ("huber", "pseudo_huber", "log_cosh", "epsilon_insensitive", "squared_epsilon_insensitive",
                 "squared_log_error"):
        assert get_loss(name).likelihood is None
    assert not Poisson().has_scale and Gamma().has_scale
    assert not Tweedie(power=1).has_scale and Tweedie(power=1.5).has_scale
    assert Laplace().scale_name == "b" and Gamma().scale_name == "dispersion"


def _data(kind, n=40, seed=7):
    rng = np.random.default_rng(seed)
    return y_sample(kind, rng, n), rng.normal(scale=0.7, size=n)


def test_logpdf_against_scipy_stats():
    y, r = _data(REAL)
    assert_allclose(Normal().logpdf(y, r, 1.7), stats.norm.logpdf(y, r, 1.7), rtol=1e-13)
    assert_allclose(Laplace().logpdf(y, r, 0.6), stats.laplace.logpdf(y, r, 0.6), rtol=1e-13)
    for q in (0.1, 0.5, 0.8):
        kappa = math.sqrt(q / (1 - q))
        ref = stats.laplace_asymmetric.logpdf(y, kappa, loc=r, scale=1.3 / math.sqrt(q * (1 - q)))
        assert_allclose(AsymmetricLaplace(quantile=q).logpdf(y, r, 1.3), ref, rtol=1e-12)
    for df in (1.0, 3.5, 50.0):
        assert_allclose(StudentT(df=df).logpdf(y, r, 2.2), stats.t.logpdf(y, df, r, 2.2), rtol=1e-12)
    assert_allclose(Tweedie(power=0).logpdf(y, r, 2.0), stats.norm.logpdf(y, r, math.sqrt(2.0)), rtol=1e-13)

    yc = np.random.default_rng(8).poisson(3.0, size=40).astype(float)
    assert_allclose(Poisson().logpdf(yc, r), stats.poisson.logpmf(yc, np.exp(r)), rtol=1e-12)
    assert_allclose(Tweedie(power=1).logpdf(yc, r), stats.poisson.logpmf(yc, np.exp(r)), rtol=1e-12)

    yp, _ = _data(POSITIVE)
    mu = np.exp(r)
    assert_allclose(Gamma().logpdf(yp, r, 0.4), stats.gamma.logpdf(yp, 1 / 0.4, scale=mu * 0.4), rtol=1e-12)
    assert_allclose(Tweedie(power=2).logpdf(yp, r, 0.4), stats.gamma.logpdf(yp, 1 / 0.4, scale=mu * 0.4), rtol=1e-12)
    assert_allclose(Tweedie(power=3).logpdf(yp, r, 0.4), stats.invgauss.logpdf(yp, mu * 0.4, scale=1 / 0.4),
                    rtol=1e-12)


@pytest.mark.parametrize("power, phi", [(1.2, 0.5), (1.5, 0.7), (1.8, 2.0)])
def test_tweedie_series_against_the_compound_poisson_sum(power, phi):
    """Dunn & Smyth's series against the compound Poisson-gamma mixture summed
    term by term with scipy.stats, and the density integrates to 1 - P(y = 0)."""
    y = np.array([0.0, 1e-3, 0.05, 0.4, 1.0, 2.5, 9.0, 40.0, 150.0])
    mu = np.array([1.0, 0.5, 0.2, 2.0, 1.0, 3.0, 8.0, 35.0, 120.0])
    got = Tweedie(power=power).logpdf(y, np.log(mu), phi)
    lam = mu ** (2 - power) / (phi * (2 - power))
    shape = (2 - power) / (power - 1)
    scale = phi * (power - 1) * mu ** (power - 1)
    n = np.arange(1, 4000)
    ref = [-lam[0]] + [
        special.logsumexp(stats.poisson.logpmf(n, lam[i]) + stats.gamma.logpdf(y[i], n * shape, scale=scale[i]))
        for i in range(1, y.size)
    ]
    assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    from scipy.integrate import quad

    for m in (0.3, 4.0):
        mass, _ = quad(lambda t: math.exp(Tweedie(power=power).logpdf([t], [math.log(m)], phi)[0]), 0, np.inf,
                       limit=400, epsabs=1e-12)
        assert mass + math.exp(-(m ** (2 - power)) / (phi * (2 - power))) == pytest.approx(1.0, abs=1e-8)


def test_tweedie_likelihood_other_powers_not_implemented():
    with pytest.raises(NotImplementedError, match="power 0, 1, 2, 3 and 1 < power < 2; got power=2.5"):
        Tweedie(power=2.5).logpdf([1.0], [0.0], 1.0)


def test_losses_are_their_likelihoods_up_to_constants():
    y, r = _data(POSITIVE)
    # deviance = 2 (log p(y | mu = y) - log p(y | mu)) for Poisson, and phi * that for Gamma / Tweedie
    yc = np.round(y * 3)
    assert_allclose(PoissonLoss().loss(yc, r), 2 * (Poisson().logpdf(yc, np.log(np.maximum(yc, 1e-300)))
                                                     - Poisson().logpdf(yc, r)), rtol=1e-10, atol=1e-10)
    phi = 0.3
    assert_allclose(GammaLoss().loss(y, r), 2 * phi * (Gamma().logpdf(y, np.log(y), phi) - Gamma().logpdf(y, r, phi)),
                    rtol=1e-10)
    tw = Tweedie(power=1.5)
    assert_allclose(TweedieLoss(power=1.5).loss(y, r), 2 * phi * (tw.logpdf(y, np.log(y), phi) - tw.logpdf(y, r, phi)),
                    rtol=1e-9)
    b = 0.8
    assert_allclose(AbsoluteError().loss(y, r), -b * (Laplace().logpdf(y, r, b) + math.log(2 * b)), rtol=1e-12)
    assert_allclose(QuantileLoss(quantile=0.3).loss(y, r),
                    -(AsymmetricLaplace(quantile=0.3).logpdf(y, r, 1.0) - math.log(0.21)), rtol=1e-12)


def _argmax_scale(loglik, guess):
    res = optimize.minimize_scalar(lambda t: -loglik(math.exp(t)), bracket=(math.log(guess) - 1, math.log(guess) + 1),
                                   tol=1e-12)
    return math.exp(res.x)


def test_mle_scale_against_numerical_maximisation_and_closed_forms():
    rng = np.random.default_rng(9)
    n = 400
    sw = rng.integers(1, 4, size=n).astype(float)
    r = rng.normal(scale=0.5, size=n)
    y = r + rng.standard_t(5, size=n)
    yp = np.exp(r) * rng.gamma(3.0, 1 / 3.0, size=n)
    # closed forms
    assert Normal().mle_scale(y, r, sw) == pytest.approx(math.sqrt(np.average((y - r) ** 2, weights=sw)), rel=1e-14)
    assert Laplace().mle_scale(y, r, sw) == pytest.approx(np.average(np.abs(y - r), weights=sw), rel=1e-14)
    # numerical maximisation of the scipy.stats log-likelihood
    checks = [
        (Laplace(), y, lambda s: np.dot(sw, stats.laplace.logpdf(y, r, s))),
        (AsymmetricLaplace(quantile=0.25), y, lambda s: np.dot(sw, stats.laplace_asymmetric.logpdf(
            y, math.sqrt(0.25 / 0.75), loc=r, scale=s / math.sqrt(0.25 * 0.75)))),
        (StudentT(df=5.0), y, lambda s: np.dot(sw, stats.t.logpdf(y, 5.0, r, s))),
        (StudentT(df=0.8), y, lambda s: np.dot(sw, stats.t.logpdf(y, 0.8, r, s))),
        (Gamma(), yp, lambda phi: np.dot(sw, stats.gamma.logpdf(yp, 1 / phi, scale=np.exp(r) * phi))),
        (Tweedie(power=2), yp, lambda phi: np.dot(sw, stats.gamma.logpdf(yp, 1 / phi, scale=np.exp(r) * phi))),
        (Tweedie(power=3), yp, lambda phi: np.dot(sw, stats.invgauss.logpdf(yp, np.exp(r) * phi, scale=1 / phi))),
        (Tweedie(power=0), y, lambda phi: np.dot(sw, stats.norm.logpdf(y, r, math.sqrt(phi)))),
    ]
    for lik, yy, loglik in checks:
        got = lik.mle_scale(yy, r, sw)
        assert got == pytest.approx(_argmax_scale(loglik, got * 1.3), rel=1e-6), lik
    assert Poisson().mle_scale(y, r) is None and Tweedie(power=1).mle_scale(yp, r) is None


def test_tweedie_mle_dispersion_and_sampling():
    tw = Tweedie(power=1.5)
    r = np.random.default_rng(10).normal(scale=0.3, size=1500)
    y = tw.sample(r, scale=0.8, random_state=0)
    assert np.mean(y == 0) > 0.05 and np.all(y >= 0)
    # the sample's moments: E y = mu, Var y = phi mu^p
    mu = np.exp(r)
    assert np.mean(y - mu) == pytest.approx(0.0, abs=4 * math.sqrt(np.mean(0.8 * mu**1.5) / y.size))
    sw = np.random.default_rng(11).integers(1, 3, size=y.size).astype(float)
    phi = tw.mle_scale(y, r, sw)
    assert phi == pytest.approx(_argmax_scale(lambda s: tw.loglik(y, r, s, sw), phi * 1.2), rel=1e-6)
    assert phi == pytest.approx(0.8, rel=0.15)
    # integer weights are repeated samples
    rep = np.repeat(np.arange(y.size), sw.astype(int))
    assert tw.mle_scale(y[rep], r[rep]) == pytest.approx(phi, rel=1e-6)


@pytest.mark.parametrize(
    "lik, scale, mean_fn, var_fn",
    [
        (Laplace(), 0.5, lambda r: r, lambda r, s: 2 * s**2 + 0 * r),
        (Poisson(), None, np.exp, lambda r, s: np.exp(r)),
        (Gamma(), 0.3, np.exp, lambda r, s: s * np.exp(r) ** 2),
        (Tweedie(power=3), 0.2, np.exp, lambda r, s: s * np.exp(r) ** 3),
        (Tweedie(power=0), 2.0, lambda r: r, lambda r, s: s + 0 * r),
        (StudentT(df=5.0), 1.5, lambda r: r, lambda r, s: s**2 * 5 / 3 + 0 * r),
    ],
    ids=["laplace", "poisson", "gamma", "tweedie_3", "tweedie_0", "student_t"],
)
def test_samples_have_the_distribution_moments(lik, scale, mean_fn, var_fn):
    r = np.full(20000, 0.4)
    y = lik.sample(r, scale=scale, random_state=0)
    assert np.mean(y) == pytest.approx(mean_fn(r)[0], abs=5 * math.sqrt(var_fn(r, scale)[0] / y.size))
    assert np.var(y) == pytest.approx(var_fn(r, scale)[0], rel=0.1)


def test_asymmetric_laplace_sample_quantile():
    y = AsymmetricLaplace(quantile=0.2).sample(np.full(40000, 1.0), scale=0.7, random_state=1)
    assert np.mean(y <= 1.0) == pytest.approx(0.2, abs=0.01)


# ----------------------------------------------------------------------------
# start values
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_init_raw_prediction_minimises_the_mean_loss(case):
    _, loss, kind, _, _ = case
    rng = np.random.default_rng(12)
    n = 101
    y = y_sample(kind, rng, n)
    sw = rng.uniform(0.2, 2.0, size=n)
    for weights in (None, sw):
        c = loss.init_raw_prediction(y, weights)
        assert isinstance(c, float)

        def f(t):
            return float(np.average(loss.loss(y, np.full(n, t)), weights=weights))

        link_y = loss.link(np.maximum(y, 1e-3)) if loss.link == "log" else loss.link(y)
        res = optimize.minimize_scalar(f, bounds=(link_y.min() - 1, link_y.max() + 1), method="bounded",
                                       options={"xatol": 1e-12})
        assert f(c) <= res.fun + 1e-9 * (1 + abs(res.fun))
        if loss.is_smooth and type(loss).name != "squared_epsilon_insensitive":
            assert c == pytest.approx(res.x, abs=1e-5)


def test_closed_form_start_values():
    rng = np.random.default_rng(13)
    y = rng.gamma(2.0, size=50)
    sw = rng.uniform(0.5, 2.0, size=50)
    assert SquaredError().init_raw_prediction(y, sw) == pytest.approx(np.average(y, weights=sw))
    assert AbsoluteError().init_raw_prediction(y) == pytest.approx(np.median(y))
    assert AbsoluteError().init_raw_prediction(y[:-1]) == pytest.approx(np.median(y[:-1]))
    assert QuantileLoss(quantile=0.8).init_raw_prediction(y[:-1]) == pytest.approx(
        np.quantile(y[:-1], 0.8, method="inverted_cdf"))
    # 0.8 * 50 = 40: every point between the 40th and 41st order statistics is optimal
    ys = np.sort(y)
    assert QuantileLoss(quantile=0.8).init_raw_prediction(y) == pytest.approx(0.5 * (ys[39] + ys[40]))
    assert PoissonLoss().init_raw_prediction(y, sw) == pytest.approx(np.log(np.average(y, weights=sw)))
    assert GammaLoss().init_raw_prediction(y, sw) == pytest.approx(np.log(np.average(y, weights=sw)))
    assert TweedieLoss(power=1.5).init_raw_prediction(y) == pytest.approx(np.log(np.mean(y)))
    assert TweedieLoss(power=0).init_raw_prediction(y) == pytest.approx(np.mean(y))
    assert SquaredLogError().init_raw_prediction(y, sw) == pytest.approx(np.average(np.log1p(y), weights=sw))
    # weighted median: integer weights are repeated samples
    w = rng.integers(1, 4, size=50)
    assert AbsoluteError().init_raw_prediction(y, w) == pytest.approx(np.median(np.repeat(y, w)))
    # all-zero counts: the optimum is -inf; a finite, very negative start is returned
    assert PoissonLoss().init_raw_prediction(np.zeros(5)) == pytest.approx(math.log(10 * np.finfo(float).eps))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_weight_gives_zero_even_where_the_loss_overflows(dtype):
    y = np.array([1.0, 1.0, 2.0], dtype)
    raw = np.array([1e6, 1e6, 0.5], dtype)
    sw = np.array([0.0, 1.0, 2.0], dtype)
    for loss in (PoissonLoss(), TweedieLoss(power=1.5)):
        lo, g, h = loss.loss_gradient_hessian(y, raw, sw)
        for v in (lo, g, h):
            assert v[0] == 0.0 and v[1] == np.inf and np.isfinite(v[2])
        assert loss.loss(y, raw, sw)[0] == 0.0 and loss.gradient(y, raw, sw)[0] == 0.0
