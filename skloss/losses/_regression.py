"""Regression losses.

Every loss here is a function of a real target ``y`` and one raw prediction
``r`` per sample (the model's output on the link scale).  Values follow the
scikit-learn metric of the same name (``mean_squared_error``,
``mean_absolute_error``, ``mean_pinball_loss``, ``mean_poisson_deviance`` ...),
per sample and without the mean; gradients and Hessians are the derivatives of
exactly that value with respect to ``r``.  Their numba kernels live in
:mod:`skloss._kernels._regression`.

Non-smooth losses (``absolute_error``, ``quantile``, ``epsilon_insensitive``)
have ``has_hessian = False``; their ``gradient`` is a subgradient, the one of
smallest magnitude at a kink (0 at ``r = y`` for ``absolute_error`` and
``quantile``; 0 for ``|r - y| <= epsilon`` for ``epsilon_insensitive``).
Elsewhere the signs are scikit-learn's: ``d/dr |y - r| = sign(r - y)``.
"""

import numpy as np

from ..utils._quantile import weighted_quantile
from ._base import Loss
from ._capabilities import Interval
from ._likelihood import (
    AsymmetricLaplace,
    Gamma,
    Laplace,
    Normal,
    Poisson,
    StudentT,
    Tweedie,
)

__all__ = [
    "SquaredError",
    "AbsoluteError",
    "HuberLoss",
    "PseudoHuberLoss",
    "LogCoshLoss",
    "QuantileLoss",
    "PinballLoss",
    "EpsilonInsensitiveLoss",
    "SquaredEpsilonInsensitiveLoss",
    "SquaredLogError",
    "PoissonLoss",
    "GammaLoss",
    "TweedieLoss",
    "StudentTLoss",
]

# smallest mean accepted by a log-link start value when every y_true is 0
# (the optimum is then -inf); scikit-learn's ``fit_intercept_only`` uses the same
_MIN_MEAN = 10 * np.finfo(np.float64).eps

_NONNEGATIVE = Interval(0.0, np.inf, True, False)
_POSITIVE = Interval(0.0, np.inf, False, False)


def _weighted_mean(y, sw):
    if sw is None:
        return float(np.mean(y))
    return float(np.dot(sw, y) / np.sum(sw))


def _log_of_mean(y, sw):
    return float(np.log(max(_weighted_mean(y, sw), _MIN_MEAN)))


class _RegressionLoss(Loss):
    task = "regression"

    def __init__(self):
        pass



class SquaredError(_RegressionLoss):
    r"""Squared error, the Gaussian negative log-likelihood up to scale.

    .. math:: \ell(y, r) = (y - r)^2

    as :func:`sklearn.metrics.mean_squared_error` (no factor 1/2).  Gradient
    ``2 (r - y)``, Hessian ``2``.  Link: identity.  Likelihood:
    :class:`~skloss.losses.Normal` with ``-log p = (y - r)^2 / (2 sigma^2) +
    log(sigma) + log(2 pi) / 2``.

    Aliases: ``"mse"``, ``"mean_squared_error"``, ``"squared_loss"``, ``"l2"``.

    Examples
    --------
    >>> from skloss.losses import SquaredError
    >>> SquaredError().loss([1.0, 2.0], [0.0, 2.0])
    array([1., 0.])
    """

    name = "squared_error"
    _kernel_name = "squared_error"
    hessian_is_constant = True

    @property
    def likelihood(self):
        return Normal()

    def _init_scalar(self, y, sw):
        return _weighted_mean(y, sw)


class AbsoluteError(_RegressionLoss):
    r"""Absolute error, the Laplace negative log-likelihood up to scale.

    .. math:: \ell(y, r) = |y - r|

    as :func:`sklearn.metrics.mean_absolute_error`.  Not differentiable at
    ``r = y``: ``gradient`` returns the subgradient ``sign(r - y)`` (0 at the
    kink); no Hessian.  Link: identity (the prediction is a conditional median).
    Likelihood: :class:`~skloss.losses.Laplace` with scale ``b``.  The start
    value is the weighted median.

    Aliases: ``"mae"``, ``"mean_absolute_error"``, ``"l1"``, ``"lad"``.

    Examples
    --------
    >>> from skloss.losses import AbsoluteError
    >>> AbsoluteError().loss([1.0, 2.0], [0.0, 2.5])
    array([1. , 0.5])
    """

    name = "absolute_error"
    is_smooth = False
    has_hessian = False
    _kernel_name = "absolute_error"
    piecewise_linear = ((-1.0, 0.0), (1.0, 0.0))

    @property
    def likelihood(self):
        return Laplace()

    def _init_scalar(self, y, sw):
        return weighted_quantile(y, sw, 0.5)


