"""check_loss passes on every registered loss and catches broken ones.

Each broken loss below differs from a correct one in exactly one respect, and
check_loss must name the check that catches it.
"""

import math

import numpy as np
import pytest
from scipy.special import expit

from skloss.losses import (
    Bernoulli,
    HessianUnavailableError,
    LogLoss,
    Loss,
    available_losses,
    get_loss,
    make_loss,
)
from skloss.utils import CheckLossError, check_loss


# --------------------------------------------------- every registered loss
@pytest.mark.parametrize("name", available_losses())
def test_check_loss_passes_on_registered_losses(name):
    loss = get_loss(name)
    report = check_loss(loss)
    assert report["gradient"] == "passed"
    assert report["extremes"] == "passed"
    assert report["init_raw_prediction"] == "passed"
    if loss.has_hessian:
        assert report["hessian"] == "passed"
    else:
        assert report["no_hessian"] == "passed"
    if loss.task == "classification":
        assert report["multiclass"] == "passed"


def test_accepts_a_name_and_reports_every_check():
    report = check_loss("squared_error", random_state=3)
    expected = {
        "attributes", "params", "evaluate", "validate_y", "pickle", "dtype", "float32", "vectorised",
        "consistency", "sample_weight", "gradient", "hessian", "extremes", "likelihood", "multiclass",
        "inverse_link", "init_raw_prediction", "capabilities", "not_mutated",
    }
    assert set(report) == expected
    assert report["multiclass"].startswith("skipped")


# ------------------------------------------------------ a correct NumPy loss
class NumpySquaredError(Loss):
    name = "numpy_squared_error"

    def __init__(self):
        pass

    def _values(self, y, raw):
        d = raw - y
        return d * d, 2 * d, np.full_like(raw, 2.0)

    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        if want_hess and not self.has_hessian:
            raise HessianUnavailableError("no hessian")
        w = sw if sw.size else raw.dtype.type(1)
        lval, grad, hess = self._values(y, raw)
        return (
            w * lval if want_loss else None,
            w * grad if want_grad else None,
            w * hess if want_hess else None,
        )

    def _init_scalar(self, y, sw):
        return float(np.average(y, weights=sw))


def test_the_reference_subclass_passes():
    check_loss(NumpySquaredError())


# ---------------------------------------------------------- broken losses
class WrongGradient(NumpySquaredError):
    def _values(self, y, raw):
        lval, grad, hess = super()._values(y, raw)
        return lval, 2.02 * (raw - y), hess


class WrongHessian(NumpySquaredError):
    def _values(self, y, raw):
        lval, grad, _ = super()._values(y, raw)
        return lval, grad, np.full_like(raw, 1.0)


class WrongDtype(NumpySquaredError):
    def _values(self, y, raw):
        return tuple(v.astype(np.float64) for v in super()._values(y, raw))


class WrongShape(NumpySquaredError):
    def _values(self, y, raw):
        lval, grad, hess = super()._values(y, raw)
        return lval[:, None], grad, hess


class IgnoresWeights(NumpySquaredError):
    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        return super()._evaluate(y, raw, raw[:0], want_loss, want_grad, want_hess)


class InconsistentFusedPass(NumpySquaredError):
    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        lval, grad, hess = super()._evaluate(y, raw, sw, want_loss, want_grad, want_hess)
        if want_loss and want_grad:
            lval = lval * 1.001
        return lval, grad, hess


class NotVectorised(NumpySquaredError):
    def _values(self, y, raw):
        d = raw - y - np.mean(raw - y) + 1.0
        return d * d, 2 * d, np.full_like(raw, 2.0)


class SloppyFloat32(NumpySquaredError):
    def _values(self, y, raw):
        lval, grad, hess = super()._values(y, raw)
        if raw.dtype == np.float32:
            lval = lval + np.float32(1e-2)
        return lval, grad, hess


class HessianNotRefused(NumpySquaredError):
    has_hessian = False

    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        w = sw if sw.size else raw.dtype.type(1)
        lval, grad, hess = self._values(y, raw)
        return w * lval, w * grad, w * hess


class AcceptsNaN(NumpySquaredError):
    def validate_y(self, y_true):
        return np.asarray(y_true, dtype=float)


class BadInit(NumpySquaredError):
    def _init_scalar(self, y, sw):
        return 0.0


