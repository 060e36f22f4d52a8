"""MLELogisticRegression: linear classification with any classification loss."""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from skloss._dask import any_dask
from skloss.losses import get_loss
from skloss.utils._inputs import (check_class_weight, check_label_types, check_weight_values,
                                   validate_dense_fit_data)
from skloss.utils._state import keeps_state_on_error

from ._base import _AUTO_COV_MAX, MLELinearModel
from ._objective import LinearObjective, _NumpyLogLoss, few_rows_loss
from ._solver_select import THRESHOLDS, underdetermined
from ._solvers import quiet_blas

__all__ = ["MLELogisticRegression", "SeparationWarning", "TrivialOptimumWarning"]


def _single_kink(loss):
    """``(margin, jump)`` of the one kink of a piecewise-linear binary loss (hinge:
    (1, 1), perceptron: (0, 1); ``jump`` the change of slope there), or None: such
    a loss has no curvature but at the kink."""
    kinks = loss.kinks
    if len(kinks) != 1:
        return None
    (s1, _), (s2, _) = loss._normalised_pieces()
    return float(kinks[0]), float(s2 - s1)


class SeparationWarning(UserWarning):
    """Perfect or quasi-complete separation: the unpenalised optimum does not exist."""


class TrivialOptimumWarning(UserWarning):
    """The optimum is w = 0, b = 0 with every sample's loss zero (a loss without a
    margin, e.g. the perceptron): the fit says nothing about the data."""


