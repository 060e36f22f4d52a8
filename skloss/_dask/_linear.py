"""``fit`` of the MLE linear estimators on dask arrays.

Called from a small hook at the top of each estimator's ``fit`` when an input is
a dask collection.  The steps mirror the in-memory fits: checks (one pass on the
cluster), a start, the shared solver on a :class:`DaskLinearObjective`, then the
inference -- every quantity that needs the rows is a sum over blocks computed on
the workers; the client only ever holds vectors and matrices of the size of the
coefficients (and, for the start, an evenly strided subsample of a few MB).

Supported: every smooth loss of each estimator (``loss.is_smooth``) with the
penalties the in-memory solvers take (none, L2, L1, elastic net).  The
piecewise-linear losses (hinge, perceptron, absolute error, quantile,
epsilon-insensitive) are solved in memory by exact linear programmes that do
not decompose over row blocks, and ``student_t`` is a joint fit of the
coefficients and the scale from an exact least-absolute-deviations start: both
raise a ``ValueError`` naming what is supported.
"""

import functools

import numpy as np

from ._objective import DaskLinearObjective, subsample_rows, subsample_wanted
from ._utils import checked_compute, dask_rows, dask_vector

__all__ = ["fit_logistic", "fit_linear", "fit_distribution", "supported_losses"]

# rows of the strided subsample a start is computed on (in memory, a few MB)
_START_ROWS = 20000


def supported_losses(task):
    """Names of the losses a dask fit supports for ``task``."""
    from skloss.losses import available_losses, get_loss

    return [name for name in available_losses(task) if _smooth_fit(get_loss(name))]


def _joint_scale(loss):
    # (a likelihood whose scale is fitted jointly with the coefficients: Student-t)
    return bool(getattr(loss.likelihood, "joint_scale", False))


def _smooth_fit(loss):
    return bool(loss.is_smooth) and not _joint_scale(loss)


def _require_supported(est, loss, extra=""):
    if _smooth_fit(loss):
        return
    names = ", ".join(supported_losses(loss.task))
    if _joint_scale(loss):
        why = (f"loss {loss.name!r} is a joint fit of the coefficients and the scale from an exact "
               "least-absolute-deviations start, which needs the data in memory")
    else:
        why = (f"loss {loss.name!r} is not smooth (is_smooth=False): its exact solvers (linear "
               "programmes) do not decompose over the blocks of a dask array")
    raise ValueError(
        f"{type(est).__name__} on a dask array supports the smooth {loss.task} losses ({names}){extra}; "
        f"{why}. Fit it in memory (X.compute()) or choose a supported loss."
    )


def _encode_labels(yb, classes, dtype):
    return np.searchsorted(classes, yb).astype(dtype)


def _class_weights(yb, weights, dtype):
    return weights[yb.astype(np.intp)].astype(dtype)


def _block_targets(labels, swb, classes, dtype, cw, k, unit_weights):
    """A block's targets and weights from its raw labels (in the block task): class
    indices (``k`` None) or the indicator of class ``k`` (one-vs-rest), and the
    weights times the class weights ``cw`` (None: none; ``unit_weights``: no
    weights at all)."""
    idx = np.searchsorted(classes, np.asarray(labels).ravel())
    y = (idx if k is None else idx == k).astype(dtype)
    if unit_weights:
        return y, None
    s = np.ones(idx.size, dtype=dtype) if swb is None else np.asarray(swb, dtype=dtype).ravel()
    if cw is not None:
        s = s * cw[idx].astype(dtype)
    return y, s


def _validate_y_block(yb, loss):
    return np.asarray(loss.validate_y(yb), dtype=np.float64)


def _feature_names(est, names, p):
    if names is not None:
        return list(names)
    return [f"x{j}" for j in range(p)]


def _input_attrs(names, p):
    attrs = {"n_features_in_": int(p)}
    if names is not None:
        attrs["feature_names_in_"] = names
    return attrs


def _finish(est, attrs, names):
    if names is None and hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    for key, value in attrs.items():
        setattr(est, key, value)
    return est


def _data_checks(X, y=None, sw=None, off=None, extra=None):
    """Finiteness, weight checks (and any ``extra`` named reductions) in one pass;
    returns the computed values of ``extra``."""
    import dask.array as da

    checks = {"X": da.isfinite(X).all()}
    checks.update({f"extra:{k}": v for k, v in (extra or {}).items()})
    if y is not None and y.dtype.kind == "f":
        checks["y"] = da.isfinite(y).all()
    if sw is not None:
        checks["sw_finite"] = da.isfinite(sw).all()
        checks["sw_min"] = sw.min()
        checks["sw_sum"] = sw.sum(dtype=np.float64)
    if off is not None:
        checks["offset"] = da.isfinite(off).all()
    got = checked_compute(checks)
    if not got["X"]:
        raise ValueError("Input X contains NaN or infinity.")
    if not got.get("y", True):
        raise ValueError("Input y contains NaN or infinity.")
    if sw is not None:
        if not got["sw_finite"]:
            raise ValueError("sample_weight contains NaN or infinity.")
        if got["sw_min"] < 0:
            raise ValueError("Negative values in data passed to `sample_weight`.")
        if not got["sw_sum"] > 0:
            raise ValueError("sample_weight must have a positive sum.")
    if not got.get("offset", True):
        raise ValueError("offset contains NaN or infinity.")
    return {k[len("extra:"):]: v for k, v in got.items() if k.startswith("extra:")}


