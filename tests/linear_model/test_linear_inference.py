"""Inference conventions of MLELinearRegression against statsmodels and direct formulas."""

import warnings

import numpy as np
import pytest
from scipy import stats

from skloss import MLELinearRegression
from skloss.losses import get_loss

sm = pytest.importorskip("statsmodels.api")


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, rng


def test_ols_likelihood_conventions_against_statsmodels():
    X, rng = _data()
    y = X @ [1.0, -1.0, 0.5] + rng.normal(size=300)
    est = MLELinearRegression().fit(X, y)
    ols = sm.OLS(y, sm.add_constant(X)).fit()
    # llf at sigma^2 = SSR / n (the MLE) in both
    assert est.loglik_ == pytest.approx(ols.llf, rel=1e-12)
    assert est.scale_ == pytest.approx(np.sqrt(ols.ssr / 300), rel=1e-12)
    # statsmodels counts k_exog = 4 parameters; we also count sigma (as R's AIC(lm))
    assert est.aic_ == pytest.approx(ols.aic + 2, rel=1e-12)
    assert est.bic_ == pytest.approx(ols.bic + np.log(300), rel=1e-12)
    # textbook standard errors, t statistics and intervals with n - k df
    np.testing.assert_allclose(est.bse_, ols.bse, rtol=1e-10)
    assert est.dispersion_ == pytest.approx(ols.scale, rel=1e-12)
    np.testing.assert_allclose(est.conf_int(0.1), ols.conf_int(0.1), rtol=1e-10)
    table = est.summary()
    np.testing.assert_allclose(table["t"], ols.tvalues, rtol=1e-10)
    np.testing.assert_allclose(table["P>|t|"], ols.pvalues, rtol=1e-8, atol=1e-300)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_ols_robust_covariance_against_statsmodels(cov_type):
    X, rng = _data()
    y = X @ [1.0, -1.0, 0.5] + rng.normal(size=300) * (1 + np.abs(X[:, 0]))
    est = MLELinearRegression(cov_type=cov_type).fit(X, y)
    ols = sm.OLS(y, sm.add_constant(X)).fit(cov_type=cov_type)
    np.testing.assert_allclose(est.covariance_, ols.cov_params(), rtol=1e-9)
    assert not est.use_t_  # robust covariances use the normal reference, as statsmodels


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_poisson_covariance_against_statsmodels(cov_type):
    X, rng = _data()
    y = rng.poisson(np.exp(0.3 * X @ [1.0, -1.0, 0.5] + 0.5)).astype(float)
    est = MLELinearRegression(loss="poisson", cov_type=cov_type).fit(X, y)
    ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit(tol=1e-12, cov_type=cov_type)
    np.testing.assert_allclose(est.covariance_, ref.cov_params(), rtol=1e-7, atol=1e-12)
    assert est.dispersion_ in (1.0, None)
    np.testing.assert_allclose(est.conf_int(), ref.conf_int(), rtol=1e-7)


def test_gamma_robust_covariance_uses_the_expected_information():
    # R's sandwich::vcovHC(glm, "HC0") form: bread (X^T W X)^-1 with the IRLS
    # weights, meat sum u_i^2 x x^T with the score residuals u = (y - mu) / mu
    X, rng = _data()
    mu = np.exp(0.3 * X @ [1.0, -1.0, 0.5] + 1.0)
    y = rng.gamma(2.0, mu / 2.0)
    est = MLELinearRegression(loss="gamma", cov_type="HC0").fit(X, y)
    Xa = np.column_stack([np.ones(300), X])
    muhat = np.exp(Xa @ est.params_)
    u = (y - muhat) / muhat
    bread = np.linalg.inv(Xa.T @ Xa)  # W = 1 for the gamma log link
    ref = bread @ (Xa.T * u**2) @ Xa @ bread
    np.testing.assert_allclose(est.covariance_, ref, rtol=1e-8)


@pytest.mark.parametrize("name", ["huber", "log_cosh", "pseudo_huber"])
def test_m_estimator_sandwich_formula(name):
    X, rng = _data()
    y = X @ [1.0, -1.0, 0.5] + rng.standard_t(2, 300)
    loss = get_loss(name)
    for cov_type in ("HC0", "HC1", "nonrobust"):
        est = MLELinearRegression(loss=loss, cov_type=cov_type).fit(X, y)
        Xa = np.column_stack([np.ones(300), X])
        raw = Xa @ est.params_
        g, h = loss.gradient_hessian(y, raw)
        A = (Xa.T * h) @ Xa
        B = (Xa.T * g**2) @ Xa
        Ainv = np.linalg.inv(A)
        if cov_type == "nonrobust":
            ref = (g @ g / (300 - 4)) / (h.sum() / 300) * Ainv
        else:
            ref = Ainv @ B @ Ainv * (300 / 296 if cov_type == "HC1" else 1.0)
        np.testing.assert_allclose(est.covariance_, ref, rtol=1e-8)
    assert MLELinearRegression(loss=loss).fit(X, y).cov_type_ == "HC0"


