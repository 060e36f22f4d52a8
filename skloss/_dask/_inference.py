"""Regression inference of a dask fit: scale, log-likelihood and covariance from block sums.

The conventions are those of :mod:`skloss.linear_model._linear_inference` (R's
``glm`` for the GLM deviances, the sandwich for the other M-estimators): every
quantity there is a weighted Gram matrix ``Xa^T diag(w) Xa`` of a per-sample
weight ``w(y, raw, s)`` or a weighted sum, so each is a sum over row blocks,
computed on the workers.  The maximum-likelihood scale is a one-dimensional
maximisation of the summed log-likelihood (the likelihood's own ``loglik`` on
each block), evaluated at 7 scales per round trip (two round trips as a rule).
"""

import numpy as np

from skloss.linear_model._inference import warn_penalised_inference

__all__ = ["dask_mle_scale", "inference_also", "regression_inference_attrs"]

_POINTS = 7


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


def dask_mle_scale(obj, coef, loss, with_loglik=False):
    """The maximum-likelihood scale of ``loss``'s likelihood at ``coef`` (None when it
    has none), to about 1e-9 relative, in two round trips as a rule.

    The in-memory estimate on the strided subsample brackets it; each round trip
    evaluates the summed log-likelihood (the likelihood's own ``loglik`` on every
    block) at 7 points in ``t = log(scale)`` and a least-squares cubic through them
    gives the maximiser: spacing 0.1 first (the subsample's estimate is within a few
    per cent), then 1e-3 around the first answer (the cubic's error there is of
    order (1e-3)^3 times the first error).  A maximum at the edge of the points
    moves them (one more round trip).

    ``with_loglik=True`` returns ``(scale, loglik)``, the summed log-likelihood at
    the scale read from the last cubic (its error, of order ``n * 1e-12``
    relative, is far below the 1e-6 the fits are held to), so the inference needs
    no further pass for it."""
    from skloss.linear_model._scale import mle_scale

    none = (None, None) if with_loglik else None
    try:
        lik = loss.likelihood
    except Exception:
        return none
    if lik is None or not getattr(lik, "has_scale", False):
        return none
    sub = obj.subsample(20000)
    if hasattr(sub, "block_sum"):  # (still a distributed objective: no in-memory rows)
        return none
    s0 = mle_scale(loss, sub.y, sub.raw_prediction(coef), sub.sample_weight)
    if s0 is None or not s0 > 0:
        return none
    scale, loglik = scale_search(
        [s0], lambda scales: [np.asarray(obj.block_sum(_block_logliks, coef, (lik, scales[0])), dtype=np.float64)])[0]
    if scale is None:
        return none
    return (scale, loglik) if with_loglik else scale


