"""Which solver minimises a linear-model objective: capabilities, then a cost model.

:func:`resolve_solver` first checks what the loss declares (``is_smooth``,
``has_hessian``, ``piecewise_linear``, ``may_lack_minimiser``) and the penalty,
and raises a readable ``ValueError`` when an explicit solver cannot handle the
problem.  ``solver="auto"`` among the methods that can is chosen by
:func:`estimate_costs`, a deterministic model of the work (in flop units) on
``n_samples``, the stored entries of ``X``, ``n_coef`` and the number of
outputs -- never a clock, so the same data always take the same path.

Every threshold and constant of the choice is in the table below, one line
each on why.
"""

import math

__all__ = ["SOLVERS", "THRESHOLDS", "resolve_solver", "estimate_costs", "has_pieces", "lbfgs_memory",
           "underdetermined"]

SOLVERS = ("auto", "newton", "newton-cholesky", "newton-cg", "lbfgs", "prox-newton", "highs", "smoothing", "cd")

# ---------------------------------------------------------------- thresholds
THRESHOLDS = dict(
    # a dense Hessian of 3,000^2 float64 is 72 MB and a Cholesky of it ~1 s: beyond, products only
    max_dense_hessian=3000,
    # Newton steps from an intercept-only start to tol = 1e-8 (quadratic rate: 6-10 seen)
    newton_iters=10,
    # Hessian-vector products per Newton-CG step (Jacobi-preconditioned truncated CG: ~14 measured)
    cg_per_newton=15,
    # L-BFGS iterations to tol = 1e-8 on moderately conditioned data (100-400 seen)
    lbfgs_iters=250,
    # evaluations per L-BFGS iteration (the Wolfe line search rarely needs a second)
    lbfgs_evals=1.1,
    # passes over X per Newton step (the trial point's value and gradient, sometimes a backtrack)
    line_search_passes=1.5,
    # a pass reads each stored entry for the raw scores and again for the gradient: 2 multiply-adds
    pass_flops_per_entry=4,
    # the point-wise loss and gradient (exp, log): about 20 flops per sample and output
    loss_flops_per_point=20,
    # a Gram product / Cholesky flop (single-threaded BLAS-3 while the passes run on every core)
    # against a fused pass flop: measured 1.4-1.6 (200,000 x 100 syrk 12 ms, a log-loss pass 5.6 ms)
    blas3_speedup=1.5,
    # L-BFGS-B's own work per iteration and coefficient, beside the passes (SciPy's compact
    # form, bounds bookkeeping): 2,354 coefficients measured 0.43 ms at 10 pairs and 1.57 ms at
    # 30 against 1.0 ms for a 5.7e6-flop pass, i.e. ~1,000 flops fixed + ~140 per stored pair
    lbfgs_flops_per_coef=1000,
    lbfgs_flops_per_pair=140,
    # stored pairs: 30 where L-BFGS-B's work is small beside a pass (fewer iterations on
    # ill-conditioned data); fewer, down to 10 (SciPy's and scikit-learn's default), where
    # the pairs would cost more than half a pass (many coefficients on few rows)
    lbfgs_pairs_max=30,
    lbfgs_pairs_min=10,
    lbfgs_pairs_share=0.5,
    # ... and only where their work is noticeable at all (1e6 flops, ~0.1 ms): on tiny
    # problems every iteration is Python overhead, and the pairs cost nothing
    lbfgs_pairs_floor=1e6,
    # rows of a subsampled Hessian: the Newton direction's error ~ sqrt(n_coef / rows) stays small
    hessian_rows_floor=10000,
    hessian_rows_per_coef=20,
    # subsample the Hessian only when the data have 4x more rows (else the full one costs little more)
    hessian_subsample_factor=4,
    # with no penalty, a loss that may lack a minimiser (separation) and at least as many coefficients
    # as rows, no finite optimum is expected: every method runs to max_iter, the cheapest step wins
    underdetermined_ratio=1.0,
    # ... and when, moreover, an exact certificate shows before the solve that no finite optimum
    # exists (separation), the iterates only move further towards infinity and the coefficients
    # returned are arbitrary whatever the effort: this many iterations bound that effort (the
    # unpenalised 214-class fit of load_diabetes' targets: ~0.6 ms per iteration)
    separated_max_iter=20,
    # a Newton step below ~1e6 flops (well under a millisecond) is always worth one more (polish)
    cheap_step_flops=1e6,
)


