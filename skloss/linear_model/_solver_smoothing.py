"""A first-order solver for non-smooth losses that declare no pieces.

A convex loss ``l(r)`` (in the raw score ``r``) is replaced by its Moreau
envelope

    M_h(r) = min_s  l(s) + (s - r)^2 / (2 h),

which is differentiable with gradient ``(r - s*) / h`` (``s*`` the proximal
point), lies below ``l`` and above ``l - h L^2 / 2`` (``L`` the largest slope
of ``l``).  The proximal point needs only the loss's (sub)gradient: ``phi(s) =
l'(s) + (s - r) / h`` is non-decreasing and changes sign in the bracket
``[r, r - h l'(r)]``, so a vectorised bisection finds it for every sample at
once.  L-BFGS minimises the smoothed objective for a decreasing sequence of
``h`` (continuation to the kink: ``h`` from the problem's raw scale ``F0 /
G0`` down to ``1e-9`` of it), each stage started from the last; an L1 term is
handled exactly by splitting ``w = w+ - w-`` with bounds.

A K-score form declaring ``multiclass_margin`` (Crammer-Singer) is smoothed as
one K-dimensional function (its envelope projects onto the simplex), and with
an L2 penalty (no L1) its report is the relative duality gap at the best point
(the dual point from the envelope's gradient).

Honest report: otherwise ``optimality`` is the larger of the relative change of the true
objective over the last stage and the smoothing bound ``h L^2 / (2 |F|)``;
``converged`` when it is below ``max(tol, 1e-7)`` (the solver estimates the
optimum's objective to about that relative accuracy; the exact solvers are for
losses that declare their pieces).
"""

import numpy as np

from ._solver_common import NonFinite, ProblemScale, SolverResult, log, single_thread_blas

__all__ = ["smoothing"]

_H_FIRST = 1.0  # first smoothing width, in units of the raw scale F0 / G0
_H_LAST = 1e-9  # last smoothing width, in the same units
_H_FACTOR = 0.1  # width ratio between stages
_OBJ_TOL = 1e-7  # the relative objective accuracy the continuation can certify


