"""The classification catalogue: binary and multi-class forms.

References: finite differences of the loss (gradient) and of the gradient
(Hessian, Hessian products); scikit-learn's metrics (``log_loss``,
``hinge_loss``, ``brier_score_loss``), its private ``sklearn._loss`` losses and
its SGD losses; scipy (``log_ndtr``, ``norm.logcdf``, ``entropy``,
``rel_entr``); statsmodels' ``Probit``; closed forms written in NumPy.
"""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats
from sklearn.base import clone
from sklearn.metrics import brier_score_loss, hinge_loss, log_loss

from skloss.losses import (
    BrierLoss,
    ExponentialLoss,
    FocalLoss,
    HessianUnavailableError,
    HingeLoss,
    KLDivergence,
    LogLoss,
    ModifiedHuberLoss,
    PerceptronLoss,
    ProbitLoss,
    SquaredHingeLoss,
    available_losses,
    get_loss,
)

# every loss with a representative set of parameters
LOSSES = [
    LogLoss(),
    LogLoss(label_smoothing=0.1),
    KLDivergence(),
    KLDivergence(label_smoothing=0.2),
    ProbitLoss(),
    HingeLoss(),
    SquaredHingeLoss(),
    ModifiedHuberLoss(),
    PerceptronLoss(),
    ExponentialLoss(),
    FocalLoss(),
    FocalLoss(gamma=0.5, alpha=0.25),
    FocalLoss(gamma=3.0, alpha=0.8),
    BrierLoss(),
]
SMOOTH = [loss for loss in LOSSES if loss.has_hessian]
MULTICLASS = [loss for loss in LOSSES if loss.has_multiclass_form]
OVR = [loss for loss in LOSSES if not loss.has_multiclass_form]


def _id(loss):
    return repr(loss)


def _binary_kinks(loss, y, raw):
    """Margin distance to the nearest kink of the loss or its gradient."""
    m = (2 * y - 1) * raw
    kinks = {
        "hinge": [1.0],
        "perceptron": [0.0],
        "squared_hinge": [1.0],
        "modified_huber": [1.0, -1.0],
    }.get(loss.name, [])
    if not kinks:
        return np.full(raw.shape, np.inf)
    return np.min([np.abs(m - k) for k in kinks], axis=0)


def _multiclass_kinks(loss, y, raw):
    """Distance to the nearest kink of the Crammer-Singer / perceptron forms."""
    if loss.name not in ("hinge", "perceptron"):
        return np.full(raw.shape[0], np.inf)
    n, k = raw.shape
    idx = y.astype(int)
    ry = raw[np.arange(n), idx]
    others = raw.copy()
    others[np.arange(n), idx] = -np.inf
    srt = np.sort(others, axis=1)
    best, second = srt[:, -1], srt[:, -2] if k > 2 else np.full(n, -np.inf)
    margin = 1.0 if loss.name == "hinge" else 0.0
    # the hinge itself, and a tie between the two best other classes
    return np.minimum(np.abs(margin + best - ry), best - second)


def _data(seed, n, scale, k=None):
    rng = np.random.default_rng(seed)
    if k is None:
        y = rng.integers(0, 2, n).astype(np.float64)
        raw = rng.normal(0, scale, n)
    else:
        y = rng.integers(0, k, n).astype(np.float64)
        raw = rng.normal(0, scale, (n, k))
    return rng, y, raw


# ------------------------------------------------------------- registry / params
ALIASES = {
    "log_loss": ["log", "binary_crossentropy", "categorical_crossentropy"],
    "kl_divergence": ["kld", "kullback_leibler_divergence", "kl_div", "KLD"],
    "probit": ["probit_loss"],
    "hinge": ["hinge_loss"],
    "squared_hinge": ["squared_hinge_loss", "squared-hinge"],
    "modified_huber": ["modified_huber_loss"],
    "perceptron": ["perceptron_loss"],
    "exponential": ["exponential_loss", "adaboost"],
    "focal": ["focal_loss", "binary_focal_crossentropy", "sigmoid_focal"],
    "brier": ["brier_score", "brier_score_loss"],
}


def test_registry_names_and_aliases():
    assert set(available_losses("classification")) == set(ALIASES)
    for name, aliases in ALIASES.items():
        cls = type(get_loss(name))
        assert cls.name == name and cls.task == "classification"
        for alias in aliases:
            assert type(get_loss(alias)) is cls
    # Keras' categorical_hinge floors the best other score at 0: not our hinge
    with pytest.raises(ValueError, match="Unknown loss"):
        get_loss("categorical_hinge")
    assert get_loss("focal", gamma=1.0, alpha=0.5) == FocalLoss(gamma=1.0, alpha=0.5)