class HuberLoss(_RegressionLoss):
    r"""Huber loss: quadratic near zero, linear in the tails.

    .. math:: \ell(y, r) = \begin{cases} \frac{1}{2} d^2 & |d| \le \delta \\ \delta (|d| - \frac{\delta}{2}) & |d| > \delta \end{cases}, \quad d = r - y

    the convention of scikit-learn's ``HuberLoss`` (``sklearn._loss``) and
    ``HuberRegressor``: half squared error inside, so that the gradient
    ``clip(d, -delta, delta)`` is continuous.  Smooth (C1) with the piecewise
    Hessian 1 for ``|d| <= delta``, 0 outside.  Link: identity.  An
    M-estimator: no likelihood.

    Parameters
    ----------
    delta : float > 0, default=1.0
        Where the quadratic part turns linear.

    Aliases: ``"huber_loss"``.

    Examples
    --------
    >>> from skloss.losses import HuberLoss
    >>> HuberLoss(delta=1.0).loss([0.0, 0.0], [0.5, 3.0])
    array([0.125, 2.5  ])
    """

    name = "huber"
    formula = r"\tfrac{1}{2} d^2 \text{ if } |d| \le \delta \text{ else } \delta (|d| - \tfrac{\delta}{2}),\ d = r - y"
    _kernel_name = "huber"

    def __init__(self, delta=1.0):
        self.delta = delta

    def _validate_params(self):
        self._check_real(type(self).__name__, "delta", self.delta, low=0, low_open=True)

    def _kernel_params(self):
        return np.array([float(self.delta)])


class PseudoHuberLoss(_RegressionLoss):
    r"""Pseudo-Huber loss, a smooth approximation of the Huber loss.

    .. math:: \ell(y, r) = \delta^2 \left(\sqrt{1 + (d / \delta)^2} - 1\right), \quad d = r - y

    about ``d^2 / 2`` near 0 and ``delta |d|`` in the tails (as in
    scikit-learn's ``HuberLoss``).  Gradient ``d / s`` and Hessian ``1 / s^3``
    with ``s = sqrt(1 + (d / delta)^2)``; evaluated as ``d^2 / (1 + s)`` so that
    small residuals lose no digits.  Convex, infinitely differentiable.  Link:
    identity.  An M-estimator: no likelihood.

    Parameters
    ----------
    delta : float > 0, default=1.0

    Aliases: ``"pseudohuber"``, ``"pseudo_huber_loss"``.

    Examples
    --------
    >>> from skloss.losses import PseudoHuberLoss
    >>> PseudoHuberLoss(delta=1.0).loss([0.0], [1.0]).round(6)
    array([0.414214])
    """

    name = "pseudo_huber"
    formula = r"\ell(y, r) = \delta^2 \left((1 + (d / \delta)^2)^{1/2} - 1\right),\ d = r - y"
    _kernel_name = "pseudo_huber"

    def __init__(self, delta=1.0):
        self.delta = delta

    def _validate_params(self):
        self._check_real(type(self).__name__, "delta", self.delta, low=0, low_open=True)

    def _kernel_params(self):
        return np.array([float(self.delta)])


class LogCoshLoss(_RegressionLoss):
    r"""Log-cosh loss (Keras' ``log_cosh``).

    .. math:: \ell(y, r) = \log \cosh (r - y)

    about ``d^2 / 2`` near 0 and ``|d| - log 2`` in the tails; gradient
    ``tanh(d)``, Hessian ``1 / cosh(d)^2``.  Evaluated without overflow
    (``|d| + log1p(exp(-2 |d|)) - log 2``) and without cancellation near 0
    (``log1p(2 sinh(d / 2)^2)``).  Keras' ``log_cosh`` metric is the mean of this
    value.  Convex and smooth.  Link: identity.  An M-estimator: no likelihood.

    Aliases: ``"logcosh"``.

    Examples
    --------
    >>> from skloss.losses import LogCoshLoss
    >>> LogCoshLoss().loss([0.0, 0.0], [1.0, 1e6]).round(6)
    array([4.33781000e-01, 9.99999307e+05])
    """

    name = "log_cosh"
    _kernel_name = "log_cosh"


