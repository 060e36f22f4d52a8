"""``check_loss``: a battery of numerical and API checks for any loss object."""

import numpy as np

from ._checks_api import CheckLossError, _ApiChecks
from ._checks_capabilities import _CapabilityChecks
from ._checks_numeric import _NumericChecks

__all__ = ["check_loss", "CheckLossError"]


class _Checker(_CapabilityChecks, _NumericChecks, _ApiChecks):
    """Every check, on one loss, with one random generator."""


def check_loss(loss, *, random_state=0, rtol=1e-5, n_samples=40, n_classes=3, skip=()):
    """Check a loss object numerically and against the loss protocol.

    Works on any loss: a built-in one (or its registry name), one made by
    :func:`skloss.losses.make_loss`, or a subclass of :class:`skloss.losses.Loss`.
    The checks, in order (the keys of the returned report):

    ``attributes``
        ``name``, ``task``, the boolean flags and ``link`` are well formed.
    ``params``
        ``get_params`` / ``set_params`` round trip, ``clone`` is equal with an
        equal hash, ``repr`` works.
    ``evaluate``
        ``loss``, ``gradient`` (and ``hessian``) run on the sample points
        without an exception or a numpy warning.
    ``validate_y``
        Targets sampled for the task are accepted (regression: every candidate
        set among real, counts, positive and unit-interval values that
        ``validate_y`` accepts; classification: {0, 1} and {0, ..., K-1}); NaN
        and infinities (and, for classification, negative or non-integer labels)
        are rejected with a ``ValueError`` that names the loss.
    ``pickle``
        A pickled copy is equal and computes the same values.
    ``dtype``
        Shapes and dtypes of every output: float64 in, float64 out; float32 in,
        float32 out; Python lists accepted.
    ``float32``
        float32 results equal the float64 results of the same (rounded) inputs
        to float32 precision.
    ``vectorised``
        One sample at a time gives what the batch gives.
    ``consistency``
        ``loss_gradient`` equals ``(loss, gradient)``, ``gradient_hessian``
        equals ``(gradient, hessian)``, ``hessian_product`` equals
        ``hessian * direction`` (binary and one-vs-rest forms).
    ``sample_weight``
        Weights multiply every output; unit weights change nothing.
    ``gradient`` / ``hessian``
        Against central finite differences at random points (targets as above,
        raw predictions around ``link(y)``).  For a non-smooth loss, points
        where the one-sided differences disagree (a kink within the step) are
        skipped, and there the gradient must lie between them (a subgradient);
        the Hessian check skips kinks of the gradient for every loss.
    ``no_hessian``
        Without a Hessian, ``hessian``, ``gradient_hessian`` and
        ``loss_gradient_hessian`` raise ``HessianUnavailableError``.
    ``extremes``
        At raw predictions of +-1e3 and +-1e6, float64 and float32: no NaN, no
        numpy warning, the loss never -inf; the gradient and Hessian are finite
        wherever the loss is finite (an honest +inf loss is allowed where the
        true value exceeds the float range, e.g. ``exp(1e3)``); float32 agrees
        with float64; and the derivatives match finite differences wherever the
        loss is finite.
    ``multiclass``
        Classification: all of the above on the K-score form (``(n, K)`` raw,
        targets in {0, ..., K-1}), and ``hessian_product`` against differences
        of the gradient along a random direction.
    ``likelihood``
        Where the loss has a likelihood: its ``logpdf`` is finite at the sample
        points and the derivative of ``-logpdf`` in the raw prediction is the
        loss gradient times one positive constant (the loss is the negative
        log-likelihood up to a scale and terms free of the raw prediction).
    ``inverse_link``
        Probabilistic losses give probabilities (rows summing to 1 for K
        scores); ``link(inverse_link(raw)) == raw`` for invertible links.
    ``init_raw_prediction``
        Returns a finite constant (shape ``(K,)`` for K classes) that is a local
        minimiser of the (weighted) mean loss: no neighbour at relative distance
        1e-3 to 1 has a lower mean loss.
    ``capabilities``
        The declarations agree with the computation: ``y_domain`` is an
        :class:`~skloss.losses.Interval` that ``validate_y`` follows;
        ``pieces(y)`` reproduces the loss values and the loss has a corner at
        each of ``kinks``; ``multiclass_shift_invariant`` and
        ``multiclass_margin`` (Crammer-Singer) match the K-score form;
        ``hessian_is_constant`` holds; a likelihood's ``variance_power`` gives
        the GLM score ``(mu - y) / mu^p``; each ``fused_linear_kernel`` equals
        the generic evaluation of the linear objective.
    ``not_mutated``
        Nothing was written on the loss while it was used.

    Parameters
    ----------
    loss : Loss or str
        The loss to check (a name is resolved with :func:`~skloss.losses.get_loss`).
    random_state : int, default=0
        Seed of the random points.
    rtol : float, default=1e-5
        Relative tolerance of the finite-difference comparisons (1e-4 at the
        extreme points); an absolute tolerance from the round-off of the
        differences is added.
    n_samples : int, default=40
        Random points per target set.
    n_classes : int, default=3
        K for the multi-class form.
    skip : iterable of str, default=()
        Names of checks to skip, e.g. ``("pickle",)`` for a custom loss made of
        lambdas.

    Returns
    -------
    report : dict
        ``{check name: "passed" | "skipped: <reason>"}``.

    Raises
    ------
    CheckLossError
        (a subclass of ``AssertionError``) at the first failing check; the
        message names the check, the point (``y``, ``raw``) and the expected and
        obtained values.

    Examples
    --------
    >>> from skloss.utils import check_loss
    >>> report = check_loss("squared_error")
    >>> report["gradient"]
    'passed'
    """
    from skloss.losses import get_loss

    loss = get_loss(loss) if isinstance(loss, str) else loss
    skip = set(skip)
    rng = np.random.default_rng(random_state)
    ck = _Checker(loss, rng, rtol, int(n_samples), int(n_classes))
    report = {}

    def run(name, func, *args):
        if name in skip:
            report[name] = "skipped: asked"
            return
        out = func(*args)
        report[name] = out if isinstance(out, str) else "passed"

    ck.check_attributes()
    report["attributes"] = "passed"
    snapshot = {k: v for k, v in vars(loss).items()}
    run("params", ck.check_params)
    y, yk = ck.targets()
    raw = ck.raw_for(y)
    sw = rng.uniform(0.5, 2.0, y.shape[0])
    def evaluate():
        # a first call of each method, so that a loss that cannot be evaluated
        # at all (a compile error, a missing method) fails here, named as such
        ck.call("evaluate", "loss", y, raw)
        ck.call("evaluate", "gradient", y, raw)
        if loss.has_hessian:
            ck.call("evaluate", "hessian", y, raw)

    run("evaluate", evaluate)
    run("validate_y", ck.check_validate_y, y, yk)
    run("pickle", ck.check_pickle, y, raw)
    run("dtype", ck.check_shapes_dtypes, y, raw, sw)
    run("float32", ck.check_float32, y, raw, sw)
    run("vectorised", ck.check_vectorised, y, raw)
    run("consistency", ck.check_consistency, y, raw, sw)
    run("sample_weight", ck.check_sample_weight, y, raw, sw)

    def derivatives():
        g, h = ck.check_derivatives(y, raw, sw)
        if g == 0:
            ck.fail("gradient", "no random point could be checked (the loss is not finite, or kinks everywhere).")
        return h

    if "gradient" in skip:
        report["gradient"] = "skipped: asked"
    else:
        h = derivatives()
        report["gradient"] = "passed"
        if loss.has_hessian:
            report["hessian"] = "passed" if h else "skipped: kinks at every point"
    if not loss.has_hessian:
        report["hessian"] = "skipped: has_hessian is False"
        run("no_hessian", ck.check_no_hessian, y, raw)

    if ck.is_clf:
        y_ext = [0.0, 1.0]
    else:
        y_ext = sorted({float(np.min(y)), float(np.median(y)), float(np.max(y))})
    run("extremes", ck.check_extremes, y_ext, None)

    def multiclass():
        rawk = rng.normal(0.0, 2.0, (yk.shape[0], ck.k))
        swk = rng.uniform(0.5, 2.0, yk.shape[0])
        ck.check_shapes_dtypes(yk, rawk, swk)
        ck.check_float32(yk, rawk, swk)
        ck.check_vectorised(yk, rawk)
        ck.check_consistency(yk, rawk, swk)
        ck.check_sample_weight(yk, rawk, swk)
        ck.check_derivatives(yk, rawk, swk, suffix=" (multi-class form)")
        if loss.has_hessian:
            ck.check_hessian_product(yk, rawk, swk)
        else:
            ck.check_no_hessian(yk, rawk)
        ck.check_extremes(None, ck.k)

    def likelihood():
        out = ck.check_likelihood(y, raw)
        if ck.is_clf and out is None:
            rawk = rng.normal(0.0, 2.0, (yk.shape[0], ck.k))
            ck.check_likelihood(yk, rawk)
        return out

    run("likelihood", likelihood)
    if ck.is_clf:
        run("multiclass", multiclass)
    else:
        report["multiclass"] = "skipped: regression loss"
    rawk = rng.normal(0.0, 2.0, (max(ck.k, 2), ck.k))
    run("inverse_link", ck.check_inverse_link, raw, rawk)
    swk = rng.uniform(0.5, 2.0, yk.shape[0]) if yk is not None else None
    run("init_raw_prediction", ck.check_init, y, yk, sw, swk)
    run("capabilities", ck.check_capabilities, y, raw, yk)

    after = vars(loss)
    changed = sorted(set(after) ^ set(snapshot) | {k for k in snapshot if k in after and after[k] is not snapshot[k]})
    if changed:
        ck.fail("not_mutated", f"attributes written on the loss while it was used: {changed}.")
    report["not_mutated"] = "passed"
    return report
