"""Checks of the inputs every estimator shares, with errors naming the problem.

scikit-learn's own checks let through weights that break a fit far from their
cause: a negative or NaN ``class_weight`` (coefficients of 4e14 with a false
separation warning, or an "overflow" error), sample weights below the smallest
normal float (1e-320: their sum is denormal and the objective divides by it),
and labels mixing strings and numbers (a ``TypeError`` from sorting).
"""

import numpy as np


def check_class_weight(class_weight):
    """A ``class_weight`` dict must hold finite, non-negative numbers."""
    if not isinstance(class_weight, dict):
        return
    for label, weight in class_weight.items():
        try:
            value = float(weight)
        except (TypeError, ValueError):
            raise ValueError(
                f"class_weight[{label!r}] = {weight!r} is not a number."
            ) from None
        if not np.isfinite(value) or value < 0:
            raise ValueError(
                f"class_weight[{label!r}] = {weight!r}: class weights must be finite and "
                "non-negative (a weight multiplies the loss of that class's samples)."
            )


def check_weight_values(sw, name="sample_weight"):
    """Positive weights must be normal floating-point numbers.

    Only the ratios of the weights matter, so a user can always rescale; weights
    below the smallest normal number of their dtype (2.2e-308 for float64) are
    denormal, lose their precision and make the normalising sum meaningless.
    """
    if sw is None:
        return sw
    sw = np.asarray(sw)
    if sw.size == 0 or not np.issubdtype(sw.dtype, np.floating):
        return sw
    if not np.all(np.isfinite(sw)):
        raise ValueError(f"{name} contains NaN or infinity.")
    positive = sw[sw > 0]
    tiny = np.finfo(sw.dtype).tiny
    if positive.size and positive.min() < tiny:
        raise ValueError(
            f"{name} contains positive values below the smallest normal "
            f"{sw.dtype.name} number ({tiny:.3g}), e.g. {positive.min():.3g}: they cannot be "
            "represented accurately. Only the ratios of the weights matter: rescale them (e.g. "
            "divide by their maximum)."
        )
    return sw


def check_label_types(y, name="y"):
    """Class labels must be all strings or all numbers (they are sorted)."""
    y = np.asarray(y)
    if y.dtype != object or y.size == 0:
        return
    kinds = {("string" if isinstance(v, (str, np.str_)) else "number") for v in y.ravel()}
    if len(kinds) > 1:
        examples = []
        for v in y.ravel():
            kind = "string" if isinstance(v, (str, np.str_)) else "number"
            if kind not in [k for k, _ in examples]:
                examples.append((kind, v))
        shown = ", ".join(f"{v!r} ({k})" for k, v in examples)
        raise ValueError(
            f"{name} mixes strings and numbers as class labels (e.g. {shown}); labels must be "
            "all strings or all numbers. Convert them, e.g. y.astype(str)."
        )
