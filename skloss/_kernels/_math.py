"""Numba math shared by the kernel modules: vectorisable ``exp``, ``log1p`` and
the logistic function, and the per-sample weight.

libm's ``exp`` and ``log1p`` are opaque calls: a loop that calls them is never
vectorised (numba has no vector math library without Intel's SVML).  These
branch-free versions compile to plain SIMD arithmetic, so the hot loops of the
kernels run 4 (AVX2) or 8 samples per instruction.  Accuracy: within 3 ulp of the
correctly rounded value (tested against numpy); special values as libm's.

The helpers are ``inline="always"``: they are compiled into the kernels that call
them, with the caller's flags.  A numba cache entry is normally invalidated only
when the decorated function's own file changes; skloss's kernel cache
(:mod:`skloss._cache`) keys every entry on the sources of all kernel modules, this
one included, so editing a helper here recompiles every kernel that inlines it.
(The regression kernels keep their own table-driven ``exp`` / ``log``, compiled
with ``fastmath=False``, in :mod:`skloss._kernels._regression`.)
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

LOG2E = 1.4426950408889634
LN2 = 0.6931471805599453
LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2
LN2_LO = 1.90821492927058770002e-10
_LOG2E, _LN2, _LN2_HI, _LN2_LO = LOG2E, LN2, LN2_HI, LN2_LO


@intrinsic
def _i64_as_f64(typingctx, x):
    # reinterpret the bits of an int64 as a float64
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@njit(inline="always")
def _exp(x):
    # exp(x) = 2^n exp(f), f = x - n ln 2 in [-ln2/2, ln2/2] (Cody-Waite),
    # exp(f) by its degree-13 Taylor polynomial in Estrin form (error < 2^-56),
    # 2^n applied as two exact powers of two so under/overflow round as libm's
    x = 710.0 if x > 710.0 else x  # noqa: FURB136 (selects that let NaN through)
    x = -746.0 if x < -746.0 else x  # noqa: FURB136
    n = math.floor(x * _LOG2E + 0.5)
    f = (x - n * _LN2_HI) - n * _LN2_LO
    f2 = f * f
    f4 = f2 * f2
    a0 = 1.0 + f
    a1 = 0.5 + f * (1.0 / 6.0)
    a2 = 1.0 / 24.0 + f * (1.0 / 120.0)
    a3 = 1.0 / 720.0 + f * (1.0 / 5040.0)
    a4 = 1.0 / 40320.0 + f * (1.0 / 362880.0)
    a5 = 1.0 / 3628800.0 + f * (1.0 / 39916800.0)
    a6 = 1.0 / 479001600.0 + f * (1.0 / 6227020800.0)
    p = ((a0 + f2 * a1) + f4 * (a2 + f2 * a3)) + (f4 * f4) * ((a4 + f2 * a5) + f4 * a6)
    k = np.int64(n if n == n else 0.0)  # noqa: PLR0124 (NaN: k = 0, NaN stays NaN through p)
    k1 = k >> 1
    return p * _i64_as_f64((k1 + 1023) << 52) * _i64_as_f64((k - k1 + 1023) << 52)


@njit(inline="always")
def _log1p01(e):
    # log1p(e) for e in [0, 1] = 2 atanh(s): s = e / (2 + e), or, above
    # sqrt(2) - 1, ln 2 + 2 atanh(s) with s = (e - 1) / (3 + e); |s| < 0.1716,
    # series to s^19 (error < 2^-57)
    big = e > 0.41421356237309503
    s = (e - 1.0 if big else e) / (3.0 + e if big else 2.0 + e)
    z = s * s
    z2 = z * z
    z4 = z2 * z2
    a0 = 1.0 + z * (1.0 / 3.0)
    a1 = 1.0 / 5.0 + z * (1.0 / 7.0)
    a2 = 1.0 / 9.0 + z * (1.0 / 11.0)
    a3 = 1.0 / 13.0 + z * (1.0 / 15.0)
    a4 = 1.0 / 17.0 + z * (1.0 / 19.0)
    p = ((a0 + z2 * a1) + z4 * (a2 + z2 * a3)) + (z4 * z4) * a4
    return 2.0 * s * p + (_LN2 if big else 0.0)


@njit(inline="always")
def _sigmoid_parts(r):
    # e = exp(-|r|), log1p(e), p = sigma(r), q = 1 - sigma(r), p q
    e = _exp(-abs(r))
    lp = _log1p01(e)
    inv = 1.0 / (1.0 + e)
    pos = r >= 0.0
    p = inv if pos else e * inv
    q = e * inv if pos else inv
    return e, lp, p, q, e * inv * inv


@njit(inline="always")
def _weight(sw, i, weighted):
    if weighted:
        return np.float64(sw[i])
    return 1.0


@intrinsic
def _f64_as_i64(typingctx, x):
    # reinterpret the bits of a float64 as an int64
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@njit(inline="always")
def _log1p_pos(x):
    # log1p(x) for finite x >= 0 (a sum of exponentials).  libm's log1p costs
    # as much as the rest of a 10-class row; this is plain arithmetic:
    # u = 1 + x = 2^ex f with f in [sqrt(2)/2, sqrt(2)), log f = 2 atanh(s),
    # s = (f - 1) / (f + 1), |s| < 0.1716 (series to s^19), plus the rounding
    # correction (x - (u - 1)) / u of u.  Within 3 ulp of the true value.
    u = 1.0 + x
    bits = _f64_as_i64(u)
    ex = (bits >> 52) - 1023
    f = _i64_as_f64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = f > 1.4142135623730951
    f = 0.5 * f if big else f
    ex = ex + 1 if big else ex
    s = (f - 1.0) / (f + 1.0)
    z = s * s
    z2 = z * z
    z4 = z2 * z2
    a0 = 1.0 + z * (1.0 / 3.0)
    a1 = 1.0 / 5.0 + z * (1.0 / 7.0)
    a2 = 1.0 / 9.0 + z * (1.0 / 11.0)
    a3 = 1.0 / 13.0 + z * (1.0 / 15.0)
    a4 = 1.0 / 17.0 + z * (1.0 / 19.0)
    p = ((a0 + z2 * a1) + z4 * (a2 + z2 * a3)) + (z4 * z4) * a4
    fe = np.float64(ex)
    return fe * _LN2_HI + ((2.0 * s * p + fe * _LN2_LO) + (x - (u - 1.0)) / u)


# ---------------------------------------------------------------- the blocked linear pass
# The two halves of a fused pass's block of rows, shared by the chunk kernels of
# _binary (log loss) and _regression (GLM deviances); inlined into each kernel, so
# they compile with its instruction flags and vectorise there.  (skloss._cache
# stamps every kernel with the sources of the sibling modules it imports: editing
# these recompiles both kernels.)
@njit(inline="always")
def _block_raw(X, w, b, s0, m, rb):
    """``rb[i] = b + X[s0 + i] . w`` for ``i < m`` (float64 sums)."""
    p = X.shape[1]
    for i in range(m):
        r = b
        for j in range(p):
            r += np.float64(X[s0 + i, j]) * w[j]
        rb[i] = r


@njit(inline="always")
def _block_gradient(X, gb, s0, m, a):
    """``a[:p] += sum_i gb[i] X[s0 + i]`` and ``a[p] += sum_i gb[i]`` for ``i < m``."""
    p = X.shape[1]
    for i in range(m):
        gs = gb[i]
        for j in range(p):
            a[j] += gs * np.float64(X[s0 + i, j])
        a[p] += gs
