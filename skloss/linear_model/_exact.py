"""Interior point and crossover for linear models with piecewise-linear losses.

A convex piecewise-linear loss (any that declares its affine pieces) makes the
linear-model objective a linear programme (no penalty or an L1 penalty) or a
convex quadratic programme (an L2 part).  This module solves it by a primal-dual
interior-point method (Mehrotra's predictor-corrector; for quantile regression
this is the Frisch-Newton method of Portnoy & Koenker, 1997, used by R's
``quantreg::rq.fit.fnb``), followed by an *active-set crossover* that turns the
interior solution into the exact optimum and checks it with a certificate of the
Karush-Kuhn-Tucker conditions.  :mod:`._solver_exact` is the entry point that
chooses between this and the other exact methods.

Formulation
-----------
Every objective handled here is written as a sum of *hinges* plus a linear and a
quadratic term in the packed coefficients ``beta = [w, b]``:

.. math::

    F(\\beta) = q^\\top \\beta + \\frac{\\mu}{2} \\beta^\\top P \\beta
                + \\sum_j c_j \\, (\\sigma_j g_j^\\top \\beta - h_j)_+ + \\text{const}

with ``c_j >= 0`` and signs ``sigma_j``.  :func:`envelope` turns the pieces of
each sample into their upper envelope (slopes ``s_0 < ... < s_K`` meeting at
kinks ``t_1 < ... < t_K``); around a base piece (the flat one if there is one,
else the lowest slope) the loss is that piece's affine function plus one hinge
per kink: ``(r - t_k)_+`` to its right, ``(t_k - r)_+`` to its left, with weight
``omega_i (s_k - s_{k-1})`` (``omega_i = s_i / sum(s)``).  So the pinball loss
is a linear term plus one hinge per sample, epsilon-insensitive two hinges and
no linear term, the hinge loss one hinge.  An L1 penalty
``lambda |w_k| = lambda (2 (w_k)_+ - w_k)`` adds one hinge per penalised
coefficient; an L2 penalty gives ``mu = alpha (1 - l1_ratio)``, ``P`` the
identity on ``w``.

The dual variable ``a_j`` of hinge ``j`` lives in ``[0, c_j]``; the Newton system
of the interior-point method reduces to the ``(p + 1) x (p + 1)`` normal matrix
``mu P + X^T diag(theta) X``, formed with one BLAS ``syrk`` per iteration.

Crossover and certificate
-------------------------
At the interior solution the hinges split into *positive* (``g.beta > h``, dual
``a = c``), *negative* (``a = 0``) and *active* (``g.beta = h``, ``0 <= a <= c``).
The crossover solves the equations of the active set exactly (for a linear
programme: the vertex through the active observations, as the simplex method
would return) and finds duals in their bounds by a bounded least-squares solve.
When the KKT conditions hold to rounding error the solution is *certified*
optimal (``ExactResult.certified``); otherwise the interior-point solution,
whose objective is within the reported duality gap of the optimum, is kept.

References
----------
Portnoy, S. and Koenker, R. (1997). The Gaussian hare and the Laplacian
tortoise: computability of squared-error versus absolute-error estimators.
Statistical Science 12(4), 279-300.

Mehrotra, S. (1992). On the implementation of a primal-dual interior point
method. SIAM Journal on Optimization 2(4), 575-601.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from ._solver_newton import _lapack_pair

__all__ = ["PIECEWISE_LINEAR", "ExactResult", "linprog_fit", "piecewise_linear_fit", "piecewise_objective"]

#: losses this module solves exactly (registry names)
PIECEWISE_LINEAR = ("absolute_error", "quantile", "epsilon_insensitive")


@dataclass
class ExactResult:
    """Result of :func:`piecewise_linear_fit`.

    Attributes
    ----------
    coef : ndarray of shape (n_features,)
    intercept : float
    objective : float
        The objective (mean loss + penalty) at the returned coefficients.
    n_iter : int
        Interior-point iterations.
    converged : bool
        Whether the interior-point method met its tolerance.
    certified : bool
        Whether the crossover verified the KKT conditions (exact optimum).
    gap : float
        The final duality gap of the interior-point method (an upper bound on the
        distance of its objective to the optimum).
    n_active : int
        The number of active hinges at the solution (residuals exactly zero, or
        coefficients exactly zero under an L1 penalty).
    """

    coef: np.ndarray
    intercept: float
    objective: float
    n_iter: int
    converged: bool
    certified: bool
    gap: float
    n_active: int


# --------------------------------------------------------------- the problem


class _Design:
    """``Xa = [X, 1]`` (or ``X``) without forming the column of ones."""

    def __init__(self, X, fit_intercept):
        self.X = X
        self.sparse = sp.issparse(X)
        self.fi = bool(fit_intercept)
        self.n, self.p = X.shape
        self.m = self.p + self.fi

    def matvec(self, beta):
        out = np.asarray(self.X @ beta[: self.p], dtype=np.float64)
        if self.fi:
            out = out + beta[self.p]
        return out

    def rmatvec(self, v):
        out = np.empty(self.m)
        out[: self.p] = self.X.T @ v
        if self.fi:
            out[self.p] = v.sum()
        return out

    def gram(self, theta):
        """``Xa^T diag(theta) Xa`` (dense ``X`` and ``theta >= 0``: the tiled
        :func:`~skloss.linear_model._lstsq.weighted_gram`)."""
        from ._lstsq import weighted_gram
        from ._objective import _dense

        if not self.sparse:
            G = weighted_gram(self.X, theta, self.fi)
            if G is not None:
                return G
        p, m = self.p, self.m
        G = np.empty((m, m))
        Xt = self.X.multiply(theta[:, None]).tocsr() if self.sparse else self.X * theta[:, None]
        G[:p, :p] = _dense(self.X.T @ Xt)
        col = np.asarray(Xt.sum(axis=0)).ravel()
        if self.fi:
            G[:p, p] = col
            G[p, :p] = col
            G[p, p] = theta.sum()
        return G

    def rows(self, idx):
        """Dense rows ``Xa[idx]``."""
        Xr = self.X[idx]
        Xr = Xr.toarray() if sp.issparse(Xr) else np.asarray(Xr, dtype=np.float64)
        if self.fi:
            Xr = np.hstack([Xr, np.ones((Xr.shape[0], 1))])
        return Xr


def envelope(A, C):
    """Upper envelope of the affine pieces ``A[i, j] r + C[i, j]`` of each row.

    Returns ``(slopes, const0, kinks, n_kinks)``: ``slopes`` (n, m) the ascending
    slopes of the pieces on the envelope (padded by repeating the last),
    ``const0`` (n,) the intercept of the lowest-slope one, ``kinks`` (n,
    max(m - 1, 1)) where consecutive envelope pieces meet (ascending; padded
    by repeating the last) and ``n_kinks`` (n,).  A piece is on the envelope
    when the largest abscissa where it overtakes a flatter piece lies strictly
    below the smallest where a steeper one overtakes it (a piece touching the
    envelope at one point only, e.g. the flat piece of epsilon-insensitive with
    ``epsilon = 0``, is dropped).
    """
    A = np.asarray(A, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    n, m = A.shape
    order = np.argsort(A, axis=1, kind="stable")
    As = np.take_along_axis(A, order, axis=1)
    Cs = np.take_along_axis(C, order, axis=1)
    keep = np.ones((n, m), dtype=bool)
    left = np.full((n, m), -np.inf)
    right = np.full((n, m), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(m):
            for i in range(m):
                if i == j:
                    continue
                same = As[:, i] == As[:, j]
                # an equal slope: the larger intercept wins (ties: the later one)
                keep[:, j] &= ~(same & ((Cs[:, i] > Cs[:, j]) | ((Cs[:, i] == Cs[:, j]) & (i > j))))
                x = (Cs[:, i] - Cs[:, j]) / (As[:, j] - As[:, i])  # where line j meets line i
                flatter = As[:, i] < As[:, j]
                steeper = As[:, i] > As[:, j]
                left[:, j] = np.where(flatter, np.maximum(left[:, j], x), left[:, j])
                right[:, j] = np.where(steeper, np.minimum(right[:, j], x), right[:, j])
    keep &= left < right
    rank = np.where(keep, 0, m) + np.arange(m)[None, :]
    pos = np.argsort(rank, axis=1, kind="stable")
    Hs = np.take_along_axis(As, pos, axis=1)
    Hc = np.take_along_axis(Cs, pos, axis=1)
    nk = keep.sum(axis=1) - 1
    cols = np.minimum(np.arange(m)[None, :], nk[:, None])
    slopes = np.take_along_axis(Hs, cols, axis=1)
    consts = np.take_along_axis(Hc, cols, axis=1)
    kinks = np.zeros((n, max(m - 1, 1)))
    if m > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            kk = (consts[:, :-1] - consts[:, 1:]) / (slopes[:, 1:] - slopes[:, :-1])
        last = np.take_along_axis(kk, np.maximum(nk - 1, 0)[:, None], axis=1)
        real = np.arange(m - 1)[None, :] < nk[:, None]
        kinks = np.where(real, kk, np.where(nk[:, None] > 0, last, 0.0))
    return slopes, consts[:, 0].copy(), kinks, nk


class _Problem:
    """The hinge form of a piecewise-linear objective (see the module docstring).

    ``sets`` is a list of ``(rows, sign, h, c)``: hinges
    ``c * (sign Xa[rows] beta - h)_+`` (``rows=None``: every row).
    """

    def __init__(self, design, q, const, sets, l1_reg, l2_reg):
        self.design = design
        m, p = design.m, design.p
        self.mu = float(l2_reg)
        self.pen = np.zeros(m, dtype=bool)
        self.pen[:p] = True
        q = np.array(q, dtype=np.float64)
        self.sets = sets
        # coordinate hinges of the L1 penalty: l1 |w| = l1 (2 (w)_+ - w)
        self.l1 = float(l1_reg)
        if self.l1 > 0:
            q[:p] -= self.l1
            self.coord_c = np.full(p, 2.0 * self.l1)
        else:
            self.coord_c = None
        self.q = q
        self.const = float(const)

    @classmethod
    def from_pieces(cls, design, omega, off, slopes, const0, kinks, nk, l1_reg, l2_reg):
        """``sum_i omega_i l_i(Xa_i beta + off_i)`` with ``l_i`` given by its envelope,
        written around a base piece ``j`` (the flat one if there is one, else the
        lowest slope): ``l_i(r) = s_ij r + c_ij + sum_{k >= j} d_k (r - t_k)_+
        + sum_{k < j} d_k (t_k - r)_+`` with ``d_k = s_{k+1} - s_k``.  (The flat
        base keeps the epsilon-insensitive loss symmetric: two hinges and no
        linear term.)"""
        n, m = slopes.shape
        rows_all = np.arange(n)
        flat = slopes == 0.0
        base = np.where(np.any(flat, axis=1), np.argmax(flat, axis=1), 0)
        base = np.minimum(base, nk)
        # intercept of the base piece: c_{k+1} = c_k + (s_k - s_{k+1}) t_k
        cb = const0.copy()
        for k in range(kinks.shape[1]):
            step = (slopes[:, k] - slopes[:, min(k + 1, m - 1)]) * kinks[:, k]
            cb = cb + np.where(k < base, step, 0.0)
        sb = slopes[rows_all, base]
        q = design.rmatvec(omega * sb)
        const = float(omega @ (sb * off + cb))
        sets = []
        for k in range(kinks.shape[1]):
            c = omega * (slopes[:, min(k + 1, m - 1)] - slopes[:, k])
            for sign in (1.0, -1.0):
                side = (k >= base) if sign > 0 else (k < base)
                rows = np.flatnonzero((nk > k) & (c > 0) & side)
                if rows.size == 0:
                    continue
                h = sign * (kinks[:, k] - off)
                if rows.size == n:
                    sets.append((None, sign, h, c))
                else:
                    sets.append((rows, sign, h[rows], c[rows]))
        return cls(design, q, const, sets, l1_reg, l2_reg)

    # the stacked hinge values g_j . beta, one array per set (+ coordinates)
    def hinge_args(self, beta, xb=None):
        if xb is None:
            xb = self.design.matvec(beta)
        out = [sign * (xb if rows is None else xb[rows]) for rows, sign, _, _ in self.sets]
        if self.coord_c is not None:
            out.append(beta[: self.design.p].copy())
        return out

    def hs(self):
        out = [h for _, _, h, _ in self.sets]
        if self.coord_c is not None:
            out.append(np.zeros(self.design.p))
        return out

    def cs(self):
        out = [c for _, _, _, c in self.sets]
        if self.coord_c is not None:
            out.append(self.coord_c)
        return out

    def _accumulate(self, vs, signed=True):
        acc = np.zeros(self.design.n)
        for (rows, sign, _, _), v in zip(self.sets, vs):
            v = sign * v if signed else v
            if rows is None:
                acc += v
            else:
                acc[rows] += v
        return acc

    def set_rows(self, j, idx):
        """Dense rows of ``Xa`` of the hinges ``idx`` of set ``j``."""
        rows, sign = self.sets[j][0], self.sets[j][1]
        return sign * self.design.rows(idx if rows is None else rows[idx])

    def gt(self, vs):
        """``G^T v`` for per-set vectors ``vs``."""
        d = self.design
        out = d.rmatvec(self._accumulate(vs))
        if self.coord_c is not None:
            out[: d.p] += vs[-1]
        return out

    def normal_matrix(self, thetas):
        d = self.design
        M = d.gram(self._accumulate(thetas[: len(self.sets)], signed=False))
        if self.coord_c is not None:
            M[np.arange(d.p), np.arange(d.p)] += thetas[-1]
        if self.mu:
            M[np.arange(d.p), np.arange(d.p)] += self.mu
        return M

    def value(self, beta):
        """The objective at ``beta`` (hinge form, constants included)."""
        val = self.const + float(self.q @ beta)
        if self.mu:
            val += 0.5 * self.mu * float(beta[self.pen] @ beta[self.pen])
        for u, h, c in zip(self.hinge_args(beta), self.hs(), self.cs()):
            val += float(c @ np.maximum(u - h, 0.0))
        return val


# --------------------------------------------------------- interior point


def _max_step(x, dx):
    # the largest step keeping x + step dx >= 0 (x > 0): 1 / max(-dx / x), as
    # -min(dx / x) (the same number; PERF: one temporary and the array method, not
    # np.max's dispatch: ~20 calls per interior-point iteration)
    if x.size == 0:
        return np.inf
    t = -float((dx / x).min())
    return 1.0 / t if t > 0 else np.inf


def _solve_spd(M, rhs):
    try:
        c = la.cho_factor(M, check_finite=False)
        return la.cho_solve(c, rhs, check_finite=False)
    except la.LinAlgError:
        # rank-deficient design or extreme barrier weights: regularise a little
        jitter = 1e-12 * max(1.0, float(np.max(np.abs(np.diag(M)))))
        try:
            c = la.cho_factor(M + jitter * np.eye(M.shape[0]), check_finite=False)
            return la.cho_solve(c, rhs, check_finite=False)
        except la.LinAlgError:
            return la.lstsq(M, rhs, check_finite=False)[0]


def _interior_point(prob, beta0, tol, max_iter, verbose, state=None):
    """Mehrotra predictor-corrector on the hinge form.

    Variables per hinge: ``t >= 0`` (the hinge's value), slack ``s = t - u >= 0``
    with ``u = g.beta - h``, dual ``a`` in ``[0, c]`` and ``z = c - a``.
    ``state`` (returned last) resumes a previous run, e.g. at a tighter ``tol``.
    """
    cs = prob.cs()
    hs = prob.hs()
    if state is not None:
        beta, t, s, a, z, shift = state
    else:
        beta = beta0.copy()
        us = [u - h for u, h in zip(prob.hinge_args(beta), hs)]
        # start: each hinge half-way, slacks shifted away from zero
        shift = max(float(np.mean(np.concatenate([np.abs(u) for u in us]))), 1e-8)
        t = [np.maximum(u, 0.0) + shift for u in us]
        s = [np.maximum(-u, 0.0) + shift for u in us]
        a = [0.5 * c for c in cs]
        z = [0.5 * c for c in cs]
    n_total = sum(c.shape[0] for c in cs)
    qnorm = 1.0 + float(np.max(np.abs(prob.q))) + max(float(np.max(c)) for c in cs)
    gap = np.inf
    converged = False
    lp = prob.mu == 0
    it = 0
    for it in range(1, max_iter + 1):
        us = [u - h for u, h in zip(prob.hinge_args(beta), hs)]
        rp = [ti - ui - si for ti, ui, si in zip(t, us, s)]
        rb = prob.q + prob.gt(a)
        if prob.mu:
            rb[prob.pen] += prob.mu * beta[prob.pen]
        gap = sum(float(ai @ si) + float(zi @ ti) for ai, si, zi, ti in zip(a, s, z, t))
        primal = prob.value(beta)
        if verbose > 1:
            print(f"  ipm {it:3d}: objective {primal:.12g}  gap {gap:.3e}  |rb| {np.max(np.abs(rb)):.2e}")
        if (
            gap <= tol * max(1.0, abs(primal))
            and float(np.max(np.abs(rb))) <= tol * qnorm
            and max(float(np.max(np.abs(r))) for r in rp) <= tol * (1.0 + shift)
        ):
            converged = True
            break
        mu_c = gap / (2 * n_total)
        D = [1.0 / (si + ai * ti / zi) for si, ai, ti, zi in zip(s, a, t, z)]
        theta = [ai * Di for ai, Di in zip(a, D)]
        M = prob.normal_matrix(theta)
        # (LAPACK's potrf / potrs directly: the calls SciPy's cho_factor / cho_solve
        # make, without their ~40 us of argument handling a call, two or three a step)
        potrf, potrs = _lapack_pair(M.dtype)
        chol, info = potrf(M, lower=0, clean=0)
        if info == 0:

            def solve(rhs, chol=chol):
                return potrs(chol, rhs, lower=0)[0]
        else:

            def solve(rhs, M=M):
                return _solve_spd(M, rhs)

        def direction(R2, R3):
            w = [Di * (r2 - ai * r3 / zi - ai * rpi) for Di, r2, ai, r3, zi, rpi in zip(D, R2, a, R3, z, rp)]
            db = solve(-rb - prob.gt(w))
            gdb = prob.hinge_args(db)
            da = [wi + th * gi for wi, th, gi in zip(w, theta, gdb)]
            dt = [(r3 + ti * dai) / zi for r3, ti, dai, zi in zip(R3, t, da, z)]
            ds = [dti - gi + rpi for dti, gi, rpi in zip(dt, gdb, rp)]
            dz = [-dai for dai in da]
            return db, dt, ds, da, dz

        def steps(dt, ds, da, dz):
            ap = min(1.0, *(min(_max_step(ti, dti), _max_step(si, dsi)) for ti, dti, si, dsi in zip(t, dt, s, ds)))
            ad = min(1.0, *(min(_max_step(ai, dai), _max_step(zi, dzi)) for ai, dai, zi, dzi in zip(a, da, z, dz)))
            if not lp:
                ap = ad = min(ap, ad)
            return ap, ad

        # predictor
        R2 = [-ai * si for ai, si in zip(a, s)]
        R3 = [-zi * ti for zi, ti in zip(z, t)]
        db, dt, ds, da, dz = direction(R2, R3)
        ap, ad = steps(dt, ds, da, dz)
        mu_aff = sum(
            float((ai + ad * dai) @ (si + ap * dsi)) + float((zi + ad * dzi) @ (ti + ap * dti))
            for ai, dai, si, dsi, zi, dzi, ti, dti in zip(a, da, s, ds, z, dz, t, dt)
        ) / (2 * n_total)
        sigma = min(1.0, (mu_aff / mu_c) ** 3) if mu_c > 0 else 0.0
        # corrector
        R2 = [sigma * mu_c - ai * si - dai * dsi for ai, si, dai, dsi in zip(a, s, da, ds)]
        R3 = [sigma * mu_c - zi * ti - dzi * dti for zi, ti, dzi, dti in zip(z, t, dz, dt)]
        db, dt, ds, da, dz = direction(R2, R3)
        ap, ad = steps(dt, ds, da, dz)
        ap = min(1.0, 0.99995 * ap)
        ad = min(1.0, 0.99995 * ad)
        beta = beta + ap * db
        t = [ti + ap * dti for ti, dti in zip(t, dt)]
        s = [si + ap * dsi for si, dsi in zip(s, ds)]
        a = [ai + ad * dai for ai, dai in zip(a, da)]
        z = [zi + ad * dzi for zi, dzi in zip(z, dz)]  # dz = -da keeps a + z = c
    return beta, a, it, converged, gap, (beta, t, s, a, z, shift)


# -------------------------------------------------------------- crossover


def _crossover(prob, beta_ipm, rtol=1e-9, thresholds=(1e-6, 1e-8, 1e-4)):
    """Exact optimum from an approximate solution and its KKT certificate.

    ``thresholds``: relative distances to a kink under which a hinge is taken
    as active, tried in turn.  Returns ``(beta, certified, n_active)``.
    """
    from scipy.optimize import lsq_linear

    d = prob.design
    hs, cs = prob.hs(), prob.cs()
    us = [u - h for u, h in zip(prob.hinge_args(beta_ipm), hs)]
    scale = 1.0 + max(float(np.max(np.abs(h))) if h.size else 0.0 for h in hs)
    scale = max(scale, float(np.max(np.abs(beta_ipm))) if beta_ipm.size else 0.0)
    n_sets = len(prob.sets)

    def attempt(thr=None, count=None):
        if count is not None:
            # the `count` hinges nearest to their kinks (a vertex of a linear
            # programme has as many active hinges as free coefficients)
            flat = np.concatenate([np.abs(u) for u in us])
            if count > flat.size:
                return None
            cut = np.partition(flat, count - 1)[count - 1]
            active = [np.flatnonzero(np.abs(u) <= cut) for u in us]
            if sum(x.size for x in active) != count:
                return None
        else:
            active = [np.flatnonzero(np.abs(u) <= thr) for u in us]
        n_act = sum(x.size for x in active)
        if n_act > 4 * d.m + 50:
            return None
        # rows of the active equations G_A beta = h_A
        rows, rhs = [], []
        for j in range(n_sets):
            if active[j].size:
                rows.append(prob.set_rows(j, active[j]))
                rhs.append(prob.sets[j][2][active[j]])
        if prob.coord_c is not None and active[-1].size:
            E = np.zeros((active[-1].size, d.m))
            E[np.arange(active[-1].size), active[-1]] = 1.0
            rows.append(E)
            rhs.append(np.zeros(active[-1].size))
        GA = np.vstack(rows) if rows else np.zeros((0, d.m))
        hA = np.concatenate(rhs) if rhs else np.zeros(0)
        # fixed duals of the inactive hinges
        fixed = []
        for j, (u, c) in enumerate(zip(us, cs)):
            f = np.where(u > 0, c, 0.0)
            f[active[j]] = 0.0
            fixed.append(f)
        base = prob.q + prob.gt(fixed)
        if prob.mu == 0:
            # beta: closest point to the interior solution on the active face
            if GA.shape[0]:
                corr = la.lstsq(GA, hA - GA @ beta_ipm, check_finite=False)[0]
                beta = beta_ipm + corr
            else:
                beta = beta_ipm.copy()
        else:
            # equality-constrained QP: [mu P, GA^T; GA, 0] [beta; aA] = [-base; hA]
            na = GA.shape[0]
            K = np.zeros((d.m + na, d.m + na))
            K[np.arange(d.p), np.arange(d.p)] = prob.mu
            K[: d.m, d.m:] = GA.T
            K[d.m:, : d.m] = GA
            # solved as a correction of the interior solution, so that directions
            # the equations leave free (a non-unique optimum) keep its values
            start = np.concatenate([beta_ipm, np.zeros(na)])
            rhs = np.concatenate([-base, hA]) - K @ start
            beta = beta_ipm + la.lstsq(K, rhs, check_finite=False)[0][: d.m]
        if prob.coord_c is not None and active[-1].size:
            beta[active[-1]] = 0.0  # zero coefficients of an L1 fit are exact zeros
        # the active equations must hold exactly (to rounding)
        if GA.shape[0] and np.max(np.abs(GA @ beta - hA)) > rtol * scale * 10:
            return None
        # stationarity: GA^T aA = -(base + mu P beta), 0 <= aA <= cA
        target = -base.copy()
        if prob.mu:
            target[prob.pen] -= prob.mu * beta[prob.pen]
        cA = np.concatenate([cs[j][active[j]] for j in range(len(cs))]) if GA.shape[0] else np.zeros(0)
        if GA.shape[0]:
            res = lsq_linear(GA.T, target, bounds=(np.zeros_like(cA), cA + 1e-300), method="bvls",
                             tol=1e-14, lsmr_tol=None)
            resid = float(np.max(np.abs(GA.T @ res.x - target)))
        else:
            resid = float(np.max(np.abs(target)))
        qscale = 1.0 + float(np.max(np.abs(prob.q))) + max(float(np.max(c)) for c in cs)
        if resid > 1e-9 * qscale:
            return None
        # the inactive hinges keep their side
        new_us = [u - h for u, h in zip(prob.hinge_args(beta), hs)]
        for j, (u_old, u_new) in enumerate(zip(us, new_us)):
            mask = np.ones(u_old.size, dtype=bool)
            mask[active[j]] = False
            bad = mask & (np.sign(u_old) * u_new < -rtol * scale)
            if np.any(bad):
                return None
        return beta, n_act

    tries = [{"thr": t * scale} for t in thresholds]
    if prob.mu == 0:
        tries.insert(0, {"count": d.m})
    for kw in tries:
        out = attempt(**kw)
        if out is not None:
            beta, n_act = out
            if prob.value(beta) <= prob.value(beta_ipm) + 1e-12 * max(1.0, abs(prob.value(beta_ipm))):
                return beta, True, n_act
    return beta_ipm, False, 0


# --------------------------------------------------------------------- API


def _prepare(X, y, sample_weight, offset):
    y = np.asarray(y, dtype=np.float64)
    if offset is not None:
        y = y - np.asarray(offset, dtype=np.float64)
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
    else:
        X = np.asarray(X, dtype=np.float64)
    if sample_weight is None:
        sw = np.ones(y.shape[0])
    else:
        sw = np.asarray(sample_weight, dtype=np.float64)
    keep = sw > 0
    if not np.all(keep):
        X, y, sw = X[keep], y[keep], sw[keep]
    return X, y, sw / sw.sum()


def piecewise_linear_fit(X, y, *, kind, quantile=0.5, epsilon=0.0, sample_weight=None,
                         fit_intercept=True, l1_reg=0.0, l2_reg=0.0, offset=None,
                         coef0=None, tol=1e-10, max_iter=200, crossover=True, verbose=0):
    """Minimise ``sum_i s_i loss(y_i, x_i.w + b + o_i) / sum_i s_i + l1 ||w||_1
    + l2 / 2 ||w||^2`` for a piecewise-linear loss.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    kind : {"absolute_error", "quantile", "epsilon_insensitive"}
    quantile : float in (0, 1)
        The quantile level of ``"quantile"``.
    epsilon : float >= 0
        The half-width of the insensitive band of ``"epsilon_insensitive"``.
    sample_weight : ndarray or None
        Non-negative weights; rows of zero weight are dropped.
    fit_intercept : bool
    l1_reg, l2_reg : float
        Penalty coefficients (``alpha * l1_ratio`` and ``alpha * (1 - l1_ratio)``).
    offset : ndarray or None
        Added to the raw prediction.
    coef0 : ndarray or None
        Packed start ``[w, b]`` (default: weighted least squares).
    tol : float
        Relative duality-gap tolerance of the interior-point method.
    max_iter : int
    crossover : bool
        Whether to polish to the exact optimum and certify it.
    verbose : int

    Returns
    -------
    ExactResult
    """
    X, y, omega = _prepare(X, y, sample_weight, offset)
    design = _Design(X, fit_intercept)
    A, C = _kind_pieces(kind, y, quantile, epsilon)
    prob = _Problem.from_pieces(design, omega, np.zeros(y.shape[0]), *envelope(A, C), l1_reg, l2_reg)
    if coef0 is None:
        # weighted least squares (a little ridge for rank deficiency) as a start
        M = design.gram(omega)
        M[np.arange(design.p), np.arange(design.p)] += 1e-8 * (1.0 + np.trace(M)) + l2_reg
        beta0 = _solve_spd(M, design.rmatvec(omega * y))
    else:
        beta0 = np.asarray(coef0, dtype=np.float64).copy()
    beta, n_iter, converged, certified, gap, n_active = ipm_solve(prob, beta0, tol, max_iter, crossover, verbose)
    objective = prob.value(beta)
    coef = beta[: design.p].copy()
    intercept = float(beta[design.p]) if fit_intercept else 0.0
    return ExactResult(coef, intercept, objective, n_iter, converged, certified, gap, n_active)


def ipm_solve(prob, beta0, tol, max_iter, crossover=True, verbose=0):
    """Interior point on ``prob`` from ``beta0``, then the crossover.

    Returns ``(beta, n_iter, converged, certified, gap, n_active)``.
    """
    beta, a, n_iter, converged, gap, state = _interior_point(prob, beta0, tol, max_iter, verbose)
    certified, n_active = False, 0
    if crossover:
        beta_x, certified, n_active = _crossover(prob, beta)
        if not certified and tol > 1e-13:
            # the active set was not clear yet: a few more iterations, then again
            beta, a, more, converged2, gap, _ = _interior_point(prob, None, 1e-13, 30, verbose, state)
            n_iter += more
            converged = converged or converged2
            beta_x, certified, n_active = _crossover(prob, beta)
        beta = beta_x
    return beta, n_iter, converged, certified, gap, n_active


def _kind_pieces(kind, y, quantile, epsilon):
    """The affine pieces of the regression losses of this module, in ``r = raw``."""
    one = np.ones_like(y)
    if kind == "quantile":
        q = float(quantile)
        return np.stack([-q * one, (1 - q) * one], axis=1), np.stack([q * y, -(1 - q) * y], axis=1)
    if kind == "absolute_error":
        return np.stack([-one, one], axis=1), np.stack([y, -y], axis=1)
    if kind == "epsilon_insensitive":
        e = float(epsilon)
        return np.stack([0 * one, one, -one], axis=1), np.stack([0 * one, -y - e, y - e], axis=1)
    raise ValueError(f"No exact solver for loss {kind!r}; exact losses are {PIECEWISE_LINEAR}.")


def piecewise_objective(X, y, coef, intercept, *, kind, quantile=0.5, epsilon=0.0,
                        sample_weight=None, l1_reg=0.0, l2_reg=0.0, offset=None):
    """The objective minimised by :func:`piecewise_linear_fit`, computed directly
    from the loss (an independent check of the hinge form)."""
    X, y, omega = _prepare(X, y, sample_weight, offset)
    r = y - np.asarray(X @ coef).ravel() - intercept
    if kind == "quantile":
        loss = np.maximum(quantile * r, (quantile - 1.0) * r)
    elif kind == "absolute_error":
        loss = np.abs(r)
    elif kind == "epsilon_insensitive":
        loss = np.maximum(np.abs(r) - epsilon, 0.0)
    else:
        raise ValueError(f"Unknown piecewise-linear loss {kind!r}.")
    coef = np.asarray(coef, dtype=np.float64)
    return float(omega @ loss) + l1_reg * float(np.abs(coef).sum()) + 0.5 * l2_reg * float(coef @ coef)


def linprog_fit(X, y, *, kind, quantile=0.5, epsilon=0.0, sample_weight=None,
                fit_intercept=True, l1_reg=0.0, offset=None, method="highs"):
    """The same linear programme solved by :func:`scipy.optimize.linprog` (HiGHS).

    A reference for tests and benchmarks (no L2 penalty).  Variables:
    ``w = w+ - w-``, ``b`` free, residual parts ``u, v >= 0`` with
    ``X w + b + u - v (+ e) = y`` and, for the epsilon-insensitive loss, a band
    variable ``e`` in ``[-eps, eps]``.

    Returns ``(coef, intercept, objective)``.
    """
    from scipy.optimize import linprog

    X, y, omega = _prepare(X, y, sample_weight, offset)
    X = sp.csr_matrix(X)
    n, p = X.shape
    if kind == "quantile":
        cu, cv = quantile * omega, (1.0 - quantile) * omega
    elif kind in ("absolute_error", "epsilon_insensitive"):
        cu, cv = omega, omega
    else:
        raise ValueError(f"Unknown piecewise-linear loss {kind!r}.")
    eye = sp.identity(n, format="csr")
    blocks = [X, -X]
    cost = [np.full(p, l1_reg), np.full(p, l1_reg)]
    bounds = [(0, None)] * (2 * p)
    if fit_intercept:
        blocks.append(sp.csr_matrix(np.ones((n, 1))))
        cost.append(np.zeros(1))
        bounds.append((None, None))
    blocks += [eye, -eye]
    cost += [cu, cv]
    bounds += [(0, None)] * (2 * n)
    if kind == "epsilon_insensitive" and epsilon > 0:
        blocks.append(eye)
        cost.append(np.zeros(n))
        bounds += [(-epsilon, epsilon)] * n
    A = sp.hstack(blocks, format="csr")
    res = linprog(np.concatenate(cost), A_eq=A, b_eq=y, bounds=bounds, method=method)
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    coef = res.x[:p] - res.x[p: 2 * p]
    intercept = float(res.x[2 * p]) if fit_intercept else 0.0
    return coef, intercept, float(res.fun)
