"""``loss__<param>`` for an estimator whose ``loss`` is a string.

scikit-learn's nested parameters need an object: ``set_params(loss__delta=2)``
on ``loss="huber"`` fails in ``BaseEstimator``, and ``get_params(deep=True)``
lists no ``loss__delta``.  This mixin resolves the string first (a clone from
the registry, so a user's loss object is never mutated), so that the two agree
and ``GridSearchCV(est, {"loss": ["huber"], "loss__delta": [...]})`` works.
"""

from skloss.losses import get_loss

_PARAM_NAMES = {}


class LossParamsMixin:
    """``get_params(deep=True)`` and ``set_params`` with ``loss__<param>`` for
    a loss given as a string or an object."""

    @classmethod
    def _get_param_names(cls):
        """scikit-learn's list, cached per class: it reads the ``__init__`` signature
        on every call (about 20 us of every ``fit``, through ``_validate_params``), and a
        class's signature does not change."""
        names = _PARAM_NAMES.get(cls)
        if names is None:
            names = _PARAM_NAMES[cls] = tuple(super()._get_param_names())
        return list(names)

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        if deep and isinstance(params.get("loss"), str):
            try:
                loss = get_loss(params["loss"])
            except (TypeError, ValueError):  # (an unknown name fails at fit, with its message)
                return params
            params.update({f"loss__{key}": value for key, value in loss.get_params().items()})
        return params

    def set_params(self, **params):
        nested = {k[len("loss__"):]: v for k, v in params.items() if k.startswith("loss__")}
        rest = {k: v for k, v in params.items() if not k.startswith("loss__")}
        super().set_params(**rest)
        if nested:
            loss = get_loss(self.loss)  # a clone: a user's loss object is never mutated
            try:
                loss.set_params(**nested)
            except ValueError as exc:
                raise ValueError(f"Invalid parameter for loss {loss.name!r}: {exc}") from None
            self.loss = loss
        return self
