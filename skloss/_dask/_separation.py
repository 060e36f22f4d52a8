"""Separation of an unpenalised logistic-type fit on a dask array.

The in-memory check (:func:`skloss.linear_model._logistic._detect_separation`)
needs every row; here the same decisions are taken from block-wise reductions,
so the rows stay on the workers:

* one pass (one round trip) computes, over the rows with positive weight, the
  smallest per-sample loss, the smallest margin ``z_i f_i`` and, for the
  solver's last step ``d``, the smallest and the largest ``|z_i x_i.d|``
  (whether the step raises every margin: a separating direction);
* a multinomial problem under that suspicion is tested, as in memory, for a
  class that a threshold on one feature separates from the others (each class's
  smallest and largest value of each feature, reduced block by block: one round
  trip);
* a binary problem of at most 2e6 entries (the size the in-memory check decides
  exactly) is confirmed as in memory, by the linear programme of Konis (2007) on
  the rows fetched to the client -- only when the pass above raised the
  suspicion (some fitted probability within 1e-6 of 0 or 1) and did not already
  find a complete separation;
* a larger problem is decided as in memory for that size: by the last step
  (negligible at an existing optimum; of order one, raising every margin, along
  a separating direction), or by the Newton step at the end point when the
  solver reports none (value, gradient and Hessian in one pass).

The thresholds are the in-memory ones, so a dask fit announces separation
exactly when the in-memory fit of the same data would.
"""

import numpy as np

__all__ = ["detect_separation"]

# binary problems of up to this many entries n * (p + 1) are decided exactly (the in-memory rule)
_EXACT_ENTRIES = 2e6


def _block_margins(obj, coef, step):
    """``[min loss, min margin, min margin change, -max |margin change|]`` over the
    block's rows with positive weight (``inf`` where not asked), or None."""
    raw = np.asarray(obj.raw_prediction(coef), dtype=np.float64)
    per = np.asarray(obj._lossfn.loss(obj.y, raw), dtype=np.float64)
    keep = None if obj.sample_weight is None else np.asarray(obj.sample_weight) > 0
    if keep is not None:
        if not keep.any():
            return None
        per = per[keep]
    out = np.full(4, np.inf)
    out[0] = float(np.min(per))
    if obj.n_outputs == 1:
        z = 2.0 * np.asarray(obj.y, dtype=np.float64) - 1.0
        margins = z * raw
        out[1] = float(np.min(margins if keep is None else margins[keep]))
        if step is not None:
            w, b = obj.split(np.asarray(step, dtype=np.float64))
            change = np.asarray(obj.X @ w.astype(obj.dtype, copy=False), dtype=np.float64).ravel()
            if obj.fit_intercept:
                change += float(np.ravel(b)[0])
            dm = z * change
            if keep is not None:
                dm = dm[keep]
            out[2] = float(np.min(dm))
            out[3] = -float(np.max(np.abs(dm)))
    return out


def _block_class_ranges(obj, coef, extra):
    """The block's :func:`~skloss.linear_model._logistic.class_ranges` (dense blocks)."""
    from skloss.linear_model._logistic import class_ranges

    return None if obj.sparse or obj.n_samples == 0 else class_ranges(obj)


def _raises_every_margin(stats):
    min_dm, max_dm = stats[2], -stats[3]
    return bool(np.isfinite(min_dm)) and min_dm >= -1e-4 * max(max_dm, 1e-300)


def _exact_lp(obj):
    """The Konis linear programme on the rows, fetched to the client (small data only)."""
    import dask

    from skloss.linear_model._logistic import _konis_lp

    X, y, sw = dask.compute(obj.X, obj.y, obj.sample_weight)

    class _Rows:  # (what _konis_lp reads)
        pass

    rows = _Rows()
    rows.X = np.asarray(X, dtype=np.float64)
    rows.sample_weight = None if sw is None else np.asarray(sw)
    rows.fit_intercept = obj.fit_intercept
    z = 2.0 * np.asarray(y, dtype=np.float64) - 1.0
    return _konis_lp(rows, z)


def certify_separation(obj, loss):
    """Before the solve: the in-memory ``_certify_separation`` on a dask objective
    (the class ranges reduced block by block), or ""."""
    if not (obj.n_outputs > 1 and loss.multiclass_shift_invariant and obj.n_features > 0):
        return ""
    from skloss.linear_model._logistic import class_threshold_certificate

    ranges = obj.block_reduce(_block_class_ranges, np.zeros(obj.n_coef))
    return "" if ranges is None else class_threshold_certificate(np.asarray(ranges), obj.fit_intercept)


def detect_separation(obj, coef, loss, fixed=None, last_step=None, classes_checked=False):
    """A sentence describing the separation found at ``coef`` on a
    :class:`~skloss._dask._objective.DaskLinearObjective`, or "" if none (the
    in-memory decision, from block-wise reductions)."""
    coef = np.asarray(coef, dtype=np.float64)
    big = 1e-3 * max(1.0, float(np.max(np.abs(coef)))) if coef.size else 1e-3
    binary = obj.n_outputs == 1
    exact = binary and obj.n_samples * (obj.n_features + 1) <= _EXACT_ENTRIES
    step = None
    if not exact and last_step is not None:
        if np.max(np.abs(last_step), initial=0.0) <= big:
            return ""  # (a negligible last step: the optimum exists; no pass over X needed)
        step = np.asarray(last_step, dtype=np.float64) if binary else None
    stats = np.asarray(obj.block_reduce(_block_margins, coef, step), dtype=np.float64)
    if step is not None and not _raises_every_margin(stats):
        return ""  # (not a separating direction: e.g. a move along collinear features)
    if not stats[0] <= 1e-6:
        return ""
    if not classes_checked:
        found = certify_separation(obj, loss)
        if found:
            return found
    if binary:
        if stats[1] > 0:
            return "a hyperplane separates the two classes completely"
        if exact:
            return _exact_lp(obj)
    if not loss.has_hessian or obj.n_coef > 3000:
        return ""
    if last_step is None:  # (a given last step passed its tests above)
        keep = np.ones(coef.size, dtype=bool) if fixed is None else ~np.asarray(fixed, dtype=bool)
        f, g, H = obj.map_blocks_reduce("vg_hessian", coef)  # (one pass: gradient and Hessian)
        scale = 1.0 / obj.weight_sum
        g = obj._penalise_grad(np.asarray(g, dtype=np.float64) * scale, coef)
        H = obj._penalise_hess(np.asarray(H, dtype=np.float64) * scale)[np.ix_(keep, keep)]
        vals, vecs = np.linalg.eigh(H)  # (the null space of a collinear design is ignored)
        pos = vals > 1e-10 * max(float(vals.max()), 1e-300)
        newton = np.zeros(coef.size)
        newton[keep] = -(vecs[:, pos] @ ((vecs[:, pos].T @ g[keep]) / vals[pos]))
        if np.max(np.abs(newton)) <= big:
            return ""
        if binary and not _raises_every_margin(np.asarray(obj.block_reduce(_block_margins, coef, newton))):
            return ""
    return "some samples are fitted with probability 1 and the coefficients keep growing"
