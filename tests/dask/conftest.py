"""A real dask.distributed cluster (two worker processes) for the scale-out tests.

Each test module skips itself with ``pytest.importorskip`` (reason: the ``dask``
extra is not installed) when dask or distributed is missing.
"""

import pytest

REASON = 'the dask extra is not installed (pip install "skloss[dask]")'


@pytest.fixture(scope="module")
def client():
    """A 2-worker ``LocalCluster`` (separate processes, one thread each), per module.

    (``dashboard_address=":0"``: any free port; None still tries 8787 and warns when
    another cluster on the machine holds it)"""
    distributed = pytest.importorskip("distributed", reason=REASON)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c
