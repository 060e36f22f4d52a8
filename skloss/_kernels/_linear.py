"""Kernels of the linear-model solvers (see :mod:`skloss.linear_model._solvers`).

Called from Python only, never through a function pointer: ``no_cfunc_wrapper``
(numba does not build the C callback it otherwise adds to every function)."""

import numpy as np
from numba import njit

from ._multiclass import log_loss as _softmax_log_loss
from ._threads import chunk_sums


@njit(cache=True, fastmath=False, error_model="python", no_cfunc_wrapper=True)
def quadratic_l1_cd(H, diag, g, c0, z, Hd, pen, l1, tol, max_sweeps):
    """Coordinate descent on the proximal-Newton model

        q(z) = g.(z - c0) + 1/2 (z - c0)^T H (z - c0) + l1 sum_j pen_j |z_j|

    ``z`` (start, updated in place) and ``Hd = H (z - c0)`` (kept in step).
    ``diag`` is the (positive) diagonal used for the coordinate steps.  Stops
    when the largest scaled coordinate move ``diag_j |dz_j|`` is below ``tol``.
    Returns the number of sweeps.
    """
    m = z.shape[0]
    for sweep in range(max_sweeps):
        biggest = 0.0
        for j in range(m):
            a = diag[j]
            old = z[j]
            u = old - (g[j] + Hd[j]) / a
            t = l1 * pen[j] / a
            if u > t:
                new = u - t
            elif u < -t:
                new = u + t
            else:
                new = 0.0
            delta = new - old
            if delta != 0.0:
                z[j] = new
                for i in range(m):
                    Hd[i] += delta * H[i, j]
                move = abs(delta) * a
                if move > biggest:
                    biggest = move
        if biggest <= tol:
            return sweep + 1
    return max_sweeps


# ------------------------------------------------------------------ fused pass (softmax)
# One read of X per evaluation: per block of rows the K raw scores, the K-class
# log-loss kernel of skloss._kernels._multiclass on the block (the softmax
# cross-entropy has that one implementation, also the element-wise kernel and the
# network's output layer), and the accumulation of the gradient into per-chunk
# buffers (summed at the end, in chunk order).  Dense C-contiguous X, float32 or
# float64; arithmetic in float64.  Idle, 2 cores, 100,000 x 50 x 10, best of 15
# per pass: 9.4-9.7 ms against 8.7-8.9 ms for the former prange kernel with its
# own libm-exp softmax; a cold multinomial fit (50,000 x 50 x 5) 4.77 -> 3.37 s
# process CPU.
# (The binary log loss has its fused passes in skloss._kernels._binary, the
# log-link GLMs in skloss._kernels._regression.)


# re-association lets the row dot products and axpys vectorise (SIMD); no
# assumption about NaN / inf is made, so the stable formulas stay stable
_FAST = {"reassoc", "contract", "nsz"}
# rows per block of the fused softmax pass: their K scores, losses and gradients
# stay in cache from the scores to the gradient rows
_SOFTMAX_BLOCK = 64
_NO_HESS = np.empty((0, 0))


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy", no_cfunc_wrapper=True)
def _multinomial_chunk(first, stride, step, acc, X, y, sw, W, b, params, hess):
    # chunks first, first + stride, ...: rows [c step, (c + 1) step) of
    # multinomial_logloss_value_grad: per block of rows their K scores, then the
    # K-class log-loss kernel on the block (the one implementation of the softmax
    # cross-entropy, compiled on its own with IEEE arithmetic), then the gradient
    # rows; acc[c] (K, p + 2) receives the chunk's sums, its loss in acc[c, 0, p + 1].
    # The buffers and the accumulator are fresh arrays, copied out at the end: LLVM
    # then knows they alias nothing and vectorises the row loops (views of the
    # caller's arrays made the pass about twice as slow)
    n = X.shape[0]
    k, p = W.shape
    weighted = sw.shape[0] > 0
    R = np.empty((_SOFTMAX_BLOCK, k))
    L = np.empty(_SOFTMAX_BLOCK)
    G = np.empty((_SOFTMAX_BLOCK, k))
    a = np.empty((k, p + 2))
    for c in range(first, acc.shape[0], stride):
        for cc in range(k):
            for j in range(p + 2):
                a[cc, j] = 0.0
        stop = c * step + step
        stop = n if stop > n else stop
        for s0 in range(c * step, stop, _SOFTMAX_BLOCK):
            m = stop - s0
            m = _SOFTMAX_BLOCK if m > _SOFTMAX_BLOCK else m
            for i in range(m):
                for cc in range(k):
                    r = b[cc]
                    for j in range(p):
                        r += np.float64(X[s0 + i, j]) * W[cc, j]
                    R[i, cc] = r
            swb = sw[s0:s0 + m] if weighted else sw[:0]
            _softmax_log_loss(y[s0:s0 + m], R[:m], swb, params, L[:m], G[:m], hess)
            total = 0.0
            for i in range(m):
                total += L[i]
                for cc in range(k):
                    g = G[i, cc]
                    for j in range(p):
                        a[cc, j] += g * np.float64(X[s0 + i, j])
                    a[cc, p] += g
            a[0, p + 1] += total
        for cc in range(k):  # (loops, not acc[c] = a: numba's array assignment compiles slowly)
            for j in range(p + 2):
                acc[c, cc, j] = a[cc, j]


