"""Exact Crammer-Singer fits with an L2, L1 or elastic-net penalty, certified by
a duality gap.

Objective (``omega_i = s_i / sum(s)``, ``e_im = margin [m != y_i]``)::

    F(W, b) = sum_i omega_i max_m (e_im + r_im - r_iy_i) + l1 ||W||_1 + lam / 2 ||W||^2,
    r_im = w_m.x_i + b_m  (intercepts unpenalised)

Certificate.  Every ``alpha`` (n, K) with ``sum_m alpha_im = 0``,
``alpha_im <= (omega_i / lam) [m == y_i]`` and, with intercepts,
``sum_i alpha_im = 0`` gives the lower bound (the Lagrangian dual; L2 only)

    F* >= -lam (1/2 ||X^T alpha||^2 - margin sum_i alpha_iy_i);

with L1 the conjugate of the penalty replaces the square (:func:`cs_bound`).

A method stops when ``F(W, b) - bound <= tol max(|F|, |bound|)``; its
``alpha`` is first made feasible (rows rescaled, class sums restored by
:func:`cs_restore`), so the bound holds whatever the method's accuracy.

Methods
-------
``cs_interior_point``
    Mehrotra's primal-dual interior point on the epigraph form (one slack per
    sample and class; ``t >= |W|`` with two slacks per coefficient for L1); the
    Newton system is reduced to the ``K (p + 1)``
    coefficients (a dense Cholesky factorisation; the reduced matrix is a sum of
    K (K + 1) / 2 weighted Gram matrices of X).  About 20-40 iterations.
``cs_dual_cd`` (L2 only)
    The sequential dual method (Keerthi, Sundararajan, Chang, Hsieh and Lin
    2008; kernels in :mod:`skloss._kernels._dual`, with liblinear's shrinking),
    the intercepts by a proximal term (method of multipliers), then the
    working-set polish :func:`cs_polish`.  The sweeps alone need tens of
    thousands of passes to a tight gap on noisy data; a few hundred cheap
    (shrunk) sweeps tell which rows sit near a tie of their largest term, and
    the polish solves the problem on those rows by the interior point with every
    other row held on its affine piece, certified by the duality gap of the
    whole problem.  The default beyond a few thousand rows (the interior
    point's Newton matrix costs every row once per iteration).

References
----------
Crammer, K. and Singer, Y. (2001). On the algorithmic implementation of
multiclass kernel-based vector machines. JMLR 2, 265-292.

Keerthi, S. S., Sundararajan, S., Chang, K.-W., Hsieh, C.-J. and Lin, C.-J.
(2008). A sequential dual method for large scale multi-class linear SVMs. KDD.
"""

import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

__all__ = ["cs_bound", "cs_certificate", "cs_dual_cd", "cs_interior_point", "cs_restore"]

# rows per block when the reduced Newton matrix is formed (memory: block x K^2 x (p+1))
_BLOCK = 8192
# a sparse X with at most this many entries (32 MB) is made dense for the interior
# point: its Newton matrix is then BLAS products instead of K (K + 1) / 2 sparse
# ones (a polish's 10,176 x 301 working set, K = 3: 60 s sparse on a loaded machine)
_DENSE_ENTRIES = 4_000_000
# interior point: iterations after the certificate, towards a 1000x smaller gap
_EXTRA = 3
# dual CD: proximal weight of the intercepts relative to the mean ||x_i||^2
_RHO = 0.1


