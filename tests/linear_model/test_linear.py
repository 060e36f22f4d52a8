"""MLELinearRegression fits against independent references: NIST StRD, scikit-learn,
statsmodels, R's documented examples and scipy.optimize on the same objective."""

import warnings
import zlib

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from skloss import MLELinearRegression
from skloss.linear_model._exact import linprog_fit
from skloss.losses import available_losses, get_loss

sm = pytest.importorskip("statsmodels.api")


def _reg_data(n=400, p=4, seed=0, noise="t"):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    coef = rng.uniform(-1, 1, p)
    e = rng.standard_t(3, n) if noise == "t" else rng.normal(size=n)
    return X, X @ coef + 0.5 + e, rng


def _target(loss_name, rng, eta):
    if loss_name == "poisson":
        return rng.poisson(np.exp(eta)).astype(float)
    if loss_name == "gamma":
        return rng.gamma(2.0, np.exp(eta) / 2.0)
    if loss_name == "tweedie":
        return rng.poisson(np.exp(eta)) * rng.gamma(2.0, 0.5, eta.shape[0])
    if loss_name == "squared_log_error":
        return np.exp(eta + 0.1 * rng.normal(size=eta.shape[0]))
    return eta + rng.standard_t(3, eta.shape[0])


# ----------------------------------------------------------------- NIST Longley

# NIST Statistical Reference Datasets, Linear Regression, "Longley" (higher
# difficulty), certified values: https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml
LONGLEY_COEF = [-3482258.63459582, 15.0618722713733, -0.358191792925910e-01, -2.02022980381683,
                -1.03322686717359, -0.511041056535807e-01, 1829.15146461355]
LONGLEY_SE = [890420.383607373, 84.9149257747669, 0.334910077722432e-01, 0.488399681651699,
              0.214274163161675, 0.226073200069370, 455.478499142212]
LONGLEY_RESID_SD = 304.854073561965
LONGLEY_R2 = 0.995479004577296


def test_longley_certified_values():
    from statsmodels.datasets import longley

    data = longley.load_pandas()
    est = MLELinearRegression().fit(data.exog, data.endog)
    # log relative error >= 10 digits on coefficients and standard errors (the
    # covariance must not go through a squared-condition Cholesky here)
    np.testing.assert_allclose(est.params_, LONGLEY_COEF, rtol=1e-10)
    np.testing.assert_allclose(est.bse_, LONGLEY_SE, rtol=1e-10)
    assert np.sqrt(est.dispersion_) == pytest.approx(LONGLEY_RESID_SD, rel=1e-8)
    assert est.score(data.exog, data.endog) == pytest.approx(LONGLEY_R2, rel=1e-9)
    assert est.param_names_ == ["intercept", "GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]


@pytest.mark.parametrize("power", [0, 1])
def test_wampler_polynomials_exact(power):
    # NIST StRD Wampler 1 and 2: y = sum_k c^k x^k, k = 0..5 on x = 0..20, with
    # c = 1 and c = 0.1 (certified: those coefficients, residuals 0); a degree-5
    # design whose normal equations lose about 13 digits
    c = 10.0 ** -power
    x = np.arange(21.0)
    X = np.vander(x, 6, increasing=True)[:, 1:]
    true = c ** np.arange(1, 6)
    y = 1.0 + X @ true
    est = MLELinearRegression(cov_type=None).fit(X, y)
    np.testing.assert_allclose(est.coef_, true, rtol=2e-8)
    assert est.intercept_ == pytest.approx(1.0, rel=1e-8)


# ----------------------------------------------------------------- scikit-learn


def test_ordinary_least_squares_matches_sklearn_and_statsmodels():
    from sklearn.linear_model import LinearRegression

    X, y, rng = _reg_data(noise="normal")
    sw = rng.uniform(0.5, 2, X.shape[0])
    est = MLELinearRegression().fit(X, y, sample_weight=sw)
    ref = LinearRegression().fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-10)
    wls = sm.WLS(y, sm.add_constant(X), weights=sw).fit()
    np.testing.assert_allclose(est.params_, wls.params, rtol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_alpha_mapping(fit_intercept):
    from sklearn.linear_model import Ridge

    X, y, _ = _reg_data()
    n = X.shape[0]
    ref = Ridge(alpha=3.0, fit_intercept=fit_intercept).fit(X, y)
    est = MLELinearRegression(penalty="l2", alpha=2 * 3.0 / n, fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9)
    assert est.intercept_ == pytest.approx(ref.intercept_, abs=1e-10)


@pytest.mark.parametrize("penalty,l1_ratio", [("l1", 1.0), ("elasticnet", 0.3)])
def test_lasso_elastic_net_alpha_mapping(penalty, l1_ratio):
    from sklearn.linear_model import ElasticNet

    X, y, _ = _reg_data(p=8)
    ref = ElasticNet(alpha=0.05, l1_ratio=l1_ratio, tol=1e-12, max_iter=100000).fit(X, y)
    est = MLELinearRegression(penalty=penalty, alpha=2 * 0.05, l1_ratio=l1_ratio, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
    assert est.intercept_ == pytest.approx(ref.intercept_, abs=1e-8)


@pytest.mark.parametrize("alpha", [0.0, 0.02])
def test_quantile_matches_sklearn_quantile_regressor(alpha):
    from sklearn.linear_model import QuantileRegressor

    X, y, _ = _reg_data(n=300)
    ref = QuantileRegressor(quantile=0.7, alpha=alpha, solver="highs").fit(X, y)
    est = MLELinearRegression(loss=get_loss("quantile", quantile=0.7), penalty="l1" if alpha else None,
                              alpha=alpha).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-7)
    assert est.intercept_ == pytest.approx(ref.intercept_, abs=1e-7)
    assert est.certified_


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_poisson_matches_sklearn(alpha):
    from sklearn.linear_model import PoissonRegressor

    X, _, rng = _reg_data()
    y = _target("poisson", rng, 0.3 * X @ [1, -1, 0.5, 0] + 0.2)
    ref = PoissonRegressor(alpha=alpha, tol=1e-12, max_iter=1000, solver="newton-cholesky").fit(X, y)
    # sklearn: half deviance / n + alpha/2 |w|^2; ours: deviance / n + alpha/2 |w|^2
    est = MLELinearRegression(loss="poisson", penalty="l2", alpha=2 * alpha).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-10)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-7)


