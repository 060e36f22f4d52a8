"""Covariance conventions of :class:`~skloss.MLELinearRegression`.

Which covariance a regression fit reports depends on what its loss *declares*
(never on its name): a likelihood with a ``variance_power`` (GLM families), a
piecewise-linear form (``piecewise_linear``: one kink through the origin is the
quantile convention, other kinks the kink-density sandwich), a likelihood whose
scale is estimated jointly (``joint_scale``: Student-t), or a Hessian (the
M-estimator sandwich).  The
conventions (all with sample weights as *frequency* weights: ``n = sum_i s_i``,
a weight of 2 is a repeated row; ``k`` = number of coefficients, intercept
included; ``X`` below includes the column of ones):

GLM families (``squared_error``, ``poisson``, ``gamma``, ``tweedie``: a likelihood with a ``variance_power``)
    R ``glm`` / statsmodels ``GLM`` (IRLS) conventions.  With ``mu`` the mean,
    ``V(mu) = mu^power`` the variance function (0 normal, 1 Poisson, 2 gamma)
    and ``W = diag(s_i (dmu/deta)^2 / V(mu_i))`` the expected information:

    * ``"nonrobust"``: ``phi (X^T W X)^{-1}`` with the Pearson dispersion
      ``phi = sum_i s_i (y_i - mu_i)^2 / V(mu_i) / (n - k)`` (1 for Poisson).
      For squared error this is the textbook OLS covariance
      ``sigma^2 (X^T X)^{-1}``, ``sigma^2 = SSR / (n - k)``.
    * ``"HC0"``: ``(X^T W X)^{-1} (sum_i s_i u_i^2 x_i x_i^T) (X^T W X)^{-1}`` with
      the score residuals ``u_i = (y_i - mu_i) (dmu/deta) / V(mu_i)``;
      ``"HC1"`` multiplies by ``n / (n - k)``.

Quantile and absolute error (two pieces meeting at ``u = 0``: ``max(a u, b u)``, ``tau = -a / (b - a)``)
    statsmodels ``QuantReg`` (Koenker 2005, sec. 3.4): the sparsity
    ``1 / f(0)`` from an Epanechnikov kernel estimate at the Hall-Sheather
    bandwidth ``h = (Phi^-1(tau + h_n) - Phi^-1(tau - h_n)) min(sd(e),
    IQR(e) / 1.34)``, ``f0 = sum_i s_i K(e_i / h) / (n h)``.

    * ``"nonrobust"`` (QuantReg's ``vcov="iid"``): ``tau (1 - tau) / f0^2
      (X^T X)^{-1}``;
    * ``"HC0"`` (QuantReg's default ``vcov="robust"``): ``(X^T X)^{-1} X^T D X
      (X^T X)^{-1}`` with ``d_i = (tau / f0)^2`` for a positive residual and
      ``((1 - tau) / f0)^2`` otherwise; ``"HC1"`` times ``n / (n - k)``.

    ``sd(e)`` is the standard deviation of the residuals (as R's
    ``quantreg``; statsmodels uses that of ``y``, which changes ``h`` only when
    it is the smaller of the two).

Student-t (``joint_scale``: joint maximum likelihood of coefficients and scale)
    ``"nonrobust"``: the coefficient block of the inverse observed information
    of ``(w, b, sigma)``; ``"HC0"``/``"HC1"``: the sandwich on the same joint
    parameters.

Other M-estimators (``huber``, ``pseudo_huber``, ``log_cosh``,
``squared_epsilon_insensitive``, ``squared_log_error``, ``epsilon_insensitive``,
custom losses)
    With ``psi_i`` the derivative of the loss in the raw prediction and
    ``psi'_i`` its second derivative, ``A = X^T diag(s psi') X`` and
    ``B = X^T diag(s psi^2) X``:

    * ``"HC0"``: ``A^{-1} B A^{-1}`` (the sandwich); ``"HC1"`` times ``n / (n - k)``;
    * ``"nonrobust"``: Huber's (1981) homoscedastic form ``phi A^{-1}`` with
      ``phi = [sum_i s_i psi_i^2 / (n - k)] / [sum_i s_i psi'_i / n]``.

    For other piecewise-linear losses (``epsilon_insensitive``, custom losses
    with declared pieces; no second derivative) ``psi`` is the slope of the
    active piece and ``psi'`` is replaced by the jumps of slope times a kernel
    estimate of the residual density at the kinks (Powell's method; for
    ``epsilon_insensitive`` the two kinks ``+-epsilon``).

Reference distribution: Student's t with ``n - k`` degrees of freedom for a
``"nonrobust"`` covariance with an estimated dispersion (normal, gamma and
Tweedie families: R's ``summary.glm`` and ``summary.lm``, statsmodels' OLS) and
for the quantile losses (statsmodels' QuantReg); the normal distribution
otherwise.
"""

