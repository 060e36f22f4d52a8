"""The built-in catalogue: every loss registered with its aliases.

Each catalogue module lists its losses in ``REGISTRATIONS`` as
``(class, aliases)`` pairs; this module registers them all.
"""

from . import _classification, _regression
from ._registry import register_loss

for _module in (_regression, _classification):
    for _cls, _aliases in _module.REGISTRATIONS:
        register_loss(_cls, _aliases)
