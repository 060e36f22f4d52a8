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


# ------------------------------------------------------------------ fused passes (log loss)
# One read of X per evaluation: per row the raw score, the loss and its gradient,
# and the accumulation of the gradient into per-chunk buffers (summed at the end).
# Dense C-contiguous X, float32 or float64; arithmetic in float64.

import math  # noqa: E402

from numba import prange  # noqa: E402

# re-association lets the row dot products and axpys vectorise (SIMD); no
# assumption about NaN / inf is made, so the stable formulas stay stable
_FAST = {"reassoc", "contract", "nsz"}


@njit(inline="always")
def _log1pexp(x):
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@njit(inline="always")
def _expit(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(inline="always", fastmath=_FAST)
def _binary_rows(X, y, sw, w, b, eps, start, stop, a, hess_out):
    # rows [start, stop): a[:p] += g x, a[p] += g, a[p + 1] += loss
    p = X.shape[1]
    weighted = sw.shape[0] > 0
    want_h = hess_out.shape[0] > 0
    for i in range(start, stop):
        r = b
        for j in range(p):
            r += np.float64(X[i, j]) * w[j]
        s = np.float64(sw[i]) if weighted else 1.0
        t = np.float64(y[i]) * (1.0 - eps) + 0.5 * eps
        pr = _expit(r)
        g = s * (pr - t)
        a[p + 1] += s * (_log1pexp(r) - t * r)
        for j in range(p):
            a[j] += g * np.float64(X[i, j])
        a[p] += g
        if want_h:
            hess_out[i] = s * pr * (1.0 - pr)


@njit(cache=True, parallel=True, fastmath=_FAST)
def binary_logloss_value_grad(X, y, sw, w, b, eps, n_chunks, grad, hess_out):
    """Weighted sum of the binary log loss at ``X @ w + b`` and its gradient.

    ``grad`` (p + 1, float64) receives ``sum_i s_i g_i [x_i, 1]``; the return
    value is ``sum_i s_i loss_i``.  When ``hess_out`` has length n it receives
    ``s_i p_i (1 - p_i)`` (for a following Hessian).  Rows are split in
    ``n_chunks`` chunks run in parallel, with per-chunk accumulators.
    """
    n, p = X.shape
    acc = np.zeros((n_chunks, p + 2))
    step = (n + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        _binary_rows(X, y, sw, w, b, eps, c * step, min(n, c * step + step), acc[c], hess_out)
    total = 0.0
    for j in range(p + 1):
        grad[j] = 0.0
    for c in range(n_chunks):
        for j in range(p + 1):
            grad[j] += acc[c, j]
        total += acc[c, p + 1]
    return total


@njit(cache=True, fastmath=_FAST)
def binary_logloss_value_grad_serial(X, y, sw, w, b, eps, grad, hess_out):
    """:func:`binary_logloss_value_grad` on one thread (small problems: no
    thread-pool wake-up)."""
    n, p = X.shape
    acc = np.zeros(p + 2)
    _binary_rows(X, y, sw, w, b, eps, 0, n, acc, hess_out)
    for j in range(p + 1):
        grad[j] = acc[j]
    return acc[p + 1]


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


# ------------------------------------------------------------------ fused passes on CSR (log loss)
# The same one-read passes for a CSR matrix (indptr, indices, data): per row the
# sparse dot product, then the scatter of the row into a per-chunk accumulator
# of length p (the row is still in cache).  Chunks of rows run in parallel.


@njit(cache=True, parallel=True)
def binary_logloss_value_grad_csr(indptr, indices, data, y, sw, w, b, eps, n_chunks, grad, hess_out, diag_out):
    """:func:`binary_logloss_value_grad` for CSR ``X``.  When ``diag_out`` has
    length p it receives ``sum_i h_i x_ij^2`` (the diagonal of the data Hessian,
    ``h_i`` as in ``hess_out``, for a Jacobi preconditioner)."""
    n = indptr.shape[0] - 1
    p = w.shape[0]
    weighted = sw.shape[0] > 0
    want_h = hess_out.shape[0] > 0
    want_d = diag_out.shape[0] > 0
    acc = np.zeros((n_chunks, p + 2))
    dacc = np.zeros((n_chunks, p if want_d else 0))
    step = (n + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        a = acc[c]
        da = dacc[c]
        for i in range(c * step, min(n, c * step + step)):
            r = b
            for q in range(indptr[i], indptr[i + 1]):
                r += np.float64(data[q]) * w[indices[q]]
            s = np.float64(sw[i]) if weighted else 1.0
            t = np.float64(y[i]) * (1.0 - eps) + 0.5 * eps
            pr = _expit(r)
            g = s * (pr - t)
            a[p + 1] += s * (_log1pexp(r) - t * r)
            for q in range(indptr[i], indptr[i + 1]):
                a[indices[q]] += g * np.float64(data[q])
            a[p] += g
            hi = s * pr * (1.0 - pr)
            if want_h:
                hess_out[i] = hi
            if want_d:
                for q in range(indptr[i], indptr[i + 1]):
                    xq = np.float64(data[q])
                    da[indices[q]] += hi * xq * xq
    total = 0.0
    for j in range(p + 1):
        grad[j] = 0.0
    for j in range(diag_out.shape[0]):
        diag_out[j] = 0.0
    for c in range(n_chunks):
        for j in range(p + 1):
            grad[j] += acc[c, j]
        total += acc[c, p + 1]
        for j in range(diag_out.shape[0]):
            diag_out[j] += dacc[c, j]
    return total


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
