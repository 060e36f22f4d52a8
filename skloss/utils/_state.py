"""A failed or interrupted ``fit`` leaves the estimator as it was."""

import copy
import functools


def _snapshot(estimator):
    """A copy of the estimator's attributes that a fit cannot alter.

    Constructor parameters are kept by reference (a restored estimator still
    holds the very objects the user passed); everything else -- fitted
    attributes and private state such as a network's optimizer moments, its
    random generator or the ``loss_curve_`` list that ``partial_fit`` extends
    in place -- is deep-copied, so a fit that mutates state in place is undone
    as well as one that replaces it.
    """
    params = set(estimator.get_params(deep=False)) if hasattr(estimator, "get_params") else set()
    state = {}
    for key, value in estimator.__dict__.items():
        if key in params:
            state[key] = value
            continue
        try:
            state[key] = copy.deepcopy(value)
        except Exception:  # an attribute that cannot be copied is kept as it is
            state[key] = value
    return state


def keeps_state_on_error(fit):
    """Decorate a ``fit`` method: when it raises -- an error, or an interrupt
    such as ``KeyboardInterrupt`` (Ctrl-C) or ``SystemExit`` -- every attribute
    of the estimator is restored to what it was before the call (the complete
    previous fit, or the unfitted estimator), then the exception propagates.

    So after any interruption an estimator holds either the complete previous
    fit or a complete new one, never a mix (``n_features_in_`` of the new data
    with the coefficients of the old).  A fit that handles an interrupt itself
    (the networks stop training at the last complete epoch) returns normally
    and keeps its new fit.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        state = _snapshot(self)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    return wrapper
