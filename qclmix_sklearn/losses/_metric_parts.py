"""pytorch-metric-learning objects given as parameters, tried on a batch before training."""

import copy

import torch

__all__ = ["check_metric_parts"]


def _name(part):
    return f"{type(part).__name__}(...)"


def check_metric_parts(metric_loss, miner, n_classes, embedding_dim):
    """Refuse a ``metric_loss`` or ``miner`` object that cannot work on the training batches.

    Copies of them (the objects themselves are never called) are run on a
    small batch shaped like training's: ``embedding_dim``-d embeddings and
    every label ``0 .. n_classes - 1``, under a forked torch generator, so
    that a valid configuration trains exactly as without this check. A
    failure is reported as a ``ValueError`` naming the parameter and what it
    must fit (a loss with its own parameters, such as proxies, built for
    another embedding size or fewer classes), instead of torch's error from
    inside the first batch.

    Parameters
    ----------
    metric_loss : None, str or a pytorch-metric-learning loss
        Only a loss object is tried.
    miner : None or a pytorch-metric-learning miner
    n_classes : int
    embedding_dim : int
    """
    loss_object = metric_loss is not None and not isinstance(metric_loss, str)
    if miner is None and not loss_object:
        return
    n = max(16, 4 * n_classes)
    embedding = torch.randn(n, embedding_dim, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(n) % n_classes
    batch = (f"a batch of {embedding_dim}-d embeddings (QCLMixNet's) with labels "
             f"0..{n_classes - 1}")
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        pairs = None
        if miner is not None:
            try:
                pairs = copy.deepcopy(miner)(embedding, labels)
            except Exception as exc:
                raise ValueError(
                    f"miner={_name(miner)} fails on {batch}: {type(exc).__name__}: {exc}"
                ) from exc
        if loss_object:
            try:
                copy.deepcopy(metric_loss)(embedding, labels, pairs)
            except Exception as exc:
                raise ValueError(
                    f"metric_loss={_name(metric_loss)} fails on {batch}: "
                    f"{type(exc).__name__}: {exc}. A loss with its own parameters must be "
                    f"built for them, e.g. ProxyAnchorLoss(num_classes={n_classes}, "
                    f"embedding_size={embedding_dim})."
                ) from exc
