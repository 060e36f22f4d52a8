"""Compile every built-in numba kernel ahead of time: :func:`skloss.warmup`.

Kernels compile lazily on first use and are cached on disk (``cache=True``, in
``NUMBA_CACHE_DIR`` when set, else next to the source).  ``warmup()`` calls each
kernel once per specialisation (float64 and float32; binary and multi-class
forms), so that a Docker image, a CI job or a cluster's workers built after it
start with a full cache and never compile again.
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
        ``{"module.function": dispatcher}``.
    """
    from numba.core.dispatcher import Dispatcher

    import skloss._kernels as kernels

    found = {}
    for info in pkgutil.iter_modules(kernels.__path__):
        module = importlib.import_module(f"skloss._kernels.{info.name}")
        for attr, value in vars(module).items():
            # only drivers defined here (not ones imported from a sibling module)
            if isinstance(value, Dispatcher) and value.py_func.__module__ == module.__name__:
                found[f"{info.name}.{attr}"] = value
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
    for name, disp in sorted(kernel_dispatchers().items()):
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


def warmup(verbose=False):
    """Compile every built-in numba kernel ahead of time.

    Calls each loss of :func:`skloss.losses.available_losses` on tiny float64
    and float32 arrays (binary and multi-class forms for classification losses;
    ``loss_gradient_hessian`` where the loss has a Hessian, ``loss_gradient``
    otherwise, with and without sample weights), then the ``_warmup()`` function
    of each estimator subpackage (``skloss.linear_model``,
    ``skloss.neural_network``) that defines one.  Compiled code is written to the
    numba disk cache, so later processes load it instead of compiling.

    Parameters
    ----------
    verbose : bool, default=False
        Print a line per step and a summary.

    Returns
    -------
    summary : dict
        ``losses`` (number of losses warmed), ``subpackages`` (those whose
        ``_warmup`` ran), ``signatures`` (kernel specialisations now compiled or
        loaded), ``cache_hits`` / ``cache_misses`` (loaded from disk / compiled
        in this process), ``seconds``.

    Examples
    --------
    >>> import skloss
    >>> summary = skloss.warmup()
    >>> summary["signatures"] > 0
    True
    """
    start = time.perf_counter()
    names = warm_losses()
    if verbose:
        print(f"skloss.warmup: {len(names)} losses warmed ({time.perf_counter() - start:.1f} s)")
    ran = []
    for package in SUBPACKAGES:
        try:
            module = importlib.import_module(package)
        except ModuleNotFoundError as exc:
            if exc.name != package:  # a real import error inside the package
                raise
            continue
        hook = getattr(module, "_warmup", None)
        if callable(hook):
            t0 = time.perf_counter()
            hook()
            ran.append(package)
            if verbose:
                print(f"skloss.warmup: {package}._warmup() ({time.perf_counter() - t0:.1f} s)")
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
            f"in {summary['seconds']:.1f} s"
        )
    return summary
