"""float32 arrays are evaluated by the float64 kernels (skloss._kernels._widen).

The contract of every element-wise kernel: the arithmetic is done in float64 and
rounded once to the output dtype.  So a float32 evaluation must give exactly the
float64 evaluation of the same (exactly widened) values, rounded to float32, for
every loss, form, request and weighting, and across the adapters' blocks of
rows.  The float32 path compiles no float32 specialisation of a loss kernel.
"""

import numpy as np
import pytest

from skloss.losses import available_losses, get_loss
from skloss.losses._base import _kernel

N = 1500  # more rows than one block of the adapters (512 values)


def _data(loss, multiclass, rng):
    if loss.task == "classification":
        k = 4 if multiclass else 2
        y = rng.integers(0, k, N).astype(np.float64)
        raw = rng.normal(scale=4.0, size=(N, k) if multiclass else N)
        raw.flat[:4] = [60.0, -60.0, 1e4, -1e4]
    else:
        from skloss._warmup import _regression_y

        base = _regression_y(loss)
        y = np.resize(base, N) * rng.uniform(0.5, 2.0, N) if base.min() > 0 else rng.normal(size=N)
        if loss.name == "squared_log_error" or base.min() >= 0:
            y = np.abs(y)
        raw = rng.normal(scale=2.0, size=N)
        raw[:2] = [30.0, -30.0]
    sw = rng.uniform(0.0, 2.0, N)
    sw[5] = 0.0
    return y, raw, sw


def _cases():
    for name in available_losses():
        loss = get_loss(name)
        yield pytest.param(name, False, id=f"{name}-1d")
        if loss.task == "classification" and loss.has_multiclass_form:
            yield pytest.param(name, True, id=f"{name}-kclass")


def _as32(a):
    return a.astype(np.float32)


@pytest.mark.parametrize("name,multiclass", list(_cases()))
def test_float32_is_the_float64_result_rounded(name, multiclass):
    loss = get_loss(name)
    rng = np.random.default_rng(7)
    y, raw, sw = _data(loss, multiclass, rng)
    # the float32 inputs, and the same values in float64
    y32, raw32, sw32 = _as32(y), _as32(raw), _as32(sw)
    y64, raw64, sw64 = (a.astype(np.float64) for a in (y32, raw32, sw32))
    method = "loss_gradient_hessian" if loss.has_hessian else "loss_gradient"
    for weights in (None, "sw"):
        got = getattr(loss, method)(y32, raw32, None if weights is None else sw32)
        ref = getattr(loss, method)(y64, raw64, None if weights is None else sw64)
        for g, r in zip(got, ref):
            assert g.dtype == np.float32
            np.testing.assert_array_equal(g, r.astype(np.float32))
            assert np.array_equal(g.view(np.int32), r.astype(np.float32).view(np.int32))
    # single requests take other loops of the kernels
    np.testing.assert_array_equal(loss.gradient(y32, raw32, sw32),
                                  loss.gradient(y64, raw64, sw64).astype(np.float32))
    np.testing.assert_array_equal(loss.loss(y32, raw32), loss.loss(y64, raw64).astype(np.float32))
    if multiclass and loss.has_hessian:
        d64 = rng.normal(size=raw.shape).astype(np.float32).astype(np.float64)
        try:
            ref = loss.hessian_product(y64, raw64, d64, sw64)
        except NotImplementedError:
            return
        got = loss.hessian_product(y32, raw32, d64.astype(np.float32), sw32)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, ref.astype(np.float32))


@pytest.mark.parametrize("name,multiclass", list(_cases()))
def test_float32_compiles_no_float32_kernel(name, multiclass):
    loss = get_loss(name)
    kernel = (_kernel("_multiclass", loss._multiclass_kernel_name) if multiclass
              else _kernel(loss._kernel_module, loss._kernel_name))
    y, raw, sw = _data(loss, multiclass, np.random.default_rng(1))
    before = set(kernel.signatures)  # (another test may call a kernel directly in float32)
    loss.loss_gradient(_as32(y), _as32(raw), _as32(sw))
    new = set(kernel.signatures) - before
    assert not any("float32" in str(sig) for sig in new), new


def test_float32_class_indices_are_checked():
    # the adapter checks them (an exception inside a kernel called through a
    # function pointer would not reach the caller)
    loss = get_loss("log_loss")
    raw = np.zeros((3, 3), np.float32)
    with pytest.raises(ValueError, match="class indices"):
        loss.loss(np.array([0.0, 1.5, 2.0], np.float32), raw)
    with pytest.raises(ValueError, match="class indices"):
        loss.loss(np.array([0.0, 1.5, 2.0]), raw.astype(np.float64))
