"""The tiled weighted Gram (the Hessian of every Newton pass, in memory and in a
dask fit's block tasks) against NumPy's product and the objective's product route.
No cluster needed."""

import numpy as np
import pytest
import scipy.sparse as sp

from skloss.linear_model._lstsq import weighted_gram
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
    # (another layout takes NumPy's tiles: the same matrix)
    XF = np.asfortranarray(np.arange(20.0).reshape(10, 2))
    XFa = np.hstack([XF, np.ones((10, 1))])
    np.testing.assert_allclose(weighted_gram(XF, np.arange(10.0), True), XFa.T @ (np.arange(10.0)[:, None] * XFa),
                               rtol=1e-14)
    nan = np.ones(10)
    nan[3] = np.nan  # (NaN passes through, as in the in-memory product)
    assert np.isnan(weighted_gram(X, nan, True)).any()


@pytest.mark.parametrize("loss, y", [("log_loss", "binary"), ("poisson", "counts"), ("log_cosh", "real")])
def test_tiled_hessian_equals_the_product_route(loss, y):
    """The objective's Hessian on dense rows (tiled) against the same objective on
    CSR rows (one product with ``h X``) and central differences."""
    rng = np.random.default_rng(3)
    n, p = 5000, 6
    X = rng.normal(size=(n, p))
    yv = {"binary": (rng.random(n) < 0.4).astype(float), "counts": rng.poisson(1.5, n).astype(float),
          "real": rng.normal(size=n)}[y]
    sw = rng.uniform(0.2, 3.0, n)
    coef = rng.normal(scale=0.2, size=p + 1)
    kw = dict(fit_intercept=True, l2_reg=0.3)
    a = LinearObjective(get_loss(loss), X, yv, sw, **kw)
    b = LinearObjective(get_loss(loss), sp.csr_matrix(X), yv, sw, **kw)
    fa, ga, Ha = a.value_grad_hessian(coef)
    fb, gb, Hb = b.value_grad_hessian(coef)
    assert fa == pytest.approx(fb, rel=1e-13)
    np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(Ha(), Hb(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.hessian(coef), b.hessian(coef), rtol=1e-12, atol=1e-14)
    # and against central differences of the gradient
    eps = 1e-6
    fd = np.column_stack([(a.value_grad(coef + eps * e)[1] - a.value_grad(coef - eps * e)[1]) / (2 * eps)
                          for e in np.eye(p + 1)])
    np.testing.assert_allclose(Ha(), fd, rtol=1e-6, atol=1e-7)


def _fd_hessian(loss, y, raw, eps=1e-6):
    return (np.asarray(loss.gradient(y, raw + eps)) - np.asarray(loss.gradient(y, raw - eps))) / (2 * eps)


def test_glm_weight_ratio():
    """The GLM weight (dmu/deta)^2 / V(mu) over the loss's curvature (finite
    differences of its gradient): a constant for Poisson (log link, canonical) and
    squared error, not for Gamma with the log link (its curvature depends on y)."""
    from skloss._dask._inference import glm_weight_ratio

    rng = np.random.default_rng(0)
    raw = rng.uniform(-2, 2, 50)
    y = rng.poisson(2.0, 50).astype(float)
    c = glm_weight_ratio(get_loss("poisson"), y)
    np.testing.assert_allclose(np.exp(raw), c * _fd_hessian(get_loss("poisson"), y, raw), rtol=1e-6)
    c = glm_weight_ratio(get_loss("squared_error"), rng.normal(size=50))
    np.testing.assert_allclose(np.ones(50), c * _fd_hessian(get_loss("squared_error"), y, raw), rtol=1e-6)
    assert glm_weight_ratio(get_loss("gamma"), y + 0.5) is None
    assert glm_weight_ratio(get_loss("huber"), y) is None  # (no GLM variance)
    assert glm_weight_ratio(get_loss("poisson"), np.empty(0)) is None


@pytest.mark.parametrize("robust", [False, True])
def test_glm_parts_from_the_pass_hessian(robust):
    """With the client's ratio, the GLM covariance's Gram is the pass's Hessian times
    it: equal to the Gram of the GLM weights formed row by row."""
    from skloss._dask._inference import _glm_parts, glm_weight_ratio

    rng = np.random.default_rng(1)
    n, p = 4000, 5
    X = rng.normal(size=(n, p)) / 2
    y = rng.poisson(np.exp(X @ rng.normal(size=p) * 0.3 + 0.2)).astype(float)
    sw = rng.uniform(0.5, 2.0, n)
    loss = get_loss("poisson")
    coef = np.r_[rng.normal(scale=0.2, size=p), 0.2]
    obj = LinearObjective(loss, X, y, sw, fit_intercept=True)
    _, _, H = obj.value_grad_hessian(coef)
    obj.pass_hessian = H() * obj.weight_sum
    ratio = glm_weight_ratio(loss, y)
    fast = _glm_parts(obj, coef, (loss, robust, ratio))
    slow = _glm_parts(LinearObjective(loss, X, y, sw, fit_intercept=True), coef, (loss, robust))
    mu = np.exp(X @ coef[:p] + coef[p])
    Xa = np.hstack([X, np.ones((n, 1))])
    ref = Xa.T @ ((sw * mu)[:, None] * Xa)
    np.testing.assert_allclose(fast[0], ref, rtol=1e-10)
    np.testing.assert_allclose(slow[0], ref, rtol=1e-10)
    if robust:
        np.testing.assert_allclose(fast[1], slow[1], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_class_column_squares(dtype):
    from skloss._dask._linear import _column_squares

    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 4)).astype(dtype)
    cls = rng.integers(0, 3, 500).astype(np.intp)
    s = rng.uniform(0, 2, 500)
    X2 = X.astype(np.float64) ** 2
    ref = np.vstack([(s * (cls == k)) @ X2 for k in range(3)])
    np.testing.assert_allclose(_column_squares(X, cls, s, 3), ref, rtol=1e-12)
    np.testing.assert_allclose(_column_squares(X, None, None, 1)[0], X2.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("y", [np.array([0.0, 1.0, 1.0, 0.0]), np.array([3, 3, 3]), np.array([2, -1, 2]),
                               np.array([2, 0, 1, 2]), np.array([1.0, np.nan, 1.0]), np.array(["b", "a", "b"]),
                               np.array([True, False, True])])
def test_unique_inverse_equals_numpy(y):
    from skloss._dask._linear import _unique_inverse

    labels, inv = _unique_inverse(y)
    ref_labels, ref_inv = np.unique(y, return_inverse=True)
    assert labels.dtype == ref_labels.dtype and inv.dtype == ref_inv.dtype
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_array_equal(inv, ref_inv)
