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

from skloss._kernels import _net
from skloss.losses import Loss, available_losses, get_loss
from skloss.utils._state import keeps_state_on_error

from . import _network
from ._optimizers import make_optimizer
from ._output import compiled_route, kernel_params, output_form

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


class BaseSGDNet(BaseEstimator):
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
        sw = self._sample_weight(Y, sample_weight, X, incremental)
        if sw is not None and not np.sum(sw) > 0:
            raise ValueError("sample_weight must have a positive sum; got all zeros.")

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
        sizes = _network.layer_sizes(X.shape[1], hidden, n_outputs)
        if first:
            theta = _network.init_theta(sizes, self.activation, rng, dtype)
            theta[theta.shape[0] - n_outputs:] = self._output_bias(loss, Y, sw, n_outputs)
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
            theta = _network.pack(self.coefs_, self.intercepts_, dtype)
            optimizer = getattr(self, "_optimizer", None) if incremental else None
        if optimizer is None:
            optimizer = make_optimizer(
                self.optimizer, theta.shape[0], dtype,
                learning_rate_init=self.learning_rate_init, learning_rate=self.learning_rate,
                momentum=self.momentum, nesterov=self.nesterov, power_t=self.power_t,
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
        route = compiled_route(loss, form)
        params = kernel_params(loss)
        act = _net.ACTIVATIONS.index(self.activation)
        Xin = _input_arrays(X, dtype)
        work = _workspace(batch, sizes, Y.shape[1] if Y.ndim == 2 else 1, dtype, X)
        grad = np.zeros_like(theta)
        Y = np.ascontiguousarray(Y)

        n_epochs = 1 if incremental else self.max_iter
        with _blas_threads(batch, sizes):
            theta, best_theta = self._epochs(
                n_epochs, incremental, early, scorer, rng, n_samples, optimizer, dtype,
                grad_scale, route, loss, form, Xin, X, Y, sw_arr, theta, grad, sizes, act,
                params, work, X_val, Y_val, y_val, sw_val,
            )
        if early and best_theta is not None:
            theta = best_theta
        self.coefs_, self.intercepts_ = _network.unpack(theta, sizes)
        return self

    def _epochs(self, n_epochs, incremental, early, scorer, rng, n_samples, optimizer, dtype,
                grad_scale, route, loss, form, Xin, X, Y, sw_arr, theta, grad, sizes, act,
                params, work, X_val, Y_val, y_val, sw_val):
        """The epoch loop: stopping rules, schedules, divergence, verbose lines."""
        best_theta = None
        for _ in range(n_epochs):
            try:
                perm = rng.permutation(n_samples) if self.shuffle else np.arange(n_samples)
                perm = perm.astype(np.int64, copy=False)
                hyper = optimizer.hyper(self.alpha, grad_scale, dtype)
                theta_before = theta.copy()
                opt_before = optimizer.snapshot()
                tic = time.perf_counter()
                if route is not None:
                    driver, code = route
                    total, wsum, _, status = driver(
                        Xin, Y, sw_arr, perm, theta, grad, optimizer.s1, optimizer.s2, sizes,
                        act, optimizer.code, hyper, optimizer.counters, code, params, work,
                    )
                else:
                    total, wsum, status = _python_epoch(
                        loss, form, X, Y, sw_arr, perm, theta, grad, optimizer, sizes, act,
                        hyper, work, grad_scale,
                    )
                elapsed = time.perf_counter() - tic
            except KeyboardInterrupt:
                warnings.warn("Training interrupted by user.")
                break
            epoch_loss = np.nan
            if status == _net.OK:
                with np.errstate(over="ignore", invalid="ignore"):
                    penalty = 0.5 * self.alpha * _network.squared_weight_norm(theta, sizes)
                    epoch_loss = float(total / wsum) + penalty
            if not np.isfinite(epoch_loss) or not np.all(np.isfinite(theta)):
                theta[...] = theta_before
                optimizer.restore(opt_before)
                warnings.warn(
                    f"Training diverged in epoch {self.n_iter_ + 1}: the loss became non-finite "
                    f"with learning_rate_init={self.learning_rate_init!r} (current learning "
                    f"rate {optimizer.learning_rate:g}, optimizer={self.optimizer!r}). Training "
                    "stopped and the weights of the last finite epoch are kept. Lower "
                    "learning_rate_init, scale the features (and the target), or use "
                    "optimizer='adam'.",
                    ConvergenceWarning,
                )
                break
            self.n_iter_ += 1
            self.t_ += n_samples
            self.loss_curve_.append(epoch_loss)
            line = f"Epoch {self.n_iter_}, loss = {epoch_loss:.8f}"
            if early:
                if scorer is None:
                    score = self._validation_score(loss, form, X_val, Y_val, sw_val, theta, sizes)
                else:
                    self.coefs_, self.intercepts_ = _network.unpack(theta, sizes)
                    score = float(scorer(self, X_val, y_val, sample_weight=sw_val))
                self.validation_scores_.append(score)
                line += f", validation score = {score:.8f}"
                if score < self.best_validation_score_ + self.tol:
                    self._no_improvement_count += 1
                else:
                    self._no_improvement_count = 0
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    best_theta = theta.copy()
            else:
                if epoch_loss > self.best_loss_ - self.tol:
                    self._no_improvement_count += 1
                else:
                    self._no_improvement_count = 0
                if epoch_loss < self.best_loss_:
                    self.best_loss_ = epoch_loss
            if self.verbose:
                took = f"{elapsed:.2f} s" if elapsed >= 1 else f"{1000 * elapsed:.1f} ms"
                print(f"{line}, learning rate = {optimizer.learning_rate:g}, {took}")
            optimizer.iteration_ends(self.t_)
            if self._no_improvement_count > self.n_iter_no_change:
                if early:
                    msg = (f"Validation score did not improve more than tol={self.tol:f} for "
                           f"{self.n_iter_no_change} consecutive epochs.")
                else:
                    msg = (f"Training loss did not improve more than tol={self.tol:f} for "
                           f"{self.n_iter_no_change} consecutive epochs.")
                if optimizer.trigger_stopping(msg, self.verbose):
                    break
                self._no_improvement_count = 0
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                    "optimization hasn't converged yet.",
                    ConvergenceWarning,
                )
        return theta, best_theta

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


