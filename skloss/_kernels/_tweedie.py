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
_EXP_CUT = math.exp(-_CUT)
# the most terms one row may need (a dispersion so small that an observation
# holds ~1e6 Poisson events): beyond, the caller raises
_MAX_TERMS = 20001
# the ratio recurrence is used while its factors stay this far inside the float range
_SAFE = 1e280
# the longest table of ratios kept (16 MB each)
_RATIO_TABLE = 1 << 21
_LN10 = math.log(10.0)


@njit
def _table_term(j, T, g):
    if j < T.shape[0]:
        return T[j]
    return math.lgamma(j + 1.0) + math.lgamma(j * g)


@njit
def _row_walk(lz, j0, T, up, down, g, want, fast):
    """The sum of one row's terms, walked from ``j0`` outwards by the ratio of
    consecutive terms: ``z up[j]`` from term ``j - 1`` to term ``j`` and
    ``down[j] / z`` back when ``fast`` (a multiply per term: ``z`` and the
    tabulated ratios inside the float range), else ``exp`` of the difference of
    their logarithms.  Returns ``(ref, s, m1, m2, m3, count)``: ``log W = ref +
    log s`` and ``m_k`` the sums of ``(j - j0)^k`` times the terms (moments
    about ``j0``, near the mode: no cancellation in the cumulants)."""
    z = math.exp(lz) if fast else 1.0
    zi = 1.0 / z
    size = T.shape[0]
    ref = j0 * lz - _table_term(j0, T, g)
    top = 1.0
    s = 1.0
    m1 = 0.0
    m2 = 0.0
    m3 = 0.0
    count = 1
    for direction in (1, -1):
        e = 1.0
        j = j0 + direction
        while j >= 1 and count <= _MAX_TERMS:
            if direction > 0:
                if fast and j < size:
                    e *= z * up[j]
                else:
                    e *= math.exp(lz - (_table_term(j, T, g) - _table_term(j - 1, T, g)))
            else:
                if fast:
                    e *= zi * down[j + 1]
                else:
                    e *= math.exp((_table_term(j + 1, T, g) - _table_term(j, T, g)) - lz)
            if e > top:
                top = e
                if e > 1e150:  # (j0 far below the mode: rescale the sums)
                    s *= 1e-150
                    m1 *= 1e-150
                    m2 *= 1e-150
                    m3 *= 1e-150
                    top *= 1e-150
                    e *= 1e-150
                    ref += 150.0 * _LN10
            elif e < top * _EXP_CUT:
                break
            s += e
            if want:
                k = float(j - j0)
                m1 += k * e
                m2 += k * (k * e)
                m3 += k * (k * (k * e))
            count += 1
            j += direction
    return ref, s, m1, m2, m3, count


@njit(cache=True, fastmath=False, error_model="python")
def _log_series_rows(base, shift, g, sw, out, sums):
    """``log W`` per row with ``log z = base - shift`` (into ``out`` when its
    length is > 0) and, when ``sums`` has length 3 or 4, the ``sw``-weighted sums
    of ``log W`` and of the mean, the variance (and the third cumulant) of ``j``
    under the normalised terms (``sw`` of length 0: unit weights).  Returns the largest number of terms a
    row needed.

    The ``log j! + log Gamma(j g)`` table ``T`` is built once per call, with the
    ratios of consecutive terms without ``z``: ``up[j] = exp(T[j-1] - T[j])`` and
    ``down[j] = 1 / up[j]``.  A row whose ``z`` and ratios stay inside the float
    range walks by products (a multiply per term); any other by ``exp`` per term
    (:func:`_row_walk`).
    (One thread: a parallel pass over rows measured slower than this serial one
    on a loaded 2-core machine, and it would compile for longer.)
    """
    n = base.shape[0]
    lg = math.log(g)
    # the approximate mode grows with log z: the table up to the largest plus a window
    bmax = -math.inf
    for i in range(n):
        if base[i] > bmax:
            bmax = base[i]
    jmax = 1.0
    if n > 0:
        jmax = max(1.0, math.exp(min((bmax - shift - g * lg) / (1.0 + g), 17.0)))
    if jmax > 1e7:
        jmax = 1e7
    size = int(jmax + 12.0 * math.sqrt(jmax) + 64.0)
    T = np.empty(size)
    T[0] = 0.0
    for j in range(1, size):
        T[j] = math.lgamma(j + 1.0) + math.lgamma(j * g)
    # (the ratio tables only where they stay small: an extreme table walks by exp)
    ratio_ok = size <= _RATIO_TABLE
    up = np.zeros(size if ratio_ok else 0)
    down = np.zeros(size if ratio_ok else 0)
    for j in range(2, size if ratio_ok else 0):
        d = T[j - 1] - T[j]
        up[j] = math.exp(d)
        down[j] = math.exp(-d)
        if not (up[j] < _SAFE and down[j] < _SAFE):
            ratio_ok = False
    want = sums.shape[0] >= 3
    want3 = sums.shape[0] == 4
    store = out.shape[0] > 0
    unit = sw.shape[0] == 0
    lz_safe = math.log(_SAFE) - 1.0
    s_lw = 0.0
    s_m = 0.0
    s_v = 0.0
    s_k3 = 0.0
    worst = 0
    for i in range(n):
        lz = base[i] - shift
        jm = math.exp(min((lz - g * lg) / (1.0 + g), 40.0))  # (int64 range)
        if jm < 1.0:
            jm = 1.0
        j0 = int(jm + 0.5)
        if j0 < 1:
            j0 = 1
        fast = ratio_ok and abs(lz) < lz_safe and j0 < size
        ref, s, m1, m2, m3, count = _row_walk(lz, j0, T, up, down, g, want, fast)
        if count > worst:
            worst = count
        lw = ref + math.log(s)
        if store:
            out[i] = lw
        if want:
            w = 1.0 if unit else sw[i]
            a1 = m1 / s
            a2 = m2 / s
            v = a2 - a1 * a1
            s_lw += w * lw
            s_m += w * (j0 + a1)
            s_v += w * (v if v > 0.0 else 0.0)
            if want3:
                s_k3 += w * (m3 / s - a1 * (3.0 * a2 - 2.0 * a1 * a1))
    if want:
        sums[0] = s_lw
        sums[1] = s_m
        sums[2] = s_v
    if want3:
        sums[3] = s_k3
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


