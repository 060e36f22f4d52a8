"""Configuration sweep: every smooth loss x penalty x size against the nearest reference.

Every loss that is not piecewise-linear (those belong to the exact solver) is
fitted with ``penalty`` in {none, l2, l1, elasticnet (l1_ratio 0.5)} on dense
data of 2,000 / 20,000 / 200,000 rows x 25 features (regression targets, binary
labels, and 5 classes for losses with a multi-class form), plus a CSR set of
100,000 x 5,000 (0.2% dense) for the classification losses, and timed against
the nearest reference **at equal objective**.

The common objective (skloss's, evaluated in float64 on each tool's
coefficients with the loss object's own ``loss``):

    F(w, b) = mean_i loss(y_i, x_i.w + b) + alpha (rho |w|_1 + (1 - rho)/2 |w|^2)

Reference mappings (``n`` rows, ``alpha`` and ``rho`` as above):

==========================  ================================================================
skloss loss                 reference and parameters giving the same minimiser
==========================  ================================================================
squared_error               ``LinearRegression``; ``Ridge(alpha = n alpha / 2)``;
                            ``Lasso(alpha / 2)``; ``ElasticNet(alpha / 2, l1_ratio = rho)``
                            (skloss's loss is ``(y - raw)^2``, scikit-learn's ``1/2n ||r||^2``)
squared_log_error           the same on ``log1p(y)`` (the loss is ``(log1p y - raw)^2``)
log_loss (binary, 5-class)  ``LogisticRegression(C = 1 / (alpha n), l1_ratio = rho)``, ``C = inf``
                            without penalty; solvers lbfgs and newton-cholesky (no / L2
                            penalty), saga (L1 / elastic net): the faster of those that reach
                            the objective is the reference
poisson, gamma,             ``PoissonRegressor / GammaRegressor / TweedieRegressor(power=1.5,
tweedie (power 1.5)         link="log")(alpha = alpha / 2)`` (skloss: mean deviance;
                            scikit-learn: half mean deviance), lbfgs and newton-cholesky;
                            no L1 in scikit-learn: no reference
probit (no penalty)         statsmodels ``Probit`` (Newton)
squared_hinge               ``LinearSVC(loss="squared_hinge", dual=False, penalty=l2|l1,
                            C = 1 / (alpha n))``, both without an intercept (LinearSVC
                            penalises its intercept)
huber (no penalty)          ``HuberRegressor(alpha=0)`` estimates a scale jointly; at its
                            ``sigma`` its ``w`` minimises mean huber_delta with
                            ``delta = epsilon sigma``: skloss fits that ``delta``
==========================  ================================================================

Other losses (pseudo_huber, log_cosh, squared_epsilon_insensitive, student_t,
kl_divergence, modified_huber, exponential, focal, brier) and the GLM / squared
hinge / huber penalties without a counterpart have no reference: their rows
report skloss's fit, its convergence and objective only.

Equal objective: each tool runs on a tolerance ladder (``_REF_TOLS`` /
``_SKL_TOLS``): skloss's whole ladder, tightest first, then each reference's
from its loosest tolerance until it comes within ``1e-8`` (relative) of
skloss's best objective; the best objective ``F*`` of all runs is the
target, and each tool is timed at the *loosest* tolerance whose objective is
within ``1e-8 |F*|`` of it (if none is, at its tightest, and the gap is
reported).  The time is the best of ``--repeat`` runs at that tolerance with a
warm numba cache, skloss's runs interleaved with each reference's (a burst of
load on a shared machine hits both), in blocks of three calls up to 20,000 rows
(the first call of a block can find the other tool's BLAS threads still
spinning).  ``ratio = reference time / skloss time``:
above 1 skloss is faster.

Run: ``nice -n 5 python benchmarks/bench_matrix.py [--quick] [--sizes 2000 20000]
[--losses log_loss poisson] [--penalties none l1] [--csr] [--out docs/benchmarks/matrix.rst]``.
The table is written to ``docs/benchmarks/matrix.rst`` (included by
``docs/benchmarks.rst``); the figures depend on the machine and its load.
"""

import argparse
import datetime
import math
import os
import platform
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

