"""Compiled passes of :class:`~skloss.neural_network.SGDNetClassifier` and
:class:`~skloss.neural_network.SGDNetRegressor`.

A whole epoch runs in one call: a loop over minibatches that gathers the rows of
the batch, runs the forward pass (``np.dot`` -> BLAS, then a fused bias +
activation loop), evaluates the output loss with the loss's own element-wise
kernel, back-propagates (BLAS again, fused activation derivative) and applies
the optimizer step in one fused loop over the parameters.  Nothing is allocated
per batch and Python is not called per batch.

Memory layout
-------------
* The parameters live in one flat vector ``theta`` (dtype of ``X``):
  ``[W_1, b_1, W_2, b_2, ...]`` with ``W_l`` of shape ``(n_in, n_out)``
  (C order, so ``Z_l = A_{l-1} @ W_l + b_l``).  ``grad`` and the optimizer
  state ``s1`` / ``s2`` (momentum velocity; Adam's moments) share that layout,
  so one loop updates everything.
* ``sizes`` = ``(n_features, h_1, ..., h_L, n_outputs)`` (int64).
* ``acts`` and ``deltas`` are flat work buffers holding, for every layer, a
  ``(batch_size, n_out)`` block at a fixed offset: the layer's activations (the
  raw prediction for the last layer) and the derivative of the batch objective
  with respect to the layer's pre-activation.

The loss inside the epoch
-------------------------
The loss kernel is an *argument* of the epoch driver: a :class:`KernelPointer`
to the compiled entry point of the loss's own ``cache=True`` element-wise
kernel.  numba types it by the kernel's signature alone, so one cached driver
per dtype and form (:func:`elementwise_epoch`: 1-D kernels, i.e. binary,
one-vs-rest and regression outputs; :func:`multiclass_epoch`: K-class kernels)
serves every loss, and a fit compiles the network once plus the one kernel its
loss uses.  Which kernel a loss has is read from the loss object by
:mod:`skloss.neural_network._output`; a loss without one (a
:func:`~skloss.losses.make_loss` loss, a subclass that overrides ``_evaluate``)
is trained by the per-batch drivers :func:`batch_forward` and
:func:`batch_backward_update`, with the loss evaluated in Python between them.

The disk cache of the drivers is keyed on the sources of every kernel module
(:mod:`skloss._cache`), so an edited helper recompiles them.
"""

import math

import numba.experimental.function_type  # noqa: F401 (types a KernelPointer argument)
import numpy as np
from numba import njit, types

# ----------------------------------------------------------------- code tables
ACTIVATIONS = ("identity", "relu", "tanh", "logistic", "leaky_relu")
LEAKY_RELU_SLOPE = 0.01
OPTIMIZERS = ("sgd", "adam")

# slots of the ``hyper`` array (dtype of the data)
LR, MOMENTUM, NESTEROV, ALPHA, BETA1, BETA2, EPSILON, GRAD_SCALE, LR_T, OMB1, OMB2 = range(11)
N_HYPER = 11

# status returned by the epoch drivers
OK, NON_FINITE = 0, 1


# ----------------------------------------------------------------- layer maps
@njit(inline="always")
def _w_offset(sizes, layer):
    off = 0
    for j in range(layer):
        off += sizes[j] * sizes[j + 1] + sizes[j + 1]
    return off


@njit(inline="always")
def _a_offset(sizes, layer, batch):
    off = 0
    for j in range(layer):
        off += batch * sizes[j + 1]
    return off


# ----------------------------------------------------------------- activations
@njit
def _bias_activate(Z, b, act):
    # Z <- act(Z + b), in place, one pass
    m, h = Z.shape
    if act == 1:  # relu
        for i in range(m):
            for j in range(h):
                v = Z[i, j] + b[j]
                if v > 0:
                    Z[i, j] = v
                else:
                    Z[i, j] = 0
    elif act == 2:  # tanh
        for i in range(m):
            for j in range(h):
                Z[i, j] = np.tanh(Z[i, j] + b[j])
    elif act == 3:  # logistic, without overflow warnings
        for i in range(m):
            for j in range(h):
                v = np.float64(Z[i, j] + b[j])
                if v >= 0.0:
                    Z[i, j] = 1.0 / (1.0 + math.exp(-v))
                else:
                    e = math.exp(v)
                    Z[i, j] = e / (1.0 + e)
    elif act == 4:  # leaky relu
        for i in range(m):
            for j in range(h):
                v = Z[i, j] + b[j]
                if v > 0:
                    Z[i, j] = v
                else:
                    Z[i, j] = LEAKY_RELU_SLOPE * v
    else:  # identity
        for i in range(m):
            for j in range(h):
                Z[i, j] += b[j]


