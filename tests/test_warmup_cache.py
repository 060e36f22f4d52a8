"""The numba kernels cache across processes.

Each test runs the same code in two fresh Python processes sharing one empty
temporary ``NUMBA_CACHE_DIR``: the first must compile (cache misses, nothing
loaded), the second must load everything from the disk cache (zero misses).  A
kernel that took a jitclass, a dispatcher argument or a closure, or whose
inline helpers lived in another file, would fail this.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

_FEW_LOSSES = textwrap.dedent(
    """
    import json
    import numpy as np
    from skloss._warmup import cache_stats
    from skloss.losses import get_loss

    y = np.array([0.5, 1.0, 2.0, 4.0])
    raw = np.array([0.0, 1.5, 1.0, 3.0])
    yc = np.array([0.0, 1.0, 1.0, 0.0])
    yk = np.array([0.0, 2.0, 1.0, 2.0])
    rawk = np.linspace(-2.0, 2.0, 12).reshape(4, 3)
    values = {}
    for dtype in (np.float64, np.float32):
        key = np.dtype(dtype).name
        loss, grad = get_loss("squared_error").loss_gradient(y.astype(dtype), raw.astype(dtype))
        assert loss.dtype == dtype and grad.dtype == dtype
        values["squared_error_" + key] = [loss.tolist(), grad.tolist()]
        loss, grad = get_loss("log_loss").loss_gradient(yc.astype(dtype), raw.astype(dtype))
        values["log_loss_" + key] = [loss.tolist(), grad.tolist()]
        loss, grad = get_loss("log_loss").loss_gradient(yk.astype(dtype), rawk.astype(dtype))
        values["log_loss_k_" + key] = [loss.tolist(), grad.tolist()]
    stats = cache_stats()
    print(json.dumps({"stats": stats, "values": values}))
    """
)

_WARM_ALL_LOSSES = textwrap.dedent(
    """
    import json
    from skloss._warmup import cache_stats, warm_losses
    names = warm_losses()
    stats = cache_stats()
    stats["losses"] = len(names)
    print(json.dumps(stats))
    """
)


def _run(code, cache_dir):
    env = dict(os.environ)
    if cache_dir is not None:  # None: the session's own cache (whatever it holds)
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    env.pop("NUMBA_DISABLE_JIT", None)
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_kernels_load_from_cache_in_a_second_process(tmp_path):
    first = _run(_FEW_LOSSES, tmp_path)
    second = _run(_FEW_LOSSES, tmp_path)
    s1, s2 = first["stats"], second["stats"]
    # squared_error, binary and multi-class log_loss: one float64 specialisation
    # each, no more (inputs are normalised before the kernels); float32 arrays go
    # through them by the two float32 adapters (skloss._kernels._widen)
    assert s1["cached_signatures"] == 5, s1
    assert s1["cache_misses"] >= 5 and s1["cache_hits"] == 0, s1
    assert s2["cache_misses"] == 0, f"recompiled in the second process: {s2['per_kernel']}"
    assert s2["cache_hits"] == s2["signatures"] == 5, s2
    assert set(s2["per_kernel"]) == {k for k, v in s1["per_kernel"].items() if v["cached"]}
    assert {"_regression.squared_error", "_binary.log_loss", "_multiclass.log_loss",
            "_widen.widened", "_widen.widened_multiclass"} <= set(s1["per_kernel"]), s1["per_kernel"]
    for name in ("_regression.squared_error", "_binary.log_loss", "_multiclass.log_loss"):
        assert s1["per_kernel"][name]["signatures"] == 1, (name, s1["per_kernel"][name])
    # the cached code computes what the compiled code computed, and both are right
    assert second["values"] == first["values"]
    y = np.array([0.5, 1.0, 2.0, 4.0])
    raw = np.array([0.0, 1.5, 1.0, 3.0])
    loss, grad = first["values"]["squared_error_float64"]
    np.testing.assert_allclose(loss, (y - raw) ** 2, rtol=1e-15)
    np.testing.assert_allclose(grad, 2 * (raw - y), rtol=1e-15)
    yc = np.array([0.0, 1.0, 1.0, 0.0])
    loss, grad = first["values"]["log_loss_float32"]
    p = 1 / (1 + np.exp(-raw))
    np.testing.assert_allclose(loss, -(yc * np.log(p) + (1 - yc) * np.log1p(-p)), rtol=1e-6)
    np.testing.assert_allclose(grad, p - yc, rtol=1e-6, atol=1e-7)


def test_every_loss_kernel_loads_from_cache():
    """The loss part of ``skloss.warmup()`` (every registered loss, float64 and
    float32, binary and multi-class forms, with and without weights) in a fresh
    process fills the session's cache (compiling what is missing, e.g. in a
    fresh CI run); a second fresh process then finds every specialisation in the
    cache.  (The session's cache, not an empty one: with a warmed cache this costs
    no compilation; the empty-cache case is covered by the test above and by
    tests/test_cache_robust.py.  The estimator subpackages test their own
    kernels' caching.)"""
    first = _run(_WARM_ALL_LOSSES, None)
    second = _run(_WARM_ALL_LOSSES, None)
    from skloss.losses import available_losses

    from skloss.losses import get_loss

    assert first["losses"] == second["losses"] == len(available_losses())
    # each loss's kernels (the multi-class form's too) compiled once, in float64:
    # its float32 calls run that code through the two float32 adapters
    for name in available_losses():
        loss = get_loss(name)
        kernels = [f"{loss._kernel_module}.{loss._kernel_name}"]
        if loss.task == "classification" and loss.has_multiclass_form:
            kernels.append(f"_multiclass.{loss._multiclass_kernel_name}")
        for kernel in kernels:
            assert first["per_kernel"][kernel]["signatures"] == 1, (name, kernel, first["per_kernel"][kernel])
    for adapter in ("_widen.widened", "_widen.widened_multiclass"):
        assert first["per_kernel"][adapter]["signatures"] >= 1, first["per_kernel"].get(adapter)
    assert second["cache_misses"] == 0, {
        k: v for k, v in second["per_kernel"].items() if v["cache_misses"]
    }
    assert second["cache_hits"] == second["signatures"] == first["cached_signatures"], second


def test_warmup_leaves_nothing_to_compile():
    """After ``skloss.warmup()``, using any loss in any dtype and form, and the
    estimators' warm-up fits, compiles nothing more."""
    import skloss
    from skloss._warmup import _regression_y, cache_stats
    from skloss.losses import available_losses, get_loss

    summary = skloss.warmup()
    assert summary["losses"] == len(available_losses())
    assert set(summary["subpackages"]) == {"skloss.linear_model", "skloss.neural_network"}
    assert summary["cached_signatures"] >= 2 * len(available_losses())
    before = cache_stats()
    # the estimators' compiled routes too: the network's two epoch drivers (its
    # warm-up fits are small enough for the NumPy epoch, which compiles nothing)
    # and the linear models' fused passes, one specialisation per dtype each
    for name in ("_net.epoch", "_net.dense_multiclass_epoch", "_binary.log_loss_linear", "_linear.multinomial_logloss_value_grad"):
        assert before["per_kernel"].get(name, {}).get("signatures") == 2, (name, before["per_kernel"].get(name))
    assert {"_regression.poisson_linear", "_regression.gamma_linear",
            "_regression.tweedie_linear"} & set(before["per_kernel"]), before["per_kernel"].keys()
    rng = np.random.default_rng(0)
    for name in available_losses():
        loss = get_loss(name)
        for dtype in (np.float64, np.float32):
            if loss.task == "classification":
                cases = [(rng.integers(0, 2, 50), rng.normal(size=50)),
                         (rng.integers(0, 4, 50), rng.normal(size=(50, 4)))]
            else:
                cases = [(_regression_y(loss)[[0, 1, 2, 3] * 5],
                          rng.normal(size=20))]
            for y, raw in cases:
                value, grad = loss.loss_gradient(y.astype(dtype), raw.astype(dtype),
                                                 rng.random(raw.shape[0]).astype(dtype))
                assert value.dtype == grad.dtype == dtype
                assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    after = cache_stats()
    new = {k: v for k, v in after["per_kernel"].items()
           if v["signatures"] != before["per_kernel"].get(k, {}).get("signatures")}
    assert after["cache_misses"] == before["cache_misses"], f"compiled after warmup: {new}"
    assert after["signatures"] == before["signatures"], new
