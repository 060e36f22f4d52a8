"""The ``python -m skloss`` section of MLELinearRegression (registered in skloss._demo)."""

import time
import warnings

import numpy as np

__all__ = ["regression_section"]


def regression_section():
    """A grid search over regression losses on the diabetes data, the noise
    family chosen by AIC with the summary of the winner, and exact quantile
    regression on Engel's food-expenditure data."""
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import GridSearchCV, KFold

    from skloss import MLELinearRegression
    from skloss.utils._display import heading as _heading
    from skloss.losses import get_loss

    _heading("MLELinearRegression: one grid search over regression losses (diabetes)")
    data = load_diabetes(as_frame=True)
    X, y = data.data, data.target
    grid = [
        {"loss": ["squared_error", "absolute_error", "log_cosh", "poisson", "gamma"]},
        {"loss": [get_loss("huber")], "loss__delta": [20.0, 50.0]},
        {"loss": [get_loss("student_t")], "loss__df": [3.0, 10.0]},
        {"loss": [get_loss("tweedie")], "loss__power": [1.5, 3.0]},
    ]
    search = GridSearchCV(MLELinearRegression(cov_type=None), grid, cv=KFold(5, shuffle=True, random_state=0),
                          scoring={"R2": "r2", "MAE": "neg_mean_absolute_error"}, refit="R2")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    res = search.cv_results_
    print(f"{X.shape[0]} patients, {X.shape[1]} features; {len(res['params'])} candidates x 5 folds "
          f"in {time.perf_counter() - t0:.1f} s (each fit exact)")
    print(f"  {'loss':<32}{'CV R^2':>8}{'CV MAE':>9}")
    order = np.argsort(-res["mean_test_R2"])
    for i in order:
        params = res["params"][i]
        loss = params["loss"]
        name = loss if isinstance(loss, str) else loss.name
        extra = {k.split("__")[1]: v for k, v in params.items() if "__" in k}
        label = name + ("" if not extra else "(" + ", ".join(f"{k}={v:g}" for k, v in extra.items()) + ")")
        print(f"  {label:<32}{res['mean_test_R2'][i]:>8.4f}{-res['mean_test_MAE'][i]:>9.2f}")

    _heading("Which noise? The likelihood losses compared by AIC, then the winner's summary")
    fits = {}
    for loss in ["squared_error", "absolute_error", get_loss("student_t", df=5.0), "gamma",
                 get_loss("tweedie", power=3.0)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = MLELinearRegression(loss=loss).fit(X, y)
        power = m.loss_.get_params().get("power")
        fits[m.loss_.name + ("" if power is None else f"(power={power:g})")] = m
    print(f"  {'loss':<22}{'likelihood':<20}{'scale_':>10}{'loglik':>11}{'AIC':>10}{'BIC':>10}")
    for name, m in fits.items():
        lik = type(m.loss_.likelihood).__name__
        print(f"  {name:<22}{lik:<20}{m.scale_:>10.4g}{m.loglik_:>11.2f}{m.aic_:>10.2f}{m.bic_:>10.2f}")
    best = min(fits, key=lambda k: fits[k].aic_)
    print(f"best by AIC: {best} (k counts the coefficients and the scale); its summary:")
    table = fits[best].summary()
    try:
        print(table.round(4).to_string())
    except AttributeError:  # text summary without pandas
        print(table)

    _heading("Exact quantile regression: Engel's food expenditure (statsmodels)")
    try:
        from statsmodels.datasets import engel
    except ImportError:  # pragma: no cover
        print("(statsmodels is not installed)")
        return
    df = engel.load_pandas().data
    print("  food expenditure on household income; interior point + exact crossover, QuantReg's")
    print("  kernel (Hall-Sheather) standard errors")
    print(f"  {'quantile':>8}{'intercept':>12}{'income':>10}{'(se)':>9}{'ms':>8}  certified")
    for tau in (0.1, 0.25, 0.5, 0.75, 0.9):
        t0 = time.perf_counter()
        m = MLELinearRegression(loss=get_loss("quantile", quantile=tau)).fit(df[["income"]], df["foodexp"])
        ms = 1e3 * (time.perf_counter() - t0)
        print(f"  {tau:>8.2f}{m.intercept_:>12.4f}{m.coef_[0]:>10.4f}{m.bse_[1]:>9.4f}{ms:>8.1f}  {m.certified_}")
    print("  (Koenker 2005: median 81.4823 + 0.5602 income)")
