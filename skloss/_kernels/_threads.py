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

__all__ = ["n_threads", "run_chunks"]


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


class _Chunks:
    """Chunks ``0 .. n - 1`` handed out in turn; ``done`` is set when all ran."""

    def __init__(self, n):
        self.n = n
        self.next = 0
        self.left = n
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.error = None


def _work(kernel, args, state):
    lock = state.lock
    while True:
        with lock:
            k = state.next
            if k >= state.n:
                return
            state.next = k + 1
        try:
            kernel(k, *args)
        except BaseException as exc:  # (re-raised by the caller)
            state.error = exc
        with lock:
            state.left -= 1
            if state.left == 0:
                state.done.set()


def run_chunks(kernel, n_chunks, args):
    """``kernel(k, *args)`` for ``k`` in ``range(n_chunks)``, on up to numba's thread
    count of threads (the calling one included)."""
    workers = min(n_chunks, n_threads())
    if workers <= 1:
        for k in range(n_chunks):
            kernel(k, *args)
        return
    state = _Chunks(n_chunks)
    pool = _pool(workers - 1)
    for _ in range(workers - 1):
        pool.submit(_work, kernel, args, state)
    _work(kernel, args, state)
    state.done.wait()
    if state.error is not None:
        raise state.error
