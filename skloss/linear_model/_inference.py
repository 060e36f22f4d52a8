"""Likelihood inference at the optimum of a linear model.

Conventions (statsmodels' vocabulary; degrees of freedom stated):

* ``A = sum_i s_i d^2 loss_i / dc^2`` is the Hessian of the *summed* (weighted)
  loss at the fitted coefficients, the penalty excluded.  For a loss that is a
  negative log-likelihood this is the observed information.
* ``"nonrobust"``: ``cov = scale * A^{-1}`` (``scale`` = 1 for log loss and
  probit; the dispersion / noise variance factor for losses that are a scaled
  NLL, supplied by the estimator).
* ``"HC0"``: the sandwich ``A^{-1} B A^{-1}`` with ``B = sum_i s_i g_i g_i^T``
  and ``g_i`` the gradient of ``loss_i`` with respect to the coefficients
  (sample weights are frequency weights: a weight of 2 is a repeated row).
* ``"HC1"``: ``HC0 * n / (n - k)`` with ``n`` the number of observations and
  ``k`` the number of estimated coefficients.
* Wald statistics ``z = coef / std_err`` with a normal reference distribution;
  confidence intervals ``coef +- z_{1 - alpha/2} std_err``.
* ``AIC = -2 loglik + 2 k``, ``BIC = -2 loglik + k log(n)``.
"""

import warnings

import textwrap

import numpy as np

__all__ = ["covariance", "wald", "summary_table", "information_criteria", "COV_TYPES"]

COV_TYPES = ("auto", "nonrobust", "HC0", "HC1")


def _inv(A):
    # (PERF) a positive definite information matrix: Cholesky inverse with LAPACK's
    # condition estimate (1-norm), a quarter of np.linalg.inv + np.linalg.cond's SVD
    inv = _cholesky_inv(A)
    if inv is not None:
        return inv
    try:
        inv = np.linalg.inv(A)
        if np.all(np.isfinite(inv)) and np.linalg.cond(A) < 1e14:
            return inv
    except np.linalg.LinAlgError:
        pass
    warnings.warn(
        "The information matrix is singular or nearly so (collinear features, a "
        "constant column with fit_intercept=True, or separated classes); the covariance "
        "uses its pseudo-inverse and some standard errors are not meaningful.",
        UserWarning,
        stacklevel=4,
    )
    return np.linalg.pinv(A, hermitian=True)


def _cholesky_inv(A):
    """``A^{-1}`` of a symmetric positive definite ``A`` whose estimated condition
    number is below 1e14, else None."""
    from scipy.linalg import lapack

    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] == 0 or not np.all(np.isfinite(A)):
        return None
    c, info = lapack.dpotrf(A, lower=0, clean=1)
    if info != 0:
        return None
    rcond, info = lapack.dpocon(c, float(np.abs(A).sum(axis=0).max()))
    if info != 0 or not rcond > 1e-14:
        return None
    inv, info = lapack.dpotri(c, lower=0)
    if info != 0:
        return None
    # the upper triangle mirrored, as np.triu(inv) + np.triu(inv, 1).T gives it (C order;
    # "+ 0.0" as the sum with the other triangle's zeros), with the triangle's mask made
    # once per size (PERF: np.triu builds it at each call)
    inv = np.where(_strictly_lower(inv.shape[0]), inv.T, inv)
    inv += 0.0
    return inv if np.all(np.isfinite(inv)) else None


_LOWER = {}


def _strictly_lower(n):
    """The (read-only) mask of the entries below the diagonal of an n x n matrix."""
    mask = _LOWER.get(n)
    if mask is None:
        mask = np.tri(n, n, -1, dtype=bool)
        mask.flags.writeable = False
        if len(_LOWER) < 64:
            _LOWER[n] = mask
    return mask


