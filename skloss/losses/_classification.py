"""Classification losses: a binary form on one raw score, a multi-class form on K.

Conventions shared by every loss of this module:

* binary form: ``y_true`` in {0, 1}, one raw score ``r`` per sample; the margin
  losses use the signed label ``z = 2 y - 1`` and the margin ``m = z r``;
* multi-class form: ``y_true`` the class index in {0, ..., K-1}, raw ``(n, K)``;
  a loss with ``has_multiclass_form = False`` uses the one-vs-rest sum of its
  binary form over the K columns (see :class:`~skloss.losses.Loss`).
"""

import numpy as np
from scipy import special

from ._base import Loss
from ._likelihood import Bernoulli, Categorical

__all__ = [
    "LogLoss",
    "KLDivergence",
    "ProbitLoss",
    "HingeLoss",
    "SquaredHingeLoss",
    "ModifiedHuberLoss",
    "PerceptronLoss",
    "ExponentialLoss",
    "FocalLoss",
    "BrierLoss",
]


def _check_smoothing(loss):
    Loss._check_real(type(loss).__name__, "label_smoothing", loss.label_smoothing, 0.0, 1.0, high_open=True)


def _wmean(y, sw):
    if sw is None:
        return float(np.mean(y))
    return float(np.dot(sw, y) / np.sum(sw))


def _logit_of_mean(m):
    # log-odds of a frequency, kept finite when every label is the same
    m = min(max(m, 1e-300), 1.0 - 1e-16)
    return float(np.log(m) - np.log1p(-m))


def _log_frequencies(y, sw, k):
    sw = np.ones_like(y) if sw is None else sw
    counts = np.bincount(y.astype(np.intp), weights=sw, minlength=k)[:k]
    return counts / counts.sum()


def _float64_product(kernel, args):
    """A Hessian-product kernel on float32 arrays: its float64 specialisation on
    exact float64 copies, the result rounded once to float32 -- the bits a
    float32 specialisation stores (the kernels compute in float64), without
    compiling one (as the element-wise kernels: skloss._kernels._widen)."""
    args = tuple(a.astype(np.float64) if a.dtype == np.float32 else a for a in args)
    out = np.empty(args[-1].shape)
    kernel(*args, out)
    return out.astype(np.float32)


class _ClassificationLoss(Loss):
    task = "classification"
    _kernel_module = "_binary"

    def _init_multiclass(self, y, sw, k):
        if self.has_multiclass_form:
            return super()._init_multiclass(y, sw, k)
        # one-vs-rest: the K binary problems are independent
        return np.array([self._init_scalar((y == j).astype(np.float64), sw) for j in range(k)])

    def _product_kernel(self, name, y, raw, sw, direction):
        from skloss._kernels import _multiclass

        kernel = getattr(_multiclass, name)
        if raw.dtype == np.float32:  # (see _float64_product)
            return _float64_product(kernel, (y, raw, sw, self._kernel_params(), direction))
        out = np.empty_like(raw)
        kernel(y, raw, sw, self._kernel_params(), direction, out)
        return out


class _BinaryOrCategorical(Bernoulli):
    """Bernoulli on a 1-D raw score, categorical on an (n, K) raw array."""

    name = "Bernoulli/Categorical"

    def __init__(self, link="logit"):
        self.link = link

    def logpdf(self, y_true, raw_prediction, scale=None):
        if np.ndim(raw_prediction) == 2:
            return Categorical().logpdf(y_true, raw_prediction)
        return super().logpdf(y_true, raw_prediction)

    def sample(self, raw_prediction, scale=None, random_state=None):
        if np.ndim(raw_prediction) == 2:
            return Categorical().sample(raw_prediction, random_state=random_state)
        return super().sample(raw_prediction, random_state=random_state)


