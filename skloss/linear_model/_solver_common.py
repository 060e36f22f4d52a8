"""What every solver of the linear-model objective shares.

* :class:`SolverResult`, the common answer;
* :class:`ProblemScale`, the problem's own units, which make every stopping
  test scale-free (the unpenalised fit is equivariant to the units of ``X`` and
  ``y``: ``coef(c X) = coef(X) / c`` at the same ``tol``);
* the overflow error, the BLAS thread guard and small helpers.

Scale-free optimality
---------------------
The gradient of the mean loss with respect to coefficient ``j`` is
``g_j = mean_i s_i l'_i x_ij``.  Dividing it by the root-mean-square of column
``j`` (``d_j``; 1 for an intercept) and by the root-mean-square of the
per-sample raw gradients ``l'_i`` at the start (``G0``) gives

    opt = max_j |g_j| / (d_j G0),

a correlation between the features and the start's residual gradient: at most
1 at the start (Cauchy-Schwarz), 0 at the optimum, and unchanged when a column
of ``X`` is multiplied by any constant or ``y`` is expressed in other units
(for the losses that are equivariant to it).  Every solver stops when
``opt <= tol``; objective-based tests are relative to ``|F|``.
"""

import contextlib
import functools
import threading
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["SolverResult", "ProblemScale", "NonFinite", "overflow_error", "quiet_blas", "single_thread_blas",
           "FUSED_FIT_BLAS_COEF", "SOFTMAX_TILE_PAIRS",
           "log", "expand"]


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
        The final value of the (scale-free) stopping measure.
    extra : dict
        Solver details (``seconds``, ``n_hessians`` ...).
    """

    coef: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    solver: str
    message: str = ""
    optimality: float = float("nan")
    extra: dict = field(default_factory=dict)


class NonFinite(ArithmeticError):
    """The objective, its gradient or its Hessian is not finite where it must be."""


def _nan_loss_message(obj):
    """A loss returning NaN at finite, moderate inputs is the loss's fault, not
    an overflow of the data: name the loss (e.g. a faulty custom loss)."""
    try:
        y = np.asarray(obj.y, dtype=np.float64).ravel()[:8]
        if y.size == 0 or not np.all(np.isfinite(y)):
            return None
        with np.errstate(all="ignore"):
            values = np.asarray(obj.loss.loss(y, np.zeros_like(y)), dtype=np.float64)
        if not np.any(np.isnan(values)):
            return None
        i = int(np.flatnonzero(np.isnan(values.ravel()))[0])
    except Exception:  # (a form this probe does not cover: the generic message)
        return None
    return (f"The loss {obj.loss.name!r} returns NaN at finite inputs (y_true = {float(y[i])!r}, "
            "raw_prediction = 0.0): a loss must return finite values on its domain; check the "
            "loss's formula (for a custom loss, the function given to make_loss).")


def overflow_error(obj, what):
    """The ``ValueError`` for an objective that overflows, naming the magnitudes."""

    def biggest(a):
        a = a.data if sp.issparse(a) else np.asarray(a)
        return float(np.max(np.abs(a))) if a.size else 0.0

    nan_loss = _nan_loss_message(obj)
    if nan_loss:
        return ValueError(nan_loss)
    limit = float(np.finfo(obj.dtype).max)
    return ValueError(
        f"The {what} is not finite: the computation overflows the {np.dtype(obj.dtype).name} range "
        f"(largest |X| = {biggest(obj.X):.3g}, largest |y| = {biggest(obj.y):.3g}; products and squares "
        f"must stay below {limit:.3g}). Scale the data, e.g. with sklearn.preprocessing.StandardScaler."
    )


def _column_rms(obj):
    """Weighted root-mean-square of every column of ``X`` (float64, length p)."""
    if hasattr(obj, "column_rms"):  # (a dask objective: reduced block-wise on the workers)
        return obj.column_rms()
    p = obj.n_features
    sw = obj.sample_weight
    if obj.n_samples == 0 or p == 0:
        return np.ones(p)
    if obj.sparse and obj.X.format == "csr":
        # (PERF) the squared entries summed by column index, row after row: the order of
        # the product of the squared matrix's transpose with the weights (same sums), without
        # its two copies of X (5 ms of a 70 ms fit at 100,000 x 5,000, 0.2% dense)
        X = obj.X
        sq = np.square(X.data, dtype=np.float64)
        if sw is not None:
            sq *= np.repeat(sw.astype(np.float64), np.diff(X.indptr))
        acc = np.bincount(X.indices, weights=sq, minlength=p)
    elif obj.sparse:
        X2 = obj.X.copy().astype(np.float64)
        X2.data **= 2
        acc = np.asarray(X2.T @ (np.ones(obj.n_samples) if sw is None else sw.astype(np.float64))).ravel()
    else:
        acc = np.zeros(p)
        for start, stop in obj._blocks:
            Xb = obj.X[start:stop]
            if sw is None:
                acc += np.einsum("ij,ij->j", Xb, Xb, dtype=np.float64)
            else:
                acc += np.einsum("i,ij,ij->j", sw[start:stop], Xb, Xb, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sqrt(acc / max(obj.weight_sum, 1e-300))


class ProblemScale:
    """The units of one problem at its start ``coef0`` (see the module docstring).

    Attributes
    ----------
    col : ndarray (n_coef,)
        ``d_j``: the root-mean-square of the column a coefficient multiplies (1 for
        intercepts and for all-zero columns).
    g0 : float
        Root-mean-square per-sample raw gradient at the start (estimated on at
        about ``rows`` evenly strided rows on many rows; 1 when it is 0).
    f0 : float
        ``|F(coef0)|`` (1 when it is 0 or not finite).
    """

    def __init__(self, obj, coef0, rows=None):
        # (the rows of the Newton solver's subsampled Hessians: the subsample is shared)
        rows = max(10000, 20 * obj.n_coef) if rows is None else rows
        sub = obj if obj.n_samples <= 4 * rows else obj.subsample(rows)
        # units of the columns: an objective may provide them (e.g. reduced on a
        # cluster); dense data on many rows: from the evenly strided subsample (a scale
        # needs no more, and a pass over all of X would cost as much as a gradient)
        if hasattr(obj, "column_rms"):
            d = np.asarray(obj.column_rms(), dtype=np.float64)
        else:
            d = _column_rms(obj if obj.sparse else sub)
        if not np.isfinite(d).all():
            raise NonFinite("sum of squares of a column of X")
        d = np.where(d > 0, d, 1.0)
        k = obj.n_outputs
        parts = [d if k == 1 else np.tile(d, k)]  # (concatenate copies: np.tile(d, 1)'s values)
        if obj.fit_intercept:
            parts.append(np.ones(k))
        self.col = np.concatenate(parts)
        with np.errstate(all="ignore"):
            if sub is obj and getattr(obj, "_twin_softmax", False):
                # the NumPy softmax pass, kept for the solver's first call at this point:
                # per-sample gradients p_i - t_i from its exponentials
                obj.value_grad(coef0)
                _, _, _, E, z = obj._twin_last
                gr = E / z[:, None]
                gr[np.arange(gr.shape[0]), obj._twin_const[2]] -= 1.0 - obj._lossfn.eps
                if obj._lossfn.eps:
                    gr -= obj._lossfn.eps / obj.n_outputs
            elif (sub is obj and obj.sample_weight is None
                  and (getattr(obj, "_curv_in_pass", False) or getattr(obj, "_twin_binary", False))):
                # the solver's first pass, whose per-sample gradients are kept (and the
                # pass itself, for the solver's own first call at this point)
                obj.value_grad(coef0)
                gr = obj._last_grad[1]
            else:
                raw = sub.raw_prediction(coef0)
                gr = np.asarray(sub._lossfn.gradient(sub.y, raw), dtype=np.float64)
            # (PERF: the squared norms in one einsum; np.average's generic layer and a
            # sum over the short rows of an n x K array cost ~0.1 ms of a small fit)
            sq = np.einsum("ij,ij->i", gr, gr) if gr.ndim > 1 else gr * gr
            sw = None if sub.sample_weight is None else sub.sample_weight.astype(np.float64)
            if not sq.size:
                g0 = 0.0
            elif sw is None:
                g0 = float(np.sqrt(float(np.sum(sq)) / sq.size))
            else:
                g0 = float(np.sqrt(float(np.sum(sq * sw)) / float(np.sum(sw))))
        if not np.isfinite(g0):
            raise NonFinite("loss gradient at the start")
        self.g0 = g0 if g0 > 0 else 1.0
        self.f0 = 1.0
        self.has_f0 = False

    def set_f0(self, f0):
        """Record the objective at the start (the unit of objective-based tests)."""
        self.has_f0 = True
        f0 = abs(float(f0))
        self.f0 = f0 if np.isfinite(f0) and f0 > 0 else 1.0

    def scaled(self, g, free=None):
        """``|g_j| / (d_j G0)`` for the free entries."""
        s = np.abs(g) / (self.col * self.g0)
        return s if free is None else s[free]

    def optimality(self, g, free=None):
        """``max_j |g_j| / (d_j G0)`` over the free entries (0 when there are none)."""
        s = self.scaled(g, free)
        return float(s.max()) if s.size else 0.0

    def fmag(self, f):
        """The magnitude objective changes are compared with: ``|f|``, floored far
        below the start's objective (an interpolating fit has ``F* = 0``)."""
        return max(abs(float(f)), 1e-12 * self.f0, 1e-300)


