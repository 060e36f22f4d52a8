"""The linear-model objective: any loss composed with ``X @ coef + intercept``.

.. math::

    F(w, b) = \\frac{\\sum_i s_i\\,\\ell(y_i, x_i^\\top w + b + o_i)}{\\sum_i s_i}
              + \\alpha \\Big(\\rho \\|w\\|_1 + \\frac{1 - \\rho}{2} \\|w\\|_2^2\\Big)

with sample weights ``s``, offsets ``o`` (zero unless given), ``alpha`` the penalty
strength and ``rho = l1_ratio``.  The intercept is never penalised.

:class:`LinearObjective` knows nothing of which loss it holds: it asks the loss for
per-sample losses, gradients and Hessians of the raw prediction (the loss protocol)
and turns them into the value, gradient, Hessian-vector products and Hessian of
the coefficients.  The smooth part (data term + L2) is what it evaluates; the L1
term is handled by the solvers (:meth:`l1_value` gives its value).

Coefficient layout
------------------
Single output (regression, binary classification): ``coef = [w (p), b]`` (``b``
only with ``fit_intercept``).  K outputs (multinomial, one-vs-rest): ``coef =
[W.ravel() (K*p, class-major as ``coef_`` of shape (K, p)), b (K)]``.

Dense ``X`` is read with BLAS matrix-vector products in row blocks, so a block of
rows is read from memory once per gradient evaluation (raw prediction, loss
kernel and gradient accumulation while the block is in cache).  A loss that
declares a fused linear pass (:meth:`~skloss.losses.Loss.fused_linear_kernel`:
the log loss, dense, CSR and softmax; the log-link GLM deviances, dense) is
evaluated by that numba kernel instead (one read of ``X`` per evaluation: row dot
product, loss, gradient accumulation and the Hessian weights; rows split over
threads for large problems; for K classes the K row scores, the softmax and the K
gradient rows in the same single read), and the Hessian is built with BLAS
``syrk`` (two calls for the softmax).  The objective never asks which loss it
holds: the kernel's name selects its calling convention in ``_FUSED_CALLS``.  A
subclass that overrides the loss's evaluation gets no fused kernel, hence the
generic path.  float32 ``X`` is never copied to float64: products are done in
float32 and the results accumulated in float64.
"""

import importlib

import numpy as np
import scipy.sparse as sp

from ._solver_common import (GRAM_UPDATE_SHARE, SMALL_BLAS_COEF, SOFTMAX_TILE_PAIRS,
                             SOFTMAX_ZERO_SUM_CLASSES)
from ._lstsq import triu_pairs

__all__ = ["LinearObjective"]

# rows per block of the fused dense pass (about 2 MB of float64 at p = 100)
_BLOCK_BYTES = 1 << 21
# a pass of fewer entries (n * p) runs on one thread (a wake-up costs more)
_PARALLEL_WORK = 2_000_000
# |raw| below which exp(raw) neither overflows nor underflows to zero in a sum of
# scores (exp(-200) ~ 1e-87): the softmax needs no shift by its row maximum
_EXP_SAFE = 200.0
# CSR fused passes pay above this many stored entries (one read of X instead of
# SciPy's two products; below, the threads' start-up costs more than it saves)
_CSR_FUSED_NNZ = 2_000_000
# CSR Hessian products in one read of X (numba) from this many stored entries (below,
# SciPy's two products: no kernel to load for a small fit)
_CSR_PRODUCT_NNZ = 500_000


def _call_binary_dense(obj, kernel, wc, b, grad, h, diag):
    return kernel(obj.X, obj.y, obj._sw_arg, wc, float(b), float(obj._params[0]), obj._n_chunks, grad, h)


def _call_binary_csr(obj, kernel, wc, b, grad, h, diag):
    X = obj.X
    return kernel(X.indptr, X.indices, X.data, obj.y, obj._sw_arg, wc, float(b), float(obj._params[0]),
                  obj._n_chunks, grad, h, np.empty(0) if diag is None else diag)


def _call_glm_dense(obj, kernel, wc, b, grad, h, diag):
    off = np.empty(0, dtype=obj.dtype) if obj.offset is None else obj.offset
    return kernel(obj.X, obj.y, obj._sw_arg, off, wc, float(b), obj._params, obj._n_chunks, grad, h)


# fused kernel name -> (module, calling convention, takes offsets); a kernel is
# added here once, whatever losses declare it
_FUSED_CALLS = {
    "log_loss_linear": ("_binary", _call_binary_dense, False),
    "log_loss_linear_csr": ("_binary", _call_binary_csr, False),
    "poisson_linear": ("_regression", _call_glm_dense, True),
    "gamma_linear": ("_regression", _call_glm_dense, True),
    "tweedie_linear": ("_regression", _call_glm_dense, True),
    "multinomial_logloss_value_grad": ("_linear", None, False),
}
# kernels whose value, gradient and curvature the NumPy formulas of
# ``_NumpyLogLoss`` reproduce: used instead on small problems (no numba import)
_NUMPY_TWINS = ("log_loss_linear", "multinomial_logloss_value_grad")


def _at(last, coef):
    """Whether a kept ``(point, ...)`` of an earlier pass is at ``coef`` (exactly)."""
    return last is not None and last[0].shape == np.shape(coef) and np.array_equal(last[0], coef)


