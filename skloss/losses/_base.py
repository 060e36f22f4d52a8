"""The loss protocol.

A loss is a point-wise function of a target ``y_true`` and a *raw* prediction
(the link-scale output of a model: ``X @ coef + intercept`` or a network's last
layer).  It knows nothing about ``X``: the linear-model objective and the network's
output layer are its consumers.

A loss is a hyper-parameter object in the manner of scikit-learn's Gaussian-process
kernels: ``__init__`` stores parameters only, ``get_params`` / ``set_params`` /
``clone`` / pickling work through :class:`sklearn.base.BaseEstimator`, two losses
are equal when their type and parameters are equal, and nothing is written on a
loss while it is used.  Its numerical core is a numba kernel, named by a string on
the class and looked up in :mod:`skloss._kernels` when first needed, so no
compiled object is ever stored on a loss.

Conventions
-----------
* Regression losses take ``y_true`` and ``raw_prediction`` of shape ``(n,)``.
* Classification losses have a *binary form* on a 1-D raw score, with
  ``y_true`` in {0, 1}, and a *multi-class form* on an ``(n, K)`` raw array with
  ``y_true`` the class index in {0, ..., K - 1}.  A loss without a genuine
  multi-class form (``has_multiclass_form = False``) uses the one-vs-rest sum
  ``sum_k loss_binary(1[y == k], raw[:, k])``.
* ``hessian`` of a multi-class form returns the diagonal of each sample's K x K
  Hessian; ``hessian_product`` multiplies by the full matrix.
* Arrays of dtype float32 give float32 results (the arithmetic inside a kernel is
  done in float64); every other input dtype is computed in float64.
"""

import importlib
import numbers
import sys
import weakref

import numpy as np
from sklearn.base import BaseEstimator

from ._capabilities import REAL, Interval, check_piecewise_linear, kinks_of, pieces_of
from ._link import get_link

__all__ = ["Loss", "HessianUnavailableError"]

# class indices: the y_domain of every classification loss
_CLASS_INDICES = Interval(0.0, np.inf, True, False, integer=True)
# the binary form's targets checked by the public methods (0 / 1 labels, or soft
# targets in between for the cross-entropies)
_BINARY_TARGETS = Interval(0.0, 1.0, True, True)

# members through which a loss is evaluated: a subclass overriding any of them
# does not inherit the built-in's fused linear pass (fused_linear_kernel -> None)
_EVALUATION_MEMBERS = (
    "_evaluate", "_run_kernel", "_evaluate_ovr", "_compute", "_prepare", "_kernel_params",
    "_kernel_module", "_kernel_name", "_multiclass_kernel_name", "loss", "gradient",
    "hessian", "loss_gradient", "gradient_hessian", "loss_gradient_hessian",
    "hessian_product", "_multiclass_hessian_product",
)


def _owner(cls, attribute):
    for klass in cls.__mro__:
        if attribute in vars(klass):
            return klass
    return None


def _evaluates_as_declared(cls):
    """Whether ``cls`` declares a fused linear pass (not the base class's empty
    one) and evaluates as the class declaring it does: no evaluation member
    (:data:`_EVALUATION_MEMBERS`) redefined below that class."""
    owner = _owner(cls, "_fused_linear")
    if owner is None or owner is Loss:
        return False
    return all(_owner(cls, member) is _owner(owner, member) for member in _EVALUATION_MEMBERS)


# class -> _evaluates_as_declared(class), asked once per class (PERF: the walk of the
# MRO for each of 17 members cost ~10 us, and a small fit asks three or four times);
# weak keys: a class defined at run time (a test's subclass) is not kept alive
_AS_DECLARED = weakref.WeakKeyDictionary()

_EMPTY = {np.dtype(np.float64): np.empty(0), np.dtype(np.float32): np.empty(0, np.float32)}


class HessianUnavailableError(NotImplementedError):
    """Raised when the Hessian of a loss that has none is asked for."""


