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

# Before any kernel module is imported (so before any ``cache=True`` function is
# decorated): the cache that works on read-only installs, loads read-only warmed
# caches, survives damaged entries and keys entries on every kernel module's
# source (see skloss._cache).  Compiles nothing.
from skloss._cache import install as _install_cache  # noqa: E402

_install_cache()
