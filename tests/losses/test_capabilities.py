"""The declared capabilities of the losses (the protocol estimators read).

Every declaration is checked against an independent computation: the pieces
against the loss values, the domain against ``validate_y`` and the public
methods, the shift invariance and the Crammer-Singer margin against the
multi-class values, the variance power against the GLM score equation, the
fused kernel against the generic evaluation of the same objective.
"""

import math
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skloss import MLEDistribution, MLELinearRegression
from skloss.losses import (
    AbsoluteError,
    EpsilonInsensitiveLoss,
    HingeLoss,
    Interval,
    LogLoss,
    PerceptronLoss,
    PoissonLoss,
    QuantileLoss,
    available_losses,
    get_loss,
    make_loss,
)
from skloss.linear_model._objective import LinearObjective

REGRESSION = [get_loss(n) for n in available_losses("regression")] + [
    get_loss("tweedie", power=p) for p in (0.0, 1.0, 2.0, 3.0)
] + [get_loss("quantile", quantile=0.2), get_loss("epsilon_insensitive", epsilon=0.7)]
CLASSIFICATION = [get_loss(n) for n in available_losses("classification")] + [
    get_loss("log_loss", label_smoothing=0.1)
]
ALL = REGRESSION + CLASSIFICATION


def _id(loss):
    return repr(loss)


# ----------------------------------------------------------------- domain
@pytest.mark.parametrize("loss", REGRESSION, ids=_id)
def test_y_domain_agrees_with_validate_y(loss):
    dom = loss.y_domain
    assert isinstance(dom, Interval)
    candidates = np.array([-5.0, -1.0, -0.5, 0.0, 1e-12, 0.5, 1.0, 3.0, 1e6])
    for v in candidates:
        inside = bool(dom.mask([v])[0])
        if inside:
            loss.validate_y([v])
        else:
            with pytest.raises(ValueError, match=str(dom).replace("[", r"\[").replace("(", r"\(")
                               .replace(")", r"\)").replace("]", r"\]")):
                loss.validate_y([v])


@pytest.mark.parametrize("loss", CLASSIFICATION, ids=_id)
def test_classification_domain_is_class_indices(loss):
    assert loss.y_domain == Interval(0.0, np.inf, True, False, integer=True)
    loss.validate_y([0, 1, 2])
    for bad in ([0.5], [-1.0]):
        with pytest.raises(ValueError, match="class indices"):
            loss.validate_y(bad)


@pytest.mark.parametrize(
    "loss, y",
    [(LogLoss(), 2.0), (PoissonLoss(), -1.0), (get_loss("gamma"), -1.0), (get_loss("tweedie", power=3), 0.0),
     (get_loss("squared_log_error"), -1.5), (HingeLoss(), -1.0)],
    ids=str,
)
@pytest.mark.parametrize("method", ["loss", "gradient", "loss_gradient", "gradient_hessian", "hessian"])
def test_public_methods_reject_targets_outside_the_domain(loss, y, method):
    if method in ("hessian", "gradient_hessian") and not loss.has_hessian:
        pytest.skip("no Hessian")
    with pytest.raises(ValueError) as info:
        getattr(loss, method)(np.array([0.0, y]) if loss.task == "classification" else np.array([1.0, y]),
                              np.zeros(2))
    message = str(info.value)
    assert repr(loss.name) in message
    assert ("[0, 1]" in message) if loss.task == "classification" else (str(loss.y_domain) in message)


def test_multiclass_public_methods_reject_bad_class_index():
    with pytest.raises(ValueError, match="class indices"):
        LogLoss().loss([0.0, 3.0], np.zeros((2, 3)))


def test_score_samples_is_minus_inf_outside_the_support():
    rng = np.random.default_rng(0)
    gamma = MLEDistribution("gamma").fit(rng.gamma(2.0, size=(200, 1)))
    assert gamma.score_samples([[-1.0], [0.0]]).tolist() == [-np.inf, -np.inf]
    assert np.isfinite(gamma.score_samples([[1.0]])).all()
    pois = MLEDistribution("poisson").fit(rng.poisson(3.0, size=(200, 1)).astype(float))
    out = pois.score_samples([[2.5], [-1.0], [2.0]])
    assert out[0] == -np.inf and out[1] == -np.inf
    from scipy.stats import poisson

    np.testing.assert_allclose(out[2], poisson(pois.location_[0]).logpmf(2), rtol=1e-12)


# ----------------------------------------------------------- piecewise linear
PWL = [AbsoluteError(), QuantileLoss(0.2), QuantileLoss(0.9), EpsilonInsensitiveLoss(0.0),
       EpsilonInsensitiveLoss(0.7), HingeLoss(), PerceptronLoss()]


