"""Graph neural network baselines on kNN graphs of the samples, inductively.

The paper builds one k=5 nearest-neighbour graph over all samples, test
samples included, and trains transductively. Here the graph is built over
the training samples only; validation samples (for the choice of the best
epoch) and, at prediction, new samples are attached to their nearest
training samples by edges pointing *to* them. A new sample's prediction thus
depends on the training data and on its own features, never on other test
rows or on any test label.
"""

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import f1_score
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._device import DeviceOptions
from .._torch_base import (
    _PREDICT_CHUNK,
    resolve_device,
    validate_prediction_data,
    validate_training_data,
)
from .._validation_split import validation_split
from ..losses import WeightedCrossEntropyLoss
from ._graph import attach_edges, knn_graph

_INSTALL_HINT = (
    "The GNN baselines need torch-geometric, which is not installed; "
    "install the gnn extra: pip install 'qclmix-sklearn[gnn]'"
)


def _torch_geometric_models():
    try:
        from torch_geometric.nn import models
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return models


def _build_gnn(conv, n_features, hidden, n_layers, n_classes, dropout):
    models = _torch_geometric_models()
    common = dict(
        in_channels=n_features,
        hidden_channels=hidden,
        num_layers=n_layers,
        out_channels=n_classes,
        dropout=dropout,
    )
    if conv == "gcn":
        return models.GCN(**common)
    if conv == "sage":
        return models.GraphSAGE(**common)
    if conv == "gat":
        return models.GAT(**common, heads=4)
    if conv == "gin":
        return models.GIN(**common)
    # JKNet: GCN layers whose outputs are all concatenated before the head.
    return models.GCN(**common, jk="cat")


