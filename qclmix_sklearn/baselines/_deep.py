"""The 7 deep-learning baselines: 4 networks on the shared torch estimator base.

Every estimator here inherits fit / predict / predict_proba, the internal
validation split, best-epoch checkpointing by validation macro-F1, AdamW with
OneCycleLR and early stopping from :class:`TorchClassifierBase`, exactly as
QCLMixClassifier does; each only declares its architecture. The registry maps
the 7 names to configured instances of the 4 classes.
"""

import math
from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._torch_baseline import TorchBaseline


def _check_positive_ints(name, values):
    values = tuple(values)
    if not values or not all(isinstance(v, Integral) and v > 0 for v in values):
        raise ValueError(f"{name} must be a non-empty sequence of positive ints, got {values!r}.")
    return values


# -- networks ----------------------------------------------------------------
class _MLP(nn.Module):
    def __init__(self, n_features, n_classes, hidden_layer_sizes, dropout):
        super().__init__()
        layers, width = [], n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.BatchNorm1d(size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)


class _ResidualBlock(nn.Module):
    def __init__(self, width, dropout):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(width, width),
            nn.BatchNorm1d(width),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(width, width),
            nn.BatchNorm1d(width),
        )

    def forward(self, X):
        return torch.relu(X + self.body(X))


class _ResNet(nn.Module):
    def __init__(self, n_features, n_classes, width, n_blocks, dropout):
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(n_features, width), nn.BatchNorm1d(width), nn.ReLU())
        self.blocks = nn.Sequential(*[_ResidualBlock(width, dropout) for _ in range(n_blocks)])
        self.head = nn.Linear(width, n_classes)

    def forward(self, X):
        return self.head(self.blocks(self.stem(X)))


class _RNN(nn.Module):
    """Reads the features one by one as a sequence of scalars."""

    def __init__(self, n_classes, cell, hidden, bidirectional, dropout):
        super().__init__()
        rnn_class = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn_class(1, hidden, batch_first=True, bidirectional=bidirectional)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), n_classes)

    def forward(self, X):
        _, state = self.rnn(X.unsqueeze(-1))
        hidden = state[0] if isinstance(state, tuple) else state  # LSTM: (h, c)
        # Last hidden state of each direction (forward, then backward).
        summary = torch.cat(list(hidden), dim=1)
        return self.head(self.dropout(summary))