def cs_restore(alpha, y, C, G, target=None):
    """A dual point with every class sum zero (or ``target``), near ``alpha``.

    Mass is moved inside rows from classes whose sum is too large to those
    whose sum is too small (a transport between classes), cheapest rows first
    (first-order change ``G_ia - G_ic`` of the dual objective, ``G = X W^T +
    e``); every row keeps its zero sum and its bounds ``alpha_im <= C_i [m ==
    y_i]``.  Returns the corrected copy.
    """
    a = alpha.copy()
    n, K = a.shape
    upper = np.zeros((n, K))
    upper[np.arange(n), y] = C
    s = a.sum(axis=0) if target is None else a.sum(axis=0) - target
    need_up = np.maximum(-s, 0.0)  # the class sum must rise by this much
    need_dn = np.maximum(s, 0.0)  # ... or fall
    for _ in range(4 * K + 4):
        up, dn = int(np.argmax(need_up)), int(np.argmax(need_dn))
        amt = min(need_up[up], need_dn[dn])
        if amt <= 0.0:
            break
        room = upper[:, up] - a[:, up]
        cand = np.flatnonzero(room > 0.0)
        order = cand[np.argsort(G[cand, up] - G[cand, dn], kind="stable")]
        cum = np.cumsum(room[order])
        k = min(int(np.searchsorted(cum, amt)), order.size - 1)
        rows = order[: k + 1]
        t = room[rows].copy()
        if cum.size and cum[-1] >= amt:
            t[-1] = amt - (cum[k - 1] if k > 0 else 0.0)
        a[rows, up] += t
        a[rows, dn] -= t
        moved = float(t.sum())
        need_up[up] = max(need_up[up] - moved, 0.0)
        need_dn[dn] = max(need_dn[dn] - moved, 0.0)
        if moved < amt:  # no room left in this class (rounding)
            need_up[up] = 0.0
    return a


def _loss_rows(X, y, W, b, margin):
    n = X.shape[0]
    rows = np.arange(n)
    R = np.asarray(X @ W.T, dtype=np.float64) + b[None, :]
    ry = R[rows, y].copy()
    R += margin
    R[rows, y] -= margin
    return R.max(axis=1) - ry


def primal_value(X, y, omega, lam, margin, W, b, l1=0.0):
    return (float(omega @ _loss_rows(X, y, W, b, margin)) + 0.5 * lam * float(np.sum(W * W))
            + l1 * float(np.abs(W).sum()))


def cs_certificate(X, y, omega, lam, margin, alpha, fi):
    """The lower bound at ``alpha`` (L2 only; rows feasible; class sums restored
    when ``fi``) and ``W = X^T alpha`` (before the restoration), as ``(bound, W)``."""
    W = np.asarray(X.T @ alpha, dtype=np.float64).T
    return cs_bound(X, y, omega, 0.0, lam, margin, lam * alpha, fi, V=lam * W), W


def cs_bound(X, y, omega, l1, l2, margin, A, fi, V=None, const=0.0, target=None):
    """Lower bound on the optimum with the penalty ``l1 ||W||_1 + l2/2 ||W||^2``
    from the unscaled dual point ``A = omega e_y - mu`` (``mu >= 0``, rows summing
    to ``omega``): ``margin sum_i A_iy - phi*(X^T A)`` with ``phi*`` the conjugate
    of the penalty (``sum (|v| - l1)_+^2 / (2 l2)``; with ``l2 = 0``, ``A`` is
    first scaled into ``||X^T A||_inf <= l1``).  Class sums are restored when
    ``fi`` (to ``target``, default zero; -inf when they cannot be).

    A working-set problem passes the rows held at a vertex of their own dual
    (``A_i = omega_i (e_y - e_m)``) through ``V`` (their ``X^T A`` included),
    ``const`` (their ``margin sum A_iy``) and ``target`` (minus their class sums).
    """
    n, K = A.shape
    rows = np.arange(n)
    if V is None:
        V = np.asarray(X.T @ A, dtype=np.float64).T
    goal = np.zeros(K) if target is None else np.asarray(target, dtype=np.float64)
    if fi and np.any(A.sum(axis=0) != goal):
        Wg = V / l2 if l2 > 0 else V
        G = np.asarray(X @ Wg.T, dtype=np.float64) + margin
        G[rows, y] -= margin
        ar = cs_restore(A, y, omega, G, goal)
        d = ar - A
        moved = np.flatnonzero(np.any(d != 0.0, axis=1))
        V = V + (np.asarray(X[moved].T @ d[moved], dtype=np.float64).T if moved.size else 0.0)
        A = ar
        if np.max(np.abs(A.sum(axis=0) - goal)) > 1e-12 * (float(np.abs(omega).sum()) + float(np.abs(goal).sum())):
            return -np.inf  # (no room left to restore the class sums: no valid bound)
    lin = margin * float(A[rows, y].sum()) + const
    if l2 > 0:
        ex = np.maximum(np.abs(V) - l1, 0.0)
        return lin - 0.5 * float(np.sum(ex * ex)) / l2
    vmax = float(np.max(np.abs(V), initial=0.0))
    theta = 1.0 if vmax <= l1 else l1 / vmax
    return theta * lin