@njit
def _times_derivative(A, D, act):
    # D <- D * act'(z), with act'(z) written through the activation a = act(z)
    m, h = A.shape
    if act == 1:
        for i in range(m):
            for j in range(h):
                if A[i, j] <= 0:
                    D[i, j] = 0
    elif act == 2:
        for i in range(m):
            for j in range(h):
                a = A[i, j]
                D[i, j] *= 1 - a * a
    elif act == 3:
        for i in range(m):
            for j in range(h):
                a = A[i, j]
                D[i, j] *= a * (1 - a)
    elif act == 4:
        for i in range(m):
            for j in range(h):
                if A[i, j] <= 0:
                    D[i, j] *= LEAKY_RELU_SLOPE


# ----------------------------------------------------------------- forward / backward
# A minibatch of inputs ``xb`` is the tuple ``(Xb, data, indices, indptr, sparse)``:
# dense rows in ``Xb`` (batch, n_features), or CSR rows in the other three.


@njit
def _input_times(xb, m, W, Z):
    """``Z = X_batch @ W`` for the first ``m`` rows of the batch."""
    Xb, data, indices, indptr, sparse = xb
    if not sparse:
        np.dot(Xb[:m], W, Z)
        return
    h = Z.shape[1]
    for i in range(m):
        for j in range(h):
            Z[i, j] = 0
        for k in range(indptr[i], indptr[i + 1]):
            c = indices[k]
            v = data[k]
            for j in range(h):
                Z[i, j] += v * W[c, j]


@njit
def _input_transpose_times(xb, m, D, G):
    """``G = X_batch.T @ D`` for the first ``m`` rows of the batch."""
    Xb, data, indices, indptr, sparse = xb
    if not sparse:
        np.dot(Xb[:m].T, D, G)
        return
    p, h = G.shape
    for r in range(p):
        for j in range(h):
            G[r, j] = 0
    for i in range(m):
        for k in range(indptr[i], indptr[i + 1]):
            c = indices[k]
            v = data[k]
            for j in range(h):
                G[c, j] += v * D[i, j]


@njit
def _forward(xb, m, batch, theta, sizes, act, acts):
    """Fill the activation blocks of the first ``m`` rows of the batch."""
    n_layers = sizes.shape[0] - 1
    w_off = 0
    a_off = 0
    p_off = 0
    for layer in range(n_layers):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        W = theta[w_off:w_off + n_in * n_out].reshape((n_in, n_out))
        b = theta[w_off + n_in * n_out:w_off + n_in * n_out + n_out]
        Z = acts[a_off:a_off + m * n_out].reshape((m, n_out))
        if layer == 0:
            _input_times(xb, m, W, Z)
        else:
            np.dot(acts[p_off:p_off + m * n_in].reshape((m, n_in)), W, Z)
        _bias_activate(Z, b, act if layer < n_layers - 1 else 0)
        w_off += n_in * n_out + n_out
        p_off = a_off
        a_off += batch * n_out


@njit
def _backward(xb, m, batch, theta, grad, sizes, act, acts, deltas):
    """Gradient of the batch objective (without the penalty) into ``grad``.

    The last layer's delta block must hold d objective / d raw prediction.
    """
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers - 1, -1, -1):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        w_off = _w_offset(sizes, layer)
        a_off = _a_offset(sizes, layer, batch)
        D = deltas[a_off:a_off + m * n_out].reshape((m, n_out))
        gW = grad[w_off:w_off + n_in * n_out].reshape((n_in, n_out))
        if layer == 0:
            _input_transpose_times(xb, m, D, gW)
        else:
            p_off = _a_offset(sizes, layer - 1, batch)
            A = acts[p_off:p_off + m * n_in].reshape((m, n_in))
            np.dot(A.T, D, gW)
        gb = grad[w_off + n_in * n_out:w_off + n_in * n_out + n_out]
        gb[:] = 0
        for i in range(m):
            for j in range(n_out):
                gb[j] += D[i, j]
        if layer > 0:
            W = theta[w_off:w_off + n_in * n_out].reshape((n_in, n_out))
            Dp = deltas[p_off:p_off + m * n_in].reshape((m, n_in))
            np.dot(D, W.T, Dp)
            _times_derivative(A, Dp, act)