class _CrossEntropyBase(_ClassificationLoss):
    is_probabilistic = True
    has_multiclass_form = True
    _link_name = "logit"
    _multiclass_link_name = "softmax"

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def _validate_params(self):
        _check_smoothing(self)

    def _kernel_params(self):
        return np.array([float(self.label_smoothing)])

    multiclass_shift_invariant = True

    @property
    def may_lack_minimiser(self):
        """Separation: without label smoothing the infimum is approached only as
        the margins grow without bound."""
        return self.label_smoothing == 0

    @property
    def likelihood(self):
        if self.label_smoothing != 0:
            return None
        return _BinaryOrCategorical()

    def _multiclass_hessian_product(self, y, raw, sw, direction):
        from skloss._kernels._multiclass import softmax_hessian_product

        if raw.dtype == np.float32:  # (see _float64_product)
            return _float64_product(softmax_hessian_product, (raw, sw, direction))
        out = np.empty_like(raw)
        softmax_hessian_product(raw, sw, direction, out)
        return out

    def _init_scalar(self, y, sw):
        eps = self.label_smoothing
        return _logit_of_mean(_wmean(y * (1 - eps) + 0.5 * eps, sw))

    def _init_multiclass(self, y, sw, k):
        eps = self.label_smoothing
        freq = (1 - eps) * _log_frequencies(y, sw, k) + eps / k
        logf = np.log(np.maximum(freq, 1e-300))
        return logf - logf.mean()


class LogLoss(_CrossEntropyBase):
    r"""Log loss: binary and categorical cross-entropy, the Bernoulli / categorical NLL.

    Binary form, ``y`` in {0, 1}, logit link ``p = expit(r)``:

    .. math:: \ell(y, r) = \log(1 + e^{r}) - t\,r = -t \log p - (1 - t) \log(1 - p)

    with the smoothed target ``t = y (1 - \epsilon) + \epsilon / 2``.  Multi-class
    form, ``y`` in {0, ..., K-1}, softmax link:

    .. math:: \ell(y, r) = \operatorname{logsumexp}(r) - \sum_k t_k r_k,
              \quad t_k = (1 - \epsilon) [y = k] + \epsilon / K

    Gradient ``p - t``; Hessian ``p (1 - p)`` (binary), ``diag(p) - p p^T``
    (multi-class).  With ``label_smoothing = 0`` the value is the per-sample term
    of :func:`sklearn.metrics.log_loss` (natural logarithm), the same number
    scikit-learn's private ``HalfBinomialLoss`` / ``HalfMultinomialLoss`` compute
    (their "half" refers to the deviance, not to this value).  The likelihood is
    :class:`~skloss.losses.Bernoulli` / :class:`~skloss.losses.Categorical`
    (none when smoothing).

    Parameters
    ----------
    label_smoothing : float in [0, 1), default=0.0
        Keras' ``label_smoothing``: the one-hot target is mixed with the uniform
        distribution.

    Aliases: ``"log"``, ``"logistic"``, ``"binary_crossentropy"``,
    ``"categorical_crossentropy"``, ``"cross_entropy"``, ``"binomial"``,
    ``"multinomial"``, ``"bce"``, ``"logloss"``.

    See Also
    --------
    KLDivergence : the same gradient, the value minus the target's entropy.

    Examples
    --------
    >>> from skloss.losses import LogLoss
    >>> LogLoss().loss([1.0, 0.0], [0.0, 0.0]).round(4)
    array([0.6931, 0.6931])
    """

    name = "log_loss"
    _kernel_name = "log_loss"
    _multiclass_kernel_name = "log_loss"
    _fused_linear = {
        (False, False): "log_loss_linear",
        (True, False): "log_loss_linear_csr",
        (False, True): "multinomial_logloss_value_grad",
    }


class KLDivergence(_CrossEntropyBase):
    r"""Kullback-Leibler divergence of the model's distribution from the target's.

    .. math:: \ell(y, r) = \operatorname{KL}(t \,\|\, p) = \sum_k t_k \log t_k - \sum_k t_k \log p_k

    with ``0 log 0 = 0``, where ``t`` is the (optionally smoothed) one-hot target and ``p`` the
    predicted distribution: ``p = expit(r)`` over the two outcomes for the binary
    form (``t = (1 - t_1, t_1)``, ``t_1 = y (1 - \epsilon) + \epsilon / 2``) and
    ``p = softmax(r)`` for the multi-class form (``t_k = (1 - \epsilon) [y = k] +
    \epsilon / K``).

    Since cross-entropy ``H(t, p) = H(t) + KL(t || p)``, the value is
    :class:`LogLoss` (with the same smoothing) minus the entropy ``H(t)`` of the
    target, which does not depend on the raw prediction: gradient and Hessian
    are those of the log loss.  Without smoothing ``H(t) = 0`` and the two losses
    coincide; the likelihood is then Bernoulli / categorical, and none
    otherwise.  This is Keras' ``KLDivergence`` on one-hot (smoothed) targets.

    Parameters
    ----------
    label_smoothing : float in [0, 1), default=0.0
        Mix the one-hot target with the uniform distribution.

    Aliases: ``"kld"``, ``"kullback_leibler_divergence"``, ``"kl_div"``.

    Examples
    --------
    >>> from skloss.losses import KLDivergence, LogLoss
    >>> kl = KLDivergence(label_smoothing=0.2)  # target (0.1, 0.9) for y = 1
    >>> kl.loss([1.0, 1.0], [10.0, 0.0]).round(4)
    array([0.675 , 0.3681])
    >>> (LogLoss(label_smoothing=0.2).loss([1.0], [0.0]) - kl.loss([1.0], [0.0])).round(4)  # H(t)
    array([0.3251])
    """

    name = "kl_divergence"
    _kernel_name = "kl_divergence"
    _multiclass_kernel_name = "kl_divergence"


