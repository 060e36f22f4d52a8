"""Weighted Gram matrices ``X~^T diag(h) X~`` (``X~ = [X, 1]``) of many rows and few columns.

The Gram matrix is the product of the rows ``sqrt(h_i) x~_i`` with themselves.
Forming those rows with a NumPy broadcast costs about as much as the product
(an element-wise loop restarted for every short row), and forming all of them
at once sends a copy of ``X`` through main memory.  :func:`weighted_gram_tiles`
forms them a tile of rows at a time (a few hundred KB, which stays in the core's
cache) and adds the tile's product ``T^T T`` (BLAS ``gemm`` through ``np.dot``)
while the tile is hot.
"""

import math

import numpy as np
from numba import njit


@njit(cache=True)
def weighted_gram_tiles(X, h, fit_intercept, rows, tile, C):
    """``C += X~^T diag(h) X~`` (the full symmetric matrix), tile by tile.

    ``X``: C-contiguous (n, p), float32 or float64; ``h``: float64 (n,);
    ``tile``: C-contiguous (rows, p + fit_intercept) in ``X``'s dtype (the
    products run in that dtype, as BLAS ``?syrk`` on ``X``'s rows would);
    ``C``: float64 (p + fit_intercept, p + fit_intercept).  Returns False, with
    ``C`` partly updated, as soon as an ``h`` is negative (no square root: the
    caller takes another route); NaN passes through."""
    n, p = X.shape
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        for i in range(start, stop):
            hi = h[i]
            if hi < 0.0:
                return False
            s = math.sqrt(hi)
            r = i - start
            for j in range(p):
                tile[r, j] = X[i, j] * s
            if fit_intercept:
                tile[r, p] = s
        T = tile[: stop - start]
        C += np.dot(T.T, T)
    return True


@njit(cache=True)
def class_column_squares(X, cls, sw, out):
    """``out[cls[i], j] += sw[i] * X[i, j]**2`` over the rows (float64 sums): the
    (weighted) column sums of squares of each class, in one read of ``X``.

    ``X``: (n, p) float32 or float64; ``cls``: intp (n,), or length 0 for one
    class (row 0 of ``out``); ``sw``: float64 (n,), or length 0 for unit weights;
    ``out``: float64 (n_classes, p)."""
    n, p = X.shape
    one_class = cls.shape[0] == 0
    unit = sw.shape[0] == 0
    for i in range(n):
        k = 0 if one_class else cls[i]
        s = 1.0 if unit else sw[i]
        for j in range(p):
            v = np.float64(X[i, j])
            out[k, j] += s * (v * v)
