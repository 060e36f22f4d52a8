"""Compound Poisson-gamma (Tweedie, 1 < p < 2) log-density series and its dispersion MLE.

The density of Dunn & Smyth (2005) for ``y > 0`` needs

    log W(y, phi, p) = log sum_{j >= 1} z^j / (j! Gamma(j g)),
    g = (2 - p) / (p - 1),  log z = g log y - (1 + g) log phi - log(2 - p) - g log(p - 1).

The terms are log-concave in ``j``: the sum starts at the approximate mode and
walks outwards until the terms fall below ``exp(-40)`` times the largest.  The
``log j! + log Gamma(j g)`` part does not depend on the row nor on ``phi``: it
is tabulated once per call, so a term costs a multiply-add and one ``exp``
(the previous NumPy version evaluated two ``gammaln`` per term on a fixed-width
window and was the whole cost of a Tweedie fit: 2.5 s of 2.9 s at 20,000 rows).

Because ``d log z / d log phi = -(1 + g)``, the same walk gives the first two
derivatives of ``log W`` in ``log phi`` (``-(1+g) E[j]`` and ``(1+g)^2 Var[j]``
under the normalised terms), and :func:`tweedie_cp_mle_log_phi` maximises the
log-likelihood in ``log phi`` by safeguarded Newton steps (4-6 evaluations
instead of ~17 of a derivative-free line search).
"""

import math

import numpy as np
from numba import njit

# a term this far (in log) below the largest is dropped: exp(-40) ~ 4e-18
_CUT = 40.0
# the most terms one row may need (a dispersion so small that an observation
# holds ~1e6 Poisson events): beyond, the caller raises
_MAX_TERMS = 20001


@njit(inline="always")
def _table_term(j, T, g):
    if j < T.shape[0]:
        return T[j]
    return math.lgamma(j + 1.0) + math.lgamma(j * g)


@njit(cache=True)
def _log_series_rows(base, shift, g, sw, out, sums):
    """``log W`` per row with ``log z = base - shift`` (into ``out`` when its
    length is > 0) and, when ``sums`` has length 3, the ``sw``-weighted sums of
    ``log W`` and of the mean and variance of ``j`` under the normalised terms
    (``sw`` of length 0: unit weights).  Returns the largest number of terms a
    row needed."""
    n = base.shape[0]
    lg = math.log(g)
    # approximate modes, then the table up to the largest plus a generous window
    jmax = 1.0
    for i in range(n):
        jm = math.exp((base[i] - shift - g * lg) / (1.0 + g))
        if jm > jmax:
            jmax = jm
    if jmax > 1e7:
        jmax = 1e7
    size = int(jmax + 12.0 * math.sqrt(jmax) + 64.0)
    T = np.empty(size)
    T[0] = 0.0
    for j in range(1, size):
        T[j] = math.lgamma(j + 1.0) + math.lgamma(j * g)
    want = sums.shape[0] == 3
    store = out.shape[0] > 0
    unit = sw.shape[0] == 0
    s_lw = 0.0
    s_m = 0.0
    s_v = 0.0
    worst = 0
    for i in range(n):
        lz = base[i] - shift
        jm = math.exp((lz - g * lg) / (1.0 + g))
        if jm < 1.0:
            jm = 1.0
        j0 = int(jm + 0.5)
        if j0 < 1:
            j0 = 1
        # one walk outwards from the approximate mode, summing relative to a
        # reference term (moved up, with the sums rescaled, if a larger term appears)
        ref = j0 * lz - _table_term(j0, T, g)
        top = ref
        s = 1.0
        m1 = float(j0)
        m2 = float(j0) * j0
        count = 1
        for direction in (1, -1):
            j = j0 + direction
            while j >= 1 and count <= _MAX_TERMS:
                t = j * lz - _table_term(j, T, g)
                if t > top:
                    top = t
                elif t < top - _CUT:
                    break
                if t > ref + 300.0:
                    c = math.exp(ref - t)
                    s *= c
                    m1 *= c
                    m2 *= c
                    ref = t
                e = math.exp(t - ref)
                s += e
                if want:
                    m1 += j * e
                    m2 += j * (j * e)
                count += 1
                j += direction
        if count > worst:
            worst = count
        lw = ref + math.log(s)
        if store:
            out[i] = lw
        if want:
            w = 1.0 if unit else sw[i]
            mean = m1 / s
            v = m2 / s - mean * mean
            s_lw += w * lw
            s_m += w * mean
            s_v += w * (v if v > 0.0 else 0.0)
    if want:
        sums[0] = s_lw
        sums[1] = s_m
        sums[2] = s_v
    return worst


