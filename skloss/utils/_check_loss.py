"""``check_loss``: a battery of numerical and API checks for any loss object."""

import pickle
import warnings

import numpy as np
from sklearn.base import clone

__all__ = ["check_loss", "CheckLossError"]

_EXTREMES = (-1e6, -1e3, 1e3, 1e6)
_F32_MAX = float(np.finfo(np.float32).max)


class CheckLossError(AssertionError):
    """Raised by :func:`check_loss` when a check fails.

    Attributes
    ----------
    check : str
        The name of the failing check (a key of the report of
        :func:`check_loss`).
    """

    def __init__(self, loss, check, detail):
        self.check = check
        super().__init__(f"check_loss({loss!r}) failed [{check}]: {detail}")


def _fmt(x):
    return np.array2string(np.asarray(x), precision=10, separator=", ", threshold=8)


class _Checker:
    def __init__(self, loss, rng, rtol, n_samples, n_classes):
        self.loss = loss
        self.rng = rng
        self.rtol = rtol
        self.n = n_samples
        self.k = n_classes
        self.is_clf = loss.task == "classification"

    # ---------------------------------------------------------------- helpers
    def fail(self, check, detail):
        raise CheckLossError(self.loss, check, detail)

    def call(self, check, method, *args, **kwargs):
        """Call a loss method; exceptions and numpy warnings become failures."""
        with warnings.catch_warnings(record=True) as caught, np.errstate(
            over="warn", divide="warn", invalid="warn", under="ignore"
        ):
            warnings.simplefilter("always")
            try:
                out = getattr(self.loss, method)(*args, **kwargs)
            except Exception as exc:
                self.fail(check, f"{method}() raised {type(exc).__name__}: {exc}")
        bad = [w for w in caught if issubclass(w.category, (RuntimeWarning, UserWarning))]
        if bad:
            self.fail(check, f"{method}() emitted a warning: {bad[0].category.__name__}: {bad[0].message}")
        return out

    def where(self, y, raw, idx):
        i = idx if np.ndim(idx) == 0 else idx[0]
        return f"y={_fmt(y[i])}, raw={_fmt(raw[i])}"

    def assert_close(self, check, what, got, expected, y, raw, rtol=1e-10, atol=1e-12):
        got = np.asarray(got)
        expected = np.asarray(expected)
        if got.shape != expected.shape:
            self.fail(check, f"{what}: shape {got.shape}, expected {expected.shape}.")
        ok = np.isclose(got, expected, rtol=rtol, atol=atol) | (np.isnan(got) & np.isnan(expected))
        if not np.all(ok):
            bad = np.argwhere(~ok)[0]
            row = bad[0]
            self.fail(
                check,
                f"{what} at {self.where(y, raw, row)}: expected {_fmt(expected[tuple(bad)])}, "
                f"got {_fmt(got[tuple(bad)])}.",
            )

    # ----------------------------------------------------------- sample data
    def targets(self):
        """Targets the loss accepts: y (n,), and (n_k,) class indices."""
        loss, rng, n = self.loss, self.rng, self.n
        if self.is_clf:
            y = rng.integers(0, 2, n).astype(np.float64)
            y[:2] = (0.0, 1.0)
            yk = rng.integers(0, self.k, n).astype(np.float64)
            yk[: self.k] = np.arange(self.k)
            self.validate_accepts(y)
            self.validate_accepts(yk)
            return y, yk
        candidates = (
            ("real", np.round(rng.normal(0.0, 2.0, n), 3)),
            ("counts", rng.poisson(2.0, n).astype(np.float64)),
            ("positive", np.round(rng.uniform(0.2, 5.0, n), 3)),
            ("unit interval", np.round(rng.uniform(0.05, 0.95, n), 3)),
        )
        accepted = []
        for _, y in candidates:
            try:
                loss.validate_y(y)
            except ValueError:
                continue
            accepted.append(y)
        if not accepted:
            self.fail(
                "validate_y",
                "validate_y rejects every candidate target set "
                f"({', '.join(c[0] for c in candidates)}); check_loss cannot sample targets.",
            )
        y = np.concatenate(accepted)
        try:
            loss.validate_y(y)
        except ValueError:
            y = accepted[0]
        return y, None

    def validate_accepts(self, y):
        try:
            self.loss.validate_y(y)
        except Exception as exc:
            self.fail("validate_y", f"validate_y rejected valid targets {_fmt(y)}: {exc}")

    def raw_for(self, y):
        if self.is_clf:
            return self.rng.normal(0.0, 2.0, y.shape[0])
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z = np.asarray(self.loss.link(y), dtype=np.float64)
        z = np.where(np.isfinite(z), z, 0.0)
        return z + self.rng.normal(0.0, 1.0, y.shape[0])

    # ------------------------------------------------------------ the checks
    def check_attributes(self):
        from skloss.losses import Link, Loss

        loss = self.loss
        if not isinstance(loss, Loss):
            self.fail("attributes", f"not a skloss.losses.Loss instance: {type(loss).__name__}.")
        if not isinstance(loss.name, str) or not loss.name:
            self.fail("attributes", f"name must be a non-empty string; got {loss.name!r}.")
        if loss.task not in ("regression", "classification"):
            self.fail("attributes", f"task must be 'regression' or 'classification'; got {loss.task!r}.")
        for flag in ("is_smooth", "has_hessian", "is_probabilistic", "has_multiclass_form"):
            if not isinstance(getattr(loss, flag), (bool, np.bool_)):
                self.fail("attributes", f"{flag} must be a bool; got {getattr(loss, flag)!r}.")
        if not isinstance(loss.link, Link):
            self.fail("attributes", f"link must be a skloss.losses.Link; got {loss.link!r}.")
        if loss.is_probabilistic and not self.is_clf:
            self.fail("attributes", "is_probabilistic is True for a regression loss.")

    def check_params(self):
        loss = self.loss
        try:
            params = loss.get_params(deep=False)
            twin = clone(loss)
        except Exception as exc:
            self.fail("params", f"get_params/clone raised {type(exc).__name__}: {exc}")
        if twin is loss or type(twin) is not type(loss):
            self.fail("params", "clone did not return a new object of the same type.")
        if not twin == loss:
            self.fail("params", f"clone is not equal to the original: {twin!r} != {loss!r}.")
        if hash(twin) != hash(loss):
            self.fail("params", "equal losses (a clone) have different hashes.")
        if twin.set_params(**params) is not twin:
            self.fail("params", "set_params must return the loss itself.")
        if twin.get_params(deep=False) != params or not twin == loss:
            self.fail("params", "set_params(**get_params()) changed the parameters.")
        try:
            repr(loss)
        except Exception as exc:
            self.fail("params", f"repr raised {type(exc).__name__}: {exc}")

    def check_pickle(self, y, raw):
        try:
            twin = pickle.loads(pickle.dumps(self.loss))
        except Exception as exc:
            hint = ""
            if type(self.loss).__name__ == "CustomLoss":
                hint = " (a custom loss pickles when its functions are module-level, not lambdas)"
            self.fail("pickle", f"pickling failed: {type(exc).__name__}: {exc}{hint}")
        if not twin == self.loss:
            self.fail("pickle", f"the unpickled loss {twin!r} is not equal to the original.")
        expected = self.call("pickle", "loss", y, raw)
        got = twin.loss(y, raw)
        self.assert_close("pickle", "loss of the unpickled copy", got, expected, y, raw, rtol=0, atol=0)

    def check_validate_y(self, y, yk):
        loss = self.loss
        bad = [("NaN", np.nan), ("inf", np.inf), ("-inf", -np.inf)]
        if self.is_clf:
            bad += [("a negative class index", -1.0), ("a non-integer class", 0.5)]
        for label, value in bad:
            yb = y.copy()
            yb[1] = value
            try:
                loss.validate_y(yb)
            except ValueError as exc:
                if loss.name not in str(exc):
                    self.fail("validate_y", f"the message for {label} does not name the loss: {exc}")
                continue
            except Exception as exc:
                self.fail("validate_y", f"{label} in y_true raised {type(exc).__name__}, not ValueError: {exc}")
            self.fail("validate_y", f"validate_y accepted y_true containing {label}.")

    def check_shapes_dtypes(self, y, raw, sw):
        loss = self.loss
        n = raw.shape[0]
        for dtype in (np.float64, np.float32):
            yd, rd, wd = y.astype(dtype), raw.astype(dtype), sw.astype(dtype)
            out = {
                "loss": self.call("dtype", "loss", yd, rd, wd),
                "gradient": self.call("dtype", "gradient", yd, rd, wd),
            }
            lg = self.call("dtype", "loss_gradient", yd, rd, wd)
            out["loss_gradient[0]"], out["loss_gradient[1]"] = lg
            if loss.has_hessian:
                out["hessian"] = self.call("dtype", "hessian", yd, rd, wd)
                gh = self.call("dtype", "gradient_hessian", yd, rd, wd)
                out["gradient_hessian[0]"], out["gradient_hessian[1]"] = gh
            for what, arr in out.items():
                shape = (n,) if what.startswith("loss") and not what.endswith("[1]") else rd.shape
                if not isinstance(arr, np.ndarray):
                    self.fail("dtype", f"{what} returned {type(arr).__name__}, not an ndarray.")
                if arr.shape != shape:
                    self.fail("dtype", f"{what} on raw of shape {rd.shape} has shape {arr.shape}, expected {shape}.")
                if arr.dtype != dtype:
                    self.fail(
                        "dtype",
                        f"{what} on {np.dtype(dtype).name} input returned {arr.dtype}, "
                        f"expected {np.dtype(dtype).name}.",
                    )
        # lists, integer targets and integer raw predictions are accepted
        got = self.call("dtype", "loss", y.tolist(), raw.tolist())
        self.assert_close("dtype", "loss on Python lists", got, self.call("dtype", "loss", y, raw), y, raw)
        if got.dtype != np.float64:
            self.fail("dtype", f"loss on Python lists returned {got.dtype}, expected float64.")

    def check_float32(self, y, raw, sw):
        # float32 results are the float64 results (of the rounded inputs), rounded
        y32, r32, w32 = y.astype(np.float32), raw.astype(np.float32), sw.astype(np.float32)
        y64, r64, w64 = (a.astype(np.float64) for a in (y32, r32, w32))
        methods = ["loss", "gradient"] + (["hessian"] if self.loss.has_hessian else [])
        for method in methods:
            got = self.call("float32", method, y32, r32, w32)
            ref = self.call("float32", method, y64, r64, w64)
            with np.errstate(over="ignore"):
                ref32 = ref.astype(np.float32)
            self.assert_close(
                "float32", f"{method} in float32 vs float64", got, ref32, y64, r64, rtol=1e-4, atol=1e-6
            )

    def check_vectorised(self, y, raw):
        methods = ["loss", "gradient"] + (["hessian"] if self.loss.has_hessian else [])
        idx = np.arange(min(raw.shape[0], 8))
        for method in methods:
            batch = self.call("vectorised", method, y, raw)
            single = np.stack([self.call("vectorised", method, y[i : i + 1], raw[i : i + 1])[0] for i in idx])
            self.assert_close(
                "vectorised", f"{method} of one sample vs the batch", single, batch[idx], y, raw, rtol=1e-12
            )

    def check_consistency(self, y, raw, sw):
        loss = self.loss
        for weights in (None, sw):
            lval = self.call("consistency", "loss", y, raw, weights)
            grad = self.call("consistency", "gradient", y, raw, weights)
            l2, g2 = self.call("consistency", "loss_gradient", y, raw, weights)
            self.assert_close("consistency", "loss_gradient()[0] vs loss()", l2, lval, y, raw)
            self.assert_close("consistency", "loss_gradient()[1] vs gradient()", g2, grad, y, raw)
            if loss.has_hessian:
                hess = self.call("consistency", "hessian", y, raw, weights)
                g3, h3 = self.call("consistency", "gradient_hessian", y, raw, weights)
                self.assert_close("consistency", "gradient_hessian()[0] vs gradient()", g3, grad, y, raw)
                self.assert_close("consistency", "gradient_hessian()[1] vs hessian()", h3, hess, y, raw)
                d = self.rng.normal(size=raw.shape)
                hp = self.call("consistency", "hessian_product", y, raw, d, weights)
                if raw.ndim == 1 or not loss.has_multiclass_form:
                    self.assert_close("consistency", "hessian_product vs hessian * direction", hp, hess * d, y, raw)

    def check_sample_weight(self, y, raw, sw):
        loss = self.loss
        methods = ["loss", "gradient"] + (["hessian"] if loss.has_hessian else [])
        for method in methods:
            plain = self.call("sample_weight", method, y, raw)
            weighted = self.call("sample_weight", method, y, raw, sw)
            w = sw if plain.ndim == 1 else sw[:, None]
            self.assert_close(
                "sample_weight", f"{method} with sample_weight vs sample_weight * {method}",
                weighted, w * plain, y, raw, rtol=1e-10,
            )
            ones = self.call("sample_weight", method, y, raw, np.ones_like(sw))
            self.assert_close("sample_weight", f"{method} with unit weights vs no weights", ones, plain, y, raw, rtol=1e-12)

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

    # ------------------------------------------------------------ link, init
    def check_inverse_link(self, raw, rawk):
        loss = self.loss
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.is_clf and loss.is_probabilistic:
                p = np.asarray(loss.inverse_link(raw))
                if p.shape != raw.shape or np.any(~((p >= 0) & (p <= 1))):
                    self.fail("inverse_link", f"inverse_link of a 1-D raw score is not a probability: {_fmt(p)}.")
                pk = np.asarray(loss.inverse_link(rawk))
                if pk.shape != rawk.shape or np.any(~((pk >= 0) & (pk <= 1))):
                    self.fail("inverse_link", f"inverse_link of (n, K) raw is not probabilities: {_fmt(pk)}.")
                if not np.allclose(pk.sum(axis=1), 1.0, rtol=0, atol=1e-10):
                    self.fail("inverse_link", f"rows of inverse_link(raw (n, K)) sum to {_fmt(pk.sum(axis=1))}, not 1.")
            invertible = ("identity", "log", "log1p", "logit", "half_logit", "probit")
            if loss.link.name in invertible:
                r = np.linspace(-3.0, 3.0, 13)
                back = loss.link(loss.inverse_link(r))
                if not np.allclose(back, r, rtol=1e-8, atol=1e-8):
                    self.fail("inverse_link", f"link(inverse_link(raw)) != raw: {_fmt(r)} -> {_fmt(back)}.")

    def _mean_loss(self, y, c, sw, k=None):
        n = y.shape[0]
        raw = np.full(n, float(c)) if k is None else np.broadcast_to(c, (n, k)).copy()
        val = self.call("init_raw_prediction", "loss", y, raw, sw)
        return float(val.sum() / (n if sw is None else sw.sum()))

    def check_init(self, y, yk, sw, swk):
        loss = self.loss
        problems = [(y, sw, None), (y, None, None)]
        if self.is_clf:
            problems += [(yk, swk, self.k), (yk, None, self.k)]
        for yy, ww, k in problems:
            try:
                c0 = loss.init_raw_prediction(yy, ww) if k is None else loss.init_raw_prediction(yy, ww, n_classes=k)
            except Exception as exc:
                self.fail("init_raw_prediction", f"raised {type(exc).__name__}: {exc}")
            c0 = np.asarray(c0, dtype=np.float64)
            shape = () if k is None else (k,)
            if c0.shape != shape or not np.all(np.isfinite(c0)):
                self.fail("init_raw_prediction", f"returned {_fmt(c0)}; expected a finite value of shape {shape}.")
            m0 = self._mean_loss(yy, c0, ww, k)
            tol = 1e-9 * (1.0 + abs(m0))
            for j in range(1 if k is None else k):
                for delta in (1e-3, 1e-2, 1e-1, 1.0):
                    for sign in (1.0, -1.0):
                        c = c0.copy()
                        step = sign * delta * max(1.0, float(np.abs(c0).max()))
                        if k is None:
                            c = c0 + step
                        else:
                            c[j] += step
                        m = self._mean_loss(yy, c, ww, k)
                        if m < m0 - tol:
                            self.fail(
                                "init_raw_prediction",
                                f"not a minimiser of the {'weighted ' if ww is not None else ''}mean loss "
                                f"({'K=' + str(k) if k else '1-D'}): mean loss {m0!r} at {_fmt(c0)}, "
                                f"but {m!r} at {_fmt(c)}.",
                            )


