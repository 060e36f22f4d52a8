"""The compiled epoch takes exact gradient steps of the documented objective.

One full-batch epoch of plain SGD (momentum 0) from known weights moves them
by exactly minus the learning rate over ``step_scale`` times the gradient of

    F = sum_i s_i loss(y_i, f(x_i)) / sum_i s_i + alpha / 2 sum_l ||W_l||^2,

which is checked against central finite differences of ``F`` computed here in
NumPy (forward pass written independently of the package, loss values from the
loss objects' ``loss`` method).
"""

import numpy as np
import pytest
from scipy import special
from sklearn.exceptions import ConvergenceWarning

from skloss.losses import get_loss
from skloss.neural_network import SGDNetClassifier, SGDNetRegressor

pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)

ACTIVATIONS = ["identity", "relu", "tanh", "logistic", "leaky_relu"]


def _act(z, name):
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "logistic":
        return special.expit(z)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    return z


def _raw(coefs, intercepts, X, activation):
    a = X
    for i, (w, b) in enumerate(zip(coefs, intercepts)):
        z = a @ w + b
        a = z if i == len(coefs) - 1 else _act(z, activation)
    return a


def _objective(params, shapes, X, y, sw, loss, activation, alpha, task):
    coefs, intercepts, off = [], [], 0
    for n_in, n_out in shapes:
        coefs.append(params[off:off + n_in * n_out].reshape(n_in, n_out))
        off += n_in * n_out
        intercepts.append(params[off:off + n_out])
        off += n_out
    raw = _raw(coefs, intercepts, X, activation)
    if task == "regression":
        total = sum(np.sum(loss.loss(y[:, k], raw[:, k], sw)) for k in range(raw.shape[1]))
    elif raw.shape[1] == 1:
        total = np.sum(loss.loss(y, raw[:, 0], sw))
    else:
        total = np.sum(loss.loss(y, raw, sw))
    weight = X.shape[0] if sw is None else np.sum(sw)
    return total / weight + 0.5 * alpha * sum(np.sum(w * w) for w in coefs)


def _flat(coefs, intercepts):
    return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(coefs, intercepts)])


def _check_gradient(est, X, y, y_enc, sw, task):
    # a first epoch reaches generic weights, the second takes one exact step.
    # The step is taken in the training parametrisation (documented in
    # skloss.neural_network._base): a location-scale equivariant regression
    # loss sees the standardised target, and SGD steps are divided by the
    # loss's curvature at the start (``step_scale``).
    est.set_params(learning_rate_init=0.05)
    est.fit(X, y, sample_weight=sw)
    target, sizes = est._target, est._sizes
    theta0 = target.to_training(_flat(est.coefs_, est.intercepts_), sizes)
    shapes = [w.shape for w in est.coefs_]
    lr = 0.1
    est.set_params(learning_rate_init=lr)
    est.fit(X, y, sample_weight=sw)
    theta1 = target.to_training(_flat(est.coefs_, est.intercepts_), sizes)
    step = (theta0 - theta1) * est._optimizer.step_scale / lr
    y_train = target.forward(y_enc, np.float64) if task == "regression" else y_enc

    loss = get_loss(est.loss)
    h = 1e-6
    fd = np.empty_like(theta0)
    for j in range(theta0.shape[0]):
        e = np.zeros_like(theta0)
        e[j] = h
        args = (shapes, X, y_train, sw, loss, est.activation, est.alpha, task)
        fd[j] = (_objective(theta0 + e, *args) - _objective(theta0 - e, *args)) / (2 * h)
    np.testing.assert_allclose(step, fd, rtol=2e-5, atol=2e-7)


def _net(cls, loss, activation, **kw):
    return cls(
        loss=loss, hidden_layer_sizes=(4, 3), activation=activation, optimizer="sgd",
        momentum=0.0, nesterov=False, max_iter=1, batch_size=40, alpha=0.01, shuffle=False,
        warm_start=True, random_state=0, **kw,
    )


def _data(seed=0, n=40, p=5):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, p)), rng


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_gradient_every_activation(activation, n_classes):
    X, rng = _data()
    y = rng.randint(n_classes, size=X.shape[0])
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    est = _net(SGDNetClassifier, "log_loss", activation)
    _check_gradient(est, X, y, y.astype(float), sw, "classification")


@pytest.mark.parametrize(
    "loss, n_classes",
    [
        ("hinge", 2),
        ("hinge", 3),  # Crammer-Singer
        ("focal", 2),
        ("focal", 3),
        ("brier", 3),
        ("probit", 3),  # one-vs-rest K-score form
        ("modified_huber", 3),
        ("squared_hinge", 2),
        ("exponential", 2),
        (get_loss("log_loss", label_smoothing=0.1), 3),
        (get_loss("kl_divergence", label_smoothing=0.2), 3),
    ],
    ids=str,
)
def test_classifier_gradient_losses(loss, n_classes):
    X, rng = _data(1)
    y = rng.randint(n_classes, size=X.shape[0])
    est = _net(SGDNetClassifier, loss, "tanh")
    _check_gradient(est, X, y, y.astype(float), None, "classification")


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_regressor_gradient_every_activation(activation):
    X, rng = _data(2)
    y = X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.normal(size=X.shape[0])
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    est = _net(SGDNetRegressor, "squared_error", activation)
    _check_gradient(est, X, y, y.reshape(-1, 1), sw, "regression")


@pytest.mark.parametrize(
    "loss, positive",
    [
        ("huber", False),
        ("pseudo_huber", False),
        ("log_cosh", False),
        ("quantile", False),
        ("poisson", True),
        ("gamma", True),
        ("student_t", False),
    ],
)
def test_regressor_gradient_losses(loss, positive):
    X, rng = _data(3)
    y = X[:, 0] + rng.normal(size=X.shape[0])
    if positive:
        y = np.exp(0.3 * y)
    est = _net(SGDNetRegressor, loss, "tanh")
    _check_gradient(est, X, y, y.reshape(-1, 1), None, "regression")


def test_regressor_gradient_multi_output():
    X, rng = _data(4)
    Y = np.column_stack([X[:, 0], X[:, 1] - X[:, 2]]) + 0.1 * rng.normal(size=(X.shape[0], 2))
    est = _net(SGDNetRegressor, "huber", "relu")
    _check_gradient(est, X, Y, Y, None, "regression")


def test_linear_model_gradient():
    # hidden_layer_sizes=(): the network is X @ W + b
    X, rng = _data(5)
    y = rng.randint(3, size=X.shape[0])
    est = _net(SGDNetClassifier, "log_loss", "relu").set_params(hidden_layer_sizes=())
    _check_gradient(est, X, y, y.astype(float), None, "classification")