@functools.cache
def _threadpool_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # (scans the loaded libraries: a few ms, once)


@contextlib.contextmanager
def quiet_blas(objective):
    """Single-threaded BLAS while the parallel numba passes of ``objective`` run.

    An OpenBLAS worker keeps spinning for a while after each call; on a few cores
    it then competes with numba's threads, and a parallel pass over ``X`` that
    follows any BLAS call (even a small product on a subsample) is two to three
    times slower.  The BLAS work of the fused solvers (subsampled Hessians,
    Cholesky) is small, so one thread costs little there.
    """
    # (PERF) also for small Hessians: a Cholesky of 130 x 130 measured 0.36 s with the
    # default OpenBLAS threads on a busy 2-core machine (5-class log loss, 2,000 x 25: 5.8 s
    # per fit against 0.15 s with one thread); below SMALL_BLAS_COEF one thread is as fast
    small = getattr(objective, "n_coef", SMALL_BLAS_COEF + 1) <= SMALL_BLAS_COEF
    # (PERF) and for short passes: a pass's products on 442 x 11 rows and 214 classes measured
    # 16 ms with two OpenBLAS threads on a busy 2-core machine against 0.3 ms with one
    X = getattr(objective, "X", None)
    if X is not None and not small:
        work = (X.nnz if getattr(objective, "sparse", False) else X.shape[0] * max(X.shape[1], 1))
        small = work * getattr(objective, "n_outputs", 1) <= SMALL_BLAS_WORK
    if not (small or (getattr(objective, "_fused", False) and getattr(objective, "_n_chunks", 1) > 1)):
        yield
        return
    with single_thread_blas():
        yield