class ProbitLoss(_ClassificationLoss):
    r"""Probit loss: the Bernoulli negative log-likelihood with the probit link.

    .. math:: \ell(y, r) = -y \log \Phi(r) - (1 - y) \log \Phi(-r)

    with ``\Phi`` the standard normal CDF; ``p = \Phi(r)``.  Gradient
    ``-z M(z r)`` and Hessian ``M(z r) (z r + M(z r))`` for ``y`` in {0, 1}
    (``z = 2 y - 1``), with the inverse Mills ratio ``M = \phi / \Phi``.  The
    kernels evaluate ``\log \Phi`` from ``erfc`` in the normal range and from a
    continued fraction of the Mills ratio in the lower tail, so value, gradient
    and Hessian keep full relative precision down to ``r = -1e6`` (where the loss
    is ``5e11``).  Likelihood: :class:`~skloss.losses.Bernoulli` with
    ``link="probit"`` (statsmodels' ``Probit``).  No genuine multi-class form:
    the K-score form is one-vs-rest.

    Examples
    --------
    >>> from skloss.losses import ProbitLoss
    >>> ProbitLoss().loss([1.0, 0.0], [0.0, 0.0]).round(4)
    array([0.6931, 0.6931])
    """

    name = "probit"
    is_probabilistic = True
    may_lack_minimiser = True
    _kernel_name = "probit"
    _link_name = "probit"

    def __init__(self):
        pass

    @property
    def likelihood(self):
        return Bernoulli(link="probit")

    def _init_scalar(self, y, sw):
        m = min(max(_wmean(y, sw), 1e-300), 1.0 - 1e-16)
        return float(special.ndtri(m))


class HingeLoss(_ClassificationLoss):
    r"""Hinge loss (linear SVM); Crammer-Singer for K classes.

    Binary form, ``z = 2 y - 1``:

    .. math:: \ell(y, r) = \max(0, 1 - z r)

    Multi-class form (Crammer & Singer, 2001):

    .. math:: \ell(y, r) = \max(0, 1 + \max_{k \ne y} r_k - r_y)

    Both equal the per-sample terms of :func:`sklearn.metrics.hinge_loss` (binary
    with labels {-1, +1} ~ {0, 1}; multi-class with ``pred_decision = r``).  For
    K = 2 the multi-class form on ``(r_0, r_1)`` equals the binary form on
    ``r_1 - r_0``.  Not differentiable at the hinge: the gradient is the
    subgradient ``-z`` where ``z r <= 1`` (``e_j - e_y`` with ``j`` the best
    other class where the hinge is active), as scikit-learn's SGD uses; no
    Hessian, no likelihood, no probabilities.

    Aliases: ``"hinge_loss"``, ``"crammer_singer"``.  (Keras'
    ``categorical_hinge`` differs: its "best other score" is floored at 0.)

    Examples
    --------
    >>> from skloss.losses import HingeLoss
    >>> HingeLoss().loss([1.0, 0.0], [0.5, -2.0])
    array([0.5, 0. ])
    """

    name = "hinge"
    is_smooth = False
    has_hessian = False
    has_multiclass_form = True
    piecewise_linear = ((-1.0, 1.0), (0.0, 0.0))  # max(0, 1 - u), u = z raw
    multiclass_margin = 1.0
    multiclass_shift_invariant = True
    _kernel_name = "hinge"
    _multiclass_kernel_name = "hinge"
    _link_name = "sign"

    def __init__(self):
        pass

    def _init_scalar(self, y, sw):
        # argmin_c  m (1 - c)_+ + (1 - m) (1 + c)_+
        m = _wmean(y, sw)
        return 1.0 if m > 0.5 else (-1.0 if m < 0.5 else 0.0)

    def _init_multiclass(self, y, sw, k):
        # with a the top class of c and delta its lead, the mean loss is at least
        # (1 - f_a)(1 + delta) + f_a (1 - delta)_+, so the optimum is c = 0
        # (loss 1) or the one-hot of the majority class (loss 2 (1 - f_max))
        freq = _log_frequencies(y, sw, k)
        c = np.zeros(k)
        if 2.0 * (1.0 - freq.max()) < 1.0:
            c[int(np.argmax(freq))] = 1.0
        return c