def _converged(F, LB, tol):
    return bool(np.isfinite(F) and np.isfinite(LB) and F - LB <= tol * max(abs(F), abs(LB)))


def _data(obj):
    X = obj.X
    X = sp.csr_matrix(X, dtype=np.float64) if sp.issparse(X) else np.ascontiguousarray(X, dtype=np.float64)
    n = X.shape[0]
    y = np.ascontiguousarray(np.asarray(obj.y).astype(np.int64))
    sw = np.ones(n) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64)
    return X, y, sw / float(sw.sum())


# ---------------------------------------------------------------- interior point
def _reduced_matrix(X, T, fi):
    """sum_i T_i (x) xt_i xt_i^T with xt_i = (x_i, 1) if fi, as a (K q, K q) matrix
    (T_i symmetric: the K (K + 1) / 2 weighted Gram matrices of one product)."""
    n, p = X.shape
    K = T.shape[1]
    q = p + int(fi)
    iu, ju = np.triu_indices(K)
    M = np.zeros((q, iu.size, q))
    if sp.issparse(X):
        Xt = sp.hstack([X, np.ones((n, 1))], format="csr") if fi else X
        for t, (a, c) in enumerate(zip(iu, ju)):
            prod = Xt.multiply(T[:, a, c][:, None]).tocsr().T @ Xt
            M[:, t, :] = prod.toarray() if sp.issparse(prod) else np.asarray(prod)
    else:
        Tu = T[:, iu, ju]
        for s0 in range(0, n, _BLOCK):
            Xb = X[s0:s0 + _BLOCK]
            if fi:
                Xb = np.hstack([Xb, np.ones((Xb.shape[0], 1))])
            Z = (Tu[s0:s0 + _BLOCK, :, None] * Xb[:, None, :]).reshape(Xb.shape[0], iu.size * q)
            M += (Xb.T @ Z).reshape(q, iu.size, q)
    out = np.zeros((K, q, K, q))
    for t, (a, c) in enumerate(zip(iu, ju)):
        out[a, :, c, :] = M[:, t, :]
        if a != c:
            out[c, :, a, :] = M[:, t, :].T
    return out.reshape(K * q, K * q)