def _prox_point(lossfn, y, raw, h):
    """``s*`` of the Moreau envelope at every entry of ``raw``.

    The full step ``s = r - h l'(r)`` is the answer where the slope does not
    change between ``r`` and ``s`` (every entry away from a kink).  Elsewhere the
    bracket ``[r, s]`` holds the answer; with one kink inside it, the kink is where
    the two end lines of the loss meet, and the answer is on one of the two lines
    or at the kink (exact for piecewise-linear losses); otherwise a bisection
    step on ``phi(s) = l'(s) + (s - r) / h`` shrinks the bracket.
    """
    raw = np.asarray(raw, dtype=np.float64)  # (1-D: one raw score per entry)
    g = np.asarray(lossfn.gradient(y, raw), dtype=np.float64)
    s = raw - h * g
    gs = np.asarray(lossfn.gradient(y, s), dtype=np.float64)
    todo = np.flatnonzero((gs != g).ravel())
    if todo.size == 0:
        return s
    rr, ss, gg, ggs = raw, s.copy(), g, gs
    r_t = rr[todo]
    lo, hi = np.minimum(r_t, ss[todo]), np.maximum(r_t, ss[todo])
    g_lo = np.where(r_t <= ss[todo], gg[todo], ggs[todo])
    g_hi = np.where(r_t <= ss[todo], ggs[todo], gg[todo])
    out = 0.5 * (lo + hi)
    active = np.arange(todo.size)
    for _ in range(64):
        if active.size == 0:
            break
        idx = todo[active]
        yt = y[idx]
        rt = rr[idx]
        lo_a, hi_a, gl, gh = lo[active], hi[active], g_lo[active], g_hi[active]
        L_lo = np.asarray(lossfn.loss(yt, lo_a), dtype=np.float64)
        L_hi = np.asarray(lossfn.loss(yt, hi_a), dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = (L_hi - L_lo + gl * lo_a - gh * hi_a) / (gl - gh)
        inside = np.isfinite(k) & (k >= lo_a) & (k <= hi_a)
        k = np.where(inside, k, 0.5 * (lo_a + hi_a))
        L_k = np.asarray(lossfn.loss(yt, k), dtype=np.float64)
        tol_l = 64 * np.finfo(float).eps * (np.abs(L_lo) + np.abs(L_hi) + np.abs(gl * (k - lo_a)) + 1e-300)
        one_kink = inside & (np.abs(L_lo + gl * (k - lo_a) - L_k) <= tol_l)
        a = rt - h * gl
        b = rt - h * gh
        cand = np.where((a >= lo_a) & (a <= k), a, np.where((b >= k) & (b <= hi_a), b, k))
        done = one_kink
        out[active[done]] = cand[done]
        # bisection on phi for the rest
        rest = ~done
        if not np.any(rest):
            break
        m = 0.5 * (lo_a[rest] + hi_a[rest])
        gm = np.asarray(lossfn.gradient(yt[rest], m), dtype=np.float64)
        phi = gm + (m - rt[rest]) / h
        up = phi > 0
        ar = active[rest]
        hi[ar] = np.where(up, m, hi[ar])
        g_hi[ar] = np.where(up, gm, g_hi[ar])
        lo[ar] = np.where(up, lo[ar], m)
        g_lo[ar] = np.where(up, g_lo[ar], gm)
        out[ar] = 0.5 * (lo[ar] + hi[ar])
        small = (hi[ar] - lo[ar]) <= 4e-16 * (np.abs(rt[rest]) + np.abs(h * gg[todo[ar]]) + 1e-300)
        active = ar[~small]
    ss[todo] = out
    return ss


def _cs_margin(obj):
    """The declared Crammer-Singer margin of a K-score objective, or None."""
    m = getattr(obj.loss, "multiclass_margin", None)
    return float(m) if m is not None and obj.n_outputs > 1 else None


def _cs_envelope(y, raw, margin, h):
    """Moreau envelope of the Crammer-Singer loss ``max_m (e_m + r_m) - r_y`` per
    row, and its gradient ``mu - e_y``: ``mu`` the projection of ``e_y + (r +
    e) / h`` onto the simplex (the loss is the support function of the simplex
    shifted by ``e_y``)."""
    n, K = raw.shape
    rows = np.arange(n)
    e = np.full((n, K), margin)
    e[rows, y] = 0.0
    v = (raw + e) / h
    v[rows, y] += 1.0
    u = -np.sort(-v, axis=1)
    css = np.cumsum(u, axis=1) - 1.0
    k = np.arange(1, K + 1)
    r = np.sum(u - css / k > 0, axis=1)  # the positive part's size (>= 1)
    theta = css[rows, r - 1] / r
    mu = np.maximum(v - theta[:, None], 0.0)
    g = mu.copy()
    g[rows, y] -= 1.0
    m = np.sum(g * raw, axis=1) + np.sum(mu * e, axis=1) - 0.5 * h * np.sum(g * g, axis=1)
    return m, g


def _cs_gap(obj, c, h):
    """Relative duality gap of a Crammer-Singer + L2 objective at ``c``: the
    envelope gradient at ``c`` gives a feasible dual point (its bound is valid
    whatever ``h``)."""
    from ._exact_multiclass import cs_certificate

    y = np.asarray(obj.y).astype(np.intp)
    raw = np.asarray(obj.raw_prediction(c), dtype=np.float64)
    _, g = _cs_envelope(y, raw, _cs_margin(obj), h)
    n = raw.shape[0]
    sw = np.ones(n) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64)
    omega = sw / sw.sum()
    X = obj.X
    lam = float(obj.l2_reg)
    alpha = -(omega / lam)[:, None] * g
    LB, _ = cs_certificate(X, y, omega, lam, _cs_margin(obj), alpha, bool(obj.fit_intercept))
    F = obj.total_value(c)
    return (F - LB) / max(abs(F), abs(LB), 1e-300)


def _envelope(obj, c, h):
    """Mean Moreau envelope + L2 term and its gradient (packed), and the true objective."""
    lossfn, y = obj._lossfn, obj.y
    raw = np.asarray(obj.raw_prediction(c), dtype=np.float64)
    margin = _cs_margin(obj)
    if margin is not None:
        m, gr = _cs_envelope(np.asarray(y).astype(np.intp), raw, margin, h)
        s = None
    elif raw.ndim == 1:
        s = _prox_point(lossfn, y, raw, h)
    else:
        # the K-score form of a loss without a multi-class form is the one-vs-rest
        # sum of its binary form: one envelope per entry, with target (y == k)
        K = raw.shape[1]
        yb = (np.asarray(y)[:, None] == np.arange(K)[None, :]).astype(np.float64).ravel()
        s = _prox_point(lossfn, yb.astype(obj.dtype), raw.ravel(), h).reshape(raw.shape)
    sw = None if obj.sample_weight is None else obj.sample_weight.astype(np.float64)
    def per_sample(a):
        a = np.asarray(a, dtype=np.float64)
        return a.sum(axis=1) if a.ndim > 1 else a

    if s is not None:
        m = per_sample(lossfn.loss(y, s)) + per_sample((s - raw) ** 2 / (2 * h))
        gr = (raw - s) / h
    true = per_sample(lossfn.loss(y, raw))
    if sw is not None:
        m, true = m * sw, true * sw
        gr = gr * (sw if gr.ndim == 1 else sw[:, None])
    inv = 1.0 / obj.weight_sum
    w, _ = obj.split(c)
    wf = np.asarray(w, dtype=np.float64)
    l2 = 0.5 * obj.l2_reg * float(wf.ravel() @ wf.ravel())
    X = obj.X
    if gr.ndim == 1:
        gw = np.asarray(X.T @ gr.astype(obj.dtype, copy=False), dtype=np.float64).ravel() * inv
        gb = np.array([gr.sum() * inv])
    else:
        gw = np.asarray(X.T @ gr.astype(obj.dtype, copy=False), dtype=np.float64).T * inv
        gb = gr.sum(axis=0) * inv
    if obj.l2_reg:
        gw = gw + obj.l2_reg * wf
    grad = obj.pack(gw, gb) if obj.fit_intercept else gw.ravel().copy()
    return float(m.sum()) * inv + l2, grad, float(true.sum()) * inv + l2


