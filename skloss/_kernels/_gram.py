"""Weighted Gram matrices ``X~^T diag(h) X~`` (``X~ = [X, 1]``) of many rows and few columns.

The Gram matrix is the product of the rows ``sqrt(h_i) x~_i`` with themselves.
Forming those rows with a NumPy broadcast costs about as much as the product
(an element-wise loop restarted for every short row), and forming all of them
at once sends a copy of ``X`` through main memory.  :func:`weighted_gram_tiles`
forms them a tile of rows at a time (a few hundred KB, which stays in the core's
cache) and adds the tile's product ``T^T T`` (BLAS ``gemm`` through ``np.dot``)
while the tile is hot.

Compile time (a cold process pays it at its first Hessian or covariance): the
tile product calls numba's own BLAS wrapper (``numba_xxgemm``, which ``np.dot``
calls) through a small intrinsic.  ``C += np.dot(T.T, T)`` compiled ``np.dot``'s
generic implementation, an allocation and an array expression: 0.9-1.0 s CPU
for this kernel; ``np.dot(T.T, T, prod)`` 0.5 s.  The kernels are called from
Python only: ``no_cfunc_wrapper`` (no C callback built for a function pointer).
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def _tile_gram(typingctx, tile, rows, prod):
    """``prod = tile[:rows].T @ tile[:rows]`` by BLAS ``?gemm`` (numba's wrapper
    ``numba_xxgemm``, resolved by name like ``np.dot``'s, so the kernel caches).
    ``tile``: C-contiguous (., m), ``prod``: C-contiguous (m, m), same float
    dtype.  Returns the wrapper's status (0: done)."""
    if not (isinstance(tile, types.Array) and isinstance(prod, types.Array) and tile.ndim == 2
            and prod.ndim == 2 and tile.layout == "C" and prod.layout == "C"
            and tile.dtype == prod.dtype and tile.dtype in (types.float32, types.float64)):
        return None
    kind = ord("d" if tile.dtype == types.float64 else "s")
    sig = types.int32(tile, types.intp, prod)

    def codegen(context, builder, signature, args):
        char = ir.IntType(8)
        void_p = char.as_pointer()
        intp = cgutils.intp_t
        fnty = ir.FunctionType(ir.IntType(32), [char, char, char, intp, intp, intp, void_p, void_p, intp,
                                                void_p, intp, void_p, void_p, intp])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        t = context.make_array(signature.args[0])(context, builder, args[0])
        c = context.make_array(signature.args[2])(context, builder, args[2])
        m = builder.extract_value(t.shape, 1)
        one = cgutils.alloca_once_value(builder, context.get_constant(tile.dtype, 1.0))
        zero = cgutils.alloca_once_value(builder, context.get_constant(tile.dtype, 0.0))
        a = builder.bitcast(t.data, void_p)
        # column-major view: the tile is M (m x rows, leading dimension m); prod = M M^T
        return builder.call(fn, (ir.Constant(char, kind), ir.Constant(char, ord("n")),
                                 ir.Constant(char, ord("t")), m, m, args[1],
                                 builder.bitcast(one, void_p), a, m, a, m,
                                 builder.bitcast(zero, void_p), builder.bitcast(c.data, void_p), m))

    return sig, codegen


@njit(cache=True, fastmath=False, error_model="python", no_cfunc_wrapper=True)
def weighted_gram_tiles(X, h, fit_intercept, rows, tile, prod, C):
    """``C += X~^T diag(h) X~`` (the full symmetric matrix), tile by tile.

    ``X``: C-contiguous (n, p), float32 or float64; ``h``: float64 (n,);
    ``tile``: C-contiguous (rows, p + fit_intercept) and ``prod`` (p +
    fit_intercept, p + fit_intercept), both in the dtype of the products (that of
    ``X`` for a Hessian, as BLAS ``?syrk`` on ``X``'s rows would; float64 for
    covariances); ``C``: float64 (p + fit_intercept, p + fit_intercept).  Returns
    0, or 1, with ``C`` partly updated, as soon as an ``h`` is negative (no square
    root: the caller takes another route; NaN passes through), or 2 when BLAS
    failed."""
    n, p = X.shape
    m = C.shape[0]
    for start in range(0, n, rows):
        stop = start + rows
        stop = n if stop > n else stop  # (min() is one more helper to compile)
        for i in range(start, stop):
            hi = h[i]
            if hi < 0.0:
                return 1
            s = math.sqrt(hi)
            r = i - start
            for j in range(p):
                tile[r, j] = X[i, j] * s
            if fit_intercept:
                tile[r, p] = s
        if _tile_gram(tile, stop - start, prod) != 0:
            return 2
        for j in range(m):
            for k in range(m):
                C[j, k] += prod[j, k]
    return 0


@njit(cache=True, fastmath=False, error_model="python", no_cfunc_wrapper=True)
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
