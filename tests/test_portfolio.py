"""A portfolio of configurations chosen between inside fit: greedy ensemble selection on
held-out predictions, and class offsets kept only when they win in a cross-validation."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import make_classification

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn.ensemble._class_offsets import offsets_that_generalise, tune_class_offsets
from qclmix_sklearn.ensemble._selection import ensemble_selection

TINY = dict(max_epochs=3, hidden_sizes=(16, 8), random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, weights=[0.75, 0.2, 0.05],
                               random_state=0)
    return X.astype(np.float32), y


def _one_hot(labels, n_classes, confidence=0.9):
    proba = np.full((len(labels), n_classes), (1 - confidence) / (n_classes - 1))
    proba[np.arange(len(labels)), labels] = confidence
    return proba


# -- ensemble selection ---------------------------------------------------------
def test_selection_gives_every_round_to_a_candidate_that_is_always_right():
    y = np.array([0, 1, 2, 1, 0, 2, 2, 1])
    wrong = _one_hot((y + 1) % 3, 3)
    weights = ensemble_selection(np.stack([wrong, _one_hot(y, 3), wrong]), y, 10)
    np.testing.assert_array_equal(weights, [0, 1, 0])


def test_selection_weighs_up_complementary_candidates_and_breaks_ties():
    y = np.array([0] * 6 + [1] * 6)
    # Each candidate is sure and right on one half, unsure and wrong on the other:
    # alone each scores 0.5, averaged they are right everywhere.
    first = np.where((np.arange(12) < 6)[:, None], _one_hot(y, 2, 0.95), _one_hot(1 - y, 2, 0.55))
    second = np.where((np.arange(12) >= 6)[:, None], _one_hot(y, 2, 0.95),
                      _one_hot(1 - y, 2, 0.55))
    weights = ensemble_selection(np.stack([first, second]), y, 4)
    assert weights.sum() == pytest.approx(1.0) and np.all(weights > 0)
    assert np.all(weights * 4 == np.round(weights * 4))  # multiples of 1 / n_rounds
    same = ensemble_selection(np.stack([first, first]), y, 3)  # a full tie every round
    np.testing.assert_array_equal(same, [1, 0])
    # Equal macro-F1: the lower log-loss wins (a wrong candidate that does not
    # change the decisions of a right one is not added).
    right, wrong = _one_hot(y, 2), _one_hot(1 - y, 2, 0.6)
    np.testing.assert_array_equal(ensemble_selection(np.stack([wrong, right]), y, 5), [0, 1])


def test_selection_scores_with_the_row_weights():
    y = np.array([0, 0, 1, 1])
    right_on_first_rows = _one_hot(np.array([0, 0, 0, 0]), 2)
    right_on_last_rows = _one_hot(np.array([1, 1, 1, 1]), 2)
    candidates = np.stack([right_on_first_rows, right_on_last_rows])
    # Both score the same unweighted (one class right each); weights decide.
    assert ensemble_selection(candidates, y, 1, np.array([1.0, 1.0, 0.2, 0.2]))[0] == 1
    assert ensemble_selection(candidates, y, 1, np.array([0.2, 0.2, 1.0, 1.0]))[1] == 1


# -- offsets kept only when they generalise -------------------------------------------
def _margins(minority_margins, n_majority=95):
    """Binary log-probabilities: majority rows at margin 2, minority rows at the given margins
    (their majority score minus their minority score)."""
    margins = np.concatenate([np.full(n_majority, 2.0), minority_margins])
    log_proba = np.stack([np.zeros_like(margins), -margins], axis=1)
    y = np.concatenate([np.zeros(n_majority, int), np.ones(len(minority_margins), int)])
    return log_proba, y


def test_offsets_that_fit_one_row_are_dropped():
    # One minority row just on the wrong side: offsets tuned on all rows move it,
    # but no fold that holds it out learns to.
    log_proba, y = _margins(np.array([-2.0, -2.0, -2.0, -2.0, 0.1]))
    assert tune_class_offsets(log_proba, y).any()
    np.testing.assert_array_equal(offsets_that_generalise(log_proba, y), [0.0, 0.0])


def test_offsets_that_every_fold_learns_are_kept():
    log_proba, y = _margins(np.full(20, 0.3))  # every minority row misclassified alike
    offsets = offsets_that_generalise(log_proba, y)
    np.testing.assert_array_equal(offsets, tune_class_offsets(log_proba, y))
    assert ((log_proba + offsets).argmax(axis=1) == y).all()


def test_offsets_need_a_class_with_two_rows_to_cross_validate():
    log_proba, y = np.log(np.array([[0.6, 0.4], [0.3, 0.7]])), np.array([1, 0])
    np.testing.assert_array_equal(offsets_that_generalise(log_proba, y), [0.0, 0.0])


# -- the estimator ------------------------------------------------------------------
@pytest.mark.parametrize("entry", [
    {"class_weight": "balanced"}, {"class_balance": 0.5}, {"logit_adjustment": 1.0},
])
def test_a_portfolio_of_one_entry_is_that_configuration(data, entry):
    # Entry 0 gets the fit's own seeds, so it trains exactly the estimator with those
    # parameters: its weights, batch draws and class prior included.
    X, y = data
    weight = np.linspace(0.5, 2.0, len(y))
    alone = QCLMixClassifier(portfolio=None, **TINY, **entry).fit(X, y, sample_weight=weight)
    inside = QCLMixClassifier(**TINY, portfolio=[entry]).fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(inside.predict_proba(X), alone.predict_proba(X))
    np.testing.assert_array_equal(inside.portfolio_weights_, [1.0])


def test_without_a_portfolio_every_member_weighs_the_same(data):
    X, y = data
    model = QCLMixClassifier(portfolio=None, **TINY).fit(X, y)
    np.testing.assert_array_equal(model.portfolio_weights_, [1.0])
    np.testing.assert_allclose(model.member_weights_, [1 / 3] * 3)


def test_the_imbalance_portfolio_keeps_the_selected_members_with_their_weights(data):
    X, y = data
    model = QCLMixClassifier(**TINY, portfolio="imbalance").fit(X, y)
    weights = model.portfolio_weights_
    assert weights.shape == (4,) and weights.sum() == pytest.approx(1.0)
    kept = np.flatnonzero(weights)
    assert len(model.nets_) == 3 * len(kept) == len(model.member_weights_)
    np.testing.assert_allclose(model.member_weights_, np.repeat(weights[kept] / 3, 3))
    assert len(model.best_epoch_) == len(model.nets_)
    # predict_proba: the weighted mean of the members, member by member and fused.
    members = np.stack([model._proba(X, net) for net in model.nets_])
    expected = np.einsum("k,knc->nc", model.member_weights_, members)
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-12, atol=1e-12)
    many = np.repeat(X, 20, axis=0)  # enough rows for the fused path
    np.testing.assert_allclose(model.predict_proba(many), np.repeat(expected, 20, axis=0),
                               atol=1e-6)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.member_weights_, model.member_weights_)
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_auto_offsets_are_the_tuned_ones_or_none(data):
    X, y = data
    tuned = QCLMixClassifier(**TINY, decision_rule="tuned").fit(X, y)
    auto = QCLMixClassifier(**TINY, decision_rule="auto").fit(X, y)
    np.testing.assert_array_equal(auto.predict_proba(X), tuned.predict_proba(X))
    assert (not auto.class_offsets_.any()
            or np.array_equal(auto.class_offsets_, tuned.class_offsets_))


@pytest.mark.parametrize("portfolio, error, message", [
    ([], ValueError, "at least one entry"),
    ([{}, "balanced"], TypeError, "must be a dict of parameters; got str 'balanced'"),
    ([{"class_wieght": "balanced"}], ValueError, "unknown parameters ['class_wieght']"),
    ([{"hidden_sizes": (8, 4)}], ValueError, "sets ['hidden_sizes']: an entry may not"),
    ([{"class_balance": 2.0}], ValueError, "'class_balance' parameter"),
    ([{"lr": 0.1}], ValueError, "lr=0.1 is the initial rate"),
])
def test_bad_portfolio_entries_are_refused_before_training(data, portfolio, error, message,
                                                           monkeypatch):
    X, y = data
    monkeypatch.setattr(QCLMixClassifier, "_train_members", None)  # never reached
    with pytest.raises(error) as info:
        QCLMixClassifier(**TINY, portfolio=portfolio).fit(X, y)
    assert message in str(info.value)


def test_one_round_of_selection_keeps_one_entry(data):
    X, y = data
    model = QCLMixClassifier(**TINY, portfolio="imbalance", ensemble_selection=1).fit(X, y)
    assert sorted(model.portfolio_weights_) == [0, 0, 0, 1]
    assert len(model.nets_) == 3
