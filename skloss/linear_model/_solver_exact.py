"""The exact solver for linear models with a piecewise-linear loss.

A loss that declares its affine pieces (``loss.pieces(y) -> (A, C)`` with
``loss_i(r) = max_j (A_ij r + C_ij)``, ``r`` the raw score) turns the linear-model
objective

    F(w, b) = sum_i omega_i loss_i(x_i.w + b + o_i) + l1 ||w||_1 + l2 / 2 ||w||^2,
    omega_i = s_i / sum(s),

into a linear programme (``l2 = 0``) or a convex quadratic programme.  A K-score
form declaring ``multiclass_margin`` (Crammer-Singer:
``max(0, max_{k != y}(margin + r_k - r_y))``) does the same with K outputs.  This
module finds the exact optimum, whichever loss it is (no loss is recognised by
name), and certifies it where it can.

Methods (chosen by :func:`choose_method`, a deterministic cost model)
-------------------------------------------------------------------
``"dual-cd"``
    L2 penalty without L1, one output: dual coordinate descent (the liblinear
    method, Hsieh et al. 2008, generalised from the hinge to any envelope of
    pieces; kernels in :mod:`skloss._kernels._dual`).  The unpenalised
    intercept is handled by a proximal term moved to the current intercept
    between sweeps (method of multipliers), and the result is polished by the
    crossover of :mod:`._exact`, which solves the equations of the active set
    (samples at a kink) exactly and certifies the Karush-Kuhn-Tucker conditions.
``"interior-point"``
    One output, any penalty, up to ``_IPM_MAX_COLS`` coefficients: Mehrotra's
    primal-dual interior point on the hinge form, then the crossover
    (:mod:`._exact`; Portnoy & Koenker's Frisch-Newton method for quantile
    regression).
``"interior-point"`` / ``"dual-cd"`` with K outputs (Crammer-Singer)
    :mod:`._exact_multiclass`: an interior point reduced to the ``K (p + 1)``
    coefficients (up to ``_IPM_MAX_COLS`` of them; L2, L1 or elastic net); for
    L2 without L1 on more than ``_CS_CD_MIN_ROWS`` rows (or wider), the
    sequential dual coordinate descent and a working-set polish (the interior
    point on the rows near a tie, the others held on their piece); both stop on
    a relative duality gap ``<= tol`` whose lower bound stays valid with
    unpenalised intercepts.
``"highs"``
    K outputs without a penalty, wide K-output problems with L1, and fixed weights: the linear programme, or
    the dual of the quadratic programme, solved by HiGHS (shipped with SciPy).

A method that fails to certify its answer hands over to the next one
(dual-cd -> interior point or HiGHS -> ...); an iteration limit never raises: the
best point found is returned with ``converged=False`` and a message.

References
----------
Hsieh, C.-J., Chang, K.-W., Lin, C.-J., Keerthi, S. S. and Sundararajan, S.
(2008). A dual coordinate descent method for large-scale linear SVM. ICML.

Crammer, K. and Singer, Y. (2001). On the algorithmic implementation of
multiclass kernel-based vector machines. JMLR 2, 265-292.
"""

import time

import numpy as np
import scipy.sparse as sp

from ._exact import _Design, _Problem, envelope, ipm_solve
from ._solver_common import single_thread_blas
from ._solvers import SolverResult

__all__ = ["choose_method", "has_exact_solver", "loss_pieces", "solve_exact"]

# ---------------------------------------------------------------- thresholds
# the interior point factors a dense (p + 1) x (p + 1) normal matrix per iteration
# (about 30 iterations of n (p + 1)^2 flops): beyond this many columns HiGHS's
# sparse simplex / QP is cheaper
_IPM_MAX_COLS = 1000
# dual coordinate descent sweeps allowed per unit of max_iter (one sweep is one
# pass over X, far cheaper than an iteration of the other methods)
_SWEEPS_PER_ITER = 20
# the working set of the polish after dual CD is solved by the interior point
# (a dense (p + 1)^2 normal matrix over its rows): beyond this many rows the
# polish gives up and coordinate descent continues to a tighter tolerance
_MAX_WORKING = 20000
_FIRST_WORKING = 4000
# dual CD sweeps before the first polish (doubling per stage)
_STAGE_SWEEPS = 50
# ... and no polish while the largest violation exceeds this share of the kinks'
# scale: its working set (the samples within 10x the violation of a kink) would be
# most of the rows, an interior point on nearly all of them (hinge + L2, 2,000 x 25:
# a first polish on 1,003 rows, 36.7 ms a fit, against 17.9 ms after 350 sweeps;
# 20,000 and 200,000 rows reach this share within their first stage: unchanged)
_POLISH_VIOLATION = 0.5
# dual CD: the intercept's proximal weight relative to the mean ||x_i||^2 / l2
# (measured on hinge + L2, 2,000 x 25: 0.1 needs the fewest sweeps of 1e-3..1)
_RHO = 0.1
# Crammer-Singer + L2: beyond this many rows the sequential dual CD and its
# working-set polish (an interior point on the rows near a tie; ~1,100-3,000 of
# them at 2,000-20,000 rows) beat the interior point on every row (2,000 x 25 x 4:
# 0.24 s against 0.37 s; 3,000: 0.41 / 0.51 s; 5,000: 0.66 / 0.22 s)
_CS_CD_MIN_ROWS = 4000
# Crammer-Singer dual CD without a certificate falls back to HiGHS's QP only up to
# this many (row, class) pairs: HiGHS's QP needs 88 s and stops at its iteration
# limit at 2,000 x 4 (25 features)
_CS_HIGHS_MAX = 2000
# ... and is tried first up to this many (row, class) pairs: instant there, and its
# active-set answer is exact in the coefficients too (the interior point's are
# within ~1e-8 of each other at a 1e-14 gap: weighted and repeated rows of
# scikit-learn's 15-row checks then differ by 2e-7 relative in the scores)
_CS_HIGHS_FIRST = 100


