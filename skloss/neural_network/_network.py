"""The network's parameters: layout, initialisation and the NumPy forward pass.

Training keeps every weight and intercept in one flat vector ``theta``,
``[W_1, b_1, W_2, b_2, ...]`` with ``W_l`` of shape ``(n_in, n_out)`` in C order
(the layout of :mod:`skloss._kernels._net`).  The fitted attributes ``coefs_``
and ``intercepts_`` are the same arrays unpacked, as in scikit-learn's
``MLPClassifier``.  Prediction runs in NumPy (BLAS matrix products); it needs no
compilation.
"""

import numpy as np
from scipy import special

ACTIVATIONS = ("identity", "relu", "tanh", "logistic", "leaky_relu")
LEAKY_RELU_SLOPE = 0.01  # the value compiled in skloss._kernels._net


def layer_sizes(n_features, hidden_layer_sizes, n_outputs):
    """``(n_features, h_1, ..., h_L, n_outputs)`` as an int64 array."""
    return np.array([n_features, *hidden_layer_sizes, n_outputs], dtype=np.int64)


def n_params(sizes):
    return int(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])))


def init_theta(sizes, activation, rng, dtype):
    """Glorot-uniform weights and intercepts, as scikit-learn's MLP draws them.

    ``bound = sqrt(factor / (n_in + n_out))`` with ``factor = 2`` for the
    logistic activation and ``6`` otherwise; intercepts are drawn from the same
    interval.  Drawn in float64 (so float32 and float64 fits start from the same
    point) and cast to ``dtype``.
    """
    parts = []
    factor = 2.0 if activation == "logistic" else 6.0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(factor / (n_in + n_out))
        parts.append(rng.uniform(-bound, bound, (n_in, n_out)).ravel())
        parts.append(rng.uniform(-bound, bound, n_out))
    return np.concatenate(parts).astype(dtype, copy=False)


def unpack(theta, sizes, copy=True):
    """Split ``theta`` into the lists ``coefs`` and ``intercepts``."""
    coefs, intercepts = [], []
    off = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        n_in, n_out = int(n_in), int(n_out)
        w = theta[off:off + n_in * n_out].reshape(n_in, n_out)
        off += n_in * n_out
        b = theta[off:off + n_out]
        off += n_out
        coefs.append(w.copy() if copy else w)
        intercepts.append(b.copy() if copy else b)
    return coefs, intercepts


def pack(coefs, intercepts, dtype):
    """The flat parameter vector of ``coefs`` and ``intercepts``."""
    parts = []
    for w, b in zip(coefs, intercepts):
        parts.append(np.asarray(w, dtype=dtype).ravel())
        parts.append(np.asarray(b, dtype=dtype).ravel())
    return np.ascontiguousarray(np.concatenate(parts), dtype=dtype)


def squared_weight_norm(theta, sizes):
    """``sum_l ||W_l||_F^2`` (intercepts excluded), in float64."""
    total = 0.0
    off = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = theta[off:off + n_in * n_out]
        total += float(np.dot(w, w))
        off += n_in * n_out + n_out
    return total


def activate(Z, activation):
    """Apply a hidden-layer activation in place and return ``Z``."""
    if activation == "relu":
        np.maximum(Z, 0, out=Z)
    elif activation == "tanh":
        np.tanh(Z, out=Z)
    elif activation == "logistic":
        special.expit(Z, out=Z)
    elif activation == "leaky_relu":
        np.multiply(Z, np.where(Z > 0, 1.0, LEAKY_RELU_SLOPE).astype(Z.dtype), out=Z)
    elif activation != "identity":
        raise ValueError(f"Unknown activation {activation!r}; expected one of {ACTIVATIONS}.")
    return Z


def forward(X, coefs, intercepts, activation):
    """The raw prediction (output of the last layer, before the inverse link)."""
    A = X
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = A @ W
        Z += b
        A = Z if i == last else activate(Z, activation)
    return A
