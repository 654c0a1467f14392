"""The benchmark's models: QCLMix, its three ablations and the 20 baselines, by name."""

from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..baselines import list_baselines

#: Ablation variants (SPEC §6): name -> QCLMixClassifier parameters.
QCLMIX_VARIANTS = {
    "qclmix": {},
    "qclmix_no_quantum": {"use_entanglement": False},
    "qclmix_no_mixup": {"mixup": False},
    "qclmix_no_attention": {"use_attention": False},
}


def is_qclmix(name):
    return name in QCLMIX_VARIANTS


def list_models():
    """``{"QCLMix": [...variants], "ML": [...], "DL": [...], "GNN": [...]}``."""
    return {"QCLMix": list(QCLMIX_VARIANTS), **list_baselines()}


def all_model_names():
    return [name for names in list_models().values() for name in names]


def make_model(name, random_state=None):
    """``(estimator, param_grid)`` for the model ``name``; QCLMix variants are not grid-searched.

    Raises ImportError when an optional dependency of the model is missing.
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
