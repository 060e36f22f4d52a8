"""Closed-form weighted least squares (with an optional ridge term), accurate on
ill-conditioned designs."""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

__all__ = ["least_squares"]


def _rcond(cho, G):
    """LAPACK's estimate of ``1 / cond_1(G)`` from its Cholesky factor ``cho`` (as
    returned by ``scipy.linalg.cho_factor``); O(p^2) after the factorisation.  The
    ratio of the factor's diagonal underestimates the condition (Wampler 1)."""
    c, low = cho
    anorm = float(np.max(np.sum(np.abs(G), axis=0))) if G.size else 0.0
    rc, info = la.lapack.dpocon(c, anorm, uplo="L" if low else "U")
    return float(rc) if info == 0 else 0.0


def least_squares(X, y, sw, offset, fit_intercept, l2_reg):
    """Closed form of ``mean_s (y - o - X w - b)^2 + l2/2 ||w||^2``.

    Weighted centring removes the intercept; the (ridge-augmented) normal
    equations are solved by Cholesky on the equilibrated Gram matrix, or by an
    SVD least-squares solve of the weighted design when that matrix is
    ill-conditioned (the NIST Longley problem), so the solution is accurate to
    the conditioning of ``X`` itself rather than its square; a rank-deficient
    design gets the minimum-norm solution, as ``LinearRegression``.
    """
    n, p = X.shape
    z = y if offset is None else y - offset
    omega = np.full(n, 1.0 / n) if sw is None else sw / sw.sum()
    if fit_intercept:
        xbar = np.asarray(X.T @ omega).ravel()
        zbar = float(omega @ z)
    else:
        xbar, zbar = np.zeros(p), 0.0
    zc = z - zbar
    ridge = 0.5 * l2_reg
    if p == 0:
        return np.zeros(0), zbar
    if sp.issparse(X):
        Xw = X.multiply(omega[:, None]).tocsr()
        G = np.asarray((X.T @ Xw).toarray()) - np.outer(xbar, xbar)
        rhs = np.asarray(Xw.T @ zc).ravel()
        w = _solve_gram(G, rhs, ridge)
    else:
        Xf = np.asarray(X, dtype=np.float64)
        sq = np.sqrt(omega)
        A = (Xf - xbar) * sq[:, None] if fit_intercept else Xf * sq[:, None]
        b = zc * sq
        # units: columns and target scaled to a largest entry of 1 before any product,
        # so the Gram matrix cannot overflow or underflow (w = sb u / sa)
        sa = np.max(np.abs(A), axis=0) if n else np.ones(p)
        sa = np.where((sa > 0) & np.isfinite(sa), sa, 1.0)
        sb = float(np.max(np.abs(b))) if n else 1.0
        sb = sb if sb > 0 and np.isfinite(sb) else 1.0
        As, bs = A / sa, b / sb
        G = As.T @ As
        u = _solve_gram(G, As.T @ bs, ridge / sa / sa, fallback=(As, bs), wscale=sa)
        w = sb * (u / sa)
    return w, zbar - float(xbar @ w)


def _solve_gram(G, rhs, ridge, fallback=None, wscale=None):
    p = G.shape[0]
    d = np.sqrt(np.maximum(np.diag(G), 0.0))
    d[d == 0] = 1.0
    Gs = G / d[:, None] / d[None, :]
    Gs[np.diag_indices(p)] += ridge / d**2
    ridge = np.broadcast_to(ridge, (p,))
    ridge = ridge if np.any(ridge) else 0.0
    try:
        c, low = la.cho_factor(Gs, check_finite=False)
        diag = np.abs(np.diag(c))
        # (errors grow like eps * cond(G): beyond 1e6 the SVD of the design keeps 10 digits)
        if diag.min() > 0 and _rcond((c, low), Gs) > 1e-6:
            return la.cho_solve((c, low), rhs / d, check_finite=False) / d
    except la.LinAlgError:
        pass
    if fallback is not None:
        A, b = fallback
        if np.any(ridge):
            A = np.vstack([A, np.diag(np.broadcast_to(np.sqrt(ridge), (p,)))])
            b = np.concatenate([b, np.zeros(p)])
        # SVD least squares on the equilibrated design: accurate to the condition
        # of X.  A rank-deficient X has many solutions: the one of minimum norm
        # in w itself (as LinearRegression; unique, so weights and repeated rows
        # agree) is found along the null space of the equilibrated design.
        return _min_norm(A / d, b, d, 1e-12, wscale)
    return _min_norm(Gs, rhs / d, d, 1e-13, wscale)


def _min_norm(As, b, d, cond, wscale=None):
    """``w = u / d`` with ``u`` solving ``As u ~ b``, of minimum ``||w / wscale||`` (the
    caller's coefficients are ``w / wscale`` when it scaled the columns by ``wscale``)."""
    dw = d if wscale is None else d * wscale
    U, S, Vt = la.svd(As, full_matrices=False, check_finite=False, lapack_driver="gesdd")
    keep = S > cond * (S[0] if S.size else 0.0)
    u = Vt[keep].T @ ((U[:, keep].T @ b) / S[keep])
    null = la.null_space(Vt[keep]) if keep.sum() < As.shape[1] else np.zeros((As.shape[1], 0))
    if null.shape[1]:
        z = la.lstsq(null / dw[:, None], -u / dw, check_finite=False)[0]
        u = u + null @ z
    return u / d
