"""scikit-learn's estimator checks on every torch estimator of the package."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from qclmix_sklearn import QCLMixClassifier

# Cheap but still learning: the checks fit a few hundred tiny fits.
CHEAP = dict(max_epochs=5, random_state=0)

ESTIMATORS = [QCLMixClassifier(**CHEAP)]

# check name -> reason; empty while every check passes.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