def test_gamma_and_tweedie_match_sklearn():
    from sklearn.linear_model import GammaRegressor, TweedieRegressor

    X, _, rng = _reg_data()
    eta = 0.3 * X @ [1, -1, 0.5, 0] + 0.2
    yg = _target("gamma", rng, eta)
    ref = GammaRegressor(alpha=0.0, tol=1e-12, max_iter=1000, solver="newton-cholesky").fit(X, yg)
    est = MLELinearRegression(loss="gamma").fit(X, yg)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7)
    yt = _target("tweedie", rng, eta)
    ref = TweedieRegressor(power=1.5, link="log", alpha=0.0, tol=1e-12, max_iter=1000,
                           solver="newton-cholesky").fit(X, yt)
    est = MLELinearRegression(loss=get_loss("tweedie", power=1.5)).fit(X, yt)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7)


def test_huber_equals_huber_regressor_at_its_scale():
    # HuberRegressor minimises sum(sigma + H_eps(r / sigma) sigma) jointly in
    # (w, sigma); at its fitted sigma its w minimises our Huber objective with
    # delta = eps * sigma (both are sums of Huber functions of r).
    from sklearn.linear_model import HuberRegressor

    X, y, _ = _reg_data(noise="t")
    ref = HuberRegressor(epsilon=1.35, alpha=0.0, tol=1e-14, max_iter=100000).fit(X, y)
    est = MLELinearRegression(loss=get_loss("huber", delta=1.35 * ref.scale_)).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-4)


# ------------------------------------------------------- scipy on the same objective

SMOOTH = ["huber", "pseudo_huber", "log_cosh", "squared_epsilon_insensitive", "squared_log_error",
          "poisson", "gamma", "tweedie"]


@pytest.mark.parametrize("name", SMOOTH)
@pytest.mark.parametrize("penalty", [None, "l2"])
def test_smooth_losses_reach_the_optimum(name, penalty):
    X, _, rng = _reg_data(n=200, p=3, seed=zlib.crc32(name.encode()) % 97)
    eta = 0.3 * X @ [1.0, -1.0, 0.5] + 0.3
    y = _target(name, rng, eta)
    sw = rng.uniform(0.5, 2.0, y.shape[0])
    loss = get_loss(name)
    alpha = 0.1 if penalty else 0.0
    est = MLELinearRegression(loss=loss, penalty=penalty, alpha=alpha).fit(X, y, sample_weight=sw)

    def f(c):
        raw = X @ c[:-1] + c[-1]
        return float(np.average(loss.loss(y, raw), weights=sw)) + 0.5 * alpha * float(c[:-1] @ c[:-1])

    start = np.r_[np.zeros(3), loss.init_raw_prediction(y, sw)]
    ref = optimize.minimize(f, start, method="BFGS", options={"gtol": 1e-11, "maxiter": 10000})
    ours = np.r_[est.coef_, est.intercept_]
    assert est.objective_ == pytest.approx(f(ours), rel=1e-12)
    assert f(ours) <= ref.fun + 1e-12
    np.testing.assert_allclose(ours, ref.x, atol=2e-5)


