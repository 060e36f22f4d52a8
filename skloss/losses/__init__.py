"""Loss objects: the protocol, the catalogue, the registry and custom losses."""

from ._base import HessianUnavailableError, Loss
from ._capabilities import Interval
from ._catalogue import *  # noqa: F401,F403  (registers the built-ins)
from ._classification import *  # noqa: F401,F403
from ._classification import __all__ as _classification_all
from ._custom import CustomLoss, CustomLossCompileError, make_loss
from ._likelihood import *  # noqa: F401,F403
from ._likelihood import __all__ as _likelihood_all
from ._link import Link, get_link
from ._registry import available_losses, get_loss, loss_aliases, register_loss
from ._regression import *  # noqa: F401,F403
from ._regression import __all__ as _regression_all

__all__ = [
    "Loss",
    "Interval",
    "HessianUnavailableError",
    "Link",
    "get_link",
    "get_loss",
    "available_losses",
    "loss_aliases",
    "register_loss",
    "make_loss",
    "CustomLoss",
    "CustomLossCompileError",
    *_regression_all,
    *_classification_all,
    *_likelihood_all,
]
