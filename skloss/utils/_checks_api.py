"""The API, shape, dtype, weight and start-value checks of :func:`check_loss`."""

import pickle
import warnings

import numpy as np
from sklearn.base import clone


class CheckLossError(AssertionError):
    """Raised by :func:`check_loss` when a check fails.

    Attributes
    ----------
    check : str
        The name of the failing check (a key of the report of
        :func:`check_loss`).
    """

    def __init__(self, message, check=None):
        super().__init__(message)
        self.check = check

    def __reduce__(self):
        return type(self), (str(self), self.check)


def _fmt(x):
    return np.array2string(np.asarray(x), precision=10, separator=", ", threshold=8)


class _ApiChecks:
    """Helpers, sample data and the API checks (numeric ones: ``_NumericChecks``)."""

    def __init__(self, loss, rng, rtol, n_samples, n_classes):
        self.loss = loss
        self.rng = rng
        self.rtol = rtol
        self.n = n_samples
        self.k = n_classes
        self.is_clf = loss.task == "classification"

    # ---------------------------------------------------------------- helpers
    def fail(self, check, detail):
        raise CheckLossError(f"check_loss({self.loss!r}) failed [{check}]: {detail}", check)

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
            self.assert_close(
                "sample_weight", f"{method} with unit weights vs no weights", ones, plain, y, raw, rtol=1e-12
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