def test_quantile_robust_covariance_matches_quantreg_at_the_median():
    from statsmodels.datasets import engel

    data = engel.load_pandas().data
    X, y = data[["income"]], data["foodexp"]
    est = MLELinearRegression(loss="quantile").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sm.QuantReg(y, sm.add_constant(X)).fit(q=0.5, p_tol=1e-12, max_iter=5000)
    assert est.cov_type_ == "HC0"
    np.testing.assert_allclose(est.bse_, ref.bse, rtol=1e-4)
    # the published statsmodels example: std err 14.634 and 0.013
    assert est.bse_[0] == pytest.approx(14.634, abs=1e-3)
    table = est.summary()
    np.testing.assert_allclose(table["P>|t|"], ref.pvalues, rtol=1e-4, atol=1e-300)


def test_student_t_covariance_is_the_inverse_joint_information():
    X, rng = _data(n=200)
    y = X @ [1.0, -1.0, 0.5] + 0.5 * rng.standard_t(4, 200)
    est = MLELinearRegression(loss=get_loss("student_t", df=4.0)).fit(X, y)
    Xa = np.column_stack([np.ones(200), X])

    def nll(theta):
        return -stats.t.logpdf(y, 4.0, Xa @ theta[:4], theta[4]).sum()

    theta = np.r_[est.params_, est.scale_]
    eps = 1e-4
    H = np.empty((5, 5))
    for i in range(5):
        for j in range(5):
            ei, ej = np.eye(5)[i] * eps, np.eye(5)[j] * eps
            H[i, j] = (nll(theta + ei + ej) - nll(theta + ei - ej) - nll(theta - ei + ej) + nll(theta - ei - ej)) / (4 * eps * eps)
    np.testing.assert_allclose(est.covariance_, np.linalg.inv(H)[:4, :4], rtol=1e-4)


def test_aic_counts_the_scale_for_each_family():
    X, rng = _data()
    eta = 0.3 * X @ [1.0, -1.0, 0.5] + 0.5
    cases = {
        "squared_error": (eta + rng.normal(size=300), 5),
        "absolute_error": (eta + rng.laplace(size=300), 5),
        "poisson": (rng.poisson(np.exp(eta)).astype(float), 4),
        "gamma": (rng.gamma(2.0, np.exp(eta) / 2), 5),
        "student_t": (eta + rng.standard_t(3, 300), 5),
    }
    for name, (y, k) in cases.items():
        est = MLELinearRegression(loss=name).fit(X, y)
        assert est.aic_ == pytest.approx(-2 * est.loglik_ + 2 * k), name
        assert est.bic_ == pytest.approx(-2 * est.loglik_ + np.log(300) * k), name
        lik = est.loss_.likelihood
        raw = X @ est.coef_ + est.intercept_
        assert est.loglik_ == pytest.approx(lik.loglik(y, raw, est.scale_), rel=1e-12)


def test_no_likelihood_means_no_loglik():
    X, rng = _data()
    y = X @ [1.0, -1.0, 0.5] + rng.normal(size=300)
    est = MLELinearRegression(loss="huber").fit(X, y)
    assert est.loglik_ is None and est.aic_ is None and est.scale_ is None
    assert est.bse_ is not None


def test_cov_type_none_and_missing_covariance():
    X, rng = _data()
    y = X @ [1.0, -1.0, 0.5] + rng.normal(size=300)
    est = MLELinearRegression(cov_type=None).fit(X, y)
    assert est.covariance_ is None
    with pytest.raises(ValueError, match="cov_type=None"):
        est.summary()


def test_penalised_inference_warns():
    X, rng = _data()
    y = X @ [1.0, -1.0, 0.5] + rng.normal(size=300)
    est = MLELinearRegression(penalty="l2", alpha=0.1).fit(X, y)
    with pytest.warns(UserWarning, match="ignore the penalty"):
        est.summary()
    with pytest.warns(UserWarning, match="ignore the penalty"):
        MLELinearRegression(penalty="l2", alpha=0.1, cov_type="nonrobust").fit(X, y)


def test_summary_labels_and_info():
    X, rng = _data()
    y = rng.poisson(np.exp(0.3 * X @ [1.0, -1.0, 0.5])).astype(float)
    est = MLELinearRegression(loss="poisson").fit(X, y)
    table = est.summary(alpha=0.1)
    assert list(table.columns) == ["coef", "std err", "z", "P>|z|", "[0.05", "0.95]"]
    assert list(table.index) == ["intercept", "x0", "x1", "x2"]
    info = table.attrs["info"]
    assert info["loglik"] == est.loglik_ and info["aic"] == est.aic_
    np.testing.assert_allclose(table[["[0.05", "0.95]"]].to_numpy(), est.conf_int(0.1))
