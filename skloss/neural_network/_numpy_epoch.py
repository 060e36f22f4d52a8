"""One epoch of minibatch SGD in NumPy: the route of small networks.

A first fit in a fresh process would otherwise pay numba's start-up and the
compilation of the epoch driver, the activation, the optimizer step and the
loss kernel (about 2 s on the project's machine, against about 1.3 s for a
whole fresh-process ``MLPClassifier`` fit on digits).  A small fit finishes in
NumPy long before that, so :mod:`skloss.neural_network._base` runs it here
(the choice is made by size: ``_base._NUMPY_WORK``).

:class:`NumpyEpoch` reproduces the compiled epoch of
:mod:`skloss._kernels._net` (``epoch``, ``dense_multiclass_epoch``) operation
for operation:
the same gather, products (BLAS ``matmul`` into preallocated blocks; SciPy's
CSR products, which add the stored values in the same order as the compiled
loops), the activations and their derivatives written through the activations
(``leaky_relu`` slope 0.01), the loss's gradient stored in the data's dtype and
then scaled by ``grad_scale / m``, the intercept gradients summed row after row,
and the optimizer steps with the same ``hyper`` slots, operand order and
precision (the float32 step in float32, the float64 parts of the compiled code
in float64, numba's integer power for Adam's bias correction).  The two routes
agree to rounding (digits, 5 epochs, float64: 5e-16 to 1.4e-12 relative; float32
with ReLU bit-identical, with tanh 2e-4, NumPy's float32 tanh not being libm's;
BLAS builds and ``exp`` implementations differ in the last bit), and an epoch returns
the compiled drivers' ``(sum of weighted losses, sum of weights, status)``,
``status`` :data:`NON_FINITE` (before the update) on a non-finite minibatch loss.

The output loss: the log loss (binary and softmax, with label smoothing) and
squared error are evaluated here in NumPy, with the compiled kernels' formulas
(:class:`_BinaryLogLoss`, :class:`_SoftmaxLogLoss`, :class:`_SquaredError`);
any other loss through its own ``loss_gradient`` (:class:`_LossOutput`: that
compiles the loss's element-wise kernel only; a custom loss runs its own code).
Which of them a loss gets is read from what it declares: its fused linear
kernel (the log loss's, as :mod:`skloss.linear_model._objective` reproduces it
in NumPy) or its element-wise kernel, and only while the loss evaluates itself
as its declaring class does (a subclass overriding the evaluation gets its own
``loss_gradient``).

Every buffer is allocated once per fit (:class:`NumpyEpoch`); a minibatch takes
views of them, so the per-batch cost is a few dozen NumPy calls.
"""

import math

import numpy as np
import scipy.sparse as sp

from ._network import ACTIVATIONS, LEAKY_RELU_SLOPE, n_params

# The layout of skloss._kernels._net (slots of the ``hyper`` vector, epoch
# statuses, optimizer codes), repeated so that this route and the optimizers
# import no numba; tests/neural_network/test_numpy_route.py checks they agree.
LR, MOMENTUM, NESTEROV, ALPHA, BETA1, BETA2, EPSILON, GRAD_SCALE, LR_T, OMB1, OMB2 = range(11)
N_HYPER = 11
OK, NON_FINITE = 0, 1
OPTIMIZERS = ("sgd", "adam")

_SLOPE = np.float64(LEAKY_RELU_SLOPE)  # (float64: the compiled code multiplies in float64)

# the fused linear kernels whose formulas the log-loss outputs below reproduce
# (those of skloss.linear_model._objective._NUMPY_TWINS)
_LOG_LOSS_TWINS = {"binary": "log_loss_linear", "multiclass": "multinomial_logloss_value_grad"}
# element-wise kernels reproduced here: (module, name) -> output class
_KERNEL_TWINS = {("_regression", "squared_error"): "squared"}


# ----------------------------------------------------------------- which loss
def _declares_own_evaluation(loss, attribute):
    """Whether ``loss`` is evaluated as the class declaring ``attribute`` does
    (no evaluation member overridden below it)."""
    from skloss.losses._base import _EVALUATION_MEMBERS, _owner

    cls = type(loss)
    owner = _owner(cls, attribute)
    if owner is None:
        return False
    return all(_owner(cls, m) is _owner(owner, m) for m in _EVALUATION_MEMBERS)


