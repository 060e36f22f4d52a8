"""What a first binary ``MLELogisticRegression`` fit needs from numba (issue 11).

A cold process pays a compile for every cached kernel specialisation the fit
touches (about 0.2-0.8 s CPU each), so the dense binary fit must use exactly the
fused log-loss pass and the tiled Gram, one signature each: no float32 twin, no
weighted / unweighted or offset variant, no element-wise kernel for a check.
Which kernels a fit uses does not depend on the cache's state (a warm process
loads the same specialisations a cold one compiles), so the test reads the
dispatchers' signatures after the fit in a fresh process, whatever the cache holds.
The fit itself is checked against scikit-learn's unpenalised logistic regression.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

_SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from skloss import MLELogisticRegression
    from skloss._warmup import kernel_dispatchers

    rng = np.random.RandomState(0)
    X = rng.normal(size=(50000, 50))
    y = (X[:, 0] + X[:, 1] + rng.normal(size=50000) > 0).astype(int)
    est = MLELogisticRegression().fit(X, y)
    used = {}
    for name, disp in kernel_dispatchers().items():
        if type(disp._cache).__name__ != "NullCache" and disp.signatures:
            used[name] = [str(s) for s in disp.signatures]
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    print("RESULT " + json.dumps({
        "used": used,
        "coef_err": float(np.max(np.abs(est.coef_ - ref.coef_))),
        "intercept_err": float(np.max(np.abs(est.intercept_ - ref.intercept_))),
    }))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX subprocess environment")
def test_a_binary_fit_uses_one_specialisation_of_two_kernels(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONWARNINGS="ignore")
    env.pop("NUMBA_DISABLE_JIT", None)
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")][-1]
    out = json.loads(line[len("RESULT "):])
    assert sorted(out["used"]) == ["_binary.log_loss_linear", "_gram.weighted_gram_tiles"], out["used"]
    for name, sigs in out["used"].items():
        assert len(sigs) == 1, (name, sigs)
        assert "float32" not in sigs[0], (name, sigs)
    # the same optimum as scikit-learn's (unpenalised, tight tolerance)
    assert out["coef_err"] < 1e-5 and out["intercept_err"] < 1e-5, out