_SKL_TOLS = (1e-10, 1e-8, 1e-6, 1e-4)
_REF_TOLS = (1e-12, 1e-10, 1e-8, 1e-6, 1e-4)
_PENALTIES = ("none", "l2", "l1", "elasticnet")
_SIZES = (2000, 20000, 200000)
_RHO = 0.5
_REL = 1e-8
_N_FEATURES = 25
_K = 5
_DEFAULT_OUT = os.path.join(os.path.dirname(__file__), "..", "docs", "benchmarks", "matrix.rst")


# ------------------------------------------------------------------ data
def _data(task, n, k, sparse, seed=0):
    rng = np.random.default_rng(seed)
    if sparse:
        p = 5000
        X = sp.random(n, p, density=0.002, format="csr", random_state=seed, dtype=np.float64)
        X.data = rng.standard_normal(X.data.size)
    else:
        p = _N_FEATURES
        X = rng.standard_normal((n, p))
    w = rng.standard_normal(p) * (rng.random(p) < 0.6) / math.sqrt(max(1, p * 0.002 if sparse else p / 4))
    z = np.asarray(X @ w).ravel()
    if task == "multiclass":
        W = rng.standard_normal((p, k)) / math.sqrt(p / 4)
        S = np.asarray(X @ W) + rng.gumbel(size=(n, k))
        return X, np.argmax(S, axis=1).astype(np.float64)
    if task == "binary":
        return X, (z + rng.logistic(size=n) > 0).astype(np.float64)
    return X, z


def _regression_target(loss, z, rng):
    lo = loss.y_domain.low if hasattr(loss, "y_domain") else -np.inf
    link = getattr(loss.link, "name", type(loss.link).__name__).lower()
    if "log1p" in link:
        return np.expm1(np.maximum(0.0, 0.5 * z + 1.0 + 0.3 * rng.standard_normal(z.size)))
    if "log" in link:
        mu = np.exp(0.3 * z)
        y = rng.gamma(2.0, mu / 2.0)
        if lo == 0.0 and getattr(loss.y_domain, "low_inclusive", False):
            y = np.where(rng.random(z.size) < 0.2, 0.0, y)
            if getattr(loss.y_domain, "integer", False) or loss.likelihood.__class__.__name__ == "Poisson":
                y = rng.poisson(mu).astype(np.float64)
        return y
    return z + rng.standard_t(3, size=z.size)


# ------------------------------------------------------------------ objective
def _objective(loss, X, y, coef, intercept, alpha, rho):
    coef = np.asarray(coef, dtype=np.float64)
    raw = np.asarray(X @ coef.T) + intercept
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    data = float(np.mean(loss.loss(y, raw)))
    return data + alpha * (rho * float(np.abs(coef).sum()) + (1 - rho) / 2 * float((coef ** 2).sum()))


def _pen(penalty, alpha):
    """(alpha, rho) of the common objective; alpha = 0 without penalty."""
    if penalty == "none":
        return 0.0, 0.0
    return alpha, {"l2": 0.0, "l1": 1.0, "elasticnet": _RHO}[penalty]


# ------------------------------------------------------------------ tools
_LAST_SOLVER = []


def _record_solver():
    import skloss.linear_model._base as base
    import skloss.linear_model._linear as lin

    for mod in (base, lin):
        inner = mod.solve
        if getattr(inner, "_recorded", False):
            continue

        def wrapped(*a, _inner=inner, **kw):
            res = _inner(*a, **kw)
            _LAST_SOLVER.append(res.solver)
            return res

        wrapped._recorded = True
        mod.solve = wrapped


def _skloss_fit(loss_name, task, penalty, alpha, intercept):
    from skloss import MLELinearRegression, MLELogisticRegression

    Est = MLELinearRegression if task == "regression" else MLELogisticRegression

    def fit(X, y, tol):
        _LAST_SOLVER.clear()
        est = Est(loss=loss_name, penalty=None if penalty == "none" else penalty,
                  alpha=alpha if penalty != "none" else 0.0, l1_ratio=_RHO, tol=tol,
                  max_iter=1000, fit_intercept=intercept)
        est.fit(X, y)
        coef = np.asarray(est.coef_)
        b = est.intercept_ if intercept else 0.0
        solver = getattr(est, "solver_", None) or (_LAST_SOLVER[-1] if _LAST_SOLVER else est.solver)
        return coef, b, bool(getattr(est, "converged_", True)), solver
    return fit