@pytest.mark.parametrize("name,kw", [("absolute_error", {}), ("quantile", {"quantile": 0.25}),
                                     ("epsilon_insensitive", {"epsilon": 0.5})])
@pytest.mark.parametrize("penalty", [None, "l1"])
def test_piecewise_linear_losses_match_linear_programming(name, kw, penalty):
    X, y, rng = _reg_data(n=250, p=4, seed=3)
    sw = rng.uniform(0.5, 2.0, y.shape[0])
    alpha = 0.02 if penalty else 0.0
    est = MLELinearRegression(loss=get_loss(name, **kw), penalty=penalty, alpha=alpha).fit(X, y, sample_weight=sw)
    coef, _, fun = linprog_fit(X, y, kind=name, sample_weight=sw, l1_reg=alpha, **kw)
    assert est.objective_ == pytest.approx(fun, rel=1e-10)
    np.testing.assert_allclose(est.coef_, coef, atol=1e-7)
    assert est.certified_
    # the HiGHS route of the shared solvers reaches the same optimum
    hi = MLELinearRegression(loss=get_loss(name, **kw), penalty=penalty, alpha=alpha, solver="highs",
                             cov_type=None).fit(X, y, sample_weight=sw)
    assert hi.objective_ == pytest.approx(est.objective_, rel=1e-8)


# ----------------------------------------------------------------- Student-t


def test_student_t_joint_mle_matches_statsmodels_tlinearmodel():
    from statsmodels.miscmodels.tmodel import TLinearModel

    X, _, rng = _reg_data(n=300, p=2, seed=4)
    y = X @ [1.0, -2.0] + 3.0 + 2.0 * rng.standard_t(3, 300)
    est = MLELinearRegression(loss=get_loss("student_t", df=3.0)).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = TLinearModel(y, sm.add_constant(X), fix_df=3.0).fit(disp=0, method="bfgs", maxiter=5000, gtol=1e-10)
    np.testing.assert_allclose(est.params_, ref.params[:3], rtol=1e-6)
    assert est.scale_ == pytest.approx(ref.params[3], rel=1e-6)
    assert est.loglik_ == pytest.approx(ref.llf, rel=1e-9)
    np.testing.assert_allclose(est.bse_, ref.bse[:3], rtol=1e-4)


def test_student_t_joint_optimum_by_scipy():
    X, _, rng = _reg_data(n=200, p=2, seed=5)
    y = X @ [0.5, 1.0] + rng.standard_cauchy(200)
    sw = rng.uniform(0.5, 2.0, 200)
    est = MLELinearRegression(loss=get_loss("student_t", df=1.0), penalty="l2", alpha=0.05).fit(
        X, y, sample_weight=sw)

    def nll(t):
        raw = X @ t[:2] + t[2]
        return -float(np.average(stats.t.logpdf(y, 1.0, raw, np.exp(t[3])), weights=sw)) + 0.025 * t[:2] @ t[:2]

    ours = np.r_[est.coef_, est.intercept_, np.log(est.scale_)]
    ref = optimize.minimize(nll, ours + 0.05, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000, "maxfev": 20000})
    assert nll(ours) <= ref.fun + 1e-10
    np.testing.assert_allclose(ours, ref.x, atol=1e-5)


def test_student_t_resists_outliers():
    X, _, rng = _reg_data(n=300, p=1, seed=6)
    y = 2.0 * X[:, 0] + 1.0 + 0.3 * rng.normal(size=300)
    y[:30] += 50.0
    t_fit = MLELinearRegression(loss="student_t").fit(X, y)
    ols = MLELinearRegression().fit(X, y)
    assert abs(t_fit.intercept_ - 1.0) < 0.1 < abs(ols.intercept_ - 1.0)


# ----------------------------------------------------------------- statsmodels GLM / R


