"""Kernels of the multi-class forms of the classification losses.

``y`` holds class indices 0..K-1 (as floats); ``raw`` is (n, K).  ``out_loss`` is
(n,), ``out_grad`` and ``out_hess`` (diagonal of each sample's Hessian) are (n, K).
A class index outside 0..K-1 raises ``ValueError``.

The ``*_hessian_product`` drivers compute, row by row, the full K x K Hessian of
the sample times a direction: ``kernel(y, raw, sw, params, direction, out)``.
"""

import math

import numpy as np
from numba import njit

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2
_LN2_LO = 1.90821492927058770002e-10


# ------------------------------------------------------- vectorisable exp / log1p
# shared with the other kernel modules: skloss._kernels._math
from ._math import _exp, _log1p_pos, _weight  # noqa: E402,F401

# The two helpers every driver calls (the class check, the row exponentials) are
# compiled once on their own and inlined by LLVM (``forceinline``), not inlined
# by numba into each driver: a process that compiles several drivers compiles
# them once (measured, the six K-class drivers of the catalogue: 7.4 -> 4.7 s
# CPU; the K-class log loss at the same speed).  ``fastmath=False`` is stated so
# that they never inherit a caller's flags.


@njit(forceinline=True, error_model="numpy", fastmath=False)
def _check_classes(y, k):
    # one vectorised pass before the main loop (a raise inside it would cost
    # more): every y must be an integer in 0..K-1 (NaN fails the equality)
    bad = 0
    for i in range(y.shape[0]):
        yi = np.float64(y[i])
        inside = (yi >= 0.0) & (yi < k)
        c = np.int64(yi) if inside else np.int64(0)
        bad += (~inside) | (np.float64(c) != yi)
    if bad:
        raise ValueError("y_true must hold class indices 0, 1, ..., n_classes - 1 "
                         "matching the columns of raw_prediction")


@njit(forceinline=True, error_model="numpy", fastmath=False)
def _exp_row(raw, i, e):
    # fills e with exp(raw[i] - max); returns (max, sum, index of the max, sum
    # of the others).  e[jmax] is exactly 1 and sum = 1 + others, so 1 - p_max
    # = others / sum and log(sum) = log1p(others) keep their relative precision.
    k = raw.shape[1]
    m = np.float64(raw[i, 0])
    jmax = 0
    for j in range(1, k):
        # selects, not branches: the arg-max of random scores is unpredictable
        v = np.float64(raw[i, j])
        gt = v > m
        m = v if gt else m
        jmax = j if gt else jmax
    for j in range(k):
        e[j] = _exp(np.float64(raw[i, j]) - m)
    e[jmax] = 0.0
    so = 0.0
    for j in range(k):
        so += e[j]
    e[jmax] = 1.0
    return m, 1.0 + so, jmax, so


@njit(inline="always")
def _softmax_row(raw, i, p):
    # fills p with softmax(raw[i]) and returns log-sum-exp(raw[i])
    k = raw.shape[1]
    m, s, _, _ = _exp_row(raw, i, p)
    inv = 1.0 / s
    for j in range(k):
        p[j] *= inv
    return m + math.log(s)


# ------------------------------------------------------- categorical cross-entropy
# params[0] = label_smoothing eps: t_k = (1 - eps) 1[y == k] + eps / K
# loss = lse(raw) - sum_k t_k raw_k ; grad_k = p_k - t_k ; hess_kk = p_k (1 - p_k)


