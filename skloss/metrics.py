r"""Information-theoretic metrics and loss scorers.

Entropy, cross-entropy and divergences of discrete distributions, one
distribution (1-D) or one per row (2-D), in bits by default:

.. math::

    H(P) = -\sum_i p_i \log p_i, \qquad
    H(P, Q) = -\sum_i p_i \log q_i = H(P) + \mathrm{KL}(P \,\|\, Q),

    \mathrm{KL}(P \,\|\, Q) = \sum_i p_i \log \frac{p_i}{q_i}, \qquad
    \mathrm{JS}(P, Q) = \tfrac12 \mathrm{KL}(P \,\|\, M) + \tfrac12 \mathrm{KL}(Q \,\|\, M),
    \quad M = \tfrac12 (P + Q),

with :math:`0 \log 0 = 0`.  With one-hot targets :math:`H(P) = 0`, so
cross-entropy and KL divergence coincide, and both are the log loss.

:func:`make_loss_scorer` turns any loss of :mod:`skloss.losses` into a
scikit-learn scorer, so that models fitted with different losses can be compared
by one chosen loss.
"""

import math
import numbers

import numpy as np
from scipy import special
from sklearn.base import is_classifier
from sklearn.metrics._scorer import _BaseScorer

__all__ = ["entropy", "cross_entropy", "kl_divergence", "js_divergence", "make_loss_scorer"]


# ----------------------------------------------------------------- distributions
def _log_base(base):
    if (
        isinstance(base, bool)
        or not isinstance(base, numbers.Real)
        or not np.isfinite(base)
        or base <= 0
        or base == 1
    ):
        raise ValueError(f"base must be a positive real number other than 1 (2 for bits, np.e for nats); got {base!r}.")
    return math.log(base)


def _distribution(p, name):
    arr = np.asarray(p)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be an array of probabilities; got dtype {arr.dtype}.")
    if arr.ndim not in (1, 2) or arr.shape[-1] == 0 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty distribution (1-D) or one distribution per row (2-D); "
            f"got shape {arr.shape}."
        )
    eps = np.finfo(arr.dtype).eps if arr.dtype.kind == "f" else np.finfo(np.float64).eps
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if np.any(arr < 0):
        raise ValueError(f"{name} has negative entries; probabilities must be >= 0.")
    total = arr.sum(axis=-1)
    tol = max(1e-6, 100 * arr.shape[-1] * eps)
    off = np.abs(total - 1.0) > tol
    if np.any(off):
        where = "" if arr.ndim == 1 else f" (row {int(np.argmax(off))})"
        bad = float(np.atleast_1d(total)[np.argmax(np.atleast_1d(off))])
        raise ValueError(f"{name} must sum to 1{where}; it sums to {bad!r}.")
    return arr