def _probe(obj, k_out):
    """A small in-memory objective on the first rows (shape questions, not fitting)."""
    from skloss.linear_model._objective import LinearObjective

    m = min(obj.n_samples, 20)
    X, y = (np.asarray(a) for a in _compute(obj.X[:m], obj.y[:m]))
    return LinearObjective(obj.loss, np.ascontiguousarray(X), y, fit_intercept=obj.fit_intercept,
                           n_outputs=k_out)


def _column_squares(X, cls, s, k):
    """``(k, p)`` float64: the (weighted) column sums of squares of each class
    (``cls``: the rows' class indices, None for one class), in one read of ``X``."""
    from skloss._kernels._gram import class_column_squares

    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    out = np.zeros((k, X.shape[1]))
    class_column_squares(X, np.empty(0, dtype=np.intp) if cls is None else cls,
                         np.empty(0) if s is None else s, out)
    return out


def _unique_inverse(y):
    """``np.unique(y, return_inverse=True)``, without a sort for numeric labels of at
    most two values (the binary case: two comparisons per row)."""
    if y.dtype.kind in "biuf" and y.size:
        lo, hi = y.min(), y.max()
        is_hi = y == hi
        if lo == hi or bool(np.all(is_hi | (y == lo))):
            labels = np.array([lo], dtype=y.dtype) if lo == hi else np.array([lo, hi], dtype=y.dtype)
            return labels, (np.zeros(y.size, dtype=np.intp) if lo == hi else is_hi.astype(np.intp))
    return np.unique(y, return_inverse=True)


def _label_block(Xb, yb, swb):
    """A block's classes with their counts, weight sums and (weighted) column sums
    of squares; finiteness of X and the weights' checks."""
    labels, inv = _unique_inverse(np.asarray(yb).ravel())
    k = labels.size
    counts = np.bincount(inv, minlength=k)
    X = np.asarray(Xb)
    s = None if swb is None else np.asarray(swb, dtype=np.float64).ravel()
    wsums = counts.astype(np.float64) if s is None else np.bincount(inv, weights=s, minlength=k)
    colsq = _column_squares(X, inv.astype(np.intp, copy=False).ravel(), s, k)
    finite = bool(np.isfinite(colsq).all()) or bool(np.isfinite(X).all())  # (squares may overflow)
    out = {"labels": labels, "counts": counts, "wsums": wsums, "colsq": colsq, "X_finite": finite}
    if s is not None:
        out["sw_finite"] = bool(np.isfinite(s).all())
        out["sw_min"] = float(s.min()) if s.size else np.inf
    return out


def _block_and_rows(fn, first, step, *arrays):
    """``fn(*arrays)`` and the rows ``first::step`` of each array (None stays None):
    a block's checks and its share of the strided subsample, in one task."""
    picked = tuple(None if a is None else np.asarray(a)[first::step].copy() for a in arrays)
    return fn(*arrays), picked


def _blocks_and_rows(fn, block_args, row_chunks, rows):
    """``fn`` over the row blocks (``block_args``: one tuple of delayed blocks each)
    and, when ``rows`` (a ``slice(0, n, step)``) is given, those rows of every array,
    cut on the workers block by block and joined on the client in row order: one
    round trip, no gather of the subsample through a worker.  Returns ``(results,
    subsample)`` (``subsample``: a tuple of arrays or None per array; None without
    ``rows``)."""
    import dask
    from dask import delayed

    if rows is None:
        run = delayed(fn, pure=True)
        return dask.compute(*[run(*args) for args in block_args]), None
    step = int(rows.step or 1)
    starts = np.concatenate([[0], np.cumsum(row_chunks)[:-1]]).astype(int)
    run = delayed(_block_and_rows, pure=True)
    got = dask.compute(*[run(fn, int((-start) % step), step, *args) for start, args in zip(starts, block_args)])
    results = [g[0] for g in got]
    sub = tuple(None if got[0][1][j] is None else np.concatenate([g[1][j] for g in got])
                for j in range(len(block_args[0])))
    return results, sub


