"""Proximal Newton for an L1 / elastic-net penalty with a smooth loss.

Each step minimises the quadratic model of the smooth part plus the L1 term by
coordinate descent (numba, :func:`skloss._kernels._linear.quadratic_l1_cd`),
then backtracks on the full objective.  It stops when the minimum-norm
subgradient, in the problem's own units (:class:`ProblemScale`), is below
``tol``.

On many rows it works as the Newton solver does (:mod:`._solver_newton`): a
cold start (every penalised coefficient zero) is first replaced by the fit on
an evenly strided subsample (recursively), and the quadratic models take their
Hessian from a subsample of rows (the step's error is then ~ sqrt(n_coef /
rows), a linear rate; each step costs one pass over ``X`` instead of a pass
and a full Gram product).  A step whose subgradient falls by less than half,
or fails its line search, switches to the full Hessian for the rest of the
run.  Every choice depends on the data's shape and the iterates only, so a
fit is repeatable bit for bit.
"""

import numpy as np

from ._solver_common import NonFinite, ProblemScale, SolverResult, log
from ._solver_newton import factor_psd, presolve_rows
from ._solver_select import hessian_rows

__all__ = ["prox_newton", "l1_subgradient"]


def l1_subgradient(g, c, pen, l1):
    """``|minimum-norm subgradient|`` of F = smooth + l1 ||c[pen]||_1, entry-wise."""
    out = np.abs(g).copy()
    gp, cp = g[pen], c[pen]
    nz = cp != 0
    out[pen] = np.where(nz, np.abs(gp + l1 * np.sign(cp)), np.maximum(np.abs(gp) - l1, 0.0))
    return out


def _direction(H, g, c, pen, l1, tol, cd):
    """The step ``d`` minimising ``g.d + d^T H d / 2 + l1 ||(c + d)[pen]||_1``.

    The unpenalised coordinates (intercepts) are eliminated exactly first: the
    model is minimised over them in closed form (a Schur complement), which
    amounts to centring the design, so coordinate descent runs on the
    penalised coordinates only and does not crawl along the strong coupling of
    an intercept with uncentred features.
    """
    U, P = np.flatnonzero(~pen), np.flatnonzero(pen)
    d = np.zeros_like(c)
    if P.size == 0:
        return factor_psd(H)(g)
    A, gp = (H, g.copy()) if U.size == 0 else (H[np.ix_(P, P)], g[P])
    if U.size:
        solve_u = factor_psd(H[np.ix_(U, U)])  # (returns -H_UU^{-1} v)
        S = -np.atleast_2d(solve_u(H[np.ix_(U, P)]).reshape(U.size, P.size))  # H_UU^{-1} H_UP
        A = A - H[np.ix_(P, U)] @ S
        gp = gp + H[np.ix_(P, U)] @ solve_u(g[U])
    A = np.ascontiguousarray(0.5 * (A + A.T))
    # small ridge keeps the coordinate steps finite on flat directions
    diag = np.diag(A).copy()
    diag = np.where(diag > 0, diag, max(1e-12, 1e-12 * float(np.max(np.abs(diag)) if diag.size else 1.0)))
    cp = c[P].copy()
    z = cp.copy()  # new point of the quadratic model
    Hd = np.zeros_like(cp)  # A (z - cp)
    cd(A, diag, gp.copy(), cp, z, Hd, np.ones(P.size), l1, tol, 200 + 20 * P.size)
    d[P] = z - cp
    if U.size:
        d[U] = solve_u(g[U] + H[np.ix_(U, P)] @ d[P])
    return d


def composite_line_search(obj, c, d, F, delta):
    """Armijo backtracking on the full objective (smooth part plus L1 term) along
    ``d`` from ``c`` (objective ``F``, predicted decrease ``delta < 0``):
    ``(t, c_new, f_new, g_new, F_new)`` of the first step length (1, 1/2, ...) that
    decreases enough, or None after 40 halvings."""
    t = 1.0
    for _ in range(40):
        c_new = c + t * d
        f_new, g_new = obj.value_grad(c_new)
        F_new = f_new + obj.l1_value(c_new)
        if np.isfinite(F_new) and F_new <= F + 1e-4 * t * delta:
            return t, c_new, f_new, g_new, F_new
        t *= 0.5
    return None


def _presolve(obj, c, tol, max_iter, free, pen_all):
    """A start from the fit on an evenly strided subsample of rows, for a cold
    start on many rows (None where it does not apply or fails)."""
    m_pre = presolve_rows(obj)
    if not m_pre or obj.n_outputs != 1 or np.any(c[pen_all] != 0.0):
        return None
    small = obj.subsample(m_pre)
    if small is obj:
        return None
    try:
        with np.errstate(all="ignore"):
            pre = prox_newton(small, c.copy(), max(tol, 1e-4), min(max_iter, 50), 0, free)
    except (NonFinite, ValueError, np.linalg.LinAlgError):
        return None
    if pre.converged and np.all(np.isfinite(pre.coef)):
        return pre
    return None


