"""Shared machinery of :class:`SGDNetClassifier` and :class:`SGDNetRegressor`.

The objective minimised (per minibatch, its stochastic estimate) is

.. math::

    F(\\theta) = \\frac{\\sum_i s_i\\, \\ell(y_i, f_\\theta(x_i))}{\\sum_i s_i}
                 + \\frac{\\alpha}{2} \\sum_l \\lVert W_l \\rVert_F^2

with ``s_i`` the sample weights (times the class weights), ``f_theta`` the
network's raw output and ``ell`` the loss object; intercepts are not penalised.
A minibatch ``B`` of ``m`` samples uses the gradient of
``sum_{i in B} s_i ell_i / (m * s_bar) + alpha / 2 sum ||W||^2`` where
``s_bar`` is the mean weight of the training set: an unbiased estimate of the
gradient of ``F`` (a batch of heavy samples takes a larger step, as repeating
them would).  ``alpha`` is therefore the ``alpha`` of scikit-learn's
``SGDClassifier`` and PyTorch's ``weight_decay``; scikit-learn's
``MLPClassifier`` divides its penalty by the batch size instead, so its
``alpha`` equals ours times ``batch_size``.
"""

import contextlib
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from skloss.losses import Loss, available_losses, get_loss
from skloss.utils._inputs import check_weight_values
from skloss.utils._loss_params import LossParamsMixin
from skloss.utils._state import keeps_state_on_error

from . import _network
from ._numpy_epoch import NON_FINITE, OK, NumpyEpoch, checking_loss, make_output
from ._optimizers import make_optimizer
from ._output import compiled_route, kernel_params, output_form, read_only

# Minibatch matrix products smaller than this many multiply-adds run on one BLAS
# thread: on the 2-core benchmark machine, shared with other jobs, two OpenBLAS
# threads made the products of a 32-sample minibatch several times slower (the
# threads spin for a core), and at that size they have little to split.
_SMALL_PRODUCT = 1 << 24
_CONTROLLER = []


def _blas_threads(batch, sizes):
    """A context limiting BLAS to one thread when the minibatch products are small."""
    largest = max(batch * int(a) * int(b) for a, b in zip(sizes[:-1], sizes[1:]))
    if largest >= _SMALL_PRODUCT:
        return contextlib.nullcontext()
    if not _CONTROLLER:
        import scipy.linalg.cython_blas  # noqa: F401  (the BLAS numba calls)
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