# ---------------------------------------------------------------- capabilities
def _declares_pieces(loss):
    return getattr(loss, "piecewise_linear", None) is not None and callable(getattr(loss, "pieces", None))


def loss_pieces(loss, y):
    """``(A, C)`` of shape (n, m): ``loss_i(r) = max_j (A_ij r + C_ij)``, or None."""
    if _declares_pieces(loss):
        A, C = loss.pieces(np.asarray(y, dtype=np.float64))
        A = np.asarray(A, dtype=np.float64)
        C = np.asarray(C, dtype=np.float64)
        if A.ndim == 1:
            A, C = A[:, None], C[:, None]
        return A, C
    return None


def multiclass_margin(loss):
    """The Crammer-Singer margin of the loss's K-score form, or None."""
    m = getattr(loss, "multiclass_margin", None)
    return None if m is None else float(m)


def has_exact_solver(loss, n_outputs=1):
    """Whether :func:`solve_exact` can fit ``loss`` with ``n_outputs`` scores."""
    if n_outputs > 1:
        return multiclass_margin(loss) is not None
    return loss_pieces(loss, np.zeros(1)) is not None


# ---------------------------------------------------------------- cost model
def choose_method(n_samples, n_coef, *, l1_reg, l2_reg, n_outputs=1, nnz=None):
    """The first method tried (deterministic; see the module docstring).

    Parameters
    ----------
    n_samples, n_coef : int
        Rows, and packed coefficients of one output (features + intercept).
    l1_reg, l2_reg : float
    n_outputs : int
    nnz : int or None
        Stored entries of a sparse ``X`` (None: dense).
    """
    if n_outputs > 1:
        # Crammer-Singer with L2, L1 or both: the interior point of ._exact_multiclass
        # (about 15-35 factorisations of a K (p + 1) matrix), for L2 on many rows the
        # dual CD and its working-set polish (an interior point on the rows near a
        # tie); no penalty: HiGHS's LP
        # (a K (p + 1) square matrix per iteration: beyond _IPM_MAX_COLS, the sweeps
        # for L2, HiGHS otherwise)
        if n_samples * n_outputs <= _CS_HIGHS_FIRST:
            return "highs"
        if l2_reg > 0 and l1_reg == 0 and n_samples > _CS_CD_MIN_ROWS:
            return "dual-cd"
        if (l1_reg > 0 or l2_reg > 0) and n_outputs * n_coef <= _IPM_MAX_COLS:
            return "interior-point"
        return "dual-cd" if l2_reg > 0 and l1_reg == 0 else "highs"
    if l2_reg > 0 and l1_reg == 0:
        # a sweep costs one pass over X (n p or nnz) and a few dozen sweeps reach
        # the active set; the alternatives cost an (p + 1)^2 factorisation per
        # iteration or a simplex over n rows
        return "dual-cd"
    if n_coef <= _IPM_MAX_COLS:
        return "interior-point"
    return "highs"


