"""Dual coordinate descent for linear models with a piecewise-linear loss and an
L2 penalty (the method of liblinear, Hsieh et al. 2008, generalised to any
convex max-of-affine loss; the envelope of the pieces is computed by
:func:`skloss.linear_model._exact.envelope`).

Problem (primal), with ``omega_i = s_i / sum(s)``::

    min_{w, b}  sum_i omega_i l_i(x_i.w + b + o_i) + lam / 2 ||w||^2
    l_i(r) = max_j (A_ij r + C_ij)

The upper envelope of the pieces of row ``i`` has slopes ``s_0 < ... < s_K``
meeting at kinks ``t_1 < ... < t_K``.  The conjugate ``l_i*`` is finite on
``[s_0, s_K]`` and linear between consecutive slopes, with slope ``t_k`` on
``[s_{k-1}, s_k]``.  With ``beta_i = omega_i a_i`` the dual is::

    min_beta  1/(2 lam) ||X^T beta||^2 - sum_i beta_i (o_i + b_c)
              + rho / 2 (sum_i beta_i)^2 + sum_i phi_i(beta_i)

where ``phi_i`` is piecewise linear on the breakpoints ``bp_ik = omega_i s_k``
with slope ``t_k`` between them, and ``w = -X^T beta / lam``.  The unpenalised
intercept enters through the proximal (augmented-Lagrangian) term ``rho``: the
inner problem is the primal with ``(b - b_c)^2 / (2 rho)`` added, whose
intercept is ``b = b_c - rho sum(beta)``; the caller moves the centre ``b_c``
to ``b`` between sweeps (the method of multipliers) and polishes the result
exactly (crossover).  Without an intercept ``rho = 0`` and ``b_c = 0``.

Each coordinate step minimises a one-dimensional convex piecewise-quadratic
function exactly: ``Q/2 d^2 + g d + phi_i(beta_i + d)`` with
``Q = ||x_i||^2 / lam + rho`` and ``g = -(x_i.w + o_i + b)``; the segment where
the derivative changes sign is found by a scan over the (few) segments.

Rows are visited in a random order per sweep (a xorshift generator with a
fixed seed: the same data give the same iterates).  Stopping and shrinking
follow liblinear: the projected gradient ``pg`` of each coordinate (zero where
the coordinate cannot move) gives ``PGmax - PGmin`` per sweep, the stopping
measure; a coordinate at its lower (upper) bound whose gradient points outward
by more than last sweep's ``PGmax`` (``-PGmin``) is skipped until the shrunk
problem meets the tolerance, when every row is checked again before stopping.
"""

import numpy as np
from numba import njit


@njit(inline="always")
def _step(cur, g, Q, bp, t, i, K):
    # minimise Q/2 d^2 + g d + phi(cur + d) over the breakpoints bp[i, 0..K]
    new = bp[i, K]
    for k in range(K):
        cand = cur - (g + t[i, k]) / Q
        if cand <= bp[i, k + 1]:
            new = cand if cand > bp[i, k] else bp[i, k]
            break
    return new


