"""The numerical checks of :func:`check_loss`: finite differences, extremes, likelihood."""

import warnings

import numpy as np

from ._checks_api import _fmt

_EXTREMES = (-1e6, -1e3, 1e3, 1e6)


class _NumericChecks:
    """Finite-difference, extreme-value and likelihood checks (a mixin of the checker)."""

    # ------------------------------------------------------------ derivatives
    def _step(self, raw):
        h = 6e-6 * np.maximum(1.0, np.abs(raw))
        return (raw + h) - raw  # exactly representable

    def fd_derivative(self, check, what, f, g, y, raw, col=None, kinks=False, rtol=None):
        """Compare g(raw) with central differences of f (element-wise functions).

        ``f`` and ``g`` map a raw array to an (n,) array (the column ``col`` of a
        2-D output for multi-class forms).  With ``kinks``, points where the
        one-sided differences disagree (a kink within the step) are skipped, and
        there the derivative must lie between them (a subgradient).
        Returns the number of points checked.
        """
        rtol = self.rtol if rtol is None else rtol
        r = raw if col is None else raw[:, col]
        h = self._step(r)

        def shifted(s):
            rs = raw.copy()
            if col is None:
                rs += s
            else:
                rs[:, col] += s
            return f(rs)

        f0, fp, fm = f(raw), shifted(h), shifted(-h)
        deriv = g(raw)
        finite = np.isfinite(f0) & np.isfinite(fp) & np.isfinite(fm)
        f0, fp, fm = (np.where(finite, a, 0.0) for a in (f0, fp, fm))
        central = (fp - fm) / (2 * h)
        # round-off bound of the central difference, from the size of the values
        scale = np.maximum(np.abs(fp), np.abs(fm))
        atol = 1e3 * np.finfo(np.float64).eps * scale / h + 1e-12
        with np.errstate(invalid="ignore", over="ignore"):
            tol = rtol * np.maximum(np.abs(deriv), np.abs(central)) + atol
        use = finite.copy()
        if kinks:
            fwd = (fp - f0) / h
            bwd = (f0 - fm) / h
            kink = np.abs(fwd - bwd) > 1e-3 * (1.0 + np.abs(central)) + 2 * atol
            lo, hi = np.minimum(fwd, bwd), np.maximum(fwd, bwd)
            outside = finite & kink & ((deriv < lo - tol) | (deriv > hi + tol))
            if np.any(outside):
                i = int(np.argmax(outside))
                self.fail(
                    check,
                    f"{what} at the kink {self.where(y, raw, i)}: {_fmt(deriv[i])} is not between the "
                    f"one-sided differences {_fmt(bwd[i])} and {_fmt(fwd[i])}.",
                )
            use &= ~kink
        bad = use & ~(np.abs(deriv - central) <= tol)
        if np.any(bad):
            i = int(np.argmax(bad))
            self.fail(
                check,
                f"{what} at {self.where(y, raw, i)}"
                + ("" if col is None else f" (column {col})")
                + f": expected {_fmt(central[i])} (central finite difference, step {h[i]:.3g}), "
                f"got {_fmt(deriv[i])}.",
            )
        return int(use.sum())

    def _fd_pair(self, y, raw, sw, col=None):
        loss = self.loss

        def pick(a):
            return a if col is None else a[:, col]

        def f_loss(r):
            return self.call("gradient", "loss", y, r, sw)

        def f_grad(r):
            return pick(self.call("gradient", "gradient", y, r, sw))

        def f_hess(r):
            return pick(self.call("hessian", "hessian", y, r, sw))

        return f_loss, f_grad, (f_hess if loss.has_hessian else None)

    def check_derivatives(self, y, raw, sw, rtol=None, suffix=""):
        # weights are checked on their own ("sample_weight"); None here keeps the
        # messages about the derivatives themselves
        sw = None
        loss = self.loss
        cols = [None] if raw.ndim == 1 else list(range(raw.shape[1]))
        checked_g = checked_h = 0
        for col in cols:
            f_loss, f_grad, f_hess = self._fd_pair(y, raw, sw, col)
            checked_g += self.fd_derivative(
                "gradient" + suffix, "gradient", f_loss, f_grad, y, raw, col, kinks=not loss.is_smooth, rtol=rtol
            )
            if f_hess is not None:
                # the gradient of a smooth loss may still have kinks (Huber)
                checked_h += self.fd_derivative(
                    "hessian" + suffix, "hessian", f_grad, f_hess, y, raw, col, kinks=True, rtol=rtol
                )
        return checked_g, checked_h

    def check_hessian_product(self, y, raw, sw):
        """Full multi-class Hessian times a direction vs differences of the gradient."""
        d = self.rng.normal(size=raw.shape)
        try:
            hp = self.loss.hessian_product(y, raw, d, sw)
        except Exception as exc:
            self.fail("hessian_product", f"hessian_product on (n, K) raw raised {type(exc).__name__}: {exc}")
        h = 1e-5
        gp = self.call("hessian_product", "gradient", y, raw + h * d, sw)
        gm = self.call("hessian_product", "gradient", y, raw - h * d, sw)
        g0 = self.call("hessian_product", "gradient", y, raw, sw)
        central = (gp - gm) / (2 * h)
        # skip rows where the gradient has a kink along d
        kink = np.abs((gp - g0) - (g0 - gm)).max(axis=1) / h > 1e-3 * (1 + np.abs(central).max(axis=1))
        tol = self.rtol * np.maximum(np.abs(hp), np.abs(central)) + 1e-7 * (1 + np.abs(g0))
        bad = ~kink[:, None] & ~(np.abs(hp - central) <= tol)
        if np.any(bad):
            i, j = np.argwhere(bad)[0]
            self.fail(
                "hessian_product",
                f"hessian_product at {self.where(y, raw, i)}, direction {_fmt(d[i])}: component {j} "
                f"expected {_fmt(central[i, j])} (central difference of the gradient), got {_fmt(hp[i, j])}.",
            )

    def check_no_hessian(self, y, raw):
        from skloss.losses import HessianUnavailableError

        for method in ("hessian", "gradient_hessian", "loss_gradient_hessian"):
            try:
                getattr(self.loss, method)(y, raw)
            except HessianUnavailableError:
                continue
            except Exception as exc:
                self.fail(
                    "no_hessian",
                    f"has_hessian is False and {method}() raised {type(exc).__name__}, "
                    f"not HessianUnavailableError: {exc}",
                )
            self.fail("no_hessian", f"has_hessian is False but {method}() returned a value.")

    def check_likelihood(self, y, raw):
        """The likelihood's negative log-density has the loss's gradient, up to a
        positive constant factor (the loss is the NLL up to scale and terms free
        of the raw prediction)."""
        lik = self.loss.likelihood
        if lik is None:
            return "skipped: no likelihood"
        if raw.ndim == 2 and not self.loss.has_multiclass_form:
            return None

        def nll(r):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return -np.asarray(lik.logpdf(y, r), dtype=np.float64)

        try:
            base = nll(raw)
        except Exception as exc:
            self.fail("likelihood", f"{type(lik).__name__}.logpdf raised {type(exc).__name__}: {exc}")
        if base.shape != (raw.shape[0],) or not np.all(np.isfinite(base)):
            i = int(np.argmax(~np.isfinite(base))) if base.shape == (raw.shape[0],) else 0
            self.fail(
                "likelihood",
                f"{type(lik).__name__}.logpdf must be finite of shape ({raw.shape[0]},); got shape "
                f"{base.shape}, value {_fmt(-base.ravel()[i])} at {self.where(y, raw, i)}.",
            )
        grad = self.call("likelihood", "gradient", y, raw)
        cols = [None] if raw.ndim == 1 else list(range(raw.shape[1]))
        fds, gs = [], []
        for col in cols:
            r = raw if col is None else raw[:, col]
            h = self._step(r)
            plus, minus = raw.copy(), raw.copy()
            if col is None:
                plus += h
                minus -= h
            else:
                plus[:, col] += h
                minus[:, col] -= h
            fp, fm = nll(plus), nll(minus)
            fwd, bwd = (fp - base) / h, (base - fm) / h
            smooth = np.abs(fwd - bwd) <= 1e-3 * (1.0 + np.abs(fwd) + np.abs(bwd))
            fds.append(np.where(smooth, (fp - fm) / (2 * h), np.nan))
            gs.append(grad if col is None else grad[:, col])
        fd, g = np.concatenate(fds), np.concatenate(gs)
        ok = np.isfinite(fd)
        if not np.any(ok):
            return None
        denom = float(np.dot(g[ok], g[ok]))
        if denom == 0.0:
            return None
        c = float(np.dot(fd[ok], g[ok])) / denom
        scale = np.abs(fd[ok]).max()
        resid = np.abs(fd[ok] - c * g[ok])
        if c <= 0 or np.any(resid > 1e-4 * scale + 1e-8):
            i = int(np.argmax(resid))
            n = raw.shape[0]
            row = np.flatnonzero(ok)[i] % n
            self.fail(
                "likelihood",
                f"the derivative of -{type(lik).__name__}.logpdf is not proportional to the loss "
                f"gradient: best factor {c:.6g}, but at {self.where(y, raw, row)} "
                f"d(-logpdf)/draw = {_fmt(fd[ok][i])} vs factor * gradient = {_fmt(c * g[ok][i])}.",
            )
        return None

    # --------------------------------------------------------------- extremes
    def check_extremes(self, y_values, width):
        loss = self.loss
        vals = []
        if width is None:
            for yv in y_values:
                for e in _EXTREMES:
                    vals.append((yv, e))
            y = np.array([v[0] for v in vals])
            raw = np.array([v[1] for v in vals])
        else:
            rows = []
            for e in (1e3, 1e6):
                grid = np.array(np.meshgrid(*[[-e, 0.0, e]] * width)).reshape(width, -1).T
                rows.append(grid)
            grid = np.concatenate(rows)
            y = np.repeat(np.arange(width, dtype=np.float64), grid.shape[0])
            raw = np.tile(grid, (width, 1))
        methods = ["loss", "gradient"] + (["hessian"] if loss.has_hessian else [])
        out64 = {}
        for dtype in (np.float64, np.float32):
            yd, rd = y.astype(dtype), raw.astype(dtype)
            for method in methods:
                out = self.call("extremes", method, yd, rd)
                if np.any(np.isnan(out)):
                    i = np.argwhere(np.isnan(out))[0][0]
                    self.fail("extremes", f"{method} is NaN ({np.dtype(dtype).name}) at {self.where(y, raw, i)}.")
                if dtype == np.float64:
                    out64[method] = out
                else:
                    with np.errstate(over="ignore"):
                        ref = out64[method].astype(np.float32)
                    self.assert_close(
                        "extremes", f"{method} in float32 vs float64", out, ref, y, raw, rtol=1e-4, atol=1e-6
                    )
        lval = out64["loss"]
        if np.any(lval == -np.inf):
            i = int(np.argmax(lval == -np.inf))
            self.fail("extremes", f"loss is -inf at {self.where(y, raw, i)}.")
        finite = np.isfinite(lval)
        for method in methods[1:]:
            arr = out64[method]
            rowfin = finite if arr.ndim == 1 else finite[:, None]
            bad = rowfin & ~np.isfinite(arr)
            if np.any(bad):
                i = np.argwhere(bad)[0][0]
                self.fail(
                    "extremes",
                    f"{method} is {_fmt(arr[i])} where the loss is finite ({_fmt(lval[i])}) at "
                    f"{self.where(y, raw, i)}.",
                )
        # an infinite value must be a true overflow: just before it turns
        # infinite along the segment from raw = 0, it is beyond 1e100 (exp(r)
        # reaches ~1e308); a jump from a moderate value to inf means an
        # intermediate overflowed (log(1 + exp(r)) evaluated naively)
        for method in methods:
            arr = out64[method]
            infrows = np.unique(np.argwhere(np.isinf(arr))[:, 0])
            for i in infrows[:20]:
                self._check_overflow(method, y[i : i + 1], raw[i : i + 1])
        # derivatives at the extremes, where the loss is finite (looser tolerance).
        # A step relative to |raw| suits one score (every loss is simple far from
        # its target); K scores vary on the scale of their differences: skipped.
        if width is None:
            self.check_derivatives(y, raw, None, rtol=max(self.rtol, 1e-4), suffix=" at extremes")

    def _check_overflow(self, method, y, raw):
        start = np.zeros_like(raw)

        def value(t):
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = np.asarray(getattr(self.loss, method)(y, start + t * (raw - start)))
            return np.max(np.abs(out))

        if not np.isfinite(value(0.0)):
            return
        lo, hi = 0.0, 1.0
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            if np.isfinite(value(mid)):
                lo = mid
            else:
                hi = mid
        last = value(lo)
        if last < 1e100:
            self.fail(
                "extremes",
                f"{method} is inf at {self.where(y, raw, 0)}, but along the way from raw = 0 it "
                f"jumps from {last:.6g} (at raw={_fmt(start[0] + lo * (raw[0] - start[0]))}) to inf: "
                "an intermediate overflowed where the true value is finite (use log1p/logaddexp "
                "or a log-sum-exp).",
            )