# ----------------------------------------------------------------- optimizers
@njit
def _sgd_segment(theta, grad, vel, alpha, lr, mu, nesterov):
    # loops start at 0 on views: a variable start would keep numba's
    # negative-index wraparound in the loop and stop LLVM from vectorising it
    if nesterov:
        for j in range(theta.shape[0]):
            g = grad[j] + alpha * theta[j]
            v = mu * vel[j] - lr * g
            vel[j] = v
            theta[j] += mu * v - lr * g
    else:
        for j in range(theta.shape[0]):
            g = grad[j] + alpha * theta[j]
            v = mu * vel[j] - lr * g
            vel[j] = v
            theta[j] += v


@njit
def _adam_segment(theta, grad, m1, m2, alpha, lr_t, b1, b2, omb1, omb2, eps):
    for j in range(theta.shape[0]):
        g = grad[j] + alpha * theta[j]
        a = b1 * m1[j] + omb1 * g
        v = b2 * m2[j] + omb2 * g * g
        m1[j] = a
        m2[j] = v
        theta[j] -= lr_t * a / (np.sqrt(v) + eps)


@njit
def _update(theta, grad, s1, s2, sizes, opt, hyper, counters):
    """One optimizer step; the L2 penalty ``alpha * W`` is added to the weight
    gradients here (intercepts are not penalised).

    ``hyper`` has the dtype of ``theta``, so the fused loops run in that
    precision (float32 end to end for float32 data) and vectorise.
    """
    n_layers = sizes.shape[0] - 1
    alpha = hyper[ALPHA]
    zero = hyper[ALPHA] * 0
    if opt == 1:
        counters[0] += 1
        t = counters[0]
        b1 = np.float64(hyper[BETA1])
        b2 = np.float64(hyper[BETA2])
        # bias-corrected step size, computed in float64 and stored in the dtype
        hyper[LR_T] = np.float64(hyper[LR]) * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
    nesterov = hyper[NESTEROV] != 0
    off = 0
    for layer in range(n_layers):
        n_w = sizes[layer] * sizes[layer + 1]
        n_b = sizes[layer + 1]
        w = slice(off, off + n_w)
        b = slice(off + n_w, off + n_w + n_b)
        if opt == 1:
            _adam_segment(theta[w], grad[w], s1[w], s2[w], alpha, hyper[LR_T],
                          hyper[BETA1], hyper[BETA2], hyper[OMB1], hyper[OMB2], hyper[EPSILON])
            _adam_segment(theta[b], grad[b], s1[b], s2[b], zero, hyper[LR_T],
                          hyper[BETA1], hyper[BETA2], hyper[OMB1], hyper[OMB2], hyper[EPSILON])
        else:
            _sgd_segment(theta[w], grad[w], s1[w], alpha, hyper[LR], hyper[MOMENTUM], nesterov)
            _sgd_segment(theta[b], grad[b], s1[b], zero, hyper[LR], hyper[MOMENTUM], nesterov)
        off += n_w + n_b


# ----------------------------------------------------------------- batches
@njit
def _gather(X, Yf, q, sw, perm, start, m, xb, Yb, swb, weighted):
    # rows perm[start:start+m] of X (dense or CSR), of the flat targets Yf
    # (q per row) and of sw
    Xd, data, indices, indptr = X
    Xb, bdata, bindices, bindptr, sparse = xb
    pos = 0
    if sparse:
        bindptr[0] = 0
    for i in range(m):
        r = perm[start + i]
        if sparse:
            for k in range(indptr[r], indptr[r + 1]):
                bdata[pos] = data[k]
                bindices[pos] = indices[k]
                pos += 1
            bindptr[i + 1] = pos
        else:
            for j in range(Xd.shape[1]):
                Xb[i, j] = Xd[r, j]
        for j in range(q):
            Yb[i * q + j] = Yf[r * q + j]
        if weighted:
            swb[i] = sw[r]


@njit
def _scale(D, c):
    for i in range(D.shape[0]):
        D[i] *= c


@njit
def _batch_weight(swb, m, weighted):
    if not weighted:
        return np.float64(m)
    s = 0.0
    for i in range(m):
        s += swb[i]
    return s


# ----------------------------------------------------------------- the loss, by pointer
# The epoch drivers receive the loss kernel as a first-class function: a
# :class:`KernelPointer` to the compiled C entry point of the loss's own cached
# kernel (``skloss._kernels._binary.log_loss`` ...).  Its numba type is only the
# kernel's signature, the same for every loss of a form, so
#
# * one driver specialisation per dtype serves every loss (no per-loss epoch,
#   no table of losses compiled into the driver), and it is cached on disk;
# * a first fit compiles the network once and the one loss kernel it uses, and
#   that kernel is the very specialisation the loss object itself calls (shared
#   cache entry);
# * any loss whose kernel has the element-wise kernel signature gets the compiled
#   epoch: the table of routes is derived from the loss objects
#   (:mod:`skloss.neural_network._output`), not kept here.