def twin_kind(loss, form):
    """``"log_loss"``, ``"squared"`` or None: the NumPy formulas of this route
    that reproduce the loss's own kernels in this output form."""
    if form in _LOG_LOSS_TWINS:
        fused = getattr(loss, "fused_linear_kernel", None)
        if fused is not None and fused(sparse=False, multiclass=form == "multiclass") == \
                _LOG_LOSS_TWINS[form]:
            return "log_loss"
        return None
    if form == "regression" and _declares_own_evaluation(loss, "_kernel_name"):
        key = (getattr(loss, "_kernel_module", None), getattr(loss, "_kernel_name", None))
        return _KERNEL_TWINS.get(key)
    return None


def checking_loss(loss, form):
    """The loss to evaluate the start values, yardsticks and validation scores
    with: its NumPy twin where it has one (no numba import, no kernel compile),
    else the loss itself.  Same values as the loss's kernels."""
    kind = twin_kind(loss, form)
    if kind == "log_loss":
        from skloss.linear_model._objective import _NumpyLogLoss

        return _NumpyLogLoss(loss)
    if kind == "squared":
        return _NumpySquaredError(loss)
    return loss


class _NumpySquaredError:
    """``(y - r)**2``, ``2 (r - y)``, ``2`` in NumPy (float64 inside, the result
    in the dtype of ``raw``), as the compiled kernel computes them; everything
    else is the wrapped loss's."""

    def __init__(self, loss):
        self._loss = loss

    def __getattr__(self, name):
        return getattr(self._loss, name)

    @staticmethod
    def _out(a, raw, sw):
        if sw is not None:
            w = np.asarray(sw, dtype=np.float64)
            a = np.where(w == 0.0, 0.0, w * a)  # (a zero weight gives 0, as the kernel)
        dtype = np.float32 if np.asarray(raw).dtype == np.float32 else np.float64
        return a.astype(dtype, copy=False)

    @staticmethod
    def _d(y, raw):
        return np.asarray(raw, dtype=np.float64) - np.asarray(y, dtype=np.float64)

    def loss(self, y_true, raw_prediction, sample_weight=None):
        d = self._d(y_true, raw_prediction)
        return self._out(d * d, raw_prediction, sample_weight)

    def gradient(self, y_true, raw_prediction, sample_weight=None):
        return self._out(2.0 * self._d(y_true, raw_prediction), raw_prediction, sample_weight)

    def hessian(self, y_true, raw_prediction, sample_weight=None):
        h = np.full(np.shape(raw_prediction), 2.0)
        return self._out(h, raw_prediction, sample_weight)

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        d = self._d(y_true, raw_prediction)
        return (self._out(d * d, raw_prediction, sample_weight),
                self._out(2.0 * d, raw_prediction, sample_weight))


# ----------------------------------------------------------------- output layers
# output(yb, raw, swb, D) -> the minibatch's summed weighted loss (float, NaN
# when not finite); D (dtype of raw, shape of raw) receives the weighted
# gradient in raw, stored in the dtype (the compiled kernels' outputs).
class _BinaryLogLoss:
    """The binary log loss: ``_binary._logistic_point`` on every row."""

    def __init__(self, params, batch, dtype):
        eps = float(params[0]) if params.shape[0] else 0.0
        self.a, self.b = 1.0 - eps, 0.5 * eps
        self.buf = np.empty((8, batch))
        self.lbuf = np.empty(batch, dtype)

    def __call__(self, yb, raw, swb, D):
        m = raw.shape[0]
        r, t, e, inv, lo, g, h, omt = (b[:m] for b in self.buf)
        np.copyto(r, raw[:, 0])
        np.copyto(t, yb)
        t *= self.a
        t += self.b  # t = y a + b
        np.abs(r, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)  # e = exp(-|r|)
        np.add(e, 1.0, out=inv)
        np.divide(1.0, inv, out=inv)
        np.log1p(e, out=lo)
        np.maximum(r, 0.0, out=g)  # (r if r > 0 else 0)
        np.multiply(t, r, out=h)
        g -= h
        g += lo
        lo, g = g, lo  # lo: the loss
        # gradient ((1 - t) - t e if r > 0 else (1 - t) e - t) / (1 + e)
        np.subtract(1.0, t, out=omt)
        np.multiply(t, e, out=h)
        np.subtract(omt, h, out=g)  # r > 0
        np.multiply(omt, e, out=h)
        h -= t  # r <= 0
        pos = r > 0.0
        np.copyto(h, g, where=pos)
        h *= inv
        if swb is not None:
            w = np.asarray(swb, dtype=np.float64)
            lo *= w
            h *= w
        np.copyto(D[:, 0], h)
        return _stored_sum(lo, self.lbuf[:m])


