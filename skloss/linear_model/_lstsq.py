"""Closed-form weighted least squares (with an optional ridge term), accurate on
ill-conditioned designs."""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

__all__ = ["least_squares", "centred_gram", "information_inverse", "weighted_gram"]

# the Cholesky route is taken when LAPACK's estimate of 1 / cond_1 of the equilibrated
# (ridge-augmented) Gram matrix exceeds this: errors grow like eps * cond(G), so beyond
# 1e6 the SVD of the design (accurate to cond(X), not its square) keeps 10 digits
_RCOND_MIN = 1e-6
# the Gram matrix of the raw (uncentred, unscaled) columns is used only when every
# entry of its diagonal lies in this range (no overflow / gradual underflow) ...
_SAFE = (1e-200, 1e200)
# ... and every column's squared weighted mean is at most this multiple of its weighted
# variance, so that centring the Gram matrix (S - xbar xbar^T) loses at most one bit;
# otherwise the centred copy of X is formed first (as every other least-squares code)
_MEAN_TO_SD2 = 1.0
# columns (intercept included) up to which the unit-weight Gram matrix is the tiled
# product (a full gemm per tile of rows) rather than BLAS syrk on X (half the products):
# 20,000 rows, one thread: 26 columns 0.64 against 0.70 ms (and the column sums with
# it), 51 columns 1.87 against 1.83 ms, 101 columns 8.2 against 4.9 ms
_TILE_GRAM_MAX = 32


_potrf, _potrs, _pocon, _potri = la.lapack.dpotrf, la.lapack.dpotrs, la.lapack.dpocon, la.lapack.dpotri


def _rcond(cho, G):
    """LAPACK's estimate of ``1 / cond_1(G)`` from its Cholesky factor ``cho`` (as
    returned by ``scipy.linalg.cho_factor``); O(p^2) after the factorisation.  The
    ratio of the factor's diagonal underestimates the condition (Wampler 1)."""
    c, low = cho
    anorm = float(np.abs(G).sum(axis=0).max()) if G.size else 0.0  # (the methods: no wrappers)
    rc, info = _pocon(c, anorm, uplo="L" if low else "U")
    return float(rc) if info == 0 else 0.0


def _cholesky(G):
    """``(factor, d)`` of the equilibrated ``G / d d^T`` when it is positive definite
    and well conditioned (``_RCOND_MIN``), else ``(None, d)``; ``factor`` is a lower
    Cholesky factor for :func:`_cho_solve` (LAPACK directly: the SciPy wrappers'
    checks cost more than the factorisation at 25 columns; PERF: the few NumPy
    calls below are most of its ~10 us at 26 columns)."""
    p = G.shape[0]
    d = np.sqrt(np.maximum(G.diagonal(), 0.0))
    d[d == 0] = 1.0
    Gs = G / np.multiply.outer(d, d)
    if not np.isfinite(np.add.reduce(Gs, axis=None)):  # (a NaN or inf entry: the sum is not finite)
        with np.errstate(invalid="ignore"):
            if not np.all(np.isfinite(Gs)):
                return None, d
    c, info = _potrf(Gs, lower=1, clean=1)
    if info != 0:
        return None, d
    if p and not (np.abs(c.diagonal()).min() > 0 and _rcond((c, True), Gs) > _RCOND_MIN):
        return None, d
    return (c, True), d


