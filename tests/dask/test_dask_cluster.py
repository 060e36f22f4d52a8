"""Grid searches over losses on a distributed cluster (joblib's dask backend), and
workers sharing one warm numba cache through NUMBA_CACHE_DIR."""

import os
import sys

import numpy as np
import pytest

REASON = 'the dask extra is not installed (pip install "skloss[dask]")'
pytest.importorskip("dask", reason=REASON)
distributed = pytest.importorskip("distributed", reason=REASON)

import joblib  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skloss import MLELogisticRegression  # noqa: E402


@pytest.fixture(scope="module")
def shared_cache_client(tmp_path_factory):
    """A 2-worker cluster whose workers share one (initially empty) NUMBA_CACHE_DIR."""
    cache = str(tmp_path_factory.mktemp("numba-cache"))
    old = os.environ.get("NUMBA_CACHE_DIR")
    os.environ["NUMBA_CACHE_DIR"] = cache  # (worker processes inherit the environment)
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
            yield c, cache
    finally:
        if old is None:
            os.environ.pop("NUMBA_CACHE_DIR", None)
        else:
            os.environ["NUMBA_CACHE_DIR"] = old


def _grid():
    return [{"loss": ["log_loss", "probit"]}, {"loss": ["focal"], "loss__gamma": [1.0, 2.0]}]


def test_grid_search_over_losses_on_the_dask_backend(shared_cache_client):
    client, _ = shared_cache_client
    # (no redundant features: exactly collinear columns would make the information
    # matrix singular, announced by every fit's inference)
    X, y = make_classification(n_samples=300, n_features=5, n_redundant=0, random_state=0)
    est = MLELogisticRegression(penalty="l2", alpha=1e-3)
    ref = GridSearchCV(est, _grid(), cv=3).fit(X, y)
    with joblib.parallel_config(backend="dask"):
        got = GridSearchCV(est, _grid(), cv=3, n_jobs=-1).fit(X, y)
    np.testing.assert_allclose(got.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-12)
    assert got.best_params_ == ref.best_params_
    assert [p["loss"] for p in got.cv_results_["params"]] == ["log_loss", "probit", "focal", "focal"]
    # the fits ran in the worker processes
    imported = client.run(lambda: "skloss.linear_model._logistic" in sys.modules)
    assert len(imported) == 2 and all(imported.values())


def _kernel_call_stats():
    """A call that runs a numba kernel, and the cache statistics of this process."""
    from skloss._warmup import cache_stats
    from skloss.losses import get_loss

    loss = get_loss("pseudo_huber")
    rng = np.random.default_rng(0)
    loss.loss_gradient(rng.normal(size=50), rng.normal(size=50))
    stats = cache_stats()["per_kernel"]["_regression.pseudo_huber"]  # (the driver, cache=True)
    return stats["cache_hits"], stats["cache_misses"]


def test_workers_share_a_warm_numba_cache(shared_cache_client):
    client, cache = shared_cache_client
    assert set(client.run(os.environ.get, "NUMBA_CACHE_DIR").values()) == {cache}
    first, second = list(client.scheduler_info()["workers"])
    hits0, misses0 = client.submit(_kernel_call_stats, workers=[first], pure=False).result()
    assert misses0 >= 1  # (compiled once, written to the shared cache)
    hits1, misses1 = client.submit(_kernel_call_stats, workers=[second], pure=False).result()
    assert misses1 == 0 and hits1 >= 1  # (the other worker loads it: no compilation)