def _input_arrays(X, dtype):
    """``(X_dense, data, indices, indptr)`` for the compiled epoch: a dense
    array with empty CSR arrays, or an empty dense array with X's CSR arrays."""
    no_index = np.empty(0, np.int64)
    if sp.issparse(X):
        return (
            np.empty((0, X.shape[1]), dtype),
            np.ascontiguousarray(X.data, dtype=dtype),
            np.ascontiguousarray(X.indices, dtype=np.int64),
            np.ascontiguousarray(X.indptr, dtype=np.int64),
        )
    return (X, np.empty(0, dtype), no_index, no_index)


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
    return (
        rows,  # the batch's rows of a dense X
        np.empty(batch * y_cols, dtype),  # its targets
        np.empty(batch, dtype),  # its sample weights
        np.empty(batch * units, dtype),  # activations of every layer
        np.empty(batch * units, dtype),  # deltas of every layer
        np.empty(batch, dtype),  # per-sample losses
        np.empty(batch, dtype),  # one column of targets (one-vs-rest, multi-output)
        np.empty(batch, dtype),  # one column of raw predictions
        np.empty(batch, dtype),  # one column of gradients
        *csr,  # the batch's rows of a CSR X: data, indices, indptr
    )


def _python_epoch(loss, form, X, Y, sw, perm, theta, grad, optimizer, sizes, act, hyper,
                  work, grad_scale):
    """One epoch with the loss evaluated from Python between the compiled
    forward and backward passes of each minibatch (custom losses)."""
    _, _, _, acts, deltas, lbuf = work[:6]
    batch = lbuf.shape[0]
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
        _net.batch_forward(Xb, m, theta, sizes, act, acts)
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
            return total, wsum, _net.NON_FINITE
        total += batch_loss
        wsum += float(np.sum(swm, dtype=np.float64)) if weighted else float(m)
        deltas[off:off + m * k] = np.ravel(np.asarray(g, dtype=np.float64) * (grad_scale / m))
        _net.batch_backward_update(
            Xb, m, theta, grad, optimizer.s1, optimizer.s2, sizes, act, optimizer.code, hyper,
            optimizer.counters, acts, deltas,
        )
    return total, wsum, _net.OK