def _array(dtype, ndim):
    return types.Array(dtype, ndim, "C")


def kernel_signature(dtype, multiclass):
    """numba signature of an element-wise loss kernel of ``dtype`` (float32 or
    float64): ``kernel(y, raw, sw, params, out_loss, out_grad, out_hess)`` with
    1-D ``raw`` / gradients, or 2-D ones for a K-class form."""
    t = types.float32 if np.dtype(dtype) == np.float32 else types.float64
    nd = 2 if multiclass else 1
    v = _array(t, 1)
    m = _array(t, nd)
    return types.none(v, m, v, _array(types.float64, 1), v, m, m)


class KernelPointer(types.WrapperAddressProtocol):
    """A compiled loss kernel passed to an epoch driver as a function pointer.

    ``dispatcher`` is a ``cache=True`` kernel; it is compiled (or loaded from the
    disk cache) for :func:`kernel_signature` on first use.
    """

    def __init__(self, dispatcher, dtype, multiclass):
        self.dispatcher = dispatcher
        self._sig = kernel_signature(dtype, multiclass)
        self._address = None

    def __wrapper_address__(self):
        if self._address is None:
            cres = self.dispatcher.get_compile_result(self._sig)
            self._address = cres.library.get_pointer_to_function(
                cres.fndesc.llvm_cfunc_wrapper_name)
        return self._address

    def signature(self):
        return self._sig


_POINTERS = {}


def kernel_pointer(dispatcher, dtype, multiclass):
    """The (memoised) :class:`KernelPointer` of a kernel for ``dtype``."""
    key = (dispatcher, np.dtype(dtype), multiclass)
    if key not in _POINTERS:
        _POINTERS[key] = KernelPointer(dispatcher, dtype, multiclass)
    return _POINTERS[key]


@njit
def _sum(a, m):
    s = 0.0
    for i in range(m):
        s += a[i]
    return s


@njit
def _columns(kernel, yb, q, raw, sw, params, grad, ycol, rcol, lcol, gcol):
    # K output units, each through the 1-D kernel; returns the summed loss.
    # q == K: K regression targets per row (the flat (m, K) block of yb);
    # q == 1: class indices, the one-vs-rest form sum_k loss(1[y == k], raw[:, k])
    m, k = raw.shape
    no_hess = rcol[:0]
    total = 0.0
    for c in range(k):
        if q == k:
            for i in range(m):
                ycol[i] = yb[i * k + c]
        else:
            for i in range(m):
                ycol[i] = 1 if yb[i] == c else 0
        for i in range(m):
            rcol[i] = raw[i, c]
        kernel(ycol[:m], rcol[:m], sw, params, lcol[:m], gcol[:m], no_hess)
        total += _sum(lcol, m)
        for i in range(m):
            grad[i, c] = gcol[i]
    return total


# ----------------------------------------------------------------- epochs
@njit
def _output_views(sizes, batch, m, acts, deltas):
    n_layers = sizes.shape[0] - 1
    k = sizes[n_layers]
    off = _a_offset(sizes, n_layers - 1, batch)
    return acts[off:off + m * k], deltas[off:off + m * k], k


@njit(cache=True, nogil=True)
def elementwise_epoch(X, y, sw, perm, theta, grad, s1, s2, sizes, act, opt, hyper, counters,
                      kernel, params, work):
    """One epoch of a network whose output loss is a 1-D element-wise kernel.

    ``X`` is ``(X_dense, data, indices, indptr)``: a dense array with empty CSR
    arrays, or an empty ``(0, n_features)`` array with the CSR arrays.  ``y`` is
    flat: ``n`` class indices or targets, or ``n * K`` targets (C order) of a
    K-output regressor.  One output unit: the kernel on the raw prediction;
    K units and ``n`` class indices: the one-vs-rest K-score form
    ``sum_k loss(1[y == k], raw[:, k])``; K units and ``n * K`` targets: the
    loss summed over the outputs.  ``kernel`` is a :class:`KernelPointer`.

    Returns ``(sum of weighted losses, sum of weights, samples done, status)``;
    on a non-finite minibatch loss it stops before updating and returns
    ``NON_FINITE``.
    """
    no_hess = work[5][:0]
    Xb, yb, swb, acts, deltas, lbuf, ycol, rcol, gcol, bdata, bindices, bindptr = work
    xb = (Xb, bdata, bindices, bindptr, X[3].shape[0] > 0)
    n = perm.shape[0]
    q = y.shape[0] // n if n > 0 else 1
    batch = lbuf.shape[0]
    weighted = sw.shape[0] > 0
    total = 0.0
    wsum = 0.0
    for start in range(0, n, batch):
        m = min(batch, n - start)
        _gather(X, y, q, sw, perm, start, m, xb, yb, swb, weighted)
        _forward(xb, m, batch, theta, sizes, act, acts)
        raw, D, k = _output_views(sizes, batch, m, acts, deltas)
        sw_b = swb[:m] if weighted else swb[:0]
        if k == 1:
            kernel(yb[:m], raw, sw_b, params, lbuf[:m], D, no_hess)
            loss = _sum(lbuf, m)
        else:
            loss = _columns(kernel, yb, q, raw.reshape((m, k)), sw_b, params,
                            D.reshape((m, k)), ycol, rcol, lbuf, gcol)
        if not math.isfinite(loss):
            return total, wsum, start, NON_FINITE
        total += loss
        wsum += _batch_weight(swb, m, weighted)
        _scale(D, hyper[GRAD_SCALE] / m)
        _backward(xb, m, batch, theta, grad, sizes, act, acts, deltas)
        _update(theta, grad, s1, s2, sizes, opt, hyper, counters)
    return total, wsum, n, OK


