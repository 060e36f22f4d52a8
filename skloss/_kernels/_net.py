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

What a fit compiles
-------------------
A first fit compiles only what it uses, and each piece once:

* one **epoch driver**, chosen in Python: :func:`dense_multiclass_epoch` for
  dense rows and a K-class loss kernel (softmax, the first fit most users make:
  a small driver), :func:`epoch` for everything else (dense or CSR rows; a 1-D
  loss kernel, i.e. binary, one-vs-rest and regression outputs, or a K-class
  one), which holds both layouts and both output forms so that a warm-up
  compiles the forward and backward passes twice per dtype, not four times;
* the **activation** of its hidden layers (:func:`identity_activation`,
  :func:`relu_activation` ...: forward and derivative in one small function) and
  its **optimizer step** (:func:`sgd_update`, :func:`adam_update`);
* the loss's own element-wise kernel, its float64 specialisation whatever the
  data's dtype: the loss's buffers in ``work`` are float64 (the targets, weights,
  losses and the copied raw scores / gradients of the output block), so a
  float32 fit compiles no float32 loss kernel (the same bits: a kernel computes
  in float64 and rounds once when it stores; see :mod:`skloss._kernels._widen`).

The activation, the optimizer step and the loss kernel are *arguments* of the
driver: :class:`FunctionPointer` objects holding the compiled entry point of a
``cache=True`` function.  numba types a pointer by its signature alone, so one
cached driver per dtype serves every loss, activation and optimizer, and a
pointed-to function is compiled (and cached) on its own, once, not again inside
each caller.  (A helper called directly from a driver is linked into the
driver's code and optimised again at every level of calls: that, and numba's
checked ``reshape`` and ``np.dot``, made the single driver handling every
layout, activation and optimizer cost 7.0 CPU s to compile; the dense K-class
driver now costs 1.05 s, the ReLU 0.15 s and the SGD step 0.25 s, measured in one
cold digits fit under load.)  The shared pieces of the drivers are
``inline="always"`` helpers, compiled into each driver, and views and matrix
products go through unchecked intrinsics (:func:`_view2d`, :func:`_rows`, :func:`_gemm`).
numba's compile time grows with the code it types and lowers: every inlined
helper and every call site of a product or a function pointer is compiled anew.
:func:`dense_multiclass_epoch`, the driver of a first softmax fit, is therefore
written out in one function whose first layer shares the other layers' call
sites.

A loss without a kernel (a :func:`~skloss.losses.make_loss` loss, a subclass
that overrides ``_evaluate``) is trained by the per-batch drivers
:func:`batch_forward` and :func:`batch_backward_update`, with the loss evaluated
in Python between them.