def _label_pass(X, labels, sw, rows):
    """:func:`_label_block` over the blocks and the rows ``rows`` of ``X``,
    ``labels``, ``sw`` (None: none), in one round trip; the blocks' results merged."""
    xs, ys = X.to_delayed().ravel().tolist(), labels.to_delayed().ravel().tolist()
    ss = [None] * len(xs) if sw is None else sw.to_delayed().ravel().tolist()
    blocks, sub = _blocks_and_rows(_label_block, list(zip(xs, ys, ss)), X.chunks[0], rows)
    classes = np.unique(np.concatenate([b["labels"] for b in blocks]))
    k, p = classes.size, X.shape[1]
    stats = {"classes": classes, "counts": np.zeros(k, dtype=np.int64), "wsums": np.zeros(k),
             "colsq": np.zeros((k, p)), "X_finite": True, "sw_finite": True, "sw_min": np.inf}
    for b in blocks:
        at = np.searchsorted(classes, b["labels"])
        stats["counts"][at] += b["counts"]
        stats["wsums"][at] += b["wsums"]
        stats["colsq"][at] += b["colsq"]
        stats["X_finite"] &= b["X_finite"]
        stats["sw_finite"] &= b.get("sw_finite", True)
        stats["sw_min"] = min(stats["sw_min"], b.get("sw_min", np.inf))
    return stats, sub


def _regression_block(Xb, yb, swb, offb, loss=None):
    """A block's (weighted) column sums of squares and the checks of its values
    (``loss.validate_y`` first: its own error for targets outside its domain)."""
    if loss is not None:
        loss.validate_y(yb)
    X = np.asarray(Xb)
    s = None if swb is None else np.asarray(swb, dtype=np.float64).ravel()
    colsq = _column_squares(X, None, s, 1)[0]
    out = {"colsq": colsq, "X_finite": bool(np.isfinite(colsq).all()) or bool(np.isfinite(X).all()),
           "y_finite": bool(np.isfinite(np.asarray(yb)).all())}
    if s is not None:
        out.update(sw_finite=bool(np.isfinite(s).all()), sw_min=float(s.min()) if s.size else np.inf,
                   ws=float(s.sum()))
    if offb is not None:
        out["off_finite"] = bool(np.isfinite(np.asarray(offb)).all())
    return out


def _regression_checks(X, y, sw, off, rows, loss=None):
    """:func:`_regression_block` over the blocks and the rows ``rows`` of ``X``, ``y``,
    ``sw``, ``off`` (None: none), in one round trip; raises on bad values (``y``
    outside ``loss``'s domain: its own ``ValueError``)."""
    parts = [a.to_delayed().ravel().tolist() if a is not None else [None] * X.numblocks[0]
             for a in (X, y, sw, off)]
    fn = _regression_block if loss is None else functools.partial(_regression_block, loss=loss)
    blocks, sub = _blocks_and_rows(fn, list(zip(*parts)), X.chunks[0], rows)
    if not all(b["X_finite"] for b in blocks):
        raise ValueError("Input X contains NaN or infinity.")
    if not all(b["y_finite"] for b in blocks):
        raise ValueError("Input y contains NaN or infinity.")
    stats = {"colsq": np.sum([b["colsq"] for b in blocks], axis=0)}
    if sw is not None:
        if not all(b["sw_finite"] for b in blocks):
            raise ValueError("sample_weight contains NaN or infinity.")
        if min(b["sw_min"] for b in blocks) < 0:
            raise ValueError("Negative values in data passed to `sample_weight`.")
        stats["ws"] = float(np.sum([b["ws"] for b in blocks]))
        if not stats["ws"] > 0:
            raise ValueError("sample_weight must have a positive sum.")
    if off is not None and not all(b["off_finite"] for b in blocks):
        raise ValueError("offset contains NaN or infinity.")
    if sub is not None:
        stats.update(sub_X=sub[0], sub_y=sub[1], sub_sw=sub[2], sub_off=sub[3])
    return stats


def _compute(*arrays):
    import dask

    return dask.compute(*arrays)


