"""Focal Variance Loss (paper §3.2.3): focal CE plus learnable class centroids."""

import torch
from torch import nn
from torch.nn import functional as F


class FocalVarianceLoss(nn.Module):
    """``mean[(1 - p_t)^gamma * CE + beta * ||e - c_y||^2] - log sigmoid(mean_{j!=k} ||c_j - c_k||)``.

    The centroids ``c`` are parameters of the loss, trained with the network.
    The separation term runs over the classes present in the batch and is
    zero when fewer than two are.

    Parameters
    ----------
    n_classes : int
        Number of classes (rows of the centroid matrix).
    embedding_dim : int, default=8
        Width of the embedding the centroids live in.
    gamma : float, default=3.0
        Focusing exponent of the focal term.
    beta : float, default=0.8
        Weight of the intra-class compactness term.
    """

    def __init__(self, n_classes, embedding_dim=8, gamma=3.0, beta=0.8):
        super().__init__()
        self.gamma = gamma
        self.beta = beta
        self.centroids = nn.Parameter(torch.randn(n_classes, embedding_dim))

    def forward(self, logits, embedding, target):
        # Focal term in log space: no log(0) and no NaN gradient as p_t -> 1.
        log_pt = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        focal = (-torch.expm1(log_pt)).clamp_min(0).pow(self.gamma) * -log_pt
        compactness = (embedding - self.centroids[target]).pow(2).sum(dim=1)
        return (focal + self.beta * compactness).mean() + self._separation(target)

    def _separation(self, target):
        # Over the ordered pairs of present classes, from masks rather than
        # torch.unique: no data-dependent shapes, so no device sync per batch.
        present = torch.zeros(len(self.centroids), dtype=torch.bool, device=target.device)
        present[target] = True
        pairs = present[:, None] & present[None, :]
        pairs.fill_diagonal_(False)
        n_pairs = pairs.sum()
        distances = torch.cdist(self.centroids, self.centroids)
        mean_distance = (distances * pairs).sum() / n_pairs.clamp_min(1)
        # softplus(-m) == -log(sigmoid(m)), stably; zero below two classes.
        return torch.where(n_pairs > 0, F.softplus(-mean_distance), 0.0)
