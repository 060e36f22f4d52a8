"""Compile every built-in numba kernel ahead of time: :func:`skloss.warmup`.

Kernels compile lazily on first use and are cached on disk (``cache=True``;
where, see :mod:`skloss._cache`).  ``warmup()`` calls each
kernel once per specialisation (float64 and float32 where a kernel has both;
binary and multi-class forms), so that a Docker image, a CI job or a cluster's
workers built after it start with a full cache and never compile again.  (The
element-wise loss kernels compile in float64 only: float32 arrays run that code
through two adapters, :mod:`skloss._kernels._widen`.)
"""

import importlib
import pkgutil
import time

import numpy as np

__all__ = ["warmup", "kernel_dispatchers", "cache_stats"]

SUBPACKAGES = ("skloss.linear_model", "skloss.neural_network")


def kernel_dispatchers():
    """Every numba dispatcher defined in the modules of :mod:`skloss._kernels`.

    Returns
    -------
    dict
        ``{"module.function": dispatcher}``; a Python function that runs a serial
        kernel on threads (``function.kernel``) stands for that kernel.
    """
    from numba.core.dispatcher import Dispatcher

    import skloss._kernels as kernels

    found = {}
    for info in pkgutil.iter_modules(kernels.__path__):
        module = importlib.import_module(f"skloss._kernels.{info.name}")
        wrapped = {}
        for attr, value in vars(module).items():
            # only drivers defined here (not ones imported from a sibling module)
            if isinstance(value, Dispatcher) and value.py_func.__module__ == module.__name__:
                found[f"{info.name}.{attr}"] = value
            # a Python function that runs a serial kernel on threads (``_binary.log_loss_linear``)
            # names its kernel ``.kernel``: listed under the function's name
            elif (callable(value) and getattr(value, "__module__", None) == module.__name__
                  and isinstance(getattr(value, "kernel", None), Dispatcher)):
                wrapped[f"{info.name}.{attr}"] = value.kernel
        inner = {id(d) for d in wrapped.values()}
        found = {k: v for k, v in found.items() if id(v) not in inner}
        found.update(wrapped)
    return found


def cache_stats():
    """Compilation statistics of the kernels in this process.

    Returns
    -------
    dict
        ``signatures`` (specialisations in memory), ``cached_signatures`` (those
        of ``cache=True`` kernels), ``cache_hits`` (loaded from the disk cache)
        and ``cache_misses`` (compiled in this process), each a total over
        :func:`kernel_dispatchers`, and ``per_kernel``: the same numbers and
        ``cached`` (whether the kernel has a disk cache) for every kernel that
        has at least one specialisation.
    """
    total = {"signatures": 0, "cache_hits": 0, "cache_misses": 0, "cached_signatures": 0}
    per_kernel = {}
    seen = set()
    for name, disp in sorted(kernel_dispatchers().items()):
        # (one driver may serve several names, e.g. _regression.glm_linear: counted once)
        if id(disp) in seen:
            continue
        seen.add(id(disp))
        stats = disp.stats
        entry = {
            "signatures": len(disp.signatures),
            "cache_hits": int(sum(stats.cache_hits.values())),
            "cache_misses": int(sum(stats.cache_misses.values())),
            # cache=True (a helper compiled on its own, e.g. a function passed
            # to a driver during typing, has no disk cache)
            "cached": type(disp._cache).__name__ != "NullCache",
        }
        if entry["signatures"]:
            per_kernel[name] = entry
        for key in ("signatures", "cache_hits", "cache_misses"):
            total[key] += entry[key]
        if entry["cached"]:
            total["cached_signatures"] += entry["signatures"]
    total["per_kernel"] = per_kernel
    return total


_Y_CANDIDATES = (
    np.array([0.5, 1.0, 2.0, 3.0]),
    np.array([0.2, 0.4, 0.6, 0.8]),
    np.array([0.0, 1.0, 2.0, 3.0]),
    np.array([-1.0, 0.0, 1.0, 2.0]),
)


def _regression_y(loss):
    for y in _Y_CANDIDATES:
        try:
            loss.validate_y(y)
        except ValueError:
            continue
        return y
    raise ValueError(f"warmup: found no valid y_true for loss {loss.name!r}.")