@pytest.mark.parametrize("loss", PWL, ids=_id)
def test_pieces_reproduce_the_loss(loss):
    rng = np.random.default_rng(1)
    n = 400
    y = rng.integers(0, 2, n).astype(float) if loss.task == "classification" else rng.normal(size=n)
    raw = 3.0 * rng.normal(size=n)
    raw[:20] = y[:20] if loss.task == "regression" else raw[:20]  # on the kink
    A, C = loss.pieces(y)
    assert A.shape == C.shape and A.shape[0] == n
    np.testing.assert_allclose(np.max(A * raw[:, None] + C, axis=1), loss.loss(y, raw), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    "loss, kinks",
    [(AbsoluteError(), (0.0,)), (QuantileLoss(0.3), (0.0,)), (EpsilonInsensitiveLoss(0.5), (-0.5, 0.5)),
     (HingeLoss(), (1.0,)), (PerceptronLoss(), (0.0,)), (LogLoss(), ())],
    ids=str,
)
def test_kinks(loss, kinks):
    assert loss.kinks == pytest.approx(kinks)


def test_smooth_losses_declare_no_pieces():
    for loss in ALL:
        if loss.is_smooth:
            assert loss.piecewise_linear is None, loss
            with pytest.raises(ValueError, match="not piecewise linear"):
                loss.pieces([0.0])


# ----------------------------------------------------------- multi-class form
@pytest.mark.parametrize("loss", [lo for lo in CLASSIFICATION], ids=_id)
def test_multiclass_shift_invariance_is_declared_truthfully(loss):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 50).astype(float)
    raw = rng.normal(size=(50, 4))
    shifted = loss.loss(y, raw + 1.7)
    same = np.allclose(loss.loss(y, raw), shifted, rtol=1e-12, atol=1e-12)
    assert same == loss.multiclass_shift_invariant


@pytest.mark.parametrize("loss", [lo for lo in CLASSIFICATION if lo.multiclass_margin is not None], ids=_id)
def test_multiclass_margin_is_crammer_singer(loss):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 60)
    raw = rng.normal(size=(60, 3))
    other = raw.copy()
    other[np.arange(60), y] = -np.inf
    expected = np.maximum(0.0, loss.multiclass_margin + other.max(axis=1) - raw[np.arange(60), y])
    np.testing.assert_allclose(loss.loss(y.astype(float), raw), expected, rtol=1e-13, atol=1e-13)


# ----------------------------------------------------------- minimiser, Hessian
@pytest.mark.parametrize("loss", ALL, ids=_id)
def test_may_lack_minimiser_matches_the_per_sample_infimum(loss):
    """Declared True: some target's loss decreases strictly all the way to the edge
    (no finite minimiser); declared False: every target's loss attains its minimum
    at a finite raw prediction."""
    grid = np.linspace(-15.0, 15.0, 4001)
    if loss.task == "classification":
        targets = [0.0, 1.0]
    else:
        dom = loss.y_domain
        targets = [v for v in (0.0, 1.0, 3.0) if dom.mask([v])[0]]
    lacks = False
    for t in targets:
        with np.errstate(all="ignore"):
            values = loss.loss(np.full(grid.size, t), grid)
        i = int(np.argmin(values))
        at_edge = (i == 0 and values[0] < values[1]) or (i == grid.size - 1 and values[-1] < values[-2])
        lacks = lacks or at_edge
    assert lacks == loss.may_lack_minimiser


@pytest.mark.parametrize("loss", [lo for lo in ALL if lo.has_hessian], ids=_id)
def test_hessian_is_constant_is_declared_truthfully(loss):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 30).astype(float) if loss.task == "classification" else rng.uniform(0.5, 2.0, 30)
    h1 = loss.hessian(y, rng.normal(size=30))
    h2 = loss.hessian(y, rng.normal(size=30) * 3.0)
    assert np.array_equal(h1, h2) == loss.hessian_is_constant


@pytest.mark.parametrize("loss", [lo for lo in REGRESSION if lo.likelihood is not None], ids=_id)
def test_variance_power_is_the_glm_score(loss):
    """A GLM deviance with variance power p has the score ``2 (mu - y) / mu^p``
    per unit of ``dmu / draw``."""
    power = loss.likelihood.variance_power
    if power is None:
        return
    rng = np.random.default_rng(5)
    y = rng.uniform(0.5, 3.0, 40)
    raw = rng.normal(size=40) * 0.5 + (0.0 if str(loss.link) == "log" else 1.0)
    mu = loss.inverse_link(raw)
    dmu = mu if str(loss.link) == "log" else np.ones_like(mu)
    np.testing.assert_allclose(loss.gradient(y, raw) / dmu, 2.0 * (mu - y) / mu**power, rtol=1e-10)


def test_joint_scale_only_for_student_t():
    joint = [lo for lo in REGRESSION if lo.likelihood is not None and lo.likelihood.joint_scale]
    assert {lo.name for lo in joint} == {"student_t"}


# ----------------------------------------------------------- fused kernel
class OwnLogLoss(LogLoss):
    """A subclass with its own evaluation (the log loss with doubled positives)."""

    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        lo, g, h = super()._evaluate(y, raw, sw, want_loss, want_grad, want_hess)
        f = (1.0 + y)
        return (None if lo is None else lo * f, None if g is None else g * f, None if h is None else h * f)


