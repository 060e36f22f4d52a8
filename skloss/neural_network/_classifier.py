"""SGDNetClassifier: a minibatch-SGD network whose output layer is a loss object."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from skloss._dask import any_dask as _is_dask
from skloss.losses import get_loss
from skloss.utils._inputs import check_class_weight, check_label_types

from . import _network
from ._base import BaseSGDNet


def _probabilistic(estimator):
    """Whether the (fitted, else the given) loss maps scores to probabilities."""
    loss = getattr(estimator, "loss_", None)
    if loss is None:
        try:
            loss = get_loss(estimator.loss)
        except (TypeError, ValueError):
            return False
    return bool(loss.is_probabilistic)


class SGDNetClassifier(ClassifierMixin, BaseSGDNet):
    """Feed-forward network classifier trained by minibatch SGD, with a
    pluggable loss as its output layer.

    The network computes raw scores ``f(x)`` (one for two classes, one per class
    otherwise) through ``hidden_layer_sizes`` hidden layers; the loss object
    turns them into the training objective and, through its inverse link, into
    predictions.  Every classification loss of :mod:`skloss.losses` works, as
    do custom losses from :func:`~skloss.losses.make_loss`.  A whole epoch runs
    in compiled code (numba; a small fit in NumPy, with the same results and
    nothing to compile), in float32 when ``X`` is float32; ``X`` may be dense or
    CSR sparse.

    Read more in the :ref:`User Guide <neural_network>`.

    Parameters
    ----------
    loss : str or Loss, default="log_loss"
        The output layer: a classification loss name (see
        :func:`skloss.losses.available_losses`) or object.  Two classes use the
        loss's binary form on one output unit.  More classes use its K-class form
        on K units when it has one (``log_loss``: softmax cross-entropy;
        ``hinge``: Crammer-Singer; ...), and the one-vs-rest sum of the binary
        form otherwise.  Non-smooth losses are trained by subgradient.  The
        object given is never modified; the fitted clone is ``loss_``.
    hidden_layer_sizes : array-like of int, default=(100,)
        Units of each hidden layer; ``()`` gives a linear model trained by SGD.
    activation : {"relu", "tanh", "logistic", "identity", "leaky_relu"}, default="relu"
        Hidden-layer activation (``leaky_relu`` has slope 0.01 below zero).
    optimizer : {"sgd", "adam"}, default="sgd"
        Minibatch SGD with momentum, or Adam (``beta_1=0.9``, ``beta_2=0.999``,
        ``epsilon=1e-8``).
    momentum : float in [0, 1], default=0.9
        Momentum of ``optimizer="sgd"``.
    nesterov : bool, default=True
        Nesterov momentum (``optimizer="sgd"``, ``momentum > 0``).
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of ``optimizer="sgd"``, as in scikit-learn's MLP: ``invscaling``
        sets ``learning_rate_init / (t + 1) ** power_t`` after each epoch (``t``
        samples seen); ``adaptive`` divides the rate by 5 whenever the stopping
        criterion is met, and stops below ``1e-6``.
    learning_rate_init : float > 0, default=0.01
        Initial step size.
    power_t : float >= 0, default=0.5
        Exponent of ``invscaling``.
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).
    alpha : float >= 0, default=1e-4
        L2 penalty ``alpha / 2 * sum ||W||^2`` on the weights (not the
        intercepts), added to the weighted mean loss: the ``alpha`` of
        ``SGDClassifier`` and PyTorch's ``weight_decay``.
    tol : float >= 0, default=1e-4
        Training stops when the training loss (or, with ``early_stopping``, the
        validation score) has not improved by ``tol`` for ``n_iter_no_change``
        consecutive epochs.
    n_iter_no_change : int, default=10
        See ``tol``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified) and
        stop when its score stops improving; the weights of the best epoch are
        kept.
    validation_fraction : float in (0, 1), default=0.1
        Size of the held-out set of ``early_stopping``.
    scoring : "loss", str or callable, default="loss"
        Validation score of ``early_stopping``: ``"loss"`` is minus the weighted
        mean validation loss (the training loss object); otherwise a scikit-learn
        scorer name or callable.
    shuffle : bool, default=True
        Shuffle the samples at every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split and the shuffling:
        a fixed value gives identical fits.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.  With the
        ``focal`` loss this is the usual recipe for imbalanced classes.
    verbose : int, default=0
        Print one line per epoch: training loss, validation score, learning rate
        and time.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    loss_ : Loss
        The fitted clone of ``loss``.
    coefs_ : list of ndarray
        ``coefs_[i]`` has shape ``(n_units_i, n_units_{i+1})``.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` has shape ``(n_units_{i+1},)``.  The output
        intercepts start at the loss's intercept-only optimum.
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen (``n_iter_ * n_samples`` for ``fit``).
    loss_curve_ : list of float
        Objective after each epoch: the weighted mean of the minibatch losses
        over the epoch (each at the weights it was computed with) plus the
        penalty at the end of the epoch.
    best_loss_ : float or None
        Smallest value of ``loss_curve_``; None with ``early_stopping``.
    validation_scores_ : list of float or None
        Validation score after each epoch (``early_stopping`` only).
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_outputs_ : int
        Output units: 1 for two classes, ``n_classes`` otherwise.
    n_layers_ : int
        Layers, input and output included.
    out_activation_ : str
        The link through which the outputs become predictions.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    SGDNetRegressor : The regression counterpart.
    sklearn.neural_network.MLPClassifier : scikit-learn's network (fixed loss).
    sklearn.linear_model.SGDClassifier : Linear models by SGD
        (``hidden_layer_sizes=()`` here).

    Notes
    -----
    The objective, its minibatch estimate and the optimizer updates are given
    in the :ref:`User Guide <neural_network>`.  A non-finite loss stops
    training with a :class:`~sklearn.exceptions.ConvergenceWarning` naming the
    learning rate; the weights of the last finite epoch are kept.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skloss.neural_network import SGDNetClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SGDNetClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> SGDNetClassifier(loss="hinge").fit(X, y).predict(X[:2]).shape
    (2,)
    >>> hasattr(SGDNetClassifier(loss="hinge"), "predict_proba")
    False
    """

    _task = "classification"

    _parameter_constraints = {
        **BaseSGDNet._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        loss="log_loss",
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
        class_weight=None,
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
        self.class_weight = class_weight
        self.verbose = verbose

    # ------------------------------------------------------------------ targets
    def _encode_targets(self, y, first, classes, dtype):
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(
                f"{type(self).__name__} takes a 1-D y of class labels; got shape {y.shape}. "
                "Multi-label and multi-output classification are not supported."
            )
        check_label_types(y)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"{type(self).__name__} needs binary or multiclass targets; got {kind!r}.")
        if first:
            if classes is not None:
                self.classes_ = np.unique(np.asarray(classes))
                if self.classes_.shape[0] != np.asarray(classes).shape[0]:
                    raise ValueError("`classes` holds duplicate labels.")
            else:
                self.classes_ = np.unique(y)
            if self.classes_.shape[0] < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data; "
                    f"got only one class: {self.classes_[0]!r}."
                )
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"`classes={np.asarray(classes).tolist()}` is not the same as on the first call to "
                f"partial_fit, which was {self.classes_.tolist()}."
            )
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()} not among the classes "
                f"{self.classes_.tolist()}" + (" given to the first partial_fit call." if not first or classes is not None else ".")
            )
        idx = np.searchsorted(self.classes_, y)
        k = self.classes_.shape[0]
        n_outputs = 1 if k == 2 else k
        return idx.astype(dtype), n_outputs, idx

    def _sample_weight(self, Y, sample_weight, X, incremental):
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        if self.class_weight is not None:
            check_class_weight(self.class_weight)
            if incremental and isinstance(self.class_weight, str):
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit (the class "
                    "frequencies of later chunks are unknown); pass a dict instead."
                )
            idx = Y.astype(np.intp)
            present = np.unique(idx)
            cw = np.ones(self.classes_.shape[0])
            if isinstance(self.class_weight, str):
                cw[present] = compute_class_weight(
                    self.class_weight, classes=self.classes_[present], y=self.classes_[idx]
                )
            else:
                cw = compute_class_weight(self.class_weight, classes=self.classes_, y=self.classes_[idx])
            w = cw[idx].astype(X.dtype)
            sw = w if sw is None else sw * w
        return sw

    def _init_raw(self, loss, Y, sw, n_outputs):
        y = np.asarray(Y, dtype=np.float64)
        if n_outputs == 1:
            return loss.init_raw_prediction(y, sw)
        return loss.init_raw_prediction(y, sw, n_classes=n_outputs)

    def _validation_score(self, loss, form, X_val, Y_val, sw_val, theta, sizes):
        raw = _network.forward(X_val, *_network.unpack(theta, sizes, copy=False), self.activation)
        raw = raw[:, 0] if form == "binary" else raw
        values = loss.loss(Y_val, raw, sw_val)
        total = np.sum(values, dtype=np.float64)
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
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : SGDNetClassifier
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : SGDNetClassifier
        """
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def decision_function(self, X):
        """Raw scores of the output layer.

        Returns
        -------
        scores : ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
        """
        if _is_dask(X):  # (dask arrays: lazy, block by block on the workers)
            from skloss._dask._predict import lazy_method

            return lazy_method(self, "decision_function", X)
        raw = self._raw(X)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def predict(self, X):
        """Class labels: the sign of the score for two classes, the largest score
        otherwise."""
        if _is_dask(X):  # (dask arrays: lazy, block by block on the workers)
            from skloss._dask._predict import lazy_method

            return lazy_method(self, "predict", X)
        raw = self._raw(X)
        if raw.shape[1] == 1:
            return self.classes_[(raw[:, 0] > 0).astype(np.intp)]
        return self.classes_[np.argmax(raw, axis=1)]

    @available_if(_probabilistic)
    def predict_proba(self, X):
        """Class probabilities through the loss's inverse link (probabilistic
        losses only).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        if _is_dask(X):  # (dask arrays: lazy, block by block on the workers)
            from skloss._dask._predict import lazy_method

            return lazy_method(self, "predict_proba", X)
        check_is_fitted(self, "coefs_")
        raw = self._raw(X)
        if raw.shape[1] == 1:
            p = np.asarray(self.loss_.inverse_link(raw[:, 0]))
            return np.column_stack([1 - p, p])
        return np.asarray(self.loss_.inverse_link(raw))

    @available_if(_probabilistic)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        if _is_dask(X):  # (dask arrays: lazy, block by block on the workers)
            from skloss._dask._predict import lazy_method

            return lazy_method(self, "predict_log_proba", X)
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