@njit(cache=True, fastmath=False, error_model="python")
def _mle_prepare(y, raw, sw, p, base, swp):
    """One pass over the rows for the dispersion MLE: ``base`` (see :func:`_base`)
    and the weights of the rows with ``y > 0`` are packed into ``base`` / ``swp``;
    returns their number, ``sum_i s_i B_i`` (``B_i / phi`` the mean terms of
    the log-density: ``-mu^(2-p) / (2-p)`` and, for ``y > 0``, ``y mu^(1-p) / (1-p)``;
    ``sw`` of length 0: unit weights) and ``sum_{y_i > 0} s_i log y_i`` (the
    log-density's ``-log y`` term)."""
    g = (2.0 - p) / (p - 1.0)
    const = -math.log(2.0 - p) - g * math.log(p - 1.0)
    unit = sw.shape[0] == 0
    a = 1.0 - p
    b = 2.0 - p
    total = 0.0
    log_y = 0.0
    m = 0
    for i in range(y.shape[0]):
        s = 1.0 if unit else sw[i]
        r = raw[i]
        term = -math.exp(b * r) / b
        if y[i] > 0.0:
            term += y[i] * math.exp(a * r) / a
            ly = math.log(y[i])
            base[m] = g * ly + const
            swp[m] = s
            log_y += s * ly
            m += 1
        total += s * term
    return m, total, log_y


def tweedie_cp_mle_log_phi(y, raw, sample_weight, p, log_phi0, lo, hi):
    """``log phi`` maximising the compound Poisson-gamma log-likelihood on ``[lo, hi]``
    (the first value of :func:`tweedie_cp_mle`)."""
    return tweedie_cp_mle(y, raw, sample_weight, p, log_phi0, lo, hi)[0]


def tweedie_cp_mle(y, raw, sample_weight, p, log_phi0, lo, hi):
    """``(log phi, loglik)``: the ``log phi`` maximising the compound Poisson-gamma
    log-likelihood on ``[lo, hi]`` and the weighted log-likelihood there (the full
    one, ``sum_i s_i logpdf_i`` with the ``-log y`` constant), from the sums the
    maximisation computed anyway: no further pass of the series.

    Halley steps (Newton's with the third derivative: a cubic rate; the series
    gives the first three derivatives in ``log phi`` from the cumulants of
    ``j``), falling back to Newton's step where the correction is large; a step
    that does not increase the log-likelihood is halved, a non-concave point
    takes a unit step along the slope.  A step below ``1e-6`` is taken without
    a further evaluation: the point it reaches is within ``~1e-13`` of the
    maximum (the former rule, Newton steps until one below ``1e-10`` after it,
    evaluated the series two to three more times for digits beyond double
    precision of ``phi``).  The log-likelihood at that point is the third-order
    Taylor expansion from the last evaluation (``f + f' s + f'' s^2 / 2 + f''' s^3 / 6``
    with ``|s| < 1e-6``: the remainder ``f'''' s^4 / 24`` is below the rounding of
    the sum; PERF: the separate log-density pass cost a sixth of a 200,000-row fit).
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    r = np.ascontiguousarray(raw, dtype=np.float64)
    sw = np.empty(0) if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float64)
    p = float(p)
    base = np.empty(y.shape[0])
    swp = np.empty(y.shape[0])
    m, B, log_y = _mle_prepare(y, r, sw, p, base, swp)
    base, swp = base[:m], swp[:m]
    g = (2.0 - p) / (p - 1.0)
    sums = np.empty(4)

    def evaluate(L):
        """Log-likelihood (without the ``-log y`` constant) and its first three
        derivatives in ``L = log phi``."""
        if _log_series_rows(base, (1.0 + g) * L, g, swp, np.empty(0), sums) > _MAX_TERMS:
            raise _too_many()
        e = B * math.exp(-L)
        g1 = 1.0 + g
        return e + sums[0], -e - g1 * sums[1], e + g1 * g1 * sums[2], -e - g1 * g1 * g1 * sums[3]

    L = min(max(float(log_phi0), lo), hi)
    f, d1, d2, d3 = evaluate(L)
    for _ in range(100):
        step = -d1 / d2 if d2 < 0 else math.copysign(1.0, d1)
        if d2 < 0:
            q = 1.0 + step * d3 / (2.0 * d2)  # (Halley: step / q)
            if 0.5 <= q <= 2.0:
                step /= q
        step = max(-2.0, min(2.0, step))
        if d2 < 0 and abs(step) < 1e-6:
            Ln = min(max(L + step, lo), hi)
            t = Ln - L
            return Ln, f + t * (d1 + t * (d2 / 2.0 + t * d3 / 6.0)) - log_y
        accepted = False
        for _ in range(60):
            Ln = min(max(L + step, lo), hi)
            if Ln == L:
                break
            fn, d1n, d2n, d3n = evaluate(Ln)
            if fn >= f - 1e-13 * abs(f):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            break
        moved = abs(Ln - L)
        L, f, d1, d2, d3 = Ln, fn, d1n, d2n, d3n
        if moved < 1e-10:
            break
    return L, f - log_y