# ===================================================================== logistic
def fit_logistic(est, X, y, sample_weight=None):
    """:meth:`MLELogisticRegression.fit` on dask inputs (binary, multinomial, one-vs-rest)."""
    import dask
    import dask.array as da
    from sklearn.utils.class_weight import compute_class_weight

    loss = est._resolve_loss()
    _require_supported(est, loss)
    X, names = dask_rows(X)
    chunks = X.chunks[0]
    n, p = (int(s) for s in X.shape)
    labels = dask_vector(y, chunks, name="y", dtype=None)
    sw = dask_vector(sample_weight, chunks, name="sample_weight", dtype=X.dtype)
    X, labels, sw = dask.persist(X, labels, sw)
    # one pass: the classes, their counts, weight sums and column sums of squares
    # (so class weights, class totals and the column scales follow on the client),
    # the data checks, and the strided subsample the solvers will ask for
    rows = subsample_rows(n, p, X.dtype) if subsample_wanted(n, p + 1) else None
    stats, sub_rows = _label_pass(X, labels, sw, rows)
    classes = stats["classes"]
    if classes.dtype.kind == "f" and not np.all(np.isfinite(classes)):
        raise ValueError("Input y contains NaN or infinity.")
    if classes.dtype.kind == "f" and np.any(classes != np.round(classes)):
        raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a classifier, "
                         "which expects discrete classes on a regression target with continuous values.")
    n_classes = classes.size
    if n_classes < 2:
        raise ValueError(f"{type(est).__name__} needs samples of at least 2 classes in the data; "
                         f"got 1 class ({classes[0]!r}).")
    if not stats["X_finite"]:
        raise ValueError("Input X contains NaN or infinity.")
    if sw is not None:
        if not stats["sw_finite"]:
            raise ValueError("sample_weight contains NaN or infinity.")
        if stats["sw_min"] < 0:
            raise ValueError("Negative values in data passed to `sample_weight`.")
    y_idx = labels.map_blocks(_encode_labels, classes, X.dtype, dtype=X.dtype)
    cw = None
    if est.class_weight is not None:
        if est.class_weight == "balanced":
            cw = n / (n_classes * stats["counts"].astype(float))
        else:
            cw = np.asarray(compute_class_weight(est.class_weight, classes=classes, y=classes), dtype=float)
        if np.any(cw < 0) or not np.all(np.isfinite(cw)):
            raise ValueError("Negative values in data passed to `sample_weight`.")
    raw_sw = sw
    if cw is not None:
        base = sw if sw is not None else da.ones(n, chunks=(chunks,), dtype=X.dtype)
        sw = base * y_idx.map_blocks(_class_weights, np.asarray(cw), X.dtype, dtype=X.dtype)
    # (y_idx and the class-weighted sw stay lazy: every block task forms its own from
    # the persisted labels and weights, see _block_targets; no pass materialises them)
    unit_weights = sample_weight is None and est.class_weight is None
    sw_arg = None if unit_weights else sw

    def targets(k=None):
        return (labels, raw_sw, _block_targets, (classes, X.dtype, None if cw is None else np.asarray(cw), k,
                                                 unit_weights))
    # weighted class totals (the intercept-only start is exact from them) and the column scales
    factor = np.ones(n_classes) if cw is None else cw
    totals = (stats["counts"].astype(float) if sw is None else stats["wsums"] * factor)
    if sw is not None and not totals.sum() > 0:
        raise ValueError("sample_weight must have a positive sum.")
    colsq = factor @ stats["colsq"]
    pre = {"column_sq": colsq, "weight_sum": float(totals.sum()) if sw_arg is not None else None}
    sub = None
    if sub_rows is not None:  # (the subsample's labels and weights, encoded on the client)
        Xs, ls, ss = sub_rows
        ys = _encode_labels(np.asarray(ls), classes, X.dtype)
        if cw is not None:
            ss = (np.ones(ys.size, dtype=X.dtype) if ss is None else ss) * _class_weights(ys, cw, X.dtype)
        sub = (Xs, ys, None if unit_weights else ss)
    l1_reg, l2_reg = est._penalty_strengths()
    feature_names = _feature_names(est, names, p)
    if n_classes == 2:
        mode = "binary"
    elif loss.has_multiclass_form:
        mode = "multinomial"
    else:
        mode = "ovr"
    n_coef_total = (p + bool(est.fit_intercept)) * (1 if n_classes == 2 else n_classes)
    cov_type = est._resolve_cov_type(loss, loss.likelihood is not None, n_coef_total,
                                     two_classes=n_classes == 2)
    warm = est._warm_start_coef((1 if n_classes == 2 else n_classes, p))
    if warm is not None and getattr(est, "classes_", None) is not None and not np.array_equal(
            est.classes_, classes):
        warm = None
    penalised = l1_reg > 0 or l2_reg > 0
    attrs = {}
    objectives = []
    try:
        if mode in ("binary", "multinomial"):
            k_out = 1 if mode == "binary" else n_classes
            obj = DaskLinearObjective(loss, X, y_idx, sw_arg, fit_intercept=est.fit_intercept, n_outputs=k_out,
                                      l2_reg=l2_reg, l1_reg=l1_reg, persist=False, targets=targets(),
                                      **pre)  # (X, labels and weights persisted above)
            objectives.append(obj)
            if sub is not None:
                obj.adopt_subsample(*sub)
            coef0, fixed, invariant = _logistic_start(est, obj, loss, totals, warm, k_out, penalised)
            # the log-likelihood: -n times the data term where the loss is the negative
            # log-likelihood (no pass), else block-wise in the last Newton pass
            obj.loglik_is_objective = (loss.likelihood is not None and sub is not None
                                       and _loss_is_nll(loss, sub[1], k_out))
            if loss.likelihood is not None and not obj.loglik_is_objective:
                obj.also = (_block_loglik, (loss.likelihood, None))
            res = _run_solver_sep(est, obj, coef0, fixed, loss, penalised)
            coef, objective_value = res.coef, res.objective
            if mode == "multinomial" and invariant:
                coef = est._centre(obj, coef, weights=not penalised)
                objective_value = obj.total_value(coef)
            W, b = obj.split(coef)
            W = np.atleast_2d(np.asarray(W, dtype=np.float64))
            b = np.atleast_1d(np.asarray(b, dtype=np.float64)) if est.fit_intercept else np.zeros(k_out)
            n_iter, converged = res.n_iter, res.converged
            if cov_type is not None:  # (Hessian and score Gram in one pass, if not held already)
                obj.prefetch_inference(coef, score_gram=cov_type in ("HC0", "HC1"))
            attrs.update(_logistic_inference(est, obj, coef, res, loss, mode, classes, feature_names, cov_type,
                                             penalised, invariant))
        else:
            Ws, bs, n_iter, converged, objective_value = [], [], 0, True, 0.0
            blocks, params, pnames = [], [], []
            for k in range(n_classes):
                yk = (y_idx == k).astype(X.dtype)
                obj = DaskLinearObjective(loss, X, yk, sw_arg, fit_intercept=est.fit_intercept, n_outputs=1,
                                          l2_reg=l2_reg, l1_reg=l1_reg, persist=False, targets=targets(k), **pre)
                objectives.append(obj)
                if sub is not None:
                    obj.adopt_subsample(sub[0], (sub[1] == k).astype(X.dtype), sub[2])
                wk = None if warm is None else (warm[0][k:k + 1], warm[1][k:k + 1])
                two = np.array([totals.sum() - totals[k], totals[k]])
                coef0, _, _ = _logistic_start(est, obj, loss, two, wk, 1, penalised)
                res = _run_solver_sep(est, obj, coef0, None, loss, penalised)
                w, b_ = obj.split(res.coef)
                Ws.append(np.asarray(w, dtype=np.float64))
                bs.append(float(b_))
                n_iter = max(n_iter, res.n_iter)
                converged = converged and res.converged
                objective_value += res.objective
                if cov_type is not None:
                    obj.prefetch_inference(res.coef, score_gram=cov_type in ("HC0", "HC1"))
                inf = est._inference_attrs(obj, res.coef, cov_type, output_names=[str(classes[k])],
                                           feature_names=feature_names, penalised=penalised and k == 0)
                blocks.append(inf["covariance_"])
                params.append(inf["params_"])
                pnames += inf["param_names_"]
            from skloss.linear_model._logistic import ovr_inference_attrs

            W, b = np.vstack(Ws), np.asarray(bs)
            attrs.update(ovr_inference_attrs(blocks, params, pnames, cov_type, penalised))
    finally:
        for obj in objectives:
            obj.close()
    dtype = X.dtype
    attrs.update({
        "classes_": classes,
        "coef_": W.astype(dtype),
        "intercept_": b.astype(dtype),
        "loss_": loss,
        "objective_": float(objective_value),
        "n_iter_": int(n_iter),
        "converged_": bool(converged),
        "multi_class_": mode,
        "n_obs_": float(totals.sum()) if sw is not None else float(n),
    })
    attrs.update(_input_attrs(names, p))
    return _finish(est, attrs, names)