class SquaredHingeLoss(_ClassificationLoss):
    r"""Squared hinge loss.

    .. math:: \ell(y, r) = \max(0, 1 - z r)^2, \quad z = 2 y - 1

    as ``SGDClassifier(loss="squared_hinge")`` and Keras' ``squared_hinge`` (per
    sample, labels {0, 1} ~ {-1, +1}).  Continuously differentiable: gradient
    ``-2 z (1 - z r)_+``, Hessian piecewise ``2`` (``z r < 1``) or ``0``.  No
    likelihood, no probabilities; the K-score form is one-vs-rest.

    Aliases: ``"squared_hinge_loss"``.

    Examples
    --------
    >>> from skloss.losses import SquaredHingeLoss
    >>> SquaredHingeLoss().loss([1.0, 0.0], [0.5, -2.0])
    array([0.25, 0.  ])
    """

    name = "squared_hinge"
    _kernel_name = "squared_hinge"
    _link_name = "sign"

    def __init__(self):
        pass

    def _init_scalar(self, y, sw):
        # argmin_c  m (1 - c)^2 + (1 - m) (1 + c)^2
        return 2.0 * _wmean(y, sw) - 1.0


class ModifiedHuberLoss(_ClassificationLoss):
    r"""Modified Huber loss (Zhang, 2004), as ``SGDClassifier(loss="modified_huber")``.

    With the margin ``m = z r``, ``z = 2 y - 1``:

    .. math::

        \ell(y, r) = \begin{cases} \max(0, 1 - m)^2 & m \ge -1 \\
                                   -4 m & m < -1 \end{cases}

    Continuously differentiable; Hessian piecewise ``2`` (``-1 <= m < 1``) or
    ``0``.  Probabilistic through the clipped linear link ``p = (clip(r, -1, 1) +
    1) / 2``, which is scikit-learn's ``predict_proba`` for this loss (one-vs-rest
    probabilities are normalised over the classes).  No likelihood.

    Aliases: ``"modified_huber_loss"``.

    Examples
    --------
    >>> from skloss.losses import ModifiedHuberLoss
    >>> ModifiedHuberLoss().loss([1.0, 1.0], [0.5, -3.0])
    array([ 0.25, 12.  ])
    """

    name = "modified_huber"
    is_probabilistic = True
    _kernel_name = "modified_huber"
    _link_name = "clipped_linear"

    def __init__(self):
        pass

    def _init_scalar(self, y, sw):
        # the optimum lies in [-1, 1], where the loss is the squared hinge's
        return 2.0 * _wmean(y, sw) - 1.0


class PerceptronLoss(_ClassificationLoss):
    r"""Perceptron loss, as ``SGDClassifier(loss="perceptron")``.

    Binary form, ``z = 2 y - 1``:

    .. math:: \ell(y, r) = \max(0, -z r)

    Multi-class form ``max(0, max_{k != y} r_k - r_y)`` (the multi-class
    perceptron).  Not
    differentiable at 0: the subgradient is taken where the argument is
    ``>= 0``, so a zero start moves.  No Hessian, no likelihood, no
    probabilities.

    Aliases: ``"perceptron_loss"``.

    Examples
    --------
    >>> from skloss.losses import PerceptronLoss
    >>> PerceptronLoss().loss([1.0, 0.0], [-0.5, -2.0])
    array([0.5, 0. ])
    """

    name = "perceptron"
    is_smooth = False
    has_hessian = False
    has_multiclass_form = True
    piecewise_linear = ((-1.0, 0.0), (0.0, 0.0))  # max(0, -u), u = z raw
    multiclass_margin = 0.0
    multiclass_shift_invariant = True
    _kernel_name = "perceptron"
    _multiclass_kernel_name = "perceptron"
    _link_name = "sign"

    def __init__(self):
        pass

    def _init_scalar(self, y, sw):
        return 0.0  # loss 0: the minimum

    def _init_multiclass(self, y, sw, k):
        return np.zeros(k)


