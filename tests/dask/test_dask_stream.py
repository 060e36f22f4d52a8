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
