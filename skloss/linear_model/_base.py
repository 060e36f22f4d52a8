"""Base class of the maximum-likelihood linear estimators.

:class:`MLELinearModel` holds what :class:`~skloss.MLELogisticRegression` and
:class:`~skloss.MLELinearRegression` share: the common parameters and their
constraints, the loss resolution (``loss`` -> ``loss_``), the penalty mapping,
solver selection and the solver run (with ``ConvergenceWarning``), warm starts,
and the inference attributes with :meth:`summary` and :meth:`conf_int`.

A subclass sets ``_task`` and implements ``fit``.  Everything a fit computes
goes through helpers that *return* values; the subclass assigns the fitted
attributes only at the end (``self._assign(attrs)``), so a fit that raises
leaves a previously fitted estimator unchanged.

Hooks / helpers for subclasses
------------------------------
``_resolve_loss()``
    A validated clone of ``loss`` for ``_task`` (raises ``ValueError``).
``_penalty_strengths()``
    ``(l1_reg, l2_reg)`` from ``penalty``, ``alpha``, ``l1_ratio``.
``_run_solver(objective, coef0, fixed=None)``
    Resolve ``solver`` and minimise; warns ``ConvergenceWarning``.
``_warm_start_coef(n_coef_shape)``
    The previous packed solution when ``warm_start`` applies, else None.
``_resolve_cov_type(loss, likelihood)``
    ``"auto"`` -> ``"nonrobust"`` / ``"HC0"`` / None.
``_inference_attrs(objective, coef, cov_type, ...)``
    A dict of the fitted inference attributes (``covariance_``, ``params_``,
    ``param_names_``, ``bse_``, ``cov_type_``).
``_loglik_attrs(loglik, n_params, n_obs)``
    ``loglik_``, ``aic_``, ``bic_``.
"""

import contextlib
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions, make_constraint, validate_parameter_constraints
from sklearn.utils.validation import check_is_fitted

from skloss.losses import Loss, get_loss

from skloss.utils._loss_params import LossParamsMixin

from ._inference import (COV_TYPES, covariance, information_criteria, label_intervals, summary_table, wald,
                         warn_penalised_inference)
from ._objective import _PARALLEL_WORK
from ._solver_common import SMALL_BLAS_COEF, single_thread_blas
from ._solvers import SOLVERS, resolve_solver, solve

__all__ = ["MLELinearModel"]

# cov_type="auto" computes the covariance up to this many coefficients
_AUTO_COV_MAX = 1000

# class -> (its _parameter_constraints dict, {name: [constraint objects]}, the keys of
# parameter sets of _KEYABLE values that passed them)
_CONSTRAINTS = {}
# value types whose validation depends on (type, value) only (hashable, immutable);
# a NaN never equals itself, so its set is validated every time
_KEYABLE = frozenset({str, int, float, bool, type(None)})


_ORDERS = {}


def _display_order(p, K, fi, drop):
    """``(order, perm)`` of :meth:`MLELinearModel._inference_attrs`: the kept packed
    entries (``order`` indexes them) in display order -- for each output ``k`` its
    intercept, then its features -- and ``perm`` their packed positions.  Read-only
    arrays, made once per layout (PERF: ~15 us of NumPy calls at each fit)."""
    key = (p, K, fi, None if drop is None else np.asarray(drop, dtype=bool).tobytes())
    found = _ORDERS.get(key)
    if found is not None:
        return found
    # display position of each packed entry: output k, then intercept (0) and features (1 + j)
    order_keys = (np.arange(K)[:, None] * (p + 1) + 1 + np.arange(p)[None, :]).ravel()
    if fi:
        order_keys = np.concatenate([order_keys, np.arange(K) * (p + 1)])
    keep = np.ones(order_keys.size, dtype=bool) if drop is None else ~np.asarray(drop, dtype=bool)
    kept = np.flatnonzero(keep)
    order = np.argsort(order_keys[kept], kind="stable")
    perm = kept[order]
    order.flags.writeable = False
    perm.flags.writeable = False
    if len(_ORDERS) < 256:
        _ORDERS[key] = (order, perm)
    return order, perm


