"""Names of the paper's 20 baselines mapped to estimators and grids."""

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


def _builder(name):
    if name in _GROUPS["ML"]:
        return getattr(_ml, name)
    if name in _GROUPS["DL"]:
        from . import _deep

        return getattr(_deep, name)
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


def get_baseline(name, random_state=None):
    """An unfitted baseline and the parameter grid to tune it with.

    Parameters
    ----------
    name : str
        One of the names returned by :func:`list_baselines`.

    random_state : int, RandomState instance or None, default=None
        Seed passed to the estimator (and its steps) where it has one.

    Returns
    -------
    estimator : estimator object
        The unfitted baseline, a scikit-learn compatible classifier.

    param_grid : dict of str to list
        Grid for :class:`~sklearn.model_selection.GridSearchCV`; its keys are
        valid for ``estimator.set_params``.

    Raises
    ------
    ValueError
        If ``name`` is not a known baseline.
    """
    known = [n for names in _GROUPS.values() for n in names]
    if name not in known:
        raise ValueError(f"Unknown baseline {name!r}; known baselines are: {', '.join(known)}.")
    return _builder(name)(random_state=random_state)
