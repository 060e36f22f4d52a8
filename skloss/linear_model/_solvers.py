"""Solvers for the linear-model objective (:class:`LinearObjective`): the facade.

Every solver minimises

    F(c) = mean_s loss(y, X w + b) + l2_reg / 2 ||w||^2 + l1_reg ||w||_1

over the packed coefficients ``c`` and returns a :class:`SolverResult`.  Which
solver can handle which problem, and which is cheapest, is decided in
:mod:`._solver_select` (:func:`resolve_solver`); this module runs it.

Solvers (one module each)
-------------------------
``"newton-cholesky"``, ``"newton-cg"`` (:mod:`._solver_newton`)
    Damped Newton on the dense Hessian (Cholesky) or with Hessian products
    (truncated conjugate gradients).  Need ``loss.has_hessian``.
``"lbfgs"`` (:mod:`._solver_lbfgs`)
    SciPy's L-BFGS-B in the problem's own units.  Smooth loss, no L1 term.
``"prox-newton"`` (:mod:`._solver_prox`)
    Proximal Newton for an L1 / elastic-net penalty with a smooth loss.
``"highs"`` (exact; :func:`skloss.linear_model._solver_exact.solve_exact`)
    The exact optimum of a loss that declares its piecewise-linear pieces.
``"smoothing"`` (:mod:`._solver_smoothing`)
    Non-smooth losses without declared pieces: Moreau smoothing with
    continuation to the kinks (first order, L-BFGS on the envelope).

Stopping criteria
-----------------
Scale-free (:class:`._solver_common.ProblemScale`): smooth problems stop when
``max_j |dF/dc_j| / (d_j G0) <= tol`` (``d_j`` the root-mean-square of the
column coefficient ``j`` multiplies, 1 for intercepts; ``G0`` the
root-mean-square per-sample raw gradient at the start), so the unpenalised fit
is equivariant to the units of ``X`` and ``y``.  Problems with an L1 term use
the minimum-norm subgradient in the same units.  With float32 data ``tol`` is
at least ``10 * eps(float32)``.  ``tol=0`` runs to the floating-point floor
(Newton solvers stop when the predicted decrease ``-g.d / 2`` falls below
``1e-2 * eps * |F|``).
"""

import time

import numpy as np

from ..losses._capabilities import kinks_of
from ._solver_common import NonFinite, ProblemScale, SolverResult, overflow_error, quiet_blas
from ._solver_lbfgs import lbfgs
from ._solver_newton import Newton
from ._solver_prox import prox_newton
from ._solver_select import SOLVERS, resolve_solver
from ._solver_smoothing import smoothing

__all__ = ["SolverResult", "SOLVERS", "quiet_blas", "resolve_solver", "solve"]

# names kept for callers of the former single-module solver
_NonFinite = NonFinite
_overflow_error = overflow_error


