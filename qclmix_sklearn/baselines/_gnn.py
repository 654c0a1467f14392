"""Graph neural network baselines on kNN graphs of the samples, inductively.

The paper builds one k=5 nearest-neighbour graph over all samples, test
samples included, and trains transductively. Here the graph is built over
the training samples only; validation samples (for the choice of the best
epoch) and, at prediction, new samples are attached to their nearest
training samples by edges pointing *to* them. A new sample's prediction thus
depends on the training data and on its own features, never on other test
rows or on any test label.

The estimator trains through :class:`~qclmix_sklearn._estimator._torch_base.TorchClassifierBase`
like every other torch model of the package: the graph network is wrapped
in a module (:class:`_InductiveGraphNet`) that holds the training graph, so
that a full-batch epoch is one skorch training step and validation and
prediction are ordinary forward passes over new rows.
"""

from numbers import Integral, Real

import torch
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._graph import attach_edges, knn_graph
from ._torch_baseline import TorchBaseline

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


class _InductiveGraphNet(nn.Module):
    """A graph network bound to its reference (training) graph.

    In training mode the batch is the reference graph's nodes, in order
    (full-batch training), and the network runs on the reference edges. In
    eval mode the batch is new rows: each is attached to its ``n_neighbors``
    nearest reference nodes by edges reference -> new only, and the outputs
    of the new nodes are returned. New rows never see each other, so any
    batching of them gives the same outputs.
    """

    def __init__(self, gnn, X_ref, edge_index, n_neighbors):
        super().__init__()
        self.gnn = gnn
        # Not persistent: the state dict holds the weights only; the graph is
        # the estimator's X_graph_ and edge_index_.
        self.register_buffer("x_ref", torch.from_numpy(X_ref), persistent=False)
        self.register_buffer("edges_ref", torch.from_numpy(edge_index), persistent=False)
        self.neighbors = NearestNeighbors().fit(X_ref)
        self.n_neighbors = n_neighbors

    def forward(self, X):
        n_ref = len(self.x_ref)
        if self.training:
            if len(X) != n_ref:
                raise RuntimeError(
                    f"training batch of {len(X)} rows, but the graph has {n_ref} nodes: "
                    "the graph network trains on the whole graph at once"
                )
            return self.gnn(X, self.edges_ref)
        new_edges = attach_edges(self.neighbors, X.cpu().numpy(), self.n_neighbors, n_ref)
        x = torch.cat([self.x_ref, X])
        edges = torch.cat([self.edges_ref, torch.from_numpy(new_edges).to(X.device)], dim=1)
        return self.gnn(x, edges)[n_ref:]


class GNNClassifier(TorchBaseline):
    """Graph neural network on the k-nearest-neighbour graph of the samples.

    Training builds a symmetric kNN graph over the training samples and
    trains the network full-batch (the graph is one batch). A stratified
    validation part of the training data is attached to the graph the way
    test samples will be and selects the epoch with the best macro-F1.
    Prediction attaches each new sample to its ``n_neighbors`` nearest
    training samples with edges training -> new only. Inputs should be
    standardised, as the kNN graph uses Euclidean distances. The training
    loop (seeding, AdamW, early stopping, best-epoch checkpoint, sample
    weights, device and threads) is that of every torch estimator here;
    ``net_.module_.gnn`` is the torch-geometric network.

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

    {lr}

    {weight_decay}

    {max_lr}
        Here a batch is the whole graph: one step per epoch.

    {max_epochs}
        An epoch is one full-batch step on the whole graph.

    {validation_fraction}
        The held-out rows are attached to the graph as new samples are; with
        ``None`` every training row is a node of the graph.

    {n_iter_no_change}

    {class_weight}

    {categorical_features}

    {random_state}

    {device}

    {n_threads}
        The default ``None`` keeps torch's setting, as this estimator did
        before it had the parameter.

    {verbose}

    Attributes
    ----------
    {fitted_attributes}

    X_graph_ : ndarray of shape (n_graph_nodes, n_encoded_features)
        Features of the training samples forming the reference graph (after
        the encoding of ``categorical_features``, if any).

    edge_index_ : ndarray of shape (2, n_edges)
        Edges of the reference graph.
    """

    _parameter_constraints: dict = {
        **{k: v for k, v in TorchBaseline._parameter_constraints.items()
           if k != "batch_size"},
        "conv": [StrOptions({"gcn", "sage", "gat", "gin", "jknet"})],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
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
        max_lr=None,
        max_epochs=100,
        validation_fraction=0.2,
        n_iter_no_change=None,
        class_weight=None,
        categorical_features="from_dtype",
        random_state=None,
        device="cpu",
        n_threads=None,
        verbose=0,
    ):
        self._store_params(locals())

    def fit(self, X, y, sample_weight=None):
        """Build the training graph and train the network on it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data; dense, no infinity, preferably standardised.
            Categorical columns (see ``categorical_features``) and missing
            values are encoded.

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
        return super().fit(X, y, sample_weight)

    def _train_net(self, data, fit_idx, valid_idx):
        # The module is bound to the graph of the fitting rows: build it first.
        self.X_graph_ = data.X[fit_idx]
        self.edge_index_ = knn_graph(self.X_graph_, self.n_neighbors)
        return super()._train_net(data, fit_idx, valid_idx)

    def _fit_batch_size(self, n_fit):
        return n_fit

    def _train_batch_params(self, y_fit):
        # The batch must be the graph's nodes in their order.
        return {"shuffle": False}

    def _build_module(self, n_features, n_classes):
        gnn = _build_gnn(self.conv, n_features, self.hidden_layer_size, self.n_layers,
                         n_classes, self.dropout)
        return _InductiveGraphNet(gnn, self.X_graph_, self.edge_index_, self.n_neighbors)


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