def test_flags():
    flags = {
        # name: (is_probabilistic, is_smooth, has_hessian, has_multiclass_form, link)
        "log_loss": (True, True, True, True, "logit"),
        "kl_divergence": (True, True, True, True, "logit"),
        "probit": (True, True, True, False, "probit"),
        "hinge": (False, False, False, True, "sign"),
        "squared_hinge": (False, True, True, False, "sign"),
        "modified_huber": (True, True, True, False, "clipped_linear"),
        "perceptron": (False, False, False, True, "sign"),
        "exponential": (True, True, True, False, "half_logit"),
        "focal": (True, True, True, True, "logit"),
        "brier": (True, True, True, True, "logit"),
    }
    for name, (prob, smooth, hess, multi, link) in flags.items():
        loss = get_loss(name)
        assert (loss.is_probabilistic, loss.is_smooth, loss.has_hessian) == (prob, smooth, hess), name
        assert loss.has_multiclass_form == multi and loss.link == link, name


@pytest.mark.parametrize("loss", LOSSES, ids=_id)
def test_clone_pickle_equality_set_params(loss):
    c = clone(loss)
    assert c == loss and hash(c) == hash(loss) and c is not loss
    p = pickle.loads(pickle.dumps(loss))
    assert p == loss
    y = np.array([0.0, 1.0, 1.0])
    raw = np.array([-0.3, 0.2, 2.0])
    np.testing.assert_array_equal(p.loss(y, raw), loss.loss(y, raw))
    params = loss.get_params()
    if params:
        key = min(params)
        other = clone(loss).set_params(**{key: 0.05})
        assert other != loss and other.get_params()[key] == 0.05
        assert loss.get_params() == params  # the original is untouched


@pytest.mark.parametrize(
    "loss, message",
    [
        (LogLoss(label_smoothing=1.0), "label_smoothing"),
        (LogLoss(label_smoothing=-0.1), "label_smoothing"),
        (KLDivergence(label_smoothing="a"), "label_smoothing"),
        (FocalLoss(gamma=-1.0), "gamma"),
        (FocalLoss(gamma=np.nan), "gamma"),
        (FocalLoss(alpha=1.5), "alpha"),
    ],
)
def test_invalid_params(loss, message):
    with pytest.raises(ValueError, match=message):
        loss.loss([1.0], [0.0])


@pytest.mark.parametrize("loss", MULTICLASS, ids=_id)
def test_multiclass_rejects_bad_class_index(loss):
    raw = np.zeros((3, 3))
    for bad in ([0.0, 1.0, 3.0], [0.0, -1.0, 2.0], [0.0, 0.5, 2.0]):
        with pytest.raises(ValueError, match="class indices"):
            loss.loss(bad, raw)


# ------------------------------------------------------- finite differences
@pytest.mark.parametrize("loss", LOSSES, ids=_id)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.3, 2.0, 8.0, 25.0]))
def test_binary_gradient_hessian_finite_differences(loss, seed, scale):
    rng, y, raw = _data(seed, 60, scale)
    if loss.name == "exponential":
        raw = np.clip(raw, -30, 30)
    h = 1e-6 * np.maximum(1.0, np.abs(raw))
    keep = _binary_kinks(loss, y, raw) > 10 * h
    y, raw, h = y[keep], raw[keep], h[keep]
    f0 = loss.loss(y, raw)
    fd = (loss.loss(y, raw + h) - loss.loss(y, raw - h)) / (2 * h)
    g = loss.gradient(y, raw)
    tol = 1e-6 * np.maximum(1.0, np.abs(g)) + 1e-9 * np.maximum(1.0, np.abs(f0)) / h
    assert np.all(np.abs(g - fd) <= tol)
    if loss.has_hessian:
        fd2 = (loss.gradient(y, raw + h) - loss.gradient(y, raw - h)) / (2 * h)
        hess = loss.hessian(y, raw)
        tol = 1e-6 * np.maximum(1.0, np.abs(hess)) + 1e-9 * np.maximum(1.0, np.abs(g)) / h
        assert np.all(np.abs(hess - fd2) <= tol)
        d = rng.normal(size=raw.shape)
        np.testing.assert_allclose(loss.hessian_product(y, raw, d), hess * d, rtol=1e-12)
    else:
        with pytest.raises(HessianUnavailableError):
            loss.hessian(y, raw)


