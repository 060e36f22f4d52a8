"""The linear-model objective on a dask array: the in-memory objective mapped over row blocks.

:class:`DaskLinearObjective` has the interface of
:class:`skloss.linear_model._objective.LinearObjective` (``value_grad``,
``value_grad_hessian``, ``hessian``, ``hessp_factory``, ``data_hessian``,
``score_gram``, ``raw_prediction``, ``subsample``, ``split`` / ``pack`` ...), so
the in-memory solvers and the inference run on it unchanged, on the client.

Every evaluation is one round trip to the cluster: each row block of the
(persisted) data is wrapped on its worker in an in-memory ``LinearObjective``
(no penalty; the same numba kernels and tiled Gram matrices as an in-memory
fit) and
returns its *summed* quantities -- weighted loss sum, gradient, Hessian, Hessian
products, score Gram matrix -- which the client adds up and normalises by the
total weight, adding the penalty there.  Only vectors and matrices of the size
of the coefficients travel; the rows never leave the workers.

Curvature is computed where the data are: a worker keeps the last point's
per-sample curvature of each of its blocks (``value_grad_hessian`` /
``hessp_factory``), so the Hessian that a Newton step asks for after the
gradient pass at the same point is one more Gram product per block, not a
second pass over the losses.
"""

import threading
import uuid
from collections import OrderedDict

import numpy as np

from skloss.linear_model._objective import LinearObjective

__all__ = ["DaskLinearObjective"]

# a dense Hessian-vector product from the full Hessian (one round trip for all
# products) up to this many coefficients; per-product round trips beyond
_DENSE_HESSP_MAX = 1500

# up to this many coefficients every Newton pass (``value_grad_hessian``) reduces the
# full Hessian with the value and gradient (``hessian_in_pass``): full Hessians at
# every iterate make Newton converge quadratically from the subsample's start (3
# passes instead of 6-7 with subsampled Hessians, 2,000,000 x 26).  The Gram product
# grows as n_coef^2 against the pass's n_coef: at 26 coefficients it cost about 1.4
# passes per block (measured, one thread); by 64 about 3-4, where the round trips
# it saves no longer pay for it on a local cluster.  Beyond, the Hessian is reduced
# only when asked (the Newton solver then uses the client's subsample for it)
_IN_PASS_MAX = 64

# ----------------------------------------------------------------- worker side
_CACHE = OrderedDict()  # (token, block) -> (coef bytes, callable)
_CACHE_MAX = 1024
_LOCK = threading.Lock()


def _cache_put(key, coef, fn):
    with _LOCK:
        _CACHE[key] = (coef.tobytes(), fn)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)


def _cache_get(key, coef):
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None and hit[0] == coef.tobytes():
        return hit[1]
    return None


def clear_cache(token=None):
    """Drop a worker's cached curvature (of one objective, or all)."""
    with _LOCK:
        for key in [k for k in _CACHE if token is None or k[0] == token]:
            del _CACHE[key]
    return True


def _task_threads():
    """numba threads for a block task: the ``OMP_NUM_THREADS`` the worker was started
    with (dask's workers set it to 1: the cluster's parallelism is its task threads;
    a kernel's own threads would oversubscribe the cores, and a parallel region
    waits for its slowest thread), else numba's default.  The kernels' chunking does
    not depend on it: the same sums in the same order either way."""
    import os

    import numba

    want = os.environ.get("OMP_NUM_THREADS", "")
    if want.isdigit() and int(want) > 0:
        n = min(int(want), numba.config.NUMBA_NUM_THREADS)
        if numba.get_num_threads() != n:
            numba.set_num_threads(n)  # (per calling thread)