# ---------------------------------------------------------------- entry point
def solve_exact(objective, coef0, *, tol=1e-10, max_iter=1000, verbose=0, fixed=None, method=None):
    """Exact optimum of a linear-model objective with a piecewise-linear loss.

    Parameters
    ----------
    objective : LinearObjective
        Its loss declares pieces (one output) or a Crammer-Singer margin (K).
    coef0 : ndarray
        Packed start; entries in ``fixed`` are held at these values.
    tol : float
        Relative duality-gap tolerance of the interior point (the crossover then
        makes the answer exact); the other methods certify by the KKT check.
    max_iter : int
        Iteration budget (interior-point iterations; ``20 * max_iter + 1000``
        coordinate-descent sweeps).
    verbose : int
    fixed : ndarray of bool or None
        Packed entries held at ``coef0`` (the objective must be invariant along
        them or the caller wants them held).
    method : {None, "dual-cd", "interior-point", "highs"}
        The first method tried (None: :func:`choose_method`; "dual-cd" needs an
        L2 penalty without L1 and one output).

    Returns
    -------
    SolverResult
        ``solver`` names the method that produced the answer (``"exact:dual-cd"``
        ...); ``extra["certified"]`` says whether the KKT conditions were verified.
    """
    start = time.perf_counter()
    c0 = np.array(coef0, dtype=np.float64)
    fixed = None if fixed is None or not np.any(fixed) else np.asarray(fixed, dtype=bool)
    # one BLAS thread: the small dense products here gain nothing from threads, and
    # spinning OpenBLAS workers slowed the numba sweeps and NumPy passes two- to
    # three-fold on 2 cores (hinge + L2, 20,000 x 25: 0.32 s -> 0.09 s)
    with single_thread_blas():
        if objective.n_outputs > 1:
            coef, n_iter, ok, certified, method, msg = _multiclass(objective, c0, tol, max_iter, verbose, fixed,
                                                                    method)
        else:
            coef, n_iter, ok, certified, method, msg = _single(objective, c0, tol, max_iter, verbose, fixed,
                                                                method)
    F = float(objective.total_value(coef))
    res = SolverResult(coef, F, max(1, int(n_iter)), bool(ok), f"exact:{method}", msg,
                       0.0 if certified else float("nan"))
    res.extra["certified"] = bool(certified)
    res.extra["seconds"] = time.perf_counter() - start
    if verbose:
        print(f"exact ({method}): {msg}, F={F:.15g}")
    return res


class _Data:
    """One output, reduced by the fixed entries; float64 arrays."""

    def __init__(self, obj, c0, fixed):
        X = obj.X
        X = sp.csr_matrix(X, dtype=np.float64) if sp.issparse(X) else np.ascontiguousarray(X, dtype=np.float64)
        n, p = X.shape
        self.p_full = p
        self.fi_full = obj.fit_intercept
        off = np.zeros(n) if obj.offset is None else np.asarray(obj.offset, dtype=np.float64).copy()
        sw = np.ones(n) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64)
        fi = obj.fit_intercept
        self.free_w = np.ones(p, dtype=bool)
        self.c0 = c0
        if fixed is not None:
            fw = fixed[:p]
            if np.any(fw):
                off += np.asarray(X[:, fw] @ c0[:p][fw]).ravel()
                X = X[:, ~fw]
                X = X.tocsr() if sp.issparse(X) else np.ascontiguousarray(X)
                self.free_w = ~fw
            if fi and fixed[p]:
                off += c0[p]
                fi = False
        self.X, self.off, self.fi = X, off, fi
        self.omega = sw / float(sw.sum())
        self.l1, self.l2 = obj.l1_reg, obj.l2_reg
        A, C = loss_pieces(obj.loss, obj.y)
        self.A, self.C = A, C
        self.slopes, self.const0, self.kinks, self.nk = envelope(A, C)
        self.design = _Design(X, fi)

    def start(self):
        p = self.p_full
        b = [self.c0[p]] if self.fi else []
        return np.concatenate([self.c0[:p][self.free_w], b])

    def expand(self, beta):
        p = self.p_full
        coef = self.c0.copy()
        coef[:p][self.free_w] = beta[: self.design.p]
        if self.fi:
            coef[p] = beta[self.design.p]
        return coef

    def problem(self, l1=None, l2=None):
        keep = self.omega > 0
        if np.all(keep):
            design, omega, off = self.design, self.omega, self.off
            sl, c0, kk, nk = self.slopes, self.const0, self.kinks, self.nk
        else:  # rows of zero weight: no hinges (the interior point needs c > 0)
            X = self.X[keep]
            design = _Design(X.tocsr() if sp.issparse(X) else np.ascontiguousarray(X), self.fi)
            omega, off = self.omega[keep], self.off[keep]
            sl, c0, kk, nk = self.slopes[keep], self.const0[keep], self.kinks[keep], self.nk[keep]
        return _Problem.from_pieces(design, omega, off, sl, c0, kk, nk,
                                    self.l1 if l1 is None else l1, self.l2 if l2 is None else l2)