def underdetermined(n_coef, n_samples):
    """At least as many coefficients as rows (``underdetermined_ratio``): unpenalised, a
    loss that may lack a minimiser is not expected to have a finite optimum."""
    return n_coef >= THRESHOLDS["underdetermined_ratio"] * n_samples


def hessian_rows(n_samples, n_coef):
    """Rows a Newton-Cholesky Hessian is formed on (all, or an evenly strided subsample)."""
    m = max(THRESHOLDS["hessian_rows_floor"], THRESHOLDS["hessian_rows_per_coef"] * n_coef)
    return m if n_samples > THRESHOLDS["hessian_subsample_factor"] * m else n_samples


def pass_cost(n_samples, nnz, n_outputs):
    """One value-and-gradient evaluation."""
    t = THRESHOLDS
    return t["pass_flops_per_entry"] * nnz * n_outputs + t["loss_flops_per_point"] * n_samples * n_outputs


def hessian_cost(rows, n_features, n_outputs, n_coef):
    """Forming (Gram product, symmetric: half the blocks of a K-output Hessian) and factorising a Hessian."""
    width = n_features + 1
    gram = rows * width * width * (1 if n_outputs == 1 else n_outputs * (n_outputs + 1) / 2)
    return (gram + n_coef ** 3 / 3.0) / THRESHOLDS["blas3_speedup"]