def _trivial_optimum(loss, W, b, y_idx, n_classes):
    """Whether the fit is the all-zero model and the loss is zero for every
    sample there (no estimator can tell classes apart from it)."""
    if np.max(np.abs(W), initial=0.0) > 1e-12 or np.max(np.abs(b), initial=0.0) > 1e-12:
        return False
    y = np.asarray(y_idx, dtype=np.float64)
    raw = np.zeros(y.shape[0]) if n_classes == 2 else np.zeros((y.shape[0], n_classes))
    try:
        with np.errstate(all="ignore"):
            values = np.asarray(loss.loss(y, raw), dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return bool(np.all(values <= 1e-12))


def _check_classification_targets(y, classes):
    """scikit-learn's ``check_classification_targets`` (binary or multi-class labels,
    its error otherwise), without its full ``type_of_target`` scan where the sorted
    distinct labels already answer: 1-d integer or boolean labels, or floats that are
    all whole numbers, are binary or multi-class.  (PERF: ~0.3 ms a fit on 2,000 rows.)"""
    kind = y.dtype.kind
    if y.ndim == 1 and kind in "biu":
        return
    if y.ndim == 1 and kind == "f":
        with np.errstate(invalid="ignore"):  # (the same whole-number test as type_of_target)
            if np.all(np.isfinite(classes)) and np.array_equal(classes, classes.astype(int)):
                return
    check_classification_targets(y)


def _loss_is_the_nll(loss, likelihood, obj, coef, rows=256):
    """Whether the loss equals the negative log-likelihood, constants included (the
    log loss without smoothing), checked on the first rows at the fit (fewer with
    many classes: about 4,096 scores, at least 32 rows)."""
    m = min(obj.n_samples, rows, max(32, 4096 // max(1, obj.n_outputs)))
    w, b = obj.split(coef)
    Xm = obj.X[:m]
    raw = np.asarray(Xm @ (w.T if obj.n_outputs > 1 else w), dtype=np.float64) + np.asarray(b, dtype=np.float64)
    y = np.asarray(obj.y[:m], dtype=np.float64)
    # (the objective's own NumPy twin where it has one: no second look-up of the fused pass)
    few = obj._lossfn if type(obj._lossfn) is _NumpyLogLoss else few_rows_loss(loss, obj.n_outputs > 1)
    return loss_equals_nll(few, likelihood, y, raw)


def loss_equals_nll(loss, likelihood, y, raw):
    """Whether ``loss(y, raw)`` equals ``-likelihood.logpdf(y, raw)`` (constants
    included) at these targets and raw scores."""
    with np.errstate(all="ignore"):
        try:
            nll = -np.asarray(likelihood.logpdf(y, raw), dtype=np.float64)
            value = np.asarray(loss.loss(y, raw), dtype=np.float64)
        except (TypeError, ValueError):
            return False
        if value.shape != nll.shape:
            return bool(np.allclose(value, nll, rtol=1e-10, atol=1e-12))
        # (np.allclose's test, without its generic layer: ~15 us of a small fit)
        close = (value == nll) | (np.abs(value - nll) <= 1e-12 + 1e-10 * np.abs(nll))
    return bool(np.all(close))


def _loss_is_probabilistic(est):
    loss = getattr(est, "loss_", None)
    if loss is None:
        try:
            loss = get_loss(est.loss)
        except (TypeError, ValueError):
            return False
    return bool(loss.is_probabilistic)


class MLELogisticRegression(ClassifierMixin, MLELinearModel):
    r"""Linear classifier fitted by minimising any classification loss.

    With the default ``loss="log_loss"`` and ``penalty=None`` this is logistic
    regression by maximum likelihood (binary: Bernoulli; K classes: the
    multinomial / softmax model), with statsmodels-style inference
    (:meth:`summary`, :meth:`conf_int`, ``covariance_``, ``loglik_``, ``aic_``,
    ``bic_``).  Any other classification loss (``"probit"``, ``"hinge"``,
    ``"squared_hinge"``, ``"modified_huber"``, ``"perceptron"``,
    ``"exponential"``, ``"focal"``, ``"brier"``, ``"kl_divergence"`` or a loss
    object) gives the linear model that minimises it exactly.

    The objective (exactly) is

    .. math::

        \frac{\sum_i s_i\, \ell(y_i, x_i^\top w + b)}{\sum_i s_i}
        + \alpha \Big(\rho \|w\|_1 + \frac{1 - \rho}{2} \|w\|_2^2\Big)

    with sample weights ``s`` (times the class weights), ``rho = l1_ratio``
    (``penalty="l2"``: 0, ``"l1"``: 1, ``"elasticnet"``: ``l1_ratio``) and the
    intercept not penalised.  ``penalty=None`` means no penalty whatever
    ``alpha`` is.  As :func:`sklearn.metrics.log_loss` the log loss is the full
    cross-entropy (natural log), so scikit-learn's
    ``LogisticRegression(C=C)`` (l2) is ``penalty="l2", alpha=1 / (C n)``
    with ``n`` the number of samples (the sum of sample weights).

    Parameters
    ----------
    loss : str or Loss, default="log_loss"
        A classification loss: a name of
        :func:`skloss.losses.available_losses` ``("classification")``, an alias,
        or a loss object (cloned into ``loss_``).
    penalty : {"l2", "l1", "elasticnet"} or None, default=None
        The penalty; None fits the unpenalised (maximum-likelihood) model.
    alpha : float >= 0, default=0.0
        Penalty strength (ignored with a warning when ``penalty=None``).
    l1_ratio : float in [0, 1], default=0.5
        Mix of L1 in the elastic net (used with ``penalty="elasticnet"``).
    fit_intercept : bool, default=True
    solver : {"auto", "newton", "newton-cholesky", "newton-cg", "lbfgs", "prox-newton", "highs"}, default="auto"
        ``"auto"``: Newton-Cholesky for smooth losses with a Hessian (Newton-CG
        when the number of coefficients exceeds 3000), proximal Newton with an
        L1 term, HiGHS (exact linear / quadratic programme) for the
        piecewise-linear losses hinge and perceptron.  A solver that cannot
        handle the loss or penalty raises a ``ValueError`` saying why.
    max_iter : int, default=100
        Maximum number of (outer) iterations.
    tol : float, default=1e-8
        Stop when the largest absolute entry of the gradient (minimum-norm
        subgradient with an L1 term) of the objective is below ``tol``.
    class_weight : dict, "balanced" or None, default=None
        Multiplies the sample weights by per-class weights.
    warm_start : bool, default=False
        Start from the previous solution when the shapes agree.
    cov_type : {"auto", "nonrobust", "HC0", "HC1"} or None, default="auto"
        Covariance of the estimates: ``"auto"`` is the inverse observed
        information (``"nonrobust"``) for a likelihood loss (``log_loss``,
        ``probit``), the sandwich ``"HC0"`` for other losses with a Hessian
        (M-estimators) and for the binary hinge and perceptron (the curvature
        at their kink from a kernel estimate of the margins' density); none for
        their multi-class forms.  None skips inference.
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        In the dtype of ``X`` (float32 stays float32).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    loss_ : Loss
        The fitted (cloned) loss.
    objective_ : float
        The final value of the objective above (the sum over classes for a
        one-vs-rest fit).
    n_iter_ : int
        Solver iterations (the largest over one-vs-rest fits).
    converged_ : bool
    solver_ : str
        The solver that ran; ``"start"`` when the start was certified optimal
        without iterating (the perceptron at ``w = 0``: every sample's loss at the
        loss's minimum, the penalty at zero).
    multi_class_ : {"binary", "multinomial", "ovr"}
        Binary (one score), the loss's multi-class form, or one-vs-rest.
    loglik_, aic_, bic_ : float or None
        Log-likelihood, ``-2 loglik + 2 k`` and ``-2 loglik + k log n`` (``k``
        estimated coefficients, ``n`` the sum of sample weights), for likelihood
        losses fitted as binary or multinomial models; None otherwise.
    params_ : ndarray
        The parameters reported by :meth:`summary`: per output, intercept then
        coefficients; for a multinomial fit the classes ``1..K-1`` relative to
        the reference class ``classes_[0]`` (as statsmodels' ``MNLogit``).
    param_names_ : list of str
    covariance_ : ndarray of shape (n_params, n_params) or None
    bse_ : ndarray of shape (n_params,) or None
        Standard errors.
    cov_type_ : str or None
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    sklearn.linear_model.LogisticRegression, statsmodels.api.Logit

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skloss import MLELogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = MLELogisticRegression(penalty="l2", alpha=1e-3).fit(scale(X), y)
    >>> round(clf.score(scale(X), y), 3)
    0.988
    """

    _task = "classification"

    _parameter_constraints: dict = {
        **MLELinearModel._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, loss="log_loss", *, penalty=None, alpha=0.0, l1_ratio=0.5, fit_intercept=True,
                 solver="auto", max_iter=100, tol=1e-8, class_weight=None, warm_start=False,
                 cov_type="auto", verbose=0):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.cov_type = cov_type
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_error
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense or CSR; float32 is kept as float32.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (frequency weights for the inference).

        Returns
        -------
        self
        """
        if any_dask(X, y, sample_weight):  # (dask arrays: chunk-wise passes on the cluster)
            from skloss._dask._linear import fit_logistic

            return fit_logistic(self, X, y, sample_weight)
        loss = self._resolve_loss()
        # (PERF: a C-ordered, finite float array with numeric labels skips scikit-learn's
        # generic checks, ~0.2 ms a fit; see validate_dense_fit_data)
        checked = (validate_dense_fit_data(self, X, y)
                   if isinstance(X, np.ndarray) and X.flags.c_contiguous else None)
        X, y = checked if checked is not None else validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", reset=True)
        check_label_types(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        _check_classification_targets(y, classes)
        n_classes = classes.size
        if n_classes < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data; "
                f"got 1 class ({classes[0]!r})."
            )
        unit_weights = sample_weight is None and self.class_weight is None
        if unit_weights:
            # (PERF: unit weights need none of the weight checks, ~50 us of a small fit)
            sw = np.ones(X.shape[0], dtype=X.dtype)
            weighted = classes[np.bincount(y_idx, minlength=n_classes) > 0]
        else:
            sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
            if self.class_weight is not None:
                check_class_weight(self.class_weight)
                cw = compute_class_weight(self.class_weight, classes=classes, y=y)
                sw = sw * cw[y_idx].astype(X.dtype)
            check_weight_values(sw, "sample_weight (times class_weight)")
            if not np.any(sw > 0):
                raise ValueError("sample_weight (times class_weight) must have a positive entry.")
            weighted = classes[np.bincount(y_idx, weights=sw, minlength=n_classes) > 0]
        if weighted.size < 2:
            # (no finite model: the intercept, never penalised, runs off to infinity)
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes with positive "
                f"sample_weight (times class_weight); only class {weighted[0]!r} has any."
            )
        sw_arg = None if unit_weights else sw
        l1_reg, l2_reg = self._penalty_strengths()
        n, p = X.shape
        feature_names = (list(self.feature_names_in_) if hasattr(self, "feature_names_in_")
                         else [f"x{j}" for j in range(p)])
        if n_classes == 2:
            mode = "binary"
        elif loss.has_multiclass_form:
            mode = "multinomial"
        else:
            mode = "ovr"
        n_coef_total = (p + bool(self.fit_intercept)) * (1 if n_classes == 2 else n_classes)
        cov_type = self._resolve_cov_type(loss, loss.likelihood is not None, n_coef_total,
                                          two_classes=n_classes == 2)
        warm = self._warm_start_coef((1 if n_classes == 2 else n_classes, p))
        if warm is not None and getattr(self, "classes_", None) is not None and not np.array_equal(
                self.classes_, classes):
            warm = None
        penalised = l1_reg > 0 or l2_reg > 0
        # (small problems: one BLAS thread for the whole fit; see _base._blas_threads)
        with self._blas_threads(loss, X, n_classes if mode == "multinomial" else 1, cov_type,
                                l1_reg=l1_reg, l2_reg=l2_reg):
            attrs = {}
            if mode in ("binary", "multinomial"):
                k_out = 1 if mode == "binary" else n_classes
                yk = y_idx.astype(X.dtype)
                obj = LinearObjective(loss, X, yk, sw_arg, fit_intercept=self.fit_intercept, n_outputs=k_out,
                                      l2_reg=l2_reg, l1_reg=l1_reg)
                coef0, fixed = self._start(obj, loss, yk, sw_arg, warm, k_out, penalised)
                res = self._run_solver_sep(obj, coef0, fixed, loss, penalised)
                coef = res.coef
                objective_value = res.objective
                if mode == "multinomial" and self._shift_invariant(loss, obj, coef):
                    # report the centred solution (unique: sum over classes = 0); the
                    # objective is the solver's: a loss of score differences has the same
                    # data term there, and the centring moves no penalised coefficient
                    # (penalised: the intercepts only; otherwise there is no penalty)
                    coef = self._centre(obj, coef, weights=not penalised)
                W, b = obj.split(coef)
                W = np.atleast_2d(np.asarray(W, dtype=np.float64))
                b = np.atleast_1d(np.asarray(b, dtype=np.float64)) if self.fit_intercept else np.zeros(k_out)
                n_iter, converged = res.n_iter, res.converged
                # (at a trivial optimum there is no information to invert: no covariance
                # is computed, and the block below reports NaN standard errors)
                trivial = _trivial_optimum(loss, W, b, y_idx, n_classes)
                attrs.update(self._likelihood_inference(obj, coef, loss, mode, classes, feature_names,
                                                        None if trivial else cov_type, sw_arg, penalised, res))
                attrs["cov_type_"] = cov_type
            else:  # one-vs-rest: K independent binary fits (the K-score form is separable)
                Ws, bs, n_iter, converged, objective_value = [], [], 0, True, 0.0
                blocks, params, names = [], [], []
                for k in range(n_classes):
                    yk = (y_idx == k).astype(X.dtype)
                    obj = LinearObjective(loss, X, yk, sw_arg, fit_intercept=self.fit_intercept, n_outputs=1,
                                          l2_reg=l2_reg, l1_reg=l1_reg)
                    wk = None if warm is None else (warm[0][k:k + 1], warm[1][k:k + 1])
                    coef0, _ = self._start(obj, loss, yk, sw_arg, wk, 1, penalised)
                    res = self._run_solver_sep(obj, coef0, None, loss, penalised)
                    w, b_ = obj.split(res.coef)
                    Ws.append(np.asarray(w, dtype=np.float64))
                    bs.append(float(b_))
                    n_iter = max(n_iter, res.n_iter)
                    converged = converged and res.converged
                    objective_value += res.objective
                    inf = self._inference_attrs(obj, res.coef, cov_type, output_names=[str(classes[k])],
                                                feature_names=feature_names, penalised=penalised and k == 0)
                    blocks.append(inf["covariance_"])
                    params.append(inf["params_"])
                    names += inf["param_names_"]
                W, b = np.vstack(Ws), np.asarray(bs)
                attrs.update(ovr_inference_attrs(blocks, params, names, cov_type, penalised))
            if trivial if mode in ("binary", "multinomial") else _trivial_optimum(loss, W, b, y_idx, n_classes):
                note = (f"w = 0, b = 0 is the optimum: every sample's {loss.name!r} loss is zero "
                        "there (a loss without a margin), with or without a penalty; the fit says "
                        "nothing about the data and has no standard errors")
                warnings.warn(
                    f"{type(self).__name__}: {note}. Use loss='hinge' (margin 1) or a smooth loss "
                    "such as 'log_loss'.", TrivialOptimumWarning, stacklevel=3,
                )
                # the exact optimum, not the solver's round-off around it (1e-28
                # coefficients would give predictions by the sign of noise)
                W, b = np.zeros_like(W), np.zeros_like(b)
                if attrs.get("params_") is not None:
                    attrs["params_"] = np.zeros_like(attrs["params_"])
                if cov_type is not None and attrs.get("params_") is not None:
                    k = attrs["params_"].size
                    attrs["covariance_"] = np.full((k, k), np.nan)
                    attrs["bse_"] = np.full(k, np.nan)
                attrs["_inference_note"] = note
            else:
                attrs["_inference_note"] = None
            dtype = X.dtype
            attrs.update({
                "classes_": classes,
                "coef_": W.astype(dtype),
                "intercept_": b.astype(dtype),
                "loss_": loss,
                "objective_": float(objective_value),
                "n_iter_": int(n_iter),
                "converged_": bool(converged),
                "multi_class_": mode,
                "solver_": res.solver,
                "n_obs_": float(X.shape[0]) if unit_weights else float(np.sum(sw, dtype=np.float64)),
            })
        return self._assign(attrs)

    # ------------------------------------------------------------------ fit helpers
    def _start(self, obj, loss, y, sw, warm, k_out, penalised):
        p = obj.n_features
        fixed = None
        if warm is not None:
            W0, b0 = warm
            coef0 = obj.pack(W0.ravel() if k_out == 1 else W0, b0 if k_out > 1 else b0[0])
        else:
            W0 = np.zeros((k_out, p)) if k_out > 1 else np.zeros(p)
            if self.fit_intercept:
                b0 = loss.init_raw_prediction(y, sw, n_classes=k_out if k_out > 1 else None)
            else:
                b0 = 0.0
            coef0 = obj.pack(W0, b0)
        if k_out > 1 and self._shift_invariant(loss, obj, coef0):
            # a multi-class loss of score differences (softmax, Crammer-Singer) is
            # invariant to adding a constant to all classes: hold the first class's
            # unpenalised coefficients fixed (the Hessian is singular otherwise)
            fixed = np.zeros(obj.n_coef, dtype=bool)
            if not penalised:
                fixed[:p] = True
            if self.fit_intercept:
                fixed[k_out * p] = True
            if not fixed.any():
                fixed = None
        return coef0, fixed

    @staticmethod
    def _shift_invariant(loss, obj, coef):
        # a K-score form of score differences (softmax, Crammer-Singer), as declared
        return obj.n_outputs > 1 and bool(loss.multiclass_shift_invariant)

    @staticmethod
    def _centre(obj, coef, weights=True):
        W, b = obj.split(coef)
        if weights:
            W = W - W.mean(axis=0, keepdims=True)
        if obj.fit_intercept:
            b = b - b.mean()
        return obj.pack(W, b)

    def _resolve_cov_type(self, loss, likelihood, n_coef=0, two_classes=True):
        """As for every linear model, except for the hinge and the perceptron: they
        have no Hessian but one kink, and their sandwich covariance (``"HC0"`` /
        ``"HC1"``, the default with two classes) takes the curvature at the kink
        from a kernel estimate of the density of the margins there."""
        if loss.has_hessian or _single_kink(loss) is None:
            return super()._resolve_cov_type(loss, likelihood, n_coef)
        ct = self.cov_type
        if ct == "auto":
            return "HC0" if two_classes and n_coef <= _AUTO_COV_MAX else None
        if ct == "nonrobust":
            raise ValueError(
                f"cov_type='nonrobust' is the inverse information of a likelihood, and loss {loss.name!r} "
                "is not one; use cov_type='HC0' or 'HC1' (the sandwich, with the curvature at the "
                "kink estimated by a kernel) or None."
            )
        if ct is not None and not two_classes:
            raise ValueError(
                f"cov_type={ct!r} with loss {loss.name!r} is available for two classes only (the "
                "multi-class form has several kinks per sample); use cov_type=None."
            )
        return ct

    def _run_solver_sep(self, obj, coef0, fixed, loss, penalised, detect=None, certify=None, stacklevel=3):
        """Solve; on separable data (unpenalised, loss without finite minimiser) warn
        about separation instead of non-convergence.  ``detect(obj, coef, loss,
        fixed, last_step, classes_checked)`` tells separation after the solve and ``certify(obj, loss)``
        before it (defaults: the in-memory tests; a dask objective passes its own).

        Before the solve, a problem with at least as many coefficients as rows is
        checked for an exact certificate that no finite optimum exists (a class
        separated by a threshold on one feature: :func:`_separated_class`).  With
        one, the iterates only move further towards infinity, and the solver stops
        after ``THRESHOLDS["separated_max_iter"]`` iterations (or ``max_iter``, if
        smaller): the coefficients returned are finite but arbitrary either way.
        """
        prone = (not penalised) and bool(loss.may_lack_minimiser)
        if not prone:
            return self._run_solver(obj, coef0, fixed)
        certified, budget = "", None
        checked = underdetermined(obj.n_coef, obj.n_samples)  # (the certificate is sought before)
        if checked:
            certified = (certify or _certify_separation)(obj, loss)
            if certified:
                budget = min(int(self.max_iter), THRESHOLDS["separated_max_iter"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = self._run_solver(obj, coef0, fixed, max_iter=budget)
        if certified:
            separated = certified
        else:
            last_step = res.extra.get("last_step")
            if detect is None:
                with quiet_blas(obj):  # (no spinning BLAS threads left to slow numba passes)
                    separated = _detect_separation(obj, res.coef, loss, fixed, last_step, classes_checked=checked)
            else:
                separated = detect(obj, res.coef, loss, fixed, last_step, classes_checked=checked)
        for w in caught:
            if separated and "did not converge" in str(w.message):
                continue
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if separated:
            stopped = (f" With {obj.n_coef} coefficients for {obj.n_samples} rows, the solver stopped after "
                       f"{res.n_iter} iterations." if certified else "")
            warnings.warn(
                f"Perfect or quasi-complete separation: {separated}. The maximum-likelihood "
                f"estimate of the unpenalised {loss.name!r} model does not exist (some coefficients "
                f"diverge to infinity); the coefficients returned are finite but arbitrary.{stopped} "
                "Fit with a penalty instead: penalty='l2' with alpha > 0.",
                SeparationWarning,
                stacklevel=stacklevel,
            )
            res.converged = True
            res.message = "separation"
        return res

    def _likelihood_inference(self, obj, coef, loss, mode, classes, feature_names, cov_type, sw, penalised,
                              res):
        attrs = {}
        likelihood = loss.likelihood
        n_obs = obj.weight_sum
        n_params = coef.size - (obj.n_features + obj.fit_intercept if mode == "multinomial" else 0)
        if likelihood is not None:
            if _loss_is_the_nll(loss, likelihood, obj, coef):
                # no pass over X: the data term of the objective is -loglik / n
                data = res.objective - obj.l2_value(res.coef) - obj.l1_value(res.coef)
                loglik = -data * obj.weight_sum
            else:
                raw = obj.raw_prediction(coef)
                loglik = float(likelihood.loglik(obj.y, raw, sample_weight=sw))
            attrs.update(self._loglik_attrs(loglik, n_params, n_obs))
        else:
            attrs.update({"loglik_": None, "aic_": None, "bic_": None})
        if mode == "binary":
            information = None
            if cov_type is not None and not loss.has_hessian and _single_kink(loss) is not None:
                kink, jump = _single_kink(loss)
                information = jump * _kink_information(obj, coef, kink)
            attrs.update(self._inference_attrs(obj, coef, cov_type, output_names=None,
                                               feature_names=feature_names, penalised=penalised,
                                               information=information))
            return attrs
        # multinomial: classes 1..K-1 relative to the reference class classes_[0]
        p, K = obj.n_features, obj.n_outputs
        W, b = obj.split(coef)
        Wr = W - W[0]
        br = (b - b[0]) if obj.fit_intercept else b
        ref = obj.pack(Wr, br)
        drop = np.zeros(coef.size, dtype=bool)
        drop[:p] = True
        if obj.fit_intercept:
            drop[K * p] = True
        invariant = self._shift_invariant(loss, obj, coef)
        information = None
        if not invariant:
            drop = None
            ref = coef
        elif cov_type is not None and not np.array_equal(coef, res.coef):
            # a loss of score differences has the same curvature at the centred
            # coefficients as at the solver's own point, whose pass the objective kept
            with quiet_blas(obj):  # (as covariance() itself: see quiet_blas)
                information = obj.data_hessian(res.coef)
        attrs.update(self._inference_attrs(obj, coef, cov_type, output_names=[str(c) for c in classes],
                                           feature_names=feature_names, drop=drop, params=ref,
                                           penalised=penalised, information=information))
        return attrs

    # ------------------------------------------------------------------ predict
    def decision_function(self, X):
        """Raw scores ``X @ coef_.T + intercept_``: shape (n,) for two classes,
        (n, n_classes) otherwise."""
        check_is_fitted(self)
        if any_dask(X):
            from skloss._dask._predict import lazy_method

            return lazy_method(self, "decision_function", X)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        scores = X @ self.coef_.T.astype(X.dtype, copy=False)
        scores = np.asarray(scores) + self.intercept_.astype(X.dtype, copy=False)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Class labels: the sign of the score (two classes) or the arg-max."""
        if any_dask(X):
            from skloss._dask._predict import lazy_method

            return lazy_method(self, "predict", X)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]

    @available_if(_loss_is_probabilistic)
    def predict_proba(self, X):
        """Class probabilities ``inverse_link(raw)`` (only for probabilistic losses).

        For a one-vs-rest fit the K binary probabilities are normalised to sum to 1.
        """
        if any_dask(X):
            from skloss._dask._predict import lazy_method

            return lazy_method(self, "predict_proba", X)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = np.asarray(self.loss_.inverse_link(scores), dtype=scores.dtype)
            return np.column_stack([1.0 - p1, p1])
        return np.asarray(self.loss_.inverse_link(scores), dtype=scores.dtype)

    @available_if(_loss_is_probabilistic)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _summary_info(self):
        info = {
            "model": type(self).__name__,
            "loss": self.loss_.name,
            "multi_class": self.multi_class_,
            "n_obs": self.n_obs_,
            "penalty": self.penalty if self.penalty is None else f"{self.penalty} (alpha={self.alpha})",
            "cov_type": self.cov_type_,
            "loglik": self.loglik_,
            "aic": self.aic_,
            "bic": self.bic_,
            "converged": self.converged_,
        }
        if self.multi_class_ == "multinomial":
            info["reference class"] = self.classes_[0]
        if getattr(self, "_inference_note", None):
            info["note"] = self._inference_note
        return info


def ovr_inference_attrs(blocks, params, names, cov_type, penalised):
    """The inference attributes of K one-vs-rest binary fits (in memory and on dask
    arrays): their parameters side by side and a block-diagonal covariance (the
    fits share no parameter); no joint likelihood."""
    cov = None
    if cov_type is not None:
        import scipy.linalg

        cov = scipy.linalg.block_diag(*blocks)
    return {"params_": np.concatenate(params), "param_names_": names, "covariance_": cov,
            "_inference_penalised": penalised, "cov_type_": cov_type,
            "bse_": None if cov is None else np.sqrt(np.maximum(np.diag(cov), 0.0)),
            "loglik_": None, "aic_": None, "bic_": None}


def _detect_separation(obj, coef, loss, fixed=None, last_step=None, classes_checked=False):
    """A sentence describing the separation found at ``coef``, or "" if none.

    Suspicion: some sample's loss is below 1e-6 (its fitted probability is
    within 1e-6 of 0 or 1).  Binary problems of moderate size are then decided
    exactly by the linear programme of Konis (2007): separation exists iff some
    direction ``d != 0`` has ``z_i x_i.d >= 0`` for all samples.  Otherwise the
    step the solver took last (or the Newton step at ``coef``) decides: at an
    existing optimum it is negligible, along a separating direction it stays
    of order one (the Hessian vanishes there as fast as the gradient).  A binary
    step must moreover raise every margin ``z_i x_i.d`` (up to 1e-4 of the
    largest change): a separating direction, not a loose step to an optimum.
    ``classes_checked``: the class-threshold certificate (data only) was sought
    before the solve and not found; it is not sought again.
    """
    big = 1e-3 * max(1.0, float(np.max(np.abs(coef)))) if coef.size else 1e-3
    exact = obj.n_outputs == 1 and obj.n_samples * (obj.n_features + 1) <= 2e6
    if not exact and last_step is not None:
        if np.max(np.abs(last_step), initial=0.0) <= big:
            return ""  # (a negligible last step: the optimum exists; no pass over X needed)
        if obj.n_outputs == 1 and not _raises_every_margin(obj, last_step):
            return ""  # (not a separating direction: e.g. a move along collinear features)
    raw = obj.raw_prediction(coef)
    per = np.asarray(obj._lossfn.loss(obj.y, raw), dtype=np.float64)
    if obj.sample_weight is not None:
        per = per[np.asarray(obj.sample_weight) > 0]
    # (1e-6: with p >= n the solver stops once the losses are ~1e-8, above a
    # tighter trigger; the decision itself is the LP's or the last step's)
    if per.size == 0 or np.min(per) > 1e-6:
        return ""
    if not classes_checked:
        found = _certify_separation(obj, loss)  # (exact, when it finds a class: see _separated_class)
        if found:
            return found
    z = None
    if obj.n_outputs == 1:
        z = 2.0 * np.asarray(obj.y, dtype=np.float64) - 1.0
        margins = z * np.asarray(raw, dtype=np.float64)
        if obj.sample_weight is not None:
            margins = margins[np.asarray(obj.sample_weight) > 0]
        if np.all(margins > 0):
            return "a hyperplane separates the two classes completely"
        if exact:
            return _konis_lp(obj, z)
    if not loss.has_hessian or obj.n_coef > 3000:
        return ""
    if last_step is None:  # (a given last step passed its tests at the top)
        keep = np.ones(coef.size, dtype=bool) if fixed is None else ~np.asarray(fixed, dtype=bool)
        _, g = obj.value_grad(coef)
        H = obj.hessian(coef)[np.ix_(keep, keep)]
        # ignore the null space of a collinear design
        vals, vecs = np.linalg.eigh(H)
        pos = vals > 1e-10 * max(float(vals.max()), 1e-300)
        step = np.zeros(coef.size)
        step[keep] = -(vecs[:, pos] @ ((vecs[:, pos].T @ g[keep]) / vals[pos]))
        if np.max(np.abs(step)) <= big:
            return ""
        if z is not None and not _raises_every_margin(obj, step):
            return ""
    return "some samples are fitted with probability 1 and the coefficients keep growing"


def _certify_separation(obj, loss):
    """Before the solve: the sentence of an exact certificate that the unpenalised
    optimum does not exist, or "" (:func:`_separated_class`, for multi-class forms
    of score differences; nothing is claimed for other problems)."""
    if obj.n_outputs > 1 and loss.multiclass_shift_invariant:
        return _separated_class(obj)
    return ""


def _separated_class(obj):
    """An exact certificate that the multinomial maximum-likelihood estimate does
    not exist, or "": a class ``c`` and a feature ``j`` such that every row of ``c``
    has ``x_j >= t`` and every other row ``x_j <= t`` (or the reverse), with ``x_j``
    not constant.  Then ``d = sign * (e_j - t e_0)`` (``e_0``: the intercept, or
    ``t = 0`` without one) weakly separates ``c`` from the rest with at least one
    strict inequality, and moving class ``c``'s coefficients along ``d`` never
    raises any sample's loss and lowers some: the infimum is approached only as
    they diverge.  Decided from each class's smallest and largest value of each
    feature (:func:`class_ranges`, which a dask fit reduces block by block), over
    the rows of positive weight of a dense ``X``.  A sufficient test: a class
    separated by an oblique hyperplane only is not found here (the last-step test
    may still find it).
    """
    if obj.sparse or obj.n_samples == 0 or obj.n_features == 0:
        return ""
    return class_threshold_certificate(class_ranges(obj), obj.fit_intercept)


def class_ranges(obj):
    """``R`` of shape (2, K, p): ``R[0, c, j]`` the smallest and ``-R[1, c, j]`` the
    largest value of feature ``j`` over the rows of class ``c`` with positive
    weight (``+inf`` for a class without rows): element-wise minima combine
    blocks of rows."""
    k, p = obj.n_outputs, obj.n_features
    out = np.full((2, k, p), np.inf)
    X = np.asarray(obj.X)
    y = np.asarray(obj.y).astype(np.intp)
    if obj.sample_weight is not None:
        pos = np.asarray(obj.sample_weight) > 0
        X, y = X[pos], y[pos]
    if y.size == 0:
        return out
    order = np.argsort(y, kind="stable")
    ys = y[order]
    present = np.unique(ys)
    starts = np.searchsorted(ys, present)
    Xs = X[order]
    out[0, present] = np.minimum.reduceat(Xs, starts, axis=0)
    out[1, present] = -np.maximum.reduceat(Xs, starts, axis=0)
    return out


def class_threshold_certificate(ranges, fit_intercept):
    """The sentence of :func:`_separated_class` from :func:`class_ranges`, or ""."""
    cmin, cmax = ranges[0], -ranges[1]
    present = np.isfinite(cmin[:, 0]) if cmin.shape[1] else np.zeros(cmin.shape[0], dtype=bool)
    if np.count_nonzero(present) < 2:
        return ""
    cmin, cmax = cmin[present], cmax[present]
    labels = np.flatnonzero(present)
    for sign in (1.0, -1.0):
        hi = cmax if sign > 0 else -cmin  # (per class, the top and bottom of sign * x_j)
        lo = cmin if sign > 0 else -cmax
        for j in range(hi.shape[1]):
            c = int(np.argmax(hi[:, j]))  # (the class holding the top value; the lowest index on ties)
            top = hi[c, j]
            others = np.max(np.delete(hi[:, j], c))
            if fit_intercept:
                t = float(others)
            elif top > 0 and others <= 0:
                t = 0.0  # (without an intercept the threshold must be 0)
            else:
                continue
            if lo[c, j] >= t and (top > t or np.min(lo[:, j]) < t):
                side = "at or above" if sign > 0 else "at or below"
                return (f"the rows of class index {int(labels[c])} (in the order of classes_) lie {side} "
                        f"{sign * t:.6g} on feature {j}, which no other row passes: a threshold "
                        "separates that class from the others")
    return ""


def _kink_information(obj, coef, kink):
    """The summed curvature of a binary loss with one kink at margin ``kink`` (hinge:
    1, perceptron: 0) and none elsewhere, for the sandwich covariance.

    The loss's second derivative is a point mass at the kink, so its expectation is
    the density of the margins ``m_i = z_i f_i`` there (Koo, Lee, Kim and Park 2008,
    for the linear SVM).  It is estimated as for quantile regression: an
    Epanechnikov kernel at the Hall-Sheather bandwidth (the level being the share of
    margins below the kink), ``A = sum_i s_i K_h(m_i - kink) x~_i x~_i^T``.
    """
    from ._linear_inference import _epanechnikov, _kernel_bandwidth

    raw = np.asarray(obj.raw_prediction(coef), dtype=np.float64)
    e = (2.0 * np.asarray(obj.y, dtype=np.float64) - 1.0) * raw - kink
    s = np.ones(e.size) if obj.sample_weight is None else np.asarray(obj.sample_weight, dtype=np.float64)
    below = float(s @ (e < 0)) / float(s.sum())
    h = _kernel_bandwidth(e, s, min(max(below, 0.05), 0.95))
    weights = s * _epanechnikov(e / h) / h
    return obj._gram(weights, 0.0) * obj.weight_sum


def _raises_every_margin(obj, step):
    """Whether the (binary) ``step`` raises every margin ``z_i x_i.step``, up to
    1e-4 of the largest change: a separating direction."""
    w, b = obj.split(np.asarray(step, dtype=np.float64))
    change = np.asarray(obj.X @ w.astype(obj.dtype, copy=False), dtype=np.float64).ravel()
    if obj.fit_intercept:
        change += float(np.ravel(b)[0])
    dm = (2.0 * np.asarray(obj.y, dtype=np.float64) - 1.0) * change
    if obj.sample_weight is not None:
        dm = dm[np.asarray(obj.sample_weight) > 0]
    return bool(dm.size) and np.min(dm) >= -1e-4 * max(float(np.max(np.abs(dm))), 1e-300)


def _konis_lp(obj, z):
    from scipy.optimize import linprog

    X = obj.X.toarray() if sp.issparse(obj.X) else np.asarray(obj.X, dtype=np.float64)
    keep = np.ones(X.shape[0], dtype=bool) if obj.sample_weight is None else np.asarray(obj.sample_weight) > 0
    Xt = np.column_stack([X, np.ones(X.shape[0])]) if obj.fit_intercept else X
    Zx = z[keep, None] * Xt[keep]
    # maximise sum_i z_i x_i.d  s.t.  z_i x_i.d >= 0,  -1 <= d <= 1
    res = linprog(-Zx.sum(axis=0), A_ub=-Zx, b_ub=np.zeros(Zx.shape[0]), bounds=[(-1, 1)] * Zx.shape[1],
                  method="highs")
    if res.status == 0 and -res.fun > 1e-7 * max(1.0, float(np.abs(Zx).sum(axis=0).max())):
        n_sep = int(np.sum(Zx @ res.x > 1e-9))
        return (f"a hyperplane separates {n_sep} of the {Zx.shape[0]} samples perfectly "
                "(the rest lie on it)")
    return ""
