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


@njit(cache=True, fastmath=False, error_model="python")
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


@njit(cache=True, fastmath=False, error_model="python")
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


# ------------------------------------------------------------------------------
# Crammer-Singer multi-class form: sequential dual method
# ------------------------------------------------------------------------------
# Primal (divided by lam; C_i = omega_i / lam, e_im = margin [m != y_i]):
#
#     min_{W, b} 1/2 ||W||^2 + sum_i C_i max_m (e_im + r_im - r_iy),  r_im = w_m.x_i + b_m
#
# Dual (Keerthi, Sundararajan, Chang, Hsieh and Lin 2008): alpha (n, K) with
# sum_m alpha_im = 0, alpha_im <= C_i [m == y_i], w_m = sum_i alpha_im x_i:
#
#     min_alpha  1/2 ||W||^2 + sum_im e_im alpha_im  (+ b_c.s + rho/2 ||s||^2)
#
# s_m = sum_i alpha_im.  The intercept's constraint s = 0 is relaxed by the
# proximal term (method of multipliers): b = b_c + rho s.  The sub-problem of
# one sample is isotropic (Hessian (||x_i||^2 + rho) I), solved exactly by a
# sort of its K shifted gradients.


@njit(inline="always")
def _cs_subproblem(G, cls, na, yloc, Ci, Aq, alpha_i, newa, D):
    """Exact minimiser of Aq/2 ||d||^2 + G.d over the active classes ``cls[:na]``
    (``yloc`` the position of the true class), with sum(alpha + d) = 0 over the
    active classes and alpha_m + d_m <= C_m; the new values go to ``newa``."""
    if Aq <= 0.0:
        # linear sub-problem (x_i = 0, no intercept): a vertex
        if yloc >= na:  # (the true class dropped at C_i: nothing can move)
            for a in range(na):
                newa[a] = alpha_i[cls[a]]
            return
        best = 0.0
        arg = -1
        gy = G[yloc]
        for a in range(na):
            if a != yloc and G[a] - gy > best:
                best = G[a] - gy
                arg = a
        for a in range(na):
            newa[a] = 0.0
        if arg >= 0:
            newa[yloc] = Ci
            newa[arg] = -Ci
        return
    for a in range(na):
        D[a] = G[a] - Aq * alpha_i[cls[a]]
    if yloc < na:
        D[yloc] += Aq * Ci
    # sort D[:na] descending (insertion sort: na is small)
    for a in range(1, na):
        v = D[a]
        j = a - 1
        while j >= 0 and D[j] < v:
            D[j + 1] = D[j]
            j -= 1
        D[j + 1] = v
    acc = D[0] - Aq * Ci
    r = 1
    while r < na and acc < r * D[r]:
        acc += D[r]
        r += 1
    beta = acc / r
    for a in range(na):
        Bm = G[a] - Aq * alpha_i[cls[a]]
        v = (beta - Bm) / Aq
        cap = Ci if a == yloc else 0.0
        newa[a] = v if v < cap else cap


@njit(inline="always")
def _cs_violation(G, cls, na, yloc, Ci, alpha_i):
    # max_m G_m - min_{m: alpha_m < C_m} G_m over the active classes
    gmax = -np.inf
    gmin = np.inf
    for a in range(na):
        g = G[a]
        if g > gmax:
            gmax = g
        cap = Ci if a == yloc else 0.0
        if alpha_i[cls[a]] < cap and g < gmin:
            gmin = g
    return gmax, gmin


@njit(inline="always")
def _cs_shrink(G, cls, na, yloc, Ci, alpha_i, gmin):
    # drop the classes at their upper bound (0, or C_i for the true class) whose
    # gradient is below every free one: they would not move (liblinear's rule).
    # ``yloc`` follows the true class (>= na once it is dropped: every active
    # class then has the bound 0, and the sub-problem's sum constraint is unchanged)
    a = 0
    while a < na:
        cap = Ci if a == yloc else 0.0
        if alpha_i[cls[a]] == cap and G[a] < gmin:
            na -= 1
            if yloc == na:
                yloc = a
            elif yloc == a:
                yloc = na
            tmp = cls[a]
            cls[a] = cls[na]
            cls[na] = tmp
            g = G[a]
            G[a] = G[na]
            G[na] = g
        else:
            a += 1
    return na, yloc


