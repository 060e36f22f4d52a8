"""Damped Newton for smooth linear-model objectives.

:class:`Newton` keeps three policies apart:

* **factorisation** (``method="cholesky"``): a dense Hessian, on many rows from
  an evenly strided subsample, is factorised and reused while its steps keep
  reducing the gradient fast (a reused step costs one pass over ``X``; secant
  pairs correct the kept factorisation); keep / refresh / full Hessian is
  decided by a cost model in flop units (:mod:`._solver_select`), never by a
  clock, so repeated fits are bit-identical;
* **line search**: Armijo backtracking on the objective, with a gradient test
  once the predicted decrease is below the objective's floating-point
  resolution;
* **damping**: a step cut a thousand-fold switches to Levenberg-Marquardt
  damping of the Newton system (piecewise-quadratic losses such as Huber whose
  curvature comes from few rows).

``method="cg"`` applies the Hessian as products (truncated, Jacobi-preconditioned
conjugate gradients).  Stopping is scale-free (:class:`ProblemScale`).
"""

import math

import numpy as np
import scipy.linalg

from ._solver_common import NonFinite, ProblemScale, SolverResult, expand, log
from ._solver_select import THRESHOLDS, hessian_cost, hessian_rows, pass_cost

__all__ = ["Newton", "factor_psd", "presolve_rows"]

_MAX_PAIRS = 10  # secant pairs kept on top of a reused factorisation


def factor_psd(H):
    """A solver ``g -> -H^{-1} g`` for a symmetric ``H`` (Cholesky); adds a growing
    ridge when ``H`` is not positive definite (non-convex losses, singular designs)."""
    n = H.shape[0]
    if n == 0:
        return lambda g: np.zeros(0)
    scale = max(float(np.max(np.abs(np.diag(H)))), 1e-300)
    ridge = 0.0
    # (PERF) LAPACK's potrf / potrs directly: SciPy's cho_factor / cho_solve wrappers
    # (array-API dispatch, argument checks) cost more than the factorisation itself on a
    # few dozen coefficients, and a Newton fit calls them at every step
    potrf, potrs = _lapack_pair(H.dtype)
    for _ in range(60):
        Hr = H if ridge == 0.0 else H + ridge * np.eye(n)
        c, info = potrf(Hr, lower=0, clean=0)
        if info == 0 and np.all(np.isfinite(c)):
            return lambda g, c=c: _potrs_neg(potrs, c, g)
        ridge = scale * 1e-12 if ridge == 0.0 else ridge * 10.0
    return lambda g: -g / scale


_LAPACK = {}


def _lapack_pair(dtype):
    """LAPACK's ``(potrf, potrs)`` for ``dtype``, looked up once (PERF: SciPy's
    ``get_lapack_funcs`` costs ~10 us a call, and a small Newton fit factorises at
    most steps)."""
    pair = _LAPACK.get(dtype)
    if pair is None:
        pair = _LAPACK[dtype] = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potrs"),
                                                                     (np.empty((1, 1), dtype=dtype),))
    return pair


def _potrs_neg(potrs, c, g):
    x, info = potrs(c, g, lower=0)
    if info != 0:
        raise ValueError(f"LAPACK potrs failed (info={info}).")
    return np.negative(x, out=x)


def _cg(hessp, g, tol, maxiter, precond):
    """Truncated conjugate gradients for ``H d = -g``, preconditioned by the
    positive diagonal ``precond``; stops when the preconditioned residual norm
    falls to ``tol`` times its start (scale-free) or on negative curvature."""
    d = np.zeros_like(g)
    r = -g.copy()
    z = r / precond
    rz = float(r @ z)
    if rz <= 0.0:
        return d, 0
    rz0 = rz
    pdir = z.copy()
    for it in range(maxiter):
        hp = hessp(pdir)
        curv = float(pdir @ hp)
        if curv <= 1e-16 * float(pdir @ (precond * pdir)):
            return (z, 1) if it == 0 else (d, it)
        a = rz / curv
        d += a * pdir
        r -= a * hp
        z = r / precond
        rz_new = float(r @ z)
        if math.sqrt(max(rz_new, 0.0) / rz0) <= tol:
            return d, it + 1
        pdir = z + (rz_new / rz) * pdir
        rz = rz_new
    return d, maxiter


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


