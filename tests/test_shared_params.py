"""The shared training parameters: documented once, stored by one helper, same defaults."""

import inspect
import re

import numpy as np
import pytest
from sklearn.base import clone

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn._estimator._shared_params import SHARED_PARAMETERS, expand_shared_parameters
from qclmix_sklearn._estimator._torch_base import TorchClassifierBase
from qclmix_sklearn.baselines import (
    CNN1DClassifier,
    GNNClassifier,
    ResNetClassifier,
    RNNClassifier,
    TorchMLPClassifier,
)

ESTIMATORS = [
    QCLMixClassifier,
    TorchMLPClassifier,
    ResNetClassifier,
    RNNClassifier,
    CNN1DClassifier,
    GNNClassifier,
    TorchClassifierBase,
]

# The GNN's own defaults (full-batch graph training, as before it shared the base).
GNN_DEFAULTS = {"lr": 1e-2, "weight_decay": 5e-4, "max_lr": None, "n_threads": None}


def init_parameters(cls):
    return {name: p for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self"}


def documented_parameters(cls):
    """``name -> header line`` of the numpydoc Parameters section of ``cls``."""
    doc = inspect.cleandoc(cls.__doc__)
    section = doc.split("Parameters\n----------\n", 1)[1]
    section = re.split(r"\n\S[^\n]*\n-{3,}\n", section, maxsplit=1)[0]
    headers = re.findall(r"^(\w+) : (.*)$", section, flags=re.MULTILINE)
    return headers


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_docstring_parameters_are_exactly_the_init_parameters(cls):
    headers = documented_parameters(cls)
    names = [name for name, _ in headers]
    assert len(names) == len(set(names)), "a parameter is documented twice"
    assert set(names) == set(init_parameters(cls))
    assert not re.search(r"^ *\{\w+\} *$", cls.__doc__, flags=re.MULTILINE), "placeholder left"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_documented_defaults_are_the_signature_defaults(cls):
    defaults = {name: p.default for name, p in init_parameters(cls).items()}
    for name, header in documented_parameters(cls):
        stated = header.rsplit("default=", 1)[1]
        # 4e-4 and 0.0004, 'gcn' and "gcn" are the same default.
        value = eval(stated, {})  # noqa: S307 - the package's own docstrings
        assert value == defaults[name], (name, stated)


@pytest.mark.parametrize("cls", ESTIMATORS[:-1], ids=lambda c: c.__name__)
def test_shared_defaults_are_the_base_defaults(cls):
    base = init_parameters(TorchClassifierBase)
    own = init_parameters(cls)
    expected = {name: p.default for name, p in base.items()}
    if cls is GNNClassifier:
        expected.update(GNN_DEFAULTS)
        del expected["batch_size"]  # one batch: the whole graph
    assert {name: own[name].default for name in expected} == expected
    assert all(own[name].kind is inspect.Parameter.KEYWORD_ONLY for name in expected)


@pytest.mark.parametrize("cls", ESTIMATORS[:-1], ids=lambda c: c.__name__)
def test_every_init_argument_is_stored_unchanged(cls):
    # Distinct objects, so that a swapped or copied assignment is caught.
    sentinels = {name: object() for name in init_parameters(cls)}
    estimator = cls(**sentinels)
    assert all(getattr(estimator, name) is value for name, value in sentinels.items())
    assert set(vars(estimator)) == set(sentinels)


@pytest.mark.parametrize("cls", ESTIMATORS[:-1], ids=lambda c: c.__name__)
def test_clone_keeps_every_parameter(cls):
    params = {"max_epochs": 7, "random_state": 3, "verbose": 1, "class_weight": "balanced"}
    estimator = cls(**params)
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params()
    assert {k: copy.get_params()[k] for k in params} == params


def test_the_entry_takes_the_default_and_the_class_notes_follow_it():
    def init(self, *, lr=1e-2, verbose=0):
        pass

    doc = "Intro.\n\n    Parameters\n    ----------\n    {lr}\n        Only here.\n    {verbose}\n"
    out = expand_shared_parameters(doc, init)
    assert "    lr : float, default=1e-2\n        AdamW learning rate" in out
    assert re.search(r"\.\n        Only here\.\n    verbose : int, default=0\n", out)


def test_shared_parameters_placeholder_skips_the_placed_ones():
    def init(self, *, max_epochs=3, lr=1e-3, device="cpu"):
        pass

    doc = "    {lr}\n        Note.\n    {shared_parameters}\n"
    out = expand_shared_parameters(doc, init)
    assert re.findall(r"^    (\w+) :", out, flags=re.MULTILINE) == ["lr", "max_epochs", "device"]


def test_a_placeholder_of_a_missing_parameter_is_refused():
    def init(self, *, lr=1e-3):
        pass

    with pytest.raises(ValueError, match="batch_size"):
        expand_shared_parameters("    {batch_size}\n", init)


def test_wrapping_never_breaks_a_literal():
    entries = [expand_shared_parameters(f"    {{{name}}}\n", TorchClassifierBase.__init__)
               for name in SHARED_PARAMETERS]
    for entry in entries:
        header, *description = entry.splitlines()  # a numpydoc header stays one line
        for line in description:
            assert line.count("``") % 2 == 0, line
            assert len(line) <= 79, line


def test_gnn_trains_with_the_shared_schedule_and_threads():
    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    X = rng.normal(size=(60, 3)) + y[:, None]
    gnn = GNNClassifier(max_epochs=4, lr=1e-3, max_lr=1e-2, n_threads=1, random_state=0)
    net = gnn.fit(X, y).net_
    assert dict(net.callbacks_)["lr_schedule"].lr_scheduler_.total_steps == 4
    # Full batch: one training step per epoch.
    assert [len(epoch["batches"]) for epoch in net.history] == [2] * 4  # train + valid
