"""Declared capabilities of a loss: the target domain and the piecewise-linear form.

Estimators, solvers and kernel tables ask a loss what it *can do* through the
members documented on :class:`~skloss.losses.Loss` (``y_domain``,
``piecewise_linear``, ``pieces``, ``kinks``, ``multiclass_margin``,
``multiclass_shift_invariant``, ``may_lack_minimiser``, ``hessian_is_constant``,
``fused_linear_kernel``) and its likelihood (``variance_power``, ``joint_scale``,
``support``); never what it is called.  This module holds the two value types and
the helpers that derive the piecewise-linear quantities.
"""

import math
from typing import NamedTuple

import numpy as np

__all__ = ["Interval", "check_piecewise_linear", "kinks_of", "pieces_of", "REAL"]


def _fmt(x):
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


class Interval(NamedTuple):
    """An interval of the real line, optionally restricted to integers.

    ``Interval(low, high, low_inclusive, high_inclusive, integer=False)``; the
    target domain of a loss (``y_domain``) and the support of a likelihood
    (``support``).  :meth:`contains` tests arrays in one vectorised pass.

    Examples
    --------
    >>> from skloss.losses import Interval
    >>> dom = Interval(0.0, float("inf"), True, False)
    >>> str(dom), dom.contains([0.0, 2.5]), dom.contains([-1.0])
    ('[0, inf)', True, False)
    """

    low: float = -math.inf
    high: float = math.inf
    low_inclusive: bool = False
    high_inclusive: bool = False
    integer: bool = False

    def __str__(self):
        text = (("[" if self.low_inclusive else "(") + f"{_fmt(self.low)}, {_fmt(self.high)}"
                + ("]" if self.high_inclusive else ")"))
        return f"integers in {text}" if self.integer else text

    @property
    def is_real_line(self):
        """Whether every finite real number is in the interval."""
        return math.isinf(self.low) and math.isinf(self.high) and not self.integer

    def requirement(self):
        """The condition in words, e.g. ``">= 0"`` or ``"in [0, 1]"``."""
        if math.isinf(self.high) and not math.isinf(self.low):
            text = (">= " if self.low_inclusive else "> ") + _fmt(self.low)
        elif math.isinf(self.low) and not math.isinf(self.high):
            text = ("<= " if self.high_inclusive else "< ") + _fmt(self.high)
        elif self.is_real_line:
            text = "finite"
        else:
            text = f"in {str(self).replace('integers in ', '')}"
        return f"{text} (integers)" if self.integer else text

    def mask(self, y):
        """Element-wise membership (NaN is outside)."""
        y = np.asarray(y, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            inside = (y >= self.low) if self.low_inclusive else (y > self.low)
            inside &= (y <= self.high) if self.high_inclusive else (y < self.high)
            if self.integer:
                inside &= y == np.floor(y)
        return inside

    def contains(self, y):
        """Whether every entry of ``y`` lies in the interval (NaN does not).

        One reduction per finite bound: the cost of validating targets inside a
        loss call stays a small fraction of the loss itself.
        """
        y = np.asarray(y)
        if y.size == 0:
            return True
        if self.integer:
            return bool(np.all(self.mask(y)))
        ok = True
        with np.errstate(invalid="ignore"):
            if not math.isinf(self.low):
                lo = y.min()
                ok = bool(lo >= self.low) if self.low_inclusive else bool(lo > self.low)
            if ok and not math.isinf(self.high):
                hi = y.max()
                ok = bool(hi <= self.high) if self.high_inclusive else bool(hi < self.high)
        return ok


REAL = Interval()


def check_piecewise_linear(pieces, owner="piecewise_linear"):
    """Validate and normalise a tuple of ``(slope, intercept)`` pairs.

    Returns the pairs as a tuple of float pairs sorted by slope, with pieces that
    never attain the maximum removed (so consecutive pieces meet at a kink).
    """
    try:
        pairs = [(float(a), float(c)) for a, c in pieces]
    except (TypeError, ValueError):
        raise ValueError(
            f"{owner} must be a sequence of (slope, intercept) pairs; got {pieces!r}."
        ) from None
    if len(pairs) < 1 or not all(math.isfinite(a) and math.isfinite(c) for a, c in pairs):
        raise ValueError(f"{owner} needs at least one (slope, intercept) pair of finite numbers; got {pieces!r}.")
    # one piece per slope (the largest intercept), sorted by slope
    best = {}
    for a, c in pairs:
        best[a] = max(c, best.get(a, -math.inf))
    ordered = sorted(best.items())
    # upper envelope: drop pieces below the maximum of their neighbours everywhere
    hull = []
    for a, c in ordered:
        while len(hull) >= 2:
            (a1, c1), (a2, c2) = hull[-2], hull[-1]
            # piece 2 is useless when line 1 and the new line cross above it
            if (c1 - c2) * (a - a2) >= (c2 - c) * (a2 - a1):
                hull.pop()
            else:
                break
        hull.append((a, c))
    return tuple(hull)


def kinks_of(pieces):
    """Where consecutive pieces of a normalised piecewise-linear form meet."""
    return tuple((c1 - c2) / (a2 - a1) for (a1, c1), (a2, c2) in zip(pieces[:-1], pieces[1:]))


def pieces_of(pieces, y, classification):
    """Per-sample ``(A, C)`` of shape (n, m): ``loss_i(r) = max_j A_ij r + C_ij``.

    Regression: ``u = r - y`` so ``A_ij = s_j``, ``C_ij = c_j - s_j y_i``.  Binary
    classification: ``u = z r`` with ``z = 2 y - 1`` so ``A_ij = s_j z_i``,
    ``C_ij = c_j``.
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    s = np.array([a for a, _ in pieces], dtype=np.float64)
    c = np.array([b for _, b in pieces], dtype=np.float64)
    if classification:
        z = 2.0 * y - 1.0
        A = z[:, None] * s[None, :]
        C = np.broadcast_to(c, A.shape).copy()
    else:
        A = np.broadcast_to(s, (y.size, s.size)).copy()
        C = c[None, :] - y[:, None] * s[None, :]
    return A, C