class QuantileLoss(_RegressionLoss):
    r"""Quantile (pinball) loss, the asymmetric-Laplace negative log-likelihood up to scale.

    .. math:: \ell(y, r) = q \max(y - r, 0) + (1 - q) \max(r - y, 0)

    as :func:`sklearn.metrics.mean_pinball_loss` with ``alpha=quantile`` (and
    scikit-learn's ``PinballLoss``).  Minimising it estimates the conditional
    ``quantile``.  Not differentiable at ``r = y``: the subgradient there is 0
    (``-q`` below, ``1 - q`` above); no Hessian.  Link: identity.  Likelihood:
    :class:`~skloss.losses.AsymmetricLaplace`.  The start value is the weighted
    ``quantile`` of ``y_true``.

    Parameters
    ----------
    quantile : float in (0, 1), default=0.5
        The quantile to estimate (0.5: half the absolute error).

    Aliases: ``"pinball"``, ``"pinball_loss"``, ``"quantile_loss"``,
    ``"mean_pinball_loss"``.  ``PinballLoss`` is another name of this class.

    Examples
    --------
    >>> from skloss.losses import QuantileLoss
    >>> QuantileLoss(quantile=0.9).loss([1.0, 1.0], [0.0, 2.0])
    array([0.9, 0.1])
    """

    name = "quantile"
    is_smooth = False
    has_hessian = False
    _kernel_name = "quantile"

    def __init__(self, quantile=0.5):
        self.quantile = quantile

    def _validate_params(self):
        self._check_real(
            type(self).__name__, "quantile", self.quantile, low=0, high=1, low_open=True, high_open=True
        )

    def _kernel_params(self):
        return np.array([float(self.quantile)])

    @property
    def piecewise_linear(self):
        """``((-q, 0), (1 - q, 0))`` in ``u = raw - y``."""
        q = float(self.quantile)
        return ((-q, 0.0), (1.0 - q, 0.0))

    @property
    def likelihood(self):
        return AsymmetricLaplace(quantile=self.quantile)

    def _init_scalar(self, y, sw):
        self._validate_params()
        return weighted_quantile(y, sw, float(self.quantile))


PinballLoss = QuantileLoss


class EpsilonInsensitiveLoss(_RegressionLoss):
    r"""Epsilon-insensitive loss of support vector regression.

    .. math:: \ell(y, r) = \max(0, |y - r| - \epsilon)

    as ``SGDRegressor(loss="epsilon_insensitive")`` and ``LinearSVR``.  Not
    differentiable at ``|r - y| = epsilon``: ``gradient`` returns the
    subgradient ``sign(r - y)`` outside the tube and 0 inside it (and on its
    edge); no Hessian.  Link: identity.  An M-estimator: no likelihood.  Its
    intercept-only optimum is any point of an interval; the start value is the
    one the generic 1-D minimiser finds.

    Parameters
    ----------
    epsilon : float >= 0, default=0.1
        Half-width of the tube inside which errors cost nothing.

    Examples
    --------
    >>> from skloss.losses import EpsilonInsensitiveLoss
    >>> EpsilonInsensitiveLoss(epsilon=0.5).loss([0.0, 0.0], [0.25, 2.0])
    array([0. , 1.5])
    """

    name = "epsilon_insensitive"
    is_smooth = False
    has_hessian = False
    _kernel_name = "epsilon_insensitive"

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def _validate_params(self):
        self._check_real(type(self).__name__, "epsilon", self.epsilon, low=0)

    def _kernel_params(self):
        return np.array([float(self.epsilon)])

    @property
    def piecewise_linear(self):
        """``((-1, -eps), (0, 0), (1, -eps))`` in ``u = raw - y``."""
        e = float(self.epsilon)
        return ((-1.0, -e), (0.0, 0.0), (1.0, -e))


