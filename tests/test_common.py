"""scikit-learn's estimator checks on every torch estimator of the package."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier
from qclmix_sklearn.bench._models import SCREENED_DEFAULTS

# Cheap but still learning: the checks fit a few hundred tiny fits.
CHEAP = dict(max_epochs=5, random_state=0)

# the defaults (a cross-fit ensemble on every column beside one on the columns each member
# selects, weighed in fit), the screened defaults of before (one configuration with tuned
# offsets, class-aware batches and same-class mixup), the paper's single network, a portfolio of
# minority treatments with offsets kept when they generalise, and the columns always selected
ESTIMATORS = [
    QCLMixClassifier(**CHEAP),
    QCLMixClassifier(**SCREENED_DEFAULTS, portfolio=None, **CHEAP),
    QCLMixClassifier(**PAPER_PARAMS, **CHEAP),
    QCLMixClassifier(portfolio="imbalance", decision_rule="auto", **CHEAP),
    QCLMixClassifier(feature_selection="shadow", portfolio=None, **CHEAP),
]

# check name -> reason, for the estimators that fail it.
TUNED_DECISION_FAILS = {
    "check_classifiers_train": (
        "predict adds the tuned per-class offsets to the log-probabilities, so it is not the "
        "argmax of predict_proba (scikit-learn expects the same failure of its "
        "TunedThresholdClassifierCV: 'Threshold at probability 0.5 does not hold'); "
        "decision_rule='argmax' passes"
    ),
}


# scikit-learn lists the same expected failure for its own stochastic estimators
# (SGDClassifier, MLPClassifier, ...).
STOCHASTIC_TRAINING_FAILS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "stochastic mini-batch training: a row of weight 2 is one row drawn once per "
        "epoch whose loss counts twice, not two rows in different batches, and the "
        "validation split, batch composition, BatchNorm statistics and mixup partners "
        "all change with the rows, so the fits agree only in distribution"
    ),
}


# Fails only for some orders: the check permutes with numpy's unseeded global generator.
FLOAT32_ROUNDING_FAILS = {
    "check_methods_sample_order_invariance": (
        "the quantum-entanglement layer's matrix-vector product (projected @ sin(theta)) is "
        "a BLAS gemv whose float32 rounding depends on where a row sits in the block "
        "(differences of ~3e-8, one float32 ulp, against the check's atol=1e-9 and "
        "rtol=1e-7); a row-wise sum would be order-invariant but changes every stored "
        "result at rounding level"
    ),
}


# tests/test_sample_weight.py runs the same check with 10 epochs, which it passes.
FEW_STEPS_FAILS = {
    "check_class_weight_classifiers": (
        "the check's 5 epochs are about 10 optimiser steps for each member of the 3-fold "
        "ensemble, each trained on 2/3 of the check's rows: too few for the weights to move "
        "the argmax (the single network of the paper's configuration and the tuned offsets, "
        "which follow the weights directly, pass)"
    ),
}


def expected_failed_checks(estimator):
    # 'auto' keeps tuned offsets where they win in a cross-validation (and passes where not)
    tuned = TUNED_DECISION_FAILS if estimator.decision_rule in ("tuned", "auto") else {}
    ensemble_argmax = estimator.n_folds and estimator.decision_rule == "argmax"
    few_steps = FEW_STEPS_FAILS if ensemble_argmax else {}
    return {**STOCHASTIC_TRAINING_FAILS, **FLOAT32_ROUNDING_FAILS, **tuned, **few_steps}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
