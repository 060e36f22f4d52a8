"""Networks on a dask array: a streamed fit against the in-memory fit of the same network.

A synthetic binary problem (``make_classification``, default 1,000,000 rows x 20
features, 10 informative) is split 80 / 20; ``SGDNetClassifier`` with the same
parameters and seed is fitted once on the NumPy training rows and once on the
same rows as a dask array in row chunks on a two-worker ``LocalCluster`` (one
epoch = one pass over all blocks, in a shuffled block order, shuffled within each
block).  Printed: accuracy and log loss on the held-out rows, and the time of
each fit.  The two fits see the rows in different orders, so they agree within
the noise of SGD, not to the bit.

Run: ``python benchmarks/bench_dask_stream.py [--rows 1000000] [--epochs 3]``.
"""

import argparse
import time
import warnings


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--chunk-rows", type=int, default=100_000)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args(argv)

    import dask.array as da
    import numpy as np
    from distributed import Client, LocalCluster
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, log_loss

    import skloss
    from skloss import SGDNetClassifier

    X, y = make_classification(n_samples=args.rows, n_features=args.cols, n_informative=args.cols // 2,
                               random_state=0)
    n_train = int(0.8 * args.rows)
    Xtr, Xte, ytr, yte = X[:n_train], X[n_train:], y[:n_train], y[n_train:]
    params = dict(hidden_layer_sizes=(32,), max_iter=args.epochs, random_state=0)
    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.run(skloss.warmup)
        skloss.warmup()
        Xd = da.from_array(Xtr, chunks=(args.chunk_rows, args.cols)).persist()
        yd = da.from_array(ytr, chunks=args.chunk_rows).persist()
        for name, data in (("in memory (NumPy)", (Xtr, ytr)), ("streamed (dask array)", (Xd, yd))):
            est = SGDNetClassifier(**params)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                t = time.perf_counter()
                est.fit(*data)
                elapsed = time.perf_counter() - t
            proba = est.predict_proba(Xte)
            rows.append((name, elapsed, accuracy_score(yte, est.predict(Xte)), log_loss(yte, proba)))
    print(f"{args.rows:,} x {args.cols} rows ({n_train:,} training), {args.epochs} epochs, "
          f"chunks of {args.chunk_rows:,} rows, 2 workers")
    print("| fit | seconds | held-out accuracy | held-out log loss |")
    print("|---|---:|---:|---:|")
    for name, elapsed, acc, ll in rows:
        print(f"| {name} | {elapsed:.2f} | {acc:.4f} | {ll:.4f} |")
    print(f"accuracy difference (streamed - in memory): {rows[1][2] - rows[0][2]:+.4f}")
    return rows


if __name__ == "__main__":
    main()
