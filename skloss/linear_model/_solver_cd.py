"""Coordinate descent for L1 / elastic-net penalties, one output: solver ``"cd"``.

Two routes, chosen from the problem (never the clock):

Gram route (``loss.hessian_is_constant``, at most ``MAX_GRAM`` coefficients)
    The smooth part of the objective is exactly a quadratic: its gradient ``g``
    at the start and its Hessian ``H`` (the weighted Gram matrix plus the L2
    term, one BLAS ``syrk`` over ``X``) define it everywhere.  The unpenalised
    intercept is eliminated in closed form (the Schur complement: centring the
    design) and the L1 problem on the penalised coefficients is solved by
    coordinate descent with an active set on the Gram matrix
    (:func:`skloss._kernels._cd.quadratic_l1_active_cd`, glmnet's covariance
    updates).  One read of ``X`` for ``H``, one more to check the optimality on
    the true gradient; proximal Newton formed two Hessians and line-searched.
Column route (any smooth loss with a Hessian; sparse ``X`` or many features)
    Proximal Newton whose model is minimised by coordinate descent on the
    columns of ``X`` (:func:`skloss._kernels._cd.glm_cd_csc`, glmnet's IRLS-CD):
    no Hessian matrix is formed, a sweep reads the stored entries twice.

Both stop on proximal Newton's rule (the scale-free minimum-norm subgradient,
:class:`ProblemScale`, below ``tol``); should a step fail, proximal Newton on
the full Hessian finishes (``solver_ = "cd+prox-newton"``).
"""

import numpy as np

__all__ = ["solve_cd", "solve_glm_cd", "cd_applies"]


# the largest Gram matrix (packed coefficients) the constant-Hessian route forms (as
# the threshold of dense Hessians in _solver_select: 3,000^2 float64 = 72 MB)
MAX_GRAM = 3000

# the column route's model is solved no further than this fraction of the outer ``tol``
# (in the same scale-free units): the outer rule stops at ``tol``, a tighter model
# only costs sweeps (squared hinge, l1, 100,000 x 5,000 CSR: 19 -> 12 sweeps)
_INNER_FLOOR = 0.1


def cd_applies(loss, n_outputs):
    """Whether ``"cd"`` handles the problem: one output and a loss with a Hessian."""
    return bool(loss.has_hessian) and bool(loss.is_smooth) and n_outputs == 1


def solve_cd(obj, c, tol, max_iter, verbose, free, scale=None):
    """Solver ``"cd"``: the Gram route for a constant Hessian and a Gram matrix of at most
    ``MAX_GRAM`` coefficients, the column (GLM) route otherwise."""
    if not (getattr(obj.loss, "hessian_is_constant", False) and obj.n_coef <= MAX_GRAM and obj.n_outputs == 1):
        return solve_glm_cd(obj, c, tol, max_iter, verbose, free, scale)
    return _solve_gram_cd(obj, c, tol, max_iter, verbose, free, scale)


def _solve_gram_cd(obj, c, tol, max_iter, verbose, free, scale=None):
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