# share of the rows whose curvature changed up to which a one-output Hessian is the last one
# plus their rows' product (LinearObjective._gram_update): a changed row costs a gather and
# an unblocked product, a few times a row of the tiled Gram, and few change across a kink
# of a piecewise-quadratic loss (squared hinge, Huber) once the active set settles
GRAM_UPDATE_SHARE = 0.125
# classes up to which the softmax Hessian on few rows takes one class's blocks from the
# others' (rows of the curvature sum to zero: (K - 1) K / 2 of K (K + 1) / 2 products; the
# saving 2 / (K + 1) is small beyond, and the sums' index arrays grow as K^2)
SOFTMAX_ZERO_SUM_CLASSES = 16
# class pairs of such a Hessian up to which each block is one tiled weighted Gram of X
# (2,000 x 25: 10 Grams 0.55 ms, as the product with the row-product matrix R, which costs
# 0.6 ms more to form -- a fresh 5.6 MB array -- once per fit for its two or three Hessians);
# beyond, the product with R amortises it and each call's ~10 us overhead adds up
SOFTMAX_TILE_PAIRS = 45
# packed coefficients up to which the solvers' BLAS work (Gram, Cholesky) runs on one
# thread (PERF: multi-threaded BLAS on small matrices loses to thread wake-ups)
SMALL_BLAS_COEF = 1024
# packed coefficients up to which a fit whose fused passes run on numba's threads runs
# BLAS on one thread throughout (its Gram products are small beside the passes; see
# MLELinearRegression._fit)
FUSED_FIT_BLAS_COEF = 128
# ... and the entries of X times outputs up to which a pass's products run on one thread
# (the objective's own threshold for a single-threaded pass, _objective._PARALLEL_WORK)
SMALL_BLAS_WORK = 2_000_000


@contextlib.contextmanager
def single_thread_blas():
    """One BLAS thread, e.g. around SciPy's L-BFGS-B: its BLAS calls work on
    vectors of ``n_coef`` entries, where waking and synchronising OpenBLAS workers
    costs far more than the work (a 58-iteration L-BFGS-B run on 11 variables
    measured 0.71 s with the default threads on a busy 2-core machine, 0.077 s
    with one)."""
    if getattr(_LIMITED, "depth", 0):  # (already inside: no second query of every BLAS library)
        yield
        return
    with _threadpool_controller().limit(limits=1, user_api="blas"):
        _LIMITED.depth = 1
        try:
            yield
        finally:
            _LIMITED.depth = 0


# whether this thread is inside single_thread_blas
_LIMITED = threading.local()


def log(verbose, msg):
    if verbose:
        print(msg)


def expand(free, x_free, base):
    """The packed vector ``base`` with its free entries replaced by ``x_free``."""
    if free is None:
        return x_free
    out = base.copy()
    out[free] = x_free
    return out
