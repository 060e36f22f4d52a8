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

import math

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


@njit(cache=True, fastmath=False, error_model="python")
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


# ------------------------------------------------------------------ GLM (IRLS) coordinate descent
# The proximal Newton model of a single-output linear model in the change of the raw
# prediction delta = X (z - w) + (b' - b):
#     sum_i (ag_i delta_i + ah_i delta_i^2 / 2) + l2/2 |z|^2 + l1 sum_j pen_j |z_j|
# (ag, ah: the weighted per-sample gradient and curvature at the current point),
# minimised by coordinate descent on the columns of X (CSC, or a Fortran-ordered dense
# array) keeping delta in step: a coordinate costs two reads of its column, no
# Hessian is formed (glmnet's inner loop).


@njit(inline="always")
def _col_dot_csc(indptr, indices, data, j, v):
    s = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        s += data[k] * v[indices[k]]
    return s


@njit(inline="always")
def _col_sq_dot_csc(indptr, indices, data, j, v):
    s = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        x = data[k]
        s += x * x * v[indices[k]]
    return s


@njit(inline="always")
def _col_axpy_csc(indptr, indices, data, j, a, out):
    for k in range(indptr[j], indptr[j + 1]):
        out[indices[k]] += a * data[k]


@njit(inline="always")
def _glm_coordinate(j, gj, cj, z, w, l1, l2, pen):
    """New value of coordinate j from the model's gradient gj (without the L2 term)
    and curvature cj (without l2)."""
    a = cj + l2
    if a <= 0.0:
        return z[j]
    u = z[j] - (gj + l2 * z[j]) / a
    return _soft(u, l1 * pen[j] / a)


@njit(cache=True, fastmath=False, error_model="python")
def glm_cd_csc(indptr, indices, data, ag, ah, w, z, delta, pen, l1, l2, fit_intercept, db, unit, tol, max_sweeps):
    """Minimise the model above over ``z`` (in place, starts at its values) and the
    intercept change ``db[0]`` (in place); on return ``delta`` (in place, ``X (z - w)
    + db`` on entry) is ``X (z - w) + db``; a ``delta`` of length 0 means zero on entry
    and not wanted on return (a caller that reads the next point's curvature from the
    objective's pass: one scattered pass over the entries fewer).  Stops when a full sweep moves no
    coordinate by more than ``tol`` in scaled gradient units (``curvature * |move| /
    unit_j``; ``unit`` has one entry per coefficient, the intercept's last).  Returns
    the sweeps run.

    PERF: one pass stores each entry's curvature-weighted value ``ah_i x_ij`` (and
    the columns' curvatures); a coordinate move then updates the model's gradient in
    raw with one scattered add per entry, and ``delta`` is brought up to date once at
    the end (the sweeps kept three scattered arrays in step: 4.5 -> 2.5 ms a sweep on
    100,000 x 5,000 CSR of density 0.002)."""
    p = z.shape[0]
    n = ag.shape[0]
    want_delta = delta.shape[0] > 0
    nnz = indptr[p]
    curv = np.empty(p)
    hdata = np.empty(nnz)
    for j in range(p):
        s = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            hx = ah[indices[k]] * data[k]
            hdata[k] = hx
            s += hx * data[k]
        curv[j] = s
    hb = 0.0
    for i in range(n):
        hb += ah[i]
    resid = np.empty(n)  # ag + ah * delta: the model's gradient in raw
    if want_delta:
        for i in range(n):
            resid[i] = ag[i] + ah[i] * delta[i]
    else:
        for i in range(n):
            resid[i] = ag[i]
    z0 = z.copy()
    db0 = db[0]
    active = np.empty(p, dtype=np.int64)
    sweeps = 0
    full = True
    n_act = 0
    while sweeps < max_sweeps:
        biggest = 0.0
        m = p if full else n_act
        for k in range(m):
            j = k if full else active[k]
            gj = _col_dot_csc(indptr, indices, data, j, resid)
            new = _glm_coordinate(j, gj, curv[j], z, w, l1, l2, pen)
            step = new - z[j]
            if step != 0.0:
                z[j] = new
                for q in range(indptr[j], indptr[j + 1]):
                    resid[indices[q]] += hdata[q] * step
                move = abs(step) * (curv[j] + l2) / unit[j]
                if move > biggest:
                    biggest = move
        if fit_intercept and hb > 0.0:
            gb = 0.0
            for i in range(n):
                gb += resid[i]
            step = -gb / hb
            if step != 0.0:
                db[0] += step
                for i in range(n):
                    resid[i] += ah[i] * step
                move = abs(gb) / unit[p]
                if move > biggest:
                    biggest = move
        sweeps += 1
        if biggest <= tol:
            if full:
                break
            full = True  # the active set has settled: check every coordinate
        else:
            if full:
                n_act = 0
                for j in range(p):
                    if z[j] != 0.0:
                        active[n_act] = j
                        n_act += 1
                full = n_act == 0
            # (otherwise keep sweeping the active set)
    if not want_delta:
        return sweeps
    step = db[0] - db0
    if step != 0.0:
        for i in range(n):
            delta[i] += step
    for j in range(p):
        step = z[j] - z0[j]
        if step != 0.0:
            _col_axpy_csc(indptr, indices, data, j, step, delta)
    return sweeps


