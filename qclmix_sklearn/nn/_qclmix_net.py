"""The QCL-MixNet network (paper §3.2, SPEC §1)."""

import numpy as np
from torch import nn

from ._batch_norm import BatchNorm1d
from ._feature_attention import FeatureSelfAttention
from ._feature_mask import FeatureMask
from ._linear import Linear
from ._members import forward_members
from ._periodic_embedding import PeriodicEmbedding
from ._quantum_entanglement import QuantumEntanglement


def _dense_block(n_in, n_out):
    return nn.Sequential(Linear(n_in, n_out), BatchNorm1d(n_out), nn.LeakyReLU())


class QCLMixNet(nn.Module):
    """Encoder, classifier head and projection head, in one forward pass.

    ``QE(D) -> attention -> FC(D, 64)+BN+LeakyReLU -> QE(64) ->
    FC(64, 32)+BN+LeakyReLU`` is the representation ``h'``; ``FC(32, C)`` gives
    the logits and ``Linear(32, 16)+BN+ReLU+Linear(16, 8)`` the embedding used
    only by the metric losses. A numerical embedding (not the paper's) sits
    between the attention and the first dense block, which then takes its
    ``D * k`` values: the QE layer and the attention still work on the D
    features.

    Parameters
    ----------
    n_features : int
        Input width D.
    n_classes : int
        Number of classes C.
    hidden_sizes : tuple of int, default=(64, 32)
        Widths of the two dense blocks.
    projection_sizes : tuple of int, default=(16, 8)
        Hidden and output widths of the projection head.
    use_entanglement : bool, default=True
        Include the two QE layers (off = the paper's "No Quantum" ablation).
    use_attention : bool, default=True
        Include the attention recalibration (off = "No Attention").
    numerical_embedding : {None, 'periodic'}, default=None
        ``'periodic'``: a :class:`PeriodicEmbedding` of every feature (RealMLP's
        PBLD) after the attention; ``None`` (paper): none.
    numerical_embedding_size : int, default=4
        Values per feature k of the numerical embedding.
    feature_mask : bool, default=False
        Start with a :class:`FeatureMask` (all ones until :meth:`select_features`
        sets it); False (paper): the layers take every column.
    """

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_sizes=(64, 32),
        projection_sizes=(16, 8),
        use_entanglement=True,
        use_attention=True,
        numerical_embedding=None,
        numerical_embedding_size=4,
        feature_mask=False,
    ):
        super().__init__()
        self.n_features = n_features
        wide, narrow = hidden_sizes
        projection_hidden, embedding_dim = projection_sizes

        def entangle(dim):
            return QuantumEntanglement(dim) if use_entanglement else nn.Identity()

        # Only when asked, as the embedding below: the paper's layer names stay.
        layers = [FeatureMask(n_features)] if feature_mask else []
        layers += [
            entangle(n_features),
            FeatureSelfAttention(n_features) if use_attention else nn.Identity(),
        ]
        n_inputs = n_features
        if numerical_embedding == "periodic":
            # Only when asked: without it the layers (their state_dict names
            # and initial weights) stay those of the paper's network.
            layers.append(PeriodicEmbedding(n_features, numerical_embedding_size))
            n_inputs = n_features * numerical_embedding_size
        elif numerical_embedding is not None:
            raise ValueError(
                f"numerical_embedding must be None or 'periodic'; got {numerical_embedding!r}.")
        self.encoder = nn.Sequential(
            *layers,
            _dense_block(n_inputs, wide),
            entangle(wide),
            _dense_block(wide, narrow),
        )
        self.classifier = Linear(narrow, n_classes)
        self.projection = nn.Sequential(
            Linear(narrow, projection_hidden),
            BatchNorm1d(projection_hidden),
            nn.ReLU(),
            Linear(projection_hidden, embedding_dim),
        )

    def forward(self, x):
        representation = self.encoder(x)
        return self.classifier(representation), self.projection(representation)

    def select_features(self, selected):
        """Zero the input columns where ``selected`` is false (needs ``feature_mask=True``)."""
        first = self.encoder[0]
        if not isinstance(first, FeatureMask):
            raise TypeError("select_features needs a network built with feature_mask=True.")
        first.select(selected)

    def selected_features(self):
        """The columns the network reads (bool, shape (D,)): all without a mask."""
        first = self.encoder[0]
        if isinstance(first, FeatureMask):
            return first.mask.cpu().numpy() > 0
        return np.ones(self.n_features, dtype=bool)

    def logits(self, x):
        """The class logits alone: prediction skips the projection head."""
        return self.classifier(self.encoder(x))

    def forward_members(self, x, tensors, prefix=""):
        """``forward`` of k stacked members (see :mod:`~qclmix_sklearn.nn._members`)."""
        representation = forward_members(self.encoder, x, tensors, prefix + "encoder.")
        return (self.classifier.forward_members(representation, tensors, prefix + "classifier."),
                forward_members(self.projection, representation, tensors, prefix + "projection."))

    def logit_layers(self):
        """The layers ``logits`` applies, in order, ``nn.Identity`` left out (folding reads them)."""
        return _flatten(self.encoder) + [self.classifier]


def _flatten(module):
    if type(module) is nn.Sequential:
        return [layer for child in module for layer in _flatten(child)]
    return [] if type(module) is nn.Identity else [module]
