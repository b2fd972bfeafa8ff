"""A float ONNX graph made static and folded, ready for pattern matching.

Exporters emit graphs with symbolic dimensions and long constant subgraphs (Shape -> Gather
-> Unsqueeze -> Concat -> Reshape, position ids, masks built from constants). This module
pins every dimension (`--seq-len` for the sequence, 1 for the batch), infers shapes, and
evaluates every node whose inputs are known at compile time, so that what remains is the
computation on activations, with constants as numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

from compiler.frontend.onnx_model import FrontendError, OnnxModel

# Ops that only carry data through unchanged at inference time.
_PASS_THROUGH = {"Identity", "Dropout"}


@dataclass(eq=False)
class Node:
    """One remaining ONNX node: its op, tensors and attributes."""

    proto: onnx.NodeProto
    inputs: list[str]
    outputs: list[str]

    @property
    def op(self) -> str:
        return self.proto.op_type

    @property
    def name(self) -> str:
        return self.proto.name or self.outputs[0]

    def attr(self, name: str, default: object = None) -> object:
        for a in self.proto.attribute:
            if a.name == name:
                value = onnx.helper.get_attribute_value(a)
                return value.decode() if isinstance(value, bytes) else value
        return default


@dataclass
class FloatGraph:
    model: OnnxModel
    static: onnx.ModelProto
    """The model with every dimension pinned and shapes inferred (what calibration runs)."""
    nodes: list[Node]
    consts: dict[str, np.ndarray]
    shapes: dict[str, tuple[int, ...]]
    dtypes: dict[str, int]
    inputs: list[str]
    outputs: list[str]
    producer: dict[str, Node] = field(default_factory=dict)
    consumers: dict[str, list[Node]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self.producer = {o: n for n in self.nodes for o in n.outputs}
        self.consumers = {}
        for n in self.nodes:
            # each reader once, also when it reads a tensor twice (Mul(d, d) squares d):
            # the matchers count users (`only_user`, the two readers of LayerNorm's x - mean)
            for i in dict.fromkeys(n.inputs):
                self.consumers.setdefault(i, []).append(n)

    def const(self, name: str) -> np.ndarray | None:
        return self.consts.get(name)

    def users(self, name: str) -> list[Node]:
        return self.consumers.get(name, [])

    def is_output(self, name: str) -> bool:
        return name in self.outputs

    def error(self, node: Node, message: str) -> FrontendError:
        return self.model.node_error(node.proto, message)


def _static_shape(
    value: onnx.ValueInfoProto, seq_len: int | None, example: tuple[int, ...] | None, path: str
) -> list[int]:
    """Pins an input's dimensions: the batch to 1, the first other dynamic dimension (the
    sequence) to `seq_len` if given, and the rest from an example array of the input."""
    dims = []
    sequence_pinned = False
    declared = value.type.tensor_type.shape.dim
    example = example if example is not None and len(example) == len(declared) else None
    for i, d in enumerate(declared):
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(d.dim_value)
        elif i == 0:
            dims.append(1)  # batch
        elif seq_len is not None and not sequence_pinned:
            dims.append(seq_len)
            sequence_pinned = True
        elif example is not None:
            dims.append(int(example[i]))
        else:
            raise FrontendError(
                f"{path}: input '{value.name}' has a dynamic dimension "
                f"'{d.dim_param or '?'}'; fix it with --seq-len N or give --calib data"
            )
    return dims


def load_float_graph(
    model: OnnxModel, seq_len: int | None, examples: dict[str, tuple[int, ...]] | None = None
) -> FloatGraph:
    """Pins shapes (see _static_shape; `examples` maps input names to the shape of one
    sample), infers them, folds constants and drops pass-through nodes."""
    proto = onnx.ModelProto()
    proto.CopyFrom(model.proto)
    graph = proto.graph
    init_names = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in init_names]
    for value in inputs:
        dims = _static_shape(value, seq_len, (examples or {}).get(value.name), str(model.path))
        shape = value.type.tensor_type.shape
        for d, n in zip(shape.dim, dims, strict=True):
            d.Clear()
            d.dim_value = n
    for value in graph.output:
        value.type.tensor_type.ClearField("shape")
    del graph.value_info[:]
    try:
        proto = onnx.shape_inference.infer_shapes(proto, strict_mode=True, data_prop=True)
    except Exception as err:  # onnx raises InferenceError and friends
        raise FrontendError(f"{model.path}: shape inference failed: {err}") from None

    _complete_value_info(proto)
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, int] = {}
    for v in (*proto.graph.input, *proto.graph.value_info, *proto.graph.output):
        tt = v.type.tensor_type
        dtypes[v.name] = tt.elem_type
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            shapes[v.name] = tuple(d.dim_value for d in tt.shape.dim)

    consts = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    for name, arr in consts.items():
        shapes[name] = arr.shape
    alias: dict[str, str] = {}
    nodes: list[Node] = []
    for proto_node in proto.graph.node:
        ins = [alias.get(i, i) for i in proto_node.input]
        node = Node(proto_node, ins, list(proto_node.output))
        if node.op == "Constant":
            consts[node.outputs[0]] = _constant_value(model, proto_node)
            continue
        float_cast = (
            node.op == "Cast"
            and node.attr("to") == onnx.TensorProto.FLOAT
            and dtypes.get(ins[0]) == onnx.TensorProto.FLOAT
        )
        if node.op in _PASS_THROUGH or float_cast:
            alias[node.outputs[0]] = ins[0]
            for extra in node.outputs[1:]:
                alias[extra] = ""
            continue
        if node.op == "Shape" and ins[0] in shapes:
            consts[node.outputs[0]] = _shape_value(node, shapes[ins[0]])
            continue
        if all(i == "" or i in consts for i in ins):
            for out, value in zip(node.outputs, _evaluate(model, node, consts), strict=True):
                consts[out] = value
            continue
        nodes.append(node)
    outputs = [alias.get(o.name, o.name) for o in proto.graph.output]
    for o in outputs:
        if o in consts:
            raise FrontendError(f"{model.path}: output '{o}' is a constant of the model")
    for name, arr in consts.items():
        shapes.setdefault(name, arr.shape)
    return FloatGraph(model, proto, nodes, consts, shapes, dtypes, [i.name for i in inputs], outputs)


_ORT_TYPES = {
    "tensor(float)": onnx.TensorProto.FLOAT,
    "tensor(float16)": onnx.TensorProto.FLOAT16,
    "tensor(double)": onnx.TensorProto.DOUBLE,
    "tensor(int64)": onnx.TensorProto.INT64,
    "tensor(int32)": onnx.TensorProto.INT32,
    "tensor(bool)": onnx.TensorProto.BOOL,
}


def _complete_value_info(proto: onnx.ModelProto) -> None:
    """Types and shapes that ONNX's shape inference leaves out, taken from onnxruntime.

    ONNX does not know onnxruntime's ops in the default domain (SimplifiedLayerNormalization,
    which the transformers optimizer emits for RMSNorm): inference stops at them, and every
    tensor after them would have no shape and, in calibration, no range. onnxruntime infers
    them from the pinned input shapes without running the model."""

    def static(v: onnx.ValueInfoProto) -> bool:
        tt = v.type.tensor_type
        return tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim)

    infos = {v.name: v for v in (*proto.graph.input, *proto.graph.value_info, *proto.graph.output)}
    known = {name for name, v in infos.items() if static(v)} | {t.name for t in proto.graph.initializer}
    missing = [
        o for n in proto.graph.node if n.op_type != "Constant" for o in n.output if o and o not in known
    ]
    if not missing:
        return
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(proto)
    outputs = {o.name for o in probe.graph.output}
    probe.graph.output.extend(
        onnx.helper.make_empty_tensor_value_info(o) for o in missing if o not in outputs
    )
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception:  # an op onnxruntime cannot run either is reported by name later
        return
    for meta in session.get_outputs():
        elem = _ORT_TYPES.get(meta.type)
        if meta.name not in missing or elem is None or not all(isinstance(d, int) for d in meta.shape):
            continue
        info = onnx.helper.make_tensor_value_info(meta.name, elem, meta.shape)
        if meta.name in infos:
            infos[meta.name].CopyFrom(info)
        else:
            proto.graph.value_info.append(info)


def _constant_value(model: OnnxModel, node: onnx.NodeProto) -> np.ndarray:
    for a in node.attribute:
        if a.name == "value":
            return numpy_helper.to_array(a.t)
        if a.name in ("value_float", "value_int"):
            return np.array(onnx.helper.get_attribute_value(a))
        if a.name in ("value_floats", "value_ints"):
            return np.array(list(onnx.helper.get_attribute_value(a)))
    raise model.node_error(node, "Constant without a supported value attribute")


def _shape_value(node: Node, shape: tuple[int, ...]) -> np.ndarray:
    start = int(node.attr("start", 0))  # type: ignore[arg-type]
    end = node.attr("end")
    dims = list(shape)[start : None if end is None else int(end)]  # type: ignore[arg-type]
    return np.array(dims, dtype=np.int64)


def _evaluate(model: OnnxModel, node: Node, consts: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Runs one node on constant inputs with ONNX's reference implementation."""
    feeds = {i: consts[i] for i in node.inputs if i}
    value_inputs = [
        onnx.helper.make_tensor_value_info(i, onnx.helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
        for i, v in feeds.items()
    ]
    value_outputs = [onnx.helper.make_empty_tensor_value_info(o) for o in node.outputs]
    single = onnx.helper.make_graph([node.proto], "fold", value_inputs, value_outputs)
    opsets = list(model.proto.opset_import)
    try:
        sess = ReferenceEvaluator(onnx.helper.make_model(single, opset_imports=opsets))
        results = sess.run(None, feeds)
    except Exception as err:
        raise model.node_error(node.proto, f"cannot fold this constant node ({err})") from None
    return [np.asarray(r) for r in results]
