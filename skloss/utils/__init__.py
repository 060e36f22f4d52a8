"""Testing helpers: :func:`check_loss` checks any loss object."""

from ._check_loss import CheckLossError, check_loss

__all__ = ["check_loss", "CheckLossError"]
