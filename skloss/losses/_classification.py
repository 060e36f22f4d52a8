"""Classification losses: a binary form on one raw score, a multi-class form on K."""

import numpy as np

from ._base import Loss
from ._likelihood import Bernoulli, Categorical

__all__ = ["LogLoss"]


def _check_smoothing(loss):
    Loss._check_real(type(loss).__name__, "label_smoothing", loss.label_smoothing, 0.0, 1.0, high_open=True)


class LogLoss(Loss):
    r"""Log loss: binary and categorical cross-entropy, the Bernoulli / categorical NLL.

    Binary form, ``y`` in {0, 1}, logit link ``p = expit(r)``:

    .. math:: \ell(y, r) = \log(1 + e^{r}) - t\,r = -t \log p - (1 - t) \log(1 - p)

    with the smoothed target ``t = y (1 - \epsilon) + \epsilon / 2``.  Multi-class
    form, ``y`` in {0, ..., K-1}, softmax link:

    .. math:: \ell(y, r) = \operatorname{logsumexp}(r) - \sum_k t_k r_k,
              \quad t_k = (1 - \epsilon) [y = k] + \epsilon / K

    With ``label_smoothing = 0`` the value equals :func:`sklearn.metrics.log_loss`
    per sample (natural logarithm) and the likelihood is
    :class:`~skloss.losses.Bernoulli` / :class:`~skloss.losses.Categorical`.

    Parameters
    ----------
    label_smoothing : float in [0, 1), default=0.0
        Keras' ``label_smoothing``: the one-hot target is mixed with the uniform
        distribution.

    Aliases: ``"log"``, ``"logistic"``, ``"binary_crossentropy"``,
    ``"categorical_crossentropy"``, ``"cross_entropy"``, ``"binomial"``,
    ``"multinomial"``.
    """

    name = "log_loss"
    task = "classification"
    is_probabilistic = True
    has_multiclass_form = True
    _kernel_module = "_binary"
    _kernel_name = "log_loss"
    _multiclass_kernel_name = "log_loss"
    _link_name = "logit"
    _multiclass_link_name = "softmax"

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def _validate_params(self):
        _check_smoothing(self)

    def _kernel_params(self):
        return np.array([float(self.label_smoothing)])

    @property
    def likelihood(self):
        if self.label_smoothing != 0:
            return None
        return _BinaryOrCategorical()

    def _multiclass_hessian_product(self, y, raw, sw, direction):
        from skloss._kernels._multiclass import softmax_hessian_product

        out = np.empty_like(raw)
        softmax_hessian_product(raw, sw, direction, out)
        return out

    def _init_scalar(self, y, sw):
        t = y * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        m = np.clip(float(np.mean(t)) if sw is None else float(np.dot(sw, t) / sw.sum()), 1e-300, 1 - 1e-16)
        return float(np.log(m) - np.log1p(-m))

    def _init_multiclass(self, y, sw, k):
        sw = np.ones_like(y) if sw is None else sw
        counts = np.bincount(y.astype(np.intp), weights=sw, minlength=k)[:k]
        eps = self.label_smoothing
        freq = (1 - eps) * counts / counts.sum() + eps / k
        logf = np.log(np.maximum(freq, 1e-300))
        return logf - logf.mean()


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


# (class, aliases) registered by skloss.losses._catalogue
REGISTRATIONS = [
    (
        LogLoss,
        ("log", "logistic", "binary_crossentropy", "categorical_crossentropy",
         "cross_entropy", "binomial", "multinomial", "bce", "logloss"),
    ),
]
