"""Element-wise kernels of the binary forms of the classification losses.

``y`` is in {0, 1}; ``raw`` is one score per sample (see ``skloss._kernels``).
"""

import math

import numpy as np
from numba import njit


@njit(inline="always")
def _log1pexp(x):
    # log(1 + exp(x)) without overflow
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@njit(inline="always")
def _expit(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# ---------------------------------------------------------------- log loss
# params[0] = label_smoothing eps: target t = y (1 - eps) + eps / 2
# loss = log(1 + exp(raw)) - t raw ;  grad = expit(raw) - t ;  hess = p (1 - p)


@njit(cache=True)
def log_loss(y, raw, sw, params, out_loss, out_grad, out_hess):
    n = raw.shape[0]
    eps = params[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        w = np.float64(sw[i]) if weighted else 1.0
        r = np.float64(raw[i])
        t = np.float64(y[i]) * (1.0 - eps) + 0.5 * eps
        if do_loss:
            out_loss[i] = w * (_log1pexp(r) - t * r)
        if do_grad or do_hess:
            p = _expit(r)
            if do_grad:
                out_grad[i] = w * (p - t)
            if do_hess:
                out_hess[i] = w * p * (1.0 - p)
