"""Feed-forward networks trained by minibatch SGD, with the loss as the output layer."""

from ._classifier import SGDNetClassifier
from ._regressor import SGDNetRegressor

__all__ = ["SGDNetClassifier", "SGDNetRegressor"]


def _warmup():
    """Compile the network's epoch drivers (float64 and float32) on tiny data.

    Called by :func:`skloss.warmup`; afterwards every process loads them from
    the numba disk cache.  Each compiled driver covers every built-in loss of
    its task and every activation and optimizer.
    """
    import warnings

    import numpy as np

    from skloss.losses import make_loss

    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.5, 0.2], [0.2, 0.9]])
    y2 = np.array([0, 1, 1, 0, 1, 0])
    y3 = np.array([0, 1, 2, 0, 1, 2])
    yr = np.array([0.5, 1.0, 2.0, 0.2, 1.2, 0.7])
    custom = make_loss(
        loss=lambda y, r: (y - r) ** 2, gradient=lambda y, r: 2.0 * (r - y), name="warmup_square"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in (np.float64, np.float32):
            Xd = X.astype(dtype)
            kw = dict(hidden_layer_sizes=(3,), max_iter=1, batch_size=4, random_state=0)
            SGDNetClassifier(**kw).fit(Xd, y2)  # binary form
            SGDNetClassifier(**kw).fit(Xd, y3)  # multi-class form
            SGDNetClassifier(loss="probit", **kw).fit(Xd, y3)  # one-vs-rest form
            SGDNetRegressor(**kw).fit(Xd, yr)
            SGDNetRegressor(loss=custom, **kw).fit(Xd, yr)  # per-batch drivers
