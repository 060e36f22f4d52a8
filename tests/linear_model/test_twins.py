"""A custom twin of a built-in loss reaches the built-in's optimum.

A twin is the same formula written as plain scalar functions for
:func:`skloss.losses.make_loss`, under any name, declaring only what a user can
declare (the link, the domain, the pieces of a piecewise-linear loss, the
likelihood where the built-in's fit depends on it).  The estimators ask a loss
for its capabilities, never its name, so both fits must agree: coefficients
within 1e-5 for smooth losses, the exact optimum for a piecewise-linear twin
with declared pieces.  The reference is the built-in's own fit (tested against
scikit-learn and statsmodels elsewhere) and, for the name collisions, the
squared-error fit.
"""

import importlib.util
import math
import warnings

import numpy as np
import pytest
from sklearn.linear_model import QuantileRegressor

from skloss import MLELinearRegression, MLELogisticRegression
from skloss.linear_model import TrivialOptimumWarning
from skloss.losses import Interval, LogLoss, PoissonLoss, StudentT, get_loss, make_loss

# ------------------------------------------------------------ regression twins
# u = raw - y throughout


def sq(y, r):
    return (y - r) ** 2


def sq_g(y, r):
    return 2.0 * (r - y)


def sq_h(y, r):
    return 2.0


def ab(y, r):
    return abs(r - y)


def ab_g(y, r):
    return 1.0 if r > y else (-1.0 if r < y else 0.0)


def hub(y, r, delta):
    a = abs(r - y)
    return 0.5 * a * a if a <= delta else delta * (a - 0.5 * delta)


def hub_g(y, r, delta):
    return max(-delta, min(delta, r - y))


def hub_h(y, r, delta):
    return 1.0 if abs(r - y) <= delta else 0.0


def phub(y, r, delta):
    d = r - y
    s = math.sqrt(1.0 + (d / delta) ** 2)
    return d * d / (1.0 + s)


def phub_g(y, r, delta):
    d = r - y
    return d / math.sqrt(1.0 + (d / delta) ** 2)


def phub_h(y, r, delta):
    d = r - y
    return 1.0 / (1.0 + (d / delta) ** 2) ** 1.5


def lcosh(y, r):
    d = abs(r - y)
    return d + math.log1p(math.exp(-2.0 * d)) - math.log(2.0)


def lcosh_g(y, r):
    return math.tanh(r - y)


def lcosh_h(y, r):
    t = math.tanh(r - y)
    return 1.0 - t * t


def pin(y, r, q):
    u = r - y
    return max(-q * u, (1.0 - q) * u)


def pin_g(y, r, q):
    return 1.0 - q if r > y else (-q if r < y else 0.0)


def eps_ins(y, r, epsilon):
    return max(0.0, abs(r - y) - epsilon)


def eps_ins_g(y, r, epsilon):
    u = r - y
    return 1.0 if u > epsilon else (-1.0 if u < -epsilon else 0.0)


def sq_eps(y, r, epsilon):
    m = max(0.0, abs(r - y) - epsilon)
    return m * m


def sq_eps_g(y, r, epsilon):
    u = r - y
    m = max(0.0, abs(u) - epsilon)
    return 2.0 * m if u > 0 else -2.0 * m


def sq_eps_h(y, r, epsilon):
    return 2.0 if abs(r - y) > epsilon else 0.0


def msle(y, r):
    return (math.log1p(y) - r) ** 2


def msle_g(y, r):
    return 2.0 * (r - math.log1p(y))


def pois(y, r):
    mu = math.exp(r)
    ylogy = y * math.log(y) if y > 0 else 0.0
    return 2.0 * (ylogy - y * r - y + mu)


def pois_g(y, r):
    return 2.0 * (math.exp(r) - y)


def pois_h(y, r):
    return 2.0 * math.exp(r)


def gam(y, r):
    return 2.0 * (r - math.log(y) + y * math.exp(-r) - 1.0)


def gam_g(y, r):
    return 2.0 * (1.0 - y * math.exp(-r))


def gam_h(y, r):
    return 2.0 * y * math.exp(-r)


def tw(y, r, p):
    a = y ** (2.0 - p) / ((1.0 - p) * (2.0 - p)) if y > 0 else 0.0
    return 2.0 * (a - y * math.exp((1.0 - p) * r) / (1.0 - p) + math.exp((2.0 - p) * r) / (2.0 - p))