def _single(obj, c0, tol, max_iter, verbose, fixed, method=None):
    D = _Data(obj, c0, fixed)
    nnz = D.X.nnz if sp.issparse(D.X) else None
    if method is None or (method == "dual-cd" and not (D.l2 > 0 and D.l1 == 0)):
        method = choose_method(D.X.shape[0], D.design.m, l1_reg=D.l1, l2_reg=D.l2, nnz=nnz)
    order = [method]
    if method == "dual-cd":
        order.append("interior-point" if D.design.m <= _IPM_MAX_COLS else "highs")
    elif method == "interior-point":
        order.append("highs")
    notes = []
    beta, n_total, converged = D.start(), 0, False
    for k, m in enumerate(order):
        if m == "dual-cd":
            beta, n_it, certified, msg = _dual_cd(D, beta, max_iter, verbose)
            converged = certified
        elif m == "interior-point":
            if k == 0:
                beta = _least_squares_start(D)
            prob = D.problem()
            beta, n_it, converged, certified, gap, _ = ipm_solve(prob, beta, min(max(tol, 1e-14), 1e-8),
                                                                max(int(max_iter), 1), True, verbose)
            msg = ("optimal (KKT certificate)" if certified else
                   f"interior point {'converged' if converged else 'stopped'} (duality gap {gap:.2e})")
        else:
            try:
                beta, n_it = _highs_single(D, verbose)
                converged = certified = True
                msg = "optimal (HiGHS)"
            except RuntimeError as exc:
                n_it, certified, msg = 0, False, str(exc)
        n_total += n_it
        notes.append(f"{m}: {msg}")
        if certified or (converged and k == len(order) - 1):
            break
        if m == "interior-point" and converged and D.design.m > 200:
            break  # a converged interior point is within its gap; HiGHS would not be cheaper
    return D.expand(beta), n_total, converged, certified, m, "; ".join(notes)


def _multiclass(obj, c0, tol, max_iter, verbose, fixed, method=None):
    """Crammer-Singer (K scores): the interior point (penalised, few rows) or dual CD
    with its working-set polish (L2 without L1, many rows; the interior point
    when it ends uncertified), certified by a duality gap; HiGHS for the linear
    programmes (no penalty), for fixed weights, and when the others stop
    uncertified on a small problem."""
    from ._exact_multiclass import cs_dual_cd, cs_interior_point

    n, K, p, fi = obj.n_samples, obj.n_outputs, obj.n_features, obj.fit_intercept
    nnz = obj.X.nnz if sp.issparse(obj.X) else None
    l2_only = obj.l2_reg > 0 and obj.l1_reg == 0
    penalised = obj.l2_reg > 0 or obj.l1_reg > 0
    if method is None or (method == "dual-cd" and not l2_only) or (method == "interior-point" and not penalised):
        method = choose_method(n, p + fi, l1_reg=obj.l1_reg, l2_reg=obj.l2_reg, n_outputs=K, nnz=nnz)
    held = None
    if fixed is not None:
        idx = np.flatnonzero(fixed)
        if fi and idx.size == 1 and idx[0] >= K * p:
            # one intercept held (the reference class): the loss sees score
            # differences, so solve freely and shift the intercepts
            held = (int(idx[0]) - K * p, float(c0[idx[0]]))
        elif method != "highs":
            method = "highs"  # weights held: HiGHS holds them as bounds
    notes = []
    if method in ("dual-cd", "interior-point"):
        run = cs_dual_cd if method == "dual-cd" else cs_interior_point
        W, b, n_it, certified, msg = run(obj, tol=tol, max_iter=max_iter, verbose=verbose)
        if not certified and method == "dual-cd" and K * (p + fi) <= _IPM_MAX_COLS:
            # (the sweeps' budget ran out before the polish certified: the interior point on every row)
            notes.append(f"{method}: {msg}")
            method = "interior-point"
            W, b, n_it2, certified, msg = cs_interior_point(obj, tol=tol, max_iter=max_iter, verbose=verbose)
            n_it += n_it2
        if certified or n * K > _CS_HIGHS_MAX:
            if fi:
                b = b - b.mean()
                if held is not None:
                    b = b + (held[1] - b[held[0]])
            coef = np.concatenate([np.ravel(W), b]) if fi else np.ravel(W).copy()
            return coef, n_it, certified, certified, method, "; ".join(notes + [msg])
        notes.append(f"{method}: {msg}")
    coef, n_iter, ok, m, msg = _highs_multiclass(obj, c0, fixed, verbose)
    notes.append(f"{m}: {msg}")
    first = len(notes) == 1
    if not ok and first and penalised and (fixed is None or held is not None) and K * (p + fi) <= _IPM_MAX_COLS:
        # HiGHS tried first and stopped (iteration limit): the interior point
        return _multiclass(obj, c0, tol, max_iter, verbose, fixed, "interior-point")
    return coef, n_iter, ok, ok, m, "; ".join(notes)


def _least_squares_start(D):
    """Weighted least squares onto the mean kink of each sample (a start for the
    interior point that depends only on the problem: weighted and repeated rows
    give the same start, hence the same central path end)."""
    from ._exact import _solve_spd

    K = D.nk
    real = np.arange(D.kinks.shape[1])[None, :] < K[:, None]
    cnt = np.maximum(real.sum(axis=1), 1)
    target = np.where(real, D.kinks, 0.0).sum(axis=1) / cnt - D.off
    design = D.design
    M = design.gram(D.omega)
    M[np.arange(design.p), np.arange(design.p)] += 1e-8 * (1.0 + np.trace(M)) + D.l2
    return _solve_spd(M, design.rmatvec(D.omega * target))


