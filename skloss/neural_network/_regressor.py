"""SGDNetRegressor: a minibatch-SGD network whose output layer is a loss object."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context

from skloss._dask import any_dask as _is_dask

from . import _network
from ._base import BaseSGDNet


class SGDNetRegressor(RegressorMixin, BaseSGDNet):
    """Feed-forward network regressor trained by minibatch SGD, with a
    pluggable loss as its output layer.

    The network's raw output ``f(x)`` lives on the loss's link scale and
    :meth:`predict` returns ``loss.inverse_link(f(x))``: the mean for
    ``squared_error``, ``poisson`` or ``gamma`` (log link), the median for
    ``absolute_error``, the quantile for ``quantile`` ...  Every regression loss
    of :mod:`skloss.losses` works, as do custom losses from
    :func:`~skloss.losses.make_loss`; non-smooth losses (``absolute_error``,
    ``quantile``, ``epsilon_insensitive``) are trained by subgradient.  Several
    outputs (2-D ``y``) share the loss, summed over the outputs.  A whole epoch
    runs in compiled code (numba; a small fit in NumPy, with the same results and
    nothing to compile), in float32 when ``X`` is float32.

    Read more in the :ref:`User Guide <neural_network>`.

    Parameters
    ----------
    loss : str or Loss, default="squared_error"
        A regression loss name (see :func:`skloss.losses.available_losses`) or
        object.  The object given is never modified; the fitted clone is
        ``loss_``.  ``y`` must lie in the loss's domain (``poisson``: y >= 0,
        ``gamma``: y > 0 ...).
    hidden_layer_sizes, activation, optimizer, momentum, nesterov, learning_rate, \
learning_rate_init, power_t, batch_size, max_iter, alpha, tol, n_iter_no_change, \
early_stopping, validation_fraction, scoring, shuffle, random_state, warm_start, verbose
        As in :class:`SGDNetClassifier` (``early_stopping`` splits without
        stratification).  Scale the target: ``squared_error`` on a target of
        large magnitude needs a small ``learning_rate_init``.

    Attributes
    ----------
    loss_ : Loss
        The fitted clone of ``loss``.
    coefs_, intercepts_ : list of ndarray
        Weights and intercepts of each layer.  The output intercepts start at
        the loss's intercept-only optimum (e.g. the mean for ``squared_error``).
    n_iter_, t_, loss_curve_, best_loss_, validation_scores_, best_validation_score_
        As in :class:`SGDNetClassifier`.
    n_outputs_ : int
        Number of outputs.
    n_layers_ : int
        Layers, input and output included.
    out_activation_ : str
        The loss's link (``"identity"``, ``"log"`` ...).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SGDNetClassifier : The classification counterpart.
    sklearn.neural_network.MLPRegressor : scikit-learn's network (squared error only).

    Examples
    --------
    >>> import numpy as np
    >>> from skloss.neural_network import SGDNetRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = np.exp(0.5 * X[:, 0])
    >>> reg = SGDNetRegressor(loss="poisson", hidden_layer_sizes=(), random_state=0)
    >>> reg.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _task = "regression"

    def __init__(
        self,
        loss="squared_error",
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        optimizer="sgd",
        momentum=0.9,
        nesterov=True,
        learning_rate="constant",
        learning_rate_init=0.01,
        power_t=0.5,
        batch_size="auto",
        max_iter=200,
        alpha=1e-4,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        scoring="loss",
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.momentum = momentum
        self.nesterov = nesterov
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.alpha = alpha
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def _y_validation_kwargs(self):
        return {"multi_output": True, "y_numeric": True}

    def _encode_targets(self, y, first, classes, dtype):
        Y = np.asarray(y, dtype=dtype)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if Y.ndim != 2 or Y.shape[1] < 1:
            raise ValueError(f"y must be 1-D or 2-D (n_samples, n_outputs); got shape {np.shape(y)}.")
        if not first and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} outputs; the fitted network has {self.n_outputs_}."
            )
        return np.ascontiguousarray(Y), Y.shape[1], None

    def _init_raw(self, loss, Y, sw, n_outputs):
        return [loss.init_raw_prediction(np.asarray(Y[:, k], dtype=np.float64), sw)
                for k in range(n_outputs)]

    def _validation_score(self, loss, form, X_val, Y_val, sw_val, theta, sizes):
        raw = _network.forward(X_val, *_network.unpack(theta, sizes, copy=False), self.activation)
        total = 0.0
        for k in range(raw.shape[1]):
            total += float(np.sum(loss.loss(Y_val[:, k], raw[:, k], sw_val), dtype=np.float64))
        weight = Y_val.shape[0] if sw_val is None else np.sum(sw_val, dtype=np.float64)
        return -float(total / weight)

    # ------------------------------------------------------------------ API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, dense or CSR (other sparse formats are converted);
            float32 data trains in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, in the loss's domain.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : SGDNetRegressor
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``, continuing from the current state.

        Returns
        -------
        self : SGDNetRegressor
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """``loss_.inverse_link`` of the network's output.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        if _is_dask(X):  # (dask arrays: lazy, block by block on the workers)
            from skloss._dask._predict import lazy_method

            return lazy_method(self, "predict", X)
        raw = self._raw(X)
        pred = np.asarray(self.loss_.inverse_link(raw))
        return pred[:, 0] if pred.shape[1] == 1 else pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.target_tags.positive_only = _positive_only(self.loss)
        return tags


def _positive_only(loss):
    """Whether the loss rejects negative targets (Poisson, Gamma ...)."""
    from skloss.losses import get_loss

    try:
        loss = get_loss(loss)
        loss.validate_y(np.array([-1.0, 0.5, 1.0]))
    except (TypeError, ValueError):
        return True
    return False