def tw_g(y, r, p):
    mu = math.exp(r)
    return 2.0 * mu ** (1.0 - p) * (mu - y)


def tw_h(y, r, p):
    mu = math.exp(r)
    return 2.0 * mu ** (1.0 - p) * ((2.0 - p) * mu - (1.0 - p) * y)


def stt(y, r, df):
    d = r - y
    return 0.5 * (df + 1.0) * math.log1p(d * d / df)


def stt_g(y, r, df):
    d = r - y
    return (df + 1.0) * d / (df + d * d)


def stt_h(y, r, df):
    d = r - y
    return (df + 1.0) * (df - d * d) / (df + d * d) ** 2


NONNEG = Interval(0.0, math.inf, True, False)
POS = Interval(0.0, math.inf, False, False)

# (built-in, twin kwargs for make_loss, data kind)
SMOOTH_REGRESSION = [
    (get_loss("squared_error"), dict(loss=sq, gradient=sq_g, hessian=sq_h), "real"),
    (get_loss("huber", delta=0.8), dict(loss=hub, gradient=hub_g, hessian=hub_h, params={"delta": 0.8}), "real"),
    (get_loss("pseudo_huber", delta=1.5),
     dict(loss=phub, gradient=phub_g, hessian=phub_h, params={"delta": 1.5}), "real"),
    (get_loss("log_cosh"), dict(loss=lcosh, gradient=lcosh_g, hessian=lcosh_h), "real"),
    (get_loss("squared_epsilon_insensitive", epsilon=0.3),
     dict(loss=sq_eps, gradient=sq_eps_g, hessian=sq_eps_h, params={"epsilon": 0.3}), "real"),
    (get_loss("squared_log_error"),
     dict(loss=msle, gradient=msle_g, hessian=sq_h, link="log1p", y_domain=Interval(-1.0, math.inf)), "counts"),
    (get_loss("poisson"), dict(loss=pois, gradient=pois_g, hessian=pois_h, link="log", y_domain=NONNEG), "counts"),
    (get_loss("gamma"), dict(loss=gam, gradient=gam_g, hessian=gam_h, link="log", y_domain=POS), "positive"),
    (get_loss("tweedie", power=1.5),
     dict(loss=tw, gradient=tw_g, hessian=tw_h, link="log", y_domain=NONNEG, params={"p": 1.5}), "counts"),
    (get_loss("student_t", df=3.0),
     dict(loss=stt, gradient=stt_g, hessian=stt_h, params={"df": 3.0}, likelihood=StudentT(df=3.0)), "real"),
]

PWL_REGRESSION = [
    (get_loss("absolute_error"),
     dict(loss=ab, gradient=ab_g, is_smooth=False, piecewise_linear=[(-1.0, 0.0), (1.0, 0.0)])),
    (get_loss("quantile", quantile=0.3),
     dict(loss=pin, gradient=pin_g, is_smooth=False, params={"q": 0.3},
          piecewise_linear=[(-0.3, 0.0), (0.7, 0.0)])),
    (get_loss("epsilon_insensitive", epsilon=0.4),
     dict(loss=eps_ins, gradient=eps_ins_g, is_smooth=False, params={"epsilon": 0.4},
          piecewise_linear=[(-1.0, -0.4), (0.0, 0.0), (1.0, -0.4)])),
]


def _regression_data(kind, n=300, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    eta = X @ np.linspace(0.4, -0.3, p) + 0.5
    if kind == "counts":
        y = rng.poisson(np.exp(eta)).astype(float)
    elif kind == "positive":
        y = rng.gamma(2.0, np.exp(eta) / 2.0)
    else:
        y = 3.0 * eta + rng.standard_t(3, n)
    return X, y


def _id(case):
    return case.name if hasattr(case, "name") else None


@pytest.mark.parametrize("builtin, twin, kind", SMOOTH_REGRESSION, ids=[c[0].name for c in SMOOTH_REGRESSION])
@pytest.mark.parametrize("name", ["my_twin", "quantile"])
def test_smooth_regression_twin_reaches_the_builtin_optimum(builtin, twin, kind, name):
    X, y = _regression_data(kind)
    ref = MLELinearRegression(builtin, cov_type=None).fit(X, y)
    est = MLELinearRegression(make_loss(name=name, **twin), cov_type=None).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5, rtol=0)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-5, rtol=0)


