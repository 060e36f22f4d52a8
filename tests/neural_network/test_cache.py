"""The compiled epoch is cached on disk: a second process compiles nothing.

The same fit runs in two fresh processes sharing one empty temporary
``NUMBA_CACHE_DIR``.  The first compiles the dense K-class epoch driver, the
activation and the optimizer step it uses (and nothing else of the network);
the second must load them from the cache.  An epoch driver that took the loss
kernel as a dispatcher argument would recompile every time.
"""

import json
import os
import subprocess
import sys
import textwrap

_FIT = textwrap.dedent(
    """
    import json, warnings
    import numpy as np
    from skloss._warmup import cache_stats
    from skloss.neural_network import SGDNetClassifier, _base

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = np.arange(60) % 3
    # (the compiled epoch: a fit this small would run in NumPy)
    with warnings.catch_warnings(), _base._forced_route(numpy=False):
        warnings.simplefilter("ignore")
        clf = SGDNetClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(X, y)
    net = {k: v for k, v in cache_stats()["per_kernel"].items() if k.startswith("_net.")}
    print(json.dumps({"net": net, "coef": clf.coefs_[0].tolist()}))
    """
)


def _run(cache_dir):
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = str(cache_dir)
    env.pop("NUMBA_DISABLE_JIT", None)
    proc = subprocess.run([sys.executable, "-c", _FIT], env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_epoch_driver_loads_from_cache_in_a_second_process(tmp_path):
    first = _run(tmp_path)
    second = _run(tmp_path)
    used = ("_net.dense_multiclass_epoch", "_net.relu_activation", "_net.sgd_update")
    assert sorted(first["net"]) == sorted(used), first["net"]
    for name in used:
        assert first["net"][name]["cache_misses"] == 1, first["net"]
    assert second["net"] == {
        name: {"signatures": 1, "cache_hits": 1, "cache_misses": 0, "cached": True}
        for name in used
    }, second["net"]
    assert second["coef"] == first["coef"]


def test_network_warmup_covers_every_driver_activation_and_optimizer():
    """After the network's warm-up, a fit with any activation, optimizer, input
    layout, output form and dtype compiles nothing more."""
    import warnings

    import numpy as np
    import scipy.sparse as sp

    from skloss._kernels import _net
    from skloss._warmup import cache_stats
    from skloss.neural_network import SGDNetClassifier, SGDNetRegressor, _warmup

    _warmup()
    before = cache_stats()
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in (np.float64, np.float32):
            for data in (X.astype(dtype), sp.csr_matrix(X.astype(dtype))):
                for act in _net.ACTIVATIONS:
                    for opt in _net.OPTIMIZERS:
                        kw = dict(hidden_layer_sizes=(4, 3), activation=act, optimizer=opt,
                                  max_iter=1, batch_size=8, random_state=0)
                        SGDNetClassifier(**kw).fit(data, np.arange(30) % 3)
                        SGDNetClassifier(**kw).fit(data, np.arange(30) % 2)
                        SGDNetRegressor(**kw).fit(data, X[:, :2])
    after = cache_stats()
    new = {k: v for k, v in after["per_kernel"].items()
           if v["signatures"] != before["per_kernel"].get(k, {}).get("signatures")}
    assert after["signatures"] == before["signatures"], f"compiled after the warm-up: {new}"
