"""Solvers for the linear-model objective (:class:`LinearObjective`).

Every solver minimises

    F(c) = mean_s loss(y, X w + b) + l2_reg / 2 ||w||^2 + l1_reg ||w||_1

over the packed coefficients ``c`` and returns a :class:`SolverResult`.  Which
solver can handle which problem is decided in one place, :func:`resolve_solver`,
which also turns ``solver="auto"`` into the fastest correct choice and raises a
readable ``ValueError`` otherwise.

Solvers
-------
``"newton-cholesky"``
    Newton's method on the full (dense) Hessian, Cholesky factorisation, Armijo
    backtracking.  Needs ``loss.has_hessian``; smooth penalties only.
``"newton-cg"``
    Newton's method with the Hessian applied as products (truncated conjugate
    gradients), Armijo backtracking.  Needs ``loss.has_hessian``.
``"lbfgs"``
    SciPy's L-BFGS-B on the smooth objective.  Needs a smooth loss; no L1 term.
``"prox-newton"``
    Proximal Newton for an L1 / elastic-net penalty with a smooth loss: a
    quadratic model of the smooth part, minimised with the L1 term by
    coordinate descent, then a backtracking line search on the full objective.
``"highs"``
    The exact optimum of a piecewise-linear loss (hinge, perceptron, absolute
    error, quantile, epsilon-insensitive) as a linear program (no penalty or
    L1) or a quadratic program in its dual form (L2 / elastic net), solved by
    the HiGHS solver shipped with SciPy.

Stopping criteria
-----------------
Smooth problems stop when ``max_j |dF/dc_j| <= tol`` (the gradient of the
mean-loss objective, so ``tol`` does not depend on ``n_samples``).  Problems with
an L1 term stop when the largest entry of the minimum-norm subgradient is
``<= tol``.  With float32 data ``tol`` is at least ``10 * eps(float32)``
(about 1.2e-6), the accuracy of a float32 gradient.  HiGHS solves to its own optimality tolerances (1e-9 on primal and
dual feasibility), which makes its answer exact to solver precision.  Newton
solvers also stop when the predicted decrease ``-g.d / 2`` falls below
``1e-2 * eps * |F|`` (no further progress is possible in floating point).
"""

import contextlib
import functools
import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp

__all__ = ["SolverResult", "SOLVERS", "quiet_blas", "resolve_solver", "solve"]

SOLVERS = ("auto", "newton", "newton-cholesky", "newton-cg", "lbfgs", "prox-newton", "highs")

# the largest number of packed coefficients for which a dense Hessian is formed
_MAX_DENSE_HESSIAN = 3000


@dataclass
class SolverResult:
    """What a solver returns.

    Attributes
    ----------
    coef : ndarray
        Packed coefficients (float64).
    objective : float
        The full objective at ``coef`` (L1 term included).
    n_iter : int
    converged : bool
    solver : str
    message : str
    optimality : float
        The final value of the stopping measure.
    """

    coef: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    solver: str
    message: str = ""
    optimality: float = float("nan")
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------ selection
def _pwl_supported(loss):
    return loss.name in _PWL_LOSSES


