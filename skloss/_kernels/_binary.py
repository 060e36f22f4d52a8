"""Element-wise kernels of the binary forms of the classification losses.

``y`` is in {0, 1}; ``raw`` is one score per sample (see ``skloss._kernels``).
The margin losses use the signed label ``z = 2 y - 1`` in {-1, +1}.

Numerical conventions: the logistic quantities are built from one
``e = exp(-|r|)`` (so ``sigma(r)`` and ``1 - sigma(r)`` are both accurate and
nothing overflows), and the probit quantities from ``erfc`` in the normal range
and a continued fraction of the Mills ratio in the lower tail.
"""

import math

import numpy as np
from numba import njit

_INV_SQRT2 = 0.7071067811865476
_INV_SQRT2PI = 0.3989422804014327
_LOG_SQRT2PI = 0.9189385332046728
_LOG2E = 1.4426950408889634
_LN2 = 0.6931471805599453
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2
_LN2_LO = 1.90821492927058770002e-10


# ------------------------------------------------------- vectorisable exp / log1p
# shared with the other kernel modules: skloss._kernels._math
from ._math import _block_gradient, _block_raw, _exp, _log1p01, _sigmoid_parts, _weight  # noqa: E402,F401


# Helpers compiled on their own and inlined by LLVM into the kernels that call them
# (forceinline): they are never called from Python, so numba builds neither of the
# wrappers it otherwise adds to every function (a CPython entry point and a C
# callback), less code to lower and optimise in a cold process.
_NESTED = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}


# ---------------------------------------------------------------- log loss
# params[0] = label_smoothing eps: target t = y (1 - eps) + eps / 2
# loss = log(1 + exp(r)) - t r ;  grad = sigma(r) - t ;  hess = p (1 - p)


@njit(forceinline=True, error_model="numpy", fastmath=False, **_NESTED)
def _logistic_point(t, r):
    # loss, gradient, hessian from one e = exp(-|r|); the gradient is formed
    # from e so that sigma(r) - 1 keeps its relative precision for large r.
    # Select-only control flow: the loops below vectorise.  Compiled once on its
    # own (IEEE arithmetic, fastmath=False stated so that no caller's flags are
    # inherited) and inlined by LLVM into every loop that calls it: inlining it
    # at the numba level into the five loops of the driver made ``log_loss``
    # compile in 4.2 s CPU instead of 1.3 s, at the same speed.
    e = _exp(-abs(r))
    inv = 1.0 / (1.0 + e)
    lp = _log1p01(e)
    pos = r > 0.0
    loss = ((r if pos else 0.0) - t * r) + lp
    grad = (((1.0 - t) - t * e) if pos else ((1.0 - t) * e - t)) * inv
    return loss, grad, e * inv * inv


@njit(inline="always")
def _xlogx(x):
    # x log x with 0 log 0 = 0
    if x > 0.0:
        return x * math.log(x)
    return 0.0


