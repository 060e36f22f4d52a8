"""The loss as the network's output layer: how an epoch evaluates it.

A loss evaluated by its own compiled element-wise kernel is evaluated inside the
compiled epoch: the epoch driver receives that kernel as a function pointer
(:class:`skloss._kernels._net.FunctionPointer`).  Which kernel that is, is read from
the loss object exactly as the loss itself finds it (``_kernel_module`` /
``_kernel_name`` for one score, ``_multiclass_kernel_name`` for K scores); no
table of loss names exists, so every loss with a kernel -- built-in or a custom
class that declares one -- has a compiled route.

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

A small fit uses neither: its epochs run in NumPy (:mod:`._numpy_epoch`; chosen
by size in :mod:`._base`), and nothing here is asked.
"""

import importlib

import numpy as np

from skloss.losses import Loss

# (numba and the compiled epoch are imported only by a fit that uses them: a
# small fit runs in NumPy, skloss.neural_network._numpy_epoch)

# the compiled epoch driver of each output form
_DRIVERS = {"binary": "elementwise", "ovr": "elementwise", "regression": "elementwise",
            "multiclass": "multiclass"}


def output_form(loss, n_outputs):
    """``"binary"``, ``"multiclass"``, ``"ovr"`` or ``"regression"``."""
    if loss.task == "regression":
        return "regression"
    if n_outputs == 1:
        return "binary"
    return "multiclass" if loss.has_multiclass_form else "ovr"


def _evaluates_with_kernels(loss):
    # a subclass that re-implements the evaluation is not described by its
    # kernel any more
    cls = type(loss)
    return cls._evaluate is Loss._evaluate and cls._evaluate_ovr is Loss._evaluate_ovr


def loss_kernel(loss, form):
    """The ``cache=True`` element-wise kernel (a numba dispatcher) that ``loss``
    evaluates itself with in this output form, or None."""
    if not _evaluates_with_kernels(loss):
        return None
    if form == "multiclass":
        module, name = "_multiclass", getattr(loss, "_multiclass_kernel_name", None)
    else:
        module, name = getattr(loss, "_kernel_module", None), getattr(loss, "_kernel_name", None)
    if not module or not name:
        return None
    try:
        kernel = getattr(importlib.import_module(f"skloss._kernels.{module}"), name)
    except (ImportError, AttributeError):
        return None
    from numba.core.dispatcher import Dispatcher

    return kernel if isinstance(kernel, Dispatcher) else None


def read_only(a):
    """A read-only view: the epoch drivers type their inputs read-only always, so a
    read-only X or y (a memory map in a joblib worker) compiles nothing new."""
    view = a.view()
    view.flags.writeable = False
    return view


def _epoch(multiclass, X, Y, sw, perm, theta, grad, s1, s2, sizes, act, opt, hyper, counters,
           kernel, params, work):
    # the driver of X's layout (X[3]: the CSR row pointers, empty for dense X)
    # and the output form; activation, optimizer and loss kernel by pointer
    from skloss._kernels import _net

    dtype = theta.dtype
    sparse = X[3].shape[0] > 0
    driver = _net.epoch_driver(sparse, multiclass)
    args = (X, read_only(Y.reshape(-1)), read_only(sw), perm, theta, grad, s1, s2, sizes,
            hyper, counters, _net.activation_pointer(act, dtype), _net.update_pointer(opt, dtype))
    # the float64 kernel for every dtype (the loss's buffers are float64: _base._workspace)
    pointer = _net.kernel_pointer(kernel, np.float64, multiclass)
    if driver is _net.epoch:
        # one driver for both layouts and forms: the form's kernel in its slot,
        # the no-op kernel in the other
        unused = _net.kernel_pointer(_net.no_kernel, np.float64, not multiclass)
        kernels = (unused, pointer) if multiclass else (pointer, unused)
        return driver(*args, *kernels, bool(multiclass), params, work)
    return driver(*args, pointer, params, work)


def _elementwise(*args):
    return _epoch(False, *args)


def _multiclass(*args):
    return _epoch(True, *args)


def compiled_route(loss, form):
    """``(epoch, kernel)`` of the compiled epoch for this loss: ``epoch(...)``
    runs one epoch with ``kernel`` (the loss's own compiled kernel) as the output
    layer; ``None`` when the loss must be evaluated from Python."""
    kernel = loss_kernel(loss, form)
    if kernel is None:
        return None
    return (_multiclass if _DRIVERS[form] == "multiclass" else _elementwise), kernel


def kernel_params(loss):
    # a fresh writable float64 vector: one numba type for every loss
    return np.array(loss._kernel_params(), dtype=np.float64, copy=True).reshape(-1)
