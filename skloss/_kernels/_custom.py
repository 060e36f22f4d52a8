"""Generic drivers of the custom losses built by :func:`skloss.losses.make_loss`.

The user's scalar functions ``f(y, raw) -> float`` are compiled with numba (in
:mod:`skloss.losses._custom`) and passed to these drivers *as arguments*.  That is
the one departure from the rule of every other kernel module: numba cannot cache a
function that takes a dispatcher argument on disk, so these drivers are plain
``@njit`` (no ``cache=True``) and a custom loss pays its compilation once per
process and per dtype (float64, float32) — typically well under a second.  The
built-in losses are unaffected.

Driver signature (the element-wise kernel signature of :mod:`skloss._kernels`
with the three scalar functions in front)::

    driver(f_loss, f_grad, f_hess, y, raw, sw, out_loss, out_grad, out_hess)

obtained from :func:`elementwise_driver`.  The dispatcher is created on first use
and kept in a module dict rather than as a module attribute, so that
``skloss._warmup`` (which lists and warms the cached kernels) does not count it.

An output (or ``sw``) of length 0 means "not wanted" ("unit weights").  The
scalar functions are always called with two float64 numbers, so each of them has
exactly one specialisation; the result is multiplied by the sample weight in
float64 and stored in the output dtype.
"""

import numpy as np
from numba import njit


def _elementwise(f_loss, f_grad, f_hess, y, raw, sw, out_loss, out_grad, out_hess):
    n = raw.shape[0]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        w = np.float64(sw[i]) if weighted else 1.0
        yi = np.float64(y[i])
        r = np.float64(raw[i])
        if do_loss:
            out_loss[i] = w * np.float64(f_loss(yi, r))
        if do_grad:
            out_grad[i] = w * np.float64(f_grad(yi, r))
        if do_hess:
            out_hess[i] = w * np.float64(f_hess(yi, r))


_DRIVERS = {}


def elementwise_driver():
    """The numba dispatcher of the element-wise driver (created on first call)."""
    try:
        return _DRIVERS["elementwise"]
    except KeyError:
        _DRIVERS["elementwise"] = njit(_elementwise)
        return _DRIVERS["elementwise"]