def _run_block(spec, key, op, coef, arg, Xb, yb, swb, offb):
    """One block's summed contribution to an evaluation (None for a block without
    rows or without weight)."""
    if Xb.shape[0] == 0:
        return None
    _task_threads()
    loss, fit_intercept, n_outputs, targets = spec
    if targets is not None:  # (the targets and weights from the raw labels, in the task)
        yb, swb = targets[0](yb, swb, *targets[1])
    obj = LinearObjective(loss, np.ascontiguousarray(Xb), yb, swb, fit_intercept=fit_intercept,
                          n_outputs=n_outputs, offset=offb)
    ws = obj.weight_sum
    if not ws > 0:
        return None
    if op == "value":
        return obj.data_value(coef) * ws
    if op == "value_grad":
        f, g = obj.value_grad(coef)
        return f * ws, g * ws
    if op == "vgh":
        f, g, H = obj.value_grad_hessian(coef)
        _cache_put(key, coef, H)
        return f * ws, g * ws
    if op == "vg_hessian":  # (arg: None, or a block reduction (fn, extra) in the same pass)
        f, g, H = obj.value_grad_hessian(coef)
        out = (f * ws, g * ws, H() * ws)
        if arg is None:
            return out
        obj.pass_hessian = out[2]  # (the reduction may reuse this block's Hessian sum)
        return out + (arg[0](obj, coef, arg[1]),)
    if op == "hessian":
        H = _cache_get(key, coef)
        return (H() if H is not None else obj.hessian(coef)) * ws
    if op == "hessp_init":
        f, g, hp = obj.hessp_factory(coef)
        _cache_put(key, coef, hp)
        return f * ws, g * ws
    if op == "hessp":
        hp = _cache_get(key, coef)
        if hp is None:
            hp = obj.hessp_factory(coef)[2]
            _cache_put(key, coef, hp)
        return hp(arg) * ws
    if op == "score_gram":
        from skloss.linear_model._inference import _score_gram

        return _score_gram(obj, coef)
    if op == "hessian_score_gram":  # (the covariance's two pieces at the optimum, one pass)
        from skloss.linear_model._inference import _score_gram

        H = _cache_get(key, coef)
        return (H() if H is not None else obj.hessian(coef)) * ws, _score_gram(obj, coef)
    if op == "call":
        fn, extra = arg
        return fn(obj, coef, extra)
    raise ValueError(f"unknown block operation {op!r}")


def _raw_block(Xb, offb, coef, fit_intercept, n_outputs, dtype):
    p = Xb.shape[1]
    if n_outputs == 1:
        raw = np.asarray(Xb @ coef[:p].astype(Xb.dtype, copy=False), dtype=np.float64)
        if fit_intercept:
            raw = raw + coef[p]
    else:
        W = coef[: n_outputs * p].reshape(n_outputs, p)
        raw = np.asarray(Xb @ W.T.astype(Xb.dtype, copy=False), dtype=np.float64)
        if fit_intercept:
            raw = raw + coef[n_outputs * p:]
    if offb is not None:
        raw = raw + (offb if raw.ndim == 1 else offb[:, None])
    return raw.astype(dtype, copy=False)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, tuple):
        return tuple(_add(x, y) for x, y in zip(a, b))
    return a + b


# ----------------------------------------------------------------- client side
def _gradient_block(yb, rawb, loss):
    return np.asarray(loss.gradient(np.asarray(yb).reshape(rawb.shape[0]), rawb), dtype=np.float64)


class _LazyLoss:
    """The loss, with ``gradient`` of dask arrays computed block-wise and lazily (a
    reduction of it then runs on the workers; e.g. the solvers' gradient scale)."""

    def __init__(self, loss):
        self._loss = loss

    def __getattr__(self, name):
        return getattr(self._loss, name)

    def gradient(self, y_true, raw_prediction, sample_weight=None):
        import dask.array as da

        if sample_weight is not None or not hasattr(raw_prediction, "map_blocks"):
            return self._loss.gradient(y_true, raw_prediction, sample_weight)
        if raw_prediction.ndim == 1:
            return da.map_blocks(_gradient_block, y_true, raw_prediction, self._loss, dtype=np.float64)
        return da.map_blocks(_gradient_block, y_true[:, None], raw_prediction, self._loss, dtype=np.float64)