class SquaredEpsilonInsensitiveLoss(_RegressionLoss):
    r"""Squared epsilon-insensitive loss.

    .. math:: \ell(y, r) = \max(0, |y - r| - \epsilon)^2

    as ``SGDRegressor(loss="squared_epsilon_insensitive")``.  Continuously
    differentiable (C1); the Hessian is piecewise: 2 outside the tube, 0 inside.
    Link: identity.  An M-estimator: no likelihood.

    Parameters
    ----------
    epsilon : float >= 0, default=0.1

    Examples
    --------
    >>> from skloss.losses import SquaredEpsilonInsensitiveLoss
    >>> SquaredEpsilonInsensitiveLoss(epsilon=0.5).loss([0.0, 0.0], [0.25, 2.0])
    array([0.  , 2.25])
    """

    name = "squared_epsilon_insensitive"
    _kernel_name = "squared_epsilon_insensitive"

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def _validate_params(self):
        self._check_real(type(self).__name__, "epsilon", self.epsilon, low=0)

    def _kernel_params(self):
        return np.array([float(self.epsilon)])


class SquaredLogError(_RegressionLoss):
    r"""Squared logarithmic error (Keras' ``msle``) on the log1p link.

    .. math:: \ell(y, r) = (\log(1 + y) - r)^2

    with the raw prediction on the ``log1p`` scale, ``r = log(1 + y_pred)``
    (``inverse_link`` is ``expm1``), so that the value equals the per-sample term
    of :func:`sklearn.metrics.mean_squared_log_error` ``(log1p(y) -
    log1p(y_pred))^2``.  Gradient ``2 (r - log1p(y))``, Hessian 2.  Domain
    ``y_true > -1``.  Start value: the weighted mean of ``log1p(y)``.

    The loss is the Gaussian negative log-likelihood of ``log1p(y)``, not of
    ``y``; a density of ``y`` would need the Jacobian ``1 / (1 + y)``, so
    ``likelihood`` is None (fit :class:`SquaredError` to ``log1p(y)`` for
    likelihood inference).

    Aliases: ``"msle"``, ``"mean_squared_log_error"``,
    ``"mean_squared_logarithmic_error"``, ``"squared_logarithmic_error"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.losses import SquaredLogError
    >>> SquaredLogError().loss([np.e - 1.0], [0.0])
    array([1.])
    """

    name = "squared_log_error"
    _kernel_name = "squared_log_error"
    _link_name = "log1p"
    y_domain = Interval(-1.0, np.inf, False, False)
    hessian_is_constant = True

    def _init_scalar(self, y, sw):
        return _weighted_mean(np.log1p(y), sw)


class PoissonLoss(_RegressionLoss):
    r"""Poisson deviance, the Poisson negative log-likelihood up to constants.

    .. math:: \ell(y, r) = 2 \left(y \log \frac{y}{\mu} - y + \mu\right), \quad \mu = e^{r}

    with ``y log y = 0`` at ``y = 0``: the per-sample term of
    :func:`sklearn.metrics.mean_poisson_deviance` (twice scikit-learn's
    ``HalfPoissonLoss`` plus a term in ``y`` alone).  Gradient ``2 (mu - y)``,
    Hessian ``2 mu``.  Link: log.  Domain ``y_true >= 0``.  Likelihood:
    :class:`~skloss.losses.Poisson`, ``log p = y r - e^r - log(y!)``, so
    ``loss = 2 (log p(y | mu = y) - log p(y | mu))``.  Start value: the log of
    the weighted mean (``log(10 eps)`` when every ``y`` is 0, where the optimum
    is ``-inf``).

    Aliases: ``"poisson_deviance"``, ``"mean_poisson_deviance"``.

    Examples
    --------
    >>> from skloss.losses import PoissonLoss
    >>> PoissonLoss().loss([0.0, 1.0], [0.0, 0.0])
    array([2., 0.])
    """

    name = "poisson"
    _kernel_name = "poisson"
    _link_name = "log"
    y_domain = _NONNEGATIVE
    may_lack_minimiser = True  # all-zero counts: the optimum is at raw = -inf
    _fused_linear = {(False, False): "poisson_linear"}

    @property
    def likelihood(self):
        return Poisson()

    def _init_scalar(self, y, sw):
        return _log_of_mean(y, sw)