def test_dobson_poisson_aic():
    # R ?glm: counts ~ outcome + treatment, AIC 56.76 (Dobson 1990, p. 93)
    counts = [18, 17, 15, 20, 10, 20, 25, 13, 12]
    frame = pd.DataFrame({"outcome": list("123") * 3, "treatment": list("111222333")})
    X = pd.get_dummies(frame, drop_first=True).astype(float)
    est = MLELinearRegression(loss="poisson").fit(X, counts)
    assert round(est.aic_, 2) == 56.76
    ref = sm.GLM(counts, sm.add_constant(X), family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(est.params_, ref.params, atol=1e-9)
    np.testing.assert_allclose(est.bse_, ref.bse, rtol=1e-7)
    assert est.loglik_ == pytest.approx(ref.llf, rel=1e-12)
    assert est.bic_ == pytest.approx(ref.bic_llf, rel=1e-12)
    # R: coefficients 3.045, -0.4543, -0.2930; residual deviance 5.129 on 4 df
    np.testing.assert_allclose(est.params_[:3], [3.045, -0.4543, -0.2930], atol=6e-4)
    deviance = est.objective_ * len(counts)
    assert deviance == pytest.approx(5.129, abs=1e-3)


def test_gamma_log_link_matches_statsmodels():
    X, _, rng = _reg_data(n=300, p=3, seed=7)
    y = _target("gamma", rng, 0.3 * X @ [1, -1, 0.5] + 1.0)
    est = MLELinearRegression(loss="gamma").fit(X, y)
    ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Gamma(sm.families.links.Log())).fit(tol=1e-12)
    np.testing.assert_allclose(est.params_, ref.params, rtol=1e-8)
    np.testing.assert_allclose(est.bse_, ref.bse, rtol=1e-3)
    assert est.dispersion_ == pytest.approx(ref.scale, rel=1e-8)
    # log-likelihood at the MLE dispersion (statsmodels evaluates llf at the
    # Pearson dispersion, which is not its maximiser)
    assert est.loglik_ == pytest.approx(ref.model.loglike(ref.params, scale=est.scale_), rel=1e-10)
    assert est.loglik_ >= ref.llf


# ----------------------------------------------------------------- Engel QuantReg


@pytest.mark.parametrize("tau", [0.1, 0.5, 0.9])
def test_engel_quantreg(tau):
    from statsmodels.datasets import engel

    data = engel.load_pandas().data
    X, y = data[["income"]], data["foodexp"]
    est = MLELinearRegression(loss=get_loss("quantile", quantile=tau), cov_type="nonrobust").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sm.QuantReg(y, sm.add_constant(X)).fit(q=tau, vcov="iid", p_tol=1e-12, max_iter=5000)
    np.testing.assert_allclose(est.params_, ref.params, rtol=1e-4)
    np.testing.assert_allclose(est.bse_, ref.bse, rtol=1e-4)
    np.testing.assert_allclose(est.conf_int(), ref.conf_int(), rtol=1e-4)


# ----------------------------------------------------------------- offsets / weights


def test_poisson_offset_is_log_exposure():
    rng = np.random.default_rng(8)
    n = 500
    X = rng.normal(size=(n, 2))
    exposure = rng.uniform(0.5, 5.0, n)
    y = rng.poisson(exposure * np.exp(X @ [0.3, -0.2] - 0.5)).astype(float)
    est = MLELinearRegression(loss="poisson").fit(X, y, offset=np.log(exposure))
    ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson(), offset=np.log(exposure)).fit(tol=1e-12)
    np.testing.assert_allclose(est.params_, ref.params, rtol=1e-8)
    np.testing.assert_allclose(est.bse_, ref.bse, rtol=1e-7)
    np.testing.assert_allclose(est.predict(X, offset=np.log(exposure)), ref.fittedvalues, rtol=1e-8)
    np.testing.assert_allclose(est.predict(X), ref.predict(sm.add_constant(X), offset=np.zeros(n)), rtol=1e-8)
    # equivalently: rates y / exposure with weights exposure
    rate = MLELinearRegression(loss="poisson").fit(X, y / exposure, sample_weight=exposure)
    np.testing.assert_allclose(rate.coef_, est.coef_, rtol=1e-8)