def check_loss(loss, *, random_state=0, rtol=1e-5, n_samples=40, n_classes=3, skip=()):
    """Check a loss object numerically and against the loss protocol.

    Works on any loss: a built-in one (or its registry name), one made by
    :func:`skloss.losses.make_loss`, or a subclass of :class:`skloss.losses.Loss`.
    The checks, in order (the keys of the returned report):

    ``attributes``
        ``name``, ``task``, the boolean flags and ``link`` are well formed.
    ``params``
        ``get_params`` / ``set_params`` round trip, ``clone`` is equal with an
        equal hash, ``repr`` works.
    ``evaluate``
        ``loss``, ``gradient`` (and ``hessian``) run on the sample points
        without an exception or a numpy warning.
    ``validate_y``
        Targets sampled for the task are accepted (regression: every candidate
        set among real, counts, positive and unit-interval values that
        ``validate_y`` accepts; classification: {0, 1} and {0, ..., K-1}); NaN
        and infinities (and, for classification, negative or non-integer labels)
        are rejected with a ``ValueError`` that names the loss.
    ``pickle``
        A pickled copy is equal and computes the same values.
    ``dtype``
        Shapes and dtypes of every output: float64 in, float64 out; float32 in,
        float32 out; Python lists accepted.
    ``float32``
        float32 results equal the float64 results of the same (rounded) inputs
        to float32 precision.
    ``vectorised``
        One sample at a time gives what the batch gives.
    ``consistency``
        ``loss_gradient`` equals ``(loss, gradient)``, ``gradient_hessian``
        equals ``(gradient, hessian)``, ``hessian_product`` equals
        ``hessian * direction`` (binary and one-vs-rest forms).
    ``sample_weight``
        Weights multiply every output; unit weights change nothing.
    ``gradient`` / ``hessian``
        Against central finite differences at random points (targets as above,
        raw predictions around ``link(y)``).  For a non-smooth loss, points
        where the one-sided differences disagree (a kink within the step) are
        skipped, and there the gradient must lie between them (a subgradient);
        the Hessian check skips kinks of the gradient for every loss.
    ``no_hessian``
        Without a Hessian, ``hessian``, ``gradient_hessian`` and
        ``loss_gradient_hessian`` raise ``HessianUnavailableError``.
    ``extremes``
        At raw predictions of +-1e3 and +-1e6, float64 and float32: no NaN, no
        numpy warning, the loss never -inf; the gradient and Hessian are finite
        wherever the loss is finite (an honest +inf loss is allowed where the
        true value exceeds the float range, e.g. ``exp(1e3)``); float32 agrees
        with float64; and the derivatives match finite differences wherever the
        loss is finite.
    ``multiclass``
        Classification: all of the above on the K-score form (``(n, K)`` raw,
        targets in {0, ..., K-1}), and ``hessian_product`` against differences
        of the gradient along a random direction.
    ``likelihood``
        Where the loss has a likelihood: its ``logpdf`` is finite at the sample
        points and the derivative of ``-logpdf`` in the raw prediction is the
        loss gradient times one positive constant (the loss is the negative
        log-likelihood up to a scale and terms free of the raw prediction).
    ``inverse_link``
        Probabilistic losses give probabilities (rows summing to 1 for K
        scores); ``link(inverse_link(raw)) == raw`` for invertible links.
    ``init_raw_prediction``
        Returns a finite constant (shape ``(K,)`` for K classes) that is a local
        minimiser of the (weighted) mean loss: no neighbour at relative distance
        1e-3 to 1 has a lower mean loss.
    ``not_mutated``
        Nothing was written on the loss while it was used.

    Parameters
    ----------
    loss : Loss or str
        The loss to check (a name is resolved with :func:`~skloss.losses.get_loss`).
    random_state : int, default=0
        Seed of the random points.
    rtol : float, default=1e-5
        Relative tolerance of the finite-difference comparisons (1e-4 at the
        extreme points); an absolute tolerance from the round-off of the
        differences is added.
    n_samples : int, default=40
        Random points per target set.
    n_classes : int, default=3
        K for the multi-class form.
    skip : iterable of str, default=()
        Names of checks to skip, e.g. ``("pickle",)`` for a custom loss made of
        lambdas.

    Returns
    -------
    report : dict
        ``{check name: "passed" | "skipped: <reason>"}``.

    Raises
    ------
    CheckLossError
        (a subclass of ``AssertionError``) at the first failing check; the
        message names the check, the point (``y``, ``raw``) and the expected and
        obtained values.

    Examples
    --------
    >>> from skloss.utils import check_loss
    >>> report = check_loss("squared_error")
    >>> report["gradient"]
    'passed'
    """
    from skloss.losses import get_loss

    loss = get_loss(loss) if isinstance(loss, str) else loss
    skip = set(skip)
    rng = np.random.default_rng(random_state)
    ck = _Checker(loss, rng, rtol, int(n_samples), int(n_classes))
    report = {}

    def run(name, func, *args):
        if name in skip:
            report[name] = "skipped: asked"
            return
        out = func(*args)
        report[name] = out if isinstance(out, str) else "passed"

    ck.check_attributes()
    report["attributes"] = "passed"
    snapshot = {k: v for k, v in vars(loss).items()}
    run("params", ck.check_params)
    y, yk = ck.targets()
    raw = ck.raw_for(y)
    sw = rng.uniform(0.5, 2.0, y.shape[0])
    def evaluate():
        # a first call of each method, so that a loss that cannot be evaluated
        # at all (a compile error, a missing method) fails here, named as such
        ck.call("evaluate", "loss", y, raw)
        ck.call("evaluate", "gradient", y, raw)
        if loss.has_hessian:
            ck.call("evaluate", "hessian", y, raw)

    run("evaluate", evaluate)
    run("validate_y", ck.check_validate_y, y, yk)
    run("pickle", ck.check_pickle, y, raw)
    run("dtype", ck.check_shapes_dtypes, y, raw, sw)
    run("float32", ck.check_float32, y, raw, sw)
    run("vectorised", ck.check_vectorised, y, raw)
    run("consistency", ck.check_consistency, y, raw, sw)
    run("sample_weight", ck.check_sample_weight, y, raw, sw)

    def derivatives():
        g, h = ck.check_derivatives(y, raw, sw)
        if g == 0:
            ck.fail("gradient", "no random point could be checked (the loss is not finite, or kinks everywhere).")
        return h

    if "gradient" in skip:
        report["gradient"] = "skipped: asked"
    else:
        h = derivatives()
        report["gradient"] = "passed"
        if loss.has_hessian:
            report["hessian"] = "passed" if h else "skipped: kinks at every point"
    if not loss.has_hessian:
        report["hessian"] = "skipped: has_hessian is False"
        run("no_hessian", ck.check_no_hessian, y, raw)

    if ck.is_clf:
        y_ext = [0.0, 1.0]
    else:
        y_ext = sorted({float(np.min(y)), float(np.median(y)), float(np.max(y))})
    run("extremes", ck.check_extremes, y_ext, None)

    def multiclass():
        rawk = rng.normal(0.0, 2.0, (yk.shape[0], ck.k))
        swk = rng.uniform(0.5, 2.0, yk.shape[0])
        ck.check_shapes_dtypes(yk, rawk, swk)
        ck.check_float32(yk, rawk, swk)
        ck.check_vectorised(yk, rawk)
        ck.check_consistency(yk, rawk, swk)
        ck.check_sample_weight(yk, rawk, swk)
        ck.check_derivatives(yk, rawk, swk, suffix=" (multi-class form)")
        if loss.has_hessian:
            ck.check_hessian_product(yk, rawk, swk)
        else:
            ck.check_no_hessian(yk, rawk)
        ck.check_extremes(None, ck.k)

    def likelihood():
        out = ck.check_likelihood(y, raw)
        if ck.is_clf and out is None:
            rawk = rng.normal(0.0, 2.0, (yk.shape[0], ck.k))
            ck.check_likelihood(yk, rawk)
        return out

    run("likelihood", likelihood)
    if ck.is_clf:
        run("multiclass", multiclass)
    else:
        report["multiclass"] = "skipped: regression loss"
    rawk = rng.normal(0.0, 2.0, (max(ck.k, 2), ck.k))
    run("inverse_link", ck.check_inverse_link, raw, rawk)
    swk = rng.uniform(0.5, 2.0, yk.shape[0]) if yk is not None else None
    run("init_raw_prediction", ck.check_init, y, yk, sw, swk)

    after = vars(loss)
    changed = sorted(set(after) ^ set(snapshot) | {k for k in snapshot if k in after and after[k] is not snapshot[k]})
    if changed:
        ck.fail("not_mutated", f"attributes written on the loss while it was used: {changed}.")
    report["not_mutated"] = "passed"
    return report