import warnings

import numpy as np
import scipy.linalg as la
from scipy import stats
from sklearn.utils.validation import check_is_fitted

from ..utils._quantile import weighted_quantile
from ._exact import _Design
from ._inference import label_intervals, rename_columns, summary_table, warn_penalised_inference
from ._lstsq import _rcond, weighted_gram

__all__ = ["RegressionInferenceMixin", "variance_power", "hall_sheather", "regression_covariance"]


def _likelihood(loss):
    try:
        return loss.likelihood
    except Exception:  # a custom likelihood property may raise
        return None


def variance_power(loss):
    """The GLM variance power its likelihood declares, or None (not a GLM deviance)."""
    lik = _likelihood(loss)
    power = None if lik is None else getattr(lik, "variance_power", None)
    return None if power is None else float(power)


glm_power = variance_power  # (the former name, still imported by skloss._dask)


def _pinball_tau(loss):
    """``tau`` of a loss with two pieces meeting at the origin (a scaled pinball
    loss), or None."""
    pieces = loss._normalised_pieces()
    if pieces is None or len(pieces) != 2:
        return None
    (a, c1), (b, c2) = pieces
    if c1 != 0.0 or c2 != 0.0 or not a < 0.0 < b:
        return None
    return -a / (b - a)


def _dmu_deta(loss, raw):
    link = str(loss.link)
    if link == "identity":
        return np.ones_like(raw)
    if link == "log":
        return np.exp(raw)
    if link == "log1p":
        return np.exp(raw)
    step = 1e-6 * np.maximum(1.0, np.abs(raw))
    return (loss.inverse_link(raw + step) - loss.inverse_link(raw - step)) / (2 * step)


def _power(x, a):
    """``x ** a`` for ``x > 0``: by products (and one square root) when ``2 a`` is a
    small integer, else ``np.power`` (an order of magnitude slower per entry)."""
    two_a = 2.0 * a
    if two_a != round(two_a) or abs(a) > 4:
        return np.power(x, a)
    m = int(abs(a))
    out = np.sqrt(x) if two_a % 2 else None
    if m:
        base = x
        for _ in range(m - 1):
            base = base * x
        out = base if out is None else out * base
    if out is None:
        return np.ones_like(x)
    return 1.0 / out if a < 0 else out


def _inv(A):
    """Inverse of a symmetric matrix, equilibrated first; pseudo-inverse (with a
    warning) when singular."""
    d = np.sqrt(np.abs(np.diag(A)))
    d[d == 0] = 1.0
    As = A / d[:, None] / d[None, :]
    try:
        inv = np.linalg.inv(As)
        if np.all(np.isfinite(inv)) and np.linalg.cond(As) < 1e14:
            return inv / d[:, None] / d[None, :]
    except np.linalg.LinAlgError:
        pass
    _warn_singular()
    return np.linalg.pinv(As, hermitian=True) / d[:, None] / d[None, :]


def _warn_singular():
    warnings.warn(
        "The information matrix is singular or nearly so (collinear features or a "
        "constant column with fit_intercept=True); the covariance uses its "
        "pseudo-inverse and some standard errors are not meaningful.",
        UserWarning,
        stacklevel=6,
    )


def _inv_gram(d, weights):
    """``(Xa^T diag(weights) Xa)^{-1}`` for non-negative weights.

    Cholesky of the equilibrated Gram matrix when it is well conditioned; else,
    for dense ``X``, through a QR factorisation of ``sqrt(weights) Xa``, whose
    accuracy depends on the condition of ``Xa`` rather than of its square (the
    NIST Longley problem needs this).
    """
    G = d.gram(weights)
    m = G.shape[0]
    D = np.sqrt(np.abs(np.diag(G)))
    D[D == 0] = 1.0
    Gs = G / D[:, None] / D[None, :]
    try:
        c = la.cho_factor(Gs, check_finite=False)
        diag = np.abs(np.diag(c[0]))
        # (errors grow like eps * cond(G): beyond 1e6 the QR route keeps 10 digits)
        if diag.min() > 0 and _rcond(c, Gs) > 1e-6:
            return la.cho_solve(c, np.eye(m), check_finite=False) / D[:, None] / D[None, :]
    except la.LinAlgError:
        pass
    if d.sparse or np.any(weights < 0):
        return _inv(G)
    A = np.asarray(d.X, dtype=np.float64) * np.sqrt(weights)[:, None]
    if d.fi:
        A = np.hstack([A, np.sqrt(weights)[:, None]])
    A = A / D[None, :]
    R = la.qr(A, mode="r", check_finite=False)[0][:m]
    rd = np.abs(np.diag(R))
    if rd.min() <= 1e-13 * rd.max():
        return _inv(G)
    Rinv = la.solve_triangular(R, np.eye(m), check_finite=False)
    return (Rinv @ Rinv.T) / D[:, None] / D[None, :]