def _references(loss, task, penalty, alpha, n, k, sparse):
    """``[(name, fit(X, y, tol) -> (coef, intercept)), ...]`` or []."""
    from sklearn import linear_model as lm
    from sklearn.svm import LinearSVC

    name = loss.name
    refs = []
    if name in ("squared_error", "squared_log_error") and not sparse:
        tr = (lambda y: np.log1p(y)) if name == "squared_log_error" else (lambda y: y)

        def mk(make):
            def fit(X, y, tol):
                m = make(tol).fit(X, tr(y))
                return m.coef_, m.intercept_
            return fit
        if penalty == "none":
            refs.append(("LinearRegression", mk(lambda tol: lm.LinearRegression())))
        elif penalty == "l2":
            refs.append(("Ridge", mk(lambda tol: lm.Ridge(alpha=n * alpha / 2, tol=tol))))
        elif penalty == "l1":
            refs.append(("Lasso", mk(lambda tol: lm.Lasso(alpha=alpha / 2, tol=tol, max_iter=100000))))
        else:
            refs.append(("ElasticNet", mk(lambda tol: lm.ElasticNet(alpha=alpha / 2, l1_ratio=_RHO, tol=tol,
                                                                    max_iter=100000))))
    elif name == "log_loss":
        C = np.inf if penalty == "none" else 1.0 / (alpha * n)
        l1r = {"none": 0.0, "l2": 0.0, "l1": 1.0, "elasticnet": _RHO}[penalty]
        solvers = ("lbfgs", "newton-cholesky") if penalty in ("none", "l2") else ("saga",)
        if sparse and penalty in ("none", "l2"):
            solvers = ("lbfgs",)
        for s in solvers:
            def fit(X, y, tol, s=s):
                m = lm.LogisticRegression(C=C, l1_ratio=l1r, solver=s, tol=tol, max_iter=100000).fit(X, y)
                return (m.coef_[0] if m.coef_.shape[0] == 1 else m.coef_), (
                    m.intercept_[0] if m.intercept_.shape[0] == 1 else m.intercept_)
            refs.append((f"LogisticRegression({s})", fit))
    elif name in ("poisson", "gamma", "tweedie") and penalty in ("none", "l2") and not sparse:
        def make(s, tol):
            a = 0.0 if penalty == "none" else alpha / 2
            if name == "poisson":
                return lm.PoissonRegressor(alpha=a, solver=s, tol=tol, max_iter=100000)
            if name == "gamma":
                return lm.GammaRegressor(alpha=a, solver=s, tol=tol, max_iter=100000)
            return lm.TweedieRegressor(power=1.5, link="log", alpha=a, solver=s, tol=tol, max_iter=100000)
        for s in ("lbfgs", "newton-cholesky"):
            def fit(X, y, tol, s=s):
                m = make(s, tol).fit(X, y)
                return m.coef_, m.intercept_
            refs.append((f"{type(make(s, 1e-4)).__name__}({s})", fit))
    elif name == "probit" and penalty == "none" and not sparse:
        def fit(X, y, tol):
            import statsmodels.api as smapi

            res = smapi.Probit(y, smapi.add_constant(X, has_constant="add")).fit(
                method="newton", tol=tol, maxiter=1000, disp=0)
            return res.params[1:], res.params[0]
        refs.append(("statsmodels Probit", fit))
    elif name == "squared_hinge" and penalty in ("l2", "l1"):
        def fit(X, y, tol):
            m = LinearSVC(loss="squared_hinge", penalty=penalty, dual=False, C=1.0 / (alpha * n),
                          fit_intercept=False, tol=tol, max_iter=100000).fit(X, y)
            return m.coef_[0], 0.0
        refs.append(("LinearSVC(dual=False)", fit))
    elif name == "huber" and penalty == "none" and not sparse:
        def fit(X, y, tol):
            m = lm.HuberRegressor(alpha=0.0, epsilon=1.35, tol=tol, max_iter=100000).fit(X, y)
            return m.coef_, m.intercept_, m.scale_
        refs.append(("HuberRegressor", fit))
    return refs