def solve(objective, coef0, solver, *, tol=1e-6, max_iter=1000, verbose=0, fixed=None):
    """Minimise ``objective`` from ``coef0`` with a resolved ``solver``.

    Parameters
    ----------
    objective : LinearObjective
    coef0 : ndarray
        Packed start (copied).
    solver : str
        A concrete name returned by :func:`resolve_solver` (``"auto"`` is
        resolved here with the objective's sizes).
    tol : float
        Stopping tolerance (scale-free; see the module docstring).  0 runs to the
        floating-point floor.
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
    tol = float(tol)
    if not tol >= 0:
        raise ValueError(f"tol must be a non-negative number; got {tol!r}.")
    # float32 data: the gradient is accurate to about float32 precision only
    if objective.dtype == np.float32:
        tol = max(tol, 10.0 * float(np.finfo(np.float32).eps))
    if solver == "auto":
        solver = resolve_solver(
            "auto", objective.loss, l1_reg=objective.l1_reg, l2_reg=objective.l2_reg,
            sparse=objective.sparse, n_outputs=objective.n_outputs, n_coef=objective.n_coef,
            n_samples=objective.n_samples, n_features=objective.n_features,
            nnz=objective.X.nnz if objective.sparse else None)
    free = None if fixed is None or not np.any(fixed) else ~np.asarray(fixed, dtype=bool)
    start = time.perf_counter()
    done = _start_if_minimiser(objective, coef0)
    if done is not None:
        done.extra["seconds"] = time.perf_counter() - start
        return done
    try:
        with quiet_blas(objective), np.errstate(over="ignore", invalid="ignore"):
            res = _dispatch(objective, coef0, solver, tol, max_iter, verbose, free, fixed)
    except NonFinite as exc:
        raise overflow_error(objective, str(exc)) from None
    if not np.all(np.isfinite(res.coef)) or not np.isfinite(res.objective):
        raise overflow_error(objective, "solution")
    res.extra["seconds"] = time.perf_counter() - start
    return res


def _loss_minimum(loss, n_outputs):
    """The minimum of the loss over the raw scores, the same for every sample, when
    the loss declares a form that gives it (else None): a convex piecewise-linear
    loss ``max_j (s_j u + c_j)`` attains it at a kink (unbounded below when every
    slope has one sign); a Crammer-Singer form ``max(0, ...)`` has minimum 0."""
    if n_outputs > 1:
        return 0.0 if loss.multiclass_margin is not None else None
    pieces = loss._normalised_pieces()
    if pieces is None or min(a for a, _ in pieces) > 0 or max(a for a, _ in pieces) < 0:
        return None
    if len(pieces) == 1:  # (one piece of slope 0: a constant)
        return float(pieces[0][1])
    return min(max(a * u + c for a, c in pieces) for u in kinks_of(pieces))


def _start_if_minimiser(objective, coef0):
    """A result when ``coef0`` is provably a global minimiser, else None.

    It is when the penalty is at its minimum there (every penalised coefficient is
    zero, or there is no penalty) and every sample's loss is at the loss's
    minimum over all raw scores: no point can do better on either term (the
    perceptron at ``w = 0``, whose loss is zero for every sample there, under
    any penalty).  One pass over ``X``, counted as one iteration.
    """
    lower = _loss_minimum(objective.loss, objective.n_outputs)
    if lower is None:
        return None
    penalised = objective.penalised_mask()
    if (objective.l1_reg or objective.l2_reg) and np.any(coef0[penalised] != 0.0):
        return None
    value = objective.data_value(coef0)
    if not value <= lower + 4.0 * np.finfo(float).eps * max(1.0, abs(lower)):
        return None
    # (n_iter 1: the pass that certified it; scikit-learn expects n_iter_ >= 1)
    return SolverResult(coef0.copy(), objective.total_value(coef0), 1, True, "start",
                        "the start is a global minimiser: every sample's loss is at its minimum "
                        "and the penalty at zero", 0.0)


def _exact(objective, coef0, tol, max_iter, verbose, fixed):
    from ._solver_exact import solve_exact  # (imports this module: imported here)

    return solve_exact(objective, coef0, tol=min(tol, 1e-10) if tol > 0 else 1e-10, max_iter=max_iter,
                       verbose=verbose, fixed=fixed)


def _dispatch(objective, coef0, solver, tol, max_iter, verbose, free, fixed):
    if solver == "highs":
        return _exact(objective, coef0, tol, max_iter, verbose, fixed)
    scale = ProblemScale(objective, coef0)
    if solver == "lbfgs":
        res = lbfgs(objective, coef0, tol, max_iter, verbose, free, scale)
    elif solver in ("newton-cholesky", "newton-cg"):
        res = Newton(objective, tol, max_iter, verbose, free, solver.split("-")[1], scale).run(coef0)
    elif solver == "prox-newton":
        res = prox_newton(objective, coef0, tol, max_iter, verbose, free, scale)
    elif solver == "smoothing":
        res = smoothing(objective, coef0, tol, max_iter, verbose, free, scale)
    elif solver == "cd":
        from ._solver_cd import solve_cd  # (PERF: constant-Hessian losses with L1)

        res = solve_cd(objective, coef0, tol, max_iter, verbose, free, scale)
    else:
        raise ValueError(f"Unknown solver {solver!r}.")
    if solver.startswith("newton") and not res.converged and res.message == "line search failed":
        # a Newton direction from a (near-)singular Hessian (e.g. Huber with every
        # residual beyond delta) can fail its line search; L-BFGS needs no
        # Hessian and finishes from the last Newton iterate
        more = lbfgs(objective, res.coef, tol, max(1, max_iter - res.n_iter), verbose, free, scale)
        more.n_iter += res.n_iter
        more.solver = f"{solver}+lbfgs"
        more.extra.update(res.extra)
        res = more
    return res