def multinomial_logloss_value_grad(X, y, sw, W, b, eps, n_chunks, grad):
    """Softmax cross-entropy at ``X @ W.T + b`` in one read of ``X``: returns the
    weighted loss sum; ``grad`` (K, p + 1) receives ``sum_i s_i g_ik [x_i, 1]``.
    ``eps``: label smoothing.  Rows are split in ``n_chunks`` chunks of equal
    length, run on threads and summed in chunk order
    (:func:`skloss._kernels._threads.chunk_sums`)."""
    k, p = W.shape
    # (labels and weights in float64 whatever X's dtype: the K-class kernel called on each
    # block is then its float64 specialisation, which the float64 pass compiles anyway,
    # not a second one for float32 labels, ~0.8 s of compile; exact, and n values to copy)
    y = np.asarray(y, dtype=np.float64)
    sw = np.asarray(sw, dtype=np.float64)
    total = chunk_sums(_multinomial_chunk, X.shape[0], n_chunks, (k, p + 2),
                       (X, y, sw, np.ascontiguousarray(W, dtype=np.float64),
                        np.ascontiguousarray(b, dtype=np.float64), np.array([float(eps)]), _NO_HESS))
    grad[:, :] = total[:, : p + 1]
    return float(total[0, p + 1])


multinomial_logloss_value_grad.kernel = _multinomial_chunk  # (skloss._warmup.kernel_dispatchers)


# ------------------------------------------------------------------ CSR Hessian-vector product
# (the fused CSR pass of the log loss is skloss._kernels._binary.log_loss_linear_csr)


@njit(cache=True, nogil=True, fastmath=False, error_model="python", no_cfunc_wrapper=True)
def _csr_weighted_gram_chunk(first, stride, step, acc, indptr, indices, data, h, v, vb):
    # chunks first, first + stride, ...: rows [c step, (c + 1) step) of
    # csr_weighted_gram_product; acc[c] (p + 1) receives the chunk's sums
    n = indptr.shape[0] - 1
    p = v.shape[0]
    for c in range(first, acc.shape[0], stride):
        a = acc[c]
        stop = c * step + step
        for i in range(c * step, n if stop > n else stop):
            r = vb
            for q in range(indptr[i], indptr[i + 1]):
                r += np.float64(data[q]) * v[indices[q]]
            u = h[i] * r
            for q in range(indptr[i], indptr[i + 1]):
                a[indices[q]] += u * np.float64(data[q])
            a[p] += u


def csr_weighted_gram_product(indptr, indices, data, h, v, vb, n_chunks, out):
    """``out[:p] = X^T (h * (X v + vb))`` and ``out[p] = sum h * (X v + vb)`` for
    CSR ``X`` in one read of ``X`` (a Hessian-vector product of a GLM).  Rows in
    ``n_chunks`` chunks of equal length on threads, summed in chunk order
    (:func:`skloss._kernels._threads.chunk_sums`; the same pass under
    ``parallel=True`` compiled in 1.0-1.3 s CPU per dtype, this serial chunk
    kernel in about a third of that)."""
    p = v.shape[0]
    out[:] = chunk_sums(_csr_weighted_gram_chunk, indptr.shape[0] - 1, n_chunks, (p + 1,),
                        (indptr, indices, data, h, v, float(vb)))


csr_weighted_gram_product.kernel = _csr_weighted_gram_chunk  # (skloss._warmup.kernel_dispatchers)