@pytest.mark.parametrize("penalty", [None, "l2", "l1"])
@pytest.mark.parametrize("builtin, twin", PWL_REGRESSION, ids=[c[0].name for c in PWL_REGRESSION])
def test_piecewise_linear_regression_twin_is_fitted_exactly(builtin, twin, penalty):
    X, y = _regression_data("real", n=200)
    kw = {} if penalty is None else {"penalty": penalty, "alpha": 0.05}
    ref = MLELinearRegression(builtin, cov_type=None, **kw).fit(X, y)
    est = MLELinearRegression(make_loss(name="absolute_error", **twin), cov_type=None, **kw).fit(X, y)
    assert est.objective_ == pytest.approx(ref.objective_, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)


def test_name_collisions_fit_the_formula_not_the_name():
    X, y = _regression_data("real")
    ref = MLELinearRegression("squared_error", cov_type=None).fit(X, y)
    for name in ("quantile", "absolute_error", "epsilon_insensitive", "student_t"):
        est = MLELinearRegression(make_loss(sq, sq_g, sq_h, name=name), cov_type=None).fit(X, y)
        np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
        assert est.solver_ != "interior-point"


def test_custom_pinball_with_pieces_matches_quantile_regressor():
    X, y = _regression_data("real", n=250)
    q, alpha = 0.7, 0.02
    loss = make_loss(pin, pin_g, params={"q": q}, is_smooth=False, piecewise_linear=[(-q, 0.0), (1.0 - q, 0.0)],
                     name="my_pinball")
    est = MLELinearRegression(loss, penalty="l1", alpha=alpha, cov_type=None).fit(X, y)
    skl = QuantileRegressor(quantile=q, alpha=alpha, solver="highs").fit(X, y)

    def objective(coef, intercept):
        u = X @ coef + intercept - y
        return float(np.mean(np.maximum(-q * u, (1 - q) * u))) + alpha * float(np.abs(coef).sum())

    assert objective(est.coef_, est.intercept_) == pytest.approx(objective(skl.coef_, skl.intercept_),
                                                                 rel=1e-8, abs=1e-12)


# ------------------------------------------------------------ classification twins
# binary form, y in {0, 1}, z = 2 y - 1


def logit(y, r):
    if r > 0:
        return r + math.log1p(math.exp(-r)) - y * r
    return math.log1p(math.exp(r)) - y * r


def logit_g(y, r):
    if r >= 0:
        return 1.0 / (1.0 + math.exp(-r)) - y
    e = math.exp(r)
    return e / (1.0 + e) - y


def logit_h(y, r):
    p = 1.0 / (1.0 + math.exp(-r)) if r >= 0 else math.exp(r) / (1.0 + math.exp(r))
    return p * (1.0 - p)


