"""Float32 arrays through the float64 element-wise loss kernels.

An element-wise loss kernel computes in float64 whatever its arrays' dtype and
rounds once when it stores a result (``skloss._kernels``).  A float32
specialisation of each kernel therefore computes exactly what the float64 one
computes on the same values, rounded to float32: the same bits as
``float32(kernel64(float64(y), float64(raw), float64(sw)))``.  Compiling both for
every loss doubled the element-wise part of a warm-up (30 kernels, 9.6 s CPU of
float32 copies in a 52 s serial warm-up).

:func:`float32_call` evaluates float32 arrays with the float64 kernel instead:
one cached adapter per form (:func:`widened` for 1-D kernels,
:func:`widened_multiclass` for the K-class ones) copies blocks of rows into
float64 buffers that stay in the L1 cache, calls the kernel through a function
pointer (the address of its C entry point, an integer: the adapter is compiled
once for every loss) and stores the results back, rounded to float32.  The
results are bit-identical to the float32 specialisations they replace.

An exception raised inside a function called through a pointer is not
propagated (numba reports it as "unraisable" and the call returns), so the
K-class adapter checks the class indices itself, before the kernel sees them
(``_multiclass._check_classes``, the kernels' own check and message).
"""

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._multiclass import _check_classes
from ._net import _rows, _view2d, kernel_pointer, kernel_signature

_BLOCK = 512  # values per block: the float64 buffers stay in the L1 cache


def _function_at(fnty):
    """An intrinsic ``at(address)``: the first-class function of type ``fnty``
    whose C entry point is at ``address`` (an int64).  The adapters take the
    kernel's address as an integer, not a FunctionPointer object: numba types and
    unboxes an object argument in Python at every call (7-10 us, which a small
    float32 loss evaluation would pay), an integer in C."""

    @intrinsic
    def at(typingctx, address):
        if not isinstance(address, types.Integer):
            return None

        def codegen(context, builder, signature, args):
            voidptr = context.get_value_type(types.voidptr)
            f = cgutils.create_struct_proxy(fnty)(context, builder)
            f.c_addr = builder.inttoptr(args[0], voidptr)
            f.py_addr = context.get_constant_null(types.voidptr)
            f.jit_addr = context.get_constant_null(types.voidptr)
            return f._getvalue()

        return fnty(address), codegen

    return at


_kernel_at = _function_at(types.FunctionType(kernel_signature(np.float64, False)))
_kclass_kernel_at = _function_at(types.FunctionType(kernel_signature(np.float64, True)))



@njit(cache=True, nogil=True, fastmath=False, error_model="numpy")
def widened(address, y, raw, sw, params, out_loss, out_grad, out_hess):
    """The float64 1-D element-wise kernel at ``address`` (its C entry point) on
    float32 arrays, block by block; outputs and ``sw`` of length 0 as the
    kernel's."""
    kernel = _kernel_at(address)
    n = raw.shape[0]
    weighted = sw.shape[0] > 0
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    yb = np.empty(_BLOCK)
    rb = np.empty(_BLOCK)
    sb = np.empty(_BLOCK)
    lb = np.empty(_BLOCK)
    gb = np.empty(_BLOCK)
    hb = np.empty(_BLOCK)
    for s0 in range(0, n, _BLOCK):
        m = min(_BLOCK, n - s0)
        yv = _rows(y, s0, m)
        rv = _rows(raw, s0, m)
        for i in range(m):
            yb[i] = yv[i]
            rb[i] = rv[i]
        if weighted:
            sv = _rows(sw, s0, m)
            for i in range(m):
                sb[i] = sv[i]
        kernel(_rows(yb, 0, m), _rows(rb, 0, m), _rows(sb, 0, m if weighted else 0), params,
               _rows(lb, 0, m if do_loss else 0), _rows(gb, 0, m if do_grad else 0),
               _rows(hb, 0, m if do_hess else 0))
        if do_loss:
            ov = _rows(out_loss, s0, m)
            for i in range(m):
                ov[i] = lb[i]
        if do_grad:
            ov = _rows(out_grad, s0, m)
            for i in range(m):
                ov[i] = gb[i]
        if do_hess:
            ov = _rows(out_hess, s0, m)
            for i in range(m):
                ov[i] = hb[i]


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy")
def widened_multiclass(address, y, raw, sw, params, out_loss, out_grad, out_hess):
    """The float64 K-class kernel at ``address`` on float32 arrays, blocks of
    rows at a time, after the kernel's class check."""
    kernel = _kclass_kernel_at(address)
    n, k = raw.shape
    _check_classes(y, k)  # (the K-class kernels' own check and message)
    weighted = sw.shape[0] > 0
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    rows = max(1, _BLOCK // max(k, 1))
    yb = np.empty(rows)
    sb = np.empty(rows)
    lb = np.empty(rows)
    rb = np.empty(rows * k)
    gb = np.empty(rows * k)
    hb = np.empty(rows * k)
    for s0 in range(0, n, rows):
        m = min(rows, n - s0)
        yv = _rows(y, s0, m)
        for i in range(m):
            yb[i] = yv[i]
        if weighted:
            sv = _rows(sw, s0, m)
            for i in range(m):
                sb[i] = sv[i]
        R = _view2d(rb, 0, m, k)
        rv = _rows(raw, s0, m)
        for i in range(m):
            for j in range(k):
                R[i, j] = rv[i, j]
        G = _view2d(gb, 0, m if do_grad else 0, k)
        H = _view2d(hb, 0, m if do_hess else 0, k)
        kernel(_rows(yb, 0, m), R, _rows(sb, 0, m if weighted else 0), params,
               _rows(lb, 0, m if do_loss else 0), G, H)
        if do_loss:
            ov = _rows(out_loss, s0, m)
            for i in range(m):
                ov[i] = lb[i]
        if do_grad:
            ov2 = _rows(out_grad, s0, m)
            for i in range(m):
                for j in range(k):
                    ov2[i, j] = G[i, j]
        if do_hess:
            ov2 = _rows(out_hess, s0, m)
            for i in range(m):
                for j in range(k):
                    ov2[i, j] = H[i, j]


_ADDRESSES = {}


def float32_call(kernel, y, raw, sw, params, out_loss, out_grad, out_hess):
    """Run the element-wise loss kernel ``kernel`` (a dispatcher) on float32
    arrays through its float64 specialisation (:func:`widened` /
    :func:`widened_multiclass`); same arguments as the kernel."""
    multiclass = raw.ndim == 2
    key = (kernel, multiclass)
    address = _ADDRESSES.get(key)
    if address is None:
        # (compiles or loads the float64 kernel; the pointer object keeps it alive)
        pointer = kernel_pointer(kernel, np.float64, multiclass)
        address = _ADDRESSES[key] = pointer.__wrapper_address__()
    adapter = widened_multiclass if multiclass else widened
    adapter(address, y, raw, sw, params, out_loss, out_grad, out_hess)
