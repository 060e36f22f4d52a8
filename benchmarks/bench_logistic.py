"""MLELogisticRegression against scikit-learn, glum and statsmodels: time to the same objective.

Workloads (issue 3):

* ``binary``: dense 200,000 x 100 (``make_classification``, random_state=0),
  with ``alpha = 1/n`` (l2) and unpenalised;
* ``multinomial``: dense 100,000 x 50, 10 classes, ``alpha = 1/n`` and unpenalised;
* ``sparse``: CSR 200,000 x 50,000 with ~50 non-zeros per row, ``alpha = 1/n``.

Protocol.  Every tool solves the *same* objective (SPEC's mean log loss + alpha/2
||w||^2; scikit-learn with ``C = 1 / (alpha n)``, glum with the same ``alpha`` and
``l1_ratio=0``).  The reference objective ``f*`` is the smallest final objective
any tool reaches at its tightest tolerance.  For each tool we walk a ladder of
tolerances from loose to tight and report the wall time of the first run whose
objective is within ``1e-8`` relative of ``f*`` (the gap is printed), so a tool
is timed at the tolerance it needs, not at an arbitrary one.  statsmodels
(unpenalised dense only) runs in a subprocess and is dropped when it needs more
than a minute.

Run: ``python benchmarks/bench_logistic.py [binary multinomial sparse] [--quick] [--threads N]``
(``--threads`` sets OMP / OpenBLAS / numba threads for every tool, before any import).
"""

import os
import sys

if "--threads" in sys.argv:  # before numpy / numba are imported
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[_var] = _n

import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

GAP = 1e-8


def make_binary(n=200_000, p=100):
    from sklearn.datasets import make_classification

    return make_classification(n_samples=n, n_features=p, random_state=0)


def make_multinomial(n=100_000, p=50, k=10):
    from sklearn.datasets import make_classification

    return make_classification(n_samples=n, n_features=p, n_informative=30, n_redundant=5,
                               n_classes=k, random_state=0)


def make_sparse(n=200_000, p=50_000, nnz=50):
    rng = np.random.RandomState(0)
    indptr = np.arange(0, (n + 1) * nnz, nnz)
    indices = rng.randint(0, p, size=n * nnz)
    data = rng.normal(size=n * nnz)
    X = sp.csr_matrix((data, indices, indptr), shape=(n, p))
    X.sum_duplicates()
    w = rng.normal(size=p) * (rng.uniform(size=p) < 0.1)
    y = (X @ w + rng.logistic(size=n) > 0).astype(int)
    return X, y


def objective(X, y, coef, intercept, alpha):
    from skloss.linear_model._objective import LinearObjective
    from skloss.losses import get_loss

    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    k = coef.shape[0]
    classes, yi = np.unique(y, return_inverse=True)
    obj = LinearObjective(get_loss("log_loss"), X, yi.astype(np.float64), n_outputs=k, l2_reg=alpha)
    w = coef.ravel() if k == 1 else coef
    b = float(np.ravel(intercept)[0]) if k == 1 else np.ravel(intercept)
    return obj.value(obj.pack(w, b))