def solve_glm_cd(obj, c, tol, max_iter, verbose, free, scale=None):
    """Proximal Newton with a coordinate-descent inner solve on the columns of ``X``
    (glmnet's IRLS-CD) for one output and any loss with a Hessian: no Hessian
    matrix is formed, a sweep costs two reads of the stored entries, so it suits
    sparse ``X`` and many features.  Outer steps: the per-sample gradient and
    curvature at the current point (curvature clipped at 0: a non-convex loss gets
    a convex model, still a descent direction), the model minimised by
    :func:`skloss._kernels._cd.glm_cd_csc` with an active set, then an Armijo
    backtracking on the full objective.  Same stopping rule as proximal Newton."""
    import scipy.sparse as sp

    from skloss._kernels._cd import glm_cd_csc

    from ._objective import _at, _unsigned
    from ._solver_common import NonFinite, ProblemScale, SolverResult, log
    from ._solver_prox import composite_line_search, l1_subgradient, prox_newton

    if obj.n_outputs != 1 or (free is not None and not np.all(free)):
        return prox_newton(obj, c, tol, max_iter, verbose, free, scale)
    sc = ProblemScale(obj, c) if scale is None else scale
    pen_all = obj.penalised_mask()
    l1, l2 = obj.l1_reg, obj.l2_reg
    unit = sc.col * sc.g0
    eps = np.finfo(float).eps
    p = obj.n_features
    Xc = obj.X.tocsc() if obj.sparse else sp.csc_matrix(obj.X)
    Xc.sort_indices()
    # (scipy's own int32 indices unless the entries need int64: no copy of the index arrays),
    # read as unsigned: numba then indexes without the negative-index fix-up on each access
    # (a gather or scattered add per stored entry; a sweep of the 100,000 x 5,000 CSR set
    # about a third faster)
    itype = np.int32 if Xc.indptr[-1] < np.iinfo(np.int32).max and p < np.iinfo(np.int32).max else np.int64
    indptr = _unsigned(Xc.indptr.astype(itype, copy=False))
    indices = _unsigned(Xc.indices.astype(itype, copy=False))
    data = Xc.data
    a = (np.full(obj.n_samples, 1.0 / obj.weight_sum) if obj.sample_weight is None
         else obj.sample_weight.astype(np.float64) / obj.weight_sum)
    pen = np.ones(p)
    unit_cd = np.ascontiguousarray(np.concatenate([unit[:p], unit[p:] if obj.fit_intercept else [1.0]]))

    def optimality(g, c):
        v = l1_subgradient(g, c, pen_all, l1) / unit
        return float(np.max(v)) if v.size else 0.0

    f, g = obj.value_grad(c)
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        raise NonFinite("objective or its gradient at the start")
    F = f + obj.l1_value(c)
    if not sc.has_f0:
        sc.set_f0(F)
    opt = optimality(g, c)
    converged, msg, n_iter = False, "maximum number of iterations reached", 0
    inner_tol = 0.1
    raw = None
    # the objective's pass keeps the per-sample (unweighted without sample weights)
    # gradient and curvature at its point: the start's and every accepted step's, read
    # from there instead of a product X c and a loss evaluation (and the kernel then
    # carries no raw prediction forward)
    kept = obj.sample_weight is None and (getattr(obj, "_curv_in_pass", False)
                                          or getattr(obj, "_twin_binary", False))
    no_delta = np.empty(0)
    for n_iter in range(1, max_iter + 1):
        if opt <= tol:
            converged, msg, n_iter = True, "minimum-norm subgradient below tol", n_iter - 1
            break
        last_g, last_h = getattr(obj, "_last_grad", None), getattr(obj, "_last_curv", None)
        if kept and _at(last_g, c) and _at(last_h, c):
            gs, hs = last_g[1], last_h[1]
        else:
            if raw is None:
                raw = np.asarray(obj.raw_prediction(c), dtype=np.float64)
            gs, hs = obj._lossfn.gradient_hessian(obj.y, raw.astype(obj.dtype, copy=False))
        ag = a * np.asarray(gs, dtype=np.float64)
        ah = a * np.maximum(np.asarray(hs, dtype=np.float64), 0.0)
        if not (np.all(np.isfinite(ag)) and np.all(np.isfinite(ah))):
            raise NonFinite("loss gradient or curvature")
        w = np.ascontiguousarray(c[:p])
        z = w.copy()
        delta = no_delta if kept else np.zeros(obj.n_samples)
        db = np.zeros(1)
        # (the inner tolerance in the scale-free units of the stopping rule, per coordinate)
        sweeps = glm_cd_csc(indptr, indices, data, ag, ah, w, z, delta, pen, l1, l2, obj.fit_intercept, db,
                            unit_cd, max(1e-300, inner_tol * opt, _INNER_FLOOR * tol), 10000)
        d = np.zeros_like(c)
        d[:p] = z - w
        if obj.fit_intercept:
            d[p] = db[0]
        dec = float(g @ d) + obj.l1_value(c + d) - obj.l1_value(c)
        step = composite_line_search(obj, c, d, F, dec) if dec < -1e-2 * eps * sc.fmag(F) else None
        if step is None:
            # (flat or badly scaled model) proximal Newton on the full Hessian finishes
            res = prox_newton(obj, c, tol, max(1, max_iter - n_iter), verbose, free, sc)
            res.n_iter += n_iter
            res.solver = "cd+prox-newton"
            return res
        t, c, f, g, F = step
        # (the raw prediction moves by t X d: the kernel's delta, no product with X)
        raw = None if kept else raw + t * delta
        opt = optimality(g, c)
        inner_tol = max(0.1 * inner_tol, 1e-2) if t == 1.0 else inner_tol
        log(verbose, f"cd iter {n_iter}: F={F:.15g} optimality={opt:.3e} step={t:g} sweeps={sweeps}")
    else:
        converged = opt <= tol
    return SolverResult(c, F, int(n_iter), bool(converged), "cd", msg, opt)