@pytest.mark.parametrize("loss", LOSSES, ids=_id)
@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([0.3, 2.0, 6.0]),
    k=st.sampled_from([2, 3, 5]),
)
def test_multiclass_gradient_hessian_finite_differences(loss, seed, scale, k):
    rng, y, raw = _data(seed, 40, scale, k)
    if loss.name == "exponential":
        raw = np.clip(raw, -20, 20)
    eps = 1e-6
    keep = _multiclass_kinks(loss, y, raw) > 10 * eps * np.maximum(1, np.abs(raw).max(axis=1))
    y, raw = y[keep], raw[keep]
    f0 = np.abs(loss.loss(y, raw))[:, None]
    g = loss.gradient(y, raw)
    gscale = np.abs(g).max(axis=1, keepdims=True)

    def close(a, b, value_scale):
        # round-off of the central difference ~ 1e-16 * value / eps, plus truncation
        tol = 1e-6 * np.maximum(1.0, np.abs(b)) + 1e-9 * np.maximum(1.0, value_scale) / eps
        assert np.all(np.abs(a - b) <= tol), np.max(np.abs(a - b) - tol)

    for j in range(k):
        step = np.zeros(k)
        step[j] = eps
        fd = (loss.loss(y, raw + step) - loss.loss(y, raw - step)) / (2 * eps)
        close(g[:, [j]], fd[:, None], f0)
        if loss.has_hessian:
            fd2 = (loss.gradient(y, raw + step)[:, j] - loss.gradient(y, raw - step)[:, j]) / (2 * eps)
            close(loss.hessian(y, raw)[:, [j]], fd2[:, None], gscale)
    if loss.has_hessian:
        d = rng.normal(size=raw.shape)
        fd = (loss.gradient(y, raw + eps * d) - loss.gradient(y, raw - eps * d)) / (2 * eps)
        hd = loss.hessian_product(y, raw, d)
        close(hd, fd, gscale * np.abs(d).max(axis=1, keepdims=True))
        if loss.has_multiclass_form:
            # symmetric: d2' H d1 == d1' H d2
            d2 = rng.normal(size=raw.shape)
            a = np.sum(d2 * hd, axis=1)
            b = np.sum(d * loss.hessian_product(y, raw, d2), axis=1)
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", SMOOTH, ids=_id)
def test_multiclass_full_hessian_by_columns(loss):
    # the hessian_product on unit vectors rebuilds H; its diagonal is hessian()
    _, y, raw = _data(7, 30, 3.0, 4)
    diag = loss.hessian(y, raw)
    cols = [loss.hessian_product(y, raw, np.broadcast_to(np.eye(4)[j], raw.shape)) for j in range(4)]
    full = np.stack(cols, axis=2)  # full[i, :, j] = H_i e_j
    np.testing.assert_allclose(np.diagonal(full, axis1=1, axis2=2), diag, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(full, np.transpose(full, (0, 2, 1)), rtol=1e-10, atol=1e-15)


# ------------------------------------------------------- values vs references
def test_log_loss_matches_sklearn_metric():
    _, y, raw = _data(0, 300, 3.0)
    sw = np.random.default_rng(1).uniform(0.1, 2, 300)
    loss = LogLoss()
    p = special.expit(raw)
    assert np.isclose(np.average(loss.loss(y, raw), weights=sw), log_loss(y, p, sample_weight=sw), rtol=1e-12)
    _, y3, raw3 = _data(0, 300, 3.0, 4)
    p3 = special.softmax(raw3, axis=1)
    value = np.average(loss.loss(y3, raw3), weights=sw)
    assert np.isclose(value, log_loss(y3, p3, sample_weight=sw, labels=range(4)), rtol=1e-12)


def test_log_loss_matches_sklearn_private_losses():
    from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss

    _, y, raw = _data(3, 500, 5.0)
    ours = LogLoss().loss_gradient(y, raw)
    theirs = HalfBinomialLoss().loss_gradient(y, raw)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-7)  # sklearn approximates log1p beyond |r| > 18
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(LogLoss().hessian(y, raw), HalfBinomialLoss().gradient_hessian(y, raw)[1], rtol=1e-13)
    _, y, raw = _data(3, 500, 5.0, 10)
    sk = HalfMultinomialLoss(n_classes=10)
    # sklearn takes log(sum of exps), losing relative precision for confident rows
    np.testing.assert_allclose(LogLoss().loss(y, raw), sk.loss(y, raw), rtol=1e-12)
    g, h = LogLoss().gradient_hessian(y, raw)
    gs, hs = sk.gradient_hessian(y, raw)
    np.testing.assert_allclose(g, gs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, hs, rtol=1e-12, atol=1e-15)


def test_log_loss_exact_on_a_wide_range():
    # log(1 + exp(-z r)) to a few ulp, the tail included
    rng = np.random.default_rng(5)
    raw = np.concatenate([rng.normal(0, 30, 20000), np.linspace(-745, 745, 2001), [0.0, 1e-300, -1e-300]])
    y = rng.integers(0, 2, raw.size).astype(float)
    z = 2 * y - 1
    ref = -special.log_expit(z * raw)
    np.testing.assert_allclose(LogLoss().loss(y, raw), ref, rtol=3e-15, atol=1e-300)  # denormals: a few units of 5e-324
    np.testing.assert_allclose(LogLoss().gradient(y, raw), -z * special.expit(-z * raw), rtol=3e-15, atol=1e-300)
    np.testing.assert_allclose(ExponentialLoss().loss(y, raw / 2), np.exp(-z * raw / 2), rtol=3e-15, atol=1e-300)