def _exercise(loss, y, raw):
    sw = np.ones(raw.shape[0], dtype=raw.dtype)
    if loss.has_hessian:
        loss.loss_gradient_hessian(y, raw)
        loss.loss_gradient_hessian(y, raw, sw)
        if raw.ndim == 2 and loss.has_multiclass_form:
            try:
                loss.hessian_product(y, raw, np.ones_like(raw))
            except NotImplementedError:
                pass
    else:
        loss.loss_gradient(y, raw)
        loss.loss_gradient(y, raw, sw)


def warm_losses(names=None, dtypes=(np.float64, np.float32)):
    """Call every loss's kernels once per dtype (and per form for classification).

    Returns the list of loss names warmed.
    """
    from skloss.losses import available_losses, get_loss

    names = available_losses() if names is None else list(names)
    for name in names:
        loss = get_loss(name)
        for dtype in dtypes:
            if loss.task == "classification":
                y2 = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
                _exercise(loss, y2, np.array([-1.5, -0.2, 0.3, 2.0], dtype=dtype))
                y3 = np.array([0.0, 1.0, 2.0, 1.0], dtype=dtype)
                raw3 = np.linspace(-1.0, 1.0, 12).reshape(4, 3).astype(dtype)
                _exercise(loss, y3, raw3)
            else:
                y = _regression_y(loss).astype(dtype)
                _exercise(loss, y, np.array([0.3, 0.9, 1.7, 2.5], dtype=dtype))
    return names


# ------------------------------------------------------------------ tasks
def _tasks():
    """The units of work of :func:`warmup`, biggest first: ``(label, kind, arg)``."""
    from skloss.losses import available_losses

    from skloss.losses import get_loss

    # a subpackage may split its warm-up in parts (``_WARMUP_PARTS``: the linear
    # models and the network, one per dtype) so that parallel workers share it:
    # as one task each, the linear models (22 s CPU idle) and the network (22 s)
    # were the largest units, and two workers could not balance them
    tasks = []
    for package in SUBPACKAGES:
        try:
            parts = getattr(importlib.import_module(package), "_WARMUP_PARTS", (None,))
        except ModuleNotFoundError:
            parts = (None,)
        tasks += [(f"{package}._warmup({'' if part is None else repr(part)})", "subpackage",
                   (package, part)) for part in parts]
    tasks.append(("exact piecewise-linear solvers", "exact", None))
    # classification losses compile two forms (binary and K-class, with their
    # Hessian products): about three times a regression loss, so they go first
    # and the parallel workers finish together (measured, CPU s: focal 9.5,
    # brier 8.2, kl_divergence 7.1 against 1-2 for a regression loss)
    names = available_losses()
    names = sorted(names, key=lambda name: get_loss(name).task != "classification")
    tasks += [(f"loss {name!r}", "loss", name) for name in names]
    return tasks


