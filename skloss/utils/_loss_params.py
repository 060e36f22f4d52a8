"""``loss__<param>`` for an estimator whose ``loss`` is a string.

scikit-learn's nested parameters need an object: ``set_params(loss__delta=2)``
on ``loss="huber"`` fails in ``BaseEstimator``, and ``get_params(deep=True)``
lists no ``loss__delta``.  This mixin resolves the string first (a clone from
the registry, so a user's loss object is never mutated), so that the two agree
and ``GridSearchCV(est, {"loss": ["huber"], "loss__delta": [...]})`` works.
"""

from skloss.losses import get_loss


class LossParamsMixin:
    """``get_params(deep=True)`` and ``set_params`` with ``loss__<param>`` for
    a loss given as a string or an object."""

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