class GNNClassifier(ClassifierMixin, BaseEstimator):
    """Graph neural network on the k-nearest-neighbour graph of the samples.

    Training builds a symmetric kNN graph over the training samples and
    trains the network full-batch (the graph is one batch). A stratified
    validation part of the training data is attached to the graph the way
    test samples will be and selects the epoch with the best macro-F1.
    Prediction attaches each new sample to its ``n_neighbors`` nearest
    training samples with edges training -> new only. Inputs should be
    standardised, as the kNN graph uses Euclidean distances.

    Requires torch-geometric (``pip install 'qclmix-sklearn[gnn]'``).

    Parameters
    ----------
    conv : {"gcn", "sage", "gat", "gin", "jknet"}, default="gcn"
        Graph layer: GCN, GraphSAGE (mean), GAT (4 heads), GIN, or JKNet
        (GCN layers with jumping-knowledge concatenation).

    n_neighbors : int, default=5
        Neighbours per sample in the kNN graph.

    hidden_layer_size : int, default=64
        Width of the hidden graph layers.

    n_layers : int, default=2
        Number of graph layers (the paper uses 3 for JKNet).

    dropout : float, default=0.5
        Dropout between graph layers.

    lr : float, default=1e-2
        AdamW learning rate.

    weight_decay : float, default=5e-4
        AdamW weight decay.

    max_epochs : int, default=100
        Full-batch training epochs.

    validation_fraction : float or None, default=0.2
        Share of the training data held out to select the best epoch by
        macro-F1; ``None`` keeps the last epoch and uses all samples in the
        graph.

    n_iter_no_change : int or None, default=None
        Stop when the validation macro-F1 has not improved for this many
        epochs; ``None`` trains all ``max_epochs``.

    class_weight : {"balanced"}, dict or None, default=None
        Weights of the classes in the cross-entropy, multiplied into
        ``sample_weight``: ``"balanced"`` uses inverse class frequencies, a
        dict maps labels to weights (missing labels weigh 1).

    categorical_features : 'from_dtype', array-like or None, default='from_dtype'
        Categorical columns, one-hot encoded in ``fit``; numeric columns with
        missing values are median-filled plus an indicator (as for
        :class:`~qclmix_sklearn.QCLMixClassifier`).

    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, weight initialisation and dropout; the
        global torch generator is left untouched.

    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.

    verbose : int, default=0
        Print the loss and validation macro-F1 of every epoch when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    module_ : torch.nn.Module
        The trained network, weights of the best validation epoch.

    X_graph_ : ndarray of shape (n_graph_nodes, n_features_in_)
        Features of the training samples forming the reference graph.

    edge_index_ : ndarray of shape (2, n_edges)
        Edges of the reference graph.

    best_epoch_ : int
        1-based epoch whose weights were kept.

    n_iter_ : int
        Number of epochs run.
    """

    _parameter_constraints: dict = {
        "conv": [StrOptions({"gcn", "sage", "gat", "gin", "jknet"})],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "random_state": ["random_state"],
        "device": [DeviceOptions()],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        conv="gcn",
        *,
        n_neighbors=5,
        hidden_layer_size=64,
        n_layers=2,
        dropout=0.5,
        lr=1e-2,
        weight_decay=5e-4,
        max_epochs=100,
        validation_fraction=0.2,
        n_iter_no_change=None,
        class_weight=None,
        categorical_features="from_dtype",
        random_state=None,
        device="cpu",
        verbose=0,
    ):
        self.conv = conv
        self.n_neighbors = n_neighbors
        self.hidden_layer_size = hidden_layer_size
        self.n_layers = n_layers
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.categorical_features = categorical_features
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Build the training graph and train the network on it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data; dense, no infinity, preferably standardised.

        y : array-like of shape (n_samples,)
            Class labels of any type.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative node weights (times ``class_weight``): the
            cross-entropy becomes their weighted mean and the epoch is chosen
            by the weighted validation macro-F1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        _torch_geometric_models()  # fail early and clearly without the extra
        X, y_encoded, weights = validate_training_data(self, X, y, sample_weight)
        device = torch.device(resolve_device(self.device))
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        fit_idx, valid_idx = validation_split(y_encoded, self.validation_fraction, seed)

        self.X_graph_ = X[fit_idx]
        self.edge_index_ = knn_graph(self.X_graph_, self.n_neighbors)
        self._neighbors = NearestNeighbors().fit(self.X_graph_)

        fit_weight = valid_weight = None
        if weights is not None:
            fit_weight = torch.as_tensor(weights[fit_idx], dtype=torch.float32, device=device)
            valid_weight = None if valid_idx is None else weights[valid_idx]

        devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            self.module_ = _build_gnn(
                self.conv,
                X.shape[1],
                self.hidden_layer_size,
                self.n_layers,
                len(self.classes_),
                self.dropout,
            ).to(device)
            self._train(
                torch.from_numpy(y_encoded[fit_idx]).to(device),
                None if valid_idx is None else X[valid_idx],
                None if valid_idx is None else y_encoded[valid_idx],
                fit_weight,
                valid_weight,
                device,
            )
        return self

    def _train(self, y_fit, X_valid, y_valid, fit_weight, valid_weight, device):
        module = self.module_
        x_fit = torch.from_numpy(self.X_graph_).to(device)
        edges_fit = torch.from_numpy(self.edge_index_).to(device)
        optimizer = torch.optim.AdamW(
            module.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        loss_fn = WeightedCrossEntropyLoss()
        best_score, best_state, since_best = -np.inf, None, 0
        self.best_epoch_ = self.max_epochs
        for epoch in range(1, self.max_epochs + 1):
            module.train()
            optimizer.zero_grad()
            loss = loss_fn(module(x_fit, edges_fit), y_fit, fit_weight)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"The training loss became non-finite ({loss.item()}) in epoch "
                    f"{epoch}; lower lr or check the input scale."
                )
            loss.backward()
            optimizer.step()
            self.n_iter_ = epoch
            if X_valid is None:
                if self.verbose:
                    print(f"epoch {epoch:4d}  loss {loss.item():.4f}")
                continue
            score = f1_score(
                y_valid, self._logits(X_valid).argmax(1).numpy(), average="macro",
                sample_weight=valid_weight,
            )
            if self.verbose:
                print(f"epoch {epoch:4d}  loss {loss.item():.4f}  valid_f1 {score:.4f}")
            if score > best_score:
                best_score, since_best, self.best_epoch_ = score, 0, epoch
                best_state = copy.deepcopy(module.state_dict())
            else:
                since_best += 1
                if self.n_iter_no_change is not None and since_best >= self.n_iter_no_change:
                    break
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()

    def _logits(self, X):
        """Logits of new samples attached to the reference graph, on the host."""
        module = self.module_
        module.eval()
        device = next(module.parameters()).device
        x_ref = torch.from_numpy(self.X_graph_)
        n_ref = x_ref.shape[0]
        edges_ref = torch.from_numpy(self.edge_index_)
        chunks = []
        with torch.inference_mode():
            # Chunks give identical results: new samples never see each other.
            for start in range(0, X.shape[0], _PREDICT_CHUNK):
                X_new = X[start:start + _PREDICT_CHUNK]
                edges_new = torch.from_numpy(
                    attach_edges(self._neighbors, X_new, self.n_neighbors, n_ref)
                )
                x = torch.cat([x_ref, torch.from_numpy(X_new)]).to(device)
                edges = torch.cat([edges_ref, edges_new], dim=1).to(device)
                chunks.append(module(x, edges)[n_ref:].cpu())
        return torch.cat(chunks) if chunks else torch.empty(0, len(self.classes_))

    def predict_proba(self, X):
        """Class probabilities of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, attached to the training graph one by one.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        check_is_fitted(self)
        X = validate_prediction_data(self, X)
        logits = self._logits(X).double()
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, X):
        """Predicted class labels of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, attached to the training graph one by one.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Missing values are filled (plus an indicator) inside fit.
        tags.input_tags.allow_nan = True
        return tags


def _gnn_baseline(conv, n_layers, random_state):
    _torch_geometric_models()  # the gnn extra is missing: say so now
    estimator = GNNClassifier(conv, n_layers=n_layers, random_state=random_state)
    grid = {"dropout": [0.0, 0.5], "class_weight": [None, "balanced"]}
    return estimator, grid


def gcn(random_state=None):
    return _gnn_baseline("gcn", 2, random_state)


def graphsage(random_state=None):
    return _gnn_baseline("sage", 2, random_state)


def gat(random_state=None):
    return _gnn_baseline("gat", 2, random_state)


def gin(random_state=None):
    return _gnn_baseline("gin", 2, random_state)


def jknet(random_state=None):
    return _gnn_baseline("jknet", 3, random_state)
