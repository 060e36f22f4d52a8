"""Custom losses from plain Python scalar functions: :func:`make_loss`."""

import inspect
import re

import numpy as np

from ._base import _CLASS_INDICES, _EMPTY, HessianUnavailableError, Loss
from ._capabilities import REAL, Interval, check_piecewise_linear
from ._likelihood import Likelihood
from ._link import Link, get_link

__all__ = ["CustomLoss", "CustomLossCompileError", "make_loss"]

_TASKS = ("regression", "classification")
# the named target domains (module constants: a loss's ``y_domain`` parameter and
# the Interval it reads as stay the same object, as cloning requires)
_Y_DOMAINS = {
    "real": REAL,
    "nonnegative": Interval(0.0, np.inf, True, False),
    "positive": Interval(0.0, np.inf, False, False),
}
# the constructor's own parameters: hyper-parameters of the scalar functions take
# any other name
_OWN_PARAMS = (
    "loss_func", "gradient_func", "hessian_func", "link", "name", "task", "is_smooth",
    "is_probabilistic", "likelihood", "y_domain", "piecewise_linear", "may_lack_minimiser",
    "hessian_is_constant",
)
# links whose inverse maps a raw score into [0, 1]
_PROBABILITY_LINKS = ("logit", "probit", "half_logit", "clipped_linear", "softmax")

# Compiled numba dispatchers of the user functions, keyed by the Python function
# objects.  Kept here, never on a loss: a loss must stay picklable and clonable.
_COMPILED = {}


class CustomLossCompileError(ValueError):
    """Raised when numba cannot compile a function given to :func:`make_loss`."""


def _py_func(func):
    # an already jitted function: keep the Python function (a dispatcher must not
    # be stored on a loss); it is compiled again here with our options
    return getattr(func, "py_func", func)


def _check_signature(role, func, n_hyper=0):
    try:
        inspect.signature(_py_func(func)).bind(*([0.0] * (2 + n_hyper)))
    except TypeError:
        extra = "" if not n_hyper else f" followed by the {n_hyper} hyper-parameter(s) in the order given"
        raise TypeError(
            f"make_loss: '{role}' must accept exactly {('two', 'three', 'four')[n_hyper] if n_hyper < 3 else 2 + n_hyper} "
            "positional arguments "
            f"(y, raw{extra}); {getattr(func, '__name__', func)!r} has signature "
            f"{inspect.signature(_py_func(func))}."
        ) from None
    except ValueError:  # builtins without a signature: let numba judge
        pass


