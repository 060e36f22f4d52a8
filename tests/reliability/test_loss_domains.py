"""Issue 10 item 8: the public loss objects validate ``y`` against the loss's domain
(before: ``log_loss`` with ``y = 2`` returned a negative loss, Poisson with ``y = -1``
returned 4.0, Gamma with ``y = -1`` NaN), and ``MLEDistribution.score_samples`` is
``-inf`` outside the support (before: gamma at -1 gave NaN, Poisson at 2.5 a finite
value).

Every built-in loss is checked through what it declares (``y_domain``, its
likelihood's ``support``); the points outside are derived from those intervals,
and the references are the definitions: a value outside the support has density 0
(log-density ``-inf``), and ``scipy.stats`` for the values inside.
"""

import math

import numpy as np
import pytest
from scipy import stats

from skloss.linear_model import MLEDistribution
from skloss.losses import available_losses, get_loss

METHODS = ["loss", "gradient", "hessian", "loss_gradient", "gradient_hessian"]


def _outside(interval, classification=False, integer=True):
    """Points outside ``interval``: beyond its bounds, and between integers when it
    is integer-valued and ``integer``.  A binary classification target lies in
    [0, 1] (soft targets are accepted by the public methods)."""
    if classification:
        return [2.0, -1.0]
    pts = []
    if not math.isinf(interval.low):
        pts.append(interval.low - 1.0)
        if not interval.low_inclusive:
            pts.append(interval.low)
    if not math.isinf(interval.high):
        pts.append(interval.high + 1.0)
    if interval.integer and integer:
        pts.append(max(interval.low, 0.0) + 2.5)
    return pts


def _cases():
    cases = []
    for name in available_losses():
        loss = get_loss(name)
        # (the public methods check the bounds: one reduction each, no integer test)
        for y in _outside(loss.y_domain, loss.task == "classification", integer=False):
            for method in METHODS:
                if "hessian" in method and not loss.has_hessian:
                    continue
                cases.append((name, y, method))
    return cases


def test_the_issue_cases_are_covered():
    names = {(name, y) for name, y, _ in _cases()}
    assert {("log_loss", 2.0), ("poisson", -1.0), ("gamma", -1.0)} <= names


@pytest.mark.parametrize("name, y, method", _cases())
def test_public_loss_methods_reject_a_target_outside_the_domain(name, y, method):
    loss = get_loss(name)
    inside = 0.0 if loss.task == "classification" else float(np.asarray(loss.inverse_link(np.zeros(1)))[0])
    assert loss.y_domain.contains([inside])
    y_true = np.array([inside, y, inside])
    with pytest.raises(ValueError) as info:
        getattr(loss, method)(y_true, np.zeros(3))
    assert repr(name) in str(info.value), str(info.value)
    # the valid targets alone are accepted and give finite values
    values = getattr(loss, method)(y_true[[0, 2]], np.zeros(2))
    for v in values if isinstance(values, tuple) else (values,):
        assert np.all(np.isfinite(v))


def _families():
    return [name for name in available_losses(task="regression") if get_loss(name).likelihood is not None]


def _sample(name, n=300):
    rng = np.random.RandomState(0)
    loss = get_loss(name)
    y = np.asarray(loss.inverse_link(0.7 + 0.4 * rng.standard_normal(n)), dtype=np.float64)
    if loss.likelihood.support.integer:
        y = rng.poisson(y).astype(np.float64)
    return y[:, None]


@pytest.mark.parametrize("name", _families())
def test_distribution_score_samples_is_minus_inf_outside_the_support(name):
    support = get_loss(name).likelihood.support
    y = _sample(name)
    est = MLEDistribution(loss=name).fit(y)
    outside = _outside(support)
    with np.errstate(all="raise"):
        inside_values = est.score_samples(y[:5])
    assert np.all(np.isfinite(inside_values))
    if not outside:
        # the real line: every finite value has a finite log-density
        assert np.all(np.isfinite(est.score_samples(np.array([[-1e3], [1e3]]))))
        return
    out = est.score_samples(np.array(outside)[:, None])
    assert out.tolist() == [-np.inf] * len(outside), (name, outside, out)


def test_poisson_score_samples_inside_the_support_is_the_pmf():
    y = _sample("poisson")
    est = MLEDistribution(loss="poisson").fit(y)
    out = est.score_samples(np.array([[0.0], [2.0], [2.5], [-1.0]]))
    ref = stats.poisson(est.location_[0]).logpmf([0, 2])
    np.testing.assert_allclose(out[:2], ref, rtol=1e-12)
    assert out[2] == -np.inf and out[3] == -np.inf