@njit(cache=True, error_model="numpy", fastmath=False)
def log_loss(y, raw, sw, params, out_loss, out_grad, out_hess):
    # One function, its helpers written out (the class check, the row
    # exponentials): inlining them at the numba level, or calling the
    # LLVM-inlined ``_check_classes`` / ``_exp_row``, compiles the same code
    # for more numba work (measured, this kernel alone after numba's start-up,
    # load 7: 1.10 -> 0.77 s CPU; the same results and speed).  ``params[1]``,
    # when given, is added to every sample's loss before weighting
    # (:func:`kl_divergence`).
    n, k = raw.shape
    bad = 0
    for i in range(n):
        yi = np.float64(y[i])
        inside = (yi >= 0.0) & (yi < k)
        c = np.int64(yi) if inside else np.int64(0)
        bad += (~inside) | (np.float64(c) != yi)
    if bad:
        raise ValueError("y_true must hold class indices 0, 1, ..., n_classes - 1 "
                         "matching the columns of raw_prediction")
    eps = params[0]
    neg_entropy = params[1] if params.shape[0] > 1 else 0.0
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    off = eps / k
    on = 1.0 - eps
    e = np.empty(k)
    for i in range(n):
        c = int(y[i])
        w = np.float64(sw[i]) if weighted else 1.0
        # e = exp(raw[i] - max) with e[jmax] exactly 1 and so the sum of the
        # others: 1 - p_max = so / s and log(s) = log1p(so) keep their
        # relative precision (selects, not branches, for the arg-max)
        m = np.float64(raw[i, 0])
        jmax = 0
        for j in range(1, k):
            v = np.float64(raw[i, j])
            gt = v > m
            m = v if gt else m
            jmax = j if gt else jmax
        for j in range(k):
            e[j] = _exp(np.float64(raw[i, j]) - m)
        e[jmax] = 0.0
        so = 0.0
        for j in range(k):
            so += e[j]
        e[jmax] = 1.0
        inv = 1.0 / (1.0 + so)
        if do_loss:
            loss = (m - on * np.float64(raw[i, c])) + _log1p_pos(so)
            if eps != 0.0:
                acc = 0.0
                for j in range(k):
                    acc += np.float64(raw[i, j])
                loss -= off * acc
            out_loss[i] = w * (loss + neg_entropy)
        if do_grad:
            wi = w * inv
            woff = w * off
            for j in range(k):
                out_grad[i, j] = e[j] * wi - woff
            if c == jmax:
                # p_c - 1 = -(others) / sum, without cancellation
                out_grad[i, c] = w * ((eps - off) - so * inv)
            else:
                out_grad[i, c] = e[c] * wi - w * (off + on)
        if do_hess:
            for j in range(k):
                pj = e[j] * inv
                out_hess[i, j] = w * pj * (1.0 - pj)
            out_hess[i, jmax] = w * inv * (so * inv)


@njit(cache=True, error_model="numpy", fastmath=False)
def kl_divergence(y, raw, sw, params, out_loss, out_grad, out_hess):
    # KL(t || p) = cross-entropy - H(t); H(t) is the same for every sample
    k = raw.shape[1]
    eps = params[0]
    off = eps / k
    on = 1.0 - eps + off
    neg_entropy = 0.0
    if on > 0.0:
        neg_entropy += on * math.log(on)
    if off > 0.0:
        neg_entropy += (k - 1) * off * math.log(off)
    ce_params = np.empty(2)
    ce_params[0] = eps
    ce_params[1] = neg_entropy
    log_loss(y, raw, sw, ce_params, out_loss, out_grad, out_hess)


@njit(cache=True, error_model="numpy", fastmath=False)
def softmax_hessian_product(raw, sw, direction, out):
    # row i: (diag(p) - p p^T) d_i, weighted
    n, k = raw.shape
    weighted = sw.shape[0] > 0
    p = np.empty(k)
    for i in range(n):
        w = _weight(sw, i, weighted)
        _softmax_row(raw, i, p)
        pd = 0.0
        for j in range(k):
            pd += p[j] * np.float64(direction[i, j])
        for j in range(k):
            out[i, j] = w * p[j] * (np.float64(direction[i, j]) - pd)


# ------------------------------------------------------- Crammer-Singer hinge
# loss = max(0, 1 + max_{k != y} r_k - r_y); subgradient e_{argmax} - e_y where
# the hinge is active (>= 0, as the binary form)


@njit(inline="always")
def _best_other(raw, i, c, k):
    best = -np.inf
    arg = -1
    for j in range(k):
        if j != c:
            v = np.float64(raw[i, j])
            if v > best or arg < 0:
                best = v
                arg = j
    return best, arg


@njit(inline="always")
def _margin_driver(y, raw, sw, margin, out_loss, out_grad, out_hess):
    n, k = raw.shape
    _check_classes(y, k)
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    for i in range(n):
        c = int(y[i])
        w = _weight(sw, i, weighted)
        best, arg = _best_other(raw, i, c, k)
        v = margin + best - np.float64(raw[i, c])
        if arg < 0:  # a single class: nothing to confuse it with
            v = -1.0
        if do_loss:
            out_loss[i] = w * v if v > 0.0 else 0.0
        if do_grad:
            for j in range(k):
                out_grad[i, j] = 0.0
            if v >= 0.0:
                out_grad[i, arg] = w
                out_grad[i, c] = -w
        if do_hess:
            for j in range(k):
                out_hess[i, j] = 0.0


