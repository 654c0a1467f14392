"""Screening of the improvements over the paper, on splits the final evaluation never uses.

Repeated stratified 3-fold CV with seed 100 (the ``beyond`` suite uses seeds 0 and 1) on the ten
paper datasets below 5,000 rows: each variant is the paper's configuration plus improvements.
Defaults are chosen from these results by the mean over datasets (``summarise.py``)::

    qclmix-bench run --suite-file benchmarks/beyond/screen_suite.py \
        --db benchmarks/results/screen.sqlite --data-home ../shared/datasets
    python benchmarks/beyond/summarise.py benchmarks/results/screen.sqlite
"""

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn._classifier import PAPER_PARAMS
from qclmix_sklearn.bench import Suite

VARIANTS = {
    "paper": {},
    "tuned": {"decision_rule": "tuned"},
    "cv3_tuned": {"n_folds": 3, "decision_rule": "tuned"},
    "cv5_tuned": {"n_folds": 5, "decision_rule": "tuned"},
    "cv3_tuned_balance": {"n_folds": 3, "decision_rule": "tuned", "class_balance": 0.5},
    "cv3_tuned_same_class": {"n_folds": 3, "decision_rule": "tuned", "mixup_same_class": True},
    "cv3_tuned_50_epochs": {"n_folds": 3, "decision_rule": "tuned", "max_epochs": 50},
    "cv3_tuned_balance_same_class": {
        "n_folds": 3, "decision_rule": "tuned", "class_balance": 0.5, "mixup_same_class": True,
    },
}


def make_model(name, random_state=None):
    params = {**PAPER_PARAMS, **VARIANTS[name]}
    return QCLMixClassifier(random_state=random_state, **params), None


SUITE = Suite(
    name="screen",
    description=__doc__.splitlines()[0],
    datasets=["ecoli", "abalone", "arrhythmia", "vehicle", "wine_quality_red", "lymph",
              "one_hundred_plants_texture", "balance_scale", "wine_quality_white", "glass"],
    models=list(VARIANTS),
    protocol="cv",
    n_splits=3,
    seeds=(100,),
    make_model=make_model,
)