def _kernel(module, name):
    # import lazily: importing skloss compiles nothing (PERF: an imported module is
    # read from sys.modules, as import_module would, without its ~3 us of machinery)
    full = f"skloss._kernels.{module}"
    found = sys.modules.get(full)
    return getattr(found if found is not None else importlib.import_module(full), name)


class Loss(BaseEstimator):
    """Base class of every skloss loss.

    Subclasses set the class attributes below, store their parameters in
    ``__init__`` and, for built-in losses, name their numba kernels.  A custom
    loss can instead override :meth:`_evaluate` (see :ref:`custom_losses` in the
    user guide, and :func:`skloss.losses.make_loss` for the short route).

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"huber"``.
    task : {"regression", "classification"}
        What the loss is for.
    is_smooth : bool
        Whether the loss is continuously differentiable in the raw prediction.
    has_hessian : bool
        Whether :meth:`hessian` is available.
    is_probabilistic : bool
        Whether ``inverse_link`` maps the raw prediction to probabilities (so an
        estimator can offer ``predict_proba``).
    has_multiclass_form : bool
        Classification only: whether the loss has a genuine K-class form
        (otherwise its K-score form is the one-vs-rest sum).

    Capabilities
    ------------
    What an estimator, solver or kernel table needs to know about a loss is
    *declared* here (defaults below; the built-ins override them, and
    :func:`~skloss.losses.make_loss` takes them as arguments).  No estimator
    asks for a loss's name or class.

    y_domain : Interval
        The targets of the regression / binary form (``validate_y`` and the
        public evaluation methods reject others).  Classification: the class
        indices, ``Interval(0, inf, True, False, integer=True)``.
    piecewise_linear : None or tuple of (slope, intercept) pairs
        A convex piecewise-linear loss declares ``loss = max_j (slope_j u +
        intercept_j)`` with ``u = raw - y`` (regression) or ``u = z raw``,
        ``z = 2 y - 1`` (binary form).  Absolute error: ``((-1, 0), (1, 0))``;
        quantile ``q``: ``((-q, 0), (1 - q, 0))``; epsilon-insensitive:
        ``((-1, -eps), (0, 0), (1, -eps))``; hinge: ``((-1, 1), (0, 0))``;
        perceptron: ``((-1, 0), (0, 0))``.  Normalised (sorted by slope, pieces
        that never attain the maximum dropped) when read.
    pieces(y_true) : method -> (A, C)
        The per-sample form ``loss_i(r) = max_j (A_ij r + C_ij)`` (arrays of
        shape (n, m)) that exact piecewise-linear solvers consume.
    kinks : tuple of float
        The values of ``u`` where the pieces meet (empty when not piecewise linear).
    multiclass_margin : None or float
        The K-score form is Crammer-Singer
        ``max(0, max_{k != y} (margin + r_k - r_y))`` (hinge 1, perceptron 0).
    multiclass_shift_invariant : bool
        The K-score form is unchanged by adding one constant to all K scores
        (softmax and Crammer-Singer forms): an estimator fixes a reference class.
    may_lack_minimiser : bool
        A finite minimiser can fail to exist on some data (separation for the
        log loss, probit, exponential ...; all-zero counts for Poisson).
    hessian_is_constant : bool
        The Hessian in ``raw`` does not depend on ``raw`` (the loss is quadratic
        in ``raw``: a weighted least-squares problem, solved in closed form).
    fused_linear_kernel(sparse=False, multiclass=False) : method
        The name of a fused one-read linear-model pass, or None (see there).
    """

    name = None
    task = "regression"
    is_smooth = True
    has_hessian = True
    is_probabilistic = False
    has_multiclass_form = False

    # kernel names (in skloss._kernels._regression / _binary / _multiclass)
    _kernel_module = "_regression"
    _kernel_name = None
    _multiclass_kernel_name = None
    _link_name = "identity"
    _multiclass_link_name = None

    # capabilities (see the class docstring)
    y_domain = REAL
    piecewise_linear = None
    multiclass_margin = None
    multiclass_shift_invariant = False
    may_lack_minimiser = False
    hessian_is_constant = False
    # {(sparse, multiclass): kernel name} of the fused linear passes of a built-in
    _fused_linear = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("task") == "classification" and "y_domain" not in cls.__dict__:
            cls.y_domain = _CLASS_INDICES

    # ------------------------------------------------------------ capabilities
    def _normalised_pieces(self):
        pwl = self.piecewise_linear
        if pwl is None:
            return None
        return check_piecewise_linear(pwl, f"{self._label()}: piecewise_linear")

    def pieces(self, y_true):
        """The per-sample piecewise-linear form ``loss_i(r) = max_j (A_ij r + C_ij)``.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            Targets (0 / 1 for the binary form of a classification loss).

        Returns
        -------
        A, C : ndarray of shape (n_samples, n_pieces)

        Raises
        ------
        ValueError
            If the loss does not declare ``piecewise_linear``.
        """
        pwl = self._normalised_pieces()
        if pwl is None:
            raise ValueError(f"{self._label()} is not piecewise linear (piecewise_linear is None).")
        return pieces_of(pwl, y_true, self.task == "classification")

    @property
    def kinks(self):
        """The values of ``u`` (``raw - y``, or the margin ``z raw``) where the
        declared pieces meet; empty when the loss is not piecewise linear."""
        pwl = self._normalised_pieces()
        return () if pwl is None else kinks_of(pwl)

    def fused_linear_kernel(self, sparse=False, multiclass=False):
        """The fused one-read linear-model pass of this loss, or None.

        A built-in loss may declare a numba pass that computes, in one read of
        ``X``, the raw scores, the loss, the gradient of the coefficients and the
        Hessian weights (see :mod:`skloss.linear_model._objective`).  This returns
        its kernel name for dense or CSR ``X`` and the binary / regression or the
        multi-class form -- only while the loss is evaluated as its declaring
        class evaluates it: a subclass overriding ``_evaluate`` (or any other
        evaluation method or kernel attribute) gets None, so it is never silently
        replaced by the built-in's fast path.
        """
        cls = type(self)
        ok = _AS_DECLARED.get(cls)
        if ok is None:
            ok = _AS_DECLARED[cls] = _evaluates_as_declared(cls)
        if not ok:
            return None
        return self._fused_linear.get((bool(sparse), bool(multiclass)))

    # ------------------------------------------------------------------ params
    def _kernel_params(self):
        """The loss parameters as a float64 array for the kernels."""
        return np.empty(0)

    def _validate_params(self):
        """Raise ``ValueError`` when a parameter is out of range."""

    @staticmethod
    def _check_real(owner, name, value, low=None, high=None, low_open=False, high_open=False):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(
                f"The '{name}' parameter of {owner} must be a finite real number; got {value!r}."
            )
        if low is not None and (value < low or (low_open and value == low)):
            bracket = "(" if low_open else "["
            hi = "inf" if high is None else high
            closing = ")" if (high is None or high_open) else "]"
            raise ValueError(
                f"The '{name}' parameter of {owner} must be in {bracket}{low}, {hi}{closing}; got {value!r}."
            )
        if high is not None and (value > high or (high_open and value == high)):
            bracket = "(" if low_open else "["
            lo = "-inf" if low is None else low
            closing = ")" if high_open else "]"
            raise ValueError(
                f"The '{name}' parameter of {owner} must be in {bracket}{lo}, {high}{closing}; got {value!r}."
            )

    # ----------------------------------------------------------------- equality
    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        return self.get_params(deep=False) == other.get_params(deep=False)

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.get_params(deep=False).items()))))

    # ----------------------------------------------------------------- links
    @property
    def link(self):
        """The link of the binary / regression form (a :class:`~skloss.losses.Link`)."""
        return get_link(self._link_name)

    @property
    def multiclass_link(self):
        """The link of the multi-class form (classification only)."""
        if self.task != "classification":
            raise AttributeError(f"{type(self).__name__} is a regression loss: no multi-class link.")
        return get_link(self._multiclass_link_name or self._link_name)

    def inverse_link(self, raw_prediction):
        """Map the raw prediction to the prediction scale.

        Regression: the prediction (mean, median, quantile ...).  Classification:
        for a 1-D raw score the probability of the positive class (probabilistic
        losses) or the sign-based decision; for an ``(n, K)`` raw array the
        ``(n, K)`` class probabilities (probabilistic losses).
        """
        raw = np.asarray(raw_prediction)
        if self.task == "classification" and raw.ndim == 2:
            if self.has_multiclass_form:
                return self.multiclass_link.inverse(raw)
            return self._ovr_inverse_link(raw)
        return self.link.inverse(raw)

    def _ovr_inverse_link(self, raw):
        scores = self.link.inverse(raw)
        total = scores.sum(axis=1, keepdims=True)
        k = raw.shape[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            proba = np.where(total > 0, scores / np.where(total > 0, total, 1), 1.0 / k)
        return proba

    # ------------------------------------------------------------- likelihood
    @property
    def likelihood(self):
        """The distribution whose negative log-likelihood this loss is, or None."""
        return None

    # ------------------------------------------------------------- validation
    def validate_y(self, y_true):
        """Raise ``ValueError`` when ``y_true`` lies outside the loss's domain.

        Returns ``y_true`` as a float array when it is valid.
        """
        y = np.asarray(y_true)
        if y.dtype.kind not in "biuf":
            raise ValueError(
                f"{self._label()}: y_true must be numeric; got dtype {y.dtype}."
            )
        y = y.astype(np.float64 if y.dtype != np.float32 else np.float32, copy=False)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{self._label()}: y_true contains NaN or infinity.")
        self._validate_params()
        if self.task == "classification":
            if not self.y_domain.contains(y):
                raise ValueError(
                    f"{self._label()}: y_true must hold class indices 0, 1, ..., K - 1 "
                    f"(0 or 1 for the binary form); domain: {self.y_domain}."
                )
        else:
            self._check_domain(y)
        return y

    def _check_domain(self, y, domain=None):
        """Raise the ``ValueError`` naming the loss and its domain when ``y`` leaves
        ``domain`` (default: ``y_domain``)."""
        domain = self.y_domain if domain is None else domain
        if not isinstance(domain, Interval):
            raise TypeError(f"{self._label()}: y_domain must be a skloss.losses.Interval; got {domain!r}.")
        if domain.contains(y):
            return
        y = np.asarray(y, dtype=np.float64)
        low = Interval(domain.low, np.inf, domain.low_inclusive, False)
        high = Interval(-np.inf, domain.high, False, domain.high_inclusive)
        if not low.contains(y):
            got = f"min {float(np.min(y))!r}"
        elif not high.contains(y):
            got = f"max {float(np.max(y))!r}"
        else:
            got = f"{float(y[~domain.mask(y)][0])!r}"
        raise ValueError(
            f"{self._label()} requires y_true {domain.requirement()}; got {got} (domain: {domain})."
        )

    def _label(self):
        return f"Loss {self.name!r}"

    # -------------------------------------------------------- input handling
    def _prepare(self, y_true, raw_prediction, sample_weight):
        self._validate_params()
        raw = np.asarray(raw_prediction)
        dtype = np.dtype(np.float32) if raw.dtype == np.float32 else np.dtype(np.float64)
        raw = np.ascontiguousarray(raw, dtype=dtype)
        y = np.ascontiguousarray(y_true, dtype=dtype)
        if raw.ndim not in (1, 2) or (raw.ndim == 2 and self.task != "classification"):
            raise ValueError(
                f"{self._label()}: raw_prediction must be 1-D"
                + (" or 2-D (n_samples, n_classes)" if self.task == "classification" else "")
                + f"; got shape {raw.shape}."
            )
        if y.ndim != 1 or y.shape[0] != raw.shape[0]:
            raise ValueError(
                f"{self._label()}: y_true must be 1-D with one entry per row of "
                f"raw_prediction; got shapes {np.shape(y_true)} and {raw.shape}."
            )
        self._check_evaluation_targets(y, raw)
        if sample_weight is None:
            sw = _EMPTY[dtype]
        else:
            sw = np.ascontiguousarray(sample_weight, dtype=dtype)
            if sw.ndim != 1 or sw.shape[0] != raw.shape[0]:
                raise ValueError(
                    f"{self._label()}: sample_weight must be 1-D of length {raw.shape[0]}; "
                    f"got shape {np.shape(sample_weight)}."
                )
        return y, raw, sw


    def _check_evaluation_targets(self, y, raw):
        """The cheap domain check of the public evaluation methods: one reduction
        per finite bound of the domain (none for a loss on the real line)."""
        if self.task == "classification":
            if raw.ndim == 2:
                domain = Interval(0.0, float(raw.shape[1] - 1), True, True)
            else:
                domain = _BINARY_TARGETS
            if not domain.contains(y):
                raise ValueError(
                    f"{self._label()}: y_true must lie in {domain} (class indices 0, 1, ..., K - 1; "
                    "0 or 1 for the binary form)."
                )
            return
        domain = self.y_domain
        if domain.is_real_line:
            return
        self._check_domain(y, Interval(domain.low, domain.high, domain.low_inclusive,
                                       domain.high_inclusive))

    # ----------------------------------------------------------- evaluation
    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        """Compute the requested quantities on prepared arrays.

        Returns ``(loss, gradient, hessian)`` with ``None`` for what was not asked.
        """
        if want_hess and not self.has_hessian:
            raise HessianUnavailableError(
                f"{self._label()} has no Hessian (has_hessian=False); use a "
                "first-order solver such as 'lbfgs'."
            )
        dtype = raw.dtype
        empty = _EMPTY[dtype]
        params = self._kernel_params()
        n = raw.shape[0]
        if raw.ndim == 2 and not self.has_multiclass_form:
            return self._evaluate_ovr(y, raw, sw, want_loss, want_grad, want_hess)
        out_loss = np.empty(n, dtype) if want_loss else empty
        out_grad = np.empty_like(raw) if want_grad else empty.reshape((0,) * raw.ndim)
        out_hess = np.empty_like(raw) if want_hess else empty.reshape((0,) * raw.ndim)
        return self._run_kernel(y, raw, sw, params, out_loss, out_grad, out_hess,
                                want_loss, want_grad, want_hess)

    def _run_kernel(self, y, raw, sw, params, out_loss, out_grad, out_hess,
                    want_loss, want_grad, want_hess):
        if raw.ndim == 2:
            kernel = _kernel("_multiclass", self._multiclass_kernel_name)
        else:
            kernel = _kernel(self._kernel_module, self._kernel_name)
        if raw.dtype == np.float32:
            # float32 arrays through the float64 kernel (skloss._kernels._widen: the same
            # bits as a float32 specialisation), so that each kernel compiles once, not
            # once per dtype
            _kernel("_widen", "float32_call")(kernel, y, raw, sw, params, out_loss, out_grad, out_hess)
        else:
            kernel(y, raw, sw, params, out_loss, out_grad, out_hess)
        return (
            out_loss if want_loss else None,
            out_grad if want_grad else None,
            out_hess if want_hess else None,
        )

    def _evaluate_ovr(self, y, raw, sw, want_loss, want_grad, want_hess):
        n, k = raw.shape
        dtype = raw.dtype
        out_loss = np.zeros(n, dtype) if want_loss else None
        out_grad = np.empty_like(raw) if want_grad else None
        out_hess = np.empty_like(raw) if want_hess else None
        for j in range(k):
            yj = (y == j).astype(dtype)
            lj, gj, hj = self._evaluate(
                yj, np.ascontiguousarray(raw[:, j]), sw, want_loss, want_grad, want_hess
            )
            if want_loss:
                out_loss += lj
            if want_grad:
                out_grad[:, j] = gj
            if want_hess:
                out_hess[:, j] = hj
        return out_loss, out_grad, out_hess

    def _compute(self, y_true, raw_prediction, sample_weight, want, outs):
        """Prepare the inputs, evaluate, and write into preallocated outputs.

        ``want`` is (loss, grad, hess) flags; ``outs`` the matching user arrays or
        None.  Built-in kernels write straight into a suitable output array;
        anything else is computed and copied.
        """
        y, raw, sw = self._prepare(y_true, raw_prediction, sample_weight)
        if all(o is None for o in outs):
            return self._evaluate(y, raw, sw, *want)
        shapes = ((raw.shape[0],), raw.shape, raw.shape)
        names = ("loss_out", "gradient_out", "hessian_out")
        for o, shape, name in zip(outs, shapes, names):
            if o is not None and (not isinstance(o, np.ndarray) or o.shape != shape):
                raise ValueError(
                    f"{self._label()}: {name} must be an ndarray of shape {shape}; got "
                    f"{getattr(o, 'shape', type(o).__name__)}."
                )
        direct = (
            type(self)._evaluate is Loss._evaluate
            and not (raw.ndim == 2 and not self.has_multiclass_form)
            and all(o is None or (o.dtype == raw.dtype and o.flags.c_contiguous and o.flags.writeable)
                    for o in outs)
        )
        if direct:
            if want[2] and not self.has_hessian:
                return self._evaluate(y, raw, sw, *want)  # raises the clear error
            empty = _EMPTY[raw.dtype]
            arrays = []
            for flag, o, shape in zip(want, outs, shapes):
                if not flag:
                    arrays.append(empty.reshape((0,) * len(shape)))
                else:
                    arrays.append(o if o is not None else np.empty(shape, raw.dtype))
            return self._run_kernel(y, raw, sw, self._kernel_params(), *arrays, *want)
        results = self._evaluate(y, raw, sw, *want)
        final = []
        for r, o in zip(results, outs):
            if r is not None and o is not None:
                o[...] = r
                r = o
            final.append(r)
        return tuple(final)

    def loss(self, y_true, raw_prediction, sample_weight=None, loss_out=None):
        """Per-sample losses, multiplied by ``sample_weight`` when given.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
        raw_prediction : array-like of shape (n_samples,) or (n_samples, n_classes)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        loss : ndarray of shape (n_samples,)
        """
        return self._compute(y_true, raw_prediction, sample_weight, (True, False, False), (loss_out, None, None))[0]

    def gradient(self, y_true, raw_prediction, sample_weight=None, gradient_out=None):
        """Derivative of the per-sample loss with respect to the raw prediction.

        Returns an array of the shape of ``raw_prediction``.
        """
        return self._compute(y_true, raw_prediction, sample_weight, (False, True, False), (None, gradient_out, None))[1]

    def hessian(self, y_true, raw_prediction, sample_weight=None, hessian_out=None):
        """Second derivative with respect to the raw prediction.

        For an ``(n, K)`` raw array, the diagonal of each sample's K x K Hessian.

        Raises
        ------
        HessianUnavailableError
            If the loss has no Hessian (``has_hessian`` is False).
        """
        return self._compute(y_true, raw_prediction, sample_weight, (False, False, True), (None, None, hessian_out))[2]

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None,
                      loss_out=None, gradient_out=None):
        """Per-sample loss and gradient in one pass: ``(loss, gradient)``.

        ``loss_out`` / ``gradient_out``: optional preallocated arrays (as in
        scikit-learn's private losses) that receive the results.
        """
        out = self._compute(y_true, raw_prediction, sample_weight, (True, True, False),
                            (loss_out, gradient_out, None))
        return out[0], out[1]

    def gradient_hessian(self, y_true, raw_prediction, sample_weight=None,
                         gradient_out=None, hessian_out=None):
        """Gradient and (diagonal) Hessian in one pass: ``(gradient, hessian)``.

        ``gradient_out`` / ``hessian_out``: optional preallocated result arrays.
        """
        out = self._compute(y_true, raw_prediction, sample_weight, (False, True, True),
                            (None, gradient_out, hessian_out))
        return out[1], out[2]

    def loss_gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        """Loss, gradient and (diagonal) Hessian in one pass."""
        return self._evaluate(*self._prepare(y_true, raw_prediction, sample_weight), True, True, True)

    def hessian_product(self, y_true, raw_prediction, direction, sample_weight=None):
        """Each sample's Hessian times a direction.

        For a 1-D raw prediction this is ``hessian * direction``; for an
        ``(n, K)`` raw array, row ``i`` is ``H_i @ direction[i]`` with ``H_i`` the
        full K x K Hessian of sample ``i``.
        """
        y, raw, sw = self._prepare(y_true, raw_prediction, sample_weight)
        d = np.ascontiguousarray(direction, dtype=raw.dtype)
        if d.shape != raw.shape:
            raise ValueError(
                f"{self._label()}: direction must have the shape of raw_prediction "
                f"{raw.shape}; got {d.shape}."
            )
        if raw.ndim == 1 or not self.has_multiclass_form:
            return self._evaluate(y, raw, sw, False, False, True)[2] * d
        return self._multiclass_hessian_product(y, raw, sw, d)

    def _multiclass_hessian_product(self, y, raw, sw, direction):
        if not self.has_hessian:
            raise HessianUnavailableError(f"{self._label()} has no Hessian (has_hessian=False).")
        raise HessianUnavailableError(
            f"{self._label()} does not provide the full multi-class Hessian product."
        )

    # ----------------------------------------------------------- start value
    def init_raw_prediction(self, y_true, sample_weight=None, n_classes=None):
        """The intercept-only optimum: the constant raw prediction minimising the
        weighted mean loss.

        Returns a float for regression and binary classification
        (``n_classes`` None or 2 with a 1-D problem), an array of shape
        ``(n_classes,)`` for the multi-class form.
        """
        y = np.asarray(y_true, dtype=np.float64)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if self.task == "classification" and n_classes is not None and n_classes > 2:
            return self._init_multiclass(y, sw, int(n_classes))
        return float(self._init_scalar(y, sw))

    def _init_scalar(self, y, sw):
        # generic: minimise the weighted mean loss over a constant (convex in 1-D
        # for every built-in loss); subclasses override with closed forms
        from scipy.optimize import minimize_scalar

        def f(c):
            return float(np.mean(self.loss(y, np.full(y.shape[0], c), sw)))

        lo, hi = self._init_bracket(y)
        res = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
        return res.x

    def _init_bracket(self, y):
        if self.task == "classification":
            return -20.0, 20.0
        span = float(np.ptp(y)) if y.size else 1.0
        return float(np.min(y)) - 1.0 - span, float(np.max(y)) + 1.0 + span

    def _init_multiclass(self, y, sw, k):
        from scipy.optimize import minimize

        n = y.shape[0]

        def f(c):
            raw = np.broadcast_to(c, (n, k))
            loss, grad = self.loss_gradient(y, raw, sw)
            return float(loss.mean()), grad.mean(axis=0)

        res = minimize(f, np.zeros(k), jac=True, method="L-BFGS-B")
        c = res.x
        return c - c.mean() if self.has_multiclass_form else c