class MLELinearModel(LossParamsMixin, BaseEstimator):
    """Shared machinery of the MLE linear estimators (not for direct use)."""

    _task = None

    _parameter_constraints: dict = {
        "loss": [str, Loss],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "cov_type": [StrOptions(set(COV_TYPES)), None],
        "verbose": ["verbose"],
    }

    def _validate_params(self):
        """scikit-learn's parameter validation, with the constraint objects made once
        per class: a parameter that satisfies none of its constraints gets
        scikit-learn's own ``InvalidParameterError`` (its message, listing them).

        (PERF) ``BaseEstimator._validate_params`` rebuilds every constraint object on
        every fit (~25 us of a 1 ms least-squares fit)."""
        cls = type(self)
        spec = cls._parameter_constraints
        cached = _CONSTRAINTS.get(cls)
        if cached is None or cached[0] is not spec:
            names = set(self.get_params(deep=False))
            made = {name: [make_constraint(c) for c in cons] for name, cons in spec.items()
                    if name in names and not (isinstance(cons, str) and cons == "no_validation")}
            cached = _CONSTRAINTS[cls] = (spec, made, set())
        made, valid = cached[1], cached[2]
        params = self.get_params(deep=False)
        # (PERF) parameters of plain immutable types that passed once pass again: the
        # constraints' isinstance tests against numbers.Real & co. were ~20 us a fit
        key = tuple((name, type(value), value) for name, value in params.items())
        if not all(item[1] in _KEYABLE for item in key):
            key = None
        elif key in valid:
            return
        for name, cons in made.items():
            value = params.get(name)
            for c in cons:
                if c.is_satisfied_by(value):
                    break
            else:
                validate_parameter_constraints(spec, params, caller_name=cls.__name__)
        if key is not None and len(valid) < 1024:
            valid.add(key)

    # ------------------------------------------------------------ loss / penalty
    def _resolve_loss(self):
        loss = get_loss(self.loss)
        if loss.task != self._task:
            other = "MLELinearRegression" if loss.task == "regression" else "MLELogisticRegression"
            raise ValueError(
                f"{type(self).__name__} needs a {self._task} loss; {loss.name!r} is a "
                f"{loss.task} loss (use {other})."
            )
        loss._validate_params()
        return loss

    def _penalty_strengths(self):
        """``(l1_reg, l2_reg)``: ``penalty=None`` -> (0, 0); ``"l2"`` -> (0, alpha);
        ``"l1"`` -> (alpha, 0); ``"elasticnet"`` -> (alpha l1_ratio, alpha (1 - l1_ratio))."""
        alpha = float(self.alpha)
        if self.penalty is None:
            if alpha != 0.0:
                warnings.warn(
                    f"penalty=None ignores alpha={alpha!r}; set penalty='l2', 'l1' or "
                    "'elasticnet' to use it.",
                    UserWarning,
                    stacklevel=3,
                )
            return 0.0, 0.0
        if self.penalty == "l2":
            return 0.0, alpha
        if self.penalty == "l1":
            return alpha, 0.0
        rho = float(self.l1_ratio)
        return alpha * rho, alpha * (1.0 - rho)

    # ------------------------------------------------------------ solving
    def _run_solver(self, objective, coef0, fixed=None, max_iter=None):
        """Solve with the estimator's settings (``max_iter``: a smaller budget, or None)."""
        max_iter = int(self.max_iter) if max_iter is None else int(max_iter)
        solver = resolve_solver(
            self.solver, objective.loss, l1_reg=objective.l1_reg, l2_reg=objective.l2_reg,
            sparse=objective.sparse, n_outputs=objective.n_outputs, n_coef=objective.n_coef,
            n_samples=objective.n_samples, n_features=objective.n_features,
            nnz=getattr(objective.X, "nnz", None) if objective.sparse else None,
        )
        res = solve(objective, coef0, solver, tol=float(self.tol), max_iter=max_iter,
                    verbose=int(self.verbose), fixed=fixed)
        if not res.converged:
            if res.n_iter >= max_iter:
                what = f"did not converge in max_iter={max_iter} iterations ({res.message}"
                advice = "Increase max_iter, scale the features, or add a penalty (alpha > 0)."
            else:
                what = f"did not converge: it stopped after {res.n_iter} iterations ({res.message}"
                advice = "Scale the features or add a penalty (alpha > 0)."
            warnings.warn(
                f"{type(self).__name__} (solver={res.solver!r}, loss={objective.loss.name!r}) {what}; "
                f"optimality {res.optimality:.2e} > tol={self.tol}). {advice}",
                ConvergenceWarning,
                stacklevel=3,
            )
        return res

    def _blas_threads(self, loss, X, n_outputs, cov_type, *, l1_reg=0.0, l2_reg=0.0):
        """One BLAS thread for the whole fit when every BLAS call in it is small, else
        the default threads (a context manager).

        (PERF) On a few busy cores, waking OpenBLAS's workers costs far more than
        a small product saves: ``X @ W.T`` on 442 x 10 x 214 measured 2.1 ms with
        the default threads against 0.13 ms with one.  A fit's BLAS calls are
        small when a pass over ``X`` is (at most ``_PARALLEL_WORK`` entries times
        outputs, the size below which the numba passes run on one thread too) and
        no large matrix of the coefficients is formed: at most ``SMALL_BLAS_COEF``
        packed coefficients, or a solver that forms no dense Hessian (L-BFGS,
        smoothing, Newton-CG's products) and no covariance.
        """
        n, p = X.shape
        work = (X.nnz if hasattr(X, "nnz") else n * p) * n_outputs
        n_coef = (p + bool(self.fit_intercept)) * n_outputs
        small = work <= _PARALLEL_WORK and n_coef <= SMALL_BLAS_COEF
        if work <= _PARALLEL_WORK and not small and cov_type is None:
            try:
                solver = resolve_solver(self.solver, loss, l1_reg=l1_reg, l2_reg=l2_reg,
                                        sparse=hasattr(X, "nnz"), n_outputs=n_outputs, n_coef=n_coef,
                                        n_samples=n, n_features=p, nnz=getattr(X, "nnz", None))
            except ValueError:
                solver = None  # (the fit raises it with its own message)
            small = solver in ("lbfgs", "smoothing", "newton-cg")  # (no dense Hessian formed)
        return single_thread_blas() if small else contextlib.nullcontext()

    def _warm_start_coef(self, shape):
        """The previous ``coef_`` / ``intercept_`` when ``warm_start`` and shapes agree."""
        if not self.warm_start or not hasattr(self, "coef_"):
            return None
        coef = np.asarray(self.coef_, dtype=np.float64)
        if coef.shape != tuple(shape):
            return None
        return coef, np.atleast_1d(np.asarray(self.intercept_, dtype=np.float64))

    # ------------------------------------------------------------ inference
    def _resolve_cov_type(self, loss, likelihood, n_coef=0):
        """``cov_type`` with ``"auto"`` resolved: ``"nonrobust"`` (inverse information)
        for a likelihood loss, ``"HC0"`` (sandwich) for an M-estimator with a Hessian,
        None for a loss without a Hessian or more than 1000 coefficients."""
        ct = self.cov_type
        if ct is None:
            return None
        if ct == "auto":
            if not loss.has_hessian or n_coef > _AUTO_COV_MAX:
                return None
            return "nonrobust" if likelihood else "HC0"
        if not loss.has_hessian:
            raise ValueError(
                f"cov_type={ct!r} needs the Hessian of the loss, but loss {loss.name!r} has none "
                "(has_hessian=False): no asymptotic covariance is available; use cov_type=None."
            )
        return ct

    def _inference_attrs(self, objective, coef, cov_type, *, output_names, feature_names,
                         scale=1.0, n_obs=None, drop=None, params=None, penalised=False, information=None):
        """Covariance and Wald table attributes in display order.

        Display order: for each kept output ``k``: ``[intercept_k, w_k1 ... w_kp]``;
        parameter names ``"intercept"`` / feature names, prefixed with
        ``"<output>: "`` when there are several outputs.  ``params`` (packed,
        default ``coef``) are the values reported (e.g. relative to a reference class).
        """
        p, K, fi = objective.n_features, objective.n_outputs, objective.fit_intercept
        prefixes = [f"{output_names[k]}: " if output_names is not None else "" for k in range(K)]
        features = [str(name) for name in feature_names]
        packed_names = [prefix + name for prefix in prefixes for name in features]
        if fi:
            packed_names += [prefix + "intercept" for prefix in prefixes]
        order, perm = _display_order(p, K, fi, drop)
        values = coef if params is None else params
        attrs = {"cov_type_": cov_type, "covariance_": None, "bse_": None}
        attrs["params_"] = np.asarray(values, dtype=np.float64)[perm]
        attrs["param_names_"] = [packed_names[i] for i in perm]
        attrs["_inference_penalised"] = bool(penalised)
        if cov_type is None:
            return attrs
        cov = covariance(objective, coef, cov_type, scale=scale, n_obs=n_obs, drop=drop, information=information)
        # (cov[np.ix_(order, order)]: the same C-ordered copy, without the open mesh)
        cov = cov.take(order, axis=0).take(order, axis=1)
        attrs["covariance_"] = cov
        with np.errstate(invalid="ignore"):
            attrs["bse_"] = np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
        return attrs

    @staticmethod
    def _loglik_attrs(loglik, n_params, n_obs):
        aic, bic = information_criteria(loglik, n_params, n_obs)
        return {"loglik_": loglik, "aic_": aic, "bic_": bic}

    def _assign(self, attrs):
        for key, value in attrs.items():
            setattr(self, key, value)
        return self

    # ------------------------------------------------------------ reports
    def _check_inference(self):
        check_is_fitted(self)
        if getattr(self, "covariance_", None) is None:
            if self.cov_type_ is None and self.cov_type is not None and self.loss_.has_hessian:
                reason = (f"cov_type='auto' skips inference above {_AUTO_COV_MAX} coefficients; "
                          "set cov_type explicitly")
            elif self.cov_type is None:
                reason = "cov_type=None"
            elif (getattr(self.loss_, "multiclass_margin", None) is not None
                  and getattr(self, "multi_class_", None) == "multinomial"):
                reason = (f"loss {self.loss_.name!r} was fitted in its Crammer-Singer multi-class "
                          "form max(0, max_k(margin + r_k - r_y)), which has no covariance "
                          "estimator (its curvature sits on the kinks of a maximum over the "
                          "classes); the binary form has a sandwich covariance: fit one class "
                          "against the rest for standard errors")
            else:
                reason = f"loss {self.loss_.name!r} has no Hessian, so no asymptotic covariance"
            raise ValueError(f"No covariance was computed for this fit ({reason}).")
        if getattr(self, "_inference_penalised", False):
            warn_penalised_inference(stacklevel=3)

    def conf_int(self, alpha=0.05):
        """Wald confidence intervals of ``params_``.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals have coverage ``1 - alpha``.

        Returns
        -------
        ndarray of shape (n_params, 2), or DataFrame
            Lower and upper bounds, rows in the order of ``param_names_``; a
            pandas DataFrame indexed by ``param_names_`` when ``X`` had feature
            names.
        """
        self._check_inference()
        w = wald(self.params_, self.covariance_, alpha)
        return label_intervals(self, np.column_stack([w["ci_low"], w["ci_high"]]), alpha)

    def _summary_info(self):
        return {}

    def summary(self, alpha=0.05):
        """The coefficient table: coef, std err, z, P>|z| and the confidence interval.

        Returns a pandas DataFrame indexed by ``param_names_`` (the model
        description is in ``df.attrs["info"]``), or a readable text table when
        pandas is not installed.
        """
        self._check_inference()
        return summary_table(self.param_names_, self.params_, self.covariance_, alpha,
                             info=self._summary_info())
