"""The loss as the network's output layer: how an epoch evaluates it.

A built-in loss is evaluated inside the compiled epoch: its kernel is reached
through an integer code, the position of the kernel's name in the tables of
:mod:`skloss._kernels._net`.  The code is read from the loss class's own
attributes (``_kernel_module``, ``_kernel_name``, ``_multiclass_kernel_name``,
``has_multiclass_form``); no estimator keeps a list of loss names.

Which form of a classification loss the output layer uses:

* two classes: one output unit and the loss's binary form;
* K > 2 classes and ``has_multiclass_form``: K output units and the genuine
  K-class form (softmax cross-entropy, Crammer-Singer hinge, ...);
* K > 2 classes otherwise: K output units and the one-vs-rest K-score form
  ``sum_k loss(1[y == k], raw[:, k])``.

A regressor with several outputs sums the loss over the outputs.

Any other loss (one from :func:`~skloss.losses.make_loss`, or a subclass that
overrides ``_evaluate``) takes the *Python route*: the forward pass and the
backward pass with the optimizer step of each minibatch stay compiled, and the
loss's ``loss_gradient`` is called from Python between them, once per minibatch.
It gives the same result, more slowly for small batches.
"""

import numpy as np

from skloss._kernels import _net
from skloss.losses import Loss

_TABLES = {
    "binary": ("_binary", "_kernel_name", _net.BINARY_KERNELS, "binary_epoch"),
    "ovr": ("_binary", "_kernel_name", _net.BINARY_KERNELS, "binary_epoch"),
    "multiclass": ("_multiclass", "_multiclass_kernel_name", _net.MULTICLASS_KERNELS,
                   "multiclass_epoch"),
    "regression": ("_regression", "_kernel_name", _net.REGRESSION_KERNELS, "regression_epoch"),
}


def output_form(loss, n_outputs):
    """``"binary"``, ``"multiclass"``, ``"ovr"`` or ``"regression"``."""
    if loss.task == "regression":
        return "regression"
    if n_outputs == 1:
        return "binary"
    return "multiclass" if loss.has_multiclass_form else "ovr"


def _evaluates_with_kernels(loss):
    # a subclass that re-implements the evaluation is not described by its
    # kernel names any more
    cls = type(loss)
    return cls._evaluate is Loss._evaluate and cls._evaluate_ovr is Loss._evaluate_ovr


def compiled_route(loss, form):
    """``(driver, code)`` of the compiled epoch for this loss, or ``None`` when
    the loss must be evaluated from Python."""
    module, attr, table, driver = _TABLES[form]
    if not _evaluates_with_kernels(loss):
        return None
    if form != "multiclass" and getattr(loss, "_kernel_module", None) != module:
        return None
    name = getattr(loss, attr, None)
    if name not in table:
        return None
    return getattr(_net, driver), table.index(name)


def kernel_params(loss):
    return np.ascontiguousarray(loss._kernel_params(), dtype=np.float64).reshape(-1)
