"""Regression losses."""

import numpy as np

from ._base import Loss
from ._likelihood import Normal

__all__ = ["SquaredError"]


def _weighted_mean(y, sw):
    if sw is None:
        return float(np.mean(y))
    return float(np.dot(sw, y) / np.sum(sw))


class SquaredError(Loss):
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
    task = "regression"
    _kernel_name = "squared_error"

    def __init__(self):
        pass

    @property
    def likelihood(self):
        return Normal()

    def _init_scalar(self, y, sw):
        return _weighted_mean(y, sw)


# (class, aliases) registered by skloss.losses._catalogue
REGISTRATIONS = [
    (SquaredError, ("mse", "mean_squared_error", "squared_loss", "l2")),
]
