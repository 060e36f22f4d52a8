"""One kernel registry: the compiled routes are derived from the loss objects.

* every built-in loss has a compiled route in every estimator family: the
  network's epoch (each output form the loss can take) and the linear models
  (its element-wise kernels; its fused pass when it declares one), each a
  ``cache=True`` kernel of :mod:`skloss._kernels`;
* the network's route is the very kernel the loss object evaluates with, and a
  subclass that overrides the evaluation gets none (Python route);
* the network code keeps no table of loss names;
* one epoch driver serves every loss: a second loss compiles its kernel only.
"""

import inspect
import warnings

import numpy as np
import pytest

from skloss._kernels import _net
from skloss._warmup import kernel_dispatchers
from skloss.losses import available_losses, get_loss
from skloss.losses._base import _kernel
from skloss.neural_network import _output


def _forms(loss):
    if loss.task == "regression":
        return ["regression"]
    return ["binary", "multiclass" if loss.has_multiclass_form else "ovr"]


def _cached_kernels():
    return {disp: name for name, disp in kernel_dispatchers().items()
            if type(disp._cache).__name__ != "NullCache"}


@pytest.mark.parametrize("name", available_losses())
def test_every_builtin_loss_has_a_compiled_network_route(name):
    loss = get_loss(name)
    cached = _cached_kernels()
    for form in _forms(loss):
        route = _output.compiled_route(loss, form)
        assert route is not None, (name, form)
        _, kernel = route
        assert kernel in cached, (name, form, kernel)
        # the kernel the loss object itself calls for this form
        if form == "multiclass":
            expected = _kernel("_multiclass", loss._multiclass_kernel_name)
        else:
            expected = _kernel(loss._kernel_module, loss._kernel_name)
        assert kernel is expected, (name, form)


@pytest.mark.parametrize("name", available_losses())
def test_every_builtin_loss_has_a_compiled_linear_route(name):
    loss = get_loss(name)
    cached = _cached_kernels()
    # (by name: one driver may serve several names, e.g. the GLM passes)
    names = {n.split(".", 1)[1] for n, disp in kernel_dispatchers().items() if disp in cached}
    assert _kernel(loss._kernel_module, loss._kernel_name) in cached, name
    if loss.task == "classification" and loss.has_multiclass_form:
        assert _kernel("_multiclass", loss._multiclass_kernel_name) in cached, name
    fused = getattr(loss, "fused_linear_kernel", None)
    if fused is not None:
        for sparse in (False, True):
            for multiclass in (False, True):
                kernel_name = fused(sparse=sparse, multiclass=multiclass)
                assert kernel_name is None or kernel_name in names, (name, kernel_name)


def test_a_subclass_overriding_the_evaluation_has_no_compiled_route():
    base = type(get_loss("squared_error"))

    class Doubled(base):
        def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
            out = super()._evaluate(y, raw, sw, want_loss, want_grad, want_hess)
            return tuple(None if o is None else 2 * o for o in out)

    assert _output.compiled_route(Doubled(), "regression") is None
    assert _output.compiled_route(base(), "regression") is not None


def test_network_code_keeps_no_table_of_loss_names():
    sources = inspect.getsource(_net) + inspect.getsource(_output)
    for name in available_losses():
        assert f'"{name}"' not in sources and f"'{name}'" not in sources, name


def test_one_driver_serves_every_loss():
    from skloss.neural_network import SGDNetClassifier, _base

    X = np.linspace(-1.0, 1.0, 60).reshape(30, 2)
    y = (X[:, 0] > 0).astype(int)
    fits = {}
    # (the compiled epoch: fits this small otherwise run in NumPy, and the test then
    # passed only where another test of the same process had compiled the driver)
    with warnings.catch_warnings(), _base._forced_route(numpy=False):
        warnings.simplefilter("ignore")
        for loss in ("log_loss", "hinge", "modified_huber"):
            clf = SGDNetClassifier(loss=loss, hidden_layer_sizes=(3,), max_iter=2,
                                   random_state=0).fit(X, y)
            fits[loss] = clf.coefs_[0]
    float64_signatures = [s for s in _net.epoch.signatures
                          if str(s[4].dtype) == "float64"]
    assert len(float64_signatures) == 1, _net.epoch.signatures
    # and the losses really differ inside it
    assert not np.array_equal(fits["log_loss"], fits["hinge"])
