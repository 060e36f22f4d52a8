"""Preallocated outputs (``loss_out``, ``gradient_out``, ``hessian_out``)."""

import numpy as np
import pytest

from skloss.losses import available_losses, get_loss


def _data(loss, dtype, multiclass):
    rng = np.random.default_rng(0)
    n = 50
    if loss.task == "classification":
        k = 3 if multiclass else 1
        y = rng.integers(0, k if multiclass else 2, n).astype(dtype)
        raw = rng.normal(size=(n, k) if multiclass else n).astype(dtype)
    else:
        y = rng.uniform(0.5, 3.0, n).astype(dtype)
        raw = rng.normal(scale=0.5, size=n).astype(dtype)
    return y, raw, rng.uniform(0.5, 2.0, n).astype(dtype)


CASES = [(name, mc) for name in available_losses() for mc in (False, True)
         if mc is False or get_loss(name).task == "classification"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, multiclass", CASES)
def test_preallocated_outputs_equal_allocated(name, multiclass, dtype):
    loss = get_loss(name)
    y, raw, sw = _data(loss, dtype, multiclass)
    ref_loss, ref_grad = loss.loss_gradient(y, raw, sw)
    loss_out = np.full(raw.shape[0], np.nan, dtype)
    grad_out = np.full(raw.shape, np.nan, dtype)
    got_loss, got_grad = loss.loss_gradient(y, raw, sw, loss_out=loss_out, gradient_out=grad_out)
    assert got_loss is loss_out and got_grad is grad_out
    np.testing.assert_array_equal(loss_out, ref_loss)
    np.testing.assert_array_equal(grad_out, ref_grad)
    assert loss.loss(y, raw, sw, loss_out=np.empty_like(loss_out)).dtype == dtype
    if loss.has_hessian:
        ref_g, ref_h = loss.gradient_hessian(y, raw, sw)
        h_out = np.empty(raw.shape, dtype)
        g, h = loss.gradient_hessian(y, raw, sw, hessian_out=h_out)
        assert h is h_out
        np.testing.assert_array_equal(h_out, ref_h)
        np.testing.assert_array_equal(g, ref_g)


def test_preallocated_output_of_wrong_shape_is_rejected():
    loss = get_loss("squared_error")
    with pytest.raises(ValueError, match="gradient_out must be an ndarray of shape"):
        loss.gradient(np.zeros(5), np.zeros(5), gradient_out=np.empty(4))


def test_preallocated_output_of_other_dtype_receives_a_copy():
    loss = get_loss("log_loss")
    y = np.array([0.0, 1.0, 1.0])
    raw = np.array([-2.0, 0.5, 3.0])
    out = np.empty(3, np.float32)
    got = loss.loss(y, raw, loss_out=out)
    assert got is out
    np.testing.assert_allclose(out, loss.loss(y, raw), rtol=1e-6)
