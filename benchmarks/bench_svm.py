"""Exact piecewise-linear fits against scikit-learn's linear SVMs and QuantileRegressor.

Run:  nice -n 5 python benchmarks/bench_svm.py [--quick] [--crammer-singer] [--n=20000 --n=200000 ...]

Every row compares at equal objective *of our problem*:

    F(w, b) = mean_i loss(y_i, x_i.w + b) + alpha (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||^2)

with the intercept unpenalised.  Mappings: ``LinearSVC(C)`` / ``LinearSVR(C)``
minimise ``1/2 ||w||^2 + C sum loss`` (same minimiser as ours at
``C = 1 / (alpha n)``), but penalise the intercept as one more feature of value
``intercept_scaling``; ``QuantileRegressor(alpha)`` minimises ``mean pinball +
alpha ||w||_1`` (identical to ours).  ``LinearSVC(penalty="l1")`` supports only
the squared hinge: it is timed as the nearest scikit-learn estimator (its own
problem), and we report our hinge + L1 time against it (the issue's target is
"within 2x").  Each reference's (w, b) is evaluated under F and the gap
``F_ref - F_ours`` (relative) is printed: ours is the certified exact optimum,
so a positive gap means the reference stopped short (tolerance, penalised
intercept).  Times: best of ``repeat`` runs, interleaved, warm numba cache.
Figures are taken on whatever machine runs this (state whether it is shared).
"""

import os
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import QuantileRegressor
from sklearn.svm import LinearSVC, LinearSVR

from skloss.linear_model import MLELinearRegression, MLELogisticRegression


# LinearSVC's tolerances, loosest first (its default is 1e-4)
_SVC_TOLS = (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10)
_REL = 1e-8


