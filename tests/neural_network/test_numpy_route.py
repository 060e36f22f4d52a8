"""The NumPy route of small networks (``_numpy_epoch``) against the compiled epoch.

A small fit runs its epochs in NumPy (no numba import, nothing compiled); a large
one in the compiled drivers of ``skloss._kernels._net``.  The two must be the
same algorithm: each case below is fitted on both routes (forced through
``_base._numpy_route``) from the same start and must give the same weights to
rounding.  The compiled epoch is the independent reference (its gradients are
checked against finite differences in ``test_gradients.py``).
"""

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from skloss.losses import get_loss, make_loss
from skloss.neural_network import SGDNetClassifier, SGDNetRegressor, _base, _numpy_epoch


def _data(n=120, p=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, p))
    score = X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n)
    return rng, X, score


def _fit(monkeypatch, numpy, est, X, y, partial=False, **fit_kw):
    monkeypatch.setattr(_base, "_numpy_route", lambda *args: numpy)
    epochs = []
    run = _numpy_epoch.NumpyEpoch.run

    def counted(self, *args):
        epochs.append(1)
        return run(self, *args)

    monkeypatch.setattr(_numpy_epoch.NumpyEpoch, "run", counted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if partial:
            est.partial_fit(X, y, **fit_kw)
            fit_kw.pop("classes", None)
            est.partial_fit(X, y, **fit_kw)
        else:
            est.fit(X, y, **fit_kw)
    assert bool(epochs) == numpy  # (the route asked for is the one taken)
    return est


def _assert_same(a, b, rtol):
    assert a.n_iter_ == b.n_iter_
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert u.dtype == v.dtype
        scale = max(np.max(np.abs(v)), 1e-300)
        np.testing.assert_array_less(np.max(np.abs(u - v)) / scale, rtol)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=max(rtol, 1e-12))


def _both(monkeypatch, make, X, y, rtol=1e-10, **kw):
    fits = [_fit(monkeypatch, route, make(), X, y, **kw) for route in (True, False)]
    _assert_same(*fits, rtol)
    return fits


def _clf(**kw):
    base = dict(hidden_layer_sizes=(7, 5), max_iter=3, batch_size=16, random_state=0, tol=0)
    return lambda: SGDNetClassifier(**{**base, **kw})


def _reg(**kw):
    base = dict(hidden_layer_sizes=(7, 5), max_iter=3, batch_size=16, random_state=0, tol=0)
    return lambda: SGDNetRegressor(**{**base, **kw})


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity", "leaky_relu"])
def test_softmax_every_activation(monkeypatch, activation):
    rng, X, score = _data()
    y = np.digitize(score, [-0.5, 0.5])  # 3 classes
    _both(monkeypatch, _clf(activation=activation), X, y)


@pytest.mark.parametrize("loss", ["log_loss", get_loss("log_loss", label_smoothing=0.1)])
def test_binary_log_loss_and_label_smoothing(monkeypatch, loss):
    rng, X, score = _data()
    y = (score > 0).astype(int)
    _both(monkeypatch, _clf(loss=loss), X, y)
    _both(monkeypatch, _clf(loss=loss), X, np.digitize(score, [-0.5, 0.5]))


@pytest.mark.parametrize("loss", ["modified_huber", "squared_hinge"])
def test_one_vs_rest_form(monkeypatch, loss):
    rng, X, score = _data()
    y = np.digitize(score, [-0.5, 0.5])
    fits = _both(monkeypatch, _clf(loss=loss), X, y)
    assert fits[0].coefs_[-1].shape[1] == 3


@pytest.mark.parametrize("optimizer", [
    dict(optimizer="sgd", momentum=0.9, nesterov=True),
    dict(optimizer="sgd", momentum=0.9, nesterov=False),
    dict(optimizer="sgd", momentum=0.0),
    dict(optimizer="adam", learning_rate_init=0.01),
    dict(optimizer="sgd", learning_rate="invscaling", alpha=0.05),
    dict(optimizer="adam", alpha=0.05),
])
def test_optimizers_and_penalty(monkeypatch, optimizer):
    rng, X, score = _data()
    y = np.digitize(score, [-0.5, 0.5])
    _both(monkeypatch, _clf(**optimizer), X, y)


def test_sample_weights_and_class_weight(monkeypatch):
    rng, X, score = _data()
    y = np.digitize(score, [-0.5, 0.5])
    sw = rng.uniform(0.0, 3.0, size=y.shape[0])
    sw[:5] = 0.0
    _both(monkeypatch, _clf(), X, y, sample_weight=sw)
    _both(monkeypatch, _clf(class_weight="balanced"), X, (score > 0.4).astype(int),
          sample_weight=sw)