class LinearObjective:
    """Value, gradient and curvature of the linear-model objective.

    Parameters
    ----------
    loss : Loss
        A loss object (already validated).
    X : ndarray or CSR matrix of shape (n_samples, n_features), float32 or float64
    y : ndarray of shape (n_samples,)
        Targets in the loss's convention (class indices for classification).
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool
    n_outputs : int
        1 for regression and binary forms, K for multi-class forms.
    l2_reg : float
        Coefficient of ``||w||^2 / 2`` (``alpha * (1 - l1_ratio)``).
    l1_reg : float
        Coefficient of ``||w||_1`` (``alpha * l1_ratio``), only reported by
        :meth:`l1_value` / :meth:`total_value`.
    offset : ndarray of shape (n_samples,) or None
        Added to the raw prediction (log exposure for log-link losses).
    """

    def __init__(self, loss, X, y, sample_weight=None, *, fit_intercept=True,
                 n_outputs=1, l2_reg=0.0, l1_reg=0.0, offset=None):
        self.loss = loss
        self.X = X
        self.sparse = sp.issparse(X)
        self.dtype = X.dtype
        self.n_samples, self.n_features = X.shape
        self.fit_intercept = bool(fit_intercept)
        self.n_outputs = int(n_outputs)
        self.l2_reg = float(l2_reg)
        self.l1_reg = float(l1_reg)
        self.y = np.ascontiguousarray(y, dtype=self.dtype)
        if sample_weight is None:
            self.sample_weight = None
            self.weight_sum = float(self.n_samples)
        else:
            self.sample_weight = np.ascontiguousarray(sample_weight, dtype=self.dtype)
            self.weight_sum = float(np.sum(sample_weight, dtype=np.float64))
        self.offset = None if offset is None else np.ascontiguousarray(offset, dtype=self.dtype)
        if self.sparse:
            self._blocks = [(0, self.n_samples)]
        else:
            row_bytes = max(1, self.n_features * X.dtype.itemsize)
            step = max(256, _BLOCK_BYTES // row_bytes)
            self._blocks = [(s, min(s + step, self.n_samples)) for s in range(0, self.n_samples, step)]
        # the number of raw evaluations (for verbose output and benchmarks)
        self.n_evaluations = 0
        self._lossfn = loss
        self._fused = False
        self._fused_name = None
        # parallel chunks only where a pass is long enough to pay the thread wake-up
        work = X.nnz if self.sparse else self.n_samples * max(self.n_features, 1)
        self._n_chunks = 1 if work < _PARALLEL_WORK else int(min(32, max(2, self.n_samples // 4096)))
        self._choose_fused(loss, X, work)
        self._sw_arg = np.empty(0, dtype=self.dtype) if self.sample_weight is None else self.sample_weight
        self._last_hessp = None  # (CSR log loss: the last point's value, gradient and hessp)
        self._last_curv = None  # (one output: the last pass's point and per-sample curvature)
        self._last_grad = None  # (one output, generic pass: its point and per-sample gradients)
        self._last_vg = None  # (one output, generic pass: its point, value and gradient)
        self._curv_in_pass = self._pass_keeps_curvature(loss)
        self._twin_bin_last = None

    # (read from the loss function in use at each call, never stored: whoever swaps
    # ``_lossfn`` -- check_loss compares a fused and a generic evaluation that way --
    # gets the evaluation of the function it put there)
    @property
    def _twin_softmax(self):
        """The softmax cross-entropy's NumPy twin: value and gradient in ``_softmax_twin_value_grad``."""
        return (self.n_outputs > 1 and not self.sparse and self.offset is None
                and isinstance(self._lossfn, _NumpyLogLoss))

    @property
    def _twin_binary(self):
        """The binary log loss's NumPy twin: value, gradient, per-sample gradients and
        curvature in one evaluation, ``_twin_binary_pass``, kept for its point (dense
        or CSR: a Newton-CG step from the point a line search accepted then needs no
        new pass for its Hessian products)."""
        return (self.n_outputs == 1 and self.offset is None
                and isinstance(self._lossfn, _NumpyLogLoss))

    def _pass_keeps_curvature(self, loss):
        """Whether the generic one-output pass also computes the per-sample curvature
        (the same kernel call, which gives the loss, gradient and Hessian together), so
        that a Hessian (or Newton-CG's products) at that point needs no second pass:
        where every Hessian is formed on all rows (``_solver_select.hessian_rows``) or
        ``X`` is sparse, the loss has a Hessian, and its
        ``loss_gradient``, ``hessian`` and ``loss_gradient_hessian`` are evaluated by one
        class (a subclass overriding one of them keeps its own evaluations)."""
        from ._solver_select import hessian_rows
        from skloss.losses._base import _owner

        if self.n_outputs != 1 or self._fused or isinstance(self._lossfn, _NumpyLogLoss):
            return False
        if not getattr(loss, "has_hessian", False) or self.n_samples == 0:
            return False
        cls = type(loss)
        if len({_owner(cls, m) for m in ("loss_gradient", "hessian", "loss_gradient_hessian", "_prepare")}) != 1:
            return False
        # (sparse X: Newton-CG applies the Hessian of all rows at every iterate, from the
        # point the line search accepted: its products need that curvature, not a new pass)
        return self.sparse or hessian_rows(self.n_samples, self.n_coef) >= self.n_samples

    def _loss_grad_hess(self, start, stop, raw):
        """The loss's per-sample loss, gradient and curvature on rows ``start:stop``
        (the kernel on the objective's own arrays: the fit validated the targets and
        parameters, and ``_prepare``'s checks would repeat them at every pass)."""
        sw = self._sw(start, stop)
        sw = self._sw_arg[:0] if sw is None else sw
        return self._lossfn._evaluate(self.y[start:stop], np.ascontiguousarray(raw), sw, True, True, True)

    def _choose_fused(self, loss, X, work):
        """Take the loss's fused one-read pass where it pays (the loss declares it;
        a subclass overriding the evaluation declares none)."""
        if self.n_samples == 0:
            return
        multiclass = self.n_outputs > 1
        if (loss.fused_linear_kernel(sparse=False, multiclass=multiclass) in _NUMPY_TWINS
                and work * self.n_outputs <= _PARALLEL_WORK):
            # small problems: NumPy formulas (no numba import, no kernel load)
            self._lossfn = _NumpyLogLoss(loss)
            return
        name = loss.fused_linear_kernel(sparse=self.sparse, multiclass=multiclass)
        if name not in _FUSED_CALLS:
            return
        takes_offset = _FUSED_CALLS[name][2]
        if self.offset is not None and not takes_offset:
            return
        if self.sparse:
            # CSR: one read of X instead of SciPy's two products, which pays only on many
            # stored entries; a chunk per thread, each with its own accumulator of length p
            if X.format != "csr" or X.nnz <= _CSR_FUSED_NNZ:
                return
            from skloss._kernels._threads import n_threads  # (does not start numba's thread pool)

            self._n_chunks = int(max(2, n_threads()))
        elif not X.flags.c_contiguous:
            return
        elif takes_offset and work <= _PARALLEL_WORK:
            return  # (the GLM passes pay on long passes only; see benchmarks/bench_linear.py)
        self._fused = True
        self._fused_name = name
        self._params = np.ascontiguousarray(loss._kernel_params(), dtype=np.float64)

    # ------------------------------------------------------------- layout
    @property
    def n_coef(self):
        return (self.n_features + self.fit_intercept) * self.n_outputs

    def split(self, coef):
        """Split a packed vector into ``(w, b)``: ``w`` of shape (p,) or (K, p),
        ``b`` a float or an array (K,) (0 without intercept)."""
        p, k = self.n_features, self.n_outputs
        if k == 1:
            w = coef[:p]
            b = coef[p] if self.fit_intercept else 0.0
            return w, b
        w = coef[: k * p].reshape(k, p)
        b = coef[k * p:] if self.fit_intercept else np.zeros(k)
        return w, b

    def pack(self, w, b):
        """Inverse of :meth:`split`."""
        w = np.asarray(w, dtype=np.float64)
        parts = [w.ravel()]
        if self.fit_intercept:
            parts.append(np.atleast_1d(np.asarray(b, dtype=np.float64)).ravel())
        return np.concatenate(parts)

    def penalised_mask(self):
        """Boolean mask of the packed entries that carry the penalty."""
        mask = np.ones(self.n_coef, dtype=bool)
        if self.fit_intercept:
            mask[self.n_features * self.n_outputs:] = False
        return mask

    # --------------------------------------------------------- raw scores
    def _raw_block(self, Xb, w, b, start, stop):
        if self.n_outputs == 1:
            raw = Xb @ w.astype(self.dtype, copy=False)
        else:
            raw = Xb @ w.T.astype(self.dtype, copy=False)
        raw = np.asarray(raw)
        if self.fit_intercept:
            raw += np.asarray(b, dtype=self.dtype)
        if self.offset is not None:
            if raw.ndim == 1:
                raw += self.offset[start:stop]
            else:
                raw += self.offset[start:stop, None]
        return raw

    def raw_prediction(self, coef):
        """``X @ w + b (+ offset)``, shape (n,) or (n, K)."""
        w, b = self.split(coef)
        return self._raw_block(self.X, w, b, 0, self.n_samples)

    def _rows(self, start, stop):
        if start == 0 and stop == self.n_samples:
            return self.X
        return self.X[start:stop]

    def _sw(self, start, stop):
        return None if self.sample_weight is None else self.sample_weight[start:stop]

    # ------------------------------------------------------------ values
    def l2_value(self, coef):
        w, _ = self.split(coef)
        return 0.5 * self.l2_reg * float(np.dot(np.ravel(w), np.ravel(w)))

    def l1_value(self, coef):
        w, _ = self.split(coef)
        return self.l1_reg * float(np.abs(w).sum())

    def data_value(self, coef):
        """The weighted mean loss (no penalty)."""
        if self._fused:
            f, _, _ = self._fused_pass(coef, want_h=False)
            return f - self.l2_value(coef)
        w, b = self.split(coef)
        total = 0.0
        for start, stop in self._blocks:
            raw = self._raw_block(self._rows(start, stop), w, b, start, stop)
            total += float(np.sum(self._lossfn.loss(self.y[start:stop], raw, self._sw(start, stop)), dtype=np.float64))
        self.n_evaluations += 1
        return total / self.weight_sum

    def value(self, coef):
        """Smooth part of the objective: mean loss + L2 term."""
        return self.data_value(coef) + self.l2_value(coef)

    def total_value(self, coef):
        """The full objective, L1 term included."""
        return self.value(coef) + self.l1_value(coef)

    def value_grad(self, coef):
        """Smooth objective and its gradient with respect to the packed coefficients."""
        if self._fused:
            f, g, _ = self._fused_pass(coef, want_h=False)
            return f, g
        if self._twin_softmax:
            return self._softmax_twin_value_grad(coef)
        if self._twin_binary:
            # (PERF) the same single evaluation as value_grad_hessian: a Hessian or the
            # per-sample gradients at this point (scale, proximal Newton) need no new pass
            f, g, _ = self._twin_binary_pass(coef)
            return f, g
        curv = self._curv_in_pass
        if curv and _at(self._last_vg, coef):
            return self._last_vg[1], self._last_vg[2].copy()  # (the last pass was at this point)
        w, b = self.split(coef)
        p, k = self.n_features, self.n_outputs
        total = 0.0
        gw = np.zeros((k, p) if k > 1 else p, dtype=np.float64)
        gb = np.zeros(k, dtype=np.float64)
        if curv:
            h_all, g_all = np.empty(self.n_samples), np.empty(self.n_samples)
        for start, stop in self._blocks:
            Xb = self._rows(start, stop)
            raw = self._raw_block(Xb, w, b, start, stop)
            if curv:
                lo, g, hh = self._loss_grad_hess(start, stop, raw)
                h_all[start:stop] = hh
                g_all[start:stop] = g
            else:
                lo, g = self._lossfn.loss_gradient(self.y[start:stop], raw, self._sw(start, stop))
            total += float(np.sum(lo, dtype=np.float64))
            if k == 1:
                gw += Xb.T @ g
                gb[0] += float(np.sum(g, dtype=np.float64))
            else:
                gw += np.asarray(Xb.T @ g).T
                gb += np.sum(g, axis=0, dtype=np.float64)
        self.n_evaluations += 1
        if curv:
            # (the curvature and the per-sample gradients at this point: a Hessian or a
            # score Gram matrix here needs no second pass)
            point = np.array(coef, dtype=np.float64)
            self._last_curv, self._last_grad = (point, h_all), (point, g_all)
        scale = 1.0 / self.weight_sum
        gw *= scale
        gb *= scale
        wf = np.asarray(w, dtype=np.float64)
        value = total * scale + 0.5 * self.l2_reg * float(np.dot(wf.ravel(), wf.ravel()))
        if self.l2_reg:
            gw += self.l2_reg * wf
        grad = self.pack(gw, gb) if self.fit_intercept else gw.ravel().copy()
        if curv:
            self._last_vg = (point, value, grad.copy())
        return value, grad

    def _softmax_twin_value_grad(self, coef):
        """The softmax cross-entropy's value and gradient in NumPy (small dense
        problems): raw scores from ``[X, 1] @ [W, b].T`` in one product, and the
        gradient ``sum_i s_i (p_i - t_i) x~_i^T`` as ``E^T (s / z) X~`` minus the
        targets' part ``T^T (s X~)``, which does not depend on the coefficients
        (``E = exp(raw - max)``, ``z`` its row sums, ``t_i`` the smoothed
        one-hot targets): no pass over the ``n x K`` matrices beyond the
        exponential and its sums."""
        last = getattr(self, "_twin_last", None)
        if _at(last, coef):
            return last[1], last[2].copy()  # (the last pass was at this point)
        const = getattr(self, "_twin_const", None)
        if const is None:
            const = self._twin_const = self._softmax_twin_constants()
        Xt, target_part, yi, row_norm = const
        p, k = self.n_features, self.n_outputs
        w, b = self.split(coef)
        Wb = np.empty((k, p + 1))
        Wb[:, :p] = w
        Wb[:, p] = b if self.fit_intercept else 0.0
        raw = Xt @ Wb.T.astype(self.dtype, copy=False)
        if raw.dtype != np.float64:
            raw = raw.astype(np.float64)
        eps = self._lossfn.eps
        flat = getattr(self, "_twin_flat", None)  # (the flat positions of the targets' scores)
        if flat is None:
            flat = self._twin_flat = np.arange(raw.shape[0]) * k + yi
        per = raw.take(flat)  # (+ log z and the shift below: the per-sample loss)
        per *= -(1.0 - eps)
        if eps:
            per -= (eps / k) * raw.sum(axis=1)
        # |raw_ik| <= |x~_i| |(w_k, b_k)|: below _EXP_SAFE no exponential over- or
        # underflows, and the shift by the row maximum (two passes) is not needed
        if row_norm * float(np.sqrt(np.max(np.einsum("ij,ij->i", Wb, Wb)))) > _EXP_SAFE:
            m = raw.max(axis=1)
            per += m
            np.subtract(raw, m[:, None], out=raw)
        np.exp(raw, out=raw)
        z = raw.sum(axis=1)
        per += np.log(z)
        sw = self.sample_weight
        a = 1.0 / z if sw is None else np.asarray(sw, dtype=np.float64) / z
        total = float(per.sum()) if sw is None else float(per @ np.asarray(sw, dtype=np.float64))
        if k < p + 1:
            # (few classes: the n x K exponentials scaled, not the n x (p + 1) rows)
            G = np.asarray(Xt.T @ (raw * a[:, None]).astype(Xt.dtype, copy=False), dtype=np.float64).T
        else:
            # (as (X~^T diag(a) E)^T: BLAS takes the n-long inner dimension in this order
            # about twice as fast as E^T (a X~) on 442 x 11 rows and 214 classes)
            G = np.asarray(((Xt * a[:, None].astype(Xt.dtype, copy=False)).T @ raw).T, dtype=np.float64)
        G -= target_part
        self.n_evaluations += 1
        scale = 1.0 / self.weight_sum
        gw = G[:, :p] * scale
        wf = np.asarray(w, dtype=np.float64)
        value = total * scale + 0.5 * self.l2_reg * float(np.dot(wf.ravel(), wf.ravel()))
        if self.l2_reg:
            gw += self.l2_reg * wf
        grad = np.concatenate([gw.ravel(), G[:, p] * scale]) if self.fit_intercept else gw.ravel()
        # (the exponentials and their row sums: a Newton-CG step from this point needs
        # the probabilities, without a second pass)
        self._twin_last = (np.array(coef, dtype=np.float64), value, grad.copy(), raw, z)
        return value, grad

    def _softmax_twin_constants(self):
        """``[X, 1]``, the targets' part of the gradient, the class indices and the
        largest norm of a row of ``[X, 1]``."""
        n, p, k = self.n_samples, self.n_features, self.n_outputs
        Xt = np.empty((n, p + 1), dtype=self.dtype)
        Xt[:, :p] = self.X
        Xt[:, p] = 1.0
        yi = np.asarray(self.y).astype(np.intp)
        sX = Xt.astype(np.float64)
        if self.sample_weight is not None:
            sX *= np.asarray(self.sample_weight, dtype=np.float64)[:, None]
        eps = self._lossfn.eps
        onehot = np.zeros((n, k))
        onehot[np.arange(n), yi] = 1.0 - eps
        part = onehot.T @ sX
        if eps:
            part += (eps / k) * sX.sum(axis=0)
        Xf = Xt.astype(np.float64)
        row_norm = float(np.sqrt(np.max(np.einsum("ij,ij->i", Xf, Xf)))) if n else 0.0
        return Xt, part, yi, row_norm

    def _fused_pass(self, coef, want_h, diag=None):
        """Value, gradient (and Hessian weights) in one pass over X: the log loss
        (dense or CSR; CSR with ``diag`` (length p): the diagonal of the data
        Hessian too) and the log-link GLM deviances (dense)."""
        w, b = self.split(coef)
        p, k = self.n_features, self.n_outputs
        scale = 1.0 / self.weight_sum
        self.n_evaluations += 1
        module, call, _ = _FUSED_CALLS[self._fused_name]
        kernel = getattr(importlib.import_module(f"skloss._kernels.{module}"), self._fused_name)
        if k == 1:
            grad = np.empty(p + 1)
            h = np.empty(self.n_samples) if want_h else np.empty(0)
            wc = np.ascontiguousarray(w, dtype=np.float64)
            total = call(self, kernel, wc, b, grad, h, diag)
            grad *= scale
            if want_h:
                self._last_curv = (np.array(coef, dtype=np.float64), h)
            wf = np.asarray(w, dtype=np.float64)
            value = total * scale + 0.5 * self.l2_reg * float(wf @ wf)
            if self.l2_reg:
                grad[:p] += self.l2_reg * wf
            if not self.fit_intercept:
                grad = grad[:p]
            return value, grad, (h if want_h else None)
        W = np.ascontiguousarray(w, dtype=np.float64)
        bb = np.ascontiguousarray(b if self.fit_intercept else np.zeros(k), dtype=np.float64)
        G = np.empty((k, p + 1))
        labels = getattr(self, "_labels64", None)
        if labels is None:  # (float64 labels and weights, made once: see the kernel's wrapper)
            labels = self._labels64 = (np.asarray(self.y, dtype=np.float64),
                                       np.asarray(self._sw_arg, dtype=np.float64))
        # one read of X (BLAS's tall-skinny products thread poorly)
        total = kernel(self.X, *labels, W, bb, float(self._params[0]), max(1, self._n_chunks), G)
        gw = G[:, :p] * scale
        value = total * scale + 0.5 * self.l2_reg * float(np.vdot(W, W))
        if self.l2_reg:
            gw += self.l2_reg * W
        if self.fit_intercept:
            gb = G[:, p] * scale
            return value, np.concatenate([gw.ravel(), gb]), None
        return value, gw.ravel(), None

    def subsample(self, m):
        """The same objective on about ``m`` evenly strided rows (for a cheap
        Hessian: mean-normalised, so it estimates the full one); cached."""
        cached = getattr(self, "_sub", None)
        if cached is not None and cached[0] == m:
            return cached[1]
        stride = max(1, self.n_samples // m)
        rows = slice(0, self.n_samples, stride)
        X = self.X[rows]
        X = X.tocsr() if self.sparse else np.ascontiguousarray(X)
        sub = LinearObjective(
            self.loss, X, self.y[rows], None if self.sample_weight is None else self.sample_weight[rows],
            fit_intercept=self.fit_intercept, n_outputs=self.n_outputs, l2_reg=self.l2_reg,
            l1_reg=self.l1_reg, offset=None if self.offset is None else self.offset[rows])
        if sub.weight_sum <= 0:
            sub = self
        self._sub = (m, sub)
        return sub

    def value_grad_hessian(self, coef):
        """``(value, grad, H)``: the smooth objective, its gradient and a callable
        ``H()`` returning its Hessian at ``coef`` (computed on demand, reusing the
        per-sample curvature of the same pass where possible)."""
        if self._fused and self.sparse:
            # (the pass also yields the curvature, which hessp_factory keeps for a
            # Newton-CG step from this point)
            f, g, _ = self.hessp_factory(coef)
            return f, g, (lambda: self.hessian(coef))
        if self._fused and self.n_outputs == 1:
            f, g, h = self._fused_pass(coef, want_h=True)
            return f, g, (lambda: self._gram(h, self.l2_reg))
        if self._twin_binary:
            # (the curvature comes with the same NumPy terms: no second pass for the Hessian)
            f, g, h = self._twin_binary_pass(coef)
            return f, g, (lambda: self._gram(h, self.l2_reg))
        f, g = self.value_grad(coef)
        return f, g, (lambda: self.hessian(coef))

    def _twin_binary_pass(self, coef):
        """Value, gradient and the per-sample curvature of the binary log loss's
        NumPy twin in one evaluation (what ``value_grad`` and ``hessian`` give); the
        last one is kept (its point, value, gradient and curvature), and its per-sample
        (unweighted) gradients as ``_last_grad`` (the scale and the score Gram)."""
        last = self._twin_bin_last
        if _at(last, coef):
            return last[1], last[2].copy(), last[3]  # (the last pass was at this point)
        w, b = self.split(coef)
        p = self.n_features
        raw = self._raw_block(self.X, w, b, 0, self.n_samples)
        sw = self.sample_weight
        lo, gr0, hh, _ = self._lossfn._terms(self.y, raw, sw)
        dt = _NumpyLogLoss._dtype(raw)
        lo, gr = _NumpyLogLoss._weigh(lo, sw, dt), _NumpyLogLoss._weigh(gr0, sw, dt)
        h = np.asarray(_NumpyLogLoss._weigh(hh, sw, dt), dtype=np.float64)
        point = np.array(coef, dtype=np.float64)
        self._last_curv = (point, h)
        self._last_grad = (point, gr0)
        self.n_evaluations += 1
        scale = 1.0 / self.weight_sum
        grad = np.empty(p + 1)
        grad[:p] = self.X.T @ gr
        grad[p] = float(gr.sum(dtype=np.float64))  # (the method: np.sum's wrapper costs more here)
        grad *= scale
        wf = np.asarray(w, dtype=np.float64)
        value = float(lo.sum(dtype=np.float64)) * scale + 0.5 * self.l2_reg * float(np.dot(wf, wf))
        if self.l2_reg:
            grad[:p] += self.l2_reg * wf
        grad = grad if self.fit_intercept else grad[:p].copy()
        self._twin_bin_last = (point, value, grad.copy(), h)
        return value, grad, h

    def _gram(self, h, l2_reg):
        """``X~^T diag(h) X~ / sum s + l2`` for one output (``X~`` = [X, 1]): the
        tiled :func:`~skloss.linear_model._lstsq.weighted_gram` in ``X``'s dtype
        when ``h >= 0`` and ``X`` is dense, otherwise one product with ``h X``."""
        from ._lstsq import weighted_gram

        p, fi = self.n_features, self.fit_intercept
        m = p + fi
        # (the log loss's curvature changes on every row between points: no update of the
        # last Gram matrix, and none kept)
        update = not self._twin_binary
        H = self._gram_update(h) if update else None
        if H is None and not self.sparse:
            H = weighted_gram(self.X, h, fi, dtype=self.dtype)
        if H is None:
            hX = self.X.multiply(h[:, None]).tocsr() if self.sparse else self.X * h[:, None].astype(self.dtype)
            H = np.empty((m, m))
            H[:p, :p] = _dense(self.X.T @ hX)
            if fi:
                col = np.asarray(hX.sum(axis=0), dtype=np.float64).ravel()
                H[:p, p] = col
                H[p, :p] = col
                H[p, p] = float(np.sum(h, dtype=np.float64))
        if update and not self.sparse:
            self._last_gram = (np.array(h, dtype=np.float64), H.copy())
        H *= 1.0 / self.weight_sum
        H[np.arange(p), np.arange(p)] += l2_reg
        return H

    def _gram_update(self, h):
        """``X~^T diag(h) X~`` (dense ``X``) as the last one plus the rows whose weight
        changed, ``X~_D^T diag(h_D - h'_D) X~_D``, when few did (a piecewise-quadratic
        loss -- squared hinge, Huber -- where a Newton step moves a few samples across a
        kink: the other rows' curvature is the same constant); else None."""
        last = getattr(self, "_last_gram", None)
        if self.sparse or last is None or last[0].shape != np.shape(h):
            return None
        changed = np.flatnonzero(h != last[0])
        if changed.size > GRAM_UPDATE_SHARE * h.shape[0]:
            return None
        p, fi = self.n_features, self.fit_intercept
        Xd = np.empty((changed.size, p + fi))
        Xd[:, :p] = self.X[changed]
        if fi:
            Xd[:, p] = 1.0
        dh = np.asarray(h[changed], dtype=np.float64) - last[0][changed]
        H = last[1] + Xd.T @ (Xd * dh[:, None])
        return 0.5 * (H + H.T)

    def _softmax_gram(self, raw, l2_reg, P=None):
        """Hessian of the softmax cross-entropy: ``sum_i s_i (diag(p_i) - p_i p_i^T)
        (x) x~_i x~_i^T``, the block-diagonal ``X~^T diag(s p_k) X~`` (one product
        per class) minus ``Z^T Z`` with ``Z_i = sqrt(s_i) p_i (x) x~_i`` (one BLAS
        ``syrk``), formed class by class (``x~ = [x, 1]`` contiguous per class) and
        put in the packed order at the end."""
        from scipy.linalg import blas

        n, p, K, fi = self.n_samples, self.n_features, self.n_outputs, self.fit_intercept
        q = p + fi
        if P is None:
            P = np.array(raw, dtype=np.float64)
            P -= P.max(axis=1, keepdims=True)
            np.exp(P, out=P)
            P /= P.sum(axis=1, keepdims=True)
        sw = None if self.sample_weight is None else np.asarray(self.sample_weight, dtype=np.float64)
        sq = np.ones(n) if sw is None else np.sqrt(sw)
        const = getattr(self, "_twin_const", None)
        if const is not None:
            Xt = const[0] if fi else const[0][:, :p]
        else:
            Xt = np.empty((n, q), dtype=self.dtype)
            Xt[:, :p] = self.X
            if fi:
                Xt[:, p] = 1.0
        if n and np.all(P == P[0]):
            # every row has the same probabilities (all weights zero, e.g. the start of a
            # fit): the Hessian is the Kronecker product (diag(p) - p p^T) (x) X~^T S X~,
            # one Gram product of X~ instead of K (K + 1) / 2
            Xs = Xt if sw is None else Xt * sw[:, None].astype(Xt.dtype, copy=False)
            G = np.asarray(Xt.T @ Xs, dtype=np.float64)
            pi = P[0]
            return self._packed_class_blocks(np.kron(np.diag(pi) - np.outer(pi, pi), 0.5 * (G + G.T)), l2_reg)
        pairs = K * (K + 1) // 2
        # (PERF) few classes: one tiled weighted Gram per block at any number of rows, about
        # (K - 1) / (K + 2) of the syrk form's flops and nothing of size n x K q formed (5
        # classes, 25 features, one thread: 20,000 rows 8.6 against 18.5 ms, 200,000 rows
        # 103 against 295 ms); the product with R on few rows otherwise
        if self._tiled_softmax_blocks() or (n * q * (q + 1) // 2 <= _PARALLEL_WORK
                                            and n * pairs <= _PARALLEL_WORK):
            return self._softmax_gram_products(P, sw, l2_reg)
        syrk = blas.dsyrk if self.dtype == np.float64 else blas.ssyrk
        Z = np.empty((n, K * q), dtype=self.dtype)
        for k in range(K):
            a = (sq * P[:, k]).astype(self.dtype, copy=False)
            np.multiply(Xt, a[:, None], out=Z[:, k * q:(k + 1) * q])
        # the diagonal blocks sum_i s_i p_ik x~_i x~_i^T, stacked: Z^T (sqrt(s) X~)
        D = np.asarray(Z.T @ (Xt if sw is None else Xt * sq[:, None].astype(self.dtype)), dtype=np.float64)
        C = np.asarray(syrk(1.0, Z.T, trans=0, lower=0), dtype=np.float64)
        H = np.negative(np.triu(C))
        H += np.triu(H, 1).T
        for k in range(K):
            Dk = D[k * q:(k + 1) * q]
            H[k * q:(k + 1) * q, k * q:(k + 1) * q] += 0.5 * (Dk + Dk.T)  # (exactly symmetric)
        return self._packed_class_blocks(H, l2_reg)

    def _packed_class_blocks(self, Hb, l2_reg):
        """A softmax Hessian summed over the rows, in class blocks (class k: its
        features, then its intercept), as the mean in the packed order (all weights,
        then the intercepts) with the L2 term added."""
        K, p, fi = self.n_outputs, self.n_features, self.fit_intercept
        q = p + fi
        order = (np.arange(K)[:, None] * q + np.arange(p)[None, :]).ravel()
        if fi:
            order = np.concatenate([order, np.arange(K) * q + p])
        H = Hb[np.ix_(order, order)]
        H *= 1.0 / self.weight_sum
        d = np.arange(K * p)
        H[d, d] += l2_reg
        return H

    def _softmax_gram_products(self, P, sw, l2_reg):
        """The softmax Hessian on few rows: every block (k, l) is the weighted Gram
        ``X~^T diag(w_kl) X~``, ``w_kl = s (delta_kl p_k - p_k p_l)``.  With few
        classes (``SOFTMAX_TILE_PAIRS``) each block is one tiled weighted Gram
        (:func:`~skloss.linear_model._lstsq.weighted_gram`: ``X`` read in cache-sized
        tiles, nothing of size ``n`` formed); otherwise all ``K (K + 1) / 2`` of them
        are ``W^T R`` with ``R_i`` the ``q (q + 1) / 2`` distinct products ``x~_ia
        x~_ib`` of row ``i`` (fixed by ``X``: formed once per objective) -- half the
        flops of the syrk form, in one BLAS call."""
        n, p, K, fi = self.n_samples, self.n_features, self.n_outputs, self.fit_intercept
        index = getattr(self, "_kr_index", None)
        if index is None:
            q = p + fi
            ia, ib = triu_pairs(q)
            ck, cl = triu_pairs(K)

            def pos(k, a):  # packed position of class k's entry a (p: the intercept)
                return np.where(a < p, k * p + a, K * p + k)

            kk, aa = ck[:, None], ia[None, :]
            ll, bb = cl[:, None], ib[None, :]
            rows = np.concatenate([pos(kk, aa), pos(kk, bb), pos(ll, aa), pos(ll, bb)], axis=None)
            cols = np.concatenate([pos(ll, bb), pos(ll, aa), pos(kk, bb), pos(kk, aa)], axis=None)
            # (flat positions in H, made once: no 2-D fancy index at every Hessian)
            index = self._kr_index = (ck, cl, rows * (K * (p + fi)) + cols, ia, ib)
        ck, cl, flat, ia, ib = index
        B = None
        if self._tiled_softmax_blocks():
            B = self._softmax_blocks_zero_sum(P, sw, None, ck, cl, tiles=(ia, ib))
        if B is not None:
            B = B.ravel()
        elif K <= SOFTMAX_ZERO_SUM_CLASSES:
            B = self._softmax_blocks_zero_sum(P, sw, self._kr_rows(), ck, cl).ravel()
        else:
            W = P[:, ck] * P[:, cl]
            np.negative(W, out=W)
            W[:, ck == cl] += P
            if sw is not None:
                W *= sw[:, None]
            B = (W.T @ self._kr_rows()).ravel()
        m = K * (p + fi)
        H = np.empty((m, m))
        H.put(flat, np.tile(B, 4))
        H *= 1.0 / self.weight_sum
        d = np.arange(K * p)
        H[d, d] += l2_reg
        return H

    def _tiled_softmax_blocks(self):
        """Whether the softmax Hessian's blocks are tiled weighted Grams of ``X`` (few
        classes, ``SOFTMAX_TILE_PAIRS``; a dense C-ordered ``X``, which the tiles read;
        at most ``SMALL_BLAS_COEF`` coefficients, where the solvers and the covariance
        run BLAS on one thread: the tiles' small products would not use more)."""
        K = self.n_outputs
        return (K <= SOFTMAX_ZERO_SUM_CLASSES and (K - 1) * K // 2 <= SOFTMAX_TILE_PAIRS
                and self.n_coef <= SMALL_BLAS_COEF
                and isinstance(self.X, np.ndarray) and self.X.flags.c_contiguous)

    def _kr_rows(self):
        """``R`` of :meth:`_softmax_gram_products`: the ``q (q + 1) / 2`` distinct
        products of each row of ``X~`` (columns ``a <= b``, row-major), once per objective."""
        R = getattr(self, "_kr_cache", None)
        if R is None:
            n, p, fi = self.n_samples, self.n_features, self.fit_intercept
            q = p + fi
            Xt = np.empty((n, q), order="F")
            Xt[:, :p] = self.X
            if fi:
                Xt[:, p] = 1.0
            R = np.empty((n, q * (q + 1) // 2), order="F")
            off = 0
            for a in range(q):
                np.multiply(Xt[:, a:a + 1], Xt[:, a:], out=R[:, off:off + q - a])
                off += q - a
            self._kr_cache = R
        return R

    def _tile_blocks(self, W, diagonal, ia, ib):
        """The packed upper triangles of ``X~^T diag(W[:, m]) X~`` for every column
        ``m`` of ``W`` (non-negative where ``diagonal``, non-positive elsewhere: the
        softmax curvature), one tiled weighted Gram each; None if a sign disagrees."""
        from ._lstsq import weighted_gram_columns

        # (float64 products, as the product with R: a float32 fit's covariance keeps them)
        return weighted_gram_columns(self.X, W, ~np.asarray(diagonal, dtype=bool), self.fit_intercept, ia, ib)

    def _softmax_blocks_zero_sum(self, P, sw, R, ck, cl, tiles=None):
        """The blocks ``W^T R`` of :meth:`_softmax_gram_products` (pairs ``ck <= cl``)
        from the ``(K - 1) K / 2`` pairs without one class ``j``: each row of the
        softmax curvature sums to zero (``sum_l (delta_kl p_k - p_k p_l) = 0``), so
        block ``(k, j) = -sum_{l != j} (k, l)`` and ``(j, j) = -sum_{k != j} (k, j)``
        -- ``2 / (K + 1)`` of the product saved (with ``tiles = (ia, ib)``, the
        packed indices, each block is a tiled weighted Gram instead: None if one
        fails).  ``j`` is the class of the largest
        probability mass: its blocks are the largest, and the rounding of the sums
        (``eps`` times the blocks summed) stays small beside them."""
        n, K = P.shape
        j = int(np.argmax(P.sum(axis=0) if sw is None else sw @ P))
        keep = np.delete(np.arange(K), j)
        sk, sl = triu_pairs(K - 1)
        W = P[:, keep[sk]] * P[:, keep[sl]]
        np.negative(W, out=W)
        W[:, sk == sl] += P[:, keep]
        if sw is not None:
            W *= sw[:, None]
        if tiles is None:
            Bs = W.T @ R  # (the blocks among the other classes)
        else:
            Bs = self._tile_blocks(W, sk == sl, *tiles)
            if Bs is None:
                return None
        full = np.zeros((K, K), dtype=np.intp)  # pair index of (k, l), both orders
        full[ck, cl] = np.arange(ck.size)
        full[cl, ck] = np.arange(ck.size)
        sub = np.zeros((K - 1, K - 1), dtype=np.intp)
        sub[sk, sl] = np.arange(sk.size)
        sub[sl, sk] = np.arange(sk.size)
        B = np.empty((ck.size, Bs.shape[1]))
        B[full[keep[sk], keep[sl]]] = Bs
        side = Bs[sub].sum(axis=1)  # (row k of the other classes' blocks, summed over l)
        np.negative(side, out=side)
        B[full[keep, j]] = side
        B[full[j, j]] = -side.sum(axis=0)
        return B

    # ---------------------------------------------------------- curvature
    def hessian_diagonals(self, coef):
        """Per-sample loss gradient and Hessian (diagonal) at ``coef``, weighted.

        Returns ``(raw, grad, hess)``.
        """
        raw = self.raw_prediction(coef)
        g, h = self._lossfn.gradient_hessian(self.y, raw, self.sample_weight)
        return raw, g, h

    def hessp_factory(self, coef):
        """Return ``(value, grad, hessp)`` where ``hessp(v)`` is the Hessian of the
        smooth objective at ``coef`` times ``v``."""
        X, k, scale = self.X, self.n_outputs, 1.0 / self.weight_sum
        y, sw = self.y, self.sample_weight
        if self._fused and self.sparse:
            from skloss._kernels import _linear as kern

            last = self._last_hessp  # (the same point as the last pass: no new pass)
            if _at(last, coef):
                return last[1:]
            diag = np.empty(self.n_features)
            value, grad, h = self._fused_pass(coef, want_h=True, diag=diag)
            out = np.empty(self.n_features + 1)

            def hessp(v):
                vw, vb = self.split(v)
                vw = np.ascontiguousarray(vw, dtype=np.float64)
                kern.csr_weighted_gram_product(X.indptr, X.indices, X.data, h, vw,
                                               float(vb) if self.fit_intercept else 0.0, self._n_chunks, out)
                out_w = out[:-1] * scale + self.l2_reg * vw
                return np.append(out_w, out[-1] * scale) if self.fit_intercept else out_w

            # the Hessian's diagonal (a Jacobi preconditioner for conjugate gradients)
            diag = diag * scale + self.l2_reg
            hessp.diagonal = np.append(diag, float(np.sum(h)) * scale) if self.fit_intercept else diag
            self._last_hessp = (np.array(coef, dtype=np.float64), value, grad, hessp)
            return value, grad, hessp
        if (k > 1 and not self.sparse and self.offset is None
                and isinstance(self._lossfn, _NumpyLogLoss)):
            return self._twin_softmax_hessp(coef)
        if self._fused and k == 1:
            # value, gradient and Hessian weights in the one fused pass
            value, grad, h = self._fused_pass(coef, want_h=True)
            raw = None
        elif self._twin_binary:
            # (the NumPy twin's pass keeps its curvature: none at the point the line
            # search just evaluated)
            value, grad, h = self._twin_binary_pass(coef)
            raw = None
        else:
            value, grad = self.value_grad(coef)
            last = self._last_curv
            # (a generic pass that keeps its curvature, at this point: no new pass)
            raw = None if k == 1 and _at(last, coef) else self.raw_prediction(coef)
            if raw is None:
                h = last[1]
        if k == 1:
            if raw is not None:
                h = self._lossfn.hessian(y, raw, sw)
            if self.sparse and X.format == "csr" and X.nnz >= _CSR_PRODUCT_NNZ:
                self.n_evaluations += 1
                return value, grad, self._csr_hessp(h)

            def hessp(v):
                vw, vb = self.split(v)
                d = X @ vw.astype(self.dtype, copy=False)
                if self.fit_intercept:
                    d = d + vb
                hd = h * d
                out_w = (X.T @ hd) * scale + self.l2_reg * vw
                if self.fit_intercept:
                    return np.append(out_w, float(np.sum(hd, dtype=np.float64)) * scale)
                return np.asarray(out_w, dtype=np.float64)
        else:
            loss = self._lossfn

            def hessp(v):
                vw, vb = self.split(v)
                d = np.asarray(X @ vw.T.astype(self.dtype, copy=False))
                if self.fit_intercept:
                    d = d + vb
                hd = loss.hessian_product(y, raw, d, sw)
                out_w = np.asarray(X.T @ hd).T * scale + self.l2_reg * vw
                out_b = np.sum(hd, axis=0, dtype=np.float64) * scale
                return self.pack(out_w, out_b) if self.fit_intercept else out_w.ravel()

        self.n_evaluations += 1
        return value, grad, hessp

    def _csr_hessp(self, h):
        """Hessian products of one output on CSR ``X`` from the per-sample curvature
        ``h``: ``X^T (h (X v + vb))`` in one read of ``X`` (numba,
        :func:`~skloss._kernels._linear.csr_weighted_gram_product` on one chunk, the
        index arrays read as unsigned: no negative-index fix-up per entry) instead of
        SciPy's two products."""
        from skloss._kernels import _linear as kern

        X, scale, l2, fi = self.X, 1.0 / self.weight_sum, self.l2_reg, self.fit_intercept
        indptr, indices = _unsigned(X.indptr), _unsigned(X.indices)
        hf = np.ascontiguousarray(h, dtype=np.float64)
        out = np.empty(self.n_features + 1)

        def hessp(v):
            vw, vb = self.split(v)
            vw = np.ascontiguousarray(vw, dtype=np.float64)
            kern.csr_weighted_gram_product(indptr, indices, X.data, hf, vw, float(vb) if fi else 0.0, 1, out)
            out_w = out[:-1] * scale + l2 * vw
            return np.append(out_w, out[-1] * scale) if fi else out_w

        return hessp

    def _twin_softmax_hessp(self, coef):
        """``(value, grad, hessp)`` of the softmax cross-entropy's NumPy twin: the
        probabilities ``P`` come from the value-and-gradient pass at ``coef`` (kept,
        not recomputed), and a product with ``V = [Vw, vb]`` is
        ``(s P o (D - rowsum(P o D)))^T X~`` with ``D = X~ V^T``: two BLAS products
        and two element-wise passes over ``n x K``.  The Hessian's diagonal (the
        Jacobi preconditioner of conjugate gradients) is ``(s P o (1 - P))^T (X~ o X~)``."""
        last = getattr(self, "_twin_last", None)
        if not _at(last, coef):
            self._softmax_twin_value_grad(coef)
            last = self._twin_last
        _, value, grad, E, z = last
        p, k, fi = self.n_features, self.n_outputs, self.fit_intercept
        q = p + fi
        Xt = self._twin_const[0]
        if not fi:
            Xt = Xt[:, :p]
        dt = Xt.dtype
        P = E / z[:, None]
        sw = self.sample_weight
        Pw = P if sw is None else P * np.asarray(sw, dtype=np.float64)[:, None]
        scale = 1.0 / self.weight_sum
        l2 = self.l2_reg
        Vb = np.empty((k, q))

        def hessp(v):
            Vb[:, :p] = v[: k * p].reshape(k, p)
            if fi:
                Vb[:, p] = v[k * p:]
            D = Xt @ Vb.T.astype(dt, copy=False)
            if D.dtype != np.float64:
                D = D.astype(np.float64)
            s = np.einsum("ij,ij->i", P, D)
            D -= s[:, None]
            D *= Pw
            out = np.asarray((Xt.T @ D.astype(dt, copy=False)).T, dtype=np.float64)
            out *= scale
            if l2:
                out[:, :p] += l2 * Vb[:, :p]
            return np.concatenate([out[:, :p].ravel(), out[:, p]]) if fi else out.ravel()

        dg = np.asarray((Pw - Pw * P).T.astype(dt, copy=False) @ (Xt * Xt), dtype=np.float64) * scale
        dg[:, :p] += l2
        hessp.diagonal = np.concatenate([dg[:, :p].ravel(), dg[:, p]]) if fi else dg.ravel()
        return value, grad, hessp

    def data_hessian(self, coef):
        """Hessian of the *summed* weighted loss ``sum_i s_i loss_i`` (no penalty),
        the observed information of a likelihood loss."""
        return self._hessian(coef, 0.0) * self.weight_sum

    def scores(self, coef):
        """Per-sample (unweighted) gradients of ``loss_i`` with respect to the packed
        coefficients, and the sample weights: ``(S, s)`` with ``S`` of shape
        (n_samples, n_coef) (dense) and ``s`` of shape (n_samples,)."""
        raw = self.raw_prediction(coef)
        g = np.asarray(self._lossfn.gradient(self.y, raw), dtype=np.float64)
        X = self.X.toarray() if self.sparse else np.asarray(self.X, dtype=np.float64)
        n, k = self.n_samples, self.n_outputs
        if k == 1:
            g = g[:, None]
        parts = [g[:, [j]] * X for j in range(k)]
        if self.fit_intercept:
            parts.append(g)
        S = np.hstack(parts)
        s = np.ones(n) if self.sample_weight is None else np.asarray(self.sample_weight, dtype=np.float64)
        return S, s

    def hessian(self, coef):
        """Full Hessian of the smooth objective (dense ndarray, n_coef x n_coef)."""
        return self._hessian(coef, self.l2_reg)

    def _hessian(self, coef, l2_reg):
        X, k, p = self.X, self.n_outputs, self.n_features
        y, sw = self.y, self.sample_weight
        fi = self.fit_intercept
        scale = 1.0 / self.weight_sum
        if k == 1:
            last = getattr(self, "_last_curv", None)  # (the curvature of the last pass, at this point: no new pass)
            if _at(last, coef):
                return self._gram(last[1], l2_reg)
        if k == 1 and self._fused:
            # the Hessian weights from the fused pass the solver already compiled,
            # not from the element-wise kernel family
            return self._gram(self._fused_pass(coef, want_h=True)[2], l2_reg)
        twin = isinstance(self._lossfn, _NumpyLogLoss) and not self.sparse
        if k > 1 and twin and self.offset is None:
            last = getattr(self, "_twin_last", None)
            if _at(last, coef) and (self.sample_weight is None or not np.any(self.sample_weight < 0)):
                # (the probabilities of the last NumPy softmax pass, at this point: no new pass)
                return self._softmax_gram(None, l2_reg, P=last[3] / last[4][:, None])
        raw = self.raw_prediction(coef)
        if k == 1:
            h = np.asarray(self._lossfn.hessian(y, raw, sw), dtype=np.float64)
            return self._gram(h, l2_reg)
        # (the softmax cross-entropy, fused or in its NumPy twin on small dense data: two syrk calls)
        if ((self._fused or twin)
                and not np.any(self.sample_weight < 0 if self.sample_weight is not None else False)):
            return self._softmax_gram(raw, l2_reg)
        # K outputs: block (k, l) = X^T diag(H_i[k, l]) X
        n = raw.shape[0]
        blocks = {}
        for l in range(k):
            e = np.zeros((n, k), dtype=raw.dtype)
            e[:, l] = 1.0
            col = self._lossfn.hessian_product(y, raw, e, sw)  # H_i[:, l]
            for kk in range(k):
                blocks[kk, l] = col[:, kk]
        m = p + fi
        H = np.zeros((k * p + fi * k, k * p + fi * k))
        for kk in range(k):
            for l in range(kk, k):
                h = blocks[kk, l]
                if not np.any(h):
                    continue
                hX = X.multiply(h[:, None]).tocsr() if self.sparse else X * h[:, None]
                blk = _dense(X.T @ hX)
                H[kk * p:(kk + 1) * p, l * p:(l + 1) * p] = blk
                H[l * p:(l + 1) * p, kk * p:(kk + 1) * p] = blk.T
                if fi:
                    col = np.asarray(hX.sum(axis=0)).ravel()
                    bi, bj = k * p + kk, k * p + l
                    H[kk * p:(kk + 1) * p, bj] = col
                    H[bj, kk * p:(kk + 1) * p] = col
                    H[l * p:(l + 1) * p, bi] = col
                    H[bi, l * p:(l + 1) * p] = col
                    H[bi, bj] = H[bj, bi] = float(np.sum(h, dtype=np.float64))
        del m
        H *= scale
        idx = np.arange(k * p)
        H[idx, idx] += l2_reg
        return H


def few_rows_loss(loss, multiclass):
    """The loss to evaluate on a few rows (a check at the fit, not a pass over the
    data): its NumPy twin where it has one, so that a fit whose passes run in a
    fused kernel compiles no element-wise kernel for such a check; else the loss."""
    if loss.fused_linear_kernel(sparse=False, multiclass=multiclass) in _NUMPY_TWINS:
        return _NumpyLogLoss(loss)
    return loss


class _NumpyLogLoss:
    """The log loss (binary and softmax forms) in NumPy, for small problems: a
    first small fit in a fresh process then needs neither numba nor its cache
    (cold start as fast as scikit-learn's).  Same values as the numba kernels."""

    def __init__(self, loss):
        self._loss = loss
        self.eps = float(loss._kernel_params()[0])  # the label smoothing

    def __getattr__(self, name):
        return getattr(self._loss, name)

    def _terms(self, y, raw, sw, want_h=True):
        y = np.asarray(y, dtype=np.float64)
        r = np.asarray(raw, dtype=np.float64)
        eps = self.eps
        if r.ndim == 1:
            # (PERF) one exponential e = exp(-|r|) gives all three, stably at any |r|:
            # log(1 + exp(r)) = max(r, 0) + log1p(e), sigmoid(r) = 1 / (1 + e) or
            # e / (1 + e), curvature e / (1 + e)^2 (NumPy's logaddexp and SciPy's expit
            # take 5x longer on a few thousand rows)
            t = y * (1.0 - eps) + 0.5 * eps if eps else y
            e = np.abs(r)
            np.negative(e, out=e)
            np.exp(e, out=e)
            inv = e + 1.0
            np.reciprocal(inv, out=inv)
            loss = np.log1p(e)
            loss += np.maximum(r, 0.0)
            loss -= t * r
            p = np.where(r >= 0.0, inv, e * inv)
            h = None
            if want_h:
                h = e * inv
                h *= inv
            p -= t
            return loss, p, h, None
        # (plain NumPy log-sum-exp, in place: scipy.special.logsumexp's array-API
        # layer and the temporaries cost more than the arithmetic on small
        # problems with many classes)
        n, k = r.shape
        rows = np.arange(n)
        yi = y.astype(np.intp)
        m = r.max(axis=1)
        P = np.subtract(r, m[:, None])
        np.exp(P, out=P)
        s = P.sum(axis=1)
        P /= s[:, None]
        loss = np.log(s)
        loss += m
        loss -= (1.0 - eps) * r[rows, yi]
        if eps:
            loss -= (eps / k) * r.sum(axis=1)
        H = P * (1.0 - P) if want_h else None
        G = P.copy() if want_h else P  # (the gradient overwrites P unless it is kept)
        G[rows, yi] -= 1.0 - eps
        if eps:
            G -= eps / k
        return loss, G, H, (P if want_h else None)

    @staticmethod
    def _weigh(a, sw, dtype):
        if sw is not None:
            sw = np.asarray(sw, dtype=np.float64)
            a = a * (sw if a.ndim == 1 else sw[:, None])
        return a.astype(dtype, copy=False)

    @staticmethod
    def _dtype(raw):
        return np.float32 if np.asarray(raw).dtype == np.float32 else np.float64

    def loss(self, y_true, raw_prediction, sample_weight=None):
        return self._weigh(self._terms(y_true, raw_prediction, sample_weight, want_h=False)[0], sample_weight,
                           self._dtype(raw_prediction))

    def gradient(self, y_true, raw_prediction, sample_weight=None):
        return self._weigh(self._terms(y_true, raw_prediction, sample_weight, want_h=False)[1], sample_weight,
                           self._dtype(raw_prediction))

    def hessian(self, y_true, raw_prediction, sample_weight=None):
        return self._weigh(self._terms(y_true, raw_prediction, sample_weight)[2], sample_weight,
                           self._dtype(raw_prediction))

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        lo, g, _, _ = self._terms(y_true, raw_prediction, sample_weight, want_h=False)
        d = self._dtype(raw_prediction)
        return self._weigh(lo, sample_weight, d), self._weigh(g, sample_weight, d)

    def gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        _, g, h, _ = self._terms(y_true, raw_prediction, sample_weight)
        d = self._dtype(raw_prediction)
        return self._weigh(g, sample_weight, d), self._weigh(h, sample_weight, d)

    def hessian_product(self, y_true, raw_prediction, direction, sample_weight=None):
        _, _, h, P = self._terms(y_true, raw_prediction, sample_weight)
        d = np.asarray(direction, dtype=np.float64)
        if P is None:
            out = h * d
        else:
            out = P * (d - np.sum(P * d, axis=1, keepdims=True))
        return self._weigh(out, sample_weight, self._dtype(raw_prediction))


def _unsigned(a):
    """An index array (non-negative) viewed as unsigned integers of its width."""
    return a.view(np.uint32 if a.dtype.itemsize == 4 else np.uint64)


def _dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a, dtype=np.float64)
