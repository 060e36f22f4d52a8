"""Link functions: the map between the prediction scale and the raw (linear) scale.

A link ``g`` maps a prediction (mean, probability, quantile) to the raw scale on
which a linear model or a network's last layer works: ``raw = g(prediction)``;
``inverse(raw)`` maps back.  Links are immutable singletons that compare equal to
their name, so ``loss.link == "logit"`` reads naturally.
"""

import numpy as np
from scipy import special

__all__ = ["Link", "get_link"]


class Link:
    """A named link function with its inverse.

    Parameters
    ----------
    name : str
        Registry name (``"identity"``, ``"log"``, ``"logit"``, ...).
    forward, inverse : callable
        ``forward(prediction) -> raw`` and ``inverse(raw) -> prediction``,
        vectorised NumPy functions.
    """

    __slots__ = ("name", "_forward", "_inverse")

    def __init__(self, name, forward, inverse):
        self.name = name
        self._forward = forward
        self._inverse = inverse

    def __call__(self, prediction):
        """Map a prediction to the raw scale."""
        return self._forward(np.asarray(prediction))

    def inverse(self, raw_prediction):
        """Map a raw prediction to the prediction scale."""
        return self._inverse(np.asarray(raw_prediction))

    def __eq__(self, other):
        if isinstance(other, Link):
            return self.name == other.name
        if isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"Link({self.name!r})"

    def __str__(self):
        return self.name

    def __reduce__(self):
        return (get_link, (self.name,))


def _softmax(raw):
    if raw.ndim == 1:
        return special.expit(raw)
    return special.softmax(raw, axis=1)


def _log_softmax_inverse(p):
    # a softmax has no unique inverse; the log is the centred-free choice
    with np.errstate(divide="ignore"):
        return np.log(p)


def _half_logit(p):
    return 0.5 * special.logit(p)


def _half_expit(raw):
    return special.expit(2.0 * raw)


def _clipped_linear_inverse(raw):
    # modified Huber: p = (clip(raw, -1, 1) + 1) / 2 (Zhang 2004)
    return (np.clip(raw, -1.0, 1.0) + 1.0) / 2.0


def _clipped_linear_forward(p):
    return 2.0 * np.asarray(p) - 1.0


def _sign_inverse(raw):
    return (np.asarray(raw) > 0).astype(np.result_type(raw, np.float32))


_LINKS = {
    "identity": Link("identity", lambda p: p, lambda r: r),
    "log": Link("log", np.log, np.exp),
    "log1p": Link("log1p", np.log1p, np.expm1),
    "logit": Link("logit", special.logit, special.expit),
    "half_logit": Link("half_logit", _half_logit, _half_expit),
    "probit": Link("probit", special.ndtri, special.ndtr),
    "softmax": Link("softmax", _log_softmax_inverse, _softmax),
    "clipped_linear": Link("clipped_linear", _clipped_linear_forward, _clipped_linear_inverse),
    "sign": Link("sign", lambda p: np.where(np.asarray(p) > 0.5, 1.0, -1.0), _sign_inverse),
}


def get_link(name):
    """Return the link called ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not a known link; the message lists the known ones.
    """
    if isinstance(name, Link):
        return name
    try:
        return _LINKS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown link {name!r}; available links are {sorted(_LINKS)}."
        ) from None