@njit(cache=True, fastmath=False, error_model="python")
def cs_dual_cd_dense(X, y, C, qd, margin, rho, bc, alpha, Wt, s, tol, max_sweeps, seed, shrinking, move):
    """Sweeps of the Crammer-Singer sequential dual method on dense ``X``.

    ``y`` (n,) int64 classes, ``C`` (n,) = omega / lam (0: row left out), ``qd``
    (n,) ``||x_i||^2``, ``bc`` (K,) the proximal centre of the intercepts (moved to
    ``b = bc + rho s`` after each sweep when ``move``), ``alpha`` (n, K), ``Wt`` (p,
    K) = X^T alpha, ``s`` (K,) = column sums of alpha; all modified in place.
    Stops when a sweep over every row has ``max_i (max_m G_im - min_{free m}
    G_im) <= tol``.  Returns ``(sweeps, violation)``.
    """
    n, p = X.shape
    K = Wt.shape[1]
    idx = np.arange(n)
    state = np.uint64(seed) * np.uint64(2654435761) + np.uint64(88172645463325252)
    m = 0
    for i in range(n):
        if C[i] > 0.0:
            idx[m] = i
            m += 1
    n_live = m
    cls = np.empty((n, K), dtype=np.int64)
    nact = np.full(n, K, dtype=np.int64)
    ypos = np.empty(n, dtype=np.int64)
    for i in range(n):
        for k in range(K):
            cls[i, k] = k
        ypos[i] = y[i]
    G = np.empty(K)
    newa = np.empty(K)
    D = np.empty(K)
    b = np.empty(K)
    viol = np.inf
    sweeps = 0
    eps_shrink = max(10.0 * tol, 1.0) if shrinking else tol
    full = True
    while sweeps < max_sweeps:
        sweeps += 1
        state = _shuffle(idx, m, state)
        worst = 0.0
        for k in range(K):
            b[k] = bc[k] + rho * s[k]
        j = 0
        while j < m:
            i = idx[j]
            na = nact[i]
            yl = ypos[i]
            for a in range(na):
                G[a] = 0.0
            for f in range(p):
                xf = X[i, f]
                if xf != 0.0:
                    for a in range(na):
                        G[a] += xf * Wt[f, cls[i, a]]
            for a in range(na):
                k = cls[i, a]
                G[a] += (margin if a != yl else 0.0) + b[k]
            gmax, gmin = _cs_violation(G, cls[i], na, yl, C[i], alpha[i])
            if shrinking:
                na, yl = _cs_shrink(G, cls[i], na, yl, C[i], alpha[i], gmin)
                nact[i] = na
                ypos[i] = yl
                if na <= 1:
                    m -= 1
                    idx[j] = idx[m]
                    idx[m] = i
                    continue
            if gmax - gmin > worst:
                worst = gmax - gmin
            if gmax - gmin > 1e-14 * (1.0 + abs(gmax)):
                _cs_subproblem(G, cls[i], na, yl, C[i], qd[i] + rho, alpha[i], newa, D)
                for a in range(na):
                    k = cls[i, a]
                    d = newa[a] - alpha[i, k]
                    if d != 0.0:
                        alpha[i, k] = newa[a]
                        s[k] += d
                        b[k] += rho * d
                        for f in range(p):
                            Wt[f, k] += d * X[i, f]
            j += 1
        viol = worst
        if move:
            for k in range(K):
                bc[k] = bc[k] + rho * s[k]
        if viol <= eps_shrink:
            if full and viol <= tol:
                break
            # every row and class again, then a tighter shrinking threshold
            m = n_live
            for i in range(n):
                nact[i] = K
            for i in range(n):
                for k in range(K):
                    cls[i, k] = k
                ypos[i] = y[i]
            eps_shrink = max(0.5 * eps_shrink, tol)
            full = True
        else:
            full = not shrinking
    return sweeps, viol


@njit(cache=True, fastmath=False, error_model="python")
def cs_dual_cd_csr(indptr, indices, data, y, C, qd, margin, rho, bc, alpha, Wt, s, tol, max_sweeps, seed,
                   shrinking, move):
    """:func:`cs_dual_cd_dense` on a CSR matrix."""
    n = y.shape[0]
    K = Wt.shape[1]
    idx = np.arange(n)
    state = np.uint64(seed) * np.uint64(2654435761) + np.uint64(88172645463325252)
    m = 0
    for i in range(n):
        if C[i] > 0.0:
            idx[m] = i
            m += 1
    n_live = m
    cls = np.empty((n, K), dtype=np.int64)
    nact = np.full(n, K, dtype=np.int64)
    ypos = np.empty(n, dtype=np.int64)
    for i in range(n):
        for k in range(K):
            cls[i, k] = k
        ypos[i] = y[i]
    G = np.empty(K)
    newa = np.empty(K)
    D = np.empty(K)
    b = np.empty(K)
    viol = np.inf
    sweeps = 0
    eps_shrink = max(10.0 * tol, 1.0) if shrinking else tol
    full = True
    while sweeps < max_sweeps:
        sweeps += 1
        state = _shuffle(idx, m, state)
        worst = 0.0
        for k in range(K):
            b[k] = bc[k] + rho * s[k]
        j = 0
        while j < m:
            i = idx[j]
            na = nact[i]
            yl = ypos[i]
            for a in range(na):
                G[a] = 0.0
            for q in range(indptr[i], indptr[i + 1]):
                xf = data[q]
                f = indices[q]
                for a in range(na):
                    G[a] += xf * Wt[f, cls[i, a]]
            for a in range(na):
                k = cls[i, a]
                G[a] += (margin if a != yl else 0.0) + b[k]
            gmax, gmin = _cs_violation(G, cls[i], na, yl, C[i], alpha[i])
            if shrinking:
                na, yl = _cs_shrink(G, cls[i], na, yl, C[i], alpha[i], gmin)
                nact[i] = na
                ypos[i] = yl
                if na <= 1:
                    m -= 1
                    idx[j] = idx[m]
                    idx[m] = i
                    continue
            if gmax - gmin > worst:
                worst = gmax - gmin
            if gmax - gmin > 1e-14 * (1.0 + abs(gmax)):
                _cs_subproblem(G, cls[i], na, yl, C[i], qd[i] + rho, alpha[i], newa, D)
                for a in range(na):
                    k = cls[i, a]
                    d = newa[a] - alpha[i, k]
                    if d != 0.0:
                        alpha[i, k] = newa[a]
                        s[k] += d
                        b[k] += rho * d
                        for q in range(indptr[i], indptr[i + 1]):
                            Wt[indices[q], k] += d * data[q]
            j += 1
        viol = worst
        if move:
            for k in range(K):
                bc[k] = bc[k] + rho * s[k]
        if viol <= eps_shrink:
            if full and viol <= tol:
                break
            m = n_live
            for i in range(n):
                nact[i] = K
            for i in range(n):
                for k in range(K):
                    cls[i, k] = k
                ypos[i] = y[i]
            eps_shrink = max(0.5 * eps_shrink, tol)
            full = True
        else:
            full = not shrinking
    return sweeps, viol