# ------------------------------------------------------------------ L1 least squares on a Gram matrix
@njit(cache=True, fastmath=False, error_model="python")
def gram_l1_least_squares(G, rhs, xbar, zbar, sa, sb, rss0, raw, l1, l2, tol, n, w, col):
    """L1 / elastic-net least squares from the centred Gram matrix of
    :func:`skloss.linear_model._lstsq.centred_gram`, all in one compiled call (PERF:
    the thirty small NumPy operations around the sweeps cost about 100 us a fit):

        min_w  w^T G' w - 2 rhs'.w + l1 |w|_1 + l2 / 2 |w|^2

    in the units of ``centred_gram`` (``u = sa w / sb``), solved by
    :func:`quadratic_l1_active_cd` on the equilibrated matrix.  Writes ``w`` (the
    coefficients in the caller's units) and ``col`` (each column's weighted RMS, the
    units of the stopping rule).  Returns ``(sweeps, intercept, g0, opt)``: ``g0`` the
    RMS per-sample gradient at the intercept-only start and ``opt`` the scale-free
    violation certified from the Gram gradient plus the worst-case rounding bound of
    :func:`skloss.linear_model._solver_cd.least_squares_cd` when ``raw`` (the Gram
    matrix of ``X`` itself), else ``inf`` (the caller reads ``X`` again)."""
    p = G.shape[0]
    e = np.empty(p)
    for j in range(p):
        d = 2.0 * G[j, j] + l2 / (sa[j] * sa[j])
        e[j] = math.sqrt(d) if d > 0.0 else 1.0
    A = np.empty((p, p))
    for i in range(p):
        for j in range(p):
            A[i, j] = 2.0 * G[i, j] / (e[i] * e[j])
        A[i, i] += l2 / (sa[i] * sa[i]) / (e[i] * e[i])
    grad = np.empty(p)
    pen = np.empty(p)
    q = np.zeros(p)
    for j in range(p):
        grad[j] = -2.0 * rhs[j] / e[j]
        pen[j] = 1.0 / (sa[j] * e[j])
    # (solve far below tol, but not below the rounding of the running gradient)
    inner = max(1e-3 * min(tol, 1e-4), 1e-14) * max(math.sqrt(rss0), 1e-300)
    sweeps, _ = quadratic_l1_active_cd(A, grad, q, pen, l1 / sb, inner, 100000)
    b = zbar
    for j in range(p):
        w[j] = sb * (q[j] / e[j]) / sa[j]
        b -= xbar[j] * w[j]
        c = G[j, j] * sa[j] * sa[j] + xbar[j] * xbar[j]
        col[j] = math.sqrt(c) if c > 0.0 else 1.0
    g0 = 2.0 * sb * math.sqrt(rss0)
    if not (g0 > 0.0 and g0 < np.inf):
        g0 = 1.0
    opt = np.inf
    if raw and rss0 > 0.0:
        eps = 2.220446049250313e-16
        gamma = n * eps / (1.0 - n * eps) if n * eps < 0.5 else np.inf
        s1 = 0.0
        for j in range(p):
            s1 += col[j] * abs(w[j])
        opt = 10.0 * gamma * (s1 + math.sqrt(zbar * zbar + rss0)) / math.sqrt(rss0)
        worst = 0.0
        for j in range(p):
            g = -rhs[j]
            for k in range(p):
                g += G[j, k] * w[k]
            g = 2.0 * g + l2 * w[j]
            v = _violation(g, w[j], l1) / col[j]
            if v > worst:
                worst = v
        opt += worst / g0
    return sweeps, b, g0, opt