# ------------------------------------------------------------------ timing
def _ladder(fit, X, y, tols, score, reach=None):
    """Objectives along the tolerance ladder: [(tol, F, extra)], tightest first.

    With ``reach`` (an objective already attained by the other tool) the ladder
    runs from its loosest tolerance and stops at the first run within ``_REL``
    of ``reach``: tighter runs could only be timed if they were needed, and a
    reference's tightest tolerance can run for many minutes (``LinearSVC`` with
    an L1 penalty on 200,000 rows did not finish in 30 minutes at 1e-12)."""
    out = []
    order = sorted(tols, reverse=reach is not None)  # (loosest first when reaching)
    for tol in order:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = fit(X, y, tol)
        except Exception as exc:  # a reference that fails is reported, not fatal
            out.append((tol, np.inf, repr(exc)[:60]))
            continue
        F = score(res[0], res[1])
        out.append((tol, F, res))
        if reach is not None and np.isfinite(F) and F - reach <= _REL * max(1.0, abs(reach)):
            break
    return sorted(out, key=lambda r: r[0])


def _pick(ladder, target):
    ok = [r for r in ladder if np.isfinite(r[1]) and r[1] - target <= _REL * max(1.0, abs(target))]
    if ok:
        return max(ok, key=lambda r: r[0])  # loosest tolerance within reach
    finite = [r for r in ladder if np.isfinite(r[1])]
    return min(finite, key=lambda r: r[1]) if finite else ladder[0]


def _time(fit, X, y, tol, repeat):
    best = np.inf
    for _ in range(repeat):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            fit(X, y, tol)
            best = min(best, time.perf_counter() - start)
    return best


def run_config(loss_name, task, penalty, n, sparse=False, alpha=None, repeat=None, tols=None):
    """One row of the table (a dict)."""
    from skloss.losses import get_loss

    loss = get_loss(loss_name)
    k = _K if task == "multiclass" else 2
    X, z = _data("multiclass" if task == "multiclass" else ("binary" if task == "binary" else "regression"),
                 n, k, sparse)
    rng = np.random.default_rng(1)
    y = _regression_target(loss, z, rng) if task == "regression" else z
    if alpha is None:
        alpha = 1e-3 if not sparse else 1e-4
    a, rho = _pen(penalty, alpha)
    intercept = not (loss_name == "squared_hinge")
    repeat = repeat or (3 if n <= 20000 else 1)
    refs = _references(loss, task, penalty, alpha, n, k, sparse)
    skl = _skloss_fit(loss_name, "regression" if task == "regression" else "classification", penalty, alpha,
                      intercept)
    row = dict(loss=loss_name, task=task, penalty=penalty, n=n, sparse=sparse)
    huber_ref = loss_name == "huber" and refs  # (its reference's scale fixes the loss first)
    skl_ladder = None
    if not huber_ref:
        try:
            skl_ladder = _ladder(skl, X, y, _SKL_TOLS, lambda c, b: _objective(loss, X, y, c, b, a, rho))
        except Exception as exc:
            row.update(error=repr(exc)[:80])
            return row
    finite = [r[1] for r in skl_ladder or () if np.isfinite(r[1])]
    reach = min(finite) if finite else None
    ref_ladders = []
    for rname, rfit in refs:
        lad = _ladder(rfit, X, y, tols or _REF_TOLS, lambda c, b: _objective(loss, X, y, c, b, a, rho),
                      reach=reach)
        ref_ladders.append((rname, rfit, lad))
    if huber_ref:
        # HuberRegressor's scale at its tightest run fixes delta; both are scored on that loss
        lad = ref_ladders[0][2]
        loss = get_loss("huber", delta=1.35 * lad[0][2][2])
        ref_ladders = [(rn, rf, [(t, _objective(loss, X, y, r[0], r[1], 0.0, 0.0) if np.isfinite(F) else F, r)
                                 for (t, F, r) in lad]) for rn, rf, lad in ref_ladders]
        skl = _skloss_fit(loss, "regression", penalty, alpha, intercept)
    if skl_ladder is None:
        try:
            skl_ladder = _ladder(skl, X, y, _SKL_TOLS, lambda c, b: _objective(loss, X, y, c, b, a, rho))
        except Exception as exc:
            row.update(error=repr(exc)[:80])
            return row
    allF = [r[1] for r in skl_ladder] + [r[1] for _, _, lad in ref_ladders for r in lad]
    allF = [f for f in allF if np.isfinite(f)]
    if not allF:
        row.update(error=str(skl_ladder[0][2]))
        return row
    target = min(allF)
    pick = _pick(skl_ladder, target)
    if not np.isfinite(pick[1]):
        row.update(error=str(pick[2]))
        return row
    # interleaved repeats: skloss and each reference alternate, so that a burst of load
    # on the shared machine hits both (the best of each is kept); on small problems
    # each turn is a block of calls: the first call of a block can find the other
    # tool's BLAS threads still spinning for a core (a 2,000-row 5-class fit took
    # 10 ms alone and 35-40 ms right after a LogisticRegression fit), the later
    # ones measure the tool alone
    block = 3 if n <= 20000 else 1
    t_skl = _time(skl, X, y, pick[0], 1)
    res = pick[2]
    row.update(F=pick[1], skl_time=t_skl, skl_tol=pick[0], solver=res[3], converged=res[2],
               gap=(pick[1] - target) / max(1.0, abs(target)))
    best_ref = None
    for rname, rfit, lad in ref_ladders:
        rp = _pick(lad, target)
        if not np.isfinite(rp[1]):
            continue
        reached = rp[1] - target <= _REL * max(1.0, abs(target))
        t = np.inf
        for _ in range(repeat):
            t = min(t, _time(rfit, X, y, rp[0], block))
            t_skl = min(t_skl, _time(skl, X, y, pick[0], block))
        cand = (not reached, t, rname, rp)
        if best_ref is None or cand[:2] < best_ref[:2]:
            best_ref = cand
    if not ref_ladders and repeat > 1:
        t_skl = min(t_skl, _time(skl, X, y, pick[0], repeat - 1))
    row["skl_time"] = t_skl
    if best_ref is not None:
        row.update(ref=best_ref[2], ref_time=best_ref[1], ref_gap=(best_ref[3][1] - target) / max(1.0, abs(target)),
                   ratio=best_ref[1] / t_skl)
    return row