def _ndtr(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def probit(y, r):
    z = 2.0 * y - 1.0
    return -math.log(_ndtr(z * r))


def _mills(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi) / _ndtr(x)


def probit_g(y, r):
    z = 2.0 * y - 1.0
    return -z * _mills(z * r)


def probit_h(y, r):
    z = 2.0 * y - 1.0
    m = _mills(z * r)
    return m * (z * r + m)


def hinge(y, r):
    return max(0.0, 1.0 - (2.0 * y - 1.0) * r)


def hinge_g(y, r):
    z = 2.0 * y - 1.0
    return -z if z * r <= 1.0 else 0.0


def sqh(y, r):
    m = max(0.0, 1.0 - (2.0 * y - 1.0) * r)
    return m * m


def sqh_g(y, r):
    z = 2.0 * y - 1.0
    return -2.0 * z * max(0.0, 1.0 - z * r)


def sqh_h(y, r):
    return 2.0 if (2.0 * y - 1.0) * r < 1.0 else 0.0


def mhub(y, r):
    m = (2.0 * y - 1.0) * r
    if m < -1.0:
        return -4.0 * m
    a = max(0.0, 1.0 - m)
    return a * a


def mhub_g(y, r):
    z = 2.0 * y - 1.0
    m = z * r
    if m < -1.0:
        return -4.0 * z
    return -2.0 * z * max(0.0, 1.0 - m)


def mhub_h(y, r):
    m = (2.0 * y - 1.0) * r
    return 2.0 if -1.0 <= m < 1.0 else 0.0


def perc(y, r):
    return max(0.0, -(2.0 * y - 1.0) * r)


def perc_g(y, r):
    z = 2.0 * y - 1.0
    return -z if z * r <= 0.0 else 0.0


def expo(y, r):
    return math.exp(-(2.0 * y - 1.0) * r)


def expo_g(y, r):
    z = 2.0 * y - 1.0
    return -z * math.exp(-z * r)


def expo_h(y, r):
    return math.exp(-(2.0 * y - 1.0) * r)


def _sig(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _log_sig(x):
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def focal(y, r, gamma):
    x = (2.0 * y - 1.0) * r
    return -((1.0 - _sig(x)) ** gamma) * _log_sig(x)


def focal_g(y, r, gamma):
    z = 2.0 * y - 1.0
    q = _sig(z * r)
    return z * (1.0 - q) ** gamma * (gamma * q * _log_sig(z * r) - (1.0 - q))


def focal_h(y, r, gamma):
    x = (2.0 * y - 1.0) * r
    q = _sig(x)
    a = (1.0 - q) ** gamma
    b = gamma * q * _log_sig(x) - (1.0 - q)
    return -gamma * q * a * b + a * q * (1.0 - q) * (gamma * _log_sig(x) + gamma + 1.0)


def brier(y, r):
    return (_sig(r) - y) ** 2


def brier_g(y, r):
    p = _sig(r)
    return 2.0 * (p - y) * p * (1.0 - p)


def brier_h(y, r):
    p = _sig(r)
    d = p * (1.0 - p)
    return 2.0 * d * d + 2.0 * (p - y) * d * (1.0 - 2.0 * p)


SMOOTH_BINARY = [
    (get_loss("log_loss"), dict(loss=logit, gradient=logit_g, hessian=logit_h, link="logit")),
    (get_loss("kl_divergence"), dict(loss=logit, gradient=logit_g, hessian=logit_h, link="logit")),
    (get_loss("probit"), dict(loss=probit, gradient=probit_g, hessian=probit_h, link="probit")),
    (get_loss("squared_hinge"), dict(loss=sqh, gradient=sqh_g, hessian=sqh_h, link="sign")),
    (get_loss("modified_huber"), dict(loss=mhub, gradient=mhub_g, hessian=mhub_h, link="clipped_linear")),
    (get_loss("exponential"), dict(loss=expo, gradient=expo_g, hessian=expo_h, link="half_logit")),
    (get_loss("focal", gamma=2.0), dict(loss=focal, gradient=focal_g, hessian=focal_h, link="logit",
                                        params={"gamma": 2.0})),
    (get_loss("brier"), dict(loss=brier, gradient=brier_g, hessian=brier_h, link="logit")),
]
# built-ins whose K-class form is one-vs-rest, as a make_loss classification loss
OVR = ("probit", "squared_hinge", "modified_huber", "exponential")


def _classification_data(n=400, p=4, k=2, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    W = rng.normal(size=(p, k)) * 0.8
    y = np.argmax(X @ W + rng.gumbel(size=(n, k)), axis=1)
    return X, y


@pytest.mark.parametrize("builtin, twin", SMOOTH_BINARY, ids=[c[0].name for c in SMOOTH_BINARY])
def test_smooth_binary_twin_reaches_the_builtin_optimum(builtin, twin):
    X, y = _classification_data()
    ref = MLELogisticRegression(builtin, cov_type=None).fit(X, y)
    est = MLELogisticRegression(make_loss(task="classification", name="log_loss", **twin), cov_type=None).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5, rtol=0)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-5, rtol=0)


@pytest.mark.parametrize("builtin, twin", [c for c in SMOOTH_BINARY if c[0].name in OVR], ids=OVR)
def test_one_vs_rest_twin_reaches_the_builtin_optimum(builtin, twin):
    X, y = _classification_data(k=3)
    ref = MLELogisticRegression(builtin, penalty="l2", alpha=1e-3, cov_type=None).fit(X, y)
    est = MLELogisticRegression(make_loss(task="classification", **twin), penalty="l2", alpha=1e-3,
                                cov_type=None).fit(X, y)
    assert est.multi_class_ == ref.multi_class_ == "ovr"
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5, rtol=0)


PWL_BINARY = [
    (get_loss("hinge"), dict(loss=hinge, gradient=hinge_g, piecewise_linear=[(-1.0, 1.0), (0.0, 0.0)])),
    (get_loss("perceptron"), dict(loss=perc, gradient=perc_g, piecewise_linear=[(-1.0, 0.0), (0.0, 0.0)])),
]