@pytest.mark.parametrize("name", ["squared_error", "absolute_error", "huber", "gamma"])
def test_offset_for_any_link_shifts_the_raw_prediction(name):
    X, _, rng = _reg_data(n=200, p=2, seed=9)
    y = _target(name, rng, 0.3 * X @ [1.0, -1.0] + 0.5)
    off = rng.normal(scale=0.3, size=200)
    a = MLELinearRegression(loss=name).fit(X, y, offset=off)
    # the same problem written with an extra feature whose coefficient is fixed at 1:
    # the objective value of a is at most that of any other fit with this offset
    b = MLELinearRegression(loss=name).fit(X, y)
    loss = get_loss(name)
    fa = np.mean(loss.loss(y, X @ a.coef_ + a.intercept_ + off))
    fb = np.mean(loss.loss(y, X @ b.coef_ + b.intercept_ + off))
    assert a.objective_ == pytest.approx(fa, rel=1e-12)
    assert fa <= fb + 1e-12
    np.testing.assert_allclose(a.predict(X, offset=off), loss.inverse_link(X @ a.coef_ + a.intercept_ + off))


@pytest.mark.parametrize("name", available_losses("regression"))
def test_weights_equal_repetitions(name):
    X, _, rng = _reg_data(n=120, p=3, seed=10)
    y = _target(name, rng, 0.3 * X @ [1.0, -1.0, 0.5] + 0.5)
    reps = rng.integers(0, 4, 120)
    w = MLELinearRegression(loss=name).fit(X, y, sample_weight=reps.astype(float))
    r = MLELinearRegression(loss=name).fit(np.repeat(X, reps, axis=0), np.repeat(y, reps))
    assert w.objective_ == pytest.approx(r.objective_, rel=1e-9)
    np.testing.assert_allclose(w.coef_, r.coef_, atol=1e-6)
    if w.loglik_ is not None:
        assert w.loglik_ == pytest.approx(r.loglik_, rel=1e-8)
        assert w.bic_ == pytest.approx(r.bic_, rel=1e-8)
    if w.bse_ is not None and name not in ("absolute_error", "quantile", "epsilon_insensitive"):
        np.testing.assert_allclose(w.bse_, r.bse_, rtol=1e-5)


def test_rank_deficient_least_squares_is_the_minimum_norm_solution():
    from sklearn.linear_model import LinearRegression

    X, y, _ = _reg_data(n=30, p=4, seed=11)
    X = np.hstack([X, X[:, :2] + X[:, 2:3]])  # two exactly collinear columns
    est = MLELinearRegression(cov_type=None).fit(X, y)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-9)
    np.testing.assert_allclose(est.predict(X), ref.predict(X), atol=1e-9)


def test_many_sparse_columns_use_the_shared_solvers():
    import scipy.sparse as sp
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(12)
    X = sp.random(400, 3500, density=0.003, random_state=12, format="csr")
    y = rng.normal(size=400)
    est = MLELinearRegression(penalty="l2", alpha=2 * 1.0 / 400, cov_type=None, tol=1e-12).fit(X, y)
    assert est.solver_ != "closed-form"
    ref = Ridge(alpha=1.0, solver="sparse_cg", tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    q = MLELinearRegression(loss="absolute_error", cov_type=None).fit(X[:, :3100], y)
    assert q.solver_.endswith("highs")


def test_student_t_interpolating_fit_warns_that_no_maximum_exists():
    # 15 samples, 31 coefficients: the residuals vanish and the Student-t
    # likelihood is unbounded as the scale goes to 0
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(15, 30)), rng.normal(size=15)
    with pytest.warns(ConvergenceWarning, match="interpolates the data.*no maximum"):
        est = MLELinearRegression(loss="student_t").fit(X, y)
    assert est.scale_ < 1e-8
    np.testing.assert_allclose(est.predict(X), y, atol=1e-6)


def test_huber_with_few_residuals_inside_delta_converges():
    # unscaled targets: almost every residual lies beyond delta, the Hessian comes
    # from a handful of rows and plain Newton steps overshoot; the damped
    # (Levenberg-Marquardt) Newton steps reach the optimum to tol
    from scipy.optimize import minimize
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.estimator_checks import _regression_dataset

    from skloss.linear_model._objective import LinearObjective

    X, y = _regression_dataset()
    X, y = X[:50], y[:50]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MLELinearRegression(loss="huber", cov_type=None).fit(X, y)
    assert est.converged_
    obj = LinearObjective(get_loss("huber"), X, y)
    ref = minimize(lambda c: obj.value_grad(c), np.zeros(obj.n_coef), jac=True, method="BFGS",
                   options={"gtol": 1e-10})
    assert est.objective_ <= ref.fun * (1 + 1e-12)
    np.testing.assert_allclose(np.append(est.coef_, est.intercept_), ref.x, rtol=1e-5, atol=1e-6)