@pytest.mark.parametrize("k", [3, 10, 200])
def test_multiclass_log_loss_exact_for_confident_rows(k):
    # y the arg-max by a margin of 5 to 700: loss = log1p(sum_j exp(r_j - r_y)),
    # a tiny number that log(sum) - r_y would lose; gradient -(others) / (1 + others)
    rng = np.random.default_rng(k)
    n = 500
    y = rng.integers(0, k, n)
    raw = rng.normal(0, 1, (n, k))
    raw[np.arange(n), y] = raw.max(axis=1) + rng.uniform(5, 700, n)
    others = np.exp(raw - raw[np.arange(n), y][:, None])
    others[np.arange(n), y] = 0.0
    so = others.sum(axis=1)
    np.testing.assert_allclose(LogLoss().loss(y, raw), np.log1p(so), rtol=4e-15, atol=1e-300)
    g = LogLoss().gradient(y, raw)
    np.testing.assert_allclose(g[np.arange(n), y], -so / (1 + so), rtol=4e-15, atol=1e-300)
    np.testing.assert_allclose(FocalLoss(gamma=0.0).loss(y, raw), np.log1p(so), rtol=4e-15, atol=1e-300)


def test_label_smoothing_matches_keras_formula():
    _, y, raw = _data(9, 100, 3.0)
    eps = 0.2
    t = y * (1 - eps) + eps / 2
    ref = -(t * special.log_expit(raw) + (1 - t) * special.log_expit(-raw))
    np.testing.assert_allclose(LogLoss(label_smoothing=eps).loss(y, raw), ref, rtol=1e-13)
    _, y, raw = _data(9, 100, 3.0, 5)
    t = (1 - eps) * np.eye(5)[y.astype(int)] + eps / 5
    ref = -np.sum(t * special.log_softmax(raw, axis=1), axis=1)
    np.testing.assert_allclose(LogLoss(label_smoothing=eps).loss(y, raw), ref, rtol=1e-13)
    np.testing.assert_allclose(
        LogLoss(label_smoothing=eps).gradient(y, raw), special.softmax(raw, axis=1) - t, atol=1e-15
    )


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5])
def test_kl_divergence_is_log_loss_minus_entropy(eps):
    _, y, raw = _data(4, 200, 3.0)
    t = y * (1 - eps) + eps / 2
    # scipy: KL of the two-outcome distributions, and the entropy of the target
    kl_ref = np.sum(special.rel_entr(np.c_[1 - t, t], np.c_[special.expit(-raw), special.expit(raw)]), axis=1)
    kl = KLDivergence(label_smoothing=eps)
    np.testing.assert_allclose(kl.loss(y, raw), kl_ref, rtol=1e-10, atol=1e-14)
    entropy = stats.entropy(np.c_[1 - t, t], axis=1)
    np.testing.assert_allclose(kl.loss(y, raw), LogLoss(label_smoothing=eps).loss(y, raw) - entropy, atol=1e-13)
    np.testing.assert_allclose(kl.gradient(y, raw), LogLoss(label_smoothing=eps).gradient(y, raw), rtol=0)
    _, y, raw = _data(4, 200, 3.0, 4)
    t = (1 - eps) * np.eye(4)[y.astype(int)] + eps / 4
    kl_ref = np.sum(special.rel_entr(t, special.softmax(raw, axis=1)), axis=1)
    np.testing.assert_allclose(kl.loss(y, raw), kl_ref, rtol=1e-10, atol=1e-14)
    entropy = stats.entropy(t, axis=1)
    np.testing.assert_allclose(kl.loss(y, raw), LogLoss(label_smoothing=eps).loss(y, raw) - entropy, atol=1e-13)
    np.testing.assert_allclose(kl.hessian(y, raw), LogLoss(label_smoothing=eps).hessian(y, raw), rtol=0)


