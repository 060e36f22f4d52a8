"""Regression inference of a dask fit: scale, log-likelihood and covariance from block sums.

The conventions are those of :mod:`skloss.linear_model._linear_inference` (R's
``glm`` for the GLM deviances, the sandwich for the other M-estimators): every
quantity there is a weighted Gram matrix ``Xa^T diag(w) Xa`` of a per-sample
weight ``w(y, raw, s)`` or a weighted sum, so each is a sum over row blocks,
computed on the workers.  The maximum-likelihood scale is a one-dimensional
maximisation of the summed log-likelihood (the likelihood's own ``loglik`` on
each block), evaluated on a grid of scales per round trip.
"""

import numpy as np

from skloss.linear_model._inference import warn_penalised_inference

__all__ = ["dask_mle_scale", "regression_inference_attrs"]

_GRID = 21


def _block_logliks(obj, coef, args):
    lik, scales = args
    raw = obj.raw_prediction(coef)
    out = np.empty(len(scales))
    with np.errstate(all="ignore"):
        for i, s in enumerate(scales):
            try:
                out[i] = float(lik.loglik(obj.y, raw, s, obj.sample_weight))
            except (ValueError, FloatingPointError, OverflowError):
                out[i] = -np.inf
    return out


def dask_mle_scale(obj, coef, loss):
    """The maximum-likelihood scale of ``loss``'s likelihood at ``coef`` (None when it
    has none), to about 1e-9 relative: the in-memory estimate on a strided subsample
    brackets it, then grid refinement of the summed log-likelihood in ``log(scale)``
    (21 scales per round trip, ten times narrower each time) and a final parabola."""
    from skloss.linear_model._scale import mle_scale

    try:
        lik = loss.likelihood
    except Exception:
        return None
    if lik is None or not getattr(lik, "has_scale", False):
        return None
    sub = obj.subsample(20000)
    if hasattr(sub, "block_sum"):  # (still a distributed objective: no in-memory rows)
        return None
    s0 = mle_scale(loss, sub.y, sub.raw_prediction(coef), sub.sample_weight)
    if s0 is None or not s0 > 0:
        return None
    center, half = np.log(s0), 3.0
    best = None
    for _ in range(12):
        t = center + np.linspace(-half, half, _GRID)
        values = np.asarray(obj.block_sum(_block_logliks, coef, (lik, np.exp(t))), dtype=np.float64)
        if not np.any(np.isfinite(values)):
            return None
        values = np.where(np.isfinite(values), values, -np.inf)
        i = int(np.argmax(values))
        best = t[i]
        step = t[1] - t[0]
        if 0 < i < _GRID - 1:
            # the vertex of the parabola through the best point and its neighbours
            a, b, c = values[i - 1], values[i], values[i + 1]
            den = a - 2.0 * b + c
            if den < 0:
                best = t[i] + 0.5 * step * (a - c) / den
            if step < 1e-5:
                break
            center, half = best, step
        else:
            center = best  # (the edge of the bracket: move it)
    value = float(np.exp(best))
    return value if np.isfinite(value) else None


# ------------------------------------------------------------------ block sums
def _glm_parts(obj, coef, args):
    """Gram matrices and sums of the GLM covariance on one block."""
    from skloss.linear_model._linear_inference import _dmu_deta, glm_power

    loss, = args
    power = glm_power(loss)
    raw = np.asarray(obj.raw_prediction(coef), dtype=np.float64)
    y = np.asarray(obj.y, dtype=np.float64)
    s = np.ones(y.size) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64)
    mu = np.asarray(loss.inverse_link(raw), dtype=np.float64)
    dmu = _dmu_deta(loss, raw)
    V = np.ones_like(mu) if power == 0 else mu**power
    W = s * dmu * dmu / V
    u = (y - mu) * dmu / V
    ws = obj.weight_sum
    return (obj._gram(W, 0.0) * ws, obj._gram(s * u * u, 0.0) * ws, float(s @ ((y - mu) ** 2 / V)))


def _m_parts(obj, coef, args):
    loss, = args
    raw = obj.raw_prediction(coef)
    psi, dpsi = loss.gradient_hessian(obj.y, raw)
    psi = np.asarray(psi, dtype=np.float64)
    dpsi = np.asarray(dpsi, dtype=np.float64)
    s = np.ones(psi.size) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64)
    ws = obj.weight_sum
    return (obj._gram(s * dpsi, 0.0) * ws, obj._gram(s * psi * psi, 0.0) * ws,
            float(s @ (psi * psi)), float(s @ dpsi))


def _inv_psd(G):
    """Inverse of a Gram matrix: Cholesky of the equilibrated matrix when it is well
    conditioned, else the equilibrated (pseudo-)inverse with the in-memory warning."""
    import scipy.linalg as la

    from skloss.linear_model._linear_inference import _inv

    D = np.sqrt(np.abs(np.diag(G)))
    D[D == 0] = 1.0
    Gs = G / D[:, None] / D[None, :]
    try:
        c = la.cho_factor(Gs, check_finite=False)
        diag = np.abs(np.diag(c[0]))
        if diag.min() > 0 and (diag.max() / diag.min()) ** 2 < 1e10:
            return la.cho_solve(c, np.eye(G.shape[0]), check_finite=False) / D[:, None] / D[None, :]
    except la.LinAlgError:
        pass
    return _inv(G)