def covariance(objective, coef, cov_type, *, scale=1.0, n_obs=None, drop=None, information=None):
    """Covariance of the packed coefficients at ``coef``.

    Parameters
    ----------
    objective : LinearObjective
    coef : ndarray
        Packed fitted coefficients.
    cov_type : {"nonrobust", "HC0", "HC1"}
    scale : float, default=1.0
        Multiplies the ``"nonrobust"`` covariance (dispersion).
    n_obs : float or None
        Number of observations for HC1 (default: the weight sum).
    drop : ndarray of bool or None
        Packed entries to remove before inverting (a reference class whose
        coefficients are fixed at 0).
    information : ndarray or None
        The summed curvature ``A`` to use instead of the data Hessian (a
        kernel-smoothed one for a loss with a kink, e.g. the hinge).

    Returns
    -------
    cov : ndarray of shape (k, k)
        Over the kept entries, in packed order.
    """
    from ._solvers import quiet_blas

    # (one BLAS thread for a small information matrix: see quiet_blas)
    with quiet_blas(objective):
        keep = None if drop is None else ~np.asarray(drop, dtype=bool)
        A = objective.data_hessian(coef) if information is None else information
        if keep is not None:
            A = A[np.ix_(keep, keep)]
        if not np.all(np.isfinite(A)):
            from ._solvers import _overflow_error

            raise _overflow_error(objective, "information matrix (for the covariance)")
        Ainv = _inv(A)
        if cov_type == "nonrobust":
            cov = scale * Ainv
        elif cov_type in ("HC0", "HC1"):
            B = _score_gram(objective, coef)
            if keep is not None:
                B = B[np.ix_(keep, keep)]
            cov = Ainv @ B @ Ainv
            if cov_type == "HC1":
                n = objective.weight_sum if n_obs is None else float(n_obs)
                k = coef.size if keep is None else int(keep.sum())
                if n <= k:
                    raise ValueError(f"HC1 needs more observations ({n:g}) than coefficients ({k}).")
                cov *= n / (n - k)
        else:
            raise ValueError(f"cov_type must be one of 'nonrobust', 'HC0', 'HC1'; got {cov_type!r}.")
        return 0.5 * (cov + cov.T)


def _score_gram(objective, coef):
    """``B = sum_i s_i g_i g_i^T`` over the per-sample gradients ``g_i`` of the
    packed coefficients.  One output: ``g_i = l'_i x~_i``, so ``B`` is the weighted
    Gram matrix of ``x~`` (no n x k matrix of scores is formed; X may be sparse)."""
    if hasattr(objective, "score_gram"):  # (a dask objective reduces B block-wise on the workers)
        return objective.score_gram(coef)
    if objective.n_outputs == 1:
        from ._objective import _at

        last = getattr(objective, "_last_grad", None)
        if objective.sample_weight is None and _at(last, coef):
            d = last[1]  # (the per-sample gradients of the last pass, at this point: no new pass)
        else:
            raw = objective.raw_prediction(coef)
            d = np.asarray(objective._lossfn.gradient(objective.y, raw), dtype=np.float64)
        s = np.ones(d.size) if objective.sample_weight is None else np.asarray(objective.sample_weight,
                                                                               dtype=np.float64)
        return objective._gram(s * d * d, 0.0) * objective.weight_sum
    S, s = objective.scores(coef)
    return (S * s[:, None]).T @ S


def warn_penalised_inference(stacklevel):
    """The one warning of every MLE estimator whose standard errors come from a
    penalised fit (``stacklevel`` counted from the caller of this function)."""
    warnings.warn(
        "The standard errors of a penalised fit ignore the penalty: they are those of the "
        "unpenalised likelihood at the penalised estimate (the shrinkage bias is not "
        "accounted for). Use penalty=None for valid inference.",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def wald(params, cov, alpha=0.05):
    """Wald table columns: ``coef, std_err, z, p_value, ci_low, ci_high``."""
    if not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
    params = np.asarray(params, dtype=np.float64)
    var = np.diag(cov).copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.where(var >= 0, var, np.nan))
        z = params / se
    from scipy.special import ndtr, ndtri

    p = 2.0 * ndtr(-np.abs(z))
    q = float(ndtri(1.0 - alpha / 2.0))
    return {
        "coef": params,
        "std_err": se,
        "z": z,
        "p_value": p,
        "ci_low": params - q * se,
        "ci_high": params + q * se,
    }


def information_criteria(loglik, n_params, n_obs):
    """``(aic, bic)`` from a log-likelihood."""
    if loglik is None:
        return None, None
    return -2.0 * loglik + 2.0 * n_params, -2.0 * loglik + np.log(n_obs) * n_params


def label_intervals(estimator, ci, alpha):
    """``conf_int``'s answer: a DataFrame labelled with ``param_names_`` and the
    summary's bound columns when the input had feature names (as ``summary()``
    is), else the ``(n_params, 2)`` array."""
    if not hasattr(estimator, "feature_names_in_"):
        return ci
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return ci
    return pd.DataFrame(ci, index=pd.Index(list(estimator.param_names_), name="parameter"),
                        columns=[f"[{alpha / 2:.3g}", f"{1 - alpha / 2:.3g}]"])


