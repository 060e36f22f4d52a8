"""Where the JIT seconds go: compile time per kernel and cold / warm first fits.

Every measurement runs in a fresh Python process.  "cold" means an empty
``NUMBA_CACHE_DIR`` (everything the run needs is compiled); "warm" means a second
process on the cache the cold run left (everything is loaded from disk).

Two tables:

1. **compile time per kernel / driver**: one fresh process per scenario (a loss's
   element-wise kernels in float64, binary and K-class forms; one network fit per
   output family; the linear-model fused passes), each on its own empty cache.
   numba's ``numba:compile`` events split the process's compile time by
   dispatcher; nested compiles (a helper compiled for its caller) are counted in
   their caller.
2. **first fits, cold vs warm**: ``SGDNetClassifier(max_iter=5)`` on digits
   against a fresh-process ``MLPClassifier(max_iter=5)``; ``MLELogisticRegression``
   on 50,000 x 50; ``MLELinearRegression`` per loss family; ``skloss.warmup()``.

Figures (7 December 2026, 15:56-16:10 UTC, this script's scenarios run for the
tree before (1bdc606) and after the compile-time work of issue 11, interleaved in
one run, each cold run on its own empty cache; 2-core machine shared with other
jobs, load average 9-15, so wall times are 2-10x the CPU times and only the CPU
seconds compare; the network's rows are superseded below)::

    scenario                 before: cold / warm CPU s    after: cold / warm CPU s
    logistic_50000x50            7.76 / 0.46                  3.27 / 0.39
    sgdnet_digits                8.79 / 0.39                  8.82 / 0.36
    sgdnet_digits_float32       10.83 / 0.38                 10.69 / 0.34
    mlp_digits (scikit-learn)    1.07 / 1.06                  1.08 / 0.64
    linear_poisson               2.27 / 0.32                  1.61 / 0.33
    linear_huber                 1.72 / 0.33                  0.91 / 0.30
    warmup (n_jobs=1, in-process, per task) 174.2 s CPU        91.6 s CPU

The cold logistic fit now compiles only ``_binary.log_loss_linear`` (before: also
the element-wise ``_binary.log_loss``, for the final Hessian and a check on a few
rows).  The element-wise kernels, each module's drivers compiled in one fresh
process (CPU s, numba's one-off start-up excluded): binary 12.4 -> 5.7, K-class
6.8 -> 4.2, regression 20.2 -> 8.3.

The network (7 December 2026, 18:15-18:32 UTC, ``fit_table``'s scenarios for the
tree before (2c54ac6) and after the driver split, interleaved, two repeats, each
cold run on its own empty cache; load average 10-16, so CPU seconds inflate too
and only the same run compares)::

    scenario                 before: cold / warm CPU s    after: cold / warm CPU s
    sgdnet_digits            10.13, 10.91 / 0.46, 0.43    4.75, 5.22 / 0.41, 0.42
    sgdnet_digits_float32    12.06, 12.35 / 0.42, 0.46    6.00, 6.34 / 0.41, 0.41
    mlp_digits (scikit-learn) 0.85, 0.99 / 0.55, 1.08     1.01, 0.84 / 0.70, 0.95
    logistic_50000x50         4.18, 3.91 / 0.51, 0.48     3.59, 3.83 / 0.50, 0.48

What a cold digits fit compiles now (top-level compiles, CPU s, load 12,
18:35 UTC): ``_multiclass.log_loss`` 1.5, ``_net.dense_multiclass_epoch`` 2.1,
``_net.relu_activation`` 0.2, ``_net.sgd_update`` 0.6 (before: one
``multiclass_epoch`` of 7.0 s at load ~7, handling both input layouts, five
activations and two optimizers, its helpers linked and re-optimised at every
level of calls).  The float32 fit compiled the float64 ``log_loss`` as well (the
start values were computed in float64); it no longer does: float32 4.66, 5.04
against float64 4.82, 4.98 CPU s in the same run.  float32 training stays: the
warm 60,000 x 784 2-epoch fit (batch 32, one BLAS thread, load 8-10) takes
0.91-0.92 CPU s in float32 against 1.93 s in float64.  The cold SGDNet fit is
still 5-6x the fresh MLPClassifier fit (target 2x): the loss kernel alone
costs ~1.5 s and the driver ~2 s.

``log_loss_linear`` was the whole cold logistic compile, and its ``parallel=True``
cost the time, not the loop bodies (3.4-3.6 s CPU under load; the same body
serial 1.4 s).  It is now a serial ``nogil`` chunk kernel run on Python threads
(:mod:`skloss._kernels._threads`).  Idle, clean clone, 7 December 2026 21:54 UTC,
``--repeat 3``: cold / warm logistic process 2.62 / 1.65 s (1.59; 1.46 and 1.50
at 52d6564, before the in-kernel buffers), compiling ``_binary._log_loss_linear_chunk`` 0.67 s and
``_gram.weighted_gram_tiles`` 0.27 s; cold SGDNet digits 3.70 s against a fresh
MLPClassifier process 1.34 s (2.75x), compiling ``dense_multiclass_epoch`` 0.91,
``_multiclass.log_loss`` 0.61, ``relu_activation`` 0.22, ``sgd_update`` 0.20 s.

Fewer compiles in ``skloss.warmup()`` (7 December 2026, 22:40-23:20 UTC, clean
clones of the tree before (64c1e62) and after (25b4561), run side by side on an
empty ``NUMBA_CACHE_DIR`` each; the machine shared with other jobs, load 4-7, so
CPU seconds, user + sys of the whole process tree)::

    python -c "import skloss; skloss.warmup(verbose=True, n_jobs=1)"
        before 109.7 s CPU (142 specialisations)   after 95.8 s CPU (142)
    the linear models' warm-up (wall at load ~5): one task 194.9 s before;
        after two tasks (float64 69.6 s, float32 56.4 s)
    n_jobs=-1, both at once (load 4-7; after: 8e6ff94): 7 min 13 s wall each;
        123.5 against 117.8 s CPU

and again one after the other at lower load (23:25-23:31, load 1.0-1.9; after:
3e2c3cd)::

    n_jobs=1    before 102.0 s CPU, 101.7 s wall   after 88.3 s CPU, 88.1 s wall
                (linear models 30.9 s -> 11.7 + 9.2 s; network 15.4 + 16.3 ->
                14.0 + 15.1 s; exponential 3.2 -> 1.9 s, focal 5.9 -> 4.5 s)
    n_jobs=-1   before 51.1 s wall, 97.0 s CPU     after 53.2 s wall, 92.9 s CPU

The two workers were not limited by the balance (the many loss tasks fill in
around the longest one): the wall time follows the total CPU, plus the workers'
start-up and the final loading pass, and the other jobs' load took part of the
two cores.  After the split one specialisation was compiled again by the
calling process's loading pass (``1 compiled`` in the summary; a
``_multiclass.log_loss`` entry written last), probably an index entry lost when
two workers compiled dtypes of the same function at once: not investigated.

Where it came from (a kernel's compile, fresh process, CPU s): one ``prange``
GLM pass with a family code for Poisson, Gamma and Tweedie instead of three
(7.0 -> 3.9 per dtype); the CSR Hessian-vector product on the threads
(1.2 / 0.9 -> 0.4 / 0.2, float64 / float32); ``_binary.exponential`` calling
``_exp`` through one LLVM-inlined helper instead of numba-inlining it into seven
loops (1.35 -> 0.6-0.8 per dtype); the K-class focal row compiled once for both
focal drivers (3.2 -> 2.3 for both dtypes).  Results bit-identical, warm speed
unchanged (GLM pass, 200,000 x 50 on one thread: 9.5-9.9 against 9.9-10.3 ms
CPU).  Idle, the serial warm-up measured 70 s before: about 60 s expected now,
so ``n_jobs=2`` is still above the 20x-MLPClassifier target (~26 s), which needs
the total compile CPU roughly halved; the rest is
spread over ~140 specialisations (network epoch drivers ~1-2 s each per dtype,
element-wise loss drivers 0.5-1.6 s each per dtype).  The cold / warm logistic
process (50,000 x 50, three runs each, load 3.6-3.8) is not changed by this work
(its kernels are untouched): CPU ratio 1.60-1.71 at 64c1e62, 1.72-1.83 at 8e6ff94
(with other sessions' linear-model commits; wall 1.43-1.60 / 1.60-1.73), the cold
process compiling ``_log_loss_linear_chunk`` 0.73 s and ``weighted_gram_tiles``
0.2 s CPU (idle, after numba's 0.34 s start-up).

Fewer specialisations and no ``prange`` (8 December 2026, 01:40-01:52 UTC;
clean clones of a59cbfe (before) and b40b889 (after), one after the other, each
on an empty ``NUMBA_CACHE_DIR``; the machine shared with two other jobs, load
4-7, so CPU seconds compare and wall times do not)::

    serial warm-up, every task in one process (CPU s of the tasks)
        total                       70.3 -> 54.2   (wall 115 -> 81 at load 6-7)
        linear models float64       10.7 -> 7.4    float32  7.8 -> 4.7
        network float64             11.9 -> 8.4    float32 12.7 -> 9.0
        losses and exact solvers    27.1 -> 24.5
    skloss.warmup(n_jobs=-1), whole process tree (load 5.1-5.7)
        before 81.0 s wall, 77.6 s CPU    after 79.4 s wall, 65.8 s CPU
    cold / warm MLELogisticRegression 50,000 x 50 process, three runs (load 4.3-4.9)
        before 1.58-1.74 wall, 1.68-1.77 CPU    after 1.44-1.62 wall, 1.49-1.67 CPU

The parallel warm-up's wall time at that load was the other jobs' share of the
two cores (both trees ~80 s).  Again at lower load (02:06-02:10 UTC, load
1.9-4.4, interleaved)::

    skloss.warmup(n_jobs=-1)   before 38.2, 41.6 s wall (68.0, 74.9 s CPU)
                               after  36.1, 32.8, 34.0 s wall (56.9, 57.3, 60.6 s CPU)
    fresh MLPClassifier digits process 1.28-1.42 s wall (the machine faster than
        in session 6's 1.85 s): warm-up / MLP before ~28-31x, after ~24-26x
        (target 20x: NOT met; it was 37 s against 1.85 s)
    cold / warm logistic process   before 1.57-1.62 wall, 1.54-1.62 CPU
                                   after  1.50-1.62 wall, 1.53-1.63 CPU (NOT met)

Where it came from (a kernel's compile, fresh process after numba's start-up,
CPU s): the network's dense / CSR, 1-D / K-class drivers ``dense_epoch``,
``csr_epoch``, ``csr_multiclass_epoch`` are one driver, :func:`_net.epoch`
(both layouts and both output forms; the small ``dense_multiclass_epoch`` of a
first softmax fit stays), so the forward and backward passes compile twice per
dtype instead of four times (network warm-up float64 15.7 -> 11.3 s, load 5);
the GLM pass is a serial chunk kernel on the threads of
:mod:`skloss._kernels._threads` instead of a ``prange`` loop (4.7-4.9 -> 1.5 s
per dtype; a chunk function called from the ``prange`` body did not help);
weighted and unweighted rows share one loop in the GLM points, the binary log
loss's hot paths and the logistic chunk (``_binary.log_loss`` 0.79-0.84 ->
0.59-0.63 s).  Results unchanged (same operations in the same order; a unit
weight multiplies exactly).  Warm speed, before -> after in one run each
(01:38-02:01 UTC, load 3-7): ``bench_logistic.py binary`` speed-up over
scikit-learn 5.99x / 4.12x -> 5.76x / 6.22x (skloss 0.169 / 0.242 -> 0.179 /
0.239 s, l2 / unpenalised); ``bench_sgdnet.py --threads 1`` 4.04x / 1.71x ->
3.80x / 1.74x wall, 3.63x / 1.74x -> 3.72x / 1.75x CPU (batch 32 / 256, same
losses); ``bench_linear.py --only poisson`` (two rounds) skloss 0.150 / 0.143,
0.166 / 0.155 -> 0.159 / 0.155, 0.170 / 0.153 s (rho 0 / 0.9).

Tried and dropped: the logistic Hessian's Gram by BLAS ``dsyrk`` on the
sqrt-weighted rows instead of the tile kernel (no compile on the cold logistic
route, but 50,000 x 50 12.5 against 10.3 ms, 200,000 x 50 80 against 26 ms,
2,000 x 25 0.18 against 0.08 ms); ``np.empty`` replaced by an intrinsic in the
logistic chunk (no measurable compile change); the softmax pass calling the
K-class kernel on float64 copies of the labels (one kernel overload for both
dtypes, -0.5 s in a serial warm-up, but the pass 4-6 % slower).  What a cold
logistic fit compiles now: ``_log_loss_linear_chunk`` 0.65-0.75 s and
``weighted_gram_tiles`` 0.28-0.32 s (wall, load 4-5); its ratio sits at the
1.5 target, not reliably below.

The element-wise loss kernels in float64 only (8 December 2026, 04:00-04:50
UTC; ``git worktree`` of 5b72aec (before) against the tree after, one after
the other, each on an empty ``NUMBA_CACHE_DIR``; machine shared with three other
sessions, load 5-8, so CPU seconds inflate and only the same run compares).
A float32 evaluation runs the float64 kernel through one cached adapter per
form (:mod:`skloss._kernels._widen`), the float32 network's loss buffers are
float64, and the network warm-up's Python-route loss no longer compiles a
``make_loss`` function (uncacheable: compiled again by every process)::

    serial warm-up, every task in one process (CPU s of the tasks, two rounds)
        total                       68.9, 65.3 -> 54.4, 51.9
        losses (24 tasks)           29.1, 26.0 -> 14.6, 14.2
        network float32             10.9, 10.3 ->  8.3,  8.5
        network float64             10.0,  9.6 -> 11.2, 10.7 (noise: its
            compiles are the same but for the NumPy-route loss; the epoch
            drivers measured 3.1-3.8 s each, before and after, at this load)
        exact solvers                4.4,  4.3 ->  3.2,  3.2
        linear models f64 + f32     14.4, 15.1 -> 17.2, 15.4 (the two
            float32 adapters, 0.6 s each, compile in the first float32 task)
    skloss.warmup(n_jobs=-1), whole process tree, /usr/bin/time (load 4.8-8.9)
        before 141.5, 132.8 s wall, 81.0, 84.3 s CPU
        after  115.7, 137.6 s wall, 65.3, 67.1 s CPU   (108 -> 76 specialisations)
        fresh MLPClassifier digits process in the same run: 3.0-5.4 s wall,
        1.9-2.8 s CPU (about 1 s idle): at this load the wall ratio means
        nothing; by CPU the warm-up fell by a fifth
    again at lower load (05:00-05:03 UTC, load 1.4-1.9, two interleaved rounds;
    "after" is the tree at 5800dbf, with two other sessions' CSR commits)
        before 39.7, 39.1 s wall (69.5, 68.0 s CPU)
        after  28.3, 31.9 s wall (50.6, 55.1 s CPU)
        fresh MLPClassifier digits process 1.38-1.48 s wall: warm-up / MLP
        before 27-29x, after 19-23x (target 20x: at the edge, not reliably met)
    this change alone (466be84 -> ce24b00, serial task CPU, load 3.7 -> 2.0):
        57.4 -> 43.9 s (losses 21.5 -> 12.9)

The float32 results are the same bits (the kernels compute in float64 and
round once when they store): every loss, form, request and weighting of the
public float32 API against the float64 result rounded
(``tests/losses/test_float32_through_float64.py``), and 84 coefficient /
loss-curve arrays of 16 SGDNet fits (float32 and float64; dense, CSR, weighted,
binary, softmax, one-vs-rest, focal, two-output Huber, Poisson) before vs after.
The adapter costs float32 calls of big arrays 1 ns per value (100,000 values:
squared_error 0.05 -> 0.12 ms, log_cosh 0.52 -> 0.75 ms, K-class log loss 3.0
-> 3.4 ms) and small calls nothing measurable (200 values: 8-16 us either way,
after numba's per-call typing of the pointer was replaced by an integer
address); float32 fits, best CPU of 7, two interleaved rounds (load 4-5):
MLELinearRegression huber 20,000 x 20 8.5 / 8.3 -> 10.1 / 7.9 ms,
MLELogisticRegression modified_huber 4 classes 26.8 / 24.5 -> 29.1 / 21.8 ms,
brier 138 / 133 -> 148 / 125 ms, SGDNetClassifier digits (NumPy route)
28-38 ms both, compiled route unchanged within noise; ``bench_sgdnet.py
--epochs 2 --threads 1 --repeat 3`` (load 5.8-6.4, same training losses
0.7315 / 1.6563): skloss 0.393 / 0.276 -> 0.436 / 0.290 s CPU per epoch
(batch 32 / 256) while scikit-learn's went 1.440 / 0.499 -> 1.726 / 0.498:
speed-up 3.67x / 1.80x -> 3.96x / 1.72x CPU.

Measure on a clean clone (``git clone`` of the repository, no ``__pycache__``):
skloss also reads cached kernels from the package's own ``__pycache__`` (see
:mod:`skloss._cache`), so a development checkout that has run anything loads
them there and the "cold" column compiles less than a fresh install would.

Run (a shared machine: use ``nice``, repeat and compare medians)::

    nice -n 5 python benchmarks/bench_compile.py [--repeat 1] [--skip-kernels]
                                                 [--skip-fits] [--no-warmup]
                                                 [--losses log_loss huber ...]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

_PRELUDE = textwrap.dedent(
    """
    import json, sys, time, warnings
    warnings.simplefilter("ignore")
    T0 = time.perf_counter()
    from numba.core import event
    _ctx = event.install_recorder("numba:compile")  # keep a reference: it unregisters when freed
    _rec = _ctx.__enter__()

    def top_level_compiles():
        # seconds per dispatcher of the outermost compiles (nested ones are
        # inside their caller's time)
        open_, depth, out = {}, 0, {}
        for ts, ev in _rec.buffer:
            disp = ev.data["dispatcher"]
            key = (id(disp), str(ev.data["args"]))
            if ev.is_start:
                open_[key] = (ts, depth)
                depth += 1
            else:
                depth -= 1
                start, d = open_.pop(key)
                if d == 0:
                    name = disp.py_func.__module__.replace("skloss._kernels.", "") + "." + \\
                        disp.py_func.__qualname__.split(".")[-1]
                    out[name] = out.get(name, 0.0) + ts - start
        return out

    def report(**extra):
        extra["compiles"] = top_level_compiles()
        extra["process"] = time.perf_counter() - T0
        extra["process_cpu"] = time.process_time()  # (CPU seconds since the interpreter started)
        print("RESULT " + json.dumps(extra))
    """
)

_SCENARIOS = {
    "sgdnet_digits": """
        import numpy as np
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        from skloss import SGDNetClassifier
        t = time.perf_counter(); c = time.process_time()
        SGDNetClassifier(max_iter=5, random_state=0).fit(X, y)
        report(fit=time.perf_counter() - t, fit_cpu=time.process_time() - c)
    """,
    "sgdnet_digits_float32": """
        import numpy as np
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        from skloss import SGDNetClassifier
        t = time.perf_counter(); c = time.process_time()
        SGDNetClassifier(max_iter=5, random_state=0).fit(X.astype(np.float32), y)
        report(fit=time.perf_counter() - t, fit_cpu=time.process_time() - c)
    """,
    "mlp_digits": """
        import numpy as np
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        from sklearn.neural_network import MLPClassifier
        t = time.perf_counter(); c = time.process_time()
        MLPClassifier(max_iter=5, random_state=0).fit(X, y)
        report(fit=time.perf_counter() - t, fit_cpu=time.process_time() - c)
    """,
    "logistic_50000x50": """
        import numpy as np
        rng = np.random.RandomState(0)
        X = rng.normal(size=(50000, 50))
        y = (X[:, 0] + X[:, 1] + rng.normal(size=50000) > 0).astype(int)
        from skloss import MLELogisticRegression
        t = time.perf_counter(); c = time.process_time()
        MLELogisticRegression().fit(X, y)
        report(fit=time.perf_counter() - t, fit_cpu=time.process_time() - c)
    """,
    "warmup": """
        import skloss
        t = time.perf_counter(); c = time.process_time()
        skloss.warmup()
        report(fit=time.perf_counter() - t, fit_cpu=time.process_time() - c)
    """,
}

_GRID = """
    import numpy as np, psutil
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV
    from skloss import SGDNetClassifier
    X, y = load_digits(return_X_y=True)
    t = time.perf_counter(); c = time.process_time()
    grid = GridSearchCV(SGDNetClassifier(max_iter=3, random_state=0),
                        {{"alpha": [1e-4, 1e-3], "activation": ["relu", "tanh"]}},
                        cv=2, n_jobs={n_jobs})
    grid.fit(X, y)
    wall = time.perf_counter() - t
    # CPU of the worker processes too (loky keeps them alive until exit)
    children = sum(p.cpu_times().user + p.cpu_times().system
                   for p in psutil.Process().children(recursive=True))
    from skloss._warmup import cache_stats
    report(fit=wall, fit_cpu=time.process_time() - c + children)