def _run_solver_sep(est, obj, coef0, fixed, loss, penalised):
    """The in-memory ``_run_solver_sep`` with the dask objective's separation test."""
    from ._separation import certify_separation, detect_separation

    return est._run_solver_sep(obj, coef0, fixed, loss, penalised, detect=detect_separation,
                               certify=certify_separation, stacklevel=4)


def _shift_invariant(est, loss, obj, k_out, coef0):
    flag = getattr(loss, "multiclass_shift_invariant", None)
    if isinstance(flag, (bool, np.bool_)):
        return bool(flag)
    return bool(est._shift_invariant(loss, _probe(obj, k_out), coef0))


def _logistic_start(est, obj, loss, totals, warm, k_out, penalised):
    """The start of the in-memory fit: zeros and the intercept-only optimum, computed
    exactly from the weighted class totals (the intercept-only problem depends on
    the data only through them)."""
    p = obj.n_features
    fixed = None
    if warm is not None:
        W0, b0 = warm
        coef0 = obj.pack(W0.ravel() if k_out == 1 else W0, b0 if k_out > 1 else b0[0])
    else:
        W0 = np.zeros((k_out, p)) if k_out > 1 else np.zeros(p)
        if est.fit_intercept:
            ks = np.flatnonzero(totals > 0)
            b0 = loss.init_raw_prediction(ks.astype(np.float64), totals[ks],
                                          n_classes=k_out if k_out > 1 else None)
            if k_out > 1 and ks.size < k_out:
                b0 = np.asarray(b0)  # (a class without weight keeps the generic start)
        else:
            b0 = 0.0
        coef0 = obj.pack(W0, b0)
    invariant = False
    if k_out > 1:
        invariant = _shift_invariant(est, loss, obj, k_out, coef0)
    if invariant:
        fixed = np.zeros(obj.n_coef, dtype=bool)
        if not penalised:
            fixed[:p] = True
        if est.fit_intercept:
            fixed[k_out * p] = True
        if not fixed.any():
            fixed = None
    return coef0, fixed, invariant


def _loss_is_nll(loss, y, k_out):
    """Whether the loss equals the likelihood's negative log-density, constants
    included (the log loss without label smoothing), checked on targets ``y`` (the
    client's subsample) at spread raw scores: the log-likelihood is then ``-n`` times
    the objective's data term, and no pass computes it."""
    if y is None or len(y) == 0:
        return False
    from skloss.linear_model._logistic import loss_equals_nll

    y = np.asarray(y, dtype=np.float64)[:256]
    k = max(int(k_out), 1)
    grid = 4.0 * np.sin(1.0 + np.arange(y.size * k, dtype=np.float64))
    return loss_equals_nll(loss, loss.likelihood, y, grid if k == 1 else grid.reshape(y.size, k))