def lbfgs_memory(n_samples, nnz, n_outputs, n_coef):
    """Pairs L-BFGS stores: as many as ``lbfgs_pairs_max`` while their work stays
    within ``lbfgs_pairs_share`` of a pass (or below ``lbfgs_pairs_floor``), never
    fewer than ``lbfgs_pairs_min``."""
    t = THRESHOLDS
    budget = max(t["lbfgs_pairs_share"] * pass_cost(n_samples, nnz, n_outputs), t["lbfgs_pairs_floor"])
    m = int(budget // (t["lbfgs_flops_per_pair"] * max(1, n_coef)))
    return int(min(t["lbfgs_pairs_max"], max(t["lbfgs_pairs_min"], m)))


def lbfgs_step_cost(n_samples, nnz, n_outputs, n_coef):
    """L-BFGS-B's own work per iteration (beside the passes)."""
    t = THRESHOLDS
    m = lbfgs_memory(n_samples, nnz, n_outputs, n_coef)
    return (t["lbfgs_flops_per_coef"] + t["lbfgs_flops_per_pair"] * m) * n_coef


def estimate_costs(*, n_samples, n_features, n_outputs, n_coef, nnz=None):
    """Predicted work of each smooth method (flop units), e.g. ``{"lbfgs": 1.2e9, ...}``."""
    t = THRESHOLDS
    nnz = n_samples * n_features if nnz is None else nnz
    pc = pass_cost(n_samples, nnz, n_outputs)
    costs = {
        "lbfgs": t["lbfgs_iters"] * (t["lbfgs_evals"] * pc + lbfgs_step_cost(n_samples, nnz, n_outputs, n_coef)),
        "newton-cg": t["newton_iters"] * (t["cg_per_newton"] + t["line_search_passes"]) * pc,
    }
    if n_coef <= t["max_dense_hessian"]:
        rows = hessian_rows(n_samples, n_coef)
        costs["newton-cholesky"] = t["newton_iters"] * (
            hessian_cost(rows, n_features, n_outputs, n_coef) + t["line_search_passes"] * pc)
    return costs


def has_pieces(loss, n_outputs=1):
    """Whether the loss declares a piecewise-linear form the exact solver takes
    (its pieces for one output, a Crammer-Singer margin for K scores)."""
    from ._solver_exact import has_exact_solver  # (imports the solvers: imported here)

    return bool(has_exact_solver(loss, n_outputs))


def _may_lack_minimiser(loss):
    return bool(getattr(loss, "may_lack_minimiser", False))


def resolve_solver(solver, loss, *, l1_reg=0.0, l2_reg=0.0, sparse=False, n_outputs=1, n_coef=1,
                   n_samples=None, n_features=None, nnz=None):
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
    n_samples, n_features, nnz : int or None
        Size of the data for the cost model (unknown: ``100 n_coef`` dense rows).

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
    pieces = has_pieces(loss, n_outputs)
    if solver == "auto":
        if not smooth:
            return "highs" if pieces else "smoothing"
        if has_l1:
            if not hess:
                raise ValueError(
                    f"An L1 / elastic-net penalty with loss {name!r} needs its Hessian "
                    "(solver 'prox-newton'), but the loss has none (has_hessian=False)."
                )
            # (PERF) coordinate descent (skloss.linear_model._solver_cd): a constant Hessian
            # (the smooth part is a quadratic: one Gram), or one output on sparse X or more
            # coefficients than a dense Hessian takes (columns of X, no Hessian formed)
            if n_outputs == 1 and (getattr(loss, "hessian_is_constant", False) or sparse
                                   or n_coef > THRESHOLDS["max_dense_hessian"]):
                return "cd"
            return "prox-newton"
        if not hess:
            return "lbfgs"
        if n_features is None:
            n_features = max(1, n_coef // max(1, n_outputs) - 1)
        if n_samples is None:
            n_samples = 100 * n_coef
        if l2_reg == 0 and _may_lack_minimiser(loss) and underdetermined(n_coef, n_samples):
            return "lbfgs"
        costs = estimate_costs(n_samples=n_samples, n_features=n_features, n_outputs=n_outputs,
                               n_coef=n_coef, nnz=nnz)
        return min(costs, key=lambda s: (costs[s], s))
    if solver == "highs":
        if not pieces:
            raise ValueError(
                f"solver 'highs' solves losses with a piecewise-linear form exactly "
                f"(loss.piecewise_linear); loss {name!r} declares none; use solver='auto'."
            )
        return solver
    if solver == "cd":
        if not (smooth and hess and n_outputs == 1):
            raise ValueError(
                f"solver 'cd' (coordinate descent) needs a smooth loss with a Hessian and one output; "
                f"loss {name!r} (is_smooth={smooth}, has_hessian={hess}) with {n_outputs} outputs is not "
                "one; use solver='auto'."
            )
        return solver
    if solver == "smoothing":
        if smooth:
            raise ValueError(
                f"solver 'smoothing' is for non-smooth losses; loss {name!r} is smooth: use solver='auto'."
            )
        return solver
    if solver in ("newton", "newton-cholesky", "newton-cg", "prox-newton") and not hess:
        raise ValueError(
            f"solver {solver!r} needs the Hessian, but loss {name!r} has no Hessian "
            "(has_hessian=False); use solver='auto'"
            + (" (exact: 'highs')." if pieces else " or solver='lbfgs'.")
        )
    if not smooth:
        raise ValueError(
            f"solver {solver!r} needs a smooth loss, but loss {name!r} is not smooth "
            f"(is_smooth=False); use solver='auto' ({'highs' if pieces else 'smoothing'})."
        )
    if has_l1 and solver != "prox-newton":
        raise ValueError(
            f"solver {solver!r} cannot handle an L1 / elastic-net penalty (the objective is "
            "not differentiable); use solver='prox-newton' or solver='auto'."
        )
    if solver == "newton":
        return "newton-cholesky" if n_coef <= THRESHOLDS["max_dense_hessian"] else "newton-cg"
    return solver


def log_costs(costs):
    """``"lbfgs 1.2e9, newton-cg 3.4e9"`` (for verbose output)."""
    return ", ".join(f"{k} {v:.2g}" for k, v in sorted(costs.items(), key=lambda kv: kv[1]) if math.isfinite(v))