def _best(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def objective(loss, X, y, w, b, l1, l2):
    raw = X @ w + b
    if loss == "hinge":
        z = 2.0 * y - 1.0
        val = np.maximum(0.0, 1.0 - z * raw)
    elif loss == "epsilon_insensitive":
        val = np.maximum(np.abs(y - raw) - 0.1, 0.0)
    else:  # quantile 0.5 -> pinball
        r = y - raw
        val = np.maximum(0.5 * r, -0.5 * r)
    return float(val.mean()) + l1 * float(np.abs(w).sum()) + 0.5 * l2 * float(w @ w)


def cs_objective(X, y, W, l2, margin=1.0):
    """Crammer-Singer + L2 without intercept: mean max(0, max_{k != y}(margin + r_k - r_y)) + l2/2 ||W||^2."""
    raw = X @ W.T
    rows = np.arange(X.shape[0])
    ry = raw[rows, y].copy()
    raw += margin
    raw[rows, y] -= margin
    return float((raw.max(axis=1) - ry).mean()) + 0.5 * l2 * float(np.sum(W * W))


def crammer_singer(sizes, alpha=1e-3, repeat=3):
    """Crammer-Singer + L2 (4 classes, no intercept: LinearSVC penalises its own)
    against LinearSVC(multi_class="crammer_singer") on the tolerance ladder.

    The ladder (one fit per tolerance) finds LinearSVC's loosest tolerance at our
    objective; then the two fits are timed alternately (ours, LinearSVC, ours, ...)
    so that both see the same machine load; best of ``repeat`` each.
    """
    for n in sizes:
        X, y = make_classification(n, 25, n_informative=10, n_classes=4, random_state=0)
        C = 1.0 / (alpha * n)
        rep = 1 if n >= 200_000 else repeat
        est = MLELogisticRegression(loss="hinge", penalty="l2", alpha=alpha, cov_type=None, fit_intercept=False)
        est.fit(X, y)
        F_o = cs_objective(X, y, est.coef_, alpha)
        F_r, tol_r = np.inf, None
        for tol in _SVC_TOLS:
            svc = LinearSVC(C=C, multi_class="crammer_singer", fit_intercept=False, tol=tol, max_iter=100_000)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # (liblinear's iteration limit: the ladder goes on)
                svc.fit(X, y)
            F_r, tol_r = cs_objective(X, y, svc.coef_, alpha), tol
            if F_r - min(F_r, F_o) <= _REL * abs(min(F_r, F_o)):
                break
        svc = LinearSVC(C=C, multi_class="crammer_singer", fit_intercept=False, tol=tol_r, max_iter=100_000)
        t_o = t_r = np.inf
        load0 = os.getloadavg()[0]
        for _ in range(rep):
            t_o = min(t_o, _best(lambda: est.fit(X, y), 1)[0])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_r = min(t_r, _best(lambda: svc.fit(X, y), 1)[0])
        load = f"load {load0:.1f}-{os.getloadavg()[0]:.1f}"
        row(f"C-S hinge + L2 vs LinearSVC({tol_r:g})", n, t_o, t_r, F_o, F_r,
            f"{getattr(est, 'solver_', '?')}, {load}")


def row(name, n, t_ours, t_ref, F_ours, F_ref, solver):
    gap = (F_ref - F_ours) / max(abs(F_ours), 1e-300)
    print(f"{name:<28} {n:>9,d} {t_ours:9.4f} {t_ref:9.4f} {t_ref / t_ours:7.2f} {gap:11.2e}  {solver}")
    sys.stdout.flush()


def main(quick=False, only_cs=False, sizes=None):
    repeat = 3
    if sizes is None:
        sizes = [2_000, 20_000, 200_000] if quick else [2_000, 20_000, 200_000, 1_000_000]
    alpha = 1e-3
    print(f"{'configuration':<28} {'rows':>9} {'ours [s]':>9} {'ref [s]':>9} {'ratio':>7} {'F_ref-F':>11}  our method")
    # a first fit compiles / loads the numba kernels
    Xw, yw = make_classification(500, 10, random_state=0)
    MLELogisticRegression(loss="hinge", penalty="l2", alpha=alpha, cov_type=None).fit(Xw, yw)
    if only_cs:
        crammer_singer(sizes, alpha)
        return

    for n in sizes:
        X, y = make_classification(n, 25, n_informative=10, random_state=0)
        C = 1.0 / (alpha * n)
        # both without an intercept: LinearSVC penalises its intercept, so with one
        # the two problems differ and no tolerance brings it to our optimum
        est = MLELogisticRegression(loss="hinge", penalty="l2", alpha=alpha, cov_type=None, fit_intercept=False)
        t_o, _ = _best(lambda: est.fit(X, y), 1 if n >= 1_000_000 else repeat)
        F_o = objective("hinge", X, y, est.coef_.ravel(), 0.0, 0, alpha)
        # LinearSVC at the loosest tolerance of the ladder whose objective is within
        # 1e-8 (relative) of the best of both (equal objective), else at its tightest
        t_r, F_r, tol_r = np.inf, np.inf, None
        for tol in _SVC_TOLS:
            svc = LinearSVC(C=C, loss="hinge", dual=True, fit_intercept=False, tol=tol, max_iter=1_000_000)
            t, _ = _best(lambda: svc.fit(X, y), 1 if n >= 1_000_000 else repeat)
            F = objective("hinge", X, y, svc.coef_.ravel(), 0.0, 0, alpha)
            t_r, F_r, tol_r = t, F, tol
            if F - min(F, F_o) <= _REL * abs(min(F, F_o)):
                break
        row(f"hinge + L2 vs LinearSVC({tol_r:g})", n, t_o, t_r, F_o, F_r, getattr(est, "solver_", "?"))

    for n in sizes[:3]:
        X, y = make_classification(n, 25, n_informative=10, random_state=0)
        C = 1.0 / (alpha * n)
        est = MLELogisticRegression(loss="hinge", penalty="l1", alpha=alpha, cov_type=None)
        t_o, _ = _best(lambda: est.fit(X, y), repeat)
        svc = LinearSVC(C=C, penalty="l1", loss="squared_hinge", dual=False)
        t_r, _ = _best(lambda: svc.fit(X, y), repeat)
        F_o = objective("hinge", X, y, est.coef_.ravel(), est.intercept_[0], alpha, 0)
        F_r = objective("hinge", X, y, svc.coef_.ravel(), svc.intercept_[0], alpha, 0)
        row("hinge + L1 vs LinearSVC l1*", n, t_o, t_r, F_o, F_r, getattr(est, "solver_", "?"))

    for n in sizes[:3]:
        X, y = make_regression(n, 25, noise=10.0, random_state=0)
        y = y / np.std(y)
        C = 1.0 / (alpha * n)
        est = MLELinearRegression(loss="epsilon_insensitive", penalty="l2", alpha=alpha, cov_type=None)
        t_o, _ = _best(lambda: est.fit(X, y), repeat)
        svr = LinearSVR(C=C, epsilon=0.1, loss="epsilon_insensitive", dual=True, max_iter=10000)
        t_r, _ = _best(lambda: svr.fit(X, y), repeat)
        F_o = objective("epsilon_insensitive", X, y, est.coef_, est.intercept_, 0, alpha)
        F_r = objective("epsilon_insensitive", X, y, svr.coef_, svr.intercept_[0], 0, alpha)
        row("eps-insens. + L2 vs LinearSVR", n, t_o, t_r, F_o, F_r, getattr(est, "solver_", "?"))

    for n in sizes[:2] if not quick else sizes[:2]:
        X, y = make_regression(n, 25, noise=10.0, random_state=0)
        y = y / np.std(y)
        est = MLELinearRegression(loss="quantile", penalty="l1", alpha=alpha, cov_type=None)
        t_o, _ = _best(lambda: est.fit(X, y), repeat)
        qr = QuantileRegressor(quantile=0.5, alpha=alpha, solver="highs")
        t_r, _ = _best(lambda: qr.fit(X, y), 1)
        F_o = objective("quantile", X, y, est.coef_, est.intercept_, alpha, 0)
        F_r = objective("quantile", X, y, qr.coef_, qr.intercept_, alpha, 0)
        row("quantile + L1 vs QuantileReg.", n, t_o, t_r, F_o, F_r, getattr(est, "solver_", "?"))
    crammer_singer(sizes[:3], alpha)
    print("* LinearSVC(penalty='l1') minimises the squared hinge (its nearest estimator); its F_ref is "
          "its solution evaluated under our hinge objective.")


if __name__ == "__main__":
    sizes = [int(a.split("=", 1)[1].replace(",", "").replace("_", "")) for a in sys.argv if a.startswith("--n=")]
    main(quick="--quick" in sys.argv, only_cs="--crammer-singer" in sys.argv, sizes=sizes or None)
