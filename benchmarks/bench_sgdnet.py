"""SGDNetClassifier against scikit-learn's MLPClassifier and a plain PyTorch loop.

Setting (issue 5): 60,000 x 784 float32 dense data from ``make_classification``
(10 classes, ``random_state=0``), one hidden layer of 128 ReLU units, softmax
cross-entropy, SGD with momentum 0.9 (Nesterov, learning rate 0.001, no
penalty), batch sizes 32 and 256, 3 epochs.  Reported: seconds per epoch (the
3-epoch fit divided by 3, compilation excluded: each tool is warmed up first)
and the final training log loss (``sklearn.metrics.log_loss`` on the whole
training set, the same function for every tool).

PyTorch is optional: it is used when a CPU build is importable, and it is never
a dependency of skloss.

Run::

    python benchmarks/bench_sgdnet.py [--epochs 3] [--batch-sizes 32 256] [--repeat 1]
                                      [--threads N]

Measured on the project's 2-core machine (shared with other jobs, so every tool
ran single-threaded, ``--threads 1 --repeat 3``; wall / process-CPU seconds
per epoch, final training log loss in brackets; skloss 0.1.0.dev0, scikit-learn
1.9.1, PyTorch 2.13.0+cpu):

=====  ========================  ========================  ========================  =============  =============
batch  skloss                    scikit-learn MLP          PyTorch loop              vs sklearn     vs PyTorch
=====  ========================  ========================  ========================  =============  =============
32     0.484 / 0.334 (0.5177)    1.487 / 1.028 (0.5134)    1.639 / 1.126 (0.4047)    3.07x / 3.08x  3.39x / 3.37x
256    0.333 / 0.234 (1.5131)    0.521 / 0.371 (1.5157)    0.508 / 0.362 (1.5173)    1.56x / 1.58x  1.53x / 1.54x
=====  ========================  ========================  ========================  =============  =============

The training losses agree between skloss and scikit-learn (same Glorot
initialisation); PyTorch initialises its layers differently, hence its lower loss
after 3 epochs of batch 32.

With the libraries' default threads (two OpenBLAS / OpenMP threads), in a
quieter moment of the same machine (``--repeat 2``; skloss runs the products of a
32-sample minibatch on one BLAS thread, see the user guide):

=====  ===============  ===================  ===============  ===========  ==========
batch  skloss           scikit-learn MLP     PyTorch loop     vs sklearn   vs PyTorch
=====  ===============  ===================  ===============  ===========  ==========
32     0.352 (0.5177)   13.830 (0.5135) [*]  0.866 (0.4050)   39x [*]      2.46x
256    0.182 (1.5131)   0.329 (1.5157)       0.246 (1.5173)   1.80x        1.35x
=====  ===============  ===================  ===============  ===========  ==========

[*] scikit-learn's two NumPy BLAS threads collapsed on the 32-sample products
(14.7 s of CPU per epoch); its single-threaded figure above is the fair one.  A
second run of batch 32 gave skloss 0.33 s and PyTorch 0.91 s per epoch (2.7x);
two BLAS threads instead of one made skloss slower there (0.49 s).
"""

import argparse
import platform
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier

from skloss.neural_network import SGDNetClassifier

HIDDEN = 128
LR = 0.001
MOMENTUM = 0.9


