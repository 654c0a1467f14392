"""k-nearest-neighbour graphs of samples, built with scikit-learn.

Edges follow torch-geometric's convention: ``edge_index[0]`` are the source
nodes, ``edge_index[1]`` the targets, and messages flow source -> target.
scikit-learn's NearestNeighbors is used instead of torch-cluster's knn_graph
because torch-cluster needs a compiled build matching the torch version.
"""

import numpy as np
from sklearn.neighbors import kneighbors_graph


def knn_graph(X, n_neighbors):
    """Symmetric kNN graph of the rows of X, without self-loops.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Node features.

    n_neighbors : int
        Neighbours per node before symmetrisation; capped at
        ``n_samples - 1``.

    Returns
    -------
    edge_index : ndarray of shape (2, n_edges), dtype=int64
        Each undirected edge appears in both directions, once.
    """
    k = min(n_neighbors, X.shape[0] - 1)
    if k < 1:
        return np.empty((2, 0), dtype=np.int64)
    adjacency = kneighbors_graph(X, k, mode="connectivity", include_self=False)
    adjacency = (adjacency + adjacency.T).tocoo()
    return np.vstack([adjacency.row, adjacency.col]).astype(np.int64)


def attach_edges(neighbors, X_new, n_neighbors, offset):
    """Edges from reference nodes to new nodes, never the other way.

    Each new node receives messages from its ``n_neighbors`` nearest
    reference nodes and sends none, so the output of a new node depends on
    the reference graph and on its own features only: not on the other new
    nodes, and not on any label.

    Parameters
    ----------
    neighbors : fitted :class:`~sklearn.neighbors.NearestNeighbors`
        Index of the reference nodes (node ids ``0..n_ref-1``).

    X_new : ndarray of shape (n_new, n_features)
        Features of the new nodes.

    n_neighbors : int
        Reference neighbours per new node; capped at the number of
        reference nodes.

    offset : int
        Node id of the first new node (usually ``n_ref``).

    Returns
    -------
    edge_index : ndarray of shape (2, n_new * n_neighbors), dtype=int64
    """
    k = min(n_neighbors, neighbors.n_samples_fit_)
    sources = neighbors.kneighbors(X_new, k, return_distance=False)
    targets = offset + np.repeat(np.arange(X_new.shape[0]), k)
    return np.vstack([sources.ravel(), targets]).astype(np.int64)
