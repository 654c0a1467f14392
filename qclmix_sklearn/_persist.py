"""Which of this package's types a saved QCLMixClassifier holds, for skops' trust list."""

__all__ = ["skops_trusted_types"]


def skops_trusted_types():
    """The types of this package that a fitted :class:`QCLMixClassifier` may hold.

    skops (``skops.io.load``) refuses to load types it does not know unless they are listed in
    ``trusted``; scikit-learn's, NumPy's and torch's own types it already knows. A classifier
    fitted on a DataFrame with categorical columns also holds its encoder
    (``feature_encoder_``), so both are listed. A pytorch-metric-learning ``metric_loss`` or
    ``miner`` passed as an object is the user's type and is not included.

    Returns
    -------
    trusted : list of str
        Fully qualified type names, e.g. for
        ``skops.io.load(path, trusted=skops_trusted_types())``.
    """
    from ._classifier import QCLMixClassifier
    from ._tabular_encoding import TabularEncoder

    return [f"{kind.__module__}.{kind.__qualname__}" for kind in (QCLMixClassifier, TabularEncoder)]
