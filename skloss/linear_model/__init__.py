"""Linear models fitted by minimising a pluggable loss: MLELogisticRegression, ..."""

from ._logistic import MLELogisticRegression, SeparationWarning, TrivialOptimumWarning

__all__ = ["MLEDistribution", "MLELinearRegression", "MLELogisticRegression", "SeparationWarning",
           "TrivialOptimumWarning"]

# the regression estimators load on first use (keeps `from skloss import
# MLELogisticRegression` light: no scipy.stats, no regression machinery)
_LAZY = {"MLEDistribution": "._distribution", "MLELinearRegression": "._linear"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


# skloss.warmup() runs one task per dtype (parallel workers share them)
_WARMUP_PARTS = ("float64", "float32")


def _warmup(part=None):
    """Compile the linear-model kernels for the dtype ``part`` (``"float64"`` or
    ``"float32"``; None: both) and run tiny fits.

    Called by :func:`skloss.warmup`; the kernels land in numba's disk cache.
    """
    import numpy as np
    import scipy.sparse as sp

    from skloss._kernels import _binary, _gram, _regression
    from skloss._kernels import _linear as kern

    rng = np.random.RandomState(0)
    for dtype in (np.float64, np.float32) if part is None else (np.dtype(part).type,):
        X = rng.normal(size=(40, 3)).astype(dtype)
        y2 = (X[:, 0] > 0).astype(dtype)
        y3 = (np.arange(40) % 3).astype(dtype)
        empty = np.empty(0, dtype=dtype)
        grad = np.empty(4)
        h = np.empty(40)
        w = np.zeros(3)
        _binary.log_loss_linear(X, y2, empty, w, 0.0, 0.0, 2, grad, h)
        C = sp.csr_matrix(X)  # (int32 indices, as SciPy builds them)
        _binary.log_loss_linear_csr(C.indptr, C.indices, C.data, y2, empty, w, 0.0, 0.0, 2, grad, h, np.empty(3))
        kern.csr_weighted_gram_product(C.indptr, C.indices, C.data, h, w, 0.0, 2, grad)
        kern.csr_weighted_gram_product(C.indptr.view(np.uint32), C.indices.view(np.uint32), C.data, h, w, 0.0, 1,
                                       grad)  # (the generic CSR Hessian products: unsigned index views)
        yp = np.abs(X[:, 0]) + 0.5
        for name, power in (("poisson", 1.0), ("gamma", 2.0), ("tweedie", 1.5)):
            getattr(_regression, f"{name}_linear")(X, yp, empty, empty, w, 0.0, np.array([power]), 2, grad, h)
        kern.multinomial_logloss_value_grad(X, y3, empty, np.zeros((3, 3)), np.zeros(3), 0.0, 2, np.empty((3, 4)))
        # (the tiled Gram: Hessians in X's dtype, covariances in float64)
        _gram.weighted_gram_tiles(X, np.ones(40), True, 16, np.empty((16, 4), dtype=dtype),
                                  np.empty((4, 4), dtype=dtype), np.zeros((4, 4)))
        _gram.weighted_gram_tiles(X, np.ones(40), True, 16, np.empty((16, 4)), np.empty((4, 4)),
                                  np.zeros((4, 4)))  # (covariances)
        _gram.class_column_squares(X, np.zeros(40, dtype=np.intp), np.ones(40), np.zeros((1, 3)))
        _gram.class_column_squares(X, np.empty(0, dtype=np.intp), np.empty(0), np.zeros((1, 3)))
        for loss in ("log_loss", "hinge"):
            MLELogisticRegression(loss=loss, penalty="l2", alpha=0.1).fit(X, y2.astype(int))
            MLELogisticRegression(loss=loss, penalty="l2", alpha=0.1).fit(X, y3.astype(int))
        MLELogisticRegression(penalty="l1", alpha=0.01).fit(X, y2.astype(int))
    if part == "float32":
        return
    H = np.eye(3)
    z = np.zeros(3)
    kern.quadratic_l1_cd(H, np.ones(3), np.ones(3), z.copy(), z.copy(), z.copy(), np.ones(3), 0.1, 1e-8, 10)