class _SoftmaxLogLoss:
    """The softmax cross-entropy: ``_multiclass.log_loss`` on every row."""

    def __init__(self, params, batch, k, dtype):
        self.eps = float(params[0]) if params.shape[0] else 0.0
        self.neg_entropy = float(params[1]) if params.shape[0] > 1 else 0.0
        self.off = self.eps / k
        self.on = 1.0 - self.eps
        self.R = np.empty((batch, k))
        self.E = np.empty((batch, k))
        self.rows = np.arange(batch)
        self.lbuf = np.empty(batch, dtype)

    def __call__(self, yb, raw, swb, D):
        m = raw.shape[0]
        R, E, rows = self.R[:m], self.E[:m], self.rows[:m]
        eps, off, on = self.eps, self.off, self.on
        np.copyto(R, raw)
        c = yb.astype(np.intp)
        jmax = np.argmax(R, axis=1)  # (the first maximum, as the kernel's strict >)
        mx = R[rows, jmax]
        np.subtract(R, mx[:, None], out=E)
        np.exp(E, out=E)
        E[rows, jmax] = 0.0
        so = E.sum(axis=1)  # the others' sum
        E[rows, jmax] = 1.0
        inv = 1.0 / (1.0 + so)
        loss = mx - on * R[rows, c]
        loss += np.log1p(so)
        if eps != 0.0:
            loss -= off * R.sum(axis=1)
        loss += self.neg_entropy
        w = None if swb is None else np.asarray(swb, dtype=np.float64)
        if w is None:
            gc = np.where(c == jmax, (eps - off) - so * inv, E[rows, c] * inv - (off + on))
            E *= inv[:, None]
            E -= off
        else:
            loss *= w
            wi = w * inv
            gc = np.where(c == jmax, w * ((eps - off) - so * inv), E[rows, c] * wi - w * (off + on))
            E *= wi[:, None]
            E -= (w * off)[:, None]
        E[rows, c] = gc
        np.copyto(D, E)
        return _stored_sum(loss, self.lbuf[:m])


class _SquaredError:
    """``(r - y)**2`` and ``2 (r - y)`` per output (``_regression.squared_error``)."""

    def __init__(self, batch, k, dtype):
        self.d = np.empty((batch, k))
        self.lo = np.empty((batch, k))
        self.lbuf = np.empty((batch, k), dtype)

    def __call__(self, yb, raw, swb, D):
        m, k = raw.shape
        d, lo = self.d[:m], self.lo[:m]
        np.copyto(d, raw)
        d -= yb.reshape(m, k)
        np.multiply(d, d, out=lo)
        d *= 2.0
        if swb is not None:
            w = np.asarray(swb, dtype=np.float64)[:, None]
            zero = np.broadcast_to(w == 0.0, d.shape)
            lo *= w
            d *= w
            lo[zero] = 0.0  # (a zero weight gives 0 even at an infinite loss)
            d[zero] = 0.0
        np.copyto(D, d)
        return _stored_sum(lo, self.lbuf[:m])


class _LossOutput:
    """Any other loss: its own ``loss_gradient`` (per output of a regressor; the
    one-vs-rest form through the loss's K-score evaluation)."""

    def __init__(self, loss, form):
        self.loss, self.form = loss, form

    def __call__(self, yb, raw, swb, D):
        loss, form = self.loss, self.form
        if form == "regression":
            total = 0.0
            for c in range(raw.shape[1]):
                lc, gc = loss.loss_gradient(yb[:, c], raw[:, c], swb)
                total += float(np.sum(lc, dtype=np.float64))
                D[:, c] = gc
        else:
            lc, g = loss.loss_gradient(yb, raw[:, 0] if form == "binary" else raw, swb)
            total = float(np.sum(lc, dtype=np.float64))
            D[...] = np.reshape(g, D.shape)
        if not np.all(np.isfinite(D)):
            return math.nan
        return total


def _stored_sum(lo, lbuf):
    # the per-sample losses stored in the dtype, then summed in float64 (as the
    # compiled drivers sum their loss buffer)
    if lbuf.dtype == np.float64:
        return float(np.sum(lo))
    np.copyto(lbuf, lo)
    return float(np.sum(lbuf, dtype=np.float64))


def make_output(loss, form, params, batch, k, dtype):
    """The output layer of this route for ``loss`` in ``form``."""
    kind = twin_kind(loss, form)
    if kind == "log_loss":
        if form == "multiclass":
            return _SoftmaxLogLoss(params, batch, k, dtype)
        return _BinaryLogLoss(params, batch, dtype)
    if kind == "squared":
        return _SquaredError(batch, k, dtype)
    return _LossOutput(loss, form)