def scale_search(starts, evaluate):
    """The maximisers of several one-dimensional log-likelihoods in ``log(scale)``, in
    lockstep (see :func:`dask_mle_scale`): ``starts`` the first guesses (None: skip);
    ``evaluate(scales)`` returns, in one round trip, each active problem's summed
    log-likelihood at its array of scales (``scales`` has None for the others).
    Returns a list of ``(scale, loglik)`` (``(None, None)`` where none was found)."""
    offsets = np.arange(-(_POINTS // 2), _POINTS // 2 + 1, dtype=np.float64)
    state = [None if s0 is None or not s0 > 0 else {"center": float(np.log(s0)), "h": 0.1, "best": None,
                                                    "loglik": None, "done": False} for s0 in starts]
    for _ in range(16):
        active = [st is not None and not st["done"] for st in state]
        if not any(active):
            break
        ts = [st["center"] + st["h"] * offsets if a else None for st, a in zip(state, active)]
        got = evaluate([None if t is None else np.exp(t) for t in ts])
        for j, (st, t) in enumerate(zip(state, ts)):
            if t is None:
                continue
            values = np.asarray(got[j], dtype=np.float64)
            ok = np.isfinite(values)
            if not np.any(ok):
                state[j] = None
                continue
            i = int(np.argmax(np.where(ok, values, -np.inf)))
            if i in (0, _POINTS - 1) or ok.sum() < 5:
                st["center"] = t[i]  # (the edge of the points, or too few finite values: move them)
                st["h"] = min(0.1, 10.0 * st["h"])
                continue
            x = (t[ok] - st["center"]) / st["h"]  # (the cubic in units of the spacing: well conditioned)
            cubic = np.polyfit(x, values[ok], 3)
            d1 = np.polyder(cubic)
            roots = np.roots(d1) if abs(d1[0]) > 0 else np.roots(d1[1:])
            roots = [float(r.real) for r in np.atleast_1d(roots)
                     if abs(r.imag) < 1e-12 and np.polyval(np.polyder(d1), r.real) < 0
                     and abs(r.real) <= _POINTS // 2]
            if roots:
                x_best = min(roots, key=lambda r: abs(r - (i - _POINTS // 2)))
                st["best"], st["loglik"] = st["center"] + st["h"] * x_best, float(np.polyval(cubic, x_best))
            else:  # (not cubic-like here: the best point, and narrower points around it)
                st["best"], st["loglik"] = float(t[i]), float(values[i])
            if st["h"] <= 1.5e-3:
                st["done"] = True
            else:
                st["center"], st["h"] = st["best"], 1e-3
    out = []
    for st in state:
        value = None if st is None or st["best"] is None else float(np.exp(st["best"]))
        out.append((value, st["loglik"]) if value is not None and np.isfinite(value) else (None, None))
    return out


# ------------------------------------------------------------------ block sums
def _raw(obj, coef):
    """The block's raw prediction at ``coef``, computed once per block task."""
    key = np.ascontiguousarray(coef, dtype=np.float64).tobytes()
    held = getattr(obj, "_raw_at", None)
    if held is None or held[0] != key:
        held = (key, np.asarray(obj.raw_prediction(coef), dtype=np.float64))
        obj._raw_at = held
    return held[1]


def _pass_hessian(obj):
    # the block's summed data Hessian when a Newton pass computed it in this task
    # (see _objective._run_block), else None
    return getattr(obj, "pass_hessian", None)


def _glm_parts(obj, coef, args):
    """Gram matrices and sums of the GLM covariance on one block: the GLM weights'
    Gram, the scores' Gram (``robust`` only: the sandwich) and the Pearson sum (only
    where the dispersion needs it: non-robust, variance power other than 1).

    ``args``: ``(loss, robust)`` or ``(loss, robust, ratio)``.  The GLM weights'
    Gram is the block's data Hessian from the same pass times ``c`` where the GLM
    weight is ``c`` times the loss's curvature (a canonical link, e.g. Poisson):
    ``ratio`` is that ``c`` when the client has checked it (:func:`glm_weight_ratio`),
    else it is checked here row by row.  With ``ratio`` known and nothing else
    wanted, the block's rows are not read at all."""
    from skloss.linear_model._linear_inference import _dmu_deta, glm_power

    loss, robust = args[:2]
    ratio = args[2] if len(args) > 2 else None
    power = glm_power(loss)
    H = _pass_hessian(obj)
    pearson_wanted = not robust and power != 1
    if ratio is not None and H is not None and not robust and not pearson_wanted:
        return (ratio * H, 0.0, 0.0)
    raw = _raw(obj, coef)
    y = np.asarray(obj.y, dtype=np.float64)
    s = np.ones(y.size) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64)
    mu = np.asarray(loss.inverse_link(raw), dtype=np.float64)
    dmu = _dmu_deta(loss, raw)
    V = np.ones_like(mu) if power == 0 else mu**power
    W = s * dmu * dmu / V
    u = (y - mu) * dmu / V
    ws = obj.weight_sum
    GW = None
    if H is not None and ratio is not None:
        GW = ratio * H
    elif H is not None:  # (the loss's curvature a constant multiple of the GLM weight)
        sh = s * np.asarray(loss.hessian(obj.y, raw), dtype=np.float64)
        total = float(np.sum(sh))
        c = float(np.sum(W)) / total if total > 0 else 0.0
        if c > 0 and np.allclose(W, c * sh, rtol=1e-12, atol=0.0):
            GW = c * H
    if GW is None:
        GW = obj._gram(W, 0.0) * ws
    Gu = obj._gram(s * u * u, 0.0) * ws if robust else 0.0
    return (GW, Gu, float(s @ ((y - mu) ** 2 / V)) if pearson_wanted else 0.0)


def glm_weight_ratio(loss, y):
    """``c`` such that the GLM weight ``(dmu/deta)^2 / V(mu)`` equals ``c`` times the
    loss's curvature, checked on the targets ``y`` (the client's subsample) at
    spread raw scores to 1e-12; None where it does not hold (or cannot be checked).
    Where it holds, a Newton pass's Hessian is the GLM weights' Gram (no second
    Gram on the workers, no per-row check)."""
    from skloss.linear_model._linear_inference import _dmu_deta, glm_power

    y = np.asarray(y, dtype=np.float64).ravel()[:256]
    if y.size == 0:
        return None
    try:
        power = glm_power(loss)
        if power is None:
            return None
        raw = 3.0 * np.sin(1.0 + np.arange(y.size, dtype=np.float64))
        with np.errstate(all="ignore"):
            mu = np.asarray(loss.inverse_link(raw), dtype=np.float64)
            dmu = _dmu_deta(loss, raw)
            V = np.ones_like(mu) if power == 0 else mu**power
            W = dmu * dmu / V
            h = np.asarray(loss.hessian(y, raw), dtype=np.float64)
    except (AttributeError, NotImplementedError, ValueError, TypeError):
        return None
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(h)) and np.all(h > 0)):
        return None
    c = float(np.median(W / h))
    if c > 0 and np.allclose(W, c * h, rtol=1e-12, atol=0.0):
        return c
    return None


def _m_parts(obj, coef, args):
    """The M-estimator's covariance pieces on one block: the Gram of the loss's
    curvature (the block's data Hessian, from the same pass when it computed it),
    the scores' Gram (``robust`` only) and the two sums of the dispersion."""
    loss, robust = args
    raw = _raw(obj, coef)
    psi, dpsi = loss.gradient_hessian(obj.y, raw)
    psi = np.asarray(psi, dtype=np.float64)
    dpsi = np.asarray(dpsi, dtype=np.float64)
    s = np.ones(psi.size) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64)
    ws = obj.weight_sum
    A = _pass_hessian(obj)
    if A is None:
        A = obj._gram(s * dpsi, 0.0) * ws
    B = obj._gram(s * psi * psi, 0.0) * ws if robust else 0.0
    return (A, B, float(s @ (psi * psi)), float(s @ dpsi))


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
    lik, scale, kind, loss, robust = args[:5]
    ratio = args[5] if len(args) > 5 else None
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
        parts = (_glm_parts(obj, coef, (loss, robust, ratio)) if kind == "glm"
                 else _m_parts(obj, coef, (loss, robust)))
    return (loglik,) + tuple(parts)


def _covariance(kind, cov_type, obj, coef, loss, parts=None):
    from skloss.linear_model._linear_inference import _hc1, _inv, glm_power

    n = obj.weight_sum
    k = obj.n_coef
    df_resid = n - k
    info = {"df_resid": df_resid, "use_t": False, "dispersion": None}
    if kind == "glm":
        GW, Gu, pearson = parts if parts is not None else obj.block_sum(_glm_parts, coef, (loss, cov_type != "nonrobust"))
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
        A, B, psi2, dpsi = parts if parts is not None else obj.block_sum(_m_parts, coef, (loss, cov_type != "nonrobust"))
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


def _plan(est, obj, loss, scale, scale_known):
    """What the pass at the optimum reduces: ``(lik_arg, k_lik, kind, cov_kind, ct)``
    (``lik_arg``: the likelihood and its scale, None when not wanted or not known yet;
    ``cov_kind``: the covariance's pieces wanted, None for none)."""
    try:
        lik = loss.likelihood
    except Exception:
        lik = None
    n_obs = obj.weight_sum
    p = obj.n_features
    lik_arg = k_lik = None
    if lik is not None:
        has_scale = bool(getattr(lik, "has_scale", False))
        k_lik = p + int(est.fit_intercept) + int(has_scale)
        if not has_scale:
            lik_arg = (lik, None)
        elif scale_known and scale is not None and scale != 0.0:
            lik_arg = (lik, scale)
    ct = est.cov_type
    kind = est._cov_kind(loss) if ct is not None else None
    k = p + int(est.fit_intercept)
    cov_kind = kind if (kind in ("glm", "m") and not (ct == "auto" and n_obs <= k)) else None
    if ct == "auto" and kind in ("glm", "m"):
        ct = "nonrobust" if kind == "glm" else "HC0"
    return lik_arg, k_lik, kind, cov_kind, ct


def inference_also(est, obj, loss):
    """The block reduction a regression fit attaches to its Newton passes
    (``obj.also``): the log-likelihood where it needs no scale and the covariance's
    pieces, so the pass that certifies convergence carries the inference too."""
    lik_arg, _, _, cov_kind, ct = _plan(est, obj, loss, None, False)
    if lik_arg is None and cov_kind is None:
        return None
    ratio = None
    sub = getattr(obj, "_big_sub", None)  # (the client's subsample: its targets for the check)
    if cov_kind == "glm" and sub is not None:
        ratio = glm_weight_ratio(loss, sub.y)
    return (_inference_parts, (None if lik_arg is None else lik_arg[0], None, cov_kind, loss,
                               ct not in (None, "nonrobust"), ratio))


def regression_inference_attrs(est, obj, coef, loss, scale, penalised, feature_names, loglik=None):
    """``loglik_``, ``aic_``, ``bic_`` and the covariance attributes of
    :class:`MLELinearRegression`, as its in-memory fit defines them.  The summed
    log-likelihood and the covariance's Gram matrices come from the Newton pass at
    ``coef`` when it carried them (``obj.also``), else from one pass; ``loglik``:
    the log-likelihood at ``scale`` already known (from the scale's search)."""
    out = {"loglik_": None, "aic_": None, "bic_": None}
    n_obs = obj.weight_sum
    p = obj.n_features
    lik_arg, k_lik, kind, cov_kind, ct_resolved = _plan(est, obj, loss, scale, True)
    if k_lik is not None and lik_arg is None and scale == 0.0:
        out.update(est._loglik_attrs(np.inf, k_lik, n_obs))
    if loglik is not None and lik_arg is not None:
        out.update(est._loglik_attrs(float(loglik), k_lik, n_obs))
        lik_arg = None
    robust = ct_resolved not in (None, "nonrobust")
    parts = None
    held = obj.also_value(coef) if getattr(obj, "also", None) is not None else None
    if held is not None:  # (what the last Newton pass reduced with the Hessian)
        h_lik, _, h_kind, _, h_robust = obj.also[1][:5]
        if lik_arg is not None and lik_arg[1] is None and h_lik is not None and not np.isnan(held[0]):
            out.update(est._loglik_attrs(float(held[0]), k_lik, n_obs))
            lik_arg = None
        if cov_kind is not None and h_kind == cov_kind and (h_robust or not robust):
            parts, cov_kind = held[1:], None
    if lik_arg is not None or cov_kind is not None:
        got = obj.block_sum(_inference_parts, coef,
                            (None if lik_arg is None else lik_arg[0], None if lik_arg is None else lik_arg[1],
                             cov_kind, loss, robust))
        got = got if isinstance(got, tuple) else (got,)
        if lik_arg is not None and not np.isnan(got[0]):
            out.update(est._loglik_attrs(float(got[0]), k_lik, n_obs))
        if cov_kind is not None:
            parts = got[1:]
    k = p + int(est.fit_intercept)
    coef_names = (["intercept"] if est.fit_intercept else []) + [str(s) for s in feature_names]
    out.update({"cov_type_": None, "covariance_": None, "bse_": None, "dispersion_": None,
                "df_resid_": n_obs - k, "use_t_": False, "param_names_": coef_names,
                "_penalised": bool(penalised)})
    ct = est.cov_type
    if ct is None:
        return out
    auto = ct == "auto"
    if kind not in ("glm", "m"):
        if auto:
            return out
        raise ValueError(f"cov_type={ct!r}: loss {loss.name!r} has no covariance convention on a dask "
                         "array; use cov_type=None.")
    if auto:
        ct = ct_resolved
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