# ---------------------------------------------------------------- dual CD
def _dual_cd(D, beta0, max_iter, verbose):
    from .._kernels._dual import dual_cd_csr, dual_cd_dense

    X, omega = D.X, D.omega
    n, p = X.shape
    lam = float(D.l2)
    K = np.ascontiguousarray(D.nk, dtype=np.int64)
    bp = np.ascontiguousarray(omega[:, None] * D.slopes)
    t = np.ascontiguousarray(D.kinks)
    off = D.off
    if sp.issparse(X):
        rowsq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    else:
        rowsq = np.einsum("ij,ij->i", X, X)
    qd = rowsq / lam
    top = bp[np.arange(n), K]
    beta = np.clip(0.0, bp[:, 0], top)
    w = -np.asarray(X.T @ beta, dtype=np.float64).ravel() / lam
    S = float(beta.sum())
    fi = D.fi
    live = omega > 0
    # proximal weight of the intercept: a tenth of the mean curvature of a dual
    # coordinate (larger couples the coordinates and slows the sweeps; smaller
    # moves the intercept slowly between crossover attempts)
    rho = _RHO * float(np.mean(qd[live])) if fi and np.any(live) else 0.0
    if fi and rho <= 0:
        rho = 1.0
    bc = float(beta0[-1]) if fi else 0.0
    real = np.arange(t.shape[1])[None, :] < K[:, None]
    scale = 1.0 + (float(np.mean(np.abs(t[real]))) if np.any(real) else 0.0)
    tol_cd = 1e-1 * scale
    budget = _SWEEPS_PER_ITER * max(int(max_iter), 1) + 1000
    total = 0
    beta_p = np.concatenate([w, [bc]]) if fi else w.copy()
    stage = 0
    while True:
        # a stage ends at its tolerance or after _STAGE_SWEEPS * 2^stage sweeps: the
        # polish, not the sweeps, makes the answer exact, and it needs only a
        # fair guess of which samples sit near a kink
        cap = _STAGE_SWEEPS << min(stage, 20)
        stage += 1
        if sp.issparse(X):
            S, bc, sweeps, viol = dual_cd_csr(X.indptr, X.indices, X.data, off, bp, t, K, qd, lam, rho, bc, beta,
                                              w, S, tol_cd, min(budget - total, cap), 7, False)
        else:
            S, bc, sweeps, viol = dual_cd_dense(X, off, bp, t, K, qd, lam, rho, bc, beta, w, S, tol_cd,
                                                min(budget - total, cap), 7, False)
        total += sweeps
        b = bc - rho * S
        beta_p = np.concatenate([w, [b]]) if fi else w.copy()
        if viol > _POLISH_VIOLATION * scale and total < budget:
            bx, certified, n_act = None, False, 0  # (too far for a small working set: sweep on)
        else:
            bx, certified, n_act = _working_set_polish(D, K, w, b, 10 * max(tol_cd, viol))
        if verbose > 1:
            print(f"  dual-cd: {total} sweeps, tol {tol_cd:.1e}, violation {viol:.2e}, b {b:.6g}, "
                  f"sum(beta) {S:.2e}, certified {certified}")
        if certified:
            return bx, total, True, f"optimal (KKT certificate after {total} sweeps, {n_act} samples at kinks)"
        if total >= budget or tol_cd <= 1e-13 * scale:
            return beta_p, total, False, f"no certificate after {total} sweeps (violation {viol:.2e})"
        bc = b
        if viol <= tol_cd:
            tol_cd *= 0.1