def presolve_rows(obj):
    """Rows of the subsample a Newton start is first fitted on (0: none)."""
    if obj.n_outputs == 1:
        # an eighth of the rows, which is also the subsample of the Hessians that follow
        floor = max(1000, 20 * obj.n_coef)
        return max(obj.n_samples // 8, floor) if obj.n_samples >= 8 * floor else 0
    # K outputs: a Hessian costs about K^2 times more, a presolve pays only on many rows
    m = max(10000, 50 * obj.n_coef)
    return m if obj.n_samples > 5 * m else 0


def _nnz(obj):
    return obj.X.nnz if obj.sparse else obj.n_samples * obj.n_features


class Newton:
    """One Newton run on ``obj`` (see the module docstring).

    Parameters
    ----------
    obj : LinearObjective
    tol, max_iter, verbose :
        As for :func:`skloss.linear_model._solvers.solve`.
    free : ndarray of bool or None
        Entries that move (None: all).
    method : {"cholesky", "cg"}
    scale : ProblemScale or None
        The units of the stopping test (computed from the start when None).
    presolve : bool
        Whether a fit on a row subsample may provide the start (Cholesky only).
    """

    def __init__(self, obj, tol, max_iter, verbose, free, method, scale=None, presolve=True):
        self.obj, self.tol, self.max_iter, self.verbose = obj, tol, max_iter, verbose
        self.free, self.method, self.scale, self.presolve = free, method, scale, presolve
        self.eps = float(np.finfo(obj.dtype).eps)
        # factorisation state
        self.solver_fn = None  # g -> -H^{-1} g of the kept factorisation
        self.H_cur = None  # the last Hessian factorised (for damping)
        self.pairs = []  # secant corrections of a kept factorisation
        self.sub = None  # the objective Hessians come from (None: all rows)
        self.n_hess = 0
        self.damp = 0.0  # Levenberg-Marquardt damping (0: none)
        self.fresh_ratio = 1.0  # gradient reduction of the last fresh factorisation's step
        self.fresh_opt = 1.0  # the optimality that step started from
        # an objective whose every pass also reduces the full Hessian (a distributed one,
        # where a pass is a round trip and its Hessian costs little more): full Hessians
        # at every iterate, quadratic convergence, no row subsample, no polishing pass
        self.in_pass = bool(getattr(obj, "hessian_in_pass", False)) and method == "cholesky"
        self._costs_cache = None

    # --------------------------------------------------------------- costs
    def _costs(self):
        """``(pass, hessian on self.sub, full hessian)`` in flop units (fixed by the
        shapes and the subsample: computed once per subsample)."""
        key = id(self.sub)
        if self._costs_cache is not None and self._costs_cache[0] == key:
            return self._costs_cache[1]
        self._costs_cache = (key, self._costs_of())
        return self._costs_cache[1]

    def _costs_of(self):
        obj = self.obj
        k = obj.n_outputs
        pc = pass_cost(obj.n_samples, _nnz(obj), k)
        rows = obj.n_samples if self.sub is None else self.sub.n_samples
        hc = hessian_cost(rows, obj.n_features, k, obj.n_coef)
        full = hessian_cost(obj.n_samples, obj.n_features, k, obj.n_coef)
        return pc, hc, full

    def _polish_pays(self, method):
        """Whether a last fresh Newton step (a Hessian and a pass) is cheap: its Hessian
        costs at most half a pass over X, or the whole step is negligible.  (At a
        Hessian of about one pass -- Poisson 200,000 x 50 on a 25,000-row subsample --
        the polish added a fifth to the fit for digits beyond tol.)"""
        if method != "cholesky" or self.in_pass:
            return False
        pc, hc, _ = self._costs()
        return hc <= 0.5 * pc or hc + pc <= THRESHOLDS["cheap_step_flops"]

    # ------------------------------------------------------ factorisation
    def _factorise(self, c, Hfun):
        H = Hfun() if self.sub is None else self.sub.hessian(c)
        if not np.all(np.isfinite(H)):
            raise NonFinite("Hessian")
        if self.free is not None:
            H = H[np.ix_(self.free, self.free)]
        self.H_cur = H
        self.solver_fn = factor_psd(H + self.damp * np.eye(H.shape[0]) if self.damp else H)
        self.pairs.clear()
        self.n_hess += 1

    def _direction_cg(self, c, gf, opt):
        _, _, hessp = self.obj.hessp_factory(c)
        free = self.free

        def hp(v):
            out = hessp(expand(free, v, np.zeros_like(c)))
            return out if free is None else out[free]

        forcing = min(0.5, math.sqrt(max(opt, 0.0)))
        # Jacobi preconditioner: the Hessian's diagonal where the objective offers it,
        # else the squared column scales (the diagonal of a GLM Hessian up to the
        # curvature's mean), which makes CG indifferent to the units of X
        scale2 = self.scale.col ** 2
        precond = getattr(hessp, "diagonal", None)
        if precond is None or not np.all(np.isfinite(precond)):
            precond = scale2
        precond = np.where(precond > 0, precond, scale2)
        precond = precond if free is None else precond[free]
        df, _ = _cg(hp, gf, forcing, max(20, 2 * len(gf)), precond)
        return df

    def _after_step(self, fresh, ratio, t, opt_new):
        """Keep, refresh or replace (full Hessian) the factorisation after an
        accepted step whose gradient measure fell by ``ratio``."""
        if fresh:
            self.fresh_ratio, self.fresh_opt = ratio, opt_new / ratio if ratio > 0 else opt_new
        if self.in_pass:
            self.solver_fn = None  # (the full Hessian came with the pass: always fresh)
            return
        if self.sub is not None and self.obj.n_outputs == 1 and fresh and ratio > 0.7:
            # the subsample misleads (e.g. few rows carry the curvature)
            self.sub = None
            self.solver_fn = None
        elif t < 1.0 or ratio > 0.5:
            self.solver_fn = None  # far from the optimum: refresh the factorisation
        elif ratio > 0.0 and opt_new > self.tol:
            # Near the optimum, by predicted work: keep the factorisation (each step one
            # pass; linear rate `ratio`), refresh it (the rate of its first step), or,
            # from a subsample, form the full Hessian (about two steps to finish).
            pc, hc, full_c = self._costs()
            digits = math.log(max(self.tol, self.eps) / opt_new)
            keep = digits / math.log(ratio) * pc
            # a fresh factorisation converges quadratically (rate proportional to the
            # gradient), down to the floor of a subsampled Hessian (~ sqrt(n_coef / rows))
            floor = 1e-3 if self.sub is None else math.sqrt(self.obj.n_coef / self.sub.n_samples)
            rate = self.fresh_ratio * opt_new / max(self.fresh_opt, 1e-300)
            refresh = hc + digits / math.log(min(max(rate, floor, 1e-3), 0.5)) * pc
            full = full_c + 2.0 * pc if self.sub is not None else math.inf
            if full < min(keep, refresh):
                self.sub = None
                self.solver_fn = None
            elif refresh < keep:
                self.solver_fn = None

    def _add_pair(self, c, c_new, g, g_new):
        """A secant pair corrects the kept factorisation with the curvature of the
        full objective seen between iterates (BFGS updates on top of it)."""
        sk, yk = c_new - c, g_new - g
        if self.free is not None:
            sk, yk = sk[self.free], yk[self.free]
        sy = float(sk @ yk)
        # (np.linalg.norm's own formula, sqrt(x.x), without its generic layer: ~10 us a step)
        if sy > 1e-10 * float(np.sqrt(sk.dot(sk)) * np.sqrt(yk.dot(yk))):
            self.pairs.append((sk, yk, 1.0 / sy))
            del self.pairs[:-_MAX_PAIRS]

    # --------------------------------------------------------- line search
    def _line_search(self, c, d, f, g, slope, opt, fresh, floor):
        """Armijo backtracking.  Returns ``(accepted, t, f_new, g_new, H_new)``."""
        obj, free, eps, sc = self.obj, self.free, self.eps, self.scale
        t = 1.0
        f_new = g_new = H_new = None
        for _ in range(40):
            c_new = c + t * d
            f_new, g_new, H_new = obj.value_grad_hessian(c_new)
            if floor:
                # the decrease is below the floating-point resolution of F: judge the
                # full step by the gradient alone
                return (g_new.size > 0 and sc.optimality(g_new, free) < 0.5 * opt), t, f_new, g_new, H_new
            if np.isfinite(f_new) and f_new <= f + 1e-4 * t * slope:
                return True, t, f_new, g_new, H_new
            # at the floating-point floor: accept a step that does not increase F
            # noticeably but reduces the gradient
            if (np.isfinite(f_new) and f_new <= f + 16 * eps * sc.fmag(f)
                    and sc.optimality(g_new, free) < 0.9 * opt):
                return True, t, f_new, g_new, H_new
            if not fresh:
                break
            t *= 0.5
            if t < 1e-3 and self.H_cur is not None and self.method == "cholesky":
                break  # (a step cut a thousand-fold: damp the Newton system instead)
        return False, t, f_new, g_new, H_new

    def _try_damping(self):
        """Levenberg-Marquardt: trust the quadratic model only near the point (solve
        ``(H + damp I) d = -g`` with a growing damp).  False when exhausted."""
        hscale = max(float(np.max(np.abs(np.diag(self.H_cur)), initial=0.0)), 1e-300)
        if self.damp >= 1e12 * hscale:
            return False
        self.damp = max(10.0 * self.damp, 1e-4 * hscale)
        self.solver_fn = factor_psd(self.H_cur + self.damp * np.eye(self.H_cur.shape[0]))
        self.pairs.clear()
        return True

    def _relax_damping(self):
        hscale = max(float(np.max(np.abs(np.diag(self.H_cur)), initial=0.0)), 1e-300)
        self.damp = 0.0 if self.damp < 1e-9 * hscale else 0.1 * self.damp

    # ----------------------------------------------------------------- run
    def _presolve(self, c):
        """On many rows, improve the start on an evenly strided subsample (its
        optimum is within sampling error of the full one)."""
        obj = self.obj
        m_pre = presolve_rows(obj) if self.presolve and self.method == "cholesky" else 0
        if not m_pre:
            return None
        small = obj.subsample(m_pre)
        if small is obj:
            return None
        # (recursively: the subsample fit starts from a fit on a smaller one)
        pre = Newton(small, max(self.tol, 1e-4), min(self.max_iter, 50), 0, self.free, self.method).run(c.copy())
        log(self.verbose, f"newton-{self.method}: start from a {small.n_samples}-row subsample fit "
                          f"({pre.n_iter} iterations, converged={pre.converged})")
        if pre.converged and np.all(np.isfinite(pre.coef)):
            return pre
        return None

    def run(self, c):
        obj, free, tol, method = self.obj, self.free, self.tol, self.method
        if self.scale is None:
            self.scale = ProblemScale(obj, c)
        sc = self.scale
        pre = self._presolve(c)
        c_start = c
        if pre is not None:
            c = pre.coef
        f, g, Hfun = obj.value_grad_hessian(c)
        if pre is not None and not (np.isfinite(f) and np.all(np.isfinite(g))):
            c = c_start  # (never seen: the subsample fit misled)
            pre = None
            f, g, Hfun = obj.value_grad_hessian(c)
        if not (np.isfinite(f) and np.all(np.isfinite(g))):
            raise NonFinite("objective or its gradient at the start")
        if not sc.has_f0:
            sc.set_f0(f)
        if method == "cholesky" and obj.n_samples > 0 and not self.in_pass:
            rows = hessian_rows(obj.n_samples, obj.n_coef)
            if rows < obj.n_samples:
                # close to the optimum (presolved) a larger subsample, an eighth of the rows
                # (the presolve's own), makes the linear rate small (~ sqrt(n_coef / m))
                self.sub = obj.subsample(max(rows, obj.n_samples // 8) if pre is not None else rows)
            if pre is not None and pre.extra.get("factor") is not None:
                self.solver_fn = pre.extra["factor"]  # a subsample's Hessian near this start
        n_iter = 0
        converged = False
        msg = "maximum number of iterations reached"
        opt = sc.optimality(g, free)
        fresh = False
        last_step = None
        eps = self.eps
        polish = False
        for n_iter in range(1, self.max_iter + 1):
            if opt <= tol:
                if polish or not self._polish_pays(method):
                    converged, msg, n_iter = True, "gradient below tol", n_iter - 1
                    break
                # one more fresh Newton step where it costs about a pass: at the quadratic
                # rate it takes the optimality from tol to ~tol^2 (fits agree to rounding,
                # e.g. weighted and repeated rows)
                polish = True
                self.solver_fn = None
            gf = g if free is None else g[free]
            if method == "cholesky":
                if self.solver_fn is None:
                    self._factorise(c, Hfun)
                    fresh = True
                df = _two_loop(self.solver_fn, gf, self.pairs) if self.pairs else self.solver_fn(gf)
            else:
                df = self._direction_cg(c, gf, opt)
                fresh = True
            d = df if free is None else expand(free, df, np.zeros_like(c))
            slope = float(g @ d)
            if slope >= 0 and not fresh:  # a stale factorisation: refresh it
                self.solver_fn = None
                continue
            if slope >= 0:  # not a descent direction (numerically): steepest descent
                d = -g if free is None else expand(free, -gf, np.zeros_like(c))
                slope = float(g @ d)
            floor = -0.5 * slope <= 1e-2 * eps * sc.fmag(f)
            accepted, t, f_new, g_new, H_new = self._line_search(c, d, f, g, slope, opt, fresh, floor)
            if not accepted and self.H_cur is not None and method == "cholesky" and fresh and not floor:
                if self._try_damping():
                    continue
            if not accepted:
                if not fresh:  # retry with a fresh Hessian
                    self.solver_fn = None
                    continue
                if floor or polish:
                    converged, msg = True, ("gradient below tol" if polish else
                                            "no further decrease possible in floating point")
                    n_iter -= polish
                    break
                msg = "line search failed"
                converged = opt <= max(tol, 1e3 * eps)
                break
            opt_new = sc.optimality(g_new, free)
            if self.damp and t == 1.0:
                self._relax_damping()  # full steps: trust the model further out again
            if method == "cholesky":
                self._after_step(fresh, opt_new / opt if opt > 0 else 0.0, t, opt_new)
                if self.solver_fn is not None:
                    self._add_pair(c, c + t * d, g, g_new)
            fresh = False
            c_new = c + t * d
            last_step = c_new - c
            c, f, g, Hfun, opt = c_new, f_new, g_new, H_new, opt_new
            if self.verbose:  # (PERF: no message formatted when none is printed)
                log(self.verbose, f"newton-{method} iter {n_iter}: f={f:.15g} optimality={opt:.3e} step={t:g}")
        else:
            if opt <= tol:
                converged, msg = True, "gradient below tol"
        res = SolverResult(c, f, int(n_iter), bool(converged), f"newton-{method}", msg, opt)
        res.extra["n_hessians"] = self.n_hess
        res.extra["factor"] = self.solver_fn if method == "cholesky" else None
        res.extra["last_step"] = last_step  # (the last accepted step, or None)
        return res
