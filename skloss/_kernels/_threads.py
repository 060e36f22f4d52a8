"""Chunks of rows on threads: the fused passes of the linear models are serial
``nogil`` numba kernels over one chunk of rows each, run here on a persistent
pool of Python threads and summed by the caller in chunk order.

Why not ``parallel=True``: the same chunk loop under ``prange`` compiled in 2.7 s
CPU (fresh process, load 7), most of it numba's parallel machinery, against
1.0 s serial; warm, on 2 cores, these threads were as fast or faster (see the
fused passes in :mod:`skloss._kernels._binary`).  The chunk layout depends only
on the ``n_chunks`` the caller asks for, never on the number of threads or
their timing, so every result is bit-identical run after run.
"""

import os
import threading

import numpy as np

__all__ = ["chunk_sums", "n_threads", "run_chunks"]


def n_threads():
    """numba's thread count: ``numba.set_num_threads`` once numba's threading layer
    runs, else ``NUMBA_NUM_THREADS`` (the usable cores); asking numba before would
    start its threading layer."""
    import numba
    from numba.np.ufunc import parallel

    if parallel._is_initialized:
        return numba.get_num_threads()
    return numba.config.NUMBA_NUM_THREADS


_POOL_LOCK = threading.Lock()
_POOL = [None, 0, 0]  # executor, its size, the process that made it (a fork has no threads)


def _pool(size):
    with _POOL_LOCK:
        ex, have, pid = _POOL
        if ex is None or pid != os.getpid() or have < size:
            from concurrent.futures import ThreadPoolExecutor

            ex = ThreadPoolExecutor(max_workers=size, thread_name_prefix="skloss-chunks")
            _POOL[:] = [ex, size, os.getpid()]
        return ex


def _call(kernel, first, stride, args, errors):
    try:
        kernel(first, stride, *args)
    except BaseException as exc:  # (re-raised by the caller)
        errors.append(exc)


def run_chunks(kernel, n_chunks, args):
    """``kernel(first, stride, *args)`` on up to numba's thread count of threads (the
    calling one included): call ``t`` of ``T`` handles the chunks ``t, t + T, ...``
    below ``n_chunks`` (one call per thread: a call from Python into a compiled
    kernel costs microseconds, a chunk of a short pass not much more).  Which thread
    runs a chunk never changes its result: each chunk has its own accumulator."""
    workers = min(n_chunks, n_threads())
    if workers <= 1:
        kernel(0, 1, *args)
        return
    errors = []
    pool = _pool(workers - 1)
    futures = [pool.submit(_call, kernel, t, workers, args, errors) for t in range(1, workers)]
    _call(kernel, 0, workers, args, errors)
    for f in futures:
        f.result()
    if errors:
        raise errors[0]


def chunk_sums(kernel, n_rows, n_chunks, shape, args):
    """The sums of a pass over ``n_rows`` rows in ``n_chunks`` chunks of equal
    length: ``kernel(first, stride, step, acc, *args)`` writes the partial sums of
    each of its chunks ``k`` (rows ``[k step, (k + 1) step)``) to ``acc[k]`` (of
    ``shape``), and they are added in chunk order."""
    n_chunks = max(1, int(n_chunks))
    acc = np.zeros((n_chunks, *shape))
    run_chunks(kernel, n_chunks, (-(-int(n_rows) // n_chunks), acc, *args))
    return acc.sum(axis=0)
