"""The ``python -m skloss`` section of MLELogisticRegression (registered in skloss._demo)."""

import time
import warnings

__all__ = ["logistic_section"]


def logistic_section():
    """Grid search over classification losses on the breast-cancer data, then the
    maximum-likelihood summary of the best likelihood model on Greene's Spector data."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skloss import MLELogisticRegression
    from skloss.utils._display import heading as _heading

    _heading("MLELogisticRegression: one grid search over every classification loss")
    X, y = load_breast_cancer(return_X_y=True)
    losses = ["log_loss", "probit", "hinge", "squared_hinge", "modified_huber", "exponential",
              "focal", "brier"]
    pipe = make_pipeline(StandardScaler(), MLELogisticRegression(penalty="l2", cov_type=None))
    grid = GridSearchCV(
        pipe,
        {"mlelogisticregression__loss": losses, "mlelogisticregression__alpha": [1e-3, 1e-2, 1e-1]},
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        scoring="accuracy",
    )
    from skloss._demo import COMPILE_CLOCK, timing_note, verdict

    t0 = time.perf_counter()
    c0 = COMPILE_CLOCK.seconds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid.fit(X, y)
    res = grid.cv_results_
    print(f"breast cancer ({X.shape[0]} samples, {X.shape[1]} features), penalty='l2', 5-fold CV accuracy, "
          f"{len(res['params'])} fits x 5 folds in {timing_note(time.perf_counter() - t0, c0)}")
    rows = []
    print(f"  {'loss':<16}{'best alpha':>11}{'accuracy':>10}{'(sd)':>8}   solver")
    for loss in losses:
        idx = [i for i, p in enumerate(res["params"]) if p["mlelogisticregression__loss"] == loss]
        best = max(idx, key=lambda i: res["mean_test_score"][i])
        alpha = res["params"][best]["mlelogisticregression__alpha"]
        est = MLELogisticRegression(loss=loss, penalty="l2", alpha=alpha, cov_type=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sklearn.base import clone

            fitted = clone(est).fit(StandardScaler().fit_transform(X), y)
        from ._solvers import resolve_solver

        solver = resolve_solver("auto", fitted.loss_, l2_reg=alpha, n_coef=X.shape[1] + 1)
        print(f"  {loss:<16}{alpha:>11g}{res['mean_test_score'][best]:>10.4f}{res['std_test_score'][best]:>8.4f}"
              f"   {solver}")
        rows.append((f"{loss!r} (alpha={alpha:g})", res["mean_test_score"][best],
                     res["std_test_score"][best]))
    print("  (perceptron left out: its exact optimum is the trivial w = 0, whatever the penalty)")
    print(verdict(*zip(*rows), what="CV accuracy"))

    _heading("Maximum likelihood: logit or probit? (Greene's Spector data, statsmodels)")
    import statsmodels.api as sm

    data = sm.datasets.spector.load_pandas()
    Xs, ys = data.exog, data.endog
    fits = {loss: MLELogisticRegression(loss=loss).fit(Xs, ys) for loss in ("log_loss", "probit")}
    for loss, m in fits.items():
        print(f"  {loss:<9} loglik {m.loglik_:9.4f}   AIC {m.aic_:8.3f}   BIC {m.bic_:8.3f}   "
              f"({m.n_iter_} Newton iterations)")
    name = min(fits, key=lambda k: fits[k].aic_)
    print(f"best by AIC: {name}; its summary (inverse observed information, Wald z, as statsmodels):")
    table = fits[name].summary()
    try:
        print(table.round(4).to_string())
    except AttributeError:  # text summary without pandas
        print(table)

