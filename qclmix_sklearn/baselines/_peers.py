"""The models a practitioner picks today for tabular data (SPEC §8), at their library defaults.

CatBoost, LightGBM, and pytabkit's RealMLP-TD and TabM-D: the defaults their
authors tuned, plus the library's own class weighting as a grid point where
it has one (pytabkit has none). One thread each, on the CPU: the benchmark
parallelises over jobs. The ``*_tuned`` variants give a peer QCLMix's
``decision_rule='tuned'`` (:class:`TunedOffsetsClassifier`) on its defaults,
without class weights: the offsets are its lever against imbalance.

Each builder takes ``random_state`` and returns ``(estimator, param_grid)``;
``param_grid`` is None for a model that is not grid-searched. The libraries
are the ``peers`` extra; a missing one raises :class:`ModuleNotFoundError`
naming it and the extra.
"""

import importlib
from numbers import Integral

from sklearn.utils import check_random_state

from ._argmax_proba import ArgmaxProbaClassifier
from ._tuned_offsets import TunedOffsetsClassifier

INSTALL_HINT = 'pip install "qclmix-sklearn[peers]"'


def _library(module, attribute):
    """``module.attribute``, or a ModuleNotFoundError that names the extra to install.

    Only a missing module is turned into that message; any other ImportError (a broken
    installation) propagates as it is.
    """
    try:
        return getattr(importlib.import_module(module), attribute)
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"The peer model {attribute} needs {module}, which is not installed "
            f"({exc}); install the peers extra: {INSTALL_HINT}",
            name=exc.name or module,
        ) from exc


def _seed(random_state):
    """An int seed for libraries that take no RandomState (None stays None)."""
    if random_state is None:
        return None
    if isinstance(random_state, Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(2**31 - 1))


def _catboost(random_state):
    CatBoostClassifier = _library("catboost", "CatBoostClassifier")
    # allow_writing_files=False: CatBoost writes a catboost_info folder into the
    # working directory otherwise.
    return CatBoostClassifier(
        thread_count=1, random_seed=_seed(random_state), verbose=0, allow_writing_files=False
    )


def _lightgbm(random_state):
    LGBMClassifier = _library("lightgbm", "LGBMClassifier")
    return LGBMClassifier(n_jobs=1, random_state=_seed(random_state), verbose=-1)


def _realmlp(random_state):
    RealMLP = _library("pytabkit", "RealMLP_TD_Classifier")
    return RealMLP(device="cpu", n_threads=1, random_state=random_state, verbosity=0)


def _tabm(random_state):
    TabM = _library("pytabkit", "TabM_D_Classifier")
    return TabM(device="cpu", n_threads=1, random_state=random_state, verbosity=0)


def catboost(random_state=None):
    # CatBoost's predict returns a column of shape (n, 1), not a vector: the wrapper predicts
    # the argmax of its probabilities instead.
    grid = {"estimator__auto_class_weights": [None, "Balanced"]}
    return ArgmaxProbaClassifier(_catboost(random_state)), grid


def lightgbm(random_state=None):
    return _lightgbm(random_state), {"class_weight": [None, "balanced"]}


def realmlp(random_state=None):
    return _realmlp(random_state), None


def tabm(random_state=None):
    return _tabm(random_state), None


def _tuned(peer):
    def builder(random_state=None):
        estimator = TunedOffsetsClassifier(peer(random_state), cv=3, random_state=random_state)
        return estimator, None

    builder.__name__ = f"{peer.__name__[1:]}_tuned"
    return builder


catboost_tuned = _tuned(_catboost)
lightgbm_tuned = _tuned(_lightgbm)
realmlp_tuned = _tuned(_realmlp)
tabm_tuned = _tuned(_tabm)
