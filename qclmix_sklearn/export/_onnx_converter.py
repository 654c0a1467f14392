"""skl2onnx converter of a fitted QCLMixClassifier: encoding, scaling, networks, labels.

The graph takes X as one input of all columns, or one input per column
(strings for categorical columns, numbers for the others), and computes what
``predict`` and ``predict_proba`` do: the ``feature_encoder_`` (missing
numbers filled with the training median plus an indicator column, one-hot
categories), the ``input_scaler_``, then every member, their mean
probabilities and the decision with ``class_offsets_``
(:mod:`~qclmix_sklearn.export._onnx_network`). Outputs, as skl2onnx classifiers':
``label`` (int64 for integer or boolean ``classes_``, else string) and
``probabilities`` (float32).

Prediction's input checks do not become part of the graph: where
``predict`` refuses X (NaN in a numeric column that had none in ``fit``,
values that overflow the network), the graph returns NaN probabilities.
"""

import numpy as np
import pandas as pd
from onnx import TensorProto
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import (
    BooleanTensorType,
    DoubleTensorType,
    FloatTensorType,
    Int32TensorType,
    Int64TensorType,
    StringTensorType,
)
from skl2onnx.common.utils_classifier import get_label_classes

from .._classifier import QCLMixClassifier
from ._onnx_network import insert_graph, network_graph

__all__ = ["MISSING_CATEGORY", "register_onnx_converter"]

#: The string a graph input of a categorical column takes for a missing value
#: (what ``str(np.nan)`` and pandas' ``astype(str)`` write).
MISSING_CATEGORY = "nan"
_NUMBER_TYPES = (FloatTensorType, DoubleTensorType, Int64TensorType, Int32TensorType,
                 BooleanTensorType)


def register_onnx_converter():
    """Register QCLMixClassifier's converter with skl2onnx (again: no change).

    After it, ``skl2onnx.to_onnx`` converts a fitted QCLMixClassifier and
    pipelines that end in one, with skl2onnx's classifier options
    (``zipmap``).
    """
    update_registered_converter(
        QCLMixClassifier, "QCLMixClassifier", _shape_calculator, _convert,
        options={"zipmap": [True, False, "columns"], "nocl": [False, True]},
    )


def _label_type(scope, model):
    """The label's skl2onnx type, ONNX type and values: ``classes_`` (or 0..C-1 with ``nocl``)."""
    classes = np.asarray(get_label_classes(scope, model))
    if classes.dtype.kind in "iub":
        return Int64TensorType, TensorProto.INT64, classes.astype(np.int64)
    if all(isinstance(c, str) for c in classes):
        return StringTensorType, TensorProto.STRING, classes.astype(str)
    raise TypeError(
        f"ONNX labels are integers or strings; this model's classes_ are of dtype "
        f"{classes.dtype} (e.g. {classes[0]!r}). Fit it on y encoded as integers or strings."
    )


def _shape_calculator(operator):
    model = operator.raw_operator
    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _label_type(operator.scope_inst, model)[0]([rows])
    operator.outputs[1].type = FloatTensorType([rows, len(model.classes_)])


def _convert(scope, operator, container):
    model = operator.raw_operator
    opset = container.target_opset
    x = _encoded(scope, operator, container, model)
    x = _scaled(scope, container, x, model.input_scaler_)
    index = scope.get_unique_variable_name("class_index")
    insert_graph(network_graph(model, opset).graph, scope, container, [x],
                 [index, operator.outputs[1].full_name], opset)
    _, onnx_type, classes = _label_type(scope, model)
    names = _constant(scope, container, "classes", classes, onnx_type)
    container.add_node("Gather", [names, index], operator.outputs[0].full_name, axis=0,
                       name=scope.get_unique_operator_name("Gather"))


# -- small graph-building helpers ------------------------------------------------------
def _node(scope, container, op_type, inputs, **attributes):
    """Add one node of one output; return the output's name."""
    out = scope.get_unique_variable_name(op_type.lower())
    container.add_node(op_type, inputs, [out], name=scope.get_unique_operator_name(op_type),
                       **attributes)
    return out


def _constant(scope, container, name, values, onnx_type=TensorProto.FLOAT):
    unique = scope.get_unique_variable_name(name)
    values = np.asarray(values)
    content = values.ravel().tolist() if onnx_type == TensorProto.STRING else values.ravel()
    container.add_initializer(unique, onnx_type, list(values.shape), content)
    return unique


def _as_float(scope, container, name):
    return _node(scope, container, "Cast", [name], to=TensorProto.FLOAT)


# -- the encoding --------------------------------------------------------------------------
def _widths(inputs, n_features):
    """Columns of each input (all of X for one input of unknown width), checked against X's."""
    widths = [var.type.shape[1] if len(var.type.shape) == 2 else None for var in inputs]
    if len(inputs) == 1 and widths[0] is None:
        widths = [n_features]
    if None in widths or sum(widths) != n_features:
        raise ValueError(
            f"The ONNX inputs have {widths} columns; the model was fitted on {n_features}: "
            "give one input of all columns, or inputs of known widths that add up to it."
        )
    return widths


