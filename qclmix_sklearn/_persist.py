"""Which types a saved QCLMixClassifier holds that skops does not trust by default."""

__all__ = ["skops_trusted_types"]


def skops_trusted_types():
    """The types a fitted :class:`QCLMixClassifier` may hold that skops does not trust by default.

    skops (``skops.io.load``) refuses to load types it does not know unless they are listed in
    ``trusted``; scikit-learn's, NumPy's and torch's own types it already knows, except NumPy's
    dtype objects. A classifier fitted on categorical columns or missing values holds its
    encoder (``feature_encoder_``), with the two functions of its ``FunctionTransformer`` steps
    and the dtype its ``SimpleImputer`` keeps (``numpy.dtype``: skops rebuilds it from an empty
    ``.npy`` array); one with a pytorch-metric-learning ``metric_loss`` or ``miner`` object holds
    it as plain data (``_plain_modules``): all of these are listed. The pml classes themselves
    are the user's choice and not included (``skops.io.get_untrusted_types`` names them).

    Returns
    -------
    trusted : list of str
        Fully qualified type names, e.g. for
        ``skops.io.load(path, trusted=skops_trusted_types())``.
    """
    from ._classifier import QCLMixClassifier
    from ._estimator._plain_modules import OwnMethod, PlainTensor
    from .preprocessing._tabular_encoding import TabularEncoder, as_labels, as_numbers

    ours = (QCLMixClassifier, TabularEncoder, as_numbers, as_labels, PlainTensor, OwnMethod)
    return [f"{thing.__module__}.{thing.__qualname__}" for thing in ours] + ["numpy.dtype"]