def _inference_parts(obj, coef, args):
    """One block's log-likelihood (nan when the likelihood cannot give it; 0 when
    not asked) followed by its covariance pieces (``kind`` "glm" or "m"; none for
    None): the inference at the optimum in one pass."""
    lik, scale, kind, loss = args
    loglik = 0.0
    if lik is not None:
        try:
            with np.errstate(all="ignore"):
                from skloss._dask._linear import _block_loglik

                loglik = _block_loglik(obj, coef, (lik, scale))
        except (NotImplementedError, ValueError):
            loglik = np.nan
    if kind is None:
        return (loglik,)
    with np.errstate(all="ignore"):
        parts = _glm_parts(obj, coef, (loss,)) if kind == "glm" else _m_parts(obj, coef, (loss,))
    return (loglik,) + tuple(parts)


def _covariance(kind, cov_type, obj, coef, loss, parts=None):
    from skloss.linear_model._linear_inference import _hc1, _inv, glm_power

    n = obj.weight_sum
    k = obj.n_coef
    df_resid = n - k
    info = {"df_resid": df_resid, "use_t": False, "dispersion": None}
    if kind == "glm":
        GW, Gu, pearson = parts if parts is not None else obj.block_sum(_glm_parts, coef, (loss,))
        bread = _inv_psd(GW)
        if cov_type == "nonrobust":
            if glm_power(loss) == 1:
                phi = 1.0
            else:
                if df_resid <= 0:
                    raise ValueError(f"The dispersion needs more observations ({n:g}) than coefficients ({k}); "
                                     "use cov_type=None.")
                phi = float(pearson) / df_resid
                info["use_t"] = True
            info["dispersion"] = phi
            cov = phi * bread
        else:
            cov = _hc1(bread @ Gu @ bread, n, k, cov_type)
    else:
        A, B, psi2, dpsi = parts if parts is not None else obj.block_sum(_m_parts, coef, (loss,))
        A_inv = _inv(A)
        if cov_type == "nonrobust":
            if df_resid <= 0:
                raise ValueError(f"cov_type='nonrobust' needs more observations ({n:g}) than coefficients ({k}).")
            phi = (float(psi2) / df_resid) / (float(dpsi) / n)
            info["dispersion"] = phi
            cov = phi * A_inv
        else:
            cov = _hc1(A_inv @ B @ A_inv, n, k, cov_type)
    return 0.5 * (cov + cov.T), info


def regression_inference_attrs(est, obj, coef, loss, scale, penalised, feature_names):
    """``loglik_``, ``aic_``, ``bic_`` and the covariance attributes of
    :class:`MLELinearRegression`, as its in-memory fit defines them.  The summed
    log-likelihood and the covariance's Gram matrices are reduced in one pass."""
    out = {"loglik_": None, "aic_": None, "bic_": None}
    try:
        lik = loss.likelihood
    except Exception:
        lik = None
    n_obs = obj.weight_sum
    p = obj.n_features
    # what the one pass at the optimum reduces: the log-likelihood (if any) ...
    lik_arg, k_lik = None, None
    if lik is not None:
        has_scale = bool(getattr(lik, "has_scale", False))
        k_lik = p + int(est.fit_intercept) + int(has_scale)
        if not (has_scale and scale is None):
            if has_scale and scale == 0.0:
                out.update(est._loglik_attrs(np.inf, k_lik, n_obs))
            else:
                lik_arg = (lik, scale if has_scale else None)
    # ... and the covariance's pieces (if a covariance is asked and defined)
    ct = est.cov_type
    kind = est._cov_kind(loss) if ct is not None else None
    k = p + int(est.fit_intercept)
    cov_kind = kind if (kind in ("glm", "m") and not (ct == "auto" and n_obs <= k)) else None
    parts = None
    if lik_arg is not None or cov_kind is not None:
        got = obj.block_sum(_inference_parts, coef,
                            (None if lik_arg is None else lik_arg[0], None if lik_arg is None else lik_arg[1],
                             cov_kind, loss))
        got = got if isinstance(got, tuple) else (got,)
        if lik_arg is not None and not np.isnan(got[0]):
            out.update(est._loglik_attrs(float(got[0]), k_lik, n_obs))
        parts = got[1:] if cov_kind is not None else None
    k = p + int(est.fit_intercept)
    coef_names = (["intercept"] if est.fit_intercept else []) + [str(s) for s in feature_names]
    out.update({"cov_type_": None, "covariance_": None, "bse_": None, "dispersion_": None,
                "df_resid_": n_obs - k, "use_t_": False, "param_names_": coef_names,
                "_penalised": bool(penalised)})
    if ct is None:
        return out
    auto = ct == "auto"
    if kind not in ("glm", "m"):
        if auto:
            return out
        raise ValueError(f"cov_type={ct!r}: loss {loss.name!r} has no covariance convention on a dask "
                         "array; use cov_type=None.")
    if auto:
        ct = "nonrobust" if kind == "glm" else "HC0"
        if n_obs <= k:
            return out
    if penalised and not auto:
        warn_penalised_inference(stacklevel=4)
    try:
        with np.errstate(all="ignore"):
            cov, info = _covariance(kind, ct, obj, coef, loss, parts)
    except (ValueError, np.linalg.LinAlgError):
        if auto:
            return out
        raise
    if est.fit_intercept:
        order = np.r_[k - 1, np.arange(k - 1)]
        cov = cov[np.ix_(order, order)]
    var = np.diag(cov)
    with np.errstate(invalid="ignore"):
        bse = np.sqrt(np.where(var >= 0, var, np.nan))
    out.update(cov_type_=ct, covariance_=cov, bse_=bse, dispersion_=info.get("dispersion"),
               use_t_=bool(info.get("use_t")))
    return out
