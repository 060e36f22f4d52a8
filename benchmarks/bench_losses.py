"""``loss_gradient`` throughput: skloss's numba kernels against scikit-learn's Cython losses.

For every loss that scikit-learn's private ``sklearn._loss`` module also has,
time ``loss_gradient`` on ``--n-samples`` samples (default 1e6; multinomial with
10 classes), float64 and float32, single-threaded on both sides.

Method
------
* Warm-up calls first, so numba's JIT compilation (or cache loading) is not
  timed.
* skloss and scikit-learn run *interleaved* in one process: for each loss and
  dtype, ``--repeats`` rounds (default 7), each round timing both sides, the
  order alternating between rounds.  The table reports medians.
* Allocation, made equal: skloss's public ``loss_gradient`` allocates its two
  output arrays on each call, so scikit-learn is called the same way
  (``loss_out=None, gradient_out=None``: it allocates ``np.empty_like`` arrays);
  the ratio column compares these.  The last columns compare both libraries
  writing into outputs preallocated once and passed in (``loss_out``,
  ``gradient_out``, accepted by both), which removes allocation and page
  faults from the timing.
* Same inputs for both (C-contiguous, one dtype, no sample weights).  The two
  libraries scale some losses differently (scikit-learn's ``HalfSquaredError`` is
  ``(y - r)^2 / 2``, skloss's ``squared_error`` is ``(y - r)^2`` as
  ``mean_squared_error``); the arithmetic per sample is the same.

A ratio ``skloss / sklearn <= 1.0`` means skloss is at least as fast.

Run: ``python benchmarks/bench_losses.py [--n-samples 1000000] [--repeats 7]``.
"""

import argparse
import platform
import statistics
import time

import numpy as np


def _cases():
    from sklearn._loss import loss as sk

    def y_real(rng, n):
        return rng.normal(size=n)

    def y_counts(rng, n):
        return rng.poisson(2.0, size=n).astype(np.float64)

    def y_positive(rng, n):
        return rng.gamma(2.0, 1.0, size=n) + 1e-3

    def y_binary(rng, n):
        return (rng.random(n) < 0.4).astype(np.float64)

    def y_classes(rng, n):
        return rng.integers(0, 10, size=n).astype(np.float64)

    def raw_real(rng, n):
        return rng.normal(size=n)

    def raw_small(rng, n):
        return rng.normal(scale=0.5, size=n)

    def raw_10(rng, n):
        return rng.normal(size=(n, 10))

    # label, skloss name, skloss params, sklearn loss, y maker, raw maker
    return [
        ("squared_error", "squared_error", {}, sk.HalfSquaredError(), y_real, raw_real),
        ("absolute_error", "absolute_error", {}, sk.AbsoluteError(), y_real, raw_real),
        ("huber(delta=1)", "huber", {"delta": 1.0}, sk.HuberLoss(delta=1.0), y_real, raw_real),
        ("quantile(0.9)", "quantile", {"quantile": 0.9}, sk.PinballLoss(quantile=0.9), y_real, raw_real),
        ("poisson", "poisson", {}, sk.HalfPoissonLoss(), y_counts, raw_small),
        ("gamma", "gamma", {}, sk.HalfGammaLoss(), y_positive, raw_small),
        ("tweedie(1.5)", "tweedie", {"power": 1.5}, sk.HalfTweedieLoss(power=1.5), y_counts, raw_small),
        ("log_loss binary", "log_loss", {}, sk.HalfBinomialLoss(), y_binary, raw_real),
        ("log_loss 10 classes", "log_loss", {}, sk.HalfMultinomialLoss(n_classes=10), y_classes, raw_10),
        ("exponential", "exponential", {}, sk.ExponentialLoss(), y_binary, raw_real),
    ]