class ExponentialLoss(_ClassificationLoss):
    r"""Exponential loss (AdaBoost), scikit-learn's ``ExponentialLoss``.

    .. math:: \ell(y, r) = y e^{-r} + (1 - y) e^{r} = e^{-z r}, \quad z = 2 y - 1

    Gradient ``-z e^{-z r}``, Hessian ``e^{-z r}``.  Probabilistic through the
    half-logit link ``p = expit(2 r)`` (the population minimiser is half the
    log-odds).  The value overflows to ``+inf`` only where ``e^{-z r}`` exceeds
    the floating-point range (``-z r > 709`` in float64, ``> 88`` in float32).
    No likelihood; the K-score form is one-vs-rest.

    Aliases: ``"exponential_loss"``, ``"adaboost"``.

    Examples
    --------
    >>> from skloss.losses import ExponentialLoss
    >>> ExponentialLoss().loss([1.0, 0.0], [0.0, 0.0])
    array([1., 1.])
    """

    name = "exponential"
    is_probabilistic = True
    may_lack_minimiser = True
    _kernel_name = "exponential"
    _link_name = "half_logit"

    def __init__(self):
        pass

    def _init_scalar(self, y, sw):
        return 0.5 * _logit_of_mean(_wmean(y, sw))


class FocalLoss(_ClassificationLoss):
    r"""Focal loss (Lin et al., 2017): cross-entropy that down-weights easy samples.

    Binary form, ``p = expit(r)``, ``p_t = p`` for ``y = 1`` and ``1 - p`` for
    ``y = 0``:

    .. math:: \ell(y, r) = -\alpha_t (1 - p_t)^\gamma \log p_t

    with ``\alpha_t = \alpha`` for ``y = 1`` and ``1 - \alpha`` for ``y = 0``
    (``alpha=None``: no class weighting, ``\alpha_t = 1``).  Multi-class form,
    ``p = softmax(r)``:

    .. math:: \ell(y, r) = -\alpha (1 - p_y)^\gamma \log p_y

    (``alpha`` a plain multiplier there, 1 when None).  ``gamma = 0`` and
    ``alpha=None`` give :class:`LogLoss`.  ``\log p_t`` and ``1 - p_t`` are
    evaluated on the raw scale (log-sigmoid / log-softmax, ``1 - p_y`` summed
    from the other classes), so the loss stays exact for saturated predictions.

    Smoothness and Hessian: as a function of the raw score the loss is
    infinitely differentiable for every ``gamma >= 0`` (the factors ``p (1 - p)``
    of the chain rule cancel the ``(1 - p_t)^{\gamma - 1}`` singularity that the
    derivative in ``p`` has for ``gamma < 1``), so ``has_hessian`` is True and
    the exact Hessian is returned (diagonal, and the full K x K product for the
    multi-class form).  For ``gamma > 0`` the loss is **not convex**: the Hessian
    is negative for badly misclassified samples (binary: roughly ``z r <
    -(2 gamma + 1) / gamma``), so Newton-type solvers must safeguard.  Not a
    likelihood; probabilities through the logit / softmax link.

    Parameters
    ----------
    gamma : float >= 0, default=2.0
        Focusing parameter.
    alpha : float in [0, 1] or None, default=None
        Weight of the positive class (binary form) or overall multiplier
        (multi-class form).

    Aliases: ``"focal_loss"``, ``"binary_focal_crossentropy"``,
    ``"categorical_focal_crossentropy"``, ``"sigmoid_focal"``,
    ``"sigmoid_focal_loss"`` (the defaults of Keras' ``BinaryFocalCrossentropy``:
    ``gamma=2``, no class balancing; torchvision's ``sigmoid_focal_loss`` uses
    ``alpha=0.25``).

    Examples
    --------
    >>> from skloss.losses import FocalLoss
    >>> FocalLoss(gamma=2.0).loss([1.0], [0.0]).round(4)
    array([0.1733])
    """

    name = "focal"
    is_probabilistic = True
    has_multiclass_form = True
    multiclass_shift_invariant = True
    may_lack_minimiser = True
    _kernel_name = "focal"
    _multiclass_kernel_name = "focal"
    _link_name = "logit"
    _multiclass_link_name = "softmax"

    def __init__(self, gamma=2.0, alpha=None):
        self.gamma = gamma
        self.alpha = alpha

    def _validate_params(self):
        owner = type(self).__name__
        self._check_real(owner, "gamma", self.gamma, 0.0)
        if self.alpha is not None:
            self._check_real(owner, "alpha", self.alpha, 0.0, 1.0)

    def _kernel_params(self):
        has_alpha = self.alpha is not None
        return np.array([float(self.gamma), float(self.alpha) if has_alpha else 1.0, float(has_alpha)])

    def _multiclass_hessian_product(self, y, raw, sw, direction):
        return self._product_kernel("focal_hessian_product", y, raw, sw, direction)