def _strip_ansi(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _jit(func, memo):
    """``njit(func)``, with the plain Python helpers it calls jitted too.

    A scalar function may call helper functions defined in its own module
    (``p = expit_scalar(raw)``); numba would reject them as untyped globals.  They
    are jitted here (recursively) in a copy of the function whose globals see the
    jitted helpers; numba freezes globals at compile time anyway.
    """
    import types as pytypes

    from numba import njit

    if func in memo:
        return memo[func]
    glb = getattr(func, "__globals__", None)
    helpers = []
    if isinstance(func, pytypes.FunctionType) and glb is not None:
        for name in func.__code__.co_names:
            obj = glb.get(name)
            if (
                isinstance(obj, pytypes.FunctionType)
                and obj is not func
                and getattr(obj, "__module__", None) == func.__module__
            ):
                helpers.append((name, obj))
    if not helpers:
        memo[func] = njit(func)
        return memo[func]
    new_globals = dict(glb)
    twin = pytypes.FunctionType(func.__code__, new_globals, func.__name__, func.__defaults__, func.__closure__)
    twin.__qualname__ = func.__qualname__
    twin.__module__ = func.__module__
    memo[func] = njit(twin)
    for name, obj in helpers:
        new_globals[name] = _jit(obj, memo)
    return memo[func]


def _bind(disp, values):
    """A two-argument numba function ``g(y, raw) = f(y, raw, *values)``: the
    hyper-parameter values are frozen into it as compile-time constants (one
    compilation per distinct tuple of values, cached in ``_COMPILED``)."""
    from numba import njit

    args = ", ".join(f"_p{i}" for i in range(len(values)))
    namespace = {"_f": disp, **{f"_p{i}": float(v) for i, v in enumerate(values)}}
    exec(f"def bound(y, raw):\n    return _f(y, raw, {args})\n", namespace)  # noqa: S102
    return njit(namespace["bound"])


def _compile(func, role, values=()):
    """The numba dispatcher of a scalar function, compiled for (float64, float64)
    (with the hyper-parameter ``values`` bound after the two arguments)."""
    values = tuple(float(v) for v in values)
    key = func if not values else (func, values)
    try:
        return _COMPILED[key]
    except (KeyError, TypeError):
        pass
    from numba import types

    name = getattr(func, "__qualname__", repr(func))
    _check_signature(role, func, len(values))
    disp = _jit(func, {})
    try:
        disp.compile((types.float64,) * (2 + len(values)))
        if values:
            disp = _bind(disp, values)
            disp.compile((types.float64, types.float64))
    except Exception as exc:  # numba raises TypingError, UnsupportedError, ...
        detail = _strip_ansi(str(exc)).strip()
        raise CustomLossCompileError(
            f"make_loss: numba could not compile the {role} function {name!r} for "
            "two float64 arguments. Write it with numba-compatible code: scalar "
            "arithmetic, the math module, numpy functions on floats and helper "
            "functions of the same module (no scipy, no Python objects, no imports "
            "inside the function); or subclass "
            "skloss.losses.Loss and override _evaluate with NumPy code.\n"
            f"numba said: {detail}"
        ) from exc
    rtype = disp.nopython_signatures[-1].return_type
    if not isinstance(rtype, (types.Float, types.Integer, types.Boolean)):
        raise CustomLossCompileError(
            f"make_loss: the {role} function {name!r} must return one real number; "
            f"numba infers the return type {rtype}."
        )
    try:
        _COMPILED[key] = disp
    except TypeError:  # unhashable callable: compile on every use
        pass
    return disp


class CustomLoss(Loss):
    r"""A loss given by Python scalar functions; build it with :func:`make_loss`.

    Parameters
    ----------
    loss_func, gradient_func : callable
        ``f(y, raw) -> float``: the per-sample loss and its derivative with
        respect to the raw prediction.
    hessian_func : callable or None, default=None
        The second derivative; ``None`` gives a loss without Hessian
        (``has_hessian`` is False).
    link : str or Link, default="identity"
        The link: ``raw = link(prediction)``.
    name : str, default="custom"
        Shown in messages and ``repr``.
    task : {"regression", "classification"}, default="regression"
        A classification loss is written for the binary form (``y`` in {0, 1},
        one raw score); its K-class form is the one-vs-rest sum.
    is_smooth : bool, default=True
        Whether the loss is continuously differentiable in ``raw``.
    is_probabilistic : bool, default=False
        Whether ``inverse_link`` gives probabilities.
    likelihood : Likelihood or None, default=None
        The distribution whose negative log-likelihood the loss is, if any.
    y_domain : {"real", "nonnegative", "positive"} or Interval, default="real"
        The targets :meth:`validate_y` accepts (regression).
    piecewise_linear : None or sequence of (slope, intercept) pairs, default=None
        Declares the loss convex piecewise linear (see :class:`~skloss.losses.Loss`):
        estimators then fit it exactly.
    may_lack_minimiser : bool, default=False
        Whether a finite minimiser can fail to exist (e.g. separation).
    hessian_is_constant : bool, default=False
        Whether the Hessian does not depend on ``raw`` (a quadratic loss).
    **hyper_params : float
        Tunable hyper-parameters, passed to the scalar functions after ``y`` and
        ``raw`` in the order given; they are parameters of the loss
        (``get_params`` / ``set_params``), so ``loss__<name>`` grids work.

    See Also
    --------
    make_loss : the documented constructor (validates eagerly, resolves
        ``is_probabilistic``).
    """

    has_multiclass_form = False

    def __init__(
        self,
        loss_func,
        gradient_func,
        hessian_func=None,
        *,
        link="identity",
        name="custom",
        task="regression",
        is_smooth=True,
        is_probabilistic=False,
        likelihood=None,
        y_domain="real",
        piecewise_linear=None,
        may_lack_minimiser=False,
        hessian_is_constant=False,
        **hyper_params,
    ):
        self.loss_func = loss_func
        self.gradient_func = gradient_func
        self.hessian_func = hessian_func
        self.link = link
        self.name = name
        self.task = task
        self.is_smooth = is_smooth
        self.is_probabilistic = is_probabilistic
        self.likelihood = likelihood
        self.y_domain = y_domain
        self.piecewise_linear = piecewise_linear
        self.may_lack_minimiser = may_lack_minimiser
        self.hessian_is_constant = hessian_is_constant
        for key, value in hyper_params.items():
            setattr(self, key, value)
        self._hyper_names = tuple(hyper_params)

    # hyper-parameters are parameters too (get_params / set_params / clone)
    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params["y_domain"] = self._y_domain  # as given (a name or an Interval)
        for key in getattr(self, "_hyper_names", ()):
            params[key] = getattr(self, key)
        return params

    def _hyper_values(self):
        return tuple(getattr(self, key) for key in getattr(self, "_hyper_names", ()))

    # ``y_domain`` is a parameter (a name or an Interval) and a protocol member
    # (always an Interval)
    @property
    def y_domain(self):
        """The target domain as an :class:`~skloss.losses.Interval` (the class
        indices for a classification loss)."""
        if self.task == "classification":
            return _CLASS_INDICES
        value = self._y_domain
        return _Y_DOMAINS.get(value, value) if isinstance(value, str) else value

    @y_domain.setter
    def y_domain(self, value):
        self._y_domain = value

    # ``link`` and ``likelihood`` are both parameters and protocol members: the
    # parameter is stored as given, the protocol reads a Link / Likelihood
    @property
    def link(self):
        """The link (a :class:`~skloss.losses.Link`)."""
        return get_link(self._link)

    @link.setter
    def link(self, value):
        self._link = value

    @property
    def _link_name(self):
        return get_link(self._link).name

    @property
    def likelihood(self):
        """The likelihood given to the constructor, or None."""
        return self._likelihood

    @likelihood.setter
    def likelihood(self, value):
        self._likelihood = value

    @property
    def has_hessian(self):
        """Whether a Hessian function was given."""
        return self.hessian_func is not None

    # ---------------------------------------------------------------- checks
    def _validate_params(self):
        _validate(
            self.loss_func,
            self.gradient_func,
            self.hessian_func,
            self._link,
            self.name,
            self.task,
            self.is_smooth,
            self.is_probabilistic,
            self._likelihood,
            self._y_domain,
            signatures=False,  # checked once, before compiling
            piecewise_linear=self.piecewise_linear,
            flags={"may_lack_minimiser": self.may_lack_minimiser,
                   "hessian_is_constant": self.hessian_is_constant},
            hyper_params={k: getattr(self, k) for k in getattr(self, "_hyper_names", ())},
        )

    def _label(self):
        return f"Custom loss {self.name!r}"

    # ------------------------------------------------------------ evaluation
    def _compiled(self):
        values = self._hyper_values()
        f_loss = _compile(_py_func(self.loss_func), "loss", values)
        f_grad = _compile(_py_func(self.gradient_func), "gradient", values)
        if self.hessian_func is None:
            f_hess = f_grad  # never called: the hessian output is empty
        else:
            f_hess = _compile(_py_func(self.hessian_func), "hessian", values)
        return f_loss, f_grad, f_hess

    def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
        if want_hess and not self.has_hessian:
            raise HessianUnavailableError(
                f"{self._label()} has no Hessian (has_hessian=False): pass hessian= "
                "to make_loss, or use a first-order solver such as 'lbfgs'."
            )
        if raw.ndim == 2:
            return self._evaluate_ovr(y, raw, sw, want_loss, want_grad, want_hess)
        from skloss._kernels._custom import elementwise_driver

        dtype = raw.dtype
        empty = _EMPTY[dtype]
        n = raw.shape[0]
        out_loss = np.empty(n, dtype) if want_loss else empty
        out_grad = np.empty(n, dtype) if want_grad else empty
        out_hess = np.empty(n, dtype) if want_hess else empty
        elementwise_driver()(*self._compiled(), y, raw, sw, out_loss, out_grad, out_hess)
        return (
            out_loss if want_loss else None,
            out_grad if want_grad else None,
            out_hess if want_hess else None,
        )

    def _init_scalar(self, y, sw):
        # minimising the mean loss locates the optimum to ~sqrt(machine epsilon);
        # the root of the mean gradient next to it locates it to rounding
        from scipy.optimize import brentq

        c = float(super()._init_scalar(y, sw))
        n = y.shape[0]

        def mean_grad(t):
            return float(np.sum(self.gradient(y, np.full(n, t), sw)))

        h = 1e-4 * max(1.0, abs(c))
        g_lo, g_hi = mean_grad(c - h), mean_grad(c + h)
        if np.isfinite(g_lo) and np.isfinite(g_hi) and g_lo < 0.0 < g_hi:
            c = brentq(mean_grad, c - h, c + h, xtol=1e-14, rtol=4 * np.finfo(float).eps)
        return c

    def _init_bracket(self, y):
        if self.task == "classification" or self._link_name == "identity":
            return super()._init_bracket(y)
        with np.errstate(all="ignore"):
            z = np.asarray(self.link(y), dtype=np.float64)
        z = z[np.isfinite(z)]
        if z.size == 0:
            return -20.0, 20.0
        span = float(np.ptp(z))
        return float(z.min()) - 1.0 - span, float(z.max()) + 1.0 + span


def _validate(
    loss, gradient, hessian, link, name, task, is_smooth, is_probabilistic, likelihood, y_domain,
    signatures=True, piecewise_linear=None, flags=None, hyper_params=None,
):
    hyper_params = hyper_params or {}
    for key, value in hyper_params.items():
        if key in _OWN_PARAMS or key.startswith("_") or not key.isidentifier():
            raise ValueError(
                f"make_loss: hyper-parameter name {key!r} is not allowed (it must be an identifier "
                f"not starting with '_' and not one of {_OWN_PARAMS})."
            )
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not np.isfinite(value):
            raise ValueError(
                f"make_loss: hyper-parameter {key!r} must be a finite real number; got {value!r}."
            )
    for role, func, required in (("loss", loss, True), ("gradient", gradient, True), ("hessian", hessian, False)):
        if func is None and not required:
            continue
        if not callable(func):
            raise TypeError(
                f"make_loss: '{role}' must be a Python function f(y, raw) -> float; "
                f"got {type(func).__name__}."
            )
        if signatures:
            _check_signature(role, func, len(hyper_params))
    get_link(link)  # ValueError listing the known links
    if not isinstance(name, str) or not name:
        raise ValueError(f"make_loss: 'name' must be a non-empty string; got {name!r}.")
    if task not in _TASKS:
        raise ValueError(f"make_loss: 'task' must be one of {_TASKS}; got {task!r}.")
    for flag, value in (("is_smooth", is_smooth), ("is_probabilistic", is_probabilistic),
                        *((flags or {}).items())):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"make_loss: '{flag}' must be True or False; got {value!r}.")
    if is_probabilistic and (task != "classification" or get_link(link).name not in _PROBABILITY_LINKS):
        raise ValueError(
            "make_loss: is_probabilistic=True needs task='classification' and a link "
            f"whose inverse gives probabilities {_PROBABILITY_LINKS}; got task={task!r}, "
            f"link={get_link(link).name!r}."
        )
    if likelihood is not None and not isinstance(likelihood, Likelihood):
        raise ValueError(
            "make_loss: 'likelihood' must be None or a skloss.losses.Likelihood instance; "
            f"got {type(likelihood).__name__}."
        )
    if not isinstance(y_domain, Interval) and not (isinstance(y_domain, str) and y_domain in _Y_DOMAINS):
        raise ValueError(
            f"make_loss: 'y_domain' must be one of {tuple(_Y_DOMAINS)} or a skloss.losses.Interval; "
            f"got {y_domain!r}."
        )
    if task == "classification" and y_domain not in ("real", REAL):
        raise ValueError(
            "make_loss: 'y_domain' applies to regression; a classification loss takes "
            "class indices."
        )
    if piecewise_linear is not None:
        check_piecewise_linear(piecewise_linear, "make_loss: 'piecewise_linear'")