def _working_set_polish(D, K, w, b, thr, max_rounds=10, max_near=np.inf):
    """Exact optimum from an approximate one, with its certificate.

    Samples whose residual lies within ``thr`` of a kink form the working set;
    every other sample is taken to stay on the piece it lies on, where its loss
    is linear (a linear term of the objective).  The small problem (working set
    plus that linear term) is solved exactly by the interior point and the
    crossover, which certifies it; then every other sample is checked to lie on
    its piece at the new solution.  Those that left it join the working set and
    the small problem is solved again.  When none leaves, the Karush-Kuhn-Tucker
    conditions of the whole problem hold (the small problem's, and the others'
    duals at their piece's slope): the optimum is certified.

    Returns ``(coef, certified, n_working)``; ``n_working = -1`` when more than
    ``max_near`` samples are near a kink (skipped).
    """
    X, off, omega, fi = D.X, D.off, D.omega, D.fi
    t, slopes = D.kinks, D.slopes
    n, p = X.shape
    rows = np.arange(n)
    real = np.arange(t.shape[1])[None, :] < K[:, None]
    tscale = 1.0 + (float(np.max(np.abs(t[real]))) if np.any(real) else 0.0)
    tol_r = 1e-9 * tscale
    live = (K > 0) & (omega > 0)
    cap = _MAX_WORKING
    coef = np.concatenate([w, [b]]) if fi else np.asarray(w, dtype=np.float64).copy()
    r = np.asarray(X @ w).ravel() + b + off
    dist = np.min(np.where(real, np.abs(r[:, None] - t), np.inf), axis=1) if t.shape[1] else np.full(n, np.inf)
    work = live & (dist <= thr)
    n_near = int(np.sum(live & (dist <= thr)))
    if n_near > max_near:
        return None, False, -1
    # the interior point on a few thousand rows costs mostly its fixed cost per
    # iteration: start with the nearest quarter of the samples near a kink (at least
    # 10 (p + 1) + 100, at most _FIRST_WORKING)
    first = max(10 * (p + 1) + 100, min(n_near // 4, _FIRST_WORKING))
    if work.sum() > first:  # the nearest ones only; the rounds below add any missed
        near = np.flatnonzero(work)
        work[:] = False
        work[near[np.argsort(dist[near], kind="stable")[:first]]] = True
    total_work = 0
    for _ in range(max_rounds):
        W = np.flatnonzero(work)
        total_work = W.size
        if W.size > cap:
            return None, False, W.size
        piece = np.sum(real & (t < r[:, None]), axis=1)
        F = ~work
        s_f = np.where(F, slopes[rows, np.minimum(piece, slopes.shape[1] - 1)], 0.0) * omega
        XW = X[W]
        XW = XW.tocsr() if sp.issparse(XW) else np.ascontiguousarray(XW)
        design = _Design(XW, fi)
        prob = _Problem.from_pieces(design, omega[W], off[W], slopes[W], D.const0[W], t[W], K[W], D.l1, D.l2)
        qf = np.asarray(X.T @ s_f).ravel()
        prob.q = prob.q + (np.concatenate([qf, [s_f.sum()]]) if fi else qf)
        beta, _, _, certified, _, _ = ipm_solve(prob, coef, 1e-10, 200, True, 0)
        if not certified:
            return None, False, W.size
        coef = beta
        r_new = np.asarray(X @ coef[:p]).ravel() + (coef[p] if fi else 0.0) + off
        left_edge = np.where(piece > 0, t[rows, np.maximum(piece - 1, 0)], -np.inf)
        right_edge = np.where(piece < K, t[rows, np.minimum(piece, t.shape[1] - 1)], np.inf)
        out = F & live & ((r_new < left_edge - tol_r) | (r_new > right_edge + tol_r))
        if not np.any(out):
            return coef, True, W.size
        # the most violated join (the working set at most doubles: it stays small)
        idx = np.flatnonzero(out)
        gap = np.maximum(left_edge[idx] - r_new[idx], r_new[idx] - right_edge[idx])
        work[idx[np.argsort(-gap, kind="stable")[:max(first, W.size)]]] = True  # (at most doubles)
        # (the pieces of the remaining fixed samples are those at the old point)
    return None, False, total_work


# ---------------------------------------------------------------- HiGHS
def _highs_run(cost, A, row_lo, row_hi, lo, hi, qdiag=None, iteration_limit=None, solver=None):
    from scipy.optimize._highspy import _core

    h = _core._Highs()
    h.setOptionValue("output_flag", False)
    if iteration_limit is not None:
        h.setOptionValue("qp_iteration_limit", int(iteration_limit))
        h.setOptionValue("simplex_iteration_limit", int(iteration_limit))
    if solver is not None:
        h.setOptionValue("solver", solver)
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
    iters = int(getattr(info, "simplex_iteration_count", 0) or 0) + int(getattr(info, "qp_iteration_count", 0) or 0)
    iters += int(getattr(info, "ipm_iteration_count", 0) or 0)
    return np.array(sol.col_value), status, iters


def _build_pwl(X, omega, off, fi, l1, l2, pieces=None, multiclass=None, fixed_cols=None):
    """The primal as ``min c.x + 1/2 sum q_j x_j^2  s.t.  A x >= h,  lo <= x <= hi``.

    Columns: w (K*p; split into w+ and w- with an L1 term), b (K, with an
    intercept), xi (n).  ``pieces=(A, C)`` (one output) or ``multiclass=(y, K,
    margin)``.  ``fixed_cols``: ``(index, value)`` of w / b entries held fixed
    (unsplit numbering).
    """
    n, p = X.shape
    K = 1 if multiclass is None else multiclass[1]
    Xc = X.tocsr() if sp.issparse(X) else sp.csr_matrix(X)
    split = l1 > 0
    nw = K * p
    nwcols = 2 * nw if split else nw
    nb = K if fi else 0
    ncol = nwcols + nb + n
    blocks, rhs = [], []
    xi_lo = np.full(n, -np.inf)
    eye_n = sp.eye(n, format="csr")

    def w_block(coefs_per_class):
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

    if multiclass is None:
        a, c = pieces
        for j in range(a.shape[1]):
            aj, cj = a[:, j], c[:, j]
            if not np.any(aj):  # constant piece: a bound on xi
                xi_lo = np.maximum(xi_lo, cj)
                continue
            # xi - a_j (x w + b + o) >= c_j
            blocks.append(sp.hstack(w_block([-aj]) + [eye_n], format="csr"))
            rhs.append(cj + aj * off)
    else:
        y, _, margin = multiclass
        xi_lo = np.zeros(n)
        yi = np.asarray(y).astype(np.intp)
        for j in range(K):
            # rows of samples with y != j: xi - (x w_j + b_j) + (x w_y + b_y) >= margin
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
            blocks.append(sp.hstack(w_block(coefs) + [eye_n], format="csr")[rows])
            rhs.append(np.full(int(rows.sum()), margin))
    Am = sp.vstack(blocks, format="csc") if blocks else sp.csc_matrix((0, ncol))
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
    if fixed_cols is not None:
        for idx, val in zip(*fixed_cols):
            if idx < nw:
                if split:
                    lo[idx] = hi[idx] = max(val, 0.0)
                    lo[nw + idx] = hi[nw + idx] = max(-val, 0.0)
                    q[idx] = q[nw + idx] = 0.0
                else:
                    lo[idx] = hi[idx] = val
                    q[idx] = 0.0
            else:
                lo[nwcols + idx - nw] = hi[nwcols + idx - nw] = val
    lo[nwcols + nb:] = xi_lo
    cost[nwcols + nb:] = omega
    return {"A": Am, "h": h, "lo": lo, "hi": hi, "cost": cost, "q": q,
            "nw": nw, "split": split, "nb": nb, "nwcols": nwcols, "n": n}


def _unpack(prob, x):
    nw, nb, nwcols, split = prob["nw"], prob["nb"], prob["nwcols"], prob["split"]
    w = x[:nw] - x[nw:nwcols] if split else x[:nw].copy()
    return w, x[nwcols:nwcols + nb].copy()


def _highs_solve(build, verbose):
    """Solve the problem ``build(fixed_cols)`` returns; ``(w, b, iterations)``.

    An LP goes to the simplex (then HiGHS's interior point if the simplex stops
    short); a QP through its dual (fast: HiGHS's active-set QP grows with the
    few quadratic columns), then the primal, then an LP for the intercepts and
    slacks with ``w`` fixed.  Raises RuntimeError only when every route failed.
    """
    prob = build(None)
    A, h, lo, hi, cost, q = prob["A"], prob["h"], prob["lo"], prob["hi"], prob["cost"], prob["q"]
    inf = np.full(h.size, np.inf)
    if not np.any(q):
        x, status, iters = _highs_run(cost, A, h, inf, lo, hi)
        if status != "Optimal":
            x, status, more = _highs_run(cost, A, h, inf, lo, hi, solver="ipm")
            iters += more
        if status != "Optimal":
            raise RuntimeError(f"HiGHS did not solve the linear program: {status}.")
        w, b = _unpack(prob, x)
        return w, b, iters
    size = A.shape[0] + A.shape[1]
    w = None
    try:
        if np.any(np.isfinite(hi)):
            raise RuntimeError("held columns: the dual below assumes free or lower-bounded columns")
        w, iters = _pwl_dual_qp(prob, 5 * size + 2000)
    except RuntimeError:
        x, status, iters = _highs_run(cost, A, h, inf, lo, hi, q, iteration_limit=50 * size + 10000)
        if status != "Optimal":
            raise RuntimeError(f"HiGHS did not solve the quadratic program: {status}.") from None
        w, _ = _unpack(prob, x)
    nw = prob["nw"]
    prob2 = build((np.arange(nw), w))
    x, status, it2 = _highs_run(prob2["cost"], prob2["A"], prob2["h"], np.full(prob2["h"].size, np.inf),
                                prob2["lo"], prob2["hi"])
    if status != "Optimal":
        raise RuntimeError(f"HiGHS did not solve the intercept linear program: {status}.")
    _, b = _unpack(prob2, x)
    return w, b, iters + it2


def _highs_single(D, verbose):
    X, omega, off = D.X, D.omega, D.off

    def build(fixed_cols):
        return _build_pwl(X, omega, off, D.fi, D.l1, D.l2, pieces=(D.A, D.C), fixed_cols=fixed_cols)

    w, b, iters = _highs_solve(build, verbose)
    return np.concatenate([w, b]), iters


def _highs_multiclass(obj, c0, fixed, verbose):
    margin = multiclass_margin(obj.loss)
    if margin is None:
        raise ValueError(f"loss {obj.loss.name!r} declares no multi-class piecewise-linear form "
                         "(multiclass_margin is None).")
    X = obj.X
    X = sp.csr_matrix(X, dtype=np.float64) if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n, p = X.shape
    K = obj.n_outputs
    sw = np.ones(n) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64)
    omega = sw / sw.sum()
    off = np.zeros(n)
    held = None if fixed is None else (np.flatnonzero(fixed), c0[fixed])
    shift_to = None
    if held is not None and obj.fit_intercept and np.all(held[0] >= K * p):
        # only intercepts held: the loss sees score differences, so solve freely (the
        # dual QP needs free columns) and shift all intercepts to the held value
        shift_to, held = (int(held[0][0]) - K * p, float(held[1][0])), None

    def build(fixed_cols):
        cols = fixed_cols
        if held is not None:
            cols = held if cols is None else (np.concatenate([cols[0], held[0]]),
                                              np.concatenate([cols[1], held[1]]))
        return _build_pwl(X, omega, off, obj.fit_intercept, obj.l1_reg, obj.l2_reg,
                          multiclass=(obj.y, K, margin), fixed_cols=cols)

    try:
        w, b, iters = _highs_solve(build, verbose)
    except RuntimeError as exc:
        return c0.copy(), 0, False, "highs", f"{exc} (the start is returned)"
    if obj.fit_intercept and held is None:
        # the Crammer-Singer loss depends on score differences only: the intercepts are
        # determined up to a common shift, reported centred (a unique answer)
        b = b - b.mean()
        if shift_to is not None:
            b = b + (shift_to[1] - b[shift_to[0]])
    coef = np.concatenate([w, b]) if obj.fit_intercept else w
    return coef, iters, True, "highs", "optimal (HiGHS)"


def _pwl_dual_qp(prob, iteration_limit=None):
    """The primal QP of :func:`_build_pwl` through its dual.

    Primal: min c.x + 1/2 sum_j q_j x_j^2, A x >= h, lo <= x <= hi, every column
    free or non-negative (w), or with a finite lower bound (slacks), or fixed.
    Dual variables mu >= 0 (one per row); for columns with q_j > 0,
    u_j = (A^T mu - c)_j (free columns) or u_j >= that, u_j >= 0 (non-negative
    columns), and x_j = u_j / q_j at the optimum.
    """
    A, h, lo, hi, cost, q = prob["A"], prob["h"], prob["lo"], prob["hi"], prob["cost"], prob["q"]
    A = sp.csc_matrix(A)
    ncol = A.shape[1]
    m = A.shape[0]
    quad = np.flatnonzero(q > 0)
    other = np.flatnonzero(q == 0)
    AT = A.T.tocsr()
    nu = len(quad)
    rows, rlo, rhi = [], [], []
    ATq = AT[quad]
    free_q = np.isneginf(lo[quad])
    # u_j - A_j^T mu = -c_j (free) or >= -c_j (non-negative)
    rows.append(sp.hstack([-ATq, sp.eye(nu)], format="csr"))
    rlo.append(-cost[quad])
    rhi.append(np.where(free_q, -cost[quad], np.inf))
    # other columns: free -> A_j^T mu = c_j; lower bound l_j -> A_j^T mu <= c_j (and
    # l_j (c_j - A_j^T mu) in the dual objective)
    ATo = AT[other]
    lo_o = lo[other]
    free_o = np.isneginf(lo_o)
    rows.append(sp.hstack([ATo, sp.csr_matrix((len(other), nu))], format="csr"))
    rlo.append(np.where(free_o, cost[other], -np.inf))
    rhi.append(cost[other])
    Ad = sp.vstack(rows, format="csc")
    lin_mu = -h.copy()
    fin = other[~free_o]
    if fin.size:
        lin_mu += np.asarray(AT[fin].T @ lo[fin]).ravel()
    cost_d = np.concatenate([lin_mu, np.zeros(nu)])
    lo_d = np.concatenate([np.zeros(m), np.where(free_q, -np.inf, 0.0)])
    hi_d = np.full(m + nu, np.inf)
    qd = np.concatenate([np.zeros(m), 1.0 / q[quad]])
    x, status, iters = _highs_run(cost_d, Ad, np.concatenate(rlo), np.concatenate(rhi), lo_d, hi_d, qd,
                                  iteration_limit=iteration_limit)
    if status != "Optimal":
        raise RuntimeError(f"HiGHS did not solve the dual quadratic program: {status}.")
    full = np.zeros(ncol)
    full[quad] = x[m:] / q[quad]
    w, _ = _unpack(prob, full)
    del hi
    return w, iters