"""

_LINEAR_FAMILIES = {
    "squared_error": "X @ coef + rng.normal(size=n)",
    "huber": "X @ coef + rng.standard_t(2, size=n)",
    "quantile": "X @ coef + rng.normal(size=n)",
    "poisson": "rng.poisson(np.exp(0.3 * X @ coef)).astype(float)",
    "gamma": "rng.gamma(2.0, np.exp(0.3 * X @ coef) / 2.0)",
    "student_t": "X @ coef + rng.standard_t(3, size=n)",
}
for _loss, _y in _LINEAR_FAMILIES.items():
    _SCENARIOS[f"linear_{_loss}"] = f"""
        import numpy as np
        rng = np.random.RandomState(0)
        n = 5000
        X = rng.normal(size=(n, 10))
        coef = rng.normal(size=10) / 3
        y = {_y}
        from skloss import MLELinearRegression
        t = time.perf_counter(); c = time.process_time()
        MLELinearRegression(loss={_loss!r}).fit(X, y)
        report(fit=time.perf_counter() - t, fit_cpu=time.process_time() - c)
    """

_KERNEL_LOSS = """
    import numpy as np
    from skloss.losses import get_loss
    loss = get_loss({name!r})
    if loss.task == "classification":
        cases = [(np.array([0.0, 1.0, 1.0, 0.0]), np.array([-1.0, 0.2, 0.5, 2.0])),
                 (np.array([0.0, 1.0, 2.0, 1.0]), np.linspace(-1, 1, 12).reshape(4, 3))]
    else:
        from skloss._warmup import _regression_y
        cases = [(_regression_y(loss), np.array([0.3, 0.9, 1.7, 2.5]))]
    t = time.perf_counter(); c = time.process_time()
    for y, raw in cases:
        if loss.has_hessian:
            loss.loss_gradient_hessian(y, raw)
        else:
            loss.loss_gradient(y, raw)
    report(fit=time.perf_counter() - t, fit_cpu=time.process_time() - c)