class BaseSGDNet(LossParamsMixin, BaseEstimator):
    """Base class of the minibatch-SGD networks (not for direct use)."""

    _task = None
    _default_loss = None

    _parameter_constraints = {
        "loss": [str, Loss],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_network.ACTIVATIONS))],
        "optimizer": [StrOptions({"sgd", "adam"})],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterov": ["boolean"],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "scoring": [StrOptions({"loss"}), str, callable],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------------ hooks
    def _encode_targets(self, y, first, classes, dtype):
        """Return ``(Y, n_outputs, stratify)``; set the target attributes."""
        raise NotImplementedError(f"{type(self).__name__} must implement _encode_targets.")

    def _sample_weight(self, Y, sample_weight, X, incremental):
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)

    def _validation_score(self, loss, form, X_val, Y_val, sw_val, theta, sizes):
        raise NotImplementedError(f"{type(self).__name__} must implement _validation_score.")

    # ------------------------------------------------------------------ checks
    def _resolve_loss(self):
        loss = get_loss(self.loss)
        if loss.task != self._task:
            raise ValueError(
                f"{type(self).__name__} needs a {self._task} loss; {loss.name!r} is a "
                f"{loss.task} loss. Available {self._task} losses: "
                f"{', '.join(available_losses(self._task))}."
            )
        loss._validate_params()
        return loss

    def _hidden_sizes(self):
        hidden = self.hidden_layer_sizes
        if not hasattr(hidden, "__iter__"):
            hidden = [hidden]
        hidden = list(hidden)
        for h in hidden:
            if isinstance(h, (bool, np.bool_)) or not isinstance(h, Integral) or h < 1:
                raise ValueError(
                    "hidden_layer_sizes must be a sequence of positive integers (or () for a "
                    f"linear model); got {self.hidden_layer_sizes!r}."
                )
        return [int(h) for h in hidden]

    def _batch(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the number of training samples "
                f"({n_samples}); batches of {n_samples} samples are used."
            )
            return n_samples
        return int(self.batch_size)

    # ------------------------------------------------------------------ fit
    @keeps_state_on_error
    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        from skloss._dask import any_dask

        if any_dask(X, y, sample_weight):  # (dask arrays: stream the row blocks)
            from skloss._dask._stream import stream_fit

            return stream_fit(self, X, y, sample_weight, incremental, classes)
        fitted = hasattr(self, "coefs_")
        first = not fitted or not (incremental or self.warm_start)
        loss = self.loss_ if (incremental and fitted) else self._resolve_loss()
        if incremental and fitted:
            hidden = [int(s) for s in self._sizes[1:-1]]
        else:
            hidden = self._hidden_sizes()
        if self.early_stopping and not incremental and self.scoring != "loss":
            from sklearn.metrics import check_scoring

            scorer = check_scoring(self, scoring=self.scoring)
        else:
            scorer = None

        X, y = validate_data(
            self, X, y, reset=first, accept_sparse="csr", dtype=[np.float64, np.float32],
            order="C", **self._y_validation_kwargs(),
        )
        dtype = X.dtype
        Y, n_outputs, stratify = self._encode_targets(y, first, classes, dtype)
        if self._task == "regression":
            loss.validate_y(Y.ravel())
        sw = check_weight_values(self._sample_weight(Y, sample_weight, X, incremental),
                                 "sample_weight (times class_weight)")
        if sw is not None and not np.sum(sw) > 0:
            raise ValueError("sample_weight must have a positive sum; got all zeros.")
        n_total = X.shape[0]
        _check_power_t(self, n_total)

        if first:
            self._rng = check_random_state(self.random_state)
        rng = self._rng
        y_orig = y
        early = self.early_stopping and not incremental
        X_val = Y_val = y_val = sw_val = None
        if early:
            idx = np.arange(X.shape[0])
            idx_train, idx_val = train_test_split(
                idx, test_size=self.validation_fraction, random_state=rng, stratify=stratify
            )
            if idx_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' or the "
                    "size of your dataset."
                )
            X_val, Y_val, y_val = X[idx_val], Y[idx_val], y_orig[idx_val]
            sw_val = None if sw is None else sw[idx_val]
            X, Y = X[idx_train], np.ascontiguousarray(Y[idx_train])
            if not sp.issparse(X):
                X = np.ascontiguousarray(X)
            sw = None if sw is None else sw[idx_train]

        n_samples = X.shape[0]
        form = output_form(loss, n_outputs)
        # the loss of the start values, yardsticks and validation scores: its
        # NumPy twin where it has one (no kernel compiled for them)
        checks = checking_loss(loss, form)
        sizes = _network.layer_sizes(X.shape[1], hidden, n_outputs)
        if first:
            self._target = _target_transform(checks, form, Y, sw)
        target = self._target
        Y_train = target.forward(Y, dtype)
        if first:
            theta = _network.init_theta(sizes, self.activation, rng, dtype)
            bias = self._output_bias(loss, Y_train, sw, n_outputs)
            theta[theta.shape[0] - n_outputs:] = bias
            self._step_scale, self._reference_loss = _curvature(
                checks, form, Y_train, sw, bias, n_outputs
            )
            # the yardstick of the growth safeguard: the worse of the constant
            # model and the initial network (large on unscaled features), the
            # latter on evenly strided rows (a ten-fold growth test needs no more;
            # a pass over all rows cost a third of an epoch)
            rows = slice(0, n_samples, -(-n_samples // _YARDSTICK_ROWS))
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                start = -self._validation_score(
                    checks, form, X[rows], Y_train[rows], None if sw is None else sw[rows], theta,
                    sizes,
                ) + 0.5 * self.alpha * _network.squared_weight_norm(theta, sizes)
            self._constant_loss = self._reference_loss
            if np.isfinite(start):
                self._reference_loss = max(self._reference_loss, float(start))
            optimizer = None
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            self._no_improvement_count = 0
            self.best_loss_ = np.inf
        else:
            if not np.array_equal(sizes, self._sizes):
                raise ValueError(
                    f"The fitted network has layer sizes {self._sizes.tolist()}; this data and "
                    f"hidden_layer_sizes need {sizes.tolist()}. Refit without warm_start."
                )
            theta = target.to_training(_network.pack(self.coefs_, self.intercepts_, dtype), sizes)
            optimizer = getattr(self, "_optimizer", None) if incremental else None
        if optimizer is None:
            optimizer = make_optimizer(
                self.optimizer, theta.shape[0], dtype,
                learning_rate_init=self.learning_rate_init, learning_rate=self.learning_rate,
                momentum=self.momentum, nesterov=self.nesterov, power_t=self.power_t,
                step_scale=self._step_scale,
            )
        else:
            optimizer.astype(dtype)
        self._optimizer = optimizer
        self._sizes = sizes
        self.loss_ = loss
        self.n_outputs_ = int(n_outputs)
        self.n_layers_ = int(sizes.shape[0])
        self.out_activation_ = self._out_activation(loss, form)
        if early:
            if first or getattr(self, "validation_scores_", None) is None:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            if first:
                self.validation_scores_ = None
                self.best_validation_score_ = None
            if getattr(self, "best_loss_", None) is None:
                self.best_loss_ = np.inf

        batch = self._batch(n_samples)
        sw_arr = np.empty(0, dtype) if sw is None else np.ascontiguousarray(sw, dtype=dtype)
        grad_scale = 1.0 if sw is None else n_samples / float(np.sum(sw, dtype=np.float64))
        act = _network.ACTIVATIONS.index(self.activation)
        params = kernel_params(loss)
        route = numpy_epoch = Xin = work = None
        if _numpy_route(n_samples, sizes, 1 if incremental else self.max_iter, batch):
            numpy_epoch = NumpyEpoch(
                sizes, batch, dtype, act, optimizer.code,
                make_output(loss, form, params, batch, int(n_outputs), dtype),
            )
        else:
            route = compiled_route(loss, form)
            Xin = _input_arrays(X, dtype)
            work = _workspace(batch, sizes, Y.shape[1] if Y.ndim == 2 else 1, dtype, X)
        run = _Run(
            incremental=incremental, early=early, scorer=scorer, rng=rng, n_samples=n_samples,
            optimizer=optimizer, dtype=dtype, grad_scale=grad_scale, route=route,
            numpy_epoch=numpy_epoch, loss=loss, checks=checks, form=form, Xin=Xin, X=X,
            Y=np.ascontiguousarray(Y_train), sw=sw_arr, sizes=sizes, act=act, params=params,
            work=work, grad=np.zeros_like(theta), X_val=X_val, Y_val=Y_val, y_val=y_val,
            sw_val=sw_val, target=target,
        )
        with _blas_threads(batch, sizes):
            theta = self._epochs(run, theta, 1 if incremental else self.max_iter)
        self.coefs_, self.intercepts_ = _network.unpack(target.to_public(theta, sizes), sizes)
        return self

    def _epochs(self, run, theta, n_epochs):
        """The epoch loop: stopping rules, schedules, the growth safeguard,
        interrupts and verbose lines.  Returns the weights to keep (training
        parametrisation)."""
        optimizer, target = run.optimizer, run.target
        unit = target.loss_unit  # objective in y's units = unit * objective in training units
        best_train = self.best_loss_ / unit if self.best_loss_ is not None else np.inf
        if not np.isfinite(best_train) and self.loss_curve_:
            best_train = min(self.loss_curve_) / unit
        best_theta = theta.copy()  # start of the epoch with the lowest training loss
        best_epoch = self.n_iter_
        best_valid = None  # weights of the best validation score (early stopping)
        growth = []  # (epoch, loss, best) of each rejected epoch
        exhausted = True
        for _ in range(n_epochs):
            saved = self._bookkeeping()
            theta_before = theta.copy()
            opt_before = optimizer.snapshot()
            try:
                epoch_loss, elapsed = _run_epoch(self, run, theta)
                base = max(best_train, self._reference_loss) if np.isfinite(best_train) \
                    else self._reference_loss
                if not np.isfinite(epoch_loss) or not np.all(np.isfinite(theta)) or (
                    base > 0 and epoch_loss > _GROWTH * base
                ):
                    # safeguarded step: back to the best epoch, a smaller step
                    growth.append((self.n_iter_ + 1, epoch_loss * unit, best_train * unit))
                    theta[...] = best_theta
                    optimizer.reset_after_growth()
                    if len(growth) > _MAX_STEP_CUTS:
                        exhausted = False
                        break
                    continue
                self.n_iter_ += 1
                self.t_ += run.n_samples
                self.loss_curve_.append(epoch_loss * unit)
                line = f"Epoch {self.n_iter_}, loss = {epoch_loss * unit:.8f}"
                improved = epoch_loss < best_train
                stalled = epoch_loss > best_train - self.tol
                if improved:
                    # the safe point of this epoch is where it started: its
                    # averaged loss vouches for the path from there, while
                    # its end may already be diverging
                    best_train = epoch_loss
                    best_theta[...] = theta_before
                    best_epoch = self.n_iter_ - 1
                if run.early:
                    score, comparable = self._score_epoch(run, theta)
                    self.validation_scores_.append(score)
                    line += f", validation score = {score:.8f}"
                    best_comparable = self.best_validation_score_
                    if run.scorer is None and np.isfinite(best_comparable):
                        best_comparable = best_comparable / unit
                    stalled = comparable < best_comparable + self.tol
                    if score > self.best_validation_score_:
                        self.best_validation_score_ = score
                        best_valid = theta.copy()
                else:
                    self.best_loss_ = best_train * unit
                self._no_improvement_count = self._no_improvement_count + 1 if stalled else 0
                if self.verbose:
                    took = f"{elapsed:.2f} s" if elapsed >= 1 else f"{1000 * elapsed:.1f} ms"
                    print(f"{line}, learning rate = {optimizer.learning_rate:g}, {took}")
                optimizer.iteration_ends(self.t_)
                if (growth and self._no_improvement_count > self.n_iter_no_change
                        and not run.early
                        and best_train > getattr(self, "_constant_loss", np.inf)):
                    # after a divergence the network stalled without beating the
                    # constant model: not convergence; back to the best epoch's
                    # start with a smaller rate
                    growth.append((self.n_iter_, epoch_loss * unit, best_train * unit))
                    theta[...] = best_theta
                    optimizer.reset_after_growth()
                    self._no_improvement_count = 0
                    if len(growth) > _MAX_STEP_CUTS:
                        exhausted = False
                        break
                    continue
                if self._no_improvement_count > self.n_iter_no_change:
                    what = "Validation score" if run.early else "Training loss"
                    msg = (f"{what} did not improve more than tol={self.tol:f} for "
                           f"{self.n_iter_no_change} consecutive epochs.")
                    if optimizer.trigger_stopping(msg, self.verbose):
                        exhausted = False
                        break
                    self._no_improvement_count = 0
            except KeyboardInterrupt:
                # the same outcome wherever the interrupt lands: the state of
                # the last complete epoch, then the usual end of training
                theta[...] = theta_before
                optimizer.restore(opt_before)
                self._restore_bookkeeping(saved)
                warnings.warn(
                    f"Training interrupted by user after {self.n_iter_} epochs; the weights "
                    + ("of the best validation epoch are kept." if run.early
                       else "of the last complete epoch are kept."),
                    UserWarning,
                )
                exhausted = False
                break
        if growth:
            self._warn_growth(growth, best_epoch, optimizer, stopped=len(growth) > _MAX_STEP_CUTS)
        if exhausted and not run.incremental:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        if growth and not run.early and (
                not self.loss_curve_ or self.loss_curve_[-1] > best_train * unit):
            # after a divergence the best epoch is kept, not the last one
            theta = best_theta
        if run.early and best_valid is not None:
            theta = best_valid
        return theta

    def _bookkeeping(self):
        scores = self.validation_scores_
        return (self.n_iter_, self.t_, len(self.loss_curve_), self.best_loss_,
                None if scores is None else len(scores), self.best_validation_score_,
                self._no_improvement_count)

    def _restore_bookkeeping(self, saved):
        n_iter, t, n_curve, best_loss, n_scores, best_score, count = saved
        self.n_iter_, self.t_, self.best_loss_ = n_iter, t, best_loss
        del self.loss_curve_[n_curve:]
        if n_scores is not None:
            del self.validation_scores_[n_scores:]
        self.best_validation_score_ = best_score
        self._no_improvement_count = count

    def _score_epoch(self, run, theta):
        """``(score, comparable)``: the validation score reported (in the
        target's units) and the one the stopping rule compares (scale-free)."""
        public = run.target.to_public(theta, run.sizes)
        if run.scorer is None:
            score = self._validation_score(run.checks, run.form, run.X_val, run.Y_val,
                                           run.sw_val, public, run.sizes)
            return score, score / run.target.loss_unit
        self.coefs_, self.intercepts_ = _network.unpack(public, run.sizes)
        score = float(run.scorer(self, run.X_val, run.y_val, sample_weight=run.sw_val))
        return score, score

    def _warn_growth(self, growth, best_epoch, optimizer, stopped):
        epoch, value, best = growth[0]
        grew = (f"the training loss grew to {value:.4g} in epoch {epoch} (best so far "
                f"{best:.4g})" if np.isfinite(value) and np.isfinite(best)
                else f"the training loss became non-finite in epoch {epoch}")
        if stopped:
            msg = (f"Training diverged: {grew} with learning_rate_init="
                   f"{self.learning_rate_init!r} (optimizer={self.optimizer!r}), and again after "
                   f"{_MAX_STEP_CUTS} ten-fold cuts of the learning rate. Training stopped and "
                   f"the weights after epoch {best_epoch} (where the epoch of the lowest loss "
                   "started) are kept. Lower "
                   "learning_rate_init or scale the features.")
        else:
            msg = (f"Training diverged and recovered: {grew} with learning_rate_init="
                   f"{self.learning_rate_init!r} (optimizer={self.optimizer!r}). The weights of "
                   f"the best epoch were restored and the learning rate divided by 10 "
                   f"{len(growth)} time(s), to {optimizer.learning_rate:g}. Lower "
                   "learning_rate_init or scale the features.")
        warnings.warn(msg, ConvergenceWarning)

    def _y_validation_kwargs(self):
        return {}

    def _out_activation(self, loss, form):
        if form == "multiclass":
            return str(loss.multiclass_link)
        if form == "ovr":
            return f"one-vs-rest {loss.link}"
        return str(loss.link)

    def _output_bias(self, loss, Y, sw, n_outputs):
        """Start the output intercepts at the loss's intercept-only optimum."""
        sw64 = None if sw is None else np.asarray(sw, dtype=np.float64)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                bias = self._init_raw(loss, Y, sw64, n_outputs)
            bias = np.asarray(bias, dtype=np.float64).reshape(n_outputs)
        except Exception:  # a start value only: never a reason to fail
            return np.zeros(n_outputs)
        return np.where(np.isfinite(bias), np.clip(bias, -1e3, 1e3), 0.0)

    # ------------------------------------------------------------------ predict
    def _raw(self, X):
        check_is_fitted(self, "coefs_")
        X = validate_data(self, X, reset=False, accept_sparse="csr",
                          dtype=[np.float64, np.float32], order="C")
        return _network.forward(X, self.coefs_, self.intercepts_, self.activation)

    def _objective_terms(self, X, y, sample_weight=None):
        """(weighted mean loss, penalty) of the fitted network on ``(X, y)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _objective_terms.")


# A fit small enough runs its epochs in NumPy (``_numpy_epoch``), without numba:
# a cold process would spend ~2.5 s importing numba and compiling the epoch
# (digits, 1797 x 64, 100 ReLU units, softmax: ~2.0 s of compile plus 0.45 s of
# start-up), a warm one ~0.5 s loading it, while the NumPy epoch is slower per
# minibatch (digits, per epoch, CPU ms, one BLAS thread, load 3, 7 Dec 2026:
# batch 200: NumPy 4.7-6.5, compiled 2.3-4.2; batch 32: NumPy 6.7-7.7, compiled
# 2.2-4.0).  So a fit takes the NumPy route when both its multiply-adds
# (samples x parameters x epochs; one epoch for partial_fit) and its minibatch
# steps are few enough that its NumPy epochs cost well under that start-up:
# _NUMPY_WORK is ~22 digits epochs (~0.15 s; max_iter=5: 6.8e7, max_iter=200:
# 2.7e9, compiled), _NUMPY_STEPS bounds the per-minibatch NumPy overhead
# (~0.1 ms a step) for tiny networks on many rows.  By size alone: the same data
# take the same route in every run.
_NUMPY_WORK = 3e8
_NUMPY_STEPS = 2000


_FORCED_ROUTE = []  # (innermost last) set by _forced_route


@contextlib.contextmanager
def _forced_route(numpy):
    """Within the block every fit takes the NumPy route (``numpy=True``) or the
    compiled one (``False``) whatever its size: the network's warm-up compiles
    the drivers with tiny fits this way."""
    _FORCED_ROUTE.append(bool(numpy))
    try:
        yield
    finally:
        _FORCED_ROUTE.pop()


def _numpy_route(n_samples, sizes, epochs, batch):
    """Whether a fit of ``epochs`` epochs of minibatches of ``batch`` rows over
    ``n_samples`` rows, of a network of layer ``sizes``, runs in NumPy."""
    if _FORCED_ROUTE:
        return _FORCED_ROUTE[-1]
    steps = epochs * -(-n_samples // max(int(batch), 1))
    return (n_samples * _network.n_params(sizes) * epochs <= _NUMPY_WORK
            and steps <= _NUMPY_STEPS)


# Safeguarded step: an epoch whose training loss exceeds _GROWTH times the best
# epoch's (and the constant model's) is rejected -- the weights of the best epoch
# come back and the learning rate is cut ten-fold -- at most _MAX_STEP_CUTS times.
_GROWTH = 10.0
_MAX_STEP_CUTS = 8


class _Run:
    """What one call of ``_fit`` hands to the epoch loop."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def _run_epoch(est, run, theta):
    """One epoch over the training data; ``(objective, seconds)`` in training
    units, the objective NaN when the loss became non-finite."""
    optimizer = run.optimizer
    perm = run.rng.permutation(run.n_samples) if est.shuffle else np.arange(run.n_samples)
    perm = perm.astype(np.int64, copy=False)
    hyper = optimizer.hyper(est.alpha, run.grad_scale, run.dtype)
    tic = time.perf_counter()
    if run.numpy_epoch is not None:
        total, wsum, status = run.numpy_epoch.run(
            run.X, run.Y, run.sw, perm, theta, run.grad, optimizer.s1, optimizer.s2, hyper,
            optimizer.counters,
        )
    elif run.route is not None:
        driver, code = run.route
        total, wsum, _, status = driver(
            run.Xin, run.Y, run.sw, perm, theta, run.grad, optimizer.s1, optimizer.s2,
            run.sizes, run.act, optimizer.code, hyper, optimizer.counters, code, run.params,
            run.work,
        )
    else:
        total, wsum, status = _python_epoch(
            run.loss, run.form, run.X, run.Y, run.sw, perm, theta, run.grad, optimizer,
            run.sizes, run.act, hyper, run.work, run.grad_scale,
        )
    elapsed = time.perf_counter() - tic
    if status != OK:
        return np.nan, elapsed
    with np.errstate(over="ignore", invalid="ignore"):
        penalty = 0.5 * est.alpha * _network.squared_weight_norm(theta, run.sizes)
        return float(total / wsum) + penalty, elapsed


def _check_power_t(est, n_samples):
    """``invscaling`` must leave a representable learning rate after one epoch."""
    if est.learning_rate != "invscaling" or est.optimizer != "sgd" or est.power_t == 0:
        return
    log_lr = np.log(est.learning_rate_init) - est.power_t * np.log1p(n_samples)
    if log_lr < np.log(np.finfo(np.float64).tiny):
        bound = (np.log(est.learning_rate_init) - np.log(np.finfo(np.float64).tiny)) / np.log1p(
            n_samples)
        raise ValueError(
            f"power_t={est.power_t!r} makes the 'invscaling' learning rate "
            "learning_rate_init / (t + 1) ** power_t underflow to 0 after the first epoch "
            f"(t = {n_samples} samples seen). Use power_t below {bound:.3g} (the usual values "
            "are 0.25 to 1)."
        )


class _TargetScaling:
    """The affine map between the target's units and the training units.

    For a regression loss with the identity link that is location-scale
    equivariant, ``loss(m + s a, m + s b) = s**degree * loss(a, b)`` (squared,
    absolute and quantile errors), the network is trained on the standardised
    target ``(y - m) / s`` (weighted mean and standard deviation) and its output
    layer is mapped back afterwards: ``W_out = s W'_out``, ``b_out = m + s b'_out``.
    The minimiser of the loss part is unchanged; the step sizes no longer depend
    on the target's units.  Every other loss gets the identity map.
    """

    def __init__(self, shift=None, scale=1.0, degree=0):
        self.shift = None if shift is None else np.asarray(shift, dtype=np.float64)
        self.scale = float(scale)
        self.degree = degree
        self.loss_unit = self.scale ** degree if shift is not None else 1.0

    def forward(self, Y, dtype):
        if self.shift is None:
            return Y
        Z = (np.asarray(Y, dtype=np.float64) - self.shift) / self.scale
        return np.ascontiguousarray(Z, dtype=dtype)

    def _output_layer(self, theta, sizes):
        k = int(sizes[-1])
        n_w = int(sizes[-2]) * k
        end = theta.shape[0]
        return theta[end - k - n_w:end - k], theta[end - k:]

    def to_public(self, theta, sizes):
        if self.shift is None:
            return theta
        out = theta.astype(np.float64, copy=True)
        w, b = self._output_layer(out, sizes)
        w *= self.scale
        b[...] = self.shift + self.scale * b
        return out.astype(theta.dtype, copy=False)

    def to_training(self, theta, sizes):
        if self.shift is None:
            return theta
        out = theta.astype(np.float64, copy=True)
        w, b = self._output_layer(out, sizes)
        w /= self.scale
        b[...] = (b - self.shift) / self.scale
        return np.ascontiguousarray(out, dtype=theta.dtype)


def _homogeneity_degree(loss):
    """``k`` when ``loss(m + s a, m + s b) = s**k loss(a, b)`` for every shift
    ``m`` and scale ``s > 0`` (checked on a grid of points), else None."""
    a = np.array([2.5, -3.0, -0.5, 0.0, 0.2, 40.0, 1e-3])
    b = np.array([0.5, 1.0, 0.3, -2.0, 0.9, 35.0, -2e-3])
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            base = np.asarray(loss.loss(a, b), dtype=np.float64)
            if not np.all(np.isfinite(base)) or not base[0] > 0:
                return None
            k = np.log(float(np.asarray(loss.loss(3 * a, 3 * b))[0]) / base[0]) / np.log(3.0)
            if not np.isfinite(k) or k <= 0 or abs(k - round(k)) > 1e-6:
                return None
            k = int(round(k))
            for m, sc in ((7.3, 0.01), (-120.0, 3.0), (0.5, 1000.0)):
                value = np.asarray(loss.loss(m + sc * a, m + sc * b), dtype=np.float64)
                if not np.allclose(value, sc ** k * base, rtol=1e-6, atol=1e-12 * sc ** k):
                    return None
    except Exception:  # a loss that cannot take these points keeps the identity map
        return None
    return k


def _target_transform(loss, form, Y, sw):
    if form != "regression" or str(loss.link) != "identity":
        return _TargetScaling()
    degree = _homogeneity_degree(loss)
    if degree is None:
        return _TargetScaling()
    Y64 = np.asarray(Y, dtype=np.float64)
    w = None if sw is None else np.asarray(sw, dtype=np.float64)
    shift = np.average(Y64, axis=0, weights=w)
    var = np.average((Y64 - shift) ** 2, axis=0, weights=w)
    scale = float(np.sqrt(np.mean(var)))
    if not np.isfinite(scale) or scale <= 0 or not np.all(np.isfinite(shift)):
        return _TargetScaling()
    return _TargetScaling(shift, scale, degree)


# rows (evenly strided) on which the initial network's loss is measured for the
# growth safeguard's yardstick
_YARDSTICK_ROWS = 2048


def _curvature(loss, form, Y, sw, bias, n_outputs):
    """``(step_scale, reference_loss)`` at the start (the constant model
    ``bias``), in training units.

    ``step_scale`` is the weighted mean second derivative of the loss in the raw
    output, at least 1: SGD steps are divided by it, so that a loss whose
    curvature grows with the data (Poisson's ``2 mu`` on large counts) takes
    steps of the size a unit-curvature loss takes; the minimiser is unchanged.
    ``reference_loss`` is the constant model's mean loss, the yardstick of the
    growth safeguard.
    """
    n = Y.shape[0]
    w = None if sw is None else np.asarray(sw, dtype=np.float64)
    Y64 = np.asarray(Y, dtype=np.float64)
    # the loss evaluated in the training dtype (its kernels compute in float64
    # inside): a float32 fit compiles no float64 kernel for this
    dtype = Y.dtype if Y.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    Yd = np.asarray(Y, dtype=dtype)
    raw = np.broadcast_to(np.asarray(bias, dtype=dtype), (n, n_outputs))
    step, ref = 1.0, 0.0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            if form == "regression":
                cols = [(np.ascontiguousarray(Yd[:, k]), np.ascontiguousarray(raw[:, k]))
                        for k in range(n_outputs)]
            elif form == "binary":
                cols = [(Yd.ravel(), np.ascontiguousarray(raw[:, 0]))]
            else:
                cols = [(Yd.ravel(), np.ascontiguousarray(raw))]
            values = sum(np.asarray(loss.loss(y, r), dtype=np.float64).reshape(n, -1).sum(1)
                         for y, r in cols)
            nan_at = np.flatnonzero(np.isnan(values))
            ref = float(np.average(values, weights=w))
            if loss.has_hessian or loss.is_smooth:
                hess = [_second_derivative(loss, y, r).reshape(n, -1).mean(1) for y, r in cols]
                step = float(np.average(np.mean(hess, axis=0), weights=w))
        except Exception:  # start values only: never a reason to fail
            nan_at = ()
    if len(nan_at) and np.all(np.isfinite(raw)):
        raise ValueError(
            f"The loss {loss.name!r} returns NaN at finite inputs (y_true = "
            f"{float(Y64.reshape(n, -1)[nan_at[0], 0])!r}, raw_prediction = "
            f"{float(raw[nan_at[0], 0])!r}): a loss must return finite values on its domain; "
            "check the loss's formula (for a custom loss, the function given to make_loss)."
        )
    step = step if np.isfinite(step) and step > 1.0 else 1.0
    ref = ref if np.isfinite(ref) and ref > 0 else 0.0
    return step, ref


def _second_derivative(loss, y, raw):
    """The loss's Hessian in ``raw``; for a smooth loss without one (a custom
    loss), a central difference of its gradient, so that a custom loss with a
    built-in's formula gets the built-in's step."""
    if loss.has_hessian:
        return np.asarray(loss.hessian(y, raw), dtype=np.float64)
    h = 1e-5 * (1.0 + np.abs(raw))
    up = np.asarray(loss.gradient(y, raw + h), dtype=np.float64)
    down = np.asarray(loss.gradient(y, raw - h), dtype=np.float64)
    return (up - down) / (2 * h)


def _input_arrays(X, dtype):
    """``(X_dense, data, indices, indptr)`` for the compiled epoch: a dense
    array with empty CSR arrays, or an empty dense array with X's CSR arrays."""
    no_index = np.empty(0, np.int64)
    if sp.issparse(X):
        arrays = (
            np.empty((0, X.shape[1]), dtype),
            np.ascontiguousarray(X.data, dtype=dtype),
            np.ascontiguousarray(X.indices, dtype=np.int64),
            np.ascontiguousarray(X.indptr, dtype=np.int64),
        )
    else:
        arrays = (X, np.empty(0, dtype), no_index, no_index)
    # read-only views always: numba types a read-only array apart from a writable
    # one, and a memory-mapped X (joblib workers, scikit-learn's checks) would
    # otherwise compile the whole epoch driver a second time
    return tuple(read_only(a) for a in arrays)


def _workspace(batch, sizes, y_cols, dtype, X):
    """Work buffers of one fit, reused by every epoch and minibatch."""
    units = int(np.sum(sizes[1:]))
    if sp.issparse(X):
        # room for the minibatch with the most stored values
        row_nnz = np.sort(np.diff(X.indptr))
        nnz = int(row_nnz[-batch:].sum()) if row_nnz.size else 0
        rows = np.empty((0, int(sizes[0])), dtype)
        csr = (np.empty(nnz, dtype), np.empty(nnz, np.int64), np.zeros(batch + 1, np.int64))
    else:
        rows = np.empty((batch, int(sizes[0])), dtype)
        csr = (np.empty(0, dtype), np.empty(0, np.int64), np.empty(0, np.int64))
    # the loss kernel's arrays are float64 whatever the data's dtype: a float32 fit
    # runs the float64 kernel (the same bits as a float32 one: skloss._kernels._widen),
    # so the element-wise kernels compile once, not once per dtype
    k = int(sizes[-1])
    f64 = np.float64
    return (
        rows,  # the batch's rows of a dense X
        np.empty(batch * y_cols, f64),  # its targets
        np.empty(batch, f64),  # its sample weights
        np.empty(batch * units, dtype),  # activations of every layer
        np.empty(batch * units, dtype),  # deltas of every layer
        np.empty(batch, f64),  # per-sample losses
        np.empty(batch, f64),  # one column of targets (one-vs-rest, multi-output)
        np.empty(batch, f64),  # one column of raw predictions
        np.empty(batch, f64),  # one column of gradients
        *csr,  # the batch's rows of a CSR X: data, indices, indptr
        np.empty(batch * k, f64),  # the raw scores of a K-class kernel
        np.empty(batch * k, f64),  # its gradient
    )


def _python_epoch(loss, form, X, Y, sw, perm, theta, grad, optimizer, sizes, act, hyper,
                  work, grad_scale):
    """One epoch with the loss evaluated from Python between the compiled
    forward and backward passes of each minibatch (custom losses)."""
    from skloss._kernels import _net

    _, _, _, acts, deltas, lbuf = work[:6]
    batch = lbuf.shape[0]
    activation = _net.activation_pointer(act, theta.dtype)
    update = _net.update_pointer(optimizer.code, theta.dtype)
    Xb = np.empty((batch, X.shape[1]), X.dtype)  # dense rows (a CSR batch is densified)
    k = int(sizes[-1])
    off = batch * int(np.sum(sizes[1:-1]))
    weighted = sw.shape[0] > 0
    n = perm.shape[0]
    total = 0.0
    wsum = 0.0
    for start in range(0, n, batch):
        idx = perm[start:start + batch]
        m = idx.shape[0]
        if sp.issparse(X):
            Xb[:m] = X[idx].toarray()
        else:
            np.take(X, idx, axis=0, out=Xb[:m])
        _net.batch_forward(Xb, m, theta, sizes, activation, acts)
        raw = acts[off:off + m * k].reshape(m, k)
        swm = sw[idx] if weighted else None
        if form == "regression":
            lsum = np.zeros(m, dtype=np.float64)
            g = np.empty((m, k), dtype=raw.dtype)
            for c in range(k):
                lc, gc = loss.loss_gradient(Y[idx, c], raw[:, c], swm)
                lsum += lc
                g[:, c] = gc
            batch_loss = float(np.sum(lsum))
        elif form == "binary":
            lc, g = loss.loss_gradient(Y[idx], raw[:, 0], swm)
            batch_loss = float(np.sum(lc, dtype=np.float64))
        else:
            lc, g = loss.loss_gradient(Y[idx], raw, swm)
            batch_loss = float(np.sum(lc, dtype=np.float64))
        if not np.isfinite(batch_loss) or not np.all(np.isfinite(g)):
            return total, wsum, NON_FINITE
        total += batch_loss
        wsum += float(np.sum(swm, dtype=np.float64)) if weighted else float(m)
        deltas[off:off + m * k] = np.ravel(np.asarray(g, dtype=np.float64) * (grad_scale / m))
        _net.batch_backward_update(
            Xb, m, theta, grad, optimizer.s1, optimizer.s2, sizes, hyper, optimizer.counters,
            activation, update, acts, deltas,
        )
    return total, wsum, OK