The disk cache of the drivers is keyed on the sources of every kernel module
(:mod:`skloss._cache`), so an edited helper recompiles them.
"""

import math

import numba.experimental.function_type  # noqa: F401 (types a FunctionPointer argument)
import numpy as np
from numba import njit, types

from numba.core import cgutils
from numba.core.typing.typeof import typeof_impl
from numba.extending import intrinsic
from numba.np.arrayobj import make_array
from numba.np.linalg import call_xxgemm, ensure_blas


# ----------------------------------------------------------------- views and products
# numba's ``_view2d(a, i, m, n)`` and ``_gemm(a, b, out)`` check their
# arguments and raise; their code is what most of a driver's compile time went
# into.  The drivers only take views of their own work buffers at offsets they
# computed, and multiply matrices whose shapes agree by construction, so these
# intrinsics skip the checks.
@intrinsic
def _view2d(typingctx, a, start, m, n):
    """``a[start:start + m * n].reshape((m, n))`` of a 1-D C array, unchecked."""
    if not (isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C"):
        return None
    sig = a.copy(ndim=2, layout="C")(a, start, m, n)

    def codegen(context, builder, signature, args):
        src = make_array(signature.args[0])(context, builder, args[0])
        out = make_array(signature.return_type)(context, builder)
        start_v, m_v, n_v = (context.cast(builder, v, t, types.intp)
                             for v, t in zip(args[1:], signature.args[1:]))
        itemsize = src.itemsize
        context.populate_array(
            out, data=builder.gep(src.data, [start_v]),
            shape=cgutils.pack_array(builder, [m_v, n_v]),
            strides=cgutils.pack_array(builder, [builder.mul(n_v, itemsize), itemsize]),
            itemsize=itemsize, meminfo=src.meminfo, parent=src.parent)
        res = out._getvalue()
        context.nrt.incref(builder, signature.return_type, res)
        return res

    return sig, codegen


@intrinsic
def _rows(typingctx, a, start, m):
    """``a[start:start + m]`` (rows of a C array), unchecked: numba's slicing
    normalises its bounds and handles steps, code that each slice in a driver
    compiles again."""
    if not (isinstance(a, types.Array) and a.layout == "C"):
        return None
    sig = a(a, start, m)

    def codegen(context, builder, signature, args):
        src = make_array(signature.args[0])(context, builder, args[0])
        out = make_array(signature.return_type)(context, builder)
        start_v, m_v = (context.cast(builder, v, t, types.intp)
                        for v, t in zip(args[1:], signature.args[1:]))
        strides = cgutils.unpack_tuple(builder, src.strides)
        shape = cgutils.unpack_tuple(builder, src.shape)
        data = builder.gep(builder.bitcast(src.data, cgutils.voidptr_t),
                           [builder.mul(start_v, strides[0])])
        context.populate_array(
            out, data=builder.bitcast(data, src.data.type),
            shape=cgutils.pack_array(builder, [m_v] + shape[1:]), strides=src.strides,
            itemsize=src.itemsize, meminfo=src.meminfo, parent=src.parent)
        res = out._getvalue()
        context.nrt.incref(builder, signature.return_type, res)
        return res

    return sig, codegen


@intrinsic
def _gemm(typingctx, x, y, out):
    """``out[...] = x @ y`` through BLAS (``x``, ``y``: C or F 2-D arrays of
    positive, agreeing shapes; ``out``: C), unchecked."""
    if not all(isinstance(t, types.Array) and t.ndim == 2 for t in (x, y, out)):
        return None
    ensure_blas()
    sig = types.none(x, y, out)

    def codegen(context, builder, signature, args):
        xty, yty, outty = signature.args
        xa, ya, oa = (make_array(t)(context, builder, v) for t, v in zip(signature.args, args))
        call_xxgemm(context, builder,
                    xty, cgutils.unpack_tuple(builder, xa.shape), xa.data,
                    yty, cgutils.unpack_tuple(builder, ya.shape), ya.data,
                    outty, cgutils.unpack_tuple(builder, oa.shape), oa.data)
        return context.get_dummy_value()

    return sig, codegen


# ----------------------------------------------------------------- code tables
ACTIVATIONS = ("identity", "relu", "tanh", "logistic", "leaky_relu")
LEAKY_RELU_SLOPE = 0.01
OPTIMIZERS = ("sgd", "adam")

# slots of the ``hyper`` array (dtype of the data)
LR, MOMENTUM, NESTEROV, ALPHA, BETA1, BETA2, EPSILON, GRAD_SCALE, LR_T, OMB1, OMB2 = range(11)
N_HYPER = 11

# status returned by the epoch drivers
OK, NON_FINITE = 0, 1

# ``mode`` of an activation function
FORWARD, DERIVATIVE = 0, 1


# ----------------------------------------------------------------- activations
# activation(Z, b, D, mode): FORWARD: Z <- act(Z + b), in place, one pass;
# DERIVATIVE: D <- D * act'(z), act'(z) written through the activation Z = act(z)
@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def identity_activation(Z, b, D, mode):
    m, h = Z.shape
    if mode == FORWARD:
        for i in range(m):
            for j in range(h):
                Z[i, j] += b[j]


@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def relu_activation(Z, b, D, mode):
    m, h = Z.shape
    if mode == FORWARD:
        for i in range(m):
            for j in range(h):
                v = Z[i, j] + b[j]
                if v > 0:
                    Z[i, j] = v
                else:
                    Z[i, j] = 0
    else:
        for i in range(m):
            for j in range(h):
                if Z[i, j] <= 0:
                    D[i, j] = 0


@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def tanh_activation(Z, b, D, mode):
    m, h = Z.shape
    if mode == FORWARD:
        for i in range(m):
            for j in range(h):
                Z[i, j] = np.tanh(Z[i, j] + b[j])
    else:
        for i in range(m):
            for j in range(h):
                a = Z[i, j]
                D[i, j] *= 1 - a * a


@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def logistic_activation(Z, b, D, mode):
    m, h = Z.shape
    if mode == FORWARD:  # without overflow warnings
        for i in range(m):
            for j in range(h):
                v = np.float64(Z[i, j] + b[j])
                if v >= 0.0:
                    Z[i, j] = 1.0 / (1.0 + math.exp(-v))
                else:
                    e = math.exp(v)
                    Z[i, j] = e / (1.0 + e)
    else:
        for i in range(m):
            for j in range(h):
                a = Z[i, j]
                D[i, j] *= a * (1 - a)


@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def leaky_relu_activation(Z, b, D, mode):
    m, h = Z.shape
    if mode == FORWARD:
        for i in range(m):
            for j in range(h):
                v = Z[i, j] + b[j]
                if v > 0:
                    Z[i, j] = v
                else:
                    Z[i, j] = LEAKY_RELU_SLOPE * v
    else:
        for i in range(m):
            for j in range(h):
                if Z[i, j] <= 0:
                    D[i, j] *= LEAKY_RELU_SLOPE


# ----------------------------------------------------------------- optimizers
# update(theta, grad, s1, s2, sizes, hyper, counters): one step; the L2 penalty
# ``alpha * W`` is added to the weight gradients here (intercepts are not
# penalised).  ``hyper`` has the dtype of ``theta``, so the fused loops run in
# that precision (float32 end to end for float32 data) and vectorise.  One loop
# body serves the weights and the intercepts of every layer (segment ``2 l``:
# ``W_l``, ``2 l + 1``: ``b_l``).  Loops start at 0 on views: a variable start
# would keep numba's negative-index wraparound in the loop and stop LLVM from
# vectorising it.
@njit(inline="always")
def _segment(sizes, seg, off):
    # (start, stop) of parameter segment ``seg`` starting at ``off``
    layer = seg // 2
    if seg % 2 == 0:
        return off, off + sizes[layer] * sizes[layer + 1]
    return off, off + sizes[layer + 1]


@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def sgd_update(theta, grad, s1, s2, sizes, hyper, counters):
    """(Nesterov) momentum SGD: ``v <- mu v - lr g``, ``theta <- theta + v``
    (Nesterov: ``theta <- theta + mu v - lr g``)."""
    lr = hyper[LR]
    mu = hyper[MOMENTUM]
    nesterov = hyper[NESTEROV] != 0
    off = 0
    for seg in range(2 * (sizes.shape[0] - 1)):
        lo, hi = _segment(sizes, seg, off)
        # alpha on the weights, 0 on the intercepts (times a bool: stays in the dtype)
        alpha = hyper[ALPHA] * (seg % 2 == 0)
        t, g_, vel = theta[lo:hi], grad[lo:hi], s1[lo:hi]
        for j in range(t.shape[0]):
            g = g_[j] + alpha * t[j]
            v = mu * vel[j] - lr * g
            vel[j] = v
            t[j] += (mu * v - lr * g) if nesterov else v
        off = hi


@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def adam_update(theta, grad, s1, s2, sizes, hyper, counters):
    """Adam with the bias-corrected step ``lr sqrt(1 - b2^t) / (1 - b1^t)``
    (computed in float64 and stored in the dtype)."""
    counters[0] += 1
    t = counters[0]
    hyper[LR_T] = np.float64(hyper[LR]) * math.sqrt(1.0 - np.float64(hyper[BETA2]) ** t) / (
        1.0 - np.float64(hyper[BETA1]) ** t)
    lr_t, b1, b2, omb1, omb2, eps = (hyper[LR_T], hyper[BETA1], hyper[BETA2], hyper[OMB1],
                                     hyper[OMB2], hyper[EPSILON])
    off = 0
    for seg in range(2 * (sizes.shape[0] - 1)):
        lo, hi = _segment(sizes, seg, off)
        alpha = hyper[ALPHA] * (seg % 2 == 0)
        th, g_, m1, m2 = theta[lo:hi], grad[lo:hi], s1[lo:hi], s2[lo:hi]
        for j in range(th.shape[0]):
            g = g_[j] + alpha * th[j]
            a = b1 * m1[j] + omb1 * g
            v = b2 * m2[j] + omb2 * g * g
            m1[j] = a
            m2[j] = v
            th[j] -= lr_t * a / (np.sqrt(v) + eps)
        off = hi


# ----------------------------------------------------------------- function pointers
def _array(dtype, ndim):
    return types.Array(dtype, ndim, "C")


def _float(dtype):
    return types.float32 if np.dtype(dtype) == np.float32 else types.float64


def kernel_signature(dtype, multiclass):
    """numba signature of an element-wise loss kernel of ``dtype`` (float32 or
    float64): ``kernel(y, raw, sw, params, out_loss, out_grad, out_hess)`` with
    1-D ``raw`` / gradients, or 2-D ones for a K-class form."""
    t = _float(dtype)
    nd = 2 if multiclass else 1
    v = _array(t, 1)
    m = _array(t, nd)
    return types.none(v, m, v, _array(types.float64, 1), v, m, m)


def activation_signature(dtype):
    """``activation(Z, b, D, mode)``."""
    t = _float(dtype)
    return types.none(_array(t, 2), _array(t, 1), _array(t, 2), types.int64)


def update_signature(dtype):
    """``update(theta, grad, s1, s2, sizes, hyper, counters)``."""
    v = _array(_float(dtype), 1)
    i = _array(types.int64, 1)
    return types.none(v, v, v, v, i, v, i)


class FunctionPointer(types.WrapperAddressProtocol):
    """A compiled function passed to a driver as a function pointer.

    ``dispatcher`` is a ``cache=True`` function; it is compiled (or loaded from
    the disk cache) for ``signature`` on first use.
    """

    def __init__(self, dispatcher, signature):
        self.dispatcher = dispatcher
        self._sig = signature
        self._address = None
        self._type = types.FunctionType(signature)

    def __wrapper_address__(self):
        if self._address is None:
            cres = self.dispatcher.get_compile_result(self._sig)
            self._address = cres.library.get_pointer_to_function(
                cres.fndesc.llvm_cfunc_wrapper_name)
        return self._address

    def signature(self):
        return self._sig


@typeof_impl.register(FunctionPointer)
def _typeof_pointer(val, c):
    # the type built once per pointer: numba's own rule for a
    # WrapperAddressProtocol builds a FunctionType at every call (~40 us a call,
    # which a float32 loss evaluation through skloss._kernels._widen pays)
    return val._type


_POINTERS = {}


def _pointer(dispatcher, signature):
    key = (dispatcher, str(signature))
    if key not in _POINTERS:
        _POINTERS[key] = FunctionPointer(dispatcher, signature)
    return _POINTERS[key]


def kernel_pointer(dispatcher, dtype, multiclass):
    """The (memoised) :class:`FunctionPointer` of a loss kernel for ``dtype``."""
    return _pointer(dispatcher, kernel_signature(dtype, multiclass))


def activation_pointer(act, dtype):
    """The :class:`FunctionPointer` of activation ``act`` (a name of
    :data:`ACTIVATIONS` or its index) for ``dtype``."""
    name = ACTIVATIONS[act] if not isinstance(act, str) else act
    return _pointer(globals()[f"{name}_activation"], activation_signature(dtype))


def update_pointer(opt, dtype):
    """The :class:`FunctionPointer` of optimizer ``opt`` (a name of
    :data:`OPTIMIZERS` or its index) for ``dtype``."""
    name = OPTIMIZERS[opt] if not isinstance(opt, str) else opt
    return _pointer(globals()[f"{name}_update"], update_signature(dtype))


# ----------------------------------------------------------------- forward / backward
@njit(inline="always")
def _add_bias(Z, b):
    m, h = Z.shape
    for i in range(m):
        for j in range(h):
            Z[i, j] += b[j]


@njit(inline="always")
def _forward_after_input(m, batch, theta, sizes, activation, acts):
    """The forward pass once layer 0's product ``X_batch @ W_1`` is in its
    activation block: the biases, activations and products of every layer."""
    n_layers = sizes.shape[0] - 1
    w_off = 0
    a_off = 0
    p_off = 0
    for layer in range(n_layers):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        Z = _view2d(acts, a_off, m, n_out)
        if layer > 0:
            _gemm(_view2d(acts, p_off, m, n_in), _view2d(theta, w_off, n_in, n_out), Z)
        b = theta[w_off + n_in * n_out:w_off + n_in * n_out + n_out]
        if layer < n_layers - 1:
            activation(Z, b, Z, FORWARD)
        else:
            _add_bias(Z, b)
        w_off += n_in * n_out + n_out
        p_off = a_off
        a_off += batch * n_out


@njit(inline="always")
def _backward_to_input(m, batch, theta, grad, sizes, activation, acts, deltas):
    """Back-propagation: every gradient but that of ``W_1`` (``X_batch.T @
    deltas[block 0]``, left to the caller).  The last layer's delta block must
    hold d objective / d raw prediction."""
    n_layers = sizes.shape[0] - 1
    w_off = 0
    a_off = 0
    for layer in range(n_layers - 1):
        w_off += sizes[layer] * sizes[layer + 1] + sizes[layer + 1]
        a_off += batch * sizes[layer + 1]
    for layer in range(n_layers - 1, -1, -1):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        D = _view2d(deltas, a_off, m, n_out)
        gb = grad[w_off + n_in * n_out:w_off + n_in * n_out + n_out]
        for j in range(n_out):  # (a loop: ``gb[:] = 0`` compiles numba's slice assignment)
            gb[j] = 0
        for i in range(m):
            for j in range(n_out):
                gb[j] += D[i, j]
        if layer > 0:
            p_off = a_off - batch * n_in
            A = _view2d(acts, p_off, m, n_in)
            _gemm(A.T, D, _view2d(grad, w_off, n_in, n_out))
            Dp = _view2d(deltas, p_off, m, n_in)
            _gemm(D, _view2d(theta, w_off, n_in, n_out).T, Dp)
            activation(A, gb, Dp, DERIVATIVE)
            a_off = p_off
            w_off -= sizes[layer - 1] * n_in + n_in


# ----------------------------------------------------------------- input layouts
@njit(inline="always")
def _gather_targets(y, q, sw, r, i, yb, swb, weighted):
    for j in range(q):
        yb[i * q + j] = y[r * q + j]
    if weighted:
        swb[i] = sw[r]


@njit(inline="always")
def _gather_dense(Xd, y, q, sw, perm, start, m, Xb, yb, swb, weighted):
    # rows perm[start:start+m] of X, of the flat targets y (q per row) and of sw
    for i in range(m):
        r = perm[start + i]
        src = Xd[r]
        dst = Xb[i]
        for j in range(src.shape[0]):
            dst[j] = src[j]
        _gather_targets(y, q, sw, r, i, yb, swb, weighted)


@njit(inline="always")
def _gather_csr(X, y, q, sw, perm, start, m, work, yb, swb, weighted):
    data, indices, indptr = X[1], X[2], X[3]
    bdata, bindices, bindptr = work[9], work[10], work[11]
    pos = 0
    bindptr[0] = 0
    for i in range(m):
        r = perm[start + i]
        for k in range(indptr[r], indptr[r + 1]):
            bdata[pos] = data[k]
            bindices[pos] = indices[k]
            pos += 1
        bindptr[i + 1] = pos
        _gather_targets(y, q, sw, r, i, yb, swb, weighted)


@njit(inline="always")
def _csr_times(work, m, W, Z):
    # Z = X_batch @ W for the batch's CSR rows
    data, indices, indptr = work[9], work[10], work[11]
    h = Z.shape[1]
    for i in range(m):
        for j in range(h):
            Z[i, j] = 0
        for k in range(indptr[i], indptr[i + 1]):
            c = indices[k]
            v = data[k]
            for j in range(h):
                Z[i, j] += v * W[c, j]


@njit(inline="always")
def _csr_transpose_times(work, m, D, G):
    # G = X_batch.T @ D for the batch's CSR rows
    data, indices, indptr = work[9], work[10], work[11]
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


# ----------------------------------------------------------------- output layer
@njit(inline="always")
def _sum(a, m):
    s = 0.0
    for i in range(m):
        s += a[i]
    return s


@njit(inline="always")
def _output_offset(sizes, batch):
    # offset of the raw prediction's block (and of its delta block)
    off = 0
    for layer in range(sizes.shape[0] - 2):
        off += batch * sizes[layer + 1]
    return off


@njit(inline="always")
def _elementwise_output(kernel, yb, q, m, off, k, acts, deltas, sw_b, params, work):
    # the 1-D kernel on each output unit c: q == K: K regression targets per row
    # (the flat (m, K) block of yb; K == 1: one output); q == 1 < K: class
    # indices, the one-vs-rest form sum_k loss(1[y == k], raw[:, k]).  Returns
    # the summed loss.  One call site of the kernel for every case (each call
    # site of a function pointer is compiled anew).
    lbuf, ycol, rcol, gcol = work[5], work[6], work[7], work[8]
    no_hess = _rows(lbuf, 0, 0)
    raw = _view2d(acts, off, m, k)
    D = _view2d(deltas, off, m, k)
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
        kernel(_rows(ycol, 0, m), _rows(rcol, 0, m), sw_b, params, _rows(lbuf, 0, m),
               _rows(gcol, 0, m), no_hess)
        # the losses rounded to the data's dtype (stored in D, then overwritten
        # by the gradient) before they are summed: what a kernel of that dtype
        # stored (see _widen: the float64 kernel serves float32 fits too)
        s = 0.0
        for i in range(m):
            D[i, c] = lbuf[i]
            s += D[i, c]
            D[i, c] = gcol[i]
        total += s
    return total


@njit(inline="always")
def _multiclass_output(kernel, yb, q, m, off, k, acts, deltas, sw_b, params, work):
    return _kclass_loss(kernel, yb, m, k, acts, deltas, off, sw_b, params, work)


@njit(inline="always")
def _kclass_loss(kernel, yb, m, k, acts, deltas, off, sw_b, params, work):
    # the float64 K-class kernel on the output block's raw scores (copied to a
    # float64 buffer); its gradient stored to the delta block; returns the
    # summed losses, each rounded to the data's dtype first (through the delta
    # block), as a kernel of that dtype stored them.  Flat loops over the
    # contiguous (m, k) blocks.
    lbuf, rk, gk = work[5], work[12], work[13]
    a = _rows(acts, off, m * k)
    d = _rows(deltas, off, m * k)
    for t in range(m * k):
        rk[t] = a[t]
    kernel(_rows(yb, 0, m), _view2d(rk, 0, m, k), sw_b, params, _rows(lbuf, 0, m),
           _view2d(gk, 0, m, k), _view2d(lbuf, 0, 0, 0))
    s = 0.0
    for i in range(m):
        d[i * k] = lbuf[i]
        s += d[i * k]
    for t in range(m * k):
        d[t] = gk[t]
    return s


@njit(inline="always")
def _finish_batch(loss, m, swb, weighted, hyper, deltas, off, k):
    # the batch's weight; the output deltas scaled to the gradient of the mean
    D = deltas[off:off + m * k]
    c = hyper[GRAD_SCALE] / m
    for i in range(D.shape[0]):
        D[i] *= c
    if not weighted:
        return np.float64(m)
    return _sum(swb, m)


# ----------------------------------------------------------------- epochs
# Every epoch driver takes ``(X, y, sw, perm, theta, grad, s1, s2, sizes, hyper,
# counters, activation, update, kernel, ..., params, work)``: ``X`` is
# ``(X_dense, data, indices, indptr)`` (a dense array with empty CSR arrays, or an
# empty ``(0, n_features)`` array with the CSR arrays); ``y`` is flat: ``n`` class
# indices or targets, or ``n * K`` targets (C order) of a K-output regressor;
# ``activation``, ``update`` and the kernels are FunctionPointers; ``work`` the
# buffers of ``skloss.neural_network._base._workspace``.  Each returns ``(sum
# of weighted losses, sum of weights, samples done, status)``; on a non-finite
# minibatch loss it stops before updating and returns ``NON_FINITE``.  The
# layouts differ only in the first layer's input products (dense: BLAS; CSR:
# loops over the stored values), the output forms in the output layer (a 1-D
# kernel per output unit, or one K-class kernel).


@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def no_kernel(y, raw, sw, params, out_loss, out_grad, out_hess):
    """The loss-kernel slot :func:`epoch` does not use (a pointer of the other
    form's signature)."""


@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def epoch(X, y, sw, perm, theta, grad, s1, s2, sizes, hyper, counters,
          activation, update, kernel, kernel_k, multiclass, params, work):
    """One epoch on dense or CSR rows (``X[3]``, the row pointers, non-empty):
    the output loss is the 1-D ``kernel`` (one output unit, K one-vs-rest units
    or K regression outputs) or, when ``multiclass``, the K-class ``kernel_k``
    (the other one is :func:`no_kernel`'s pointer).

    One driver for both input layouts and both output forms: the forward and
    backward passes, the optimizer call and the loops around them are compiled
    once per dtype instead of once per layout and form (three drivers of 4.8,
    6.6 and 4.9 s wall in a loaded warm-up)."""
    Xb, yb, swb, acts, deltas = work[0], work[1], work[2], work[3], work[4]
    sparse = X[3].shape[0] > 0
    n = perm.shape[0]
    q = y.shape[0] // n if n > 0 else 1
    batch = work[5].shape[0]
    weighted = sw.shape[0] > 0
    off = _output_offset(sizes, batch)
    k = sizes[sizes.shape[0] - 1]
    n_in, n_out = sizes[0], sizes[1]
    total = 0.0
    wsum = 0.0
    for start in range(0, n, batch):
        m = min(batch, n - start)
        W1 = _view2d(theta, 0, n_in, n_out)
        if sparse:
            _gather_csr(X, y, q, sw, perm, start, m, work, yb, swb, weighted)
            _csr_times(work, m, W1, _view2d(acts, 0, m, n_out))
        else:
            _gather_dense(X[0], y, q, sw, perm, start, m, Xb, yb, swb, weighted)
            _gemm(_rows(Xb, 0, m), W1, _view2d(acts, 0, m, n_out))
        _forward_after_input(m, batch, theta, sizes, activation, acts)
        sw_b = _rows(swb, 0, m if weighted else 0)
        if multiclass:
            loss = _multiclass_output(kernel_k, yb, q, m, off, k, acts, deltas, sw_b, params, work)
        else:
            loss = _elementwise_output(kernel, yb, q, m, off, k, acts, deltas, sw_b, params, work)
        if not math.isfinite(loss):
            return total, wsum, start, NON_FINITE
        total += loss
        wsum += _finish_batch(loss, m, swb, weighted, hyper, deltas, off, k)
        _backward_to_input(m, batch, theta, grad, sizes, activation, acts, deltas)
        D1 = _view2d(deltas, 0, m, n_out)
        G1 = _view2d(grad, 0, n_in, n_out)
        if sparse:
            _csr_transpose_times(work, m, D1, G1)
        else:
            _gemm(_rows(Xb, 0, m).T, D1, G1)
        update(theta, grad, s1, s2, sizes, hyper, counters)
    return total, wsum, n, OK


@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def dense_multiclass_epoch(X, y, sw, perm, theta, grad, s1, s2, sizes, hyper, counters,
                           activation, update, kernel, params, work):
    """One epoch on dense rows with a genuine K-class output loss (softmax
    cross-entropy, Crammer-Singer hinge ...): ``kernel`` takes 2-D scores.

    The driver of a first multi-class fit (softmax on dense data), written out
    in one function rather than through the shared helpers: each helper inlined
    by numba and each call site of a matrix product or a function pointer is
    compiled anew, and this way the first layer's products share the call sites
    of the other layers, and its slices are :func:`_rows` views (measured, this
    driver alone after numba's start-up, load 10-12: 1.74 -> 1.05 s CPU).  The
    same operations in the same order as the shared helpers: the fits are
    bit-identical."""
    Xb, yb, swb, acts, deltas, lbuf = work[0], work[1], work[2], work[3], work[4], work[5]
    Xd = X[0]
    n = perm.shape[0]
    batch = lbuf.shape[0]
    weighted = sw.shape[0] > 0
    n_layers = sizes.shape[0] - 1
    k = sizes[n_layers]
    # offsets of the last layer's activation / delta block and of its weights
    off = 0
    w_last = 0
    for layer in range(n_layers - 1):
        off += batch * sizes[layer + 1]
        w_last += sizes[layer] * sizes[layer + 1] + sizes[layer + 1]
    total = 0.0
    wsum = 0.0
    for start in range(0, n, batch):
        m = min(batch, n - start)
        for i in range(m):
            r = perm[start + i]
            src = Xd[r]
            dst = Xb[i]
            for j in range(src.shape[0]):
                dst[j] = src[j]
            yb[i] = y[r]
            if weighted:
                swb[i] = sw[r]
        # forward: Z_l = A_{l-1} W_l, then bias and activation (none on the output)
        w_off = 0
        a_off = 0
        p_off = 0
        for layer in range(n_layers):
            n_in = sizes[layer]
            n_out = sizes[layer + 1]
            Z = _view2d(acts, a_off, m, n_out)
            A = _rows(Xb, 0, m) if layer == 0 else _view2d(acts, p_off, m, n_in)
            _gemm(A, _view2d(theta, w_off, n_in, n_out), Z)
            b = _rows(theta, w_off + n_in * n_out, n_out)
            if layer < n_layers - 1:
                activation(Z, b, Z, FORWARD)
            else:
                for i in range(m):
                    for j in range(n_out):
                        Z[i, j] += b[j]
            w_off += n_in * n_out + n_out
            p_off = a_off
            a_off += batch * n_out
        # the output loss and d loss / d raw prediction
        D = _view2d(deltas, off, m, k)
        loss = _kclass_loss(kernel, yb, m, k, acts, deltas, off,
                            _rows(swb, 0, m if weighted else 0), params, work)
        if not math.isfinite(loss):
            return total, wsum, start, NON_FINITE
        total += loss
        c = hyper[GRAD_SCALE] / m
        for i in range(m):
            for j in range(k):
                D[i, j] *= c
        if weighted:
            bw = 0.0
            for i in range(m):
                bw += swb[i]
            wsum += bw
        else:
            wsum += np.float64(m)
        # backward: the gradients of b_l and W_l, then the deltas of layer l - 1
        w_off = w_last
        a_off = off
        for layer in range(n_layers - 1, -1, -1):
            n_in = sizes[layer]
            n_out = sizes[layer + 1]
            D = _view2d(deltas, a_off, m, n_out)
            gb = _rows(grad, w_off + n_in * n_out, n_out)
            for j in range(n_out):
                gb[j] = 0
            for i in range(m):
                for j in range(n_out):
                    gb[j] += D[i, j]
            p_off = a_off - batch * n_in
            A = _rows(Xb, 0, m) if layer == 0 else _view2d(acts, p_off, m, n_in)
            _gemm(A.T, D, _view2d(grad, w_off, n_in, n_out))
            if layer > 0:
                Dp = _view2d(deltas, p_off, m, n_in)
                _gemm(D, _view2d(theta, w_off, n_in, n_out).T, Dp)
                activation(A, gb, Dp, DERIVATIVE)
                a_off = p_off
                w_off -= sizes[layer - 1] * n_in + n_in
        update(theta, grad, s1, s2, sizes, hyper, counters)
    return total, wsum, n, OK


def epoch_driver(sparse, multiclass):
    """The epoch driver for a CSR (``sparse``) or dense input and a K-class
    (``multiclass``) or 1-D loss kernel: :func:`dense_multiclass_epoch` (the
    driver of a first softmax fit, small to compile) for dense K-class, else
    :func:`epoch`."""
    return dense_multiclass_epoch if (multiclass and not sparse) else epoch


# ----------------------------------------------------------------- per-batch drivers
@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def batch_forward(Xb, m, theta, sizes, activation, acts):
    """Forward pass of one dense batch (the first ``m`` rows of ``Xb``); the raw
    prediction is the last activation block.  Used for losses evaluated in
    Python (custom losses)."""
    n_in, n_out = sizes[0], sizes[1]
    _gemm(Xb[:m], _view2d(theta, 0, n_in, n_out), _view2d(acts, 0, m, n_out))
    _forward_after_input(m, Xb.shape[0], theta, sizes, activation, acts)


@njit(cache=True, nogil=True, fastmath=False, error_model="python")
def batch_backward_update(Xb, m, theta, grad, s1, s2, sizes, hyper, counters, activation,
                          update, acts, deltas):
    """Back-propagation and optimizer step of one dense batch whose last delta
    block already holds d objective / d raw prediction."""
    n_in, n_out = sizes[0], sizes[1]
    _backward_to_input(m, Xb.shape[0], theta, grad, sizes, activation, acts, deltas)
    _gemm(Xb[:m].T, _view2d(deltas, 0, m, n_out), _view2d(grad, 0, n_in, n_out))
    update(theta, grad, s1, s2, sizes, hyper, counters)
