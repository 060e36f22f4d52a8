"""The one weighted quantile of the package."""

import numpy as np

__all__ = ["weighted_quantile"]


def weighted_quantile(values, weights, q, *, method="pinball"):
    """The ``q``-quantile (``0 <= q <= 1``) of ``values`` under ``weights``.

    ``method="pinball"``: a minimiser over ``c`` of ``sum_i w_i pinball_q(v_i - c)``
    (the intercept of a quantile regression on a constant).  Where the minimisers
    form an interval (the cumulative weight reaches ``q`` exactly) its midpoint is
    returned, so unit weights and ``q = 0.5`` give ``np.median``.

    ``method="linear"``: linear interpolation between the sorted values at their
    cumulative weights, so that equal weights give ``np.percentile(values, 100 q)``
    (NumPy's default method).

    Samples with zero weight are ignored; ``weights=None`` means unit weights.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if weights is None:
        w = np.ones_like(v)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        keep = w > 0
        v, w = v[keep], w[keep]
    if v.size == 0 or not np.sum(w) > 0:
        raise ValueError("The weighted quantile needs at least one sample with a positive weight.")
    if method == "linear" and np.all(w == w[0]):
        return float(np.percentile(v, 100.0 * q))
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cw = np.cumsum(w)
    if method == "linear":
        return float(np.interp(q * (cw[-1] - w[0]) + w[0], cw, v))
    if method != "pinball":
        raise ValueError(f"method must be 'pinball' or 'linear', got {method!r}.")
    target = q * cw[-1]
    k = min(int(np.searchsorted(cw, target * (1 - 1e-12), side="left")), v.size - 1)
    if k < v.size - 1 and abs(cw[k] - target) <= 1e-12 * cw[-1]:
        return 0.5 * (v[k] + v[k + 1])
    return float(v[k])
