"""Feed-forward networks trained by minibatch SGD, with the loss as the output layer."""

from ._classifier import SGDNetClassifier
from ._regressor import SGDNetRegressor

__all__ = ["SGDNetClassifier", "SGDNetRegressor"]


# skloss.warmup() runs one task per dtype (parallel workers share them)
_WARMUP_PARTS = ("float64", "float32")


def _warmup(part=None):
    """Compile the network's drivers, activations and optimizer steps on tiny
    data, for the dtype ``part`` (``"float64"`` or ``"float32"``; None: both).

    Called by :func:`skloss.warmup`; afterwards every process loads them from
    the numba disk cache.  The four epoch drivers (dense / CSR input, 1-D /
    K-class loss kernel) serve every loss, activation and optimizer; each
    activation and optimizer step is a function of its own, compiled here too.
    """
    from skloss._kernels import _net

    from . import _base

    # these tiny fits would run their epochs in NumPy (_base._numpy_route): the
    # compiled route is what a warm-up is for
    with _base._forced_route(numpy=False):
        _warm_compiled(part, _net)


def _warm_compiled(part, _net):
    import warnings

    import numpy as np
    import scipy.sparse as sp

    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.5, 0.2], [0.2, 0.9]])
    y2 = np.array([0, 1, 1, 0, 1, 0])
    y3 = np.array([0, 1, 2, 0, 1, 2])
    yr = np.array([0.5, 1.0, 2.0, 0.2, 1.2, 0.7])
    custom = _numpy_square()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dtype in (np.float64, np.float32) if part is None else (np.dtype(part).type,):
            for act in _net.ACTIVATIONS:
                _net.activation_pointer(act, dtype).__wrapper_address__()
            for opt in _net.OPTIMIZERS:
                _net.update_pointer(opt, dtype).__wrapper_address__()
            kw = dict(hidden_layer_sizes=(3,), max_iter=1, batch_size=4, random_state=0)
            for Xd in (X.astype(dtype), sp.csr_matrix(X.astype(dtype))):
                SGDNetClassifier(**kw).fit(Xd, y2)  # binary form
                SGDNetClassifier(**kw).fit(Xd, y3)  # multi-class form
            Xd = X.astype(dtype)
            SGDNetClassifier(loss="probit", **kw).fit(Xd, y3)  # one-vs-rest form
            SGDNetRegressor(**kw).fit(Xd, yr)
            SGDNetRegressor(loss=custom, **kw).fit(Xd, yr)  # the per-batch drivers


def _numpy_square():
    """A loss of the Python route evaluated in NumPy: a fit with it compiles the
    per-batch drivers and nothing else.  (A :func:`~skloss.losses.make_loss` loss
    compiles its own functions as well, in every process: they cannot be cached,
    so compiling them here was 1 s of wasted warm-up.)"""
    import numpy as np

    from skloss.losses import SquaredError

    class _NumpySquare(SquaredError):
        def _evaluate(self, y, raw, sw, want_loss, want_grad, want_hess):
            w = sw if sw.shape[0] else 1.0
            d = raw - y
            return (w * d * d if want_loss else None, w * 2.0 * d if want_grad else None,
                    np.broadcast_to(w * 2.0, raw.shape).astype(raw.dtype) if want_hess else None)

    return _NumpySquare()
