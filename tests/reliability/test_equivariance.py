"""Equivariance of the unpenalised MLE to the units of the data (issue 10 item 1), for
every smooth built-in loss, every solver that applies, dense and CSR ``X``, and
``MLEDistribution``.

The losses and solvers are chosen by what they declare, never by a list of names:
``available_losses()`` filtered on ``is_smooth`` and ``task``; a solver applies when
:func:`resolve_solver` accepts it for the loss (and the loss's likelihood does not
declare ``joint_scale``, whose coefficients and scale are fitted jointly by one
route); a loss is equivariant to the units of ``y`` when its value is homogeneous
under ``y -> c y`` with a raw prediction mapped affinely by its link (checked
numerically on the loss object below), or when its scale is estimated jointly.

References: the fit on the unscaled data.  ``coef(c X) = coef(X) / c`` with the
intercept unchanged is a theorem of the unpenalised MLE (the model ``x . w`` is
unchanged), as is ``raw(c y) = T_c(raw(y))`` for a homogeneous loss and the shift
``loglik(c y) = loglik(y) - n log c`` of a continuous family closed under scaling.
"""

import functools
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification

from skloss.linear_model import MLEDistribution, MLELinearRegression, MLELogisticRegression
from skloss.linear_model._solver_select import SOLVERS, resolve_solver
from skloss.losses import available_losses, get_loss

SCALES = [1e-9, 1e-6, 1e6, 1e9]
RTOL = 1e-6


def _smooth(task):
    return [name for name in available_losses(task=task) if get_loss(name).is_smooth]


def _joint_scale(loss):
    return bool(getattr(loss.likelihood, "joint_scale", False))


def _solvers(name, n_outputs=1, sparse=False):
    """The explicit solvers that accept ``loss`` (by resolve_solver), plus "auto"."""
    loss = get_loss(name)
    if _joint_scale(loss):
        return ["auto", "lbfgs"]
    out = ["auto"]
    for solver in SOLVERS:
        if solver == "auto":
            continue
        try:
            resolve_solver(solver, loss, n_outputs=n_outputs, n_coef=5 * n_outputs, sparse=sparse)
        except ValueError:
            continue
        out.append(solver)
    return out


def _cases(task, n_outputs=1, sparse=False):
    return [(name, solver) for name in _smooth(task) for solver in _solvers(name, n_outputs, sparse)]


# --------------------------------------------------------------------- data
@functools.lru_cache(maxsize=None)
def _data(name, n_classes=2, n=300, p=4, seed=0):
    loss = get_loss(name)
    if loss.task == "classification":
        X, y = make_classification(n_samples=n, n_features=p, n_informative=3, n_redundant=0,
                                   n_classes=n_classes, n_clusters_per_class=1, flip_y=0.2,
                                   class_sep=0.5, random_state=seed)
        return X, y
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, p))
    eta = X @ np.array([0.4, -0.3, 0.2, 0.1])[:p] + 0.5
    # targets in the loss's domain: the inverse link of a noisy linear predictor
    y = np.asarray(loss.inverse_link(eta + 0.5 * rng.standard_t(4, size=n)), dtype=np.float64)
    assert loss.y_domain.contains(y)
    return X, y


def _estimator(loss):
    return MLELogisticRegression if loss.task == "classification" else MLELinearRegression


def _fit(name, solver, X, y):
    est = _estimator(get_loss(name))(loss=name, solver=solver, cov_type=None)
    with warnings.catch_warnings():
        # any warning (RuntimeWarning, ConvergenceWarning ...) is a failure here
        warnings.simplefilter("error")
        est.fit(X, y)
    assert est.converged_
    return est


@functools.lru_cache(maxsize=None)
def _base(name, solver, n_classes=2):
    X, y = _data(name, n_classes)
    est = _fit(name, solver, X, y)
    return est.coef_.copy(), np.atleast_1d(est.intercept_).copy()


# ---------------------------------------------------------- units of X
@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("name, solver", _cases("classification") + _cases("regression"))
def test_smooth_mle_is_equivariant_to_the_units_of_x(name, solver, c):
    X, y = _data(name)
    coef, intercept = _base(name, solver)
    est = _fit(name, solver, X * c, y)
    assert est.n_iter_ > 0
    np.testing.assert_allclose(est.coef_ * c, coef, rtol=RTOL, atol=1e-9 * np.abs(coef).max())
    np.testing.assert_allclose(np.atleast_1d(est.intercept_), intercept, rtol=RTOL, atol=1e-9)


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("name, solver", _cases("classification", sparse=True) + _cases("regression", sparse=True))
def test_smooth_mle_on_csr_is_equivariant_to_the_units_of_x(name, solver, c):
    X, y = _data(name)
    coef, intercept = _base(name, solver)  # the dense fit: CSR must give the same model
    est = _fit(name, solver, sp.csr_matrix(X * c), y)
    np.testing.assert_allclose(est.coef_ * c, coef, rtol=RTOL, atol=1e-9 * np.abs(coef).max())
    np.testing.assert_allclose(np.atleast_1d(est.intercept_), intercept, rtol=RTOL, atol=1e-9)


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("name, solver", _cases("classification", n_outputs=3))
def test_multiclass_mle_is_equivariant_to_the_units_of_x(name, solver, c):
    X, y = _data(name, 3)
    coef, intercept = _base(name, solver, 3)
    est = _fit(name, solver, X * c, y)
    assert est.coef_.shape == (3, X.shape[1])
    np.testing.assert_allclose(est.coef_ * c, coef, rtol=RTOL, atol=1e-9 * np.abs(coef).max())
    np.testing.assert_allclose(est.intercept_, intercept, rtol=RTOL, atol=1e-9)


