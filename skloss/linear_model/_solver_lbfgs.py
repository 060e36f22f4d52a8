"""L-BFGS (SciPy's L-BFGS-B) on the smooth objective, in the problem's own units.

SciPy's tests are absolute (``max |g| <= gtol``; a relative reduction floored
at 1).  Running it on scaled variables ``u_j = c_j d_j G0 / F0`` and the scaled
objective ``F / F0`` (``d_j``, ``G0``: :class:`ProblemScale`; ``F0``: the
objective at the start) makes SciPy's gradient test exactly the scale-free
measure ``max_j |g_j| / (d_j G0) <= tol`` and its reduction test relative to
the start's objective.  Standardising the variables this way also
preconditions the problem (as standardising the columns of ``X`` would).

The number of stored pairs is the cost model's
(:func:`~skloss.linear_model._solver_select.lbfgs_memory`): 30, fewer where
L-BFGS-B's own work per iteration would outweigh the passes over ``X``.
"""

import numpy as np

from ._solver_common import NonFinite, ProblemScale, SolverResult, expand, log, single_thread_blas
from ._solver_select import lbfgs_memory

__all__ = ["lbfgs"]

_MESSAGES = (
    ("PGTOL", "gradient below tol"),
    ("REDUCTION", "relative reduction of the objective below 64 eps (no further progress possible "
                  "in floating point)"),
    ("ITERATIONS", "maximum number of iterations reached"),
    ("ABNORMAL", "line search failed"),
)


def _message(raw):
    up = raw.upper().replace("_", " ")
    if "PROJECTED GRADIENT" in up or "PGTOL" in up:
        return "gradient below tol"
    for key, text in _MESSAGES:
        if key in up:
            return text
    return raw


def lbfgs(obj, c0, tol, max_iter, verbose, free, scale=None):
    """Minimise the smooth objective (no L1 term) from ``c0`` with L-BFGS-B."""
    from scipy.optimize import minimize

    sc = ProblemScale(obj, c0) if scale is None else scale
    f0, g0 = obj.value_grad(c0)
    if not (np.isfinite(f0) and np.all(np.isfinite(g0))):
        raise NonFinite("objective or its gradient at the start")
    if not sc.has_f0:
        sc.set_f0(f0)
    fs = sc.f0
    a = sc.col * sc.g0 / fs  # u = a c
    af = a if free is None else a[free]
    n_calls = [0]
    cache = {"x": None}

    x0 = (c0 if free is None else c0[free]) * af

    def fun(u):
        if n_calls[0] == 0 and np.array_equal(u, x0):
            f, g = f0, g0  # (the start, already evaluated)
        else:
            f, g = obj.value_grad(expand(free, u / af, c0))
        n_calls[0] += 1
        gf = g if free is None else g[free]
        cache.update(x=u, f=f, g=g)
        return f / fs, gf / (af * fs)

    iterates = [x0, x0]  # (the last two: the last accepted step tells separation apart)

    def record(xk):
        iterates[:] = [iterates[1], np.array(xk)]

    nnz = obj.X.nnz if getattr(obj, "sparse", False) else obj.n_samples * obj.n_features
    memory = lbfgs_memory(obj.n_samples, nnz, obj.n_outputs, obj.n_coef)
    with single_thread_blas():
        res = minimize(
            fun, x0, jac=True, method="L-BFGS-B", callback=record,
            options={"maxiter": max_iter, "maxfun": max(15000, 4 * max_iter), "gtol": tol,
                     "ftol": 64 * np.finfo(float).eps, "maxcor": memory},
        )
    c = expand(free, res.x / af, c0)
    last_step = expand(free, (iterates[1] - iterates[0]) / af, np.zeros_like(c0))
    if cache["x"] is not None and np.array_equal(cache["x"], res.x):
        f, g = cache["f"], cache["g"]
    else:
        f, g = obj.value_grad(c)
    opt = sc.optimality(g, free)
    msg = _message(str(res.message))
    eps = float(np.finfo(obj.dtype).eps)
    converged = opt <= tol or (msg.startswith("relative reduction") and opt <= max(tol, 1e3 * eps))
    log(verbose, f"lbfgs: {res.nit} iterations ({memory} pairs), {n_calls[0]} evaluations, "
                 f"optimality={opt:.3e}, f={f:.12g}")
    out = SolverResult(c, obj.total_value(c) if obj.l1_reg else f, int(res.nit), bool(converged),
                       "lbfgs", msg, opt)
    out.extra["last_step"] = last_step if res.nit > 0 else None
    return out