# ---------------------------------------------------------------- tools
def fit_skloss(X, y, alpha, tol):
    from skloss import MLELogisticRegression

    penalty = "l2" if alpha > 0 else None
    est = MLELogisticRegression(penalty=penalty, alpha=alpha, tol=tol, max_iter=1000, cov_type=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    return est.coef_, est.intercept_


def _fit_sklearn(solver):
    def fit(X, y, alpha, tol):
        from sklearn.linear_model import LogisticRegression

        n = X.shape[0]
        kw = {"C": 1.0 / (alpha * n)} if alpha > 0 else {"penalty": None}
        if alpha == 0:
            kw = {"C": np.inf}
        est = LogisticRegression(solver=solver, tol=tol, max_iter=10_000, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        return est.coef_, est.intercept_

    return fit


def fit_glum(X, y, alpha, tol):
    from glum import GeneralizedLinearRegressor

    classes = np.unique(y)
    if classes.size > 2:
        raise NotImplementedError("glum has no multinomial family")
    # (glum's default IRLS forms a dense Hessian: 50,000^2 on the sparse workload)
    est = GeneralizedLinearRegressor(family="binomial", alpha=alpha, l1_ratio=0.0, gradient_tol=tol,
                                     max_iter=1000, solver="lbfgs" if sp.issparse(X) else "auto")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, (y == classes[1]).astype(float))
    return est.coef_[None, :], np.array([est.intercept_])


def fit_statsmodels(X, y, alpha, tol):
    import statsmodels.api as sm

    if alpha > 0 or sp.issparse(X):
        raise NotImplementedError("statsmodels: unpenalised dense only")
    Xc = sm.add_constant(X, has_constant="add")
    if np.unique(y).size > 2:
        res = sm.MNLogit(y, Xc).fit(method="newton", tol=tol, maxiter=100, disp=0)
        P = np.asarray(res.params).T  # (K-1, p+1) relative to class 0
        coef = np.vstack([np.zeros(X.shape[1]), P[:, 1:]])
        inter = np.concatenate([[0.0], P[:, 0]])
        return coef, inter
    res = sm.Logit(y, Xc).fit(method="newton", tol=tol, maxiter=100, disp=0)
    return res.params[1:][None, :], res.params[:1]


TOOLS = {
    "skloss": (fit_skloss, [1e-4, 1e-6, 1e-8, 1e-10]),
    "sklearn lbfgs": (_fit_sklearn("lbfgs"), [1e-4, 1e-6, 1e-8, 1e-10]),
    "sklearn newton-cholesky": (_fit_sklearn("newton-cholesky"), [1e-4, 1e-6, 1e-8, 1e-10]),
    "glum": (fit_glum, [1e-4, 1e-6, 1e-8, 1e-10]),
    "statsmodels": (fit_statsmodels, [1e-6, 1e-8, 1e-10]),
}


def _statsmodels_in_subprocess(workload, alpha, tol, timeout=60):
    import subprocess

    code = (
        "import sys, time, numpy as np; sys.path.insert(0, 'benchmarks');"
        "import bench_logistic as b;"
        f"X, y = b.WORKLOADS[{workload!r}][0]();"
        "t = time.perf_counter();"
        f"c, i = b.fit_statsmodels(X, y, {alpha!r}, {tol!r});"
        "dt = time.perf_counter() - t;"
        f"print(repr(dt), repr(b.objective(X, y, c, i, {alpha!r})))"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        return None
    dt, f = out.stdout.split()
    return float(dt), float(f)


WORKLOADS = {
    "binary": (make_binary, [("alpha=1/n", True), ("unpenalised", False)]),
    "multinomial": (make_multinomial, [("alpha=1/n", True), ("unpenalised", False)]),
    "sparse": (make_sparse, [("alpha=1/n", True)]),
}


def run(workload, quick=False):
    make, settings = WORKLOADS[workload]
    X, y = make()
    if quick:
        X, y = X[: X.shape[0] // 10], y[: X.shape[0] // 10]
    n = X.shape[0]
    rows = []
    # compile / warm everything on a small copy first
    for name, (fit, tols) in TOOLS.items():
        if name == "statsmodels" or (name == "sklearn newton-cholesky" and sp.issparse(X)):
            continue  # (a dense 50,000^2 Hessian does not fit in memory)
        try:
            fit(X[:2000], y[:2000], 1.0 / 2000, 1e-4)
        except Exception:
            pass
    for label, penalised in settings:
        alpha = 1.0 / n if penalised else 0.0
        results = {}
        for name, (fit, tols) in TOOLS.items():
            if name == "sklearn newton-cholesky" and sp.issparse(X):
                results[name] = "n/a (dense Hessian of 50,000 features)"
                continue
            if name == "glum" and np.unique(y).size > 2:
                results[name] = "n/a (no multinomial)"
                continue
            if name == "statsmodels" and (penalised or sp.issparse(X)):
                results[name] = "n/a (unpenalised dense only)"
                continue
            runs = []
            for tol in tols:
                if name == "statsmodels":
                    out = _statsmodels_in_subprocess(workload, alpha, tol)
                    if out is None:
                        runs.append((tol, None, None))
                        break
                    runs.append((tol, out[0], out[1]))
                    continue
                t0 = time.perf_counter()
                try:
                    coef, inter = fit(X, y, alpha, tol)
                except Exception as exc:  # a tool that cannot run this workload
                    runs.append((tol, None, f"error: {type(exc).__name__}: {exc}"[:80]))
                    break
                dt = time.perf_counter() - t0
                runs.append((tol, dt, objective(X, y, coef, inter, alpha)))
                if dt > 90:
                    break  # too slow for a tighter tolerance to be worth it
                if len(runs) >= 2 and isinstance(runs[-2][2], float) and (
                        abs(runs[-1][2] - runs[-2][2]) <= 1e-11 * abs(runs[-1][2])):
                    break  # converged: a tighter tolerance changes nothing
            results[name] = runs
        finals = [f for runs in results.values() if isinstance(runs, list) for _, _, f in runs
                  if isinstance(f, float)]
        fstar = min(finals)
        table = []
        for name, runs in results.items():
            if not isinstance(runs, list):
                table.append((name, None, None, None, runs))
                continue
            chosen = None
            for tol, dt, f in runs:
                if isinstance(f, float) and (f - fstar) <= GAP * abs(fstar):
                    chosen = (tol, dt, f)
                    break
            if chosen is None:
                last = [r for r in runs if isinstance(r[2], float)]
                note = "did not reach f* within 1e-8" if last else (runs[-1][2] or "timed out (> 60 s)")
                if last:
                    tol, dt, f = last[-1]
                    table.append((name, dt, (f - fstar) / abs(fstar), tol, note))
                else:
                    table.append((name, None, None, None, note))
                continue
            tol, dt, f = chosen
            table.append((name, dt, (f - fstar) / abs(fstar), tol, ""))
        rows.append((label, fstar, table))
        ok = [t for t in table if t[1] is not None and t[0].startswith("sklearn") and not t[4]]
        ours = [t for t in table if t[0] == "skloss"][0]
        print(f"\n{workload} {X.shape[0]}x{X.shape[1]} ({'CSR' if sp.issparse(X) else 'dense'}), {label}: "
              f"f* = {fstar:.12g}")
        print(f"  {'tool':<26}{'time (s)':>10}{'rel. gap':>12}{'tol':>9}  note")
        for name, dt, gap, tol, note in table:
            dts = f"{dt:10.3f}" if dt is not None else f"{'-':>10}"
            gaps = f"{gap:12.1e}" if gap is not None else f"{'-':>12}"
            tols = f"{tol:9.0e}" if tol is not None else f"{'-':>9}"
            print(f"  {name:<26}{dts}{gaps}{tols}  {note}")
        if ok and ours[1] is not None and not ours[4]:
            best = min(ok, key=lambda t: t[1])
            print(f"  speed-up of skloss over the faster scikit-learn solver ({best[0]}): "
                  f"{best[1] / ours[1]:.2f}x")
        sys.stdout.flush()
    return rows


if __name__ == "__main__":
    args = [a for i, a in enumerate(sys.argv[1:], 1)
            if not a.startswith("--") and sys.argv[i - 1] != "--threads"]
    quick = "--quick" in sys.argv
    for w in args or list(WORKLOADS):
        run(w, quick=quick)
