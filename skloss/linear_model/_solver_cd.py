"""Coordinate descent for losses with a constant Hessian (squared error and its
relatives) with an L1 / elastic-net penalty: solver ``"cd"``.

When ``loss.hessian_is_constant`` the smooth part of the objective is exactly a
quadratic: its gradient ``g`` at the start and its Hessian ``H`` (the weighted
Gram matrix plus the L2 term, one BLAS ``syrk`` over ``X``) define it
everywhere.  The unpenalised intercepts are eliminated in closed form (the
Schur complement: centring the design), and the L1 problem on the penalised
coefficients is solved by coordinate descent with an active set on the Gram
matrix (:func:`skloss._kernels._cd.quadratic_l1_active_cd`, glmnet's covariance
updates).  One read of ``X`` for ``H``, one more at the end to check the
optimality on the true gradient: a problem of 2,000 x 25 needs no Newton
iterations, line searches or repeated Hessians (proximal Newton formed two).

The stopping rule is the proximal Newton solver's (the scale-free minimum-norm
subgradient, :class:`ProblemScale`); the coordinate descent runs to a tolerance
a hundred times tighter in the same units.  Should rounding leave the final
check above ``tol``, proximal Newton finishes from the CD point.
"""

import numpy as np

__all__ = ["solve_cd", "cd_applies"]


def cd_applies(loss, n_outputs):
    """Whether ``"cd"`` handles the problem: a constant Hessian in raw (the smooth
    part is a quadratic) and one output."""
    return bool(getattr(loss, "hessian_is_constant", False)) and bool(loss.has_hessian) and n_outputs == 1


def solve_cd(obj, c, tol, max_iter, verbose, free, scale=None):
    from skloss._kernels._cd import quadratic_l1_active_cd

    from ._solver_common import NonFinite, ProblemScale, SolverResult, log
    from ._solver_prox import l1_subgradient, prox_newton

    sc = ProblemScale(obj, c) if scale is None else scale
    free_mask = np.ones(c.size, dtype=bool) if free is None else free
    pen_all = obj.penalised_mask()
    l1 = obj.l1_reg
    unit = sc.col * sc.g0

    def optimality(g, c):
        s = l1_subgradient(g[free_mask], c[free_mask], pen_all[free_mask], l1) / unit[free_mask]
        return float(np.max(s)) if s.size else 0.0

    f, g = obj.value_grad(c)
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        raise NonFinite("objective or its gradient at the start")
    sc.set_f0(f + obj.l1_value(c))
    if optimality(g, c) <= tol:
        return SolverResult(c, f + obj.l1_value(c), 0, True, "cd", "minimum-norm subgradient below tol",
                            optimality(g, c))
    H = obj.hessian(c)
    if not np.all(np.isfinite(H)):
        raise NonFinite("Hessian")
    idx = np.flatnonzero(free_mask)
    H, g_f, c_f, pen = H[np.ix_(idx, idx)], g[idx], c[idx], pen_all[idx]
    U, P = np.flatnonzero(~pen), np.flatnonzero(pen)
    d = np.zeros(idx.size)
    if P.size:
        A, gp = H[np.ix_(P, P)], g_f[P]
        if U.size:
            Huu = H[np.ix_(U, U)]
            Hup = H[np.ix_(U, P)]
            # (a zero-weight or all-zero intercept block cannot be eliminated: pseudo-inverse)
            S = np.linalg.lstsq(Huu, np.column_stack([Hup, g_f[U]]), rcond=None)[0]
            A = A - Hup.T @ S[:, :P.size]
            gp = gp - Hup.T @ S[:, P.size]
        A = np.ascontiguousarray(0.5 * (A + A.T))
        z = c_f[P].copy()
        G = gp.copy()  # gradient of the reduced quadratic at z = c_P (d = 0)
        # the CD tolerance in gradient units: 1e-2 tol in the scale-free measure
        inner = 1e-2 * tol * float(np.min(unit[idx][P]))
        sweeps, _ = quadratic_l1_active_cd(A, G, z, np.ones(P.size), l1, inner, 100000)
        d[P] = z - c_f[P]
        log(verbose, f"cd: {sweeps} sweeps on {P.size} coordinates")
    if U.size:
        rhs = g_f[U] + H[np.ix_(U, P)] @ d[P] if P.size else g_f[U]
        d[U] = -np.linalg.lstsq(H[np.ix_(U, U)], rhs, rcond=None)[0]
    c_new = c.copy()
    c_new[idx] = c_f + d
    f_new, g_new = obj.value_grad(c_new)
    F_new = f_new + obj.l1_value(c_new)
    opt = optimality(g_new, c_new)
    if opt <= tol:
        return SolverResult(c_new, F_new, 1, True, "cd", "minimum-norm subgradient below tol", opt)
    # rounding on an ill-conditioned Gram: proximal Newton finishes from here
    res = prox_newton(obj, c_new, tol, max(1, max_iter - 1), verbose, free, scale=sc)
    res.n_iter += 1
    res.solver = "cd+prox-newton"
    return res
