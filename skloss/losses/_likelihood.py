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

Declared capabilities (read by the estimators' inference, never a name):

``variance_power``
    ``None``, or the variance power ``p`` of a GLM family (``Var(y) = phi mu^p``:
    Normal 0, Poisson 1, Gamma 2, Tweedie ``power``): its loss is the family's
    deviance, and the GLM covariance conventions (Pearson dispersion) apply.
``joint_scale``
    Whether the location's maximum-likelihood estimate depends on the scale, so
    coefficients and scale are estimated jointly (Student-t).
``support``
    An :class:`~skloss.losses.Interval`: outside it ``logpdf`` is ``-inf``.
"""

import numpy as np
from scipy import special

from ._capabilities import Interval
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

__all__ = [
    "Likelihood",
    "Normal",
    "Bernoulli",
    "Categorical",
    "Laplace",
    "AsymmetricLaplace",
    "Poisson",
    "Gamma",
    "Tweedie",
    "StudentT",
]


class Likelihood(BaseEstimator):
    """Base class of the likelihoods."""

    name = None
    has_scale = False
    scale_name = None
    variance_power = None
    joint_scale = False
    support = Interval()

    def logpdf_or_minus_inf(self, y_true, raw_prediction, scale=None):
        """``logpdf`` with ``-inf`` wherever ``y_true`` lies outside ``support``."""
        y = np.asarray(y_true, dtype=np.float64)
        inside = self.support.mask(y)
        out = np.full(y.shape, -np.inf)
        if np.any(inside):
            r = np.broadcast_to(np.asarray(raw_prediction, dtype=np.float64), y.shape)
            with np.errstate(all="ignore"):
                out[inside] = self.logpdf(y[inside], r[inside], scale)
        return out

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        return self.get_params(deep=False) == other.get_params(deep=False)

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.get_params(deep=False).items()))))

    def logpdf(self, y_true, raw_prediction, scale=None):
        """Per-sample log-density; every concrete likelihood defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define logpdf.")

    def loglik(self, y_true, raw_prediction, scale=None, sample_weight=None):
        """Weighted sum of the per-sample log-likelihood."""
        lp = self.logpdf(y_true, raw_prediction, scale)
        if sample_weight is None:
            return float(np.sum(lp))
        return float(np.dot(np.asarray(sample_weight, dtype=np.float64), lp))

    def mle_scale(self, y_true, raw_prediction, sample_weight=None):
        return None

    def sample(self, raw_prediction, scale=None, random_state=None):
        """One draw per raw prediction; every concrete likelihood defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define sample.")


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
    variance_power = 0.0

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
    support = Interval(0.0, 1.0, True, True, integer=True)

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
    support = Interval(0.0, np.inf, True, False, integer=True)

    def logpdf(self, y_true, raw_prediction, scale=None):
        raw = np.asarray(raw_prediction, dtype=np.float64)
        y = np.asarray(y_true).astype(np.intp)
        # log-sum-exp shifted by the row maximum (plain NumPy: scipy.special.logsumexp's
        # array-API layer costs more than the arithmetic on the few rows a fit checks)
        m = raw.max(axis=1) if raw.shape[1] else np.zeros(raw.shape[0])
        shift = np.where(np.isfinite(m), m, 0.0)
        with np.errstate(divide="ignore"):
            lse = np.log(np.exp(raw - shift[:, None]).sum(axis=1)) + shift
        return raw[np.arange(raw.shape[0]), y] - lse

    def sample(self, raw_prediction, scale=None, random_state=None):
        rng = check_random_state(random_state)
        p = special.softmax(np.asarray(raw_prediction, dtype=np.float64), axis=1)
        u = rng.uniform(size=(p.shape[0], 1))
        return np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1).astype(np.float64)


# ----------------------------------------------------------------------------
# regression likelihoods
# ----------------------------------------------------------------------------


def _as_float(y_true, raw_prediction):
    return np.asarray(y_true, dtype=np.float64), np.asarray(raw_prediction, dtype=np.float64)


def _scale_value(scale, default=1.0):
    s = default if scale is None else float(scale)
    if not s > 0 or not np.isfinite(s):
        raise ValueError(f"The scale must be a positive finite number; got {scale!r}.")
    return s


def _pinball(u, q):
    # rho_q(u) = u (q - 1[u < 0]), u = y - location
    return np.where(u >= 0, q * u, (q - 1.0) * u)


class Laplace(Likelihood):
    """Laplace likelihood, identity link: the likelihood of ``absolute_error``.

    ``logpdf = -log(2 b) - |y - raw| / b`` (``scipy.stats.laplace(loc=raw,
    scale=b)``); the MLE of ``b`` is the weighted mean absolute residual.
    """

    name = "Laplace"
    has_scale = True
    scale_name = "b"

    def logpdf(self, y_true, raw_prediction, scale=None):
        y, r = _as_float(y_true, raw_prediction)
        b = _scale_value(scale)
        return -np.log(2.0 * b) - np.abs(y - r) / b

    def mle_scale(self, y_true, raw_prediction, sample_weight=None):
        y, r = _as_float(y_true, raw_prediction)
        return _wmean(np.abs(y - r), sample_weight)

    def sample(self, raw_prediction, scale=None, random_state=None):
        rng = check_random_state(random_state)
        return rng.laplace(np.asarray(raw_prediction, dtype=np.float64), _scale_value(scale))


class AsymmetricLaplace(Likelihood):
    """Asymmetric Laplace likelihood of quantile regression, identity link.

    ``logpdf = log(q (1 - q) / sigma) - rho_q(y - raw) / sigma`` with the pinball
    function ``rho_q(u) = u (q - 1[u < 0])``: the location ``raw`` is the
    ``q``-quantile of the distribution.  ``scipy.stats.laplace_asymmetric`` is
    the same family with ``kappa = sqrt(q / (1 - q))`` and ``scale = sigma /
    sqrt(q (1 - q))``.  The MLE of ``sigma`` is the weighted mean pinball loss.
    """

    name = "AsymmetricLaplace"
    has_scale = True
    scale_name = "sigma"

    def __init__(self, quantile=0.5):
        self.quantile = quantile

    def logpdf(self, y_true, raw_prediction, scale=None):
        y, r = _as_float(y_true, raw_prediction)
        s = _scale_value(scale)
        q = float(self.quantile)
        return np.log(q * (1.0 - q) / s) - _pinball(y - r, q) / s

    def mle_scale(self, y_true, raw_prediction, sample_weight=None):
        y, r = _as_float(y_true, raw_prediction)
        return _wmean(_pinball(y - r, float(self.quantile)), sample_weight)

    def sample(self, raw_prediction, scale=None, random_state=None):
        # difference of two exponentials with rates q / sigma and (1 - q) / sigma
        rng = check_random_state(random_state)
        r = np.asarray(raw_prediction, dtype=np.float64)
        s = _scale_value(scale)
        q = float(self.quantile)
        return r + s * (rng.standard_exponential(r.shape) / q - rng.standard_exponential(r.shape) / (1.0 - q))


class Poisson(Likelihood):
    """Poisson likelihood, log link: ``mu = exp(raw)``.

    ``logpdf = y raw - exp(raw) - log(y!)`` (``scipy.stats.poisson.logpmf``; the
    same formula, with ``log Gamma(y + 1)``, for non-integer ``y``).  No scale.
    """

    name = "Poisson"
    variance_power = 1.0
    support = Interval(0.0, np.inf, True, False, integer=True)

    def logpdf(self, y_true, raw_prediction, scale=None):
        y, r = _as_float(y_true, raw_prediction)
        with np.errstate(over="ignore"):
            mu = np.exp(r)
        return np.where(y > 0, y * r, 0.0) - mu - special.gammaln(y + 1.0)

    def sample(self, raw_prediction, scale=None, random_state=None):
        rng = check_random_state(random_state)
        return rng.poisson(np.exp(np.asarray(raw_prediction, dtype=np.float64))).astype(np.float64)


def _gamma_logpdf(y, r, phi):
    # shape k = 1 / phi, scale mu phi: k log k - k r + (k - 1) log y - k y / mu - log Gamma(k)
    k = 1.0 / phi
    with np.errstate(over="ignore"):
        y_over_mu = y * np.exp(-r)
    return k * np.log(k) - k * r + (k - 1.0) * np.log(y) - k * y_over_mu - special.gammaln(k)


def _gamma_mle_dispersion(y, r, sample_weight):
    # d/dk of the mean log-likelihood: log k - digamma(k) = mean(y / mu - log(y / mu) - 1)
    from scipy.optimize import brentq

    z = y * np.exp(-r)
    target = _wmean(z - np.log(z) - 1.0, sample_weight)
    if not target > 0:
        return 0.0  # a perfect fit: the dispersion estimate is 0

    def f(log_k):
        k = np.exp(log_k)
        return np.log(k) - special.digamma(k) - target

    guess = np.log(0.5 / target)
    lo, hi = guess - 1.0, guess + 1.0
    while f(lo) < 0:
        lo -= 2.0
    while f(hi) > 0:
        hi += 2.0
    return float(np.exp(-brentq(f, lo, hi, xtol=1e-14, rtol=1e-14)))


class Gamma(Likelihood):
    """Gamma likelihood, log link, with dispersion ``phi``: the likelihood of ``gamma``.

    Mean ``mu = exp(raw)``, shape ``1 / phi``, scale ``mu phi``
    (``scipy.stats.gamma(a=1/phi, scale=mu*phi)``), so ``Var(y) = phi mu^2``.
    ``mle_scale`` returns the maximum-likelihood dispersion, the root of
    ``log k - digamma(k) = mean(y/mu - log(y/mu) - 1)`` in ``k = 1 / phi``
    (scipy's ``brentq``).
    """

    name = "Gamma"
    has_scale = True
    scale_name = "dispersion"
    variance_power = 2.0
    support = Interval(0.0, np.inf, False, False)

    def logpdf(self, y_true, raw_prediction, scale=None):
        y, r = _as_float(y_true, raw_prediction)
        return _gamma_logpdf(y, r, _scale_value(scale))

    def mle_scale(self, y_true, raw_prediction, sample_weight=None):
        y, r = _as_float(y_true, raw_prediction)
        return _gamma_mle_dispersion(y, r, sample_weight)

    def sample(self, raw_prediction, scale=None, random_state=None):
        rng = check_random_state(random_state)
        phi = _scale_value(scale)
        mu = np.exp(np.asarray(raw_prediction, dtype=np.float64))
        return rng.gamma(1.0 / phi, mu * phi)


def _tweedie_log_series(y, phi, p):
    """log W(y, phi, p) of Dunn & Smyth (2005) for 1 < p < 2 and y > 0.

    ``W = sum_{j >= 1} z^j / (j! Gamma(j g))`` with ``g = (2 - p) / (p - 1)`` and
    ``z = y^g / (phi^(1 + g) (2 - p) (p - 1)^g)``: the compound Poisson-gamma sum
    with the mean cancelled.  The terms are log-concave in ``j``; the sum runs
    over a window around the largest term, widened until both ends are below
    ``exp(-40)`` times it.  Rows are summed in chunks (bounded memory); a window
    wider than 20001 terms (a dispersion so small that an observation holds
    ~1e6 Poisson events) raises ``ValueError``.
    """
    from skloss._kernels._tweedie import tweedie_cp_log_series

    return tweedie_cp_log_series(y, phi, p)


class Tweedie(Likelihood):
    """Tweedie likelihood with variance power ``power`` and dispersion ``phi``.

    ``Var(y) = phi mu^power`` with ``mu = exp(raw)`` (log link) for
    ``power >= 1`` and ``mu = raw`` (identity) for ``power = 0``.  The full
    log-density is available for:

    * ``power = 0``: normal, ``sigma^2 = phi``;
    * ``power = 1``: Poisson (``phi = 1``; no scale);
    * ``1 < power < 2``: compound Poisson-gamma, with the series of Dunn & Smyth
      (2005) for ``y > 0`` and ``P(y = 0) = exp(-mu^(2-p) / (phi (2 - p)))``;
    * ``power = 2``: gamma (see :class:`Gamma`);
    * ``power = 3``: inverse Gaussian, ``scipy.stats.invgauss(mu * phi,
      scale=1 / phi)``.

    Other powers raise ``NotImplementedError`` (their densities have no
    closed form nor implemented series).  ``mle_scale`` is closed-form for
    ``power`` 0 and 3, the gamma root for 2, and a 1-D maximisation of the
    log-likelihood in ``log phi`` (scipy's bounded Brent) for ``1 < power < 2``.

    References
    ----------
    Dunn, P. K. and Smyth, G. K. (2005). Series evaluation of Tweedie
    exponential dispersion model densities. *Statistics and Computing* 15, 267-280.
    """

    name = "Tweedie"
    scale_name = "dispersion"

    def __init__(self, power=1.5):
        self.power = power

    @property
    def has_scale(self):
        return self.power != 1

    @property
    def variance_power(self):
        return float(self.power)

    @property
    def support(self):
        p = self.power
        if p == 0:
            return Interval()
        if p == 1:
            return Interval(0.0, np.inf, True, False, integer=True)
        return Interval(0.0, np.inf, True, False) if p < 2 else Interval(0.0, np.inf, False, False)

    def _kind(self):
        p = self.power
        if p in (0, 1, 2, 3):
            return int(p)
        if 1 < p < 2:
            return "cp"
        raise NotImplementedError(
            f"The Tweedie likelihood is implemented for power 0, 1, 2, 3 and 1 < power < 2; "
            f"got power={p!r}."
        )

    def logpdf(self, y_true, raw_prediction, scale=None):
        y, r = _as_float(y_true, raw_prediction)
        kind = self._kind()
        if kind == 0:
            return Normal().logpdf(y, r, np.sqrt(_scale_value(scale)))
        if kind == 1:
            return Poisson().logpdf(y, r)
        phi = _scale_value(scale)
        if kind == 2:
            return _gamma_logpdf(y, r, phi)
        if kind == 3:
            with np.errstate(over="ignore"):
                mu = np.exp(r)
            return -0.5 * np.log(2.0 * np.pi * phi * y**3) - (y - mu) ** 2 / (2.0 * phi * mu**2 * y)
        p = float(self.power)
        with np.errstate(over="ignore"):
            mu_1p = np.exp((1.0 - p) * r)
            mu_2p = np.exp((2.0 - p) * r)
        out = -mu_2p / (phi * (2.0 - p))
        pos = y > 0  # y = 0 contributes P(y = 0) = exp(-mu^(2-p) / (phi (2 - p))) alone
        if np.any(pos):
            yp = y[pos]
            out[pos] += yp * mu_1p[pos] / (phi * (1.0 - p)) + _tweedie_log_series(yp, phi, p) - np.log(yp)
        return out

    def mle_scale(self, y_true, raw_prediction, sample_weight=None):
        y, r = _as_float(y_true, raw_prediction)
        kind = self._kind()
        if kind == 0:
            return _wmean((y - r) ** 2, sample_weight)
        if kind == 1:
            return None
        if kind == 2:
            return _gamma_mle_dispersion(y, r, sample_weight)
        if kind == 3:
            mu = np.exp(r)
            return _wmean((y - mu) ** 2 / (mu**2 * y), sample_weight)
        return self._cp_mle(y, r, sample_weight)[0]

    def mle_scale_loglik(self, y_true, raw_prediction, sample_weight=None):
        """``(mle_scale, loglik at it)``: the compound Poisson-gamma maximisation
        ends with the log-likelihood at its maximiser, so no second series pass is
        needed; other powers give ``(mle_scale, None)``."""
        if self._kind() != "cp":
            return self.mle_scale(y_true, raw_prediction, sample_weight), None
        y, r = _as_float(y_true, raw_prediction)
        return self._cp_mle(y, r, sample_weight)

    def _cp_mle(self, y, r, sample_weight):
        # Newton in log(phi) with the series' exact derivatives (skloss._kernels._tweedie),
        # from the Pearson estimate; the log-likelihood is smooth in log(phi)
        from skloss._kernels._tweedie import tweedie_cp_mle

        mu = np.exp(r)
        pearson = max(_wmean((y - mu) ** 2 / mu ** float(self.power), sample_weight), 1e-12)
        center = np.log(pearson)
        log_phi, loglik = tweedie_cp_mle(y, r, sample_weight, float(self.power), center, center - 8.0,
                                         center + 8.0)
        return float(np.exp(log_phi)), float(loglik)

    def sample(self, raw_prediction, scale=None, random_state=None):
        rng = check_random_state(random_state)
        r = np.asarray(raw_prediction, dtype=np.float64)
        kind = self._kind()
        if kind == 0:
            return rng.normal(r, np.sqrt(_scale_value(scale)))
        if kind == 1:
            return Poisson().sample(r, random_state=rng)
        phi = _scale_value(scale)
        mu = np.exp(r)
        if kind == 2:
            return rng.gamma(1.0 / phi, mu * phi)
        if kind == 3:
            return rng.wald(mu, 1.0 / phi)
        # compound Poisson-gamma: N ~ Poisson(lambda), y = sum of N Gamma(g, tau)
        p = float(self.power)
        lam = mu ** (2.0 - p) / (phi * (2.0 - p))
        g = (2.0 - p) / (p - 1.0)
        tau = phi * (p - 1.0) * mu ** (p - 1.0)
        n = rng.poisson(lam)
        out = np.zeros_like(mu)
        pos = n > 0
        out[pos] = rng.gamma(n[pos] * g, tau[pos])
        return out


class StudentT(Likelihood):
    """Student-t likelihood with ``df`` degrees of freedom, identity link.

    Location ``raw``, scale ``sigma``:
    ``logpdf = log Gamma((df + 1) / 2) - log Gamma(df / 2) - log(df pi) / 2 -
    log(sigma) - (df + 1) / 2 log(1 + ((y - raw) / sigma)^2 / df)``
    (``scipy.stats.t(df, loc=raw, scale=sigma)``).  ``mle_scale`` solves the
    likelihood equation ``sum_i w_i (df + 1) u_i / (df sigma^2 + u_i) =
    sum_i w_i`` in ``sigma`` (``u_i`` the squared residuals; the left side
    decreases in ``sigma``, so the root is unique) with scipy's ``brentq``.
    """

    name = "StudentT"
    has_scale = True
    scale_name = "sigma"
    joint_scale = True

    def __init__(self, df=3.0):
        self.df = df

    def logpdf(self, y_true, raw_prediction, scale=None):
        y, r = _as_float(y_true, raw_prediction)
        s = _scale_value(scale)
        nu = float(self.df)
        z = (y - r) / s
        return (
            special.gammaln(0.5 * (nu + 1.0))
            - special.gammaln(0.5 * nu)
            - 0.5 * np.log(nu * np.pi)
            - np.log(s)
            - 0.5 * (nu + 1.0) * np.log1p(z * z / nu)
        )

    def mle_scale(self, y_true, raw_prediction, sample_weight=None):
        from scipy.optimize import brentq

        y, r = _as_float(y_true, raw_prediction)
        u = (y - r) ** 2
        w = np.ones_like(u) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        nu = float(self.df)
        total = w.sum()
        if (nu + 1.0) * w[u > 0].sum() <= total:
            return 0.0  # too many exact fits: the likelihood grows without bound as sigma -> 0

        def h(log_s2):
            s2 = np.exp(log_s2)
            return float(np.dot(w, (nu + 1.0) * u / (nu * s2 + u)) / total - 1.0)

        hi = np.log(2.0 * (nu + 1.0) * np.dot(w, u) / (nu * total))
        lo = hi - 5.0
        while h(lo) <= 0:
            lo -= 5.0
        return float(np.sqrt(np.exp(brentq(h, lo, hi, xtol=1e-14, rtol=1e-14))))

    def sample(self, raw_prediction, scale=None, random_state=None):
        rng = check_random_state(random_state)
        r = np.asarray(raw_prediction, dtype=np.float64)
        return r + _scale_value(scale) * rng.standard_t(float(self.df), size=r.shape)