def _block_loglik(obj, coef, args):
    from ._inference import _raw

    likelihood, scale = args
    raw = _raw(obj, coef)
    if scale is None:
        return float(likelihood.loglik(obj.y, raw, sample_weight=obj.sample_weight))
    return float(likelihood.loglik(obj.y, raw, scale, obj.sample_weight))


def _logistic_inference(est, obj, coef, res, loss, mode, classes, feature_names, cov_type, penalised,
                        invariant):
    attrs = {}
    likelihood = loss.likelihood
    n_obs = obj.weight_sum
    n_params = coef.size - (obj.n_features + obj.fit_intercept if mode == "multinomial" else 0)
    if likelihood is not None:  # (the full log-likelihood, block-wise: any loss)
        loglik = obj.also_value(coef) if obj.also is not None else None  # (from the last pass)
        if loglik is None and getattr(obj, "loglik_is_objective", False):
            loglik = -(res.objective - obj.l2_value(res.coef) - obj.l1_value(res.coef)) * obj.weight_sum
        if loglik is None:
            loglik = obj.block_sum(_block_loglik, coef, (likelihood, None))
        loglik = float(loglik)
        attrs.update(est._loglik_attrs(loglik, n_params, n_obs))
    else:
        attrs.update({"loglik_": None, "aic_": None, "bic_": None})
    if mode == "binary":
        attrs.update(est._inference_attrs(obj, coef, cov_type, output_names=None, feature_names=feature_names,
                                          penalised=penalised))
        return attrs
    p, K = obj.n_features, obj.n_outputs
    W, b = obj.split(coef)
    ref = obj.pack(W - W[0], (b - b[0]) if obj.fit_intercept else b)
    drop = np.zeros(coef.size, dtype=bool)
    drop[:p] = True
    if obj.fit_intercept:
        drop[K * p] = True
    if not invariant:
        drop, ref = None, coef
    attrs.update(est._inference_attrs(obj, coef, cov_type, output_names=[str(c) for c in classes],
                                      feature_names=feature_names, drop=drop, params=ref, penalised=penalised))
    return attrs


# ===================================================================== regression
def fit_linear(est, X, y, sample_weight=None, offset=None):
    """:meth:`MLELinearRegression.fit` on dask inputs (the smooth losses)."""
    import dask

    from skloss.linear_model._solvers import resolve_solver, solve

    est._validate_params()
    loss = est._resolve_loss()
    if est.solver == "interior-point":
        raise ValueError("solver 'interior-point' (the piecewise-linear losses) is not available on a dask "
                         "array; use solver='auto'.")
    _require_supported(est, loss)
    l1_reg, l2_reg = est._penalty_strengths()
    X, names = dask_rows(X)
    chunks = X.chunks[0]
    n, p = (int(s) for s in X.shape)
    yd = dask_vector(y, chunks, name="y", dtype=np.float64)  # (validated in the checks' pass)
    sw = dask_vector(sample_weight, chunks, name="sample_weight", dtype=np.float64)
    off = dask_vector(offset, chunks, name="offset", dtype=np.float64)
    X, yd, sw, off = dask.persist(X, yd, sw, off)
    m = max(10000, 20 * (p + 1))
    # one pass, one task per block: the checks, the column scales, the weight sum and
    # the strided subsample the start and the solvers ask for
    rows = subsample_rows(n, p, X.dtype) if (n >= 4 * m or subsample_wanted(n, p + 1)) else None
    got = _regression_checks(X, yd, sw, off, rows, loss)
    obj = DaskLinearObjective(loss, X, yd, sw, fit_intercept=est.fit_intercept, l2_reg=l2_reg,
                              l1_reg=l1_reg, offset=off, column_sq=got["colsq"], weight_sum=got.get("ws"),
                              persist=X.dtype != np.float64)  # (persisted above; a float32 X casts y)
    if rows is not None:
        obj.adopt_subsample(got["sub_X"], got["sub_y"], got.get("sub_sw"), got.get("sub_off"))
    try:
        warm = est._warm_start_coef((p,))
        if warm is not None:
            coef0 = obj.pack(warm[0], warm[1][0])
        else:
            coef0 = np.zeros(obj.n_coef)
            solver = resolve_solver(est.solver, loss, l1_reg=l1_reg, l2_reg=l2_reg, sparse=False, n_outputs=1,
                                    n_coef=obj.n_coef)
            sub = obj.subsample(max(m, _START_ROWS)) if n >= 4 * m else None
            if est.fit_intercept:
                src = sub if sub is not None and not isinstance(sub, DaskLinearObjective) else None
                if src is None:
                    ys, ss, os_ = _compute(yd, sw, off)
                else:
                    ys, ss, os_ = src.y, src.sample_weight, src.offset
                ss = None if ss is None else np.asarray(ss, dtype=np.float64)
                coef0[-1] = loss.init_raw_prediction(np.asarray(ys, dtype=np.float64), ss) - (
                    0.0 if os_ is None else float(np.average(np.asarray(os_, dtype=np.float64), weights=ss)))
            if (sub is not None and not isinstance(sub, DaskLinearObjective) and sub is not obj
                    and solver != "newton-cholesky"):
                try:
                    with np.errstate(all="ignore"):
                        pre = solve(sub, coef0, solver, tol=max(float(est.tol), 1e-6), max_iter=int(est.max_iter))
                    if np.all(np.isfinite(pre.coef)):
                        coef0 = pre.coef
                except (ValueError, np.linalg.LinAlgError):
                    pass
        from ._inference import dask_mle_scale, inference_also, regression_inference_attrs

        obj.also = inference_also(est, obj, loss)  # (the inference's pieces in every Newton pass)
        res = est._run_solver(obj, coef0)
        w, b = obj.split(res.coef)
        coef = np.array(w, dtype=np.float64)
        intercept = float(b) if est.fit_intercept else 0.0
        attrs = {"loss_": loss, "solver_": res.solver, "coef_": coef.astype(X.dtype, copy=False),
                 "intercept_": intercept, "n_iter_": int(res.n_iter), "converged_": bool(res.converged),
                 "objective_": float(res.objective)}
        scale, loglik = dask_mle_scale(obj, res.coef, loss, with_loglik=True)
        attrs["scale_"] = scale
        attrs.update(regression_inference_attrs(est, obj, res.coef, loss, scale, l1_reg + l2_reg > 0,
                                                _feature_names(est, names, p), loglik=loglik))
    finally:
        obj.close()
    attrs.update(_input_attrs(names, p))
    return _finish(est, attrs, names)


