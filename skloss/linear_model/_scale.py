"""Noise scale by maximum likelihood, and the joint Student-t fit.

Most regression losses are the negative log-likelihood of a location family up to
a scale that does not move the optimum of the coefficients (Normal sigma, Laplace
b, the asymmetric-Laplace b of the quantile loss, the Gamma and Tweedie
dispersion).  For them the coefficients are fitted first and the scale is then
the maximum-likelihood estimate at the fitted predictions (:func:`mle_scale`,
which asks the loss's ``likelihood``).  That two-step procedure *is* the joint
maximum-likelihood estimate, because the coefficients' optimum does not depend
on the scale.

The Student-t loss is different: its shape in the residual changes with the
scale (a residual is an outlier or not *relative to* sigma), so coefficients and
scale must be estimated together.  :func:`student_t_fit` maximises the joint
log-likelihood of ``y_i ~ sigma * t_nu + x_i . w + b`` (``nu = df`` fixed), i.e.
minimises

.. math::

    J(w, b, \\sigma) = \\frac{1}{\\sum_i s_i} \\sum_i s_i \\Big[\\log\\sigma
        + \\frac{\\nu + 1}{2} \\log\\Big(1 + \\frac{r_i^2}{\\nu \\sigma^2}\\Big)\\Big]
        + \\frac{\\lambda_2}{2} \\|w\\|_2^2

(plus the constant of the density), with ``r_i = y_i - x_i . w - b``.  The
problem is not convex, so the start matters: a least-absolute-deviations fit
(exact, :mod:`._exact`) gives robust coefficients and ``sigma_0 =
median|r| / t_nu^{-1}(0.75)`` (exact for t-distributed errors).  From there the
expectation-maximisation algorithm of Lange, Little & Taylor (1989) (weights
``u_i = (nu + 1) / (nu + r_i^2 / sigma^2)``, a weighted least-squares step, a
scale step) climbs monotonically to a local maximum, and L-BFGS on
``(w, b, log sigma)`` polishes it to the gradient tolerance.

References
----------
Lange, K. L., Little, R. J. A. and Taylor, J. M. G. (1989). Robust statistical
modeling using the t distribution. JASA 84(408), 881-896.
"""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy import optimize, special, stats

from ..utils._quantile import weighted_quantile
from ._exact import _Design

__all__ = ["mle_scale", "mle_scale_loglik", "student_t_fit", "student_t_logpdf"]


def mle_scale(loss, y, raw, sample_weight=None):
    """The maximum-likelihood scale of ``loss``'s likelihood at ``raw``.

    Returns None when the loss has no likelihood, its likelihood has no scale
    (Poisson), or the likelihood cannot be evaluated (a Tweedie power without
    an implemented density, or a dispersion too small for its series).
    """
    try:
        lik = loss.likelihood
    except Exception:
        return None
    if lik is None or not getattr(lik, "has_scale", False):
        return None
    try:
        with np.errstate(all="ignore"):
            value = lik.mle_scale(y, raw, sample_weight)
    except (NotImplementedError, ValueError):
        return None  # e.g. a Tweedie power without a density, or a degenerate fit
    return None if value is None or not np.isfinite(value) else float(value)


def mle_scale_loglik(loss, y, raw, sample_weight=None):
    """``(scale, loglik)``: :func:`mle_scale` and, when the likelihood computes it
    in the same pass, the log-likelihood at that scale; else ``(mle_scale(...), None)``
    (the caller evaluates ``likelihood.loglik``).

    A likelihood declares the joint computation by a method
    ``mle_scale_loglik(y_true, raw_prediction, sample_weight) -> (scale, loglik)``
    (``loglik`` None where it has none to give), e.g. where the scale is found by
    maximising the log-likelihood numerically and its value at the maximum comes
    with the last iterate (the compound Poisson-gamma series:
    :func:`skloss._kernels._tweedie.tweedie_cp_mle`).
    """
    try:
        lik = loss.likelihood
    except Exception:
        return None, None
    joint = None if lik is None else getattr(lik, "mle_scale_loglik", None)
    if joint is None or not getattr(lik, "has_scale", False):
        return mle_scale(loss, y, raw, sample_weight), None
    try:
        with np.errstate(all="ignore"):
            value, loglik = joint(y, raw, sample_weight)
    except (NotImplementedError, ValueError):
        return None, None
    if value is None or not np.isfinite(value):
        return None, None
    return float(value), (None if loglik is None else float(loglik))


