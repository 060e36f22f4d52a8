"""numba compiles a dispatcher called from another kernel with the caller's
``fastmath`` and ``error_model`` unless the callee states its own, and caches that
overload as the callee's: a kernel's cached code must not depend on which caller
compiled it first.  Every cached kernel therefore states both flags."""

import os
import subprocess
import sys
import textwrap

import pytest

from skloss._warmup import kernel_dispatchers


def test_every_cached_kernel_states_its_floating_point_flags():
    missing = []
    for name, disp in kernel_dispatchers().items():
        if type(disp._cache).__name__ == "NullCache":
            continue
        opts = disp.targetoptions
        for flag in ("fastmath", "error_model"):
            if flag not in opts:
                missing.append(f"{name} ({flag})")
    assert not missing, "cached kernels without an explicit flag: " + ", ".join(missing)


def _in_order_on_one_cache(tmp_path, *scripts):
    """Run each script in a fresh process, one after the other, on one empty cache."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONWARNINGS="ignore")
    for script in scripts:
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]


_FIRST = textwrap.dedent(
    """
    import numpy as np
    from skloss._kernels import _linear
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (np.arange(40) % 3).astype(np.float64)
    # the fused softmax pass (fastmath) compiles the K-class log loss as its callee
    _linear.multinomial_logloss_value_grad(X, y, np.empty(0), np.zeros((3, 3)), np.zeros(3), 0.0, 2,
                                           np.empty((3, 4)))
    """
)

_SECOND = textwrap.dedent(
    """
    import numpy as np
    from skloss.losses import get_loss
    rng = np.random.default_rng(3)
    n, k = 300, 4
    y = rng.integers(0, k, n)
    raw = rng.normal(size=(n, k))
    raw[np.arange(n), y] = raw.max(axis=1) + rng.uniform(5, 700, n)
    others = np.exp(raw - raw[np.arange(n), y][:, None])
    others[np.arange(n), y] = 0.0
    expected = np.log1p(others.sum(axis=1))
    got = get_loss("log_loss").loss(y.astype(np.float64), raw)
    np.testing.assert_allclose(got, expected, rtol=4e-15, atol=1e-300)
    # ... and loaded, not compiled again: the callee's overload and a direct call's
    # are one cache entry (numba keys one by a Signature, the other by a tuple)
    from skloss._warmup import cache_stats
    stats = cache_stats()["per_kernel"]["_multiclass.log_loss"]
    assert stats["cache_misses"] == 0 and stats["cache_hits"] == 1, stats
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX subprocess environment")
def test_a_kernel_cached_by_a_fastmath_caller_keeps_ieee_precision(tmp_path):
    # a fresh cache filled by the fused pass first, then the loss called directly
    # in another process loads the K-class log loss from it: still exact for
    # confident rows (log1p of a tiny sum), which fastmath would lose, and loaded
    # under the direct call's key
    _in_order_on_one_cache(tmp_path, _FIRST, _SECOND)


_POINTER_FIRST = textwrap.dedent(
    """
    import numpy as np
    from skloss._kernels import _multiclass, _net
    # the network's function pointer compiles the kernel for an explicit Signature
    _net.kernel_pointer(_multiclass.log_loss, np.float64, True).__wrapper_address__()
    """
)

_DIRECT_SECOND = textwrap.dedent(
    """
    import numpy as np
    from skloss._warmup import cache_stats
    from skloss.losses import get_loss
    raw = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]])
    got = get_loss("log_loss").loss(np.array([2.0, 0.0]), raw)
    m = raw.max(axis=1)
    lse = m + np.log(np.exp(raw - m[:, None]).sum(axis=1))
    np.testing.assert_allclose(got, lse - raw[[0, 1], [2, 0]], rtol=1e-14)
    stats = cache_stats()["per_kernel"]["_multiclass.log_loss"]
    assert stats["cache_misses"] == 0 and stats["cache_hits"] == 1, stats
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX subprocess environment")
def test_one_cache_entry_for_a_pointer_compile_and_a_direct_call(tmp_path):
    # numba keys an overload compiled for an explicit Signature (a function pointer)
    # apart from one compiled for a call from Python (a tuple of argument types):
    # the second process must load, not compile, the same code
    _in_order_on_one_cache(tmp_path, _POINTER_FIRST, _DIRECT_SECOND)
