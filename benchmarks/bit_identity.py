"""Whether a change of the code changes any fit: 54 configurations' predictions, bit for bit.

Fits QCLMixClassifier in 14 configurations (one configuration with the defaults before
2026-12-05, the paper's, robust scaling, a pytorch-metric-learning loss and miner, a pair miner,
a DataFrame with a string column and a NaN, class weights, tuned offsets, a single network,
binary, the column selection always and in a portfolio, spelled out and as today's default) and
13 baselines (the deep, GNN
and ML ones and three peers) on small synthetic data, and saves or compares their
``predict_proba`` (``predict`` where there is none) with ``np.array_equal``. Run it from the
root of each checkout to compare (it imports the package found there)::

    python benchmarks/bit_identity.py save before.npz     # in the checkout before the change
    python benchmarks/bit_identity.py check before.npz    # in the checkout after it

A stored benchmark row stays what its regenerate command computes only when its configuration
is fitted bit for bit as before. Needs the ``peers`` and ``gnn`` extras; 1-2 minutes.
"""

import os
import sys
import warnings

sys.path.insert(0, os.getcwd())

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

warnings.simplefilter("ignore")
torch.set_num_threads(1)
from pytorch_metric_learning import losses, miners  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402

import qclmix_sklearn  # noqa: E402
from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier  # noqa: E402
from qclmix_sklearn.baselines import get_baseline  # noqa: E402

X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3,
                           weights=[.6, .3, .1], random_state=0)
X[:5, 0] *= 1e6
frame = pd.DataFrame(X, columns=list("abcdef")).assign(c=np.where(y == 1, "u", "v"))
frame.loc[3, "a"] = np.nan
X2, y2 = make_classification(500, 10, n_informative=6, n_classes=3, weights=[.6, .3, .1],
                             random_state=1)
Xb, yb = make_classification(200, 8, n_informative=5, weights=[.85], random_state=2)
# Short trainings: every model's own iterations, cut.
SHORT = {"max_epochs": 4, "n_estimators": 20, "iterations": 20, "n_epochs": 4}
out = {}
cases = {
    "default": (dict(), X, y), "paper": (PAPER_PARAMS, X, y),
    "robust": (dict(input_scaling="robust_smooth_clip"), X, y),
    "pml": (dict(metric_loss=losses.NTXentLoss(), miner=miners.MultiSimilarityMiner(), n_folds=2,
                 member_training="sequential"), X, y),
    "pairminer": (dict(miner=miners.PairMarginMiner()), X, y), "frame": (dict(), frame, y),
    "weights": (dict(class_weight="balanced"), X, y),
    "paper2": (PAPER_PARAMS, X2, y2),
    "tuned_bal": (dict(decision_rule="tuned", class_weight="balanced"), X2, y2),
    "single": (dict(n_folds=None), X2, y2),
    "binary": (dict(), Xb, yb),
    "selection": (dict(feature_selection="shadow"), X2, y2),
    "selection_portfolio": (dict(portfolio=[{}, {"feature_selection": "shadow"}]), X2, y2),
    "default_portfolio": (dict(portfolio="feature_selection"), X, y),
}
# One configuration unless a case says otherwise (every stored variant but the default's rows
# is one; the default since 2026-12-05 is the "default_portfolio" case).
for name, (params, data, target) in cases.items():
    m = QCLMixClassifier(**{"portfolio": None, **params, "max_epochs": 4,
                            "random_state": 0}).fit(data, target)
    out[name] = m.predict_proba(data)
    out[name + "_pred"] = m.predict(data).astype(float)
for name in ["mlp", "resnet", "cnn", "gru", "bilstm", "gcn", "xgboost", "smote_svm", "knn",
             "logistic_regression", "catboost_tuned", "lightgbm", "realmlp"]:
    est, _ = get_baseline(name, random_state=0)
    est.set_params(**{k: SHORT[k.rsplit("__", 1)[-1]] for k in est.get_params()
                      if k.rsplit("__", 1)[-1] in SHORT})
    for tag, (A, b) in {"": (X2, y2), "_binary": (Xb, yb)}.items():
        est.fit(A, b)
        out["b_" + name + tag] = (est.predict_proba(A) if hasattr(est, "predict_proba")
                                  else est.predict(A).astype(float))
mode, path = sys.argv[1], sys.argv[2]
if mode == "save":
    np.savez(path, **out)
    print("saved", len(out), qclmix_sklearn.__file__)
else:
    ref = np.load(path)
    bad = [k for k in ref.files if not np.array_equal(ref[k], out[k])]
    print("compared", len(ref.files), "differ:", bad or "none", qclmix_sklearn.__file__)
    sys.exit(1 if bad else 0)