@njit(cache=True, error_model="numpy", fastmath=False)
def hinge(y, raw, sw, params, out_loss, out_grad, out_hess):
    _margin_driver(y, raw, sw, 1.0, out_loss, out_grad, out_hess)


@njit(cache=True, error_model="numpy", fastmath=False)
def perceptron(y, raw, sw, params, out_loss, out_grad, out_hess):
    # loss = max(0, max_{k != y} r_k - r_y)
    _margin_driver(y, raw, sw, 0.0, out_loss, out_grad, out_hess)


# ------------------------------------------------------- softmax focal
# params = (gamma, alpha).  L = log p_y, q = 1 - p_y (summed from the other
# classes, so it keeps its precision when p_y -> 1), rho = L / q.
#   loss   = -alpha q^gamma L
#   g      = d loss / dL = alpha q^gamma (gamma p_y rho - 1)
#   grad   = g u,            u_y = q, u_j = -p_j
#   H      = G2 v v^T - g (diag(p) - p p^T),  v = u / q,
#   G2     = alpha gamma p_y q^gamma (L (q - (gamma - 1) p_y) + 2 q)


@njit(forceinline=True, error_model="numpy", fastmath=False)
def _focal_row(raw, i, c, gamma, alpha, p):
    # fills p with softmax(raw[i]); returns (loss, g, G2, q, jmax, 1 - p_jmax).
    # Compiled once per dtype and inlined by LLVM into both drivers (numba-level
    # inlining compiled it into each: focal and focal_hessian_product 3.2 -> 2.3 s
    # CPU for both dtypes, same bits)
    k = raw.shape[1]
    m, s, jmax, so_max = _exp_row(raw, i, p)
    e_c = p[c]
    # sum of the classes other than y: no cancellation in s - e_c when y is
    # not the arg-max (then e_c <= 1 <= s - e_c)
    so = so_max if jmax == c else s - e_c
    inv = 1.0 / s
    for j in range(k):
        p[j] *= inv
    q = so * inv
    py = e_c * inv
    if jmax == c:
        log_p = -_log1p_pos(so)
    else:
        log_p = (np.float64(raw[i, c]) - m) - _log1p_pos(so_max)
    rho = log_p / q if q > 0.0 else -1.0
    qg = math.pow(q, gamma)
    loss = -alpha * qg * log_p
    g = alpha * qg * (gamma * py * rho - 1.0)
    g2 = alpha * gamma * py * qg * (log_p * (q - (gamma - 1.0) * py) + 2.0 * q)
    return loss, g, g2, q, jmax, so_max * inv


@njit(cache=True, error_model="numpy", fastmath=False)
def focal(y, raw, sw, params, out_loss, out_grad, out_hess):
    n, k = raw.shape
    _check_classes(y, k)
    gamma = params[0]
    alpha = params[1]
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    p = np.empty(k)
    for i in range(n):
        c = int(y[i])
        w = _weight(sw, i, weighted)
        loss, g, g2, q, jmax, om_max = _focal_row(raw, i, c, gamma, alpha, p)
        if do_loss:
            out_loss[i] = w * loss
        if do_grad:
            for j in range(k):
                out_grad[i, j] = -w * g * p[j]
            out_grad[i, c] = w * g * q
        if do_hess:
            for j in range(k):
                vj = -p[j] / q if q > 0.0 else 0.0
                out_hess[i, j] = w * (g2 * vj * vj - g * p[j] * (1.0 - p[j]))
            if jmax != c:
                vj = -p[jmax] / q if q > 0.0 else 0.0
                out_hess[i, jmax] = w * (g2 * vj * vj - g * p[jmax] * om_max)
            out_hess[i, c] = w * (g2 - g * p[c] * q)


