"""Which of this package's types a saved QCLMixClassifier holds, for skops' trust list."""

__all__ = ["skops_trusted_types"]


def skops_trusted_types():
    """The types of this package that a fitted :class:`QCLMixClassifier` may hold.

    skops (``skops.io.load``) refuses to load types it does not know unless they are listed in
    ``trusted``; scikit-learn's, NumPy's and torch's own types it already knows. A classifier
    fitted on a DataFrame with categorical columns also holds its encoder
    (``feature_encoder_``), and one with a pytorch-metric-learning ``metric_loss`` or ``miner``
    object holds it as plain data (``_plain_modules``): all of these are listed. The pml
    classes themselves are the user's choice and not included (``skops.io.get_untrusted_types``
    names them).

    Returns
    -------
    trusted : list of str
        Fully qualified type names, e.g. for
        ``skops.io.load(path, trusted=skops_trusted_types())``.
    """
    from ._classifier import QCLMixClassifier
    from ._plain_modules import OwnMethod, PlainTensor
    from ._tabular_encoding import TabularEncoder

    kinds = (QCLMixClassifier, TabularEncoder, PlainTensor, OwnMethod)
    return [f"{kind.__module__}.{kind.__qualname__}" for kind in kinds]