def least_squares_cd(X, t, v, offset, fit_intercept, l1_reg, l2_reg, tol, verbose=0):
    """L1 / elastic-net weighted least squares on dense ``X`` from one Gram matrix.

    Minimises ``sum_i omega_i (t_i - o_i - x_i.w - b)^2 + l1 |w|_1 + l2/2 |w|^2``
    (``omega = v / sum v``; ``v`` None for unit weights): the form of every loss with
    a constant Hessian (``_linear._quadratic_form``).  One BLAS ``syrk`` gives the
    centred Gram matrix (:func:`skloss.linear_model._lstsq.centred_gram`: no copy of
    ``X`` for unit weights and small column means), the intercept is eliminated by
    the centring, and coordinate descent with an active set runs on the Gram matrix
    of the equilibrated columns (:func:`skloss._kernels._cd.quadratic_l1_active_cd`,
    glmnet's covariance updates) to a violation far below ``tol``.  No objective,
    Hessian or subsample is built.

    The optimality is certified on the true gradient with the library's scale-free
    rule (``max_j |subgradient_j| / (col_j g0)``, ``col_j`` the weighted RMS of column
    ``j``, ``g0 = 2 RMS(t - tbar)`` the RMS per-sample gradient at the intercept-only
    start).  When the Gram matrix is the unit-weight product of ``X`` itself, the
    gradient computed from it differs from the true one by at most the rounding of
    the products, ``|dg_j| <= 20 gamma_n col_j (sum_k col_k |w_k| + RMS(z))``
    (``gamma_n = n eps / (1 - n eps)``, the worst-case error of any order of
    summation of ``n`` terms; ``|G_jk| <= col_j col_k`` and ``|rhs_j| <= col_j RMS(z)``
    by Cauchy-Schwarz), so the Gram gradient's violation plus that bound certifies the
    solution without reading ``X`` again (PERF: two passes fewer).  Otherwise (weights,
    large column means, or a bound above ``tol``) one pass over ``X`` computes the
    true gradient.

    Returns ``(w, b, sweeps, optimality, gram)`` with ``gram = (G, xbar, sa)`` for the
    covariance, or None when the check fails (rounding on an ill-conditioned Gram
    matrix: the caller falls back to the objective-based solvers).
    """
    from skloss._kernels._cd import gram_l1_least_squares

    from ._lstsq import centred_gram
    from ._solver_common import log

    n, p = X.shape
    z = t if offset is None else t - offset
    G, rhs, xbar, zbar, sa, sb, rss0, raw = centred_gram(X, z, v, fit_intercept)
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(rhs)) and np.isfinite(rss0)):
        return None
    # the problem in u = sa w / sb, divided by sb^2:
    #   u^T G u - 2 rhs.u + (l1 / sb) sum |u_j| / sa_j + l2 / 2 sum u_j^2 / sa_j^2
    # solved in the equilibrated q_j = e_j u_j, e_j = sqrt(A_jj), A = 2 G + diag(l2 / sa^2)
    w = np.empty(p)
    col = np.empty(p)
    sweeps, b, g0, opt = gram_l1_least_squares(
        np.ascontiguousarray(G), np.ascontiguousarray(rhs), np.ascontiguousarray(xbar, dtype=np.float64),
        float(zbar), np.ascontiguousarray(sa, dtype=np.float64), float(sb), float(rss0), bool(raw),
        float(l1_reg), float(l2_reg), float(tol), float(n), w, col)
    if np.isfinite(opt):
        log(verbose, f"cd (Gram): {sweeps} sweeps on {p} coordinates, optimality {opt:.3e} "
                     "(Gram gradient + rounding bound)")

    def violation(gw, gb):
        nz = w != 0
        sub = np.where(nz, np.abs(gw + l1_reg * np.sign(w)), np.maximum(np.abs(gw) - l1_reg, 0.0)) / col
        return float(max(np.max(sub, initial=0.0), abs(gb) if fit_intercept else 0.0)) / g0

    if not (np.isfinite(opt) and opt <= tol):
        # the optimality on the true gradient: one pass over X
        Xf = np.asarray(X, dtype=np.float64)
        r = z - (Xf @ w + b)
        wr = r / n if v is None else r * (v / v.sum())
        opt = violation(-2.0 * (Xf.T @ wr) + l2_reg * w, -2.0 * float(wr.sum()))
        log(verbose, f"cd (Gram): {sweeps} sweeps on {p} coordinates, optimality {opt:.3e}")
    if not (np.isfinite(opt) and opt <= tol):
        return None
    return w, b, int(sweeps), opt, (G, xbar, sa)
