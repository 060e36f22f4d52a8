"""A failed or interrupted ``fit`` leaves the estimator as it was."""

import copy
import functools

import numpy as np
from sklearn.base import BaseEstimator


_PARAM_NAMES = {}


def _param_names(estimator):
    """The constructor's parameter names (scikit-learn reads the ``__init__``
    signature each time, ~50 us; a class's signature does not change)."""
    cls = type(estimator)
    names = _PARAM_NAMES.get(cls)
    if names is None:
        if hasattr(cls, "_get_param_names"):
            names = _PARAM_NAMES[cls] = frozenset(cls._get_param_names())
        else:
            return set(estimator.get_params(deep=False)) if hasattr(estimator, "get_params") else set()
    return names


def _snapshot(estimator):
    """``(references, copies)`` of the estimator's attributes.

    Constructor parameters are kept by reference only.  Every other attribute
    is kept by reference *and* as a deep copy (immutable values by reference
    alone; arrays of numbers, lists of strings and estimators of immutable
    parameters by a copy as deep as their content): a fit that replaces an attribute
    is undone by putting the original object back, and one that mutates it in
    place (a network's optimizer moments, its random generator, the
    ``loss_curve_`` list that ``partial_fit`` extends) by restoring the
    original object's content from the copy -- so the objects a user may hold
    stay the same objects, with their old content.
    """
    params = _param_names(estimator)
    refs = dict(estimator.__dict__)
    copies = {}
    for key, value in refs.items():
        if key in params:
            continue
        cls = type(value)
        if cls in _IMMUTABLE:
            continue  # (restored by reference: nothing in it can change)
        if cls is np.ndarray and value.dtype.kind in _PLAIN_KINDS:
            # (PERF) what deepcopy gives for an array of numbers, without its memo machinery
            copies[key] = value.copy(order="K")
            continue
        if cls is list and all(type(item) is str for item in value):
            copies[key] = list(value)  # (names: deepcopy's list of the same strings)
            continue
        content = getattr(value, "__dict__", None) if isinstance(value, BaseEstimator) else None
        if type(content) is dict and all(type(item) in _IMMUTABLE for item in content.values()):
            # (PERF) an estimator or loss of plain parameters (a fitted loss_): its
            # content is its __dict__ of immutable values, all _restore_content puts
            # back; deepcopy's round trip through __getstate__ cost ~20 us
            try:
                saved = object.__new__(cls)
                saved.__dict__.update(content)
            except Exception:
                pass
            else:
                copies[key] = saved
                continue
        try:
            copies[key] = copy.deepcopy(value)
        except Exception:  # an attribute that cannot be copied is restored by reference
            pass
    return refs, copies


# types whose instances never change: kept by reference only (a deep copy of one is
# the object itself, or an equal object that _restore_content would not use)
_IMMUTABLE = frozenset({type(None), bool, int, float, complex, str, bytes, np.float64, np.float32,
                        np.int64, np.int32, np.bool_})
# array kinds whose copy(order="K") is deepcopy's (no Python objects inside)
_PLAIN_KINDS = frozenset("biufcmMSU")


def _restore_content(obj, saved):
    """Put ``saved``'s content back into ``obj`` (same type), in place."""
    if isinstance(obj, list):
        obj[:] = saved
    elif isinstance(obj, dict):
        obj.clear()
        obj.update(saved)
    elif isinstance(obj, np.ndarray):
        if obj.flags.writeable and obj.shape == saved.shape and obj.dtype == saved.dtype:
            np.copyto(obj, saved)
    elif isinstance(obj, np.random.RandomState):
        obj.set_state(saved.get_state())
    elif isinstance(obj, np.random.Generator):
        obj.bit_generator.state = saved.bit_generator.state
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        obj.__dict__.clear()
        obj.__dict__.update(saved.__dict__)


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
        refs, copies = _snapshot(self)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            for key, saved in copies.items():
                if type(refs[key]) is type(saved):
                    _restore_content(refs[key], saved)
            self.__dict__.clear()
            self.__dict__.update(refs)
            raise

    return wrapper