def _factor(M):
    """Cholesky factor of M, with a growing diagonal shift when M is singular (an
    unpenalised direction: L1 without L2 on collinear columns, coefficients far
    from zero); an inexact Newton step is harmless, the certificate is separate."""
    top = max(float(np.max(np.diag(M))), 1e-300)
    for shift in (0.0, 1e-14, 1e-12, 1e-10, 1e-8):
        try:
            A = M if shift == 0.0 else M + shift * top * np.eye(M.shape[0])
            return sla.cho_factor(A, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            continue
    return None


def cs_interior_point(obj, tol=1e-10, max_iter=100, verbose=0):
    """Mehrotra's interior point for Crammer-Singer + L2 (see the module docstring).

    Returns ``(W, b, n_iter, certified, message)``.
    """
    X, y, omega = _data(obj)
    W, b, n_it, certified, msg, _ = _cs_ipm(X, y, omega, obj.n_outputs, bool(obj.fit_intercept),
                                            float(obj.l2_reg), float(obj.l1_reg),
                                            float(obj.loss.multiclass_margin), tol, max_iter, verbose)
    return W, b, n_it, certified, msg


def _cs_ipm(X, y, om, K, fi, lam, l1, margin, tol, max_iter, verbose, lin=None, const=0.0):
    """The interior point on rows ``X`` with weights ``om`` (not renormalised).

    ``lin`` (K, q) and ``const``: the gradient and the constant of rows held on
    one affine piece each (a working set's complement), added to the objective
    as ``const + <lin, U>``; the certificate is then that of this smaller
    problem.  Returns ``(W, b, n_iter, certified, message, bound)``.

    Units: the start (``W = 0``, unit slacks) and the path are not scale-free, so
    the method runs on ``X / s`` (``s`` the root mean square norm of the live
    rows) with ``W s``, ``lam / s^2`` and ``l1 / s``, the same problem (measured:
    ``X * 1e3`` overflowed the Newton matrix and stopped uncertified, while
    ``X`` with ``lam * 1e-6``, the same problem, certified).
    """
    live = om > 0
    if sp.issparse(X) and X.shape[0] * X.shape[1] <= _DENSE_ENTRIES:
        X = X.toarray()
    if sp.issparse(X):
        sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    else:
        sq = np.einsum("ij,ij->i", X, X)
    s = float(np.sqrt(np.mean(sq[live]))) if np.any(live) else 1.0
    if not (np.isfinite(s) and s > 0.0):
        s = 1.0
    if s != 1.0:
        X = X.multiply(1.0 / s).tocsr() if sp.issparse(X) else X / s
        if lin is not None:
            lin = lin.copy()
            lin[:, :X.shape[1]] /= s
    W, b, n_it, certified, msg, LB = _cs_ipm_scaled(X, y, om, K, fi, lam / (s * s), l1 / s, margin, tol,
                                                    max_iter, verbose, lin, const)
    return W / s, b, n_it, certified, msg, LB


def _cs_ipm_scaled(X, y, om, K, fi, lam, l1, margin, tol, max_iter, verbose, lin=None, const=0.0):
    n, p = X.shape
    rows = np.arange(n)
    q = p + int(fi)
    live = om > 0
    if lin is None:
        lin = np.zeros((K, q))
    lin_w, lin_b = lin[:, :p], (lin[:, p] if fi else np.zeros(K))
    held = bool(np.any(lin != 0.0) or const != 0.0)

    def value(W, b):  # the objective, with the held rows' affine part
        return (primal_value(X, y, om, lam, margin, W, b, l1) + const + float(np.sum(lin_w * W))
                + float(lin_b @ b))

    def scores(U):  # U (K, q) -> (n, K)
        R = np.asarray(X @ U[:, :p].T, dtype=np.float64)
        if fi:
            R = R + U[:, p][None, :]
        return R

    def adjoint(G):  # sum_i A_i^T g_i as (K, q)
        out = np.asarray(X.T @ G, dtype=np.float64).T
        if fi:
            out = np.hstack([out, G.sum(axis=0)[:, None]])
        return out

    def Et(V):  # (E_i^T v_i)_k = v_k - [k == y_i] sum_m v_m
        out = V.copy()
        out[rows, y] -= V.sum(axis=1)
        return out

    e = np.full((n, K), margin)
    e[rows, y] = 0.0
    U = np.zeros((K, q))
    R = scores(U)
    d = R - R[rows, y][:, None] + e
    xi = np.maximum(d.max(axis=1), 0.0) + 1.0
    z = xi[:, None] - d
    mu = np.repeat(np.where(live, om / K, 0.0)[:, None], K, axis=1)
    # rows of zero weight: their constraints are dropped (mu = 0, z large)
    dead = ~live
    pen = np.zeros((K, q))
    pen[:, :p] = lam
    # L1: t >= |W| with slacks s1 = t - W, s2 = t + W and duals n1, n2 (n1 + n2 = l1)
    if l1 > 0:
        tW = np.ones((K, p))
        s1, s2 = tW.copy(), tW.copy()
        n1, n2 = np.full((K, p), 0.5 * l1), np.full((K, p), 0.5 * l1)
    n_comp = max(int(live.sum()) * K, 1) + (2 * K * p if l1 > 0 else 0)
    # alpha = 0 bounds the optimum by 0: a zero objective at the start is optimal
    # (a margin-0 loss such as the perceptron)
    F0 = value(U[:, :p], np.zeros(K))
    best = (F0, U[:, :p].copy(), np.zeros(K))
    n_it = 0
    msg = "iteration limit"
    LB = -np.inf
    certified = not held and _converged(F0, 0.0, tol)
    if certified:
        return best[1], best[2], 1, True, "optimal (zero objective at W = 0, b = 0)", 0.0
    scale_b = None
    extra = 0
    for n_it in range(1, max_iter + 1):
        r_u = pen * U + adjoint(Et(mu)) + lin
        r_xi = om - mu.sum(axis=1)
        if l1 > 0:
            r_u[:, :p] += n1 - n2
            r_t = l1 - n1 - n2
            D1, D2 = n1 / s1, n2 / s2
            dt_ = D1 + D2
        Dm = mu / z
        Dm[dead] = 0.0
        delta = Dm.sum(axis=1)  # (0 on rows of zero weight: no term in T)
        # T_i = E^T D E - u u^T / delta, u = E^T dvec
        T = np.zeros((n, K, K))
        T[:, np.arange(K), np.arange(K)] = Dm
        T[rows, y, :] -= Dm
        T[rows, :, y] -= Dm
        T[rows, y, y] += delta
        delta[dead] = 1.0  # (their u is 0; a unit divisor keeps their steps finite)
        uvec = Et(Dm)
        T -= uvec[:, :, None] * uvec[:, None, :] / delta[:, None, None]
        M = _reduced_matrix(X, T, fi)
        dg = pen.copy()
        if l1 > 0:
            dg[:, :p] += 4.0 * D1 * D2 / dt_
        M[np.diag_indices_from(M)] += dg.ravel()
        if fi:
            if scale_b is None:
                scale_b = 1.0
            bidx = np.arange(K) * q + p
            sb = max(float(np.mean(np.diag(M)[bidx])), 1e-300)
            M[np.ix_(bidx, bidx)] += sb / K
        cf = _factor(M)
        if cf is None:
            msg = "reduced Newton matrix not positive definite"
            break
        comp = float(np.sum(z[live] * mu[live]))
        if l1 > 0:
            comp += float(np.sum(s1 * n1) + np.sum(s2 * n2))
        tau = comp / n_comp

        def direction(rc, rc1=None, rc2=None):
            c = rc / z
            c[dead] = 0.0
            h = c - Dm * ((c.sum(axis=1) - r_xi) / delta)[:, None]
            rhs = -r_u - adjoint(Et(h))
            if l1 > 0:
                c1, c2 = rc1 / s1, rc2 / s2
                k12 = (c1 + c2 - r_t) / dt_
                rhs[:, :p] -= (c1 - D1 * k12) - (c2 - D2 * k12)
            dU = sla.cho_solve(cf, rhs.ravel(), check_finite=False).reshape(K, q)
            dR = scores(dU)
            v = dR - dR[rows, y][:, None]
            dxi = (c.sum(axis=1) + (Dm * v).sum(axis=1) - r_xi) / delta
            dz = dxi[:, None] - v
            dmu = c - Dm * dz
            dmu[dead] = 0.0
            l1d = None
            if l1 > 0:
                dw = dU[:, :p]
                dtw = (c1 + c2 + D1 * dw - D2 * dw - r_t) / dt_
                ds1, ds2 = dtw - dw, dtw + dw
                l1d = (dtw, ds1, ds2, c1 - D1 * ds1, c2 - D2 * ds2)
            return dU, dxi, dz, dmu, l1d

        def steplen(x, dx):
            neg = dx < 0
            if not np.any(neg):
                return 1.0
            return float(min(1.0, np.min(-x[neg] / dx[neg])))

        def maxstep(dz, dmu, l1d):
            st = min(steplen(z[live], dz[live]), steplen(mu[live], dmu[live]))
            if l1d is not None:
                st = min(st, steplen(s1, l1d[1]), steplen(s2, l1d[2]), steplen(n1, l1d[3]), steplen(n2, l1d[4]))
            return st

        if l1 > 0:
            dU, dxi, dz, dmu, l1d = direction(-z * mu, -s1 * n1, -s2 * n2)
        else:
            dU, dxi, dz, dmu, l1d = direction(-z * mu)
        a_aff = maxstep(dz, dmu, l1d)
        comp_aff = float(np.sum((z + a_aff * dz)[live] * (mu + a_aff * dmu)[live]))
        if l1 > 0:
            comp_aff += float(np.sum((s1 + a_aff * l1d[1]) * (n1 + a_aff * l1d[3]))
                              + np.sum((s2 + a_aff * l1d[2]) * (n2 + a_aff * l1d[4])))
        sigma = (comp_aff / n_comp / tau) ** 3 if tau > 0 else 0.0
        if l1 > 0:
            dU, dxi, dz, dmu, l1d = direction(sigma * tau - z * mu - dz * dmu,
                                              sigma * tau - s1 * n1 - l1d[1] * l1d[3],
                                              sigma * tau - s2 * n2 - l1d[2] * l1d[4])
        else:
            dU, dxi, dz, dmu, l1d = direction(sigma * tau - z * mu - dz * dmu)
        a = min(1.0, 0.995 * maxstep(dz, dmu, l1d))
        U += a * dU
        xi += a * dxi
        z += a * dz
        mu += a * dmu
        if l1 > 0:
            tW += a * l1d[0]
            s1 += a * l1d[1]
            s2 += a * l1d[2]
            n1 += a * l1d[3]
            n2 += a * l1d[4]
        # certificate: the primal at U, the dual at mu (rows rescaled to sum omega)
        W, b = U[:, :p], (U[:, p] if fi else np.zeros(K))
        F = value(W, b)
        if F < best[0]:
            best = (F, W.copy(), b.copy())
        gap_ipm = float(np.sum(z[live] * mu[live])) + (float(np.sum(s1 * n1) + np.sum(s2 * n2)) if l1 > 0 else 0.0)
        if certified or gap_ipm <= 1e3 * tol * abs(F) or n_it % 10 == 0:
            ms = mu.sum(axis=1)
            mf = np.where(ms[:, None] > 0, mu * (om / np.where(ms > 0, ms, 1.0))[:, None], 0.0)
            mf[dead] = 0.0
            al = -mf
            al[rows, y] += om
            if held:
                V = np.asarray(X.T @ al, dtype=np.float64).T - lin_w
                LB = max(LB, cs_bound(X, y, om, l1, lam, margin, al, fi, V=V, const=const, target=lin_b))
            else:
                LB = max(LB, cs_bound(X, y, om, l1, lam, margin, al, fi))
            if verbose > 1:
                print(f"  cs interior point {n_it}: F {F:.15g}, bound {LB:.15g}, step {a:.3f}")
            if _converged(best[0], LB, tol):
                certified = True
                msg = f"optimal (duality gap {(best[0] - LB) / max(abs(best[0]), 1e-300):.1e} relative)"
                # a few more iterations sharpen the coefficients (weighted and repeated
                # rows then agree to ~1e-10, as scikit-learn's checks ask)
                extra += 1
                if extra > _EXTRA or _converged(best[0], LB, 1e-3 * tol):
                    break
        if a < 1e-12:
            msg = "step length collapsed"
            break
    F, W, b = best
    if not certified:
        msg = f"interior point: {msg} (no certificate)"
    return W, b, n_it, certified, msg, LB


# ---------------------------------------------------------------- dual CD
# sweeps allowed per unit of max_iter (a sweep over the shrunk rows is cheap)
_SWEEPS_PER_ITER = 200
# sweeps in the first stage (doubling per stage)
_STAGE_SWEEPS = 1000
# the polish's working set: at most this many rows (the interior point's Newton
# matrix costs rows x K (K + 1) / 2 x (p + 1)^2 per iteration; 16,000 x 26 x 4:
# ~0.1 s per iteration on a loaded machine)
_MAX_WORKING = 16000
# its first round takes the rows within the sweeps' last violation of a tie, or,
# when they are more than _MAX_WORKING, within _NEAR times it (make_classification
# 200,000 x 25 x 4, sweeps to 0.1: the rows that change piece or sit at a tie at
# the optimum were within 0.31 of it, 99% within 0.19); when these are still too
# many the sweeps go on to a tighter tolerance first
_NEAR = 0.25
_MAX_ROUNDS = 8
# ... and its interior point factors a dense K (p + 1) square matrix: beyond this
# many coefficients the sweeps alone must reach the certificate
_POLISH_MAX_COLS = 1000


def _terms(X, y, W, b, margin):
    """``D_im = e_im + r_im - r_iy`` (``D_iy = 0``): the loss of row i is ``max_m D_im``."""
    n = X.shape[0]
    rows = np.arange(n)
    R = np.asarray(X @ W.T, dtype=np.float64) + b[None, :]
    D = R - R[rows, y][:, None] + margin
    D[rows, y] = 0.0
    return D


def cs_polish(X, y, omega, K, fi, lam, margin, W, b, thr, tol, max_iter=200, verbose=0):
    """The exact optimum (L2) from an approximate one ``(W, b)``, with its certificate.

    Rows whose largest term ``max_m D_im`` is within ``thr`` of their second form
    the working set; every other row is held on its largest term (an affine
    piece: its dual at the vertex ``omega_i (e_y - e_m)``), which enters the
    small problem as a linear term.  The small problem is solved by the interior
    point (:func:`_cs_ipm`, duality-gap certificate); its dual and the held rows'
    vertices form a dual point of the whole problem, so the bound it gives is a
    bound of the whole problem.  The whole objective at the small problem's
    answer exceeds it only where a held row left its piece: when the whole gap
    is within ``tol`` the answer is certified; otherwise the working set is
    chosen again around the new point (the rows within twice the largest step
    off a held piece of a tie; that point is close to the optimum once the held
    rows were nearly right) and the small problem is solved again, at most
    ``_MAX_ROUNDS`` times.  The first working set takes the rows within ``thr``
    of a tie (or ``_NEAR thr``; skipped when still more than ``_MAX_WORKING``).

    Returns ``(W, b, certified, n_working, iterations, message)``; ``n_working``
    is -1 when skipped.
    """
    t0 = time.perf_counter()
    n, p = X.shape
    q = p + int(fi)
    live = np.flatnonzero(omega > 0)
    n_min = 2 * K * q + 100  # (at most K q rows sit at a tie at a generic optimum)
    n_it, msg = 0, "no round"
    D = _terms(X, y, W, b, margin)
    for rnd in range(_MAX_ROUNDS):
        # the working set: the rows within thr of a tie of their largest term
        # (at least n_min of the nearest, at most _MAX_WORKING)
        top = np.argmax(D, axis=1)
        part = np.partition(D, K - 2, axis=1)
        gap = (part[:, K - 1] - part[:, K - 2])[live]
        count = int(np.count_nonzero(gap <= thr))
        if rnd == 0 and count > _MAX_WORKING:
            count = int(np.count_nonzero(gap <= _NEAR * thr))
            if count > _MAX_WORKING:
                return W, b, False, -1, 0, f"{count} rows near a tie (skipped)"
        size = min(max(n_min, count), _MAX_WORKING, live.size)
        work = np.zeros(n, dtype=bool)
        work[live[np.argsort(gap, kind="stable")[:size]]] = True
        ws = np.flatnonzero(work)
        # the held rows: linear on their largest term (nothing where it is the true class's 0)
        fx = live[~work[live]]
        fx = fx[top[fx] != y[fx]]
        Et = np.zeros((fx.size, K))
        Et[np.arange(fx.size), top[fx]] = omega[fx]
        Et[np.arange(fx.size), y[fx]] -= omega[fx]
        lin = np.zeros((K, q))
        if fx.size:
            lin[:, :p] = np.asarray(X[fx].T @ Et, dtype=np.float64).T
            if fi:
                lin[:, p] = Et.sum(axis=0)
        const = margin * float(omega[fx].sum())
        Xw = X[ws]
        Xw = Xw.tocsr() if sp.issparse(Xw) else np.ascontiguousarray(Xw)
        W2, b2, it, ok, msg_ipm, LB = _cs_ipm(Xw, y[ws], omega[ws], K, fi, lam, 0.0, margin, tol, max_iter, 0,
                                              lin, const)
        n_it += it
        if not ok:
            return W, b, False, ws.size, n_it, f"round {rnd + 1}, {ws.size} rows: {msg_ipm}"
        W, b = W2, b2
        D = _terms(X, y, W, b, margin)
        F = float(omega @ D.max(axis=1)) + 0.5 * lam * float(np.sum(W * W))
        if verbose > 1:
            print(f"  cs polish round {rnd + 1}: {ws.size} rows, {it} iterations, F {F:.15g}, bound {LB:.15g} "
                  f"({time.perf_counter() - t0:.3f} s)")
        if _converged(F, LB, tol):
            rel = max(F - LB, 0.0) / max(abs(F), abs(LB), 1e-300)
            return W, b, True, ws.size, n_it, (f"optimal (duality gap {rel:.1e} relative; working set of "
                                               f"{ws.size} rows, {rnd + 1} rounds)")
        # held rows that left their piece: the next working set gathers the rows
        # within twice the largest such step of a tie, around the new point
        # (which is near the optimum once the held rows were nearly right)
        hr = live[~work[live]]
        worst = float(np.max(D[hr].max(axis=1) - D[hr, top[hr]], initial=0.0))
        if worst <= 0.0:
            return W, b, False, ws.size, n_it, "gap open with every held row on its piece"
        thr = 2.0 * worst
    return W, b, False, 0, n_it, f"no certificate after {_MAX_ROUNDS} rounds"


def cs_dual_cd(obj, tol=1e-10, max_iter=1000, verbose=0, shrinking=True):
    """The sequential dual method followed by the working-set polish
    (:func:`cs_polish`) at the end of each stage; a stage ends when the largest
    per-row violation meets the stage's tolerance (which then falls tenfold) or
    after a cap of sweeps.  Certified by the duality gap.

    Returns ``(W, b, sweeps, certified, message)``.
    """
    from .._kernels._dual import cs_dual_cd_csr, cs_dual_cd_dense

    t0 = time.perf_counter()
    X, y, omega = _data(obj)
    n, p = X.shape
    K = obj.n_outputs
    fi = bool(obj.fit_intercept)
    lam = float(obj.l2_reg)
    margin = float(obj.loss.multiclass_margin)
    Cw = np.ascontiguousarray(omega / lam)
    if sp.issparse(X):
        qd = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    else:
        qd = np.einsum("ij,ij->i", X, X)
    alpha = np.zeros((n, K))
    Wt = np.zeros((p, K))
    s = np.zeros(K)
    live = Cw > 0
    rho = (_RHO * float(np.mean(qd[live])) if np.any(live) else 1.0) if fi else 0.0
    if fi and rho <= 0:
        rho = 1.0
    bc = np.zeros(K)
    scale = margin if margin > 0 else 1.0
    tol_cd = 0.1 * scale
    budget = _SWEEPS_PER_ITER * max(int(max_iter), 1) + 1000
    total, stage, viol = 0, 0, np.inf
    W, b = np.zeros((K, p)), np.zeros(K)
    best = (primal_value(X, y, omega, lam, margin, W, b), W, b)
    LB = 0.0  # the bound at alpha = 0
    certified = _converged(best[0], LB, tol)
    msg = "optimal (zero objective at W = 0, b = 0)" if certified else ""
    while not certified:
        cap = min(budget - total, _STAGE_SWEEPS << min(stage, 20))
        stage += 1
        if cap <= 0:
            break
        if sp.issparse(X):
            sweeps, viol = cs_dual_cd_csr(X.indptr, X.indices, X.data, y, Cw, qd, margin, rho, bc, alpha, Wt, s,
                                          tol_cd, cap, 7, shrinking, True)
        else:
            sweeps, viol = cs_dual_cd_dense(X, y, Cw, qd, margin, rho, bc, alpha, Wt, s, tol_cd, cap, 7,
                                            shrinking, True)
        total += sweeps
        s[:] = alpha.sum(axis=0)  # (afresh: no drift of the running sums)
        b = bc.copy() if fi else np.zeros(K)
        LB_cd, W = cs_certificate(X, y, omega, lam, margin, alpha, fi)
        LB = max(LB, LB_cd)
        Wt[:] = W.T
        F = primal_value(X, y, omega, lam, margin, W, b)
        if F < best[0]:
            best = (F, W, b)
        certified = _converged(best[0], LB, tol)
        if verbose > 1:
            print(f"  cs dual-cd: {total} sweeps, tol {tol_cd:.1e}, violation {viol:.2e}, F {F:.15g}, "
                  f"bound {LB:.15g}, |s| {np.abs(s).max():.1e} ({time.perf_counter() - t0:.3f} s)")
        if certified:
            rel = (best[0] - LB) / max(abs(best[0]), abs(LB), 1e-300)
            msg = f"optimal (duality gap {max(rel, 0.0):.1e} relative after {total} sweeps)"
            break
        if K * (p + int(fi)) <= _POLISH_MAX_COLS:
            Wp, bp, certified, _, _, msg_p = cs_polish(X, y, omega, K, fi, lam, margin, W, b, viol, tol,
                                                       verbose=verbose)
            if verbose > 1:
                print(f"  cs polish: {msg_p}")
            if certified:
                best = (primal_value(X, y, omega, lam, margin, Wp, bp), Wp, bp)
                msg = f"{msg_p} after {total} sweeps"
                break
        if total >= budget or tol_cd <= 1e-15 * scale:
            break
        if viol <= tol_cd:
            tol_cd *= 0.1
    F, W, b = best
    if not certified:
        rel = (F - LB) / max(abs(F), abs(LB), 1e-300)
        msg = f"dual CD: no certificate after {total} sweeps (relative duality gap {rel:.2e})"
    return W, b, total, bool(certified), msg