def summary_table(names, params, cov, alpha=0.05, info=None):
    """The coefficient table.

    Returns a pandas DataFrame (columns ``coef``, ``std err``, ``z``,
    ``P>|z|``, ``[alpha/2``, ``1-alpha/2]``; ``info`` in ``df.attrs["info"]``)
    when pandas is installed, else a :class:`SummaryText` (a ``str``).
    """
    w = wald(params, cov, alpha)
    lo_name = f"[{alpha / 2:.3g}"
    hi_name = f"{1 - alpha / 2:.3g}]"
    columns = {
        "coef": w["coef"],
        "std err": w["std_err"],
        "z": w["z"],
        "P>|z|": w["p_value"],
        lo_name: w["ci_low"],
        hi_name: w["ci_high"],
    }
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return SummaryText(_text_table(names, columns, info))
    df = _summary_frame_type()(columns, index=pd.Index(list(names), name="parameter"))
    df.attrs["info"] = dict(info or {})
    return df


_LABELS = {"model": "Model", "loss": "Loss", "n_obs": "No. observations", "loglik": "Log-likelihood",
           "aic": "AIC", "bic": "BIC", "cov_type": "Covariance type", "converged": "Converged",
           "df_resid": "Df residuals", "multi_class": "Multi-class", "penalty": "Penalty",
           "solver": "Solver", "scale": "Scale", "dispersion": "Dispersion"}


def summary_header(info, width=78):
    """A statsmodels-style header: the model's description in two columns
    between rules."""
    def fmt(value):
        if isinstance(value, (float, np.floating)):
            return f"{value:.6g}"
        return str(value)

    items = [(_LABELS.get(k, str(k).replace("_", " ").capitalize()), fmt(v))
             for k, v in (info or {}).items() if k != "note"]
    title = f"{info.get('model', 'Model')} results" if info else "Results"
    lines = [title.center(width), "=" * width]
    half = (len(items) + 1) // 2
    left, right = items[:half], items[half:]
    lw = max((len(k) + len(v) for k, v in left), default=0) + 4
    for i, (k, v) in enumerate(left):
        row = f"{k + ':':<{lw - len(v)}}{v}"
        if i < len(right):
            rk, rv = right[i]
            row = f"{row}    {rk + ':':<{max(width - len(row) - 4 - len(rv), len(rk) + 2)}}{rv}"
        lines.append(row)
    if info and info.get("note"):
        lines.append(textwrap.fill("Note: " + str(info["note"]), width))
    lines.append("=" * width)
    return "\n".join(lines)


_SUMMARY_FRAME = []


def _summary_frame_type():
    """The DataFrame subclass of ``summary()``: prints the header and the whole
    table (never cut by pandas' display width); any operation on it gives a
    plain DataFrame."""
    if not _SUMMARY_FRAME:
        import pandas as pd

        class SummaryFrame(pd.DataFrame):
            @property
            def _constructor(self):
                return pd.DataFrame

            def __repr__(self):
                table = pd.DataFrame(self).to_string(float_format=lambda v: f"{v:.4f}")
                return summary_header(self.attrs.get("info")) + "\n" + table

            __str__ = __repr__

        SummaryFrame.__module__ = __name__
        SummaryFrame.__qualname__ = "SummaryFrame"
        _SUMMARY_FRAME.append(SummaryFrame)
    return _SUMMARY_FRAME[0]


def rename_columns(table, mapping):
    """``table`` with renamed columns, still a summary (header and all)."""
    out = _summary_frame_type()(table.rename(columns=mapping))
    out.attrs = dict(table.attrs)
    return out


def __getattr__(name):  # (unpickling a summary in a fresh process)
    if name == "SummaryFrame":
        return _summary_frame_type()
    raise AttributeError(name)


def _text_table(names, columns, info):
    lines = []
    if info:
        width = max(len(str(k)) for k in info)
        for k, v in info.items():
            lines.append(f"{str(k):<{width}}  {v}")
        lines.append("")
    header = ["parameter", *columns]
    rows = []
    for i, name in enumerate(names):
        rows.append([str(name)] + [f"{columns[c][i]:.4g}" for c in columns])
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)] if rows else [len(h) for h in header]
    fmt = "  ".join("{:>%d}" % w for w in widths)
    lines.append(fmt.format(*header))
    lines.append(fmt.format(*("-" * w for w in widths)))
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines)


class SummaryText(str):
    """A text summary (when pandas is not installed); prints as a table."""

    def __repr__(self):
        return str(self)
