"""The benchmark's models by name: QCLMix and its variants, the 20 baselines, the modern peers."""

from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .._classifier import PAPER_PARAMS
from ..baselines import list_baselines, list_peers

#: QCLMix in the paper's configuration and the paper's ablations (SPEC §6, Fig. 5): each removes
#: one component from the paper's configuration.
PAPER_VARIANTS = {
    "qclmix_paper": PAPER_PARAMS,
    "qclmix_no_quantum": {**PAPER_PARAMS, "use_entanglement": False},
    "qclmix_no_mixup": {**PAPER_PARAMS, "mixup": False},
    "qclmix_no_attention": {**PAPER_PARAMS, "use_attention": False},
}

#: Ablations of our improvements (README, "Beyond the paper"): each undoes one of them in the
#: package's defaults.
IMPROVEMENT_ABLATIONS = {
    "qclmix_single_net": {"n_folds": None},
    "qclmix_argmax": {"decision_rule": "argmax"},
    "qclmix_uniform_batches": {"class_balance": 0.0},
    "qclmix_any_class_mixup": {"mixup_same_class": False},
}

#: Every QCLMix variant: name -> QCLMixClassifier parameters; ``qclmix`` has the defaults.
QCLMIX_VARIANTS = {"qclmix": {}, **PAPER_VARIANTS, **IMPROVEMENT_ABLATIONS}


def is_qclmix(name):
    return name in QCLMIX_VARIANTS


def list_models():
    """``{"QCLMix": [...variants], "ML": [...], "DL": [...], "GNN": [...], "Peers": [...]}``."""
    return {"QCLMix": list(QCLMIX_VARIANTS), **list_baselines(), "Peers": list_peers()}


def all_model_names():
    return [name for names in list_models().values() for name in names]


def make_model(name, random_state=None):
    """``(estimator, param_grid)`` for the model ``name``; QCLMix variants are not grid-searched.

    Raises ImportError (ModuleNotFoundError for the peers) when an optional dependency of the
    model is missing.
    """
    if name in QCLMIX_VARIANTS:
        from .. import QCLMixClassifier

        return QCLMixClassifier(random_state=random_state, **QCLMIX_VARIANTS[name]), None
    from ..baselines import get_baseline

    return get_baseline(name, random_state=random_state)


def wrap(estimator, param_grid=None):
    """Impute (median) and scale inside the pipeline, so both are fitted on training data only.

    Returns the pipeline and its grid with keys prefixed by ``model__``.
    """
    pipeline = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("model", estimator),
        ]
    )
    grid = None
    if param_grid:
        if isinstance(param_grid, dict):
            grid = {f"model__{key}": list(values) for key, values in param_grid.items()}
        else:  # a list of grids, as GridSearchCV accepts
            grid = [{f"model__{k}": list(v) for k, v in g.items()} for g in param_grid]
    return pipeline, grid
