"""Scale-out on Dask (optional): fits on dask arrays, lazy predictions, streaming networks.

Nothing here is imported when :mod:`skloss` is imported, and nothing here imports
dask at module level: the estimators detect a dask collection by duck typing
(:func:`is_dask_collection`) and only then import the submodule that handles it.

* :mod:`._objective`: :class:`DaskLinearObjective`, the chunked twin of
  :class:`skloss.linear_model._objective.LinearObjective` (same interface); every
  evaluation maps the in-memory objective over the row blocks on the workers and
  sums the blocks' results on the client, so the in-memory solvers run unchanged.
* :mod:`._linear`: the ``fit`` of the MLE estimators on dask arrays (data checks,
  start, solve, inference), called from small hooks in the estimators.
* :mod:`._predict`: block-wise (lazy) predictions.
* :mod:`._stream`: the SGD networks trained by streaming blocks.
"""

from ._utils import any_dask, is_dask_collection

__all__ = ["is_dask_collection", "any_dask"]