class DaskLinearObjective:
    """The objective of :class:`~skloss.linear_model._objective.LinearObjective`
    on dask arrays, evaluated block-wise on the cluster.

    Parameters
    ----------
    loss : Loss
    X : dask array of shape (n_samples, n_features), float32 or float64
        One chunk along the columns; row chunks shared with ``y``,
        ``sample_weight`` and ``offset``.
    y, sample_weight, offset : dask arrays of shape (n_samples,) or None
    fit_intercept, n_outputs, l2_reg, l1_reg
        As for ``LinearObjective``.
    persist : bool, default=True
        Persist the arrays on the cluster (once) so every evaluation reads them
        from the workers' memory.
    targets : tuple ``(labels, weights, fn, args)`` or None
        Where ``y`` and ``sample_weight`` are maps of other (persisted) arrays, e.g.
        class indices and class weights from the raw labels: every block task
        reads ``labels`` and ``weights`` (None: none) and forms its targets and
        weights as ``fn(labels_block, weights_block, *args)``, so the maps are
        never materialised on the cluster (a persisted map costs a pass of its own
        before the first evaluation); ``y`` and ``sample_weight`` stay lazy for
        the rest (shape questions, a small problem's rows fetched to the client).
    """

    sparse = False
    # (what quiet_blas asks: no parallel numba pass runs on the client)
    _fused = False
    _n_chunks = 1

    def __init__(self, loss, X, y, sample_weight=None, *, fit_intercept=True, n_outputs=1,
                 l2_reg=0.0, l1_reg=0.0, offset=None, persist=True, weight_sum=None, column_sq=None,
                 targets=None):
        import dask

        self.loss = loss
        self._lossfn = _LazyLoss(loss)
        self.dtype = np.dtype(X.dtype)
        self.fit_intercept = bool(fit_intercept)
        self.n_outputs = int(n_outputs)
        self.l2_reg = float(l2_reg)
        self.l1_reg = float(l1_reg)
        y = y.astype(self.dtype) if y.dtype != self.dtype else y
        if sample_weight is not None and sample_weight.dtype != self.dtype:
            sample_weight = sample_weight.astype(self.dtype)
        if offset is not None and offset.dtype != self.dtype:
            offset = offset.astype(self.dtype)
        if persist:
            X, y, sample_weight, offset = dask.persist(X, y, sample_weight, offset)
        self.X, self.y, self.sample_weight, self.offset = X, y, sample_weight, offset
        self.n_samples, self.n_features = (int(s) for s in X.shape)
        y_parts, sw_parts = y, sample_weight
        if targets is not None:
            y_parts, sw_parts = targets[:2]
        self._parts = [
            X.to_delayed().ravel().tolist(),
            y_parts.to_delayed().ravel().tolist(),
            [None] * X.numblocks[0] if sw_parts is None else sw_parts.to_delayed().ravel().tolist(),
            [None] * X.numblocks[0] if offset is None else offset.to_delayed().ravel().tolist(),
        ]
        if sample_weight is None:
            self.weight_sum = float(self.n_samples)
        elif weight_sum is not None:
            self.weight_sum = float(weight_sum)
        else:
            self.weight_sum = float(dask.compute(sample_weight.sum(dtype=np.float64))[0])
        self._column_rms = None
        if column_sq is not None:  # (weighted column sums of squares, from the data checks' pass)
            with np.errstate(over="ignore", invalid="ignore"):
                self._column_rms = np.sqrt(np.asarray(column_sq, dtype=np.float64) / max(self.weight_sum, 1e-300))
        self._token = uuid.uuid4().hex
        self._spec = (loss, self.fit_intercept, self.n_outputs, None if targets is None else tuple(targets[2:]))
        self.n_evaluations = 0
        self.n_round_trips = 0
        # Round trips saved on the client: the summed data Hessian and score Gram of
        # the last point they were reduced at (a second request at that point, e.g.
        # the inference's at the optimum, is free; see also _IN_PASS_MAX)
        self._hess_sum = None  # (coef bytes, summed data Hessian)
        self._gram_sum = None  # (coef bytes, summed score Gram)
        # a block reduction ``(fn, extra)`` the fit wants at the optimum (the
        # log-likelihood, the covariance's pieces): reduced in every Newton pass with
        # the Hessian, so the pass that certifies convergence also carries it
        self.also = None
        self._also_sum = None  # (coef bytes, its summed value)
        self._last_point = None  # (the last point a Newton pass was at)

    # --------------------------------------------------------------- layout
    n_coef = LinearObjective.n_coef  # (the layout and penalty helpers are the in-memory ones)
    split = LinearObjective.split
    pack = LinearObjective.pack
    penalised_mask = LinearObjective.penalised_mask
    l2_value = LinearObjective.l2_value
    l1_value = LinearObjective.l1_value
    value = LinearObjective.value
    total_value = LinearObjective.total_value

    @property
    def chunks(self):
        return self.X.chunks[0]

    @property
    def hessian_in_pass(self):
        """Whether every Newton pass reduces the full Hessian too (the Newton solver
        then uses full Hessians at every iterate: see ``_IN_PASS_MAX``)."""
        return self.n_coef <= _IN_PASS_MAX

    def _near_end(self, c):
        """Whether the step from the last Newton point to ``c`` moved the raw prediction
        by at most 1e-3 (its RMS change as for uncorrelated columns, in the link's
        units: scale-free):
        Newton's steps shrink quadratically, so the pass that certifies convergence
        follows such a step; earlier passes skip the ``also`` reduction (a miss costs
        one more pass for the inference, never a wrong answer)."""
        last = self._last_point
        if last is None or last.shape != c.shape:
            return False
        step = np.abs(c - last)
        W, b = self.split(step)
        W = np.atleast_2d(np.asarray(W, dtype=np.float64))
        moved = 0.0
        if W.size:
            if self._column_rms is None:  # (the column scales unknown: no guess)
                return False
            rms = np.asarray(self._column_rms, dtype=np.float64)[:W.shape[1]]
            moved = float(np.max(np.sqrt((W * W) @ (rms * rms))))
        if self.fit_intercept:
            moved += float(np.max(np.abs(b)))
        return moved <= 1e-3

    def also_value(self, coef):
        """The summed ``also`` reduction at ``coef`` if a pass there carried it, else None."""
        c = np.ascontiguousarray(coef, dtype=np.float64)
        if self._also_sum is not None and self._also_sum[0] == c.tobytes():
            return self._also_sum[1]
        return None

    # ------------------------------------------------------------ map-reduce
    def map_blocks_reduce(self, op, coef, arg=None, combine=None):
        """Run block operation ``op`` at ``coef`` on every row block (on the
        workers) and return the sum of the blocks' results (or their reduction by
        ``combine(a, b)``; blocks without weight are skipped)."""
        import dask
        from dask import delayed

        coef = np.ascontiguousarray(coef, dtype=np.float64)
        run = delayed(_run_block, pure=False)
        xb, yb, sb, ob = self._parts
        tasks = [run(self._spec, (self._token, i), op, coef, arg, xb[i], yb[i], sb[i], ob[i])
                 for i in range(len(xb))]
        results = dask.compute(*tasks)
        self.n_round_trips += 1
        total = None
        for r in results:
            if combine is None:
                total = _add(total, r)
            elif r is not None:
                total = r if total is None else combine(total, r)
        if total is None:
            raise ValueError("Every block of the dask array has zero total sample weight.")
        return total

    def _penalise_grad(self, g, coef):
        if self.l2_reg:
            k = self.n_features * self.n_outputs
            g[:k] += self.l2_reg * np.asarray(coef[:k], dtype=np.float64)
        return g

    def _penalise_hess(self, H):
        if self.l2_reg:
            d = np.arange(self.n_features * self.n_outputs)
            H[d, d] += self.l2_reg
        return H

    # ------------------------------------------------------------ values
    def data_value(self, coef):
        """The weighted mean loss (no penalty)."""
        self.n_evaluations += 1
        return float(self.map_blocks_reduce("value", coef)) / self.weight_sum

    def value_grad(self, coef):
        """Smooth objective (mean loss + L2) and its gradient."""
        self.n_evaluations += 1
        f, g = self.map_blocks_reduce("value_grad", coef)
        scale = 1.0 / self.weight_sum
        return float(f) * scale + self.l2_value(coef), self._penalise_grad(g * scale, coef)

    def value_grad_hessian(self, coef):
        """``(value, grad, H)`` with ``H()`` the Hessian at ``coef``: the workers keep
        the per-sample curvature of this pass, so ``H()`` is one Gram product per block
        (a round trip only when the solver asks for it; held on the client after); up to
        ``_IN_PASS_MAX`` coefficients the Hessian is reduced in this pass."""
        self.n_evaluations += 1
        c = np.array(coef, dtype=np.float64)
        if self.hessian_in_pass:  # (the Hessian, and the fit's `also` near the end, in the same pass)
            also = self.also if self.also is not None and self._near_end(c) else None
            self._last_point = c
            got = self.map_blocks_reduce("vg_hessian", c, also)
            f, g, H = got[:3]
            self._hess_sum = (c.tobytes(), np.asarray(H, dtype=np.float64))
            if also is not None:
                self._also_sum = (c.tobytes(), got[3])
        else:
            f, g = self.map_blocks_reduce("vgh", c)
        scale = 1.0 / self.weight_sum
        return (float(f) * scale + self.l2_value(coef), self._penalise_grad(g * scale, coef),
                lambda: self.hessian(c))

    def _data_hessian_sum(self, coef):
        c = np.ascontiguousarray(coef, dtype=np.float64)
        key = c.tobytes()
        if self._hess_sum is not None and self._hess_sum[0] == key:
            return self._hess_sum[1].copy()
        H = np.asarray(self.map_blocks_reduce("hessian", c), dtype=np.float64)
        self._hess_sum = (key, H)
        return H.copy()

    def hessian(self, coef):
        """Full Hessian of the smooth objective (n_coef x n_coef)."""
        return self._penalise_hess(self._data_hessian_sum(coef) / self.weight_sum)

    def data_hessian(self, coef):
        """Hessian of the summed weighted loss (no penalty): the observed information."""
        return self._data_hessian_sum(coef)

    def prefetch_inference(self, coef, score_gram=False):
        """Reduce, in one pass, the covariance's pieces at ``coef`` that are not
        held yet: the data Hessian and (``score_gram=True``, for a sandwich) the
        score Gram; later ``data_hessian`` / ``score_gram`` calls at ``coef`` are free."""
        c = np.ascontiguousarray(coef, dtype=np.float64)
        key = c.tobytes()
        have_h = self._hess_sum is not None and self._hess_sum[0] == key
        have_b = self._gram_sum is not None and self._gram_sum[0] == key
        if score_gram and not have_b:
            if have_h:
                self._gram_sum = (key, np.asarray(self.map_blocks_reduce("score_gram", c), dtype=np.float64))
            else:
                H, B = self.map_blocks_reduce("hessian_score_gram", c)
                self._hess_sum = (key, np.asarray(H, dtype=np.float64))
                self._gram_sum = (key, np.asarray(B, dtype=np.float64))
        elif not have_h:
            self._data_hessian_sum(c)

    def hessp_factory(self, coef):
        """``(value, grad, hessp)``.  Up to 1500 coefficients the Hessian itself is
        reduced in the same pass (every product is then local); beyond, each
        product is one round trip using the curvature the workers kept."""
        self.n_evaluations += 1
        scale = 1.0 / self.weight_sum
        l2, k = self.l2_reg, self.n_features * self.n_outputs
        if self.n_coef <= _DENSE_HESSP_MAX:
            c = np.ascontiguousarray(coef, dtype=np.float64)
            f, g, H = self.map_blocks_reduce("vg_hessian", c)
            self._hess_sum = (c.tobytes(), np.asarray(H, dtype=np.float64))
            H = self._penalise_hess(np.asarray(H, dtype=np.float64) * scale)

            def hessp(v):
                return H @ np.asarray(v, dtype=np.float64)

            hessp.diagonal = np.diag(H).copy()
        else:
            f, g = self.map_blocks_reduce("hessp_init", coef)
            c = np.array(coef, dtype=np.float64)

            def hessp(v):
                v = np.ascontiguousarray(v, dtype=np.float64)
                out = np.asarray(self.map_blocks_reduce("hessp", c, v), dtype=np.float64) * scale
                if l2:
                    out[:k] += l2 * v[:k]
                return out

        return float(f) * scale + self.l2_value(coef), self._penalise_grad(g * scale, coef), hessp

    def column_rms(self):
        """Weighted root-mean-square of every column of ``X`` (the solvers' units),
        reduced block-wise; computed once."""
        if self._column_rms is None:
            total = np.asarray(self.block_sum(_block_column_squares, np.zeros(self.n_coef)), dtype=np.float64)
            with np.errstate(over="ignore", invalid="ignore"):
                self._column_rms = np.sqrt(total / max(self.weight_sum, 1e-300))
        return self._column_rms

    def score_gram(self, coef):
        """``B = sum_i s_i g_i g_i^T`` over the per-sample gradients of the packed
        coefficients (the meat of the sandwich covariance), reduced block-wise."""
        c = np.ascontiguousarray(coef, dtype=np.float64)
        if self._gram_sum is not None and self._gram_sum[0] == c.tobytes():
            return self._gram_sum[1].copy()
        B = np.asarray(self.map_blocks_reduce("score_gram", c), dtype=np.float64)
        self._gram_sum = (c.tobytes(), B)
        return B.copy()

    def scores(self, coef):
        raise NotImplementedError(
            "The per-sample scores of a dask fit stay on the workers (an n_samples x n_coef "
            "matrix); use score_gram(coef) for the sandwich covariance.")

    def block_sum(self, fn, coef, extra=None):
        """``sum over blocks of fn(block_objective, coef, extra)`` (``fn`` a picklable
        module-level function returning a number or an array)."""
        return self.map_blocks_reduce("call", coef, (fn, extra))

    def block_reduce(self, fn, coef, extra=None, combine=np.minimum):
        """``combine`` (default: element-wise minimum) over the blocks of
        ``fn(block_objective, coef, extra)``, in one round trip; ``fn`` returns
        None for a block with nothing to report."""
        return self.map_blocks_reduce("call", coef, (fn, extra), combine=combine)

    # ----------------------------------------------------------- predictions
    def raw_prediction(self, coef):
        """``X @ w + b (+ offset)`` as a lazy dask array, shape (n,) or (n, K)."""
        import dask.array as da

        coef = np.asarray(coef, dtype=np.float64)
        X, off = self.X, self.offset
        if self.n_outputs == 1:
            chunks, drop = (X.chunks[0],), 1
        else:
            chunks, drop = (X.chunks[0], (self.n_outputs,)), None
        kwargs = dict(coef=coef, fit_intercept=self.fit_intercept, n_outputs=self.n_outputs,
                      out_dtype=self.dtype)
        if off is None:
            return da.map_blocks(_raw_no_offset, X, chunks=chunks, drop_axis=drop, dtype=self.dtype, **kwargs)
        return da.map_blocks(_raw_with_offset, X, off[:, None], chunks=chunks, drop_axis=drop,
                             dtype=self.dtype, **kwargs)

    # ------------------------------------------------------------ subsample
    def subsample(self, m):
        """The same objective on evenly strided rows, held in memory on the client:
        about ``m`` rows, capped by ``subsample_cap`` (the first
        request fetches the capped subsample; smaller ones are strided from it).

        The cap is a choice for a cluster: a round trip costs more than rows, so
        the Newton solver's presolve, which asks for an eighth of the rows, runs
        on the client without a round trip on fewer rows (its start is a little
        less accurate; the gradient and, with ``hessian_in_pass``, the Hessian are
        always the exact full ones, so the optimum is unchanged), and the client
        holds far less than the data."""
        import dask

        cached = getattr(self, "_sub", None)
        if cached is not None and cached[0] == m:
            return cached[1]
        cap = subsample_cap(self.n_samples, self.n_features, self.dtype)
        target = min(m, cap)
        big = getattr(self, "_big_sub", None)
        if big is None:
            # the first request fetches the capped subsample; every later one is
            # strided from it in memory (no round trip, no second copy)
            rows = subsample_rows(self.n_samples, self.n_features, self.dtype)
            parts = [self.X[rows], self.y[rows],
                     None if self.sample_weight is None else self.sample_weight[rows],
                     None if self.offset is None else self.offset[rows]]
            big = self.adopt_subsample(*dask.compute(*parts))
        sub = big.subsample(target) if 2 * target <= big.n_samples else big
        if sub.weight_sum <= 0:
            sub = self
        self._sub = (m, sub)
        return sub

    def adopt_subsample(self, Xs, ys, ss=None, os_=None):
        """Hold the rows ``subsample_rows(...)`` of the data (fetched by the caller,
        e.g. in the pass of the data checks) as the capped subsample: the later
        ``subsample`` requests are then served without a round trip."""
        big = LinearObjective(self.loss, np.ascontiguousarray(Xs, dtype=self.dtype), np.asarray(ys, dtype=self.dtype),
                              None if ss is None else np.asarray(ss, dtype=self.dtype),
                              offset=None if os_ is None else np.asarray(os_, dtype=self.dtype),
                              fit_intercept=self.fit_intercept, n_outputs=self.n_outputs,
                              l2_reg=self.l2_reg, l1_reg=self.l1_reg)
        self._big_sub = big
        self._sub = None
        return big

    # ------------------------------------------------------------ clean-up
    def close(self):
        """Drop the curvature the workers keep for this objective (and its subsamples)."""
        sub = getattr(self, "_sub", None)
        if sub is not None and isinstance(sub[1], DaskLinearObjective) and sub[1] is not self:
            sub[1].close()
        try:
            from distributed import default_client

            client = default_client()
        except (ImportError, ValueError):
            client = None
        if client is not None:
            try:
                client.run(_clear_cache_async, self._token, wait=False)  # (no round trip waited for)
                return
            except Exception:  # (a closing cluster: the workers' memory goes with it)
                return
        clear_cache(self._token)