@njit(inline="always")
def _logistic_driver(y, raw, sw, eps, kl, out_loss, out_grad, out_hess):
    # shared by log_loss and kl_divergence (kl adds sum t log t per sample)
    n = raw.shape[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    a = 1.0 - eps
    b = 0.5 * eps
    if do_loss and do_grad and not do_hess and not kl:
        # the hot path of first-order solvers: one fused, vectorised pass (one
        # loop for weighted and unweighted rows: a unit weight multiplies
        # exactly, and LLVM unswitches the loop-invariant test)
        for i in range(n):
            loss, grad, _ = _logistic_point(np.float64(y[i]) * a + b, np.float64(raw[i]))
            w = _weight(sw, i, weighted)
            out_loss[i] = w * loss
            out_grad[i] = w * grad
        return
    if do_grad and do_hess and not do_loss:
        # the hot path of Newton solvers
        for i in range(n):
            _, grad, hess = _logistic_point(np.float64(y[i]) * a + b, np.float64(raw[i]))
            w = _weight(sw, i, weighted)
            out_grad[i] = w * grad
            out_hess[i] = w * hess
        return
    for i in range(n):
        t = np.float64(y[i]) * a + b
        loss, grad, hess = _logistic_point(t, np.float64(raw[i]))
        w = _weight(sw, i, weighted)
        if do_loss:
            if kl:
                loss += _xlogx(t) + _xlogx(1.0 - t)
            out_loss[i] = w * loss
        if do_grad:
            out_grad[i] = w * grad
        if do_hess:
            out_hess[i] = w * hess


@njit(cache=True, error_model="numpy", fastmath=False)
def log_loss(y, raw, sw, params, out_loss, out_grad, out_hess):
    _logistic_driver(y, raw, sw, params[0], False, out_loss, out_grad, out_hess)


# ---------------------------------------------------------------- KL divergence
# KL(t || p) over the two outcomes = log loss - H(t), H(t) = -t log t - (1-t) log(1-t)


@njit(cache=True, error_model="numpy", fastmath=False)
def kl_divergence(y, raw, sw, params, out_loss, out_grad, out_hess):
    _logistic_driver(y, raw, sw, params[0], True, out_loss, out_grad, out_hess)


# ---------------------------------------------------------------- probit
# loss = -[y log Phi(r) + (1 - y) log Phi(-r)]


@njit(forceinline=True, error_model="numpy", fastmath=False, **_NESTED)
def _log_ndtr_mills(x):
    # returns (log Phi(x), M(x) = phi(x) / Phi(x), M(x) (x + M(x)))
    # M(x) (x + M(x)) = -d^2/dx^2 log Phi(x) is in (0, 1).
    if x >= -3.0:
        if x >= 0.0:
            tail = 0.5 * math.erfc(x * _INV_SQRT2)
            big_phi = 1.0 - tail
            log_phi = math.log1p(-tail)
        else:
            big_phi = 0.5 * math.erfc(-x * _INV_SQRT2)
            log_phi = math.log(big_phi)
        m = _INV_SQRT2PI * math.exp(-0.5 * x * x) / big_phi
        return log_phi, m, m * (x + m)
    # lower tail, u = -x > 3: Laplace's continued fraction of the Mills ratio,
    # (1 - Phi(u)) / phi(u) = 1 / (u + c),  c = 1 / (u + 2 / (u + 3 / (u + ...))).
    # Then M = u + c and M (x + M) = c (u + c) with no cancellation.
    u = -x
    if u < 4.0:
        depth = 80
    elif u < 8.0:
        depth = 40
    elif u < 15.0:
        depth = 20
    else:
        depth = 12
    s = 0.0
    for k in range(depth, 1, -1):
        s = k / (u + s)
    c = 1.0 / (u + s)
    m = u + c
    return -0.5 * u * u - _LOG_SQRT2PI - math.log(m), m, c * m


@njit(forceinline=True, error_model="numpy", fastmath=False, **_NESTED)
def _probit_point(yi, r):
    if yi == 1.0 or yi == 0.0:
        z = 2.0 * yi - 1.0
        lphi, m, h = _log_ndtr_mills(z * r)
        return -lphi, -z * m, h
    lp1, m1, h1 = _log_ndtr_mills(r)
    lp0, m0, h0 = _log_ndtr_mills(-r)
    return -yi * lp1 - (1.0 - yi) * lp0, -yi * m1 + (1.0 - yi) * m0, yi * h1 + (1.0 - yi) * h0


@njit(cache=True, error_model="numpy", fastmath=False)
def probit(y, raw, sw, params, out_loss, out_grad, out_hess):
    n = raw.shape[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        loss, grad, hess = _probit_point(np.float64(y[i]), np.float64(raw[i]))
        w = _weight(sw, i, weighted)
        if do_loss:
            out_loss[i] = w * loss
        if do_grad:
            out_grad[i] = w * grad
        if do_hess:
            out_hess[i] = w * hess


# ---------------------------------------------------------------- margin losses
# z = 2 y - 1, m = z r.  Subgradients follow sklearn's SGD losses (active at
# the kink).


@njit(cache=True, error_model="numpy", fastmath=False)
def hinge(y, raw, sw, params, out_loss, out_grad, out_hess):
    # loss = max(0, 1 - m); grad = -z where m <= 1
    n = raw.shape[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        z = 2.0 * np.float64(y[i]) - 1.0
        v = 1.0 - z * np.float64(raw[i])
        w = _weight(sw, i, weighted)
        if do_loss:
            out_loss[i] = w * v if v > 0.0 else 0.0
        if do_grad:
            out_grad[i] = -w * z if v >= 0.0 else 0.0
        if do_hess:
            out_hess[i] = 0.0


@njit(cache=True, error_model="numpy", fastmath=False)
def perceptron(y, raw, sw, params, out_loss, out_grad, out_hess):
    # loss = max(0, -m); grad = -z where m <= 0
    n = raw.shape[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        z = 2.0 * np.float64(y[i]) - 1.0
        v = -z * np.float64(raw[i])
        w = _weight(sw, i, weighted)
        if do_loss:
            out_loss[i] = w * v if v > 0.0 else 0.0
        if do_grad:
            out_grad[i] = -w * z if v >= 0.0 else 0.0
        if do_hess:
            out_hess[i] = 0.0


@njit(cache=True, error_model="numpy", fastmath=False)
def squared_hinge(y, raw, sw, params, out_loss, out_grad, out_hess):
    # loss = max(0, 1 - m)^2; grad = -2 z max(0, 1 - m); hess = 2 z^2 where m < 1
    n = raw.shape[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        z = 2.0 * np.float64(y[i]) - 1.0
        v = 1.0 - z * np.float64(raw[i])
        w = _weight(sw, i, weighted)
        if v > 0.0:
            if do_loss:
                out_loss[i] = w * v * v
            if do_grad:
                out_grad[i] = -2.0 * w * z * v
            if do_hess:
                out_hess[i] = 2.0 * w * z * z
        else:
            if do_loss:
                out_loss[i] = 0.0
            if do_grad:
                out_grad[i] = 0.0
            if do_hess:
                out_hess[i] = 0.0


@njit(cache=True, error_model="numpy", fastmath=False)
def modified_huber(y, raw, sw, params, out_loss, out_grad, out_hess):
    # m >= 1: 0 ; -1 <= m < 1: (1 - m)^2 ; m < -1: -4 m   (sklearn's ModifiedHuber)
    n = raw.shape[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        z = 2.0 * np.float64(y[i]) - 1.0
        m = z * np.float64(raw[i])
        w = _weight(sw, i, weighted)
        if m >= 1.0:
            loss = 0.0
            grad = 0.0
            hess = 0.0
        elif m >= -1.0:
            loss = (1.0 - m) * (1.0 - m)
            grad = -2.0 * z * (1.0 - m)
            hess = 2.0 * z * z
        else:
            loss = -4.0 * m
            grad = -4.0 * z
            hess = 0.0
        if do_loss:
            out_loss[i] = w * loss
        if do_grad:
            out_grad[i] = w * grad
        if do_hess:
            out_hess[i] = w * hess


# ---------------------------------------------------------------- exponential
# loss = y exp(-r) + (1 - y) exp(r)  (= exp(-z r) for y in {0, 1}); hess = loss


@njit(forceinline=True, error_model="numpy", fastmath=False, **_NESTED)
def _exp_ieee(x):
    # _exp compiled once on its own and inlined by LLVM into each of the seven
    # loops below that call it: inlined at the numba level into each of them, the
    # driver compiled in 1.35 s CPU per dtype, now 0.6-0.8 s (same bits, same speed)
    return _exp(x)


@njit(cache=True, error_model="numpy", fastmath=False)
def exponential(y, raw, sw, params, out_loss, out_grad, out_hess):
    n = raw.shape[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    if do_loss and do_grad and not do_hess:
        # hot path, vectorised: exp(-z r) for y in {0, 1}; other y fixed below
        if weighted:
            for i in range(n):
                z = 2.0 * np.float64(y[i]) - 1.0
                w = np.float64(sw[i])
                # a zero weight drops the sample, even where exp overflowed
                e = w * _exp_ieee(-z * np.float64(raw[i])) if w != 0.0 else 0.0
                out_loss[i] = e
                out_grad[i] = -z * e
        else:
            for i in range(n):
                z = 2.0 * np.float64(y[i]) - 1.0
                e = _exp_ieee(-z * np.float64(raw[i]))
                out_loss[i] = e
                out_grad[i] = -z * e
    else:
        for i in range(n):
            z = 2.0 * np.float64(y[i]) - 1.0
            w = _weight(sw, i, weighted)
            e = _exp_ieee(-z * np.float64(raw[i])) if w != 0.0 else 0.0
            if do_loss:
                out_loss[i] = w * e
            if do_grad:
                out_grad[i] = -w * z * e
            if do_hess:
                out_hess[i] = w * e
    if not _all_binary(y):
        _exponential_soft(y, raw, sw, out_loss, out_grad, out_hess)


@njit(inline="always")
def _all_binary(y):
    # a cheap vectorised scan, so that the fix-up below is never speculated
    soft = 0
    for i in range(y.shape[0]):
        yi = y[i]
        soft += (yi != 0.0) & (yi != 1.0)
    return soft == 0


@njit(inline="always")
def _exponential_soft(y, raw, sw, out_loss, out_grad, out_hess):
    # y in (0, 1): y exp(-r) + (1 - y) exp(r)
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(y.shape[0]):
        yi = np.float64(y[i])
        if yi != 0.0 and yi != 1.0:
            r = np.float64(raw[i])
            w = _weight(sw, i, weighted)
            a = yi * _exp_ieee(-r) if w != 0.0 else 0.0
            c = (1.0 - yi) * _exp_ieee(r) if w != 0.0 else 0.0
            if do_loss:
                out_loss[i] = w * (a + c)
            if do_grad:
                out_grad[i] = w * (c - a)
            if do_hess:
                out_hess[i] = w * (a + c)


# ---------------------------------------------------------------- focal
# params = (gamma, alpha, has_alpha).  With s = z r, p = sigma(s) = p_t,
# q = 1 - p, L = log p:
#   f   = -a_t q^gamma L
#   f'  =  a_t q^gamma (gamma p L - q)
#   f'' =  a_t p q^gamma (gamma L (q - gamma p) + (2 gamma + 1) q)
# grad = z f'(s), hess = z^2 f''(s); a_t = alpha y + (1 - alpha) (1 - y) or 1.


@njit(cache=True, error_model="numpy", fastmath=False)
def focal(y, raw, sw, params, out_loss, out_grad, out_hess):
    n = raw.shape[0]
    gamma = params[0]
    alpha = params[1]
    has_alpha = params[2] != 0.0
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        yi = np.float64(y[i])
        z = 2.0 * yi - 1.0
        s = z * np.float64(raw[i])
        _, lp, p, q, _ = _sigmoid_parts(s)
        log_p = -(max(-s, 0.0) + lp)
        log_q = -(max(s, 0.0) + lp)
        qg = _exp(gamma * log_q) if gamma != 0.0 else 1.0
        at = alpha * yi + (1.0 - alpha) * (1.0 - yi) if has_alpha else 1.0
        w = _weight(sw, i, weighted) * at
        if do_loss:
            out_loss[i] = -w * qg * log_p
        if do_grad:
            out_grad[i] = w * z * qg * (gamma * p * log_p - q)
        if do_hess:
            out_hess[i] = (
                w * z * z * p * qg * (gamma * log_p * (q - gamma * p) + (2.0 * gamma + 1.0) * q)
            )


# ---------------------------------------------------------------- Brier
# loss = (p - y)^2, p = sigma(r); grad = 2 a p q; hess = 2 (p q)^2 + 2 a p q (q - p)


@njit(cache=True, error_model="numpy", fastmath=False)
def brier(y, raw, sw, params, out_loss, out_grad, out_hess):
    n = raw.shape[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        yi = np.float64(y[i])
        _, _, p, q, pq = _sigmoid_parts(np.float64(raw[i]))
        a = (1.0 - yi) * p - yi * q  # p - y, accurate for y in {0, 1}
        w = _weight(sw, i, weighted)
        if do_loss:
            out_loss[i] = w * a * a
        if do_grad:
            out_grad[i] = 2.0 * w * a * pq
        if do_hess:
            out_hess[i] = 2.0 * w * pq * (pq + a * (q - p))


# ---------------------------------------------------------------- fused passes of the linear models
# One read of X per evaluation of the log loss at X @ w + b: per row the raw score,
# the logistic point (one exp, one log1p, no libm call) and the accumulation of the
# gradient into per-chunk buffers, summed at the end.  The row dot product and row
# update are re-associated so that they vectorise; the point function is compiled
# on its own without fastmath (IEEE arithmetic) and inlined by LLVM, which keeps
# its instruction flags.  The block's raw scores and gradient rows are
# _math._block_raw / _block_gradient, shared with _regression's GLM pass.
#
# Threads: the compiled kernels are serial and release the GIL (nogil); the public
# functions run them on the calling thread and a persistent pool of Python threads
# (skloss._kernels._threads.run_chunks: one call per thread, chunks dealt in turn)
# and sum the per-chunk partial sums in chunk order.  The chunk layout depends only
# on ``n_chunks``, so the result is bit-identical whatever the number of threads and
# their timing.  The same body under ``parallel=True`` (prange over the chunks)
# compiled in 2.7 s CPU (fresh process, load 7), most of it numba's parallel
# machinery; serial 1.0 s.  The chunk kernels are called from Python only (never through a
# function pointer): ``no_cfunc_wrapper`` spares numba the C callback it would
# otherwise build for each of them.  The scratch buffers and the chunk's accumulator are
# arrays allocated in the kernel, the accumulator copied out by a loop at the end
# of the chunk: LLVM then knows they alias nothing and vectorises the row loops
# (views of the caller's arrays: 12-15% slower passes on 2 threads).  Zeroing and
# copying by loops, not ``np.zeros`` / ``acc[k] = a``: numba's array assignment
# compiled for 1.7 s more.

from ._threads import chunk_sums  # noqa: E402

_ROWS_FAST = {"reassoc", "contract", "nsz"}
_logistic_point_ieee = _logistic_point  # (compiled on its own, IEEE arithmetic)


_BLOCK = 256  # rows per block: 256 x p values stay in cache from the first loop to the last


@njit(cache=True, nogil=True, fastmath=_ROWS_FAST, error_model="numpy", no_cfunc_wrapper=True)
def _log_loss_linear_chunk(first, stride, step, acc, X, y, sw, w, b, eps, hess_out):
    # chunks first, first + stride, ...: rows [k step, (k + 1) step) of
    # log_loss_linear; acc[k] (p + 2) receives the chunk's gradient sums and, last,
    # its loss.  (No min() here: a helper compiled with the kernel.)
    n, p = X.shape
    weighted = sw.shape[0] > 0
    want_h = hess_out.shape[0] > 0
    rb = np.empty(_BLOCK)
    gb = np.empty(_BLOCK)
    hb = np.empty(_BLOCK)
    a = np.empty(p + 2)
    for k in range(first, acc.shape[0], stride):
        for j in range(p + 2):
            a[j] = 0.0
        stop = k * step + step
        stop = n if stop > n else stop
        for s0 in range(k * step, stop, _BLOCK):
            m = stop - s0
            m = _BLOCK if m > _BLOCK else m
            _block_raw(X, w, b, s0, m, rb)
            total = 0.0
            for i in range(m):
                lo, g, h = _logistic_point_ieee(np.float64(y[s0 + i]) * (1.0 - eps) + 0.5 * eps, rb[i])
                s = np.float64(sw[s0 + i]) if weighted else 1.0
                total += s * lo
                gb[i] = s * g
                hb[i] = s * h
            if want_h:
                for i in range(m):
                    hess_out[s0 + i] = hb[i]
            a[p + 1] += total
            _block_gradient(X, gb, s0, m, a)
        for j in range(p + 2):
            acc[k, j] = a[j]


def log_loss_linear(X, y, sw, w, b, eps, n_chunks, grad, hess_out):
    """Weighted sum of the binary log loss at ``X @ w + b`` (dense, C order) and
    its gradient: ``grad`` (p + 1, float64) receives ``sum_i s_i g_i [x_i, 1]``;
    when ``hess_out`` has length n it receives ``s_i p_i (1 - p_i)``.  ``eps``:
    label smoothing.  Rows are split in ``n_chunks`` chunks of equal length, run
    on threads and summed in chunk order (:func:`skloss._kernels._threads.chunk_sums`);
    per block of rows the raw scores, then the logistic point across the block (a
    loop that vectorises), then the gradient rows."""
    n, p = X.shape
    total = chunk_sums(_log_loss_linear_chunk, n, n_chunks, (p + 2,),
                       (X, y, sw, w, float(b), float(eps), hess_out))
    grad[:] = total[: p + 1]
    return float(total[p + 1])


log_loss_linear.kernel = _log_loss_linear_chunk  # (skloss._warmup.kernel_dispatchers)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=False, no_cfunc_wrapper=True)
def _log_loss_linear_csr_chunk(first, stride, step, acc, indptr, indices, data, y, sw, w, b, eps, hess_out):
    # chunks first, first + stride, ...: rows [k step, (k + 1) step) of
    # log_loss_linear_csr; acc[k]: the gradient sums, the loss, then (when acc has
    # 2 p + 2 columns) the diagonal of the data Hessian
    n = indptr.shape[0] - 1
    p = w.shape[0]
    weighted = sw.shape[0] > 0
    want_h = hess_out.shape[0] > 0
    want_d = acc.shape[1] > p + 2
    for k in range(first, acc.shape[0], stride):
        a = acc[k]
        stop = k * step + step
        for i in range(k * step, n if stop > n else stop):
            r = b
            for q in range(indptr[i], indptr[i + 1]):
                r += np.float64(data[q]) * w[indices[q]]
            lo, g, h = _logistic_point_ieee(np.float64(y[i]) * (1.0 - eps) + 0.5 * eps, r)
            s = _weight(sw, i, weighted)
            a[p + 1] += s * lo
            gs = s * g
            for q in range(indptr[i], indptr[i + 1]):
                a[indices[q]] += gs * np.float64(data[q])
            a[p] += gs
            hs = s * h
            if want_h:
                hess_out[i] = hs
            if want_d:
                for q in range(indptr[i], indptr[i + 1]):
                    xq = np.float64(data[q])
                    a[p + 2 + indices[q]] += hs * xq * xq


def log_loss_linear_csr(indptr, indices, data, y, sw, w, b, eps, n_chunks, grad, hess_out, diag_out):
    """:func:`log_loss_linear` for CSR ``X``.  When ``diag_out`` has length p it
    receives ``sum_i s_i h_i x_ij^2`` (the diagonal of the data Hessian, for a
    Jacobi preconditioner)."""
    p = w.shape[0]
    width = p + 2 + (p if diag_out.shape[0] > 0 else 0)
    total = chunk_sums(_log_loss_linear_csr_chunk, indptr.shape[0] - 1, n_chunks, (width,),
                       (indptr, indices, data, y, sw, w, float(b), float(eps), hess_out))
    grad[:] = total[: p + 1]
    if diag_out.shape[0] > 0:
        diag_out[:] = total[p + 2:]
    return float(total[p + 1])


log_loss_linear_csr.kernel = _log_loss_linear_csr_chunk  # (skloss._warmup.kernel_dispatchers)