class _Timer:
    """Wall-clock and process CPU time of a block (CPU time is the robust figure
    on a shared machine when every tool runs single-threaded: ``--threads 1``)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def make_data():
    X, y = make_classification(
        n_samples=60_000, n_features=784, n_informative=50, n_classes=10, random_state=0
    )
    return X.astype(np.float32), y


def run_skloss(X, y, batch, epochs):
    def make(max_iter):
        return SGDNetClassifier(
            loss="log_loss", hidden_layer_sizes=(HIDDEN,), activation="relu", optimizer="sgd",
            momentum=MOMENTUM, nesterov=True, learning_rate_init=LR, alpha=0.0,
            batch_size=batch, max_iter=max_iter, tol=0.0, n_iter_no_change=10**6,
            random_state=0,
        )

    # compile (or load from the numba cache) what the timed fit runs: one epoch on
    # the same data (a fit on a few rows would take the NumPy route of small fits)
    make(1).fit(X, y)
    clf = make(epochs)
    with _Timer() as t:
        clf.fit(X, y)
    return t.wall / epochs, t.cpu / epochs, log_loss(y, clf.predict_proba(X))


def run_sklearn(X, y, batch, epochs):
    clf = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), activation="relu", solver="sgd", momentum=MOMENTUM,
        nesterovs_momentum=True, learning_rate_init=LR, alpha=0.0, batch_size=batch,
        max_iter=epochs, tol=0.0, n_iter_no_change=10**6, random_state=0,
    )
    with _Timer() as t:
        clf.fit(X, y)
    return t.wall / epochs, t.cpu / epochs, log_loss(y, clf.predict_proba(X))


def run_torch(X, y, batch, epochs):
    import torch

    torch.manual_seed(0)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y.astype(np.int64))
    model = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10)
    )
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        perm = torch.randperm(Xt.shape[0])
        for s in range(0, Xt.shape[0], batch):
            idx = perm[s:s + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    # warm-up on a few batches (allocator, kernels), then restart from scratch
    state = {k: v.clone() for k, v in model.state_dict().items()}
    for s in range(0, 20 * batch, batch):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(Xt[s:s + batch]), yt[s:s + batch]).backward()
        opt.step()
    model.load_state_dict(state)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True)
    with _Timer() as t:
        for _ in range(epochs):
            epoch()
    with torch.no_grad():
        proba = torch.softmax(model(Xt).double(), dim=1).numpy()
    return t.wall / epochs, t.cpu / epochs, log_loss(y, proba)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--repeat", type=int, default=1,
                        help="repeat each run and keep the fastest (noisy machines)")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS and PyTorch threads (default: the libraries' own)")
    args = parser.parse_args()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            pass

    X, y = make_data()
    tools = {"skloss SGDNetClassifier": run_skloss, "sklearn MLPClassifier": run_sklearn}
    try:
        import torch

        tools[f"PyTorch {torch.__version__} loop"] = run_torch
        torch_threads = torch.get_num_threads()
    except ImportError:
        torch_threads = None
        print("PyTorch is not installed: its column is skipped.")
    from threadpoolctl import threadpool_info

    blas = sorted({f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info()
                   if i["user_api"] == "blas"})
    print(f"python {platform.python_version()}, numpy {np.__version__}, BLAS threads: "
          f"{', '.join(blas)}; "
          f"{X.shape[0]} x {X.shape[1]} float32, 10 classes, hidden ({HIDDEN},) relu, "
          f"SGD lr={LR} momentum={MOMENTUM} (Nesterov), {args.epochs} epochs"
          + (f", torch threads={torch_threads}" if torch_threads else ""))

    rows = []
    for batch in args.batch_sizes:
        results = {}
        for name, run in tools.items():
            best = None
            for _ in range(args.repeat):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    wall, cpu, loss = run(X, y, batch, args.epochs)
                if best is None or wall < best[0]:
                    best = (wall, cpu, loss)
            results[name] = best
            print(f"  batch {batch:>4}  {name:<28} {best[0]:8.3f} s/epoch wall "
                  f"{best[1]:8.3f} s/epoch CPU  train log loss {best[2]:.4f}", flush=True)
        rows.append((batch, results))

    print()
    names = list(tools)
    short = [n.split()[0] for n in names]
    header = "| batch | " + " | ".join(f"{n} s/epoch wall / CPU (log loss)" for n in short)
    header += " | " + " | ".join(f"speed-up vs {n} wall / CPU" for n in short[1:]) + " |"
    print(header)
    print("|" + "---|" * (1 + 2 * len(names) - 1))
    for batch, results in rows:
        ours = results[names[0]]
        cells = [f"{results[n][0]:.3f} / {results[n][1]:.3f} ({results[n][2]:.4f})" for n in names]
        ratios = [f"{results[n][0] / ours[0]:.2f}x / {results[n][1] / ours[1]:.2f}x"
                  for n in names[1:]]
        print(f"| {batch} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")

if __name__ == "__main__":
    main()