def hall_sheather(n, q, alpha=0.05):
    """Hall & Sheather (1988) bandwidth on the probability scale."""
    z = stats.norm.ppf(q)
    num = 1.5 * stats.norm.pdf(z) ** 2
    den = 2.0 * z**2 + 1.0
    return n ** (-1.0 / 3) * stats.norm.ppf(1.0 - alpha / 2.0) ** (2.0 / 3) * (num / den) ** (1.0 / 3)


def _epanechnikov(u):
    return np.where(np.abs(u) <= 1.0, 0.75 * (1.0 - u * u), 0.0)


def _kernel_bandwidth(e, s, tau):
    n = float(s.sum())
    hb = hall_sheather(n, tau)
    hb = min(hb, 0.999 * min(tau, 1.0 - tau))  # keep tau +- h inside (0, 1)
    mean = float(s @ e) / n
    sd = np.sqrt(float(s @ (e - mean) ** 2) / max(n - 1.0, 1.0))
    iqr = weighted_quantile(e, s, 0.75, method="linear") - weighted_quantile(e, s, 0.25, method="linear")
    spread = min(sd, iqr / 1.34) if iqr > 0 else sd
    h = spread * (stats.norm.ppf(tau + hb) - stats.norm.ppf(tau - hb))
    if not h > 0:
        h = max(sd, 1e-12)
    return h


def _hc1(cov, n, k, cov_type):
    if cov_type == "HC1":
        if n <= k:
            raise ValueError(f"HC1 needs more observations ({n:g}) than coefficients ({k}).")
        cov = cov * (n / (n - k))
    return cov


def _known_inverse(gram_inverse, W):
    """``(Xa^T diag(W) Xa)^{-1}`` from a known ``gram_inverse = (weights, inverse)``
    (``weights`` None for ones) when ``W`` is exactly a positive multiple ``c`` of
    those weights (``inverse / c``), else None."""
    if gram_inverse is None or W.size == 0:
        return None
    if gram_inverse[0] is None:  # (unit weights: W constant; one pass)
        c = float(W[0])
        ok = c > 0 and np.isfinite(c) and not np.any(W != c)
        return gram_inverse[1] / c if ok else None
    w0 = np.asarray(gram_inverse[0], dtype=np.float64)
    if w0.shape != W.shape:
        return None
    k = int(np.argmax(w0))
    c = float(W[k] / w0[k]) if w0[k] > 0 else 0.0
    if not (c > 0 and np.isfinite(c) and np.array_equal(W, c * w0)):
        return None
    return gram_inverse[1] / c


