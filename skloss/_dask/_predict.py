"""Predictions on dask arrays stay lazy: the estimator's own method, block by block.

``lazy_method(est, "predict_proba", X)`` returns a dask array whose every block
is ``est.predict_proba(block)`` computed where the block lives (the fitted
estimator travels with the graph; it holds only coefficients), so lazy and
in-memory predictions are the same numbers.
"""

import numpy as np

from ._utils import dask_rows, dask_vector

__all__ = ["lazy_method"]


def _call(Xb, est, method, kwargs):
    return getattr(est, method)(Xb, **kwargs)


def _call_offset(Xb, offb, est, method, kwargs):
    return getattr(est, method)(Xb, offset=np.asarray(offb).ravel(), **kwargs)


def _output_spec(est, method, X):
    """The dtype and the number of columns (0: a 1-D output) of ``method``, from a
    prediction on one in-memory row of zeros."""
    import warnings

    row = np.zeros((1, X.shape[1]), dtype=X.dtype)
    kwargs = {"offset": np.zeros(1)} if method == "predict" and _takes_offset(est) else {}
    with warnings.catch_warnings():  # (a probe row: no feature-name or log(0) warnings)
        warnings.simplefilter("ignore")
        out = np.asarray(getattr(est, method)(row, **kwargs))
    return out.dtype, (0 if out.ndim == 1 else out.shape[1])


def _takes_offset(est):
    import inspect

    return "offset" in inspect.signature(est.predict).parameters


def lazy_method(est, method, X, offset=None, **kwargs):
    """``getattr(est, method)`` mapped over the row blocks of dask ``X``: a lazy dask
    array of shape (n,) or (n, k)."""
    import dask.array as da
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    X, _ = dask_rows(X, dtype=(np.float64, np.float32))
    if X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input.")
    dtype, width = _output_spec(est, method, X)
    chunks = (X.chunks[0],) if width == 0 else (X.chunks[0], (width,))
    drop = 1 if width == 0 else None
    # (meta given: dask never calls the estimator on an empty block to guess it)
    meta = np.empty((0,) if width == 0 else (0, width), dtype=dtype)
    if offset is None:
        return da.map_blocks(_call, X, est, method, kwargs, chunks=chunks, drop_axis=drop, dtype=dtype,
                             meta=meta)
    off = dask_vector(offset, X.chunks[0], name="offset", dtype=np.float64)
    return da.map_blocks(_call_offset, X, off[:, None], est, method, kwargs, chunks=chunks, drop_axis=drop,
                         dtype=dtype, meta=meta)