def _exact_fits():
    # the dual coordinate descent and envelope kernels of the piecewise-linear
    # solvers, dense and CSR, through the estimators (whatever route they take)
    import warnings

    import scipy.sparse as sp

    from skloss.linear_model import MLELinearRegression, MLELogisticRegression

    rng = np.random.RandomState(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in (np.float64, np.float32):
            X = rng.normal(size=(60, 3)).astype(dtype)
            y = (X[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int)
            for data in (X, sp.csr_matrix(X)):
                for loss in ("hinge", "perceptron"):
                    try:
                        MLELogisticRegression(loss=loss, penalty="l2", alpha=0.1).fit(data, y)
                    except Exception:  # noqa: BLE001 (warming up; the tests check the fits)
                        pass
                for loss in ("quantile", "epsilon_insensitive"):
                    try:
                        MLELinearRegression(loss=loss, penalty="l2", alpha=0.1).fit(data, X[:, 0])
                    except Exception:  # noqa: BLE001 (warming up; the tests check the fits)
                        pass


def _run_task(kind, arg):
    """Run one warm-up task; returns False when it does not apply here."""
    if kind == "loss":
        warm_losses([arg])
    elif kind == "exact":
        _exact_fits()
    elif kind == "subpackage":
        package, part = arg
        try:
            module = importlib.import_module(package)
        except ModuleNotFoundError as exc:
            if exc.name != package:  # a real import error inside the package
                raise
            return False
        hook = getattr(module, "_warmup", None)
        if not callable(hook):
            return False
        if part is None:
            hook()
        else:
            hook(part)
    return True


def _worker(kind, arg):
    from skloss._cache import quiet_first_use_notice

    quiet_first_use_notice()
    t0 = time.perf_counter()
    ran = _run_task(kind, arg)
    return ran, time.perf_counter() - t0


def _progress(verbose, done, total, label, seconds):
    if verbose:
        print(f"skloss.warmup: [{done}/{total}] {label} ({seconds:.1f} s)", flush=True)


def _run_parallel(tasks, n_jobs, verbose):
    import concurrent.futures as cf
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding LLVM state
    done = 0
    with cf.ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
        futures = {pool.submit(_worker, kind, arg): label for label, kind, arg in tasks}
        for future in cf.as_completed(futures):
            _, seconds = future.result()
            done += 1
            _progress(verbose, done, len(tasks), futures[future], seconds)


def warmup(verbose=False, n_jobs=1):
    """Compile every built-in numba kernel ahead of time.

    Calls each loss of :func:`skloss.losses.available_losses` on tiny float64
    and float32 arrays (binary and multi-class forms for classification losses;
    ``loss_gradient_hessian`` where the loss has a Hessian, ``loss_gradient``
    otherwise, with and without sample weights), the ``_warmup()`` function of
    each estimator subpackage (``skloss.linear_model``, ``skloss.neural_network``:
    the fused linear passes and the network's epoch drivers) and tiny fits that
    reach the exact piecewise-linear solvers.  Compiled code is written to the
    numba disk cache (see :mod:`skloss._cache` for where), so later processes
    load it instead of compiling.

    A Docker image can carry the compiled cache::

        ENV NUMBA_CACHE_DIR=/opt/skloss-cache
        RUN python -c "import skloss; skloss.warmup(n_jobs=-1)"

    Parameters
    ----------
    verbose : bool, default=False
        Print a line as each group of kernels is ready, and a summary.
    n_jobs : int, default=1
        Compile in this many worker processes (-1: one per CPU).  The workers
        fill the disk cache; this process then loads everything from it.

    Returns
    -------
    summary : dict
        ``losses`` (number of losses warmed), ``subpackages`` (those whose
        ``_warmup`` ran), ``signatures`` (kernel specialisations now compiled or
        loaded in this process), ``cache_hits`` / ``cache_misses`` (loaded from
        disk / compiled in this process), ``seconds``.

    Examples
    --------
    >>> import skloss
    >>> summary = skloss.warmup()
    >>> summary["signatures"] > 0
    True
    """
    import os

    from skloss._cache import cache_locations, quiet_first_use_notice

    quiet_first_use_notice()
    start = time.perf_counter()
    tasks = _tasks()
    if n_jobs is None or n_jobs == 0:
        n_jobs = 1
    if n_jobs < 0:
        n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    if verbose:
        read, write = cache_locations()
        where = write if write is not None else "memory only (no writable cache directory)"
        print(f"skloss.warmup: compiling {len(tasks)} groups of kernels with {n_jobs} "
              f"process(es); cache: {where}", flush=True)
    if n_jobs > 1:
        _run_parallel(tasks, n_jobs, verbose)
        if verbose:
            print("skloss.warmup: loading the compiled kernels in this process", flush=True)
    names, ran = [], []
    for i, (label, kind, arg) in enumerate(tasks, 1):
        t0 = time.perf_counter()
        if _run_task(kind, arg):
            if kind == "loss":
                names.append(arg)
            elif kind == "subpackage" and arg[0] not in ran:
                ran.append(arg[0])
        if n_jobs == 1:
            _progress(verbose, i, len(tasks), label, time.perf_counter() - t0)
    stats = cache_stats()
    summary = {
        "losses": len(names),
        "subpackages": ran,
        "signatures": stats["signatures"],
        "cached_signatures": stats["cached_signatures"],
        "cache_hits": stats["cache_hits"],
        "cache_misses": stats["cache_misses"],
        "seconds": time.perf_counter() - start,
    }
    if verbose:
        print(
            f"skloss.warmup: {summary['signatures']} kernel specialisations ready "
            f"({summary['cache_misses']} compiled, {summary['cache_hits']} loaded from the cache) "
            f"in {summary['seconds']:.1f} s",
            flush=True,
        )
    return summary