# ------------------------------------------------------------------ table
def _fmt_n(n):
    return f"{n:,}"


def table_rst(rows, header_note=""):
    cols = ("loss", "task", "penalty", "rows", "reference", "ratio", "skloss s", "ref s",
            "gap skloss", "gap ref", "solver", "converged")
    lines = []
    for r in rows:
        if "error" in r:
            lines.append((r["loss"], r["task"], r["penalty"], _fmt_n(r["n"]) + (" CSR" if r["sparse"] else ""),
                          "", "", "", "", "", "", "error: " + r["error"].replace("|", "/")[:50], ""))
            continue
        lines.append((
            r["loss"], r["task"], r["penalty"], _fmt_n(r["n"]) + (" CSR" if r["sparse"] else ""),
            r.get("ref", "--"),
            f"{r['ratio']:.2f}" if "ratio" in r else "--",
            f"{r['skl_time']:.3g}", f"{r['ref_time']:.3g}" if "ref_time" in r else "--",
            f"{r['gap']:.1e}", f"{r['ref_gap']:.1e}" if "ref_gap" in r else "--",
            str(r["solver"]), "yes" if r["converged"] else "**no**"))
    ratios = [r["ratio"] for r in rows if "ratio" in r]
    out = [".. Generated by benchmarks/bench_matrix.py -- do not edit by hand.", ""]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    argv = sys.argv[1:]
    if "--note" in argv:  # (the note is printed once, as text)
        i = argv.index("--note")
        argv = argv[:i] + argv[i + 2:]
    # (no path of this machine in the published table: files by their name only)
    argv = [os.path.basename(a) if os.path.isabs(a) else a for a in argv]
    out.append(f"Run of {stamp} on {platform.machine()} ({os.cpu_count()} cores, shared; "
               f"``{' '.join(argv) or 'full sweep'}``). {header_note}")
    out.append("")
    if ratios:
        below = sum(1 for x in ratios if x < 1)
        out.append(f"Configurations with a reference: {len(ratios)}; median ratio "
                   f"{float(np.median(ratios)):.2f}; below 1: {below}. Without a reference: "
                   f"{len(rows) - len(ratios)} (not converged: "
                   f"{sum(1 for r in rows if 'ratio' not in r and not r.get('converged', False))}).")
        out.append("")
    out.append(".. list-table::")
    out.append("   :header-rows: 1")
    out.append("")
    for line in [cols] + lines:
        out.append("   * - " + str(line[0]))
        for cell in line[1:]:
            out.append("     - " + (str(cell) if cell != "" else " "))
    return "\n".join(out) + "\n"


