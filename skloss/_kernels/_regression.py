"""Element-wise kernels of the regression losses (see ``skloss._kernels``)."""

import numpy as np
from numba import njit

# ---------------------------------------------------------------- squared error


@njit(cache=True)
def squared_error(y, raw, sw, params, out_loss, out_grad, out_hess):
    n = raw.shape[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        w = np.float64(sw[i]) if weighted else 1.0
        d = np.float64(raw[i]) - np.float64(y[i])
        if do_loss:
            out_loss[i] = w * d * d
        if do_grad:
            out_grad[i] = 2.0 * w * d
        if do_hess:
            out_hess[i] = 2.0 * w
