"""The capability checks of :func:`check_loss`: every declaration a loss makes
is compared with what the loss computes."""

import numpy as np

from ._checks_api import _fmt


class _CapabilityChecks:
    """Checks of ``y_domain``, ``piecewise_linear`` / ``pieces`` / ``kinks``,
    ``multiclass_margin``, ``multiclass_shift_invariant``, ``hessian_is_constant``,
    the likelihood's ``variance_power`` and ``fused_linear_kernel``."""

    def check_capabilities(self, y, raw, yk):
        from skloss.losses import Interval

        loss = self.loss
        dom = loss.y_domain
        if not isinstance(dom, Interval):
            self.fail("capabilities", f"y_domain must be a skloss.losses.Interval; got {dom!r}.")
        for flag in ("multiclass_shift_invariant", "may_lack_minimiser", "hessian_is_constant"):
            if not isinstance(getattr(loss, flag), (bool, np.bool_)):
                self.fail("capabilities", f"{flag} must be True or False; got {getattr(loss, flag)!r}.")
        if not self.is_clf:
            self._check_domain_agrees(dom)
        self._check_pieces(y, raw)
        if self.is_clf:
            self._check_multiclass_declarations(yk)
        self._check_constant_hessian(y, raw)
        self._check_variance_power(y)
        self._check_fused(y, yk)

    # ------------------------------------------------------------ domain
    def _check_domain_agrees(self, dom):
        values = np.array([-1e6, -2.5, -1.0, -0.5, 0.0, 1e-9, 0.5, 1.0, 1.5, 3.0, 1e6])
        inside = dom.mask(values)
        for v, ok in zip(values, inside):
            try:
                self.loss.validate_y(np.array([v]))
                accepted = True
            except ValueError:
                accepted = False
            if accepted != bool(ok):
                self.fail("capabilities", f"y_domain {dom} {'contains' if ok else 'excludes'} {v!r}, but "
                                          f"validate_y {'rejects' if ok else 'accepts'} it.")

    # ------------------------------------------------------------ pieces
    def _check_pieces(self, y, raw):
        loss = self.loss
        if loss.piecewise_linear is None:
            if loss.kinks:
                self.fail("capabilities", f"kinks {loss.kinks} without piecewise_linear.")
            return
        try:
            A, C = loss.pieces(y)
        except Exception as exc:
            self.fail("capabilities", f"pieces(y) raised {type(exc).__name__}: {exc}")
        expected = np.asarray(self.call("capabilities", "loss", y, raw), dtype=np.float64)
        got = np.max(A * raw[:, None] + C, axis=1)
        self.assert_close("capabilities", "max_j (A_ij raw + C_ij) from pieces(y)", got, expected, y, raw,
                          rtol=1e-10, atol=1e-12)
        # the kinks: where two pieces meet, the loss has a corner
        for kink in loss.kinks:
            if self.is_clf:
                yy = np.array([1.0])
                r0 = np.array([kink])
            else:
                yy = np.array([float(y[0])])
                r0 = yy + kink
            h = 1e-6 * max(1.0, abs(float(r0[0])))
            left = (self.loss.loss(yy, r0)[0] - self.loss.loss(yy, r0 - h)[0]) / h
            right = (self.loss.loss(yy, r0 + h)[0] - self.loss.loss(yy, r0)[0]) / h
            if not right > left + 1e-6:
                self.fail("capabilities", f"no kink of the loss at u = {kink!r} (one-sided slopes {left:.6g}, "
                                          f"{right:.6g}).")

    # ------------------------------------------------------------ multi-class form
    def _check_multiclass_declarations(self, yk):
        loss, k = self.loss, self.k
        rawk = self.rng.normal(0.0, 2.0, (yk.shape[0], k))
        base = np.asarray(self.call("capabilities", "loss", yk, rawk), dtype=np.float64)
        shifted = np.asarray(self.call("capabilities", "loss", yk, rawk + 1.25), dtype=np.float64)
        invariant = bool(np.allclose(base, shifted, rtol=1e-10, atol=1e-12))
        if invariant != bool(loss.multiclass_shift_invariant):
            self.fail("capabilities", f"multiclass_shift_invariant={loss.multiclass_shift_invariant!r}, but adding "
                                      f"1.25 to all K scores {'leaves' if invariant else 'changes'} the loss.")
        margin = loss.multiclass_margin
        if margin is not None:
            idx = yk.astype(np.intp)
            other = rawk.copy()
            other[np.arange(yk.shape[0]), idx] = -np.inf
            expected = np.maximum(0.0, float(margin) + other.max(axis=1) - rawk[np.arange(yk.shape[0]), idx])
            self.assert_close("capabilities", f"Crammer-Singer form with margin {margin!r}", base, expected, yk,
                              rawk, rtol=1e-10, atol=1e-12)

    # ------------------------------------------------------------ Hessian
    def _check_constant_hessian(self, y, raw):
        loss = self.loss
        if not loss.has_hessian:
            if loss.hessian_is_constant:
                self.fail("capabilities", "hessian_is_constant=True without a Hessian.")
            return
        h1 = np.asarray(self.call("capabilities", "hessian", y, raw), dtype=np.float64)
        h2 = np.asarray(self.call("capabilities", "hessian", y, raw + 0.75), dtype=np.float64)
        constant = bool(np.allclose(h1, h2, rtol=1e-12, atol=0.0))
        if loss.hessian_is_constant and not constant:
            self.fail("capabilities", f"hessian_is_constant=True, but the Hessian changes with raw: "
                                      f"{_fmt(h1[:4])} vs {_fmt(h2[:4])}.")

    # ------------------------------------------------------------ GLM family
    def _check_variance_power(self, y):
        try:
            lik = self.loss.likelihood
        except Exception:
            return
        power = None if lik is None else getattr(lik, "variance_power", None)
        if power is None or self.is_clf:
            return
        loss = self.loss
        yy = y[y > 0] if np.any(y > 0) else y
        raw = np.asarray(loss.link(yy), dtype=np.float64) + self.rng.normal(0.0, 0.5, yy.shape[0])
        mu = np.asarray(loss.inverse_link(raw), dtype=np.float64)
        step = 1e-6 * np.maximum(1.0, np.abs(raw))
        dmu = (np.asarray(loss.inverse_link(raw + step)) - np.asarray(loss.inverse_link(raw - step))) / (2 * step)
        g = np.asarray(self.call("capabilities", "gradient", yy, raw), dtype=np.float64) / dmu
        score = (mu - yy) / mu**power
        keep = np.abs(score) > 1e-8 * np.max(np.abs(score))
        ratio = g[keep] / score[keep]
        if not (np.all(ratio > 0) and np.allclose(ratio, np.median(ratio), rtol=1e-5)):
            self.fail("capabilities", f"the likelihood declares variance_power={power!r}, but the gradient is not "
                                      "a constant times (mu - y) / mu^power dmu/draw (the GLM score).")

    # ------------------------------------------------------------ fused pass
    def _check_fused(self, y, yk):
        import scipy.sparse as sp

        from skloss.linear_model._objective import _FUSED_CALLS, LinearObjective

        loss = self.loss
        for sparse in (False, True):
            for multiclass in (False, True):
                name = loss.fused_linear_kernel(sparse=sparse, multiclass=multiclass)
                if name is None:
                    continue
                if name not in _FUSED_CALLS:
                    self.fail("capabilities", f"fused_linear_kernel names {name!r}, which the linear objective "
                                              "does not know.")
                if multiclass and not self.is_clf:
                    self.fail("capabilities", "a regression loss declares a multi-class fused pass.")
                target = yk if multiclass else y
                n = target.shape[0]
                X = self.rng.normal(0.0, 0.3, (n, 3))
                X = sp.csr_matrix(X) if sparse else X
                k = self.k if multiclass else 1
                fused = LinearObjective(loss, X, target, None, n_outputs=k, l2_reg=0.1)
                fused._lossfn = loss
                fused._fused, fused._fused_name = True, name
                fused._params = np.ascontiguousarray(loss._kernel_params(), dtype=np.float64)
                generic = LinearObjective(loss, X, target, None, n_outputs=k, l2_reg=0.1)
                generic._fused, generic._lossfn = False, loss
                coef = self.rng.normal(0.0, 0.5, fused.n_coef)
                f1, g1 = fused.value_grad(coef)
                f2, g2 = generic.value_grad(coef)
                if not (np.isclose(f1, f2, rtol=1e-10) and np.allclose(g1, g2, rtol=1e-8, atol=1e-12)):
                    self.fail("capabilities", f"the fused pass {name!r} (sparse={sparse}, multiclass={multiclass}) "
                                              f"gives value {f1!r} and gradient {_fmt(g1)}; the generic evaluation "
                                              f"{f2!r} and {_fmt(g2)}.")