def configurations(losses=None, penalties=_PENALTIES, sizes=_SIZES, csr=False):
    from skloss.losses import available_losses, get_loss

    names = losses or available_losses()
    for name in names:
        loss = get_loss(name)
        if getattr(loss, "piecewise_linear", None) is not None or not loss.is_smooth:
            continue  # the exact piecewise-linear solver's benchmark
        tasks = ["regression"] if loss.task == "regression" else ["binary"]
        if loss.task == "classification" and loss.has_multiclass_form:
            tasks.append("multiclass")
        for task in tasks:
            for pen in penalties:
                for n in sizes:
                    yield name, task, pen, n, False
        if csr and loss.task == "classification":
            for pen in penalties:
                yield name, "binary", pen, 100000, True


def rows_from_log(path):
    """Rows back from this script's progress lines (a run stopped before its end
    still gives its table: ``--table-from LOG``)."""
    rows = []
    for line in open(path):
        f = line.split()
        if len(f) < 13 or "ratio" not in f:
            continue
        sparse = f[4] == "CSR"
        k = 5 if sparse else 4
        row = dict(loss=f[0], task=f[1], penalty=f[2], n=int(f[3]), sparse=sparse)
        ratio, skl, ref = float(f[k + 1]), float(f[k + 3].rstrip("s")), float(f[k + 5].rstrip("s"))
        row.update(skl_time=skl, gap=float(f[k + 7]), solver=f[k + 8], converged=f[k + 9] == "conv=True")
        if ratio == ratio:  # not nan
            row.update(ratio=ratio, ref_time=ref, ref=" ".join(f[k + 10:]))
        rows.append(row)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=list(_SIZES),
                    help="dense row counts (none: only the CSR set with --csr)")
    ap.add_argument("--losses", nargs="+")
    ap.add_argument("--penalties", nargs="+", default=list(_PENALTIES), choices=_PENALTIES)
    ap.add_argument("--csr", action="store_true", help="add the 100,000 x 5,000 CSR set (classification)")
    ap.add_argument("--quick", action="store_true", help="2,000 rows, a few losses, one repeat")
    ap.add_argument("--repeat", type=int)
    ap.add_argument("--out", default=_DEFAULT_OUT, help="reST table to write ('' for none)")
    ap.add_argument("--table-from", help="write the table from a saved progress log instead of running")
    ap.add_argument("--note", default="", help="a sentence for the table's header (e.g. the run's command)")
    args = ap.parse_args(argv)
    if args.table_from:
        with open(args.out, "w") as fh:
            fh.write(table_rst(rows_from_log(args.table_from), args.note + " (Rebuilt from the run's progress "
                               "log; the reference's objective gap column is not in the log.)"))
        print(f"wrote {args.out}")
        return None
    if args.quick:
        args.sizes = [2000]
        args.losses = args.losses or ["squared_error", "log_loss", "poisson", "brier"]
    _record_solver()
    # warm every kernel the sweep uses (compile time is bench_compile.py's subject)
    import skloss

    skloss.warmup()
    rows = []
    for cfg in configurations(args.losses, args.penalties, args.sizes, args.csr):
        row = run_config(*cfg, repeat=args.repeat or (1 if args.quick else None))
        rows.append(row)
        if "error" in row:
            print(f"{cfg}: ERROR {row['error']}", flush=True)
        else:
            print(f"{row['loss']:>28} {row['task']:>10} {row['penalty']:>10} {row['n']:>7}"
                  f"{' CSR' if row['sparse'] else '    '} ratio {row.get('ratio', float('nan')):7.2f} "
                  f"skl {row['skl_time']:.3g}s ref {row.get('ref_time', float('nan')):.3g}s "
                  f"gap {row['gap']:.1e} {row['solver']} conv={row['converged']} {row.get('ref', '')}",
                  flush=True)
    text = table_rst(rows)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            fh.write(text)
        print(f"wrote {args.out}")
    return rows


if __name__ == "__main__":
    main()
