"""Numba kernels.

Every kernel is a module-level ``@njit(cache=True)`` function compiled lazily on
first call.  The point-wise helpers (``@njit(inline="always")``) live in the same
module as the cached drivers that call them, because a numba cache entry is
invalidated only when the file of the decorated function changes.

Driver signature of an element-wise loss kernel::

    kernel(y, raw, sw, params, out_loss, out_grad, out_hess)

``y``, ``raw``, ``sw`` and the outputs share one float dtype (float64 or float32),
so each kernel has at most two specialisations.  ``params`` is a float64 array of
the loss's parameters.  An output (or ``sw``) of length 0 means "not wanted"
("unit weights").  The arithmetic is done in float64 and stored in the output dtype.
"""