class GammaLoss(_RegressionLoss):
    r"""Gamma deviance, the Gamma negative log-likelihood up to dispersion and constants.

    .. math:: \ell(y, r) = 2 \left(\log \frac{\mu}{y} + \frac{y}{\mu} - 1\right), \quad \mu = e^{r}

    the per-sample term of :func:`sklearn.metrics.mean_gamma_deviance`.
    Gradient ``2 (1 - y / mu)``, Hessian ``2 y / mu``.  Link: log.  Domain
    ``y_true > 0``.  Likelihood: :class:`~skloss.losses.Gamma` with dispersion
    ``phi`` (shape ``1 / phi``).  Start value: the log of the weighted mean.

    Aliases: ``"gamma_deviance"``, ``"mean_gamma_deviance"``.

    Examples
    --------
    >>> from skloss.losses import GammaLoss
    >>> GammaLoss().loss([1.0, 2.0], [0.0, 0.0]).round(6)
    array([0.      , 0.613706])
    """

    name = "gamma"
    _kernel_name = "gamma"
    _link_name = "log"
    y_domain = _POSITIVE
    _fused_linear = {(False, False): "gamma_linear"}

    @property
    def likelihood(self):
        return Gamma()

    def _init_scalar(self, y, sw):
        return _log_of_mean(y, sw)


class TweedieLoss(_RegressionLoss):
    r"""Tweedie deviance with variance power ``power``.

    .. math:: \ell(y, r) = 2 \left(\frac{\max(y, 0)^{2-p}}{(1-p)(2-p)} - \frac{y \mu^{1-p}}{1-p} + \frac{\mu^{2-p}}{2-p}\right)

    the per-sample term of :func:`sklearn.metrics.mean_tweedie_deviance` with
    ``power=p``, and its limits: ``p = 0`` squared error ``(y - mu)^2``,
    ``p = 1`` the Poisson deviance, ``p = 2`` the Gamma deviance.

    Link: log for ``power >= 1`` (``mu = exp(r)``); identity for ``power = 0``
    (the normal distribution, ``mu = r``), so ``TweedieLoss(power=0)`` is
    :class:`SquaredError`.  Powers in ``(0, 1)`` have no Tweedie distribution and
    negative powers are not supported: both are rejected.  Domain: any real
    ``y`` for ``power = 0``, ``y >= 0`` for ``1 <= power < 2``, ``y > 0`` for
    ``power >= 2``.  Gradient ``2 mu^{1-p} (mu - y)``, Hessian
    ``2 mu^{1-p} ((2 - p) mu - (1 - p) y)`` (log link).  Likelihood:
    :class:`~skloss.losses.Tweedie` with dispersion ``phi``.  Start value: the
    log of the weighted mean (the mean for ``power = 0``).

    Parameters
    ----------
    power : float, 0 or >= 1, default=1.5
        Variance power: ``Var(y) = phi mu^power``.  ``1 < power < 2`` is the
        compound Poisson-gamma distribution (exact zeros and positive values),
        3 the inverse Gaussian.

    Aliases: ``"tweedie_deviance"``, ``"mean_tweedie_deviance"``.

    Examples
    --------
    >>> from skloss.losses import TweedieLoss
    >>> TweedieLoss(power=1.5).loss([0.0, 1.0], [0.0, 0.0])
    array([4., 0.])
    """

    name = "tweedie"
    formula = (
        r"\ell(y, r) = 2 \left(\max(y, 0)^{2-p} / ((1-p)(2-p)) - y \mu^{1-p} / (1-p)"
        r" + \mu^{2-p} / (2-p)\right),\ \mu = e^{r}"
    )

    def __init__(self, power=1.5):
        self.power = power

    def _validate_params(self):
        p = self.power
        self._check_real(type(self).__name__, "power", p)
        if p < 0 or 0 < p < 1:
            raise ValueError(
                f"The 'power' parameter of {type(self).__name__} must be 0 or >= 1; got {p!r}. "
                "Tweedie distributions with 0 < power < 1 do not exist, and negative "
                "powers are not supported."
            )

    @property
    def _kernel_name(self):
        return {0: "squared_error", 1: "poisson", 2: "gamma"}.get(self.power, "tweedie")

    @property
    def _link_name(self):
        return "identity" if self.power == 0 else "log"

    @property
    def y_domain(self):
        """Any real for ``power = 0``, ``>= 0`` for ``1 <= power < 2``, ``> 0`` beyond."""
        self._validate_params()
        if self.power == 0:
            return Interval()
        return _NONNEGATIVE if self.power < 2 else _POSITIVE

    @property
    def hessian_is_constant(self):
        return self.power == 0

    @property
    def may_lack_minimiser(self):
        return 1 <= self.power < 2

    @property
    def _fused_linear(self):
        if self.power == 0:
            return {}
        return {(False, False): f"{self._kernel_name}_linear"}

    def _kernel_params(self):
        return np.array([float(self.power)])

    @property
    def likelihood(self):
        return Tweedie(power=self.power)

    def _label(self):
        return f"Loss 'tweedie' with power={self.power!r}"

    def _init_scalar(self, y, sw):
        self._validate_params()
        if self.power == 0:
            return _weighted_mean(y, sw)
        return _log_of_mean(y, sw)


