"""Linear models fitted by minimising a pluggable loss: MLELogisticRegression, ..."""

from ._distribution import MLEDistribution
from ._linear import MLELinearRegression
from ._logistic import MLELogisticRegression, SeparationWarning

__all__ = ["MLEDistribution", "MLELinearRegression", "MLELogisticRegression", "SeparationWarning"]


def _warmup():
    """Compile the linear-model kernels on tiny float32 / float64 problems."""
    import numpy as np

    rng = np.random.RandomState(0)
    for dtype in (np.float64, np.float32):
        X = rng.normal(size=(30, 3)).astype(dtype)
        y2 = (X[:, 0] + rng.normal(size=30) > 0).astype(int)
        y3 = np.arange(30) % 3
        MLELogisticRegression(penalty="l2", alpha=0.1).fit(X, y2)
        MLELogisticRegression(penalty="l2", alpha=0.1).fit(X, y3)
        MLELogisticRegression(penalty="l1", alpha=0.01).fit(X, y2)
