"""Detection of dask collections and the row-aligned preparation of the inputs.

Detection is by duck typing on the input (its class comes from a ``dask``
module and it carries a task graph), so checking an input never imports dask.
"""

import numpy as np

__all__ = ["is_dask_collection", "any_dask", "dask_rows", "dask_vector", "checked_compute",
           "CountRoundTrips", "EXTRA_HINT"]

EXTRA_HINT = 'install the optional dependencies with pip install "skloss[dask]"'


def is_dask_collection(x):
    """Whether ``x`` is a dask collection (array, dataframe, series), by duck typing."""
    if x is None:
        return False
    module = type(x).__module__ or ""
    return module.split(".")[0] in ("dask", "dask_expr") and hasattr(x, "__dask_graph__")


def any_dask(*objs):
    """Whether any of ``objs`` is a dask collection."""
    return any(is_dask_collection(o) for o in objs)


def _feature_names(X):
    cols = getattr(X, "columns", None)
    if cols is None:
        return None
    names = np.asarray([str(c) for c in cols], dtype=object)
    return names if all(isinstance(c, str) for c in cols) else None


def dask_rows(X, *, dtype=(np.float64, np.float32), name="X"):
    """``X`` as a 2-D dask array with known row chunks and a single column chunk.

    Returns ``(X, feature_names)``.  A dask DataFrame is converted (its columns
    give the feature names); float32 stays float32, other dtypes become float64.
    """
    import dask.array as da

    names = _feature_names(X)
    if hasattr(X, "to_dask_array"):
        X = X.to_dask_array(lengths=True)
    elif not is_dask_collection(X):
        X = da.asarray(np.asarray(X))
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array for {name}; got {X.ndim} dimension(s) "
                         f"(shape {X.shape}). Reshape a single feature with x.reshape(-1, 1).")
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got a dask array of dtype {X.dtype}.")
    allowed = tuple(np.dtype(d) for d in (dtype if isinstance(dtype, (tuple, list)) else (dtype,)))
    if X.dtype not in allowed:
        X = X.astype(allowed[0])
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if X.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
    return X, names


def dask_vector(v, row_chunks, *, name, dtype=np.float64):
    """A per-sample vector (dask or in-memory) as a 1-D dask array with ``row_chunks``."""
    import dask.array as da

    if v is None:
        return None
    if hasattr(v, "to_dask_array"):
        v = v.to_dask_array(lengths=True)
    if not is_dask_collection(v):
        v = np.asarray(v)
        if v.ndim == 2 and 1 in v.shape:
            v = v.reshape(-1)
        if v.ndim != 1:
            raise ValueError(f"{name} must be 1-D; got shape {v.shape}.")
        v = da.from_array(v, chunks=(row_chunks,))
    else:
        if v.ndim == 2 and v.shape[1] == 1:
            v = v[:, 0]
        if v.ndim != 1:
            raise ValueError(f"{name} must be 1-D; got a dask array of shape {v.shape}.")
        if any(np.isnan(c) for c in v.chunks[0]):
            v = v.compute_chunk_sizes()
    n = int(sum(row_chunks))
    if v.shape[0] != n:
        raise ValueError(f"{name} has {v.shape[0]} entries; X has {n} rows (they must match).")
    if dtype is not None and v.dtype != np.dtype(dtype):
        if v.dtype.kind not in "biuf" and np.dtype(dtype).kind == "f":
            raise ValueError(f"{name} must be numeric; got dtype {v.dtype}.")
        v = v.astype(dtype)
    if tuple(v.chunks[0]) != tuple(row_chunks):
        v = v.rechunk((row_chunks,))
    return v


def checked_compute(checks):
    """Compute a dict of named boolean / scalar dask reductions in one pass and
    return them as Python values."""
    import dask

    keys = list(checks)
    values = dask.compute(*[checks[k] for k in keys])
    return {k: (v.item() if hasattr(v, "item") and np.ndim(v) == 0 else v) for k, v in zip(keys, values)}


class CountRoundTrips:
    """Context manager counting the blocking client -> cluster round trips
    (``distributed.Client.get``: every ``compute``) made inside it, in ``.n``
    (the benchmark's and the tests' measure of a fit's latency cost)."""

    def __enter__(self):
        from distributed import Client

        self.n, self._get = 0, Client.get
        get = self._get

        def counting(client, *args, **kwargs):
            self.n += 1
            return get(client, *args, **kwargs)

        Client.get = counting
        return self

    def __exit__(self, *exc):
        from distributed import Client

        Client.get = self._get