@njit(inline="always")
def _xorshift(state):
    state ^= (state << np.uint64(13)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    state ^= state >> np.uint64(7)
    state ^= (state << np.uint64(17)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    return state


@njit(inline="always")
def _shuffle(idx, m, state):
    for j in range(m - 1, 0, -1):
        state = _xorshift(state)
        k = np.int64(state % np.uint64(j + 1))
        tmp = idx[j]
        idx[j] = idx[k]
        idx[k] = tmp
    return state


@njit(inline="always")
def _pg(cur, g, bp, t, i, K):
    # projected gradient of coordinate i at cur (0 where no move decreases D)
    if cur <= bp[i, 0]:
        d = g + t[i, 0]
        return d if d < 0.0 else 0.0
    if cur >= bp[i, K]:
        d = g + t[i, K - 1]
        return d if d > 0.0 else 0.0
    for k in range(K):
        if cur < bp[i, k + 1]:
            if cur > bp[i, k]:
                return g + t[i, k]
            # at the breakpoint between segments k - 1 and k
            right = g + t[i, k]
            left = g + t[i, k - 1]
            if right < 0.0:
                return right
            if left > 0.0:
                return left
            return 0.0
    return 0.0


@njit(cache=True)
def dual_cd_dense(X, off, bp, t, K, qd, lam, rho, bc, beta, w, S, tol, max_sweeps, seed, move):
    """Sweeps of dual coordinate descent on dense ``X`` (modifies ``beta``, ``w``).

    ``K`` (n,) is the number of segments per row (0: fixed coordinate), ``qd``
    (n,) ``||x_i||^2 / lam``.  ``move``: move the proximal centre ``bc`` to the
    intercept after each sweep.  Returns ``(S, bc, sweeps, violation)`` with
    ``S = sum(beta)`` and the last sweep's ``PGmax - PGmin``.
    """
    n, p = X.shape
    idx = np.arange(n)
    state = np.uint64(seed) * np.uint64(2654435761) + np.uint64(88172645463325252)
    m = 0
    for i in range(n):
        if K[i] > 0:
            idx[m] = i
            m += 1
    n_live = m
    viol = np.inf
    sweeps = 0
    hi_old = np.inf
    lo_old = -np.inf
    while sweeps < max_sweeps:
        sweeps += 1
        was_full = m == n_live
        state = _shuffle(idx, m, state)
        pmax = -np.inf
        pmin = np.inf
        j = 0
        while j < m:
            i = idx[j]
            b = bc - rho * S
            r = off[i] + b
            for f in range(p):
                r += X[i, f] * w[f]
            g = -r
            cur = beta[i]
            k = K[i]
            if cur <= bp[i, 0] and g + t[i, 0] > hi_old:
                m -= 1
                idx[j] = idx[m]
                idx[m] = i
                continue
            if cur >= bp[i, k] and g + t[i, k - 1] < lo_old:
                m -= 1
                idx[j] = idx[m]
                idx[m] = i
                continue
            pg = _pg(cur, g, bp, t, i, k)
            if pg > pmax:
                pmax = pg
            if pg < pmin:
                pmin = pg
            if pg != 0.0:
                Q = qd[i] + rho
                if Q <= 0.0:
                    Q = 1e-300
                new = _step(cur, g, Q, bp, t, i, k)
                d = new - cur
                if d != 0.0:
                    beta[i] = new
                    S += d
                    c = d / lam
                    for f in range(p):
                        w[f] -= c * X[i, f]
            j += 1
        viol = pmax - pmin if m > 0 else 0.0
        if move:
            bc = bc - rho * S  # the proximal centre moves to the current intercept
        if viol <= tol:
            if was_full:
                break
            # check every row again before stopping
            m = n_live
            hi_old = np.inf
            lo_old = -np.inf
            continue
        hi_old = pmax if pmax > 0.0 else np.inf
        lo_old = pmin if pmin < 0.0 else -np.inf
    return S, bc, sweeps, viol


@njit(cache=True)
def dual_cd_csr(indptr, indices, data, off, bp, t, K, qd, lam, rho, bc, beta, w, S, tol, max_sweeps, seed, move):
    """:func:`dual_cd_dense` on a CSR matrix."""
    n = off.shape[0]
    idx = np.arange(n)
    state = np.uint64(seed) * np.uint64(2654435761) + np.uint64(88172645463325252)
    m = 0
    for i in range(n):
        if K[i] > 0:
            idx[m] = i
            m += 1
    n_live = m
    viol = np.inf
    sweeps = 0
    hi_old = np.inf
    lo_old = -np.inf
    while sweeps < max_sweeps:
        sweeps += 1
        was_full = m == n_live
        state = _shuffle(idx, m, state)
        pmax = -np.inf
        pmin = np.inf
        j = 0
        while j < m:
            i = idx[j]
            b = bc - rho * S
            r = off[i] + b
            for q in range(indptr[i], indptr[i + 1]):
                r += data[q] * w[indices[q]]
            g = -r
            cur = beta[i]
            k = K[i]
            if cur <= bp[i, 0] and g + t[i, 0] > hi_old:
                m -= 1
                idx[j] = idx[m]
                idx[m] = i
                continue
            if cur >= bp[i, k] and g + t[i, k - 1] < lo_old:
                m -= 1
                idx[j] = idx[m]
                idx[m] = i
                continue
            pg = _pg(cur, g, bp, t, i, k)
            if pg > pmax:
                pmax = pg
            if pg < pmin:
                pmin = pg
            if pg != 0.0:
                Q = qd[i] + rho
                if Q <= 0.0:
                    Q = 1e-300
                new = _step(cur, g, Q, bp, t, i, k)
                d = new - cur
                if d != 0.0:
                    beta[i] = new
                    S += d
                    c = d / lam
                    for q in range(indptr[i], indptr[i + 1]):
                        w[indices[q]] -= c * data[q]
            j += 1
        viol = pmax - pmin if m > 0 else 0.0
        if move:
            bc = bc - rho * S
        if viol <= tol:
            if was_full:
                break
            m = n_live
            hi_old = np.inf
            lo_old = -np.inf
            continue
        hi_old = pmax if pmax > 0.0 else np.inf
        lo_old = pmin if pmin < 0.0 else -np.inf
    return S, bc, sweeps, viol
