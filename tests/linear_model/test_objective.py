"""LinearObjective: value, gradient and Hessian against finite differences and closed forms."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import approx_fprime

from skloss.linear_model._objective import LinearObjective
from skloss.losses import get_loss


def _data(n=60, p=4, k=None, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, p))
    X[rng.uniform(size=X.shape) < 0.3] = 0.0
    y = rng.randint(0, k or 2, size=n).astype(float)
    sw = rng.uniform(0.2, 2.0, size=n)
    return X, y, sw


CASES = [("log_loss", 1), ("log_loss", 3), ("probit", 1), ("squared_hinge", 1), ("focal", 3), ("brier", 3),
         ("exponential", 1), ("modified_huber", 1)]


@pytest.mark.parametrize("name, k", CASES)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_gradient_and_hessian_finite_differences(name, k, fit_intercept, sparse):
    X, y, sw = _data(k=k)
    Xa = sp.csr_matrix(X) if sparse else X
    obj = LinearObjective(get_loss(name), Xa, y, sw, fit_intercept=fit_intercept, n_outputs=k, l2_reg=0.3)
    rng = np.random.RandomState(1)
    c = 0.3 * rng.normal(size=obj.n_coef)
    f, g = obj.value_grad(c)
    assert f == pytest.approx(obj.value(c), rel=1e-12)
    g_fd = approx_fprime(c, obj.value, 1e-7)
    np.testing.assert_allclose(g, g_fd, rtol=1e-4, atol=1e-6)
    H = obj.hessian(c)
    H_fd = np.array([approx_fprime(c, lambda x, i=i: obj.value_grad(x)[1][i], 1e-7) for i in range(c.size)])
    np.testing.assert_allclose(H, H_fd, rtol=1e-3, atol=2e-5)
    _, _, hessp = obj.hessp_factory(c)
    v = rng.normal(size=c.size)
    np.testing.assert_allclose(hessp(v), H @ v, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(H, H.T, atol=1e-13)


def test_value_closed_form_log_loss():
    X, y, sw = _data()
    obj = LinearObjective(get_loss("log_loss"), X, y, sw, l2_reg=0.2, l1_reg=0.1)
    c = np.r_[0.1, -0.2, 0.3, 0.0, 0.5]
    raw = X @ c[:4] + c[4]
    ref = np.sum(sw * (np.logaddexp(0, raw) - y * raw)) / sw.sum()
    assert obj.value(c) == pytest.approx(ref + 0.1 * np.sum(c[:4] ** 2), rel=1e-13)
    assert obj.total_value(c) == pytest.approx(ref + 0.1 * np.sum(c[:4] ** 2) + 0.1 * np.abs(c[:4]).sum(), rel=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 4])
def test_fused_log_loss_pass_equals_generic(k, dtype):
    X, y, sw = _data(n=350000, p=6, k=max(k, 2))
    X = X.astype(dtype)
    obj = LinearObjective(get_loss("log_loss", label_smoothing=0.1), X, y, sw, n_outputs=k, l2_reg=0.1)
    assert obj._fused and obj.X is X
    c = np.random.RandomState(0).normal(size=obj.n_coef)
    f1, g1 = obj.value_grad(c)
    _, g1h, H1 = obj.value_grad_hessian(c)
    H1 = H1()
    obj._fused = False
    f2, g2 = obj.value_grad(c)
    H2 = obj.hessian(c)
    # (float32: the generic path rounds the raw scores to float32, the fused pass
    # keeps them in float64)
    rtol = 1e-11 if dtype == np.float64 else 1e-6
    assert f1 == pytest.approx(f2, rel=rtol)
    np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * np.abs(g2).max())
    np.testing.assert_array_equal(g1h, g1)
    # (float32 Hessians: BLAS ssyrk accumulates in float32)
    rtol_h = rtol if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(H1, H2, rtol=rtol_h, atol=rtol_h * np.abs(H2).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fused_csr_pass_against_closed_form(dtype, fit_intercept):
    # CSR log loss: the numba pass (value, gradient, Hessian diagonal) and the
    # one-read Hessian-vector product against NumPy formulas on the dense matrix
    rng = np.random.RandomState(3)
    n, p = 40000, 300
    X = sp.random(n, p, density=0.2, format="csr", random_state=rng, dtype=np.float64)
    X.data = rng.normal(size=X.nnz)
    y = rng.randint(0, 2, size=n).astype(float)
    sw = rng.uniform(0.2, 2.0, size=n)
    Xd = X.astype(dtype)
    obj = LinearObjective(get_loss("log_loss", label_smoothing=0.1), Xd, y, sw, fit_intercept=fit_intercept,
                          l2_reg=0.05)
    assert obj._fused and obj.X is Xd
    c = 0.2 * rng.normal(size=obj.n_coef)
    w, b = (c[:p], c[p]) if fit_intercept else (c, 0.0)
    A = Xd.toarray().astype(np.float64)
    sw = sw.astype(dtype).astype(np.float64)  # (the objective keeps the weights in the data's dtype)
    raw = A @ w + b
    t = 0.9 * y + 0.05
    prob = 1.0 / (1.0 + np.exp(-raw))
    f_ref = np.sum(sw * (np.logaddexp(0, raw) - t * raw)) / sw.sum() + 0.025 * w @ w
    g_ref = np.r_[A.T @ (sw * (prob - t)) / sw.sum() + 0.05 * w, np.sum(sw * (prob - t)) / sw.sum()]
    h = sw * prob * (1 - prob) / sw.sum()
    f, g, hessp = obj.hessp_factory(c)
    # (float32: the weight sum comes from the float64 weights given, as on dense data)
    assert f == pytest.approx(f_ref, rel=1e-12 if dtype == np.float64 else 1e-9)
    np.testing.assert_allclose(g, g_ref[:obj.n_coef], rtol=1e-9, atol=1e-13)
    diag_ref = np.r_[(A ** 2).T @ h + 0.05, h.sum()]
    np.testing.assert_allclose(hessp.diagonal, diag_ref[:obj.n_coef], rtol=1e-10)
    v = rng.normal(size=obj.n_coef)
    d = A @ v[:p] + (v[p] if fit_intercept else 0.0)
    hv_ref = np.r_[A.T @ (h * d) + 0.05 * v[:p], np.sum(h * d)]
    np.testing.assert_allclose(hessp(v), hv_ref[:obj.n_coef], rtol=1e-9, atol=1e-13)
    f2, g2 = obj.value_grad(c)
    assert f2 == pytest.approx(f, rel=1e-14)
    np.testing.assert_allclose(g2, g, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("name, power", [("poisson", None), ("gamma", None), ("tweedie", 1.5), ("tweedie", 3.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_glm_pass_equals_generic(name, power, dtype):
    # log-link GLM deviances on dense data: the fused pass (one read of X, offset
    # and weights) against the generic BLAS + element-wise kernel evaluation
    rng = np.random.RandomState(4)
    n, p = 40000, 60
    X = rng.normal(size=(n, p)).astype(dtype)
    off = 0.1 * rng.normal(size=n)
    sw = rng.uniform(0.2, 2.0, size=n)
    y = rng.gamma(2.0, np.exp(0.05 * X[:, 0] + 0.2)) + (name == "poisson") * rng.poisson(1.0, size=n)
    loss = get_loss(name) if power is None else get_loss(name, power=power)
    obj = LinearObjective(loss, X, y, sw, l2_reg=0.01, offset=off)
    assert obj._fused and obj._fused_name == f"{name}_linear"
    c = 0.05 * rng.normal(size=obj.n_coef)
    f1, g1 = obj.value_grad(c)
    f1h, g1h, H1 = obj.value_grad_hessian(c)
    obj._fused = False
    f2, g2 = obj.value_grad(c)
    # (float32: the generic path rounds the raw scores to float32, the fused pass
    # keeps them in float64)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert f1 == pytest.approx(f2, rel=rtol)
    assert f1h == f1
    np.testing.assert_allclose(g1, g2, rtol=100 * rtol, atol=100 * rtol * np.abs(g2).max())
    np.testing.assert_allclose(g1h, g1, rtol=0, atol=0)
    H2 = obj.hessian(c)
    np.testing.assert_allclose(H1(), H2, rtol=1e3 * rtol, atol=1e3 * rtol * np.abs(H2).max())


def test_fused_pass_leaves_the_element_wise_kernels_exact(tmp_path):
    # numba lets a callee inherit the fastmath flags of the caller that compiles it
    # first: the fused GLM pass (re-associated row loops) compiled before the
    # element-wise Poisson kernel once gave exp(raw) = 1 in the latter.  A fresh
    # process with an empty cache compiles them in that order.
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from skloss._kernels import _regression as R\n"
        "from skloss.losses import get_loss\n"
        "X = np.random.RandomState(0).rand(10, 2); e = np.empty(0)\n"
        "R.poisson_linear(X, np.ones(10), e, e, np.zeros(2), 0.0, np.array([1.0]), 2, np.empty(3), np.empty(10))\n"
        "y = np.array([0.0, 1.0, 2.0, 3.0]); r = np.array([0.1, -0.2, 0.3, 0.5])\n"
        "g = get_loss('poisson').gradient(y, r)\n"
        "assert np.allclose(g, 2 * (np.exp(r) - y), rtol=1e-14), g\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]


def test_parallel_pass_equals_serial():
    X, y, sw = _data(n=40000, p=60)
    obj = LinearObjective(get_loss("log_loss"), X, y, sw)
    assert obj._n_chunks > 1
    c = np.random.RandomState(0).normal(size=obj.n_coef) * 0.1
    f1, g1 = obj.value_grad(c)
    obj._n_chunks = 1
    f2, g2 = obj.value_grad(c)
    assert f1 == pytest.approx(f2, rel=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-14)


def test_float32_never_copied_and_close():
    X, y, sw = _data(n=500)
    X32 = X.astype(np.float32)
    o32 = LinearObjective(get_loss("log_loss"), X32, y, sw)
    o64 = LinearObjective(get_loss("log_loss"), X, y, sw)
    assert o32.X is X32
    c = np.r_[0.1, -0.2, 0.3, 0.0, 0.5]
    assert o32.value(c) == pytest.approx(o64.value(c), rel=1e-6)
    np.testing.assert_allclose(o32.value_grad(c)[1], o64.value_grad(c)[1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(o32.hessian(c), o64.hessian(c), rtol=1e-4, atol=1e-6)


def test_data_hessian_and_scores():
    X, y, sw = _data()
    obj = LinearObjective(get_loss("log_loss"), X, y, sw, l2_reg=5.0)
    c = np.r_[0.1, -0.2, 0.3, 0.0, 0.5]
    A = obj.data_hessian(c)
    raw = X @ c[:4] + c[4]
    p = 1 / (1 + np.exp(-raw))
    Xt = np.column_stack([X, np.ones(len(y))])
    np.testing.assert_allclose(A, Xt.T @ (Xt * (sw * p * (1 - p))[:, None]), rtol=1e-12)
    S, s = obj.scores(c)
    np.testing.assert_allclose(S, Xt * (p - y)[:, None], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(s, sw)


def test_subsample_estimates_hessian():
    X, y, _ = _data(n=20000, p=5)
    obj = LinearObjective(get_loss("log_loss"), X, y)
    sub = obj.subsample(5000)
    assert 4000 <= sub.n_samples <= 6000
    c = np.zeros(obj.n_coef)
    np.testing.assert_allclose(sub.hessian(c), obj.hessian(c), rtol=0.1, atol=0.01)


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numpy_log_loss_equals_kernels(k, dtype):
    # small problems evaluate the log loss in NumPy (no numba at cold start)
    from skloss.linear_model._objective import _NumpyLogLoss

    rng = np.random.RandomState(0)
    loss = get_loss("log_loss", label_smoothing=0.05)
    fast = _NumpyLogLoss(loss)
    y = rng.randint(0, max(k, 2), size=50).astype(dtype)
    raw = (rng.normal(size=(50, k) if k > 1 else 50) * 30).astype(dtype)
    sw = rng.uniform(0.5, 2, size=50).astype(dtype)
    d = rng.normal(size=raw.shape).astype(dtype)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    for a, b in [(fast.loss(y, raw, sw), loss.loss(y, raw, sw)),
                 (fast.gradient(y, raw, sw), loss.gradient(y, raw, sw)),
                 (fast.hessian(y, raw, sw), loss.hessian(y, raw, sw)),
                 (fast.hessian_product(y, raw, d, sw), loss.hessian_product(y, raw, d, sw))]:
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("name", ["log_loss", "hinge", "probit"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_score_gram_without_the_score_matrix(name, sparse, fit_intercept):
    # the sandwich's B = sum_i s_i g_i g_i^T from a weighted Gram matrix equals the
    # sum over the explicit per-sample scores
    from skloss.linear_model._inference import _score_gram

    X, y, sw = _data(n=300)
    Xa = sp.csr_matrix(X) if sparse else X
    obj = LinearObjective(get_loss(name), Xa, y, sw, fit_intercept=fit_intercept)
    c = 0.3 * np.random.RandomState(2).normal(size=obj.n_coef)
    S, s = obj.scores(c)
    np.testing.assert_allclose(_score_gram(obj, c), (S * s[:, None]).T @ S, rtol=1e-12, atol=1e-12)
