"""The per-fit fast paths of MLELinearRegression give what the generic paths give.

* ``validate_dense_fit_data`` against scikit-learn's ``validate_data`` (same
  arrays, same ``n_features_in_`` / ``feature_names_in_``, scikit-learn's errors
  for everything it does not take);
* the cached parameter validation against scikit-learn's
  ``validate_parameter_constraints`` (same error messages);
* the Tweedie dispersion MLE's log-likelihood against the direct series
  evaluation of the log-density;
* the GLM covariance's powers against ``np.power``.
"""

import types

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints
from sklearn.utils.validation import validate_data

from skloss import MLELinearRegression
from skloss.losses import get_loss
from skloss.linear_model._linear_inference import _power
from skloss.linear_model._scale import mle_scale_loglik
from skloss.utils._inputs import validate_dense_fit_data


def _data(n=60, p=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    return X, y


def test_dense_fit_data_matches_validate_data():
    X, y = _data()
    for Xi, yi in [(X, y), (X.astype(np.float32), y), (np.asfortranarray(X), y),
                   (X, np.arange(X.shape[0])), (X, np.stack([y, y], axis=1)[:, 0])]:
        fast, ref = MLELinearRegression(), MLELinearRegression()
        got = validate_dense_fit_data(fast, Xi, yi)
        want = validate_data(ref, Xi, yi, accept_sparse="csr", dtype=[np.float64, np.float32],
                             y_numeric=True, reset=True)
        assert got is not None
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
        assert got[1].flags.c_contiguous == want[1].flags.c_contiguous
        assert fast.n_features_in_ == ref.n_features_in_ == Xi.shape[1]


@pytest.mark.parametrize("case", ["list", "int", "nan_X", "inf_y", "2d_y", "empty", "length",
                                  "memmap", "complex", "1d_X"])
def test_dense_fit_data_defers_to_sklearn(case, tmp_path):
    X, y = _data()
    if case == "list":
        X = X.tolist()
    elif case == "int":
        X = np.round(X).astype(np.int64)
    elif case == "nan_X":
        X[3, 1] = np.nan
    elif case == "inf_y":
        y[2] = np.inf
    elif case == "2d_y":
        y = y[:, None]
    elif case == "empty":
        X, y = X[:0], y[:0]
    elif case == "length":
        y = y[:-1]
    elif case == "memmap":
        m = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=X.shape)
        m[:] = X
        X = m
    elif case == "complex":
        X = X + 0j
    elif case == "1d_X":
        X = X[:, 0]
    assert validate_dense_fit_data(MLELinearRegression(), X, y) is None


def test_fast_and_generic_validation_give_the_same_fit():
    """An ndarray takes the fast path, the same data as lists scikit-learn's."""
    X, y = _data(80, 4, seed=3)
    for kw in [{}, {"penalty": "l1", "alpha": 0.05}, {"penalty": "l2", "alpha": 0.1},
               {"loss": "huber"}, {"loss": "poisson", "penalty": "l2", "alpha": 0.01}]:
        yy = np.exp(0.3 * y) if kw.get("loss") == "poisson" else y
        a = MLELinearRegression(**kw).fit(X, yy)
        b = MLELinearRegression(**kw).fit(X.tolist(), yy.tolist())
        np.testing.assert_array_equal(a.coef_, b.coef_)
        assert a.intercept_ == b.intercept_
        np.testing.assert_array_equal(a.covariance_, b.covariance_)
        assert a.loglik_ == b.loglik_ and a.param_names_ == b.param_names_


def test_feature_names_reset_on_refit():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    est = MLELinearRegression().fit(pd.DataFrame(X, columns=["a", "b", "c"]), y)
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    assert est.param_names_ == ["intercept", "a", "b", "c"]
    est.fit(X, y)  # an ndarray: the names of the previous fit go, as with validate_data
    assert not hasattr(est, "feature_names_in_")
    assert est.param_names_ == ["intercept", "x0", "x1", "x2"]


def test_nan_error_is_sklearns():
    X, y = _data()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MLELinearRegression().fit(X, y)


@pytest.mark.parametrize("params", [{"alpha": -1.0}, {"penalty": "l3"}, {"solver": "nope"},
                                    {"tol": "a"}, {"fit_intercept": 2}, {"loss": 3},
                                    {"cov_type": "HC9"}, {"verbose": -1}, {"max_iter": 0}])
def test_parameter_errors_are_sklearns(params):
    est = MLELinearRegression(**params)
    with pytest.raises(InvalidParameterError) as got:
        est._validate_params()
    with pytest.raises(InvalidParameterError) as want:
        validate_parameter_constraints(MLELinearRegression._parameter_constraints,
                                       est.get_params(deep=False), caller_name="MLELinearRegression")
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("weighted", [False, True])
def test_tweedie_mle_loglik_equals_the_series(weighted):
    from skloss._kernels._tweedie import tweedie_cp_mle, tweedie_cp_mle_log_phi

    rng = np.random.default_rng(5)
    n = 3000
    r = 0.4 * rng.standard_normal(n)
    lik = get_loss("tweedie", power=1.5).likelihood
    y = lik.sample(r, scale=0.8, random_state=5)
    sw = rng.random(n) * 2.0 if weighted else None
    L, loglik = tweedie_cp_mle(y, r, sw, 1.5, -1.0, -9.0, 7.0)
    assert L == tweedie_cp_mle_log_phi(y, r, sw, 1.5, -1.0, -9.0, 7.0)
    # the direct evaluation of the log-density at the maximiser (an independent pass)
    np.testing.assert_allclose(loglik, lik.loglik(y, r, np.exp(L), sw), rtol=1e-12)
    # and it is the maximum: nearby dispersions give less
    for dL in (-1e-3, 1e-3):
        assert lik.loglik(y, r, np.exp(L + dL), sw) < loglik


def test_mle_scale_loglik_hook():
    """A likelihood that computes its log-likelihood with its scale is asked once."""
    calls = []

    class Lik:
        has_scale = True

        def mle_scale_loglik(self, y, raw, sw):
            calls.append(1)
            return 2.0, -7.5

        def mle_scale(self, y, raw, sw):  # pragma: no cover - not called
            raise AssertionError

    loss = types.SimpleNamespace(likelihood=Lik())
    assert mle_scale_loglik(loss, np.ones(3), np.zeros(3)) == (2.0, -7.5)
    assert calls == [1]
    normal = get_loss("squared_error")
    y = np.array([0.0, 1.0, 3.0])
    scale, ll = mle_scale_loglik(normal, y, np.ones(3))
    assert ll is None and scale == pytest.approx(np.sqrt(np.mean((y - 1.0) ** 2)))


@pytest.mark.parametrize("a", [-3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, -1.7, 2.2])
def test_power_matches_numpy(a):
    x = np.random.default_rng(0).random(500) * 50 + 1e-3
    np.testing.assert_allclose(_power(x, a), np.power(x, a), rtol=4e-16 * 8)
