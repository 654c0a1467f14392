"""The networks of a fitted QCLMixClassifier as an ONNX graph, through torch's exporter.

:func:`network_graph` exports one torch module, :class:`EnsembleDecision`,
that holds every member and computes what ``predict`` and ``predict_proba``
compute from the encoded input: each member's logits, their float64
softmax (:func:`~qclmix_sklearn._estimator._torch_base.softmax_float64`), the mean
over the members, and the class index decided with ``class_offsets_``.
:func:`insert_graph` copies such a graph into the graph skl2onnx builds.
"""

import collections
import contextlib
import copy
import io
import logging
import warnings

import numpy as np
import torch
from onnx import AttributeProto, helper, numpy_helper
from torch import nn

from .._estimator._torch_base import softmax_float64
from ..nn import QCLMixNet

__all__ = ["EnsembleDecision", "insert_graph", "network_graph"]

#: The oldest default-domain opset torch's ONNX exporter (``dynamo=True``) writes.
MIN_OPSET = 18


class EnsembleDecision(nn.Module):
    """Class indices and mean probabilities of an ensemble, as ``predict``/``predict_proba``.

    Parameters
    ----------
    members : list of QCLMixNet
        The fitted networks, in eval mode.
    offsets : ndarray of shape (n_classes,) or None
        ``class_offsets_`` added to each member's log-probabilities for the
        decision; None (no offsets): the argmax of the mean probabilities.
    weights : ndarray of shape (n_members,) or None
        The members' weights in the mean (``member_weights_`` of a
        portfolio); None: the plain mean.
    """

    def __init__(self, members, offsets=None, weights=None):
        super().__init__()
        self.members = nn.ModuleList(members)
        for name, value in (("offsets", offsets), ("weights", weights)):
            self.register_buffer(
                name, None if value is None else torch.as_tensor(value, dtype=torch.float64))

    def forward(self, x):
        logits = [member.logits(x) for member in self.members]
        proba = self._mean([softmax_float64(z) for z in logits])
        decided = proba
        if self.offsets is not None:
            decided = self._mean([softmax_float64(z, self.offsets) for z in logits])
        return decided.argmax(dim=1), proba.float()

    def _mean(self, probas):
        if self.weights is None:
            return torch.stack(probas).mean(dim=0)
        return torch.einsum("k,knc->nc", self.weights, torch.stack(probas))


def network_graph(model, opset):
    """The ONNX model of ``EnsembleDecision`` for a fitted QCLMixClassifier.

    Input ``x`` (float32, n x encoded width); outputs ``index`` (int64, n)
    and ``probabilities`` (float32, n x n_classes).
    """
    members = [copy.deepcopy(net.module_).cpu().eval() for net in model.nets_]
    unknown = sorted({type(m).__name__ for m in members if type(m) is not QCLMixNet})
    if unknown:
        raise TypeError(
            f"ONNX export covers QCLMixNet networks only; this {type(model).__name__} "
            f"holds {', '.join(unknown)} (a custom _build_module?)."
        )
    if opset < MIN_OPSET:
        raise ValueError(
            f"target_opset={opset} is too old: torch's ONNX exporter writes opset "
            f"{MIN_OPSET} or later."
        )
    decision = EnsembleDecision(members, model._decision_offsets(), model._member_weights())
    sample = torch.zeros(2, model._n_network_inputs())
    with _quiet_exporter():
        program = torch.onnx.export(
            decision, (sample,), dynamo=True, opset_version=opset,
            input_names=["x"], output_names=["index", "probabilities"],
            dynamic_shapes=({0: torch.export.Dim("rows")},), verbose=False,
        )
    model_proto = program.model_proto  # a new proto at each access
    _vector_products_as_matrix_products(model_proto.graph)
    return model_proto


def _vector_products_as_matrix_products(graph):
    """Rewrite ``MatMul(h, v)`` by a constant vector ``v`` as ``Squeeze(MatMul(h, v[:, None]))``.

    The QE layers' gates are such products (``projected @ sin(theta)``,
    exported with ``sin(theta)`` folded into a constant). onnxruntime runs a
    product by a one-column matrix as a GEMM, much faster than by a vector
    (``benchmarks/perf/onnx_predict.py``); the values are the same sums.
    """
    uses = collections.Counter(name for node in graph.node for name in node.input)
    # Constants that this product alone reads: reshaping them changes nothing else.
    constants = {tensor.name: tensor for tensor in graph.initializer if uses[tensor.name] == 1}
    last_axis = "qclmix_last_axis"
    nodes = []
    for node in graph.node:
        nodes.append(node)
        vector = constants.get(node.input[1]) if node.op_type == "MatMul" else None
        if vector is None or len(vector.dims) != 1:
            continue
        vector.dims.append(1)  # (d,) -> (d, 1): the same data
        product = node.output[0]
        node.output[0] = f"{product}_column"
        nodes.append(helper.make_node("Squeeze", [node.output[0], last_axis], [product]))
    if len(nodes) > len(graph.node):
        graph.initializer.append(numpy_helper.from_array(np.array([-1], dtype=np.int64),
                                                         last_axis))
        del graph.node[:]
        graph.node.extend(nodes)


@contextlib.contextmanager
def _quiet_exporter():
    """The exporter reports progress on stdout, warnings and log records about its internals."""
    log = logging.getLogger("torch.onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def insert_graph(graph, scope, container, inputs, outputs, opset):
    """Add ``graph``'s initializers and nodes to a skl2onnx ``container``.

    Its inputs and outputs take the names ``inputs`` and ``outputs`` (in
    order); every other name gets a unique one of ``scope``.
    """
    names = {v.name: n for v, n in zip(graph.input, inputs)}
    names.update({v.name: n for v, n in zip(graph.output, outputs)})
    names[""] = ""  # an optional input left out

    def rename(name):
        if name not in names:
            names[name] = scope.get_unique_variable_name(f"net_{name}")
        return names[name]

    for tensor in graph.initializer:
        array = numpy_helper.to_array(tensor)
        container.add_initializer(rename(tensor.name), tensor.data_type, list(array.shape),
                                  array.ravel())
    for node in graph.node:
        if node.domain not in ("", "ai.onnx"):
            raise RuntimeError(f"torch's export wrote an operator of domain {node.domain!r}.")
        attributes = {}
        for attribute in node.attribute:
            if attribute.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS):
                raise RuntimeError(f"torch's export wrote a subgraph ({node.op_type}).")
            attributes[attribute.name] = helper.get_attribute_value(attribute)
        container.add_node(
            node.op_type, [rename(i) for i in node.input], [rename(o) for o in node.output],
            op_version=opset, name=scope.get_unique_operator_name(f"net_{node.op_type}"),
            **attributes,
        )

