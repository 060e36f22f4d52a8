"""Distributions whose negative log-likelihood a loss is.

A likelihood object gives the *full* log-density (constants included) of
``y_true`` given the raw prediction of the loss it belongs to (on that loss's
link scale) and, where the family has one, a scale / dispersion parameter, with
its maximum-likelihood estimate at a given raw prediction.  Like losses they are
small parameter objects (``StudentT(df=3)``), comparable and picklable.

Interface
---------
``name``
    Distribution name, e.g. ``"Normal"``.
``has_scale`` / ``scale_name``
    Whether a scale parameter is estimated, and what it is called
    (``"sigma"``, ``"b"``, ``"dispersion"``).
``logpdf(y_true, raw_prediction, scale=None)``
    Per-sample log-density / log-mass (``scale=None``: 1 or the only value).
``loglik(y_true, raw_prediction, scale=None, sample_weight=None)``
    Weighted sum of ``logpdf``.
``mle_scale(y_true, raw_prediction, sample_weight=None)``
    The maximum-likelihood scale at the given raw prediction (None without scale).
``sample(raw_prediction, scale=None, random_state=None)``
    One draw per raw prediction.
"""

import numpy as np
from scipy import special
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

__all__ = ["Likelihood", "Normal", "Bernoulli", "Categorical"]


class Likelihood(BaseEstimator):
    """Base class of the likelihoods."""

    name = None
    has_scale = False
    scale_name = None

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        return self.get_params(deep=False) == other.get_params(deep=False)

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.get_params(deep=False).items()))))

    def logpdf(self, y_true, raw_prediction, scale=None):
        raise NotImplementedError

    def loglik(self, y_true, raw_prediction, scale=None, sample_weight=None):
        """Weighted sum of the per-sample log-likelihood."""
        lp = self.logpdf(y_true, raw_prediction, scale)
        if sample_weight is None:
            return float(np.sum(lp))
        return float(np.dot(np.asarray(sample_weight, dtype=np.float64), lp))

    def mle_scale(self, y_true, raw_prediction, sample_weight=None):
        return None

    def sample(self, raw_prediction, scale=None, random_state=None):
        raise NotImplementedError


def _wmean(values, sample_weight):
    if sample_weight is None:
        return float(np.mean(values))
    sw = np.asarray(sample_weight, dtype=np.float64)
    return float(np.dot(sw, values) / sw.sum())


class Normal(Likelihood):
    """Normal (Gaussian) likelihood, identity link: ``y ~ N(raw, sigma^2)``.

    ``logpdf = -log(sigma) - log(2 pi) / 2 - (y - raw)^2 / (2 sigma^2)``; the MLE
    of ``sigma^2`` is the weighted mean of the squared residuals.
    """

    name = "Normal"
    has_scale = True
    scale_name = "sigma"

    def logpdf(self, y_true, raw_prediction, scale=None):
        s = 1.0 if scale is None else float(scale)
        r = np.asarray(y_true, dtype=np.float64) - np.asarray(raw_prediction, dtype=np.float64)
        return -np.log(s) - 0.5 * np.log(2 * np.pi) - 0.5 * (r / s) ** 2

    def mle_scale(self, y_true, raw_prediction, sample_weight=None):
        r = np.asarray(y_true, dtype=np.float64) - np.asarray(raw_prediction, dtype=np.float64)
        return float(np.sqrt(_wmean(r * r, sample_weight)))

    def sample(self, raw_prediction, scale=None, random_state=None):
        rng = check_random_state(random_state)
        s = 1.0 if scale is None else float(scale)
        return rng.normal(np.asarray(raw_prediction, dtype=np.float64), s)


class Bernoulli(Likelihood):
    """Bernoulli likelihood of ``y`` in {0, 1}; ``p = inverse_link(raw)``.

    ``logpdf = y log p + (1 - y) log(1 - p)``, evaluated on the raw scale with
    stable formulas (``-log1p(exp(-raw))`` for the logit link, ``log_ndtr`` for
    the probit link).
    """

    name = "Bernoulli"

    def __init__(self, link="logit"):
        self.link = link

    def logpdf(self, y_true, raw_prediction, scale=None):
        y = np.asarray(y_true, dtype=np.float64)
        r = np.asarray(raw_prediction, dtype=np.float64)
        if self.link == "logit":
            return -(np.logaddexp(0.0, r) - y * r)
        if self.link == "probit":
            return y * special.log_ndtr(r) + (1.0 - y) * special.log_ndtr(-r)
        if self.link == "half_logit":
            r2 = 2.0 * r
            return -(np.logaddexp(0.0, r2) - y * r2)
        raise ValueError(f"Bernoulli likelihood: unsupported link {self.link!r}.")

    def sample(self, raw_prediction, scale=None, random_state=None):
        rng = check_random_state(random_state)
        from ._link import get_link

        p = get_link(self.link).inverse(np.asarray(raw_prediction, dtype=np.float64))
        return (rng.uniform(size=p.shape) < p).astype(np.float64)


class Categorical(Likelihood):
    """Categorical likelihood of a class index; ``p = softmax(raw)`` row-wise.

    ``logpdf = raw[y] - logsumexp(raw)``.
    """

    name = "Categorical"

    def logpdf(self, y_true, raw_prediction, scale=None):
        raw = np.asarray(raw_prediction, dtype=np.float64)
        y = np.asarray(y_true).astype(np.intp)
        return raw[np.arange(raw.shape[0]), y] - special.logsumexp(raw, axis=1)

    def sample(self, raw_prediction, scale=None, random_state=None):
        rng = check_random_state(random_state)
        p = special.softmax(np.asarray(raw_prediction, dtype=np.float64), axis=1)
        u = rng.uniform(size=(p.shape[0], 1))
        return np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1).astype(np.float64)
