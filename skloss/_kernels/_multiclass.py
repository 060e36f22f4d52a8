"""Kernels of the multi-class forms of the classification losses.

``y`` holds class indices 0..K-1 (as floats); ``raw`` is (n, K).  ``out_loss`` is
(n,), ``out_grad`` and ``out_hess`` (diagonal of each sample's Hessian) are (n, K).
"""

import math

import numpy as np
from numba import njit


@njit(inline="always")
def _softmax_row(raw, i, p):
    # fills p with softmax(raw[i]) and returns log-sum-exp(raw[i])
    k = raw.shape[1]
    m = np.float64(raw[i, 0])
    for j in range(1, k):
        if raw[i, j] > m:
            m = np.float64(raw[i, j])
    s = 0.0
    for j in range(k):
        e = math.exp(np.float64(raw[i, j]) - m)
        p[j] = e
        s += e
    for j in range(k):
        p[j] /= s
    return m + math.log(s)


# ------------------------------------------------------- categorical cross-entropy
# params[0] = label_smoothing eps: t_k = (1 - eps) 1[y == k] + eps / K
# loss = lse(raw) - sum_k t_k raw_k ; grad_k = p_k - t_k ; hess_kk = p_k (1 - p_k)


@njit(cache=True)
def log_loss(y, raw, sw, params, out_loss, out_grad, out_hess):
    n, k = raw.shape
    eps = params[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    p = np.empty(k)
    for i in range(n):
        w = np.float64(sw[i]) if weighted else 1.0
        lse = _softmax_row(raw, i, p)
        c = int(y[i])
        if do_loss:
            acc = 0.0
            for j in range(k):
                acc += np.float64(raw[i, j])
            out_loss[i] = w * (lse - (1.0 - eps) * np.float64(raw[i, c]) - eps / k * acc)
        if do_grad:
            for j in range(k):
                t = eps / k + (1.0 - eps if j == c else 0.0)
                out_grad[i, j] = w * (p[j] - t)
        if do_hess:
            for j in range(k):
                out_hess[i, j] = w * p[j] * (1.0 - p[j])


@njit(cache=True)
def softmax_hessian_product(raw, sw, direction, out):
    # row i: (diag(p) - p p^T) d_i, weighted
    n, k = raw.shape
    weighted = sw.shape[0] > 0
    p = np.empty(k)
    for i in range(n):
        w = np.float64(sw[i]) if weighted else 1.0
        _softmax_row(raw, i, p)
        pd = 0.0
        for j in range(k):
            pd += p[j] * np.float64(direction[i, j])
        for j in range(k):
            out[i, j] = w * p[j] * (np.float64(direction[i, j]) - pd)
