"""Names of the paper's 20 baselines and of the modern peers mapped to estimators and grids."""

from . import _ml

# Builders of the deep and graph models are looked up lazily so that the
# ML baselines stay usable without torch-geometric (and cheap to import).
_GROUPS = {
    "ML": [
        "xgboost",
        "balanced_rf",
        "smote_svm",
        "decision_tree",
        "random_forest",
        "gradient_boosting",
        "logistic_regression",
        "knn",
    ],
    "DL": ["mlp", "resnet", "gru", "lstm", "bigru", "bilstm", "cnn"],
    "GNN": ["gcn", "graphsage", "gat", "gin", "jknet"],
}

#: Not the paper's: the models a practitioner picks today (SPEC §8), with the ``*_tuned``
#: variants that decide like QCLMix's ``decision_rule='tuned'``.
_PEERS = [
    "catboost",
    "lightgbm",
    "realmlp",
    "tabm",
    "catboost_tuned",
    "lightgbm_tuned",
    "realmlp_tuned",
    "tabm_tuned",
]


def _builder(name):
    if name in _GROUPS["ML"]:
        return getattr(_ml, name)
    if name in _GROUPS["DL"]:
        from . import _deep

        return getattr(_deep, name)
    if name in _PEERS:
        from . import _peers

        return getattr(_peers, name)
    from . import _gnn

    return getattr(_gnn, name)


def list_baselines():
    """Names of the 20 baselines, grouped by family.

    Returns
    -------
    names : dict of str to list of str
        ``{"ML": [...], "DL": [...], "GNN": [...]}``, in the paper's order.
    """
    return {group: list(names) for group, names in _GROUPS.items()}


def list_peers():
    """Names of the modern peers (CatBoost, LightGBM, RealMLP, TabM and their tuned variants).

    They are no baselines of the paper; :func:`get_baseline` builds them too.
    They need the ``peers`` extra: ``pip install "qclmix-sklearn[peers]"``.

    Returns
    -------
    names : list of str
        The four peers, then their ``*_tuned`` variants (per-class offsets
        tuned for macro-F1 on out-of-fold probabilities, as QCLMix's
        ``decision_rule='tuned'``).
    """
    return list(_PEERS)


def get_baseline(name, random_state=None):
    """An unfitted baseline and the parameter grid to tune it with.

    Parameters
    ----------
    name : str
        One of the names returned by :func:`list_baselines` or :func:`list_peers`.

    random_state : int, RandomState instance or None, default=None
        Seed passed to the estimator (and its steps) where it has one.

    Returns
    -------
    estimator : estimator object
        The unfitted baseline, a scikit-learn compatible classifier.

    param_grid : dict of str to list or None
        Grid for :class:`~sklearn.model_selection.GridSearchCV`; its keys are
        valid for ``estimator.set_params``. None for a peer that runs at its
        library defaults only.

    Raises
    ------
    ValueError
        If ``name`` is not a known baseline.
    ModuleNotFoundError
        If a library of the model is not installed (a peer without the
        ``peers`` extra, a GNN without the ``gnn`` extra: the message names it).
    """
    known = [n for names in _GROUPS.values() for n in names] + _PEERS
    if name not in known:
        raise ValueError(f"Unknown baseline {name!r}; known baselines are: {', '.join(known)}.")
    return _builder(name)(random_state=random_state)