def regression_covariance(kind, cov_type, X, y, raw, sample_weight, *, loss, fit_intercept,
                          scale=None, gram_inverse=None, derivs=None):
    """Covariance of the packed coefficients ``[w, b]`` of a regression fit.

    Parameters
    ----------
    kind : {"glm", "quantile", "joint-scale", "kink", "m"}
        Which convention applies (module docstring).
    cov_type : {"nonrobust", "HC0", "HC1"}
    X, y, raw, sample_weight : the data, the fitted raw prediction (offset
        included) and the weights (None: unit).
    loss : Loss
    fit_intercept : bool
    scale : float or None
        The Student-t scale (kind ``"joint-scale"``).
    gram_inverse : (weights, inverse) or None
        ``inverse = (Xa^T diag(weights) Xa)^{-1}`` already known (the closed-form
        least squares; ``weights`` None for ones): used where the GLM weights equal
        ``weights``, instead of forming the Gram matrix again.
    derivs : (gradient, hessian) or None
        The loss's per-sample gradient and curvature at ``raw`` (kind ``"m"``),
        when the caller already has them.

    Returns
    -------
    cov : ndarray of shape (k, k)
        Packed order ``[w, b]``.
    info : dict
        ``dispersion`` (where one is used), ``df_resid``, ``use_t``.
    """
    d = _Design(X, fit_intercept)
    s = np.ones(d.n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    raw = np.asarray(raw, dtype=np.float64)
    n = float(s.sum())
    k = d.m
    df_resid = n - k
    info = {"df_resid": df_resid, "use_t": False, "dispersion": None}
    if kind == "glm":
        power = variance_power(loss)
        mu = np.asarray(loss.inverse_link(raw), dtype=np.float64)
        link = str(loss.link)
        # (PERF) dmu/deta and 1 / V(mu) without redundant passes: the identity link's
        # derivative is 1, the log link's is mu itself; mu^-power by products and a
        # square root for (half-)integer powers (np.power: ~4 ms at 200,000 rows)
        dmu = None if link == "identity" else (mu if link == "log" else _dmu_deta(loss, raw))
        inv_V = None if power == 0 else _power(mu, -power)
        W = s if dmu is None else s * (dmu * dmu)
        if inv_V is not None:
            W = W * inv_V
        known = _known_inverse(gram_inverse, W)
        bread = _inv_gram(d, W) if known is None else known
        e = y - mu
        if cov_type == "nonrobust":
            if power == 1:
                phi = 1.0
            else:
                if df_resid <= 0:
                    raise ValueError(
                        f"The dispersion needs more observations ({n:g}) than coefficients ({k}); "
                        "use cov_type=None."
                    )
                pearson = e * e if inv_V is None else e * e * inv_V
                phi = float(s @ pearson) / df_resid
                info["use_t"] = True
            info["dispersion"] = phi
            cov = phi * bread
        else:
            u = e if dmu is None else e * dmu
            if inv_V is not None:
                u = u * inv_V
            cov = _hc1(bread @ d.gram(s * u * u) @ bread, n, k, cov_type)
    elif kind == "quantile":
        tau = float(_pinball_tau(loss))
        e = y - raw
        h = _kernel_bandwidth(e, s, tau)
        f0 = float(s @ _epanechnikov(e / h)) / (n * h)
        if not f0 > 0:
            raise ValueError("The residual density at 0 is estimated as 0; no quantile covariance.")
        xtx_inv = _inv_gram(d, s)
        if cov_type == "nonrobust":
            cov = tau * (1.0 - tau) / f0**2 * xtx_inv
        else:
            dd = np.where(e > 0, (tau / f0) ** 2, ((1.0 - tau) / f0) ** 2)
            cov = _hc1(xtx_inv @ d.gram(s * dd) @ xtx_inv, n, k, cov_type)
        info["use_t"] = True
        info["sparsity"] = 1.0 / f0
        info["bandwidth"] = h
    elif kind == "joint-scale":
        cov = _student_t_cov(d, y, raw, s, float(loss.likelihood.df), float(scale), cov_type, n)
    else:
        if kind == "kink":
            pieces = loss._normalised_pieces()
            slopes = np.array([a for a, _ in pieces])
            u = raw - y
            h = _kernel_bandwidth(-u, s, 0.5)
            # the slope of the active piece (the one of smaller magnitude on a kink)
            vals = np.outer(u, slopes) + np.array([c for _, c in pieces])
            top = vals.max(axis=1, keepdims=True)
            ties = vals >= top - 1e-12 * np.maximum(1.0, np.abs(top))
            psi = slopes[np.argmin(np.where(ties, np.abs(slopes), np.inf), axis=1)]
            dpsi = np.zeros_like(u)
            for kink, jump in zip(loss.kinks, np.diff(slopes)):
                dpsi += jump * _epanechnikov((u - kink) / h) / h
        else:
            psi, dpsi = loss.gradient_hessian(y, raw) if derivs is None else derivs
            psi = np.asarray(psi, dtype=np.float64)
            dpsi = np.asarray(dpsi, dtype=np.float64)
        # (a loss with a constant Hessian: the bread is the fit's own Gram inverse, PERF)
        A_inv = _known_inverse(gram_inverse, s * dpsi)
        if A_inv is None:
            A = weighted_gram(X, s * dpsi, fit_intercept)
            A_inv = _inv(d.gram(s * dpsi) if A is None else A)
        if cov_type == "nonrobust":
            if df_resid <= 0:
                raise ValueError(f"cov_type='nonrobust' needs more observations ({n:g}) than coefficients ({k}).")
            phi = (float(s @ (psi * psi)) / df_resid) / (float(s @ dpsi) / n)
            info["dispersion"] = phi
            cov = phi * A_inv
        else:
            meat = weighted_gram(X, s * psi * psi, fit_intercept)
            meat = d.gram(s * psi * psi) if meat is None else meat
            cov = _hc1(A_inv @ meat @ A_inv, n, k, cov_type)
    return 0.5 * (cov + cov.T), info


def _student_t_cov(d, y, raw, s, nu, sigma, cov_type, n):
    """Coefficient block of the joint (w, b, sigma) covariance of a Student-t fit."""
    r = y - raw
    a = nu * sigma**2 + r * r
    g_raw = -(nu + 1) * r / a
    g_sig = 1.0 / sigma - (nu + 1) * r * r / (sigma * a)
    h_rr = (nu + 1) * (nu * sigma**2 - r * r) / (a * a)
    h_rs = (nu + 1) * r * 2.0 * nu * sigma / (a * a)
    h_ss = -1.0 / sigma**2 + (nu + 1) * r * r * (a + 2.0 * nu * sigma**2) / (sigma**2 * a * a)
    m = d.m
    H = np.empty((m + 1, m + 1))
    H[:m, :m] = d.gram(s * h_rr)
    H[:m, m] = H[m, :m] = d.rmatvec(s * h_rs)
    H[m, m] = float(s @ h_ss)
    Hinv = _inv(H)
    if cov_type == "nonrobust":
        cov = Hinv
    else:
        B = np.empty((m + 1, m + 1))
        B[:m, :m] = d.gram(s * g_raw * g_raw)
        B[:m, m] = B[m, :m] = d.rmatvec(s * g_raw * g_sig)
        B[m, m] = float(s @ (g_sig * g_sig))
        cov = _hc1(Hinv @ B @ Hinv, n, m + 1, cov_type)
    return cov[:m, :m]


class RegressionInferenceMixin:
    """The likelihood and covariance attributes of MLELinearRegression, and its
    ``conf_int`` / ``summary`` (Student's t where ``use_t_``)."""

    # ------------------------------------------------------- likelihood
    def _likelihood_attrs(self, loss, y, raw, sw, scale, p, loglik=None):
        """``loglik_``, ``aic_``, ``bic_`` at ``raw`` and ``scale``; ``loglik`` when the
        scale's maximisation already gave the log-likelihood there."""
        out = {"loglik_": None, "aic_": None, "bic_": None}
        try:
            lik = loss.likelihood
        except Exception:
            lik = None
        if lik is None:
            return out
        has_scale = bool(getattr(lik, "has_scale", False))
        n_obs = float(len(y) if sw is None else np.sum(sw))
        k = p + int(self.fit_intercept) + int(has_scale)
        if has_scale and scale is None:
            return out
        if has_scale and scale == 0.0:
            loglik = np.inf  # an exact fit: the likelihood is unbounded as the scale -> 0
        elif loglik is not None and np.isfinite(loglik):
            loglik = float(loglik)
        else:
            try:
                with np.errstate(all="ignore"):
                    loglik = float(lik.loglik(y, raw, scale if has_scale else None, sw))
            except (NotImplementedError, ValueError):
                return out
        out.update(self._loglik_attrs(loglik, k, n_obs))
        return out

    # ------------------------------------------------------- inference
    def _cov_kind(self, loss):
        """The covariance convention, from the loss's declared capabilities."""
        if variance_power(loss) is not None:
            return "glm"
        if _pinball_tau(loss) is not None:
            return "quantile"
        if getattr(_likelihood(loss), "joint_scale", False):
            return "joint-scale"
        if loss.piecewise_linear is not None:
            return "kink"
        return "m" if loss.has_hessian else None

    def _covariance_attrs(self, loss, X, y, raw, sw, scale, penalised, gram_inverse=None, derivs=None):
        ct = self.cov_type
        k = X.shape[1] + int(self.fit_intercept)
        names = getattr(self, "feature_names_in_", None)
        names = [f"x{j}" for j in range(X.shape[1])] if names is None else [str(s) for s in names]
        coef_names = (["intercept"] if self.fit_intercept else []) + names
        n_obs = float(len(y) if sw is None else np.sum(sw))
        out = {"cov_type_": None, "covariance_": None, "bse_": None, "dispersion_": None,
               "df_resid_": n_obs - k, "use_t_": False, "param_names_": coef_names,
               "_penalised": bool(penalised)}
        if ct is None:
            return out
        kind = self._cov_kind(loss)
        auto = ct == "auto"
        if kind is None:
            if auto:
                return out
            raise ValueError(
                f"cov_type={ct!r}: loss {loss.name!r} has no Hessian and no known covariance "
                "convention; use cov_type=None."
            )
        if auto:
            ct = {"glm": "nonrobust", "joint-scale": "nonrobust"}.get(kind, "HC0")
            if n_obs <= k or (kind == "joint-scale" and scale is not None and scale <= 0):
                return out
        if penalised and not auto:
            warn_penalised_inference(stacklevel=4)
        try:
            with np.errstate(all="ignore"):
                cov, info = regression_covariance(kind, ct, X, y, raw, sw, loss=loss,
                                                  fit_intercept=self.fit_intercept, scale=scale,
                                                  gram_inverse=gram_inverse, derivs=derivs)
        except (ValueError, np.linalg.LinAlgError):
            if auto:
                return out
            raise
        if self.fit_intercept:  # packed [w, b] -> display [b, w]
            packed, cov = cov, np.empty_like(cov)
            cov[0, 0] = packed[k - 1, k - 1]
            cov[0, 1:] = packed[k - 1, : k - 1]
            cov[1:, 0] = packed[: k - 1, k - 1]
            cov[1:, 1:] = packed[: k - 1, : k - 1]
        var = cov.diagonal()
        with np.errstate(invalid="ignore"):
            bse = np.sqrt(np.where(var >= 0, var, np.nan))
        out.update(cov_type_=ct, covariance_=cov, bse_=bse, dispersion_=info.get("dispersion"),
                   use_t_=bool(info.get("use_t")))
        return out

    @property
    def params_(self):
        check_is_fitted(self)
        coef = np.asarray(self.coef_, dtype=np.float64)
        return np.r_[self.intercept_, coef] if self.fit_intercept else coef

    def _reference(self):
        if self.use_t_ and self.df_resid_ > 0:
            return stats.t(self.df_resid_)
        return stats.norm()

    def _check_penalised_inference(self):
        if getattr(self, "_penalised", False) and self.cov_type == "auto":
            warn_penalised_inference(stacklevel=3)

    def conf_int(self, alpha=0.05):
        """Wald confidence intervals of ``params_`` (Student's t with
        ``df_resid_`` degrees of freedom when ``use_t_``, else normal).

        Returns
        -------
        ndarray of shape (n_params, 2)
        """
        self._check_inference()
        self._check_penalised_inference()
        if not (0.0 < float(alpha) < 1.0):
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        q = self._reference().ppf(1.0 - alpha / 2.0)
        return label_intervals(
            self, np.column_stack([self.params_ - q * self.bse_, self.params_ + q * self.bse_]), alpha)

    def _summary_info(self):
        info = {
            "model": "MLELinearRegression",
            "loss": repr(self.loss_),
            "solver": self.solver_,
            "n_obs": self.df_resid_ + len(self.params_),
            "df_resid": self.df_resid_,
            "cov_type": self.cov_type_,
        }
        if self.scale_ is not None:
            info["scale"] = self.scale_
        if self.dispersion_ is not None:
            info["dispersion"] = self.dispersion_
        if self.loglik_ is not None:
            info.update(loglik=self.loglik_, aic=self.aic_, bic=self.bic_)
        info["converged"] = self.converged_
        return info

    def summary(self, alpha=0.05):
        """The coefficient table: coef, std err, z (or t), p-value and the
        ``1 - alpha`` confidence interval, labelled with the feature names.

        A pandas DataFrame (model information in ``df.attrs["info"]``), or a
        text table without pandas.  Columns read ``t`` and ``P>|t|`` when
        ``use_t_`` (see the class Notes).
        """
        self._check_inference()
        self._check_penalised_inference()
        table = summary_table(self.param_names_, self.params_, self.covariance_, alpha,
                              info=self._summary_info())
        if not self.use_t_ or not hasattr(table, "columns"):
            return table
        ref = self._reference()
        t = self.params_ / self.bse_
        ci = np.asarray(self.conf_int(alpha))
        cols = list(table.columns)
        table[cols[2]] = t
        table[cols[3]] = 2.0 * ref.sf(np.abs(t))
        table[cols[4]] = ci[:, 0]
        table[cols[5]] = ci[:, 1]
        return rename_columns(table, {cols[2]: "t", cols[3]: "P>|t|"})

