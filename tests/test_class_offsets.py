import numpy as np
import pytest
from sklearn.metrics import f1_score

from qclmix_sklearn.ensemble._class_offsets import tune_class_offsets
from qclmix_sklearn._metrics import macro_f1


def test_a_binary_offset_is_a_tuned_threshold_for_the_minority_class():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.1).astype(int)
    # a calibrated-looking but under-confident score for the minority class
    p1 = np.clip(0.25 * y + rng.normal(0.15, 0.1, 2000), 0.01, 0.99)
    log_proba = np.log(np.column_stack([1 - p1, p1]))
    offsets = tune_class_offsets(log_proba, y)
    before = f1_score(y, log_proba.argmax(1), average="macro")
    after = f1_score(y, (log_proba + offsets).argmax(1), average="macro")
    assert after > before + 0.1
    assert offsets[1] - offsets[0] > 0  # the minority class is favoured


def test_never_worse_than_argmax_on_the_tuning_data_and_zero_without_evidence():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 300)
    log_proba = np.log(rng.dirichlet(np.ones(4), 300))
    offsets = tune_class_offsets(log_proba, y)
    labels = np.arange(4)
    assert (macro_f1(y, (log_proba + offsets).argmax(1), labels=labels)
            >= macro_f1(y, log_proba.argmax(1), labels=labels))
    # perfect predictions: no offset can improve them, so all stay 0
    perfect = np.log(np.eye(4)[y] * 0.9 + 0.025)
    assert (tune_class_offsets(perfect, y) == 0).all()


def test_probabilities_packed_in_a_narrow_band_are_tuned_too():
    # An under-trained model: every probability of class 1 lies in 0.47-0.495,
    # so argmax predicts the majority class only, yet a threshold at 0.49
    # separates the classes. A fixed 0.1-step grid cannot reach it.
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], [800, 200])
    p1 = np.concatenate([rng.uniform(0.47, 0.49, 800), rng.uniform(0.49, 0.495, 200)])
    log_proba = np.log(np.column_stack([1 - p1, p1]))
    assert set(log_proba.argmax(1)) == {0}
    offsets = tune_class_offsets(log_proba, y)
    np.testing.assert_array_equal((log_proba + offsets).argmax(1), y)


@pytest.mark.parametrize("seed", range(5))
def test_each_step_is_the_best_single_class_offset(seed):
    # Exactness: no offset on a fine grid beats the one chosen for a class.
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 150)
    log_proba = np.log(rng.dirichlet(np.ones(3), 150))
    offsets = tune_class_offsets(log_proba, y, n_rounds=1)
    labels = np.arange(3)
    best = macro_f1(y, (log_proba + offsets).argmax(1), labels=labels)
    for value in np.linspace(-3, 3, 2001):
        trial = offsets.copy()
        trial[2] = value  # the last class visited: the others are final
        assert macro_f1(y, (log_proba + trial).argmax(1), labels=labels) <= best + 1e-12


def test_offsets_stay_within_max_offset():
    rng = np.random.default_rng(2)
    y = (rng.random(500) < 0.05).astype(int)
    # the minority is only found far below its scores' usual level
    log_proba = np.log(np.column_stack([np.full(500, 0.999), np.full(500, 0.001)]))
    log_proba[y == 1, 1] += 0.5
    assert (np.abs(tune_class_offsets(log_proba, y, max_offset=1.0)) <= 1.0).all()
    assert not tune_class_offsets(log_proba, y, max_offset=1.0).any()
    wide = tune_class_offsets(log_proba, y, max_offset=8.0)
    assert wide[1] - wide[0] > 6
    np.testing.assert_array_equal((log_proba + wide).argmax(1), y)
