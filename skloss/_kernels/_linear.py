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