# ----------------------------------------------------------------- the epoch
def _int_power(a, b):
    """``a ** b`` (float, int ``b >= 0``) as numba computes it: by squaring."""
    if b > 0x10000:
        return math.pow(a, float(b))
    r = 1.0
    while b:
        if b & 1:
            r *= a
        b >>= 1
        a *= a
    return r


class NumpyEpoch:
    """The buffers of one fit and its epochs in NumPy.

    Parameters
    ----------
    sizes : array of int
        ``(n_features, h_1, ..., n_outputs)``.
    batch : int
        Minibatch size.
    dtype : float32 or float64
        The training dtype (of ``X``, ``theta`` and the optimizer state).
    activation : str
        The hidden layers' activation.
    optimizer_code : int
        0: SGD (momentum, Nesterov), 1: Adam.
    output : callable
        The output layer (:func:`make_output`).
    """

    def __init__(self, sizes, batch, dtype, activation, optimizer_code, output):
        self.sizes = [int(s) for s in sizes]
        self.batch = int(batch)
        self.dtype = np.dtype(dtype)
        self.activation = ACTIVATIONS[activation] if not isinstance(activation, str) else activation
        self.adam = OPTIMIZERS[optimizer_code] == "adam"
        self.output = output
        units = self.sizes[1:]
        self.acts = [np.empty((batch, h), dtype) for h in units]
        self.deltas = [np.empty((batch, h), dtype) for h in units]
        self.Xb = np.empty((batch, self.sizes[0]), dtype)
        wide = max(units)
        self.t64 = np.empty((batch, wide))
        self.u64 = np.empty((batch, wide))
        self.mask = np.empty((batch, wide), bool)
        n = n_params(self.sizes)
        # (weights, intercepts) segments of theta, and 1 on the weights
        self.segments = []
        self.weights = np.zeros(n, dtype)
        off = 0
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            self.segments.append((off, n_in, n_out))
            self.weights[off:off + n_in * n_out] = 1
            off += n_in * n_out + n_out
        self.alpha = np.empty(n, dtype)
        self.g = np.empty(n, dtype)
        self.step = np.empty(n, dtype)

    def _layers(self, v):
        Ws, bs = [], []
        for off, n_in, n_out in self.segments:
            Ws.append(v[off:off + n_in * n_out].reshape(n_in, n_out))
            bs.append(v[off + n_in * n_out:off + n_in * n_out + n_out])
        return Ws, bs

    # ------------------------------------------------------------- activations
    def _forward(self, Z, b):
        # Z <- act(Z + b) in place (Z holds A_{l-1} @ W_l)
        Z += b
        act = self.activation
        if act == "relu":
            np.fmax(Z, 0, out=Z)  # (fmax: NaN -> 0, as the compiled ``v > 0`` test)
        elif act == "tanh":
            np.tanh(Z, out=Z)
        elif act == "logistic":  # in float64: 1 / (1 + e) or e / (1 + e), e = exp(-|v|)
            m, h = Z.shape
            T, U, M = self.t64[:m, :h], self.u64[:m, :h], self.mask[:m, :h]
            np.abs(Z, out=T)
            np.negative(T, out=T)
            np.exp(T, out=T)
            np.add(T, 1.0, out=U)
            np.greater_equal(Z, 0, out=M)
            np.copyto(T, 1.0, where=M)
            np.divide(T, U, out=Z)
        elif act == "leaky_relu":
            m, h = Z.shape
            M = self.mask[:m, :h]
            np.greater(Z, 0, out=M)
            np.logical_not(M, out=M)
            np.multiply(Z, _SLOPE, out=Z, where=M)

    def _derivative(self, A, D):
        # D <- D * act'(z), written through the activation A = act(z)
        act = self.activation
        if act == "identity":
            return
        m, h = A.shape
        M = self.mask[:m, :h]
        if act == "relu":
            np.less_equal(A, 0, out=M)
            np.copyto(D, 0, where=M)
        elif act == "leaky_relu":
            np.less_equal(A, 0, out=M)
            np.multiply(D, _SLOPE, out=D, where=M)
        elif act == "tanh":  # D *= 1 - a a (a a in the dtype, the rest in float64)
            U = self.u64[:m, :h]
            np.multiply(A, A, out=U)
            np.subtract(1.0, U, out=U)
            np.multiply(D, U, out=D)
        else:  # logistic: D *= a (1 - a), in float64
            T, U = self.t64[:m, :h], self.u64[:m, :h]
            np.copyto(U, A)
            np.subtract(1.0, U, out=T)
            U *= T
            np.multiply(D, U, out=D)

    # ------------------------------------------------------------- optimizers
    def _update(self, theta, grad, s1, s2, hyper, counters):
        g, step = self.g, self.step
        np.multiply(self.alpha, theta, out=g)  # the L2 penalty's gradient (0 on intercepts)
        g += grad
        if not self.adam:
            lr, mu = hyper[LR], hyper[MOMENTUM]
            np.multiply(g, lr, out=step)
            s1 *= mu
            s1 -= step  # v = mu v - lr g
            if hyper[NESTEROV] != 0:
                np.multiply(s1, mu, out=g)
                g -= step
                theta += g
            else:
                theta += s1
            return
        counters[0] += 1
        t = int(counters[0])
        hyper[LR_T] = float(hyper[LR]) * math.sqrt(1.0 - _int_power(float(hyper[BETA2]), t)) / (
            1.0 - _int_power(float(hyper[BETA1]), t))
        lr_t, b1, b2, omb1, omb2, eps = (hyper[LR_T], hyper[BETA1], hyper[BETA2], hyper[OMB1],
                                         hyper[OMB2], hyper[EPSILON])
        s1 *= b1
        np.multiply(g, omb1, out=step)
        s1 += step  # m1 = b1 m1 + (1 - b1) g
        np.multiply(g, omb2, out=step)
        step *= g
        s2 *= b2
        s2 += step  # m2 = b2 m2 + (1 - b2) g g
        np.sqrt(s2, out=step)
        step += eps
        np.multiply(s1, lr_t, out=g)
        g /= step
        theta -= g

    # ------------------------------------------------------------- one epoch
    def run(self, X, Y, sw, perm, theta, grad, s1, s2, hyper, counters):
        """One epoch over ``perm``; ``(total, wsum, status)`` as the compiled
        drivers (``sw`` empty: unit weights).  ``theta``, ``grad``, ``s1``,
        ``s2``, ``hyper`` and ``counters`` are updated in place.  A diverging
        fit overflows silently, as the compiled epoch does: the non-finite loss
        is reported by ``status`` and handled by the caller."""
        with np.errstate(all="ignore"):
            return self._run(X, Y, sw, perm, theta, grad, s1, s2, hyper, counters)

    def _run(self, X, Y, sw, perm, theta, grad, s1, s2, hyper, counters):
        sparse = sp.issparse(X)
        Ws, bs = self._layers(theta)
        gWs, gbs = self._layers(grad)
        np.multiply(self.weights, hyper[ALPHA], out=self.alpha)
        n_layers = len(Ws)
        acts, deltas, batch = self.acts, self.deltas, self.batch
        weighted = sw.shape[0] > 0
        scale = np.float64(hyper[GRAD_SCALE])  # (hyper / m in float64, as compiled)
        total = 0.0
        wsum = 0.0
        n = perm.shape[0]
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            m = idx.shape[0]
            if sparse:
                Xs = X[idx]
                A = None
            else:
                A = np.take(X, idx, axis=0, out=self.Xb[:m])
            yb = Y[idx]
            swb = sw[idx] if weighted else None
            # forward
            for layer in range(n_layers):
                Z = acts[layer][:m]
                if A is None:
                    np.copyto(Z, Xs @ Ws[0])
                else:
                    np.matmul(A, Ws[layer], out=Z)
                if layer < n_layers - 1:
                    self._forward(Z, bs[layer])
                else:
                    Z += bs[layer]
                A = Z
            # the output loss and d loss / d raw, scaled to the mean's gradient
            D = deltas[-1][:m]
            loss = self.output(yb, A, swb, D)
            if not math.isfinite(loss):
                return total, wsum, NON_FINITE
            total += loss
            np.multiply(D, scale / m, out=D)
            wsum += float(np.sum(swb, dtype=np.float64)) if weighted else float(m)
            # backward
            for layer in range(n_layers - 1, -1, -1):
                D = deltas[layer][:m]
                np.sum(D, axis=0, out=gbs[layer])
                if layer == 0:
                    if sparse:
                        np.copyto(gWs[0], Xs.T @ D)
                    else:
                        np.matmul(self.Xb[:m].T, D, out=gWs[0])
                    break
                Ap = acts[layer - 1][:m]
                np.matmul(Ap.T, D, out=gWs[layer])
                Dp = deltas[layer - 1][:m]
                np.matmul(D, Ws[layer].T, out=Dp)
                self._derivative(Ap, Dp)
            self._update(theta, grad, s1, s2, hyper, counters)
        return total, wsum, OK