# ===================================================================== distribution
def _column_objective(loss, obj, j):
    """Column ``j`` of a block as the intercept-only objective of ``loss``."""
    from skloss.linear_model._objective import LinearObjective

    x = np.asarray(loss.validate_y(np.asarray(obj.X[:, j], dtype=np.float64)), dtype=np.float64)
    return LinearObjective(loss, np.empty((x.size, 0)), x, obj.sample_weight, fit_intercept=True)


def _dist_block_newton(obj, coef, args):
    """Each listed column's summed loss, gradient and Hessian at its location."""
    loss, raws, cols = args
    out = np.zeros((len(cols), 3))
    for i, j in enumerate(cols):
        o = _column_objective(loss, obj, j)
        ws = o.weight_sum
        if ws > 0:
            f, g, H = o.value_grad_hessian(np.array([raws[i]]))
            out[i] = (f * ws, g[0] * ws, H()[0, 0] * ws)
    return out


def _dist_block_logliks(obj, coef, args):
    """Each listed column's summed log-likelihood at its location and at each of its
    scales (``scales[i]`` an array, or None for a likelihood without a scale)."""
    loss, lik, raws, scales, cols = args
    out = []
    with np.errstate(all="ignore"):
        for i, j in enumerate(cols):
            o = _column_objective(loss, obj, j)
            raw = np.full(o.n_samples, raws[i])
            if scales[i] is None:
                out.append(np.array([float(lik.loglik(o.y, raw, None, o.sample_weight))]))
                continue
            vals = np.empty(len(scales[i]))
            for k, sc in enumerate(scales[i]):
                try:
                    vals[k] = float(lik.loglik(o.y, raw, sc, o.sample_weight))
                except (ValueError, FloatingPointError, OverflowError):
                    vals[k] = -np.inf
            out.append(vals)
    return np.vstack(out)


def _lockstep_newton(obj, loss, r, max_iter=100):
    """The intercept-only optimum of every column at once: one-dimensional Newton
    per column, all columns in each round trip (a column stops once its Newton step
    is below 1e-7 of its location, after taking it: at the quadratic rate the error
    left is of the order of that step squared).  An increase of a column's loss
    halves its step.  Returns the locations and the columns that did not converge."""
    p = r.size
    done = np.zeros(p, dtype=bool)
    prev = [None] * p  # (location, summed loss) of the last accepted point
    step = np.zeros(p)
    for _ in range(max_iter):
        cols = np.flatnonzero(~done)
        if cols.size == 0:
            break
        got = np.asarray(obj.block_sum(_dist_block_newton, np.zeros(1), (loss, r[cols], cols)))
        for i, j in enumerate(cols):
            f, g, H = got[i]
            if prev[j] is not None and not (np.isfinite(f) and f <= prev[j][1] + 1e-13 * abs(prev[j][1])):
                step[j] *= 0.5  # (the loss went up: back-track from the last accepted point)
                r[j] = prev[j][0] + step[j]
                if abs(step[j]) <= 1e-12 * max(1.0, abs(prev[j][0])):
                    r[j], done[j] = prev[j][0], True
                continue
            if not (np.isfinite(g) and np.isfinite(H) and H > 0):
                done[j] = True
                r[j] = np.nan  # (no Newton step: the caller falls back)
                continue
            prev[j] = (r[j], f)
            step[j] = -g / H
            r[j] += step[j]
            if abs(step[j]) <= 1e-7 * max(1.0, abs(prev[j][0])):
                done[j] = True
    return r, np.flatnonzero(~done | ~np.isfinite(r))