def test_csr_input(monkeypatch):
    rng, X, score = _data()
    X = X * (rng.uniform(size=X.shape) < 0.4)
    y = np.digitize(score, [-0.5, 0.5])
    Xs = sp.csr_matrix(X)
    fits = _both(monkeypatch, _clf(), Xs, y)
    _both(monkeypatch, _clf(), Xs, (score > 0).astype(int))
    _both(monkeypatch, _reg(), Xs, score)
    # and a CSR fit is the dense fit
    dense = _fit(monkeypatch, True, _clf()(), X, y)
    _assert_same(fits[0], dense, 1e-10)


@pytest.mark.parametrize("loss", ["squared_error", "huber", "poisson"])
def test_regression_single_and_multi_output(monkeypatch, loss):
    rng, X, score = _data()
    y = np.exp(0.3 * score) if loss == "poisson" else 3.0 * score + 1.0
    _both(monkeypatch, _reg(loss=loss), X, y)
    Y = np.column_stack([y, 0.5 * y + 0.1])
    _both(monkeypatch, _reg(loss=loss), X, Y, sample_weight=rng.uniform(0.5, 2.0, X.shape[0]))


def test_linear_network(monkeypatch):
    rng, X, score = _data()
    _both(monkeypatch, _clf(hidden_layer_sizes=()), X, np.digitize(score, [-0.5, 0.5]))
    _both(monkeypatch, _reg(hidden_layer_sizes=()), X, score)


def test_early_stopping(monkeypatch):
    rng, X, score = _data(n=200)
    y = np.digitize(score, [-0.5, 0.5])
    a, b = _both(monkeypatch, _clf(early_stopping=True, max_iter=4), X, y)
    np.testing.assert_allclose(a.validation_scores_, b.validation_scores_, rtol=1e-12)
    a, b = _both(monkeypatch, _reg(early_stopping=True, max_iter=4), X, score)
    np.testing.assert_allclose(a.validation_scores_, b.validation_scores_, rtol=1e-12)


def test_partial_fit(monkeypatch):
    rng, X, score = _data()
    y = np.digitize(score, [-0.5, 0.5])
    _both(monkeypatch, _clf(), X, y, partial=True, classes=[0, 1, 2])
    _both(monkeypatch, _reg(optimizer="adam"), X, score, partial=True)


def test_custom_losses_on_both_routes(monkeypatch):
    rng, X, score = _data()
    square = make_loss(loss=lambda y, r: (y - r) ** 2, gradient=lambda y, r: 2.0 * (r - y),
                       name="route_square")
    _both(monkeypatch, _reg(loss=square), X, score)
    base = type(get_loss("log_loss"))

    class Halved(base):  # overrides the evaluation: no twin, no fused kernel
        def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
            out = super()._evaluate(y, raw, sw, want_loss, want_grad, want_hess)
            return tuple(None if o is None else 0.5 * o for o in out)

    assert _numpy_epoch.twin_kind(Halved(), "multiclass") is None
    y = np.digitize(score, [-0.5, 0.5])
    a, b = _both(monkeypatch, _clf(loss=Halved()), X, y)
    plain = _fit(monkeypatch, True, _clf()(), X, y)
    assert not np.allclose(a.coefs_[0], plain.coefs_[0])  # the override is used


def test_float32(monkeypatch):
    rng, X, score = _data()
    X = X.astype(np.float32)
    y = np.digitize(score, [-0.5, 0.5])
    for act in ("relu", "tanh", "logistic", "leaky_relu"):
        a, b = _both(monkeypatch, _clf(activation=act), X, y, rtol=1e-4)
        assert a.coefs_[0].dtype == np.float32
    _both(monkeypatch, _clf(optimizer="adam"), X, (score > 0).astype(int), rtol=1e-4)
    _both(monkeypatch, _reg(), X, score, rtol=1e-4)


def test_twins_reproduce_the_kernels():
    # the NumPy output layers against the loss objects (the compiled kernels)
    rng = np.random.RandomState(1)
    m, k = 40, 4
    raw = rng.normal(scale=8.0, size=(m, k))
    raw[0] = 1e6
    raw[1, 0] = -1e6
    sw = rng.uniform(0.0, 2.0, m)
    for eps in (0.0, 0.2):
        loss = get_loss("log_loss", label_smoothing=eps)
        params = np.array(loss._kernel_params(), dtype=np.float64)
        y = rng.randint(0, k, m).astype(np.float64)
        for weights in (None, sw):
            for form, yy, rr in (("multiclass", y, raw), ("binary", (y > 1) * 1.0, raw[:, :1])):
                out = _numpy_epoch.make_output(loss, form, params, m, rr.shape[1], np.float64)
                D = np.empty_like(rr)
                total = out(yy, rr, weights, D)
                ref_l, ref_g = loss.loss_gradient(yy, rr if form == "multiclass" else rr[:, 0],
                                                  weights)
                np.testing.assert_allclose(D.reshape(ref_g.shape), ref_g, rtol=1e-13, atol=1e-15)
                np.testing.assert_allclose(total, np.sum(ref_l), rtol=1e-13)
    square = get_loss("squared_error")
    out = _numpy_epoch.make_output(square, "regression", np.empty(0), m, k, np.float64)
    Y = rng.normal(size=(m, k))
    D = np.empty_like(raw)
    total = out(Y, raw, sw, D)
    np.testing.assert_allclose(D, 2.0 * (raw - Y) * sw[:, None], rtol=1e-15)
    np.testing.assert_allclose(total, np.sum((raw - Y) ** 2 * sw[:, None]), rtol=1e-13)


