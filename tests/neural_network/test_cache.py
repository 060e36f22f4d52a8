"""The compiled epoch is cached on disk: a second process compiles nothing.

The same fit runs in two fresh processes sharing one empty temporary
``NUMBA_CACHE_DIR``.  The first compiles the K-class epoch driver; the second
must load it (and everything it calls) from the cache.  An epoch driver that
took the loss kernel as a dispatcher argument would recompile every time.
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
    from skloss.neural_network import SGDNetClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = np.arange(60) % 3
    with warnings.catch_warnings():
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
    assert first["net"]["_net.multiclass_epoch"]["cache_misses"] == 1, first["net"]
    assert second["net"] == {
        "_net.multiclass_epoch": {"signatures": 1, "cache_hits": 1, "cache_misses": 0,
                                  "cached": True}
    }, second["net"]
    assert second["coef"] == first["coef"]