def resolve_solver(solver, loss, *, l1_reg=0.0, l2_reg=0.0, sparse=False, n_outputs=1, n_coef=1):
    """Resolve ``solver`` (``"auto"`` included) for a problem, or raise.

    Parameters
    ----------
    solver : str
        One of :data:`SOLVERS`.
    loss : Loss
    l1_reg, l2_reg : float
        Penalty strengths (``alpha * l1_ratio``, ``alpha * (1 - l1_ratio)``).
    sparse : bool
        Whether ``X`` is sparse.
    n_outputs : int
    n_coef : int
        Number of packed coefficients.

    Returns
    -------
    str
        A concrete solver name.

    Raises
    ------
    ValueError
        With a sentence saying why the solver cannot handle the problem and
        which one can.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {list(SOLVERS)}; got {solver!r}.")
    smooth = bool(loss.is_smooth)
    hess = bool(loss.has_hessian)
    has_l1 = l1_reg > 0
    name = loss.name
    if solver == "auto":
        if not smooth:
            if not _pwl_supported(loss):
                raise ValueError(
                    f"loss {name!r} is not smooth (is_smooth=False) and has no exact solver: "
                    f"the 'highs' solver handles the piecewise-linear losses {sorted(_PWL_LOSSES)}."
                )
            return "highs"
        if has_l1:
            if not hess:
                raise ValueError(
                    f"An L1 / elastic-net penalty with loss {name!r} needs its Hessian "
                    "(solver 'prox-newton'), but the loss has none (has_hessian=False)."
                )
            return "prox-newton"
        if hess and n_coef <= _MAX_DENSE_HESSIAN:
            return "newton-cholesky"
        if hess:
            return "newton-cg"
        return "lbfgs"
    if solver == "highs":
        if not _pwl_supported(loss):
            raise ValueError(
                f"solver 'highs' solves piecewise-linear losses {sorted(_PWL_LOSSES)} exactly; "
                f"loss {name!r} is not one of them; use solver='auto'."
            )
        return solver
    if solver in ("newton", "newton-cholesky", "newton-cg", "prox-newton") and not hess:
        raise ValueError(
            f"solver {solver!r} needs the Hessian, but loss {name!r} has no Hessian "
            "(has_hessian=False); use solver='auto'"
            + (" (exact: 'highs')." if _pwl_supported(loss) else " or solver='lbfgs'.")
        )
    if not smooth:
        raise ValueError(
            f"solver {solver!r} needs a smooth loss, but loss {name!r} is not smooth "
            f"(is_smooth=False); use solver='auto' (or 'highs') for its exact optimum."
        )
    if solver in ("newton", "newton-cholesky", "newton-cg", "prox-newton") and not hess:
        raise ValueError(
            f"solver {solver!r} needs the Hessian, but loss {name!r} has no Hessian "
            "(has_hessian=False); use solver='lbfgs' or solver='auto'."
        )
    if has_l1 and solver != "prox-newton":
        raise ValueError(
            f"solver {solver!r} cannot handle an L1 / elastic-net penalty (the objective is "
            "not differentiable); use solver='prox-newton' or solver='auto'."
        )
    if solver == "newton":
        return "newton-cholesky" if n_coef <= _MAX_DENSE_HESSIAN else "newton-cg"
    return solver


# ------------------------------------------------------------------ driver
def solve(objective, coef0, solver, *, tol=1e-6, max_iter=1000, verbose=0, fixed=None):
    """Minimise ``objective`` from ``coef0`` with a resolved ``solver``.

    Parameters
    ----------
    objective : LinearObjective
    coef0 : ndarray
        Packed start (copied).
    solver : str
        A concrete name returned by :func:`resolve_solver`.
    tol : float
        Stopping tolerance (see the module docstring).
    max_iter : int
    verbose : int
    fixed : ndarray of bool or None
        Packed entries held at their ``coef0`` values (the objective must be
        invariant along them, e.g. the reference class of a softmax).

    Returns
    -------
    SolverResult
    """
    coef0 = np.array(coef0, dtype=np.float64)
    # float32 data: the gradient is accurate to about float32 precision only
    tol = max(float(tol), 10.0 * float(np.finfo(objective.dtype).eps)) if objective.dtype == np.float32 else tol
    free = None if fixed is None or not np.any(fixed) else ~np.asarray(fixed, dtype=bool)
    start = time.perf_counter()
    try:
        with quiet_blas(objective):
            res = _dispatch(objective, coef0, solver, tol, max_iter, verbose, free)
    except _NonFinite as exc:
        raise _overflow_error(objective, str(exc)) from None
    res.extra["seconds"] = time.perf_counter() - start
    return res


class _NonFinite(ArithmeticError):
    """The objective, its gradient or its Hessian is not finite where it must be."""


def _overflow_error(obj, what):
    def biggest(a):
        a = a.data if sp.issparse(a) else np.asarray(a)
        return float(np.max(np.abs(a))) if a.size else 0.0

    limit = float(np.finfo(obj.dtype).max)
    return ValueError(
        f"The {what} is not finite: the computation overflows the {np.dtype(obj.dtype).name} range "
        f"(largest |X| = {biggest(obj.X):.3g}, largest |y| = {biggest(obj.y):.3g}; products and squares "
        f"must stay below {limit:.3g}). Scale the data, e.g. with sklearn.preprocessing.StandardScaler."
    )


@functools.cache
def _threadpool_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # (scans the loaded libraries: a few ms, once)


@contextlib.contextmanager
def quiet_blas(objective):
    """Single-threaded BLAS while the parallel numba passes of ``objective`` run.

    An OpenBLAS worker keeps spinning for a while after each call; on a few cores
    it then competes with numba's threads, and a parallel pass over ``X`` that
    follows any BLAS call (even a small product on a subsample) was measured two
    to three times slower (binary log loss, 200,000 x 100, 2 cores: 0.29 s per
    fit against 0.15 s with one BLAS thread).  The BLAS work of the fused solvers
    (subsampled Hessians, Cholesky) is small, so one thread costs little there.
    """
    if not (objective._fused and objective._n_chunks > 1):
        yield
        return
    with _threadpool_controller().limit(limits=1, user_api="blas"):
        yield


def _dispatch(objective, coef0, solver, tol, max_iter, verbose, free):
    if solver == "lbfgs":
        res = _lbfgs(objective, coef0, tol, max_iter, verbose, free)
    elif solver == "newton-cholesky":
        res = _newton(objective, coef0, tol, max_iter, verbose, free, method="cholesky")
    elif solver == "newton-cg":
        res = _newton(objective, coef0, tol, max_iter, verbose, free, method="cg")
    elif solver == "prox-newton":
        res = _prox_newton(objective, coef0, tol, max_iter, verbose, free)
    elif solver == "highs":
        res = _highs(objective, coef0, verbose)
    else:
        raise ValueError(f"Unknown solver {solver!r}.")
    if solver.startswith("newton") and not res.converged and res.message == "line search failed":
        # a Newton direction from a (near-)singular Hessian (e.g. Huber with every
        # residual beyond delta) can fail its line search; L-BFGS needs no
        # Hessian and finishes from the last Newton iterate
        more = _lbfgs(objective, res.coef, tol, max(1, max_iter - res.n_iter), verbose, free)
        more.n_iter += res.n_iter
        more.solver = f"{solver}+lbfgs"
        more.extra.update(res.extra)
        res = more
    return res


def _log(verbose, msg):
    if verbose:
        print(msg)


def _expand(free, x_free, base):
    if free is None:
        return x_free
    out = base.copy()
    out[free] = x_free
    return out


# ------------------------------------------------------------------ L-BFGS
def _lbfgs(obj, c0, tol, max_iter, verbose, free):
    from scipy.optimize import minimize

    n_calls = [0]

    def fun(x):
        c = _expand(free, x, c0)
        f, g = obj.value_grad(c)
        if n_calls[0] == 0 and not (np.isfinite(f) and np.all(np.isfinite(g))):
            raise _NonFinite("objective or its gradient at the start")
        n_calls[0] += 1
        return f, (g if free is None else g[free])

    x0 = c0 if free is None else c0[free]
    res = minimize(
        fun, x0, jac=True, method="L-BFGS-B",
        options={"maxiter": max_iter, "maxfun": max(15000, 4 * max_iter), "gtol": tol,
                 "ftol": 64 * np.finfo(float).eps, "maxcor": 30},
    )
    c = _expand(free, res.x, c0)
    f, g = obj.value_grad(c)
    gmax = float(np.max(np.abs(g if free is None else g[free]))) if g.size else 0.0
    converged = gmax <= tol
    msg = str(res.message)
    if not converged and res.nit < max_iter:
        # L-BFGS-B stopped on its function-decrease test (no progress possible in
        # floating point); accept when the gradient is at rounding level
        converged = gmax <= max(tol, 1e3 * np.finfo(float).eps * max(1.0, abs(f)))
    _log(verbose, f"lbfgs: {res.nit} iterations, {n_calls[0]} evaluations, |g|max={gmax:.3e}, f={f:.12g}")
    return SolverResult(c, obj.total_value(c) if obj.l1_reg else f, int(res.nit), bool(converged),
                        "lbfgs", msg, gmax)


# ------------------------------------------------------------------ Newton
def _factor_psd(H):
    """A solver ``g -> -H^{-1} g`` for a symmetric ``H`` (Cholesky); adds a growing
    ridge when ``H`` is not positive definite (non-convex losses, singular designs)."""
    n = H.shape[0]
    if n == 0:
        return lambda g: np.zeros(0)
    scale = max(float(np.max(np.abs(np.diag(H)))), 1e-300)
    ridge = 0.0
    for _ in range(60):
        try:
            Hr = H if ridge == 0.0 else H + ridge * np.eye(n)
            cf = scipy.linalg.cho_factor(Hr, lower=False, check_finite=False)
            if np.all(np.isfinite(cf[0])):
                return lambda g, cf=cf: -scipy.linalg.cho_solve(cf, g, check_finite=False)
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError, ValueError):
            pass
        ridge = scale * 1e-12 if ridge == 0.0 else ridge * 10.0
    return lambda g: -g / scale


def _cg(hessp, g, tol, maxiter, precond=None):
    """Truncated conjugate gradients for ``H d = -g`` (preconditioned by the
    positive diagonal ``precond`` when given); stops when the residual falls to
    ``tol * |g|`` or on negative curvature."""
    d = np.zeros_like(g)
    r = -g.copy()
    gnorm = math.sqrt(float(r @ r))
    if gnorm == 0.0:
        return d, 0
    z = r if precond is None else r / precond
    pdir = z.copy()
    rz = float(r @ z)
    for it in range(maxiter):
        hp = hessp(pdir)
        curv = float(pdir @ hp)
        if curv <= 1e-16 * float(pdir @ pdir):
            if it == 0:
                return -g, 1
            return d, it
        a = rz / curv
        d += a * pdir
        r -= a * hp
        if math.sqrt(float(r @ r)) <= tol * gnorm:
            return d, it + 1
        z = r if precond is None else r / precond
        rz_new = float(r @ z)
        pdir = z + (rz_new / rz) * pdir
        rz = rz_new
    return d, maxiter


_MAX_PAIRS = 10


def _two_loop(solve0, g, pairs):
    """``-B^{-1} g`` for the BFGS update of a base matrix ``B0`` (``solve0(g) =
    -B0^{-1} g``) by the secant ``pairs`` ``(s, y, 1 / s.y)``, oldest first."""
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * float(s @ q)
        q -= a * y
        alphas.append(a)
    r = -solve0(q)
    for (s, y, rho), a in zip(pairs, reversed(alphas)):
        r += (a - rho * float(y @ r)) * s
    return -r


def _presolve_rows(obj):
    """Rows of the subsample a Newton start is first fitted on (0: none)."""
    if obj.n_outputs == 1:
        # an eighth of the rows, which is also the subsample of the Hessians that follow
        floor = max(1000, 20 * obj.n_coef)
        return max(obj.n_samples // 8, floor) if obj.n_samples >= 8 * floor else 0
    # K outputs: a Hessian costs about K^2 times more, a presolve pays only on many rows
    m = max(10000, 50 * obj.n_coef)
    return m if obj.n_samples > 5 * m else 0


def _newton(obj, c, tol, max_iter, verbose, free, method, presolve=True):
    """Damped Newton.  With ``method="cholesky"`` a Hessian factorisation is
    reused while its full steps keep reducing the gradient quickly (a chord step
    costs one pass over X instead of a Hessian); a slower step refreshes it.  On
    many rows the Hessian comes from a subsample and the full Hessian is formed
    only when the measured costs predict that it finishes sooner.

    On many rows the start is first improved on an evenly strided subsample
    (``presolve``): its optimum is within sampling error of the full one, so the
    iterations on all rows start in the region of fast convergence.  The result
    is only used if it lowers the full objective."""
    eps = np.finfo(obj.dtype).eps
    presolved = False
    m_pre = _presolve_rows(obj) if presolve and method == "cholesky" else 0
    if m_pre:
        small = obj.subsample(m_pre)
        if small is not obj:
            # (recursively: the subsample fit starts from a fit on a smaller one)
            pre = _newton(small, c.copy(), max(tol, 1e-4), min(max_iter, 50), 0, free, method)
            if pre.converged and np.all(np.isfinite(pre.coef)):
                c0, c = c, pre.coef
                presolved = True
            _log(verbose, f"newton-{method}: start from a {small.n_samples}-row subsample fit "
                          f"({pre.n_iter} iterations, converged={pre.converged})")
    f, g, Hfun = obj.value_grad_hessian(c)
    if presolved:
        f_start = obj.value(c0) if not np.isfinite(f) else f
        if not np.isfinite(f) or f > f_start:  # (never seen: the subsample fit misled)
            c = c0
            f, g, Hfun = obj.value_grad_hessian(c)
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        raise _NonFinite("objective or its gradient at the start")
    n_iter = 0
    converged = False
    msg = "maximum number of iterations reached"
    gmax = float(np.max(np.abs(g if free is None else g[free]))) if g.size else 0.0
    solver_fn = None
    fresh = False
    n_hess = 0
    last_step = None
    # on many rows, a Hessian from an evenly strided subsample (mean-normalised)
    # gives Newton directions almost as good at a fraction of the cost; the
    # gradient is always exact, so the fixed point is the exact optimum.  When a
    # subsampled step makes slow progress the full Hessian takes over.
    m_sub = max(10000, 20 * obj.n_coef)
    sub = None
    if method == "cholesky" and obj.n_samples > 4 * m_sub:
        # close to the optimum (presolved) a larger subsample, an eighth of the rows
        # (the presolve's own), makes the linear rate small (~ sqrt(n_coef / m))
        sub = obj.subsample(max(m_sub, obj.n_samples // 8) if presolved else m_sub)
    # measured seconds: the last Hessian, a full one (estimated), a pass over X
    t_hess = t_full = t_pass = math.inf
    pairs = []
    fresh_ratio = 1.0
    damp = 0.0  # Levenberg-Marquardt damping of the Newton system (0: none)
    H_cur = None  # the last Hessian factorised
    if presolved and method == "cholesky" and pre.extra.get("factor") is not None:
        solver_fn = pre.extra["factor"]  # a subsample's Hessian near this start
    for n_iter in range(1, max_iter + 1):
        if gmax <= tol:
            converged = True
            msg = "gradient below tol"
            n_iter -= 1
            break
        gf = g if free is None else g[free]
        if method == "cholesky":
            if solver_fn is None:
                t0 = time.perf_counter()
                H = Hfun() if sub is None else sub.hessian(c)
                if not np.all(np.isfinite(H)):
                    raise _NonFinite("Hessian")
                if free is not None:
                    H = H[np.ix_(free, free)]
                H_cur = H
                solver_fn = _factor_psd(H + damp * np.eye(H.shape[0]) if damp else H)
                t_hess = time.perf_counter() - t0
                # (a Hessian costs in proportion to its rows)
                t_full = t_hess * (obj.n_samples / sub.n_samples if sub is not None else 1.0)
                pairs.clear()
                fresh = True
                n_hess += 1
            df = _two_loop(solver_fn, gf, pairs) if pairs else solver_fn(gf)
        else:
            _, _, hessp = obj.hessp_factory(c)

            def hp(v):
                full = _expand(free, v, np.zeros_like(c))
                out = hessp(full)
                return out if free is None else out[free]

            forcing = min(0.5, math.sqrt(max(gmax, 0.0)))
            precond = getattr(hessp, "diagonal", None)
            if precond is not None:
                precond = precond if free is None else precond[free]
                precond = np.where(precond > 0, precond, 1.0)
            df, _ = _cg(hp, gf, forcing, max(20, 2 * len(gf)), precond)
            fresh = True
        d = _expand(free, df, np.zeros_like(c))
        slope = float(g @ d)
        if slope >= 0 and not fresh:  # a stale factorisation: refresh it
            solver_fn = None
            continue
        if slope >= 0:  # not a descent direction (numerically): steepest descent
            d = -g if free is None else _expand(free, -gf, np.zeros_like(c))
            slope = float(g @ d)
        floor = -0.5 * slope <= 1e-2 * eps * max(1.0, abs(f))
        t = 1.0
        accepted = False
        for _ in range(40):
            c_new = c + t * d
            t0 = time.perf_counter()
            f_new, g_new, H_new = obj.value_grad_hessian(c_new)
            t_pass = min(t_pass, time.perf_counter() - t0)
            if floor:
                # the decrease is below floating-point resolution of F: judge the
                # full step by the gradient alone
                g_chk = g_new if free is None else g_new[free]
                accepted = bool(g_chk.size) and float(np.max(np.abs(g_chk))) < 0.5 * gmax
                break
            if np.isfinite(f_new) and f_new <= f + 1e-4 * t * slope:
                accepted = True
                break
            # at the floating-point floor: accept a step that does not increase F
            # noticeably but reduces the gradient
            if np.isfinite(f_new) and f_new <= f + 16 * eps * abs(f) and (
                np.max(np.abs(g_new)) < 0.9 * np.max(np.abs(g))
            ):
                accepted = True
                break
            if not fresh:
                break
            t *= 0.5
            if t < 1e-3 and H_cur is not None and method == "cholesky":
                break  # (a step cut a thousand-fold: damp the Newton system instead)
        if not accepted and H_cur is not None and method == "cholesky" and fresh and not floor:
            # Levenberg-Marquardt: the quadratic model is trusted only near c (e.g. a
            # piecewise-quadratic loss such as Huber whose curvature comes from few
            # rows): solve (H + damp I) d = -g with a growing damp at the same point
            hscale = max(float(np.max(np.abs(np.diag(H_cur)), initial=0.0)), 1e-300)
            if damp < 1e12 * hscale:
                damp = max(10.0 * damp, 1e-4 * hscale)
                solver_fn = _factor_psd(H_cur + damp * np.eye(H_cur.shape[0]))
                pairs.clear()
                continue
        if not accepted:
            if not fresh:  # retry with a fresh Hessian
                solver_fn = None
                continue
            if floor:
                converged = True
                msg = "no further decrease possible in floating point"
                break
            msg = "line search failed"
            converged = gmax <= max(tol, 1e3 * eps * max(1.0, abs(f)))
            break
        gmax_new = float(np.max(np.abs(g_new if free is None else g_new[free]))) if g_new.size else 0.0
        if damp and t == 1.0:
            # full steps: trust the model further out again
            damp = 0.0 if damp < 1e-9 * hscale else 0.1 * damp
        if method == "cholesky":
            ratio = gmax_new / gmax if gmax > 0 else 0.0
            if fresh:
                fresh_ratio = ratio
            if sub is not None and obj.n_outputs == 1 and fresh and ratio > 0.7:
                # the subsample misleads (e.g. few rows carry the curvature)
                sub = None
                solver_fn = None
            elif t < 1.0 or ratio > 0.5:
                solver_fn = None  # far from the optimum: refresh the factorisation
            elif ratio > 0.0 and gmax_new > tol:
                # Near the optimum the choice is by measured cost: keep the factorisation
                # (each further step costs one pass over X; the secant corrections below
                # improve it), refresh it (the rate of its first step), or, from a
                # subsample, form the full Hessian (about two steps to finish).
                digits = math.log(tol / gmax_new)
                keep = digits / math.log(ratio) * t_pass
                refresh = t_hess + digits / math.log(min(max(fresh_ratio, 1e-3), 0.5)) * t_pass
                full = t_full + 2.0 * t_pass if sub is not None else math.inf
                if full < min(keep, refresh):
                    sub = None
                    solver_fn = None
                elif refresh < keep:
                    solver_fn = None
            if solver_fn is not None:
                # secant pairs correct the kept factorisation with the curvature of the
                # full objective seen between iterates (BFGS updates on top of it)
                sk, yk = c_new - c, g_new - g
                if free is not None:
                    sk, yk = sk[free], yk[free]
                sy = float(sk @ yk)
                if sy > 1e-10 * float(np.linalg.norm(sk) * np.linalg.norm(yk)):
                    pairs.append((sk, yk, 1.0 / sy))
                    del pairs[:-_MAX_PAIRS]
        fresh = False
        last_step = c_new - c
        c, f, g, Hfun, gmax = c_new, f_new, g_new, H_new, gmax_new
        _log(verbose, f"newton-{method} iter {n_iter}: f={f:.15g} |g|max={gmax:.3e} step={t:g}")
    else:
        if gmax <= tol:
            converged = True
            msg = "gradient below tol"
    res = SolverResult(c, f, int(n_iter), bool(converged), f"newton-{method}", msg, gmax)
    res.extra["n_hessians"] = n_hess
    res.extra["factor"] = solver_fn if method == "cholesky" else None
    res.extra["last_step"] = last_step  # (the last accepted step, or None)
    return res


# ------------------------------------------------------------------ proximal Newton (L1)
def _soft(x, t):
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


def _l1_optimality(g, c, pen, l1):
    """Largest entry of the minimum-norm subgradient of F = smooth + l1 ||c[pen]||_1."""
    out = np.abs(g).copy()
    gp, cp = g[pen], c[pen]
    nz = cp != 0
    sub = np.where(nz, np.abs(gp + l1 * np.sign(cp)), np.maximum(np.abs(gp) - l1, 0.0))
    out[pen] = sub
    return float(np.max(out)) if out.size else 0.0


def _prox_newton_direction(H, g, c, pen, l1, tol, cd):
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
        return _factor_psd(H)(g)
    A, gp = H[np.ix_(P, P)], g[P]
    if U.size:
        solve_u = _factor_psd(H[np.ix_(U, U)])  # (returns -H_UU^{-1} v)
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


def _prox_newton(obj, c, tol, max_iter, verbose, free):
    from skloss._kernels._linear import quadratic_l1_cd

    l1 = obj.l1_reg
    pen_all = obj.penalised_mask()
    eps = np.finfo(float).eps
    free_mask = np.ones(c.size, dtype=bool) if free is None else free
    f, g = obj.value_grad(c)
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        raise _NonFinite("objective or its gradient at the start")
    F = f + obj.l1_value(c)
    opt = _l1_optimality(g[free_mask], c[free_mask], pen_all[free_mask], l1)
    converged = False
    msg = "maximum number of iterations reached"
    n_iter = 0
    inner_tol = 0.1
    for n_iter in range(1, max_iter + 1):
        if opt <= tol:
            converged, msg, n_iter = True, "minimum-norm subgradient below tol", n_iter - 1
            break
        H = obj.hessian(c)
        if not np.all(np.isfinite(H)):
            raise _NonFinite("Hessian")
        idx = np.flatnonzero(free_mask)
        d = np.zeros_like(c)
        d[idx] = _prox_newton_direction(H[np.ix_(idx, idx)], g[idx], c[idx], pen_all[idx], l1,
                                        max(1e-12, inner_tol * opt), quadratic_l1_cd)
        delta = float(g @ d) + obj.l1_value(c + d) - obj.l1_value(c)
        if delta >= -1e-2 * eps * max(1.0, abs(F)):
            converged = opt <= max(tol, 1e3 * eps * max(1.0, abs(F)))
            msg = "no further decrease possible in floating point"
            break
        t = 1.0
        accepted = False
        for _ in range(40):
            c_new = c + t * d
            f_new, g_new = obj.value_grad(c_new)
            F_new = f_new + obj.l1_value(c_new)
            if np.isfinite(F_new) and F_new <= F + 1e-4 * t * delta:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            msg = "line search failed"
            converged = opt <= max(tol, 1e3 * eps * max(1.0, abs(F)))
            break
        c, f, g, F = c_new, f_new, g_new, F_new
        opt = _l1_optimality(g[free_mask], c[free_mask], pen_all[free_mask], l1)
        inner_tol = max(0.01 * inner_tol, 1e-3) if t == 1.0 else inner_tol
        _log(verbose, f"prox-newton iter {n_iter}: F={F:.15g} optimality={opt:.3e} step={t:g}")
    else:
        converged = opt <= tol
    return SolverResult(c, F, int(n_iter), bool(converged), "prox-newton", msg, opt)


# ------------------------------------------------------------------ HiGHS (piecewise-linear losses)
# Each piecewise-linear loss is the maximum of affine pieces of the raw score.
# Binary / regression form: loss_i(r) = max_j (a_ij r + c_ij)   (a, c of shape (n, m)).
# Multi-class form (K scores): loss_i(R) = max(0, max_{k != y_i} (m + r_k - r_y)).


def _binary_sign(y):
    return 2.0 * np.asarray(y, dtype=np.float64) - 1.0


def _pieces_hinge(loss, y):
    z = _binary_sign(y)
    return np.stack([np.zeros_like(z), -z], axis=1), np.stack([np.zeros_like(z), np.ones_like(z)], axis=1)


def _pieces_perceptron(loss, y):
    z = _binary_sign(y)
    return np.stack([np.zeros_like(z), -z], axis=1), np.zeros((z.size, 2))


def _pieces_absolute(loss, y):
    y = np.asarray(y, dtype=np.float64)
    one = np.ones_like(y)
    return np.stack([one, -one], axis=1), np.stack([-y, y], axis=1)


def _pieces_quantile(loss, y):
    q = float(loss.quantile)
    y = np.asarray(y, dtype=np.float64)
    one = np.ones_like(y)
    # q (y - r) for y >= r ; (1 - q) (r - y) otherwise
    return np.stack([-q * one, (1 - q) * one], axis=1), np.stack([q * y, -(1 - q) * y], axis=1)


def _pieces_eps(loss, y):
    e = float(loss.epsilon)
    y = np.asarray(y, dtype=np.float64)
    one = np.ones_like(y)
    return (np.stack([0 * one, one, -one], axis=1), np.stack([0 * one, -y - e, y - e], axis=1))


_PWL_LOSSES = {
    "hinge": (_pieces_hinge, 1.0),
    "perceptron": (_pieces_perceptron, 0.0),
    "absolute_error": (_pieces_absolute, None),
    "quantile": (_pieces_quantile, None),
    "epsilon_insensitive": (_pieces_eps, None),
}


def _dense_rows(X):
    return X.tocsr() if sp.issparse(X) else sp.csr_matrix(np.asarray(X, dtype=np.float64))


def _build_pwl(obj, fixed_w=None):
    """The primal as ``min c.x + 1/2 sum q_j x_j^2  s.t.  A x >= h,  lo <= x <= hi``.

    Columns: w (K*p; split into w+ and w- when there is an L1 term), b (K, with
    an intercept), xi (n).  Returns a dict with the arrays and the index ranges.
    """
    loss = obj.loss
    n, p, K = obj.n_samples, obj.n_features, obj.n_outputs
    fi = obj.fit_intercept
    l1, l2 = obj.l1_reg, obj.l2_reg
    split = l1 > 0 and fixed_w is None
    nw = K * p
    nwcols = 2 * nw if split else nw
    nb = K if fi else 0
    ncol = nwcols + nb + n
    sw = np.ones(n) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64)
    cost_xi = sw / obj.weight_sum
    Xc = _dense_rows(obj.X).astype(np.float64)
    y = np.asarray(obj.y, dtype=np.float64)
    off = np.zeros(n) if obj.offset is None else np.asarray(obj.offset, dtype=np.float64)

    blocks, rhs = [], []
    xi_lo = np.full(n, -np.inf)
    eye_n = sp.eye(n, format="csr")

    def w_block(coefs_per_class):
        # coefs_per_class: list of K arrays (n,) multiplying x_i w_k (and b_k)
        parts = []
        for k in range(K):
            a = coefs_per_class[k]
            parts.append(sp.diags(a) @ Xc if np.any(a) else sp.csr_matrix((n, p)))
        W = sp.hstack(parts, format="csr")
        if split:
            W = sp.hstack([W, -W], format="csr")
        cols = [W]
        if fi:
            cols.append(sp.csr_matrix(np.stack(coefs_per_class, axis=1)))
        return cols

    if K == 1:
        fn, _ = _PWL_LOSSES[loss.name]
        a, c = fn(loss, y)
        for j in range(a.shape[1]):
            aj, cj = a[:, j], c[:, j]
            if not np.any(aj):  # constant piece: a bound on xi
                xi_lo = np.maximum(xi_lo, cj)
                continue
            # xi - a_j (x w + b + o) >= c_j
            blocks.append(sp.hstack(w_block([-aj]) + [eye_n], format="csr"))
            rhs.append(cj + aj * off)
    else:
        margin = _PWL_LOSSES[loss.name][1]
        if margin is None:
            raise ValueError(f"loss {loss.name!r} has no multi-class piecewise-linear form.")
        xi_lo = np.zeros(n)
        yi = y.astype(np.intp)
        for j in range(K):
            # rows for samples with y != j: xi - (x w_j + b_j) + (x w_y + b_y) >= margin
            rows = yi != j
            if not np.any(rows):
                continue
            coefs = []
            for k in range(K):
                ck = np.zeros(n)
                if k == j:
                    ck[rows] = -1.0
                ck[rows & (yi == k)] = 1.0
                coefs.append(ck)
            blk = sp.hstack(w_block(coefs) + [eye_n], format="csr")[rows]
            blocks.append(blk)
            rhs.append(np.full(int(rows.sum()), margin))
    A = sp.vstack(blocks, format="csc") if blocks else sp.csc_matrix((0, ncol))
    h = np.concatenate(rhs) if rhs else np.zeros(0)
    lo = np.full(ncol, -np.inf)
    hi = np.full(ncol, np.inf)
    cost = np.zeros(ncol)
    q = np.zeros(ncol)
    if split:
        lo[:nwcols] = 0.0
        cost[:nwcols] = l1
        q[:nwcols] = l2
    else:
        q[:nw] = l2
    if fixed_w is not None:
        lo[:nw] = hi[:nw] = fixed_w
        q[:nw] = 0.0
    lo[nwcols + nb:] = xi_lo
    cost[nwcols + nb:] = cost_xi
    return {"A": A, "h": h, "lo": lo, "hi": hi, "cost": cost, "q": q,
            "nw": nw, "split": split, "nb": nb, "nwcols": nwcols, "n": n}


def _highs_run(cost, A, row_lo, row_hi, lo, hi, qdiag=None, iteration_limit=None):
    from scipy.optimize._highspy import _core

    h = _core._Highs()
    h.setOptionValue("output_flag", False)
    if iteration_limit is not None:
        h.setOptionValue("qp_iteration_limit", int(iteration_limit))
        h.setOptionValue("simplex_iteration_limit", int(iteration_limit))
    h.setOptionValue("primal_feasibility_tolerance", 1e-10)
    h.setOptionValue("dual_feasibility_tolerance", 1e-10)
    lp = _core.HighsLp()
    A = sp.csc_matrix(A)
    A.sort_indices()
    lp.num_col_ = int(len(cost))
    lp.num_row_ = int(A.shape[0])
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(lo, dtype=np.float64)
    lp.col_upper_ = np.asarray(hi, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lo, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_hi, dtype=np.float64)
    lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(np.float64)
    lp.a_matrix_.num_col_ = int(A.shape[1])
    lp.a_matrix_.num_row_ = int(A.shape[0])
    model = _core.HighsModel()
    model.lp_ = lp
    if qdiag is not None and np.any(qdiag):
        nz = np.flatnonzero(qdiag)
        hess = _core.HighsHessian()
        hess.dim_ = int(len(cost))
        hess.format_ = _core.HessianFormat.kTriangular
        cnt = np.zeros(len(cost), dtype=np.int32)
        cnt[nz] = 1
        hess.start_ = np.concatenate([[0], np.cumsum(cnt)]).astype(np.int32)
        hess.index_ = nz.astype(np.int32)
        hess.value_ = np.asarray(qdiag, dtype=np.float64)[nz]
        model.hessian_ = hess
    h.passModel(model)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    sol = h.getSolution()
    info = h.getInfo()
    return np.array(sol.col_value), status, int(getattr(info, "simplex_iteration_count", 0) or 0) + int(
        getattr(info, "qp_iteration_count", 0) or 0)


def _highs(obj, c0, verbose):
    prob = _build_pwl(obj)
    A, h, lo, hi, cost, q = prob["A"], prob["h"], prob["lo"], prob["hi"], prob["cost"], prob["q"]
    nw, nb, nwcols, split = prob["nw"], prob["nb"], prob["nwcols"], prob["split"]
    if not np.any(q):
        x, status, iters = _highs_run(cost, A, h, np.full(h.size, np.inf), lo, hi)
        if status != "Optimal":
            raise RuntimeError(f"HiGHS did not solve the linear program: {status}.")
        w = x[:nw] - x[nw:nwcols] if split else x[:nw]
        b = x[nwcols:nwcols + nb]
    else:
        # HiGHS's active-set QP: the dual is fast (its cost grows with the few
        # quadratic columns, not with the rows); when it stalls (degenerate small
        # problems) the primal takes over
        limit = 50 * (A.shape[0] + A.shape[1]) + 10000
        w = None
        if True:
            try:
                w, iters = _pwl_dual_qp(prob, verbose, 5 * (A.shape[0] + A.shape[1]) + 2000)
            except RuntimeError:
                w = None
        if w is None:
            x, status, iters = _highs_run(cost, A, h, np.full(h.size, np.inf), lo, hi, q, iteration_limit=limit)
            if status != "Optimal":
                raise RuntimeError(f"HiGHS did not solve the quadratic program: {status}.")
            w = x[:nw] - x[nw:nwcols] if split else x[:nw]
        # the rest (intercepts, slacks) by a linear program with w fixed
        prob2 = _build_pwl(obj, fixed_w=w)
        x, status, it2 = _highs_run(prob2["cost"], prob2["A"], prob2["h"], np.full(prob2["h"].size, np.inf),
                                    prob2["lo"], prob2["hi"])
        if status != "Optimal":
            raise RuntimeError(f"HiGHS did not solve the intercept linear program: {status}.")
        iters += it2
        b = x[nw:nw + nb]
    c = np.concatenate([w, b]) if obj.fit_intercept else w.copy()
    F = obj.total_value(c)
    _log(verbose, f"highs: {iters} iterations, F={F:.15g}")
    return SolverResult(c, F, max(1, iters), True, "highs", "optimal", 0.0)


def _pwl_dual_qp(prob, verbose, iteration_limit=None):
    """Solve the primal QP through its dual (much faster with HiGHS's active-set
    QP solver, whose cost grows with the number of general constraints).

    Primal: min c.x + 1/2 sum_j q_j x_j^2, A x >= h, lo <= x <= hi where every
    column is free or non-negative (``lo`` of -inf or 0 on w columns, a finite
    lower bound on slacks).  Dual variables mu >= 0 (one per row); for columns
    with q_j > 0, u_j = (A^T mu - c)_j (free columns) or u_j >= that, u_j >= 0
    (non-negative columns) and x_j = u_j / q_j at the optimum.
    """
    A, h, lo, hi, cost, q = prob["A"], prob["h"], prob["lo"], prob["hi"], prob["cost"], prob["q"]
    A = sp.csc_matrix(A)
    ncol = A.shape[1]
    m = A.shape[0]
    quad = np.flatnonzero(q > 0)
    other = np.flatnonzero(q == 0)
    AT = A.T.tocsr()
    # variables: mu (m, >= 0), u (len(quad))
    nu = len(quad)
    rows, rlo, rhi = [], [], []
    # quadratic columns
    ATq = AT[quad]
    free_q = np.isneginf(lo[quad])
    # u_j - A_j^T mu = -c_j (free) or >= -c_j (non-negative)
    rows.append(sp.hstack([-ATq, sp.eye(nu)], format="csr"))
    rlo.append(-cost[quad])
    rhi.append(np.where(free_q, -cost[quad], np.inf))
    # non-quadratic columns: free -> A_j^T mu = c_j; lower-bounded by l_j -> A_j^T mu <= c_j
    # (a finite lower bound l_j adds l_j * (c_j - A_j^T mu) to the dual objective, see below)
    ATo = AT[other]
    lo_o = lo[other]
    free_o = np.isneginf(lo_o)
    rows.append(sp.hstack([ATo, sp.csr_matrix((len(other), nu))], format="csr"))
    rlo.append(np.where(free_o, cost[other], -np.inf))
    rhi.append(cost[other])
    # slack columns with a finite lower bound l (xi >= l): the dual objective gains
    # l * (c - A^T mu); with the xi's own multiplier this is  -l A^T mu + const
    Ad = sp.vstack(rows, format="csc")
    # dual (as minimisation): 1/2 sum u^2 / q - h.mu + sum_{j: finite lo} lo_j (A_j^T mu) (- const)
    lin_mu = -h.copy()
    fin = other[~free_o]
    if fin.size:
        lin_mu += np.asarray(AT[fin].T @ lo[fin]).ravel()
    cost_d = np.concatenate([lin_mu, np.zeros(nu)])
    lo_d = np.concatenate([np.zeros(m), np.where(free_q, -np.inf, 0.0)])
    hi_d = np.full(m + nu, np.inf)
    qd = np.concatenate([np.zeros(m), 1.0 / q[quad]])
    # singleton rows (a slack column in one row) are bounds on one mu: let HiGHS presolve them
    x, status, iters = _highs_run(cost_d, Ad, np.concatenate(rlo), np.concatenate(rhi), lo_d, hi_d, qd,
                                  iteration_limit=iteration_limit)
    if status != "Optimal":
        raise RuntimeError(f"HiGHS did not solve the dual quadratic program: {status}.")
    u = x[m:]
    xq = u / q[quad]
    nw, split, nwcols = prob["nw"], prob["split"], prob["nwcols"]
    full = np.zeros(ncol)
    full[quad] = xq
    w = full[:nw] - full[nw:nwcols] if split else full[:nw]
    del hi
    return w, iters
