"""Registry: names and aliases to loss classes."""

from ._base import Loss

__all__ = ["get_loss", "available_losses", "register_loss"]

_REGISTRY = {}  # name -> class
_ALIASES = {}  # alias -> name


def register_loss(cls, aliases=()):
    """Register a loss class under ``cls.name`` and the given aliases.

    Returns the class, so it can be used as a decorator factory's result.
    """
    if not (isinstance(cls, type) and issubclass(cls, Loss)) or not cls.name:
        raise TypeError(f"register_loss needs a Loss subclass with a name; got {cls!r}.")
    _REGISTRY[cls.name] = cls
    for alias in aliases:
        _ALIASES[alias] = cls.name
    return cls


def _ensure_catalogue():
    # importing the catalogue modules registers the built-in losses
    from . import _catalogue  # noqa: F401


def available_losses(task=None):
    """Sorted registry names of the built-in losses.

    Parameters
    ----------
    task : {"regression", "classification"} or None
        Restrict to the losses of one task.
    """
    _ensure_catalogue()
    if task not in (None, "regression", "classification"):
        raise ValueError(f"task must be None, 'regression' or 'classification'; got {task!r}.")
    return sorted(n for n, c in _REGISTRY.items() if task is None or c.task == task)


def loss_aliases():
    """A dict mapping every alias to its registry name."""
    _ensure_catalogue()
    return dict(_ALIASES)


def get_loss(loss, **params):
    """Resolve a loss name, alias or object into a loss object.

    Parameters
    ----------
    loss : str or Loss
        A registry name (see :func:`available_losses`), an alias (scikit-learn's
        and Keras's spellings such as ``"log"``, ``"mse"``, ``"pinball"``,
        ``"kld"``), or a loss object (returned as a clone with ``params`` set).
    **params
        Loss parameters, e.g. ``get_loss("huber", delta=2.0)``.

    Returns
    -------
    Loss

    Raises
    ------
    ValueError
        For an unknown name; the message lists every available name.
    TypeError
        For an object that is neither a string nor a :class:`Loss`.
    """
    _ensure_catalogue()
    if isinstance(loss, Loss):
        from sklearn.base import clone

        obj = clone(loss)
        if params:
            obj.set_params(**params)
        return obj
    if not isinstance(loss, str):
        raise TypeError(
            f"loss must be a string or a skloss.losses.Loss instance; got {type(loss).__name__}."
        )
    key = loss.strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(key, list(_REGISTRY) + list(_ALIASES), n=3, cutoff=0.6)
        close = list(dict.fromkeys(close))
        hint = (f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else "")
        raise ValueError(
            f"Unknown loss {loss!r}.{hint} Available losses: {', '.join(available_losses())}; "
            f"aliases: {', '.join(sorted(_ALIASES))}."
        )
    cls = _REGISTRY[key]
    try:
        return cls(**params)
    except TypeError as exc:
        raise TypeError(f"Invalid parameters {sorted(params)} for loss {key!r}: {exc}") from None