class _CNN1D(nn.Module):
    """Convolutions along the feature axis, features seen as a 1-channel signal."""

    def __init__(self, n_features, n_classes, filters, kernel_size, dropout):
        super().__init__()
        layers, channels, length = [], 1, n_features
        for n_filters in filters:
            layers += [
                nn.Conv1d(channels, n_filters, kernel_size, padding=kernel_size // 2),
                nn.BatchNorm1d(n_filters),
                nn.ReLU(),
            ]
            length = length + 2 * (kernel_size // 2) - kernel_size + 1
            if length >= 2:  # halve the length while there is something to pool
                layers.append(nn.MaxPool1d(2, ceil_mode=True))
                length = math.ceil(length / 2)
            channels = n_filters
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(channels * length, n_classes)

    def forward(self, X):
        out = self.features(X.unsqueeze(1))
        return self.head(self.dropout(out.flatten(1)))


# -- estimators --------------------------------------------------------------
class TorchMLPClassifier(TorchBaseline):
    """Multi-layer perceptron with BatchNorm (the paper's MLP baseline).

    Each hidden layer is ``Linear -> BatchNorm1d -> ReLU -> Dropout``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the hidden layers.

    dropout : float, default=0.2
        Dropout after each hidden layer.

    {shared_parameters}

    Attributes
    ----------
    {fitted_attributes}
    """

    _parameter_constraints: dict = {
        **TorchBaseline._parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(128, 64),
        *,
        dropout=0.2,
        max_epochs=100,
        batch_size=64,
        lr=4e-4,
        weight_decay=1e-5,
        max_lr=1e-2,
        class_weight=None,
        categorical_features="from_dtype",
        validation_fraction=0.2,
        n_iter_no_change=None,
        random_state=None,
        device="cpu",
        n_threads=1,
        verbose=0,
    ):
        self._store_params(locals())

    def _build_module(self, n_features, n_classes):
        sizes = _check_positive_ints("hidden_layer_sizes", self.hidden_layer_sizes)
        return _MLP(n_features, n_classes, sizes, self.dropout)


class ResNetClassifier(TorchBaseline):
    """Residual MLP (the paper's ResNet baseline).

    ``Linear -> BatchNorm1d -> ReLU`` stem, then ``n_blocks`` residual blocks
    ``x + (Linear -> BatchNorm1d -> ReLU -> Dropout -> Linear -> BatchNorm1d)(x)``
    each followed by ReLU, then a linear head.

    Parameters
    ----------
    hidden_layer_size : int, default=128
        Width of the stem and the blocks.

    n_blocks : int, default=3
        Number of residual blocks.

    dropout : float, default=0.2
        Dropout inside each block.

    {shared_parameters}

    Attributes
    ----------
    {fitted_attributes}
    """

    _parameter_constraints: dict = {
        **TorchBaseline._parameter_constraints,
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_size=128,
        *,
        n_blocks=3,
        dropout=0.2,
        max_epochs=100,
        batch_size=64,
        lr=4e-4,
        weight_decay=1e-5,
        max_lr=1e-2,
        class_weight=None,
        categorical_features="from_dtype",
        validation_fraction=0.2,
        n_iter_no_change=None,
        random_state=None,
        device="cpu",
        n_threads=1,
        verbose=0,
    ):
        self._store_params(locals())

    def _build_module(self, n_features, n_classes):
        return _ResNet(n_features, n_classes, self.hidden_layer_size, self.n_blocks, self.dropout)


class RNNClassifier(TorchBaseline):
    """GRU or LSTM reading the features as a sequence (GRU/LSTM/BiGRU/BiLSTM).

    Sample ``x`` of ``n_features`` values becomes a sequence of
    ``n_features`` steps of one scalar each; the last hidden state of each
    direction feeds a linear head. Tabular features have no natural order,
    so this is the paper's design, not a recommendation; its cost grows with
    ``n_features`` (sequence length).

    Parameters
    ----------
    cell : {"gru", "lstm"}, default="gru"
        Recurrent cell.

    hidden_layer_size : int, default=128
        Hidden units per direction.

    bidirectional : bool, default=False
        Read the sequence both ways and concatenate the two final states.

    dropout : float, default=0.2
        Dropout before the head.

    {shared_parameters}

    Attributes
    ----------
    {fitted_attributes}
    """

    _parameter_constraints: dict = {
        **TorchBaseline._parameter_constraints,
        "cell": [StrOptions({"gru", "lstm"})],
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        cell="gru",
        *,
        hidden_layer_size=128,
        bidirectional=False,
        dropout=0.2,
        max_epochs=100,
        batch_size=64,
        lr=4e-4,
        weight_decay=1e-5,
        max_lr=1e-2,
        class_weight=None,
        categorical_features="from_dtype",
        validation_fraction=0.2,
        n_iter_no_change=None,
        random_state=None,
        device="cpu",
        n_threads=1,
        verbose=0,
    ):
        self._store_params(locals())

    def _build_module(self, n_features, n_classes):
        return _RNN(n_classes, self.cell, self.hidden_layer_size, self.bidirectional, self.dropout)


class CNN1DClassifier(TorchBaseline):
    """Two 1-D convolutions over the feature axis (the paper's CNN baseline).

    Each convolution (``same`` padding) is followed by BatchNorm1d, ReLU and a
    max-pooling halving the length; the flattened maps feed a linear head.

    Parameters
    ----------
    filters : tuple of int, default=(32, 64)
        Number of filters of each convolution.

    kernel_size : int, default=3
        Width of the convolution kernels.

    dropout : float, default=0.2
        Dropout before the head.

    {shared_parameters}

    Attributes
    ----------
    {fitted_attributes}
    """

    _parameter_constraints: dict = {
        **TorchBaseline._parameter_constraints,
        "filters": ["array-like"],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        filters=(32, 64),
        *,
        kernel_size=3,
        dropout=0.2,
        max_epochs=100,
        batch_size=64,
        lr=4e-4,
        weight_decay=1e-5,
        max_lr=1e-2,
        class_weight=None,
        categorical_features="from_dtype",
        validation_fraction=0.2,
        n_iter_no_change=None,
        random_state=None,
        device="cpu",
        n_threads=1,
        verbose=0,
    ):
        self._store_params(locals())

    def _build_module(self, n_features, n_classes):
        filters = _check_positive_ints("filters", self.filters)
        return _CNN1D(n_features, n_classes, filters, self.kernel_size, self.dropout)


# -- registry builders ---------------------------------------------------------
# Grids tune the peak learning rate and the dropout (4 fits each); the
# recurrent models only the learning rate (2 fits), as each of their epochs
# costs a sequential pass over all features.
_GRID = {"max_lr": [1e-2, 3e-3], "dropout": [0.0, 0.2]}
_RNN_GRID = {"max_lr": [1e-2, 3e-3]}


def mlp(random_state=None):
    return TorchMLPClassifier((128, 64), random_state=random_state), dict(_GRID)


def resnet(random_state=None):
    return ResNetClassifier(128, n_blocks=3, random_state=random_state), dict(_GRID)


def _rnn(cell, bidirectional, random_state):
    estimator = RNNClassifier(
        cell, hidden_layer_size=128, bidirectional=bidirectional, random_state=random_state
    )
    return estimator, dict(_RNN_GRID)


def gru(random_state=None):
    return _rnn("gru", False, random_state)


def lstm(random_state=None):
    return _rnn("lstm", False, random_state)


def bigru(random_state=None):
    return _rnn("gru", True, random_state)


def bilstm(random_state=None):
    return _rnn("lstm", True, random_state)


def cnn(random_state=None):
    return CNN1DClassifier((32, 64), kernel_size=3, random_state=random_state), dict(_GRID)