class StudentTLoss(_RegressionLoss):
    r"""Student-t loss: the Student-t negative log-likelihood at unit scale, without constants.

    .. math:: \ell(y, r) = \frac{\nu + 1}{2} \log\left(1 + \frac{(y - r)^2}{\nu}\right)

    with ``nu = df`` degrees of freedom: heavy-tailed noise, so outliers pull
    less than under squared error (the loss grows like ``log |d|``).  Gradient
    ``(nu + 1) d / (nu + d^2)``, Hessian ``(nu + 1) (nu - d^2) / (nu + d^2)^2``
    with ``d = r - y``: smooth but **not convex** (the Hessian is negative for
    ``|d| > sqrt(nu)``).  Link: identity.  Likelihood:
    :class:`~skloss.losses.StudentT` with location ``r`` and scale ``sigma``;
    ``-log p = loss((y - r) / sigma) + log(sigma) + log B(nu/2, 1/2) +
    log(nu) / 2``.  At ``df -> inf`` the loss tends to half the squared error.

    Parameters
    ----------
    df : float > 0, default=3.0
        Degrees of freedom (1: Cauchy).

    Aliases: ``"studentt"``, ``"student"``, ``"t"``.

    Examples
    --------
    >>> from skloss.losses import StudentTLoss
    >>> StudentTLoss(df=1.0).loss([0.0], [1.0]).round(6)
    array([0.693147])
    """

    name = "student_t"
    _kernel_name = "student_t"

    def __init__(self, df=3.0):
        self.df = df

    def _validate_params(self):
        self._check_real(type(self).__name__, "df", self.df, low=0, low_open=True)

    def _kernel_params(self):
        return np.array([float(self.df)])

    @property
    def likelihood(self):
        return StudentT(df=self.df)


# (class, aliases) registered by skloss.losses._catalogue
REGISTRATIONS = [
    (SquaredError, ("mse", "mean_squared_error", "squared_loss", "l2")),
    (AbsoluteError, ("mae", "mean_absolute_error", "l1", "lad", "absolute_loss")),
    (HuberLoss, ("huber_loss",)),
    (PseudoHuberLoss, ("pseudohuber", "pseudo_huber_loss")),
    (LogCoshLoss, ("logcosh", "log_cosh_loss")),
    (QuantileLoss, ("pinball", "pinball_loss", "quantile_loss", "mean_pinball_loss")),
    (EpsilonInsensitiveLoss, ()),
    (SquaredEpsilonInsensitiveLoss, ()),
    (
        SquaredLogError,
        ("msle", "mean_squared_log_error", "mean_squared_logarithmic_error", "squared_logarithmic_error"),
    ),
    (PoissonLoss, ("poisson_deviance", "mean_poisson_deviance", "poisson_loss")),
    (GammaLoss, ("gamma_deviance", "mean_gamma_deviance")),
    (TweedieLoss, ("tweedie_deviance", "mean_tweedie_deviance")),
    (StudentTLoss, ("studentt", "student", "t", "students_t")),
]