def test_layout_constants_are_the_compiled_epochs():
    from skloss._kernels import _net
    from skloss.neural_network import _network

    for name in ("LR", "MOMENTUM", "NESTEROV", "ALPHA", "BETA1", "BETA2", "EPSILON",
                 "GRAD_SCALE", "LR_T", "OMB1", "OMB2", "N_HYPER", "OK", "NON_FINITE",
                 "OPTIMIZERS"):
        assert getattr(_numpy_epoch, name) == getattr(_net, name), name
    assert _network.ACTIVATIONS == _net.ACTIVATIONS
    assert _network.LEAKY_RELU_SLOPE == _net.LEAKY_RELU_SLOPE


def test_route_choice_by_size():
    from skloss.neural_network._network import layer_sizes

    digits = layer_sizes(64, [100], 10)
    assert _base._numpy_route(1797, digits, 5, 200)  # max_iter=5
    assert _base._numpy_route(1797, digits, 5, 32)
    assert _base._numpy_route(1797, digits, 1, 200)  # partial_fit
    assert not _base._numpy_route(1797, digits, 200, 200)  # the default max_iter
    # benchmarks/bench_sgdnet.py: 60,000 x 784, 128 hidden units, 3 epochs
    assert not _base._numpy_route(60000, layer_sizes(784, [128], 10), 3, 256)
    assert not _base._numpy_route(60000, layer_sizes(784, [128], 10), 1, 32)
    # a tiny network over many rows: many minibatch steps
    assert not _base._numpy_route(200000, layer_sizes(4, [3], 1), 5, 32)


_COLD = textwrap.dedent(
    """
    import json, os, sys, warnings
    import numpy as np
    from sklearn.datasets import load_digits
    from skloss import SGDNetClassifier, SGDNetRegressor

    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = SGDNetClassifier(max_iter=5, random_state=0).fit(X, y)
        proba = clf.predict_proba(X[:5])
        acc = clf.score(X, y)
        SGDNetClassifier(max_iter=3, early_stopping=True, random_state=0).fit(X, y % 2)
        SGDNetClassifier(max_iter=3, random_state=0).partial_fit(X, y, classes=np.arange(10))
        reg = SGDNetRegressor(max_iter=3, random_state=0).fit(X, X[:, :2] @ [1.0, 2.0])
        reg.score(X, X[:, :2] @ [1.0, 2.0])
    print(json.dumps({"numba": "numba" in sys.modules, "acc": acc,
                      "files": sum(len(f) for _, _, f in os.walk(os.environ["NUMBA_CACHE_DIR"]))}))
    """
)


def test_a_small_fit_imports_no_numba_and_compiles_nothing(tmp_path):
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-c", _COLD], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"numba": False, "acc": out["acc"], "files": 0}, out
    assert out["acc"] > 0.8


def test_forced_route(monkeypatch):
    from skloss.neural_network._network import layer_sizes

    big = (60000, layer_sizes(784, [128], 10), 3, 256)
    with _base._forced_route(numpy=True):
        assert _base._numpy_route(*big)
        with _base._forced_route(numpy=False):
            assert not _base._numpy_route(1797, layer_sizes(64, [100], 10), 5, 200)
        assert _base._numpy_route(*big)
    assert not _base._numpy_route(*big)


def test_divergence_is_handled_alike(monkeypatch):
    # a step far too large: the minibatch loss overflows; both routes report it
    # through the status (no NumPy warning), reject the epoch and recover alike
    rng, X, score = _data()
    fits = []
    for route in (True, False):
        monkeypatch.setattr(_base, "_numpy_route", lambda *args: route)
        est = _reg(learning_rate_init=1e3, momentum=0.0, max_iter=4)()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fits.append(est.fit(X * 1e6, score))
        messages = [str(w.message) for w in seen]
        assert not [w for w in seen if issubclass(w.category, RuntimeWarning)], messages
        assert any("diverged" in m for m in messages), messages
        assert all(np.all(np.isfinite(c)) for c in est.coefs_)
    _assert_same(*fits, 1e-10)