class WritesOnItself(NumpySquaredError):
    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        self.n_calls_ = getattr(self, "n_calls_", 0) + 1
        return super()._evaluate(y, raw, sw, want_loss, want_grad, want_hess)


class ModifiesParamsInInit(NumpySquaredError):
    def __init__(self, delta=1.0):
        self.delta = float(delta) * 2


class WrongMulticlassHessianProduct(LogLoss):
    def _multiclass_hessian_product(self, y, raw, sw, direction):
        # the diagonal only: forgets the -p p^T part of the softmax Hessian
        _, hess = self.gradient_hessian(y, raw, None if sw.size == 0 else sw)
        return hess * direction


class NotProbabilities(LogLoss):
    def inverse_link(self, raw_prediction):
        return np.asarray(raw_prediction)


@pytest.mark.parametrize(
    "loss, check, match",
    [
        (WrongGradient(), "gradient", r"gradient at y=.*expected .*central finite difference"),
        (WrongHessian(), "hessian", "hessian at y="),
        (WrongDtype(), "dtype", "float32 input returned float64"),
        (WrongShape(), "dtype", r"loss on raw of shape \(\d+,\) has shape \(\d+, \d+\)"),
        (IgnoresWeights(), "sample_weight", "with sample_weight"),
        (InconsistentFusedPass(), "consistency", r"loss_gradient\(\)\[0\] vs loss\(\)"),
        (NotVectorised(), "vectorised", "one sample vs the batch"),
        (SloppyFloat32(), "float32", "float32 vs float64"),
        (HessianNotRefused(), "no_hessian", "has_hessian is False but hessian"),
        (AcceptsNaN(), "validate_y", "accepted y_true containing NaN"),
        (BadInit(), "init_raw_prediction", "not a minimiser"),
        (WritesOnItself(), "not_mutated", "n_calls_"),
        (ModifiesParamsInInit(), "params", "clone"),
        (WrongMulticlassHessianProduct(), "hessian_product", "hessian_product at y="),
        (NotProbabilities(), "inverse_link", "not a probability"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_broken_subclasses_are_caught(loss, check, match):
    with pytest.raises(CheckLossError, match=match) as info:
        check_loss(loss)
    assert info.value.check == check or info.value.check.startswith(check)
    assert isinstance(info.value, AssertionError)


# ----------------------------------------------------- broken custom losses
def sq(y, raw):
    return (raw - y) ** 2


def sq_grad(y, raw):
    return 2.0 * (raw - y)


def sq_grad_wrong(y, raw):
    return 2.0 * (raw - y) + 0.01


def sq_hess(y, raw):
    return 2.0


def sq_hess_wrong(y, raw):
    return -2.0


def logistic_naive(y, raw):
    return math.log(1.0 + math.exp(raw)) - y * raw


def logistic_stable(y, raw):
    if raw > 0:
        return raw + math.log1p(math.exp(-raw)) - y * raw
    return math.log1p(math.exp(raw)) - y * raw


def logistic_grad_naive(y, raw):
    e = math.exp(raw)
    return e / (1.0 + e) - y  # inf / inf = NaN for large raw


def logistic_grad_stable(y, raw):
    if raw >= 0:
        return 1.0 / (1.0 + math.exp(-raw)) - y
    e = math.exp(raw)
    return e / (1.0 + e) - y


def not_numba(y, raw):
    return expit(raw - y)  # a SciPy ufunc: numba cannot compile it


@pytest.mark.parametrize(
    "kwargs, check, match",
    [
        (dict(loss=not_numba, gradient=sq_grad), "evaluate", "numba could not compile the loss function"),
        (dict(loss=sq, gradient=sq_grad_wrong, hessian=sq_hess), "gradient", "gradient at"),
        (dict(loss=sq, gradient=sq_grad, hessian=sq_hess_wrong), "hessian", "hessian at"),
        (
            dict(loss=logistic_stable, gradient=logistic_grad_naive, task="classification", link="logit"),
            "extremes",
            "gradient is NaN",
        ),
        (
            dict(loss=logistic_naive, gradient=logistic_grad_stable, task="classification", link="logit"),
            "extremes",
            "an intermediate overflowed",
        ),
        (dict(loss=lambda y, r: (r - y) ** 2, gradient=sq_grad), "pickle", "module-level"),
        (
            dict(
                loss=logistic_stable, gradient=logistic_grad_stable, task="classification", link="logit",
                likelihood=Bernoulli(link="probit"),
            ),
            "likelihood",
            "not proportional to the loss gradient",
        ),
    ],
    ids=["not-compilable", "wrong-gradient", "wrong-hessian", "nan-gradient", "overflowing-loss", "lambda", "wrong-likelihood"],
)
def test_broken_custom_losses_are_caught(kwargs, check, match):
    with pytest.raises(CheckLossError, match=match) as info:
        check_loss(make_loss(**kwargs))
    assert info.value.check == check


def test_correct_custom_loss_passes_and_skip_works():
    report = check_loss(
        make_loss(
            logistic_stable, logistic_grad_stable, task="classification", link="logit",
            likelihood=Bernoulli(link="logit"),
        )
    )
    assert report["likelihood"] == "passed"
    assert report["hessian"] == "skipped: has_hessian is False"
    assert report["no_hessian"] == "passed" and report["multiclass"] == "passed"
    lam = make_loss(lambda y, r: (r - y) ** 2, sq_grad, sq_hess)
    report = check_loss(lam, skip=("pickle",))
    assert report["pickle"] == "skipped: asked"
    assert report["hessian"] == "passed"


def test_message_names_the_point_and_values():
    with pytest.raises(CheckLossError) as info:
        check_loss(make_loss(sq, sq_grad_wrong, sq_hess), random_state=1)
    msg = str(info.value)
    assert "[gradient]" in msg and "y=" in msg and "raw=" in msg and "got" in msg
    # the numbers in the message are right: got - expected = 0.01
    got = float(msg.split("got ")[-1].rstrip("."))
    expected = float(msg.split("expected ")[1].split(" ")[0])
    assert got - expected == pytest.approx(0.01, rel=1e-4)


def test_error_pickles():
    import pickle

    err = pickle.loads(pickle.dumps(CheckLossError("check_loss(x) failed [gradient]: ...", "gradient")))
    assert err.check == "gradient" and "failed [gradient]" in str(err)


# --------------------------------------------------- declared capabilities
def _abs(y, raw):
    return abs(raw - y)


def _abs_grad(y, raw):
    return 1.0 if raw > y else (-1.0 if raw < y else 0.0)


def _sq(y, raw):
    return (raw - y) ** 2


def _sq_grad(y, raw):
    return 2.0 * (raw - y)


def _quartic_hess(y, raw):
    return 12.0 * (raw - y) ** 2


def test_capabilities_pass_with_true_declarations():
    loss = make_loss(_abs, _abs_grad, is_smooth=False, piecewise_linear=[(-1.0, 0.0), (1.0, 0.0)])
    assert check_loss(loss)["capabilities"] == "passed"
    assert check_loss(make_loss(_sq, _sq_grad, lambda y, r: 2.0, hessian_is_constant=True),
                      skip=("pickle",))["capabilities"] == "passed"


@pytest.mark.parametrize(
    "kwargs",
    [
        # pieces of the pinball loss at q = 0.3, not of the absolute error
        dict(loss=_abs, gradient=_abs_grad, is_smooth=False, piecewise_linear=[(-0.3, 0.0), (0.7, 0.0)]),
        # a constant Hessian declared for a quartic
        dict(loss=lambda y, r: (r - y) ** 4, gradient=lambda y, r: 4.0 * (r - y) ** 3, hessian=_quartic_hess,
             hessian_is_constant=True),
        # a domain that validate_y does not follow is impossible for make_loss; a
        # wrong shift-invariance declaration is caught on the K-score form
    ],
)
def test_capabilities_catch_false_declarations(kwargs):
    with pytest.raises(CheckLossError, match=r"\[capabilities\]"):
        check_loss(make_loss(**kwargs), skip=("pickle",))


def test_capabilities_catch_a_false_shift_invariance():
    class Claims(LogLoss):
        pass

    Claims.multiclass_shift_invariant = False
    with pytest.raises(CheckLossError, match="multiclass_shift_invariant"):
        check_loss(Claims(), skip=("pickle",))


def test_capabilities_catch_a_fused_kernel_of_another_loss():
    class Wrong(LogLoss):
        _fused_linear = {(False, False): "poisson_linear"}

    with pytest.raises(CheckLossError, match="fused pass"):
        check_loss(Wrong(), skip=("pickle",))
