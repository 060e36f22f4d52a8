"""One inference stack: every MLE estimator reports ``params_``, ``bse_``,
``conf_int()`` and ``summary()`` of the same shape, with the covariance
convention chosen from the loss's declared capabilities.

References: statsmodels (OLS, GLM, QuantReg) on the intercept-only model for
MLEDistribution.
"""

import numpy as np
import pytest
import statsmodels.api as sm

from skloss import MLEDistribution, MLELinearRegression, MLELogisticRegression

COLUMNS = 6  # coef, std err, z / t, p-value, lower, upper


def _check_shapes(est):
    k = len(est.params_)
    assert len(est.param_names_) == k
    assert np.shape(est.bse_) == (k,)
    assert np.shape(est.covariance_) == (k, k)
    ci = est.conf_int()
    assert np.shape(ci) == (k, 2)
    assert np.all(ci[:, 0] < est.params_) and np.all(est.params_ < ci[:, 1])
    table = est.summary()
    assert table.shape == (k, COLUMNS)
    assert list(table.index) == list(est.param_names_)
    np.testing.assert_allclose(table.iloc[:, 1], est.bse_, rtol=1e-12)
    np.testing.assert_allclose(table.iloc[:, 4:].to_numpy(), ci, rtol=1e-12)


def test_every_mle_estimator_reports_the_same_inference_shape():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, -1.0, 0.5] + rng.normal(size=300)
    _check_shapes(MLELinearRegression().fit(X, y))
    _check_shapes(MLELinearRegression("huber").fit(X, y))
    _check_shapes(MLELinearRegression("quantile").fit(X, y))
    _check_shapes(MLELogisticRegression().fit(X, (y > 0).astype(int)))
    _check_shapes(MLELogisticRegression("hinge").fit(X, (y > 0).astype(int)))
    _check_shapes(MLEDistribution().fit(y[:, None]))
    _check_shapes(MLEDistribution("student_t").fit(y[:, None]))


def test_distribution_inference_matches_statsmodels_intercept_only_models():
    rng = np.random.default_rng(1)
    n = 400
    ones = np.ones((n, 1))
    x = rng.normal(2.0, 1.5, n)
    d = MLEDistribution().fit(x[:, None])
    ref = sm.OLS(x, ones).fit()
    np.testing.assert_allclose(d.bse_, ref.bse, rtol=1e-10)
    np.testing.assert_allclose(d.conf_int(), ref.conf_int(), rtol=1e-10)

    counts = rng.poisson(3.0, n).astype(float)
    d = MLEDistribution("poisson").fit(counts[:, None])
    ref = sm.GLM(counts, ones, family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(d.params_, ref.params, rtol=1e-8)
    np.testing.assert_allclose(d.bse_, ref.bse, rtol=1e-6)  # (statsmodels' IRLS tolerance)

    pos = rng.gamma(2.0, 1.5, n)
    d = MLEDistribution("gamma").fit(pos[:, None])
    ref = sm.GLM(pos, ones, family=sm.families.Gamma(sm.families.links.Log())).fit()
    np.testing.assert_allclose(d.params_, ref.params, rtol=1e-8)
    np.testing.assert_allclose(d.bse_, ref.bse, rtol=1e-6)

    odd = x[:-1]  # (an odd count: the median is unique)
    d = MLEDistribution("quantile").fit(odd[:, None])
    ref = sm.QuantReg(odd, ones[:-1]).fit(q=0.5)
    np.testing.assert_allclose(d.params_, ref.params, atol=1e-6)  # (QuantReg's IRLS stops near the median)
    np.testing.assert_allclose(d.bse_, ref.bse, rtol=0.05)  # (sd of the residuals vs of y: see _linear_inference)


def test_distribution_without_a_convention_says_so():
    # a likelihood loss always has one; check the message path with a custom loss
    # that declares a likelihood but has neither a Hessian nor pieces
    from skloss.losses import Laplace, make_loss

    def ab(y, r):
        return abs(r - y)

    def ab_g(y, r):
        return 1.0 if r > y else (-1.0 if r < y else 0.0)

    d = MLEDistribution(make_loss(ab, ab_g, is_smooth=False, likelihood=Laplace())).fit(
        np.random.default_rng(2).normal(size=(50, 1)))
    assert d.covariance_ is None
    with pytest.raises(ValueError, match="No covariance"):
        d.summary()
