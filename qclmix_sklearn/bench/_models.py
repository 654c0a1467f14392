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

#: The paper's dense widths, the defaults' until the dev suite chose wider ones: every variant
#: below was measured with them, so they state them.
PAPER_WIDTHS = {"hidden_sizes": (64, 32)}

#: The defaults until they were re-checked on the dev suite: three options chosen in a screening on
#: paper datasets (README, "Beyond the paper") on top of the ``n_folds=3`` ensemble.
SCREENED_DEFAULTS = {**PAPER_WIDTHS, "decision_rule": "tuned", "class_balance": 0.5,
                     "mixup_same_class": True}

#: Ablations: ``qclmix_narrow`` undoes the wider layers (it is the paper's configuration with
#: the ensemble), ``qclmix_paper`` undoes both defaults that are not the paper's.
#: ``qclmix_screened`` is the former defaults; each of the other four undoes one of its options
#: (their dev results chose today's defaults: README, "Choosing the defaults on dev data").
IMPROVEMENT_ABLATIONS = {
    "qclmix_narrow": PAPER_WIDTHS,
    "qclmix_screened": SCREENED_DEFAULTS,
    "qclmix_single_net": {**SCREENED_DEFAULTS, "n_folds": None},
    "qclmix_argmax": {**SCREENED_DEFAULTS, "decision_rule": "argmax"},
    "qclmix_uniform_batches": {**SCREENED_DEFAULTS, "class_balance": 0.0},
    "qclmix_any_class_mixup": {**SCREENED_DEFAULTS, "mixup_same_class": False},
}

#: Levers with a track record on tabular data, each added alone to ``qclmix_narrow``
#: (the defaults before the wider layers, which were the winning lever), and RealMLP-TD's three
#: together. Measured on the dev suite; none but the widths won there.
LEVER_VARIANTS = {
    "qclmix_robust_scaling": {**PAPER_WIDTHS, "input_scaling": "robust_smooth_clip"},
    "qclmix_periodic_embedding": {**PAPER_WIDTHS, "numerical_embedding": "periodic"},
    "qclmix_label_smoothing": {**PAPER_WIDTHS, "label_smoothing": 0.1},
    "qclmix_logit_adjustment": {**PAPER_WIDTHS, "logit_adjustment": 1.0},
    "qclmix_realmlp_levers": {**PAPER_WIDTHS, "input_scaling": "robust_smooth_clip",
                              "numerical_embedding": "periodic", "label_smoothing": 0.1},
}

#: Levers added alone to today's defaults (the wider layers): the logit-adjusted loss, also with
#: the focal factor off (``focal_gamma=0``: Menon et al.'s logit-adjusted cross-entropy), and the
#: periodic embedding at these widths.
DEFAULT_LEVER_VARIANTS = {
    "qclmix_logit_adjusted": {"logit_adjustment": 1.0},
    "qclmix_logit_adjusted_ce": {"logit_adjustment": 1.0, "focal_gamma": 0.0},
    "qclmix_embedded": {"numerical_embedding": "periodic"},
}

#: Imbalance handling chosen per dataset inside ``fit``: class offsets kept only where they win in
#: a cross-validation of the held-out rows, and with them the portfolio of minority treatments
#: weighed by ensemble selection.
PORTFOLIO_VARIANTS = {
    "qclmix_auto_offsets": {"decision_rule": "auto"},
    "qclmix_portfolio_auto": {"portfolio": "imbalance", "decision_rule": "auto"},
}

#: Robustness to uninformative columns: each member reads only the columns that beat their
#: shuffled copies on its own training rows, always. (Where ensemble selection on the held-out
#: predictions prefers it to every column, a portfolio of the two, is today's default,
#: ``qclmix``; until it became the default its rows were ``qclmix_selection_portfolio``'s.)
ROBUSTNESS_VARIANTS = {
    "qclmix_feature_selection": {"feature_selection": "shadow"},
}

#: QCLMixClassifier parameters added after results were stored, one dict per addition, oldest
#: first, with the values at which they compute exactly what the code before them computed
#: (checked bit for bit by ``benchmarks/bit_identity.py``): a stored configuration without them
#: is today's with them at these values, so a variant's settings hash leaves out an addition
#: when it and every later one are at these values (a row stored with one addition set keeps
#: its hash when a later addition comes).
ADDED_PARAMETERS = [{"portfolio": None, "ensemble_selection": 25}, {"feature_selection": None}]

#: One configuration trained alone, no portfolio: the defaults until the ``feature_selection``
#: portfolio became the default (``qclmix_no_portfolio``), and the base of every variant above,
#: each of which was measured so.
SINGLE_CONFIGURATION = {"portfolio": None}

#: Every QCLMix variant: name -> QCLMixClassifier parameters; ``qclmix`` has the defaults.
QCLMIX_VARIANTS = {
    "qclmix": {},
    "qclmix_no_portfolio": SINGLE_CONFIGURATION,
    **{name: {**SINGLE_CONFIGURATION, **params} for name, params in {
        **PAPER_VARIANTS, **IMPROVEMENT_ABLATIONS, **LEVER_VARIANTS, **DEFAULT_LEVER_VARIANTS,
        **PORTFOLIO_VARIANTS, **ROBUSTNESS_VARIANTS}.items()},
}


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