@njit(cache=True, nogil=True)
def multiclass_epoch(X, y, sw, perm, theta, grad, s1, s2, sizes, act, opt, hyper, counters,
                     kernel, params, work):
    """One epoch of a classifier with a genuine K-class output loss (softmax
    cross-entropy, Crammer-Singer hinge ...): ``kernel`` is a
    :class:`KernelPointer` to a 2-D kernel.  Same arguments and returns as
    :func:`elementwise_epoch` (``y``: class indices)."""
    no_hess = work[4][:0].reshape((0, 0))
    Xb, yb, swb, acts, deltas, lbuf, ycol, rcol, gcol, bdata, bindices, bindptr = work
    xb = (Xb, bdata, bindices, bindptr, X[3].shape[0] > 0)
    n = perm.shape[0]
    # one target per row, as a run-time int (the literal 1 would type _gather
    # apart from the element-wise epoch's call)
    q = y.shape[0] // n if n > 0 else 1
    batch = lbuf.shape[0]
    weighted = sw.shape[0] > 0
    total = 0.0
    wsum = 0.0
    for start in range(0, n, batch):
        m = min(batch, n - start)
        _gather(X, y, q, sw, perm, start, m, xb, yb, swb, weighted)
        _forward(xb, m, batch, theta, sizes, act, acts)
        raw, D, k = _output_views(sizes, batch, m, acts, deltas)
        sw_b = swb[:m] if weighted else swb[:0]
        kernel(yb[:m], raw.reshape((m, k)), sw_b, params, lbuf[:m], D.reshape((m, k)), no_hess)
        loss = _sum(lbuf, m)
        if not math.isfinite(loss):
            return total, wsum, start, NON_FINITE
        total += loss
        wsum += _batch_weight(swb, m, weighted)
        _scale(D, hyper[GRAD_SCALE] / m)
        _backward(xb, m, batch, theta, grad, sizes, act, acts, deltas)
        _update(theta, grad, s1, s2, sizes, opt, hyper, counters)
    return total, wsum, n, OK


# ----------------------------------------------------------------- per-batch drivers
@njit
def _dense_batch(Xb):
    # the same types as the epochs' batch tuple (a run-time bool, not the
    # literal False), so that a process compiling both reuses the compiled
    # forward and backward passes instead of compiling a second specialisation
    empty = np.empty(0, np.int64)
    return (Xb, Xb[0, :0], empty, empty, empty.shape[0] > 0)


@njit(cache=True, nogil=True)
def batch_forward(Xb, m, theta, sizes, act, acts):
    """Forward pass of one dense batch (the first ``m`` rows of ``Xb``); the raw
    prediction is the last activation block.  Used for losses evaluated in
    Python (custom losses)."""
    _forward(_dense_batch(Xb), m, Xb.shape[0], theta, sizes, act, acts)


@njit(cache=True, nogil=True)
def batch_backward_update(Xb, m, theta, grad, s1, s2, sizes, act, opt, hyper, counters,
                          acts, deltas):
    """Back-propagation and optimizer step of one dense batch whose last delta
    block already holds d objective / d raw prediction."""
    _backward(_dense_batch(Xb), m, Xb.shape[0], theta, grad, sizes, act, acts, deltas)
    _update(theta, grad, s1, s2, sizes, opt, hyper, counters)