def make_loss(
    loss,
    gradient,
    hessian=None,
    *,
    link="identity",
    name="custom",
    task="regression",
    is_smooth=True,
    is_probabilistic=None,
    likelihood=None,
    y_domain="real",
    piecewise_linear=None,
    may_lack_minimiser=False,
    hessian_is_constant=False,
    params=None,
):
    r"""Build a loss object from plain Python scalar functions.

    Each function takes one target and one raw prediction (two floats) and returns
    a float; numba compiles it at first use, and the resulting loss behaves like a
    built-in one: ``loss``, ``gradient``, ``hessian``, ``loss_gradient`` ... on
    arrays, float32 kept as float32, sample weights, ``get_params`` /
    ``set_params`` / ``clone``, and use in every skloss estimator.

    Parameters
    ----------
    loss : callable
        ``loss(y, raw) -> float``, the per-sample loss.
    gradient : callable
        ``gradient(y, raw) -> float``, its derivative with respect to ``raw``.
    hessian : callable or None, default=None
        ``hessian(y, raw) -> float``, the second derivative.  Without it the loss
        has ``has_hessian = False`` and solvers use first-order methods.
    link : str or Link, default="identity"
        The link ``raw = link(prediction)``: ``"identity"``, ``"log"``,
        ``"logit"``, ``"probit"`` ... (see :func:`skloss.losses.get_link`).
    name : str, default="custom"
        A name for messages and ``repr``.
    task : {"regression", "classification"}, default="regression"
        A classification loss is written in binary form: ``y`` is 0 or 1 and
        ``raw`` one score.  With K classes the loss is the one-vs-rest sum
        ``sum_k loss(1[y == k], raw[:, k])`` (``has_multiclass_form = False``).
    is_smooth : bool, default=True
        Whether the loss is continuously differentiable in ``raw`` (solvers
        for non-smooth losses are chosen otherwise).
    is_probabilistic : bool or None, default=None
        Whether ``inverse_link`` gives class probabilities, so estimators offer
        ``predict_proba``.  None: True for a classification loss whose link maps
        into [0, 1] (logit, probit, ...), False otherwise.
    likelihood : Likelihood or None, default=None
        The distribution whose negative log-likelihood the loss is, if any
        (enables likelihood inference in the estimators).
    y_domain : {"real", "nonnegative", "positive"} or Interval, default="real"
        The targets a regression loss accepts; :meth:`~Loss.validate_y` and the
        evaluation methods reject the others with a ``ValueError``.
    piecewise_linear : None or sequence of (slope, intercept) pairs, default=None
        Declare a convex piecewise-linear loss ``max_j (slope_j u + intercept_j)``
        with ``u = raw - y`` (regression) or the margin ``u = (2 y - 1) raw``
        (classification), e.g. the pinball loss ``[(-q, 0), (1 - q, 0)]``.  The
        estimators then fit it with their exact piecewise-linear solvers, as
        the built-ins.  Set ``is_smooth=False`` too.
    may_lack_minimiser : bool, default=False
        Declare that a finite minimiser can fail to exist on some data (as
        for the log loss on separable classes): estimators then check for it
        and warn.
    hessian_is_constant : bool, default=False
        Declare that the Hessian does not depend on ``raw`` (a loss quadratic
        in ``raw``): linear models then solve it in closed form.
    params : dict or None, default=None
        Tunable hyper-parameters ``{name: value}``: each function is called
        as ``f(y, raw, *values)`` in the order given, and each name is a
        parameter of the loss, so ``GridSearchCV(est, {"loss__delta": [...]})``
        tunes it.  Every distinct set of values is compiled once per process.

    Returns
    -------
    CustomLoss
        A :class:`~skloss.losses.Loss` whose parameters are the arguments above
        (``loss_func``, ``gradient_func``, ``hessian_func``, ``link`` ...).

    Raises
    ------
    TypeError
        If a function is not callable or does not take two arguments.
    ValueError
        For an unknown link, task or domain.
    CustomLossCompileError
        (a ``ValueError``) at first use, if numba cannot compile a function; the
        message names the function and quotes numba.

    See Also
    --------
    skloss.utils.check_loss : check the gradient and Hessian against finite
        differences (do it for every custom loss).

    Notes
    -----
    **Compilation.** The functions are compiled with ``numba.njit`` the first
    time the loss is evaluated, and the compiled versions are kept in a
    module-level cache keyed by the Python functions, never on the loss.  They
    are called by generic drivers that take them as arguments, which numba cannot
    cache on disk: a custom loss pays its compile time (typically a fraction of a
    second per dtype) once per process, including in every worker of a parallel
    grid search.  Built-in losses load from numba's disk cache instead.

    When numba cannot compile a function, ``make_loss`` raises
    :class:`CustomLossCompileError` rather than falling back to a pure-Python
    path: a loss is evaluated inside solver loops, where an interpreted scalar
    function would be a hundred times slower, silently.  Code that numba cannot
    compile (SciPy special functions, for instance) belongs in a subclass, below.

    **Pickling.** A custom loss pickles (and so works with ``joblib`` and
    ``GridSearchCV(n_jobs=...)``) when its functions are module-level functions;
    lambdas and nested functions do not pickle.

    **Subclassing.** For full control, or NumPy / SciPy code, subclass
    :class:`~skloss.losses.Loss`: set the class attributes (``name``, ``task``,
    ``is_smooth``, ``has_hessian``, ``is_probabilistic``, ``_link_name``), store
    the parameters in ``__init__`` (nothing else), and override
    ``_evaluate(y, raw, sw, want_loss, want_grad, want_hess)``.  It receives
    C-contiguous arrays of one float dtype (``sw`` of length 0 means unit
    weights) and returns a ``(loss, gradient, hessian)`` tuple of arrays of that
    dtype, multiplied by the weights, with None for what was not wanted::

        import numpy as np
        from scipy.special import expit, log_expit
        from skloss.losses import Loss, HessianUnavailableError

        class LogisticLoss(Loss):
            name = "my_logistic"
            task = "classification"
            is_probabilistic = True
            _link_name = "logit"

            def __init__(self):
                pass

            def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
                if raw.ndim == 2:  # K classes: the one-vs-rest sum
                    return self._evaluate_ovr(y, raw, sw, want_loss, want_grad, want_hess)
                w = sw if sw.size else 1.0
                p = expit(raw)
                loss = w * (-log_expit(raw) + (1 - y) * raw) if want_loss else None
                grad = w * (p - y) if want_grad else None
                hess = w * p * (1 - p) if want_hess else None
                return loss, grad, hess

    A subclass without a Hessian sets ``has_hessian = False`` and raises
    :class:`~skloss.losses.HessianUnavailableError` when ``want_hess`` is set.
    Then run :func:`skloss.utils.check_loss` on it.

    Examples
    --------
    A log-cosh loss (its functions at module level in real code, so it pickles):

    >>> import math
    >>> from skloss.losses import make_loss
    >>> def logcosh(y, raw):
    ...     d = abs(raw - y)
    ...     return d + math.log1p(math.exp(-2.0 * d)) - math.log(2.0)
    >>> def logcosh_grad(y, raw):
    ...     return math.tanh(raw - y)
    >>> def logcosh_hess(y, raw):
    ...     t = math.tanh(raw - y)
    ...     return 1.0 - t * t
    >>> loss = make_loss(logcosh, logcosh_grad, logcosh_hess, name="log_cosh")
    >>> loss.loss([0.0, 1.0], [0.0, 3.0]).round(4)
    array([0.   , 1.325])
    >>> loss.has_hessian, loss.task
    (True, 'regression')
    """
    loss, gradient = _py_func(loss), _py_func(gradient)
    hessian = None if hessian is None else _py_func(hessian)
    if is_probabilistic is None:
        is_probabilistic = bool(
            task == "classification"
            and isinstance(link, (str, Link))
            and link in _PROBABILITY_LINKS
        )
    params = dict(params or {})
    _validate(loss, gradient, hessian, link, name, task, is_smooth, is_probabilistic, likelihood, y_domain,
              piecewise_linear=piecewise_linear,
              flags={"may_lack_minimiser": may_lack_minimiser, "hessian_is_constant": hessian_is_constant},
              hyper_params=params)
    if piecewise_linear is not None:
        piecewise_linear = tuple((float(a), float(c)) for a, c in piecewise_linear)
    return CustomLoss(
        loss,
        gradient,
        hessian,
        link=link,
        name=name,
        task=task,
        is_smooth=is_smooth,
        is_probabilistic=is_probabilistic,
        likelihood=likelihood,
        y_domain=y_domain,
        piecewise_linear=piecewise_linear,
        may_lack_minimiser=may_lack_minimiser,
        hessian_is_constant=hessian_is_constant,
        **params,
    )