def _base(y, p):
    """``log z + (1 + g) log phi`` (the part of ``log z`` without ``phi``) and ``g``."""
    g = (2.0 - p) / (p - 1.0)
    return g, np.ascontiguousarray(g * np.log(y) - np.log(2.0 - p) - g * np.log(p - 1.0))


def _too_many():
    return ValueError("The Tweedie series needs more than 20001 terms (the dispersion is too "
                      "small for these data); the log-density is not evaluated.")


def tweedie_cp_log_series(y, phi, p):
    """``log W(y, phi, p)`` for ``y > 0`` (float64 array), ``1 < p < 2``."""
    y = np.asarray(y, dtype=np.float64)
    g, base = _base(y, float(p))
    out = np.empty_like(base)
    if _log_series_rows(base, (1.0 + g) * math.log(float(phi)), g, np.empty(0), out, np.empty(0)) > _MAX_TERMS:
        raise _too_many()
    return out


def tweedie_cp_mle_log_phi(y, raw, sample_weight, p, log_phi0, lo, hi):
    """``log phi`` maximising the compound Poisson-gamma log-likelihood on ``[lo, hi]``.

    Newton steps on the log-likelihood in ``log phi`` with its exact first and
    second derivatives; a step that does not increase the log-likelihood is
    halved, a non-concave point takes a unit step along the slope.  Stops when
    the step is below ``1e-10`` (the tolerance of the former bounded search).
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    r = np.asarray(raw, dtype=np.float64)
    sw = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    with np.errstate(over="ignore"):
        mu_1p = np.exp((1.0 - p) * r)
        mu_2p = np.exp((2.0 - p) * r)
    pos = y > 0
    # the phi-free part: sum_i s_i B_i / phi with B the mean terms of the density
    B = float(sw @ (-mu_2p / (2.0 - p))) + float(sw[pos] @ (y[pos] * mu_1p[pos])) / (1.0 - p)
    g, base = _base(y[pos], p)
    swp = np.ascontiguousarray(sw[pos])
    sums = np.empty(3)

    def evaluate(L):
        """Log-likelihood (without the ``-log y`` constant) and its first two
        derivatives in ``L = log phi``."""
        if _log_series_rows(base, (1.0 + g) * L, g, swp, np.empty(0), sums) > _MAX_TERMS:
            raise _too_many()
        e = B * math.exp(-L)
        return e + sums[0], -e - (1.0 + g) * sums[1], e + (1.0 + g) ** 2 * sums[2]

    L = min(max(float(log_phi0), lo), hi)
    f, d1, d2 = evaluate(L)
    for _ in range(100):
        step = -d1 / d2 if d2 < 0 else math.copysign(1.0, d1)
        step = max(-2.0, min(2.0, step))
        accepted = False
        for _ in range(60):
            Ln = min(max(L + step, lo), hi)
            if Ln == L:
                break
            fn, d1n, d2n = evaluate(Ln)
            if fn >= f - 1e-13 * abs(f):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            break
        moved = abs(Ln - L)
        L, f, d1, d2 = Ln, fn, d1n, d2n
        if moved < 1e-10:
            break
    return L
