"""Evaluation protocols: how a dataset is cut into training and test parts.

``paper``: one stratified 80/20 split with seed 42 (paper §4.2.1).
``cv``: stratified k-fold repeated over several seeds (ours; mean ± std).
In both, the imputer, the scaler and any sampler are fitted in the pipeline on the training part.
"""

import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

PROTOCOLS = ("paper", "cv")


def splits(protocol, y, *, test_size=0.2, paper_seed=42, n_splits=5, seeds=(0, 1, 2)):
    """List of ``(fold, seed, train_indices, test_indices)``."""
    y = np.asarray(y)
    indices = np.arange(len(y))
    if protocol == "paper":
        train, test = train_test_split(
            indices, test_size=test_size, stratify=y, random_state=paper_seed
        )
        return [(0, paper_seed, np.sort(train), np.sort(test))]
    if protocol == "cv":
        if n_splits < 2:
            raise ValueError(f"n_splits must be at least 2 for the cv protocol, got {n_splits}")
        out = []
        for seed in seeds:
            folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
            with warnings.catch_warnings():
                # Tiny classes (e.g. lymph) are allowed: they land in fewer folds than n_splits.
                warnings.filterwarnings("ignore", message="The least populated class")
                for fold, (train, test) in enumerate(folds.split(indices, y)):
                    out.append((fold, int(seed), train, test))
        return out
    raise ValueError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")
