"""The weighted Gram matrix of a row block, in cache-sized tiles.

:class:`BlockObjective` is the in-memory ``LinearObjective`` that every block task
of a dask fit builds on its worker; it differs only in ``_gram`` (the Hessian and
the covariance's Gram matrices ``X~^T diag(h) X~``), which forms the rows
``sqrt(h_i) x~_i`` a tile at a time and adds each tile's product while the tile is
in the core's cache (:func:`skloss._kernels._gram.weighted_gram_tiles`), in
``X``'s dtype as the in-memory route.  That Gram is most of a Newton pass with
the full Hessian on a cluster.
"""

import numpy as np

from skloss.linear_model._objective import LinearObjective

__all__ = ["BlockObjective", "weighted_gram"]

# rows of one tile of scaled rows (256 x 26 float64: 52 KB, in a core's L1/L2 cache; measured on one
# thread, 125,000 x 26: 4.1-4.8 ms from 256 to 1,024 rows, 6.8-8 ms from 1,536 rows on, where
# OpenBLAS's gemm blocks the inner dimension; 11-12 ms for the whole block broadcast, then syrk)
_TILE_ROWS = 256


def weighted_gram(X, h, fit_intercept):
    """``X~^T diag(h) X~`` (``X~ = [X, 1]`` with ``fit_intercept``) as a symmetric
    float64 matrix, or None when some ``h`` is negative (no square roots) or ``X``
    is not a C-contiguous float32 / float64 array."""
    from skloss._kernels._gram import weighted_gram_tiles

    if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.flags.c_contiguous
            and X.dtype in (np.float32, np.float64)):
        return None
    n, p = X.shape
    fi = bool(fit_intercept)
    m = p + fi
    h = np.ascontiguousarray(h, dtype=np.float64).reshape(n)
    rows = int(max(1, min(_TILE_ROWS, n)))
    tile = np.empty((rows, m), dtype=X.dtype)
    C = np.zeros((m, m))
    if not weighted_gram_tiles(X, h, fi, rows, tile, C):
        return None
    return 0.5 * (C + C.T)  # (exactly symmetric)


class BlockObjective(LinearObjective):
    """``LinearObjective`` with the tiled Gram (see the module docstring)."""

    def _gram(self, h, l2_reg):
        if self.sparse or self.n_samples == 0:
            return super()._gram(h, l2_reg)
        H = weighted_gram(self.X, h, self.fit_intercept)
        if H is None:  # (a negative curvature weight, or a layout the kernel does not take)
            return super()._gram(h, l2_reg)
        H *= 1.0 / self.weight_sum
        p = self.n_features
        H[np.arange(p), np.arange(p)] += l2_reg
        return H
