"""Coordinate descent with an active set on a quadratic plus an L1 term.

    q(z) = g.(z - c) + 1/2 (z - c)^T A (z - c) + l1 sum_j pen_j |z_j|

``A`` symmetric positive semi-definite (a Gram / Hessian matrix), ``z`` updated in
place with ``G = g + A (z - c)`` kept in step (covariance updates, as glmnet does
on the Gram matrix: a coordinate move costs one column of ``A``).  Sweeps run over
the active set (the non-zero coordinates) until it settles, then one full sweep
checks the others; it stops when a full sweep finds every coordinate satisfying
its optimality condition within ``tol``:

    z_j != 0:  |G_j + l1 pen_j sign(z_j)| <= tol;   z_j = 0:  |G_j| <= l1 pen_j + tol.
"""

import numpy as np
from numba import njit


@njit(inline="always")
def _soft(u, t):
    if u > t:
        return u - t
    if u < -t:
        return u + t
    return 0.0


@njit(inline="always")
def _violation(Gj, zj, t):
    if zj > 0.0:
        return abs(Gj + t)
    if zj < 0.0:
        return abs(Gj - t)
    v = abs(Gj) - t
    return v if v > 0.0 else 0.0


@njit(inline="always")
def _update(j, A, G, z, pen, l1):
    a = A[j, j]
    if a <= 0.0:
        return 0.0
    old = z[j]
    new = _soft(old - G[j] / a, l1 * pen[j] / a)
    delta = new - old
    if delta != 0.0:
        z[j] = new
        m = z.shape[0]
        for i in range(m):
            G[i] += delta * A[i, j]
    return delta


@njit(cache=True)
def quadratic_l1_active_cd(A, G, z, pen, l1, tol, max_sweeps):
    """Minimise ``q`` from ``z`` (in place; ``G`` the gradient of the smooth part at
    ``z``, in place).  Returns ``(sweeps, largest violation)``."""
    m = z.shape[0]
    active = np.empty(m, dtype=np.int64)
    sweeps = 0
    worst = np.inf
    while sweeps < max_sweeps:
        # full sweep: update every coordinate, measure the violations first
        worst = 0.0
        for j in range(m):
            v = _violation(G[j], z[j], l1 * pen[j])
            if v > worst:
                worst = v
            if v > 0.0:
                _update(j, A, G, z, pen, l1)
        sweeps += 1
        if worst <= tol:
            break
        n_act = 0
        for j in range(m):
            if z[j] != 0.0 or pen[j] == 0.0:
                active[n_act] = j
                n_act += 1
        # active-set sweeps until the active coordinates are optimal
        while sweeps < max_sweeps:
            inner = 0.0
            for k in range(n_act):
                j = active[k]
                v = _violation(G[j], z[j], l1 * pen[j])
                if v > inner:
                    inner = v
                if v > 0.0:
                    _update(j, A, G, z, pen, l1)
            sweeps += 1
            if inner <= 0.1 * tol:
                break
    return sweeps, worst