def _pair(p, q):
    p = _distribution(p, "p")
    q = _distribution(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape; got {p.shape} and {q.shape}.")
    return p, q


def _result(values):
    return float(values) if np.ndim(values) == 0 else values


def entropy(p, base=2):
    r"""Shannon entropy :math:`H(P) = -\sum_i p_i \log p_i` (with :math:`0 \log 0 = 0`).

    Parameters
    ----------
    p : array-like of shape (n_outcomes,) or (n_distributions, n_outcomes)
        A distribution, or one per row: non-negative, finite, summing to 1.
    base : float, default=2
        Base of the logarithm: 2 gives bits, ``np.e`` nats.

    Returns
    -------
    float or ndarray of shape (n_distributions,)

    Raises
    ------
    ValueError
        If ``p`` is not a distribution (negative, non-finite, not summing to 1
        within 1e-6) or ``base`` is invalid.

    See Also
    --------
    scipy.stats.entropy : normalises its input instead of checking it.

    Examples
    --------
    >>> from skloss.metrics import entropy
    >>> round(entropy([0.10, 0.40, 0.50]), 6)
    1.360964
    >>> entropy([[0.5, 0.5], [1.0, 0.0]])
    array([1., 0.])
    """
    log_base = _log_base(base)
    p = _distribution(p, "p")
    return _result(special.entr(p).sum(axis=-1) / log_base)


def cross_entropy(p, q, base=2):
    r"""Cross-entropy :math:`H(P, Q) = -\sum_i p_i \log q_i = H(P) + \mathrm{KL}(P \| Q)`.

    The expected code length when outcomes drawn from ``p`` are coded for
    ``q``; with a one-hot ``p`` it is the log loss of the prediction ``q``.
    Terms with :math:`p_i = 0` are 0; it is ``inf`` where :math:`q_i = 0 < p_i`.

    Parameters
    ----------
    p, q : array-like of the same shape (n_outcomes,) or (n_distributions, n_outcomes)
        Distributions (rows): non-negative, finite, summing to 1.
    base : float, default=2
        Base of the logarithm: 2 gives bits, ``np.e`` nats.

    Returns
    -------
    float or ndarray of shape (n_distributions,)

    Examples
    --------
    >>> from skloss.metrics import cross_entropy
    >>> round(cross_entropy([0.10, 0.40, 0.50], [0.80, 0.15, 0.05]), 6)
    3.287943
    """
    log_base = _log_base(base)
    p, q = _pair(p, q)
    return _result(-special.xlogy(p, q).sum(axis=-1) / log_base)


def kl_divergence(p, q, base=2):
    r"""Kullback-Leibler divergence :math:`\mathrm{KL}(P \| Q) = \sum_i p_i \log(p_i / q_i)`.

    Non-negative, zero iff ``p == q``, not symmetric; ``inf`` where ``q`` lacks
    support of ``p`` (:math:`q_i = 0 < p_i`), without a warning.

    Parameters
    ----------
    p, q : array-like of the same shape (n_outcomes,) or (n_distributions, n_outcomes)
        Distributions (rows): non-negative, finite, summing to 1.
    base : float, default=2
        Base of the logarithm: 2 gives bits, ``np.e`` nats.

    Returns
    -------
    float or ndarray of shape (n_distributions,)

    Examples
    --------
    >>> from skloss.metrics import kl_divergence
    >>> round(kl_divergence([0.10, 0.40, 0.50], [0.80, 0.15, 0.05]), 6)
    1.926979
    >>> kl_divergence([0.5, 0.5], [1.0, 0.0])
    inf
    """
    log_base = _log_base(base)
    p, q = _pair(p, q)
    return _result(special.rel_entr(p, q).sum(axis=-1) / log_base)


def js_divergence(p, q, base=2):
    r"""Jensen-Shannon divergence :math:`\tfrac12 \mathrm{KL}(P \| M) + \tfrac12 \mathrm{KL}(Q \| M)`.

    With the mixture :math:`M = (P + Q) / 2`.  Symmetric, always finite, between 0 and 1 in bits.  Its square root is the
    Jensen-Shannon *distance* that :func:`scipy.spatial.distance.jensenshannon`
    returns.

    Parameters
    ----------
    p, q : array-like of the same shape (n_outcomes,) or (n_distributions, n_outcomes)
        Distributions (rows): non-negative, finite, summing to 1.
    base : float, default=2
        Base of the logarithm: 2 gives bits, ``np.e`` nats.

    Returns
    -------
    float or ndarray of shape (n_distributions,)

    Examples
    --------
    >>> from skloss.metrics import js_divergence
    >>> js_divergence([1.0, 0.0], [0.0, 1.0])
    1.0
    """
    log_base = _log_base(base)
    p, q = _pair(p, q)
    m = 0.5 * (p + q)
    js = 0.5 * (special.rel_entr(p, m) + special.rel_entr(q, m)).sum(axis=-1)
    return _result(js / log_base)


# ----------------------------------------------------------------------- scorers
def _loss_limit(loss, y, raw):
    """Per-sample loss where non-finite raw predictions are limits.

    A probability of exactly 0 or 1 maps to a raw score of -inf or +inf (logit,
    log); the loss there is its limit, found by evaluating at two large finite
    magnitudes: equal values are the limit (a correct prediction made with
    certainty costs what it costs in the limit, often 0), growing values mean
    ``+inf`` (a wrong prediction made with certainty).
    """
    finite = np.isfinite(raw)
    rows = finite if raw.ndim == 1 else finite.all(axis=1)
    if np.all(rows):
        return loss.loss(y, raw)
    out = np.empty(raw.shape[0])
    if np.any(rows):
        out[rows] = loss.loss(y[rows], raw[rows])
    y_inf, raw_inf = y[~rows], raw[~rows]
    fin = np.isfinite(raw_inf)
    values = [
        loss.loss(y_inf, np.where(fin, raw_inf, np.sign(raw_inf) * big)) for big in (5e5, 1e6)
    ]
    l1, l2 = values
    converged = np.abs(l2 - l1) <= 1e-9 * (1.0 + np.abs(l1))
    out[~rows] = np.where(converged, l2, np.where(l2 > l1, np.inf, -np.inf))
    return out


class _LossScorer(_BaseScorer):
    """A scorer giving minus the (weighted) mean of a loss; see :func:`make_loss_scorer`."""

    def __init__(self, loss):
        if loss.task == "regression":
            response = "predict"
        elif loss.is_probabilistic:
            response = "predict_proba"
        else:
            response = "decision_function"
        super().__init__(score_func=_mean_loss, sign=-1, kwargs={}, response_method=response)
        self._loss = loss

    def __repr__(self):
        return f"make_loss_scorer({self._loss!r})"

    def _accept_sample_weight(self):
        return True

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        sample_weight = kwargs.pop("sample_weight", None)
        if kwargs:
            raise TypeError(f"make_loss_scorer: unexpected scoring parameters {sorted(kwargs)}.")
        y, raw = _targets_and_raw(self._loss, estimator, X, y_true)
        return self._sign * self._score_func(self._loss, y, raw, sample_weight)


def _mean_loss(loss, y, raw, sample_weight=None):
    values = _loss_limit(loss, y, raw)
    if sample_weight is None:
        return float(np.mean(values))
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.shape != values.shape:
        raise ValueError(f"sample_weight must have shape {values.shape}; got {sw.shape}.")
    if not np.all(np.isfinite(sw)) or np.any(sw < 0) or sw.sum() <= 0:
        raise ValueError("sample_weight must be finite, non-negative and not all zero.")
    # a zero weight removes its sample, even one with an infinite loss
    weighted = np.where(sw > 0, sw * np.where(sw > 0, values, 0.0), 0.0)
    return float(weighted.sum() / sw.sum())


def _class_indices(classes, y_true):
    classes = np.asarray(classes)
    order = np.argsort(classes, kind="stable")
    ordered = classes[order]
    pos = np.clip(np.searchsorted(ordered, y_true), 0, len(ordered) - 1)
    unknown = ordered[pos] != y_true
    if np.any(unknown):
        raise ValueError(
            f"y_true contains labels the estimator was not fitted on: "
            f"{np.unique(y_true[unknown])[:10].tolist()}; its classes_ are {classes.tolist()}."
        )
    return order[pos].astype(np.float64)


def _link(link, values, loss):
    # log(0) = -inf is honest (see _loss_limit); NaN is reported below
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        raw = np.asarray(link(values), dtype=np.float64)
    if np.any(np.isnan(raw)):
        raise ValueError(
            f"make_loss_scorer({loss.name!r}): the estimator's predictions lie outside the "
            f"domain of the loss's link {link.name!r} (it gives NaN)."
        )
    return raw


def _targets_and_raw(loss, estimator, X, y_true):
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise ValueError(f"make_loss_scorer: y_true must be 1-D; got shape {y_true.shape}.")
    name = type(estimator).__name__
    if loss.task == "regression":
        if is_classifier(estimator):
            raise ValueError(
                f"make_loss_scorer: {loss.name!r} is a regression loss; {name} is a classifier."
            )
        y = loss.validate_y(y_true).astype(np.float64)
        pred = np.asarray(estimator.predict(X), dtype=np.float64)
        if pred.shape != y.shape:
            raise ValueError(f"make_loss_scorer: {name}.predict returned shape {pred.shape}, expected {y.shape}.")
        return y, _link(loss.link, pred, loss)
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise ValueError(
            f"make_loss_scorer: {loss.name!r} is a classification loss; {name} has no classes_ "
            "(is it a fitted classifier?)."
        )
    k = len(classes)
    if k < 2:
        raise ValueError(f"make_loss_scorer: the estimator was fitted on {k} class; at least 2 are needed.")
    y = _class_indices(classes, y_true)
    n = y.shape[0]
    if loss.is_probabilistic:
        if not hasattr(estimator, "predict_proba"):
            raise ValueError(
                f"make_loss_scorer: the probabilistic loss {loss.name!r} scores predict_proba, "
                f"which {name} does not have."
            )
        proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        if proba.shape != (n, k):
            raise ValueError(f"make_loss_scorer: {name}.predict_proba returned shape {proba.shape}, expected {(n, k)}.")
        if k == 2:
            return y, _link(loss.link, proba[:, 1], loss)
        link = loss.multiclass_link if loss.has_multiclass_form else loss.link
        return y, _link(link, proba, loss)
    if not hasattr(estimator, "decision_function"):
        raise ValueError(
            f"make_loss_scorer: the margin loss {loss.name!r} scores decision_function, "
            f"which {name} does not have."
        )
    raw = np.asarray(estimator.decision_function(X), dtype=np.float64)
    expected = (n,) if k == 2 else (n, k)
    if raw.shape != expected:
        raise ValueError(
            f"make_loss_scorer: {name}.decision_function returned shape {raw.shape}, expected {expected}."
        )
    if np.any(np.isnan(raw)):
        raise ValueError(f"make_loss_scorer: {name}.decision_function returned NaN.")
    return y, raw


def make_loss_scorer(loss, **params):
    r"""A scikit-learn scorer: minus the (weighted) mean of a loss.

    Use it as ``scoring=`` in :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_val_score` ..., to compare models — for
    instance models fitted with different losses — by one chosen loss.  Greater
    is better, as for every scikit-learn scorer, so the score is the negated
    loss (``greater_is_better=False``).

    The loss is evaluated on the raw (link-scale) prediction it is defined on:

    * regression losses: ``raw = loss.link(estimator.predict(X))``;
    * probabilistic classification losses (``log_loss``, ``brier`` ...):
      ``estimator.predict_proba(X)`` mapped by the link — the logit of the
      positive-class probability with two classes, ``log p`` (softmax link) with
      K classes, each column's link for a one-vs-rest loss;
    * margin losses (``hinge``, ``perceptron`` ...):
      ``estimator.decision_function(X)``.

    Labels are mapped to class indices through ``estimator.classes_`` (with two
    classes, ``classes_[1]`` is the positive one, as scikit-learn does).
    Nothing is clipped: a probability of exactly 0 for the observed class gives
    an infinite loss (the score is then ``-inf``), and one of exactly 1 the
    loss's limit (0 for the log loss).

    Parameters
    ----------
    loss : str or Loss
        A loss name, alias or object (see :func:`skloss.losses.get_loss`).
    **params
        Loss parameters, e.g. ``make_loss_scorer("huber", delta=2.0)``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y_true, sample_weight=None) -> float``.  It
        accepts ``sample_weight``: :class:`~sklearn.model_selection.GridSearchCV`
        passes the ``sample_weight`` given to ``fit`` on to it, and with
        metadata routing enabled ``scorer.set_score_request(sample_weight=True)``
        requests it.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.metrics import log_loss
    >>> from skloss.metrics import make_loss_scorer
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X, y)
    >>> scorer = make_loss_scorer("log_loss")
    >>> bool(abs(scorer(clf, X, y) + log_loss(y, clf.predict_proba(X))) < 1e-12)
    True
    """
    from skloss.losses import get_loss

    return _LossScorer(get_loss(loss, **params))