def _cho_solve(factor, b):
    x, info = _potrs(factor[0], b, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotrs failed (info={info})")
    return x


def least_squares(X, y, sw, offset, fit_intercept, l2_reg, return_inverse=False):
    """Closed form of ``mean_s (y - o - X w - b)^2 + l2/2 ||w||^2``.

    Weighted centring removes the intercept; the (ridge-augmented) normal
    equations are solved by Cholesky on the equilibrated Gram matrix (one BLAS
    ``syrk``; with unit weights and columns whose mean is small next to their
    spread the Gram matrix of ``X`` itself is centred afterwards, no copy of ``X``
    is made), or by an SVD least-squares solve of the weighted design when that
    matrix is ill-conditioned (the NIST Longley problem), so the solution is
    accurate to the conditioning of ``X`` itself rather than its square; a
    rank-deficient design gets the minimum-norm solution, as ``LinearRegression``.

    With ``return_inverse`` a third value is returned: the inverse of the
    *unpenalised* information ``Xa^T diag(s) Xa`` of the packed ``[w, b]``
    (``Xa = [X, 1]`` with an intercept, ``s`` the weights or ones) from the same
    Gram matrix, or None when that matrix is not well conditioned (the caller
    then computes it through the design's QR factorisation).
    """
    n, p = X.shape
    z = y if offset is None else y - offset
    if fit_intercept:
        zbar = float(np.mean(z)) if sw is None else float(sw @ z) / float(sw.sum())
    else:
        zbar = 0.0
    total = float(n) if sw is None else float(sw.sum())
    if p == 0:
        inv = np.full((1, 1), 1.0 / total) if fit_intercept else np.zeros((0, 0))
        return (np.zeros(0), zbar, inv) if return_inverse else (np.zeros(0), zbar)
    if sp.issparse(X):
        omega = np.full(n, 1.0 / n) if sw is None else sw / sw.sum()
        xbar = np.asarray(X.T @ omega).ravel() if fit_intercept else np.zeros(p)
        Xw = X.multiply(omega[:, None]).tocsr()
        G = np.asarray((X.T @ Xw).toarray()) - np.outer(xbar, xbar)
        rhs = np.asarray(Xw.T @ (z - zbar)).ravel()
        w = _solve_gram(G, rhs, 0.5 * l2_reg)
        out = (w, zbar - float(xbar @ w))
        return out + (None,) if return_inverse else out
    Xf = np.asarray(X, dtype=np.float64)
    ridge = 0.5 * l2_reg
    chol = None
    if sw is None:
        G, rhs, xbar = _raw_gram(Xf, z - zbar, n, fit_intercept)
        if G is not None:
            chol = _cholesky(G + ridge * np.eye(p) if ridge else G)
            if chol[0] is not None:
                w = _cho_solve(chol[0], rhs / chol[1]) / chol[1]
                sa = np.ones(p)
            else:
                chol = None
    if chol is None:
        # the centred, weighted design scaled to unit largest entries; SVD if the
        # Gram matrix is ill-conditioned
        G, rhs, xbar, sa, sb, design = _scaled_gram(Xf, z, zbar, sw, fit_intercept)
        u, chol = _solve_gram(G, rhs, ridge / sa / sa, fallback=design, wscale=sa, keep_factor=True)
        w = sb * (u / sa)
    out = (w, zbar - float(xbar @ w))
    if not return_inverse:
        return out
    return out + (_information_inverse(G, None if ridge else chol, xbar, sa, total, fit_intercept),)


def centred_gram(X, z, sw, fit_intercept):
    """The weighted least-squares problem in the form the L1 solvers use: the
    centred Gram matrix ``G = Ac^T Ac`` and ``rhs = Ac^T bc`` of the design and
    target centred with the weights ``omega = s / sum s`` and multiplied by
    ``sqrt(omega)``, with the columns divided by ``sa`` and the target by ``sb``
    (coefficients ``w = sb u / sa``; ``sa = 1, sb = 1`` when the Gram matrix of
    ``X`` itself was safe to use, see :func:`least_squares`).  Dense ``X`` only.

    Returns ``(G, rhs, xbar, zbar, sa, sb, rss0, raw)`` with ``rss0 = ||bc||^2`` (the
    weighted variance of the target in the scaled units) and ``raw`` True when ``G``
    and ``rhs`` are the unit-weight products of ``X`` itself (``sa = 1``, ``sb = 1``:
    their rounding errors are bounded by ``gamma_n`` times the products of the
    uncentred column norms, see :func:`skloss.linear_model._solver_cd.least_squares_cd`).
    """
    Xf = np.asarray(X, dtype=np.float64)
    n, p = Xf.shape
    if fit_intercept:
        zbar = float(np.mean(z)) if sw is None else float(sw @ z) / float(sw.sum())
    else:
        zbar = 0.0
    if sw is None:
        zc = z - zbar
        G, rhs, xbar = _raw_gram(Xf, zc, n, fit_intercept)
        if G is not None:
            rss0 = float(zc @ zc) / n
            if np.isfinite(rss0):
                return G, rhs, xbar, zbar, np.ones(p), 1.0, rss0, True
    G, rhs, xbar, sa, sb, (A, b) = _scaled_gram(Xf, z, zbar, sw, fit_intercept)
    return G, rhs, xbar, zbar, sa, sb, float(b @ b), False


def information_inverse(G, xbar, sa, total, fit_intercept):
    """Inverse of the unpenalised information ``Xa^T diag(s) Xa`` (packed ``[w, b]``)
    from :func:`centred_gram`'s ``G``, or None when ``G`` is not well conditioned."""
    return _information_inverse(G, None, xbar, sa, total, fit_intercept)


_TRIU = {}


def triu_pairs(n):
    """``np.triu_indices(n)`` as read-only arrays made once per ``n`` (PERF: ~10 us a
    call, and a softmax Hessian asks three times)."""
    pair = _TRIU.get(n)
    if pair is None:
        ia, ib = np.triu_indices(n)
        ia.flags.writeable = False
        ib.flags.writeable = False
        pair = (ia, ib)
        if len(_TRIU) < 256:
            _TRIU[n] = pair
    return pair


def weighted_gram_columns(X, W, negative, fit_intercept, ia, ib):
    """``out[m] = (sign_m * weighted_gram(X, sign_m * W[:, m], fit_intercept))[ia, ib]``
    for every column ``m`` of ``W`` (``sign_m = -1`` where ``negative``), in float64
    products, or None when some ``sign_m * W[:, m]`` is negative.

    The same tiled Grams as :func:`weighted_gram`, with the buffers made once for all
    columns and only the entries ``(ia, ib)`` symmetrised (PERF: a 5-class softmax
    Hessian on 2,000 x 25 takes ten of them, and the per-call allocations and the
    full ``0.5 (G + G^T)`` were a fifth of each)."""
    n = X.shape[0] if isinstance(X, np.ndarray) and X.ndim == 2 else 0
    out = np.empty((W.shape[1], ia.size))
    fast = n > 0 and X.dtype in (np.float32, np.float64) and X.flags.c_contiguous
    if fast:
        from skloss._kernels._gram import weighted_gram_tiles

        m = X.shape[1] + bool(fit_intercept)
        rows = min(256, n)
        tile, prod = np.empty((rows, m)), np.empty((m, m))
        G = np.empty((m, m))
        theta = np.empty(n)
        flat = G.reshape(-1)  # (a view: the entries (ia, ib) and (ib, ia) by flat index)
        upper, lower = ia * m + ib, ib * m + ia
    for k in range(W.shape[1]):
        if not fast:
            G = weighted_gram(X, (-1.0 if negative[k] else 1.0) * W[:, k], fit_intercept, dtype=np.float64)
            if G is None:
                return None
            out[k] = G[ia, ib]
        else:
            # (sign * W[:, k] as weighted_gram's caller forms it: 1.0 * x is x, -1.0 * x is -x)
            np.multiply(W[:, k], -1.0 if negative[k] else 1.0, out=theta)
            G.fill(0.0)
            status = weighted_gram_tiles(X, theta, bool(fit_intercept), rows, tile, prod, G)
            if status == 1:
                return None
            if status:
                raise RuntimeError("weighted_gram: the BLAS call failed.")
            # (the entries (ia, ib) of 0.5 (G + G^T), weighted_gram's exactly symmetric matrix)
            np.add(flat.take(upper), flat.take(lower), out=out[k])
            out[k] *= 0.5
        if negative[k]:
            np.negative(out[k], out=out[k])
    return out


def weighted_gram(X, theta, fit_intercept, dtype=np.float64):
    """``Xa^T diag(theta) Xa`` (``Xa = [X, 1]`` with an intercept) as a symmetric
    float64 matrix, for dense ``X`` and ``theta >= 0``, or None when some ``theta``
    is negative or ``X`` is not a dense array (the caller forms it otherwise).

    The rows ``sqrt(theta_i) xa_i`` are formed a tile of 256 at a time (52 KB at 26
    columns, in the core's cache) and each tile's product is added while it is hot:
    a scaled copy of all of ``X`` goes through main memory twice (idle, 2 cores:
    200,000 x 50 28 ms against 53 ms for the blocked BLAS ``syrk`` on the scaled
    rows, 2,000,000 x 25 89 ms against 212 ms; 2,000 x 25 0.08 against 0.23 ms).
    ``dtype`` is that of the products: float64 for covariances, ``X``'s dtype for
    a float32 fit's Hessian (as BLAS ``ssyrk`` on its rows)."""
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        return None
    n, p = X.shape
    fi = bool(fit_intercept)
    m = p + fi
    G = np.zeros((m, m))
    if n == 0:
        return G
    theta = np.ascontiguousarray(theta, dtype=np.float64).reshape(n)
    rows = min(256, n)
    if X.dtype in (np.float32, np.float64) and X.flags.c_contiguous:
        from skloss._kernels._gram import weighted_gram_tiles

        status = weighted_gram_tiles(X, theta, fi, rows, np.empty((rows, m), dtype=dtype),
                                     np.empty((m, m), dtype=dtype), G)
        if status == 1:
            return None
        if status:
            raise RuntimeError("weighted_gram: the BLAS call failed.")
        return 0.5 * (G + G.T)  # (exactly symmetric)
    if not np.all(theta >= 0):
        return None
    # other layouts: the same tiles by NumPy (a broadcast restarts its loop per row)
    rows = max(256, (1 << 17) // max(m, 1))
    buf = np.empty((min(rows, n), m), dtype=dtype)
    root = np.sqrt(theta)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        B = buf[: stop - start]
        np.multiply(X[start:stop], root[start:stop, None], out=B[:, :p])
        if fi:
            B[:, p] = root[start:stop]
        G += B.T @ B
    return 0.5 * (G + G.T)


def _raw_gram(Xf, zc, n, fit_intercept):
    """``(G, rhs, xbar)`` of the unit-weight centred problem from ``X^T X`` (no copy of
    ``X``), or ``(None, None, None)`` when that loses accuracy or leaves the safe range.

    Two reads of ``X``: the Gram matrix of ``[X, 1]`` (its last column the column
    sums) by the tiled product of :func:`weighted_gram` at unit weights, and one
    matrix-vector product for ``X^T zc`` (PERF: 20,000 x 25, one BLAS thread: 0.69 +
    0.20 ms against 0.73 ms for the ``syrk`` of ``X^T X`` plus 0.37 ms for the
    column means and ``X^T zc`` by one ``(2, n) @ X``; 200,000 x 25: 9-10 + 2.2 ms
    against 13.7 + 2.5 ms; the same at 2,000 rows).  Other layouts: the ``syrk``
    and the ``(2, n) @ X`` (NumPy's ``mean(axis=0)`` on a C-ordered array of 25
    columns ran at a third of a BLAS pass).
    """
    p = Xf.shape[1]
    fi = bool(fit_intercept)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        M = _unit_gram(Xf, fi)
        if M is not None:
            M /= n
            S = M[:p, :p]
            xbar = M[:p, p].copy() if fi else np.zeros(p)
            rhs = zc @ Xf
            rhs /= n
        else:
            S = Xf.T @ Xf
            S /= n
            if fi:
                # ((2, n) @ X: 2.4 ms at 200,000 x 25 against 7.0 ms for X^T @ (n, 2))
                B = np.empty((2, n))
                B[0] = 1.0
                B[1] = zc
                M = B @ Xf
                M /= n
                xbar, rhs = M[0], M[1]
            else:
                xbar = np.zeros(p)
                rhs = Xf.T @ zc
                rhs /= n
        G = S - np.multiply.outer(xbar, xbar)
        ds = S.diagonal()
        if not (np.isfinite(np.add.reduce(S, axis=None)) and np.isfinite(np.add.reduce(rhs))):
            return None, None, None
        nz = ds[ds > 0]
        if not ((nz.size == 0 or (nz.min() >= _SAFE[0] and nz.max() <= _SAFE[1]))
                and bool(np.all(xbar * xbar <= _MEAN_TO_SD2 * G.diagonal()))):
            return None, None, None
    return G, rhs, xbar


def _unit_gram(Xf, fit_intercept):
    """``Xa^T Xa`` (``Xa = [X, 1]`` with an intercept) by the tiled product, exactly
    symmetric, for a C-contiguous float64 ``X`` of at most ``_TILE_GRAM_MAX`` columns
    (intercept included); else None."""
    if (not (Xf.flags.c_contiguous and Xf.dtype == np.float64) or Xf.shape[0] == 0
            or Xf.shape[1] + fit_intercept > _TILE_GRAM_MAX):
        return None
    from skloss._kernels._gram import weighted_gram_tiles

    n, p = Xf.shape
    m = p + fit_intercept
    rows = min(256, n)
    M = np.zeros((m, m))
    status = weighted_gram_tiles(Xf, np.ones(n), fit_intercept, rows, np.empty((rows, m)),
                                 np.empty((m, m)), M)
    if status:
        return None
    return 0.5 * (M + M.T)


def _scaled_gram(Xf, z, zbar, sw, fit_intercept):
    """The Gram matrix of the centred, weighted design with columns and target scaled
    to a largest entry of 1 (so it cannot overflow or underflow; ``w = sb u / sa``):
    ``(G, rhs, xbar, sa, sb, (A, b))``."""
    n, p = Xf.shape
    omega = np.full(n, 1.0 / n) if sw is None else sw / sw.sum()
    xbar = np.asarray(Xf.T @ omega).ravel() if fit_intercept else np.zeros(p)
    sq = np.sqrt(omega)
    A = Xf - xbar
    A *= sq[:, None]
    b = (z - zbar) * sq
    sa = np.maximum(np.max(A, axis=0), -np.min(A, axis=0)) if n else np.ones(p)
    sa = np.where((sa > 0) & np.isfinite(sa), sa, 1.0)
    sb = float(np.max(np.abs(b))) if n else 1.0
    sb = sb if sb > 0 and np.isfinite(sb) else 1.0
    A /= sa
    b /= sb
    return A.T @ A, A.T @ b, xbar, sa, sb, (A, b)


def _information_inverse(G, chol, xbar, sa, total, fit_intercept):
    """Inverse of ``Xa^T diag(s) Xa`` in packed ``[w, b]`` order from the centred,
    ``omega``-weighted Gram matrix ``G`` of the columns scaled by ``1 / sa``:
    the block inverse ``[[Gc^-1, -Gc^-1 xbar], [., 1 + xbar^T Gc^-1 xbar]] / total``."""
    p = G.shape[0]
    if chol is None:
        chol = _cholesky(G)
    factor, d = chol
    if factor is None:
        return None
    # (LAPACK potri: the inverse from the factor, one triangle, mirrored exactly)
    inv, info = _potri(factor[0], lower=1)
    if info != 0:
        return None
    # (the factor's upper triangle is zero, potrf's clean=1, and potri leaves it so)
    Ginv = inv + inv.T
    Ginv.flat[:: p + 1] = inv.diagonal()
    ds = d * sa
    Ginv /= np.multiply.outer(ds, ds)
    if not fit_intercept:
        return Ginv / total
    out = np.empty((p + 1, p + 1))
    gx = Ginv @ xbar
    out[:p, :p] = Ginv
    out[:p, p] = -gx
    out[p, :p] = -gx
    out[p, p] = 1.0 + float(xbar @ gx)
    return out / total


def _solve_gram(G, rhs, ridge, fallback=None, wscale=None, keep_factor=False):
    p = G.shape[0]
    ridge = np.broadcast_to(ridge, (p,))
    ridge = ridge if np.any(ridge) else 0.0
    Gr = G + np.diag(ridge) if np.any(ridge) else G
    factor, d = chol = _cholesky(Gr)
    if factor is not None:
        u = _cho_solve(factor, rhs / d) / d
        return (u, chol) if keep_factor else u
    if fallback is not None:
        A, b = fallback
        if np.any(ridge):
            A = np.vstack([A, np.diag(np.broadcast_to(np.sqrt(ridge), (p,)))])
            b = np.concatenate([b, np.zeros(p)])
        # SVD least squares on the equilibrated design: accurate to the condition
        # of X.  A rank-deficient X has many solutions: the one of minimum norm
        # in w itself (as LinearRegression; unique, so weights and repeated rows
        # agree) is found along the null space of the equilibrated design.
        u = _min_norm(A / d, b, d, 1e-12, wscale)
    else:
        u = _min_norm(Gr / d[:, None] / d[None, :], rhs / d, d, 1e-13, wscale)
    return (u, (None, d)) if keep_factor else u


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