class BrierLoss(_ClassificationLoss):
    r"""Brier score: the squared error of the predicted probabilities.

    Binary form, ``p = expit(r)``:

    .. math:: \ell(y, r) = (p - y)^2

    which is :func:`sklearn.metrics.brier_score_loss` on ``p`` (its binary
    default ``scale_by_half="auto"`` halves the two-outcome sum, giving exactly
    this).  Multi-class form, ``p = softmax(r)``:

    .. math:: \ell(y, r) = \sum_k (p_k - [y = k])^2

    which is ``brier_score_loss`` for three or more classes (its default keeps
    the full sum, range [0, 2]).  On K = 2 columns the multi-class form is this
    full sum, twice the binary form's value.  A proper scoring rule, smooth,
    bounded and non-convex in the raw score; exact Hessians (binary; multi-class
    diagonal and full K x K product).  No likelihood; probabilities through the
    logit / softmax link.

    Aliases: ``"brier_score"``, ``"brier_score_loss"``.

    Examples
    --------
    >>> from skloss.losses import BrierLoss
    >>> BrierLoss().loss([1.0, 0.0], [0.0, 0.0])
    array([0.25, 0.25])
    """

    name = "brier"
    is_probabilistic = True
    has_multiclass_form = True
    multiclass_shift_invariant = True
    may_lack_minimiser = True
    _kernel_name = "brier"
    _multiclass_kernel_name = "brier"
    _link_name = "logit"
    _multiclass_link_name = "softmax"

    def __init__(self):
        pass

    def _multiclass_hessian_product(self, y, raw, sw, direction):
        return self._product_kernel("brier_hessian_product", y, raw, sw, direction)

    def _init_scalar(self, y, sw):
        # E (p - y)^2 is minimised by p = mean(y)
        return _logit_of_mean(_wmean(y, sw))

    def _init_multiclass(self, y, sw, k):
        logf = np.log(np.maximum(_log_frequencies(y, sw, k), 1e-300))
        return logf - logf.mean()


# (class, aliases) registered by skloss.losses._catalogue
REGISTRATIONS = [
    (
        LogLoss,
        ("log", "logistic", "binary_crossentropy", "categorical_crossentropy",
         "cross_entropy", "binomial", "multinomial", "bce", "logloss"),
    ),
    (KLDivergence, ("kld", "kullback_leibler_divergence", "kl_div")),
    (ProbitLoss, ("probit_loss",)),
    (HingeLoss, ("hinge_loss", "crammer_singer")),
    (SquaredHingeLoss, ("squared_hinge_loss",)),
    (ModifiedHuberLoss, ("modified_huber_loss",)),
    (PerceptronLoss, ("perceptron_loss",)),
    (ExponentialLoss, ("exponential_loss", "adaboost")),
    (
        FocalLoss,
        ("focal_loss", "binary_focal_crossentropy", "categorical_focal_crossentropy",
         "sigmoid_focal", "sigmoid_focal_loss"),
    ),
    (BrierLoss, ("brier_score", "brier_score_loss")),
]