def test_fused_kernel_is_not_inherited_by_an_overriding_subclass():
    assert LogLoss().fused_linear_kernel() == "log_loss_linear"
    assert OwnLogLoss().fused_linear_kernel() is None
    assert OwnLogLoss().fused_linear_kernel(sparse=True) is None

    class Relabelled(LogLoss):  # no evaluation override: the built-in pass is right
        name = "other"

    assert Relabelled().fused_linear_kernel() == "log_loss_linear"
    assert get_loss("tweedie", power=0).fused_linear_kernel() is None
    assert get_loss("tweedie", power=1.5).fused_linear_kernel() == "tweedie_linear"


@pytest.mark.parametrize("loss, y_kind", [(LogLoss(), "binary"), (LogLoss(label_smoothing=0.2), "binary"),
                                          (PoissonLoss(), "counts"), (get_loss("gamma"), "positive"),
                                          (get_loss("tweedie", power=1.5), "counts"),
                                          (LogLoss(), "multiclass")], ids=str)
def test_fused_kernel_equals_the_generic_evaluation(loss, y_kind):
    rng = np.random.default_rng(6)
    n, p = 60_000, 40  # above the fused-pass threshold
    X = rng.normal(size=(n, p)) * 0.1
    k = 3 if y_kind == "multiclass" else 1
    y = {"binary": lambda: rng.integers(0, 2, n), "counts": lambda: rng.poisson(1.0, n),
         "positive": lambda: rng.gamma(2.0, size=n), "multiclass": lambda: rng.integers(0, 3, n)}[y_kind]()
    y = y.astype(float)
    sw = rng.uniform(0.5, 2.0, n)
    fused = LinearObjective(loss, X, y, sw, n_outputs=k, l2_reg=0.1)
    assert fused._fused

    class Generic(type(loss)):
        def _evaluate(self, *args):
            return super()._evaluate(*args)

    generic = LinearObjective(Generic(**loss.get_params()), X, y, sw, n_outputs=k, l2_reg=0.1)
    assert not generic._fused
    coef = rng.normal(size=fused.n_coef) * 0.3
    f1, g1 = fused.value_grad(coef)
    f2, g2 = generic.value_grad(coef)
    np.testing.assert_allclose(f1, f2, rtol=1e-11)
    np.testing.assert_allclose(g1, g2, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------- make_loss
def huber(y, raw, delta):
    a = abs(raw - y)
    return 0.5 * a * a if a <= delta else delta * (a - 0.5 * delta)


def huber_grad(y, raw, delta):
    return max(-delta, min(delta, raw - y))


def huber_hess(y, raw, delta):
    return 1.0 if abs(raw - y) <= delta else 0.0


def test_make_loss_hyper_parameters_are_tunable():
    loss = make_loss(huber, huber_grad, huber_hess, params={"delta": 1.0}, name="my_huber")
    assert loss.get_params()["delta"] == 1.0
    for delta in (0.3, 1.0, 2.5):
        tuned = clone(loss).set_params(delta=delta)
        y, raw = np.array([0.0, 0.0, 1.0]), np.array([0.2, 3.0, -4.0])
        np.testing.assert_allclose(tuned.loss(y, raw), get_loss("huber", delta=delta).loss(y, raw), rtol=1e-15)
    assert pickle.loads(pickle.dumps(loss)) == loss
    rng = np.random.default_rng(7)
    X = rng.normal(size=(150, 2))
    y = X @ [1.0, -1.0] + rng.standard_t(2, 150)
    search = GridSearchCV(MLELinearRegression(loss, cov_type=None), {"loss__delta": [0.5, 2.0]}, cv=3).fit(X, y)
    assert search.best_params_["loss__delta"] in (0.5, 2.0)
    best = MLELinearRegression(get_loss("huber", delta=search.best_params_["loss__delta"]), cov_type=None).fit(X, y)
    np.testing.assert_allclose(search.best_estimator_.coef_, best.coef_, atol=1e-6)


def test_make_loss_rejects_bad_declarations():
    with pytest.raises(ValueError, match="piecewise_linear"):
        make_loss(huber, huber_grad, params={"delta": 1.0}, piecewise_linear=[(1.0,)])
    with pytest.raises(ValueError, match="hyper-parameter"):
        make_loss(huber, huber_grad, params={"name": 1.0})
    with pytest.raises(ValueError, match="finite real"):
        make_loss(huber, huber_grad, params={"delta": "a"})
    with pytest.raises(TypeError, match="two positional arguments"):
        make_loss(huber, huber_grad)  # the functions take delta, but none is declared
    with pytest.raises(ValueError, match="may_lack_minimiser"):
        make_loss(huber, huber_grad, params={"delta": 1.0}, may_lack_minimiser="yes")


def test_interval():
    dom = Interval(0.0, math.inf, False, False)
    assert str(dom) == "(0, inf)" and dom.requirement() == "> 0"
    assert not dom.contains([0.0]) and dom.contains([1e-300]) and not dom.contains([np.nan])
    counts = Interval(0.0, math.inf, True, False, integer=True)
    assert counts.contains([0.0, 3.0]) and not counts.contains([2.5])
    assert str(counts) == "integers in [0, inf)"