"""

_KERNEL_NET = """
    import numpy as np
    from skloss import SGDNetClassifier, SGDNetRegressor
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    form = {form!r}
    t = time.perf_counter(); c = time.process_time()
    if form == "regression":
        SGDNetRegressor(hidden_layer_sizes=(4,), max_iter=1).fit(X, X[:, 0])
    elif form == "binary":
        SGDNetClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(X, X[:, 0] > 0)
    else:
        SGDNetClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(X, np.arange(40) % 3)
    report(fit=time.perf_counter() - t, fit_cpu=time.process_time() - c)
"""


def run(code, cache_dir):
    """Run ``code`` in a fresh process on ``cache_dir``; returns its RESULT dict
    with ``wall`` (the whole process, interpreter start included)."""
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = str(cache_dir)
    env.pop("NUMBA_DISABLE_JIT", None)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PRELUDE + textwrap.dedent(code)], env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT "):])
    result["wall"] = wall
    return result


def kernel_table(losses):
    print("== compile time per kernel / driver (cold, fresh process each, float64)")
    print(f"{'scenario':28s} {'wall':>6s} {'cpu':>6s}  top-level compiles (wall s)")
    scenarios = [(f"loss {n}", _KERNEL_LOSS.format(name=n)) for n in losses]
    scenarios += [(f"net {f}", _KERNEL_NET.format(form=f))
                  for f in ("binary", "multiclass", "regression")]
    scenarios += [("logistic_50000x50", _SCENARIOS["logistic_50000x50"])]
    for label, code in scenarios:
        with tempfile.TemporaryDirectory() as cache:
            r = run(code, cache)
        parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["compiles"].items(),
                                                           key=lambda kv: -kv[1]))
        print(f"{label:28s} {r['fit']:6.2f} {r['fit_cpu']:6.2f}  {parts}", flush=True)


def fit_table(repeat, with_warmup):
    print("== first fits in a fresh process: cold (empty cache) / warm (second process)")
    print("(fit: wall seconds of the call; cpu: its process CPU seconds, less sensitive "
          "to a busy machine; proc: the whole process)")
    print(f"{'scenario':24s} {'cold fit':>8s} {'warm fit':>8s} {'cold cpu':>8s} {'warm cpu':>8s} "
          f"{'c/w wall':>8s} {'c/w cpu':>8s} {'cold proc':>9s} {'warm proc':>9s}")
    names = [n for n in _SCENARIOS if with_warmup or n != "warmup"]
    rows = {}
    for name in names:
        cold, warm = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as cache:
                cold.append(run(_SCENARIOS[name], cache))
                warm.append(run(_SCENARIOS[name], cache))
        med = lambda rs, key: sorted(r[key] for r in rs)[len(rs) // 2]  # noqa: E731
        c, w = med(cold, "fit"), med(warm, "fit")
        cc, wc = med(cold, "fit_cpu"), med(warm, "fit_cpu")
        rows[name] = (c, w, cc, wc, med(cold, "wall"), med(warm, "wall"),
                      med(cold, "process_cpu"), med(warm, "process_cpu"))
        print(f"{name:24s} {c:8.2f} {w:8.2f} {cc:8.2f} {wc:8.2f} {c / w:8.2f} {cc / wc:8.2f} "
              f"{rows[name][4]:9.2f} {rows[name][5]:9.2f}", flush=True)
        # what the cold fit compiled (top-level dispatchers, wall s; a warm
        # process compiles nothing)
        compiled = sorted(cold[0]["compiles"].items(), key=lambda kv: -kv[1])
        print(f"{'':24s} compiled: " + (", ".join(f"{k} {v:.2f}" for k, v in compiled) or "nothing"),
              flush=True)
    # The targets compare whole fresh processes (interpreter start, imports, loading
    # or compiling the kernels, the fit), as the first-use experience a user has:
    # issue 11's table measured MLPClassifier "fresh process" at 1.1-2.3 s.
    print("== targets: whole fresh processes, wall / cpu")
    mlp = rows["mlp_digits"]
    sgd = rows["sgdnet_digits"]
    print(f"cold SGDNetClassifier digits / fresh MLPClassifier: {sgd[4] / mlp[4]:.2f} / "
          f"{sgd[6] / mlp[6]:.2f} (target <= 2)")
    lg = rows["logistic_50000x50"]
    print(f"cold / warm MLELogisticRegression 50,000 x 50: {lg[4] / lg[5]:.2f} / {lg[6] / lg[7]:.2f} "
          f"(target <= 1.5)")
    if "warmup" in rows:
        wu = rows["warmup"]
        print(f"cold skloss.warmup() / fresh MLPClassifier: {wu[4] / mlp[4]:.1f} / "
              f"{wu[6] / mlp[6]:.1f} (target <= 20)")


def grid_table():
    print("== GridSearchCV(SGDNetClassifier, 8 fits, n_jobs=2) on digits: cold vs warm cache, "
          "and n_jobs=1 cold for reference (cpu includes the workers)")
    for n_jobs in (2, 1):
        with tempfile.TemporaryDirectory() as cache:
            cold = run(_GRID.format(n_jobs=n_jobs), cache)
            warm = run(_GRID.format(n_jobs=n_jobs), cache)
        print(f"n_jobs={n_jobs}: cold {cold['fit']:.2f} s wall / {cold['fit_cpu']:.2f} s cpu, "
              f"warm {warm['fit']:.2f} s wall / {warm['fit_cpu']:.2f} s cpu", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-kernels", action="store_true")
    parser.add_argument("--skip-fits", action="store_true")
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--losses", nargs="*", default=None)
    parser.add_argument("--grid", action="store_true",
                        help="also time a cold / warm GridSearchCV(n_jobs=2)")
    args = parser.parse_args()
    import numba
    import numpy

    print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}, numba "
          f"{numba.__version__}, {os.cpu_count()} cores")
    if not args.skip_kernels:
        if args.losses is None:
            from skloss.losses import available_losses

            args.losses = available_losses()
        kernel_table(args.losses)
    if not args.skip_fits:
        fit_table(args.repeat, not args.no_warmup)
    if args.grid:
        grid_table()


if __name__ == "__main__":
    main()
