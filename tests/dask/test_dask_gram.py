"""The tiled weighted Gram of a row block (the Hessian of every Newton pass on a
cluster) against NumPy's product, and the block objective against the in-memory
one.  No cluster needed."""

import numpy as np
import pytest

from skloss._dask._gram import BlockObjective, weighted_gram
from skloss.linear_model._objective import LinearObjective
from skloss.losses import get_loss


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-5)])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n", [1, 255, 256, 257, 3000])  # (tiles of 256 rows: edges)
def test_weighted_gram_equals_numpy(dtype, rtol, fit_intercept, n):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 7)).astype(dtype)
    h = rng.exponential(size=n)
    h[::5] = 0.0
    Xa = np.hstack([X.astype(np.float64), np.ones((n, 1))]) if fit_intercept else X.astype(np.float64)
    ref = Xa.T @ (h[:, None] * Xa)
    got = weighted_gram(X, h, fit_intercept)
    assert got.dtype == np.float64 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * np.abs(ref).max())
    assert np.array_equal(got, got.T)


def test_weighted_gram_declines_what_it_cannot_do():
    X = np.ones((10, 2))
    h = np.ones(10)
    h[7] = -1.0  # (no square root: the caller takes the general route)
    assert weighted_gram(X, h, True) is None
    assert weighted_gram(np.asfortranarray(np.ones((10, 2)) * [[1.0, 2.0]]), np.ones(10), True) is None
    nan = np.ones(10)
    nan[3] = np.nan  # (NaN passes through, as in the in-memory product)
    assert np.isnan(weighted_gram(X, nan, True)).any()


@pytest.mark.parametrize("loss, y", [("log_loss", "binary"), ("poisson", "counts"), ("log_cosh", "real")])
def test_block_objective_hessian_equals_in_memory(loss, y):
    rng = np.random.default_rng(3)
    n, p = 5000, 6
    X = rng.normal(size=(n, p))
    yv = {"binary": (rng.random(n) < 0.4).astype(float), "counts": rng.poisson(1.5, n).astype(float),
          "real": rng.normal(size=n)}[y]
    sw = rng.uniform(0.2, 3.0, n)
    coef = rng.normal(scale=0.2, size=p + 1)
    kw = dict(fit_intercept=True, l2_reg=0.3)
    a = BlockObjective(get_loss(loss), X, yv, sw, **kw)
    b = LinearObjective(get_loss(loss), X, yv, sw, **kw)
    fa, ga, Ha = a.value_grad_hessian(coef)
    fb, gb, Hb = b.value_grad_hessian(coef)
    assert fa == fb and np.array_equal(ga, gb)
    np.testing.assert_allclose(Ha(), Hb(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.hessian(coef), b.hessian(coef), rtol=1e-12, atol=1e-14)
    # and against central differences of the gradient
    eps = 1e-6
    fd = np.column_stack([(a.value_grad(coef + eps * e)[1] - a.value_grad(coef - eps * e)[1]) / (2 * eps)
                          for e in np.eye(p + 1)])
    np.testing.assert_allclose(Ha(), fd, rtol=1e-6, atol=1e-7)
