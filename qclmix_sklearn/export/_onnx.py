"""ONNX export of a fitted QCLMixClassifier (or a pipeline ending in one).

onnx, onnxscript (torch's exporter) and skl2onnx are imported when used:
``pip install 'qclmix-sklearn[onnx]'``.
"""

import importlib

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._classifier import QCLMixClassifier

__all__ = ["onnx_inputs", "register_onnx_converter", "to_onnx"]

_PACKAGES = ("onnx", "onnxscript", "skl2onnx")


def _require_onnx():
    """Import the ONNX packages, or raise an ImportError saying how to install them."""
    for package in _PACKAGES:
        try:
            importlib.import_module(package)
        except ImportError as exc:
            raise ImportError(
                f"ONNX export needs {', '.join(_PACKAGES)} ({package} is missing): "
                "pip install 'qclmix-sklearn[onnx]'"
            ) from exc
    from . import _onnx_converter

    return _onnx_converter


def register_onnx_converter():
    """Register QCLMixClassifier's converter with skl2onnx.

    ``to_onnx`` does it; call it before converting a model that holds a
    QCLMixClassifier with ``skl2onnx.to_onnx`` or ``convert_sklearn``
    directly (skl2onnx's ``zipmap`` option applies: its default adds a
    ZipMap of the probabilities).
    """
    _require_onnx().register_onnx_converter()


def _classifier(model):
    final = model[-1] if isinstance(model, Pipeline) else model
    if not isinstance(final, QCLMixClassifier):
        raise TypeError(
            "to_onnx exports a fitted QCLMixClassifier or a Pipeline ending in one; "
            f"got {type(model).__name__}."
        )
    check_is_fitted(final)
    return final


def _initial_types(model, classifier, X):
    """skl2onnx's input declarations: its guess from X, or one input per column of X."""
    from skl2onnx.algebra.type_helper import guess_initial_types
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    encoder = classifier.feature_encoder_
    if model is not classifier or encoder is None or not len(encoder.categorical_):
        return guess_initial_types(X, None)
    n_columns = np.shape(X)[1] if np.ndim(X) == 2 else None
    if n_columns != classifier.n_features_in_:
        raise ValueError(
            f"X must be 2-d with the {classifier.n_features_in_} columns of the training "
            f"data; got shape {np.shape(X)}."
        )
    names = getattr(classifier, "feature_names_in_", [f"x{j}" for j in range(n_columns)])
    categorical = set(encoder.categorical_)
    return [(str(name), (StringTensorType if j in categorical else FloatTensorType)([None, 1]))
            for j, name in enumerate(names)]


def to_onnx(model, X, *, target_opset=None):
    """The fitted model as one ONNX graph: encoding, scaling, every member, decision.

    The graph reproduces ``predict_proba`` (float32 ``probabilities``) and
    ``predict`` (``label``: int64 or string, as ``classes_``), with
    ``class_offsets_`` and the ``feature_encoder_`` of categorical columns
    and missing values, in onnxruntime or any ONNX runtime. Prediction's
    input checks are not in it: X that ``predict`` refuses (NaN in a numeric
    column that had none in ``fit``, values that overflow the network) gets
    NaN probabilities. Feed it with :func:`onnx_inputs`.

    Parameters
    ----------
    model : QCLMixClassifier or Pipeline
        A fitted QCLMixClassifier, or a fitted Pipeline whose last step is one
        (other steps: any that skl2onnx converts, e.g. StandardScaler).
    X : array-like or DataFrame of shape (n_samples, n_features)
        A few rows of the data to predict, for the graph's inputs. A
        QCLMixClassifier fitted with categorical columns gets one input per
        column, named as them (strings for the categorical ones, float for
        the others); otherwise skl2onnx's guess from X: one input ``X`` of
        an array's dtype, one per column of a DataFrame.
    target_opset : int, default=None
        ONNX opset of the default domain, 18 or later; None: skl2onnx's
        latest tested one.

    Returns
    -------
    onnx_model : onnx.ModelProto
        Outputs ``label`` (n_samples,) and ``probabilities`` (n_samples,
        n_classes) float32, columns following ``classes_``.
    """
    converter = _require_onnx()
    import skl2onnx

    classifier = _classifier(model)
    converter.register_onnx_converter()
    return skl2onnx.convert_sklearn(
        model, initial_types=_initial_types(model, classifier, X),
        target_opset=target_opset, options={id(classifier): {"zipmap": False}},
    )


def onnx_inputs(onnx_model, X):
    """The ``{input name: array}`` of X for ``onnxruntime.InferenceSession.run``.

    One input: X as an array of its type. One input per column: each column
    of a DataFrame by name (of an array by position), as an (n, 1) array;
    for a string input, ``str`` of each value and ``'nan'`` for a missing one
    (as the graph of :func:`to_onnx` encodes categories).

    Parameters
    ----------
    onnx_model : onnx.ModelProto
        A graph from :func:`to_onnx`.
    X : array-like or DataFrame of shape (n_samples, n_features)

    Returns
    -------
    inputs : dict of str to ndarray
    """
    from onnx.helper import tensor_dtype_to_np_dtype

    from ._onnx_converter import MISSING_CATEGORY

    declared = [(v.name, tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type))
                for v in onnx_model.graph.input]
    if len(declared) == 1:
        name, dtype = declared[0]
        return {name: np.asarray(X).astype(dtype)}
    frame = X if hasattr(X, "columns") else pd.DataFrame(np.asarray(X, dtype=object))
    if frame.shape[1] != len(declared):
        raise ValueError(f"X has {frame.shape[1]} columns; the graph has {len(declared)} inputs.")
    feed = {}
    for j, (name, dtype) in enumerate(declared):
        values = (frame[name] if hasattr(X, "columns") else frame.iloc[:, j]).to_numpy()
        if dtype == object:
            labels = values.astype(str).astype(object)
            labels[pd.isna(values)] = MISSING_CATEGORY
            feed[name] = labels.reshape(-1, 1)
        else:
            feed[name] = values.astype(dtype).reshape(-1, 1)
    return feed
