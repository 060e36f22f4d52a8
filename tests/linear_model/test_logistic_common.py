"""scikit-learn's estimator checks on MLELogisticRegression, for every classification loss."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skloss.linear_model import MLELogisticRegression
from skloss.losses import available_losses

ESTIMATORS = [MLELogisticRegression(loss=name) for name in available_losses("classification")]
ESTIMATORS += [
    MLELogisticRegression(penalty="l2", alpha=0.01),
    MLELogisticRegression(penalty="l1", alpha=0.01),
    MLELogisticRegression(loss="hinge", penalty="elasticnet", alpha=0.01),
]


def _expected_failed_checks(estimator):
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
