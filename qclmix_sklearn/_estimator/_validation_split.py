"""The internal splits of the training data: the validation split used for checkpoint selection and
early stopping, and stratified folds."""

import math
import warnings

import numpy as np
from sklearn.model_selection import ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit


def validation_split(y, validation_fraction, random_state):
    """Split training indices into a fitting part and a validation part.

    The split is stratified when every class can give a member to both parts;
    otherwise it falls back to an unstratified shuffle split (SPEC §4). Data
    too small to leave two fitting samples gets no validation part.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Integer-encoded labels of the training data.
    validation_fraction : float or None
        Share of the samples held out; ``None`` disables validation.
    random_state : int, RandomState instance or None
        Seed of the shuffle.

    Returns
    -------
    fit_idx : ndarray of int
    valid_idx : ndarray of int or None
        ``None`` when no validation part is made.
    """
    n_samples = len(y)
    everything = np.arange(n_samples)
    if validation_fraction is None:
        return everything, None
    n_valid = math.ceil(validation_fraction * n_samples)
    if n_samples - n_valid < 2:
        return everything, None
    n_classes = len(np.unique(y))
    min_count = np.bincount(y).min() if n_classes else 0
    stratify = (
        min_count >= 2 and n_valid >= n_classes and n_samples - n_valid >= n_classes
    )
    splitter_cls = StratifiedShuffleSplit if stratify else ShuffleSplit
    splitter = splitter_cls(n_splits=1, test_size=n_valid, random_state=random_state)
    fit_idx, valid_idx = next(splitter.split(np.zeros(n_samples), y))
    return np.sort(fit_idx), np.sort(valid_idx)


def stratified_folds(y, n_splits, random_state):
    """``[(fit_idx, held_out_idx)]`` of shuffled stratified ``n_splits``-fold cross-validation.

    A class smaller than ``n_splits`` is fine: it is held out by fewer folds
    (scikit-learn's warning about it is silenced). Needs a class with at
    least ``n_splits`` rows.
    """
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        return list(folds.split(np.zeros(len(y)), y))
