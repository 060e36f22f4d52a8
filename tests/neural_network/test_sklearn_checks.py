"""scikit-learn's estimator checks for both networks, with several output losses."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skloss.losses import get_loss
from skloss.neural_network import SGDNetClassifier, SGDNetRegressor

# as scikit-learn declares for SGDClassifier / SGDRegressor: a stochastic
# minibatch method is not invariant to repeating a sample instead of weighting it
_REASON = (
    "sample_weight is not equivalent to removing/repeating samples: the minibatches "
    "and their order differ."
)
_SGD_XFAIL = {
    "check_sample_weight_equivalence_on_dense_data": _REASON,
    "check_sample_weight_equivalence_on_sparse_data": _REASON,
}

_SMALL = dict(hidden_layer_sizes=(16,), max_iter=60, random_state=0)

ESTIMATORS = [
    SGDNetClassifier(**_SMALL),
    SGDNetClassifier(loss="hinge", **_SMALL),
    SGDNetClassifier(loss=get_loss("focal", gamma=1.0), optimizer="adam", **_SMALL),
    SGDNetClassifier(loss="probit", hidden_layer_sizes=(), max_iter=60, random_state=0),
    SGDNetRegressor(**_SMALL),
    SGDNetRegressor(loss="huber", activation="tanh", **_SMALL),
    SGDNetRegressor(loss="poisson", **_SMALL),
    SGDNetRegressor(loss="absolute_error", optimizer="adam", hidden_layer_sizes=(), max_iter=60,
                    random_state=0),
]


def _expected_failed_checks(estimator):
    # (only where it fails: on the checks' data the other configurations train to
    # the same predictions from weighted and from repeated rows within the checks'
    # tolerance; the focal network with Adam does not)
    failed = dict(_SGD_XFAIL) if estimator.optimizer == "adam" and estimator.loss != "absolute_error" else {}
    if estimator.__sklearn_tags__().target_tags.positive_only:
        failed["check_regressor_multioutput"] = (
            "the check's targets are negative and it does not apply the positive_only tag; "
            "the loss needs y >= 0"
        )
    return failed


# scikit-learn's checks fit on tiny data with the small epoch budgets above and
# deliberately leave training unconverged; the networks say so with a
# ConvergenceWarning (max_iter reached, or the growth safeguard on the checks'
# unscaled data), which these API checks do not test.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks, xfail_strict=True)
def test_sklearn_compatible(estimator, check):
    check(estimator)
