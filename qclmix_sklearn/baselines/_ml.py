"""The 8 classical ML baselines, each with a modest but real parameter grid.

Each builder takes ``random_state`` and returns ``(estimator, param_grid)``.
Grids stay at or below 12 combinations because the benchmark runs a 3-fold
grid search of every baseline on 18 datasets; ``n_jobs=1`` everywhere
because the benchmark parallelises over jobs, not inside them.
"""

from imblearn.ensemble import BalancedRandomForestClassifier
from imblearn.pipeline import Pipeline
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from ._label_encoded import LabelEncodedClassifier
from ._smote import SafeSMOTE


def xgboost(random_state=None):
    from xgboost import XGBClassifier

    # Labels are encoded by the wrapper (XGBoost wants 0..n-1) and class
    # weights become sample weights (XGBoost has no class_weight).
    estimator = LabelEncodedClassifier(
        XGBClassifier(
            n_estimators=200, tree_method="hist", n_jobs=1, random_state=random_state
        )
    )
    grid = {
        "estimator__max_depth": [3, 6],
        "estimator__learning_rate": [0.05, 0.2],
        "class_weight": [None, "balanced"],
    }
    return estimator, grid


def balanced_rf(random_state=None):
    # Parameters set explicitly: they are the imbalanced-learn >= 0.13
    # defaults, and the explicit values silence its change warnings.
    estimator = BalancedRandomForestClassifier(
        n_estimators=200,
        sampling_strategy="all",
        replacement=True,
        bootstrap=False,
        n_jobs=1,
        random_state=random_state,
    )
    grid = {
        "max_features": ["sqrt", 0.5],
        "min_samples_leaf": [1, 3],
        "max_depth": [None, 10],
    }
    return estimator, grid


def smote_svm(random_state=None):
    # The scaler makes SMOTE's neighbours and the RBF kernel meaningful even
    # on unscaled input (it is a no-op on already standardised data). No
    # class_weight in the grid: after SMOTE the classes are balanced already.
    estimator = Pipeline(
        [
            ("scaler", StandardScaler()),
            ("smote", SafeSMOTE(k_neighbors=5, random_state=random_state)),
            ("svc", SVC(random_state=random_state)),
        ]
    )
    grid = {
        "svc__C": [0.1, 1.0, 10.0, 100.0],
        "svc__gamma": ["scale", 0.01, 0.1],
    }
    return estimator, grid


def decision_tree(random_state=None):
    estimator = DecisionTreeClassifier(random_state=random_state)
    grid = {
        "max_depth": [None, 5, 10],
        "min_samples_leaf": [1, 5],
        "class_weight": [None, "balanced"],
    }
    return estimator, grid


def random_forest(random_state=None):
    estimator = RandomForestClassifier(
        n_estimators=200, n_jobs=1, random_state=random_state
    )
    grid = {
        "max_features": ["sqrt", 0.5],
        "min_samples_leaf": [1, 3],
        "class_weight": [None, "balanced_subsample"],
    }
    return estimator, grid


def gradient_boosting(random_state=None):
    # Histogram gradient boosting rather than GradientBoostingClassifier:
    # the latter fits one tree per class per stage on all features and takes
    # hours on har (561 features) and letter (26 classes) on two cores; the
    # histogram variant also has class_weight.
    estimator = HistGradientBoostingClassifier(max_iter=200, random_state=random_state)
    grid = {
        "learning_rate": [0.05, 0.1, 0.2],
        "max_leaf_nodes": [15, 31],
        "class_weight": [None, "balanced"],
    }
    return estimator, grid


def logistic_regression(random_state=None):
    # max_iter well above the default: the paper's LR scored 0.01 macro-F1 on
    # a 100-class set, the signature of an unconverged or unscaled fit.
    estimator = LogisticRegression(max_iter=5000, random_state=random_state)
    grid = {
        "C": [0.01, 0.1, 1.0, 10.0, 100.0],
        "class_weight": [None, "balanced"],
    }
    return estimator, grid


def knn(random_state=None):
    # kNN has no randomness and no class_weight; distance weighting is its
    # closest lever against imbalance.
    estimator = KNeighborsClassifier(n_jobs=1)
    grid = {
        "n_neighbors": [1, 3, 5, 9, 15],
        "weights": ["uniform", "distance"],
    }
    return estimator, grid