def _time(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(n_samples=1_000_000, repeats=7, seed=0, only=None):
    from skloss.losses import available_losses, get_loss

    names = set(available_losses())
    rows = []
    for label, name, params, sk_loss, make_y, make_raw in _cases():
        if only and not any(o in label for o in only):
            continue
        if name not in names:
            print(f"{label:<22} skipped: skloss has no loss {name!r} yet")
            continue
        ours = get_loss(name, **params)
        for dtype in (np.float64, np.float32):
            rng = np.random.default_rng(seed)
            y = np.ascontiguousarray(make_y(rng, n_samples), dtype=dtype)
            raw = np.ascontiguousarray(make_raw(rng, n_samples), dtype=dtype)
            loss_out = np.empty_like(y)
            grad_out = np.empty_like(raw)

            def f_ours():
                return ours.loss_gradient(y, raw)

            loss_out2 = np.empty_like(y)
            grad_out2 = np.empty_like(raw)

            def f_ours_prealloc():
                return ours.loss_gradient(y, raw, loss_out=loss_out2, gradient_out=grad_out2)

            def f_sk_alloc():
                return sk_loss.loss_gradient(y, raw)

            def f_sk_prealloc():
                return sk_loss.loss_gradient(y, raw, loss_out=loss_out, gradient_out=grad_out)

            # warm-up: JIT compilation / cache loading and first-touch page faults
            for _ in range(3):
                for f in (f_ours, f_ours_prealloc, f_sk_alloc, f_sk_prealloc):
                    f()
            l_ours, g_ours = f_ours()
            if l_ours.dtype != dtype or not (np.all(np.isfinite(l_ours)) and np.all(np.isfinite(g_ours))):
                raise RuntimeError(f"{label} {np.dtype(dtype).name}: skloss output is not finite / wrong dtype")
            times = {"ours": [], "sk": [], "ours_pre": [], "sk_pre": []}
            funcs = {"ours": f_ours, "sk": f_sk_alloc, "ours_pre": f_ours_prealloc, "sk_pre": f_sk_prealloc}
            order = ["ours", "sk", "ours_pre", "sk_pre"]
            for r in range(repeats):
                for key in (order if r % 2 == 0 else order[::-1]):
                    times[key].append(_time(funcs[key]))
            med = {k: statistics.median(v) for k, v in times.items()}
            rows.append(
                {
                    "loss": label,
                    "dtype": np.dtype(dtype).name,
                    "skloss_ms": 1e3 * med["ours"],
                    "sklearn_ms": 1e3 * med["sk"],
                    "ratio": med["ours"] / med["sk"],
                    "skloss_prealloc_ms": 1e3 * med["ours_pre"],
                    "sklearn_prealloc_ms": 1e3 * med["sk_pre"],
                    "ratio_prealloc": med["ours_pre"] / med["sk_pre"],
                }
            )
            print(_format_row(rows[-1]), flush=True)
    return rows


_HEADER = (
    f"{'loss':<22}{'dtype':<9}{'skloss ms':>10}{'sklearn ms':>12}{'ratio':>8}"
    f"{'skloss pre ms':>14}{'sklearn pre ms':>15}{'ratio':>8}"
)


def _format_row(row):
    return (
        f"{row['loss']:<22}{row['dtype']:<9}{row['skloss_ms']:>10.2f}{row['sklearn_ms']:>12.2f}"
        f"{row['ratio']:>8.2f}{row['skloss_prealloc_ms']:>14.2f}{row['sklearn_prealloc_ms']:>15.2f}"
        f"{row['ratio_prealloc']:>8.2f}"
    )


def markdown(rows):
    lines = [
        "| loss | dtype | skloss ms | sklearn ms | ratio | skloss prealloc ms | sklearn prealloc ms | ratio prealloc |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['loss']} | {r['dtype']} | {r['skloss_ms']:.2f} | {r['sklearn_ms']:.2f} | "
            f"{r['ratio']:.2f} | {r['skloss_prealloc_ms']:.2f} | {r['sklearn_prealloc_ms']:.2f} | "
            f"{r['ratio_prealloc']:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--markdown", action="store_true", help="also print a markdown table")
    parser.add_argument("--only", nargs="+", metavar="LOSS",
                        help="run only the losses whose label contains one of these strings")
    args = parser.parse_args(argv)

    import numba
    import sklearn

    import skloss

    print(
        f"loss_gradient on {args.n_samples:,} samples, median of {args.repeats} interleaved runs; "
        f"skloss {skloss.__version__}, scikit-learn {sklearn.__version__}, numba {numba.__version__}, "
        f"numpy {np.__version__}, Python {platform.python_version()}, {platform.machine()}"
    )
    print("ratio = skloss / sklearn (<= 1.0: skloss at least as fast); both allocate their outputs,")
    print("'pre' = both writing into preallocated outputs (loss_out, gradient_out)\n")
    print(_HEADER)
    print("-" * len(_HEADER))
    rows = run(args.n_samples, args.repeats, only=args.only)
    if rows:
        worst = max(rows, key=lambda r: r["ratio"])
        geo = float(np.exp(np.mean(np.log([r["ratio"] for r in rows]))))
        print(f"\ngeometric mean ratio {geo:.2f}; worst {worst['ratio']:.2f} ({worst['loss']}, {worst['dtype']})")
    if args.markdown:
        print()
        print(markdown(rows))
    return rows


if __name__ == "__main__":
    main()
