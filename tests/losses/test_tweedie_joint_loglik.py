"""The Tweedie likelihood's joint dispersion MLE and log-likelihood (one series
pass) against the separate evaluation: ``mle_scale`` then ``loglik`` at it."""

import numpy as np
import pytest

from skloss import MLELinearRegression
from skloss.losses import get_loss


def _data(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    mu = np.exp(0.3 + X @ np.array([0.4, -0.2, 0.1, 0.0]))
    lik = get_loss("tweedie", power=1.5).likelihood
    y = lik.sample(np.log(mu), scale=1.3, random_state=seed)
    return X, y


@pytest.mark.parametrize("weighted", [False, True])
def test_joint_equals_separate(weighted):
    X, y = _data()
    lik = get_loss("tweedie", power=1.5).likelihood
    r = np.log(np.maximum(y.mean(), 1e-3)) + 0.1 * X[:, 0]
    sw = np.random.default_rng(1).uniform(0.5, 2.0, y.size) if weighted else None
    scale, loglik = lik.mle_scale_loglik(y, r, sw)
    assert scale == pytest.approx(lik.mle_scale(y, r, sw), rel=1e-12)
    assert loglik == pytest.approx(lik.loglik(y, r, scale, sw), rel=1e-11)
    # the maximiser: the log-likelihood is lower on either side
    for f in (0.99, 1.01):
        assert lik.loglik(y, r, f * scale, sw) < loglik


@pytest.mark.parametrize("power", [0, 1, 2, 3])
def test_other_powers_defer_to_the_separate_evaluation(power):
    lik = get_loss("tweedie", power=power).likelihood
    y = np.array([0.5, 1.0, 2.0, 3.0]) if power != 1 else np.array([0.0, 1.0, 2.0, 3.0])
    r = np.zeros(4) if power == 0 else np.log(np.full(4, 1.5))
    scale, loglik = lik.mle_scale_loglik(y, r)
    assert loglik is None
    assert scale == lik.mle_scale(y, r)


def test_fit_reports_the_loglik_at_its_scale():
    X, y = _data(2)
    est = MLELinearRegression(loss=get_loss("tweedie", power=1.5)).fit(X, y)
    raw = X @ est.coef_ + est.intercept_
    lik = est.loss_.likelihood if hasattr(est, "loss_") else get_loss("tweedie", power=1.5).likelihood
    assert est.loglik_ == pytest.approx(lik.loglik(y, raw, est.scale_), rel=1e-10)