def fit_distribution(est, X, sample_weight=None):
    """:meth:`MLEDistribution.fit` on dask inputs: every column's location (the
    constant that minimises its mean loss) by one-dimensional Newton steps, all
    columns in each round trip, then every column's scale by :func:`scale_search`,
    all columns in each round trip (the log-likelihood comes with it; one more
    round trip gives it for a likelihood without a scale)."""
    import dask

    from skloss.linear_model._scale import mle_scale

    from ._inference import scale_search

    est._validate_params()
    loss, lik = est._resolve()
    _require_supported(est, loss)
    X, names = dask_rows(X, dtype=np.float64)
    chunks = X.chunks[0]
    n, p = (int(s) for s in X.shape)
    if n < 2:
        raise ValueError(f"MLEDistribution needs at least 2 samples; got n_samples = {n}.")
    sw = dask_vector(sample_weight, chunks, name="sample_weight", dtype=np.float64)
    X, sw = dask.persist(X, sw)
    # the checks and every column's strided subsample (the start, the scale's bracket) in one pass
    rows = subsample_rows(n, 0, np.float64)
    extra = {"sub_X": X[rows]}
    if sw is not None:
        extra["sub_sw"] = sw[rows]
        extra["ws"] = sw.sum(dtype=np.float64)
    got = _data_checks(X, None, sw, extra=extra)
    has_scale = bool(getattr(lik, "has_scale", False))
    sub_sw = got.get("sub_sw")
    sub_cols = [np.asarray(_validate_y_block(got["sub_X"][:, j], loss)) for j in range(p)]  # (domain errors)
    r0 = np.array([float(loss.init_raw_prediction(c, sub_sw)) for c in sub_cols])
    # (the block objective only carries the rows: every block function reads its columns)
    from skloss.losses import get_loss

    obj = DaskLinearObjective(get_loss("squared_error"), X, X[:, 0], sw, fit_intercept=True, persist=False,
                              weight_sum=got.get("ws"))
    try:
        raw, failed = _lockstep_newton(obj, loss, r0.copy())
        for j in failed:  # (never seen: a column without a Newton step; the shared solver)
            raw[j] = _solve_column(loss, X, sw, j, r0[j])
        if has_scale:
            starts = [mle_scale(loss, c, np.full(c.size, raw[j]), sub_sw) for j, c in enumerate(sub_cols)]

            def evaluate(scales):
                cols = [j for j in range(p) if scales[j] is not None]
                vals = obj.block_sum(_dist_block_logliks, np.zeros(1),
                                     (loss, lik, raw[cols], [scales[j] for j in cols], cols))
                out = [None] * p
                for i, j in enumerate(cols):
                    out[j] = vals[i]
                return out

            found = scale_search(starts, evaluate)
            scale = np.array([np.nan if s is None else s for s, _ in found])
            logliks = np.array([np.nan if v is None else v for _, v in found])
            for j in range(p):
                s = found[j][0]
                if not (s is not None and s > 0 and np.isfinite(s)):
                    raise ValueError(
                        f"Column {j} has a maximum-likelihood scale of {s!r} (a constant column, or an "
                        "exact fit): the distribution is degenerate.")
        else:
            scale = np.full(p, np.nan)
            logliks = np.asarray(obj.block_sum(_dist_block_logliks, np.zeros(1),
                                               (loss, lik, raw, [None] * p, list(range(p))))).ravel()
        loglik = float(np.sum(logliks))
    finally:
        obj.close()
    n_obs = float(n if sw is None else got["ws"])
    k = p * (1 + int(has_scale))
    # the likelihood's own (fixed) shape parameters, as the in-memory fit reports them
    shape = {name: float(value) for name, value in lik.get_params().items()
             if isinstance(value, (int, float, np.number)) and not isinstance(value, bool)}
    if lik.variance_power == 2.0 and has_scale:
        shape["shape"] = 1.0 / scale  # gamma: shape = 1 / dispersion
    attrs = {"loss_": loss, "raw_location_": raw,
             "location_": np.asarray(loss.inverse_link(raw), dtype=np.float64),
             "scale_": scale if has_scale else None, "shape_params_": shape, "loglik_": float(loglik),
             "aic_": -2.0 * float(loglik) + 2.0 * k, "bic_": -2.0 * float(loglik) + np.log(n_obs) * k}
    attrs.update(_input_attrs(names, p))
    return _finish(est, attrs, names)


def _solve_column(loss, X, sw, j, r0):
    """One column's location by the shared solver on its own dask objective."""
    from skloss.linear_model._solvers import solve

    xj = X[:, j].map_blocks(_validate_y_block, loss, dtype=np.float64)
    obj = DaskLinearObjective(loss, X[:, :0], xj, sw, fit_intercept=True)
    try:
        res = solve(obj, np.array([r0]), "newton-cholesky" if loss.has_hessian else "lbfgs", tol=1e-12,
                    max_iter=100)
    finally:
        obj.close()
    return float(res.coef[0])
