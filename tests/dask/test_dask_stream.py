"""SGD networks trained by streaming the blocks of a dask array match in-memory fits
of the same network within noise."""

import warnings

import numpy as np
import pytest

REASON = 'the dask extra is not installed (pip install "skloss[dask]")'
da = pytest.importorskip("dask.array", reason=REASON)
pytest.importorskip("distributed", reason=REASON)

from sklearn.datasets import load_digits, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skloss import SGDNetClassifier, SGDNetRegressor  # noqa: E402


def _split(X, y):
    return train_test_split(X, y, test_size=0.3, random_state=0)


def test_digits_stream_matches_in_memory(client):
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = _split(X / 16.0, y)
    kw = dict(hidden_layer_sizes=(32,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mem = SGDNetClassifier(**kw).fit(Xtr, ytr)
        got = SGDNetClassifier(**kw).fit(da.from_array(Xtr, chunks=(320, 64)), da.from_array(ytr, chunks=320))
    assert got.n_iter_ == 20 and len(got.loss_curve_) == 20
    assert list(got.classes_) == list(range(10))
    a_mem = accuracy_score(yte, mem.predict(Xte))
    a_got = accuracy_score(yte, got.predict(Xte))
    assert a_mem > 0.8 and abs(a_got - a_mem) < 0.05, (a_mem, a_got)
    # the loss curve decreases over the streamed epochs
    assert got.loss_curve_[-1] < got.loss_curve_[0]


def test_synthetic_stream_and_partial_fit(client):
    X, y = make_classification(n_samples=12000, n_features=10, n_informative=6, random_state=1)
    Xtr, Xte, ytr, yte = _split(X, y)
    Xd, yd = da.from_array(Xtr, chunks=(2100, 10)), da.from_array(ytr, chunks=2100)
    kw = dict(hidden_layer_sizes=(16,), random_state=0)
    mem = SGDNetClassifier(max_iter=3, **kw)
    got = SGDNetClassifier(max_iter=3, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mem.fit(Xtr, ytr)
        got.fit(Xd, yd)
    a_mem, a_got = accuracy_score(yte, mem.predict(Xte)), accuracy_score(yte, got.predict(Xte))
    assert a_mem > 0.8 and abs(a_got - a_mem) < 0.03, (a_mem, a_got)
    # partial_fit on a dask array: one streamed epoch per call
    inc = SGDNetClassifier(**kw)
    for _ in range(3):
        inc.partial_fit(Xd, yd, classes=[0, 1])
    assert inc.n_iter_ == 3 and len(inc.loss_curve_) == 3
    assert abs(accuracy_score(yte, inc.predict(Xte)) - a_mem) < 0.03


def test_regressor_stream(client):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6000, 5))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.1 * rng.normal(size=6000)
    Xtr, Xte, ytr, yte = _split(X, y)
    kw = dict(hidden_layer_sizes=(16,), max_iter=8, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mem = SGDNetRegressor(**kw).fit(Xtr, ytr)
        got = SGDNetRegressor(**kw).fit(da.from_array(Xtr, chunks=(1000, 5)), da.from_array(ytr, chunks=1000))
    r_mem, r_got = r2_score(yte, mem.predict(Xte)), r2_score(yte, got.predict(Xte))
    assert r_mem > 0.8 and abs(r_got - r_mem) < 0.05, (r_mem, r_got)


def test_early_stopping_is_refused_on_a_stream(client):
    X = da.from_array(np.zeros((100, 2)), chunks=(50, 2))
    with pytest.raises(ValueError, match="early_stopping"):
        SGDNetClassifier(early_stopping=True).fit(X, da.from_array(np.arange(100) % 2, chunks=50))


def _check_lazy(lazy, expected, chunks):
    """``lazy`` is a dask array whose metadata (dtype, shape, row chunks, meta) are
    those of ``expected`` and whose blocks, computed on the cluster, equal it."""
    assert isinstance(lazy, da.Array)
    assert lazy.dtype == expected.dtype and lazy.shape == expected.shape
    assert lazy.chunks[0] == chunks
    assert lazy._meta.ndim == expected.ndim and lazy._meta.dtype == expected.dtype
    got = lazy.compute()
    assert got.shape == expected.shape and got.dtype == expected.dtype
    if expected.dtype.kind in "fc":
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    else:
        np.testing.assert_array_equal(got, expected)
    return got


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_predictions_are_lazy_and_block_wise(client, n_classes):
    X, y = make_classification(n_samples=1500, n_features=6, n_informative=4, n_classes=n_classes,
                               random_state=3)
    labels = np.array(["ant", "bee", "cat"])[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = SGDNetClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, labels)
    Xd = da.from_array(X, chunks=(400, 3))  # (four row blocks, two column chunks)
    chunks = (400, 400, 400, 300)
    scores = _check_lazy(est.decision_function(Xd), est.decision_function(X), chunks)
    proba = _check_lazy(est.predict_proba(Xd), est.predict_proba(X), chunks)
    log_proba = _check_lazy(est.predict_log_proba(Xd), est.predict_log_proba(X), chunks)
    pred = _check_lazy(est.predict(Xd), est.predict(X), chunks)
    # independent relations: probabilities sum to one, logs are np.log, labels are the arg-max
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-12)
    assert pred.dtype.kind == "U" and np.array_equal(pred, est.classes_[np.argmax(proba, axis=1)])
    if n_classes == 2:
        assert scores.ndim == 1
        np.testing.assert_allclose(proba[:, 1], 1.0 / (1.0 + np.exp(-scores)), rtol=1e-10)
    # float32 input stays float32
    X32 = X.astype(np.float32)
    _check_lazy(est.predict_proba(da.from_array(X32, chunks=(400, 6))), est.predict_proba(X32), chunks)
    with pytest.raises(ValueError, match="features"):
        est.predict(Xd[:, :5])


def test_regressor_predictions_are_lazy_and_block_wise(client):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(900, 4))
    Y = np.column_stack([X[:, 0] - X[:, 1], np.abs(X[:, 2])]) + 0.1 * rng.normal(size=(900, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = SGDNetRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, Y[:, 0])
        two = SGDNetRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, Y)
        poi = SGDNetRegressor(loss="poisson", hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(
            X, np.exp(0.3 * X[:, 0]))
    Xd = da.from_array(X, chunks=(250, 4))
    chunks = (250, 250, 250, 150)
    _check_lazy(one.predict(Xd), one.predict(X), chunks)
    _check_lazy(two.predict(Xd), two.predict(X), chunks)
    pred = _check_lazy(poi.predict(Xd), poi.predict(X), chunks)
    assert np.all(pred > 0)  # (the log link's inverse)