# ---------------------------------------------------------- units of y
def _raw_map(loss, c):
    """``T_c`` with ``inverse_link(T_c(raw)) = c inverse_link(raw)`` as ``(slope, shift)``
    when it is affine, else None."""
    raw = np.array([-1.0, -0.3, 0.0, 0.4, 1.1])
    with np.errstate(all="ignore"):
        mapped = np.asarray(loss.link(c * np.asarray(loss.inverse_link(raw), dtype=np.float64)),
                            dtype=np.float64)
    if not np.all(np.isfinite(mapped)):
        return None
    slope = (mapped[-1] - mapped[0]) / (raw[-1] - raw[0])
    shift = mapped[2]
    if not np.allclose(mapped, slope * raw + shift, rtol=1e-10, atol=1e-10 * max(1.0, abs(shift))):
        return None
    return slope, shift


def _homogeneous_in_y(name):
    """Whether ``loss(c y, T_c(raw)) - loss(c y, T_c(raw0)) = a(c) (loss(y, raw) - loss(y, raw0))``
    with one ``a(c)`` for every sample: then the objective in the units ``c y`` is a
    positive multiple of the original one plus a constant, and the minimiser maps by T_c."""
    loss = get_loss(name)
    X, y = _data(name)
    rng = np.random.RandomState(3)
    base_raw = np.asarray(loss.link(np.asarray(loss.inverse_link(np.zeros(1)))), dtype=np.float64)
    for c in (1e-3, 1e3):
        tm = _raw_map(loss, c)
        if tm is None:
            return False
        raw = rng.normal(scale=2.0, size=y.size) + base_raw
        raw0 = np.full(y.size, 0.3) + base_raw
        slope, shift = tm
        d1 = loss.loss(y, raw) - loss.loss(y, raw0)
        d2 = loss.loss(c * y, slope * raw + shift) - loss.loss(c * y, slope * raw0 + shift)
        keep = np.abs(d1) > 1e-6 * np.abs(d1).max()
        ratio = d2[keep] / d1[keep]
        if not (ratio.min() > 0 and np.allclose(ratio, np.median(ratio), rtol=1e-7)):
            return False
    return True


def _y_cases():
    cases = []
    for name in _smooth("regression"):
        loss = get_loss(name)
        if _homogeneous_in_y(name) or (_joint_scale(loss) and _raw_map(loss, 10.0) is not None):
            cases += [(name, solver) for solver in _solvers(name)]
    return cases


def test_the_capability_check_finds_homogeneous_and_other_losses():
    # the selection below must neither be empty nor take every loss (e.g. a loss with
    # a threshold in the units of y, or a log1p link, is not equivariant)
    smooth = _smooth("regression")
    found = {name for name, _ in _y_cases()}
    assert 3 <= len(found) < len(smooth)


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("name, solver", _y_cases())
def test_smooth_mle_is_equivariant_to_the_units_of_y(name, solver, c):
    loss = get_loss(name)
    X, y = _data(name)
    coef, intercept = _base(name, solver)
    slope, shift = _raw_map(loss, c)
    est = _fit(name, solver, X, y * c)
    np.testing.assert_allclose(est.coef_, slope * coef, rtol=RTOL, atol=1e-9 * abs(slope) * np.abs(coef).max())
    np.testing.assert_allclose(np.atleast_1d(est.intercept_), slope * intercept + shift, rtol=RTOL,
                               atol=1e-7 * max(1.0, abs(slope * intercept[0]), abs(shift)))
    if getattr(est, "scale_", None) is not None and np.isclose(slope, c):
        # a scale in the units of y (identity link) moves with them
        base_scale = _estimator(loss)(loss=name, solver=solver, cov_type=None).fit(X, y).scale_
        np.testing.assert_allclose(est.scale_, c * base_scale, rtol=RTOL)


# ---------------------------------------------------------- MLEDistribution
def _scalable_families():
    """Losses with a continuous likelihood whose support is closed under y -> c y."""
    out = []
    for name in available_losses(task="regression"):
        lik = get_loss(name).likelihood
        if lik is None:
            continue
        sup = lik.support
        if sup.integer or sup.low not in (0.0, -math.inf) or sup.high not in (0.0, math.inf):
            continue
        out.append(name)
    return out


def test_scalable_families_are_found():
    assert len(_scalable_families()) >= 4


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("name", _scalable_families())
def test_distribution_mle_is_equivariant_to_the_units_of_y(name, c):
    loss = get_loss(name)
    _, y = _data(name)
    y = y[:, None]
    base = MLEDistribution(loss=name).fit(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = MLEDistribution(loss=name).fit(y * c)
    # the fitted location (on the prediction scale) is in the units of y
    np.testing.assert_allclose(est.location_, c * base.location_, rtol=RTOL, atol=1e-9 * c)
    # the fitted density of c Y is that of Y, rescaled: every parameter moved with the units
    np.testing.assert_allclose(est.loglik_, base.loglik_ - y.shape[0] * math.log(c), rtol=1e-9)
    probe = np.quantile(y, [0.1, 0.5, 0.9])[:, None]
    np.testing.assert_allclose(est.score_samples(probe * c), base.score_samples(probe) - math.log(c),
                               rtol=1e-7, atol=1e-7)
    tm = _raw_map(loss, 10.0)
    if tm is not None and np.isclose(tm[0], 10.0) and base.scale_ is not None:
        # location-scale families (identity link): scale_ in the units of y
        np.testing.assert_allclose(est.scale_, c * base.scale_, rtol=RTOL)
