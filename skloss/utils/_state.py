"""A failed ``fit`` leaves the estimator as it was."""

import functools


def keeps_state_on_error(fit):
    """Decorate a ``fit`` method: when it raises, the estimator's attributes are
    restored to what they were before the call (e.g. ``n_features_in_``, which
    input validation sets before a later check can fail), then the error
    propagates.  Fitted arrays are replaced, never modified in place, by the
    fits this decorates, so a shallow copy of ``__dict__`` is enough."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        state = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except Exception:  # (an interrupt keeps what a long fit has done)
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    return wrapper