def student_t_logpdf(y, raw, scale, df):
    """Log-density of ``y ~ raw + scale * t_df`` (constants included)."""
    z = (np.asarray(y, dtype=np.float64) - np.asarray(raw, dtype=np.float64)) / scale
    const = special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
    return const - np.log(scale) - 0.5 * (df + 1) * np.log1p(z * z / df)


def _t_objective(beta, eta, design, y, omega, df, l2_reg):
    """J and its gradient in ``(beta, eta = log sigma)`` (module docstring)."""
    r = y - design.matvec(beta)
    sigma2 = np.exp(2.0 * eta)
    q = r * r / (df * sigma2)
    val = eta + 0.5 * (df + 1) * float(omega @ np.log1p(q))
    # d/d raw_i of the summand: -(nu + 1) r / (nu sigma^2 + r^2)
    g_raw = -(df + 1) * r / (df * sigma2 + r * r)
    g_beta = design.rmatvec(omega * g_raw)
    g_eta = 1.0 - (df + 1) * float(omega @ (q / (1.0 + q)))
    if l2_reg:
        w = beta[: design.p]
        val += 0.5 * l2_reg * float(w @ w)
        g_beta[: design.p] += l2_reg * w
    return val, g_beta, g_eta


def student_t_fit(X, y, df, *, sample_weight=None, offset=None, fit_intercept=True,
                  l1_reg=0.0, l2_reg=0.0, coef0=None, scale0=None, tol=1e-8, max_iter=500, verbose=0):
    """Joint maximum-likelihood fit of a linear model with Student-t errors.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    df : float > 0
        Degrees of freedom of the t distribution (fixed).
    sample_weight, offset : ndarray or None
    fit_intercept : bool
    l1_reg, l2_reg : float
        Coefficients of ``||w||_1`` and ``||w||^2 / 2`` added to the mean
        negative log-likelihood.  With an L1 term the EM M-step is a weighted
        lasso (proximal Newton of :mod:`._solvers`) and there is no L-BFGS polish.
    coef0, scale0 : start (packed ``[w, b]`` and sigma); default: the robust start
        of the module docstring.
    tol : float
        Gradient tolerance of the final L-BFGS polish (on the mean objective).
    max_iter : int
        Maximum number of EM iterations (the polish has its own budget).

    Returns
    -------
    coef : ndarray (n_features,)
    intercept : float
    scale : float
    objective : float
        ``J`` at the solution (the mean negative log-likelihood without its
        constant, plus the penalty).
    n_iter : int
    converged : bool
    """
    y = np.asarray(y, dtype=np.float64)
    if offset is not None:
        y = y - np.asarray(offset, dtype=np.float64)
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
    else:
        X = np.asarray(X, dtype=np.float64)
    sw = np.ones(y.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    omega = sw / sw.sum()
    design = _Design(X, fit_intercept)
    df = float(df)

    # robust start: exact least absolute deviations, scale from the median residual
    if coef0 is None:
        from ._exact import piecewise_linear_fit

        lad = piecewise_linear_fit(X, y, kind="absolute_error", sample_weight=sw,
                                   fit_intercept=fit_intercept, l2_reg=l2_reg, tol=1e-8)
        beta = np.append(lad.coef, lad.intercept) if fit_intercept else lad.coef.copy()
    else:
        beta = np.asarray(coef0, dtype=np.float64).copy()
    r = y - design.matvec(beta)
    if scale0 is None:
        med = weighted_quantile(np.abs(r), omega, 0.5)
        sigma = med / stats.t.ppf(0.75, df) if med > 0 else float(np.sqrt(omega @ (r * r)))
    else:
        sigma = float(scale0)
    if not np.isfinite(sigma) or sigma <= 0:
        sigma = float(np.std(y)) or 1.0

    # EM (Lange, Little & Taylor 1989)
    ridge = np.zeros(design.m)
    ridge[: design.p] = l2_reg
    prev = np.inf
    # (the objective moves by log c when y is in c times its units: tests on it are
    # taken relative to its value at the start's scale, so they are scale-free)
    shift = float(np.log(sigma))
    negligible = 1e-12 * float(np.max(np.abs(y - np.median(y)))) if y.size else 0.0
    val = _t_objective(beta, np.log(sigma), design, y, omega, df, l2_reg)[0] + l1_reg * float(
        np.abs(beta[: design.p]).sum())
    n_iter = 0
    interpolates = False
    for n_iter in range(1, max_iter + 1):
        z2 = r * r / (sigma * sigma)
        u = (df + 1) / (df + z2)
        wts = omega * u
        # M-step for beta: min sum wts r^2 / (2 sigma^2) + penalty
        if l1_reg > 0:
            beta = _lasso_step(X, y, wts, sigma, beta, fit_intercept, l1_reg, l2_reg, tol)
        else:
            G = design.gram(wts / sigma**2)
            G[np.diag_indices_from(G)] += ridge
            rhs = design.rmatvec(wts * y / sigma**2)
            try:
                beta = la.cho_solve(la.cho_factor(G, check_finite=False), rhs, check_finite=False)
            except la.LinAlgError:
                beta = la.lstsq(G, rhs, check_finite=False)[0]
        r = y - design.matvec(beta)
        sigma = float(np.sqrt(np.sum(wts * r * r)))
        if sigma <= negligible:
            # the fit interpolates the data (the likelihood has no maximum; the estimator
            # announces it): stop before r / sigma overflows, and polish nothing
            interpolates = True
            break
        val = _t_objective(beta, np.log(sigma), design, y, omega, df, l2_reg)[0]
        val += l1_reg * float(np.abs(beta[: design.p]).sum())
        if verbose > 1:
            print(f"  student_t EM {n_iter}: objective {val:.12g}  sigma {sigma:.6g}")
        if prev - val <= 1e-10 * max(1.0, abs(val - shift)):
            break
        prev = val

    m = design.m
    if l1_reg > 0 or interpolates:
        coef = beta[: design.p].copy()
        intercept = float(beta[design.p]) if fit_intercept else 0.0
        return (coef, intercept, sigma, prev if np.isfinite(prev) else val, n_iter,
                n_iter < max_iter and not interpolates)

    # L-BFGS polish on (beta, log sigma), in the problem's own units so that the
    # stopping test is scale-free: beta_j = t_j sigma0 / d_j (d_j the root-mean-square
    # of column j, 1 for the intercept), and the objective less log sigma0; then the
    # fit is equivariant to the units of X and y
    sigma0 = max(sigma, 1e-300)
    if design.sparse:
        d = np.sqrt(np.asarray(X.multiply(X).mean(axis=0)).ravel())
    else:
        d = np.sqrt(np.mean(X * X, axis=0)) if X.shape[0] else np.ones(design.p)
    d = np.where(np.isfinite(d) & (d > 0), d, 1.0)
    units = sigma0 / np.append(d, np.ones(m - design.p))
    shift = float(np.log(sigma0))

    def fun(theta):
        v, gb, ge = _t_objective(theta[:m] * units, theta[m], design, y, omega, df, l2_reg)
        return v - shift, np.append(gb * units, ge)

    theta0 = np.append(beta / units, np.log(sigma0))
    res = optimize.minimize(fun, theta0, jac=True, method="L-BFGS-B",
                            options={"maxiter": 1000, "gtol": tol, "ftol": 1e-15, "maxcor": 20})
    theta = res.x if res.fun <= fun(theta0)[0] else theta0
    grad = fun(theta)[1]
    converged = bool(np.max(np.abs(grad)) <= max(tol, 1e-6) * 10)
    beta, sigma = theta[:m] * units, float(np.exp(theta[m]))
    coef = beta[: design.p].copy()
    intercept = float(beta[design.p]) if fit_intercept else 0.0
    objective = fun(theta)[0] + shift
    return coef, intercept, sigma, objective, n_iter + int(res.nit), converged


def _lasso_step(X, y, wts, sigma, beta, fit_intercept, l1_reg, l2_reg, tol):
    """The EM M-step with an L1 term: a weighted lasso on squared error.

    ``sum_i wts_i r_i^2 / (2 sigma^2) + l1 |w|_1 + l2 / 2 |w|^2`` equals
    ``c (mean_wts r^2 + l1 / c |w|_1 + l2 / c / 2 |w|^2)`` with
    ``c = sum(wts) / (2 sigma^2)``.
    """
    from skloss.losses import get_loss

    from ._objective import LinearObjective
    from ._solvers import solve

    c = float(wts.sum()) / (2.0 * sigma * sigma)
    obj = LinearObjective(get_loss("squared_error"), X, y, wts, fit_intercept=fit_intercept,
                          l1_reg=l1_reg / c, l2_reg=l2_reg / c)
    res = solve(obj, beta, "prox-newton", tol=max(tol, 1e-12), max_iter=200)
    return res.coef