def prox_newton(obj, c, tol, max_iter, verbose, free, scale=None):
    from skloss._kernels._linear import quadratic_l1_cd

    sc = ProblemScale(obj, c) if scale is None else scale
    l1 = obj.l1_reg
    pen_all = obj.penalised_mask()
    eps = np.finfo(float).eps
    free_mask = np.ones(c.size, dtype=bool) if free is None else free
    idx = np.flatnonzero(free_mask)
    unit = sc.col[free_mask] * sc.g0

    def optimality(g, c):
        s = l1_subgradient(g[free_mask], c[free_mask], pen_all[free_mask], l1) / unit
        return float(np.max(s)) if s.size else 0.0

    pre = _presolve(obj, c, tol, max_iter, free, pen_all)
    if pre is not None:
        log(verbose, f"prox-newton: start from a {obj.subsample(presolve_rows(obj)).n_samples}-row "
                     f"subsample fit ({pre.n_iter} iterations)")
        c = pre.coef
    # the Hessians of the quadratic models: from a row subsample on many rows
    # (an eighth of the rows on many rows: a linear rate ~ sqrt(n_coef / rows) of a few
    # hundredths, as the Newton solver's Hessians after its presolve)
    rows = hessian_rows(obj.n_samples, obj.n_coef) if obj.n_outputs == 1 else obj.n_samples
    rows = max(rows, presolve_rows(obj)) if rows < obj.n_samples else rows
    sub = obj.subsample(rows) if rows < obj.n_samples else None
    if sub is obj:
        sub = None
    f, g = obj.value_grad(c)
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        raise NonFinite("objective or its gradient at the start")
    F = f + obj.l1_value(c)
    if not sc.has_f0:
        sc.set_f0(F)
    opt = optimality(g, c)
    converged = False
    msg = "maximum number of iterations reached"
    n_iter = 0
    inner_tol = 0.1
    for n_iter in range(1, max_iter + 1):
        if opt <= tol:
            converged, msg, n_iter = True, "minimum-norm subgradient below tol", n_iter - 1
            break
        H = obj.hessian(c) if sub is None else sub.hessian(c)
        if not np.all(np.isfinite(H)):
            raise NonFinite("Hessian")
        # (the inner tolerance is absolute in the coordinate descent: in gradient units)
        inner = max(1e-300, inner_tol * opt * float(np.min(unit)) if unit.size else 0.0)
        Hf = H if free is None else H[np.ix_(idx, idx)]
        # (PERF) when the model gives no descent or its step fails the line search although
        # the point is not optimal, the Hessian is indefinite (a non-convex loss, e.g. the
        # softmax Brier score at its uniform start): Levenberg-Marquardt damping H + mu I,
        # mu growing tenfold, tends to a proximal-gradient step, a descent direction at any
        # non-stationary point
        top = float(np.max(np.abs(np.diag(Hf)))) if idx.size else 1.0
        top = top if top > 0 else 1.0
        mus = [0.0] + [top * 10.0 ** e for e in range(-4, 10)]
        accepted = False
        msg_fail = "no further decrease possible in floating point"
        for mu in mus:
            d = np.zeros_like(c)
            d[idx] = _direction(Hf + mu * np.eye(idx.size) if mu else Hf, g[idx], c[idx], pen_all[idx], l1,
                                inner, quadratic_l1_cd)
            delta = float(g @ d) + obj.l1_value(c + d) - obj.l1_value(c)
            if delta >= -1e-2 * eps * sc.fmag(F):
                if opt <= tol:
                    break
                continue
            step = composite_line_search(obj, c, d, F, delta)
            if step is not None:
                accepted = True
                t, c_new, f_new, g_new, F_new = step
                break
            msg_fail = "line search failed"
            if sub is not None:
                break  # (the subsample's model misleads: the full Hessian next)
        if not accepted and sub is not None:
            sub = None
            continue
        if not accepted:
            msg = msg_fail
            converged = opt <= max(tol, 1e3 * eps)
            break
        c, f, g, F = c_new, f_new, g_new, F_new
        opt_new = optimality(g, c)
        if sub is not None and opt_new > 0.5 * opt:
            sub = None  # (a slow linear rate: the subsample misleads, the full Hessian from here)
        opt = opt_new
        inner_tol = max(0.01 * inner_tol, 1e-3) if t == 1.0 else inner_tol
        log(verbose, f"prox-newton iter {n_iter}: F={F:.15g} optimality={opt:.3e} step={t:g}")
    else:
        converged = opt <= tol
    return SolverResult(c, F, int(n_iter), bool(converged), "prox-newton", msg, opt)