async def _clear_cache_async(token):
    # (a coroutine: what Client.run(..., wait=False) runs, fire-and-forget)
    return clear_cache(token)


def subsample_cap(n, p, dtype):
    """Rows of the capped subsample: a sixteenth of the data and at most 32 MB.  With
    full Hessians in every pass (``hessian_in_pass``) it gives the start, whose error
    (of the order of ``1 / sqrt(rows)``) decides whether Newton's quadratic rate
    meets the tolerance after two steps or three (measured at 1,000,000 x 26:
    optimality 1.4e-4 then 2.9e-8 from 33,000 rows, one step short of 1e-8)."""
    row_bytes = (int(p) + 3) * np.dtype(dtype).itemsize
    return max(1000, min(1 << 25, int(n) * row_bytes // 16) // row_bytes)


def subsample_rows(n, p, dtype):
    """The evenly strided rows (a slice) of the capped subsample."""
    return slice(0, int(n), max(1, int(n) // subsample_cap(n, p, dtype)))


def subsample_wanted(n, n_coef):
    """Whether the solvers will ask for a subsample (the rule of their problem scale)."""
    return int(n) > 4 * max(10000, 20 * int(n_coef))


def _block_column_squares(obj, coef, extra):
    X = np.asarray(obj.X, dtype=np.float64)
    X2 = X * X
    return X2.sum(axis=0) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64) @ X2


def _raw_no_offset(Xb, coef, fit_intercept, n_outputs, out_dtype):
    return _raw_block(Xb, None, coef, fit_intercept, n_outputs, out_dtype)


def _raw_with_offset(Xb, offb, coef, fit_intercept, n_outputs, out_dtype):
    return _raw_block(Xb, np.asarray(offb, dtype=np.float64).ravel(), coef, fit_intercept, n_outputs,
                      out_dtype)