def smoothing(obj, c0, tol, max_iter, verbose, free, scale=None):
    """Minimise a non-smooth objective by Moreau smoothing with continuation."""
    from scipy.optimize import minimize

    sc = ProblemScale(obj, c0) if scale is None else scale
    c = np.array(c0, dtype=np.float64)
    F = obj.total_value(c)
    if not np.isfinite(F):
        raise NonFinite("objective at the start")
    if not sc.has_f0:
        sc.set_f0(F)
    fs = sc.f0
    R = fs / sc.g0  # the raw scale of the problem
    l1 = obj.l1_reg
    n = c.size
    free_mask = np.ones(n, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    pen = obj.penalised_mask() & free_mask if l1 > 0 else np.zeros(n, dtype=bool)
    plain = free_mask & ~pen
    a = sc.col * sc.g0 / fs  # scaled variables, as in L-BFGS
    ip, iq = np.flatnonzero(pen), np.flatnonzero(plain)

    def to_x(c):
        cp = c[ip] * a[ip]
        return np.concatenate([np.maximum(cp, 0.0), np.maximum(-cp, 0.0), c[iq] * a[iq]])

    def to_c(x):
        out = c0.copy()
        k = ip.size
        out[ip] = (x[:k] - x[k:2 * k]) / a[ip]
        out[iq] = x[2 * k:] / a[iq]
        return out

    bounds = [(0.0, None)] * (2 * ip.size) + [(None, None)] * iq.size
    best_c, best_F = c.copy(), F
    n_iter = 0
    h = _H_FIRST * R
    prev_F = F
    change = np.inf
    gap = np.inf
    stage_msg = ""
    slope = sc.g0
    while True:
        state = {}

        def fun(x, h=h, state=state):
            cc = to_c(x)
            m, g, true = _envelope(obj, cc, h)
            if not np.isfinite(m):
                raise NonFinite("smoothed objective")
            state["true"], state["x"] = true, x
            k = ip.size
            gx = np.concatenate([(g[ip] + l1) / a[ip], (l1 - g[ip]) / a[ip], g[iq] / a[iq]]) / fs
            return (m + l1 * float(np.abs(x[:2 * k] / np.r_[a[ip], a[ip]]).sum())) / fs, gx

        left = max(1, max_iter - n_iter)
        with single_thread_blas():
            res = minimize(fun, to_x(c), jac=True, method="L-BFGS-B", bounds=bounds,
                           options={"maxiter": left, "maxfun": max(15000, 4 * left), "gtol": min(tol, 1e-10),
                                    "ftol": 64 * np.finfo(float).eps, "maxcor": 30})
        n_iter += int(res.nit)
        c = to_c(res.x)
        F = obj.total_value(c)
        if F < best_F:
            best_c, best_F = c.copy(), F
        change = abs(prev_F - F) / sc.fmag(F)
        # the envelope is within h L^2 / 2 of the loss; L estimated by the start's slope scale
        gap = 0.5 * h * slope * slope / sc.fmag(best_F)
        stage_msg = str(res.message)
        log(verbose, f"smoothing h={h:.3g}: {res.nit} iterations, F={F:.15g}, change={change:.2e}")
        prev_F = F
        if n_iter >= max_iter or h <= _H_LAST * R * (1 + 1e-12):
            break
        h *= _H_FACTOR
    opt = max(change, gap)
    if _cs_margin(obj) is not None and obj.l2_reg > 0 and l1 == 0:
        # a declared Crammer-Singer form with L2: certify by the duality gap (the
        # objective's change under continuation does not prove optimality)
        opt = _cs_gap(obj, best_c, h)
    converged = bool(opt <= max(tol, _OBJ_TOL))
    msg = ("objective stable under continuation to the kinks" if converged
           else f"continuation stopped (last stage: {stage_msg})")
    return SolverResult(best_c, best_F, int(n_iter), converged, "smoothing", msg, float(opt))