def test_probit_matches_scipy_log_ndtr():
    x = np.concatenate([np.linspace(-40, 40, 4001), -np.logspace(0, 6, 400), np.logspace(-3, 1.5, 100)])
    ones = np.ones_like(x)
    loss = ProbitLoss()
    ref = -special.log_ndtr(x)
    np.testing.assert_allclose(loss.loss(ones, x), ref, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(loss.loss(1 - ones, -x), ref, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(loss.loss(ones[:4001], x[:4001]), -stats.norm.logcdf(x[:4001]), rtol=1e-12, atol=1e-300)
    # gradient = -phi / Phi (inverse Mills ratio): via scipy's logs in the normal
    # range, and its asymptotic series u + 1/u - 2/u^3 (u = -x) in the far tail
    normal = x > -30
    mills = np.exp(stats.norm.logpdf(x) - special.log_ndtr(x))
    grad = loss.gradient(ones, x)
    np.testing.assert_allclose(grad[normal], -mills[normal], rtol=1e-12, atol=1e-300)
    tail = x < -1e3
    u = -x[tail]
    np.testing.assert_allclose(grad[tail], -(u + 1 / u - 2 / u**3), rtol=1e-15)
    # Hessian = M (x + M); in the tail 1 - 1/u^2 + 6/u^4
    np.testing.assert_allclose(loss.hessian(ones, x)[tail], 1 - 1 / u**2 + 6 / u**4, rtol=1e-15)
    # y in (0, 1): the mixture of the two terms
    yy = np.full(5, 0.3)
    xx = np.linspace(-3, 3, 5)
    np.testing.assert_allclose(
        loss.loss(yy, xx), -(0.3 * special.log_ndtr(xx) + 0.7 * special.log_ndtr(-xx)), rtol=1e-14
    )


def test_probit_loglik_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(0)
    X = sm.add_constant(rng.normal(size=(300, 2)))
    y = (X @ [0.3, 1.0, -0.5] + rng.normal(size=300) > 0).astype(float)
    res = sm.Probit(y, X).fit(disp=0)
    raw = X @ res.params
    loss = ProbitLoss()
    assert np.isclose(-loss.loss(y, raw).sum(), res.llf, rtol=1e-12)
    assert np.isclose(loss.likelihood.loglik(y, raw), res.llf, rtol=1e-12)
    # the score vanishes at the MLE
    np.testing.assert_allclose(X.T @ loss.gradient(y, raw), 0, atol=1e-6)


def test_hinge_matches_sklearn_metric_binary_and_crammer_singer():
    _, y, raw = _data(2, 400, 1.5)
    sw = np.random.default_rng(2).uniform(0.1, 2, 400)
    hinge = HingeLoss()
    assert np.isclose(np.average(hinge.loss(y, raw), weights=sw), hinge_loss(y, raw, sample_weight=sw), rtol=1e-13)
    _, y, raw = _data(2, 400, 1.5, 4)
    assert np.isclose(hinge.loss(y, raw).mean(), hinge_loss(y, raw, labels=range(4)), rtol=1e-13)
    per_sample = [hinge_loss(y[[i]], raw[[i]], labels=range(4)) for i in range(20)]
    np.testing.assert_allclose(hinge.loss(y[:20], raw[:20]), per_sample, rtol=1e-14)
    # K = 2: the multi-class form on (r0, r1) is the binary form on r1 - r0
    _, y, raw = _data(6, 100, 2.0, 2)
    np.testing.assert_allclose(hinge.loss(y, raw), hinge.loss(y, raw[:, 1] - raw[:, 0]), rtol=1e-14)


def test_margin_losses_match_sklearn_sgd_losses():
    from sklearn.linear_model._sgd_fast import Hinge, ModifiedHuber, SquaredHinge

    _, y, raw = _data(8, 300, 2.0)
    z = 2 * y - 1
    refs = {
        HingeLoss(): Hinge(1.0),
        PerceptronLoss(): Hinge(0.0),  # sklearn's perceptron is Hinge(threshold=0)
        SquaredHingeLoss(): SquaredHinge(1.0),
        ModifiedHuberLoss(): ModifiedHuber(),
    }
    for ours, theirs in refs.items():
        value = [theirs.py_loss(r, zi) for r, zi in zip(raw, z)]
        deriv = [theirs.py_dloss(r, zi) for r, zi in zip(raw, z)]
        if ours.name == "perceptron":
            value = np.maximum(0, -z * raw)  # sklearn's Hinge(0) value is max(0, 0 - m) too
        np.testing.assert_allclose(ours.loss(y, raw), value, rtol=1e-14, err_msg=ours.name)
        np.testing.assert_allclose(ours.gradient(y, raw), deriv, rtol=1e-14, err_msg=ours.name)
    # subgradient at the kink: active, as sklearn's
    assert HingeLoss().gradient([1.0], [1.0])[0] == -1.0
    assert PerceptronLoss().gradient([0.0], [0.0])[0] == 1.0


def test_perceptron_multiclass():
    _, y, raw = _data(11, 200, 2.0, 4)
    idx = y.astype(int)
    others = raw.copy()
    others[np.arange(200), idx] = -np.inf
    ref = np.maximum(0, others.max(axis=1) - raw[np.arange(200), idx])
    np.testing.assert_allclose(PerceptronLoss().loss(y, raw), ref, rtol=1e-14)


def test_exponential_matches_sklearn():
    from sklearn._loss.loss import ExponentialLoss as SkExponential

    _, y, raw = _data(12, 300, 3.0)
    ours = ExponentialLoss()
    sk = SkExponential()
    np.testing.assert_allclose(ours.loss(y, raw), sk.loss(y, raw), rtol=1e-14)
    g, h = ours.gradient_hessian(y, raw)
    gs, hs = sk.gradient_hessian(y, raw)
    np.testing.assert_allclose(g, gs, rtol=1e-14)
    np.testing.assert_allclose(h, hs, rtol=1e-14)
    # y in (0, 1), as sklearn's "exponential logistic" form
    ys = np.random.default_rng(0).uniform(0, 1, 300)
    np.testing.assert_allclose(ours.loss(ys, raw), sk.loss(ys, raw), rtol=1e-14)
    np.testing.assert_allclose(ours.gradient(ys, raw), sk.gradient(ys, raw), rtol=1e-13)
    np.testing.assert_allclose(ours.inverse_link(raw), sk.link.inverse(raw), rtol=1e-15)


@pytest.mark.parametrize("scale_by_half", ["auto", True])
def test_brier_matches_sklearn(scale_by_half):
    _, y, raw = _data(13, 300, 2.0)
    sw = np.random.default_rng(3).uniform(0.1, 2, 300)
    brier = BrierLoss()
    p = special.expit(raw)
    value = np.average(brier.loss(y, raw), weights=sw)
    # binary: sklearn halves the two-outcome sum (the default and scale_by_half=True)
    assert np.isclose(value, brier_score_loss(y, p, sample_weight=sw, scale_by_half=scale_by_half), rtol=1e-13)
    _, y, raw = _data(13, 300, 2.0, 4)
    p = special.softmax(raw, axis=1)
    value = np.average(brier.loss(y, raw), weights=sw)
    factor = 0.5 if scale_by_half is True else 1.0  # K >= 3: the full sum by default
    ref = brier_score_loss(y, p, sample_weight=sw, labels=range(4), scale_by_half=scale_by_half)
    assert np.isclose(factor * value, ref, rtol=1e-13)
    # K = 2 columns: the multi-class form is the full sum, twice the binary form
    _, y, raw = _data(14, 50, 2.0, 2)
    np.testing.assert_allclose(brier.loss(y, raw), 2 * brier.loss(y, raw[:, 1] - raw[:, 0]), rtol=1e-12)


def _focal_reference(y, raw, gamma, alpha):
    # Lin et al. written with scipy, binary
    z = 2 * y - 1
    log_pt = special.log_expit(z * raw)
    one_minus_pt = special.expit(-z * raw)
    at = 1.0 if alpha is None else np.where(y == 1, alpha, 1 - alpha)
    return -at * one_minus_pt**gamma * log_pt


@pytest.mark.parametrize("gamma, alpha", [(2.0, None), (0.5, 0.25), (3.0, 0.9), (1.0, 0.0)])
def test_focal_values(gamma, alpha):
    _, y, raw = _data(15, 300, 6.0)
    focal = FocalLoss(gamma=gamma, alpha=alpha)
    np.testing.assert_allclose(focal.loss(y, raw), _focal_reference(y, raw, gamma, alpha), rtol=1e-13, atol=1e-300)
    _, y, raw = _data(15, 300, 4.0, 5)
    log_p = special.log_softmax(raw, axis=1)[np.arange(300), y.astype(int)]
    ref = -(1.0 if alpha is None else alpha) * (-np.expm1(log_p)) ** gamma * log_p
    np.testing.assert_allclose(focal.loss(y, raw), ref, rtol=1e-12, atol=1e-300)


def test_focal_gamma_zero_is_log_loss():
    for k in (None, 3):
        _, y, raw = _data(16, 200, 5.0, k)
        focal, log = FocalLoss(gamma=0.0), LogLoss()
        np.testing.assert_allclose(focal.loss(y, raw), log.loss(y, raw), rtol=1e-14)
        np.testing.assert_allclose(focal.gradient(y, raw), log.gradient(y, raw), rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(focal.hessian(y, raw), log.hessian(y, raw), rtol=1e-13, atol=1e-16)
        d = np.ones_like(raw)
        np.testing.assert_allclose(
            focal.hessian_product(y, raw, d), log.hessian_product(y, raw, d), rtol=1e-12, atol=1e-15
        )


def test_focal_is_not_convex_for_badly_misclassified():
    # documented: the Hessian is negative for z r < -(2 gamma + 1) / gamma
    assert FocalLoss(gamma=2.0).hessian([1.0], [-5.0])[0] < 0
    assert FocalLoss(gamma=2.0).hessian([1.0], [0.0])[0] > 0


def test_modified_huber_probabilities_match_sgd_classifier():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import SGDClassifier

    X, y = make_classification(n_samples=200, n_classes=3, n_informative=4, random_state=0)
    clf = SGDClassifier(loss="modified_huber", random_state=0, max_iter=50, tol=None).fit(X, y)
    loss = ModifiedHuberLoss()
    np.testing.assert_allclose(loss.inverse_link(clf.decision_function(X)), clf.predict_proba(X), atol=1e-12)
    yb = (y == 1).astype(int)
    clf = SGDClassifier(loss="modified_huber", random_state=0, max_iter=50, tol=None).fit(X, yb)
    np.testing.assert_allclose(loss.inverse_link(clf.decision_function(X)), clf.predict_proba(X)[:, 1], atol=1e-12)


# ------------------------------------------------------- forms, weights, dtypes
@pytest.mark.parametrize("loss", OVR, ids=_id)
def test_ovr_form_is_sum_of_binary_forms(loss):
    _, y, raw = _data(17, 100, 2.0, 4)
    sw = np.random.default_rng(4).uniform(0.1, 2, 100)
    total = sum(loss.loss((y == j).astype(float), raw[:, j], sw) for j in range(4))
    np.testing.assert_allclose(loss.loss(y, raw, sw), total, rtol=1e-14)
    g = loss.gradient(y, raw, sw)
    for j in range(4):
        np.testing.assert_allclose(g[:, j], loss.gradient((y == j).astype(float), raw[:, j], sw), rtol=1e-15)


def test_softmax_forms_on_two_classes_equal_binary_forms():
    _, y, raw = _data(18, 100, 3.0, 2)
    diff = raw[:, 1] - raw[:, 0]
    for loss in (LogLoss(), LogLoss(label_smoothing=0.3), KLDivergence(label_smoothing=0.3), FocalLoss(gamma=1.5)):
        np.testing.assert_allclose(loss.loss(y, raw), loss.loss(y, diff), rtol=1e-12, err_msg=repr(loss))
        np.testing.assert_allclose(loss.gradient(y, raw)[:, 1], loss.gradient(y, diff), atol=1e-14, err_msg=repr(loss))


@pytest.mark.parametrize("loss", LOSSES, ids=_id)
@pytest.mark.parametrize("k", [None, 3])
def test_sample_weight_multiplies_everything(loss, k):
    rng, y, raw = _data(19, 50, 2.0, k)
    sw = rng.uniform(0, 3, 50)
    sw[:5] = 0.0
    col = sw if k is None else sw[:, None]
    np.testing.assert_allclose(loss.loss(y, raw, sw), sw * loss.loss(y, raw), rtol=1e-14)
    # (rounding differs where the smoothed gradient cancels: atol)
    np.testing.assert_allclose(loss.gradient(y, raw, sw), col * loss.gradient(y, raw), rtol=1e-14, atol=1e-15)
    if loss.has_hessian:
        np.testing.assert_allclose(loss.hessian(y, raw, sw), col * loss.hessian(y, raw), rtol=1e-14)
        d = rng.normal(size=raw.shape)
        np.testing.assert_allclose(
            loss.hessian_product(y, raw, d, sw), col * loss.hessian_product(y, raw, d), rtol=1e-13, atol=1e-300
        )
    lg = loss.loss_gradient(y, raw, sw)
    np.testing.assert_array_equal(lg[0], loss.loss(y, raw, sw))
    np.testing.assert_array_equal(lg[1], loss.gradient(y, raw, sw))


@pytest.mark.parametrize("loss", LOSSES, ids=_id)
@pytest.mark.parametrize("k", [None, 3])
def test_float32_matches_float64(loss, k):
    _, y, raw = _data(20, 200, 3.0, k)
    raw32, y32 = raw.astype(np.float32), y.astype(np.float32)
    raw64 = raw32.astype(np.float64)
    methods = ["loss", "gradient"] + (["hessian"] if loss.has_hessian else [])
    for m in methods:
        a = getattr(loss, m)(y32, raw32)
        b = getattr(loss, m)(y, raw64)
        assert a.dtype == np.float32 and b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6 * np.abs(b).max(), err_msg=m)


@pytest.mark.parametrize("loss", LOSSES, ids=_id)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("big", [1e3, 1e6])
def test_extremes_finite_and_silent(loss, dtype, big):
    y = np.array([0, 1, 0, 1, 0, 1], dtype)
    raw = np.array([-big, -big, big, big, 0, 0], dtype)
    y3 = np.array([0, 0, 2, 1, 1, 2], dtype)
    raw3 = np.array([[big, -big, 0], [-big, big, 0], [big, big, -big], [0, 0, 0], [-big, -big, -big], [big, 0, -big]],
                    dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = list(loss.loss_gradient(y, raw)) + list(loss.loss_gradient(y3, raw3))
        if loss.has_hessian:
            out += [loss.hessian(y, raw), loss.hessian(y3, raw3), loss.hessian_product(y3, raw3, np.ones_like(raw3))]
    for o in out:
        assert o.dtype == dtype and not np.any(np.isnan(o))
    if loss.name == "exponential":
        # +inf only where exp(-z r) exceeds the float range
        assert np.array_equal(np.isinf(out[0]), [False, True, True, False, False, False])
        assert np.all(np.isfinite(out[1][[0, 3, 4, 5]]))
        # a zero sample weight drops the sample, overflow or not (no 0 * inf)
        sw = np.array([1, 0, 0, 1, 1, 1], dtype)
        with np.errstate(all="raise"):
            for o in list(loss.loss_gradient(y, raw, sw)) + list(loss.gradient_hessian(y, raw, sw)):
                assert np.all(np.isfinite(o)) and np.all(o[[1, 2]] == 0)
    else:
        for o in out:
            assert np.all(np.isfinite(o))
    # the values themselves, where known in closed form
    expected = {
        "log_loss": [0, big, big, 0, np.log(2), np.log(2)],
        "probit": [0, -special.log_ndtr(-big), -special.log_ndtr(-big), 0, np.log(2), np.log(2)],
        "hinge": [0, 1 + big, 1 + big, 0, 1, 1],
        "perceptron": [0, big, big, 0, 0, 0],
        "modified_huber": [0, 4 * big, 4 * big, 0, 1, 1],
        "squared_hinge": [0, (1 + big) ** 2, (1 + big) ** 2, 0, 1, 1],
        "brier": [0, 1, 1, 0, 0.25, 0.25],
    }.get(loss.name)
    if expected is not None and not getattr(loss, "label_smoothing", 0):
        np.testing.assert_allclose(out[0], np.asarray(expected, dtype), rtol=1e-5)


# ------------------------------------------------------- likelihood, init
def test_likelihoods():
    _, y, raw = _data(21, 100, 2.0)
    assert np.allclose(LogLoss().likelihood.logpdf(y, raw), -LogLoss().loss(y, raw), rtol=1e-13)
    assert np.allclose(KLDivergence().likelihood.logpdf(y, raw), -LogLoss().loss(y, raw), rtol=1e-13)
    _, y3, raw3 = _data(21, 100, 2.0, 4)
    # categorical log-mass with scipy
    ref = special.log_softmax(raw3, axis=1)[np.arange(100), y3.astype(int)]
    np.testing.assert_allclose(LogLoss().likelihood.logpdf(y3, raw3), ref, rtol=1e-13)
    np.testing.assert_allclose(-LogLoss().loss(y3, raw3), ref, rtol=1e-13)
    assert ProbitLoss().likelihood.link == "probit"
    np.testing.assert_allclose(ProbitLoss().likelihood.logpdf(y, raw), -ProbitLoss().loss(y, raw), rtol=1e-13)
    assert LogLoss(label_smoothing=0.1).likelihood is None
    assert KLDivergence(label_smoothing=0.1).likelihood is None
    for loss in (HingeLoss(), SquaredHingeLoss(), ModifiedHuberLoss(), PerceptronLoss(), ExponentialLoss(),
                 FocalLoss(), BrierLoss()):
        assert loss.likelihood is None


@pytest.mark.parametrize("loss", LOSSES, ids=_id)
def test_init_raw_prediction_is_the_constant_optimum(loss):
    from scipy.optimize import minimize_scalar

    rng = np.random.default_rng(22)
    y = (rng.random(80) < 0.3).astype(float)
    sw = rng.uniform(0.5, 2, 80)
    c = loss.init_raw_prediction(y, sw)

    def f(v):
        return np.average(loss.loss(y, np.full(80, v)), weights=sw)

    ref = minimize_scalar(f, bounds=(-10, 10), method="bounded", options={"xatol": 1e-10})
    assert f(c) <= ref.fun + 1e-9


@pytest.mark.parametrize("loss", MULTICLASS + [ExponentialLoss(), ProbitLoss()], ids=_id)
def test_init_raw_prediction_multiclass(loss):
    from scipy.optimize import minimize

    rng = np.random.default_rng(23)
    y = rng.choice(3, 90, p=[0.6, 0.3, 0.1]).astype(float)
    c = loss.init_raw_prediction(y, n_classes=3)
    assert c.shape == (3,)

    def f(v):
        return loss.loss(y, np.broadcast_to(v, (90, 3))).mean()

    best = min(
        (minimize(f, x0, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 4000})
         for x0 in (np.zeros(3), np.array([1.0, 0, 0]), np.log([0.6, 0.3, 0.1]))),
        key=lambda r: r.fun,
    )
    assert f(c) <= best.fun + 1e-7


def test_init_raw_prediction_closed_forms():
    y = np.array([1.0, 1, 1, 0])
    assert np.isclose(LogLoss().init_raw_prediction(y), np.log(3))
    assert np.isclose(KLDivergence().init_raw_prediction(y), np.log(3))
    assert np.isclose(ProbitLoss().init_raw_prediction(y), stats.norm.ppf(0.75))
    assert np.isclose(ExponentialLoss().init_raw_prediction(y), 0.5 * np.log(3))
    assert np.isclose(BrierLoss().init_raw_prediction(y), np.log(3))
    assert np.isclose(SquaredHingeLoss().init_raw_prediction(y), 0.5)
    assert HingeLoss().init_raw_prediction(y) == 1.0
