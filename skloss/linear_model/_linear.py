"""MLELinearRegression: a linear model for every regression loss, fitted exactly."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from skloss._dask import any_dask
from skloss.losses import get_loss
from skloss.utils._inputs import check_weight_values, validate_dense_fit_data
from skloss.utils._state import keeps_state_on_error

from ._base import MLELinearModel
from ._solver_exact import has_exact_solver, solve_exact
from ._linear_inference import RegressionInferenceMixin
from ._lstsq import information_inverse, least_squares
from ._solver_cd import least_squares_cd
from ._objective import _PARALLEL_WORK, LinearObjective
from ._scale import mle_scale_loglik, student_t_fit
from ._solver_common import FUSED_FIT_BLAS_COEF, SMALL_BLAS_COEF, single_thread_blas
from ._solvers import SOLVERS, resolve_solver, solve

__all__ = ["MLELinearRegression"]

REGRESSION_SOLVERS = tuple(SOLVERS) + ("interior-point",)
_MAX_DENSE = 3000


class MLELinearRegression(RegressorMixin, RegressionInferenceMixin, MLELinearModel):
    r"""Linear regression with any regression loss, fitted to its exact optimum,
    with the noise scale and likelihood inference where the loss is a likelihood.

    Minimises

    .. math::

        \frac{\sum_i s_i\, \ell(y_i,\ x_i^\top w + b + o_i)}{\sum_i s_i}
        + \alpha \Big(\rho \|w\|_1 + \frac{1 - \rho}{2} \|w\|_2^2\Big)

    with sample weights ``s``, offsets ``o`` (zero unless given), ``rho =
    l1_ratio`` and the loss ``l`` on the raw (link-scale) prediction;
    ``predict`` returns ``inverse_link(x.w + b + o)`` (the mean for
    ``squared_error``, ``poisson``, ``gamma``, ``tweedie``; the median for
    ``absolute_error``; the quantile for ``quantile``).  ``squared_error`` is
    ``(y - r)^2`` (no factor 1/2), so scikit-learn's penalties map as
    ``Ridge(alpha=a)`` = ``penalty="l2", alpha=2 a / n``; ``Lasso(alpha=a)`` =
    ``penalty="l1", alpha=2 a``; ``ElasticNet(alpha=a, l1_ratio=r)`` =
    ``penalty="elasticnet", alpha=2 a, l1_ratio=r``.

    Parameters
    ----------
    loss : str or Loss, default="squared_error"
        Any regression loss of :func:`skloss.losses.available_losses`
        (``"regression"``), an alias, or a loss object (also from
        :func:`skloss.losses.make_loss`).  Tune its parameters with
        ``loss__delta``, ``loss__quantile``, ``loss__power``, ``loss__df`` ...
    penalty : {None, "l2", "l1", "elasticnet"}, default=None
        None ignores ``alpha``.
    alpha : float >= 0, default=0.0
    l1_ratio : float in [0, 1], default=0.5
        Only for ``penalty="elasticnet"``.
    fit_intercept : bool, default=True
    solver : {"auto", "newton", "newton-cholesky", "newton-cg", "lbfgs", "prox-newton", "highs", "interior-point"}, default="auto"
        ``"auto"``: the closed form (Cholesky, or QR when ill-conditioned) for
        squared error without L1; the interior-point method with an exact
        crossover (``"interior-point"``) for ``absolute_error``, ``quantile``
        and ``epsilon_insensitive``; joint maximum likelihood of coefficients
        and scale for ``student_t``; Newton for other losses with a Hessian;
        proximal Newton with an L1 penalty; L-BFGS otherwise.  ``"highs"``
        solves the piecewise-linear losses as a linear programme with SciPy's
        HiGHS (a reference; much slower).
    max_iter : int, default=1000
    tol : float, default=1e-8
        Largest absolute entry of the gradient (or minimum-norm subgradient)
        of the objective at which a smooth solver stops; the relative
        duality-gap tolerance of the interior-point method (which then
        crosses over to the exact vertex).
    warm_start : bool, default=False
        Start from the previous solution (smooth and Student-t solvers).
    cov_type : {"auto", "nonrobust", "HC0", "HC1"} or None, default="auto"
        The covariance of the coefficients; see the Notes.  None skips it.
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    loss_ : Loss
        The fitted clone of ``loss``.
    scale_ : float or None
        The maximum-likelihood noise scale of the loss's likelihood (Normal
        sigma, Laplace b, asymmetric-Laplace sigma, Student-t sigma, Gamma /
        Tweedie dispersion phi); None without a likelihood or a scale.
    loglik_ : float or None
        The log-likelihood at ``coef_`` and ``scale_`` (constants included).
    aic_, bic_ : float or None
        ``-2 loglik + 2 k`` and ``-2 loglik + k log(n)`` with ``k`` the number
        of coefficients (intercept included) **plus one for the scale** when it
        is estimated, and ``n = sum(sample_weight)``.
    objective_ : float
        The objective at the solution (for ``student_t``: the joint
        objective in coefficients and scale, see Notes).
    n_iter_ : int
    converged_ : bool
    solver_ : str
        The solver that ran; ``"start"`` when the start was certified optimal
        without iterating (every sample's loss at the loss's minimum, the penalty
        at zero).
    certified_ : bool
        Only after the interior-point solver: whether the crossover verified
        the optimality conditions at an exact vertex (see the user guide).
    covariance_ : ndarray or None
        Covariance of ``params_``.
    params_ : ndarray
        ``[intercept, coef...]``; ``param_names_`` labels them.
    bse_ : ndarray or None
        Standard errors.
    cov_type_ : str or None
    dispersion_ : float or None
        The dispersion that scales a ``"nonrobust"`` covariance (Pearson
        chi^2 / (n - k) for normal, gamma, Tweedie; 1 for Poisson).
    df_resid_ : float
        ``n - k``.
    use_t_ : bool
        Whether ``summary``/``conf_int`` use Student's t with ``df_resid_``
        degrees of freedom instead of the normal distribution.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    *Scale and likelihood.*  For every loss but ``student_t`` the coefficients'
    optimum does not depend on the scale, so ``scale_`` is the MLE at the
    fitted predictions and (``coef_``, ``scale_``) is the joint MLE.  ``student_t`` is
    fitted jointly: ``min_{w, b, sigma} mean_s[log sigma + l((y - r) / sigma)] +
    penalty``, starting from an exact least-absolute-deviations fit (the
    problem is not convex).  AIC and BIC count the scale as a parameter (as
    R's ``AIC(lm)`` and ``AIC(glm)`` do; statsmodels' OLS ``aic`` does not,
    so ours is larger by 2; statsmodels' GLM evaluates ``llf`` at the Pearson
    dispersion, ours at the MLE).

    *Covariance* (``cov_type="auto"``): the R ``glm`` conventions for
    ``squared_error``, ``poisson``, ``gamma``, ``tweedie`` (expected
    information, Pearson dispersion; OLS standard errors for squared error);
    the statsmodels ``QuantReg`` kernel sandwich for ``quantile`` and
    ``absolute_error``; the inverse observed information of the joint
    likelihood for ``student_t``; the sandwich (HC0) for the other
    M-estimators.  Sample weights are frequency weights.  See
    :mod:`skloss.linear_model._linear_inference` and the user guide.

    *Offsets* are added to the raw prediction, for every loss (for log-link
    losses ``offset = log(exposure)``).  They reach ``fit``, ``predict`` and
    ``score`` through scikit-learn's metadata routing:
    ``est.set_fit_request(offset=True).set_predict_request(offset=True)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skloss import MLELinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = X @ [1.0, -2.0] + 0.5 + rng.standard_t(2, size=200)
    >>> est = MLELinearRegression(loss="quantile").fit(X, y)
    >>> est.coef_.round(1)
    array([ 1. , -1.9])
    >>> est.certified_  # the exact optimum of the linear programme
    True
    """

    _task = "regression"

    _parameter_constraints: dict = {
        **MLELinearModel._parameter_constraints,
        "solver": [StrOptions(set(REGRESSION_SOLVERS))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, loss="squared_error", *, penalty=None, alpha=0.0, l1_ratio=0.5,
                 fit_intercept=True, solver="auto", max_iter=1000, tol=1e-8, warm_start=False,
                 cov_type="auto", verbose=0):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.cov_type = cov_type
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @keeps_state_on_error
    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets in the loss's domain (e.g. ``y >= 0`` for ``poisson``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (frequency weights for the inference).
        offset : array-like of shape (n_samples,), default=None
            Added to the raw prediction (log exposure for log-link losses).

        Returns
        -------
        self
        """
        if any_dask(X, y, sample_weight, offset):  # (dask arrays: chunk-wise passes on the cluster)
            from skloss._dask._linear import fit_linear

            return fit_linear(self, X, y, sample_weight, offset)
        return self._fit(X, y, sample_weight, offset)

    def _fit(self, X, y, sample_weight, offset):
        self._validate_params()
        loss = self._resolve_loss()
        l1_reg, l2_reg = self._penalty_strengths()
        # (PERF: a dense, finite float array skips scikit-learn's generic checks, ~0.2 ms)
        checked = validate_dense_fit_data(self, X, y)
        X, y = checked if checked is not None else validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], y_numeric=True, reset=True)
        y = np.asarray(loss.validate_y(y), dtype=np.float64)
        n, p = X.shape
        sw = None if sample_weight is None else check_weight_values(_check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True))
        if sw is not None and not sw.sum() > 0:
            raise ValueError("sample_weight must have a positive sum.")
        off = _check_offset(offset, n)
        path = self._choose_path(loss, l1_reg, l2_reg, sp.issparse(X), p)
        if path in ("closed-form", "gram-cd") and p + 1 <= SMALL_BLAS_COEF:
            # (PERF) one BLAS thread for the Gram routes of a few columns: their products
            # are one syrk and a few matrix-vector passes, where OpenBLAS's second thread
            # gains little and, on a busy machine, its spinning workers stall the call
            # (20,000 x 25 under load 5-7: a 0.13 ms X^T z measured 12 ms; the whole
            # ridge fit 15.7 -> 5.8 ms best, 43 -> 20 ms median)
            with single_thread_blas():
                return self._fit_path(path, loss, X, y, sw, off, l1_reg, l2_reg)
        if n * p <= _PARALLEL_WORK and p + 1 <= SMALL_BLAS_COEF:
            # (PERF) every BLAS call of a fit this small is small (MLELinearModel._blas_threads,
            # as MLELogisticRegression): the solvers ran on one thread already, but the final
            # prediction, likelihood and covariance ran on OpenBLAS's default threads; on the
            # busy 2-core machine a 20,000 x 25 X @ coef then measured 10-14 ms (0.5 ms with
            # one thread): Poisson with L2 at 20,000 rows, load 4.7, 42 -> 16 ms per fit
            with single_thread_blas():
                return self._fit_path(path, loss, X, y, sw, off, l1_reg, l2_reg)
        if (not sp.issparse(X) and n * p > _PARALLEL_WORK and p + 1 <= FUSED_FIT_BLAS_COEF
                and loss.fused_linear_kernel(sparse=False, multiclass=False) is not None):
            # (PERF) the fused passes run on numba's threads and the fit's BLAS work (a
            # subsample's Hessian, the covariance Gram) is small beside them; OpenBLAS's
            # workers, spinning after each call, slowed the passes that follow (Poisson,
            # 200,000 rows, idle: 25 columns 80 -> 54 ms with one BLAS thread, 100
            # columns 320 -> 240 ms; 300 columns 934 -> 1008 ms, hence the bound)
            with single_thread_blas():
                return self._fit_path(path, loss, X, y, sw, off, l1_reg, l2_reg)
        return self._fit_path(path, loss, X, y, sw, off, l1_reg, l2_reg)

    def _fit_path(self, path, loss, X, y, sw, off, l1_reg, l2_reg):
        """The fit along the route ``path`` of :meth:`_choose_path`, then the scale,
        the likelihood and the covariance."""
        n, p = X.shape
        warm = self._warm_start_coef((p,))
        attrs = {"loss_": loss, "solver_": path}
        gram_inverse = None
        if path == "gram-cd":
            # L1 / elastic net on a loss with a constant Hessian: coordinate descent on
            # one Gram matrix (the objective-based solvers when its check fails)
            target, weights, factor = _quadratic_form(loss, y, sw, 1.0)
            out = least_squares_cd(X, target, weights, off, self.fit_intercept, l1_reg * factor,
                                   l2_reg * factor, float(self.tol), int(self.verbose))
            if out is None:
                path = "shared"
            else:
                coef, intercept, n_iter, _, (G, xbar, sa) = out
                converged, objective = True, None
                attrs["solver_"] = "cd"
                total = float(n) if weights is None else float(np.sum(weights))
                info_inv = (None if self.cov_type is None
                            else information_inverse(G, xbar, sa, total, self.fit_intercept))
                gram_inverse = None if info_inv is None else (weights, info_inv)
        if path == "gram-cd":
            pass
        elif path == "closed-form":
            target, weights, l2_eff = _quadratic_form(loss, y, sw, l2_reg)
            out = least_squares(X, target, weights, off, self.fit_intercept, l2_eff,
                                return_inverse=self.cov_type is not None)
            coef, intercept = out[0], out[1]
            # (the inverse information for the covariance, from the same Gram matrix)
            gram_inverse = None if len(out) < 3 or out[2] is None else (weights, out[2])
            n_iter, converged, objective = 1, True, None
        elif path == "interior-point":
            # the exact solver shared with MLELogisticRegression (dual coordinate
            # descent with an L2 penalty, the interior point otherwise; crossover)
            obj = LinearObjective(loss, X, y, sw, fit_intercept=self.fit_intercept,
                                  l2_reg=l2_reg, l1_reg=l1_reg, offset=off)
            coef0 = np.zeros(obj.n_coef)
            if self.fit_intercept:
                coef0[-1] = loss.init_raw_prediction(y, sw) - (
                    0.0 if off is None else float(np.average(off, weights=sw)))
            res = solve_exact(obj, coef0, tol=min(max(float(self.tol), 1e-14), 1e-6),
                              max_iter=max(int(self.max_iter), 1), verbose=int(self.verbose),
                              method="interior-point" if self.solver == "interior-point" else None)
            w, b = obj.split(res.coef)
            coef, intercept, n_iter, objective = np.array(w, dtype=np.float64), float(b), res.n_iter, None
            converged = bool(res.converged)
            attrs["certified_"] = bool(res.extra.get("certified", False))
            if not converged:
                self._warn_not_converged(path, loss, n_iter)
        elif path == "joint-scale":
            coef0 = scale0 = None
            if warm is not None and getattr(self, "scale_", None):
                coef0 = np.append(warm[0], warm[1][0]) if self.fit_intercept else warm[0]
                scale0 = self.scale_
            coef, intercept, scale, objective, n_iter, converged = student_t_fit(
                X, y, float(loss.likelihood.df), sample_weight=sw, offset=off, fit_intercept=self.fit_intercept,
                l1_reg=l1_reg, l2_reg=l2_reg, coef0=coef0, scale0=scale0, tol=float(self.tol),
                max_iter=int(self.max_iter), verbose=int(self.verbose))
            attrs["scale_"] = scale
            spread = float(np.max(np.abs(y - np.median(y)))) if y.size else 0.0
            if scale <= 1e-8 * max(spread, 1e-300):
                # the residuals vanish: the likelihood grows without bound as the scale
                # goes to 0, so no maximum exists (like separation for the log loss)
                warnings.warn(
                    f"MLELinearRegression (loss={loss.name!r}): the model interpolates the data (fitted "
                    f"scale {scale:.3g}; {X.shape[0]} samples for {X.shape[1] + self.fit_intercept} "
                    "coefficients), so the Student-t likelihood grows without bound as the scale goes to "
                    "0 and has no maximum. Use more samples than coefficients or a penalty (alpha > 0).",
                    ConvergenceWarning,
                    stacklevel=4,
                )
            elif not converged:
                self._warn_not_converged(path, loss, n_iter)
        else:
            obj = LinearObjective(loss, X, y, sw, fit_intercept=self.fit_intercept,
                                  l2_reg=l2_reg, l1_reg=l1_reg, offset=off)
            if warm is not None:
                coef0 = obj.pack(warm[0], warm[1][0])
            else:
                coef0 = np.zeros(obj.n_coef)
                if self.fit_intercept:
                    coef0[-1] = loss.init_raw_prediction(y, sw) - (
                        0.0 if off is None else float(np.average(off, weights=sw)))
                coef0 = self._subsample_start(loss, X, y, sw, off, l1_reg, l2_reg, coef0)
            res = self._run_solver(obj, coef0)
            w, b = obj.split(res.coef)
            coef, intercept = np.array(w, dtype=np.float64), float(b)
            n_iter, converged, objective = res.n_iter, res.converged, res.objective
            attrs["solver_"] = res.solver
        coef = np.asarray(coef, dtype=np.float64)
        intercept = float(intercept) if self.fit_intercept else 0.0
        raw = _raw(X, coef, intercept, off)
        derivs = None
        if objective is None:
            with np.errstate(over="ignore", invalid="ignore"):
                if self.cov_type is not None and self._cov_kind(loss) == "m":
                    # (the sandwich's per-sample gradient and curvature from the same kernel
                    # call as the objective's losses)
                    values, psi, dpsi = loss.loss_gradient_hessian(y, raw)
                    derivs = (np.asarray(psi, dtype=np.float64), np.asarray(dpsi, dtype=np.float64))
                else:
                    values = loss.loss(y, raw)
                data = float(np.mean(values)) if sw is None else float(sw @ values) / float(np.sum(sw))
                objective = data + l1_reg * float(
                    np.abs(coef).sum()) + (0.5 * l2_reg * float(coef @ coef) if l2_reg else 0.0)
            if not (np.isfinite(objective) and np.all(np.isfinite(coef))):
                raise ValueError(
                    f"The objective is not finite: the computation overflows the float range (largest "
                    f"|X| = {np.max(np.abs(X.data if sp.issparse(X) else X), initial=0.0):.3g}, largest "
                    f"|y| = {np.max(np.abs(y), initial=0.0):.3g}). Scale the data, e.g. with "
                    "sklearn.preprocessing.StandardScaler.")
        if _no_minimiser(loss, y, sw, penalised=l1_reg + l2_reg > 0):
            dom = loss.y_domain
            warnings.warn(
                f"MLELinearRegression (loss={loss.name!r}): every target equals {dom.low:g}, the "
                "boundary of the loss's domain; the fitted mean must reach it, which the link "
                "attains only at raw -> -inf, so the maximum-likelihood estimate does not exist "
                "(the coefficients returned are finite but arbitrary). Check the data, or fit "
                "with a penalty (alpha > 0).",
                ConvergenceWarning,
                stacklevel=4,
            )
            converged = False
        attrs.update(coef_=coef.astype(X.dtype, copy=False), intercept_=intercept,
                     n_iter_=int(n_iter), converged_=bool(converged), objective_=float(objective),
                     n_obs_=float(n if sw is None else np.sum(sw)))
        loglik = None
        if "scale_" not in attrs:
            # (the log-likelihood too where the likelihood's scale maximisation gives it)
            attrs["scale_"], loglik = mle_scale_loglik(loss, y, raw, sw)
        attrs.update(self._likelihood_attrs(loss, y, raw, sw, attrs["scale_"], p, loglik=loglik))
        attrs.update(self._covariance_attrs(loss, X, y, raw, sw, attrs["scale_"], l1_reg + l2_reg > 0,
                                            gram_inverse=gram_inverse, derivs=derivs))
        return self._assign(attrs)

    def _subsample_start(self, loss, X, y, sw, off, l1_reg, l2_reg, coef0):
        """A start from the same problem on an evenly strided subsample of rows.

        On ``n >> m`` rows (``m = max(10000, 20 k)``) the subsample optimum lies
        within the sampling error ``O(sqrt(k / m))`` of the full one, so the
        full-data solver needs two or three passes over ``X`` instead of a
        dozen; the final solution is the exact optimum of the full objective
        whatever the start.
        """
        n, p = X.shape
        m = max(10000, 20 * (p + 1))
        if n < 4 * m:
            return coef0
        rows = np.arange(0, n, n // m)
        Xs = X[rows]
        Xs = Xs.tocsr() if sp.issparse(Xs) else np.ascontiguousarray(Xs)
        sub = LinearObjective(loss, Xs, y[rows], None if sw is None else sw[rows],
                              fit_intercept=self.fit_intercept, l2_reg=l2_reg, l1_reg=l1_reg,
                              offset=None if off is None else off[rows])
        if sub.weight_sum <= 0:
            return coef0
        solver = resolve_solver(self.solver, loss, l1_reg=l1_reg, l2_reg=l2_reg, sparse=sub.sparse,
                                n_outputs=1, n_coef=sub.n_coef)
        if solver == "newton-cholesky":
            return coef0  # the shared Newton solver presolves on a subsample itself
        try:
            with np.errstate(all="ignore"):
                res = solve(sub, coef0, solver, tol=max(float(self.tol), 1e-6), max_iter=int(self.max_iter))
        except (ValueError, np.linalg.LinAlgError):
            return coef0
        start = res.coef
        if not np.all(np.isfinite(start)):
            return coef0
        return start

    def _warn_not_converged(self, path, loss, n_iter):
        warnings.warn(
            f"MLELinearRegression (solver={path!r}, loss={loss.name!r}) did not converge "
            f"({n_iter} iterations run, max_iter={self.max_iter}). Increase max_iter or tol, or scale "
            "the features.",
            ConvergenceWarning,
            stacklevel=5,
        )

    def _choose_path(self, loss, l1_reg, l2_reg, sparse, n_features):
        """The route, from the loss's declared capabilities (never its name):
        ``"interior-point"`` for a piecewise-linear loss the interior point
        handles, ``"joint-scale"`` when the likelihood's scale enters the
        location's optimum (Student-t), ``"closed-form"`` for a loss with a
        constant Hessian (weighted least squares), ``"shared"`` otherwise."""
        solver = self.solver
        # the closed form and the interior point factor a dense (p + 1) x (p + 1)
        # matrix: beyond _MAX_DENSE columns "auto" hands over to the shared solvers
        # (the exact LP for the piecewise-linear losses, Newton-CG / L-BFGS otherwise)
        small = n_features + 1 <= _MAX_DENSE
        exact = has_exact_solver(loss)
        if exact and l2_reg > 0:
            small = True  # a quadratic programme: the interior point is the reliable route
        if solver == "interior-point":
            if not exact:
                raise ValueError(
                    "solver 'interior-point' solves convex piecewise-linear losses (a declared "
                    f"piecewise_linear with one or two kinks); loss {loss.name!r} is not one; use "
                    "solver='auto'."
                )
            return "interior-point"
        joint = bool(getattr(loss.likelihood, "joint_scale", False))
        if joint and solver in ("auto", "lbfgs"):
            return "joint-scale"
        if joint:
            raise ValueError(
                f"loss {loss.name!r} is fitted by joint maximum likelihood of the coefficients and "
                "the scale (EM from a robust start, then L-BFGS); use solver='auto' or 'lbfgs'."
            )
        if solver == "auto" and exact and small:
            return "interior-point"
        if (small and solver in ("auto", "newton", "newton-cholesky") and l1_reg == 0
                and loss.hessian_is_constant and loss.has_hessian):
            return "closed-form"
        if (small and solver in ("auto", "cd") and l1_reg > 0 and not sparse
                and loss.hessian_is_constant and loss.has_hessian):
            return "gram-cd"
        return "shared"

    # --------------------------------------------------------- predict
    def _raw_predict(self, X, offset):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        off = _check_offset(offset, X.shape[0])
        return _raw(X, np.asarray(self.coef_), self.intercept_, off, dtype=X.dtype)

    def predict(self, X, offset=None):
        """``inverse_link(X @ coef_ + intercept_ + offset)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        if any_dask(X, offset):
            from skloss._dask._predict import lazy_method

            return lazy_method(self, "predict", X, offset=offset)
        raw = self._raw_predict(X, offset)
        with np.errstate(over="ignore"):
            return np.asarray(self.loss_.inverse_link(raw))

    def score(self, X, y, sample_weight=None, offset=None):
        """Coefficient of determination R^2 of ``predict(X, offset)``."""
        return r2_score(y, self.predict(X, offset=offset), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        try:
            domain = get_loss(self.loss).y_domain
        except (TypeError, ValueError):
            return tags
        tags.target_tags.positive_only = bool(np.isfinite(domain.low))  # a bounded domain: positive data
        return tags


# ---------------------------------------------------------------- helpers


def _quadratic_form(loss, y, sw, l2_reg):
    """A loss with a constant Hessian is ``h_i / 2 (raw - t_i)^2`` plus a constant,
    with ``t_i = -g_i(0) / h_i`` from the gradient and Hessian at ``raw = 0``: the
    weighted least-squares problem ``(targets t, weights s h / 2)`` with the L2
    strength rescaled to the new weight sum."""
    zero = np.zeros_like(y)
    g, h = loss.gradient_hessian(y, zero)
    g = np.asarray(g, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    if np.all(h == 2.0):
        # (-g / 2 exactly: for squared error g = -2 y, so the target is y itself, bit for bit)
        return g * -0.5, sw, l2_reg
    if not np.all(h > 0):
        raise ValueError(
            f"Loss {loss.name!r} declares hessian_is_constant, but its Hessian is not positive "
            "everywhere: it is not a convex quadratic."
        )
    target = -g / h
    s = np.ones_like(y) if sw is None else sw
    weights = s * h / 2.0
    return target, weights, l2_reg * float(np.sum(s)) / float(np.sum(weights))


def _check_offset(offset, n):
    if offset is None:
        return None
    off = np.asarray(offset)
    if off.dtype.kind not in "biuf":
        raise ValueError(f"offset must be numeric; got dtype {off.dtype}.")
    off = off.astype(np.float64).reshape(-1) if off.ndim == 2 and 1 in off.shape else off.astype(np.float64)
    if off.ndim != 1 or off.shape[0] != n:
        raise ValueError(f"offset must be 1-D with one entry per sample ({n}); got shape {np.shape(offset)}.")
    if not np.all(np.isfinite(off)):
        raise ValueError("offset contains NaN or infinity.")
    return off


def _raw(X, coef, intercept, offset, dtype=np.float64):
    raw = np.asarray(X @ np.asarray(coef, dtype=X.dtype), dtype=np.float64).ravel() + float(intercept)
    if offset is not None:
        raw = raw + offset
    return raw if dtype == np.float64 else raw.astype(dtype)


def _no_minimiser(loss, y, sw, penalised):
    """Whether the data leave a loss that declares ``may_lack_minimiser`` without
    one: every (weighted) target on the closed boundary of the loss's domain
    where the link cannot reach it (all-zero counts for Poisson / Tweedie)."""
    if penalised or not getattr(loss, "may_lack_minimiser", False):
        return False
    dom = getattr(loss, "y_domain", None)
    if dom is None or not dom.low_inclusive or not np.isfinite(dom.low):
        return False
    active = y if sw is None else y[np.asarray(sw) > 0]
    if active.size == 0 or not np.all(active == dom.low):
        return False
    with np.errstate(all="ignore"):
        mean = np.asarray(loss.inverse_link(np.array([-700.0, 700.0])), dtype=np.float64)
    return bool(np.all(mean > dom.low))  # the link's range is open at the boundary