def _columns(scope, container, inputs, widths):
    """``[(name, type, label)]``: one (n, 1) tensor per column of X, splitting wider inputs."""
    columns = []
    for var, width in zip(inputs, widths):
        parts = [var.full_name]
        if width > 1:
            parts = [scope.get_unique_variable_name("column") for _ in range(width)]
            container.add_node("Split", [var.full_name], parts, axis=1, num_outputs=width,
                               name=scope.get_unique_operator_name("Split"))
        first = len(columns)
        columns += [(part, var.type, f"column {first + i}") for i, part in enumerate(parts)]
    return columns


def _check_type(column, kinds, what):
    if not isinstance(column[1], kinds):
        raise TypeError(
            f"{column[2]} is {what}, so its ONNX input must be "
            f"{' or '.join(k.__name__ for k in kinds)}; got {type(column[1]).__name__}."
        )


def _numeric(scope, container, columns):
    for column in columns:
        _check_type(column, _NUMBER_TYPES, "numeric")
    cast = [_as_float(scope, container, column[0]) for column in columns]
    return cast[0] if len(cast) == 1 else _node(scope, container, "Concat", cast, axis=1)


def _encoded(scope, operator, container, model):
    """The float32 (n, width) input of the networks: X, or X encoded by ``feature_encoder_``."""
    encoder, inputs = model.feature_encoder_, operator.inputs
    widths = _widths(inputs, model.n_features_in_)
    if encoder is None or not len(encoder.categorical_):
        if len(inputs) == 1:  # all of X at once
            numeric = _numeric(scope, container, [(inputs[0].full_name, inputs[0].type, "X")])
        else:
            numeric = _numeric(scope, container, _columns(scope, container, inputs, widths))
        return numeric if encoder is None else _node(
            scope, container, "Concat", _filled(scope, container, numeric, encoder), axis=1)
    columns = _columns(scope, container, inputs, widths)
    parts = []
    if len(encoder.numeric_):
        numeric = _numeric(scope, container, [columns[j] for j in encoder.numeric_])
        parts = _filled(scope, container, numeric, encoder)
    one_hot = encoder.columns_.named_transformers_["categorical"][-1]
    for j, categories in zip(encoder.categorical_, one_hot.categories_):
        _check_type(columns[j], (StringTensorType,), "categorical")
        labels = _category_labels(categories, columns[j])
        equal = _node(scope, container, "Equal",
                      [columns[j][0], _constant(scope, container, "categories", labels,
                                                TensorProto.STRING)])
        parts.append(_as_float(scope, container, equal))
    return _node(scope, container, "Concat", parts, axis=1)


def _filled(scope, container, numeric, encoder):
    """``[numeric columns with NaN filled, missing indicators]`` as ``feature_encoder_`` encodes."""
    # Not skl2onnx's SimpleImputer converter: it leaves out add_indicator's columns and
    # fills every column, where a column complete in fit keeps its NaN (skl2onnx 1.20).
    is_missing = _node(scope, container, "IsNaN", [numeric])
    # NaN where a column had no missing value in fit: such a NaN stays NaN.
    fill = np.full(len(encoder.numeric_), np.nan, dtype=np.float32)
    imputer = encoder.columns_.named_transformers_["numeric"][-1]
    fill[encoder.missing_] = imputer.statistics_[encoder.missing_]
    parts = [_node(scope, container, "Where",
                   [is_missing, _constant(scope, container, "fill", fill), numeric])]
    if len(encoder.missing_):
        picked = _node(scope, container, "Gather",
                       [is_missing, _constant(scope, container, "missing", encoder.missing_,
                                              TensorProto.INT64)], axis=1)
        parts.append(_as_float(scope, container, picked))
    return parts


def _category_labels(categories, column):
    """The strings a graph input holds for the categories of a fitted one-hot column."""
    labels = [MISSING_CATEGORY if not isinstance(c, str) and pd.isna(c) else str(c)
              for c in categories]
    if len(set(labels)) < len(labels):
        raise ValueError(
            f"Categorical {column[2]} has both missing values and the category "
            f"{MISSING_CATEGORY!r}, which the ONNX graph cannot tell apart."
        )
    return np.array(labels, dtype=object)


def _scaled(scope, container, x, scaler):
    """``input_scaler_`` (RobustSmoothClipScaler) in float32, as its ``transform`` computes it."""
    if scaler is None:
        return x
    f32 = np.float32
    centred = _node(scope, container, "Sub", [x, _constant(scope, container, "center",
                                                         scaler.center_.astype(f32))])
    scaled = _node(scope, container, "Mul", [centred, _constant(
        scope, container, "scale", scaler.scale_.astype(f32))])
    square = _node(scope, container, "Mul", [scaled, scaled])
    inverse_square = _constant(scope, container, "inverse_square",
                               f32(1.0 / scaler.max_abs_value ** 2))
    weighted = _node(scope, container, "Mul", [inverse_square, square])
    one = _constant(scope, container, "one", f32(1.0))
    root = _node(scope, container, "Sqrt", [_node(scope, container, "Add", [one, weighted])])
    return _node(scope, container, "Div", [scaled, root])
