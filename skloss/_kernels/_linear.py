"""Kernels of the linear-model solvers (see :mod:`skloss.linear_model._solvers`)."""

import numpy as np
from numba import njit


@njit(cache=True)
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
# One read of X per evaluation: per row the K raw scores, the loss and its
# gradient, and the accumulation of the gradient into per-chunk buffers (summed
# at the end).  Dense C-contiguous X, float32 or float64; arithmetic in float64.
# (The binary log loss has its fused passes in skloss._kernels._binary, the
# log-link GLMs in skloss._kernels._regression.)

import math  # noqa: E402

from numba import prange  # noqa: E402

# re-association lets the row dot products and axpys vectorise (SIMD); no
# assumption about NaN / inf is made, so the stable formulas stay stable
_FAST = {"reassoc", "contract", "nsz"}


@njit(inline="always", fastmath=_FAST)
def _softmax_xrows(X, y, sw, W, b, eps, start, stop, r, a):
    # rows [start, stop) of the fused softmax pass: a[k, :p] += g_k x, a[k, p] += g_k,
    # a[0, p + 1] += loss;  r is a (K,) scratch buffer
    k, p = W.shape
    weighted = sw.shape[0] > 0
    for i in range(start, stop):
        for c in range(k):
            acc = b[c]
            for j in range(p):
                acc += np.float64(X[i, j]) * W[c, j]
            r[c] = acc
        m = r[0]
        for c in range(1, k):
            if r[c] > m:
                m = r[c]
        ssum = 0.0
        rsum = 0.0
        cls = int(y[i])
        raw_y = r[cls]
        for c in range(k):
            rsum += r[c]
        for c in range(k):
            e = math.exp(r[c] - m)
            ssum += e
            r[c] = e  # r now holds exp(raw - max)
        s = np.float64(sw[i]) if weighted else 1.0
        lse = m + math.log(ssum)
        a[0, p + 1] += s * (lse - (1.0 - eps) * raw_y - eps / k * rsum)
        for c in range(k):
            t = eps / k + (1.0 - eps if c == cls else 0.0)
            g = s * (r[c] / ssum - t)
            for j in range(p):
                a[c, j] += g * np.float64(X[i, j])
            a[c, p] += g


@njit(cache=True, parallel=True, fastmath=_FAST)
def multinomial_logloss_value_grad(X, y, sw, W, b, eps, n_chunks, grad):
    """Softmax cross-entropy at ``X @ W.T + b`` in one read of ``X``: returns the
    weighted loss sum; ``grad`` (K, p + 1) receives ``sum_i s_i g_ik [x_i, 1]``."""
    n = X.shape[0]
    k, p = W.shape
    acc = np.zeros((n_chunks, k, p + 2))
    step = (n + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        r = np.empty(k)
        _softmax_xrows(X, y, sw, W, b, eps, c * step, min(n, c * step + step), r, acc[c])
    total = 0.0
    for kk in range(k):
        for j in range(p + 1):
            grad[kk, j] = 0.0
    for c in range(n_chunks):
        for kk in range(k):
            for j in range(p + 1):
                grad[kk, j] += acc[c, kk, j]
        total += acc[c, 0, p + 1]
    return total


# ------------------------------------------------------------------ CSR Hessian-vector product
# (the fused CSR pass of the log loss is skloss._kernels._binary.log_loss_linear_csr)


@njit(cache=True, parallel=True)
def csr_weighted_gram_product(indptr, indices, data, h, v, vb, n_chunks, out):
    """``out[:p] = X^T (h * (X v + vb))`` and ``out[p] = sum h * (X v + vb)`` for
    CSR ``X`` in one read of ``X`` (a Hessian-vector product of a GLM)."""
    n = indptr.shape[0] - 1
    p = v.shape[0]
    acc = np.zeros((n_chunks, p + 1))
    step = (n + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        a = acc[c]
        for i in range(c * step, min(n, c * step + step)):
            r = vb
            for q in range(indptr[i], indptr[i + 1]):
                r += np.float64(data[q]) * v[indices[q]]
            u = h[i] * r
            for q in range(indptr[i], indptr[i + 1]):
                a[indices[q]] += u * np.float64(data[q])
            a[p] += u
    for j in range(p + 1):
        out[j] = 0.0
    for c in range(n_chunks):
        for j in range(p + 1):
            out[j] += acc[c, j]