@njit(cache=True, error_model="numpy", fastmath=False)
def focal_hessian_product(y, raw, sw, params, direction, out):
    n, k = raw.shape
    _check_classes(y, k)
    gamma = params[0]
    alpha = params[1]
    weighted = sw.shape[0] > 0
    p = np.empty(k)
    for i in range(n):
        c = int(y[i])
        w = _weight(sw, i, weighted)
        _, g, g2, q, _, _ = _focal_row(raw, i, c, gamma, alpha, p)
        vd = np.float64(direction[i, c])
        pd = 0.0
        for j in range(k):
            dj = np.float64(direction[i, j])
            pd += p[j] * dj
            if j != c and q > 0.0:
                vd -= p[j] / q * dj
        for j in range(k):
            if j == c:
                vj = 1.0
            else:
                vj = -p[j] / q if q > 0.0 else 0.0
            out[i, j] = w * (g2 * vj * vd - g * p[j] * (np.float64(direction[i, j]) - pd))


# ------------------------------------------------------- multi-class Brier
# loss = sum_k (p_k - t_k)^2, t one-hot, p = softmax(r).  With a = p - t,
# ap = a . p and b = a - ap:  grad = 2 p * b,
# H = 2 J J + 2 (diag(p b) - (p b) p^T - p (p b)^T),  J = diag(p) - p p^T.


@njit(inline="always")
def _brier_row(raw, i, c, p, om, b):
    # fills p (softmax), om (1 - p, accurate at the arg-max and at y) and
    # b (a - a.p); returns the loss
    k = raw.shape[1]
    _, s, jmax, so = _exp_row(raw, i, p)
    soc = so if jmax == c else s - p[c]
    inv = 1.0 / s
    for j in range(k):
        p[j] *= inv
        om[j] = 1.0 - p[j]
    om[jmax] = so * inv
    om[c] = soc * inv
    q2 = 0.0  # sum_{k != y} p_k^2
    for j in range(k):
        if j != c:
            q2 += p[j] * p[j]
    ap = q2 - p[c] * om[c]
    for j in range(k):
        b[j] = p[j] - ap
    b[c] = -(om[c] * om[c] + q2)
    return q2 + om[c] * om[c]


@njit(cache=True, error_model="numpy", fastmath=False)
def brier(y, raw, sw, params, out_loss, out_grad, out_hess):
    n, k = raw.shape
    _check_classes(y, k)
    do_loss = out_loss.shape[0] > 0
    do_grad = out_grad.shape[0] > 0
    do_hess = out_hess.shape[0] > 0
    weighted = sw.shape[0] > 0
    p = np.empty(k)
    om = np.empty(k)
    b = np.empty(k)
    for i in range(n):
        c = int(y[i])
        w = _weight(sw, i, weighted)
        loss = _brier_row(raw, i, c, p, om, b)
        if do_loss:
            out_loss[i] = w * loss
        if do_grad:
            for j in range(k):
                out_grad[i, j] = 2.0 * w * p[j] * b[j]
        if do_hess:
            p2 = 0.0
            for j in range(k):
                p2 += p[j] * p[j]
            for j in range(k):
                # (J J)_jj = p_j^2 ((1 - p_j)^2 + sum_{l != j} p_l^2)
                others = p2 - p[j] * p[j]
                if om[j] < 0.5:
                    # p_j is the dominant class: sum the others directly
                    others = 0.0
                    for l in range(k):
                        if l != j:
                            others += p[l] * p[l]
                jj = p[j] * p[j] * (om[j] * om[j] + others)
                out_hess[i, j] = 2.0 * w * (jj + p[j] * b[j] * (om[j] - p[j]))


@njit(cache=True, error_model="numpy", fastmath=False)
def brier_hessian_product(y, raw, sw, params, direction, out):
    n, k = raw.shape
    _check_classes(y, k)
    weighted = sw.shape[0] > 0
    p = np.empty(k)
    om = np.empty(k)
    b = np.empty(k)
    jd = np.empty(k)
    for i in range(n):
        c = int(y[i])
        w = _weight(sw, i, weighted)
        _brier_row(raw, i, c, p, om, b)
        pd = 0.0
        pbd = 0.0
        for j in range(k):
            dj = np.float64(direction[i, j])
            pd += p[j] * dj
            pbd += p[j] * b[j] * dj
        pjd = 0.0
        for j in range(k):
            jd[j] = p[j] * (np.float64(direction[i, j]) - pd)  # J d
            pjd += p[j] * jd[j]
        for j in range(k):
            dj = np.float64(direction[i, j])
            jjd = p[j] * (jd[j] - pjd)  # J (J d)
            pb = p[j] * b[j]
            out[i, j] = 2.0 * w * (jjd + pb * dj - pb * pd - p[j] * pbd)