@pytest.mark.parametrize("penalty", ["l2", "l1"])
@pytest.mark.parametrize("builtin, twin", PWL_BINARY, ids=[c[0].name for c in PWL_BINARY])
def test_piecewise_linear_binary_twin_is_fitted_exactly(builtin, twin, penalty):
    X, y = _classification_data(n=300)
    kw = {"penalty": penalty, "alpha": 0.01}
    with warnings.catch_warnings(record=True) as ref_warned:
        warnings.simplefilter("always")
        ref = MLELogisticRegression(builtin, cov_type=None, **kw).fit(X, y)
    with warnings.catch_warnings(record=True) as est_warned:
        warnings.simplefilter("always")
        est = MLELogisticRegression(make_loss(task="classification", is_smooth=False, link="sign", name="hinge",
                                              **twin), cov_type=None, **kw).fit(X, y)
    # the perceptron's optimum is the trivial w = 0 under any penalty: announced, for the
    # twin as for the built-in; the hinge fits without a warning
    expected = [TrivialOptimumWarning] if builtin.name == "perceptron" else []
    assert [w.category for w in ref_warned] == expected
    assert [w.category for w in est_warned] == expected
    assert est.objective_ == pytest.approx(ref.objective_, rel=1e-8, abs=1e-12)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-5)


# ------------------------------------------------------------ non-smooth twins without pieces
_FIRST_ORDER = importlib.util.find_spec("skloss.linear_model._solver_smoothing") is not None


@pytest.mark.xfail(not _FIRST_ORDER, strict=True,
                   reason="needs the first-order non-smooth solver (skloss.linear_model._solver_smoothing)")
@pytest.mark.parametrize("builtin, twin", PWL_REGRESSION, ids=[c[0].name for c in PWL_REGRESSION])
def test_non_smooth_twin_without_pieces_reaches_the_optimum(builtin, twin):
    X, y = _regression_data("real", n=200)
    twin = {k: v for k, v in twin.items() if k != "piecewise_linear"}
    ref = MLELinearRegression(builtin, cov_type=None).fit(X, y)
    est = MLELinearRegression(make_loss(name="custom", **twin), cov_type=None).fit(X, y)
    assert est.objective_ <= ref.objective_ * (1 + 1e-4) + 1e-12


# ------------------------------------------------------------ subclasses
class WeightedLogLoss(LogLoss):
    """A subclass with its own evaluation: positives count three times."""

    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        lo, g, h = super()._evaluate(y, raw, sw, want_loss, want_grad, want_hess)
        f = (1.0 + 2.0 * y).astype(raw.dtype)
        return (None if lo is None else lo * f, None if g is None else g * f, None if h is None else h * f)


class ShiftedPoisson(PoissonLoss):
    """A subclass with its own evaluation: the Poisson deviance of y + 1."""

    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        return super()._evaluate(y + 1.0, raw, sw, want_loss, want_grad, want_hess)


def _own_optimum(X, y, loss):
    """Minimise the subclass's own mean loss with SciPy (an independent solver)."""
    from scipy.optimize import minimize

    Xa = np.column_stack([X, np.ones(len(X))])

    def f(c):
        raw = Xa @ c
        lo, g = loss.loss_gradient(y, raw)
        return float(lo.mean()), Xa.T @ g / len(y)

    res = minimize(f, np.zeros(Xa.shape[1]), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-11, "ftol": 1e-15, "maxiter": 2000})
    return res.x


@pytest.mark.parametrize("n", [2_000, 60_000])
def test_subclass_overriding_evaluate_gets_its_own_optimum(n):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 40)) * 0.3
    y = (X[:, :3].sum(axis=1) + rng.logistic(size=n) > 0).astype(float)
    est = MLELogisticRegression(WeightedLogLoss(), cov_type=None).fit(X, y)
    own = _own_optimum(X, y, WeightedLogLoss())
    np.testing.assert_allclose(np.r_[est.coef_.ravel(), est.intercept_], own, atol=1e-5)
    builtin = MLELogisticRegression(cov_type=None).fit(X, y)
    assert np.max(np.abs(builtin.intercept_ - est.intercept_)) > 0.1  # a different optimum

    yc = rng.poisson(np.exp(0.3 + X[:, :3].sum(axis=1))).astype(float)
    est = MLELinearRegression(ShiftedPoisson(), cov_type=None).fit(X, yc)
    own = _own_optimum(X, yc, ShiftedPoisson())
    np.testing.assert_allclose(np.r_[est.coef_, est.intercept_], own, atol=1e-5)
