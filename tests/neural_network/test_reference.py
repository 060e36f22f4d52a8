"""The same network written in plain NumPy gives the same first-epoch weights.

The reference follows the documented recipe only: Glorot-uniform weights and
intercepts drawn from ``RandomState(random_state)`` layer by layer (weights,
then intercepts), the output intercepts set to the loss's intercept-only
optimum, one ``permutation`` of the samples per epoch from the same generator,
minibatches in that order (the last one shorter), the minibatch gradient
``sum_B s_i grad_i / (m * mean(s)) + alpha W`` and the documented SGD-Nesterov
and Adam updates (for squared error, on the standardised target with the step
divided by the loss's curvature).  The loss gradients are written out here (softmax and
sigmoid cross-entropy, squared error), not taken from the package.
"""

import numpy as np
import pytest
from scipy import special
from sklearn.exceptions import ConvergenceWarning

from skloss.losses import get_loss
from skloss.neural_network import SGDNetClassifier, SGDNetRegressor

pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)


def _init(sizes, rng, factor=6.0):
    coefs, intercepts = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(factor / (n_in + n_out))
        coefs.append(rng.uniform(-bound, bound, (n_in, n_out)))
        intercepts.append(rng.uniform(-bound, bound, n_out))
    return coefs, intercepts


def _act(z, name):
    return {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh}[name](z)


def _act_grad(a, name):
    return {"relu": lambda v: (v > 0).astype(float), "tanh": lambda v: 1 - v * v}[name](a)


class _SGD:
    def __init__(self, params, lr, mu, nesterov):
        self.v = [np.zeros_like(p) for p in params]
        self.lr, self.mu, self.nesterov = lr, mu, nesterov

    def step(self, params, grads):
        for p, g, v in zip(params, grads, self.v):
            v *= self.mu
            v -= self.lr * g
            p += (self.mu * v - self.lr * g) if self.nesterov else v


class _Adam:
    def __init__(self, params, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.m = [np.zeros_like(p) for p in params]
        self.s = [np.zeros_like(p) for p in params]
        self.t = 0
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps

    def step(self, params, grads):
        self.t += 1
        lr_t = self.lr * np.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for p, g, m, s in zip(params, grads, self.m, self.s):
            m[...] = self.b1 * m + (1 - self.b1) * g
            s[...] = self.b2 * s + (1 - self.b2) * g * g
            p -= lr_t * m / (np.sqrt(s) + self.eps)


def _output_delta(kind, raw, y):
    # derivative of the per-sample loss with respect to the raw output
    if kind == "softmax":
        p = special.softmax(raw, axis=1)
        p[np.arange(y.shape[0]), y] -= 1
        return p
    if kind == "sigmoid":
        return special.expit(raw) - y.reshape(-1, 1)
    return 2 * (raw - y.reshape(-1, 1))  # squared error (no 1/2)


def _reference_epoch(X, y, sw, sizes, kind, bias0, activation, alpha, batch, opt, seed):
    rng = np.random.RandomState(seed)
    coefs, intercepts = _init(sizes, rng)
    intercepts[-1][:] = bias0
    params = coefs + intercepts
    optimizer = opt(params)
    perm = rng.permutation(X.shape[0])
    s = np.ones(X.shape[0]) if sw is None else sw
    s_bar = s.mean()
    for start in range(0, X.shape[0], batch):
        idx = perm[start:start + batch]
        m = idx.shape[0]
        acts = [X[idx]]
        for i, (w, b) in enumerate(zip(coefs, intercepts)):
            z = acts[-1] @ w + b
            acts.append(z if i == len(coefs) - 1 else _act(z, activation))
        delta = _output_delta(kind, acts[-1], y[idx]) * s[idx].reshape(-1, 1) / (m * s_bar)
        gw, gb = [None] * len(coefs), [None] * len(coefs)
        for i in range(len(coefs) - 1, -1, -1):
            gw[i] = acts[i].T @ delta + alpha * coefs[i]
            gb[i] = delta.sum(axis=0)
            if i:
                delta = (delta @ coefs[i].T) * _act_grad(acts[i], activation)
        optimizer.step(params, gw + gb)
    return coefs, intercepts


def _compare(est, coefs, intercepts, rtol=1e-9):
    for a, b in zip(est.coefs_ + est.intercepts_, coefs + intercepts):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


def _data(seed, n=103, p=6):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, p)), rng


@pytest.mark.parametrize("nesterov", [True, False])
def test_softmax_sgd_first_epoch(nesterov):
    X, rng = _data(0)
    y = rng.randint(4, size=X.shape[0])
    est = SGDNetClassifier(
        hidden_layer_sizes=(7, 5), activation="relu", momentum=0.8, nesterov=nesterov,
        learning_rate_init=0.05, batch_size=16, max_iter=1, alpha=1e-3, random_state=3,
    ).fit(X, y)
    bias0 = get_loss("log_loss").init_raw_prediction(y, n_classes=4)
    coefs, intercepts = _reference_epoch(
        X, y, None, [6, 7, 5, 4], "softmax", bias0, "relu", 1e-3, 16,
        lambda p: _SGD(p, 0.05, 0.8, nesterov), seed=3,
    )
    _compare(est, coefs, intercepts)


def test_binary_adam_weighted_first_epoch():
    X, rng = _data(1)
    y = rng.randint(2, size=X.shape[0])
    sw = rng.uniform(0.2, 3.0, size=X.shape[0])
    est = SGDNetClassifier(
        hidden_layer_sizes=(8,), activation="tanh", optimizer="adam", learning_rate_init=0.01,
        batch_size=10, max_iter=1, alpha=1e-2, random_state=7,
    ).fit(X, y, sample_weight=sw)
    bias0 = get_loss("log_loss").init_raw_prediction(y, sw)
    coefs, intercepts = _reference_epoch(
        X, y, sw, [6, 8, 1], "sigmoid", bias0, "tanh", 1e-2, 10,
        lambda p: _Adam(p, 0.01), seed=7,
    )
    _compare(est, coefs, intercepts)


def test_regression_float32_first_epoch():
    X, rng = _data(2)
    y = X @ rng.normal(size=X.shape[1]) + 0.3 * rng.normal(size=X.shape[0])
    est = SGDNetRegressor(
        hidden_layer_sizes=(5,), activation="tanh", learning_rate_init=0.01, batch_size=20,
        max_iter=1, random_state=0,
    )
    est.fit(X.astype(np.float32), y.astype(np.float32))
    assert all(c.dtype == np.float32 for c in est.coefs_ + est.intercepts_)
    # squared error is location-scale equivariant: the network learns the
    # standardised target (y - m) / s, its SGD steps divided by the loss's
    # curvature (2 for squared error), and the output layer maps back
    m, s = np.mean(y), np.std(y)
    coefs, intercepts = _reference_epoch(
        X, (y - m) / s, None, [6, 5, 1], "squared", 0.0, "tanh", 1e-4, 20,
        lambda p: _SGD(p, 0.01 / 2, 0.9, True), seed=0,
    )
    coefs[-1] *= s
    intercepts[-1] = m + s * intercepts[-1]
    _compare(est, coefs, intercepts, rtol=2e-4)
