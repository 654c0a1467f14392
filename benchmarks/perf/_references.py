"""The two yardsticks QCLMixClassifier is timed against.

* ``plain_mlp``: a skorch ``NeuralNetClassifier`` with the same dense widths
  (D -> 64 -> 32 -> C, BatchNorm + LeakyReLU), cross-entropy, AdamW and
  skorch's default per-sample ``Dataset``/``DataLoader`` path.
* ``algorithm1_fit``: the paper's Algorithm 1 followed literally, as a
  straightforward PyTorch loop would: per batch kNN mixup, the network called
  twice (once for the logits, once for the embedding) with the attention
  through ``nn.MultiheadAttention`` itself, the hybrid loss with
  pytorch-metric-learning's SupCon, MultiSimilarityMiner and
  TripletMarginLoss and a direct focal-variance loss, backward, AdamW (torch
  defaults) + OneCycleLR; per epoch the validation macro-F1 and a copy of
  the best weights. None of the package's fast paths is used.
"""

import copy
import math

import numpy as np
import torch
from pytorch_metric_learning.losses import SupConLoss, TripletMarginLoss
from pytorch_metric_learning.miners import MultiSimilarityMiner
from sklearn.metrics import f1_score
from skorch import NeuralNetClassifier
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from qclmix_sklearn.nn import FeatureSelfAttention, QCLMixNet


def mlp_module(n_features, n_classes):
    return nn.Sequential(
        nn.Linear(n_features, 64), nn.BatchNorm1d(64), nn.LeakyReLU(),
        nn.Linear(64, 32), nn.BatchNorm1d(32), nn.LeakyReLU(),
        nn.Linear(32, n_classes),
    )


def plain_mlp(n_features, n_classes, max_epochs, batch_size=64, seed=0):
    torch.manual_seed(seed)
    return NeuralNetClassifier(
        mlp_module(n_features, n_classes),
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train__shuffle=True,
        train_split=None,
        verbose=0,
    )


def literal_network(n_features, n_classes):
    """QCL-MixNet with its attention run through nn.MultiheadAttention's forward."""
    net = QCLMixNet(n_features, n_classes)
    for layer in net.modules():
        if isinstance(layer, FeatureSelfAttention):
            layer.forward = layer.generic_forward
    return net


class LiteralFocalVariance(nn.Module):
    """Algorithm 1's FocalVarianceLoss as a direct implementation writes it."""

    def __init__(self, n_classes, embedding_dim=8, gamma=3.0, beta=0.8):
        super().__init__()
        self.gamma, self.beta = gamma, beta
        self.centroids = nn.Parameter(torch.randn(n_classes, embedding_dim))

    def forward(self, logits, embedding, target):
        ce = nn.functional.cross_entropy(logits, target, reduction="none")
        focal = (1 - torch.exp(-ce)) ** self.gamma * ce
        variance = ((embedding - self.centroids[target]) ** 2).sum(dim=1)
        present = torch.unique(target)
        separation = 0.0
        if len(present) > 1:
            separation = -torch.log(torch.sigmoid(torch.pdist(self.centroids[present]).mean()))
        return (focal + self.beta * variance).mean() + separation


def _literal_mixup(x, k, alpha, rng):
    """Algorithm 1, SampleAwareMixup: neighbours in the batch, Beta weight."""
    distances = torch.cdist(x, x)
    distances.fill_diagonal_(float("inf"))
    k = min(k, len(x) - 1)
    neighbours = distances.topk(k, largest=False).indices
    partner = neighbours[torch.arange(len(x)), torch.from_numpy(rng.integers(k, size=len(x)))]
    lam = rng.beta(alpha, alpha, size=len(x))
    lam = torch.from_numpy(np.maximum(lam, 1 - lam)).float()[:, None]
    return lam * x + (1 - lam) * x[partner]


def algorithm1_fit(X_fit, y_fit, X_valid, y_valid, n_classes, max_epochs,
                   batch_size=64, seed=0):
    """Train QCL-MixNet as Algorithm 1 reads; returns the best-F1 weights."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = literal_network(X_fit.shape[1], n_classes)
    fvl = LiteralFocalVariance(n_classes, 8)
    supcon, triplet = SupConLoss(temperature=0.2), TripletMarginLoss(margin=0.5)
    miner = MultiSimilarityMiner()
    params = list(net.parameters()) + list(fvl.parameters())
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-5)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(X_fit), torch.from_numpy(y_fit)),
        batch_size=batch_size, shuffle=True, drop_last=len(X_fit) % batch_size == 1,
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=1e-2, total_steps=max_epochs * len(loader)
    )
    X_valid_t = torch.from_numpy(X_valid)
    best_f1, best_state = -1.0, None
    for _ in range(max_epochs):
        net.train()
        for x, y in loader:
            x_mix = _literal_mixup(x, 5, 0.2, rng)
            logits = net(x_mix)[0]       # QI_NN(x_mix)
            embedding = net(x_mix)[1]    # QI_NN(x_mix, return_embedding=True)
            loss = 0.5 * fvl(logits, embedding, y) + 0.5 * (
                supcon(embedding, y) + triplet(embedding, y, miner(embedding, y))
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        net.eval()
        with torch.no_grad():
            predicted = net(X_valid_t)[0].argmax(dim=1).numpy()
        f1 = f1_score(y_valid, predicted, average="macro")
        if f1 > best_f1:
            best_f1, best_state = f1, copy.deepcopy(net.state_dict())
    net.load_state_dict(best_state)
    return net


def n_batches(n_rows, batch_size=64):
    return math.ceil(n_rows / batch_size)
