"""SGD networks trained on a dask array by streaming its row blocks.

``SGDNetClassifier.fit`` / ``SGDNetRegressor.fit`` on dask input run ``max_iter``
epochs; an epoch visits every row block once, in a freshly shuffled block order,
and trains on each block with the estimator's own incremental step
(``partial_fit`` semantics: one pass over the block in minibatches, rows shuffled
within the block when ``shuffle=True``, the optimizer's state carried over).  The
next block is fetched from the cluster while the current one trains, so only two
blocks are ever held by the client.  ``partial_fit`` on dask input is one such
epoch.

Per epoch the loss curve gets one entry (the weighted mean of the blocks'
training losses), and the stopping rule is the in-memory one: no improvement
by ``tol`` for ``n_iter_no_change`` consecutive epochs.  ``early_stopping`` needs
a validation split of the rows, which a stream does not have: it raises.
"""

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._utils import dask_rows, dask_vector

__all__ = ["stream_fit"]


def _targets(y, chunks):
    """``y`` (n,) or (n, k), dask or in-memory, with ``chunks`` rows per block."""
    import dask.array as da

    if hasattr(y, "to_dask_array"):
        y = y.to_dask_array(lengths=True)
    if getattr(y, "ndim", 1) == 2 and y.shape[1] > 1:
        y = y if hasattr(y, "__dask_graph__") else da.from_array(np.asarray(y), chunks=(chunks, -1))
        if any(np.isnan(c) for c in y.chunks[0]):
            y = y.compute_chunk_sizes()
        if y.shape[0] != sum(chunks):
            raise ValueError(f"y has {y.shape[0]} rows; X has {sum(chunks)} (they must match).")
        return y.rechunk((chunks, -1))
    return dask_vector(y, chunks, name="y", dtype=None)


def stream_fit(est, X, y, sample_weight=None, incremental=False, classes=None):
    """Train ``est`` (an SGD network) on dask ``X`` by streaming its row blocks."""
    import dask
    import dask.array as da

    if est.early_stopping and not incremental:
        raise ValueError(
            "early_stopping=True holds out a validation split of the rows, which a dask array "
            "streamed block by block does not offer; fit with early_stopping=False (the training "
            "loss stops the fit after n_iter_no_change epochs without improvement).")
    X, _ = dask_rows(X)
    chunks = X.chunks[0]
    yd = _targets(y, chunks)
    sw = dask_vector(sample_weight, chunks, name="sample_weight", dtype=X.dtype)
    if est._task == "classification" and classes is None and not (incremental and hasattr(est, "classes_")):
        classes = np.unique(np.asarray(da.unique(yd).compute()))
    if not incremental and not est.warm_start:
        for attr in ("coefs_", "classes_"):
            if hasattr(est, attr):
                delattr(est, attr)
    rng = check_random_state(est.random_state)
    order_rng = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
    n_blocks = X.numblocks[0]

    def fetch(i):
        parts = [X.blocks[i], yd.blocks[i]] + ([] if sw is None else [sw.blocks[i]])
        got = dask.compute(*parts)
        return got[0], got[1], (None if sw is None else got[2])

    n_epochs = 1 if incremental else int(est.max_iter)
    converged = False
    with ThreadPoolExecutor(max_workers=1) as pool:
        for _ in range(n_epochs):
            order = order_rng.permutation(n_blocks)
            n_iter0 = getattr(est, "n_iter_", 0)
            curve0 = len(getattr(est, "loss_curve_", []) or [])
            best0 = getattr(est, "best_loss_", None)
            losses, weights = [], []
            pending = pool.submit(fetch, order[0])
            for pos in range(n_blocks):
                Xb, yb, swb = pending.result()
                if pos + 1 < n_blocks:
                    pending = pool.submit(fetch, order[pos + 1])  # (fetched while this block trains)
                if Xb.shape[0] == 0:
                    continue
                before = len(est.loss_curve_) if hasattr(est, "loss_curve_") else 0
                est._fit(Xb, yb, sample_weight=swb, incremental=True, classes=classes)
                if len(est.loss_curve_) > before:
                    losses.append(est.loss_curve_[-1])
                    weights.append(float(Xb.shape[0] if swb is None else np.sum(swb, dtype=np.float64)))
            # one epoch = one entry of the loss curve and one iteration
            curve = list(est.loss_curve_[:curve0])
            epoch_loss = float(np.average(losses, weights=weights)) if losses else np.inf
            curve.append(epoch_loss)
            est.loss_curve_ = curve
            est.n_iter_ = n_iter0 + 1
            if incremental:
                est.best_loss_ = min(best0 if best0 is not None else np.inf, epoch_loss)
                break
            best = min(curve[:-1]) if len(curve) > 1 else np.inf
            if epoch_loss > best - est.tol:
                est._no_improvement_count = getattr(est, "_no_improvement_count", 0) + 1
            else:
                est._no_improvement_count = 0
            est.best_loss_ = min(best, epoch_loss)
            if est._no_improvement_count > est.n_iter_no_change:
                converged = True
                break
    if not incremental and not converged:
        warnings.warn(
            f"{type(est).__name__}: maximum iterations ({est.max_iter}) reached (streamed epochs over "
            f"{n_blocks} blocks) and the optimization hasn't converged yet.",
            ConvergenceWarning,
        )
    return est
